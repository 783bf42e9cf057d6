/* Sources of frames for bb_photo_best (capture.h): image files and streams of PPM frames,
 * a V4L2 camera; and the list of capture devices. */
#include "capture/capture.h"
#include "capture/sig.h"

#include "diag.h"
#include "exit.h"
#include "files.h"
#include "img/v4l2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct files {
	const char *const *paths;
	size_t n, next;		/* the paths, the next one */
	char *buf;		/* the current input, whole */
	size_t len, off;
	const char *name;
};

static int
side_ok(const char *name, struct bb_image *im, struct bb_err *e)
{
	int rc;

	if (im->w <= BB_FRAME_SIDE_MAX && im->h <= BB_FRAME_SIDE_MAX)
		return 0;
	rc = bb_fail(e, BB_DATAERR, "%s: a frame of %dx%d pixels: no side may be longer than %d",
	    name, im->w, im->h, BB_FRAME_SIDE_MAX);
	bb_image_free(im);
	return rc;
}

static void
files_drop(struct files *f)
{
	if (f->buf != NULL)
		explicit_bzero(f->buf, f->len);
	free(f->buf);
	f->buf = NULL;
}

static int
files_next(void *ctx, struct bb_image *im, char format[8], struct bb_err *e)
{
	struct files *f = ctx;
	size_t used;
	int rc;

	for (;;) {
		if (f->buf != NULL && f->off < f->len) {
			/* PPM streams: one frame after the other in one input. */
			const unsigned char *b = (unsigned char *)f->buf + f->off;

			snprintf(format, 8, "%s", f->len - f->off >= 2 && b[0] == 0xFF &&
			    b[1] == 0xD8 ? "jpeg" : b[0] == 0x89 ? "png" : "pnm");
			used = bb_image_frame_len(b, f->len - f->off);
			if ((rc = bb_image_decode(b, used, f->name, im, e)) != 0)
				return rc;
			f->off += used;
			return side_ok(f->name, im, e);
		}
		files_drop(f);
		if (f->next == f->n)
			return 1;
		f->name = f->paths[f->next++];
		if ((rc = bb_read_file(strcmp(f->name, "-") == 0 ? NULL : f->name,
		    BB_FRAME_FILE_MAX, &f->buf, &f->len, e)) != 0)
			return rc;
		if (f->len == 0)
			return bb_fail(e, BB_DATAERR, "%s: empty", f->name);
		f->off = 0;
	}
}

static void
files_close(void *ctx)
{
	files_drop(ctx);
	free(ctx);
}

int
bb_frames_files(const char *const *paths, size_t n, struct bb_frame_source *src,
    struct bb_err *e)
{
	struct files *f = calloc(1, sizeof *f);

	memset(src, 0, sizeof *src);
	if (f == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	f->paths = paths;
	f->n = n;
	src->next = files_next;
	src->close = files_close;
	src->ctx = f;
	src->kind = "file";
	return 0;
}

static int
camera_next(void *ctx, struct bb_image *im, char format[8], struct bb_err *e)
{
	struct bb_v4l2 *cam = ctx;
	int rc;

	if ((rc = bb_v4l2_frame(cam, im, 5000, e)) != 0)
		return rc;
	bb_v4l2_fourcc_str(cam->fourcc, format);
	return side_ok("camera", im, e);
}

static void
camera_close(void *ctx)
{
	bb_v4l2_close(ctx);
	free(ctx);
}

int
bb_frames_camera(const char *device, int w, int h, struct bb_frame_source *src,
    struct bb_err *e)
{
	struct bb_v4l2 *cam = calloc(1, sizeof *cam);
	int rc;

	memset(src, 0, sizeof *src);
	if (cam == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if ((rc = bb_v4l2_open(device, w, h, cam, e)) != 0) {
		camera_close(cam);
		return rc;
	}
	src->next = camera_next;
	src->close = camera_close;
	src->ctx = cam;
	src->kind = "camera";
	return 0;
}

void
bb_frames_close(struct bb_frame_source *src)
{
	if (src->close != NULL && src->ctx != NULL)
		src->close(src->ctx);
	src->ctx = NULL;
}

json_t *
bb_capture_devices(const char *input_dir)
{
	json_t *cams = NULL, *pads = bb_sig_pads(input_dir), *all;

	if (bb_v4l2_list(&cams) != 0 || cams == NULL)
		cams = json_array();
	all = json_pack("{s:O, s:O}", "cameras", cams, "pads", pads);
	json_decref(cams);
	json_decref(pads);
	return all;
}
