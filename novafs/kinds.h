/*
 * kinds.h - the kinds of object the mount serves (kinds.c lists them).
 */
#ifndef NOVAFS_KINDS_H
#define NOVAFS_KINDS_H

struct kind;

/* NULL-terminated, owners before the kinds nested in them. */
extern const struct kind *const novafs_kinds[];

/* Runs each kind's seed hook on its empty top-level collection (a new
 * database's flavors and default network).  After store_start; 0 or
 * -errno. */
int kinds_seed(void);

#endif
