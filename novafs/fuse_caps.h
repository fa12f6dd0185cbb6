/*
 * fuse_caps.h - what novafs asks of the kernel at INIT beyond what its
 * libfuse can ask for: shared mappings of direct_io files (fuse_caps.c).
 */
#ifndef NOVAFS_FUSE_CAPS_H
#define NOVAFS_FUSE_CAPS_H

#include <fuse_lowlevel.h>

/* Between fuse_session_mount and the session loop: 0 or -errno. */
int fuse_caps_install(struct fuse_session *se);

#endif
