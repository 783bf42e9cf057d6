/* What the files of the photo rules share: photo.c (the measurements), photodetect.c
 * (face and eyes, bb_photo_check), photoout.c (crop, JSON, best capture, mirror). Only
 * for lib/capture/photo*.c; everyone else uses capture/photo.h. */
#ifndef BB_CAPTURE_PHOTOINT_H
#define BB_CAPTURE_PHOTOINT_H

#include "capture/photo.h"

/* Where the eyes are in an OpenCV frontal face box when they are not found (measured on
 * astronaut.png: 0.25/0.72 across, 0.36-0.38 down; OpenCV's training crops put them at
 * about 0.3/0.7 and 0.37): image-left eye (0.3, 0.37), image-right eye (0.7, 0.37). */
#define EYE_EST_X 0.3
#define EYE_EST_Y 0.37

/* The grey value as OpenCV's RGB2GRAY computes it (14-bit fixed point of 0.299, 0.587,
 * 0.114), which is what the cascades were trained on. */
static inline unsigned char
grey_of(const unsigned char *p, int ch)
{
	if (ch == 1)
		return p[0];
	return (unsigned char)((p[0] * 4899 + p[1] * 9617 + p[2] * 1868 + 8192) >> 14);
}

/* The centre of r in pixel coordinates. */
static inline double
rect_cx(const struct bb_rect *r)
{
	return r->x + (r->w - 1) / 2.0;
}

static inline double
rect_cy(const struct bb_rect *r)
{
	return r->y + (r->h - 1) / 2.0;
}

/* 70 unless im is an RGB or grey image within BB_IMAGE_MAX_PIXELS. */
int photo_check_image(const struct bb_image *im, const char *what, struct bb_err *e);
/* r clipped to the image; 0 when nothing is left. */
int photo_clip_rect(struct bb_rect *r, int w, int h);
/* A copy of the clipped rectangle rc of in, as grey (ch 1) or in in's channels. */
int photo_copy_region(const struct bb_image *in, const struct bb_rect *rc, int grey,
    struct bb_image *out, struct bb_err *e);

#endif
