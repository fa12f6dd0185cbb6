/*
 * loop.h - one event loop per thread that wants one, after Redis's ae.c.
 *
 * Every novafs service runs its sockets and timers on a loop: the AMQP
 * connection, libvirt's event handles, signal descriptors, periodic tasks
 * and deadlines.  A loop belongs to the thread that calls loop_run(); every
 * function here must be called on that thread, except loop_post() and
 * loop_stop(), which any thread (loop_stop: also a signal handler) may call.
 *
 * File events are level-triggered poll(2) events.  The same descriptor may
 * be watched several times (libvirt does that); each watch has its own id.
 * Timers fire once, at or after their due time; a timer callback returns
 * the delay in milliseconds until it should run again, or LOOP_TIMER_DONE.
 * Callbacks may add and remove watches and timers, including their own.
 * Ids are never reused within a loop's lifetime, so removing an id that
 * already fired (or was removed) is harmless.
 *
 * Posted calls (loop_post) run on the loop thread in the order posted, at
 * the next iteration: that is how other threads hand work to the thread
 * that owns a connection.
 */
#ifndef NOVAFS_COMMON_LOOP_H
#define NOVAFS_COMMON_LOOP_H

#include <stdbool.h>

struct loop;

#define LOOP_READ 0x1u  /* POLLIN */
#define LOOP_WRITE 0x2u /* POLLOUT */
#define LOOP_ERROR 0x4u /* POLLERR, POLLHUP or POLLNVAL: reported, never asked for */

#define LOOP_TIMER_DONE (-1LL)

typedef void (*loop_fd_fn)(struct loop *l, int fd, unsigned events, void *ctx);
/* Returns the delay until the next run in milliseconds (>= 0), or
 * LOOP_TIMER_DONE to remove the timer.  A callback that cancels its own
 * timer has removed it, whatever it returns. */
typedef long long (*loop_timer_fn)(struct loop *l, void *ctx);
typedef void (*loop_call_fn)(void *ctx);

/* Creates a loop.  Returns 0 or -errno (-ENOMEM, or the eventfd error). */
int loop_new(struct loop **out);
/* Frees the loop; accepts NULL.  Posted calls that never ran are dropped
 * without being called: post only what may be lost at shutdown, or drain
 * with loop_run_once() first. */
void loop_free(struct loop *l);

/* Watches fd for events (LOOP_READ and/or LOOP_WRITE; 0 keeps the watch
 * but asks for nothing).  Returns a watch id (> 0) or -errno. */
long long loop_watch(struct loop *l, int fd, unsigned events, loop_fd_fn fn,
		     void *ctx);
/* Changes what a watch asks for.  Returns 0 or -ENOENT. */
int loop_watch_set(struct loop *l, long long id, unsigned events);
/* Removes a watch; unknown ids are ignored.  The watch's callback is not
 * called again, even for events already collected in this iteration. */
void loop_unwatch(struct loop *l, long long id);

/* Runs fn after delay_ms (0 or less: at the next iteration).  Returns a
 * timer id (> 0) or -errno. */
long long loop_timer(struct loop *l, long long delay_ms, loop_timer_fn fn,
		     void *ctx);
/* Moves a pending timer to now + delay_ms.  Returns 0 or -ENOENT. */
int loop_timer_reset(struct loop *l, long long id, long long delay_ms);
/* Cancels a timer; unknown ids are ignored. */
void loop_timer_cancel(struct loop *l, long long id);

/* Any thread: runs fn(ctx) on the loop thread at its next iteration.
 * Returns 0 or -ENOMEM. */
int loop_post(struct loop *l, loop_call_fn fn, void *ctx);

/* Runs until loop_stop().  Returns 0, or -errno if poll(2) fails for a
 * reason other than EINTR. */
int loop_run(struct loop *l);
/* Runs one iteration, waiting at most timeout_ms (-1: until something
 * happens) for an event.  Returns the number of callbacks run, or -errno:
 * -EBUSY when called from a callback of the same loop (neither this nor
 * loop_run() nests).  For tools and tests that drive a loop by hand. */
int loop_run_once(struct loop *l, int timeout_ms);
/* Any thread, also a signal handler: makes loop_run() return after the
 * current iteration. */
void loop_stop(struct loop *l);
/* True once loop_stop() was called (and until the next loop_run()). */
bool loop_stopping(const struct loop *l);

/* CLOCK_MONOTONIC milliseconds, read at the start of the current
 * iteration (cheap; good enough for deadlines). */
long long loop_now_ms(const struct loop *l);

#endif
