/*
 * test_daemon.c - daemon.h: exit statuses for --help and bad options,
 * options split between the service's struct and struct daemon, --config,
 * and SIGTERM/SIGINT stopping the loop through the signalfd (sent before
 * the loop runs, and from another thread while it runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "testhelp.h"

struct svc {
	char *host;
	long long workers;
};

static const struct opt svc_opts[] = {
	{ "svc", "host", "--host", OPT_STR, offsetof(struct svc, host),
	  "localhost", 0, 0, NULL, "NAME", "this host's name", NULL },
	{ "svc", "workers", "--workers", OPT_INT, offsetof(struct svc, workers),
	  "4", 1, 64, NULL, "N", "worker threads", NULL },
	OPT_END
};

static const struct opt *const tables[] = { svc_opts, NULL };
static const struct opts_spec spec = {
	.prog = "test-daemon",
	.summary = "Tests the daemon skeleton.",
	.args = "[ARG]...",
	.tables = tables,
};

/* A daemon that takes no positional arguments. */
static const struct opts_spec spec_noargs = {
	.prog = "test-daemon",
	.summary = "Tests the daemon skeleton.",
	.tables = tables,
};

static char dir[] = "/tmp/test_daemon.XXXXXX";
static char out[8192];

/* Sends fd (1 or 2) to dir/name until capture_end(). */
static int capture_start(int fd, const char *name)
{
	char path[300];
	int file, saved;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fflush(fd == 1 ? stdout : stderr);
	saved = dup(fd);
	file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(file, fd);
	close(file);
	return saved;
}

/* Puts fd back and leaves what was written to it in out. */
static void capture_end(int fd, int saved, const char *name)
{
	char path[300];
	ssize_t n;
	int file;

	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	file = open(path, O_RDONLY);
	n = read(file, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(file);
}

static int start(struct daemon *d, struct svc *cfg, unsigned flags, int *argc,
		 char **argv)
{
	memset(cfg, 0, sizeof(*cfg));
	return daemon_start(d, &spec, cfg, argc, argv, flags);
}

static void test_help_and_errors(void)
{
	char *argv[] = { (char *)"test-daemon", (char *)"--help", NULL, NULL };
	struct daemon d;
	struct svc cfg;
	int argc = 2, saved, status;

	saved = capture_start(1, "stdout");
	status = start(&d, &cfg, 0, &argc, argv);
	capture_end(1, saved, "stdout");
	CHECK_INT(status, 0);
	CHECK(strstr(out, "usage: test-daemon [OPTION]... [ARG]...\n"
		     "Tests the daemon skeleton.\n") == out);
	CHECK(strstr(out, "  --host NAME\n"));
	CHECK(strstr(out, "  --config PATH\n"));
	CHECK(strstr(out, "  -v, --verbose\n"));
	CHECK(cfg.host == NULL && d.loop == NULL); /* all freed already */

	argv[1] = (char *)"--workers=0";
	argc = 2;
	saved = capture_start(2, "stderr");
	CHECK_INT(start(&d, &cfg, 0, &argc, argv), 2);
	capture_end(2, saved, "stderr");
	CHECK_STR(out, "test-daemon: --workers: 0 is out of range 1..64\n");
	CHECK(cfg.host == NULL);

	argv[1] = (char *)"--config";
	argv[2] = (char *)"/nonexistent/test-daemon.conf";
	argc = 3;
	saved = capture_start(2, "stderr");
	CHECK_INT(start(&d, &cfg, 0, &argc, argv), 2);
	capture_end(2, saved, "stderr");
	CHECK_STR(out, "test-daemon: /nonexistent/test-daemon.conf: No such "
		  "file or directory\n");
	CHECK(d.config == NULL);

	/* Unknown arguments are errors unless asked for. */
	argv[1] = (char *)"-f";
	argc = 2;
	saved = capture_start(2, "stderr");
	CHECK_INT(start(&d, &cfg, DAEMON_OWN_SIGNALS, &argc, argv), 2);
	capture_end(2, saved, "stderr");
	CHECK_STR(out, "test-daemon: -f: unknown option (see --help)\n");
}

static long long give_up(struct loop *l, void *ctx)
{
	*(int *)ctx = 1;
	loop_stop(l);
	return LOOP_TIMER_DONE;
}

static void *send_term_later(void *arg)
{
	struct timespec ts = { 0, 30 * 1000000L };

	nanosleep(&ts, NULL);
	kill(getpid(), SIGTERM);
	return NULL;
}

static void test_run_and_signals(void)
{
	char *argv[] = { (char *)"test-daemon", (char *)"--verbose",
			 (char *)"--host", (char *)"h1", (char *)"pos", NULL };
	struct sigaction sa;
	struct daemon d;
	struct svc cfg;
	int argc = 5, saved, timed_out = 0;
	pthread_t t;

	{
		char *a2[] = { (char *)"test-daemon", (char *)"pos", NULL };
		struct svc c2;
		int n2 = 2;

		memset(&c2, 0, sizeof(c2));
		saved = capture_start(2, "stderr");
		CHECK_INT(daemon_start(&d, &spec_noargs, &c2, &n2, a2, 0), 2);
		capture_end(2, saved, "stderr");
		CHECK(strstr(out, "test-daemon: unexpected argument pos (see --help)"));
	}
	CHECK_INT(start(&d, &cfg, 0, &argc, argv), -1);
	CHECK(d.verbose);
	CHECK(d.config == NULL);
	CHECK_STR(cfg.host, "h1");
	CHECK_INT(cfg.workers, 4);
	CHECK_INT(argc, 2);
	CHECK_STR(argv[1], "pos");
	CHECK(d.loop != NULL && d.signal_fd >= 0 && d.signal_watch > 0);
	sigaction(SIGPIPE, NULL, &sa);
	CHECK(sa.sa_handler == SIG_IGN);

	/* Sent before the loop runs: it waits in the signalfd. */
	loop_timer(d.loop, 2000, give_up, &timed_out);
	kill(getpid(), SIGTERM);
	saved = capture_start(2, "stderr");
	CHECK_INT(loop_run(d.loop), 0);
	capture_end(2, saved, "stderr");
	CHECK(!timed_out);
	CHECK(strstr(out, " INFO: stopping on SIGTERM\n") != NULL);
	CHECK(strstr(out, "test-daemon[") != NULL);

	/* From another thread, while the loop runs. */
	pthread_create(&t, NULL, send_term_later, NULL);
	saved = capture_start(2, "stderr");
	CHECK_INT(loop_run(d.loop), 0);
	capture_end(2, saved, "stderr");
	pthread_join(t, NULL);
	CHECK(!timed_out);
	CHECK(strstr(out, " INFO: stopping on SIGTERM\n") != NULL);

	CHECK_INT(daemon_finish(&d, &spec, &cfg, 3), 3);
	CHECK(cfg.host == NULL && d.loop == NULL && d.signal_fd == -1);

	argc = 1;
	CHECK_INT(start(&d, &cfg, 0, &argc, argv), -1);
	CHECK(!d.verbose);
	CHECK_STR(cfg.host, "localhost");
	loop_timer(d.loop, 2000, give_up, &timed_out);
	raise(SIGINT);
	saved = capture_start(2, "stderr");
	CHECK_INT(loop_run(d.loop), 0);
	capture_end(2, saved, "stderr");
	CHECK(!timed_out);
	CHECK(strstr(out, " INFO: stopping on SIGINT\n") != NULL);
	CHECK_INT(daemon_finish(&d, &spec, &cfg, 0), 0);
}

static void test_config_and_flags(void)
{
	char path[300];
	char *argv[] = { (char *)"test-daemon", (char *)"-f", (char *)"--config",
			 path, (char *)"-o", (char *)"allow_other", (char *)"mnt",
			 NULL };
	struct daemon d;
	struct svc cfg;
	int argc = 7, saved;
	FILE *f;

	snprintf(path, sizeof(path), "%s/test.conf", dir);
	f = fopen(path, "w");
	fputs("[DEFAULT]\nverbose = true\n[svc]\nhost = fromfile\n", f);
	fclose(f);

	CHECK_INT(start(&d, &cfg, DAEMON_OWN_SIGNALS | DAEMON_KEEP_UNKNOWN,
			&argc, argv), -1);
	CHECK_STR(d.config, path);
	CHECK(d.verbose);
	CHECK_STR(cfg.host, "fromfile");
	CHECK_INT(argc, 5);
	CHECK_STR(argv[1], "-f");
	CHECK_STR(argv[2], "-o");
	CHECK_STR(argv[3], "allow_other");
	CHECK_STR(argv[4], "mnt");
	CHECK(argv[5] == NULL);
	CHECK(d.signal_fd == -1 && d.signal_watch == 0);
	/* --verbose from the file: debug lines are logged. */
	saved = capture_start(2, "stderr");
	log_debug("visible");
	capture_end(2, saved, "stderr");
	CHECK(strstr(out, " DEBUG: visible\n") != NULL);
	CHECK_INT(daemon_finish(&d, &spec, &cfg, 0), 0);
	CHECK(d.config == NULL && cfg.host == NULL);
}

int main(void)
{
	char cmd[100];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_help_and_errors();
	test_run_and_signals();
	test_config_and_flags();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
	return test_done();
}
