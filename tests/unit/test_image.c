/*
 * test_image.c - an image uploaded through its data node, in process:
 * the transfer hashed as it arrived (checksum and md5 against nettle's
 * own), a qcow2 told from its header, image_check against flavors, and
 * image_wire validated against the compute contract's `image` member
 * (rpc_field_check), kernel included.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "rpc/contract.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "events.h"
#include "flavor.h"
#include "image.h"
#include "kinds.h"
#include "node.h"
#include "obj.h"
#include "store.h"
#include "testhelp.h"

#define SIZE (200 * 1024)

static const char *names[] = { "up", "kern" };
static atomic_int stored;

/* A write's completion: 1 for success, else -errno. */
static void stored_done(struct wreq *w, int err)
{
	atomic_store(&stored, err ? err : 1);
}

static int create_run(struct txn *t, void *ctx)
{
	struct obj *o;

	return txn_create(t, obj_top_coll(&image_kind), ctx, 0, 0, &o);
}

static const struct node *node_of(const char *name)
{
	unsigned i;

	for (i = 0; i < image_kind.nnodes; i++)
		if (strcmp(image_kind.nodes[i].name, name) == 0)
			return &image_kind.nodes[i];
	return NULL;
}

/* What the node called name shows of o. */
static char *show(struct obj *o, const char *name)
{
	static char out[256];
	struct strbuf sb = STRBUF_INIT;

	obj_rdlock();
	node_of(name)->show(o, &sb);
	obj_unlock();
	snprintf(out, sizeof(out), "%s", sb.buf);
	strbuf_release(&sb);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* Uploads buf through o's data node, in 4 KiB writes, and waits until
 * it is active or killed. */
static void upload(struct obj *o, const unsigned char *buf, size_t len)
{
	const struct node *n = node_of("data");
	struct handle *h = handle_new(o, n, O_WRONLY);
	size_t off;
	int i;

	CHECK_INT(node_blob_ops.open(o, n, h), 0);
	for (off = 0; off < len; off += 4096)
		n->blob->write(h, (const char *)buf + off, len - off < 4096 ? len - off : 4096,
			       (off_t)off);
	n->blob->release(h);
	handle_put(h);
	for (i = 0; i < 500 && strcmp(show(o, "status"), "active") != 0 &&
		    strcmp(show(o, "status"), "killed") != 0; i++)
		usleep(10000);
}

/* The image member of the compute contract's instance. */
static const struct rpc_field *image_field(void)
{
	const struct rpc_field *f, *m;

	for (f = compute_start_instance.args; f->name; f++)
		if (strcmp(f->name, "instance") == 0)
			for (m = f->members; m->name; m++)
				if (strcmp(m->name, "image") == 0)
					return m;
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/test_image.XXXXXX", path[128], hex[65];
	unsigned char *buf = calloc(1, SIZE), d[32];
	struct rpc_error e = { 0 };
	struct sha256_ctx sha;
	const char *why = NULL;
	struct obj *up, *kern;
	struct wreq w = { stored_done, 0, 0, 0 };
	json_t *wire;
	int i;

	if (!buf || !mkdtemp(dir))
		return 1;
	for (i = 0; i < SIZE; i++)
		buf[i] = (unsigned char)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "%s/db", dir);
	image_set_dir(dir);
	CHECK_INT(obj_init(novafs_kinds), 0);
	CHECK_INT(events_init(), 0);
	CHECK_INT(store_open(path, novafs_kinds, &why), 0);
	CHECK_INT(store_start(), 0);
	CHECK_INT(kinds_seed(), 0);
	for (i = 0; i < 2; i++)
		CHECK_INT(store_run(create_run, (void *)names[i]), 0);
	up = image_find("up");
	kern = image_find("kern");
	CHECK(up && kern);
	CHECK_STR(show(up, "status"), "queued");

	/* raw, hashed as it came */
	upload(kern, buf, SIZE);
	CHECK_STR(show(kern, "status"), "active");
	CHECK_STR(show(kern, "disk_format"), "raw");
	sha256_init(&sha);
	sha256_update(&sha, SIZE, buf);
	sha256_digest(&sha, sizeof(d), d);
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	CHECK_STR(show(kern, "checksum"), hex);

	/* a qcow2 header: 2 GiB virtual */
	memcpy(buf, "QFI\xfb\0\0\0\3", 8);
	memset(buf + 8, 0, 96);
	buf[23] = 16;
	buf[28] = 0x80;
	buf[103] = 104;
	upload(up, buf, SIZE);
	CHECK_STR(show(up, "status"), "active");
	CHECK_STR(show(up, "disk_format"), "qcow2");
	CHECK_STR(show(up, "virtual_size"), "2147483648");
	CHECK_STR(show(up, "progress"), "204800 of 204800 bytes (100%)");

	/* starts */
	obj_rdlock();
	CHECK_INT(image_check(up, flavor_find("m1.tiny"), &e), -EINVAL);
	CHECK_STR(e.cls, "FlavorDiskSmallerThanImage");
	CHECK_INT(image_check(up, flavor_find("m1.small"), &e), 0);
	obj_unlock();

	/* the wire, kernel included */
	node_of("kernel")->store(up, "kern\n", 5, &w);
	while (!atomic_load(&stored))
		usleep(1000);
	CHECK_INT(atomic_load(&stored), 1);
	obj_rdlock();
	wire = image_wire(up);
	obj_unlock();
	CHECK(wire != NULL);
	memset(&e, 0, sizeof(e));
	CHECK_INT(rpc_field_check(image_field(), wire, &e), 0);
	CHECK_MSG(e.err == 0, "image_wire fits the contract: %s", e.message);
	CHECK_STR(json_string_value(json_object_get(wire, "disk_format")), "qcow2");
	snprintf(path, sizeof(path), "%s/%s", dir, up->uuid);
	CHECK_STR(json_string_value(json_object_get(wire, "path")), path);
	json_decref(wire);

	store_close();
	events_shutdown();
	obj_shutdown();
	free(buf);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
	return test_done();
}
