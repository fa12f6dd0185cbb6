/*
 * test_store.c - the store and the objects in memory: persistence across a
 * reopen, group commit, conflicts within a batch, and compare-and-set
 * hammered from many threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhelp.h"
#include "node.h"
#include "obj.h"
#include "publish.h"
#include "store.h"

enum { F_NAME, F_COUNT, F_OWNER, F_NFIELDS };

static const char *const owners[] = { "none", "a", "b", NULL };

static const struct field fields[] = {
	[F_NAME] = { "label", FIELD_TEXT, 0, NULL, 0 },
	[F_COUNT] = { "count", FIELD_INT, 0, NULL, 7 },
	[F_OWNER] = { "holder", FIELD_ENUM, 0, owners, 0 },
};

static const struct kind widget = {
	.name = "widget", .table = "widgets", .collection = "widgets",
	.collection_mode = 0755, .mode = S_IFDIR | 0755,
	.fields = fields, .nfields = F_NFIELDS,
};

static const struct kind *const kinds[] = { &widget, NULL };

/* The store publishes into these; the mount is not part of this test. */
static atomic_int published;
void publish_changes(const struct publish_change *c, size_t n)
{
	atomic_fetch_add(&published, (int)n);
}

struct create_arg {
	char name[32];
	int err;
};

static int create_run(struct txn *t, void *ctx)
{
	struct create_arg *a = ctx;
	struct obj *o;
	int rc = txn_create(t, obj_top_coll(&widget), a->name, 1000, 1000, &o);

	if (rc == 0)
		rc = txn_set_text(t, o, F_NAME, a->name);
	return rc;
}

/* Stages a change, then fails with an -EAGAIN of its own (an errno it
 * met, not a conflict). */
static int busy_run(struct txn *t, void *ctx)
{
	struct obj *o = coll_find(obj_top_coll(&widget), ctx);
	int rc;

	if (!o)
		return -ENOENT;
	rc = txn_touch(t, o);
	if (rc == 0)
		rc = txn_set_text(t, o, F_NAME, "busy");
	return rc < 0 ? rc : -EAGAIN;
}

static int bump_run(struct txn *t, void *ctx)
{
	struct obj *o = coll_find(obj_top_coll(&widget), ctx);
	int rc;

	if (!o)
		return -ENOENT;
	rc = txn_touch(t, o);
	if (rc == 0)
		rc = txn_set_int(t, o, F_COUNT, obj_int(o, F_COUNT) + 1);
	return rc;
}

/* The hammer: threads claim and release one holder slot; a claim
 * succeeds only when nobody holds it (compare-and-set). */
static const char *slot = "slot";
static atomic_int claims, releases, refused;

struct claim {
	int who;            /* 1 or 2: a or b */
	bool release;
};

static int claim_run(struct txn *t, void *ctx)
{
	struct claim *c = ctx;
	struct obj *o = coll_find(obj_top_coll(&widget), slot);
	int rc = txn_touch(t, o);

	if (rc < 0)
		return rc;
	if (c->release) {
		if (obj_int(o, F_OWNER) != c->who)
			return -EPERM;
		return txn_set_int(t, o, F_OWNER, 0);
	}
	if (obj_int(o, F_OWNER) != 0)
		return -EBUSY;
	/* Between the check and the set nobody can change it: the count
	 * moves with every successful claim, so a lost update shows. */
	rc = txn_set_int(t, o, F_OWNER, c->who);
	if (rc == 0)
		rc = txn_set_int(t, o, F_COUNT, obj_int(o, F_COUNT) + 1);
	return rc;
}

/* Deletes the widget named ctx, holding no reference of its own: the
 * store must keep it alive until its stage is released. */
static int delete_run(struct txn *t, void *ctx)
{
	struct obj *o = coll_find(obj_top_coll(&widget), ctx);
	int rc;

	if (!o)
		return -ENOENT;
	rc = txn_touch(t, o);
	return rc < 0 ? rc : txn_delete(t, o);
}

static void *hammer(void *arg)
{
	struct claim c = { (int)(intptr_t)arg, false };
	int i, rc;

	for (i = 0; i < 500; i++) {
		c.release = false;
		rc = store_run(claim_run, &c);
		if (rc == 0) {
			atomic_fetch_add(&claims, 1);
			c.release = true;
			if (store_run(claim_run, &c) == 0)
				atomic_fetch_add(&releases, 1);
		} else if (rc == -EBUSY) {
			atomic_fetch_add(&refused, 1);
		}
	}
	return NULL;
}

static void *creator(void *arg)
{
	struct create_arg a;
	int i, base = (int)(intptr_t)arg;

	for (i = 0; i < 50; i++) {
		snprintf(a.name, sizeof(a.name), "w%d-%d", base, i);
		a.err = store_run(create_run, &a);
		if (a.err)
			fprintf(stderr, "create %s: %d\n", a.name, a.err);
	}
	return NULL;
}

static void open_store(const char *path)
{
	const char *why = NULL;

	CHECK(obj_init(kinds) == 0);
	CHECK_INT(store_open(path, kinds, &why), 0);
	CHECK_INT(store_start(), 0);
}

static void close_store(void)
{
	store_close();
	obj_shutdown();
}

int main(void)
{
	char dir[] = "/tmp/test_store.XXXXXX", path[64];
	struct create_arg a;
	pthread_t th[16];
	uint64_t commits, ops, commits0, ops0;
	struct obj *o;
	int i;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/db", dir);
	open_store(path);

	snprintf(a.name, sizeof(a.name), "%s", slot);
	CHECK_INT(store_run(create_run, &a), 0);
	CHECK_INT(store_run(create_run, &a), -EEXIST);
	o = coll_find(obj_top_coll(&widget), slot);
	CHECK(o != NULL);
	CHECK_INT(obj_int(o, F_COUNT), 7);  /* the field's default */
	CHECK_STR(obj_text(o, F_NAME), "slot");
	CHECK_INT(o->uid, 1000);

	/* Parallel creators share commits. */
	store_stats(&commits0, &ops0);
	for (i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, creator, (void *)(intptr_t)i);
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	store_stats(&commits, &ops);
	CHECK_INT(obj_top_coll(&widget)->count, 401);
	CHECK_MSG(ops - ops0 == 400, "400 creates ran as ops (%llu)",
		  (unsigned long long)(ops - ops0));
	CHECK_MSG(commits - commits0 < 400,
		  "group commit: %llu commits for 400 creates",
		  (unsigned long long)(commits - commits0));

	/* Two ops on one object in a batch: the second sees the first. */
	for (i = 0; i < 100; i++)
		store_do(bump_run, NULL, (void *)slot);
	CHECK_INT(store_run(bump_run, (void *)slot), 0);
	CHECK_INT(obj_int(o, F_COUNT), 7 + 101);

	/* An op's own -EAGAIN is its answer, with what it staged (a
	 * refusal's fault): it is not run again, for ever. */
	store_stats(&commits0, &ops0);
	CHECK_INT(store_run(busy_run, (void *)slot), -EAGAIN);
	store_stats(&commits, &ops);
	CHECK_MSG(ops - ops0 == 1, "run once (%llu)", (unsigned long long)(ops - ops0));
	CHECK_STR(obj_text(o, F_NAME), "busy");
	CHECK_INT(store_run(bump_run, (void *)slot), 0);
	CHECK_INT(obj_int(o, F_COUNT), 7 + 102);

	/* Compare-and-set from 16 threads: every claim was exclusive. */
	for (i = 0; i < 16; i++)
		pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)(1 + i % 2));
	for (i = 0; i < 16; i++)
		pthread_join(th[i], NULL);
	CHECK_MSG(claims == releases, "every claim released (%d/%d, %d refused)",
		  claims, releases, refused);
	CHECK_INT(obj_int(o, F_OWNER), 0);
	CHECK_INT(obj_int(o, F_COUNT), 7 + 102 + claims);
	CHECK(atomic_load(&published) > 0);

	/* An op deletes an object nobody else holds (under ASan, a
	 * use after free if the store did not hold it either). */
	CHECK_INT(store_run(delete_run, (void *)"w3-17"), 0);
	CHECK(coll_find(obj_top_coll(&widget), "w3-17") == NULL);
	CHECK_INT(store_run(delete_run, (void *)"w3-17"), -ENOENT);
	CHECK_INT(obj_top_coll(&widget)->count, 400);

	/* Everything is in the database. */
	close_store();
	open_store(path);
	o = coll_find(obj_top_coll(&widget), slot);
	CHECK(o != NULL);
	CHECK_INT(obj_top_coll(&widget)->count, 400);
	CHECK_INT(obj_int(o, F_COUNT), 7 + 102 + claims);
	CHECK_STR(obj_text(coll_find(obj_top_coll(&widget), "w3-16"), F_NAME), "w3-16");
	close_store();

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return test_done();
}
