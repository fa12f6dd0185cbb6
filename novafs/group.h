/*
 * group.h - groups/: server groups, as Nova's.  `mkdir groups/NAME`,
 * `echo anti-affinity > groups/NAME/policy` (or affinity), then
 * `echo NAME > instances/X/group` before X's first start: the scheduler
 * then places X on the same host as the group's other instances
 * (affinity) or on a host none of them is on (anti-affinity).
 * groups/NAME/members/ links to them.  A policy is fixed once a member
 * has been placed; a group with members cannot be removed.
 */
#ifndef NOVAFS_GROUP_H
#define NOVAFS_GROUP_H

#include <jansson.h>

struct obj;

enum {
	G_POLICY,       /* "affinity", "anti-affinity", or "" (none yet) */
	G_FAULT,        /* why the last write was refused */
	G_NFIELDS
};

extern const struct kind group_kind;

/* The group called name, or NULL.  Under a lock, or on the committer. */
struct obj *group_find(const char *name);

/* What the scheduler is told of inst's group: {name, policy, hosts (of
 * its other members)}.  On the committer.  NULL when out of memory. */
json_t *group_describe(const struct obj *group, const struct obj *inst);

#endif
