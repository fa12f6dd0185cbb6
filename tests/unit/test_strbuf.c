/*
 * test_strbuf.c - strbuf.h: growth, formatting, NUL bytes, detach/release,
 * and the escaping that keeps user bytes on one log line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
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

/* in is a string literal: its length comes from sizeof, NULs included. */
#define CHECK_ESCAPED(in, want) check_escaped(in, sizeof(in) - 1, want)

static void check_escaped(const char *in, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_escaped(&sb, in, len);
	CHECK_STR(sb.buf, want);
	CHECK_INT(sb.len, strlen(want));
	strbuf_release(&sb);
}

/* The inverse of strbuf_add_escaped, to prove nothing is lost. */
static size_t unescape(const char *s, unsigned char *out)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s != '\\') {
			out[n++] = (unsigned char)*s++;
			continue;
		}
		switch (s[1]) {
		case 'n': out[n++] = '\n'; s += 2; break;
		case 'r': out[n++] = '\r'; s += 2; break;
		case 't': out[n++] = '\t'; s += 2; break;
		case 'x':
			sscanf(s + 2, "%2x", &v);
			out[n++] = (unsigned char)v;
			s += 4;
			break;
		default: out[n++] = (unsigned char)s[1]; s += 2; break;
		}
	}
	return n;
}

static void test_escaped(void)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char all[256], back[256];
	bool clean = true;
	size_t i;

	CHECK_ESCAPED("plain text, 100% (ok) ~{}", "plain text, 100% (ok) ~{}");
	CHECK_ESCAPED("a\\b", "a\\\\b");
	CHECK_ESCAPED("one\ntwo\r\tthree", "one\\ntwo\\r\\tthree");
	CHECK_ESCAPED("\x00\x01\x1f\x7f", "\\x00\\x01\\x1f\\x7f");
	CHECK_ESCAPED("\x1b[31mred", "\\x1b[31mred");
	CHECK_ESCAPED("caf\xc3\xa9 \x80\xff", "caf\xc3\xa9 \x80\xff");
	CHECK_ESCAPED("a\0b", "a\\x00b"); /* len counts, not NUL */
	CHECK_ESCAPED("", "");
	CHECK_ESCAPED("web1\n2026-01-01T00:00:00Z INFO: forged",
		      "web1\\n2026-01-01T00:00:00Z INFO: forged");

	strbuf_addstr(&sb, "name=");
	strbuf_add_escaped(&sb, "x\ny", 3);
	CHECK_STR(sb.buf, "name=x\\ny"); /* appends */

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	strbuf_reset(&sb);
	strbuf_add_escaped(&sb, all, sizeof(all));
	for (i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			clean = false;
	CHECK_MSG(clean, "no control byte survives escaping");
	CHECK_INT(unescape(sb.buf, back), 256);
	CHECK(memcmp(all, back, sizeof(all)) == 0);
	strbuf_release(&sb);
}

/* A written value without its surrounding blanks, its bytes in place. */
static void test_text_trim(void)
{
	const char *text = " \t m1.small\r\n", *p = text;
	size_t len = strlen(text);

	text_trim(&p, &len);
	CHECK(p == text + 3);
	CHECK_INT(len, 8);
	p = " \n";
	len = 2;
	text_trim(&p, &len);
	CHECK_INT(len, 0);
	CHECK(text_blank('\t') && !text_blank('x') && !text_blank('\0'));
}

/* Lines of a list kept as text: "default\nlab". */
static void test_text_line(void)
{
	const char *l;
	size_t len = 0;

	l = text_line("default\nlab", 0, &len);
	CHECK(l && len == 7 && memcmp(l, "default", 7) == 0);
	l = text_line("default\nlab", 1, &len);
	CHECK(l && len == 3 && memcmp(l, "lab", 3) == 0);
	CHECK(text_line("default\nlab", 2, &len) == NULL);
	CHECK(text_line("", 0, &len) == NULL);
	CHECK_INT(text_line_index("default\nlab", "lab"), 1);
	CHECK_INT(text_line_index("default\nlab", "la"), -1);
	CHECK_INT(text_line_index("default\nlab", "default"), 0);
	CHECK_INT(text_line_index("", "x"), -1);
}

/* Written lines, blank ones skipped, each trimmed: "lab\r\n\n default". */
static void test_text_next_line(void)
{
	const char *text = "lab\r\n\n  \n default", *p = text, *line;
	const char *end = text + strlen(text);
	size_t len = 0;

	CHECK(text_next_line(&p, end, &line, &len));
	CHECK(len == 3 && memcmp(line, "lab", 3) == 0);
	CHECK(text_next_line(&p, end, &line, &len));
	CHECK(len == 7 && memcmp(line, "default", 7) == 0);
	CHECK(!text_next_line(&p, end, &line, &len));
	CHECK(p == end);
	p = text;
	CHECK(!text_next_line(&p, text, &line, &len));
}

int main(void)
{
	test_init_empty();
	test_text_trim();
	test_text_line();
	test_text_next_line();
	test_add();
	test_addf();
	test_nul_bytes();
	test_rtrim();
	test_detach();
	test_escaped();
	return test_done();
}
