/*
 * test_netmgr.c - novafs-network without AMQP: definitions checked, the
 * next address after the cursor over a bitmap, MACs from a scripted
 * random source, and the store on a temporary database file (reopened,
 * all or nothing, idempotent releases and deletes).
 */
#include <errno.h>
#include <stdlib.h>

#include "common/netaddr.h"
#include "rpc/rpc.h"
#include "../../netmgr/mac.h"
#include "../../netmgr/network.h"
#include "../../netmgr/store.h"
#include "testhelp.h"

/* Addresses of 192.0.2.0/24 by their last byte: a bitmap predicate. */
struct used {
	unsigned char taken[256];
	int fail;     /* -errno to return instead, or 0 */
};

static int used_fn(void *ctx, uint32_t a)
{
	struct used *u = ctx;

	return u->fail ? u->fail : u->taken[a & 0xff];
}

static struct netmgr_network net_of(const char *cidr, const char *gw,
				    const char *start, const char *end)
{
	struct netmgr_network n;
	struct rpc_error e = { 0 };

	if (netmgr_network_parse("net", cidr, gw, start, end, &n, &e) < 0)
		printf("# %s\n", e.message);
	return n;
}

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	ipv4_parse(s, strlen(s), &a);
	return a;
}

/* The next address as a string, or the error's name. */
static const char *next(const struct netmgr_network *n, const char *cursor,
			struct used *u)
{
	static char buf[IPV4_STR_LEN];
	uint32_t a;
	int rc = netmgr_next_address(n, cursor ? ip(cursor) : 0, used_fn, u, &a);

	if (rc == -EADDRNOTAVAIL)
		return "full";
	if (rc < 0)
		return "error";
	return ipv4_format(a, buf);
}

static void test_parse(void)
{
	static const struct {
		const char *cidr, *gw, *start, *end, *why;
	} bad[] = {
		{ "192.0.2.0/33", "192.0.2.1", "192.0.2.2", "192.0.2.9", "cidr" },
		{ "192.0.2.5/24", "192.0.2.1", "192.0.2.2", "192.0.2.9", "host bits" },
		{ "10.0.0.0/7", "10.0.0.1", "10.0.0.2", "10.0.0.9", "prefix must be 8 to 29" },
		{ "192.0.2.0/30", "192.0.2.1", "192.0.2.2", "192.0.2.2", "prefix must be 8 to 29" },
		{ "192.0.2.0/24", "198.51.100.1", "192.0.2.2", "192.0.2.9", "gateway 198.51.100.1 is not a host address" },
		{ "192.0.2.0/24", "192.0.2.0", "192.0.2.2", "192.0.2.9", "gateway 192.0.2.0 is not a host" },
		{ "192.0.2.0/24", "192.0.2.1", "192.0.3.2", "192.0.2.9", "dhcp_start 192.0.3.2" },
		{ "192.0.2.0/24", "192.0.2.1", "192.0.2.2", "192.0.2.255", "dhcp_end 192.0.2.255" },
		{ "192.0.2.0/24", "192.0.2.1", "192.0.2.9", "192.0.2.2", "dhcp_start 192.0.2.9 is after dhcp_end" },
		{ "192.0.2.0/24", "gw", "192.0.2.2", "192.0.2.9", "\"gw\" is not an IPv4 address" },
	};
	struct netmgr_network n;
	size_t i, count;
	json_t *list;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rpc_error e = { 0 };
		int rc = netmgr_network_parse("lan", bad[i].cidr, bad[i].gw,
					      bad[i].start, bad[i].end, &n, &e);

		CHECK_MSG(rc == -EINVAL && strcmp(e.cls, "InvalidInput") == 0 &&
			  strstr(e.message, "network lan: ") == e.message &&
			  strstr(e.message, bad[i].why),
			  "%s gw %s %s-%s refused: %s", bad[i].cidr, bad[i].gw,
			  bad[i].start, bad[i].end, e.message);
	}
	n = net_of("198.51.100.0/29", "198.51.100.1", "198.51.100.1", "198.51.100.6");
	CHECK_INT(n.cidr.prefix, 29);
	CHECK_INT(n.dhcp_end - n.dhcp_start, 5);

	list = json_pack("[{s:s,s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s}]",
			 "name", "a", "cidr", "192.0.2.0/24", "gateway", "192.0.2.1",
			 "dhcp_start", "192.0.2.2", "dhcp_end", "192.0.2.9",
			 "name", "a", "cidr", "192.0.2.0/24", "gateway", "192.0.2.1",
			 "dhcp_start", "192.0.2.2", "dhcp_end", "192.0.2.9");
	{
		struct netmgr_network nets[2];
		struct rpc_error e = { 0 };

		CHECK_INT(netmgr_networks_from_json(list, nets, 2, &count, &e), -EINVAL);
		CHECK_STR(e.message, "network a is named twice");
		json_object_set_new(json_array_get(list, 1), "name", json_string("b"));
		CHECK_INT(netmgr_networks_from_json(list, nets, 2, &count, &e), 0);
		CHECK_INT(count, 2);
		CHECK_STR(nets[1].name, "b");
		CHECK_INT(netmgr_networks_from_json(list, nets, 1, &count, &e), -EINVAL);
	}
	json_decref(list);
}

static void test_next_address(void)
{
	struct netmgr_network n = net_of("192.0.2.0/24", "192.0.2.1", "192.0.2.1",
					 "192.0.2.6");
	struct netmgr_network small = net_of("198.51.100.0/29", "198.51.100.6",
					     "198.51.100.1", "198.51.100.6");
	struct used u = { { 0 }, 0 };
	int i;

	CHECK_STR(next(&n, NULL, &u), "192.0.2.2");      /* the gateway skipped */
	CHECK_STR(next(&n, "192.0.2.2", &u), "192.0.2.3");
	u.taken[3] = u.taken[4] = 1;
	CHECK_STR(next(&n, "192.0.2.2", &u), "192.0.2.5"); /* first free */
	CHECK_STR(next(&n, "192.0.2.6", &u), "192.0.2.2"); /* wraps at the end */
	u.taken[2] = 1;
	CHECK_STR(next(&n, "192.0.2.5", &u), "192.0.2.6");
	u.taken[6] = 1;
	CHECK_STR(next(&n, "192.0.2.5", &u), "192.0.2.5"); /* around to itself */
	u.taken[5] = 1;
	CHECK_STR(next(&n, "192.0.2.5", &u), "full");
	CHECK_STR(next(&n, NULL, &u), "full");
	u.taken[4] = 0;                                   /* released */
	CHECK_STR(next(&n, "192.0.2.5", &u), "192.0.2.4"); /* reused */
	CHECK_STR(next(&n, "10.0.0.1", &u), "192.0.2.4"); /* a cursor outside */
	u.fail = -EIO;
	CHECK_STR(next(&n, NULL, &u), "error");

	/* A /29: five addresses once the gateway is out, then full. */
	memset(&u, 0, sizeof(u));
	{
		uint32_t a, cursor = 0;
		int got = 0;

		for (i = 0; i < 8; i++) {
			if (netmgr_next_address(&small, cursor, used_fn, &u, &a) < 0)
				break;
			u.taken[a & 0xff] = 1;
			cursor = a;
			got++;
		}
		CHECK_INT(got, 5);
		CHECK_INT(cursor & 0xff, 5);
		CHECK(!u.taken[6]);
	}
}

/* A scripted random source: the queued 24-bit values first, then a
 * counter. */
struct script {
	uint32_t v[8];
	size_t n, i;
	uint32_t counter;
	int fail;
};

static int script_rnd(void *ctx, void *buf, size_t len)
{
	struct script *s = ctx;
	unsigned char *b = buf;
	uint32_t v = s->i < s->n ? s->v[s->i++] : ++s->counter;

	if (s->fail)
		return s->fail;
	CHECK_INT(len, 3);
	b[0] = (unsigned char)(v >> 16);
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)v;
	return 0;
}

static void script_push(struct script *s, uint32_t v)
{
	if (s->i == s->n)
		s->i = s->n = 0;
	s->v[s->n++] = v;
}

/* Taken MACs: those whose last byte is below the threshold. */
static int mac_taken(void *ctx, const uint8_t m[6])
{
	return m[5] < *(const uint8_t *)ctx;
}

static void test_mac(void)
{
	struct script s = { { 0 }, 0, 0, 0, 0 };
	char str[MAC_STR_LEN];
	uint8_t m[6], below = 0;

	script_push(&s, 0xabcdef);
	CHECK_INT(netmgr_mac_new(script_rnd, &s, mac_taken, &below, m), 0);
	CHECK_STR(mac_format(m, str), "fa:16:3e:ab:cd:ef");
	CHECK(mac_is_local_unicast(m));
	/* Collisions draw again. */
	below = 3;
	script_push(&s, 0x000001);
	script_push(&s, 0x000002);
	script_push(&s, 0x000003);
	CHECK_INT(netmgr_mac_new(script_rnd, &s, mac_taken, &below, m), 0);
	CHECK_STR(mac_format(m, str), "fa:16:3e:00:00:03");
	CHECK_INT(s.i, 3);
	below = 255;
	s.counter = 0;
	CHECK_INT(netmgr_mac_new(script_rnd, &s, mac_taken, &below, m), -EADDRINUSE);
	CHECK_INT(s.counter, NETMGR_MAC_TRIES);
	s.fail = -EAGAIN;
	below = 0;
	CHECK_INT(netmgr_mac_new(script_rnd, &s, mac_taken, &below, m), -EAGAIN);
	CHECK_INT(netmgr_mac_new(netmgr_getrandom, NULL, mac_taken, &below, m), 0);
	CHECK_MSG(m[0] == 0xfa && m[1] == 0x16 && m[2] == 0x3e &&
		  mac_is_local_unicast(m), "getrandom: %s", mac_format(m, str));
}

#define I1 "00000000-0000-4000-8000-000000000001"
#define I2 "00000000-0000-4000-8000-000000000002"
#define I3 "00000000-0000-4000-8000-000000000003"
#define I4 "00000000-0000-4000-8000-000000000004"
#define I5 "00000000-0000-4000-8000-000000000005"
#define I6 "00000000-0000-4000-8000-000000000006"
#define I7 "00000000-0000-4000-8000-0000000000a7"

static struct script rnd;
static struct netmgr_network lan, tiny;

/* Allocates instance on nets (lan, tiny or both): "IP MAC[, IP MAC]", or
 * "Class: message". */
static const char *alloc(struct netmgr_store *s, const char *instance,
			 const struct netmgr_network *nets, size_t n)
{
	static char out[640];
	struct netmgr_nic nics[2];
	struct rpc_error e = { 0 };
	char a[IPV4_STR_LEN], m[MAC_STR_LEN];
	size_t i, len = 0;

	if (netmgr_store_allocate(s, instance, nets, n, nics, &e) < 0) {
		snprintf(out, sizeof(out), "%s: %s", e.cls, e.message);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s %s %s",
					i ? ", " : "", nics[i].network,
					ipv4_format(nics[i].ip, a),
					mac_format(nics[i].mac, m));
	return out;
}

static int released_count;

static void count_released(void *ctx, const struct netmgr_nic *nic)
{
	released_count++;
	CHECK_STR(nic->network, (const char *)ctx);
}

static struct netmgr_store *reopen(struct netmgr_store *s, const char *path)
{
	struct rpc_error e = { 0 };

	netmgr_store_close(s);
	s = NULL;
	if (netmgr_store_open(path, script_rnd, &rnd, &s, &e) < 0)
		printf("# %s\n", e.message);
	return s;
}

static void test_store(const char *path)
{
	struct netmgr_network both[2];
	struct rpc_error e = { 0 };
	struct netmgr_store *s = reopen(NULL, path);

	CHECK(s != NULL);
	if (!s)
		return;
	lan = net_of("192.0.2.0/24", "192.0.2.1", "192.0.2.1", "192.0.2.20");
	snprintf(lan.name, sizeof(lan.name), "lan");
	tiny = net_of("198.51.100.0/29", "198.51.100.1", "198.51.100.2",
		      "198.51.100.3");
	snprintf(tiny.name, sizeof(tiny.name), "tiny");
	both[0] = lan;
	both[1] = tiny;

	script_push(&rnd, 0x000001);
	CHECK_STR(alloc(s, I1, &lan, 1), "lan 192.0.2.2 fa:16:3e:00:00:01");
	CHECK_STR(alloc(s, I1, &lan, 1), "lan 192.0.2.2 fa:16:3e:00:00:01");
	CHECK_STR(alloc(s, "00000000-0000-4000-8000-0000000000A7", &lan, 1),
		  "lan 192.0.2.3 fa:16:3e:00:00:02");
	CHECK_STR(alloc(s, I7, &lan, 1), "lan 192.0.2.3 fa:16:3e:00:00:02");
	/* A MAC that lan holds is drawn again, on any network. */
	script_push(&rnd, 0x000001);
	script_push(&rnd, 0x000002);
	script_push(&rnd, 0x000010);
	CHECK_STR(alloc(s, I2, &tiny, 1), "tiny 198.51.100.2 fa:16:3e:00:00:10");

	/* Reopened: the allocations and the cursor are on disk. */
	s = reopen(s, path);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_STR(alloc(s, I1, &lan, 1), "lan 192.0.2.2 fa:16:3e:00:00:01");
	CHECK_INT(netmgr_store_deallocate(s, I1, count_released, lan.name, &e), 1);
	CHECK_INT(released_count, 1);
	CHECK_INT(netmgr_store_deallocate(s, I1, count_released, lan.name, &e), 0);
	CHECK_INT(netmgr_store_deallocate(s, I6, NULL, NULL, &e), 0);
	CHECK_INT(released_count, 1);
	script_push(&rnd, 0x000020);
	CHECK_STR(alloc(s, I3, &lan, 1), "lan 192.0.2.4 fa:16:3e:00:00:20");

	/* tiny has one address left: I4 takes it, then I5 gets nothing on
	 * either network. */
	script_push(&rnd, 0x000030);
	script_push(&rnd, 0x000031);
	CHECK_STR(alloc(s, I4, both, 2),
		  "lan 192.0.2.5 fa:16:3e:00:00:30, tiny 198.51.100.3 fa:16:3e:00:00:31");
	CHECK_STR(alloc(s, I4, both, 2),
		  "lan 192.0.2.5 fa:16:3e:00:00:30, tiny 198.51.100.3 fa:16:3e:00:00:31");
	CHECK_STR(alloc(s, I5, both, 2), "NoMoreFixedIps: no more fixed IPs on tiny");
	CHECK_INT(netmgr_store_deallocate(s, I5, NULL, NULL, &e), 0);
	script_push(&rnd, 0x000040);
	CHECK_STR(alloc(s, I5, &lan, 1), "lan 192.0.2.6 fa:16:3e:00:00:40");

	/* deallocate twice. */
	released_count = 0;
	CHECK_INT(netmgr_store_deallocate(s, I4, NULL, NULL, &e), 2);
	CHECK_INT(netmgr_store_deallocate(s, I4, NULL, NULL, &e), 0);

	/* I5 names tiny instead of lan now: its lan address goes in the
	 * same transaction. */
	script_push(&rnd, 0x000045);
	CHECK_STR(alloc(s, I5, &tiny, 1), "tiny 198.51.100.3 fa:16:3e:00:00:45");
	released_count = 0;
	CHECK_INT(netmgr_store_deallocate(s, I5, count_released, tiny.name, &e), 1);
	CHECK_INT(released_count, 1);

	/* delete_network: its allocations go, and a network made later under
	 * the same name starts empty. */
	CHECK_INT(netmgr_store_delete_network(s, "tiny", &e), 1);
	CHECK_INT(netmgr_store_delete_network(s, "tiny", &e), 0);
	CHECK_INT(netmgr_store_delete_network(s, "never", &e), 0);
	script_push(&rnd, 0x000050);
	CHECK_STR(alloc(s, I6, &tiny, 1), "tiny 198.51.100.2 fa:16:3e:00:00:50");
	CHECK_INT(netmgr_store_deallocate(s, I2, NULL, NULL, &e), 0);
	netmgr_store_close(s);

	CHECK_MSG(netmgr_store_open("/nonexistent/dir/network.db", script_rnd,
				    &rnd, &s, &e) < 0 &&
		  strstr(e.message, "/nonexistent/dir/network.db: ") == e.message,
		  "an unopenable file: %s", e.message);
}

int main(void)
{
	char dir[] = "/tmp/test_netmgr.XXXXXX", path[64];

	test_parse();
	test_next_address();
	test_mac();
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/network.db", dir);
	test_store(path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return test_done();
}
