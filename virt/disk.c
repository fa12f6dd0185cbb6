/*
 * disk.c - the instances' disks as libvirt volumes; see disk.h.
 *
 * Every failure names what was being done and says what libvirt said:
 * "cannot make the disk of instance U: ..." reads better in a fault than
 * qemu-img's words alone.  Paths are XML-escaped wherever they go; the
 * volume name is a UUID the bus checked.
 */
#include "disk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libvirt/virterror.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "domain_xml.h"

#define GIB (1ULL << 30)

bool disk_wanted(const struct virt_instance *inst)
{
	return inst->image.kind == IMAGE_RAW || inst->image.kind == IMAGE_QCOW2 ||
	       (inst->image.kind == IMAGE_ISO && inst->disk_gb > 0);
}

unsigned long long disk_capacity(const struct virt_instance *inst)
{
	unsigned long long flavor = inst->disk_gb * GIB;

	if (inst->image.kind == IMAGE_ISO || flavor >= inst->image.virtual_size)
		return flavor;
	return inst->image.virtual_size;
}

void disk_pool_name(const char *dir, struct strbuf *out)
{
	strbuf_addstr(out, "novafs");
	for (; *dir; dir++) {
		if (*dir == '/')
			strbuf_addch(out, '-');
		else if ((*dir >= 'a' && *dir <= 'z') || (*dir >= 'A' && *dir <= 'Z') ||
			 (*dir >= '0' && *dir <= '9') || strchr("._-", *dir))
			strbuf_addch(out, *dir);
		else
			strbuf_addch(out, '_');
	}
}

void disk_pool_xml(const char *dir, struct strbuf *out)
{
	strbuf_addstr(out, "<pool type='dir'>\n  <name>");
	disk_pool_name(dir, out);
	strbuf_addstr(out, "</name>\n  <target>\n    <path>");
	domain_xml_escape(out, dir);
	strbuf_addstr(out, "</path>\n  </target>\n</pool>\n");
}

void disk_volume_xml(const struct virt_instance *inst, struct strbuf *out)
{
	const struct virt_image *img = &inst->image;

	strbuf_addf(out, "<volume>\n"
		    "  <name>%s</name>\n"
		    "  <capacity unit='bytes'>%llu</capacity>\n"
		    "  <allocation unit='bytes'>0</allocation>\n"
		    "  <target>\n"
		    "    <format type='qcow2'/>\n"
		    "  </target>\n", inst->uuid, disk_capacity(inst));
	if (img->kind != IMAGE_ISO) {
		strbuf_addstr(out, "  <backingStore>\n    <path>");
		domain_xml_escape(out, img->path);
		strbuf_addf(out, "</path>\n    <format type='%s'/>\n"
			    "  </backingStore>\n",
			    img->kind == IMAGE_QCOW2 ? "qcow2" : "raw");
	}
	strbuf_addstr(out, "</volume>\n");
}

/* -EIO with e, class "LibvirtError": what was being done, then libvirt's
 * last error. */
static int __attribute__((format(printf, 2, 3)))
disk_error(struct rpc_error *e, const char *fmt, ...)
{
	const char *msg = virGetLastErrorMessage();
	struct strbuf what = STRBUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	strbuf_vaddf(&what, fmt, ap);
	va_end(ap);
	rc = rpc_error_set(e, -EIO, "LibvirtError", "%s: %s", what.buf,
			   msg ? msg : "unknown libvirt error");
	strbuf_release(&what);
	return rc;
}

/* Checks that path, the file called what (of id) of image img, is the
 * image store's file of id, a regular file this host can read.  The host
 * runs as root, so access() says nothing of QEMU's user: libvirt hands the
 * file to it (dynamic_ownership). */
static int check_file(const char *image_dir, const struct virt_image *img,
		      const char *what, const char *id, const char *path,
		      struct rpc_error *e)
{
	size_t n = strlen(image_dir);
	struct stat st;
	int err = 0;

	if (strncmp(path, image_dir, n) != 0 || path[n] != '/' ||
	    strcmp(path + n + 1, id) != 0)
		return rpc_error_set(e, -EINVAL, "ImageUnacceptable",
				     "image %s (%s): its %s %s is not %s/%s, its "
				     "file in this host's image store", img->id,
				     img->name, what, path, image_dir, id);
	/* Not stat: a link in the store would hand QEMU whatever it names. */
	if (lstat(path, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		return rpc_error_set(e, -EINVAL, "ImageUnacceptable",
				     "image %s (%s): its %s %s is not a regular "
				     "file", img->id, img->name, what, path);
	else if (access(path, R_OK) < 0)
		err = errno;
	if (!err)
		return 0;
	return rpc_error_set(e, -err, err == ENOENT ? "ImageNotFound" :
			     "ImageUnacceptable", "image %s (%s): its %s %s: %s",
			     img->id, img->name, what, path, strerror(err));
}

/* The image files inst needs, checked (check_file). */
static int check_image(const char *image_dir, const struct virt_instance *inst,
		       struct rpc_error *e)
{
	const struct virt_image *img = &inst->image;
	int rc = 0;

	if (img->kind != IMAGE_NONE)
		rc = check_file(image_dir, img, "file", img->id, img->path, e);
	if (rc == 0 && img->kernel[0])
		rc = check_file(image_dir, img, "kernel", img->kernel_id,
				img->kernel, e);
	if (rc == 0 && img->ramdisk[0])
		rc = check_file(image_dir, img, "ramdisk", img->ramdisk_id,
				img->ramdisk, e);
	return rc;
}

/* Whether pool's target is dir: a pool of our name on another directory
 * (another path that maps to the name) is not ours to use. */
static int pool_is_on(virStoragePoolPtr pool, const char *dir,
		      struct rpc_error *e)
{
	struct strbuf want = STRBUF_INIT;
	char *xml = virStoragePoolGetXMLDesc(pool, 0);
	const char *p = xml ? strstr(xml, "<target>") : NULL;
	int rc = 0;

	if (!xml)
		return disk_error(e, "cannot read the storage pool %s",
				  virStoragePoolGetName(pool));
	strbuf_addstr(&want, "<path>");
	domain_xml_escape(&want, dir);
	strbuf_addstr(&want, "</path>");
	if (!p || !strstr(p, want.buf))
		rc = rpc_error_set(e, -EEXIST, "LibvirtError", "the storage pool "
				   "%s is not on the instances directory %s",
				   virStoragePoolGetName(pool), dir);
	strbuf_release(&want);
	free(xml);
	return rc;
}

/* Defines the pool of dir, autostarted.  Another host on this libvirtd
 * may have defined it meanwhile: that one is taken.  Returns it, or NULL
 * with e. */
static virStoragePoolPtr pool_define(virConnectPtr conn, const char *dir,
				     const char *name, struct rpc_error *e)
{
	struct strbuf xml = STRBUF_INIT;
	virStoragePoolPtr pool;

	disk_pool_xml(dir, &xml);
	pool = virStoragePoolDefineXML(conn, xml.buf, 0);
	strbuf_release(&xml);
	if (!pool) {
		disk_error(e, "cannot define the storage pool %s for %s", name, dir);
		pool = virStoragePoolLookupByName(conn, name);
	} else if (virStoragePoolSetAutostart(pool, 1) < 0) {
		disk_error(e, "cannot autostart the storage pool %s", name);
		virStoragePoolFree(pool);
		pool = NULL;
	}
	virResetLastError();
	return pool;
}

/*
 * The active pool of dir into *out (freed by the caller with
 * virStoragePoolFree), defined when make says so, else NULL when there is
 * none.  A pool that is not active is built (its directory made, which
 * changes nothing when it is there) and started.
 */
static int pool_get(virConnectPtr conn, const char *dir, bool make,
		    virStoragePoolPtr *out, struct rpc_error *e)
{
	struct strbuf name = STRBUF_INIT;
	virStoragePoolPtr pool;
	int rc = 0;

	*out = NULL;
	disk_pool_name(dir, &name);
	pool = virStoragePoolLookupByName(conn, name.buf);
	if (!pool && virGetLastErrorCode() != VIR_ERR_NO_STORAGE_POOL) {
		rc = disk_error(e, "cannot look the storage pool %s up", name.buf);
		goto out;
	}
	virResetLastError();
	if (!pool && make && !(pool = pool_define(conn, dir, name.buf, e)))
		rc = -EIO;
	if (!pool)
		goto out;
	rc = pool_is_on(pool, dir, e);
	if (rc == 0 && virStoragePoolIsActive(pool) != 1 &&
	    (virStoragePoolBuild(pool, 0) < 0 || virStoragePoolCreate(pool, 0) < 0)) {
		rc = disk_error(e, "cannot start the storage pool %s on %s",
				name.buf, dir);
		/* Another host may have started it meanwhile. */
		if (virStoragePoolIsActive(pool) == 1)
			rc = 0;
	}
	if (rc == 0) {
		*out = pool;
		pool = NULL;
	}
	virResetLastError();
out:
	if (pool)
		virStoragePoolFree(pool);
	strbuf_release(&name);
	return rc;
}

/* The volume of instance uuid in pool into *out (NULL when there is none;
 * freed by the caller).  One libvirt does not list yet (the pool was not
 * refreshed since the file came) is looked for again after a refresh. */
static int volume_find(virStoragePoolPtr pool, const char *uuid,
		       virStorageVolPtr *out, struct rpc_error *e)
{
	int pass;

	for (pass = 0; pass < 2; pass++) {
		*out = virStorageVolLookupByName(pool, uuid);
		if (*out)
			return 0;
		if (virGetLastErrorCode() != VIR_ERR_NO_STORAGE_VOL)
			break;
		if (pass == 0 && virStoragePoolRefresh(pool, 0) < 0)
			break;
	}
	if (virGetLastErrorCode() == VIR_ERR_NO_STORAGE_VOL) {
		virResetLastError();
		return 0;
	}
	return disk_error(e, "cannot look the disk of instance %s up", uuid);
}

/* Grows vol to at least capacity bytes.  A driver that cannot resize a
 * volume has no file to grow (libvirt's test driver): then nothing. */
static int volume_grow(virStorageVolPtr vol, const char *uuid,
		       unsigned long long capacity, struct rpc_error *e)
{
	virStorageVolInfo info;

	if (virStorageVolGetInfo(vol, &info) < 0)
		return disk_error(e, "cannot read the disk of instance %s", uuid);
	if (info.capacity >= capacity || virStorageVolResize(vol, capacity, 0) == 0)
		return 0;
	if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
		virResetLastError();
		return 0;
	}
	return disk_error(e, "cannot grow the disk of instance %s to %llu bytes",
			  uuid, capacity);
}

int disk_prepare(virConnectPtr conn, const char *dir, const char *image_dir,
		 const struct virt_instance *inst, struct strbuf *path,
		 bool *made, struct rpc_error *e)
{
	struct strbuf xml = STRBUF_INIT;
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	char *p = NULL;
	int rc;

	strbuf_reset(path);
	*made = false;
	rc = check_image(image_dir, inst, e);
	if (rc < 0 || !disk_wanted(inst))
		goto out;
	rc = pool_get(conn, dir, true, &pool, e);
	if (rc == 0)
		rc = volume_find(pool, inst->uuid, &vol, e);
	if (rc < 0)
		goto out;
	if (vol) {
		rc = volume_grow(vol, inst->uuid, disk_capacity(inst), e);
		if (rc < 0)
			goto out;
	} else {
		disk_volume_xml(inst, &xml);
		vol = virStorageVolCreateXML(pool, xml.buf, 0);
		if (!vol) {
			rc = disk_error(e, "cannot make the disk of instance %s "
					"in %s", inst->uuid, dir);
			goto out;
		}
		*made = true;
	}
	p = virStorageVolGetPath(vol);
	if (!p) {
		rc = disk_error(e, "cannot read the disk of instance %s", inst->uuid);
		if (*made)
			virStorageVolDelete(vol, 0);
		*made = false;
		goto out;
	}
	strbuf_addstr(path, p);
out:
	free(p);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	strbuf_release(&xml);
	virResetLastError();
	return rc;
}

int disk_delete(virConnectPtr conn, const char *dir, const char *uuid,
		struct rpc_error *e)
{
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	int rc;

	rc = pool_get(conn, dir, false, &pool, e);
	if (rc == 0 && pool)
		rc = volume_find(pool, uuid, &vol, e);
	if (rc == 0 && vol && virStorageVolDelete(vol, 0) < 0 &&
	    virGetLastErrorCode() != VIR_ERR_NO_STORAGE_VOL)
		rc = disk_error(e, "cannot delete the disk of instance %s", uuid);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	virResetLastError();
	return rc;
}
