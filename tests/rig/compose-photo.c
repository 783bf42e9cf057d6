/* compose-photo: the passport photo fixtures of tests/rig/card/photofix.h as files, for
 * tests/0810-capture.t (tests/unit/photo.c uses the same ones in memory).
 *   compose-photo KIND OUT       one fixture; OUT's ending picks the format: .ppm (P6),
 *                                .png, .jpg/.jpeg (quality 100, 4:4:4); "-" is PPM on
 *                                standard output
 *   compose-photo --stream N OUT   N frames as one PPM stream (P6 frames back to back,
 *                                as a camera pipe gives them): the last is "compliant",
 *                                the ones before go small, left, right, tilted, two,
 *                                blank, dark, blurred, small, ... (3: small, left,
 *                                compliant: the best capture is the last)
 *   compose-photo --stream KIND,KIND,... OUT   those frames, in that order
 *   compose-photo --list         the kinds, one a line
 * KIND: compliant small left right tilted two blank dark blurred (photofix.h). Exit 0; 64
 * usage or an unknown kind; 66 when astronaut.png (python3-skimage) is missing (for any
 * kind but blank, which needs none; the environment's BB_ASTRONAUT names another file);
 * 65 it does not decode; 73/74 OUT cannot be created or written. Each 1600x2000 RGB
 * frame is 9.6 MB as PPM: bb-capture reads at most 64 MiB an input, so a stream for it
 * holds 6 frames at most. */
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "card/photofix.h"
#include "img/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FRAMES 1000

/* --stream's frames (static: held till exit, no leak reported) */
static const char **frames;
static char *frames_copy;

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: compose-photo KIND OUT.{ppm,png,jpg}\n"
	    "       compose-photo --stream N|KIND,KIND,... OUT.ppm\n"
	    "       compose-photo --list\n"
	    "KIND: compliant small left right tilted two blank dark blurred\n", stderr);
	exit(BB_USAGE);
}

static int
ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && strcasecmp(s + n - m, end) == 0;
}

struct out {
	const char *path;
	FILE *f;
};

static void
out_open(struct out *o, const char *path)
{
	o->path = path;
	if (strcmp(path, "-") == 0) {
		o->path = "<stdout>";
		o->f = stdout;
	} else if ((o->f = fopen(path, "wb")) == NULL)
		bb_die(BB_CANTCREAT, "%s: %s", path, strerror(errno));
}

static void
out_write(struct out *o, const void *buf, size_t len)
{
	struct bb_err e = { 0, "" };

	if (o->f == stdout) {	/* unbuffered: one message on a closed pipe */
		if (bb_write_stdout(buf, len, &e) != 0)
			bb_die_err(&e);
	} else if (len > 0 && fwrite(buf, 1, len, o->f) != len)
		bb_die(BB_IOERR, "%s: %s", o->path, strerror(errno));
}

/* A file closed and checked; standard output is checked at exit (bb_init). */
static void
out_close(struct out *o)
{
	if (o->f != stdout && fclose(o->f) != 0)
		bb_die(BB_IOERR, "%s: %s", o->path, strerror(errno));
}

static void
write_ppm(struct out *o, const struct bb_image *im)
{
	char hdr[64];
	int n = snprintf(hdr, sizeof hdr, "P6\n%d %d\n255\n", im->w, im->h);

	out_write(o, hdr, (size_t)n);
	out_write(o, im->px, (size_t)im->w * im->h * 3);
}

static void
make(const char *kind, struct bb_image *im)
{
	struct bb_err e = { 0, "" };

	if (photofix_make(kind, im, &e) != 0)
		bb_die_err(&e);
}

static int
known(const char *kind)
{
	size_t i;

	for (i = 0; photofix_kinds[i] != NULL; i++)
		if (strcmp(kind, photofix_kinds[i]) == 0)
			return 1;
	return 0;
}

/* The frames of --stream: a count, or kinds separated by commas. */
static size_t
stream_kinds(const char *arg)
{
	static const char *const before[] = { "small", "left", "right", "tilted", "two",
		"blank", "dark", "blurred" };
	const size_t nb = sizeof before / sizeof before[0];
	const char **k;
	char *end, *copy, *tok, *save = NULL;
	long n;
	size_t i, m = 0;

	n = strtol(arg, &end, 10);
	if (end != arg && *end == '\0') {
		if (n < 1 || n > MAX_FRAMES)
			bb_die(BB_USAGE, "--stream %s: 1 to %d frames", arg, MAX_FRAMES);
		if ((k = calloc((size_t)n, sizeof *k)) == NULL)
			bb_die(BB_SOFTWARE, "out of memory");
		for (i = 0; i + 1 < (size_t)n; i++)
			k[i] = before[i % nb];
		k[n - 1] = "compliant";
		frames = k;
		return (size_t)n;
	}
	if ((copy = strdup(arg)) == NULL || (k = calloc(MAX_FRAMES, sizeof *k)) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	frames = k;
	frames_copy = copy;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (!known(tok))
			bb_die(BB_USAGE, "%s: no such photo fixture (--list)", tok);
		if (m == MAX_FRAMES)
			bb_die(BB_USAGE, "--stream: at most %d frames", MAX_FRAMES);
		k[m++] = tok;
	}
	if (m == 0)
		usage();
	return m;
}

int
main(int argc, char **argv)
{
	struct bb_image im = { 0 };
	struct bb_err e = { 0, "" };
	struct out o;
	unsigned char *buf = NULL;
	size_t len = 0, i, n;

	bb_init(argv[0]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; photofix_kinds[i] != NULL; i++)
			printf("%s\n", photofix_kinds[i]);
		return bb_close_stdout();
	}
	if (argc == 4 && strcmp(argv[1], "--stream") == 0) {
		if (!ends_with(argv[3], ".ppm") && strcmp(argv[3], "-") != 0)
			bb_die(BB_USAGE, "%s: a stream is PPM (.ppm, or - for stdout)", argv[3]);
		n = stream_kinds(argv[2]);
		/* the astronaut before OUT is created: a missing one leaves no empty file */
		if (photofix_astronaut(NULL, &e) != 0)
			bb_die_err(&e);
		out_open(&o, argv[3]);
		for (i = 0; i < n; i++) {
			make(frames[i], &im);
			write_ppm(&o, &im);
			bb_image_free(&im);
		}
		out_close(&o);
		photofix_release();
		free(frames);
		free(frames_copy);
		return 0;
	}
	if (argc != 3 || argv[1][0] == '-')
		usage();
	if (!known(argv[1]))
		bb_die(BB_USAGE, "%s: no such photo fixture (--list)", argv[1]);
	if (strcmp(argv[2], "-") != 0 && !ends_with(argv[2], ".ppm") &&
	    !ends_with(argv[2], ".png") && !ends_with(argv[2], ".jpg") &&
	    !ends_with(argv[2], ".jpeg"))
		bb_die(BB_USAGE, "%s: .ppm, .png, .jpg or .jpeg (or - for PPM on stdout)", argv[2]);
	make(argv[1], &im);
	if (ends_with(argv[2], ".png") && bb_image_png(&im, &buf, &len, &e) != 0)
		bb_die_err(&e);
	if ((ends_with(argv[2], ".jpg") || ends_with(argv[2], ".jpeg")) &&
	    bb_image_jpeg(&im, &buf, &len, &e) != 0)
		bb_die_err(&e);
	out_open(&o, argv[2]);
	if (buf != NULL)
		out_write(&o, buf, len);
	else
		write_ppm(&o, &im);
	out_close(&o);
	free(buf);
	bb_image_free(&im);
	photofix_release();
	return 0;
}
