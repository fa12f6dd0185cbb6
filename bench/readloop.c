/*
 * readloop.c - latency of reading one small file, open to close.
 *
 * usage: readloop PATH N
 *
 * Times N iterations of open(O_RDONLY) + read(4096) + close of PATH, each
 * with CLOCK_MONOTONIC, and prints one line:
 *
 *   p50_us=X p99_us=Y mean_us=Z n=N
 *
 * That is what `cat state` costs a client minus the fork and exec, which
 * would otherwise swamp a FUSE round trip; a shell loop cannot measure it.
 * Any failure stops the run with the errno and the iteration.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -O2 -o readloop readloop.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

/* One timed open + read + close: 0, or -errno. */
static int read_once(const char *path, double *us)
{
	char buf[4096];
	double t = now_us();
	int fd = open(path, O_RDONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf)) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	*us = now_us() - t;
	return ret;
}

int main(int argc, char *argv[])
{
	double *lat = NULL, p50, p99, mean;
	long n, i;
	char *end;
	int r, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: readloop PATH N\n");
		return 2;
	}
	n = strtol(argv[2], &end, 10);
	if (*end || n <= 0) {
		fprintf(stderr, "readloop: N must be a positive integer\n");
		return 2;
	}
	lat = malloc((size_t)n * sizeof(*lat));
	if (!lat) {
		fprintf(stderr, "readloop: out of memory\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = read_once(argv[1], &lat[i]);
		if (r < 0) {
			fprintf(stderr, "readloop: %s: %s (iteration %ld)\n", argv[1], strerror(-r), i);
			goto out;
		}
	}
	samples_summary(lat, n, &p50, &p99, &mean);
	printf("p50_us=%.1f p99_us=%.1f mean_us=%.1f n=%ld\n", p50, p99, mean, n);
	ret = 0;
out:
	free(lat);
	return ret;
}
