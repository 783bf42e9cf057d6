/* lib/yamltree.c: the line of every key and value, duplicate keys (both lines named),
 * anchors and aliases, nesting deeper than the limit (block and flow), several
 * documents, non-scalar keys, quoted scalars that are strings not bools or numbers,
 * and the scalar conversions bb_yaml_bool and bb_yaml_long. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "yamltree.h"

static struct bb_ynode *
load(const char *yaml)
{
	struct bb_ynode *root = NULL;
	struct bb_err e = { 0, "" };
	int rc = bb_yaml_load_buffer("t.yaml", yaml, strlen(yaml), &root, &e);

	if (rc != 0)
		fail_msg("loading\n%s\ngave %d: %s", yaml, rc, e.msg);
	return root;
}

/* Expects 78 with "t.yaml:<line>:" and want in the message. */
static void
expect_error(const char *yaml, size_t len, int line, const char *want)
{
	struct bb_ynode *root = (struct bb_ynode *)1;
	struct bb_err e = { 0, "" };
	char where[32];
	int rc = bb_yaml_load_buffer("t.yaml", yaml, len, &root, &e);

	if (rc != 78)
		fail_msg("loading\n%.200s\ngave %d, not 78", yaml, rc);
	assert_null(root);
	snprintf(where, sizeof where, "t.yaml:%d:", line);
	if (line > 0 && strstr(e.msg, where) == NULL)
		fail_msg("message '%s' does not name %s", e.msg, where);
	if (want != NULL && strstr(e.msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static void
line_numbers(void **state)
{
	struct bb_ynode *root, *b, *d, *e;

	(void)state;
	root = load(
	    "# comment on line 1\n"
	    "a: 1\n"
	    "\n"
	    "b:\n"
	    "  c: x\n"
	    "  d:\n"
	    "    - one\n"
	    "    - \"two\"\n"
	    "\n"
	    "e:\n"
	    "  - k: v\n"
	    "    l: w\n");
	assert_int_equal(root->kind, BB_Y_MAP);
	assert_int_equal(root->n, 3);
	assert_string_equal(root->keys[0], "a");
	assert_int_equal(root->key_lines[0], 2);
	assert_int_equal(root->items[0]->line, 2);
	assert_string_equal(root->items[0]->str, "1");
	assert_string_equal(root->keys[1], "b");
	assert_int_equal(root->key_lines[1], 4);
	b = bb_yaml_get(root, "b");
	assert_non_null(b);
	assert_int_equal(b->kind, BB_Y_MAP);
	assert_int_equal(b->key_lines[0], 5);
	assert_int_equal(b->items[0]->line, 5);
	assert_int_equal(b->key_lines[1], 6);
	d = bb_yaml_get(b, "d");
	assert_int_equal(d->kind, BB_Y_SEQ);
	assert_int_equal(d->n, 2);
	assert_int_equal(d->items[0]->line, 7);
	assert_string_equal(d->items[0]->str, "one");
	assert_int_equal(d->items[1]->line, 8);
	assert_string_equal(d->items[1]->str, "two");
	e = bb_yaml_get(root, "e");
	assert_int_equal(root->key_lines[2], 10);
	assert_int_equal(e->items[0]->kind, BB_Y_MAP);
	assert_int_equal(e->items[0]->key_lines[0], 11);
	assert_int_equal(e->items[0]->key_lines[1], 12);
	assert_int_equal(e->items[0]->items[1]->line, 12);
	assert_null(bb_yaml_get(root, "missing"));
	assert_null(bb_yaml_get(d, "one"));	/* not a map */
	bb_yaml_free(root);
}

/* A value on the line after its key, and a multi-line block scalar. */
static void
line_numbers_of_values(void **state)
{
	struct bb_ynode *root;

	(void)state;
	root = load("a:\n  value-below\nb: |\n  text\n  more\nc: [x,\n  y]\n");
	assert_int_equal(root->key_lines[0], 1);
	assert_int_equal(root->items[0]->line, 2);
	assert_int_equal(root->key_lines[1], 3);
	assert_string_equal(root->items[1]->str, "text\nmore\n");
	assert_int_equal(root->key_lines[2], 6);
	assert_int_equal(root->items[2]->items[1]->line, 7);
	bb_yaml_free(root);
}

static void
duplicate_keys(void **state)
{
	const char *y1 = "a: 1\nb: 2\na: 3\n";
	const char *y2 = "top:\n  x: 1\n  y: 2\n\n  x: 3\n";

	(void)state;
	expect_error(y1, strlen(y1), 3, "line 1");
	expect_error(y2, strlen(y2), 5, "line 2");
}

/* The same key in different maps is no duplicate. */
static void
same_key_in_different_maps(void **state)
{
	struct bb_ynode *root;

	(void)state;
	root = load("a:\n  x: 1\nb:\n  x: 2\n");
	assert_string_equal(bb_yaml_get(bb_yaml_get(root, "b"), "x")->str, "2");
	bb_yaml_free(root);
}

static void
anchors_and_aliases(void **state)
{
	const char *y[] = {
		"a: &x 1\nb: *x\n",
		"a: &x 1\n",
		"a: &m\n  k: v\n",
		"list: &s [1, 2]\n",
		"a: 1\nb: *x\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof y / sizeof y[0]; i++)
		expect_error(y[i], strlen(y[i]), 0, NULL);
	expect_error(y[0], strlen(y[0]), 1, "anchors and aliases");
	expect_error(y[4], strlen(y[4]), 2, NULL);
}

/* A "billion laughs" input fails on the first anchor instead of expanding. */
static void
billion_laughs(void **state)
{
	const char *y =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n";

	(void)state;
	expect_error(y, strlen(y), 1, "anchors");
}

static char *
nested_block(int depth)
{
	char *s = malloc((size_t)depth * 2 + 8), *p = s;
	int i;

	for (i = 0; i < depth; i++) {
		*p++ = '-';
		*p++ = ' ';
	}
	strcpy(p, "x\n");
	return s;
}

static char *
nested_flow(int depth)
{
	char *s = malloc((size_t)depth * 2 + 4), *p = s;
	int i;

	for (i = 0; i < depth; i++)
		*p++ = '[';
	*p++ = '1';
	for (i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, "\n");
	return s;
}

static void
nesting_limit(void **state)
{
	struct bb_ynode *root, *n;
	char *s;
	int i;

	(void)state;
	/* Reasonable depths load, and are as deep as written. */
	s = nested_block(20);
	root = load(s);
	for (n = root, i = 0; n->kind == BB_Y_SEQ; n = n->items[0], i++)
		;
	assert_int_equal(i, 20);
	assert_string_equal(n->str, "x");
	bb_yaml_free(root);
	free(s);
	s = nested_flow(20);
	root = load(s);
	bb_yaml_free(root);
	free(s);

	s = nested_block(100);
	expect_error(s, strlen(s), 1, "nested too deeply");
	free(s);
	s = nested_flow(100);
	expect_error(s, strlen(s), 1, "nested too deeply");
	free(s);
	/* Far deeper: refused as quickly, no stack exhaustion. */
	s = nested_flow(200000);
	expect_error(s, strlen(s), 1, "nested too deeply");
	free(s);
}

static void
nested_maps_limit(void **state)
{
	size_t depth = 100, i, cap = depth * (depth + 8) + 16;
	char *s = malloc(cap), *p = s;

	(void)state;
	for (i = 0; i < depth; i++) {
		memset(p, ' ', i * 2);
		p += i * 2;
		p += sprintf(p, "k%zu:\n", i);
	}
	memset(p, ' ', depth * 2);
	p += depth * 2;
	strcpy(p, "v\n");
	expect_error(s, strlen(s), 0, "nested too deeply");
	free(s);
}

static void
multiple_documents(void **state)
{
	const char *y1 = "a: 1\n---\nb: 2\n";
	const char *y2 = "---\na: 1\n...\n---\nb: 2\n";

	(void)state;
	expect_error(y1, strlen(y1), 2, "more than one");
	expect_error(y2, strlen(y2), 4, "more than one");
}

/* One document with explicit markers is fine; an empty input has no root. */
static void
single_document_markers(void **state)
{
	struct bb_ynode *root = load("---\na: 1\n...\n");
	struct bb_err e = { 0, "" };

	(void)state;
	assert_string_equal(bb_yaml_get(root, "a")->str, "1");
	bb_yaml_free(root);
	root = (struct bb_ynode *)1;
	assert_int_equal(bb_yaml_load_buffer("t.yaml", "", 0, &root, &e), 0);
	assert_null(root);
}

static void
non_scalar_keys(void **state)
{
	const char *y1 = "a: 1\n? [x, y]\n: 2\n";
	const char *y2 = "{a: 1}: 2\n";

	(void)state;
	expect_error(y1, strlen(y1), 2, "key");
	expect_error(y2, strlen(y2), 1, "key");
}

static void
syntax_error_line(void **state)
{
	const char *y = "a: 1\nb: 2\nc: d: e\n";

	(void)state;
	expect_error(y, strlen(y), 3, "invalid YAML");
}

static void
missing_file(void **state)
{
	struct bb_ynode *root = NULL;
	struct bb_err e = { 0, "" };

	(void)state;
	assert_int_equal(bb_yaml_load_file("/nonexistent/dir/x.yaml", &root, &e), 66);
	assert_non_null(strstr(e.msg, "/nonexistent/dir/x.yaml"));
}

static void
bools(void **state)
{
	struct bb_ynode *root = load(
	    "plain_true: true\nplain_false: false\nquoted_true: \"true\"\n"
	    "single_quoted: 'false'\nword: maybe\nmap:\n  k: v\nempty:\n");
	int b = -7;

	(void)state;
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "plain_true"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "plain_false"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(bb_yaml_get(root, "quoted_true")->quoted, 1);
	assert_int_equal(bb_yaml_get(root, "plain_true")->quoted, 0);
	b = -7;
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "quoted_true"), &b), -1);
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "single_quoted"), &b), -1);
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "word"), &b), -1);
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "map"), &b), -1);
	assert_int_equal(bb_yaml_bool(bb_yaml_get(root, "empty"), &b), -1);
	assert_int_equal(bb_yaml_bool(NULL, &b), -1);
	assert_int_equal(b, -7);
	/* The quoted string keeps its text. */
	assert_string_equal(bb_yaml_get(root, "quoted_true")->str, "true");
	bb_yaml_free(root);
}

static void
longs(void **state)
{
	struct bb_ynode *root = load(
	    "n: 12\nneg: -5\nzero: 0\ntrailing: 12abc\nempty:\nquoted: \"12\"\n"
	    "float: 1.5\nhuge: 99999999999999999999\nspace: 1 2\nlist: [1]\n");
	long long v = -7;

	(void)state;
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "n"), &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "neg"), &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "zero"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "trailing"), &v), -1);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "empty"), &v), -1);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "quoted"), &v), -1);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "float"), &v), -1);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "huge"), &v), -1);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "space"), &v), -1);
	assert_int_equal(bb_yaml_long(bb_yaml_get(root, "list"), &v), -1);
	assert_int_equal(bb_yaml_long(NULL, &v), -1);
	bb_yaml_free(root);
}

static void
doubles(void **state)
{
	struct bb_ynode *root = load("a: 1.5\nb: \"1.5\"\nc: 1.5x\nd: -2\n");
	double d = 0;

	(void)state;
	assert_int_equal(bb_yaml_double(bb_yaml_get(root, "a"), &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(bb_yaml_double(bb_yaml_get(root, "d"), &d), 0);
	assert_true(d == -2.0);
	assert_int_equal(bb_yaml_double(bb_yaml_get(root, "b"), &d), -1);
	assert_int_equal(bb_yaml_double(bb_yaml_get(root, "c"), &d), -1);
	bb_yaml_free(root);
}

static void
kind_names(void **state)
{
	struct bb_ynode *root = load("s: x\nm: {a: 1}\nl: [1]\n");

	(void)state;
	assert_int_equal(bb_yaml_get(root, "s")->kind, BB_Y_SCALAR);
	assert_int_equal(bb_yaml_get(root, "m")->kind, BB_Y_MAP);
	assert_int_equal(bb_yaml_get(root, "l")->kind, BB_Y_SEQ);
	assert_string_equal(bb_yaml_kind_name(bb_yaml_get(root, "s")), "a scalar");
	assert_string_equal(bb_yaml_kind_name(bb_yaml_get(root, "m")), "a mapping");
	assert_string_equal(bb_yaml_kind_name(bb_yaml_get(root, "l")), "a list");
	bb_yaml_free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_numbers),
		cmocka_unit_test(line_numbers_of_values),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(same_key_in_different_maps),
		cmocka_unit_test(anchors_and_aliases),
		cmocka_unit_test(billion_laughs),
		cmocka_unit_test(nesting_limit),
		cmocka_unit_test(nested_maps_limit),
		cmocka_unit_test(multiple_documents),
		cmocka_unit_test(single_document_markers),
		cmocka_unit_test(non_scalar_keys),
		cmocka_unit_test(syntax_error_line),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(bools),
		cmocka_unit_test(longs),
		cmocka_unit_test(doubles),
		cmocka_unit_test(kind_names),
	};

	return cmocka_run_group_tests_name("yamltree", tests, NULL, NULL);
}
