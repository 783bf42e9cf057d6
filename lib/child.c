/* Running a command with captured output and a timeout; see child.h. */
#include "child.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define GRACE_SECONDS 5

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* argv NULL: "/bin/sh -c command"; else argv[0] found in PATH, no shell between. */
static void __attribute__((noreturn))
exec_child(const char *command, char *const *argv, int in_fd, int out_fd, int err_fd,
    char *const *env)
{
	sigset_t none;
	size_t i;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	/* exec keeps the signal mask: a caller's thread that blocks SIGTERM (bb-form
	 * serve's HTTP threads do) would hand down a command the timeout cannot stop. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
	if (argv != NULL)
		execvp(argv[0], argv);
	else
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

/* Keeps the tail of stderr; the last non-empty line is extracted at the end. */
struct tail {
	char buf[4096];
	size_t len;
};

static void
tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= sizeof t->buf) {
		p += n - sizeof t->buf;
		n = sizeof t->buf;
	}
	if (t->len + n > sizeof t->buf) {
		size_t drop = t->len + n - sizeof t->buf;
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void
tail_last_line(const struct tail *t, char *out, size_t outlen)
{
	size_t end = t->len, start, i, n = 0;

	while (end > 0 && (t->buf[end - 1] == '\n' || t->buf[end - 1] == '\r' ||
	    t->buf[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && t->buf[start - 1] != '\n')
		start--;
	for (i = start; i < end && n + 1 < outlen; i++)
		out[n++] = (unsigned char)t->buf[i] < 0x20 ? ' ' : t->buf[i];
	/* Cut on a character boundary: half an umlaut is not UTF-8. */
	if (i < end)
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
	if (n > 0 && i < end && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
		n--;
	out[n] = '\0';
}

/* Past the deadline the whole group (sh and whatever it started) gets SIGTERM, and
 * SIGKILL after a grace period. */
static void
escalate(pid_t pid, double deadline, double now, int *killed, double *kill_at,
    struct bb_child *c)
{
	if (deadline > 0 && !*killed && now >= deadline) {
		kill(-pid, SIGTERM);
		*killed = 1;
		c->timed_out = 1;
		*kill_at = now + GRACE_SECONDS;
	} else if (*killed == 1 && now >= *kill_at) {
		kill(-pid, SIGKILL);
		*killed = 2;
	}
}

/* Milliseconds until t, for poll: never negative, never past INT_MAX. */
static int
ms_until(double t, double now)
{
	double ms = (t - now) * 1000 + 1;

	if (ms < 0)
		return 0;
	return ms > 2147483647.0 ? 2147483647 : (int)ms;
}

static void
take_out(struct bb_child *c, size_t *cap, size_t out_max, const char *buf, size_t n)
{
	char *nb;
	size_t ncap;

	if (c->outlen + n > out_max) {
		c->out_truncated = 1;
		return;
	}
	if (c->outlen + n + 1 > *cap) {
		for (ncap = *cap; c->outlen + n + 1 > ncap; ncap *= 2)
			;
		if ((nb = realloc(c->out, ncap)) == NULL) {
			c->out_truncated = 1;
			return;
		}
		c->out = nb;
		*cap = ncap;
	}
	memcpy(c->out + c->outlen, buf, n);
	c->outlen += n;
}

/* One running command, watched: its output pipes, its end, its deadline. */
struct watch {
	pid_t pid;
	int pidfd;			/* -1: none (an old kernel) */
	struct pollfd pfd[3];		/* stdout, stderr, the pidfd */
	double deadline, kill_at, drain_until;
	int killed, reaped, wstatus;
	struct tail tail;
	size_t cap, out_max;
	int echo_stderr;
};

/* The pipes and the forked command; the child's ends closed here. */
static int
spawn(const char *command, char *const *argv, int in_fd, char *const *env,
    struct watch *w, struct bb_err *e)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, i, err;

	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		err = errno;
		for (i = 0; i < 2; i++) {
			if (outp[i] >= 0)
				close(outp[i]);
			if (errp[i] >= 0)
				close(errp[i]);
		}
		return bb_fail(e, 71, "pipe: %s", strerror(err));
	}
	if ((w->pid = fork()) < 0) {
		err = errno;
		close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
		return bb_fail(e, 71, "fork: %s", strerror(err));
	}
	if (w->pid == 0)
		exec_child(command, argv, in_fd, outp[1], errp[1], env);
	setpgid(w->pid, w->pid);
	close(outp[1]);
	close(errp[1]);
	/* The command's end is an event like its output: a pidfd says when it comes. */
	w->pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
	w->pfd[0] = (struct pollfd){ outp[0], POLLIN, 0 };
	w->pfd[1] = (struct pollfd){ errp[0], POLLIN, 0 };
	w->pfd[2] = (struct pollfd){ w->pidfd, POLLIN, 0 };
	return 0;
}

/* Whether the command ended (w->wstatus then its status, -1 unknown). */
static void
reap(struct watch *w, double now)
{
	pid_t r = waitpid(w->pid, &w->wstatus, WNOHANG);

	if (r == w->pid) {
		w->reaped = 1;
		/* What it wrote before it ended is still in the pipes; whatever it left
		 * running in the background may hold them open: read what is there for a
		 * moment, no longer. */
		w->drain_until = now + 0.2;
	} else if (r < 0 && errno != EINTR) {
		/* Lost track of it (SIGCHLD ignored): the outcome is unknown, never a
		 * success. */
		w->reaped = 1;
		w->wstatus = -1;
		w->drain_until = now;
	}
}

/* How long poll waits: until the drain ends, the deadline, the SIGKILL, or forever. */
static int
poll_ms(const struct watch *w, double now)
{
	int ms = -1;

	if (w->reaped)
		ms = ms_until(w->drain_until, now);
	else if (w->deadline > 0 && !w->killed)
		ms = ms_until(w->deadline, now);
	else if (w->killed == 1)
		ms = ms_until(w->kill_at, now);
	if (w->pidfd < 0 && !w->reaped && (ms < 0 || ms > 20))
		ms = 20;	/* no pidfd: look for its end now and then */
	return ms;
}

/* What poll found in the pipes: stdout into c->out, stderr into the tail. */
static void
read_pipes(struct watch *w, struct bb_child *c)
{
	char buf[16384];
	ssize_t n;
	int i;

	for (i = 0; i < 2; i++) {
		if (w->pfd[i].fd < 0 || !(w->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(w->pfd[i].fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(w->pfd[i].fd);
			w->pfd[i].fd = -1;
			continue;
		}
		if (i == 1) {
			tail_add(&w->tail, buf, (size_t)n);
			if (w->echo_stderr)
				(void)!write(2, buf, (size_t)n);
		} else {
			take_out(c, &w->cap, w->out_max, buf, (size_t)n);
		}
	}
}

/* The command's status as child.h tells it. */
static void
set_status(struct bb_child *c, int wstatus)
{
	if (wstatus == -1) {
		c->status = -1;
		c->signal = 0;
	} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) > 128 &&
	    WEXITSTATUS(wstatus) <= 128 + 64) {
		/* sh forks the command and reports its death by signal N as 128 + N. */
		c->status = -1;
		c->signal = WEXITSTATUS(wstatus) - 128;
	} else if (WIFEXITED(wstatus)) {
		c->status = WEXITSTATUS(wstatus);
	} else {
		c->status = -1;
		c->signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	}
}

static int
run(const char *command, char *const *argv, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e)
{
	struct watch w = { .cap = 65536, .out_max = out_max, .echo_stderr = echo_stderr };
	double now;
	int i, rc;

	w.deadline = timeout > 0 ? now_mono() + (double)timeout : 0;
	memset(c, 0, sizeof *c);
	if ((c->out = malloc(w.cap)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if ((rc = spawn(command, argv, in_fd, env, &w, e)) != 0) {
		free(c->out);
		c->out = NULL;
		return rc;
	}
	for (;;) {
		now = now_mono();
		if (!w.reaped)
			reap(&w, now);
		if (!w.reaped)
			escalate(w.pid, w.deadline, now, &w.killed, &w.kill_at, c);
		if (w.pfd[0].fd < 0 && w.pfd[1].fd < 0 && w.reaped)
			break;
		if (w.reaped && now >= w.drain_until)
			break;
		w.pfd[2].fd = w.reaped ? -1 : w.pidfd;
		if (poll(w.pfd, 3, poll_ms(&w, now)) < 0 && errno != EINTR)
			break;
		read_pipes(&w, c);
	}
	for (i = 0; i < 2; i++)
		if (w.pfd[i].fd >= 0)
			close(w.pfd[i].fd);
	if (w.pidfd >= 0)
		close(w.pidfd);
	/* Anything the command left behind in its group goes with it. */
	kill(-w.pid, SIGKILL);
	c->out[c->outlen] = '\0';
	set_status(c, w.wstatus);
	tail_last_line(&w.tail, c->last_err, sizeof c->last_err);
	return 0;
}

int
bb_child_run(const char *command, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e)
{
	return run(command, NULL, in_fd, env, timeout, out_max, echo_stderr, c, e);
}

int
bb_child_runv(char *const *argv, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e)
{
	return run(NULL, argv, in_fd, env, timeout, out_max, echo_stderr, c, e);
}

void
bb_child_free(struct bb_child *c)
{
	if (c->out != NULL) {
		explicit_bzero(c->out, c->outlen);
		free(c->out);
	}
	c->out = NULL;
}
