/* The headset jack: plugging a headset in turns speech on (EN 301 549 5.1.3.11, private
 * listening); see speech.h. */
#include "screen/speech.h"
#include "diag.h"
#include "exit.h"

#include <linux/input.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct bb_headset {
	pthread_t thread;
	char *path;
	void (*cb)(void *, int);
	void *arg;
	int stop[2];		/* a byte on it: the thread returns */
	mode_t mode;		/* the path's type */
};

/* Waits up to ms (-1: for ever) for fd, or for the stop pipe: 1 when fd is ready, 0 on
 * time-out, -1 when stopped. No pthread_cancel: unwinding a thread's stack that way
 * leaves it poisoned for the address sanitizer, and it needs cleanup handlers. */
static int
wait_for(struct bb_headset *h, int fd, int ms)
{
	struct pollfd pf[2] = { { h->stop[0], POLLIN, 0 }, { fd, POLLIN, 0 } };

	for (;;) {
		int n = poll(pf, fd >= 0 ? 2 : 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || pf[0].revents)
			return -1;
		return n > 0;
	}
}

static void
tell(struct bb_headset *h, int in)
{
	h->cb(h->arg, in);
}

/* Reports the switch's state when the device can tell (EVIOCGSW; a FIFO cannot), then
 * each change, until the device ends (a FIFO's writer closed, the device went away):
 * 0, or -1 when stopped. */
static int
watch(struct bb_headset *h, int fd)
{
	unsigned char sw[(SW_MAX + 8) / 8];
	struct input_event ev;
	size_t have = 0;

	memset(sw, 0, sizeof sw);
	if (ioctl(fd, EVIOCGSW(sizeof sw), sw) >= 0)
		tell(h, (sw[SW_HEADPHONE_INSERT / 8] >> (SW_HEADPHONE_INSERT % 8)) & 1);
	for (;;) {
		ssize_t n;
		if (wait_for(h, fd, -1) < 0)
			return -1;
		n = read(fd, (unsigned char *)&ev + have, sizeof ev - have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		if ((have += (size_t)n) < sizeof ev)
			continue;
		have = 0;
		if (ev.type == EV_SW && ev.code == SW_HEADPHONE_INSERT)
			tell(h, ev.value != 0);
	}
}

/* Opens the device and watches it, again and again, until stopped. Nonblocking: a
 * FIFO's open does not wait for its writer, poll does. */
static void *
follow(void *p)
{
	struct bb_headset *h = p;
	int fd, warned = 0, rc;

	for (;;) {
		if ((fd = open(h->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
			if (!warned++)
				bb_warn("headset %s: %s", h->path, strerror(errno));
			if (wait_for(h, -1, 1000) < 0)
				return NULL;
			continue;
		}
		warned = 0;
		rc = watch(h, fd);
		close(fd);
		/* A device gone: not a busy loop. A FIFO's next writer is waited for by
		 * poll on the new descriptor. */
		if (rc < 0 || wait_for(h, -1, S_ISFIFO(h->mode) ? 0 : 1000) < 0)
			return NULL;
	}
}

int
bb_headset_start(const char *path, void (*cb)(void *, int), void *arg,
    struct bb_headset **out, struct bb_err *e)
{
	struct bb_headset *h;
	struct stat st;

	*out = NULL;
	if (stat(path, &st) != 0)
		return bb_fail(e, BB_CONFIG, "form.headset %s: %s", path, strerror(errno));
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
		return bb_fail(e, BB_CONFIG, "form.headset %s: not an input device", path);
	if ((h = calloc(1, sizeof *h)) == NULL || (h->path = strdup(path)) == NULL) {
		free(h);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	h->cb = cb;
	h->arg = arg;
	h->mode = st.st_mode;
	if (pipe2(h->stop, O_CLOEXEC) != 0) {
		int err = errno;
		free(h->path);
		free(h);
		return bb_fail(e, BB_SOFTWARE, "headset: pipe: %s", strerror(err));
	}
	if ((errno = pthread_create(&h->thread, NULL, follow, h)) != 0) {
		int err = errno;
		close(h->stop[0]);
		close(h->stop[1]);
		free(h->path);
		free(h);
		return bb_fail(e, BB_SOFTWARE, "headset: thread: %s", strerror(err));
	}
	*out = h;
	return 0;
}

void
bb_headset_stop(struct bb_headset *h)
{
	if (h == NULL)
		return;
	(void)!write(h->stop[1], "s", 1);
	pthread_join(h->thread, NULL);
	close(h->stop[0]);
	close(h->stop[1]);
	free(h->path);
	free(h);
}
