/*
 * instance.c - the instance kind (see instance.h): its fields, its
 * directory, its flavor file and the reports compute hosts send.  What
 * ctl and rmdir do is actions.c; what target_state asks, reconcile.c.
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
#include "group.h"
#include "host.h"
#include "image.h"
#include "network.h"
#include "node.h"
#include "obj.h"
#include "objops.h"
#include "conductor.h"
#include "publish.h"
#include "reconcile.h"
#include "spec.h"
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
	[I_GROUP] = { "server_group", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_HOST_FORCED] = { "host_forced", FIELD_INT, 0, NULL, 0 },
	[I_TRIED] = { "tried_hosts", FIELD_TEXT, 0, NULL, 0 },
	[I_EVACUATED_FROM] = { "evacuated_from", FIELD_TEXT, 0, NULL, 0 },
	[I_NETWORK_RAW] = { "network_raw", FIELD_BYTES, 0, NULL, 0 },
	[I_NETWORKS] = { "networks", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_IPS] = { "fixed_ips", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_MACS] = { "macs", FIELD_TEXT, 0, NULL, 0 },
	[I_TARGET_RAW] = { "target_state_raw", FIELD_BYTES, 0, NULL, 0 },
	[I_TARGET] = { "target_state", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[I_SPEC_RAW] = { "spec_raw", FIELD_BYTES, 0, NULL, 0 },
	[I_IMAGE_RAW] = { "image_raw", FIELD_BYTES, 0, NULL, 0 },
	[I_IMAGE] = { "image", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
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

/* --- files written before the first start: flavor, host, group,
 * network; and spec, all of them at once --- */

/* value (vlen bytes) as the name of an existing object, which find
 * looks up, appended to canon (nothing for an empty value, which
 * unsets); else -EINVAL with e: class cls, "WHAT \"value\" does not
 * exist (see WHERE)". */
static int existing_name(const char *value, size_t vlen, struct strbuf *canon,
			 struct obj *(*find)(const char *), const char *cls,
			 const char *what, const char *where, struct rpc_error *e)
{
	char name[OBJ_NAME_MAX + 1];

	if (!vlen)
		return 0;
	if (vlen <= OBJ_NAME_MAX && !memchr(value, '\n', vlen)) {
		snprintf(name, sizeof(name), "%.*s", (int)vlen, value);
		if (find(name)) {
			strbuf_addstr(canon, name);
			return 0;
		}
	}
	return rpc_error_set(e, -EINVAL, cls, "%s \"%.*s\" does not exist (see %s)",
			     what, (int)(vlen > 64 ? 64 : vlen), value, where);
}

static int check_flavor(const char *value, size_t vlen, struct strbuf *canon,
			struct rpc_error *e)
{
	return existing_name(value, vlen, canon, flavor_find, "FlavorNotFound",
			     "flavor", "flavors/", e);
}

static int check_image(const char *value, size_t vlen, struct strbuf *canon,
		       struct rpc_error *e)
{
	return existing_name(value, vlen, canon, image_find, "ImageNotFound",
			     "image", "images/", e);
}

static int check_host(const char *value, size_t vlen, struct strbuf *canon,
		      struct rpc_error *e)
{
	return existing_name(value, vlen, canon, host_find, "ComputeHostNotFound",
			     "host", "hosts/", e);
}

static int check_group(const char *value, size_t vlen, struct strbuf *canon,
		       struct rpc_error *e)
{
	return existing_name(value, vlen, canon, group_find,
			     "InstanceGroupNotFound", "group", "groups/", e);
}

/* The networks, one name a line: each an existing network, at most
 * once, at most RPC_MAX_NICS; blank lines ignored, none for no NIC. */
static int check_networks(const char *value, size_t vlen, struct strbuf *canon,
			  struct rpc_error *e)
{
	struct strbuf name = STRBUF_INIT;
	const char *end = value + vlen, *line;
	size_t n, count = 0;
	int rc = 0;

	while (rc == 0 && text_next_line(&value, end, &line, &n)) {
		strbuf_reset(&name);
		if ((rc = existing_name(line, n, &name, network_find,
					"NetworkNotFound", "network", "networks/",
					e)) < 0)
			break;
		if (text_line_index(canon->buf, name.buf) >= 0)
			rc = rpc_error_set(e, -EINVAL, "InvalidInput",
					   "network %s is named twice (one NIC "
					   "per network)", name.buf);
		else if (++count > RPC_MAX_NICS)
			rc = rpc_error_set(e, -EINVAL, "InvalidInput",
					   "at most %d networks", RPC_MAX_NICS);
		else
			strbuf_addf(canon, "%s%s", canon->len ? "\n" : "", name.buf);
	}
	strbuf_release(&name);
	return rc;
}

static int stage_flavor(struct txn *t, struct obj *o, const char *raw,
			size_t len, const char *canon)
{
	int rc = txn_set_bytes(t, o, I_FLAVOR_RAW, raw, len);

	return rc < 0 ? rc : txn_set_text(t, o, I_FLAVOR, canon);
}

static int stage_image(struct txn *t, struct obj *o, const char *raw,
		       size_t len, const char *canon)
{
	int rc = txn_set_bytes(t, o, I_IMAGE_RAW, raw, len);

	return rc < 0 ? rc : txn_set_text(t, o, I_IMAGE, canon);
}

/* A forced host: the scheduler may place the instance there only. */
static int stage_host(struct txn *t, struct obj *o, const char *raw,
		      size_t len, const char *canon)
{
	int rc = txn_set_text(t, o, I_HOST, canon);

	return rc < 0 ? rc : txn_set_int(t, o, I_HOST_FORCED, canon[0] != '\0');
}

static int stage_group(struct txn *t, struct obj *o, const char *raw,
		       size_t len, const char *canon)
{
	return txn_set_text(t, o, I_GROUP, canon);
}

static int stage_networks(struct txn *t, struct obj *o, const char *raw,
			  size_t len, const char *canon)
{
	int rc = txn_set_bytes(t, o, I_NETWORK_RAW, raw, len);

	if (rc == 0)
		rc = txn_set_text(t, o, I_NETWORKS, canon);
	/* Addresses from a first start that failed were for the networks
	 * named then: the next start asks again, and novafs-network keeps
	 * those of the networks still named and drops the others. */
	if (rc == 0 && strcmp(canon, obj_text(o, I_NETWORKS)) != 0 &&
	    (rc = txn_set_text(t, o, I_IPS, "")) == 0)
		rc = txn_set_text(t, o, I_MACS, "");
	return rc;
}

/* A file of desired state written before the first start: how a value
 * is checked (and put in the canonical form its field keeps), and how it
 * is staged, apart, so that a spec checks every value before it stages
 * any. */
struct desired {
	const char *what;       /* the file's name: "flavor" */
	unsigned field;         /* the canonical value in force, as text */
	int (*check)(const char *value, size_t vlen, struct strbuf *canon,
		     struct rpc_error *e);
	int (*stage)(struct txn *t, struct obj *o, const char *raw, size_t len,
		     const char *canon);
};

static const struct desired desired_flavor = {
	"flavor", I_FLAVOR, check_flavor, stage_flavor,
};
static const struct desired desired_image = {
	"image", I_IMAGE, check_image, stage_image,
};
static const struct desired desired_host = {
	"host", I_HOST, check_host, stage_host,
};
static const struct desired desired_group = {
	"group", I_GROUP, check_group, stage_group,
};
static const struct desired desired_network = {
	"network", I_NETWORKS, check_networks, stage_networks,
};

/* The canonical value of d in force on o: a host only when forced. */
static const char *desired_now(const struct obj *o, const struct desired *d)
{
	if (d == &desired_host && !obj_int(o, I_HOST_FORCED))
		return "";
	return obj_text(o, d->field);
}

/* 0 when o's d may become canon now, else -EBUSY with e: once started,
 * its flavor changes by resize and its host and group are the
 * scheduler's; not while a task runs. */
static int desired_may_change(const struct obj *o, const struct desired *d,
			      struct rpc_error *e)
{
	if (obj_int(o, I_LAUNCHED))
		return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				     "cannot change the %s of %s: it has been started",
				     d->what, o->name);
	if (obj_int(o, I_TASK_STATE) != TASK_NONE)
		return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				     "cannot change the %s of %s while it is %s",
				     d->what, o->name,
				     task_state_name((enum task_state)obj_int(o, I_TASK_STATE)));
	return 0;
}

/* A write of one of an instance's desired files, as an op: the bytes
 * written (the op's copy) and what to apply them with. */
struct value_op {
	struct wreq *w;
	struct obj *o;          /* a reference */
	char *raw;
	size_t len;
	const struct desired *d; /* set_attr_run's file; NULL for the others */
};

static void value_op_then(void *ctx, int err)
{
	struct value_op *op = ctx;

	wreq_done(op->w, err);
	obj_put(op->o);
	free(op->raw);
	free(op);
}

/* Runs run(t, op) on the committer for len bytes of buf written to o's
 * file (d: its desired file, or NULL), then completes w. */
static void value_op_submit(struct obj *o, const char *buf, size_t len,
			    struct wreq *w, const struct desired *d,
			    int (*run)(struct txn *t, void *ctx))
{
	struct value_op *op = calloc(1, sizeof(*op));

	if (!op || !(op->raw = malloc(len ? len : 1))) {
		free(op);
		wreq_done(w, -ENOMEM);
		return;
	}
	memcpy(op->raw, buf, len);
	op->len = len;
	op->w = w;
	op->o = o;
	op->d = d;
	obj_get(o);
	store_do(run, value_op_then, op);
}

static int set_attr_run(struct txn *t, void *ctx)
{
	struct value_op *op = ctx;
	struct strbuf canon = STRBUF_INIT;
	struct rpc_error e = { 0 };
	const char *value = op->raw;
	size_t vlen = op->len;
	int rc;

	if (op->o->dead)
		return -ENOENT;
	rc = txn_touch(t, op->o);
	if (rc < 0)
		return rc;
	/* Surrounding blanks are not part of a value; the bytes are kept
	 * as written. */
	text_trim(&value, &vlen);
	rc = op->d->check(value, vlen, &canon, &e);
	if (rc == 0 && strcmp(canon.buf, desired_now(op->o, op->d)) == 0 &&
	    desired_may_change(op->o, op->d, NULL) < 0)
		goto out; /* what it already is: a config tool's second run */
	if (rc == 0)
		rc = desired_may_change(op->o, op->d, &e);
	if (rc == 0)
		rc = op->d->stage(t, op->o, op->raw, op->len, canon.buf);
	if (rc == 0)
		rc = txn_set_text(t, op->o, I_FAULT, "");
	else if (e.err)
		instance_stage_fault(t, op->o, &e);
out:
	strbuf_release(&canon);
	return rc;
}

static void set_attr(struct obj *o, const char *buf, size_t len,
		     struct wreq *w, const struct desired *d)
{
	value_op_submit(o, buf, len, w, d, set_attr_run);
}

static void store_flavor(struct obj *o, const char *buf, size_t len,
			 struct wreq *w)
{
	set_attr(o, buf, len, w, &desired_flavor);
}

static void store_image(struct obj *o, const char *buf, size_t len,
			struct wreq *w)
{
	set_attr(o, buf, len, w, &desired_image);
}

static void show_image(const struct obj *o, struct strbuf *out)
{
	strbuf_add(out, obj_text(o, I_IMAGE_RAW), obj_len(o, I_IMAGE_RAW));
}

static void store_host(struct obj *o, const char *buf, size_t len,
		       struct wreq *w)
{
	set_attr(o, buf, len, w, &desired_host);
}

static void store_group(struct obj *o, const char *buf, size_t len,
			struct wreq *w)
{
	set_attr(o, buf, len, w, &desired_group);
}

static void show_group(const struct obj *o, struct strbuf *out)
{
	add_line(out, obj_text(o, I_GROUP));
}

/* --- spec (spec.h): every desired file in one, all or nothing --- */

/* What key target_state of s asks for: its state's name, "" for none
 * or an absent key; NULL when it names no state. */
static const char *spec_target(const struct spec *s)
{
	const char *name;

	if (!s->set[SPEC_TARGET_STATE])
		return "";
	return reconcile_target_parse(s->value[SPEC_TARGET_STATE],
				      strlen(s->value[SPEC_TARGET_STATE]), &name,
				      NULL) == 0 ? name : NULL;
}

static const char *spec_target_now(const struct obj *o)
{
	return obj_text(o, I_TARGET);
}

static bool spec_target_in_force(const struct obj *o, const struct spec *s)
{
	const char *want = spec_target(s);

	return want && strcmp(want, spec_target_now(o)) == 0;
}

/* 0 when s's target_state names a state (or none), else -EINVAL with e
 * naming the line. */
static int spec_check_target(const struct spec *s, struct rpc_error *e)
{
	struct rpc_error why = { 0 };
	const char *name;
	int rc;

	if (!s->set[SPEC_TARGET_STATE])
		return 0;
	rc = reconcile_target_parse(s->value[SPEC_TARGET_STATE],
				    strlen(s->value[SPEC_TARGET_STATE]), &name, &why);
	return rc < 0 ? rpc_error_set(e, rc, why.cls, "spec line %u: %s",
				      s->line[SPEC_TARGET_STATE], why.message) : 0;
}

/* Stages s's target on o when it differs, its file reading "NAME\n". */
static int spec_stage_target(struct txn *t, struct obj *o, const struct spec *s)
{
	const char *want = spec_target(s);
	char raw[32];
	int rc;

	if (!want || strcmp(want, spec_target_now(o)) == 0)
		return 0;
	snprintf(raw, sizeof(raw), "%s%s", want, want[0] ? "\n" : "");
	if ((rc = txn_set_bytes(t, o, I_TARGET_RAW, raw, strlen(raw))) < 0)
		return rc;
	return txn_set_text(t, o, I_TARGET, want);
}

/* The desired file of each spec key that is one (not target_state). */
static const struct desired *const spec_desired[SPEC_NKEYS] = {
	[SPEC_FLAVOR] = &desired_flavor,
	[SPEC_IMAGE] = &desired_image,
	[SPEC_NETWORK] = &desired_network,
	[SPEC_GROUP] = &desired_group,
	[SPEC_HOST] = &desired_host,
};

/* What key k of s asks for, as its file would be written (a network a
 * line): the value, or the default of an absent key (network: default;
 * the others: none). */
static void spec_wanted(const struct spec *s, enum spec_key k, struct strbuf *out)
{
	const char *v = s->set[k] ? s->value[k] : k == SPEC_NETWORK ? "default" : "";
	size_t n;

	if (k != SPEC_NETWORK) {
		strbuf_addstr(out, v);
		return;
	}
	/* Blank-separated in a spec, one a line in the file. */
	while (*v) {
		n = strcspn(v, " \t");
		if (n)
			strbuf_addf(out, "%s%.*s", out->len ? "\n" : "", (int)n, v);
		v += n + (v[n] != '\0');
	}
}

/* Whether every key of s agrees with what o has now. */
static bool spec_in_force(const struct obj *o, const struct spec *s)
{
	struct strbuf want = STRBUF_INIT;
	bool same = true;
	unsigned k;

	for (k = 0; same && k < SPEC_NKEYS; k++) {
		if (!spec_desired[k])
			continue;
		strbuf_reset(&want);
		spec_wanted(s, (enum spec_key)k, &want);
		same = strcmp(want.buf, desired_now(o, spec_desired[k])) == 0;
	}
	strbuf_release(&want);
	return same && spec_target_in_force(o, s);
}

/* Checks every value of op's spec against o (each as its file would),
 * then stages every change, or none: a refusal names the spec's line
 * and changes nothing but the fault. */
static int spec_run(struct txn *t, void *ctx)
{
	struct value_op *op = ctx;
	struct strbuf want = STRBUF_INIT, canon[SPEC_NKEYS], raw = STRBUF_INIT;
	struct rpc_error e = { 0 }, why = { 0 };
	struct spec spec;
	const struct desired *d;
	bool change[SPEC_NKEYS] = { false };
	unsigned k;
	int rc;

	if (op->o->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->o)) < 0)
		return rc;
	for (k = 0; k < SPEC_NKEYS; k++)
		strbuf_init(&canon[k], 0);
	rc = spec_parse(op->raw, op->len, &spec, &e);
	for (k = 0; rc == 0 && k < SPEC_NKEYS; k++) {
		if (!(d = spec_desired[k]))
			continue;
		strbuf_reset(&want);
		spec_wanted(&spec, (enum spec_key)k, &want);
		rc = d->check(want.buf, want.len, &canon[k], &why);
		if (rc == 0 && strcmp(canon[k].buf, desired_now(op->o, d)) != 0 &&
		    (rc = desired_may_change(op->o, d, &why)) == 0)
			change[k] = true;
		if (rc < 0 && spec.set[k])
			rpc_error_set(&e, rc, why.cls, "spec line %u: %s",
				      spec.line[k], why.message);
		else if (rc < 0)
			rpc_error_set(&e, rc, why.cls, "spec (no %s line): %s",
				      spec_keys[k], why.message);
	}
	if (rc == 0)
		rc = spec_check_target(&spec, &e);
	for (k = 0; rc == 0 && k < SPEC_NKEYS; k++) {
		if (!change[k])
			continue;
		/* Each file reads as if written alone: a value a line. */
		strbuf_reset(&raw);
		if (canon[k].len)
			strbuf_addf(&raw, "%s\n", canon[k].buf);
		rc = spec_desired[k]->stage(t, op->o, raw.buf, raw.len, canon[k].buf);
	}
	if (rc == 0)
		rc = spec_stage_target(t, op->o, &spec);
	if (rc == 0 && (rc = txn_set_bytes(t, op->o, I_SPEC_RAW, op->raw, op->len)) == 0)
		rc = txn_set_text(t, op->o, I_FAULT, "");
	else if (e.err)
		instance_stage_fault(t, op->o, &e);
	for (k = 0; k < SPEC_NKEYS; k++)
		strbuf_release(&canon[k]);
	strbuf_release(&want);
	strbuf_release(&raw);
	return rc;
}

static void store_spec(struct obj *o, const char *buf, size_t len,
		       struct wreq *w)
{
	value_op_submit(o, buf, len, w, NULL, spec_run);
}

/* spec: the bytes written, while every attribute still agrees with them;
 * else (a single file was written since, or none was ever) the spec of
 * what o has now, in canonical form. */
static void show_spec(const struct obj *o, struct strbuf *out)
{
	struct spec *s = calloc(1, sizeof(*s));
	const struct desired *d;
	size_t start, i;
	const char *v;
	unsigned k;

	if (s && spec_parse(obj_text(o, I_SPEC_RAW), obj_len(o, I_SPEC_RAW), s,
			    NULL) == 0 && obj_len(o, I_SPEC_RAW) &&
	    spec_in_force(o, s)) {
		strbuf_add(out, obj_text(o, I_SPEC_RAW), obj_len(o, I_SPEC_RAW));
		free(s);
		return;
	}
	free(s);
	for (k = 0; k < SPEC_NKEYS; k++) {
		d = spec_desired[k];
		v = d ? desired_now(o, d) : spec_target_now(o);
		if (!v[0] && k != SPEC_NETWORK)
			continue;
		strbuf_addf(out, "%s =%s", spec_keys[k], v[0] ? " " : "");
		start = out->len;
		strbuf_addstr(out, v);
		for (i = start; i < out->len; i++)
			if (out->buf[i] == '\n')
				out->buf[i] = ' ';
		strbuf_addch(out, '\n');
	}
}

static void store_network(struct obj *o, const char *buf, size_t len,
			  struct wreq *w)
{
	set_attr(o, buf, len, w, &desired_network);
}

static void show_network(const struct obj *o, struct strbuf *out)
{
	strbuf_add(out, obj_text(o, I_NETWORK_RAW), obj_len(o, I_NETWORK_RAW));
}

static void show_ip(const struct obj *o, struct strbuf *out)
{
	add_line(out, obj_text(o, I_IPS));
}

static void show_mac(const struct obj *o, struct strbuf *out)
{
	add_line(out, obj_text(o, I_MACS));
}

/* A new instance has a NIC on the network `default`, so that a first
 * start needs no network step. */
static int instance_init(struct txn *t, struct obj *o)
{
	static const char def[] = "default";
	char raw[sizeof(def) + 1];
	int rc;

	snprintf(raw, sizeof(raw), "%s\n", def);
	if ((rc = txn_set_bytes(t, o, I_NETWORK_RAW, raw, strlen(raw))) < 0)
		return rc;
	return txn_set_text(t, o, I_NETWORKS, def);
}

static void store_ctl(struct obj *o, const char *buf, size_t len,
		      struct wreq *w)
{
	action_command(o, buf, len, w);
}

static void show_ctl(const struct obj *o, struct strbuf *out)
{
	action_list_allowed(o, out);
}

/* --- target_state --- */

/* Writable at any time; the same target again changes nothing (a config
 * tool's second run), a new one clears the fault. */
static int set_target_run(struct txn *t, void *ctx)
{
	struct value_op *op = ctx;
	struct rpc_error e = { 0 };
	const char *name;
	int rc;

	if (op->o->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->o)) < 0)
		return rc;
	if ((rc = reconcile_target_parse(op->raw, op->len, &name, &e)) < 0) {
		instance_stage_fault(t, op->o, &e);
		return rc;
	}
	if ((rc = txn_set_bytes(t, op->o, I_TARGET_RAW, op->raw, op->len)) < 0 ||
	    strcmp(name, obj_text(op->o, I_TARGET)) == 0)
		return rc;
	log_info("%s: target_state %s", op->o->name, name[0] ? name : "none");
	if ((rc = txn_set_text(t, op->o, I_TARGET, name)) < 0)
		return rc;
	return txn_set_text(t, op->o, I_FAULT, "");
}

static void store_target(struct obj *o, const char *buf, size_t len,
			 struct wreq *w)
{
	value_op_submit(o, buf, len, w, NULL, set_target_run);
}

static void show_target(const struct obj *o, struct strbuf *out)
{
	strbuf_add(out, obj_text(o, I_TARGET_RAW), obj_len(o, I_TARGET_RAW));
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
	{ "ctl", NODE_COMMAND, 0644, NULL, DEP(I_VM_STATE) | DEP(I_TASK_STATE) |
	  DEP(I_LAUNCHED) | DEP(I_TARGET), show_ctl, store_ctl },
	{ "state", NODE_ATTR, 0444, NULL, DEP(I_VM_STATE), show_state },
	{ "task", NODE_ATTR, 0444, NULL, DEP(I_TASK_STATE), show_task },
	{ "power_state", NODE_ATTR, 0444, NULL, DEP(I_POWER_STATE), show_power },
	{ "host", NODE_ATTR, 0644, NULL, DEP(I_HOST), show_host, store_host },
	{ "group", NODE_ATTR, 0644, NULL, DEP(I_GROUP), show_group, store_group },
	{ "network", NODE_ATTR, 0644, NULL, DEP(I_NETWORK_RAW), show_network,
	  store_network },
	{ "ip", NODE_ATTR, 0444, NULL, DEP(I_IPS), show_ip },
	{ "mac", NODE_ATTR, 0444, NULL, DEP(I_MACS), show_mac },
	{ "spec", NODE_ATTR, 0644, NULL, DEP(I_SPEC_RAW) | DEP(I_FLAVOR) |
	  DEP(I_NETWORKS) | DEP(I_GROUP) | DEP(I_HOST) | DEP(I_HOST_FORCED) |
	  DEP(I_TARGET) | DEP(I_IMAGE), show_spec, store_spec, .whole = true },
	{ "flavor", NODE_ATTR, 0644, NULL, DEP(I_FLAVOR_RAW), show_flavor,
	  store_flavor },
	{ "image", NODE_ATTR, 0644, NULL, DEP(I_IMAGE_RAW), show_image,
	  store_image },
	{ "target_state", NODE_ATTR, 0644, NULL, DEP(I_TARGET_RAW), show_target,
	  store_target },
	{ "id", NODE_ATTR, 0444, NULL, 0, show_id },
	{ "fault", NODE_ATTR, 0444, NULL, DEP(I_FAULT), show_fault },
	{ "wait", NODE_WAIT, 0444, NULL, DEP(I_TASK_STATE) | DEP(I_FAULT) |
	  DEP(I_VM_STATE), show_wait, .ready = no_task },
	{ "actions", NODE_COLLECTION, 0755, &action_record_kind },
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
	.init = instance_init,
	.published = reconcile_published,
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
	struct obj *resched;       /* to reschedule once committed (a ref) */
	char refused_by[64];       /* a host whose claim failed for good */
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

/* How many hosts a blank-separated list names. */
static int count_words(const char *list)
{
	int n = 0;

	for (; *list; list++)
		n += *list != ' ' && (list[1] == ' ' || !list[1]);
	return n;
}

/*
 * host refused a first start: its claim did not fit (the scheduler's
 * view was behind).  The instance goes back to scheduling, avoiding the
 * hosts that refused it, unless it has tried max_attempts hosts or its
 * host was forced: then it is in error, and the host's claim is given
 * back.  Each refusal is an event of the start's action record.
 */
static int refused_claim(struct txn *t, struct report *r, struct obj *o,
			 const char *host, const char *fault)
{
	int tries = count_words(obj_text(o, I_TRIED)) + 1;
	struct obj *rec = action_record_running(o, r->request[0] ? r->request : NULL);
	bool again = tries < action_max_attempts && !obj_int(o, I_HOST_FORCED);
	char tried[1024], why[FAULT_MAX + 64];
	int rc;

	snprintf(tried, sizeof(tried), "%s%s%s", obj_text(o, I_TRIED),
		 obj_len(o, I_TRIED) ? " " : "", host);
	snprintf(why, sizeof(why), "%s (host %d of at most %d)", fault, tries,
		 action_max_attempts);
	if (rec && (rc = action_record_event(t, rec, "%s refused it: %s%s", host,
					     fault, again ? "; rescheduling" : "")) < 0)
		return rc;
	if ((rc = txn_set_text(t, o, I_TRIED, tried)) < 0 ||
	    (rc = txn_set_text(t, o, I_FAULT, why)) < 0)
		return rc;
	if (!again) {
		/* Not placed after all: the next start is a first start,
		 * through the scheduler again. */
		if ((rc = txn_set_int(t, o, I_VM_STATE, VM_ERROR)) < 0 ||
		    (rc = txn_set_int(t, o, I_TASK_STATE, TASK_NONE)) < 0 ||
		    (rc = txn_set_int(t, o, I_LAUNCHED, 0)) < 0 ||
		    (!obj_int(o, I_HOST_FORCED) &&
		     (rc = txn_set_text(t, o, I_HOST, "")) < 0) ||
		    (rec && (rc = action_record_finish(t, rec, false, why)) < 0))
			return rc;
		snprintf(r->refused_by, sizeof(r->refused_by), "%s", host);
		log_warn("conductor: %s: %s", o->name, why);
		return 0;
	}
	if ((rc = txn_set_text(t, o, I_HOST, "")) < 0 ||
	    (rc = txn_set_int(t, o, I_LAUNCHED, 0)) < 0 ||
	    (rc = txn_set_int(t, o, I_TASK_STATE, TASK_SCHEDULING)) < 0)
		return rc;
	log_info("conductor: %s: %s; rescheduling", o->name, why);
	obj_get(o);
	r->resched = o;
	return 0;
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
	if (expected == TASK_SPAWNING && vm == VM_ERROR && json_is_object(fault) &&
	    strcmp(text_arg(fault, "class"), "ComputeResourcesUnavailable") == 0)
		return refused_claim(t, r, o, host, buf);
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
	struct obj *o;

	if (err < 0)
		log_error("conductor: cannot record a report: %s", strerror(-err));
	else if (r->resched)
		action_reschedule(r->resched, r->request);
	else if (r->refused_by[0] && (o = obj_by_uuid(text_arg(r->args, "uuid"))))
		action_release_claim(o, r->refused_by, r->request);
	obj_put(r->resched);
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
