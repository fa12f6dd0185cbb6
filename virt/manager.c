/*
 * manager.c - the compute manager; see manager.h.
 *
 * Every lifecycle method but resize is a cast: novafs learns the outcome
 * only from the instance_update this host casts to the conductor, so every
 * outcome, success, a refused claim or a libvirt failure, produces exactly
 * one report, and it says the state the domain is in then (an action that
 * does not apply, pausing a stopped domain say, changes nothing and
 * reports that state: handlers are idempotent).  A request is acknowledged
 * only once the broker has taken its report: a host that dies in between
 * gets the request again and acts again (every action is idempotent), so
 * no report is ever lost for good.  The report waits for the bus while it
 * is down, for as long as a broker restart can take; the conductor applies
 * a report only while its expected_task_state holds, so a late or repeated
 * one changes nothing.  terminate_instance is a cast too;
 * get_instance_state and resize_instance are calls and answer directly.
 *
 * A clean stop and a soft reboot wait for the guest (guest_wait.h); any
 * other request for the same domain cuts that wait short first.
 *
 * A start that carries the scheduler's limits is a placement: the host
 * claims the instance against its own count first (claim(), Nova's
 * instance_claim) and refuses with ComputeResourcesUnavailable, defining
 * nothing, when it does not fit; novafs then places it elsewhere.  The
 * heartbeat counts what the host holds when it is sent, from the same
 * listing as the UUIDs it names.
 *
 * NICs (network.h): a start, rebuild or resize whose instance has NICs
 * first makes the host's networks and DHCP host entries for them, then
 * (re)defines the domain with its interfaces; a NIC that is not valid
 * fails the request before anything is touched.  A domain that goes
 * (terminate, the first half of a rebuild) takes its entries with it, and
 * the networks no other domain uses: its interfaces are read before it is
 * undefined, since afterwards nothing says which they were.
 *
 * Disks (disk.h) are the driver's: a define makes the instance's disk
 * from its image and a destroy deletes it, so a rebuild (destroy, then
 * start) makes it again from the image it is sent, and a terminate of
 * an instance whose domain is already gone still deletes its disk.
 */
#include "manager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "capacity.h"
#include "console.h"
#include "domain_xml.h"
#include "driver.h"
#include "guest_wait.h"
#include "instance.h"
#include "sync.h"

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

void compute_finish(struct compute_manager *m, struct rpc_request *req,
		    const char *uuid, int rc, const struct rpc_error *e)
{
	const char *method = rpc_request_method(req)->name;
	const char *name = json_string_value(json_object_get(
		json_object_get(rpc_request_args(req), "instance"), "name"));
	enum power_state power = m->drv->ops->power_state(m->drv, uuid);
	enum vm_state vm_state = rc < 0 ? VM_ERROR : vm_state_of_power(power);

	if (rc < 0)
		log_info("%s instance %s (%s): %s (%s): %s: %s", method, uuid,
			 name, vm_state_name(vm_state), power_state_name(power),
			 e->cls, e->message);
	else
		log_info("%s instance %s (%s): %s (%s)", method, uuid, name,
			 vm_state_name(vm_state), power_state_name(power));
	report(m, req, uuid, vm_state, power, rc < 0 ? e : NULL);
}

/*
 * Nova's instance_claim for a start with limits (the scheduler placed inst
 * here, limits being what the host may hold in all once it holds inst):
 * 0 when what the host's domains hold plus inst's sizes stays within
 * limits, else -ENOSPC ("ComputeResourcesUnavailable", capacity.h), or
 * -errno with e when the domains cannot be listed.  An instance that has a
 * domain here already (a start redelivered or repeated) is counted, and
 * not claimed again.
 *
 * The count is taken afresh from the hypervisor, not kept between
 * requests: it costs one listing per placement (some 7 us a domain on the
 * test driver), and can never drift from what libvirt holds.  There is
 * no list of claims in progress, because there is never one: the
 * listing, this check and the define after it (act(), ACT_START) run in
 * one handler on the loop's only thread, and libvirt's calls block without
 * running the loop, so no other request can come in between; once
 * defined, the domain counts itself.
 */
static int claim(struct compute_manager *m, const struct virt_instance *inst,
		 json_t *limits, struct rpc_error *e)
{
	struct virt_domain_state *doms = NULL;
	struct virt_sizes most, used, want;
	size_t n = 0, i;
	int rc;

	rc = m->drv->ops->list(m->drv, &doms, &n, e);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (strcmp(doms[i].uuid, inst->uuid) == 0)
			goto out;
	/* The contract made sure all three are there. */
	most.vcpus = json_integer_value(json_object_get(limits, "vcpus"));
	most.memory_mb = json_integer_value(json_object_get(limits, "memory_mb"));
	most.disk_gb = json_integer_value(json_object_get(limits, "disk_gb"));
	capacity_used(doms, n, &used);
	capacity_sizes_of(inst, &want);
	rc = capacity_check_claim(&most, &used, &want, e);
out:
	free(doms);
	return rc;
}

/* Destroys the domain of uuid, then takes its NICs off the host's
 * networks.  Success when it is missing. */
static int delete_domain(struct compute_manager *m, const char *uuid,
			 struct rpc_error *e)
{
	struct virt_driver *d = m->drv;
	struct domain_nic nics[DOMAIN_MAX_NICS];
	int n = d->ops->domain_nics(d, uuid, nics, e);
	int rc = n < 0 ? n : d->ops->destroy(d, uuid, e);

	return rc < 0 ? rc : d->ops->unplug_nics(d, nics, (size_t)n, e);
}

/* What a cast asks of the domain; the driver call for each is in act(). */
enum action {
	ACT_START, ACT_STOP, ACT_STOP_CLEAN, ACT_REBOOT_SOFT, ACT_REBOOT_HARD,
	ACT_PAUSE, ACT_UNPAUSE, ACT_SUSPEND, ACT_RESUME, ACT_REBUILD,
};

/*
 * Does a on inst.  Returns 0 when done, 1 when a wait for the guest took
 * the request over (guest_wait.h), or -errno with e.
 */
static int act(struct compute_manager *m, struct rpc_request *req,
	       enum action a, const struct virt_instance *inst,
	       struct rpc_error *e)
{
	struct virt_driver *d = m->drv;
	json_t *limits = json_object_get(rpc_request_args(req), "limits");
	enum power_state p = d->ops->power_state(d, inst->uuid);
	bool reboot = a == ACT_REBOOT_SOFT;
	int rc;

	switch (a) {
	case ACT_START:
		/* Without limits (a start of a stopped instance, a sender
		 * older than 1.2) the domain is there, and counted, already. */
		rc = limits ? claim(m, inst, limits, e) : 0;
		if (rc == 0)
			rc = d->ops->plug_nics(d, inst, e);
		return rc < 0 ? rc : d->ops->power_on(d, inst, e);
	case ACT_STOP_CLEAN:
	case ACT_REBOOT_SOFT:
		if (p == POWER_RUNNING) {
			rc = d->ops->shutdown(d, inst->uuid, e);
			if (rc == 0 && guest_wait_start(m, req, inst, reboot) == 0)
				return 1;
			log_info("instance %s (%s): the guest cannot be asked to "
				 "shut down (%s): powering it off", inst->uuid,
				 inst->name, rc < 0 ? e->message : "out of memory");
		} else if (reboot && p != POWER_PAUSED) {
			/* Not running: just start it (defined again, with
			 * its NICs, if it is gone). */
			rc = d->ops->plug_nics(d, inst, e);
			return rc < 0 ? rc : d->ops->power_on(d, inst, e);
		}
		/* A paused guest cannot answer, or asking failed: hard. */
		/* fall through */
	case ACT_STOP:
	case ACT_REBOOT_HARD:
		rc = d->ops->power_off(d, inst->uuid, e);
		if (rc == 0 && (a == ACT_REBOOT_HARD || reboot) &&
		    (rc = d->ops->plug_nics(d, inst, e)) == 0)
			rc = d->ops->power_on(d, inst, e);
		return rc;
	case ACT_PAUSE:
		return d->ops->pause(d, inst->uuid, e);
	case ACT_UNPAUSE:
		return d->ops->unpause(d, inst->uuid, e);
	case ACT_SUSPEND:
		return d->ops->suspend(d, inst->uuid, e);
	case ACT_RESUME:
		return d->ops->resume(d, inst->uuid, e);
	case ACT_REBUILD:
		rc = delete_domain(m, inst->uuid, e);
		if (rc == 0)
			rc = d->ops->plug_nics(d, inst, e);
		return rc < 0 ? rc : d->ops->power_on(d, inst, e);
	}
	return rpc_error_set(e, -EINVAL, NULL, "unknown action");
}

/* Runs a cast on args {instance, expected_task_state, ...}: cuts a wait on
 * the domain short, acts, and reports (now, or when the wait ends). */
static void run_action(struct compute_manager *m, enum action a,
		       struct rpc_request *req)
{
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	int rc;

	rc = instance_from_json(json_object_get(rpc_request_args(req),
						"instance"), &inst, &e);
	if (rc == 0) {
		guest_wait_cut(m, inst.uuid);
		rc = act(m, req, a, &inst, &e);
	}
	if (rc != 1)
		compute_finish(m, req, inst.uuid, rc, &e);
}

static void start_instance(void *ctx, struct rpc_request *req)
{
	run_action(ctx, ACT_START, req);
}

static void stop_instance(void *ctx, struct rpc_request *req)
{
	json_t *clean = json_object_get(rpc_request_args(req), "clean_shutdown");

	run_action(ctx, json_is_true(clean) ? ACT_STOP_CLEAN : ACT_STOP, req);
}

static void reboot_instance(void *ctx, struct rpc_request *req)
{
	const char *type = json_string_value(json_object_get(
		rpc_request_args(req), "reboot_type"));

	run_action(ctx, strcmp(type, "HARD") == 0 ? ACT_REBOOT_HARD :
		   ACT_REBOOT_SOFT, req);
}

static void pause_instance(void *ctx, struct rpc_request *req)
{
	run_action(ctx, ACT_PAUSE, req);
}

static void unpause_instance(void *ctx, struct rpc_request *req)
{
	run_action(ctx, ACT_UNPAUSE, req);
}

static void suspend_instance(void *ctx, struct rpc_request *req)
{
	run_action(ctx, ACT_SUSPEND, req);
}

static void resume_instance(void *ctx, struct rpc_request *req)
{
	run_action(ctx, ACT_RESUME, req);
}

static void rebuild_instance(void *ctx, struct rpc_request *req)
{
	run_action(ctx, ACT_REBUILD, req);
}

static void resize_instance(void *ctx, struct rpc_request *req)
{
	struct compute_manager *m = ctx;
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	int rc;

	rc = instance_from_json(json_object_get(rpc_request_args(req),
						"instance"), &inst, &e);
	if (rc == 0) {
		guest_wait_cut(m, inst.uuid);
		rc = m->drv->ops->plug_nics(m->drv, &inst, &e);
	}
	if (rc == 0)
		rc = m->drv->ops->resize(m->drv, &inst, &e);
	if (rc < 0)
		log_info("resize_instance instance %s (%s) to %s: %s: %s",
			 inst.uuid, inst.name, inst.flavor, e.cls, e.message);
	else
		log_info("resize_instance instance %s (%s): now %s (%u vCPUs, "
			 "%llu MB, %llu GB)", inst.uuid, inst.name, inst.flavor,
			 inst.vcpus, inst.memory_mb, inst.disk_gb);
	rpc_request_done(req, NULL, rc < 0 ? &e : NULL);
}

static void terminate_instance(void *ctx, struct rpc_request *req)
{
	struct compute_manager *m = ctx;
	struct strbuf log = STRBUF_INIT;
	char uuid[UUID_STR_LEN];
	struct rpc_error e = { 0 };
	int rc;

	instance_uuid(json_object_get(rpc_request_args(req), "instance"), uuid);
	guest_wait_cut(m, uuid);
	rc = delete_domain(m, uuid, &e);
	if (rc < 0) {
		log_info("terminate_instance instance %s: %s: %s", uuid, e.cls,
			 e.message);
	} else {
		log_info("terminate_instance instance %s: deleted", uuid);
		/* The console log is the host's, and goes with the domain. */
		if (m->drv->ops->console_log(m->drv, uuid, &log) == 0)
			unlink(log.buf);
	}
	strbuf_release(&log);
	rpc_request_done(req, NULL, rc < 0 ? &e : NULL);
}

static void get_instance_state(void *ctx, struct rpc_request *req)
{
	struct compute_manager *m = ctx;
	struct strbuf flavor = STRBUF_INIT;
	char uuid[UUID_STR_LEN];
	enum power_state power;
	struct rpc_error e = { 0 };
	json_t *result = NULL;
	int exists, has_flavor = 0;

	instance_uuid(json_object_get(rpc_request_args(req), "instance"), uuid);
	exists = m->drv->ops->exists(m->drv, uuid, &e);
	if (exists > 0)
		has_flavor = m->drv->ops->flavor(m->drv, uuid, &flavor, &e);
	if (exists < 0 || has_flavor < 0)
		goto out;
	power = m->drv->ops->power_state(m->drv, uuid);
	result = json_pack("{s:b, s:s, s:s?}", "exists", exists,
			   "power_state", power_state_name(power),
			   "flavor", has_flavor ? flavor.buf : NULL);
	if (!result)
		rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
out:
	strbuf_release(&flavor);
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
	{ &compute_reboot_instance, reboot_instance },
	{ &compute_pause_instance, pause_instance },
	{ &compute_unpause_instance, unpause_instance },
	{ &compute_suspend_instance, suspend_instance },
	{ &compute_resume_instance, resume_instance },
	{ &compute_rebuild_instance, rebuild_instance },
	{ &compute_resize_instance, resize_instance },
	{ &compute_terminate_instance, terminate_instance },
	{ &compute_get_instance_state, get_instance_state },
	{ &compute_publish_service_capabilities, publish_service_capabilities },
	{ NULL, NULL },
};

/* A lifecycle event of one of our domains. */
static void domain_event(void *ctx, const char *uuid, bool started)
{
	struct compute_manager *m = ctx;

	if (started)
		console_restart(m->console, uuid);
	guest_wait_kick(m, uuid);
	sync_soon(m, uuid);
}

/*
 * The heartbeat's numbers, counted as it is sent (so a domain defined just
 * before counts): the host's capacity, what its domains hold, and the
 * UUIDs of those domains, from the one listing the sums come from (the
 * scheduler drops its claim for each).
 */
static int host_stats(void *ctx, json_t *args, struct rpc_error *e)
{
	struct compute_manager *m = ctx;
	struct virt_domain_state *doms = NULL;
	struct virt_host_info h;
	struct virt_sizes used;
	json_t *uuids = NULL, *stats = NULL;
	size_t n = 0, i;
	int rc;

	rc = m->drv->ops->host_info(m->drv, &h, e);
	if (rc == 0)
		rc = m->drv->ops->list(m->drv, &doms, &n, e);
	if (rc < 0)
		return rc;
	capacity_used(doms, n, &used);
	uuids = json_array();
	for (i = 0; uuids && i < n; i++)
		if (json_array_append_new(uuids, json_string(doms[i].uuid)) < 0)
			break;
	if (uuids && i == n)
		stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:O}",
				  "vcpus", (json_int_t)h.total.vcpus,
				  "vcpus_used", (json_int_t)used.vcpus,
				  "memory_mb", (json_int_t)h.total.memory_mb,
				  "memory_mb_used", (json_int_t)used.memory_mb,
				  "disk_gb", (json_int_t)h.total.disk_gb,
				  "disk_gb_used", (json_int_t)used.disk_gb,
				  "hypervisor_type", h.hypervisor_type,
				  "instances", uuids);
	if (!stats || json_object_update(args, stats) < 0)
		rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	json_decref(uuids);
	json_decref(stats);
	free(doms);
	return rc;
}

int compute_manager_start(struct compute_manager *m, struct rpc_error *e)
{
	int rc;

	m->loop = rpc_bus_loop(m->bus);
	guest_wait_init(m);
	rc = console_new(m, &m->console);
	if (rc < 0)
		return rpc_error_set(e, rc, NULL, "out of memory");
	/* Events first, so that nothing that happens after the startup
	 * listing goes unsaid; a driver without events has the periodic
	 * sync only. */
	rc = m->drv->ops->on_event(m->drv, domain_event, m, e);
	if (rc < 0 && rc != -EOPNOTSUPP)
		return rc;
	rc = rpc_serve(m->bus, &compute_service, m->host, compute_handlers, m, e);
	if (rc < 0)
		return rc;
	rc = rpc_heartbeat_start(m->bus, "novafs-compute", m->host,
				 m->report_interval_s, host_stats, m,
				 &m->heartbeat, e);
	if (rc < 0)
		return rc;
	rc = sync_start(m);
	if (rc < 0)
		return rpc_error_set(e, rc, NULL, "cannot start the power state sync");
	return 0;
}

void compute_manager_stop(struct compute_manager *m)
{
	struct rpc_error e = { 0 };

	m->drv->ops->on_event(m->drv, NULL, NULL, &e);
	sync_stop(m);
	console_stop(m->console);
	guest_wait_drop_all(m);
	rpc_heartbeat_stop(m->heartbeat);
}

void compute_manager_free(struct compute_manager *m)
{
	console_free(m->console);
	m->console = NULL;
}
