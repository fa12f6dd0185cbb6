/*
 * bus.c - per-thread rpc connections and the conductor thread (see bus.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "rpc.h"
#include "service.h"
#include "store.h"

static char *bus_url;
static char *bus_exchange;
static int bus_timeout_ms;
static pthread_key_t conn_key;

static void close_conn(void *conn)
{
	rpc_close(conn);
}

int bus_init(const char *url, const char *exchange, int call_timeout_ms,
	     struct rpc_error *e)
{
	struct rpc_conn *conn = NULL;
	int ret;

	ret = rpc_connect(url, exchange, &conn, e);
	if (ret < 0)
		return ret;
	rpc_close(conn);
	ret = -pthread_key_create(&conn_key, close_conn);
	if (ret < 0)
		return rpc_error_set(e, ret, NULL, "pthread_key_create failed");
	bus_url = strdup(url);
	bus_exchange = strdup(exchange);
	if (!bus_url || !bus_exchange)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	bus_timeout_ms = call_timeout_ms;
	return 0;
}

void bus_shutdown(void)
{
	close_conn(pthread_getspecific(conn_key));
	pthread_setspecific(conn_key, NULL);
	free(bus_url);
	free(bus_exchange);
	bus_url = bus_exchange = NULL;
}

/* The calling thread's connection, opened on first use. */
static int thread_conn(struct rpc_conn **out, struct rpc_error *e)
{
	struct rpc_conn *conn = pthread_getspecific(conn_key);
	int ret;

	if (!conn) {
		ret = rpc_connect(bus_url, bus_exchange, &conn, e);
		if (ret < 0) {
			/* However the connection failed, for the request it
			 * means one thing: the bus is not there. */
			char why[sizeof(e->message)];

			snprintf(why, sizeof(why), "%s", e->message);
			return rpc_error_set(e, -ENOTCONN, "ConnectionError",
					     "message bus unreachable: %s", why);
		}
		pthread_setspecific(conn_key, conn);
	}
	*out = conn;
	return 0;
}

int bus_cast(const char *topic, const char *server, const char *method,
	     json_t *args, struct rpc_error *e)
{
	struct rpc_conn *conn;
	int ret = thread_conn(&conn, e);

	return ret < 0 ? ret : rpc_cast(conn, topic, server, method, args, e);
}

int bus_call(const char *topic, const char *server, const char *method,
	     json_t *args, json_t **result, struct rpc_error *e)
{
	struct rpc_conn *conn;
	int ret = thread_conn(&conn, e);

	return ret < 0 ? ret : rpc_call(conn, topic, server, method, args,
					bus_timeout_ms, result, e);
}

/*
 * The conductor.  Compute hosts cast instance_update here; the update is
 * applied only while the instance's task is still the one the report is
 * about (expected_task_state), so redelivered, late or duplicate reports
 * change nothing.
 */
static pthread_t conductor_thread;
static bool conductor_running;

static const char *json_text(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_null(v))
		return "";
	return json_string_value(v);
}

static int handle_instance_update(void *ctx, json_t *args, json_t **result,
				  struct rpc_error *e)
{
	struct store *st = ctx;
	struct instance_patch patch = { 0 };
	const char *uuid = json_string_value(json_object_get(args, "uuid"));
	json_t *fault = json_object_get(args, "fault");
	char fault_text[1024] = "";
	int ret;

	if (!uuid)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "instance_update needs a uuid");
	patch.expected_task_state = json_text(args, "expected_task_state");
	patch.vm_state = json_text(args, "vm_state");
	patch.power_state = json_text(args, "power_state");
	patch.task_state = json_text(args, "task_state");
	patch.host = json_text(args, "host");
	if (patch.host && !patch.host[0])
		patch.host = NULL; /* a report never unsets the host */
	if (json_is_object(fault)) {
		snprintf(fault_text, sizeof(fault_text), "%s: %s",
			 json_text(fault, "class") ? json_text(fault, "class") : "Error",
			 json_text(fault, "message") ? json_text(fault, "message") : "");
		patch.fault = fault_text;
	} else {
		patch.fault = "";
	}
	ret = store_instance_update(st, uuid, &patch);
	if (ret < 0)
		return rpc_error_set(e, ret, NULL, "cannot record the update of %s",
				     uuid);
	if (ret == 0)
		log_info("conductor: dropped a stale update of %s (expected task %s)",
			 uuid, patch.expected_task_state ? patch.expected_task_state : "?");
	else
		log_info("conductor: %s is %s%s%s", uuid,
			 patch.vm_state ? patch.vm_state : "unchanged",
			 fault_text[0] ? ", fault: " : "", fault_text);
	*result = NULL;
	return 0;
}

static const struct rpc_method conductor_methods[] = {
	{ "instance_update", handle_instance_update },
	{ NULL, NULL },
};

/* The conductor's connection and server are made in conductor_start(), on
 * the caller's thread, so that a failure there stops novafs at startup;
 * after that the thread owns both. */
static struct rpc_conn *conductor_conn;
static struct rpc_server *conductor_srv;

static void *conductor_main(void *arg)
{
	service_run(conductor_srv, NULL, NULL, 0);
	return NULL;
}

int conductor_start(struct store *st, struct rpc_error *e)
{
	int ret;

	ret = rpc_connect(bus_url, bus_exchange, &conductor_conn, e);
	if (ret < 0)
		return ret;
	ret = rpc_server_new(conductor_conn, "conductor", NULL,
			     conductor_methods, st, &conductor_srv, e);
	if (ret < 0)
		goto fail;
	ret = -pthread_create(&conductor_thread, NULL, conductor_main, NULL);
	if (ret < 0) {
		rpc_error_set(e, ret, NULL, "cannot start the conductor thread");
		goto fail;
	}
	conductor_running = true;
	return 0;
fail:
	rpc_server_free(conductor_srv);
	rpc_close(conductor_conn);
	conductor_srv = NULL;
	conductor_conn = NULL;
	return ret;
}

void conductor_stop(void)
{
	if (!conductor_running)
		return;
	/* novafs runs no other service loop, so the process-wide stop
	 * request is the conductor's alone. */
	service_request_stop();
	pthread_join(conductor_thread, NULL);
	conductor_running = false;
	rpc_server_free(conductor_srv);
	rpc_close(conductor_conn);
	conductor_srv = NULL;
	conductor_conn = NULL;
}
