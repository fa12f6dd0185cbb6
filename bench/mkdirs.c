/*
 * mkdirs.c - throughput and latency of concurrent mkdir.
 *
 * usage: mkdirs DIR THREADS COUNT PREFIX
 *
 * THREADS threads each create COUNT directories DIR/PREFIX-T-I (T the
 * thread, I the index), all released at once, timing each mkdir with
 * CLOCK_MONOTONIC.  Prints one line:
 *
 *   mkdir_per_s=X p50_us=Y p99_us=Z total=N errors=E wall_s=W
 *
 * mkdir_per_s counts successful mkdirs over the wall time from the
 * release to the last thread's end; latencies include failed calls, whose
 * count is errors (the first error of each thread goes to stderr).  Exit
 * status 1 when any mkdir failed.  Concurrent clients are how Ansible
 * and friends create instances, and what a single lock in the daemon
 * would serialize.  The directories are left for the caller to remove.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -O2 -o mkdirs mkdirs.c -pthread
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "samples.h"

struct worker {
	pthread_t thread;
	int id;
	long count;
	double *lat;            /* count latencies, in µs */
	long errors;
};

static const char *dir, *prefix;
static pthread_barrier_t start;

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char path[PATH_MAX];
	double t;
	long i;

	pthread_barrier_wait(&start);
	for (i = 0; i < w->count; i++) {
		snprintf(path, sizeof(path), "%s/%s-%d-%ld", dir, prefix, w->id, i);
		t = now_us();
		if (mkdir(path, 0755) < 0 && w->errors++ == 0)
			fprintf(stderr, "mkdirs: %s: %s\n", path, strerror(errno));
		w->lat[i] = now_us() - t;
	}
	return NULL;
}

static long parse_positive(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0) {
		fprintf(stderr, "mkdirs: %s must be a positive integer\n", what);
		exit(2);
	}
	return v;
}

int main(int argc, char *argv[])
{
	struct worker *w = NULL;
	double *all = NULL, t0, wall, p50, p99, mean;
	long threads, count, total, errors = 0, i;
	int ret = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: mkdirs DIR THREADS COUNT PREFIX\n");
		return 2;
	}
	dir = argv[1];
	threads = parse_positive(argv[2], "THREADS");
	count = parse_positive(argv[3], "COUNT");
	prefix = argv[4];
	total = threads * count;
	w = calloc((size_t)threads, sizeof(*w));
	all = malloc((size_t)total * sizeof(*all));
	if (!w || !all) {
		fprintf(stderr, "mkdirs: out of memory\n");
		goto out;
	}
	/* The main thread joins the barrier too, so t0 is the release. */
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	for (i = 0; i < threads; i++) {
		w[i].id = (int)i;
		w[i].count = count;
		w[i].lat = all + i * count;
		if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]) != 0) {
			/* The barrier can never be released now. */
			fprintf(stderr, "mkdirs: cannot start thread %ld\n", i);
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	t0 = now_us();
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		errors += w[i].errors;
	}
	wall = (now_us() - t0) / 1e6;
	pthread_barrier_destroy(&start);
	samples_summary(all, total, &p50, &p99, &mean);
	printf("mkdir_per_s=%.0f p50_us=%.1f p99_us=%.1f total=%ld errors=%ld wall_s=%.3f\n",
	       (double)(total - errors) / wall, p50, p99, total, errors, wall);
	ret = errors ? 1 : 0;
out:
	free(w);
	free(all);
	return ret;
}
