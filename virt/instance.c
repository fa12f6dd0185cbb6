/*
 * instance.c - the instance objects compute hosts receive, as C structs;
 * see instance.h.
 */
#include "instance.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void instance_uuid(json_t *obj, char uuid[UUID_STR_LEN])
{
	const char *s = json_string_value(json_object_get(obj, "uuid"));
	size_t i;

	for (i = 0; s && s[i] && i < UUID_STR_LEN - 1; i++)
		uuid[i] = (char)tolower((unsigned char)s[i]);
	uuid[i] = '\0';
}

static void copy_string(json_t *obj, const char *key, char *buf, size_t size)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(buf, size, "%s", s ? s : "");
}

static unsigned long long count(json_t *obj, const char *key)
{
	json_int_t n = json_integer_value(json_object_get(obj, key));

	return n > 0 ? (unsigned long long)n : 0;
}

void instance_from_json(json_t *obj, struct virt_instance *inst)
{
	memset(inst, 0, sizeof(*inst));
	instance_uuid(obj, inst->uuid);
	copy_string(obj, "name", inst->name, sizeof(inst->name));
	copy_string(obj, "flavor", inst->flavor, sizeof(inst->flavor));
	inst->vcpus = (unsigned)count(obj, "vcpus");
	inst->memory_mb = count(obj, "memory_mb");
	inst->disk_gb = count(obj, "disk_gb");
}
