/*
 * kinds.h - the kinds of object the mount serves (kinds.c lists them).
 */
#ifndef NOVAFS_KINDS_H
#define NOVAFS_KINDS_H

struct kind;

/* NULL-terminated, owners before the kinds nested in them. */
extern const struct kind *const novafs_kinds[];

#endif
