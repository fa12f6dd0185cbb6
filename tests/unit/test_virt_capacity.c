/*
 * test_virt_capacity.c - whether a host has room to resize a domain in
 * place: only the growth counts, against capacity less what is held.
 */
#include <errno.h>

#include "rpc/rpc.h"
#include "../../virt/capacity.h"
#include "testhelp.h"

int main(void)
{
	/* 16 vCPUs, 3,072 MB, 100 GB; 2 vCPUs, 2,048 MB, 20 GB held. */
	const struct virt_host_stats st = { 16, 2, 3072, 2048, 100, 20, "TEST" };
	const struct virt_sizes old = { 1, 2048, 20 };
	struct virt_sizes want;
	struct rpc_error e = { 0 };

	want = old;
	CHECK_MSG(capacity_check_growth(&st, &old, &want, &e) == 0, "the same sizes fit");
	want = (struct virt_sizes){ 1, 512, 1 };
	CHECK_MSG(capacity_check_growth(&st, &old, &want, &e) == 0, "a shrink fits");
	want = (struct virt_sizes){ 15, 3072, 100 };
	CHECK_MSG(capacity_check_growth(&st, &old, &want, &e) == 0,
		  "growth up to exactly what is free fits");
	want = (struct virt_sizes){ 1, 3073, 20 };
	CHECK_INT(capacity_check_growth(&st, &old, &want, &e), -ENOSPC);
	CHECK_STR(e.cls, "ComputeResourcesUnavailable");
	CHECK_STR(e.message, "Insufficient compute resources: memory_mb: 1025 more "
		  "needed, 1024 free");
	want = (struct virt_sizes){ 32, 8192, 200 };
	CHECK_INT(capacity_check_growth(&st, &old, &want, &e), -ENOSPC);
	CHECK_STR(e.message, "Insufficient compute resources: vcpus: 31 more needed, "
		  "14 free; memory_mb: 6144 more needed, 1024 free; disk_gb: 180 "
		  "more needed, 80 free");
	/* An overcommitted host (the scheduler's ratios) has nothing free. */
	{
		const struct virt_host_stats over = { 4, 8, 1024, 2048, 10, 20, "" };

		want = (struct virt_sizes){ 1, 2049, 20 };
		CHECK_INT(capacity_check_growth(&over, &old, &want, &e), -ENOSPC);
		CHECK_STR(e.message, "Insufficient compute resources: memory_mb: 1 "
			  "more needed, 0 free");
	}
	return test_done();
}
