/* lib/capture/photo.c on fixtures composed by tests/rig/card/photofix.c (which
 * tests/rig/compose-photo also writes to files for tests/0810-capture.t): the head of
 * skimage's astronaut.png (public domain, 512x512; the test is skipped without
 * python3-skimage) cut out with a soft elliptical edge, scaled and placed on uniform grey
 * #C0C0C0 at the geometry of TR-03121-3 table 5.3 (head height 0.75, eyes at 0.4 from the
 * top, centred): compliant, every mandatory measure passes. Variants: too small
 * ("näher"), off centre to either side (the person's direction: a face on the image's
 * left needs "nach links"), rolled by 15° ("gerade"), two faces, blank grey (no face),
 * darkened to 10 % ("Mehr Licht"), blurred ("stillhalten"). The measurement core alone
 * with the face and eye rectangles OpenCV finds in astronaut.png (no detection); the
 * best-capture order; the crop's size, its eye line and its refusal to upscale; the JSON
 * shape; the mirror. Last, the mirror's speed on the 1080p video frame of tests/testdata
 * (printed; BB_PHOTO_FPS_MIN=10 makes it an assertion). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/haar.h"
#include "capture/photo.h"
#include "diag.h"
#include "exit.h"
#include "img/image.h"
#include "../rig/card/photofix.h"

#define ASTRONAUT PHOTOFIX_ASTRONAUT
#define FRAME_1080P "/work/shared/testdata/portraits/video-frame-1080p.jpg"

/* The fixtures' geometry (photofix.h): the face and eye rectangles in astronaut.png,
 * and the compliant placement (scale, eye midpoint) on the canvas. */
#define A_FACE PHOTOFIX_A_FACE
#define A_EYE_L PHOTOFIX_A_EYE_L
#define A_EYE_R PHOTOFIX_A_EYE_R
#define CANVAS_W PHOTOFIX_W
#define CANVAS_H PHOTOFIX_H
#define K_OK PHOTOFIX_K
#define MX_OK PHOTOFIX_MX
#define MY_OK PHOTOFIX_MY
#define COS15 PHOTOFIX_COS15
#define SIN15 PHOTOFIX_SIN15

static struct bb_cascade *face_c, *eye_c;
static int have_astro;

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n)) != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	} else if (b != NULL)
		*len = (size_t)n;
	fclose(f);
	return b;
}

static int
load_image(const char *path, struct bb_image *im)
{
	struct bb_err e;
	size_t len = 0;
	unsigned char *b = slurp(path, &len);
	int rc;

	if (b == NULL)
		return -1;
	rc = bb_image_decode(b, len, path, im, &e);
	free(b);
	if (rc != 0)
		fail_msg("%s: %s", path, e.msg);
	return 0;
}

static int
setup(void **state)
{
	struct bb_err e;

	(void)state;
	switch (photofix_astronaut(NULL, &e)) {
	case 0:
		have_astro = 1;
		break;
	case BB_NOINPUT:	/* no python3-skimage: the tests that need it say so */
		have_astro = 0;
		break;
	default:
		fprintf(stderr, "# %s\n", e.msg);
		return -1;
	}
	if (bb_cascade_load(BB_HAAR_DIR "/haarcascade_frontalface_default.xml", &face_c, &e) != 0 ||
	    bb_cascade_load(BB_HAAR_DIR "/haarcascade_eye.xml", &eye_c, &e) != 0) {
		fprintf(stderr, "# %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	photofix_release();
	bb_cascade_free(face_c);
	bb_cascade_free(eye_c);
	return 0;
}

/* --- fixtures (tests/rig/card/photofix.c), asserted --- */

static void
canvas(struct bb_image *im, int w, int h, unsigned char grey)
{
	struct bb_err e;

	assert_int_equal(photofix_canvas(im, w, h, grey, &e), 0);
}

static double
clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void
place(struct bb_image *cv, double dx, double dy, double k, double cs, double sn)
{
	struct bb_err e;

	if (photofix_place(cv, dx, dy, k, cs, sn, &e) != 0)
		fail_msg("%s", e.msg);
}

#define placed photofix_placed

/* One of photofix.h's kinds. */
static void
make(const char *kind, struct bb_image *cv)
{
	struct bb_err e;

	if (photofix_make(kind, cv, &e) != 0)
		fail_msg("%s: %s", kind, e.msg);
	assert_int_equal(cv->w, CANVAS_W);
	assert_int_equal(cv->h, CANVAS_H);
}

static void
compliant(struct bb_image *cv)
{
	make("compliant", cv);
}

static void
blur(struct bb_image *im, int rad)
{
	struct bb_err e;

	assert_int_equal(photofix_blur(im, rad, &e), 0);
}

/* --- helpers --- */

static const struct bb_measure *
m_of(const struct bb_photo_result *r, const char *name)
{
	const struct bb_measure *m = bb_photo_find(r, name);

	if (m == NULL)
		fail_msg("no measure %s", name);
	return m;
}

static void
show(const char *what, const struct bb_photo_result *r)
{
	size_t i;

	print_message("# %s: faces %d, face %d,%d %dx%d, eyes (%d,%d %dx%d) (%d,%d %dx%d), "
	    "roll %.2f, compliant %d (%d mandatory, %d optional failed), crop %.1f,%.1f "
	    "angle %.2f scale %.3f\n", what, r->faces, r->face.x, r->face.y, r->face.w,
	    r->face.h, r->eye_l.x, r->eye_l.y, r->eye_l.w, r->eye_l.h, r->eye_r.x, r->eye_r.y,
	    r->eye_r.w, r->eye_r.h, r->roll, r->compliant, r->mandatory_failed,
	    r->optional_failed, r->crop_cx, r->crop_cy, r->crop_angle, r->crop_scale);
	for (i = 0; i < r->nm; i++)
		print_message("#   %-22s %10.4f [%g, %g] %s%s %s\n", r->m[i].name, r->m[i].value,
		    r->m[i].min, r->m[i].max, r->m[i].pass ? "pass" : "FAIL",
		    r->m[i].mandatory ? "" : " (optional)",
		    r->m[i].hint_de != NULL ? r->m[i].hint_de : "");
}

static void
check(const struct bb_image *im, enum bb_photo_profile p, struct bb_photo_result *r,
    const char *what)
{
	struct bb_err e;

	if (bb_photo_check(face_c, eye_c, im, p, r, &e) != 0)
		fail_msg("%s: %s", what, e.msg);
	show(what, r);
}

static void
assert_fails_with(const struct bb_photo_result *r, const char *name, const char *hint_part)
{
	const struct bb_measure *m = m_of(r, name);

	if (m->pass)
		fail_msg("%s passes (%g)", name, m->value);
	assert_non_null(m->hint_de);
	assert_non_null(m->hint_en);
	if (strstr(m->hint_de, hint_part) == NULL)
		fail_msg("%s: hint \"%s\" lacks \"%s\"", name, m->hint_de, hint_part);
}

static void
assert_all_mandatory_pass(const struct bb_photo_result *r)
{
	size_t i;

	assert_int_equal(r->nm, 15);
	for (i = 0; i < r->nm; i++) {
		if (r->m[i].mandatory && !r->m[i].pass)
			fail_msg("%s fails: %g", r->m[i].name, r->m[i].value);
		if (r->m[i].pass) {
			assert_null(r->m[i].hint_de);
			assert_null(r->m[i].hint_en);
		}
	}
	assert_int_equal(r->mandatory_failed, 0);
	assert_true(r->compliant);
}

/* Without python3-skimage: nothing to compose, said on the TAP stream. Not cmocka's
 * skip(), whose TAP line "not ok N # SKIP" prove counts as a failure. */
#define NEED_ASTRO() do { \
	if (!have_astro) { \
		print_message("# skipped: no " ASTRONAUT " (python3-skimage)\n"); \
		return; \
	} \
} while (0)

/* --- the measurement core, given rectangles --- */

static void
core_given_rects(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;
	struct bb_rect f, l, rr, f2;
	struct bb_err e;

	(void)state;
	NEED_ASTRO();
	compliant(&cv);
	f = placed(&A_FACE, MX_OK, MY_OK, K_OK);
	l = placed(&A_EYE_L, MX_OK, MY_OK, K_OK);
	rr = placed(&A_EYE_R, MX_OK, MY_OK, K_OK);
	assert_int_equal(bb_photo_measure(&cv, 1, &f, &l, &rr, BB_PHOTO_LIVE, &r, &e), 0);
	show("given rects", &r);
	assert_all_mandatory_pass(&r);
	assert_true(r.m[0].name != NULL);
	assert_int_equal(r.out_w, 1244);
	assert_int_equal(r.out_h, 1600);
	/* the ratios at the middle of their ranges, as the crop is placed */
	assert_true(m_of(&r, "head_height_ratio")->value > 0.749 &&
	    m_of(&r, "head_height_ratio")->value < 0.751);
	assert_true(m_of(&r, "vertical_position")->value > 0.399 &&
	    m_of(&r, "vertical_position")->value < 0.401);
	assert_true(m_of(&r, "horizontal_position")->value > 0.499 &&
	    m_of(&r, "horizontal_position")->value < 0.501);
	assert_true(r.roll > 0 && r.roll < 3);	/* astronaut's head leans a little */
	/* the eyes swapped: put in image order again */
	assert_int_equal(bb_photo_measure(&cv, 1, &f, &rr, &l, BB_PHOTO_LIVE, &r, &e), 0);
	assert_int_equal(r.eye_l.x, l.x);
	assert_true(r.compliant);

	/* the same eyes, and no eyes: estimated from the box, roll and eye distance fail
	 * with "look straight", positions still measured */
	assert_int_equal(bb_photo_measure(&cv, 1, &f, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	show("no eyes", &r);
	assert_fails_with(&r, "roll", "gerade");
	assert_fails_with(&r, "inter_eye_distance", "gerade");
	assert_int_equal(r.eye_l.w, 0);
	assert_true(m_of(&r, "horizontal_position")->pass);
	assert_false(r.compliant);

	/* a face box half as big: the crop would need upscaling */
	f2 = f;
	f2.w /= 2;
	f2.h /= 2;
	assert_int_equal(bb_photo_measure(&cv, 1, &f2, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	assert_fails_with(&r, "image_size", "näher");
	/* ... which the scan profile (622x800) still gets without upscaling */
	assert_int_equal(bb_photo_measure(&cv, 1, &f2, &l, &rr, BB_PHOTO_SCAN, &r, &e), 0);
	assert_true(m_of(&r, "image_size")->pass);
	assert_int_equal(r.out_w, 622);
	assert_int_equal(r.out_h, 800);
	assert_true(m_of(&r, "inter_eye_distance")->min == 120);

	/* no face: every measure there, failing, "Kein Gesicht" */
	assert_int_equal(bb_photo_measure(&cv, 0, NULL, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	assert_int_equal(r.nm, 15);
	assert_int_equal(r.mandatory_failed, 12);
	assert_fails_with(&r, "single_face", "Kein Gesicht");
	assert_fails_with(&r, "sharpness", "Kein Gesicht");

	/* arguments */
	assert_int_equal(bb_photo_measure(NULL, 1, &f, &l, &rr, BB_PHOTO_LIVE, &r, &e),
	    BB_SOFTWARE);
	assert_int_equal(bb_photo_measure(&cv, 1, &f, &l, &rr, BB_PHOTO_LIVE, NULL, &e),
	    BB_SOFTWARE);
	bb_image_free(&cv);
}

/* --- detection on the fixtures --- */

static void
compliant_photo(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	compliant(&cv);
	check(&cv, BB_PHOTO_LIVE, &r, "compliant");
	assert_int_equal(r.faces, 1);
	assert_true(r.eye_l.w > 0 && r.eye_r.w > 0);	/* found, not estimated */
	assert_true(r.eye_l.x < r.eye_r.x);
	assert_all_mandatory_pass(&r);
	assert_null(bb_photo_advice(&r));
	assert_true(m_of(&r, "background_uniformity")->pass);
	assert_true(m_of(&r, "background_colour")->pass);
	assert_true(m_of(&r, "background_level")->pass);
	/* the scan profile too */
	check(&cv, BB_PHOTO_SCAN, &r, "compliant, scan");
	assert_all_mandatory_pass(&r);
	bb_image_free(&cv);
}

static void
too_small(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	make("small", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "too small");
	assert_int_equal(r.faces, 1);
	assert_fails_with(&r, "image_size", "näher");
	assert_string_equal(m_of(&r, "image_size")->hint_en, "Please come closer");
	assert_false(r.compliant);
	assert_string_equal(bb_photo_advice(&r)->hint_de, "Bitte näher kommen");
	bb_image_free(&cv);
}

static void
off_centre(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	/* on the image's left: the person stands too far to their right */
	make("left", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "image left");
	assert_int_equal(r.faces, 1);
	assert_fails_with(&r, "horizontal_position", "nach links");
	assert_string_equal(m_of(&r, "horizontal_position")->hint_en, "Please move to the left");
	assert_true(m_of(&r, "horizontal_position")->value < 0.45);
	assert_false(r.compliant);
	bb_image_free(&cv);

	make("right", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "image right");
	assert_fails_with(&r, "horizontal_position", "nach rechts");
	assert_true(m_of(&r, "horizontal_position")->value > 0.55);
	assert_false(r.compliant);
	bb_image_free(&cv);

	/* too high in the frame: the eyes end up above 0.3 of the photo */
	canvas(&cv, CANVAS_W, CANVAS_H, 0xC0);
	place(&cv, MX_OK, 500, K_OK, 1, 0);
	check(&cv, BB_PHOTO_LIVE, &r, "image top");
	assert_fails_with(&r, "vertical_position", "tiefer");
	bb_image_free(&cv);
}

static void
rolled(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	/* counter-clockwise on screen: the image-right eye higher, roll negative */
	make("tilted", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "rolled 15");
	assert_int_equal(r.faces, 1);
	assert_fails_with(&r, "roll", "gerade");
	assert_string_equal(m_of(&r, "roll")->hint_en, "Please look straight into the camera");
	if (r.eye_l.w > 0)	/* measured, not estimated: about -15 + the astronaut's lean */
		assert_true(r.roll < -9 && r.roll > -20);
	/* said first: the tilted head's box also makes it look too big */
	assert_string_equal(bb_photo_advice(&r)->hint_de, "Bitte gerade in die Kamera schauen");
	assert_false(r.compliant);
	bb_image_free(&cv);
}

static void
two_faces(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	make("two", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "two faces");
	assert_int_equal(r.faces, 2);
	assert_fails_with(&r, "single_face", "Mehrere Gesichter");
	assert_string_equal(bb_photo_advice(&r)->hint_en,
	    "Several faces found: please stand alone in front of the camera");
	assert_false(r.compliant);
	bb_image_free(&cv);
}

static void
no_face(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;
	struct bb_image out = { 0 };
	struct bb_err e;

	(void)state;
	make("blank", &cv);	/* needs no astronaut */
	check(&cv, BB_PHOTO_LIVE, &r, "blank");
	assert_int_equal(r.faces, 0);
	assert_fails_with(&r, "single_face", "Kein Gesicht");
	assert_string_equal(m_of(&r, "single_face")->hint_en, "No face found");
	assert_false(r.compliant);
	assert_int_equal(bb_photo_crop(&cv, &r, &out, &e), BB_SOFTWARE);
	bb_image_free(&cv);
}

static void
too_dark(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	make("dark", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "dark");
	assert_int_equal(r.faces, 1);
	assert_fails_with(&r, "underexposure", "Mehr Licht");
	assert_string_equal(m_of(&r, "underexposure")->hint_en, "More light needed");
	assert_true(m_of(&r, "overexposure")->pass);
	assert_false(r.compliant);
	bb_image_free(&cv);
}

static void
blurred(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;

	(void)state;
	NEED_ASTRO();
	make("blurred", &cv);
	check(&cv, BB_PHOTO_LIVE, &r, "blurred");
	assert_int_equal(r.faces, 1);
	assert_fails_with(&r, "sharpness", "stillhalten");
	assert_string_equal(m_of(&r, "sharpness")->hint_en, "Please hold still");
	assert_false(r.compliant);
	bb_image_free(&cv);
}

/* Frames too small to hold anything, grey frames, rectangles outside the frame, missing
 * arguments: answers, no crash (ASan watches the reads). */
static void
edges(void **state)
{
	struct bb_image cv = { 0 }, out = { 0 };
	struct bb_photo_result r;
	struct bb_rect out_l = { -500, -500, 300, 300 }, part = { 500, 1800, 600, 600 };
	struct bb_rect huge = { -100000, -100000, 2000000, 2000000 };
	struct bb_err e;
	int sz[][2] = { { 1, 1 }, { 2, 50 }, { 23, 23 }, { 24, 24 }, { 5000, 3 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sz / sizeof sz[0]; i++) {
		canvas(&cv, sz[i][0], sz[i][1], 0x40);
		assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_LIVE, &r, &e), 0);
		assert_int_equal(r.faces, 0);
		assert_int_equal(bb_photo_mirror(&cv, &r, 480, &out, &e), 0);
		bb_image_free(&out);
		bb_image_free(&cv);
	}
	/* a grey (1 channel) frame */
	assert_int_equal(bb_image_new(&cv, 640, 480, 1, &e), 0);
	memset(cv.px, 0xC0, 640 * 480);
	assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_SCAN, &r, &e), 0);
	assert_int_equal(bb_photo_measure(&cv, 1, &part, NULL, NULL, BB_PHOTO_SCAN, &r, &e), 0);
	assert_int_equal(bb_photo_mirror(&cv, &r, 320, &out, &e), 0);
	assert_int_equal(out.ch, 1);
	bb_image_free(&out);
	bb_image_free(&cv);
	/* face boxes outside or partly outside the frame */
	canvas(&cv, 1600, 2000, 0xC0);
	assert_int_equal(bb_photo_measure(&cv, 1, &out_l, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	assert_false(r.compliant);
	assert_false(m_of(&r, "sharpness")->pass);	/* nothing to measure */
	assert_int_equal(bb_photo_measure(&cv, 1, &part, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	assert_false(r.compliant);
	assert_int_equal(bb_photo_measure(&cv, 1, &huge, &out_l, &part, BB_PHOTO_LIVE, &r, &e), 0);
	assert_false(r.compliant);
	assert_fails_with(&r, "head_height_ratio", "zurück");
	if (bb_photo_crop(&cv, &r, &out, &e) == 0) {
		assert_int_equal(out.w, 1244);
		bb_image_free(&out);
	}
	/* arguments */
	assert_int_equal(bb_photo_check(NULL, eye_c, &cv, BB_PHOTO_LIVE, &r, &e), BB_SOFTWARE);
	assert_int_equal(bb_photo_check(face_c, eye_c, NULL, BB_PHOTO_LIVE, &r, &e), BB_SOFTWARE);
	assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_LIVE, NULL, &e), BB_SOFTWARE);
	assert_int_equal(bb_photo_crop(&cv, NULL, &out, &e), BB_SOFTWARE);
	assert_int_equal(bb_photo_mirror(NULL, &r, 100, &out, &e), BB_SOFTWARE);
	assert_null(bb_photo_advice(NULL));
	assert_null(bb_photo_find(&r, "no such measure"));
	bb_image_free(&cv);
}

/* --- best capture, crop, JSON, mirror --- */

static void
set_pass(struct bb_photo_result *r, int mand_fail, int opt_fail)
{
	size_t i;

	memset(r, 0, sizeof *r);
	r->nm = 6;
	for (i = 0; i < r->nm; i++) {
		r->m[i].name = "x";
		r->m[i].mandatory = i < 4;
		r->m[i].pass = 1;
	}
	for (i = 0; i < (size_t)mand_fail; i++)
		r->m[i].pass = 0;
	for (i = 0; i < (size_t)opt_fail; i++)
		r->m[4 + i].pass = 0;
}

static void
better(void **state)
{
	struct bb_photo_result a, b;

	(void)state;
	/* more mandatory met wins, whatever the optional ones */
	set_pass(&a, 0, 2);
	set_pass(&b, 1, 0);
	assert_true(bb_photo_better(&a, &b));
	assert_false(bb_photo_better(&b, &a));
	/* mandatory equal: more optional met */
	set_pass(&a, 1, 0);
	set_pass(&b, 1, 1);
	assert_true(bb_photo_better(&a, &b));
	assert_false(bb_photo_better(&b, &a));
	/* a tie: the newer (a) */
	set_pass(&a, 2, 1);
	set_pass(&b, 2, 1);
	assert_true(bb_photo_better(&a, &b));
	assert_true(bb_photo_better(&b, &a));
	assert_true(bb_photo_better(&a, NULL));
}

static void
crop(void **state)
{
	struct bb_image cv = { 0 }, out = { 0 }, g = { 0 };
	struct bb_photo_result r;
	struct bb_rect *eyes = NULL;
	struct bb_detect_opts o = { 1.1, 3, 60, 60, 250, 250 };
	struct bb_err e;
	size_t n = 0, i;
	int found = 0;

	(void)state;
	NEED_ASTRO();
	compliant(&cv);
	check(&cv, BB_PHOTO_LIVE, &r, "crop");
	assert_int_equal(bb_photo_crop(&cv, &r, &out, &e), 0);
	assert_int_equal(out.w, 1244);
	assert_int_equal(out.h, 1600);
	assert_int_equal(out.ch, 3);
	/* the corners are the canvas grey: nothing from outside the frame */
	assert_int_equal(out.px[0], 0xC0);
	assert_int_equal(out.px[((size_t)out.h * out.w - 1) * 3], 0xC0);
	/* the eyes where the crop put them: on the line 0.4 from the top, either side of
	 * the centre */
	assert_int_equal(bb_image_grey(&out, &g, &e), 0);
	assert_int_equal(bb_detect(eye_c, &g, &o, &eyes, &n, &e), 0);
	for (i = 0; i < n; i++) {
		double cy = eyes[i].y + eyes[i].h / 2.0, cx = eyes[i].x + eyes[i].w / 2.0;

		print_message("# eye in the crop: %.0f,%.0f\n", cx, cy);
		if (cy > 0.38 * 1600 && cy < 0.42 * 1600 && cx > 300 && cx < 944)
			found++;
	}
	assert_true(found >= 2);
	free(eyes);
	bb_image_free(&g);
	bb_image_free(&out);
	bb_image_free(&cv);

	/* rolled: the crop turns it upright */
	canvas(&cv, CANVAS_W, CANVAS_H, 0xC0);
	place(&cv, MX_OK, MY_OK, K_OK, COS15, SIN15);
	check(&cv, BB_PHOTO_LIVE, &r, "crop rolled");
	if (r.eye_l.w > 0) {
		struct bb_photo_result r2;

		assert_int_equal(bb_photo_crop(&cv, &r, &out, &e), 0);
		assert_int_equal(out.w, 1244);
		check(&out, BB_PHOTO_LIVE, &r2, "crop rolled, cropped");
		if (r2.eye_l.w > 0)
			assert_true(r2.roll > -4 && r2.roll < 4);
		bb_image_free(&out);
	}
	bb_image_free(&cv);

	/* too small: refused, never upscaled */
	canvas(&cv, CANVAS_W, CANVAS_H, 0xC0);
	place(&cv, MX_OK, MY_OK, 4, 1, 0);
	check(&cv, BB_PHOTO_LIVE, &r, "crop too small");
	assert_true(r.crop_scale < 1);
	assert_int_equal(bb_photo_crop(&cv, &r, &out, &e), BB_SOFTWARE);
	assert_non_null(strstr(e.msg, "upscaling"));
	assert_null(out.px);
	bb_image_free(&cv);
	/* a little bigger: the scan profile's 622x800 is there, the live one's not */
	canvas(&cv, CANVAS_W, CANVAS_H, 0xC0);
	place(&cv, MX_OK, MY_OK, 5, 1, 0);
	check(&cv, BB_PHOTO_LIVE, &r, "crop small");
	assert_int_equal(bb_photo_crop(&cv, &r, &out, &e), BB_SOFTWARE);
	check(&cv, BB_PHOTO_SCAN, &r, "crop small, scan");
	assert_true(r.compliant);
	assert_int_equal(bb_photo_crop(&cv, &r, &out, &e), 0);
	assert_int_equal(out.w, 622);
	assert_int_equal(out.h, 800);
	bb_image_free(&out);
	bb_image_free(&cv);
}

static void
json(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;
	json_t *j, *ms, *m;
	const char *k;
	size_t i;
	struct bb_err e;

	(void)state;
	canvas(&cv, 640, 800, 0xC0);
	/* given rectangles: no astronaut needed */
	{
		struct bb_rect f = { 200, 200, 240, 240 };

		assert_int_equal(bb_photo_measure(&cv, 1, &f, NULL, NULL, BB_PHOTO_SCAN, &r, &e), 0);
	}
	j = bb_photo_json(&r);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "faces")), 1);
	assert_true(json_is_false(json_object_get(j, "compliant")));
	assert_true(json_is_true(json_object_get(j, "eyes_estimated")));
	assert_non_null(json_object_get(j, "crop"));
	ms = json_object_get(j, "measures");
	assert_true(json_is_object(ms));
	assert_int_equal(json_object_size(ms), r.nm);
	for (i = 0; i < r.nm; i++) {
		m = json_object_get(ms, r.m[i].name);
		assert_non_null(m);
		for (k = "value"; k != NULL; k = strcmp(k, "value") == 0 ? "min" :
		    strcmp(k, "min") == 0 ? "max" : strcmp(k, "max") == 0 ? "pass" :
		    strcmp(k, "pass") == 0 ? "mandatory" : strcmp(k, "mandatory") == 0 ?
		    "hint_de" : strcmp(k, "hint_de") == 0 ? "hint_en" : NULL)
			if (json_object_get(m, k) == NULL)
				fail_msg("%s has no %s", r.m[i].name, k);
		assert_true(json_is_boolean(json_object_get(m, "pass")));
		assert_int_equal(json_is_true(json_object_get(m, "pass")), r.m[i].pass);
		if (!r.m[i].pass)
			assert_string_equal(json_string_value(json_object_get(m, "hint_de")),
			    r.m[i].hint_de);
	}
	/* NaN is null; bounds that exist are numbers */
	m = json_object_get(ms, "roll");
	assert_true(json_is_null(json_object_get(m, "value")));
	assert_true(json_real_value(json_object_get(m, "max")) == 8);
	m = json_object_get(ms, "inter_eye_distance");
	assert_true(json_is_null(json_object_get(m, "max")));
	assert_true(json_real_value(json_object_get(m, "min")) == 120);
	json_decref(j);

	/* no face: still every measure */
	assert_int_equal(bb_photo_measure(&cv, 0, NULL, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	j = bb_photo_json(&r);
	assert_non_null(j);
	assert_int_equal(json_object_size(json_object_get(j, "measures")), 15);
	assert_null(json_object_get(j, "crop"));
	json_decref(j);
	assert_null(bb_photo_json(NULL));
	bb_image_free(&cv);
}

static void
mirror(void **state)
{
	struct bb_image cv = { 0 }, out = { 0 };
	struct bb_photo_result r;
	struct bb_rect f = { 400, 400, 800, 800 };
	struct bb_err e;
	const unsigned char *p;

	(void)state;
	canvas(&cv, CANVAS_W, CANVAS_H, 0xC0);
	assert_int_equal(bb_photo_measure(&cv, 1, &f, NULL, NULL, BB_PHOTO_LIVE, &r, &e), 0);
	assert_int_equal(bb_photo_mirror(&cv, &r, 480, &out, &e), 0);
	assert_int_equal(out.w, 480);
	assert_int_equal(out.h, 600);
	/* the box's top-left corner (400/1600*480 = 120) in red: not compliant */
	p = out.px + ((size_t)120 * out.w + 121) * 3;
	assert_int_equal(p[0], 230);
	assert_int_equal(p[1], 0);
	/* inside the box: the frame's grey */
	p = out.px + ((size_t)200 * out.w + 200) * 3;
	assert_int_equal(p[0], 0xC0);
	bb_image_free(&out);
	/* compliant: green */
	r.compliant = 1;
	assert_int_equal(bb_photo_mirror(&cv, &r, 480, &out, &e), 0);
	p = out.px + ((size_t)120 * out.w + 121) * 3;
	assert_int_equal(p[0], 0);
	assert_int_equal(p[1], 200);
	bb_image_free(&out);
	/* no face: just the shrunk frame; wider than the frame: not upscaled */
	assert_int_equal(bb_photo_mirror(&cv, NULL, 4000, &out, &e), 0);
	assert_int_equal(out.w, CANVAS_W);
	bb_image_free(&out);
	assert_int_equal(bb_photo_mirror(&cv, &r, 0, &out, &e), BB_SOFTWARE);
	bb_image_free(&cv);
}

/* --- where the bounds come from (BB_PHOTO_CALIBRATE=1: prints, asserts nothing) --- */

static void
calibration(void **state)
{
	struct bb_image cv = { 0 };
	struct bb_photo_result r;
	struct bb_err e;
	static const double dark[] = { 1, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1 };
	static const double bright[] = { 1.2, 1.4, 1.6, 1.8 };
	static const int rad[] = { 1, 2, 3, 4, 6, 8, 12 };
	size_t i, j;

	(void)state;
	if (getenv("BB_PHOTO_CALIBRATE") == NULL || !have_astro)
		return;
	for (i = 0; i < sizeof dark / sizeof dark[0]; i++) {
		compliant(&cv);
		for (j = 0; j < (size_t)cv.w * cv.h * 3; j++)
			cv.px[j] = (unsigned char)(cv.px[j] * dark[i] + 0.5);
		assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_LIVE, &r, &e), 0);
		print_message("# x%.1f: faces %d under %.3f over %.3f entropy %.2f sharp %.1f\n",
		    dark[i], r.faces, m_of(&r, "underexposure")->value,
		    m_of(&r, "overexposure")->value, m_of(&r, "dynamic_range")->value,
		    m_of(&r, "sharpness")->value);
		bb_image_free(&cv);
	}
	for (i = 0; i < sizeof bright / sizeof bright[0]; i++) {
		compliant(&cv);
		for (j = 0; j < (size_t)cv.w * cv.h * 3; j++)
			cv.px[j] = (unsigned char)clampd(cv.px[j] * bright[i] + 0.5, 0, 255);
		assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_LIVE, &r, &e), 0);
		print_message("# x%.1f: faces %d under %.3f over %.3f entropy %.2f sharp %.1f\n",
		    bright[i], r.faces, m_of(&r, "underexposure")->value,
		    m_of(&r, "overexposure")->value, m_of(&r, "dynamic_range")->value,
		    m_of(&r, "sharpness")->value);
		bb_image_free(&cv);
	}
	for (i = 0; i < sizeof rad / sizeof rad[0]; i++) {
		compliant(&cv);
		blur(&cv, rad[i]);
		assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_LIVE, &r, &e), 0);
		print_message("# blur %d: faces %d sharp %.1f entropy %.2f\n", rad[i], r.faces,
		    m_of(&r, "sharpness")->value, m_of(&r, "dynamic_range")->value);
		bb_image_free(&cv);
	}
	/* a face at its native resolution (no upscaling): what a sharp camera gives */
	canvas(&cv, 400, 500, 0xC0);
	place(&cv, 200, 206, 2.3, 1, 0);
	assert_int_equal(bb_photo_check(face_c, eye_c, &cv, BB_PHOTO_SCAN, &r, &e), 0);
	print_message("# native: faces %d sharp %.1f\n", r.faces, m_of(&r, "sharpness")->value);
	bb_image_free(&cv);
	{
		static const char *const p[] = { "official-portrait-1.jpg",
		    "official-portrait-2.jpg", "video-frame-1080p.jpg" };

		for (i = 0; i < 3; i++) {
			char path[512];

			snprintf(path, sizeof path, "/work/shared/testdata/portraits/%s", p[i]);
			if (load_image(path, &cv) != 0)
				continue;
			check(&cv, BB_PHOTO_LIVE, &r, p[i]);
			bb_image_free(&cv);
		}
	}
}

/* --- speed --- */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void
frame_rate(void **state)
{
	struct bb_image fr = { 0 }, mi = { 0 };
	struct bb_photo_result r;
	struct bb_err e;
	double t0, t, fps;
	const char *min = getenv("BB_PHOTO_FPS_MIN");
	int i, n = 20;

	(void)state;
	if (load_image(FRAME_1080P, &fr) != 0) {
		print_message("# skipped: no " FRAME_1080P "\n");
		return;
	}
	assert_int_equal(fr.w, 1920);
	check(&fr, BB_PHOTO_LIVE, &r, "1080p frame");
	assert_int_equal(r.faces, 1);
	/* 1080 rows can never give 1600: the live profile needs a bigger (or turned) camera */
	assert_false(m_of(&r, "image_size")->pass);
	t0 = now();
	for (i = 0; i < n; i++) {
		assert_int_equal(bb_photo_check(face_c, eye_c, &fr, BB_PHOTO_LIVE, &r, &e), 0);
		assert_int_equal(bb_photo_mirror(&fr, &r, 480, &mi, &e), 0);
		bb_image_free(&mi);
	}
	t = now() - t0;
	fps = n / t;
	print_message("# 1080p: bb_photo_check + bb_photo_mirror %.1f ms a frame, %.1f frames/s\n",
	    t * 1000 / n, fps);
	if (min != NULL)
		assert_true(fps >= atof(min));
	bb_image_free(&fr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_given_rects),
		cmocka_unit_test(compliant_photo),
		cmocka_unit_test(too_small),
		cmocka_unit_test(off_centre),
		cmocka_unit_test(rolled),
		cmocka_unit_test(two_faces),
		cmocka_unit_test(no_face),
		cmocka_unit_test(too_dark),
		cmocka_unit_test(blurred),
		cmocka_unit_test(edges),
		cmocka_unit_test(better),
		cmocka_unit_test(crop),
		cmocka_unit_test(json),
		cmocka_unit_test(mirror),
		cmocka_unit_test(calibration),
		cmocka_unit_test(frame_rate),
	};

	return cmocka_run_group_tests_name("photo", tests, setup, teardown);
}
