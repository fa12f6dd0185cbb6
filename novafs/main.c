/*
 * novafs - the FUSE daemon: the API, request validation and the state store.
 *
 * usage: novafs [OPTION]... [FUSE OPTION]... MOUNTPOINT
 *
 * Start-up order matters: the database is opened and loaded first (a bad
 * --db fails before anything is mounted), then the broker is connected (a
 * wrong --amqp, or credentials it refuses, is one line and exit status
 * 1), then the tree is mounted, and only after fuse_daemonize (a fork
 * keeps no threads) do the committer, notifier and bus threads start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "actions.h"
#include "conductor.h"
#include "events.h"
#include "fs.h"
#include "image.h"
#include "instance.h"
#include "kinds.h"
#include "obj.h"
#include "reconcile.h"
#include "store.h"
#include "view.h"

#define DEFAULT_DB_DIR "/var/lib/novafs"
#define DEFAULT_DB DEFAULT_DB_DIR "/novafs.db"
#define DEFAULT_IMAGE_DIR DEFAULT_DB_DIR "/images"

struct novafs_config {
	char *db;
	char *image_dir;
	long long max_attempts;
	struct conductor_config cd;
};

static const struct opt novafs_options[] = {
	{ "novafs", "db", "--db", OPT_STR, offsetof(struct novafs_config, db),
	  DEFAULT_DB, 0, 0, NULL, "PATH", "the state database", NULL },
	{ "novafs", "image_dir", "--image-dir", OPT_STR,
	  offsetof(struct novafs_config, image_dir), DEFAULT_IMAGE_DIR, 0, 0, NULL,
	  "DIR", "the image store: images' bytes, one file each, which compute "
	  "hosts read at the same path (shared storage when they are other "
	  "machines)", NULL },
	{ "DEFAULT", "service_down_time", "--service-down-time", OPT_INT,
	  offsetof(struct novafs_config, cd.service_down_time_s), "60", 1, 86400,
	  NULL, "SECONDS",
	  "a service that has not sent a heartbeat for this long is down", NULL },
	{ "novafs", "task_timeout", "--task-timeout", OPT_INT,
	  offsetof(struct novafs_config, cd.task_timeout_s), "180", 1, 86400,
	  NULL, "SECONDS",
	  "a task with no outcome after this long is asked of its host, and "
	  "ends as the host says (or as it was, if the host is down)", NULL },
	{ "scheduler", "max_attempts", "--scheduler-max-attempts", OPT_INT,
	  offsetof(struct novafs_config, max_attempts), "3", 1, 100, NULL, "N",
	  "how many hosts a first start may try: a host that refuses it for "
	  "want of room has it rescheduled on another, up to this many in all",
	  NULL },
	OPT_END
};

static struct novafs_config cfg;
static const struct opt *const tables[] = { novafs_options, rpc_bus_options, NULL };
static void *const bases[] = { &cfg, &cfg.cd.bus, NULL };
static const struct opts_spec spec = {
	"novafs", "Serves an IaaS controller as a file system.",
	"[FUSE OPTION]... MOUNTPOINT", "/etc/novafs/novafs.conf", tables, bases,
};

/* After the mount and fuse_daemonize: the threads, then what needs them. */
static int started(void)
{
	int rc;

	if ((rc = store_start()) < 0 || (rc = conductor_run()) < 0) {
		log_error("cannot start: %s", strerror(-rc));
		return rc;
	}
	if ((rc = kinds_seed()) < 0) {
		log_error("cannot create the standard flavors and networks: %s",
			  strerror(-rc));
		return rc;
	}
	rc = instance_recover();
	if (rc > 0)
		log_warn("%d instance(s) had a task interrupted by a crash; see their fault", rc);
	rc = image_recover();
	if (rc < 0)
		log_warn("cannot tidy the image store: %s", strerror(-rc));
	else if (rc > 0)
		log_warn("%d image upload(s) were interrupted; see their fault", rc);
	return 0;
}

/* After the loop: nothing more may reply to FUSE from these threads. */
static void stopping(void)
{
	conductor_stop();
	store_close();
}

/*
 * The state directory, when a default path is under it: search-only for
 * others (0711), so that compute hosts' QEMU, running as its own user,
 * reaches the image store; nothing in it can be listed, and a new
 * database is made private (SQLite gives its -wal and -shm files the
 * database's mode).  0 or -errno.
 */
static int make_state_dir(void)
{
	int fd;

	if ((strcmp(cfg.db, DEFAULT_DB) == 0 || strcmp(cfg.image_dir, DEFAULT_IMAGE_DIR) == 0) &&
	    mkdir(DEFAULT_DB_DIR, 0711) < 0 && errno != EEXIST) {
		fprintf(stderr, "novafs: cannot create %s: %s\n", DEFAULT_DB_DIR,
			strerror(errno));
		return -errno;
	}
	fd = open(cfg.db, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The image store, made search-only for others when missing (compute
 * hosts' QEMU opens the files it is told of); its parent must exist.
 * 0 or -errno. */
static int make_image_dir(void)
{
	const char *dir = cfg.image_dir;
	struct stat st;

	if (dir[0] != '/' || strlen(dir) > PATH_MAX / 2) {
		fprintf(stderr, "novafs: --image-dir %s: not an absolute path of at "
			"most %d bytes\n", dir, PATH_MAX / 2);
		return -EINVAL;
	}
	if ((mkdir(dir, 0711) < 0 && errno != EEXIST) || stat(dir, &st) < 0) {
		fprintf(stderr, "novafs: cannot create %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "novafs: --image-dir %s is not a directory\n", dir);
		return -ENOTDIR;
	}
	image_set_dir(dir);
	return 0;
}

static bool has_arg(int argc, char **argv, const char *arg)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], arg) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct rpc_error e = { 0 };
	struct daemon d;
	const char *why = NULL;
	int i, rc, status = 1;

	status = daemon_start(&d, &spec, NULL, &argc, argv,
			      DAEMON_OWN_SIGNALS | DAEMON_KEEP_UNKNOWN);
	if (status >= 0) {
		/* --help lists FUSE's options too; --help-markdown is the
		 * README's table of novafs's own. */
		if (status == 0 && !has_arg(argc, argv, "--help-markdown")) {
			printf("\nFUSE options:\n");
			fuse_cmdline_help();
			fuse_lowlevel_help();
		}
		return status;
	}
	status = 1;
	action_max_attempts = (int)cfg.max_attempts;
	/* What opts_load left is FUSE's; fuse_opt wants its own copy. */
	for (i = 0; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]) < 0)
			goto out;
	if (make_state_dir() < 0)
		goto out;
	if (make_image_dir() < 0)
		goto out;
	if ((rc = obj_init(novafs_kinds)) < 0 || (rc = view_init(novafs_kinds)) < 0 ||
	    (rc = events_init()) < 0) {
		fprintf(stderr, "novafs: %s\n", strerror(-rc));
		goto out;
	}
	rc = store_open(cfg.db, novafs_kinds, &why);
	if (rc < 0) {
		fprintf(stderr, "novafs: cannot open database %s: %s\n", cfg.db,
			why ? why : strerror(-rc));
		goto out;
	}
	rc = conductor_start(d.loop, &cfg.cd, &e);
	if (rc < 0) {
		fprintf(stderr, "novafs: %s\n", e.message);
		goto out_store;
	}
	/* On the bus thread's loop, with a pass for what was loaded. */
	rc = reconcile_start(d.loop);
	if (rc < 0) {
		fprintf(stderr, "novafs: %s\n", strerror(-rc));
		goto out_conductor;
	}
	/* Every user may use the tree; the kernel checks modes and owners. */
	if (fuse_opt_add_arg(&args, "-oallow_other,default_permissions,fsname=novafs,subtype=novafs") < 0)
		goto out_conductor;
	status = fs_serve(&args, started, stopping);
out_conductor:
	conductor_stop();
out_store:
	store_close();
	reconcile_stop();
out:
	fuse_opt_free_args(&args);
	events_shutdown();
	obj_shutdown();
	return daemon_finish(&d, &spec, NULL, status);
}
