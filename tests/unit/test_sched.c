/*
 * test_sched.c - the scheduler's host states, filters, weighers and claims
 * on constructed reports, without AMQP.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "../../sched/filters.h"
#include "../../sched/host_state.h"
#include "testhelp.h"

/* No overcommit, so that every figure below is exact. */
static const struct sched_config config = { 1.0, 1.0, 1.0, 1.0 };

/* Feeds one report for host name at now_ms; returns the event. */
static enum host_event report(struct host_manager *hm, const char *name,
			      long long now_ms, int vcpus, int vcpus_used,
			      int mem, int mem_used, int disk, int disk_used)
{
	struct rpc_error e = { 0 };
	enum host_event ev = HOST_EVENT_NONE;
	json_t *args = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s}",
				 "host", name, "up", 1, "report_interval", 2,
				 "vcpus", vcpus, "vcpus_used", vcpus_used,
				 "memory_mb", mem, "memory_mb_used", mem_used,
				 "disk_gb", disk, "disk_gb_used", disk_used,
				 "hypervisor_type", "TEST");
	int r = host_manager_update(hm, args, now_ms, &ev, &e);

	if (r < 0)
		printf("# report failed: %s\n", e.message);
	json_decref(args);
	return ev;
}

static enum host_event report_down(struct host_manager *hm, const char *name,
				   long long now_ms)
{
	struct rpc_error e = { 0 };
	enum host_event ev = HOST_EVENT_NONE;
	json_t *args = json_pack("{s:s, s:b}", "host", name, "up", 0);

	host_manager_update(hm, args, now_ms, &ev, &e);
	json_decref(args);
	return ev;
}

static struct sched_request flavor(int vcpus, int mem, int disk)
{
	struct sched_request req = { "uuid", "m1.test", { vcpus, mem, disk } };

	return req;
}

/* The chosen host's name, or "NoValidHost: <message>". */
static const char *select_host(struct host_manager *hm,
			       const struct sched_request *req, long long now,
			       char *buf, size_t n)
{
	struct rpc_error e = { 0 };
	struct host_state *hs = NULL;
	int r = sched_select_destination(hm, &config, req, now, &hs, &e);

	if (r < 0)
		snprintf(buf, n, "%s(%d): %s", e.cls, r, e.message);
	else
		snprintf(buf, n, "%s", hs->name);
	return buf;
}

static void test_updates_and_liveness(void)
{
	struct host_manager hm = HOST_MANAGER_INIT;
	struct rpc_error e = { 0 };
	enum host_event ev;
	struct host_state *hs;
	size_t cursor = 0;
	json_t *bad;

	CHECK_INT(report(&hm, "node1", 1000, 4, 0, 4096, 0, 100, 0), HOST_EVENT_UP);
	CHECK_INT(report(&hm, "node1", 3000, 4, 1, 4096, 512, 100, 10), HOST_EVENT_NONE);
	hs = host_manager_find(&hm, "node1");
	CHECK(hs != NULL);
	CHECK_INT(hs->used.memory_mb, 512);
	CHECK_STR(hs->hypervisor_type, "TEST");
	/* 3 intervals of 2 s: live until 5.999 s after the last report. */
	CHECK(host_state_is_live(hs, 8999));
	CHECK(!host_state_is_live(hs, 9000));
	CHECK(host_manager_expire(&hm, 8999, &cursor) == NULL);
	cursor = 0;
	CHECK(host_manager_expire(&hm, 9000, &cursor) == hs);
	cursor = 0;
	CHECK_MSG(host_manager_expire(&hm, 9500, &cursor) == NULL,
		  "a stale host is announced once");
	CHECK_INT(report(&hm, "node1", 10000, 4, 1, 4096, 512, 100, 10), HOST_EVENT_UP);
	CHECK_INT(report_down(&hm, "node1", 11000), HOST_EVENT_DOWN);
	CHECK(!host_state_is_live(hs, 11000));
	CHECK_INT(report_down(&hm, "node1", 11500), HOST_EVENT_NONE);
	CHECK_INT(report(&hm, "node1", 12000, 4, 1, 4096, 512, 100, 10), HOST_EVENT_UP);

	bad = json_pack("{s:s, s:b, s:i}", "host", "node2", "up", 1, "vcpus", 4);
	CHECK_INT(host_manager_update(&hm, bad, 13000, &ev, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	CHECK(host_manager_find(&hm, "node2") == NULL);
	json_decref(bad);
	bad = json_pack("{s:b}", "up", 1);
	CHECK_INT(host_manager_update(&hm, bad, 13000, &ev, &e), -EINVAL);
	json_decref(bad);
	host_manager_release(&hm);
}

static void test_filters(void)
{
	struct host_manager hm = HOST_MANAGER_INIT;
	struct sched_request req = flavor(2, 2048, 20);
	struct sched_context ctx = { &config, &req, 1000 };
	struct strbuf why = STRBUF_INIT;
	struct host_state *hs;

	report(&hm, "node1", 1000, 4, 3, 4096, 3072, 100, 90);
	hs = host_manager_find(&hm, "node1");
	CHECK_INT(sched_run_filter("ComputeFilter", hs, &ctx, &why), 1);
	CHECK_INT(sched_run_filter("RamFilter", hs, &ctx, &why), 0);
	CHECK_STR(why.buf, "1024 MB free, 2048 MB needed");
	strbuf_reset(&why);
	CHECK_INT(sched_run_filter("CoreFilter", hs, &ctx, &why), 0);
	CHECK_STR(why.buf, "1 vCPUs free, 2 needed");
	strbuf_reset(&why);
	CHECK_INT(sched_run_filter("DiskFilter", hs, &ctx, &why), 0);
	CHECK_STR(why.buf, "10 GB free, 20 GB needed");
	strbuf_reset(&why);
	CHECK_INT(sched_run_filter("NoSuchFilter", hs, &ctx, &why), -ENOENT);

	req = flavor(1, 1024, 10);
	CHECK_INT(sched_run_filter("RamFilter", hs, &ctx, &why), 1);
	CHECK_INT(sched_run_filter("CoreFilter", hs, &ctx, &why), 1);
	CHECK_INT(sched_run_filter("DiskFilter", hs, &ctx, &why), 1);

	ctx.now_ms = 7000;
	CHECK_INT(sched_run_filter("ComputeFilter", hs, &ctx, &why), 0);
	CHECK_STR(why.buf, "no report for 6 s");
	strbuf_reset(&why);
	report_down(&hm, "node1", 7000);
	CHECK_INT(sched_run_filter("ComputeFilter", hs, &ctx, &why), 0);
	CHECK_STR(why.buf, "service is down");
	strbuf_release(&why);
	host_manager_release(&hm);
}

static void test_select(void)
{
	struct host_manager hm = HOST_MANAGER_INIT;
	struct sched_request small = flavor(1, 2048, 20);
	struct sched_request big = flavor(1, 8192, 20);
	char buf[600];

	CHECK_STR(select_host(&hm, &small, 1000, buf, sizeof(buf)),
		  "NoValidHost(-113): No valid host was found. There are no compute hosts up.");

	report(&hm, "node1", 1000, 4, 0, 4096, 1024, 100, 0);
	report(&hm, "node2", 1000, 4, 0, 4096, 0, 100, 0);
	report(&hm, "node3", 1000, 4, 0, 16384, 0, 100, 0);
	report_down(&hm, "node3", 1000);

	/* Spread: most free RAM first; the claim then tips the balance. */
	CHECK_STR(select_host(&hm, &small, 2000, buf, sizeof(buf)), "node2");
	CHECK_INT(host_manager_find(&hm, "node2")->used.memory_mb, 2048);
	CHECK_INT(host_manager_find(&hm, "node2")->claims, 1);
	CHECK_STR(select_host(&hm, &small, 2000, buf, sizeof(buf)), "node1");
	CHECK_STR(select_host(&hm, &small, 2000, buf, sizeof(buf)), "node2");
	CHECK_STR(select_host(&hm, &small, 2000, buf, sizeof(buf)),
		  "NoValidHost(-113): No valid host was found. 2 hosts up; "
		  "RamFilter rejected node1 (1024 MB free, 2048 MB needed), "
		  "RamFilter rejected node2 (0 MB free, 2048 MB needed).");

	/* The next report replaces the claims. */
	report(&hm, "node2", 3000, 4, 0, 4096, 0, 100, 0);
	CHECK_INT(host_manager_find(&hm, "node2")->claims, 0);
	CHECK_STR(select_host(&hm, &small, 3000, buf, sizeof(buf)), "node2");

	CHECK_STR(select_host(&hm, &big, 3000, buf, sizeof(buf)),
		  "NoValidHost(-113): No valid host was found. 2 hosts up; "
		  "RamFilter rejected node1 (1024 MB free, 8192 MB needed), "
		  "RamFilter rejected node2 (2048 MB free, 8192 MB needed).");

	/* node1 stops reporting: only node2 is up. */
	CHECK_STR(select_host(&hm, &big, 7500, buf, sizeof(buf)),
		  "NoValidHost(-113): No valid host was found. 1 host up; "
		  "RamFilter rejected node2 (2048 MB free, 8192 MB needed).");
	CHECK_STR(select_host(&hm, &small, 9500, buf, sizeof(buf)),
		  "NoValidHost(-113): No valid host was found. There are no compute hosts up.");
	host_manager_release(&hm);
}

static void test_request_parsing(void)
{
	struct sched_request req;
	struct rpc_error e = { 0 };
	json_t *args;

	args = json_pack("{s:s, s:{s:s, s:i, s:i, s:i}}", "instance_uuid", "u1",
			 "flavor", "name", "m1.small", "vcpus", 1,
			 "memory_mb", 2048, "disk_gb", 20);
	CHECK_INT(sched_request_from_json(args, &req, &e), 0);
	CHECK_STR(req.flavor_name, "m1.small");
	CHECK_INT(req.flavor.vcpus, 1);
	CHECK_INT(req.flavor.memory_mb, 2048);
	CHECK_INT(req.flavor.disk_gb, 20);
	json_decref(args);

	args = json_pack("{s:s, s:{s:s, s:i, s:s}}", "instance_uuid", "u1",
			 "flavor", "name", "m1.small", "vcpus", 1,
			 "memory_mb", "lots");
	CHECK_INT(sched_request_from_json(args, &req, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	json_decref(args);
	args = json_pack("{s:s}", "instance_uuid", "u1");
	CHECK_INT(sched_request_from_json(args, &req, &e), -EINVAL);
	json_decref(args);
}

int main(void)
{
	test_updates_and_liveness();
	test_filters();
	test_select();
	test_request_parsing();
	return test_done();
}
