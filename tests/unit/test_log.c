/*
 * test_log.c - log.h: the line format, one line per call whatever the
 * message holds (a forged second line stays on the first, escaped), the
 * level filter, whole lines from concurrent threads; and clock.h's
 * timestamps, which the lines start with.
 */
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "testhelp.h"

static char path[] = "/tmp/test_log.XXXXXX";
static char out[1 << 20];
static int saved_stderr = -1;

/* From here to log_end(), stderr goes to a file. */
static void log_begin(void)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Puts stderr back and leaves what was logged in out; returns the
 * number of lines. */
static int log_end(void)
{
	ssize_t n;
	int fd, lines = 0;
	char *c;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fd = open(path, O_RDONLY);
	n = read(fd, out, sizeof(out) - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	for (c = out; (c = strchr(c, '\n')); c++)
		lines++;
	return lines;
}

/* Whether s is exactly one well-formed line of level with message msg. */
static int is_line(const char *s, const char *level, const char *msg)
{
	char pattern[512];
	regex_t re;
	int ok;

	snprintf(pattern, sizeof(pattern),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
		 "\\.[0-9]{6}Z test-log\\[%ld\\] %s: ", (long)getpid(), level);
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	s = strstr(s, ": ");
	return ok && s && strcmp(s + 2, msg) == 0;
}

static void test_format(void)
{
	log_setup("/usr/bin/test-log", LOG_LVL_INFO);
	log_begin();
	log_info("instance %s started", "web1");
	CHECK_INT(log_end(), 1);
	CHECK_MSG(is_line(out, "INFO", "instance web1 started\n"), "%s", out);

	log_begin();
	log_error("a %d", 1);
	log_warn("b");
	log_debug("not shown at INFO");
	CHECK_INT(log_end(), 2);
	CHECK(strstr(out, " ERROR: a 1\n") && strstr(out, " WARNING: b\n"));

	log_setup(NULL, LOG_LVL_DEBUG); /* keeps the name */
	log_begin();
	log_debug("shown");
	CHECK_INT(log_end(), 1);
	CHECK(is_line(out, "DEBUG", "shown\n"));
	log_setup(NULL, LOG_LVL_INFO);
}

static void test_forged_line(void)
{
	const char *name = "web1\n2026-11-25T18:39:03.123456Z test-log[1] "
			   "INFO: forged";

	log_begin();
	log_info("deleted %s", name);
	CHECK_INT(log_end(), 1);
	CHECK(is_line(out, "INFO", "deleted web1\\n2026-11-25T18:39:03.123456Z "
		      "test-log[1] INFO: forged\n"));

	/* One trailing newline is not part of the message; a second one is. */
	log_begin();
	log_info("a\n");
	log_info("b\n\n");
	log_info("c\r\n\t\x1b[2J\\ caf\xc3\xa9");
	CHECK_INT(log_end(), 3);
	CHECK(strstr(out, " INFO: a\n"));
	CHECK(strstr(out, " INFO: b\\n\n"));
	/* Backslashes stay: a message escaped once (a fault re-raised)
	 * is not escaped again, and only control bytes could forge. */
	CHECK(strstr(out, " INFO: c\\r\\n\\t\\x1b[2J\\ caf\xc3\xa9\n"));
}

/* Longer than any fixed buffer: nothing is cut, and still one line. */
static void test_long_line(void)
{
	static char big[10000];

	memset(big, 'x', sizeof(big) - 1);
	big[5000] = '\n';
	log_begin();
	log_info("%s", big);
	CHECK_INT(log_end(), 1);
	/* 9,998 x, the two bytes of "\n", and the line's own newline */
	CHECK_INT(strlen(strstr(out, " INFO: ") + 7), 9998 + 2 + 1);
}

#define THREADS 4
#define LINES 500

static void *logger(void *arg)
{
	int i;

	for (i = 0; i < LINES; i++)
		log_info("thread %ld line %d %s", (long)(size_t)arg, i,
			 "padding padding padding padding padding padding");
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	int i, n, lines, good = 0;
	char *line, *save;
	char msg[128];
	long who;

	log_begin();
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, logger, (void *)(size_t)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	lines = log_end();
	CHECK_INT(lines, THREADS * LINES);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line = strstr(line, " INFO: ");
		if (!line || sscanf(line, " INFO: thread %ld line %d", &who,
				    &n) != 2)
			continue;
		snprintf(msg, sizeof(msg), " INFO: thread %ld line %d padding "
			 "padding padding padding padding padding", who, n);
		if (strcmp(line, msg) == 0)
			good++;
	}
	CHECK_MSG(good == THREADS * LINES, "%d whole lines of %d", good,
		  THREADS * LINES);
}

static void test_clock(void)
{
	char buf[CLOCK_ISO_LEN];
	struct timespec ts;
	int64_t a, b;

	clock_format_iso(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00.000000Z");
	clock_format_iso(1234567890123456789LL, buf);
	CHECK_STR(buf, "2009-02-13T23:31:30.123456Z");
	clock_format_iso(-1, buf);
	CHECK_STR(buf, "1969-12-31T23:59:59.999999Z");
	ts = clock_ns_to_timespec(-1);
	CHECK(ts.tv_sec == -1 && ts.tv_nsec == 999999999);
	ts = clock_ns_to_timespec(1500000000LL);
	CHECK(ts.tv_sec == 1 && ts.tv_nsec == 500000000);
	a = clock_mono_ns();
	b = clock_mono_ns();
	CHECK(b >= a);
	CHECK(clock_mono_ms() >= a / 1000000);
	CHECK(clock_real_ns() > 1600000000LL * 1000000000LL);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	test_format();
	test_forged_line();
	test_long_line();
	test_threads();
	test_clock();
	unlink(path);
	return test_done();
}
