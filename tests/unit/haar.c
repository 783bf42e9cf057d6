/* lib/capture/haar.c: reading cascades (66 missing; 65 with a line number for truncated
 * XML at every length, a stageType other than BOOST, a featureType other than HAAR,
 * tilted features, trees, features out of range, a DOCTYPE), and detection with a tiny
 * cascade written here: a dark square on a light ground, found at two sizes, grouped,
 * nothing on a flat or too small image; the options bb_detect refuses. The comparison
 * with OpenCV on real faces is tests/0800-haar.t. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exit.h"
#include "scratch.h"
#include "capture/haar.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	return scratch_make(dir, "haar");
}

static int
teardown(void **state)
{
	(void)state;
	scratch_remove(dir);
	return 0;
}

/* A 12x12 cascade of two stages.
 * Stage 0, one stump: 4 x the centre 6x6 minus the whole window, normalised, is below
 *   -1 for a dark centre (about -2.25 for a black square on white).
 * Stage 1, two stumps: left half minus right half, and right minus left, both below 0.5:
 *   the dark part is centred left to right.
 * The placeholders: stageType, featureType, the first stump's node text, tilted for the
 * first feature, and the third rect of the first feature (empty or a <_>). */
static const char *tiny_fmt =
    "<?xml version=\"1.0\"?>\n"
    "<opencv_storage>\n"
    "<cascade type_id=\"opencv-cascade-classifier\"><stageType>%s</stageType>\n"
    "  <featureType>%s</featureType>\n"
    "  <height>12</height>\n"
    "  <width>12</width>\n"
    "  <stageParams><maxWeakCount>2</maxWeakCount></stageParams>\n"
    "  <featureParams><maxCatCount>0</maxCatCount></featureParams>\n"
    "  <stageNum>2</stageNum>\n"
    "  <stages>\n"
    "    <_>\n"
    "      <maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>0.5</stageThreshold>\n"
    "      <weakClassifiers>\n"
    "        <_>\n"
    "          <internalNodes>%s</internalNodes>\n"
    "          <leafValues>1. -1.</leafValues></_></weakClassifiers></_>\n"
    "    <_>\n"
    "      <maxWeakCount>2</maxWeakCount>\n"
    "      <stageThreshold>1.5</stageThreshold>\n"
    "      <weakClassifiers>\n"
    "        <_>\n"
    "          <internalNodes>0 -1 1 0.5</internalNodes>\n"
    "          <leafValues>1. -1.</leafValues></_>\n"
    "        <_>\n"
    "          <internalNodes>0 -1 2 0.5</internalNodes>\n"
    "          <leafValues>1. -1.</leafValues></_></weakClassifiers></_></stages>\n"
    "  <features>\n"
    "    <_>\n"
    "      <rects>\n"
    "        <_>0 0 12 12 -1.</_>\n"
    "        <_>3 3 6 6 4.</_>%s</rects>\n"
    "      <tilted>%s</tilted></_>\n"
    "    <_>\n"
    "      <rects>\n"
    "        <_>0 0 6 12 1.</_>\n"
    "        <_>6 0 6 12 -1.</_></rects></_>\n"
    "    <_>\n"
    "      <rects>\n"
    "        <_>0 0 6 12 -1.</_>\n"
    "        <_>6 0 6 12 1.</_></rects></_></features></cascade>\n"
    "</opencv_storage>\n";

static char *
tiny(const char *stagetype, const char *featuretype, const char *node0, const char *tilted,
    const char *rect3)
{
	size_t n = strlen(tiny_fmt) + 256;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, tiny_fmt, stagetype, featuretype, node0, rect3, tilted);
	return s;
}

static char *
good_xml(void)
{
	return tiny("BOOST", "HAAR", "0 -1 0 -1.", "0", "");
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Loads data as a cascade file: the status, the message in e. */
static int
load_text(const char *data, size_t len, struct bb_cascade **c, struct bb_err *e)
{
	char path[128];

	snprintf(path, sizeof path, "%s/c.xml", dir);
	write_file(path, data, len);
	e->status = 0;
	e->msg[0] = '\0';
	return bb_cascade_load(path, c, e);
}

static void
expect_65(const char *xml, const char *why)
{
	struct bb_cascade *c = (struct bb_cascade *)1;
	struct bb_err e;

	assert_int_equal(load_text(xml, strlen(xml), &c, &e), BB_DATAERR);
	assert_null(c);
	assert_int_equal(e.status, BB_DATAERR);
	if (strstr(e.msg, why) == NULL)
		fail_msg("message \"%s\" does not say \"%s\"", e.msg, why);
}

static void
missing_file(void **state)
{
	struct bb_cascade *c = (struct bb_cascade *)1;
	struct bb_err e = { 0, "" };
	char path[128];

	(void)state;
	snprintf(path, sizeof path, "%s/none.xml", dir);
	assert_int_equal(bb_cascade_load(path, &c, &e), BB_NOINPUT);
	assert_null(c);
	assert_non_null(strstr(e.msg, "none.xml"));
	/* No e at all is allowed too. */
	assert_int_equal(bb_cascade_load(path, &c, NULL), BB_NOINPUT);
	/* A directory is no cascade file either. */
	assert_int_equal(bb_cascade_load(dir, &c, &e), BB_NOINPUT);
	assert_null(c);
}

static void
loads(void **state)
{
	struct bb_cascade *c = NULL;
	struct bb_err e;
	char *xml = good_xml();

	(void)state;
	assert_int_equal(load_text(xml, strlen(xml), &c, &e), 0);
	assert_non_null(c);
	bb_cascade_free(c);
	bb_cascade_free(NULL);
	free(xml);
}

/* Every proper prefix of the file, from nothing to all but the last byte: 65 with the
 * file's name and a line number, never a cascade. */
static void
truncated(void **state)
{
	char *xml = good_xml();
	size_t len = strlen(xml), cut;

	(void)state;
	/* The last newline is outside the root element: the file is whole without it. */
	for (cut = 0; cut < len - 1; cut++) {
		struct bb_cascade *c = (struct bb_cascade *)1;
		struct bb_err e;
		char want[80];

		if (load_text(xml, cut, &c, &e) != BB_DATAERR)
			fail_msg("cut at %zu: status %d (%s)", cut, e.status, e.msg);
		assert_null(c);
		snprintf(want, sizeof want, "%s/c.xml:", dir);
		if (strncmp(e.msg, want, strlen(want)) != 0 ||
		    e.msg[strlen(want)] < '0' || e.msg[strlen(want)] > '9')
			fail_msg("cut at %zu: no line number in \"%s\"", cut, e.msg);
	}
	free(xml);
}

static void
wrong_types(void **state)
{
	char *x;

	(void)state;
	expect_65(x = tiny("GENTLE", "HAAR", "0 -1 0 -1.", "0", ""), "stageType");
	free(x);
	expect_65(x = tiny("BOOST", "LBP", "0 -1 0 -1.", "0", ""), "featureType LBP");
	free(x);
	/* The line of the offending element. */
	expect_65(x = tiny("", "HAAR", "0 -1 0 -1.", "0", ""), "c.xml:3:");
	free(x);
}

static void
tilted(void **state)
{
	char *x;

	(void)state;
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 -1.", "1", ""), "tilted");
	free(x);
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 -1.", "yes", ""), "tilted");
	free(x);
}

static void
malformed(void **state)
{
	char *x;

	(void)state;
	/* A tree of two nodes, a feature that does not exist, a bad threshold. */
	expect_65(x = tiny("BOOST", "HAAR", "1 -1 0 -1. 0 -2 1 0.5", "0", ""), "trees");
	free(x);
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 7 -1.", "0", ""), "feature 7");
	free(x);
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 one", "0", ""), "not a number");
	free(x);
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 1e999", "0", ""), "not a number");
	free(x);
	/* Rects: outside the window, a fourth one, not integral. */
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 -1.", "0", "<_>8 8 6 6 1.</_>"),
	    "outside the 12x12 window");
	free(x);
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 -1.", "0",
	    "<_>1 1 2 2 1.</_><_>1 1 2 2 1.</_>"), "more than 3 rects");
	free(x);
	expect_65(x = tiny("BOOST", "HAAR", "0 -1 0 -1.", "0", "<_>1.5 1 2 2 1.</_>"),
	    "x y w h weight");
	free(x);
	expect_65("<opencv_storage><cascade><stageType>BOOST</stageType>"
	    "<featureType>HAAR</featureType><width>12</width><height>12</height>"
	    "</cascade></opencv_storage>", "no stages");
	expect_65("<haarcascade/>", "not an OpenCV storage file");
	/* The old format (<haarcascade_...> with <size> and trees of <feature>s). */
	expect_65("<opencv_storage><haarcascade_x type_id=\"opencv-haar-classifier\">"
	    "<size>24 24</size><stages/></haarcascade_x></opencv_storage>", "new format");
	/* Entities are how XML files explode: no DTD at all. */
	expect_65("<?xml version=\"1.0\"?>\n<!DOCTYPE l [<!ENTITY a \"aaaa\">]>\n"
	    "<opencv_storage/>\n", "DOCTYPE");
}

/* An image of grey 200 with black squares: side 6 at (10, 10) and side 12 at (40, 14). */
static void
squares(struct bb_image *im)
{
	struct bb_err e;

	assert_int_equal(bb_image_new(im, 80, 50, 1, &e), 0);
	memset(im->px, 200, 80 * 50);
	for (int y = 0; y < 6; y++)
		memset(im->px + (10 + y) * 80 + 10, 0, 6);
	for (int y = 0; y < 12; y++)
		memset(im->px + (14 + y) * 80 + 40, 0, 12);
}

static int
contains(const struct bb_rect *r, int x, int y)
{
	return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

static struct bb_cascade *
tiny_cascade(void)
{
	struct bb_cascade *c = NULL;
	struct bb_err e;
	char *xml = good_xml();

	if (load_text(xml, strlen(xml), &c, &e) != 0)
		fail_msg("%s", e.msg);
	free(xml);
	return c;
}

static void
detects_squares(void **state)
{
	struct bb_cascade *c = tiny_cascade();
	struct bb_detect_opts o = { 1.1, 3, 0, 0, 0, 0 };
	struct bb_image im;
	struct bb_rect *r;
	size_t n, raw, i;
	struct bb_err e;
	int small = 0, big = 0;

	(void)state;
	squares(&im);
	o.min_neighbors = 0;
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), 0);
	raw = n;
	/* Several windows around each square pass before grouping. */
	assert_true(raw > 4);
	free(r);

	o.min_neighbors = 1;
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		/* One box around each square's centre, two to three times its side
		 * (OpenCV finds [5,5,17,17] and [32,6,29,29]). */
		if (contains(&r[i], 13, 13) && r[i].w >= 12 && r[i].w <= 18)
			small++;
		if (contains(&r[i], 46, 20) && r[i].w >= 24 && r[i].w <= 36)
			big++;
		assert_int_equal(r[i].w, r[i].h);
	}
	assert_int_equal(small, 1);
	assert_int_equal(big, 1);
	free(r);

	/* A minimum size above the small square's hits leaves the big one. */
	o.min_w = o.min_h = 24;
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_true(contains(&r[0], 46, 20));
	free(r);
	/* A maximum size below the big square's hits the small one. */
	o.min_w = o.min_h = 0;
	o.max_w = o.max_h = 12;
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_true(contains(&r[0], 13, 13));
	free(r);

	bb_image_free(&im);
	bb_cascade_free(c);
}

static void
nothing_to_find(void **state)
{
	struct bb_cascade *c = tiny_cascade();
	struct bb_detect_opts o = { 1.1, 3, 0, 0, 0, 0 };
	struct bb_image im;
	struct bb_rect *r = (struct bb_rect *)1;
	size_t n = 99;
	struct bb_err e;

	(void)state;
	/* Flat: every window has no variance. */
	assert_int_equal(bb_image_new(&im, 64, 48, 1, &e), 0);
	memset(im.px, 128, 64 * 48);
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(r);
	bb_image_free(&im);
	/* Smaller than the window. */
	assert_int_equal(bb_image_new(&im, 11, 40, 1, &e), 0);
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), 0);
	assert_int_equal(n, 0);
	bb_image_free(&im);
	bb_cascade_free(c);
}

static void
refused(void **state)
{
	struct bb_cascade *c = tiny_cascade();
	struct bb_detect_opts o = { 1.0, 3, 0, 0, 0, 0 };
	struct bb_image im;
	struct bb_rect *r;
	size_t n;
	struct bb_err e;

	(void)state;
	assert_int_equal(bb_image_new(&im, 20, 20, 1, &e), 0);
	/* A scale of 1 would never end. */
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), BB_SOFTWARE);
	o.scale = 0.0 / 0.0;
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), BB_SOFTWARE);
	bb_image_free(&im);
	/* Colour is the caller's to convert (as OpenCV's COLOR_RGB2GRAY). */
	o.scale = 1.1;
	assert_int_equal(bb_image_new(&im, 20, 20, 3, &e), 0);
	assert_int_equal(bb_detect(c, &im, &o, &r, &n, &e), BB_SOFTWARE);
	bb_image_free(&im);
	bb_cascade_free(c);
}

static void
resize(void **state)
{
	struct bb_image in, out;
	struct bb_err e;

	(void)state;
	assert_int_equal(bb_image_new(&in, 8, 6, 1, &e), 0);
	for (int i = 0; i < 48; i++)
		in.px[i] = (unsigned char)(i * 5);
	/* The same size: a copy. */
	assert_int_equal(bb_haar_resize(&in, 8, 6, &out, &e), 0);
	assert_memory_equal(out.px, in.px, 48);
	bb_image_free(&out);
	/* Half: the 2x2 mean, rounded. */
	assert_int_equal(bb_haar_resize(&in, 4, 3, &out, &e), 0);
	assert_int_equal(out.px[0], (0 + 5 + 40 + 45 + 2) / 4);
	bb_image_free(&out);
	/* A flat image stays flat at any size. */
	memset(in.px, 77, 48);
	assert_int_equal(bb_haar_resize(&in, 5, 5, &out, &e), 0);
	for (int i = 0; i < 25; i++)
		assert_int_equal(out.px[i], 77);
	bb_image_free(&out);
	/* Enlarging is not what it is for. */
	assert_int_equal(bb_haar_resize(&in, 9, 6, &out, &e), BB_SOFTWARE);
	bb_image_free(&in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(missing_file),
		cmocka_unit_test(loads),
		cmocka_unit_test(truncated),
		cmocka_unit_test(wrong_types),
		cmocka_unit_test(tilted),
		cmocka_unit_test(malformed),
		cmocka_unit_test(detects_squares),
		cmocka_unit_test(nothing_to_find),
		cmocka_unit_test(refused),
		cmocka_unit_test(resize),
	};

	return cmocka_run_group_tests_name("haar", tests, setup, teardown);
}
