/*
 * view.h - directories that list other objects by one of their fields:
 * hosts/NAME/instances/ holds a symlink to every instance whose host is
 * NAME (../../../instances/X), so that `ls -l` of every host's instances/ shows
 * placement at a glance.
 *
 * A view is a node of type NODE_VIEW in its owner's kind: node->kind is
 * the kind of its members, which live in that kind's top-level
 * collection, and node->view_field the member's field that names the
 * owner.  Nothing is stored: a listing walks the members' collection, a
 * lookup finds the member by name and checks the field, so a view is
 * never out of step with what it shows.  A view's owner is a top-level
 * object, so every link is "../../../COLLECTION/NAME".
 *
 * A member's link has inode (member serial, NODE_SLOT_VIEW_LINK): a
 * member is in at most one view per field, as a field holds one name.
 * When that field changes (or the member comes or goes), view_changed()
 * tells the kernel that the old and the new owner's views changed.
 *
 * A view may list its members under names of its own (node->view_name:
 * networks/NAME/allocations/ lists instances by their address there).
 * Its entries are not cached by the kernel, and a change of view_field
 * tells every owner's view that it changed.
 */
#ifndef NOVAFS_VIEW_H
#define NOVAFS_VIEW_H

#include <stdbool.h>

struct kind;
struct node;
struct obj;
struct publish_change;
struct strbuf;

/* The node of a member's link in a view: a symlink. */
extern const struct node view_link_node;

/* Finds the views among kinds' nodes.  0, or -ENOSPC with too many. */
int view_init(const struct kind *const *kinds);

/* Under the read lock: whether m is listed in owner's view (a node of
 * type NODE_VIEW), the name it has there (into out, reset first), and
 * the member called name there, or NULL. */
bool view_has(const struct obj *owner, const struct node *view,
	      const struct obj *m);
bool view_entry_name(const struct obj *owner, const struct node *view,
		     const struct obj *m, struct strbuf *out);
struct obj *view_find(const struct obj *owner, const struct node *view,
		      const char *name);

/* Tells the kernel which views c changed; from publish_changes(). */
void view_changed(const struct publish_change *c);

#endif
