/* The inside of a Haar cascade and the arithmetic OpenCV's types dictate (see haar.c),
 * shared by the files of the detector: the loader (haarload.c), the pyramid
 * (haarresize.c), the grouping (haargroup.c) and the evaluation (haar.c). Only for
 * lib/capture/haar*.c; everyone else uses capture/haar.h. */
#ifndef BB_CAPTURE_HAARINT_H
#define BB_CAPTURE_HAARINT_H

#include "capture/haar.h"

#include <math.h>
#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Limits on what a cascade file may declare (OpenCV's own are 10x smaller in practice:
 * 25 stages, 2913 stumps, 2135 features), so a hostile file cannot make us allocate
 * without bound. */
#define MAX_WIN		1024
#define MAX_STAGES	10000
#define MAX_STUMPS	1000000
#define MAX_FEATURES	1000000
#define MAX_TEXT	(64 * 1024)
#define RECT_NUM	3		/* OpenCV's HaarEvaluator::Feature::RECT_NUM */
#define STAGE_EPS	1e-5f		/* OpenCV subtracts it from every stage threshold */
#define GROUP_EPS	0.2

struct hrect {
	int x, y, w, h;
	float weight;
};

struct hfeature {
	int n;
	struct hrect r[RECT_NUM];
	long line;
};

struct hstump {
	int feature;
	float threshold, left, right;
	long line;
};

struct hstage {
	size_t first, n;
	float threshold;
};

struct bb_cascade {
	int win_w, win_h;
	struct hstage *stage;
	size_t nstage;
	struct hstump *stump;
	size_t nstump, capstump;
	struct hfeature *feature;
	size_t nfeature, capfeature;
};

/* No libm (programs linking libbb need not add -lm for us): OpenCV's cvRound rounds half
 * to even (the SSE2 conversion in its default mode); |v| stays far below 2^52 here. */
static inline int
round_even(double v)
{
	long long r = (long long)v;	/* toward zero */
	double f = v - (double)r;

	if (f > 0.5 || (f == 0.5 && (r & 1)))
		r++;
	else if (f < -0.5 || (f == -0.5 && (r & 1)))
		r--;
	return (int)r;
}

/* Correctly rounded, as std::sqrt is. */
static inline double
sqrt_d(double v)
{
#ifdef __SSE2__
	return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(v)));
#else
	return sqrt(v);
#endif
}


/* Replaces r[0..n) by the groups, as groupRectangles(r, threshold, eps); returns their
 * number, or (size_t)-1 out of memory. */
size_t bb_haar_group(struct bb_rect *r, size_t n, int threshold, double eps);

#endif
