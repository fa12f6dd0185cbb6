/*
 * test_actions.c - the action table: parsing a ctl line and Nova's rules
 * of which state allows what.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "actions.h"

static const struct action *parse(const char *line)
{
	return action_parse(line, strlen(line), NULL, NULL);
}

static void test_parse(void)
{
	const char *arg = NULL;
	size_t len = 0;
	const struct action *a;

	CHECK((a = parse("start")) && strcmp(a->name, "start") == 0 && !a->arg);
	CHECK((a = parse(" stop\n")) && strcmp(a->name, "stop") == 0 && !a->arg);
	CHECK((a = parse("stop  hard\r\n")) && a->arg && strcmp(a->arg, "hard") == 0);
	CHECK((a = parse("reboot\thard")) && a->task == TASK_REBOOTING_HARD);
	CHECK((a = parse("reboot")) && a->task == TASK_REBOOTING);
	CHECK((a = parse("delete\r\n")) && a->method == &compute_terminate_instance);
	CHECK((a = parse("reset-state active")) && a->success == VM_ACTIVE && !a->method);
	CHECK((a = parse("reset-state")) && a->success == VM_ERROR);
	a = action_parse(" resize  m1.small \n", 19, &arg, &len);
	CHECK(a && a->method == &compute_resize_instance);
	CHECK(a && len == 8 && memcmp(arg, "m1.small", 8) == 0);
	CHECK(parse("resize") == NULL);
	CHECK(parse("starts") == NULL);
	CHECK(parse("") == NULL);
	CHECK(parse("st") == NULL);
	CHECK(parse("start stop") == NULL);
	CHECK(parse("stop soft") == NULL);
	CHECK(parse("pause now") == NULL);
	CHECK(parse("reset-state stopped") == NULL);
}

static void test_rules(void)
{
	struct rpc_error e = { 0 };
	const struct action *start = parse("start"), *stop = parse("stop"),
			    *del = parse("delete"), *reboot = parse("reboot"),
			    *hard = parse("reboot hard"), *pause = parse("pause"),
			    *resume = parse("resume"), *reset = parse("reset-state");

	CHECK_INT(action_check(start, "w", VM_STOPPED, TASK_NONE, &e), 0);
	CHECK_INT(action_check(start, "w", VM_ERROR, TASK_NONE, &e), 0);
	CHECK_INT(action_check(start, "w", VM_ACTIVE, TASK_NONE, &e), -EBUSY);
	CHECK_STR(e.cls, "InstanceInvalidState");
	CHECK_STR(e.message, "cannot start w: it is active (start needs stopped or error)");
	CHECK_INT(action_check(stop, "w", VM_ACTIVE, TASK_NONE, &e), 0);
	CHECK_INT(action_check(stop, "w", VM_PAUSED, TASK_NONE, &e), 0);
	CHECK_INT(action_check(stop, "w", VM_STOPPED, TASK_NONE, &e), -EBUSY);
	CHECK_STR(e.message, "cannot stop w: it is stopped (stop needs active or paused or error)");
	CHECK_INT(action_check(stop, "w", VM_ACTIVE, TASK_POWERING_ON, &e), -EBUSY);
	CHECK_STR(e.message, "cannot stop w: task powering-on is in progress");
	/* Nova: a soft reboot only from active, a hard one from anything
	 * but building. */
	CHECK_INT(action_check(reboot, "w", VM_PAUSED, TASK_NONE, &e), -EBUSY);
	CHECK_STR(e.message, "cannot reboot w: it is paused (reboot needs active)");
	CHECK_INT(action_check(hard, "w", VM_PAUSED, TASK_NONE, &e), 0);
	CHECK_INT(action_check(hard, "w", VM_ERROR, TASK_NONE, &e), 0);
	CHECK_INT(action_check(hard, "w", VM_BUILDING, TASK_NONE, &e), -EBUSY);
	CHECK_STR(e.message, "cannot reboot hard w: it is building (reboot needs active or paused or suspended or stopped or error)");
	CHECK_INT(action_check(pause, "w", VM_SUSPENDED, TASK_NONE, &e), -EBUSY);
	CHECK_INT(action_check(resume, "w", VM_SUSPENDED, TASK_NONE, &e), 0);
	/* Delete and reset-state end whatever runs. */
	CHECK_INT(action_check(del, "w", VM_ERROR, TASK_NONE, &e), 0);
	CHECK_INT(action_check(del, "w", VM_STOPPED, TASK_SPAWNING, &e), 0);
	CHECK_INT(action_check(reset, "w", VM_ACTIVE, TASK_POWERING_OFF, &e), 0);
}

/* One row per word and argument, and every compute method a row names is
 * a cast but resize. */
static void test_table(void)
{
	const struct action *a, *b;

	for (a = actions; a->name; a++) {
		for (b = actions; b < a; b++)
			CHECK_MSG(strcmp(a->name, b->name) != 0 ||
				  !a->arg != !b->arg ||
				  (a->arg && strcmp(a->arg, b->arg) != 0),
				  "%s %s is one row", a->name, a->arg ? a->arg : "");
		if (a->method)
			CHECK_MSG((a->method->kind == RPC_CALL) ==
				  (a->method == &compute_resize_instance),
				  "%s: cast or call", a->name);
	}
}

/* The README's copy of the table is the table. */
static void test_readme(void)
{
	char *gen = NULL, *file = NULL, *begin, *end;
	size_t glen = 0, flen = 0;
	FILE *f = open_memstream(&gen, &glen);

	action_table_markdown(f);
	fclose(f);
	f = fopen("README.md", "r");
	CHECK_MSG(f != NULL, "open README.md (cwd must be the repo root)");
	if (f) {
		CHECK(getdelim(&file, &flen, '\0', f) > 0);
		fclose(f);
	}
	begin = file ? strstr(file, "<!-- BEGIN actions -->\n") : NULL;
	end = begin ? strstr(begin, "<!-- END actions -->") : NULL;
	CHECK_MSG(begin && end, "README.md has the actions markers");
	if (begin && end) {
		begin += strlen("<!-- BEGIN actions -->\n");
		CHECK_MSG((size_t)(end - begin) == glen && memcmp(begin, gen, glen) == 0,
			  "README.md's action table is up to date:\n%s", gen);
	}
	free(gen);
	free(file);
}

int main(void)
{
	test_readme();
	test_parse();
	test_rules();
	test_table();
	return test_done();
}
