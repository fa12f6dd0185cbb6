/*
 * action_record.h - instances/NAME/actions/: one directory per action an
 * instance was asked to do, as Nova's instance actions, kept across
 * restarts: what, for whom, when, and how it ended.
 */
#ifndef NOVAFS_ACTION_RECORD_H
#define NOVAFS_ACTION_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct obj;
struct txn;

extern const struct kind action_record_kind;

/* Records that action started on inst (the committer stages it with the
 * op that claims the action); *out is the record (no reference taken:
 * it lives as long as inst).  0 or -errno. */
int action_record_start(struct txn *t, struct obj *inst, const char *action,
			const char *request_id, uid_t uid, struct obj **out);
/* Records how it ended; message is the fault, or "" on success. */
int action_record_finish(struct txn *t, struct obj *rec, bool ok,
			 const char *message);
/* Appends "TIME what\n" to rec's events (its `events` file: the steps
 * of an action, a host chosen or refused); one per op. */
int action_record_event(struct txn *t, struct obj *rec, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* inst's record of request_id that has not ended, or NULL. */
struct obj *action_record_running(struct obj *inst, const char *request_id);
/* When rec started (CLOCK_REALTIME nanoseconds). */
int64_t action_record_started_ns(const struct obj *rec);

#endif
