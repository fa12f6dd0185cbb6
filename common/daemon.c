/*
 * daemon.c - the start and the end every novafs service's main() shares
 * (daemon.h).
 *
 * SIGINT and SIGTERM are read from a signalfd on the loop instead of being
 * caught: the stop then happens on the loop thread between two callbacks,
 * where logging and loop_stop() are ordinary calls, and a signal that
 * arrives before loop_run() waits in the descriptor instead of being lost.
 */
#include "common/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"

const struct opt daemon_options[] = {
	{ NULL, "config", "--config", OPT_STR, offsetof(struct daemon, config),
	  NULL, 0, 0, NULL, "PATH", "read options from this file", NULL },
	{ "DEFAULT", "verbose", "--verbose", OPT_BOOL,
	  offsetof(struct daemon, verbose), "false", 0, 0, NULL, NULL,
	  "log debug messages too", NULL },
	OPT_END
};

static void on_signal(struct loop *l, int fd, unsigned events, void *ctx)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("stopping on %s",
			 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		loop_stop(l);
	}
}

static int watch_signals(struct daemon *d)
{
	sigset_t set;
	long long id;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Threads inherit the mask: blocked here, the signals can only ever
	 * be read from the descriptor. */
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r)
		return -r;
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0)
		return -errno;
	id = loop_watch(d->loop, d->signal_fd, LOOP_READ, on_signal, NULL);
	if (id < 0)
		return (int)id;
	d->signal_watch = id;
	return 0;
}

int daemon_start(struct daemon *d, const struct opts_spec *spec, void *cfg,
		 int *argc, char **argv, unsigned flags)
{
	struct opts_spec all = *spec;
	const struct opt **tables = NULL;
	void **bases = NULL;
	size_t n = 0, i;
	char err[512];
	int r, status = 1;

	memset(d, 0, sizeof(*d));
	d->signal_fd = -1;
	while (spec->tables && spec->tables[n])
		n++;
	tables = calloc(n + 2, sizeof(*tables));
	bases = calloc(n + 1, sizeof(*bases));
	if (!tables || !bases) {
		fprintf(stderr, "%s: out of memory\n", spec->prog);
		goto out;
	}
	for (i = 0; i < n; i++) {
		tables[i] = spec->tables[i];
		bases[i] = spec->bases ? spec->bases[i] : cfg;
	}
	tables[n] = daemon_options;
	bases[n] = d;
	all.tables = tables;
	all.bases = bases;
	r = opts_load(&all, NULL, argc, argv,
		      (flags & DAEMON_KEEP_UNKNOWN) ? OPTS_KEEP_UNKNOWN : 0,
		      err, sizeof(err));
	if (r != 0) {
		status = r > 0 ? 0 : 2;
		if (r < 0)
			fprintf(stderr, "%s: %s\n", spec->prog, err);
		goto out;
	}
	/* A daemon that takes no arguments says so about one it is given. */
	if (!spec->args && *argc > 1) {
		fprintf(stderr, "%s: unexpected argument %s (see --help)\n",
			spec->prog, argv[1]);
		status = 2;
		goto out;
	}

	log_setup(spec->prog, d->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	/* A peer that hangs up must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	r = loop_new(&d->loop);
	if (r < 0) {
		log_error("cannot create the event loop: %s", strerror(-r));
		goto out;
	}
	if (!(flags & DAEMON_OWN_SIGNALS)) {
		r = watch_signals(d);
		if (r < 0) {
			log_error("cannot watch SIGINT and SIGTERM: %s",
				  strerror(-r));
			goto out;
		}
	}
	status = -1;
out:
	free(tables);
	free(bases);
	return status < 0 ? status : daemon_finish(d, spec, cfg, status);
}

int daemon_finish(struct daemon *d, const struct opts_spec *spec, void *cfg,
		  int status)
{
	static const struct opt *const own_tables[] = { daemon_options, NULL };
	const struct opts_spec own = { .tables = own_tables };

	/* Freeing the loop drops the signal watch with every other one. */
	loop_free(d->loop);
	d->loop = NULL;
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	d->signal_fd = -1;
	d->signal_watch = 0;
	opts_release(spec, cfg);
	opts_release(&own, d);
	return status;
}
