/*
 * capacity.c - room for a resize in place; see capacity.h.
 */
#include "capacity.h"

#include <errno.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"

/* Adds "what: need N more, M free" to why when growth does not fit. */
static void check_one(struct strbuf *why, const char *what, long long total,
		      long long used, long long old, long long new_size)
{
	long long growth = new_size - old, free_now = total - used;

	if (growth <= 0 || growth <= free_now)
		return;
	strbuf_addf(why, "%s%s: %lld more needed, %lld free", why->len ? "; " : "",
		    what, growth, free_now < 0 ? 0 : free_now);
}

int capacity_check_growth(const struct virt_host_stats *st,
			  const struct virt_sizes *old,
			  const struct virt_sizes *new_sizes, struct rpc_error *e)
{
	struct strbuf why = STRBUF_INIT;
	int r = 0;

	check_one(&why, "vcpus", st->vcpus, st->vcpus_used, old->vcpus,
		  new_sizes->vcpus);
	check_one(&why, "memory_mb", st->memory_mb, st->memory_mb_used,
		  old->memory_mb, new_sizes->memory_mb);
	check_one(&why, "disk_gb", st->disk_gb, st->disk_gb_used, old->disk_gb,
		  new_sizes->disk_gb);
	if (why.len)
		r = rpc_error_set(e, -ENOSPC, "ComputeResourcesUnavailable",
				  "Insufficient compute resources: %s", why.buf);
	strbuf_release(&why);
	return r;
}
