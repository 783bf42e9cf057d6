/* Images: see image.h. The decoders and encoders per format are in imagepnm.c,
 * imagepng.c and imagejpeg.c (imageint.h); here: allocation, the checks they share,
 * the dispatch by magic number and the geometry. */
#include "img/imageint.h"
#include "diag.h"
#include "exit.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
bb_image_new(struct bb_image *im, int w, int h, int ch, struct bb_err *e)
{
	memset(im, 0, sizeof *im);
	if (w <= 0 || h <= 0 || (ch != 1 && ch != 2 && ch != 3) ||
	    (long)w * h > BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_DATAERR, "image: %dx%d: not a size an image may have", w, h);
	if ((im->px = calloc((size_t)w * (size_t)h, (size_t)ch)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	im->w = w;
	im->h = h;
	im->ch = ch;
	return 0;
}

void
bb_image_free(struct bb_image *im)
{
	free(im->px);
	memset(im, 0, sizeof *im);
}

/* --- decoding --- */

const char *
img_name(const char *name)
{
	return name != NULL && *name != '\0' ? name : "<image>";
}

/* A library's message made fit for one line of ours: printable ASCII only, bounded. */
void
img_clean_msg(char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s) || (unsigned char)*s > 126)
			*s = '?';
}

/* The size check every decoder makes from the header, before allocating. */
int
img_check_size(const char *name, unsigned long w, unsigned long h, struct bb_err *e)
{
	if (w == 0 || h == 0)
		return bb_fail(e, BB_DATAERR, "%s: image has no pixels (%lux%lu)", img_name(name), w, h);
	if (w > (unsigned long)BB_IMAGE_MAX_PIXELS || h > (unsigned long)BB_IMAGE_MAX_PIXELS ||
	    (unsigned long long)w * h > (unsigned long long)BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_DATAERR, "%s: %lux%lu pixels: more than the %ld allowed",
		    img_name(name), w, h, (long)BB_IMAGE_MAX_PIXELS);
	return 0;
}

int
img_check_encodable(const struct bb_image *im, const char *what, int allow_alpha,
    struct bb_err *e)
{
	if (im == NULL || im->px == NULL || im->w <= 0 || im->h <= 0 ||
	    (long)im->w * im->h > BB_IMAGE_MAX_PIXELS ||
	    (im->ch != 1 && im->ch != 3 && !(allow_alpha && im->ch == 2)))
		return bb_fail(e, BB_SOFTWARE, "%s: cannot encode a %dx%d image of %d channels",
		    what, im != NULL ? im->w : 0, im != NULL ? im->h : 0, im != NULL ? im->ch : 0);
	return 0;
}

int
bb_image_decode(const unsigned char *buf, size_t len, const char *name,
    struct bb_image *out, struct bb_err *e)
{
	static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	memset(out, 0, sizeof *out);
	if (buf == NULL || len == 0)
		return bb_fail(e, BB_DATAERR, "%s: empty, not an image", img_name(name));
	if (len >= 8 && memcmp(buf, png_magic, 8) == 0)
		return img_decode_png(buf, len, name, out, e);
	if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
		return img_decode_jpeg(buf, len, name, out, e);
	if (len >= 2 && buf[0] == 'P' && (buf[1] == '5' || buf[1] == '6'))
		return img_decode_pnm(buf, len, name, out, e);
	return bb_fail(e, BB_DATAERR, "%s: not a PNG, JPEG or PPM/PGM image%s", img_name(name),
	    len < 8 ? " (too short)" : "");
}

/* --- pixels --- */

static int
check_input(const struct bb_image *in, const char *what, struct bb_err *e)
{
	if (in == NULL || in->px == NULL || in->w <= 0 || in->h <= 0 || in->ch < 1 ||
	    in->ch > 3)
		return bb_fail(e, BB_SOFTWARE, "%s: not an image", what);
	return 0;
}

static unsigned char
clamp255(long v)
{
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* OpenCV's COLOR_RGB2GRAY exactly, so detection sees the grey OpenCV's does: 4.x uses
 * 15-bit coefficients (RY15, GY15, BY15 in imgproc/src/color.hpp, rounding 1 << 14). The
 * older 14-bit form (4899, 9617, 1868 >> 14) differs by one on 43864 of the 16777216
 * colours; this one matches python3-opencv 4.6 on all of them. */
int
bb_image_grey(const struct bb_image *in, struct bb_image *out, struct bb_err *e)
{
	size_t i, n;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = check_input(in, "grey", e)) != 0)
		return rc;
	if ((rc = bb_image_new(out, in->w, in->h, 1, e)) != 0)
		return rc;
	n = (size_t)in->w * (size_t)in->h;
	if (in->ch != 3) {
		/* Already grey (with alpha when ch is 2: dropped). */
		for (i = 0; i < n; i++)
			out->px[i] = in->px[i * (size_t)in->ch];
		return 0;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *p = in->px + 3 * i;

		out->px[i] = (unsigned char)((p[0] * 9798u + p[1] * 19235u + p[2] * 3735u +
		    16384u) >> 15);
	}
	return 0;
}

/* Area resampling along one axis: output o covers input [o*in/out, (o+1)*in/out), each
 * input sample weighted by how much of it lies inside (OpenCV's INTER_AREA). */
struct span {
	int first, n;		/* input indices first .. first+n-1 */
	size_t w;		/* offset of its weights */
};

static int
spans(int in_n, int out_n, struct span **sp, float **wt)
{
	double scale = (double)in_n / out_n;
	int o, i, per = (int)ceil(scale) + 1;
	size_t k = 0;

	*sp = malloc((size_t)out_n * sizeof **sp);
	*wt = malloc((size_t)out_n * (size_t)per * sizeof **wt);
	if (*sp == NULL || *wt == NULL)
		return -1;
	for (o = 0; o < out_n; o++) {
		double a = o * scale, b = (o + 1) * scale;
		int i0 = (int)floor(a), i1 = (int)ceil(b);

		if (o == out_n - 1)
			b = in_n;	/* no rounding loss at the far edge */
		if (i1 > in_n)
			i1 = in_n;
		if (i1 - i0 > per)
			i1 = i0 + per;
		(*sp)[o].first = i0;
		(*sp)[o].w = k;
		(*sp)[o].n = 0;
		for (i = i0; i < i1; i++) {
			double lo = a > i ? a : i, hi = b < i + 1 ? b : i + 1;

			if (hi - lo <= 1e-12)
				continue;
			if ((*sp)[o].n == 0)
				(*sp)[o].first = i;
			(*wt)[k++] = (float)((hi - lo) / (b - a));
			(*sp)[o].n++;
		}
	}
	return 0;
}

int
bb_image_shrink(const struct bb_image *in, int w, int h, struct bb_image *out,
    struct bb_err *e)
{
	struct span *sx = NULL, *sy = NULL;
	float *wx = NULL, *wy = NULL, *tmp = NULL;
	int rc, x, y, c, ch;

	memset(out, 0, sizeof *out);
	if ((rc = check_input(in, "shrink", e)) != 0)
		return rc;
	if (w <= 0 || h <= 0 || w > in->w || h > in->h)
		return bb_fail(e, BB_SOFTWARE, "shrink: %dx%d to %dx%d is not a reduction",
		    in->w, in->h, w, h);
	ch = in->ch;
	if ((rc = bb_image_new(out, w, h, ch, e)) != 0)
		return rc;
	if (w == in->w && h == in->h) {
		memcpy(out->px, in->px, (size_t)w * (size_t)h * (size_t)ch);
		return 0;
	}
	/* Rows first into a float buffer of in->h x w, then columns. */
	if (spans(in->w, w, &sx, &wx) != 0 || spans(in->h, h, &sy, &wy) != 0 ||
	    (tmp = malloc((size_t)in->h * (size_t)w * (size_t)ch * sizeof *tmp)) == NULL) {
		bb_image_free(out);
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto done;
	}
	for (y = 0; y < in->h; y++) {
		const unsigned char *row = in->px + (size_t)y * (size_t)in->w * (size_t)ch;
		float *t = tmp + (size_t)y * (size_t)w * (size_t)ch;

		for (x = 0; x < w; x++) {
			const struct span *s = &sx[x];

			for (c = 0; c < ch; c++) {
				float v = 0;
				int k;

				for (k = 0; k < s->n; k++)
					v += wx[s->w + (size_t)k] *
					    row[(size_t)(s->first + k) * (size_t)ch + (size_t)c];
				t[(size_t)x * (size_t)ch + (size_t)c] = v;
			}
		}
	}
	for (y = 0; y < h; y++) {
		const struct span *s = &sy[y];
		unsigned char *o = out->px + (size_t)y * (size_t)w * (size_t)ch;
		size_t i, rowlen = (size_t)w * (size_t)ch;

		for (i = 0; i < rowlen; i++) {
			float v = 0;
			int k;

			for (k = 0; k < s->n; k++)
				v += wy[s->w + (size_t)k] *
				    tmp[(size_t)(s->first + k) * rowlen + i];
			o[i] = clamp255((long)(v + 0.5f));
		}
	}
	rc = 0;
done:
	free(sx);
	free(sy);
	free(wx);
	free(wy);
	free(tmp);
	return rc;
}

/* Output pixel centre (ox + 0.5, oy + 0.5) is (dx, dy) from the window centre; the window
 * turned counter-clockwise by a (on screen, y down) puts it at
 *	x = cx + dx cos a + dy sin a,	y = cy - dx sin a + dy cos a
 * in the input, sampled bilinearly between the four nearest pixel centres. So a head
 * tilted counter-clockwise by a comes out upright with angle a. */
int
bb_image_crop_rotate(const struct bb_image *in, double cx, double cy, double angle,
    int w, int h, unsigned char fill, struct bb_image *out, struct bb_err *e)
{
	double r, ca, sa;
	int rc, ox, oy, c, ch;
	size_t stride;

	memset(out, 0, sizeof *out);
	if ((rc = check_input(in, "crop", e)) != 0)
		return rc;
	if (!isfinite(cx) || !isfinite(cy) || !isfinite(angle) || fabs(cx) > 1e7 ||
	    fabs(cy) > 1e7)
		return bb_fail(e, BB_SOFTWARE, "crop: centre or angle not a number");
	if ((rc = bb_image_new(out, w, h, in->ch, e)) != 0)
		return rc;
	ch = in->ch;
	stride = (size_t)in->w * (size_t)ch;
	/* Quarter turns exactly, so they move pixels without blurring them. */
	r = fmod(angle, 360.0);
	if (r < 0)
		r += 360.0;
	if (r == 0) {
		ca = 1, sa = 0;
	} else if (r == 90) {
		ca = 0, sa = 1;
	} else if (r == 180) {
		ca = -1, sa = 0;
	} else if (r == 270) {
		ca = 0, sa = -1;
	} else {
		ca = cos(angle * M_PI / 180.0);
		sa = sin(angle * M_PI / 180.0);
	}
	for (oy = 0; oy < h; oy++) {
		double dy = oy + 0.5 - h / 2.0;
		unsigned char *o = out->px + (size_t)oy * (size_t)w * (size_t)ch;

		for (ox = 0; ox < w; ox++, o += ch) {
			double dx = ox + 0.5 - w / 2.0;
			double u = cx + dx * ca + dy * sa - 0.5;
			double v = cy - dx * sa + dy * ca - 0.5;
			double fu, fv;
			long x0, y0;

			if (!(u > -1.0 && v > -1.0 && u < in->w && v < in->h)) {
				memset(o, fill, (size_t)ch);
				continue;
			}
			x0 = (long)floor(u);
			y0 = (long)floor(v);
			fu = u - (double)x0;
			fv = v - (double)y0;
			if (x0 >= 0 && y0 >= 0 && x0 + 1 < in->w && y0 + 1 < in->h) {
				const unsigned char *p = in->px + (size_t)y0 * stride +
				    (size_t)x0 * (size_t)ch;

				for (c = 0; c < ch; c++) {
					double top = p[c] + fu * (p[c + ch] - p[c]);
					double bot = p[stride + (size_t)c] + fu *
					    (p[stride + (size_t)(c + ch)] - p[stride + (size_t)c]);

					o[c] = clamp255(lround(top + fv * (bot - top)));
				}
				continue;
			}
			/* At the border: neighbours outside the input are fill. */
			for (c = 0; c < ch; c++) {
				double q[4];
				int k;

				for (k = 0; k < 4; k++) {
					long xx = x0 + (k & 1), yy = y0 + (k >> 1);

					q[k] = xx >= 0 && yy >= 0 && xx < in->w && yy < in->h ?
					    in->px[(size_t)yy * stride + (size_t)xx * (size_t)ch +
					    (size_t)c] : fill;
				}
				o[c] = clamp255(lround((q[0] + fu * (q[1] - q[0])) * (1 - fv) +
				    (q[2] + fu * (q[3] - q[2])) * fv));
			}
		}
	}
	return 0;
}

/* YUYV (YUY2): Y0 U Y1 V for two pixels. BT.601 limited range (Y 16-235, C 16-240), the
 * V4L2 default colorspace for YUYV webcams, in the usual 8-bit fixed point:
 *	R = (298 C + 409 E + 128) >> 8
 *	G = (298 C - 100 D - 208 E + 128) >> 8
 *	B = (298 C + 516 D + 128) >> 8		C = Y - 16, D = U - 128, E = V - 128 */
static unsigned char
yuv_clip(long v)
{
	return v < 0 ? 0 : clamp255(v >> 8);
}

int
bb_image_from_yuyv_stride(const unsigned char *buf, size_t len, int w, int h,
    size_t stride, struct bb_image *out, struct bb_err *e)
{
	size_t need;
	int rc, x, y;

	memset(out, 0, sizeof *out);
	if (w <= 0 || h <= 0 || (long)w * h > BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %dx%d is not a frame size", w, h);
	if (w % 2 != 0)
		return bb_fail(e, BB_DATAERR, "YUYV frame: odd width %d", w);
	if (stride < (size_t)w * 2)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %zu bytes a line, %d needed", stride,
		    2 * w);
	if (stride > SIZE_MAX / (size_t)h)
		return bb_fail(e, BB_DATAERR, "YUYV frame: line length %zu too large", stride);
	need = stride * (size_t)(h - 1) + (size_t)w * 2;
	if (buf == NULL || len < need)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %zu bytes, %zu needed for %dx%d", len,
		    need, w, h);
	if ((rc = bb_image_new(out, w, h, 3, e)) != 0)
		return rc;
	for (y = 0; y < h; y++) {
		const unsigned char *s = buf + (size_t)y * stride;
		unsigned char *o = out->px + (size_t)y * (size_t)w * 3;

		for (x = 0; x < w; x += 2, s += 4) {
			long d = s[1] - 128, ee = s[3] - 128;
			long rv = 409 * ee + 128, gv = -100 * d - 208 * ee + 128, bv = 516 * d + 128;
			int k;

			for (k = 0; k < 2; k++, o += 3) {
				long c = 298L * (s[2 * k] - 16);

				o[0] = yuv_clip(c + rv);
				o[1] = yuv_clip(c + gv);
				o[2] = yuv_clip(c + bv);
			}
		}
	}
	return 0;
}

int
bb_image_from_yuyv(const unsigned char *buf, size_t len, int w, int h,
    struct bb_image *out, struct bb_err *e)
{
	if (w <= 0)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %dx%d is not a frame size", w, h);
	return bb_image_from_yuyv_stride(buf, len, w, h, (size_t)w * 2, out, e);
}
