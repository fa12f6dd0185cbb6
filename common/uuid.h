/*
 * uuid.h - random (version 4) UUIDs from getrandom(2).
 */
#ifndef NOVAFS_COMMON_UUID_H
#define NOVAFS_COMMON_UUID_H

#define UUID_STR_LEN 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define UUID_HEX_LEN 33 /* 32 hex digits + NUL, oslo.messaging's _msg_id form */

/* Writes a canonical, dashed UUID into out. */
void uuid_generate_str(char out[UUID_STR_LEN]);
/* Writes 32 lower-case hex digits, no dashes, as oslo.messaging's uuid4().hex. */
void uuid_generate_hex(char out[UUID_HEX_LEN]);

#endif
