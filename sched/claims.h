/*
 * claims.h - the room the scheduler has promised away and not yet seen in
 * a report: one claim per instance placed, and the releases of instances
 * a host's last report still counts.
 *
 * The scheduler answers a select_destinations long before the host it
 * chose reports the instance in its usage; between the two, the instance
 * holds a claim of its flavor's sizes on that host (host_state.h gives the
 * arithmetic and the rules of when claims and releases go).  A claim also
 * remembers the instance's server group, so that two members of a group
 * scheduled one after the other, before novafs knows where the first one
 * went, still see each other (the group filters in filters.c).
 *
 * Every lookup is by hash: the claims by instance UUID, the groups by name,
 * a host's releases and its reported instances by UUID, so reconciling a
 * report costs the length of its instance list plus the host's own claims
 * and releases, whatever the number of instances in all.
 *
 * A host's claims and releases belong to the host_manager (host_state.h),
 * which frees them with the hosts.
 */
#ifndef NOVAFS_SCHED_CLAIMS_H
#define NOVAFS_SCHED_CLAIMS_H

#include <stdbool.h>

#include "common/hash.h"
#include "common/uuid.h"
#include "host_state.h"

struct sched_group;

/* The room an instance holds on a host until its report counts it. */
struct sched_claim {
	struct hash_entry by_uuid;          /* host_manager.claims */
	char uuid[UUID_STR_LEN];            /* lower case */
	struct host_state *host;
	struct sched_resources size;
	struct sched_link on_host;          /* host_state.claims */
	struct sched_group *group;          /* NULL: in no server group */
	struct sched_link in_group;         /* sched_group.members */
};

/* A server group's claims in flight. */
struct sched_group {
	struct hash_entry by_name;          /* host_manager.groups */
	char name[SCHED_NAME_LEN];
	struct sched_link members;          /* struct sched_claim.in_group */
};

/* A released instance that the host's last report still counts. */
struct sched_release {
	struct hash_entry by_uuid;          /* host_state.releases */
	char uuid[UUID_STR_LEN];
	struct sched_resources size;
};

/* Copies UUID s into out in lower case, the form every table here is
 * keyed by.  Returns 0, or -EINVAL when s is not 36 characters. */
int claims_uuid_key(const char *s, char out[UUID_STR_LEN]);

/* The claim of instance uuid (lower case), or NULL. */
struct sched_claim *claims_find(const struct host_manager *hm,
				const char *uuid);

/*
 * Claims size on hs for instance uuid (lower case), of server group group
 * (NULL: none), replacing the instance's claim if it has one, and
 * dropping hs's release of the instance if there is one (the instance
 * holds room there again, counted by its claim until a report lists it).
 * Returns 0, or -ENOMEM: the instance then has no claim.
 */
int claims_add(struct host_manager *hm, struct host_state *hs,
	       const char *uuid, const struct sched_resources *size,
	       const char *group);

/* Drops the claim of instance uuid (lower case), if any: a reschedule
 * replaces it.  Returns the host it was on, or NULL when there was none. */
struct host_state *claims_drop(struct host_manager *hm, const char *uuid);

/* What claims_release did, as flags. */
#define CLAIMS_DROPPED_CLAIM   0x1  /* the instance's claim on the host went */
#define CLAIMS_TOOK_OFF_REPORT 0x2  /* its sizes now come off the report */

/*
 * release_resources: instance uuid (lower case) no longer holds size on
 * host.  Drops its claim on that host, and when the host's last report
 * listed it, takes size off that report until a report no longer lists
 * it.  Idempotent: a second release of the same instance changes nothing.
 * A claim of the instance on another host (it was rescheduled since)
 * stays.  Returns the CLAIMS_* flags (0: nothing held there, or released
 * already), or -ENOMEM.
 */
int claims_release(struct host_manager *hm, const char *host,
		   const char *uuid, const struct sched_resources *size);

/*
 * Reconciles hs with its new report: listed is the set of the report's
 * "instances" (NULL when it had none: an older host).  Drops the claims
 * it lists and the releases it no longer lists, and moves *listed into
 * hs (leaving *listed empty); without a set, drops all of hs's claims and
 * releases and empties hs's set.
 */
void claims_report(struct host_manager *hm, struct host_state *hs,
		   struct sched_uuid_set *listed);

/* The manager's claim and group tables: claims_init() makes them empty,
 * claims_free() frees them once every host's claims are gone. */
void claims_init(struct host_manager *hm);
void claims_free(struct host_manager *hm);
/* A new host's empty claim list and release table; claims_host_free()
 * drops every claim and release of hs and empties its reported set,
 * before hs is freed. */
void claims_host_init(struct host_state *hs);
void claims_host_free(struct host_manager *hm, struct host_state *hs);

/* Server group name's claims in flight, or NULL when it has none. */
const struct sched_group *claims_group(const struct host_manager *hm,
				       const char *name);

/* The claim holding link l of a host's or a group's list. */
#define claim_of_host_link(l) container_of(l, struct sched_claim, on_host)
#define claim_of_group_link(l) container_of(l, struct sched_claim, in_group)

#endif
