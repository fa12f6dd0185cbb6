/*
 * filters.c - the filter and weigher tables and the selection they drive;
 * see filters.h.
 */
#include "filters.h"

#include <errno.h>
#include <float.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/opts.h"
#include "common/strbuf.h"
#include "rpc/rpc.h"

const struct opt sched_options[] = {
	{ "DEFAULT", "cpu_allocation_ratio", "--cpu-allocation-ratio", OPT_DOUBLE,
	  offsetof(struct sched_config, cpu_allocation_ratio), "16.0", 0.01, 1e6,
	  NULL, "RATIO", "virtual CPUs a host may give per physical CPU", NULL },
	{ "DEFAULT", "ram_allocation_ratio", "--ram-allocation-ratio", OPT_DOUBLE,
	  offsetof(struct sched_config, ram_allocation_ratio), "1.5", 0.01, 1e6,
	  NULL, "RATIO", "memory a host may give per MB it has", NULL },
	{ "DEFAULT", "disk_allocation_ratio", "--disk-allocation-ratio", OPT_DOUBLE,
	  offsetof(struct sched_config, disk_allocation_ratio), "1.0", 0.01, 1e6,
	  NULL, "RATIO", "disk a host may give per GB it has", NULL },
	{ "DEFAULT", "ram_weight_multiplier", "--ram-weight-multiplier", OPT_DOUBLE,
	  offsetof(struct sched_config, ram_weight_multiplier), "1.0", -1e6, 1e6,
	  NULL, "FACTOR", "above 0 spreads instances over hosts by free memory, "
	  "below 0 packs them", NULL },
	OPT_END
};

/* ComputeFilter: the host says it is up and reported recently. */
static bool compute_filter(const struct host_state *hs,
			   const struct sched_context *ctx, struct strbuf *reason)
{
	if (!hs->up) {
		strbuf_addstr(reason, "service is down");
		return false;
	}
	if (!host_state_is_live(hs, ctx->now_ms)) {
		strbuf_addf(reason, "no report for %lld s",
			    (ctx->now_ms - hs->last_report_ms) / 1000);
		return false;
	}
	return true;
}

static bool ram_filter(const struct host_state *hs,
		       const struct sched_context *ctx, struct strbuf *reason)
{
	long long free_mb = host_state_free_memory_mb(hs,
			ctx->config->ram_allocation_ratio);

	if (free_mb >= ctx->req->flavor.memory_mb)
		return true;
	strbuf_addf(reason, "%lld MB free, %lld MB needed", free_mb,
		    ctx->req->flavor.memory_mb);
	return false;
}

static bool core_filter(const struct host_state *hs,
			const struct sched_context *ctx, struct strbuf *reason)
{
	long long free_vcpus = host_state_free_vcpus(hs,
			ctx->config->cpu_allocation_ratio);

	if (free_vcpus >= ctx->req->flavor.vcpus)
		return true;
	strbuf_addf(reason, "%lld vCPUs free, %lld needed", free_vcpus,
		    ctx->req->flavor.vcpus);
	return false;
}

static bool disk_filter(const struct host_state *hs,
			const struct sched_context *ctx, struct strbuf *reason)
{
	long long free_gb = host_state_free_disk_gb(hs,
			ctx->config->disk_allocation_ratio);

	if (free_gb >= ctx->req->flavor.disk_gb)
		return true;
	strbuf_addf(reason, "%lld GB free, %lld GB needed", free_gb,
		    ctx->req->flavor.disk_gb);
	return false;
}

const struct sched_filter sched_filters[] = {
	{ "ComputeFilter", compute_filter },
	{ "RamFilter", ram_filter },
	{ "CoreFilter", core_filter },
	{ "DiskFilter", disk_filter },
	{ NULL, NULL },
};

/* RAMWeigher: free RAM after the allocation ratio. */
static double ram_weigher(const struct host_state *hs,
			  const struct sched_context *ctx)
{
	return (double)host_state_free_memory_mb(hs,
			ctx->config->ram_allocation_ratio);
}

static double ram_multiplier(const struct sched_config *config)
{
	return config->ram_weight_multiplier;
}

const struct sched_weigher sched_weighers[] = {
	{ "RAMWeigher", ram_weigher, ram_multiplier },
	{ NULL, NULL, NULL },
};

int sched_request_from_json(json_t *args, struct sched_request *req,
			    struct rpc_error *e)
{
	json_t *flavor = json_object_get(args, "flavor");
	const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
	const char *name = json_string_value(json_object_get(flavor, "name"));
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "vcpus", offsetof(struct sched_resources, vcpus) },
		{ "memory_mb", offsetof(struct sched_resources, memory_mb) },
		{ "disk_gb", offsetof(struct sched_resources, disk_gb) },
	};
	size_t i;

	memset(req, 0, sizeof(*req));
	if (!json_is_object(flavor))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "select_destinations: \"flavor\" must be an object");
	snprintf(req->instance_uuid, sizeof(req->instance_uuid), "%s",
		 uuid ? uuid : "");
	snprintf(req->flavor_name, sizeof(req->flavor_name), "%s",
		 name ? name : "");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(flavor, fields[i].key);

		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "select_destinations: flavor \"%s\" must be a non-negative integer",
					     fields[i].key);
		*(long long *)((char *)&req->flavor + fields[i].off) =
			json_integer_value(v);
	}
	return 0;
}

int sched_run_filter(const char *name, const struct host_state *hs,
		     const struct sched_context *ctx, struct strbuf *reason)
{
	const struct sched_filter *f;

	for (f = sched_filters; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f->fn(hs, ctx, reason) ? 1 : 0;
	return -ENOENT;
}

/*
 * Runs every filter on hs; on the first failure appends "FILTER rejected
 * HOST (why)" to why and returns the failing filter's index, or -1 when hs
 * passes them all.
 */
static int filter_host(const struct host_state *hs,
		       const struct sched_context *ctx, struct strbuf *why)
{
	struct strbuf reason = STRBUF_INIT;
	int i;

	for (i = 0; sched_filters[i].name; i++) {
		strbuf_reset(&reason);
		if (sched_filters[i].fn(hs, ctx, &reason))
			continue;
		strbuf_addf(why, "%s rejected %s (%s)", sched_filters[i].name,
			    hs->name, reason.buf);
		break;
	}
	strbuf_release(&reason);
	return sched_filters[i].name ? i : -1;
}

/*
 * Ranks the candidates (indexes into hm->hosts) by the weighers, as Nova
 * does: each weigher's raw weights are normalised to 0..1 over the
 * candidates, scaled by its multiplier and summed.  Returns the index of
 * the best host; ties go to the host heard from first.
 */
static size_t best_host(struct host_manager *hm, const size_t *cand, size_t n,
			const struct sched_context *ctx)
{
	double *total = calloc(n, sizeof(*total));
	double *raw = calloc(n, sizeof(*raw));
	const struct sched_weigher *w;
	size_t i, best = 0;

	if (!total || !raw)
		goto out;    /* no memory to rank: any candidate will do */
	for (w = sched_weighers; w->name; w++) {
		double lo = DBL_MAX, hi = -DBL_MAX;
		double mult = w->multiplier(ctx->config);

		for (i = 0; i < n; i++) {
			raw[i] = w->fn(&hm->hosts[cand[i]], ctx);
			if (raw[i] < lo)
				lo = raw[i];
			if (raw[i] > hi)
				hi = raw[i];
		}
		for (i = 0; i < n; i++)
			total[i] += mult * (hi > lo ? (raw[i] - lo) / (hi - lo) : 0.0);
	}
	for (i = 1; i < n; i++)
		if (total[i] > total[best])
			best = i;
out:
	free(total);
	free(raw);
	return cand[best];
}

int sched_select_destination(struct host_manager *hm,
			     const struct sched_config *config,
			     const struct sched_request *req, long long now_ms,
			     struct host_state **chosen, struct rpc_error *e)
{
	struct sched_context ctx = { config, req, now_ms };
	struct strbuf why = STRBUF_INIT, entry = STRBUF_INIT;
	size_t *cand = NULL;
	size_t i, n = 0, up = 0;
	int r = 0;

	*chosen = NULL;
	if (hm->n && !(cand = calloc(hm->n, sizeof(*cand)))) {
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < hm->n; i++) {
		int failed;

		strbuf_reset(&entry);
		failed = filter_host(&hm->hosts[i], &ctx, &entry);
		if (failed == 0)
			continue;        /* ComputeFilter: not up */
		up++;
		if (failed < 0) {
			cand[n++] = i;
			continue;
		}
		if (why.len)
			strbuf_addstr(&why, ", ");
		strbuf_addstr(&why, entry.buf);
	}
	if (up == 0) {
		r = rpc_error_set(e, -EHOSTUNREACH, "NoValidHost",
				  "No valid host was found. There are no compute hosts up.");
		goto out;
	}
	if (n == 0) {
		r = rpc_error_set(e, -EHOSTUNREACH, "NoValidHost",
				  "No valid host was found. %zu host%s up; %s.",
				  up, up == 1 ? "" : "s", why.buf);
		goto out;
	}
	*chosen = &hm->hosts[best_host(hm, cand, n, &ctx)];
	host_state_claim(*chosen, &req->flavor);
out:
	free(cand);
	strbuf_release(&entry);
	strbuf_release(&why);
	return r;
}
