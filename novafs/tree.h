/*
 * tree.h - the novafs tree as one table of nodes.
 *
 * Every directory and file kind is described once: its name (or "*" for
 * "one directory per object of this collection"), its mode, and its
 * handlers.  Path resolution walks the table; the FUSE callbacks in fs.c
 * only dispatch through what it finds, so adding a file is adding a row.
 *
 *   /                   root
 *   /instances/         collection (mode 1777: anyone creates, owners delete)
 *   /instances/NAME/    object directory (owned by its creator)
 *   /instances/NAME/ctl and the attribute files
 *   /flavors/NAME/      read-only objects
 *
 * Names that an object directory does not define are scratch files (see
 * scratch.h).
 */
#ifndef NOVAFS_TREE_H
#define NOVAFS_TREE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store.h"
#include "strbuf.h"

struct rpc_error;
struct scratch;
struct tree_path;

struct tree_node {
	const char *name;                    /* literal, or "*" */
	mode_t mode;                         /* type and permission bits */
	const struct tree_node *children;    /* directories; ends at name NULL */

	/* An object directory ("*"): */
	int (*load)(struct tree_path *p, const char *name);
	int (*list)(int (*fn)(void *ctx, const char *name), void *ctx);
	int (*create)(const char *name, uid_t uid, gid_t gid, struct rpc_error *e);
	int (*remove)(const char *name, struct rpc_error *e);
	int (*set_owner)(const char *name, uid_t uid, gid_t gid,
			 struct rpc_error *e);

	/* A file: read renders the whole content from the loaded object;
	 * write receives the whole content written so far. */
	void (*read)(const struct tree_path *p, struct strbuf *out);
	int (*write)(const char *object, const char *buf, size_t len,
		     struct rpc_error *e);
};

/* What a path resolved to.  The object record is loaded fresh for every
 * resolution, which is what keeps reads current. */
struct tree_path {
	const struct tree_node *node;   /* NULL for a scratch file */
	const struct tree_node *object_node; /* the "*" node on the path */
	char object[NAME_MAX_LEN + 1];  /* that object's name */
	char object_dir[2 * NAME_MAX_LEN + 8]; /* "instances/web1" */
	struct scratch *scratch;        /* a reference; tree_path_release drops it */
	uid_t uid;                      /* owner shown by ls -l */
	gid_t gid;
	struct timespec mtime;
	union {
		struct instance instance;
		struct flavor flavor;
	} rec;
};

/* Must run before the first resolution: the store that objects load from. */
void tree_init(struct store *st);

/* Resolves path ("/instances/web1/state").  Returns 0, -ENOENT or
 * -ENOTDIR.  On success the caller calls tree_path_release(). */
int tree_resolve(const char *path, struct tree_path *out);
void tree_path_release(struct tree_path *p);

/* Splits path into its parent, resolved into parent, and its last
 * component, returned in *name (pointing into path). */
int tree_resolve_parent(const char *path, struct tree_path *parent,
			const char **name);

/* The child of an object directory or the root called name, or NULL. */
const struct tree_node *tree_child(const struct tree_node *dir, const char *name);
/* The "*" child of a collection directory, or NULL. */
const struct tree_node *tree_object_child(const struct tree_node *dir);

bool tree_is_dir(const struct tree_node *n);
/* True for object directories: they accept scratch files. */
bool tree_is_object(const struct tree_node *n);

/* Fills st for a resolved path (size is the rendered content's length). */
void tree_stat(const struct tree_path *p, struct stat *st);

#endif
