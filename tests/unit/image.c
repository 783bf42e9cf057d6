/* lib/img/image.c and lib/img/v4l2.c: PNG and JPEG round trips (PNG exact, JPEG at
 * quality 100 4:4:4 above 40 dB PSNR on a photo-like image), PPM/PGM, the grey formula
 * (OpenCV's COLOR_RGB2GRAY, reference values from python3-opencv 4.6), area shrinking
 * (against cv2.resize INTER_AREA), crop with rotation, YUYV; hostile inputs (every
 * truncation of a small PNG and JPEG in copies of exactly that size so ASan sees any
 * over-read, headers declaring more pixels than allowed, zero sizes, garbage, byte flips)
 * are 65 with one line and nothing on stderr; real files decode to their sizes. The
 * camera itself cannot be tested here (no /dev/video*): only the failures without one, the
 * listing and the frame conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <linux/videodev2.h>

#include "diag.h"
#include "exit.h"
#include "img/image.h"
#include "img/v4l2.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PORTRAITS "/work/shared/testdata/portraits"

/* --- helpers --- */

static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* A photo-like RGB image: smooth lit background, a shaded disc (a head), fine texture
 * and a little noise, as a camera frame has them. */
static void
make_photo(struct bb_image *im, int w, int h)
{
	int x, y;

	assert_int_equal(bb_image_new(im, w, h, 3, NULL), 0);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			unsigned char *p = im->px + ((size_t)y * w + x) * 3;
			double dx = x - w / 2.0, dy = y - h / 2.5, r = sqrt(dx * dx + dy * dy);
			double v[3] = { 180 - 40.0 * y / h, 175 - 30.0 * x / w, 170 };
			int c;

			if (r < h / 4.0) {
				double shade = 1 - 0.5 * r / (h / 4.0);

				v[0] = 210 * shade;
				v[1] = 160 * shade;
				v[2] = 130 * shade;
				v[(x / 3 + y / 3) % 3] += 6 * sin(x * 0.7) * cos(y * 0.5);
			}
			for (c = 0; c < 3; c++) {
				double n = v[c] + (double)(rng() % 5) - 2;

				p[c] = (unsigned char)(n < 0 ? 0 : n > 255 ? 255 : n);
			}
		}
}

static double
psnr(const struct bb_image *a, const struct bb_image *b)
{
	size_t i, n = (size_t)a->w * a->h * a->ch;
	double se = 0;

	for (i = 0; i < n; i++) {
		double d = (double)a->px[i] - b->px[i];

		se += d * d;
	}
	return se == 0 ? 99 : 10 * log10(255.0 * 255.0 / (se / (double)n));
}

/* One line, naming the input. */
static void
assert_message(const struct bb_err *e, const char *name)
{
	assert_non_null(strstr(e->msg, name));
	assert_null(strchr(e->msg, '\n'));
}

/* Decodes a copy of exactly n bytes (ASan sees any read past them). */
static int
decode_copy(const unsigned char *buf, size_t n, const char *name, struct bb_image *out,
    struct bb_err *e)
{
	unsigned char *c = malloc(n != 0 ? n : 1);
	int rc;

	assert_non_null(c);
	if (n != 0)
		memcpy(c, buf, n);
	rc = bb_image_decode(c, n, name, out, e);
	free(c);
	return rc;
}

/* stderr into a file while hostile inputs are decoded: libpng and libjpeg must stay
 * silent. */
struct quiet {
	int saved;
	char path[64];
};

static void
stderr_capture(struct quiet *q)
{
	int fd;

	fflush(stderr);
	snprintf(q->path, sizeof q->path, "/tmp/bb-unit-image-XXXXXX");
	assert_true((fd = mkstemp(q->path)) >= 0);
	assert_true((q->saved = dup(2)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

static void
stderr_assert_empty(struct quiet *q)
{
	struct stat st;

	fflush(stderr);
	assert_int_equal(dup2(q->saved, 2), 2);
	close(q->saved);
	assert_int_equal(stat(q->path, &st), 0);
	unlink(q->path);
	assert_int_equal(st.st_size, 0);
}

static uint32_t
crc32_png(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A PNG's IHDR says w x h (CRC recomputed, so only the size is wrong). */
static void
png_set_size(unsigned char *png, uint32_t w, uint32_t h)
{
	assert_memory_equal(png + 12, "IHDR", 4);
	put32(png + 16, w);
	put32(png + 20, h);
	put32(png + 29, crc32_png(png + 12, 17));
}

/* Offset of the first segment with marker m (0xffm) in a JPEG, its length field at +2. */
static size_t
jpeg_find(const unsigned char *j, size_t len, unsigned m)
{
	size_t i = 2;

	while (i + 4 <= len && j[i] == 0xff) {
		if (j[i + 1] == m)
			return i;
		if (j[i + 1] == 0xda)
			break;
		i += 2 + ((size_t)j[i + 2] << 8 | j[i + 3]);
	}
	fail_msg("marker %02x not found", m);
	return 0;
}

static void
small_png(unsigned char **buf, size_t *len)
{
	struct bb_image im;

	make_photo(&im, 13, 9);
	assert_int_equal(bb_image_png(&im, buf, len, NULL), 0);
	bb_image_free(&im);
}

static void
small_jpeg(unsigned char **buf, size_t *len)
{
	struct bb_image im;

	make_photo(&im, 21, 14);
	assert_int_equal(bb_image_jpeg(&im, buf, len, NULL), 0);
	bb_image_free(&im);
}

/* --- round trips --- */

static void
test_png_roundtrip(void **state)
{
	struct bb_image im, g, ga, back;
	struct bb_err e;
	unsigned char *buf;
	size_t len, i;

	(void)state;
	make_photo(&im, 37, 23);
	assert_int_equal(bb_image_png(&im, &buf, &len, &e), 0);
	assert_int_equal(bb_image_decode(buf, len, "rt.png", &back, &e), 0);
	assert_int_equal(back.w, 37);
	assert_int_equal(back.h, 23);
	assert_int_equal(back.ch, 3);
	assert_memory_equal(back.px, im.px, 37 * 23 * 3);
	free(buf);
	bb_image_free(&back);

	/* Grey comes back as RGB with R = G = B. */
	assert_int_equal(bb_image_grey(&im, &g, &e), 0);
	assert_int_equal(bb_image_png(&g, &buf, &len, &e), 0);
	assert_int_equal(bb_image_decode(buf, len, "grey.png", &back, &e), 0);
	assert_int_equal(back.ch, 3);
	for (i = 0; i < 37 * 23; i++) {
		assert_int_equal(back.px[3 * i], g.px[i]);
		assert_int_equal(back.px[3 * i + 1], g.px[i]);
		assert_int_equal(back.px[3 * i + 2], g.px[i]);
	}
	free(buf);
	bb_image_free(&back);

	/* Grey + alpha: composited on white. */
	assert_int_equal(bb_image_new(&ga, 4, 1, 2, &e), 0);
	memcpy(ga.px, "\x50\x00" "\x50\xff" "\x50\x80" "\x00\x40", 8);
	assert_int_equal(bb_image_png(&ga, &buf, &len, &e), 0);
	assert_int_equal(bb_image_decode(buf, len, "alpha.png", &back, &e), 0);
	assert_int_equal(back.px[0], 255);
	assert_int_equal(back.px[3], 0x50);
	assert_int_equal(back.px[6], (0x50 * 128 + 255 * 127 + 127) / 255);
	assert_int_equal(back.px[9], (255 * (255 - 64) + 127) / 255);
	assert_int_equal(back.px[10], back.px[9]);
	free(buf);
	bb_image_free(&back);
	bb_image_free(&ga);
	bb_image_free(&g);
	bb_image_free(&im);
}

/* PNGs our encoder never writes, written here with libpng itself. */
struct memw {
	unsigned char *p;
	size_t n, cap;
};

static void
memw_write(png_structp png, png_bytep d, size_t n)
{
	struct memw *m = png_get_io_ptr(png);

	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2;
		m->p = realloc(m->p, m->cap);
		assert_non_null(m->p);
	}
	memcpy(m->p + m->n, d, n);
	m->n += n;
}

static void
memw_flush(png_structp png)
{
	(void)png;
}

static void
write_png(struct memw *m, int w, int h, int depth, int ctype, int interlace,
    unsigned char *data, const png_color *pal, int npal, const unsigned char *trns, int ntrns)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	size_t stride = (size_t)w * (depth / 8) * (ctype == PNG_COLOR_TYPE_RGB ? 3 : 1);
	png_bytep rows[64];
	int y;

	assert_true(h <= 64);
	memset(m, 0, sizeof *m);
	png_set_write_fn(png, m, memw_write, memw_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (pal != NULL)
		png_set_PLTE(png, info, pal, npal);
	if (trns != NULL)
		png_set_tRNS(png, info, trns, ntrns, NULL);
	for (y = 0; y < h; y++)
		rows[y] = data + (size_t)y * stride;
	png_set_rows(png, info, rows);
	png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
	png_destroy_write_struct(&png, &info);
}

static void
test_png_kinds(void **state)
{
	static const png_color pal[3] = { { 255, 0, 0 }, { 0, 0, 255 }, { 10, 20, 30 } };
	static const unsigned char trns[2] = { 255, 0 };
	unsigned char d16[9 * 7 * 6], d8[9 * 7];
	struct bb_image im;
	struct bb_err e;
	struct memw m;
	size_t i, n;
	int il;

	(void)state;
	/* 16-bit RGB, plain and Adam7 interlaced: each sample v to round(v * 255 / 65535). */
	for (i = 0; i < sizeof d16; i++)
		d16[i] = (unsigned char)rng();
	for (il = 0; il < 2; il++) {
		write_png(&m, 9, 7, 16, PNG_COLOR_TYPE_RGB, il ? PNG_INTERLACE_ADAM7 :
		    PNG_INTERLACE_NONE, d16, NULL, 0, NULL, 0);
		assert_int_equal(m.p[28], il);
		if (decode_copy(m.p, m.n, "16.png", &im, &e) != 0)
			fail_msg("%s", e.msg);
		for (i = 0; i < 9 * 7 * 3; i++) {
			unsigned v = (unsigned)d16[2 * i] << 8 | d16[2 * i + 1];

			assert_int_equal(im.px[i], (v * 255 + 32767) / 65535);
		}
		bb_image_free(&im);
		/* Every truncation of the interlaced one too. */
		for (n = 0; n < m.n; n++)
			assert_int_equal(decode_copy(m.p, n, "16.png", &im, &e), BB_DATAERR);
		free(m.p);
	}

	/* Palette with transparency: index 0 opaque red, 1 transparent (white), 2 no tRNS
	 * entry (opaque). */
	for (i = 0; i < sizeof d8; i++)
		d8[i] = (unsigned char)(i % 3);
	write_png(&m, 9, 7, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, d8, pal, 3, trns, 2);
	assert_int_equal(decode_copy(m.p, m.n, "pal.png", &im, &e), 0);
	assert_memory_equal(im.px, "\xff\x00\x00" "\xff\xff\xff" "\x0a\x14\x1e", 9);
	bb_image_free(&im);
	free(m.p);
}

static void
test_jpeg_roundtrip(void **state)
{
	struct bb_image im, g, back;
	struct bb_err e;
	unsigned char *buf;
	size_t len, sof, dqt, i;
	double p;

	(void)state;
	make_photo(&im, 160, 120);
	assert_int_equal(bb_image_jpeg(&im, &buf, &len, &e), 0);
	assert_int_equal(bb_image_decode(buf, len, "rt.jpg", &back, &e), 0);
	assert_int_equal(back.w, 160);
	assert_int_equal(back.h, 120);
	p = psnr(&im, &back);
	print_message("# JPEG q100 4:4:4: %zu bytes, PSNR %.1f dB\n", len, p);
	assert_true(p > 40);

	/* Baseline (SOF0), three components sampled 1x1, quantisation all 1 (quality 100). */
	sof = jpeg_find(buf, len, 0xc0);
	assert_int_equal(buf[sof + 9], 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(buf[sof + 10 + 3 * i + 1], 0x11);
	dqt = jpeg_find(buf, len, 0xdb);
	assert_int_equal(buf[dqt + 4] >> 4, 0);	/* 8-bit table */
	for (i = 0; i < 64; i++)
		assert_int_equal(buf[dqt + 5 + i], 1);
	free(buf);
	bb_image_free(&back);

	/* Grey JPEG: one component, decoded to RGB. */
	assert_int_equal(bb_image_grey(&im, &g, &e), 0);
	assert_int_equal(bb_image_jpeg(&g, &buf, &len, &e), 0);
	assert_int_equal(bb_image_decode(buf, len, "grey.jpg", &back, &e), 0);
	assert_int_equal(back.ch, 3);
	for (i = 0; i < 160 * 120; i++) {
		assert_true(abs(back.px[3 * i] - g.px[i]) <= 2);
		assert_int_equal(back.px[3 * i], back.px[3 * i + 2]);
	}
	free(buf);
	bb_image_free(&back);
	bb_image_free(&g);

	/* No alpha in JPEG: the caller's mistake. */
	assert_int_equal(bb_image_new(&g, 2, 2, 2, &e), 0);
	assert_int_equal(bb_image_jpeg(&g, &buf, &len, &e), BB_SOFTWARE);
	assert_null(buf);
	bb_image_free(&g);
	bb_image_free(&im);
}

static void
test_pnm(void **state)
{
	static const char p6[] = "P6\n# a comment\n3 2\n# another\n255\n"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xff\xfe\xfd";
	static const char p5[] = "P5 2 2 15 \x00\x0f\x07\x08";
	struct bb_image im;
	struct bb_err e;
	size_t n;

	(void)state;
	assert_int_equal(decode_copy((const unsigned char *)p6, sizeof p6 - 1, "a.ppm", &im,
	    &e), 0);
	assert_int_equal(im.w, 3);
	assert_int_equal(im.h, 2);
	assert_memory_equal(im.px, p6 + sizeof p6 - 1 - 18, 18);
	bb_image_free(&im);

	/* PGM, maxval 15: scaled to 0..255 and expanded to RGB. */
	assert_int_equal(decode_copy((const unsigned char *)p5, sizeof p5 - 1, "a.pgm", &im,
	    &e), 0);
	assert_int_equal(im.w, 2);
	assert_memory_equal(im.px, "\x00\x00\x00\xff\xff\xff\x77\x77\x77\x88\x88\x88", 12);
	bb_image_free(&im);

	/* Every truncation is 65. */
	for (n = 0; n < sizeof p6 - 1; n++) {
		assert_int_equal(decode_copy((const unsigned char *)p6, n, "cut.ppm", &im, &e),
		    BB_DATAERR);
		assert_message(&e, "cut.ppm");
		assert_null(im.px);
	}
	assert_int_equal(decode_copy((const unsigned char *)"P6 3 x 255\n", 11, "x.ppm", &im,
	    &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "header malformed"));
	assert_int_equal(decode_copy((const unsigned char *)"P6 3 ", 5, "x.ppm", &im, &e),
	    BB_DATAERR);
	assert_non_null(strstr(e.msg, "header truncated"));
	assert_int_equal(decode_copy((const unsigned char *)"P61 1 255\n\x01\x02\x03", 13,
	    "x.ppm", &im, &e), BB_DATAERR);
	assert_int_equal(decode_copy((const unsigned char *)"P6 1 1 255\n\x01\x02\x03", 14,
	    "ok.ppm", &im, &e), 0);
	bb_image_free(&im);
	assert_int_equal(decode_copy((const unsigned char *)"P6 1 1 256\n\x01\x02\x03", 14,
	    "deep.ppm", &im, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "maxval"));
	assert_int_equal(decode_copy((const unsigned char *)"P5 1 1 15\n\x10", 11, "hi.pgm",
	    &im, &e), BB_DATAERR);
	assert_int_equal(decode_copy((const unsigned char *)"P6 0 5 255\n", 11, "zero.ppm", &im,
	    &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "no pixels"));
	/* 10^10 pixels declared in 21 bytes: refused from the header. */
	assert_int_equal(decode_copy((const unsigned char *)"P6 100000 100000 255\n", 21,
	    "big.ppm", &im, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "100000x100000 pixels: more than the 50000000 allowed"));
	assert_int_equal(decode_copy((const unsigned char *)"P6 99999999999 1 255\n", 21,
	    "long.ppm", &im, &e), BB_DATAERR);
}

/* --- pixels --- */

static void
test_grey(void **state)
{
	/* python3-opencv 4.6: cv2.cvtColor(px, cv2.COLOR_RGB2GRAY) of these pixels. The
	 * last three are where the 14-bit formula (R*4899 + G*9617 + B*1868 + 8192) >> 14
	 * gives one less than OpenCV 4 (66, 103, 34): OpenCV 4 rounds with 15 bits. */
	static const unsigned char rgb[][3] = {
		{ 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 255, 255, 255 }, { 1, 2, 3 },
		{ 200, 100, 50 }, { 17, 130, 241 }, { 128, 128, 128 }, { 0, 0, 0 },
		{ 254, 1, 127 }, { 96, 64, 2 }, { 122, 100, 73 }, { 53, 31, 4 },
	};
	static const unsigned char cv[] = { 76, 150, 29, 255, 2, 124, 109, 128, 0, 91, 67, 104,
	    35 };
	struct bb_image im, g;
	size_t i;

	(void)state;
	assert_int_equal(bb_image_new(&im, (int)NELEM(rgb), 1, 3, NULL), 0);
	memcpy(im.px, rgb, sizeof rgb);
	assert_int_equal(bb_image_grey(&im, &g, NULL), 0);
	assert_int_equal(g.ch, 1);
	for (i = 0; i < NELEM(rgb); i++) {
		assert_int_equal(g.px[i], cv[i]);
		assert_int_equal(g.px[i], (rgb[i][0] * 9798 + rgb[i][1] * 19235 +
		    rgb[i][2] * 3735 + 16384) >> 15);
	}
	bb_image_free(&g);
	bb_image_free(&im);
}

static void
test_shrink(void **state)
{
	/* cv2.resize(src, (4, 3), interpolation=cv2.INTER_AREA) of these, python3-opencv
	 * 4.6: 6x4 (scale 1.5 by 1.33) and 9x7 (2.25 by 2.33). */
	static const unsigned char area6[] = { 36, 90, 136, 147, 155, 145, 154, 144, 82, 137,
	    173, 142 };
	static const unsigned char area9[] = { 64, 133, 150, 107, 158, 148, 83, 133, 97, 141,
	    182, 122 };
	struct bb_image in, out;
	struct bb_err e;
	int x, y, i;

	(void)state;
	/* An 8x8 pixel checker to 4x4: every 2x2 block averages 127.5, rounded up. */
	assert_int_equal(bb_image_new(&in, 8, 8, 1, NULL), 0);
	for (y = 0; y < 8; y++)
		for (x = 0; x < 8; x++)
			in.px[y * 8 + x] = (x + y) % 2 ? 255 : 0;
	assert_int_equal(bb_image_shrink(&in, 4, 4, &out, &e), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(out.px[i], 128);
	bb_image_free(&out);
	/* Blocks of 2x2 with their own values: the averages exactly. */
	for (y = 0; y < 8; y++)
		for (x = 0; x < 8; x++)
			in.px[y * 8 + x] = (unsigned char)((x / 2) * 40 + (y / 2) * 10 +
			    (x % 2) * 4 + (y % 2) * 2);
	assert_int_equal(bb_image_shrink(&in, 4, 4, &out, &e), 0);
	for (y = 0; y < 4; y++)
		for (x = 0; x < 4; x++)
			assert_int_equal(out.px[y * 4 + x], x * 40 + y * 10 + 3);
	bb_image_free(&out);
	bb_image_free(&in);

	/* Non-integer factors against OpenCV. */
	assert_int_equal(bb_image_new(&in, 6, 4, 1, NULL), 0);
	for (y = 0; y < 4; y++)
		for (x = 0; x < 6; x++)
			in.px[y * 6 + x] = (unsigned char)((x * 37 + y * 91 + x * y * 13) % 256);
	assert_int_equal(bb_image_shrink(&in, 4, 3, &out, &e), 0);
	for (i = 0; i < 12; i++)
		assert_true(abs(out.px[i] - area6[i]) <= 1);
	bb_image_free(&out);
	bb_image_free(&in);
	assert_int_equal(bb_image_new(&in, 9, 7, 1, NULL), 0);
	for (y = 0; y < 7; y++)
		for (x = 0; x < 9; x++)
			in.px[y * 9 + x] = (unsigned char)((x * 29 + y * 53 + (x ^ y) * 7) % 256);
	assert_int_equal(bb_image_shrink(&in, 4, 3, &out, &e), 0);
	for (i = 0; i < 12; i++)
		assert_true(abs(out.px[i] - area9[i]) <= 1);
	bb_image_free(&out);

	/* RGB keeps its channels apart; never larger. */
	bb_image_free(&in);
	make_photo(&in, 40, 30);
	assert_int_equal(bb_image_shrink(&in, 40, 30, &out, &e), 0);
	assert_memory_equal(out.px, in.px, 40 * 30 * 3);
	bb_image_free(&out);
	assert_int_equal(bb_image_shrink(&in, 41, 30, &out, &e), BB_SOFTWARE);
	assert_int_equal(bb_image_shrink(&in, 0, 30, &out, &e), BB_SOFTWARE);
	assert_int_equal(bb_image_shrink(&in, 13, 7, &out, &e), 0);
	assert_int_equal(out.ch, 3);
	bb_image_free(&out);
	bb_image_free(&in);
}

static void
test_crop_rotate(void **state)
{
	enum { N = 16 };
	struct bb_image in, out;
	struct bb_err e;
	int x, y;

	(void)state;
	assert_int_equal(bb_image_new(&in, N, N, 1, NULL), 0);
	for (y = 0; y < N; y++)
		for (x = 0; x < N; x++)
			in.px[y * N + x] = (unsigned char)(x * 15 + y);

	/* No angle, same size, the centre: the image itself. */
	assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, 0, N, N, 0, &out, &e), 0);
	assert_memory_equal(out.px, in.px, N * N);
	bb_image_free(&out);

	/* 90° counter-clockwise: output (ox, oy) is input (x oy, y N-1-ox), to within a
	 * level (a near-90° angle would blur, an exact one moves pixels). */
	assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, 90, N, N, 0, &out, &e),
	    0);
	for (y = 0; y < N; y++)
		for (x = 0; x < N; x++)
			assert_true(abs(out.px[y * N + x] - in.px[(N - 1 - x) * N + y]) <= 1);
	bb_image_free(&out);
	/* Likewise the general path, an angle a hair off 90°. */
	assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, 90.000001, N, N, 0, &out,
	    &e), 0);
	for (y = 0; y < N; y++)
		for (x = 0; x < N; x++)
			if (x > 0 && y < N - 1)	/* away from the border's fill */
				assert_true(abs(out.px[y * N + x] -
				    in.px[(N - 1 - x) * N + y]) <= 1);
	bb_image_free(&out);

	/* A pattern symmetric top to bottom turned 90° is its transpose. */
	for (y = 0; y < N; y++)
		for (x = 0; x < N; x++)
			in.px[y * N + x] = (unsigned char)(x * 15 + abs(2 * y - (N - 1)) * 3);
	assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, 90, N, N, 0, &out, &e),
	    0);
	for (y = 0; y < N; y++)
		for (x = 0; x < N; x++)
			assert_true(abs(out.px[y * N + x] - in.px[x * N + y]) <= 1);
	bb_image_free(&out);
	/* -90° and 270° agree; 180° reverses both axes. */
	{
		struct bb_image a, b;

		assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, -90, N, N, 0, &a,
		    &e), 0);
		assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, 270, N, N, 0, &b,
		    &e), 0);
		assert_memory_equal(a.px, b.px, N * N);
		bb_image_free(&a);
		bb_image_free(&b);
		assert_int_equal(bb_image_crop_rotate(&in, N / 2.0, N / 2.0, 180, N, N, 0, &a,
		    &e), 0);
		for (y = 0; y < N; y++)
			for (x = 0; x < N; x++)
				assert_int_equal(a.px[y * N + x],
				    in.px[(N - 1 - y) * N + (N - 1 - x)]);
		bb_image_free(&a);
	}

	/* A window reaching outside: fill there; a window inside: the pixels. */
	assert_int_equal(bb_image_crop_rotate(&in, 2, 2, 0, 8, 8, 200, &out, &e), 0);
	assert_int_equal(out.px[0], 200);
	assert_int_equal(out.px[7 * 8 + 7], in.px[5 * N + 5]);
	bb_image_free(&out);
	bb_image_free(&in);

	/* RGB, 30°: a uniform image stays uniform inside, corners outside are fill. */
	assert_int_equal(bb_image_new(&in, 40, 40, 3, NULL), 0);
	memset(in.px, 77, 40 * 40 * 3);
	assert_int_equal(bb_image_crop_rotate(&in, 20, 20, 30, 40, 40, 255, &out, &e), 0);
	assert_int_equal(out.ch, 3);
	assert_int_equal(out.px[(20 * 40 + 20) * 3 + 1], 77);
	assert_int_equal(out.px[0], 255);
	bb_image_free(&out);
	/* The direction: the window turned counter-clockwise turns its content clockwise,
	 * so a dot above the centre comes out right of it. */
	memset(in.px, 0, 40 * 40 * 3);
	memset(in.px + (10 * 40 + 20) * 3, 255, 3);	/* (20, 10): above the centre */
	assert_int_equal(bb_image_crop_rotate(&in, 20, 20, 90, 40, 40, 0, &out, &e), 0);
	assert_int_equal(out.px[(20 * 40 + 29) * 3], 255);
	bb_image_free(&out);
	assert_int_equal(bb_image_crop_rotate(&in, NAN, 20, 0, 4, 4, 0, &out, &e), BB_SOFTWARE);
	assert_int_equal(bb_image_crop_rotate(&in, 20, 20, 0, 0, 4, 0, &out, &e), BB_DATAERR);
	bb_image_free(&in);
}

/* BT.601 limited range in floating point, the textbook form. */
static int
ref601(int y, int u, int v, int c)
{
	double Y = 1.164 * (y - 16), r;

	r = c == 0 ? Y + 1.596 * (v - 128) : c == 1 ? Y - 0.392 * (u - 128) - 0.813 * (v - 128) :
	    Y + 2.017 * (u - 128);
	return r < 0 ? 0 : r > 255 ? 255 : (int)lround(r);
}

static void
test_yuyv(void **state)
{
	/* Two pixels per group: black/white; the 75 % colour bars' red, green, blue. */
	static const unsigned char f[] = {
		16, 128, 235, 128,
		81, 90, 81, 240,
		145, 54, 145, 34,
		41, 240, 41, 110,
	};
	static const unsigned char want[8][3] = {
		{ 0, 0, 0 }, { 255, 255, 255 }, { 255, 0, 0 }, { 255, 0, 0 },
		{ 0, 255, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 0, 0, 255 },
	};
	unsigned char pad[2 * 24];
	struct bb_image im;
	struct bb_err e;
	int i, c, k;

	(void)state;
	assert_int_equal(bb_image_from_yuyv(f, sizeof f, 4, 2, &im, &e), 0);
	for (i = 0; i < 8; i++)
		for (c = 0; c < 3; c++) {
			const unsigned char *g = f + (i / 2) * 4;

			assert_true(abs(im.px[i * 3 + c] - want[i][c]) <= 2);
			assert_true(abs(im.px[i * 3 + c] -
			    ref601(g[(i % 2) * 2], g[1], g[3], c)) <= 1);
		}
	bb_image_free(&im);
	/* Random values against the floating-point formula. */
	for (k = 0; k < 2000; k++) {
		unsigned char g[4] = { (unsigned char)rng(), (unsigned char)rng(),
		    (unsigned char)rng(), (unsigned char)rng() };

		assert_int_equal(bb_image_from_yuyv(g, 4, 2, 1, &im, &e), 0);
		for (i = 0; i < 2; i++)
			for (c = 0; c < 3; c++)
				assert_true(abs(im.px[i * 3 + c] - ref601(g[i * 2], g[1], g[3],
				    c)) <= 1);
		bb_image_free(&im);
	}
	/* Lines padded to 24 bytes: the padding is skipped. */
	memset(pad, 0xee, sizeof pad);
	memcpy(pad, f, 16);
	memcpy(pad + 24, f, 16);
	assert_int_equal(bb_image_from_yuyv_stride(pad, sizeof pad - 8, 8, 2, 24, &im, &e), 0);
	assert_memory_equal(im.px, im.px + 8 * 3, 8 * 3);
	assert_int_equal(im.px[3], 255);
	bb_image_free(&im);

	assert_int_equal(bb_image_from_yuyv(f, sizeof f - 1, 4, 2, &im, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "16 needed"));
	assert_int_equal(bb_image_from_yuyv(f, sizeof f, 3, 2, &im, &e), BB_DATAERR);
	assert_int_equal(bb_image_from_yuyv(f, sizeof f, 0, 2, &im, &e), BB_DATAERR);
	assert_int_equal(bb_image_from_yuyv_stride(f, sizeof f, 4, 2, 6, &im, &e), BB_DATAERR);
	assert_int_equal(bb_image_from_yuyv(f, sizeof f, 100000, 100000, &im, &e), BB_DATAERR);
	assert_null(im.px);
}

/* --- hostile inputs --- */

static void
test_truncated(void **state)
{
	struct bb_image im;
	struct bb_err e;
	struct quiet q;
	unsigned char *png, *jpg;
	size_t plen, jlen, n;

	(void)state;
	small_png(&png, &plen);
	small_jpeg(&jpg, &jlen);
	stderr_capture(&q);
	for (n = 0; n < plen; n++) {
		int rc = decode_copy(png, n, "cut.png", &im, &e);

		if (rc != BB_DATAERR)
			fail_msg("PNG cut at %zu of %zu: %d (%s)", n, plen, rc, e.msg);
		assert_message(&e, "cut.png");
		assert_null(im.px);
	}
	for (n = 0; n < jlen; n++) {
		int rc = decode_copy(jpg, n, "cut.jpg", &im, &e);

		if (rc != BB_DATAERR)
			fail_msg("JPEG cut at %zu of %zu: %d (%s)", n, jlen, rc, e.msg);
		assert_message(&e, "cut.jpg");
		assert_null(im.px);
	}
	/* And whole: fine. */
	assert_int_equal(decode_copy(png, plen, "whole.png", &im, &e), 0);
	bb_image_free(&im);
	assert_int_equal(decode_copy(jpg, jlen, "whole.jpg", &im, &e), 0);
	bb_image_free(&im);
	stderr_assert_empty(&q);
	free(png);
	free(jpg);
}

static void
test_too_big(void **state)
{
	struct bb_image im;
	struct bb_err e;
	struct quiet q;
	unsigned char *png, *jpg;
	size_t plen, jlen, sof;

	(void)state;
	small_png(&png, &plen);
	small_jpeg(&jpg, &jlen);
	stderr_capture(&q);

	/* The size check comes from the header, before any allocation of that size: the
	 * message is ours (libpng and libjpeg would otherwise fail later, in memory). */
	png_set_size(png, 100000, 100000);
	assert_int_equal(decode_copy(png, plen, "big.png", &im, &e), BB_DATAERR);
	assert_string_equal(e.msg, "big.png: 100000x100000 pixels: more than the 50000000 allowed");
	assert_null(im.px);
	png_set_size(png, 7072, 7071);	/* 50,006,112: just over */
	assert_int_equal(decode_copy(png, plen, "big.png", &im, &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "more than the 50000000 allowed"));
	png_set_size(png, 2000000, 1);	/* libpng's per-axis user limit */
	assert_int_equal(decode_copy(png, plen, "wide.png", &im, &e), BB_DATAERR);
	assert_message(&e, "wide.png");
	png_set_size(png, 0, 9);
	assert_int_equal(decode_copy(png, plen, "zero.png", &im, &e), BB_DATAERR);
	assert_message(&e, "zero.png");
	png_set_size(png, 13, 0);
	assert_int_equal(decode_copy(png, plen, "zero.png", &im, &e), BB_DATAERR);

	/* A SOF's fields are 16 bits (65535 at most; libjpeg itself stops at 65500), so
	 * 65000x65000, 4.2 gigapixels, stands for the 100000x100000 a JPEG cannot say. */
	sof = jpeg_find(jpg, jlen, 0xc0);
	jpg[sof + 5] = 65000 >> 8, jpg[sof + 6] = 65000 & 0xff;	/* height */
	jpg[sof + 7] = 65000 >> 8, jpg[sof + 8] = 65000 & 0xff;	/* width */
	assert_int_equal(decode_copy(jpg, jlen, "big.jpg", &im, &e), BB_DATAERR);
	assert_string_equal(e.msg, "big.jpg: 65000x65000 pixels: more than the 50000000 allowed");
	assert_null(im.px);
	jpg[sof + 5] = 0, jpg[sof + 6] = 14;
	jpg[sof + 7] = 0, jpg[sof + 8] = 0;
	assert_int_equal(decode_copy(jpg, jlen, "zero.jpg", &im, &e), BB_DATAERR);
	assert_message(&e, "zero.jpg");
	assert_null(im.px);

	stderr_assert_empty(&q);
	free(png);
	free(jpg);
}

static void
test_garbage(void **state)
{
	static const unsigned char *const heads[] = {
		(const unsigned char *)"",
		(const unsigned char *)"\x89PNG\r\n\x1a\n",
		(const unsigned char *)"\xff\xd8\xff",
		(const unsigned char *)"P6",
		(const unsigned char *)"P5 ",
	};
	static const size_t headlen[] = { 0, 8, 3, 2, 3 };
	unsigned char buf[600];
	struct bb_image im;
	struct bb_err e;
	struct quiet q;
	size_t h, n;
	int k;

	(void)state;
	stderr_capture(&q);
	assert_int_equal(bb_image_decode(NULL, 0, "none", &im, &e), BB_DATAERR);
	assert_int_equal(bb_image_decode(buf, 0, NULL, &im, &e), BB_DATAERR);
	assert_message(&e, "<image>");
	for (h = 0; h < NELEM(heads); h++)
		for (k = 0; k < 200; k++) {
			n = headlen[h] + rng() % (sizeof buf - headlen[h]);
			memcpy(buf, heads[h], headlen[h]);
			for (size_t i = headlen[h]; i < n; i++)
				buf[i] = (unsigned char)rng();
			if (h == 0 && n > 0 && (buf[0] == 0x89 || buf[0] == 0xff || buf[0] == 'P'))
				buf[0] = 'x';
			assert_int_equal(decode_copy(buf, n, "garbage", &im, &e), BB_DATAERR);
			assert_message(&e, "garbage");
			assert_null(im.px);
		}
	stderr_assert_empty(&q);
}

/* A valid progressive JPEG of 380 scans (every AC coefficient of every component in its
 * own scan, then refined bit by bit): each scan is a pass over the whole image, so a small
 * file could keep a terminal busy; refused past 256 scans. libjpeg's own progression (10
 * scans) decodes. */
static void
test_scan_bomb(void **state)
{
	static jpeg_scan_info scans[2 + 63 * 3 * 2];
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr jerr;
	struct bb_image im, back;
	struct bb_err e;
	struct quiet q;
	unsigned char *buf;
	unsigned long n;
	int pass, y, k, c, i;

	(void)state;
	make_photo(&im, 16, 16);
	for (pass = 0; pass < 2; pass++) {
		buf = NULL;
		n = 0;
		ci.err = jpeg_std_error(&jerr);
		jpeg_create_compress(&ci);
		jpeg_mem_dest(&ci, &buf, &n);
		ci.image_width = ci.image_height = 16;
		ci.input_components = 3;
		ci.in_color_space = JCS_RGB;
		jpeg_set_defaults(&ci);
		if (pass == 0) {
			jpeg_simple_progression(&ci);
		} else {
			i = 0;
			scans[i++] = (jpeg_scan_info){ 3, { 0, 1, 2, 0 }, 0, 0, 0, 1 };
			for (k = 1; k < 64; k++)
				for (c = 0; c < 3; c++)
					scans[i++] = (jpeg_scan_info){ 1, { c, 0, 0, 0 }, k, k, 0, 1 };
			scans[i++] = (jpeg_scan_info){ 3, { 0, 1, 2, 0 }, 0, 0, 1, 0 };
			for (k = 1; k < 64; k++)
				for (c = 0; c < 3; c++)
					scans[i++] = (jpeg_scan_info){ 1, { c, 0, 0, 0 }, k, k, 1, 0 };
			assert_int_equal(i, (int)NELEM(scans));
			ci.scan_info = scans;
			ci.num_scans = i;
		}
		jpeg_start_compress(&ci, TRUE);
		for (y = 0; y < 16; y++) {
			JSAMPROW row = im.px + (size_t)y * 16 * 3;

			jpeg_write_scanlines(&ci, &row, 1);
		}
		jpeg_finish_compress(&ci);
		jpeg_destroy_compress(&ci);
		stderr_capture(&q);
		k = decode_copy(buf, n, "scans.jpg", &back, &e);
		stderr_assert_empty(&q);
		if (pass == 0) {
			if (k != 0)
				fail_msg("%s", e.msg);
			bb_image_free(&back);
		} else {
			assert_int_equal(k, BB_DATAERR);
			assert_string_equal(e.msg,
			    "scans.jpg: not a valid JPEG image: more than 256 scans");
		}
		free(buf);
	}
	bb_image_free(&im);
}

/* Every byte of a small PNG and JPEG flipped in turn: decoded or 65, never a crash, an
 * over-read or a word on stderr. */
static void
test_flips(void **state)
{
	unsigned char *f[2];
	size_t len[2], i, bad[2] = { 0, 0 };
	struct bb_image im;
	struct bb_err e;
	struct quiet q;
	int t;

	(void)state;
	small_png(&f[0], &len[0]);
	small_jpeg(&f[1], &len[1]);
	stderr_capture(&q);
	for (t = 0; t < 2; t++)
		for (i = 0; i < len[t]; i++) {
			int rc;

			f[t][i] ^= 0x5a;
			rc = decode_copy(f[t], len[t], "flipped", &im, &e);
			f[t][i] ^= 0x5a;
			if (rc == 0) {
				assert_true(im.w > 0 && im.h > 0 && (long)im.w * im.h <= 65536);
				bb_image_free(&im);
				continue;
			}
			assert_int_equal(rc, BB_DATAERR);
			assert_message(&e, "flipped");
			bad[t]++;
		}
	stderr_assert_empty(&q);
	print_message("# flips refused: PNG %zu of %zu, JPEG %zu of %zu\n", bad[0], len[0],
	    bad[1], len[1]);
	/* PNG has CRCs on every chunk: every flip past the signature is caught. */
	assert_int_equal(bad[0], len[0]);
	free(f[0]);
	free(f[1]);
}

/* --- real files --- */

static void
test_portraits(void **state)
{
	static const struct { const char *name; int w, h; double mean[3]; } portraits[] = {
		/* cv2.imread means per channel (RGB), python3-opencv 4.6 */
		{ "official-portrait-1.jpg", 910, 1137, { 95.029, 71.672, 74.644 } },
		{ "official-portrait-2.jpg", 970, 2204, { 70.746, 62.711, 55.514 } },
		{ "video-frame-1080p.jpg", 1920, 1080, { 46.322, 34.918, 36.307 } },
	};
	char path[4096];
	struct bb_image im;
	struct bb_err e;
	unsigned char *buf;
	size_t len, i;

	(void)state;
	for (i = 0; i < NELEM(portraits); i++) {
		double m[3] = { 0, 0, 0 };
		size_t k, n;
		int c;

		snprintf(path, sizeof path, "%s/%s", PORTRAITS, portraits[i].name);
		if ((buf = slurp(path, &len)) == NULL) {
			print_message("# %s missing\n", path);
			skip();
		}
		if (bb_image_decode(buf, len, portraits[i].name, &im, &e) != 0)
			fail_msg("%s", e.msg);
		assert_int_equal(im.w, portraits[i].w);
		assert_int_equal(im.h, portraits[i].h);
		n = (size_t)im.w * im.h;
		for (k = 0; k < n; k++)
			for (c = 0; c < 3; c++)
				m[c] += im.px[3 * k + (size_t)c];
		/* libjpeg-turbo here and in OpenCV: the same pixels, give or take rounding. */
		for (c = 0; c < 3; c++)
			assert_true(fabs(m[c] / (double)n - portraits[i].mean[c]) < 0.5);
		bb_image_free(&im);
		free(buf);
	}
}

static void
test_astronaut(void **state)
{
	const char *astro = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
	struct bb_image im, g;
	struct bb_err e;
	unsigned char *buf;
	size_t len, i;
	uint64_t sum = 0, h = 0xcbf29ce484222325ull;

	(void)state;
	if ((buf = slurp(astro, &len)) == NULL) {
		print_message("# %s missing (python3-skimage)\n", astro);
		skip();
	}
	assert_int_equal(bb_image_decode(buf, len, "astronaut.png", &im, &e), 0);
	free(buf);
	assert_int_equal(im.w, 512);
	assert_int_equal(im.h, 512);
	for (i = 0; i < 512 * 512 * 3; i++)
		sum += im.px[i];
	/* cv2.imread (as RGB): sum 90124324, pixel (200, 100) = 81, 57, 17. */
	assert_int_equal(sum, 90124324);
	assert_memory_equal(im.px + (100 * 512 + 200) * 3, "\x51\x39\x11", 3);
	/* Grey exactly OpenCV's: FNV-1a of cv2.cvtColor(RGB2GRAY)'s bytes. */
	assert_int_equal(bb_image_grey(&im, &g, &e), 0);
	for (i = 0; i < 512 * 512; i++)
		h = (h ^ g.px[i]) * 0x100000001b3ull;
	assert_int_equal(h, 0x7ccd3476051f8bb9ull);
	bb_image_free(&g);
	bb_image_free(&im);
}

/* --- camera --- */

/* A baseline JPEG without Huffman tables, as many UVC cameras send MJPEG frames (AVI1):
 * written with libjpeg's standard tables, then the DHT segments cut out. */
static void
mjpeg_frame(int w, int h, unsigned char **out, size_t *len)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr jerr;
	struct bb_image im;
	unsigned char *buf = NULL;
	unsigned long n = 0;
	size_t i, o;
	int y;

	make_photo(&im, w, h);
	ci.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &buf, &n);
	ci.image_width = (JDIMENSION)w;
	ci.image_height = (JDIMENSION)h;
	ci.input_components = 3;
	ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, 80, TRUE);	/* 4:2:0, standard Huffman tables */
	jpeg_start_compress(&ci, TRUE);
	for (y = 0; y < h; y++) {
		JSAMPROW row = im.px + (size_t)y * (size_t)w * 3;

		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	bb_image_free(&im);
	/* Drop every DHT (ff c4) before the scan. */
	*out = malloc(n);
	assert_non_null(*out);
	memcpy(*out, buf, 2);
	for (i = o = 2; i + 4 <= n && buf[i] == 0xff && buf[i + 1] != 0xda;) {
		size_t seg = 2 + ((size_t)buf[i + 2] << 8 | buf[i + 3]);

		if (buf[i + 1] != 0xc4) {
			memcpy(*out + o, buf + i, seg);
			o += seg;
		}
		i += seg;
	}
	assert_true(o < i);	/* there were tables to drop */
	memcpy(*out + o, buf + i, n - i);
	*len = o + (n - i);
	free(buf);
}

static void
test_v4l2(void **state)
{
	struct bb_v4l2 v;
	struct bb_image im;
	struct bb_err e;
	unsigned char yuyv[4 * 2 * 2], *mj;
	size_t mjlen, i;
	json_t *list;
	char f[5];

	(void)state;
	/* No camera: 69, and close is harmless after it. */
	assert_int_equal(bb_v4l2_open("/nonexistent/video9", 640, 480, &v, &e),
	    BB_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "/nonexistent/video9"));
	bb_v4l2_close(&v);
	bb_v4l2_close(&v);
	assert_int_equal(bb_v4l2_open("/dev/null", 640, 480, &v, &e), BB_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "not a V4L2 device"));
	bb_v4l2_close(&v);
	assert_int_equal(bb_v4l2_open("", 640, 480, &v, &e), BB_UNAVAILABLE);
	assert_int_equal(bb_v4l2_frame(&v, &im, 10, &e), BB_SOFTWARE);

	/* The list: an array; here (no /dev/video*) empty. */
	assert_int_equal(bb_v4l2_list(&list), 0);
	assert_true(json_is_array(list));
	for (i = 0; i < json_array_size(list); i++)
		assert_non_null(json_object_get(json_array_get(list, i), "path"));
	print_message("# %zu camera(s) listed\n", json_array_size(list));
	json_decref(list);

	assert_string_equal(bb_v4l2_fourcc_str(V4L2_PIX_FMT_YUYV, f), "YUYV");
	assert_string_equal(bb_v4l2_fourcc_str(V4L2_PIX_FMT_MJPEG, f), "MJPG");
	assert_string_equal(bb_v4l2_fourcc_str(0x01020341, f), "A???");

	/* Frames as a driver delivers them. */
	for (i = 0; i < sizeof yuyv; i += 4)
		memcpy(yuyv + i, "\xeb\x80\xeb\x80", 4);	/* white */
	assert_int_equal(bb_v4l2_convert(V4L2_PIX_FMT_YUYV, yuyv, sizeof yuyv, 4, 2, 8, &im,
	    &e), 0);
	assert_int_equal(im.px[0], 255);
	bb_image_free(&im);
	assert_int_equal(bb_v4l2_convert(V4L2_PIX_FMT_YUYV, yuyv, sizeof yuyv - 2, 4, 2, 8,
	    &im, &e), BB_DATAERR);
	mjpeg_frame(64, 48, &mj, &mjlen);
	if (bb_v4l2_convert(V4L2_PIX_FMT_MJPEG, mj, mjlen, 64, 48, 0, &im, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(im.w, 64);
	bb_image_free(&im);
	assert_int_equal(bb_v4l2_convert(V4L2_PIX_FMT_MJPEG, mj, mjlen, 640, 480, 0, &im, &e),
	    BB_DATAERR);
	assert_non_null(strstr(e.msg, "64x48, 640x480 expected"));
	assert_null(im.px);
	assert_int_equal(bb_v4l2_convert(V4L2_PIX_FMT_MJPEG, mj, mjlen / 2, 64, 48, 0, &im,
	    &e), BB_DATAERR);
	free(mj);
	assert_int_equal(bb_v4l2_convert(V4L2_PIX_FMT_NV12, yuyv, sizeof yuyv, 4, 2, 8, &im,
	    &e), BB_SOFTWARE);
	assert_non_null(strstr(e.msg, "NV12"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png_roundtrip),
		cmocka_unit_test(test_png_kinds),
		cmocka_unit_test(test_jpeg_roundtrip),
		cmocka_unit_test(test_pnm),
		cmocka_unit_test(test_grey),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_crop_rotate),
		cmocka_unit_test(test_yuyv),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_scan_bomb),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_portraits),
		cmocka_unit_test(test_astronaut),
		cmocka_unit_test(test_v4l2),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
