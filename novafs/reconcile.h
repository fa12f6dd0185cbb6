/*
 * reconcile.h - desired state: an instance's target_state, and the
 * reconciler that brings its state there.
 *
 * target_state names the state an instance should stay in (active,
 * stopped, paused, suspended), as config tools say what they want rather
 * than what to do.  Whenever an instance's state is not its target and no
 * task runs, the reconciler issues the action of the table (actions.h)
 * that brings it one step closer, through the same runner as ctl and as
 * the instance's owner; the step is chosen again from the committed state
 * when the run claims its task, so a choice is never stale.  At most one
 * of its actions is out per instance.  One that fails (refused, or the
 * instance ends in error) is retried after 1 s, 2 s, 4 s ... at most 60 s,
 * and the instance's fault says so ("...; target_state active: retrying
 * start in 4 s"); a success or a new target starts the back-off again.
 * Only instances that need work are kept (a set, by serial), so a pass
 * costs what they do, not what all instances do.  Passes run on the bus
 * thread's loop: at once when a change makes an instance ready, and when
 * a back-off ends.
 */
#ifndef NOVAFS_RECONCILE_H
#define NOVAFS_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/states.h"

struct loop;
struct obj;
struct rpc_error;

/* The longest back-off between two tries, in seconds. */
#define RECONCILE_BACKOFF_MAX_S 60

/*
 * The ctl command that brings an instance in state toward target ("start",
 * "stop", "unpause", "resume", "pause", "suspend"), or NULL when there is
 * nothing to do: it is there, or it is in a state no action leaves
 * (building), or target is stopped and it was never started (it has no
 * domain to stop).  Pure.
 */
const char *reconcile_step(enum vm_state state, enum vm_state target,
			   bool launched);

/* The back-off in seconds after failures (>= 1) failed tries in a row:
 * 1, 2, 4, ... at most RECONCILE_BACKOFF_MAX_S.  Pure. */
unsigned reconcile_backoff_s(unsigned failures);

/* Parses a target_state file's content (len bytes, surrounding blanks
 * ignored): *name gets the target's name, "" for none.  -EINVAL with e
 * for anything else. */
int reconcile_target_parse(const char *value, size_t len, const char **name,
			   struct rpc_error *e);

/* The instance kind's published hook: inst's fields in changed were
 * just published (or loaded: all).  Under the write lock; never blocks. */
void reconcile_published(struct obj *inst, uint64_t changed);

/* Starts passing on loop, the bus thread's, with a pass at once (for
 * what the database held at start).  0 or -errno. */
int reconcile_start(struct loop *loop);
/* Stops it (on loop's thread, or once loop no longer runs) and forgets
 * the set. */
void reconcile_stop(void);

#endif
