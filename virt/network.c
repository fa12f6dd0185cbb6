/*
 * network.c - the host's libvirt networks for novafs NICs; see network.h.
 *
 * A DHCP host entry is added with virNetworkUpdate, never by redefining
 * the network: an update reaches the running dnsmasq (libvirt rewrites
 * its hosts file and signals it) without restarting the network, which
 * would cut every other guest on the bridge off.  libvirt refuses to add
 * an entry whose MAC, IP or name another entry has
 * (VIR_ERR_OPERATION_INVALID); the entry is then modified in place, the
 * one with this MAC or else this IP, which makes a redelivered request a
 * no-op.  An entry of another MAC on this IP is stale (novafs-network
 * hands an address to one NIC at a time, so the address was given
 * again after its instance went) and is replaced.  libvirt's test
 * driver (test:///default) implements all of this, so the integration
 * tests run it without a bridge.
 *
 * Network names and bridge names are [A-Za-z0-9._-] (instance.h checked
 * them), addresses are printed from integers: nothing here needs escaping.
 */
#include "network.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/virterror.h>

#include "common/netaddr.h"
#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "driver.h"

void network_xml_build(const struct virt_nic *nic, struct strbuf *out)
{
	char a[IPV4_STR_LEN], b[IPV4_STR_LEN];
	size_t i;

	strbuf_addf(out, "<network>\n  <name>%s</name>\n", nic->network);
	strbuf_addf(out, "  <bridge name='%s' stp='off' delay='0'/>\n",
		    nic->bridge);
	if (nic->ndns) {
		strbuf_addstr(out, "  <dns>\n");
		for (i = 0; i < nic->ndns; i++)
			strbuf_addf(out, "    <forwarder addr='%s'/>\n",
				    ipv4_format(nic->dns[i], a));
		strbuf_addstr(out, "  </dns>\n");
	}
	strbuf_addf(out, "  <ip address='%s' netmask='%s'>\n",
		    ipv4_format(nic->gateway, a),
		    ipv4_format(ipv4_net_mask(&nic->cidr), b));
	strbuf_addf(out, "    <dhcp>\n      <range start='%s' end='%s'/>\n"
		    "    </dhcp>\n  </ip>\n</network>\n",
		    ipv4_format(nic->dhcp_start, a), ipv4_format(nic->dhcp_end, b));
}

void network_xml_host(const struct virt_nic *nic, const char *name,
		      struct strbuf *out)
{
	char mac[MAC_STR_LEN], ip[IPV4_STR_LEN];

	strbuf_addf(out, "<host mac='%s' ip='%s' name='%s'/>",
		    mac_format(nic->mac, mac), ipv4_format(nic->ip, ip), name);
}

/* The flags of an update of net's live state, and of its persistent
 * definition when it has one. */
static unsigned update_flags(virNetworkPtr net)
{
	return VIR_NETWORK_UPDATE_AFFECT_LIVE |
	       (virNetworkIsPersistent(net) == 1 ?
		VIR_NETWORK_UPDATE_AFFECT_CONFIG : 0);
}

/* command on net's DHCP host entry host. */
static int update_host(virNetworkPtr net, unsigned command, const char *host)
{
	return virNetworkUpdate(net, command, VIR_NETWORK_SECTION_IP_DHCP_HOST,
				-1, host, update_flags(net));
}

/* The network called name: 0 with *net, NULL when there is none, or -EIO
 * with e. */
static int lookup(virConnectPtr conn, const char *name, virNetworkPtr *net,
		  struct rpc_error *e)
{
	*net = virNetworkLookupByName(conn, name);
	if (*net)
		return 0;
	if (virGetLastErrorCode() != VIR_ERR_NO_NETWORK)
		return libvirt_error(e);
	virResetLastError();
	return 0;
}

int network_plug(virConnectPtr conn, const struct virt_nic *nic,
		 const char *name, struct rpc_error *e)
{
	struct strbuf xml = STRBUF_INIT;
	virNetworkPtr net = NULL;
	bool defined = false;
	int r;

	r = lookup(conn, nic->network, &net, e);
	if (r < 0)
		goto out;
	if (!net) {
		network_xml_build(nic, &xml);
		net = virNetworkDefineXML(conn, xml.buf);
		if (!net) {
			r = libvirt_error(e);
			goto out;
		}
		defined = true;
	}
	if (virNetworkIsActive(net) != 1 && virNetworkCreate(net) < 0) {
		/* A network that cannot run (its range is the host's own,
		 * its bridge is taken) is not left defined by this call. */
		r = libvirt_error(e);
		if (defined)
			virNetworkUndefine(net);
		virResetLastError();
		goto out;
	}
	strbuf_reset(&xml);
	network_xml_host(nic, name, &xml);
	if (update_host(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, xml.buf) < 0 &&
	    (virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID ||
	     update_host(net, VIR_NETWORK_UPDATE_COMMAND_MODIFY, xml.buf) < 0))
		r = libvirt_error(e);
	virResetLastError();
out:
	if (net)
		virNetworkFree(net);
	strbuf_release(&xml);
	return r;
}

/* Takes the DHCP host entry of nic out of its network, if both are
 * there. */
static int remove_host(virConnectPtr conn, const struct domain_nic *nic,
		       struct rpc_error *e)
{
	struct strbuf host = STRBUF_INIT;
	virNetworkPtr net = NULL;
	int r;

	r = lookup(conn, nic->network, &net, e);
	if (r < 0 || !net)
		goto out;
	strbuf_addf(&host, "<host mac='%s'/>", nic->mac);
	/* A live update of an inactive network is refused: the definition
	 * alone then. */
	if (virNetworkUpdate(net, VIR_NETWORK_UPDATE_COMMAND_DELETE,
			     VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host.buf,
			     virNetworkIsActive(net) == 1 ? update_flags(net) :
			     VIR_NETWORK_UPDATE_AFFECT_CONFIG) < 0 &&
	    virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID)
		r = libvirt_error(e);
	virResetLastError();
out:
	if (net)
		virNetworkFree(net);
	strbuf_release(&host);
	return r;
}

/* Marks used[i] for each of nics on which a domain of conn has an
 * interface.  Domains that vanish meanwhile are left out. */
static int mark_used(virConnectPtr conn, const struct domain_nic *nics,
		     size_t n, bool *used, struct rpc_error *e)
{
	virDomainPtr *doms = NULL;
	struct domain_nic have;
	const char *p;
	char *xml;
	int i, count;
	size_t k;

	count = virConnectListAllDomains(conn, &doms, 0);
	if (count < 0)
		return libvirt_error(e);
	for (i = 0; i < count; i++) {
		xml = virDomainGetXMLDesc(doms[i], 0);
		for (p = xml; p && (p = domain_xml_next_nic(p, &have)); )
			for (k = 0; k < n; k++)
				used[k] |= strcmp(have.network, nics[k].network) == 0;
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	virResetLastError();
	return 0;
}

/* Destroys and undefines the network called name, if it is there. */
static int drop_network(virConnectPtr conn, const char *name,
			struct rpc_error *e)
{
	virNetworkPtr net = NULL;
	int r;

	r = lookup(conn, name, &net, e);
	if (r < 0 || !net)
		return r;
	if ((virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0) ||
	    (virNetworkIsPersistent(net) == 1 && virNetworkUndefine(net) < 0))
		r = virGetLastErrorCode() == VIR_ERR_NO_NETWORK ? 0 :
		    libvirt_error(e);
	virResetLastError();
	virNetworkFree(net);
	return r;
}

int network_unplug(virConnectPtr conn, const struct domain_nic *nics, size_t n,
		   struct rpc_error *e)
{
	bool *used = NULL;
	size_t i, k;
	int r = 0;

	for (i = 0; r == 0 && i < n; i++)
		r = remove_host(conn, &nics[i], e);
	if (r < 0 || n == 0)
		return r;
	used = calloc(n, sizeof(*used));
	if (!used)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	r = mark_used(conn, nics, n, used, e);
	for (i = 0; r == 0 && i < n; i++) {
		/* Once per network. */
		for (k = 0; k < i && strcmp(nics[k].network, nics[i].network); k++)
			;
		if (!used[i] && k == i)
			r = drop_network(conn, nics[i].network, e);
	}
	free(used);
	return r;
}
