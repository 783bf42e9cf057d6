/* bb-queue's policy over the spool: adding a case, running due entries through the
 * delivery command and deciding by its exit status (0 delivered, 75 deferred with
 * backoff, anything else failed), retry, remove, purge, and the numbers for stats. Every
 * file, path, lock and mtime is the spool's (spool.h). */
#ifndef BB_QUEUE_H
#define BB_QUEUE_H

#include <jansson.h>
#include <time.h>

#include "queue/spool.h"

struct bb_config;
struct bb_err;

struct bb_queue_policy {
	const char *deliver;	/* shell command */
	time_t timeout, backoff_min, backoff_max, lifetime, time_limit;
	time_t retention, failed_retention, corrupt_retention;	/* by final state */
	long max;
	size_t max_size;	/* largest case read back */
	int echo_stderr;	/* show the delivery command's stderr */
};

void bb_queue_policy_init(struct bb_queue_policy *p, const struct bb_config *cfg);

/* The spool's directory (malloc'd): given (-d), else queue.spool of cfg, else BB_SPOOL
 * when not empty, else the per-user default (bb_spool_default_dir). 78 when there is
 * none (no HOME), 70 out of memory. */
char *bb_queue_spool_dir(const char *given, const struct bb_config *cfg, struct bb_err *e);

/* The delivery command (bb-submit) reads the configuration this run was given: its
 * absolute path goes into BB_CONFIG (the command may change directory), unless cfg
 * came from no file. 78 when the file has no absolute path. */
int bb_queue_pass_config(const struct bb_config *cfg, struct bb_err *e);

/* Seconds until the next try after attempt number attempts (1, 2, …): backoff_min
 * doubled per attempt, capped at backoff_max, times jitter (0.8..1.2), kept within
 * [backoff_min, backoff_max]. */
time_t bb_queue_backoff(const struct bb_queue_policy *p, int attempts, double jitter);

/* Stores c durably as a deferred entry, due now; id out (37 bytes). 75 when the entry
 * of the same case is being delivered. */
int bb_queue_add(struct bb_spool *s, json_t *c, char id[37], struct bb_err *e);

struct bb_queue_tally {
	long delivered, deferred, failed, corrupt, recovered, purged;
};

/* One run: lock (wait or 75), recover, purge, deliver due entries (those a dead run
 * left in active/ last). An entry that cannot be handled does not stop the run: the
 * status is then that of the last such entry, after all were tried. */
int bb_queue_run(struct bb_spool *s, const struct bb_queue_policy *p, int wait,
    struct bb_queue_tally *t, struct bb_err *e);

/* Puts an entry back to deferred/, due now, its lifetime counted anew (since: now); a
 * corrupt one as it is, for the next run to read again (someone mended it by hand). 65
 * for a delivered entry, 75 while it is being delivered, 66 when it moved meanwhile. */
int bb_queue_retry(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e);
/* Removes the entry, every copy a crash left of it. 75 while it is being delivered, 66
 * when it moved meanwhile. */
int bb_queue_remove(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e);
/* bb_queue_retry on every entry in state st (retry --failed): one that cannot be put
 * back is warned about here and does not stop the others; *status is that of the last
 * such entry (0: none). Returns the scan's status. */
int bb_queue_retry_all(struct bb_spool *s, enum bb_qstate st, int *status,
    struct bb_err *e);
/* fn (bb_queue_retry, bb_queue_remove) on the entry of id, or of a unique id prefix of
 * at least 8 characters (bb_spool_find's statuses); a run may move the entry between
 * finding and locking it (66 from fn), so it is looked for again, up to 20 times. */
int bb_queue_by_id(struct bb_spool *s, const char *id,
    int (*fn)(struct bb_spool *, struct bb_qentry *, struct bb_err *), struct bb_err *e);
/* Removes delivered, failed and corrupt entries done longer ago than their state's
 * retention, or, with older_than >= 0, than older_than; and stale files in tmp/. */
int bb_queue_purge(struct bb_spool *s, const struct bb_queue_policy *p, time_t older_than,
    long *n, struct bb_err *e);

/* The numbers of stats, at now. Each entry counts once (the newest copy of one a crash
 * left doubled); an age is 0 when there is no such entry. */
struct bb_queue_stats {
	long entries[BB_Q_NSTATES];	/* by state */
	time_t oldest_waiting;	/* seconds since the oldest deferred or active entry was added */
	/* Failed and corrupt entries need a person: seconds since the oldest of each got
	 * there, so that an alert can fire before the retention purges it. */
	time_t oldest_failed, oldest_corrupt;
	time_t next_due;	/* when the next deferred entry is due; 0: none */
};
int bb_queue_stats(const struct bb_spool *s, time_t now, struct bb_queue_stats *st,
    struct bb_err *e);

/* The entry's bookkeeping (submission.queue) and, for corrupt entries, the reason, as a
 * JSON object for list and show; never any of the case's content. */
json_t *bb_queue_describe(const struct bb_spool *s, const struct bb_qentry *q,
    size_t max_size);
/* Every entry in a state of mask (1 << state, BB_Q_ALL), each once, described as
 * bb_queue_describe does, in a JSON array (*out) in the spool's order. */
int bb_queue_list(const struct bb_spool *s, unsigned mask, size_t max_size, json_t **out,
    struct bb_err *e);

#endif
