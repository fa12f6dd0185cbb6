/*
 * lifecycle.c - the instance state table (see lifecycle.h).
 */
#include <errno.h>
#include <string.h>

#include "lifecycle.h"
#include "rpc.h"
#include "store.h"
#include "strbuf.h"

static const char *const from_startable[] = { "stopped", "error", NULL };
static const char *const from_active[] = { "active", NULL };
static const char *const from_any[] = { "stopped", "active", "error", NULL };

/* "start" from stopped schedules on first launch ("scheduling", then
 * "spawning") and powers on afterwards ("powering-on"); api.c picks which. */
static const struct action_rule rules[] = {
	{ ACTION_START, "start", from_startable, "powering-on" },
	{ ACTION_STOP, "stop", from_active, "powering-off" },
	{ ACTION_DELETE, "delete", from_any, "deleting" },
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const struct action_rule *lifecycle_parse(const char *text, size_t len)
{
	size_t i;

	while (len && is_space(*text)) {
		text++;
		len--;
	}
	while (len && is_space(text[len - 1]))
		len--;
	for (i = 0; i < N_RULES; i++)
		if (strlen(rules[i].name) == len &&
		    memcmp(rules[i].name, text, len) == 0)
			return &rules[i];
	return NULL;
}

const struct action_rule *lifecycle_rule(enum instance_action action)
{
	size_t i;

	for (i = 0; i < N_RULES; i++)
		if (rules[i].action == action)
			return &rules[i];
	return NULL;
}

int lifecycle_check(const struct action_rule *rule, const struct instance *inst,
		    struct rpc_error *e)
{
	struct strbuf allowed = STRBUF_INIT;
	const char *const *s;
	int ret;

	if (inst->task_state[0])
		return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				     "cannot %s %s: task %s is in progress",
				     rule->name, inst->name, inst->task_state);
	for (s = rule->allowed; *s; s++)
		if (strcmp(*s, inst->vm_state) == 0)
			return 0;
	for (s = rule->allowed; *s; s++)
		strbuf_addf(&allowed, "%s%s", s == rule->allowed ? "" : " or ", *s);
	ret = rpc_error_set(e, -EBUSY, "InstanceInvalidState",
			    "cannot %s %s: it is %s (%s needs %s)", rule->name,
			    inst->name, inst->vm_state, rule->name, allowed.buf);
	strbuf_release(&allowed);
	return ret;
}
