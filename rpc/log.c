/*
 * log.c - the one-line-per-event stderr log of log.h.
 *
 * Each line is formatted into a local buffer first and written with a single
 * fprintf, so lines from concurrent threads (FUSE workers, the RPC thread)
 * never interleave: stdio locks the stream for the length of one call.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_progname = "novafs";
static enum log_level log_max = LOG_LVL_INFO;

static const char *const log_names[] = {
	[LOG_LVL_ERROR] = "ERROR",
	[LOG_LVL_WARN] = "WARNING",
	[LOG_LVL_INFO] = "INFO",
	[LOG_LVL_DEBUG] = "DEBUG",
};

void log_setup(const char *progname, enum log_level max_level)
{
	const char *slash;

	if (progname) {
		slash = strrchr(progname, '/');
		log_progname = slash ? slash + 1 : progname;
	}
	log_max = max_level;
	/* Line-buffered, so a line goes out whole even if stderr is a file. */
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t len;

	if (level > log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';

	fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s\n", stamp, ts.tv_nsec / 1000000L,
		log_progname, (long)getpid(),
		level <= LOG_LVL_DEBUG ? log_names[level] : "?", msg);
}
