/* bb-form's front doors called in-process, as a flow or a test would: bb_fill_case fills
 * a case from answers and --set values, refuses another service's case and a NAME that
 * is no field, and leaves the case untouched when an answer does not hold;
 * bb_pin_rounds reads a new PIN twice from a fake pad, gives up after BB_PIN_ROUNDS
 * mismatches with nothing left in memory, and passes a cancel through; bb_pin_check
 * keeps the card's rules; bb_form_path and bb_form_open find a service's definition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "case.h"
#include "diag.h"
#include "exit.h"
#include "form/form.h"
#include "screen/step.h"
#include "secmem.h"
#include "scratch.h"

static const char form_yaml[] =
    "id: move\n"
    "version: 1\n"
    "title: {de: Umzug, en: Move}\n"
    "leika: urn:de:fim:leika:leistung:99115005104000\n"
    "target: inbox\n"
    "sections:\n"
    "  - id: person\n"
    "    title: {de: Person, en: Person}\n"
    "    fields:\n"
    "      - {name: name, type: text, label: {de: Name, en: Name}, required: true}\n"
    "      - {name: copies, type: number, label: {de: Anzahl, en: Copies}, min: 1,\n"
    "         max: 5, integer: true}\n";

struct t {
	char dir[64];
	struct bb_form *form;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof *t);
	struct bb_problems p = { 0 };
	struct bb_err e = { 0, "" };
	char path[128];
	FILE *f;

	if (t == NULL || scratch_make(t->dir, "form") != 0)
		return -1;
	/* A definition lives in a directory named by its id. */
	snprintf(path, sizeof path, "%s/move", t->dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/move/form.yaml", t->dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(form_yaml, f);
	fclose(f);
	/* By its service id, as bb-form's FORM argument. */
	if (bb_form_open("move", t->dir, &t->form, &p, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		for (size_t i = 0; i < p.n; i++)
			fprintf(stderr, "%s\n", p.msg[i]);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	bb_form_free(t->form);
	scratch_remove(t->dir);
	free(t);
	return 0;
}

static const json_t *
field(const json_t *c, const char *name)
{
	return json_object_get(json_object_get(json_object_get(c, "form"), "fields"), name);
}

static void
fill_from_answers_and_sets(void **state)
{
	struct t *t = *state;
	struct bb_problems p = { 0 };
	struct bb_err e = { 0, "" };
	json_t *c = bb_case_new("t1");
	json_t *a = json_pack("{s:s, s:i}", "name", "Erika", "copies", 2);
	const char *sets[] = { "copies=3" };

	assert_int_equal(bb_fill_case(c, t->form, a, sets, 1, &p, &e), 0);
	assert_int_equal(p.n, 0);
	assert_string_equal(json_string_value(json_object_get(c, "service")), "move");
	assert_string_equal(json_string_value(field(c, "name")), "Erika");
	/* --set comes after the answers, as on bb-form fill's command line. */
	assert_int_equal(json_number_value(field(c, "copies")), 3);
	assert_int_equal(bb_case_validate(c, &e), 0);
	json_decref(a);
	json_decref(c);
}

static void
refused_untouched(void **state)
{
	struct t *t = *state;
	struct bb_problems p = { 0 };
	struct bb_err e = { 0, "" };
	json_t *c = bb_case_new("t1"), *copy, *a = json_pack("{s:i}", "copies", 9);
	const char *nofield[] = { "name=Erika", "colour=red" };

	copy = json_deep_copy(c);
	/* name is required and missing, copies above its maximum: two problems. */
	assert_int_equal(bb_fill_case(c, t->form, a, NULL, 0, &p, &e), BB_DATAERR);
	assert_int_equal(p.n, 2);
	assert_true(json_equal(c, copy));
	bb_problems_free(&p);
	/* A NAME that is no field is the call's mistake, said alone. */
	assert_int_equal(bb_fill_case(c, t->form, a, nofield, 2, &p, &e), BB_USAGE);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.msg[0], "colour"));
	assert_null(strstr(p.msg[0], "red"));
	assert_true(json_equal(c, copy));
	bb_problems_free(&p);
	json_object_set_new(c, "service", json_string("other"));
	json_object_set_new(copy, "service", json_string("other"));
	assert_int_equal(bb_fill_case(c, t->form, NULL, NULL, 0, &p, &e), BB_DATAERR);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(e.msg, "other"));
	assert_true(json_equal(c, copy));
	json_decref(copy);
	json_decref(a);
	json_decref(c);
}

static void
form_path(void **state)
{
	struct bb_err e = { 0, "" };
	char *path;

	(void)state;
	assert_int_equal(bb_form_path("umzug", "/srv/services", &path, &e), 0);
	assert_string_equal(path, "/srv/services/umzug/form.yaml");
	free(path);
	assert_int_equal(bb_form_path("x/form.yaml", "/srv/services", &path, &e), 0);
	assert_string_equal(path, "x/form.yaml");
	free(path);
	assert_int_equal(bb_form_path("Umzug", "/srv/services", &path, &e), BB_USAGE);
	assert_null(path);
}

/* A fake pad: the entries it gives, in order, and what each was asked with. */
struct pad {
	const char *entries[8];	/* NULL: the person cancels */
	int timed_out;		/* a cancel is the time running out */
	size_t n;
	char asked[8][12];
};

static int
fake_entry(void *arg, const char *confirm, struct bb_secret *sec, int *timed_out,
    struct bb_err *e)
{
	struct pad *pad = arg;
	const char *v;

	assert_true(pad->n < 8);
	snprintf(pad->asked[pad->n], sizeof pad->asked[0], "%s", confirm ? confirm : "-");
	v = pad->entries[pad->n++];
	*timed_out = 0;
	if (v == NULL) {
		*timed_out = pad->timed_out;
		e->msg[0] = '\0';
		return BB_CANCELLED;
	}
	assert_true(strlen(v) < sec->cap);
	memcpy(sec->buf, v, strlen(v) + 1);
	sec->len = strlen(v);
	return 0;
}

static struct bb_pin_step
new_pin(void)
{
	struct bb_pin_step p = { { "unused", 0, 60, 10 }, "pin", 6, 0, 1 };

	return p;
}

/* out's bytes as the last round left them, up to its capacity. */
static unsigned char raw[16];

/* Runs the rounds on pad: their status, out's contents in got (and raw). */
static int
rounds(const struct bb_pin_step *p, struct pad *pad, char got[16], int *timed_out)
{
	struct bb_secret out = { 0 };
	struct bb_err e = { 0, "" };
	int rc;

	assert_int_equal(bb_secret_alloc(&out, 16), 0);
	rc = bb_pin_rounds(p, fake_entry, pad, &out, timed_out, &e);
	memcpy(raw, out.buf, sizeof raw);
	memcpy(got, out.buf, 16);
	got[out.len < 16 ? out.len : 15] = '\0';
	bb_secret_free(&out);
	return rc;
}

static void
pin_confirmed(void **state)
{
	struct bb_pin_step p = new_pin();
	struct pad same = { { "123456", "123456" }, 0, 0, { "" } };
	struct pad second = { { "111111", "222222", "333333", "333333" }, 0, 0, { "" } };
	char got[16];
	int to;

	(void)state;
	assert_int_equal(rounds(&p, &same, got, &to), 0);
	assert_string_equal(got, "123456");
	assert_int_equal(same.n, 2);
	assert_string_equal(same.asked[0], "new");
	assert_string_equal(same.asked[1], "again");
	/* One mismatch: the pad says so, and the second round's PIN is the one. */
	assert_int_equal(rounds(&p, &second, got, &to), 0);
	assert_string_equal(got, "333333");
	assert_int_equal(second.n, 4);
	assert_string_equal(second.asked[2], "mismatch");
	assert_string_equal(second.asked[3], "again");
}

static void
pin_gives_up(void **state)
{
	struct bb_pin_step p = new_pin();
	struct pad differ = { { "111111", "222222", "111111", "222222", "111111", "222222",
	    "123456", "123456" }, 0, 0, { "" } };
	char got[16];
	int to;

	(void)state;
	assert_int_equal(rounds(&p, &differ, got, &to), BB_NOT_MET);
	assert_int_equal(differ.n, 2 * BB_PIN_ROUNDS);
	/* Wiped: nothing of a mismatch stays in the memory handed back. */
	assert_string_equal(got, "");
	assert_memory_equal(raw, (unsigned char[16]){ 0 }, sizeof raw);
}

static void
pin_cancel_and_single(void **state)
{
	struct bb_pin_step p = new_pin();
	struct pad late = { { "123456", NULL }, 1, 0, { "" } };
	struct pad can = { { "654321" }, 0, 0, { "" } };
	char got[16];
	int to = 0;

	(void)state;
	assert_int_equal(rounds(&p, &late, got, &to), BB_CANCELLED);
	assert_int_equal(to, 1);
	assert_int_equal(late.n, 2);
	p.kind = "can";
	p.confirm = 0;
	assert_int_equal(rounds(&p, &can, got, &to), 0);
	assert_string_equal(got, "654321");
	assert_int_equal(can.n, 1);
	assert_string_equal(can.asked[0], "-");
}

static void
pin_rules(void **state)
{
	struct bb_pin_step p = new_pin();
	struct bb_err e = { 0, "" };

	(void)state;
	assert_int_equal(bb_pin_check(&p, &e), 0);
	p.confirm = 0;
	p.kind = "puk";
	p.digits = 0;
	assert_int_equal(bb_pin_check(&p, &e), 0);
	assert_int_equal(p.digits, 10);
	p.kind = "can";
	p.digits = 6;
	p.confirm = 1;
	assert_int_equal(bb_pin_check(&p, &e), BB_USAGE);
	assert_non_null(strstr(e.msg, "--confirm"));
	p = new_pin();
	p.digits = 5;
	assert_int_equal(bb_pin_check(&p, &e), BB_USAGE);
	p = new_pin();
	p.confirm = 0;
	p.tries = 10;
	assert_int_equal(bb_pin_check(&p, &e), BB_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fill_from_answers_and_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_untouched, setup, teardown),
		cmocka_unit_test(form_path),
		cmocka_unit_test(pin_confirmed),
		cmocka_unit_test(pin_gives_up),
		cmocka_unit_test(pin_cancel_and_single),
		cmocka_unit_test(pin_rules),
	};

	return cmocka_run_group_tests_name("form_front", tests, NULL, NULL);
}
