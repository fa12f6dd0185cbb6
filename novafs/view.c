/*
 * view.c - directories listing other objects by a field (see view.h).
 */
#include "view.h"

#include <errno.h>
#include <string.h>

#include "common/strbuf.h"
#include "node.h"
#include "notify.h"
#include "obj.h"
#include "publish.h"

#define VIEWS_MAX 8

/* Every view of the registered kinds: whose node it is. */
static struct {
	const struct kind *owner;
	unsigned node;
} views[VIEWS_MAX];
static unsigned nviews;

static void show_link(const struct obj *m, struct strbuf *out)
{
	strbuf_addf(out, "../../../%s/%s", m->kind->collection, m->name);
}

const struct node view_link_node = {
	"", NODE_SYMLINK, 0777, NULL, 0, show_link,
};

int view_init(const struct kind *const *kinds)
{
	const struct kind *const *k;
	unsigned i;

	nviews = 0;
	for (k = kinds; *k; k++) {
		for (i = 0; i < (*k)->nnodes; i++) {
			if ((*k)->nodes[i].type != NODE_VIEW)
				continue;
			if (nviews == VIEWS_MAX)
				return -ENOSPC;
			views[nviews].owner = *k;
			views[nviews].node = i;
			nviews++;
		}
	}
	return 0;
}

bool view_entry_name(const struct obj *owner, const struct node *view,
		     const struct obj *m, struct strbuf *out)
{
	strbuf_reset(out);
	if (m->dead || m->kind != view->kind)
		return false;
	if (view->view_name)
		view->view_name(owner, m, out);
	else if (strcmp(obj_text(m, view->view_field), owner->name) == 0)
		strbuf_addstr(out, m->name);
	return out->len > 0;
}

bool view_has(const struct obj *owner, const struct node *view,
	      const struct obj *m)
{
	struct strbuf name = STRBUF_INIT;
	bool listed;

	if (!view->view_name)
		return !m->dead && m->kind == view->kind &&
		       strcmp(obj_text(m, view->view_field), owner->name) == 0;
	listed = view_entry_name(owner, view, m, &name);
	strbuf_release(&name);
	return listed;
}

/* A view with names of its own is searched: it lists few members, and
 * is read far less often than it changes. */
static struct obj *find_named(const struct obj *owner, const struct node *view,
			      const char *name)
{
	struct strbuf entry = STRBUF_INIT;
	struct obj *m;

	for (m = obj_top_coll(view->kind)->head; m; m = m->next)
		if (view_entry_name(owner, view, m, &entry) &&
		    strcmp(entry.buf, name) == 0)
			break;
	strbuf_release(&entry);
	return m;
}

struct obj *view_find(const struct obj *owner, const struct node *view,
		      const char *name)
{
	struct obj *m;

	if (view->view_name)
		return find_named(owner, view, name);
	m = coll_find(obj_top_coll(view->kind), name);
	return m && view_has(owner, view, m) ? m : NULL;
}

/* The kernel's entry for m in the view of the owner called owner_name
 * (if there is such an owner) is stale, and so is the view's listing. */
static void invalidate(unsigned v, const char *owner_name, const struct obj *m)
{
	const struct obj *owner;
	fuse_ino_t dir;

	if (!owner_name[0])
		return;
	owner = coll_find(obj_top_coll(views[v].owner), owner_name);
	if (!owner)
		return;
	dir = node_ino(owner->serial, NODE_SLOT_FIRST + views[v].node);
	notify_inval_inode(dir);
	notify_inval_entry(dir, m->name);
}

/* Every owner's view v changed (its entries are not cached). */
static void invalidate_all(unsigned v)
{
	const struct obj *owner;

	for (owner = obj_top_coll(views[v].owner)->head; owner; owner = owner->next)
		notify_inval_inode(node_ino(owner->serial,
					    NODE_SLOT_FIRST + views[v].node));
}

void view_changed(const struct publish_change *c)
{
	const struct node *n;
	unsigned v, f;

	for (v = 0; v < nviews; v++) {
		n = &views[v].owner->nodes[views[v].node];
		if (c->o->kind != n->kind)
			continue;
		f = n->view_field;
		if (n->view_name) {
			if (c->created || c->deleted || (c->mask & (1ULL << f)))
				invalidate_all(v);
		} else if (c->created || c->deleted) {
			invalidate(v, obj_text(c->o, f), c->o);
		} else if (c->mask & (1ULL << f)) {
			invalidate(v, c->old[f].b ? c->old[f].b->data : "", c->o);
			invalidate(v, obj_text(c->o, f), c->o);
		}
	}
}
