/*
 * hash.c - the intrusive chained hash table of hash.h.
 *
 * Buckets are singly linked lists of the caller's entries; each entry keeps
 * its full hash, so growing rehashes without calling back into the caller
 * and a lookup compares keys only when the hashes are equal.
 */
#include "common/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HASH_MIN_BUCKETS 16

void hash_init(struct hash_table *t, hash_cmp_fn cmp)
{
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
	t->cmp = cmp;
}

void hash_release(struct hash_table *t)
{
	free(t->buckets);
	hash_init(t, t->cmp);
}

static struct hash_entry **hash_bucket(const struct hash_table *t, uint64_t h)
{
	return &t->buckets[h & (t->nbuckets - 1)];
}

/* Moves every entry into a bucket array of n (a power of two) buckets. */
static int hash_resize(struct hash_table *t, size_t n)
{
	struct hash_entry **old = t->buckets, *e, *next;
	size_t oldn = t->nbuckets, i;

	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		t->buckets = old;
		return -ENOMEM;
	}
	t->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		for (e = old[i]; e; e = next) {
			struct hash_entry **b = hash_bucket(t, e->hash);

			next = e->next;
			e->next = *b;
			*b = e;
		}
	}
	free(old);
	return 0;
}

int hash_add(struct hash_table *t, struct hash_entry *e, uint64_t h)
{
	struct hash_entry **b;

	if (!t->nbuckets && hash_resize(t, HASH_MIN_BUCKETS) < 0)
		return -ENOMEM;
	e->hash = h;
	b = hash_bucket(t, h);
	e->next = *b;
	*b = e;
	t->count++;
	/* A failed doubling only costs speed: the chains get longer. */
	if (t->count > t->nbuckets)
		hash_resize(t, t->nbuckets * 2);
	return 0;
}

struct hash_entry *hash_get(const struct hash_table *t, uint64_t h,
			    const void *key)
{
	struct hash_entry *e;

	if (!t->nbuckets)
		return NULL;
	for (e = *hash_bucket(t, h); e; e = e->next)
		if (e->hash == h && t->cmp(e, key) == 0)
			return e;
	return NULL;
}

void hash_remove(struct hash_table *t, struct hash_entry *e)
{
	struct hash_entry **p;

	for (p = hash_bucket(t, e->hash); *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			e->next = NULL;
			t->count--;
			return;
		}
	}
}

void hash_iter_init(struct hash_iter *it, const struct hash_table *t)
{
	it->t = t;
	it->bucket = 0;
	it->next = NULL;
}

struct hash_entry *hash_iter_next(struct hash_iter *it)
{
	struct hash_entry *e = it->next;

	while (!e) {
		if (it->bucket >= it->t->nbuckets)
			return NULL;
		e = it->t->buckets[it->bucket++];
	}
	/* Taken now, so that the caller may remove e before the next call. */
	it->next = e->next;
	return e;
}

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

uint64_t hash_mem(const void *p, size_t len)
{
	const unsigned char *c = p;
	uint64_t h = FNV_OFFSET;

	while (len--) {
		h ^= *c++;
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t hash_str(const char *s)
{
	return hash_mem(s, strlen(s));
}

/* splitmix64's finalizer: consecutive ids (1, 2, 3...) differ in their low
 * bits only, and the bucket index is taken from the low bits. */
uint64_t hash_u64(uint64_t v)
{
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
	return v ^ (v >> 31);
}
