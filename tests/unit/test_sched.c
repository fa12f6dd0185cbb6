/*
 * test_sched.c - the scheduler without AMQP: host states from constructed
 * reports, each filter and the weigher on hand-built host states, claims
 * and releases across reports, server groups with members in flight, and
 * the NoValidHost message.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "../../sched/claims.h"
#include "../../sched/filters.h"
#include "../../sched/host_state.h"
#include "../../sched/request.h"
#include "../../sched/select.h"
#include "testhelp.h"

/* No overcommit, so that every figure below is exact. */
static const struct sched_config exact = { 1.0, 1.0, 1.0, 1.0 };
/* nova.conf's defaults. */
static const struct sched_config defaults = { 16.0, 1.5, 1.0, 1.0 };

/* A host's numbers in a report. */
struct numbers {
	int vcpus, vcpus_used, mem, mem_used, disk, disk_used;
};

/* The UUID of instance n. */
static const char *uuid_of(int n)
{
	static char buf[8][UUID_STR_LEN];
	static int next;
	char *u = buf[next++ % 8];

	snprintf(u, UUID_STR_LEN, "00000000-0000-4000-8000-%012d", n);
	return u;
}

/*
 * Feeds a report "up": true for host name at now_ms.  instances lists the
 * instance numbers it counts, ending with 0; NULL sends no "instances" at
 * all (a host older than 1.1).  Returns the event, or -1 when the update
 * failed.
 */
static int report(struct host_manager *hm, const char *name, long long now_ms,
		  struct numbers nb, const int *instances)
{
	struct rpc_error e = { 0 };
	enum host_event ev = HOST_EVENT_NONE;
	json_t *args = json_pack("{s:s, s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s}",
				 "binary", "novafs-compute", "host", name, "up", 1,
				 "report_interval", 2, "vcpus", nb.vcpus,
				 "vcpus_used", nb.vcpus_used, "memory_mb", nb.mem,
				 "memory_mb_used", nb.mem_used, "disk_gb", nb.disk,
				 "disk_gb_used", nb.disk_used, "hypervisor_type", "TEST");
	int r;

	if (instances) {
		json_t *list = json_array();

		for (; *instances; instances++)
			json_array_append_new(list, json_string(uuid_of(*instances)));
		json_object_set_new(args, "instances", list);
	}
	r = host_manager_update(hm, args, now_ms, &ev, &e);
	if (r < 0)
		printf("# report failed: %s\n", e.message);
	json_decref(args);
	return r < 0 ? -1 : (int)ev;
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

/* A select_destinations request and the arguments it borrows from. */
struct req {
	json_t *args;
	struct sched_request r;
};

/*
 * Parses a request for instance n with a flavor of those sizes; extra is
 * JSON text merged into the arguments ("force_host", "group", ...) or
 * NULL.  Returns &q->r; release with req_free().
 */
static struct sched_request *req_new(struct req *q, int n, int vcpus, int mem,
				     int disk, const char *extra)
{
	struct rpc_error e = { 0 };

	q->args = json_pack("{s:s, s:{s:s, s:i, s:i, s:i}}",
			    "instance_uuid", uuid_of(n), "flavor", "name", "m1.test",
			    "vcpus", vcpus, "memory_mb", mem, "disk_gb", disk);
	if (extra) {
		json_t *more = json_loads(extra, 0, NULL);

		if (!more)
			printf("# bad test JSON: %s\n", extra);
		json_object_update(q->args, more);
		json_decref(more);
	}
	if (sched_request_from_json(q->args, &q->r, &e) < 0)
		printf("# bad request: %s\n", e.message);
	return &q->r;
}

static void req_free(struct req *q)
{
	sched_request_release(&q->r);
	json_decref(q->args);
}

/* Room for what pick() writes. */
#define PICK_LEN (sizeof(((struct rpc_error *)0)->cls) + \
		  sizeof(((struct rpc_error *)0)->message) + 16)

/* Selects for q: the chosen host's name, or "CLASS(errno): message". */
static const char *pick(struct host_manager *hm, const struct sched_config *c,
			struct req *q, long long now, char *buf, size_t n)
{
	struct rpc_error e = { 0 };
	struct sched_choice ch;
	int r = sched_select_destination(hm, c, &q->r, now, &ch, &e);

	if (r < 0)
		snprintf(buf, n, "%s(%d): %s", e.cls, r, e.message);
	else
		snprintf(buf, n, "%s", ch.host->name);
	return buf;
}

/* One request for instance n, selected and released at once. */
static const char *pick_one(struct host_manager *hm, const struct sched_config *c,
			    int n, int vcpus, int mem, int disk, const char *extra,
			    long long now)
{
	static char buf[PICK_LEN];
	struct req q;

	req_new(&q, n, vcpus, mem, disk, extra);
	pick(hm, c, &q, now, buf, sizeof(buf));
	req_free(&q);
	return buf;
}

static const struct numbers small_host = { 4, 0, 4096, 0, 100, 0 };

static void test_updates_and_liveness(void)
{
	struct host_manager hm;
	struct rpc_error e = { 0 };
	enum host_event ev;
	struct host_state *hs;
	size_t cursor = 0;
	json_t *bad;

	host_manager_init(&hm);
	CHECK_INT(report(&hm, "node1", 1000, small_host, NULL), HOST_EVENT_UP);
	CHECK_INT(report(&hm, "node1", 3000, (struct numbers){ 4, 1, 4096, 512, 100, 10 }, NULL),
		  HOST_EVENT_NONE);
	hs = host_manager_find(&hm, "node1");
	CHECK(hs != NULL);
	CHECK_INT(host_state_used(hs).memory_mb, 512);
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
	CHECK_INT(report(&hm, "node1", 10000, small_host, NULL), HOST_EVENT_UP);
	CHECK_INT(report_down(&hm, "node1", 11000), HOST_EVENT_DOWN);
	CHECK(!host_state_is_live(hs, 11000));
	CHECK_INT(report_down(&hm, "node1", 11500), HOST_EVENT_NONE);
	CHECK_INT(report(&hm, "node1", 12000, small_host, NULL), HOST_EVENT_UP);

	/* Hosts are kept in name order, whatever order they came in. */
	report(&hm, "node3", 12000, small_host, NULL);
	report(&hm, "node0", 12000, small_host, NULL);
	report(&hm, "node2", 12000, small_host, NULL);
	CHECK_INT(hm.n, 4);
	CHECK_STR(hm.hosts[0]->name, "node0");
	CHECK_STR(hm.hosts[3]->name, "node3");
	CHECK(host_manager_find(&hm, "node2") == hm.hosts[2]);
	CHECK(host_manager_find(&hm, "node9") == NULL);

	bad = json_pack("{s:s, s:b, s:i}", "host", "node5", "up", 1, "vcpus", 4);
	CHECK_INT(host_manager_update(&hm, bad, 13000, &ev, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	CHECK(host_manager_find(&hm, "node5") == NULL);
	json_decref(bad);
	bad = json_pack("{s:b}", "up", 1);
	CHECK_INT(host_manager_update(&hm, bad, 13000, &ev, &e), -EINVAL);
	json_decref(bad);
	bad = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:[s]}", "host", "node5",
			"up", 1, "vcpus", 4, "vcpus_used", 0, "memory_mb", 4096,
			"memory_mb_used", 0, "disk_gb", 100, "disk_gb_used", 0,
			"instances", "not-a-uuid");
	CHECK_INT(host_manager_update(&hm, bad, 13000, &ev, &e), -EINVAL);
	CHECK_STR(e.message, "update_service_capabilities: instances[0] must be a UUID");
	CHECK_MSG(host_manager_find(&hm, "node5") == NULL,
		  "a report with a bad instance list adds no host");
	json_decref(bad);
	host_manager_release(&hm);
}

/* A host as the filters see it, built by hand. */
static struct host_state hand_built(const char *name, bool up,
				    long long last_report_ms,
				    struct sched_resources total,
				    struct sched_resources used)
{
	struct host_state hs;

	memset(&hs, 0, sizeof(hs));
	snprintf(hs.name, sizeof(hs.name), "%s", name);
	hs.up = up;
	hs.report_interval = 2;
	hs.last_report_ms = last_report_ms;
	hs.total = total;
	hs.reported = used;
	return hs;
}

/* Runs filter on hs for q: "pass", or the reason it failed. */
static const char *run(const char *filter, const struct host_state *hs,
		       const struct host_manager *hm, const struct sched_config *c,
		       struct req *q, long long now)
{
	static char buf[256];
	struct sched_context ctx;
	struct strbuf why = STRBUF_INIT;
	int r;

	sched_context_init(&ctx, hm, c, &q->r, now);
	r = sched_run_filter(filter, hs, &ctx, &why);
	snprintf(buf, sizeof(buf), "%s", r == 1 ? "pass" : r == 0 ? why.buf : "no such filter");
	strbuf_release(&why);
	sched_context_release(&ctx);
	return buf;
}

static void test_filters(void)
{
	struct host_manager hm;
	struct host_state hs = hand_built("node1", true, 1000,
					  (struct sched_resources){ 4, 4096, 100 },
					  (struct sched_resources){ 3, 3072, 90 });
	struct host_state down = hand_built("node2", false, 1000,
					    (struct sched_resources){ 4, 4096, 100 },
					    (struct sched_resources){ 0, 0, 0 });
	struct req q;

	host_manager_init(&hm);
	req_new(&q, 1, 2, 2048, 20, NULL);
	CHECK_STR(run("ComputeFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("ComputeFilter", &hs, &hm, &exact, &q, 6999), "pass");
	CHECK_STR(run("ComputeFilter", &hs, &hm, &exact, &q, 7000), "no report for 6 s");
	CHECK_STR(run("ComputeFilter", &down, &hm, &exact, &q, 1000), "down");
	CHECK_STR(run("RamFilter", &hs, &hm, &exact, &q, 1000), "1024 MB free, 2048 MB needed");
	CHECK_STR(run("CoreFilter", &hs, &hm, &exact, &q, 1000), "1 vCPUs free, 2 vCPUs needed");
	CHECK_STR(run("DiskFilter", &hs, &hm, &exact, &q, 1000), "10 GB free, 20 GB needed");
	/* The default ratios: 4 x 16 vCPUs, 4096 x 1.5 MB, 100 x 1.0 GB. */
	CHECK_STR(run("RamFilter", &hs, &hm, &defaults, &q, 1000), "pass");
	CHECK_STR(run("CoreFilter", &hs, &hm, &defaults, &q, 1000), "pass");
	CHECK_STR(run("DiskFilter", &hs, &hm, &defaults, &q, 1000), "10 GB free, 20 GB needed");
	/* Filters that this request does not concern pass. */
	CHECK_STR(run("RetryFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("ForceHostFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("ServerGroupAffinityFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("ServerGroupAntiAffinityFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("NoSuchFilter", &hs, &hm, &exact, &q, 1000), "no such filter");
	req_free(&q);

	req_new(&q, 1, 1, 1024, 10, NULL);
	CHECK_STR(run("RamFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("CoreFilter", &hs, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("DiskFilter", &hs, &hm, &exact, &q, 1000), "pass");
	req_free(&q);

	/* Claims and releases count as well as the report. */
	hs.claimed = (struct sched_resources){ 1, 1024, 10 };
	req_new(&q, 1, 1, 1024, 10, NULL);
	CHECK_STR(run("RamFilter", &hs, &hm, &exact, &q, 1000), "0 MB free, 1024 MB needed");
	hs.released = (struct sched_resources){ 1, 1024, 10 };
	CHECK_STR(run("RamFilter", &hs, &hm, &exact, &q, 1000), "pass");
	req_free(&q);

	req_new(&q, 1, 1, 1024, 10,
		"{\"disabled_hosts\": [\"node0\", \"node1\"], \"ignore_hosts\": [\"node1\", \"node2\"]}");
	CHECK_STR(run("ComputeFilter", &hs, &hm, &exact, &q, 1000), "disabled");
	CHECK_STR(run("RetryFilter", &hs, &hm, &exact, &q, 1000), "tried already");
	CHECK_STR(run("RetryFilter", &down, &hm, &exact, &q, 1000), "tried already");
	req_free(&q);

	req_new(&q, 1, 1, 1024, 10, "{\"force_host\": \"node2\"}");
	CHECK_STR(run("ForceHostFilter", &hs, &hm, &exact, &q, 1000), "not the forced host node2");
	CHECK_STR(run("ForceHostFilter", &down, &hm, &exact, &q, 1000), "pass");
	req_free(&q);

	/* Groups, by the hosts the request names. */
	req_new(&q, 1, 1, 1024, 10,
		"{\"group\": {\"name\": \"web\", \"policy\": \"affinity\", \"hosts\": []}}");
	CHECK_MSG(strcmp(run("ServerGroupAffinityFilter", &hs, &hm, &exact, &q, 1000), "pass") == 0,
		  "affinity: a group on no host yet may go anywhere");
	req_free(&q);
	req_new(&q, 1, 1, 1024, 10,
		"{\"group\": {\"name\": \"web\", \"policy\": \"affinity\", \"hosts\": [\"node2\"]}}");
	CHECK_STR(run("ServerGroupAffinityFilter", &hs, &hm, &exact, &q, 1000), "group web is on node2");
	CHECK_STR(run("ServerGroupAffinityFilter", &down, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("ServerGroupAntiAffinityFilter", &down, &hm, &exact, &q, 1000), "pass");
	req_free(&q);
	req_new(&q, 1, 1, 1024, 10,
		"{\"group\": {\"name\": \"web\", \"policy\": \"affinity\", \"hosts\": [\"node2\", \"node3\", \"node2\"]}}");
	CHECK_STR(run("ServerGroupAffinityFilter", &hs, &hm, &exact, &q, 1000), "group web is on 2 other hosts");
	req_free(&q);
	req_new(&q, 1, 1, 1024, 10,
		"{\"group\": {\"name\": \"db\", \"policy\": \"anti-affinity\", \"hosts\": [\"node1\"]}}");
	CHECK_STR(run("ServerGroupAntiAffinityFilter", &hs, &hm, &exact, &q, 1000), "group db has a member there");
	CHECK_STR(run("ServerGroupAntiAffinityFilter", &down, &hm, &exact, &q, 1000), "pass");
	CHECK_STR(run("ServerGroupAffinityFilter", &hs, &hm, &exact, &q, 1000), "pass");
	req_free(&q);
	host_manager_release(&hm);
}

/* The group filters also see the group's claims in flight. */
static void test_group_filters_in_flight(void)
{
	struct host_manager hm;
	struct sched_resources one = { 1, 512, 1 };
	struct req q;

	host_manager_init(&hm);
	report(&hm, "node1", 1000, small_host, (int[]){ 0 });
	report(&hm, "node2", 1000, small_host, (int[]){ 0 });
	CHECK_INT(claims_add(&hm, host_manager_find(&hm, "node1"), uuid_of(1), &one, "web"), 0);
	CHECK_INT(claims_add(&hm, host_manager_find(&hm, "node2"), uuid_of(2), &one, "other"), 0);

	req_new(&q, 3, 1, 512, 1,
		"{\"group\": {\"name\": \"web\", \"policy\": \"anti-affinity\", \"hosts\": []}}");
	CHECK_STR(run("ServerGroupAntiAffinityFilter", host_manager_find(&hm, "node1"), &hm,
		      &exact, &q, 1000), "group web has a member there");
	CHECK_STR(run("ServerGroupAntiAffinityFilter", host_manager_find(&hm, "node2"), &hm,
		      &exact, &q, 1000), "pass");
	req_free(&q);
	req_new(&q, 3, 1, 512, 1,
		"{\"group\": {\"name\": \"web\", \"policy\": \"affinity\", \"hosts\": []}}");
	CHECK_STR(run("ServerGroupAffinityFilter", host_manager_find(&hm, "node2"), &hm,
		      &exact, &q, 1000), "group web is on node1");
	req_free(&q);

	/* Once node1 reports the member, its claim goes: novafs then names
	 * node1 in "hosts" itself. */
	report(&hm, "node1", 2000, small_host, (int[]){ 1, 0 });
	CHECK(claims_group(&hm, "web") == NULL);
	CHECK(claims_group(&hm, "other") != NULL);
	host_manager_release(&hm);
}

static void test_weigher(void)
{
	struct host_manager hm;
	struct sched_config pack = exact;

	pack.ram_weight_multiplier = -1.0;
	host_manager_init(&hm);
	report(&hm, "node1", 1000, (struct numbers){ 8, 0, 8192, 6144, 100, 0 }, (int[]){ 0 });
	report(&hm, "node2", 1000, (struct numbers){ 8, 0, 8192, 2048, 100, 0 }, (int[]){ 0 });
	report(&hm, "node3", 1000, (struct numbers){ 8, 0, 8192, 4096, 100, 0 }, (int[]){ 0 });
	CHECK_MSG(strcmp(pick_one(&hm, &exact, 1, 1, 1024, 1, NULL, 1000), "node2") == 0,
		  "spread: the most free memory wins");
	CHECK_MSG(strcmp(pick_one(&hm, &pack, 2, 1, 1024, 1, NULL, 1000), "node1") == 0,
		  "pack: the least free memory wins");
	/* node1 has 1024 MB left, node2 5120, node3 4096: spreading goes to
	 * node2 until it is level with node3, then to the first of the two. */
	CHECK_STR(pick_one(&hm, &exact, 3, 1, 1024, 1, NULL, 1000), "node2");
	CHECK_MSG(strcmp(pick_one(&hm, &exact, 4, 1, 1024, 1, NULL, 1000), "node2") == 0,
		  "equal weights: the first host in name order");
	CHECK_STR(pick_one(&hm, &exact, 5, 1, 1024, 1, NULL, 1000), "node3");
	CHECK_STR(pick_one(&hm, &pack, 6, 1, 1024, 1, NULL, 1000), "node1");
	CHECK_STR(pick_one(&hm, &pack, 7, 1, 1024, 1, NULL, 1000), "node2");
	host_manager_release(&hm);
}

static void test_limits(void)
{
	struct host_state hs = hand_built("node1", true, 0,
					  (struct sched_resources){ 3, 1001, 7 },
					  (struct sched_resources){ 0, 0, 0 });
	struct sched_config c = { 1.5, 1.5, 0.5, 1.0 };
	struct sched_resources l = sched_limits(&hs, &c);

	CHECK_INT(l.vcpus, 4);
	CHECK_INT(l.memory_mb, 1501);
	CHECK_INT(l.disk_gb, 3);
	l = sched_limits(&hs, &defaults);
	CHECK_INT(l.vcpus, 48);
	CHECK_INT(l.memory_mb, 1501);
	CHECK_INT(l.disk_gb, 7);
}

static void test_claims_and_reports(void)
{
	struct host_manager hm;
	struct host_state *hs;
	char buf[PICK_LEN];
	struct req q;
	struct sched_choice ch;
	struct rpc_error e = { 0 };

	host_manager_init(&hm);
	report(&hm, "node1", 1000, small_host, (int[]){ 0 });
	hs = host_manager_find(&hm, "node1");

	req_new(&q, 1, 1, 1024, 10, NULL);
	CHECK_INT(sched_select_destination(&hm, &exact, &q.r, 1000, &ch, &e), 0);
	CHECK(ch.host == hs);
	CHECK_INT(ch.limits.vcpus, 4);
	CHECK_INT(ch.limits.memory_mb, 4096);
	CHECK_INT(ch.limits.disk_gb, 100);
	req_free(&q);
	CHECK_INT(hs->nclaims, 1);
	CHECK_INT(host_state_used(hs).memory_mb, 1024);
	CHECK_STR(pick_one(&hm, &exact, 2, 1, 1024, 10, NULL, 1000), "node1");
	CHECK_INT(host_state_used(hs).memory_mb, 2048);

	/* A report that counts neither keeps both claims. */
	report(&hm, "node1", 2000, small_host, (int[]){ 0 });
	CHECK_MSG(hs->nclaims == 2 && host_state_used(hs).memory_mb == 2048,
		  "claims hold across a report that does not list their instances");
	/* One that counts instance 1 drops its claim, and only its. */
	report(&hm, "node1", 3000, (struct numbers){ 4, 1, 4096, 1024, 100, 10 }, (int[]){ 1, 0 });
	CHECK_INT(hs->nclaims, 1);
	CHECK(claims_find(&hm, uuid_of(1)) == NULL);
	CHECK(claims_find(&hm, uuid_of(2)) != NULL);
	CHECK_INT(host_state_used(hs).memory_mb, 2048);
	CHECK(sched_uuid_set_has(&hs->listed, uuid_of(1)));

	/* Down and back: the claim stays, and the first report decides. */
	report_down(&hm, "node1", 3500);
	CHECK_INT(hs->nclaims, 1);
	CHECK_MSG(strstr(pick_one(&hm, &exact, 3, 1, 1024, 10, NULL, 3600),
			 "ComputeFilter rejected node1 (down)") != NULL,
		  "a host that said it is down takes nothing");
	CHECK_INT(hs->nclaims, 1);
	report(&hm, "node1", 4000, (struct numbers){ 4, 1, 4096, 1024, 100, 10 }, (int[]){ 1, 0 });
	CHECK_MSG(hs->nclaims == 1 && host_state_used(hs).memory_mb == 2048,
		  "claims survive a host's restart until a report lists them");

	/* A host older than 1.1 reports no instances: its usage is the
	 * whole truth, claims and releases go. */
	report(&hm, "node1", 5000, (struct numbers){ 4, 2, 4096, 2048, 100, 20 }, NULL);
	CHECK_INT(hs->nclaims, 0);
	CHECK_INT(host_state_used(hs).memory_mb, 2048);
	CHECK(!sched_uuid_set_has(&hs->listed, uuid_of(1)));
	CHECK_INT(hm.claims.count, 0);

	/* Upper-case UUIDs name the same instance. */
	req_new(&q, 9, 1, 1024, 10, NULL);
	json_object_set_new(q.args, "instance_uuid",
			    json_string("00000000-0000-4000-8000-00000000000A"));
	sched_request_release(&q.r);
	sched_request_from_json(q.args, &q.r, &e);
	CHECK_STR(q.r.instance_uuid, "00000000-0000-4000-8000-00000000000a");
	CHECK_STR(pick(&hm, &exact, &q, 5000, buf, sizeof(buf)), "node1");
	req_free(&q);
	report(&hm, "node1", 6000, small_host, (int[]){ 0 });
	CHECK_INT(hs->nclaims, 1);
	{
		json_t *args = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:[s, s]}",
					 "host", "node1", "up", 1, "vcpus", 4, "vcpus_used", 1,
					 "memory_mb", 4096, "memory_mb_used", 1024, "disk_gb", 100,
					 "disk_gb_used", 10, "instances",
					 "00000000-0000-4000-8000-00000000000A",
					 "00000000-0000-4000-8000-00000000000a");
		enum host_event ev;

		CHECK_INT(host_manager_update(&hm, args, 7000, &ev, &e), 0);
		CHECK_MSG(hs->nclaims == 0, "a report in upper case drops the claim too");
		json_decref(args);
	}
	host_manager_release(&hm);
}

static void test_release(void)
{
	struct host_manager hm;
	struct host_state *hs;
	struct sched_resources m1 = { 1, 1024, 10 };

	host_manager_init(&hm);
	report(&hm, "node1", 1000, small_host, (int[]){ 0 });
	report(&hm, "node2", 1000, small_host, (int[]){ 0 });
	hs = host_manager_find(&hm, "node1");

	/* A claimed instance: its claim goes, once. */
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 10, "{\"force_host\": \"node1\"}", 1000), "node1");
	CHECK_INT(host_state_used(hs).memory_mb, 1024);
	CHECK_INT(claims_release(&hm, "node1", uuid_of(1), &m1), CLAIMS_DROPPED_CLAIM);
	CHECK_INT(host_state_used(hs).memory_mb, 0);
	CHECK_INT(claims_release(&hm, "node1", uuid_of(1), &m1), 0);
	CHECK_INT(host_state_used(hs).memory_mb, 0);

	/* A reported instance: its sizes come off the report, once, until a
	 * report no longer lists it. */
	report(&hm, "node1", 2000, (struct numbers){ 4, 2, 4096, 2048, 100, 20 }, (int[]){ 2, 3, 0 });
	CHECK_INT(host_state_used(hs).memory_mb, 2048);
	CHECK_INT(claims_release(&hm, "node1", uuid_of(2), &m1), CLAIMS_TOOK_OFF_REPORT);
	CHECK_INT(host_state_used(hs).memory_mb, 1024);
	CHECK_INT(claims_release(&hm, "node1", uuid_of(2), &m1), 0);
	CHECK_MSG(host_state_used(hs).memory_mb == 1024, "a release twice subtracts once");
	CHECK_MSG(claims_release(&hm, "node2", uuid_of(3), &m1) == 0 &&
		  host_state_used(hs).memory_mb == 1024,
		  "a release on another host changes nothing here");
	CHECK_INT(claims_release(&hm, "node9", uuid_of(3), &m1), 0);
	/* The domain is not gone yet: the report still counts it. */
	report(&hm, "node1", 3000, (struct numbers){ 4, 2, 4096, 2048, 100, 20 }, (int[]){ 2, 3, 0 });
	CHECK_INT(host_state_used(hs).memory_mb, 1024);
	CHECK_INT(hs->releases.count, 1);
	/* Now it is. */
	report(&hm, "node1", 4000, (struct numbers){ 4, 1, 4096, 1024, 100, 10 }, (int[]){ 3, 0 });
	CHECK_INT(hs->releases.count, 0);
	CHECK_INT(host_state_used(hs).memory_mb, 1024);
	CHECK_MSG(claims_release(&hm, "node1", uuid_of(2), &m1) == 0 &&
		  host_state_used(hs).memory_mb == 1024,
		  "a late duplicate release changes nothing");

	/* A claim on a host whose report still counts the instance (placed
	 * there again): the release drops both, once. */
	CHECK_STR(pick_one(&hm, &exact, 3, 1, 1024, 10, "{\"force_host\": \"node1\"}", 4000), "node1");
	CHECK_INT(host_state_used(hs).memory_mb, 2048);
	CHECK_INT(claims_release(&hm, "node1", uuid_of(3), &m1),
		  CLAIMS_DROPPED_CLAIM | CLAIMS_TOOK_OFF_REPORT);
	CHECK_INT(host_state_used(hs).memory_mb, 0);
	/* ... and a claim of an instance released from this host's report
	 * takes the release back: the instance holds room here again. */
	CHECK_STR(pick_one(&hm, &exact, 3, 1, 1024, 10, "{\"force_host\": \"node1\"}", 4000), "node1");
	CHECK_INT(hs->releases.count, 0);
	CHECK_INT(host_state_used(hs).memory_mb, 2048);
	host_manager_release(&hm);
}

static void test_reschedule(void)
{
	struct host_manager hm;
	struct host_state *n1, *n2;

	host_manager_init(&hm);
	report(&hm, "node1", 1000, small_host, (int[]){ 0 });
	report(&hm, "node2", 1000, small_host, (int[]){ 0 });
	n1 = host_manager_find(&hm, "node1");
	n2 = host_manager_find(&hm, "node2");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 3072, 10, NULL, 1000), "node1");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 3072, 10, "{\"ignore_hosts\": [\"node1\"]}", 1000),
		  "node2");
	CHECK_MSG(n1->nclaims == 0 && host_state_used(n1).memory_mb == 0,
		  "a reschedule drops the old claim");
	CHECK_INT(n2->nclaims, 1);
	CHECK_INT(hm.claims.count, 1);
	/* The same instance asked for again, with nowhere to go: its claim
	 * goes all the same. */
	CHECK_MSG(strstr(pick_one(&hm, &exact, 1, 1, 3072, 10,
				  "{\"ignore_hosts\": [\"node1\", \"node2\"]}", 1000),
			 "NoValidHost") != NULL, "every host tried: NoValidHost");
	CHECK_INT(hm.claims.count, 0);
	CHECK_INT(host_state_used(n2).memory_mb, 0);
	/* Asking again for the same instance never takes more room. */
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 3072, 10, NULL, 1000), "node1");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 3072, 10, NULL, 1000), "node1");
	CHECK_INT(host_state_used(n1).memory_mb, 3072);
	host_manager_release(&hm);
}

static void test_groups(void)
{
	struct host_manager hm;
	const char *anti = "{\"group\": {\"name\": \"db\", \"policy\": \"anti-affinity\", \"hosts\": []}}";
	const char *aff = "{\"group\": {\"name\": \"web\", \"policy\": \"affinity\", \"hosts\": []}}";
	char want[SCHED_MAX_MESSAGE];

	host_manager_init(&hm);
	report(&hm, "node1", 1000, (struct numbers){ 8, 0, 8192, 0, 100, 0 }, (int[]){ 0 });
	report(&hm, "node2", 1000, (struct numbers){ 8, 0, 8192, 0, 100, 0 }, (int[]){ 0 });
	report(&hm, "node3", 1000, (struct numbers){ 8, 0, 8192, 0, 100, 0 }, (int[]){ 0 });

	/* Three anti-affinity members in flight at once: three hosts. */
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 1, anti, 1000), "node1");
	CHECK_STR(pick_one(&hm, &exact, 2, 1, 1024, 1, anti, 1000), "node2");
	CHECK_STR(pick_one(&hm, &exact, 3, 1, 1024, 1, anti, 1000), "node3");
	snprintf(want, sizeof(want), "NoValidHost(-113): No valid host: 0/3 hosts passed; "
		 "ServerGroupAntiAffinityFilter rejected node1 (group db has a member there), "
		 "ServerGroupAntiAffinityFilter rejected node2 (group db has a member there), "
		 "ServerGroupAntiAffinityFilter rejected node3 (group db has a member there)");
	CHECK_STR(pick_one(&hm, &exact, 4, 1, 1024, 1, anti, 1000), want);
	/* A member rescheduled does not avoid itself. */
	CHECK_STR(pick_one(&hm, &exact, 3, 1, 1024, 1, anti, 1000), "node3");
	/* Reported members are named by novafs; in-flight ones still count. */
	report(&hm, "node1", 2000, (struct numbers){ 8, 1, 8192, 1024, 100, 1 }, (int[]){ 1, 0 });
	CHECK(claims_find(&hm, uuid_of(1)) == NULL);
	CHECK_STR(pick_one(&hm, &exact, 4, 1, 1024, 1,
			   "{\"group\": {\"name\": \"db\", \"policy\": \"anti-affinity\", \"hosts\": [\"node1\"]}}",
			   2000), want);

	/* Affinity: the first member goes where the weigher says, the next
	 * ones follow it while it has room, even before it reports them. */
	CHECK_STR(pick_one(&hm, &exact, 11, 1, 1024, 1, aff, 2000), "node1");
	CHECK_STR(pick_one(&hm, &exact, 12, 1, 4096, 1, aff, 2000), "node1");
	CHECK_MSG(strcmp(pick_one(&hm, &exact, 13, 1, 1024, 1, aff, 2000), "node1") == 0,
		  "affinity follows a member in flight, against the weigher");
	CHECK_MSG(strstr(pick_one(&hm, &exact, 14, 1, 4096, 1, aff, 2000),
			 "RamFilter rejected node1 (1024 MB free, 4096 MB needed), "
			 "ServerGroupAffinityFilter rejected node2 (group web is on node1)") != NULL,
		  "affinity: no room on the group's host, NoValidHost");
	/* Members released before their host reports them leave the group
	 * free to go anywhere. */
	claims_release(&hm, "node1", uuid_of(11), &(struct sched_resources){ 1, 1024, 1 });
	claims_release(&hm, "node1", uuid_of(12), &(struct sched_resources){ 1, 4096, 1 });
	claims_release(&hm, "node1", uuid_of(13), &(struct sched_resources){ 1, 1024, 1 });
	CHECK(claims_group(&hm, "web") == NULL);
	CHECK_STR(pick_one(&hm, &exact, 14, 1, 4096, 1,
			   "{\"group\": {\"name\": \"web\", \"policy\": \"affinity\", \"hosts\": [\"node3\"]}}",
			   2000), "node3");
	host_manager_release(&hm);
}

static void test_no_valid_host(void)
{
	struct host_manager hm;
	char name[16];
	const char *msg, *tail;
	int i, named = 0;

	host_manager_init(&hm);
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 1, NULL, 1000),
		  "NoValidHost(-113): No valid host: no compute hosts have reported");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 1, "{\"force_host\": \"node9\"}", 1000),
		  "NoValidHost(-113): No valid host: no compute hosts have reported");

	report(&hm, "node4", 1000, (struct numbers){ 16, 0, 16384, 0, 100, 0 }, (int[]){ 0 });
	report(&hm, "node3", 1000, (struct numbers){ 16, 0, 16384, 0, 100, 0 }, (int[]){ 0 });
	report(&hm, "node2", 1000, (struct numbers){ 4, 4, 16384, 0, 100, 0 }, (int[]){ 0 });
	report(&hm, "node1", 1000, (struct numbers){ 16, 0, 8192, 7168, 100, 0 }, (int[]){ 0 });
	report_down(&hm, "node3", 1000);
	CHECK_STR(pick_one(&hm, &exact, 1, 2, 8192, 1, "{\"ignore_hosts\": [\"node4\"]}", 1000),
		  "NoValidHost(-113): No valid host: 0/4 hosts passed; "
		  "RamFilter rejected node1 (1024 MB free, 8192 MB needed), "
		  "CoreFilter rejected node2 (0 vCPUs free, 2 vCPUs needed), "
		  "ComputeFilter rejected node3 (down), "
		  "RetryFilter rejected node4 (tried already)");
	CHECK_STR(pick_one(&hm, &exact, 1, 2, 8192, 1,
			   "{\"force_host\": \"node4\", \"disabled_hosts\": [\"node4\"]}", 1000),
		  "NoValidHost(-113): No valid host: 0/4 hosts passed; "
		  "ForceHostFilter rejected node1 (not the forced host node4), "
		  "ForceHostFilter rejected node2 (not the forced host node4), "
		  "ComputeFilter rejected node3 (down), "
		  "ComputeFilter rejected node4 (disabled)");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 1, "{\"force_host\": \"node9\"}", 1000),
		  "NoValidHost(-113): No valid host: the forced host node9 has not reported");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 1, "{\"force_host\": \"node2\"}", 1000),
		  "NoValidHost(-113): No valid host: 0/4 hosts passed; "
		  "ForceHostFilter rejected node1 (not the forced host node2), "
		  "CoreFilter rejected node2 (0 vCPUs free, 1 vCPUs needed), "
		  "ComputeFilter rejected node3 (down), "
		  "ForceHostFilter rejected node4 (not the forced host node2)");
	CHECK_STR(pick_one(&hm, &exact, 1, 1, 1024, 1, "{\"force_host\": \"node1\"}", 1000), "node1");
	CHECK_STR(pick_one(&hm, &exact, 2, 1, 1024, 1, "{\"ignore_hosts\": [\"node1\"]}", 1000), "node4");
	CHECK_STR(pick_one(&hm, &exact, 3, 1, 1024, 1, "{\"disabled_hosts\": [\"node4\"]}", 1000),
		  "NoValidHost(-113): No valid host: 0/4 hosts passed; "
		  "RamFilter rejected node1 (0 MB free, 1024 MB needed), "
		  "CoreFilter rejected node2 (0 vCPUs free, 1 vCPUs needed), "
		  "ComputeFilter rejected node3 (down), "
		  "ComputeFilter rejected node4 (disabled)");
	host_manager_release(&hm);

	/* 100 hosts: as many as fit, in name order, then how many more. */
	host_manager_init(&hm);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "compute-%03d", i);
		report(&hm, name, 1000, small_host, (int[]){ 0 });
	}
	msg = pick_one(&hm, &exact, 1, 1, 8192, 1, NULL, 1000);
	CHECK_MSG(strlen(msg) - strlen("NoValidHost(-113): ") <= SCHED_MAX_MESSAGE,
		  "100 hosts: the message fits in a fault (%zu bytes)", strlen(msg));
	CHECK(strstr(msg, "No valid host: 0/100 hosts passed; RamFilter rejected compute-000 "
		     "(4096 MB free, 8192 MB needed), RamFilter rejected compute-001 ") != NULL);
	for (tail = msg; (tail = strstr(tail, " rejected compute-")); tail++)
		named++;
	tail = strstr(msg, ", ... and ");
	CHECK(tail != NULL);
	CHECK_MSG(tail && atoi(tail + strlen(", ... and ")) == 100 - named,
		  "%d hosts named, the rest counted: %s", named, tail ? tail : "");
	CHECK(tail && strcmp(tail + strlen(tail) - strlen(" more hosts rejected"),
			     " more hosts rejected") == 0);
	host_manager_release(&hm);
}

/* 200 requests of assorted sizes, no report in between: no host ever
 * holds more than its limits, and every one is used up. */
static void test_never_overcommit(void)
{
	struct host_manager hm;
	static const struct sched_resources flavors[] = {
		{ 1, 512, 1 }, { 2, 2048, 20 }, { 4, 4096, 40 }, { 8, 16384, 80 },
		{ 1, 2048, 10 },
	};
	unsigned seed = 8;
	int i, j, placed = 0, over = 0, refused = 0;

	host_manager_init(&hm);
	report(&hm, "node1", 1000, (struct numbers){ 8, 2, 16384, 4096, 200, 30 }, (int[]){ 0 });
	report(&hm, "node2", 1000, (struct numbers){ 4, 0, 8192, 0, 100, 0 }, (int[]){ 0 });
	report(&hm, "node3", 1000, (struct numbers){ 16, 0, 32768, 0, 400, 0 }, (int[]){ 0 });
	report(&hm, "node4", 1000, (struct numbers){ 2, 0, 4096, 0, 50, 0 }, NULL);
	for (i = 0; i < 200; i++) {
		const struct sched_resources *f = &flavors[rand_r(&seed) % 5];
		const char *h = pick_one(&hm, &defaults, i + 1, (int)f->vcpus,
					 (int)f->memory_mb, (int)f->disk_gb, NULL, 1000);

		if (strncmp(h, "NoValidHost", 11) == 0)
			refused++;
		else
			placed++;
		for (j = 0; j < 4; j++) {
			struct host_state *hs = hm.hosts[j];
			struct sched_resources u = host_state_used(hs);
			struct sched_resources l = sched_limits(hs, &defaults);

			if (u.vcpus > l.vcpus || u.memory_mb > l.memory_mb ||
			    u.disk_gb > l.disk_gb)
				over++;
		}
	}
	CHECK_MSG(over == 0, "200 selects over 4 hosts: never over a limit (%d placed, %d refused)",
		  placed, refused);
	CHECK_MSG(refused > 0, "the hosts filled up");
	CHECK_INT((long long)hm.claims.count, placed);
	host_manager_release(&hm);
}

/* 100,000 instances: reconciling a report costs its length, not its
 * length times the claims. */
static void test_many_instances(void)
{
	enum { N = 100000 };
	struct host_manager hm;
	struct sched_resources one = { 1, 1, 1 };
	struct host_state *hs;
	json_t *args, *list;
	struct rpc_error e = { 0 };
	enum host_event ev;
	int i, failed = 0;

	host_manager_init(&hm);
	report(&hm, "big", 1000, (struct numbers){ 1 << 20, 0, 1 << 30, 0, 1 << 30, 0 }, (int[]){ 0 });
	hs = host_manager_find(&hm, "big");
	for (i = 1; i <= N; i++)
		failed += claims_add(&hm, hs, uuid_of(i), &one, NULL) < 0;
	CHECK_INT(failed, 0);
	CHECK_INT(hs->nclaims, N);
	args = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i}", "host", "big", "up", 1,
			 "vcpus", 1 << 20, "vcpus_used", N / 2, "memory_mb", 1 << 30,
			 "memory_mb_used", N / 2, "disk_gb", 1 << 30, "disk_gb_used", N / 2);
	list = json_array();
	for (i = 1; i <= N; i += 2)
		json_array_append_new(list, json_string(uuid_of(i)));
	json_object_set_new(args, "instances", list);
	CHECK_INT(host_manager_update(&hm, args, 2000, &ev, &e), 0);
	json_decref(args);
	CHECK_INT(hs->nclaims, N / 2);
	CHECK_INT(host_state_used(hs).vcpus, N);
	for (i = 1; i <= N; i += 2)
		failed += claims_release(&hm, "big", uuid_of(i), &one) != CLAIMS_TOOK_OFF_REPORT;
	CHECK_INT(failed, 0);
	CHECK_INT(host_state_used(hs).vcpus, N / 2);
	host_manager_release(&hm);
}

static void test_request_parsing(void)
{
	struct sched_request req;
	struct sched_release_request rel;
	struct rpc_error e = { 0 };
	json_t *args;

	args = json_pack("{s:s, s:{s:s, s:i, s:i, s:i}}", "instance_uuid", uuid_of(1),
			 "flavor", "name", "m1.small", "vcpus", 1,
			 "memory_mb", 2048, "disk_gb", 20);
	CHECK_INT(sched_request_from_json(args, &req, &e), 0);
	CHECK_STR(req.flavor_name, "m1.small");
	CHECK_INT(req.flavor.vcpus, 1);
	CHECK_INT(req.flavor.memory_mb, 2048);
	CHECK_INT(req.flavor.disk_gb, 20);
	CHECK(req.force_host == NULL && req.group == NULL);
	CHECK_INT(req.policy, SCHED_POLICY_NONE);
	sched_request_release(&req);
	json_decref(args);

	args = json_loads("{\"instance_uuid\": \"00000000-0000-4000-8000-000000000001\", "
			  "\"flavor\": {\"name\": \"m1.small\", \"vcpus\": 1, \"memory_mb\": 2048, \"disk_gb\": 20}, "
			  "\"force_host\": \"node1\", \"group\": {\"name\": \"web\", \"policy\": \"anti-affinity\", "
			  "\"hosts\": [\"node3\", \"node2\", \"node3\"]}, \"ignore_hosts\": [\"node4\"], "
			  "\"disabled_hosts\": []}", 0, NULL);
	CHECK_INT(sched_request_from_json(args, &req, &e), 0);
	CHECK_STR(req.force_host, "node1");
	CHECK_STR(req.group, "web");
	CHECK_INT(req.policy, SCHED_POLICY_ANTI_AFFINITY);
	CHECK_INT(req.group_hosts.n, 2);
	CHECK(host_set_has(&req.group_hosts, "node2") && host_set_has(&req.group_hosts, "node3"));
	CHECK(!host_set_has(&req.group_hosts, "node4"));
	CHECK(host_set_has(&req.ignore_hosts, "node4"));
	CHECK_INT(req.disabled_hosts.n, 0);
	sched_request_release(&req);
	json_decref(args);

	args = json_pack("{s:s, s:{s:s, s:i, s:s}}", "instance_uuid", uuid_of(1),
			 "flavor", "name", "m1.small", "vcpus", 1,
			 "memory_mb", "lots");
	CHECK_INT(sched_request_from_json(args, &req, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	sched_request_release(&req);
	json_decref(args);
	args = json_pack("{s:s}", "instance_uuid", uuid_of(1));
	CHECK_INT(sched_request_from_json(args, &req, &e), -EINVAL);
	sched_request_release(&req);
	json_decref(args);
	args = json_pack("{s:s, s:{s:s, s:i, s:i, s:i}, s:{s:s, s:s, s:[]}}",
			 "instance_uuid", uuid_of(1), "flavor", "name", "m1.small",
			 "vcpus", 1, "memory_mb", 2048, "disk_gb", 20,
			 "group", "name", "web", "policy", "soft-affinity", "hosts");
	CHECK_INT(sched_request_from_json(args, &req, &e), -EINVAL);
	CHECK_STR(e.message, "select_destinations: unknown group policy \"soft-affinity\"");
	sched_request_release(&req);
	json_decref(args);

	args = json_pack("{s:s, s:s, s:{s:s, s:i, s:i, s:i}}", "instance_uuid",
			 "00000000-0000-4000-8000-00000000000B", "host", "node1",
			 "flavor", "name", "m1.small", "vcpus", 1, "memory_mb", 2048, "disk_gb", 20);
	CHECK_INT(sched_release_from_json(args, &rel, &e), 0);
	CHECK_STR(rel.instance_uuid, "00000000-0000-4000-8000-00000000000b");
	CHECK_STR(rel.host, "node1");
	CHECK_INT(rel.flavor.memory_mb, 2048);
	/* Without a host: a placement whose answer was lost. */
	json_object_del(args, "host");
	CHECK_INT(sched_release_from_json(args, &rel, &e), 0);
	CHECK(rel.host == NULL);
	json_decref(args);
}

int main(void)
{
	test_updates_and_liveness();
	test_filters();
	test_group_filters_in_flight();
	test_weigher();
	test_limits();
	test_claims_and_reports();
	test_release();
	test_reschedule();
	test_groups();
	test_no_valid_host();
	test_never_overcommit();
	test_many_instances();
	test_request_parsing();
	return test_done();
}
