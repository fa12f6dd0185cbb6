/*
 * novafs - the FUSE daemon: the API, request validation and the state store.
 *
 * usage: novafs [FUSE options] [--db PATH] [--amqp URL] [--exchange NAME]
 *               [--rpc-timeout MS] [--verbose] MOUNTPOINT
 *
 * Startup order matters: the store opens first (a bad --db fails before
 * anything is mounted), then the broker is checked once (a wrong --amqp is
 * one line naming the URL and exit status 1), then the tree is mounted.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "api.h"
#include "bus.h"
#include "fs.h"
#include "log.h"
#include "rpc.h"
#include "store.h"
#include "tree.h"

#define DEFAULT_DB_DIR "/var/lib/novafs"
#define DEFAULT_DB DEFAULT_DB_DIR "/novafs.db"

struct options {
	char *db;
	char *amqp;
	char *exchange;
	int rpc_timeout_ms;
	int verbose;
	int help;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("--db=%s", db),
	OPT("--amqp=%s", amqp),
	OPT("--exchange=%s", exchange),
	OPT("--rpc-timeout=%d", rpc_timeout_ms),
	OPT("--verbose", verbose),
	OPT("-v", verbose),
	OPT("--help", help),
	OPT("-h", help),
	FUSE_OPT_END
};

/* fuse_opt wants "--db=PATH"; people type "--db PATH".  Joins the two. */
static int join_option_values(struct fuse_args *args)
{
	static const char *const with_value[] = {
		"--db", "--amqp", "--exchange", "--rpc-timeout", NULL
	};
	struct fuse_args out = FUSE_ARGS_INIT(0, NULL);
	int i, j, ret = 0;

	for (i = 0; i < args->argc && ret == 0; i++) {
		const char *a = args->argv[i];

		for (j = 0; with_value[j]; j++)
			if (strcmp(a, with_value[j]) == 0 && i + 1 < args->argc)
				break;
		if (with_value[j]) {
			char *joined = NULL;

			if (asprintf(&joined, "%s=%s", a, args->argv[++i]) < 0)
				return -ENOMEM;
			ret = fuse_opt_add_arg(&out, joined);
			free(joined);
		} else {
			ret = fuse_opt_add_arg(&out, a);
		}
	}
	fuse_opt_free_args(args);
	*args = out;
	return ret;
}

/*
 * Mounts and serves until unmounted or signalled: fuse_main() spelled out,
 * because libfuse 3.14.0's fuse_main() passes an unset idle-thread limit
 * on to its loop and logs an error about it on every start.
 */
static int serve(struct fuse_args *args, struct fs_config *fc)
{
	struct fuse_cmdline_opts opts = { 0 };
	struct fuse_loop_config *loop;
	struct fuse_session *se;
	struct fuse *fuse = NULL;
	int ret = 1;

	if (fuse_parse_cmdline(args, &opts) != 0)
		return 1;
	if (!opts.mountpoint) {
		fprintf(stderr, "novafs: no mountpoint (see --help)\n");
		goto out;
	}
	fuse = fuse_new(args, &fs_operations, sizeof(fs_operations), fc);
	if (!fuse)
		goto out;
	if (fuse_mount(fuse, opts.mountpoint) != 0)
		goto out_destroy;
	se = fuse_get_session(fuse);
	if (fuse_daemonize(opts.foreground) != 0 ||
	    fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	if (opts.singlethread) {
		ret = fuse_loop(fuse);
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out_signals;
		fuse_loop_cfg_set_clone_fd(loop, (unsigned int)opts.clone_fd);
		/* UINT_MAX means "not given": keep the loop's default
		 * rather than pass it on (3.14.0 logs an error for it). */
		if (opts.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop, opts.max_idle_threads);
		fuse_loop_cfg_set_max_threads(loop, opts.max_threads);
		ret = fuse_loop_mt(fuse, loop);
		fuse_loop_cfg_destroy(loop);
	}
	ret = ret == 0 ? 0 : 1;
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_unmount(fuse);
out_destroy:
	fuse_destroy(fuse);
out:
	free(opts.mountpoint);
	return ret;
}

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "novafs serves an IaaS controller as a filesystem.\n\n"
	       "  --db PATH          state database (default " DEFAULT_DB ")\n"
	       "  --amqp URL         RabbitMQ (default $AMQP_URL or %s)\n"
	       "  --exchange NAME    topic exchange (default %s)\n"
	       "  --rpc-timeout MS   how long a call waits for its reply (default 10000)\n"
	       "  -v, --verbose      log debug messages\n"
	       "  -f                 stay in the foreground\n"
	       "  -h, --help         this help, then FUSE's options\n\n",
	       prog, RPC_DEFAULT_URL, RPC_DEFAULT_EXCHANGE);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	/* String options start NULL: fuse_opt_parse() frees a previous value,
	 * so defaults are applied after it and the values freed at the end. */
	struct options opt = { .rpc_timeout_ms = 10000 };
	const char *db, *amqp, *exchange;
	struct fs_config fc = { 0 };
	struct rpc_error e = { 0 };
	const char *why = NULL;
	int ret, status = 1;

	if (join_option_values(&args) < 0 ||
	    fuse_opt_parse(&args, &opt, option_spec, NULL) < 0)
		return 1;
	if (opt.help) {
		usage(argv[0]);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lib_help(&args);
		status = 0;
		goto out;
	}
	db = opt.db ? opt.db : DEFAULT_DB;
	if (!opt.db && mkdir(DEFAULT_DB_DIR, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "novafs: cannot create %s: %s\n", DEFAULT_DB_DIR,
			strerror(errno));
		goto out;
	}
	amqp = opt.amqp ? opt.amqp : getenv("AMQP_URL");
	if (!amqp)
		amqp = RPC_DEFAULT_URL;
	exchange = opt.exchange ? opt.exchange : RPC_DEFAULT_EXCHANGE;
	if (opt.rpc_timeout_ms <= 0) {
		fprintf(stderr, "novafs: --rpc-timeout must be a positive number of milliseconds\n");
		goto out;
	}
	log_setup("novafs", opt.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);

	ret = store_open(db, &fc.store, &why);
	if (ret < 0) {
		fprintf(stderr, "novafs: cannot open database %s: %s\n", db,
			why ? why : strerror(-ret));
		goto out;
	}
	ret = store_reset_interrupted(fc.store);
	if (ret > 0)
		log_warn("%d instance(s) had a task interrupted by a crash; see their fault", ret);
	ret = bus_init(amqp, exchange, opt.rpc_timeout_ms, &e);
	if (ret < 0) {
		fprintf(stderr, "novafs: %s\n", e.message);
		goto out;
	}
	api_init(fc.store);
	tree_init(fc.store);
	/* Every user may use the tree; the kernel checks modes and owners. */
	if (fuse_opt_add_arg(&args, "-oallow_other,default_permissions,fsname=novafs,subtype=novafs") < 0)
		goto out;
	status = serve(&args, &fc);
	if (fc.failed)
		status = 1;
	bus_shutdown();
out:
	store_close(fc.store);
	fuse_opt_free_args(&args);
	free(opt.db);
	free(opt.amqp);
	free(opt.exchange);
	return status;
}
