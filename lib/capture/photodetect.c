/* Face and eyes in a frame for the photo rules: bb_photo_check of photo.h, the
 * detection, then bb_photo_measure (photo.c). */
#include "capture/photoint.h"
#include "diag.h"
#include "exit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- thresholds ---- */

/* Detection. The face is looked for on a copy of the frame shrunk to at most 480 px wide
 * and 640 px high (the mirror's budget: a 1920x1080 frame becomes 480x270), with OpenCV's
 * usual pyramid step 1.1. min_neighbors 4: one more than OpenCV's default, so a patch of
 * background must be hit in five neighbouring windows before it counts as a face (a false
 * second face would stop the capture with "several faces"); real faces in the portraits
 * and fixtures are found alike with 3, 4 and 5 (OpenCV and ours). The smallest face is
 * 1/6 of the shrunk frame's shorter side: a compliant photo needs the face box at about
 * 0.52 of the crop's height, i.e. of most of the frame's, so a face of 1/6 is already
 * about a third of that, enough to be told "come closer"; and the small scales are where
 * the pyramid spends its time (1080p: 1/8 costs a third more than 1/6). */
#define DETECT_MAX_W 480
#define DETECT_MAX_H 640
#define FACE_SCALE 1.1
#define FACE_NEIGHBORS 4
#define FACE_MIN_DIV 6
/* Eyes: in the face box's upper 60 % (the eye line of an OpenCV face box is at about 0.37
 * of its height; 60 % rather than 50 % keeps the lower eye of a head rolled by up to 15°
 * inside while staying above the nostrils at about 0.65), at the frame's resolution, but
 * the region shrunk when the face box is wider than 400 px: eye centres are then still
 * placed to 1/400 of the face width (below 0.3 % of the inter-eye distance) and big faces
 * cost no more than a mirror frame. Eye boxes 0.15 to 0.35 of the face width (they are
 * 0.21-0.24 in astronaut.png, the portraits and the 1080p frame; the eye cascade is the
 * dearer one, and 0.10 instead of 0.15 costs 40 % more on the 1080p frame). Default
 * OpenCV neighbours (3): the pair selection below rejects stray hits. */
#define EYE_REGION_H 0.6
#define EYE_REGION_MAX_W 400
#define EYE_SCALE 1.1
#define EYE_NEIGHBORS 3
#define EYE_MIN_FRAC 0.15
#define EYE_MAX_FRAC 0.35

/* ---- detection ---- */

/* A dark grey image stretched in place so that its 99th percentile becomes 255; 1 when
 * it was dark (that percentile under DARK_STRETCH_BELOW), 0 when left alone. The Haar
 * features are normalised by each window's standard deviation, so a linear stretch
 * changes nothing but the rounding; yet a face darkened to 10 % (grey 0-25) is lost to
 * rounding without it, OpenCV's detector as ours, and found at once with it (the
 * fixtures, and astronaut.png darkened down to 5 % in OpenCV). Only tried when the
 * plain image shows no face, so bright frames are searched exactly as OpenCV would. */
#define DARK_STRETCH_BELOW 128

static int
stretch_dark(struct bb_image *g)
{
	size_t hist[256] = { 0 }, n = (size_t)g->w * g->h, i, acc = 0;
	unsigned char lut[256];
	int p99 = 255, v;

	for (i = 0; i < n; i++)
		hist[g->px[i]]++;
	for (v = 0; v < 256; v++) {
		acc += hist[v];
		if (acc * 100 >= n * 99) {
			p99 = v;
			break;
		}
	}
	if (p99 >= DARK_STRETCH_BELOW || p99 == 0)
		return 0;
	for (v = 0; v < 256; v++) {
		long t = (v * 255L + p99 / 2) / p99;

		lut[v] = (unsigned char)(t > 255 ? 255 : t);
	}
	for (i = 0; i < n; i++)
		g->px[i] = lut[g->px[i]];
	return 1;
}

/* The two eyes among the hits (in region coordinates, the region starting at the face
 * box's top-left, fw x fh the face box in the same scale): one on each side, 0.25-0.65
 * face widths apart, the line between them within about 30° of horizontal, sizes within
 * 1.6x of each other, both in the eye band; of those, the pair closest to the typical
 * OpenCV face box geometry (0.42 face widths apart, at 0.37 of its height, equal sizes).
 * 0 when no pair qualifies. */
static int
pick_eyes(const struct bb_rect *hit, size_t n, double fw, double fh, size_t *a, size_t *b)
{
	size_t i, j;
	double best = 1e300;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			double ax = rect_cx(&hit[i]) / fw, ay = rect_cy(&hit[i]) / fh;
			double bx = rect_cx(&hit[j]) / fw, by = rect_cy(&hit[j]) / fh;
			double dx = bx - ax, dy = (by - ay) * fh / fw;
			double big = hit[i].w > hit[j].w ? hit[i].w : hit[j].w;
			double small = hit[i].w > hit[j].w ? hit[j].w : hit[i].w;
			double score;

			if (i == j || dx < 0.25 || dx > 0.65 || fabs(dy) > 0.6 * dx ||
			    ax > 0.55 || bx < 0.45 || small <= 0 || big / small > 1.6 ||
			    ay < 0.15 || by < 0.15 || ay > 0.55 || by > 0.55)
				continue;
			score = fabs(dx - 0.42) + fabs((ay + by) / 2 - EYE_EST_Y) +
			    0.25 * (big / small - 1);
			if (score < best) {
				best = score;
				*a = i;
				*b = j;
			}
		}
	return best < 1e300;
}

static int
find_eyes(const struct bb_cascade *eye, const struct bb_image *frame, const struct bb_rect *face,
    struct bb_rect *el, struct bb_rect *er, int *found, struct bb_err *e)
{
	struct bb_rect rc = *face, *hit = NULL;
	struct bb_image reg = { 0 }, small = { 0 };
	const struct bb_image *g;
	struct bb_detect_opts o;
	size_t n = 0, a = 0, b = 0;
	double f = 1, fw;
	int st;

	*found = 0;
	rc.h = (int)lround(face->h * EYE_REGION_H);
	if (!photo_clip_rect(&rc, frame->w, frame->h) || rc.w < 20 || rc.h < 20)
		return 0;
	if ((st = photo_copy_region(frame, &rc, 1, &reg, e)) != 0)
		return st;
	g = &reg;
	if (face->w > EYE_REGION_MAX_W) {
		int w = (int)lround(rc.w * (double)EYE_REGION_MAX_W / face->w);
		int h = (int)lround(rc.h * (double)EYE_REGION_MAX_W / face->w);

		if (w < 1)
			w = 1;
		if (h < 1)
			h = 1;
		if ((st = bb_image_shrink(&reg, w, h, &small, e)) != 0)
			goto out;
		g = &small;
		f = (double)rc.w / w;
	}
	/* a dark face's eyes likewise (the region is ours: stretching it is free) */
	stretch_dark(small.px != NULL ? &small : &reg);
	fw = face->w / f;
	o.scale = EYE_SCALE;
	o.min_neighbors = EYE_NEIGHBORS;
	o.min_w = o.min_h = (int)(fw * EYE_MIN_FRAC);
	o.max_w = o.max_h = (int)(fw * EYE_MAX_FRAC) + 1;
	if ((st = bb_detect(eye, g, &o, &hit, &n, e)) != 0)
		goto out;
	/* hits relative to the face box's top-left in the (maybe shrunk) region */
	{
		double ox = (rc.x - face->x) / f, oy = (rc.y - face->y) / f;
		size_t i;

		for (i = 0; i < n; i++) {
			hit[i].x += (int)lround(ox);
			hit[i].y += (int)lround(oy);
		}
		if (pick_eyes(hit, n, fw, face->h / f, &a, &b)) {
			el->x = face->x + (int)lround(hit[a].x * f);
			el->y = face->y + (int)lround(hit[a].y * f);
			el->w = (int)lround(hit[a].w * f);
			el->h = (int)lround(hit[a].h * f);
			er->x = face->x + (int)lround(hit[b].x * f);
			er->y = face->y + (int)lround(hit[b].y * f);
			er->w = (int)lround(hit[b].w * f);
			er->h = (int)lround(hit[b].h * f);
			*found = 1;
		}
	}
out:
	free(hit);
	bb_image_free(&small);
	bb_image_free(&reg);
	return st;
}

int
bb_photo_check(const struct bb_cascade *face, const struct bb_cascade *eye,
    const struct bb_image *frame, enum bb_photo_profile profile, struct bb_photo_result *r,
    struct bb_err *e)
{
	struct bb_image small = { 0 }, grey = { 0 };
	const struct bb_image *d;
	struct bb_rect *hit = NULL, best, el, er;
	struct bb_detect_opts o;
	size_t n = 0, i, nfaces;
	double f;
	int sw, sh, st, found = 0;

	if (face == NULL || eye == NULL || r == NULL)
		return bb_fail(e, BB_SOFTWARE, "photo: no cascade or result");
	if ((st = photo_check_image(frame, "frame", e)) != 0)
		return st;
	f = 1;
	if (frame->w > DETECT_MAX_W)
		f = (double)DETECT_MAX_W / frame->w;
	if (frame->h * f > DETECT_MAX_H)
		f = (double)DETECT_MAX_H / frame->h;
	sw = (int)lround(frame->w * f);
	sh = (int)lround(frame->h * f);
	if (sw < 1)
		sw = 1;
	if (sh < 1)
		sh = 1;
	d = frame;
	if (sw < frame->w || sh < frame->h) {
		if ((st = bb_image_shrink(frame, sw, sh, &small, e)) != 0)
			goto out;
		d = &small;
	}
	if (d->ch != 1) {
		if ((st = bb_image_grey(d, &grey, e)) != 0)
			goto out;
		d = &grey;
	}
	o.scale = FACE_SCALE;
	o.min_neighbors = FACE_NEIGHBORS;
	o.min_w = o.min_h = (sw < sh ? sw : sh) / FACE_MIN_DIV;
	o.max_w = o.max_h = 0;
	if ((st = bb_detect(face, d, &o, &hit, &n, e)) != 0)
		goto out;
	if (n == 0 && (d == &grey || d == &small) && stretch_dark(d == &grey ? &grey : &small)) {
		free(hit);
		hit = NULL;
		if ((st = bb_detect(face, d, &o, &hit, &n, e)) != 0)
			goto out;
	}
	if (n == 0) {
		st = bb_photo_measure(frame, 0, NULL, NULL, NULL, profile, r, e);
		goto out;
	}
	best = hit[0];
	for (i = 1; i < n; i++)
		if ((long)hit[i].w * hit[i].h > (long)best.w * best.h)
			best = hit[i];
	/* Other faces: hits centred on the largest one's own head and neck (its box widened
	 * by a quarter on each side, from half a box above to 0.6 below) are the same person
	 * seen twice (the cascades like a chin above a collar: official-portrait-2.jpg at
	 * 282x641 gives one there, in OpenCV too); another person's face cannot be there. */
	nfaces = 0;
	for (i = 0; i < n; i++) {
		double cx = hit[i].x + hit[i].w / 2.0, cy = hit[i].y + hit[i].h / 2.0;

		if (cx > best.x - 0.25 * best.w && cx < best.x + 1.25 * best.w &&
		    cy > best.y - 0.5 * best.h && cy < best.y + 1.6 * best.h &&
		    (long)hit[i].w * hit[i].h <= (long)best.w * best.h &&
		    memcmp(&hit[i], &best, sizeof best) != 0)
			continue;
		nfaces++;
	}
	{
		double fx = (double)frame->w / d->w, fy = (double)frame->h / d->h;
		struct bb_rect b = best;

		best.x = (int)lround(b.x * fx);
		best.y = (int)lround(b.y * fy);
		best.w = (int)lround(b.w * fx);
		best.h = (int)lround(b.h * fy);
	}
	if ((st = find_eyes(eye, frame, &best, &el, &er, &found, e)) != 0)
		goto out;
	st = bb_photo_measure(frame, nfaces > 1 << 20 ? 1 << 20 : (int)nfaces, &best,
	    found ? &el : NULL, found ? &er : NULL, profile, r, e);
out:
	free(hit);
	bb_image_free(&grey);
	bb_image_free(&small);
	return st;
}
