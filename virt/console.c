/*
 * console.c - tailing serial console logs into console_output; see
 * console.h.
 *
 * Each tracked domain has a tail: where its file was read up to, and the
 * file's inode (a rotated file is a new inode).  A timer reads every tail
 * that has nothing on its way, at most one chunk each per tick.  A tail
 * whose domain left the listing while its chunk was on its way stays in
 * the table, marked gone, until the chunk's completion frees it (or
 * console_free, when the bus was freed first and never completes it).
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/strbuf.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "driver.h"
#include "manager.h"

#define CONSOLE_POLL_MS 250
/* A chunk waits this long for the broker (reconnecting all along) before
 * it is given up and the tail reads on. */
#define CONSOLE_CHUNK_DEADLINE_MS (60LL * 1000)

struct tail {
	struct hash_entry by_uuid;
	struct console *c;
	char uuid[UUID_STR_LEN];
	off_t offset;
	ino_t ino;           /* of the file read so far; 0: none yet */
	size_t sending;      /* bytes of the file in the chunk on its way */
	bool busy;           /* a chunk is on its way */
	bool restarted;      /* the file began afresh while busy */
	bool listed;         /* in the latest listing */
	bool gone;           /* left the listing while busy: freed when done */
};

struct console {
	struct compute_manager *m;
	struct hash_table tails;
	long long timer;     /* 0: not armed */
	bool stopped;
};

static const unsigned char REPLACEMENT[] = { 0xef, 0xbf, 0xbd }; /* U+FFFD */

/* The length of the valid sequence that in[0] leads (1..4), 0 when in[0]
 * leads none, or -1 when in ends before the sequence does. */
static int sequence(const unsigned char *in, size_t len)
{
	unsigned char b = in[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (b < 0x80)
		return b ? 1 : 0;
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range excludes overlongs, surrogates and code
	 * points past U+10FFFF (RFC 3629's table). */
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++) {
		if ((size_t)i >= len)
			return -1;
		if (in[i] < lo || in[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

size_t console_text(const char *in, size_t len, struct strbuf *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, used = 0;
	int n;

	while (i < len) {
		n = sequence(p + i, len - i);
		if (n < 0)
			break;
		if (used + (n ? (size_t)n : sizeof(REPLACEMENT)) > max)
			break;
		if (n) {
			strbuf_add(out, p + i, (size_t)n);
			used += (size_t)n;
			i += (size_t)n;
		} else {
			strbuf_add(out, REPLACEMENT, sizeof(REPLACEMENT));
			used += sizeof(REPLACEMENT);
			i++;
		}
	}
	return i;
}

static int tail_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct tail, by_uuid)->uuid, key);
}

static struct tail *tail_find(struct console *c, const char *uuid)
{
	struct hash_entry *e = hash_get(&c->tails, hash_str(uuid), uuid);

	return e ? container_of(e, struct tail, by_uuid) : NULL;
}

static void tail_drop(struct console *c, struct tail *t)
{
	if (t->busy) {
		t->gone = true;
		return;
	}
	hash_remove(&c->tails, &t->by_uuid);
	free(t);
}

static void sent(void *ctx, int err, json_t *result, const struct rpc_error *e)
{
	struct tail *t = ctx;

	t->busy = false;
	if (t->gone) {
		tail_drop(t->c, t);
		return;
	}
	if (err < 0)
		log_error("instance %s: console output lost: %s: %s", t->uuid,
			  e->cls, e->message);
	if (t->restarted) {
		t->restarted = false;
		t->offset = 0;
		t->ino = 0;
	} else {
		t->offset += (off_t)t->sending;
	}
}

/* Opens uuid's log; -errno when there is none (yet). */
static int open_log(struct console *c, const char *uuid)
{
	struct strbuf path = STRBUF_INIT;
	int fd = -EOPNOTSUPP;

	if (c->m->drv->ops->console_log(c->m->drv, uuid, &path) == 0) {
		fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			fd = -errno;
	}
	strbuf_release(&path);
	return fd;
}

/* Reads what is new in t's file and sends it. */
static void tail_read(struct console *c, struct tail *t)
{
	const struct rpc_send s = { .timeout_ms = CONSOLE_CHUNK_DEADLINE_MS,
				    .wait_for_bus = true };
	static char buf[RPC_MAX_CONSOLE_CHUNK];
	struct strbuf text = STRBUF_INIT;
	struct rpc_error e = { 0 };
	json_t *args = NULL;
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = open_log(c, t->uuid);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0)
		goto out;
	if (st.st_ino != t->ino || st.st_size < t->offset) {
		t->ino = st.st_ino;
		t->offset = 0;
	}
	if (st.st_size == t->offset)
		goto out;
	n = pread(fd, buf, sizeof(buf), t->offset);
	if (n <= 0)
		goto out;
	t->sending = console_text(buf, (size_t)n, &text, RPC_MAX_CONSOLE_CHUNK);
	if (!text.len)
		goto out;
	args = json_pack("{s:s, s:s, s:s%}", "host", c->m->host, "uuid", t->uuid,
			 "data", text.buf, text.len);
	rc = args ? rpc_cast(c->m->bus, &conductor_console_output, &s, args, sent,
			     t, &e) :
		    rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	if (rc < 0)
		log_error("instance %s: cannot send console output: %s: %s",
			  t->uuid, e.cls, e.message);
	else
		t->busy = true;
out:
	json_decref(args);
	strbuf_release(&text);
	close(fd);
}

static long long tick(struct loop *l, void *ctx)
{
	struct console *c = ctx;
	struct hash_iter it;
	struct hash_entry *e;
	struct tail *t;

	hash_iter_init(&it, &c->tails);
	while ((e = hash_iter_next(&it))) {
		t = container_of(e, struct tail, by_uuid);
		if (!t->busy)
			tail_read(c, t);
	}
	if (c->tails.count)
		return CONSOLE_POLL_MS;
	c->timer = 0;
	return LOOP_TIMER_DONE;
}

int console_new(struct compute_manager *m, struct console **out)
{
	struct console *c = calloc(1, sizeof(*c));

	*out = c;
	if (!c)
		return -ENOMEM;
	c->m = m;
	hash_init(&c->tails, tail_cmp);
	return 0;
}

/* A new tail for uuid; from the end of its file at startup. */
static void tail_add(struct console *c, const char *uuid, bool startup)
{
	struct tail *t = calloc(1, sizeof(*t));
	struct stat st;
	int fd;

	if (!t)
		return;
	t->c = c;
	memcpy(t->uuid, uuid, UUID_STR_LEN);
	t->listed = true;
	if (startup && (fd = open_log(c, uuid)) >= 0) {
		if (fstat(fd, &st) == 0) {
			t->ino = st.st_ino;
			t->offset = st.st_size;
		}
		close(fd);
	}
	if (hash_add(&c->tails, &t->by_uuid, hash_str(t->uuid)) < 0)
		free(t);
}

void console_track(struct console *c, const struct virt_domain_state *doms,
		   size_t n, bool startup)
{
	struct strbuf path = STRBUF_INIT;
	struct hash_iter it;
	struct hash_entry *e;
	struct tail *t;
	long long id;
	size_t i;

	if (c->stopped)
		return;
	hash_iter_init(&it, &c->tails);
	while ((e = hash_iter_next(&it)))
		container_of(e, struct tail, by_uuid)->listed = false;
	for (i = 0; i < n; i++) {
		t = tail_find(c, doms[i].uuid);
		if (t) {
			t->listed = true;
			t->gone = false;
		}
		else if (c->m->drv->ops->console_log(c->m->drv, doms[i].uuid,
						     &path) == 0)
			tail_add(c, doms[i].uuid, startup);
		strbuf_reset(&path);
	}
	strbuf_release(&path);
	hash_iter_init(&it, &c->tails);
	while ((e = hash_iter_next(&it))) {
		t = container_of(e, struct tail, by_uuid);
		if (!t->listed)
			tail_drop(c, t);
	}
	if (c->tails.count && !c->timer) {
		id = loop_timer(c->m->loop, CONSOLE_POLL_MS, tick, c);
		c->timer = id > 0 ? id : 0;
	}
}

void console_restart(struct console *c, const char *uuid)
{
	struct tail *t = tail_find(c, uuid);

	if (!t)
		return;
	/* A chunk on its way is of the old file: where it ends means
	 * nothing now. */
	if (t->busy) {
		t->restarted = true;
		return;
	}
	t->offset = 0;
	t->ino = 0;
}

void console_stop(struct console *c)
{
	if (!c)
		return;
	c->stopped = true;
	loop_timer_cancel(c->m->loop, c->timer);
	c->timer = 0;
}

void console_free(struct console *c)
{
	struct hash_iter it;
	struct hash_entry *e;

	if (!c)
		return;
	hash_iter_init(&it, &c->tails);
	while ((e = hash_iter_next(&it)))
		free(container_of(e, struct tail, by_uuid));
	hash_release(&c->tails);
	free(c);
}
