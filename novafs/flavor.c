/*
 * flavor.c - the flavor kind (see flavor.h).
 */
#include "flavor.h"

#include <stdio.h>
#include <string.h>

#include "node.h"
#include "obj.h"
#include "store.h"

static const struct field fields[] = {
	[FLAVOR_VCPUS] = { "vcpus", FIELD_INT, 0, NULL, 1 },
	[FLAVOR_MEMORY_MB] = { "memory_mb", FIELD_INT, 0, NULL, 512 },
	[FLAVOR_DISK_GB] = { "disk_gb", FIELD_INT, 0, NULL, 1 },
};

#define SHOW_INT(fn, f) \
	static void fn(const struct obj *o, struct strbuf *out) \
	{ \
		strbuf_addf(out, "%lld\n", (long long)obj_int(o, f)); \
	}
SHOW_INT(show_vcpus, FLAVOR_VCPUS)
SHOW_INT(show_memory_mb, FLAVOR_MEMORY_MB)
SHOW_INT(show_disk_gb, FLAVOR_DISK_GB)

static const struct node nodes[] = {
	{ "vcpus", NODE_ATTR, 0444, NULL, 1u << FLAVOR_VCPUS, show_vcpus },
	{ "memory_mb", NODE_ATTR, 0444, NULL, 1u << FLAVOR_MEMORY_MB, show_memory_mb },
	{ "disk_gb", NODE_ATTR, 0444, NULL, 1u << FLAVOR_DISK_GB, show_disk_gb },
};

struct obj *flavor_find(const char *name)
{
	return coll_find(obj_top_coll(&flavor_kind), name);
}

/* Nova's classic flavors. */
static const struct {
	const char *name;
	int vcpus, memory_mb, disk_gb;
} standard[] = {
	{ "m1.tiny", 1, 512, 1 },
	{ "m1.small", 1, 2048, 20 },
	{ "m1.medium", 2, 4096, 40 },
	{ "m1.large", 4, 8192, 80 },
};

/* A new database's flavors. */
static int flavor_seed(struct txn *t, struct coll *c)
{
	struct obj *o;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < sizeof(standard) / sizeof(standard[0]); i++) {
		rc = txn_create(t, c, standard[i].name, 0, 0, &o);
		if (rc == 0)
			rc = txn_set_int(t, o, FLAVOR_VCPUS, standard[i].vcpus);
		if (rc == 0)
			rc = txn_set_int(t, o, FLAVOR_MEMORY_MB, standard[i].memory_mb);
		if (rc == 0)
			rc = txn_set_int(t, o, FLAVOR_DISK_GB, standard[i].disk_gb);
	}
	return rc;
}

const struct kind flavor_kind = {
	.name = "flavor",
	.table = "flavors",
	.collection = "flavors",
	.collection_mode = 0555,
	.mode = S_IFDIR | 0555,
	.fields = fields,
	.nfields = FLAVOR_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.seed = flavor_seed,
};
