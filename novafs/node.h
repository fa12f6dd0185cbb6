/*
 * node.h - what an entry of an object's directory is, and how each kind
 * of entry behaves (the pmxcfs cfs_plug idea).
 *
 * A kind lists its directory's entries as struct node (name, type, mode,
 * and the few callbacks its type uses).  Each file type has one table of
 * operations (struct node_ops) in its own file: attributes and commands
 * (node_file.c), streams (node_stream.c), blobs (node_blob.c), symlinks
 * and scratch files (node_misc.c).  Directories (the root, collections,
 * object directories) are the same for every kind and live in fs.c, which
 * decodes an inode number to (object, node) and calls the type's
 * operation; it knows nothing about instances or flavors.
 *
 * Inode numbers: (serial << 8) | slot, where slot 1 is the object itself
 * (its directory; or, for a scratch file, the file) and slot 2 + i is its
 * kind's nodes[i].  The root object has serial 0, so the root directory is
 * inode 1, as FUSE wants.  Serials are never reused, so an inode number
 * never comes to mean another object.
 */
#ifndef NOVAFS_NODE_H
#define NOVAFS_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>

#include "common/strbuf.h"
#include "notify.h"

struct obj;
struct kind;
struct handle;
struct stream;

enum node_type {
	NODE_COLLECTION, /* a directory of objects of node->kind */
	NODE_ATTR,       /* a value: read renders it, a write stores it */
	NODE_COMMAND,    /* a control file: each line written runs */
	NODE_STREAM,     /* append-only lines that readers follow */
	NODE_BLOB,       /* content of any size, kept in a file on disk */
	NODE_SYMLINK,    /* a relative link to another object */
	NODE_WAIT,       /* a read that blocks until a condition holds */
	NODE_VIEW,       /* a directory of links to objects naming this one
			  * in a field (view.h) */
	NODE_TYPE_COUNT
};

/* A write in progress: node->store (or ->command) completes it exactly
 * once, from any thread, with 0 or -errno.  The writer is the process
 * that wrote (for action records and ownership checks). */
struct wreq {
	void (*done)(struct wreq *w, int err);
	uid_t uid;
	gid_t gid;
	pid_t pid;      /* the writing thread, blocked in its system call
			 * (0: none): its supplementary groups are in /proc */
};

static inline void wreq_done(struct wreq *w, int err)
{
	w->done(w, err);
}

struct node {
	const char *name;
	enum node_type type;
	mode_t mode;                 /* permission bits */
	const struct kind *kind;     /* NODE_COLLECTION, NODE_VIEW (members) */
	uint64_t deps;               /* fields (bit i: field i) its content
				      * depends on: a change invalidates it */
	/* ATTR, SYMLINK: appends the content (the link target) to out.
	 * Called under the read lock; must not block. */
	void (*show)(const struct obj *o, struct strbuf *out);
	/* ATTR: stores a complete value (len bytes, no NUL; surrounding
	 * whitespace is the callee's to ignore, the bytes its to keep).
	 * COMMAND: runs one line (without its newline).  NULL: read-only.
	 * buf is valid only during the call: copy what is kept. */
	void (*store)(struct obj *o, const char *buf, size_t len,
		      struct wreq *w);
	/* STREAM */
	struct stream *(*stream)(struct obj *o);
	/* BLOB: the backing file's path into buf; 0 or -errno. */
	int (*blob_path)(const struct obj *o, char *buf, size_t len);
	/* WAIT: whether a read may return show's content now; checked again
	 * at each change of deps.  Under a lock, must not block. */
	bool (*ready)(const struct obj *o);
	/* ATTR: a value of many lines, applied as a whole when the file is
	 * closed (flush), never a line at a time as it is written. */
	bool whole;
	/* VIEW: the members' field that names the owner, or (with
	 * view_name) whose change moves a member in or out of views */
	unsigned view_field;
	/* VIEW, optional: appends the name m has in owner's view to out,
	 * nothing when m is not listed there (under the read lock).  NULL:
	 * m is listed under its own name when view_field holds owner's
	 * name.  The kernel does not cache the entries of such a view. */
	void (*view_name)(const struct obj *owner, const struct obj *m,
			  struct strbuf *out);
	/* BLOB, optional: what the kind does around the backing file (an
	 * image's upload); NULL: a plain file at blob_path. */
	const struct blob_ops *blob;
};

/* A kind's say over its blob's life (node_blob.c does the plain thing for
 * each hook left NULL).  Each runs on a FUSE thread. */
struct blob_ops {
	/* Opens h->fd as h->flags ask (O_TRUNC included): 0 or -errno. */
	int (*open)(struct obj *o, const struct node *n, struct handle *h);
	/* Writes size bytes at off through h: the count, or -errno. */
	ssize_t (*write)(struct handle *h, const char *buf, size_t size,
			 off_t off);
	/* Sets the size through h, or with h NULL (truncate(1)) without a
	 * descriptor: 0 or -errno. */
	int (*truncate)(struct obj *o, const struct node *n, struct handle *h,
			off_t size);
	/* The last descriptor of h is closed. */
	void (*release)(struct handle *h);
};

/* Slot numbers within an inode.  The last slot is an object's link in a
 * view (view.h), so a kind has at most 253 nodes. */
#define NODE_SLOT_SELF 1
#define NODE_SLOT_FIRST 2
#define NODE_SLOT_BITS 8
#define NODE_SLOT_VIEW_LINK ((1u << NODE_SLOT_BITS) - 1)

static inline fuse_ino_t node_ino(uint64_t serial, unsigned slot)
{
	return (fuse_ino_t)((serial << NODE_SLOT_BITS) | slot);
}

/* An open file or directory. */
struct handle {
	atomic_uint refs;            /* the kernel's, and writes completing */
	struct obj *obj;             /* a reference */
	const struct node *node;     /* NULL: the object itself */
	int flags;                   /* open flags */
	struct strbuf buf;           /* rendered content, or what is written */
	size_t applied;              /* ATTR: the length of buf last applied */
	bool dirty;                  /* written since last applied */
	bool truncated;              /* opened with O_TRUNC */
	bool read_once;              /* buf holds what a read returned */
	struct waiter poll_waiter;   /* a poll waiting for a change ... */
	struct fuse_pollhandle *ph;  /* ... and whom to tell */
	uint64_t pos_skew;           /* STREAM: kernel offset -> stream offset */
	uint64_t cursor;             /* STREAM: where the next read starts */
	int fd;                      /* BLOB: the backing file, else -1 */
	/* directories: a snapshot of the entries, taken at opendir */
	struct dirent_snap *ents;
	size_t nents;
};

/* A handle on o (taking a reference) and n (NULL: o itself); NULL when
 * out of memory.  handle_put frees it with the last reference. */
struct handle *handle_new(struct obj *o, const struct node *n, int flags);
void handle_get(struct handle *h);
void handle_put(struct handle *h);
/* Registers ph to be notified when a field h's node depends on changes
 * (replacing an earlier poll of h).  Under the object read lock. */
void handle_poll_wait(struct handle *h, struct fuse_pollhandle *ph);

/* The operations of one file type; NULL means "not supported" (fs.c
 * answers with what POSIX says for that type).  Every operation that gets
 * a req replies to it itself, now or later. */
struct node_ops {
	/* Fills the size (and anything else type-specific) into st, under
	 * the read lock. */
	void (*getattr)(struct obj *o, const struct node *n, struct stat *st);
	/* Sets up h (already holding o and n); 0 or -errno. */
	int (*open)(struct obj *o, const struct node *n, struct handle *h);
	void (*read)(fuse_req_t req, struct handle *h, size_t size, off_t off);
	void (*write)(fuse_req_t req, struct handle *h, const char *buf,
		      size_t size, off_t off);
	void (*flush)(fuse_req_t req, struct handle *h);
	void (*release)(struct handle *h);
	void (*poll)(fuse_req_t req, struct handle *h,
		     struct fuse_pollhandle *ph);
	/* A truncate with no open file (truncate(1)) or of one
	 * (ftruncate: h not NULL); completes w. */
	void (*truncate)(struct obj *o, const struct node *n,
			 struct handle *h, off_t size, struct wreq *w);
};

extern const struct node_ops node_attr_ops;
extern const struct node_ops node_command_ops;
extern const struct node_ops node_stream_ops;
extern const struct node_ops node_blob_ops;
extern const struct node_ops node_symlink_ops;
extern const struct node_ops node_scratch_ops;
extern const struct node_ops node_wait_ops;

/* The operations of n's type. */
const struct node_ops *node_ops_of(const struct node *n);

#endif
