/*
 * netaddr.c - IPv4, CIDR and MAC parsing and printing; see netaddr.h.
 */
#include "netaddr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Parses a decimal number of 1 to 3 digits, no leading zero, at most max,
 * from s[*i]; advances *i.  0 or -EINVAL. */
static int parse_dec(const char *s, size_t len, size_t *i, unsigned max,
		     unsigned *out)
{
	size_t start = *i;
	unsigned v = 0;

	while (*i < len && *i - start < 3 && s[*i] >= '0' && s[*i] <= '9')
		v = v * 10 + (unsigned)(s[(*i)++] - '0');
	if (*i == start || (*i - start > 1 && s[start] == '0') || v > max ||
	    (*i < len && s[*i] >= '0' && s[*i] <= '9'))
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parses a dotted quad at the start of s, up to *i. */
static int parse_quad(const char *s, size_t len, size_t *i, uint32_t *out)
{
	uint32_t a = 0;
	unsigned part, k;

	for (k = 0; k < 4; k++) {
		if (k && (*i >= len || s[(*i)++] != '.'))
			return -EINVAL;
		if (parse_dec(s, len, i, 255, &part) < 0)
			return -EINVAL;
		a = a << 8 | part;
	}
	*out = a;
	return 0;
}

int ipv4_parse(const char *s, size_t len, uint32_t *out)
{
	size_t i = 0;

	if (parse_quad(s, len, &i, out) < 0 || i != len)
		return -EINVAL;
	return 0;
}

char *ipv4_format(uint32_t a, char out[IPV4_STR_LEN])
{
	snprintf(out, IPV4_STR_LEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
	return out;
}

static uint32_t mask_of(unsigned prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

int ipv4_net_parse(const char *s, size_t len, struct ipv4_net *out,
		   char *why, size_t why_len)
{
	struct ipv4_net n;
	char net[CIDR_STR_LEN];
	size_t i = 0;
	uint32_t a;

	if (parse_quad(s, len, &i, &a) < 0 || i >= len || s[i++] != '/' ||
	    parse_dec(s, len, &i, 32, &n.prefix) < 0 || i != len) {
		snprintf(why, why_len, "not ADDRESS/PREFIX (192.0.2.0/24)");
		return -EINVAL;
	}
	n.addr = a & mask_of(n.prefix);
	if (n.addr != a) {
		snprintf(why, why_len, "%.*s has host bits set: the network is %s",
			 (int)len, s, ipv4_net_format(&n, net));
		return -EINVAL;
	}
	*out = n;
	return 0;
}

char *ipv4_net_format(const struct ipv4_net *n, char out[CIDR_STR_LEN])
{
	char a[IPV4_STR_LEN];

	snprintf(out, CIDR_STR_LEN, "%s/%u", ipv4_format(n->addr, a), n->prefix);
	return out;
}

uint32_t ipv4_net_mask(const struct ipv4_net *n)
{
	return mask_of(n->prefix);
}

uint32_t ipv4_net_last(const struct ipv4_net *n)
{
	return n->addr | ~mask_of(n->prefix);
}

uint32_t ipv4_net_first_host(const struct ipv4_net *n)
{
	return n->prefix >= 31 ? ipv4_net_last(n) : n->addr + 1;
}

uint32_t ipv4_net_last_host(const struct ipv4_net *n)
{
	return n->prefix >= 31 ? n->addr : ipv4_net_last(n) - 1;
}

bool ipv4_net_contains(const struct ipv4_net *n, uint32_t a)
{
	return (a & mask_of(n->prefix)) == n->addr;
}

bool ipv4_net_overlaps(const struct ipv4_net *a, const struct ipv4_net *b)
{
	/* Two prefixes overlap when the shorter contains the other. */
	return a->prefix <= b->prefix ? ipv4_net_contains(a, b->addr) :
					ipv4_net_contains(b, a->addr);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, size_t len, uint8_t out[6])
{
	int hi, lo, k;

	if (len != MAC_STR_LEN - 1)
		return -EINVAL;
	for (k = 0; k < 6; k++) {
		hi = hex_digit(s[3 * k]);
		lo = hex_digit(s[3 * k + 1]);
		if (hi < 0 || lo < 0 || (k < 5 && s[3 * k + 2] != ':'))
			return -EINVAL;
		out[k] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *mac_format(const uint8_t m[6], char out[MAC_STR_LEN])
{
	snprintf(out, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	return out;
}

bool mac_is_local_unicast(const uint8_t m[6])
{
	return (m[0] & 0x02) && !(m[0] & 0x01);
}
