/*
 * test_domain_xml.c - the compute host's pure parts (the instance object
 * and what its contract refuses, the domain XML, the instance_update
 * shape), then the libvirt driver itself on libvirt's in-process
 * test:///default hypervisor, and on a private one of a given size.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>

#include "common/strbuf.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "../../virt/capacity.h"
#include "../../virt/domain_xml.h"
#include "../../virt/driver.h"
#include "../../virt/instance.h"
#include "../../virt/manager.h"
#include "testhelp.h"

#define UUID "6F1E3B6A-2C4D-4E8F-9A0B-1C2D3E4F5A6B"
#define LUUID "6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b"
#define OTHER "00000000-2c4d-4e8f-9a0b-1c2d3e4f5a6b"

static json_t *instance_json(void)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "uuid", UUID,
			 "name", "web1", "flavor", "m1.small", "vcpus", 2,
			 "memory_mb", 2048, "disk_gb", 20);
}

static void test_instance_parsing(void)
{
	struct virt_instance inst;
	json_t *obj = instance_json();

	CHECK_INT(instance_from_json(obj, &inst, NULL), 0);
	CHECK_STR(inst.uuid, LUUID);
	CHECK_STR(inst.name, "web1");
	CHECK_STR(inst.flavor, "m1.small");
	CHECK_INT(inst.vcpus, 2);
	CHECK_INT(inst.memory_mb, 2048);
	CHECK_INT(inst.disk_gb, 20);
	json_decref(obj);
}

/* What a compute host refuses before any handler runs: the contract of
 * start_instance, as the bus checks it. */
static void test_instance_contract(void)
{
	static const char *const members[] = {
		"uuid", "name", "flavor", "vcpus", "memory_mb", "disk_gb",
	};
	struct rpc_error e = { 0 };
	json_t *args, *inst;
	size_t i;

	args = json_pack("{s:o, s:s}", "instance", instance_json(),
			 "expected_task_state", "spawning");
	inst = json_object_get(args, "instance");
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), 0);

	/* Every member is required. */
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		json_t *v = json_incref(json_object_get(inst, members[i]));

		json_object_del(inst, members[i]);
		CHECK_MSG(rpc_args_check(&compute_start_instance, args, &e) == -EINVAL,
			  "without %s: %s", members[i], e.message);
		json_object_set_new(inst, members[i], v);
	}
	/* The 4,096-vCPU, 1 TiB domain of the issue, and other nonsense. */
	json_object_set_new(inst, "vcpus", json_integer(4096));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	CHECK_STR(e.message, "start_instance: instance.vcpus: 4096 is out of range 1..128");
	json_object_set_new(inst, "vcpus", json_integer(0));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_object_set_new(inst, "vcpus", json_string("2"));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_object_set_new(inst, "vcpus", json_integer(2));
	json_object_set_new(inst, "memory_mb", json_integer(1LL << 20));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_object_set_new(inst, "memory_mb", json_integer(2048));
	json_object_set_new(inst, "uuid", json_string("not-a-uuid"));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_object_set_new(inst, "uuid", json_string(UUID));
	json_object_set_new(inst, "name", json_string("web<1>"));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_object_set_new(inst, "name", json_string("web1"));
	json_object_set_new(inst, "extra", json_true());
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	CHECK_STR(e.message, "start_instance: instance.extra: not an argument of this method");
	json_object_del(inst, "extra");
	json_object_set_new(args, "expected_task_state", json_string("pwned"));
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_object_set_new(args, "expected_task_state", json_null());
	CHECK_INT(rpc_args_check(&compute_start_instance, args, &e), -EINVAL);
	json_decref(args);
}

static void test_xml(void)
{
	struct virt_instance inst;
	struct strbuf xml = STRBUF_INIT;
	unsigned long long disk = 0;
	json_t *obj = instance_json();

	instance_from_json(obj, &inst, NULL);
	json_decref(obj);
	/* The contract allows no such name, but the XML must not rely on
	 * that. */
	snprintf(inst.name, sizeof(inst.name), "web<1>&'\"");

	CHECK_INT(domain_xml_build(&inst, "test", NULL, &xml), 0);
	CHECK(strstr(xml.buf, "<domain type='test'>") == xml.buf);
	CHECK(strstr(xml.buf, "<name>instance-" LUUID "</name>") != NULL);
	CHECK(strstr(xml.buf, "<uuid>" LUUID "</uuid>") != NULL);
	CHECK(strstr(xml.buf, "<memory unit='MiB'>2048</memory>") != NULL);
	CHECK(strstr(xml.buf, "<vcpu>2</vcpu>") != NULL);
	CHECK(strstr(xml.buf, "<type>hvm</type>") != NULL);
	CHECK(strstr(xml.buf, "<novafs:instance xmlns:novafs=\"http://novafs.org/xmlns/instance/1\">") != NULL);
	CHECK(strstr(xml.buf, "<novafs:name>web&lt;1&gt;&amp;&apos;&quot;</novafs:name>") != NULL);
	CHECK(strstr(xml.buf, "<novafs:flavor>m1.small</novafs:flavor>") != NULL);
	CHECK(strstr(xml.buf, "<novafs:disk_gb>20</novafs:disk_gb>") != NULL);
	CHECK(strstr(xml.buf, "<serial") == NULL);
	CHECK(strstr(xml.buf, "<bios") == NULL);
	CHECK_MSG(strstr(xml.buf, "<disk") == NULL && strstr(xml.buf, "<boot") == NULL &&
		  strstr(xml.buf, "<kernel") == NULL, "no image: diskless");
	CHECK_INT(domain_xml_metadata_disk_gb(xml.buf, &disk), 0);
	CHECK_INT(disk, 20);

	strbuf_reset(&xml);
	CHECK_INT(domain_xml_build(&inst, "kvm", "/var/lib/novafs/console", &xml), 0);
	CHECK(strstr(xml.buf, "<domain type='kvm'>") == xml.buf);
	CHECK(strstr(xml.buf, "<serial type='pty'>") != NULL);
	CHECK(strstr(xml.buf, "<console type='pty'>") != NULL);
	CHECK(strstr(xml.buf, "<bios useserial='yes'/>") != NULL);
	CHECK(strstr(xml.buf, "<log file='/var/lib/novafs/console/instance-" LUUID
		      ".log' append='off'/>") != NULL);
	CHECK(strstr(xml.buf, "<disk") == NULL);
	CHECK(strstr(xml.buf, "<interface") == NULL);
	strbuf_reset(&xml);
	CHECK_INT(domain_xml_build(&inst, "qemu", NULL, &xml), 0);
	CHECK(strstr(xml.buf, "<domain type='qemu'>") == xml.buf);
	CHECK(strstr(xml.buf, "<serial type='pty'>") != NULL);
	CHECK_MSG(strstr(xml.buf, "<log") == NULL, "no console directory, no log");
	strbuf_reset(&xml);
	/* The path is escaped like any text. */
	CHECK_INT(domain_xml_build(&inst, "qemu", "/tmp/a'b&c", &xml), 0);
	CHECK(strstr(xml.buf, "<log file='/tmp/a&apos;b&amp;c/instance-") != NULL);
	strbuf_reset(&xml);
	domain_xml_console_log("/d", LUUID, &xml);
	CHECK_STR(xml.buf, "/d/instance-" LUUID ".log");
	strbuf_reset(&xml);
	CHECK_INT(domain_xml_build(&inst, "xen", NULL, &xml), -EINVAL);
	CHECK_INT(xml.len, 0);

	CHECK_INT(domain_xml_metadata_disk_gb("<x:instance><x:disk_gb>7</x:disk_gb></x:instance>", &disk), 0);
	CHECK_INT(disk, 7);
	CHECK_INT(domain_xml_metadata_disk_gb("<instance><disk_gb>x</disk_gb></instance>", &disk), -ENOENT);
	CHECK_INT(domain_xml_metadata_disk_gb("<instance/>", &disk), -ENOENT);
	CHECK_INT(domain_xml_metadata_disk_gb(NULL, &disk), -ENOENT);

	/* What libvirt gives back: its own prefix, the entities kept. */
	CHECK_INT(domain_xml_metadata_text(
			  "<novafs:instance xmlns:novafs=\"" NOVAFS_XMLNS "\">\n"
			  "  <novafs:name>a&lt;b&amp;c&apos;&quot;&gt;</novafs:name>\n"
			  "  <novafs:flavor>m1.small</novafs:flavor>\n"
			  "</novafs:instance>", "name", &xml), 0);
	CHECK_STR(xml.buf, "a<b&c'\">");
	CHECK_INT(domain_xml_metadata_text("<i><flavor>m1.tiny</flavor></i>",
					   "flavor", &xml), 0);
	CHECK_STR(xml.buf, "m1.tiny");
	CHECK_INT(domain_xml_metadata_text("<i><noflavor>x</noflavor></i>",
					   "flavor", &xml), -ENOENT);
	CHECK_INT(domain_xml_metadata_text("<i>flavor>x</i>", "flavor", &xml),
		  -ENOENT);
	CHECK_INT(domain_xml_metadata_text(NULL, "flavor", &xml), -ENOENT);
	CHECK_INT(xml.len, 0);
	strbuf_release(&xml);
}

#define IMAGE_ID "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9"

/* An instance of instance_json() booting from an image of format. */
static json_t *image_instance_json(const char *format)
{
	json_t *obj = instance_json();

	json_object_set_new(obj, "image", json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:I}", "id", IMAGE_ID,
		"name", "cirros", "path", "/images/cirros", "disk_format", format,
		"size", 1024, "virtual_size", (json_int_t)(1LL << 32)));
	return obj;
}

/* A kernel or ramdisk member at path. */
static json_t *image_file(const char *path)
{
	return json_pack("{s:s, s:s, s:s}", "id", IMAGE_ID, "name", "k",
			 "path", path);
}

static void test_image_parsing(void)
{
	static const struct { const char *format; enum image_kind kind; } kinds[] = {
		{ "raw", IMAGE_RAW }, { "ami", IMAGE_RAW }, { "qcow2", IMAGE_QCOW2 },
		{ "iso", IMAGE_ISO },
	};
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	json_t *obj = instance_json(), *img;
	size_t i;

	CHECK_INT(instance_from_json(obj, &inst, &e), 0);
	CHECK_MSG(inst.image.kind == IMAGE_NONE && !inst.disk,
		  "no image: diskless");
	json_decref(obj);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		obj = image_instance_json(kinds[i].format);
		CHECK_INT(instance_from_json(obj, &inst, &e), 0);
		CHECK_MSG(inst.image.kind == kinds[i].kind, "%s is kind %d",
			  kinds[i].format, kinds[i].kind);
		json_decref(obj);
	}
	CHECK_STR(inst.image.id, "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9");
	CHECK_STR(inst.image.name, "cirros");
	CHECK_STR(inst.image.path, "/images/cirros");
	CHECK_INT(inst.image.virtual_size, 1LL << 32);
	CHECK_STR(inst.image.kernel, "");

	obj = image_instance_json("aki");
	CHECK_INT(instance_from_json(obj, &inst, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	CHECK_STR(e.message, "image.disk_format: an aki image is a kernel: an "
		  "instance boots from a disk image that names it, not from it");
	json_decref(obj);
	obj = image_instance_json("ari");
	CHECK_INT(instance_from_json(obj, &inst, &e), -EINVAL);
	CHECK(strstr(e.message, "an ari image is a ramdisk") != NULL);
	json_decref(obj);

	obj = image_instance_json("ami");
	img = json_object_get(obj, "image");
	json_object_set_new(img, "path", json_string("images/cirros"));
	CHECK_INT(instance_from_json(obj, &inst, &e), -EINVAL);
	CHECK_STR(e.message, "image.path: \"images/cirros\" is not an absolute path");
	json_object_set_new(img, "path", json_string("/images/cirros"));
	json_object_set_new(img, "ramdisk", image_file("/images/initrd"));
	CHECK_INT(instance_from_json(obj, &inst, &e), -EINVAL);
	CHECK_STR(e.message, "image.ramdisk: a ramdisk needs a kernel");
	json_object_set_new(img, "kernel", image_file("vmlinuz"));
	CHECK_INT(instance_from_json(obj, &inst, &e), -EINVAL);
	CHECK_STR(e.message, "image.kernel.path: \"vmlinuz\" is not an absolute path");
	json_object_set_new(img, "kernel", image_file("/images/vmlinuz"));
	CHECK_INT(instance_from_json(obj, &inst, &e), 0);
	CHECK_STR(inst.image.kernel, "/images/vmlinuz");
	CHECK_STR(inst.image.ramdisk, "/images/initrd");
	json_decref(obj);
}

/* The XML of inst of an image of format, on a disk at disk (or none),
 * into xml (reset first). */
static void image_xml(const char *format, const char *disk, bool kernel,
		      struct strbuf *xml)
{
	struct virt_instance inst;
	json_t *obj = image_instance_json(format);

	if (kernel) {
		json_object_set_new(json_object_get(obj, "image"), "kernel",
				    image_file("/images/vm'linuz"));
		json_object_set_new(json_object_get(obj, "image"), "ramdisk",
				    image_file("/images/initrd"));
	}
	CHECK_INT(instance_from_json(obj, &inst, NULL), 0);
	json_decref(obj);
	inst.disk = disk;
	strbuf_reset(xml);
	CHECK_INT(domain_xml_build(&inst, "qemu", "/c", xml), 0);
}

static void test_xml_images(void)
{
	struct strbuf xml = STRBUF_INIT;

	/* An overlay on a qcow2 image, booted from by the firmware. */
	image_xml("qcow2", "/var/lib/novafs/instances/" LUUID, false, &xml);
	CHECK(strstr(xml.buf,
		     "    <disk type='file' device='disk'>\n"
		     "      <driver name='qemu' type='qcow2'/>\n"
		     "      <source file='/var/lib/novafs/instances/" LUUID "'/>\n"
		     "      <backingStore type='file'>\n"
		     "        <format type='qcow2'/>\n"
		     "        <source file='/images/cirros'/>\n"
		     "        <backingStore/>\n"
		     "      </backingStore>\n"
		     "      <target dev='vda' bus='virtio'/>\n"
		     "    </disk>\n") != NULL);
	CHECK(strstr(xml.buf, "    <type>hvm</type>\n    <boot dev='hd'/>\n") != NULL);
	CHECK(strstr(xml.buf, "<kernel>") == NULL);
	CHECK(strstr(xml.buf, "device='cdrom'") == NULL);
	CHECK_MSG(strstr(xml.buf, "<serial type='pty'>") != NULL,
		  "the serial console stays");

	/* ami: raw, with a direct kernel boot on the disk. */
	image_xml("ami", "/i/d", true, &xml);
	CHECK(strstr(xml.buf, "<format type='raw'/>") != NULL);
	CHECK(strstr(xml.buf, "    <type>hvm</type>\n"
		     "    <kernel>/images/vm&apos;linuz</kernel>\n"
		     "    <initrd>/images/initrd</initrd>\n"
		     "    <cmdline>console=ttyS0 root=/dev/vda</cmdline>\n"
		     "    <bios useserial='yes'/>\n") != NULL);
	CHECK_MSG(strstr(xml.buf, "<boot ") == NULL, "the kernel boots, not a device");

	/* iso: a read-only CD-ROM first, then a blank disk. */
	image_xml("iso", "/i/d", false, &xml);
	CHECK(strstr(xml.buf,
		     "    <disk type='file' device='cdrom'>\n"
		     "      <driver name='qemu' type='raw'/>\n"
		     "      <source file='/images/cirros'/>\n"
		     "      <target dev='hdc' bus='ide'/>\n"
		     "      <readonly/>\n"
		     "    </disk>\n") != NULL);
	CHECK(strstr(xml.buf, "<boot dev='cdrom'/>\n    <boot dev='hd'/>") != NULL);
	CHECK_MSG(strstr(xml.buf, "<backingStore") == NULL,
		  "an iso backs no disk");
	CHECK(strstr(xml.buf, "<source file='/i/d'/>") != NULL);

	/* iso without a disk, with a kernel: no root. */
	image_xml("iso", NULL, true, &xml);
	CHECK(strstr(xml.buf, "<cmdline>console=ttyS0</cmdline>") != NULL);
	CHECK(strstr(xml.buf, "device='disk'") == NULL);
	CHECK(strstr(xml.buf, "device='cdrom'") != NULL);
	strbuf_release(&xml);
}

static void test_update_args(void)
{
	struct rpc_error fault = { 0 }, e = { 0 };
	json_t *a;

	a = compute_instance_update_args(LUUID, TASK_SPAWNING, VM_ACTIVE,
					 POWER_RUNNING, "node1", NULL);
	CHECK_MSG(rpc_args_check(&conductor_instance_update, a, &e) == 0,
		  "an update keeps its contract: %s", e.message);
	CHECK_STR(json_string_value(json_object_get(a, "uuid")), LUUID);
	CHECK_STR(json_string_value(json_object_get(a, "expected_task_state")), "spawning");
	CHECK_STR(json_string_value(json_object_get(a, "vm_state")), "active");
	CHECK_STR(json_string_value(json_object_get(a, "power_state")), "running");
	CHECK(json_is_null(json_object_get(a, "task_state")));
	CHECK_STR(json_string_value(json_object_get(a, "host")), "node1");
	CHECK(json_is_null(json_object_get(a, "fault")));
	json_decref(a);

	rpc_error_set(&fault, -EIO, "LibvirtError", "operation failed");
	a = compute_instance_update_args(LUUID, TASK_NONE, VM_ERROR,
					 POWER_NOSTATE, "node1", &fault);
	CHECK_MSG(rpc_args_check(&conductor_instance_update, a, &e) == 0,
		  "a failure keeps its contract: %s", e.message);
	CHECK(json_is_null(json_object_get(a, "expected_task_state")));
	CHECK_STR(json_string_value(json_object_get(a, "vm_state")), "error");
	CHECK_STR(json_string_value(json_object_get(a, "power_state")), "nostate");
	CHECK_STR(json_string_value(json_object_get(json_object_get(a, "fault"), "class")),
		  "LibvirtError");
	CHECK_STR(json_string_value(json_object_get(json_object_get(a, "fault"), "message")),
		  "operation failed");
	json_decref(a);
}

/* What the driver's listing says the host holds, into used. */
static int held(struct virt_driver *d, struct virt_sizes *used,
		struct rpc_error *e)
{
	struct virt_domain_state *list = NULL;
	size_t n = 0;
	int rc = d->ops->list(d, &list, &n, e);

	capacity_used(list, n, used);
	free(list);
	return rc;
}

/* The libvirt driver against test:///default: an in-process fake
 * hypervisor with 16 CPUs, 3 GB and one domain "test" (not ours). */
static void test_libvirt_driver(void)
{
	struct libvirt_config cfg = {
		.uri = "test:///default", .virt_type = "xen", .disk_gb = 42,
	};
	struct virt_driver *d = NULL;
	struct virt_host_info h;
	struct virt_sizes used;
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	struct strbuf xml = STRBUF_INIT;
	char name[DOMAIN_NAME_LEN];
	virConnectPtr conn;
	virDomainPtr dom;
	json_t *obj = instance_json();

	instance_from_json(obj, &inst, NULL);
	json_decref(obj);

	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), -EINVAL);
	CHECK_STR(libvirt_default_virt_type("test:///default"), "test");
	CHECK_STR(libvirt_default_virt_type("test+unix:///default"), "test");
	cfg.virt_type = "test";
	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), 0);
	if (!d)
		return;
	CHECK_INT(d->ops->host_info(d, &h, &e), 0);
	CHECK_INT(h.total.vcpus, 16);
	CHECK_INT(h.total.memory_mb, 3072);
	CHECK_INT(h.total.disk_gb, 42);
	CHECK_STR(h.hypervisor_type, "TEST");
	CHECK_INT(held(d, &used, &e), 0);
	CHECK_INT(used.vcpus, 0);
	CHECK_INT(used.memory_mb, 0);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_NOSTATE);

	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_RUNNING);
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(held(d, &used, &e), 0);
	CHECK_INT(used.vcpus, 2);
	CHECK_INT(used.memory_mb, 2048);
	CHECK_INT(used.disk_gb, 20);

	CHECK_INT(d->ops->power_off(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_SHUTDOWN);
	CHECK_INT(d->ops->power_off(d, inst.uuid, &e), 0);
	CHECK_MSG(held(d, &used, &e) == 0 && used.memory_mb == 2048,
		  "a stopped instance still holds its resources");
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_RUNNING);

	CHECK_INT(d->ops->destroy(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_NOSTATE);
	CHECK_INT(d->ops->destroy(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->power_off(d, inst.uuid, &e), 0);
	CHECK_INT(held(d, &used, &e), 0);
	CHECK_INT(used.memory_mb, 0);

	/* A libvirt refusal: a domain already holds the instance's name under
	 * another uuid.  test:///default is one hypervisor per process, so a
	 * second connection sees the driver's domains. */
	memcpy(inst.uuid, OTHER, sizeof(OTHER));
	domain_xml_build(&inst, "test", NULL, &xml);
	memcpy(inst.uuid, LUUID, sizeof(LUUID));
	domain_xml_name(LUUID, name);
	memcpy(strstr(xml.buf, "<name>") + strlen("<name>"), name, strlen(name));
	conn = virConnectOpen("test:///default");
	dom = conn ? virDomainDefineXML(conn, xml.buf) : NULL;
	CHECK(dom != NULL);
	memset(&e, 0, sizeof(e));
	CHECK_INT(d->ops->power_on(d, &inst, &e), -EIO);
	CHECK_STR(e.cls, "LibvirtError");
	CHECK_MSG(strstr(e.message, "already exists") != NULL,
		  "libvirt says why: %s", e.message);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_NOSTATE);
	if (dom) {
		virDomainUndefine(dom);
		virDomainFree(dom);
	}
	if (conn)
		virConnectClose(conn);
	strbuf_release(&xml);
	d->ops->close(d);
}

/* Every lifecycle operation, twice each (they are idempotent), and what
 * the listing, the flavor and a resize say, on test:///default. */
static void test_libvirt_lifecycle(void)
{
	struct libvirt_config cfg = {
		.uri = "test:///default", .virt_type = "test",
		.console_dir = "/nonexistent",
	};
	struct virt_domain_state *list = NULL;
	struct virt_driver *d = NULL;
	struct virt_instance inst, big;
	struct virt_sizes used;
	struct strbuf buf = STRBUF_INIT;
	struct rpc_error e = { 0 };
	json_t *obj = instance_json();
	size_t n = 0;
	int i;

	instance_from_json(obj, &inst, NULL);
	json_decref(obj);
	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), 0);
	if (!d)
		return;
	CHECK_MSG(d->ops->console_log(d, inst.uuid, &buf) == -EOPNOTSUPP,
		  "test domains have no console log");
	CHECK_MSG(d->ops->on_event(d, NULL, NULL, &e) == -EOPNOTSUPP,
		  "no events without a loop");
	CHECK_INT(d->ops->flavor(d, inst.uuid, &buf, &e), 0);
	CHECK_INT(d->ops->list(d, &list, &n, &e), 0);
	CHECK_MSG(n == 0, "the test driver's own domain \"test\" is not listed");
	free(list);

	CHECK_INT(d->ops->pause(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	for (i = 0; i < 2; i++) {
		CHECK_INT(d->ops->pause(d, inst.uuid, &e), 0);
		CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_PAUSED);
	}
	for (i = 0; i < 2; i++) {
		CHECK_INT(d->ops->unpause(d, inst.uuid, &e), 0);
		CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_RUNNING);
	}
	for (i = 0; i < 2; i++) {
		CHECK_INT(d->ops->suspend(d, inst.uuid, &e), 0);
		CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_SUSPENDED);
	}
	CHECK_INT(d->ops->list(d, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(list[0].uuid, LUUID);
		CHECK_INT(list[0].power, POWER_SUSPENDED);
	}
	free(list);
	CHECK_MSG(d->ops->resize(d, &inst, &e) == -EBUSY,
		  "a suspended domain is not resized: %s", e.message);
	for (i = 0; i < 2; i++) {
		CHECK_INT(d->ops->resume(d, inst.uuid, &e), 0);
		CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_RUNNING);
	}
	CHECK_INT(d->ops->suspend(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->power_off(d, inst.uuid, &e), 0);
	CHECK_MSG(d->ops->power_state(d, inst.uuid) == POWER_SHUTDOWN,
		  "powering off a suspended domain drops its saved memory");
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(d->ops->shutdown(d, inst.uuid, &e), 0);
	CHECK_MSG(d->ops->power_state(d, inst.uuid) == POWER_SHUTDOWN,
		  "the test driver's guests obey ACPI at once");
	CHECK_INT(d->ops->shutdown(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->resume(d, inst.uuid, &e), 0);
	CHECK_MSG(d->ops->power_state(d, inst.uuid) == POWER_SHUTDOWN,
		  "resume without a saved memory changes nothing");

	/* Resize: 16 CPUs and 3,072 MB, 20 GB of 100 held by this domain. */
	CHECK_INT(d->ops->flavor(d, inst.uuid, &buf, &e), 1);
	CHECK_STR(buf.buf, "m1.small");
	big = inst;
	snprintf(big.flavor, sizeof(big.flavor), "m1.medium");
	big.memory_mb = 4096;
	memset(&e, 0, sizeof(e));
	CHECK_INT(d->ops->resize(d, &big, &e), -ENOSPC);
	CHECK_STR(e.cls, "ComputeResourcesUnavailable");
	CHECK_STR(e.message, "Insufficient compute resources: memory_mb: 2048 more "
		  "needed, 1024 free");
	CHECK_INT(d->ops->flavor(d, inst.uuid, &buf, &e), 1);
	CHECK_MSG(strcmp(buf.buf, "m1.small") == 0, "a refused resize changes nothing");
	big.memory_mb = 3072;
	big.vcpus = 4;
	CHECK_INT(d->ops->resize(d, &big, &e), 0);
	CHECK_INT(d->ops->resize(d, &big, &e), 0);
	CHECK_INT(d->ops->flavor(d, inst.uuid, &buf, &e), 1);
	CHECK_STR(buf.buf, "m1.medium");
	CHECK_INT(held(d, &used, &e), 0);
	CHECK_INT(used.memory_mb, 3072);
	CHECK_INT(used.vcpus, 4);
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_MSG(d->ops->resize(d, &inst, &e) == -EBUSY,
		  "a running domain is not resized: %s", e.message);
	CHECK_STR(e.cls, "InstanceInvalidState");
	CHECK_INT(d->ops->destroy(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->resize(d, &inst, &e), -ENOENT);
	CHECK_INT(d->ops->flavor(d, inst.uuid, &buf, &e), 0);
	strbuf_release(&buf);
	d->ops->close(d);
}

/* A private test hypervisor of a given size: libvirt reports that size,
 * domains work as on test:///default, and no other connection sees them. */
static void test_libvirt_test_host(void)
{
	const struct virt_sizes size = { 64, 262144, 2048 };
	struct libvirt_config cfg = {
		.uri = "test:///default", .virt_type = "test", .disk_gb = 42,
		.test_host = &size,
	};
	struct virt_domain_state *list = NULL;
	struct virt_driver *d = NULL;
	struct virt_instance inst;
	struct virt_host_info h;
	struct rpc_error e = { 0 };
	json_t *obj = instance_json();
	virConnectPtr conn;
	size_t n = 0;

	instance_from_json(obj, &inst, NULL);
	json_decref(obj);
	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), 0);
	if (!d)
		return;
	CHECK_INT(d->ops->host_info(d, &h, &e), 0);
	CHECK_MSG(h.total.vcpus == 64 && h.total.memory_mb == 262144 &&
		  h.total.disk_gb == 2048, "libvirt reports the size it was given "
		  "(%lld vCPUs, %lld MB, %lld GB)", h.total.vcpus,
		  h.total.memory_mb, h.total.disk_gb);
	CHECK_STR(h.hypervisor_type, "TEST");
	CHECK_INT(d->ops->list(d, &list, &n, &e), 0);
	CHECK_MSG(n == 0, "its own domain \"test\" is not listed");
	free(list);

	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	CHECK_INT(d->ops->power_state(d, inst.uuid), POWER_RUNNING);
	CHECK_INT(d->ops->list(d, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(list[0].uuid, LUUID);
		CHECK_MSG(list[0].sizes.vcpus == 2 && list[0].sizes.memory_mb == 2048 &&
			  list[0].sizes.disk_gb == 20, "listed with its sizes");
	}
	free(list);
	conn = virConnectOpen("test:///default");
	CHECK_MSG(conn && virConnectNumOfDefinedDomains(conn) == 0 &&
		  virConnectNumOfDomains(conn) == 1,
		  "test:///default has none of its domains");
	if (conn)
		virConnectClose(conn);
	CHECK_INT(d->ops->power_off(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->destroy(d, inst.uuid, &e), 0);
	CHECK_INT(d->ops->exists(d, inst.uuid, &e), 0);
	d->ops->close(d);
}

int main(void)
{
	test_instance_parsing();
	test_instance_contract();
	test_xml();
	test_image_parsing();
	test_xml_images();
	test_update_args();
	test_libvirt_driver();
	test_libvirt_lifecycle();
	test_libvirt_test_host();
	return test_done();
}
