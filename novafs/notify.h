/*
 * notify.h - telling the kernel and waiting readers that something
 * changed.
 *
 * The kernel caches names and attributes (long timeouts, see fs.c) and is
 * told the moment they change.  An inode's attributes are invalidated at
 * once, as the change is published and before its system call returns,
 * so that stat() right after it is never stale: that takes no lock a
 * request could hold.  Names are another matter: invalidating an entry
 * takes its directory's lock, which the kernel may hold while it waits
 * for the very request that made the change (libfuse's notify_inval_entry
 * example says the same), so entry invalidations are queued, and a thread
 * of their own sends them.
 *
 * Readers that wait for a change (poll on an attribute, a blocking read of
 * a wait file or a stream) register a waiter on an object; a published
 * change of that object (of a field in the waiter's deps) calls its wake
 * function, under the object write lock and the waiters' lock, where it
 * must not block, nor wait for a request's lock (an interrupt callback
 * holds one while it takes the waiters' lock): what may, it hands to the
 * notifier thread (notify_call).
 */
#ifndef NOVAFS_NOTIFY_H
#define NOVAFS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fuse_lowlevel.h>

struct obj;

/* Starts the notifier thread for session se.  0 or -errno. */
int notify_start(struct fuse_session *se);
/* Sends what is queued, then stops. */
void notify_stop(void);

/* Invalidations (no-ops before notify_start).  An inode's attributes
 * are invalidated at once; entries are queued (see above). */
void notify_inval_inode(fuse_ino_t ino);
void notify_inval_entry(fuse_ino_t parent, const char *name);
void notify_delete(fuse_ino_t parent, fuse_ino_t child, const char *name);
/* Queues a poll notification; takes ph (destroyed after sending). */
void notify_poll(struct fuse_pollhandle *ph);
/* Runs fn(ctx) on the notifier thread, after what is queued: for what a
 * wake must not do under the waiters' lock.  Without the thread, or
 * without memory, runs it at once. */
void notify_call(void (*fn)(void *ctx), void *ctx);

struct waiter {
	struct waiter *prev, *next;
	uint64_t serial;             /* the object watched */
	uint64_t deps;               /* its fields of interest; ~0: any change */
	/* Optional: whether the change is the one awaited; when it returns
	 * false the waiter stays.  Called like wake. */
	bool (*ready)(struct waiter *w, struct obj *o);
	/* A change happened (or, with gone, the object was deleted).  The
	 * waiter has been removed before this is called. */
	void (*wake)(struct waiter *w, bool gone);
	bool queued;
	bool cancelled;              /* waiter_cancel() came before waiter_add() */
};

/* Registers w (its serial, deps and wake set).  Call with the object
 * read lock held, so that no change slips between reading and waiting.
 * Returns false, registering nothing, when w was cancelled before. */
bool waiter_add(struct waiter *w);
/* Removes w if it is still registered; returns true when it was (the
 * caller then owns the reply, not wake). */
bool waiter_remove(struct waiter *w);
/* As waiter_remove, and if w is not registered yet, marks it so that
 * waiter_add() refuses it: for an interrupt that may come before the
 * reader has queued its waiter. */
bool waiter_cancel(struct waiter *w);

/* For the store's publish step: wakes the waiters of o whose deps meet
 * mask (all of them when gone). */
void notify_object_changed(struct obj *o, uint64_t mask, bool gone);

#endif
