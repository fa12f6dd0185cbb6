/*
 * flavor.h - flavors: the sizes an instance can have (Nova's classic
 * m1.tiny ... m1.large), read-only in the mount.
 */
#ifndef NOVAFS_FLAVOR_H
#define NOVAFS_FLAVOR_H

#include <stdint.h>

struct obj;

enum { FLAVOR_VCPUS, FLAVOR_MEMORY_MB, FLAVOR_DISK_GB, FLAVOR_NFIELDS };

extern const struct kind flavor_kind;

/* The flavor called name (under a lock, or on the committer), or NULL. */
struct obj *flavor_find(const char *name);

#endif
