/*
 * weighers.c - the scheduler's weigher table; see filters.h.
 *
 * RAMWeigher, as Nova's: the memory a host has free under the allocation
 * ratio, so that ram_weight_multiplier > 0 puts the next instance where
 * the most is free (spread) and < 0 where the least is (pack).
 */
#include "filters.h"

static double ram_weigher(const struct host_state *hs,
			  const struct sched_context *ctx)
{
	return (double)(sched_limits(hs, ctx->config).memory_mb -
			host_state_used(hs).memory_mb);
}

static double ram_multiplier(const struct sched_config *config)
{
	return config->ram_weight_multiplier;
}

const struct sched_weigher sched_weighers[] = {
	{ "RAMWeigher", ram_weigher, ram_multiplier },
	{ NULL, NULL, NULL },
};
