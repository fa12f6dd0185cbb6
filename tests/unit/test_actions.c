/*
 * test_actions.c - the action table: parsing a ctl line and Nova's rules
 * of which state allows what.
 */
#include <errno.h>
#include <string.h>

#include "testhelp.h"
#include "rpc/rpc.h"
#include "actions.h"

int main(void)
{
	struct rpc_error e = { 0 };
	const struct action *start = action_parse("start", 5);
	const struct action *stop = action_parse(" stop\n", 6);
	const struct action *del = action_parse("delete\r\n", 8);

	CHECK(start && strcmp(start->name, "start") == 0);
	CHECK(stop && strcmp(stop->name, "stop") == 0);
	CHECK(del && strcmp(del->name, "delete") == 0);
	CHECK(action_parse("starts", 6) == NULL);
	CHECK(action_parse("", 0) == NULL);
	CHECK(action_parse("st", 2) == NULL);
	CHECK(action_parse("start stop", 10) == NULL);

	CHECK_INT(action_check(start, "w", VM_STOPPED, TASK_NONE, &e), 0);
	CHECK_INT(action_check(start, "w", VM_ERROR, TASK_NONE, &e), 0);
	CHECK_INT(action_check(start, "w", VM_ACTIVE, TASK_NONE, &e), -EBUSY);
	CHECK_STR(e.cls, "InstanceInvalidState");
	CHECK_STR(e.message, "cannot start w: it is active (start needs stopped or error)");
	CHECK_INT(action_check(stop, "w", VM_ACTIVE, TASK_NONE, &e), 0);
	CHECK_INT(action_check(stop, "w", VM_STOPPED, TASK_NONE, &e), -EBUSY);
	CHECK_STR(e.message, "cannot stop w: it is stopped (stop needs active)");
	CHECK_INT(action_check(stop, "w", VM_ACTIVE, TASK_POWERING_ON, &e), -EBUSY);
	CHECK_STR(e.message, "cannot stop w: task powering-on is in progress");
	CHECK_INT(action_check(del, "w", VM_ERROR, TASK_NONE, &e), 0);
	CHECK_INT(action_check(del, "w", VM_ACTIVE, TASK_NONE, &e), 0);
	CHECK_INT(action_check(del, "w", VM_STOPPED, TASK_SPAWNING, &e), -EBUSY);
	return test_done();
}
