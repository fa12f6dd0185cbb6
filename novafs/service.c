/*
 * service.c - the service kind (see service.h).
 */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "rpc/rpc.h"
#include "host.h"
#include "node.h"
#include "obj.h"
#include "store.h"

static int64_t down_ns = 60LL * 1000000000;

static const struct field fields[] = {
	[S_BINARY] = { "binary", FIELD_TEXT, 0, NULL, 0 },
	[S_HOST] = { "host", FIELD_TEXT, 0, NULL, 0 },
	[S_SAID_UP] = { "said_up", FIELD_INT, 0, NULL, 0 },
	[S_UP] = { "up", FIELD_INT, FIELD_EVENT, NULL, 0 },
	[S_HEARTBEAT_NS] = { "heartbeat_ns", FIELD_INT, 0, NULL, 0 },
	[S_REPORT_INTERVAL] = { "report_interval", FIELD_INT, 0, NULL, 0 },
	[S_VERSION] = { "version", FIELD_TEXT, 0, NULL, 0 },
};

#define DEP(f) (1ULL << (f))

static void show_text(struct strbuf *out, const char *s)
{
	if (s[0])
		strbuf_addf(out, "%s\n", s);
}

static void show_binary(const struct obj *o, struct strbuf *out)
{
	show_text(out, obj_text(o, S_BINARY));
}

static void show_host(const struct obj *o, struct strbuf *out)
{
	show_text(out, obj_text(o, S_HOST));
}

static void show_state(const struct obj *o, struct strbuf *out)
{
	show_text(out, obj_int(o, S_UP) ? "up" : "down");
}

static void show_heartbeat(const struct obj *o, struct strbuf *out)
{
	char iso[CLOCK_ISO_LEN];

	clock_format_iso(obj_int(o, S_HEARTBEAT_NS), iso);
	show_text(out, iso);
}

static void show_interval(const struct obj *o, struct strbuf *out)
{
	strbuf_addf(out, "%lld\n", (long long)obj_int(o, S_REPORT_INTERVAL));
}

static void show_version(const struct obj *o, struct strbuf *out)
{
	show_text(out, obj_text(o, S_VERSION));
}

static const struct node nodes[] = {
	{ "binary", NODE_ATTR, 0444, NULL, DEP(S_BINARY), show_binary },
	{ "host", NODE_ATTR, 0444, NULL, DEP(S_HOST), show_host },
	{ "state", NODE_ATTR, 0444, NULL, DEP(S_UP), show_state },
	{ "last_heartbeat", NODE_ATTR, 0444, NULL, DEP(S_HEARTBEAT_NS),
	  show_heartbeat },
	{ "report_interval", NODE_ATTR, 0444, NULL, DEP(S_REPORT_INTERVAL),
	  show_interval },
	{ "version", NODE_ATTR, 0444, NULL, DEP(S_VERSION), show_version },
};

const struct kind service_kind = {
	.name = "service",
	.table = "services",
	.collection = "services",
	.collection_mode = 0555,
	.mode = S_IFDIR | 0555,
	.fields = fields,
	.nfields = S_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
};

void service_set_down_time(long long seconds)
{
	down_ns = seconds * 1000000000LL;
}

/* Whether s counts as up at now (CLOCK_REALTIME ns). */
static bool is_up(const struct obj *s, int64_t now)
{
	return obj_int(s, S_SAID_UP) && now - obj_int(s, S_HEARTBEAT_NS) <= down_ns;
}

/* Stages that binary on host (service s; new in this op when created)
 * is up or down. */
static int stage_up(struct txn *t, struct obj *s, bool created,
		    const char *binary, const char *host, bool up)
{
	if (!created && obj_int(s, S_UP) == up)
		return 0;
	log_info("%s on %s is %s", binary, host, up ? "up" : "down");
	return txn_set_int(t, s, S_UP, up);
}

/* --- heartbeats --- */

static int heartbeat_run(struct txn *t, void *ctx)
{
	json_t *args = ctx;
	const char *binary = json_string_value(json_object_get(args, "binary"));
	const char *host = json_string_value(json_object_get(args, "host"));
	const char *version = json_string_value(json_object_get(args, "version"));
	json_t *interval = json_object_get(args, "report_interval");
	bool up = json_is_true(json_object_get(args, "up"));
	struct coll *c = obj_top_coll(&service_kind);
	char name[OBJ_NAME_MAX + 2];
	struct obj *s;
	bool created;
	int rc;

	if (snprintf(name, sizeof(name), "%s.%s", binary, host) > OBJ_NAME_MAX) {
		log_warn("%s on %s: the name is too long for services/", binary, host);
		return 0;
	}
	s = coll_find(c, name);
	/* A goodbye is news even from a service never heard from (that it
	 * is down makes requests to it fail fast), but not from a compute
	 * host: it would bring back one an operator forgot (rmdir hosts/X). */
	if (!s && !up && strcmp(binary, "novafs-compute") == 0)
		return 0;
	created = !s;
	if (s && (rc = txn_touch(t, s)) < 0)
		return rc;
	if (!s && (rc = txn_create(t, c, name, 0, 0, &s)) == 0 &&
	    ((rc = txn_set_text(t, s, S_BINARY, binary)) < 0 ||
	     (rc = txn_set_text(t, s, S_HOST, host)) < 0))
		return rc;
	if (rc < 0)
		return rc;
	if ((rc = txn_set_int(t, s, S_SAID_UP, up)) < 0 ||
	    (rc = txn_set_int(t, s, S_HEARTBEAT_NS, clock_real_ns())) < 0 ||
	    (json_is_integer(interval) &&
	     (rc = txn_set_int(t, s, S_REPORT_INTERVAL,
			       json_integer_value(interval))) < 0) ||
	    (version && (rc = txn_set_text(t, s, S_VERSION, version)) < 0))
		return rc;
	if (strcmp(binary, "novafs-compute") == 0 &&
	    (rc = host_stage_report(t, host, args)) < 0)
		return rc;
	return stage_up(t, s, created, binary, host, up);
}

static void heartbeat_then(void *ctx, int err)
{
	if (err < 0)
		log_warn("cannot record a heartbeat: %s", strerror(-err));
	json_decref(ctx);
}

void service_heartbeat(json_t *args)
{
	store_do(heartbeat_run, heartbeat_then, json_incref(args));
}

/* --- going down --- */

static int expire_run(struct txn *t, void *ctx)
{
	int64_t now = clock_real_ns();
	struct obj *s;
	int rc;

	for (s = obj_top_coll(&service_kind)->head; s; s = s->next) {
		if (!obj_int(s, S_UP) || is_up(s, now))
			continue;
		if ((rc = txn_touch(t, s)) < 0 ||
		    (rc = stage_up(t, s, false, obj_text(s, S_BINARY),
				   obj_text(s, S_HOST), false)) < 0 ||
		    (strcmp(obj_text(s, S_BINARY), "novafs-compute") == 0 &&
		     (rc = host_stage_up(t, obj_text(s, S_HOST), false)) < 0))
			return rc;
	}
	return 0;
}

static void expire_then(void *ctx, int err)
{
	if (err < 0)
		log_warn("cannot record a service going down: %s", strerror(-err));
}

void service_expire(void)
{
	int64_t now = clock_real_ns();
	const struct obj *s;
	bool stale = false;

	obj_rdlock();
	for (s = obj_top_coll(&service_kind)->head; s && !stale; s = s->next)
		stale = obj_int(s, S_UP) && !is_up(s, now);
	obj_unlock();
	if (stale)
		store_do(expire_run, expire_then, NULL);
}

/* --- failing fast --- */

/* Why s is down at now, or 0. */
static int why_down(const struct obj *s, int64_t now, struct rpc_error *why)
{
	const char *binary = obj_text(s, S_BINARY);
	const char *what = strcmp(binary, "novafs-compute") == 0 ?
			   "compute host" : binary;

	if (!obj_int(s, S_SAID_UP))
		return rpc_error_set(why, -EHOSTDOWN, "ServiceUnavailable",
				     "%s %s has stopped", what, obj_text(s, S_HOST));
	if (!is_up(s, now))
		return rpc_error_set(why, -EHOSTDOWN, "ServiceUnavailable",
				     "%s %s is down: no heartbeat for %lld s", what,
				     obj_text(s, S_HOST),
				     (long long)((now - obj_int(s, S_HEARTBEAT_NS)) /
						 1000000000));
	return 0;
}

int service_check(const char *binary, const char *host, struct rpc_error *why)
{
	int64_t now = clock_real_ns();
	char name[OBJ_NAME_MAX + 2];
	const struct obj *s;
	bool any = false, up = false;
	int rc = 0;

	obj_rdlock();
	if (host) {
		snprintf(name, sizeof(name), "%s.%s", binary, host);
		s = coll_find(obj_top_coll(&service_kind), name);
		if (s)
			rc = why_down(s, now, why);
	} else {
		for (s = obj_top_coll(&service_kind)->head; s; s = s->next) {
			if (strcmp(obj_text(s, S_BINARY), binary) != 0)
				continue;
			any = true;
			up = up || is_up(s, now);
		}
		if (any && !up)
			rc = rpc_error_set(why, -EHOSTDOWN, "ServiceUnavailable",
					   "%s is down: no instance of it reports",
					   binary);
	}
	obj_unlock();
	return rc;
}
