/*
 * instance.c - the instance objects compute hosts receive, as C structs;
 * see instance.h.
 */
#include "instance.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc.h"

/* The UUID member key of obj, lower-cased, into uuid. */
static void uuid_of(json_t *obj, const char *key, char uuid[UUID_STR_LEN])
{
	const char *s = json_string_value(json_object_get(obj, key));
	size_t i;

	for (i = 0; s && s[i] && i < UUID_STR_LEN - 1; i++)
		uuid[i] = (char)tolower((unsigned char)s[i]);
	uuid[i] = '\0';
}

void instance_uuid(json_t *obj, char uuid[UUID_STR_LEN])
{
	uuid_of(obj, "uuid", uuid);
}

static void copy_string(json_t *obj, const char *key, char *buf, size_t size)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(buf, size, "%s", s ? s : "");
}

static unsigned long long count(json_t *obj, const char *key)
{
	json_int_t n = json_integer_value(json_object_get(obj, key));

	return n > 0 ? (unsigned long long)n : 0;
}

/* The refusal of the instance's member where: -EINVAL with e, "where: "
 * and the reason. */
static int refuse(struct rpc_error *e, const char *where, const char *fmt,
		  va_list ap)
{
	char why[256];

	vsnprintf(why, sizeof(why), fmt, ap);
	return rpc_error_set(e, -EINVAL, "InvalidInput", "%s: %s", where, why);
}

/* The refusal of field of the instance's NIC i ("nics[i].field: ..."). */
static int __attribute__((format(printf, 4, 5)))
nic_invalid(struct rpc_error *e, size_t i, const char *field, const char *fmt, ...)
{
	char where[64];
	va_list ap;
	int rc;

	snprintf(where, sizeof(where), "nics[%zu].%s", i, field);
	va_start(ap, fmt);
	rc = refuse(e, where, fmt, ap);
	va_end(ap);
	return rc;
}

/* The refusal of field of the instance's image ("image.field: ..."). */
static int __attribute__((format(printf, 3, 4)))
image_invalid(struct rpc_error *e, const char *field, const char *fmt, ...)
{
	char where[64];
	va_list ap;
	int rc;

	snprintf(where, sizeof(where), "image.%s", field);
	va_start(ap, fmt);
	rc = refuse(e, where, fmt, ap);
	va_end(ap);
	return rc;
}

/* Parses the dotted quad v (a string: the contract says so) into *a.
 * Returns 0 or -EINVAL. */
static int address(json_t *v, uint32_t *a)
{
	return ipv4_parse(json_string_value(v), json_string_length(v), a);
}

/* A Linux interface name, as the kernel takes it (dev_valid_name), in the
 * characters a name of the contract has. */
static bool valid_bridge(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= NIC_BRIDGE_LEN || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* Fills nic from obj, the i-th of the instance's NICs (its members are
 * strings of the contract's lengths), and checks that its addresses make
 * one network. */
static int nic_from_json(json_t *obj, size_t i, struct virt_nic *nic,
			 struct rpc_error *e)
{
	static const struct { const char *key; size_t off; } addrs[] = {
		{ "gateway", offsetof(struct virt_nic, gateway) },
		{ "dhcp_start", offsetof(struct virt_nic, dhcp_start) },
		{ "dhcp_end", offsetof(struct virt_nic, dhcp_end) },
		{ "ip", offsetof(struct virt_nic, ip) },
	};
	json_t *cidr = json_object_get(obj, "cidr");
	json_t *mac = json_object_get(obj, "mac");
	json_t *dns = json_object_get(obj, "dns");
	char why[96];
	size_t k;

	snprintf(nic->network, sizeof(nic->network), NIC_NETWORK_PREFIX "%s",
		 json_string_value(json_object_get(obj, "network")));
	copy_string(obj, "bridge", nic->bridge, sizeof(nic->bridge));
	if (!valid_bridge(nic->bridge))
		return nic_invalid(e, i, "bridge", "\"%s\" is not an interface name",
				   nic->bridge);
	if (ipv4_net_parse(json_string_value(cidr), json_string_length(cidr),
			   &nic->cidr, why, sizeof(why)) < 0)
		return nic_invalid(e, i, "cidr", "%s", why);
	if (nic->cidr.prefix > 30)
		return nic_invalid(e, i, "cidr", "a /%u has no room for a gateway "
				   "and a host", nic->cidr.prefix);
	for (k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++) {
		uint32_t *a = (uint32_t *)((char *)nic + addrs[k].off);
		char s[IPV4_STR_LEN];

		if (address(json_object_get(obj, addrs[k].key), a) < 0)
			return nic_invalid(e, i, addrs[k].key,
					   "not an IPv4 address");
		if (*a < ipv4_net_first_host(&nic->cidr) ||
		    *a > ipv4_net_last_host(&nic->cidr))
			return nic_invalid(e, i, addrs[k].key, "%s is not a host "
					   "address of %s", ipv4_format(*a, s),
					   json_string_value(cidr));
	}
	if (nic->dhcp_start > nic->dhcp_end)
		return nic_invalid(e, i, "dhcp_end", "before dhcp_start");
	if (nic->ip < nic->dhcp_start || nic->ip > nic->dhcp_end)
		return nic_invalid(e, i, "ip", "outside the DHCP range");
	if (nic->ip == nic->gateway)
		return nic_invalid(e, i, "ip", "the gateway's");
	if (mac_parse(json_string_value(mac), json_string_length(mac), nic->mac) < 0)
		return nic_invalid(e, i, "mac", "not a MAC address");
	if (!mac_is_local_unicast(nic->mac))
		return nic_invalid(e, i, "mac", "not locally administered unicast");
	nic->ndns = json_array_size(dns);
	for (k = 0; k < nic->ndns && k < NIC_MAX_DNS; k++)
		if (address(json_array_get(dns, k), &nic->dns[k]) < 0)
			return nic_invalid(e, i, "dns", "[%zu] is not an IPv4 "
					   "address", k);
	return 0;
}

/* The image file path of obj (an image or its kernel or ramdisk, field of
 * the image) into buf, which must be absolute: the host resolves no path
 * against its own working directory. */
static int image_path(json_t *obj, const char *field, char buf[IMAGE_PATH_MAX],
		      struct rpc_error *e)
{
	copy_string(obj, "path", buf, IMAGE_PATH_MAX);
	if (buf[0] != '/')
		return image_invalid(e, field, "\"%s\" is not an absolute path",
				     buf);
	return 0;
}

/* Fills img from the instance's image obj (NULL: none, IMAGE_NONE). */
static int image_from_json(json_t *obj, struct virt_image *img,
			   struct rpc_error *e)
{
	/* Glance's formats, as a disk: ami is a raw disk with a kernel and
	 * ramdisk beside it; aki and ari are those, never a disk. */
	static const struct { const char *format; enum image_kind kind; } kinds[] = {
		{ "raw", IMAGE_RAW }, { "ami", IMAGE_RAW },
		{ "qcow2", IMAGE_QCOW2 }, { "iso", IMAGE_ISO },
	};
	const char *format = json_string_value(json_object_get(obj, "disk_format"));
	json_t *kernel = json_object_get(obj, "kernel");
	json_t *ramdisk = json_object_get(obj, "ramdisk");
	size_t i;
	int rc;

	if (!obj)
		return 0;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(format, kinds[i].format) == 0)
			img->kind = kinds[i].kind;
	if (img->kind == IMAGE_NONE)
		return image_invalid(e, "disk_format", "an %s image is a %s: an "
				     "instance boots from a disk image that names "
				     "it, not from it", format,
				     strcmp(format, "aki") == 0 ? "kernel" : "ramdisk");
	uuid_of(obj, "id", img->id);
	copy_string(obj, "name", img->name, sizeof(img->name));
	img->virtual_size = count(obj, "virtual_size");
	rc = image_path(obj, "path", img->path, e);
	if (rc == 0 && kernel) {
		uuid_of(kernel, "id", img->kernel_id);
		rc = image_path(kernel, "kernel.path", img->kernel, e);
	}
	if (rc == 0 && ramdisk && !kernel)
		rc = image_invalid(e, "ramdisk", "a ramdisk needs a kernel");
	if (rc == 0 && ramdisk) {
		uuid_of(ramdisk, "id", img->ramdisk_id);
		rc = image_path(ramdisk, "ramdisk.path", img->ramdisk, e);
	}
	return rc;
}

int instance_from_json(json_t *obj, struct virt_instance *inst,
		       struct rpc_error *e)
{
	json_t *nics = json_object_get(obj, "nics");
	size_t i, j;
	int rc;

	memset(inst, 0, sizeof(*inst));
	instance_uuid(obj, inst->uuid);
	copy_string(obj, "name", inst->name, sizeof(inst->name));
	copy_string(obj, "flavor", inst->flavor, sizeof(inst->flavor));
	inst->vcpus = (unsigned)count(obj, "vcpus");
	inst->memory_mb = count(obj, "memory_mb");
	inst->disk_gb = count(obj, "disk_gb");
	for (i = 0; i < json_array_size(nics) && i < RPC_MAX_NICS; i++) {
		struct virt_nic *nic = &inst->nics[i];

		rc = nic_from_json(json_array_get(nics, i), i, nic, e);
		if (rc < 0)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp(inst->nics[j].network, nic->network) == 0)
				return nic_invalid(e, i, "network", "nics[%zu] "
						   "is on %s already", j,
						   nic->network);
			if (memcmp(inst->nics[j].mac, nic->mac, 6) == 0)
				return nic_invalid(e, i, "mac", "nics[%zu] has "
						   "it already", j);
		}
		inst->nnics = i + 1;
	}
	return image_from_json(json_object_get(obj, "image"), &inst->image, e);
}
