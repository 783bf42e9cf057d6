/* Diagnostics for people: "bb-tool: what: why" on stderr, and the error value that
 * carries a message and an exit status from deep in libbb up to a program's main. */
#ifndef BB_DIAG_H
#define BB_DIAG_H

#include <stddef.h>

/* An error on its way up: the exit status it maps to and one line saying what and why.
 * The message must never hold personal data or secrets: name fields, files and rules. */
struct bb_err {
	int status;
	char msg[512];
};

extern const char *bb_progname;

/* Program start: name for diagnostics, umask 077, not dumpable, SIGXFSZ ignored (so a
 * full file limit is a write error, not a crash), stdout checked at exit. */
void bb_init(const char *argv0);

/* Sets e (if not NULL) and returns status, so callers can `return bb_fail(e, 65, ...)`. */
int bb_fail(struct bb_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes e->msg with "what: " (context while the error travels up). */
int bb_err_context(struct bb_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void bb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bb_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Prints e->msg and exits with e->status. */
void bb_die_err(const struct bb_err *e) __attribute__((noreturn));

/* Flushes and closes stdout; a failure (full disk, closed pipe) is exit 74. */
int bb_close_stdout(void);

#endif
