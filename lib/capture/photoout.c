/* What comes of a measured frame (photo.h): the crop, the measures as JSON, the best
 * capture's order, the advice, the mirror image. */
#include "capture/photoint.h"
#include "diag.h"
#include "exit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- output ---- */

int
bb_photo_crop(const struct bb_image *frame, const struct bb_photo_result *r,
    struct bb_image *out, struct bb_err *e)
{
	struct bb_image win = { 0 };
	long w, h;
	int st;

	if (r == NULL || out == NULL)
		return bb_fail(e, BB_SOFTWARE, "photo: crop: no result");
	if ((st = photo_check_image(frame, "frame", e)) != 0)
		return st;
	if (r->faces < 1 || isnan(r->crop_scale) || isnan(r->crop_cx) || isnan(r->crop_cy) ||
	    isnan(r->crop_angle) || r->out_w <= 0 || r->out_h <= 0)
		return bb_fail(e, BB_SOFTWARE, "photo: crop: no face to crop to");
	if (r->crop_scale * r->out_h < r->out_h)
		return bb_fail(e, BB_SOFTWARE, "photo: crop: the frame gives %.0f rows for %d: "
		    "it would need upscaling", r->crop_scale * r->out_h, r->out_h);
	w = lround(r->out_w * r->crop_scale);
	h = lround(r->out_h * r->crop_scale);
	if (w < r->out_w)
		w = r->out_w;
	if (h < r->out_h)
		h = r->out_h;
	if (w > frame->w * 2L || h > frame->h * 2L)
		return bb_fail(e, BB_SOFTWARE, "photo: crop: %ldx%ld from a %dx%d frame", w, h,
		    frame->w, frame->h);
	/* 0xC0: the reference's grey, should a rounding pixel fall outside the frame */
	if ((st = bb_image_crop_rotate(frame, r->crop_cx + 0.5, r->crop_cy + 0.5, r->crop_angle, (int)w,
	    (int)h, 0xC0, &win, e)) != 0)
		return st;
	if (w == r->out_w && h == r->out_h) {
		*out = win;
		return 0;
	}
	st = bb_image_shrink(&win, r->out_w, r->out_h, out, e);
	bb_image_free(&win);
	return st;
}

static json_t *
num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

json_t *
bb_photo_json(const struct bb_photo_result *r)
{
	json_t *o, *ms, *m;
	size_t i;

	if (r == NULL)
		return NULL;
	o = json_object();
	ms = json_object();
	if (o == NULL || ms == NULL)
		goto fail;
	for (i = 0; i < r->nm && i < sizeof r->m / sizeof r->m[0]; i++) {
		const struct bb_measure *x = &r->m[i];

		if (x->name == NULL)
			continue;
		m = json_pack("{s:o, s:o, s:o, s:b, s:b, s:o, s:o}",
		    "value", num_or_null(x->value),
		    "min", num_or_null(x->min),
		    "max", num_or_null(x->max),
		    "pass", x->pass,
		    "mandatory", x->mandatory,
		    "hint_de", x->hint_de ? json_string(x->hint_de) : json_null(),
		    "hint_en", x->hint_en ? json_string(x->hint_en) : json_null());
		if (m == NULL || json_object_set_new(ms, x->name, m) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "faces", json_integer(r->faces)) != 0 ||
	    json_object_set_new(o, "compliant", json_boolean(r->compliant)) != 0 ||
	    json_object_set_new(o, "mandatory_failed", json_integer(r->mandatory_failed)) != 0 ||
	    json_object_set_new(o, "optional_failed", json_integer(r->optional_failed)) != 0)
		goto fail;
	if (r->faces > 0) {
		json_t *g = json_pack("{s:{s:i,s:i,s:i,s:i}, s:{s:i,s:i,s:i,s:i}, "
		    "s:{s:i,s:i,s:i,s:i}, s:b, s:o, s:{s:o,s:o,s:o,s:o,s:i,s:i}}",
		    "face", "x", r->face.x, "y", r->face.y, "w", r->face.w, "h", r->face.h,
		    "eye_image_left", "x", r->eye_l.x, "y", r->eye_l.y, "w", r->eye_l.w,
		    "h", r->eye_l.h,
		    "eye_image_right", "x", r->eye_r.x, "y", r->eye_r.y, "w", r->eye_r.w,
		    "h", r->eye_r.h,
		    "eyes_estimated", r->eye_l.w == 0 || r->eye_r.w == 0,
		    "roll", num_or_null(r->roll),
		    "crop", "cx", num_or_null(r->crop_cx), "cy", num_or_null(r->crop_cy),
		    "angle", num_or_null(r->crop_angle), "scale", num_or_null(r->crop_scale),
		    "out_w", r->out_w, "out_h", r->out_h);

		if (g == NULL || json_object_update(o, g) != 0) {
			json_decref(g);
			goto fail;
		}
		json_decref(g);
	}
	if (json_object_set_new(o, "measures", ms) != 0) {
		ms = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(ms);
	json_decref(o);
	return NULL;
}

static int
met(const struct bb_photo_result *r, int mandatory)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->nm && i < sizeof r->m / sizeof r->m[0]; i++)
		if (r->m[i].pass && !!r->m[i].mandatory == mandatory)
			n++;
	return n;
}

int
bb_photo_better(const struct bb_photo_result *a, const struct bb_photo_result *b)
{
	int ma, mb;

	if (b == NULL)
		return 1;
	if (a == NULL)
		return 0;
	ma = met(a, 1);
	mb = met(b, 1);
	if (ma != mb)
		return ma > mb;
	return met(a, 0) >= met(b, 0);
}

const struct bb_measure *
bb_photo_advice(const struct bb_photo_result *r)
{
	size_t i;
	int pass;

	if (r == NULL)
		return NULL;
	for (pass = 1; pass >= 0; pass--)
		for (i = 0; i < r->nm && i < sizeof r->m / sizeof r->m[0]; i++)
			if (!r->m[i].pass && !!r->m[i].mandatory == pass &&
			    r->m[i].hint_de != NULL)
				return &r->m[i];
	return NULL;
}

const struct bb_measure *
bb_photo_find(const struct bb_photo_result *r, const char *name)
{
	size_t i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->nm && i < sizeof r->m / sizeof r->m[0]; i++)
		if (r->m[i].name != NULL && strcmp(r->m[i].name, name) == 0)
			return &r->m[i];
	return NULL;
}

/* A filled rectangle, clipped. */
static void
fill(struct bb_image *im, long x0, long y0, long x1, long y1, const unsigned char rgb[3])
{
	long x, y;
	int c;

	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 > im->w)
		x1 = im->w;
	if (y1 > im->h)
		y1 = im->h;
	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++)
			for (c = 0; c < im->ch; c++)
				im->px[((size_t)y * im->w + (size_t)x) * im->ch + c] =
				    im->ch == 3 ? rgb[c] : grey_of(rgb, 3);
}

int
bb_photo_mirror(const struct bb_image *frame, const struct bb_photo_result *r, int w,
    struct bb_image *out, struct bb_err *e)
{
	static const unsigned char green[3] = { 0, 200, 0 }, red[3] = { 230, 0, 0 };
	const unsigned char *col;
	double f;
	long h, x0, y0, x1, y1;
	int st, i;

	if (out == NULL)
		return bb_fail(e, BB_SOFTWARE, "photo: mirror: no output");
	if ((st = photo_check_image(frame, "frame", e)) != 0)
		return st;
	if (w <= 0)
		return bb_fail(e, BB_SOFTWARE, "photo: mirror: width %d", w);
	if (w > frame->w)
		w = frame->w;
	h = lround((double)frame->h * w / frame->w);
	if (h < 1)
		h = 1;
	if (w == frame->w && h == frame->h) {
		if ((st = bb_image_new(out, frame->w, frame->h, frame->ch, e)) != 0)
			return st;
		memcpy(out->px, frame->px, (size_t)frame->w * frame->h * frame->ch);
	} else if ((st = bb_image_shrink(frame, w, (int)h, out, e)) != 0)
		return st;
	if (r == NULL || r->faces < 1 || r->face.w <= 0)
		return 0;
	f = (double)out->w / frame->w;
	col = r->compliant ? green : red;
	/* the face box, 2 px lines just inside it */
	x0 = lround(r->face.x * f);
	y0 = lround(r->face.y * f);
	x1 = lround((r->face.x + r->face.w) * f);
	y1 = lround((r->face.y + r->face.h) * f);
	fill(out, x0, y0, x1, y0 + 2, col);
	fill(out, x0, y1 - 2, x1, y1, col);
	fill(out, x0, y0, x0 + 2, y1, col);
	fill(out, x1 - 2, y0, x1, y1, col);
	/* the eye points: a 6 px cross of 2 px lines each, red when estimated or when the
	 * eye measures fail */
	for (i = 0; i < 2; i++) {
		const struct bb_rect *er = i == 0 ? &r->eye_l : &r->eye_r;
		const struct bb_measure *roll = bb_photo_find(r, "roll");
		const unsigned char *ec = er->w > 0 && roll != NULL && roll->pass ? green : red;
		long cx = lround((er->x + er->w / 2.0) * f), cy = lround((er->y + er->h / 2.0) * f);

		fill(out, cx - 3, cy - 1, cx + 3, cy + 1, ec);
		fill(out, cx - 1, cy - 3, cx + 1, cy + 3, ec);
	}
	return 0;
}
