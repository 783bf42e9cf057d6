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

