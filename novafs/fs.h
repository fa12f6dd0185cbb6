/*
 * fs.h - the FUSE operations of the novafs mount.
 */
#ifndef NOVAFS_FS_H
#define NOVAFS_FS_H

#include <fuse.h>
#include <stdbool.h>

struct store;

struct fs_config {
	struct store *store;
	bool failed; /* set when the mount had to stop at startup */
};

extern const struct fuse_operations fs_operations;

#endif
