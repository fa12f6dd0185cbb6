/*
 * host.c - the host kind (see host.h).
 */
#include "host.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/rpc.h"
#include "actions.h"
#include "instance.h"
#include "node.h"
#include "obj.h"
#include "service.h"
#include "store.h"

#define REASON_MAX 255

static const struct field fields[] = {
	[H_ENABLED] = { "enabled", FIELD_INT, FIELD_EVENT, NULL, 1 },
	[H_DISABLED_REASON] = { "disabled_reason", FIELD_TEXT, 0, NULL, 0 },
	[H_UP] = { "up", FIELD_INT, FIELD_EVENT, NULL, 0 },
	[H_VCPUS] = { "vcpus", FIELD_INT, 0, NULL, 0 },
	[H_VCPUS_USED] = { "vcpus_used", FIELD_INT, 0, NULL, 0 },
	[H_MEMORY_MB] = { "memory_mb", FIELD_INT, 0, NULL, 0 },
	[H_MEMORY_MB_USED] = { "memory_mb_used", FIELD_INT, 0, NULL, 0 },
	[H_DISK_GB] = { "disk_gb", FIELD_INT, 0, NULL, 0 },
	[H_DISK_GB_USED] = { "disk_gb_used", FIELD_INT, 0, NULL, 0 },
	[H_RUNNING_VMS] = { "running_vms", FIELD_INT, 0, NULL, 0 },
	[H_HYPERVISOR_TYPE] = { "hypervisor_type", FIELD_TEXT, 0, NULL, 0 },
	[H_FAULT] = { "fault", FIELD_TEXT, 0, NULL, 0 },
};

/* The numbers of a report, in field order from H_VCPUS. */
static const char *const counts[] = {
	"vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "disk_gb",
	"disk_gb_used",
};

#define DEP(f) (1ULL << (f))

static void show_state(const struct obj *o, struct strbuf *out)
{
	strbuf_addstr(out, obj_int(o, H_UP) ? "up\n" : "down\n");
}

static void show_enabled(const struct obj *o, struct strbuf *out)
{
	strbuf_addstr(out, obj_int(o, H_ENABLED) ? "true\n" : "false\n");
}

static void show_reason(const struct obj *o, struct strbuf *out)
{
	if (obj_len(o, H_DISABLED_REASON))
		strbuf_addf(out, "%s\n", obj_text(o, H_DISABLED_REASON));
}

static void show_fault(const struct obj *o, struct strbuf *out)
{
	if (obj_len(o, H_FAULT))
		strbuf_addf(out, "%s\n", obj_text(o, H_FAULT));
}

static void show_hypervisor(const struct obj *o, struct strbuf *out)
{
	if (obj_len(o, H_HYPERVISOR_TYPE))
		strbuf_addf(out, "%s\n", obj_text(o, H_HYPERVISOR_TYPE));
}

#define SHOW_INT(fn, f) \
	static void fn(const struct obj *o, struct strbuf *out) \
	{ \
		strbuf_addf(out, "%lld\n", (long long)obj_int(o, f)); \
	}
SHOW_INT(show_vcpus, H_VCPUS)
SHOW_INT(show_vcpus_used, H_VCPUS_USED)
SHOW_INT(show_memory_mb, H_MEMORY_MB)
SHOW_INT(show_memory_mb_used, H_MEMORY_MB_USED)
SHOW_INT(show_disk_gb, H_DISK_GB)
SHOW_INT(show_disk_gb_used, H_DISK_GB_USED)
SHOW_INT(show_running_vms, H_RUNNING_VMS)

struct obj *host_find(const char *name)
{
	return coll_find(obj_top_coll(&host_kind), name);
}

/* --- reports --- */

int host_stage_report(struct txn *t, const char *name, json_t *args)
{
	struct coll *c = obj_top_coll(&host_kind);
	const char *type = json_string_value(json_object_get(args, "hypervisor_type"));
	json_t *instances = json_object_get(args, "instances");
	struct obj *h = coll_find(c, name);
	json_t *v;
	size_t i;
	int rc = 0;

	if (h)
		rc = txn_touch(t, h);
	else if ((rc = txn_create(t, c, name, 0, 0, &h)) == 0)
		log_info("host %s: first heard from", name);
	if (rc < 0)
		return rc;
	/* A new object reads its defaults until committed: set it all. */
	rc = txn_set_int(t, h, H_UP, json_is_true(json_object_get(args, "up")));
	if (rc < 0)
		return rc;
	if (!json_is_true(json_object_get(args, "up")))
		return 0; /* a goodbye carries no numbers */
	for (i = 0; rc == 0 && i < sizeof(counts) / sizeof(counts[0]); i++)
		if (json_is_integer(v = json_object_get(args, counts[i])))
			rc = txn_set_int(t, h, H_VCPUS + (unsigned)i,
					 json_integer_value(v));
	if (rc == 0 && json_is_array(instances))
		rc = txn_set_int(t, h, H_RUNNING_VMS, (int64_t)json_array_size(instances));
	if (rc == 0 && type)
		rc = txn_set_text(t, h, H_HYPERVISOR_TYPE, type);
	return rc;
}

int host_stage_up(struct txn *t, const char *name, bool up)
{
	struct obj *h = host_find(name);
	int rc;

	if (!h)
		return 0;
	rc = txn_touch(t, h);
	return rc < 0 ? rc : txn_set_int(t, h, H_UP, up);
}

json_t *host_disabled(void)
{
	json_t *list = json_array();
	const struct obj *h;

	for (h = obj_top_coll(&host_kind)->head; list && h; h = h->next)
		if (!obj_int(h, H_ENABLED) &&
		    json_array_append_new(list, json_string(h->name)) < 0) {
			json_decref(list);
			list = NULL;
		}
	return list;
}

/* --- ctl: enable, disable [REASON], evacuate --- */

struct host_op {
	struct wreq *w;
	struct obj *h;             /* a reference */
	char *line;                /* ctl: the command */
	size_t len;
};

static void host_op_then(void *ctx, int err)
{
	struct host_op *op = ctx;

	if (op->w)
		wreq_done(op->w, err);
	obj_put(op->h);
	free(op->line);
	free(op);
}

/* Refuses with e, recorded in the host's fault. */
static int refuse(struct txn *t, struct obj *h, const struct rpc_error *e)
{
	char fault[sizeof(e->cls) + sizeof(e->message) + 2];
	int rc;

	snprintf(fault, sizeof(fault), "%s: %s", e->cls, e->message);
	log_warn("host %s: %s", h->name, fault);
	rc = txn_set_text(t, h, H_FAULT, fault);
	return rc < 0 ? rc : e->err;
}

/*
 * Evacuation: every instance on the host is rebuilt elsewhere, each its
 * own action (actions.h); the write completes when each has been placed
 * and asked for (or refused), with the first error.
 */
struct evacuation {
	struct wreq w;             /* what each instance's action completes */
	struct wreq *caller;
	atomic_int pending;
	atomic_int err;
};

static void evacuation_step(struct wreq *w, int err)
{
	struct evacuation *ev = (struct evacuation *)w;
	int none = 0;

	if (err < 0)
		atomic_compare_exchange_strong(&ev->err, &none, err);
	if (atomic_fetch_sub(&ev->pending, 1) != 1)
		return;
	wreq_done(ev->caller, atomic_load(&ev->err));
	free(ev);
}

/* Starts the evacuation of every instance on the host (on the
 * committer, so that the list stays still); the caller's write is the
 * evacuation's from then on. */
static int evacuate(struct txn *t, struct host_op *op)
{
	struct rpc_error e = { 0 };
	struct evacuation *ev;
	struct obj *i;

	if (service_check("novafs-compute", op->h->name, &e) == 0) {
		rpc_error_set(&e, -EBUSY, "ComputeHostNotDown",
			      "host %s is up: only a host that is down is evacuated",
			      op->h->name);
		return refuse(t, op->h, &e);
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->w.done = evacuation_step;
	ev->w.uid = op->w->uid;
	ev->w.gid = op->w->gid;
	ev->caller = op->w;
	op->w = NULL;
	atomic_store(&ev->pending, 1);
	log_info("host %s: evacuating (%s)", op->h->name, e.message);
	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next) {
		if (strcmp(obj_text(i, I_HOST), op->h->name) != 0)
			continue;
		atomic_fetch_add(&ev->pending, 1);
		action_evacuate(i, &ev->w);
	}
	evacuation_step(&ev->w, 0);
	return txn_set_text(t, op->h, H_FAULT, "");
}

static int ctl_run(struct txn *t, void *ctx)
{
	struct host_op *op = ctx;
	const char *line = op->line, *arg;
	size_t len = op->len, wlen = 0, alen;
	struct rpc_error e = { 0 };
	bool enable;
	int rc;

	if (op->h->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->h)) < 0)
		return rc;
	text_trim(&line, &len);
	while (wlen < len && !text_blank(line[wlen]))
		wlen++;
	for (arg = line + wlen, alen = len - wlen; alen && text_blank(arg[0]); arg++)
		alen--;
	if (wlen == 8 && memcmp(line, "evacuate", 8) == 0 && !alen)
		return evacuate(t, op);
	enable = wlen == 6 && memcmp(line, "enable", 6) == 0 && !alen;
	if (!enable && !(wlen == 7 && memcmp(line, "disable", 7) == 0)) {
		rpc_error_set(&e, -EINVAL, "InvalidInput",
			      "unknown command \"%.*s\" (commands: enable, "
			      "disable [REASON], evacuate)",
			      (int)(len > 64 ? 64 : len), line);
		return refuse(t, op->h, &e);
	}
	if (alen > REASON_MAX) {
		rpc_error_set(&e, -EINVAL, "InvalidInput",
			      "a reason is at most %d bytes", REASON_MAX);
		return refuse(t, op->h, &e);
	}
	if ((rc = txn_set_int(t, op->h, H_ENABLED, enable)) < 0 ||
	    (rc = txn_set_bytes(t, op->h, H_DISABLED_REASON, arg, alen)) < 0 ||
	    (rc = txn_set_text(t, op->h, H_FAULT, "")) < 0)
		return rc;
	log_info("host %s: %s%s%.*s", op->h->name, enable ? "enabled" : "disabled",
		 alen ? ": " : "", (int)alen, arg);
	return 0;
}

static struct host_op *host_op_new(struct obj *h, struct wreq *w)
{
	struct host_op *op = calloc(1, sizeof(*op));

	if (!op) {
		wreq_done(w, -ENOMEM);
		return NULL;
	}
	op->w = w;
	op->h = h;
	obj_get(h);
	return op;
}

static void store_ctl(struct obj *h, const char *buf, size_t len, struct wreq *w)
{
	struct host_op *op = host_op_new(h, w);

	if (!op)
		return;
	op->line = malloc(len ? len : 1);
	if (!op->line) {
		host_op_then(op, -ENOMEM);
		return;
	}
	memcpy(op->line, buf, len);
	op->len = len;
	store_do(ctl_run, host_op_then, op);
}

/* --- rmdir --- */

static int remove_run(struct txn *t, void *ctx)
{
	struct host_op *op = ctx;
	char name[OBJ_NAME_MAX + 2];
	struct rpc_error e = { 0 };
	struct obj *i, *s;
	int rc;

	if (op->h->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->h)) < 0)
		return rc;
	if (obj_int(op->h, H_UP)) {
		rpc_error_set(&e, -EBUSY, "ComputeHostNotDown",
			      "host %s is up: only a host that is down is forgotten",
			      op->h->name);
		return refuse(t, op->h, &e);
	}
	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next)
		if (strcmp(obj_text(i, I_HOST), op->h->name) == 0) {
			rpc_error_set(&e, -EBUSY, "HostInUse",
				      "host %s holds instance %s: delete or evacuate it first",
				      op->h->name, i->name);
			return refuse(t, op->h, &e);
		}
	snprintf(name, sizeof(name), "novafs-compute.%s", op->h->name);
	s = coll_find(obj_top_coll(&service_kind), name);
	if (
	    (s && (rc = txn_touch(t, s)) < 0) ||
	    (rc = txn_delete(t, op->h)) < 0 ||
	    (s && (rc = txn_delete(t, s)) < 0))
		return rc;
	log_info("host %s: forgotten", op->h->name);
	return 0;
}

static void host_remove(struct obj *h, struct wreq *w)
{
	struct host_op *op = host_op_new(h, w);

	if (op)
		store_do(remove_run, host_op_then, op);
}

static const struct node nodes[] = {
	{ "ctl", NODE_COMMAND, 0200, NULL, 0, NULL, store_ctl },
	{ "state", NODE_ATTR, 0444, NULL, DEP(H_UP), show_state },
	{ "enabled", NODE_ATTR, 0444, NULL, DEP(H_ENABLED), show_enabled },
	{ "disabled_reason", NODE_ATTR, 0444, NULL, DEP(H_DISABLED_REASON),
	  show_reason },
	{ "vcpus", NODE_ATTR, 0444, NULL, DEP(H_VCPUS), show_vcpus },
	{ "vcpus_used", NODE_ATTR, 0444, NULL, DEP(H_VCPUS_USED), show_vcpus_used },
	{ "memory_mb", NODE_ATTR, 0444, NULL, DEP(H_MEMORY_MB), show_memory_mb },
	{ "memory_mb_used", NODE_ATTR, 0444, NULL, DEP(H_MEMORY_MB_USED),
	  show_memory_mb_used },
	{ "disk_gb", NODE_ATTR, 0444, NULL, DEP(H_DISK_GB), show_disk_gb },
	{ "disk_gb_used", NODE_ATTR, 0444, NULL, DEP(H_DISK_GB_USED),
	  show_disk_gb_used },
	{ "running_vms", NODE_ATTR, 0444, NULL, DEP(H_RUNNING_VMS), show_running_vms },
	{ "hypervisor_type", NODE_ATTR, 0444, NULL, DEP(H_HYPERVISOR_TYPE),
	  show_hypervisor },
	{ "fault", NODE_ATTR, 0444, NULL, DEP(H_FAULT), show_fault },
	{ "instances", NODE_VIEW, 0755, &instance_kind, .view_field = I_HOST },
};

const struct kind host_kind = {
	.name = "host",
	.table = "hosts",
	.collection = "hosts",
	.collection_mode = 0555,
	.mode = S_IFDIR | 0755,
	.fields = fields,
	.nfields = H_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.remove = host_remove,
};
