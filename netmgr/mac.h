/*
 * mac.h - MAC addresses for NICs: OpenStack's prefix fa:16:3e and three
 * random bytes, so that a guest's NIC never clashes with a real card
 * (fa: is a locally administered unicast address) and is recognisable as
 * OpenStack's in any capture.
 *
 * The random bytes come from a netmgr_random_fn, getrandom(2) in the
 * daemon, a scripted sequence in the unit tests; uniqueness against what
 * is already handed out is the caller's predicate (the store asks its
 * database), so a collision draws again.
 */
#ifndef NOVAFS_NETMGR_MAC_H
#define NOVAFS_NETMGR_MAC_H

#include <stddef.h>
#include <stdint.h>

/* OpenStack's base_mac, "fa:16:3e:00:00:00". */
#define NETMGR_MAC_PREFIX0 0xfa
#define NETMGR_MAC_PREFIX1 0x16
#define NETMGR_MAC_PREFIX2 0x3e

/* How many draws before netmgr_mac_new() gives up: with 2^24 MACs, many
 * collisions in a row mean the space is nearly full, or the random source
 * is broken. */
#define NETMGR_MAC_TRIES 32

/* Fills buf with len random bytes; 0 or -errno. */
typedef int (*netmgr_random_fn)(void *ctx, void *buf, size_t len);
/* Whether mac is handed out already: 1, 0 or -errno. */
typedef int (*netmgr_mac_used_fn)(void *ctx, const uint8_t mac[6]);

/* getrandom(2), blocking until the kernel's pool is ready; ctx unused. */
int netmgr_getrandom(void *ctx, void *buf, size_t len);

/*
 * A new MAC into out: the prefix and three bytes from rnd, drawn again
 * while used says the MAC is taken.  Returns 0; rnd's or used's -errno;
 * or -EADDRINUSE after NETMGR_MAC_TRIES draws that were all taken.
 */
int netmgr_mac_new(netmgr_random_fn rnd, void *rnd_ctx, netmgr_mac_used_fn used,
		   void *used_ctx, uint8_t out[6]);

#endif
