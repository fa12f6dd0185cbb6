/*
 * test_loop.c - loop.h: timer order, re-arm, reset and cancel (also from
 * other callbacks), watches removed or narrowed by an earlier callback in
 * the same iteration, errors, posts from four threads, and stops from a
 * thread and from a signal handler.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/loop.h"
#include "testhelp.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Runs l by hand until *done or about two seconds have passed. */
static void run_until(struct loop *l, const int *done)
{
	long long end = clock_mono_ms() + 2000;

	while (!*done && clock_mono_ms() < end)
		loop_run_once(l, 100);
}

/* --- timers --- */

struct log {
	char order[64];
	int n;
	int done;
};

struct mark {
	struct log *log;
	char c;
	int times;          /* re-arms left */
	long long rearm;    /* with this delay */
};

static long long mark_timer(struct loop *l, void *ctx)
{
	struct mark *m = ctx;

	m->log->order[m->log->n++] = m->c;
	if (m->times-- > 0)
		return m->rearm;
	return LOOP_TIMER_DONE;
}

static long long stop_timer(struct loop *l, void *ctx)
{
	*(int *)ctx = 1;
	return LOOP_TIMER_DONE;
}

static void test_timer_order(void)
{
	struct loop *l = NULL;
	struct log log = { 0 };
	struct mark m[] = { { &log, 'd', 0, 0 }, { &log, 'b', 0, 0 },
			    { &log, 'c', 0, 0 }, { &log, 'a', 0, 0 },
			    { &log, 'B', 0, 0 } };
	long long delays[] = { 30, 10, 20, 0, 10 };
	long long id, last = 0;
	bool increasing = true;
	size_t i;

	CHECK_INT(loop_new(&l), 0);
	for (i = 0; i < 5; i++) {
		id = loop_timer(l, delays[i], mark_timer, &m[i]);
		if (id <= last)
			increasing = false;
		last = id;
	}
	CHECK_MSG(increasing, "timer ids are positive and increasing");
	loop_timer(l, 45, stop_timer, &log.done);
	run_until(l, &log.done);
	/* Equal delays fire in the order set: b before B. */
	CHECK_STR(log.order, "abBcd");
	loop_free(l);
}

static void test_timer_rearm(void)
{
	struct loop *l = NULL;
	struct log log = { 0 };
	struct mark m = { &log, 'x', 3, 5 };
	long long start;

	loop_new(&l);
	start = clock_mono_ms();
	loop_timer(l, 5, mark_timer, &m);
	loop_timer(l, 300, stop_timer, &log.done); /* slack for slow CI */
	run_until(l, &log.done);
	CHECK_STR(log.order, "xxxx"); /* once, then re-armed three times */
	CHECK(clock_mono_ms() - start >= 20);
	loop_free(l);
}

/* A timer that re-arms itself with delay 0 runs once per iteration, not
 * in a loop within one. */
static void test_timer_zero_rearm(void)
{
	struct loop *l = NULL;
	struct log log = { 0 };
	struct mark m = { &log, 'z', 100, 0 };

	loop_new(&l);
	loop_timer(l, 0, mark_timer, &m);
	CHECK_INT(loop_run_once(l, 0), 1);
	CHECK_INT(loop_run_once(l, 0), 1);
	CHECK_INT(loop_run_once(l, 0), 1);
	CHECK_STR(log.order, "zzz");
	loop_free(l); /* frees the pending timer */
}

static void test_timer_reset(void)
{
	struct loop *l = NULL;
	struct log log = { 0 };
	struct mark a = { &log, 'a', 0, 0 }, b = { &log, 'b', 0, 0 };
	struct mark c = { &log, 'c', 0, 0 };
	long long ida, idc;

	loop_new(&l);
	ida = loop_timer(l, 60, mark_timer, &a);
	loop_timer(l, 20, mark_timer, &b);
	idc = loop_timer(l, 5, mark_timer, &c);
	CHECK_INT(loop_timer_reset(l, ida, 5), 0);  /* sooner */
	CHECK_INT(loop_timer_reset(l, idc, 40), 0); /* later */
	loop_timer(l, 55, stop_timer, &log.done);
	run_until(l, &log.done);
	CHECK_STR(log.order, "abc");
	/* Fired and gone: reset says so, cancel does not mind. */
	CHECK_INT(loop_timer_reset(l, ida, 5), -ENOENT);
	loop_timer_cancel(l, ida);
	CHECK_INT(loop_timer_reset(l, 12345, 5), -ENOENT);
	loop_free(l);
}

struct canceller {
	struct log *log;
	long long victim;
	bool self;          /* cancel itself instead, then ask to re-arm */
	long long own;
};

static long long cancel_timer(struct loop *l, void *ctx)
{
	struct canceller *c = ctx;

	c->log->order[c->log->n++] = 'k';
	loop_timer_cancel(l, c->self ? c->own : c->victim);
	return c->self ? 0 : LOOP_TIMER_DONE;
}

static void test_timer_cancel(void)
{
	struct loop *l = NULL;
	struct log log = { 0 };
	struct mark v = { &log, 'v', 0, 0 }, w = { &log, 'w', 0, 0 };
	struct canceller k = { &log, 0, false, 0 }, self = { &log, 0, true, 0 };
	long long idw;

	loop_new(&l);
	/* Both due in the same iteration: the first cancels the second,
	 * which must not run. */
	loop_timer(l, 0, cancel_timer, &k);
	k.victim = loop_timer(l, 0, mark_timer, &v);
	idw = loop_timer(l, 30, mark_timer, &w);
	loop_timer_cancel(l, idw);
	loop_timer_cancel(l, idw); /* twice: harmless */
	self.own = loop_timer(l, 0, cancel_timer, &self);
	loop_timer(l, 40, stop_timer, &log.done);
	run_until(l, &log.done);
	/* v cancelled by k; w cancelled before its time; self cancelled
	 * itself, and its request to re-arm lost to that. */
	CHECK_STR(log.order, "kk");
	loop_free(l);
}

/* Many timers, random delays, half reset, a quarter cancelled: each fires
 * once, never early, and cancelled ones never. */
#define NTIMERS 2000

struct stress {
	long long due;
	int fired;
	bool cancelled;
	bool early;
};

static long long stress_timer(struct loop *l, void *ctx)
{
	struct stress *s = ctx;

	s->fired++;
	if (clock_mono_ms() < s->due)
		s->early = true;
	return LOOP_TIMER_DONE;
}

static void test_timer_stress(void)
{
	static struct stress s[NTIMERS];
	static long long ids[NTIMERS];
	struct loop *l = NULL;
	bool ok = true;
	int done = 0, i;
	long long d;

	loop_new(&l);
	srand(7);
	for (i = 0; i < NTIMERS; i++) {
		d = rand() % 60;
		s[i].due = clock_mono_ms() + d;
		ids[i] = loop_timer(l, d, stress_timer, &s[i]);
	}
	for (i = 0; i < NTIMERS; i += 2) {
		d = rand() % 60;
		s[i].due = clock_mono_ms() + d;
		if (loop_timer_reset(l, ids[i], d) != 0)
			ok = false;
	}
	for (i = 0; i < NTIMERS; i += 4) {
		loop_timer_cancel(l, ids[i + 1]);
		s[i + 1].cancelled = true;
	}
	loop_timer(l, 100, stop_timer, &done);
	run_until(l, &done);
	for (i = 0; i < NTIMERS; i++)
		if (s[i].fired != (s[i].cancelled ? 0 : 1) || s[i].early)
			ok = false;
	CHECK_MSG(ok, "%d timers: each fires once, on time, unless cancelled",
		  NTIMERS);
	loop_free(l);
}

/* No busy loop: waiting for a timer 50 ms away is one iteration. */
static void test_timer_no_busy_wait(void)
{
	struct loop *l = NULL;
	int done = 0, iterations = 0;

	loop_new(&l);
	loop_timer(l, 50, stop_timer, &done);
	while (!done && iterations < 100) {
		loop_run_once(l, -1);
		iterations++;
	}
	CHECK(done);
	CHECK_MSG(iterations <= 2, "%d iterations", iterations);
	CHECK_INT(loop_run_once(l, 0), 0); /* nothing left */
	loop_free(l);
}

/* --- watches --- */

struct reader {
	int calls;
	unsigned events;
	bool drain;
	struct loop *l;
	long long unwatch;   /* removed by this callback */
	long long set_zero;  /* asked for nothing by this callback */
	long long added;     /* watch added by this callback */
	int fd;
};

static void on_read(struct loop *l, int fd, unsigned events, void *ctx)
{
	struct reader *r = ctx;
	char buf[64];

	r->calls++;
	r->events = events;
	if (r->drain && read(fd, buf, sizeof(buf)) < 0)
		r->events = 0;
	if (r->unwatch)
		loop_unwatch(l, r->unwatch);
	if (r->set_zero)
		loop_watch_set(l, r->set_zero, 0);
	if (r->fd >= 0 && !r->added)
		r->added = loop_watch(l, r->fd, LOOP_READ, on_read, r);
}

static void test_watch_basic(void)
{
	struct loop *l = NULL;
	struct reader a = { .fd = -1 }, b = { .fd = -1 };
	long long ida, idb;
	int p[2];

	loop_new(&l);
	CHECK_INT(pipe(p), 0);
	ida = loop_watch(l, p[0], LOOP_READ, on_read, &a);
	idb = loop_watch(l, p[0], LOOP_READ, on_read, &b); /* the same fd */
	CHECK(ida > 0 && idb > ida);
	CHECK_INT(loop_run_once(l, 0), 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	CHECK_INT(loop_run_once(l, 100), 2);
	CHECK_INT(a.calls, 1);
	CHECK_INT(b.calls, 1);
	CHECK_INT(a.events, LOOP_READ);
	/* Level-triggered: undrained, it fires again. */
	CHECK_INT(loop_run_once(l, 100), 2);
	CHECK_INT(a.calls, 2);
	/* Asking for nothing: no call, though data waits. */
	CHECK_INT(loop_watch_set(l, ida, 0), 0);
	CHECK_INT(loop_run_once(l, 0), 1);
	CHECK_INT(a.calls, 2);
	CHECK_INT(b.calls, 3);
	loop_unwatch(l, idb);
	loop_unwatch(l, idb);
	CHECK_INT(loop_watch_set(l, idb, LOOP_READ), -ENOENT);
	CHECK_INT(loop_run_once(l, 0), 0);
	/* A write watch on a pipe with room is ready at once. */
	loop_watch(l, p[1], LOOP_WRITE, on_read, &a);
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK_INT(a.events, LOOP_WRITE);
	CHECK(loop_watch(l, -1, LOOP_READ, on_read, &a) < 0);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* Two ready watches; whichever runs first removes (or silences) the other,
 * which must then not be called in this iteration. */
static void test_watch_removed_in_iteration(void)
{
	struct loop *l = NULL;
	struct reader a = { .fd = -1 }, b = { .fd = -1 };
	int p[2], q[2];

	loop_new(&l);
	CHECK_INT(pipe(p), 0);
	CHECK_INT(pipe(q), 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	CHECK_INT(write(q[1], "y", 1), 1);
	a.unwatch = loop_watch(l, q[0], LOOP_READ, on_read, &b);
	b.unwatch = loop_watch(l, p[0], LOOP_READ, on_read, &a);
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK_INT(a.calls + b.calls, 1);
	/* The one that ran is still there (its data too); the other is not. */
	CHECK_INT(loop_run_once(l, 0), 1);
	CHECK(a.calls == 2 || b.calls == 2);
	CHECK_INT(a.calls + b.calls, 2);
	loop_free(l);

	/* The same with loop_watch_set(..., 0) instead of removal. */
	loop_new(&l);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.fd = b.fd = -1;
	a.set_zero = loop_watch(l, q[0], LOOP_READ, on_read, &b);
	b.set_zero = loop_watch(l, p[0], LOOP_READ, on_read, &a);
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK_INT(a.calls + b.calls, 1);
	loop_free(l);

	/* A callback that removes its own watch and adds a new one on the
	 * same fd: the new one waits for the next iteration. */
	loop_new(&l);
	memset(&a, 0, sizeof(a));
	a.fd = p[0];
	a.unwatch = loop_watch(l, p[0], LOOP_READ, on_read, &a);
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK(a.added > a.unwatch);
	a.unwatch = 0;
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK_INT(a.calls, 2);
	loop_free(l);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_watch_errors(void)
{
	struct loop *l = NULL;
	struct reader a = { .fd = -1 }, b = { .fd = -1 };
	int p[2], q[2];

	loop_new(&l);
	CHECK_INT(pipe(p), 0);
	close(p[1]);
	/* A hung-up pipe: reported, though only LOOP_READ was asked for. */
	loop_watch(l, p[0], LOOP_READ, on_read, &a);
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK(a.events & LOOP_ERROR);
	close(p[0]);
	loop_free(l);

	/* A descriptor that is not open: POLLNVAL. */
	loop_new(&l);
	CHECK_INT(pipe(q), 0);
	close(q[0]);
	close(q[1]);
	loop_watch(l, q[0], LOOP_WRITE, on_read, &b);
	CHECK_INT(loop_run_once(l, 100), 1);
	CHECK_INT(b.events, LOOP_ERROR);
	loop_free(l);
}

/* --- posts and stops --- */

#define POSTERS 4
#define POSTS 10000

struct posts {
	struct loop *l;
	long next[POSTERS];
	long total;
	bool in_order;
	bool on_loop_thread;
	pthread_t loop_thread;
};

static struct posts posts;

static void on_post(void *ctx)
{
	uintptr_t v = (uintptr_t)ctx;
	int who = (int)(v >> 24);
	long seq = (long)(v & 0xffffff);

	if (seq != posts.next[who])
		posts.in_order = false;
	if (!pthread_equal(pthread_self(), posts.loop_thread))
		posts.on_loop_thread = false;
	posts.next[who] = seq + 1;
	if (++posts.total == POSTERS * POSTS)
		loop_stop(posts.l);
}

static void *poster(void *arg)
{
	uintptr_t who = (uintptr_t)arg;
	long i;

	for (i = 0; i < POSTS; i++)
		while (loop_post(posts.l, on_post, (void *)(who << 24 | (uintptr_t)i)))
			;
	return NULL;
}

static void test_post_threads(void)
{
	pthread_t t[POSTERS];
	uintptr_t i;

	loop_new(&posts.l);
	posts.in_order = true;
	posts.on_loop_thread = true;
	posts.loop_thread = pthread_self();
	for (i = 0; i < POSTERS; i++)
		pthread_create(&t[i], NULL, poster, (void *)i);
	CHECK_INT(loop_run(posts.l), 0);
	for (i = 0; i < POSTERS; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(posts.total, POSTERS * POSTS);
	CHECK_MSG(posts.in_order, "every thread's posts ran in the order posted");
	CHECK(posts.on_loop_thread);
	loop_free(posts.l);
}

static void count_call(void *ctx)
{
	(*(int *)ctx)++;
}

static void test_post_order_and_drop(void)
{
	struct loop *l = NULL;
	int n = 0;

	loop_new(&l);
	loop_post(l, count_call, &n);
	loop_post(l, count_call, &n);
	CHECK_INT(n, 0); /* not before the next iteration */
	CHECK_INT(loop_run_once(l, 100), 2);
	CHECK_INT(n, 2);
	loop_post(l, count_call, &n);
	loop_free(l); /* dropped, not called (and not leaked) */
	CHECK_INT(n, 2);
}

static void *stop_later(void *arg)
{
	sleep_ms(30);
	loop_stop(arg);
	return NULL;
}

static void test_stop_thread(void)
{
	struct loop *l = NULL;
	pthread_t t;
	long long start;

	loop_new(&l);
	CHECK(!loop_stopping(l));
	start = clock_mono_ms();
	pthread_create(&t, NULL, stop_later, l);
	CHECK_INT(loop_run(l), 0);
	pthread_join(t, NULL);
	CHECK(clock_mono_ms() - start >= 25);
	CHECK(loop_stopping(l)); /* until the next loop_run() */

	/* A stop made before loop_run() starts is not lost. */
	loop_stop(l);
	CHECK(loop_stopping(l));
	CHECK_INT(loop_run(l), 0);
	loop_free(l);
}

static struct loop *signal_loop;

static void on_alarm(int sig)
{
	loop_stop(signal_loop);
}

static void test_stop_signal(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 30000 } };
	struct sigaction sa;
	long long start;
	int done = 0;

	loop_new(&signal_loop);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	loop_timer(signal_loop, 5000, stop_timer, &done);
	start = clock_mono_ms();
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK_INT(loop_run(signal_loop), 0);
	CHECK(!done);
	CHECK_MSG(clock_mono_ms() - start < 1000, "stopped by SIGALRM after %lld ms",
		  clock_mono_ms() - start);
	signal(SIGALRM, SIG_DFL);
	loop_free(signal_loop);
}

/* --- the cached clock --- */

static void on_now(struct loop *l, int fd, unsigned events, void *ctx)
{
	long long *now = ctx;

	CHECK_INT(loop_run_once(l, 0), -EBUSY); /* no nesting */
	now[0] = loop_now_ms(l);
	sleep_ms(20);
	now[1] = loop_now_ms(l);
}

static void test_now_cached(void)
{
	struct loop *l = NULL;
	long long now[2] = { 0, 0 }, before, first;
	int p[2];

	loop_new(&l);
	CHECK_INT(pipe(p), 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	loop_watch(l, p[0], LOOP_READ, on_now, now);
	before = clock_mono_ms();
	loop_run_once(l, 100);
	CHECK(now[0] >= before && now[0] <= before + 200);
	CHECK(now[0] == now[1]); /* the same all iteration long */
	first = now[0];
	CHECK_INT(loop_run_once(l, 0), 1);
	CHECK(loop_now_ms(l) >= first + 20); /* and new in the next one */
	loop_free(l);
	loop_free(NULL);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	test_timer_order();
	test_timer_rearm();
	test_timer_zero_rearm();
	test_timer_reset();
	test_timer_cancel();
	test_timer_stress();
	test_timer_no_busy_wait();
	test_watch_basic();
	test_watch_removed_in_iteration();
	test_watch_errors();
	test_post_threads();
	test_post_order_and_drop();
	test_stop_thread();
	test_stop_signal();
	test_now_cached();
	return test_done();
}
