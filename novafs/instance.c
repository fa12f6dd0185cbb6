/*
 * instance.c - the instance kind (see instance.h): its fields, its
 * directory, its flavor file and the reports compute hosts send.  What
 * ctl and rmdir do is actions.c.
 */
#include "instance.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/rpc.h"
#include "rpc/states.h"
#include "action_record.h"
#include "actions.h"
#include "flavor.h"
#include "node.h"
#include "obj.h"
#include "objops.h"
#include "conductor.h"
#include "publish.h"
#include "store.h"
#include "stream.h"

#define FAULT_MAX 1024
/* The console keeps its last chunks (each at most RPC_MAX_CONSOLE_CHUNK
 * bytes, typically a few lines: a host sends what came every half
 * second). */
#define CONSOLE_KEPT 256

static const struct field fields[] = {
	[I_FLAVOR_RAW] = { "flavor_raw", FIELD_BYTES, 0, NULL, 0 },
	[I_FLAVOR] = { "flavor", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_VM_STATE] = { "vm_state", FIELD_ENUM, FIELD_EVENT, vm_state_names, VM_STOPPED },
	[I_TASK_STATE] = { "task_state", FIELD_ENUM, FIELD_EVENT, task_state_names, TASK_NONE },
	[I_POWER_STATE] = { "power_state", FIELD_ENUM, FIELD_EVENT, power_state_names, POWER_NOSTATE },
	[I_HOST] = { "host", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_FAULT] = { "fault", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_LAUNCHED] = { "launched", FIELD_INT, 0, NULL, 0 },
};

/* Text values end with a newline; empty ones are empty. */
static void add_line(struct strbuf *out, const char *value)
{
	if (value[0])
		strbuf_addf(out, "%s\n", value);
}

static void show_state(const struct obj *o, struct strbuf *out)
{
	add_line(out, vm_state_name((enum vm_state)obj_int(o, I_VM_STATE)));
}

static void show_task(const struct obj *o, struct strbuf *out)
{
	add_line(out, task_state_name((enum task_state)obj_int(o, I_TASK_STATE)));
}

static void show_power(const struct obj *o, struct strbuf *out)
{
	add_line(out, power_state_name((enum power_state)obj_int(o, I_POWER_STATE)));
}

static void show_host(const struct obj *o, struct strbuf *out)
{
	add_line(out, obj_text(o, I_HOST));
}

static void show_fault(const struct obj *o, struct strbuf *out)
{
	add_line(out, obj_text(o, I_FAULT));
}

static void show_id(const struct obj *o, struct strbuf *out)
{
	add_line(out, o->uuid);
}

/* wait: the state once no task runs, or the last error. */
static bool no_task(const struct obj *o)
{
	return obj_int(o, I_TASK_STATE) == TASK_NONE;
}

static void show_wait(const struct obj *o, struct strbuf *out)
{
	if (obj_len(o, I_FAULT))
		strbuf_addf(out, "error: %s\n", obj_text(o, I_FAULT));
	else
		show_state(o, out);
}

static void show_flavor(const struct obj *o, struct strbuf *out)
{
	strbuf_add(out, obj_text(o, I_FLAVOR_RAW), obj_len(o, I_FLAVOR_RAW));
}

int instance_stage_flavor(struct txn *t, struct obj *o, const char *name)
{
	char raw[OBJ_NAME_MAX + 2];
	int rc;

	snprintf(raw, sizeof(raw), "%s\n", name);
	rc = txn_set_text(t, o, I_FLAVOR, name);
	return rc < 0 ? rc : txn_set_bytes(t, o, I_FLAVOR_RAW, raw, strlen(raw));
}

int instance_stage_fault(struct txn *t, struct obj *o, const struct rpc_error *e)
{
	char fault[FAULT_MAX];

	snprintf(fault, sizeof(fault), "%s: %s", e->cls, e->message);
	log_warn("%s: %s", o->name, fault);
	return txn_set_text(t, o, I_FAULT, fault);
}

/* --- the flavor file --- */

struct set_flavor {
	struct wreq *w;
	struct obj *o;
	char *raw;
	size_t len;
};

/* Surrounding ASCII whitespace (echo's newline, a CRLF) is not part of a
 * value; the bytes are kept as written. */
static void trim(const char **p, size_t *len)
{
	while (*len && strchr(" \t\r\n", (*p)[0])) {
		(*p)++;
		(*len)--;
	}
	while (*len && strchr(" \t\r\n", (*p)[*len - 1]))
		(*len)--;
}

static int set_flavor_run(struct txn *t, void *ctx)
{
	struct set_flavor *sf = ctx;
	struct rpc_error e = { 0 };
	const char *name = sf->raw;
	size_t len = sf->len;
	char want[OBJ_NAME_MAX + 1];
	struct obj *fl = NULL;
	int rc;

	if (sf->o->dead)
		return -ENOENT;
	rc = txn_touch(t, sf->o);
	if (rc < 0)
		return rc;
	trim(&name, &len);
	if (len == 0) {
		want[0] = '\0'; /* an empty value unsets the flavor */
	} else if (len > OBJ_NAME_MAX || memchr(name, '\n', len)) {
		rc = rpc_error_set(&e, -EINVAL, "FlavorNotFound",
				   "flavor \"%.*s\" does not exist (see flavors/)",
				   (int)(len > 64 ? 64 : len), name);
	} else {
		snprintf(want, sizeof(want), "%.*s", (int)len, name);
		fl = flavor_find(want);
		if (!fl)
			rc = rpc_error_set(&e, -EINVAL, "FlavorNotFound",
					   "flavor \"%s\" does not exist (see flavors/)",
					   want);
	}
	if (rc == 0 && obj_int(sf->o, I_LAUNCHED))
		/* Changing the flavor of a started instance is a resize,
		 * an action of its own, not a file write. */
		rc = rpc_error_set(&e, -EBUSY, "InstanceInvalidState",
				   "cannot change the flavor of %s: it has been started",
				   sf->o->name);
	else if (rc == 0 && obj_int(sf->o, I_TASK_STATE) != TASK_NONE)
		rc = rpc_error_set(&e, -EBUSY, "InstanceInvalidState",
				   "cannot change the flavor of %s while it is %s",
				   sf->o->name,
				   task_state_name((enum task_state)obj_int(sf->o, I_TASK_STATE)));
	if (rc < 0) {
		instance_stage_fault(t, sf->o, &e);
		return rc;
	}
	if ((rc = txn_set_bytes(t, sf->o, I_FLAVOR_RAW, sf->raw, sf->len)) < 0 ||
	    (rc = txn_set_text(t, sf->o, I_FLAVOR, want)) < 0)
		return rc;
	return txn_set_text(t, sf->o, I_FAULT, "");
}

static void set_flavor_then(void *ctx, int err)
{
	struct set_flavor *sf = ctx;

	wreq_done(sf->w, err);
	obj_put(sf->o);
	free(sf->raw);
	free(sf);
}

static void store_flavor(struct obj *o, const char *buf, size_t len,
			 struct wreq *w)
{
	struct set_flavor *sf = calloc(1, sizeof(*sf));

	if (!sf || !(sf->raw = malloc(len ? len : 1))) {
		free(sf);
		wreq_done(w, -ENOMEM);
		return;
	}
	memcpy(sf->raw, buf, len);
	sf->len = len;
	sf->w = w;
	sf->o = o;
	obj_get(o);
	store_do(set_flavor_run, set_flavor_then, sf);
}

static void store_ctl(struct obj *o, const char *buf, size_t len,
		      struct wreq *w)
{
	action_command(o, buf, len, w);
}

/* --- the console --- */

/* An instance's console stream, made when first needed (by a reader or
 * the first output), so that 100,000 silent instances cost nothing; one
 * that cannot be allocated is the shared empty one. */
static struct stream *console_of(struct obj *o)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct stream *empty;
	struct stream *s;

	pthread_mutex_lock(&lock);
	if (!o->priv)
		o->priv = stream_new(CONSOLE_KEPT);
	if (!o->priv && !empty)
		empty = stream_new(1);
	s = o->priv ? o->priv : empty;
	pthread_mutex_unlock(&lock);
	return s;
}

/* --- notifications --- */

json_t *instance_payload(const struct obj *inst)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
			 "instance_id", inst->uuid, "display_name", inst->name,
			 "state", vm_state_name((enum vm_state)obj_int(inst, I_VM_STATE)),
			 "task_state", task_state_name((enum task_state)obj_int(inst, I_TASK_STATE)),
			 "power_state", power_state_name((enum power_state)obj_int(inst, I_POWER_STATE)),
			 "host", obj_text(inst, I_HOST),
			 "instance_type", obj_text(inst, I_FLAVOR),
			 "fault", obj_text(inst, I_FAULT),
			 "user_id", (json_int_t)inst->uid);
}

#define DEP(f) (1ULL << (f))
#define SHOWN_STATE (DEP(I_VM_STATE) | DEP(I_TASK_STATE) | DEP(I_POWER_STATE) | \
		     DEP(I_HOST) | DEP(I_FAULT) | DEP(I_FLAVOR))

/* instance.create.end, instance.delete.end, and instance.update (with
 * the old state and task, as Nova's) for every change of its state. */
static void instance_notify(const struct publish_change *c)
{
	json_t *payload;
	const char *type;

	if (c->created)
		type = "instance.create.end";
	else if (c->deleted)
		type = "instance.delete.end";
	else if (c->mask & SHOWN_STATE)
		type = "instance.update";
	else
		return;
	payload = instance_payload(c->o);
	if (payload && !c->created && !c->deleted)
		json_object_update_new(payload, json_pack("{s:s, s:s}",
			"old_state", vm_state_name((enum vm_state)(c->mask & DEP(I_VM_STATE) ?
				c->old[I_VM_STATE].i : obj_int(c->o, I_VM_STATE))),
			"old_task_state", task_state_name((enum task_state)(c->mask & DEP(I_TASK_STATE) ?
				c->old[I_TASK_STATE].i : obj_int(c->o, I_TASK_STATE)))));
	if (payload && c->request[0])
		json_object_set_new(payload, "request_id", json_string(c->request));
	conductor_notify(type, payload);
}

static void instance_release(struct obj *o)
{
	stream_free(o->priv);
}

void instance_console(json_t *args)
{
	const char *uuid = json_string_value(json_object_get(args, "uuid"));
	const char *host = json_string_value(json_object_get(args, "host"));
	json_t *data = json_object_get(args, "data");
	struct obj *o;

	obj_rdlock();
	o = obj_by_uuid(uuid);
	if (o && (o->kind != &instance_kind || o->dead ||
		  strcmp(obj_text(o, I_HOST), host) != 0)) {
		log_warn("conductor: refused console output for %s from %s", uuid, host);
		o = NULL;
	}
	if (o)
		obj_get(o);
	obj_unlock();
	if (!o)
		return;
	stream_append(console_of(o), json_string_value(data), json_string_length(data));
	obj_put(o);
}

static const struct node nodes[] = {
	{ "ctl", NODE_COMMAND, 0200, NULL, 0, NULL, store_ctl },
	{ "state", NODE_ATTR, 0444, NULL, DEP(I_VM_STATE), show_state },
	{ "task", NODE_ATTR, 0444, NULL, DEP(I_TASK_STATE), show_task },
	{ "power_state", NODE_ATTR, 0444, NULL, DEP(I_POWER_STATE), show_power },
	{ "host", NODE_ATTR, 0444, NULL, DEP(I_HOST), show_host },
	{ "flavor", NODE_ATTR, 0644, NULL, DEP(I_FLAVOR_RAW), show_flavor,
	  store_flavor },
	{ "id", NODE_ATTR, 0444, NULL, 0, show_id },
	{ "fault", NODE_ATTR, 0444, NULL, DEP(I_FAULT), show_fault },
	{ "wait", NODE_WAIT, 0444, NULL, DEP(I_TASK_STATE) | DEP(I_FAULT) |
	  DEP(I_VM_STATE), show_wait, .ready = no_task },
	{ "actions", NODE_COLLECTION, 0555, &action_record_kind },
	{ "console", NODE_STREAM, 0444, .stream = console_of },
};

const struct kind instance_kind = {
	.name = "instance",
	.table = "instances",
	.collection = "instances",
	.collection_mode = 01777,
	.mode = S_IFDIR | 0755,
	.scratch = true,
	.fields = fields,
	.nfields = I_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.create = objop_create,
	.remove = action_delete,
	.set_owner = objop_set_owner,
	.release = instance_release,
	.notify = instance_notify,
};

/* --- start-up --- */

static int recover_run(struct txn *t, void *ctx)
{
	struct coll *c = obj_top_coll(&instance_kind);
	struct rpc_error e = { 0 };
	struct obj *o;
	int *n = ctx, rc;

	for (o = c->head; o; o = o->next) {
		enum task_state task = (enum task_state)obj_int(o, I_TASK_STATE);

		if (task != TASK_SCHEDULING && task != TASK_DELETING)
			continue;
		rpc_error_set(&e, -EINTR, "Interrupted",
			      "novafs stopped while %s %s; try again",
			      task == TASK_SCHEDULING ? "scheduling" : "deleting",
			      o->name);
		if ((rc = txn_set_int(t, o, I_TASK_STATE, TASK_NONE)) < 0 ||
		    (rc = instance_stage_fault(t, o, &e)) < 0)
			return rc;
		(*n)++;
	}
	return 0;
}

int instance_recover(void)
{
	int n = 0, rc = store_run(recover_run, &n);

	return rc < 0 ? rc : n;
}

/* --- reports --- */

struct report {
	json_t *args;
	char request[48];
	void (*done)(void *ctx);
	void *ctx;
};

static const char *text_arg(json_t *args, const char *key)
{
	const char *s = json_string_value(json_object_get(args, key));

	return s ? s : "";
}

/* The states of a report, which the contract has checked: only names
 * of the tables (or null for no task) get this far. */
static enum task_state task_arg(json_t *args, const char *key)
{
	enum task_state t = TASK_NONE;

	task_state_parse(json_string_value(json_object_get(args, key)), &t);
	return t;
}

static int report_run(struct txn *t, void *ctx)
{
	struct report *r = ctx;
	const char *uuid = text_arg(r->args, "uuid");
	const char *host = text_arg(r->args, "host");
	json_t *fault = json_object_get(r->args, "fault");
	struct obj *o = obj_by_uuid(uuid);
	enum vm_state vm = VM_ERROR;
	enum power_state power = POWER_NOSTATE;
	enum task_state expected;
	char buf[FAULT_MAX];
	int rc;

	if (!o || o->kind != &instance_kind) {
		log_info("conductor: dropped a report on %s: no such instance", uuid);
		return 0;
	}
	/* Only the host that runs an instance speaks for it; the bus has
	 * checked that host is the sender's (the method's sender rule). */
	if (strcmp(host, obj_text(o, I_HOST)) != 0) {
		log_warn("conductor: refused a report on %s naming host %s: it runs on %s",
			 o->name, host, obj_text(o, I_HOST));
		return 0;
	}
	rc = txn_touch(t, o);
	if (rc < 0)
		return rc;
	expected = task_arg(r->args, "expected_task_state");
	if (obj_int(o, I_TASK_STATE) != expected) {
		log_info("conductor: dropped a stale report on %s (expected task %s, it is %s)",
			 o->name, task_state_name(expected),
			 task_state_name((enum task_state)obj_int(o, I_TASK_STATE)));
		return 0;
	}
	vm_state_parse(text_arg(r->args, "vm_state"), &vm);
	power_state_parse(text_arg(r->args, "power_state"), &power);
	buf[0] = '\0';
	if (json_is_object(fault))
		snprintf(buf, sizeof(buf), "%s: %s", text_arg(fault, "class"),
			 text_arg(fault, "message"));
	txn_set_request(t, r->request);
	if ((rc = txn_set_int(t, o, I_VM_STATE, vm)) < 0 ||
	    (rc = txn_set_int(t, o, I_POWER_STATE, power)) < 0 ||
	    (rc = txn_set_int(t, o, I_TASK_STATE, task_arg(r->args, "task_state"))) < 0 ||
	    (rc = txn_set_text(t, o, I_FAULT, buf)) < 0)
		return rc;
	/* The task ended: so did its action. */
	if (task_arg(r->args, "task_state") == TASK_NONE && expected != TASK_NONE) {
		struct obj *rec = action_record_running(o, r->request[0] ? r->request : NULL);

		if (rec && (rc = action_record_finish(t, rec, !buf[0] && vm != VM_ERROR,
						      buf)) < 0)
			return rc;
	}
	log_info("conductor: %s is %s%s%s", o->name, text_arg(r->args, "vm_state"),
		 buf[0] ? ", fault: " : "", buf);
	return 0;
}

static void report_then(void *ctx, int err)
{
	struct report *r = ctx;

	if (err < 0)
		log_error("conductor: cannot record a report: %s", strerror(-err));
	r->done(r->ctx);
	json_decref(r->args);
	free(r);
}

void instance_report(json_t *args, const char *request,
		     void (*done)(void *ctx), void *ctx)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r) {
		done(ctx);
		return;
	}
	r->args = json_incref(args);
	snprintf(r->request, sizeof(r->request), "%s", request ? request : "");
	r->done = done;
	r->ctx = ctx;
	store_do(report_run, report_then, r);
}
