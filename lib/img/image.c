/* Images: see image.h.
 *
 * Decoders read the header first and refuse zero or more than BB_IMAGE_MAX_PIXELS pixels
 * before anything the size of the image is allocated, so a 60-byte file cannot ask for
 * gigabytes. libpng and libjpeg report through handlers that keep their message for our
 * one-line error and jump back (setjmp) instead of printing or exiting. Each setjmp lives
 * in a small function whose state is in a struct of the caller's frame, so nothing it
 * changes between setjmp and longjmp is an indeterminate local (C11 7.13.2.1). */
#include "img/image.h"
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
#include <jpeglib.h>
#include <jerror.h>

/* libpng's per-axis limit: its own default made explicit (a libpng built with other
 * defaults must not accept more); the pixel count is the real limit, checked by us. */
#define PNG_AXIS_MAX	1000000
/* Largest ancillary chunk libpng may allocate (iCCP, zTXt, ... decompressed). */
#define PNG_CHUNK_MAX	(8L * 1024 * 1024)
/* Progressive JPEGs can carry thousands of tiny scans, each a pass over the whole
 * coefficient buffer: a CPU bomb in a small file. Real encoders write about 10 (djpeg's
 * -maxscan guards against the same). */
#define JPEG_SCANS_MAX	256

int
bb_image_new(struct bb_image *im, int w, int h, int ch, struct bb_err *e)
{
	memset(im, 0, sizeof *im);
	if (w <= 0 || h <= 0 || (ch != 1 && ch != 2 && ch != 3) ||
	    (long)w * h > BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_DATAERR, "image: %dx%d: not a size an image may have", w, h);
	if ((im->px = calloc((size_t)w * (size_t)h, (size_t)ch)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	im->w = w;
	im->h = h;
	im->ch = ch;
	return 0;
}

void
bb_image_free(struct bb_image *im)
{
	free(im->px);
	memset(im, 0, sizeof *im);
}

/* --- decoding --- */

static const char *
nm(const char *name)
{
	return name != NULL && *name != '\0' ? name : "<image>";
}

/* A library's message made fit for one line of ours: printable ASCII only, bounded. */
static void
clean_msg(char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s) || (unsigned char)*s > 126)
			*s = '?';
}

/* The size check every decoder makes from the header, before allocating. */
static int
check_size(const char *name, unsigned long w, unsigned long h, struct bb_err *e)
{
	if (w == 0 || h == 0)
		return bb_fail(e, BB_DATAERR, "%s: image has no pixels (%lux%lu)", nm(name), w, h);
	if (w > (unsigned long)BB_IMAGE_MAX_PIXELS || h > (unsigned long)BB_IMAGE_MAX_PIXELS ||
	    (unsigned long long)w * h > (unsigned long long)BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_DATAERR, "%s: %lux%lu pixels: more than the %ld allowed",
		    nm(name), w, h, (long)BB_IMAGE_MAX_PIXELS);
	return 0;
}

/* PPM/PGM (netpbm "raw"): P6 or P5, blank- or comment-separated width, height and maxval,
 * one blank, then the samples. maxval up to 255 (scaled to 255); 16-bit samples are not
 * something a camera or our tools write. Data after the first image is ignored (netpbm
 * allows several images in one file). */
static int
pnm_number(const unsigned char *buf, size_t len, size_t *pos, unsigned long *v)
{
	size_t i = *pos;
	int digits = 0;

	for (;;) {
		while (i < len && isspace(buf[i]))
			i++;
		if (i < len && buf[i] == '#') {
			while (i < len && buf[i] != '\n' && buf[i] != '\r')
				i++;
			continue;
		}
		break;
	}
	*v = 0;
	while (i < len && isdigit(buf[i])) {
		if (++digits > 9)
			break;	/* no field has a meaningful value this long */
		*v = *v * 10 + (unsigned long)(buf[i++] - '0');
	}
	*pos = i;	/* where it went wrong: the end means truncated */
	return digits == 0 || digits > 9 ? -1 : 0;
}

size_t
bb_image_frame_len(const unsigned char *buf, size_t len)
{
	unsigned long w, h, maxval;
	size_t pos = 2, ch;

	if (len < 3 || buf[0] != 'P' || (buf[1] != '5' && buf[1] != '6') ||
	    !(isspace(buf[2]) || buf[2] == '#'))
		return len;
	ch = buf[1] == '6' ? 3 : 1;
	/* The header read as decode_pnm reads it, so a stream splits where it decodes. */
	if (pnm_number(buf, len, &pos, &w) != 0 || pnm_number(buf, len, &pos, &h) != 0 ||
	    pnm_number(buf, len, &pos, &maxval) != 0 || w == 0 || h == 0 ||
	    pos >= len || !isspace(buf[pos]))
		return len;
	pos++;
	if ((len - pos) / ch / w < h)
		return len;	/* truncated: the decoder says so */
	return pos + (size_t)w * h * ch;
}

static int
decode_pnm(const unsigned char *buf, size_t len, const char *name, struct bb_image *out,
    struct bb_err *e)
{
	unsigned long w, h, maxval;
	size_t pos = 2, need, n, i;
	int ch = buf[1] == '6' ? 3 : 1, rc;
	const unsigned char *src;

	if (len < 3 || !(isspace(buf[2]) || buf[2] == '#'))
		return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: header %s", nm(name),
		    len < 3 ? "truncated" : "malformed");
	if (pnm_number(buf, len, &pos, &w) != 0 || pnm_number(buf, len, &pos, &h) != 0 ||
	    pnm_number(buf, len, &pos, &maxval) != 0)
		return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: header %s", nm(name),
		    pos >= len ? "truncated" : "malformed");
	if ((rc = check_size(name, w, h, e)) != 0)
		return rc;
	if (maxval == 0 || maxval > 255)
		return bb_fail(e, BB_DATAERR, "%s: PPM/PGM maxval %lu: only 1 to 255 supported",
		    nm(name), maxval);
	if (pos >= len || !isspace(buf[pos]))
		return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: header %s", nm(name),
		    pos >= len ? "truncated" : "malformed");
	pos++;
	n = (size_t)w * h;
	need = n * (size_t)ch;
	if (len - pos < need)
		return bb_fail(e, BB_DATAERR,
		    "%s: not a valid PPM/PGM image: truncated (%zu bytes of pixels, %zu needed)",
		    nm(name), len - pos, need);
	if ((rc = bb_image_new(out, (int)w, (int)h, 3, e)) != 0)
		return rc;
	src = buf + pos;
	for (i = 0; i < n; i++) {
		unsigned char *d = out->px + 3 * i;
		unsigned v[3];
		int c;

		for (c = 0; c < 3; c++) {
			v[c] = src[ch == 3 ? 3 * i + (size_t)c : i];
			if (v[c] > maxval)
				goto bad;
			d[c] = (unsigned char)((v[c] * 255 + maxval / 2) / maxval);
		}
	}
	return 0;
bad:
	bb_image_free(out);
	return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: sample above maxval %lu",
	    nm(name), maxval);
}

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
	if ((rc = check_size(d->name, w, h, d->e)) != 0) {
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

static int
decode_png(const unsigned char *buf, size_t len, const char *name, struct bb_image *out,
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
	clean_msg(d.why);
	if (strcmp(d.why, "Out of memory") == 0)
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory decoding PNG", nm(name));
	return bb_fail(e, BB_DATAERR, "%s: not a valid PNG image: %s", nm(name), d.why);
}

/* JPEG with libjpeg(-turbo). */
struct jpeg_err {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char why[JMSG_LENGTH_MAX];
	int oom;
};

static void
jpeg_err_exit(j_common_ptr cinfo)
{
	struct jpeg_err *je = (struct jpeg_err *)cinfo->err;

	if (je->why[0] == '\0')
		(*cinfo->err->format_message)(cinfo, je->why);
	je->oom = cinfo->err->msg_code == JERR_OUT_OF_MEMORY;
	longjmp(je->jb, 1);
}

/* libjpeg's own output_message prints to stderr: never. */
static void
jpeg_output(j_common_ptr cinfo)
{
	(void)cinfo;
}

/* libjpeg reports damaged data as a warning and goes on with invented pixels (grey for a
 * truncated file): for us that is an error. Warnings about metadata that does not touch
 * the pixels stay warnings (and are dropped), and so do padding bytes between markers
 * (JWRN_EXTRANEOUS_DATA): cameras pad their MJPEG frames, and no pixel is invented. */
static void
jpeg_emit(j_common_ptr cinfo, int level)
{
	if (level >= 0)
		return;		/* trace messages */
	switch (cinfo->err->msg_code) {
	case JWRN_ADOBE_XFORM:
	case JWRN_JFIF_MAJOR:
	case JWRN_BOGUS_ICC:
	case JWRN_EXTRANEOUS_DATA:
		return;
	default:
		jpeg_err_exit(cinfo);
	}
}

static void
jpeg_progress(j_common_ptr cinfo)
{
	if (cinfo->is_decompressor &&
	    ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_SCANS_MAX) {
		struct jpeg_err *je = (struct jpeg_err *)cinfo->err;

		snprintf(je->why, sizeof je->why, "more than %d scans", JPEG_SCANS_MAX);
		longjmp(je->jb, 1);
	}
}

static void
jpeg_err_init(struct jpeg_err *je)
{
	memset(je, 0, sizeof *je);
	jpeg_std_error(&je->pub);
	je->pub.error_exit = jpeg_err_exit;
	je->pub.output_message = jpeg_output;
	je->pub.emit_message = jpeg_emit;
}

struct jpeg_dec {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_err je;
	struct jpeg_progress_mgr progress;
	const unsigned char *buf;
	size_t len;
	const char *name;
	struct bb_err *e;
	struct bb_image *out;
	int status;
};

static int
jpeg_run(struct jpeg_dec *d)
{
	struct jpeg_decompress_struct *ci = &d->cinfo;
	int rc;

	if (setjmp(d->je.jb))
		return -1;
	jpeg_create_decompress(ci);
	ci->progress = &d->progress;
	d->progress.progress_monitor = jpeg_progress;
	jpeg_mem_src(ci, d->buf, (unsigned long)d->len);
	(void)jpeg_read_header(ci, TRUE);
	if ((rc = check_size(d->name, ci->image_width, ci->image_height, d->e)) != 0) {
		d->status = rc;
		return -1;
	}
	/* Grey and YCbCr to RGB; CMYK cannot be converted and is refused by libjpeg. EXIF
	 * orientation is not applied: cameras and our own files do not set it. */
	ci->out_color_space = JCS_RGB;
	ci->dct_method = JDCT_ISLOW;
	(void)jpeg_start_decompress(ci);
	if (ci->output_components != 3 || ci->output_width != ci->image_width ||
	    ci->output_height != ci->image_height) {
		snprintf(d->je.why, sizeof d->je.why, "unexpected layout after conversion");
		return -1;
	}
	if ((rc = bb_image_new(d->out, (int)ci->output_width, (int)ci->output_height, 3,
	    d->e)) != 0) {
		d->status = rc;
		return -1;
	}
	while (ci->output_scanline < ci->output_height) {
		JSAMPROW row = d->out->px + (size_t)ci->output_scanline * ci->output_width * 3;

		if (jpeg_read_scanlines(ci, &row, 1) != 1) {
			snprintf(d->je.why, sizeof d->je.why, "no progress decoding");
			return -1;
		}
	}
	/* To EOI: a file missing its end is refused (the warning above). */
	(void)jpeg_finish_decompress(ci);
	return 0;
}

static int
decode_jpeg(const unsigned char *buf, size_t len, const char *name, struct bb_image *out,
    struct bb_err *e)
{
	struct jpeg_dec d;
	int rc;

	memset(&d, 0, sizeof d);
	memset(out, 0, sizeof *out);
	jpeg_err_init(&d.je);
	d.cinfo.err = &d.je.pub;
	d.buf = buf;
	d.len = len;
	d.name = name;
	d.e = e;
	d.out = out;
	rc = jpeg_run(&d);
	jpeg_destroy_decompress(&d.cinfo);
	if (rc == 0)
		return 0;
	bb_image_free(out);
	if (d.status != 0)
		return d.status;
	if (d.je.oom)
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory decoding JPEG", nm(name));
	clean_msg(d.je.why);
	return bb_fail(e, BB_DATAERR, "%s: not a valid JPEG image: %s", nm(name), d.je.why);
}

int
bb_image_decode(const unsigned char *buf, size_t len, const char *name,
    struct bb_image *out, struct bb_err *e)
{
	static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	memset(out, 0, sizeof *out);
	if (buf == NULL || len == 0)
		return bb_fail(e, BB_DATAERR, "%s: empty, not an image", nm(name));
	if (len >= 8 && memcmp(buf, png_magic, 8) == 0)
		return decode_png(buf, len, name, out, e);
	if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
		return decode_jpeg(buf, len, name, out, e);
	if (len >= 2 && buf[0] == 'P' && (buf[1] == '5' || buf[1] == '6'))
		return decode_pnm(buf, len, name, out, e);
	return bb_fail(e, BB_DATAERR, "%s: not a PNG, JPEG or PPM/PGM image%s", nm(name),
	    len < 8 ? " (too short)" : "");
}

/* --- encoding --- */

struct jpeg_enc {
	struct jpeg_compress_struct cinfo;
	struct jpeg_err je;
	const struct bb_image *im;
	unsigned char *buf;	/* jpeg_mem_dest's, malloc'd: ours to free */
	unsigned long len;
};

static int
jpeg_enc_run(struct jpeg_enc *d)
{
	struct jpeg_compress_struct *ci = &d->cinfo;
	int i;

	if (setjmp(d->je.jb))
		return -1;
	jpeg_create_compress(ci);
	jpeg_mem_dest(ci, &d->buf, &d->len);
	ci->image_width = (JDIMENSION)d->im->w;
	ci->image_height = (JDIMENSION)d->im->h;
	ci->input_components = d->im->ch;
	ci->in_color_space = d->im->ch == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(ci);
	/* BSI TR-03121-3 5.12: the highest quality; no chroma subsampling (4:4:4), as
	 * subsampling halves the colour resolution whatever the quality; baseline (quality
	 * 100 tables fit in 8 bits) for every reader; optimised Huffman tables cost nothing
	 * in quality. */
	jpeg_set_quality(ci, 100, TRUE);
	for (i = 0; i < ci->num_components; i++) {
		ci->comp_info[i].h_samp_factor = 1;
		ci->comp_info[i].v_samp_factor = 1;
	}
	ci->optimize_coding = TRUE;
	ci->dct_method = JDCT_ISLOW;
	jpeg_start_compress(ci, TRUE);
	while (ci->next_scanline < ci->image_height) {
		/* libjpeg's prototype is not const; it only reads the row. */
		JSAMPROW row = (JSAMPROW)(d->im->px +
		    (size_t)ci->next_scanline * (size_t)d->im->w * (size_t)d->im->ch);

		(void)jpeg_write_scanlines(ci, &row, 1);
	}
	jpeg_finish_compress(ci);
	return 0;
}

static int
check_encodable(const struct bb_image *im, const char *what, int allow_alpha,
    struct bb_err *e)
{
	if (im == NULL || im->px == NULL || im->w <= 0 || im->h <= 0 ||
	    (long)im->w * im->h > BB_IMAGE_MAX_PIXELS ||
	    (im->ch != 1 && im->ch != 3 && !(allow_alpha && im->ch == 2)))
		return bb_fail(e, BB_SOFTWARE, "%s: cannot encode a %dx%d image of %d channels",
		    what, im != NULL ? im->w : 0, im != NULL ? im->h : 0, im != NULL ? im->ch : 0);
	return 0;
}

int
bb_image_jpeg(const struct bb_image *im, unsigned char **out, size_t *len, struct bb_err *e)
{
	struct jpeg_enc d;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = check_encodable(im, "JPEG", 0, e)) != 0)
		return rc;
	memset(&d, 0, sizeof d);
	jpeg_err_init(&d.je);
	d.cinfo.err = &d.je.pub;
	d.im = im;
	rc = jpeg_enc_run(&d);
	jpeg_destroy_compress(&d.cinfo);
	if (rc != 0) {
		free(d.buf);
		clean_msg(d.je.why);
		return bb_fail(e, BB_SOFTWARE, "JPEG encoding: %s", d.je.why);
	}
	*out = d.buf;
	*len = d.len;
	return 0;
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
	if ((rc = check_encodable(im, "PNG", 1, e)) != 0)
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
		clean_msg(d.why);
		return bb_fail(e, BB_SOFTWARE, "PNG encoding: %s", d.why);
	}
	*out = d.buf;
	*len = d.len;
	return 0;
}

/* --- pixels --- */

static int
check_input(const struct bb_image *in, const char *what, struct bb_err *e)
{
	if (in == NULL || in->px == NULL || in->w <= 0 || in->h <= 0 || in->ch < 1 ||
	    in->ch > 3)
		return bb_fail(e, BB_SOFTWARE, "%s: not an image", what);
	return 0;
}

static unsigned char
clamp255(long v)
{
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* OpenCV's COLOR_RGB2GRAY exactly, so detection sees the grey OpenCV's does: 4.x uses
 * 15-bit coefficients (RY15, GY15, BY15 in imgproc/src/color.hpp, rounding 1 << 14). The
 * older 14-bit form (4899, 9617, 1868 >> 14) differs by one on 43864 of the 16777216
 * colours; this one matches python3-opencv 4.6 on all of them. */
int
bb_image_grey(const struct bb_image *in, struct bb_image *out, struct bb_err *e)
{
	size_t i, n;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = check_input(in, "grey", e)) != 0)
		return rc;
	if ((rc = bb_image_new(out, in->w, in->h, 1, e)) != 0)
		return rc;
	n = (size_t)in->w * (size_t)in->h;
	if (in->ch != 3) {
		/* Already grey (with alpha when ch is 2: dropped). */
		for (i = 0; i < n; i++)
			out->px[i] = in->px[i * (size_t)in->ch];
		return 0;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *p = in->px + 3 * i;

		out->px[i] = (unsigned char)((p[0] * 9798u + p[1] * 19235u + p[2] * 3735u +
		    16384u) >> 15);
	}
	return 0;
}

/* Area resampling along one axis: output o covers input [o*in/out, (o+1)*in/out), each
 * input sample weighted by how much of it lies inside (OpenCV's INTER_AREA). */
struct span {
	int first, n;		/* input indices first .. first+n-1 */
	size_t w;		/* offset of its weights */
};

static int
spans(int in_n, int out_n, struct span **sp, float **wt)
{
	double scale = (double)in_n / out_n;
	int o, i, per = (int)ceil(scale) + 1;
	size_t k = 0;

	*sp = malloc((size_t)out_n * sizeof **sp);
	*wt = malloc((size_t)out_n * (size_t)per * sizeof **wt);
	if (*sp == NULL || *wt == NULL)
		return -1;
	for (o = 0; o < out_n; o++) {
		double a = o * scale, b = (o + 1) * scale;
		int i0 = (int)floor(a), i1 = (int)ceil(b);

		if (o == out_n - 1)
			b = in_n;	/* no rounding loss at the far edge */
		if (i1 > in_n)
			i1 = in_n;
		if (i1 - i0 > per)
			i1 = i0 + per;
		(*sp)[o].first = i0;
		(*sp)[o].w = k;
		(*sp)[o].n = 0;
		for (i = i0; i < i1; i++) {
			double lo = a > i ? a : i, hi = b < i + 1 ? b : i + 1;

			if (hi - lo <= 1e-12)
				continue;
			if ((*sp)[o].n == 0)
				(*sp)[o].first = i;
			(*wt)[k++] = (float)((hi - lo) / (b - a));
			(*sp)[o].n++;
		}
	}
	return 0;
}

int
bb_image_shrink(const struct bb_image *in, int w, int h, struct bb_image *out,
    struct bb_err *e)
{
	struct span *sx = NULL, *sy = NULL;
	float *wx = NULL, *wy = NULL, *tmp = NULL;
	int rc, x, y, c, ch;

	memset(out, 0, sizeof *out);
	if ((rc = check_input(in, "shrink", e)) != 0)
		return rc;
	if (w <= 0 || h <= 0 || w > in->w || h > in->h)
		return bb_fail(e, BB_SOFTWARE, "shrink: %dx%d to %dx%d is not a reduction",
		    in->w, in->h, w, h);
	ch = in->ch;
	if ((rc = bb_image_new(out, w, h, ch, e)) != 0)
		return rc;
	if (w == in->w && h == in->h) {
		memcpy(out->px, in->px, (size_t)w * (size_t)h * (size_t)ch);
		return 0;
	}
	/* Rows first into a float buffer of in->h x w, then columns. */
	if (spans(in->w, w, &sx, &wx) != 0 || spans(in->h, h, &sy, &wy) != 0 ||
	    (tmp = malloc((size_t)in->h * (size_t)w * (size_t)ch * sizeof *tmp)) == NULL) {
		bb_image_free(out);
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto done;
	}
	for (y = 0; y < in->h; y++) {
		const unsigned char *row = in->px + (size_t)y * (size_t)in->w * (size_t)ch;
		float *t = tmp + (size_t)y * (size_t)w * (size_t)ch;

		for (x = 0; x < w; x++) {
			const struct span *s = &sx[x];

			for (c = 0; c < ch; c++) {
				float v = 0;
				int k;

				for (k = 0; k < s->n; k++)
					v += wx[s->w + (size_t)k] *
					    row[(size_t)(s->first + k) * (size_t)ch + (size_t)c];
				t[(size_t)x * (size_t)ch + (size_t)c] = v;
			}
		}
	}
	for (y = 0; y < h; y++) {
		const struct span *s = &sy[y];
		unsigned char *o = out->px + (size_t)y * (size_t)w * (size_t)ch;
		size_t i, rowlen = (size_t)w * (size_t)ch;

		for (i = 0; i < rowlen; i++) {
			float v = 0;
			int k;

			for (k = 0; k < s->n; k++)
				v += wy[s->w + (size_t)k] *
				    tmp[(size_t)(s->first + k) * rowlen + i];
			o[i] = clamp255((long)(v + 0.5f));
		}
	}
	rc = 0;
done:
	free(sx);
	free(sy);
	free(wx);
	free(wy);
	free(tmp);
	return rc;
}

/* Output pixel centre (ox + 0.5, oy + 0.5) is (dx, dy) from the window centre; the window
 * turned counter-clockwise by a (on screen, y down) puts it at
 *	x = cx + dx cos a + dy sin a,	y = cy - dx sin a + dy cos a
 * in the input, sampled bilinearly between the four nearest pixel centres. So a head
 * tilted counter-clockwise by a comes out upright with angle a. */
int
bb_image_crop_rotate(const struct bb_image *in, double cx, double cy, double angle,
    int w, int h, unsigned char fill, struct bb_image *out, struct bb_err *e)
{
	double r, ca, sa;
	int rc, ox, oy, c, ch;
	size_t stride;

	memset(out, 0, sizeof *out);
	if ((rc = check_input(in, "crop", e)) != 0)
		return rc;
	if (!isfinite(cx) || !isfinite(cy) || !isfinite(angle) || fabs(cx) > 1e7 ||
	    fabs(cy) > 1e7)
		return bb_fail(e, BB_SOFTWARE, "crop: centre or angle not a number");
	if ((rc = bb_image_new(out, w, h, in->ch, e)) != 0)
		return rc;
	ch = in->ch;
	stride = (size_t)in->w * (size_t)ch;
	/* Quarter turns exactly, so they move pixels without blurring them. */
	r = fmod(angle, 360.0);
	if (r < 0)
		r += 360.0;
	if (r == 0) {
		ca = 1, sa = 0;
	} else if (r == 90) {
		ca = 0, sa = 1;
	} else if (r == 180) {
		ca = -1, sa = 0;
	} else if (r == 270) {
		ca = 0, sa = -1;
	} else {
		ca = cos(angle * M_PI / 180.0);
		sa = sin(angle * M_PI / 180.0);
	}
	for (oy = 0; oy < h; oy++) {
		double dy = oy + 0.5 - h / 2.0;
		unsigned char *o = out->px + (size_t)oy * (size_t)w * (size_t)ch;

		for (ox = 0; ox < w; ox++, o += ch) {
			double dx = ox + 0.5 - w / 2.0;
			double u = cx + dx * ca + dy * sa - 0.5;
			double v = cy - dx * sa + dy * ca - 0.5;
			double fu, fv;
			long x0, y0;

			if (!(u > -1.0 && v > -1.0 && u < in->w && v < in->h)) {
				memset(o, fill, (size_t)ch);
				continue;
			}
			x0 = (long)floor(u);
			y0 = (long)floor(v);
			fu = u - (double)x0;
			fv = v - (double)y0;
			if (x0 >= 0 && y0 >= 0 && x0 + 1 < in->w && y0 + 1 < in->h) {
				const unsigned char *p = in->px + (size_t)y0 * stride +
				    (size_t)x0 * (size_t)ch;

				for (c = 0; c < ch; c++) {
					double top = p[c] + fu * (p[c + ch] - p[c]);
					double bot = p[stride + (size_t)c] + fu *
					    (p[stride + (size_t)(c + ch)] - p[stride + (size_t)c]);

					o[c] = clamp255(lround(top + fv * (bot - top)));
				}
				continue;
			}
			/* At the border: neighbours outside the input are fill. */
			for (c = 0; c < ch; c++) {
				double q[4];
				int k;

				for (k = 0; k < 4; k++) {
					long xx = x0 + (k & 1), yy = y0 + (k >> 1);

					q[k] = xx >= 0 && yy >= 0 && xx < in->w && yy < in->h ?
					    in->px[(size_t)yy * stride + (size_t)xx * (size_t)ch +
					    (size_t)c] : fill;
				}
				o[c] = clamp255(lround((q[0] + fu * (q[1] - q[0])) * (1 - fv) +
				    (q[2] + fu * (q[3] - q[2])) * fv));
			}
		}
	}
	return 0;
}

/* YUYV (YUY2): Y0 U Y1 V for two pixels. BT.601 limited range (Y 16-235, C 16-240), the
 * V4L2 default colorspace for YUYV webcams, in the usual 8-bit fixed point:
 *	R = (298 C + 409 E + 128) >> 8
 *	G = (298 C - 100 D - 208 E + 128) >> 8
 *	B = (298 C + 516 D + 128) >> 8		C = Y - 16, D = U - 128, E = V - 128 */
static unsigned char
yuv_clip(long v)
{
	return v < 0 ? 0 : clamp255(v >> 8);
}

int
bb_image_from_yuyv_stride(const unsigned char *buf, size_t len, int w, int h,
    size_t stride, struct bb_image *out, struct bb_err *e)
{
	size_t need;
	int rc, x, y;

	memset(out, 0, sizeof *out);
	if (w <= 0 || h <= 0 || (long)w * h > BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %dx%d is not a frame size", w, h);
	if (w % 2 != 0)
		return bb_fail(e, BB_DATAERR, "YUYV frame: odd width %d", w);
	if (stride < (size_t)w * 2)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %zu bytes a line, %d needed", stride,
		    2 * w);
	if (stride > SIZE_MAX / (size_t)h)
		return bb_fail(e, BB_DATAERR, "YUYV frame: line length %zu too large", stride);
	need = stride * (size_t)(h - 1) + (size_t)w * 2;
	if (buf == NULL || len < need)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %zu bytes, %zu needed for %dx%d", len,
		    need, w, h);
	if ((rc = bb_image_new(out, w, h, 3, e)) != 0)
		return rc;
	for (y = 0; y < h; y++) {
		const unsigned char *s = buf + (size_t)y * stride;
		unsigned char *o = out->px + (size_t)y * (size_t)w * 3;

		for (x = 0; x < w; x += 2, s += 4) {
			long d = s[1] - 128, ee = s[3] - 128;
			long rv = 409 * ee + 128, gv = -100 * d - 208 * ee + 128, bv = 516 * d + 128;
			int k;

			for (k = 0; k < 2; k++, o += 3) {
				long c = 298L * (s[2 * k] - 16);

				o[0] = yuv_clip(c + rv);
				o[1] = yuv_clip(c + gv);
				o[2] = yuv_clip(c + bv);
			}
		}
	}
	return 0;
}

int
bb_image_from_yuyv(const unsigned char *buf, size_t len, int w, int h,
    struct bb_image *out, struct bb_err *e)
{
	if (w <= 0)
		return bb_fail(e, BB_DATAERR, "YUYV frame: %dx%d is not a frame size", w, h);
	return bb_image_from_yuyv_stride(buf, len, w, h, (size_t)w * 2, out, e);
}
