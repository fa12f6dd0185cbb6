/*
 * uuid.c - version 4 UUIDs for instance ids and oslo.messaging's _msg_id,
 * _unique_id and queue names.
 *
 * getrandom(2) blocks only until the kernel's pool is first initialised,
 * long before any novafs service starts; an id that repeats would mix up
 * replies, so a failure aborts rather than returning weak bytes.
 */
#include "common/uuid.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

static void uuid_random(uint8_t b[16])
{
	size_t got = 0;
	ssize_t n;

	while (got < 16) {
		n = getrandom(b + got, 16 - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("getrandom");
			abort();
		}
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void uuid_generate_str(char out[UUID_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	int i, o = 0;

	uuid_random(b);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
}

void uuid_generate_hex(char out[UUID_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	int i;

	uuid_random(b);
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0xf];
	}
	out[32] = '\0';
}
