/* The best capture from a source of frames (capture.h): the search of TR-03121 5.4.1,
 * the case's photo part and its attachment. A face is personal data: every frame that
 * is not kept is wiped before its memory goes back. */
#include "capture/capture.h"

#include "diag.h"
#include "exit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
wipe_image(struct bb_image *im)
{
	if (im->px != NULL)
		explicit_bzero(im->px, (size_t)im->w * im->h * im->ch);
	bb_image_free(im);
}

void
bb_photo_best_free(struct bb_photo_best *best)
{
	wipe_image(&best->frame);
}

int
bb_photo_best(const struct bb_photo_job *job, struct bb_photo_best *best, struct bb_err *e)
{
	struct bb_image frame;
	struct bb_photo_result r;
	char format[8];
	int have = 0, rc;

	memset(best, 0, sizeof *best);
	best->profile = job->profile;
	best->source = job->src->kind;
	while (best->frames < job->tries) {
		format[0] = '\0';
		if ((rc = job->src->next(job->src->ctx, &frame, format, e)) == 1)
			break;
		if (rc != 0)
			goto fail;
		best->frames++;
		if ((rc = bb_photo_check(job->face, job->eye, &frame, job->profile, &r, e)) != 0 ||
		    (job->seen != NULL &&
		    (rc = job->seen(job->seen_ctx, &frame, &r, best->frames, e)) != 0)) {
			wipe_image(&frame);
			goto fail;
		}
		if (!have || bb_photo_better(&r, &best->r)) {
			wipe_image(&best->frame);
			best->frame = frame;
			snprintf(best->format, sizeof best->format, "%s", format);
			best->r = r;
			have = 1;
		} else
			wipe_image(&frame);
		if (best->r.compliant && best->r.optional_failed == 0)
			break;
	}
	if (have)
		return 0;
	rc = bb_fail(e, BB_DATAERR, "photo: no frame");
fail:
	bb_photo_best_free(best);
	return rc;
}

json_t *
bb_photo_best_json(const struct bb_photo_best *best)
{
	json_t *part = bb_photo_json(&best->r);

	if (part == NULL ||
	    json_object_set_new(part, "frames", json_integer(best->frames)) != 0 ||
	    json_object_set_new(part, "profile",
	    json_string(best->profile == BB_PHOTO_SCAN ? "scan" : "live")) != 0 ||
	    json_object_set_new(part, "source", json_string(best->source)) != 0 ||
	    /* Whether the frame was compressed before bb-capture compressed it (TR-03121
	     * 5.12: never lossily more than once): an MJPEG camera or a JPEG file is. */
	    json_object_set_new(part, "source_format", json_string(best->format)) != 0) {
		json_decref(part);
		return NULL;
	}
	return part;
}

int
bb_photo_best_jpeg(const struct bb_photo_best *best, unsigned char **jpg, size_t *len,
    struct bb_err *e)
{
	struct bb_image out;
	int rc;

	/* The uncompressed frame is compressed once: crop, then JPEG at the highest
	 * quality. */
	if ((rc = bb_photo_crop(&best->frame, &best->r, &out, e)) != 0)
		return rc;
	rc = bb_image_jpeg(&out, jpg, len, e);
	wipe_image(&out);
	return rc;
}

int
bb_photo_cascades(const char *dir, struct bb_cascade **face, struct bb_cascade **eye,
    struct bb_err *e)
{
	char path[PATH_MAX];
	int rc;

	*face = *eye = NULL;
	snprintf(path, sizeof path, "%s/haarcascade_frontalface_default.xml", dir);
	if ((rc = bb_cascade_load(path, face, e)) != 0)
		return rc;
	snprintf(path, sizeof path, "%s/haarcascade_eye.xml", dir);
	if ((rc = bb_cascade_load(path, eye, e)) != 0) {
		bb_cascade_free(*face);
		*face = NULL;
	}
	return rc;
}
