/* The headset jack: plugging a headset in turns speech on (EN 301 549 5.1.3.11, private
 * listening); see speech.h. */
#include "screen/speech.h"
#include "diag.h"
#include "exit.h"

#include <linux/input.h>

#include <errno.h>
#include <fcntl.h>
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
};

static void
close_fd(void *p)
{
	close(*(int *)p);
}

/* The callback takes the server's lock: never cancelled inside it. */
static void
tell(struct bb_headset *h, int in)
{
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	h->cb(h->arg, in);
	pthread_setcancelstate(old, NULL);
}

/* Reports the switch's state when the device can tell (EVIOCGSW; a FIFO cannot), then
 * each change, until the device ends (a FIFO's writer closed, the device went away). */
static void
watch(struct bb_headset *h, int fd)
{
	unsigned char sw[(SW_MAX + 8) / 8];
	struct input_event ev;
	size_t have = 0;

	memset(sw, 0, sizeof sw);
	if (ioctl(fd, EVIOCGSW(sizeof sw), sw) >= 0)
		tell(h, (sw[SW_HEADPHONE_INSERT / 8] >> (SW_HEADPHONE_INSERT % 8)) & 1);
	for (;;) {
		ssize_t n = read(fd, (unsigned char *)&ev + have, sizeof ev - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if ((have += (size_t)n) < sizeof ev)
			continue;
		have = 0;
		if (ev.type == EV_SW && ev.code == SW_HEADPHONE_INSERT)
			tell(h, ev.value != 0);
	}
}

/* Opens the device (a FIFO waits here for its writer) and watches it, again and again.
 * Stopped by pthread_cancel in open, read or sleep. */
static void *
follow(void *p)
{
	struct bb_headset *h = p;
	volatile int warned = 0;
	int fd;

	for (;;) {
		if ((fd = open(h->path, O_RDONLY | O_CLOEXEC)) < 0) {
			if (!warned++)
				bb_warn("headset %s: %s", h->path, strerror(errno));
			sleep(1);
			continue;
		}
		warned = 0;
		pthread_cleanup_push(close_fd, &fd);
		watch(h, fd);
		pthread_cleanup_pop(1);
		sleep(1);	/* a device gone: not a busy loop */
	}
	return NULL;
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
	if ((errno = pthread_create(&h->thread, NULL, follow, h)) != 0) {
		int err = errno;
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
	pthread_cancel(h->thread);
	pthread_join(h->thread, NULL);
	free(h->path);
	free(h);
}
