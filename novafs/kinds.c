/*
 * kinds.c - every kind of object novafs serves, one line each.
 *
 * A new kind is a file of its own (its fields, its directory's entries,
 * its handlers: see flavor.c for a small one) and a line here; the store
 * makes its table, the root directory lists its collection, and fs.c
 * serves it, without a change anywhere else.  Owners come before the
 * kinds nested in them, which is the order the store loads them in.
 */
#include "kinds.h"

#include <stddef.h>

#include "action_record.h"
#include "flavor.h"
#include "group.h"
#include "host.h"
#include "image.h"
#include "instance.h"
#include "network.h"
#include "obj.h"
#include "service.h"
#include "store.h"

const struct kind *const novafs_kinds[] = {
	&flavor_kind,
	&group_kind,
	&network_kind,
	&image_kind,
	&host_kind,
	&service_kind,
	&instance_kind,
	&action_record_kind,
	NULL,
};

static int seed_run(struct txn *t, void *ctx)
{
	const struct kind *const *k;
	struct coll *c;
	int rc = 0;

	for (k = novafs_kinds; *k && rc == 0; k++)
		if ((*k)->seed && (c = obj_top_coll(*k)) && !c->count)
			rc = (*k)->seed(t, c);
	return rc;
}

int kinds_seed(void)
{
	return store_run(seed_run, NULL);
}
