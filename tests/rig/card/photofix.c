/* Passport photo fixtures: see photofix.h. */
#include "photofix.h"

#include "diag.h"
#include "exit.h"
#include "files.h"

#include <stdlib.h>
#include <string.h>

const struct bb_rect PHOTOFIX_A_FACE = { 177, 66, 95, 95 };
const struct bb_rect PHOTOFIX_A_EYE_L = { 190, 89, 22, 22 };
const struct bb_rect PHOTOFIX_A_EYE_R = { 235, 91, 21, 21 };

const char *const photofix_kinds[] = { "compliant", "small", "left", "right", "tilted",
	"two", "blank", "dark", "blurred", NULL };

static struct bb_image astro;

int
photofix_astronaut(const struct bb_image **a, struct bb_err *e)
{
	const char *path = getenv("BB_ASTRONAUT");
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (astro.px == NULL) {
		if (path == NULL || *path == '\0')
			path = PHOTOFIX_ASTRONAUT;
		if ((rc = bb_read_file(path, (size_t)64 << 20, &buf, &len, e)) != 0)
			return rc;
		rc = bb_image_decode((unsigned char *)buf, len, path, &astro, e);
		free(buf);
		if (rc != 0)
			return rc;
		if (astro.ch != 3 || astro.w < 300 || astro.h < 250) {
			bb_image_free(&astro);
			return bb_fail(e, BB_DATAERR, "%s: not the 512x512 RGB astronaut", path);
		}
	}
	if (a != NULL)
		*a = &astro;
	return 0;
}

void
photofix_release(void)
{
	bb_image_free(&astro);
}

int
photofix_canvas(struct bb_image *im, int w, int h, unsigned char grey, struct bb_err *e)
{
	int rc = bb_image_new(im, w, h, 3, e);

	if (rc == 0)
		memset(im->px, grey, (size_t)w * h * 3);
	return rc;
}

static double
clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int
photofix_place(struct bb_image *cv, double dx, double dy, double k, double cs, double sn,
    struct bb_err *e)
{
	double reach = (PHOTOFIX_A_ELL_B + 20) * k;
	int x0 = (int)clampd(dx - reach, 0, cv->w), x1 = (int)clampd(dx + reach, 0, cv->w);
	int y0 = (int)clampd(dy - reach, 0, cv->h), y1 = (int)clampd(dy + reach, 0, cv->h);
	int x, y, c, rc;

	if ((rc = photofix_astronaut(NULL, e)) != 0)
		return rc;
	if (cv->ch != 3 || k <= 0)
		return bb_fail(e, BB_SOFTWARE, "photofix_place: an RGB canvas and a scale > 0");
	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++) {
			/* undo the turn (p = x' cos + ... as the forward turn's inverse) */
			double ox = x - dx, oy = y - dy;
			double sx = PHOTOFIX_A_MX + (ox * cs - oy * sn) / k;
			double sy = PHOTOFIX_A_MY + (ox * sn + oy * cs) / k;
			double ex = (sx - PHOTOFIX_A_ELL_X) / PHOTOFIX_A_ELL_A;
			double ey = (sy - PHOTOFIX_A_ELL_Y) / PHOTOFIX_A_ELL_B;
			double el = ex * ex + ey * ey, a, fx, fy;
			int ix, iy;
			unsigned char *d = cv->px + ((size_t)y * cv->w + x) * 3;

			if (el >= 1 || sx < 0 || sy < 0 || sx >= astro.w - 1 || sy >= astro.h - 1)
				continue;
			a = el <= 0.85 ? 1 : (1 - el) / 0.15;
			ix = (int)sx;
			iy = (int)sy;
			fx = sx - ix;
			fy = sy - iy;
			for (c = 0; c < 3; c++) {
				const unsigned char *p = astro.px + ((size_t)iy * astro.w + ix) * 3 + c;
				double top = p[0] + fx * (p[3] - p[0]);
				double bot = p[astro.w * 3] + fx * (p[astro.w * 3 + 3] - p[astro.w * 3]);
				double v = top + fy * (bot - top);

				d[c] = (unsigned char)(a * v + (1 - a) * d[c] + 0.5);
			}
		}
	return 0;
}

struct bb_rect
photofix_placed(const struct bb_rect *s, double dx, double dy, double k)
{
	struct bb_rect r;

	r.x = (int)(dx + (s->x - PHOTOFIX_A_MX) * k + 0.5);
	r.y = (int)(dy + (s->y - PHOTOFIX_A_MY) * k + 0.5);
	r.w = (int)(s->w * k + 0.5);
	r.h = (int)(s->h * k + 0.5);
	return r;
}

int
photofix_blur(struct bb_image *im, int rad, struct bb_err *e)
{
	size_t n = (size_t)im->w * im->h * im->ch;
	size_t chs = (size_t)im->ch;
	unsigned char *t;
	int pass, dir, x, y, c, i;

	if (rad < 1 || im->w < 1 || im->h < 1)
		return bb_fail(e, BB_SOFTWARE, "photofix_blur: radius %d on %dx%d", rad, im->w,
		    im->h);
	if ((t = malloc(n)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	for (pass = 0; pass < 3; pass++)
		for (dir = 0; dir < 2; dir++) {
			int len = dir == 0 ? im->w : im->h, lines = dir == 0 ? im->h : im->w;
			size_t step = dir == 0 ? chs : (size_t)im->w * chs;

			for (y = 0; y < lines; y++)
				for (c = 0; c < im->ch; c++) {
					size_t base = (dir == 0 ? (size_t)y * im->w * chs : (size_t)y * chs) + c;
					long sum = 0;

					for (i = -rad; i <= rad; i++)
						sum += im->px[base + step * (size_t)(i < 0 ? 0 : i >= len ? len - 1 : i)];
					for (x = 0; x < len; x++) {
						int add = x + rad + 1, sub = x - rad;

						t[base + step * (size_t)x] = (unsigned char)(sum / (2 * rad + 1));
						sum += im->px[base + step * (size_t)(add >= len ? len - 1 : add)];
						sum -= im->px[base + step * (size_t)(sub < 0 ? 0 : sub)];
					}
				}
			memcpy(im->px, t, n);
		}
	free(t);
	return 0;
}

int
photofix_make(const char *kind, struct bb_image *out, struct bb_err *e)
{
	static const struct {
		const char *kind;
		double dx, dx2, k;	/* dx2: the second face's, 0 for none */
		int tilted, dark, blur;
	} g[] = {
		{ "compliant", PHOTOFIX_MX, 0, PHOTOFIX_K, 0, 0, 0 },
		{ "small", PHOTOFIX_MX, 0, 4, 0, 0, 0 },
		{ "left", 450, 0, PHOTOFIX_K, 0, 0, 0 },
		{ "right", 1150, 0, PHOTOFIX_K, 0, 0, 0 },
		{ "tilted", PHOTOFIX_MX, 0, PHOTOFIX_K, 1, 0, 0 },
		{ "two", 420, 1180, 5, 0, 0, 0 },
		{ "blank", 0, 0, 0, 0, 0, 0 },
		{ "dark", PHOTOFIX_MX, 0, PHOTOFIX_K, 0, 1, 0 },
		{ "blurred", PHOTOFIX_MX, 0, PHOTOFIX_K, 0, 0, 12 },
	};
	size_t i, j;
	int rc;

	memset(out, 0, sizeof *out);
	for (i = 0; kind != NULL && i < sizeof g / sizeof g[0]; i++)
		if (strcmp(kind, g[i].kind) == 0)
			break;
	if (kind == NULL || i == sizeof g / sizeof g[0])
		return bb_fail(e, BB_USAGE, "%s: no such photo fixture", kind != NULL ? kind : "(null)");
	/* the astronaut first: no canvas allocated for nothing */
	if (g[i].k > 0 && (rc = photofix_astronaut(NULL, e)) != 0)
		return rc;
	if ((rc = photofix_canvas(out, PHOTOFIX_W, PHOTOFIX_H, PHOTOFIX_GREY, e)) != 0)
		return rc;
	if (g[i].k > 0)
		rc = photofix_place(out, g[i].dx, PHOTOFIX_MY, g[i].k,
		    g[i].tilted ? PHOTOFIX_COS15 : 1, g[i].tilted ? PHOTOFIX_SIN15 : 0, e);
	if (rc == 0 && g[i].dx2 > 0)
		rc = photofix_place(out, g[i].dx2, PHOTOFIX_MY, g[i].k, 1, 0, e);
	if (rc == 0 && g[i].dark)
		for (j = 0; j < (size_t)out->w * out->h * 3; j++)
			out->px[j] = (unsigned char)(out->px[j] / 10.0 + 0.5);
	if (rc == 0 && g[i].blur > 0)
		rc = photofix_blur(out, g[i].blur, e);
	if (rc != 0)
		bb_image_free(out);
	return rc;
}
