/*
 * loop.c - the poll(2) event loop of loop.h.
 *
 * poll, not epoll: libvirt watches one descriptor several times, which
 * epoll refuses (EEXIST), and a service has a handful of descriptors, so
 * poll's scan of them costs nothing.
 *
 * Callbacks may remove any watch or timer, so nothing in a dispatch holds
 * a pointer across a callback.  An iteration polls a snapshot of watch ids
 * and looks each one up again before calling it: a watch removed by an
 * earlier callback is simply not found.  Timers sit in a binary min-heap
 * ordered by (due, id), each knowing its slot, so reset and cancel cost
 * O(log n); the due ones are taken out into a batch of ids before any of
 * them runs, so a timer that re-arms itself with delay 0 runs once per
 * iteration instead of forever.  Arrays are grown when a watch or timer is
 * added, so an iteration itself never allocates.
 *
 * Other threads reach the loop through one eventfd that the loop always
 * polls: loop_post() queues a call under a mutex and writes to it,
 * loop_stop() bumps an atomic counter and writes to it.
 */
#include "common/loop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/hash.h"

/* loop_stop() runs in signal handlers. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "loop_stop needs a lock-free atomic");

/* What watches and timers share: an id, and their place in an id table. */
struct item {
	struct hash_entry by_id;
	long long id;
};

struct watch {
	struct item item;
	int fd;
	unsigned events;          /* LOOP_READ | LOOP_WRITE */
	loop_fd_fn fn;
	void *ctx;
	struct watch *prev, *next; /* in the order added */
};

#define NOT_IN_HEAP SIZE_MAX

struct timer {
	struct item item;
	long long due;            /* clock_mono_ms() */
	size_t slot;              /* in l->heap, or NOT_IN_HEAP (due, running) */
	loop_timer_fn fn;
	void *ctx;
};

struct post {
	struct post *next;
	loop_call_fn fn;
	void *ctx;
};

struct loop {
	long long next_id;
	long long now;

	struct hash_table watches;  /* struct watch by id */
	struct watch *first, *last;
	size_t nwatches;
	struct pollfd *pfds;        /* [0] is wake_fd, then the watches */
	long long *pids;            /* the watch id behind pfds[i] */
	size_t pcap;                /* capacity of pfds and pids */

	struct hash_table timers;   /* struct timer by id */
	struct timer **heap;
	size_t nheap;
	long long *batch;           /* ids of the timers due this iteration */
	size_t ntimers;
	size_t tcap;                /* capacity of heap and batch */

	bool dispatching;           /* inside loop_run_once() */

	int wake_fd;
	pthread_mutex_t post_lock;
	struct post *post_head, **post_tail;

	/* loop_stop() counts; loop_run() returns once the count differs from
	 * its baseline, the count when the previous run returned.  A count
	 * and not a flag, so that a stop made before loop_run() starts, or
	 * between two runs, is not lost. */
	atomic_uint stops;
	unsigned stops_seen;        /* the baseline of the current run */
	unsigned stops_done;        /* the count when loop_run() returned */
};

static int item_cmp(const struct hash_entry *e, const void *key)
{
	const struct item *it = container_of(e, struct item, by_id);

	return it->id != *(const long long *)key;
}

static struct item *item_find(const struct hash_table *t, long long id)
{
	struct hash_entry *e = hash_get(t, hash_u64((uint64_t)id), &id);

	return e ? container_of(e, struct item, by_id) : NULL;
}

static int item_add(struct hash_table *t, struct item *it)
{
	return hash_add(t, &it->by_id, hash_u64((uint64_t)it->id));
}

static struct watch *watch_find(const struct loop *l, long long id)
{
	struct item *it = item_find(&l->watches, id);

	return it ? container_of(it, struct watch, item) : NULL;
}

static struct timer *timer_find(const struct loop *l, long long id)
{
	struct item *it = item_find(&l->timers, id);

	return it ? container_of(it, struct timer, item) : NULL;
}

/* The capacity after cap that holds need elements. */
static size_t grown(size_t cap, size_t need)
{
	if (!cap)
		cap = 8;
	while (cap < need)
		cap *= 2;
	return cap;
}

/* A partial failure leaves the capacity as it was: the array that did grow
 * is just bigger than recorded. */
static int reserve_polls(struct loop *l, size_t need)
{
	size_t cap = grown(l->pcap, need);
	struct pollfd *pfds;
	long long *pids;

	if (need <= l->pcap)
		return 0;
	pfds = realloc(l->pfds, cap * sizeof(*pfds));
	if (!pfds)
		return -ENOMEM;
	l->pfds = pfds;
	pids = realloc(l->pids, cap * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	l->pids = pids;
	l->pcap = cap;
	return 0;
}

static int reserve_timers(struct loop *l, size_t need)
{
	size_t cap = grown(l->tcap, need);
	struct timer **heap;
	long long *batch;

	if (need <= l->tcap)
		return 0;
	heap = realloc(l->heap, cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	l->heap = heap;
	batch = realloc(l->batch, cap * sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	l->batch = batch;
	l->tcap = cap;
	return 0;
}

/* Wakes poll(); async-signal-safe, and keeps errno for the handler's sake.
 * Writing fails only with EAGAIN when the counter is near overflow, and
 * then a wakeup is pending anyway. */
static void loop_wake(struct loop *l)
{
	uint64_t one = 1;
	int saved = errno;

	while (write(l->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	errno = saved;
}

int loop_new(struct loop **out)
{
	struct loop *l;
	int r;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->wake_fd = -1;
	l->next_id = 1;
	l->now = clock_mono_ms();
	hash_init(&l->watches, item_cmp);
	hash_init(&l->timers, item_cmp);
	pthread_mutex_init(&l->post_lock, NULL);
	l->post_tail = &l->post_head;
	atomic_init(&l->stops, 0);

	r = reserve_polls(l, 1);
	if (r < 0)
		goto fail;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0) {
		r = -errno;
		goto fail;
	}
	*out = l;
	return 0;
fail:
	loop_free(l);
	return r;
}

void loop_free(struct loop *l)
{
	struct hash_iter it;
	struct hash_entry *e;
	struct watch *w;
	struct post *p;

	if (!l)
		return;
	while ((w = l->first)) {
		l->first = w->next;
		free(w);
	}
	/* Timers due in a batch are out of the heap, never out of the table. */
	hash_iter_init(&it, &l->timers);
	while ((e = hash_iter_next(&it)))
		free(container_of(e, struct timer, item.by_id));
	while ((p = l->post_head)) {
		l->post_head = p->next;
		free(p);
	}
	hash_release(&l->watches);
	hash_release(&l->timers);
	free(l->pfds);
	free(l->pids);
	free(l->heap);
	free(l->batch);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	pthread_mutex_destroy(&l->post_lock);
	free(l);
}

long long loop_watch(struct loop *l, int fd, unsigned events, loop_fd_fn fn,
		     void *ctx)
{
	struct watch *w;
	int r;

	if (fd < 0)
		return -EBADF;
	r = reserve_polls(l, l->nwatches + 2);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->item.id = l->next_id++;
	w->fd = fd;
	w->events = events & (LOOP_READ | LOOP_WRITE);
	w->fn = fn;
	w->ctx = ctx;
	r = item_add(&l->watches, &w->item);
	if (r < 0) {
		free(w);
		return r;
	}
	w->prev = l->last;
	if (l->last)
		l->last->next = w;
	else
		l->first = w;
	l->last = w;
	l->nwatches++;
	return w->item.id;
}

int loop_watch_set(struct loop *l, long long id, unsigned events)
{
	struct watch *w = watch_find(l, id);

	if (!w)
		return -ENOENT;
	w->events = events & (LOOP_READ | LOOP_WRITE);
	return 0;
}

void loop_unwatch(struct loop *l, long long id)
{
	struct watch *w = watch_find(l, id);

	if (!w)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		l->first = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		l->last = w->prev;
	hash_remove(&l->watches, &w->item.by_id);
	l->nwatches--;
	free(w);
}

/* Heap order: earlier first; equal times in the order the timers were made,
 * so timers set for the same moment fire in the order they were set. */
static int timer_before(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->item.id < b->item.id);
}

static void heap_place(struct loop *l, size_t slot, struct timer *t)
{
	l->heap[slot] = t;
	t->slot = slot;
}

/* Moves the timer in slot to where it belongs, up or down. */
static void heap_fix(struct loop *l, size_t slot)
{
	struct timer *t = l->heap[slot];
	size_t child;

	while (slot > 0 && timer_before(t, l->heap[(slot - 1) / 2])) {
		heap_place(l, slot, l->heap[(slot - 1) / 2]);
		slot = (slot - 1) / 2;
	}
	for (;;) {
		child = 2 * slot + 1;
		if (child >= l->nheap)
			break;
		if (child + 1 < l->nheap &&
		    timer_before(l->heap[child + 1], l->heap[child]))
			child++;
		if (!timer_before(l->heap[child], t))
			break;
		heap_place(l, slot, l->heap[child]);
		slot = child;
	}
	heap_place(l, slot, t);
}

static void heap_remove(struct loop *l, struct timer *t)
{
	size_t slot = t->slot;
	struct timer *last = l->heap[--l->nheap];

	t->slot = NOT_IN_HEAP;
	if (last == t)
		return;
	heap_place(l, slot, last);
	heap_fix(l, slot);
}

/* Sets t to run delay_ms from now (a delay already past: at the next
 * iteration), into the heap or within it. */
static void timer_schedule(struct loop *l, struct timer *t, long long delay_ms)
{
	long long now = clock_mono_ms();

	if (delay_ms < 0)
		delay_ms = 0;
	t->due = delay_ms > LLONG_MAX - now ? LLONG_MAX : now + delay_ms;
	if (t->slot == NOT_IN_HEAP) {
		l->heap[l->nheap] = t;
		t->slot = l->nheap++;
	}
	heap_fix(l, t->slot);
}

static void timer_free(struct loop *l, struct timer *t)
{
	if (t->slot != NOT_IN_HEAP)
		heap_remove(l, t);
	hash_remove(&l->timers, &t->item.by_id);
	l->ntimers--;
	free(t);
}

long long loop_timer(struct loop *l, long long delay_ms, loop_timer_fn fn,
		     void *ctx)
{
	struct timer *t;
	int r;

	r = reserve_timers(l, l->ntimers + 1);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->item.id = l->next_id++;
	t->slot = NOT_IN_HEAP;
	t->fn = fn;
	t->ctx = ctx;
	r = item_add(&l->timers, &t->item);
	if (r < 0) {
		free(t);
		return r;
	}
	l->ntimers++;
	timer_schedule(l, t, delay_ms);
	return t->item.id;
}

int loop_timer_reset(struct loop *l, long long id, long long delay_ms)
{
	struct timer *t = timer_find(l, id);

	if (!t)
		return -ENOENT;
	timer_schedule(l, t, delay_ms);
	return 0;
}

void loop_timer_cancel(struct loop *l, long long id)
{
	struct timer *t = timer_find(l, id);

	if (t)
		timer_free(l, t);
}

int loop_post(struct loop *l, loop_call_fn fn, void *ctx)
{
	struct post *p = malloc(sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->fn = fn;
	p->ctx = ctx;
	pthread_mutex_lock(&l->post_lock);
	*l->post_tail = p;
	l->post_tail = &p->next;
	pthread_mutex_unlock(&l->post_lock);
	loop_wake(l);
	return 0;
}

/* Runs the calls posted so far; returns how many. */
static int run_posted(struct loop *l)
{
	struct post *p, *next;
	uint64_t count;
	int ran = 0;

	/* Reset the counter before taking the queue: a call posted after
	 * this read writes it again and wakes the next iteration. */
	while (read(l->wake_fd, &count, sizeof(count)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&l->post_lock);
	p = l->post_head;
	l->post_head = NULL;
	l->post_tail = &l->post_head;
	pthread_mutex_unlock(&l->post_lock);
	for (; p; p = next) {
		next = p->next;
		p->fn(p->ctx);
		free(p);
		ran++;
	}
	return ran;
}

static short poll_events(unsigned events)
{
	return (short)(((events & LOOP_READ) ? POLLIN : 0) |
		       ((events & LOOP_WRITE) ? POLLOUT : 0));
}

static unsigned loop_events(short revents)
{
	return ((revents & POLLIN) ? LOOP_READ : 0) |
	       ((revents & POLLOUT) ? LOOP_WRITE : 0) |
	       ((revents & (POLLERR | POLLHUP | POLLNVAL)) ? LOOP_ERROR : 0);
}

/* Calls the watches polled in pfds[1..n]; returns how many ran. */
static int run_watches(struct loop *l, size_t n)
{
	struct watch *w;
	unsigned events;
	size_t i;
	int ran = 0;

	for (i = 1; i <= n; i++) {
		if (!l->pfds[i].revents)
			continue;
		w = watch_find(l, l->pids[i]);
		if (!w)
			continue; /* removed by an earlier callback */
		/* Or narrowed what it asks for. */
		events = loop_events(l->pfds[i].revents) &
			 (w->events | LOOP_ERROR);
		if (!w->events || !events)
			continue;
		w->fn(l, w->fd, events, w->ctx);
		ran++;
	}
	return ran;
}

/* Runs the timers due at l->now; returns how many ran. */
static int run_timers(struct loop *l)
{
	struct timer *t;
	long long next;
	size_t n = 0, i;
	int ran = 0;

	while (l->nheap && l->heap[0]->due <= l->now) {
		t = l->heap[0];
		heap_remove(l, t);
		l->batch[n++] = t->item.id;
	}
	for (i = 0; i < n; i++) {
		t = timer_find(l, l->batch[i]);
		/* Cancelled, or moved back into the heap by a reset, by an
		 * earlier callback. */
		if (!t || t->slot != NOT_IN_HEAP)
			continue;
		next = t->fn(l, t->ctx);
		ran++;
		/* The callback may have cancelled its own timer: that wins.
		 * Otherwise its return value does, even over a reset. */
		t = timer_find(l, l->batch[i]);
		if (!t)
			continue;
		if (next < 0)
			timer_free(l, t);
		else
			timer_schedule(l, t, next);
	}
	return ran;
}

/* The poll timeout: until the earliest timer, at most timeout_ms. */
static int poll_timeout(const struct loop *l, int timeout_ms)
{
	long long wait = -1;

	if (l->nheap) {
		wait = l->heap[0]->due - clock_mono_ms();
		if (wait < 0)
			wait = 0;
	}
	if (timeout_ms >= 0 && (wait < 0 || wait > timeout_ms))
		wait = timeout_ms;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct watch *w;
	size_t n = 0;
	int r, ran = 0;

	/* A nested iteration would overwrite this one's snapshot and batch,
	 * and strand the timers taken out of the heap for it. */
	if (l->dispatching)
		return -EBUSY;
	l->pfds[0].fd = l->wake_fd;
	l->pfds[0].events = POLLIN;
	/* A watch that asks for nothing is left out altogether: poll reports
	 * POLLHUP even unasked, and a hung-up socket whose owner paused it
	 * would otherwise wake the loop forever. */
	for (w = l->first; w; w = w->next) {
		if (!w->events)
			continue;
		n++;
		l->pfds[n].fd = w->fd;
		l->pfds[n].events = poll_events(w->events);
		l->pids[n] = w->item.id;
	}
	r = poll(l->pfds, n + 1, poll_timeout(l, timeout_ms));
	if (r < 0 && errno != EINTR)
		return -errno;
	l->now = clock_mono_ms();
	l->dispatching = true;
	if (r > 0) {
		if (l->pfds[0].revents)
			ran += run_posted(l);
		ran += run_watches(l, n);
	}
	ran += run_timers(l);
	l->dispatching = false;
	return ran;
}

int loop_run(struct loop *l)
{
	int r = 0;

	l->stops_seen = l->stops_done;
	while (!loop_stopping(l)) {
		r = loop_run_once(l, -1);
		if (r < 0)
			break;
	}
	l->stops_done = atomic_load(&l->stops);
	return r < 0 ? r : 0;
}

void loop_stop(struct loop *l)
{
	atomic_fetch_add(&l->stops, 1);
	loop_wake(l);
}

bool loop_stopping(const struct loop *l)
{
	return atomic_load(&l->stops) != l->stops_seen;
}

long long loop_now_ms(const struct loop *l)
{
	return l->now;
}
