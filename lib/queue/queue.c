/* bb-queue's policy; the files themselves are spool.c's. */
#include "queue/queue.h"
#include "queue/spool.h"
#include "case.h"
#include "child.h"
#include "config.h"
#include "crypto.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* A tmp/ file older than this was left by a process that died while writing it. */
#define STALE_TMP_SECONDS 3600

void
bb_queue_policy_init(struct bb_queue_policy *p, const struct bb_config *cfg)
{
	p->deliver = bb_config_str(cfg, "queue.deliver");
	p->timeout = (time_t)bb_config_int(cfg, "queue.timeout");
	p->backoff_min = (time_t)bb_config_int(cfg, "queue.backoff_min");
	p->backoff_max = (time_t)bb_config_int(cfg, "queue.backoff_max");
	p->lifetime = (time_t)bb_config_int(cfg, "queue.lifetime");
	p->retention = (time_t)bb_config_int(cfg, "queue.retention");
	p->failed_retention = (time_t)bb_config_int(cfg, "queue.failed_retention");
	p->corrupt_retention = (time_t)bb_config_int(cfg, "queue.corrupt_retention");
	p->time_limit = (time_t)bb_config_int(cfg, "queue.time_limit");
	p->max = (long)bb_config_int(cfg, "queue.max");
	p->max_size = (size_t)bb_config_int(cfg, "case.max_size");
	p->echo_stderr = 0;
	if (p->backoff_max < p->backoff_min)
		p->backoff_max = p->backoff_min;
}

time_t
bb_queue_backoff(const struct bb_queue_policy *p, int attempts, double jitter)
{
	double d = (double)p->backoff_min;
	int i;

	for (i = 1; i < attempts && d < (double)p->backoff_max; i++)
		d *= 2;
	if (d > (double)p->backoff_max)
		d = (double)p->backoff_max;
	d *= jitter;
	if (d < (double)p->backoff_min)
		d = (double)p->backoff_min;
	if (d > (double)p->backoff_max)
		d = (double)p->backoff_max;
	return (time_t)d;
}

static double
random_jitter(void)
{
	unsigned int r = 0;

	bb_random(&r, sizeof r);
	return 0.8 + 0.4 * ((double)r / 4294967295.0);
}

/* submission.queue of c, created when missing. */
static json_t *
queue_part(json_t *c)
{
	return bb_case_part(bb_case_part(c, "submission"), "queue");
}

static void
set_time(json_t *o, const char *key, time_t t)
{
	char buf[21];

	bb_time_format(t, buf);
	json_object_set_new(o, key, json_string(buf));
}

/* A since later than now by more than this is not the terminal's clock going wrong. */
#define CLOCK_SLACK 86400
/* More attempts than any lifetime allows; bounds the counter read back. */
#define ATTEMPTS_MAX 1000000

/* submission.queue as read back from a file: every field bb-queue relies on is checked
 * before use (the file may have been edited, or planted). 0, or -1 with why. */
static int
check_bookkeeping(const json_t *c, time_t now, char *why, size_t len)
{
	static const char *times[] = { "added", "since", NULL };
	const json_t *q = json_object_get(json_object_get(c, "submission"), "queue"), *v;
	time_t t;
	int i;

	if (q == NULL)
		return 0;
	if (!json_is_object(q)) {
		snprintf(why, len, "submission.queue: expected an object");
		return -1;
	}
	for (i = 0; times[i] != NULL; i++) {
		if ((v = json_object_get(q, times[i])) == NULL)
			continue;
		if (bb_time_parse(json_string_value(v), &t) != 0) {
			snprintf(why, len, "submission.queue.%s: not an RFC 3339 time", times[i]);
			return -1;
		}
		if (t > now + CLOCK_SLACK) {
			snprintf(why, len, "submission.queue.%s: lies in the future", times[i]);
			return -1;
		}
	}
	v = json_object_get(q, "attempts");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > ATTEMPTS_MAX)) {
		snprintf(why, len, "submission.queue.attempts: expected a count from 0 to %d",
		    ATTEMPTS_MAX);
		return -1;
	}
	return 0;
}

static int
read_entry(const struct bb_spool *s, const struct bb_qentry *q, int fd, size_t max,
    json_t **c, struct bb_err *e)
{
	char path[4200], *buf;
	size_t len;
	int rc, own = fd < 0;

	bb_spool_path(s, q->state, q->name, path, sizeof path);
	if (own && (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return bb_fail(e, errno == ENOENT ? BB_NOINPUT : BB_IOERR, "%s: %s", path,
		    strerror(errno));
	if (lseek(fd, 0, SEEK_SET) != 0) {
		if (own)
			close(fd);
		return bb_fail(e, BB_IOERR, "%s: %s", path, strerror(errno));
	}
	rc = bb_read_fd(fd, path, max, &buf, &len, e);
	if (own)
		close(fd);
	if (rc != 0)
		return rc;
	rc = bb_case_parse(q->name, buf, len, c, e);
	explicit_bzero(buf, len);
	free(buf);
	if (rc == 0 && strcmp(bb_case_id(*c).s, q->id) != 0) {
		json_decref(*c);
		return bb_fail(e, BB_DATAERR, "%s: the case inside has another id", q->name);
	}
	return rc;
}

/* Two locks on files at the top of the spool. run.lock: one run at a time, held for the
 * whole run. spool.lock: every change of an entry's state, held only for the change
 * itself (never while a delivery command runs), so that one process's scan for a case id
 * never falls between another's writing a new state and removing the old one. Taking
 * an entry's own lock under spool.lock never waits, so the two cannot deadlock.
 *
 * run.lock is a POSIX record lock (fcntl), not flock(2): a child created by fork does
 * not inherit a record lock, while it shares a flock with its parent until it execs. A
 * runner killed between forking its delivery command and that command's exec left the
 * lock to the orphan, and the next run found "another run is active". The lock belongs
 * to the runner alone and ends with it. (No other descriptor of run.lock is ever opened
 * in a process: closing one would drop a record lock.) */
static int
lock_file(const struct bb_spool *s, const char *name, int wait, int *fd, struct bb_err *e)
{
	char path[4200];
	int record = strcmp(name, "run.lock") == 0;

	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return bb_fail(e, BB_CANTCREAT, "%s: %s", path, strerror(errno));
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int err;
		if (record ? fcntl(*fd, wait ? F_SETLKW : F_SETLK, &fl) == 0 :
		    flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0)
			break;
		if ((err = errno) == EINTR)
			continue;
		close(*fd);
		*fd = -1;
		if (err == EWOULDBLOCK || err == EAGAIN || err == EACCES)
			return bb_fail(e, BB_TEMPFAIL, "spool %s: another run is active", s->dir);
		return bb_fail(e, BB_IOERR, "%s: lock: %s", path, strerror(err));
	}
	return 0;
}

static int
find_id(const struct bb_spool *s, const char *id, struct bb_qentry *q, struct bb_err *e)
{
	struct bb_err quiet = { 0, "" };
	int rc = bb_spool_find(s, id, q, &quiet);

	if (rc != 0 && rc != BB_NOINPUT)
		*e = quiet;
	return rc;
}

/* Moves an entry we hold locked to deferred/ (a rename keeps the lock on the file); a
 * corrupt entry's reason goes with it. */
static int
move_locked_to_deferred(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e)
{
	char reason[4200];
	int was_corrupt = q->state == BB_Q_CORRUPT, rc;

	bb_spool_path(s, BB_Q_CORRUPT, q->name, reason, sizeof reason);
	strncat(reason, ".reason", sizeof reason - strlen(reason) - 1);
	if ((rc = bb_spool_move(s, q, BB_Q_DEFERRED, 1, e)) != 0)
		return rc;
	if (was_corrupt)
		unlink(reason);
	return 0;
}

int
bb_queue_add(struct bb_spool *s, json_t *c, char id[37], struct bb_err *e)
{
	struct bb_qentry old;
	json_t *q, *prev = NULL;
	char name[96];
	int lockfd = -1, entryfd = -1, rc, have_old;
	time_t now = time(NULL);

	struct bb_case_id cid = bb_case_id(c);
	char why[200];

	snprintf(id, 37, "%s", cid.s);
	/* A run reads these back and relies on them: refused here, not found there. */
	if (check_bookkeeping(c, now, why, sizeof why) != 0)
		return bb_fail(e, BB_DATAERR, "case: %s", why);
	if ((rc = lock_file(s, "spool.lock", 1, &lockfd, e)) != 0)
		return rc;
	/* A run may move the entry between finding and locking it: look again. */
	for (int tries = 0;; tries++) {
		rc = find_id(s, id, &old, e);
		have_old = rc == 0;
		if (rc != 0 && rc != BB_NOINPUT)
			goto out;
		if (!have_old || (rc = bb_spool_lock(s, &old, &entryfd, e)) == 0)
			break;
		if (rc != BB_NOINPUT || tries >= 20) {
			if (rc == BB_NOINPUT)
				rc = bb_fail(e, BB_TEMPFAIL, "%s: entry keeps moving; try again", id);
			goto out;
		}
	}
	if (have_old) {
		/* An entry of this case is there: the new case replaces it, keeping its name,
		 * its place in the queue and its count of attempts. */
		struct bb_err ignore;
		char path[4200];
		snprintf(name, sizeof name, "%s", old.name);
		bb_spool_path(s, old.state, old.name, path, sizeof path);
		/* Not from a file another user owns or could have written. */
		if (old.state != BB_Q_CORRUPT && bb_trust_fd(entryfd, path, "spool entry",
		    BB_TRUST_MINE, &ignore) == 0 && read_entry(s, &old, entryfd, SIZE_MAX / 2, &prev,
		    NULL) == 0 && check_bookkeeping(prev, now, why, sizeof why) == 0) {
			json_t *pq = json_object_get(json_object_get(prev, "submission"), "queue");
			q = queue_part(c);
			if (json_is_object(pq)) {
				const char *keep[] = { "added", "since", "attempts", NULL };
				for (int i = 0; keep[i]; i++)
					if (json_object_get(pq, keep[i]) != NULL)
						json_object_set(q, keep[i], json_object_get(pq, keep[i]));
			}
			json_decref(prev);
		}
	} else {
		bb_spool_name(id, name);
	}
	q = queue_part(c);
	if (json_object_get(q, "added") == NULL)
		set_time(q, "added", now);
	if (json_object_get(q, "since") == NULL)
		set_time(q, "since", now);
	if (!json_is_integer(json_object_get(q, "attempts")))
		json_object_set_new(q, "attempts", json_integer(0));
	json_object_set_new(q, "state", json_string("deferred"));
	set_time(q, "next_try", now);
	json_object_del(q, "done");
	/* The old file, still locked by us, moves to deferred/ first; the new case then
	 * replaces it there. Writing the new copy first and unlinking the old one by name
	 * after would delete whatever a run wrote under that name meanwhile. */
	if (have_old && old.state != BB_Q_DEFERRED &&
	    (rc = move_locked_to_deferred(s, &old, e)) != 0)
		goto out;
	if ((rc = bb_spool_write(s, BB_Q_DEFERRED, name, c, now, e)) != 0)
		goto out;
	bb_log(LOG_INFO, "queue.added", &cid);
out:
	if (entryfd >= 0)
		close(entryfd);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* After a crash: drop the older copy of a doubled entry, and put entries a dead runner
 * left in active/ back to deferred, due now (the one duplicate delivery a crash causes),
 * their names into back (room for every entry) so that the run tries them last: an entry
 * that kills every run delivering it cannot keep the entries behind it from delivery. It
 * is not put aside for that: a kill from outside (the OOM killer, power) looks the same,
 * and a case must not be lost to it. */
static long
recover(struct bb_spool *s, char (*back)[96], size_t *nback, struct bb_err *e)
{
	struct bb_qentry *list, *losers;
	size_t n, i, nl;
	long count = 0;

	*nback = 0;
	if (bb_spool_scan(s, BB_Q_ALL, &list, &n, e) != 0)
		return -1;
	if ((losers = calloc(n ? n : 1, sizeof *losers)) == NULL) {
		free(list);
		bb_fail(e, BB_SOFTWARE, "out of memory");
		return -1;
	}
	n = bb_spool_unique(list, n, losers, &nl);
	for (i = 0; i < nl; i++) {
		struct bb_err ignore;
		if (bb_spool_unlink(s, &losers[i], 1, &ignore) == 0)
			count++;
	}
	for (i = 0; i < n; i++) {
		struct bb_err ignore;
		int fd;
		/* Locked: its delivery command still runs (the runner died, the command
		 * lives on holding the file); it stays active until that ends. */
		if (list[i].state != BB_Q_ACTIVE || bb_spool_lock(s, &list[i], &fd, &ignore) != 0)
			continue;
		if (bb_spool_move(s, &list[i], BB_Q_DEFERRED, 1, &ignore) == 0) {
			char path[4200];
			bb_spool_path(s, BB_Q_DEFERRED, list[i].name, path, sizeof path);
			utimensat(AT_FDCWD, path, NULL, 0);
			memcpy(back[(*nback)++], list[i].name, 96);
			count++;
		}
		close(fd);
	}
	free(losers);
	free(list);
	return count;
}

enum outcome { DELIVERED, DEFERRED, FAILED };

/* The case to keep after an attempt: what the command wrote if it is this case. */
static json_t *
updated_case(json_t *stored, const struct bb_child *r, const char *id)
{
	struct bb_err ignore;
	json_t *c;

	if (r->outlen == 0 || r->out_truncated ||
	    bb_case_parse("delivery output", r->out, r->outlen, &c, &ignore) != 0)
		return json_incref(stored);
	if (strcmp(bb_case_id(c).s, id) != 0) {
		json_decref(c);
		return json_incref(stored);
	}
	/* Our bookkeeping is ours: the command's copy of it may be stale. */
	queue_part(c);
	json_object_set(json_object_get(c, "submission"), "queue",
	    queue_part(stored));
	return c;
}

/* Seconds the delivery command asked us to wait (submission.retry_at/retry_after), or -1.
 * The command's output is read back like a file: a retry_at that is no RFC 3339 time is
 * not obeyed, and why says so. */
static time_t
asked_delay(const json_t *c, time_t now, char *why, size_t len)
{
	const json_t *sub = json_object_get(c, "submission");
	const json_t *at = json_object_get(sub, "retry_at"), *after =
	    json_object_get(sub, "retry_after");
	time_t t;

	if (at != NULL) {
		if (bb_time_parse(json_string_value(at), &t) == 0)
			return t > now ? t - now : 0;
		snprintf(why + strlen(why), len - strlen(why), "%ssubmission.retry_at ignored: "
		    "not an RFC 3339 time", why[0] ? "; " : "");
	}
	if (json_is_integer(after) && json_integer_value(after) >= 0)
		return (time_t)json_integer_value(after);
	return -1;
}

/* Only the authority's verdict fails a case: 65 (it refused the data) and 77 (it
 * refused us). Every other status is the terminal's trouble or the network's, which a
 * person can mend while the case waits: 75, 73 (the dir target's directory missing or
 * read-only), 74, 78, 76 (a peer's protocol error), 126/127 (the command cannot be
 * run), a crash. Failing the case for them would lose the application; deferring it
 * costs at most its lifetime. */
static int
verdict_status(int status)
{
	return status == BB_DATAERR || status == BB_NOPERM;
}

static int
deliver_one(struct bb_spool *s, const struct bb_queue_policy *p, struct bb_qentry *q,
    int orphan, struct bb_queue_tally *t, struct bb_err *e)
{
	struct bb_child r;
	struct bb_err err = { 0, "" };
	struct bb_case_id cid;
	json_t *stored, *c, *qp;
	enum outcome out;
	char envid[64], why[300], path[4200];
	char *env[] = { envid, NULL };
	time_t now, next = 0, since;
	int fd, rc, slock, lost;
	enum bb_qstate to;

	if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) != 0)
		return rc;
	if (bb_spool_lock(s, q, &fd, &err) != 0) {
		close(slock);
		return 0;	/* taken or gone: not ours now */
	}
	/* Not synced: a crash that undoes this rename leaves the entry in deferred/, which
	 * is where recovery would put it anyway. */
	rc = bb_spool_move(s, q, BB_Q_ACTIVE, 0, e);
	close(slock);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	bb_case_id_parse(&cid, q->id);
	/* Only the user's own files are delivered with the user's credentials: one that
	 * another user owns, or could have written, is no case of ours. */
	bb_spool_path(s, q->state, q->name, path, sizeof path);
	if ((rc = bb_trust_fd(fd, path, "spool entry", BB_TRUST_MINE, &err)) == BB_CONFIG)
		rc = err.status = BB_DATAERR;
	/* The stored file is indented and carries the queue's bookkeeping: it may be larger
	 * than the case that add took within case.max_size. */
	if (rc == 0)
		rc = read_entry(s, q, fd, p->max_size * 2 + (1u << 20), &stored, &err);
	if (rc == 0 && check_bookkeeping(stored, time(NULL), why, sizeof why) != 0) {
		json_decref(stored);
		rc = bb_fail(&err, BB_DATAERR, "%s", why);
	}
	if (rc != 0) {
		if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) == 0) {
			/* Only what cannot be parsed needs a person; a read error is tried again. */
			if (err.status == BB_DATAERR)
				rc = bb_spool_corrupt(s, q, err.msg, e);
			else
				rc = bb_spool_move(s, q, BB_Q_DEFERRED, 1, e);
			close(slock);
		}
		close(fd);
		if (err.status == BB_DATAERR) {
			t->corrupt++;
			bb_log(LOG_WARNING, "queue.corrupt", &cid);
		}
		return rc;
	}
	lseek(fd, 0, SEEK_SET);
	memset(&r, 0, sizeof r);
	now = time(NULL);
	if (bb_time_parse(json_string_value(json_object_get(queue_part(stored), "since")),
	    &since) != 0)
		since = q->added;
	/* An entry the last run died on is not tried again once its lifetime is over: a
	 * case that kills every run delivering it would be tried forever. Within its
	 * lifetime it is, last (a kill from outside looks the same). */
	lost = orphan && now > since + p->lifetime;
	r.status = -1;
	if (!lost) {
		snprintf(envid, sizeof envid, "BB_QUEUE_ID=%s", q->id);
		rc = bb_child_run(p->deliver, fd, env, p->timeout, p->max_size, p->echo_stderr,
		    &r, e);
		if (rc != 0) {
			/* Could not even start it: leave the entry to the next run. */
			json_decref(stored);
			bb_spool_move(s, q, BB_Q_DEFERRED, 1, &err);
			close(fd);
			return rc;
		}
		now = time(NULL);
	}
	c = lost ? json_incref(stored) : updated_case(stored, &r, q->id);
	json_decref(stored);
	qp = queue_part(c);
	int attempts = (int)json_integer_value(json_object_get(qp, "attempts")) + !lost;
	if (!lost) {
		json_object_set_new(qp, "attempts", json_integer(attempts));
		set_time(qp, "last_try", now);
		json_object_set_new(qp, "last_exit", r.status >= 0 ? json_integer(r.status) :
		    json_null());
	}
	if (lost)
		snprintf(why, sizeof why, "its last attempt never returned (the run died); "
		    "lifetime exceeded");
	else if (r.timed_out)
		snprintf(why, sizeof why, "timed out after %lld s", (long long)p->timeout);
	else if (r.status < 0)
		snprintf(why, sizeof why, "killed by signal %d", r.signal);
	else
		snprintf(why, sizeof why, "%s", r.last_err);
	if (lost)
		out = FAILED;
	else if (r.timed_out || r.status < 0 || !verdict_status(r.status))
		out = r.status == 0 && !r.timed_out ? DELIVERED : DEFERRED;
	else
		out = FAILED;
	if (out == DEFERRED) {
		time_t delay = asked_delay(c, now, why, sizeof why);
		if (delay < 0)
			delay = bb_queue_backoff(p, attempts, random_jitter());
		else if (delay > p->backoff_max)
			delay = p->backoff_max;
		next = now + delay;
		if (next > since + p->lifetime) {
			out = FAILED;
			snprintf(why + strlen(why), sizeof why - strlen(why), "%slifetime exceeded",
			    why[0] ? "; " : "");
		}
	}
	/* A Retry-After is good for one deferral: kept, it would make every later try due
	 * at once. */
	json_object_del(json_object_get(c, "submission"), "retry_at");
	json_object_del(json_object_get(c, "submission"), "retry_after");
	json_object_set_new(qp, "last_error", why[0] ? json_string(why) : json_null());
	if (json_object_get(qp, "last_error") == NULL)	/* not UTF-8: keep none */
		json_object_set_new(qp, "last_error", json_null());
	to = out == DEFERRED ? BB_Q_DEFERRED : out == DELIVERED ? BB_Q_DELIVERED : BB_Q_FAILED;
	if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) != 0)
		slock = -1;
	if (out == DEFERRED) {
		json_object_set_new(qp, "state", json_string("deferred"));
		set_time(qp, "next_try", next);
		rc = bb_spool_write(s, BB_Q_DEFERRED, q->name, c, next, e);
		t->deferred++;
		bb_log_n(LOG_NOTICE, "queue.deferred", &cid, "attempts", attempts);
	} else {
		json_object_set_new(qp, "state", json_string(out == DELIVERED ? "delivered" :
		    "failed"));
		json_object_del(qp, "next_try");
		set_time(qp, "done", now);
		rc = bb_spool_write(s, to, q->name, c, now, e);
		if (out == DELIVERED) {
			t->delivered++;
			bb_log_n(LOG_INFO, "queue.delivered", &cid, "attempts", attempts);
		} else {
			t->failed++;
			bb_log_n(LOG_WARNING, "queue.failed", &cid, "exit", r.status);
		}
	}
	/* The new state is on disk; only now does the active copy go. Not synced: should a
	 * crash bring it back, the next run drops it for the newer copy. */
	if (rc == 0) {
		rc = bb_spool_unlink(s, q, 0, e);
	} else {
		/* No room for the new state (full disk): the old file moves there as it is.
		 * A rename needs no space, and the outcome must not be delivered again. */
		struct bb_err ignore;
		if (bb_spool_move(s, q, to, 1, &ignore) == 0 && to == BB_Q_DEFERRED) {
			struct timespec ts[2] = { { next, 0 }, { next, 0 } };
			bb_spool_path(s, to, q->name, path, sizeof path);
			utimensat(AT_FDCWD, path, ts, 0);
		}
	}
	if (slock >= 0)
		close(slock);
	json_decref(c);
	bb_child_free(&r);
	close(fd);
	return rc;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
bb_queue_run(struct bb_spool *s, const struct bb_queue_policy *p, int wait,
    struct bb_queue_tally *t, struct bb_err *e)
{
	struct bb_qentry *list;
	struct bb_err err = { 0, "" };
	struct stat sb;
	char (*back)[96];
	size_t n, i, nback = 0;
	long taken = 0, nerr = 0;
	double start = mono();
	int lockfd, rc = 0, erc, pass, stop = 0;

	memset(t, 0, sizeof *t);
	if (lstat(s->dir, &sb) != 0 && errno == ENOENT)
		return 0;	/* no spool: nothing was ever queued */
	{
		/* Make any state directory that is missing (a spool from an older bb). */
		char *dir = s->dir;
		rc = bb_spool_open(s, dir, 1, e);
		free(dir);
		if (rc != 0)
			return rc;
	}
	if ((rc = lock_file(s, "run.lock", wait, &lockfd, e)) != 0)
		return rc;
	if ((rc = bb_spool_scan(s, 1u << BB_Q_ACTIVE, &list, &n, e)) != 0 ||
	    (back = calloc(n ? n : 1, sizeof *back)) == NULL) {
		if (rc == 0) {
			free(list);
			rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		}
		close(lockfd);
		return rc;
	}
	free(list);
	{
		int slock;
		if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) != 0) {
			free(back);
			close(lockfd);
			return rc;
		}
		/* Nothing enters active/ without run.lock: n bounds what recovery finds. */
		t->recovered = recover(s, back, &nback, e);
		close(slock);
	}
	if (t->recovered < 0) {
		free(back);
		close(lockfd);
		return e->status;
	}
	if ((rc = bb_queue_purge(s, p, -1, &t->purged, e)) != 0 ||
	    (rc = bb_spool_scan(s, 1u << BB_Q_DEFERRED, &list, &n, e)) != 0) {
		free(back);
		close(lockfd);
		return rc;
	}
	/* Two passes: the entries a dead run left behind come after all the others. */
	for (pass = 0; pass < 2 && !stop; pass++) {
		for (i = 0; i < n && !stop; i++) {
			size_t k;
			for (k = 0; k < nback && strcmp(back[k], list[i].name) != 0; k++)
				;
			if ((k < nback) != pass || list[i].mtime > time(NULL))
				continue;
			if ((p->max > 0 && taken >= p->max) ||
			    (p->time_limit > 0 && mono() - start >= (double)p->time_limit)) {
				stop = 1;
				break;
			}
			taken++;
			/* One entry's trouble is that entry's: the run goes on. */
			if ((erc = deliver_one(s, p, &list[i], pass, t, &err)) != 0) {
				bb_warn("%s", err.msg);
				rc = erc;
				nerr++;
			}
		}
	}
	free(list);
	free(back);
	close(lockfd);
	if (rc != 0)
		bb_fail(e, rc, "spool %s: %ld entr%s could not be handled", s->dir, nerr,
		    nerr == 1 ? "y" : "ies");
	return rc;
}

static int
retry_locked(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e)
{
	json_t *c, *qp;
	time_t now = time(NULL);
	int fd, rc;

	if (q->state == BB_Q_DELIVERED)
		return bb_fail(e, BB_DATAERR, "%s: was delivered; nothing to retry", q->id);
	if ((rc = bb_spool_lock(s, q, &fd, e)) != 0)
		return rc;
	/* Into deferred/ while locked, then rewritten there: see bb_queue_add. */
	if (q->state != BB_Q_DEFERRED) {
		int was_corrupt = q->state == BB_Q_CORRUPT;
		char path[4200];
		if ((rc = move_locked_to_deferred(s, q, e)) != 0) {
			close(fd);
			return rc;
		}
		bb_spool_path(s, BB_Q_DEFERRED, q->name, path, sizeof path);
		utimensat(AT_FDCWD, path, NULL, 0);
		if (was_corrupt) {
			/* Someone repaired it by hand: the next run reads it again. */
			close(fd);
			return 0;
		}
	}
	if ((rc = read_entry(s, q, fd, SIZE_MAX / 2, &c, e)) != 0) {
		close(fd);
		return rc;
	}
	qp = queue_part(c);
	json_object_set_new(qp, "state", json_string("deferred"));
	set_time(qp, "since", now);
	set_time(qp, "next_try", now);
	json_object_del(qp, "done");
	rc = bb_spool_write(s, BB_Q_DEFERRED, q->name, c, now, e);
	json_decref(c);
	close(fd);
	return rc;
}

int
bb_queue_retry(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e)
{
	int slock, rc;

	if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) != 0)
		return rc;
	rc = retry_locked(s, q, e);
	close(slock);
	return rc;
}

/* Every copy of an entry's file, in whatever state a crash left one: removing only the
 * newest would let the next run recover an older copy and deliver a removed case. */
static int
unlink_copies(struct bb_spool *s, const struct bb_qentry *q, struct bb_err *e)
{
	struct bb_qentry other = *q;
	char path[4200];
	int st, rc = 0;

	for (st = 0; st < BB_Q_NSTATES && rc == 0; st++) {
		other.state = (enum bb_qstate)st;
		bb_spool_path(s, other.state, q->name, path, sizeof path);
		if (st == (int)q->state || access(path, F_OK) == 0)
			rc = bb_spool_unlink(s, &other, 1, e);
	}
	return rc;
}

int
bb_queue_remove(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e)
{
	int fd, slock, rc;

	if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) != 0)
		return rc;
	if ((rc = bb_spool_lock(s, q, &fd, e)) == 0) {
		rc = unlink_copies(s, q, e);
		close(fd);
	}
	close(slock);
	return rc;
}

/* When an entry of a final state was done: delivered and failed entries carry it in
 * their mtime; a corrupt one in its reason's (written when it became corrupt), or in its
 * own when it has none. */
time_t
bb_queue_done_time(const struct bb_spool *s, const struct bb_qentry *q)
{
	char path[4200];
	struct stat sb;

	if (q->state != BB_Q_CORRUPT)
		return q->mtime;
	bb_spool_path(s, q->state, q->name, path, sizeof path);
	strncat(path, ".reason", sizeof path - strlen(path) - 1);
	return lstat(path, &sb) == 0 ? sb.st_mtime : q->mtime;
}

int
bb_queue_purge(struct bb_spool *s, const struct bb_queue_policy *p, time_t older_than,
    long *n, struct bb_err *e)
{
	struct bb_qentry *list;
	size_t cnt, i;
	time_t now = time(NULL), keep;
	int rc, slock;

	*n = 0;
	if ((rc = lock_file(s, "spool.lock", 1, &slock, e)) != 0)
		return rc;
	bb_spool_clean_tmp(s, STALE_TMP_SECONDS);
	if ((rc = bb_spool_scan(s, BB_Q_ALL, &list, &cnt, e)) != 0) {
		close(slock);
		return rc;
	}
	cnt = bb_spool_unique(list, cnt, NULL, NULL);
	for (i = 0; i < cnt && rc == 0; i++) {
		switch (list[i].state) {
		case BB_Q_DELIVERED: keep = p->retention; break;
		case BB_Q_FAILED: keep = p->failed_retention; break;
		case BB_Q_CORRUPT: keep = p->corrupt_retention; break;
		default: continue;
		}
		if (older_than >= 0)
			keep = older_than;
		if (bb_queue_done_time(s, &list[i]) > now - keep)
			continue;
		if ((rc = unlink_copies(s, &list[i], e)) == 0)
			(*n)++;
	}
	free(list);
	close(slock);
	return rc;
}

json_t *
bb_queue_describe(const struct bb_spool *s, const struct bb_qentry *q, size_t max_size)
{
	static const char *keys[] = { "added", "since", "attempts", "last_try", "last_exit",
		"last_error", "next_try", "done", NULL };
	struct bb_err ignore;
	json_t *o, *c = NULL, *qp;
	char when[21];
	int i;

	o = json_pack("{s:s, s:s, s:s}", "id", q->id, "state", bb_qstate_name(q->state),
	    "file", q->name);
	bb_time_format(q->added, when);
	json_object_set_new(o, "added", json_string(when));
	if (q->state == BB_Q_CORRUPT) {
		char path[4200], *buf;
		size_t len;
		bb_spool_path(s, q->state, q->name, path, sizeof path);
		strncat(path, ".reason", sizeof path - strlen(path) - 1);
		if (bb_read_file(path, 4096, &buf, &len, &ignore) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			json_object_set_new(o, "reason", json_string(buf));
			free(buf);
		}
		return o;
	}
	if (read_entry(s, q, -1, max_size, &c, &ignore) != 0)
		return o;
	qp = json_object_get(json_object_get(c, "submission"), "queue");
	for (i = 0; keys[i] != NULL; i++)
		if (json_object_get(qp, keys[i]) != NULL)
			json_object_set(o, keys[i], json_object_get(qp, keys[i]));
	if (q->state == BB_Q_DEFERRED) {
		bb_time_format(q->mtime, when);
		json_object_set_new(o, "next_try", json_string(when));
	}
	json_decref(c);
	return o;
}
