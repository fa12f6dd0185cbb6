/*
 * network.c - definitions and the choice of the next address; see
 * network.h.
 */
#include "network.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc.h"

/* Parses what, one of the definition's addresses, which must be a host
 * address of cidr. */
static int parse_host(const char *name, const char *what, const char *s,
		      const struct ipv4_net *cidr, uint32_t *out,
		      struct rpc_error *e)
{
	char net[CIDR_STR_LEN];

	if (ipv4_parse(s, strlen(s), out) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "network %s: %s \"%s\" is not an IPv4 address",
				     name, what, s);
	if (*out < ipv4_net_first_host(cidr) || *out > ipv4_net_last_host(cidr))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "network %s: %s %s is not a host address of %s",
				     name, what, s, ipv4_net_format(cidr, net));
	return 0;
}

int netmgr_network_parse(const char *name, const char *cidr,
			 const char *gateway, const char *dhcp_start,
			 const char *dhcp_end, struct netmgr_network *net,
			 struct rpc_error *e)
{
	char why[128];
	int rc;

	memset(net, 0, sizeof(*net));
	snprintf(net->name, sizeof(net->name), "%s", name);
	if (ipv4_net_parse(cidr, strlen(cidr), &net->cidr, why, sizeof(why)) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "network %s: cidr \"%s\": %s", name, cidr, why);
	if (net->cidr.prefix < NETMGR_PREFIX_MIN || net->cidr.prefix > NETMGR_PREFIX_MAX)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "network %s: cidr %s: the prefix must be %d to %d",
				     name, cidr, NETMGR_PREFIX_MIN, NETMGR_PREFIX_MAX);
	rc = parse_host(name, "gateway", gateway, &net->cidr, &net->gateway, e);
	if (rc == 0)
		rc = parse_host(name, "dhcp_start", dhcp_start, &net->cidr,
				&net->dhcp_start, e);
	if (rc == 0)
		rc = parse_host(name, "dhcp_end", dhcp_end, &net->cidr,
				&net->dhcp_end, e);
	if (rc == 0 && net->dhcp_start > net->dhcp_end)
		rc = rpc_error_set(e, -EINVAL, "InvalidInput",
				   "network %s: dhcp_start %s is after dhcp_end %s",
				   name, dhcp_start, dhcp_end);
	return rc;
}

static const char *member(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

int netmgr_networks_from_json(json_t *list, struct netmgr_network *nets,
			      size_t max, size_t *n, struct rpc_error *e)
{
	size_t i, j;
	json_t *def;
	int rc;

	*n = 0;
	if (json_array_size(list) > max)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "more than %zu networks", max);
	json_array_foreach(list, i, def) {
		rc = netmgr_network_parse(member(def, "name"), member(def, "cidr"),
					  member(def, "gateway"),
					  member(def, "dhcp_start"),
					  member(def, "dhcp_end"), &nets[i], e);
		if (rc < 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(nets[j].name, nets[i].name) == 0)
				return rpc_error_set(e, -EINVAL, "InvalidInput",
						     "network %s is named twice",
						     nets[i].name);
	}
	*n = json_array_size(list);
	return 0;
}

int netmgr_next_address(const struct netmgr_network *net, uint32_t cursor,
			netmgr_used_fn used, void *ctx, uint32_t *out)
{
	uint32_t a, n, size = net->dhcp_end - net->dhcp_start + 1;
	int rc;

	a = cursor >= net->dhcp_start && cursor < net->dhcp_end ? cursor + 1 :
	    net->dhcp_start;
	for (n = 0; n < size; n++, a = a == net->dhcp_end ? net->dhcp_start : a + 1) {
		if (a == net->gateway)
			continue;
		rc = used(ctx, a);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			*out = a;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}
