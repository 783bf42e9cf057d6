/* lib/submit's front door, bb_submit_case, called in-process as a flow or a test would:
 * a directory target receives the case; a need of the form without its attachment and a
 * target that is not configured leave the case untouched and report that nothing was
 * tried; a second attempt is counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "case.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "submit/submit.h"
#include "scratch.h"

struct t {
	char dir[64];
	struct bb_config *cfg;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof *t);
	struct bb_err e = { 0, "" };
	char path[128];
	FILE *f;

	if (t == NULL || scratch_make(t->dir, "submit") != 0)
		return -1;
	snprintf(path, sizeof path, "%s/inbox", t->dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/bb.yaml", t->dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "submit:\n  default: inbox\n  targets:\n    inbox:\n      kind: dir\n"
	    "      path: %s/inbox\n", t->dir);
	fclose(f);
	if (bb_config_load(path, &t->cfg, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	bb_config_free(t->cfg);
	scratch_remove(t->dir);
	free(t);
	return 0;
}

static size_t
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
delivered_and_counted(void **state)
{
	struct t *t = *state;
	struct bb_err e = { 0, "" };
	json_t *c = bb_case_new("t1");
	char inbox[96];
	int tried;

	snprintf(inbox, sizeof inbox, "%s/inbox", t->dir);
	assert_int_equal(bb_submit_case(c, t->cfg, NULL, 0, &tried, &e), 0);
	assert_int_equal(tried, 1);
	assert_true(entries(inbox) >= 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "submission"),
	    "target")), "inbox");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "submission"),
	    "attempts")), 1);
	json_decref(c);
}

static void
untouched_before_an_attempt(void **state)
{
	struct t *t = *state;
	struct bb_err e = { 0, "" };
	json_t *c = bb_case_new("t1"), *copy;
	int tried = -1;

	json_object_set_new(c, "form", json_pack("{s:[s]}", "needs", "signature"));
	copy = json_deep_copy(c);
	assert_int_equal(bb_submit_case(c, t->cfg, NULL, 0, &tried, &e), BB_DATAERR);
	assert_int_equal(tried, 0);
	assert_non_null(strstr(e.msg, "signature"));
	assert_true(json_equal(c, copy));
	json_object_del(c, "form");
	json_object_del(copy, "form");
	assert_int_equal(bb_submit_case(c, t->cfg, "nowhere", 0, &tried, &e), BB_CONFIG);
	assert_int_equal(tried, 0);
	assert_non_null(strstr(e.msg, "nowhere"));
	assert_true(json_equal(c, copy));
	json_decref(copy);
	json_decref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(delivered_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(untouched_before_an_attempt, setup, teardown),
	};

	return cmocka_run_group_tests_name("submit", tests, NULL, NULL);
}
