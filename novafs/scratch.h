/*
 * scratch.h - temporary files inside object directories.
 *
 * Config management tools never write a file in place: Ansible, Puppet and
 * most editors write a temporary file beside the target, chmod, chown and
 * fsync it, then rename() it over the target.  novafs lets them: any name in
 * an object directory that is not one of its attribute files is a scratch
 * file, held in memory, and renaming it onto an attribute file is a write
 * of its whole content to that file (tree.c does that part).
 *
 * Scratch files are not durable (a temporary file that outlives a crash
 * is garbage anyway) and are bounded in size and number per directory.
 * They are reference-counted: an open file keeps its scratch alive after an
 * unlink, as on any filesystem.
 */
#ifndef NOVAFS_SCRATCH_H
#define NOVAFS_SCRATCH_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "strbuf.h"

#define SCRATCH_MAX_SIZE (1 << 20)
#define SCRATCH_MAX_PER_DIR 64

struct scratch;

/* Finds dir/name and takes a reference, or returns NULL. */
struct scratch *scratch_get(const char *dir, const char *name);
/* Creates dir/name (taking a reference): -EEXIST if it exists, -ENOSPC
 * when dir already holds SCRATCH_MAX_PER_DIR files. */
int scratch_create(const char *dir, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, struct scratch **out);
void scratch_put(struct scratch *s);

/* Removes dir/name from its directory (open references stay valid). */
int scratch_unlink(const char *dir, const char *name);
/* Moves dir/from to dir/to, replacing a scratch file named to. */
int scratch_rename(const char *dir, const char *from, const char *to);
/* Drops every scratch file in dir (the object is gone). */
void scratch_remove_dir(const char *dir);
/* Calls fn for each scratch name in dir. */
void scratch_list(const char *dir, void (*fn)(void *ctx, const char *name),
		  void *ctx);

/* Data and metadata, under the scratch file's own lock. */
ssize_t scratch_read(struct scratch *s, char *buf, size_t size, off_t off);
ssize_t scratch_write(struct scratch *s, const char *buf, size_t size, off_t off);
int scratch_truncate(struct scratch *s, off_t size);
/* Copies the whole content into out. */
void scratch_content(struct scratch *s, struct strbuf *out);
void scratch_stat(struct scratch *s, struct stat *st);
void scratch_chmod(struct scratch *s, mode_t mode);
void scratch_chown(struct scratch *s, uid_t uid, gid_t gid);
void scratch_touch(struct scratch *s, const struct timespec ts[2]);

#endif
