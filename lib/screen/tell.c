/* bb-form tell: one request on the screen server's control socket, one answer. */
#include "screen/server.h"
#include "case.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_ANSWER 4096

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

int
bb_screen_tell(const char *control, const char *screen, const json_t *set, long until,
    char **choice, struct bb_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path], buf[MAX_ANSWER], *req, *slash;
	json_t *j, *v;
	json_error_t jerr;
	size_t len = 0;
	ssize_t n;
	int fd, dfd, status;

	*choice = NULL;
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
	j = json_pack("{s:{s:s}}", "tell", "screen", screen);
	if (j != NULL && set != NULL)
		json_object_set(json_object_get(j, "tell"), "set", (json_t *)set);
	if (j != NULL && until == 0)
		json_object_set_new(json_object_get(j, "tell"), "until", json_string("tap"));
	else if (j != NULL && until > 0)
		json_object_set_new(json_object_get(j, "tell"), "until", json_integer(until));
	/* Straight into a buffer of our own (json_dumps leaves a copy in freed memory),
	 * wiped after: it holds the placeholder values. */
	len = j != NULL ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
	req = len > 0 ? malloc(len + 1) : NULL;
	if (req != NULL && json_dumpb(j, req, len, JSON_COMPACT) != len) {
		free(req);
		req = NULL;
	}
	json_decref(j);		/* set is the caller's to wipe */
	if (req == NULL) {
		close(fd);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	req[len] = '\n';
	n = send(fd, req, len + 1, MSG_NOSIGNAL);
	explicit_bzero(req, len + 1);
	free(req);
	len = 0;
	if (n < 0) {
		close(fd);
		return unavailable(e, control, strerror(errno));
	}
	while (len < sizeof buf - 1 && memchr(buf, '\n', len) == NULL) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == 0 || memchr(buf, '\n', len) == NULL)
		return unavailable(e, control, "the server closed the connection");
	buf[len] = '\0';
	if ((j = json_loads(buf, JSON_DISABLE_EOF_CHECK, &jerr)) == NULL || !json_is_object(j)) {
		json_decref(j);
		return bb_fail(e, BB_PROTOCOL, "control socket %s: not a JSON answer", control);
	}
	status = 0;
	if ((v = json_object_get(j, "choice")) != NULL && json_is_string(v)) {
		if ((*choice = strdup(json_string_value(v))) == NULL)
			status = bb_fail(e, BB_SOFTWARE, "out of memory");
	} else if (json_is_true(json_object_get(j, "timeout"))) {
		status = BB_CANCELLED;
	} else if ((v = json_object_get(j, "error")) != NULL) {
		json_int_t st = json_integer_value(json_object_get(j, "status"));
		status = st > 0 && st < 126 ? (int)st : BB_PROTOCOL;
		bb_fail(e, status, "%s", json_is_string(v) ? json_string_value(v) : "error");
	} else if (!json_is_true(json_object_get(j, "ok"))) {
		status = bb_fail(e, BB_PROTOCOL, "control socket %s: unexpected answer", control);
	}
	json_decref(j);
	return status;
}
