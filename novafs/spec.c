/*
 * spec.c - the spec file's syntax; see spec.h.
 */
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"

const char *const spec_keys[SPEC_NKEYS] = {
	[SPEC_FLAVOR] = "flavor",
	[SPEC_IMAGE] = "image",
	[SPEC_NETWORK] = "network",
	[SPEC_GROUP] = "group",
	[SPEC_HOST] = "host",
	[SPEC_TARGET_STATE] = "target_state",
};

/* The key called name (len bytes), or SPEC_NKEYS. */
static enum spec_key key_named(const char *name, size_t len)
{
	unsigned k;

	for (k = 0; k < SPEC_NKEYS; k++)
		if (strlen(spec_keys[k]) == len && memcmp(spec_keys[k], name, len) == 0)
			break;
	return (enum spec_key)k;
}

/* One line (without its newline) of number n into out. */
static int parse_line(const char *line, size_t len, unsigned n,
		      struct spec *out, struct rpc_error *e)
{
	const char *eq, *value;
	size_t klen, vlen;
	enum spec_key k;

	text_trim(&line, &len);
	if (!len || line[0] == '#')
		return 0;
	eq = memchr(line, '=', len);
	if (!eq)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "spec line %u: not KEY = VALUE", n);
	klen = (size_t)(eq - line);
	text_trim(&line, &klen);
	value = eq + 1;
	vlen = len - (size_t)(value - line);
	text_trim(&value, &vlen);
	k = key_named(line, klen);
	if (k == SPEC_NKEYS)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "spec line %u: unknown key \"%.*s\" (keys: flavor, image, "
				     "network, group, host, target_state)", n,
				     (int)(klen > 32 ? 32 : klen), line);
	if (out->set[k])
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "spec line %u: %s given twice (first on line %u)",
				     n, spec_keys[k], out->line[k]);
	if (vlen > SPEC_VALUE_MAX)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "spec line %u: the %s is longer than %d bytes",
				     n, spec_keys[k], SPEC_VALUE_MAX);
	out->set[k] = true;
	out->line[k] = n;
	memcpy(out->value[k], value, vlen);
	out->value[k][vlen] = '\0';
	return 0;
}

int spec_parse(const char *text, size_t len, struct spec *out,
	       struct rpc_error *e)
{
	const char *end = text + len, *line, *nl;
	unsigned n = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > SPEC_MAX)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "spec: larger than %d bytes", SPEC_MAX);
	for (line = text; rc == 0 && line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		n++;
		if (memchr(line, '\0', (size_t)(nl - line)))
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "spec line %u: a NUL byte", n);
		rc = parse_line(line, (size_t)(nl - line), n, out, e);
	}
	return rc;
}

void spec_format(const struct spec *s, struct strbuf *out)
{
	unsigned k;

	for (k = 0; k < SPEC_NKEYS; k++)
		if (s->set[k])
			strbuf_addf(out, "%s =%s%s\n", spec_keys[k],
				    s->value[k][0] ? " " : "", s->value[k]);
}
