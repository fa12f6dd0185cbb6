/*
 * daemon.h - the main() every novafs service shares.
 *
 *     struct compute_config cfg = { 0 };
 *     struct daemon d;
 *     int status = daemon_start(&d, &spec, &cfg, &argc, argv, 0);
 *     if (status >= 0)
 *             return status;      // --help (0) or bad options (2)
 *     ... set up on d.loop ...
 *     loop_run(d.loop);           // until SIGINT or SIGTERM
 *     ... tear down ...
 *     return daemon_finish(&d, &spec, &cfg, 0);
 *
 * daemon_start() parses options with the service's tables plus the options
 * every daemon has (a positional argument is an error unless spec->args
 * names some) (daemon_options: --config, --verbose; --help comes with
 * opts_load itself), sets up logging under spec->prog, ignores SIGPIPE,
 * and creates the loop.  Unless
 * DAEMON_OWN_SIGNALS is given, SIGINT and SIGTERM are blocked in the
 * calling thread (and so in every thread it starts later) and read from a
 * signalfd on the loop, where they stop it: a stop is never lost and never
 * runs inside a signal handler.
 */
#ifndef NOVAFS_COMMON_DAEMON_H
#define NOVAFS_COMMON_DAEMON_H

#include <stdbool.h>

#include "common/opts.h"

struct loop;

/* The options every daemon has; daemon_start() adds daemon_options after
 * the spec's tables, with struct daemon as their base (opts_spec.bases),
 * so a service's config struct holds only its own options. */
struct daemon {
	struct loop *loop;
	char *config;         /* --config PATH (owned) */
	bool verbose;         /* --verbose */
	int signal_fd;        /* -1 with DAEMON_OWN_SIGNALS */
	long long signal_watch;
};

#define DAEMON_OWN_SIGNALS 0x1u  /* the service handles SIGINT/SIGTERM itself */
#define DAEMON_KEEP_UNKNOWN 0x2u /* pass OPTS_KEEP_UNKNOWN to opts_load */

/*
 * Returns -1 when the daemon should run (d is ready: d->loop exists), or
 * an exit status when it should not: 0 after --help, 2 after a bad option
 * (the reason was printed to stderr as "PROG: reason"), 1 when the loop
 * or the signal descriptor could not be made (logged).  When it returns
 * an exit status it has already freed everything, options in cfg
 * included: do not call daemon_finish() then.  cfg must start zeroed; it
 * is the base of every table of spec unless spec->bases says otherwise.
 * argc/argv as for opts_load.
 */
int daemon_start(struct daemon *d, const struct opts_spec *spec, void *cfg,
		 int *argc, char **argv, unsigned flags);
/* Frees what daemon_start() made and what opts_load() stored in cfg;
 * returns status, so main can end with `return daemon_finish(...)`. */
int daemon_finish(struct daemon *d, const struct opts_spec *spec, void *cfg,
		  int status);

/* The daemon options' table, for opts_doc_markdown() of a whole spec:
 * --config PATH (command line only: it has no section, hence no key in
 * the file it names) and --verbose/-v ([DEFAULT] verbose). */
extern const struct opt daemon_options[];

#endif
