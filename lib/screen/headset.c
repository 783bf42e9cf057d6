/* The headset jack: plugging a headset in turns speech on (EN 301 549 5.1.3.11, private
 * listening); see speech.h. The same watch serves the kiosk's presence sensor
 * (kiosk.presence_device): any one key or switch of an input device. */
#include "screen/speech.h"
#include "config.h"
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
	int type, code;		/* the event watched: EV_SW or EV_KEY, its code */
	int initial;		/* report the state the device has when opened */
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

/* Reports the switch's or key's state when asked to and the device can tell (EVIOCGSW,
 * EVIOCGKEY; a FIFO cannot), then each change, until the device ends (a FIFO's writer
 * closed, the device went away): 0, or -1 when stopped. */
static int
watch(struct bb_headset *h, int fd)
{
	unsigned char bits[(KEY_MAX + 8) / 8];
	struct input_event ev;
	size_t have = 0;
	int got;

	memset(bits, 0, sizeof bits);
	got = h->type == EV_SW ? ioctl(fd, EVIOCGSW(sizeof bits), bits) :
	    ioctl(fd, EVIOCGKEY(sizeof bits), bits);
	if (h->initial && got >= 0)
		tell(h, (bits[h->code / 8] >> (h->code % 8)) & 1);
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
		if (ev.type == h->type && ev.code == h->code)
			tell(h, ev.value);
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
				bb_warn("%s %s: %s", h->type == EV_SW && h->code ==
				    SW_HEADPHONE_INSERT ? "headset" : "input device", h->path,
				    strerror(errno));
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
bb_input_watch(const char *key, const char *path, int type, int code, int initial,
    void (*cb)(void *, int), void *arg, struct bb_headset **out, struct bb_err *e)
{
	struct bb_headset *h;
	struct stat st;

	*out = NULL;
	if ((type != EV_SW || code < 0 || code > SW_MAX) &&
	    (type != EV_KEY || code < 0 || code > KEY_MAX))
		return bb_fail(e, BB_CONFIG, "%s: no such key or switch code %d", key, code);
	if (stat(path, &st) != 0)
		return bb_fail(e, BB_CONFIG, "%s %s: %s", key, path, strerror(errno));
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
		return bb_fail(e, BB_CONFIG, "%s %s: not an input device", key, path);
	if ((h = calloc(1, sizeof *h)) == NULL || (h->path = strdup(path)) == NULL) {
		free(h);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	h->cb = cb;
	h->arg = arg;
	h->mode = st.st_mode;
	h->type = type;
	h->code = code;
	h->initial = initial;
	if (pipe2(h->stop, O_CLOEXEC) != 0) {
		int err = errno;
		free(h->path);
		free(h);
		return bb_fail(e, BB_SOFTWARE, "%s: pipe: %s", key, strerror(err));
	}
	if ((errno = pthread_create(&h->thread, NULL, follow, h)) != 0) {
		int err = errno;
		close(h->stop[0]);
		close(h->stop[1]);
		free(h->path);
		free(h);
		return bb_fail(e, BB_SOFTWARE, "%s: thread: %s", key, strerror(err));
	}
	*out = h;
	return 0;
}

int
bb_headset_start(const char *path, void (*cb)(void *, int), void *arg,
    struct bb_headset **out, struct bb_err *e)
{
	return bb_input_watch("form.headset", path, EV_SW, SW_HEADPHONE_INSERT, 1, cb, arg,
	    out, e);
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

struct presence {
	int fd;			/* a byte on it: the event came */
	int value;
};

static void
presence_event(void *arg, int value)
{
	struct presence *p = arg;

	if (value == p->value)
		(void)!write(p->fd, "p", 1);
}

int
bb_presence_wait(const char *dev, const char *ev, struct bb_err *e)
{
	struct bb_headset *h;
	struct presence p;
	int type, code, pfd[2];
	char c;

	if (dev == NULL || ev == NULL || bb_parse_input_event(ev, &type, &code, &p.value) != 0)
		return bb_fail(e, BB_CONFIG, "presence: kiosk.presence_device and "
		    "kiosk.presence_event are not set");
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return bb_fail(e, BB_SOFTWARE, "pipe: %s", strerror(errno));
	p.fd = pfd[1];
	/* Only an event: a sensor that reads "nobody" when the session starts (broken,
	 * or the person stands aside) must not end every session at once. */
	if (bb_input_watch("kiosk.presence_device", dev, type, code, 0, presence_event, &p,
	    &h, e) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		return e->status;
	}
	while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
		;
	bb_headset_stop(h);
	close(pfd[0]);
	close(pfd[1]);
	return 0;
}
