/*
 * test_virt_network.c - NICs on a compute host: what instance_from_json
 * accepts and refuses in a NIC, the interfaces of the domain XML, the
 * libvirt network built from a NIC, the NICs read back from a domain's
 * XML, then the driver's plug/unplug on test:///default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "../../virt/domain_xml.h"
#include "../../virt/driver.h"
#include "../../virt/instance.h"
#include "../../virt/network.h"
#include "testhelp.h"

#define UUID_A "6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b"
#define UUID_B "6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6c"

static json_t *nic_json(const char *network, const char *bridge,
			const char *net24, const char *ip, const char *mac)
{
	char cidr[32], gw[32], start[32], end[32];

	snprintf(cidr, sizeof(cidr), "%s.0/24", net24);
	snprintf(gw, sizeof(gw), "%s.1", net24);
	snprintf(start, sizeof(start), "%s.10", net24);
	snprintf(end, sizeof(end), "%s.99", net24);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:s, s:s}",
			 "network", network, "bridge", bridge, "cidr", cidr,
			 "gateway", gw, "dhcp_start", start, "dhcp_end", end,
			 "dns", "192.0.2.53", "198.51.100.53", "ip", ip,
			 "mac", mac);
}

/* An instance on "private" (192.0.2.0/24) and "public" (198.51.100.0/24),
 * with the first nnics of those NICs. */
static json_t *instance_json(const char *uuid, const char *name, size_t nnics,
			     const char *ip_private, const char *mac_private)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:[]}",
				"uuid", uuid, "name", name, "flavor", "m1.tiny",
				"vcpus", 1, "memory_mb", 512, "disk_gb", 1, "nics");
	json_t *nics = json_object_get(obj, "nics");

	if (nnics > 0)
		json_array_append_new(nics, nic_json("private", "nvf-priv",
						     "192.0.2", ip_private,
						     mac_private));
	if (nnics > 1)
		json_array_append_new(nics, nic_json("public", "nvf-pub",
						     "198.51.100", "198.51.100.20",
						     "fa:16:3e:00:01:01"));
	return obj;
}

static void test_nic_parsing(void)
{
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	json_t *obj = instance_json(UUID_A, "web1", 2, "192.0.2.10",
				    "FA:16:3E:00:00:01");
	char s[IPV4_STR_LEN], m[MAC_STR_LEN];

	CHECK_INT(instance_from_json(obj, &inst, &e), 0);
	CHECK_INT(inst.nnics, 2);
	CHECK_STR(inst.nics[0].network, "novafs-private");
	CHECK_STR(inst.nics[0].bridge, "nvf-priv");
	CHECK_INT(inst.nics[0].cidr.prefix, 24);
	CHECK_STR(ipv4_format(inst.nics[0].gateway, s), "192.0.2.1");
	CHECK_STR(ipv4_format(inst.nics[0].ip, s), "192.0.2.10");
	CHECK_INT(inst.nics[0].ndns, 2);
	CHECK_STR(ipv4_format(inst.nics[0].dns[1], s), "198.51.100.53");
	CHECK_STR(mac_format(inst.nics[0].mac, m), "fa:16:3e:00:00:01");
	CHECK_STR(inst.nics[1].network, "novafs-public");
	json_object_del(obj, "nics");
	CHECK_INT(instance_from_json(obj, &inst, &e), 0);
	CHECK_MSG(inst.nnics == 0, "nics is optional");
	json_decref(obj);
}

/* A NIC that is not valid, and what the refusal says. */
struct nic_case {
	const char *key, *value;   /* key = NULL: the second NIC's MAC/network */
	const char *message;
};

static const struct nic_case bad_nics[] = {
	{ "bridge", "a/b", "nics[0].bridge: \"a/b\" is not an interface name" },
	{ "bridge", "..", "nics[0].bridge: \"..\" is not an interface name" },
	{ "cidr", "192.0.2.0/33", "nics[0].cidr: not ADDRESS/PREFIX (192.0.2.0/24)" },
	{ "cidr", "192.0.2.5/24", "nics[0].cidr: 192.0.2.5/24 has host bits set: the network is 192.0.2.0/24" },
	{ "cidr", "192.0.2.0/31", "nics[0].cidr: a /31 has no room for a gateway and a host" },
	{ "gateway", "192.0.2.256", "nics[0].gateway: not an IPv4 address" },
	{ "gateway", "198.51.100.1", "nics[0].gateway: 198.51.100.1 is not a host address of 192.0.2.0/24" },
	{ "gateway", "192.0.2.255", "nics[0].gateway: 192.0.2.255 is not a host address of 192.0.2.0/24" },
	{ "dhcp_start", "192.0.2.0", "nics[0].dhcp_start: 192.0.2.0 is not a host address of 192.0.2.0/24" },
	{ "dhcp_end", "192.0.2.9", "nics[0].dhcp_end: before dhcp_start" },
	{ "ip", "192.0.2.100", "nics[0].ip: outside the DHCP range" },
	{ "ip", "192.0.2.010", "nics[0].ip: not an IPv4 address" },
	{ "mac", "fa:16:3e:00:00:0g", "nics[0].mac: not a MAC address" },
	{ "mac", "00:16:3e:00:00:01", "nics[0].mac: not locally administered unicast" },
	{ "mac", "fb:16:3e:00:00:01", "nics[0].mac: not locally administered unicast" },
	{ "dns", "192.0.2.x", "nics[0].dns: [1] is not an IPv4 address" },
	{ NULL, "mac", "nics[1].mac: nics[0] has it already" },
	{ NULL, "network", "nics[1].network: nics[0] is on novafs-private already" },
};

static void test_nic_validation(void)
{
	struct virt_instance inst;
	size_t i;

	for (i = 0; i < sizeof(bad_nics) / sizeof(bad_nics[0]); i++) {
		const struct nic_case *c = &bad_nics[i];
		json_t *obj = instance_json(UUID_A, "web1", 2, "192.0.2.10",
					    "fa:16:3e:00:00:01");
		json_t *nics = json_object_get(obj, "nics");
		json_t *nic0 = json_array_get(nics, 0);
		json_t *nic1 = json_array_get(nics, 1);
		struct rpc_error e = { 0 };

		if (!c->key)
			json_object_set(nic1, c->value, json_object_get(nic0, c->value));
		else if (strcmp(c->key, "dns") == 0)
			json_array_set_new(json_object_get(nic0, "dns"), 1,
					   json_string(c->value));
		else
			json_object_set_new(nic0, c->key, json_string(c->value));
		/* The gateway may be anywhere, but the IP not on it. */
		CHECK_MSG(instance_from_json(obj, &inst, &e) == -EINVAL &&
			  strcmp(e.cls, "InvalidInput") == 0 &&
			  strcmp(e.message, c->message) == 0,
			  "refused: %s (got \"%s\")", c->message, e.message);
		json_decref(obj);
	}
}

static void test_nic_gateway(void)
{
	struct virt_instance inst;
	struct rpc_error e = { 0 };
	json_t *obj = instance_json(UUID_A, "web1", 1, "192.0.2.10",
				    "fa:16:3e:00:00:01");
	json_t *nic = json_array_get(json_object_get(obj, "nics"), 0);

	json_object_set_new(nic, "gateway", json_string("192.0.2.50"));
	CHECK_MSG(instance_from_json(obj, &inst, &e) == 0,
		  "a gateway inside the DHCP range is fine: %s", e.message);
	json_object_set_new(nic, "gateway", json_string("192.0.2.10"));
	CHECK_INT(instance_from_json(obj, &inst, &e), -EINVAL);
	CHECK_STR(e.message, "nics[0].ip: the gateway's");
	json_decref(obj);
}

static const char interface0[] =
	"    <interface type='network'>\n"
	"      <source network='novafs-private'/>\n"
	"      <mac address='fa:16:3e:00:00:01'/>\n"
	"      <model type='virtio'/>\n"
	"    </interface>\n";
static const char interface1[] =
	"    <interface type='network'>\n"
	"      <source network='novafs-public'/>\n"
	"      <mac address='fa:16:3e:00:01:01'/>\n"
	"      <model type='virtio'/>\n"
	"    </interface>\n";

static void test_domain_interfaces(void)
{
	struct virt_instance inst;
	struct strbuf xml = STRBUF_INIT;
	size_t n;

	for (n = 0; n <= 2; n++) {
		json_t *obj = instance_json(UUID_A, "web1", n, "192.0.2.10",
					    "fa:16:3e:00:00:01");
		const char *first, *second;

		instance_from_json(obj, &inst, NULL);
		json_decref(obj);
		strbuf_reset(&xml);
		CHECK_INT(domain_xml_build(&inst, "qemu", NULL, &xml), 0);
		first = strstr(xml.buf, interface0);
		second = strstr(xml.buf, interface1);
		CHECK_MSG((n > 0) == (first != NULL) && (n > 1) == (second != NULL),
			  "%zu NICs: %zu interfaces", n, n);
		CHECK_MSG(n < 2 || first < second, "%zu NICs: in order", n);
		CHECK_MSG(!first || first < strstr(xml.buf, "</devices>"),
			  "%zu NICs: among the devices", n);
	}
	strbuf_reset(&xml);
	CHECK_INT(domain_xml_build(&inst, "test", NULL, &xml), 0);
	CHECK_MSG(strstr(xml.buf, interface1) != NULL, "test domains have them too");
	strbuf_release(&xml);
}

static void test_network_xml(void)
{
	struct virt_instance inst;
	struct strbuf xml = STRBUF_INIT;
	json_t *obj = instance_json(UUID_A, "web1", 2, "192.0.2.10",
				    "fa:16:3e:00:00:01");
	json_t *nic1 = json_array_get(json_object_get(obj, "nics"), 1);

	json_object_set_new(nic1, "cidr", json_string("198.51.100.0/28"));
	json_object_set_new(nic1, "dhcp_start", json_string("198.51.100.4"));
	json_object_set_new(nic1, "dhcp_end", json_string("198.51.100.14"));
	json_object_set_new(nic1, "ip", json_string("198.51.100.5"));
	json_object_set_new(nic1, "dns", json_array());
	CHECK_INT(instance_from_json(obj, &inst, NULL), 0);
	json_decref(obj);

	network_xml_build(&inst.nics[0], &xml);
	CHECK_STR(xml.buf,
		  "<network>\n"
		  "  <name>novafs-private</name>\n"
		  "  <bridge name='nvf-priv' stp='off' delay='0'/>\n"
		  "  <dns>\n"
		  "    <forwarder addr='192.0.2.53'/>\n"
		  "    <forwarder addr='198.51.100.53'/>\n"
		  "  </dns>\n"
		  "  <ip address='192.0.2.1' netmask='255.255.255.0'>\n"
		  "    <dhcp>\n"
		  "      <range start='192.0.2.10' end='192.0.2.99'/>\n"
		  "    </dhcp>\n"
		  "  </ip>\n"
		  "</network>\n");
	CHECK_MSG(strstr(xml.buf, "<forward ") == NULL &&
		  strstr(xml.buf, "<forward>") == NULL, "isolated: no <forward>");
	strbuf_reset(&xml);
	network_xml_build(&inst.nics[1], &xml);
	CHECK(strstr(xml.buf, "<ip address='198.51.100.1' netmask='255.255.255.240'>") != NULL);
	CHECK(strstr(xml.buf, "<range start='198.51.100.4' end='198.51.100.14'/>") != NULL);
	CHECK_MSG(strstr(xml.buf, "<dns>") == NULL, "no DNS servers: no <dns>");
	strbuf_reset(&xml);
	network_xml_host(&inst.nics[0], inst.name, &xml);
	CHECK_STR(xml.buf, "<host mac='fa:16:3e:00:00:01' ip='192.0.2.10' name='web1'/>");
	strbuf_release(&xml);
}

/* What libvirt gives back for a domain: its own attribute order, other
 * interfaces beside novafs's. */
static void test_next_nic(void)
{
	static const char xml[] =
		"<domain type='kvm'><devices>\n"
		"  <interface type='bridge'>\n"
		"    <mac address='52:54:00:00:00:09'/>\n"
		"    <source bridge='br0'/>\n"
		"  </interface>\n"
		"  <interface type='network'>\n"
		"    <mac address='fa:16:3e:00:00:01'/>\n"
		"    <source network='novafs-private' portid='7a1c' bridge='nvf-priv'/>\n"
		"    <target dev='vnet0'/>\n"
		"  </interface>\n"
		"  <interface type='network'>\n"
		"    <mac address='52:54:00:00:00:0a'/>\n"
		"    <source network=\"default\"/>\n"
		"  </interface>\n"
		"  <interface type='network'>\n"
		"    <source network=\"novafs-public\"/>\n"
		"    <mac address=\"fa:16:3e:00:01:01\"/>\n"
		"  </interface>\n"
		"  <interface type='network'>\n"
		"    <source network='novafs-x&amp;y'/>\n"
		"    <mac address='fa:16:3e:00:02:01'/>\n"
		"  </interface>\n"
		"</devices></domain>\n";
	struct domain_nic nic;
	const char *p;

	p = domain_xml_next_nic(xml, &nic);
	CHECK(p != NULL);
	CHECK_STR(nic.network, "novafs-private");
	CHECK_STR(nic.mac, "fa:16:3e:00:00:01");
	p = p ? domain_xml_next_nic(p, &nic) : NULL;
	CHECK(p != NULL);
	CHECK_STR(nic.network, "novafs-public");
	CHECK_STR(nic.mac, "fa:16:3e:00:01:01");
	CHECK_MSG(!p || !domain_xml_next_nic(p, &nic),
		  "other networks, bridges and names with entities are not ours");
	CHECK(domain_xml_next_nic("<domain><devices/></domain>", &nic) == NULL);
	CHECK(domain_xml_next_nic("<interface type='network'><source network='novafs-a'/>",
				  &nic) == NULL);
}

/* The XML of network name on conn, or NULL when there is none. */
static char *network_xml(virConnectPtr conn, const char *name)
{
	virNetworkPtr net = virNetworkLookupByName(conn, name);
	char *xml = net ? virNetworkGetXMLDesc(net, 0) : NULL;

	if (net)
		virNetworkFree(net);
	return xml;
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (; s && (s = strstr(s, what)); s++)
		n++;
	return n;
}

/* The driver on test:///default, the way the manager calls it: plug,
 * define; domain_nics, destroy, unplug. */
static void test_driver(void)
{
	struct libvirt_config cfg = { .uri = "test:///default", .virt_type = "test" };
	struct domain_nic nics[DOMAIN_MAX_NICS];
	struct virt_instance a, b;
	struct virt_driver *d = NULL;
	struct rpc_error e = { 0 };
	virConnectPtr conn = virConnectOpen("test:///default");
	json_t *obj;
	char *xml;
	int n;

	obj = instance_json(UUID_A, "web1", 2, "192.0.2.10", "fa:16:3e:00:00:01");
	instance_from_json(obj, &a, NULL);
	json_decref(obj);
	obj = instance_json(UUID_B, "web2", 1, "192.0.2.11", "fa:16:3e:00:00:02");
	instance_from_json(obj, &b, NULL);
	json_decref(obj);
	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), 0);
	if (!d || !conn)
		return;

	CHECK_INT(d->ops->plug_nics(d, &a, &e), 0);
	CHECK_INT(d->ops->plug_nics(d, &a, &e), 0);
	CHECK_INT(d->ops->power_on(d, &a, &e), 0);
	xml = network_xml(conn, "novafs-private");
	CHECK_MSG(count_of(xml, "<host mac='fa:16:3e:00:00:01' name='web1' ip='192.0.2.10'/>") == 1,
		  "plugged twice: one host entry (%s)", xml ? xml : "no network");
	CHECK(strstr(xml ? xml : "", "<bridge name='nvf-priv'") != NULL);
	free(xml);
	xml = network_xml(conn, "novafs-public");
	CHECK_INT(count_of(xml, "<host mac='fa:16:3e:00:01:01' name='web1' ip='198.51.100.20'/>"), 1);
	free(xml);
	CHECK_INT(d->ops->plug_nics(d, &b, &e), 0);
	CHECK_INT(d->ops->power_on(d, &b, &e), 0);
	xml = network_xml(conn, "novafs-private");
	CHECK_INT(count_of(xml, "<host "), 2);
	free(xml);

	/* A new IP for a MAC the network has: the entry is replaced. */
	b.nics[0].ip++;
	CHECK_INT(d->ops->plug_nics(d, &b, &e), 0);
	xml = network_xml(conn, "novafs-private");
	CHECK_INT(count_of(xml, "<host mac='fa:16:3e:00:00:02' name='web2' ip='192.0.2.12'/>"), 1);
	CHECK_INT(count_of(xml, "<host "), 2);
	free(xml);
	/* Another MAC on an IP the network has: that entry is stale (the
	 * address was handed out again), and replaced. */
	b.nics[0].mac[5] = 9;
	CHECK_INT(d->ops->plug_nics(d, &b, &e), 0);
	b.nics[0].mac[5] = 2;
	CHECK_INT(d->ops->plug_nics(d, &b, &e), 0);
	xml = network_xml(conn, "novafs-private");
	CHECK_INT(count_of(xml, "<host mac='fa:16:3e:00:00:02' name='web2' ip='192.0.2.12'/>"), 1);
	CHECK_INT(count_of(xml, "<host mac='fa:16:3e:00:00:01' name='web1' ip='192.0.2.10'/>"), 1);
	CHECK_INT(count_of(xml, "<host "), 2);
	free(xml);

	n = d->ops->domain_nics(d, UUID_A, nics, &e);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(nics[0].network, "novafs-private");
		CHECK_STR(nics[0].mac, "fa:16:3e:00:00:01");
		CHECK_STR(nics[1].network, "novafs-public");
	}
	CHECK_INT(d->ops->destroy(d, UUID_A, &e), 0);
	CHECK_INT(d->ops->unplug_nics(d, nics, n < 0 ? 0 : (size_t)n, &e), 0);
	xml = network_xml(conn, "novafs-private");
	CHECK_MSG(xml && count_of(xml, "<host ") == 1 &&
		  strstr(xml, "fa:16:3e:00:00:02"), "web2 keeps its entry and the network");
	free(xml);
	xml = network_xml(conn, "novafs-public");
	CHECK_MSG(xml == NULL, "the network only web1 used is gone");
	free(xml);
	CHECK_INT(d->ops->unplug_nics(d, nics, (size_t)n, &e), 0);
	CHECK_INT(d->ops->domain_nics(d, UUID_A, nics, &e), 0);

	n = d->ops->domain_nics(d, UUID_B, nics, &e);
	CHECK_INT(n, 1);
	CHECK_INT(d->ops->destroy(d, UUID_B, &e), 0);
	CHECK_INT(d->ops->unplug_nics(d, nics, n < 0 ? 0 : (size_t)n, &e), 0);
	xml = network_xml(conn, "novafs-private");
	CHECK_MSG(xml == NULL, "the last domain took its network");
	free(xml);
	d->ops->close(d);
	virConnectClose(conn);
}

int main(void)
{
	test_nic_parsing();
	test_nic_validation();
	test_nic_gateway();
	test_domain_interfaces();
	test_network_xml();
	test_next_nic();
	test_driver();
	return test_done();
}
