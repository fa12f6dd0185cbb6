/*
 * store.c - the allocations in SQLite; see store.h.
 *
 * Addresses and MACs are stored as text in their canonical forms
 * (ipv4_format, mac_format), so that the database reads plainly with the
 * sqlite3 shell and equal values are equal strings.
 */
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/sqlite_errno.h"
#include "common/uuid.h"
#include "rpc/rpc.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS networks ("
	" name TEXT PRIMARY KEY,"
	" cidr TEXT NOT NULL,"
	" gateway TEXT NOT NULL,"
	" dhcp_start TEXT NOT NULL,"
	" dhcp_end TEXT NOT NULL,"
	" cursor TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS allocations ("
	" network TEXT NOT NULL,"
	" ip TEXT NOT NULL,"
	" mac TEXT NOT NULL UNIQUE,"
	" instance_uuid TEXT NOT NULL,"
	" PRIMARY KEY (network, ip),"
	" UNIQUE (network, instance_uuid));"
	"CREATE INDEX IF NOT EXISTS allocations_instance"
	" ON allocations (instance_uuid);";

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT_NETWORK,   /* name, cidr, gateway, start, end -> cursor */
	ST_FIND,          /* network, instance -> network, ip, mac */
	ST_IP_USED,       /* network, ip -> 1 */
	ST_MAC_USED,      /* mac -> 1 */
	ST_INSERT,        /* network, ip, mac, instance */
	ST_SET_CURSOR,    /* cursor, name */
	ST_RELEASE,       /* instance -> network, ip, mac */
	ST_KEEP_ONLY,     /* instance, JSON array of network names */
	ST_DROP_ALLOCS,   /* network */
	ST_DROP_NETWORK,  /* name */
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT_NETWORK] =
		"INSERT INTO networks (name, cidr, gateway, dhcp_start, dhcp_end)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET"
		" cidr = ?2, gateway = ?3, dhcp_start = ?4, dhcp_end = ?5"
		" RETURNING cursor",
	[ST_FIND] = "SELECT network, ip, mac FROM allocations"
		    " WHERE network = ? AND instance_uuid = ?",
	[ST_IP_USED] = "SELECT 1 FROM allocations WHERE network = ? AND ip = ?",
	[ST_MAC_USED] = "SELECT 1 FROM allocations WHERE mac = ?",
	[ST_INSERT] = "INSERT INTO allocations (network, ip, mac, instance_uuid)"
		      " VALUES (?, ?, ?, ?)",
	[ST_SET_CURSOR] = "UPDATE networks SET cursor = ? WHERE name = ?",
	[ST_RELEASE] = "DELETE FROM allocations WHERE instance_uuid = ?"
		       " RETURNING network, ip, mac",
	[ST_KEEP_ONLY] = "DELETE FROM allocations WHERE instance_uuid = ?1"
			 " AND network NOT IN (SELECT value FROM json_each(?2))",
	[ST_DROP_ALLOCS] = "DELETE FROM allocations WHERE network = ?",
	[ST_DROP_NETWORK] = "DELETE FROM networks WHERE name = ?",
};

struct netmgr_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	netmgr_random_fn rnd;
	void *rnd_ctx;
};

/* Fills e with SQLite's last error, unless a more precise one is there
 * already; returns rc. */
static int db_error(struct netmgr_store *s, int rc, struct rpc_error *e)
{
	if (e && e->err)
		return e->err;
	return rpc_error_set(e, rc, NULL, "network database: %s",
			     sqlite3_errcode(s->db) == SQLITE_OK ?
			     "a row that does not parse" : sqlite3_errmsg(s->db));
}

/* Binds text arguments 1..n to statement st (strings must outlive its
 * next reset). */
static sqlite3_stmt *bind(struct netmgr_store *s, enum stmt st, int n, ...)
{
	sqlite3_stmt *stmt = s->stmt[st];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 1; i <= n; i++)
		sqlite3_bind_text(stmt, i, va_arg(ap, const char *), -1, SQLITE_STATIC);
	va_end(ap);
	return stmt;
}

/* Steps stmt once: 1 for a row (read it, then call done()), 0 when it has
 * finished (it is reset), or -errno. */
static int step(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(stmt);
	return sqlite_errno(rc);
}

/* Resets stmt after the rows read from it. */
static void done(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
}

/* Runs a statement that returns no row we want. */
static int run(sqlite3_stmt *stmt)
{
	int rc;

	while ((rc = step(stmt)) == 1)
		;
	return rc;
}

/* Ends the transaction: commits when rc is 0, else rolls back (unless
 * SQLite did already).  Returns rc, or the commit's failure. */
static int finish(struct netmgr_store *s, int rc, struct rpc_error *e)
{
	if (rc == 0) {
		rc = run(s->stmt[ST_COMMIT]);
		if (rc == 0)
			return 0;
		db_error(s, rc, e);
	}
	if (!sqlite3_get_autocommit(s->db))
		run(s->stmt[ST_ROLLBACK]);
	return rc;
}

static int begin(struct netmgr_store *s, struct rpc_error *e)
{
	int rc = run(s->stmt[ST_BEGIN]);

	return rc < 0 ? db_error(s, rc, e) : 0;
}

/* A UUID as stored: lower case, so that "any case" names one instance. */
static void canonical_uuid(const char *in, char out[UUID_STR_LEN])
{
	size_t i;

	for (i = 0; i + 1 < UUID_STR_LEN && in[i]; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int netmgr_store_open(const char *path, netmgr_random_fn rnd, void *rnd_ctx,
		      struct netmgr_store **out, struct rpc_error *e)
{
	struct netmgr_store *s;
	char *err = NULL;
	int i, rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	s->rnd = rnd;
	s->rnd_ctx = rnd_ctx;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	/* WAL with synchronous=FULL: a commit is on disk when it returns
	 * (store.h says why).  Another process on the file: wait for it. */
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(s->db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;"
				  "PRAGMA synchronous=FULL;", NULL, NULL, &err);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, schema, NULL, NULL, &err);
	for (i = 0; rc == SQLITE_OK && i < ST_COUNT; i++)
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
	if (rc != SQLITE_OK) {
		rc = rpc_error_set(e, sqlite_errno(rc) ? sqlite_errno(rc) : -EIO,
				   NULL, "%s: %s", path,
				   err ? err : s->db ? sqlite3_errmsg(s->db) :
				   sqlite3_errstr(rc));
		sqlite3_free(err);
		netmgr_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void netmgr_store_close(struct netmgr_store *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

/* What the "used?" predicates ask about. */
struct probe {
	struct netmgr_store *s;
	const char *network;
};

/* Runs a SELECT 1 statement: 1 when it has a row, 0 when not, -errno. */
static int exists(sqlite3_stmt *stmt)
{
	int rc = step(stmt);

	if (rc == 1)
		done(stmt);
	return rc;
}

static int ip_used(void *ctx, uint32_t a)
{
	struct probe *p = ctx;
	char ip[IPV4_STR_LEN];

	return exists(bind(p->s, ST_IP_USED, 2, p->network, ipv4_format(a, ip)));
}

static int mac_used(void *ctx, const uint8_t m[6])
{
	struct probe *p = ctx;
	char mac[MAC_STR_LEN];

	return exists(bind(p->s, ST_MAC_USED, 1, mac_format(m, mac)));
}

/* Reads a NIC from stmt's row: columns network, ip and mac from col on. */
static int read_nic(sqlite3_stmt *stmt, int col, struct netmgr_nic *nic)
{
	const char *net = (const char *)sqlite3_column_text(stmt, col);
	const char *ip = (const char *)sqlite3_column_text(stmt, col + 1);
	const char *mac = (const char *)sqlite3_column_text(stmt, col + 2);

	if (!net || !ip || !mac || ipv4_parse(ip, strlen(ip), &nic->ip) < 0 ||
	    mac_parse(mac, strlen(mac), nic->mac) < 0)
		return -EIO;
	snprintf(nic->network, sizeof(nic->network), "%s", net);
	return 0;
}

/* Records net's definition; *cursor is the address handed out last on
 * it (0: none). */
static int put_network(struct netmgr_store *s, const struct netmgr_network *net,
		       uint32_t *cursor)
{
	char cidr[CIDR_STR_LEN], gw[IPV4_STR_LEN], start[IPV4_STR_LEN],
	     end[IPV4_STR_LEN];
	sqlite3_stmt *stmt;
	const char *c;
	int rc;

	stmt = bind(s, ST_PUT_NETWORK, 5, net->name,
		    ipv4_net_format(&net->cidr, cidr), ipv4_format(net->gateway, gw),
		    ipv4_format(net->dhcp_start, start),
		    ipv4_format(net->dhcp_end, end));
	rc = step(stmt);
	if (rc != 1)
		return rc < 0 ? rc : -EIO;
	c = (const char *)sqlite3_column_text(stmt, 0);
	if (!c || ipv4_parse(c, strlen(c), cursor) < 0)
		*cursor = 0;
	return run(stmt);
}

/* The instance's NIC on net: the one it has, or a new one. */
static int allocate_one(struct netmgr_store *s, const char *instance,
			const struct netmgr_network *net, struct netmgr_nic *nic,
			struct rpc_error *e)
{
	struct probe p = { s, net->name };
	char ip[IPV4_STR_LEN], mac[MAC_STR_LEN];
	sqlite3_stmt *stmt;
	uint32_t cursor;
	int rc;

	snprintf(nic->network, sizeof(nic->network), "%s", net->name);
	rc = put_network(s, net, &cursor);
	if (rc < 0)
		return rc;
	stmt = bind(s, ST_FIND, 2, net->name, instance);
	rc = step(stmt);
	if (rc == 1) {
		rc = read_nic(stmt, 0, nic);
		done(stmt);
		return rc;
	}
	if (rc < 0)
		return rc;
	rc = netmgr_next_address(net, cursor, ip_used, &p, &nic->ip);
	if (rc == -EADDRNOTAVAIL)
		return rpc_error_set(e, rc, "NoMoreFixedIps",
				     "no more fixed IPs on %s", net->name);
	if (rc == 0)
		rc = netmgr_mac_new(s->rnd, s->rnd_ctx, mac_used, &p, nic->mac);
	if (rc == -EADDRINUSE)
		return rpc_error_set(e, rc, NULL, "no free MAC after %d tries",
				     NETMGR_MAC_TRIES);
	if (rc == 0)
		rc = run(bind(s, ST_INSERT, 4, net->name, ipv4_format(nic->ip, ip),
			      mac_format(nic->mac, mac), instance));
	if (rc == 0)
		rc = run(bind(s, ST_SET_CURSOR, 2, ip, net->name));
	return rc;
}

int netmgr_store_allocate(struct netmgr_store *s, const char *instance,
			  const struct netmgr_network *nets, size_t n,
			  struct netmgr_nic *nics, struct rpc_error *e)
{
	json_t *names = json_array();
	char uuid[UUID_STR_LEN], *list = NULL;
	size_t i;
	int rc;

	for (i = 0; names && i < n; i++)
		if (json_array_append_new(names, json_string(nets[i].name)) < 0)
			break;
	if (!names || i < n || !(list = json_dumps(names, JSON_COMPACT))) {
		json_decref(names);
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	}
	json_decref(names);
	canonical_uuid(instance, uuid);
	rc = begin(s, e);
	if (rc < 0) {
		free(list);
		return rc;
	}
	/* What it holds on networks it no longer names goes first. */
	rc = run(bind(s, ST_KEEP_ONLY, 2, uuid, list));
	for (i = 0; rc == 0 && i < n; i++)
		rc = allocate_one(s, uuid, &nets[i], &nics[i], e);
	if (rc < 0)
		db_error(s, rc, e);
	rc = finish(s, rc, e);
	free(list);
	return rc;
}

int netmgr_store_deallocate(struct netmgr_store *s, const char *instance,
			    netmgr_released_fn released, void *ctx,
			    struct rpc_error *e)
{
	struct netmgr_nic *nics = NULL, *more;
	char uuid[UUID_STR_LEN];
	sqlite3_stmt *stmt;
	size_t n = 0, i;
	int rc;

	canonical_uuid(instance, uuid);
	rc = begin(s, e);
	if (rc < 0)
		return rc;
	stmt = bind(s, ST_RELEASE, 1, uuid);
	while ((rc = step(stmt)) == 1) {
		more = realloc(nics, (n + 1) * sizeof(*nics));
		if (!more) {
			rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
			break;
		}
		nics = more;
		rc = read_nic(stmt, 0, &nics[n++]);
		if (rc < 0)
			break;
	}
	if (rc != 0)
		done(stmt);
	if (rc < 0)
		db_error(s, rc, e);
	rc = finish(s, rc, e);
	for (i = 0; rc == 0 && released && i < n; i++)
		released(ctx, &nics[i]);
	free(nics);
	return rc < 0 ? rc : (int)n;
}

int netmgr_store_delete_network(struct netmgr_store *s, const char *name,
				struct rpc_error *e)
{
	int rc, dropped = 0;

	rc = begin(s, e);
	if (rc < 0)
		return rc;
	rc = run(bind(s, ST_DROP_ALLOCS, 1, name));
	if (rc == 0) {
		dropped = sqlite3_changes(s->db);
		rc = run(bind(s, ST_DROP_NETWORK, 1, name));
	}
	if (rc < 0)
		db_error(s, rc, e);
	rc = finish(s, rc, e);
	return rc < 0 ? rc : dropped;
}
