/*
 * image.c - the image kind (see image.h): images/NAME/ and its files,
 * after Glance's image records.
 *
 * Status: queued (made, no data), saving (an upload through `data`),
 * importing (a copy of `source`), active (whole, verified, immutable),
 * killed (the transfer failed: `fault` says why; remove it and make it
 * again).  A transfer (image_store.h) is tied to its image in memory
 * (struct live, o->priv); what it reports is committed like any change.
 * An upload announces itself (saving) at its first write, so that an
 * open and close with nothing written (touch) changes nothing.
 *
 * Every desired file (disk_format, kernel, ramdisk, min_ram, min_disk,
 * source) keeps the bytes written; a refused write says why in `fault`
 * and the log, and changes nothing else.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diskfmt.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "flavor.h"
#include "image_store.h"
#include "instance.h"
#include "node.h"
#include "obj.h"
#include "objops.h"
#include "store.h"

#define DEP(f) (1ULL << (f))
#define FAULT_MAX 1024
#define MIN_MAX 0x7fffffffLL /* min_ram (MB), min_disk (GB) */

enum {
	IMG_STATUS,
	IMG_SIZE,
	IMG_VIRTUAL_SIZE,
	IMG_CHECKSUM,     /* SHA-256, hex */
	IMG_MD5,          /* Glance's checksum, hex */
	IMG_FORMAT_RAW,   /* the disk_format file's bytes, as written */
	IMG_FORMAT,       /* the format in force: written, or detected */
	IMG_KERNEL,       /* the kernel file's bytes, as written */
	IMG_RAMDISK,
	IMG_MIN_RAM,
	IMG_MIN_DISK,
	IMG_SOURCE,       /* the source file's bytes, as written */
	IMG_FAULT,
	IMG_NFIELDS
};

enum img_status { ST_QUEUED, ST_SAVING, ST_IMPORTING, ST_ACTIVE, ST_KILLED };

static const char *const status_names[] = {
	"queued", "saving", "importing", "active", "killed", NULL,
};

static const struct field fields[] = {
	[IMG_STATUS] = { "status", FIELD_ENUM, FIELD_EVENT, status_names, ST_QUEUED },
	[IMG_SIZE] = { "size", FIELD_INT, 0, NULL, 0 },
	[IMG_VIRTUAL_SIZE] = { "virtual_size", FIELD_INT, 0, NULL, 0 },
	[IMG_CHECKSUM] = { "checksum", FIELD_TEXT, 0, NULL, 0 },
	[IMG_MD5] = { "md5", FIELD_TEXT, 0, NULL, 0 },
	[IMG_FORMAT_RAW] = { "disk_format_raw", FIELD_BYTES, 0, NULL, 0 },
	[IMG_FORMAT] = { "disk_format", FIELD_TEXT, 0, NULL, 0 },
	[IMG_KERNEL] = { "kernel", FIELD_BYTES, 0, NULL, 0 },
	[IMG_RAMDISK] = { "ramdisk", FIELD_BYTES, 0, NULL, 0 },
	[IMG_MIN_RAM] = { "min_ram", FIELD_BYTES, 0, NULL, 0 },
	[IMG_MIN_DISK] = { "min_disk", FIELD_BYTES, 0, NULL, 0 },
	[IMG_SOURCE] = { "source", FIELD_BYTES, 0, NULL, 0 },
	[IMG_FAULT] = { "fault", FIELD_TEXT, 0, NULL, 0 },
};

/*
 * An image's transfer in memory (o->priv), under live_lock.  The
 * transfer holds a reference on the image; it is let go once it has
 * finished (done) and its writer, if any, has closed: until then the
 * writer's writes get its outcome.
 */
struct live {
	struct xfer *x;
	bool writer;        /* an upload's descriptor is open */
	bool announced;     /* saving was submitted (the first write) */
	bool done;          /* finished and committed */
	struct wreq *w;     /* an import's write, until its source opened */
	char *source;       /* ... and the bytes it wrote */
	size_t source_len;
	int opened_err;     /* how opening the source went */
	char opened_why[IMGSTORE_WHY_MAX];
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

/* The live state of o, made on first use (under live_lock); NULL when
 * out of memory. */
static struct live *live_of(struct obj *o)
{
	if (!o->priv)
		o->priv = calloc(1, sizeof(struct live));
	return o->priv;
}

struct obj *image_find(const char *name)
{
	return coll_find(obj_top_coll(&image_kind), name);
}

void image_set_dir(const char *dir)
{
	imgstore_set_dir(dir);
}

/* The trimmed value of a desired field, as a name into out (size bytes);
 * "" when empty or too long to be one. */
static const char *value_of(const struct obj *o, unsigned f, char *out, size_t size)
{
	const char *v = obj_text(o, f);
	size_t len = obj_len(o, f);

	text_trim(&v, &len);
	snprintf(out, size, "%.*s", len < size ? (int)len : 0, v);
	return out;
}

/* A min_ram or min_disk as a number (0 when empty). */
static long long min_of(const struct obj *o, unsigned f)
{
	char v[32];

	return strtoll(value_of(o, f, v, sizeof(v)), NULL, 10);
}

static enum img_status status_of(const struct obj *o)
{
	return (enum img_status)obj_int(o, IMG_STATUS);
}

/* --- reading --- */

static void add_line(struct strbuf *out, const char *value)
{
	if (value[0])
		strbuf_addf(out, "%s\n", value);
}

static void show_status(const struct obj *o, struct strbuf *out)
{
	add_line(out, status_names[status_of(o)]);
}

static void show_fault(const struct obj *o, struct strbuf *out)
{
	add_line(out, obj_text(o, IMG_FAULT));
}

static void show_id(const struct obj *o, struct strbuf *out)
{
	add_line(out, o->uuid);
}

/* What only an active image has: empty before. */
static void show_active(const struct obj *o, unsigned f, struct strbuf *out)
{
	if (status_of(o) != ST_ACTIVE)
		return;
	if (fields[f].type == FIELD_INT)
		strbuf_addf(out, "%" PRId64 "\n", obj_int(o, f));
	else
		add_line(out, obj_text(o, f));
}

#define SHOW_ACTIVE(fn, f) \
	static void fn(const struct obj *o, struct strbuf *out) \
	{ \
		show_active(o, f, out); \
	}
SHOW_ACTIVE(show_size, IMG_SIZE)
SHOW_ACTIVE(show_virtual_size, IMG_VIRTUAL_SIZE)
SHOW_ACTIVE(show_checksum, IMG_CHECKSUM)
SHOW_ACTIVE(show_md5, IMG_MD5)

/* A desired file: the bytes written, or dflt when none were. */
static void show_desired(const struct obj *o, unsigned f, const char *dflt,
			 struct strbuf *out)
{
	if (obj_len(o, f))
		strbuf_add(out, obj_text(o, f), obj_len(o, f));
	else
		add_line(out, dflt);
}

/* disk_format: as written, else what the content was found to be. */
static void show_format(const struct obj *o, struct strbuf *out)
{
	show_desired(o, IMG_FORMAT_RAW, obj_text(o, IMG_FORMAT), out);
}

#define SHOW_DESIRED(fn, f, dflt) \
	static void fn(const struct obj *o, struct strbuf *out) \
	{ \
		show_desired(o, f, dflt, out); \
	}
SHOW_DESIRED(show_kernel, IMG_KERNEL, "")
SHOW_DESIRED(show_ramdisk, IMG_RAMDISK, "")
SHOW_DESIRED(show_min_ram, IMG_MIN_RAM, "0")
SHOW_DESIRED(show_min_disk, IMG_MIN_DISK, "0")
SHOW_DESIRED(show_source, IMG_SOURCE, "")

/* progress: "DONE of TOTAL bytes (P%)", or "DONE bytes" while an
 * upload's total is unknown; empty when nothing is moving nor done. */
static void show_progress(const struct obj *o, struct strbuf *out)
{
	uint64_t done = 0, total = 0;
	const struct live *l;
	bool moving;

	pthread_mutex_lock(&live_lock);
	l = o->priv;
	moving = l && l->x && !l->done;
	if (moving)
		xfer_progress(l->x, &done, &total);
	pthread_mutex_unlock(&live_lock);
	if (!moving && status_of(o) == ST_ACTIVE)
		done = total = (uint64_t)obj_int(o, IMG_SIZE);
	else if (!moving)
		return;
	if (total)
		strbuf_addf(out, "%" PRIu64 " of %" PRIu64 " bytes (%d%%)\n", done,
			    total, (int)(done * 100 / total));
	else
		strbuf_addf(out, "%" PRIu64 " bytes\n", done);
}

/* wait: ready once the image is active or killed. */
static bool settled(const struct obj *o)
{
	return status_of(o) == ST_ACTIVE || status_of(o) == ST_KILLED;
}

static void show_wait(const struct obj *o, struct strbuf *out)
{
	if (status_of(o) == ST_KILLED)
		strbuf_addf(out, "killed: %s\n", obj_text(o, IMG_FAULT));
	else
		show_status(o, out);
}

/* The start of every op on o: -ENOENT once it is deleted, else
 * txn_touch's answer. */
static int begin(struct txn *t, struct obj *o)
{
	return o->dead ? -ENOENT : txn_touch(t, o);
}

/* --- refusals --- */

struct fault_op {
	struct obj *o;        /* a reference */
	char fault[FAULT_MAX];
};

static int fault_run(struct txn *t, void *ctx)
{
	struct fault_op *f = ctx;
	int rc;

	if ((rc = begin(t, f->o)) < 0)
		return rc;
	return txn_set_text(t, f->o, IMG_FAULT, f->fault);
}

static void fault_then(void *ctx, int err)
{
	struct fault_op *f = ctx;

	obj_put(f->o);
	free(f);
}

/* Refuses a request on o with err: logs "Class: message" and records it
 * in fault, from a thread that cannot wait for the store (a FUSE open, a
 * transfer).  Returns err. */
static int refuse(struct obj *o, int err, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct obj *o, int err, const char *cls, const char *fmt, ...)
{
	struct fault_op *f = calloc(1, sizeof(*f));
	char msg[FAULT_MAX - 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("image %s: %s: %s", o->name, cls, msg);
	if (!f)
		return err;
	snprintf(f->fault, sizeof(f->fault), "%s: %s", cls, msg);
	f->o = o;
	obj_get(o);
	store_do(fault_run, fault_then, f);
	return err;
}

/* Stages fault "Class: message" of e on o in an op, and logs it;
 * returns e's error, but -EBUSY for -EAGAIN: a transfer's errno is
 * anything the source or the disk said, and a source under another's
 * lease, or on a FUSE file system, would block (EAGAIN), which a writer
 * on a blocking descriptor is never told; the fault keeps the source's
 * own words. */
static int stage_refusal(struct txn *t, struct obj *o, const struct rpc_error *e)
{
	char fault[FAULT_MAX];
	int rc;

	snprintf(fault, sizeof(fault), "%s: %s", e->cls, e->message);
	log_warn("image %s: %s", o->name, fault);
	rc = txn_set_text(t, o, IMG_FAULT, fault);
	if (rc < 0)
		return rc;
	return e->err == -EAGAIN ? -EBUSY : e->err;
}

/* Why o's data (and what decides it) cannot change now: 0 when it is
 * queued with no transfer; -EPERM once active or killed, -EBUSY while a
 * transfer runs; e says which.  Under a lock that keeps o still. */
static int data_fixed(struct obj *o, struct rpc_error *e)
{
	const struct live *l;
	bool busy;

	switch (status_of(o)) {
	case ST_ACTIVE:
		return rpc_error_set(e, -EPERM, "ImageImmutable",
				     "image %s is active: its data and disk_format "
				     "never change (make a new image)", o->name);
	case ST_KILLED:
		return rpc_error_set(e, -EPERM, "ImageImmutable",
				     "image %s was killed (%s): remove it and make it again",
				     o->name, obj_text(o, IMG_FAULT));
	default:
		break;
	}
	pthread_mutex_lock(&live_lock);
	l = o->priv;
	busy = (l && l->x) || status_of(o) != ST_QUEUED;
	pthread_mutex_unlock(&live_lock);
	if (busy)
		return rpc_error_set(e, -EBUSY, "ImageBusy",
				     "image %s is receiving its data already", o->name);
	return 0;
}

/* --- transfers --- */

/* Lets go of o's transfer once it is over for everyone (see struct
 * live): when both done and no writer.  Takes live_lock. */
static void maybe_detach(struct obj *o)
{
	struct live *l;
	struct xfer *x = NULL;

	pthread_mutex_lock(&live_lock);
	l = o->priv;
	if (l->x && l->done && !l->writer) {
		x = l->x;
		l->x = NULL;
		l->announced = l->done = false;
	}
	pthread_mutex_unlock(&live_lock);
	if (x) {
		xfer_put(x);
		obj_put(o); /* the transfer's */
	}
}

static void mark_done(struct obj *o)
{
	pthread_mutex_lock(&live_lock);
	((struct live *)o->priv)->done = true;
	pthread_mutex_unlock(&live_lock);
	maybe_detach(o);
}

/* The class a transfer's failure is recorded under. */
static const char *failure_class(int err)
{
	switch (err) {
	case -ENOSPC:
		return "StorageFull";
	case -EFBIG:
		return "ImageSizeLimitExceeded";
	case -EINVAL:
		return "ImageUnacceptable";
	default:
		return "ImageUploadFailed";
	}
}

struct finish_op {
	struct obj *o;
	int err;
	char why[IMGSTORE_WHY_MAX];
	struct xfer_result r;
};

static int finish_run(struct txn *t, void *ctx)
{
	struct finish_op *f = ctx;
	struct rpc_error e = { 0 };
	struct obj *o = f->o;
	int rc;

	if ((rc = begin(t, o)) < 0)
		return rc;
	if (f->err == -ENODATA) /* written, then cut to nothing */
		return txn_set_int(t, o, IMG_STATUS, ST_QUEUED);
	if (f->err) {
		rpc_error_set(&e, f->err, failure_class(f->err), "%s", f->why);
		if ((rc = txn_set_int(t, o, IMG_STATUS, ST_KILLED)) < 0)
			return rc;
		return stage_refusal(t, o, &e);
	}
	if ((rc = txn_set_int(t, o, IMG_STATUS, ST_ACTIVE)) < 0 ||
	    (rc = txn_set_int(t, o, IMG_SIZE, (int64_t)f->r.size)) < 0 ||
	    (rc = txn_set_int(t, o, IMG_VIRTUAL_SIZE,
			      (int64_t)f->r.fmt.virtual_size)) < 0 ||
	    (rc = txn_set_text(t, o, IMG_CHECKSUM, f->r.sha256)) < 0 ||
	    (rc = txn_set_text(t, o, IMG_MD5, f->r.md5)) < 0 ||
	    (rc = txn_set_text(t, o, IMG_FAULT, "")) < 0)
		return rc;
	if (!obj_len(o, IMG_FORMAT) &&
	    (rc = txn_set_text(t, o, IMG_FORMAT, diskfmt_names[f->r.fmt.format])) < 0)
		return rc;
	log_info("image %s: active, %" PRIu64 " bytes, %s, sha256 %s", o->name,
		 f->r.size, obj_len(o, IMG_FORMAT) ? obj_text(o, IMG_FORMAT) :
		 diskfmt_names[f->r.fmt.format], f->r.sha256);
	return 0;
}

static void finish_then(void *ctx, int err)
{
	struct finish_op *f = ctx;

	/* Deleted meanwhile, or not recorded: its file must not stay. */
	if (err < 0 && !f->err)
		imgstore_remove(f->o->uuid);
	mark_done(f->o);
	free(f);
}

/* A transfer is over (on its thread). */
static void xfer_finished(struct xfer *x, void *ctx, int err, const char *why,
			  const struct xfer_result *r)
{
	struct obj *o = ctx;
	struct finish_op *f;
	bool announced;

	pthread_mutex_lock(&live_lock);
	announced = ((struct live *)o->priv)->announced;
	pthread_mutex_unlock(&live_lock);
	if (err == -ENODATA && !announced) {
		mark_done(o); /* opened and closed: still queued */
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		imgstore_remove(o->uuid);
		mark_done(o);
		return;
	}
	f->o = o;
	f->err = err;
	snprintf(f->why, sizeof(f->why), "%s", why);
	f->r = *r;
	store_do(finish_run, finish_then, f);
}

/* The first write of an upload: the image is saving. */
static int saving_run(struct txn *t, void *ctx)
{
	struct obj *o = ctx;
	int rc;

	if ((rc = begin(t, o)) < 0 ||
	    (rc = txn_set_int(t, o, IMG_STATUS, ST_SAVING)) < 0)
		return rc;
	return txn_set_text(t, o, IMG_FAULT, "");
}

static void saving_then(void *ctx, int err)
{
	obj_put(ctx);
}

static int opened_run(struct txn *t, void *ctx)
{
	struct obj *o = ctx;
	struct rpc_error e = { 0 };
	struct live *l = o->priv;
	int rc;

	if ((rc = begin(t, o)) < 0)
		return rc;
	if (l->opened_err) {
		rpc_error_set(&e, l->opened_err, "ImageSourceUnreadable", "%s",
			      l->opened_why);
		return stage_refusal(t, o, &e);
	}
	if ((rc = txn_set_int(t, o, IMG_STATUS, ST_IMPORTING)) < 0 ||
	    (rc = txn_set_bytes(t, o, IMG_SOURCE, l->source, l->source_len)) < 0)
		return rc;
	log_info("image %s: importing %s", o->name, l->source + l->source_len + 1);
	return txn_set_text(t, o, IMG_FAULT, "");
}

static void opened_then(void *ctx, int err)
{
	struct obj *o = ctx;
	struct live *l;
	struct wreq *w;
	bool refused;

	pthread_mutex_lock(&live_lock);
	l = o->priv;
	w = l->w;
	l->w = NULL;
	free(l->source);
	l->source = NULL;
	refused = l->opened_err != 0;
	pthread_mutex_unlock(&live_lock);
	wreq_done(w, err);
	if (refused)
		mark_done(o); /* finished() is not called */
}

/* An import's source was opened, or refused (on its thread): the write
 * that asked for it gets the answer once it is recorded. */
static void xfer_opened(struct xfer *x, void *ctx, int err, const char *why)
{
	struct obj *o = ctx;
	struct live *l;

	pthread_mutex_lock(&live_lock);
	l = o->priv;
	l->opened_err = err;
	snprintf(l->opened_why, sizeof(l->opened_why), "%s", why);
	pthread_mutex_unlock(&live_lock);
	store_do(opened_run, opened_then, o);
}

static const struct xfer_ops image_xfer_ops = { xfer_opened, xfer_finished };

/* The parameters of a transfer into o (under a lock that keeps it still). */
static void params_of(struct obj *o, struct xfer_params *p)
{
	char fmt[16];

	value_of(o, IMG_FORMAT_RAW, fmt, sizeof(fmt));
	p->uuid = o->uuid;
	p->want = fmt[0] ? diskfmt_parse(fmt, strlen(fmt)) : -1;
	p->max_bytes = RPC_MAX_IMAGE_BYTES;
	p->ops = &image_xfer_ops;
	p->ctx = o;
}

/* --- data --- */

static int data_path(const struct obj *o, char *buf, size_t len)
{
	switch (status_of(o)) {
	case ST_ACTIVE:
		return imgstore_path(o->uuid, buf, len);
	case ST_SAVING:
	case ST_IMPORTING:
		return imgstore_part_path(o->uuid, buf, len);
	default:
		return -ENOENT;
	}
}

static void data_release(struct handle *h);

/* Opening data for writing starts an upload; for reading, reads an
 * active image's bytes (anything else has none yet: ENODATA). */
static int data_open(struct obj *o, const struct node *n, struct handle *h)
{
	char path[PATH_MAX], why[IMGSTORE_WHY_MAX];
	struct rpc_error e = { 0 };
	struct xfer_params p;
	struct live *l = NULL;
	int rc;

	obj_rdlock();
	if ((h->flags & O_ACCMODE) == O_RDONLY) {
		rc = status_of(o) == ST_ACTIVE ? imgstore_path(o->uuid, path,
							       sizeof(path)) : -ENODATA;
		obj_unlock();
		if (rc == 0 && (h->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			rc = -errno;
		return rc;
	}
	rc = o->dead ? -ESTALE : data_fixed(o, &e);
	params_of(o, &p);
	if (rc == 0) {
		pthread_mutex_lock(&live_lock);
		l = live_of(o);
		if (!l)
			rc = -ENOMEM;
		else if (l->x)
			rc = rpc_error_set(&e, -EBUSY, "ImageBusy",
					   "image %s is receiving its data already", o->name);
		else if ((rc = xfer_upload(&p, &l->x, why, sizeof(why))) < 0)
			rpc_error_set(&e, rc, "ImageUploadFailed", "%s", why);
		if (rc == 0) {
			l->writer = true;
			obj_get(o); /* the transfer's */
		}
		pthread_mutex_unlock(&live_lock);
	}
	obj_unlock();
	if (rc < 0)
		return e.err ? refuse(o, rc, e.cls, "%s", e.message) : rc;
	if ((h->flags & O_ACCMODE) == O_RDWR && (h->fd = xfer_dup_fd(l->x)) < 0) {
		rc = h->fd;
		data_release(h); /* a failed open is never released */
		return rc;
	}
	return 0;
}

/* The transfer of o's writer (which keeps it attached). */
static struct xfer *writer_xfer(struct obj *o)
{
	struct xfer *x;

	pthread_mutex_lock(&live_lock);
	x = ((struct live *)o->priv)->x;
	pthread_mutex_unlock(&live_lock);
	return x;
}

/* Announces the upload at its first write: saving. */
static void announce(struct obj *o)
{
	struct live *l;
	bool first;

	pthread_mutex_lock(&live_lock);
	l = o->priv;
	first = !l->announced;
	l->announced = true;
	pthread_mutex_unlock(&live_lock);
	if (first) {
		obj_get(o);
		store_do(saving_run, saving_then, o);
	}
}

static ssize_t data_write(struct handle *h, const char *buf, size_t size, off_t off)
{
	announce(h->obj);
	return xfer_write(writer_xfer(h->obj), buf, size, off);
}

/* truncate: through the writer's descriptor, of the upload; without one,
 * only the size 0 of an image with no data (what O_TRUNC asks). */
static int data_truncate(struct obj *o, const struct node *n, struct handle *h,
			 off_t size)
{
	struct rpc_error e = { 0 };
	int rc;

	if (h && (h->flags & O_ACCMODE) != O_RDONLY)
		return xfer_truncate(writer_xfer(o), size);
	obj_rdlock();
	rc = data_fixed(o, &e);
	if (rc == 0 && size)
		rc = rpc_error_set(&e, -EINVAL, "InvalidInput",
				   "data is uploaded by writing it, not by truncate");
	obj_unlock();
	return rc < 0 ? refuse(o, rc, e.cls, "%s", e.message) : 0;
}

/* The last close of the upload's descriptor: it finishes. */
static void data_release(struct handle *h)
{
	struct live *l;
	struct xfer *x;

	if ((h->flags & O_ACCMODE) == O_RDONLY)
		return;
	pthread_mutex_lock(&live_lock);
	l = h->obj->priv;
	x = l->x;
	l->writer = false;
	pthread_mutex_unlock(&live_lock);
	xfer_close(x);
	maybe_detach(h->obj);
}

static const struct blob_ops data_ops = {
	.open = data_open,
	.write = data_write,
	.truncate = data_truncate,
	.release = data_release,
};

/* --- source: an import --- */

static void store_source(struct obj *o, const char *buf, size_t len, struct wreq *w)
{
	struct rpc_error e = { 0 };
	struct xfer_creds c = { w->uid, w->gid, { 0 }, 0 };
	struct xfer_params p;
	const char *path = buf;
	size_t plen = len;
	char *copy = NULL;
	struct live *l;
	int rc;

	text_trim(&path, &plen);
	obj_rdlock();
	if (bytes_equal(o->v[IMG_SOURCE].b, buf, len)) {
		obj_unlock();
		wreq_done(w, 0); /* what it already is: a config tool's second run */
		return;
	}
	rc = data_fixed(o, &e);
	params_of(o, &p);
	obj_unlock();
	if (rc == 0 && !plen)
		rc = rpc_error_set(&e, -EINVAL, "InvalidInput",
				   "source is empty: write the path of a file to import");
	else if (rc == 0 && (path[0] != '/' || plen >= PATH_MAX))
		rc = rpc_error_set(&e, -EINVAL, "InvalidInput",
				   "source \"%.*s\" is not an absolute path",
				   (int)(plen > 64 ? 64 : plen), path);
	if (rc == 0 && (!(copy = malloc(len + plen + 2)))) {
		wreq_done(w, -ENOMEM);
		return;
	}
	if (rc < 0) {
		wreq_done(w, refuse(o, rc, e.cls, "%s", e.message));
		return;
	}
	/* The bytes as written, then the path alone. */
	memcpy(copy, buf, len);
	memcpy(copy + len + 1, path, plen);
	copy[len + 1 + plen] = '\0';
	xfer_creds_groups(&c, w->pid);
	pthread_mutex_lock(&live_lock);
	l = live_of(o);
	if (!l)
		rc = -ENOMEM;
	else if (l->x)
		rc = rpc_error_set(&e, -EBUSY, "ImageBusy",
				   "image %s is receiving its data already", o->name);
	if (rc == 0) {
		l->w = w;
		l->source = copy;
		l->source_len = len;
		obj_get(o); /* the transfer's */
		if ((rc = xfer_import(&p, copy + len + 1, &c, &l->x)) < 0) {
			obj_put(o);
			l->w = NULL;
			l->source = NULL;
		}
	}
	pthread_mutex_unlock(&live_lock);
	if (rc < 0) {
		free(copy);
		wreq_done(w, e.err ? refuse(o, rc, e.cls, "%s", e.message) : rc);
	}
}

/* --- the desired files --- */

struct set_op {
	struct wreq *w;
	struct obj *o;      /* a reference */
	unsigned field;
	char *raw;
	size_t len;
};

/* Checks the value (trimmed) of field f of o: 0 or -EINVAL with e. */
static int check_value(struct obj *o, unsigned f, const char *v, size_t len,
		       struct rpc_error *e)
{
	char name[OBJ_NAME_MAX + 1], *end;
	const struct obj *other;
	long long n;

	switch (f) {
	case IMG_FORMAT_RAW:
		if (len && diskfmt_parse(v, len) < 0)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "unknown disk_format \"%.*s\" (disk formats: "
					     "raw, qcow2, iso, aki, ari, ami)",
					     (int)(len > 32 ? 32 : len), v);
		return data_fixed(o, e);
	case IMG_KERNEL:
	case IMG_RAMDISK:
		if (!len)
			return 0;
		snprintf(name, sizeof(name), "%.*s", len < sizeof(name) ? (int)len : 0, v);
		other = len < sizeof(name) ? image_find(name) : NULL;
		if (!other)
			return rpc_error_set(e, -EINVAL, "ImageNotFound",
					     "%s: image \"%.*s\" does not exist",
					     fields[f].name, (int)(len > 64 ? 64 : len), v);
		if (other == o)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "%s: an image cannot be its own", fields[f].name);
		return 0;
	default: /* min_ram, min_disk */
		if (!len)
			return 0;
		errno = 0;
		n = strtoll(v, &end, 10);
		if (end != v + len || errno || n < 0 || n > MIN_MAX || v[0] == '+')
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "%s \"%.*s\" is not a number of %s from 0 to %lld",
					     fields[f].name, (int)(len > 32 ? 32 : len), v,
					     f == IMG_MIN_RAM ? "MB" : "GB", MIN_MAX);
		return 0;
	}
}

static int set_run(struct txn *t, void *ctx)
{
	struct set_op *op = ctx;
	struct rpc_error e = { 0 };
	char value[32];
	const char *v = op->raw;
	size_t len = op->len;
	int rc;

	if ((rc = begin(t, op->o)) < 0)
		return rc;
	if (bytes_equal(op->o->v[op->field].b, op->raw, op->len))
		return 0; /* what it already is: a config tool's second run */
	text_trim(&v, &len);
	/* The format an active image was found to have, written back. */
	if (op->field == IMG_FORMAT_RAW && len && len == obj_len(op->o, IMG_FORMAT) &&
	    memcmp(v, obj_text(op->o, IMG_FORMAT), len) == 0)
		return 0;
	/* min_ram and min_disk are parsed from a NUL-terminated copy. */
	if ((op->field == IMG_MIN_RAM || op->field == IMG_MIN_DISK) && len < sizeof(value)) {
		memcpy(value, v, len);
		value[len] = '\0';
		v = value;
	}
	if ((rc = check_value(op->o, op->field, v, len, &e)) < 0)
		return stage_refusal(t, op->o, &e);
	if ((rc = txn_set_bytes(t, op->o, op->field, op->raw, op->len)) < 0 ||
	    (rc = txn_set_text(t, op->o, IMG_FAULT, "")) < 0)
		return rc;
	if (op->field == IMG_FORMAT_RAW) {
		snprintf(value, sizeof(value), "%.*s", (int)len, v);
		return txn_set_text(t, op->o, IMG_FORMAT, value);
	}
	return 0;
}

static void set_then(void *ctx, int err)
{
	struct set_op *op = ctx;

	wreq_done(op->w, err);
	obj_put(op->o);
	free(op->raw);
	free(op);
}

static void store_field(struct obj *o, unsigned field, const char *buf,
			size_t len, struct wreq *w)
{
	struct set_op *op = calloc(1, sizeof(*op));

	if (!op || !(op->raw = malloc(len ? len : 1))) {
		free(op);
		wreq_done(w, -ENOMEM);
		return;
	}
	op->w = w;
	op->o = o;
	obj_get(o);
	op->field = field;
	op->len = len;
	memcpy(op->raw, buf, len);
	store_do(set_run, set_then, op);
}

#define STORE(fn, f) \
	static void fn(struct obj *o, const char *buf, size_t len, \
		       struct wreq *w) \
	{ \
		store_field(o, f, buf, len, w); \
	}
STORE(store_format, IMG_FORMAT_RAW)
STORE(store_kernel, IMG_KERNEL)
STORE(store_ramdisk, IMG_RAMDISK)
STORE(store_min_ram, IMG_MIN_RAM)
STORE(store_min_disk, IMG_MIN_DISK)

/* --- rmdir --- */

/* Whether image o names img as field f (kernel or ramdisk). */
static bool names(const struct obj *o, unsigned f, const struct obj *img)
{
	char v[OBJ_NAME_MAX + 1];

	return strcmp(value_of(o, f, v, sizeof(v)), img->name) == 0;
}

static int remove_run(struct txn *t, void *ctx)
{
	struct set_op *op = ctx;
	struct rpc_error e = { 0 };
	const struct obj *i;
	int rc;

	if ((rc = begin(t, op->o)) < 0)
		return rc;
	for (i = obj_top_coll(&instance_kind)->head; i; i = i->next)
		if (strcmp(obj_text(i, I_IMAGE), op->o->name) == 0) {
			rpc_error_set(&e, -EBUSY, "ImageInUse",
				      "image %s is in use by instance %s",
				      op->o->name, i->name);
			return stage_refusal(t, op->o, &e);
		}
	for (i = obj_top_coll(&image_kind)->head; i; i = i->next)
		if (i != op->o && (names(i, IMG_KERNEL, op->o) ||
				   names(i, IMG_RAMDISK, op->o))) {
			rpc_error_set(&e, -EBUSY, "ImageInUse", "image %s is the %s of image %s",
				      op->o->name, names(i, IMG_KERNEL, op->o) ?
				      "kernel" : "ramdisk", i->name);
			return stage_refusal(t, op->o, &e);
		}
	if ((rc = txn_delete(t, op->o)) < 0)
		return rc;
	log_info("image %s: deleted", op->o->name);
	return 0;
}

static void remove_then(void *ctx, int err)
{
	struct set_op *op = ctx;
	struct live *l;

	if (err == 0) {
		pthread_mutex_lock(&live_lock);
		l = op->o->priv;
		if (l && l->x && !l->done)
			xfer_abort(l->x, -ESTALE, "the image was deleted during its upload");
		pthread_mutex_unlock(&live_lock);
		imgstore_remove(op->o->uuid);
	}
	set_then(op, err);
}

static void image_remove(struct obj *o, struct wreq *w)
{
	struct set_op *op = calloc(1, sizeof(*op));

	if (!op) {
		wreq_done(w, -ENOMEM);
		return;
	}
	op->w = w;
	op->o = o;
	obj_get(o);
	store_do(remove_run, remove_then, op);
}

static void image_release(struct obj *o)
{
	struct live *l = o->priv;

	if (l)
		free(l->source);
	free(l);
}

/* --- start-up --- */

static int recover_run(struct txn *t, void *ctx)
{
	int *n = ctx, rc;
	struct obj *o;

	for (o = obj_top_coll(&image_kind)->head; o; o = o->next) {
		if (status_of(o) != ST_SAVING && status_of(o) != ST_IMPORTING)
			continue;
		if ((rc = txn_set_int(t, o, IMG_STATUS, ST_KILLED)) < 0 ||
		    (rc = txn_set_text(t, o, IMG_FAULT, "ImageUploadFailed: the upload "
				       "was interrupted (novafs stopped); remove the "
				       "image and make it again")) < 0)
			return rc;
		log_warn("image %s: killed: its upload was interrupted", o->name);
		(*n)++;
	}
	return 0;
}

static bool keep_file(const char *uuid, void *ctx)
{
	const struct obj *o;
	bool keep;

	obj_rdlock();
	o = obj_by_uuid(uuid);
	keep = o && !o->dead && o->kind == &image_kind && status_of(o) == ST_ACTIVE;
	obj_unlock();
	return keep;
}

int image_recover(void)
{
	int n = 0, rc = store_run(recover_run, &n);

	if (rc == 0 && (rc = imgstore_sweep(keep_file, NULL)) > 0)
		log_info("image store: removed %d file(s) of no active image", rc);
	return rc < 0 ? rc : n;
}

/* --- for a start --- */

int image_check(const struct obj *img, const struct obj *fl, struct rpc_error *e)
{
	static const unsigned parts[] = { IMG_KERNEL, IMG_RAMDISK };
	char name[OBJ_NAME_MAX + 1];
	long long disk = obj_int(fl, FLAVOR_DISK_GB) << 30;
	const struct obj *p;
	size_t i;

	if (status_of(img) != ST_ACTIVE)
		return rpc_error_set(e, -EINVAL, "ImageNotActive", "image %s is %s, not active",
				     img->name, status_names[status_of(img)]);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (!value_of(img, parts[i], name, sizeof(name))[0])
			continue;
		p = image_find(name);
		if (!p || status_of(p) != ST_ACTIVE)
			return rpc_error_set(e, -EINVAL, "ImageNotActive",
					     "the %s of image %s, %s, is %s, not active",
					     fields[parts[i]].name, img->name, name,
					     p ? status_names[status_of(p)] : "missing");
	}
	if (obj_int(fl, FLAVOR_MEMORY_MB) < min_of(img, IMG_MIN_RAM))
		return rpc_error_set(e, -EINVAL, "FlavorMemoryTooSmall",
				     "flavor %s has %" PRId64 " MB of memory; image %s "
				     "needs min_ram %lld MB", fl->name,
				     obj_int(fl, FLAVOR_MEMORY_MB), img->name,
				     min_of(img, IMG_MIN_RAM));
	if (obj_int(fl, FLAVOR_DISK_GB) < min_of(img, IMG_MIN_DISK))
		return rpc_error_set(e, -EINVAL, "FlavorDiskSmallerThanMinDisk",
				     "flavor %s has a %" PRId64 " GB disk; image %s "
				     "needs min_disk %lld GB", fl->name,
				     obj_int(fl, FLAVOR_DISK_GB), img->name,
				     min_of(img, IMG_MIN_DISK));
	/* As Nova: a flavor of disk 0 takes the image's size. */
	if (disk && disk < obj_int(img, IMG_VIRTUAL_SIZE))
		return rpc_error_set(e, -EINVAL, "FlavorDiskSmallerThanImage",
				     "flavor %s has a %" PRId64 " GB disk; image %s's "
				     "virtual size is %" PRId64 " bytes", fl->name,
				     obj_int(fl, FLAVOR_DISK_GB), img->name,
				     obj_int(img, IMG_VIRTUAL_SIZE));
	return 0;
}

json_t *image_wire(const struct obj *img)
{
	static const unsigned parts[] = { IMG_KERNEL, IMG_RAMDISK };
	char name[OBJ_NAME_MAX + 1], path[PATH_MAX];
	const struct obj *p;
	json_t *j;
	size_t i;

	if (imgstore_path(img->uuid, path, sizeof(path)) < 0)
		return NULL;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", img->uuid,
		      "name", img->name, "path", path,
		      "disk_format", obj_text(img, IMG_FORMAT),
		      "size", (json_int_t)obj_int(img, IMG_SIZE),
		      "virtual_size", (json_int_t)obj_int(img, IMG_VIRTUAL_SIZE));
	for (i = 0; j && i < sizeof(parts) / sizeof(parts[0]); i++) {
		p = image_find(value_of(img, parts[i], name, sizeof(name)));
		if (!name[0] || !p)
			continue;
		if (imgstore_path(p->uuid, path, sizeof(path)) < 0 ||
		    json_object_set_new(j, fields[parts[i]].name, json_pack(
			    "{s:s, s:s, s:s}", "id", p->uuid, "name", p->name,
			    "path", path)) < 0) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

static const struct node nodes[] = {
	{ "data", NODE_BLOB, 0644, NULL, DEP(IMG_STATUS), .blob_path = data_path,
	  .blob = &data_ops },
	{ "source", NODE_ATTR, 0644, NULL, DEP(IMG_SOURCE), show_source, store_source },
	{ "status", NODE_ATTR, 0444, NULL, DEP(IMG_STATUS), show_status },
	{ "size", NODE_ATTR, 0444, NULL, DEP(IMG_STATUS) | DEP(IMG_SIZE), show_size },
	{ "virtual_size", NODE_ATTR, 0444, NULL, DEP(IMG_STATUS) | DEP(IMG_VIRTUAL_SIZE),
	  show_virtual_size },
	{ "checksum", NODE_ATTR, 0444, NULL, DEP(IMG_STATUS) | DEP(IMG_CHECKSUM),
	  show_checksum },
	{ "md5", NODE_ATTR, 0444, NULL, DEP(IMG_STATUS) | DEP(IMG_MD5), show_md5 },
	{ "disk_format", NODE_ATTR, 0644, NULL, DEP(IMG_FORMAT_RAW) | DEP(IMG_FORMAT),
	  show_format, store_format },
	{ "kernel", NODE_ATTR, 0644, NULL, DEP(IMG_KERNEL), show_kernel, store_kernel },
	{ "ramdisk", NODE_ATTR, 0644, NULL, DEP(IMG_RAMDISK), show_ramdisk, store_ramdisk },
	{ "min_ram", NODE_ATTR, 0644, NULL, DEP(IMG_MIN_RAM), show_min_ram, store_min_ram },
	{ "min_disk", NODE_ATTR, 0644, NULL, DEP(IMG_MIN_DISK), show_min_disk,
	  store_min_disk },
	{ "progress", NODE_ATTR, 0444, NULL, DEP(IMG_STATUS), show_progress },
	{ "fault", NODE_ATTR, 0444, NULL, DEP(IMG_FAULT), show_fault },
	{ "id", NODE_ATTR, 0444, NULL, 0, show_id },
	{ "wait", NODE_WAIT, 0444, NULL, DEP(IMG_STATUS) | DEP(IMG_FAULT), show_wait,
	  .ready = settled },
};

const struct kind image_kind = {
	.name = "image",
	.table = "images",
	.collection = "images",
	/* Anyone may make images, as Glance lets every project; each is
	 * its maker's (sticky, like /tmp), and everyone may read them. */
	.collection_mode = 01777,
	.mode = S_IFDIR | 0755,
	.scratch = true,
	.fields = fields,
	.nfields = IMG_NFIELDS,
	.nodes = nodes,
	.nnodes = sizeof(nodes) / sizeof(nodes[0]),
	.create = objop_create,
	.remove = image_remove,
	.set_owner = objop_set_owner,
	.release = image_release,
};
