/*
 * log.h - one line per event on stderr, prefixed with time, program and level.
 *
 * Library code (rpc/) never logs: it returns -errno and, where a reason is
 * worth more than an errno, fills a struct rpc_error.  Only a daemon's top
 * level logs, once, with the context it alone knows.
 */
#ifndef NOVAFS_COMMON_LOG_H
#define NOVAFS_COMMON_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the program name shown on each line and the most verbose level
 * printed.  Safe to call before any other log function; not thread-safe. */
void log_setup(const char *progname, enum log_level max_level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
