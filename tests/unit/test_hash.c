/*
 * test_hash.c - hash.h: lookups at 100,000 entries, growth, collisions,
 * duplicates, removal while iterating, and the hash functions themselves.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "testhelp.h"

struct item {
	struct hash_entry by_key;
	long key;
	bool seen;
};

static int item_cmp(const struct hash_entry *e, const void *key)
{
	return container_of(e, struct item, by_key)->key != *(const long *)key;
}

static struct item *item_get(const struct hash_table *t, long key)
{
	struct hash_entry *e = hash_get(t, hash_u64((uint64_t)key), &key);

	return e ? container_of(e, struct item, by_key) : NULL;
}

static void test_functions(void)
{
	/* FNV-1a 64 reference values. */
	CHECK(hash_str("") == 0xcbf29ce484222325ULL);
	CHECK(hash_str("a") == 0xaf63dc4c8601ec8cULL);
	CHECK(hash_str("foobar") == 0x85944171f73967e8ULL);
	CHECK(hash_mem("foobar", 6) == hash_str("foobar"));
	CHECK(hash_mem("a\0b", 3) != hash_mem("a\0c", 3)); /* past a NUL */
	/* splitmix64's finalizer is a bijection: neighbours never collide,
	 * and their low bits (the bucket) differ. */
	CHECK(hash_u64(1) != hash_u64(2));
	CHECK((hash_u64(1) & 15) != (hash_u64(2) & 15) ||
	      (hash_u64(2) & 15) != (hash_u64(3) & 15));
	CHECK(hash_u64(0x123456789abcdefULL) == hash_u64(0x123456789abcdefULL));
}

static void test_empty(void)
{
	struct hash_table t = HASH_TABLE_INIT(item_cmp);
	struct hash_iter it;
	long key = 1;

	CHECK(hash_get(&t, 1, &key) == NULL);
	hash_iter_init(&it, &t);
	CHECK(hash_iter_next(&it) == NULL);
	hash_release(&t);
	CHECK(t.nbuckets == 0 && t.count == 0 && t.cmp == item_cmp);
}

#define MANY 100000

static void test_many(void)
{
	struct hash_table t;
	struct item *items = calloc(MANY, sizeof(*items));
	struct hash_entry *e;
	struct hash_iter it;
	size_t visited = 0, chain, longest = 0, i;
	bool all_found = true, once = true;
	long k;

	hash_init(&t, item_cmp);
	for (k = 0; k < MANY; k++) {
		items[k].key = k * 7919;
		if (hash_add(&t, &items[k].by_key,
			     hash_u64((uint64_t)items[k].key)) < 0)
			break;
	}
	CHECK_INT(t.count, MANY);
	CHECK((t.nbuckets & (t.nbuckets - 1)) == 0); /* a power of two */
	CHECK(t.nbuckets >= t.count && t.nbuckets < 2 * t.count + 16);
	for (k = 0; k < MANY; k++)
		if (item_get(&t, k * 7919) != &items[k])
			all_found = false;
	CHECK_MSG(all_found, "every one of %d keys is found", MANY);
	CHECK(item_get(&t, 7919L * MANY) == NULL);
	CHECK(item_get(&t, 5) == NULL);
	for (i = 0; i < t.nbuckets; i++) {
		chain = 0;
		for (e = t.buckets[i]; e; e = e->next)
			chain++;
		if (chain > longest)
			longest = chain;
	}
	CHECK_MSG(longest <= 12, "longest chain %zu", longest);

	hash_iter_init(&it, &t);
	while ((e = hash_iter_next(&it))) {
		struct item *x = container_of(e, struct item, by_key);

		if (x->seen)
			once = false;
		x->seen = true;
		visited++;
	}
	CHECK_INT(visited, MANY);
	CHECK(once);

	/* Removing the current entry while iterating: every odd key. */
	visited = 0;
	hash_iter_init(&it, &t);
	while ((e = hash_iter_next(&it))) {
		visited++;
		if (container_of(e, struct item, by_key)->key % 2)
			hash_remove(&t, e);
	}
	CHECK_INT(visited, MANY);
	CHECK_INT(t.count, MANY / 2);
	all_found = true;
	for (k = 0; k < MANY; k++)
		if ((item_get(&t, k * 7919) != NULL) != (k % 2 == 0))
			all_found = false;
	CHECK_MSG(all_found, "even keys stay, odd keys are gone");

	/* And all of them. */
	hash_iter_init(&it, &t);
	while ((e = hash_iter_next(&it)))
		hash_remove(&t, e);
	CHECK_INT(t.count, 0);
	CHECK(item_get(&t, 0) == NULL);

	hash_release(&t);
	CHECK(t.buckets == NULL && t.count == 0);
	/* Reusable after release. */
	CHECK_INT(hash_add(&t, &items[3].by_key, hash_u64(3 * 7919)), 0);
	CHECK(item_get(&t, 3 * 7919) == &items[3]);
	hash_release(&t);
	free(items);
}

/* Equal hashes, different keys: cmp tells them apart.  Equal keys: the
 * table keeps both, and a lookup finds one of them. */
static void test_collisions_and_duplicates(void)
{
	struct hash_table t = HASH_TABLE_INIT(item_cmp);
	struct item a = { .key = 1 }, b = { .key = 2 }, c = { .key = 1 };
	struct hash_entry *e;
	long key = 2;

	hash_add(&t, &a.by_key, 42);
	hash_add(&t, &b.by_key, 42);
	CHECK(hash_get(&t, 42, &key) == &b.by_key);
	key = 1;
	CHECK(hash_get(&t, 42, &key) == &a.by_key);
	key = 3;
	CHECK(hash_get(&t, 42, &key) == NULL);
	key = 1;
	CHECK(hash_get(&t, 43, &key) == NULL); /* right key, wrong hash */

	hash_add(&t, &c.by_key, 42);
	CHECK_INT(t.count, 3);
	e = hash_get(&t, 42, &key);
	CHECK(e == &a.by_key || e == &c.by_key);
	hash_remove(&t, e);
	CHECK(hash_get(&t, 42, &key) ==
	      (e == &a.by_key ? &c.by_key : &a.by_key));
	CHECK_INT(t.count, 2);
	hash_release(&t);
}

struct name {
	struct hash_entry by_name;
	const char *name;
};

static int name_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct name, by_name)->name, key);
}

static void test_strings(void)
{
	struct hash_table t = HASH_TABLE_INIT(name_cmp);
	struct name n[] = { { .name = "web1" }, { .name = "web2" },
			    { .name = "db" } };
	size_t i;

	for (i = 0; i < 3; i++)
		hash_add(&t, &n[i].by_name, hash_str(n[i].name));
	CHECK(hash_get(&t, hash_str("web2"), "web2") == &n[1].by_name);
	CHECK(hash_get(&t, hash_str("db"), "db") == &n[2].by_name);
	CHECK(hash_get(&t, hash_str("web3"), "web3") == NULL);
	hash_release(&t);
}

int main(void)
{
	test_functions();
	test_empty();
	test_many();
	test_collisions_and_duplicates();
	test_strings();
	return test_done();
}
