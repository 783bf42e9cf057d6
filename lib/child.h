/* Running another program as a step of a job (bb-queue's delivery command): stdin from a
 * file descriptor, stdout captured up to a limit, the last line of stderr kept as the
 * cause, a timeout after which the whole process group is killed. */
#ifndef BB_CHILD_H
#define BB_CHILD_H

#include <stddef.h>
#include <time.h>

struct bb_err;

struct bb_child {
	int status;		/* exit status, or -1 when killed by a signal (also as sh
				 * reports it, 128 + N) or when the outcome is unknown */
	int signal;		/* the signal that ended it; 0 when unknown */
	int timed_out;		/* we killed it after the timeout */
	char *out;		/* stdout, NUL-terminated (malloc'd) */
	size_t outlen;
	int out_truncated;	/* more than out_max bytes came */
	char last_err[201];	/* last non-empty line of stderr */
};

/* Runs "/bin/sh -c command" with stdin from in_fd and the extra NAME=VALUE strings of env
 * (NULL-terminated, may be NULL) added to the environment. timeout 0: none. echo_stderr:
 * also copy the command's stderr to ours. 0 when it ran (see c->status), 71/70 when it
 * could not be started. */
int bb_child_run(const char *command, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e);
/* The same with argv[0] looked up in PATH and run with argv, no shell: for arguments
 * that come from the configuration (a printer's name) and must not be parsed again.
 * A program that cannot be run exits 127 (c->status). */
int bb_child_runv(char *const *argv, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e);
void bb_child_free(struct bb_child *c);

#endif
