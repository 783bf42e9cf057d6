/* What a signature adds to the case (capture.h): its rendering, its strokes, its part. */
#include "capture/capture.h"

#include "diag.h"
#include "exit.h"

#include <stdlib.h>
#include <string.h>

void
bb_sig_case_free(struct bb_sig_case *c)
{
	free(c->png);
	free(c->strokes);
	json_decref(c->part);
	memset(c, 0, sizeof *c);
}

int
bb_sig_case_make(const struct bb_sig *sig, int dpi, const char *source,
    struct bb_sig_case *out, struct bb_err *e)
{
	struct bb_image img;
	json_t *strokes;
	size_t k, points = 0;
	int rc, w, h;

	memset(out, 0, sizeof *out);
	if ((rc = bb_sig_render(sig, dpi, &img, e)) != 0)
		return rc;
	rc = bb_image_png(&img, &out->png, &out->png_len, e);
	w = img.w;
	h = img.h;
	bb_image_free(&img);
	if (rc != 0)
		return rc;
	strokes = bb_sig_json(sig);
	if (strokes != NULL)
		out->strokes = json_dumps(strokes, JSON_COMPACT | JSON_REAL_PRECISION(12));
	json_decref(strokes);
	for (k = 0; k < sig->n; k++)
		points += sig->s[k].n;
	out->part = json_pack("{s:i, s:i, s:i, s:i, s:s, s:I}", "strokes", (int)sig->n,
	    "points", (int)points, "width", w, "height", h, "source", source,
	    "dpi", (json_int_t)dpi);
	if (out->strokes == NULL || out->part == NULL) {
		bb_sig_case_free(out);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	return 0;
}
