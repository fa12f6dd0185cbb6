/*
 * obj.h - every novafs object, in memory (the pmxcfs memdb model).
 *
 * An object is an instance, a flavor, a network, an action record...: a
 * directory in the mount.  Its kind (struct kind) says everything generic
 * code needs to know about it: its fields (the columns of its table in the
 * store), its directory's entries (struct node, see node.h), and hooks.
 * Objects live in collections (a directory of objects of one kind:
 * instances/, or instances/web1/actions/) and are indexed by name within
 * their collection and by serial and UUID globally, so a lookup costs the
 * same with 10 or 100,000 of them.
 *
 * Reads never touch SQLite.  The store (store.h) is the only writer: it
 * commits a change to SQLite first and then publishes it here, under the
 * write lock; readers take the read lock, copy what they need, and let go.
 * Between those two steps nobody can see the change, so what a reader sees
 * is always durable.
 *
 * Lifetime: the collection holds one reference to each member; open file
 * handles hold theirs.  A deleted object is unlinked from every index and
 * marked dead, and freed when its last reference goes, so a descriptor
 * stays bound to the object it was opened on and fails once it is gone,
 * whatever is created later under the same name.
 */
#ifndef NOVAFS_OBJ_H
#define NOVAFS_OBJ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/hash.h"
#include "common/uuid.h"

struct coll;
struct node;
struct publish_change;
struct obj;
struct strbuf;
struct txn;
struct wreq;

#define OBJ_NAME_MAX 63   /* names: [A-Za-z0-9._-]{1,63}, not . or .. */

/* An immutable byte string (NUL-terminated too), replaced whole. */
struct bytes {
	uint32_t len;
	char data[];
};

union value {
	int64_t i;          /* FIELD_INT, FIELD_ENUM */
	struct bytes *b;    /* FIELD_TEXT, FIELD_BYTES; NULL is empty */
};

enum field_type {
	FIELD_TEXT,   /* UTF-8 text, stored as TEXT */
	FIELD_BYTES,  /* bytes exactly as written (desired state), BLOB */
	FIELD_INT,
	FIELD_ENUM,   /* an index into names, stored as its name (TEXT) */
};

#define FIELD_EVENT 0x1u  /* a change of it goes to the events stream */

struct field {
	const char *name;          /* the column */
	enum field_type type;
	unsigned flags;
	const char *const *names;  /* FIELD_ENUM */
	int64_t def;               /* FIELD_INT/FIELD_ENUM default */
};

/* The hooks and tables of a kind; see kinds.c for the registered ones. */
struct kind {
	const char *name;            /* "instance", for the events stream */
	const char *table;           /* its store table, "instances"; NULL:
				      * not persisted (scratch files) */
	const char *collection;      /* top-level directory ("instances"), or
				      * NULL for a kind nested in another */
	mode_t collection_mode;      /* of that directory */
	mode_t mode;                 /* of each object's directory */
	bool scratch;                /* its directory takes temporary files
				      * (scratch.h): writable kinds */
	const struct field *fields;
	unsigned nfields;
	const struct node *nodes;    /* the entries of an object's directory */
	unsigned nnodes;
	/* Called by the store after load and after each published change,
	 * under the write lock: keeps derived state (indexes) current. */
	void (*published)(struct obj *o, uint64_t changed);
	/* Directory operations on objects of this kind; NULL: refused.
	 * Each completes w exactly once (see node.h, struct wreq). */
	void (*create)(struct coll *c, const char *name, struct wreq *w);
	void (*remove)(struct obj *o, struct wreq *w);
	void (*set_owner)(struct obj *o, uid_t uid, gid_t gid, struct wreq *w);
	/* Frees o->priv (default: free()). */
	void (*release)(struct obj *o);
	/* Publishes a committed change of o as an oslo.messaging
	 * notification (conductor_notify), or nothing.  Called as the change
	 * is published, under the write lock: it must not block.  NULL:
	 * none. */
	void (*notify)(const struct publish_change *c);
	/* Stages what a new database starts with (the standard flavors,
	 * the default network) when c, the kind's top-level collection, is
	 * empty at start (kinds_seed).  NULL: nothing. */
	int (*seed)(struct txn *t, struct coll *c);
	/* Stages the first values of a new object's fields that are more
	 * than a constant default, in the op that creates it (objops.h).
	 * NULL: none. */
	int (*init)(struct txn *t, struct obj *o);
};

struct coll;

struct obj {
	struct hash_entry by_serial;   /* obj_by_serial() */
	struct hash_entry by_uuid;     /* obj_by_uuid() */
	struct hash_entry by_name;     /* in coll */
	struct obj *prev, *next;       /* in coll, in creation order */
	const struct kind *kind;
	struct coll *coll;             /* where it is listed */
	struct coll **colls;           /* its own nested collections, by
					* node index (NULL where none) */
	struct coll *scratch;          /* temporary files and directories in
					* its directory (scratch.h) */
	uint64_t serial;               /* never reused: inode numbers */
	atomic_uint refs;
	atomic_uint version;           /* bumped by every published change */
	atomic_uint part_gen;          /* the generation of its directory
					* parts' inodes (fs.c remove_part) */
	bool dead;
	bool in_serial;                /* linked into the serial index */
	bool looked_up;                /* the kernel may cache its entries */
	char *name;
	char uuid[UUID_STR_LEN];
	uid_t uid;
	gid_t gid;
	int64_t created_ns, updated_ns;
	void *priv;                    /* kind-owned memory (scratch data) */
	union value v[];               /* kind->nfields */
};

/* A directory of objects of one kind. */
struct coll {
	const struct kind *kind;       /* of its members */
	struct obj *owner;             /* whose directory holds it */
	unsigned node;                 /* its index in owner's kind->nodes */
	struct hash_table by_name;
	struct obj *head, *tail;
	size_t count;
	int64_t updated_ns;
};

/* The object whose directory is the root of the mount (serial 0). */
extern struct obj *obj_root;

/* The lock readers share and the store takes to publish. */
void obj_rdlock(void);
void obj_wrlock(void);
void obj_unlock(void);

/* Sets up the indexes and the root, whose directory lists the collection
 * of each kind that has one.  Returns 0 or -ENOMEM. */
int obj_init(const struct kind *const *kinds);
/* Adds an entry to the root directory (the events stream, say): for
 * modules that are not kinds.  Before the mount only.  0 or -ENOSPC. */
int obj_root_add(const struct node *n);
void obj_shutdown(void);

/* Allocates an object of kind k named name (not yet in any index), with
 * fields at their defaults and a reference for the caller.  uuid NULL:
 * a new random one.  NULL when out of memory. */
struct obj *obj_new(const struct kind *k, const char *name, const char *uuid);
void obj_get(struct obj *o);
/* A reference on an object that may be dying (found dead by serial):
 * false when its last reference is already gone. */
bool obj_tryget(struct obj *o);
/* Drops a reference; frees the object with the last. */
void obj_put(struct obj *o);

/* Under the write lock: inserts o into c and the global indexes (taking
 * the collection's reference from the caller), or removes it from c and
 * its name and UUID indexes (dropping that reference and marking it
 * dead).  A dead object stays findable by serial, so that an open
 * descriptor's inode still works, until its last reference goes and the
 * next obj_reap() (also under the write lock) frees it. */
void obj_link(struct coll *c, struct obj *o);
void obj_unlink(struct obj *o);
void obj_reap(void);

/* Under either lock.  obj_by_serial may return a dead object. */
struct obj *obj_by_serial(uint64_t serial);
struct obj *obj_by_uuid(const char *uuid);
struct obj *coll_find(const struct coll *c, const char *name);
/* The collection of owner's node index i (made with the object). */
struct coll *obj_coll(struct obj *owner, unsigned i);
/* owner's temporary files, a collection of kind k, made on first use
 * (under the write lock); NULL when out of memory. */
struct coll *obj_scratch_coll(struct obj *owner, const struct kind *k);
/* The top-level collection of kind k, or NULL. */
struct coll *obj_top_coll(const struct kind *k);

/* Values.  obj_text returns "" for an empty text; the pointer is valid
 * under the lock it was read under. */
const char *obj_text(const struct obj *o, unsigned field);
size_t obj_len(const struct obj *o, unsigned field);
int64_t obj_int(const struct obj *o, unsigned field);

struct bytes *bytes_new(const void *data, size_t len);
void bytes_free(struct bytes *b);
bool bytes_equal(const struct bytes *a, const void *data, size_t len);

/* 0 when name may name an object, else -EINVAL. */
int obj_check_name(const char *name);

#endif
