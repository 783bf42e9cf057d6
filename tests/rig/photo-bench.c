/* photo-bench: the per-frame work of bb-capture's mirror loop, timed in one process, for
 * tests/bench/capture-run (no process start, decoding of the file or loading of the
 * cascades in the figures).
 *   photo-bench [--runs N] [--warmup N] [--cascades DIR] [FRAME]
 * FRAME (default $BB_TOP/../shared/testdata/portraits/video-frame-1080p.jpg) is decoded
 * once (bb_image_decode, RGB) and turned once into YUYV 4:2:2 (BT.601 limited range, the
 * inverse of bb_image_from_yuyv) and kept as its JPEG bytes, the three ways a camera
 * delivers a frame. Then N rounds (after the warmup rounds, untimed), each doing these
 * three steps, the first of them turned every round so that neither is always first:
 *   rgb    bb_photo_check(face, eye, frame, BB_PHOTO_LIVE) and
 *          bb_photo_mirror(frame, r, 640): what bb-capture does per frame before it
 *          writes the mirror; then, timed apart, what write_mirror adds without the files:
 *          bb_image_jpeg of the 640 px mirror and bb_photo_json + json_dumps
 *   yuyv   bb_image_from_yuyv of the YUYV frame, then check and mirror (a YUYV camera)
 *   mjpeg  bb_image_decode of the JPEG bytes, then check and mirror (an MJPEG camera)
 *   detect bb_detect alone with the face cascade on the grey frame shrunk as
 *          bb_photo_check shrinks it (bb_image_shrink to 480 px wide, at most 640 high,
 *          then bb_image_grey, done once), with its options (scale 1.1, 4 neighbours,
 *          smallest face 1/6 of the shorter side): what to hold against detectMultiScale
 * Prints one line of figures (times in ns, totals over the N rounds):
 *   runs N w W h H faces F compliant C yuyv_faces F mjpeg_faces F face X,Y,W,H
 *   dw W dh H dmin M detect_faces F check T mirror T jpeg T json T yuyv_conv T
 *   yuyv_step T mjpeg_dec T mjpeg_step T detect T
 * where check/mirror/jpeg/json are the rgb step's parts, yuyv_step and mjpeg_step the
 * whole of those steps (conversion or decoding, check and mirror). */
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "capture/haar.h"
#include "capture/photo.h"
#include "img/image.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INPUT_LIMIT ((size_t)256 << 20)
#define FRAME_REL "/../shared/testdata/portraits/video-frame-1080p.jpg"

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: photo-bench [--runs N] [--warmup N] [--cascades DIR] [FRAME]\n", stderr);
	exit(BB_USAGE);
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0 || v > 1000000)
		usage();
	return (int)v;
}

static unsigned char
clip(int v)
{
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* RGB to YUYV 4:2:2, BT.601 limited range (Y 16-235, U/V 16-240), the chroma of each pair
 * of pixels averaged: what a camera's YUYV mode delivers for this picture. */
static unsigned char *
to_yuyv(const struct bb_image *im, size_t *len)
{
	unsigned char *buf, *o;
	int x, y;

	if (im->w % 2 != 0)
		bb_die(BB_DATAERR, "frame: odd width %d, no YUYV", im->w);
	*len = (size_t)im->w * (size_t)im->h * 2;
	if ((buf = malloc(*len)) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	o = buf;
	for (y = 0; y < im->h; y++) {
		const unsigned char *p = im->px + (size_t)y * (size_t)im->w * 3;

		for (x = 0; x < im->w; x += 2, p += 6, o += 4) {
			int r0 = p[0], g0 = p[1], b0 = p[2], r1 = p[3], g1 = p[4], b1 = p[5];
			int r = (r0 + r1 + 1) / 2, g = (g0 + g1 + 1) / 2, b = (b0 + b1 + 1) / 2;

			o[0] = clip(((66 * r0 + 129 * g0 + 25 * b0 + 128) >> 8) + 16);
			o[1] = clip(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
			o[2] = clip(((66 * r1 + 129 * g1 + 25 * b1 + 128) >> 8) + 16);
			o[3] = clip(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
		}
	}
	return buf;
}

/* check and mirror of one frame; the mirror kept in *keep, or freed when keep is NULL. */
static void
check_mirror(const struct bb_cascade *face, const struct bb_cascade *eye,
    const struct bb_image *frame, struct bb_photo_result *r, long long *t_check,
    long long *t_mirror, struct bb_image *keep)
{
	struct bb_err e = { 0, "" };
	struct bb_image m;
	long long t0 = now_ns(), t1;

	if (bb_photo_check(face, eye, frame, BB_PHOTO_LIVE, r, &e) != 0)
		bb_die_err(&e);
	t1 = now_ns();
	if (bb_photo_mirror(frame, r, 640, &m, &e) != 0)
		bb_die_err(&e);
	if (t_check != NULL) {
		*t_check += t1 - t0;
		*t_mirror += now_ns() - t1;
	}
	if (keep != NULL)
		*keep = m;
	else
		bb_image_free(&m);
}

struct totals {
	long long check, mirror, jpeg, json, yuyv_conv, yuyv_step, mjpeg_dec, mjpeg_step, detect;
};

int
main(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	const char *dir = BB_HAAR_DIR, *path = NULL;
	char def[PATH_MAX], cpath[PATH_MAX];
	struct bb_cascade *face, *eye;
	struct bb_image frame, small, grey;
	struct bb_detect_opts o;
	size_t ndet = 0;
	double f = 1;
	int sw, sh;
	struct bb_photo_result r, ry, rm;
	struct totals t;
	unsigned char *file, *yuyv;
	size_t flen, ylen;
	int runs = 20, warmup = 1, i;

	bb_init(argv[0]);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--runs") == 0)
			runs = count(argv[++i]);
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = count(argv[++i]);
		else if (strcmp(argv[i], "--cascades") == 0)
			dir = argv[++i];
		else
			usage();
	}
	if (i + 1 < argc || runs < 1)
		usage();
	if (i < argc)
		path = argv[i];
	else {
		const char *top = getenv("BB_TOP");

		if (top == NULL || *top == '\0')
			bb_die(BB_USAGE, "no FRAME and no BB_TOP");
		if ((size_t)snprintf(def, sizeof def, "%s%s", top, FRAME_REL) >= sizeof def)
			bb_die(BB_USAGE, "BB_TOP too long");
		path = def;
	}

	if (bb_read_file(path, INPUT_LIMIT, (char **)&file, &flen, &e) != 0 ||
	    bb_image_decode(file, flen, path, &frame, &e) != 0)
		bb_die_err(&e);
	yuyv = to_yuyv(&frame, &ylen);
	/* The detection frame as bb_photo_check makes it (lib/capture/photodetect.c). */
	if (frame.w > 480)
		f = 480.0 / frame.w;
	if (frame.h * f > 640)
		f = 640.0 / frame.h;
	sw = (int)(frame.w * f + 0.5);
	sh = (int)(frame.h * f + 0.5);
	sw = sw < 1 ? 1 : sw;
	sh = sh < 1 ? 1 : sh;
	if (bb_image_shrink(&frame, sw, sh, &small, &e) != 0 ||
	    bb_image_grey(&small, &grey, &e) != 0)
		bb_die_err(&e);
	o.scale = 1.1;
	o.min_neighbors = 4;
	o.min_w = o.min_h = (sw < sh ? sw : sh) / 6;
	o.max_w = o.max_h = 0;
	snprintf(cpath, sizeof cpath, "%s/haarcascade_frontalface_default.xml", dir);
	if (bb_cascade_load(cpath, &face, &e) != 0)
		bb_die_err(&e);
	snprintf(cpath, sizeof cpath, "%s/haarcascade_eye.xml", dir);
	if (bb_cascade_load(cpath, &eye, &e) != 0)
		bb_die_err(&e);

	memset(&t, 0, sizeof t);
	for (i = -warmup; i < runs; i++) {
		struct totals *tt = i >= 0 ? &t : NULL;

		for (int k = 0; k < 4; k++) {
			int step = (k + (i < 0 ? 0 : i)) % 4;
			struct bb_image f2, m;
			long long t0 = now_ns();

			if (step == 0) {
				unsigned char *jpg;
				size_t jlen;
				json_t *g;
				char *js;
				long long t1;

				check_mirror(face, eye, &frame, &r, tt ? &tt->check : NULL,
				    tt ? &tt->mirror : NULL, &m);
				/* write_mirror without the files: the mirror's JPEG and the
				 * guidance JSON. */
				t1 = now_ns();
				if (bb_image_jpeg(&m, &jpg, &jlen, &e) != 0)
					bb_die_err(&e);
				t0 = now_ns();
				g = bb_photo_json(&r);
				json_object_set_new(g, "frame", json_integer(i));
				js = json_dumps(g, JSON_COMPACT);
				json_decref(g);
				if (js == NULL)
					bb_die(BB_SOFTWARE, "out of memory");
				if (tt != NULL) {
					tt->jpeg += t0 - t1;
					tt->json += now_ns() - t0;
				}
				free(js);
				free(jpg);
				bb_image_free(&m);
			} else if (step == 1) {
				long long t1;

				if (bb_image_from_yuyv(yuyv, ylen, frame.w, frame.h, &f2, &e) != 0)
					bb_die_err(&e);
				t1 = now_ns();
				check_mirror(face, eye, &f2, &ry, NULL, NULL, NULL);
				if (tt != NULL) {
					tt->yuyv_conv += t1 - t0;
					tt->yuyv_step += now_ns() - t0;
				}
				bb_image_free(&f2);
			} else if (step == 3) {
				struct bb_rect *hit;

				if (bb_detect(face, &grey, &o, &hit, &ndet, &e) != 0)
					bb_die_err(&e);
				if (tt != NULL)
					tt->detect += now_ns() - t0;
				free(hit);
			} else {
				long long t1;

				if (bb_image_decode(file, flen, path, &f2, &e) != 0)
					bb_die_err(&e);
				t1 = now_ns();
				check_mirror(face, eye, &f2, &rm, NULL, NULL, NULL);
				if (tt != NULL) {
					tt->mjpeg_dec += t1 - t0;
					tt->mjpeg_step += now_ns() - t0;
				}
				bb_image_free(&f2);
			}
		}
	}
	printf("runs %d w %d h %d faces %d compliant %d yuyv_faces %d mjpeg_faces %d"
	    " face %d,%d,%d,%d dw %d dh %d dmin %d detect_faces %zu check %lld mirror %lld"
	    " jpeg %lld json %lld yuyv_conv %lld yuyv_step %lld mjpeg_dec %lld mjpeg_step %lld"
	    " detect %lld\n", runs, frame.w, frame.h, r.faces, r.compliant, ry.faces, rm.faces,
	    r.face.x, r.face.y, r.face.w, r.face.h, sw, sh, o.min_w, ndet, t.check, t.mirror,
	    t.jpeg, t.json, t.yuyv_conv, t.yuyv_step, t.mjpeg_dec, t.mjpeg_step, t.detect);
	free(file);
	free(yuyv);
	bb_image_free(&frame);
	bb_image_free(&small);
	bb_image_free(&grey);
	bb_cascade_free(face);
	bb_cascade_free(eye);
	return bb_close_stdout() == 0 ? 0 : BB_IOERR;
}
