/* PNG with libpng: decoding (imageint.h) and bb_image_png. */
#include "img/imageint.h"
#include "diag.h"
#include "exit.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/* libpng's per-axis limit: its own default made explicit (a libpng built with other
 * defaults must not accept more); the pixel count is the real limit, checked by us. */
#define PNG_AXIS_MAX	1000000
/* Largest ancillary chunk libpng may allocate (iCCP, zTXt, ... decompressed). */
#define PNG_CHUNK_MAX	(8L * 1024 * 1024)
/* PNG with libpng: the whole state in one struct on the caller's side of the setjmp. */
struct png_dec {
	const unsigned char *buf;
	size_t len, pos;
	const char *name;
	struct bb_err *e;
	png_structp png;
	png_infop info;
	struct bb_image *out;
	unsigned char *rgba;	/* when the image has alpha: composited afterwards */
	png_bytep *rows;
	int status;		/* our own failure (size, memory), else 0: libpng's why */
	char why[160];
};

static void
png_err_fn(png_structp png, png_const_charp msg)
{
	struct png_dec *d = png_get_error_ptr(png);

	snprintf(d->why, sizeof d->why, "%s", msg != NULL ? msg : "error");
	png_longjmp(png, 1);
}

static void
png_warn_fn(png_structp png, png_const_charp msg)
{
	/* Warnings are about ancillary chunks libpng then ignores (bad CRC on a text chunk,
	 * an odd ICC profile): the pixels are intact, so they are no reason to refuse. */
	(void)png;
	(void)msg;
}

static void
png_read_mem(png_structp png, png_bytep data, size_t n)
{
	struct png_dec *d = png_get_io_ptr(png);

	if (n > d->len - d->pos)
		png_error(png, "truncated");
	memcpy(data, d->buf + d->pos, n);
	d->pos += n;
}

/* 0, or -1 with d->status (ours, e set) or d->why (libpng's message). */
static int
png_run(struct png_dec *d)
{
	png_uint_32 w, h, y;
	int depth, ctype, alpha, nch, rc;

	if (setjmp(png_jmpbuf(d->png)))
		return -1;
	png_set_user_limits(d->png, PNG_AXIS_MAX, PNG_AXIS_MAX);
	png_set_chunk_malloc_max(d->png, PNG_CHUNK_MAX);
	png_set_chunk_cache_max(d->png, 128);
	png_set_read_fn(d->png, d, png_read_mem);
	png_read_info(d->png, d->info);
	png_get_IHDR(d->png, d->info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
	if ((rc = img_check_size(d->name, w, h, d->e)) != 0) {
		d->status = rc;
		return -1;
	}
	/* Everything to 8-bit RGB(A); gamma and ICC profiles are not applied: the values are
	 * taken as sRGB, as a camera or a photographer's file has them. */
	alpha = (ctype & PNG_COLOR_MASK_ALPHA) != 0 ||
	    png_get_valid(d->png, d->info, PNG_INFO_tRNS) != 0;
	png_set_expand(d->png);
	png_set_scale_16(d->png);
	png_set_gray_to_rgb(d->png);
	(void)png_set_interlace_handling(d->png);
	png_read_update_info(d->png, d->info);
	nch = png_get_channels(d->png, d->info);
	if (png_get_bit_depth(d->png, d->info) != 8 || nch != (alpha ? 4 : 3) ||
	    png_get_rowbytes(d->png, d->info) != (size_t)w * (size_t)nch)
		png_error(d->png, "unexpected layout after conversion");

	if ((rc = bb_image_new(d->out, (int)w, (int)h, 3, d->e)) != 0) {
		d->status = rc;
		return -1;
	}
	if (alpha && (d->rgba = malloc((size_t)w * h * 4)) == NULL) {
		d->status = bb_fail(d->e, BB_SOFTWARE, "out of memory");
		return -1;
	}
	if ((d->rows = malloc(h * sizeof *d->rows)) == NULL) {
		d->status = bb_fail(d->e, BB_SOFTWARE, "out of memory");
		return -1;
	}
	for (y = 0; y < h; y++)
		d->rows[y] = (alpha ? d->rgba : d->out->px) + (size_t)y * w * (size_t)nch;
	png_read_image(d->png, d->rows);
	/* To IEND, so a file cut after the pixels is still refused. */
	png_read_end(d->png, NULL);
	if (alpha) {
		/* Composited on white: the passport photo background is light, and a
		 * transparent signature pad export must come out as paper. */
		size_t i, n = (size_t)w * h;

		for (i = 0; i < n; i++) {
			const unsigned char *s = d->rgba + 4 * i;
			unsigned a = s[3];
			int c;

			for (c = 0; c < 3; c++)
				d->out->px[3 * i + (size_t)c] =
				    (unsigned char)((s[c] * a + 255 * (255 - a) + 127) / 255);
		}
	}
	return 0;
}

int
img_decode_png(const unsigned char *buf, size_t len, const char *name, struct bb_image *out,
    struct bb_err *e)
{
	struct png_dec d;
	int rc;

	memset(&d, 0, sizeof d);
	d.buf = buf;
	d.len = len;
	d.name = name;
	d.e = e;
	d.out = out;
	memset(out, 0, sizeof *out);
	d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, png_err_fn, png_warn_fn);
	if (d.png == NULL || (d.info = png_create_info_struct(d.png)) == NULL) {
		png_destroy_read_struct(&d.png, NULL, NULL);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	rc = png_run(&d);
	png_destroy_read_struct(&d.png, &d.info, NULL);
	free(d.rows);
	free(d.rgba);
	if (rc == 0)
		return 0;
	bb_image_free(out);
	if (d.status != 0)
		return d.status;
	img_clean_msg(d.why);
	if (strcmp(d.why, "Out of memory") == 0)
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory decoding PNG", img_name(name));
	return bb_fail(e, BB_DATAERR, "%s: not a valid PNG image: %s", img_name(name), d.why);
}

struct png_enc {
	png_structp png;
	png_infop info;
	const struct bb_image *im;
	unsigned char *buf;
	size_t len, cap;
	char why[160];
};

static void
png_enc_err(png_structp png, png_const_charp msg)
{
	struct png_enc *d = png_get_error_ptr(png);

	snprintf(d->why, sizeof d->why, "%s", msg != NULL ? msg : "error");
	png_longjmp(png, 1);
}

static void
png_write_mem(png_structp png, png_bytep data, size_t n)
{
	struct png_enc *d = png_get_io_ptr(png);

	if (n > d->cap - d->len) {
		size_t cap = d->cap != 0 ? d->cap : 65536;
		unsigned char *p;

		while (n > cap - d->len) {
			if (cap > SIZE_MAX / 2)
				png_error(png, "Out of memory");
			cap *= 2;
		}
		if ((p = realloc(d->buf, cap)) == NULL)
			png_error(png, "Out of memory");
		d->buf = p;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, data, n);
	d->len += n;
}

static void
png_flush_mem(png_structp png)
{
	(void)png;
}

static int
png_enc_run(struct png_enc *d)
{
	const struct bb_image *im = d->im;
	size_t stride = (size_t)im->w * (size_t)im->ch;
	int y;

	if (setjmp(png_jmpbuf(d->png)))
		return -1;
	png_set_write_fn(d->png, d, png_write_mem, png_flush_mem);
	png_set_IHDR(d->png, d->info, (png_uint_32)im->w, (png_uint_32)im->h, 8,
	    im->ch == 3 ? PNG_COLOR_TYPE_RGB : im->ch == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA :
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(d->png, d->info);
	for (y = 0; y < im->h; y++)
		png_write_row(d->png, im->px + (size_t)y * stride);
	png_write_end(d->png, NULL);
	return 0;
}

int
bb_image_png(const struct bb_image *im, unsigned char **out, size_t *len, struct bb_err *e)
{
	struct png_enc d;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = img_check_encodable(im, "PNG", 1, e)) != 0)
		return rc;
	memset(&d, 0, sizeof d);
	d.im = im;
	d.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &d, png_enc_err, png_warn_fn);
	if (d.png == NULL || (d.info = png_create_info_struct(d.png)) == NULL) {
		png_destroy_write_struct(&d.png, NULL);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	rc = png_enc_run(&d);
	png_destroy_write_struct(&d.png, &d.info);
	if (rc != 0) {
		free(d.buf);
		img_clean_msg(d.why);
		return bb_fail(e, BB_SOFTWARE, "PNG encoding: %s", d.why);
	}
	*out = d.buf;
	*len = d.len;
	return 0;
}
