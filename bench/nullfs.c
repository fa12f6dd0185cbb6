/*
 * nullfs.c - the null FUSE floor: novafs's tree served from memory.
 *
 * usage: nullfs [FUSE options] [--instances N] [--timeout SECONDS] MOUNTPOINT
 *
 * A benchmark target of novafs is a ratio to this: the same tree (README
 * "The tree"), the same libfuse options novafs uses (low-level API, kernel
 * caching of names and attributes for --timeout seconds, readdirplus,
 * direct_io on every file, atomic O_TRUNC, no xattrs, a multi-threaded
 * loop without clone_fd), and no work behind any request.  Whatever
 * novafs spends beyond this is its own: store, locks, rendering, the bus.
 *
 * --instances N pre-creates i00000, i00001, ...; mkdir and rmdir in
 * instances/ add and remove instances; writes to ctl are discarded, writes
 * to flavor are kept and read back.  There are no temporary files (create
 * fails with ENOSYS): renames over flavor are not part of the floor.  Runs
 * in the foreground until unmounted (fusermount3 -u) or SIGINT/SIGTERM.
 *
 * Built by the Makefile (build/bench/nullfs), or by hand:
 *   gcc -std=c11 -D_GNU_SOURCE -DFUSE_USE_VERSION=314 -O2 \
 *       $(pkg-config --cflags fuse3) -o nullfs nullfs.c \
 *       $(pkg-config --libs fuse3) -pthread
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

/* Callbacks have libfuse's signatures, used or not (the Makefile passes
 * -Wno-unused-parameter; this keeps a plain -Wextra build quiet too). */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NAME_MAX_LEN 63
#define FLAVOR_MAX 4096     /* a flavor name, with room for tools' slack */

/*
 * Inode numbers are arithmetic, so that every lookup is O(1) and a number
 * always means the same entry: the fixed nodes have fixed numbers, and
 * instance slot s owns [INO_SLOT0 + s * SLOT_INOS, +SLOT_INOS), its
 * directory first, then inst_entries[] in order.  Slots are never reused,
 * so a removed instance's numbers never come back (the kernel may still
 * hold them), and forget needs no bookkeeping.
 */
enum {
	INO_ROOT = 1,
	INO_INSTANCES,
	INO_FLAVORS,
	INO_EVENTS,
	INO_FLAVOR0 = 8,          /* the 4 flavor directories */
	INO_FLAVOR_FILE0 = 16,    /* their 3 files each */
	INO_SLOT0 = 64,
	SLOT_INOS = 16,
};

/* A fixed entry: name, type and mode, and content for a regular file. */
struct entry {
	const char *name;
	mode_t mode;
	const char *text;
};

static const struct entry root_entries[] = {
	{ "instances", S_IFDIR | 01777, NULL },
	{ "flavors", S_IFDIR | 0555, NULL },
	{ "events", S_IFREG | 0444, "" },
};

/* flavor and ctl have no fixed text: flavor is the slot's, ctl unreadable. */
static const struct entry inst_entries[] = {
	{ "ctl", S_IFREG | 0200, NULL },
	{ "state", S_IFREG | 0444, "stopped\n" },
	{ "task", S_IFREG | 0444, "none\n" },
	{ "power_state", S_IFREG | 0444, "shutdown\n" },
	{ "host", S_IFREG | 0444, "" },
	{ "id", S_IFREG | 0444, "6f1c3b2e-4a5d-4e8f-9b7a-2c1d0e9f8a7b\n" },
	{ "fault", S_IFREG | 0444, "" },
	{ "flavor", S_IFREG | 0644, NULL },
	{ "actions", S_IFDIR | 0755, NULL },
	{ "wait", S_IFREG | 0444, "stopped\n" },
};
enum { INST_CTL = 1, INST_FLAVOR = 8, INST_NENTRIES = 10 };

static const char *const flavor_names[] = { "m1.tiny", "m1.small", "m1.medium", "m1.large" };
static const char *const flavor_keys[] = { "vcpus", "memory_mb", "disk_gb" };
static const char *const flavor_values[4][3] = {
	{ "1\n", "512\n", "1\n" },
	{ "1\n", "2048\n", "20\n" },
	{ "2\n", "4096\n", "40\n" },
	{ "4\n", "8192\n", "80\n" },
};

/* One instance.  Its index in the slot array is fixed for its lifetime. */
struct slot {
	char name[NAME_MAX_LEN + 1];
	bool live;
	uid_t uid;
	gid_t gid;
	struct timespec ctime;
	char *flavor;           /* malloc'd, flavor_len bytes, or NULL */
	size_t flavor_len;
	uint32_t next;          /* hash chain: next slot + 1, 0 ends it */
};

/*
 * The instance table, guarded by one rwlock: requests read in parallel,
 * mkdir/rmdir/writes take it exclusively.  The hash maps names of live
 * slots (chained through slot.next, buckets hold slot + 1).  A struct
 * slot pointer is only good while the lock is held (slots is realloc'd).
 */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct slot *slots;
static uint32_t nslots, slots_alloc;
static uint32_t *buckets;
static uint32_t nbuckets, nlive;

/* Set once before mounting. */
static double timeout = 1.0;
static struct timespec start_time;
static uid_t owner_uid;         /* of the fixed nodes: whoever mounted */
static gid_t owner_gid;

/* What a node is, resolved from its inode number under the lock. */
struct node {
	mode_t mode;
	const char *text;       /* fixed content, or NULL */
	struct slot *slot;      /* the instance owning it, or NULL */
	int entry;              /* index + 1 in inst_entries, 0 for its dir */
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct slot *slot_find(const char *name)
{
	uint32_t i;

	if (!nbuckets)
		return NULL;
	for (i = buckets[name_hash(name) & (nbuckets - 1)]; i; i = slots[i - 1].next)
		if (strcmp(slots[i - 1].name, name) == 0)
			return &slots[i - 1];
	return NULL;
}

static void bucket_insert(uint32_t s)
{
	uint32_t *head = &buckets[name_hash(slots[s].name) & (nbuckets - 1)];

	slots[s].next = *head;
	*head = s + 1;
}

/* Keeps the load at or below 1 so a lookup costs the same at any size. */
static int buckets_grow(void)
{
	uint32_t n = nbuckets ? nbuckets * 2 : 1024, s;
	uint32_t *b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	free(buckets);
	buckets = b;
	nbuckets = n;
	for (s = 0; s < nslots; s++)
		if (slots[s].live)
			bucket_insert(s);
	return 0;
}

static bool name_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= NAME_MAX_LEN &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == len;
}

/* Adds a live instance; the caller holds the lock exclusively.  Returns
 * the slot, or NULL with *err set (-EEXIST, -EINVAL, -ENOMEM). */
static struct slot *slot_add(const char *name, uid_t uid, gid_t gid, int *err)
{
	struct slot *s;

	*err = -EINVAL;
	if (!name_valid(name))
		return NULL;
	*err = -EEXIST;
	if (slot_find(name))
		return NULL;
	*err = -ENOMEM;
	if (nslots == slots_alloc) {
		uint32_t n = slots_alloc ? slots_alloc * 2 : 1024;
		struct slot *p = realloc(slots, n * sizeof(*p));

		if (!p)
			return NULL;
		slots = p;
		slots_alloc = n;
	}
	if (nlive + 1 > nbuckets && buckets_grow() < 0)
		return NULL;
	s = &slots[nslots];
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->live = true;
	s->uid = uid;
	s->gid = gid;
	clock_gettime(CLOCK_REALTIME, &s->ctime);
	bucket_insert(nslots);
	nslots++;
	nlive++;
	*err = 0;
	return s;
}

static void slot_remove(struct slot *s)
{
	uint32_t *p = &buckets[name_hash(s->name) & (nbuckets - 1)];

	while (*p != (uint32_t)(s - slots) + 1)
		p = &slots[*p - 1].next;
	*p = s->next;
	s->live = false;
	free(s->flavor);
	s->flavor = NULL;
	s->flavor_len = 0;
	nlive--;
}

static fuse_ino_t slot_ino(const struct slot *s, int entry)
{
	return INO_SLOT0 + (fuse_ino_t)(s - slots) * SLOT_INOS + (fuse_ino_t)entry;
}

/* Resolves ino; the caller holds the lock.  Returns 0 or -ENOENT. */
static int node_get(fuse_ino_t ino, struct node *n)
{
	memset(n, 0, sizeof(*n));
	if (ino == INO_ROOT) {
		n->mode = S_IFDIR | 0755;
	} else if (ino >= INO_INSTANCES && ino <= INO_EVENTS) {
		n->mode = root_entries[ino - INO_INSTANCES].mode;
		n->text = root_entries[ino - INO_INSTANCES].text;
	} else if (ino >= INO_FLAVOR0 && ino < INO_FLAVOR0 + 4) {
		n->mode = S_IFDIR | 0555;
	} else if (ino >= INO_FLAVOR_FILE0 && ino < INO_FLAVOR_FILE0 + 12) {
		n->mode = S_IFREG | 0444;
		n->text = flavor_values[(ino - INO_FLAVOR_FILE0) / 3][(ino - INO_FLAVOR_FILE0) % 3];
	} else if (ino >= INO_SLOT0) {
		uint64_t s = (ino - INO_SLOT0) / SLOT_INOS;

		n->entry = (int)((ino - INO_SLOT0) % SLOT_INOS);
		if (s >= nslots || !slots[s].live || n->entry > INST_NENTRIES)
			return -ENOENT;
		n->slot = &slots[s];
		n->mode = n->entry ? inst_entries[n->entry - 1].mode : S_IFDIR | 0755;
		n->text = n->entry ? inst_entries[n->entry - 1].text : NULL;
	} else {
		return -ENOENT;
	}
	return 0;
}

static void node_stat(fuse_ino_t ino, const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_uid = n->slot ? n->slot->uid : owner_uid;
	st->st_gid = n->slot ? n->slot->gid : owner_gid;
	if (n->entry == INST_FLAVOR)
		st->st_size = (off_t)n->slot->flavor_len;
	else if (n->text)
		st->st_size = (off_t)strlen(n->text);
	st->st_atim = st->st_mtim = st->st_ctim = n->slot ? n->slot->ctime : start_time;
}

/*
 * The child at position idx of directory ino (the caller holds the lock):
 * returns 1 and sets *name and *child, 0 when idx is a removed instance
 * (skip it), -1 past the end.  Readdir offsets are these positions, so
 * they stay valid across mkdir and rmdir; lookup uses it for the small
 * fixed directories.
 */
static int dir_child(fuse_ino_t ino, const struct node *n, uint64_t idx,
		     const char **name, fuse_ino_t *child)
{
	if (ino == INO_ROOT && idx < 3) {
		*name = root_entries[idx].name;
		*child = INO_INSTANCES + idx;
	} else if (ino == INO_INSTANCES && idx < nslots) {
		if (!slots[idx].live)
			return 0;
		*name = slots[idx].name;
		*child = slot_ino(&slots[idx], 0);
	} else if (ino == INO_FLAVORS && idx < 4) {
		*name = flavor_names[idx];
		*child = INO_FLAVOR0 + idx;
	} else if (ino >= INO_FLAVOR0 && ino < INO_FLAVOR0 + 4 && idx < 3) {
		*name = flavor_keys[idx];
		*child = INO_FLAVOR_FILE0 + (ino - INO_FLAVOR0) * 3 + idx;
	} else if (n->slot && n->entry == 0 && idx < INST_NENTRIES) {
		*name = inst_entries[idx].name;
		*child = slot_ino(n->slot, (int)idx + 1);
	} else {
		return -1;
	}
	return 1;
}

static void fill_entry(fuse_ino_t ino, const struct node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = timeout;
	e->entry_timeout = timeout;
	node_stat(ino, n, &e->attr);
}

/* The child of parent called name: 0 and *child, or -ENOENT/-ENOTDIR. */
static int lookup_locked(fuse_ino_t parent, const char *name, fuse_ino_t *child)
{
	struct node pn;
	const char *cname;
	uint64_t idx;
	int r;

	if (node_get(parent, &pn) < 0)
		return -ENOENT;
	if (!S_ISDIR(pn.mode))
		return -ENOTDIR;
	if (parent == INO_INSTANCES) {
		struct slot *s = slot_find(name);

		if (!s)
			return -ENOENT;
		*child = slot_ino(s, 0);
		return 0;
	}
	for (idx = 0; (r = dir_child(parent, &pn, idx, &cname, child)) >= 0; idx++)
		if (r && strcmp(cname, name) == 0)
			return 0;
	return -ENOENT;
}

static void nullfs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Always readdirplus, so one listing fills the attribute cache. */
	if (conn->capable & FUSE_CAP_READDIRPLUS) {
		conn->want |= FUSE_CAP_READDIRPLUS;
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	}
	/* `echo x > f` is one open(O_TRUNC), not an open and a truncate. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

static void nullfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct node n;
	fuse_ino_t ino = 0;
	int r;

	pthread_rwlock_rdlock(&lock);
	r = lookup_locked(parent, name, &ino);
	if (r == 0) {
		node_get(ino, &n);
		fill_entry(ino, &n, &e);
	}
	pthread_rwlock_unlock(&lock);
	/* A plain error: negative entries are not cached (timeout 0). */
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void nullfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	struct node n;
	int r;

	pthread_rwlock_rdlock(&lock);
	r = node_get(ino, &n);
	if (r == 0)
		node_stat(ino, &n, &st);
	pthread_rwlock_unlock(&lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, timeout);
}

/* Sets flavor's length, zero-filling a gap; the lock is held exclusively. */
static int flavor_resize(struct slot *s, size_t len)
{
	char *p;

	if (len > FLAVOR_MAX)
		return -EFBIG;
	if (len > s->flavor_len) {
		p = realloc(s->flavor, len);
		if (!p)
			return -ENOMEM;
		memset(p + s->flavor_len, 0, len - s->flavor_len);
		s->flavor = p;
	}
	s->flavor_len = len;
	return 0;
}

/* chmod, chown and utimens succeed and change nothing (README: config
 * tools call them and must not fail); a size applies to flavor. */
static void nullfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			   int to_set, struct fuse_file_info *fi)
{
	struct stat st;
	struct node n;
	int r;

	pthread_rwlock_wrlock(&lock);
	r = node_get(ino, &n);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		if (n.entry == INST_FLAVOR)
			r = flavor_resize(n.slot, (size_t)attr->st_size);
		else if (!(n.mode & S_IWUSR))
			r = -EACCES;
	}
	if (r == 0)
		node_stat(ino, &n, &st);
	pthread_rwlock_unlock(&lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, timeout);
}

/*
 * Modes are the kernel's to check (default_permissions); this refuses
 * what it lets root do: write a read-only file, read ctl.
 */
static void nullfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	bool trunc = fi->flags & O_TRUNC;
	struct node n;
	int r;

	/* Only a truncating open changes anything: readers open in parallel. */
	if (trunc)
		pthread_rwlock_wrlock(&lock);
	else
		pthread_rwlock_rdlock(&lock);
	r = node_get(ino, &n);
	if (r == 0 && S_ISDIR(n.mode))
		r = -EISDIR;
	else if (r == 0 && acc != O_RDONLY && !(n.mode & S_IWUSR))
		r = -EACCES;
	else if (r == 0 && acc != O_WRONLY && !(n.mode & S_IRUSR))
		r = -EACCES;
	else if (r == 0 && trunc && n.entry == INST_FLAVOR)
		r = flavor_resize(n.slot, 0);
	pthread_rwlock_unlock(&lock);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* Content is dynamic in novafs: no page cache.  A read-only open
	 * has nothing to flush, so spare close() its FLUSH round trip. */
	fi->direct_io = 1;
	fi->noflush = acc == O_RDONLY;
	fuse_reply_open(req, fi);
}

static void nullfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	const char *data = NULL;
	size_t len = 0;
	struct node n;
	int r;

	pthread_rwlock_rdlock(&lock);
	r = node_get(ino, &n);
	if (r == 0 && n.entry == INST_FLAVOR) {
		data = n.slot->flavor;
		len = n.slot->flavor_len;
	} else if (r == 0 && n.text) {
		data = n.text;
		len = strlen(n.text);
	}
	/* Replied under the lock: flavor may be rewritten once it is free. */
	if (r < 0)
		fuse_reply_err(req, -r);
	else if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, data + off, len - (size_t)off < size ? len - (size_t)off : size);
	pthread_rwlock_unlock(&lock);
}

static void nullfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			 size_t size, off_t off, struct fuse_file_info *fi)
{
	struct node n;
	int r;

	pthread_rwlock_wrlock(&lock);
	r = node_get(ino, &n);
	if (r == 0 && n.entry == INST_FLAVOR) {
		if ((size_t)off + size > n.slot->flavor_len)
			r = flavor_resize(n.slot, (size_t)off + size);
		if (r == 0)
			memcpy(n.slot->flavor + off, buf, size);
	} else if (r == 0 && n.entry != INST_CTL) {
		r = -EACCES;
	}
	pthread_rwlock_unlock(&lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

/* novafs reports errors at close() through flush, so writers pay for it
 * here too; without a handler the kernel would stop sending FLUSH. */
static void nullfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	char *buf = malloc(size);
	size_t used = 0, need;
	struct fuse_entry_param e;
	struct node n, cn;
	const char *name;
	fuse_ino_t child;
	uint64_t idx;
	int r;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_rwlock_rdlock(&lock);
	r = node_get(ino, &n);
	if (r == 0 && !S_ISDIR(n.mode))
		r = -ENOTDIR;
	/* Positions 0 and 1 are . and .., then dir_child(idx - 2); an
	 * entry's offset is the position after it. */
	for (idx = (uint64_t)off; r == 0; idx++) {
		if (idx < 2) {
			/* ino 0: no lookup for . and .. (the kernel skips them). */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = ino;
			e.attr.st_mode = S_IFDIR;
			name = idx ? ".." : ".";
		} else {
			int c = dir_child(ino, &n, idx - 2, &name, &child);

			if (c < 0)
				break;
			if (c == 0)
				continue;
			node_get(child, &cn);
			fill_entry(child, &cn, &e);
		}
		need = plus ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e, (off_t)idx + 1)
			    : fuse_add_direntry(req, buf + used, size - used, name, &e.attr, (off_t)idx + 1);
		if (need > size - used)
			break;
		used += need;
	}
	pthread_rwlock_unlock(&lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void nullfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

static void nullfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}

static void nullfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct slot *s;
	struct node n;
	int r = -EPERM;

	pthread_rwlock_wrlock(&lock);
	if (parent == INO_INSTANCES) {
		s = slot_add(name, ctx->uid, ctx->gid, &r);
		if (s) {
			node_get(slot_ino(s, 0), &n);
			fill_entry(slot_ino(s, 0), &n, &e);
		}
	}
	pthread_rwlock_unlock(&lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void nullfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct slot *s;
	int r = -EPERM;

	pthread_rwlock_wrlock(&lock);
	if (parent == INO_INSTANCES) {
		s = slot_find(name);
		r = s ? 0 : -ENOENT;
		if (s)
			slot_remove(s);
	}
	pthread_rwlock_unlock(&lock);
	fuse_reply_err(req, -r);
}

/* Files of the tree cannot be removed (README "Errors"). */
static void nullfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EPERM);
}

/*
 * No getxattr/listxattr: libfuse answers ENOSYS and the kernel never asks
 * again.  No forget: inode numbers are never reused (see INO_SLOT0), so
 * lookup counts need not be kept; libfuse answers forgets itself.
 */
static const struct fuse_lowlevel_ops nullfs_ops = {
	.init = nullfs_init,
	.lookup = nullfs_lookup,
	.getattr = nullfs_getattr,
	.setattr = nullfs_setattr,
	.open = nullfs_open,
	.read = nullfs_read,
	.write = nullfs_write,
	.flush = nullfs_flush,
	.readdir = nullfs_readdir,
	.readdirplus = nullfs_readdirplus,
	.mkdir = nullfs_mkdir,
	.rmdir = nullfs_rmdir,
	.unlink = nullfs_unlink,
};

struct options {
	unsigned int instances;
	double timeout;
};

static const struct fuse_opt option_spec[] = {
	{ "--instances %u", offsetof(struct options, instances), 0 },
	{ "--timeout %lf", offsetof(struct options, timeout), 0 },
	FUSE_OPT_END
};

static int populate(unsigned int n)
{
	char name[16];
	unsigned int i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		snprintf(name, sizeof(name), "i%05u", i);
		slot_add(name, owner_uid, owner_gid, &r);
	}
	return r;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opt = { .instances = 0, .timeout = 1.0 };
	struct fuse_cmdline_opts opts = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	bool signals = false, mounted = false;
	int ret = 1;

	if (fuse_opt_parse(&args, &opt, option_spec, NULL) != 0 ||
	    fuse_parse_cmdline(&args, &opts) != 0)
		goto out;
	if (opts.show_help || !opts.mountpoint) {
		printf("usage: %s [FUSE options] [--instances N] [--timeout SECONDS] MOUNTPOINT\n",
		       argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = opts.show_help ? 0 : 1;
		goto out;
	}
	if (opt.timeout < 0) {
		fprintf(stderr, "nullfs: --timeout must not be negative\n");
		goto out;
	}
	timeout = opt.timeout;
	clock_gettime(CLOCK_REALTIME, &start_time);
	owner_uid = getuid();
	owner_gid = getgid();
	if (populate(opt.instances) < 0) {
		fprintf(stderr, "nullfs: out of memory creating %u instances\n", opt.instances);
		goto out;
	}
	se = fuse_session_new(&args, &nullfs_ops, sizeof(nullfs_ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	signals = true;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out;
	mounted = true;
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out;
	fuse_loop_cfg_set_clone_fd(loop, 0);
	/* UINT_MAX is "not given": 3.14.0 logs an error if it is passed on. */
	if (opts.max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(loop, opts.max_idle_threads);
	fuse_loop_cfg_set_max_threads(loop, opts.max_threads);
	ret = fuse_session_loop_mt(se, loop) == 0 ? 0 : 1;
out:
	fuse_loop_cfg_destroy(loop);
	if (mounted)
		fuse_session_unmount(se);
	if (signals)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
