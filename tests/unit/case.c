/* lib/case.c against bb-case(5): what bb_case_parse accepts and rejects (empty input,
 * broken JSON, wrong version, id, created, attachments) with 65 and no case, messages
 * that never quote a value, unknown keys kept through parse and dump, bb_case_new,
 * bb_case_merge_part, and bb_case_write/bb_case_read through a file of mode 0600. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "diag.h"
#include "scratch.h"

#define ID "8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e58"
/* "hello" in base64 and its SHA-512 (computed independently). */
#define HELLO_B64 "aGVsbG8="
#define HELLO_SHA "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7" \
	"2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"

/* --- helpers --- */

static json_t *
valid_case(void)
{
	json_t *c = json_pack("{s:i, s:s, s:s, s:s}", "bb", 1, "id", ID,
	    "created", "2026-11-30T10:15:03Z", "terminal", "rathaus-1");

	assert_non_null(c);
	return c;
}

static json_t *
attachment(const char *name, const char *type, const char *sha, const char *data)
{
	json_t *a = json_object();

	if (name != NULL)
		json_object_set_new(a, "name", json_string(name));
	if (type != NULL)
		json_object_set_new(a, "type", json_string(type));
	if (sha != NULL)
		json_object_set_new(a, "sha512", json_string(sha));
	if (data != NULL)
		json_object_set_new(a, "data", json_string(data));
	return a;
}

/* Parses text; on success *out holds the case. */
static int
parse_text(const char *text, json_t **out, struct bb_err *e)
{
	return bb_case_parse("<stdin>", text, strlen(text), out, e);
}

/* Serialises c (taking its reference), parses it, expects 65, no case, and want. */
static void
expect_rejected(json_t *c, const char *want)
{
	char *text = json_dumps(c, JSON_COMPACT);
	struct bb_err e = { 0, "" };
	json_t *out = (json_t *)1;
	int rc;

	json_decref(c);
	assert_non_null(text);
	rc = parse_text(text, &out, &e);
	if (rc != 65)
		fail_msg("%s\nwas not rejected (%d)", text, rc);
	free(text);
	assert_int_equal(e.status, 65);
	assert_null(out);
	assert_non_null(strstr(e.msg, "<stdin>"));
	if (want != NULL && strstr(e.msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static void
expect_text_rejected(const char *text, const char *want)
{
	struct bb_err e = { 0, "" };
	json_t *out = (json_t *)1;

	if (parse_text(text, &out, &e) != 65)
		fail_msg("'%s' was not rejected", text);
	assert_null(out);
	if (want != NULL && strstr(e.msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, want);
}

static void
expect_accepted(json_t *c)
{
	char *text = json_dumps(c, JSON_COMPACT);
	struct bb_err e = { 0, "" };
	json_t *out = NULL;
	int rc;

	assert_non_null(text);
	rc = parse_text(text, &out, &e);
	if (rc != 0)
		fail_msg("%s\nwas rejected: %s", text, e.msg);
	assert_true(json_equal(out, c));
	json_decref(out);
	json_decref(c);
	free(text);
}

struct tmp {
	char dir[64];
	char path[128];
};

static int
setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	if (scratch_make(t->dir, "case") != 0) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof t->path, "%s/case.json", t->dir);
	*state = t;
	return 0;
}

static int
teardown_tmp(void **state)
{
	struct tmp *t = *state;

	scratch_remove(t->dir);
	free(t);
	return 0;
}

/* --- accepted --- */

static void
parse_valid(void **state)
{
	json_t *c = valid_case();

	(void)state;
	expect_accepted(json_deep_copy(c));
	json_object_set_new(c, "service", json_string("wohnsitz-anmelden"));
	json_object_set_new(c, "identity", json_pack("{s:s}", "family_names", "MUSTERMANN"));
	json_object_set_new(c, "form", json_object());
	json_object_set_new(c, "submission", json_object());
	json_object_set_new(c, "attachments",
	    json_pack("[o]", attachment("photo", "image/jpeg", HELLO_SHA, HELLO_B64)));
	expect_accepted(c);
}

/* White space around the object is no error; the time may carry fractions. */
static void
parse_valid_text(void **state)
{
	struct bb_err e = { 0, "" };
	json_t *out = NULL;

	(void)state;
	assert_int_equal(parse_text("\n  {\"bb\": 1, \"id\": \"" ID "\", \"created\": "
	    "\"2026-11-30T10:15:03.25Z\", \"terminal\": \"t\"}\n\n", &out, &e), 0);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "id")), ID);
	json_decref(out);
}

static void
attachment_empty_data(void **state)
{
	json_t *c = valid_case();

	(void)state;
	/* SHA-512 of nothing. */
	json_object_set_new(c, "attachments", json_pack("[o]", attachment("empty", "text/plain",
	    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", "")));
	expect_accepted(c);
}

/* --- rejected --- */

static void
parse_empty(void **state)
{
	(void)state;
	expect_text_rejected("", "empty input");
	expect_text_rejected("  \n\t\r\n ", "empty input");
}

static void
parse_broken_json(void **state)
{
	char text[256];
	json_t *c = valid_case();
	char *full = json_dumps(c, 0);

	(void)state;
	json_decref(c);
	snprintf(text, sizeof text, "%.*s", (int)(strlen(full) / 2), full);
	expect_text_rejected(text, "<stdin>:1:");	/* truncated: line and column */
	free(full);
	expect_text_rejected("{\"bb\": 1,\n\"id\": ", "<stdin>:2:");
	expect_text_rejected("{\"bb\": 1} trailing", "invalid JSON");
	expect_text_rejected("{\"bb\": 1}{\"bb\": 1}", "invalid JSON");
	expect_text_rejected("{\"bb\": 1, \"bb\": 1, \"id\": \"" ID "\"}", "invalid JSON");
	expect_text_rejected("{\"bb\": 1, \"x\": \"a\\u0000b\"}", "invalid JSON");
	expect_text_rejected("{\"bb\": 1, \"x\": \"\xff\xfe\"}", "invalid JSON");
	expect_text_rejected("'bb': 1", "invalid JSON");
}

/* bb-case(5): the message "never quotes a value from the case", also for syntax errors
 * whose parser's own text repeats the offending token. */
static void
broken_json_message_has_no_value(void **state)
{
	static const char *texts[] = {
		"{\"bb\": 1, \"identity\": {\"family_names\": \"ZAPHOD",
		"{\"bb\": 1, \"identity\": {\"family_names\": ZAPHOD}}",
		"{\"bb\": 1, \"identity\": {\"family_names\": \"x\" \"ZAPHOD\"}}",
		"{\"bb\": 1, \"identity\": {\"ZAPHOD\": 1, \"ZAPHOD\": 2}}",
		"ZAPHOD",
		NULL,
	};
	struct bb_err e;
	json_t *out;
	int i;

	(void)state;
	for (i = 0; texts[i] != NULL; i++) {
		memset(&e, 0, sizeof e);
		assert_int_equal(parse_text(texts[i], &out, &e), 65);
		if (strstr(e.msg, "ZAPHOD") != NULL)
			fail_msg("message quotes the input: %s", e.msg);
	}
}

static void
parse_not_an_object(void **state)
{
	(void)state;
	expect_text_rejected("[1, 2]", "object");
	expect_text_rejected("[{\"bb\": 1, \"id\": \"" ID "\"}]", NULL);
	expect_text_rejected("\"a string\"", NULL);
	expect_text_rejected("42", NULL);
	expect_text_rejected("null", NULL);
}

static void
parse_version(void **state)
{
	json_t *c;

	(void)state;
	c = valid_case();
	json_object_del(c, "bb");
	expect_rejected(c, "bb");
	c = valid_case();
	json_object_set_new(c, "bb", json_integer(2));
	expect_rejected(c, "bb");
	c = valid_case();
	json_object_set_new(c, "bb", json_integer(0));
	expect_rejected(c, "bb");
	c = valid_case();
	json_object_set_new(c, "bb", json_string("1"));
	expect_rejected(c, "bb");
	c = valid_case();
	json_object_set_new(c, "bb", json_real(1.0));
	expect_rejected(c, "bb");
	c = valid_case();
	json_object_set_new(c, "bb", json_true());
	expect_rejected(c, "bb");
}

static void
parse_id(void **state)
{
	static const char *bad[] = {
		"not-a-uuid", "", "8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e5",
		"8f0e2c415b7d4a19b3e60d9c7f1a2e58", "8f0e2c41-5b7d-4a19-b3e6-0d9c7f1a2e5z",
		"MUSTERMANN, ERIKA 1964-08-12 BERLIN", NULL,
	};
	json_t *c;
	int i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		c = valid_case();
		json_object_set_new(c, "id", json_string(bad[i]));
		expect_rejected(c, "id");
	}
	c = valid_case();
	json_object_del(c, "id");
	expect_rejected(c, "id");
	c = valid_case();
	json_object_set_new(c, "id", json_integer(42));
	expect_rejected(c, "id");
}

static void
parse_created(void **state)
{
	static const char *bad[] = {
		"30.11.2026", "2026-11-30", "2026-11-30T10:15:03", "yesterday", "",
		"2026-13-01T10:15:03Z", "2026-11-30T25:15:03Z", "2026-11-30T10:15:03ZZ",
		"2026-11-30T10:15:03Z trailing", "2026-11-30T10:15:03.Z",
		NULL,
	};
	json_t *c;
	int i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		c = valid_case();
		json_object_set_new(c, "created", json_string(bad[i]));
		expect_rejected(c, "created");
	}
	c = valid_case();
	json_object_del(c, "created");
	expect_rejected(c, "created");
	c = valid_case();
	json_object_set_new(c, "created", json_integer(1764497703));
	expect_rejected(c, "created");
}

/* Regression (fixed): lib/case.c is_rfc3339() relies on strptime(), which does not check the day
 * against the month, skips leading blanks and takes one-digit fields, and the offset
 * is not checked to be digits. Accepted but not RFC 3339 times:
 * "2026-02-31T10:15:03Z", "2026-1-1T1:2:3.000000Z", " 2026-11-30T10:15:03Z",
 * "2026-11-30T10:15:03+ab:cd". Expected: 65 "created: ... not an RFC 3339 time". */
static void
parse_created_strict(void **state)
{
	static const char *bad[] = {
		"2026-02-31T10:15:03Z", "2026-1-1T1:2:3.000000Z", " 2026-11-30T10:15:03Z",
		"2026-11-30T10:15:03+ab:cd", NULL,
	};
	json_t *c;
	int i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		c = valid_case();
		json_object_set_new(c, "created", json_string(bad[i]));
		expect_rejected(c, "created");
	}
}

static void
parse_part_types(void **state)
{
	json_t *c;

	(void)state;
	c = valid_case();
	json_object_set_new(c, "terminal", json_integer(1));
	expect_rejected(c, "terminal");
	c = valid_case();
	json_object_set_new(c, "service", json_pack("[s]", "x"));
	expect_rejected(c, "service");
	c = valid_case();
	json_object_set_new(c, "identity", json_string("MUSTERMANN"));
	expect_rejected(c, "identity");
	c = valid_case();
	json_object_set_new(c, "form", json_array());
	expect_rejected(c, "form");
	c = valid_case();
	json_object_set_new(c, "submission", json_null());
	expect_rejected(c, "submission");
}

/* Regression (fixed): lib/case.c bb_case_validate() treats terminal as optional, while bb-case(5)
 * says "bb, id, created and terminal are present in every case" and a reader rejects
 * a case when "a key it checks is missing". A case without terminal is accepted.
 * Expected: 65 "case: terminal: missing" (or the page changed, if optional is meant). */
static void
parse_terminal_missing(void **state)
{
	json_t *c;

	(void)state;
	c = valid_case();
	json_object_del(c, "terminal");
	expect_rejected(c, "terminal");
}

static void
with_attachments(json_t *list, const char *want)
{
	json_t *c = valid_case();

	json_object_set_new(c, "attachments", list);
	expect_rejected(c, want);
}

static void
parse_attachments(void **state)
{
	char upper[129];
	size_t i;

	(void)state;
	/* The hash of other data ("hellO"): right form, wrong value. */
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg",
	    "0f8d9f5f40e5a5a08ab4b3a0fb8d9e0b6d6d1e2b1a6c5d4e3f2a1b0c9d8e7f6a"
	    "5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c", HELLO_B64)),
	    "attachments[0].sha512");
	/* The right hash in upper case. */
	for (i = 0; i < 128; i++)
		upper[i] = (char)(HELLO_SHA[i] >= 'a' ? HELLO_SHA[i] - 32 : HELLO_SHA[i]);
	upper[128] = '\0';
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", upper, HELLO_B64)),
	    "attachments[0].sha512");
	/* Hash too short. */
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", "abc", HELLO_B64)),
	    "attachments[0].sha512");
	/* Bad base64: no padding, bad character, line break. */
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", HELLO_SHA,
	    "aGVsbG8")), "attachments[0].data");
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", HELLO_SHA,
	    "aGVs*G8=")), "attachments[0].data");
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", HELLO_SHA,
	    "aGVs\nbG8=")), "attachments[0].data");
	/* Missing pieces. */
	with_attachments(json_pack("[o]", attachment("photo", NULL, HELLO_SHA, HELLO_B64)),
	    "attachments[0].type");
	with_attachments(json_pack("[o]", attachment("photo", "jpeg", HELLO_SHA, HELLO_B64)),
	    "attachments[0].type");
	with_attachments(json_pack("[o]", attachment(NULL, "image/jpeg", HELLO_SHA, HELLO_B64)),
	    "attachments[0].name");
	with_attachments(json_pack("[o]", attachment("", "image/jpeg", HELLO_SHA, HELLO_B64)),
	    "attachments[0].name");
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", NULL, HELLO_B64)),
	    "attachments[0].sha512");
	with_attachments(json_pack("[o]", attachment("photo", "image/jpeg", HELLO_SHA, NULL)),
	    "attachments[0].data");
	/* Duplicate names, the second one named by index. */
	with_attachments(json_pack("[o,o]",
	    attachment("photo", "image/jpeg", HELLO_SHA, HELLO_B64),
	    attachment("photo", "image/png", HELLO_SHA, HELLO_B64)), "attachments[1].name");
	/* The second of several is wrong. */
	with_attachments(json_pack("[o,o]",
	    attachment("photo", "image/jpeg", HELLO_SHA, HELLO_B64),
	    attachment("signature", "image/png", HELLO_SHA, "d29ybGQ=")),
	    "attachments[1].sha512");
	/* Not a list, not objects. */
	with_attachments(json_pack("{s:s}", "name", "photo"), "attachments");
	with_attachments(json_pack("[s]", "photo"), "attachments[0]");
}

/* Regression (fixed): lib/case.c check_attachment() quotes the attachment's name in
 * "attachments[1].name: 'ZAPHOD' used twice", while bb-case(5) says the message
 * "never quotes a value from the case". Expected: the index only. */
static void
attachment_message_has_no_value(void **state)
{
	json_t *c, *out;
	char *text;
	struct bb_err e = { 0, "" };

	(void)state;
	c = valid_case();
	json_object_set_new(c, "attachments", json_pack("[o,o]",
	    attachment("ZAPHOD", "image/jpeg", HELLO_SHA, HELLO_B64),
	    attachment("ZAPHOD", "image/jpeg", HELLO_SHA, HELLO_B64)));
	text = json_dumps(c, 0);
	json_decref(c);
	assert_int_equal(parse_text(text, &out, &e), 65);
	free(text);
	assert_null(strstr(e.msg, "ZAPHOD"));
}

/* --- keeping what is not ours --- */

static void
unknown_keys_preserved(void **state)
{
	const char *text =
	    "{\"bb\": 1, \"id\": \"" ID "\", \"created\": \"2026-11-30T10:15:03Z\","
	    " \"terminal\": \"t\", \"x_future\": {\"a\": [1, 2.5, null, true]},"
	    " \"identity\": {\"x_new\": \"kept\", \"family_names\": \"MUSTERMANN\"},"
	    " \"form\": {\"fields\": {\"n\": 3}, \"x_other\": {}}}";
	struct bb_err e = { 0, "" };
	json_t *c = NULL, *again = NULL, *expected;
	json_error_t jerr;
	char *dump;
	size_t len;

	(void)state;
	assert_int_equal(parse_text(text, &c, &e), 0);
	dump = bb_case_dump(c, &len);
	assert_non_null(dump);
	/* Newline-terminated (not NUL-terminated: only len bytes are ours to read). */
	assert_true(len > 2);
	assert_int_equal(dump[len - 1], '\n');
	assert_int_equal(dump[0], '{');
	assert_null(memchr(dump, '\0', len));
	assert_int_equal(bb_case_parse("dump", dump, len, &again, &e), 0);
	/* Compared with jansson's own reading of the input, not with bb's. */
	expected = json_loads(text, 0, &jerr);
	assert_non_null(expected);
	assert_true(json_equal(again, expected));
	assert_string_equal(json_string_value(json_object_get(json_object_get(again, "identity"),
	    "x_new")), "kept");
	assert_true(json_is_array(json_object_get(json_object_get(again, "x_future"), "a")));
	free(dump);
	json_decref(c);
	json_decref(again);
	json_decref(expected);
}

/* --- new cases --- */

static void
case_new_fields(void **state)
{
	struct bb_err e = { 0, "" };
	json_t *c, *d;
	time_t before = time(NULL), after, created;
	struct tm tm;
	const char *s, *end;
	char *text;

	(void)state;
	c = bb_case_new("rathaus-1");
	after = time(NULL);
	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "bb")), 1);
	assert_true(json_is_integer(json_object_get(c, "bb")));
	assert_string_equal(json_string_value(json_object_get(c, "terminal")), "rathaus-1");
	s = json_string_value(json_object_get(c, "id"));
	assert_non_null(s);
	assert_int_equal(strlen(s), 36);
	assert_int_equal(s[14], '4');
	assert_int_equal(strspn(s, "0123456789abcdef-"), 36);
	/* created: "YYYY-MM-DDTHH:MM:SSZ", in UTC, now. */
	s = json_string_value(json_object_get(c, "created"));
	assert_non_null(s);
	assert_int_equal(strlen(s), 20);
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_non_null(end);
	assert_int_equal(*end, '\0');
	created = timegm(&tm);
	assert_true(created >= before && created <= after);
	/* A new case is a valid case, and two differ in id. */
	text = json_dumps(c, 0);
	assert_int_equal(parse_text(text, &d, &e), 0);
	json_decref(d);
	free(text);
	d = bb_case_new("rathaus-1");
	assert_string_not_equal(json_string_value(json_object_get(c, "id")),
	    json_string_value(json_object_get(d, "id")));
	assert_string_equal(bb_case_id(c).s, json_string_value(json_object_get(c, "id")));
	json_decref(c);
	json_decref(d);
}

static void
case_id_of_case(void **state)
{
	json_t *c = valid_case();

	(void)state;
	assert_string_equal(bb_case_id(c).s, ID);
	json_object_set_new(c, "id", json_string("MUSTERMANN"));
	assert_string_equal(bb_case_id(c).s, "");
	json_decref(c);
}

/* --- merging a part --- */

static void
merge_part_keeps_unknown_keys(void **state)
{
	json_t *c = valid_case(), *part, *expected;

	(void)state;
	json_object_set_new(c, "form", json_pack("{s:s, s:i, s:{s:b}}", "definition", "old",
	    "x_newer", 7, "fields", "a", 1));
	part = json_pack("{s:s, s:{s:s}}", "definition", "new", "fields", "b", "x");
	assert_int_equal(bb_case_merge_part(c, "form", part), 0);
	/* Replaced: definition and fields (whole, shallow); kept: x_newer. */
	expected = json_pack("{s:s, s:i, s:{s:s}}", "definition", "new", "x_newer", 7,
	    "fields", "b", "x");
	assert_true(json_equal(json_object_get(c, "form"), expected));
	json_decref(expected);
	/* The rest of the case is untouched. */
	assert_string_equal(json_string_value(json_object_get(c, "id")), ID);
	json_decref(c);
}

static void
merge_part_new(void **state)
{
	json_t *c = valid_case(), *part = json_pack("{s:s}", "state", "queued");

	(void)state;
	json_incref(part);
	assert_int_equal(bb_case_merge_part(c, "submission", part), 0);
	assert_true(json_equal(json_object_get(c, "submission"), part));
	json_decref(part);
	/* A part that was not an object is replaced. */
	json_object_set_new(c, "form", json_string("junk"));
	assert_int_equal(bb_case_merge_part(c, "form", json_pack("{s:i}", "version", 3)), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "form"),
	    "version")), 3);
	json_decref(c);
}

/* --- writing and reading files --- */

static void
write_and_read_file(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	json_t *c = valid_case(), *back = NULL, *other;
	json_error_t jerr;
	struct stat st;
	mode_t old;
	int rc;

	json_object_set_new(c, "identity", json_pack("{s:s, s:{s:s}}", "family_names",
	    "MÜLLER", "address", "city", "KÖLN"));
	json_object_set_new(c, "attachments",
	    json_pack("[o]", attachment("photo", "image/jpeg", HELLO_SHA, HELLO_B64)));
	old = umask(022);
	rc = bb_case_write(c, t->path, &e);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Read back by jansson directly and by bb_case_read. */
	other = json_load_file(t->path, 0, &jerr);
	assert_non_null(other);
	assert_true(json_equal(other, c));
	json_decref(other);
	assert_int_equal(bb_case_read(t->path, 1u << 20, &back, &e), 0);
	assert_true(json_equal(back, c));
	json_decref(back);
	/* A smaller limit than the file: 65. */
	back = NULL;
	assert_int_equal(bb_case_read(t->path, 10, &back, &e), 65);
	assert_null(back);
	json_decref(c);
}

static void
read_missing_file(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	json_t *c = NULL;

	assert_int_equal(bb_case_read(t->path, 1u << 20, &c, &e), 66);
	assert_null(c);
}

static void
write_into_missing_directory(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char p[200];
	json_t *c = valid_case();

	snprintf(p, sizeof p, "%s/none/case.json", t->dir);
	assert_int_equal(bb_case_write(c, p, &e), 73);
	json_decref(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

/* --- bb_json_wipe --- */

static int wipe_hits;		/* freed blocks that still held the secret */

static void *
wipe_malloc(size_t n)
{
	return malloc(n);
}

static void
wipe_free(void *p)
{
	if (p != NULL && malloc_usable_size(p) >= 5 &&
	    memmem(p, malloc_usable_size(p), "Erika", 5) != NULL)
		wipe_hits++;
	free(p);
}

/* Every string a wiped document held is zero before jansson frees it, keys too; what
 * someone else still holds is left alone. */
static void
test_json_wipe(void **state)
{
	json_t *kept, *doc;

	(void)state;
	json_set_alloc_funcs(wipe_malloc, wipe_free);
	kept = json_string("Erika kept");
	doc = json_pack("{s:s, s:[s, {s:s}], s:O, s:i}", "given", "Erika",
	    "persons", "Erika M.", "name", "Erika", "held", kept, "Erika", 1);
	assert_non_null(doc);
	wipe_hits = 0;
	bb_json_wipe(doc);
	assert_int_equal(wipe_hits, 0);
	assert_string_equal(json_string_value(kept), "Erika kept");
	/* The control: a plain decref leaves the bytes in freed memory. */
	doc = json_pack("{s:s}", "given", "Erika");
	json_decref(doc);
	assert_true(wipe_hits > 0);
	json_decref(kept);
	bb_json_wipe(NULL);
	json_set_alloc_funcs(malloc, free);
}

/* A part is found, made, or made anew where something else than an object stood. */
static void
case_part(void **state)
{
	json_t *c = json_pack("{s:{s:i}, s:s}", "capture", "x", 1, "submission", "odd");
	json_t *p;

	(void)state;
	p = bb_case_part(c, "capture");
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "x")), 1);
	p = bb_case_part(c, "submission");
	assert_true(json_is_object(p) && json_object_size(p) == 0);
	assert_ptr_equal(json_object_get(c, "submission"), p);
	p = bb_case_part(bb_case_part(c, "form"), "inner");
	assert_ptr_equal(json_object_get(json_object_get(c, "form"), "inner"), p);
	assert_null(bb_case_part(json_object_get(c, "nothing"), "x"));
	json_decref(c);
}

/* --new, a file, or stdin: the case comes from where the program was told. */
static void
case_open(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	json_t *c = NULL, *fresh = NULL;
	char missing[160];
	FILE *f;

	assert_int_equal(bb_case_open(1, NULL, 0, "t1", 1 << 20, &fresh, &e), 0);
	assert_string_equal(json_string_value(json_object_get(fresh, "terminal")), "t1");
	assert_int_equal(bb_case_write(fresh, t->path, &e), 0);
	assert_int_equal(bb_case_open(0, t->path, 0, "t2", 1 << 20, &c, &e), 0);
	assert_string_equal(json_string_value(json_object_get(c, "id")),
	    json_string_value(json_object_get(fresh, "id")));
	json_decref(c);
	/* stdin busy: a new case, stdin is not read. */
	assert_non_null(f = freopen(t->path, "r", stdin));
	assert_int_equal(bb_case_open(0, NULL, 1, "t3", 1 << 20, &c, &e), 0);
	assert_string_equal(json_string_value(json_object_get(c, "terminal")), "t3");
	json_decref(c);
	/* stdin free and not a terminal: the case is read from it. */
	assert_int_equal(bb_case_open(0, NULL, 0, "t4", 1 << 20, &c, &e), 0);
	assert_string_equal(json_string_value(json_object_get(c, "terminal")), "t1");
	json_decref(c);
	snprintf(missing, sizeof missing, "%s/missing.json", t->dir);
	assert_int_equal(bb_case_open(0, missing, 0, "t5", 1 << 20, &c, &e), 66);
	json_decref(fresh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_valid),
		cmocka_unit_test(parse_valid_text),
		cmocka_unit_test(attachment_empty_data),
		cmocka_unit_test(parse_empty),
		cmocka_unit_test(parse_broken_json),
		cmocka_unit_test(broken_json_message_has_no_value),
		cmocka_unit_test(parse_not_an_object),
		cmocka_unit_test(parse_version),
		cmocka_unit_test(parse_id),
		cmocka_unit_test(parse_created),
		cmocka_unit_test(parse_created_strict),
		cmocka_unit_test(parse_part_types),
		cmocka_unit_test(parse_terminal_missing),
		cmocka_unit_test(parse_attachments),
		cmocka_unit_test(attachment_message_has_no_value),
		cmocka_unit_test(unknown_keys_preserved),
		cmocka_unit_test(case_new_fields),
		cmocka_unit_test(case_id_of_case),
		cmocka_unit_test(merge_part_keeps_unknown_keys),
		cmocka_unit_test(merge_part_new),
		cmocka_unit_test(test_json_wipe),
		cmocka_unit_test(case_part),
		T(case_open),
		T(write_and_read_file),
		T(read_missing_file),
		T(write_into_missing_directory),
	};

	return cmocka_run_group_tests_name("case", tests, NULL, NULL);
}
