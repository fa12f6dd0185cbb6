/*
 * clock.c - the monotonic and the real-time clock of clock.h.
 *
 * clock_gettime() cannot fail for these two clocks on Linux (they always
 * exist and the timespec is ours), so nothing here returns an error.
 */
#include "common/clock.h"

#include <stdio.h>

#define NS_PER_S 1000000000LL

static int64_t clock_read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
	return clock_read_ns(CLOCK_MONOTONIC);
}

int64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

int64_t clock_real_ns(void)
{
	return clock_read_ns(CLOCK_REALTIME);
}

struct timespec clock_ns_to_timespec(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / NS_PER_S);
	ts.tv_nsec = (long)(ns % NS_PER_S);
	if (ts.tv_nsec < 0) { /* before 1970: C division truncates toward 0 */
		ts.tv_sec--;
		ts.tv_nsec += NS_PER_S;
	}
	return ts;
}

void clock_format_iso(int64_t ns, char buf[CLOCK_ISO_LEN])
{
	struct timespec ts = clock_ns_to_timespec(ns);
	unsigned us = (unsigned)(ts.tv_nsec / 1000) % 1000000u;
	struct tm tm;
	size_t n;

	gmtime_r(&ts.tv_sec, &tm);
	/* Room is left for ".123456Z" and the NUL; strftime writes nothing
	 * for a year too wide for the rest. */
	n = strftime(buf, CLOCK_ISO_LEN - 9, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, CLOCK_ISO_LEN - n, ".%06uZ", us);
}
