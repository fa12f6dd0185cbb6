/*
 * test_spec.c - spec.h: the one-file spec's syntax, every refusal naming
 * its line, and the canonical form.
 */
#include <errno.h>
#include <string.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "spec.h"
#include "testhelp.h"

static int parse(const char *text, struct spec *s, struct rpc_error *e)
{
	memset(e, 0, sizeof(*e));
	return spec_parse(text, strlen(text), s, e);
}

static void test_good(void)
{
	struct spec s;
	struct rpc_error e;
	struct strbuf sb = STRBUF_INIT;

	CHECK_INT(parse("# web tier\n\nflavor = m1.small\n  network=lab   default  \r\n"
			"target_state = active", &s, &e), 0);
	CHECK(s.set[SPEC_FLAVOR] && s.set[SPEC_NETWORK] && s.set[SPEC_TARGET_STATE]);
	CHECK(!s.set[SPEC_GROUP] && !s.set[SPEC_HOST]);
	CHECK_STR(s.value[SPEC_FLAVOR], "m1.small");
	CHECK_STR(s.value[SPEC_NETWORK], "lab   default");
	CHECK_STR(s.value[SPEC_TARGET_STATE], "active");
	CHECK_INT(s.line[SPEC_FLAVOR], 3);
	CHECK_INT(s.line[SPEC_TARGET_STATE], 5);
	spec_format(&s, &sb);
	CHECK_STR(sb.buf, "flavor = m1.small\nnetwork = lab   default\ntarget_state = active\n");
	strbuf_release(&sb);
	/* "network =": no NIC, which is not the same as no key */
	CHECK_INT(parse("network =\n", &s, &e), 0);
	CHECK(s.set[SPEC_NETWORK]);
	CHECK_STR(s.value[SPEC_NETWORK], "");
	spec_format(&s, &sb);
	CHECK_STR(sb.buf, "network =\n");
	strbuf_release(&sb);
	CHECK_INT(parse("", &s, &e), 0);
	CHECK(!s.set[SPEC_FLAVOR]);
	CHECK_INT(parse("host = a=b\n", &s, &e), 0); /* the first = splits */
	CHECK_STR(s.value[SPEC_HOST], "a=b");
}

static void test_bad(void)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "flavor m1.small\n", "spec line 1: not KEY = VALUE" },
		{ "\n\nflavour = m1.small\n",
		  "spec line 3: unknown key \"flavour\" (keys: flavor, image, network, group, host, target_state)" },
		{ "flavor = a\ngroup = g\nflavor = b\n", "spec line 3: flavor given twice (first on line 1)" },
		{ "= x\n", "spec line 1: unknown key \"\" (keys: flavor, image, network, group, host, target_state)" },
		{ "FLAVOR = x\n", "spec line 1: unknown key \"FLAVOR\" (keys: flavor, image, network, group, host, target_state)" },
	};
	struct spec s;
	struct rpc_error e;
	char big[SPEC_MAX + 2], nul[] = "flavor = a\nhost = b\0c\n";
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(parse(bad[i].text, &s, &e), -EINVAL);
		CHECK_STR(e.message, bad[i].why);
		CHECK_STR(e.cls, "InvalidInput");
	}
	memset(&e, 0, sizeof(e));
	CHECK_INT(spec_parse(nul, sizeof(nul) - 1, &s, &e), -EINVAL);
	CHECK_STR(e.message, "spec line 2: a NUL byte");
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(parse(big, &s, &e), -EINVAL);
	CHECK_STR(e.message, "spec: larger than 4096 bytes");
	memcpy(big, "network = ", 10);
	memset(big + 10, 'n', SPEC_VALUE_MAX + 1);
	big[10 + SPEC_VALUE_MAX + 1] = '\0';
	CHECK_INT(parse(big, &s, &e), -EINVAL);
	CHECK_STR(e.message, "spec line 1: the network is longer than 1023 bytes");
}

int main(void)
{
	test_good();
	test_bad();
	return test_done();
}
