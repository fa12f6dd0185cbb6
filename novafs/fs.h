/*
 * fs.h - the FUSE low-level operations of the mount (see fs.c).
 */
#ifndef NOVAFS_FS_H
#define NOVAFS_FS_H

#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops fs_ops;

/*
 * Mounts the tree with the FUSE arguments args (options and the
 * mountpoint), daemonizes unless -f, starts the notifier, calls started()
 * (which starts the daemon's own threads: a fork keeps none, so they
 * cannot start before), serves until unmounted or signalled, then calls
 * stopping() and stops the notifier.  Returns the exit status: 0, 1, or
 * 2 for bad arguments.
 */
int fs_serve(struct fuse_args *args, int (*started)(void),
	     void (*stopping)(void));

#endif
