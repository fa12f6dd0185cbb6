/*
 * network.h - the host's libvirt networks for novafs NICs, the way
 * nova-network's FlatDHCP manager kept a bridge and a dnsmasq per network
 * on each host: here libvirt's network driver keeps them.
 *
 * Each novafs network an instance of this host has a NIC on is a libvirt
 * network novafs-NAME: its bridge, no <forward> (isolated: nothing leaves
 * the host through it), the gateway's address on the bridge and a DHCP
 * range, and the network's DNS servers as dnsmasq forwarders.  Each NIC
 * is a DHCP host entry in it (<host mac ip name/>), so that the guest
 * always gets the fixed IP novafs-network gave it.  A network is made
 * when the first instance that needs it starts here, and goes when the
 * last domain that uses it goes: the host keeps no list of its own, the
 * domains' XML is the list.
 *
 * The XML builders are pure, for unit tests; the rest speaks libvirt on a
 * connection the libvirt driver owns (libvirt_driver.c), and like every
 * driver operation is idempotent, returns 0 or -errno and fills e
 * (libvirt_error(), driver.h) on failure.
 */
#ifndef NOVAFS_VIRT_NETWORK_H
#define NOVAFS_VIRT_NETWORK_H

#include <libvirt/libvirt.h>

#include "domain_xml.h"
#include "instance.h"

struct rpc_error;
struct strbuf;

/* Appends the definition of the libvirt network of nic's network. */
void network_xml_build(const struct virt_nic *nic, struct strbuf *out);

/* Appends the DHCP host entry of nic, for instance name. */
void network_xml_host(const struct virt_nic *nic, const char *name,
		      struct strbuf *out);

/*
 * Makes the host ready for nic of instance name: defines its libvirt
 * network from nic unless there is one of that name (which is then taken
 * as it is), starts it unless it runs, and adds the DHCP host entry, or
 * replaces the one with nic's MAC when it is there already (a redelivered
 * request, a rebuild), live and in the persistent definition.
 */
int network_plug(virConnectPtr conn, const struct virt_nic *nic,
		 const char *name, struct rpc_error *e);

/*
 * The domain with nics is gone: takes each NIC's DHCP host entry out of
 * its network, then destroys and undefines each of those networks that
 * no domain of conn has an interface on any more.  Networks and entries
 * already gone are fine.
 */
int network_unplug(virConnectPtr conn, const struct domain_nic *nics, size_t n,
		   struct rpc_error *e);

#endif
