/*
 * fs.h - the FUSE operations of the novafs mount.
 */
#ifndef NOVAFS_FS_H
#define NOVAFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

struct store;

struct fs_config {
	struct store *store;
};

extern const struct fuse_operations fs_operations;

#endif
