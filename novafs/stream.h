/*
 * stream.h - an append-only stream of lines that readers follow: the
 * events file, a console.
 *
 * Positions are absolute byte offsets since the stream began, so a
 * reader's position stays meaningful while old lines fall out: the stream
 * keeps the last max_lines lines, and a reader that fell further behind
 * resumes at the oldest line kept.  Readers at the end either block until
 * a line comes (stream_wait) or poll.
 */
#ifndef NOVAFS_STREAM_H
#define NOVAFS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stream;

/* A reader blocked at the end: wake is called (without the stream's
 * lock; it may read the stream) when data comes after pos, or with gone
 * when the stream is freed.  It has been removed before. */
struct stream_waiter {
	struct stream_waiter *prev, *next;
	uint64_t pos;
	void (*wake)(struct stream_waiter *w, bool gone);
	bool queued;
	bool cancelled;          /* stream_cancel() came before stream_wait() */
};

struct stream *stream_new(size_t max_lines);
/* Wakes every waiter with gone, then frees. */
void stream_free(struct stream *s);

/* Appends len bytes (one or more whole lines, each ending in '\n'). */
void stream_append(struct stream *s, const char *data, size_t len);

/* The range the stream holds now: [*start, *end). */
void stream_range(struct stream *s, uint64_t *start, uint64_t *end);
/* Copies up to size bytes from *pos into buf.  A *pos before the oldest
 * byte kept moves up to it first.  Returns the bytes copied (0 at the
 * end) and advances *pos. */
size_t stream_read(struct stream *s, uint64_t *pos, char *buf, size_t size);

/* Registers w to be woken when data beyond w->pos exists and returns 1;
 * returns 0 without registering when such data exists already, and
 * -EINTR when w was cancelled (stream_cancel) before. */
int stream_wait(struct stream *s, struct stream_waiter *w);
/* Removes w if registered; true when it was (the caller then owns the
 * reply, not wake).  Otherwise marks w cancelled, so that a stream_wait()
 * still to come refuses it: for an interrupt that may come before the
 * reader waits. */
bool stream_cancel(struct stream *s, struct stream_waiter *w);

#endif
