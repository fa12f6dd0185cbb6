/*
 * node_stream.c - stream files (events, console): reads follow the
 * stream (stream.h) and block at its end until a line comes, unless the
 * file was opened O_NONBLOCK (EAGAIN); poll() says readable when there is
 * something to read.  st_size is the stream's end, so `tail -f` (which
 * looks at the size) finds the last lines and follows.
 *
 * The kernel keeps the file position; the stream keeps the last lines
 * only.  A reader whose position fell behind what is kept resumes at the
 * oldest line kept, and the handle remembers the skew between the two.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "obj.h"
#include "stream.h"

#define READ_MAX (128 * 1024)

/* A read blocked at the end of the stream. */
struct blocked {
	struct stream_waiter w;   /* first */
	fuse_req_t req;
	struct handle *h;         /* a reference */
	struct stream *s;
	size_t size;
	off_t off;
};

static void stream_getattr(struct obj *o, const struct node *n, struct stat *st)
{
	uint64_t start, end;

	stream_range(n->stream(o), &start, &end);
	st->st_size = (off_t)end;
}

static int stream_open(struct obj *o, const struct node *n, struct handle *h)
{
	if ((h->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	return 0;
}

/* Replies with what the stream holds at the handle's position; 0 when
 * there is nothing (the caller then waits). */
static size_t reply_data(fuse_req_t req, struct handle *h, struct stream *s,
			 size_t size, off_t off)
{
	uint64_t pos = (uint64_t)off + h->pos_skew, want = pos;
	char *buf;
	size_t n;

	if (size > READ_MAX)
		size = READ_MAX;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return 1;
	}
	n = stream_read(s, &pos, buf, size);
	if (n) {
		/* Lines that fell out were skipped: remember by how much. */
		h->pos_skew += pos - n - want;
		h->cursor = pos;
		fuse_reply_buf(req, buf, n);
	}
	free(buf);
	return n;
}

/*
 * A blocked read is completed by exactly one party: the wake, the
 * interrupt, or the reader itself (data came, or it was interrupted before
 * it could wait).  Whoever completes it unregisters the interrupt callback
 * first: libfuse runs that callback under the request's lock, on another
 * thread, possibly while the read is being completed, and
 * fuse_req_interrupt_func(req, NULL, NULL) waits for it, so b (its data)
 * is freed only once no callback can touch it.  The callback itself
 * completes the read only when it took b's waiter off the stream.
 */
static void finish(struct blocked *b, int err, bool gone)
{
	fuse_req_interrupt_func(b->req, NULL, NULL);
	if (err)
		fuse_reply_err(b->req, err);
	else if (gone)
		fuse_reply_buf(b->req, NULL, 0); /* the end of the stream */
	else if (!reply_data(b->req, b->h, b->s, b->size, b->off))
		fuse_reply_err(b->req, EAGAIN);
	handle_put(b->h);
	free(b);
}

/* Called without the stream's lock (stream.h). */
static void blocked_wake(struct stream_waiter *w, bool gone)
{
	finish((struct blocked *)w, 0, gone);
}

/* Under the request's lock (libfuse's). */
static void blocked_interrupted(fuse_req_t req, void *data)
{
	struct blocked *b = data;

	if (!stream_cancel(b->s, &b->w))
		return; /* woken, or not waiting yet: someone else replies */
	fuse_reply_err(req, EINTR);
	handle_put(b->h);
	free(b);
}

static void stream_do_read(fuse_req_t req, struct handle *h, size_t size,
			   off_t off)
{
	struct stream *s = h->node->stream(h->obj);
	struct blocked *b;
	int queued;

	if (reply_data(req, h, s, size, off))
		return;
	if (h->flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	b->req = req;
	b->h = h;
	handle_get(h);
	b->s = s;
	b->size = size;
	b->off = off;
	b->w.pos = (uint64_t)off + h->pos_skew;
	b->w.wake = blocked_wake;
	/* Before the waiter is queued, while nothing else can complete req:
	 * once it is, a line may wake it at once.  (An interrupt already
	 * pending runs the callback now, which cancels the waiter.) */
	fuse_req_interrupt_func(req, blocked_interrupted, b);
	queued = stream_wait(s, &b->w);
	if (queued <= 0)
		finish(b, -queued, false); /* a line came meanwhile, or interrupted */
}

/* A poll on a stream: a stream waiter that notifies the poll handle. */
struct stream_poll {
	struct stream_waiter w;
	struct fuse_pollhandle *ph;
};

static void poll_wake(struct stream_waiter *w, bool gone)
{
	struct stream_poll *p = (struct stream_poll *)w;

	notify_poll(p->ph);
	free(p);
}

static void stream_poll(fuse_req_t req, struct handle *h,
			struct fuse_pollhandle *ph)
{
	struct stream *s = h->node->stream(h->obj);
	struct stream_poll *p;
	uint64_t start, end;

	stream_range(s, &start, &end);
	if (h->cursor < end) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_poll(req, POLLIN | POLLRDNORM);
		return;
	}
	if (ph) {
		/* One-shot: the kernel polls again after a notification,
		 * and a poll handle left behind by a reader that went away
		 * is notified (harmlessly) with the next line. */
		p = calloc(1, sizeof(*p));
		if (p) {
			p->ph = ph;
			p->w.pos = end;
			p->w.wake = poll_wake;
			if (stream_wait(s, &p->w) == 0)
				poll_wake(&p->w, false);
		} else {
			notify_poll(ph);
		}
	}
	fuse_reply_poll(req, 0);
}

const struct node_ops node_stream_ops = {
	.getattr = stream_getattr,
	.open = stream_open,
	.read = stream_do_read,
	.poll = stream_poll,
};
