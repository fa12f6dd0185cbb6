/*
 * capacity.c - what a host holds and whether more fits; see capacity.h.
 */
#include "capacity.h"

#include <errno.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"

void capacity_sizes_of(const struct virt_instance *inst,
		       struct virt_sizes *sizes)
{
	sizes->vcpus = inst->vcpus;
	sizes->memory_mb = (long long)inst->memory_mb;
	sizes->disk_gb = (long long)inst->disk_gb;
}

void capacity_used(const struct virt_domain_state *doms, size_t n,
		   struct virt_sizes *used)
{
	size_t i;

	*used = (struct virt_sizes){ 0 };
	for (i = 0; i < n; i++) {
		used->vcpus += doms[i].sizes.vcpus;
		used->memory_mb += doms[i].sizes.memory_mb;
		used->disk_gb += doms[i].sizes.disk_gb;
	}
}

/* What is left of limit once used is held: none when used is past it. */
static long long left(long long limit, long long used)
{
	return used < limit ? limit - used : 0;
}

/* Adds "what: N needed, M free of limit L" to why when want does not fit
 * under limit beside used. */
static void claim_one(struct strbuf *why, const char *what, long long limit,
		      long long used, long long want)
{
	if (used + want <= limit)
		return;
	strbuf_addf(why, "%s%s: %lld needed, %lld free of limit %lld",
		    why->len ? "; " : "", what, want, left(limit, used), limit);
}

/* Adds "what: N more needed, M free" to why when growing from old to
 * new_size does not fit in what total has beside used. */
static void grow_one(struct strbuf *why, const char *what, long long total,
		     long long used, long long old, long long new_size)
{
	long long growth = new_size - old;

	if (growth <= 0 || used + growth <= total)
		return;
	strbuf_addf(why, "%s%s: %lld more needed, %lld free",
		    why->len ? "; " : "", what, growth, left(total, used));
}

/* 0 when why is empty, else -ENOSPC with why in e; releases why. */
static int verdict(struct strbuf *why, struct rpc_error *e)
{
	int r = 0;

	if (why->len)
		r = rpc_error_set(e, -ENOSPC, "ComputeResourcesUnavailable",
				  "Insufficient compute resources: %s", why->buf);
	strbuf_release(why);
	return r;
}

int capacity_check_claim(const struct virt_sizes *limits,
			 const struct virt_sizes *used,
			 const struct virt_sizes *want, struct rpc_error *e)
{
	struct strbuf why = STRBUF_INIT;

	claim_one(&why, "vcpus", limits->vcpus, used->vcpus, want->vcpus);
	claim_one(&why, "memory_mb", limits->memory_mb, used->memory_mb,
		  want->memory_mb);
	claim_one(&why, "disk_gb", limits->disk_gb, used->disk_gb, want->disk_gb);
	return verdict(&why, e);
}

int capacity_check_growth(const struct virt_sizes *total,
			  const struct virt_sizes *used,
			  const struct virt_sizes *old,
			  const struct virt_sizes *new_sizes, struct rpc_error *e)
{
	struct strbuf why = STRBUF_INIT;

	grow_one(&why, "vcpus", total->vcpus, used->vcpus, old->vcpus,
		 new_sizes->vcpus);
	grow_one(&why, "memory_mb", total->memory_mb, used->memory_mb,
		 old->memory_mb, new_sizes->memory_mb);
	grow_one(&why, "disk_gb", total->disk_gb, used->disk_gb, old->disk_gb,
		 new_sizes->disk_gb);
	return verdict(&why, e);
}
