/*
 * group.c - the server group kind (see group.h).
 */
#include "group.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "instance.h"
#include "node.h"
#include "obj.h"
#include "objops.h"
#include "store.h"

#define DEP(f) (1ULL << (f))

static const struct field fields[] = {
	[G_POLICY] = { "policy", FIELD_TEXT, FIELD_EVENT, NULL, 0 },
	[G_FAULT] = { "fault", FIELD_TEXT, 0, NULL, 0 },
};

static void show_line(struct strbuf *out, const char *s)
{
	if (s[0])
		strbuf_addf(out, "%s\n", s);
}

static void show_policy(const struct obj *o, struct strbuf *out)
{
	show_line(out, obj_text(o, G_POLICY));
}

static void show_fault(const struct obj *o, struct strbuf *out)
{
	show_line(out, obj_text(o, G_FAULT));
}

struct obj *group_find(const char *name)
{
	return coll_find(obj_top_coll(&group_kind), name);
}

/* The first member of g that has been placed, or NULL. */
static const struct obj *placed_member(const struct obj *g)
{
	const struct obj *i;

	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next)
		if (strcmp(obj_text(i, I_GROUP), g->name) == 0 &&
		    obj_int(i, I_LAUNCHED))
			return i;
	return NULL;
}

json_t *group_describe(const struct obj *g, const struct obj *inst)
{
	json_t *hosts = json_array();
	const struct obj *i;
	const char *host;
	size_t k;
	bool seen;

	for (i = obj_top_coll(&instance_kind)->head; hosts && i; i = i->next) {
		if (i == inst || strcmp(obj_text(i, I_GROUP), g->name) != 0 ||
		    !obj_int(i, I_LAUNCHED))
			continue;
		host = obj_text(i, I_HOST);
		seen = !host[0];
		for (k = 0; !seen && k < json_array_size(hosts); k++)
			seen = strcmp(json_string_value(json_array_get(hosts, k)),
				      host) == 0;
		if (!seen && json_array_append_new(hosts, json_string(host)) < 0) {
			json_decref(hosts);
			hosts = NULL;
		}
	}
	return hosts ? json_pack("{s:s, s:s, s:o}", "name", g->name, "policy",
				 obj_text(g, G_POLICY), "hosts", hosts) : NULL;
}

/* --- policy --- */

struct group_op {
	struct wreq *w;
	struct obj *g;      /* a reference */
	char value[32];
	bool too_long;
};

static int set_policy_run(struct txn *t, void *ctx)
{
	struct group_op *op = ctx;
	const struct obj *placed;
	struct rpc_error e = { 0 };
	char fault[sizeof(e.cls) + sizeof(e.message) + 2];
	size_t i;
	int rc;

	if (op->g->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->g)) < 0)
		return rc;
	for (i = 0; group_policies[i]; i++)
		if (strcmp(group_policies[i], op->value) == 0)
			break;
	placed = placed_member(op->g);
	if (op->value[0] && (op->too_long || !group_policies[i]))
		rpc_error_set(&e, -EINVAL, "InvalidInput",
			      "unknown policy \"%s%s\" (policies: affinity, anti-affinity)",
			      op->value, op->too_long ? "..." : "");
	else if (placed && strcmp(op->value, obj_text(op->g, G_POLICY)) != 0)
		rpc_error_set(&e, -EBUSY, "InstanceGroupPolicyFixed",
			      "cannot change the policy of %s: its member %s has been placed",
			      op->g->name, placed->name);
	if (e.err) {
		snprintf(fault, sizeof(fault), "%s: %s", e.cls, e.message);
		log_warn("group %s: %s", op->g->name, fault);
		rc = txn_set_text(t, op->g, G_FAULT, fault);
		return rc < 0 ? rc : e.err;
	}
	if ((rc = txn_set_text(t, op->g, G_POLICY, op->value)) < 0 ||
	    (rc = txn_set_text(t, op->g, G_FAULT, "")) < 0)
		return rc;
	return 0;
}

static void group_op_then(void *ctx, int err)
{
	struct group_op *op = ctx;

	wreq_done(op->w, err);
	obj_put(op->g);
	free(op);
}

static void store_policy(struct obj *g, const char *buf, size_t len,
			 struct wreq *w)
{
	struct group_op *op = calloc(1, sizeof(*op));

	if (!op) {
		wreq_done(w, -ENOMEM);
		return;
	}
	text_trim(&buf, &len);
	op->w = w;
	op->g = g;
	obj_get(g);
	op->too_long = len >= sizeof(op->value);
	snprintf(op->value, sizeof(op->value), "%.*s", (int)len, buf);
	store_do(set_policy_run, group_op_then, op);
}

/* --- rmdir --- */

static int remove_run(struct txn *t, void *ctx)
{
	struct group_op *op = ctx;
	const struct obj *i;
	char fault[512];
	int rc;

	if (op->g->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->g)) < 0)
		return rc;
	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next) {
		if (strcmp(obj_text(i, I_GROUP), op->g->name) != 0)
			continue;
		snprintf(fault, sizeof(fault),
			 "InstanceGroupInUse: group %s has member %s", op->g->name,
			 i->name);
		log_warn("group %s: %s", op->g->name, fault);
		rc = txn_set_text(t, op->g, G_FAULT, fault);
		return rc < 0 ? rc : -EBUSY;
	}
	return txn_delete(t, op->g);
}

static void group_remove(struct obj *g, struct wreq *w)
{
	struct group_op *op = calloc(1, sizeof(*op));

	if (!op) {
		wreq_done(w, -ENOMEM);
		return;
	}
	op->w = w;
	op->g = g;
	obj_get(g);
	store_do(remove_run, group_op_then, op);
}

static const struct node nodes[] = {
	{ "policy", NODE_ATTR, 0644, NULL, DEP(G_POLICY), show_policy, store_policy },
	{ "fault", NODE_ATTR, 0444, NULL, DEP(G_FAULT), show_fault },
	{ "members", NODE_VIEW, 0755, &instance_kind, .view_field = I_GROUP },
};

const struct kind group_kind = {
	.name = "group",
	.table = "groups",
	.collection = "groups",
	.collection_mode = 01777,
	.mode = S_IFDIR | 0755,
	.fields = fields,
	.nfields = G_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.create = objop_create,
	.remove = group_remove,
	.set_owner = objop_set_owner,
};
