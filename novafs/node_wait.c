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

static void reply_rendered(fuse_req_t req, struct handle *h, size_t size)
{
	fuse_reply_buf(req, h->buf.buf, h->buf.len < size ? h->buf.len : size);
}

static bool blocked_ready(struct waiter *w, struct obj *o)
{
	struct blocked *b = (struct blocked *)w;

	return b->h->node->ready(o);
}

/*
 * Called as the change is published, under the write lock and the
 * waiters' lock.  The reference is dropped before the reply: dropping the
 * last one would take the waiters' lock again (poll_cancel), and it cannot
 * be the last until the reply is sent, since the kernel keeps the file
 * open while this read is pending, so FUSE's release comes after it.
 */
static void blocked_wake(struct waiter *w, bool gone)
{
	struct blocked *b = (struct blocked *)w;
	struct handle *h = b->h;
	fuse_req_t req = b->req;
	size_t size = b->size;

	free(b);
	if (!gone)
		render(h);
	handle_put(h);
	if (gone)
		fuse_reply_err(req, ESTALE);
	else
		reply_rendered(req, h, size);
}

static void blocked_interrupted(fuse_req_t req, void *data)
{
	struct blocked *b = data;

	if (!waiter_remove(&b->w))
		return; /* woken already: the wake replied */
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
	obj_rdlock();
	if (h->node->ready(h->obj)) {
		render(h);
		obj_unlock();
		reply_rendered(req, h, size);
		return;
	}
	if (h->flags & O_NONBLOCK) {
		obj_unlock();
		fuse_reply_err(req, EAGAIN);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		obj_unlock();
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
	/* Under the read lock: no change can slip in before the waiter. */
	waiter_add(&b->w);
	obj_unlock();
	/* May call blocked_interrupted at once if already interrupted. */
	fuse_req_interrupt_func(req, blocked_interrupted, b);
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
