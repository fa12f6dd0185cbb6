/*
 * sqlite_errno.h - SQLite's result codes as errnos, for the services that
 * keep a database of their own (novafs's store, novafs-network's), so
 * that both say the same errno for the same failure.
 */
#ifndef NOVAFS_COMMON_SQLITE_ERRNO_H
#define NOVAFS_COMMON_SQLITE_ERRNO_H

/* 0 for SQLITE_OK, SQLITE_ROW and SQLITE_DONE; else -errno (a constraint
 * -EEXIST, a busy or locked database -EBUSY, a full disk -ENOSPC, ...,
 * anything else -EIO).  Extended codes count as their primary code. */
int sqlite_errno(int rc);

#endif
