/*
 * tree.c - the node table and path resolution (see tree.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <limits.h>

#include "api.h"
#include "scratch.h"
#include "store.h"
#include "tree.h"

static struct store *store;
static struct timespec start_time;

void tree_init(struct store *st)
{
	store = st;
	clock_gettime(CLOCK_REALTIME, &start_time);
}

/* Instance files.  Every read renders from the record tree_resolve just
 * loaded; text values end with a newline, empty ones are empty. */
static void add_line(struct strbuf *out, const char *value)
{
	if (value[0])
		strbuf_addf(out, "%s\n", value);
}

static void read_vm_state(const struct tree_path *p, struct strbuf *out)
{
	add_line(out, p->rec.instance.vm_state);
}

static void read_task_state(const struct tree_path *p, struct strbuf *out)
{
	add_line(out, p->rec.instance.task_state[0] ? p->rec.instance.task_state : "none");
}

static void read_power_state(const struct tree_path *p, struct strbuf *out)
{
	add_line(out, p->rec.instance.power_state);
}

static void read_host(const struct tree_path *p, struct strbuf *out)
{
	add_line(out, p->rec.instance.host);
}

static void read_id(const struct tree_path *p, struct strbuf *out)
{
	add_line(out, p->rec.instance.uuid);
}

static void read_fault(const struct tree_path *p, struct strbuf *out)
{
	add_line(out, p->rec.instance.fault);
}

/* The flavor file is desired state: it reads back exactly what was
 * written, byte for byte. */
static void read_flavor(const struct tree_path *p, struct strbuf *out)
{
	strbuf_add(out, p->rec.instance.flavor_raw, p->rec.instance.flavor_raw_len);
}

static int load_instance(struct tree_path *p, const char *name)
{
	struct instance *inst = &p->rec.instance;
	int ret = store_instance_get(store, name, inst);

	if (ret < 0)
		return ret;
	p->uid = inst->uid;
	p->gid = inst->gid;
	p->mtime.tv_sec = (time_t)(inst->updated_at / 1000000000);
	p->mtime.tv_nsec = (long)(inst->updated_at % 1000000000);
	return 0;
}

static int list_instances(int (*fn)(void *ctx, const char *name), void *ctx)
{
	return store_instance_list(store, fn, ctx);
}

static const struct tree_node instance_files[] = {
	{ .name = "ctl", .mode = S_IFREG | 0200, .write = api_instance_command },
	{ .name = "state", .mode = S_IFREG | 0444, .read = read_vm_state },
	{ .name = "task", .mode = S_IFREG | 0444, .read = read_task_state },
	{ .name = "power_state", .mode = S_IFREG | 0444, .read = read_power_state },
	{ .name = "host", .mode = S_IFREG | 0444, .read = read_host },
	{ .name = "flavor", .mode = S_IFREG | 0644, .read = read_flavor,
	  .write = api_instance_set_flavor },
	{ .name = "id", .mode = S_IFREG | 0444, .read = read_id },
	{ .name = "fault", .mode = S_IFREG | 0444, .read = read_fault },
	{ .name = NULL },
};

static const struct tree_node instance_objects[] = {
	{ .name = "*", .mode = S_IFDIR | 0755, .children = instance_files,
	  .load = load_instance, .list = list_instances,
	  .create = api_instance_create, .remove = api_instance_delete,
	  .set_owner = api_instance_set_owner },
	{ .name = NULL },
};

/* Flavors: read-only for now, seeded by the store. */
static void read_vcpus(const struct tree_path *p, struct strbuf *out)
{
	strbuf_addf(out, "%d\n", p->rec.flavor.vcpus);
}

static void read_memory_mb(const struct tree_path *p, struct strbuf *out)
{
	strbuf_addf(out, "%d\n", p->rec.flavor.memory_mb);
}

static void read_disk_gb(const struct tree_path *p, struct strbuf *out)
{
	strbuf_addf(out, "%d\n", p->rec.flavor.disk_gb);
}

static int load_flavor(struct tree_path *p, const char *name)
{
	p->uid = 0;
	p->gid = 0;
	p->mtime = start_time;
	return store_flavor_get(store, name, &p->rec.flavor);
}

static int list_flavors(int (*fn)(void *ctx, const char *name), void *ctx)
{
	return store_flavor_list(store, fn, ctx);
}

static const struct tree_node flavor_files[] = {
	{ .name = "vcpus", .mode = S_IFREG | 0444, .read = read_vcpus },
	{ .name = "memory_mb", .mode = S_IFREG | 0444, .read = read_memory_mb },
	{ .name = "disk_gb", .mode = S_IFREG | 0444, .read = read_disk_gb },
	{ .name = NULL },
};

static const struct tree_node flavor_objects[] = {
	{ .name = "*", .mode = S_IFDIR | 0555, .children = flavor_files,
	  .load = load_flavor, .list = list_flavors },
	{ .name = NULL },
};

static const struct tree_node top_dirs[] = {
	{ .name = "instances", .mode = S_IFDIR | 01777, .children = instance_objects },
	{ .name = "flavors", .mode = S_IFDIR | 0555, .children = flavor_objects },
	{ .name = NULL },
};

static const struct tree_node root = {
	.name = "/", .mode = S_IFDIR | 0755, .children = top_dirs,
};

bool tree_is_dir(const struct tree_node *n)
{
	return n && S_ISDIR(n->mode);
}

bool tree_is_object(const struct tree_node *n)
{
	return n && strcmp(n->name, "*") == 0;
}

const struct tree_node *tree_child(const struct tree_node *dir, const char *name)
{
	const struct tree_node *c;

	for (c = dir->children; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct tree_node *tree_object_child(const struct tree_node *dir)
{
	return dir->children ? tree_child(dir, "*") : NULL;
}

/* Resolves the components of path one by one.  Components are separated
 * by "/", and FUSE hands us normalized absolute paths. */
int tree_resolve(const char *path, struct tree_path *out)
{
	const struct tree_node *dir = &root, *next;
	char comp[NAME_MAX + 1];
	const char *s = path, *end;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	out->node = &root;
	out->mtime = start_time;
	while (*s == '/')
		s++;
	while (*s) {
		end = strchrnul(s, '/');
		len = (size_t)(end - s);
		if (len > NAME_MAX) {
			ret = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, s, len);
		comp[len] = '\0';
		if (!out->node || !tree_is_dir(out->node)) {
			ret = -ENOTDIR;
			goto fail;
		}
		dir = out->node;
		next = tree_child(dir, comp);
		if (!next && (next = tree_object_child(dir))) {
			if (len > NAME_MAX_LEN) {
				ret = -ENOENT;
				goto fail;
			}
			ret = next->load(out, comp);
			if (ret < 0)
				goto fail;
			out->object_node = next;
			memcpy(out->object, comp, len + 1);
			snprintf(out->object_dir, sizeof(out->object_dir), "%.*s",
				 (int)(end - path - 1), path + 1);
		} else if (!next && tree_is_object(dir)) {
			out->scratch = scratch_get(out->object_dir, comp);
			if (!out->scratch || *end) {
				ret = -ENOENT;
				goto fail;
			}
		} else if (!next) {
			ret = -ENOENT;
			goto fail;
		}
		out->node = next;
		s = end;
		while (*s == '/')
			s++;
	}
	return 0;
fail:
	tree_path_release(out);
	return ret;
}

void tree_path_release(struct tree_path *p)
{
	scratch_put(p->scratch);
	p->scratch = NULL;
}

int tree_resolve_parent(const char *path, struct tree_path *parent,
			const char **name)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!slash || !slash[1])
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	*name = slash + 1;
	return tree_resolve(dir[0] ? dir : "/", parent);
}

void tree_stat(const struct tree_path *p, struct stat *st)
{
	struct strbuf content = STRBUF_INIT;

	memset(st, 0, sizeof(*st));
	if (p->scratch) {
		scratch_stat(p->scratch, st);
		return;
	}
	st->st_mode = p->node->mode;
	st->st_nlink = tree_is_dir(p->node) ? 2 : 1;
	st->st_uid = p->uid;
	st->st_gid = p->gid;
	st->st_atim = st->st_mtim = st->st_ctim = p->mtime;
	st->st_blksize = 4096;
	if (p->node->read) {
		p->node->read(p, &content);
		st->st_size = (off_t)content.len;
		strbuf_release(&content);
	}
}
