/*
 * instance.h - the instance a compute host is asked to run.
 *
 * A compute host never reads the database: the instance object in each
 * request (docs/rpc.md) carries everything it needs, and the bus has
 * checked it against its declaration (rpc/methods_compute.c: a UUID, names
 * of at most 63 bytes, vCPUs, memory and disk within RPC_MAX_*) before any
 * handler sees it.  This module turns that JSON into a C struct once, so
 * that the driver and the XML builders work on plain values.
 *
 * The bus checks only the shape of a NIC (strings of some length); what
 * its addresses mean is checked here, with common/netaddr.h, before
 * anything touches libvirt: a NIC whose gateway lies outside its network,
 * say, fails the request with InvalidInput and leaves the host as it was.
 * So is what an image means: its disk format as a disk (a kernel or a
 * ramdisk is not one), and absolute paths.  Whether the files are there
 * is the driver's to find out (disk.h), when it needs them.
 */
#ifndef NOVAFS_VIRT_INSTANCE_H
#define NOVAFS_VIRT_INSTANCE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/netaddr.h"
#include "common/uuid.h"
#include "rpc/methods.h"

struct rpc_error;

#define INSTANCE_NAME_MAX 64   /* an RPC_T_NAME and its NUL */
/* Libvirt domains of novafs instances are named this plus the uuid. */
#define INSTANCE_DOMAIN_PREFIX "instance-"
/* The libvirt network of a novafs network is named this plus its name. */
#define NIC_NETWORK_PREFIX "novafs-"
#define NIC_NETWORK_LEN (sizeof(NIC_NETWORK_PREFIX) - 1 + INSTANCE_NAME_MAX)
#define NIC_BRIDGE_LEN 16      /* IFNAMSIZ */
#define NIC_MAX_DNS 8

/* A NIC of an instance, with the network it is on as the host's libvirt
 * network is made from (network.h).  Addresses in host byte order. */
struct virt_nic {
	char network[NIC_NETWORK_LEN];    /* the libvirt network: "novafs-NAME" */
	char bridge[NIC_BRIDGE_LEN];
	struct ipv4_net cidr;             /* prefix at most 30 */
	uint32_t gateway;                 /* a host address of cidr */
	uint32_t dhcp_start, dhcp_end;    /* host addresses, start <= end */
	uint32_t dns[NIC_MAX_DNS];
	size_t ndns;
	uint32_t ip;                      /* in the DHCP range, not the gateway */
	uint8_t mac[6];                   /* locally administered unicast */
};

/* A path of the image store, as the contract bounds it, and its NUL. */
#define IMAGE_PATH_MAX 4096

/* What an instance's image is to the host: how its disk is made (disk.h)
 * and attached (domain_xml.h). */
enum image_kind {
	IMAGE_NONE,     /* no image: the instance boots diskless */
	IMAGE_RAW,      /* raw and ami: the backing file of a qcow2 overlay */
	IMAGE_QCOW2,    /* the backing file of a qcow2 overlay */
	IMAGE_ISO,      /* a CD-ROM, read-only; the disk, if any, is blank */
};

/* The image an instance boots from (the contract's "image"). */
struct virt_image {
	enum image_kind kind;
	char id[UUID_STR_LEN];
	char name[INSTANCE_NAME_MAX];
	char path[IMAGE_PATH_MAX];
	unsigned long long virtual_size;  /* bytes */
	char kernel[IMAGE_PATH_MAX];      /* "": no direct kernel boot */
	char kernel_id[UUID_STR_LEN];
	char ramdisk[IMAGE_PATH_MAX];     /* "": none; only with a kernel */
	char ramdisk_id[UUID_STR_LEN];
};

struct virt_instance {
	char uuid[UUID_STR_LEN];          /* canonical, lower case */
	char name[INSTANCE_NAME_MAX];
	char flavor[INSTANCE_NAME_MAX];
	unsigned vcpus;
	unsigned long long memory_mb;
	unsigned long long disk_gb;
	struct virt_nic nics[RPC_MAX_NICS];  /* in the request's order */
	size_t nnics;
	struct virt_image image;          /* kind IMAGE_NONE: none */
	/* Not the request's: the path of its disk volume (disk.h), which
	 * the driver sets (borrowed) on its own copy before it builds the
	 * domain (domain_xml.h); NULL: no disk. */
	const char *disk;
};

/* The uuid of an instance object that passed its declaration, lower-cased
 * (libvirt and the reports use that form), into uuid. */
void instance_uuid(json_t *obj, char uuid[UUID_STR_LEN]);

/*
 * Fills inst from an instance object that passed its declaration
 * (compute_start_instance's "instance"), its NICs and image included.
 * Returns 0, or -EINVAL with e (class "InvalidInput", naming the NIC or
 * image and its field) when a NIC is not valid: an address that does not
 * parse or lies outside its network, a DHCP range upside down, an IP
 * outside the range or equal to the gateway, a MAC that is not locally
 * administered unicast, a bridge name that is not one, two NICs on one
 * network or with one MAC; or when the image is not one to boot from: an
 * aki or ari (a kernel or ramdisk, which only a disk image names), a path
 * that is not absolute, a ramdisk without a kernel.
 */
int instance_from_json(json_t *obj, struct virt_instance *inst,
		       struct rpc_error *e);

#endif
