/*
 * scratch.c - in-memory temporary files (see scratch.h).
 *
 * The directory structure (which names exist) changes under the object
 * write lock, like every other; a scratch file's content and attributes
 * under its own mutex, since they change with every write.
 */
#include "scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "node.h"
#include "obj.h"

struct scratch {
	struct scratch *prev, *next;   /* known: those the kernel knows */
	struct obj *obj;
	pthread_mutex_t lock;
	struct strbuf data;
	mode_t mode;
	struct timespec atime, mtime, ctime;
	atomic_uint_fast64_t nlookup;  /* the kernel's references */
	struct obj *alias;             /* renamed over its node: a reference */
	unsigned alias_node;
};

static void scratch_release(struct obj *o)
{
	struct scratch *sd = o->priv;

	if (!sd)
		return;
	obj_put(sd->alias);
	strbuf_release(&sd->data);
	pthread_mutex_destroy(&sd->lock);
	free(sd);
}

const struct kind scratch_kind = {
	.name = "scratch",
	.mode = S_IFREG,
	.release = scratch_release,
};

static void scratch_remove(struct obj *o, struct wreq *w);

const struct kind scratch_dir_kind = {
	.name = "scratch",
	.mode = S_IFDIR,
	.scratch = true,
	.remove = scratch_remove,
	.release = scratch_release,
};

bool scratch_is(const struct obj *o)
{
	return o->kind == &scratch_kind || o->kind == &scratch_dir_kind;
}

static struct scratch *data_of(struct obj *o)
{
	return o->priv;
}

/* Is name one of dir's own entries? */
static bool is_entry(const struct obj *dir, const char *name)
{
	unsigned i;

	for (i = 0; i < dir->kind->nnodes; i++)
		if (strcmp(dir->kind->nodes[i].name, name) == 0)
			return true;
	return false;
}

/* Creates dir/name of kind k (a file or a directory). */
static int create(const struct kind *k, struct obj *dir, const char *name,
		  mode_t mode, uid_t uid, gid_t gid, struct obj **out)
{
	struct scratch *sd;
	struct coll *c;
	struct obj *o;
	int rc = 0;

	obj_wrlock();
	c = obj_scratch_coll(dir, &scratch_kind);
	if (dir->dead) {
		rc = -ENOENT;
	} else if (!c) {
		rc = -ENOMEM;
	} else if (is_entry(dir, name) || coll_find(c, name)) {
		rc = -EEXIST;
	} else if (c->count >= SCRATCH_MAX_PER_DIR) {
		rc = -ENOSPC;
	}
	if (rc < 0)
		goto out;
	o = obj_new(k, name, NULL);
	sd = calloc(1, sizeof(*sd));
	if (!o || !sd) {
		free(sd);
		obj_put(o);
		rc = -ENOMEM;
		goto out;
	}
	pthread_mutex_init(&sd->lock, NULL);
	strbuf_init(&sd->data, 0);
	sd->mode = mode & 07777;
	clock_gettime(CLOCK_REALTIME, &sd->mtime);
	sd->atime = sd->ctime = sd->mtime;
	o->priv = sd;
	o->uid = uid;
	o->gid = gid;
	obj_get(o);             /* the caller's; obj_new's goes to c */
	obj_link(c, o);
	*out = o;
out:
	obj_unlock();
	return rc;
}

int scratch_create(struct obj *dir, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, struct obj **out)
{
	return create(&scratch_kind, dir, name, mode, uid, gid, out);
}

int scratch_mkdir(struct obj *dir, const char *name, mode_t mode, uid_t uid,
		  gid_t gid, struct obj **out)
{
	if (dir->kind == &scratch_dir_kind)
		return -EPERM;
	return create(&scratch_dir_kind, dir, name, mode, uid, gid, out);
}

/* rmdir of a scratch directory: at once, once it is empty. */
static void scratch_remove(struct obj *o, struct wreq *w)
{
	int rc = 0;

	obj_wrlock();
	if (o->dead)
		rc = -ENOENT;
	else if (o->scratch && o->scratch->count)
		rc = -ENOTEMPTY;
	else
		obj_unlink(o);
	obj_reap();
	obj_unlock();
	wreq_done(w, rc);
}

int scratch_unlink(struct obj *dir, const char *name)
{
	struct obj *o;
	int rc = 0;

	obj_wrlock();
	o = coll_find(dir->scratch, name);
	if (o)
		obj_unlink(o);
	else
		rc = -ENOENT;
	obj_reap();
	obj_unlock();
	return rc;
}

int scratch_rename(struct obj *dir, const char *from, const char *to,
		   bool noreplace)
{
	struct obj *o, *old;
	char *name;
	int rc = 0;

	obj_wrlock();
	o = coll_find(dir->scratch, from);
	old = coll_find(dir->scratch, to);
	if (!o)
		rc = -ENOENT;
	else if (old && old != o && noreplace)
		rc = -EEXIST;
	else if (!(name = strdup(to)))
		rc = -ENOMEM;
	if (rc < 0 || o == old)
		goto out;
	if (old)
		obj_unlink(old);
	hash_remove(&dir->scratch->by_name, &o->by_name);
	free(o->name);
	o->name = name;
	hash_add(&dir->scratch->by_name, &o->by_name, hash_str(name));
out:
	obj_unlock();
	return rc;
}

void scratch_content(struct obj *s, struct strbuf *out)
{
	struct scratch *sd = data_of(s);

	pthread_mutex_lock(&sd->lock);
	strbuf_add(out, sd->data.buf, sd->data.len);
	pthread_mutex_unlock(&sd->lock);
}

void scratch_stat(struct obj *s, struct stat *st)
{
	struct scratch *sd = data_of(s);

	pthread_mutex_lock(&sd->lock);
	st->st_mode = (s->kind->mode & S_IFMT) | sd->mode;
	st->st_nlink = S_ISDIR(s->kind->mode) ? 2 : 1;
	st->st_size = (off_t)sd->data.len;
	st->st_atim = sd->atime;
	st->st_mtim = sd->mtime;
	st->st_ctim = sd->ctime;
	pthread_mutex_unlock(&sd->lock);
	st->st_uid = s->uid;
	st->st_gid = s->gid;
}

/* Sets the length to size, zero-filling growth (as ftruncate does). */
static int set_size(struct scratch *sd, off_t size)
{
	size_t old = sd->data.len;

	if (size < 0 || size > SCRATCH_MAX_SIZE)
		return -EFBIG;
	if ((size_t)size > old) {
		strbuf_grow(&sd->data, (size_t)size - old);
		memset(sd->data.buf + old, 0, (size_t)size - old);
	}
	strbuf_setlen(&sd->data, (size_t)size);
	return 0;
}

int scratch_setattr(struct obj *s, const struct stat *attr, int to_set)
{
	struct scratch *sd = data_of(s);
	struct timespec now;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&sd->lock);
	if (to_set & FUSE_SET_ATTR_SIZE)
		rc = set_size(sd, attr->st_size);
	if (to_set & FUSE_SET_ATTR_MODE)
		sd->mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_ATIME)
		sd->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		sd->atime = now;
	if (to_set & FUSE_SET_ATTR_MTIME)
		sd->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		sd->mtime = now;
	if (to_set & FUSE_SET_ATTR_SIZE)
		sd->mtime = now;
	sd->ctime = now;
	pthread_mutex_unlock(&sd->lock);
	/* Owners change under the object lock, where readers look. */
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		obj_wrlock();
		if (to_set & FUSE_SET_ATTR_UID)
			s->uid = attr->st_uid;
		if (to_set & FUSE_SET_ATTR_GID)
			s->gid = attr->st_gid;
		obj_unlock();
	}
	return rc;
}

static int scratch_open(struct obj *o, const struct node *n, struct handle *h)
{
	struct scratch *sd = data_of(o);

	if (h->flags & O_TRUNC) {
		pthread_mutex_lock(&sd->lock);
		set_size(sd, 0);
		pthread_mutex_unlock(&sd->lock);
	}
	return 0;
}

static void scratch_read(fuse_req_t req, struct handle *h, size_t size,
			 off_t off)
{
	struct scratch *sd = data_of(h->obj);
	size_t n = 0;

	pthread_mutex_lock(&sd->lock);
	if ((size_t)off < sd->data.len) {
		n = sd->data.len - (size_t)off;
		if (n > size)
			n = size;
	}
	fuse_reply_buf(req, sd->data.buf + (n ? off : 0), n);
	clock_gettime(CLOCK_REALTIME, &sd->atime);
	pthread_mutex_unlock(&sd->lock);
}

static void scratch_write(fuse_req_t req, struct handle *h, const char *buf,
			  size_t size, off_t off)
{
	struct scratch *sd = data_of(h->obj);
	size_t end = (size_t)off + size;
	int rc = 0;

	if (off < 0 || end > SCRATCH_MAX_SIZE) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	pthread_mutex_lock(&sd->lock);
	if (h->flags & O_APPEND)
		off = (off_t)sd->data.len, end = sd->data.len + size;
	if (end > SCRATCH_MAX_SIZE)
		rc = -EFBIG;
	else if (end > sd->data.len)
		set_size(sd, (off_t)end);
	if (rc == 0) {
		memcpy(sd->data.buf + off, buf, size);
		clock_gettime(CLOCK_REALTIME, &sd->mtime);
		sd->ctime = sd->mtime;
	}
	pthread_mutex_unlock(&sd->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

static void scratch_flush(fuse_req_t req, struct handle *h)
{
	fuse_reply_err(req, 0);
}

static void scratch_truncate(struct obj *o, const struct node *n,
			     struct handle *h, off_t size, struct wreq *w)
{
	struct stat attr = { .st_size = size };

	wreq_done(w, scratch_setattr(o, &attr, FUSE_SET_ATTR_SIZE));
}

static void scratch_getattr(struct obj *o, const struct node *n,
			    struct stat *st)
{
	scratch_stat(o, st);
}

const struct node_ops node_scratch_ops = {
	.getattr = scratch_getattr,
	.open = scratch_open,
	.read = scratch_read,
	.write = scratch_write,
	.flush = scratch_flush,
	.truncate = scratch_truncate,
};

/* The scratch files the kernel holds references to, so that unmounting
 * (after which the kernel sends no FORGET) can let go of them. */
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *known;

void scratch_looked_up(struct obj *s)
{
	struct scratch *sd = data_of(s);

	/* While the kernel knows the inode, the object stays. */
	if (atomic_fetch_add(&sd->nlookup, 1) != 0)
		return;
	obj_get(s);
	pthread_mutex_lock(&known_lock);
	sd->obj = s;
	sd->prev = NULL;
	sd->next = known;
	if (known)
		known->prev = sd;
	known = sd;
	pthread_mutex_unlock(&known_lock);
}

/* The kernel no longer knows s. */
static void unknown(struct scratch *sd)
{
	pthread_mutex_lock(&known_lock);
	if (sd->prev)
		sd->prev->next = sd->next;
	else
		known = sd->next;
	if (sd->next)
		sd->next->prev = sd->prev;
	pthread_mutex_unlock(&known_lock);
	obj_put(sd->obj);
}

void scratch_forget_all(void)
{
	struct scratch *sd;

	for (;;) {
		pthread_mutex_lock(&known_lock);
		sd = known;
		pthread_mutex_unlock(&known_lock);
		if (!sd)
			break;
		atomic_store(&sd->nlookup, 0);
		unknown(sd);
	}
}

void scratch_forget(struct obj *s, uint64_t n)
{
	struct scratch *sd = data_of(s);
	uint_fast64_t left = atomic_load(&sd->nlookup);

	do {
		if (left == 0)
			return; /* nothing of ours to forget */
	} while (!atomic_compare_exchange_weak(&sd->nlookup, &left,
					       left > n ? left - n : 0));
	if (left <= n)
		unknown(sd);
}

void scratch_become_alias(struct obj *s, struct obj *dir, unsigned node)
{
	struct scratch *sd = data_of(s);

	obj_get(dir);
	sd->alias = dir;
	sd->alias_node = node;
	if (!s->dead)
		obj_unlink(s);
}

bool scratch_alias(const struct obj *s, struct obj **dir, unsigned *node)
{
	const struct scratch *sd = s->priv;

	if (s->kind != &scratch_kind || !sd || !sd->alias)
		return false;
	*dir = sd->alias;
	*node = sd->alias_node;
	return true;
}
