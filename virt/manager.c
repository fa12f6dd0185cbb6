/*
 * manager.c - the compute manager; see manager.h.
 *
 * start_instance and stop_instance are casts: novafs learns the outcome
 * only from the instance_update this host casts to the conductor, so
 * every outcome, success or a libvirt failure, produces exactly one
 * report.  A request is acknowledged only once the broker has taken its
 * report: a host that dies in between gets the request again and acts
 * again (every action is idempotent), so no report is ever lost for good.
 * The report waits for the bus while it is down, for as long as a broker
 * restart can take; the conductor applies a report only while its
 * expected_task_state holds, so a late or repeated one changes nothing.
 * terminate_instance is a cast too; get_instance_state is a call and
 * answers directly.
 */
#include "manager.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "driver.h"
#include "instance.h"

/* How long a report waits for the broker to take it (reconnecting all
 * along) before it is given up, logged, and its request acknowledged. */
#define REPORT_DEADLINE_MS (60LL * 60 * 1000)

json_t *compute_instance_update_args(const char *uuid,
				     enum task_state expected,
				     enum vm_state vm_state,
				     enum power_state power, const char *host,
				     const struct rpc_error *fault)
{
	json_t *f = json_null();

	if (fault)
		f = json_pack("{s:s, s:s}", "class",
			      fault->cls[0] ? fault->cls :
			      rpc_class_from_errno(fault->err),
			      "message", fault->message);
	return json_pack("{s:s, s:s?, s:s, s:s, s:n, s:s, s:o}",
			 "uuid", uuid,
			 "expected_task_state",
			 expected == TASK_NONE ? NULL : task_state_name(expected),
			 "vm_state", vm_state_name(vm_state),
			 "power_state", power_state_name(power),
			 "task_state",
			 "host", host,
			 "fault", f);
}

static void reported(void *ctx, int err, json_t *result,
		     const struct rpc_error *e)
{
	struct rpc_request *req = ctx;
	json_t *instance = json_object_get(rpc_request_args(req), "instance");

	if (err < 0)
		log_error("instance %s: the report of %s was lost: %s: %s",
			  json_string_value(json_object_get(instance, "uuid")),
			  rpc_request_method(req)->name, e->cls, e->message);
	rpc_request_done(req, NULL, NULL);
}

/* Casts the outcome of req to the conductor; req is done when the broker
 * has taken the report (or it is lost). */
static void report(struct compute_manager *m, struct rpc_request *req,
		   const char *uuid, enum vm_state vm_state,
		   enum power_state power, const struct rpc_error *fault)
{
	const struct rpc_send s = { .timeout_ms = REPORT_DEADLINE_MS,
				    .wait_for_bus = true };
	const char *expected_name = json_string_value(json_object_get(
		rpc_request_args(req), "expected_task_state"));
	enum task_state expected = TASK_NONE;
	struct rpc_error e = { 0 };
	json_t *args;
	int rc;

	/* The contract made sure it is a task name. */
	task_state_parse(expected_name, &expected);
	args = compute_instance_update_args(uuid, expected, vm_state, power,
					    m->host, fault);
	rc = args ? rpc_cast(m->bus, &conductor_instance_update, &s, args,
			     reported, req, &e) :
		    rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	json_decref(args);
	if (rc < 0)
		reported(req, rc, NULL, &e);
}

/* A power action (start, stop): what it does and the state it reaches. */
struct power_action {
	enum vm_state vm_state;   /* on success */
	int (*act)(struct virt_driver *d, const struct virt_instance *inst,
		   struct rpc_error *e);
};

static int act_power_on(struct virt_driver *d, const struct virt_instance *inst,
			struct rpc_error *e)
{
	return d->ops->power_on(d, inst, e);
}

static int act_power_off(struct virt_driver *d, const struct virt_instance *inst,
			 struct rpc_error *e)
{
	return d->ops->power_off(d, inst->uuid, e);
}

static const struct power_action start_action = { VM_ACTIVE, act_power_on };
static const struct power_action stop_action = { VM_STOPPED, act_power_off };

/* Runs a power action on args {instance, expected_task_state} and reports
 * the outcome: the action's vm_state, or error with the fault. */
static void run_power_action(struct compute_manager *m,
			     const struct power_action *a,
			     struct rpc_request *req)
{
	const char *method = rpc_request_method(req)->name;
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	enum power_state power;
	enum vm_state vm_state;
	int rc;

	instance_from_json(json_object_get(rpc_request_args(req), "instance"),
			   &inst);
	rc = a->act(m->drv, &inst, &e);
	power = m->drv->ops->power_state(m->drv, inst.uuid);
	vm_state = rc < 0 ? VM_ERROR : a->vm_state;
	if (rc < 0)
		log_info("%s instance %s (%s): %s (%s): %s: %s", method,
			 inst.uuid, inst.name, vm_state_name(vm_state),
			 power_state_name(power), e.cls, e.message);
	else
		log_info("%s instance %s (%s): %s (%s)", method, inst.uuid,
			 inst.name, vm_state_name(vm_state),
			 power_state_name(power));
	report(m, req, inst.uuid, vm_state, power, rc < 0 ? &e : NULL);
}

static void start_instance(void *ctx, struct rpc_request *req)
{
	run_power_action(ctx, &start_action, req);
}

static void stop_instance(void *ctx, struct rpc_request *req)
{
	run_power_action(ctx, &stop_action, req);
}

static void terminate_instance(void *ctx, struct rpc_request *req)
{
	struct compute_manager *m = ctx;
	char uuid[UUID_STR_LEN];
	struct rpc_error e = { 0 };
	int rc;

	instance_uuid(json_object_get(rpc_request_args(req), "instance"), uuid);
	rc = m->drv->ops->destroy(m->drv, uuid, &e);
	if (rc < 0)
		log_info("terminate_instance instance %s: %s: %s", uuid, e.cls,
			 e.message);
	else
		log_info("terminate_instance instance %s: deleted", uuid);
	rpc_request_done(req, NULL, rc < 0 ? &e : NULL);
}

static void get_instance_state(void *ctx, struct rpc_request *req)
{
	struct compute_manager *m = ctx;
	char uuid[UUID_STR_LEN];
	enum power_state power;
	struct rpc_error e = { 0 };
	json_t *result;
	int exists;

	instance_uuid(json_object_get(rpc_request_args(req), "instance"), uuid);
	exists = m->drv->ops->exists(m->drv, uuid, &e);
	if (exists < 0) {
		rpc_request_done(req, NULL, &e);
		return;
	}
	power = m->drv->ops->power_state(m->drv, uuid);
	result = json_pack("{s:b, s:s}", "exists", exists,
			   "power_state", power_state_name(power));
	if (!result)
		rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	rpc_request_done(req, result, result ? NULL : &e);
}

static void publish_service_capabilities(void *ctx, struct rpc_request *req)
{
	struct compute_manager *m = ctx;

	log_info("publish_service_capabilities from %s: reporting now",
		 rpc_request_sender(req) ? rpc_request_sender(req) : "a peer");
	rpc_heartbeat_now(m->heartbeat);
	rpc_request_done(req, NULL, NULL);
}

static const struct rpc_handler compute_handlers[] = {
	{ &compute_start_instance, start_instance },
	{ &compute_stop_instance, stop_instance },
	{ &compute_terminate_instance, terminate_instance },
	{ &compute_get_instance_state, get_instance_state },
	{ &compute_publish_service_capabilities, publish_service_capabilities },
	{ NULL, NULL },
};

/* The heartbeat's numbers: the host's capacity and what its domains hold. */
static int host_stats(void *ctx, json_t *args, struct rpc_error *e)
{
	struct compute_manager *m = ctx;
	struct virt_host_stats st;
	json_t *stats;
	int rc;

	rc = m->drv->ops->host_stats(m->drv, &st, e);
	if (rc < 0)
		return rc;
	stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
			  "vcpus", (json_int_t)st.vcpus,
			  "vcpus_used", (json_int_t)st.vcpus_used,
			  "memory_mb", (json_int_t)st.memory_mb,
			  "memory_mb_used", (json_int_t)st.memory_mb_used,
			  "disk_gb", (json_int_t)st.disk_gb,
			  "disk_gb_used", (json_int_t)st.disk_gb_used,
			  "hypervisor_type", st.hypervisor_type);
	if (!stats || json_object_update(args, stats) < 0)
		rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	json_decref(stats);
	return rc;
}

int compute_manager_start(struct compute_manager *m, struct rpc_error *e)
{
	int rc;

	rc = rpc_serve(m->bus, &compute_service, m->host, compute_handlers, m, e);
	if (rc == 0)
		rc = rpc_heartbeat_start(m->bus, "novafs-compute", m->host,
					 m->report_interval_s, host_stats, m,
					 &m->heartbeat, e);
	return rc;
}

void compute_manager_stop(struct compute_manager *m)
{
	rpc_heartbeat_stop(m->heartbeat);
}
