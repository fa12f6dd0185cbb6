/*
 * strbuf.c - the growable byte buffer of strbuf.h.
 *
 * Allocation failure aborts (see strbuf.h for why); everything else here
 * cannot fail, so no function returns an error.
 */
#include "common/strbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The storage of every empty, unallocated buffer: buf is never NULL, so a
 * fresh STRBUF_INIT buffer is already a valid empty C string.  Nothing may
 * write to it but the NUL that strbuf_setlen(sb, 0) stores. */
char strbuf_empty[1];

static void strbuf_die(const char *what)
{
	fprintf(stderr, "strbuf: out of memory (%s)\n", what);
	abort();
}

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = 0;
	sb->len = 0;
	sb->buf = strbuf_empty;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	strbuf_grow(sb, 0); /* an empty buffer still hands out its own storage */
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return res;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want;
	char *p;

	if (extra > SIZE_MAX - sb->len - 1)
		strbuf_die("size overflow");
	want = sb->len + extra + 1;
	if (sb->alloc && want <= sb->alloc)
		return;
	if (want < 64)
		want = 64;
	if (want < sb->alloc + sb->alloc / 2)
		want = sb->alloc + sb->alloc / 2;
	p = realloc(sb->alloc ? sb->buf : NULL, want);
	if (!p)
		strbuf_die("grow");
	if (!sb->alloc)
		p[0] = '\0';
	sb->buf = p;
	sb->alloc = want;
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc) {
		if (len)
			strbuf_die("setlen beyond an empty buffer");
		return; /* strbuf_empty[0] is already NUL */
	}
	if (len >= sb->alloc)
		strbuf_die("setlen beyond the allocation");
	sb->len = len;
	sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	strbuf_setlen(sb, sb->len + len);
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len] = (char)c;
	strbuf_setlen(sb, sb->len + 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		strbuf_die("bad format");
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		va_copy(cp, ap);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
		va_end(cp);
		if (n < 0)
			strbuf_die("bad format");
	}
	strbuf_setlen(sb, sb->len + (size_t)n);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_rtrim(struct strbuf *sb)
{
	size_t len = sb->len;

	while (len > 0 && (sb->buf[len - 1] == ' ' || sb->buf[len - 1] == '\t' ||
			   sb->buf[len - 1] == '\n' || sb->buf[len - 1] == '\r' ||
			   sb->buf[len - 1] == '\v' || sb->buf[len - 1] == '\f'))
		len--;
	strbuf_setlen(sb, len);
}

/* True for the bytes strbuf_add_escaped() copies as they are. */
static int strbuf_plain(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f && c != '\\') || c >= 0x80;
}

/* The escaping of strbuf_add_escaped (all == true) and
 * strbuf_add_oneline (all == false: backslashes are left alone). */
static void add_escaped(struct strbuf *sb, const void *data, size_t len,
			bool all)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data, *end = p + len;
	const unsigned char *run;

	while (p < end) {
		/* Plain bytes go in runs: most text has nothing to escape. */
		for (run = p; p < end && (strbuf_plain(*p) || (!all && *p == '\\'));
		     p++)
			;
		strbuf_add(sb, run, (size_t)(p - run));
		if (p == end)
			break;
		strbuf_addch(sb, '\\');
		switch (*p) {
		case '\\':
			strbuf_addch(sb, '\\');
			break;
		case '\n':
			strbuf_addch(sb, 'n');
			break;
		case '\r':
			strbuf_addch(sb, 'r');
			break;
		case '\t':
			strbuf_addch(sb, 't');
			break;
		default:
			strbuf_addch(sb, 'x');
			strbuf_addch(sb, hex[*p >> 4]);
			strbuf_addch(sb, hex[*p & 0xf]);
			break;
		}
		p++;
	}
}

void strbuf_add_escaped(struct strbuf *sb, const void *data, size_t len)
{
	add_escaped(sb, data, len, true);
}

void strbuf_add_oneline(struct strbuf *sb, const void *data, size_t len)
{
	add_escaped(sb, data, len, false);
}

bool text_next_line(const char **p, const char *end, const char **line,
		    size_t *len)
{
	const char *nl;

	while (*p < end) {
		nl = memchr(*p, '\n', (size_t)(end - *p));
		if (!nl)
			nl = end;
		*line = *p;
		*len = (size_t)(nl - *p);
		*p = nl < end ? nl + 1 : end;
		text_trim(line, len);
		if (*len)
			return true;
	}
	return false;
}

const char *text_line(const char *text, size_t k, size_t *len)
{
	const char *nl;

	if (!text[0])
		return NULL;
	while (k--) {
		nl = strchr(text, '\n');
		if (!nl)
			return NULL;
		text = nl + 1;
	}
	nl = strchr(text, '\n');
	*len = nl ? (size_t)(nl - text) : strlen(text);
	return text;
}

long text_line_index(const char *text, const char *word)
{
	size_t n = strlen(word), len;
	const char *line;
	long k;

	for (k = 0; (line = text_line(text, (size_t)k, &len)); k++)
		if (len == n && memcmp(line, word, n) == 0)
			return k;
	return -1;
}

void text_trim(const char **p, size_t *len)
{
	while (*len && text_blank((*p)[0])) {
		(*p)++;
		(*len)--;
	}
	while (*len && text_blank((*p)[*len - 1]))
		(*len)--;
}
