/*
 * netaddr.h - IPv4 addresses, IPv4 networks in CIDR notation and MAC
 * addresses: parsed strictly, printed canonically.  Shared by novafs
 * (validating what users write), novafs-network (allocating) and
 * novafs-compute (libvirt network definitions), so that the three agree
 * on what an address is.
 *
 * Addresses are held in host byte order, so that ranges are plain integer
 * ranges.  Parsers take (s, len) and accept exactly the canonical form:
 * four decimal parts 0..255 without leading zeros or blanks ("192.0.2.1"),
 * "ADDRESS/PREFIX" with no host bits set, six colon-separated hex pairs.
 */
#ifndef NOVAFS_COMMON_NETADDR_H
#define NOVAFS_COMMON_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_STR_LEN 16   /* "255.255.255.255" + NUL */
#define CIDR_STR_LEN 19   /* "255.255.255.255/32" + NUL */
#define MAC_STR_LEN 18    /* "fa:16:3e:00:00:00" + NUL */

struct ipv4_net {
	uint32_t addr;     /* the network address: no host bits set */
	unsigned prefix;   /* 0..32 */
};

/* 0, or -EINVAL when s is not a canonical dotted quad. */
int ipv4_parse(const char *s, size_t len, uint32_t *out);
/* Writes a in dotted-quad form; returns out. */
char *ipv4_format(uint32_t a, char out[IPV4_STR_LEN]);

/*
 * Parses "ADDRESS/PREFIX".  0, or -EINVAL with the reason in why
 * ("not ADDRESS/PREFIX", "192.0.2.5/24 has host bits set: the network is
 * 192.0.2.0/24").  The prefix may be 0..32: bounds are the caller's.
 */
int ipv4_net_parse(const char *s, size_t len, struct ipv4_net *out,
		   char *why, size_t why_len);
char *ipv4_net_format(const struct ipv4_net *n, char out[CIDR_STR_LEN]);

uint32_t ipv4_net_mask(const struct ipv4_net *n);
/* The network's broadcast address (its last). */
uint32_t ipv4_net_last(const struct ipv4_net *n);
/* The first and last address a host may have: the network and broadcast
 * addresses excluded (a /31 or /32 has none: first > last). */
uint32_t ipv4_net_first_host(const struct ipv4_net *n);
uint32_t ipv4_net_last_host(const struct ipv4_net *n);
bool ipv4_net_contains(const struct ipv4_net *n, uint32_t a);
bool ipv4_net_overlaps(const struct ipv4_net *a, const struct ipv4_net *b);

/* 0, or -EINVAL when s is not six hex pairs separated by colons (either
 * case). */
int mac_parse(const char *s, size_t len, uint8_t out[6]);
/* Writes m as lower-case hex pairs; returns out. */
char *mac_format(const uint8_t m[6], char out[MAC_STR_LEN]);
/* Whether m is a unicast address with the locally administered bit set:
 * one that no vendor's card has. */
bool mac_is_local_unicast(const uint8_t m[6]);

#endif
