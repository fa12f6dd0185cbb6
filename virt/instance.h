/*
 * instance.h - the instance a compute host is asked to run.
 *
 * A compute host never reads the database: the instance object in each
 * request (docs/rpc.md) carries everything it needs, and the bus has
 * checked it against its declaration (rpc/methods_compute.c: a UUID, names
 * of at most 63 bytes, vCPUs, memory and disk within RPC_MAX_*) before any
 * handler sees it.  This module turns that JSON into a C struct once, so
 * that the driver and the XML builder work on plain values.
 */
#ifndef NOVAFS_VIRT_INSTANCE_H
#define NOVAFS_VIRT_INSTANCE_H

#include <jansson.h>

#include "common/uuid.h"

#define INSTANCE_NAME_MAX 64   /* an RPC_T_NAME and its NUL */
/* Libvirt domains of novafs instances are named this plus the uuid. */
#define INSTANCE_DOMAIN_PREFIX "instance-"

struct virt_instance {
	char uuid[UUID_STR_LEN];          /* canonical, lower case */
	char name[INSTANCE_NAME_MAX];
	char flavor[INSTANCE_NAME_MAX];
	unsigned vcpus;
	unsigned long long memory_mb;
	unsigned long long disk_gb;
};

/* The uuid of an instance object that passed its declaration, lower-cased
 * (libvirt and the reports use that form), into uuid. */
void instance_uuid(json_t *obj, char uuid[UUID_STR_LEN]);

/* Fills inst from an instance object that passed its declaration
 * (compute_start_instance's "instance"). */
void instance_from_json(json_t *obj, struct virt_instance *inst);

#endif
