/*
 * service.c - option parsing, clean stop and the poll loop every novafs
 * daemon shares; see service.h.
 *
 * librabbitmq restarts poll() after EINTR, so a signal cannot cut a poll
 * short: the loop instead polls in slices of at most SLICE_MS and checks
 * the stop flag between them.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rpc.h"
#include "service.h"

#define SLICE_MS 200
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static atomic_int stop_requested;

void service_opts_init(struct service_opts *o)
{
	const char *env = getenv("AMQP_URL");

	memset(o, 0, sizeof(*o));
	o->amqp_url = env && *env ? env : RPC_DEFAULT_URL;
	o->exchange = RPC_DEFAULT_EXCHANGE;
}

int service_option_value(int argc, char **argv, int *i, const char *name,
			 const char **value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -EINVAL;
	*i += 1;
	*value = argv[*i];
	return 1;
}

int service_parse_common_option(struct service_opts *o, int argc, char **argv,
				int *i)
{
	int r;

	if (strcmp(argv[*i], "--verbose") == 0 || strcmp(argv[*i], "-v") == 0) {
		o->verbose = true;
		return 1;
	}
	if (strcmp(argv[*i], "--help") == 0 || strcmp(argv[*i], "-h") == 0) {
		o->help = true;
		return 1;
	}
	r = service_option_value(argc, argv, i, "--amqp", &o->amqp_url);
	if (r != 0)
		return r;
	return service_option_value(argc, argv, i, "--exchange", &o->exchange);
}

static void on_stop_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, 1);
}

int service_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

bool service_stopping(void)
{
	return atomic_load(&stop_requested) != 0;
}

void service_request_stop(void)
{
	atomic_store(&stop_requested, 1);
}

long long service_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds, or less when a stop is requested. */
static void sleep_unless_stopping(int ms)
{
	while (ms > 0 && !service_stopping()) {
		int step = ms < SLICE_MS ? ms : SLICE_MS;
		struct timespec ts = { step / 1000, (long)(step % 1000) * 1000000 };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

int service_run(struct rpc_server *srv, service_periodic_fn periodic,
		void *ctx, int interval_ms)
{
	bool periodic_on = periodic && interval_ms > 0;
	long long next = service_now_ms() + (periodic_on ? interval_ms : 0);
	int backoff = BACKOFF_MIN_MS;
	bool outage = false;

	while (!service_stopping()) {
		struct rpc_error e = { 0 };
		long long now = service_now_ms();
		int timeout = SLICE_MS;
		int r;

		if (periodic_on && now >= next) {
			periodic(ctx);
			/* Skip missed beats rather than firing them in a burst. */
			next += interval_ms;
			if (next <= now)
				next = now + interval_ms;
		}
		if (periodic_on && next - now < timeout)
			timeout = next - now > 0 ? (int)(next - now) : 0;

		r = rpc_server_poll(srv, timeout, &e);
		if (r >= 0) {
			if (outage)
				log_info("connected to the broker again");
			outage = false;
			backoff = BACKOFF_MIN_MS;
			continue;
		}
		if (!outage)
			log_warn("lost the message bus: %s; retrying",
				 e.message[0] ? e.message : strerror(-r));
		outage = true;
		/* Do not sleep past the next periodic run. */
		timeout = backoff;
		if (periodic_on && next - service_now_ms() < timeout)
			timeout = (int)(next - service_now_ms());
		sleep_unless_stopping(timeout);
		if (backoff < BACKOFF_MAX_MS)
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
				  backoff * 2;
	}
	return 0;
}
