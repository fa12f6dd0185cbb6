/*
 * node_wait.c - wait files: a read blocks until the node's condition
 * holds (an instance's task has ended, say), then returns what the node
 * shows, so that a script waits with one `cat` and no polling loop.  The
 * reader can interrupt it (Ctrl-C, `timeout 30 cat wait`: EINTR) or open
 * it O_NONBLOCK (EAGAIN while not ready); poll() says when it is ready.
 * Later offsets are served from what the read at offset 0 returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

#include "node.h"
#include "notify.h"
#include "obj.h"

/* A read waiting for the condition. */
struct blocked {
	struct waiter w;          /* first */
	fuse_req_t req;
	struct handle *h;         /* a reference */
	size_t size;
	int err;                  /* how the wake ended it: 0 or ESTALE */
};

static void wait_getattr(struct obj *o, const struct node *n, struct stat *st)
{
	struct strbuf sb = STRBUF_INIT;

	n->show(o, &sb);
	st->st_size = (off_t)sb.len;
	strbuf_release(&sb);
}

static int wait_open(struct obj *o, const struct node *n, struct handle *h)
{
	return (h->flags & O_ACCMODE) == O_RDONLY ? 0 : -EACCES;
}

/* Renders into h->buf, which later offsets read; under a lock that keeps
 * h->obj still. */
static void render(struct handle *h)
{
	strbuf_reset(&h->buf);
	h->node->show(h->obj, &h->buf);
}

static bool blocked_ready(struct waiter *w, struct obj *o)
{
	struct blocked *b = (struct blocked *)w;

	return b->h->node->ready(o);
}

/*
 * A blocked read is completed by exactly one party: the wake, the
 * interrupt, or the reader itself (ready at once, or interrupted before it
 * could wait).  Whoever completes it, but the interrupt callback, first
 * unregisters that callback: libfuse runs it under the request's lock, on
 * another thread, possibly while the read is being completed, and
 * fuse_req_interrupt_func(req, NULL, NULL) waits for it, so that b (its
 * data) is freed only once no callback can touch it.
 */
static void finish(struct blocked *b, int err)
{
	fuse_req_interrupt_func(b->req, NULL, NULL);
	if (err)
		fuse_reply_err(b->req, err);
	else
		fuse_reply_buf(b->req, b->h->buf.buf,
			       b->h->buf.len < b->size ? b->h->buf.len : b->size);
	handle_put(b->h);
	free(b);
}

static void finish_woken(void *ctx)
{
	struct blocked *b = ctx;

	finish(b, b->err);
}

/* Called as the change is published, under the object write lock and the
 * waiters' lock, which the interrupt callback takes too: the content is
 * rendered here, and the rest is left to the notifier thread. */
static void blocked_wake(struct waiter *w, bool gone)
{
	struct blocked *b = (struct blocked *)w;

	if (gone)
		b->err = ESTALE;
	else
		render(b->h);
	notify_call(finish_woken, b);
}

/* Under the request's lock (libfuse's). */
static void blocked_interrupted(fuse_req_t req, void *data)
{
	struct blocked *b = data;

	if (!waiter_cancel(&b->w))
		return; /* woken, or not waiting yet: someone else replies */
	fuse_reply_err(req, EINTR);
	handle_put(b->h);
	free(b);
}

static void wait_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	struct blocked *b;
	size_t n;

	if (off > 0) {
		n = (size_t)off < h->buf.len ? h->buf.len - (size_t)off : 0;
		fuse_reply_buf(req, h->buf.buf + (n ? off : 0), n < size ? n : size);
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
	b->size = size;
	b->w.serial = h->obj->serial;
	b->w.deps = h->node->deps;
	b->w.ready = blocked_ready;
	b->w.wake = blocked_wake;
	/* Before the waiter is queued, while nothing else can complete req:
	 * once it is, a change may wake it at once.  (An interrupt already
	 * pending runs the callback now, which cancels the waiter.) */
	fuse_req_interrupt_func(req, blocked_interrupted, b);
	obj_rdlock();
	if (h->node->ready(h->obj)) {
		render(h);
		obj_unlock();
		finish(b, 0);
		return;
	}
	if (h->flags & O_NONBLOCK) {
		obj_unlock();
		finish(b, EAGAIN);
		return;
	}
	/* Under the read lock: no change can slip in before the waiter. */
	if (waiter_add(&b->w)) {
		obj_unlock();
		return;
	}
	obj_unlock();
	finish(b, EINTR); /* interrupted before it could wait */
}

static void wait_poll(fuse_req_t req, struct handle *h,
		      struct fuse_pollhandle *ph)
{
	bool ready;

	obj_rdlock();
	ready = h->node->ready(h->obj);
	if (!ready && ph)
		handle_poll_wait(h, ph);
	else if (ph)
		fuse_pollhandle_destroy(ph);
	obj_unlock();
	fuse_reply_poll(req, ready ? POLLIN | POLLRDNORM : 0);
}

const struct node_ops node_wait_ops = {
	.getattr = wait_getattr,
	.open = wait_open,
	.read = wait_read,
	.poll = wait_poll,
};
