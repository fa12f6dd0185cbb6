/*
 * main.c - novafs-scheduler: picks a compute host for each new instance.
 *
 * The glue between the bus and the pure scheduling code: it consumes topic
 * "scheduler" (its shared queue, its own queue and the fanout), feeds
 * update_service_capabilities reports into the host states and answers
 * select_destinations through the filter and weigher tables.  Host states
 * live in memory only: at start the scheduler fanout-casts
 * publish_service_capabilities so that every compute host reports at once.
 * A periodic task announces hosts that stopped reporting without a word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filters.h"
#include "host_state.h"
#include "log.h"
#include "rpc.h"
#include "service.h"

/* How often hosts that stopped reporting are looked for. */
#define EXPIRE_INTERVAL_MS 1000

struct scheduler {
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

static int update_service_capabilities(void *ctx, json_t *args,
				       json_t **result, struct rpc_error *e)
{
	struct scheduler *s = ctx;
	enum host_event ev;
	int r;

	r = host_manager_update(&s->hosts, args, service_now_ms(), &ev, e);
	if (r < 0) {
		log_warn("update_service_capabilities: %s", e->message);
		return r;
	}
	log_host_event(host_manager_find(&s->hosts,
			json_string_value(json_object_get(args, "host"))), ev);
	log_debug("update_service_capabilities from %s",
		  json_string_value(json_object_get(args, "host")));
	return 0;
}

static int select_destinations(void *ctx, json_t *args, json_t **result,
			       struct rpc_error *e)
{
	struct scheduler *s = ctx;
	struct sched_request req;
	struct host_state *hs;
	int r;

	r = sched_request_from_json(args, &req, e);
	if (r < 0)
		goto out;
	r = sched_select_destination(&s->hosts, &s->config, &req,
				     service_now_ms(), &hs, e);
	if (r < 0)
		goto out;
	*result = json_pack("{s:s}", "host", hs->name);
	if (!*result)
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
out:
	if (r < 0)
		log_info("select_destinations instance %s flavor %s: %s: %s",
			 req.instance_uuid[0] ? req.instance_uuid : "?",
			 req.flavor_name[0] ? req.flavor_name : "?", e->cls,
			 e->message);
	else
		log_info("select_destinations instance %s flavor %s: host %s",
			 req.instance_uuid, req.flavor_name, hs->name);
	return r;
}

static const struct rpc_method scheduler_methods[] = {
	{ "update_service_capabilities", update_service_capabilities },
	{ "select_destinations", select_destinations },
	{ NULL, NULL },
};

/* Periodic: announces each host that went stale since the last run. */
static void expire_hosts(void *ctx)
{
	struct scheduler *s = ctx;
	long long now = service_now_ms();
	struct host_state *hs;
	size_t cursor = 0;

	while ((hs = host_manager_expire(&s->hosts, now, &cursor)))
		log_info("host %s is down (no report for %lld s)", hs->name,
			 (now - hs->last_report_ms) / 1000);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: novafs-scheduler [OPTION]...\n"
		"Chooses compute hosts for new instances.\n\n"
		SERVICE_COMMON_USAGE);
}

int main(int argc, char **argv)
{
	struct scheduler s = { HOST_MANAGER_INIT, SCHED_CONFIG_DEFAULTS };
	struct service_opts opts;
	struct rpc_conn *conn = NULL;
	struct rpc_server *srv = NULL;
	struct rpc_error e = { 0 };
	char hostname[256] = "";
	json_t *empty = NULL;
	int i, r, status = 1;

	service_opts_init(&opts);
	for (i = 1; i < argc; i++) {
		r = service_parse_common_option(&opts, argc, argv, &i);
		if (r > 0)
			continue;
		fprintf(stderr, "novafs-scheduler: %s: %s\n", argv[i],
			r < 0 ? "missing value" : "unknown option");
		usage(stderr);
		return 2;
	}
	if (opts.help) {
		usage(stdout);
		return 0;
	}
	log_setup("novafs-scheduler", opts.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	r = service_install_signals();
	if (r < 0) {
		log_error("cannot install signal handlers: %s", strerror(-r));
		goto out;
	}
	if (gethostname(hostname, sizeof(hostname) - 1) < 0 || !hostname[0])
		snprintf(hostname, sizeof(hostname), "scheduler");

	r = rpc_connect(opts.amqp_url, opts.exchange, &conn, &e);
	if (r < 0) {
		log_error("cannot connect to the broker: %s", e.message);
		goto out;
	}
	r = rpc_server_new(conn, "scheduler", hostname, scheduler_methods, &s,
			   &srv, &e);
	if (r < 0) {
		log_error("cannot consume topic scheduler: %s", e.message);
		goto out;
	}
	log_info("consuming topic scheduler on %s", hostname);

	empty = json_object();
	r = rpc_fanout_cast(conn, "compute", "publish_service_capabilities",
			    empty, &e);
	if (r < 0)
		log_warn("cannot ask compute hosts to report: %s", e.message);

	service_run(srv, expire_hosts, &s, EXPIRE_INTERVAL_MS);
	log_info("stopping");
	status = 0;
out:
	json_decref(empty);
	rpc_server_free(srv);
	rpc_close(conn);
	host_manager_release(&s.hosts);
	return status;
}
