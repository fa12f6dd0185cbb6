/*
 * select.c - running the filters and weighers over the hosts, the claim
 * on the winner, and the NoValidHost message; see select.h.
 */
#include "select.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/strbuf.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "claims.h"

_Static_assert(SCHED_MAX_MESSAGE < RPC_MAX_FAULT,
	       "a NoValidHost message must fit in a fault");

/*
 * Runs the filters on hs in table order.  Returns true when it passes them
 * all; otherwise appends "FILTER rejected HOST (why)" for the first that
 * rejected it to why and returns false.
 */
static bool filter_host(const struct host_state *hs,
			const struct sched_context *ctx, struct strbuf *why)
{
	struct strbuf reason = STRBUF_INIT;
	const struct sched_filter *f;

	for (f = sched_filters; f->name; f++) {
		if (f->fn(hs, ctx, &reason))
			continue;
		strbuf_addf(why, "%s rejected %s (%s)", f->name, hs->name,
			    reason.buf);
		break;
	}
	strbuf_release(&reason);
	return !f->name;
}

/*
 * Ranks the candidates (indexes into hm->hosts) by the weighers, as Nova
 * does: each weigher's raw weights are normalised to 0..1 over the
 * candidates, scaled by its multiplier and summed.  Returns the index of
 * the best host; ties go to the first.  raw and total have n elements.
 */
static size_t best_host(const struct host_manager *hm, const size_t *cand,
			size_t n, const struct sched_context *ctx,
			double *raw, double *total)
{
	const struct sched_weigher *w;
	size_t i, best = 0;

	for (i = 0; i < n; i++)
		total[i] = 0.0;
	for (w = sched_weighers; w->name; w++) {
		double lo = DBL_MAX, hi = -DBL_MAX;
		double mult = w->multiplier(ctx->config);

		for (i = 0; i < n; i++) {
			raw[i] = w->fn(hm->hosts[cand[i]], ctx);
			if (raw[i] < lo)
				lo = raw[i];
			if (raw[i] > hi)
				hi = raw[i];
		}
		for (i = 0; i < n; i++)
			total[i] += mult * (hi > lo ? (raw[i] - lo) / (hi - lo) : 0.0);
	}
	for (i = 1; i < n; i++)
		if (total[i] > total[best])
			best = i;
	return cand[best];
}

/*
 * A NoValidHost message being built: hosts are added in name order while
 * they fit, keeping room for the summary of those that do not.
 */
struct rejections {
	struct strbuf msg;
	size_t room;       /* for the entries: SCHED_MAX_MESSAGE less the summary */
	size_t shown;      /* rejected hosts named */
	size_t more;       /* rejected hosts left out */
};

static void rejections_init(struct rejections *r, size_t nhosts)
{
	strbuf_init(&r->msg, SCHED_MAX_MESSAGE + 1);
	strbuf_addf(&r->msg, "No valid host: 0/%zu hosts passed; ", nhosts);
	/* The longest summary: every host left out, but the first. */
	r->room = SCHED_MAX_MESSAGE -
		  (size_t)snprintf(NULL, 0, ", ... and %zu more hosts rejected",
				   nhosts);
	r->shown = r->more = 0;
}

static void rejections_add(struct rejections *r, const struct strbuf *entry)
{
	size_t sep = r->shown ? 2 : 0;

	if (r->more || r->msg.len + sep + entry->len > r->room) {
		r->more++;
		return;
	}
	if (sep)
		strbuf_addstr(&r->msg, ", ");
	strbuf_add(&r->msg, entry->buf, entry->len);
	r->shown++;
}

static int rejections_fail(struct rejections *r, struct rpc_error *e)
{
	if (r->more)
		strbuf_addf(&r->msg, ", ... and %zu more host%s rejected", r->more,
			    r->more == 1 ? "" : "s");
	return rpc_error_set(e, -EHOSTUNREACH, "NoValidHost", "%s", r->msg.buf);
}

int sched_select_destination(struct host_manager *hm,
			     const struct sched_config *config,
			     const struct sched_request *req, long long now_ms,
			     struct sched_choice *choice, struct rpc_error *e)
{
	struct sched_context ctx;
	struct rejections rej;
	struct strbuf entry = STRBUF_INIT;
	size_t *cand = NULL;
	double *raw = NULL, *total = NULL;
	size_t i, n = 0;
	int r;

	choice->host = NULL;
	claims_drop(hm, req->instance_uuid);
	if (hm->n == 0)
		return rpc_error_set(e, -EHOSTUNREACH, "NoValidHost",
				     "No valid host: no compute hosts have reported");
	if (req->force_host && !host_manager_find(hm, req->force_host))
		return rpc_error_set(e, -EHOSTUNREACH, "NoValidHost",
				     "No valid host: the forced host %s has not reported",
				     req->force_host);
	rejections_init(&rej, hm->n);
	if (sched_context_init(&ctx, hm, config, req, now_ms) < 0 ||
	    !(cand = calloc(hm->n, sizeof(*cand))) ||
	    !(raw = calloc(hm->n, sizeof(*raw))) ||
	    !(total = calloc(hm->n, sizeof(*total)))) {
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < hm->n; i++) {
		strbuf_reset(&entry);
		if (filter_host(hm->hosts[i], &ctx, &entry))
			cand[n++] = i;
		else if (n == 0)
			rejections_add(&rej, &entry);
	}
	if (n == 0) {
		r = rejections_fail(&rej, e);
		goto out;
	}
	choice->host = hm->hosts[best_host(hm, cand, n, &ctx, raw, total)];
	choice->limits = sched_limits(choice->host, config);
	r = claims_add(hm, choice->host, req->instance_uuid, &req->flavor,
		       req->group);
	if (r < 0) {
		choice->host = NULL;
		rpc_error_set(e, r, NULL, "out of memory");
	}
out:
	sched_context_release(&ctx);
	free(cand);
	free(raw);
	free(total);
	strbuf_release(&entry);
	strbuf_release(&rej.msg);
	return r;
}
