/*
 * virt_event.c - libvirt's event loop over loop.h; see virt_event.h.
 *
 * libvirt names its handles and timeouts by int ids of our choosing and
 * hands each an opaque pointer with a free function, which must not be
 * called from inside the remove call (libvirt may hold a lock there): a
 * removed event goes to a graveyard that a zero-delay timer empties at
 * the next iteration.  Until then the struct stays valid, so a callback
 * that removes its own handle or timeout is safe.
 *
 * A disabled timeout (period -1) keeps its id but has no loop timer; a
 * period of 0 fires at every iteration, as libvirt expects.  The loop
 * lumps POLLERR and POLLHUP together; libvirt treats both as "close this
 * stream", and gets VIR_EVENT_HANDLE_HANGUP for either.
 */
#include "virt_event.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>

#include "common/loop.h"

struct virt_ev {
	struct virt_ev *next;
	int id;
	bool timer;
	long long loop_id;           /* watch or timer id; 0: a disabled timeout */
	int period;                  /* timeouts */
	virEventHandleCallback handle_cb;
	virEventTimeoutCallback timeout_cb;
	void *opaque;
	virFreeCallback ff;
	bool removed;
};

static struct loop *ev_loop;
static struct virt_ev *ev_live, *ev_dead;
static long long ev_reaper;          /* the pending reap timer, or 0 */
static int ev_next_id = 1;

static struct virt_ev *ev_find(int id, bool timer)
{
	struct virt_ev *ev;

	for (ev = ev_live; ev; ev = ev->next)
		if (ev->id == id && ev->timer == timer)
			return ev;
	return NULL;
}

static struct virt_ev *ev_new(bool timer, void *opaque, virFreeCallback ff)
{
	struct virt_ev *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->id = ev_next_id++;
	ev->timer = timer;
	ev->opaque = opaque;
	ev->ff = ff;
	return ev;
}

static unsigned loop_events_of(int events)
{
	return ((events & VIR_EVENT_HANDLE_READABLE) ? LOOP_READ : 0) |
	       ((events & VIR_EVENT_HANDLE_WRITABLE) ? LOOP_WRITE : 0);
}

static void handle_fired(struct loop *l, int fd, unsigned events, void *ctx)
{
	struct virt_ev *ev = ctx;
	int vir = ((events & LOOP_READ) ? VIR_EVENT_HANDLE_READABLE : 0) |
		  ((events & LOOP_WRITE) ? VIR_EVENT_HANDLE_WRITABLE : 0) |
		  ((events & LOOP_ERROR) ? VIR_EVENT_HANDLE_HANGUP : 0);

	ev->handle_cb(ev->id, fd, vir, ev->opaque);
}

static int add_handle(int fd, int events, virEventHandleCallback cb,
		      void *opaque, virFreeCallback ff)
{
	struct virt_ev *ev = ev_new(false, opaque, ff);
	long long id;

	if (!ev)
		return -1;
	id = loop_watch(ev_loop, fd, loop_events_of(events), handle_fired, ev);
	if (id < 0) {
		free(ev);
		return -1;
	}
	ev->loop_id = id;
	ev->handle_cb = cb;
	ev->next = ev_live;
	ev_live = ev;
	return ev->id;
}

static void update_handle(int watch, int events)
{
	struct virt_ev *ev = ev_find(watch, false);

	if (ev)
		loop_watch_set(ev_loop, ev->loop_id, loop_events_of(events));
}

static long long timeout_fired(struct loop *l, void *ctx)
{
	struct virt_ev *ev = ctx;

	ev->timeout_cb(ev->id, ev->opaque);
	/* The callback may have changed or removed its timeout: a removal
	 * or a disable cancelled this loop timer, which then stays
	 * cancelled whatever we return. */
	return ev->removed || ev->period < 0 ? LOOP_TIMER_DONE : ev->period;
}

/* Arms or disarms ev's loop timer for ev->period. */
static int timeout_arm(struct virt_ev *ev)
{
	long long id;

	if (ev->period < 0) {
		loop_timer_cancel(ev_loop, ev->loop_id);
		ev->loop_id = 0;
		return 0;
	}
	if (ev->loop_id)
		return loop_timer_reset(ev_loop, ev->loop_id, ev->period);
	id = loop_timer(ev_loop, ev->period, timeout_fired, ev);
	if (id < 0)
		return (int)id;
	ev->loop_id = id;
	return 0;
}

static int add_timeout(int period, virEventTimeoutCallback cb, void *opaque,
		       virFreeCallback ff)
{
	struct virt_ev *ev = ev_new(true, opaque, ff);

	if (!ev)
		return -1;
	ev->timeout_cb = cb;
	ev->period = period;
	if (timeout_arm(ev) < 0) {
		free(ev);
		return -1;
	}
	ev->next = ev_live;
	ev_live = ev;
	return ev->id;
}

static void update_timeout(int timer, int period)
{
	struct virt_ev *ev = ev_find(timer, true);

	if (!ev)
		return;
	ev->period = period;
	timeout_arm(ev);
}

static long long reap(struct loop *l, void *ctx)
{
	struct virt_ev *ev;

	ev_reaper = 0;
	while ((ev = ev_dead)) {
		ev_dead = ev->next;
		if (ev->ff)
			ev->ff(ev->opaque);
		free(ev);
	}
	return LOOP_TIMER_DONE;
}

/* Unlinks ev, stops its watch or timer, and buries it.  A reap timer that
 * cannot be made now is made by the next removal. */
static int ev_remove(int id, bool timer)
{
	struct virt_ev **pp, *ev;
	long long r;

	for (pp = &ev_live; *pp && ((*pp)->id != id || (*pp)->timer != timer);
	     pp = &(*pp)->next)
		;
	ev = *pp;
	if (!ev)
		return -1;
	*pp = ev->next;
	ev->removed = true;
	if (timer)
		loop_timer_cancel(ev_loop, ev->loop_id);
	else
		loop_unwatch(ev_loop, ev->loop_id);
	ev->next = ev_dead;
	ev_dead = ev;
	if (!ev_reaper) {
		r = loop_timer(ev_loop, 0, reap, NULL);
		ev_reaper = r > 0 ? r : 0;
	}
	return 0;
}

static int remove_handle(int watch)
{
	return ev_remove(watch, false);
}

static int remove_timeout(int timer)
{
	return ev_remove(timer, true);
}

int virt_event_register(struct loop *loop)
{
	if (ev_loop)
		return ev_loop == loop ? 0 : -EBUSY;
	ev_loop = loop;
	virEventRegisterImpl(add_handle, update_handle, remove_handle,
			     add_timeout, update_timeout, remove_timeout);
	return 0;
}
