/* What the files of lib/img/image* share: the decoders per format (imagepnm.c,
 * imagepng.c, imagejpeg.c, each with its encoder where there is one) and the checks
 * every decoder makes before it allocates; image.c dispatches by magic number and holds
 * the geometry. Only for lib/img/image*.c; everyone else uses img/image.h.
 *
 * Decoders read the header first and refuse zero or more than BB_IMAGE_MAX_PIXELS pixels
 * before anything the size of the image is allocated, so a 60-byte file cannot ask for
 * gigabytes. libpng and libjpeg report through handlers that keep their message for our
 * one-line error and jump back (setjmp) instead of printing or exiting. Each setjmp lives
 * in a small function whose state is in a struct of the caller's frame, so nothing it
 * changes between setjmp and longjmp is an indeterminate local (C11 7.13.2.1). */
#ifndef BB_IMG_IMAGEINT_H
#define BB_IMG_IMAGEINT_H

#include "img/image.h"

#include <stddef.h>

/* name, or "<image>" when there is none, for messages. */
const char *img_name(const char *name);
/* A library's message made fit for one line of ours: printable ASCII only. */
void img_clean_msg(char *s);
/* The size check every decoder makes from the header, before allocating: 65. */
int img_check_size(const char *name, unsigned long w, unsigned long h, struct bb_err *e);
/* 70 unless im can be encoded (1 or 3 channels, 2 with allow_alpha). */
int img_check_encodable(const struct bb_image *im, const char *what, int allow_alpha,
    struct bb_err *e);
/* The decoders of bb_image_decode, by format: out RGB, as bb_image_decode says. */
int img_decode_pnm(const unsigned char *buf, size_t len, const char *name,
    struct bb_image *out, struct bb_err *e);
int img_decode_png(const unsigned char *buf, size_t len, const char *name,
    struct bb_image *out, struct bb_err *e);
int img_decode_jpeg(const unsigned char *buf, size_t len, const char *name,
    struct bb_image *out, struct bb_err *e);

#endif
