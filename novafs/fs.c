/*
 * fs.c - the FUSE low-level operations of the mount.
 *
 * Every request names an inode; decode() turns it into (object, node)
 * (node.h explains the numbering) under the object read lock, and the
 * request is served from memory or handed to the node's type (node.h) or
 * the object's kind (obj.h).  Directories are the same for every kind and
 * are served here: the root, collections (instances/), object directories
 * (instances/web1/) with their entries and scratch files.
 *
 * The kernel caches names and attributes for CACHE_S and is told when they
 * change (notify.h); file content is never cached (direct_io), so a read
 * always reaches us and is current.  Stream sizes and scratch files change
 * with every write, so their attributes are not cached at all.
 *
 * Replies that need the store or the bus (mkdir, rmdir, writes) are sent
 * when the change is durable, from whichever thread finishes it: no FUSE
 * thread ever waits on the disk or the network.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "common/log.h"
#include "fuse_caps.h"
#include "node.h"
#include "notify.h"
#include "obj.h"
#include "scratch.h"
#include "view.h"

#define CACHE_S 3600.0

/* What an inode number names. */
struct target {
	struct obj *o;
	const struct node *n;   /* NULL: o itself */
	unsigned slot;
};

/* A directory entry, snapshotted at opendir: its inode alone (16 bytes,
 * so that listing 100,000 instances costs 1.6 MB, not 27); the name is
 * read from the object or the kind at readdir time. */
struct dirent_snap {
	fuse_ino_t ino;
	mode_t type;
};

static const struct node_ops *const type_ops[NODE_TYPE_COUNT] = {
	[NODE_COLLECTION] = NULL,
	[NODE_ATTR] = &node_attr_ops,
	[NODE_COMMAND] = &node_command_ops,
	[NODE_STREAM] = &node_stream_ops,
	[NODE_BLOB] = &node_blob_ops,
	[NODE_SYMLINK] = &node_symlink_ops,
	[NODE_WAIT] = &node_wait_ops,
};

const struct node_ops *node_ops_of(const struct node *n)
{
	return type_ops[n->type];
}

static bool is_dir_kind(const struct kind *k)
{
	return S_ISDIR(k->mode);
}

/* Under the read lock.  A deleted object is found only with dead_ok
 * (getattr: fstat of an unlinked file works as on any file system);
 * everything else refuses it. */
static int decode_any(fuse_ino_t ino, struct target *t, bool dead_ok)
{
	uint64_t serial = ino >> NODE_SLOT_BITS;
	unsigned slot = ino & ((1u << NODE_SLOT_BITS) - 1);

	struct obj *dir;
	unsigned node;

	t->o = obj_by_serial(serial);
	if (t->o && slot == NODE_SLOT_SELF && scratch_alias(t->o, &dir, &node)) {
		/* A temp file renamed over an attribute: the kernel's dentry
		 * of that attribute names this inode now. */
		t->o = dir;
		slot = NODE_SLOT_FIRST + node;
	}
	if (!t->o || (t->o->dead && (!dead_ok || !atomic_load(&t->o->refs))))
		return -ENOENT;
	t->slot = slot;
	t->n = NULL;
	if (slot == NODE_SLOT_SELF)
		return 0;
	if (slot == NODE_SLOT_VIEW_LINK) {
		t->n = &view_link_node;
		return 0;
	}
	if (slot < NODE_SLOT_FIRST || slot - NODE_SLOT_FIRST >= t->o->kind->nnodes)
		return -ENOENT;
	t->n = &t->o->kind->nodes[slot - NODE_SLOT_FIRST];
	return 0;
}

static int decode(fuse_ino_t ino, struct target *t)
{
	return decode_any(ino, t, false);
}

static bool is_scratch(const struct target *t)
{
	return !t->n && scratch_is(t->o);
}

static bool is_dir_node(const struct node *n)
{
	return n->type == NODE_COLLECTION || n->type == NODE_VIEW;
}

static bool target_is_dir(const struct target *t)
{
	return t->n ? is_dir_node(t->n) : is_dir_kind(t->o->kind);
}

/* The name t has in its directory. */
static const char *target_name(const struct target *t)
{
	return t->n && t->slot != NODE_SLOT_VIEW_LINK ? t->n->name : t->o->name;
}

/* The error for a new entry that directory t does not take: one whose
 * mode says it is read-only (flavors/) says so, to root too; one that is
 * writable for another reason (an instance's actions/, writable so that
 * its owner may remove it with the instance) refuses the operation. */
static int no_new_entry(const struct target *t)
{
	mode_t mode = t->n ? t->n->mode : t->o->kind->mode;

	return mode & S_IWUSR ? -EPERM : -EACCES;
}

/*
 * unlink or rmdir, by uid, of an entry the tree itself has in directory
 * t: a file, a collection such as actions/ and the records in it, a view
 * and its links.  Such an entry is a part of the object whose directory
 * holds it, and goes with that object, whole, when the object's own
 * directory is removed.  So for whoever may remove that object (its owner
 * or root) removing a part succeeds and changes nothing: rm -r,
 * shutil.rmtree and FileUtils.rm_rf remove every entry before the
 * directory, and so reach the rmdir that deletes the object, or fails
 * with that object's own error when it may not go (EBUSY for a network in
 * use).  Parts of the root and of objects that are never removed
 * (flavors) are EPERM, and so is a caller who may not remove the object
 * (the kernel's permission check on the directory comes first, EACCES,
 * where the modes say enough).  Under the read lock.
 *
 * The kernel marks the inode of a directory it saw removed dead for good,
 * and a later lookup that finds the same inode number would hand back
 * that dead inode while anything holds it: so such a directory's inode
 * gets a new generation each time (part_gen), which makes the kernel drop
 * the old one and take a new one at the next lookup.
 */
static int remove_part(const struct target *t, uid_t uid)
{
	const struct obj *o = t->o;

	while (o != obj_root && o->coll->owner != obj_root)
		o = o->coll->owner;
	if (o == obj_root || !o->kind->remove)
		return -EPERM;
	return uid == 0 || uid == o->uid ? 0 : -EPERM;
}

static struct timespec ns_ts(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	return ts;
}

/* Number of directory entries of k that are directories. */
static unsigned subdirs(const struct kind *k)
{
	unsigned i, n = 0;

	for (i = 0; i < k->nnodes; i++)
		n += is_dir_node(&k->nodes[i]);
	return n;
}

/* Fills st for t, under the read lock; returns the attribute timeout. */
static double fill_attr(const struct target *t, fuse_ino_t ino, struct stat *st)
{
	const struct obj *o = t->o;
	struct coll *c;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_blksize = 4096;
	st->st_nlink = 1;
	st->st_uid = o->uid;
	st->st_gid = o->gid;
	st->st_ctim = st->st_mtim = st->st_atim = ns_ts(o->updated_ns);
	if (is_scratch(t)) {
		node_scratch_ops.getattr((struct obj *)o, NULL, st);
		return 0;
	}
	if (!t->n) {
		st->st_mode = S_IFDIR | (o->kind->mode & 07777);
		st->st_nlink = 2 + subdirs(o->kind);
		return CACHE_S;
	}
	switch (t->n->type) {
	case NODE_COLLECTION:
		c = o->colls[t->n - o->kind->nodes];
		st->st_mode = S_IFDIR | (t->n->mode & 07777);
		st->st_nlink = 2 + (c && is_dir_kind(c->kind) ? c->count : 0);
		if (c)
			st->st_mtim = st->st_ctim = ns_ts(c->updated_ns);
		if (o == obj_root)
			st->st_uid = st->st_gid = 0;
		return CACHE_S;
	case NODE_VIEW:
		st->st_mode = S_IFDIR | (t->n->mode & 07777);
		st->st_nlink = 2;
		return CACHE_S;
	case NODE_SYMLINK:
		st->st_mode = S_IFLNK | 0777;
		break;
	default:
		st->st_mode = S_IFREG | (t->n->mode & 07777);
		break;
	}
	node_ops_of(t->n)->getattr((struct obj *)o, t->n, st);
	st->st_blocks = (st->st_size + 511) / 512;
	return t->n->type == NODE_STREAM ? 0 : CACHE_S;
}

/* Whether t is a directory that rmdir removes only in the kernel's eyes
 * (remove_part): a collection, a view, an object that goes only with its
 * owner (an action record). */
static bool is_dir_part(const struct target *t)
{
	return t->n ? is_dir_node(t->n) :
		      is_dir_kind(t->o->kind) && !t->o->kind->remove;
}

/* Fills an entry reply for child target t. */
static void fill_entry(const struct target *t, fuse_ino_t ino,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	if (is_dir_part(t))
		e->generation = atomic_load(&t->o->part_gen);
	e->attr_timeout = fill_attr(t, ino, &e->attr);
	e->entry_timeout = CACHE_S;
}

/* Resolves name in directory t; fills child and its inode.  Under the
 * read lock. */
static int lookup_in(const struct target *t, const char *name,
		     struct target *child, fuse_ino_t *ino)
{
	struct obj *o;
	unsigned i;

	if (!target_is_dir(t))
		return -ENOTDIR;
	if (t->n && t->n->type == NODE_VIEW) {
		o = view_find(t->o, t->n, name);
		if (!o)
			return -ENOENT;
		child->o = o;
		child->n = &view_link_node;
		child->slot = NODE_SLOT_VIEW_LINK;
		*ino = node_ino(o->serial, NODE_SLOT_VIEW_LINK);
		return 0;
	}
	if (t->n) {
		/* A collection: its members. */
		o = coll_find(t->o->colls[t->n - t->o->kind->nodes], name);
		if (!o)
			return -ENOENT;
		child->o = o;
		child->n = NULL;
		child->slot = NODE_SLOT_SELF;
		*ino = node_ino(o->serial, NODE_SLOT_SELF);
		return 0;
	}
	for (i = 0; i < t->o->kind->nnodes; i++) {
		if (strcmp(t->o->kind->nodes[i].name, name) == 0) {
			child->o = t->o;
			child->n = &t->o->kind->nodes[i];
			child->slot = NODE_SLOT_FIRST + i;
			*ino = node_ino(t->o->serial, child->slot);
			return 0;
		}
	}
	o = coll_find(t->o->scratch, name);
	if (!o)
		return -ENOENT;
	child->o = o;
	child->n = NULL;
	child->slot = NODE_SLOT_SELF;
	*ino = node_ino(o->serial, NODE_SLOT_SELF);
	return 0;
}

/* Whether t is a view listing its members under names of its own, which
 * the kernel must not cache (view.h). */
static bool named_view(const struct target *t)
{
	return t->n && t->n->type == NODE_VIEW && t->n->view_name;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct target t, child;
	fuse_ino_t ino;
	int rc;

	obj_rdlock();
	rc = decode(parent, &t);
	if (rc == 0)
		rc = lookup_in(&t, name, &child, &ino);
	if (rc == 0) {
		/* The kernel now caches an entry of t's directory. */
		t.o->looked_up = true;
		fill_entry(&child, ino, &e);
		if (named_view(&t))
			e.entry_timeout = 0;
		if (is_scratch(&child))
			scratch_looked_up(child.o);
	}
	obj_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0 && is_scratch(&child))
		scratch_forget(child.o, 1); /* the kernel never got it */
}

/* The kernel forgot an inode; only scratch files count lookups (every
 * other object lives in its collection, and its inode number is never
 * reused). */
static void forget_one(fuse_ino_t ino, uint64_t nlookup)
{
	struct target t = { NULL, NULL, 0 };

	obj_rdlock();
	t.o = obj_by_serial(ino >> NODE_SLOT_BITS);
	if (t.o && (ino & ((1u << NODE_SLOT_BITS) - 1)) == NODE_SLOT_SELF &&
	    is_scratch(&t))
		scratch_forget(t.o, nlookup);
	obj_unlock();
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* The target of an open file: its handle's object, even deleted (an
 * unlinked scratch file keeps working through its descriptor). */
static struct target handle_target(const struct handle *h, fuse_ino_t ino)
{
	struct target t = { h->obj, h->node,
			    (unsigned)(ino & ((1u << NODE_SLOT_BITS) - 1)) };

	return t;
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct target t;
	struct stat st;
	double timeout = 0;
	int rc = 0;

	obj_rdlock();
	if (fi && fi->fh)
		t = handle_target((struct handle *)(uintptr_t)fi->fh, ino);
	else
		rc = decode_any(ino, &t, true);
	if (rc == 0)
		timeout = fill_attr(&t, ino, &st);
	obj_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, timeout);
}

/* A directory operation waiting for its kind's store op. */
struct dirop {
	struct wreq w;              /* first */
	fuse_req_t req;
	fuse_ino_t ino;             /* setattr: the inode to answer for */
	struct obj *dir;            /* mkdir: the collection's owner (a ref) */
	unsigned node;              /* mkdir: the collection's node index */
	struct obj *scratch;        /* rename: the file renamed (a ref) */
	struct handle *handle;      /* setattr through a descriptor (a ref) */
	char name[OBJ_NAME_MAX + 1];
};

static struct dirop *dirop_new(fuse_req_t req, void (*done)(struct wreq *, int))
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct dirop *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->w.done = done;
	d->w.uid = ctx->uid;
	d->w.gid = ctx->gid;
	d->w.pid = ctx->pid;
	d->req = req;
	return d;
}

static void dirop_free(struct dirop *d)
{
	if (d->handle)
		handle_put(d->handle);
	obj_put(d->dir);
	obj_put(d->scratch);
	free(d);
}

/* A mkdir is durable: answer with the new directory's entry. */
static void mkdir_done(struct wreq *w, int err)
{
	struct dirop *d = (struct dirop *)w;
	struct fuse_entry_param e;
	struct target child;
	struct obj *o = NULL;

	if (err == 0) {
		obj_rdlock();
		if (!d->dir->dead && d->dir->colls[d->node])
			o = coll_find(d->dir->colls[d->node], d->name);
		if (o) {
			child.o = o;
			child.n = NULL;
			child.slot = NODE_SLOT_SELF;
			fill_entry(&child, node_ino(o->serial, NODE_SLOT_SELF), &e);
		}
		obj_unlock();
		/* Deleted in the meantime: as if it came and went. */
		err = o ? 0 : -ENOENT;
	}
	if (err < 0)
		fuse_reply_err(d->req, -err);
	else
		fuse_reply_entry(d->req, &e);
	dirop_free(d);
}

/* Fills e for s, a scratch entry just made, which the kernel learns from
 * the reply (scratch_forget(s, 1) if sending it fails). */
static void new_scratch_entry(struct obj *s, struct fuse_entry_param *e)
{
	struct target t = { s, NULL, NODE_SLOT_SELF };

	obj_rdlock();
	fill_entry(&t, node_ino(s->serial, NODE_SLOT_SELF), e);
	obj_unlock();
	scratch_looked_up(s);
}

/* mkdir in an object's directory: a temporary directory (scratch.h). */
static void mkdir_scratch(fuse_req_t req, struct obj *dir, const char *name,
			  mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct obj *s = NULL;
	int rc = scratch_mkdir(dir, name, mode, ctx->uid, ctx->gid, &s);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	new_scratch_entry(s, &e);
	if (fuse_reply_entry(req, &e) != 0)
		scratch_forget(s, 1);
	obj_put(s);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct target t;
	struct coll *c = NULL;
	struct dirop *d = NULL;
	struct obj *dir = NULL;
	int rc;

	obj_rdlock();
	rc = decode(parent, &t);
	if (rc == 0 && !target_is_dir(&t))
		rc = -ENOTDIR;
	else if (rc == 0 && !t.n && t.o->kind->scratch)
		dir = t.o; /* a tool's lock or temporary directory */
	else if (rc == 0 && (!t.n || t.n->type == NODE_VIEW || !t.n->kind->create))
		/* In other object directories only their own entries exist;
		 * a view shows what other objects say. */
		rc = no_new_entry(&t);
	else if (rc == 0 && coll_find(t.o->colls[t.n - t.o->kind->nodes], name))
		rc = -EEXIST;
	else if (rc == 0 && obj_check_name(name) < 0)
		rc = -EINVAL;
	if (dir)
		obj_get(dir);
	else if (rc == 0 && !(d = dirop_new(req, mkdir_done)))
		rc = -ENOMEM;
	if (d) {
		d->dir = t.o;
		obj_get(t.o);
		d->node = (unsigned)(t.n - t.o->kind->nodes);
		snprintf(d->name, sizeof(d->name), "%s", name);
	}
	obj_unlock();
	if (dir) {
		mkdir_scratch(req, dir, name, mode);
		obj_put(dir);
		return;
	}
	if (rc < 0) {
		if (rc == -EINVAL)
			log_warn("mkdir: refused an invalid name");
		fuse_reply_err(req, -rc);
		return;
	}
	c = obj_coll(d->dir, d->node);
	c->kind->create(c, name, &d->w);
}

static void reply_done(struct wreq *w, int err)
{
	struct dirop *d = (struct dirop *)w;

	fuse_reply_err(d->req, -err);
	dirop_free(d);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct target t, child;
	struct dirop *d = NULL;
	struct obj *o = NULL;
	fuse_ino_t ino;
	int rc;

	obj_rdlock();
	rc = decode(parent, &t);
	if (rc == 0)
		rc = lookup_in(&t, name, &child, &ino);
	if (rc == 0 && !target_is_dir(&child))
		rc = -ENOTDIR;
	else if (rc == 0 && (child.n || !child.o->kind->remove)) {
		/* A directory of the tree, not an object of its own. */
		rc = remove_part(&t, fuse_req_ctx(req)->uid);
		if (rc == 0)
			atomic_fetch_add(&child.o->part_gen, 1);
	} else if (rc == 0 && !(d = dirop_new(req, reply_done)))
		rc = -ENOMEM;
	if (d) {
		o = child.o;
		obj_get(o);
	}
	obj_unlock();
	if (!d) {
		fuse_reply_err(req, -rc);
		return;
	}
	o->kind->remove(o, &d->w);
	obj_put(o);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct target t, child;
	fuse_ino_t ino;
	struct obj *dir = NULL;
	int rc;

	obj_rdlock();
	rc = decode(parent, &t);
	if (rc == 0)
		rc = lookup_in(&t, name, &child, &ino);
	if (rc == 0 && target_is_dir(&child))
		rc = -EISDIR;
	else if (rc == 0 && child.n)
		rc = remove_part(&t, fuse_req_ctx(req)->uid); /* a file of the tree */
	else if (rc == 0) {
		dir = t.o;
		obj_get(dir);
	}
	obj_unlock();
	if (dir)
		rc = scratch_unlink(dir, name);
	obj_put(dir);
	fuse_reply_err(req, -rc);
}

/* Opens t into a new handle, replying with the error on failure. */
static int open_target(const struct target *t, int flags, struct handle **out)
{
	const struct node_ops *ops;
	struct handle *h;
	int rc;

	if (target_is_dir(t))
		return -EISDIR;
	ops = t->n ? node_ops_of(t->n) : &node_scratch_ops;
	if (!ops->open)
		return -EACCES;
	h = handle_new(t->o, t->n, flags);
	if (!h)
		return -ENOMEM;
	rc = ops->open(t->o, t->n, h);
	if (rc < 0) {
		handle_put(h);
		return rc;
	}
	*out = h;
	return 0;
}

static void set_open_flags(const struct target *t, struct fuse_file_info *fi,
			   struct handle *h)
{
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	/* A read-only descriptor has nothing to flush: spare close() the
	 * round trip. */
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		fi->noflush = 1;
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct target t, child;
	struct handle *h = NULL;
	struct obj *dir = NULL, *s = NULL;
	fuse_ino_t ino;
	int rc;

	obj_rdlock();
	rc = decode(parent, &t);
	if (rc == 0 && !target_is_dir(&t))
		rc = -ENOTDIR;
	else if (rc == 0 && lookup_in(&t, name, &child, &ino) == 0)
		rc = -EEXIST;
	else if (rc == 0 && (t.n || !t.o->kind->scratch))
		/* Files of their own only in writable objects' directories. */
		rc = no_new_entry(&t);
	if (rc == 0) {
		dir = t.o;
		obj_get(dir);
	}
	obj_unlock();
	if (rc == 0)
		rc = scratch_create(dir, name, mode, ctx->uid, ctx->gid, &s);
	obj_put(dir);
	if (rc == 0) {
		child.o = s;
		child.n = NULL;
		child.slot = NODE_SLOT_SELF;
		rc = open_target(&child, fi->flags, &h);
	}
	if (rc < 0) {
		obj_put(s);
		fuse_reply_err(req, -rc);
		return;
	}
	new_scratch_entry(s, &e);
	set_open_flags(&child, fi, h);
	if (fuse_reply_create(req, &e, fi) != 0) {
		handle_put(h); /* the caller was interrupted */
		scratch_forget(s, 1);
	}
	obj_put(s);
}

/* rename: the last step of a config tool's write.  Only scratch files
 * move; moving one onto an attribute writes its content there, and the
 * scratch file goes only when that write succeeded. */
static void rename_applied(struct wreq *w, int err)
{
	struct dirop *d = (struct dirop *)w;

	if (err == 0) {
		obj_wrlock();
		scratch_become_alias(d->scratch, d->dir, d->node);
		obj_unlock();
	}
	fuse_reply_err(d->req, -err);
	/* Later lookups may as well find the attribute's own inode; the
	 * kernel then forgets the alias. */
	if (err == 0)
		notify_inval_entry(node_ino(d->dir->serial, NODE_SLOT_SELF), d->name);
	dirop_free(d);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct target t, src, dst;
	struct strbuf content = STRBUF_INIT;
	const struct node *target = NULL;
	struct dirop *d = NULL;
	struct obj *dir = NULL, *s = NULL;
	fuse_ino_t ino;
	int rc, exists;

	obj_rdlock();
	rc = decode(parent, &t);
	if (rc == 0)
		rc = lookup_in(&t, name, &src, &ino);
	if (rc == 0 && (src.n || target_is_dir(&src)))
		rc = -EPERM; /* the tree's own entries do not move */
	else if (rc == 0 && newparent != parent)
		rc = -EXDEV;
	else if (rc == 0 && (flags & RENAME_EXCHANGE))
		rc = -EINVAL;
	if (rc == 0) {
		exists = lookup_in(&t, newname, &dst, &ino) == 0;
		if (exists && (flags & RENAME_NOREPLACE))
			rc = -EEXIST;
		else if (exists && target_is_dir(&dst))
			rc = -EISDIR;
		else if (exists && dst.n && (dst.n->type != NODE_ATTR ||
					     !dst.n->store))
			rc = -EACCES;
		else if (exists && dst.n)
			target = dst.n;
	}
	if (rc == 0) {
		dir = t.o;
		obj_get(dir);
		s = src.o;
		obj_get(s);
	}
	obj_unlock();
	if (rc == 0 && !target) {
		rc = scratch_rename(dir, name, newname, flags & RENAME_NOREPLACE);
	} else if (rc == 0) {
		d = dirop_new(req, rename_applied);
		if (!d) {
			rc = -ENOMEM;
		} else {
			d->scratch = s;
			s = NULL;
			d->dir = dir;
			dir = NULL;
			d->node = (unsigned)(target - d->dir->kind->nodes);
			snprintf(d->name, sizeof(d->name), "%s", newname);
			scratch_content(d->scratch, &content);
			target->store(d->dir, content.buf, content.len, &d->w);
			strbuf_release(&content);
			return;
		}
	}
	obj_put(dir);
	obj_put(s);
	fuse_reply_err(req, -rc);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = NULL;
	struct target t;
	int rc;

	obj_rdlock();
	rc = decode(ino, &t);
	if (rc == 0)
		obj_get(t.o); /* alive past the lock until the handle has it */
	obj_unlock();
	if (rc == 0) {
		rc = open_target(&t, fi->flags, &h);
		obj_put(t.o);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	set_open_flags(&t, fi, h);
	if (fuse_reply_open(req, fi) != 0)
		handle_put(h);
}

static struct handle *handle_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

static const struct node_ops *ops_of_handle(const struct handle *h)
{
	return h->node ? node_ops_of(h->node) : &node_scratch_ops;
}

/*
 * The handle of a request, with a reference for the request's length: the
 * kernel may complete a read while our reply is still in writev (the
 * reader then closes, and RELEASE can run on another thread), so the
 * buffer a reply points into must outlive it.  Operations that finish
 * later take references of their own.
 */
static struct handle *hold(struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	handle_get(h);
	return h;
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = hold(fi);
	const struct node_ops *ops = ops_of_handle(h);

	if (!ops->read || (h->flags & O_ACCMODE) == O_WRONLY)
		fuse_reply_err(req, EBADF);
	else if (h->obj->dead && h->node)
		fuse_reply_err(req, ESTALE); /* its object is gone */
	else
		ops->read(req, h, size, off);
	handle_put(h);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = hold(fi);
	const struct node_ops *ops = ops_of_handle(h);

	if (!ops->write || (h->flags & O_ACCMODE) == O_RDONLY)
		fuse_reply_err(req, EBADF);
	else if (h->obj->dead && h->node)
		fuse_reply_err(req, ESTALE); /* its object is gone */
	else
		ops->write(req, h, buf, size, off);
	handle_put(h);
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = hold(fi);
	const struct node_ops *ops = ops_of_handle(h);

	if (!ops->flush)
		fuse_reply_err(req, 0);
	else if (h->obj->dead && h->node && h->dirty)
		fuse_reply_err(req, ESTALE);
	else
		ops->flush(req, h);
	handle_put(h);
}

/* fsync applies what a write left pending, as close does. */
static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	fs_flush(req, ino, fi);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	const struct node_ops *ops = ops_of_handle(h);

	if (ops->release)
		ops->release(h);
	handle_put(h);
	fuse_reply_err(req, 0);
}

static void fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct handle *h = hold(fi);
	const struct node_ops *ops = ops_of_handle(h);

	if (ops->poll) {
		ops->poll(req, h, ph);
		handle_put(h);
		return;
	}
	handle_put(h);
	/* Never ENOSYS: the kernel would stop asking for good.  A file that
	 * does not change on its own is always ready. */
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct strbuf sb = STRBUF_INIT;
	struct target t;
	int rc;

	obj_rdlock();
	rc = decode(ino, &t);
	if (rc == 0 && (!t.n || t.n->type != NODE_SYMLINK))
		rc = -EINVAL;
	if (rc == 0)
		t.n->show(t.o, &sb);
	obj_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, sb.buf);
	strbuf_release(&sb);
}

/* setattr completes through a dirop; the reply is the new attributes. */
static void setattr_done(struct wreq *w, int err)
{
	struct dirop *d = (struct dirop *)w;
	struct target t;
	struct stat st;
	double timeout = 0;

	if (err == 0) {
		obj_rdlock();
		if (d->handle)
			t = handle_target(d->handle, d->ino);
		else
			err = decode_any(d->ino, &t, true);
		if (err == 0)
			timeout = fill_attr(&t, d->ino, &st);
		obj_unlock();
	}
	if (err < 0)
		fuse_reply_err(d->req, -err);
	else
		fuse_reply_attr(d->req, &st, timeout);
	dirop_free(d);
}

/*
 * The tree's own modes and owners are part of the API: a chmod or chown
 * of one of its entries to what it has already succeeds (tools set them
 * as a matter of course), to anything else fails with EPERM rather than
 * succeed and read back otherwise.  chown of an object directory is not
 * asked here: it hands the object over.  Under the read lock.
 */
static int check_fixed_attrs(const struct target *t, fuse_ino_t ino,
			     const struct stat *attr, int to_set)
{
	struct stat cur;

	fill_attr(t, ino, &cur);
	if ((to_set & FUSE_SET_ATTR_MODE) &&
	    (attr->st_mode & 07777) != (cur.st_mode & 07777))
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != cur.st_uid)
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != cur.st_gid)
		return -EPERM;
	return 0;
}

/*
 * setattr: the kernel has checked that the caller may (default_permissions).
 * Scratch files keep what they are given.  A size goes to the node's
 * truncate.  chown of an object directory hands the object to its new
 * owner.  The modes and owners of the tree's own entries do not change
 * (check_fixed_attrs); their times are not kept either, and touch
 * succeeds.
 */
static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct dirop *d;
	struct target t;
	struct obj *o = NULL;
	int rc = 0;

	d = dirop_new(req, setattr_done);
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	d->ino = ino;
	if (h) {
		d->handle = h;
		handle_get(h);
	}
	/* fchmod and fchown come without the descriptor: an unlinked scratch
	 * file is found by its inode as long as it is open. */
	obj_rdlock();
	if (h)
		t = handle_target(h, ino);
	else
		rc = decode_any(ino, &t, true);
	if (rc == 0 && t.o->dead && (t.n || is_dir_kind(t.o->kind)))
		rc = -ENOENT;
	if (rc == 0 && !obj_tryget(t.o))
		rc = -ENOENT;
	if (rc == 0)
		o = t.o;
	/* What is not a scratch file or directory, nor an object directory
	 * being given away, keeps its mode and owner. */
	if (rc == 0 && !is_scratch(&t) && (t.n || is_dir_kind(o->kind))) {
		int fixed = to_set;

		if (!t.n && o->kind->set_owner)
			fixed &= ~(FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID);
		rc = check_fixed_attrs(&t, ino, attr, fixed);
	}
	obj_unlock();
	if (rc < 0) {
		obj_put(o);
		setattr_done(&d->w, rc);
		return;
	}
	if (is_scratch(&t)) {
		rc = scratch_setattr(o, attr, to_set);
		setattr_done(&d->w, rc);
	} else if (to_set & FUSE_SET_ATTR_SIZE) {
		if (target_is_dir(&t))
			setattr_done(&d->w, -EISDIR);
		else if (!node_ops_of(t.n)->truncate)
			setattr_done(&d->w, -EACCES);
		else
			node_ops_of(t.n)->truncate(o, t.n, h, attr->st_size, &d->w);
	} else if ((to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) && !t.n &&
		   o->kind->set_owner) {
		o->kind->set_owner(o, to_set & FUSE_SET_ATTR_UID ? attr->st_uid : o->uid,
				   to_set & FUSE_SET_ATTR_GID ? attr->st_gid : o->gid,
				   &d->w);
	} else {
		setattr_done(&d->w, 0);
	}
	obj_put(o);
}

/* --- directories --- */

/* A view's entries: its members' links.  Walks the members' collection,
 * twice (count, then fill). */
static int snapshot_view(const struct target *t, struct handle *h)
{
	const struct coll *c = obj_top_coll(t->n->kind);
	const struct obj *m;
	size_t n = 0;

	for (m = c->head; m; m = m->next)
		n += view_has(t->o, t->n, m);
	h->ents = calloc(n ? n : 1, sizeof(*h->ents));
	if (!h->ents)
		return -ENOMEM;
	for (m = c->head; m; m = m->next) {
		if (!view_has(t->o, t->n, m))
			continue;
		h->ents[h->nents].ino = node_ino(m->serial, NODE_SLOT_VIEW_LINK);
		h->ents[h->nents].type = S_IFLNK;
		h->nents++;
	}
	return 0;
}

/* Snapshots t's entries into h (taken under the read lock). */
static int snapshot_dir(const struct target *t, struct handle *h)
{
	const struct coll *c;
	const struct obj *o;
	size_t n = 0, i;

	if (t->n && t->n->type == NODE_VIEW)
		return snapshot_view(t, h);
	if (t->n)
		c = t->o->colls[t->n - t->o->kind->nodes];
	else
		c = t->o->scratch;
	n = (c ? c->count : 0) + (t->n ? 0 : t->o->kind->nnodes);
	h->ents = calloc(n ? n : 1, sizeof(*h->ents));
	if (!h->ents)
		return -ENOMEM;
	if (!t->n) {
		for (i = 0; i < t->o->kind->nnodes; i++) {
			const struct node *nd = &t->o->kind->nodes[i];

			h->ents[h->nents].ino = node_ino(t->o->serial, NODE_SLOT_FIRST + i);
			h->ents[h->nents].type = is_dir_node(nd) ? S_IFDIR :
						 nd->type == NODE_SYMLINK ? S_IFLNK : S_IFREG;
			h->nents++;
		}
	}
	for (o = c ? c->head : NULL; o; o = o->next) {
		h->ents[h->nents].ino = node_ino(o->serial, NODE_SLOT_SELF);
		h->ents[h->nents].type = o->kind->mode & S_IFMT;
		h->nents++;
	}
	return 0;
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = NULL;
	struct target t;
	int rc;

	obj_rdlock();
	rc = decode(ino, &t);
	if (rc == 0 && !target_is_dir(&t))
		rc = -ENOTDIR;
	if (rc == 0 && !(h = handle_new(t.o, t.n, fi->flags)))
		rc = -ENOMEM;
	if (rc == 0)
		rc = snapshot_dir(&t, h);
	obj_unlock();
	if (rc < 0) {
		handle_put(h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) != 0)
		handle_put(h);
}

/* readdir and readdirplus: offset 0 and 1 are "." and "..", 2 + i the
 * snapshot's entry i.  With plus, each entry carries its attributes, so
 * `ls -l` needs no lookup per entry; an entry whose object went since
 * opendir is skipped. */
static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, bool plus)
{
	struct handle *h = handle_of(fi);
	struct target dir = { h->obj, h->node, 0 };
	struct strbuf entry = STRBUF_INIT;
	struct fuse_entry_param e;
	struct target t;
	char *buf = malloc(size);
	size_t used = 0, len;
	off_t i;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	obj_rdlock();
	for (i = off; i < (off_t)h->nents + 2; i++) {
		const char *name = i == 0 ? "." : "..";

		memset(&e, 0, sizeof(e));
		if (i < 2) {
			e.attr.st_ino = i == 0 ? ino : FUSE_ROOT_ID;
			e.attr.st_mode = S_IFDIR;
		} else {
			/* Gone since opendir: skipped. */
			if (decode(h->ents[i - 2].ino, &t) < 0)
				continue;
			name = target_name(&t);
			if (named_view(&dir)) {
				/* Named now; gone from the view: skipped. */
				if (!view_entry_name(h->obj, h->node, t.o, &entry))
					continue;
				name = entry.buf;
			}
			if (plus) {
				fill_entry(&t, h->ents[i - 2].ino, &e);
				if (named_view(&dir))
					e.entry_timeout = 0;
			} else {
				e.attr.st_ino = h->ents[i - 2].ino;
				e.attr.st_mode = h->ents[i - 2].type;
			}
		}
		if (plus)
			len = fuse_add_direntry_plus(req, buf + used, size - used,
						     name, &e, i + 1);
		else
			len = fuse_add_direntry(req, buf + used, size - used, name,
						&e.attr, i + 1);
		if (len > size - used)
			break;
		used += len;
		/* A readdirplus entry is a lookup to the kernel. */
		if (plus && i >= 2 && is_scratch(&t))
			scratch_looked_up(t.o);
	}
	/* The kernel now caches what it was given. */
	if (plus && !h->node)
		h->obj->looked_up = true;
	obj_unlock();
	fuse_reply_buf(req, buf, used);
	strbuf_release(&entry);
	free(buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	handle_put(handle_of(fi));
	fuse_reply_err(req, 0);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Attributes with every entry of a listing, always. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* `echo x > f` arrives as one open(O_TRUNC), not open + truncate. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Content is never cached, and nothing here is a page to write
	 * back. */
	conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_AUTO_INVAL_DATA);
}

/* The session ends: the kernel has forgotten every inode, without the
 * FORGETs it would otherwise send. */
static void fs_destroy(void *userdata)
{
	scratch_forget_all();
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.destroy = fs_destroy,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.unlink = fs_unlink,
	.rename = fs_rename,
	.create = fs_create,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.statfs = fs_statfs,
	.poll = fs_poll,
};

int fs_serve(struct fuse_args *args, int (*started)(void),
	     void (*stopping)(void))
{
	struct fuse_cmdline_opts opts = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	sigset_t stop, old;
	int rc, status = 1;

	if (fuse_parse_cmdline(args, &opts) != 0)
		return 2;
	if (!opts.mountpoint) {
		fprintf(stderr, "no mountpoint (see --help)\n");
		status = 2;
		goto out;
	}
	se = fuse_session_new(args, &fs_ops, sizeof(fs_ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	if ((rc = fuse_caps_install(se)) < 0) {
		log_error("cannot hook the FUSE device: %s", strerror(-rc));
		goto out_unmount;
	}
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	/* The threads started now never see SIGINT, SIGTERM or SIGHUP, so
	 * that the kernel hands them to a FUSE thread, whose read of
	 * /dev/fuse they interrupt: that is how libfuse's handlers end the
	 * loop. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	rc = notify_start(se);
	if (rc < 0)
		log_error("cannot start the notifier: %s", strerror(-rc));
	else
		rc = started();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		goto out_unmount;
	log_info("serving %s", opts.mountpoint);
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out_unmount;
	fuse_loop_cfg_set_clone_fd(loop, (unsigned int)opts.clone_fd);
	/* UINT_MAX means "not given": keep the loop's default rather than
	 * pass it on (libfuse 3.14.0 logs an error for it). */
	if (opts.max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(loop, opts.max_idle_threads);
	fuse_loop_cfg_set_max_threads(loop, opts.max_threads);
	rc = opts.singlethread ? fuse_session_loop(se) :
				 fuse_session_loop_mt(se, loop);
	status = rc == 0 ? 0 : 1;
	fuse_loop_cfg_destroy(loop);
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	/* Replies still in flight go into a session that is unmounted:
	 * harmless.  The session itself goes last. */
	stopping();
	notify_stop();
	fuse_session_destroy(se);
out:
	free(opts.mountpoint);
	return status;
}
