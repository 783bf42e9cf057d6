/* lib/log.c: case ids are checked to be UUIDs (and lowered), a forged bb_case_id that
 * holds a name never reaches the log, events carry only their name, the case id and a
 * number or errno text, and bb_log_verbosity moves the stderr threshold. stderr is
 * captured by pointing fd 2 at a temporary file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diag.h"
#include "log.h"

#define UUID "8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e58"

/* --- capturing stderr --- */

static int saved_fd = -1, cap_fd = -1;
static char cap_path[64];
static char captured[4096];

static const char *capture_end(void);

static void
capture_begin(void)
{
	if (saved_fd >= 0)		/* a test before failed while capturing */
		capture_end();
	fflush(stderr);
	snprintf(cap_path, sizeof cap_path, "/tmp/bb-unit-log-XXXXXX");
	cap_fd = mkstemp(cap_path);
	assert_true(cap_fd >= 0);
	saved_fd = dup(2);
	assert_true(saved_fd >= 0);
	assert_int_equal(dup2(cap_fd, 2), 2);
}

/* Restores stderr and returns what was written to it. */
static const char *
capture_end(void)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	saved_fd = -1;
	lseek(cap_fd, 0, SEEK_SET);
	n = read(cap_fd, captured, sizeof captured - 1);
	captured[n > 0 ? n : 0] = '\0';
	close(cap_fd);
	unlink(cap_path);
	return captured;
}

/* Sets the stderr threshold to level, whatever it was. */
static void
set_level(int level)
{
	bb_log_verbosity(-100);		/* clamps to err */
	bb_log_verbosity(level - LOG_ERR);
}

/* --- bb_case_id_parse --- */

static void
case_id_accepts_uuid(void **state)
{
	struct bb_case_id id;

	(void)state;
	assert_int_equal(bb_case_id_parse(&id, UUID), 0);
	assert_string_equal(id.s, UUID);
	assert_int_equal(bb_case_id_parse(&id, "8F0E2C41-5B7D-4A19-B3E6-0D9C7F1A2E58"), 0);
	assert_string_equal(id.s, UUID);
}

static void
assert_id_rejected(const char *s)
{
	struct bb_case_id id;

	memcpy(id.s, UUID, sizeof id.s);
	if (bb_case_id_parse(&id, s) != -1)
		fail_msg("'%s' was taken for a UUID", s ? s : "(null)");
	/* The documented state after a failure: empty. */
	assert_string_equal(id.s, "");
}

static void
case_id_rejects(void **state)
{
	(void)state;
	assert_id_rejected("MUSTERMANN");
	assert_id_rejected(NULL);
	assert_id_rejected("");
	/* 36 characters with the dashes in place, but not hex. */
	assert_id_rejected("MUSTERMA-NNER-IKA1-9640-812BERLINSTR");
	assert_id_rejected("8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e5g");
	/* 36 characters, dashes elsewhere. */
	assert_id_rejected("8f0e2c415-b7d-4a19-b3e6-0d9c7f1a2e58");
	assert_id_rejected("8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e58-");	/* 37 */
	assert_id_rejected("8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e5");	/* 35 */
	assert_id_rejected("8f0e2c415b7d4a19b3e60d9c7f1a2e58");		/* no dashes */
	assert_id_rejected("{8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e58}");
	assert_id_rejected(" 8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e5");
}

/* --- bb_log_event_ --- */

static void
log_prints_event_and_id(void **state)
{
	struct bb_case_id id;
	const char *out;

	(void)state;
	assert_int_equal(bb_case_id_parse(&id, "8F0E2C41-5B7D-4A19-B3E6-0D9C7F1A2E58"), 0);
	set_level(LOG_INFO);
	capture_begin();
	bb_log(LOG_INFO, "case-read", &id);
	bb_log_n(LOG_WARNING, "case-written", &id, "bytes", 4711);
	bb_log_errno(LOG_ERR, "write-failed", NULL, ENOSPC);
	out = capture_end();
	assert_non_null(strstr(out, "info: case-read case=" UUID "\n"));
	assert_non_null(strstr(out, "warning: case-written case=" UUID " bytes=4711\n"));
	assert_non_null(strstr(out, "err: write-failed"));
	assert_non_null(strstr(out, strerror(ENOSPC)));
}

/* A caller that fills the struct by hand still cannot log a name. */
static void
log_forged_id_not_printed(void **state)
{
	struct bb_case_id forged;
	const char *out;

	(void)state;
	set_level(LOG_DEBUG);
	memset(&forged, 0, sizeof forged);
	strcpy(forged.s, "MUSTERMANN");
	capture_begin();
	bb_log(LOG_ERR, "identity-read", &forged);
	strcpy(forged.s, "MUSTERMA-NNER-IKA1-9640-812BERLINSTR");
	bb_log_n(LOG_NOTICE, "photo-taken", &forged, "tries", 2);
	out = capture_end();
	assert_non_null(strstr(out, "identity-read"));
	assert_non_null(strstr(out, "photo-taken"));
	assert_non_null(strstr(out, "tries=2"));
	assert_null(strstr(out, "MUSTERMA"));
	assert_null(strstr(out, "BERLIN"));
	assert_null(strstr(out, "case="));
}

/* Regression (fixed): lib/log.c bb_log_event_() re-checks a forged id with bb_case_id_parse(), whose
 * strlen(id->s) reads past the 37-byte array when the caller left it without a NUL
 * (ASan: stack-buffer-overflow in bb_case_id_parse, log.c:37). Expected: the event is
 * logged without a case id; e.g. strnlen(id->s, sizeof id->s) or check id->s[36].
 * The struct sits just before an inaccessible page, so the over-read faults. */
static void
log_forged_id_without_nul(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *mem;
	struct bb_case_id *forged;
	const char *out;

	(void)state;
	mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(mprotect(mem + page, (size_t)page, PROT_NONE), 0);
	forged = (struct bb_case_id *)(mem + page - sizeof *forged);
	memset(forged->s, 'a', sizeof forged->s);
	set_level(LOG_DEBUG);
	capture_begin();
	bb_log(LOG_ERR, "forged", forged);
	out = capture_end();
	munmap(mem, (size_t)page * 2);
	assert_non_null(strstr(out, "forged"));
	assert_null(strstr(out, "case="));
}

#define E10 "event-name"
#define E100 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10

/* Regression (fixed): lib/log.c bb_log_event_(): len = snprintf(line, 256, "%s", event) is the
 * untruncated length; for an event name of 257+ characters and a valid id the next
 * snprintf gets line + len and sizeof line - len (a huge size_t), writing past the
 * stack buffer (ASan: stack-buffer-overflow at log.c:103). Expected: a cut line. */
static void
log_long_event_name(void **state)
{
	struct bb_case_id id;
	const char *out;

	(void)state;
	assert_int_equal(bb_case_id_parse(&id, UUID), 0);
	set_level(LOG_DEBUG);
	capture_begin();
	bb_log(LOG_ERR, E100 E100 E100, &id);
	out = capture_end();
	assert_non_null(strstr(out, "event-nameevent-name"));
}

/* --- bb_log_verbosity --- */

static void
verbosity_threshold(void **state)
{
	const char *out;

	(void)state;
	set_level(LOG_NOTICE);
	capture_begin();
	bb_log(LOG_INFO, "hidden-info", NULL);
	bb_log(LOG_NOTICE, "shown-notice", NULL);
	bb_log_verbosity(1);		/* -v: info too */
	bb_log(LOG_INFO, "shown-info", NULL);
	bb_log(LOG_DEBUG, "hidden-debug", NULL);
	bb_log_verbosity(-1);		/* back: info hidden again */
	bb_log(LOG_INFO, "hidden-again", NULL);
	bb_log_verbosity(-2);		/* -q -q: errors only */
	bb_log(LOG_WARNING, "hidden-warning", NULL);
	bb_log(LOG_ERR, "shown-err", NULL);
	out = capture_end();
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "shown-notice"));
	assert_non_null(strstr(out, "shown-info"));
	assert_non_null(strstr(out, "shown-err"));
}

/* Raising the threshold never silences errors; lowering it reaches debug. */
static void
verbosity_clamps(void **state)
{
	const char *out;

	(void)state;
	bb_log_verbosity(-50);
	capture_begin();
	bb_log(LOG_ERR, "still-shown", NULL);
	bb_log(LOG_WARNING, "hidden-w", NULL);
	bb_log_verbosity(50);
	bb_log(LOG_DEBUG, "debug-shown", NULL);
	out = capture_end();
	assert_non_null(strstr(out, "still-shown"));
	assert_non_null(strstr(out, "debug-shown"));
	assert_null(strstr(out, "hidden-w"));
}

/* The default: stderr shows warnings but not info (bb.yaml(5): "Standard error shows
 * events from warning up"). Must run first, before any test moves the threshold. */
static void
default_threshold_is_warning(void **state)
{
	const char *out;

	(void)state;
	bb_log_setup(NULL);
	capture_begin();
	bb_log(LOG_NOTICE, "hidden-notice", NULL);
	bb_log(LOG_INFO, "hidden-info", NULL);
	bb_log(LOG_WARNING, "shown-warning", NULL);
	out = capture_end();
	assert_non_null(strstr(out, "shown-warning"));
	assert_null(strstr(out, "hidden"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_threshold_is_warning),
		cmocka_unit_test(case_id_accepts_uuid),
		cmocka_unit_test(case_id_rejects),
		cmocka_unit_test(log_prints_event_and_id),
		cmocka_unit_test(log_forged_id_not_printed),
		cmocka_unit_test(log_forged_id_without_nul),
		cmocka_unit_test(log_long_event_name),
		cmocka_unit_test(verbosity_threshold),
		cmocka_unit_test(verbosity_clamps),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
