/*
 * driver.h - what the compute manager asks of a hypervisor, after Nova's
 * ComputeDriver.
 *
 * The manager (manager.c) speaks RPC and reports states; a driver only
 * drives the hypervisor.  Keeping the boundary a table of operations lets
 * a test or fault-injecting driver stand in for libvirt.
 *
 * Every operation is idempotent, as the RPC handlers must be, returns 0 or
 * -errno, and on failure fills e (class "LibvirtError" for the libvirt
 * driver, with libvirt's message).  Instances are found by uuid.  No
 * operation waits for a guest: one that needs the guest's cooperation (a
 * clean shutdown) only asks, and the manager watches the outcome on its
 * loop (guest_wait.h).
 *
 * A novafs domain is one named instance-<its own UUID>, the name novafs
 * gives it: a driver lists, counts and reports only those, never other
 * domains of a shared hypervisor.  What a host holds is what its listing
 * says its domains were defined with, every one counted whether it runs
 * or not, as Nova counts every instance on a host: the heartbeat, a
 * claim at spawn and a resize all sum the same listing (capacity.h).
 */
#ifndef NOVAFS_VIRT_DRIVER_H
#define NOVAFS_VIRT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc/states.h"
#include "instance.h"

struct domain_nic;
struct loop;
struct rpc_error;
struct strbuf;
struct virt_driver;

/* The sizes of a domain (its flavor's), or what a host holds or may hold
 * in all. */
struct virt_sizes {
	long long vcpus, memory_mb, disk_gb;
};

/* What a host has to give, with no overcommit: the allocation ratios are
 * the scheduler's business. */
struct virt_host_info {
	struct virt_sizes total;
	char hypervisor_type[32];
};

/* One novafs domain, as list gives it. */
struct virt_domain_state {
	char uuid[UUID_STR_LEN];
	enum power_state power;
	struct virt_sizes sizes;    /* what it was defined with */
};

/* A lifecycle event of a novafs domain: started is true when it (re)started
 * (a boot, a restore), when its console log begins afresh. */
typedef void (*virt_event_fn)(void *ctx, const char *uuid, bool started);

struct virt_driver_ops {
	/* Defines the instance's domain if it has none (its disk made
	 * first, or the one it had before taken again: disk.h), then
	 * starts it unless it is running (a paused one is resumed, a
	 * suspended one restored). */
	int (*power_on)(struct virt_driver *d, const struct virt_instance *inst,
			struct rpc_error *e);
	/* Powers the domain off hard if it is active, and drops a managed
	 * save: afterwards it is shut off.  Success when it is missing. */
	int (*power_off)(struct virt_driver *d, const char *uuid,
			 struct rpc_error *e);
	/* Asks the guest to shut down (ACPI) and returns at once; the
	 * domain goes off if and when the guest obeys. */
	int (*shutdown)(struct virt_driver *d, const char *uuid,
			struct rpc_error *e);
	/* Pauses a running domain; nothing otherwise. */
	int (*pause)(struct virt_driver *d, const char *uuid, struct rpc_error *e);
	/* Resumes a paused domain; nothing otherwise. */
	int (*unpause)(struct virt_driver *d, const char *uuid,
		       struct rpc_error *e);
	/* Saves a running or paused domain's memory (libvirt's managed save,
	 * restored running) and stops it; nothing otherwise. */
	int (*suspend)(struct virt_driver *d, const char *uuid,
		       struct rpc_error *e);
	/* Restores a domain with a managed save; nothing otherwise. */
	int (*resume)(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e);
	/* Redefines the shut-off domain with inst's sizes and flavor, when
	 * the host has room for the growth (capacity.h); its disk grows
	 * with the flavor's, and never shrinks.  -EBUSY
	 * ("InstanceInvalidState") when the domain is active or suspended,
	 * -ENOENT ("NotFound") when it is missing, -ENOSPC
	 * ("ComputeResourcesUnavailable") when it does not fit; the domain
	 * is then unchanged. */
	int (*resize)(struct virt_driver *d, const struct virt_instance *inst,
		      struct rpc_error *e);
	/* Powers off and undefines the domain, managed save included, then
	 * deletes its disk (disk.h: never its image); success when either
	 * is missing. */
	int (*destroy)(struct virt_driver *d, const char *uuid,
		       struct rpc_error *e);
	/* Makes the host ready for inst's NICs before its domain is
	 * defined: each NIC's network, made unless the host has it, and
	 * the instance's DHCP host entry in it (network.h).  Nothing
	 * without NICs. */
	int (*plug_nics)(struct virt_driver *d, const struct virt_instance *inst,
			 struct rpc_error *e);
	/* The NICs on novafs networks of the domain of uuid, into nics
	 * (DOMAIN_MAX_NICS of them at most, domain_xml.h), for
	 * unplug_nics once the domain is gone.  Returns how many (0 when
	 * the domain is missing), or -errno. */
	int (*domain_nics)(struct virt_driver *d, const char *uuid,
			   struct domain_nic *nics, struct rpc_error *e);
	/* The domain that had nics is gone: takes their DHCP host entries
	 * out, and the networks no domain uses any more (network.h). */
	int (*unplug_nics)(struct virt_driver *d, const struct domain_nic *nics,
			   size_t n, struct rpc_error *e);
	/* 1 when the instance has a domain, 0 when not, or -errno. */
	int (*exists)(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e);
	/* The domain's power state, in Nova's vocabulary (a shut-off domain
	 * with a managed save is POWER_SUSPENDED); POWER_NOSTATE when it is
	 * missing or cannot be asked. */
	enum power_state (*power_state)(struct virt_driver *d, const char *uuid);
	/* The flavor in the domain's metadata into out (reset first).
	 * Returns 1, 0 when there is no domain (or no flavor in it), or
	 * -errno. */
	int (*flavor)(struct virt_driver *d, const char *uuid, struct strbuf *out,
		      struct rpc_error *e);
	/* Every novafs domain with its power state and sizes: *out (freed
	 * by the caller with free()) holds *n of them.  One that vanishes
	 * while it is being listed is left out. */
	int (*list)(struct virt_driver *d, struct virt_domain_state **out,
		    size_t *n, struct rpc_error *e);
	/* The host's capacity and hypervisor type into h. */
	int (*host_info)(struct virt_driver *d, struct virt_host_info *h,
			 struct rpc_error *e);
	/* The file the domain's serial console is logged to, appended to
	 * out; -EOPNOTSUPP when this driver's domains have no console log. */
	int (*console_log)(struct virt_driver *d, const char *uuid,
			   struct strbuf *out);
	/* Calls fn(ctx, ...) on the loop for every lifecycle event of a novafs
	 * domain from now on (also across reconnects).  Returns 0, or
	 * -EOPNOTSUPP without an event loop. */
	int (*on_event)(struct virt_driver *d, virt_event_fn fn, void *ctx,
			struct rpc_error *e);
	/* Frees the driver; accepts NULL. */
	void (*close)(struct virt_driver *d);
};

struct virt_driver {
	const struct virt_driver_ops *ops;
};

/* Where the instances' disks are unless the configuration says. */
#define LIBVIRT_INSTANCES_DIR "/var/lib/novafs/instances"
/* novafs's image store, as this host sees it (shared storage). */
#define LIBVIRT_IMAGE_DIR "/var/lib/novafs/images"

/* The one URI whose hypervisor a test-driver host may size (test_host). */
#define LIBVIRT_TEST_DEFAULT_URI "test:///default"

struct libvirt_config {
	const char *uri;
	const char *virt_type;   /* "test", "qemu" or "kvm" */
	long long disk_gb;       /* > 0: overrides statvfs("/") */
	/* NULL, or the capacity of a private test hypervisor that the driver
	 * makes in place of uri (LIBVIRT_TEST_DEFAULT_URI): test:///default
	 * but for its size, which virNodeGetInfo then reports too; its
	 * disk_gb replaces disk_gb. */
	const struct virt_sizes *test_host;
	const char *console_dir; /* qemu/kvm serial console logs; NULL: none */
	/* The directory of the instances' disks, a libvirt storage pool
	 * (disk.h); NULL: LIBVIRT_INSTANCES_DIR. */
	const char *instances_dir;
	/* The image store: the only files a host takes as an image, kernel
	 * or ramdisk are DIR/ID (disk.h); NULL: LIBVIRT_IMAGE_DIR. */
	const char *image_dir;
	/* Where libvirt's events run (virt_event.h); NULL: no events. */
	struct loop *loop;
};

/* The libvirt driver.  Registers libvirt's event loop on cfg->loop before
 * it connects.  Returns 0 or -errno with e. */
int libvirt_driver_open(const struct libvirt_config *cfg,
			struct virt_driver **out, struct rpc_error *e);

/* For the libvirt driver's modules (network.c): turns libvirt's last
 * error into e, class "LibvirtError" with libvirt's message; returns
 * -EIO. */
int libvirt_error(struct rpc_error *e);

/* The domain type to use by default for uri: "test" for test:// and
 * test+...:// URIs, else "kvm" when /dev/kvm exists, else "qemu". */
const char *libvirt_default_virt_type(const char *uri);

#endif
