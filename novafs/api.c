/*
 * api.c - the instance operations behind mkdir, rmdir and writes (see
 * api.h).  This is where Nova's compute API and conductor meet: validate,
 * claim a task in the store, then ask the scheduler (a call, since its
 * answer is needed) and the compute host (a cast, whose outcome comes back
 * on topic "conductor").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "bus.h"
#include "lifecycle.h"
#include "log.h"
#include "rpc.h"
#include "store.h"
#include "strbuf.h"

static struct store *store;

void api_init(struct store *st)
{
	store = st;
}

int api_check_name(const char *name, struct rpc_error *e)
{
	size_t len = strlen(name), i;

	if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "invalid name \"%s\"", name);
	if (len > NAME_MAX_LEN)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "name is %zu bytes long, the limit is %d",
				     len, NAME_MAX_LEN);
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "invalid character 0x%02x in \"%.63s\": names use A-Z a-z 0-9 . _ -",
					     (unsigned char)c, name);
	}
	return 0;
}

/* Records why a request on an existing instance failed, where its user will
 * look (the fault file) and in the log; returns e->err. */
static int reject(const struct instance *inst, struct rpc_error *e)
{
	struct instance_patch patch = { 0 };
	char fault[sizeof(inst->fault)];

	snprintf(fault, sizeof(fault), "%s: %s", e->cls, e->message);
	patch.fault = fault;
	if (store_instance_update(store, inst->uuid, &patch) < 0)
		log_error("%s: cannot record fault: %s", inst->name, fault);
	log_warn("%s: %s", inst->name, fault);
	return e->err;
}

/* Ends the task the caller claimed, recording why it failed; vm_state
 * (when not NULL) is the state the failure leaves the instance in. */
static int end_task_failed(const struct instance *inst, const char *task,
			   struct rpc_error *e, const char *host,
			   const char *vm_state)
{
	struct instance_patch patch = { 0 };
	char fault[sizeof(inst->fault)];

	snprintf(fault, sizeof(fault), "%s: %s", e->cls, e->message);
	patch.expected_task_state = task;
	patch.task_state = "";
	patch.fault = fault;
	patch.host = host;
	patch.vm_state = vm_state;
	if (store_instance_update(store, inst->uuid, &patch) < 0)
		log_error("%s: cannot record fault: %s", inst->name, fault);
	log_warn("%s: %s", inst->name, fault);
	return e->err;
}

/* A failed start or stop: remote refusals put the instance in error,
 * transport failures leave its vm_state alone. */
static int fail_task(const struct instance *inst, const char *task,
		     struct rpc_error *e, const char *host)
{
	bool transport = e->err == -ENOTCONN || e->err == -EHOSTDOWN ||
			 e->err == -ETIMEDOUT;

	return end_task_failed(inst, task, e, host, transport ? NULL : "error");
}

int api_instance_create(const char *name, uid_t uid, gid_t gid,
			struct rpc_error *e)
{
	struct instance inst;
	int ret;

	ret = api_check_name(name, e);
	if (ret < 0)
		return ret;
	ret = store_instance_create(store, name, uid, gid, &inst);
	if (ret == -EEXIST)
		return rpc_error_set(e, ret, "InstanceExists",
				     "instance %s already exists", name);
	if (ret < 0)
		return rpc_error_set(e, ret, NULL, "cannot create %s", name);
	log_info("%s: created as %s by uid %u", name, inst.uuid, (unsigned)uid);
	return 0;
}

static int load(const char *name, struct instance *inst, struct rpc_error *e)
{
	int ret = store_instance_get(store, name, inst);

	if (ret == -ENOENT)
		return rpc_error_set(e, ret, "NotFound", "no instance %s", name);
	if (ret < 0)
		return rpc_error_set(e, ret, NULL, "cannot read instance %s", name);
	return 0;
}

/* Claims a task: succeeds only if nobody changed the instance's vm_state
 * or started a task since inst was read.  Clears the last fault. */
static int claim_task(const struct instance *inst, const char *task,
		      struct rpc_error *e)
{
	struct instance_patch patch = { 0 };
	int ret;

	patch.expected_vm_state = inst->vm_state;
	patch.expected_task_state = inst->task_state;
	patch.task_state = task;
	patch.fault = "";
	ret = store_instance_update(store, inst->uuid, &patch);
	if (ret < 0)
		return rpc_error_set(e, ret, NULL, "cannot update %s", inst->name);
	if (ret == 0)
		return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				     "%s changed while the request was made; try again",
				     inst->name);
	return 0;
}

/* The instance as a compute host needs it: it never reads the store. */
static json_t *instance_json(const struct instance *inst,
			     const struct flavor *fl)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}",
			 "uuid", inst->uuid, "name", inst->name,
			 "flavor", fl->name, "vcpus", fl->vcpus,
			 "memory_mb", fl->memory_mb, "disk_gb", fl->disk_gb);
}

static int load_flavor(const struct instance *inst, struct flavor *fl,
		       struct rpc_error *e)
{
	int ret;

	if (!inst->flavor[0])
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s has no flavor: write one to its flavor file first",
				     inst->name);
	ret = store_flavor_get(store, inst->flavor, fl);
	if (ret < 0)
		return rpc_error_set(e, ret == -ENOENT ? -EINVAL : ret,
				     "FlavorNotFound", "flavor %s does not exist",
				     inst->flavor);
	return 0;
}

/* Asks the scheduler for a host; fills host. */
static int schedule(const struct instance *inst, const struct flavor *fl,
		    char *host, size_t size, struct rpc_error *e)
{
	json_t *args, *result = NULL;
	const char *chosen;
	int ret;

	args = json_pack("{s:s, s:{s:s, s:i, s:i, s:i}}",
			 "instance_uuid", inst->uuid, "flavor",
			 "name", fl->name, "vcpus", fl->vcpus,
			 "memory_mb", fl->memory_mb, "disk_gb", fl->disk_gb);
	ret = bus_call("scheduler", NULL, "select_destinations", args, &result, e);
	json_decref(args);
	if (ret < 0)
		return ret;
	chosen = json_string_value(json_object_get(result, "host"));
	if (!chosen || !chosen[0] || strlen(chosen) >= size) {
		ret = rpc_error_set(e, -EPROTO, "InvalidReply",
				    "the scheduler answered without a host");
	} else {
		snprintf(host, size, "%s", chosen);
		ret = 0;
	}
	json_decref(result);
	return ret;
}

static int start(const struct instance *inst, const struct action_rule *rule,
		 struct rpc_error *e)
{
	struct instance_patch patch = { 0 };
	struct flavor fl;
	char host[sizeof(inst->host)];
	bool first = !inst->host[0];
	const char *task = first ? "scheduling" : rule->task;
	json_t *args;
	int ret;

	ret = load_flavor(inst, &fl, e);
	if (ret < 0)
		return reject(inst, e);
	ret = claim_task(inst, task, e);
	if (ret < 0)
		return ret;
	snprintf(host, sizeof(host), "%s", inst->host);
	if (first) {
		ret = schedule(inst, &fl, host, sizeof(host), e);
		if (ret < 0)
			return fail_task(inst, task, e, NULL);
		patch.expected_task_state = task;
		patch.task_state = task = "spawning";
		patch.host = host;
		if (store_instance_update(store, inst->uuid, &patch) != 1)
			return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
					     "%s changed while it was being scheduled",
					     inst->name);
		log_info("%s: scheduled on %s", inst->name, host);
	}
	args = json_pack("{s:o, s:s}", "instance", instance_json(inst, &fl),
			 "expected_task_state", task);
	ret = bus_cast("compute", host, "start_instance", args, e);
	json_decref(args);
	if (ret < 0)
		return fail_task(inst, task, e, first ? "" : NULL);
	if (!inst->launched) {
		memset(&patch, 0, sizeof(patch));
		patch.set_launched = true;
		store_instance_update(store, inst->uuid, &patch);
	}
	return 0;
}

static int stop(const struct instance *inst, const struct action_rule *rule,
		struct rpc_error *e)
{
	struct flavor fl;
	json_t *args;
	int ret;

	ret = load_flavor(inst, &fl, e);
	if (ret < 0)
		return reject(inst, e);
	ret = claim_task(inst, rule->task, e);
	if (ret < 0)
		return ret;
	args = json_pack("{s:o, s:s}", "instance", instance_json(inst, &fl),
			 "expected_task_state", rule->task);
	ret = bus_cast("compute", inst->host, "stop_instance", args, e);
	json_decref(args);
	if (ret < 0)
		return fail_task(inst, rule->task, e, NULL);
	return 0;
}

int api_instance_command(const char *name, const char *text, size_t len,
			 struct rpc_error *e)
{
	const struct action_rule *rule;
	struct instance inst;
	int ret;

	ret = load(name, &inst, e);
	if (ret < 0)
		return ret;
	rule = lifecycle_parse(text, len);
	if (!rule || rule->action == ACTION_DELETE) {
		/* delete is rmdir's job: a directory that vanished on a write
		 * would surprise every tool holding it open. */
		rpc_error_set(e, -EINVAL, "InvalidInput",
			      "unknown command \"%.*s\" (commands: start stop; delete with rmdir)",
			      (int)(len > 64 ? 64 : len), text);
		return reject(&inst, e);
	}
	ret = lifecycle_check(rule, &inst, e);
	if (ret < 0)
		return reject(&inst, e);
	log_info("%s: %s requested", name, rule->name);
	switch (rule->action) {
	case ACTION_START:
		return start(&inst, rule, e);
	case ACTION_STOP:
		return stop(&inst, rule, e);
	case ACTION_DELETE:
		break;
	}
	return -EINVAL;
}

int api_instance_delete(const char *name, struct rpc_error *e)
{
	const struct action_rule *rule = lifecycle_rule(ACTION_DELETE);
	struct instance inst;
	json_t *args, *result = NULL;
	int ret;

	ret = load(name, &inst, e);
	if (ret < 0)
		return ret;
	ret = lifecycle_check(rule, &inst, e);
	if (ret < 0)
		return reject(&inst, e);
	ret = claim_task(&inst, rule->task, e);
	if (ret < 0)
		return ret;
	if (inst.host[0]) {
		args = json_pack("{s:{s:s, s:s}}", "instance", "uuid", inst.uuid,
				 "name", inst.name);
		ret = bus_call("compute", inst.host, "terminate_instance", args,
			       &result, e);
		json_decref(args);
		json_decref(result);
		/* On failure the domain may still exist: keep the instance as
		 * it was, so that the user can try again. */
		if (ret < 0)
			return end_task_failed(&inst, rule->task, e, NULL, NULL);
	}
	ret = store_instance_delete(store, inst.uuid);
	if (ret < 0)
		return rpc_error_set(e, ret, NULL, "cannot delete %s", name);
	log_info("%s: deleted", name);
	return 0;
}

int api_instance_set_flavor(const char *name, const char *text, size_t len,
			    struct rpc_error *e)
{
	struct instance_patch patch = { 0 };
	struct instance inst;
	struct strbuf want = STRBUF_INIT;
	struct flavor fl;
	int ret;

	ret = load(name, &inst, e);
	if (ret < 0)
		return ret;
	if (len > ATTR_MAX_LEN) {
		rpc_error_set(e, -EFBIG, "InvalidInput",
			      "flavor: %zu bytes written, at most %d", len,
			      ATTR_MAX_LEN);
		ret = reject(&inst, e);
		goto out;
	}
	strbuf_add(&want, text, len);
	strbuf_rtrim(&want);
	ret = store_flavor_get(store, want.buf, &fl);
	if (ret < 0) {
		rpc_error_set(e, -EINVAL, "FlavorNotFound",
			      "flavor \"%.64s\" does not exist (see flavors/)",
			      want.buf);
		ret = reject(&inst, e);
		goto out;
	}
	if (inst.launched) {
		/* Changing the flavor of a started instance is a resize,
		 * which is an action of its own, not a file write. */
		rpc_error_set(e, -EBUSY, "InstanceInvalidState",
			      "cannot change the flavor of %s: it has been started",
			      name);
		ret = reject(&inst, e);
		goto out;
	}
	patch.expected_task_state = "";
	patch.require_unlaunched = true;
	patch.flavor = fl.name;
	patch.flavor_raw = text;
	patch.flavor_raw_len = len;
	patch.fault = "";
	ret = store_instance_update(store, inst.uuid, &patch);
	if (ret == 0)
		ret = rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				    "cannot change the flavor of %s while it starts",
				    name);
	else if (ret < 0)
		rpc_error_set(e, ret, NULL, "cannot update %s", name);
	else
		ret = 0;
out:
	strbuf_release(&want);
	return ret;
}

int api_instance_set_owner(const char *name, uid_t uid, gid_t gid,
			   struct rpc_error *e)
{
	struct instance_patch patch = { 0 };
	struct instance inst;
	int ret;

	ret = load(name, &inst, e);
	if (ret < 0)
		return ret;
	patch.set_owner = true;
	patch.uid = uid == (uid_t)-1 ? inst.uid : uid;
	patch.gid = gid == (gid_t)-1 ? inst.gid : gid;
	ret = store_instance_update(store, inst.uuid, &patch);
	return ret < 0 ? rpc_error_set(e, ret, NULL, "cannot update %s", name) : 0;
}
