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
#include "capture/sigdec.h"
#include "diag.h"
#include "exit.h"

#include <stdlib.h>
#include <string.h>
#include <linux/input.h>
#include <stdio.h>


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

