/* PPM/PGM decoding (netpbm "raw") and the frames of a stream of them: image.h. */
#include "img/imageint.h"
#include "diag.h"
#include "exit.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PPM/PGM (netpbm "raw"): P6 or P5, blank- or comment-separated width, height and maxval,
 * one blank, then the samples. maxval up to 255 (scaled to 255); 16-bit samples are not
 * something a camera or our tools write. Data after the first image is ignored (netpbm
 * allows several images in one file). */
static int
pnm_number(const unsigned char *buf, size_t len, size_t *pos, unsigned long *v)
{
	size_t i = *pos;
	int digits = 0;

	for (;;) {
		while (i < len && isspace(buf[i]))
			i++;
		if (i < len && buf[i] == '#') {
			while (i < len && buf[i] != '\n' && buf[i] != '\r')
				i++;
			continue;
		}
		break;
	}
	*v = 0;
	while (i < len && isdigit(buf[i])) {
		if (++digits > 9)
			break;	/* no field has a meaningful value this long */
		*v = *v * 10 + (unsigned long)(buf[i++] - '0');
	}
	*pos = i;	/* where it went wrong: the end means truncated */
	return digits == 0 || digits > 9 ? -1 : 0;
}

size_t
bb_image_frame_len(const unsigned char *buf, size_t len)
{
	unsigned long w, h, maxval;
	size_t pos = 2, ch;

	if (len < 3 || buf[0] != 'P' || (buf[1] != '5' && buf[1] != '6') ||
	    !(isspace(buf[2]) || buf[2] == '#'))
		return len;
	ch = buf[1] == '6' ? 3 : 1;
	/* The header read as decode_pnm reads it, so a stream splits where it decodes. */
	if (pnm_number(buf, len, &pos, &w) != 0 || pnm_number(buf, len, &pos, &h) != 0 ||
	    pnm_number(buf, len, &pos, &maxval) != 0 || w == 0 || h == 0 ||
	    pos >= len || !isspace(buf[pos]))
		return len;
	pos++;
	if ((len - pos) / ch / w < h)
		return len;	/* truncated: the decoder says so */
	return pos + (size_t)w * h * ch;
}

int
img_decode_pnm(const unsigned char *buf, size_t len, const char *name, struct bb_image *out,
    struct bb_err *e)
{
	unsigned long w, h, maxval;
	size_t pos = 2, need, n, i;
	int ch = buf[1] == '6' ? 3 : 1, rc;
	const unsigned char *src;

	if (len < 3 || !(isspace(buf[2]) || buf[2] == '#'))
		return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: header %s", img_name(name),
		    len < 3 ? "truncated" : "malformed");
	if (pnm_number(buf, len, &pos, &w) != 0 || pnm_number(buf, len, &pos, &h) != 0 ||
	    pnm_number(buf, len, &pos, &maxval) != 0)
		return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: header %s", img_name(name),
		    pos >= len ? "truncated" : "malformed");
	if ((rc = img_check_size(name, w, h, e)) != 0)
		return rc;
	if (maxval == 0 || maxval > 255)
		return bb_fail(e, BB_DATAERR, "%s: PPM/PGM maxval %lu: only 1 to 255 supported",
		    img_name(name), maxval);
	if (pos >= len || !isspace(buf[pos]))
		return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: header %s", img_name(name),
		    pos >= len ? "truncated" : "malformed");
	pos++;
	n = (size_t)w * h;
	need = n * (size_t)ch;
	if (len - pos < need)
		return bb_fail(e, BB_DATAERR,
		    "%s: not a valid PPM/PGM image: truncated (%zu bytes of pixels, %zu needed)",
		    img_name(name), len - pos, need);
	if ((rc = bb_image_new(out, (int)w, (int)h, 3, e)) != 0)
		return rc;
	src = buf + pos;
	for (i = 0; i < n; i++) {
		unsigned char *d = out->px + 3 * i;
		unsigned v[3];
		int c;

		for (c = 0; c < 3; c++) {
			v[c] = src[ch == 3 ? 3 * i + (size_t)c : i];
			if (v[c] > maxval)
				goto bad;
			d[c] = (unsigned char)((v[c] * 255 + maxval / 2) / maxval);
		}
	}
	return 0;
bad:
	bb_image_free(out);
	return bb_fail(e, BB_DATAERR, "%s: not a valid PPM/PGM image: sample above maxval %lu",
	    img_name(name), maxval);
}
