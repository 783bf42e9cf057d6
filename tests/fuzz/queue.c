/* Fuzz target: what bb-queue reads back (lib/queue/queue.c, lib/queue/spool.c): a spool
 * entry as it lies in deferred/, and what the delivery command writes back (its exit
 * status, its standard output, a case that may carry retry_at or retry_after, and its last
 * line of standard error), over two runs, then list and show of every entry and the purge.
 * lib/queue/queue.c is included with the delivery command answering from the input and a
 * clock of its own, so the second run comes 400 days after the first.
 *
 * Behind the fuzzed entry waits a well-formed case whose delivery succeeds: whatever the
 * first entry holds, the run must deliver the second (a run never stops on one entry).
 *
 * Input: the entry's file, NUL, up to two answers of the delivery command, separated by
 * NUL: the exit status plus one as one byte (255: killed by a signal, 254: timed out),
 * standard output, and after a '\001' the last line of standard error. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "diag.h"
#include "exit.h"

static time_t fuzz_now;
static time_t fuzz_time(time_t *t) { if (t != NULL) *t = fuzz_now; return fuzz_now; }
static int fuzz_child_run(const char *command, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e);

#define time(t) fuzz_time(t)
#define bb_child_run fuzz_child_run
#define bb_queue_policy_init fuzz_queue_policy_init
#define bb_queue_backoff fuzz_queue_backoff
#define bb_queue_add fuzz_queue_add
#define bb_queue_run fuzz_queue_run
#define bb_queue_retry fuzz_queue_retry
#define bb_queue_remove fuzz_queue_remove
#define bb_queue_purge fuzz_queue_purge
#define bb_queue_describe fuzz_queue_describe
#include "../../lib/queue/queue.c"
#undef time

#define BAD_ID "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
#define GOOD_ID "1c7d2e3f-4051-4b6c-9d7e-8f90a1b2c3d4"

static struct bb_config *cfg;
static struct bb_queue_policy pol;
static const uint8_t *answer[2];
static size_t answer_len[2], answers, next_answer;
static char spool_dir[4096];

static int
fuzz_child_run(const char *command, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e)
{
	const uint8_t *a, *err;
	size_t len, n;

	(void)command;
	(void)in_fd;
	(void)timeout;
	(void)echo_stderr;
	(void)e;
	memset(c, 0, sizeof *c);
	if (env != NULL && env[0] != NULL && strstr(env[0], GOOD_ID) != NULL) {
		c->out = fuzz_str((const uint8_t *)"", 0);
		return 0;
	}
	if (next_answer >= answers || answer_len[next_answer] == 0) {
		c->status = BB_TEMPFAIL;
		c->out = fuzz_str((const uint8_t *)"", 0);
		return 0;
	}
	a = answer[next_answer];
	len = answer_len[next_answer++];
	c->status = a[0] - 1;
	if (a[0] == 255) {
		c->status = -1;
		c->signal = 9;
	} else if (a[0] == 254) {
		c->status = -1;
		c->timed_out = 1;
	}
	a++;
	len--;
	if ((err = memchr(a, 1, len)) != NULL) {
		n = (size_t)(a + len - err - 1);
		if (n >= sizeof c->last_err)
			n = sizeof c->last_err - 1;
		memcpy(c->last_err, err + 1, n);
		c->last_err[n] = '\0';
		len = (size_t)(err - a);
	}
	if (len > out_max) {
		len = out_max;
		c->out_truncated = 1;
	}
	c->out = fuzz_str(a, len);
	c->outlen = len;
	return 0;
}

static const char good_case[] =
	"{\"bb\":1,\"id\":\"" GOOD_ID "\",\"created\":\"2026-11-30T10:00:00Z\","
	"\"terminal\":\"t\"}";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct bb_err e = { 0, "" };
	static const char yaml[] = "queue:\n  deliver: 'exit 0'\n  timeout: 10s\n"
	    "  backoff_min: 60s\n  backoff_max: 1h\n  lifetime: 1000d\n  retention: 7d\n";
	char path[4096];

	(void)argc;
	(void)argv;
	fuzz_file("bb.yaml", yaml, sizeof yaml - 1, path, sizeof path);
	if (bb_config_load(path, &cfg, &e) != 0) {
		fprintf(stderr, "queue: %s\n", e.msg);
		abort();
	}
	fuzz_queue_policy_init(&pol, cfg);
	snprintf(spool_dir, sizeof spool_dir, "%s/spool", fuzz_dir());
	return 0;
}

static void
put(struct bb_spool *s, const char *name, const void *p, size_t len)
{
	char path[4200];
	FILE *f;

	bb_spool_path(s, BB_Q_DEFERRED, name, path, sizeof path);
	if ((f = fopen(path, "w")) == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_spool s = { 0 };
	struct bb_queue_tally t;
	struct bb_qentry *list, good;
	const uint8_t *part[3];
	size_t len[3], n, i;
	long purged;
	int rc;

	n = fuzz_split(data, size, 0, part, len, 3);
	answers = n - 1;
	for (i = 0; i + 1 < n; i++) {
		answer[i] = part[i + 1];
		answer_len[i] = len[i + 1];
	}
	next_answer = 0;
	fuzz_now = (time_t)1798761600;	/* 2027-01-01 */
	fuzz_clean();
	if (bb_spool_open(&s, spool_dir, 1, &e) != 0) {
		fprintf(stderr, "queue: %s\n", e.msg);
		abort();
	}
	/* The fuzzed entry first (names sort by the time they were added). */
	put(&s, "20261201T000000.000000Z-" BAD_ID ".json", part[0], len[0]);
	put(&s, "20261201T000001.000000Z-" GOOD_ID ".json", good_case, sizeof good_case - 1);
	rc = fuzz_queue_run(&s, &pol, 0, &t, &e);
	if (bb_spool_find(&s, GOOD_ID, &good, &e) != 0 || good.state != BB_Q_DELIVERED) {
		fprintf(stderr, "queue: the case behind the fuzzed entry was not delivered "
		    "(run: %d %s)\n", rc, rc ? e.msg : "");
		abort();
	}
	if (fuzz_verbose())
		fprintf(stderr, "queue: first run %d %s: delivered %ld deferred %ld failed %ld "
		    "corrupt %ld\n", rc, rc ? e.msg : "", t.delivered, t.deferred, t.failed,
		    t.corrupt);
	fuzz_now += 400 * 86400;
	rc = fuzz_queue_run(&s, &pol, 0, &t, &e);
	if (fuzz_verbose())
		fprintf(stderr, "queue: second run %d %s: delivered %ld deferred %ld failed %ld "
		    "corrupt %ld\n", rc, rc ? e.msg : "", t.delivered, t.deferred, t.failed,
		    t.corrupt);
	/* list and show: every entry described, whatever it holds. */
	if (bb_spool_scan(&s, BB_Q_ALL, &list, &n, &e) == 0) {
		for (i = 0; i < n; i++) {
			json_t *j = fuzz_queue_describe(&s, &list[i], pol.max_size);
			char *d = json_dumps(j, 0);
			if (fuzz_verbose())
				fprintf(stderr, "queue: %s\n", d ? d : "(null)");
			free(d);
			json_decref(j);
		}
		free(list);
	}
	fuzz_queue_purge(&s, &pol, 0, &purged, &e);
	bb_spool_close(&s);
	return 0;
}
