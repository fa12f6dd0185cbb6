/*
 * capacity.h - whether a host has room to grow one of its domains.
 *
 * A resize in place (Nova's resize to the same host) takes from the host
 * only the growth: new minus old memory, vCPUs and disk.  The host checks
 * that growth against its own capacity less what its domains hold (the
 * resized one's old sizes included), with no overcommit: the allocation
 * ratios are the scheduler's business, and a resize does not go through
 * the scheduler.  Pure, so the arithmetic has unit tests.
 */
#ifndef NOVAFS_VIRT_CAPACITY_H
#define NOVAFS_VIRT_CAPACITY_H

#include "driver.h"

/* The sizes of a domain. */
struct virt_sizes {
	long long vcpus, memory_mb, disk_gb;
};

/*
 * Returns 0 when st has room for a domain holding old to hold new instead,
 * or -ENOSPC with e ("ComputeResourcesUnavailable", naming each resource
 * short and by how much).  A shrink always fits.
 */
int capacity_check_growth(const struct virt_host_stats *st,
			  const struct virt_sizes *old,
			  const struct virt_sizes *new_sizes, struct rpc_error *e);

#endif
