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

static void __attribute__((noreturn))
exec_child(const char *command, int in_fd, int out_fd, int err_fd, char *const *env)
{
	size_t i;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
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

int
bb_child_run(const char *command, int in_fd, char *const *env, time_t timeout,
    size_t out_max, int echo_stderr, struct bb_child *c, struct bb_err *e)
{
	int outp[2], errp[2], wstatus, open_fds = 2, killed = 0;
	double deadline = timeout > 0 ? now_mono() + (double)timeout : 0, kill_at = 0;
	struct tail tail = { .len = 0 };
	size_t cap = 65536;
	pid_t pid;

	memset(c, 0, sizeof *c);
	if ((c->out = malloc(cap)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		free(c->out);
		return bb_fail(e, 71, "pipe: %s", strerror(errno));
	}
	if ((pid = fork()) < 0) {
		int err = errno;
		close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
		free(c->out);
		return bb_fail(e, 71, "fork: %s", strerror(err));
	}
	if (pid == 0)
		exec_child(command, in_fd, outp[1], errp[1], env);
	setpgid(pid, pid);
	close(outp[1]);
	close(errp[1]);

	struct pollfd pfd[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
	while (open_fds > 0) {
		int wait_ms = -1, i;
		double now = now_mono();
		escalate(pid, deadline, now, &killed, &kill_at, c);
		if (deadline > 0 && !killed)
			wait_ms = (int)((deadline - now) * 1000) + 1;
		else if (killed == 1)
			wait_ms = (int)((kill_at - now) * 1000) + 1;
		if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			char buf[16384];
			ssize_t n;
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1) {
				tail_add(&tail, buf, (size_t)n);
				if (echo_stderr)
					(void)!write(2, buf, (size_t)n);
				continue;
			}
			if (c->outlen + (size_t)n > out_max) {
				c->out_truncated = 1;
				continue;
			}
			if (c->outlen + (size_t)n + 1 > cap) {
				size_t ncap = cap;
				char *nb;
				while (c->outlen + (size_t)n + 1 > ncap)
					ncap *= 2;
				if ((nb = realloc(c->out, ncap)) == NULL) {
					c->out_truncated = 1;
					continue;
				}
				c->out = nb;
				cap = ncap;
			}
			memcpy(c->out + c->outlen, buf, (size_t)n);
			c->outlen += (size_t)n;
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	/* The command may have closed its output and still run: the timeout holds here too.
	 * A pidfd says when it ends without polling by the clock. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	long nap_ns = 1000 * 1000;
	for (;;) {
		pid_t w = waitpid(pid, &wstatus, WNOHANG);
		double now = now_mono();
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			wstatus = 0;
			break;
		}
		escalate(pid, deadline, now, &killed, &kill_at, c);
		if (pidfd >= 0) {
			struct pollfd pp = { pidfd, POLLIN, 0 };
			int wait_ms = -1;
			if (deadline > 0 && !killed)
				wait_ms = (int)((deadline - now) * 1000) + 1;
			else if (killed == 1)
				wait_ms = (int)((kill_at - now) * 1000) + 1;
			poll(&pp, 1, wait_ms);
		} else {
			struct timespec nap = { 0, nap_ns };
			nanosleep(&nap, NULL);
			if (nap_ns < 20 * 1000 * 1000)
				nap_ns *= 2;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	/* Anything the command left behind in its group goes with it. */
	kill(-pid, SIGKILL);
	c->out[c->outlen] = '\0';
	if (WIFEXITED(wstatus)) {
		c->status = WEXITSTATUS(wstatus);
	} else {
		c->status = -1;
		c->signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	}
	tail_last_line(&tail, c->last_err, sizeof c->last_err);
	return 0;
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
