/*
 * main.c - novafs-scheduler: picks a compute host for each new instance.
 *
 * The glue between the bus and the pure scheduling code: it serves topic
 * scheduler (the shared queue, scheduler.HOST and the fanout), feeds the
 * compute hosts' heartbeats into the host states (host_state.h), answers
 * select_destinations through the filters and weighers (select.h) with
 * the chosen host and its limits, and applies release_resources to the
 * claims (claims.h).  Host states and claims live in memory only: at
 * start the scheduler asks every compute host to report at once
 * (compute_publish_service_capabilities), and a compute host checks each
 * placement against the limits it is sent, so that claims a restarted
 * scheduler forgot cannot overfill it.  A periodic timer announces hosts
 * that stopped reporting without a word, and the scheduler sends its own
 * heartbeat as every service does.
 */
#include <errno.h>
#include <string.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "claims.h"
#include "filters.h"
#include "host_state.h"
#include "request.h"
#include "select.h"

/* How often hosts that stopped reporting are looked for. */
#define EXPIRE_INTERVAL_MS 1000

struct scheduler {
	struct loop *loop;
	struct host_manager hosts;
	struct sched_config config;
};

static void log_host_event(const struct host_state *hs, enum host_event ev)
{
	if (ev == HOST_EVENT_UP)
		log_info("host %s is up (%lld vCPUs, %lld MB, %lld GB; %s)",
			 hs->name, hs->total.vcpus, hs->total.memory_mb,
			 hs->total.disk_gb,
			 hs->hypervisor_type[0] ? hs->hypervisor_type : "unknown");
	else if (ev == HOST_EVENT_DOWN)
		log_info("host %s is down", hs->name);
}

/* The bus has made sure that a compute host's heartbeat comes from that
 * host; other services' heartbeats say nothing about placement. */
static void update_service_capabilities(void *ctx, struct rpc_request *req)
{
	struct scheduler *s = ctx;
	json_t *args = rpc_request_args(req);
	const char *binary = json_string_value(json_object_get(args, "binary"));
	const char *host = json_string_value(json_object_get(args, "host"));
	struct rpc_error e = { 0 };
	enum host_event ev;

	if (strcmp(binary, "novafs-compute") != 0) {
		log_debug("heartbeat of %s on %s", binary, host);
	} else if (host_manager_update(&s->hosts, args, loop_now_ms(s->loop),
				       &ev, &e) < 0) {
		log_warn("dropped the heartbeat of %s: %s", host, e.message);
	} else {
		log_host_event(host_manager_find(&s->hosts, host), ev);
		log_debug("heartbeat of %s on %s", binary, host);
	}
	rpc_request_done(req, NULL, NULL);
}

static void select_destinations(void *ctx, struct rpc_request *req)
{
	struct scheduler *s = ctx;
	struct sched_request sr;
	struct sched_choice choice = { 0 };
	struct rpc_error e = { 0 };
	json_t *result = NULL;
	int rc;

	rc = sched_request_from_json(rpc_request_args(req), &sr, &e);
	if (rc == 0)
		rc = sched_select_destination(&s->hosts, &s->config, &sr,
					      loop_now_ms(s->loop), &choice, &e);
	if (rc == 0 &&
	    !(result = json_pack("{s:s, s:{s:I, s:I, s:I}}", "host",
				 choice.host->name, "limits",
				 "vcpus", (json_int_t)choice.limits.vcpus,
				 "memory_mb", (json_int_t)choice.limits.memory_mb,
				 "disk_gb", (json_int_t)choice.limits.disk_gb)))
		rc = rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	if (rc < 0)
		log_info("select_destinations instance %s flavor %s: %s: %s",
			 sr.instance_uuid, sr.flavor_name, e.cls, e.message);
	else
		log_info("select_destinations instance %s flavor %s: host %s",
			 sr.instance_uuid, sr.flavor_name, choice.host->name);
	sched_request_release(&sr);
	rpc_request_done(req, result, rc < 0 ? &e : NULL);
}

/* What claims_release() did, for the log. */
static const char *release_outcome(int done)
{
	switch (done) {
	case CLAIMS_DROPPED_CLAIM:
		return "its claim dropped";
	case CLAIMS_TOOK_OFF_REPORT:
		return "taken off the host's last report";
	case CLAIMS_DROPPED_CLAIM | CLAIMS_TOOK_OFF_REPORT:
		return "its claim dropped and taken off the host's last report";
	default:
		return "nothing held there";
	}
}

static void release_resources(void *ctx, struct rpc_request *req)
{
	struct scheduler *s = ctx;
	struct sched_release_request rr;
	struct rpc_error e = { 0 };
	int rc;

	rc = sched_release_from_json(rpc_request_args(req), &rr, &e);
	/* Without a host, the placement's answer was lost: only a claim can
	 * exist, wherever it is. */
	if (rc == 0 && !rr.host)
		rc = claims_drop(&s->hosts, rr.instance_uuid) ? CLAIMS_DROPPED_CLAIM : 0;
	else if (rc == 0 && (rc = claims_release(&s->hosts, rr.host, rr.instance_uuid,
						 &rr.flavor)) < 0)
		rpc_error_set(&e, rc, NULL, "out of memory");
	if (rc < 0)
		log_warn("release_resources instance %s: %s", rr.instance_uuid,
			 e.message);
	else
		log_info("release_resources instance %s flavor %s on %s: %s",
			 rr.instance_uuid, rr.flavor_name, rr.host ? rr.host : "any host",
			 release_outcome(rc));
	rpc_request_done(req, NULL, rc < 0 ? &e : NULL);
}

static const struct rpc_handler scheduler_handlers[] = {
	{ &scheduler_select_destinations, select_destinations },
	{ &scheduler_release_resources, release_resources },
	{ &scheduler_update_service_capabilities, update_service_capabilities },
	{ NULL, NULL },
};

/* Announces each host that went stale since the last run. */
static long long expire_hosts(struct loop *l, void *ctx)
{
	struct scheduler *s = ctx;
	long long now = loop_now_ms(l);
	struct host_state *hs;
	size_t cursor = 0;

	while ((hs = host_manager_expire(&s->hosts, now, &cursor)))
		log_info("host %s is down (no report for %lld s)", hs->name,
			 (now - hs->last_report_ms) / 1000);
	return EXPIRE_INTERVAL_MS;
}

/* Starts serving; 0 or -errno with e. */
static int scheduler_start(struct scheduler *s, struct rpc_bus *bus,
			   const struct rpc_service_config *cfg,
			   struct rpc_heartbeat **hb, struct rpc_error *e)
{
	json_t *none;
	int rc;

	rc = rpc_serve(bus, &scheduler_service, cfg->host, scheduler_handlers,
		       s, e);
	if (rc == 0)
		rc = rpc_heartbeat_start(bus, "novafs-scheduler", cfg->host,
					 cfg->report_interval_s, NULL, NULL, hb, e);
	if (rc == 0 && loop_timer(s->loop, EXPIRE_INTERVAL_MS, expire_hosts, s) < 0)
		rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	if (rc < 0)
		return rc;
	/* Hear from every compute host now, not a report interval later. */
	none = json_object();
	if (!none || rpc_fanout(bus, &compute_publish_service_capabilities, none,
				NULL, NULL, e) < 0)
		log_warn("cannot ask compute hosts to report: %s",
			 none ? e->message : "out of memory");
	json_decref(none);
	return 0;
}

int main(int argc, char **argv)
{
	struct rpc_bus_config bus_cfg = { 0 };
	struct rpc_service_config svc_cfg = { 0 };
	const struct opt *const tables[] = {
		rpc_service_options, rpc_bus_options, sched_options, NULL,
	};
	struct scheduler s = { NULL };
	void *const bases[] = { &svc_cfg, &bus_cfg, &s.config };
	const struct opts_spec spec = {
		"novafs-scheduler", "Chooses compute hosts for new instances.",
		NULL, "/etc/novafs/scheduler.conf", tables, bases,
	};
	struct rpc_heartbeat *hb = NULL;
	struct rpc_bus *bus = NULL;
	struct rpc_error e = { 0 };
	struct daemon d;
	int status, rc;

	status = daemon_start(&d, &spec, NULL, &argc, argv, 0);
	if (status >= 0)
		return status;
	status = 1;
	s.loop = d.loop;
	host_manager_init(&s.hosts);
	rc = rpc_service_host(&svc_cfg, &e);
	if (rc == 0)
		rc = rpc_bus_new(d.loop, &bus_cfg, "scheduler", &bus, &e);
	if (rc < 0) {
		log_error("cannot connect to the message bus: %s", e.message);
		goto out;
	}
	rc = scheduler_start(&s, bus, &svc_cfg, &hb, &e);
	if (rc < 0) {
		log_error("cannot serve topic scheduler as %s: %s", svc_cfg.host,
			  e.message);
		goto out;
	}
	log_info("serving topic scheduler on %s", svc_cfg.host);
	rc = loop_run(d.loop);
	if (rc < 0)
		log_error("the event loop failed: %s", strerror(-rc));
	rpc_heartbeat_stop(hb);
	status = rc < 0 ? 1 : 0;
out:
	rpc_bus_free(bus);
	host_manager_release(&s.hosts);
	return daemon_finish(&d, &spec, NULL, status);
}
