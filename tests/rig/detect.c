/* detect: lib/capture/haar from the shell, so tests/0800-haar.t can hold it against
 * OpenCV's CascadeClassifier (tests/rig/face-ref.py) on the same grey pixels.
 *   detect [options] IMAGE        {"faces":[[x,y,w,h],...],"eyes":[[x,y,w,h],...]}
 *     --scale S             pyramid step (1.1)
 *     --min-neighbors N     (3)
 *     --min-size N|WxH      smallest face (0: the cascade window)
 *     --max-size WxH        largest face (0: the image)
 *     --cascade FILE        face cascade (BB_HAAR_DIR/haarcascade_frontalface_default.xml)
 *     --eye-cascade FILE    eye cascade (BB_HAAR_DIR/haarcascade_eye.xml)
 *     --no-eyes             faces only
 *     --time N              also "ms": the median time of N face detections (and "ms_min")
 *   Eyes are looked for in the largest face (the biggest area; the topmost, then
 *   leftmost, among equals), a crop of the grey image, with the same scale and
 *   neighbours and no minimum size; they are reported in image coordinates.
 *   detect --resize WxH IN OUT    OUT: IN shrunk as a pyramid level is (bb_haar_resize)
 * IMAGE is a binary PGM (P5, maxval 255), read here, so that the test can hand both sides
 * the very pixels it gives OpenCV; anything else (PNG, JPEG, PPM) goes through
 * bb_image_decode and bb_image_grey, the path bb-capture takes. */
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "capture/haar.h"
#include "img/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INPUT_LIMIT ((size_t)256 << 20)

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: detect [--scale S] [--min-neighbors N] [--min-size N|WxH] "
	    "[--max-size WxH]\n"
	    "              [--cascade FILE] [--eye-cascade FILE] [--no-eyes] [--time N] IMAGE\n"
	    "       detect --resize WxH IN OUT.pgm\n", stderr);
	exit(BB_USAGE);
}

static void
size_arg(const char *s, int *w, int *h)
{
	char *end;
	long a, b;

	a = strtol(s, &end, 10);
	if (end == s || a < 0 || a > 100000)
		usage();
	b = a;
	if (*end == 'x') {
		const char *t = end + 1;

		b = strtol(t, &end, 10);
		if (end == t || b < 0 || b > 100000)
			usage();
	}
	if (*end != '\0')
		usage();
	*w = (int)a;
	*h = (int)b;
}

/* A PNM header number, after white space and comments. */
static int
pnm_number(const unsigned char *buf, size_t len, size_t *pos, long *v)
{
	size_t i = *pos;

	for (;;) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
		    buf[i] == '\r'))
			i++;
		if (i < len && buf[i] == '#') {
			while (i < len && buf[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	if (i == len || buf[i] < '0' || buf[i] > '9')
		return -1;
	*v = 0;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		*v = *v * 10 + (buf[i] - '0');
		if (*v > 1000000)
			return -1;
		i++;
	}
	*pos = i;
	return 0;
}

/* The grey image in path: a PGM as it is, anything else decoded and made grey. */
static void
read_grey(const char *path, struct bb_image *grey)
{
	struct bb_err e = { 0, "" };
	unsigned char *buf;
	size_t len, pos = 2, npx;
	long w, h, maxval;

	if (bb_read_file(path, INPUT_LIMIT, (char **)&buf, &len, &e) != 0)
		bb_die_err(&e);
	if (len < 2 || buf[0] != 'P' || buf[1] != '5') {
		struct bb_image rgb;

		if (bb_image_decode(buf, len, path, &rgb, &e) != 0 ||
		    bb_image_grey(&rgb, grey, &e) != 0)
			bb_die_err(&e);
		bb_image_free(&rgb);
		free(buf);
		return;
	}
	if (pnm_number(buf, len, &pos, &w) != 0 || pnm_number(buf, len, &pos, &h) != 0 ||
	    pnm_number(buf, len, &pos, &maxval) != 0 || maxval != 255 || pos == len)
		bb_die(BB_DATAERR, "%s: bad PGM header (maxval 255 only)", path);
	pos++;	/* the single white space after maxval */
	if (bb_image_new(grey, (int)w, (int)h, 1, &e) != 0)
		bb_die_err(&e);
	npx = (size_t)w * (size_t)h;
	if (len - pos < npx)
		bb_die(BB_DATAERR, "%s: truncated", path);
	memcpy(grey->px, buf + pos, npx);
	free(buf);
}

static void
write_pgm(const char *path, const struct bb_image *im)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		bb_die(BB_CANTCREAT, "%s: cannot create", path);
	fprintf(f, "P5\n%d %d\n255\n", im->w, im->h);
	fwrite(im->px, 1, (size_t)im->w * (size_t)im->h, f);
	if (fclose(f) != 0)
		bb_die(BB_IOERR, "%s: write error", path);
}

static void
print_rects(const char *name, const struct bb_rect *r, size_t n)
{
	printf("\"%s\":[", name);
	for (size_t i = 0; i < n; i++)
		printf("%s[%d,%d,%d,%d]", i ? "," : "", r[i].x, r[i].y, r[i].w, r[i].h);
	printf("]");
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	struct bb_detect_opts o = { 1.1, 3, 0, 0, 0, 0 };
	const char *face_path = BB_HAAR_DIR "/haarcascade_frontalface_default.xml";
	const char *eye_path = BB_HAAR_DIR "/haarcascade_eye.xml";
	struct bb_cascade *face = NULL, *eye = NULL;
	struct bb_image grey;
	struct bb_rect *faces = NULL, *eyes = NULL;
	size_t nfaces = 0, neyes = 0;
	int no_eyes = 0, times = 0, i;
	double *ms = NULL;

	bb_init(argv[0]);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--no-eyes") == 0) {
			no_eyes = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--resize") == 0) {
			struct bb_image in, out;
			int w, h;

			if (i + 4 != argc)
				usage();
			size_arg(argv[i + 1], &w, &h);
			read_grey(argv[i + 2], &in);
			if (bb_haar_resize(&in, w, h, &out, &e) != 0)
				bb_die_err(&e);
			write_pgm(argv[i + 3], &out);
			bb_image_free(&in);
			bb_image_free(&out);
			return 0;
		} else if (strcmp(a, "--scale") == 0)
			o.scale = strtod(argv[++i], NULL);
		else if (strcmp(a, "--min-neighbors") == 0)
			o.min_neighbors = atoi(argv[++i]);
		else if (strcmp(a, "--min-size") == 0)
			size_arg(argv[++i], &o.min_w, &o.min_h);
		else if (strcmp(a, "--max-size") == 0)
			size_arg(argv[++i], &o.max_w, &o.max_h);
		else if (strcmp(a, "--cascade") == 0)
			face_path = argv[++i];
		else if (strcmp(a, "--eye-cascade") == 0)
			eye_path = argv[++i];
		else if (strcmp(a, "--time") == 0) {
			times = atoi(argv[++i]);
			if (times < 1 || times > 10000)
				usage();
		} else
			usage();
	}
	if (i + 1 != argc)
		usage();
	read_grey(argv[i], &grey);
	if (bb_cascade_load(face_path, &face, &e) != 0)
		bb_die_err(&e);
	if (!no_eyes && bb_cascade_load(eye_path, &eye, &e) != 0)
		bb_die_err(&e);

	if (bb_detect(face, &grey, &o, &faces, &nfaces, &e) != 0)
		bb_die_err(&e);
	if (times > 0) {
		if ((ms = calloc((size_t)times, sizeof *ms)) == NULL)
			bb_die(BB_SOFTWARE, "out of memory");
		for (int t = 0; t < times; t++) {
			struct bb_rect *r;
			size_t n;
			double t0 = now_ms();

			if (bb_detect(face, &grey, &o, &r, &n, &e) != 0)
				bb_die_err(&e);
			ms[t] = now_ms() - t0;
			free(r);
		}
		qsort(ms, (size_t)times, sizeof *ms, cmp_double);
	}
	if (eye != NULL && nfaces > 0) {
		struct bb_detect_opts eo = { o.scale, o.min_neighbors, 0, 0, 0, 0 };
		struct bb_rect f = faces[0];
		struct bb_image roi;

		for (size_t k = 1; k < nfaces; k++) {
			const struct bb_rect *r = &faces[k];
			long a = (long)r->w * r->h, b = (long)f.w * f.h;

			if (a > b || (a == b && (r->y < f.y || (r->y == f.y && r->x < f.x))))
				f = *r;
		}
		if (bb_image_new(&roi, f.w, f.h, 1, &e) != 0)
			bb_die_err(&e);
		for (int y = 0; y < f.h; y++)
			memcpy(roi.px + (size_t)y * (size_t)f.w,
			    grey.px + (size_t)(f.y + y) * (size_t)grey.w + f.x, (size_t)f.w);
		if (bb_detect(eye, &roi, &eo, &eyes, &neyes, &e) != 0)
			bb_die_err(&e);
		for (size_t k = 0; k < neyes; k++) {
			eyes[k].x += f.x;
			eyes[k].y += f.y;
		}
		bb_image_free(&roi);
	}

	printf("{");
	print_rects("faces", faces, nfaces);
	printf(",");
	print_rects("eyes", eyes, neyes);
	if (times > 0)
		printf(",\"ms\":%.3f,\"ms_min\":%.3f", ms[times / 2], ms[0]);
	printf("}\n");
	free(ms);
	free(faces);
	free(eyes);
	bb_image_free(&grey);
	bb_cascade_free(face);
	bb_cascade_free(eye);
	return bb_close_stdout() == 0 ? 0 : BB_IOERR;
}
