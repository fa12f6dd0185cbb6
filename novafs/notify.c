/*
 * notify.c - the kernel notification queue and the waiters; see notify.h.
 */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "obj.h"

enum item_kind { INVAL_ENTRY, DELETE, POLL, CALL };

struct item {
	struct item *next;
	enum item_kind kind;
	fuse_ino_t ino, child;
	struct fuse_pollhandle *ph;
	void (*fn)(void *ctx);
	void *ctx;
	char name[OBJ_NAME_MAX + 2 > 256 ? OBJ_NAME_MAX + 2 : 256];
};

static struct {
	struct fuse_session *se;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *head, *tail;
	bool running, stopping;
} nq = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* Waiters, by object serial: a list head per serial in a hash table. */
struct waitlist {
	struct hash_entry entry;
	uint64_t serial;
	struct waiter *head;
};

static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_waitlist(const struct hash_entry *e, const void *key)
{
	return container_of(e, struct waitlist, entry)->serial != *(const uint64_t *)key;
}

static struct hash_table waitlists = HASH_TABLE_INIT(cmp_waitlist);

static void *notifier(void *arg)
{
	struct item *it;
	int rc = 0;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&nq.lock);
		while (!nq.head && !nq.stopping)
			pthread_cond_wait(&nq.cond, &nq.lock);
		it = nq.head;
		if (it) {
			nq.head = it->next;
			if (!nq.head)
				nq.tail = NULL;
		}
		pthread_mutex_unlock(&nq.lock);
		if (!it)
			break;
		switch (it->kind) {
		case INVAL_ENTRY:
			rc = fuse_lowlevel_notify_inval_entry(nq.se, it->ino, it->name,
							      strlen(it->name));
			break;
		case DELETE:
			rc = fuse_lowlevel_notify_delete(nq.se, it->ino, it->child,
							 it->name, strlen(it->name));
			break;
		case POLL:
			rc = fuse_lowlevel_notify_poll(it->ph);
			fuse_pollhandle_destroy(it->ph);
			break;
		case CALL:
			it->fn(it->ctx);
			rc = 0;
			break;
		}
		/* -ENOENT: the kernel did not have it cached, which is the
		 * common case and fine. */
		if (rc < 0 && rc != -ENOENT && rc != -ENOTDIR && rc != -EBADF)
			log_debug("kernel notification %d failed: %s", it->kind,
				  strerror(-rc));
		free(it);
	}
	return NULL;
}

int notify_start(struct fuse_session *se)
{
	int rc;

	nq.se = se;
	nq.stopping = false;
	rc = -pthread_create(&nq.thread, NULL, notifier, NULL);
	if (rc == 0)
		nq.running = true;
	return rc;
}

void notify_stop(void)
{
	if (!nq.running)
		return;
	pthread_mutex_lock(&nq.lock);
	nq.stopping = true;
	pthread_cond_signal(&nq.cond);
	pthread_mutex_unlock(&nq.lock);
	pthread_join(nq.thread, NULL);
	nq.running = false;
	nq.se = NULL;
}

static void push(struct item *it)
{
	pthread_mutex_lock(&nq.lock);
	if (nq.tail)
		nq.tail->next = it;
	else
		nq.head = it;
	nq.tail = it;
	pthread_cond_signal(&nq.cond);
	pthread_mutex_unlock(&nq.lock);
}

static void enqueue(enum item_kind kind, fuse_ino_t ino, fuse_ino_t child,
		    const char *name, struct fuse_pollhandle *ph)
{
	struct item *it;

	if (!nq.running) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		/* Lost: a cached attribute stays stale until its timeout. */
		log_error("out of memory queueing a kernel notification");
		if (ph)
			fuse_pollhandle_destroy(ph);
		return;
	}
	it->kind = kind;
	it->ino = ino;
	it->child = child;
	it->ph = ph;
	if (name)
		snprintf(it->name, sizeof(it->name), "%s", name);
	push(it);
}

void notify_inval_inode(fuse_ino_t ino)
{
	int rc;

	/* Attributes only (-1): the kernel bumps the inode's attribute
	 * version under a spinlock and takes no lock a request could hold,
	 * so this is done at once, before the change's system call returns,
	 * and a stat() right after it never sees the old size. */
	if (!nq.running)
		return;
	rc = fuse_lowlevel_notify_inval_inode(nq.se, ino, -1, 0);
	if (rc < 0 && rc != -ENOENT)
		log_debug("kernel notification (inode %llu) failed: %s",
			  (unsigned long long)ino, strerror(-rc));
}

void notify_inval_entry(fuse_ino_t parent, const char *name)
{
	enqueue(INVAL_ENTRY, parent, 0, name, NULL);
}

void notify_delete(fuse_ino_t parent, fuse_ino_t child, const char *name)
{
	enqueue(DELETE, parent, child, name, NULL);
}

void notify_poll(struct fuse_pollhandle *ph)
{
	enqueue(POLL, 0, 0, NULL, ph);
}

void notify_call(void (*fn)(void *ctx), void *ctx)
{
	struct item *it = nq.running ? calloc(1, sizeof(*it)) : NULL;

	if (!it) {
		fn(ctx); /* no thread (tests, shutdown), or no memory: here */
		return;
	}
	it->kind = CALL;
	it->fn = fn;
	it->ctx = ctx;
	push(it);
}

static struct waitlist *waitlist_of(uint64_t serial, bool create)
{
	struct hash_entry *e = hash_get(&waitlists, hash_u64(serial), &serial);
	struct waitlist *wl;

	if (e || !create)
		return e ? container_of(e, struct waitlist, entry) : NULL;
	wl = calloc(1, sizeof(*wl));
	if (!wl)
		return NULL;
	wl->serial = serial;
	hash_add(&waitlists, &wl->entry, hash_u64(serial));
	return wl;
}

bool waiter_add(struct waiter *w)
{
	struct waitlist *wl;

	pthread_mutex_lock(&wlock);
	if (w->cancelled) {
		pthread_mutex_unlock(&wlock);
		return false;
	}
	wl = waitlist_of(w->serial, true);
	if (wl) {
		w->prev = NULL;
		w->next = wl->head;
		if (wl->head)
			wl->head->prev = w;
		wl->head = w;
		w->queued = true;
	}
	pthread_mutex_unlock(&wlock);
	if (!wl)
		w->wake(w, false); /* out of memory: wake now rather than never */
	return true;
}

/* Unlinks w; called with wlock held. */
static void unlink_waiter(struct waiter *w)
{
	struct waitlist *wl = waitlist_of(w->serial, false);

	if (w->prev)
		w->prev->next = w->next;
	else if (wl)
		wl->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
	if (wl && !wl->head) {
		hash_remove(&waitlists, &wl->entry);
		free(wl);
	}
}

bool waiter_remove(struct waiter *w)
{
	bool was;

	pthread_mutex_lock(&wlock);
	was = w->queued;
	if (was)
		unlink_waiter(w);
	pthread_mutex_unlock(&wlock);
	return was;
}

bool waiter_cancel(struct waiter *w)
{
	bool was;

	pthread_mutex_lock(&wlock);
	was = w->queued;
	if (was)
		unlink_waiter(w);
	else
		w->cancelled = true;
	pthread_mutex_unlock(&wlock);
	return was;
}

void notify_object_changed(struct obj *o, uint64_t mask, bool gone)
{
	struct waitlist *wl;
	struct waiter *w, *next;

	pthread_mutex_lock(&wlock);
	wl = waitlist_of(o->serial, false);
	for (w = wl ? wl->head : NULL; w; w = next) {
		next = w->next;
		if (!gone && (!(w->deps & mask) || (w->ready && !w->ready(w, o))))
			continue;
		unlink_waiter(w);
		w->wake(w, gone);
		/* unlink_waiter may have freed the list with its last waiter. */
		if (!next)
			break;
	}
	pthread_mutex_unlock(&wlock);
}
