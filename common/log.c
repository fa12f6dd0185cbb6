/*
 * log.c - the one-line-per-event stderr log of log.h.
 *
 * Messages carry user bytes (instance names, broker errors), so each is
 * escaped as strbuf_add_oneline() does: a name holding a newline and a
 * fake timestamp cannot forge a second line.  The whole line is then
 * written with a single fwrite, so lines from concurrent threads (FUSE
 * workers, the RPC thread) never interleave: stdio locks the stream for
 * the length of one call.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/strbuf.h"

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
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;
	char stamp[CLOCK_ISO_LEN];
	va_list ap;

	if (level > log_max)
		return;
	clock_format_iso(clock_real_ns(), stamp);

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* Callers used to perror() may end with a newline: that one is not
	 * part of the message. */
	if (msg.len > 0 && msg.buf[msg.len - 1] == '\n')
		strbuf_setlen(&msg, msg.len - 1);

	strbuf_addf(&line, "%s %s[%ld] %s: ", stamp, log_progname,
		    (long)getpid(),
		    level <= LOG_LVL_DEBUG ? log_names[level] : "?");
	strbuf_add_oneline(&line, msg.buf, msg.len);
	strbuf_addch(&line, '\n');
	fwrite(line.buf, 1, line.len, stderr);
	strbuf_release(&line);
	strbuf_release(&msg);
}
