/*
 * testhelp.h - a tiny TAP producer for the C unit tests, after Redis's
 * src/unit/testhelp.h.  Each CHECK prints "ok N - expr" or "not ok N - expr
 * (file:line)"; test_done() prints the plan and returns the exit status.
 * tests/run.sh counts the lines.
 */
#ifndef NOVAFS_TESTHELP_H
#define NOVAFS_TESTHELP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int test_count, test_failed;

/* Prints a description on one line: TAP is line-oriented, so newlines in
 * the values shown are escaped. */
static inline void __attribute__((format(printf, 1, 2)))
test_print_desc(const char *fmt, ...)
{
	char buf[1024];
	const char *c;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (c = buf; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stdout);
		else
			putchar(*c);
	}
	putchar('\n');
	fflush(stdout);
}

#define CHECK_MSG(cond, ...) do {                                        \
	test_count++;                                                    \
	if (cond) {                                                      \
		printf("ok %d - ", test_count);                          \
	} else {                                                         \
		test_failed++;                                           \
		printf("not ok %d - (%s:%d) ", test_count, __FILE__,     \
		       __LINE__);                                        \
	}                                                                \
	test_print_desc(__VA_ARGS__);                                    \
} while (0)

#define CHECK(cond) CHECK_MSG(cond, "%s", #cond)

#define CHECK_STR(got, want) do {                                        \
	const char *got_ = (got), *want_ = (want);                       \
	CHECK_MSG(got_ && strcmp(got_, want_) == 0, "%s == \"%s\" (got \"%s\")", \
		  #got, want_, got_ ? got_ : "(null)");                  \
} while (0)

#define CHECK_INT(got, want) do {                                        \
	long long got_ = (got), want_ = (want);                          \
	CHECK_MSG(got_ == want_, "%s == %lld (got %lld)", #got, want_, got_); \
} while (0)

static inline int test_done(void)
{
	printf("1..%d\n", test_count);
	return test_failed ? 1 : 0;
}

#endif
