/*
 * test_stream.c - the line ring behind the events file: absolute
 * positions, lines falling out, readers behind, waiters.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "testhelp.h"
#include "stream.h"

static int woken, gone;

static void wake(struct stream_waiter *w, bool is_gone)
{
	woken++;
	gone += is_gone;
}

int main(void)
{
	struct stream *s = stream_new(3);
	struct stream_waiter w = { .wake = wake }, early = { .wake = wake };
	uint64_t start, end, pos = 0;
	char buf[64];
	size_t n;

	CHECK(s != NULL);
	stream_range(s, &start, &end);
	CHECK_INT(start, 0);
	CHECK_INT(end, 0);
	CHECK_INT(stream_read(s, &pos, buf, sizeof(buf)), 0);

	stream_append(s, "one\n", 4);
	stream_append(s, "two\n", 4);
	n = stream_read(s, &pos, buf, sizeof(buf));
	CHECK_INT(n, 8);
	CHECK(memcmp(buf, "one\ntwo\n", 8) == 0);
	CHECK_INT(pos, 8);

	/* A read may stop inside a line and go on from there. */
	pos = 1;
	CHECK_INT(stream_read(s, &pos, buf, 5), 5);
	CHECK(memcmp(buf, "ne\ntw", 5) == 0);
	CHECK_INT(pos, 6);

	/* Lines fall out; a reader behind resumes at the oldest kept. */
	stream_append(s, "three\n", 6);
	stream_append(s, "four\n", 5);
	stream_range(s, &start, &end);
	CHECK_INT(start, 4);
	CHECK_INT(end, 19);
	pos = 0;
	n = stream_read(s, &pos, buf, sizeof(buf));
	CHECK_INT(n, 15);
	CHECK(memcmp(buf, "two\nthree\nfour\n", 15) == 0);
	CHECK_INT(pos, 19);

	/* A waiter at the end is woken by the next line, once. */
	w.pos = 19;
	CHECK_INT(stream_wait(s, &w), 1);
	stream_append(s, "five\n", 5);
	CHECK_INT(woken, 1);
	w.pos = 0;
	CHECK_INT(stream_wait(s, &w), 0);   /* data already there: not queued */
	w.pos = 24;
	CHECK_INT(stream_wait(s, &w), 1);
	CHECK(stream_cancel(s, &w));        /* removed before anything came */
	stream_append(s, "six\n", 4);
	CHECK_INT(woken, 1);
	/* An interrupt before the reader waits: its wait is refused. */
	early.pos = 28;
	CHECK(!stream_cancel(s, &early));
	CHECK_INT(stream_wait(s, &early), -EINTR);
	w.pos = 28;
	CHECK_INT(stream_wait(s, &w), 1);
	stream_free(s);                 /* wakes it with gone */
	CHECK_INT(woken, 2);
	CHECK_INT(gone, 1);
	return test_done();
}
