/*
 * test_diskfmt.c - diskfmt.h: formats told from content (qcow2 by its
 * magic and virtual size, iso by "CD001" at 32769, raw otherwise), the
 * qcow2s refused (backing file, external data file, unknown features,
 * other versions, cut headers), and written formats against content.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diskfmt.h"
#include "testhelp.h"

static unsigned char head[DISKFMT_PROBE_LEN];

static void put_be(unsigned char *p, unsigned n, unsigned long long v)
{
	while (n--) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

/* A qcow2 header of version v, virtual size 1 GiB, with the backing
 * file offset and incompatible features given. */
static void qcow2(unsigned v, unsigned long long backing, unsigned long long incompat)
{
	memset(head, 0, sizeof(head));
	memcpy(head, "QFI\xfb", 4);
	put_be(head + 4, 4, v);
	put_be(head + 8, 8, backing);
	put_be(head + 20, 4, 16);
	put_be(head + 24, 8, 1ULL << 30);
	put_be(head + 72, 8, incompat);
	put_be(head + 100, 4, 104);
}

static void test_detect(void)
{
	static const struct {
		const char *what;
		unsigned version;
		unsigned long long backing, incompat;
		size_t len;
		int rc;
		const char *why;
	} cases[] = {
		{ "v3", 3, 0, 0, sizeof(head), 0, "" },
		{ "v2", 2, 0, 0, 72, 0, "" },
		{ "dirty v3 (QEMU repairs it)", 3, 0, 1, sizeof(head), 0, "" },
		{ "backing file", 3, 512, 0, sizeof(head), -EINVAL,
		  "a qcow2 with a backing file is refused" },
		{ "external data file", 3, 0, 4, sizeof(head), -EINVAL,
		  "a qcow2 with an external data file is refused" },
		{ "unknown feature", 3, 0, 1ULL << 40, sizeof(head), -EINVAL,
		  "qcow2 has unknown incompatible features 0x10000000000" },
		{ "version 4", 4, 0, 0, sizeof(head), -EINVAL, "qcow2 version 4 is not 2 or 3" },
		{ "v3 header cut short", 3, 0, 0, 80, -EINVAL, "qcow2 header cut short" },
		{ "v2 header cut short", 2, 0, 0, 40, -EINVAL, "qcow2 header cut short" },
	};
	struct diskfmt_info info;
	char why[256];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qcow2(cases[i].version, cases[i].backing, cases[i].incompat);
		why[0] = '\0';
		rc = diskfmt_detect(head, cases[i].len, 5000000, &info, why, sizeof(why));
		CHECK_MSG(rc == cases[i].rc && strncmp(why, cases[i].why, strlen(cases[i].why)) == 0,
			  "qcow2 %s: %d \"%s\"", cases[i].what, rc, why);
		if (rc == 0)
			CHECK_MSG(info.format == DISKFMT_QCOW2 && info.virtual_size == 1ULL << 30,
				  "qcow2 %s: its virtual size is the header's", cases[i].what);
	}
	memset(head, 0, sizeof(head));
	CHECK_INT(diskfmt_detect(head, sizeof(head), 123456, &info, why, sizeof(why)), 0);
	CHECK_INT(info.format, DISKFMT_RAW);
	CHECK_INT((long long)info.virtual_size, 123456);
	CHECK_INT(diskfmt_detect(head, 3, 3, &info, why, sizeof(why)), 0);
	CHECK_INT(info.format, DISKFMT_RAW);
	memcpy(head + 32769, "CD001", 5);
	CHECK_INT(diskfmt_detect(head, sizeof(head), 1 << 20, &info, why, sizeof(why)), 0);
	CHECK_INT(info.format, DISKFMT_ISO);
	CHECK_INT(diskfmt_detect(head, sizeof(head) - 1, sizeof(head) - 1, &info, why,
				 sizeof(why)), 0);
	CHECK_MSG(info.format == DISKFMT_RAW, "a signature cut short is raw");
}

static void test_parse_match(void)
{
	struct diskfmt_info raw = { DISKFMT_RAW, 1 }, q = { DISKFMT_QCOW2, 1 },
			    iso = { DISKFMT_ISO, 1 };
	char why[128];
	int f;

	for (f = 0; f < DISKFMT_COUNT; f++)
		CHECK_INT(diskfmt_parse(diskfmt_names[f], strlen(diskfmt_names[f])), f);
	CHECK_INT(diskfmt_parse("vmdk", 4), -EINVAL);
	CHECK_INT(diskfmt_parse("qcow", 4), -EINVAL);
	CHECK_INT(diskfmt_parse("qcow2x", 5), DISKFMT_QCOW2); /* len bounds it */
	CHECK_INT(diskfmt_match(DISKFMT_RAW, &raw, why, sizeof(why)), 0);
	CHECK_INT(diskfmt_match(DISKFMT_QCOW2, &q, why, sizeof(why)), 0);
	CHECK_INT(diskfmt_match(DISKFMT_ISO, &iso, why, sizeof(why)), 0);
	for (f = DISKFMT_AKI; f <= DISKFMT_AMI; f++) {
		CHECK_INT(diskfmt_match((enum diskfmt)f, &raw, why, sizeof(why)), 0);
		CHECK_INT(diskfmt_match((enum diskfmt)f, &q, why, sizeof(why)), -EINVAL);
		CHECK_INT(diskfmt_match((enum diskfmt)f, &iso, why, sizeof(why)), -EINVAL);
	}
	CHECK_INT(diskfmt_match(DISKFMT_RAW, &q, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "the content is qcow2, not raw");
	CHECK_INT(diskfmt_match(DISKFMT_QCOW2, &raw, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "the content is raw, not qcow2");
	CHECK_INT(diskfmt_match(DISKFMT_RAW, &iso, why, sizeof(why)), -EINVAL);
}

int main(void)
{
	test_detect();
	test_parse_match();
	return test_done();
}
