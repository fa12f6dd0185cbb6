/*
 * image_store.h - the image store (a directory of image files named by
 * UUID, which compute hosts read as backing files) and the transfers that
 * fill it: an upload written through the mount, an import copied from a
 * local file.  It knows nothing of objects; image.c ties a transfer to
 * an image and commits what it reports.
 *
 * A transfer writes DIR/.UUID.part (created O_EXCL, mode 0600) and only
 * once every byte is in, hashed, its format detected and checked, and
 * the file fsynced, makes it DIR/UUID (mode 0644) with rename(2): the
 * store never holds a partial image under an image's name, and a failed
 * transfer's part file is emptied and removed at once.
 *
 * Hashing (SHA-256 and MD5, nettle) runs on two threads of the transfer's
 * own, one per hash, which follow the bytes as they arrive in order (the
 * page cache holds them); a writer that goes back or leaves a hole makes
 * them stop, and the whole file is hashed once it is complete.  So a
 * FUSE thread only ever does the pwrite.
 */
#ifndef NOVAFS_IMAGE_STORE_H
#define NOVAFS_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/diskfmt.h"

#define IMGSTORE_WHY_MAX 512

/* The store's directory (an existing one: novafs's main makes it). */
void imgstore_set_dir(const char *dir);
/* DIR/UUID into buf: 0, or -ENAMETOOLONG. */
int imgstore_path(const char *uuid, char *buf, size_t len);
/* DIR/.UUID.part into buf: 0, or -ENAMETOOLONG. */
int imgstore_part_path(const char *uuid, char *buf, size_t len);
/* Removes DIR/UUID and DIR/.UUID.part, where they are. */
void imgstore_remove(const char *uuid);
/* At start, before any transfer: removes every part file (transfers a
 * stop interrupted) and every image file whose UUID keep() refuses (an
 * image deleted before its file went).  Returns how many it removed. */
int imgstore_sweep(bool (*keep)(const char *uuid, void *ctx), void *ctx);

struct xfer;

/* What a complete transfer is. */
struct xfer_result {
	uint64_t size;
	struct diskfmt_info fmt;        /* as detected */
	char sha256[65], md5[33];       /* lowercase hex */
};

struct xfer_ops {
	/* An import's source was opened (err 0) or refused (err -errno,
	 * why); on the transfer's thread, before any byte is copied.  After
	 * a refusal finished() is not called. */
	void (*opened)(struct xfer *x, void *ctx, int err, const char *why);
	/* The transfer is over: err 0 with r (DIR/UUID is in place), or
	 * -errno with why (nothing of it is left in the store).  On the
	 * transfer's thread, exactly once. */
	void (*finished)(struct xfer *x, void *ctx, int err, const char *why,
			 const struct xfer_result *r);
};

struct xfer_params {
	const char *uuid;               /* the image's: names its files */
	int want;                       /* enum diskfmt written, or -1 */
	uint64_t max_bytes;             /* its size and virtual size at most */
	const struct xfer_ops *ops;
	void *ctx;
};

/* Whose permissions an import's source is opened with: the writer's. */
struct xfer_creds {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
};

/* The supplementary groups of thread pid, blocked in a system call (from
 * /proc, as fuse_req_getgroups reads them), into c; none for pid 0. */
void xfer_creds_groups(struct xfer_creds *c, pid_t pid);

/*
 * An upload: creates the part file and returns a transfer that
 * xfer_write fills, and xfer_close finishes (or abandons, when nothing
 * was written).  *out holds one reference, the caller's.  0 or -errno
 * with why.
 */
int xfer_upload(const struct xfer_params *p, struct xfer **out, char *why,
		size_t whylen);
/* Writes through the upload: the count, or -errno (the transfer's own
 * error once it failed: a write that fails kills it). */
ssize_t xfer_write(struct xfer *x, const void *buf, size_t size, off_t off);
/* ftruncate of the upload: 0 or -errno. */
int xfer_truncate(struct xfer *x, off_t size);
/* A descriptor of the part file for reading back (O_RDWR writers), or
 * -errno. */
int xfer_dup_fd(struct xfer *x);
/* Whether any byte was written (or truncated) through the upload. */
bool xfer_touched(struct xfer *x);
/* The writer is done: the upload finishes on its thread, or, with
 * nothing in it, is abandoned (finished() gets -ENODATA). */
void xfer_close(struct xfer *x);

/*
 * An import of path, opened with c's permissions: runs on a thread of
 * its own, which calls opened() and, if the source could be read,
 * copies, hashes and finishes it.  *out holds the caller's reference.
 * 0 or -errno (no thread could be started).
 */
int xfer_import(const struct xfer_params *p, const char *path,
		const struct xfer_creds *c, struct xfer **out);

/* The image is gone: the transfer stops with err and why, and leaves
 * nothing in the store. */
void xfer_abort(struct xfer *x, int err, const char *why);
/* Bytes in and hashed so far, and the total when known (an import's
 * source size; 0 otherwise). */
void xfer_progress(struct xfer *x, uint64_t *done, uint64_t *total);
/* Drops a reference; the last frees the transfer. */
void xfer_put(struct xfer *x);

#endif
