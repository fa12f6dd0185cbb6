/*
 * driver.h - what the compute manager asks of a hypervisor, after Nova's
 * ComputeDriver.
 *
 * The manager (manager.c) speaks RPC and reports states; a driver only
 * drives the hypervisor.  Keeping the boundary a table of operations lets
 * a test or fault-injecting driver stand in for libvirt, and later
 * lifecycle actions (reboot, pause, resize, ...) are one more operation
 * each.
 *
 * Every operation is idempotent, as the RPC handlers must be, returns 0 or
 * -errno, and on failure fills e (class "LibvirtError" for the libvirt
 * driver, with libvirt's message).  Instances are found by uuid.
 */
#ifndef NOVAFS_VIRT_DRIVER_H
#define NOVAFS_VIRT_DRIVER_H

#include "rpc/states.h"
#include "instance.h"

struct rpc_error;
struct virt_driver;

/* A host's capacity and what its instances hold, as reported to the
 * scheduler. */
struct virt_host_stats {
	long long vcpus, vcpus_used;
	long long memory_mb, memory_mb_used;
	long long disk_gb, disk_gb_used;
	char hypervisor_type[32];
};

struct virt_driver_ops {
	/* Defines the instance's domain if it has none, then starts it
	 * unless it is running (a paused one is resumed). */
	int (*power_on)(struct virt_driver *d, const struct virt_instance *inst,
			struct rpc_error *e);
	/* Powers the domain off hard if it is active; success when it is
	 * not, or does not exist. */
	int (*power_off)(struct virt_driver *d, const char *uuid,
			 struct rpc_error *e);
	/* Powers off and undefines the domain; success when it is missing. */
	int (*destroy)(struct virt_driver *d, const char *uuid,
		       struct rpc_error *e);
	/* 1 when the instance has a domain, 0 when not, or -errno. */
	int (*exists)(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e);
	/* The domain's power state, in Nova's vocabulary; POWER_NOSTATE when
	 * it is missing or cannot be asked. */
	enum power_state (*power_state)(struct virt_driver *d, const char *uuid);
	int (*host_stats)(struct virt_driver *d, struct virt_host_stats *st,
			  struct rpc_error *e);
	/* Frees the driver; accepts NULL. */
	void (*close)(struct virt_driver *d);
};

struct virt_driver {
	const struct virt_driver_ops *ops;
};

/* The libvirt driver: opens uri; virt_type is the domain type ("test",
 * "qemu", "kvm"); disk_gb > 0 overrides the capacity statvfs("/") gives.
 * Returns 0 or -errno with e. */
int libvirt_driver_open(const char *uri, const char *virt_type,
			long long disk_gb, struct virt_driver **out,
			struct rpc_error *e);

/* The domain type to use by default for uri: "test" for test:// URIs,
 * else "kvm" when /dev/kvm exists, else "qemu". */
const char *libvirt_default_virt_type(const char *uri);

#endif
