/*
 * scratch.h - temporary files inside object directories.
 *
 * Config management tools never write a file in place: Ansible, Puppet
 * and most editors write a temporary file beside the target, chmod, chown
 * and fsync it, then rename() it over the target.  novafs lets them: a
 * name in an object directory that is not one of its entries is a scratch
 * file, held in memory, and renaming one onto an attribute is a write of
 * its whole content there (fs.c does that part).
 *
 * Scratch files are objects of their own kind, not persisted (a temporary
 * file that outlives a crash is garbage anyway), bounded in size and in
 * number per directory.  An open file keeps its scratch object alive after
 * an unlink, as on any file system, and so does the kernel while it
 * remembers the inode (FUSE lookup counts: scratch_looked_up/forget).
 *
 * Tools also make directories there: Puppet (Ruby's Tempfile) makes a
 * lock directory beside the target with mkdir and removes it with rmdir.
 * A temporary directory is a scratch object too, of scratch_dir_kind: it
 * takes scratch files but no directories (so that memory stays bounded),
 * and it shares its parent's collection of scratch entries and its bound.
 *
 * After a successful rename over an attribute, the kernel's dentry of
 * that attribute points at the scratch file's inode (that is what rename
 * means to the VFS).  So the scratch object becomes an alias: its inode
 * stands for the attribute from then on, until the kernel forgets it.
 */
#ifndef NOVAFS_SCRATCH_H
#define NOVAFS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/strbuf.h"

struct obj;

#define SCRATCH_MAX_SIZE (1 << 20)
#define SCRATCH_MAX_PER_DIR 64

extern const struct kind scratch_kind;
extern const struct kind scratch_dir_kind;

/* Whether o is a scratch file or directory. */
bool scratch_is(const struct obj *o);
/* Creates the file dir/name; *out gets a reference.  -EEXIST, -ENOSPC
 * (the directory holds SCRATCH_MAX_PER_DIR scratch entries already),
 * -ENOMEM. */
int scratch_create(struct obj *dir, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, struct obj **out);
/* Creates the directory dir/name, as scratch_create; -EPERM when dir is
 * a scratch directory itself.  rmdir is its kind's remove: -ENOTEMPTY
 * while it holds a file. */
int scratch_mkdir(struct obj *dir, const char *name, mode_t mode, uid_t uid,
		  gid_t gid, struct obj **out);
/* Removes dir/name (open files keep it).  -ENOENT. */
int scratch_unlink(struct obj *dir, const char *name);
/* Moves dir/from to dir/to, replacing a scratch file named to; with
 * noreplace, -EEXIST if to exists.  -ENOENT. */
int scratch_rename(struct obj *dir, const char *from, const char *to,
		   bool noreplace);
/* Appends the content to out. */
void scratch_content(struct obj *s, struct strbuf *out);
/* Fills st (type, mode, links, owner, size, times). */
void scratch_stat(struct obj *s, struct stat *st);
/* setattr: the FUSE_SET_ATTR_* bits of to_set, from attr. */
int scratch_setattr(struct obj *s, const struct stat *attr, int to_set);

/* The kernel learnt s's inode (a lookup, create or readdirplus entry it
 * was sent), or forgot it n times. */
void scratch_looked_up(struct obj *s);
void scratch_forget(struct obj *s, uint64_t n);
/* At unmount the kernel forgets everything without saying so. */
void scratch_forget_all(void);
/* s was renamed over node of dir: it leaves its directory, and its inode
 * names (dir, node) from now on.  Under the write lock. */
void scratch_become_alias(struct obj *s, struct obj *dir, unsigned node);
/* When s is such an alias: true, with what it stands for. */
bool scratch_alias(const struct obj *s, struct obj **dir, unsigned *node);

#endif
