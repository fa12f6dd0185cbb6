/* Unit tests: the SQLite store, its compare-and-set updates and its
 * durability across a reopen. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhelp.h"
#include "../../novafs/store.h"

static int count_cb(void *ctx, const char *name)
{
	(*(int *)ctx)++;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/novafs-store-XXXXXX", path[64];
	struct store *st = NULL;
	struct instance a, b;
	struct instance_patch p;
	struct flavor fl;
	const char *why;
	int n = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/test.db", dir);
	CHECK_INT(store_open(path, &st, &why), 0);
	CHECK_INT(store_flavor_get(st, "m1.small", &fl), 0);
	CHECK(fl.vcpus == 1 && fl.memory_mb == 2048 && fl.disk_gb == 20);
	CHECK_INT(store_flavor_get(st, "m1.huge", &fl), -ENOENT);
	store_flavor_list(st, count_cb, &n);
	CHECK_INT(n, 4);

	CHECK_INT(store_instance_create(st, "web1", 1000, 100, &a), 0);
	CHECK_STR(a.vm_state, "stopped");
	CHECK_STR(a.task_state, "");
	CHECK_STR(a.power_state, "nostate");
	CHECK_INT(strlen(a.uuid), 36);
	CHECK_INT(a.uid, 1000);
	CHECK_INT(store_instance_create(st, "web1", 0, 0, &b), -EEXIST);
	CHECK_INT(store_instance_get(st, "nope", &b), -ENOENT);

	/* A claim succeeds once; the second sees the first's task. */
	memset(&p, 0, sizeof(p));
	p.expected_vm_state = "stopped";
	p.expected_task_state = "";
	p.task_state = "scheduling";
	CHECK_INT(store_instance_update(st, a.uuid, &p), 1);
	CHECK_INT(store_instance_update(st, a.uuid, &p), 0);

	/* A report for another task is stale and changes nothing. */
	memset(&p, 0, sizeof(p));
	p.expected_task_state = "powering-off";
	p.vm_state = "stopped";
	CHECK_INT(store_instance_update(st, a.uuid, &p), 0);
	memset(&p, 0, sizeof(p));
	p.expected_task_state = "scheduling";
	p.vm_state = "active";
	p.task_state = "";
	p.host = "node1";
	CHECK_INT(store_instance_update(st, a.uuid, &p), 1);
	CHECK_INT(store_instance_get(st, "web1", &b), 0);
	CHECK_STR(b.vm_state, "active");
	CHECK_STR(b.host, "node1");
	CHECK_STR(b.task_state, "");

	/* Raw desired state keeps every byte, NULs included. */
	memset(&p, 0, sizeof(p));
	p.flavor = "m1.tiny";
	p.flavor_raw = "m1.tiny\n\0x";
	p.flavor_raw_len = 10;
	p.require_unlaunched = true;
	CHECK_INT(store_instance_update(st, a.uuid, &p), 1);
	CHECK_INT(store_instance_get(st, "web1", &b), 0);
	CHECK_INT(b.flavor_raw_len, 10);
	CHECK(memcmp(b.flavor_raw, "m1.tiny\n\0x", 10) == 0);
	memset(&p, 0, sizeof(p));
	p.set_launched = true;
	CHECK_INT(store_instance_update(st, a.uuid, &p), 1);
	memset(&p, 0, sizeof(p));
	p.flavor = "m1.large";
	p.require_unlaunched = true;
	CHECK_INT(store_instance_update(st, a.uuid, &p), 0);

	/* Tasks only this daemon drives are repaired after a crash. */
	CHECK_INT(store_instance_create(st, "web2", 0, 0, &b), 0);
	memset(&p, 0, sizeof(p));
	p.task_state = "scheduling";
	CHECK_INT(store_instance_update(st, b.uuid, &p), 1);
	store_close(st);

	CHECK_INT(store_open(path, &st, &why), 0);
	CHECK_INT(store_reset_interrupted(st), 1);
	CHECK_INT(store_instance_get(st, "web2", &b), 0);
	CHECK_STR(b.task_state, "");
	CHECK_STR(b.fault, "Interrupted: novafs stopped during scheduling");
	CHECK_INT(store_instance_get(st, "web1", &b), 0);
	CHECK_STR(b.vm_state, "active");
	CHECK(b.launched);
	n = 0;
	store_instance_list(st, count_cb, &n);
	CHECK_INT(n, 2);
	CHECK_INT(store_instance_delete(st, b.uuid), 0);
	CHECK_INT(store_instance_delete(st, b.uuid), 0);
	CHECK_INT(store_instance_get(st, "web1", &b), -ENOENT);
	store_close(st);

	CHECK_INT(store_open("/nonexistent/dir/x.db", &st, &why), -EACCES);
	CHECK(why != NULL);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	return system(path) == 0 ? test_done() : 1;
}
