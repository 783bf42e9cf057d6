/* The passport photo to BSI TR-03121-3 Vol. 2 (v6.0, 2023): measurements with their
 * bounds (table 5.3), guidance for the live mirror (5.8.1), the best capture (5.4.1), the
 * crop with roll correction and no upscaling (5.3.1). */
#ifndef BB_CAPTURE_PHOTO_H
#define BB_CAPTURE_PHOTO_H

#include "capture/haar.h"
#include "img/image.h"

#include <jansson.h>
#include <stddef.h>

struct bb_err;

enum bb_photo_profile { BB_PHOTO_LIVE, BB_PHOTO_SCAN };
struct bb_measure {
	const char *name;	/* "inter_eye_distance", "head_width_ratio", ... */
	double value, min, max;	/* NaN bound: none */
	int mandatory, pass;
	const char *hint_de, *hint_en;	/* guidance when failing, NULL when passing */
};
struct bb_photo_result {
	int faces;		/* faces detected */
	struct bb_rect face, eye_l, eye_r;	/* in the input frame */
	double roll;		/* degrees, from the eye line */
	struct bb_measure m[24];
	size_t nm;
	int mandatory_failed, optional_failed;
	int compliant;		/* no mandatory failure */
	/* the crop: centre, angle and size in the input frame that give the output image */
	double crop_cx, crop_cy, crop_angle, crop_scale;
	int out_w, out_h;	/* 1244x1600 or 622x800 */
};
/* Detects, measures, decides (cascades loaded by the caller). */
int bb_photo_check(const struct bb_cascade *face, const struct bb_cascade *eye,
    const struct bb_image *frame, enum bb_photo_profile profile, struct bb_photo_result *r,
    struct bb_err *e);
/* The compliant output image: crop and roll-correct only, never upscale (70 if the
 * result says it would). */
int bb_photo_crop(const struct bb_image *frame, const struct bb_photo_result *r,
    struct bb_image *out, struct bb_err *e);
/* The measurements as JSON (value, bound(s), pass, mandatory, hint_de/hint_en). */
json_t *bb_photo_json(const struct bb_photo_result *r);
/* Best capture (§5.4.1): 1 when a is better than b: more mandatory met, then more
 * optional, then newer (a is newer when tie). */
int bb_photo_better(const struct bb_photo_result *a, const struct bb_photo_result *b);
/* The mirror image: the frame with the face box (and eye points) drawn, shrunk to width w. */
int bb_photo_mirror(const struct bb_image *frame, const struct bb_photo_result *r, int w,
    struct bb_image *out, struct bb_err *e);

/* Added for testing and for the mirror's one-line guidance (bb-capture). */

/* eye_l is the eye on the image's left, i.e. the person's right eye; eye_r the other.
 * roll is atan2 of the line from eye_l's centre to eye_r's, in degrees, y downwards:
 * positive when the image-right eye is lower (the head tilted clockwise as the camera
 * sees it); crop_angle = -roll in bb_image_crop_rotate's counter-clockwise convention.
 * Eyes not found: estimated from the face box, eye_l/eye_r then have w = h = 0 at the
 * estimated point, roll and inter_eye_distance fail with "look straight". crop_cx/cy are
 * in pixel coordinates (pixel (0, 0)'s centre at 0, 0), crop_scale is frame pixels per
 * output pixel (< 1: would need upscaling). The measures are always all present, in the
 * order guidance should be given (single_face, image_size, roll, head_height_ratio,
 * head_width_ratio, inter_eye_distance, horizontal_position, vertical_position,
 * underexposure, overexposure, dynamic_range, sharpness, background_uniformity,
 * background_colour, background_level); a measure that could not be taken has a NaN
 * value and fails. Hints for left/right are the person's own directions: a face on the
 * image's left gets "Bitte nach links". */

/* bb_photo_check without the detection: the measurements, the decision and the crop for
 * a face box and eyes (frame coordinates) found by someone else. faces: how many faces
 * were seen (0: face is ignored). eye_l, eye_r NULL (or w 0): estimated from the face. */
int bb_photo_measure(const struct bb_image *frame, int faces, const struct bb_rect *face,
    const struct bb_rect *eye_l, const struct bb_rect *eye_r, enum bb_photo_profile profile,
    struct bb_photo_result *r, struct bb_err *e);
/* The first failing measure with a hint (mandatory ones first), NULL when none: what the
 * mirror says. */
const struct bb_measure *bb_photo_advice(const struct bb_photo_result *r);
/* The name of a hint from its English text (hint_en): "closer", "left", "no_face", ...;
 * NULL for a text that is no hint. The screen says it as catalogue key guide.NAME. */
const char *bb_photo_hint_key(const char *hint_en);
/* The measure called name, NULL if there is none. */
const struct bb_measure *bb_photo_find(const struct bb_photo_result *r, const char *name);

#endif
