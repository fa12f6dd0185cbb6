/*
 * spec.h - instances/NAME/spec: every desired attribute of an instance in
 * one file, for config tools that want one resource per instance.
 *
 *     # comment lines and blank lines are ignored
 *     flavor = m1.small
 *     image = debian
 *     network = lab default
 *     group = web
 *     host = node2
 *     target_state = active
 *
 * One "KEY = VALUE" a line; blanks around "=" and at both ends of a line
 * are not part of it.  Each key at most once; an absent key means that
 * attribute's default (network: default; the others: none), and
 * "network =" with nothing means no NIC.  Network names are separated by
 * blanks, in NIC order.
 *
 * This module is the syntax alone: it knows no flavor or network.  The
 * instance kind checks the values as its single files do and applies the
 * whole spec, or nothing (instance.c).
 */
#ifndef NOVAFS_SPEC_H
#define NOVAFS_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct rpc_error;
struct strbuf;

enum spec_key {
	SPEC_FLAVOR,
	SPEC_IMAGE,
	SPEC_NETWORK,
	SPEC_GROUP,
	SPEC_HOST,
	SPEC_TARGET_STATE,
	SPEC_NKEYS
};

/* The longest value: every network name of an instance, blank-separated. */
#define SPEC_VALUE_MAX 1023
/* The largest spec file. */
#define SPEC_MAX 4096

/* The keys' names, as written, in this order. */
extern const char *const spec_keys[SPEC_NKEYS];

/* A parsed spec: for each key, whether it is there, on which line (from
 * 1), and its value (NUL-terminated, blanks around it gone). */
struct spec {
	bool set[SPEC_NKEYS];
	unsigned line[SPEC_NKEYS];
	char value[SPEC_NKEYS][SPEC_VALUE_MAX + 1];
};

/*
 * Parses len bytes of text into out.  Returns 0, or -EINVAL with e
 * (InvalidInput) naming the line: "spec line 3: unknown key \"flavour\"
 * (keys: flavor, image, network, group, host, target_state)", "spec line 2: not
 * KEY = VALUE", "spec line 4: flavor given twice (first on line 1)",
 * "spec line 1: a NUL byte", "spec: larger than 4096 bytes".
 */
int spec_parse(const char *text, size_t len, struct spec *out,
	       struct rpc_error *e);

/* Appends s as its canonical text: one "KEY = VALUE" line per key that
 * is set, in spec_keys order. */
void spec_format(const struct spec *s, struct strbuf *out);

#endif
