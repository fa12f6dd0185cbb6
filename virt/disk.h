/*
 * disk.h - the instances' disks, as volumes of a libvirt storage pool.
 *
 * An instance with a disk image (raw, ami or qcow2: instance.h) has a
 * qcow2 volume whose backing file is the image: copy-on-write, so that
 * the image, in the image store novafs and every host share, is only ever
 * read.  An iso instance with a disk_gb has a blank qcow2 volume beside
 * its CD-ROM.  The volume is the larger of the flavor's disk_gb and the
 * image's virtual size, is named after the instance's UUID, and goes with
 * the domain (terminate, the first half of a rebuild), never the image.
 *
 * libvirt makes and deletes the volumes (its dir storage backend runs
 * qemu-img), in a pool of type dir on the host's instances directory,
 * named after that directory ("novafs" and the path, '/' as '-': the
 * default /var/lib/novafs/instances is novafs-var-lib-novafs-instances),
 * so that hosts on one libvirtd with one directory share a pool and hosts
 * with different directories do not collide.  The pool is defined
 * (autostarted), built and started when the first disk is made, and
 * found again, started if it is not, on every later operation: after a
 * host or libvirtd restart, or another host's define that won a race.
 * libvirt's test driver keeps pools and volumes in memory (it opens no
 * file and cannot grow a volume), so the test driver runs the same code.
 *
 * Like every driver operation these are idempotent, return 0 or -errno
 * and fill e on failure: class "ImageNotFound" or "ImageUnacceptable" for
 * an image file that is missing or not a readable regular file,
 * "LibvirtError" (with what libvirt said: a pool that cannot be made, a
 * full disk) otherwise.
 */
#ifndef NOVAFS_VIRT_DISK_H
#define NOVAFS_VIRT_DISK_H

#include <stdbool.h>
#include <libvirt/libvirt.h>

#include "instance.h"

struct rpc_error;
struct strbuf;

/* Whether inst has a disk volume: a disk image, or an iso with a disk_gb. */
bool disk_wanted(const struct virt_instance *inst);

/* The size of inst's disk in bytes: the larger of its disk_gb and its
 * image's virtual size (an iso's is no disk's). */
unsigned long long disk_capacity(const struct virt_instance *inst);

/* Appends the name of the pool of instances directory dir. */
void disk_pool_name(const char *dir, struct strbuf *out);

/* Appends the definition of the pool of dir. */
void disk_pool_xml(const char *dir, struct strbuf *out);

/* Appends the definition of inst's volume (disk_wanted). */
void disk_volume_xml(const struct virt_instance *inst, struct strbuf *out);

/*
 * Makes inst ready to be defined: checks that its image files (the image,
 * its kernel and ramdisk) are files of the image store image_dir, each
 * exactly image_dir/ID (a request that names any other path is refused,
 * whoever sent it: a host never hands QEMU a file of its own), regular
 * files, not symlinks, that it can read; then, when it has a
 * disk, finds its volume in the pool of dir (refreshed first when the
 * volume is not listed: a file libvirt does not know of is never
 * overwritten), grows it when it is smaller than disk_capacity() (never
 * shrinks it), or makes it.  Sets path (reset first) to the volume's path
 * ("" without a disk) and *made when it was made by this call: the caller
 * deletes it (disk_delete) when the define that needs it fails.  On
 * failure nothing is left that this call made.
 */
int disk_prepare(virConnectPtr conn, const char *dir, const char *image_dir,
		 const struct virt_instance *inst, struct strbuf *path,
		 bool *made, struct rpc_error *e);

/* Deletes the volume of instance uuid from the pool of dir; success when
 * there is no such volume, or no pool. */
int disk_delete(virConnectPtr conn, const char *dir, const char *uuid,
		struct rpc_error *e);

#endif
