/* lib/queue/: the numbers of bb-queue stats (bb_queue_stats) over a spool built in a
 * scratch directory, entry by entry with the times given (each entry counted once, ages
 * from the names, the next try from a deferred file's mtime, a corrupt entry's time
 * from its reason's), and the spool's file operations that the policy calls (a reason
 * leaving corrupt/ with its entry, the due time set, every copy removed); list's entries
 * and the spool's directory as bb-queue's front doors give them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "queue/queue.h"
#include "queue/spool.h"
#include "scratch.h"

/* The time of every test: 2027-01-01T00:00:00Z. */
#define NOW ((time_t)1798761600)

struct tmp {
	char dir[64];
	struct bb_spool s;
};

static int
setup_spool(void **state)
{
	struct bb_err e = { 0, "" };
	struct tmp *t = calloc(1, sizeof *t);
	char path[128];

	if (t == NULL || scratch_make(t->dir, "queue") != 0) {
		free(t);
		return -1;
	}
	snprintf(path, sizeof path, "%s/spool", t->dir);
	if (bb_spool_open(&t->s, path, 1, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown_spool(void **state)
{
	struct tmp *t = *state;

	bb_spool_close(&t->s);
	scratch_remove(t->dir);
	free(t);
	return 0;
}

/* The entry name of a case added at added, its id ending in the digit n. */
static void
entry_name(time_t added, int n, char out[96])
{
	struct tm tm;
	char stamp[32];

	gmtime_r(&added, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	snprintf(out, 96, "%s.000000Z-0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c%d.json", stamp, n);
}

static void
set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A file in the spool, under state (NULL: at the top) or beside an entry (suffix),
 * with mtime t. Its content does not matter to what is tested here. */
static void
put_file(struct tmp *t, enum bb_qstate st, const char *name, const char *suffix, time_t mt)
{
	char path[4200];
	FILE *f;

	bb_spool_path(&t->s, st, name, path, sizeof path);
	strcat(path, suffix);
	assert_non_null(f = fopen(path, "w"));
	fputs("{}\n", f);
	assert_int_equal(fclose(f), 0);
	set_mtime(path, mt);
}

/* An entry of the case numbered n, added at added, in state st with mtime mt. */
static void
put_entry(struct tmp *t, enum bb_qstate st, int n, time_t added, time_t mt, char name[96])
{
	entry_name(added, n, name);
	put_file(t, st, name, "", mt);
}

static void
stats_no_spool(void **state)
{
	struct bb_err e = { 0, "" };
	struct bb_queue_stats q;
	struct bb_spool s;
	char dir[64], path[128];
	int i;

	(void)state;
	assert_int_equal(scratch_make(dir, "queue"), 0);
	snprintf(path, sizeof path, "%s/none", dir);
	/* A spool never made reads as empty: every number 0, no next try. */
	assert_int_equal(bb_spool_open(&s, path, 0, &e), 0);
	memset(&q, 0xff, sizeof q);
	assert_int_equal(bb_queue_stats(&s, NOW, &q, &e), 0);
	for (i = 0; i < BB_Q_NSTATES; i++)
		assert_int_equal(q.entries[i], 0);
	assert_int_equal(q.oldest_waiting, 0);
	assert_int_equal(q.oldest_failed, 0);
	assert_int_equal(q.oldest_corrupt, 0);
	assert_int_equal(q.next_due, 0);
	bb_spool_close(&s);
	scratch_remove(dir);
}

static void
stats_each_state(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct bb_queue_stats q;
	char name[96], doubled[96];

	/* Waiting: the oldest is the active one, by the time in its name (its mtime is
	 * newer); the next try is the earlier of the deferred files' mtimes. */
	put_entry(t, BB_Q_DEFERRED, 1, NOW - 1000, NOW + 300, doubled);
	put_entry(t, BB_Q_DEFERRED, 2, NOW - 500, NOW + 100, name);
	put_entry(t, BB_Q_ACTIVE, 3, NOW - 2000, NOW - 5, name);
	/* A crash left entry 1 in active/ too: it counts once, as deferred. */
	put_file(t, BB_Q_ACTIVE, doubled, "", NOW - 5000);
	put_entry(t, BB_Q_DELIVERED, 4, NOW - 9000, NOW - 50, name);
	/* Failed: the oldest by when it got there (its mtime), not when it was added. */
	put_entry(t, BB_Q_FAILED, 5, NOW - 100, NOW - 700, name);
	put_entry(t, BB_Q_FAILED, 6, NOW - 8000, NOW - 200, name);
	/* Corrupt: by its reason's time, written when it became corrupt. */
	put_entry(t, BB_Q_CORRUPT, 7, NOW - 100, NOW - 10, name);
	put_file(t, BB_Q_CORRUPT, name, ".reason", NOW - 900);
	/* Not entries: a leftover and a name that is no entry's. */
	put_file(t, BB_Q_DEFERRED, ".tmp-leftover", "", NOW - 99999);
	put_file(t, BB_Q_FAILED, "notes.txt", "", NOW - 99999);

	assert_int_equal(bb_queue_stats(&t->s, NOW, &q, &e), 0);
	assert_int_equal(q.entries[BB_Q_DEFERRED], 2);
	assert_int_equal(q.entries[BB_Q_ACTIVE], 1);
	assert_int_equal(q.entries[BB_Q_DELIVERED], 1);
	assert_int_equal(q.entries[BB_Q_FAILED], 2);
	assert_int_equal(q.entries[BB_Q_CORRUPT], 1);
	assert_int_equal(q.oldest_waiting, 2000);
	assert_int_equal(q.oldest_failed, 700);
	assert_int_equal(q.oldest_corrupt, 900);
	assert_int_equal(q.next_due, NOW + 100);
}

static void
stats_corrupt_without_reason(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct bb_queue_stats q;
	char name[96];

	/* No reason (removed by hand): the entry's own time. */
	put_entry(t, BB_Q_CORRUPT, 1, NOW - 100, NOW - 40, name);
	assert_int_equal(bb_queue_stats(&t->s, NOW, &q, &e), 0);
	assert_int_equal(q.entries[BB_Q_CORRUPT], 1);
	assert_int_equal(q.oldest_corrupt, 40);
}

static void
stats_clock_set_back(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct bb_queue_stats q;
	char name[96];

	/* Times after now (the clock was set back) are no age: 0, never negative. */
	put_entry(t, BB_Q_DEFERRED, 1, NOW + 3600, NOW + 7200, name);
	put_entry(t, BB_Q_FAILED, 2, NOW + 3600, NOW + 3600, name);
	assert_int_equal(bb_queue_stats(&t->s, NOW, &q, &e), 0);
	assert_int_equal(q.entries[BB_Q_DEFERRED], 1);
	assert_int_equal(q.oldest_waiting, 0);
	assert_int_equal(q.oldest_failed, 0);
	assert_int_equal(q.next_due, NOW + 7200);
}

/* The spool's own file operations the policy calls. */

static void
spool_move_out_of_corrupt_drops_reason(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct bb_qentry q;
	char name[96], path[4200], *why;

	entry_name(NOW - 100, 1, name);
	put_file(t, BB_Q_DEFERRED, name, "", NOW);
	assert_int_equal(bb_spool_find(&t->s, "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c1", &q, &e),
	    0);
	assert_int_equal(bb_spool_corrupt(&t->s, &q, "not JSON", &e), 0);
	assert_int_equal(q.state, BB_Q_CORRUPT);
	assert_non_null(why = bb_spool_reason(&t->s, &q));
	assert_string_equal(why, "not JSON");
	free(why);
	/* Back to deferred/ (retry, or add of the same case): the reason stays behind no
	 * more. */
	assert_int_equal(bb_spool_move(&t->s, &q, BB_Q_DEFERRED, 1, &e), 0);
	bb_spool_path(&t->s, BB_Q_CORRUPT, name, path, sizeof path);
	strcat(path, ".reason");
	assert_int_equal(access(path, F_OK), -1);
	bb_spool_path(&t->s, BB_Q_DEFERRED, name, path, sizeof path);
	assert_int_equal(access(path, F_OK), 0);
}

static void
spool_set_due_and_unlink_copies(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct bb_qentry q;
	struct stat sb;
	char name[96], path[4200];
	time_t before = time(NULL);
	int st;

	entry_name(NOW - 100, 1, name);
	put_file(t, BB_Q_DEFERRED, name, "", NOW);
	put_file(t, BB_Q_ACTIVE, name, "", NOW);
	put_file(t, BB_Q_FAILED, name, "", NOW);
	assert_int_equal(bb_spool_find(&t->s, "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c1", &q, &e),
	    0);
	assert_int_equal(q.state, BB_Q_DEFERRED);
	bb_spool_path(&t->s, BB_Q_DEFERRED, name, path, sizeof path);
	bb_spool_set_due(&t->s, &q, NOW + 42);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mtime, NOW + 42);
	bb_spool_set_due(&t->s, &q, 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_mtime >= before && sb.st_mtime <= time(NULL));
	/* Every copy goes, not only the one named. */
	assert_int_equal(bb_spool_unlink_copies(&t->s, &q, &e), 0);
	for (st = 0; st < BB_Q_NSTATES; st++) {
		bb_spool_path(&t->s, (enum bb_qstate)st, name, path, sizeof path);
		assert_int_equal(access(path, F_OK), -1);
	}
}

/* bb_queue_list, list's front door: each entry once (the copy a crash left doubled
 * counts once), only the states asked for, described without the case's content. */
static void
list_each_entry_once(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char waiting[96], failed[96];
	json_t *arr, *o;

	put_entry(t, BB_Q_DEFERRED, 1, NOW - 60, NOW + 60, waiting);
	put_entry(t, BB_Q_ACTIVE, 1, NOW - 60, NOW - 30, waiting);
	put_entry(t, BB_Q_FAILED, 2, NOW - 120, NOW - 90, failed);
	assert_int_equal(bb_queue_list(&t->s, BB_Q_ALL, 1 << 20, &arr, &e), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	assert_int_equal(bb_queue_list(&t->s, 1u << BB_Q_FAILED, 1 << 20, &arr, &e), 0);
	assert_int_equal(json_array_size(arr), 1);
	o = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(o, "file")), failed);
	json_decref(arr);
}

/* bb_queue_spool_dir: -d, then queue.spool, then BB_SPOOL (not when empty), then the
 * per-user default (root's: /var/spool/bb). */
static void
spool_dir_order(void **state)
{
	struct bb_err e = { 0, "" };
	char *d;

	(void)state;
	setenv("BB_SPOOL", "/from/env", 1);
	assert_non_null(d = bb_queue_spool_dir("/given", NULL, &e));
	assert_string_equal(d, "/given");
	free(d);
	assert_non_null(d = bb_queue_spool_dir(NULL, NULL, &e));
	assert_string_equal(d, "/from/env");
	free(d);
	setenv("BB_SPOOL", "", 1);
	setenv("XDG_STATE_HOME", "/xdg", 1);
	assert_non_null(d = bb_queue_spool_dir(NULL, NULL, &e));
	assert_string_equal(d, geteuid() == 0 ? "/var/spool/bb" : "/xdg/bb/spool");
	free(d);
	unsetenv("BB_SPOOL");
	unsetenv("XDG_STATE_HOME");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_spool, teardown_spool)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stats_no_spool),
		T(stats_each_state),
		T(stats_corrupt_without_reason),
		T(stats_clock_set_back),
		T(spool_move_out_of_corrupt_drops_reason),
		T(spool_set_due_and_unlink_copies),
		T(list_each_entry_once),
		cmocka_unit_test(spool_dir_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
