/*
 * test_virt_capacity.c - what a host holds, and whether more fits: a claim
 * at spawn against the scheduler's limits, a resize in place against the
 * host's capacity (only the growth counts).
 */
#include <errno.h>
#include <stdlib.h>

#include "rpc/rpc.h"
#include "../../virt/capacity.h"
#include "testhelp.h"

/* A check's case: the message of the refusal, or NULL when it fits. */
struct claim_case {
	const char *what;
	struct virt_sizes limits, used, want;
	const char *refusal;
};

static const struct claim_case claims[] = {
	{ "an empty host takes an m1.tiny", { 1024, 393216, 2048 }, { 0, 0, 0 },
	  { 1, 512, 1 }, NULL },
	{ "up to exactly the limits fits", { 4, 12288, 100 }, { 2, 4096, 20 },
	  { 2, 8192, 80 }, NULL },
	{ "one MB past the limit does not",
	  { 4, 12288, 100 }, { 2, 4097, 20 }, { 2, 8192, 80 },
	  "Insufficient compute resources: memory_mb: 8192 needed, 8191 free "
	  "of limit 12288" },
	{ "what the host holds counts, running or not",
	  { 64, 12288, 2048 }, { 2, 8192, 40 }, { 4, 8192, 80 },
	  "Insufficient compute resources: memory_mb: 8192 needed, 4096 free "
	  "of limit 12288" },
	{ "every resource short is named, in order",
	  { 2, 2048, 20 }, { 1, 1024, 10 }, { 4, 8192, 80 },
	  "Insufficient compute resources: vcpus: 4 needed, 1 free of limit 2; "
	  "memory_mb: 8192 needed, 1024 free of limit 2048; disk_gb: 80 "
	  "needed, 10 free of limit 20" },
	{ "a host past its limits (lower ratios now) has nothing free, even "
	  "for what needs none of it",
	  { 4, 1024, 10 }, { 8, 512, 20 }, { 1, 512, 0 },
	  "Insufficient compute resources: vcpus: 1 needed, 0 free of limit 4; "
	  "disk_gb: 0 needed, 0 free of limit 10" },
};

/* A resize in place of a domain of 1 vCPU, 2,048 MB, 20 GB on a host of 16
 * vCPUs, 3,072 MB, 100 GB that holds 2 vCPUs, 2,048 MB and 20 GB. */
static const struct virt_sizes total = { 16, 3072, 100 };
static const struct virt_sizes held = { 2, 2048, 20 };
static const struct virt_sizes old = { 1, 2048, 20 };

struct growth_case {
	const char *what;
	struct virt_sizes want;
	const char *refusal;
};

static const struct growth_case growths[] = {
	{ "the same sizes fit", { 1, 2048, 20 }, NULL },
	{ "a shrink fits", { 1, 512, 1 }, NULL },
	{ "growth up to exactly what is free fits", { 15, 3072, 100 }, NULL },
	{ "one MB more does not",
	  { 1, 3073, 20 },
	  "Insufficient compute resources: memory_mb: 1025 more needed, 1024 free" },
	{ "every resource short is named",
	  { 32, 8192, 200 },
	  "Insufficient compute resources: vcpus: 31 more needed, 14 free; "
	  "memory_mb: 6144 more needed, 1024 free; disk_gb: 180 more needed, "
	  "80 free" },
};

/* Runs one check's outcome against its case. */
static void expect(const char *what, int rc, const struct rpc_error *e,
		   const char *refusal)
{
	if (!refusal) {
		CHECK_MSG(rc == 0, "%s (got %d: %s)", what, rc, e->message);
		return;
	}
	CHECK_MSG(rc == -ENOSPC, "%s: refused (got %d)", what, rc);
	CHECK_STR(e->cls, "ComputeResourcesUnavailable");
	CHECK_STR(e->message, refusal);
}

static void test_used(void)
{
	struct virt_domain_state doms[] = {
		{ "a", POWER_RUNNING, { 1, 512, 1 } },
		{ "b", POWER_SHUTDOWN, { 4, 8192, 80 } },
		{ "c", POWER_SUSPENDED, { 2, 2048, 0 } },
	};
	struct virt_instance inst = { .vcpus = 4, .memory_mb = 8192, .disk_gb = 80 };
	struct virt_sizes used, sizes;

	capacity_used(doms, 3, &used);
	CHECK_MSG(used.vcpus == 7 && used.memory_mb == 10752 && used.disk_gb == 81,
		  "every domain counts, in any state");
	capacity_used(NULL, 0, &used);
	CHECK_MSG(used.vcpus == 0 && used.memory_mb == 0 && used.disk_gb == 0,
		  "no domain holds nothing");
	capacity_sizes_of(&inst, &sizes);
	CHECK_MSG(sizes.vcpus == 4 && sizes.memory_mb == 8192 && sizes.disk_gb == 80,
		  "an instance asks for its flavor's sizes");
}

int main(void)
{
	struct rpc_error e;
	size_t i;

	test_used();
	for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		const struct claim_case *c = &claims[i];

		e = (struct rpc_error){ 0 };
		expect(c->what, capacity_check_claim(&c->limits, &c->used, &c->want, &e),
		       &e, c->refusal);
	}
	for (i = 0; i < sizeof(growths) / sizeof(growths[0]); i++) {
		const struct growth_case *c = &growths[i];

		e = (struct rpc_error){ 0 };
		expect(c->what, capacity_check_growth(&total, &held, &old, &c->want, &e),
		       &e, c->refusal);
	}
	/* An overcommitted host (the scheduler's ratios) has nothing free. */
	{
		const struct virt_sizes over = { 4, 1024, 10 }, holds = { 8, 2048, 20 };
		const struct virt_sizes more = { 1, 2049, 20 };

		e = (struct rpc_error){ 0 };
		expect("an overcommitted host has nothing free for growth",
		       capacity_check_growth(&over, &holds, &old, &more, &e), &e,
		       "Insufficient compute resources: memory_mb: 1 more needed, 0 free");
	}
	return test_done();
}
