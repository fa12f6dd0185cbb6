/*
 * store.c - the SQLite state store (see store.h for the contract).
 *
 * The schema version lives in PRAGMA user_version; a later release migrates
 * from it.  Statements are prepared per call: the store serves a control
 * tree, not a hot data path, and per-call statements keep every function
 * self-contained and thread-safe under SQLite's serialized mode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "strbuf.h"
#include "uuid.h"

#define SCHEMA_VERSION "1"

struct store {
	sqlite3 *db;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS flavors ("
	"  name TEXT PRIMARY KEY,"
	"  vcpus INTEGER NOT NULL,"
	"  memory_mb INTEGER NOT NULL,"
	"  disk_gb INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS instances ("
	"  uuid TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  uid INTEGER NOT NULL,"
	"  gid INTEGER NOT NULL,"
	"  flavor_raw BLOB NOT NULL DEFAULT x'',"
	"  flavor TEXT NOT NULL DEFAULT '',"
	"  vm_state TEXT NOT NULL,"
	"  task_state TEXT NOT NULL DEFAULT '',"
	"  power_state TEXT NOT NULL DEFAULT 'nostate',"
	"  host TEXT NOT NULL DEFAULT '',"
	"  fault TEXT NOT NULL DEFAULT '',"
	"  launched INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);";

/* Nova's classic flavors. */
static const struct flavor standard_flavors[] = {
	{ "m1.tiny", 1, 512, 1 },
	{ "m1.small", 1, 2048, 20 },
	{ "m1.medium", 2, 4096, 40 },
	{ "m1.large", 4, 8192, 80 },
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SQLite's result codes, as the errno a caller can act on. */
static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *stmt, int col)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	snprintf(dst, size, "%s", text ? (const char *)text : "");
}

int store_open(const char *path, struct store **out, const char **why)
{
	struct store *st = NULL;
	char *errmsg = NULL;
	int rc, ret = 0;
	size_t i;

	*why = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(st->db, 5000);
	rc = sqlite3_exec(st->db,
			  "PRAGMA journal_mode=WAL;"
			  "PRAGMA synchronous=FULL;"
			  "PRAGMA foreign_keys=ON;", NULL, NULL, &errmsg);
	if (rc != SQLITE_OK)
		goto fail;
	rc = sqlite3_exec(st->db, schema_sql, NULL, NULL, &errmsg);
	if (rc != SQLITE_OK)
		goto fail;
	rc = sqlite3_exec(st->db, "PRAGMA user_version=" SCHEMA_VERSION, NULL, NULL, &errmsg);
	if (rc != SQLITE_OK)
		goto fail;
	for (i = 0; i < sizeof(standard_flavors) / sizeof(standard_flavors[0]); i++) {
		const struct flavor *f = &standard_flavors[i];
		sqlite3_stmt *stmt = NULL;

		rc = sqlite3_prepare_v2(st->db,
			"INSERT OR IGNORE INTO flavors VALUES (?, ?, ?, ?)",
			-1, &stmt, NULL);
		if (rc != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(stmt, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 2, f->vcpus);
		sqlite3_bind_int(stmt, 3, f->memory_mb);
		sqlite3_bind_int(stmt, 4, f->disk_gb);
		rc = sqlite3_step(stmt);
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	*out = st;
	return 0;
fail:
	*why = st->db ? sqlite3_errstr(sqlite3_extended_errcode(st->db))
		      : "out of memory";
	ret = sqlite_errno(rc);
	if (ret == 0 || ret == -EEXIST)
		ret = -EIO;
	sqlite3_free(errmsg);
	store_close(st);
	return ret;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

int store_reset_interrupted(struct store *st)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db,
		"UPDATE instances SET task_state = '', updated_at = ?,"
		" fault = 'Interrupted: novafs stopped during ' || task_state"
		" WHERE task_state IN ('scheduling', 'deleting')",
		-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	sqlite3_bind_int64(stmt, 1, now_ns());
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return sqlite_errno(rc);
	return sqlite3_changes(st->db);
}

#define INSTANCE_COLUMNS \
	"uuid, name, uid, gid, flavor_raw, flavor, vm_state, task_state," \
	" power_state, host, fault, launched, created_at, updated_at"

static void read_instance(sqlite3_stmt *stmt, void *out)
{
	struct instance *inst = out;
	const void *raw;
	size_t len;

	memset(inst, 0, sizeof(*inst));
	copy_text(inst->uuid, sizeof(inst->uuid), stmt, 0);
	copy_text(inst->name, sizeof(inst->name), stmt, 1);
	inst->uid = (uid_t)sqlite3_column_int64(stmt, 2);
	inst->gid = (gid_t)sqlite3_column_int64(stmt, 3);
	raw = sqlite3_column_blob(stmt, 4);
	len = (size_t)sqlite3_column_bytes(stmt, 4);
	if (len > sizeof(inst->flavor_raw))
		len = sizeof(inst->flavor_raw);
	if (raw)
		memcpy(inst->flavor_raw, raw, len);
	inst->flavor_raw_len = len;
	copy_text(inst->flavor, sizeof(inst->flavor), stmt, 5);
	copy_text(inst->vm_state, sizeof(inst->vm_state), stmt, 6);
	copy_text(inst->task_state, sizeof(inst->task_state), stmt, 7);
	copy_text(inst->power_state, sizeof(inst->power_state), stmt, 8);
	copy_text(inst->host, sizeof(inst->host), stmt, 9);
	copy_text(inst->fault, sizeof(inst->fault), stmt, 10);
	inst->launched = sqlite3_column_int(stmt, 11) != 0;
	inst->created_at = sqlite3_column_int64(stmt, 12);
	inst->updated_at = sqlite3_column_int64(stmt, 13);
}

/* Runs sql, whose one parameter is name, and hands its first row to
 * read_row; -ENOENT when there is none. */
static int get_by_name(struct store *st, const char *sql, const char *name,
		       void (*read_row)(sqlite3_stmt *stmt, void *out), void *out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, ret;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		read_row(stmt, out);
		ret = 0;
	} else {
		ret = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_finalize(stmt);
	return ret;
}

int store_instance_get(struct store *st, const char *name, struct instance *out)
{
	return get_by_name(st, "SELECT " INSTANCE_COLUMNS
			   " FROM instances WHERE name = ?", name,
			   read_instance, out);
}

int store_instance_create(struct store *st, const char *name, uid_t uid,
			  gid_t gid, struct instance *out)
{
	sqlite3_stmt *stmt = NULL;
	char uuid[UUID_STR_LEN];
	int64_t now = now_ns();
	int rc;

	uuid_generate_str(uuid);
	rc = sqlite3_prepare_v2(st->db,
		"INSERT INTO instances (uuid, name, uid, gid, vm_state,"
		" created_at, updated_at) VALUES (?, ?, ?, ?, 'stopped', ?, ?)",
		-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	sqlite3_bind_text(stmt, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, uid);
	sqlite3_bind_int64(stmt, 4, gid);
	sqlite3_bind_int64(stmt, 5, now);
	sqlite3_bind_int64(stmt, 6, now);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return sqlite_errno(rc);
	return out ? store_instance_get(st, name, out) : 0;
}

/* Runs a SELECT whose first column is a name, calling fn for each row. */
static int list_names(struct store *st, const char *sql,
		      int (*fn)(void *ctx, const char *name), void *ctx)
{
	sqlite3_stmt *stmt = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ret = fn(ctx, (const char *)sqlite3_column_text(stmt, 0));
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sqlite_errno(rc);
	sqlite3_finalize(stmt);
	return ret;
}

int store_instance_list(struct store *st,
			int (*fn)(void *ctx, const char *name), void *ctx)
{
	return list_names(st, "SELECT name FROM instances ORDER BY name", fn, ctx);
}

/* The text columns a patch may set, in one table so that building the
 * statement and binding its values walk the same list. */
struct patch_column {
	const char *column;
	size_t offset; /* of the const char * in struct instance_patch */
};

static const struct patch_column patch_columns[] = {
	{ "vm_state", offsetof(struct instance_patch, vm_state) },
	{ "task_state", offsetof(struct instance_patch, task_state) },
	{ "power_state", offsetof(struct instance_patch, power_state) },
	{ "host", offsetof(struct instance_patch, host) },
	{ "fault", offsetof(struct instance_patch, fault) },
	{ "flavor", offsetof(struct instance_patch, flavor) },
};

static const char *patch_text(const struct instance_patch *p,
			      const struct patch_column *c)
{
	return *(const char *const *)((const char *)p + c->offset);
}

int store_instance_update(struct store *st, const char *uuid,
			  const struct instance_patch *p)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *stmt = NULL;
	size_t i;
	int rc, ret, n = 1;

	strbuf_addstr(&sql, "UPDATE instances SET updated_at = ?");
	for (i = 0; i < sizeof(patch_columns) / sizeof(patch_columns[0]); i++)
		if (patch_text(p, &patch_columns[i]))
			strbuf_addf(&sql, ", %s = ?", patch_columns[i].column);
	if (p->flavor_raw)
		strbuf_addstr(&sql, ", flavor_raw = ?");
	if (p->set_launched)
		strbuf_addstr(&sql, ", launched = 1");
	if (p->set_owner)
		strbuf_addstr(&sql, ", uid = ?, gid = ?");
	strbuf_addstr(&sql, " WHERE uuid = ?");
	if (p->expected_vm_state)
		strbuf_addstr(&sql, " AND vm_state = ?");
	if (p->expected_task_state)
		strbuf_addstr(&sql, " AND task_state = ?");
	if (p->require_unlaunched)
		strbuf_addstr(&sql, " AND launched = 0");

	rc = sqlite3_prepare_v2(st->db, sql.buf, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		ret = sqlite_errno(rc);
		goto out;
	}
	sqlite3_bind_int64(stmt, n++, now_ns());
	for (i = 0; i < sizeof(patch_columns) / sizeof(patch_columns[0]); i++) {
		const char *v = patch_text(p, &patch_columns[i]);

		if (v)
			sqlite3_bind_text(stmt, n++, v, -1, SQLITE_STATIC);
	}
	if (p->flavor_raw)
		sqlite3_bind_blob(stmt, n++, p->flavor_raw,
				  (int)p->flavor_raw_len, SQLITE_STATIC);
	if (p->set_owner) {
		sqlite3_bind_int64(stmt, n++, p->uid);
		sqlite3_bind_int64(stmt, n++, p->gid);
	}
	sqlite3_bind_text(stmt, n++, uuid, -1, SQLITE_STATIC);
	if (p->expected_vm_state)
		sqlite3_bind_text(stmt, n++, p->expected_vm_state, -1, SQLITE_STATIC);
	if (p->expected_task_state)
		sqlite3_bind_text(stmt, n++, p->expected_task_state, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		ret = sqlite_errno(rc);
		goto out;
	}
	ret = sqlite3_changes(st->db) > 0 ? 1 : 0;
out:
	sqlite3_finalize(stmt);
	strbuf_release(&sql);
	return ret;
}

int store_instance_delete(struct store *st, const char *uuid)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "DELETE FROM instances WHERE uuid = ?",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	sqlite3_bind_text(stmt, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

static void read_flavor(sqlite3_stmt *stmt, void *out)
{
	struct flavor *fl = out;

	copy_text(fl->name, sizeof(fl->name), stmt, 0);
	fl->vcpus = sqlite3_column_int(stmt, 1);
	fl->memory_mb = sqlite3_column_int(stmt, 2);
	fl->disk_gb = sqlite3_column_int(stmt, 3);
}

int store_flavor_get(struct store *st, const char *name, struct flavor *out)
{
	return get_by_name(st, "SELECT name, vcpus, memory_mb, disk_gb"
			   " FROM flavors WHERE name = ?", name, read_flavor, out);
}

int store_flavor_list(struct store *st,
		      int (*fn)(void *ctx, const char *name), void *ctx)
{
	return list_names(st, "SELECT name FROM flavors ORDER BY memory_mb, name",
			  fn, ctx);
}
