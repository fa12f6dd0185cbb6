/*
 * store.h - the novafs state store: every object novafs knows, in SQLite.
 *
 * The FUSE daemon is the only process that opens the database (compute
 * hosts and the scheduler report back by cast).  The database runs in WAL
 * mode with synchronous=FULL, so a change is durable when its function
 * returns: a SIGKILL loses nothing that a caller was told succeeded, and
 * each change is one statement or one transaction, so nothing is ever half
 * written.
 *
 * Records are copied out into fixed-size structs, so callers own what they
 * read and never hold a pointer into the store.  One store is shared by
 * every FUSE thread: SQLite's serialized mode makes each call atomic, and
 * changes that depend on what a caller saw are compare-and-set updates
 * (struct instance_patch's expected_* fields), never read-modify-write.
 */
#ifndef NOVAFS_STORE_H
#define NOVAFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NAME_MAX_LEN 63 /* object names: [A-Za-z0-9._-]{1,63} */
#define ATTR_MAX_LEN 4096 /* the bytes a desired-state file keeps */

struct instance {
	char uuid[37];
	char name[NAME_MAX_LEN + 1];
	uid_t uid;
	gid_t gid;
	/* Desired state, exactly as written (echo's newline included). */
	char flavor_raw[ATTR_MAX_LEN];
	size_t flavor_raw_len;
	char flavor[NAME_MAX_LEN + 1]; /* the parsed flavor name, "" if unset */
	/* Observed state.  "" means none for task_state, host and fault. */
	char vm_state[16];
	char task_state[24];
	char power_state[16];
	char host[256];
	char fault[1024];
	bool launched;                 /* has been started at least once */
	int64_t created_at, updated_at; /* nanoseconds since the epoch */
};

struct flavor {
	char name[NAME_MAX_LEN + 1];
	int vcpus;
	int memory_mb;
	int disk_gb;
};

/*
 * A change to one instance.  NULL pointers leave a column as it is; ""
 * clears a text column.  The update happens only if every expected_* that
 * is not NULL matches the stored value (and, with require_unlaunched, the
 * instance has never been started): that is how a caller claims a task
 * without racing another thread, and how a redelivered or stale report
 * from a compute host changes nothing (Nova's expected_task_state).
 */
struct instance_patch {
	const char *expected_vm_state;
	const char *expected_task_state;
	bool require_unlaunched;

	const char *vm_state;
	const char *task_state;
	const char *power_state;
	const char *host;
	const char *fault;
	const char *flavor;
	const char *flavor_raw;   /* with flavor_raw_len */
	size_t flavor_raw_len;
	bool set_launched;
	bool set_owner;           /* with uid and gid */
	uid_t uid;
	gid_t gid;
};

struct store;

/* Opens (creating if needed) the database at path, applies the schema and
 * seeds the standard flavors.  Returns 0 or -errno; *why (a static string
 * or NULL) may name SQLite's complaint. */
int store_open(const char *path, struct store **out, const char **why);
void store_close(struct store *st);

/* After a crash, tasks that only this daemon drives ("scheduling",
 * "deleting") can never finish: put them back to none with a fault.
 * Returns the number of instances repaired, or -errno. */
int store_reset_interrupted(struct store *st);

/* Creates a stopped instance with a new UUID; -EEXIST if the name exists. */
int store_instance_create(struct store *st, const char *name, uid_t uid,
			  gid_t gid, struct instance *out);
/* -ENOENT if there is no such instance. */
int store_instance_get(struct store *st, const char *name, struct instance *out);
/* Calls fn for each instance name in name order; stops early and returns
 * fn's value when it is not 0. */
int store_instance_list(struct store *st,
			int (*fn)(void *ctx, const char *name), void *ctx);
/* Returns 1 when the patch was applied, 0 when an expectation did not
 * hold (or there is no such instance), -errno on failure. */
int store_instance_update(struct store *st, const char *uuid,
			  const struct instance_patch *patch);
/* Deletes the instance; deleting a missing one succeeds. */
int store_instance_delete(struct store *st, const char *uuid);

int store_flavor_get(struct store *st, const char *name, struct flavor *out);
int store_flavor_list(struct store *st,
		      int (*fn)(void *ctx, const char *name), void *ctx);

#endif
