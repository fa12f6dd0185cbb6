/*
 * filters.h - choosing a host for an instance, after Nova's
 * FilterScheduler.
 *
 * Every host runs through a table of filters (each says pass, or fail with
 * a reason); the hosts that pass every filter are ranked by a table of
 * weighers, each weight normalised over the candidates to 0..1 and scaled
 * by the weigher's multiplier (a positive multiplier spreads, a negative
 * one packs); the best host wins and carries a claim for the flavor until
 * its next report.  Adding a filter or weigher is one table entry.
 *
 * Pure code, like host_state.c: the caller passes the time.
 */
#ifndef NOVAFS_SCHED_FILTERS_H
#define NOVAFS_SCHED_FILTERS_H

#include <stdbool.h>
#include <jansson.h>

#include "common/opts.h"
#include "host_state.h"

struct rpc_error;
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

/* One select_destinations request. */
struct sched_request {
	char instance_uuid[64];
	char flavor_name[64];
	struct sched_resources flavor;
};

/* Parses select_destinations args ({"instance_uuid", "flavor": {"name",
 * "vcpus", "memory_mb", "disk_gb"}}) into req.  Returns 0 or -EINVAL with
 * e. */
int sched_request_from_json(json_t *args, struct sched_request *req,
			    struct rpc_error *e);

/* Everything a filter or weigher may look at besides the host. */
struct sched_context {
	const struct sched_config *config;
	const struct sched_request *req;
	long long now_ms;
};

/* Returns true when hs passes; otherwise appends why to reason (e.g.
 * "1024 MB free, 2048 MB needed"). */
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

/* The tables, each ending with a NULL name.  The first filter must be
 * ComputeFilter: hosts it rejects are "not up" in failure reasons. */
extern const struct sched_filter sched_filters[];
extern const struct sched_weigher sched_weighers[];

/* Runs filter name (e.g. "RamFilter") alone on hs; for tests.  Returns 1
 * pass, 0 fail (reason appended), -ENOENT for an unknown filter. */
int sched_run_filter(const char *name, const struct host_state *hs,
		     const struct sched_context *ctx, struct strbuf *reason);

/*
 * Chooses a host for req among hm's hosts and claims the flavor on it.
 * Returns 0 and sets *chosen, or -EHOSTUNREACH with e ("NoValidHost")
 * saying why no host fits: "No valid host was found. There are no compute
 * hosts up." or "No valid host was found. 2 hosts up; RamFilter rejected
 * node1 (1024 MB free, 2048 MB needed), ...".
 */
int sched_select_destination(struct host_manager *hm,
			     const struct sched_config *config,
			     const struct sched_request *req, long long now_ms,
			     struct host_state **chosen, struct rpc_error *e);

#endif
