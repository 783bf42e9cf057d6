/* Images for bb-capture: decoding camera frames and files (PNG, JPEG, PPM) with limits
 * checked before anything is allocated, encoding (JPEG at the highest quality, PNG), and
 * the geometry the photo needs (grey, shrink, crop with rotation). */
#ifndef BB_IMG_IMAGE_H
#define BB_IMG_IMAGE_H

#include <stddef.h>

struct bb_err;

struct bb_image {
	int w, h;		/* pixels */
	int ch;			/* 3 (RGB) or 1 (grey) */
	unsigned char *px;	/* w * h * ch bytes, rows top to bottom, no padding */
};
#define BB_IMAGE_MAX_PIXELS (50L * 1000 * 1000)	/* larger: refused before allocating */
int bb_image_new(struct bb_image *im, int w, int h, int ch, struct bb_err *e); /* zeroed */
void bb_image_free(struct bb_image *im);
/* PNG, JPEG or PPM/PGM (P6/P5, maxval 255) by magic number, from memory; always RGB out
 * (grey and palette expanded, alpha composited on white, 16-bit reduced). name for
 * messages. 65 with a one-line reason for anything truncated, corrupt, zero-sized, or over
 * BB_IMAGE_MAX_PIXELS (checked from the header, before decoding). */
int bb_image_decode(const unsigned char *buf, size_t len, const char *name,
    struct bb_image *out, struct bb_err *e);
/* The length of the first image in buf: a PPM/PGM frame's header and samples (so a
 * stream of them splits into frames), else len (one PNG or JPEG per input). */
size_t bb_image_frame_len(const unsigned char *buf, size_t len);
/* JPEG at quality 100, 4:4:4 (no chroma subsampling), baseline; PNG (8-bit RGB or grey,
 * or grey+alpha with ch 2). malloc'd buffer. */
int bb_image_jpeg(const struct bb_image *im, unsigned char **out, size_t *len, struct bb_err *e);
int bb_image_png(const struct bb_image *im, unsigned char **out, size_t *len, struct bb_err *e);
/* Luminance (grey, 1 channel): Y = 0.299R + 0.587G + 0.114B, rounded (as OpenCV's
 * COLOR_RGB2GRAY, so face detection matches it). */
int bb_image_grey(const struct bb_image *in, struct bb_image *out, struct bb_err *e);
/* Bilinear downscale by area (INTER_AREA-like) to w x h (never larger than in). */
int bb_image_shrink(const struct bb_image *in, int w, int h, struct bb_image *out, struct bb_err *e);
/* The w x h window whose centre is (cx, cy) in `in`, rotated by angle degrees (counter-
 * clockwise positive) about that centre, bilinear; outside pixels take fill (R=G=B). */
int bb_image_crop_rotate(const struct bb_image *in, double cx, double cy, double angle,
    int w, int h, unsigned char fill, struct bb_image *out, struct bb_err *e);
/* Camera frame formats (V4L2): YUYV 4:2:2 to RGB (BT.601 limited range, as V4L2's
 * default); MJPEG frames go through bb_image_decode. */
int bb_image_from_yuyv(const unsigned char *buf, size_t len, int w, int h,
    struct bb_image *out, struct bb_err *e);
/* The same for a frame whose lines are stride bytes apart (V4L2's bytesperline, which a
 * driver may pad beyond 2 * w). w must be even. */
int bb_image_from_yuyv_stride(const unsigned char *buf, size_t len, int w, int h,
    size_t stride, struct bb_image *out, struct bb_err *e);

#endif
