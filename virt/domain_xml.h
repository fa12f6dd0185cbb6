/*
 * domain_xml.h - the libvirt domain XML of a novafs instance.
 *
 * A pure function of the instance and the virt type, so that unit tests
 * check exactly what libvirt will be given.  The domain is named
 * instance-<uuid>, carries the instance UUID as its libvirt UUID, and a
 * <metadata> element in the novafs namespace with the instance's name,
 * flavor and disk size: libvirt keeps it with the domain, so a compute
 * host can count the resources its domains hold without a database.
 *
 * For qemu and kvm the machine is minimal: os type hvm and a serial
 * console on a pty (the firmware's output included).  The serial console is logged by virtlogd to a file of the
 * host's console directory (<log file='DIR/instance-<uuid>.log'
 * append='off'/>: each boot starts it afresh), which the compute host
 * tails (console.h).
 *
 * An instance with an image (instance.h) has, on every domain type, its
 * disk (inst->disk, a qcow2 volume the driver made, disk.h) as virtio vda, an iso as
 * a read-only CD-ROM it boots from, and with a kernel a direct kernel
 * boot (kernel, initrd, "console=ttyS0", and "root=/dev/vda" when it has
 * a disk).  Without one it has no disk.
 *
 * Each NIC of the instance is an <interface type='network'> on its
 * network's libvirt network (network.h), with the MAC novafs-network gave
 * it (the DHCP host entry there matches that MAC to the instance's IP),
 * virtio, in the instance's order; domains of any type have them.  The
 * same interfaces are read back from a domain's XML when it goes, so that
 * its DHCP host entries and networks can go too.
 */
#ifndef NOVAFS_VIRT_DOMAIN_XML_H
#define NOVAFS_VIRT_DOMAIN_XML_H

#include "instance.h"

struct strbuf;

#define NOVAFS_XMLNS "http://novafs.org/xmlns/instance/1"
#define NOVAFS_XMLNS_PREFIX "novafs"

/* "instance-<uuid>" into buf. */
#define DOMAIN_NAME_LEN (sizeof(INSTANCE_DOMAIN_PREFIX) - 1 + UUID_STR_LEN)
void domain_xml_name(const char *uuid, char buf[DOMAIN_NAME_LEN]);

/* The console log of instance uuid in console_dir:
 * "console_dir/instance-<uuid>.log", appended to out. */
void domain_xml_console_log(const char *console_dir, const char *uuid,
			    struct strbuf *out);

/*
 * Appends the domain XML for inst to out.  virt_type is the libvirt domain
 * type: "test", "qemu" or "kvm"; qemu and kvm domains log their serial
 * console into console_dir (NULL: not logged).  The disk is inst->disk.
 * Returns 0, or -EINVAL for another virt_type (out is then unchanged).
 */
int domain_xml_build(const struct virt_instance *inst, const char *virt_type,
		     const char *console_dir, struct strbuf *out);

/* Appends s with the five characters XML gives entities escaped. */
void domain_xml_escape(struct strbuf *out, const char *s);

/* Appends the novafs metadata element alone (what virDomainGetMetadata
 * returns for NOVAFS_XMLNS, give or take whitespace). */
void domain_xml_metadata(const struct virt_instance *inst, struct strbuf *out);

/* The most NICs a novafs domain has. */
#define DOMAIN_MAX_NICS RPC_MAX_NICS

/* A NIC as a domain's XML has it: on a novafs libvirt network (named
 * NIC_NETWORK_PREFIX...), with a MAC. */
struct domain_nic {
	char network[NIC_NETWORK_LEN];
	char mac[MAC_STR_LEN];
};

/*
 * Reads the next <interface> of domain XML xml (libvirt's, or this
 * module's) that has a <source network='novafs-...'/> and a <mac
 * address='...'/> into nic, skipping the others.  Returns where to look
 * for the next one, or NULL when there is none.  Loop with
 *   for (p = domain_xml_next_nic(xml, &nic); p; p = domain_xml_next_nic(p, &nic))
 */
const char *domain_xml_next_nic(const char *xml, struct domain_nic *nic);

/* Reads the text of element tag ("flavor", "disk_gb") back from a
 * metadata element, whatever its namespace prefix, with the five XML
 * entities decoded, into out (which it resets).  Returns 0, or -ENOENT
 * when xml is NULL or has no such element. */
int domain_xml_metadata_text(const char *xml, const char *tag,
			     struct strbuf *out);

/* Reads disk_gb back from a metadata element.  Returns 0, or -ENOENT when
 * the element holds no valid disk_gb. */
int domain_xml_metadata_disk_gb(const char *xml, unsigned long long *out);

#endif
