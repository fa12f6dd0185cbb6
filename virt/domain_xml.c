/*
 * domain_xml.c - building novafs domain XML; see domain_xml.h.
 *
 * Only the instance name and flavor are free text; they are escaped (the
 * contract allows no character that needs it today, but the XML must not
 * depend on that).  The uuid was checked by the bus, and numbers are
 * numbers.
 */
#include "domain_xml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

void domain_xml_name(const char *uuid, char buf[DOMAIN_NAME_LEN])
{
	snprintf(buf, DOMAIN_NAME_LEN, "%s%s", INSTANCE_DOMAIN_PREFIX, uuid);
}

void domain_xml_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			strbuf_addstr(out, "&amp;");
			break;
		case '<':
			strbuf_addstr(out, "&lt;");
			break;
		case '>':
			strbuf_addstr(out, "&gt;");
			break;
		case '"':
			strbuf_addstr(out, "&quot;");
			break;
		case '\'':
			strbuf_addstr(out, "&apos;");
			break;
		default:
			strbuf_addch(out, *s);
		}
	}
}

static void add_interface(struct strbuf *out, const struct virt_nic *nic)
{
	char mac[MAC_STR_LEN];

	strbuf_addstr(out, "    <interface type='network'>\n"
		      "      <source network='");
	domain_xml_escape(out, nic->network);
	strbuf_addf(out, "'/>\n"
		    "      <mac address='%s'/>\n"
		    "      <model type='virtio'/>\n"
		    "    </interface>\n", mac_format(nic->mac, mac));
}

/* Appends <tag>text</tag>, text escaped, at the indentation of os's
 * children and devices' grandchildren. */
static void add_element(struct strbuf *out, const char *tag, const char *text)
{
	strbuf_addf(out, "    <%s>", tag);
	domain_xml_escape(out, text);
	strbuf_addf(out, "</%s>\n", tag);
}

/* How the guest boots, in <os>: the image's kernel directly, with a
 * serial console (and the disk as its root), or else the firmware from
 * the CD-ROM first, then the disk. */
static void add_boot(struct strbuf *out, const struct virt_instance *inst)
{
	const struct virt_image *img = &inst->image;

	if (img->kernel[0]) {
		add_element(out, "kernel", img->kernel);
		if (img->ramdisk[0])
			add_element(out, "initrd", img->ramdisk);
		strbuf_addf(out, "    <cmdline>console=ttyS0%s</cmdline>\n",
			    inst->disk ? " root=/dev/vda" : "");
		return;
	}
	if (img->kind == IMAGE_ISO)
		strbuf_addstr(out, "    <boot dev='cdrom'/>\n");
	if (inst->disk)
		strbuf_addstr(out, "    <boot dev='hd'/>\n");
}

/* Appends <source file='path'/> at depth indent. */
static void add_source(struct strbuf *out, int indent, const char *path)
{
	strbuf_addf(out, "%*s<source file='", indent, "");
	domain_xml_escape(out, path);
	strbuf_addstr(out, "'/>\n");
}

/* The disk (a qcow2 volume, disk.h: an overlay on a disk image, blank
 * beside an iso) as virtio vda, and an iso as a read-only IDE CD-ROM,
 * which every machine type QEMU defaults to on x86 has.  The overlay's
 * backing file is spelled out, ending the chain: libvirt then uses it as
 * given rather than probe the image, and the test driver, which opens no
 * file, records it. */
static void add_disks(struct strbuf *out, const struct virt_instance *inst)
{
	const struct virt_image *img = &inst->image;

	if (inst->disk) {
		strbuf_addstr(out, "    <disk type='file' device='disk'>\n"
			      "      <driver name='qemu' type='qcow2'/>\n");
		add_source(out, 6, inst->disk);
		if (img->kind != IMAGE_ISO) {
			strbuf_addf(out, "      <backingStore type='file'>\n"
				    "        <format type='%s'/>\n",
				    img->kind == IMAGE_QCOW2 ? "qcow2" : "raw");
			add_source(out, 8, img->path);
			strbuf_addstr(out, "        <backingStore/>\n"
				      "      </backingStore>\n");
		}
		strbuf_addstr(out, "      <target dev='vda' bus='virtio'/>\n"
			      "    </disk>\n");
	}
	if (img->kind == IMAGE_ISO) {
		strbuf_addstr(out, "    <disk type='file' device='cdrom'>\n"
			      "      <driver name='qemu' type='raw'/>\n");
		add_source(out, 6, img->path);
		strbuf_addstr(out, "      <target dev='hdc' bus='ide'/>\n"
			      "      <readonly/>\n"
			      "    </disk>\n");
	}
}

void domain_xml_metadata(const struct virt_instance *inst, struct strbuf *out)
{
	strbuf_addstr(out, "<" NOVAFS_XMLNS_PREFIX ":instance xmlns:"
		      NOVAFS_XMLNS_PREFIX "=\"" NOVAFS_XMLNS "\">\n");
	strbuf_addstr(out, "  <" NOVAFS_XMLNS_PREFIX ":name>");
	domain_xml_escape(out, inst->name);
	strbuf_addstr(out, "</" NOVAFS_XMLNS_PREFIX ":name>\n");
	strbuf_addstr(out, "  <" NOVAFS_XMLNS_PREFIX ":flavor>");
	domain_xml_escape(out, inst->flavor);
	strbuf_addstr(out, "</" NOVAFS_XMLNS_PREFIX ":flavor>\n");
	strbuf_addf(out, "  <" NOVAFS_XMLNS_PREFIX ":disk_gb>%llu</"
		    NOVAFS_XMLNS_PREFIX ":disk_gb>\n", inst->disk_gb);
	strbuf_addstr(out, "</" NOVAFS_XMLNS_PREFIX ":instance>\n");
}

void domain_xml_console_log(const char *console_dir, const char *uuid,
			    struct strbuf *out)
{
	char name[DOMAIN_NAME_LEN];

	domain_xml_name(uuid, name);
	strbuf_addf(out, "%s/%s.log", console_dir, name);
}

int domain_xml_build(const struct virt_instance *inst, const char *virt_type,
		     const char *console_dir, struct strbuf *out)
{
	bool real = strcmp(virt_type, "qemu") == 0 || strcmp(virt_type, "kvm") == 0;
	struct strbuf log = STRBUF_INIT;
	char name[DOMAIN_NAME_LEN];
	size_t i;

	if (!real && strcmp(virt_type, "test") != 0)
		return -EINVAL;
	domain_xml_name(inst->uuid, name);
	strbuf_addf(out, "<domain type='%s'>\n", virt_type);
	strbuf_addf(out, "  <name>%s</name>\n", name);
	strbuf_addf(out, "  <uuid>%s</uuid>\n", inst->uuid);
	strbuf_addstr(out, "  <metadata>\n");
	domain_xml_metadata(inst, out);
	strbuf_addstr(out, "  </metadata>\n");
	strbuf_addf(out, "  <memory unit='MiB'>%llu</memory>\n", inst->memory_mb);
	strbuf_addf(out, "  <vcpu>%u</vcpu>\n", inst->vcpus);
	strbuf_addstr(out, "  <os>\n    <type>hvm</type>\n");
	add_boot(out, inst);
	/* The firmware prints on the serial console too, so that even a
	 * diskless guest says something there. */
	if (real)
		strbuf_addstr(out, "    <bios useserial='yes'/>\n");
	strbuf_addstr(out, "  </os>\n");
	/* Without ACPI, QEMU runs with -no-acpi and a clean shutdown (the
	 * power button) never reaches the guest (Nova sets both). */
	strbuf_addstr(out, "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
	strbuf_addstr(out, "  <on_poweroff>destroy</on_poweroff>\n"
		      "  <on_reboot>restart</on_reboot>\n"
		      "  <on_crash>destroy</on_crash>\n");
	strbuf_addstr(out, "  <devices>\n");
	if (real) {
		strbuf_addstr(out, "    <serial type='pty'>\n");
		if (console_dir) {
			domain_xml_console_log(console_dir, inst->uuid, &log);
			strbuf_addstr(out, "      <log file='");
			domain_xml_escape(out, log.buf);
			strbuf_addstr(out, "' append='off'/>\n");
		}
		strbuf_addstr(out,
			      "      <target port='0'/>\n"
			      "    </serial>\n"
			      "    <console type='pty'>\n"
			      "      <target type='serial' port='0'/>\n"
			      "    </console>\n");
	}
	add_disks(out, inst);
	for (i = 0; i < inst->nnics; i++)
		add_interface(out, &inst->nics[i]);
	strbuf_addstr(out, "  </devices>\n</domain>\n");
	strbuf_release(&log);
	return 0;
}

/*
 * The value of attribute name of the element that starts at tag (at its
 * '<'), into buf.  Returns false when the element has no such attribute,
 * or one too long for buf or with an entity in it: no name novafs gives
 * has one.
 */
static bool attr(const char *tag, const char *name, char *buf, size_t size)
{
	const char *end = strchr(tag, '>'), *p, *v;
	size_t n = strlen(name), len;

	for (p = tag; end && (p = strstr(p + 1, name)) && p < end; ) {
		if (p[-1] != ' ' || p[n] != '=' || (p[n + 1] != '\'' && p[n + 1] != '"'))
			continue;
		v = p + n + 2;
		len = strcspn(v, p[n + 1] == '\'' ? "'" : "\"");
		if (len >= size || memchr(v, '&', len))
			return false;
		memcpy(buf, v, len);
		buf[len] = '\0';
		return true;
	}
	return false;
}

const char *domain_xml_next_nic(const char *xml, struct domain_nic *nic)
{
	const char *p, *end, *source, *mac;

	for (p = strstr(xml, "<interface "); p; p = strstr(end, "<interface ")) {
		end = strstr(p, "</interface>");
		if (!end)
			return NULL;
		source = strstr(p, "<source ");
		mac = strstr(p, "<mac ");
		if (source && source < end && mac && mac < end &&
		    attr(source, "network", nic->network, sizeof(nic->network)) &&
		    attr(mac, "address", nic->mac, sizeof(nic->mac)) &&
		    strncmp(nic->network, NIC_NETWORK_PREFIX,
			    strlen(NIC_NETWORK_PREFIX)) == 0)
			return end;
	}
	return NULL;
}

/* The text after "<tag>" or "<PREFIX:tag>" in xml, or NULL. */
static const char *element_text(const char *xml, const char *tag)
{
	size_t n = strlen(tag);
	const char *p;

	for (p = strstr(xml, tag); p; p = strstr(p + 1, tag)) {
		if (p[n] != '>' || p == xml)
			continue;
		if (p[-1] == '<')
			return p + n + 1;
		if (p[-1] == ':') {
			/* Back over the prefix to its '<' (not a '</'). */
			const char *q = p - 1;

			while (q > xml && q[-1] != '<' && q[-1] != '/' &&
			       q[-1] != '>' && q[-1] != ' ')
				q--;
			if (q > xml && q[-1] == '<')
				return p + n + 1;
		}
	}
	return NULL;
}

int domain_xml_metadata_text(const char *xml, const char *tag,
			     struct strbuf *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *p = xml ? element_text(xml, tag) : NULL;
	size_t i;

	strbuf_reset(out);
	if (!p)
		return -ENOENT;
	while (*p && *p != '<') {
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (strncmp(p, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < sizeof(ents) / sizeof(ents[0])) {
			strbuf_addch(out, ents[i].c);
			p += strlen(ents[i].ent);
		} else {
			strbuf_addch(out, *p++);
		}
	}
	return 0;
}

int domain_xml_metadata_disk_gb(const char *xml, unsigned long long *out)
{
	struct strbuf text = STRBUF_INIT;
	char *end;
	int r = domain_xml_metadata_text(xml, "disk_gb", &text);

	if (r == 0 && (text.buf[0] < '0' || text.buf[0] > '9'))
		r = -ENOENT;
	if (r == 0) {
		errno = 0;
		*out = strtoull(text.buf, &end, 10);
		if (errno || *end)
			r = -ENOENT;
	}
	strbuf_release(&text);
	return r;
}
