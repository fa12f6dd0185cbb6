/*
 * store.c - the durable log and the committer thread; see store.h.
 *
 * Tables are generated from the kinds: the common columns (uuid, name,
 * parent, uid, gid, created_at, updated_at) and one column per field.  A
 * column a kind declares but the table lacks is added at open (ALTER
 * TABLE ADD COLUMN), which is how a database written by an older novafs
 * is carried forward.  Statements are prepared once per kind.
 *
 * The committer's loop: take what is queued, run each op in a savepoint,
 * commit, publish, call done().  The SQLite connection belongs to the
 * committer once it runs; before that (open, load) to the caller of
 * store_open.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sqlite_errno.h"
#include "common/strbuf.h"
#include "node.h"
#include "obj.h"
#include "publish.h"

#define BATCH_MAX 256
#define COMMON_COLUMNS 7 /* uuid, name, parent, uid, gid, created_at, updated_at */

struct kind_sql {
	const struct kind *kind;
	sqlite3_stmt *insert, *delete;
};

/* A change staged by an op of the current batch. */
struct stage {
	struct obj *o;
	struct coll *coll;       /* created: where it goes */
	unsigned op;             /* the op of the batch that staged it */
	bool created, deleted, owner, dirty;
	bool linked;             /* created and published: the collection
				  * holds the reference obj_new gave */
	uid_t uid;
	gid_t gid;
	uint64_t mask;           /* fields staged */
	int64_t updated_ns;
	union value *v;          /* kind->nfields; only mask bits are set */
	char request[48];        /* the request of the op that staged it */
};

struct txn {
	struct stage *stages;
	size_t n, alloc;
	unsigned op;             /* the op running now */
	bool failed;             /* a txn_* call failed in this op */
	bool conflicted;         /* a txn_* call found an earlier op's stage */
	char request[48];        /* its request id */
};

static struct {
	sqlite3 *db;
	struct kind_sql *kinds;
	size_t nkinds;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct op *head, *tail;
	bool stopping, running;
	uint64_t commits, ops;
} st = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static int exec(const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(st.db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_error("store: %s: %s", sql, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
	}
	return sqlite_errno(rc);
}

static const char *column_type(enum field_type t)
{
	switch (t) {
	case FIELD_TEXT:
	case FIELD_ENUM:
		return "TEXT";
	case FIELD_BYTES:
		return "BLOB";
	case FIELD_INT:
		break;
	}
	return "INTEGER";
}

/* The column default of field f, as SQL. */
static void column_default(const struct field *f, struct strbuf *sql)
{
	switch (f->type) {
	case FIELD_TEXT:
		strbuf_addstr(sql, "''");
		break;
	case FIELD_BYTES:
		strbuf_addstr(sql, "x''");
		break;
	case FIELD_INT:
		strbuf_addf(sql, "%lld", (long long)f->def);
		break;
	case FIELD_ENUM:
		strbuf_addf(sql, "'%s'", f->names[f->def]);
		break;
	}
}

/* Does table have column? */
static bool has_column(const char *table, const char *column)
{
	sqlite3_stmt *stmt = NULL;
	char *sql = sqlite3_mprintf("PRAGMA table_info(\"%w\")", table);
	bool found = false;

	if (sql && sqlite3_prepare_v2(st.db, sql, -1, &stmt, NULL) == SQLITE_OK)
		while (!found && sqlite3_step(stmt) == SQLITE_ROW)
			found = strcmp((const char *)sqlite3_column_text(stmt, 1),
				       column) == 0;
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return found;
}

/* Creates k's table, or adds the columns it lacks. */
static int create_table(const struct kind *k)
{
	static const char *const common[][2] = {
		{ "uuid", "TEXT NOT NULL DEFAULT ''" },
		{ "name", "TEXT NOT NULL DEFAULT ''" },
		{ "parent", "TEXT NOT NULL DEFAULT ''" },
		{ "uid", "INTEGER NOT NULL DEFAULT 0" },
		{ "gid", "INTEGER NOT NULL DEFAULT 0" },
		{ "created_at", "INTEGER NOT NULL DEFAULT 0" },
		{ "updated_at", "INTEGER NOT NULL DEFAULT 0" },
	};
	struct strbuf sql = STRBUF_INIT;
	unsigned i;
	int rc;

	strbuf_addf(&sql, "CREATE TABLE IF NOT EXISTS \"%s\" (uuid TEXT PRIMARY KEY",
		    k->table);
	for (i = 1; i < COMMON_COLUMNS; i++)
		strbuf_addf(&sql, ", %s %s", common[i][0], common[i][1]);
	for (i = 0; i < k->nfields; i++) {
		strbuf_addf(&sql, ", \"%s\" %s NOT NULL DEFAULT ", k->fields[i].name,
			    column_type(k->fields[i].type));
		column_default(&k->fields[i], &sql);
	}
	strbuf_addstr(&sql, ")");
	rc = exec(sql.buf);
	/* A table from an older novafs: add what it lacks. */
	for (i = 0; rc == 0 && i < COMMON_COLUMNS + k->nfields; i++) {
		const char *col = i < COMMON_COLUMNS ? common[i][0] :
				  k->fields[i - COMMON_COLUMNS].name;

		if (has_column(k->table, col))
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE \"%s\" ADD COLUMN \"%s\" ", k->table, col);
		if (i < COMMON_COLUMNS) {
			strbuf_addstr(&sql, common[i][1]);
		} else {
			const struct field *f = &k->fields[i - COMMON_COLUMNS];

			strbuf_addf(&sql, "%s NOT NULL DEFAULT ", column_type(f->type));
			column_default(f, &sql);
		}
		rc = exec(sql.buf);
	}
	strbuf_release(&sql);
	return rc;
}

static int prepare(const char *sql, sqlite3_stmt **stmt)
{
	int rc = sqlite3_prepare_v3(st.db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    stmt, NULL);

	if (rc != SQLITE_OK)
		log_error("store: %s: %s", sql, sqlite3_errmsg(st.db));
	return sqlite_errno(rc);
}

/* INSERT OR REPLACE of every column, and DELETE, for k.  An update is
 * the same full-row write: rows are small, and one statement per kind
 * beats one per combination of changed fields. */
static int prepare_kind(struct kind_sql *ks)
{
	const struct kind *k = ks->kind;
	struct strbuf sql = STRBUF_INIT;
	unsigned i;
	int rc;

	strbuf_addf(&sql, "INSERT OR REPLACE INTO \"%s\" (uuid, name, parent, uid, gid, created_at, updated_at",
		    k->table);
	for (i = 0; i < k->nfields; i++)
		strbuf_addf(&sql, ", \"%s\"", k->fields[i].name);
	strbuf_addstr(&sql, ") VALUES (?, ?, ?, ?, ?, ?, ?");
	for (i = 0; i < k->nfields; i++)
		strbuf_addstr(&sql, ", ?");
	strbuf_addstr(&sql, ")");
	rc = prepare(sql.buf, &ks->insert);
	if (rc == 0) {
		strbuf_reset(&sql);
		strbuf_addf(&sql, "DELETE FROM \"%s\" WHERE uuid = ?", k->table);
		rc = prepare(sql.buf, &ks->delete);
	}
	strbuf_release(&sql);
	return rc;
}

static struct kind_sql *kind_sql_of(const struct kind *k)
{
	size_t i;

	for (i = 0; i < st.nkinds; i++)
		if (st.kinds[i].kind == k)
			return &st.kinds[i];
	return NULL;
}

/* The collection an object of kind k with owner parent belongs in. */
static struct coll *home_of(const struct kind *k, struct obj *parent)
{
	unsigned i;

	if (!parent)
		return obj_top_coll(k);
	for (i = 0; i < parent->kind->nnodes; i++)
		if (parent->kind->nodes[i].type == NODE_COLLECTION &&
		    parent->kind->nodes[i].kind == k)
			return obj_coll(parent, i);
	return NULL;
}

/* Reads column col of stmt into field f of o. */
static void load_value(struct obj *o, unsigned f, sqlite3_stmt *stmt, int col)
{
	const struct field *fd = &o->kind->fields[f];
	const char *text;
	unsigned i;

	switch (fd->type) {
	case FIELD_TEXT:
	case FIELD_BYTES:
		o->v[f].b = bytes_new(sqlite3_column_blob(stmt, col),
				      (size_t)sqlite3_column_bytes(stmt, col));
		break;
	case FIELD_INT:
		o->v[f].i = sqlite3_column_int64(stmt, col);
		break;
	case FIELD_ENUM:
		text = (const char *)sqlite3_column_text(stmt, col);
		o->v[f].i = fd->def;
		for (i = 0; text && fd->names[i]; i++)
			if (strcmp(fd->names[i], text) == 0)
				o->v[f].i = i;
		break;
	}
}

/* Loads every row of k's table into memory. */
static int load_kind(const struct kind *k)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *stmt = NULL;
	const char *uuid, *parent;
	struct obj *o, *owner;
	struct coll *home;
	unsigned i;
	int rc;

	strbuf_addstr(&sql, "SELECT uuid, name, parent, uid, gid, created_at, updated_at");
	for (i = 0; i < k->nfields; i++)
		strbuf_addf(&sql, ", \"%s\"", k->fields[i].name);
	strbuf_addf(&sql, " FROM \"%s\" ORDER BY created_at, rowid", k->table);
	rc = sqlite3_prepare_v2(st.db, sql.buf, -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		uuid = (const char *)sqlite3_column_text(stmt, 0);
		parent = (const char *)sqlite3_column_text(stmt, 2);
		owner = parent && parent[0] ? obj_by_uuid(parent) : NULL;
		home = (!parent || !parent[0] || owner) ? home_of(k, owner) : NULL;
		if (!home || !uuid || strlen(uuid) != UUID_STR_LEN - 1) {
			log_warn("store: skipping a %s row without a valid uuid or owner",
				 k->name);
			continue;
		}
		o = obj_new(k, (const char *)sqlite3_column_text(stmt, 1), uuid);
		if (!o) {
			rc = SQLITE_NOMEM;
			break;
		}
		o->uid = (uid_t)sqlite3_column_int64(stmt, 3);
		o->gid = (gid_t)sqlite3_column_int64(stmt, 4);
		o->created_ns = sqlite3_column_int64(stmt, 5);
		o->updated_ns = sqlite3_column_int64(stmt, 6);
		for (i = 0; i < k->nfields; i++)
			load_value(o, i, stmt, COMMON_COLUMNS + (int)i);
		obj_link(home, o);
		if (k->published)
			k->published(o, ~0ULL);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		log_error("store: loading %s: %s", k->table, sqlite3_errmsg(st.db));
	sqlite3_finalize(stmt);
	strbuf_release(&sql);
	return rc == SQLITE_DONE || rc == SQLITE_OK ? 0 : sqlite_errno(rc);
}

/* Rows of older novafs versions had no uuid for some kinds: give them one,
 * so that every object can be named by its uuid. */
static int fill_uuids(const struct kind *k)
{
	char *sql = sqlite3_mprintf("SELECT rowid FROM \"%w\" WHERE uuid = '' OR uuid IS NULL",
				    k->table);
	sqlite3_stmt *sel = NULL, *upd = NULL;
	char *usql = sqlite3_mprintf("UPDATE \"%w\" SET uuid = ? WHERE rowid = ?",
				     k->table);
	char uuid[UUID_STR_LEN];
	int rc;

	rc = sqlite3_prepare_v2(st.db, sql, -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st.db, usql, -1, &upd, NULL);
	while (rc == SQLITE_OK && sqlite3_step(sel) == SQLITE_ROW) {
		uuid_generate_str(uuid);
		sqlite3_bind_text(upd, 1, uuid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 0));
		rc = sqlite3_step(upd) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(upd);
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_free(sql);
	sqlite3_free(usql);
	return sqlite_errno(rc);
}

static void *committer(void *arg);

int store_open(const char *path, const struct kind *const *kinds,
	       const char **why)
{
	const struct kind *const *k;
	size_t n = 0;
	int rc;

	*why = NULL;
	rc = sqlite3_open_v2(path, &st.db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*why = st.db ? sqlite3_errmsg(st.db) : sqlite3_errstr(rc);
		rc = sqlite_errno(rc);
		goto fail;
	}
	/* WAL with synchronous=FULL: a commit is on disk when it returns.
	 * The page cache is bounded: every object is in memory anyway. */
	rc = exec("PRAGMA journal_mode=WAL");
	if (rc == 0)
		rc = exec("PRAGMA synchronous=FULL");
	if (rc == 0)
		rc = exec("PRAGMA cache_size=-4096");
	if (rc < 0) {
		*why = sqlite3_errmsg(st.db);
		goto fail;
	}
	for (k = kinds; *k; k++)
		n += (*k)->table != NULL;
	st.kinds = calloc(n ? n : 1, sizeof(*st.kinds));
	if (!st.kinds) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = exec("BEGIN");
	for (k = kinds; rc == 0 && *k; k++) {
		if (!(*k)->table)
			continue;
		st.kinds[st.nkinds].kind = *k;
		rc = create_table(*k);
		if (rc == 0)
			rc = fill_uuids(*k);
		if (rc == 0)
			rc = prepare_kind(&st.kinds[st.nkinds]);
		st.nkinds++;
	}
	if (rc == 0)
		rc = exec("COMMIT");
	else
		exec("ROLLBACK");
	/* Parents before children: kinds are registered in that order. */
	for (k = kinds; rc == 0 && *k; k++)
		if ((*k)->table)
			rc = load_kind(*k);
	if (rc < 0) {
		*why = sqlite3_errmsg(st.db);
		goto fail;
	}
	return 0;
fail:
	store_close();
	return rc;
}

int store_start(void)
{
	int rc = -pthread_create(&st.thread, NULL, committer, NULL);

	st.running = rc == 0;
	return rc;
}

/* Binds every column of o (with the staged values of s, if any) to the
 * insert statement and runs it. */
static int write_row(struct obj *o, const struct stage *s)
{
	struct kind_sql *ks = kind_sql_of(o->kind);
	const struct kind *k = o->kind;
	sqlite3_stmt *stmt = ks->insert;
	struct obj *parent = o->coll ? o->coll->owner :
			     (s && s->coll ? s->coll->owner : NULL);
	unsigned i;
	int rc, col;

	if (parent == obj_root)
		parent = NULL;
	sqlite3_bind_text(stmt, 1, o->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, o->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, parent ? parent->uuid : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, s && s->owner ? s->uid : o->uid);
	sqlite3_bind_int64(stmt, 5, s && s->owner ? s->gid : o->gid);
	sqlite3_bind_int64(stmt, 6, o->created_ns);
	sqlite3_bind_int64(stmt, 7, s ? s->updated_ns : o->updated_ns);
	for (i = 0; i < k->nfields; i++) {
		const union value *v = s && (s->mask & (1ULL << i)) ? &s->v[i] : &o->v[i];

		col = COMMON_COLUMNS + 1 + (int)i;
		switch (k->fields[i].type) {
		case FIELD_TEXT:
			sqlite3_bind_text(stmt, col, v->b ? v->b->data : "",
					  v->b ? (int)v->b->len : 0, SQLITE_STATIC);
			break;
		case FIELD_BYTES:
			sqlite3_bind_blob(stmt, col, v->b ? v->b->data : "",
					  v->b ? (int)v->b->len : 0, SQLITE_STATIC);
			break;
		case FIELD_INT:
			sqlite3_bind_int64(stmt, col, v->i);
			break;
		case FIELD_ENUM:
			sqlite3_bind_text(stmt, col, k->fields[i].names[v->i], -1,
					  SQLITE_STATIC);
			break;
		}
	}
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE)
		log_error("store: writing %s %s: %s", k->name, o->name,
			  sqlite3_errmsg(st.db));
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

/* Deletes o's row and, first, those of everything nested in it. */
static int delete_rows(struct obj *o)
{
	struct kind_sql *ks;
	struct obj *child;
	unsigned i;
	int rc;

	for (i = 0; i < o->kind->nnodes; i++)
		for (child = o->colls[i] ? o->colls[i]->head : NULL; child;
		     child = child->next)
			if (child->kind->table && (rc = delete_rows(child)) < 0)
				return rc;
	ks = kind_sql_of(o->kind);
	if (!ks)
		return 0;
	sqlite3_bind_text(ks->delete, 1, o->uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(ks->delete);
	sqlite3_reset(ks->delete);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

/* --- staging --- */

static struct stage *stage_of(struct txn *t, const struct obj *o)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->stages[i].o == o)
			return &t->stages[i];
	return NULL;
}

/* The running op must wait for the next batch: it is run again there.
 * Only this makes -EAGAIN mean "again": an op that returns -EAGAIN of
 * its own (a transfer's errno, say) gets it back, as any other errno. */
static int txn_conflict(struct txn *t)
{
	t->conflicted = true;
	return -EAGAIN;
}

/* The stage of o for the running op: a new one, or -EAGAIN when an
 * earlier op of the batch staged o. */
static int stage_for(struct txn *t, struct obj *o, struct stage **out)
{
	struct stage *s = stage_of(t, o);

	if (s) {
		if (s->op != t->op)
			return txn_conflict(t);
		*out = s;
		return 0;
	}
	if (t->n == t->alloc) {
		size_t alloc = t->alloc ? t->alloc * 2 : 64;
		struct stage *p = realloc(t->stages, alloc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->stages = p;
		t->alloc = alloc;
	}
	s = &t->stages[t->n];
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->op = t->op;
	s->updated_ns = clock_real_ns();
	snprintf(s->request, sizeof(s->request), "%s", t->request);
	if (o->kind->nfields) {
		s->v = calloc(o->kind->nfields, sizeof(*s->v));
		if (!s->v)
			return -ENOMEM;
	}
	/* A stage holds its object: an op may delete one nobody else
	 * holds, which is then reaped right after publish, before its
	 * stage is released. */
	obj_get(o);
	t->n++;
	*out = s;
	return 0;
}

static int txn_fail(struct txn *t, int rc)
{
	if (rc != -EAGAIN && rc != -EEXIST)
		t->failed = true;
	return rc;
}

int txn_touch(struct txn *t, struct obj *o)
{
	struct stage *s;
	int rc = stage_for(t, o, &s);

	return rc < 0 ? txn_fail(t, rc) : 0;
}

static bool is_bytes(const struct obj *o, unsigned field)
{
	return o->kind->fields[field].type == FIELD_TEXT ||
	       o->kind->fields[field].type == FIELD_BYTES;
}

int txn_set_int(struct txn *t, struct obj *o, unsigned field, int64_t v)
{
	struct stage *s;
	int rc = stage_for(t, o, &s);

	if (rc < 0)
		return txn_fail(t, rc);
	/* Setting what is there already changes nothing: no row to write,
	 * no event, no cache to invalidate. */
	if (!s->created && !(s->mask & (1ULL << field)) && o->v[field].i == v)
		return 0;
	s->v[field].i = v;
	s->mask |= 1ULL << field;
	s->dirty = true;
	return 0;
}

int txn_set_bytes(struct txn *t, struct obj *o, unsigned field,
		  const void *data, size_t len)
{
	struct bytes *b;
	struct stage *s;
	int rc;

	rc = stage_for(t, o, &s);
	if (rc < 0)
		return txn_fail(t, rc);
	if (!s->created && !(s->mask & (1ULL << field)) &&
	    bytes_equal(o->v[field].b, data, len))
		return 0;
	b = len ? bytes_new(data, len) : NULL;
	if (len && !b)
		return txn_fail(t, -ENOMEM);
	if (s->mask & (1ULL << field))
		bytes_free(s->v[field].b);
	s->v[field].b = b;
	s->mask |= 1ULL << field;
	s->dirty = true;
	return 0;
}

int txn_set_text(struct txn *t, struct obj *o, unsigned field, const char *s)
{
	return txn_set_bytes(t, o, field, s, strlen(s));
}

int txn_set_owner(struct txn *t, struct obj *o, uid_t uid, gid_t gid)
{
	struct stage *s;
	int rc = stage_for(t, o, &s);

	if (rc < 0)
		return txn_fail(t, rc);
	s->owner = true;
	s->uid = uid;
	s->gid = gid;
	s->dirty = true;
	return 0;
}

void txn_set_request(struct txn *t, const char *request_id)
{
	size_t i;

	snprintf(t->request, sizeof(t->request), "%s", request_id ? request_id : "");
	/* Stages the op made before it knew. */
	for (i = 0; i < t->n; i++)
		if (t->stages[i].op == t->op)
			snprintf(t->stages[i].request, sizeof(t->stages[i].request),
				 "%s", t->request);
}

int64_t txn_int(struct txn *t, struct obj *o, unsigned field)
{
	struct stage *s = stage_of(t, o);

	if (s && (s->mask & (1ULL << field)))
		return s->v[field].i;
	return o->v[field].i;
}

int txn_create(struct txn *t, struct coll *c, const char *name, uid_t uid,
	       gid_t gid, struct obj **out)
{
	struct stage *s;
	struct obj *o;
	size_t i;
	int rc;

	if (coll_find(c, name))
		return -EEXIST;
	for (i = 0; i < t->n; i++) {
		struct stage *p = &t->stages[i];

		/* A name this batch creates or frees is settled only when
		 * it commits: decide in the next batch. */
		if ((p->created && p->coll == c && strcmp(p->o->name, name) == 0) ||
		    (p->deleted && p->o->coll == c && strcmp(p->o->name, name) == 0))
			return p->op == t->op ? -EEXIST : txn_conflict(t);
	}
	o = obj_new(c->kind, name, NULL);
	if (!o)
		return txn_fail(t, -ENOMEM);
	rc = stage_for(t, o, &s);
	obj_put(o); /* the stage holds it now */
	if (rc < 0)
		return txn_fail(t, rc);
	o->uid = uid;
	o->gid = gid;
	s->created = true;
	s->coll = c;
	s->dirty = true;
	*out = o;
	return 0;
}

int txn_delete(struct txn *t, struct obj *o)
{
	struct stage *s;
	int rc = stage_for(t, o, &s);

	if (rc < 0)
		return txn_fail(t, rc);
	s->deleted = true;
	s->dirty = true;
	return 0;
}

/* Writes the rows the running op staged. */
static int flush_op(struct txn *t)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < t->n; i++) {
		struct stage *s = &t->stages[i];

		if (s->op != t->op || !s->dirty || !s->o->kind->table)
			continue;
		if (s->deleted)
			rc = s->created ? 0 : delete_rows(s->o);
		else
			rc = write_row(s->o, s);
		s->dirty = false;
	}
	return rc;
}

/* Forgets what op staged (it failed, or runs again later). */
static void discard_op(struct txn *t, unsigned op)
{
	size_t i, j = 0;

	for (i = 0; i < t->n; i++) {
		struct stage *s = &t->stages[i];
		unsigned f;

		if (s->op != op) {
			t->stages[j++] = *s;
			continue;
		}
		for (f = 0; f < s->o->kind->nfields; f++)
			if ((s->mask & (1ULL << f)) && is_bytes(s->o, f))
				bytes_free(s->v[f].b);
		free(s->v);
		obj_put(s->o);
	}
	t->n = j;
}

/* --- the committer --- */

/* Applies the batch to memory (the write lock is held).  The values a
 * stage replaces stay in the stage, which frees them after the lock is
 * released. */
static void publish(struct txn *t)
{
	struct publish_change *changes;
	size_t i, n = 0;

	changes = calloc(t->n ? t->n : 1, sizeof(*changes));
	if (!changes)
		log_error("store: out of memory: kernel caches may stay stale");
	for (i = 0; i < t->n; i++) {
		struct stage *s = &t->stages[i];
		struct obj *o = s->o;
		unsigned f;

		if ((!s->created && !s->deleted && !s->mask && !s->owner) ||
		    (s->created && s->deleted))
			continue; /* only touched, or never there */
		if (s->created) {
			obj_link(s->coll, o); /* takes the stage's reference */
			s->linked = true;
		}
		for (f = 0; f < o->kind->nfields; f++) {
			union value old;

			if (!(s->mask & (1ULL << f)))
				continue;
			old = o->v[f];
			o->v[f] = s->v[f];
			s->v[f] = old;
		}
		if (s->owner) {
			o->uid = s->uid;
			o->gid = s->gid;
		}
		if (s->mask || s->owner)
			o->updated_ns = s->updated_ns;
		atomic_fetch_add(&o->version, 1);
		if (o->kind->published && !s->deleted)
			o->kind->published(o, s->mask);
		if (changes) {
			changes[n].o = o;
			changes[n].created = s->created;
			changes[n].deleted = s->deleted;
			changes[n].mask = s->mask | (s->owner ? PUBLISH_OWNER : 0);
			changes[n].old = s->v;
			changes[n].request = s->request;
			n++;
		}
	}
	if (n)
		publish_changes(changes, n);
	for (i = 0; i < t->n; i++)
		if (t->stages[i].deleted && !t->stages[i].created)
			obj_unlink(t->stages[i].o);
	free(changes);
}

/* Frees the stages: after publish, the old values; after a failed
 * commit, the new ones and the objects that were to be created. */
static void release_stages(struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct stage *s = &t->stages[i];
		unsigned f;

		for (f = 0; f < s->o->kind->nfields; f++)
			if ((s->mask & (1ULL << f)) && is_bytes(s->o, f))
				bytes_free(s->v[f].b);
		free(s->v);
		if (!s->linked)
			obj_put(s->o);
	}
	t->n = 0;
}

static int savepoint(const char *verb)
{
	char sql[32];

	snprintf(sql, sizeof(sql), "%s op", verb);
	return exec(sql);
}

/* Runs one batch: ops (a list) are run, committed and published; those
 * deferred by a conflict are returned to be run first next time. */
static struct op *run_batch(struct op *ops, struct txn *t)
{
	struct op *done = NULL, **done_tail = &done, *again = NULL,
		  **again_tail = &again, *op, *next;
	bool conflict = false, rerun;
	int rc;

	rc = exec("BEGIN IMMEDIATE");
	for (op = ops; op; op = next) {
		next = op->next;
		op->next = NULL;
		if (rc < 0 || conflict) {
			/* After a conflict, keep the order: everything after
			 * the deferred op waits too. */
			if (rc < 0) {
				op->err = rc;
				*done_tail = op;
				done_tail = &op->next;
			} else {
				*again_tail = op;
				again_tail = &op->next;
			}
			continue;
		}
		t->op++;
		t->failed = false;
		t->conflicted = false;
		t->request[0] = '\0';
		savepoint("SAVEPOINT");
		op->err = op->ops->run(op, t);
		rerun = op->err == -EAGAIN && t->conflicted;
		if (rerun || t->failed || flush_op(t) < 0) {
			savepoint("ROLLBACK TO");
			discard_op(t, t->op);
			if (rerun && !t->failed) {
				conflict = true;
				op->attempts++;
				*again_tail = op;
				again_tail = &op->next;
				savepoint("RELEASE");
				continue;
			}
			op->err = -EIO;
		}
		savepoint("RELEASE");
		*done_tail = op;
		done_tail = &op->next;
	}
	if (rc == 0)
		rc = exec("COMMIT");
	if (rc < 0) {
		exec("ROLLBACK");
		for (op = done; op; op = op->next)
			op->err = rc == -ENOSPC ? -ENOSPC : -EIO;
		release_stages(t);
	} else {
		obj_wrlock();
		publish(t);
		obj_reap();
		obj_unlock();
		release_stages(t);
		st.commits++;
	}
	for (op = done; op; op = next) {
		next = op->next;
		st.ops++;
		op->ops->done(op, op->err);
	}
	return again;
}

static void *committer(void *arg)
{
	struct txn t = { 0 };
	struct op *batch, *again = NULL, *op;
	size_t n;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&st.lock);
		while (!again && !st.head && !st.stopping)
			pthread_cond_wait(&st.cond, &st.lock);
		if (!again && !st.head && st.stopping) {
			pthread_mutex_unlock(&st.lock);
			break;
		}
		/* Deferred ops first, then up to BATCH_MAX new ones. */
		batch = again;
		for (op = batch; op && op->next; op = op->next)
			;
		n = 0;
		while (st.head && n < BATCH_MAX) {
			struct op *next = st.head->next;

			st.head->next = NULL;
			if (op)
				op->next = st.head;
			else
				batch = st.head;
			op = st.head;
			st.head = next;
			n++;
		}
		if (!st.head)
			st.tail = NULL;
		pthread_mutex_unlock(&st.lock);
		t.op = 0;
		again = run_batch(batch, &t);
	}
	free(t.stages);
	return NULL;
}

void store_submit(struct op *op)
{
	op->next = NULL;
	op->err = 0;
	pthread_mutex_lock(&st.lock);
	if (st.tail)
		st.tail->next = op;
	else
		st.head = op;
	st.tail = op;
	pthread_cond_signal(&st.cond);
	pthread_mutex_unlock(&st.lock);
}

struct fn_op {
	struct op op;             /* first */
	int (*run)(struct txn *t, void *ctx);
	void (*then)(void *ctx, int err);
	void *ctx;
};

static int fn_run(struct op *op, struct txn *t)
{
	struct fn_op *f = (struct fn_op *)op;

	return f->run(t, f->ctx);
}

static void fn_done(struct op *op, int err)
{
	struct fn_op *f = (struct fn_op *)op;
	void (*then)(void *, int) = f->then;
	void *ctx = f->ctx;

	free(f);
	if (then)
		then(ctx, err);
}

static const struct op_ops fn_ops = { fn_run, fn_done };

void store_do(int (*run)(struct txn *t, void *ctx),
	      void (*then)(void *ctx, int err), void *ctx)
{
	struct fn_op *f = calloc(1, sizeof(*f));

	if (!f) {
		if (then)
			then(ctx, -ENOMEM);
		return;
	}
	f->op.ops = &fn_ops;
	f->run = run;
	f->then = then;
	f->ctx = ctx;
	store_submit(&f->op);
}

struct sync_op {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int err;
	int (*run)(struct txn *t, void *ctx);
	void *ctx;
};

static int sync_run(struct txn *t, void *ctx)
{
	struct sync_op *s = ctx;

	return s->run(t, s->ctx);
}

static void sync_then(void *ctx, int err)
{
	struct sync_op *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->done = true;
	s->err = err;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

int store_run(int (*run)(struct txn *t, void *ctx), void *ctx)
{
	struct sync_op s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			     false, 0, run, ctx };

	store_do(sync_run, sync_then, &s);
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	return s.err;
}

void store_close(void)
{
	size_t i;

	if (st.running) {
		pthread_mutex_lock(&st.lock);
		st.stopping = true;
		pthread_cond_signal(&st.cond);
		pthread_mutex_unlock(&st.lock);
		pthread_join(st.thread, NULL);
		st.running = false;
	}
	for (i = 0; i < st.nkinds; i++) {
		sqlite3_finalize(st.kinds[i].insert);
		sqlite3_finalize(st.kinds[i].delete);
	}
	free(st.kinds);
	st.kinds = NULL;
	st.nkinds = 0;
	if (st.db)
		sqlite3_close(st.db);
	st.db = NULL;
}

void store_stats(uint64_t *commits, uint64_t *ops)
{
	pthread_mutex_lock(&st.lock);
	*commits = st.commits;
	*ops = st.ops;
	pthread_mutex_unlock(&st.lock);
}
