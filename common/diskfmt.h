/*
 * diskfmt.h - what a disk image's bytes are, from their first 32 KiB:
 * the formats Glance names (raw, qcow2, iso, aki, ari, ami), told apart
 * by content where content can tell them, and the qcow2 features that
 * make an image unsafe to hand to QEMU.
 *
 * qcow2 is its header's magic "QFI\xfb" (its virtual size at offset 24,
 * big-endian); iso is an ISO 9660 volume descriptor's "CD001" at offset
 * 32769; anything else is raw.  aki, ari and ami (a kernel, a ramdisk, a
 * machine image) are raw bytes that only a written disk_format can name.
 * A qcow2 that names a backing file or an external data file is refused,
 * as Nova's format inspector refuses it (CVE-2024-32498): QEMU would open
 * a file of the host's that the image's author chose.
 */
#ifndef NOVAFS_COMMON_DISKFMT_H
#define NOVAFS_COMMON_DISKFMT_H

#include <stddef.h>
#include <stdint.h>

enum diskfmt {
	DISKFMT_RAW,
	DISKFMT_QCOW2,
	DISKFMT_ISO,
	DISKFMT_AKI,
	DISKFMT_ARI,
	DISKFMT_AMI,
	DISKFMT_COUNT
};

/* The formats' names, indexed by enum diskfmt, NULL-terminated (the
 * order of rpc_disk_formats). */
extern const char *const diskfmt_names[];

/* How many leading bytes detection looks at: up to the end of "CD001". */
#define DISKFMT_PROBE_LEN 32774

struct diskfmt_info {
	enum diskfmt format;     /* raw, qcow2 or iso: what content says */
	uint64_t virtual_size;   /* a qcow2's, else the file's size */
};

/* The format named by the len bytes at s (no blanks), or -EINVAL. */
int diskfmt_parse(const char *s, size_t len);

/*
 * Detects the format of a file of size bytes whose first len bytes
 * (min(size, DISKFMT_PROBE_LEN)) are head.  Returns 0 with *info, or
 * -EINVAL with a readable reason in why (whylen bytes) for a qcow2 that
 * is unsafe or unusable: a backing file, an external data file, features
 * or a version QEMU may read differently, a header cut short.
 */
int diskfmt_detect(const unsigned char *head, size_t len, uint64_t size,
		   struct diskfmt_info *info, char *why, size_t whylen);

/* 0 when content detected as got may be stored under the written format
 * want, else -EINVAL with why ("the content is qcow2, not raw"). */
int diskfmt_match(enum diskfmt want, const struct diskfmt_info *got,
		  char *why, size_t whylen);

#endif
