/*
 * filters.h - the scheduler's policy, after Nova's FilterScheduler: the
 * filters that say which hosts may take an instance, the weighers that
 * rank those that may, and the options (nova.conf's names) that tune both.
 *
 * A filter looks at one host and the request and says pass, or fail with
 * a reason short enough for a NoValidHost message ("1024 MB free, 2048 MB
 * needed").  A weigher gives a host a raw weight, larger is better; the
 * selection (select.h) normalises each weigher's weights over the hosts
 * that passed to 0..1 and scales them by the weigher's multiplier, so a
 * positive multiplier prefers the host with the most of something and a
 * negative one the host with the least.  Adding a filter or a weigher is
 * one function and one table entry (filters.c, weighers.c).
 *
 * What a host "has free" is its limit, its capacity times the allocation
 * ratio (sched_limits), minus what it holds now: its last report's usage
 * corrected by the scheduler's claims and releases (host_state.h).
 *
 * Pure code, like host_state.c: the caller passes the time.
 */
#ifndef NOVAFS_SCHED_FILTERS_H
#define NOVAFS_SCHED_FILTERS_H

#include <stdbool.h>

#include "common/opts.h"
#include "host_state.h"
#include "request.h"

struct strbuf;

/* Allocation ratios and weigher multipliers: sched_options, below. */
struct sched_config {
	double cpu_allocation_ratio;
	double ram_allocation_ratio;
	double disk_allocation_ratio;
	double ram_weight_multiplier;   /* > 0 spreads, < 0 packs */
};

/* The scheduler's options (nova.conf's names and defaults, [DEFAULT]),
 * offsets into struct sched_config. */
extern const struct opt sched_options[];

/* What host hs may hold in all: its capacity times the allocation ratios,
 * rounded down.  Sent to the host as select_destinations' "limits". */
struct sched_resources sched_limits(const struct host_state *hs,
				    const struct sched_config *config);

/* Everything a filter or weigher may look at besides the host. */
struct sched_context {
	const struct sched_config *config;
	const struct sched_request *req;
	/* The hosts of the request's server group: those the request
	 * names, and those of the group's claims in flight (members placed
	 * before novafs knew where). */
	struct host_set group_hosts;
	long long now_ms;
};

/* Fills ctx for req at now_ms.  Returns 0 or -ENOMEM; release ctx with
 * sched_context_release() either way.  ctx borrows config, req and host
 * names from hm, none of which may change while it is used. */
int sched_context_init(struct sched_context *ctx, const struct host_manager *hm,
		       const struct sched_config *config,
		       const struct sched_request *req, long long now_ms);
void sched_context_release(struct sched_context *ctx);

/* Returns true when hs passes; otherwise appends why to reason. */
typedef bool (*sched_filter_fn)(const struct host_state *hs,
				const struct sched_context *ctx,
				struct strbuf *reason);

struct sched_filter {
	const char *name;
	sched_filter_fn fn;
};

/* A raw weight; larger is better before the multiplier. */
typedef double (*sched_weigher_fn)(const struct host_state *hs,
				   const struct sched_context *ctx);

struct sched_weigher {
	const char *name;
	sched_weigher_fn fn;
	/* The multiplier from config, so that one table serves any config. */
	double (*multiplier)(const struct sched_config *config);
};

/* The tables, each ending with a NULL name.  Filters run in table order;
 * a host's NoValidHost reason is the first that rejected it. */
extern const struct sched_filter sched_filters[];
extern const struct sched_weigher sched_weighers[];

/* Runs filter name (e.g. "RamFilter") alone on hs; for tests.  Returns 1
 * pass, 0 fail (reason appended), -ENOENT for an unknown filter. */
int sched_run_filter(const char *name, const struct host_state *hs,
		     const struct sched_context *ctx, struct strbuf *reason);

#endif
