/*
 * publish.c - what follows a committed batch (see publish.h): kernel
 * invalidations, waiters, notifications, events.
 */
#include "publish.h"

#include "events.h"
#include "node.h"
#include "notify.h"
#include "obj.h"
#include "view.h"

/* The inode of the directory that lists o. */
static fuse_ino_t parent_ino(const struct obj *o)
{
	const struct coll *c = o->coll;

	if (c == c->owner->scratch)
		return node_ino(c->owner->serial, NODE_SLOT_SELF);
	return node_ino(c->owner->serial, NODE_SLOT_FIRST + c->node);
}

/* Every file of an object shows its owner and its last change time, so
 * any change makes every cached attribute of it stale. */
static void invalidate(const struct publish_change *c)
{
	const struct obj *o = c->o;
	unsigned i;

	if (c->created || c->deleted) {
		/* The listing's size, link count and times. */
		notify_inval_inode(parent_ino(o));
		if (c->deleted)
			notify_delete(parent_ino(o), node_ino(o->serial, NODE_SLOT_SELF),
				      o->name);
		return;
	}
	notify_inval_inode(node_ino(o->serial, NODE_SLOT_SELF));
	if (!o->looked_up)
		return; /* the kernel holds none of its entries */
	for (i = 0; i < o->kind->nnodes; i++)
		notify_inval_inode(node_ino(o->serial, NODE_SLOT_FIRST + i));
}

void publish_changes(const struct publish_change *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		invalidate(&c[i]);
		view_changed(&c[i]);
		notify_object_changed(c[i].o, c[i].mask, c[i].deleted);
		if (c[i].o->kind->notify)
			c[i].o->kind->notify(&c[i]);
	}
	events_record(c, n);
}
