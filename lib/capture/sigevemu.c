/* Signatures from evemu recordings (evemu-record's text), through the decoder of sig.c:
 * see sig.h. */
#include "capture/sigdec.h"
#include "diag.h"
#include "exit.h"

#include <limits.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A recording being read: the axes and keys described so far, the decoder from the
 * first E: line on. */
struct reader {
	struct axes ax;
	struct bb_sig *sig;
	struct bb_sig_decoder *d;
	int mode;
	const char *name;
	size_t lineno;
};

/* A line of n bytes at p that is no text: a reason, else NULL. */
static const char *
binary(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "binary data (a control character)";
	}
	return NULL;
}

/* A comment line of n bytes at p: skipped unparsed, so it may be longer than other lines
 * (evemu's "# DMI:" line alone can pass 256 bytes); the first line says the version. A
 * reason, else NULL. */
static const char *
comment(const char *p, size_t n, size_t lineno)
{
	char line[BB_SIG_MAX_LINE + 1];
	int major, minor;

	if (n > 4096)
		return "comment longer than 4096 bytes";
	if (lineno == 1 && n >= 7 && memcmp(p, "# EVEMU", 7) == 0) {
		memcpy(line, p, n < BB_SIG_MAX_LINE ? n : BB_SIG_MAX_LINE);
		line[n < BB_SIG_MAX_LINE ? n : BB_SIG_MAX_LINE] = '\0';
		if (sscanf(line, "# EVEMU %d.%d", &major, &minor) != 2 || major != 1)
			return "not an evemu 1.x recording";
	}
	return NULL;
}

/* "A: %02x %d %d %d %d %d": code min max fuzz flat resolution; files older than evemu
 * 1.1 have no resolution. A reason, else NULL. */
static const char *
axis_line(struct axes *ax, const char *s)
{
	unsigned code;
	int v[5], nf;

	if (field_hex(&s, 2, &code) != 0 || code >= ABS_CNT)
		return "A: wants a hex axis code below 0x40";
	for (nf = 0; nf < 5 && !line_end(s, 0); nf++)
		if (field_int(&s, &v[nf]) != 0)
			return "A: wants decimal min max fuzz flat [resolution]";
	if (nf < 4 || !line_end(s, 0))
		return "A: wants decimal min max fuzz flat [resolution]";
	if (v[0] > v[1])
		return "A: minimum above maximum";
	if (ax->have[code])
		return "A: line repeated for the same axis";
	ax->have[code] = 1;
	ax->min[code] = v[0];
	ax->max[code] = v[1];
	ax->res[code] = nf == 5 ? v[4] : 0;
	return NULL;
}

/* A line of the device's description (N, I, P, B, L, S, A), after "X:": checked, and
 * what the decoder needs kept. A reason, else NULL. */
static const char *
desc_line(struct axes *ax, char type, const char *s)
{
	unsigned char bits[9];
	unsigned hv;
	int k, v;

	switch (type) {
	case 'N':
		return line_end(s, 0) ? "N: without a device name" : NULL;
	case 'I':
		for (k = 0; k < 4; k++)
			if (field_hex(&s, 4, &hv) != 0)
				return "I: wants 4 hex numbers (bus vendor product version)";
		return line_end(s, 0) ? NULL :
		    "I: wants 4 hex numbers (bus vendor product version)";
	case 'P':
		return hex_bytes(s, 8, bits) != 0 ? "P: wants up to 8 hex bytes" : NULL;
	case 'B':
		memset(bits, 0, sizeof bits);
		if (hex_bytes(s, 9, bits) != 0)
			return "B: wants an event type and up to 8 hex bytes";
		/* The key mask, 8 bytes a line as evemu writes it: whether the device has
		 * BTN_TOUCH (then it is up until said otherwise, as in the kernel, which
		 * never sends the initial 0). */
		if (bits[0] == EV_KEY) {
			k = BTN_TOUCH / 8 - 8 * ax->keylines++;
			if (k >= 0 && k < 8 && (bits[1 + k] >> (BTN_TOUCH % 8) & 1))
				ax->has_touch = 1;
		}
		return NULL;
	case 'L':
	case 'S':
		if (field_hex(&s, 2, &hv) != 0 || field_int(&s, &v) != 0 || !line_end(s, 0))
			return "L:/S: wants a hex code and a value";
		return NULL;
	case 'A':
		return axis_line(ax, s);
	default:
		return "unknown evemu line type";
	}
}

/* An E: line, after "E:": the event to the decoder, which the first one starts. 0; -1
 * and *why for a line that is wrong; else the decoder's status (e set). */
static int
event_line(struct reader *r, const char *s, const char **why, struct bb_err *e)
{
	unsigned type, code;
	double t;
	int v, st;

	if (field_time(&s, &t) != 0)
		return *why = "E: wants the time as sec.usec (6 digits)", -1;
	if (field_hex(&s, 4, &type) != 0 || field_hex(&s, 4, &code) != 0)
		return *why = "E: wants hex type and code (up to 4 digits)", -1;
	if (field_int(&s, &v) != 0 || !line_end(s, 1))
		return *why = "E: wants a decimal 32-bit value", -1;
	if (r->d == NULL) {
		if ((*why = setup_axes(&r->ax, r->sig, &r->mode)) != NULL)
			return -1;
		if ((r->d = bb_sig_decoder_new(r->sig)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		r->d->mode = r->mode;
		if (r->ax.has_touch)
			r->d->touch = 0;
	}
	/* Values of an axis the recording never described have no scale. */
	if (type == EV_ABS && code < ABS_CNT && !r->ax.have[code] &&
	    (code == ABS_X || code == ABS_Y || code == ABS_PRESSURE ||
	    code == ABS_MT_POSITION_X || code == ABS_MT_POSITION_Y))
		return *why = "event for an axis without an A: line", -1;
	bb_sig_decoder_event(r->d, t, (int)type, (int)code, v);
	if ((st = bb_sig_decoder_error(r->d, e)) != 0)
		bb_err_context(e, "%s:%zu", r->name, r->lineno);
	return st;
}

/* One line of n bytes at p (no newline): 0; -1 and *why; else a status (e set). */
static int
one_line(struct reader *r, const char *p, size_t n, const char **why, struct bb_err *e)
{
	char line[BB_SIG_MAX_LINE + 1];

	if ((*why = binary(p, n)) != NULL)
		return -1;
	if (n > 0 && p[0] == '#')
		return (*why = comment(p, n, r->lineno)) != NULL ? -1 : 0;
	if (n > BB_SIG_MAX_LINE)
		return *why = "line longer than 256 bytes", -1;
	memcpy(line, p, n);
	line[n] = '\0';
	if (line_end(line, 0))
		return 0;
	if (n < 2 || line[1] != ':' || !(n == 2 || line[2] == ' ' || line[2] == '\t'))
		return *why = "not an evemu line (\"X: ...\")", -1;
	if (line[0] != 'E' && r->d != NULL)
		return *why = "device description after the events", -1;
	if (line[0] == 'E')
		return event_line(r, line + 2, why, e);
	return (*why = desc_line(&r->ax, line[0], line + 2)) != NULL ? -1 : 0;
}

int
bb_sig_read_evemu(const char *buf, size_t len, const char *name, struct bb_sig *sig,
    struct bb_err *e)
{
	struct reader r;
	const char *p = buf, *end = buf + len, *nl, *why = NULL;
	size_t n;
	int st;

	memset(sig, 0, sizeof *sig);
	memset(&r, 0, sizeof r);
	r.sig = sig;
	r.mode = MODE_ST;
	r.name = name != NULL ? name : "evemu recording";
	if (len > (size_t)BB_SIG_MAX_RECORDING)
		return bb_fail(e, BB_DATAERR, "%s: larger than 16 MiB: not a signature recording",
		    r.name);
	while (p < end) {
		r.lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl ? nl : end) - p;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if ((st = one_line(&r, p, n, &why, e)) != 0) {
			bb_sig_decoder_free(r.d);
			bb_sig_free(sig);
			if (st < 0)
				return bb_fail(e, BB_DATAERR, "%s:%zu: %s", r.name, r.lineno, why);
			return st;
		}
		p = nl ? nl + 1 : end;
	}
	if (r.d == NULL) {
		/* No events: still the axes (when described), so an empty signature says
		 * where it came from; the pressure range as the decoder would have set it. */
		if (setup_axes(&r.ax, sig, &r.mode) != NULL)
			memset(sig, 0, sizeof *sig);
		if (sig->p_max <= sig->p_min) {
			sig->p_min = 0;
			sig->p_max = 1;
		}
	}
	bb_sig_decoder_free(r.d);
	return 0;
}
