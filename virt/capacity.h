/*
 * capacity.h - what a host holds, and whether it has room for more.
 *
 * A host holds what its novafs domains were defined with, every one of
 * them, running or not (a stopped instance keeps its place, as in Nova's
 * resource tracker): capacity_used() sums a driver's listing, and the
 * heartbeat, a claim and a resize all count from one.  Two checks, after
 * Nova's:
 *
 *  - A claim at spawn (ResourceTracker.instance_claim): the instance's
 *    sizes against the limits the scheduler sent with the placement (the
 *    host's capacity times the allocation ratios), less what the host
 *    holds.  The scheduler chose the host from a heartbeat that may be
 *    out of date, or from one that other placements raced for; the host's
 *    own count is the last word, and novafs places elsewhere when it says
 *    no.
 *  - A resize in place (Nova's resize to the same host) takes only the
 *    growth, new minus old, against the host's own capacity less what it
 *    holds (the resized domain's old sizes included), with no overcommit:
 *    a resize does not go through the scheduler, which owns the ratios.
 *
 * A refusal is -ENOSPC with class "ComputeResourcesUnavailable" and a
 * message naming each resource that is short and by how much.  Pure, so
 * the arithmetic has unit tests (tests/unit/test_virt_capacity.c).
 */
#ifndef NOVAFS_VIRT_CAPACITY_H
#define NOVAFS_VIRT_CAPACITY_H

#include <stddef.h>

#include "driver.h"

/* The sizes inst asks for, into sizes. */
void capacity_sizes_of(const struct virt_instance *inst,
		       struct virt_sizes *sizes);

/* What doms[0..n-1] hold in all, into used. */
void capacity_used(const struct virt_domain_state *doms, size_t n,
		   struct virt_sizes *used);

/*
 * Returns 0 when a host that holds used may take want without going past
 * limits, for each of vCPUs, memory and disk; or -ENOSPC with e, each
 * resource short as "memory_mb: 8192 needed, 4096 free of limit 12288".
 */
int capacity_check_claim(const struct virt_sizes *limits,
			 const struct virt_sizes *used,
			 const struct virt_sizes *want, struct rpc_error *e);

/*
 * Returns 0 when a host of capacity total that holds used has room for a
 * domain holding old to hold new_sizes instead; or -ENOSPC with e, each
 * resource short as "memory_mb: 1025 more needed, 1024 free".  A shrink
 * always fits.
 */
int capacity_check_growth(const struct virt_sizes *total,
			  const struct virt_sizes *used,
			  const struct virt_sizes *old,
			  const struct virt_sizes *new_sizes, struct rpc_error *e);

#endif
