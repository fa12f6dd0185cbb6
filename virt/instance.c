/*
 * instance.c - validating the instance objects compute hosts receive; see
 * instance.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instance.h"
#include "rpc.h"

const char *virt_power_state_name(enum virt_power_state s)
{
	switch (s) {
	case VIRT_POWER_RUNNING:
		return "running";
	case VIRT_POWER_SHUTDOWN:
		return "shutdown";
	case VIRT_POWER_CRASHED:
		return "crashed";
	case VIRT_POWER_NOSTATE:
		break;
	}
	return "nostate";
}

int instance_uuid_valid(const char *s)
{
	int i;

	if (!s || strlen(s) != UUID_STR_LEN - 1)
		return 0;
	for (i = 0; i < UUID_STR_LEN - 1; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Copies the optional string member key of obj into buf (size n). */
static int get_string(json_t *obj, const char *key, char *buf, size_t n,
		      struct rpc_error *e)
{
	json_t *v = json_object_get(obj, key);

	buf[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= n ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "instance \"%s\" must be a string shorter than %zu bytes",
				     key, n);
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Reads integer member key of obj, at least min, into *out; a missing
 * member is def (or an error when def < 0). */
static int get_count(json_t *obj, const char *key, long long min,
		     long long def, unsigned long long *out, struct rpc_error *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v && def >= 0) {
		*out = (unsigned long long)def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > (1LL << 40))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "instance \"%s\" must be an integer >= %lld",
				     key, min);
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

int instance_uuid_from_json(json_t *obj, char uuid[UUID_STR_LEN],
			   struct rpc_error *e)
{
	const char *s = json_string_value(json_object_get(obj, "uuid"));
	int i;

	uuid[0] = '\0';
	if (!json_is_object(obj))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "\"instance\" must be an object");
	if (!instance_uuid_valid(s))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "instance \"uuid\" must be a UUID");
	for (i = 0; s[i]; i++)
		uuid[i] = (char)tolower((unsigned char)s[i]);
	uuid[i] = '\0';
	return 0;
}

int instance_from_json(json_t *obj, struct virt_instance *inst,
		       struct rpc_error *e)
{
	unsigned long long vcpus = 0;
	int r;

	memset(inst, 0, sizeof(*inst));
	if ((r = instance_uuid_from_json(obj, inst->uuid, e)) < 0 ||
	    (r = get_string(obj, "name", inst->name, sizeof(inst->name), e)) < 0 ||
	    (r = get_string(obj, "flavor", inst->flavor, sizeof(inst->flavor), e)) < 0 ||
	    (r = get_count(obj, "vcpus", 1, -1, &vcpus, e)) < 0 ||
	    (r = get_count(obj, "memory_mb", 1, -1, &inst->memory_mb, e)) < 0 ||
	    (r = get_count(obj, "disk_gb", 0, 0, &inst->disk_gb, e)) < 0)
		return r;
	if (vcpus > 4096)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "instance \"vcpus\" must be at most 4096");
	inst->vcpus = (unsigned)vcpus;
	return 0;
}
