/*
 * action_record.c - the action history kind (see action_record.h).
 *
 * Records are named by a sequence number and the action ("000003-stop"),
 * so that `ls` lists them in the order they happened.
 */
#include "action_record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "actions.h"
#include "conductor.h"
#include "instance.h"
#include "node.h"
#include "obj.h"
#include "publish.h"
#include "store.h"

enum { R_ACTION, R_REQUEST, R_USER, R_START, R_FINISH, R_RESULT, R_MESSAGE,
       R_EVENTS, R_NFIELDS };

/* A record keeps its last events within this many bytes. */
#define EVENTS_MAX 4096

enum { RESULT_RUNNING, RESULT_SUCCESS, RESULT_ERROR };
static const char *const results[] = { "running", "success", "error", NULL };

static const struct field fields[] = {
	[R_ACTION] = { "action", FIELD_TEXT, 0, NULL, 0 },
	[R_REQUEST] = { "request_id", FIELD_TEXT, 0, NULL, 0 },
	[R_USER] = { "user", FIELD_INT, 0, NULL, 0 },
	[R_START] = { "start_time", FIELD_INT, 0, NULL, 0 },
	[R_FINISH] = { "finish_time", FIELD_INT, 0, NULL, 0 },
	[R_RESULT] = { "result", FIELD_ENUM, FIELD_EVENT, results, RESULT_RUNNING },
	[R_MESSAGE] = { "message", FIELD_TEXT, 0, NULL, 0 },
	[R_EVENTS] = { "events", FIELD_TEXT, 0, NULL, 0 },
};

static void add_text(struct strbuf *out, const char *s)
{
	if (s[0])
		strbuf_addf(out, "%s\n", s);
}

static void add_time(struct strbuf *out, int64_t ns)
{
	char buf[CLOCK_ISO_LEN];

	if (!ns)
		return;
	clock_format_iso(ns, buf);
	strbuf_addf(out, "%s\n", buf);
}

static void show_action(const struct obj *o, struct strbuf *out)
{
	add_text(out, obj_text(o, R_ACTION));
}

static void show_request(const struct obj *o, struct strbuf *out)
{
	add_text(out, obj_text(o, R_REQUEST));
}

static void show_events(const struct obj *o, struct strbuf *out)
{
	strbuf_addstr(out, obj_text(o, R_EVENTS));
}

static void show_user(const struct obj *o, struct strbuf *out)
{
	strbuf_addf(out, "%lld\n", (long long)obj_int(o, R_USER));
}

static void show_start(const struct obj *o, struct strbuf *out)
{
	add_time(out, obj_int(o, R_START));
}

static void show_finish(const struct obj *o, struct strbuf *out)
{
	add_time(out, obj_int(o, R_FINISH));
}

static void show_result(const struct obj *o, struct strbuf *out)
{
	add_text(out, results[obj_int(o, R_RESULT)]);
}

static void show_message(const struct obj *o, struct strbuf *out)
{
	add_text(out, obj_text(o, R_MESSAGE));
}

#define DEP(f) (1ULL << (f))

static const struct node nodes[] = {
	{ "action", NODE_ATTR, 0444, NULL, DEP(R_ACTION), show_action },
	{ "request_id", NODE_ATTR, 0444, NULL, DEP(R_REQUEST), show_request },
	{ "user", NODE_ATTR, 0444, NULL, DEP(R_USER), show_user },
	{ "start_time", NODE_ATTR, 0444, NULL, DEP(R_START), show_start },
	{ "finish_time", NODE_ATTR, 0444, NULL, DEP(R_FINISH), show_finish },
	{ "result", NODE_ATTR, 0444, NULL, DEP(R_RESULT), show_result },
	{ "message", NODE_ATTR, 0444, NULL, DEP(R_MESSAGE), show_message },
	{ "events", NODE_ATTR, 0444, NULL, DEP(R_EVENTS), show_events },
};

static void record_send(const struct obj *rec, const char *event,
			const char *phase)
{
	char type[80];
	json_t *payload = instance_payload(rec->coll->owner);

	snprintf(type, sizeof(type), "instance.%s.%s", event, phase);
	if (payload)
		json_object_update_new(payload, json_pack("{s:s, s:s, s:s}",
			"action", obj_text(rec, R_ACTION),
			"request_id", obj_text(rec, R_REQUEST),
			"message", obj_text(rec, R_MESSAGE)));
	conductor_notify(type, payload);
}

/* An action's start and end, as Nova's notifications of it:
 * instance.power_off.start, then instance.power_off.end (or .error). */
static void record_notify(const struct publish_change *c)
{
	const char *event = action_event(obj_text(c->o, R_ACTION));
	int64_t result = obj_int(c->o, R_RESULT);

	if (!event || c->deleted)
		return;
	if (c->created)
		record_send(c->o, event, "start");
	if (result != RESULT_RUNNING && (c->created || (c->mask & DEP(R_RESULT))))
		record_send(c->o, event, result == RESULT_SUCCESS ? "end" : "error");
}

const struct kind action_record_kind = {
	.name = "action",
	.table = "instance_actions",
	.mode = S_IFDIR | 0755,
	.fields = fields,
	.nfields = R_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.notify = record_notify,
};

/* The collection of records of inst: its kind's collection entry. */
static struct coll *records_of(struct obj *inst)
{
	unsigned i;

	for (i = 0; i < inst->kind->nnodes; i++)
		if (inst->kind->nodes[i].kind == &action_record_kind)
			return obj_coll(inst, i);
	return NULL;
}

int action_record_start(struct txn *t, struct obj *inst, const char *action,
			const char *request_id, uid_t uid, struct obj **out)
{
	struct coll *c = records_of(inst);
	char name[OBJ_NAME_MAX + 1];
	struct obj *rec;
	int rc;

	if (!c)
		return -ENOENT;
	snprintf(name, sizeof(name), "%06zu-%s", c->count + 1, action);
	/* The records of an instance are its own: readable by everyone,
	 * like the instance. */
	rc = txn_create(t, c, name, inst->uid, inst->gid, &rec);
	if (rc == -EEXIST) /* a second action in the same batch */
		return -EAGAIN;
	if (rc == 0)
		rc = txn_set_text(t, rec, R_ACTION, action);
	if (rc == 0)
		rc = txn_set_text(t, rec, R_REQUEST, request_id);
	if (rc == 0)
		rc = txn_set_int(t, rec, R_USER, uid);
	if (rc == 0)
		rc = txn_set_int(t, rec, R_START, clock_real_ns());
	if (rc == 0)
		*out = rec;
	return rc;
}

int action_record_finish(struct txn *t, struct obj *rec, bool ok,
			 const char *message)
{
	int rc;

	if (rec->dead || txn_int(t, rec, R_RESULT) != RESULT_RUNNING)
		return 0;
	rc = txn_set_int(t, rec, R_RESULT, ok ? RESULT_SUCCESS : RESULT_ERROR);
	if (rc == 0)
		rc = txn_set_int(t, rec, R_FINISH, clock_real_ns());
	if (rc == 0)
		rc = txn_set_text(t, rec, R_MESSAGE, message);
	return rc;
}

int action_record_event(struct txn *t, struct obj *rec, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	const char *old = obj_text(rec, R_EVENTS), *cut;
	char when[CLOCK_ISO_LEN];
	va_list ap;
	int rc;

	clock_format_iso(clock_real_ns(), when);
	strbuf_addstr(&sb, old);
	strbuf_addf(&sb, "%s ", when);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	/* The oldest lines go first. */
	cut = sb.buf;
	while (sb.len - (size_t)(cut - sb.buf) > EVENTS_MAX && strchr(cut, '\n'))
		cut = strchr(cut, '\n') + 1;
	rc = txn_set_text(t, rec, R_EVENTS, cut);
	strbuf_release(&sb);
	return rc;
}

struct obj *action_record_running(struct obj *inst, const char *request_id)
{
	struct coll *c = records_of(inst);
	struct obj *rec;

	for (rec = c ? c->tail : NULL; rec; rec = rec->prev)
		if (obj_int(rec, R_RESULT) == RESULT_RUNNING &&
		    (!request_id || strcmp(obj_text(rec, R_REQUEST), request_id) == 0))
			return rec;
	return NULL;
}

int64_t action_record_started_ns(const struct obj *rec)
{
	return obj_int(rec, R_START);
}
