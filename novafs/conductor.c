/*
 * conductor.c - novafs's bus thread (see conductor.h).
 */
#include "conductor.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/methods.h"
#include "instance.h"
#include "service.h"
#include "sync.h"

/* How often services whose heartbeats stopped are looked for. */
#define EXPIRE_INTERVAL_MS 1000

static struct {
	struct loop *loop;
	struct rpc_bus *bus;
	pthread_t thread;
	/* Taken around the check of running and the post that follows it,
	 * so that nothing is queued after conductor_stop's last drain. */
	pthread_mutex_t post_lock;
	atomic_bool running;
	atomic_bool bus_up;
} cd = { .post_lock = PTHREAD_MUTEX_INITIALIZER };

/* Queues fn on the bus thread; -ENETDOWN once novafs is stopping, and
 * then fn never runs: the caller still owns ctx. */
static int post_to_bus(loop_call_fn fn, void *ctx)
{
	int rc = -ENETDOWN;

	pthread_mutex_lock(&cd.post_lock);
	if (atomic_load(&cd.running))
		rc = loop_post(cd.loop, fn, ctx);
	pthread_mutex_unlock(&cd.post_lock);
	return rc;
}

/* --- requests from other threads --- */

struct request {
	const struct rpc_method_decl *m;
	char server[64];
	bool has_server;
	json_t *args;
	json_t *context;
	conductor_done_fn done;
	void *ctx;
};

static void request_sent(void *ctx, int err, json_t *result,
			 const struct rpc_error *e)
{
	struct request *rq = ctx;

	rq->done(rq->ctx, err, result, e);
	json_decref(rq->args);
	json_decref(rq->context);
	free(rq);
}

static void request_send(void *ctx)
{
	struct request *rq = ctx;
	struct rpc_send s = { rq->has_server ? rq->server : NULL, 0, 0,
			      rq->context };
	struct rpc_error e = { 0 };
	int rc;

	if (!atomic_load(&cd.running)) {
		/* Drained by conductor_stop. */
		rpc_error_set(&e, -ENETDOWN, NULL, "novafs is stopping");
		request_sent(rq, e.err, NULL, &e);
		return;
	}
	if (rq->m->kind == RPC_CALL)
		rc = rpc_call(cd.bus, rq->m, &s, rq->args, request_sent, rq, &e);
	else
		rc = rpc_cast(cd.bus, rq->m, &s, rq->args, request_sent, rq, &e);
	if (rc < 0)
		request_sent(rq, rc, NULL, &e);
}

static void request_post(const struct rpc_method_decl *m, const char *server,
			 const char *request_id, json_t *args,
			 conductor_done_fn done, void *ctx)
{
	struct request *rq = calloc(1, sizeof(*rq));
	struct rpc_error e = { 0 };
	int rc;

	if (!rq) {
		rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
		json_decref(args);
		done(ctx, e.err, NULL, &e);
		return;
	}
	rq->m = m;
	rq->has_server = server != NULL;
	if (server)
		snprintf(rq->server, sizeof(rq->server), "%s", server);
	rq->args = args;
	/* The request id travels as oslo's context, so that what the
	 * service reports back names it too. */
	if (request_id)
		rq->context = json_pack("{s:s}", "request_id", request_id);
	rq->done = done;
	rq->ctx = ctx;
	rc = post_to_bus(request_send, rq);
	if (rc < 0) {
		rpc_error_set(&e, rc, NULL, rc == -ENETDOWN ?
			      "the message bus is not running" : "out of memory");
		request_sent(rq, e.err, NULL, &e);
	}
}

void conductor_cast(const struct rpc_method_decl *m, const char *server,
		    const char *request_id, json_t *args,
		    conductor_done_fn done, void *ctx)
{
	request_post(m, server, request_id, args, done, ctx);
}

void conductor_call(const struct rpc_method_decl *m, const char *server,
		    const char *request_id, json_t *args,
		    conductor_done_fn done, void *ctx)
{
	request_post(m, server, request_id, args, done, ctx);
}

/* --- notifications --- */

struct notification {
	char event_type[64];
	json_t *payload;
};

static void notified(void *ctx, int err, json_t *result,
		     const struct rpc_error *e)
{
	if (err < 0)
		log_debug("notification %s dropped: %s", (const char *)ctx,
			  e->message);
	free(ctx);
}

static void notification_send(void *ctx)
{
	struct notification *n = ctx;
	struct rpc_error e = { 0 };
	char *type = strdup(n->event_type);

	if (type && rpc_notify(cd.bus, "novafs", n->event_type, "info",
			       n->payload, notified, type, &e) < 0)
		notified(type, e.err, NULL, &e);
	json_decref(n->payload);
	free(n);
}

void conductor_notify(const char *event_type, json_t *payload)
{
	struct notification *n;

	if (!payload || !(n = malloc(sizeof(*n)))) {
		json_decref(payload);
		return;
	}
	snprintf(n->event_type, sizeof(n->event_type), "%s", event_type);
	n->payload = payload;
	if (post_to_bus(notification_send, n) < 0) {
		json_decref(payload);
		free(n);
	}
}

/* --- services --- */

int conductor_check_service(const char *binary, const char *host,
			    struct rpc_error *why)
{
	if (!atomic_load(&cd.bus_up))
		return rpc_error_set(why, -ENETDOWN, "ConnectionError",
				     "the message bus is not reachable");
	return service_check(binary, host, why);
}

/* The bus has checked that the sender speaks for binary on host
 * (scheduler_update_service_capabilities' sender rule). */
static void heard_heartbeat(void *ctx, struct rpc_request *req)
{
	service_heartbeat(rpc_request_args(req));
	rpc_request_done(req, NULL, NULL);
}

static long long expire_services(struct loop *l, void *ctx)
{
	service_expire();
	return EXPIRE_INTERVAL_MS;
}

/* --- reports --- */

static void finish_request(void *ctx)
{
	rpc_request_done(ctx, NULL, NULL);
}

/* On the committer: the report is durable (or dropped); acknowledge it
 * on the bus thread. */
static void report_recorded(void *ctx)
{
	int rc = post_to_bus(finish_request, ctx);

	/* Once stopping, rpc_bus_free frees the request unacknowledged and
	 * the broker delivers it again. */
	if (rc < 0 && rc != -ENETDOWN)
		log_error("conductor: cannot acknowledge a report: out of memory");
}

static void heard_instance_update(void *ctx, struct rpc_request *req)
{
	json_t *context = rpc_request_context(req);

	instance_report(rpc_request_args(req),
			json_string_value(json_object_get(context, "request_id")),
			report_recorded, req);
}

static void heard_sync(void *ctx, struct rpc_request *req)
{
	sync_power_states(rpc_request_args(req), report_recorded, req);
}

static void heard_console(void *ctx, struct rpc_request *req)
{
	instance_console(rpc_request_args(req));
	rpc_request_done(req, NULL, NULL);
}

static const struct rpc_handler conductor_handlers[] = {
	{ &conductor_instance_update, heard_instance_update },
	{ &conductor_sync_power_states, heard_sync },
	{ &conductor_console_output, heard_console },
	{ NULL, NULL },
};

static const struct rpc_handler heartbeat_handlers[] = {
	{ &scheduler_update_service_capabilities, heard_heartbeat },
	{ NULL, NULL },
};

static void bus_state(void *ctx, bool up, const struct rpc_error *why)
{
	atomic_store(&cd.bus_up, up);
}

static void *conductor_main(void *arg)
{
	loop_run(cd.loop);
	return NULL;
}

int conductor_start(struct loop *loop, const struct conductor_config *cfg,
		    struct rpc_error *e)
{
	json_t *none = NULL;
	int rc;

	service_set_down_time(cfg->service_down_time_s);
	cd.loop = loop;
	rc = rpc_bus_new(cd.loop, &cfg->bus, "novafs", &cd.bus, e);
	if (rc < 0)
		goto fail;
	atomic_store(&cd.bus_up, true);
	rpc_bus_on_state(cd.bus, bus_state, NULL);
	rc = rpc_subscribe(cd.bus, &conductor_service, RPC_SUB_TOPIC, NULL,
			   conductor_handlers, NULL, e);
	if (rc == 0)
		rc = rpc_subscribe(cd.bus, &scheduler_service, RPC_SUB_FANOUT, NULL,
				   heartbeat_handlers, NULL, e);
	if (rc == 0)
		rc = sync_sweep_start(cd.loop, cfg->task_timeout_s);
	if (rc == 0 && loop_timer(cd.loop, EXPIRE_INTERVAL_MS, expire_services,
				  NULL) < 0)
		rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	if (rc < 0)
		goto fail;
	/* Hear from every compute host now, not a report interval later. */
	none = json_object();
	if (none && rpc_fanout(cd.bus, &compute_publish_service_capabilities,
			       none, NULL, NULL, e) < 0)
		log_warn("cannot ask compute hosts to report: %s", e->message);
	json_decref(none);
	return 0;
fail:
	sync_sweep_stop();
	rpc_bus_free(cd.bus);
	cd.bus = NULL;
	cd.loop = NULL;
	return rc;
}

int conductor_run(void)
{
	int rc = -pthread_create(&cd.thread, NULL, conductor_main, NULL);

	cd.running = rc == 0;
	return rc;
}

void conductor_stop(void)
{
	if (atomic_load(&cd.running)) {
		loop_stop(cd.loop);
		pthread_join(cd.thread, NULL);
		pthread_mutex_lock(&cd.post_lock);
		atomic_store(&cd.running, false);
		pthread_mutex_unlock(&cd.post_lock);
		/* Requests posted while it stopped fail now, and so do those
		 * the bus still had in flight, so that their owners hear of
		 * them and free what they hold. */
		while (loop_run_once(cd.loop, 0) > 0)
			;
		rpc_bus_cancel(cd.bus);
	}
	sync_sweep_stop();
	rpc_bus_free(cd.bus);
	cd.bus = NULL;
	cd.loop = NULL;
}
