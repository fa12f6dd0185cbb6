/*
 * mac.c - random MACs under OpenStack's prefix; see mac.h.
 */
#include "mac.h"

#include <errno.h>
#include <sys/random.h>

int netmgr_getrandom(void *ctx, void *buf, size_t len)
{
	ssize_t n;

	do
		n = getrandom(buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Requests of at most 256 bytes are never short once the pool is
	 * ready. */
	return (size_t)n == len ? 0 : -EIO;
}

int netmgr_mac_new(netmgr_random_fn rnd, void *rnd_ctx, netmgr_mac_used_fn used,
		   void *used_ctx, uint8_t out[6])
{
	int tries, rc;

	out[0] = NETMGR_MAC_PREFIX0;
	out[1] = NETMGR_MAC_PREFIX1;
	out[2] = NETMGR_MAC_PREFIX2;
	for (tries = 0; tries < NETMGR_MAC_TRIES; tries++) {
		rc = rnd(rnd_ctx, out + 3, 3);
		if (rc == 0)
			rc = used(used_ctx, out);
		if (rc <= 0)
			return rc;
	}
	return -EADDRINUSE;
}
