/*
 * host_state.h - the scheduler's view of the compute hosts.
 *
 * Compute hosts fanout-cast update_service_capabilities at start, every
 * report interval and with "up": false when they stop; the scheduler keeps
 * the last report of each host here, in memory only (a restarted scheduler
 * asks every host to report at once).  Between reports, each host chosen
 * for an instance carries a claim for that instance's flavor, so that
 * boots in quick succession see the room already promised away; the next
 * report, which counts the instance itself, replaces the claims.
 *
 * Pure code: no AMQP, no clock.  Callers pass the time (CLOCK_MONOTONIC
 * milliseconds), so that tests can construct any history.
 */
#ifndef NOVAFS_SCHED_HOST_STATE_H
#define NOVAFS_SCHED_HOST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct rpc_error;

#define HOST_NAME_MAX_LEN 256
/* A host whose report interval is unknown is assumed to report this often. */
#define HOST_DEFAULT_REPORT_INTERVAL 10
/* A host is live while its last report is younger than this many intervals. */
#define HOST_LIVENESS_INTERVALS 3

/* What a flavor asks of a host. */
struct sched_resources {
	long long vcpus;
	long long memory_mb;
	long long disk_gb;
};

struct host_state {
	char name[HOST_NAME_MAX_LEN];
	char hypervisor_type[32];
	bool up;                       /* the last report said "up": true */
	bool live;                     /* live as last announced (an event) */
	int report_interval;           /* seconds */
	long long last_report_ms;      /* when the last report arrived */
	struct sched_resources total;  /* as reported */
	struct sched_resources used;   /* as reported, plus claims */
	unsigned claims;               /* instances claimed since the report */
};

/* What an update changed, for the daemon to log. */
enum host_event {
	HOST_EVENT_NONE,    /* a routine report */
	HOST_EVENT_UP,      /* first heard from, or up again */
	HOST_EVENT_DOWN,    /* reported "up": false, or went stale */
};

struct host_manager {
	struct host_state *hosts;
	size_t n, alloc;
};

#define HOST_MANAGER_INIT { NULL, 0, 0 }

/* Frees every host state; hm is left empty and reusable. */
void host_manager_release(struct host_manager *hm);

/* The state of host name, or NULL. */
struct host_state *host_manager_find(struct host_manager *hm, const char *name);

/*
 * Applies an update_service_capabilities report received at now_ms,
 * adding the host when it is new and dropping its claims.  A report with
 * "up": false only marks the host down (its numbers may be absent).
 * Returns 0 and sets *event, or -EINVAL with e when args are malformed
 * (the state is then unchanged).
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

/* Free resources of hs (total times the allocation ratio, minus used). */
long long host_state_free_vcpus(const struct host_state *hs, double ratio);
long long host_state_free_memory_mb(const struct host_state *hs, double ratio);
long long host_state_free_disk_gb(const struct host_state *hs, double ratio);

/* Records a claim of r on hs until its next report. */
void host_state_claim(struct host_state *hs, const struct sched_resources *r);

#endif
