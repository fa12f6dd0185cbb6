/*
 * main.c - novafs-compute: runs instances on one host through libvirt.
 *
 * One thread owns both connections (AMQP and libvirt), so neither needs
 * locking and handlers run one at a time.  The daemon consumes topic
 * compute as server HOST, reports its capabilities to the scheduler at
 * start, every --report-interval seconds and with "up": false when it
 * stops on SIGINT/SIGTERM.  It never touches a database.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "log.h"
#include "manager.h"
#include "rpc.h"
#include "service.h"

struct compute_opts {
	struct service_opts common;
	const char *host;
	const char *libvirt_uri;
	const char *virt_type;
	int report_interval;
	long long disk_gb;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: novafs-compute [OPTION]...\n"
		"Runs novafs instances on this host through libvirt.\n\n"
		"  --host NAME             host name (default: gethostname())\n"
		"  --libvirt-uri URI       libvirt connection (default test:///default)\n"
		"  --virt-type TYPE        test, qemu or kvm (default: test for test://\n"
		"                          URIs, else kvm when /dev/kvm exists, else qemu)\n"
		"  --report-interval SECS  capability report interval (default 10)\n"
		"  --disk-gb GB            disk capacity to report (default: size of /)\n"
		SERVICE_COMMON_USAGE);
}

/* Parses a positive integer no larger than max. */
static int parse_positive(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Returns 0, 1 when the program should exit 0 (--help), or -EINVAL. */
static int parse_args(int argc, char **argv, struct compute_opts *o)
{
	const char *interval = NULL, *disk = NULL;
	long long v;
	int i, r;

	for (i = 1; i < argc; i++) {
		r = service_parse_common_option(&o->common, argc, argv, &i);
		if (r == 0)
			r = service_option_value(argc, argv, &i, "--host", &o->host);
		if (r == 0)
			r = service_option_value(argc, argv, &i, "--libvirt-uri",
						 &o->libvirt_uri);
		if (r == 0)
			r = service_option_value(argc, argv, &i, "--virt-type",
						 &o->virt_type);
		if (r == 0)
			r = service_option_value(argc, argv, &i,
						 "--report-interval", &interval);
		if (r == 0)
			r = service_option_value(argc, argv, &i, "--disk-gb", &disk);
		if (r > 0)
			continue;
		fprintf(stderr, "novafs-compute: %s: %s\n", argv[i],
			r < 0 ? "missing value" : "unknown option");
		return -EINVAL;
	}
	if (o->common.help)
		return 1;
	if (interval) {
		if (parse_positive(interval, 86400, &v) < 0) {
			fprintf(stderr, "novafs-compute: --report-interval: %s is not a number of seconds\n",
				interval);
			return -EINVAL;
		}
		o->report_interval = (int)v;
	}
	if (disk && parse_positive(disk, LLONG_MAX, &o->disk_gb) < 0) {
		fprintf(stderr, "novafs-compute: --disk-gb: %s is not a size in GB\n",
			disk);
		return -EINVAL;
	}
	if (o->host && !*o->host) {
		fprintf(stderr, "novafs-compute: --host must not be empty\n");
		return -EINVAL;
	}
	if (!o->virt_type)
		o->virt_type = libvirt_default_virt_type(o->libvirt_uri);
	return 0;
}

int main(int argc, char **argv)
{
	struct compute_opts opts = { .libvirt_uri = "test:///default",
				     .report_interval = 10 };
	struct compute_manager m = { 0 };
	struct virt_driver *drv = NULL;
	struct rpc_conn *conn = NULL;
	struct rpc_server *srv = NULL;
	struct rpc_error e = { 0 };
	char hostname[256] = "";
	int r, status = 1;

	service_opts_init(&opts.common);
	r = parse_args(argc, argv, &opts);
	if (r != 0) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	log_setup("novafs-compute",
		  opts.common.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!opts.host) {
		if (gethostname(hostname, sizeof(hostname) - 1) < 0 || !hostname[0]) {
			log_error("cannot get the host name: %s; use --host",
				  strerror(errno));
			goto out;
		}
		opts.host = hostname;
	}
	r = service_install_signals();
	if (r < 0) {
		log_error("cannot install signal handlers: %s", strerror(-r));
		goto out;
	}

	r = libvirt_driver_open(opts.libvirt_uri, opts.virt_type, opts.disk_gb,
				&drv, &e);
	if (r < 0) {
		log_error("cannot open libvirt %s: %s", opts.libvirt_uri, e.message);
		goto out;
	}
	r = rpc_connect(opts.common.amqp_url, opts.common.exchange, &conn, &e);
	if (r < 0) {
		log_error("cannot connect to the broker: %s", e.message);
		goto out;
	}
	m.conn = conn;
	m.drv = drv;
	m.host = opts.host;
	m.report_interval = opts.report_interval;
	r = rpc_server_new(conn, "compute", opts.host, compute_methods, &m,
			   &srv, &e);
	if (r < 0) {
		log_error("cannot consume topic compute: %s", e.message);
		goto out;
	}
	log_info("host %s consuming topic compute (libvirt %s, virt type %s)",
		 opts.host, opts.libvirt_uri, opts.virt_type);

	compute_report_capabilities(&m, true);
	service_run(srv, compute_periodic_report, &m,
		    opts.report_interval * 1000);
	log_info("stopping");
	compute_report_capabilities(&m, false);
	status = 0;
out:
	compute_manager_release(&m);
	rpc_server_free(srv);
	rpc_close(conn);
	if (drv)
		drv->ops->close(drv);
	return status;
}
