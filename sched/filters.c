/*
 * filters.c - the scheduler's options and its filter table; see filters.h.
 *
 * Each filter is Nova's of the same name, reduced to what novafs knows of
 * a host: whether it is up (ComputeFilter), whether this request may go
 * there at all (RetryFilter, ForceHostFilter, the server group filters)
 * and whether the flavor fits (RamFilter, CoreFilter, DiskFilter).  The
 * cheap yes/no filters come first, so that a host's reason in a
 * NoValidHost message is the most basic one.
 */
#include "filters.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/strbuf.h"
#include "claims.h"

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

struct sched_resources sched_limits(const struct host_state *hs,
				    const struct sched_config *config)
{
	struct sched_resources l = {
		(long long)((double)hs->total.vcpus * config->cpu_allocation_ratio),
		(long long)((double)hs->total.memory_mb * config->ram_allocation_ratio),
		(long long)((double)hs->total.disk_gb * config->disk_allocation_ratio),
	};

	return l;
}

int sched_context_init(struct sched_context *ctx, const struct host_manager *hm,
		       const struct sched_config *config,
		       const struct sched_request *req, long long now_ms)
{
	const struct sched_group *g = req->group ? claims_group(hm, req->group) : NULL;
	const struct sched_link *l;
	size_t i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->config = config;
	ctx->req = req;
	ctx->now_ms = now_ms;
	for (i = 0; i < req->group_hosts.n; i++)
		if (host_set_add(&ctx->group_hosts, req->group_hosts.names[i]) < 0)
			return -ENOMEM;
	for (l = g ? g->members.next : NULL; l && l != &g->members; l = l->next)
		if (host_set_add(&ctx->group_hosts,
				 claim_of_group_link(l)->host->name) < 0)
			return -ENOMEM;
	host_set_seal(&ctx->group_hosts);
	return 0;
}

void sched_context_release(struct sched_context *ctx)
{
	host_set_release(&ctx->group_hosts);
}

/* ComputeFilter: an operator has not disabled the host, it says it is up
 * and it reported recently. */
static bool compute_filter(const struct host_state *hs,
			   const struct sched_context *ctx, struct strbuf *reason)
{
	if (host_set_has(&ctx->req->disabled_hosts, hs->name)) {
		strbuf_addstr(reason, "disabled");
		return false;
	}
	if (!hs->up) {
		strbuf_addstr(reason, "down");
		return false;
	}
	if (!host_state_is_live(hs, ctx->now_ms)) {
		strbuf_addf(reason, "no report for %lld s",
			    (ctx->now_ms - hs->last_report_ms) / 1000);
		return false;
	}
	return true;
}

/* RetryFilter: not a host this instance was tried on already. */
static bool retry_filter(const struct host_state *hs,
			 const struct sched_context *ctx, struct strbuf *reason)
{
	if (!host_set_has(&ctx->req->ignore_hosts, hs->name))
		return true;
	strbuf_addstr(reason, "tried already");
	return false;
}

/* ForceHostFilter: with force_host, that host only. */
static bool force_host_filter(const struct host_state *hs,
			      const struct sched_context *ctx,
			      struct strbuf *reason)
{
	const char *forced = ctx->req->force_host;

	if (!forced || strcmp(forced, hs->name) == 0)
		return true;
	strbuf_addf(reason, "not the forced host %s", forced);
	return false;
}

/* ServerGroupAffinityFilter: once an affinity group is somewhere, only
 * there. */
static bool group_affinity_filter(const struct host_state *hs,
				  const struct sched_context *ctx,
				  struct strbuf *reason)
{
	const struct host_set *on = &ctx->group_hosts;

	if (ctx->req->policy != SCHED_POLICY_AFFINITY || on->n == 0 ||
	    host_set_has(on, hs->name))
		return true;
	if (on->n == 1)
		strbuf_addf(reason, "group %s is on %s", ctx->req->group,
			    on->names[0]);
	else
		strbuf_addf(reason, "group %s is on %zu other hosts",
			    ctx->req->group, on->n);
	return false;
}

/* ServerGroupAntiAffinityFilter: never beside a member of an
 * anti-affinity group. */
static bool group_anti_affinity_filter(const struct host_state *hs,
				       const struct sched_context *ctx,
				       struct strbuf *reason)
{
	if (ctx->req->policy != SCHED_POLICY_ANTI_AFFINITY ||
	    !host_set_has(&ctx->group_hosts, hs->name))
		return true;
	strbuf_addf(reason, "group %s has a member there", ctx->req->group);
	return false;
}

/* Member off (an offsetof) of r. */
static long long member(const struct sched_resources *r, size_t off)
{
	return *(const long long *)(const void *)((const char *)r + off);
}

/* Whether the flavor's share of one resource, member off of struct
 * sched_resources, fits in what hs has free of it; if not, says so in
 * unit. */
static bool fits(const struct host_state *hs, const struct sched_context *ctx,
		 size_t off, const char *unit, struct strbuf *reason)
{
	struct sched_resources limits = sched_limits(hs, ctx->config);
	struct sched_resources used = host_state_used(hs);
	long long room = member(&limits, off) - member(&used, off);
	long long need = member(&ctx->req->flavor, off);

	if (room >= need)
		return true;
	strbuf_addf(reason, "%lld %s free, %lld %s needed", room, unit, need, unit);
	return false;
}

/* RamFilter, CoreFilter, DiskFilter: the flavor fits in the room left
 * under the allocation ratio. */
static bool ram_filter(const struct host_state *hs,
		       const struct sched_context *ctx, struct strbuf *reason)
{
	return fits(hs, ctx, offsetof(struct sched_resources, memory_mb), "MB",
		    reason);
}

static bool core_filter(const struct host_state *hs,
			const struct sched_context *ctx, struct strbuf *reason)
{
	return fits(hs, ctx, offsetof(struct sched_resources, vcpus), "vCPUs",
		    reason);
}

static bool disk_filter(const struct host_state *hs,
			const struct sched_context *ctx, struct strbuf *reason)
{
	return fits(hs, ctx, offsetof(struct sched_resources, disk_gb), "GB",
		    reason);
}

const struct sched_filter sched_filters[] = {
	{ "ComputeFilter", compute_filter },
	{ "RetryFilter", retry_filter },
	{ "ForceHostFilter", force_host_filter },
	{ "ServerGroupAffinityFilter", group_affinity_filter },
	{ "ServerGroupAntiAffinityFilter", group_anti_affinity_filter },
	{ "RamFilter", ram_filter },
	{ "CoreFilter", core_filter },
	{ "DiskFilter", disk_filter },
	{ NULL, NULL },
};

int sched_run_filter(const char *name, const struct host_state *hs,
		     const struct sched_context *ctx, struct strbuf *reason)
{
	const struct sched_filter *f;

	for (f = sched_filters; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f->fn(hs, ctx, reason) ? 1 : 0;
	return -ENOENT;
}
