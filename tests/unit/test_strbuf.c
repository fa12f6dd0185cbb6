/*
 * test_strbuf.c - strbuf.h: growth, formatting, NUL bytes, detach/release.
 */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "testhelp.h"

static void test_init_empty(void)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK(sb.buf != NULL);
	CHECK_STR(sb.buf, "");
	CHECK_INT(sb.len, 0);
	strbuf_reset(&sb);
	CHECK_STR(sb.buf, "");
	strbuf_release(&sb); /* an initialised empty buffer is fine */
	CHECK_INT(sb.alloc, 0);
	strbuf_init(&sb, 100);
	CHECK(sb.alloc >= 101);
	CHECK_STR(sb.buf, "");
	strbuf_release(&sb);
	CHECK(sb.buf == strbuf_empty);
}

static void test_add(void)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	strbuf_addstr(&sb, "hello");
	strbuf_addch(&sb, ' ');
	strbuf_add(&sb, "world!!", 5);
	CHECK_STR(sb.buf, "hello world");
	CHECK_INT(sb.len, 11);
	strbuf_addstr(&sb, "");
	CHECK_INT(sb.len, 11);
	for (i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'x');
	CHECK_INT(sb.len, 1011);
	CHECK_INT(strlen(sb.buf), 1011);
	CHECK(sb.alloc > sb.len);
	strbuf_setlen(&sb, 5);
	CHECK_STR(sb.buf, "hello");
	strbuf_release(&sb);
}

static void test_addf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char big[3000];

	strbuf_addf(&sb, "%d-%s", 42, "x");
	CHECK_STR(sb.buf, "42-x");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&sb, "[%s]", big); /* longer than the first try */
	CHECK_INT(sb.len, 4 + 2 + 2999);
	CHECK(sb.buf[4] == '[' && sb.buf[sb.len - 1] == ']');
	CHECK_INT(strlen(sb.buf), sb.len);
	strbuf_release(&sb);
}

static void test_nul_bytes(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add(&sb, "a\0b", 3);
	CHECK_INT(sb.len, 3);
	CHECK(memcmp(sb.buf, "a\0b", 4) == 0); /* and still NUL-terminated */
	strbuf_release(&sb);
}

static void test_rtrim(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "m1.small \t\r\n\n");
	strbuf_rtrim(&sb);
	CHECK_STR(sb.buf, "m1.small");
	CHECK_INT(sb.len, 8);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "\n\n");
	strbuf_rtrim(&sb);
	CHECK_STR(sb.buf, "");
	strbuf_release(&sb);
	strbuf_rtrim(&sb); /* empty, unallocated */
	CHECK_STR(sb.buf, "");
}

static void test_detach(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	s = strbuf_detach(&sb, &len); /* empty: still a fresh allocation */
	CHECK(s != NULL && s != strbuf_empty);
	CHECK_STR(s, "");
	CHECK_INT(len, 0);
	free(s);
	strbuf_addstr(&sb, "abc");
	s = strbuf_detach(&sb, NULL);
	CHECK_STR(s, "abc");
	CHECK_INT(sb.len, 0);
	CHECK(sb.buf == strbuf_empty);
	free(s);
}

int main(void)
{
	test_init_empty();
	test_add();
	test_addf();
	test_nul_bytes();
	test_rtrim();
	test_detach();
	return test_done();
}
