/*
 * network.c - the network kind (see network.h).
 */
#include "network.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "rpc/states.h"
#include "conductor.h"
#include "instance.h"
#include "node.h"
#include "obj.h"
#include "objops.h"
#include "store.h"

#define DEP(f) (1ULL << (f))
#define FAULT_MAX 1024
#define PREFIX_MIN 8
#define PREFIX_MAX 29
#define BRIDGE_PREFIX "nvbr-"

static const struct field fields[] = {
	[N_CIDR] = { "cidr", FIELD_BYTES, FIELD_EVENT, NULL, 0 },
	[N_GATEWAY] = { "gateway", FIELD_BYTES, 0, NULL, 0 },
	[N_DHCP_START] = { "dhcp_start", FIELD_BYTES, 0, NULL, 0 },
	[N_DHCP_END] = { "dhcp_end", FIELD_BYTES, 0, NULL, 0 },
	[N_DNS] = { "dns", FIELD_BYTES, 0, NULL, 0 },
	[N_BRIDGE] = { "bridge", FIELD_BYTES, 0, NULL, 0 },
	[N_FAULT] = { "fault", FIELD_TEXT, 0, NULL, 0 },
};

/* The files of a definition, each as written (one slice of bytes). */
struct raw_def {
	const char *v[N_FAULT];
	size_t len[N_FAULT];
};

static void raw_of(const struct obj *n, struct raw_def *raw)
{
	unsigned f;

	for (f = 0; f < N_FAULT; f++) {
		raw->v[f] = obj_text(n, f);
		raw->len[f] = obj_len(n, f);
	}
}

struct obj *network_find(const char *name)
{
	return coll_find(obj_top_coll(&network_kind), name);
}

/* The bridge a network called name gets when none is written: nvbr-NAME,
 * or, for a name too long for an interface, nvbr- and 40 bits of its
 * hash. */
static void default_bridge(const char *name, char out[NETWORK_BRIDGE_MAX + 1])
{
	if (strlen(BRIDGE_PREFIX) + strlen(name) <= NETWORK_BRIDGE_MAX)
		snprintf(out, NETWORK_BRIDGE_MAX + 1, BRIDGE_PREFIX "%s", name);
	else
		snprintf(out, NETWORK_BRIDGE_MAX + 1, BRIDGE_PREFIX "%010" PRIx64,
			 (uint64_t)(hash_str(name) & 0xffffffffffULL));
}

static bool bridge_name_valid(const char *s, size_t len)
{
	size_t i;

	if (!len || len > NETWORK_BRIDGE_MAX || (len <= 2 && s[0] == '.' &&
						 (len == 1 || s[1] == '.')))
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* Parses the address written to file (trimmed) into *a, inside d's
 * cidr as a host address; the default when nothing is written. */
static int parse_host(const char *file, const char *v, size_t len,
		      const struct network_def *d, uint32_t def, uint32_t *a,
		      struct rpc_error *e)
{
	char cidr[CIDR_STR_LEN];

	text_trim(&v, &len);
	if (!len) {
		*a = def;
		return 0;
	}
	if (ipv4_parse(v, len, a) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s \"%.*s\" is not an IPv4 address", file,
				     (int)(len > 32 ? 32 : len), v);
	if (!ipv4_net_contains(&d->cidr, *a) || *a < ipv4_net_first_host(&d->cidr) ||
	    *a > ipv4_net_last_host(&d->cidr))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s %.*s is not a host address of %s", file,
				     (int)len, v, ipv4_net_format(&d->cidr, cidr));
	return 0;
}

/* The dns file: one address a line, blank lines ignored. */
static int parse_dns(const char *v, size_t len, struct network_def *d,
		     struct rpc_error *e)
{
	const char *end = v + len, *line;
	size_t n;

	d->ndns = 0;
	while (text_next_line(&v, end, &line, &n)) {
		if (d->ndns == NETWORK_MAX_DNS)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "dns: at most %d addresses", NETWORK_MAX_DNS);
		if (ipv4_parse(line, n, &d->dns[d->ndns]) < 0)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "dns: \"%.*s\" is not an IPv4 address",
					     (int)(n > 32 ? 32 : n), line);
		d->ndns++;
	}
	return 0;
}

/* The bridge file (trimmed): an interface name, or the default. */
static int parse_bridge(const char *name, const char *v, size_t len,
			struct network_def *d, struct rpc_error *e)
{
	text_trim(&v, &len);
	if (!len)
		default_bridge(name, d->bridge);
	else if (!bridge_name_valid(v, len))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "bridge \"%.*s\" is not an interface name "
				     "([A-Za-z0-9._-], 1 to %d bytes)",
				     (int)(len > 32 ? 32 : len), v, NETWORK_BRIDGE_MAX);
	else
		snprintf(d->bridge, sizeof(d->bridge), "%.*s", (int)len, v);
	return 0;
}

/* The definition raw makes for a network called name, defaults filled;
 * 0, or -EINVAL with e saying which file is wrong, or -ENODATA when it
 * has no cidr (nor anything that needs one). */
static int parse_def(const char *name, const struct raw_def *raw,
		     struct network_def *d, struct rpc_error *e)
{
	char why[128];
	const char *v = raw->v[N_CIDR];
	size_t len = raw->len[N_CIDR];
	uint32_t first, last;
	unsigned f;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = parse_dns(raw->v[N_DNS], raw->len[N_DNS], d, e)) < 0 ||
	    (rc = parse_bridge(name, raw->v[N_BRIDGE], raw->len[N_BRIDGE], d, e)) < 0)
		return rc;
	text_trim(&v, &len);
	if (!len) {
		for (f = N_GATEWAY; f <= N_DHCP_END; f++) {
			const char *o = raw->v[f];
			size_t olen = raw->len[f];

			text_trim(&o, &olen);
			if (olen)
				return rpc_error_set(e, -EINVAL, "InvalidInput",
						     "network %s has no cidr: write "
						     "networks/%s/cidr first", name, name);
		}
		return rpc_error_set(e, -ENODATA, "InvalidInput",
				     "network %s has no cidr (write one to "
				     "networks/%s/cidr)", name, name);
	}
	if (ipv4_net_parse(v, len, &d->cidr, why, sizeof(why)) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput", "cidr: %s", why);
	if (d->cidr.prefix < PREFIX_MIN || d->cidr.prefix > PREFIX_MAX)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "cidr: a prefix of /%u is not one of /%d to /%d",
				     d->cidr.prefix, PREFIX_MIN, PREFIX_MAX);
	first = ipv4_net_first_host(&d->cidr);
	if ((rc = parse_host("gateway", raw->v[N_GATEWAY], raw->len[N_GATEWAY],
			     d, first, &d->gateway, e)) < 0)
		return rc;
	/* By default the range is every host address but a gateway at
	 * either end. */
	last = ipv4_net_last_host(&d->cidr);
	if ((rc = parse_host("dhcp_start", raw->v[N_DHCP_START],
			     raw->len[N_DHCP_START], d,
			     d->gateway == first ? first + 1 : first,
			     &d->dhcp_start, e)) < 0 ||
	    (rc = parse_host("dhcp_end", raw->v[N_DHCP_END], raw->len[N_DHCP_END],
			     d, d->gateway == last ? last - 1 : last,
			     &d->dhcp_end, e)) < 0)
		return rc;
	if (d->dhcp_start > d->dhcp_end) {
		char s[IPV4_STR_LEN], t[IPV4_STR_LEN];

		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "dhcp_start %s is after dhcp_end %s",
				     ipv4_format(d->dhcp_start, s),
				     ipv4_format(d->dhcp_end, t));
	}
	return 0;
}

int network_def(const struct obj *n, struct network_def *d, struct rpc_error *e)
{
	struct raw_def raw;
	int rc;

	raw_of(n, &raw);
	rc = parse_def(n->name, &raw, d, e);
	return rc == -ENODATA ? rpc_error_set(e, -EINVAL, e ? e->cls : NULL, "%s",
					      e ? e->message : "") : rc;
}

/* How many addresses d's DHCP range can hand out: the gateway is not. */
static uint64_t range_size(const struct network_def *d)
{
	return (uint64_t)d->dhcp_end - d->dhcp_start + 1 -
	       (d->gateway >= d->dhcp_start && d->gateway <= d->dhcp_end);
}

/* The address inst has on the network called name, or 0. */
static uint32_t address_on(const struct obj *inst, const char *name)
{
	long k = text_line_index(obj_text(inst, I_NETWORKS), name);
	const char *line;
	size_t len;
	uint32_t a;

	if (k < 0 || !(line = text_line(obj_text(inst, I_IPS), (size_t)k, &len)) ||
	    ipv4_parse(line, len, &a) < 0)
		return 0;
	return a;
}

/* --- the files --- */

/* A file as written, or, when nothing is, its default (what the
 * definition in force says; nothing without a cidr). */
static void show_field(const struct obj *n, unsigned f, struct strbuf *out)
{
	struct network_def d;
	char a[IPV4_STR_LEN];
	unsigned i;

	if (obj_len(n, f)) {
		strbuf_add(out, obj_text(n, f), obj_len(n, f));
		return;
	}
	if (f == N_BRIDGE) {
		default_bridge(n->name, d.bridge);
		strbuf_addf(out, "%s\n", d.bridge);
		return;
	}
	if (network_def(n, &d, NULL) < 0)
		return;
	switch (f) {
	case N_GATEWAY:
		strbuf_addf(out, "%s\n", ipv4_format(d.gateway, a));
		break;
	case N_DHCP_START:
		strbuf_addf(out, "%s\n", ipv4_format(d.dhcp_start, a));
		break;
	case N_DHCP_END:
		strbuf_addf(out, "%s\n", ipv4_format(d.dhcp_end, a));
		break;
	case N_DNS:
		for (i = 0; i < d.ndns; i++)
			strbuf_addf(out, "%s\n", ipv4_format(d.dns[i], a));
		break;
	}
}

#define SHOW(fn, f) \
	static void fn(const struct obj *n, struct strbuf *out) \
	{ \
		show_field(n, f, out); \
	}
SHOW(show_cidr, N_CIDR)
SHOW(show_gateway, N_GATEWAY)
SHOW(show_dhcp_start, N_DHCP_START)
SHOW(show_dhcp_end, N_DHCP_END)
SHOW(show_dns, N_DNS)
SHOW(show_bridge, N_BRIDGE)

static void show_fault(const struct obj *n, struct strbuf *out)
{
	if (obj_len(n, N_FAULT))
		strbuf_addf(out, "%s\n", obj_text(n, N_FAULT));
}

/* free: the addresses its range has left, counted from the instances'
 * addresses in memory. */
static void show_free(const struct obj *n, struct strbuf *out)
{
	struct network_def d;
	const struct obj *i;
	uint64_t size, used = 0;
	uint32_t a;

	if (network_def(n, &d, NULL) < 0)
		return;
	size = range_size(&d);
	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next) {
		a = address_on(i, n->name);
		used += a && a >= d.dhcp_start && a <= d.dhcp_end && a != d.gateway;
	}
	strbuf_addf(out, "%" PRIu64 "\n", used < size ? size - used : 0);
}

/* allocations/: each instance with an address here, named by it. */
static void allocation_name(const struct obj *n, const struct obj *inst,
			    struct strbuf *out)
{
	char a[IPV4_STR_LEN];
	uint32_t ip = address_on(inst, n->name);

	if (ip)
		strbuf_addstr(out, ipv4_format(ip, a));
}

/* --- writes --- */

struct network_op {
	struct wreq *w;
	struct obj *n;      /* a reference */
	unsigned field;
	char *raw;
	size_t len;
};

/* Records a refused write's reason in n's fault; returns e's error. */
static int refuse(struct txn *t, struct obj *n, const struct rpc_error *e)
{
	char fault[FAULT_MAX];
	int rc;

	snprintf(fault, sizeof(fault), "%s: %s", e->cls, e->message);
	log_warn("network %s: %s", n->name, fault);
	rc = txn_set_text(t, n, N_FAULT, fault);
	return rc < 0 ? rc : e->err;
}

/* An instance that holds (or is being given) an address on n, or NULL. */
static const struct obj *user_of(const struct obj *n, bool holding)
{
	const struct obj *i;

	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next) {
		if (text_line_index(obj_text(i, I_NETWORKS), n->name) < 0)
			continue;
		if (!holding || obj_len(i, I_IPS) || obj_int(i, I_LAUNCHED) ||
		    obj_int(i, I_TASK_STATE) != TASK_NONE)
			return i;
	}
	return NULL;
}

/* 0 when d may be n's definition next to the other networks: no range
 * overlaps and no bridge is shared; else -EEXIST with e. */
static int check_others(const struct obj *n, const struct network_def *d,
			struct rpc_error *e)
{
	const struct obj *o;
	struct network_def od;
	char a[CIDR_STR_LEN], b[CIDR_STR_LEN];

	for (o = obj_top_coll(&network_kind)->head; o; o = o->next) {
		if (o == n || network_def(o, &od, NULL) < 0)
			continue;
		if (ipv4_net_overlaps(&d->cidr, &od.cidr))
			return rpc_error_set(e, -EEXIST, "InvalidInput",
					     "cidr %s overlaps network %s (%s)",
					     ipv4_net_format(&d->cidr, a), o->name,
					     ipv4_net_format(&od.cidr, b));
		if (strcmp(d->bridge, od.bridge) == 0)
			return rpc_error_set(e, -EEXIST, "InvalidInput",
					     "bridge %s is network %s's", d->bridge,
					     o->name);
	}
	return 0;
}

static int set_field_run(struct txn *t, void *ctx)
{
	struct network_op *op = ctx;
	struct rpc_error e = { 0 };
	struct network_def d;
	struct raw_def raw;
	const struct obj *user;
	int rc;

	if (op->n->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->n)) < 0)
		return rc;
	raw_of(op->n, &raw);
	if (raw.len[op->field] == op->len &&
	    memcmp(raw.v[op->field], op->raw, op->len) == 0)
		return 0; /* what it already is: a config tool's second run */
	user = user_of(op->n, true);
	if (user) {
		rpc_error_set(&e, -EBUSY, "NetworkInUse",
			      "network %s is in use by instance %s: its %s is fixed",
			      op->n->name, user->name, fields[op->field].name);
		return refuse(t, op->n, &e);
	}
	raw.v[op->field] = op->raw;
	raw.len[op->field] = op->len;
	/* A network without a cidr may still be given its bridge or dns. */
	rc = parse_def(op->n->name, &raw, &d, &e);
	if (rc == -ENODATA)
		rc = 0;
	else if (rc == 0)
		rc = check_others(op->n, &d, &e);
	if (rc < 0)
		return refuse(t, op->n, &e);
	if ((rc = txn_set_bytes(t, op->n, op->field, op->raw, op->len)) < 0 ||
	    (rc = txn_set_text(t, op->n, N_FAULT, "")) < 0)
		return rc;
	return 0;
}

static void network_op_then(void *ctx, int err)
{
	struct network_op *op = ctx;

	wreq_done(op->w, err);
	obj_put(op->n);
	free(op->raw);
	free(op);
}

static struct network_op *network_op_new(struct obj *n, struct wreq *w)
{
	struct network_op *op = calloc(1, sizeof(*op));

	if (!op) {
		wreq_done(w, -ENOMEM);
		return NULL;
	}
	op->w = w;
	op->n = n;
	obj_get(n);
	return op;
}

static void store_field(struct obj *n, unsigned field, const char *buf,
			size_t len, struct wreq *w)
{
	struct network_op *op = network_op_new(n, w);

	if (!op)
		return;
	op->field = field;
	op->len = len;
	if (!(op->raw = malloc(len ? len : 1))) {
		network_op_then(op, -ENOMEM);
		return;
	}
	memcpy(op->raw, buf, len);
	store_do(set_field_run, network_op_then, op);
}

#define STORE(fn, f) \
	static void fn(struct obj *n, const char *buf, size_t len, \
		       struct wreq *w) \
	{ \
		store_field(n, f, buf, len, w); \
	}
STORE(store_cidr, N_CIDR)
STORE(store_gateway, N_GATEWAY)
STORE(store_dhcp_start, N_DHCP_START)
STORE(store_dhcp_end, N_DHCP_END)
STORE(store_dns, N_DNS)
STORE(store_bridge, N_BRIDGE)

/* --- rmdir --- */

static void forgotten(void *ctx, int err, json_t *result,
		      const struct rpc_error *e)
{
	if (err < 0)
		log_warn("network: delete_network was not sent: %s", e->message);
}

static int remove_run(struct txn *t, void *ctx)
{
	struct network_op *op = ctx;
	struct rpc_error e = { 0 };
	const struct obj *user;
	int rc;

	if (op->n->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, op->n)) < 0)
		return rc;
	user = user_of(op->n, false);
	if (user) {
		rpc_error_set(&e, -EBUSY, "NetworkInUse",
			      "network %s is in use by instance %s", op->n->name,
			      user->name);
		return refuse(t, op->n, &e);
	}
	if ((rc = txn_delete(t, op->n)) < 0)
		return rc;
	log_info("network %s: deleted", op->n->name);
	return 0;
}

static void remove_then(void *ctx, int err)
{
	struct network_op *op = ctx;

	/* What novafs-network kept of it goes too (a lost cast leaves
	 * nothing in use: no instance names the network any more). */
	if (err == 0)
		conductor_cast(&network_delete_network, NULL, NULL,
			       json_pack("{s:s}", "name", op->n->name),
			       forgotten, NULL);
	network_op_then(op, err);
}

static void network_remove(struct obj *n, struct wreq *w)
{
	struct network_op *op = network_op_new(n, w);

	if (op)
		store_do(remove_run, remove_then, op);
}

/* --- a new database's network --- */

static int network_seed(struct txn *t, struct coll *c)
{
	static const char cidr[] = "192.0.2.0/24\n";
	struct obj *n;
	int rc;

	if ((rc = txn_create(t, c, "default", 0, 0, &n)) < 0)
		return rc;
	return txn_set_bytes(t, n, N_CIDR, cidr, sizeof(cidr) - 1);
}

/* --- for a first start --- */

int network_check(const struct obj *inst, struct rpc_error *e)
{
	const char *list = obj_text(inst, I_NETWORKS), *line;
	char name[OBJ_NAME_MAX + 1];
	struct network_def d;
	struct obj *n;
	size_t k, len;
	int rc;

	for (k = 0; (line = text_line(list, k, &len)); k++) {
		snprintf(name, sizeof(name), "%.*s", (int)len, line);
		n = network_find(name);
		if (!n)
			return rpc_error_set(e, -EINVAL, "NetworkNotFound",
					     "network %s does not exist (see "
					     "networks/, or write instances/%s/network)",
					     name, inst->name);
		if ((rc = network_def(n, &d, e)) < 0)
			return rc;
	}
	return 0;
}

/* The network named by line k of inst's list, and its definition; NULL
 * when it is gone or has no cidr (network_check said so first). */
static struct obj *nth_network(const struct obj *inst, size_t k,
			       struct network_def *d)
{
	char name[OBJ_NAME_MAX + 1];
	const char *line = text_line(obj_text(inst, I_NETWORKS), k, &k);
	struct obj *n;

	if (!line)
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)k, line);
	n = network_find(name);
	return n && network_def(n, d, NULL) == 0 ? n : NULL;
}

json_t *network_allocate_args(const struct obj *inst)
{
	char cidr[CIDR_STR_LEN], gw[IPV4_STR_LEN], s[IPV4_STR_LEN], e[IPV4_STR_LEN];
	json_t *networks = json_array();
	struct network_def d;
	struct obj *n;
	size_t k;

	for (k = 0; networks && (n = nth_network(inst, k, &d)); k++)
		if (json_array_append_new(networks, json_pack(
			    "{s:s, s:s, s:s, s:s, s:s}", "name", n->name,
			    "cidr", ipv4_net_format(&d.cidr, cidr),
			    "gateway", ipv4_format(d.gateway, gw),
			    "dhcp_start", ipv4_format(d.dhcp_start, s),
			    "dhcp_end", ipv4_format(d.dhcp_end, e))) < 0) {
			json_decref(networks);
			networks = NULL;
		}
	return networks ? json_pack("{s:s, s:o}", "instance_uuid", inst->uuid,
				    "networks", networks) : NULL;
}

/* Line k of inst's field f into out (at most size bytes); false without. */
static bool kept_line(const struct obj *inst, unsigned f, size_t k, char *out,
		      size_t size)
{
	size_t len;
	const char *line = text_line(obj_text(inst, f), k, &len);

	if (!line || len >= size)
		return false;
	snprintf(out, size, "%.*s", (int)len, line);
	return true;
}

json_t *network_nics(const struct obj *inst, json_t *allocated)
{
	char cidr[CIDR_STR_LEN], gw[IPV4_STR_LEN], s[IPV4_STR_LEN],
	     e[IPV4_STR_LEN], a[IPV4_STR_LEN], ip[IPV4_STR_LEN], mac[MAC_STR_LEN];
	json_t *nics = json_array(), *nic, *dns, *given;
	struct network_def d;
	struct obj *n;
	unsigned i;
	size_t k;

	for (k = 0; nics && (n = nth_network(inst, k, &d)); k++) {
		given = json_array_get(json_object_get(allocated, "nics"), k);
		if (given) {
			snprintf(ip, sizeof(ip), "%s",
				 json_string_value(json_object_get(given, "ip")));
			snprintf(mac, sizeof(mac), "%s",
				 json_string_value(json_object_get(given, "mac")));
		} else if (!kept_line(inst, I_IPS, k, ip, sizeof(ip)) ||
			   !kept_line(inst, I_MACS, k, mac, sizeof(mac))) {
			break;
		}
		dns = json_array();
		for (i = 0; dns && i < d.ndns; i++)
			json_array_append_new(dns, json_string(ipv4_format(d.dns[i], a)));
		nic = dns ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
				      "network", n->name, "bridge", d.bridge,
				      "cidr", ipv4_net_format(&d.cidr, cidr),
				      "gateway", ipv4_format(d.gateway, gw),
				      "dhcp_start", ipv4_format(d.dhcp_start, s),
				      "dhcp_end", ipv4_format(d.dhcp_end, e),
				      "dns", dns, "ip", ip, "mac", mac) : NULL;
		if (json_array_append_new(nics, nic) < 0) {
			json_decref(nics);
			nics = NULL;
		}
	}
	if (nics && !json_array_size(nics)) {
		json_decref(nics);
		nics = NULL;
	}
	return nics;
}

int network_read_allocation(const struct obj *inst, json_t *answer,
			    struct strbuf *ips, struct strbuf *macs,
			    struct rpc_error *e)
{
	json_t *nics = json_object_get(answer, "nics"), *nic;
	const char *ip, *mac;
	struct network_def d;
	struct obj *n;
	uint8_t m[6];
	uint32_t a;
	size_t k;

	for (k = 0; (n = nth_network(inst, k, &d)); k++) {
		nic = json_array_get(nics, k);
		ip = json_string_value(json_object_get(nic, "ip"));
		mac = json_string_value(json_object_get(nic, "mac"));
		if (!nic || strcmp(json_string_value(json_object_get(nic, "network")),
				   n->name) != 0 ||
		    ipv4_parse(ip, strlen(ip), &a) < 0 ||
		    a < d.dhcp_start || a > d.dhcp_end || a == d.gateway ||
		    mac_parse(mac, strlen(mac), m) < 0)
			return rpc_error_set(e, -EPROTO, "InvalidReply",
					     "novafs-network's allocation for %s "
					     "does not fit network %s", inst->name,
					     n->name);
		strbuf_addf(ips, "%s%s", k ? "\n" : "", ip);
		strbuf_addf(macs, "%s%s", k ? "\n" : "", mac);
	}
	if (json_array_size(nics) != k)
		return rpc_error_set(e, -EPROTO, "InvalidReply",
				     "novafs-network answered %zu NICs for %s's %zu networks",
				     json_array_size(nics), inst->name, k);
	return 0;
}

static const struct node nodes[] = {
	{ "cidr", NODE_ATTR, 0644, NULL, DEP(N_CIDR), show_cidr, store_cidr },
	{ "gateway", NODE_ATTR, 0644, NULL, DEP(N_GATEWAY) | DEP(N_CIDR),
	  show_gateway, store_gateway },
	{ "dhcp_start", NODE_ATTR, 0644, NULL, DEP(N_DHCP_START) | DEP(N_CIDR) |
	  DEP(N_GATEWAY), show_dhcp_start, store_dhcp_start },
	{ "dhcp_end", NODE_ATTR, 0644, NULL, DEP(N_DHCP_END) | DEP(N_CIDR) |
	  DEP(N_GATEWAY),
	  show_dhcp_end, store_dhcp_end },
	{ "dns", NODE_ATTR, 0644, NULL, DEP(N_DNS), show_dns, store_dns },
	{ "bridge", NODE_ATTR, 0644, NULL, DEP(N_BRIDGE), show_bridge, store_bridge },
	{ "free", NODE_ATTR, 0444, NULL, DEP(N_CIDR) | DEP(N_GATEWAY) |
	  DEP(N_DHCP_START) | DEP(N_DHCP_END), show_free },
	{ "fault", NODE_ATTR, 0444, NULL, DEP(N_FAULT), show_fault },
	{ "allocations", NODE_VIEW, 0755, &instance_kind, .view_field = I_IPS,
	  .view_name = allocation_name },
};

const struct kind network_kind = {
	.name = "network",
	.table = "networks",
	.collection = "networks",
	/* Root's, as nova-network's networks were the admin's: a network
	 * puts its gateway's address on every compute host it reaches, and
	 * one overlapping the hosts' own would cut them off. */
	.collection_mode = 0755,
	.mode = S_IFDIR | 0755,
	.fields = fields,
	.nfields = N_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.create = objop_create,
	.remove = network_remove,
	.set_owner = objop_set_owner,
	.seed = network_seed,
};
