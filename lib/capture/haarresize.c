/* The detector's pyramid: bb_haar_resize of haar.h, OpenCV 4.6's
 * resize(INTER_LINEAR_EXACT) bit for bit. */
#include "capture/haarint.h"
#include "diag.h"
#include "exit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- the pyramid --- */

/* OpenCV 4.6's cascade makes its levels with resize(INTER_LINEAR_EXACT): 8-bit fixed
 * point weights, the horizontal pass kept with 8 fractional bits, the vertical one
 * rounded from 16 (imgproc/src/resize.cpp, resize_bitExact, interpolationLinear).
 * Per axis: the first source pixel and the weight of the second (of 256) for each
 * destination pixel, and the range [lo, hi) that interpolates; before it the first
 * source pixel is copied, from hi on the last. */
struct axis {
	int *ofs;
	int *c1;
	int lo, hi;
};

static void
axis_coefs(int dn, int sn, struct axis *a)
{
	double scale = 1. / ((double)dn / sn);

	a->lo = 0;
	a->hi = dn;
	for (int d = 0; d < dn; d++) {
		double f = scale * (d + 0.5) - 0.5;
		int i = (int)f;

		if ((double)i > f)	/* floor */
			i--;
		a->ofs[d] = 0;
		a->c1[d] = 0;
		if (i >= 0 && sn > 1) {
			if (i < sn - 1) {
				a->ofs[d] = i;
				a->c1[d] = round_even((f - i) * 256);
			} else {
				a->ofs[d] = sn - 1;
				if (d < a->hi)
					a->hi = d;
			}
		} else if (d + 1 > a->lo)
			a->lo = d + 1;
	}
}

/* One source row through the horizontal pass: 8.8 fixed point. */
static void
hpass(const unsigned char *src, const struct axis *a, int dw, uint32_t *out)
{
	int d = 0;

	for (; d < a->lo && d < dw; d++)
		out[d] = (uint32_t)src[0] << 8;
	for (; d < a->hi; d++) {
		const unsigned char *p = src + a->ofs[d];

		out[d] = (uint32_t)(p[0] * (256 - a->c1[d]) + p[1] * a->c1[d]);
	}
	for (; d < dw; d++)
		out[d] = (uint32_t)src[a->ofs[dw - 1]] << 8;
}

/* Exactly half both ways OpenCV computes as INTER_AREA, the 2x2 mean, which it is bit
 * for bit. */
static void
half(const struct bb_image *in, struct bb_image *out)
{
	int w = out->w;

	for (int y = 0; y < out->h; y++) {
		const unsigned char *a = in->px + (size_t)(2 * y) * (size_t)in->w;
		const unsigned char *b = a + in->w;
		unsigned char *d = out->px + (size_t)y * (size_t)w;

		for (int x = 0; x < w; x++)
			d[x] = (unsigned char)((a[2 * x] + a[2 * x + 1] + b[2 * x] +
			    b[2 * x + 1] + 2) >> 2);
	}
}

/* The two passes of INTER_LINEAR_EXACT into out (allocated, its size the target), row
 * by row: each source row through hpass at most once, kept in one of two buffers. */
static int
linear(const struct bb_image *in, struct bb_image *out, struct bb_err *e)
{
	int sw = in->w, w = out->w, h = out->h, rc = 0;
	struct axis ax = { NULL, NULL, 0, 0 }, ay = { NULL, NULL, 0, 0 };
	uint32_t *rows[2] = { NULL, NULL };
	int have[2] = { -1, -1 };

	ax.ofs = malloc((size_t)w * sizeof *ax.ofs);
	ax.c1 = malloc((size_t)w * sizeof *ax.c1);
	ay.ofs = malloc((size_t)h * sizeof *ay.ofs);
	ay.c1 = malloc((size_t)h * sizeof *ay.c1);
	rows[0] = malloc((size_t)w * sizeof *rows[0]);
	rows[1] = malloc((size_t)w * sizeof *rows[1]);
	if (ax.ofs == NULL || ax.c1 == NULL || ay.ofs == NULL || ay.c1 == NULL ||
	    rows[0] == NULL || rows[1] == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto done;
	}
	axis_coefs(w, sw, &ax);
	axis_coefs(h, in->h, &ay);
	for (int y = 0; y < h; y++) {
		unsigned char *d = out->px + (size_t)y * (size_t)w;
		int r0, r1;

		if (y < ay.lo || y >= ay.hi) {
			/* Above or below the interpolated rows: one source row, rounded. */
			r0 = y < ay.lo ? 0 : ay.ofs[h - 1];
			hpass(in->px + (size_t)r0 * (size_t)sw, &ax, w, rows[0]);
			have[0] = r0;
			for (int x = 0; x < w; x++)
				d[x] = (unsigned char)((rows[0][x] + 128) >> 8);
			continue;
		}
		r0 = ay.ofs[y];
		r1 = r0 + 1;
		/* Two row buffers: rows[0] holds source row have[0], rows[1] have[1]; going
		 * down, the second usually becomes the first. */
		if (have[0] != r0 && have[1] == r0) {
			uint32_t *t = rows[0];

			rows[0] = rows[1];
			rows[1] = t;
			have[0] = have[1];
			have[1] = -1;
		}
		if (have[0] != r0) {
			hpass(in->px + (size_t)r0 * (size_t)sw, &ax, w, rows[0]);
			have[0] = r0;
		}
		if (have[1] != r1) {
			hpass(in->px + (size_t)r1 * (size_t)sw, &ax, w, rows[1]);
			have[1] = r1;
		}
		{
			const uint32_t *s0 = rows[0], *s1 = rows[1];
			uint32_t c1 = (uint32_t)ay.c1[y], c0 = 256 - c1;

			for (int x = 0; x < w; x++) {
				uint32_t v = (s0[x] * c0 + s1[x] * c1 + 32768) >> 16;

				d[x] = (unsigned char)(v > 255 ? 255 : v);
			}
		}
	}
done:
	free(ax.ofs);
	free(ax.c1);
	free(ay.ofs);
	free(ay.c1);
	free(rows[0]);
	free(rows[1]);
	return rc;
}

int
bb_haar_resize(const struct bb_image *in, int w, int h, struct bb_image *out,
    struct bb_err *e)
{
	int rc;

	memset(out, 0, sizeof *out);
	if (in->ch != 1 || in->px == NULL || in->w <= 0 || in->h <= 0)
		return bb_fail(e, BB_SOFTWARE, "bb_haar_resize: not a grey image");
	if (w <= 0 || h <= 0 || w > in->w || h > in->h)
		return bb_fail(e, BB_SOFTWARE, "bb_haar_resize: %dx%d to %dx%d: shrinking only",
		    in->w, in->h, w, h);
	if ((rc = bb_image_new(out, w, h, 1, e)) != 0)
		return rc;
	if (w == in->w && h == in->h)
		memcpy(out->px, in->px, (size_t)w * (size_t)h);
	else if (w * 2 == in->w && h * 2 == in->h)
		half(in, out);
	else if ((rc = linear(in, out, e)) != 0)
		bb_image_free(out);
	return rc;
}
