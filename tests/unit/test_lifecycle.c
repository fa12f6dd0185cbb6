/* Unit tests: the instance state table and object-name validation. */
#include <errno.h>
#include <string.h>

#include "testhelp.h"
#include "../../novafs/api.h"
#include "../../novafs/lifecycle.h"
#include "../../novafs/store.h"
#include "rpc.h"

static struct instance make(const char *vm_state, const char *task)
{
	struct instance inst;

	memset(&inst, 0, sizeof(inst));
	strcpy(inst.name, "web1");
	strcpy(inst.vm_state, vm_state);
	strcpy(inst.task_state, task);
	return inst;
}

static void test_parse(void)
{
	const struct action_rule *r;

	r = lifecycle_parse("start\n", 6);
	CHECK(r && r->action == ACTION_START);
	r = lifecycle_parse("  stop \t\n", 9);
	CHECK(r && r->action == ACTION_STOP);
	CHECK(lifecycle_parse("star", 4) == NULL);
	CHECK(lifecycle_parse("startx", 6) == NULL);
	CHECK(lifecycle_parse("", 0) == NULL);
	CHECK(lifecycle_parse("\n", 1) == NULL);
	CHECK(lifecycle_parse("START", 5) == NULL);
	CHECK(lifecycle_parse("start stop", 10) == NULL);
}

/* Every (action, state) pair of the table, as a table. */
static void test_transitions(void)
{
	static const struct {
		enum instance_action action;
		const char *vm_state, *task;
		int want;
	} cases[] = {
		{ ACTION_START, "stopped", "", 0 },
		{ ACTION_START, "error", "", 0 },
		{ ACTION_START, "active", "", -EBUSY },
		{ ACTION_START, "stopped", "spawning", -EBUSY },
		{ ACTION_STOP, "active", "", 0 },
		{ ACTION_STOP, "stopped", "", -EBUSY },
		{ ACTION_STOP, "error", "", -EBUSY },
		{ ACTION_STOP, "active", "powering-on", -EBUSY },
		{ ACTION_DELETE, "active", "", 0 },
		{ ACTION_DELETE, "stopped", "", 0 },
		{ ACTION_DELETE, "error", "", 0 },
		{ ACTION_DELETE, "stopped", "scheduling", -EBUSY },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct instance inst = make(cases[i].vm_state, cases[i].task);
		struct rpc_error e = { 0 };
		const struct action_rule *r = lifecycle_rule(cases[i].action);
		int got = lifecycle_check(r, &inst, &e);

		CHECK_MSG(got == cases[i].want, "%s from %s/%s -> %d (got %d: %s)",
			  r->name, cases[i].vm_state,
			  cases[i].task[0] ? cases[i].task : "none",
			  cases[i].want, got, e.message);
		if (got)
			CHECK_STR(e.cls, "InstanceInvalidState");
	}
}

static void test_reason(void)
{
	struct instance inst = make("active", "");
	struct rpc_error e = { 0 };

	lifecycle_check(lifecycle_rule(ACTION_START), &inst, &e);
	CHECK_STR(e.message, "cannot start web1: it is active (start needs stopped or error)");
}

static void test_names(void)
{
	static const struct {
		const char *name;
		int want;
	} cases[] = {
		{ "web1", 0 }, { "a", 0 }, { "A.b_c-9", 0 }, { "...", 0 },
		{ "", -EINVAL }, { ".", -EINVAL }, { "..", -EINVAL },
		{ "web 1", -EINVAL }, { "web/1", -EINVAL }, { "wéb", -EINVAL },
		{ "web*", -EINVAL }, { "a\n", -EINVAL },
		{ "123456789012345678901234567890123456789012345678901234567890123", 0 },
		{ "1234567890123456789012345678901234567890123456789012345678901234", -EINVAL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rpc_error e = { 0 };
		int got = api_check_name(cases[i].name, &e);

		CHECK_MSG(got == cases[i].want, "name \"%s\" -> %d (got %d)",
			  cases[i].name, cases[i].want, got);
		if (got)
			CHECK_MSG(e.message[0] != '\0', "  with a reason: %s", e.message);
	}
}

int main(void)
{
	test_parse();
	test_transitions();
	test_reason();
	test_names();
	return test_done();
}
