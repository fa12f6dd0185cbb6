/*
 * fs.c - FUSE callbacks, dispatched through the node table (tree.h).
 *
 * Content is dynamic: the mount uses direct_io and zero cache timeouts, so
 * that every read reaches us and is served from the store as it is now.
 * A file's content is rendered once when it is opened and later offsets
 * are served from that per-open copy (as lxcfs does), so a reader never
 * sees a torn value.  A write is applied at once, on the write() call, so
 * that `echo bad > ctl` fails in echo: shells do not check close().
 *
 * Permission checks are the kernel's (default_permissions) against the
 * modes and owners the table gives; a handler only refuses what modes
 * cannot express (root writing a read-only file, a read of ctl).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "bus.h"
#include "fs.h"
#include "log.h"
#include "rpc.h"
#include "scratch.h"
#include "tree.h"

/* One open file. */
struct open_file {
	const struct tree_node *node;  /* NULL for a scratch file */
	struct scratch *scratch;
	char object[NAME_MAX_LEN + 1];
	struct strbuf content;         /* rendered at open, or written so far */
};

static struct open_file *of_of(struct fuse_file_info *fi)
{
	return (struct open_file *)(uintptr_t)fi->fh;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fs_config *fc = fuse_get_context()->private_data;
	struct rpc_error e = { 0 };

	cfg->direct_io = 1;
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 0;
	cfg->hard_remove = 1;
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/* Started here, after fuse_daemonize(): a thread started before a
	 * fork would not survive it. */
	if (conductor_start(fc->store, &e) < 0) {
		log_error("cannot start the conductor: %s", e.message);
		fc->failed = true;
		fuse_exit(fuse_get_context()->fuse);
	}
	return fc;
}

static void fs_destroy(void *data)
{
	conductor_stop();
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	tree_stat(&p, st);
	tree_path_release(&p);
	return 0;
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_name(void *ctx, const char *name)
{
	struct fill_ctx *fc = ctx;

	fc->filler(fc->buf, name, NULL, 0, 0);
	return 0;
}

static void fill_scratch(void *ctx, const char *name)
{
	fill_name(ctx, name);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct fill_ctx fc = { buf, filler };
	const struct tree_node *c, *objects;
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (!tree_is_dir(p.node)) {
		ret = -ENOTDIR;
		goto out;
	}
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	objects = tree_object_child(p.node);
	if (objects) {
		ret = objects->list(fill_name, &fc);
		goto out;
	}
	for (c = p.node->children; c && c->name; c++)
		filler(buf, c->name, NULL, 0, 0);
	if (tree_is_object(p.node))
		scratch_list(p.object_dir, fill_scratch, &fc);
out:
	tree_path_release(&p);
	return ret;
}

/* Logs a refused request with its reason: the caller only sees errno. */
static int refused(const char *op, const char *path, const struct rpc_error *e)
{
	log_warn("%s %s: %s: %s", op, path, e->cls, e->message);
	return e->err;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	struct fuse_context *ctx = fuse_get_context();
	const struct tree_node *objects;
	struct tree_path parent;
	struct rpc_error e = { 0 };
	const char *name;
	int ret = tree_resolve_parent(path, &parent, &name);

	if (ret < 0)
		return ret;
	if (tree_child(parent.node, name) || !tree_is_dir(parent.node)) {
		ret = -EEXIST;
		goto out;
	}
	objects = tree_object_child(parent.node);
	if (!objects || !objects->create) {
		/* What the mode says (0555), for root too. */
		ret = objects ? -EACCES : -EPERM;
		goto out;
	}
	ret = objects->create(name, ctx->uid, ctx->gid, &e);
	if (ret < 0)
		refused("mkdir", path, &e);
out:
	tree_path_release(&parent);
	return ret;
}

static int fs_rmdir(const char *path)
{
	struct rpc_error e = { 0 };
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (!tree_is_dir(p.node))
		ret = -ENOTDIR;
	else if (!tree_is_object(p.node) || !p.node->remove)
		ret = -EPERM;
	else if ((ret = p.node->remove(p.object, &e)) < 0)
		refused("rmdir", path, &e);
	else
		scratch_remove_dir(p.object_dir);
	tree_path_release(&p);
	return ret;
}

static int open_node(const struct tree_path *p, int flags,
		     struct fuse_file_info *fi)
{
	int acc = flags & O_ACCMODE;
	struct open_file *of;

	if (tree_is_dir(p->node))
		return -EISDIR;
	if (!p->scratch && ((acc != O_WRONLY && !p->node->read) ||
			    (acc != O_RDONLY && !p->node->write)))
		return -EACCES;
	of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	of->node = p->scratch ? NULL : p->node;
	of->scratch = p->scratch;
	snprintf(of->object, sizeof(of->object), "%s", p->object);
	strbuf_init(&of->content, 0);
	if (!p->scratch && acc == O_RDONLY)
		p->node->read(p, &of->content);
	fi->fh = (uintptr_t)of;
	fi->direct_io = 1;
	fi->nonseekable = 0;
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	ret = open_node(&p, fi->flags, fi);
	if (ret == 0)
		p.scratch = NULL; /* the open file holds the reference now */
	tree_path_release(&p);
	return ret;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_context *ctx = fuse_get_context();
	struct tree_path parent;
	const char *name;
	int ret = tree_resolve_parent(path, &parent, &name);

	if (ret < 0)
		return ret;
	if (tree_child(parent.node, name)) {
		ret = -EEXIST;
		goto out;
	}
	if (!tree_is_object(parent.node)) {
		ret = tree_is_dir(parent.node) ? -EPERM : -ENOTDIR;
		goto out;
	}
	ret = scratch_create(parent.object_dir, name, mode, ctx->uid, ctx->gid,
			     &parent.scratch);
	if (ret < 0)
		goto out;
	parent.node = NULL;
	ret = open_node(&parent, fi->flags, fi);
	if (ret == 0)
		parent.scratch = NULL;
out:
	tree_path_release(&parent);
	return ret;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct open_file *of = of_of(fi);
	size_t n;

	if (of->scratch)
		return (int)scratch_read(of->scratch, buf, size, off);
	if (!of->node->read)
		return -EACCES;
	if ((size_t)off >= of->content.len)
		return 0;
	n = of->content.len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, of->content.buf + off, n);
	return (int)n;
}

/* Applies content to a writable node, logging a refusal. */
static int apply_write(const char *path, const struct tree_node *node,
		       const char *object, const char *data, size_t len)
{
	struct rpc_error e = { 0 };
	int ret = node->write(object, data, len, &e);

	return ret < 0 ? refused("write", path, &e) : 0;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct open_file *of = of_of(fi);
	size_t end = (size_t)off + size;
	int ret;

	if (of->scratch)
		return (int)scratch_write(of->scratch, buf, size, off);
	if (end > ATTR_MAX_LEN)
		return -EFBIG;
	/* A command file (ctl) takes one command per write, wherever the
	 * file offset is. */
	if (!of->node->read) {
		ret = apply_write(path, of->node, of->object, buf, size);
		return ret < 0 ? ret : (int)size;
	}
	/* An attribute file applies everything written through this handle
	 * so far, so that a value split over two writes still arrives whole. */
	if (end > of->content.len) {
		strbuf_grow(&of->content, end - of->content.len);
		memset(of->content.buf + of->content.len, 0, end - of->content.len);
		strbuf_setlen(&of->content, end);
	}
	memcpy(of->content.buf + off, buf, size);
	ret = apply_write(path, of->node, of->object, of->content.buf,
			  of->content.len);
	return ret < 0 ? ret : (int)size;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = of_of(fi);

	scratch_put(of->scratch);
	strbuf_release(&of->content);
	free(of);
	return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (p.scratch)
		ret = scratch_truncate(p.scratch, size);
	else if (tree_is_dir(p.node))
		ret = -EISDIR;
	else if (!p.node->write)
		ret = -EACCES;
	else
		/* `echo x > f` truncates first: the write that follows
		 * carries the value. */
		ret = size == 0 ? 0 : -EINVAL;
	tree_path_release(&p);
	return ret;
}

static int fs_unlink(const char *path)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (p.scratch)
		ret = scratch_unlink(p.object_dir, strrchr(path, '/') + 1);
	else
		ret = tree_is_dir(p.node) ? -EISDIR : -EPERM;
	tree_path_release(&p);
	return ret;
}

/*
 * rename: the last step of a config tool's write.  Only scratch files move;
 * moving one onto a writable file writes its content there, and the
 * scratch file is gone only when that write succeeded.
 */
static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	struct tree_path src, dst_dir;
	const struct tree_node *target;
	struct strbuf content = STRBUF_INIT;
	const char *to_name;
	int ret;

	ret = tree_resolve(from, &src);
	if (ret < 0)
		return ret;
	ret = tree_resolve_parent(to, &dst_dir, &to_name);
	if (ret < 0)
		goto out_src;
	if (!src.scratch) {
		ret = -EPERM;
		goto out;
	}
	if (!tree_is_object(dst_dir.node) ||
	    strcmp(dst_dir.object_dir, src.object_dir) != 0) {
		ret = -EXDEV;
		goto out;
	}
	if (flags & RENAME_EXCHANGE) {
		ret = -EINVAL;
		goto out;
	}
	target = tree_child(dst_dir.node, to_name);
	if (!target) {
		if (flags & RENAME_NOREPLACE) {
			struct scratch *existing = scratch_get(dst_dir.object_dir, to_name);

			if (existing) {
				scratch_put(existing);
				ret = -EEXIST;
				goto out;
			}
		}
		ret = scratch_rename(src.object_dir, strrchr(from, '/') + 1, to_name);
		goto out;
	}
	if (flags & RENAME_NOREPLACE) {
		ret = -EEXIST;
		goto out;
	}
	if (tree_is_dir(target)) {
		ret = -EISDIR;
		goto out;
	}
	if (!target->write) {
		ret = -EACCES;
		goto out;
	}
	scratch_content(src.scratch, &content);
	ret = apply_write(to, target, dst_dir.object, content.buf, content.len);
	if (ret == 0)
		scratch_unlink(src.object_dir, strrchr(from, '/') + 1);
out:
	strbuf_release(&content);
	tree_path_release(&dst_dir);
out_src:
	tree_path_release(&src);
	return ret;
}

/* chmod/chown/utimens: the kernel has already checked that the caller may
 * (default_permissions).  Scratch files keep what they are given; the
 * modes of tree files are part of the API and do not change, but tools
 * that set them must not fail.  chown of an object directory hands the
 * object to its new owner. */
static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (p.scratch)
		scratch_chmod(p.scratch, mode);
	tree_path_release(&p);
	return 0;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	struct rpc_error e = { 0 };
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (p.scratch)
		scratch_chown(p.scratch, uid, gid);
	else if (tree_is_object(p.node) && p.node->set_owner &&
		 (ret = p.node->set_owner(p.object, uid, gid, &e)) < 0)
		refused("chown", path, &e);
	tree_path_release(&p);
	return ret;
}

static int fs_utimens(const char *path, const struct timespec ts[2],
		      struct fuse_file_info *fi)
{
	struct tree_path p;
	int ret = tree_resolve(path, &p);

	if (ret < 0)
		return ret;
	if (p.scratch)
		scratch_touch(p.scratch, ts);
	tree_path_release(&p);
	return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	return 0; /* every change is durable when its write returns */
}

static int fs_statfs(const char *path, struct statvfs *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_namemax = NAME_MAX;
	return 0;
}

const struct fuse_operations fs_operations = {
	.init = fs_init,
	.destroy = fs_destroy,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.open = fs_open,
	.create = fs_create,
	.read = fs_read,
	.write = fs_write,
	.release = fs_release,
	.truncate = fs_truncate,
	.unlink = fs_unlink,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
	.fsync = fs_fsync,
	.statfs = fs_statfs,
};
