/*
 * events.h - the events stream: one line per change of any object.
 *
 * `tail -f mnt/nova/events` follows what happens in the cloud.  Each line
 * is tab-separated, with tabs, newlines and other control bytes in values
 * escaped (\t, \n, \xNN), so awk -F'\t' and cut -f split it safely:
 *
 *     TIME  KIND  NAME  FIELD  OLD  NEW  REQUEST
 *
 * TIME is UTC with microseconds; FIELD is a field of the kind (vm_state,
 * task_state, host, fault, ...) or "created"/"deleted" (OLD and NEW are
 * then "-"); REQUEST is the id of the request that caused the change, or
 * "-".  The stream keeps its last EVENTS_KEPT lines for readers that fall
 * behind.
 */
#ifndef NOVAFS_EVENTS_H
#define NOVAFS_EVENTS_H

#include <stddef.h>

#define EVENTS_KEPT 10000

struct publish_change;

/* Creates the stream and its entry in the root directory.  0 or -errno. */
int events_init(void);
void events_shutdown(void);

/* Appends the lines for a published batch (under the write lock). */
void events_record(const struct publish_change *c, size_t n);

#endif
