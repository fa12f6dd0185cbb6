/*
 * test_virt_disk.c - the instances' disks (virt/disk.h): the pool and
 * volume definitions, then the libvirt driver making, reusing and
 * deleting them on libvirt's in-process test:///default, whose storage
 * pools live in memory (one hypervisor per process: a second connection
 * sees the driver's pools, volumes and domains).  The image files are
 * real, in a temporary directory: the driver checks them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "../../virt/disk.h"
#include "../../virt/domain_xml.h"
#include "../../virt/driver.h"
#include "../../virt/instance.h"
#include "testhelp.h"

#define UUID "6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b"
#define OTHER "00000000-2c4d-4e8f-9a0b-1c2d3e4f5a6b"
#define GIB (1ULL << 30)
/* Images' ids, the names of their files in the image store. */
#define IMAGE "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"
#define NO_FILE "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e800"
#define A_DIR "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e801"
#define A_LINK "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e802"

/* An instance of disk_gb GB on the image id of format at path,
 * virtual_size bytes. */
static void image_instance(struct virt_instance *inst, const char *uuid,
			   const char *id, const char *format, const char *path,
			   long long virtual_size, long long disk_gb)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:{s:s, s:s, "
				"s:s, s:s, s:i, s:I}}", "uuid", uuid, "name", "web1",
				"flavor", "m1.small", "vcpus", 1, "memory_mb", 512,
				"disk_gb", (json_int_t)disk_gb, "image",
				"id", id, "name", "cirros", "path", path,
				"disk_format", format, "size", 1,
				"virtual_size", (json_int_t)virtual_size);

	CHECK_INT(instance_from_json(obj, inst, NULL), 0);
	json_decref(obj);
}

static void test_definitions(void)
{
	struct virt_instance inst;
	struct strbuf xml = STRBUF_INIT;

	disk_pool_name("/var/lib/novafs/instances", &xml);
	CHECK_STR(xml.buf, "novafs-var-lib-novafs-instances");
	strbuf_reset(&xml);
	disk_pool_name("/tmp/a b&c/x-y_z.1", &xml);
	CHECK_STR(xml.buf, "novafs-tmp-a_b_c-x-y_z.1");
	strbuf_reset(&xml);
	disk_pool_xml("/tmp/a&b", &xml);
	CHECK_STR(xml.buf, "<pool type='dir'>\n  <name>novafs-tmp-a_b</name>\n"
		  "  <target>\n    <path>/tmp/a&amp;b</path>\n  </target>\n</pool>\n");

	/* The disk is the larger of the flavor's and the image's. */
	image_instance(&inst, UUID, IMAGE, "qcow2", "/i/a'b", 3 * GIB, 2);
	CHECK(disk_wanted(&inst));
	CHECK_INT(disk_capacity(&inst), 3 * GIB);
	inst.disk_gb = 20;
	CHECK_INT(disk_capacity(&inst), 20 * GIB);
	strbuf_reset(&xml);
	disk_volume_xml(&inst, &xml);
	CHECK_STR(xml.buf, "<volume>\n  <name>" UUID "</name>\n"
		  "  <capacity unit='bytes'>21474836480</capacity>\n"
		  "  <allocation unit='bytes'>0</allocation>\n"
		  "  <target>\n    <format type='qcow2'/>\n  </target>\n"
		  "  <backingStore>\n    <path>/i/a&apos;b</path>\n"
		  "    <format type='qcow2'/>\n  </backingStore>\n</volume>\n");
	image_instance(&inst, UUID, IMAGE, "ami", "/i/a", 3 * GIB, 0);
	strbuf_reset(&xml);
	disk_volume_xml(&inst, &xml);
	CHECK(strstr(xml.buf, "<format type='raw'/>\n  </backingStore>") != NULL);

	/* An iso is a CD-ROM: the disk beside it is blank, the flavor's. */
	image_instance(&inst, UUID, IMAGE, "iso", "/i/a", 3 * GIB, 0);
	CHECK_MSG(!disk_wanted(&inst), "an iso with no disk_gb has no disk");
	inst.disk_gb = 1;
	CHECK(disk_wanted(&inst));
	CHECK_INT(disk_capacity(&inst), GIB);
	strbuf_reset(&xml);
	disk_volume_xml(&inst, &xml);
	CHECK(strstr(xml.buf, "<backingStore>") == NULL);
	inst.image.kind = IMAGE_NONE;
	CHECK_MSG(!disk_wanted(&inst), "no image, no disk");
	strbuf_release(&xml);
}

/* The XML of volume uuid in pool, or NULL (freed by the caller). */
static char *volume_xml(virStoragePoolPtr pool, const char *uuid)
{
	virStorageVolPtr vol = pool ? virStorageVolLookupByName(pool, uuid) : NULL;
	char *xml = vol ? virStorageVolGetXMLDesc(vol, 0) : NULL;

	if (vol)
		virStorageVolFree(vol);
	return xml;
}

static int volumes(virStoragePoolPtr pool)
{
	return pool ? virStoragePoolNumOfVolumes(pool) : -1;
}

static void test_driver(void)
{
	char dir[] = "/tmp/novafs-test-disk.XXXXXX";
	struct strbuf image = STRBUF_INIT, path = STRBUF_INIT, xml = STRBUF_INIT;
	struct strbuf pool_name = STRBUF_INIT;
	const char *instances = "/novafs-unit/instances//";
	struct libvirt_config cfg = {
		.uri = "test:///default", .virt_type = "test",
		.instances_dir = instances,
	};
	struct virt_driver *d = NULL;
	struct virt_instance inst, other;
	struct rpc_error e = { 0 };
	virConnectPtr conn = NULL;
	virStoragePoolPtr pool = NULL;
	virDomainPtr dom = NULL;
	char *x = NULL;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK_MSG(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	cfg.image_dir = dir;
	strbuf_addf(&image, "%s/" IMAGE, dir);
	f = fopen(image.buf, "w");
	CHECK(f && fputs("not really qcow2", f) >= 0 && fclose(f) == 0);
	image_instance(&inst, UUID, IMAGE, "qcow2", image.buf, GIB, 2);

	cfg.instances_dir = "instances";
	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), -EINVAL);
	CHECK_STR(e.message, "the instances directory instances is not an "
		  "absolute path");
	cfg.instances_dir = instances;
	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), 0);
	conn = virConnectOpen("test:///default");
	if (!d || !conn)
		goto out;
	disk_pool_name("/novafs-unit/instances", &pool_name);

	/* A diskless instance makes no pool, and its end deletes none. */
	image_instance(&other, OTHER, IMAGE, "qcow2", image.buf, GIB, 2);
	other.image.kind = IMAGE_NONE;
	CHECK_INT(d->ops->power_on(d, &other, &e), 0);
	CHECK_INT(d->ops->destroy(d, OTHER, &e), 0);
	CHECK_MSG(!virStoragePoolLookupByName(conn, pool_name.buf),
		  "no disk, no pool");

	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(d->ops->power_state(d, UUID), POWER_RUNNING);
	pool = virStoragePoolLookupByName(conn, pool_name.buf);
	CHECK_MSG(pool && virStoragePoolIsActive(pool) == 1,
		  "the first disk makes the pool, %s", pool_name.buf);
	x = volume_xml(pool, UUID);
	CHECK_MSG(x && strstr(x, "<path>/novafs-unit/instances/" UUID "</path>") &&
		  strstr(x, "<capacity unit='bytes'>2147483648</capacity>"),
		  "the volume, named after the instance, of the flavor's size");
	strbuf_addf(&xml, "<backingStore>\n    <path>%s</path>\n"
		    "    <format type='qcow2'/>", image.buf);
	CHECK_MSG(x && strstr(x, xml.buf), "backed by the image");
	free(x);
	dom = virDomainLookupByUUIDString(conn, UUID);
	x = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
	strbuf_reset(&xml);
	strbuf_addf(&xml, "<source file='%s'/>", image.buf);
	CHECK_MSG(x && strstr(x, "<source file='/novafs-unit/instances/" UUID "'/>") &&
		  strstr(x, xml.buf),
		  "the domain names the overlay and its backing image");
	free(x);
	if (dom)
		virDomainFree(dom);

	/* Redelivered; then a host that lost its domain but not its disk. */
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(volumes(pool), 1);
	CHECK_INT(d->ops->power_off(d, UUID, &e), 0);
	dom = virDomainLookupByUUIDString(conn, UUID);
	CHECK(dom && virDomainUndefine(dom) == 0);
	if (dom)
		virDomainFree(dom);
	CHECK_INT(virStoragePoolDestroy(pool), 0);
	CHECK_MSG(d->ops->power_on(d, &inst, &e) == 0,
		  "a start finds the stopped pool and reuses the disk: %s", e.message);
	CHECK_INT(virStoragePoolIsActive(pool), 1);
	CHECK_INT(volumes(pool), 1);

	/* Resized: the disk grows (not on the test driver, which cannot). */
	CHECK_INT(d->ops->power_off(d, UUID, &e), 0);
	inst.disk_gb = 4;
	CHECK_MSG(d->ops->resize(d, &inst, &e) == 0, "resize: %s", e.message);
	CHECK_INT(volumes(pool), 1);

	/* Terminate: the disk goes, never the image; again, nothing. */
	CHECK_INT(d->ops->destroy(d, UUID, &e), 0);
	CHECK_INT(d->ops->exists(d, UUID, &e), 0);
	CHECK_INT(volumes(pool), 0);
	CHECK_MSG(access(image.buf, R_OK) == 0, "the image stays");
	CHECK_INT(d->ops->destroy(d, UUID, &e), 0);

	/* Images outside the store, not there, or not files: nothing is
	 * made. */
	image_instance(&other, OTHER, IMAGE, "raw", "/etc/passwd", GIB, 1);
	memset(&e, 0, sizeof(e));
	CHECK_INT(d->ops->power_on(d, &other, &e), -EINVAL);
	CHECK_STR(e.cls, "ImageUnacceptable");
	strbuf_reset(&xml);
	strbuf_addf(&xml, "image " IMAGE " (cirros): its file /etc/passwd is not "
		    "%s/" IMAGE ", its file in this host's image store", dir);
	CHECK_STR(e.message, xml.buf);
	strbuf_addf(&path, "%s/../%s/" IMAGE, dir, strrchr(dir, '/') + 1);
	image_instance(&other, OTHER, IMAGE, "raw", path.buf, GIB, 1);
	CHECK_INT(d->ops->power_on(d, &other, &e), -EINVAL);
	CHECK(strstr(e.message, "its file in this host's image store") != NULL);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/" NO_FILE, dir);
	image_instance(&other, OTHER, NO_FILE, "raw", path.buf, GIB, 1);
	CHECK_INT(d->ops->power_on(d, &other, &e), -ENOENT);
	CHECK_STR(e.cls, "ImageNotFound");
	strbuf_reset(&xml);
	strbuf_addf(&xml, "image " NO_FILE " (cirros): its file %s: No such file "
		    "or directory", path.buf);
	CHECK_STR(e.message, xml.buf);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/" A_DIR, dir);
	CHECK_INT(mkdir(path.buf, 0755), 0);
	image_instance(&other, OTHER, A_DIR, "raw", path.buf, GIB, 1);
	CHECK_INT(d->ops->power_on(d, &other, &e), -EINVAL);
	CHECK_STR(e.cls, "ImageUnacceptable");
	CHECK(strstr(e.message, "is not a regular file") != NULL);
	rmdir(path.buf);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/" A_LINK, dir);
	CHECK_INT(symlink("/etc/passwd", path.buf), 0);
	image_instance(&other, OTHER, A_LINK, "raw", path.buf, GIB, 1);
	CHECK_INT(d->ops->power_on(d, &other, &e), -EINVAL);
	CHECK_MSG(strstr(e.message, "is not a regular file") != NULL,
		  "a link in the store is no image: %s", e.message);
	unlink(path.buf);
	image_instance(&other, OTHER, IMAGE, "raw", image.buf, GIB, 1);
	snprintf(other.image.kernel_id, sizeof(other.image.kernel_id), NO_FILE);
	snprintf(other.image.kernel, sizeof(other.image.kernel), "%s/vmlinuz", dir);
	CHECK_INT(d->ops->power_on(d, &other, &e), -EINVAL);
	CHECK(strstr(e.message, "its kernel ") != NULL);
	snprintf(other.image.kernel, sizeof(other.image.kernel), "%s/" NO_FILE, dir);
	CHECK_INT(d->ops->power_on(d, &other, &e), -ENOENT);
	CHECK(strstr(e.message, "its kernel ") != NULL);
	CHECK_INT(d->ops->exists(d, OTHER, &e), 0);
	CHECK_INT(volumes(pool), 0);

	/* A define libvirt refuses (a domain of another uuid has the name)
	 * leaves no disk behind. */
	image_instance(&other, UUID, IMAGE, "raw", image.buf, GIB, 1);
	strbuf_reset(&xml);
	domain_xml_build(&other, "test", NULL, &xml);
	memcpy(strstr(xml.buf, "<name>instance-") + strlen("<name>instance-"),
	       OTHER, strlen(OTHER));
	dom = virDomainDefineXML(conn, xml.buf);
	CHECK(dom != NULL);
	image_instance(&other, OTHER, IMAGE, "raw", image.buf, GIB, 1);
	memset(&e, 0, sizeof(e));
	CHECK_INT(d->ops->power_on(d, &other, &e), -EIO);
	CHECK_STR(e.cls, "LibvirtError");
	CHECK_INT(volumes(pool), 0);
	if (dom) {
		virDomainUndefine(dom);
		virDomainFree(dom);
	}

	/* Two instances, two disks; a pool of our name on another
	 * directory is not used. */
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(d->ops->power_on(d, &other, &e), 0);
	CHECK_INT(volumes(pool), 2);
	CHECK_INT(d->ops->destroy(d, UUID, &e), 0);
	CHECK_INT(d->ops->destroy(d, OTHER, &e), 0);
	CHECK_INT(volumes(pool), 0);
	if (pool) {
		virStoragePoolDestroy(pool);
		virStoragePoolUndefine(pool);
		virStoragePoolFree(pool);
	}
	strbuf_reset(&xml);
	disk_pool_xml("/novafs-unit/elsewhere", &xml);
	strbuf_reset(&pool_name);
	disk_pool_name("/novafs-unit/instances", &pool_name);
	memcpy(strstr(xml.buf, "<name>") + strlen("<name>"), pool_name.buf,
	       pool_name.len);
	pool = virStoragePoolDefineXML(conn, xml.buf, 0);
	CHECK(pool != NULL);
	memset(&e, 0, sizeof(e));
	CHECK_INT(d->ops->power_on(d, &inst, &e), -EEXIST);
	CHECK_STR(e.message, "the storage pool novafs-novafs-unit-instances is not "
		  "on the instances directory /novafs-unit/instances");
	CHECK_INT(d->ops->exists(d, UUID, &e), 0);
out:
	if (pool) {
		virStoragePoolUndefine(pool);
		virStoragePoolFree(pool);
	}
	if (conn)
		virConnectClose(conn);
	if (d)
		d->ops->close(d);
	unlink(image.buf);
	rmdir(dir);
	strbuf_release(&image);
	strbuf_release(&path);
	strbuf_release(&xml);
	strbuf_release(&pool_name);
}

int main(void)
{
	test_definitions();
	test_driver();
	return test_done();
}
