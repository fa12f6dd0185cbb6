/*
 * hash.h - an intrusive chained hash table, after git's hashmap.h.
 *
 * The caller embeds a struct hash_entry in its own struct, computes the
 * hash (hash_str / hash_mem / hash_u64 below) and passes an equality
 * function; the table never allocates entries and never frees them, so an
 * object can sit in several tables at once (by name, by id, by UUID) and
 * its owner decides when it goes.  The bucket array doubles when the load
 * passes 1 and never shrinks, so a lookup costs the same with 10 or 1,000,000
 * entries.  Not thread-safe: callers lock.
 */
#ifndef NOVAFS_COMMON_HASH_H
#define NOVAFS_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_entry {
	struct hash_entry *next;
	uint64_t hash;
};

/* Returns 0 when entry matches key (what the caller passed to
 * hash_get/hash_remove_key), anything else when not. */
typedef int (*hash_cmp_fn)(const struct hash_entry *entry, const void *key);

struct hash_table {
	struct hash_entry **buckets;
	size_t nbuckets;          /* a power of two, or 0 before the first add */
	size_t count;
	hash_cmp_fn cmp;
};

#define HASH_TABLE_INIT(cmp) { NULL, 0, 0, (cmp) }

void hash_init(struct hash_table *t, hash_cmp_fn cmp);
/* Frees the bucket array (not the entries); t is left empty and reusable. */
void hash_release(struct hash_table *t);

/* Adds e with hash h (duplicates are the caller's business).  Returns 0,
 * or -ENOMEM when e was not added: that happens only to the first entry,
 * which allocates the bucket array.  Later, a table that cannot grow takes
 * e anyway and just stays denser than it should. */
int hash_add(struct hash_table *t, struct hash_entry *e, uint64_t h);
/* The first entry with hash h for which cmp(entry, key) == 0, or NULL. */
struct hash_entry *hash_get(const struct hash_table *t, uint64_t h,
			    const void *key);
/* Removes e, which must be in t. */
void hash_remove(struct hash_table *t, struct hash_entry *e);

/* Iteration: visits every entry once, in no particular order.  The table
 * must not change while iterating, except that the current entry may be
 * removed. */
struct hash_iter {
	const struct hash_table *t;
	size_t bucket;
	struct hash_entry *next;
};
void hash_iter_init(struct hash_iter *it, const struct hash_table *t);
struct hash_entry *hash_iter_next(struct hash_iter *it);

/* FNV-1a 64 over a string or bytes; a 64-bit mix for integers. */
uint64_t hash_str(const char *s);
uint64_t hash_mem(const void *p, size_t len);
uint64_t hash_u64(uint64_t v);

/* The struct holding a member: container_of(ptr, struct obj, by_name). */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
