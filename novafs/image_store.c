/*
 * image_store.c - the image store and its transfers (see image_store.h).
 *
 * A transfer is one coordinating thread and two hashing threads, under
 * one lock.  Bytes arrive from a writer (xfer_write, on FUSE threads) or
 * from the coordinator's copy of an import's source; `end` is how far they
 * are complete from offset 0, and each hasher follows it, reading them
 * back from the page cache.  The first failure (a write refused by the
 * disk, content that is not what it claims, the image deleted) is kept in
 * err and why, stops everyone, and is what every later write gets.
 */
#include "image_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <nettle/md5.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha2.h>

#include "common/uuid.h"

#define CHUNK (1024 * 1024)          /* read back and hashed at a time */
#define COPY_CHUNK (8 * 1024 * 1024) /* an import's copy_file_range */
#define PART_PREFIX "."
#define PART_SUFFIX ".part"
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

/* At most PATH_MAX / 2 bytes (main checks): a file's path fits. */
static char store_dir[PATH_MAX / 2 + 1];

struct hasher {
	struct xfer *x;
	const struct nettle_hash *alg;
	union {
		struct sha256_ctx sha256;
		struct md5_ctx md5;
	} ctx;
	uint64_t off;                /* [0, off) hashed */
	pthread_t thread;
};

struct xfer {
	atomic_uint refs;
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* any change of the fields below */
	char uuid[UUID_STR_LEN];
	int want;
	uint64_t max_bytes;
	const struct xfer_ops *ops;
	void *ctx;
	int fd;                      /* the part file, or -1 */
	uint64_t end;                /* [0, end) arrived, in order */
	uint64_t bytes;              /* how many arrived in all */
	uint64_t total;              /* an import's source size */
	bool in_order;               /* every byte so far came at end */
	bool touched;                /* something was written or truncated */
	bool closed;                 /* no more bytes will come */
	bool probed;                 /* the head was checked as it came */
	int sync_err;                /* how fsync of the part file went */
	int err;                     /* the first failure, -errno */
	char why[IMGSTORE_WHY_MAX];
	struct hasher h[2];
	/* an import */
	char *src_path;
	struct xfer_creds creds;
	int src;
};

/* --- the store --- */

void imgstore_set_dir(const char *dir)
{
	snprintf(store_dir, sizeof(store_dir), "%s", dir);
}

int imgstore_path(const char *uuid, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s", store_dir, uuid) < len ?
		       0 : -ENAMETOOLONG;
}

int imgstore_part_path(const char *uuid, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/" PART_PREFIX "%s" PART_SUFFIX,
				store_dir, uuid) < len ? 0 : -ENAMETOOLONG;
}

void imgstore_remove(const char *uuid)
{
	char path[PATH_MAX];

	if (imgstore_part_path(uuid, path, sizeof(path)) == 0)
		unlink(path);
	if (imgstore_path(uuid, path, sizeof(path)) == 0)
		unlink(path);
}

/* Whether name is NAME (a UUID) or .NAME.part, with *uuid the UUID. */
static bool store_name(const char *name, char uuid[UUID_STR_LEN], bool *part)
{
	size_t len = strlen(name);

	*part = len == UUID_STR_LEN - 1 + strlen(PART_PREFIX PART_SUFFIX) &&
		strncmp(name, PART_PREFIX, strlen(PART_PREFIX)) == 0 &&
		strcmp(name + len - strlen(PART_SUFFIX), PART_SUFFIX) == 0;
	if (*part)
		name += strlen(PART_PREFIX);
	else if (len != UUID_STR_LEN - 1)
		return false;
	memcpy(uuid, name, UUID_STR_LEN - 1);
	uuid[UUID_STR_LEN - 1] = '\0';
	return strspn(uuid, "0123456789abcdef-") == UUID_STR_LEN - 1;
}

int imgstore_sweep(bool (*keep)(const char *uuid, void *ctx), void *ctx)
{
	char uuid[UUID_STR_LEN];
	struct dirent *de;
	DIR *d = opendir(store_dir);
	bool part;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (store_name(de->d_name, uuid, &part) && (part || !keep(uuid, ctx)) &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	closedir(d);
	return n;
}

/* --- a transfer's state --- */

static void fail(struct xfer *x, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct xfer *x, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&x->lock);
	if (!x->err) {
		x->err = err;
		va_start(ap, fmt);
		vsnprintf(x->why, sizeof(x->why), fmt, ap);
		va_end(ap);
	}
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/* x's failure so far (0 when none), its reason copied into why. */
static int failure(struct xfer *x, char *why, size_t whylen)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = x->err;
	if (err)
		snprintf(why, whylen, "%s", x->why);
	pthread_mutex_unlock(&x->lock);
	return err;
}

static struct xfer *xfer_new(const struct xfer_params *p)
{
	struct xfer *x = calloc(1, sizeof(*x));
	unsigned i;

	if (!x)
		return NULL;
	atomic_init(&x->refs, 1);
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cond, NULL);
	snprintf(x->uuid, sizeof(x->uuid), "%s", p->uuid);
	x->want = p->want;
	x->max_bytes = p->max_bytes;
	x->ops = p->ops;
	x->ctx = p->ctx;
	x->fd = -1;
	x->src = -1;
	x->in_order = true;
	x->h[0].alg = &nettle_sha256;
	x->h[1].alg = &nettle_md5;
	for (i = 0; i < 2; i++)
		x->h[i].x = x;
	return x;
}

void xfer_put(struct xfer *x)
{
	if (!x || atomic_fetch_sub(&x->refs, 1) != 1)
		return;
	if (x->fd >= 0)
		close(x->fd);
	if (x->src >= 0)
		close(x->src);
	free(x->src_path);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->cond);
	free(x);
}

static int create_part(struct xfer *x, char *why, size_t whylen)
{
	char path[PATH_MAX];
	int rc = imgstore_part_path(x->uuid, path, sizeof(path));

	if (rc == 0 && (x->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
				     0600)) < 0)
		rc = -errno;
	if (rc < 0)
		snprintf(why, whylen, "cannot create %.256s: %s", path, strerror(-rc));
	return rc;
}

/* --- hashing --- */

static void *hash_thread(void *arg)
{
	struct hasher *h = arg;
	struct xfer *x = h->x;
	unsigned char *buf = malloc(CHUNK);
	uint64_t target;
	ssize_t n;
	bool stop;

	if (!buf) {
		fail(x, -ENOMEM, "out of memory");
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&x->lock);
		while (!x->err && x->in_order && h->off == x->end && !x->closed)
			pthread_cond_wait(&x->cond, &x->lock);
		stop = x->err || !x->in_order || h->off == x->end;
		target = x->end;
		pthread_mutex_unlock(&x->lock);
		if (stop)
			break;
		while (h->off < target) {
			size_t want = target - h->off < CHUNK ? target - h->off : CHUNK;

			n = pread(x->fd, buf, want, (off_t)h->off);
			if (n <= 0) {
				fail(x, n < 0 ? -errno : -EIO, "cannot read the image back: %s",
				     n < 0 ? strerror(errno) : "it was cut short");
				break;
			}
			h->alg->update(&h->ctx, (size_t)n, buf);
			h->off += (uint64_t)n;
		}
	}
	free(buf);
	return NULL;
}

/* Starts both hashers from off 0.  0 or -errno. */
static int hashers_start(struct xfer *x)
{
	unsigned i;
	int rc;

	for (i = 0; i < 2; i++) {
		x->h[i].alg->init(&x->h[i].ctx);
		x->h[i].off = 0;
		rc = -pthread_create(&x->h[i].thread, NULL, hash_thread, &x->h[i]);
		if (rc < 0) {
			fail(x, rc, "cannot start a thread: %s", strerror(-rc));
			while (i--)
				pthread_join(x->h[i].thread, NULL);
			return rc;
		}
	}
	return 0;
}

static void hashers_join(struct xfer *x)
{
	pthread_join(x->h[0].thread, NULL);
	pthread_join(x->h[1].thread, NULL);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* The digests of [0, size), hashing it all again when the bytes did not
 * come in order.  0 or x's error, with why. */
static int digests(struct xfer *x, uint64_t size, struct xfer_result *r,
		   char *why, size_t whylen)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	int rc;

	if (!x->in_order || x->end != size || x->h[0].off != size ||
	    x->h[1].off != size) {
		pthread_mutex_lock(&x->lock);
		x->in_order = true;
		x->end = size;
		pthread_mutex_unlock(&x->lock);
		if (hashers_start(x) == 0)
			hashers_join(x);
	}
	if ((rc = failure(x, why, whylen)) < 0)
		return rc;
	x->h[0].alg->digest(&x->h[0].ctx, SHA256_DIGEST_SIZE, d);
	hex(d, SHA256_DIGEST_SIZE, r->sha256);
	x->h[1].alg->digest(&x->h[1].ctx, MD5_DIGEST_SIZE, d);
	hex(d, MD5_DIGEST_SIZE, r->md5);
	return 0;
}

/* --- format --- */

/* Detects the format of x's first bytes (of a file of size bytes) into
 * *info and checks it against what was written.  0 or -EINVAL with
 * why. */
static int probe(struct xfer *x, uint64_t size, struct diskfmt_info *info,
		 char *why, size_t whylen)
{
	size_t len = size < DISKFMT_PROBE_LEN ? (size_t)size : DISKFMT_PROBE_LEN;
	unsigned char *head = malloc(len ? len : 1);
	ssize_t n;
	int rc;

	if (!head) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	n = pread(x->fd, head, len, 0);
	if (n != (ssize_t)len) {
		snprintf(why, whylen, "cannot read the image back: %s",
			 n < 0 ? strerror(errno) : "it was cut short");
		free(head);
		return n < 0 ? -errno : -EIO;
	}
	rc = diskfmt_detect(head, len, size, info, why, whylen);
	free(head);
	if (rc == 0 && x->want >= 0)
		rc = diskfmt_match((enum diskfmt)x->want, info, why, whylen);
	if (rc == 0 && info->virtual_size > x->max_bytes) {
		snprintf(why, whylen, "a virtual size of %llu bytes is more than %llu",
			 (unsigned long long)info->virtual_size,
			 (unsigned long long)x->max_bytes);
		rc = -EFBIG;
	}
	return rc;
}

/* Once the head has arrived in order, checks it at once, so that a
 * writer learns of a wrong format from the write that completes it. */
static int probe_early(struct xfer *x)
{
	struct diskfmt_info info;
	char why[IMGSTORE_WHY_MAX];
	uint64_t end;
	int rc;

	pthread_mutex_lock(&x->lock);
	end = x->end;
	rc = x->in_order && !x->probed && end >= DISKFMT_PROBE_LEN;
	if (rc)
		x->probed = true;
	pthread_mutex_unlock(&x->lock);
	if (!rc || (rc = probe(x, end, &info, why, sizeof(why))) == 0)
		return 0;
	fail(x, rc, "%s", why);
	return failure(x, why, sizeof(why));
}

/* Bytes [off, off + n) arrived. */
static void arrived(struct xfer *x, uint64_t off, uint64_t n)
{
	pthread_mutex_lock(&x->lock);
	if (x->in_order && off == x->end)
		x->end += n;
	else
		x->in_order = false;
	x->bytes += n;
	if (x->src_path && x->total < x->bytes)
		x->total = x->bytes; /* the source grew as it was read */
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/* --- the end of a transfer --- */

/* Puts the complete part file in place as DIR/UUID. */
static int finish(struct xfer *x, struct xfer_result *r, char *why, size_t whylen)
{
	char part[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int dfd, rc;

	if (fstat(x->fd, &st) < 0)
		return -errno;
	r->size = (uint64_t)st.st_size;
	if (!r->size)
		return -ENODATA; /* written, then cut to nothing */
	if (r->size > x->max_bytes) {
		snprintf(why, whylen, "%llu bytes is more than %llu",
			 (unsigned long long)r->size, (unsigned long long)x->max_bytes);
		return -EFBIG;
	}
	if ((rc = digests(x, r->size, r, why, whylen)) < 0)
		return rc;
	if ((rc = probe(x, r->size, &r->fmt, why, whylen)) < 0)
		return rc;
	imgstore_part_path(x->uuid, part, sizeof(part));
	imgstore_path(x->uuid, path, sizeof(path));
	/* Durable (the coordinator's fsync) before it is named, and named
	 * before it is committed active: a crash leaves either no image
	 * file or a whole one. */
	if ((rc = failure(x, why, whylen)) < 0)
		return rc;
	if ((rc = x->sync_err) < 0 || fchmod(x->fd, 0644) < 0 || rename(part, path) < 0) {
		rc = rc < 0 ? rc : -errno;
		snprintf(why, whylen, "cannot store the image in %.256s: %s", store_dir,
			 strerror(-rc));
		return rc;
	}
	dfd = open(store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* Leaves nothing of a failed transfer: the part file is emptied (its
 * blocks free even while a writer still holds it) and removed. */
static void discard(struct xfer *x)
{
	char part[PATH_MAX];

	if (x->fd >= 0 && ftruncate(x->fd, 0) < 0)
		x->touched = true; /* nothing more to do: it goes anyway */
	if (imgstore_part_path(x->uuid, part, sizeof(part)) == 0)
		unlink(part);
}

/* --- imports --- */

struct opener {
	const char *path;
	const struct xfer_creds *c;
	int fd;
	int err;
};

/* Opens the source with the writer's permissions.  Runs on a thread of
 * its own, which ends after: the raw syscalls change the calling thread's
 * credentials only (glibc's wrappers would change every thread's), and
 * with the fsuid no longer 0 the kernel drops the thread's capabilities
 * over files, so the writer's own permissions decide. */
static void *open_as(void *arg)
{
	struct opener *o = arg;
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_NO_MAGICLINKS,
	};

	if (syscall(SYS_setgroups, o->c->ngroups, o->c->groups) < 0) {
		o->err = -errno;
		return NULL;
	}
	syscall(SYS_setfsgid, o->c->gid);
	syscall(SYS_setfsuid, o->c->uid);
	if ((gid_t)syscall(SYS_setfsgid, -1) != o->c->gid ||
	    (uid_t)syscall(SYS_setfsuid, -1) != o->c->uid) {
		o->err = -EPERM;
		return NULL;
	}
	/* No magic link: /proc/self/fd/N and /proc/self/cwd are novafs's own
	 * descriptors and directory, and would hand the writer a file that
	 * novafs holds open (another user's import) without the search
	 * permission on the directories above it. */
	o->fd = (int)syscall(SYS_openat2, AT_FDCWD, o->path, &how, sizeof(how));
	if (o->fd < 0)
		o->err = -errno;
	return NULL;
}

/* Opens x's source as its writer and checks it is a file worth copying;
 * 0 or -errno with why. */
static int open_source(struct xfer *x, char *why, size_t whylen)
{
	struct opener o = { x->src_path, &x->creds, -1, 0 };
	struct statfs fs;
	struct stat st;
	pthread_t t;
	int rc;

	if ((rc = -pthread_create(&t, NULL, open_as, &o)) == 0)
		pthread_join(t, NULL);
	else
		o.err = rc;
	x->src = o.fd;
	if (o.err < 0) {
		snprintf(why, whylen, "cannot read %.256s as uid %u: %s", x->src_path,
			 (unsigned)x->creds.uid, strerror(-o.err));
		return o.err;
	}
	if (fstat(x->src, &st) < 0 || fstatfs(x->src, &fs) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot stat %.256s: %s", x->src_path, strerror(errno));
		return rc;
	}
	/* procfs would show the daemon's own memory and environment
	 * (/proc/self is novafs, whoever asks). */
	if (!S_ISREG(st.st_mode) || fs.f_type == PROC_SUPER_MAGIC ||
	    fs.f_type == SYSFS_MAGIC) {
		snprintf(why, whylen, "%.256s is not a regular file", x->src_path);
		return -EINVAL;
	}
	if (!st.st_size) {
		snprintf(why, whylen, "%.256s is empty", x->src_path);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > x->max_bytes) {
		snprintf(why, whylen, "%.256s has %lld bytes, more than %llu", x->src_path,
			 (long long)st.st_size, (unsigned long long)x->max_bytes);
		return -EFBIG;
	}
	x->total = (uint64_t)st.st_size;
	fcntl(x->src, F_SETFL, 0);
	return create_part(x, why, whylen);
}

/* Writes all n bytes of buf at off: 0 or -errno. */
static int write_all(int fd, const char *buf, size_t n, uint64_t off)
{
	ssize_t k;

	for (; n; buf += k, n -= (size_t)k, off += (uint64_t)k)
		if ((k = pwrite(fd, buf, n, (off_t)off)) < 0)
			return -errno;
	return 0;
}

/* The next bytes of the source, copied into the part file at done (in
 * the kernel where it can): how many, 0 at its end, or -errno. */
static ssize_t copy_some(struct xfer *x, bool *cfr, char **buf, uint64_t done)
{
	ssize_t n;
	int rc;

	if (*cfr) {
		n = copy_file_range(x->src, NULL, x->fd, NULL, COPY_CHUNK, 0);
		if (n >= 0 || done || (errno != EXDEV && errno != EINVAL &&
				       errno != ENOSYS && errno != EOPNOTSUPP))
			return n < 0 ? -errno : n;
		*cfr = false;
	}
	if (!*buf && !(*buf = malloc(CHUNK)))
		return -ENOMEM;
	n = read(x->src, *buf, CHUNK);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	rc = write_all(x->fd, *buf, (size_t)n, done);
	return rc < 0 ? rc : n;
}

/* Copies the source into the part file. */
static void copy(struct xfer *x)
{
	bool cfr = true;
	char *buf = NULL;
	uint64_t done = 0;
	ssize_t n;
	int err;

	for (;;) {
		pthread_mutex_lock(&x->lock);
		err = x->err;
		pthread_mutex_unlock(&x->lock);
		if (err || (n = copy_some(x, &cfr, &buf, done)) == 0)
			break;
		if (n < 0) {
			fail(x, (int)n, "cannot copy %.256s into the image store: %s",
			     x->src_path, strerror((int)-n));
			break;
		}
		if (done + (uint64_t)n > x->max_bytes) {
			fail(x, -EFBIG, "%.256s grew past %llu bytes", x->src_path,
			     (unsigned long long)x->max_bytes);
			break;
		}
		arrived(x, done, (uint64_t)n);
		done += (uint64_t)n;
		if (probe_early(x) < 0)
			break;
	}
	free(buf);
}

/* --- the coordinator --- */

static void *xfer_thread(void *arg)
{
	struct xfer *x = arg;
	struct xfer_result r;
	char why[IMGSTORE_WHY_MAX] = "";
	int rc = 0;

	memset(&r, 0, sizeof(r));
	if (x->src_path) {
		rc = open_source(x, why, sizeof(why));
		x->ops->opened(x, x->ctx, rc, why);
		if (rc < 0) {
			if (x->fd >= 0)
				discard(x);
			xfer_put(x);
			return NULL;
		}
	}
	if (hashers_start(x) == 0) {
		if (x->src_path)
			copy(x);
		pthread_mutex_lock(&x->lock);
		x->closed = x->closed || x->src_path != NULL;
		while (!x->closed && !x->err)
			pthread_cond_wait(&x->cond, &x->lock);
		x->closed = true;
		pthread_cond_broadcast(&x->cond);
		pthread_mutex_unlock(&x->lock);
		/* The disk writes while the hashers catch up. */
		x->sync_err = fsync(x->fd) < 0 ? -errno : 0;
		hashers_join(x);
	}
	rc = failure(x, why, sizeof(why));
	if (rc == 0 && !xfer_touched(x))
		rc = -ENODATA; /* opened and closed: nothing was uploaded */
	else if (rc == 0)
		rc = finish(x, &r, why, sizeof(why));
	if (rc < 0)
		discard(x);
	x->ops->finished(x, x->ctx, rc, why, &r);
	xfer_put(x);
	return NULL;
}

/* Starts x's coordinator, which holds a reference of its own. */
static int xfer_start(struct xfer *x)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&x->refs, 1);
	rc = -pthread_create(&t, &a, xfer_thread, x);
	pthread_attr_destroy(&a);
	if (rc < 0)
		atomic_fetch_sub(&x->refs, 1);
	return rc;
}

/* --- uploads --- */

int xfer_upload(const struct xfer_params *p, struct xfer **out, char *why,
		size_t whylen)
{
	struct xfer *x = xfer_new(p);
	int rc;

	if (!x) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	rc = create_part(x, why, whylen);
	if (rc == 0 && (rc = xfer_start(x)) < 0)
		snprintf(why, whylen, "cannot start a thread: %s", strerror(-rc));
	if (rc < 0) {
		if (x->fd >= 0)
			discard(x);
		xfer_put(x);
		return rc;
	}
	*out = x;
	return 0;
}

ssize_t xfer_write(struct xfer *x, const void *buf, size_t size, off_t off)
{
	ssize_t n;
	int err;

	pthread_mutex_lock(&x->lock);
	err = x->err;
	x->touched = true;
	pthread_mutex_unlock(&x->lock);
	if (err)
		return err;
	if (off < 0 || (uint64_t)off + size > x->max_bytes) {
		fail(x, -EFBIG, "an image has at most %llu bytes",
		     (unsigned long long)x->max_bytes);
		return -EFBIG;
	}
	n = pwrite(x->fd, buf, size, off);
	if (n < 0) {
		err = -errno;
		fail(x, err, "cannot write to the image store: %s", strerror(errno));
		return err;
	}
	arrived(x, (uint64_t)off, (uint64_t)n);
	err = probe_early(x);
	return err < 0 ? err : n;
}

int xfer_truncate(struct xfer *x, off_t size)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = x->err;
	x->touched = true;
	/* Only a size that changes nothing keeps the bytes in order. */
	if ((uint64_t)size != x->end)
		x->in_order = false;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	if (err)
		return err;
	if (ftruncate(x->fd, size) < 0) {
		err = -errno;
		fail(x, err, "cannot truncate the upload: %s", strerror(errno));
	}
	return err;
}

int xfer_dup_fd(struct xfer *x)
{
	int fd = fcntl(x->fd, F_DUPFD_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

bool xfer_touched(struct xfer *x)
{
	bool t;

	pthread_mutex_lock(&x->lock);
	t = x->touched;
	pthread_mutex_unlock(&x->lock);
	return t;
}

void xfer_close(struct xfer *x)
{
	pthread_mutex_lock(&x->lock);
	x->closed = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/* --- imports --- */

void xfer_creds_groups(struct xfer_creds *c, pid_t pid)
{
	char path[64], *line = NULL, *p, *end;
	size_t cap = 0;
	unsigned long g;
	FILE *f;

	c->ngroups = 0;
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7; c->ngroups < (int)(sizeof(c->groups) / sizeof(c->groups[0]));
		     p = end) {
			g = strtoul(p, &end, 10);
			if (end == p)
				break;
			c->groups[c->ngroups++] = (gid_t)g;
		}
		break;
	}
	free(line);
	fclose(f);
}

int xfer_import(const struct xfer_params *p, const char *path,
		const struct xfer_creds *c, struct xfer **out)
{
	struct xfer *x = xfer_new(p);
	int rc;

	if (!x || !(x->src_path = strdup(path))) {
		xfer_put(x);
		return -ENOMEM;
	}
	x->creds = *c;
	x->touched = true;
	rc = xfer_start(x);
	if (rc < 0) {
		xfer_put(x);
		return rc;
	}
	*out = x;
	return 0;
}

void xfer_abort(struct xfer *x, int err, const char *why)
{
	fail(x, err, "%s", why);
}

void xfer_progress(struct xfer *x, uint64_t *done, uint64_t *total)
{
	pthread_mutex_lock(&x->lock);
	*done = x->bytes;
	*total = x->total;
	pthread_mutex_unlock(&x->lock);
}
