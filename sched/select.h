/*
 * select.h - choosing a host for an instance (select_destinations).
 *
 * Every host runs through the filters of filters.h, in name order; the
 * hosts that pass them all are ranked by the weighers, and the best one
 * (the first in name order among equals) gets a claim of the flavor
 * (claims.h).  When no host passes, the NoValidHost failure names every
 * host with the first filter that rejected it, as far as a fault message
 * holds:
 *
 *   No valid host: 0/4 hosts passed; RamFilter rejected node1 (1024 MB
 *   free, 8192 MB needed), CoreFilter rejected node2 (...), ComputeFilter
 *   rejected node3 (down), RetryFilter rejected node4 (tried already)
 *
 * (one line), ending "..., ... and 96 more hosts rejected" when the rest
 * does not fit; with no host at all, "No valid host: no compute hosts
 * have reported", and with a forced host the scheduler never heard of,
 * "No valid host: the forced host NAME has not reported".
 */
#ifndef NOVAFS_SCHED_SELECT_H
#define NOVAFS_SCHED_SELECT_H

#include "filters.h"
#include "host_state.h"
#include "request.h"

struct rpc_error;

/* The longest NoValidHost message: what struct rpc_error carries, which
 * is below the bus's fault limit (RPC_MAX_FAULT). */
#define SCHED_MAX_MESSAGE (sizeof(((struct rpc_error *)0)->message) - 1)

struct sched_choice {
	struct host_state *host;
	struct sched_resources limits;  /* sched_limits() of host */
};

/*
 * Chooses a host for req among hm's hosts at now_ms, and claims req's
 * flavor there for the instance.  Any claim the instance had is dropped
 * first, whatever the outcome: a new request for an instance replaces the
 * old one.  Returns 0 and fills *choice; -EHOSTUNREACH with e
 * ("NoValidHost", the message above); or -ENOMEM with e.
 */
int sched_select_destination(struct host_manager *hm,
			     const struct sched_config *config,
			     const struct sched_request *req, long long now_ms,
			     struct sched_choice *choice, struct rpc_error *e);

#endif
