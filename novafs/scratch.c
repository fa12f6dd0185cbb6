/*
 * scratch.c - in-memory temporary files (see scratch.h).
 *
 * A list is enough: a directory holds at most SCRATCH_MAX_PER_DIR of them
 * and they live for the length of one rename dance.  list_lock guards the
 * list and the reference counts; each file's own lock guards its content.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scratch.h"

struct scratch {
	struct scratch *next;
	char *dir;
	char *name;
	int refs;           /* the list holds one while linked */
	pthread_mutex_t lock;
	struct strbuf data;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *head;

static struct scratch **find(const char *dir, const char *name)
{
	struct scratch **p;

	for (p = &head; *p; p = &(*p)->next)
		if (strcmp((*p)->dir, dir) == 0 && strcmp((*p)->name, name) == 0)
			return p;
	return NULL;
}

static void release(struct scratch *s)
{
	strbuf_release(&s->data);
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s->name);
	free(s);
}

/* Drops one reference; called with list_lock held. */
static void put_locked(struct scratch *s)
{
	if (--s->refs == 0)
		release(s);
}

struct scratch *scratch_get(const char *dir, const char *name)
{
	struct scratch **p, *s = NULL;

	pthread_mutex_lock(&list_lock);
	p = find(dir, name);
	if (p) {
		s = *p;
		s->refs++;
	}
	pthread_mutex_unlock(&list_lock);
	return s;
}

void scratch_put(struct scratch *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&list_lock);
	put_locked(s);
	pthread_mutex_unlock(&list_lock);
}

int scratch_create(const char *dir, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, struct scratch **out)
{
	struct scratch *s, *it;
	int n = 0, ret = 0;

	pthread_mutex_lock(&list_lock);
	if (find(dir, name)) {
		ret = -EEXIST;
		goto out;
	}
	for (it = head; it; it = it->next)
		n += strcmp(it->dir, dir) == 0;
	if (n >= SCRATCH_MAX_PER_DIR) {
		ret = -ENOSPC;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir)) || !(s->name = strdup(name))) {
		if (s) {
			free(s->dir);
			free(s);
		}
		ret = -ENOMEM;
		goto out;
	}
	pthread_mutex_init(&s->lock, NULL);
	strbuf_init(&s->data, 0);
	s->mode = mode & 07777;
	s->uid = uid;
	s->gid = gid;
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->atime = s->ctime = s->mtime;
	s->refs = 2; /* the list's and the caller's */
	s->next = head;
	head = s;
	*out = s;
out:
	pthread_mutex_unlock(&list_lock);
	return ret;
}

int scratch_unlink(const char *dir, const char *name)
{
	struct scratch **p, *s;

	pthread_mutex_lock(&list_lock);
	p = find(dir, name);
	if (!p) {
		pthread_mutex_unlock(&list_lock);
		return -ENOENT;
	}
	s = *p;
	*p = s->next;
	put_locked(s);
	pthread_mutex_unlock(&list_lock);
	return 0;
}

int scratch_rename(const char *dir, const char *from, const char *to)
{
	struct scratch **p, **q, *s;
	char *name;
	int ret = 0;

	pthread_mutex_lock(&list_lock);
	p = find(dir, from);
	if (!p) {
		ret = -ENOENT;
		goto out;
	}
	name = strdup(to);
	if (!name) {
		ret = -ENOMEM;
		goto out;
	}
	q = find(dir, to);
	if (q && *q != *p) {
		s = *q;
		*q = s->next;
		put_locked(s);
		p = find(dir, from);
	}
	free((*p)->name);
	(*p)->name = name;
out:
	pthread_mutex_unlock(&list_lock);
	return ret;
}

void scratch_remove_dir(const char *dir)
{
	struct scratch **p = &head, *s;

	pthread_mutex_lock(&list_lock);
	while (*p) {
		s = *p;
		if (strcmp(s->dir, dir) == 0) {
			*p = s->next;
			put_locked(s);
		} else {
			p = &s->next;
		}
	}
	pthread_mutex_unlock(&list_lock);
}

void scratch_list(const char *dir, void (*fn)(void *ctx, const char *name),
		  void *ctx)
{
	struct scratch *s;

	pthread_mutex_lock(&list_lock);
	for (s = head; s; s = s->next)
		if (strcmp(s->dir, dir) == 0)
			fn(ctx, s->name);
	pthread_mutex_unlock(&list_lock);
}

ssize_t scratch_read(struct scratch *s, char *buf, size_t size, off_t off)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if ((size_t)off < s->data.len) {
		n = s->data.len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, s->data.buf + off, n);
	}
	clock_gettime(CLOCK_REALTIME, &s->atime);
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)n;
}

ssize_t scratch_write(struct scratch *s, const char *buf, size_t size, off_t off)
{
	size_t end;

	if (off < 0 || (size_t)off + size > SCRATCH_MAX_SIZE)
		return -EFBIG;
	end = (size_t)off + size;
	pthread_mutex_lock(&s->lock);
	if (end > s->data.len) {
		size_t old = s->data.len;

		strbuf_grow(&s->data, end - old);
		memset(s->data.buf + old, 0, end - old);
		strbuf_setlen(&s->data, end);
	}
	memcpy(s->data.buf + off, buf, size);
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->ctime = s->mtime;
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)size;
}

int scratch_truncate(struct scratch *s, off_t size)
{
	size_t old;

	if (size < 0 || size > SCRATCH_MAX_SIZE)
		return -EFBIG;
	pthread_mutex_lock(&s->lock);
	old = s->data.len;
	if ((size_t)size > old) {
		strbuf_grow(&s->data, (size_t)size - old);
		memset(s->data.buf + old, 0, (size_t)size - old);
	}
	strbuf_setlen(&s->data, (size_t)size);
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->ctime = s->mtime;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void scratch_content(struct scratch *s, struct strbuf *out)
{
	pthread_mutex_lock(&s->lock);
	strbuf_add(out, s->data.buf, s->data.len);
	pthread_mutex_unlock(&s->lock);
}

void scratch_stat(struct scratch *s, struct stat *st)
{
	pthread_mutex_lock(&s->lock);
	st->st_mode = S_IFREG | s->mode;
	st->st_nlink = 1;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_size = (off_t)s->data.len;
	st->st_atim = s->atime;
	st->st_mtim = s->mtime;
	st->st_ctim = s->ctime;
	pthread_mutex_unlock(&s->lock);
}

void scratch_chmod(struct scratch *s, mode_t mode)
{
	pthread_mutex_lock(&s->lock);
	s->mode = mode & 07777;
	clock_gettime(CLOCK_REALTIME, &s->ctime);
	pthread_mutex_unlock(&s->lock);
}

void scratch_chown(struct scratch *s, uid_t uid, gid_t gid)
{
	pthread_mutex_lock(&s->lock);
	if (uid != (uid_t)-1)
		s->uid = uid;
	if (gid != (gid_t)-1)
		s->gid = gid;
	clock_gettime(CLOCK_REALTIME, &s->ctime);
	pthread_mutex_unlock(&s->lock);
}

void scratch_touch(struct scratch *s, const struct timespec ts[2])
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&s->lock);
	if (!ts) {
		s->atime = s->mtime = now;
	} else {
		if (ts[0].tv_nsec != UTIME_OMIT)
			s->atime = ts[0].tv_nsec == UTIME_NOW ? now : ts[0];
		if (ts[1].tv_nsec != UTIME_OMIT)
			s->mtime = ts[1].tv_nsec == UTIME_NOW ? now : ts[1];
	}
	s->ctime = now;
	pthread_mutex_unlock(&s->lock);
}
