/*
 * host_state.h - the scheduler's view of the compute hosts: what each one
 * last reported, and what the scheduler has promised away on it since.
 *
 * Compute hosts fanout-cast update_service_capabilities at start, every
 * report interval and with "up": false when they stop; the scheduler keeps
 * the last report of each host here, in memory only (a restarted scheduler
 * asks every host to report at once).  A report carries the host's
 * capacity, its usage and (since 1.1) "instances", the UUIDs of the
 * domains that usage counts.
 *
 * What a host holds, for the filters, is
 *
 *     used = its report's usage
 *          + its claims that the report does not count yet
 *          - the releases of instances that the report still counts
 *
 * and never below zero.  A claim (claims.h) is made for each instance
 * placed on the host and holds until the host's report lists the
 * instance, until release_resources for it arrives, or until the
 * instance is scheduled again; a release of an instance the last report
 * listed takes its sizes off that report until a report no longer lists
 * it.  So boots in quick succession, with no report in between, see the
 * room already promised away, and a deleted instance's room is free at
 * once rather than at the host's next report.
 *
 * The rules at the edges:
 *   - A report with "instances" drops the host's claims whose instance it
 *     lists and the releases whose instance it no longer lists; the
 *     other claims and releases stay.
 *   - A report without "instances" (a host older than 1.1, which cannot
 *     say what it counts) drops all the host's claims and releases: its
 *     usage is taken as the whole truth, as before 1.1.
 *   - A report with "up": false changes nothing but the host's state.
 *     Its claims and releases stay: the start requests of the instances
 *     it was chosen for wait in its durable queue, so they will run when
 *     it is back, and its first report then says which ones it counts.
 *     Meanwhile ComputeFilter keeps the host out of every choice.  A host
 *     that stops reporting without a word is treated alike.
 *
 * Pure code: no AMQP, no clock.  Callers pass the time (CLOCK_MONOTONIC
 * milliseconds), so that tests can construct any history.
 */
#ifndef NOVAFS_SCHED_HOST_STATE_H
#define NOVAFS_SCHED_HOST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/hash.h"
#include "common/uuid.h"

struct rpc_error;

/* Host and flavor names on the bus are 1 to 63 bytes (RPC_T_HOST). */
#define SCHED_NAME_LEN 64
/* A host whose report interval is unknown is assumed to report this often. */
#define HOST_DEFAULT_REPORT_INTERVAL 10
/* A host is live while its last report is younger than this many intervals. */
#define HOST_LIVENESS_INTERVALS 3

/* What a flavor asks of a host, or what a host has or holds. */
struct sched_resources {
	long long vcpus;
	long long memory_mb;
	long long disk_gb;
};

/* A link in a circular doubly linked list whose head is a link too (a
 * host's claims, a server group's claims). */
struct sched_link {
	struct sched_link *prev, *next;
};

/* One instance UUID of a report. */
struct sched_uuid {
	struct hash_entry by_uuid;
	char uuid[UUID_STR_LEN];      /* lower case */
};

/* The instances a report listed: a set by UUID, its entries in one
 * array. */
struct sched_uuid_set {
	struct hash_table by_uuid;    /* struct sched_uuid */
	struct sched_uuid *items;
};

struct host_state {
	char name[SCHED_NAME_LEN];
	char hypervisor_type[32];
	bool up;                       /* the last report said "up": true */
	bool live;                     /* live as last announced (an event) */
	int report_interval;           /* seconds */
	long long last_report_ms;      /* when the last report arrived */
	struct sched_resources total;  /* as reported */
	struct sched_resources reported; /* used, as reported */
	/* The sums of this host's claims and of its releases (claims.h). */
	struct sched_resources claimed;
	struct sched_resources released;
	struct sched_link claims;      /* struct sched_claim.on_host */
	size_t nclaims;
	struct hash_table releases;    /* struct sched_release by uuid */
	/* The instances the last report listed; empty when it had no
	 * "instances". */
	struct sched_uuid_set listed;
};

/* What an update changed, for the daemon to log. */
enum host_event {
	HOST_EVENT_NONE,    /* a routine report */
	HOST_EVENT_UP,      /* first heard from, or up again */
	HOST_EVENT_DOWN,    /* reported "up": false, or went stale */
};

/* Every host, and every claim on them.  The hosts are sorted by name, so
 * that lookups are a binary search and every walk over them (the filters,
 * a NoValidHost message, ties between equal weights) goes in name order. */
struct host_manager {
	struct host_state **hosts;
	size_t n, alloc;
	struct hash_table claims;      /* struct sched_claim by instance uuid */
	struct hash_table groups;      /* struct sched_group by name */
};

/* Initialises an empty manager. */
void host_manager_init(struct host_manager *hm);
/* Frees every host state, claim and release; hm is left empty and
 * reusable. */
void host_manager_release(struct host_manager *hm);

/* The state of host name, or NULL. */
struct host_state *host_manager_find(const struct host_manager *hm,
				     const char *name);

/*
 * Applies an update_service_capabilities report received at now_ms,
 * adding the host when it is new.  A report with "up": true carries the
 * numbers (and "instances" since 1.1), which replace the last report's
 * and reconcile the host's claims and releases (see the rules above); a
 * report with "up": false only marks the host down.  Returns 0 and sets
 * *event; -EINVAL with e when args are malformed, or -ENOMEM, and then
 * nothing changed.
 */
int host_manager_update(struct host_manager *hm, json_t *args, long long now_ms,
			enum host_event *event, struct rpc_error *e);

/* True while hs said it is up and its last report is younger than
 * HOST_LIVENESS_INTERVALS report intervals. */
bool host_state_is_live(const struct host_state *hs, long long now_ms);

/*
 * Finds the next host that went from live to not live (stale) since the
 * last call, starting at *cursor, records that and returns it; NULL when
 * there is none.  Used to log "host X is down" once when a host stops
 * reporting without saying so.
 */
struct host_state *host_manager_expire(struct host_manager *hm, long long now_ms,
				       size_t *cursor);

/* What hs holds now (the formula above), each resource at least 0. */
struct sched_resources host_state_used(const struct host_state *hs);

/* Initialises an empty set. */
void sched_uuid_set_init(struct sched_uuid_set *set);
/*
 * Builds *set (initialised) from a report's "instances" array (duplicates count once).
 * Returns 0; -EINVAL with e when an element is not a UUID, or -ENOMEM;
 * *set is then empty.  Free with sched_uuid_set_release().
 */
int sched_uuid_set_from_json(json_t *instances, struct sched_uuid_set *set,
			     struct rpc_error *e);
/* Empties set; accepts an empty one. */
void sched_uuid_set_release(struct sched_uuid_set *set);
/* Whether set holds uuid (lower case). */
bool sched_uuid_set_has(const struct sched_uuid_set *set, const char *uuid);

#endif
