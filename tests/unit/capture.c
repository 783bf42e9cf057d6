/* lib/capture's front door for the photo (capture.h), called in-process: bb_photo_best
 * over frames from image files (the file source, as bb-capture photo --input reads them)
 * and from a source of the test's own (a callback handing out frames it composed), with
 * the passport photo fixtures of tests/rig/card/photofix.c written as PNG files into a
 * scratch directory. Checked: which frame is kept (the compliant one among worse ones;
 * the one with more mandatory criteria met when none is compliant; the newer of two
 * equal ones), that a frame meeting every criterion ends the search, that tries bounds
 * it, what the mirror's callback sees, the statuses (no frame, a missing file, a stop
 * from the callback), the case's photo part and the cropped JPEG. Skipped without
 * python3-skimage's astronaut.png, as tests/unit/photo.c. Then the live mirror's two
 * files and what a signature (tests/data/signature-tablet.evemu) adds to the case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "img/image.h"
#include "scratch.h"
#include "../rig/card/photofix.h"

static struct bb_cascade *face_c, *eye_c;
static int have_astro;
static char dir[64];

#define NEED_ASTRO() do { \
	if (!have_astro) { \
		print_message("# skipped: no " PHOTOFIX_ASTRONAUT " (python3-skimage)\n"); \
		return; \
	} \
} while (0)

static void
path_of(char *buf, size_t n, const char *kind)
{
	snprintf(buf, n, "%s/%s.png", dir, kind);
}

/* Each kind once as DIR/KIND.png. */
static int
write_fixtures(void)
{
	static const char *const kinds[] = { "compliant", "small", "dark", "blank" };
	struct bb_err e;
	struct bb_image im;
	unsigned char *png;
	char path[128];
	size_t i, len;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		path_of(path, sizeof path, kinds[i]);
		if (photofix_make(kinds[i], &im, &e) != 0 || bb_image_png(&im, &png, &len, &e) != 0 ||
		    bb_write_durable(path, png, len, 0600, &e) != 0) {
			fprintf(stderr, "# %s: %s\n", kinds[i], e.msg);
			return -1;
		}
		free(png);
		bb_image_free(&im);
	}
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
	case BB_NOINPUT:
		have_astro = 0;
		break;
	default:
		fprintf(stderr, "# %s\n", e.msg);
		return -1;
	}
	if (bb_photo_cascades(BB_HAAR_DIR, &face_c, &eye_c, &e) != 0) {
		fprintf(stderr, "# %s\n", e.msg);
		return -1;
	}
	if (scratch_make(dir, "capture") != 0)
		return -1;
	return have_astro ? write_fixtures() : 0;
}

static int
teardown(void **state)
{
	(void)state;
	scratch_remove(dir);
	photofix_release();
	bb_cascade_free(face_c);
	bb_cascade_free(eye_c);
	return 0;
}

/* What the mirror's callback saw. */
struct seen {
	long calls, last_n;
	int compliant[8];
	int stop_at;		/* return 75 at this frame, 0: never */
};

static int
seen_fn(void *ctx, const struct bb_image *frame, const struct bb_photo_result *r, long n,
    struct bb_err *e)
{
	struct seen *s = ctx;

	assert_non_null(frame->px);
	s->calls++;
	s->last_n = n;
	if (s->calls <= 8)
		s->compliant[s->calls - 1] = r->compliant;
	if (n == s->stop_at)
		return bb_fail(e, BB_TEMPFAIL, "stopped at %ld", n);
	return 0;
}

/* The best of the files given, at most tries frames. */
static int
best_of(const char *const *kinds, size_t n, long tries, struct seen *s, struct bb_photo_best *b,
    struct bb_err *e)
{
	static char paths[8][128];
	const char *p[8];
	struct bb_frame_source src;
	struct bb_photo_job job = { face_c, eye_c, BB_PHOTO_LIVE, tries, &src, seen_fn, s };
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		path_of(paths[i], sizeof paths[i], kinds[i]);
		p[i] = paths[i];
	}
	assert_int_equal(bb_frames_files(p, n, &src, e), 0);
	rc = bb_photo_best(&job, b, e);
	bb_frames_close(&src);
	bb_frames_close(&src);	/* harmless twice */
	return rc;
}

/* The frame kept has the pixels of fixture kind. */
static void
assert_frame_is(const struct bb_photo_best *b, const char *kind)
{
	struct bb_err e;
	struct bb_image want;

	assert_int_equal(photofix_make(kind, &want, &e), 0);
	assert_int_equal(b->frame.w, want.w);
	assert_int_equal(b->frame.h, want.h);
	assert_int_equal(b->frame.ch, want.ch);
	if (memcmp(b->frame.px, want.px, (size_t)want.w * want.h * want.ch) != 0)
		fail_msg("the frame kept is not the %s one", kind);
	bb_image_free(&want);
}

/* Among worse frames the compliant one is kept, wherever it is; the frames after it are
 * measured only when it leaves an optional criterion unmet. */
static void
compliant_wins(void **state)
{
	static const char *const kinds[] = { "small", "blank", "compliant", "dark" };
	struct bb_err e;
	struct bb_photo_best b;
	struct seen s = { 0 };
	struct bb_image c;
	struct bb_photo_result r;
	long want;

	(void)state;
	NEED_ASTRO();
	/* whether the compliant fixture meets every criterion, so that it ends the search */
	assert_int_equal(photofix_make("compliant", &c, &e), 0);
	assert_int_equal(bb_photo_check(face_c, eye_c, &c, BB_PHOTO_LIVE, &r, &e), 0);
	assert_true(r.compliant);
	want = r.optional_failed == 0 ? 3 : 4;
	bb_image_free(&c);

	assert_int_equal(best_of(kinds, 4, 100, &s, &b, &e), 0);
	assert_int_equal(b.frames, want);
	assert_int_equal(s.calls, want);
	assert_int_equal(s.last_n, want);
	assert_int_equal(s.compliant[0], 0);
	assert_int_equal(s.compliant[1], 0);
	assert_int_equal(s.compliant[2], 1);
	assert_true(b.r.compliant);
	assert_int_equal(b.r.mandatory_failed, 0);
	assert_string_equal(b.format, "png");
	assert_string_equal(b.source, "file");
	assert_frame_is(&b, "compliant");
	bb_photo_best_free(&b);
	assert_null(b.frame.px);
	bb_photo_best_free(&b);	/* harmless twice */
}

/* tries bounds the search: of the first two (too small, no face) the one with a face
 * meets more mandatory criteria and is kept, not compliant. */
static void
tries_bound(void **state)
{
	static const char *const kinds[] = { "blank", "small", "compliant" };
	struct bb_err e;
	struct bb_photo_best b;
	struct seen s = { 0 };

	(void)state;
	NEED_ASTRO();
	assert_int_equal(best_of(kinds, 3, 2, &s, &b, &e), 0);
	assert_int_equal(b.frames, 2);
	assert_int_equal(s.calls, 2);
	assert_false(b.r.compliant);
	assert_int_equal(b.r.faces, 1);
	assert_frame_is(&b, "small");
	bb_photo_best_free(&b);
}

/* A source of the test's own: frames of the given kinds; the pixels handed out are
 * remembered, so the test knows which frame bb_photo_best kept. */
struct own {
	const char *const *kinds;
	size_t n, next;
	unsigned char *px[8];
	int closed;
};

static int
own_next(void *ctx, struct bb_image *im, char format[8], struct bb_err *e)
{
	struct own *o = ctx;
	int rc;

	if (o->next == o->n)
		return 1;
	if ((rc = photofix_make(o->kinds[o->next], im, e)) != 0)
		return rc;
	snprintf(format, 8, "%s", "test");
	o->px[o->next++] = im->px;
	return 0;
}

static void
own_close(void *ctx)
{
	((struct own *)ctx)->closed++;
}

/* Of equal frames the newest is kept (TR-03121 5.4.1); one worse after it does not
 * replace it. */
static void
newest_of_equals(void **state)
{
	static const char *const kinds[] = { "small", "small", "blank" };
	struct own o = { kinds, 3, 0, { NULL }, 0 };
	struct bb_frame_source src = { own_next, own_close, &o, "test" };
	struct bb_photo_job job = { face_c, eye_c, BB_PHOTO_LIVE, 10, &src, NULL, NULL };
	struct bb_err e;
	struct bb_photo_best b;

	(void)state;
	NEED_ASTRO();
	assert_int_equal(bb_photo_best(&job, &b, &e), 0);
	assert_int_equal(b.frames, 3);
	assert_ptr_equal(b.frame.px, o.px[1]);
	assert_string_equal(b.format, "test");
	assert_string_equal(b.source, "test");
	bb_photo_best_free(&b);
	bb_frames_close(&src);
	bb_frames_close(&src);
	assert_int_equal(o.closed, 1);
}

/* The statuses: no frame at all (65), a file that is not there (66), a stop from the
 * callback (its status); *best empty after each. */
static void
statuses(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const missing[] = { "missing" };
	static const char *const two[] = { "blank", "blank" };
	struct own o = { none, 0, 0, { NULL }, 0 };
	struct bb_frame_source src = { own_next, NULL, &o, "test" };
	struct bb_photo_job job = { face_c, eye_c, BB_PHOTO_SCAN, 10, &src, NULL, NULL };
	struct bb_err e;
	struct bb_photo_best b;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(bb_photo_best(&job, &b, &e), BB_DATAERR);
	assert_string_equal(e.msg, "photo: no frame");
	assert_null(b.frame.px);
	assert_int_equal(best_of(missing, 1, 10, &s, &b, &e), BB_NOINPUT);
	assert_null(b.frame.px);
	assert_int_equal(s.calls, 0);
	NEED_ASTRO();
	s.stop_at = 2;
	assert_int_equal(best_of(two, 2, 10, &s, &b, &e), BB_TEMPFAIL);
	assert_string_equal(e.msg, "stopped at 2");
	assert_null(b.frame.px);
}

/* The case's photo part and the attachment: the crop at the live profile's size. */
static void
part_and_jpeg(void **state)
{
	static const char *const kinds[] = { "compliant" };
	struct bb_err e;
	struct bb_photo_best b;
	struct seen s = { 0 };
	struct bb_image out;
	unsigned char *jpg;
	size_t len;
	json_t *part;

	(void)state;
	NEED_ASTRO();
	assert_int_equal(best_of(kinds, 1, 10, &s, &b, &e), 0);
	part = bb_photo_best_json(&b);
	assert_non_null(part);
	assert_int_equal(json_integer_value(json_object_get(part, "frames")), 1);
	assert_string_equal(json_string_value(json_object_get(part, "profile")), "live");
	assert_string_equal(json_string_value(json_object_get(part, "source")), "file");
	assert_string_equal(json_string_value(json_object_get(part, "source_format")), "png");
	assert_true(json_is_true(json_object_get(part, "compliant")));
	json_decref(part);
	assert_int_equal(bb_photo_best_jpeg(&b, &jpg, &len, &e), 0);
	assert_int_equal(bb_image_decode(jpg, len, "crop", &out, &e), 0);
	assert_int_equal(out.w, b.r.out_w);
	assert_int_equal(out.h, b.r.out_h);
	assert_int_equal(out.h, 1600);
	bb_image_free(&out);
	free(jpg);
	bb_photo_best_free(&b);
}

/* The mirror's files: a JPEG at most 640 px wide, the guidance with the frame's number,
 * mode 0640, no temporary file left; both removed. */
static void
mirror_files(void **state)
{
	char sub[128], path[160];
	struct bb_err e;
	struct bb_image frame, m;
	struct bb_photo_result r;
	struct stat st;
	char *buf;
	size_t len;
	json_t *g;
	int dfd;

	(void)state;
	NEED_ASTRO();
	snprintf(sub, sizeof sub, "%s/mirror", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_true((dfd = open(sub, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_int_equal(photofix_make("small", &frame, &e), 0);
	assert_int_equal(bb_photo_check(face_c, eye_c, &frame, BB_PHOTO_LIVE, &r, &e), 0);
	assert_int_equal(bb_photo_mirror_write(dfd, sub, &frame, &r, 7, &e), 0);
	snprintf(path, sizeof path, "%s/mirror.jpg", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(bb_read_file(path, 1 << 24, &buf, &len, &e), 0);
	assert_int_equal(bb_image_decode((unsigned char *)buf, len, "mirror", &m, &e), 0);
	/* a portrait frame: 640 high */
	assert_int_equal(m.h, 640);
	assert_int_equal(m.w, 640 * PHOTOFIX_W / PHOTOFIX_H);
	bb_image_free(&m);
	free(buf);
	snprintf(path, sizeof path, "%s/guidance.json", sub);
	assert_int_equal(bb_read_file(path, 1 << 20, &buf, &len, &e), 0);
	g = json_loadb(buf, len, 0, NULL);
	assert_non_null(g);
	assert_int_equal(json_integer_value(json_object_get(g, "frame")), 7);
	assert_false(json_is_true(json_object_get(g, "compliant")));
	json_decref(g);
	free(buf);
	bb_photo_mirror_remove(dfd);
	assert_int_equal(rmdir(sub), 0);	/* empty: both removed, no temporary left */
	close(dfd);
	bb_image_free(&frame);
}

/* A signature's attachments and part: the PNG decodes to the part's size, the strokes
 * are the JSON of bb_sig_json, the part counts strokes and points. */
static void
signature_case(void **state)
{
	const char *t = getenv("BB_TOP");
	char path[4096], *buf;
	struct bb_err e;
	struct bb_sig sig;
	struct bb_sig_case sc;
	struct bb_image im;
	size_t len, k, points = 0;
	json_t *strokes;

	(void)state;
	snprintf(path, sizeof path, "%s/tests/data/signature-tablet.evemu",
	    t != NULL && *t != '\0' ? t : ".");
	assert_int_equal(bb_read_file(path, 1 << 24, &buf, &len, &e), 0);
	assert_int_equal(bb_sig_read_evemu(buf, len, path, &sig, &e), 0);
	free(buf);
	for (k = 0; k < sig.n; k++)
		points += sig.s[k].n;
	assert_int_equal(bb_sig_case_make(&sig, 300, "recording", &sc, &e), 0);
	assert_int_equal(bb_image_decode(sc.png, sc.png_len, "png", &im, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(sc.part, "width")), im.w);
	assert_int_equal(json_integer_value(json_object_get(sc.part, "height")), im.h);
	assert_int_equal(json_integer_value(json_object_get(sc.part, "strokes")), sig.n);
	assert_int_equal(json_integer_value(json_object_get(sc.part, "points")), points);
	assert_int_equal(json_integer_value(json_object_get(sc.part, "dpi")), 300);
	assert_string_equal(json_string_value(json_object_get(sc.part, "source")), "recording");
	strokes = json_loads(sc.strokes, 0, NULL);
	assert_non_null(strokes);
	assert_int_equal(json_array_size(json_object_get(strokes, "strokes")), sig.n);
	json_decref(strokes);
	bb_image_free(&im);
	bb_sig_case_free(&sc);
	assert_null(sc.part);
	bb_sig_free(&sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compliant_wins),
		cmocka_unit_test(tries_bound),
		cmocka_unit_test(newest_of_equals),
		cmocka_unit_test(statuses),
		cmocka_unit_test(part_and_jpeg),
		cmocka_unit_test(mirror_files),
		cmocka_unit_test(signature_case),
	};

	return cmocka_run_group_tests_name("capture", tests, setup, teardown);
}
