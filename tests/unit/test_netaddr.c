/*
 * test_netaddr.c - netaddr.h: strict IPv4, CIDR and MAC parsing, the
 * canonical forms printed, and range arithmetic (hosts, overlap).
 */
#include <errno.h>
#include <string.h>

#include "common/netaddr.h"
#include "testhelp.h"

static int parse4(const char *s, uint32_t *a)
{
	return ipv4_parse(s, strlen(s), a);
}

static int parse_net(const char *s, struct ipv4_net *n, char *why)
{
	return ipv4_net_parse(s, strlen(s), n, why, 128);
}

static void test_ipv4(void)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4 ",
		" 1.2.3.4", "1..3.4", "1.2.3.-4", "a.b.c.d", "1.2.3.4/24",
		"1.2.3.1000", "0x1.2.3.4", NULL,
	};
	char buf[IPV4_STR_LEN];
	uint32_t a = 0;
	int i;

	CHECK_INT(parse4("192.0.2.1", &a), 0);
	CHECK_INT(a, 0xc0000201);
	CHECK_STR(ipv4_format(a, buf), "192.0.2.1");
	CHECK_INT(parse4("0.0.0.0", &a), 0);
	CHECK_INT(a, 0);
	CHECK_INT(parse4("255.255.255.255", &a), 0);
	CHECK_STR(ipv4_format(a, buf), "255.255.255.255");
	for (i = 0; bad[i]; i++)
		CHECK_MSG(parse4(bad[i], &a) == -EINVAL, "\"%s\" is refused", bad[i]);
	/* len bounds the parse: a NUL-free slice of a line */
	CHECK_INT(ipv4_parse("10.0.0.1\n", 8, &a), 0);
}

static void test_cidr(void)
{
	struct ipv4_net n = { 0 }, m = { 0 };
	char why[128] = "", buf[CIDR_STR_LEN], a[IPV4_STR_LEN];

	CHECK_INT(parse_net("192.0.2.0/24", &n, why), 0);
	CHECK_INT(n.prefix, 24);
	CHECK_STR(ipv4_net_format(&n, buf), "192.0.2.0/24");
	CHECK_STR(ipv4_format(ipv4_net_mask(&n), a), "255.255.255.0");
	CHECK_STR(ipv4_format(ipv4_net_first_host(&n), a), "192.0.2.1");
	CHECK_STR(ipv4_format(ipv4_net_last_host(&n), a), "192.0.2.254");
	CHECK_STR(ipv4_format(ipv4_net_last(&n), a), "192.0.2.255");
	CHECK_INT(parse_net("192.0.2.5/24", &n, why), -EINVAL);
	CHECK_STR(why, "192.0.2.5/24 has host bits set: the network is 192.0.2.0/24");
	CHECK_INT(parse_net("192.0.2.0", &n, why), -EINVAL);
	CHECK_STR(why, "not ADDRESS/PREFIX (192.0.2.0/24)");
	CHECK_INT(parse_net("192.0.2.0/33", &n, why), -EINVAL);
	CHECK_INT(parse_net("192.0.2.0/024", &n, why), -EINVAL);
	CHECK_INT(parse_net("192.0.2.0/", &n, why), -EINVAL);
	CHECK_INT(parse_net("0.0.0.0/0", &n, why), 0);
	CHECK_INT(ipv4_net_mask(&n), 0);
	CHECK_INT(parse_net("198.51.100.128/25", &n, why), 0);
	CHECK_STR(ipv4_format(ipv4_net_first_host(&n), a), "198.51.100.129");
	CHECK_STR(ipv4_format(ipv4_net_last_host(&n), a), "198.51.100.254");
	CHECK(ipv4_net_contains(&n, 0xc6336480));
	CHECK(!ipv4_net_contains(&n, 0xc633647f));
	/* overlap both ways, and neighbours that do not */
	CHECK_INT(parse_net("198.51.100.0/24", &m, why), 0);
	CHECK(ipv4_net_overlaps(&n, &m));
	CHECK(ipv4_net_overlaps(&m, &n));
	CHECK_INT(parse_net("198.51.100.0/25", &m, why), 0);
	CHECK(!ipv4_net_overlaps(&n, &m));
	CHECK(!ipv4_net_overlaps(&m, &n));
	CHECK(ipv4_net_overlaps(&n, &n));
	/* a /31 and /32 have no host addresses */
	CHECK_INT(parse_net("203.0.113.0/31", &m, why), 0);
	CHECK(ipv4_net_first_host(&m) > ipv4_net_last_host(&m));
}

static void test_mac(void)
{
	static const char *const bad[] = {
		"", "fa:16:3e:00:00", "fa:16:3e:00:00:0g", "fa-16-3e-00-00-00",
		"fa:16:3e:00:00:000", "fa16:3e:00:00:00:0", NULL,
	};
	uint8_t m[6];
	char buf[MAC_STR_LEN];
	int i;

	CHECK_INT(mac_parse("FA:16:3E:0a:0B:ff", 17, m), 0);
	CHECK_STR(mac_format(m, buf), "fa:16:3e:0a:0b:ff");
	CHECK(mac_is_local_unicast(m));
	m[0] = 0x52;
	CHECK(mac_is_local_unicast(m));
	m[0] = 0x00;
	CHECK(!mac_is_local_unicast(m)); /* a vendor's */
	m[0] = 0x03;
	CHECK(!mac_is_local_unicast(m)); /* multicast */
	for (i = 0; bad[i]; i++)
		CHECK_MSG(mac_parse(bad[i], strlen(bad[i]), m) == -EINVAL,
			  "\"%s\" is refused", bad[i]);
}

int main(void)
{
	test_ipv4();
	test_cidr();
	test_mac();
	return test_done();
}
