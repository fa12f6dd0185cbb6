/*
 * store.h - SQLite as the durable log of the objects in memory (obj.h),
 * and the one thread that changes them.
 *
 * Every change is an op: a small request (create this instance, set that
 * flavor, apply this report) submitted from any thread.  One committer
 * thread takes the ops that are waiting, runs each against the committed
 * state (validating, then staging its changes, which it writes to SQLite
 * at once inside one transaction), commits the transaction (one fsync for
 * the whole batch: group commit), publishes the staged changes to memory
 * under the write lock, and only then tells each op how it went.  So:
 *   - a change is durable before anyone can see it, and before the system
 *     call that asked for it returns;
 *   - ops never race: they run one at a time, each seeing everything
 *     committed before it (a compare-and-set is a plain comparison);
 *   - many parallel writers cost about one fsync per batch, not one each.
 * Two ops that touch the same object never share a batch: the second is
 * deferred to the next, so it sees the first's effect (txn_touch).
 *
 * Each kind's fields are the columns of its table; the store makes the
 * table from them (adding columns a newer kind declares), loads it at
 * start and writes changed objects back, so a new kind needs no code here.
 */
#ifndef NOVAFS_STORE_H
#define NOVAFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct coll;
struct kind;
struct obj;
struct strbuf;
struct txn;

/* Opens (creating if needed) the database at path, creates or extends the
 * kinds' tables and loads every object into memory (obj.h).  Returns 0 or
 * -errno; *why names SQLite's complaint. */
int store_open(const char *path, const struct kind *const *kinds,
	       const char **why);
/* Starts the committer thread (after fuse_daemonize: a fork keeps no
 * thread); ops submitted before wait for it.  0 or -errno. */
int store_start(void);
/* Finishes the ops already submitted, stops the committer, closes. */
void store_close(void);

/*
 * An op.  run() executes on the committer thread inside the batch's
 * transaction: it reads committed state (obj.h accessors, no lock needed:
 * the committer is the only writer), stages changes with the txn_*
 * functions, and returns what its requester gets: 0 or -errno.  Staged
 * changes are committed whatever run() returns (so a refusal can record
 * its reason in a fault field), except when it returns the -EAGAIN of
 * a txn_* call (another op of the batch holds the object: the op is run
 * again in the next batch; an -EAGAIN of its own is only an errno), or a txn_* call
 * failed (all of the op's changes are dropped; the op gets -EIO).
 * done() runs on the committer thread after the batch was published (or
 * failed to commit: err is then -EIO): it replies, or submits the next
 * step somewhere else; it must not block.  The op is the caller's memory;
 * done() usually frees it.
 */
struct op;
struct op_ops {
	int (*run)(struct op *op, struct txn *t);
	void (*done)(struct op *op, int err);
};

struct op {
	const struct op_ops *ops;
	struct op *next;          /* the store's queue */
	int err;
	unsigned attempts;
};

void store_submit(struct op *op);

/* The common case as one call: runs run(t, ctx) as an op and then
 * then(ctx, err) (both on the committer thread, as above).  If the op
 * cannot even be allocated, then() is called at once with -ENOMEM. */
void store_do(int (*run)(struct txn *t, void *ctx),
	      void (*then)(void *ctx, int err), void *ctx);

/*
 * Staging.  Each returns 0, -EAGAIN (o was touched by an earlier op of
 * this batch: return it from run() as is), or -EIO/-ENOMEM.
 */
int txn_touch(struct txn *t, struct obj *o);
int txn_set_int(struct txn *t, struct obj *o, unsigned field, int64_t v);
int txn_set_bytes(struct txn *t, struct obj *o, unsigned field,
		  const void *data, size_t len);
int txn_set_text(struct txn *t, struct obj *o, unsigned field, const char *s);
int txn_set_owner(struct txn *t, struct obj *o, uid_t uid, gid_t gid);
/* Creates an object of c's kind named name, owned by uid:gid, with fields
 * at their defaults; *out may be staged with txn_set_* before run()
 * returns.  -EEXIST when c already has (or this batch creates) that name. */
int txn_create(struct txn *t, struct coll *c, const char *name, uid_t uid,
	       gid_t gid, struct obj **out);
/* Deletes o (and, with it, every object in its nested collections). */
int txn_delete(struct txn *t, struct obj *o);
/* The request the running op serves ("req-UUID"), shown with its changes
 * in the events stream.  Copied. */
void txn_set_request(struct txn *t, const char *request_id);

/* What o's field will be once this op commits: the staged value if any,
 * else the committed one.  For an op that reads what it just staged. */
int64_t txn_int(struct txn *t, struct obj *o, unsigned field);

/* For start-up code: runs run(t, ctx) as an op and waits for it; returns
 * its result. */
int store_run(int (*run)(struct txn *t, void *ctx), void *ctx);

/* For tests and benchmarks: the number of transactions committed so far
 * and the ops they carried. */
void store_stats(uint64_t *commits, uint64_t *ops);

#endif
