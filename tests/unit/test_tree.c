/* Unit tests: path resolution through the node table, and rendering. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testhelp.h"
#include "../../novafs/scratch.h"
#include "../../novafs/store.h"
#include "../../novafs/tree.h"

static int resolve_err(const char *path)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret == 0)
		tree_path_release(&p);
	return ret;
}

/* Renders path's content, or "(error)". */
static void render(const char *path, struct strbuf *out)
{
	struct tree_path p;

	strbuf_reset(out);
	if (tree_resolve(path, &p) < 0 || !p.node || !p.node->read) {
		strbuf_addstr(out, "(error)");
		return;
	}
	p.node->read(&p, out);
	tree_path_release(&p);
}

int main(void)
{
	char dir[] = "/tmp/novafs-tree-XXXXXX", path[64];
	struct strbuf sb = STRBUF_INIT;
	struct store *st = NULL;
	struct instance inst;
	struct scratch *s;
	struct tree_path p;
	struct stat sbuf;
	const char *why, *name;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (store_open(path, &st, &why) < 0)
		return 1;
	tree_init(st);
	store_instance_create(st, "web1", 1000, 1000, &inst);

	CHECK_INT(resolve_err("/"), 0);
	CHECK_INT(resolve_err("/instances"), 0);
	CHECK_INT(resolve_err("/instances/web1"), 0);
	CHECK_INT(resolve_err("/instances/web1/state"), 0);
	CHECK_INT(resolve_err("/instances/nope"), -ENOENT);
	CHECK_INT(resolve_err("/instances/web1/nope"), -ENOENT);
	CHECK_INT(resolve_err("/instances/web1/state/x"), -ENOTDIR);
	CHECK_INT(resolve_err("/nope"), -ENOENT);
	CHECK_INT(resolve_err("/flavors/m1.small/vcpus"), 0);

	render("/instances/web1/state", &sb);
	CHECK_STR(sb.buf, "stopped\n");
	render("/instances/web1/task", &sb);
	CHECK_STR(sb.buf, "none\n");
	render("/instances/web1/host", &sb);
	CHECK_STR(sb.buf, "");
	render("/instances/web1/id", &sb);
	CHECK_INT(sb.len, 37);
	render("/flavors/m1.large/memory_mb", &sb);
	CHECK_STR(sb.buf, "8192\n");
	render("/instances/web1/ctl", &sb);
	CHECK_STR(sb.buf, "(error)");

	CHECK_INT(tree_resolve("/instances/web1/state", &p), 0);
	tree_stat(&p, &sbuf);
	CHECK_INT(sbuf.st_mode, S_IFREG | 0444);
	CHECK_INT(sbuf.st_size, 8);
	CHECK_INT(sbuf.st_uid, 1000);
	tree_path_release(&p);
	CHECK_INT(tree_resolve("/instances", &p), 0);
	tree_stat(&p, &sbuf);
	CHECK_INT(sbuf.st_mode, S_IFDIR | 01777);
	CHECK(tree_object_child(p.node) != NULL);
	tree_path_release(&p);

	/* Scratch files live in object directories only. */
	CHECK_INT(scratch_create("instances/web1", ".tmp1", 0600, 0, 0, &s), 0);
	scratch_write(s, "m1.tiny\n", 8, 0);
	scratch_put(s);
	CHECK_INT(tree_resolve("/instances/web1/.tmp1", &p), 0);
	CHECK(p.scratch != NULL);
	CHECK_STR(p.object, "web1");
	CHECK_STR(p.object_dir, "instances/web1");
	tree_stat(&p, &sbuf);
	CHECK_INT(sbuf.st_size, 8);
	tree_path_release(&p);
	CHECK_INT(tree_resolve_parent("/instances/web1/flavor", &p, &name), 0);
	CHECK_STR(name, "flavor");
	CHECK(tree_is_object(p.node));
	tree_path_release(&p);
	scratch_remove_dir("instances/web1");
	CHECK_INT(resolve_err("/instances/web1/.tmp1"), -ENOENT);

	strbuf_release(&sb);
	store_close(st);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	return system(path) == 0 ? test_done() : 1;
}
