/* Signatures from evdev devices, through the decoder of sig.c, and the list of input
 * devices a signature can come from: see sig.h. */
#include "capture/sigdec.h"
#include "diag.h"
#include "exit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* ---- devices ---- */

#define NBITS(x) ((((x) - 1) / (8 * sizeof(unsigned long))) + 1)
#define TESTBIT(b, i) (((b)[(i) / (8 * sizeof(unsigned long))] >> \
	((i) % (8 * sizeof(unsigned long)))) & 1UL)

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Feeds the decoder the device's current state (at the start and after SYN_DROPPED), no
 * SYN_REPORT: the next real frame commits with it. */
static void
resync(int fd, struct bb_sig_decoder *d, const unsigned long *keybits,
    const unsigned long *absbits, double t)
{
	unsigned long keys[NBITS(KEY_CNT)];
	static const int axes[] = { ABS_X, ABS_Y, ABS_PRESSURE, ABS_MT_POSITION_X,
	    ABS_MT_POSITION_Y };
	struct input_absinfo ai;
	size_t i;
	int slot = -1;

	memset(keys, 0, sizeof keys);
	if (ioctl(fd, EVIOCGKEY(sizeof keys), keys) >= 0) {
		if (TESTBIT(keybits, BTN_TOOL_PEN))
			bb_sig_decoder_event(d, t, EV_KEY, BTN_TOOL_PEN,
			    (int)TESTBIT(keys, BTN_TOOL_PEN));
		if (TESTBIT(keybits, BTN_TOUCH))
			bb_sig_decoder_event(d, t, EV_KEY, BTN_TOUCH, (int)TESTBIT(keys, BTN_TOUCH));
	}
	/* EVIOCGABS reports the MT axes of the current slot: only meaningful in slot 0. */
	if (TESTBIT(absbits, ABS_MT_SLOT) && ioctl(fd, EVIOCGABS(ABS_MT_SLOT), &ai) >= 0)
		slot = ai.value;
	for (i = 0; i < sizeof axes / sizeof axes[0]; i++) {
		if (!TESTBIT(absbits, axes[i]))
			continue;
		if (axes[i] >= ABS_MT_POSITION_X && slot > 0)
			continue;
		if (ioctl(fd, EVIOCGABS(axes[i]), &ai) >= 0)
			bb_sig_decoder_event(d, t, EV_ABS, axes[i], ai.value);
	}
}

/* An open pad: its device, what it has, and the axes the decoder reads. */
struct pad {
	int fd;
	const char *path;
	unsigned long absbits[NBITS(ABS_CNT)], keybits[NBITS(KEY_CNT)];
	int mode;		/* MODE_ST: ABS_X/Y; MODE_MT: the MT position */
	int dropped;		/* after SYN_DROPPED until SYN_REPORT */
};

/* Opens path, checks it is a pen or touch device, reads its axes into sig and grabs it.
 * 0 (pd->fd open and grabbed), else a status with fd closed and sig zeroed. */
static int
pad_open(const char *path, struct pad *pd, struct bb_sig *sig, struct bb_err *e)
{
	struct input_absinfo ai;
	int version, cx, cy, st, clk = CLOCK_MONOTONIC;

	memset(pd, 0, sizeof *pd);
	pd->path = path;
	if ((pd->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return bb_fail(e, BB_UNAVAILABLE, "%s: %s", path, strerror(errno));
	if (ioctl(pd->fd, EVIOCGVERSION, &version) < 0 ||
	    ioctl(pd->fd, EVIOCGBIT(EV_ABS, sizeof pd->absbits), pd->absbits) < 0 ||
	    ioctl(pd->fd, EVIOCGBIT(EV_KEY, sizeof pd->keybits), pd->keybits) < 0) {
		st = bb_fail(e, BB_UNAVAILABLE, "%s: not an input event device", path);
		goto fail;
	}
	if (TESTBIT(pd->absbits, ABS_X) && TESTBIT(pd->absbits, ABS_Y)) {
		cx = ABS_X, cy = ABS_Y, pd->mode = MODE_ST;
	} else if (TESTBIT(pd->absbits, ABS_MT_POSITION_X) &&
	    TESTBIT(pd->absbits, ABS_MT_POSITION_Y)) {
		cx = ABS_MT_POSITION_X, cy = ABS_MT_POSITION_Y, pd->mode = MODE_MT;
	} else {
		st = bb_fail(e, BB_UNAVAILABLE, "%s: no absolute x/y axes: not a signature pad",
		    path);
		goto fail;
	}
	if (!TESTBIT(pd->keybits, BTN_TOUCH) && !TESTBIT(pd->absbits, ABS_PRESSURE) &&
	    !TESTBIT(pd->absbits, ABS_MT_TRACKING_ID)) {
		st = bb_fail(e, BB_UNAVAILABLE, "%s: no touch or pressure: not a signature pad",
		    path);
		goto fail;
	}
	if (ioctl(pd->fd, EVIOCGABS(cx), &ai) < 0)
		goto ioerr;
	sig->x_min = ai.minimum, sig->x_max = ai.maximum, sig->x_res = ai.resolution;
	if (ioctl(pd->fd, EVIOCGABS(cy), &ai) < 0)
		goto ioerr;
	sig->y_min = ai.minimum, sig->y_max = ai.maximum, sig->y_res = ai.resolution;
	if (TESTBIT(pd->absbits, ABS_PRESSURE)) {
		if (ioctl(pd->fd, EVIOCGABS(ABS_PRESSURE), &ai) < 0)
			goto ioerr;
		sig->p_min = ai.minimum, sig->p_max = ai.maximum;
	}
	if (sig->x_res < 0 || sig->y_res < 0)
		sig->x_res = sig->y_res = 0;
	/* Event times from the monotonic clock, so a clock step cannot bend the strokes'
	 * timing; a kernel too old for it leaves real time, which the decoder tolerates. */
	(void)ioctl(pd->fd, EVIOCSCLOCKID, &clk);
	/* While the person signs, the pen must not also drive the desktop's pointer. */
	if (ioctl(pd->fd, EVIOCGRAB, (void *)1) < 0) {
		st = bb_fail(e, BB_UNAVAILABLE, "%s: %s", path, errno == EBUSY ?
		    "in use by another program (grabbed)" : strerror(errno));
		goto fail;
	}
	return 0;
ioerr:
	st = bb_fail(e, BB_UNAVAILABLE, "%s: EVIOCGABS: %s", path, strerror(errno));
fail:
	close(pd->fd);
	pd->fd = -1;
	memset(sig, 0, sizeof *sig);
	return st;
}

/* n events read from the pad to the decoder, the device's state fed again after a
 * SYN_DROPPED. 0, or the decoder's status (e set). */
static int
pad_feed(struct pad *pd, struct bb_sig_decoder *d, const struct input_event *ev, size_t n,
    struct bb_err *e)
{
	double t;
	int st;

	for (size_t i = 0; i < n && !bb_sig_decoder_done(d); i++) {
#ifdef input_event_sec
		t = ev[i].input_event_sec + ev[i].input_event_usec / 1e6;
#else
		t = ev[i].time.tv_sec + ev[i].time.tv_usec / 1e6;
#endif
		bb_sig_decoder_event(d, t, ev[i].type, ev[i].code, ev[i].value);
		if (ev[i].type == EV_SYN && ev[i].code == SYN_DROPPED)
			pd->dropped = 1;
		else if (pd->dropped && ev[i].type == EV_SYN && ev[i].code == SYN_REPORT) {
			pd->dropped = 0;
			resync(pd->fd, d, pd->keybits, pd->absbits, t);
		}
		if ((st = bb_sig_decoder_error(d, e)) != 0) {
			bb_err_context(e, "%s", pd->path);
			return st;
		}
	}
	return 0;
}

/* The events until the decoder is done, the pen has rested BB_SIG_IDLE_MS after
 * something was drawn, or timeout_ms have passed. 0, or a status. */
static int
pad_read(struct pad *pd, struct bb_sig_decoder *d, const struct bb_sig *sig, int timeout_ms,
    struct bb_err *e)
{
	struct input_event ev[64];
	struct pollfd pfd = { pd->fd, POLLIN, 0 };
	double start, last, wait, t;
	ssize_t r;
	int st;

	start = last = now_ms();
	resync(pd->fd, d, pd->keybits, pd->absbits, start / 1e3);
	for (;;) {
		t = now_ms();
		wait = start + timeout_ms - t;
		/* The idle timeout runs once something is drawn and the pen is up: a pen
		 * resting on the pad sends nothing but is not done. */
		if (sig->n > 0 && !bb_sig_decoder_contact(d) && last + BB_SIG_IDLE_MS - t < wait)
			wait = last + BB_SIG_IDLE_MS - t;
		if (wait <= 0)
			break;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)ceil(wait));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bb_fail(e, BB_SOFTWARE, "poll: %s", strerror(errno));
		if (r == 0)
			continue;	/* the deadlines are checked above */
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
			return bb_fail(e, BB_UNAVAILABLE, "%s: device gone", pd->path);
		r = read(pd->fd, ev, sizeof ev);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0)
			return bb_fail(e, BB_UNAVAILABLE, "%s: %s", pd->path, strerror(errno));
		if (r == 0 || (size_t)r % sizeof ev[0] != 0)
			return bb_fail(e, BB_SOFTWARE, "%s: short event read", pd->path);
		last = now_ms();
		if ((st = pad_feed(pd, d, ev, (size_t)r / sizeof ev[0], e)) != 0)
			return st;
		if (bb_sig_decoder_done(d))
			break;
	}
	return 0;
}

/* Not tested here: no pad can be attached and /dev/uinput is not available, so this is
 * written to the evdev API alone; what it feeds the decoder is tested through the evemu
 * recordings, which go through the same decoder. */
int
bb_sig_read_device(const char *path, int timeout_ms, struct bb_sig *sig, struct bb_err *e)
{
	struct bb_sig_decoder *d = NULL;
	struct pad pd;
	int st;

	memset(sig, 0, sizeof *sig);
	if (timeout_ms <= 0)
		timeout_ms = BB_SIG_TOTAL_MS;
	if ((st = pad_open(path, &pd, sig, e)) != 0)
		return st;
	if ((d = bb_sig_decoder_new(sig)) == NULL)
		st = bb_fail(e, BB_SOFTWARE, "out of memory");
	else {
		d->mode = pd.mode;
		st = pad_read(&pd, d, sig, timeout_ms, e);
	}
	if (st == 0 && sig->n == 0)
		st = bb_fail(e, BB_CANCELLED, "%s: nothing was drawn", path);
	(void)ioctl(pd.fd, EVIOCGRAB, (void *)0);
	close(pd.fd);
	bb_sig_decoder_free(d);
	if (st != 0)
		bb_sig_free(sig);
	return st;
}

json_t *
bb_sig_pads(const char *dir)
{
	json_t *arr = json_array();
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return arr;
	while ((de = readdir(d)) != NULL) {
		unsigned long ev[NBITS(EV_MAX + 1)], abs[NBITS(ABS_MAX + 1)], key[NBITS(KEY_MAX + 1)];
		char path[300], name[256] = "";
		int fd;

		if (strncmp(de->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
			continue;
		memset(ev, 0, sizeof ev);
		memset(abs, 0, sizeof abs);
		memset(key, 0, sizeof key);
		if (ioctl(fd, EVIOCGBIT(0, sizeof ev), ev) >= 0 && TESTBIT(ev, EV_ABS) &&
		    ioctl(fd, EVIOCGBIT(EV_ABS, sizeof abs), abs) >= 0 &&
		    ioctl(fd, EVIOCGBIT(EV_KEY, sizeof key), key) >= 0 &&
		    TESTBIT(abs, ABS_X) && TESTBIT(abs, ABS_Y) &&
		    (TESTBIT(key, BTN_TOUCH) || TESTBIT(key, BTN_TOOL_PEN))) {
			size_t k;

			(void)ioctl(fd, EVIOCGNAME(sizeof name - 1), name);
			for (k = 0; name[k] != '\0'; k++)	/* JSON wants UTF-8: ASCII only */
				if ((unsigned char)name[k] < 0x20 || (unsigned char)name[k] >= 0x7F)
					name[k] = '?';
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "path", path,
			    "name", name, "kind", TESTBIT(key, BTN_TOOL_PEN) ? "pen" : "touch",
			    "pressure", TESTBIT(abs, ABS_PRESSURE)));
		}
		close(fd);
	}
	closedir(d);
	return arr;
}
