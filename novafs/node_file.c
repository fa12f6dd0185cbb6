/*
 * node_file.c - attribute files (state, flavor, ...) and command files
 * (ctl): how reads and writes of them behave.  The rules are the README's
 * "Writing files" section; in short:
 *
 *   Attributes.  A handle opened for writing starts with the current
 *   value (empty with O_TRUNC) and edits it like a file: writes go at
 *   their offset, within or at the end of what is there (no holes).
 *   Whenever the content ends with a newline it is complete: it is applied
 *   at once, and a refusal fails that write(2) (so `echo bogus > flavor`
 *   fails in the shell, which ignores close errors) and leaves the handle
 *   as it was before it.  Content without a final newline (printf, dd
 *   bs=1 half way, Python's buffered writes) is applied at close or fsync,
 *   where a refusal fails close(2)/fsync(2).  A value of many lines
 *   (node->whole: an instance's spec) is applied only there, as a whole,
 *   however it was written.  A NUL byte is refused.
 *   Reading a handle opened for reading renders the current value at
 *   offset 0 and serves later offsets from that copy; a handle opened for
 *   reading and writing reads its working copy.
 *
 *   Commands.  Every complete line written runs, in order, when written;
 *   a write fails at the first refused line (the lines before it stay
 *   done).  A final line without a newline runs at close or fsync.  There
 *   is no size limit across writes: run lines are forgotten.
 *
 * A handle is reference-counted: a write still completing holds one, so a
 * process killed mid-write cannot free it under the completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "node.h"
#include "notify.h"
#include "obj.h"

#define VALUE_MAX 4096     /* the bytes an attribute keeps */
#define LINE_MAX_LEN 4096  /* the longest command line */

/* A write, flush or truncate waiting for node->store. */
struct wctx {
	struct wreq w;          /* first, so that a wreq is a wctx */
	fuse_req_t req;
	struct handle *h;       /* a reference */
	struct obj *obj;        /* a reference */
	const struct node *node;
	size_t reply_size;      /* > 0: fuse_reply_write, else fuse_reply_err(0) */
	struct strbuf saved;    /* attribute: the handle before this write */
	bool was_dirty;         /* ... and whether it had unapplied bytes */
	size_t line_end;        /* command: the end of the line running */
	int err;
};

static void wctx_free(struct wctx *c)
{
	strbuf_release(&c->saved);
	if (c->h)
		handle_put(c->h);
	obj_put(c->obj);
	free(c);
}

static struct wctx *wctx_new(fuse_req_t req, struct handle *h, struct obj *o,
			     const struct node *n, void (*done)(struct wreq *, int))
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct wctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->w.done = done;
	c->w.uid = fc->uid;
	c->w.gid = fc->gid;
	c->w.pid = fc->pid;
	c->req = req;
	c->h = h;
	if (h)
		handle_get(h);
	c->obj = o;
	obj_get(o);
	c->node = n;
	strbuf_init(&c->saved, 0);
	return c;
}

static void reply(struct wctx *c, int err)
{
	if (err < 0)
		fuse_reply_err(c->req, -err);
	else if (c->reply_size)
		fuse_reply_write(c->req, c->reply_size);
	else
		fuse_reply_err(c->req, 0);
}

/* Renders n of o into out, under the read lock. */
static void render(struct obj *o, const struct node *n, struct strbuf *out)
{
	strbuf_reset(out);
	obj_rdlock();
	if (!o->dead)
		n->show(o, out);
	obj_unlock();
}

static void attr_getattr(struct obj *o, const struct node *n, struct stat *st)
{
	struct strbuf sb = STRBUF_INIT;

	if (n->show) {
		n->show(o, &sb);
		st->st_size = (off_t)sb.len;
	}
	strbuf_release(&sb);
}

static int attr_open(struct obj *o, const struct node *n, struct handle *h)
{
	int acc = h->flags & O_ACCMODE;

	if ((acc != O_WRONLY && !n->show) || (acc != O_RDONLY && !n->store))
		return -EACCES;
	if (acc == O_RDONLY)
		return 0;
	if (h->flags & O_TRUNC) {
		h->truncated = true;
	} else if (n->show) {
		render(o, n, &h->buf);
		h->applied = h->buf.len;
	}
	return 0;
}

static void file_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	size_t n;

	/* A read-only handle renders anew at offset 0 (so re-reading from
	 * the start is never stale) and serves later offsets from that copy
	 * (so one value is never torn across reads). */
	if ((h->flags & O_ACCMODE) == O_RDONLY && off == 0) {
		render(h->obj, h->node, &h->buf);
		h->read_once = true;
	}
	if ((size_t)off >= h->buf.len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	n = h->buf.len - (size_t)off;
	fuse_reply_buf(req, h->buf.buf + off, n < size ? n : size);
}

/* The completion of applying an attribute's content. */
static void attr_applied(struct wreq *w, int err)
{
	struct wctx *c = (struct wctx *)w;
	struct handle *h = c->h;

	if (h) {
		if (err < 0 && c->reply_size) {
			/* A refused write leaves nothing behind. */
			strbuf_reset(&h->buf);
			strbuf_add(&h->buf, c->saved.buf, c->saved.len);
			h->dirty = c->was_dirty;
		} else if (err == 0) {
			h->applied = h->buf.len;
			h->dirty = false;
			h->truncated = false; /* its value was stored */
		}
	}
	reply(c, err);
	wctx_free(c);
}

/* Hands h's content to the node, replying to req when it is done; a
 * write passes what the handle held before it (saved, was_dirty), to go
 * back to if the value is refused. */
static void apply(fuse_req_t req, struct handle *h, size_t reply_size,
		  struct strbuf *saved, bool was_dirty)
{
	struct wctx *c = wctx_new(req, h, h->obj, h->node, attr_applied);

	if (!c) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	c->reply_size = reply_size;
	c->was_dirty = was_dirty;
	if (saved) {
		strbuf_release(&c->saved);
		c->saved = *saved; /* moved */
		strbuf_init(saved, 0);
	}
	h->node->store(h->obj, h->buf.buf, h->buf.len, &c->w);
}

static void attr_write(fuse_req_t req, struct handle *h, const char *buf,
		       size_t size, off_t off)
{
	struct strbuf saved = STRBUF_INIT;
	bool was_dirty = h->dirty;
	size_t end;

	/* Any write, even one refused, means the value is what is written,
	 * not the empty one an O_TRUNC open promised. */
	h->truncated = false;
	/* The kernel's idea of the end may lag a change made elsewhere: an
	 * append goes after what this handle holds. */
	if (h->flags & O_APPEND)
		off = (off_t)h->buf.len;
	end = (size_t)off + size;
	if (off < 0 || (size_t)off > h->buf.len) {
		fuse_reply_err(req, EINVAL); /* no holes */
		return;
	}
	if (end > VALUE_MAX) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	if (memchr(buf, '\0', size)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	strbuf_add(&saved, h->buf.buf, h->buf.len);
	if (end > h->buf.len)
		strbuf_grow(&h->buf, end - h->buf.len);
	memcpy(h->buf.buf + off, buf, size);
	if (end > h->buf.len)
		strbuf_setlen(&h->buf, end);
	h->dirty = true;
	if (!h->node->whole && h->buf.len && h->buf.buf[h->buf.len - 1] == '\n') {
		apply(req, h, size, &saved, was_dirty);
	} else {
		fuse_reply_write(req, size);
	}
	strbuf_release(&saved);
}

static void attr_flush(fuse_req_t req, struct handle *h)
{
	if ((h->flags & O_ACCMODE) == O_RDONLY || !h->dirty) {
		fuse_reply_err(req, 0);
		return;
	}
	apply(req, h, 0, NULL, true);
}

/* The completion of an O_TRUNC open's empty value, which nobody waits
 * for: a refusal is in the fault file and the log. */
static void truncated_applied(struct wreq *w, int err)
{
	free(w);
}

static void attr_release(struct handle *h)
{
	struct wreq *w;

	if (!h->truncated || h->dirty || h->applied || h->obj->dead)
		return;
	w = calloc(1, sizeof(*w));
	if (!w)
		return;
	w->done = truncated_applied;
	h->node->store(h->obj, "", 0, w);
}

/* truncate(2) with no handle stores the truncated value at once;
 * ftruncate(2) edits the handle, applied at close. */
static void attr_truncate(struct obj *o, const struct node *n,
			  struct handle *h, off_t size, struct wreq *w)
{
	struct strbuf value = STRBUF_INIT;

	if (!n->store) {
		wreq_done(w, -EACCES);
		return;
	}
	if (h) {
		if (size < 0 || (size_t)size > h->buf.len) {
			wreq_done(w, -EINVAL);
			return;
		}
		strbuf_setlen(&h->buf, (size_t)size);
		h->dirty = true;
		wreq_done(w, 0);
		return;
	}
	if (n->show)
		render(o, n, &value);
	if (size < 0 || (size_t)size > value.len) {
		strbuf_release(&value);
		wreq_done(w, -EINVAL);
		return;
	}
	strbuf_setlen(&value, (size_t)size);
	n->store(o, value.buf, value.len, w);
	strbuf_release(&value);
}

/* Poll: readable when the value differs from what this handle last read
 * (or it never read), so that poll() or select() wakes on a change. */
static void attr_poll(fuse_req_t req, struct handle *h,
		      struct fuse_pollhandle *ph)
{
	struct strbuf now = STRBUF_INIT;
	bool changed;

	obj_rdlock();
	if (!h->obj->dead)
		h->node->show(h->obj, &now);
	changed = h->obj->dead || !h->read_once || now.len != h->buf.len ||
		  memcmp(now.buf, h->buf.buf, now.len) != 0;
	if (!changed && ph)
		handle_poll_wait(h, ph);
	else if (ph)
		fuse_pollhandle_destroy(ph);
	obj_unlock();
	strbuf_release(&now);
	fuse_reply_poll(req, changed ? POLLIN | POLLRDNORM | POLLPRI : 0);
}

const struct node_ops node_attr_ops = {
	.getattr = attr_getattr,
	.open = attr_open,
	.read = file_read,
	.write = attr_write,
	.flush = attr_flush,
	.release = attr_release,
	.poll = attr_poll,
	.truncate = attr_truncate,
};

/* --- commands --- */

static int command_open(struct obj *o, const struct node *n, struct handle *h)
{
	int acc = h->flags & O_ACCMODE;

	if (acc != O_RDONLY && !n->store)
		return -EACCES;
	if (acc != O_WRONLY && !n->show)
		return -EACCES;
	return 0;
}

static void run_next_line(struct wctx *c);

static void line_done(struct wreq *w, int err)
{
	struct wctx *c = (struct wctx *)w;
	struct handle *h = c->h;

	/* The line is done (or refused): forget it either way. */
	memmove(h->buf.buf, h->buf.buf + c->line_end, h->buf.len - c->line_end);
	strbuf_setlen(&h->buf, h->buf.len - c->line_end);
	if (err < 0) {
		/* What follows the refused line in this write is not run. */
		strbuf_reset(&h->buf);
		reply(c, err);
		wctx_free(c);
		return;
	}
	run_next_line(c);
}

/* Runs the first complete line of the handle's buffer (or, when
 * flushing, whatever is left), or replies when none is left. */
static void run_next_line(struct wctx *c)
{
	struct handle *h = c->h;
	char *nl = memchr(h->buf.buf, '\n', h->buf.len);
	size_t len;

	if (!nl && (c->reply_size || !h->buf.len)) {
		reply(c, 0);
		wctx_free(c);
		return;
	}
	len = nl ? (size_t)(nl - h->buf.buf) : h->buf.len;
	c->line_end = nl ? len + 1 : len;
	h->node->store(h->obj, h->buf.buf, len, &c->w);
}

static void command_write(fuse_req_t req, struct handle *h, const char *buf,
			  size_t size, off_t off)
{
	struct wctx *c;
	const char *nl;

	if (memchr(buf, '\0', size)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* Only an unfinished line is ever kept. */
	nl = memrchr(buf, '\n', size);
	if ((nl ? (size_t)(buf + size - nl - 1) : h->buf.len + size) > LINE_MAX_LEN) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	c = wctx_new(req, h, h->obj, h->node, line_done);
	if (!c) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	c->reply_size = size;
	strbuf_add(&h->buf, buf, size);
	run_next_line(c);
}

static void command_flush(fuse_req_t req, struct handle *h)
{
	struct wctx *c;

	if (!h->buf.len) {
		fuse_reply_err(req, 0);
		return;
	}
	c = wctx_new(req, h, h->obj, h->node, line_done);
	if (!c) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	run_next_line(c);
}

static void command_read(fuse_req_t req, struct handle *h, size_t size,
			 off_t off)
{
	if ((h->flags & O_ACCMODE) != O_RDONLY) {
		/* A write handle's buffer holds commands, not content. */
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	file_read(req, h, size, off);
}

static void command_truncate(struct obj *o, const struct node *n,
			     struct handle *h, off_t size, struct wreq *w)
{
	/* A command file has no content to cut: only "to nothing" makes
	 * sense, and changes nothing. */
	wreq_done(w, size == 0 ? 0 : -EINVAL);
}

const struct node_ops node_command_ops = {
	.getattr = attr_getattr,
	.open = command_open,
	.read = command_read,
	.write = command_write,
	.flush = command_flush,
	.truncate = command_truncate,
};

static void symlink_getattr(struct obj *o, const struct node *n,
			    struct stat *st)
{
	attr_getattr(o, n, st);
}

const struct node_ops node_symlink_ops = {
	.getattr = symlink_getattr,
};
