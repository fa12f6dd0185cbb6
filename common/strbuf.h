/*
 * strbuf.h - a small growable byte buffer, after git's strbuf.h.
 *
 * A struct strbuf owns its storage: buf is always NUL-terminated (so it can
 * be handed to C string functions) and may also hold NUL bytes, len counts
 * the bytes in use.  Initialise with STRBUF_INIT or strbuf_init(); release
 * with strbuf_release(), after which the buffer is empty and reusable.
 *
 * Allocation failure aborts the process: every caller in novafs would have
 * to turn -ENOMEM into the same exit, and text buffers here are tiny.
 */
#ifndef NOVAFS_COMMON_STRBUF_H
#define NOVAFS_COMMON_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_empty[];
#define STRBUF_INIT { 0, 0, strbuf_empty }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Frees the storage; sb is left as STRBUF_INIT.  Accepts an initialised
 * empty buffer. */
void strbuf_release(struct strbuf *sb);
/* Hands the storage to the caller (who frees it with free()); sb is left
 * empty.  Never returns NULL. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb) { strbuf_setlen(sb, 0); }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Removes trailing ASCII whitespace (the newline echo adds, say). */
void strbuf_rtrim(struct strbuf *sb);
/* Whether c is a blank of written text: space, tab, CR or LF. */
static inline bool text_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
/* Narrows *p and *len to the text without its surrounding blanks (echo's
 * newline, a CRLF); the bytes themselves stay where they are. */
void text_trim(const char **p, size_t *len);
/* The next line of written text from *p up to end that is not blank:
 * *line and *len get it without its surrounding blanks, and *p moves past
 * it.  false when there is none left.  Lines end with LF (a CR before it
 * is a blank). */
bool text_next_line(const char **p, const char *end, const char **line,
		    size_t *len);
/* Line k (from 0) of text, a NUL-terminated list of lines separated by
 * "\n" (no trailing newline): its start, and its length in *len; NULL
 * when text has fewer lines. */
const char *text_line(const char *text, size_t k, size_t *len);
/* The index of the first line of text equal to word, or -1. */
long text_line_index(const char *text, const char *word);
/* Appends len bytes of data, escaped so that they stay on one line and
 * cannot forge anything: printable ASCII (0x20-0x7e) except backslash as
 * is, backslash as \\, \n \r \t as those two-character escapes, every
 * other byte below 0x20 and 0x7f as \xNN.  Bytes >= 0x80 are kept (UTF-8
 * text stays readable). */
void strbuf_add_escaped(struct strbuf *sb, const void *data, size_t len);
/* As strbuf_add_escaped, but backslashes stay as they are: for messages
 * that may be escaped again on their way (a fault re-raised, logged),
 * where only control bytes could forge a line and escaping twice must
 * change nothing. */
void strbuf_add_oneline(struct strbuf *sb, const void *data, size_t len);

#endif
