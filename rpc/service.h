/*
 * service.h - what every novafs daemon does around its rpc server.
 *
 * The scheduler, the compute hosts and novafs's conductor thread all parse
 * the same connection options, stop cleanly on SIGINT/SIGTERM and run the
 * same loop: poll the rpc server, run a periodic task on time, and ride out
 * a lost broker by backing off and polling again (rpc_server_poll()
 * reconnects by itself).  This module holds that once.
 *
 * Unlike the rest of rpc/, service_run() logs: it is a daemon's top level,
 * and an outage is worth one line when it starts and one when it ends.
 */
#ifndef NOVAFS_SERVICE_H
#define NOVAFS_SERVICE_H

#include <stdbool.h>

struct rpc_server;

/* The options every daemon accepts.  The strings point into argv or the
 * environment and are never freed. */
struct service_opts {
	const char *amqp_url;   /* --amqp, else $AMQP_URL, else RPC_DEFAULT_URL */
	const char *exchange;   /* --exchange, else RPC_DEFAULT_EXCHANGE */
	bool verbose;           /* --verbose: log at debug level */
	bool help;              /* --help was given */
};

/* Usage lines for the common options, for a daemon's --help text. */
#define SERVICE_COMMON_USAGE \
	"  --amqp URL              broker URL (default $AMQP_URL, else\n" \
	"                          amqp://guest:guest@127.0.0.1:5672/)\n" \
	"  --exchange NAME         topic exchange (default novafs)\n" \
	"  --verbose               log debug messages too\n" \
	"  --help                  show this help and exit\n"

/* Fills o with the defaults. */
void service_opts_init(struct service_opts *o);

/*
 * Matches argv[*i] against option name ("--host"), as "--host VALUE" or
 * "--host=VALUE".  Returns 1 and sets *value (advancing *i past a separate
 * value) on a match, 0 when argv[*i] is another option, -EINVAL when the
 * value is missing.  Daemons use it for their own options too.
 */
int service_option_value(int argc, char **argv, int *i, const char *name,
			 const char **value);

/*
 * Consumes argv[*i] if it is a common option (--amqp, --exchange,
 * --verbose, --help), advancing *i past its value.  Returns 1 when it was
 * one, 0 when it is not, -EINVAL when its value is missing.
 */
int service_parse_common_option(struct service_opts *o, int argc, char **argv,
				int *i);

/* Makes SIGINT and SIGTERM request a stop (see service_stopping()) and
 * ignores SIGPIPE.  Returns 0 or -errno. */
int service_install_signals(void);
/* True once a stop was requested by a signal or service_request_stop(). */
bool service_stopping(void);
/* Requests a stop from any thread; async-signal-safe. */
void service_request_stop(void);

/* A periodic task; it logs its own failures. */
typedef void (*service_periodic_fn)(void *ctx);

/*
 * Polls srv until a stop is requested, and calls periodic(ctx) every
 * interval_ms milliseconds (never when periodic is NULL or interval_ms <=
 * 0), the first time one interval after the start.  When polling fails
 * (-ENOTCONN: the broker is gone), it logs once per outage, backs off from
 * 100 ms to 5 s and polls again, which reconnects; the recovery is logged
 * too.  The periodic task keeps its schedule during an outage.  A stop is
 * noticed within about 200 ms.  Returns 0 when stopped.
 */
int service_run(struct rpc_server *srv, service_periodic_fn periodic,
		void *ctx, int interval_ms);

/* CLOCK_MONOTONIC in milliseconds. */
long long service_now_ms(void);

#endif
