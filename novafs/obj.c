/*
 * obj.c - objects, collections and their indexes; see obj.h.
 *
 * One rwlock guards everything here.  Readers (FUSE threads) hold it for
 * the length of a lookup or a render; the committer holds it for writing
 * only while it publishes a batch it has already committed.  glibc's
 * default rwlock prefers readers, which would let a steady stream of
 * reads delay every publish, so writers are preferred.
 */
#include "obj.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "node.h"

static pthread_rwlock_t lock;
static struct hash_table by_serial, by_uuid;

/* Deleted objects whose last reference went, still in by_serial until
 * the next time the write lock is held (obj_reap): a reader holding the
 * read lock may be looking at one through its inode. */
static pthread_mutex_t grave_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj *graveyard;
static atomic_uint_fast64_t next_serial = 1;

struct obj *obj_root;

/* The root directory is an object of this kind; its entries are the
 * registered kinds' collections, filled in by obj_init, and what other
 * modules add with obj_root_add. */
#define ROOT_NODES_MAX 32
static struct node root_nodes[ROOT_NODES_MAX];
static struct kind root_kind = {
	.name = "root",
	.mode = S_IFDIR | 0555,
	.nodes = root_nodes,
};

void obj_rdlock(void)
{
	pthread_rwlock_rdlock(&lock);
}

void obj_wrlock(void)
{
	pthread_rwlock_wrlock(&lock);
}

void obj_unlock(void)
{
	pthread_rwlock_unlock(&lock);
}

static int cmp_serial(const struct hash_entry *e, const void *key)
{
	return container_of(e, struct obj, by_serial)->serial != *(const uint64_t *)key;
}

static int cmp_uuid(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct obj, by_uuid)->uuid, key);
}

static int cmp_name(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct obj, by_name)->name, key);
}

struct bytes *bytes_new(const void *data, size_t len)
{
	struct bytes *b;

	if (len == 0)
		return NULL;
	b = malloc(sizeof(*b) + len + 1);
	if (!b)
		return NULL;
	b->len = (uint32_t)len;
	memcpy(b->data, data, len);
	b->data[len] = '\0';
	return b;
}

void bytes_free(struct bytes *b)
{
	free(b);
}

bool bytes_equal(const struct bytes *a, const void *data, size_t len)
{
	if (!a)
		return len == 0;
	return a->len == len && memcmp(a->data, data, len) == 0;
}

int obj_check_name(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > OBJ_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

int obj_init(const struct kind *const *kinds)
{
	struct coll **colls;
	pthread_rwlockattr_t attr;
	const struct kind *const *k;
	unsigned n = 0;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	hash_init(&by_serial, cmp_serial);
	hash_init(&by_uuid, cmp_uuid);
	for (k = kinds; *k; k++) {
		if (!(*k)->collection)
			continue;
		if (n == ROOT_NODES_MAX)
			return -ENOSPC;
		root_nodes[n].name = (*k)->collection;
		root_nodes[n].type = NODE_COLLECTION;
		root_nodes[n].mode = (*k)->collection_mode;
		root_nodes[n].kind = *k;
		n++;
	}
	root_kind.nnodes = n;
	obj_root = obj_new(&root_kind, "", NULL);
	if (!obj_root)
		return -ENOMEM;
	/* Room for what obj_root_add adds (files, never collections). */
	colls = realloc(obj_root->colls, ROOT_NODES_MAX * sizeof(*colls));
	if (!colls)
		return -ENOMEM;
	memset(colls + n, 0, (ROOT_NODES_MAX - n) * sizeof(*colls));
	obj_root->colls = colls;
	/* The root is serial 0, so that its directory is inode 1, FUSE's
	 * root. */
	obj_root->serial = 0;
	return 0;
}

/* Adds a node to the root directory (the events stream, say): for
 * modules that are not kinds.  Before the mount only. */
int obj_root_add(const struct node *n)
{
	if (root_kind.nnodes >= ROOT_NODES_MAX)
		return -ENOSPC;
	root_nodes[root_kind.nnodes++] = *n;
	return 0;
}

static struct coll *coll_new(const struct kind *k, struct obj *owner,
			     unsigned node)
{
	struct coll *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->kind = k;
	c->owner = owner;
	c->node = node;
	c->updated_ns = owner->created_ns;
	hash_init(&c->by_name, cmp_name);
	return c;
}

static void coll_free(struct coll *c)
{
	if (!c)
		return;
	hash_release(&c->by_name);
	free(c);
}

struct obj *obj_new(const struct kind *k, const char *name, const char *uuid)
{
	struct obj *o;
	unsigned i;

	o = calloc(1, sizeof(*o) + k->nfields * sizeof(union value));
	if (!o)
		return NULL;
	o->name = strdup(name);
	if (k->nnodes)
		o->colls = calloc(k->nnodes, sizeof(*o->colls));
	if (!o->name || (k->nnodes && !o->colls)) {
		free(o->name);
		free(o->colls);
		free(o);
		return NULL;
	}
	o->kind = k;
	atomic_init(&o->refs, 1);
	o->created_ns = o->updated_ns = clock_real_ns();
	/* Nested collections exist with their owner, so that nobody has to
	 * create one under a lock later. */
	for (i = 0; i < k->nnodes; i++) {
		if (k->nodes[i].type != NODE_COLLECTION)
			continue;
		o->colls[i] = coll_new(k->nodes[i].kind, o, i);
		if (!o->colls[i]) {
			obj_put(o);
			return NULL;
		}
	}
	o->serial = atomic_fetch_add(&next_serial, 1);
	if (uuid)
		snprintf(o->uuid, sizeof(o->uuid), "%s", uuid);
	else
		uuid_generate_str(o->uuid);
	for (i = 0; i < k->nfields; i++)
		if (k->fields[i].type == FIELD_INT || k->fields[i].type == FIELD_ENUM)
			o->v[i].i = k->fields[i].def;
	return o;
}

void obj_get(struct obj *o)
{
	atomic_fetch_add(&o->refs, 1);
}

bool obj_tryget(struct obj *o)
{
	unsigned r = atomic_load(&o->refs);

	while (r)
		if (atomic_compare_exchange_weak(&o->refs, &r, r + 1))
			return true;
	return false;
}

static void obj_free(struct obj *o)
{
	unsigned i;

	for (i = 0; i < o->kind->nfields; i++)
		if (o->kind->fields[i].type == FIELD_TEXT ||
		    o->kind->fields[i].type == FIELD_BYTES)
			bytes_free(o->v[i].b);
	for (i = 0; i < o->kind->nnodes; i++)
		coll_free(o->colls[i]);
	coll_free(o->scratch);
	free(o->colls);
	if (o->kind->release)
		o->kind->release(o);
	else
		free(o->priv);
	free(o->name);
	free(o);
}

void obj_put(struct obj *o)
{
	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	if (!o->in_serial) {
		obj_free(o);
		return;
	}
	pthread_mutex_lock(&grave_lock);
	o->next = graveyard;
	graveyard = o;
	pthread_mutex_unlock(&grave_lock);
}

void obj_reap(void)
{
	struct obj *o, *next;

	pthread_mutex_lock(&grave_lock);
	o = graveyard;
	graveyard = NULL;
	pthread_mutex_unlock(&grave_lock);
	for (; o; o = next) {
		next = o->next;
		hash_remove(&by_serial, &o->by_serial);
		obj_free(o);
	}
}

void obj_link(struct coll *c, struct obj *o)
{
	o->coll = c;
	o->prev = c->tail;
	o->next = NULL;
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->count++;
	c->updated_ns = o->updated_ns;
	hash_add(&c->by_name, &o->by_name, hash_str(o->name));
	hash_add(&by_serial, &o->by_serial, hash_u64(o->serial));
	o->in_serial = true;
	if (o->kind->table)
		hash_add(&by_uuid, &o->by_uuid, hash_str(o->uuid));
}

void obj_unlink(struct obj *o)
{
	struct coll *c = o->coll;
	struct obj *child, *next;
	unsigned i;

	/* Nested objects go with their owner. */
	for (i = 0; i < o->kind->nnodes; i++)
		for (child = o->colls[i] ? o->colls[i]->head : NULL; child; child = next) {
			next = child->next;
			obj_unlink(child);
		}
	for (child = o->scratch ? o->scratch->head : NULL; child; child = next) {
		next = child->next;
		obj_unlink(child);
	}
	if (o->prev)
		o->prev->next = o->next;
	else
		c->head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		c->tail = o->prev;
	c->count--;
	c->updated_ns = clock_real_ns();
	hash_remove(&c->by_name, &o->by_name);
	/* Its inode still names it while descriptors hold it: it leaves
	 * by_serial when freed (obj_reap). */
	if (o->kind->table)
		hash_remove(&by_uuid, &o->by_uuid);
	o->dead = true;
	atomic_fetch_add(&o->version, 1);
	obj_put(o);
}

struct obj *obj_by_serial(uint64_t serial)
{
	struct hash_entry *e;

	if (serial == 0)
		return obj_root;
	e = hash_get(&by_serial, hash_u64(serial), &serial);
	return e ? container_of(e, struct obj, by_serial) : NULL;
}

struct obj *obj_by_uuid(const char *uuid)
{
	struct hash_entry *e = hash_get(&by_uuid, hash_str(uuid), uuid);

	return e ? container_of(e, struct obj, by_uuid) : NULL;
}

struct obj *coll_find(const struct coll *c, const char *name)
{
	struct hash_entry *e;

	if (!c)
		return NULL;
	e = hash_get(&c->by_name, hash_str(name), name);
	return e ? container_of(e, struct obj, by_name) : NULL;
}

struct coll *obj_coll(struct obj *owner, unsigned i)
{
	return owner->colls[i];
}

struct coll *obj_scratch_coll(struct obj *owner, const struct kind *k)
{
	if (!owner->scratch)
		owner->scratch = coll_new(k, owner, UINT32_MAX);
	return owner->scratch;
}

struct coll *obj_top_coll(const struct kind *k)
{
	unsigned i;

	for (i = 0; i < root_kind.nnodes; i++)
		if (root_nodes[i].type == NODE_COLLECTION && root_nodes[i].kind == k)
			return obj_coll(obj_root, i);
	return NULL;
}

const char *obj_text(const struct obj *o, unsigned field)
{
	return o->v[field].b ? o->v[field].b->data : "";
}

size_t obj_len(const struct obj *o, unsigned field)
{
	return o->v[field].b ? o->v[field].b->len : 0;
}

int64_t obj_int(const struct obj *o, unsigned field)
{
	return o->v[field].i;
}

void obj_shutdown(void)
{
	unsigned i;

	obj_wrlock();
	for (i = 0; obj_root && i < root_kind.nnodes; i++) {
		struct coll *c = obj_root->colls[i];

		while (c && c->head)
			obj_unlink(c->head);
	}
	obj_reap();
	obj_unlock();
	obj_put(obj_root);
	obj_root = NULL;
	hash_release(&by_serial);
	hash_release(&by_uuid);
	pthread_rwlock_destroy(&lock);
}
