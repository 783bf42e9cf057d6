/* bb-form tell: one request on the screen server's control socket, one answer. */
#include "screen/server.h"
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
	req = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (req == NULL) {
		close(fd);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	n = send(fd, req, strlen(req), MSG_NOSIGNAL);
	if (n >= 0)
		n = send(fd, "\n", 1, MSG_NOSIGNAL);
	free(req);
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
