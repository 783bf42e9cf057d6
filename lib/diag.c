/* Diagnostics on stderr and the error value passed up to main. */
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bb_progname = "bb";

static void
close_stdout_atexit(void)
{
	if (bb_close_stdout() != 0)
		_exit(BB_IOERR);
}

void
bb_init(const char *argv0)
{
	const char *slash;

	if (argv0 != NULL) {
		slash = strrchr(argv0, '/');
		bb_progname = slash != NULL ? slash + 1 : argv0;
	}
	umask(077);
	/* A case holds personal data; a core dump would leave it on disk. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGXFSZ, SIG_IGN);
	/* Inherited dispositions would change how children are waited for (an ignored
	 * SIGCHLD reaps them before waitpid sees their status) and how writes fail. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	atexit(close_stdout_atexit);
}

int
bb_fail(struct bb_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (e != NULL) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		e->status = status;
	}
	return status;
}

int
bb_err_context(struct bb_err *e, const char *fmt, ...)
{
	char ctx[256], line[sizeof ctx + sizeof e->msg + 2];
	va_list ap;

	if (e == NULL)
		return BB_SOFTWARE;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "%s: %s", ctx, e->msg);
	/* Keep the end of an over-long message cut, never unterminated. */
	memcpy(e->msg, line, sizeof e->msg - 1);
	e->msg[sizeof e->msg - 1] = '\0';
	return e->status;
}

static void
vwarn(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof line, fmt, ap);
	fprintf(stderr, "%s: %s\n", bb_progname, line);
}

void
bb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
bb_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
bb_die_err(const struct bb_err *e)
{
	bb_die(e->status ? e->status : BB_SOFTWARE, "%s", e->msg);
}

int
bb_close_stdout(void)
{
	static int closed;
	int err;

	if (closed)
		return 0;
	closed = 1;
	err = ferror(stdout);
	if (fclose(stdout) != 0 || err) {
		/* EBADF: stdout was closed before we started; nothing was lost. */
		if (errno == EBADF && !err)
			return 0;
		fprintf(stderr, "%s: standard output: %s\n", bb_progname,
		    strerror(err && errno == 0 ? EIO : errno));
		return BB_IOERR;
	}
	return 0;
}
