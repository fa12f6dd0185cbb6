/*
 * test_reconcile.c - the reconciler's pure parts: which command brings a
 * state toward a target (every pair), its back-off, and what
 * target_state accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testhelp.h"
#include "rpc/rpc.h"
#include "actions.h"
#include "reconcile.h"

#define NONE NULL

/* state x target -> command, for an instance that was started once. */
static const struct {
	enum vm_state state, target;
	const char *step;
} steps[] = {
	{ VM_STOPPED, VM_ACTIVE, "start" },
	{ VM_ERROR, VM_ACTIVE, "start" },
	{ VM_PAUSED, VM_ACTIVE, "unpause" },
	{ VM_SUSPENDED, VM_ACTIVE, "resume" },
	{ VM_ACTIVE, VM_ACTIVE, NONE },
	{ VM_ACTIVE, VM_STOPPED, "stop" },
	{ VM_PAUSED, VM_STOPPED, "stop" },
	{ VM_ERROR, VM_STOPPED, "stop" },
	{ VM_SUSPENDED, VM_STOPPED, "resume" },
	{ VM_STOPPED, VM_STOPPED, NONE },
	{ VM_ACTIVE, VM_PAUSED, "pause" },
	{ VM_STOPPED, VM_PAUSED, "start" },
	{ VM_ERROR, VM_PAUSED, "start" },
	{ VM_SUSPENDED, VM_PAUSED, "resume" },
	{ VM_PAUSED, VM_PAUSED, NONE },
	{ VM_ACTIVE, VM_SUSPENDED, "suspend" },
	{ VM_STOPPED, VM_SUSPENDED, "start" },
	{ VM_ERROR, VM_SUSPENDED, "start" },
	{ VM_PAUSED, VM_SUSPENDED, "unpause" },
	{ VM_SUSPENDED, VM_SUSPENDED, NONE },
	{ VM_BUILDING, VM_ACTIVE, NONE },
};

static void test_steps(void)
{
	struct rpc_error e = { 0 };
	const struct action *a;
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		got = reconcile_step(steps[i].state, steps[i].target, true);
		CHECK_MSG(got == steps[i].step ||
			  (got && steps[i].step && strcmp(got, steps[i].step) == 0),
			  "%s toward %s: %s", vm_state_name(steps[i].state),
			  vm_state_name(steps[i].target), got ? got : "nothing");
		/* Each step is a ctl command the state allows. */
		if (!got)
			continue;
		a = action_parse(got, strlen(got), NULL, NULL);
		CHECK_MSG(a && action_check(a, "w", steps[i].state, TASK_NONE, &e) == 0,
			  "%s is allowed when %s", got, vm_state_name(steps[i].state));
		CHECK_MSG(a && (a->flags & ACTION_STEADY), "%s is a steady-state action", got);
	}
	/* Never started: nothing to stop; a start still starts. */
	CHECK(reconcile_step(VM_ERROR, VM_STOPPED, false) == NULL);
	CHECK_STR(reconcile_step(VM_ERROR, VM_ACTIVE, false), "start");
	CHECK_STR(reconcile_step(VM_STOPPED, VM_PAUSED, false), "start");
}

/* Following the steps from any state reaches the target, in at most two. */
static void test_converges(void)
{
	static const enum vm_state targets[] = { VM_ACTIVE, VM_STOPPED, VM_PAUSED,
						  VM_SUSPENDED };
	enum vm_state s, from;
	const struct action *a;
	const char *step;
	size_t t;
	int n;

	for (t = 0; t < 4; t++)
		for (from = VM_ACTIVE; from < VM_STATE_COUNT; from++) {
			s = from;
			for (n = 0; n < 4 && (step = reconcile_step(s, targets[t], true)); n++) {
				a = action_parse(step, strlen(step), NULL, NULL);
				s = a->success;
			}
			CHECK_MSG(s == targets[t] && n <= 2, "%s reaches %s in %d",
				  vm_state_name(from), vm_state_name(targets[t]), n);
		}
}

static void test_backoff(void)
{
	CHECK_INT(reconcile_backoff_s(1), 1);
	CHECK_INT(reconcile_backoff_s(2), 2);
	CHECK_INT(reconcile_backoff_s(3), 4);
	CHECK_INT(reconcile_backoff_s(6), 32);
	CHECK_INT(reconcile_backoff_s(7), RECONCILE_BACKOFF_MAX_S);
	CHECK_INT(reconcile_backoff_s(1000), RECONCILE_BACKOFF_MAX_S);
}

static int parse(const char *value, const char **name, struct rpc_error *e)
{
	return reconcile_target_parse(value, strlen(value), name, e);
}

static void test_parse(void)
{
	struct rpc_error e = { 0 };
	const char *name = NULL;

	CHECK_INT(parse("active", &name, &e), 0);
	CHECK_STR(name, "active");
	CHECK_INT(parse(" suspended\r\n", &name, &e), 0);
	CHECK_STR(name, "suspended");
	CHECK_INT(parse("stopped\n", &name, &e), 0);
	CHECK_INT(parse("paused", &name, &e), 0);
	CHECK_INT(parse("\n", &name, &e), 0);
	CHECK_STR(name, "");
	CHECK_INT(parse("", &name, &e), 0);
	CHECK_INT(parse("error", &name, &e), -EINVAL);
	CHECK_STR(e.cls, "InvalidInput");
	CHECK_STR(e.message, "unknown target_state \"error\" (target states: "
		  "active, stopped, paused, suspended)");
	CHECK_INT(parse("active stopped", &name, &e), -EINVAL);
	CHECK_INT(parse("Active", &name, &e), -EINVAL);
	CHECK_INT(parse("activ", &name, &e), -EINVAL);
	CHECK_INT(parse("active\nactive\n", &name, &e), -EINVAL);
}

int main(void)
{
	test_steps();
	test_converges();
	test_backoff();
	test_parse();
	return test_done();
}
