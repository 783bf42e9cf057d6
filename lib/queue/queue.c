/* bb-queue's policy: what an exit status means, when to try again, how long to keep an
 * entry. Every file, path, lock and mtime is spool.c's. */
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *
bb_queue_spool_dir(const char *given, const struct bb_config *cfg, struct bb_err *e)
{
	const char *dir = given;
	char *d;

	if (dir == NULL)
		dir = bb_config_str(cfg, "queue.spool");
	if (dir == NULL && (dir = getenv("BB_SPOOL")) != NULL && *dir == '\0')
		dir = NULL;
	if (dir != NULL)
		d = strdup(dir);
	else if ((d = bb_spool_default_dir()) == NULL && errno != ENOMEM) {
		bb_fail(e, BB_CONFIG, "no spool: HOME is not set; give one with -d, "
		    "queue.spool in bb.yaml or BB_SPOOL");
		return NULL;
	}
	if (d == NULL)
		bb_fail(e, BB_SOFTWARE, "out of memory");
	return d;
}

int
bb_queue_pass_config(const struct bb_config *cfg, struct bb_err *e)
{
	const char *file = bb_config_file(cfg);
	char *abs;
	int rc = 0;

	if (file == NULL)
		return 0;
	if ((abs = realpath(file, NULL)) == NULL)
		return bb_fail(e, BB_CONFIG, "%s: %s", file, strerror(errno));
	if (setenv("BB_CONFIG", abs, 1) != 0)
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
	free(abs);
	return rc;
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
	char *buf;
	size_t len;
	int rc;

	if ((rc = bb_spool_read(s, q, fd, max, &buf, &len, e)) != 0)
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

static int
find_id(const struct bb_spool *s, const char *id, struct bb_qentry *q, struct bb_err *e)
{
	struct bb_err quiet = { 0, "" };
	int rc = bb_spool_find(s, id, q, &quiet);

	if (rc != 0 && rc != BB_NOINPUT)
		*e = quiet;
	return rc;
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
	if ((rc = bb_spool_change_lock(s, &lockfd, e)) != 0)
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
		snprintf(name, sizeof name, "%s", old.name);
		/* Not from a file another user owns or could have written. */
		if (old.state != BB_Q_CORRUPT && bb_spool_trust(s, &old, entryfd, &ignore) == 0 &&
		    read_entry(s, &old, entryfd, SIZE_MAX / 2, &prev, NULL) == 0 &&
		    check_bookkeeping(prev, now, why, sizeof why) == 0) {
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
	/* The old file, still locked by us, moves to deferred/ first (a rename keeps the
	 * lock; a corrupt entry's reason goes); the new case then replaces it there. Writing
	 * the new copy first and unlinking the old one by name after would delete whatever a
	 * run wrote under that name meanwhile. */
	if (have_old && old.state != BB_Q_DEFERRED &&
	    (rc = bb_spool_move(s, &old, BB_Q_DEFERRED, 1, e)) != 0)
		goto out;
	if ((rc = bb_spool_write(s, BB_Q_DEFERRED, name, c, now, e)) != 0)
		goto out;
	bb_log(LOG_INFO, "queue.added", &cid);
out:
	bb_spool_unlock(entryfd);
	bb_spool_unlock(lockfd);
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
			bb_spool_set_due(s, &list[i], 0);
			memcpy(back[(*nback)++], list[i].name, 96);
			count++;
		}
		bb_spool_unlock(fd);
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

/* Takes a due entry: its lock, then into active/, both under spool.lock. 0 with *fd -1
 * when it is not ours now (another process holds it, or it is gone). */
static int
take(struct bb_spool *s, struct bb_qentry *q, int *fd, struct bb_err *e)
{
	struct bb_err ignore;
	int slock, rc;

	*fd = -1;
	if ((rc = bb_spool_change_lock(s, &slock, e)) != 0)
		return rc;
	if (bb_spool_lock(s, q, fd, &ignore) != 0) {
		*fd = -1;
		bb_spool_unlock(slock);
		return 0;
	}
	/* Not synced: a crash that undoes this rename leaves the entry in deferred/, which
	 * is where recovery would put it anyway. */
	rc = bb_spool_move(s, q, BB_Q_ACTIVE, 0, e);
	bb_spool_unlock(slock);
	if (rc != 0) {
		bb_spool_unlock(*fd);
		*fd = -1;
	}
	return rc;
}

/* The case of an entry taken, read from fd: only the user's own file is delivered with
 * the user's credentials (one that another user owns, or could have written, is no
 * case of ours), and only with bookkeeping that holds. 65 in err for what a person must
 * look at, another status for a read error. */
static int
read_taken(const struct bb_spool *s, const struct bb_queue_policy *p,
    const struct bb_qentry *q, int fd, json_t **stored, struct bb_err *err)
{
	char why[300];
	int rc;

	if ((rc = bb_spool_trust(s, q, fd, err)) == BB_CONFIG)
		rc = err->status = BB_DATAERR;
	/* The stored file is indented and carries the queue's bookkeeping: it may be larger
	 * than the case that add took within case.max_size. */
	if (rc == 0)
		rc = read_entry(s, q, fd, p->max_size * 2 + (1u << 20), stored, err);
	if (rc == 0 && check_bookkeeping(*stored, time(NULL), why, sizeof why) != 0) {
		json_decref(*stored);
		rc = bb_fail(err, BB_DATAERR, "%s", why);
	}
	return rc;
}

/* An entry taken that could not be read (err): only what cannot be parsed needs a
 * person and goes to corrupt/; a read error is tried again from deferred/. */
static int
set_aside(struct bb_spool *s, struct bb_qentry *q, const struct bb_err *err,
    struct bb_err *e)
{
	int slock, rc;

	if ((rc = bb_spool_change_lock(s, &slock, e)) != 0)
		return rc;
	if (err->status == BB_DATAERR)
		rc = bb_spool_corrupt(s, q, err->msg, e);
	else
		rc = bb_spool_move(s, q, BB_Q_DEFERRED, 1, e);
	bb_spool_unlock(slock);
	return rc;
}

/* Runs the delivery command on the entry's file (fd, at its start), the entry's id in
 * BB_QUEUE_ID. When the command cannot even be started the entry goes back to
 * deferred/, for the next run. */
static int
attempt(struct bb_spool *s, const struct bb_queue_policy *p, struct bb_qentry *q, int fd,
    struct bb_child *r, struct bb_err *e)
{
	struct bb_err ignore;
	char envid[64];
	char *env[] = { envid, NULL };
	int rc;

	snprintf(envid, sizeof envid, "BB_QUEUE_ID=%s", q->id);
	rc = bb_child_run(p->deliver, fd, env, p->timeout, p->max_size, p->echo_stderr, r, e);
	if (rc != 0)
		bb_spool_move(s, q, BB_Q_DEFERRED, 1, &ignore);
	return rc;
}

/* The outcome of an attempt r (lost: none was made, the last one never returned), for
 * a deferral with the next try in *next. Sets submission.queue.last_error of c to why
 * and drops the Retry-After the command asked for. */
static enum outcome
judge(const struct bb_queue_policy *p, json_t *c, const struct bb_child *r, int lost,
    int attempts, time_t since, time_t now, time_t *next)
{
	json_t *qp = queue_part(c);
	enum outcome out;
	char why[300];

	if (lost)
		snprintf(why, sizeof why, "its last attempt never returned (the run died); "
		    "lifetime exceeded");
	else if (r->timed_out)
		snprintf(why, sizeof why, "timed out after %lld s", (long long)p->timeout);
	else if (r->status < 0)
		snprintf(why, sizeof why, "killed by signal %d", r->signal);
	else
		snprintf(why, sizeof why, "%s", r->last_err);
	if (lost)
		out = FAILED;
	else if (r->timed_out || r->status < 0 || !verdict_status(r->status))
		out = r->status == 0 && !r->timed_out ? DELIVERED : DEFERRED;
	else
		out = FAILED;
	if (out == DEFERRED) {
		time_t delay = asked_delay(c, now, why, sizeof why);
		if (delay < 0)
			delay = bb_queue_backoff(p, attempts, random_jitter());
		else if (delay > p->backoff_max)
			delay = p->backoff_max;
		*next = now + delay;
		if (*next > since + p->lifetime) {
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
	return out;
}

/* Writes c in its new state (out; a deferral due at next) under spool.lock, counts and
 * logs it; only then does the active copy q go. */
static int
record(struct bb_spool *s, struct bb_qentry *q, json_t *c, enum outcome out, time_t now,
    time_t next, int attempts, int status, struct bb_queue_tally *t,
    const struct bb_case_id *cid, struct bb_err *e)
{
	json_t *qp = queue_part(c);
	enum bb_qstate to = out == DEFERRED ? BB_Q_DEFERRED : out == DELIVERED ?
	    BB_Q_DELIVERED : BB_Q_FAILED;
	int slock, rc;

	if (bb_spool_change_lock(s, &slock, e) != 0)
		slock = -1;
	if (out == DEFERRED) {
		json_object_set_new(qp, "state", json_string("deferred"));
		set_time(qp, "next_try", next);
		rc = bb_spool_write(s, BB_Q_DEFERRED, q->name, c, next, e);
		t->deferred++;
		bb_log_n(LOG_NOTICE, "queue.deferred", cid, "attempts", attempts);
	} else {
		json_object_set_new(qp, "state", json_string(out == DELIVERED ? "delivered" :
		    "failed"));
		json_object_del(qp, "next_try");
		set_time(qp, "done", now);
		rc = bb_spool_write(s, to, q->name, c, now, e);
		if (out == DELIVERED) {
			t->delivered++;
			bb_log_n(LOG_INFO, "queue.delivered", cid, "attempts", attempts);
		} else {
			t->failed++;
			bb_log_n(LOG_WARNING, "queue.failed", cid, "exit", status);
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
		if (bb_spool_move(s, q, to, 1, &ignore) == 0 && to == BB_Q_DEFERRED)
			bb_spool_set_due(s, q, next);
	}
	bb_spool_unlock(slock);
	return rc;
}

/* One due entry: taken, read, tried (or, lost, not), and recorded in its new state.
 * orphan: a dead run left it in active/. */
static int
deliver_one(struct bb_spool *s, const struct bb_queue_policy *p, struct bb_qentry *q,
    int orphan, struct bb_queue_tally *t, struct bb_err *e)
{
	struct bb_child r;
	struct bb_err err = { 0, "" };
	struct bb_case_id cid;
	json_t *stored, *c, *qp;
	enum outcome out;
	time_t now, next = 0, since;
	int fd, rc, lost, attempts;

	if ((rc = take(s, q, &fd, e)) != 0 || fd < 0)
		return rc;
	bb_case_id_parse(&cid, q->id);
	if (read_taken(s, p, q, fd, &stored, &err) != 0) {
		rc = set_aside(s, q, &err, e);
		bb_spool_unlock(fd);
		if (err.status == BB_DATAERR) {
			t->corrupt++;
			bb_log(LOG_WARNING, "queue.corrupt", &cid);
		}
		return rc;
	}
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
		if ((rc = attempt(s, p, q, fd, &r, e)) != 0) {
			json_decref(stored);
			bb_spool_unlock(fd);
			return rc;
		}
		now = time(NULL);
	}
	c = lost ? json_incref(stored) : updated_case(stored, &r, q->id);
	json_decref(stored);
	qp = queue_part(c);
	attempts = (int)json_integer_value(json_object_get(qp, "attempts")) + !lost;
	if (!lost) {
		json_object_set_new(qp, "attempts", json_integer(attempts));
		set_time(qp, "last_try", now);
		json_object_set_new(qp, "last_exit", r.status >= 0 ? json_integer(r.status) :
		    json_null());
	}
	out = judge(p, c, &r, lost, attempts, since, now, &next);
	rc = record(s, q, c, out, now, next, attempts, r.status, t, &cid, e);
	json_decref(c);
	bb_child_free(&r);
	bb_spool_unlock(fd);
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
	char (*back)[96];
	size_t n, i, nback = 0;
	long taken = 0, nerr = 0;
	double start = mono();
	int lockfd, rc = 0, erc, pass, stop = 0, none;

	memset(t, 0, sizeof *t);
	/* No spool: nothing was ever queued. A spool of an older bb gets the state
	 * directories it lacks. */
	if ((rc = bb_spool_prepare(s, &none, e)) != 0 || none)
		return rc;
	if ((rc = bb_spool_run_lock(s, wait, &lockfd, e)) != 0)
		return rc;
	if ((rc = bb_spool_scan(s, 1u << BB_Q_ACTIVE, &list, &n, e)) != 0 ||
	    (back = calloc(n ? n : 1, sizeof *back)) == NULL) {
		if (rc == 0) {
			free(list);
			rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		}
		bb_spool_unlock(lockfd);
		return rc;
	}
	free(list);
	{
		int slock;
		if ((rc = bb_spool_change_lock(s, &slock, e)) != 0) {
			free(back);
			bb_spool_unlock(lockfd);
			return rc;
		}
		/* Nothing enters active/ without run.lock: n bounds what recovery finds. */
		t->recovered = recover(s, back, &nback, e);
		bb_spool_unlock(slock);
	}
	if (t->recovered < 0) {
		free(back);
		bb_spool_unlock(lockfd);
		return e->status;
	}
	if ((rc = bb_queue_purge(s, p, -1, &t->purged, e)) != 0 ||
	    (rc = bb_spool_scan(s, 1u << BB_Q_DEFERRED, &list, &n, e)) != 0) {
		free(back);
		bb_spool_unlock(lockfd);
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
	bb_spool_unlock(lockfd);
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
		if ((rc = bb_spool_move(s, q, BB_Q_DEFERRED, 1, e)) != 0) {
			bb_spool_unlock(fd);
			return rc;
		}
		bb_spool_set_due(s, q, 0);
		if (was_corrupt) {
			/* Someone repaired it by hand: the next run reads it again. */
			bb_spool_unlock(fd);
			return 0;
		}
	}
	if ((rc = read_entry(s, q, fd, SIZE_MAX / 2, &c, e)) != 0) {
		bb_spool_unlock(fd);
		return rc;
	}
	qp = queue_part(c);
	json_object_set_new(qp, "state", json_string("deferred"));
	set_time(qp, "since", now);
	set_time(qp, "next_try", now);
	json_object_del(qp, "done");
	rc = bb_spool_write(s, BB_Q_DEFERRED, q->name, c, now, e);
	json_decref(c);
	bb_spool_unlock(fd);
	return rc;
}

int
bb_queue_retry(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e)
{
	int slock, rc;

	if ((rc = bb_spool_change_lock(s, &slock, e)) != 0)
		return rc;
	rc = retry_locked(s, q, e);
	bb_spool_unlock(slock);
	return rc;
}

int
bb_queue_remove(struct bb_spool *s, struct bb_qentry *q, struct bb_err *e)
{
	int fd, slock, rc;

	if ((rc = bb_spool_change_lock(s, &slock, e)) != 0)
		return rc;
	if ((rc = bb_spool_lock(s, q, &fd, e)) == 0) {
		rc = bb_spool_unlink_copies(s, q, e);
		bb_spool_unlock(fd);
	}
	bb_spool_unlock(slock);
	return rc;
}

int
bb_queue_retry_all(struct bb_spool *s, enum bb_qstate st, int *status, struct bb_err *e)
{
	struct bb_qentry *list;
	size_t n, i;
	int rc;

	*status = 0;
	if ((rc = bb_spool_scan(s, 1u << st, &list, &n, e)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = bb_queue_retry(s, &list[i], e)) != 0) {
			bb_warn("%s", e->msg);
			*status = rc;
		}
	free(list);
	return 0;
}

int
bb_queue_by_id(struct bb_spool *s, const char *id,
    int (*fn)(struct bb_spool *, struct bb_qentry *, struct bb_err *), struct bb_err *e)
{
	struct bb_qentry q;
	int rc, tries;

	for (tries = 0;; tries++) {
		if ((rc = bb_spool_find(s, id, &q, e)) != 0)
			return rc;
		rc = fn(s, &q, e);
		if (rc != BB_NOINPUT || tries >= 20)
			return rc;
	}
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
	if ((rc = bb_spool_change_lock(s, &slock, e)) != 0)
		return rc;
	bb_spool_clean_tmp(s, STALE_TMP_SECONDS);
	if ((rc = bb_spool_scan(s, BB_Q_ALL, &list, &cnt, e)) != 0) {
		bb_spool_unlock(slock);
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
		if (bb_spool_done_time(s, &list[i]) > now - keep)
			continue;
		if ((rc = bb_spool_unlink_copies(s, &list[i], e)) == 0)
			(*n)++;
	}
	free(list);
	bb_spool_unlock(slock);
	return rc;
}

/* Seconds from t to now; 0 for none (0) and for a t not before now (a clock set back). */
static time_t
age(time_t t, time_t now)
{
	return t != 0 && t < now ? now - t : 0;
}

int
bb_queue_stats(const struct bb_spool *s, time_t now, struct bb_queue_stats *st,
    struct bb_err *e)
{
	struct bb_qentry *list;
	time_t oldest = 0, since[BB_Q_NSTATES] = { 0 }, t;
	size_t n, i;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = bb_spool_scan(s, BB_Q_ALL, &list, &n, e)) != 0)
		return rc;
	n = bb_spool_unique(list, n, NULL, NULL);
	for (i = 0; i < n; i++) {
		st->entries[list[i].state]++;
		if (list[i].state == BB_Q_DEFERRED || list[i].state == BB_Q_ACTIVE)
			if (oldest == 0 || list[i].added < oldest)
				oldest = list[i].added;
		if (list[i].state == BB_Q_DEFERRED && (st->next_due == 0 ||
		    list[i].mtime < st->next_due))
			st->next_due = list[i].mtime;
		if (list[i].state == BB_Q_FAILED || list[i].state == BB_Q_CORRUPT) {
			t = bb_spool_done_time(s, &list[i]);
			if (since[list[i].state] == 0 || t < since[list[i].state])
				since[list[i].state] = t;
		}
	}
	free(list);
	st->oldest_waiting = age(oldest, now);
	st->oldest_failed = age(since[BB_Q_FAILED], now);
	st->oldest_corrupt = age(since[BB_Q_CORRUPT], now);
	return 0;
}

json_t *
bb_queue_describe(const struct bb_spool *s, const struct bb_qentry *q, size_t max_size)
{
	static const char *keys[] = { "added", "since", "attempts", "last_try", "last_exit",
		"last_error", "next_try", "done", NULL };
	struct bb_err ignore;
	json_t *o, *c = NULL, *qp;
	char when[21], *reason;
	int i;

	o = json_pack("{s:s, s:s, s:s}", "id", q->id, "state", bb_qstate_name(q->state),
	    "file", q->name);
	bb_time_format(q->added, when);
	json_object_set_new(o, "added", json_string(when));
	if (q->state == BB_Q_CORRUPT) {
		if ((reason = bb_spool_reason(s, q)) != NULL) {
			json_object_set_new(o, "reason", json_string(reason));
			free(reason);
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

int
bb_queue_list(const struct bb_spool *s, unsigned mask, size_t max_size, json_t **out,
    struct bb_err *e)
{
	struct bb_qentry *list;
	size_t n, i;
	int rc;

	*out = NULL;
	if ((rc = bb_spool_scan(s, mask, &list, &n, e)) != 0)
		return rc;
	n = bb_spool_unique(list, n, NULL, NULL);
	*out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*out, bb_queue_describe(s, &list[i], max_size));
	free(list);
	return 0;
}
