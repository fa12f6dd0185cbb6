/*
 * claims.c - claims, releases and server groups in flight; see claims.h
 * and, for the rules, host_state.h.
 *
 * A claim sits in three places at once: the manager's table by instance
 * UUID (a reschedule or a release finds it), its host's list (a report
 * walks them) and, for a member of a server group, its group's list (the
 * group filters walk them).  A group exists while it has claims.  Each
 * host keeps the sums of its claims and releases up to date, so that
 * host_state_used() is arithmetic, not a walk.
 */
#include "claims.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void link_init(struct sched_link *head)
{
	head->prev = head->next = head;
}

static void link_add(struct sched_link *head, struct sched_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void link_del(struct sched_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

static void add_sizes(struct sched_resources *to,
		      const struct sched_resources *r, long long sign)
{
	to->vcpus += sign * r->vcpus;
	to->memory_mb += sign * r->memory_mb;
	to->disk_gb += sign * r->disk_gb;
}

static int claim_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct sched_claim, by_uuid)->uuid, key);
}

static int group_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct sched_group, by_name)->name, key);
}

static int release_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct sched_release, by_uuid)->uuid, key);
}

void claims_init(struct host_manager *hm)
{
	hash_init(&hm->claims, claim_cmp);
	hash_init(&hm->groups, group_cmp);
}

void claims_free(struct host_manager *hm)
{
	hash_release(&hm->claims);
	hash_release(&hm->groups);
}

void claims_host_init(struct host_state *hs)
{
	link_init(&hs->claims);
	hash_init(&hs->releases, release_cmp);
}

int claims_uuid_key(const char *s, char out[UUID_STR_LEN])
{
	size_t i;

	if (strlen(s) != UUID_STR_LEN - 1)
		return -EINVAL;
	for (i = 0; i < UUID_STR_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return 0;
}

struct sched_claim *claims_find(const struct host_manager *hm,
				const char *uuid)
{
	struct hash_entry *e = hash_get(&hm->claims, hash_str(uuid), uuid);

	return e ? container_of(e, struct sched_claim, by_uuid) : NULL;
}

static struct sched_group *group_find(const struct host_manager *hm,
				      const char *name)
{
	struct hash_entry *e = hash_get(&hm->groups, hash_str(name), name);

	return e ? container_of(e, struct sched_group, by_name) : NULL;
}

const struct sched_group *claims_group(const struct host_manager *hm,
				       const char *name)
{
	return group_find(hm, name);
}

/* Group name, made when it has no claim yet; NULL when out of memory. */
static struct sched_group *group_get(struct host_manager *hm, const char *name)
{
	struct sched_group *g = group_find(hm, name);

	if (g)
		return g;
	if (!(g = calloc(1, sizeof(*g))))
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	link_init(&g->members);
	if (hash_add(&hm->groups, &g->by_name, hash_str(g->name)) < 0) {
		free(g);
		return NULL;
	}
	return g;
}

/* Frees g once it has no claim left. */
static void group_put(struct host_manager *hm, struct sched_group *g)
{
	if (g && g->members.next == &g->members) {
		hash_remove(&hm->groups, &g->by_name);
		free(g);
	}
}

/* Unlinks c from everything and frees it; its group goes with its last
 * claim. */
static void claim_free(struct host_manager *hm, struct sched_claim *c)
{
	hash_remove(&hm->claims, &c->by_uuid);
	link_del(&c->on_host);
	c->host->nclaims--;
	add_sizes(&c->host->claimed, &c->size, -1);
	link_del(&c->in_group);
	group_put(hm, c->group);
	free(c);
}

static struct sched_release *release_find(const struct host_state *hs,
					  const char *uuid)
{
	struct hash_entry *e = hash_get(&hs->releases, hash_str(uuid), uuid);

	return e ? container_of(e, struct sched_release, by_uuid) : NULL;
}

static void release_free(struct host_state *hs, struct sched_release *rel)
{
	hash_remove(&hs->releases, &rel->by_uuid);
	add_sizes(&hs->released, &rel->size, -1);
	free(rel);
}

int claims_add(struct host_manager *hm, struct host_state *hs,
	       const char *uuid, const struct sched_resources *size,
	       const char *group)
{
	struct sched_claim *c = NULL;
	struct sched_release *rel;
	struct sched_group *g = NULL;

	claims_drop(hm, uuid);
	if (!(c = calloc(1, sizeof(*c))) ||
	    (group && !(g = group_get(hm, group))))
		goto fail;
	memcpy(c->uuid, uuid, sizeof(c->uuid));
	if (hash_add(&hm->claims, &c->by_uuid, hash_str(c->uuid)) < 0)
		goto fail;
	c->host = hs;
	c->size = *size;
	link_add(&hs->claims, &c->on_host);
	hs->nclaims++;
	add_sizes(&hs->claimed, size, 1);
	c->group = g;
	link_init(&c->in_group);
	if (g)
		link_add(&g->members, &c->in_group);
	if ((rel = release_find(hs, uuid)))
		release_free(hs, rel);
	return 0;
fail:
	group_put(hm, g);
	free(c);
	return -ENOMEM;
}

struct host_state *claims_drop(struct host_manager *hm, const char *uuid)
{
	struct sched_claim *c = claims_find(hm, uuid);
	struct host_state *hs;

	if (!c)
		return NULL;
	hs = c->host;
	claim_free(hm, c);
	return hs;
}

int claims_release(struct host_manager *hm, const char *host,
		   const char *uuid, const struct sched_resources *size)
{
	struct host_state *hs = host_manager_find(hm, host);
	struct sched_claim *c = claims_find(hm, uuid);
	struct sched_release *rel;
	int done = 0;

	if (!hs)
		return 0;
	if (sched_uuid_set_has(&hs->listed, uuid) && !release_find(hs, uuid)) {
		if (!(rel = calloc(1, sizeof(*rel))))
			return -ENOMEM;
		memcpy(rel->uuid, uuid, sizeof(rel->uuid));
		if (hash_add(&hs->releases, &rel->by_uuid, hash_str(rel->uuid)) < 0) {
			free(rel);
			return -ENOMEM;
		}
		rel->size = *size;
		add_sizes(&hs->released, size, 1);
		done |= CLAIMS_TOOK_OFF_REPORT;
	}
	if (c && c->host == hs) {
		claim_free(hm, c);
		done |= CLAIMS_DROPPED_CLAIM;
	}
	return done;
}

void claims_report(struct host_manager *hm, struct host_state *hs,
		   struct sched_uuid_set *listed)
{
	struct sched_link *l, *next;
	struct hash_entry *e;
	struct hash_iter it;

	for (l = hs->claims.next; l != &hs->claims; l = next) {
		struct sched_claim *c = claim_of_host_link(l);

		next = l->next;
		if (!listed || sched_uuid_set_has(listed, c->uuid))
			claim_free(hm, c);
	}
	hash_iter_init(&it, &hs->releases);
	while ((e = hash_iter_next(&it))) {
		struct sched_release *rel =
			container_of(e, struct sched_release, by_uuid);

		if (!listed || !sched_uuid_set_has(listed, rel->uuid))
			release_free(hs, rel);
	}
	sched_uuid_set_release(&hs->listed);
	if (listed) {
		hs->listed = *listed;
		sched_uuid_set_init(listed);
	}
}

void claims_host_free(struct host_manager *hm, struct host_state *hs)
{
	claims_report(hm, hs, NULL);
	hash_release(&hs->releases);
}
