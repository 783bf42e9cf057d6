/* Viola-Jones on OpenCV's Haar cascades: see haar.h.
 *
 * The goal is the same rectangles as OpenCV 4.6's CascadeClassifier::detectMultiScale
 * (modules/objdetect/src/cascadedetect.cpp, .hpp; imgproc's resize for the pyramid), not
 * merely similar ones: a face box that moves by a pixel between our build and the
 * reference changes the photo's measurements. So the arithmetic follows OpenCV's types
 * where they matter:
 *   - the pyramid resizes the ORIGINAL image per level (not the previous level) to
 *     round(w / (float)factor) with INTER_LINEAR_EXACT (not INTER_LINEAR: the two
 *     differ by one grey level in many pixels, enough to move hits); features keep
 *     their cascade size and are evaluated on the smaller image;
 *   - integral images are 32-bit and wrap (only differences over a window are used);
 *   - the window's normalisation uses the rectangle (1, 1, w-2, h-2) inside it:
 *     nf = sqrt(area * sqsum - sum^2), factor (float)(1 / nf), and the window is skipped
 *     unless area * factor < 0.1 (a flat window, standard deviation <= 10, is never an
 *     object in OpenCV 4);
 *   - a feature is sum(weight * rectangle sum) in float, with the weights as the XML has
 *     them (the new format stores them ready; only the old <haarcascade> format's
 *     loader re-derived the first rectangle's weight from the others' areas and divided
 *     by the window area), times the factor, compared with the stump's float threshold;
 *     a stage sums its leaves in double against (float)stageThreshold - 1e-5f;
 *   - step 2 px while the level's factor is < 2, then 1 px; a window rejected by the
 *     first stage skips the next position in its row as well;
 *   - hits are (round(x * factor), round(y * factor)) with the window size
 *     round(w * factor), all in float; grouping is groupRectangles(minNeighbors, 0.2)
 *     and the result is clipped to the image. */
#include "capture/haarint.h"
#include "diag.h"
#include "exit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- evaluation --- */

/* A stump with its rectangles as offsets into the integral image of the level, whose
 * rows are `stride` apart: corners (x,y) (x+w,y) (x,y+h) (x+w,y+h). A feature of two
 * rectangles gets a third of weight 0 at offset 0: adding 0 * sum changes no float
 * result, and costs less than the branch OpenCV takes (half of the features have 3). */
struct ostump {
	int32_t o[RECT_NUM][4];
	float weight[RECT_NUM];
	float threshold;
	float leaf[2];		/* below the threshold, at or above */
};

struct scan {
	const struct bb_cascade *c;
	struct ostump *st;
	int32_t norm[4];	/* the rectangle (1, 1, w-2, h-2) */
	double area;
	int stride;
	struct bb_rect *hits;
	size_t nhits, caphits;
};

static inline int32_t
rect_sum(const uint32_t *p, const int32_t o[4])
{
	/* The integral image wraps at 2^32 on big images; the difference over a
	 * rectangle of at most 1024x1024 pixels of 255 does not. */
	return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* OpenCV's result for the window at p: 1 object, -1 flat window, else minus the index
 * of the stage that rejected it (0 for the first). */
static int
run_window(const struct scan *s, const uint32_t *p, const uint32_t *q)
{
	const struct bb_cascade *c = s->c;
	const struct ostump *st = s->st;
	int32_t sum = rect_sum(p, s->norm);
	uint32_t sq = q[s->norm[0]] - q[s->norm[1]] - q[s->norm[2]] + q[s->norm[3]];
	double nf = s->area * (double)sq - (double)sum * (double)sum;
	float vnf;

	if (!(nf > 0.))
		return -1;
	vnf = (float)(1. / sqrt_d(nf));
	if (!(s->area * vnf < 1e-1))
		return -1;
	for (size_t si = 0; si < c->nstage; si++) {
		const struct hstage *g = &c->stage[si];
		double t = 0;

		for (size_t i = 0; i < g->n; i++, st++) {
			float v = st->weight[0] * (float)rect_sum(p, st->o[0]) +
			    st->weight[1] * (float)rect_sum(p, st->o[1]);

			v += st->weight[2] * (float)rect_sum(p, st->o[2]);
			v *= vnf;
			/* An index, not a branch: the outcome is a coin toss to the CPU. */
			t += st->leaf[!(v < st->threshold)];
		}
		if (t < g->threshold)
			return -(int)si;
	}
	return 1;
}

static void
corner_offsets(int32_t o[4], int x, int y, int w, int h, int stride)
{
	o[0] = y * stride + x;
	o[1] = y * stride + x + w;
	o[2] = (y + h) * stride + x;
	o[3] = (y + h) * stride + x + w;
}

static int
push_hit(struct scan *s, int x, int y, int w, int h, struct bb_err *e)
{
	if (s->nhits == s->caphits) {
		size_t n = s->caphits ? s->caphits * 2 : 256;
		struct bb_rect *r = realloc(s->hits, n * sizeof *r);

		if (r == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		s->hits = r;
		s->caphits = n;
	}
	s->hits[s->nhits].x = x;
	s->hits[s->nhits].y = y;
	s->hits[s->nhits].w = w;
	s->hits[s->nhits].h = h;
	s->nhits++;
	return 0;
}

/* Integral images of img (sum and sum of squares), with a zero first row and column,
 * rows `stride` apart. */
static void
integrate(const struct bb_image *img, uint32_t *sum, uint32_t *sq, int stride)
{
	memset(sum, 0, (size_t)(img->w + 1) * sizeof *sum);
	memset(sq, 0, (size_t)(img->w + 1) * sizeof *sq);
	for (int y = 0; y < img->h; y++) {
		const unsigned char *px = img->px + (size_t)y * (size_t)img->w;
		const uint32_t *ps = sum + (size_t)y * (size_t)stride;
		const uint32_t *pq = sq + (size_t)y * (size_t)stride;
		uint32_t *ds = sum + (size_t)(y + 1) * (size_t)stride;
		uint32_t *dq = sq + (size_t)(y + 1) * (size_t)stride;
		uint32_t rs = 0, rq = 0;

		ds[0] = dq[0] = 0;
		for (int x = 0; x < img->w; x++) {
			uint32_t v = px[x];

			rs += v;
			rq += v * v;
			ds[x + 1] = ps[x + 1] + rs;
			dq[x + 1] = pq[x + 1] + rq;
		}
	}
}

/* --- detection --- */

/* The levels of the pyramid: factor 1, scale, scale^2, ... in double, each kept as a
 * float, whose window fits the image and lies within the options' bounds. */
static int
levels(const struct bb_cascade *c, const struct bb_detect_opts *o, int W, int H,
    float **scales, size_t *nscales, struct bb_err *e)
{
	size_t capscales = 0;
	/* OpenCV's meaning: no maximum unless both are given. */
	int max_w = o->max_w && o->max_h ? o->max_w : W;
	int max_h = o->max_w && o->max_h ? o->max_h : H;

	*scales = NULL;
	*nscales = 0;
	for (double factor = 1;; factor *= o->scale) {
		int ww = round_even(c->win_w * factor), wh = round_even(c->win_h * factor);

		if (ww > max_w || wh > max_h || ww > W || wh > H)
			break;
		if (ww < o->min_w || wh < o->min_h)
			continue;
		if (*nscales == capscales) {
			size_t m = capscales ? capscales * 2 : 64;
			float *t = realloc(*scales, m * sizeof *t);

			if (t == NULL)
				return bb_fail(e, BB_SOFTWARE, "out of memory");
			*scales = t;
			capscales = m;
		}
		(*scales)[(*nscales)++] = (float)factor;
	}
	return 0;
}

/* The scan for levels of at most lw0 x lh0 pixels: one stride for every level (the first
 * is the biggest), so the stumps' offsets are computed once; the integral images. */
static int
scan_init(struct scan *s, const struct bb_cascade *c, int W, int lw0, int lh0,
    uint32_t **sum, uint32_t **sq, struct bb_err *e)
{
	s->c = c;
	s->stride = lw0 + 1;
	/* Offsets within a window are int32 (OpenCV's are int too). */
	if ((long long)s->stride * (c->win_h + 1) > INT32_MAX)
		return bb_fail(e, BB_SOFTWARE, "bb_detect: %d pixels wide is too wide", W);
	s->area = (double)(c->win_w - 2) * (c->win_h - 2);
	corner_offsets(s->norm, 1, 1, c->win_w - 2, c->win_h - 2, s->stride);
	*sum = malloc((size_t)(lh0 + 1) * (size_t)s->stride * sizeof **sum);
	*sq = malloc((size_t)(lh0 + 1) * (size_t)s->stride * sizeof **sq);
	s->st = calloc(c->nstump, sizeof *s->st);
	if (*sum == NULL || *sq == NULL || s->st == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	for (size_t i = 0; i < c->nstump; i++) {
		const struct hfeature *f = &c->feature[c->stump[i].feature];
		struct ostump *t = &s->st[i];

		for (int r = 0; r < f->n; r++) {
			corner_offsets(t->o[r], f->r[r].x, f->r[r].y, f->r[r].w, f->r[r].h,
			    s->stride);
			t->weight[r] = f->r[r].weight;
		}
		t->threshold = c->stump[i].threshold;
		t->leaf[0] = c->stump[i].left;
		t->leaf[1] = c->stump[i].right;
	}
	return 0;
}

/* Every window of the level of factor sc: the grey image shrunk to it, integrated into
 * sum and sq, then scanned; the hits in the grey image's pixels. */
static int
scan_level(struct scan *s, const struct bb_image *grey, float sc, int lw0, int lh0,
    uint32_t *sum, uint32_t *sq, struct bb_err *e)
{
	const struct bb_cascade *c = s->c;
	struct bb_image level = { 0, 0, 0, NULL };
	int lw = round_even((float)grey->w / sc), lh = round_even((float)grey->h / sc);
	int step = sc >= 2 ? 1 : 2;
	int ww = round_even((float)c->win_w * sc), wh = round_even((float)c->win_h * sc);
	int xend = lw + 1 - c->win_w, yend = lh + 1 - c->win_h;
	int rc;

	if (lw > lw0 || lh > lh0 || lw <= 0 || lh <= 0)
		return bb_fail(e, BB_SOFTWARE, "bb_detect: level %dx%d", lw, lh);
	if ((rc = bb_haar_resize(grey, lw, lh, &level, e)) != 0)
		return rc;
	integrate(&level, sum, sq, s->stride);
	bb_image_free(&level);
	for (int y = 0; y < yend; y += step) {
		const uint32_t *prow = sum + (size_t)y * (size_t)s->stride;
		const uint32_t *qrow = sq + (size_t)y * (size_t)s->stride;

		for (int x = 0; x < xend; x += step) {
			int res = run_window(s, prow + x, qrow + x);

			if (res > 0 && (rc = push_hit(s, round_even((float)x * sc),
			    round_even((float)y * sc), ww, wh, e)) != 0)
				return rc;
			/* Rejected at once: OpenCV moves on by two steps. */
			if (res == 0)
				x += step;
		}
	}
	return 0;
}

/* Clipped to the image, as CascadeClassifier::detectMultiScale does last; those left
 * with no area go. Returns how many are left. */
static size_t
clip(struct bb_rect *r, size_t n, int W, int H)
{
	size_t i, k;

	for (i = k = 0; i < n; i++) {
		int x1 = r[i].x > 0 ? r[i].x : 0, y1 = r[i].y > 0 ? r[i].y : 0;
		int x2 = r[i].x + r[i].w < W ? r[i].x + r[i].w : W;
		int y2 = r[i].y + r[i].h < H ? r[i].y + r[i].h : H;

		if (x2 > x1 && y2 > y1) {
			r[k].x = x1;
			r[k].y = y1;
			r[k].w = x2 - x1;
			r[k].h = y2 - y1;
			k++;
		}
	}
	return k;
}

int
bb_detect(const struct bb_cascade *c, const struct bb_image *grey,
    const struct bb_detect_opts *o, struct bb_rect **out, size_t *n, struct bb_err *e)
{
	struct scan s;
	float *scales = NULL;
	size_t nscales = 0, k;
	int rc, lw0, lh0;
	uint32_t *sum = NULL, *sq = NULL;

	*out = NULL;
	*n = 0;
	memset(&s, 0, sizeof s);
	if (c == NULL || o == NULL)
		return bb_fail(e, BB_SOFTWARE, "bb_detect: no cascade or no options");
	if (grey == NULL || grey->ch != 1 || grey->px == NULL || grey->w <= 0 || grey->h <= 0)
		return bb_fail(e, BB_SOFTWARE, "bb_detect: not a grey image");
	if (!(o->scale >= 1.001 && o->scale <= 100))
		return bb_fail(e, BB_SOFTWARE, "bb_detect: scale %g: not between 1.001 and 100",
		    o->scale);
	if ((rc = levels(c, o, grey->w, grey->h, &scales, &nscales, e)) != 0 || nscales == 0)
		goto out;
	lw0 = round_even((float)grey->w / scales[0]);
	lh0 = round_even((float)grey->h / scales[0]);
	if ((rc = scan_init(&s, c, grey->w, lw0, lh0, &sum, &sq, e)) != 0)
		goto out;
	for (k = 0; k < nscales; k++)
		if ((rc = scan_level(&s, grey, scales[k], lw0, lh0, sum, sq, e)) != 0)
			goto out;
	if ((*n = bb_haar_group(s.hits, s.nhits, o->min_neighbors, GROUP_EPS)) == (size_t)-1) {
		*n = 0;
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	if ((*n = clip(s.hits, *n, grey->w, grey->h)) > 0) {
		*out = s.hits;
		s.hits = NULL;
	}
out:
	free(scales);
	free(sum);
	free(sq);
	free(s.st);
	free(s.hits);
	return rc;
}
