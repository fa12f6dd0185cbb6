/*
 * objops.h - the directory operations most kinds need, as store ops:
 * mkdir creates an object owned by the caller, rmdir deletes it, chown
 * gives it away.  A kind that needs more (an instance's rmdir destroys its
 * domain first) wraps or replaces these.
 */
#ifndef NOVAFS_OBJOPS_H
#define NOVAFS_OBJOPS_H

#include <sys/types.h>

struct coll;
struct obj;
struct wreq;

void objop_create(struct coll *c, const char *name, struct wreq *w);
void objop_remove(struct obj *o, struct wreq *w);
void objop_set_owner(struct obj *o, uid_t uid, gid_t gid, struct wreq *w);

#endif
