/* Locked, wiped memory for secrets; see secmem.h. */
#include "secmem.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <termios.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

int
bb_secret_alloc(struct bb_secret *s, size_t cap)
{
	void *p;

	memset(s, 0, sizeof *s);
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	/* Locking can fail under a small RLIMIT_MEMLOCK; the page stays private and is
	 * still wiped and excluded from dumps, so go on rather than refuse the citizen. */
	(void)mlock(p, cap);
	(void)madvise(p, cap, MADV_DONTDUMP);
	s->buf = p;
	s->cap = cap;
	return 0;
}

void
bb_secret_free(struct bb_secret *s)
{
	if (s->buf == NULL)
		return;
	explicit_bzero(s->buf, s->cap);
	munlock(s->buf, s->cap);
	munmap(s->buf, s->cap);
	memset(s, 0, sizeof *s);
}

int
bb_secret_equal(const struct bb_secret *a, const struct bb_secret *b)
{
	/* OpenSSL's compare, which bb-eid uses too: no branch on the contents. */
	return a->len == b->len && CRYPTO_memcmp(a->buf, b->buf, a->len) == 0;
}

int
bb_secret_read_fd(struct bb_secret *s, int fd, const char *what, struct bb_err *e)
{
	size_t len = 0;
	ssize_t n;
	unsigned char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			explicit_bzero(s->buf, s->cap);
			return bb_fail(e, BB_IOERR, "%s: read: %s", what, strerror(errno));
		}
		if (n == 0 || c == '\n')
			break;
		if (len + 1 >= s->cap) {
			explicit_bzero(s->buf, s->cap);
			return bb_fail(e, BB_DATAERR, "%s: too long", what);
		}
		s->buf[len++] = c;
	}
	c = 0;
	if (len > 0 && s->buf[len - 1] == '\r')
		len--;
	s->buf[len] = '\0';
	s->len = len;
	if (len == 0)
		return bb_fail(e, BB_DATAERR, "%s: empty", what);
	return 0;
}

/* Ctrl-C, Ctrl-\\ or a kill while echo is off must not leave the terminal silent: the
 * handler puts it back and dies of the signal as it would have. */
static int tty_fd = -1;
static struct termios tty_saved;

static void
tty_restore(int sig)
{
	if (tty_fd >= 0)
		(void)tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

int
bb_secret_read_tty(struct bb_secret *s, const char *prompt, struct bb_err *e)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	struct sigaction sa, old_sa[4];
	struct termios quiet;
	int fd, rc, restore = 0, i;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return bb_fail(e, BB_USAGE,
		    "no terminal to ask for the %s on: give it on a file descriptor", prompt);
	if (tcgetattr(fd, &tty_saved) == 0) {
		quiet = tty_saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = tty_restore;
		sigemptyset(&sa.sa_mask);
		tty_fd = fd;
		for (i = 0; i < 4; i++)
			sigaction(sigs[i], &sa, &old_sa[i]);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	dprintf(fd, "%s: ", prompt);
	rc = bb_secret_read_fd(s, fd, prompt, e);
	dprintf(fd, "\n");
	if (tty_fd >= 0) {
		if (restore)
			(void)tcsetattr(fd, TCSAFLUSH, &tty_saved);
		for (i = 0; i < 4; i++)
			sigaction(sigs[i], &old_sa[i], NULL);
		tty_fd = -1;
	}
	close(fd);
	if (rc == BB_DATAERR && strstr(e->msg, ": empty") != NULL)
		return bb_fail(e, BB_CANCELLED, "%s: nothing entered", prompt);
	return rc;
}
