/*
 * virt_floor.c - the raw libvirt floor: define, start, destroy, undefine.
 *
 * usage: virt_floor [URI] N        URI defaults to test:///default
 *
 * Defines and starts N minimal domains (type test, 1 vCPU, 512 MiB, no
 * disks, named bench-floor-I with fixed UUIDs), then destroys and
 * undefines them, timing each pair with CLOCK_MONOTONIC.  Prints
 *
 *   define_start_us p50=X p99=Y mean=Z n=N wall_ms=W
 *   destroy_undefine_us p50=X p99=Y mean=Z n=N wall_ms=W
 *
 * wall_ms is the whole loop, one domain after another, as one compute
 * host would start N instances.
 *
 * That is the least a start and a delete can cost on this driver: what
 * novafs-compute spends around the same calls (the bus, its XML, its
 * bookkeeping) is measured against it.  Every domain it defined is
 * destroyed and undefined before it exits, also on error; exit status 1
 * on any failure.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -O2 $(pkg-config --cflags libvirt) \
 *        -o virt_floor virt_floor.c $(pkg-config --libs libvirt)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "samples.h"

/* Sorts lat and prints one summary line; wall is the loop's, in µs. */
static void report(const char *what, double *lat, long n, double wall)
{
	double p50, p99, mean;

	samples_summary(lat, n, &p50, &p99, &mean);
	printf("%s p50=%.1f p99=%.1f mean=%.1f n=%ld wall_ms=%.1f\n", what, p50, p99,
	       mean, n, wall / 1e3);
}

/* Errors are reported once, by the caller, with what was being done. */
static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* Removes a domain this run defined, whatever state it got to.  Returns
 * 0, or -1 with the libvirt error left for the caller. */
static int remove_domain(virDomainPtr d)
{
	if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
		return -1;
	return virDomainUndefine(d);
}

int main(int argc, char *argv[])
{
	const char *uri = argc == 3 ? argv[1] : "test:///default";
	virDomainPtr *doms = NULL;
	virConnectPtr conn = NULL;
	double *define_lat = NULL, *destroy_lat = NULL, t, define_wall, destroy_wall;
	char xml[512], *end;
	long n = 0, i;
	int ret = 1;

	if (argc == 2 || argc == 3)
		n = strtol(argv[argc - 1], &end, 10);
	if (n <= 0 || *end) {
		fprintf(stderr, "usage: virt_floor [URI] N\n");
		return 2;
	}
	doms = calloc((size_t)n, sizeof(*doms));
	define_lat = malloc((size_t)n * sizeof(*define_lat));
	destroy_lat = malloc((size_t)n * sizeof(*destroy_lat));
	if (!doms || !define_lat || !destroy_lat) {
		fprintf(stderr, "virt_floor: out of memory\n");
		goto out;
	}
	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen(uri);
	if (!conn) {
		fprintf(stderr, "virt_floor: cannot open %s: %s\n", uri, virGetLastErrorMessage());
		goto out;
	}
	define_wall = now_us();
	for (i = 0; i < n; i++) {
		snprintf(xml, sizeof(xml),
			 "<domain type='test'>"
			 "<name>bench-floor-%ld</name>"
			 "<uuid>b3c0f100-0000-4000-8000-%012lx</uuid>"
			 "<memory unit='MiB'>512</memory>"
			 "<vcpu>1</vcpu>"
			 "<os><type>hvm</type></os>"
			 "</domain>", i, (unsigned long)i);
		t = now_us();
		doms[i] = virDomainDefineXML(conn, xml);
		if (!doms[i] || virDomainCreate(doms[i]) < 0) {
			fprintf(stderr, "virt_floor: define and start bench-floor-%ld: %s\n", i,
				virGetLastErrorMessage());
			goto out;
		}
		define_lat[i] = now_us() - t;
	}
	define_wall = now_us() - define_wall;
	destroy_wall = now_us();
	for (i = 0; i < n; i++) {
		t = now_us();
		if (virDomainDestroy(doms[i]) < 0 || virDomainUndefine(doms[i]) < 0) {
			fprintf(stderr, "virt_floor: destroy and undefine bench-floor-%ld: %s\n", i,
				virGetLastErrorMessage());
			goto out;
		}
		destroy_lat[i] = now_us() - t;
		virDomainFree(doms[i]);
		doms[i] = NULL;
	}
	destroy_wall = now_us() - destroy_wall;
	report("define_start_us", define_lat, n, define_wall);
	report("destroy_undefine_us", destroy_lat, n, destroy_wall);
	ret = 0;
out:
	/* Only what is left after an error: each removed domain was freed. */
	for (i = 0; doms && i < n; i++) {
		if (!doms[i])
			continue;
		if (remove_domain(doms[i]) < 0)
			fprintf(stderr, "virt_floor: cannot remove bench-floor-%ld: %s\n", i,
				virGetLastErrorMessage());
		virDomainFree(doms[i]);
	}
	if (conn)
		virConnectClose(conn);
	free(doms);
	free(define_lat);
	free(destroy_lat);
	return ret;
}
