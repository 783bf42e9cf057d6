/* Signatures: see sig.h.
 *
 * One decoder turns evdev events into strokes, whether they come from a device
 * (bb_sig_read_device) or from an evemu recording (bb_sig_read_evemu), so the recordings
 * in tests/data exercise exactly the code a real pad runs through.
 *
 * Contact. A pen tablet reports BTN_TOOL_PEN (proximity), BTN_TOUCH and ABS_PRESSURE; the
 * reference says proximity is the tool bit and contact the pressure, and sig.h says a
 * stroke ends on BTN_TOUCH 0 or pressure 0. So the pen is down when the tool (if the
 * device has ever reported one) is in proximity, BTN_TOUCH is 1 (or, never reported,
 * pressure or an MT tracking id says so) and pressure > minimum (if pressure was ever
 * reported). A device with BTN_TOUCH (its B: lines, EVIOCGKEY) starts with it up: the
 * kernel never sends that initial 0. Wacom's driver sets BTN_TOUCH only above a pressure threshold, so both
 * conditions matter. A touchscreen has no pressure: its points get the maximum, and its
 * range is taken as 0..1 (a tip switch) so "f" stays meaningful in the JSON.
 *
 * Points are committed at SYN_REPORT while the pen is down and x, y or pressure changed
 * since the last point (a frame of tilt or MSC_SERIAL alone is no new sample: counting it
 * would let a dot held still pass the point count). A frame without contact ends the
 * stroke; the next contact starts a new one. Events between SYN_DROPPED and the next
 * SYN_REPORT are discarded and the stroke ended, so a lift the kernel dropped never
 * becomes a line across the signature (the device reader then resynchronises the state
 * with EVIOCGKEY/EVIOCGABS). */
#include "capture/sig.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/input.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#ifndef ABS_MT_SLOT
#define ABS_MT_SLOT 0x2f
#endif
#ifndef ABS_MT_TRACKING_ID
#define ABS_MT_TRACKING_ID 0x39
#endif

enum { MODE_AUTO, MODE_ST, MODE_MT };

struct bb_sig_decoder {
	struct bb_sig *sig;
	int mode;		/* MODE_ST: ABS_X/Y; MODE_MT: slot 0's MT position */
	int st_seen;		/* MODE_AUTO: an ABS_X/Y came, MT positions are ignored */
	int x, y, p;		/* last values */
	int have_x, have_y, have_p;
	int mx, my, have_mx, have_my;	/* slot 0 / first contact */
	int slot;		/* current MT slot */
	int mt_contact;		/* type A: contacts seen in this frame (SYN_MT_REPORT) */
	int tid;		/* slot 0's tracking id, -1 none */
	int have_tid;
	int touch, tool;	/* -1 never reported, else 0/1 */
	int down;		/* the last frame committed a point (inside a stroke) */
	int changed;		/* x, y or p changed since the last point */
	int dropping;		/* after SYN_DROPPED until SYN_REPORT */
	int done;
	int status;		/* 0, or 65/70 once the decoder stopped */
	char why[128];
	int have_t0;
	double t0, tlast;
	size_t npoints;
};

static void
dec_stop(struct bb_sig_decoder *d, int status, const char *why)
{
	if (d->status == 0) {
		d->status = status;
		snprintf(d->why, sizeof d->why, "%s", why);
	}
}

struct bb_sig_decoder *
bb_sig_decoder_new(struct bb_sig *sig)
{
	struct bb_sig_decoder *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->sig = sig;
	d->mode = MODE_AUTO;
	d->touch = d->tool = -1;
	d->tid = -1;
	/* No pressure axis: a tip switch, 0..1, and every point gets 1 (the maximum). */
	if (sig->p_max <= sig->p_min) {
		sig->p_min = 0;
		sig->p_max = 1;
	}
	return d;
}

void
bb_sig_decoder_free(struct bb_sig_decoder *d)
{
	free(d);
}

int
bb_sig_decoder_done(const struct bb_sig_decoder *d)
{
	return d->done;
}

int
bb_sig_decoder_contact(const struct bb_sig_decoder *d)
{
	return d->down;
}

int
bb_sig_decoder_error(const struct bb_sig_decoder *d, struct bb_err *e)
{
	if (d->status == 0)
		return 0;
	return bb_fail(e, d->status, "%s", d->why);
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n * size)) == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* The pen is down in this frame (see the top of the file). */
static int
dec_contact(const struct bb_sig_decoder *d)
{
	int touching, x, y;

	if (d->tool == 0)
		return 0;
	if (d->touch >= 0)
		touching = d->touch;
	else if (d->have_p)
		touching = d->p > d->sig->p_min;
	else
		touching = d->have_tid && d->tid >= 0;
	if (!touching || (d->have_p && d->p <= d->sig->p_min))
		return 0;
	if (d->mode == MODE_MT || (d->mode == MODE_AUTO && !d->st_seen))
		x = d->have_mx, y = d->have_my;
	else
		x = d->have_x, y = d->have_y;
	return x && y;
}

static void
dec_commit(struct bb_sig_decoder *d, double t)
{
	struct bb_sig *sig = d->sig;
	struct bb_sig_stroke *s;
	struct bb_sig_point *pt;
	int mt = d->mode == MODE_MT || (d->mode == MODE_AUTO && !d->st_seen);

	if (!dec_contact(d)) {
		d->down = 0;
		return;
	}
	if (d->down && !d->changed)
		return;
	if (d->npoints >= BB_SIG_MAX_POINTS) {
		dec_stop(d, BB_DATAERR, "more than 100000 points");
		return;
	}
	if (!d->down) {
		if (sig->n >= BB_SIG_MAX_STROKES) {
			dec_stop(d, BB_DATAERR, "more than 1000 strokes");
			return;
		}
		if (grow((void **)&sig->s, &sig->cap, sig->n + 1, sizeof *sig->s) != 0) {
			dec_stop(d, BB_SOFTWARE, "out of memory");
			return;
		}
		memset(&sig->s[sig->n++], 0, sizeof *sig->s);
	}
	s = &sig->s[sig->n - 1];
	if (grow((void **)&s->p, &s->cap, s->n + 1, sizeof *s->p) != 0) {
		dec_stop(d, BB_SOFTWARE, "out of memory");
		return;
	}
	if (!d->have_t0) {
		d->have_t0 = 1;
		d->t0 = t;
		d->tlast = 0;
	}
	/* The clock of a recording may have stepped (CLOCK_REALTIME): never backwards. */
	if (t - d->t0 > d->tlast)
		d->tlast = t - d->t0;
	pt = &s->p[s->n++];
	pt->x = mt ? d->mx : d->x;
	pt->y = mt ? d->my : d->y;
	pt->t = d->tlast;
	pt->pressure = d->have_p ? d->p : sig->p_max;
	d->npoints++;
	d->down = 1;
	d->changed = 0;
}

static void
set(struct bb_sig_decoder *d, int *v, int *have, int value)
{
	if (!*have || *v != value)
		d->changed = 1;
	*v = value;
	*have = 1;
}

void
bb_sig_decoder_event(struct bb_sig_decoder *d, double t, int type, int code, int value)
{
	if (d->done || d->status != 0)
		return;
	if (type == EV_SYN) {
		if (code == SYN_DROPPED) {
			d->dropping = 1;
			d->down = 0;
		} else if (code == SYN_REPORT) {
			if (!d->dropping)
				dec_commit(d, t);
			d->dropping = 0;
			d->mt_contact = 0;
		} else if (code == SYN_MT_REPORT) {
			d->mt_contact++;
		}
		return;
	}
	if (d->dropping)
		return;
	if (type == EV_KEY) {
		if (code == BTN_TOUCH)
			d->touch = value != 0;
		else if (code == BTN_TOOL_PEN)
			d->tool = value != 0;
		else if (value == 1 && ((code >= BTN_0 && code <= BTN_9) ||
		    code == KEY_ENTER || code == KEY_KPENTER))
			d->done = 1;
		return;
	}
	if (type != EV_ABS)
		return;
	switch (code) {
	case ABS_X:
		d->st_seen = 1;
		set(d, &d->x, &d->have_x, value);
		break;
	case ABS_Y:
		d->st_seen = 1;
		set(d, &d->y, &d->have_y, value);
		break;
	case ABS_PRESSURE:
		set(d, &d->p, &d->have_p, value);
		break;
	case ABS_MT_SLOT:
		d->slot = value;
		break;
	case ABS_MT_TRACKING_ID:
		if (d->slot == 0 && d->mt_contact == 0) {
			d->tid = value;
			d->have_tid = 1;
		}
		break;
	case ABS_MT_POSITION_X:
		if (d->slot == 0 && d->mt_contact == 0)
			set(d, &d->mx, &d->have_mx, value);
		break;
	case ABS_MT_POSITION_Y:
		if (d->slot == 0 && d->mt_contact == 0)
			set(d, &d->my, &d->have_my, value);
		break;
	}
}

void
bb_sig_free(struct bb_sig *sig)
{
	size_t i;

	if (sig == NULL)
		return;
	for (i = 0; i < sig->n; i++)
		free(sig->s[i].p);
	free(sig->s);
	memset(sig, 0, sizeof *sig);
}

/* ---- evemu recordings ---- */

/* What the A: lines said, by axis code, and the B: lines about the keys. */
struct axes {
	int have[ABS_CNT];
	int min[ABS_CNT], max[ABS_CNT], res[ABS_CNT];
	int keylines;		/* "B: 01" lines so far: each holds the next 8 bytes */
	int has_touch;		/* BTN_TOUCH's bit was set */
};

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The end of a field: blank or end of line. */
static int
field_end(const char *s)
{
	return *s == '\0' || *s == ' ' || *s == '\t';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1..maxd hex digits as a field. */
static int
field_hex(const char **sp, int maxd, unsigned *v)
{
	const char *s = skip_ws(*sp);
	int n = 0, h;

	*v = 0;
	while ((h = hexval((unsigned char)*s)) >= 0) {
		if (++n > maxd)
			return -1;
		*v = *v * 16 + (unsigned)h;
		s++;
	}
	if (n == 0 || !field_end(s))
		return -1;
	*sp = s;
	return 0;
}

/* A decimal int32 as a field (evemu writes "%04d": leading zeros are decimal). */
static int
field_int(const char **sp, int *v)
{
	const char *s = skip_ws(*sp);
	long long x = 0;
	int neg = 0, n = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	while (*s >= '0' && *s <= '9') {
		x = x * 10 + (*s++ - '0');
		if (++n > 11 || x > (long long)INT_MAX + 1)
			return -1;
	}
	if (n == 0 || !field_end(s))
		return -1;
	if (neg)
		x = -x;
	if (x < INT_MIN || x > INT_MAX)
		return -1;
	*v = (int)x;
	*sp = s;
	return 0;
}

/* "sec.usec" as evemu writes it ("%lu.%06u"). */
static int
field_time(const char **sp, double *t)
{
	const char *s = skip_ws(*sp);
	double sec = 0, usec = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 10)
			return -1;
		sec = sec * 10 + (*s++ - '0');
	}
	if (n == 0 || *s++ != '.')
		return -1;
	for (n = 0; n < 6; n++) {
		if (*s < '0' || *s > '9')
			return -1;
		usec = usec * 10 + (*s++ - '0');
	}
	if (!field_end(s))
		return -1;
	*t = sec + usec / 1e6;
	*sp = s;
	return 0;
}

/* Nothing left but blanks and perhaps evemu's "# EV_ABS / ABS_X ..." comment. */
static int
line_end(const char *s, int comment_ok)
{
	s = skip_ws(s);
	return *s == '\0' || (comment_ok && *s == '#');
}

/* Loose check of a line of hex bytes (P:, B:): 1..max fields of 1..2 hex digits, into
 * b (max bytes). */
static int
hex_bytes(const char *s, int max, unsigned char *b)
{
	unsigned v;
	int n = 0;

	while (!line_end(s, 0)) {
		if (n >= max || field_hex(&s, 2, &v) != 0)
			return -1;
		b[n++] = (unsigned char)v;
	}
	return n > 0 ? 0 : -1;
}

/* The decoder's axes, from the A: lines, at the first E: line. 0 or a reason. */
static const char *
setup_axes(const struct axes *ax, struct bb_sig *sig, int *mode)
{
	int cx, cy;

	if (ax->have[ABS_X] && ax->have[ABS_Y]) {
		cx = ABS_X, cy = ABS_Y;
		*mode = MODE_ST;
	} else if (ax->have[ABS_MT_POSITION_X] && ax->have[ABS_MT_POSITION_Y]) {
		cx = ABS_MT_POSITION_X, cy = ABS_MT_POSITION_Y;
		*mode = MODE_MT;
	} else {
		return "event before the A: lines for ABS_X/ABS_Y "
		    "(or ABS_MT_POSITION_X/Y): not a pen or touch device";
	}
	sig->x_min = ax->min[cx], sig->x_max = ax->max[cx], sig->x_res = ax->res[cx];
	sig->y_min = ax->min[cy], sig->y_max = ax->max[cy], sig->y_res = ax->res[cy];
	if (ax->have[ABS_PRESSURE]) {
		sig->p_min = ax->min[ABS_PRESSURE];
		sig->p_max = ax->max[ABS_PRESSURE];
	}
	if (sig->x_res < 0 || sig->y_res < 0)
		return "negative resolution";
	return NULL;
}

int
bb_sig_read_evemu(const char *buf, size_t len, const char *name, struct bb_sig *sig,
    struct bb_err *e)
{
	struct axes ax;
	struct bb_sig_decoder *d = NULL;
	char line[BB_SIG_MAX_LINE + 1];
	unsigned char bits[9];
	const char *p = buf, *end = buf + len, *nl, *s, *why = NULL;
	size_t n, i, lineno = 0;
	int ver_ok, major, minor, v[6], k, nf, mode = MODE_ST, st;
	unsigned type, code, hv;
	double t;

	memset(sig, 0, sizeof *sig);
	memset(&ax, 0, sizeof ax);
	if (name == NULL)
		name = "evemu recording";
	if (len > (size_t)BB_SIG_MAX_RECORDING)
		return bb_fail(e, BB_DATAERR, "%s: larger than 16 MiB: not a signature recording",
		    name);
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl ? nl : end) - p;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				why = "binary data (a control character)";
				goto bad;
			}
		}
		/* Comments are skipped unparsed, so they may be longer: evemu's "# DMI:" line
		 * alone can pass 256 bytes. */
		if (n > 0 && p[0] == '#') {
			if (n > 4096) {
				why = "comment longer than 4096 bytes";
				goto bad;
			}
			if (lineno == 1 && n >= 7 && memcmp(p, "# EVEMU", 7) == 0) {
				memcpy(line, p, n < BB_SIG_MAX_LINE ? n : BB_SIG_MAX_LINE);
				line[n < BB_SIG_MAX_LINE ? n : BB_SIG_MAX_LINE] = '\0';
				ver_ok = sscanf(line, "# EVEMU %d.%d", &major, &minor) == 2;
				if (!ver_ok || major != 1) {
					why = "not an evemu 1.x recording";
					goto bad;
				}
			}
			goto next;
		}
		if (n > BB_SIG_MAX_LINE) {
			why = "line longer than 256 bytes";
			goto bad;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		s = line;
		if (line_end(s, 0))
			goto next;
		if (n < 2 || line[1] != ':' || !(n == 2 || line[2] == ' ' || line[2] == '\t')) {
			why = "not an evemu line (\"X: ...\")";
			goto bad;
		}
		s = line + 2;
		if (line[0] != 'E' && d != NULL) {
			why = "device description after the events";
			goto bad;
		}
		switch (line[0]) {
		case 'N':
			if (line_end(s, 0)) {
				why = "N: without a device name";
				goto bad;
			}
			break;
		case 'I':
			for (k = 0; k < 4; k++) {
				if (field_hex(&s, 4, &hv) != 0) {
					why = "I: wants 4 hex numbers (bus vendor product version)";
					goto bad;
				}
			}
			if (!line_end(s, 0)) {
				why = "I: wants 4 hex numbers (bus vendor product version)";
				goto bad;
			}
			break;
		case 'P':
			if (hex_bytes(s, 8, bits) != 0) {
				why = "P: wants up to 8 hex bytes";
				goto bad;
			}
			break;
		case 'B':
			memset(bits, 0, sizeof bits);
			if (hex_bytes(s, 9, bits) != 0) {
				why = "B: wants an event type and up to 8 hex bytes";
				goto bad;
			}
			/* The key mask, 8 bytes a line as evemu writes it: whether the device
			 * has BTN_TOUCH (then it is up until said otherwise, as in the kernel,
			 * which never sends the initial 0). */
			if (bits[0] == EV_KEY) {
				k = BTN_TOUCH / 8 - 8 * ax.keylines++;
				if (k >= 0 && k < 8 && (bits[1 + k] >> (BTN_TOUCH % 8) & 1))
					ax.has_touch = 1;
			}
			break;
		case 'L':
		case 'S':
			if (field_hex(&s, 2, &hv) != 0 || field_int(&s, &v[0]) != 0 ||
			    !line_end(s, 0)) {
				why = "L:/S: wants a hex code and a value";
				goto bad;
			}
			break;
		case 'A':
			/* "A: %02x %d %d %d %d %d": code min max fuzz flat resolution; files
			 * older than evemu 1.1 have no resolution. */
			if (field_hex(&s, 2, &code) != 0 || code >= ABS_CNT) {
				why = "A: wants a hex axis code below 0x40";
				goto bad;
			}
			for (nf = 0; nf < 5 && !line_end(s, 0); nf++) {
				if (field_int(&s, &v[nf]) != 0) {
					why = "A: wants decimal min max fuzz flat [resolution]";
					goto bad;
				}
			}
			if (nf < 4 || !line_end(s, 0)) {
				why = "A: wants decimal min max fuzz flat [resolution]";
				goto bad;
			}
			if (v[0] > v[1]) {
				why = "A: minimum above maximum";
				goto bad;
			}
			if (ax.have[code]) {
				why = "A: line repeated for the same axis";
				goto bad;
			}
			ax.have[code] = 1;
			ax.min[code] = v[0];
			ax.max[code] = v[1];
			ax.res[code] = nf == 5 ? v[4] : 0;
			break;
		case 'E':
			if (field_time(&s, &t) != 0) {
				why = "E: wants the time as sec.usec (6 digits)";
				goto bad;
			}
			if (field_hex(&s, 4, &type) != 0 || field_hex(&s, 4, &code) != 0) {
				why = "E: wants hex type and code (up to 4 digits)";
				goto bad;
			}
			if (field_int(&s, &v[0]) != 0 || !line_end(s, 1)) {
				why = "E: wants a decimal 32-bit value";
				goto bad;
			}
			if (d == NULL) {
				if ((why = setup_axes(&ax, sig, &mode)) != NULL)
					goto bad;
				if ((d = bb_sig_decoder_new(sig)) == NULL) {
					bb_sig_free(sig);
					return bb_fail(e, BB_SOFTWARE, "out of memory");
				}
				d->mode = mode;
				if (ax.has_touch)
					d->touch = 0;
			}
			/* Values of an axis the recording never described have no scale. */
			if (type == EV_ABS && code < ABS_CNT && !ax.have[code] &&
			    (code == ABS_X || code == ABS_Y || code == ABS_PRESSURE ||
			    code == ABS_MT_POSITION_X || code == ABS_MT_POSITION_Y)) {
				why = "event for an axis without an A: line";
				goto bad;
			}
			bb_sig_decoder_event(d, t, (int)type, (int)code, v[0]);
			if ((st = bb_sig_decoder_error(d, e)) != 0) {
				bb_err_context(e, "%s:%zu", name, lineno);
				bb_sig_decoder_free(d);
				bb_sig_free(sig);
				return st;
			}
			break;
		default:
			why = "unknown evemu line type";
			goto bad;
		}
next:
		p = nl ? nl + 1 : end;
	}
	if (d == NULL) {
		/* No events: still the axes (when described), so an empty signature says
		 * where it came from; the pressure range as the decoder would have set it. */
		if (setup_axes(&ax, sig, &mode) != NULL)
			memset(sig, 0, sizeof *sig);
		if (sig->p_max <= sig->p_min) {
			sig->p_min = 0;
			sig->p_max = 1;
		}
	}
	bb_sig_decoder_free(d);
	return 0;
bad:
	bb_sig_decoder_free(d);
	bb_sig_free(sig);
	return bb_fail(e, BB_DATAERR, "%s:%zu: %s", name, lineno, why);
}

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

/* Not tested here: no pad can be attached and /dev/uinput is not available, so this is
 * written to the evdev API alone; what it feeds the decoder is tested through the evemu
 * recordings, which go through the same decoder. */
int
bb_sig_read_device(const char *path, int timeout_ms, struct bb_sig *sig, struct bb_err *e)
{
	unsigned long absbits[NBITS(ABS_CNT)], keybits[NBITS(KEY_CNT)];
	struct input_event ev[64];
	struct input_absinfo ai;
	struct bb_sig_decoder *d = NULL;
	struct pollfd pfd;
	double start, last, wait, t;
	ssize_t r;
	size_t i;
	int fd, version, cx, cy, mode, st = 0, clk = CLOCK_MONOTONIC, dropped = 0;

	memset(sig, 0, sizeof *sig);
	if (timeout_ms <= 0)
		timeout_ms = BB_SIG_TOTAL_MS;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return bb_fail(e, BB_UNAVAILABLE, "%s: %s", path, strerror(errno));
	memset(absbits, 0, sizeof absbits);
	memset(keybits, 0, sizeof keybits);
	if (ioctl(fd, EVIOCGVERSION, &version) < 0 ||
	    ioctl(fd, EVIOCGBIT(EV_ABS, sizeof absbits), absbits) < 0 ||
	    ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keybits), keybits) < 0) {
		close(fd);
		return bb_fail(e, BB_UNAVAILABLE, "%s: not an input event device", path);
	}
	if (TESTBIT(absbits, ABS_X) && TESTBIT(absbits, ABS_Y)) {
		cx = ABS_X, cy = ABS_Y, mode = MODE_ST;
	} else if (TESTBIT(absbits, ABS_MT_POSITION_X) && TESTBIT(absbits, ABS_MT_POSITION_Y)) {
		cx = ABS_MT_POSITION_X, cy = ABS_MT_POSITION_Y, mode = MODE_MT;
	} else {
		close(fd);
		return bb_fail(e, BB_UNAVAILABLE, "%s: no absolute x/y axes: not a signature pad",
		    path);
	}
	if (!TESTBIT(keybits, BTN_TOUCH) && !TESTBIT(absbits, ABS_PRESSURE) &&
	    !TESTBIT(absbits, ABS_MT_TRACKING_ID)) {
		close(fd);
		return bb_fail(e, BB_UNAVAILABLE, "%s: no touch or pressure: not a signature pad",
		    path);
	}
	if (ioctl(fd, EVIOCGABS(cx), &ai) < 0)
		goto ioerr;
	sig->x_min = ai.minimum, sig->x_max = ai.maximum, sig->x_res = ai.resolution;
	if (ioctl(fd, EVIOCGABS(cy), &ai) < 0)
		goto ioerr;
	sig->y_min = ai.minimum, sig->y_max = ai.maximum, sig->y_res = ai.resolution;
	if (TESTBIT(absbits, ABS_PRESSURE)) {
		if (ioctl(fd, EVIOCGABS(ABS_PRESSURE), &ai) < 0)
			goto ioerr;
		sig->p_min = ai.minimum, sig->p_max = ai.maximum;
	}
	if (sig->x_res < 0 || sig->y_res < 0)
		sig->x_res = sig->y_res = 0;
	/* Event times from the monotonic clock, so a clock step cannot bend the strokes'
	 * timing; a kernel too old for it leaves real time, which the decoder tolerates. */
	(void)ioctl(fd, EVIOCSCLOCKID, &clk);
	/* While the person signs, the pen must not also drive the desktop's pointer. */
	if (ioctl(fd, EVIOCGRAB, (void *)1) < 0) {
		st = bb_fail(e, BB_UNAVAILABLE, "%s: %s", path, errno == EBUSY ?
		    "in use by another program (grabbed)" : strerror(errno));
		close(fd);
		memset(sig, 0, sizeof *sig);
		return st;
	}
	if ((d = bb_sig_decoder_new(sig)) == NULL) {
		st = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	d->mode = mode;
	start = last = now_ms();
	resync(fd, d, keybits, absbits, start / 1e3);
	pfd.fd = fd;
	pfd.events = POLLIN;
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
		if (r < 0) {
			st = bb_fail(e, BB_SOFTWARE, "poll: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			continue;	/* the deadlines are checked above */
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			st = bb_fail(e, BB_UNAVAILABLE, "%s: device gone", path);
			goto out;
		}
		r = read(fd, ev, sizeof ev);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			st = bb_fail(e, BB_UNAVAILABLE, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0 || (size_t)r % sizeof ev[0] != 0) {
			st = bb_fail(e, BB_SOFTWARE, "%s: short event read", path);
			goto out;
		}
		last = now_ms();
		for (i = 0; i < (size_t)r / sizeof ev[0]; i++) {
#ifdef input_event_sec
			t = ev[i].input_event_sec + ev[i].input_event_usec / 1e6;
#else
			t = ev[i].time.tv_sec + ev[i].time.tv_usec / 1e6;
#endif
			bb_sig_decoder_event(d, t, ev[i].type, ev[i].code, ev[i].value);
			if (ev[i].type == EV_SYN && ev[i].code == SYN_DROPPED)
				dropped = 1;
			else if (dropped && ev[i].type == EV_SYN && ev[i].code == SYN_REPORT) {
				dropped = 0;
				resync(fd, d, keybits, absbits, t);
			}
			if ((st = bb_sig_decoder_error(d, e)) != 0) {
				bb_err_context(e, "%s", path);
				goto out;
			}
			if (bb_sig_decoder_done(d))
				break;
		}
		if (bb_sig_decoder_done(d))
			break;
	}
	if (sig->n == 0)
		st = bb_fail(e, BB_CANCELLED, "%s: nothing was drawn", path);
out:
	(void)ioctl(fd, EVIOCGRAB, (void *)0);
	close(fd);
	bb_sig_decoder_free(d);
	if (st != 0)
		bb_sig_free(sig);
	return st;
ioerr:
	st = bb_fail(e, BB_UNAVAILABLE, "%s: EVIOCGABS: %s", path, strerror(errno));
	close(fd);
	memset(sig, 0, sizeof *sig);
	return st;
}

/* ---- checks, JSON, rendering ---- */

struct box {
	double x0, y0, x1, y1;
	size_t n;
	int p_max;
};

static void
bbox(const struct bb_sig *sig, struct box *b)
{
	size_t i, j;

	memset(b, 0, sizeof *b);
	for (i = 0; i < sig->n; i++) {
		for (j = 0; j < sig->s[i].n; j++) {
			const struct bb_sig_point *pt = &sig->s[i].p[j];

			if (b->n == 0 || pt->x < b->x0)
				b->x0 = pt->x;
			if (b->n == 0 || pt->x > b->x1)
				b->x1 = pt->x;
			if (b->n == 0 || pt->y < b->y0)
				b->y0 = pt->y;
			if (b->n == 0 || pt->y > b->y1)
				b->y1 = pt->y;
			if (b->n == 0 || pt->pressure > b->p_max)
				b->p_max = pt->pressure;
			b->n++;
		}
	}
}

int
bb_sig_check(const struct bb_sig *sig, struct bb_err *e)
{
	struct box b;
	double w, h, fw, fh;
	int mm = sig->x_res > 0 && sig->y_res > 0;

	bbox(sig, &b);
	if (b.n == 0)
		return bb_fail(e, BB_NOT_MET, "signature: nothing was drawn");
	w = b.x1 - b.x0;
	h = b.y1 - b.y0;
	/* in double: a hostile A: line may span the whole int range */
	fw = sig->x_max > sig->x_min ? w / ((double)sig->x_max - sig->x_min) : 0;
	fh = sig->y_max > sig->y_min ? h / ((double)sig->y_max - sig->y_min) : 0;
	if (mm) {
		w /= sig->x_res;
		h /= sig->y_res;
		if (w < 1 && h < 1)
			return bb_fail(e, BB_NOT_MET, "signature: a single dot (%zu points within "
			    "%.1f x %.1f mm), not a signature", b.n, w, h);
	} else if (fw < 0.01 && fh < 0.01) {
		return bb_fail(e, BB_NOT_MET, "signature: a single dot (%zu points within "
		    "%.1f %% x %.1f %% of the pad), not a signature", b.n, fw * 100, fh * 100);
	}
	if (b.n < 20)
		return bb_fail(e, BB_NOT_MET, "signature: only %zu points (at least 20)", b.n);
	if (mm && (w < 10 || h < 3))
		return bb_fail(e, BB_NOT_MET, "signature: too small (%.1f x %.1f mm, at least "
		    "10 x 3 mm)", w, h);
	if (!mm && (fw < 0.05 || fh < 0.05))
		return bb_fail(e, BB_NOT_MET, "signature: too small (%.1f %% x %.1f %% of the "
		    "pad, at least 5 %% each)", fw * 100, fh * 100);
	return 0;
}

static json_t *
range(int a, int b)
{
	return json_pack("[ii]", a, b);
}

json_t *
bb_sig_json(const struct bb_sig *sig)
{
	json_t *o, *strokes, *st, *pt, *res = json_null();
	size_t i, j;

	if (sig->x_res > 0 || sig->y_res > 0)
		res = json_pack("{s:o,s:o}",
		    "x", sig->x_res > 0 ? json_integer(sig->x_res) : json_null(),
		    "y", sig->y_res > 0 ? json_integer(sig->y_res) : json_null());
	o = json_pack("{s:[ssss],s:o,s:o,s:o,s:o,s:[]}", "channels", "x", "y", "t", "f",
	    "x_range", range(sig->x_min, sig->x_max), "y_range", range(sig->y_min, sig->y_max),
	    "f_range", range(sig->p_min, sig->p_max), "resolution", res, "strokes");
	if (o == NULL)
		return NULL;
	strokes = json_object_get(o, "strokes");
	for (i = 0; i < sig->n; i++) {
		if ((st = json_array()) == NULL || json_array_append_new(strokes, st) != 0)
			goto fail;
		for (j = 0; j < sig->s[i].n; j++) {
			const struct bb_sig_point *p = &sig->s[i].p[j];

			/* Device units are integers; keep them so in the JSON. */
			pt = json_pack("{s:o,s:o,s:f,s:i}",
			    "x", p->x == floor(p->x) && fabs(p->x) < 1e15 ?
			    json_integer((json_int_t)p->x) : json_real(p->x),
			    "y", p->y == floor(p->y) && fabs(p->y) < 1e15 ?
			    json_integer((json_int_t)p->y) : json_real(p->y),
			    "t", round(p->t * 1000) / 1000, "f", p->pressure);
			if (pt == NULL || json_array_append_new(st, pt) != 0)
				goto fail;
		}
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* Stroke radius in pixels for a pressure: half of 0.5 mm, times 0.6 .. 1.4. */
static double
radius(const struct bb_sig *sig, int p, double px_per_mm)
{
	double f = 1.0;

	if (sig->p_max > sig->p_min) {
		f = ((double)p - sig->p_min) / ((double)sig->p_max - sig->p_min);
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		f = 0.6 + 0.8 * f;
	}
	f *= 0.25 * px_per_mm;
	return f < 0.5 ? 0.5 : f;
}

/* Ink for the capsule from a to b (radius ra to rb) by each pixel's distance to the
 * segment: coverage max(0, min(1, r + 0.5 - distance)), a one-pixel ramp that gives the
 * edge its grey levels. Overlapping capsules take the darker value, not the sum, so
 * joints and slow strokes do not blot. */
static void
capsule(struct bb_image *im, double ax, double ay, double ra, double bx, double by, double rb)
{
	double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy, rm = ra > rb ? ra : rb;
	int x0 = (int)floor((ax < bx ? ax : bx) - rm - 1);
	int x1 = (int)ceil((ax > bx ? ax : bx) + rm + 1);
	int y0 = (int)floor((ay < by ? ay : by) - rm - 1);
	int y1 = (int)ceil((ay > by ? ay : by) + rm + 1);
	int x, y, v;
	double px, py, u, qx, qy, dist, r, cov;
	unsigned char *row;

	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > im->w - 1 ? im->w - 1 : x1;
	y1 = y1 > im->h - 1 ? im->h - 1 : y1;
	for (y = y0; y <= y1; y++) {
		int xa = x0, xb = x1;

		row = im->px + (size_t)y * (size_t)im->w;
		py = y + 0.5;
		/* Only the pixels of this row near the segment's line: within rm + 1.5 of it
		 * (the capsule, caps included, lies inside that band). Without this a long
		 * diagonal costs its whole bounding box: a hostile recording of zigzags
		 * would keep the renderer busy for minutes. */
		if (dy != 0) {
			double len = sqrt(l2), c = dy * ax + dx * (py - ay), band = (rm + 1.5) * len;
			double lo = (c - band) / dy - 0.5, hi = (c + band) / dy - 0.5;

			if (lo > hi) {
				double t = lo;
				lo = hi;
				hi = t;
			}
			if (lo > x1 || hi < x0)
				continue;
			xa = lo > x0 ? (int)floor(lo) : x0;
			xb = hi < x1 ? (int)ceil(hi) : x1;
		}
		for (x = xa; x <= xb; x++) {
			px = x + 0.5;
			u = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
			u = u < 0 ? 0 : u > 1 ? 1 : u;
			qx = ax + u * dx - px;
			qy = ay + u * dy - py;
			dist = sqrt(qx * qx + qy * qy);
			r = ra + u * (rb - ra);
			cov = r + 0.5 - dist;
			if (cov <= 0)
				continue;
			v = cov >= 1 ? 0 : (int)lround(255 * (1 - cov));
			if (v < row[x])
				row[x] = (unsigned char)v;
		}
	}
}

int
bb_sig_render(const struct bb_sig *sig, int dpi, struct bb_image *out, struct bb_err *e)
{
	struct box b;
	double rx, ry, sx, sy, pxmm, off, rmax, fw, fh;
	size_t i, j;
	int st;

	memset(out, 0, sizeof *out);
	if (dpi <= 0)
		dpi = 300;
	if (dpi < 50 || dpi > 1200)
		return bb_fail(e, BB_USAGE, "signature: %d dpi: between 50 and 1200, please", dpi);
	bbox(sig, &b);
	if (b.n == 0)
		return bb_fail(e, BB_NOT_MET, "signature: nothing was drawn");
	/* Device units per mm: the axis resolution, the other axis's (square units), or a
	 * pad 100 mm wide. */
	rx = sig->x_res > 0 ? sig->x_res : sig->y_res > 0 ? sig->y_res :
	    (sig->x_max - (double)sig->x_min) / 100;
	ry = sig->y_res > 0 ? sig->y_res : rx;
	if (!(rx > 0))
		rx = ry = 1;
	pxmm = dpi / 25.4;
	sx = pxmm / rx;
	sy = pxmm / ry;
	rmax = radius(sig, b.p_max, pxmm);
	off = 2 * pxmm + rmax;		/* 2 mm beyond the ink */
	fw = ceil((b.x1 - b.x0) * sx + 2 * off);
	fh = ceil((b.y1 - b.y0) * sy + 2 * off);
	if (fw * fh > BB_IMAGE_MAX_PIXELS || fw > 100000 || fh > 100000)
		return bb_fail(e, BB_DATAERR, "signature: %.0f x %.0f pixels at %d dpi: the "
		    "axis ranges or resolution are implausible", fw, fh, dpi);
	if ((st = bb_image_new(out, (int)fw, (int)fh, 1, e)) != 0)
		return st;
	memset(out->px, 255, (size_t)out->w * (size_t)out->h);
	for (i = 0; i < sig->n; i++) {
		const struct bb_sig_stroke *s = &sig->s[i];

		for (j = 0; j < s->n; j++) {
			const struct bb_sig_point *a = &s->p[j > 0 ? j - 1 : 0], *c = &s->p[j];

			/* The first point draws a dot: a stroke of one sample stays visible. */
			capsule(out, (a->x - b.x0) * sx + off, (a->y - b.y0) * sy + off,
			    radius(sig, a->pressure, pxmm),
			    (c->x - b.x0) * sx + off, (c->y - b.y0) * sy + off,
			    radius(sig, c->pressure, pxmm));
		}
	}
	return 0;
}
