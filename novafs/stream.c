/*
 * stream.c - the line ring of stream.h.
 *
 * The ring holds one allocation per line and the absolute offset where
 * each begins; reading finds the line of a position by binary search.
 */
#include "stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct line {
	uint64_t off;
	size_t len;
	char *data;
};

struct stream {
	pthread_mutex_t lock;
	struct line *ring;
	size_t max, first, count;   /* ring[first] is the oldest line */
	uint64_t end;               /* offset after the last byte */
	struct stream_waiter *waiters;
};

struct stream *stream_new(size_t max_lines)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ring = calloc(max_lines, sizeof(*s->ring));
	if (!s->ring) {
		free(s);
		return NULL;
	}
	s->max = max_lines;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void unlink_waiter(struct stream *s, struct stream_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		s->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
}

/* Unlinks the waiters to wake (all with gone) into a list of their own,
 * under the lock; the caller wakes them after letting go of it, since a
 * woken reader reads the stream. */
static struct stream_waiter *take_waiters(struct stream *s, bool gone)
{
	struct stream_waiter *w, *next, *woken = NULL;

	for (w = s->waiters; w; w = next) {
		next = w->next;
		if (!gone && w->pos >= s->end)
			continue;
		unlink_waiter(s, w);
		w->next = woken;
		woken = w;
	}
	return woken;
}

static void wake(struct stream_waiter *woken, bool gone)
{
	struct stream_waiter *w, *next;

	for (w = woken; w; w = next) {
		next = w->next;
		w->next = NULL;
		w->wake(w, gone);
	}
}

void stream_free(struct stream *s)
{
	struct stream_waiter *woken;
	size_t i;

	if (!s)
		return;

	pthread_mutex_lock(&s->lock);
	woken = take_waiters(s, true);
	pthread_mutex_unlock(&s->lock);
	wake(woken, true);
	for (i = 0; i < s->count; i++)
		free(s->ring[(s->first + i) % s->max].data);
	free(s->ring);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void stream_append(struct stream *s, const char *data, size_t len)
{
	struct stream_waiter *woken;
	struct line *l;
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return; /* a lost line beats a crashed daemon */
	memcpy(copy, data, len);
	pthread_mutex_lock(&s->lock);
	if (s->count == s->max) {
		free(s->ring[s->first].data);
		s->first = (s->first + 1) % s->max;
		s->count--;
	}
	l = &s->ring[(s->first + s->count) % s->max];
	l->off = s->end;
	l->len = len;
	l->data = copy;
	s->count++;
	s->end += len;
	woken = take_waiters(s, false);
	pthread_mutex_unlock(&s->lock);
	wake(woken, false);
}

static uint64_t start_of(const struct stream *s)
{
	return s->count ? s->ring[s->first].off : s->end;
}

void stream_range(struct stream *s, uint64_t *start, uint64_t *end)
{
	pthread_mutex_lock(&s->lock);
	*start = start_of(s);
	*end = s->end;
	pthread_mutex_unlock(&s->lock);
}

size_t stream_read(struct stream *s, uint64_t *pos, char *buf, size_t size)
{
	size_t lo, hi, mid, done = 0;

	pthread_mutex_lock(&s->lock);
	if (*pos < start_of(s))
		*pos = start_of(s);
	/* The line holding *pos: the last one starting at or before it. */
	lo = 0;
	hi = s->count;
	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (s->ring[(s->first + mid) % s->max].off <= *pos)
			lo = mid;
		else
			hi = mid;
	}
	for (; lo < s->count && done < size && *pos < s->end; lo++) {
		const struct line *l = &s->ring[(s->first + lo) % s->max];
		size_t skip = (size_t)(*pos - l->off), n = l->len - skip;

		if (*pos < l->off || *pos >= l->off + l->len)
			continue;
		if (n > size - done)
			n = size - done;
		memcpy(buf + done, l->data + skip, n);
		done += n;
		*pos += n;
	}
	pthread_mutex_unlock(&s->lock);
	return done;
}

int stream_wait(struct stream *s, struct stream_waiter *w)
{
	int queued = 0;

	pthread_mutex_lock(&s->lock);
	if (w->cancelled) {
		queued = -EINTR;
	} else if (w->pos >= s->end) {
		w->prev = NULL;
		w->next = s->waiters;
		if (s->waiters)
			s->waiters->prev = w;
		s->waiters = w;
		w->queued = true;
		queued = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return queued;
}

bool stream_cancel(struct stream *s, struct stream_waiter *w)
{
	bool was;

	pthread_mutex_lock(&s->lock);
	was = w->queued;
	if (was)
		unlink_waiter(s, w);
	else
		w->cancelled = true;
	pthread_mutex_unlock(&s->lock);
	return was;
}
