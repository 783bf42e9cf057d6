/* lib/config.c against bb.yaml(5): built-in defaults without a file, BB_CONFIG and a
 * named file that must exist, every error (unknown key, duplicate key, wrong type, a
 * section as a scalar, a key without a value, bad YAML, anchors, aliases, tags) as exit
 * 78 naming FILE:LINE, values read back by type, and bb_parse_size/bb_parse_duration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/input.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "scratch.h"

/* --- helpers --- */

struct tmp {
	char dir[64];
	char path[128];		/* the configuration file of the test */
};

static int
setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	if (scratch_make(t->dir, "config") != 0) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof t->path, "%s/bb.yaml", t->dir);
	unsetenv("BB_CONFIG");
	*state = t;
	return 0;
}

static int
teardown_tmp(void **state)
{
	struct tmp *t = *state;

	unsetenv("BB_CONFIG");
	scratch_remove(t->dir);
	free(t);
	return 0;
}

static void
put(const struct tmp *t, const char *yaml)
{
	FILE *f = fopen(t->path, "w");

	assert_non_null(f);
	fputs(yaml, f);
	assert_int_equal(fclose(f), 0);
}

/* Writes yaml, loads it, expects 78 and a message holding "<file>:<line>:" and want. */
static void
expect_error(const struct tmp *t, const char *yaml, int line, const char *want)
{
	struct bb_config *cfg = (struct bb_config *)1;
	struct bb_err e = { 0, "" };
	char where[160];
	int rc;

	put(t, yaml);
	rc = bb_config_load(t->path, &cfg, &e);
	if (rc != 78)
		fail_msg("loading\n%s\ngave %d, not 78 (%s)", yaml, rc, e.msg);
	assert_int_equal(e.status, 78);
	assert_null(cfg);
	snprintf(where, sizeof where, "%s:%d:", t->path, line);
	if (strstr(e.msg, where) == NULL)
		fail_msg("message '%s' does not name %s", e.msg, where);
	if (want != NULL && strstr(e.msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static struct bb_config *
load_ok(const struct tmp *t, const char *yaml)
{
	struct bb_config *cfg = NULL;
	struct bb_err e = { 0, "" };
	int rc;

	put(t, yaml);
	rc = bb_config_load(t->path, &cfg, &e);
	if (rc != 0)
		fail_msg("loading\n%s\ngave %d: %s", yaml, rc, e.msg);
	assert_non_null(cfg);
	return cfg;
}

static void
assert_defaults(const struct bb_config *cfg)
{
	char host[256] = "";

	/* The defaults bb.yaml(5) documents. */
	assert_string_equal(bb_config_str(cfg, "form.lang"), "de");
	assert_string_equal(bb_config_str(cfg, "log.level"), "info");
	assert_string_equal(bb_config_str(cfg, "log.facility"), "user");
	assert_int_equal(bb_config_bool(cfg, "log.syslog"), 0);
	assert_int_equal(bb_config_int(cfg, "case.max_size"), 64LL * 1024 * 1024);
#ifdef BB_SERVICES_DIR
	assert_string_equal(bb_config_str(cfg, "form.services"), BB_SERVICES_DIR);
#endif
	if (cfg != NULL) {
		assert_int_equal(gethostname(host, sizeof host - 1), 0);
		assert_string_equal(bb_config_str(cfg, "terminal"), host);
	}
}

/* --- where the configuration comes from --- */

static void
defaults_without_file(void **state)
{
	struct bb_config *cfg = NULL;
	struct bb_err e = { 0, "" };

	(void)state;
	if (access(BB_CONFIG_DEFAULT_PATH, F_OK) == 0)
		skip();	/* this machine has a configuration; the case cannot be tested */
	assert_int_equal(bb_config_load(NULL, &cfg, &e), 0);
	assert_non_null(cfg);
	assert_null(bb_config_file(cfg));
	assert_defaults(cfg);
	bb_config_free(cfg);

	/* An empty BB_CONFIG counts as unset. */
	setenv("BB_CONFIG", "", 1);
	cfg = NULL;
	assert_int_equal(bb_config_load(NULL, &cfg, &e), 0);
	assert_null(bb_config_file(cfg));
	bb_config_free(cfg);
}

/* Lookups without any configuration give the same defaults. */
static void
defaults_null_config(void **state)
{
	(void)state;
	assert_defaults(NULL);
	assert_non_null(bb_config_str(NULL, "terminal"));
}

static void
bb_config_names_missing_file(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = (struct bb_config *)1;
	struct bb_err e = { 0, "" };

	setenv("BB_CONFIG", t->path, 1);
	assert_int_equal(bb_config_load(NULL, &cfg, &e), 78);
	assert_null(cfg);
	assert_non_null(strstr(e.msg, t->path));
}

static void
named_file_missing(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = (struct bb_config *)1;
	struct bb_err e = { 0, "" };

	assert_int_equal(bb_config_load(t->path, &cfg, &e), 78);
	assert_int_equal(e.status, 78);
	assert_null(cfg);
	assert_non_null(strstr(e.msg, t->path));
}

static void
bb_config_is_read(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = NULL;
	struct bb_err e = { 0, "" };

	put(t, "terminal: from-env\n");
	setenv("BB_CONFIG", t->path, 1);
	assert_int_equal(bb_config_load(NULL, &cfg, &e), 0);
	assert_string_equal(bb_config_file(cfg), t->path);
	assert_string_equal(bb_config_str(cfg, "terminal"), "from-env");
	bb_config_free(cfg);
}

/* A path given (-c) wins over BB_CONFIG. */
static void
named_path_wins_over_env(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = NULL;
	struct bb_err e = { 0, "" };

	put(t, "terminal: from-c\n");
	setenv("BB_CONFIG", "/nonexistent/bb.yaml", 1);
	assert_int_equal(bb_config_load(t->path, &cfg, &e), 0);
	assert_string_equal(bb_config_str(cfg, "terminal"), "from-c");
	bb_config_free(cfg);
}

static void
empty_file_gives_defaults(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = load_ok(t, "");

	assert_string_equal(bb_config_file(cfg), t->path);
	assert_defaults(cfg);
	bb_config_free(cfg);
	cfg = load_ok(t, "# only a comment\n\n# and another\n");
	assert_defaults(cfg);
	bb_config_free(cfg);
}

/* --- values --- */

/* The town hall example of bb.yaml(5). */
static void
values_read_back(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = load_ok(t,
	    "terminal: rathaus-1\n"
	    "log:\n"
	    "  level: debug\n"
	    "  syslog: true\n"
	    "  facility: local0\n"
	    "case:\n"
	    "  max_size: 2M\n"
	    "form:\n"
	    "  services: /srv/services\n"
	    "  lang: en\n");

	assert_string_equal(bb_config_str(cfg, "terminal"), "rathaus-1");
	assert_string_equal(bb_config_str(cfg, "log.level"), "debug");
	assert_int_equal(bb_config_bool(cfg, "log.syslog"), 1);
	assert_string_equal(bb_config_str(cfg, "log.facility"), "local0");
	assert_int_equal(bb_config_int(cfg, "case.max_size"), 2097152);
	assert_string_equal(bb_config_str(cfg, "form.services"), "/srv/services");
	assert_string_equal(bb_config_str(cfg, "form.lang"), "en");
	bb_config_free(cfg);
}

/* Keys left out keep their defaults while others are set. */
static void
partial_file_keeps_defaults(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg = load_ok(t, "case:\n  max_size: 512K\nlog:\n  syslog: false\n");

	assert_int_equal(bb_config_int(cfg, "case.max_size"), 512 * 1024);
	assert_int_equal(bb_config_bool(cfg, "log.syslog"), 0);
	assert_string_equal(bb_config_str(cfg, "form.lang"), "de");
	assert_string_equal(bb_config_str(cfg, "log.level"), "info");
	bb_config_free(cfg);
	cfg = load_ok(t, "case:\n  max_size: 1G\n");
	assert_int_equal(bb_config_int(cfg, "case.max_size"), 1073741824LL);
	bb_config_free(cfg);
	cfg = load_ok(t, "case:\n  max_size: 1000\n");
	assert_int_equal(bb_config_int(cfg, "case.max_size"), 1000);
	bb_config_free(cfg);
}

/* --- errors --- */

static void
unknown_key(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "terminal: x\nform:\n  lang: de\n  colour: red\n", 4,
	    "unknown key 'form.colour'");
	expect_error(t, "# comment\nlogging:\n  level: info\n", 2, "unknown key 'logging'");
	/* A key of one section in another. */
	expect_error(t, "log:\n  lang: de\n", 2, "unknown key 'log.lang'");
	expect_error(t, "level: info\n", 1, "unknown key 'level'");
}

static void
unknown_key_exact_message(void **state)
{
	struct tmp *t = *state;
	struct bb_config *cfg;
	struct bb_err e = { 0, "" };
	char want[200];

	put(t, "form:\n  lang: de\n\n  colour: red\n");
	assert_int_equal(bb_config_load(t->path, &cfg, &e), 78);
	snprintf(want, sizeof want, "%s:4: unknown key 'form.colour'", t->path);
	assert_non_null(strstr(e.msg, want));
}

static void
duplicate_key(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "log:\n  level: info\n  syslog: true\n  level: err\n", 4, "line 2");
	expect_error(t, "log:\n  level: info\nform:\n  lang: de\nlog:\n  syslog: true\n", 5,
	    "line 1");
}

static void
wrong_types(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "log:\n  syslog: maybe\n", 2, "log.syslog");
	expect_error(t, "terminal: a\ncase:\n  max_size: lots\n", 3, "case.max_size");
	expect_error(t, "form:\n  services: /x\n  lang: fr\n", 3, "form.lang");
	expect_error(t, "log:\n  level: loud\n", 2, "log.level");
	expect_error(t, "log:\n  facility: local8\n", 2, "log.facility");
	expect_error(t, "case:\n  max_size: -1\n", 2, "case.max_size");
	expect_error(t, "case:\n  max_size: 5 M\n", 2, "case.max_size");
	/* A list or mapping where a value belongs. */
	expect_error(t, "terminal:\n  - a\n", 2, "terminal");
	expect_error(t, "log:\n  level:\n    x: y\n", 3, "log.level");
}

static void
section_as_scalar(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "form: yes\n", 1, "form");
	expect_error(t, "terminal: a\nlog: info\n", 2, "log");
	expect_error(t, "case:\n  - max_size\n", 2, "case");
}

/* bb.yaml(5): "a key without a value ... is an error". */
static void
key_without_value(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "terminal:\n", 1, "terminal");
	expect_error(t, "terminal: \"\"\n", 1, "terminal");
}

/* Loads yaml in a child that a hang cannot stop for long; returns the status. */
static int
load_in_child(const struct tmp *t, const char *yaml)
{
	pid_t pid;
	int st;

	put(t, yaml);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct bb_config *cfg;
		struct bb_err e = { 0, "" };
		alarm(5);
		_exit(bb_config_load(t->path, &cfg, &e));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("loading\n%s\nended by signal %d (SIGALRM %d: it hung)", yaml,
		    WTERMSIG(st), SIGALRM);
	return WEXITSTATUS(st);
}

/* Regression (fixed): lib/config.c enum_has(): an empty value ("form:\n  lang:\n", or lang: "")
 * makes strstr(p, "") match at the same place forever, so bb_config_load never
 * returns. Expected: 78 "form.lang: expected one of: de en". */
static void
enum_without_value(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(load_in_child(t, "form:\n  lang:\n"), 78);
	assert_int_equal(load_in_child(t, "log:\n  level: \"\"\n"), 78);
	expect_error(t, "form:\n  lang:\n", 2, "form.lang");
}

/* Regression (fixed): lib/config.c enum_has(): a value made of several consecutive choices separated
 * by a space ("de en", "info notice") is accepted, and bb_config_str returns it.
 * Expected: 78, only a single choice is a valid value. */
static void
enum_rejects_several_choices(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "form:\n  lang: de en\n", 2, "form.lang");
	expect_error(t, "log:\n  level: info notice\n", 2, "log.level");
}

static void
invalid_yaml(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "log:\n  level: info\n\nform:\n  lang: de: en\n", 5, "invalid YAML");
	expect_error(t, "log:\n  level: info\n   syslog: true\n", 3, "invalid YAML");
	expect_error(t, "terminal: a\n\tform: b\n", 2, NULL);
}

static void
anchors_and_aliases(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "terminal: a\nlog: &common\n  level: info\nform: *common\n", 2,
	    "anchor");
	expect_error(t, "terminal: &t rathaus\nform:\n  services: *t\n", 1, "anchor");
	expect_error(t, "terminal: rathaus\nform:\n  services: *t\n", 3, NULL);
}

/* Regression (fixed): lib/yamltree.c parse_node() refuses anchors and aliases but not tags, while
 * bb.yaml(5) says tags are an error; "terminal: !!str x" or "log: !!map" load with
 * status 0. Expected: 78 naming the line of the tag. */
static void
tags_rejected(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "terminal: !!str rathaus\n", 1, NULL);
	expect_error(t, "terminal: a\nlog: !!map\n  level: info\n", 2, NULL);
}

static void
root_not_a_mapping(void **state)
{
	struct tmp *t = *state;

	expect_error(t, "- terminal\n- log\n", 1, NULL);
	expect_error(t, "just a string\n", 1, NULL);
}

/* --- sizes and durations --- */

static void
parse_size(void **state)
{
	(void)state;
	assert_int_equal(bb_parse_size("0"), 0);
	assert_int_equal(bb_parse_size("10"), 10);
	assert_int_equal(bb_parse_size("1K"), 1024);
	assert_int_equal(bb_parse_size("3k"), 3072);
	assert_int_equal(bb_parse_size("64M"), 67108864LL);
	assert_int_equal(bb_parse_size("2G"), 2147483648LL);
	assert_int_equal(bb_parse_size(""), -1);
	assert_int_equal(bb_parse_size("M"), -1);
	assert_int_equal(bb_parse_size("1x"), -1);
	assert_int_equal(bb_parse_size("1MB"), -1);
	assert_int_equal(bb_parse_size("1.5M"), -1);
	assert_int_equal(bb_parse_size("-1"), -1);
	assert_int_equal(bb_parse_size(" 1"), -1);
	assert_int_equal(bb_parse_size("1 "), -1);
	assert_int_equal(bb_parse_size("99999999999999999999G"), -1);
	assert_int_equal(bb_parse_size("99999999999999999999"), -1);
	/* Fits in a long long, but not once multiplied. */
	assert_int_equal(bb_parse_size("9000000000000G"), -1);
	assert_int_equal(bb_parse_size(NULL), -1);
}

static void
parse_duration(void **state)
{
	(void)state;
	assert_int_equal(bb_parse_duration("0"), 0);
	assert_int_equal(bb_parse_duration("10"), 10);
	assert_int_equal(bb_parse_duration("90s"), 90);
	assert_int_equal(bb_parse_duration("5m"), 300);
	assert_int_equal(bb_parse_duration("4h"), 14400);
	assert_int_equal(bb_parse_duration("5d"), 432000);
	assert_int_equal(bb_parse_duration(""), -1);
	assert_int_equal(bb_parse_duration("M"), -1);
	assert_int_equal(bb_parse_duration("m"), -1);
	assert_int_equal(bb_parse_duration("1x"), -1);
	assert_int_equal(bb_parse_duration("5ms"), -1);
	assert_int_equal(bb_parse_duration("-5m"), -1);
	assert_int_equal(bb_parse_duration("1.5h"), -1);
	assert_int_equal(bb_parse_duration("99999999999999999999G"), -1);
	assert_int_equal(bb_parse_duration("99999999999999999999"), -1);
	assert_int_equal(bb_parse_duration("999999999999999999d"), -1);
	assert_int_equal(bb_parse_duration(NULL), -1);
}

/* A catalogue's language tag: the counts and the catalogues accept the same names. */
static void
lang_tag(void **state)
{
	static const char *good[] = { "de", "ar", "tr", "pt-BR", "sr-Latn", "es-419", "gsw",
	    "zh-Hant-TW" };
	static const char *bad[] = { "", "d", "dddd", "DE", "de-", "-de", "de--x", "de_AT",
	    "pt-BR9abcdefg", "de/../x", "d1", "de x", "ü" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(bb_lang_tag_ok(good[i], strlen(good[i])));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(bb_lang_tag_ok(bad[i], strlen(bad[i])));
	/* Only the first len bytes count: "de.yaml" names the catalogue de. */
	assert_true(bb_lang_tag_ok("de.yaml", 2));
	assert_false(bb_lang_tag_ok("de.yaml", 7));
	assert_false(bb_lang_tag_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 36));
}

/* kiosk.presence_event: a key's press or a switch turned off by default. */
static void
parse_input_event(void **state)
{
	int t = -1, c = -1, v = -1;

	(void)state;
	assert_int_equal(bb_parse_input_event("sw:0x0b", &t, &c, &v), 0);
	assert_int_equal(t, EV_SW);
	assert_int_equal(c, SW_FRONT_PROXIMITY);
	assert_int_equal(v, 0);
	assert_int_equal(bb_parse_input_event("key:28", &t, &c, &v), 0);
	assert_int_equal(t, EV_KEY);
	assert_int_equal(c, KEY_ENTER);
	assert_int_equal(v, 1);
	assert_int_equal(bb_parse_input_event("sw:2:1", &t, &c, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(bb_parse_input_event("key:1:0", &t, &c, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(bb_parse_input_event("sw:-1", &t, &c, &v), -1);
	assert_int_equal(bb_parse_input_event("sw:99", &t, &c, &v), -1);	/* > SW_MAX */
	assert_int_equal(bb_parse_input_event("key:1:3", &t, &c, &v), -1);
	assert_int_equal(bb_parse_input_event("key:1:", &t, &c, &v), -1);
	assert_int_equal(bb_parse_input_event("key:", &t, &c, &v), -1);
	assert_int_equal(bb_parse_input_event("abs:1", &t, &c, &v), -1);
	assert_int_equal(bb_parse_input_event("sw:11 ", &t, &c, &v), -1);
	assert_int_equal(bb_parse_input_event("SW_LID", &t, &c, &v), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(defaults_without_file),
		T(defaults_null_config),
		T(bb_config_names_missing_file),
		T(named_file_missing),
		T(bb_config_is_read),
		T(named_path_wins_over_env),
		T(empty_file_gives_defaults),
		T(values_read_back),
		T(partial_file_keeps_defaults),
		T(unknown_key),
		T(unknown_key_exact_message),
		T(duplicate_key),
		T(wrong_types),
		T(section_as_scalar),
		T(key_without_value),
		T(enum_without_value),
		T(enum_rejects_several_choices),
		T(invalid_yaml),
		T(anchors_and_aliases),
		T(tags_rejected),
		T(root_not_a_mapping),
		cmocka_unit_test(parse_size),
		cmocka_unit_test(parse_input_event),
		cmocka_unit_test(parse_duration),
		cmocka_unit_test(lang_tag),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
