/* bb-form tell: one request on the screen server's control socket, one answer. */
#include "screen/server.h"
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
	if ((line = json_dumps(req, JSON_COMPACT)) == NULL || (buf = malloc(MAX_ANSWER)) == NULL) {
		free(line);
		close(fd);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	llen = strlen(line);
	n = send(fd, line, llen, MSG_NOSIGNAL);
	if (n >= 0)
		n = send(fd, "\n", 1, MSG_NOSIGNAL);
	explicit_bzero(line, llen);
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
bb_screen_end(const char *control, struct bb_err *e)
{
	json_t *j = json_pack("{s:b}", "end", 1), *ans;
	char *choice = NULL;
	int status;

	if (j == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	status = exchange(control, j, &ans, e);
	json_decref(j);
	if (status == 0) {
		status = answer_status(control, ans, &choice, e);
		json_decref(ans);
		free(choice);
	}
	return status;
}

int
bb_screen_pin(const char *control, const char *kind, int digits, int tries, long until,
    struct bb_secret *out, int *cancelled, struct bb_err *e)
{
	json_t *j, *ans = NULL;
	char *choice = NULL;
	int status, fd = -1;

	if ((j = json_pack("{s:{s:s, s:i, s:i}}", "pin", "kind", kind, "digits", digits,
	    "tries", tries)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
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
