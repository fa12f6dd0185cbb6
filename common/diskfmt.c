/*
 * diskfmt.c - disk image formats from content (see diskfmt.h).
 *
 * The qcow2 header (QEMU's docs/interop/qcow2.txt), big-endian:
 *   0 magic, 4 version, 8 backing_file_offset, 16 backing_file_size,
 *   20 cluster_bits, 24 size (virtual), ... 72 incompatible_features
 *   (version 3), 100 header_length (version 3).
 */
#include "diskfmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define QCOW2_V2_HEADER 72
#define QCOW2_V3_HEADER 104
#define ISO_MAGIC_OFF 32769
/* incompatible_features bits QEMU knows: dirty, corrupt, external data
 * file, compression type, extended L2 entries. */
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_KNOWN 0x1fULL

const char *const diskfmt_names[] = {
	[DISKFMT_RAW] = "raw",
	[DISKFMT_QCOW2] = "qcow2",
	[DISKFMT_ISO] = "iso",
	[DISKFMT_AKI] = "aki",
	[DISKFMT_ARI] = "ari",
	[DISKFMT_AMI] = "ami",
	[DISKFMT_COUNT] = NULL,
};

int diskfmt_parse(const char *s, size_t len)
{
	int f;

	for (f = 0; f < DISKFMT_COUNT; f++)
		if (strlen(diskfmt_names[f]) == len && memcmp(diskfmt_names[f], s, len) == 0)
			return f;
	return -EINVAL;
}

static uint64_t be(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static int refuse(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -EINVAL;
}

static int qcow2(const unsigned char *h, size_t len, struct diskfmt_info *info,
		 char *why, size_t whylen)
{
	uint64_t version, cluster_bits, incompat;

	if (len < QCOW2_V2_HEADER)
		return refuse(why, whylen, "qcow2 header cut short");
	version = be(h + 4, 4);
	if (version != 2 && version != 3) {
		snprintf(why, whylen, "qcow2 version %llu is not 2 or 3",
			 (unsigned long long)version);
		return -EINVAL;
	}
	if (version == 3 && len < QCOW2_V3_HEADER)
		return refuse(why, whylen, "qcow2 header cut short");
	if (be(h + 8, 8) || be(h + 16, 4))
		return refuse(why, whylen, "a qcow2 with a backing file is refused "
			      "(it would make the host open a file the image names)");
	cluster_bits = be(h + 20, 4);
	if (cluster_bits < 9 || cluster_bits > 21) {
		snprintf(why, whylen, "qcow2 cluster_bits %llu is not 9 to 21",
			 (unsigned long long)cluster_bits);
		return -EINVAL;
	}
	incompat = version == 3 ? be(h + 72, 8) : 0;
	if (incompat & QCOW2_INCOMPAT_DATA_FILE)
		return refuse(why, whylen, "a qcow2 with an external data file is "
			      "refused (it would make the host open a file the image names)");
	if (incompat & ~QCOW2_INCOMPAT_KNOWN) {
		snprintf(why, whylen, "qcow2 has unknown incompatible features 0x%llx",
			 (unsigned long long)(incompat & ~QCOW2_INCOMPAT_KNOWN));
		return -EINVAL;
	}
	info->format = DISKFMT_QCOW2;
	info->virtual_size = be(h + 24, 8);
	return 0;
}

int diskfmt_detect(const unsigned char *head, size_t len, uint64_t size,
		   struct diskfmt_info *info, char *why, size_t whylen)
{
	info->format = DISKFMT_RAW;
	info->virtual_size = size;
	if (len >= 4 && memcmp(head, "QFI\xfb", 4) == 0)
		return qcow2(head, len, info, why, whylen);
	if (len >= ISO_MAGIC_OFF + 5 && memcmp(head + ISO_MAGIC_OFF, "CD001", 5) == 0)
		info->format = DISKFMT_ISO;
	return 0;
}

int diskfmt_match(enum diskfmt want, const struct diskfmt_info *got,
		  char *why, size_t whylen)
{
	enum diskfmt as = want;

	/* A kernel, a ramdisk, a machine image: raw bytes by another name. */
	if (want == DISKFMT_AKI || want == DISKFMT_ARI || want == DISKFMT_AMI)
		as = DISKFMT_RAW;
	if (as == got->format)
		return 0;
	snprintf(why, whylen, "the content is %s, not %s",
		 diskfmt_names[got->format], diskfmt_names[want]);
	return -EINVAL;
}
