/*
 * handle.c - open files and directories (struct handle, node.h).
 *
 * A poll waiting on a handle is a waiter (notify.h) embedded in it.  Lock
 * order: the waiters' lock (held while wake runs), then poll_lock; the
 * other side takes poll_lock alone and lets go before removing the
 * waiter, so the two never wait on each other.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "node.h"
#include "notify.h"
#include "obj.h"

static pthread_mutex_t poll_lock = PTHREAD_MUTEX_INITIALIZER;

struct handle *handle_new(struct obj *o, const struct node *n, int flags)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	atomic_init(&h->refs, 1);
	h->obj = o;
	obj_get(o);
	h->node = n;
	h->flags = flags;
	h->fd = -1;
	strbuf_init(&h->buf, 0);
	return h;
}

void handle_get(struct handle *h)
{
	atomic_fetch_add(&h->refs, 1);
}

/* Takes the pending poll handle, if any. */
static struct fuse_pollhandle *take_ph(struct handle *h)
{
	struct fuse_pollhandle *ph;

	pthread_mutex_lock(&poll_lock);
	ph = h->ph;
	h->ph = NULL;
	pthread_mutex_unlock(&poll_lock);
	return ph;
}

static void poll_wake(struct waiter *w, bool gone)
{
	struct handle *h = container_of(w, struct handle, poll_waiter);
	struct fuse_pollhandle *ph = take_ph(h);

	if (ph)
		notify_poll(ph);
}

static void poll_cancel(struct handle *h)
{
	struct fuse_pollhandle *ph = take_ph(h);

	waiter_remove(&h->poll_waiter);
	if (ph)
		fuse_pollhandle_destroy(ph);
}

void handle_poll_wait(struct handle *h, struct fuse_pollhandle *ph)
{
	poll_cancel(h);
	pthread_mutex_lock(&poll_lock);
	h->ph = ph;
	pthread_mutex_unlock(&poll_lock);
	h->poll_waiter.serial = h->obj->serial;
	h->poll_waiter.deps = h->node && h->node->deps ? h->node->deps : ~0ULL;
	h->poll_waiter.wake = poll_wake;
	waiter_add(&h->poll_waiter);
}

void handle_put(struct handle *h)
{
	if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	poll_cancel(h);
	if (h->fd >= 0)
		close(h->fd);
	strbuf_release(&h->buf);
	free(h->ents);
	obj_put(h->obj);
	free(h);
}
