/* Reading, checking, creating and writing cases. */
#include "case.h"
#include "crypto.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *
bb_json_error_reason(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_premature_end_of_input: return "truncated: premature end of input";
	case json_error_end_of_input_expected: return "data after the end of the document";
	case json_error_invalid_utf8: return "not valid UTF-8";
	case json_error_duplicate_key: return "duplicate key in an object";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_null_character: return "NUL character in the input";
	case json_error_null_byte_in_key: return "NUL character in a key";
	case json_error_numeric_overflow: return "number out of range";
	case json_error_out_of_memory: return "out of memory";
	default: return "syntax error";
	}
}

int
bb_case_parse(const char *name, const char *buf, size_t len, json_t **out,
    struct bb_err *e)
{
	json_error_t jerr;
	json_t *c;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' ||
	    buf[i] == '\r'); i++)
		;
	if (i == len)
		return bb_fail(e, BB_DATAERR,
		    "%s: empty input: no case (did the previous step fail?)", name);
	c = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (c == NULL)
		return bb_fail(e, BB_DATAERR, "%s:%d:%d: invalid JSON: %s", name, jerr.line,
		    jerr.column, bb_json_error_reason(&jerr));
	if ((rc = bb_case_validate(c, e)) != 0) {
		json_decref(c);
		return bb_err_context(e, "%s", name);
	}
	*out = c;
	return 0;
}

int
bb_case_read(const char *path, size_t max, json_t **out, struct bb_err *e)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = bb_read_file(path, max, &buf, &len, e)) != 0)
		return rc;
	rc = bb_case_parse(path && strcmp(path, "-") ? path : "<stdin>", buf, len, out, e);
	/* The buffer held personal data. */
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

static int
digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/* YYYY-MM-DDTHH:MM:SS, an optional fraction, then Z or +HH:MM / -HH:MM; a real day. */
static int
is_rfc3339(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec;
	const char *p;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0)
		return 1;
	return (p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':' &&
	    digits(p + 1, 2) >= 0 && digits(p + 1, 2) < 24 && digits(p + 4, 2) >= 0 &&
	    digits(p + 4, 2) < 60;
}

static int
check_attachment(const json_t *a, size_t idx, json_t *seen, struct bb_err *e)
{
	const char *name, *type, *sha, *data;
	const json_t *first;
	unsigned char *raw;
	size_t rawlen;
	char hex[129];
	size_t i;

	if (!json_is_object(a))
		return bb_fail(e, BB_DATAERR, "case: attachments[%zu]: expected an object", idx);
	name = json_string_value(json_object_get(a, "name"));
	type = json_string_value(json_object_get(a, "type"));
	sha = json_string_value(json_object_get(a, "sha512"));
	data = json_string_value(json_object_get(a, "data"));
	if (name == NULL || *name == '\0')
		return bb_fail(e, BB_DATAERR, "case: attachments[%zu].name: missing", idx);
	/* seen maps each name to its index: one hash lookup, not a scan of the ones before. */
	if ((first = json_object_get(seen, name)) != NULL)
		return bb_fail(e, BB_DATAERR,
		    "case: attachments[%zu].name: the same as attachments[%lld].name", idx,
		    (long long)json_integer_value(first));
	if (json_object_set_new(seen, name, json_integer((json_int_t)idx)) != 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (type == NULL || strchr(type, '/') == NULL)
		return bb_fail(e, BB_DATAERR,
		    "case: attachments[%zu].type: missing or not a MIME type", idx);
	if (sha == NULL || strlen(sha) != 128 || strspn(sha, "0123456789abcdef") != 128)
		return bb_fail(e, BB_DATAERR,
		    "case: attachments[%zu].sha512: expected 128 lower-case hex digits", idx);
	if (data == NULL)
		return bb_fail(e, BB_DATAERR, "case: attachments[%zu].data: missing", idx);
	raw = bb_base64_decode(data, json_string_length(json_object_get(a, "data")), &rawlen);
	if (raw == NULL)
		return bb_fail(e, BB_DATAERR, "case: attachments[%zu].data: not base64", idx);
	i = (size_t)bb_sha512_hex(raw, rawlen, hex);
	free(raw);
	if (i != 0 || strcmp(hex, sha) != 0)
		return bb_fail(e, BB_DATAERR,
		    "case: attachments[%zu].sha512: does not match the data", idx);
	return 0;
}

int
bb_case_validate(const json_t *c, struct bb_err *e)
{
	static const char *objects[] = { "identity", "form", "submission", "capture", NULL };
	static const char *strings[] = { "service", NULL };
	struct bb_case_id id;
	const json_t *v, *atts;
	json_t *names;
	size_t i;
	int rc = 0;

	if (!json_is_object(c))
		return bb_fail(e, BB_DATAERR, "case: expected a JSON object");
	v = json_object_get(c, "bb");
	if (v == NULL)
		return bb_fail(e, BB_DATAERR, "case: bb: missing format version");
	if (!json_is_integer(v))
		return bb_fail(e, BB_DATAERR, "case: bb: format version must be an integer");
	if (json_integer_value(v) != BB_CASE_VERSION)
		return bb_fail(e, BB_DATAERR,
		    "case: bb: unsupported format version %lld (this program reads %d)",
		    (long long)json_integer_value(v), BB_CASE_VERSION);
	if (bb_case_id_parse(&id, json_string_value(json_object_get(c, "id"))) != 0)
		return bb_fail(e, BB_DATAERR, "case: id: missing or not a UUID");
	v = json_object_get(c, "created");
	if (!json_is_string(v) || !is_rfc3339(json_string_value(v)))
		return bb_fail(e, BB_DATAERR, "case: created: missing or not an RFC 3339 time");
	v = json_object_get(c, "terminal");
	if (!json_is_string(v))
		return bb_fail(e, BB_DATAERR, "case: terminal: missing or not a string");
	for (i = 0; strings[i] != NULL; i++) {
		v = json_object_get(c, strings[i]);
		if (v != NULL && !json_is_string(v))
			return bb_fail(e, BB_DATAERR, "case: %s: expected a string", strings[i]);
	}
	for (i = 0; objects[i] != NULL; i++) {
		v = json_object_get(c, objects[i]);
		if (v != NULL && !json_is_object(v))
			return bb_fail(e, BB_DATAERR, "case: %s: expected an object", objects[i]);
	}
	atts = json_object_get(c, "attachments");
	if (atts == NULL)
		return 0;
	if (!json_is_array(atts))
		return bb_fail(e, BB_DATAERR, "case: attachments: expected a list");
	if (json_array_size(atts) > BB_CASE_MAX_ATTACHMENTS)
		return bb_fail(e, BB_DATAERR, "case: attachments: %zu, more than the %d a case "
		    "may hold", json_array_size(atts), BB_CASE_MAX_ATTACHMENTS);
	if ((names = json_object()) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	for (i = 0; i < json_array_size(atts) && rc == 0; i++)
		rc = check_attachment(json_array_get(atts, i), i, names, e);
	json_decref(names);
	return rc;
}

void
bb_time_format(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

void
bb_time_rfc3339(char out[21])
{
	bb_time_format(time(NULL), out);
}

int
bb_time_parse(const char *s, time_t *t)
{
	struct tm tm;
	const char *end;
	long off = 0;

	/* is_rfc3339 checked every character read below: the fields are taken as they stand
	 * (strptime() wants an upper-case T, and returned NULL on the lower-case t that RFC
	 * 3339 allows). */
	if (s == NULL || !is_rfc3339(s))
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	for (end = s + 19; *end == '.' || (*end >= '0' && *end <= '9'); end++)
		;
	if (*end == '+' || *end == '-')
		off = (end[0] == '-' ? -1 : 1) * (digits(end + 1, 2) * 3600L +
		    digits(end + 4, 2) * 60L);
	*t = timegm(&tm) - off;
	return 0;
}

json_t *
bb_case_new(const char *terminal)
{
	char id[37], created[21];

	if (bb_uuid_v4(id) != 0)
		return NULL;
	bb_time_rfc3339(created);
	return json_pack("{s:i, s:s, s:s, s:s}", "bb", BB_CASE_VERSION, "id", id,
	    "created", created, "terminal", terminal ? terminal : "");
}

int
bb_case_open(int fresh, const char *path, int stdin_busy, const char *terminal, size_t max,
    json_t **out, struct bb_err *e)
{
	if (fresh || (path == NULL && (stdin_busy || isatty(0)))) {
		if ((*out = bb_case_new(terminal)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "cannot create a case");
		return 0;
	}
	return bb_case_read(path, max, out, e);
}

json_t *
bb_case_part(json_t *o, const char *name)
{
	json_t *p = json_object_get(o, name);

	if (json_is_object(p))
		return p;
	if ((p = json_object()) == NULL || json_object_set_new(o, name, p) != 0)
		return NULL;
	return p;
}

struct bb_case_id
bb_case_id(const json_t *c)
{
	struct bb_case_id id;

	bb_case_id_parse(&id, json_string_value(json_object_get(c, "id")));
	return id;
}

int
bb_case_merge_part(json_t *c, const char *name, json_t *part)
{
	json_t *old = json_object_get(c, name);

	if (json_is_object(old) && json_is_object(part)) {
		int rc = json_object_update(old, part);
		json_decref(part);
		return rc;
	}
	return json_object_set_new(c, name, part);
}

char *
bb_case_dump(const json_t *c, size_t *len)
{
	size_t n = json_dumpb(c, NULL, 0, JSON_INDENT(2));
	char *buf;

	if (n == 0 || (buf = malloc(n + 2)) == NULL)
		return NULL;
	if (json_dumpb(c, buf, n, JSON_INDENT(2)) != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*len = n + 1;
	return buf;
}

int
bb_case_write(const json_t *c, const char *path, struct bb_err *e)
{
	char *buf;
	size_t len;
	int rc;

	if ((buf = bb_case_dump(c, &len)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "cannot serialise the case: out of memory");
	if (path == NULL || strcmp(path, "-") == 0)
		rc = bb_write_stdout(buf, len, e);
	else
		rc = bb_write_durable(path, buf, len, 0600, e);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int
bb_case_set_attachment(json_t *c, const char *name, const char *type, const void *data,
    size_t len, struct bb_err *e)
{
	char hash[129], *b64;
	json_t *atts, *a;
	size_t i;

	if ((b64 = bb_base64_encode(data, len)) == NULL || bb_sha512_hex(data, len, hash) != 0) {
		free(b64);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	a = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "type", type, "sha512", hash,
	    "data", b64);
	free(b64);
	if (a == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if ((atts = json_object_get(c, "attachments")) == NULL) {
		if ((atts = json_array()) == NULL || json_object_set_new(c, "attachments", atts) != 0) {
			json_decref(a);
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		}
	}
	for (i = 0; i < json_array_size(atts); i++) {
		const char *n = json_string_value(json_object_get(json_array_get(atts, i), "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return json_array_set_new(atts, i, a) == 0 ? 0 :
			    bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	if (json_array_size(atts) >= BB_CASE_MAX_ATTACHMENTS) {
		json_decref(a);
		return bb_fail(e, BB_DATAERR, "case: attachments: already the %d a case may hold",
		    BB_CASE_MAX_ATTACHMENTS);
	}
	return json_array_append_new(atts, a) == 0 ? 0 : bb_fail(e, BB_SOFTWARE, "out of memory");
}

/* Zeros the strings of j and of what only j holds. */
static void
json_zero(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		/* jansson owns the bytes, an allocation of at least this length. */
		explicit_bzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (v->refcount == 1)
				json_zero(v);
	} else if (json_is_object(j)) {
		/* Keys are zeroed too (a repeated group's index is no secret, a key a delivery
		 * command wrote might be); the object is freed next, never looked up again. */
		json_object_foreach(j, k, v) {
			if (v->refcount == 1)
				json_zero(v);
			explicit_bzero((char *)k, strlen(k));
		}
	}
}

void
bb_json_wipe(json_t *j)
{
	if (j == NULL)
		return;
	if (j->refcount == 1)
		json_zero(j);
	json_decref(j);
}
