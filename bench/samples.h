/*
 * samples.h - timing and percentiles shared by the benchmark programs.
 *
 * Header-only so that every tool in bench/ stays one standalone program
 * that shares nothing with novafs (a floor built on novafs's own code
 * would not be a floor).  Percentiles are nearest-rank on sorted samples,
 * index (n-1)*p/100, as bench/lib.sh's bench_stats computes them, so shell
 * and C figures compare.
 */
#ifndef BENCH_SAMPLES_H
#define BENCH_SAMPLES_H

#include <stdlib.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int samples_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v[0..n) in place; p50, p99 and mean go to the pointers. */
static inline void samples_summary(double *v, long n, double *p50, double *p99,
				   double *mean)
{
	double sum = 0;
	long i;

	for (i = 0; i < n; i++)
		sum += v[i];
	qsort(v, (size_t)n, sizeof(*v), samples_cmp);
	*p50 = n ? v[(n - 1) * 50 / 100] : 0;
	*p99 = n ? v[(n - 1) * 99 / 100] : 0;
	*mean = n ? sum / (double)n : 0;
}

#endif
