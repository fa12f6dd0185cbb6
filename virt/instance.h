/*
 * instance.h - the instance a compute host is asked to run, and the states
 * it reports back.
 *
 * A compute host never reads the database: the instance object in each
 * message (docs/rpc.md) carries everything it needs.  This module turns
 * that JSON into a checked C struct once, so that the driver and the XML
 * builder never see unvalidated input, and names the states of Nova's
 * vocabulary that novafs reports.
 */
#ifndef NOVAFS_VIRT_INSTANCE_H
#define NOVAFS_VIRT_INSTANCE_H

#include <jansson.h>

#include "uuid.h"

struct rpc_error;

#define INSTANCE_NAME_MAX 256
#define INSTANCE_FLAVOR_MAX 128
/* Libvirt domains of novafs instances are named this plus the uuid. */
#define INSTANCE_DOMAIN_PREFIX "instance-"

struct virt_instance {
	char uuid[UUID_STR_LEN];          /* canonical, lower case */
	char name[INSTANCE_NAME_MAX];
	char flavor[INSTANCE_FLAVOR_MAX];
	unsigned vcpus;                   /* >= 1 */
	unsigned long long memory_mb;     /* >= 1 */
	unsigned long long disk_gb;
};

/* Nova's power_state, as libvirt reports it. */
enum virt_power_state {
	VIRT_POWER_NOSTATE,
	VIRT_POWER_RUNNING,
	VIRT_POWER_SHUTDOWN,
	VIRT_POWER_CRASHED,
};

/* "nostate", "running", "shutdown", "crashed". */
const char *virt_power_state_name(enum virt_power_state s);

/* True when s is a UUID in canonical form (36 characters, dashes at 8,
 * 13, 18 and 23, hex digits elsewhere). */
int instance_uuid_valid(const char *s);

/* Reads the uuid of an instance object, lower-cased, into uuid (which
 * stays "" on failure).  Returns 0 or -EINVAL with e. */
int instance_uuid_from_json(json_t *obj, char uuid[UUID_STR_LEN],
			    struct rpc_error *e);

/*
 * Fills inst from an instance object ({"uuid", "name", "flavor", "vcpus",
 * "memory_mb", "disk_gb"}).  The uuid is required and lower-cased; name
 * and flavor default to ""; vcpus and memory_mb must be positive integers,
 * disk_gb a non-negative one (default 0).  Returns 0 or -EINVAL with e
 * ("InvalidInput").
 */
int instance_from_json(json_t *obj, struct virt_instance *inst,
		       struct rpc_error *e);

#endif
