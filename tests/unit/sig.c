/* lib/capture/sig.c: the evdev decoder through evemu recordings made by
 * tests/data/gen-signature (a pen tablet with pressure, a touchscreen with MT slots and
 * a palm, a dot), the decoder fed directly (SYN_DROPPED, "done", limits), malformed
 * recordings (65 naming the line), every truncation of the tablet recording (on copies
 * of exactly the size, so ASan sees any read past the end), bb_sig_check's reasons, the
 * JSON and the rendering. bb_sig_read_device can only be tested for its refusals: no pad
 * and no /dev/uinput here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <linux/input.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sig.h"
#include "diag.h"
#include "exit.h"
#include "img/image.h"
#include "scratch.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers --- */

static const char *
top(void)
{
	const char *t = getenv("BB_TOP");

	return t != NULL && *t != '\0' ? t : ".";
}

/* tests/data/NAME, malloc'd with exactly its size. */
static char *
slurp(const char *name, size_t *len)
{
	char path[4096];
	char *out;
	long n;
	FILE *f;

	snprintf(path, sizeof path, "%s/tests/data/%s", top(), name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0 && n < 1000000);
	rewind(f);
	out = malloc((size_t)n);
	assert_non_null(out);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return out;
}

/* bb_sig_read_evemu on a copy of exactly len bytes. */
static int
parse(const char *buf, size_t len, struct bb_sig *sig, struct bb_err *e)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	memset(e, 0, sizeof *e);
	rc = bb_sig_read_evemu(copy, len, "rec", sig, e);
	free(copy);
	return rc;
}

static int
parse_str(const char *s, struct bb_sig *sig, struct bb_err *e)
{
	return parse(s, strlen(s), sig, e);
}

static void
load(const char *name, struct bb_sig *sig)
{
	struct bb_err e;
	size_t len;
	char *buf = slurp(name, &len);
	int rc = parse(buf, len, sig, &e);

	if (rc != 0)
		fail_msg("%s: %d %s", name, rc, e.msg);
	free(buf);
}

static size_t
npoints(const struct bb_sig *sig)
{
	size_t i, n = 0;

	for (i = 0; i < sig->n; i++)
		n += sig->s[i].n;
	return n;
}

/* A pen (A: lines for X, Y and pressure) in front of the given events. */
#define PEN_HEADER "# EVEMU 1.3\nN: Test Pen\nI: 0003 056a 0374 0110\n" \
	"P: 01 00 00 00 00 00 00 00\nB: 00 0b 00 00 00 00 00 00 00\n" \
	"A: 00 0 21600 4 0 100\nA: 01 0 13500 4 0 100\nA: 18 0 1023 0 0 0\n"

/* --- recordings --- */

static void
tablet(void **state)
{
	struct bb_sig sig;
	struct bb_err e;
	const struct bb_sig_point *p;
	size_t i, j;
	double xmin = 1e9, xmax = -1e9, ymin = 1e9, ymax = -1e9, tprev = -1;
	int pmin = 1 << 30, pmax = -1;

	(void)state;
	load("signature-tablet.evemu", &sig);
	assert_int_equal(sig.n, 3);
	assert_int_equal(sig.s[0].n, 237);
	assert_int_equal(sig.s[1].n, 87);
	assert_int_equal(sig.s[2].n, 77);
	assert_int_equal(npoints(&sig), 401);
	assert_int_equal(sig.x_min, 0);
	assert_int_equal(sig.x_max, 21600);
	assert_int_equal(sig.y_min, 0);
	assert_int_equal(sig.y_max, 13500);
	assert_int_equal(sig.p_min, 0);
	assert_int_equal(sig.p_max, 1023);
	assert_int_equal(sig.x_res, 100);
	assert_int_equal(sig.y_res, 100);
	/* The first point is the frame where BTN_TOUCH came (pressure 6 and 15 before it
	 * were below the driver's threshold: no contact), at t 0. */
	p = &sig.s[0].p[0];
	assert_true(p->x == 5956 && p->y == 5907 && p->pressure == 40);
	assert_true(p->t == 0);
	p = &sig.s[0].p[1];
	assert_true(p->x == 5936 && p->y == 5869 && p->pressure == 262);
	assert_true(fabs(p->t - 0.00502) < 1e-9);
	p = &sig.s[2].p[sig.s[2].n - 1];
	assert_true(p->x == 13405 && p->y == 7285 && p->pressure == 40);
	assert_true(fabs(p->t - 2.17) < 1e-9);
	for (i = 0; i < sig.n; i++) {
		for (j = 0; j < sig.s[i].n; j++) {
			p = &sig.s[i].p[j];
			xmin = fmin(xmin, p->x), xmax = fmax(xmax, p->x);
			ymin = fmin(ymin, p->y), ymax = fmax(ymax, p->y);
			pmin = p->pressure < pmin ? p->pressure : pmin;
			pmax = p->pressure > pmax ? p->pressure : pmax;
			assert_true(p->t >= tprev);
			tprev = p->t;
		}
	}
	assert_true(xmin == 5860 && xmax == 13600 && ymin == 4220 && ymax == 7699);
	/* Never a point without pressure; the hover and the prox-out (0, 0) are no points. */
	assert_int_equal(pmin, 40);
	assert_int_equal(pmax, 744);
	assert_int_equal(bb_sig_check(&sig, &e), 0);
	bb_sig_free(&sig);
	assert_null(sig.s);
}

static void
touch(void **state)
{
	struct bb_sig sig;
	struct bb_err e;
	size_t i, j;

	(void)state;
	load("signature-touch.evemu", &sig);
	assert_int_equal(sig.n, 2);
	assert_int_equal(sig.s[0].n, 81);
	assert_int_equal(sig.s[1].n, 31);
	assert_int_equal(sig.x_max, 3968);
	assert_int_equal(sig.y_max, 2240);
	assert_int_equal(sig.x_res, 0);
	assert_int_equal(sig.y_res, 0);
	/* No pressure axis: a tip switch 0..1, every point at the maximum. */
	assert_int_equal(sig.p_min, 0);
	assert_int_equal(sig.p_max, 1);
	for (i = 0; i < sig.n; i++)
		for (j = 0; j < sig.s[i].n; j++)
			assert_int_equal(sig.s[i].p[j].pressure, 1);
	assert_true(sig.s[0].p[0].x == 900 && sig.s[0].p[0].y == 1100);
	assert_true(fabs(sig.s[0].p[1].t - 0.00999) < 1e-9);
	/* The palm in slot 1 (at 3500, 2100) never shows. */
	for (i = 0; i < sig.n; i++)
		for (j = 0; j < sig.s[i].n; j++)
			assert_true(sig.s[i].p[j].x <= 2700 && sig.s[i].p[j].y <= 1400);
	assert_true(sig.s[1].p[0].x == 1500 && sig.s[1].p[0].y == 700);
	assert_true(fabs(sig.s[1].p[30].t - 1.24) < 1e-9);
	/* Unknown resolution: sizes as shares of the axes (45 % x 31 %). */
	assert_int_equal(bb_sig_check(&sig, &e), 0);
	bb_sig_free(&sig);
}

/* A touchscreen with MT axes only (no ABS_X/Y, no BTN_TOUCH): slot 0's position, contact
 * by its tracking id; the second finger in slot 1 is ignored. */
static void
touch_mt_only(void **state)
{
	static const char rec[] = "# EVEMU 1.3\nN: MT only\nI: 0018 04f3 2a1c 0100\n"
	    "A: 2f 0 9 0 0 0\nA: 35 0 1000 0 0 10\nA: 36 0 500 0 0 10\nA: 39 0 65535 0 0 0\n"
	    "E: 0.000000 0003 0039 0007\nE: 0.000000 0003 0035 0100\n"
	    "E: 0.000000 0003 0036 0200\nE: 0.000000 0000 0000 0000\n"
	    "E: 0.010000 0003 002f 0001\nE: 0.010000 0003 0039 0008\n"
	    "E: 0.010000 0003 0035 0900\nE: 0.010000 0003 0036 0400\n"
	    "E: 0.010000 0003 002f 0000\nE: 0.010000 0003 0035 0110\n"
	    "E: 0.010000 0000 0000 0000\n"
	    "E: 0.020000 0003 0039 -001\nE: 0.020000 0000 0000 0000\n"
	    "E: 0.030000 0003 0039 0009\nE: 0.030000 0003 0035 0300\n"
	    "E: 0.030000 0000 0000 0000\n";
	struct bb_sig sig;
	struct bb_err e;

	(void)state;
	assert_int_equal(parse_str(rec, &sig, &e), 0);
	assert_int_equal(sig.x_max, 1000);
	assert_int_equal(sig.x_res, 10);
	assert_int_equal(sig.n, 2);
	assert_int_equal(sig.s[0].n, 2);
	assert_true(sig.s[0].p[0].x == 100 && sig.s[0].p[0].y == 200);
	assert_true(sig.s[0].p[1].x == 110 && sig.s[0].p[1].y == 200);
	assert_int_equal(sig.s[1].n, 1);
	assert_true(sig.s[1].p[0].x == 300 && sig.s[1].p[0].y == 200);
	bb_sig_free(&sig);
}

static void
dot(void **state)
{
	struct bb_sig sig;
	struct bb_err e;

	(void)state;
	load("signature-dot.evemu", &sig);
	assert_int_equal(sig.n, 1);
	assert_int_equal(sig.s[0].n, 6);
	memset(&e, 0, sizeof e);
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);
	assert_non_null(strstr(e.msg, "single dot"));
	bb_sig_free(&sig);
}

/* --- the decoder fed directly --- */

static struct bb_sig_decoder *
pen(struct bb_sig *sig)
{
	struct bb_sig_decoder *d;

	memset(sig, 0, sizeof *sig);
	sig->x_max = 21600, sig->y_max = 13500, sig->p_max = 1023;
	sig->x_res = sig->y_res = 100;
	d = bb_sig_decoder_new(sig);
	assert_non_null(d);
	return d;
}

static void
frame(struct bb_sig_decoder *d, double t, int x, int y, int p, int touching)
{
	bb_sig_decoder_event(d, t, EV_ABS, ABS_X, x);
	bb_sig_decoder_event(d, t, EV_ABS, ABS_Y, y);
	bb_sig_decoder_event(d, t, EV_ABS, ABS_PRESSURE, p);
	bb_sig_decoder_event(d, t, EV_KEY, BTN_TOUCH, touching);
	bb_sig_decoder_event(d, t, EV_SYN, SYN_REPORT, 0);
}

static void
decoder_contact(void **state)
{
	struct bb_sig sig;
	struct bb_sig_decoder *d = pen(&sig);
	struct bb_err e;

	(void)state;
	bb_sig_decoder_event(d, 5.0, EV_KEY, BTN_TOOL_PEN, 1);
	frame(d, 5.0, 100, 100, 0, 0);		/* hover */
	frame(d, 5.01, 110, 100, 30, 0);	/* pressure, BTN_TOUCH not yet */
	assert_int_equal(sig.n, 0);
	frame(d, 5.02, 120, 100, 50, 1);	/* down: stroke 1 */
	assert_true(bb_sig_decoder_contact(d));
	frame(d, 5.03, 130, 100, 60, 1);
	/* Only tilt changed: no new sample. */
	bb_sig_decoder_event(d, 5.035, EV_ABS, ABS_TILT_X, 5);
	bb_sig_decoder_event(d, 5.035, EV_SYN, SYN_REPORT, 0);
	frame(d, 5.04, 140, 100, 0, 1);		/* pressure 0 with BTN_TOUCH 1: up */
	assert_false(bb_sig_decoder_contact(d));
	frame(d, 5.05, 150, 100, 70, 1);	/* stroke 2 */
	/* SYN_DROPPED: the frame is lost and the stroke ends (a lift may be in it). */
	bb_sig_decoder_event(d, 5.06, EV_ABS, ABS_X, 160);
	bb_sig_decoder_event(d, 5.06, EV_SYN, SYN_DROPPED, 0);
	bb_sig_decoder_event(d, 5.06, EV_ABS, ABS_X, 5000);
	bb_sig_decoder_event(d, 5.06, EV_SYN, SYN_REPORT, 0);
	frame(d, 5.07, 170, 100, 70, 1);	/* stroke 3 */
	/* Out of proximity ends it even with BTN_TOUCH and pressure stuck. */
	bb_sig_decoder_event(d, 5.08, EV_KEY, BTN_TOOL_PEN, 0);
	bb_sig_decoder_event(d, 5.08, EV_ABS, ABS_X, 180);
	bb_sig_decoder_event(d, 5.08, EV_SYN, SYN_REPORT, 0);
	/* A clock step backwards keeps t from falling. */
	bb_sig_decoder_event(d, 1.0, EV_KEY, BTN_TOOL_PEN, 1);
	frame(d, 1.0, 190, 100, 70, 1);		/* stroke 4 */
	/* "done", then nothing more is taken. */
	bb_sig_decoder_event(d, 1.01, EV_KEY, BTN_0, 1);
	assert_true(bb_sig_decoder_done(d));
	frame(d, 1.02, 200, 100, 70, 1);
	assert_int_equal(bb_sig_decoder_error(d, &e), 0);
	bb_sig_decoder_free(d);

	assert_int_equal(sig.n, 4);
	assert_int_equal(sig.s[0].n, 2);
	assert_true(sig.s[0].p[0].x == 120 && sig.s[0].p[0].t == 0);
	assert_true(fabs(sig.s[0].p[1].t - 0.01) < 1e-9);
	assert_int_equal(sig.s[1].n, 1);
	assert_true(sig.s[1].p[0].x == 150);
	assert_int_equal(sig.s[2].n, 1);
	assert_true(sig.s[2].p[0].x == 170);
	assert_int_equal(sig.s[3].n, 1);
	assert_true(sig.s[3].p[0].x == 190 && fabs(sig.s[3].p[0].t - 0.05) < 1e-9);
	bb_sig_free(&sig);
}

static void
decoder_limits(void **state)
{
	struct bb_sig sig;
	struct bb_sig_decoder *d = pen(&sig);
	struct bb_err e;
	int i;

	(void)state;
	for (i = 0; i < BB_SIG_MAX_POINTS; i++)
		frame(d, i * 0.005, i % 20000, i / 20000, 100, 1);
	assert_int_equal(bb_sig_decoder_error(d, &e), 0);
	assert_int_equal(npoints(&sig), BB_SIG_MAX_POINTS);
	frame(d, 600.0, 7, 7, 100, 1);
	memset(&e, 0, sizeof e);
	assert_int_equal(bb_sig_decoder_error(d, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "100000 points"));
	bb_sig_decoder_free(d);
	bb_sig_free(&sig);

	d = pen(&sig);
	for (i = 0; i < BB_SIG_MAX_STROKES; i++) {
		frame(d, i * 0.01, i, 10, 100, 1);
		frame(d, i * 0.01 + 0.005, i, 10, 0, 0);
	}
	assert_int_equal(bb_sig_decoder_error(d, &e), 0);
	assert_int_equal(sig.n, BB_SIG_MAX_STROKES);
	frame(d, 20.0, 1, 1, 100, 1);
	memset(&e, 0, sizeof e);
	assert_int_equal(bb_sig_decoder_error(d, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "1000 strokes"));
	bb_sig_decoder_free(d);
	bb_sig_free(&sig);
}

/* --- malformed recordings --- */

struct bad {
	const char *text;	/* appended to PEN_HEADER (9 lines) unless own */
	int own;		/* the whole recording */
	int line;
	const char *why;	/* in the message */
	size_t len;		/* of text, when it holds a NUL */
};

static void
malformed(void **state)
{
	static const struct bad bad[] = {
		{ "E: 0.000000 00zz 0000 1\n", 0, 9, "hex", 0 },
		{ "E: 0.000000 0003 0000 12x\n", 0, 9, "decimal", 0 },
		{ "E: 0.000000 0003 0000\n", 0, 9, "decimal", 0 },
		{ "E: 0.000000 0003\n", 0, 9, "hex", 0 },
		{ "E: 0.000000\n", 0, 9, "hex", 0 },
		{ "E:\n", 0, 9, "time", 0 },
		{ "E: 0.5 0003 0000 1\n", 0, 9, "time", 0 },
		{ "E: 0.0000001 0003 0000 1\n", 0, 9, "time", 0 },
		{ "E: x.000000 0003 0000 1\n", 0, 9, "time", 0 },
		{ "E: 99999999999.000000 0003 0000 1\n", 0, 9, "time", 0 },
		{ "E: 0.000000 10003 0000 1\n", 0, 9, "hex", 0 },
		{ "E: 0.000000 0003 0000 99999999999\n", 0, 9, "32-bit", 0 },
		{ "E: 0.000000 0003 0000 2147483648\n", 0, 9, "32-bit", 0 },
		{ "E: 0.000000 0003 0000 -2147483649\n", 0, 9, "32-bit", 0 },
		{ "E: 0.000000 0003 0000 -\n", 0, 9, "32-bit", 0 },
		{ "E: 0.000000 0003 0000 1 2\n", 0, 9, "32-bit", 0 },
		{ "E: 0.000000 0003 0000 1\nA: 1a -64 63 0 0 57\n", 0, 10, "after the events", 0 },
		{ "E: 0.000000 0003 0000 1\nN: again\n", 0, 10, "after the events", 0 },
		{ "Q: 1\n", 0, 9, "unknown", 0 },
		{ "E 0.000000 0003 0000 1\n", 0, 9, "not an evemu line", 0 },
		{ "E:0.000000 0003 0000 1\n", 0, 9, "not an evemu line", 0 },
		{ "A: 40 0 1 0 0 0\n", 0, 9, "below 0x40", 0 },
		{ "A: 1g 0 1 0 0 0\n", 0, 9, "hex", 0 },
		{ "A: 1a 5 1 0 0 0\n", 0, 9, "minimum above maximum", 0 },
		{ "A: 1a 0 1 0\n", 0, 9, "min max fuzz flat", 0 },
		{ "A: 1a 0 1 0 0 0 0\n", 0, 9, "min max fuzz flat", 0 },
		{ "A: 1a 0 99999999999 0 0 0\n", 0, 9, "min max fuzz flat", 0 },
		{ "A: 00 0 1 0 0 0\n", 0, 9, "repeated", 0 },
		{ "I: 0003 056a 0374\n", 0, 9, "I:", 0 },
		{ "I: 0003 056a 0374 01100\n", 0, 9, "I:", 0 },
		{ "P: 00 00 00 00 00 00 00 00 00\n", 0, 9, "P:", 0 },
		{ "B: 01 100 00\n", 0, 9, "B:", 0 },
		{ "B:\n", 0, 9, "B:", 0 },
		{ "N:\n", 0, 9, "N:", 0 },
		{ "L: zz 1\n", 0, 9, "L:", 0 },
		{ "E: 0.000000 0003 0000 1\x01\n", 0, 9, "binary", 0 },
		{ "\x7f" "ELF\x02\x01\x01\x00\x00\n", 0, 9, "binary", 0 },
		{ "E: 0.000000 0003 0000 1\nE: 0.000000 0003 00\x00\xff 1\n", 0, 10, "binary",
		  48 },
		/* No A: lines for the position: not a pen (a keyboard's recording, say). */
		{ "# EVEMU 1.3\nN: Keyboard\nI: 0011 0001 0001 ab41\n"
		  "E: 0.000000 0001 001c 0001\n", 1, 4, "A: lines", 0 },
		{ "# EVEMU 1.3\nN: X only\nA: 00 0 100 0 0 0\nE: 0.000000 0003 0000 1\n",
		  1, 4, "A: lines", 0 },
		/* Pressure without an A: line for it. */
		{ "# EVEMU 1.3\nA: 00 0 100 0 0 0\nA: 01 0 100 0 0 0\n"
		  "E: 0.000000 0003 0018 0001\n", 1, 4, "without an A: line", 0 },
		{ "# EVEMU 2.0\n", 1, 1, "evemu 1.x", 0 },
		{ "# EVEMU one\n", 1, 1, "evemu 1.x", 0 },
	};
	char buf[2048], big[400];
	struct bb_sig sig;
	struct bb_err e;
	char want[64];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (bad[i].own)
			snprintf(buf, sizeof buf, "%s", bad[i].text);
		else
			snprintf(buf, sizeof buf, "%s%s", PEN_HEADER, bad[i].text);
		if (bad[i].len > 0) {	/* a NUL inside: by length */
			size_t hl = strlen(PEN_HEADER);

			memcpy(buf, PEN_HEADER, hl);
			memcpy(buf + hl, bad[i].text, bad[i].len);
			rc = parse(buf, hl + bad[i].len, &sig, &e);
		} else {
			rc = parse_str(buf, &sig, &e);
		}
		snprintf(want, sizeof want, "rec:%d: ", bad[i].line);
		if (rc != BB_DATAERR || strstr(e.msg, want) != e.msg ||
		    strstr(e.msg, bad[i].why) == NULL)
			fail_msg("case %zu (%s): %d \"%s\"", i, bad[i].text, rc, e.msg);
		assert_null(sig.s);
		assert_int_equal(sig.n, 0);
	}

	/* A 300-byte line; 256 is still fine, and a comment may be longer. */
	memset(big, 'a', sizeof big);
	snprintf(buf, sizeof buf, "%sN: %.*s\n", PEN_HEADER, 297, big);
	assert_int_equal(parse_str(buf, &sig, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "rec:9: line longer than 256 bytes"));
	snprintf(buf, sizeof buf, "%sE: 0.000000 0003 0000 %0254d\n", PEN_HEADER, 1);
	assert_int_equal(parse_str(buf, &sig, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "rec:9: line longer"));
	snprintf(buf, sizeof buf, "%sN: %.*s\n# %.*s\n", PEN_HEADER, 253, big, 398, big);
	assert_int_equal(parse_str(buf, &sig, &e), 0);
	bb_sig_free(&sig);
}

/* evemu's own spellings: CRLF, "%04d" values with leading zeros (decimal, not octal),
 * negative values, no trailing newline, older A: lines without resolution, L:/S: lines,
 * no "# EVEMU" header at all. */
static void
tolerated(void **state)
{
	static const char rec[] = "N: Old Pen\r\nI: 0003 056a 0374 0110\r\n"
	    "L: 00 0\r\nS: 00 1\r\n"
	    "A: 00 0 21600 4 0\r\nA: 01 0 13500 4 0\r\nA: 18 0 1023 0 0\r\n\r\n"
	    "E: 0.000000 0001 014a 0001\t# EV_KEY / BTN_TOUCH 1\r\n"
	    "E: 0.000000 0003 0000 0010\r\nE: 0.000000 0003 0001 0012\r\n"
	    "E: 0.000000 0003 0018 0077\r\nE: 0.000000 0000 0000 0000\r\n"
	    "E: 1.000000 0003 001a -005\r\nE: 1.000000 0003 0000 0011\r\n"
	    "E: 1.000000 0000 0000 0000";
	struct bb_sig sig;
	struct bb_err e;

	(void)state;
	assert_int_equal(parse_str(rec, &sig, &e), 0);
	assert_int_equal(sig.x_res, 0);
	assert_int_equal(sig.n, 1);
	assert_int_equal(sig.s[0].n, 2);
	assert_true(sig.s[0].p[0].x == 10 && sig.s[0].p[0].y == 12);
	assert_int_equal(sig.s[0].p[0].pressure, 77);
	assert_true(sig.s[0].p[1].x == 11 && sig.s[0].p[1].t == 1.0);
	bb_sig_free(&sig);

	/* No events at all: an empty signature, the axes still known. */
	assert_int_equal(parse_str(PEN_HEADER, &sig, &e), 0);
	assert_int_equal(sig.n, 0);
	assert_int_equal(sig.x_max, 21600);
	memset(&e, 0, sizeof e);
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);
	assert_non_null(strstr(e.msg, "nothing"));
	bb_sig_free(&sig);
	assert_int_equal(parse("", 0, &sig, &e), 0);
	assert_int_equal(sig.n, 0);
	bb_sig_free(&sig);
}

/* More than 1000 strokes in a recording: 65 at the line of the 1001st. */
static void
too_many_strokes(void **state)
{
	size_t cap = 200000, n;
	char *buf = malloc(cap);
	struct bb_sig sig;
	struct bb_err e;
	char want[64];
	int i;

	(void)state;
	assert_non_null(buf);
	n = (size_t)snprintf(buf, cap, "%s", PEN_HEADER);
	for (i = 0; i <= BB_SIG_MAX_STROKES; i++)
		n += (size_t)snprintf(buf + n, cap - n,
		    "E: 0.%06d 0003 0000 %d\nE: 0.%06d 0003 0001 5\n"
		    "E: 0.%06d 0003 0018 100\nE: 0.%06d 0000 0000 0\n"
		    "E: 0.%06d 0003 0018 0\nE: 0.%06d 0000 0000 0\n",
		    i * 10, i, i * 10, i * 10, i * 10, i * 10 + 5, i * 10 + 5);
	assert_true(n < cap);
	assert_int_equal(parse(buf, n, &sig, &e), BB_DATAERR);
	/* header 8 lines, 6 a stroke, the 1001st stroke's SYN_REPORT is its 4th line */
	snprintf(want, sizeof want, "rec:%d: ", 8 + 6 * BB_SIG_MAX_STROKES + 4);
	if (strstr(e.msg, want) != e.msg || strstr(e.msg, "1000 strokes") == NULL)
		fail_msg("%s", e.msg);
	free(buf);

	/* Larger than 16 MiB: refused before reading. */
	n = (size_t)BB_SIG_MAX_RECORDING + 1;
	buf = malloc(n);
	assert_non_null(buf);
	memset(buf, '\n', n);
	assert_int_equal(bb_sig_read_evemu(buf, n, "rec", &sig, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "16 MiB"));
	assert_int_equal(bb_sig_read_evemu(buf, n - 1, "rec", &sig, &e), 0);
	bb_sig_free(&sig);
	free(buf);
}

/* Every cut of the tablet recording at a line boundary, and 3 bytes before it (a
 * line cut in the middle): 0 or 65, never a crash, never more than the whole has. */
static void
truncations(void **state)
{
	struct bb_sig sig;
	struct bb_err e;
	size_t len, i, cuts = 0;
	char *buf = slurp("signature-tablet.evemu", &len);
	int rc;

	(void)state;
	for (i = 0; i <= len; i++) {
		if (i != len && buf[i] != '\n')
			continue;
		rc = parse(buf, i, &sig, &e);
		assert_true(rc == 0 || rc == BB_DATAERR);
		if (rc == 0)
			assert_true(sig.n <= 3 && npoints(&sig) <= 401);
		bb_sig_free(&sig);
		if (i >= 3) {
			rc = parse(buf, i - 3, &sig, &e);
			assert_true(rc == 0 || rc == BB_DATAERR);
			if (rc == BB_DATAERR)
				assert_non_null(strstr(e.msg, "rec:"));
			bb_sig_free(&sig);
		}
		cuts++;
	}
	assert_true(cuts > 2000);
	free(buf);
}

/* --- check --- */

static void
add(struct bb_sig *sig, int newstroke, double x, double y)
{
	struct bb_sig_stroke *s;

	if (newstroke || sig->n == 0) {
		sig->s = realloc(sig->s, (sig->n + 1) * sizeof *sig->s);
		assert_non_null(sig->s);
		memset(&sig->s[sig->n++], 0, sizeof *sig->s);
	}
	s = &sig->s[sig->n - 1];
	s->p = realloc(s->p, (s->n + 1) * sizeof *s->p);
	assert_non_null(s->p);
	s->p[s->n].x = x;
	s->p[s->n].y = y;
	s->p[s->n].t = s->n * 0.005;
	s->p[s->n].pressure = 500;
	s->cap = ++s->n;
}

static void
check(void **state)
{
	struct bb_sig sig;
	struct bb_err e;
	int i;

	(void)state;
	/* Too few points, with a proper size. */
	memset(&sig, 0, sizeof sig);
	sig.x_max = 21600, sig.y_max = 13500, sig.p_max = 1023, sig.x_res = sig.y_res = 100;
	for (i = 0; i < 19; i++)
		add(&sig, 0, 5000 + i * 300, 5000 + (i % 2) * 800);
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);
	assert_non_null(strstr(e.msg, "only 19 points"));
	add(&sig, 1, 5000, 5500);
	assert_int_equal(bb_sig_check(&sig, &e), 0);
	bb_sig_free(&sig);

	/* 8 mm wide: too small. */
	sig.x_max = 21600, sig.y_max = 13500, sig.p_max = 1023, sig.x_res = sig.y_res = 100;
	for (i = 0; i < 40; i++)
		add(&sig, 0, 5000 + i * 20, 5000 + (i % 2) * 800);
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);
	assert_non_null(strstr(e.msg, "too small (7.8 x 8.0 mm"));
	bb_sig_free(&sig);

	/* 2 mm high: too small. */
	sig.x_max = 21600, sig.y_max = 13500, sig.p_max = 1023, sig.x_res = sig.y_res = 100;
	for (i = 0; i < 40; i++)
		add(&sig, 0, 5000 + i * 200, 5000 + (i % 2) * 200);
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);
	assert_non_null(strstr(e.msg, "too small"));
	bb_sig_free(&sig);

	/* Unknown resolution: shares of the axis range. */
	sig.x_max = 4000, sig.y_max = 2000, sig.p_max = 1;
	for (i = 0; i < 40; i++)
		add(&sig, 0, 1000 + i * 4, 1000 + (i % 2) * 400);	/* 3.9 % wide */
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);
	assert_non_null(strstr(e.msg, "of the pad"));
	bb_sig_free(&sig);
	sig.x_max = 4000, sig.y_max = 2000, sig.p_max = 1;
	for (i = 0; i < 40; i++)
		add(&sig, 0, 1000 + i * 10, 1000 + (i % 2) * 400);
	assert_int_equal(bb_sig_check(&sig, &e), 0);
	bb_sig_free(&sig);
}

/* --- JSON --- */

static void
json_shape(void **state)
{
	struct bb_sig sig;
	json_t *j, *s, *p;
	char *dump;
	size_t i, n = 0;

	(void)state;
	load("signature-tablet.evemu", &sig);
	j = bb_sig_json(&sig);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 6);
	s = json_object_get(j, "channels");
	assert_int_equal(json_array_size(s), 4);
	assert_string_equal(json_string_value(json_array_get(s, 0)), "x");
	assert_string_equal(json_string_value(json_array_get(s, 1)), "y");
	assert_string_equal(json_string_value(json_array_get(s, 2)), "t");
	assert_string_equal(json_string_value(json_array_get(s, 3)), "f");
	s = json_object_get(j, "x_range");
	assert_true(json_integer_value(json_array_get(s, 0)) == 0 &&
	    json_integer_value(json_array_get(s, 1)) == 21600);
	s = json_object_get(j, "y_range");
	assert_true(json_integer_value(json_array_get(s, 1)) == 13500);
	s = json_object_get(j, "f_range");
	assert_true(json_integer_value(json_array_get(s, 1)) == 1023);
	s = json_object_get(j, "resolution");
	assert_true(json_integer_value(json_object_get(s, "x")) == 100 &&
	    json_integer_value(json_object_get(s, "y")) == 100);
	s = json_object_get(j, "strokes");
	assert_int_equal(json_array_size(s), 3);
	for (i = 0; i < 3; i++)
		n += json_array_size(json_array_get(s, i));
	assert_int_equal(n, 401);
	p = json_array_get(json_array_get(s, 0), 0);
	assert_int_equal(json_object_size(p), 4);
	assert_true(json_is_integer(json_object_get(p, "x")));
	assert_int_equal(json_integer_value(json_object_get(p, "x")), 5956);
	assert_int_equal(json_integer_value(json_object_get(p, "y")), 5907);
	assert_int_equal(json_integer_value(json_object_get(p, "f")), 40);
	assert_true(json_is_real(json_object_get(p, "t")));
	p = json_array_get(json_array_get(s, 0), 1);
	assert_true(json_real_value(json_object_get(p, "t")) == 0.005);	/* ms */
	dump = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(12));
	assert_non_null(dump);
	assert_non_null(strstr(dump, "{\"x\":5936,\"y\":5869,\"t\":0.005,\"f\":262}"));
	assert_non_null(strstr(dump, "\"t\":2.17,"));
	free(dump);
	json_decref(j);
	bb_sig_free(&sig);

	/* The touchscreen: no resolution. */
	load("signature-touch.evemu", &sig);
	j = bb_sig_json(&sig);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "resolution")));
	s = json_object_get(j, "f_range");
	assert_true(json_integer_value(json_array_get(s, 0)) == 0 &&
	    json_integer_value(json_array_get(s, 1)) == 1);
	json_decref(j);
	bb_sig_free(&sig);

	/* Empty. */
	memset(&sig, 0, sizeof sig);
	j = bb_sig_json(&sig);
	assert_int_equal(json_array_size(json_object_get(j, "strokes")), 0);
	json_decref(j);
}

/* --- rendering --- */

/* The size the rendering should have: the points' box plus 2 mm and the widest stroke's
 * half width on each side. */
static void
expect_size(const struct bb_sig *sig, int dpi, double ux, double uy, int *w, int *h)
{
	double x0 = 1e18, x1 = -1e18, y0 = 1e18, y1 = -1e18, pxmm = dpi / 25.4, r, off;
	int pmax = 0;
	size_t i, j;

	for (i = 0; i < sig->n; i++)
		for (j = 0; j < sig->s[i].n; j++) {
			const struct bb_sig_point *p = &sig->s[i].p[j];

			x0 = fmin(x0, p->x), x1 = fmax(x1, p->x);
			y0 = fmin(y0, p->y), y1 = fmax(y1, p->y);
			pmax = p->pressure > pmax ? p->pressure : pmax;
		}
	r = 0.25 * pxmm * (sig->p_max > sig->p_min ?
	    0.6 + 0.8 * (pmax - sig->p_min) / (double)(sig->p_max - sig->p_min) : 1);
	off = 2 * pxmm + r;
	*w = (int)ceil((x1 - x0) / ux * pxmm + 2 * off);
	*h = (int)ceil((y1 - y0) / uy * pxmm + 2 * off);
}

static void
render_checks(const struct bb_image *im, int dpi, int *dark, int *grey)
{
	int x, y, border = (int)floor(2 * dpi / 25.4) - 1;
	unsigned char v;

	*dark = *grey = 0;
	for (y = 0; y < im->h; y++)
		for (x = 0; x < im->w; x++) {
			v = im->px[(size_t)y * im->w + x];
			if (x < border || y < border || x >= im->w - border || y >= im->h - border)
				if (v != 255)
					fail_msg("border pixel %d,%d is %d", x, y, v);
			*dark += v < 16;
			*grey += v > 16 && v < 240;
		}
}

static void
render(void **state)
{
	struct bb_sig sig;
	struct bb_image im, im2;
	struct bb_err e;
	int w, h, dark, grey, x, y;
	const struct bb_sig_point *p;

	(void)state;
	load("signature-tablet.evemu", &sig);
	assert_int_equal(bb_sig_render(&sig, 300, &im, &e), 0);
	assert_int_equal(im.ch, 1);
	expect_size(&sig, 300, 100, 100, &w, &h);
	/* 77.4 x 34.8 mm of points plus 2 x (2 mm + 0.35 mm) at 300 dpi */
	assert_int_equal(im.w, w);
	assert_int_equal(im.h, h);
	assert_true(im.w > 960 && im.w < 980 && im.h > 460 && im.h < 475);
	render_checks(&im, 300, &dark, &grey);
	assert_true(dark > 2000);
	assert_true(grey > 1000);	/* anti-aliased edges */
	/* Ink under a point in the middle of stroke 1 (x0 5860, y0 4220 at the margin). */
	p = &sig.s[0].p[100];
	x = (int)((p->x - 5860) * 300 / 2540.0 + (im.w - (13600 - 5860) * 300 / 2540.0) / 2);
	y = (int)((p->y - 4220) * 300 / 2540.0 + (im.h - (7699 - 4220) * 300 / 2540.0) / 2);
	assert_true(im.px[(size_t)y * im.w + x] < 64);

	/* 600 dpi: twice the size (within rounding), same picture. */
	assert_int_equal(bb_sig_render(&sig, 600, &im2, &e), 0);
	expect_size(&sig, 600, 100, 100, &w, &h);
	assert_int_equal(im2.w, w);
	assert_int_equal(im2.h, h);
	assert_true(abs(im2.w - 2 * im.w) <= 2 && abs(im2.h - 2 * im.h) <= 2);
	render_checks(&im2, 600, &dark, &grey);
	bb_image_free(&im2);
	/* dpi 0 is the default 300 */
	assert_int_equal(bb_sig_render(&sig, 0, &im2, &e), 0);
	assert_true(im2.w == im.w && im2.h == im.h &&
	    memcmp(im2.px, im.px, (size_t)im.w * im.h) == 0);
	bb_image_free(&im2);
	bb_image_free(&im);
	assert_int_equal(bb_sig_render(&sig, 5000, &im, &e), BB_USAGE);
	assert_null(im.px);
	bb_sig_free(&sig);

	/* The touchscreen: no resolution, taken as 100 mm wide (39.68 units/mm). */
	load("signature-touch.evemu", &sig);
	assert_int_equal(bb_sig_render(&sig, 300, &im, &e), 0);
	expect_size(&sig, 300, 39.68, 39.68, &w, &h);
	assert_int_equal(im.w, w);
	assert_int_equal(im.h, h);
	render_checks(&im, 300, &dark, &grey);
	assert_true(dark > 500 && grey > 500);
	bb_image_free(&im);
	bb_sig_free(&sig);

	/* A dot still draws (the first sample of a stroke is a dot). */
	load("signature-dot.evemu", &sig);
	assert_int_equal(bb_sig_render(&sig, 300, &im, &e), 0);
	assert_true(im.w < 60 && im.h < 60);
	render_checks(&im, 300, &dark, &grey);
	assert_true(dark > 10);
	bb_image_free(&im);
	bb_sig_free(&sig);

	/* Nothing drawn: 4; absurd axes: 65 before any allocation. */
	memset(&sig, 0, sizeof sig);
	assert_int_equal(bb_sig_render(&sig, 300, &im, &e), BB_NOT_MET);
	sig.x_max = 2000000000, sig.y_max = 10, sig.x_res = sig.y_res = 1, sig.p_max = 1;
	add(&sig, 0, 0, 0);
	add(&sig, 0, 2000000000, 5);
	memset(&e, 0, sizeof e);
	assert_int_equal(bb_sig_render(&sig, 300, &im, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "implausible"));
	assert_null(im.px);
	bb_sig_free(&sig);
}

/* Axes over the whole int range and values at its ends: no overflow (UBSan), and a
 * result or a refusal, never an allocation the size of the numbers. */
static void
extremes(void **state)
{
	static const char rec[] = "# EVEMU 1.3\nN: Odd\n"
	    "A: 00 -2147483648 2147483647 0 0 0\nA: 01 -2147483648 2147483647 0 0 0\n"
	    "A: 18 -2147483648 2147483647 0 0 0\n"
	    "E: 0.000000 0003 0000 -2147483648\nE: 0.000000 0003 0001 2147483647\n"
	    "E: 0.000000 0003 0018 2147483647\nE: 0.000000 0000 0000 0000\n"
	    "E: 9999999999.999999 0003 0000 2147483647\nE: 9999999999.999999 0003 0001 -2147483648\n"
	    "E: 9999999999.999999 0003 0018 -2147483647\nE: 9999999999.999999 0000 0000 0000\n";
	struct bb_sig sig;
	struct bb_image im;
	struct bb_err e;
	json_t *j;
	int rc;

	(void)state;
	assert_int_equal(parse_str(rec, &sig, &e), 0);
	assert_int_equal(sig.n, 1);
	assert_int_equal(sig.s[0].n, 2);
	assert_true(sig.s[0].p[1].t > 9999999999.0);
	assert_int_equal(bb_sig_check(&sig, &e), BB_NOT_MET);	/* 2 points */
	rc = bb_sig_render(&sig, 1200, &im, &e);
	assert_true(rc == 0 || rc == BB_DATAERR);
	if (rc == 0) {
		assert_true((long)im.w * im.h <= BB_IMAGE_MAX_PIXELS);
		bb_image_free(&im);
	}
	j = bb_sig_json(&sig);
	assert_non_null(j);
	json_decref(j);
	bb_sig_free(&sig);
}

/* --- the device, as far as it can be tested here --- */

static void
device_refusals(void **state)
{
	struct bb_sig sig;
	struct bb_err e;

	(void)state;
	assert_int_equal(bb_sig_read_device("/nonexistent/event99", 1000, &sig, &e),
	    BB_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "/nonexistent/event99"));
	assert_null(sig.s);
	assert_int_equal(bb_sig_read_device("/dev/null", 1000, &sig, &e), BB_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "not an input event device"));
	assert_null(sig.s);
}

/* bb_sig_pads lists input devices only: an eventN that is no device, other names, a
 * missing directory give nothing (and no crash). */
static void
pads_only_devices(void **state)
{
	char dir[64], path[128];
	json_t *a;
	FILE *f;

	(void)state;
	assert_int_equal(scratch_make(dir, "pads"), 0);
	snprintf(path, sizeof path, "%s/event0", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("not a device", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/event1", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/mouse0", dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	a = bb_sig_pads(dir);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	snprintf(path, sizeof path, "%s/none", dir);
	a = bb_sig_pads(path);
	assert_true(json_is_array(a) && json_array_size(a) == 0);
	json_decref(a);
	scratch_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tablet),
		cmocka_unit_test(touch),
		cmocka_unit_test(touch_mt_only),
		cmocka_unit_test(dot),
		cmocka_unit_test(decoder_contact),
		cmocka_unit_test(decoder_limits),
		cmocka_unit_test(malformed),
		cmocka_unit_test(tolerated),
		cmocka_unit_test(too_many_strokes),
		cmocka_unit_test(truncations),
		cmocka_unit_test(pads_only_devices),
		cmocka_unit_test(check),
		cmocka_unit_test(json_shape),
		cmocka_unit_test(render),
		cmocka_unit_test(extremes),
		cmocka_unit_test(device_refusals),
	};

	return cmocka_run_group_tests_name("sig", tests, NULL, NULL);
}
