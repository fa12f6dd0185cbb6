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
#include "instance.h"
#include "obj.h"
#include "service.h"

const struct kind *const novafs_kinds[] = {
	&flavor_kind,
	&group_kind,
	&host_kind,
	&service_kind,
	&instance_kind,
	&action_record_kind,
	NULL,
};
