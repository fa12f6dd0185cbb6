/*
 * manager.c - the compute manager; see manager.h.
 *
 * start_instance and stop_instance are casts: the caller learns the
 * outcome only from the instance_update this host casts to the conductor
 * afterwards, so every outcome - success, a libvirt failure, malformed
 * arguments that still name an instance - produces exactly one update.
 * terminate_instance is a call and answers directly.
 *
 * An update that cannot be delivered waits in m->pending and is retried
 * (see compute_report_instance in manager.h).
 */
#include <errno.h>
#include <string.h>

#include "driver.h"
#include "log.h"
#include "manager.h"

json_t *compute_instance_update_args(const char *uuid, json_t *expected,
				     const char *vm_state,
				     enum virt_power_state power,
				     const char *host,
				     const struct rpc_error *fault)
{
	json_t *f = json_null();

	if (fault)
		f = json_pack("{s:s, s:s}", "class",
			      fault->cls[0] ? fault->cls :
			      rpc_class_from_errno(fault->err),
			      "message", fault->message);
	return json_pack("{s:s, s:O, s:s, s:s, s:n, s:s, s:o}",
			 "uuid", uuid,
			 "expected_task_state", expected ? expected : json_null(),
			 "vm_state", vm_state,
			 "power_state", virt_power_state_name(power),
			 "task_state",
			 "host", host,
			 "fault", f);
}

/* At most this many undelivered updates are kept; past it the oldest is
 * dropped, since a host that cannot reach novafs for that long has
 * bigger problems than one stale state. */
#define PENDING_MAX 1024

/* Sends the pending updates, oldest first, and stops at the first that
 * cannot be delivered.  Returns 0 when none is left, else -errno. */
static int flush_pending(struct compute_manager *m)
{
	struct rpc_error e = { 0 };
	int r = 0;

	while (m->pending && json_array_size(m->pending) > 0) {
		json_t *args = json_array_get(m->pending, 0);

		r = rpc_cast(m->conn, "conductor", NULL, "instance_update", args, &e);
		if (r < 0) {
			log_debug("instance_update for %s waits: %s: %s",
				  json_string_value(json_object_get(args, "uuid")),
				  e.cls, e.message);
			return r;
		}
		json_array_remove(m->pending, 0);
	}
	return r;
}

int compute_report_instance(struct compute_manager *m, const char *uuid,
			    json_t *expected, const char *vm_state,
			    enum virt_power_state power,
			    const struct rpc_error *fault)
{
	json_t *args;
	int r;

	args = compute_instance_update_args(uuid, expected, vm_state, power,
					    m->host, fault);
	if (!m->pending)
		m->pending = json_array();
	if (!args || !m->pending) {
		log_error("instance %s: cannot build instance_update: out of memory",
			  uuid);
		json_decref(args);
		return -ENOMEM;
	}
	if (json_array_size(m->pending) >= PENDING_MAX) {
		log_warn("dropping an undelivered instance_update for %s",
			 json_string_value(json_object_get(json_array_get(m->pending, 0), "uuid")));
		json_array_remove(m->pending, 0);
	}
	json_array_append_new(m->pending, args);
	r = flush_pending(m);
	if (r < 0)
		log_warn("instance %s: instance_update (vm_state %s) waits for the conductor (%zu waiting)",
			 uuid, vm_state, json_array_size(m->pending));
	return r;
}

void compute_manager_release(struct compute_manager *m)
{
	size_t n = m->pending ? json_array_size(m->pending) : 0;

	if (n)
		log_warn("%zu instance_update(s) were never delivered", n);
	json_decref(m->pending);
	m->pending = NULL;
}

int compute_report_capabilities(struct compute_manager *m, bool up)
{
	struct virt_host_stats st;
	struct rpc_error e = { 0 };
	json_t *args = NULL;
	int r;

	if (up) {
		r = m->drv->ops->host_stats(m->drv, &st, &e);
		if (r < 0)
			goto out;
		args = json_pack("{s:s, s:b, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
				 "host", m->host, "up", 1,
				 "report_interval", m->report_interval,
				 "vcpus", (json_int_t)st.vcpus,
				 "vcpus_used", (json_int_t)st.vcpus_used,
				 "memory_mb", (json_int_t)st.memory_mb,
				 "memory_mb_used", (json_int_t)st.memory_mb_used,
				 "disk_gb", (json_int_t)st.disk_gb,
				 "disk_gb_used", (json_int_t)st.disk_gb_used,
				 "hypervisor_type", st.hypervisor_type);
	} else {
		args = json_pack("{s:s, s:b}", "host", m->host, "up", 0);
	}
	if (!args) {
		r = rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	r = rpc_fanout_cast(m->conn, "scheduler", "update_service_capabilities",
			    args, &e);
out:
	if (r < 0 && !m->report_failing)
		log_warn("cannot report capabilities: %s: %s", e.cls, e.message);
	else if (r == 0 && m->report_failing)
		log_info("capability reports go through again");
	else if (r == 0)
		log_debug("reported capabilities (up: %s)", up ? "true" : "false");
	m->report_failing = r < 0;
	json_decref(args);
	return r;
}

void compute_periodic_report(void *ctx)
{
	struct compute_manager *m = ctx;

	if (m->pending && json_array_size(m->pending) > 0 && flush_pending(m) == 0)
		log_info("delivered the instance updates that were waiting");
	compute_report_capabilities(m, true);
}

/* A power action (start, stop): what it does and the state it reaches. */
struct power_action {
	const char *method;
	const char *vm_state;   /* on success */
	int (*act)(struct virt_driver *d, json_t *instance,
		   const char *uuid, struct rpc_error *e);
};

static int act_power_on(struct virt_driver *d, json_t *instance,
			const char *uuid, struct rpc_error *e)
{
	struct virt_instance inst;
	int r;

	r = instance_from_json(instance, &inst, e);
	if (r < 0)
		return r;
	return d->ops->power_on(d, &inst, e);
}

static int act_power_off(struct virt_driver *d, json_t *instance,
			 const char *uuid, struct rpc_error *e)
{
	return d->ops->power_off(d, uuid, e);
}

static const struct power_action start_action = {
	"start_instance", "active", act_power_on,
};
static const struct power_action stop_action = {
	"stop_instance", "stopped", act_power_off,
};

/*
 * Runs a power action on args {instance, expected_task_state} and reports
 * the outcome with one instance_update: the action's vm_state, or "error"
 * with the fault.  Arguments without a usable instance uuid cannot be
 * reported; they are only logged.
 */
static int run_power_action(struct compute_manager *m,
			    const struct power_action *a, json_t *args,
			    struct rpc_error *e)
{
	json_t *instance = json_object_get(args, "instance");
	json_t *expected = json_object_get(args, "expected_task_state");
	char uuid[UUID_STR_LEN];
	enum virt_power_state power;
	const char *vm_state;
	int r;

	r = instance_uuid_from_json(instance, uuid, e);
	if (r < 0) {
		log_info("%s instance ?: %s: %s", a->method, e->cls, e->message);
		return r;
	}
	r = a->act(m->drv, instance, uuid, e);
	power = m->drv->ops->power_state(m->drv, uuid);
	vm_state = r < 0 ? "error" : a->vm_state;
	if (r < 0)
		log_info("%s instance %s: %s (%s): %s: %s", a->method, uuid,
			 vm_state, virt_power_state_name(power), e->cls,
			 e->message);
	else
		log_info("%s instance %s: %s (%s)", a->method, uuid, vm_state,
			 virt_power_state_name(power));
	compute_report_instance(m, uuid, expected, vm_state, power,
				r < 0 ? e : NULL);
	return r;
}

static int start_instance(void *ctx, json_t *args, json_t **result,
			  struct rpc_error *e)
{
	return run_power_action(ctx, &start_action, args, e);
}

static int stop_instance(void *ctx, json_t *args, json_t **result,
			 struct rpc_error *e)
{
	return run_power_action(ctx, &stop_action, args, e);
}

static int terminate_instance(void *ctx, json_t *args, json_t **result,
			      struct rpc_error *e)
{
	struct compute_manager *m = ctx;
	char uuid[UUID_STR_LEN];
	int r;

	r = instance_uuid_from_json(json_object_get(args, "instance"), uuid, e);
	if (r < 0) {
		log_info("terminate_instance instance ?: %s: %s", e->cls,
			 e->message);
		return r;
	}
	r = m->drv->ops->destroy(m->drv, uuid, e);
	if (r < 0)
		log_info("terminate_instance instance %s: %s: %s", uuid, e->cls,
			 e->message);
	else
		log_info("terminate_instance instance %s: deleted", uuid);
	return r;
}

static int publish_service_capabilities(void *ctx, json_t *args,
					json_t **result, struct rpc_error *e)
{
	log_info("publish_service_capabilities: reporting now");
	compute_report_capabilities(ctx, true);
	return 0;
}

const struct rpc_method compute_methods[] = {
	{ "start_instance", start_instance },
	{ "stop_instance", stop_instance },
	{ "terminate_instance", terminate_instance },
	{ "publish_service_capabilities", publish_service_capabilities },
	{ NULL, NULL },
};
