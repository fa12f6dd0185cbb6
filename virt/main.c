/*
 * main.c - novafs-compute: runs instances on one host through libvirt.
 *
 * One thread and one event loop own both connections (AMQP and libvirt),
 * so neither needs locking and handlers run one at a time.  The daemon
 * serves topic compute as host HOST, logged in as RabbitMQ user
 * compute-HOST, and sends its heartbeat (its capacity and usage) at start,
 * every report interval and, with up: false, when SIGINT or SIGTERM stops
 * it.  libvirt's events run on the same loop (virt_event.h).  It never
 * touches a database.
 *
 * A host on libvirt's test driver (test:///default, the default) is the
 * size its test_* options say, so that several of them on one machine can
 * model any hosts: the driver makes a private test hypervisor of that
 * size (driver.h, test_host).  Any other URI is a hypervisor novafs does
 * not make, whose size is what libvirt says (and disk_gb, or the size of
 * /): setting a test_* option there is refused at start, as is disk_gb on
 * test:///default, rather than left silently without effect.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "driver.h"
#include "manager.h"

struct compute_config {
	struct rpc_bus_config bus;
	struct rpc_service_config service;
	char *libvirt_uri;
	char *virt_type;
	long long disk_gb;
	struct virt_sizes test_host;   /* 0: not set, the TEST_HOST_* default */
	long long shutdown_timeout_s;
	char *console_dir;
	char *instances_dir;
	char *image_dir;
};

static int check_virt_type(const char *value, enum opt_source from, char *err,
			   size_t errlen)
{
	if (strcmp(value, "test") == 0 || strcmp(value, "qemu") == 0 ||
	    strcmp(value, "kvm") == 0)
		return 0;
	snprintf(err, errlen, "\"%s\" is not test, qemu or kvm", value);
	return -EINVAL;
}

/* libvirt resolves no relative pool path, and neither does the host. */
static int check_absolute(const char *value, enum opt_source from, char *err,
			  size_t errlen)
{
	if (value[0] == '/')
		return 0;
	snprintf(err, errlen, "\"%s\" is not an absolute path", value);
	return -EINVAL;
}

/* A test-driver host's size when its options do not say: one that takes
 * 100 m1.tiny or 10 m1.large with the scheduler's default ratios. */
#define TEST_HOST_VCPUS 64
#define TEST_HOST_MEMORY_MB 262144
#define TEST_HOST_DISK_GB 2048
#define STR_(x) #x
#define STR(x) STR_(x)

static const struct opt compute_options[] = {
	{ "compute", "libvirt_uri", "--libvirt-uri", OPT_STR,
	  offsetof(struct compute_config, libvirt_uri), LIBVIRT_TEST_DEFAULT_URI,
	  0, 0, NULL, "URI", "the libvirt connection", NULL },
	{ "compute", "virt_type", "--virt-type", OPT_STR,
	  offsetof(struct compute_config, virt_type), NULL, 0, 0, NULL, "TYPE",
	  "the domain type, test, qemu or kvm (default: test for test: and test+ URIs, "
	  "else kvm when /dev/kvm exists, else qemu)", check_virt_type },
	{ "compute", "disk_gb", "--disk-gb", OPT_INT,
	  offsetof(struct compute_config, disk_gb), "0", 0, 1LL << 40, NULL, "GB",
	  "the disk capacity to report (0: the size of /); not with "
	  LIBVIRT_TEST_DEFAULT_URI ", whose is test_disk_gb", NULL },
	{ "compute", "test_vcpus", "--test-vcpus", OPT_INT,
	  offsetof(struct compute_config, test_host.vcpus), NULL, 1, 65536, NULL,
	  "N", "the vCPUs of a " LIBVIRT_TEST_DEFAULT_URI " host (default "
	  STR(TEST_HOST_VCPUS) "); refused with any other libvirt_uri", NULL },
	{ "compute", "test_memory_mb", "--test-memory-mb", OPT_INT,
	  offsetof(struct compute_config, test_host.memory_mb), NULL, 1, 1LL << 30,
	  NULL, "MB", "the memory of a " LIBVIRT_TEST_DEFAULT_URI " host (default "
	  STR(TEST_HOST_MEMORY_MB) "); refused with any other libvirt_uri", NULL },
	{ "compute", "test_disk_gb", "--test-disk-gb", OPT_INT,
	  offsetof(struct compute_config, test_host.disk_gb), NULL, 1, 1LL << 40,
	  NULL, "GB", "the disk of a " LIBVIRT_TEST_DEFAULT_URI " host (default "
	  STR(TEST_HOST_DISK_GB) "); refused with any other libvirt_uri", NULL },
	{ "compute", "shutdown_timeout", "--shutdown-timeout", OPT_INT,
	  offsetof(struct compute_config, shutdown_timeout_s), "60", 0, 86400,
	  NULL, "SECONDS",
	  "how long a clean stop or soft reboot waits for the guest before "
	  "powering it off", NULL },
	{ "compute", "console_dir", "--console-dir", OPT_STR,
	  offsetof(struct compute_config, console_dir), "/var/lib/novafs/console",
	  0, 0, NULL, "DIR",
	  "where virtlogd writes qemu/kvm domains' serial consoles", NULL },
	{ "compute", "instances_dir", "--instances-dir", OPT_STR,
	  offsetof(struct compute_config, instances_dir), LIBVIRT_INSTANCES_DIR,
	  0, 0, NULL, "DIR",
	  "the instances' disks (qcow2 overlays on their images): a libvirt dir "
	  "storage pool, made when the first disk is", check_absolute },
	{ "compute", "image_dir", "--image-dir", OPT_STR,
	  offsetof(struct compute_config, image_dir), LIBVIRT_IMAGE_DIR,
	  0, 0, NULL, "DIR",
	  "novafs's image store, as this host mounts it (novafs's --image-dir "
	  "on shared storage): the host takes an image's file only as DIR/ID, "
	  "whatever path a request names", check_absolute },
	OPT_END
};

/*
 * Fills lv's size from cfg: a private test hypervisor of cfg's test_host
 * (defaults filled in) for test:///default, else disk_gb.  Returns 0, or
 * -EINVAL with a reason in e when an option set does not apply to the
 * URI.
 */
static int host_size(struct compute_config *cfg, struct libvirt_config *lv,
		     struct rpc_error *e)
{
	struct virt_sizes *t = &cfg->test_host;

	if (strcmp(cfg->libvirt_uri, LIBVIRT_TEST_DEFAULT_URI) != 0) {
		if (t->vcpus || t->memory_mb || t->disk_gb)
			return rpc_error_set(e, -EINVAL, NULL,
					     "test_vcpus, test_memory_mb and test_disk_gb "
					     "size a " LIBVIRT_TEST_DEFAULT_URI " host only, "
					     "not %s, whose size is what libvirt says",
					     cfg->libvirt_uri);
		lv->disk_gb = cfg->disk_gb;
		return 0;
	}
	if (cfg->disk_gb)
		return rpc_error_set(e, -EINVAL, NULL,
				     "disk_gb is a real hypervisor's disk: a "
				     LIBVIRT_TEST_DEFAULT_URI " host's is test_disk_gb");
	if (!t->vcpus)
		t->vcpus = TEST_HOST_VCPUS;
	if (!t->memory_mb)
		t->memory_mb = TEST_HOST_MEMORY_MB;
	if (!t->disk_gb)
		t->disk_gb = TEST_HOST_DISK_GB;
	lv->test_host = t;
	return 0;
}

int main(int argc, char **argv)
{
	struct compute_config cfg = { 0 };
	const struct opt *const tables[] = {
		rpc_service_options, compute_options, rpc_bus_options, NULL,
	};
	void *const bases[] = { &cfg.service, &cfg, &cfg.bus };
	const struct opts_spec spec = {
		"novafs-compute", "Runs novafs instances on this host through libvirt.",
		NULL, "/etc/novafs/compute.conf", tables, bases,
	};
	struct compute_manager m = { 0 };
	struct libvirt_config lv = { 0 };
	struct virt_driver *drv = NULL;
	struct rpc_bus *bus = NULL;
	struct rpc_error e = { 0 };
	char user[128];
	struct daemon d;
	int status, rc;

	status = daemon_start(&d, &spec, NULL, &argc, argv, 0);
	if (status >= 0)
		return status;
	status = 1;
	rc = rpc_service_host(&cfg.service, &e);
	if (rc < 0) {
		log_error("%s", e.message);
		goto out;
	}
	if (!cfg.virt_type)
		cfg.virt_type = strdup(libvirt_default_virt_type(cfg.libvirt_uri));
	if (!cfg.virt_type) {
		log_error("out of memory");
		goto out;
	}
	lv.uri = cfg.libvirt_uri;
	lv.virt_type = cfg.virt_type;
	lv.loop = d.loop;
	lv.instances_dir = cfg.instances_dir;
	lv.image_dir = cfg.image_dir;
	rc = host_size(&cfg, &lv, &e);
	if (rc < 0) {
		log_error("%s", e.message);
		goto out;
	}
	/* virtlogd writes the logs; the test driver has none. */
	if (strcmp(cfg.virt_type, "test") != 0) {
		if (mkdir(cfg.console_dir, 0750) < 0 && errno != EEXIST) {
			log_error("cannot make the console directory %s: %s",
				  cfg.console_dir, strerror(errno));
			goto out;
		}
		lv.console_dir = cfg.console_dir;
	}
	rc = libvirt_driver_open(&lv, &drv, &e);
	if (rc < 0) {
		log_error("cannot open libvirt %s: %s", cfg.libvirt_uri, e.message);
		goto out;
	}
	rc = rpc_bus_new(d.loop, &cfg.bus,
			 rpc_compute_user(cfg.service.host, user, sizeof(user)),
			 &bus, &e);
	if (rc < 0) {
		log_error("cannot connect to the message bus: %s", e.message);
		goto out;
	}
	m.bus = bus;
	m.drv = drv;
	m.host = cfg.service.host;
	m.report_interval_s = cfg.service.report_interval_s;
	m.shutdown_timeout_s = cfg.shutdown_timeout_s;
	rc = compute_manager_start(&m, &e);
	if (rc < 0) {
		log_error("cannot serve topic compute as %s: %s", m.host, e.message);
		goto out;
	}
	log_info("host %s serving topic compute (libvirt %s, virt type %s)",
		 m.host, cfg.libvirt_uri, cfg.virt_type);
	if (lv.test_host)
		log_info("a test host of %lld vCPUs, %lld MB and %lld GB",
			 lv.test_host->vcpus, lv.test_host->memory_mb,
			 lv.test_host->disk_gb);
	rc = loop_run(d.loop);
	if (rc < 0)
		log_error("the event loop failed: %s", strerror(-rc));
	compute_manager_stop(&m);
	status = rc < 0 ? 1 : 0;
out:
	rpc_bus_free(bus);
	compute_manager_free(&m);
	if (drv)
		drv->ops->close(drv);
	return daemon_finish(&d, &spec, NULL, status);
}
