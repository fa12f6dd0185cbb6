/*
 * publish.h - what follows a batch the store has committed and applied:
 * the events stream gets its lines, the kernel is told which cached names
 * and attributes changed, readers waiting on a change (poll, wait,
 * blocked stream reads) are woken, and the kinds that notify the bus
 * (struct kind's notify) do.
 *
 * The store calls publish_changes() under the write lock, right after it
 * applied the batch to memory and before it unlinks the objects the batch
 * deletes, so each change still has its object and, in old, the values
 * it replaced.  It must not block: what needs a system call that could
 * (cache invalidation) is queued for the notifier thread (notify.h).
 */
#ifndef NOVAFS_PUBLISH_H
#define NOVAFS_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct obj;
union value;

#define PUBLISH_OWNER (1ULL << 63) /* in mask: uid/gid changed */

struct publish_change {
	struct obj *o;
	uint64_t mask;           /* fields changed (bit i), PUBLISH_OWNER */
	bool created, deleted;
	const union value *old;  /* o's previous values, for the mask bits */
	const char *request;     /* the request it serves, "" when none */
};

void publish_changes(const struct publish_change *c, size_t n);

#endif
