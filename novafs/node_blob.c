/*
 * node_blob.c - blob files: content of any size (an image's data), kept
 * in a file on disk and read and written by offset, never held in memory.
 * The node names the backing file; the handle holds it open.  A kind may
 * take over opening, writing, truncating and the last close (node->blob,
 * node.h): an image writes to a temporary file of its store, refuses
 * writes once it is active, and finishes the upload at the last close.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "node.h"
#include "obj.h"

#define READ_MAX (1024 * 1024)

static void blob_getattr(struct obj *o, const struct node *n, struct stat *st)
{
	char path[PATH_MAX];
	struct stat bs;

	if (n->blob_path(o, path, sizeof(path)) == 0 && stat(path, &bs) == 0) {
		st->st_size = bs.st_size;
		st->st_blocks = bs.st_blocks;
	}
}

static int blob_open(struct obj *o, const struct node *n, struct handle *h)
{
	char path[PATH_MAX];
	int acc = h->flags & O_ACCMODE, rc;

	if (n->blob && n->blob->open)
		return n->blob->open(o, n, h);
	rc = n->blob_path(o, path, sizeof(path));
	if (rc < 0)
		return rc;
	/* O_APPEND is the backing file's too: pwrite then appends, whatever
	 * offset the kernel believed the end to be. */
	h->fd = open(path, acc | (h->flags & (O_TRUNC | O_APPEND)) |
		     (acc != O_RDONLY ? O_CREAT : 0) | O_CLOEXEC, 0600);
	return h->fd < 0 ? -errno : 0;
}

static void blob_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	char *buf;
	ssize_t n;

	if (size > READ_MAX)
		size = READ_MAX;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread(h->fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void blob_write(fuse_req_t req, struct handle *h, const char *buf,
		       size_t size, off_t off)
{
	const struct blob_ops *bo = h->node->blob;
	ssize_t n;

	if (bo && bo->write)
		n = bo->write(h, buf, size, off);
	else if ((n = pwrite(h->fd, buf, size, off)) < 0)
		n = -errno;
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void blob_flush(fuse_req_t req, struct handle *h)
{
	fuse_reply_err(req, 0);
}

static void blob_release(struct handle *h)
{
	if (h->node->blob && h->node->blob->release)
		h->node->blob->release(h);
}

static void blob_truncate(struct obj *o, const struct node *n,
			  struct handle *h, off_t size, struct wreq *w)
{
	char path[PATH_MAX];
	int rc;

	if (n->blob && n->blob->truncate)
		rc = n->blob->truncate(o, n, h, size);
	else if (h)
		rc = ftruncate(h->fd, size) < 0 ? -errno : 0;
	else if ((rc = n->blob_path(o, path, sizeof(path))) == 0)
		rc = truncate(path, size) < 0 ? -errno : 0;
	wreq_done(w, rc);
}

const struct node_ops node_blob_ops = {
	.getattr = blob_getattr,
	.open = blob_open,
	.read = blob_read,
	.write = blob_write,
	.flush = blob_flush,
	.release = blob_release,
	.truncate = blob_truncate,
};
