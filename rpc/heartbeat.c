/*
 * heartbeat.c - a service's presence on the bus: the host it serves as,
 * and the heartbeats that tell the scheduler and novafs it is alive (see
 * bus.h, "Heartbeats").
 *
 * A heartbeat is a fanout: it waits for no one, and one that is lost is
 * made good by the next, so none is sent while the bus is down, and one
 * in flight gets the bus's ordinary deadline.  The bus owns its heartbeat
 * (bus->heartbeat), so that one still in flight never outlives it.
 */
#include "bus_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/version.h"
#include "common/loop.h"
#include "rpc/methods.h"

/* A host name is the server part of a queue (compute.HOST) and of a
 * RabbitMQ user (compute-HOST). */
static int check_host(const char *value, enum opt_source from, char *err,
		      size_t errlen)
{
	if (rpc_name_valid(value))
		return 0;
	snprintf(err, errlen, "\"%s\" is not a host name ([A-Za-z0-9._-], 1 to 63 bytes)",
		 value);
	return -EINVAL;
}

const struct opt rpc_service_options[] = {
	{ "DEFAULT", "host", "--host", OPT_STR,
	  offsetof(struct rpc_service_config, host), NULL, 0, 0, NULL, "NAME",
	  "the host this service runs as (default: gethostname())", check_host },
	{ "DEFAULT", "report_interval", "--report-interval", OPT_INT,
	  offsetof(struct rpc_service_config, report_interval_s), "10", 1,
	  86400, NULL, "SECONDS", "how often the service sends its heartbeat",
	  NULL },
	OPT_END
};

int rpc_service_host(struct rpc_service_config *cfg, struct rpc_error *e)
{
	char name[256] = "";

	if (cfg->host)
		return 0;
	if (gethostname(name, sizeof(name) - 1) < 0)
		return rpc_error_set(e, -errno, NULL,
				     "cannot get the host name: %s; use --host",
				     strerror(errno));
	if (!rpc_name_valid(name))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "the host name \"%s\" cannot name a queue; use --host",
				     name);
	cfg->host = strdup(name);
	if (!cfg->host)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	return 0;
}

struct rpc_heartbeat {
	struct rpc_bus *bus;
	const char *binary;
	const char *host;
	long long interval_s;
	rpc_report_fn fill;
	void *ctx;
	long long timer;
	bool failing;              /* the last one was not taken */
};

static void sent(void *ctx, int err, json_t *result, const struct rpc_error *e)
{
	struct rpc_heartbeat *hb = ctx;

	if (err < 0 && !hb->failing)
		log_warn("cannot send the heartbeat of %s on %s: %s: %s",
			 hb->binary, hb->host, e->cls, e->message);
	else if (err == 0 && hb->failing)
		log_info("heartbeats of %s on %s go through again", hb->binary,
			 hb->host);
	hb->failing = err < 0;
}

/* {binary, host, up, version}: a new reference, or NULL when out of
 * memory. */
static json_t *heartbeat_args(const struct rpc_heartbeat *hb, bool up)
{
	return json_pack("{s:s, s:s, s:b, s:s}", "binary", hb->binary, "host",
			 hb->host, "up", up, "version", NOVAFS_VERSION);
}

void rpc_heartbeat_now(struct rpc_heartbeat *hb)
{
	struct rpc_error e = { 0 };
	json_t *args = heartbeat_args(hb, true);
	int rc;

	if (!args || json_object_set_new(args, "report_interval",
					 json_integer(hb->interval_s)) < 0)
		rc = rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	else
		rc = hb->fill ? hb->fill(hb->ctx, args, &e) : 0;
	if (rc == 0)
		rc = rpc_fanout(hb->bus, &scheduler_update_service_capabilities,
				args, sent, hb, &e);
	/* Not sent at all (the bus is down, no numbers): reported as a
	 * heartbeat the broker did not take. */
	if (rc < 0)
		sent(hb, rc, NULL, &e);
	json_decref(args);
}

static long long periodic(struct loop *l, void *ctx)
{
	struct rpc_heartbeat *hb = ctx;

	rpc_heartbeat_now(hb);
	return hb->interval_s * 1000;
}

int rpc_heartbeat_start(struct rpc_bus *bus, const char *binary,
			const char *host, long long interval_s,
			rpc_report_fn fill, void *ctx, struct rpc_heartbeat **out,
			struct rpc_error *e)
{
	struct rpc_heartbeat *hb;
	long long timer;

	*out = NULL;
	if (bus->heartbeat)
		return rpc_error_set(e, -EEXIST, NULL,
				     "this bus sends heartbeats already");
	hb = calloc(1, sizeof(*hb));
	if (!hb)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	timer = loop_timer(bus->loop, 0, periodic, hb);
	if (timer < 0) {
		free(hb);
		return rpc_error_set(e, (int)timer, NULL,
				     "cannot start the heartbeat timer");
	}
	*hb = (struct rpc_heartbeat){ bus, binary, host, interval_s, fill, ctx,
				      timer, false };
	bus->heartbeat = hb;
	*out = hb;
	return 0;
}

void rpc_heartbeat_stop(struct rpc_heartbeat *hb)
{
	struct rpc_error e = { 0 };
	json_t *args;

	if (!hb || !hb->timer)
		return;
	loop_timer_cancel(hb->bus->loop, hb->timer);
	hb->timer = 0;
	args = heartbeat_args(hb, false);
	if (!args || rpc_cast_wait(hb->bus, &scheduler_update_service_capabilities,
				   NULL, args, &e) < 0)
		log_warn("cannot say that %s on %s stops: %s", hb->binary,
			 hb->host, args ? e.message : "out of memory");
	json_decref(args);
}

void rpc_heartbeat_free(struct rpc_heartbeat *hb)
{
	if (hb)
		loop_timer_cancel(hb->bus->loop, hb->timer);
	free(hb);
}
