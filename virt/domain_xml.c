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

static void add_escaped(struct strbuf *out, const char *s)
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

void domain_xml_metadata(const struct virt_instance *inst, struct strbuf *out)
{
	strbuf_addstr(out, "<" NOVAFS_XMLNS_PREFIX ":instance xmlns:"
		      NOVAFS_XMLNS_PREFIX "=\"" NOVAFS_XMLNS "\">\n");
	strbuf_addstr(out, "  <" NOVAFS_XMLNS_PREFIX ":name>");
	add_escaped(out, inst->name);
	strbuf_addstr(out, "</" NOVAFS_XMLNS_PREFIX ":name>\n");
	strbuf_addstr(out, "  <" NOVAFS_XMLNS_PREFIX ":flavor>");
	add_escaped(out, inst->flavor);
	strbuf_addstr(out, "</" NOVAFS_XMLNS_PREFIX ":flavor>\n");
	strbuf_addf(out, "  <" NOVAFS_XMLNS_PREFIX ":disk_gb>%llu</"
		    NOVAFS_XMLNS_PREFIX ":disk_gb>\n", inst->disk_gb);
	strbuf_addstr(out, "</" NOVAFS_XMLNS_PREFIX ":instance>\n");
}

int domain_xml_build(const struct virt_instance *inst, const char *virt_type,
		     struct strbuf *out)
{
	bool real = strcmp(virt_type, "qemu") == 0 || strcmp(virt_type, "kvm") == 0;
	char name[DOMAIN_NAME_LEN];

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
	strbuf_addstr(out, "  <os>\n    <type>hvm</type>\n  </os>\n");
	strbuf_addstr(out, "  <on_poweroff>destroy</on_poweroff>\n"
		      "  <on_reboot>restart</on_reboot>\n"
		      "  <on_crash>destroy</on_crash>\n");
	strbuf_addstr(out, "  <devices>\n");
	if (real)
		strbuf_addstr(out,
			      "    <serial type='pty'>\n"
			      "      <target port='0'/>\n"
			      "    </serial>\n"
			      "    <console type='pty'>\n"
			      "      <target type='serial' port='0'/>\n"
			      "    </console>\n");
	strbuf_addstr(out, "  </devices>\n</domain>\n");
	return 0;
}

int domain_xml_metadata_disk_gb(const char *xml, unsigned long long *out)
{
	const char *p = xml ? strstr(xml, ":disk_gb>") : NULL;
	char *end;

	if (!p)
		p = xml ? strstr(xml, "<disk_gb>") : NULL;
	if (!p)
		return -ENOENT;
	p = strchr(p, '>') + 1;
	if (*p < '0' || *p > '9')
		return -ENOENT;
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (errno || *end != '<')
		return -ENOENT;
	return 0;
}
