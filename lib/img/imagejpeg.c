/* JPEG with libjpeg(-turbo): decoding (imageint.h) and bb_image_jpeg. */
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

#include <jpeglib.h>
#include <jerror.h>

/* Progressive JPEGs can carry thousands of tiny scans, each a pass over the whole
 * coefficient buffer: a CPU bomb in a small file. Real encoders write about 10 (djpeg's
 * -maxscan guards against the same). */
#define JPEG_SCANS_MAX	256
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
	if ((rc = img_check_size(d->name, ci->image_width, ci->image_height, d->e)) != 0) {
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

int
img_decode_jpeg(const unsigned char *buf, size_t len, const char *name, struct bb_image *out,
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
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory decoding JPEG", img_name(name));
	img_clean_msg(d.je.why);
	return bb_fail(e, BB_DATAERR, "%s: not a valid JPEG image: %s", img_name(name), d.je.why);
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

int
bb_image_jpeg(const struct bb_image *im, unsigned char **out, size_t *len, struct bb_err *e)
{
	struct jpeg_enc d;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = img_check_encodable(im, "JPEG", 0, e)) != 0)
		return rc;
	memset(&d, 0, sizeof d);
	jpeg_err_init(&d.je);
	d.cinfo.err = &d.je.pub;
	d.im = im;
	rc = jpeg_enc_run(&d);
	jpeg_destroy_compress(&d.cinfo);
	if (rc != 0) {
		free(d.buf);
		img_clean_msg(d.je.why);
		return bb_fail(e, BB_SOFTWARE, "JPEG encoding: %s", d.je.why);
	}
	*out = d.buf;
	*len = d.len;
	return 0;
}
