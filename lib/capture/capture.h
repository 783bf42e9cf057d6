/* The capture domain's front door for the photo: frames from a source (image files, a
 * camera, or whatever a caller hands in), each measured against the rules (photo.h), the
 * best kept (TR-03121 5.4.1); what the case's photo part and attachment hold; and the
 * devices a terminal has. The job of `bb-capture photo` without its options, its
 * messages to the person, its exit statuses and the case, so that a test or a screen
 * can call it in-process. */
#ifndef BB_CAPTURE_CAPTURE_H
#define BB_CAPTURE_CAPTURE_H

#include "capture/haar.h"
#include "capture/photo.h"
#include "capture/sig.h"
#include "img/image.h"

#include <jansson.h>
#include <stddef.h>

struct bb_err;

/* A source of frames. next: 0 with *im (allocated; the caller owns it) and format (of
 * that frame: "YUYV", "MJPG" from a camera, "jpeg", "png", "pnm" from a file); 1 when
 * there are no more; else a status with e. close (may be NULL) ends the source: every
 * buffer holding a face is wiped. kind: the photo part's "source", "camera" or "file". */
struct bb_frame_source {
	int (*next)(void *ctx, struct bb_image *im, char format[8], struct bb_err *e);
	void (*close)(void *ctx);
	void *ctx;
	const char *kind;
};
/* A side longer than this is no camera frame (the longest 8K side is 7680); JPEG could
 * not even encode the mirror of one past 65500. Both sources below refuse it (65). */
#define BB_FRAME_SIDE_MAX 16384
#define BB_FRAME_FILE_MAX (64u << 20)	/* one input file */

/* Frames from files: each path is one image (PNG, JPEG, PPM) or a stream of PPM frames
 * (a pipe from a camera tool); "-" is standard input. The paths are not copied. 0, or 70.
 * Reading: 66/74 as bb_read_file, 65 for an empty file or one that does not decode. */
int bb_frames_files(const char *const *paths, size_t n, struct bb_frame_source *src,
    struct bb_err *e);
/* Frames from a V4L2 camera at w x h (bb_v4l2_open): 0, or 69/70. A frame waits 5 s at
 * most (69). */
int bb_frames_camera(const char *device, int w, int h, struct bb_frame_source *src,
    struct bb_err *e);
/* src->close, once; harmless after it. */
void bb_frames_close(struct bb_frame_source *src);

/* Called after every frame is measured, before it is kept or wiped: the mirror. n counts
 * from 1. Non-zero stops the search with that status (e set). */
typedef int (*bb_photo_seen_fn)(void *ctx, const struct bb_image *frame,
    const struct bb_photo_result *r, long n, struct bb_err *e);

struct bb_photo_job {
	const struct bb_cascade *face, *eye;
	enum bb_photo_profile profile;
	long tries;			/* at most this many frames (> 0) */
	struct bb_frame_source *src;
	bb_photo_seen_fn seen;		/* NULL: none */
	void *seen_ctx;
};
struct bb_photo_best {
	struct bb_image frame;		/* the best frame, uncompressed */
	struct bb_photo_result r;	/* its measures */
	char format[8];			/* its format, from the source */
	long frames;			/* frames measured */
	enum bb_photo_profile profile;
	const char *source;		/* the source's kind */
};
/* The best capture (TR-03121 5.4.1): frames from job->src until it ends or job->tries
 * were measured (bb_photo_check); the best kept (bb_photo_better: most mandatory
 * criteria met, then most optional, then the newest); a frame meeting every criterion
 * ends the search. Every other frame is wiped as soon as it is beaten. 0 and *best (also
 * when it is not compliant: best->r says why); 65 "photo: no frame" when the source gave
 * none; else the source's, the check's or seen's status, *best then empty. */
int bb_photo_best(const struct bb_photo_job *job, struct bb_photo_best *best,
    struct bb_err *e);
/* The case's photo part (bb-case(5)): bb_photo_json and "frames", "profile", "source",
 * "source_format". NULL out of memory. */
json_t *bb_photo_best_json(const struct bb_photo_best *best);
/* The attachment: the best frame compressed once, cropped (bb_photo_crop), as JPEG at
 * the highest quality. *jpg malloc'd (a face: wipe it). bb_photo_crop's and
 * bb_image_jpeg's statuses. */
int bb_photo_best_jpeg(const struct bb_photo_best *best, unsigned char **jpg, size_t *len,
    struct bb_err *e);
/* Wipes the best frame's pixels and frees them; harmless twice. */
void bb_photo_best_free(struct bb_photo_best *best);

/* The face and eye cascades from dir (haarcascade_frontalface_default.xml,
 * haarcascade_eye.xml): 0, or bb_cascade_load's status; both NULL then. */
int bb_photo_cascades(const char *dir, struct bb_cascade **face, struct bb_cascade **eye,
    struct bb_err *e);

/* The live mirror for a screen (bb-capture photo --mirror DIR; lib/screen/mirror.c reads
 * it): DIR/mirror.jpg, the frame with the face box (bb_photo_mirror) at most 640 px on
 * either side, and DIR/guidance.json, bb_photo_json with "frame": n; each replaced whole
 * (bb_replace_at in dfd, DIR opened; not synced: the mirror lives for a second and a
 * crash loses nothing) with mode 0640, the screen's program reads it through the group.
 * 0, or a status. A caller that removes the files on a signal blocks it meanwhile, so no
 * temporary file is left. */
int bb_photo_mirror_write(int dfd, const char *dir, const struct bb_image *frame,
    const struct bb_photo_result *r, long n, struct bb_err *e);
/* Removes both files; async-signal-safe, errno kept. */
void bb_photo_mirror_remove(int dfd);

/* What a signature adds to the case: the attachments "signature" (png, image/png, the
 * rendering at dpi) and "signature-strokes" (strokes, application/json, bb_sig_json),
 * and the capture part {"strokes", "points", "width", "height", "source", "dpi"}. */
struct bb_sig_case {
	unsigned char *png;
	size_t png_len;
	char *strokes;
	json_t *part;
};
/* source: the part's "source" ("recording", "device"). 0, or bb_sig_render's statuses
 * and 70; out empty then. */
int bb_sig_case_make(const struct bb_sig *sig, int dpi, const char *source,
    struct bb_sig_case *out, struct bb_err *e);
void bb_sig_case_free(struct bb_sig_case *c);

/* The capture devices: {"cameras": bb_v4l2_list's array (empty when that fails), "pads":
 * bb_sig_pads(input_dir)}. NULL out of memory. */
json_t *bb_capture_devices(const char *input_dir);

#endif
