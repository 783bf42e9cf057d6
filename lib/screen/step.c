/* bb-form ask's walk on the screen or the terminal, and what every step shares: the
 * control socket, the page left behind. See step.h. */
#include "screen/step.h"
#include "screen/screen.h"
#include "screen/server.h"
#include "form/ask.h"
#include "form/form.h"
#include "case.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *
bb_screen_control(const char *path, char *buf, size_t len)
{
	if (path != NULL)
		return path;
	bb_screen_control_default(buf, len);
	return buf;
}

int
bb_screen_listens(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ok;

	if (strlen(path) >= sizeof sa.sun_path)
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

int
bb_tty_opens(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

void
bb_step_default(struct bb_step *s, char *buf, size_t len, int at_terminal)
{
	s->control = bb_screen_control(NULL, buf, len);
	/* No screen server and a terminal: a developer in a shell. */
	if (!s->tty && !bb_screen_listens(s->control) && at_terminal)
		s->tty = 1;
}

void
bb_screen_leave(const char *control)
{
	struct bb_err e = { 0, "" };
	char *choice = NULL;

	(void)bb_screen_tell(control, "wait", NULL, -1, &choice, &e);
	free(choice);
}

int
bb_screen_set_arg(json_t *set, const char *arg, struct bb_err *e)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		return bb_fail(e, BB_USAGE, "--set: expected NAME=VALUE");
	return bb_screen_set_add(set, "--set", arg, (size_t)(eq - arg), eq + 1,
	    strlen(eq + 1), e);
}

/* One page of the walk until the person does something on it: the values of its inputs
 * as the server sent them back with a time-out (what was typed and not yet sent) go
 * into the walk, so that more time loses nothing. 0 with *choice and *answers;
 * BB_CANCELLED with *timed_out set when no answer came to the warning, e->msg set when
 * the session ended; else an exit status with e set. */
static int
ask_wait(const struct bb_step *s, struct bb_ask *a, int *timed_out, char **choice,
    json_t **answers, struct bb_err *e)
{
	json_t *page;
	char *more = NULL;
	int rc;

	for (;;) {
		if ((page = bb_ask_page(a)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		rc = bb_screen_ask(s->control, page, s->idle, choice, answers, e);
		bb_json_wipe(page);
		if (rc != BB_CANCELLED || e->msg[0] != '\0')
			return rc;
		if (*answers != NULL) {
			(void)bb_ask_answer(a, "refresh", *answers);
			bb_json_wipe(*answers);
			*answers = NULL;
		}
		/* WCAG 2.2.1: before the time ends, offer more. */
		rc = bb_screen_tell(s->control, "timeout-warning", NULL, s->warning, &more, e);
		if (rc == 0 && more != NULL && strcmp(more, "more") == 0) {
			free(more);
			continue;
		}
		free(more);
		if (rc != 0 && rc != BB_CANCELLED)
			return rc;
		/* No answer to the warning is the time running out; "end" tapped is the
		 * person's choice, and the session ending (a message) is neither. */
		if (rc == BB_CANCELLED && e->msg[0] == '\0')
			*timed_out = 1;
		return BB_CANCELLED;
	}
}

/* The walk on the terminal: prompts on /dev/tty, the case still through stdin and
 * stdout. BB_ASK_DONE or BB_ASK_CANCEL; -1 with e set. */
static int
ask_tty(struct bb_ask *a, const char *screens, const char *lang, struct bb_err *e)
{
	FILE *in, *out = NULL;
	int r;

	if ((in = fopen("/dev/tty", "re")) == NULL || (out = fopen("/dev/tty", "we")) == NULL) {
		bb_fail(e, BB_USAGE, "--tty: /dev/tty: %s", strerror(errno));
		if (in != NULL)
			fclose(in);
		return -1;
	}
	/* What is typed stays in the walk's buffers, which are wiped, not in stdio's. */
	setvbuf(in, NULL, _IONBF, 0);
	r = bb_ask_tty(a, in, out, screens, lang, e);
	fclose(in);
	fclose(out);
	return r;
}

/* The walk on the screen, page by page: BB_ASK_DONE, BB_ASK_CANCEL, or -1 with *rc
 * BB_CANCELLED or BB_TIMED_OUT (as bb_ask_case) or an exit status with e set. */
static int
ask_screen(struct bb_ask *a, const struct bb_step *s, int *rc, struct bb_err *e)
{
	json_t *answers;
	char *choice;
	int r = BB_ASK_SHOW, timed_out = 0;

	while (r == BB_ASK_SHOW) {
		*rc = ask_wait(s, a, &timed_out, &choice, &answers, e);
		if (*rc == BB_CANCELLED && timed_out)
			*rc = BB_TIMED_OUT;
		if (*rc != 0)
			return -1;
		r = bb_ask_answer(a, choice, answers);
		free(choice);
		bb_json_wipe(answers);
	}
	return r;
}

int
bb_ask_case(json_t *c, const struct bb_form *f, const struct bb_step *s,
    const char *screens, const char *lang, struct bb_problems *p, struct bb_err *e)
{
	struct bb_ask a;
	json_t *part;
	int r, rc = 0;

	if ((rc = bb_form_case_check(c, f, e)) != 0)
		return rc;
	if (bb_ask_begin(&a, f, c) != 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (s->tty && (r = ask_tty(&a, screens, lang, e)) < 0)
		rc = e->status;
	else if (!s->tty)
		r = ask_screen(&a, s, &rc, e);
	if (rc != 0 || r == BB_ASK_CANCEL) {
		bb_ask_end(&a);
		/* What was typed must not stay on the screen, nor in the server, after a
		 * cancel or a time-out; a session that ended shows nothing of it. */
		if (r == BB_ASK_CANCEL || ((rc == BB_CANCELLED || rc == BB_TIMED_OUT) &&
		    e->msg[0] == '\0'))
			bb_screen_leave(s->control);
		if (rc != 0)
			return rc;
		e->msg[0] = '\0';	/* the person's choice, not an end */
		return BB_CANCELLED;
	}
	/* Cannot be the person's: every page was judged before the summary. */
	if ((part = bb_ask_part(&a, p)) == NULL) {
		bb_ask_end(&a);
		return bb_fail(e, BB_SOFTWARE, "the form's part: %zu problems", p->n);
	}
	bb_ask_end(&a);
	return bb_form_case_put(c, f, part, e);
}
