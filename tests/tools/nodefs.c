/*
 * nodefs.c - a mount of the novafs core (objects, store, node types,
 * FUSE) with fixture kinds, so that tests/integration/nodes.sh can
 * exercise every node type through a real mount, including the ones no
 * kind of the product uses yet.
 *
 *   nodefs --db PATH --blobs DIR [FUSE OPTION]... MOUNTPOINT
 *
 *   boxes/                 mkdir creates a box, rmdir deletes it
 *   boxes/NAME/label       an attribute, read-write
 *   boxes/NAME/peer        a symlink to ../PEER, where PEER is the label
 *   boxes/NAME/data        a blob, kept in DIR/UUID
 *   boxes/NAME/ctl         "emit TEXT" appends TEXT to the ticks stream
 *   boxes/NAME/items/      a nested collection: mkdir/rmdir items in it
 *   boxes/NAME/items/I/note   an attribute
 *   ticks                  a stream of what ctl emitted
 *
 * Everything but the fixture kinds is the code novafs runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_lowlevel.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "fs.h"
#include "node.h"
#include "obj.h"
#include "objops.h"
#include "store.h"
#include "stream.h"

static const char *blob_dir;
static struct stream *ticks;

/* A text field set from a written value, surrounding whitespace off. */
struct set_text {
	struct wreq *w;
	struct obj *o;
	unsigned field;
	char value[256];
};

static int set_text_run(struct txn *t, void *ctx)
{
	struct set_text *st = ctx;

	if (st->o->dead)
		return -ENOENT;
	return txn_set_text(t, st->o, st->field, st->value);
}

static void set_text_then(void *ctx, int err)
{
	struct set_text *st = ctx;

	wreq_done(st->w, err);
	obj_put(st->o);
	free(st);
}

static void store_text(struct obj *o, unsigned field, const char *buf,
		       size_t len, struct wreq *w)
{
	struct set_text *st = calloc(1, sizeof(*st));

	if (!st) {
		wreq_done(w, -ENOMEM);
		return;
	}
	while (len && strchr(" \t\r\n", buf[len - 1]))
		len--;
	if (len >= sizeof(st->value)) {
		free(st);
		wreq_done(w, -EFBIG);
		return;
	}
	memcpy(st->value, buf, len);
	st->w = w;
	st->o = o;
	st->field = field;
	obj_get(o);
	store_do(set_text_run, set_text_then, st);
}

/* --- item: boxes/NAME/items/ITEM --- */

enum { ITEM_NOTE, ITEM_NFIELDS };

static const struct field item_fields[] = {
	[ITEM_NOTE] = { "note", FIELD_TEXT, 0, NULL, 0 },
};

static void show_note(const struct obj *o, struct strbuf *out)
{
	if (obj_len(o, ITEM_NOTE))
		strbuf_addf(out, "%s\n", obj_text(o, ITEM_NOTE));
}

static void store_note(struct obj *o, const char *buf, size_t len,
		       struct wreq *w)
{
	store_text(o, ITEM_NOTE, buf, len, w);
}

static const struct node item_nodes[] = {
	{ "note", NODE_ATTR, 0644, NULL, 1u << ITEM_NOTE, show_note, store_note },
};

static const struct kind item_kind = {
	.name = "item", .table = "items", .mode = S_IFDIR | 0755,
	.fields = item_fields, .nfields = ITEM_NFIELDS,
	.nodes = item_nodes, .nnodes = 1,
	.create = objop_create, .remove = objop_remove,
};

/* --- box --- */

enum { BOX_LABEL, BOX_NFIELDS };

static const struct field box_fields[] = {
	[BOX_LABEL] = { "label", FIELD_TEXT, 0, NULL, 0 },
};

static void show_label(const struct obj *o, struct strbuf *out)
{
	if (obj_len(o, BOX_LABEL))
		strbuf_addf(out, "%s\n", obj_text(o, BOX_LABEL));
}

static void store_label(struct obj *o, const char *buf, size_t len,
			struct wreq *w)
{
	store_text(o, BOX_LABEL, buf, len, w);
}

static void show_peer(const struct obj *o, struct strbuf *out)
{
	strbuf_addf(out, "../%s", obj_len(o, BOX_LABEL) ? obj_text(o, BOX_LABEL) : o->name);
}

static int data_path(const struct obj *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", blob_dir, o->uuid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void run_ctl(struct obj *o, const char *buf, size_t len, struct wreq *w)
{
	struct strbuf line = STRBUF_INIT;

	if (len < 5 || memcmp(buf, "emit ", 5) != 0) {
		wreq_done(w, -EINVAL);
		return;
	}
	strbuf_add(&line, buf + 5, len - 5);
	strbuf_addch(&line, '\n');
	stream_append(ticks, line.buf, line.len);
	strbuf_release(&line);
	wreq_done(w, 0);
}

static struct stream *ticks_of(struct obj *o)
{
	return ticks;
}

static const struct node box_nodes[] = {
	{ "label", NODE_ATTR, 0644, NULL, 1u << BOX_LABEL, show_label, store_label },
	{ "peer", NODE_SYMLINK, 0777, NULL, 1u << BOX_LABEL, show_peer },
	{ "data", NODE_BLOB, 0644, NULL, 0, NULL, NULL, NULL, data_path },
	{ "ctl", NODE_COMMAND, 0200, NULL, 0, NULL, run_ctl },
	{ "items", NODE_COLLECTION, 0755, &item_kind },
};

static const struct kind box_kind = {
	.name = "box", .table = "boxes", .collection = "boxes",
	.collection_mode = 01777, .mode = S_IFDIR | 0755, .scratch = true,
	.fields = box_fields, .nfields = BOX_NFIELDS,
	.nodes = box_nodes, .nnodes = sizeof(box_nodes) / sizeof(box_nodes[0]),
	.create = objop_create, .remove = objop_remove,
	.set_owner = objop_set_owner,
};

static const struct kind *const kinds[] = { &box_kind, &item_kind, NULL };

static int started(void)
{
	return store_start();
}

static void stopping(void)
{
	store_close();
}

int main(int argc, char **argv)
{
	static const struct node ticks_node = {
		.name = "ticks", .type = NODE_STREAM, .mode = 0444,
		.stream = ticks_of,
	};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	const char *db = NULL, *why = NULL;
	int i, rc, status = 1;

	log_setup("nodefs", LOG_LVL_INFO);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--blobs") == 0 && i + 1 < argc)
			blob_dir = argv[++i];
		else if (fuse_opt_add_arg(&args, argv[i]) < 0)
			goto out;
	}
	if (!db || !blob_dir) {
		fprintf(stderr, "usage: nodefs --db PATH --blobs DIR [FUSE OPTION]... MOUNTPOINT\n");
		status = 2;
		goto out;
	}
	ticks = stream_new(100);
	if (!ticks || (rc = obj_init(kinds)) < 0 || (rc = obj_root_add(&ticks_node)) < 0)
		goto out;
	rc = store_open(db, kinds, &why);
	if (rc < 0) {
		fprintf(stderr, "nodefs: %s: %s\n", db, why ? why : strerror(-rc));
		goto out;
	}
	if (fuse_opt_add_arg(&args, "-oallow_other,default_permissions") < 0)
		goto out;
	status = fs_serve(&args, started, stopping);
out:
	store_close();
	obj_shutdown();
	stream_free(ticks);
	fuse_opt_free_args(&args);
	return status;
}
