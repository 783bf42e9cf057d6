/* Signatures: the checks, the JSON of the strokes and the rendering (see sig.h). */
#include "capture/sig.h"
#include "diag.h"
#include "exit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

