/*
 * objops.c - generic create, remove and chown (see objops.h).
 */
#include "objops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "node.h"
#include "obj.h"
#include "store.h"

struct objop {
	struct wreq *w;
	struct coll *c;
	struct obj *o;              /* a reference */
	char name[OBJ_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	char uuid[UUID_STR_LEN];    /* create: what it got */
};

static struct objop *objop_new(struct wreq *w)
{
	struct objop *op = calloc(1, sizeof(*op));

	if (!op)
		wreq_done(w, -ENOMEM);
	else
		op->w = w;
	return op;
}

static void objop_then(void *ctx, int err)
{
	struct objop *op = ctx;

	wreq_done(op->w, err);
	obj_put(op->o);
	free(op);
}

static int create_run(struct txn *t, void *ctx)
{
	struct objop *op = ctx;
	struct obj *o;
	int rc;

	if (op->c->owner->dead)
		return -ENOENT;
	rc = txn_create(t, op->c, op->name, op->uid, op->gid, &o);
	if (rc == 0 && op->c->kind->init)
		rc = op->c->kind->init(t, o);
	if (rc == 0) {
		snprintf(op->uuid, sizeof(op->uuid), "%s", o->uuid);
		log_info("%s %s: created as %s by uid %u", op->c->kind->name,
			 op->name, o->uuid, (unsigned)op->uid);
	}
	return rc;
}

void objop_create(struct coll *c, const char *name, struct wreq *w)
{
	struct objop *op = objop_new(w);

	if (!op)
		return;
	op->c = c;
	op->uid = w->uid;
	op->gid = w->gid;
	snprintf(op->name, sizeof(op->name), "%s", name);
	store_do(create_run, objop_then, op);
}

static int remove_run(struct txn *t, void *ctx)
{
	struct objop *op = ctx;
	int rc;

	if (op->o->dead)
		return -ENOENT;
	rc = txn_delete(t, op->o);
	if (rc == 0)
		log_info("%s %s: deleted", op->o->kind->name, op->o->name);
	return rc;
}

void objop_remove(struct obj *o, struct wreq *w)
{
	struct objop *op = objop_new(w);

	if (!op)
		return;
	op->o = o;
	obj_get(o);
	store_do(remove_run, objop_then, op);
}

static int owner_run(struct txn *t, void *ctx)
{
	struct objop *op = ctx;

	if (op->o->dead)
		return -ENOENT;
	return txn_set_owner(t, op->o, op->uid, op->gid);
}

void objop_set_owner(struct obj *o, uid_t uid, gid_t gid, struct wreq *w)
{
	struct objop *op = objop_new(w);

	if (!op)
		return;
	op->o = o;
	obj_get(o);
	op->uid = uid;
	op->gid = gid;
	store_do(owner_run, objop_then, op);
}
