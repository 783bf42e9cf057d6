/* bb-form tell: one request on the screen server's control socket, one answer. */
#include "screen/server.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "case.h"
#include "secmem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_ANSWER (256u << 10)	/* a form page's answers */

static int
unavailable(struct bb_err *e, const char *path, const char *why)
{
	return bb_fail(e, BB_UNAVAILABLE, "control socket %s: %s (is bb-form serve running?)",
	    path, why);
}

/* Strict UTF-8, as jansson takes it: no overlong forms, no surrogates, at most
 * U+10FFFF. */
static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned long c;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1, c = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2, c = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3, c = s[i] & 0x07;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
bb_screen_set_add(json_t *set, const char *from, const char *name, size_t nlen,
    const char *value, size_t vlen, struct bb_err *e)
{
	char key[BB_SCREEN_SET_NAME + 1];
	json_t *v;

	if (nlen == 0 || nlen > BB_SCREEN_SET_NAME ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") < nlen)
		return bb_fail(e, BB_DATAERR, "%s: a name is 1 to %d of a-z, 0-9 and _", from,
		    BB_SCREEN_SET_NAME);
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	/* The value is the person's: the message names the placeholder, never the value. */
	if (!utf8_ok((const unsigned char *)value, vlen) || memchr(value, '\0', vlen) != NULL)
		return bb_fail(e, BB_DATAERR, "%s: %s: the value is not UTF-8 text", from, key);
	if (vlen > BB_SCREEN_SET_VALUE)
		return bb_fail(e, BB_DATAERR, "%s: %s: the value is longer than %d bytes", from,
		    key, BB_SCREEN_SET_VALUE);
	if (json_object_get(set, key) == NULL && json_object_size(set) >= BB_SCREEN_SET_MAX)
		return bb_fail(e, BB_DATAERR, "%s: more than %d values", from, BB_SCREEN_SET_MAX);
	if ((v = json_stringn(value, vlen)) == NULL || json_object_set_new(set, key, v) != 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	return 0;
}

static int
set_from_json(json_t *set, const char *path, const char *buf, size_t len, struct bb_err *e)
{
	json_error_t jerr;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *k;
	char from[300];
	int rc = 0;

	if (o == NULL)
		return bb_fail(e, BB_DATAERR, "--set-from %s:%d:%d: invalid JSON: %s", path,
		    jerr.line, jerr.column, bb_json_error_reason(&jerr));
	snprintf(from, sizeof from, "--set-from %s", path);
	if (!json_is_object(o))
		rc = bb_fail(e, BB_DATAERR, "%s: expected an object of strings", from);
	json_object_foreach(o, k, v) {
		if (rc != 0)
			break;
		if (!json_is_string(v))
			rc = bb_fail(e, BB_DATAERR, "%s: expected an object of strings", from);
		else
			rc = bb_screen_set_add(set, from, k, strlen(k), json_string_value(v),
			    json_string_length(v), e);
	}
	bb_json_wipe(o);
	return rc;
}

static int
set_from_lines(json_t *set, const char *path, const char *buf, size_t len,
    struct bb_err *e)
{
	const char *p = buf, *end = buf + len, *nl, *eq;
	char from[300];
	int line = 0, rc = 0;

	for (; rc == 0 && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line++;
		snprintf(from, sizeof from, "--set-from %s:%d", path, line);
		if (nl == p || *p == '#')
			continue;
		if ((eq = memchr(p, '=', (size_t)(nl - p))) == NULL)
			rc = bb_fail(e, BB_DATAERR, "%s: expected NAME=VALUE", from);
		else
			rc = bb_screen_set_add(set, from, p, (size_t)(eq - p), eq + 1,
			    (size_t)(nl - eq - 1), e);
	}
	return rc;
}

int
bb_screen_set_read(json_t *set, const char *path, struct bb_err *e)
{
	char *buf;
	size_t len, i;
	int rc;

	/* The values of 32 placeholders, written out as JSON escapes at worst. */
	if ((rc = bb_read_file(path, 256 << 10, &buf, &len, e)) != 0) {
		bb_err_context(e, "--set-from");
		return rc;
	}
	if (strcmp(path, "-") == 0)
		path = "<stdin>";
	for (i = 0; i < len && strchr(" \t\r\n", buf[i]) != NULL; i++)
		;
	if (i < len && buf[i] == '{')
		rc = set_from_json(set, path, buf, len, e);
	else
		rc = set_from_lines(set, path, buf, len, e);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* Sends req (one line) and reads the one-line answer (wiped when done: it may hold a
 * person's answers). 0 with *ans, or an exit status with e set. */
static int
exchange_fd(const char *control, const json_t *req, json_t **ans, int *keep, struct bb_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path], *line, *slash, *buf;
	json_error_t jerr;
	size_t len = 0, llen;
	ssize_t n;
	int fd, dfd;

	*ans = NULL;
	if (control[0] != '/' || strlen(control) >= sizeof sa.sun_path ||
	    (slash = strrchr(control, '/')) == NULL)
		return bb_fail(e, BB_USAGE, "control socket %s: not an absolute path of at most "
		    "%zu bytes", control, sizeof sa.sun_path - 1);
	/* Whoever could put a socket there could answer in the server's place. */
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - control), control);
	if ((dfd = bb_trust_open(dir[0] ? dir : "/", "control directory", 0, 1, e)) < 0)
		return e->status == BB_NOINPUT ? unavailable(e, control, "no such directory") :
		    e->status;
	close(dfd);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", control);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return bb_fail(e, BB_SOFTWARE, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int err = errno;
		close(fd);
		return unavailable(e, control, strerror(err));
	}
	/* Straight into a buffer of our own (json_dumps leaves a copy in freed memory),
	 * wiped after: it holds placeholder values, or a person's answers. */
	llen = json_dumpb(req, NULL, 0, JSON_COMPACT);
	line = llen > 0 ? malloc(llen + 1) : NULL;
	if (line == NULL || json_dumpb(req, line, llen, JSON_COMPACT) != llen ||
	    (buf = malloc(MAX_ANSWER)) == NULL) {
		if (line != NULL)
			explicit_bzero(line, llen);
		free(line);
		close(fd);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	line[llen] = '\n';
	n = send(fd, line, llen + 1, MSG_NOSIGNAL);
	explicit_bzero(line, llen + 1);
	free(line);
	if (n < 0) {
		int err = errno;
		free(buf);
		close(fd);
		return unavailable(e, control, strerror(err));
	}
	while (len < MAX_ANSWER - 1 && memchr(buf, '\n', len) == NULL) {
		/* keep: what follows the line is the caller's, so not a byte more. */
		n = read(fd, buf + len, keep != NULL ? 1 : MAX_ANSWER - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (keep != NULL)
		*keep = fd;
	else
		close(fd);
	if (len == 0 || memchr(buf, '\n', len) == NULL) {
		explicit_bzero(buf, len);
		free(buf);
		return unavailable(e, control, "the server closed the connection");
	}
	buf[len] = '\0';
	*ans = json_loads(buf, JSON_DISABLE_EOF_CHECK, &jerr);
	explicit_bzero(buf, len);
	free(buf);
	if (*ans == NULL || !json_is_object(*ans)) {
		json_decref(*ans);
		*ans = NULL;
		return bb_fail(e, BB_PROTOCOL, "control socket %s: not a JSON answer", control);
	}
	return 0;
}

static int
exchange(const char *control, const json_t *req, json_t **ans, struct bb_err *e)
{
	return exchange_fd(control, req, ans, NULL, e);
}

/* The server's answer: a choice (0), a time-out (1), an error with its status. */
static int
answer_status(const char *control, json_t *j, char **choice, struct bb_err *e)
{
	json_t *v;

	if ((v = json_object_get(j, "choice")) != NULL && json_is_string(v)) {
		if ((*choice = strdup(json_string_value(v))) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		return 0;
	}
	if (json_is_true(json_object_get(j, "timeout")))
		return BB_CANCELLED;
	if ((v = json_object_get(j, "error")) != NULL) {
		json_int_t st = json_integer_value(json_object_get(j, "status"));
		int status = st > 0 && st < 126 ? (int)st : BB_PROTOCOL;
		return bb_fail(e, status, "%s", json_is_string(v) ? json_string_value(v) : "error");
	}
	if (!json_is_true(json_object_get(j, "ok")))
		return bb_fail(e, BB_PROTOCOL, "control socket %s: unexpected answer", control);
	return 0;
}

static void
set_until(json_t *o, long until)
{
	if (until == 0)
		json_object_set_new(o, "until", json_string("tap"));
	else if (until > 0)
		json_object_set_new(o, "until", json_integer(until));
}

int
bb_screen_tell(const char *control, const char *screen, const json_t *set, long until,
    char **choice, struct bb_err *e)
{
	return bb_screen_tell_mirror(control, screen, set, NULL, until, choice, e);
}

int
bb_screen_tell_mirror(const char *control, const char *screen, const json_t *set,
    const char *mirror, long until, char **choice, struct bb_err *e)
{
	json_t *j, *ans;
	char cwd[4096], *abs = NULL;
	int status;

	*choice = NULL;
	/* The server runs elsewhere: it gets the directory by its absolute name. */
	if (mirror != NULL && mirror[0] != '/' && (getcwd(cwd, sizeof cwd) == NULL ||
	    asprintf(&abs, "%s/%s", cwd, mirror) < 0))
		return bb_fail(e, BB_USAGE, "--mirror %s: cannot make it absolute", mirror);
	if ((j = json_pack("{s:{s:s}}", "tell", "screen", screen)) == NULL) {
		free(abs);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	if (set != NULL)
		json_object_set(json_object_get(j, "tell"), "set", (json_t *)set);
	if (mirror != NULL)
		json_object_set_new(json_object_get(j, "tell"), "mirror",
		    json_string(abs != NULL ? abs : mirror));
	free(abs);
	set_until(json_object_get(j, "tell"), until);
	status = exchange(control, j, &ans, e);
	json_decref(j);
	if (status != 0)
		return status;
	status = answer_status(control, ans, choice, e);
	json_decref(ans);
	return status;
}

int
bb_screen_show(const char *control, const char *screen, const json_t *set, char *lang,
    size_t langlen, struct bb_err *e)
{
	json_t *j, *ans;
	const char *l;
	char *choice = NULL;
	int status;

	if ((j = json_pack("{s:{s:s}}", "tell", "screen", screen)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (set != NULL)
		json_object_set(json_object_get(j, "tell"), "set", (json_t *)set);
	status = exchange(control, j, &ans, e);
	json_decref(j);
	if (status != 0)
		return status;
	status = answer_status(control, ans, &choice, e);
	free(choice);
	/* A language tag as the catalogues name them; a server without one says none. */
	l = json_string_value(json_object_get(ans, "lang"));
	snprintf(lang, langlen, "%s", l != NULL && strlen(l) < langlen &&
	    bb_lang_tag_ok(l, strlen(l)) ? l : "");
	json_decref(ans);
	return status;
}

int
bb_screen_wait(const char *control, const char *screen, long until, char **choice,
    struct bb_err *e)
{
	json_t *j, *ans;
	int status;

	*choice = NULL;
	if ((j = json_pack("{s:{s:s}}", "wait", "screen", screen)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	set_until(json_object_get(j, "wait"), until);
	status = exchange(control, j, &ans, e);
	json_decref(j);
	if (status != 0)
		return status;
	status = answer_status(control, ans, choice, e);
	json_decref(ans);
	return status;
}

int
bb_screen_ask(const char *control, const json_t *page, long until, char **choice,
    json_t **answers, struct bb_err *e)
{
	json_t *j, *ans;
	int status;

	*choice = NULL;
	*answers = NULL;
	if ((j = json_pack("{s:{s:O}}", "ask", "page", page)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	set_until(json_object_get(j, "ask"), until);
	status = exchange(control, j, &ans, e);
	json_decref(j);
	if (status != 0)
		return status;
	status = answer_status(control, ans, choice, e);
	if ((status == 0 && *choice != NULL) || (status == BB_CANCELLED &&
	    json_object_get(ans, "answers") != NULL)) {
		*answers = json_object_get(ans, "answers");
		if (!json_is_object(*answers))
			*answers = json_object();
		else
			json_incref(*answers);
	}
	bb_json_wipe(ans);
	return status;
}

int
bb_screen_end(const char *control, json_t **settings, struct bb_err *e)
{
	json_t *j = json_pack("{s:b}", "end", 1), *ans, *v;
	char *choice = NULL;
	int status;

	if (settings != NULL)
		*settings = NULL;
	if (j == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	status = exchange(control, j, &ans, e);
	json_decref(j);
	if (status == 0) {
		status = answer_status(control, ans, &choice, e);
		if (status == 0 && settings != NULL) {
			/* Only the two the counts want, and only when they are what they
			 * should be: an older server sends neither. */
			*settings = json_object();
			if (json_is_string(v = json_object_get(ans, "lang")) &&
			    json_string_length(v) < 40)
				json_object_set(*settings, "lang", v);
			if (json_is_boolean(v = json_object_get(ans, "speech")))
				json_object_set(*settings, "speech", v);
		}
		json_decref(ans);
		free(choice);
	}
	return status;
}

int
bb_screen_pin(const char *control, const char *kind, int digits, int tries,
    const char *confirm, long until, struct bb_secret *out, int *cancelled, struct bb_err *e)
{
	json_t *j, *ans = NULL;
	char *choice = NULL;
	int status, fd = -1;

	if ((j = json_pack("{s:{s:s, s:i, s:i}}", "pin", "kind", kind, "digits", digits,
	    "tries", tries)) == NULL || (confirm != NULL && json_object_set_new(
	    json_object_get(j, "pin"), "confirm", json_string(confirm)) != 0)) {
		json_decref(j);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	set_until(json_object_get(j, "pin"), until);
	status = exchange_fd(control, j, &ans, &fd, e);
	json_decref(j);
	if (status == 0)
		status = answer_status(control, ans, &choice, e);
	*cancelled = 0;
	if (status == 0 && (choice == NULL || strcmp(choice, "ok") != 0)) {
		*cancelled = 1;		/* the person, not the time */
		status = BB_CANCELLED;
	}
	else if (status == 0 && !json_is_true(json_object_get(ans, "secret")))
		status = bb_fail(e, BB_PROTOCOL, "control socket %s: no digits came", control);
	else if (status == 0 && bb_secret_read_fd(out, fd, "the screen's digits", e) != 0)
		status = e->status;
	else if (status == 0 && (out->len != (size_t)digits ||
	    strspn((char *)out->buf, "0123456789") != out->len)) {
		explicit_bzero(out->buf, out->cap);
		status = bb_fail(e, BB_PROTOCOL, "control socket %s: not %d digits", control,
		    digits);
	}
	if (fd >= 0)
		close(fd);
	free(choice);
	json_decref(ans);
	return status;
}
