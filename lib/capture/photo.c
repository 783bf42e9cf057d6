/* The passport photo to BSI TR-03121-3 Vol. 2 v6.0: see photo.h.
 *
 * Every number below says where it comes from: table 5.3 of the TR (the bounds), ISO/IEC
 * 19794-5 (the reference points), OFIQ (how exposure and dynamic range are measured), or
 * the fixtures of tests/unit/photo.c (where the TR gives no number: exposure share, entropy,
 * sharpness, background). */
#include "capture/photoint.h"
#include "diag.h"
#include "exit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- thresholds ---- */

/* The head from the face box (an OpenCV face box covers brows to mouth): width 1.05 x
 * the box (the middle of 1.0-1.1: cheeks to ears), chin 0.2 box heights below the box,
 * chin to crown 1.45 box heights (so the crown is 0.25 box heights above the box). */
#define HEAD_W_FACTOR 1.05
#define HEAD_H_FACTOR 1.45
#define CHIN_BELOW 0.20

/* Table 5.3 of TR-03121-3 Vol. 2 v6.0 (the reference's thresholds). */
#define ROLL_MAX 8.0
#define HEAD_W_MIN 0.5
#define HEAD_W_MAX 0.75
#define HEAD_H_MIN 0.6
#define HEAD_H_MAX 0.9
/* Vertical face position: ISO/IEC 19794-5 (full frontal image, B) measures the line
 * through the centres of the eyes: its distance from the bottom edge 50-70 % of the image
 * height, i.e. 0.3-0.5 from the top, which is table 5.3's range. Value: the eye line's
 * distance from the top / image height. */
#define VPOS_MIN 0.3
#define VPOS_MAX 0.5
/* Horizontal centring: ISO/IEC 19794-5 (A) puts the midpoints of the nose bridge and the
 * mouth on the image's vertical centre line; the nose bridge is the eye midpoint.
 * Value: the eye midpoint's distance from the left / image width (the face box centre
 * when the eyes were estimated). */
#define HPOS_MIN 0.45
#define HPOS_MAX 0.55
#define IED_LIVE 300.0
#define IED_SCAN 120.0
/* The crop puts the head at the middle of each range: head height 0.75 of the image
 * height, the eye line at 0.4 from the top, the eye midpoint centred. */
#define CROP_HEAD_H 0.75
#define CROP_EYES_Y 0.4

/* Exposure, measured as OFIQ does (UnderExposurePrevention, OverExposurePrevention): the
 * share of face pixels whose linearised luminance Y = 0.2126R + 0.7152G + 0.0722B (sRGB
 * decoded, scaled to 0-255 and rounded) is 0-25 or 247-255. Linear 25 is sRGB about 89:
 * brows, lashes, nostrils and lips are below it in a well-lit face. The TR gives no
 * number; the fixtures (tests/unit/photo.c, BB_PHOTO_CALIBRATE=1) give, for the composed
 * compliant face scaled in sRGB by x: dark share 0.06 (x1), 0.20 (x0.7), 0.51 (x0.5),
 * 0.97 (x0.4), 1.00 (x0.3 and darker); bright share 0.00 (x1), 0.06 (x1.2), 0.39 (x1.4),
 * 0.57 (x1.6); the real 1080p camera frame 0.07 / 0.00. Bounds: dark share <= 0.85, near
 * OFIQ, whose quality sigmoid for it is centred at 0.92: a light face must lose more than
 * a stop and a half before it fails, and a well-lit dark-skinned face, much of which is
 * legitimately near linear 25, is not turned away (a bound like 0.5 would). Bright share
 * <= 0.15: specular highlights on forehead and nose are a few %, x1.2 passes, x1.4
 * (washed out) fails. */
#define DARK_LEVEL 25
#define BRIGHT_LEVEL 247
#define DARK_SHARE_MAX 0.85
#define BRIGHT_SHARE_MAX 0.15
/* Dynamic range: OFIQ's entropy (bits) of the 256-bin histogram of that luminance over
 * the face; 8 at most. Fixtures: 7.56 (x1), 6.40 (x0.7), 5.34 (x0.5), 4.64 (x0.4), 3.79
 * (x0.3), 2.71 (x0.2), 7.86 (x1.2), 5.45 (x1.6); blur changes it by < 0.2. Bound >= 4.5
 * bits (about 23 evenly used levels): below the x0.4 face, so a dark-skinned face (whose
 * linear luminance spans fewer levels) keeps room, while a face squeezed into a handful
 * of levels fails. */
#define ENTROPY_MIN 4.5
/* Sharpness: the variance of the 4-neighbour Laplacian of the grey face, measured on the
 * face region shrunk to 128 px wide, so that the value means the same at every distance
 * and camera resolution (focus relative to the face, not to the sensor). Fixtures: the
 * compliant face 83 (itself astronaut.png upscaled 9.5 times: soft), the same at native
 * scale 80, blurred by a Gaussian-like kernel of radius r canvas pixels (r / 5.9 at the
 * measuring scale) 71 (r 1), 60 (2), 46 (3), 37 (4), 23 (6), 14 (8), 7 (12); the real
 * 1080p frame 540. Bound >= 30: between the compliant fixture and r 6 (a blur of about one
 * pixel at 128 px is visibly soft). The variance grows with contrast, so a dark face
 * loses sharpness too (x0.5: 23); the order of the measures puts exposure's hint first. */
#define NORM_FACE_W 128
#define SHARP_MIN 30.0
/* Background (optional in §5.4.1): the output image's side margins (10 % of the width on
 * each side, top 45 % of the height: beside the head, above the shoulders), sampled every
 * 4th output pixel. Uniformity: standard deviation of the grey level <= 10 (the composed
 * fixture 0.4, the portraits' and the video frame's rooms 21-30; a real backdrop's light
 * fall-off should stay within a few levels). Colour:
 * R=G=B within +-8 (the reference), tested on the margin's mean colour. Level: mean grey
 * #A1-#E1 (161-225, the reference). */
#define BG_STRIP_W 0.10
#define BG_STRIP_H 0.45
#define BG_STEP 4
#define BG_STD_MAX 10.0
#define BG_CHROMA_MAX 8.0
#define BG_LEVEL_MIN 161.0
#define BG_LEVEL_MAX 225.0

/* ---- guidance ---- */

/* key: the hint's name for a screen that says it in other languages: the catalogue key
 * guide.KEY (bb-form(5)); bb_photo_hint_key finds it from the English text of
 * guidance.json. A new hint needs a key here and a text in every catalogue. */
struct hint { const char *de, *en, *key; };
static const struct hint H_CLOSER = { "Bitte näher kommen", "Please come closer", "closer" };
static const struct hint H_BACK = { "Bitte etwas zurücktreten", "Please step back a little",
    "back" };
/* Directions are the person's own: a face on the image's left stands too far to the
 * person's right (the camera sees the person's right on its left). A mirror display
 * (flipped) shows it on the screen's right, so "to the left" reads naturally there too. */
static const struct hint H_LEFT = { "Bitte nach links", "Please move to the left", "left" };
static const struct hint H_RIGHT = { "Bitte nach rechts", "Please move to the right", "right" };
static const struct hint H_UP = { "Bitte höher", "Please move up", "up" };
static const struct hint H_DOWN = { "Bitte tiefer", "Please move down", "down" };
static const struct hint H_STILL = { "Bitte stillhalten", "Please hold still", "still" };
static const struct hint H_STRAIGHT = { "Bitte gerade in die Kamera schauen",
    "Please look straight into the camera", "straight" };
static const struct hint H_SEVERAL = { "Mehrere Gesichter erkannt: bitte allein vor die Kamera",
    "Several faces found: please stand alone in front of the camera", "several" };
static const struct hint H_NOFACE = { "Kein Gesicht erkannt", "No face found", "no_face" };
static const struct hint H_LIGHT = { "Mehr Licht nötig", "More light needed", "light" };
static const struct hint H_BRIGHT = { "Zu hell", "Too bright", "bright" };
static const struct hint H_BACKGROUND = { "Bitte vor den einfarbigen Hintergrund stellen",
    "Please stand in front of the plain background", "background" };
static const struct hint *const hints[] = { &H_CLOSER, &H_BACK, &H_LEFT, &H_RIGHT, &H_UP,
	&H_DOWN, &H_STILL, &H_STRAIGHT, &H_SEVERAL, &H_NOFACE, &H_LIGHT, &H_BRIGHT,
	&H_BACKGROUND };

const char *
bb_photo_hint_key(const char *hint_en)
{
	size_t i;

	for (i = 0; hint_en != NULL && i < sizeof hints / sizeof hints[0]; i++)
		if (strcmp(hints[i]->en, hint_en) == 0)
			return hints[i]->key;
	return NULL;
}

/* The measures in the order the mirror should speak about them: first whether there is
 * one face, then distance, pose, size and position, light, focus; background last
 * (optional). */
enum {
	M_SINGLE_FACE,
	M_IMAGE_SIZE,
	M_ROLL,		/* before the ratios: a tilted head's box is too big */
	M_HEAD_HEIGHT,
	M_HEAD_WIDTH,
	M_IED,
	M_HPOS,
	M_VPOS,
	M_DARK,
	M_BRIGHT,
	M_DYNAMIC,
	M_SHARP,
	M_BG_UNIFORM,
	M_BG_COLOUR,
	M_BG_LEVEL,
	M_COUNT
};

static const struct {
	const char *name;
	int mandatory;
} measure_def[M_COUNT] = {
	[M_SINGLE_FACE] = { "single_face", 1 },
	[M_IMAGE_SIZE] = { "image_size", 1 },
	[M_HEAD_HEIGHT] = { "head_height_ratio", 1 },
	[M_HEAD_WIDTH] = { "head_width_ratio", 1 },
	[M_IED] = { "inter_eye_distance", 1 },
	[M_HPOS] = { "horizontal_position", 1 },
	[M_VPOS] = { "vertical_position", 1 },
	[M_ROLL] = { "roll", 1 },
	[M_DARK] = { "underexposure", 1 },
	[M_BRIGHT] = { "overexposure", 1 },
	[M_DYNAMIC] = { "dynamic_range", 1 },
	[M_SHARP] = { "sharpness", 1 },
	[M_BG_UNIFORM] = { "background_uniformity", 0 },
	[M_BG_COLOUR] = { "background_colour", 0 },
	[M_BG_LEVEL] = { "background_level", 0 },
};

/* Sets measure i: pass from the bounds (a NaN value never passes), the hint when
 * failing: lo when under min (or not measured), hi when over max. */
static void
measure(struct bb_photo_result *r, int i, double value, double min, double max,
    const struct hint *lo, const struct hint *hi)
{
	struct bb_measure *m = &r->m[i];
	const struct hint *h = NULL;

	m->name = measure_def[i].name;
	m->mandatory = measure_def[i].mandatory;
	m->value = value;
	m->min = min;
	m->max = max;
	if (isnan(value))
		h = lo;
	else if (!isnan(min) && value < min)
		h = lo;
	else if (!isnan(max) && value > max)
		h = hi;
	m->pass = h == NULL && !isnan(value);
	if (!m->pass && h == NULL)
		h = lo != NULL ? lo : hi;
	m->hint_de = m->pass || h == NULL ? NULL : h->de;
	m->hint_en = m->pass || h == NULL ? NULL : h->en;
}

/* A measure that could not be taken: fails with hint h. */
static void
unmeasured(struct bb_photo_result *r, int i, double min, double max, const struct hint *h)
{
	measure(r, i, NAN, min, max, h, h);
}

static void
tally(struct bb_photo_result *r)
{
	size_t i;

	r->nm = M_COUNT;
	r->mandatory_failed = r->optional_failed = 0;
	for (i = 0; i < r->nm; i++)
		if (!r->m[i].pass) {
			if (r->m[i].mandatory)
				r->mandatory_failed++;
			else
				r->optional_failed++;
		}
	r->compliant = r->mandatory_failed == 0;
}

static void
out_size(enum bb_photo_profile p, int *w, int *h)
{
	*w = p == BB_PHOTO_SCAN ? 622 : 1244;
	*h = p == BB_PHOTO_SCAN ? 800 : 1600;
}

/* Every measure failing, for a frame without a face. */
static void
no_face(struct bb_photo_result *r, enum bb_photo_profile profile)
{
	const struct hint *h = &H_NOFACE;
	double ied = profile == BB_PHOTO_SCAN ? IED_SCAN : IED_LIVE;

	measure(r, M_SINGLE_FACE, 0, 1, 1, h, h);
	unmeasured(r, M_IMAGE_SIZE, r->out_h, NAN, h);
	unmeasured(r, M_HEAD_HEIGHT, HEAD_H_MIN, HEAD_H_MAX, h);
	unmeasured(r, M_HEAD_WIDTH, HEAD_W_MIN, HEAD_W_MAX, h);
	unmeasured(r, M_IED, ied, NAN, h);
	unmeasured(r, M_HPOS, HPOS_MIN, HPOS_MAX, h);
	unmeasured(r, M_VPOS, VPOS_MIN, VPOS_MAX, h);
	unmeasured(r, M_ROLL, -ROLL_MAX, ROLL_MAX, h);
	unmeasured(r, M_DARK, NAN, DARK_SHARE_MAX, h);
	unmeasured(r, M_BRIGHT, NAN, BRIGHT_SHARE_MAX, h);
	unmeasured(r, M_DYNAMIC, ENTROPY_MIN, NAN, h);
	unmeasured(r, M_SHARP, SHARP_MIN, NAN, h);
	unmeasured(r, M_BG_UNIFORM, NAN, BG_STD_MAX, h);
	unmeasured(r, M_BG_COLOUR, NAN, BG_CHROMA_MAX, h);
	unmeasured(r, M_BG_LEVEL, BG_LEVEL_MIN, BG_LEVEL_MAX, h);
	tally(r);
}

/* ---- pixels ---- */

int
photo_check_image(const struct bb_image *im, const char *what, struct bb_err *e)
{
	if (im == NULL || im->px == NULL || im->w <= 0 || im->h <= 0 ||
	    (im->ch != 1 && im->ch != 3) || (long)im->w * im->h > BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_SOFTWARE, "photo: %s: not an RGB or grey image", what);
	return 0;
}

/* r clipped to the image; 0 when nothing is left. */
int
photo_clip_rect(struct bb_rect *r, int w, int h)
{
	int x0 = r->x < 0 ? 0 : r->x, y0 = r->y < 0 ? 0 : r->y;
	long x1 = (long)r->x + r->w, y1 = (long)r->y + r->h;

	if (x1 > w)
		x1 = w;
	if (y1 > h)
		y1 = h;
	if (x1 <= x0 || y1 <= y0)
		return 0;
	r->x = x0;
	r->y = y0;
	r->w = (int)(x1 - x0);
	r->h = (int)(y1 - y0);
	return 1;
}

/* A copy of the clipped rectangle rc of in, as grey (ch 1) or in in's channels. */
int
photo_copy_region(const struct bb_image *in, const struct bb_rect *rc, int grey, struct bb_image *out,
    struct bb_err *e)
{
	int x, y, st;
	int ch = grey ? 1 : in->ch;

	if ((st = bb_image_new(out, rc->w, rc->h, ch, e)) != 0)
		return st;
	for (y = 0; y < rc->h; y++) {
		const unsigned char *s = in->px + ((size_t)(rc->y + y) * in->w + rc->x) * in->ch;
		unsigned char *d = out->px + (size_t)y * rc->w * ch;

		if (!grey || in->ch == 1)
			memcpy(d, s, (size_t)rc->w * in->ch);
		else
			for (x = 0; x < rc->w; x++)
				d[x] = grey_of(s + (size_t)x * in->ch, in->ch);
	}
	return 0;
}

/* The face pixels, measured on the face box shrunk to NORM_FACE_W wide: the central part
 * of the box (10 % off each side, 5 % off top and bottom) so that little hair and
 * background is counted. */
struct face_stats {
	double dark, bright, entropy, sharpness, mean_grey;
};

static int
face_stats(const struct bb_image *frame, const struct bb_rect *face, struct face_stats *fs,
    struct bb_err *e)
{
	struct bb_rect rc;
	struct bb_image reg = { 0 }, small = { 0 };
	const struct bb_image *f;
	double lin[256], hist[256] = { 0 }, n, s = 0, ss = 0, gs = 0;
	int i, x, y, st;

	rc.x = face->x + face->w / 10;
	rc.y = face->y + face->h / 20;
	rc.w = face->w - 2 * (face->w / 10);
	rc.h = face->h - 2 * (face->h / 20);
	if (!photo_clip_rect(&rc, frame->w, frame->h) || rc.w < 3 || rc.h < 3) {
		fs->dark = fs->bright = fs->entropy = fs->sharpness = fs->mean_grey = NAN;
		return 0;
	}
	if ((st = photo_copy_region(frame, &rc, 0, &reg, e)) != 0)
		return st;
	f = &reg;
	if (rc.w > NORM_FACE_W) {
		int h = (int)lround((double)rc.h * NORM_FACE_W / rc.w);

		if (h < 3)
			h = 3;
		if ((st = bb_image_shrink(&reg, NORM_FACE_W, h, &small, e)) != 0) {
			bb_image_free(&reg);
			return st;
		}
		f = &small;
	}
	/* sRGB decoding (IEC 61966-2-1), as OFIQ's ColorConvert */
	for (i = 0; i < 256; i++) {
		double c = i / 255.0;

		lin[i] = c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
	}
	n = (double)f->w * f->h;
	for (y = 0; y < f->h; y++)
		for (x = 0; x < f->w; x++) {
			const unsigned char *p = f->px + ((size_t)y * f->w + x) * f->ch;
			double yl;
			long l;

			if (f->ch == 1)
				yl = lin[p[0]];
			else
				yl = 0.2126 * lin[p[0]] + 0.7152 * lin[p[1]] + 0.0722 * lin[p[2]];
			l = lround(yl * 255);
			hist[l < 0 ? 0 : l > 255 ? 255 : l]++;
			gs += grey_of(p, f->ch);
		}
	fs->dark = fs->bright = fs->entropy = 0;
	for (i = 0; i < 256; i++) {
		double q = hist[i] / n;

		if (i <= DARK_LEVEL)
			fs->dark += q;
		if (i >= BRIGHT_LEVEL)
			fs->bright += q;
		if (q > 0)
			fs->entropy -= q * log2(q);
	}
	fs->mean_grey = gs / n;
	/* Laplacian (OpenCV's ksize 1 kernel: 0 1 0 / 1 -4 1 / 0 1 0) inside the border */
	n = 0;
	for (y = 1; y < f->h - 1; y++)
		for (x = 1; x < f->w - 1; x++) {
#define G(dx, dy) ((double)grey_of(f->px + ((size_t)(y + (dy)) * f->w + x + (dx)) * f->ch, f->ch))
			double l = G(-1, 0) + G(1, 0) + G(0, -1) + G(0, 1) - 4 * G(0, 0);
#undef G
			s += l;
			ss += l * l;
			n++;
		}
	fs->sharpness = n > 0 ? ss / n - (s / n) * (s / n) : NAN;
	bb_image_free(&small);
	bb_image_free(&reg);
	return 0;
}

/* Output pixel (u, v) of the crop to frame coordinates (pixel centres at integers). */
struct crop {
	double cx, cy, s, c, sn;	/* centre, frame px per output px, cos/sin of roll */
	int w, h;			/* output size */
};

static void
crop_map(const struct crop *k, double u, double v, double *x, double *y)
{
	double du = (u - (k->w - 1) / 2.0) * k->s, dv = (v - (k->h - 1) / 2.0) * k->s;

	*x = k->cx + du * k->c - dv * k->sn;
	*y = k->cy + du * k->sn + dv * k->c;
}

/* The background margins of the crop, sampled in the frame. */
struct bg_stats {
	double std, chroma, level;
};

static void
bg_stats(const struct bb_image *frame, const struct crop *k, struct bg_stats *bs)
{
	double n = 0, sr = 0, sg = 0, sb = 0, sy = 0, syy = 0;
	int side, u, v, u0, u1, vmax = (int)(k->h * BG_STRIP_H);

	for (side = 0; side < 2; side++) {
		u0 = side == 0 ? 0 : k->w - (int)(k->w * BG_STRIP_W);
		u1 = side == 0 ? (int)(k->w * BG_STRIP_W) : k->w;
		for (v = 0; v < vmax; v += BG_STEP)
			for (u = u0; u < u1; u += BG_STEP) {
				double x, y, g;
				long xi, yi;
				const unsigned char *p;

				crop_map(k, u, v, &x, &y);
				xi = lround(x);
				yi = lround(y);
				if (xi < 0 || yi < 0 || xi >= frame->w || yi >= frame->h)
					continue;
				p = frame->px + ((size_t)yi * frame->w + (size_t)xi) * frame->ch;
				g = grey_of(p, frame->ch);
				sr += p[0];
				sg += frame->ch == 3 ? p[1] : p[0];
				sb += frame->ch == 3 ? p[2] : p[0];
				sy += g;
				syy += g * g;
				n++;
			}
	}
	if (n == 0) {
		bs->std = bs->chroma = bs->level = NAN;
		return;
	}
	sr /= n;
	sg /= n;
	sb /= n;
	bs->level = sy / n;
	bs->std = sqrt(syy / n - bs->level * bs->level);
	bs->chroma = fabs(sr - sg);
	if (fabs(sg - sb) > bs->chroma)
		bs->chroma = fabs(sg - sb);
	if (fabs(sr - sb) > bs->chroma)
		bs->chroma = fabs(sr - sb);
}

/* ---- the measurements ---- */

/* Where the eyes are, in frame pixels, image-left first; found (from the eye boxes) or
 * estimated from the face box. */
struct eyes {
	double lx, ly, rx, ry;
	int found;
};

/* The eyes of r (eye_l, eye_r set) from the boxes given, else estimated from the box
 * and marked by a zero-sized rectangle at the point. */
static void
place_eyes(struct bb_photo_result *r, const struct bb_rect *face, const struct bb_rect *eye_l,
    const struct bb_rect *eye_r, struct eyes *y)
{
	y->found = eye_l != NULL && eye_r != NULL && eye_l->w > 0 && eye_r->w > 0;
	if (!y->found) {
		y->lx = face->x + EYE_EST_X * face->w;
		y->rx = face->x + (1 - EYE_EST_X) * face->w;
		y->ly = y->ry = face->y + EYE_EST_Y * face->h;
		r->eye_l = (struct bb_rect){ (int)lround(y->lx), (int)lround(y->ly), 0, 0 };
		r->eye_r = (struct bb_rect){ (int)lround(y->rx), (int)lround(y->ry), 0, 0 };
		return;
	}
	y->lx = rect_cx(eye_l);
	y->ly = rect_cy(eye_l);
	y->rx = rect_cx(eye_r);
	y->ry = rect_cy(eye_r);
	if (y->rx < y->lx) {	/* the caller swapped them: image-left first */
		double t;

		t = y->lx, y->lx = y->rx, y->rx = t;
		t = y->ly, y->ly = y->ry, y->ry = t;
		r->eye_l = *eye_r;
		r->eye_r = *eye_l;
	} else {
		r->eye_l = *eye_l;
		r->eye_r = *eye_r;
	}
}

/* The crop k for the eyes y (r's roll set), into r's crop_*. The ideal crop: head height
 * CROP_HEAD_H of the output, the eye line at CROP_EYES_Y, the eye midpoint centred; s
 * frame pixels per output pixel. Then the largest crop of that rotation the frame holds
 * (the rotated window's bounding box inside the frame), moved into the frame when it
 * sticks out: what the frame really gives. Returns the ideal scale s0. */
static double
place_crop(const struct bb_image *frame, const struct bb_rect *face, const struct eyes *y,
    struct bb_photo_result *r, struct crop *k)
{
	double mx = (y->lx + y->rx) / 2, my = (y->ly + y->ry) / 2;
	double s0, s, smx, smy, bx, by, ac, as;

	k->c = cos(r->roll * M_PI / 180);
	k->sn = sin(r->roll * M_PI / 180);
	k->w = r->out_w;
	k->h = r->out_h;
	s0 = HEAD_H_FACTOR * face->h / (CROP_HEAD_H * r->out_h);
	ac = fabs(k->c);
	as = fabs(k->sn);
	smx = frame->w / (r->out_w * ac + r->out_h * as);
	smy = frame->h / (r->out_w * as + r->out_h * ac);
	s = s0;
	if (s > smx)
		s = smx;
	if (s > smy)
		s = smy;
	k->s = s;
	/* eye midpoint at output (centre, CROP_EYES_Y): the crop centre is below it */
	k->cx = mx - (0.5 - CROP_EYES_Y) * r->out_h * s * k->sn;
	k->cy = my + (0.5 - CROP_EYES_Y) * r->out_h * s * k->c;
	bx = (r->out_w * ac + r->out_h * as) * s / 2;
	by = (r->out_w * as + r->out_h * ac) * s / 2;
	/* frame extent in pixel-centre coordinates: -0.5 .. w - 0.5 */
	if (k->cx - bx < -0.5)
		k->cx = -0.5 + bx;
	if (k->cx + bx > frame->w - 0.5)
		k->cx = frame->w - 0.5 - bx;
	if (k->cy - by < -0.5)
		k->cy = -0.5 + by;
	if (k->cy + by > frame->h - 0.5)
		k->cy = frame->h - 0.5 - by;
	r->crop_cx = k->cx;
	r->crop_cy = k->cy;
	r->crop_angle = -r->roll;	/* bb_image_crop_rotate: counter-clockwise positive */
	r->crop_scale = s;
	return s0;
}

/* The measures of where the head is in the crop k: size, position, roll. */
static void
measure_geometry(struct bb_photo_result *r, const struct bb_rect *face, const struct eyes *y,
    const struct crop *k, double s0, enum bb_photo_profile profile)
{
	double mx = (y->lx + y->rx) / 2, my = (y->ly + y->ry) / 2, s = k->s, u, v, ied_min;
	double ied = sqrt((y->rx - y->lx) * (y->rx - y->lx) + (y->ry - y->ly) * (y->ry - y->ly));
	const struct hint *h;

	/* Where the eye midpoint lands in the output. */
	u = ((mx - k->cx) * k->c + (my - k->cy) * k->sn) / s + (r->out_w - 1) / 2.0;
	v = (-(mx - k->cx) * k->sn + (my - k->cy) * k->c) / s + (r->out_h - 1) / 2.0;
	if (!y->found)	/* no eye midpoint: the box centre for centring */
		u = ((rect_cx(face) - k->cx) * k->c + (rect_cy(face) - k->cy) * k->sn) / s +
		    (r->out_w - 1) / 2.0;

	measure(r, M_SINGLE_FACE, r->faces, 1, 1, &H_NOFACE, &H_SEVERAL);
	/* frame rows that make the output's rows: at least out_h (no upscaling). Too few
	 * because the face is small: closer; because the frame is too small for the profile
	 * and the face too big for it: step back (the only move that helps the ratios). */
	h = s0 <= s ? &H_CLOSER : &H_BACK;
	measure(r, M_IMAGE_SIZE, r->out_h * s, r->out_h, NAN, h, h);
	measure(r, M_HEAD_HEIGHT, HEAD_H_FACTOR * face->h / (r->out_h * s), HEAD_H_MIN,
	    HEAD_H_MAX, &H_CLOSER, &H_BACK);
	measure(r, M_HEAD_WIDTH, HEAD_W_FACTOR * face->w / (r->out_w * s), HEAD_W_MIN,
	    HEAD_W_MAX, &H_CLOSER, &H_BACK);
	ied_min = profile == BB_PHOTO_SCAN ? IED_SCAN : IED_LIVE;
	if (y->found)
		measure(r, M_IED, ied / s, ied_min, NAN, &H_CLOSER, &H_CLOSER);
	else
		unmeasured(r, M_IED, ied_min, NAN, &H_STRAIGHT);
	/* the face left of centre in the image: the person stands too far to their right */
	measure(r, M_HPOS, u / r->out_w, HPOS_MIN, HPOS_MAX, &H_LEFT, &H_RIGHT);
	/* the eyes too high in the photo: lower, too low: higher */
	measure(r, M_VPOS, v / r->out_h, VPOS_MIN, VPOS_MAX, &H_DOWN, &H_UP);
	if (y->found)
		measure(r, M_ROLL, r->roll, -ROLL_MAX, ROLL_MAX, &H_STRAIGHT, &H_STRAIGHT);
	else
		unmeasured(r, M_ROLL, -ROLL_MAX, ROLL_MAX, &H_STRAIGHT);
}

/* The measures of the pixels: the face's exposure and sharpness, the background's
 * uniformity, colour and level (in the crop k). */
static int
measure_pixels(struct bb_photo_result *r, const struct bb_image *frame,
    const struct bb_rect *face, const struct crop *k, struct bb_err *e)
{
	struct face_stats fs;
	struct bg_stats bs;
	const struct hint *h;
	int st;

	if ((st = face_stats(frame, face, &fs, e)) != 0)
		return st;
	measure(r, M_DARK, fs.dark, NAN, DARK_SHARE_MAX, &H_LIGHT, &H_LIGHT);
	measure(r, M_BRIGHT, fs.bright, NAN, BRIGHT_SHARE_MAX, &H_BRIGHT, &H_BRIGHT);
	/* a flat face histogram: from too little light, or too much */
	h = !isnan(fs.mean_grey) && fs.mean_grey > 170 ? &H_BRIGHT : &H_LIGHT;
	measure(r, M_DYNAMIC, fs.entropy, ENTROPY_MIN, NAN, h, h);
	measure(r, M_SHARP, fs.sharpness, SHARP_MIN, NAN, &H_STILL, &H_STILL);

	bg_stats(frame, k, &bs);
	measure(r, M_BG_UNIFORM, bs.std, NAN, BG_STD_MAX, &H_BACKGROUND, &H_BACKGROUND);
	measure(r, M_BG_COLOUR, bs.chroma, NAN, BG_CHROMA_MAX, &H_BACKGROUND, &H_BACKGROUND);
	measure(r, M_BG_LEVEL, bs.level, BG_LEVEL_MIN, BG_LEVEL_MAX, &H_LIGHT, &H_BRIGHT);
	return 0;
}

int
bb_photo_measure(const struct bb_image *frame, int faces, const struct bb_rect *face,
    const struct bb_rect *eye_l, const struct bb_rect *eye_r, enum bb_photo_profile profile,
    struct bb_photo_result *r, struct bb_err *e)
{
	struct eyes y;
	struct crop k;
	double s0;
	int st, i;

	if (r == NULL)
		return bb_fail(e, BB_SOFTWARE, "photo: no result");
	if ((st = photo_check_image(frame, "frame", e)) != 0)
		return st;
	memset(r, 0, sizeof *r);
	out_size(profile, &r->out_w, &r->out_h);
	r->faces = faces < 0 ? 0 : faces;
	r->roll = NAN;
	r->crop_cx = r->crop_cy = r->crop_angle = r->crop_scale = NAN;
	if (faces <= 0 || face == NULL || face->w <= 0 || face->h <= 0) {
		r->faces = 0;
		no_face(r, profile);
		return 0;
	}
	r->face = *face;
	place_eyes(r, face, eye_l, eye_r, &y);
	r->roll = y.found ? atan2(y.ry - y.ly, y.rx - y.lx) * 180 / M_PI : 0;
	s0 = place_crop(frame, face, &y, r, &k);
	measure_geometry(r, face, &y, &k, s0, profile);
	if ((st = measure_pixels(r, frame, face, &k, e)) != 0)
		return st;
	tally(r);
	for (i = 0; i < M_COUNT; i++)
		if (r->m[i].name == NULL)
			return bb_fail(e, BB_SOFTWARE, "photo: measure %d not set", i);
	return 0;
}
