/* Face and eye detection: a Viola-Jones evaluator of OpenCV's Haar cascades (read at run
 * time from Debian's opencv-data), integral images, an image pyramid and the grouping of
 * neighbouring hits, as OpenCV's CascadeClassifier does it. No OpenCV library. */
#ifndef BB_CAPTURE_HAAR_H
#define BB_CAPTURE_HAAR_H

#include "img/image.h"

#include <stddef.h>

struct bb_err;

#ifndef BB_HAAR_DIR
#define BB_HAAR_DIR "/usr/share/opencv4/haarcascades"
#endif

struct bb_cascade;		/* opaque */
/* Reads an OpenCV (new format, <cascade>) Haar cascade XML with expat. 66 missing, 65
 * malformed (a line number), 70 out of memory. */
int bb_cascade_load(const char *path, struct bb_cascade **out, struct bb_err *e);
void bb_cascade_free(struct bb_cascade *c);
struct bb_rect { int x, y, w, h; };
struct bb_detect_opts {
	double scale;		/* pyramid step, 1.1 */
	int min_neighbors;	/* 3 */
	int min_w, min_h;	/* smallest object, 0: the cascade window */
	int max_w, max_h;	/* largest, 0: the image */
};
/* All objects in a grey image, as OpenCV's CascadeClassifier::detectMultiScale with the
 * same options would find them (same scaling of the image per pyramid level, same step
 * (2 px when the level's factor <= 2, else 1, as cascadedetect.cpp), same feature
 * normalisation, same grouping as groupRectangles with eps 0.2). *n objects in *out
 * (malloc'd). */
int bb_detect(const struct bb_cascade *c, const struct bb_image *grey,
    const struct bb_detect_opts *o, struct bb_rect **out, size_t *n, struct bb_err *e);
/* The shrink each pyramid level is made with: OpenCV 4.6's resize(INTER_LINEAR_EXACT) of
 * an 8-bit grey image, bit for bit (exactly half in both directions is its 2x2 mean),
 * from in to w x h (not larger than in). 70 when it is not
 * a grey image or w x h is not a shrink. */
int bb_haar_resize(const struct bb_image *in, int w, int h, struct bb_image *out,
    struct bb_err *e);

#endif
