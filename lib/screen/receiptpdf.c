/* The printed receipt: a PDF 80 mm wide, the width of a kiosk's receipt printer roll,
 * and as long as its content. Cairo draws it; Pango lays the text out, with HarfBuzz
 * shaping and FriBidi ordering it (cairo's own text calls do neither, and Arabic needs
 * both), in fonts found by fontconfig. See receipt.h. */
#include "screen/receipt.h"
#include "screen/screen.h"
#include "child.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MM		(72.0 / 25.4)	/* points */
#define WIDTH		(80 * MM)
#define MARGIN		(5 * MM)
#define QR_SIZE		(36 * MM)
#define FONT		"DejaVu Sans"
#define PRINT_TIMEOUT	30	/* seconds lp may take to hand the job to CUPS */

struct sink {
	unsigned char *buf;
	size_t len, cap;
	int failed;
};

static cairo_status_t
sink_write(void *closure, const unsigned char *data, unsigned int n)
{
	struct sink *s = closure;
	unsigned char *nb;
	size_t cap;

	if (s->len + n > s->cap) {
		for (cap = s->cap ? s->cap : 16384; cap < s->len + n; cap *= 2)
			;
		if ((nb = realloc(s->buf, cap)) == NULL) {
			s->failed = 1;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return CAIRO_STATUS_SUCCESS;
}

struct ctx {
	const struct bb_receipt *r;
	const struct bb_catalogs *cat;
	const char *services_dir, *lang;
	int rtl;
	char title[256];	/* the service's title, in tlang */
	const char *tlang;
	char de[256];		/* its German name, when it is translated */
	const char *also;	/* de or NULL */
};

/* A catalogue text in the receipt's language with its {placeholders} filled. */
static char *
text(const struct ctx *x, const char *key)
{
	const char *t = bb_catalog_text(x->cat, x->lang, key, NULL), *open, *close;
	const char *names[] = { "service", "date", "reference", "submission", "qr" };
	const char *vals[] = { x->r->service, x->r->date, x->r->reference, x->r->submission,
		x->r->qr };
	char *out = NULL;
	size_t len, i;
	FILE *f;

	if (t == NULL)
		t = key;
	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	while ((open = strchr(t, '{')) != NULL && (close = strchr(open, '}')) != NULL) {
		fwrite(t, 1, (size_t)(open - t), f);
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i]) == (size_t)(close - open - 1) &&
			    strncmp(open + 1, names[i], (size_t)(close - open - 1)) == 0)
				break;
		if (i < sizeof names / sizeof names[0])
			fputs(vals[i], f);
		else
			fwrite(open, 1, (size_t)(close - open + 1), f);
		t = close + 1;
	}
	fputs(t, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* One paragraph at y, the width of the text column; returns the y under it. */
static double
para(cairo_t *cr, const struct ctx *x, double y, const char *s, const char *lang,
    double size, int bold, double gap)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(FONT);
	PangoContext *pc = pango_layout_get_context(l);
	int w, h;

	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	/* The receipt's side for every line, also for a reference in an Arabic one. */
	pango_context_set_base_dir(pc, x->rtl ? PANGO_DIRECTION_RTL : PANGO_DIRECTION_LTR);
	pango_context_set_language(pc, pango_language_from_string(lang));
	pango_layout_context_changed(l);
	pango_layout_set_auto_dir(l, FALSE);
	pango_layout_set_alignment(l, x->rtl ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)((WIDTH - 2 * MARGIN) * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(l, s, -1);
	cairo_move_to(cr, MARGIN, y);
	pango_cairo_show_layout(cr, l);
	pango_layout_get_size(l, &w, &h);
	pango_font_description_free(fd);
	g_object_unref(l);
	return y + (double)h / PANGO_SCALE + gap;
}

/* A label and its value, one paragraph of the PDF's structure; size 0: the value as
 * large as the rest (a long id smaller, so that it stays one line); also, when not NULL,
 * a German line under the value (the service's German name beside its translation). A
 * line in another language than the receipt's (that German name, or a German title on an
 * Arabic receipt) is a Span, which amend() gives its /Lang. */
static double
row(cairo_t *cr, const struct ctx *x, double y, const char *label_key, const char *value,
    const char *vlang, double size, const char *also)
{
	char *label = text(x, label_key), iso[256];
	int spans = strcmp(vlang, x->lang) != 0 || also != NULL;

	/* cairo 1.16 marks no content of an element that has elements in it: beside a Span
	 * each line is a Span too; the one in another language is the last of them. */
	cairo_tag_begin(cr, "P", NULL);
	if (spans)
		cairo_tag_begin(cr, "Span", NULL);
	y = para(cr, x, y, label != NULL ? label : label_key, x->lang, 8, 0, 1);
	if (spans)
		cairo_tag_end(cr, "Span");
	free(label);
	/* On a right-to-left receipt a value keeps its own order, as the page's <bdi>
	 * keeps it: a date is not "10:00 2026-11-30" (U+2068 first strong isolate, U+2069
	 * its end; Pango's FriBidi honours them). */
	if (x->rtl) {
		snprintf(iso, sizeof iso, "\u2068%s\u2069", value);
		value = iso;
	}
	if (spans)
		cairo_tag_begin(cr, "Span", NULL);
	y = para(cr, x, y, value, vlang, size > 0 ? size : 11, size == 0,
	    also != NULL ? 1 : 3 * MM);
	if (spans)
		cairo_tag_end(cr, "Span");
	if (also != NULL) {
		if (x->rtl) {
			snprintf(iso, sizeof iso, "\u2068%s\u2069", also);
			also = iso;
		}
		cairo_tag_begin(cr, "Span", NULL);
		y = para(cr, x, y, also, "de", 9, 0, 3 * MM);
		cairo_tag_end(cr, "Span");
	}
	cairo_tag_end(cr, "P");
	return y;
}

/* Draws the receipt from the top; returns its height. Tagged (ISO 32000-1 14.8, EN 301
 * 549 10.1.3.1): a heading, a paragraph for each fact and for what happens next, the QR
 * code a Figure, in the order they are read. */
static double
draw(cairo_t *cr, const struct ctx *x)
{
	const struct bb_receipt *r = x->r;
	char key[48], *t;
	QRcode *q;
	double y = MARGIN;
	int i, j;

	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_tag_begin(cr, "Document", NULL);
	if ((t = text(x, "receipt.title")) != NULL) {
		cairo_tag_begin(cr, "H1", NULL);
		y = para(cr, x, y, t, x->lang, 14, 1, 4 * MM);
		cairo_tag_end(cr, "H1");
	}
	free(t);
	y = row(cr, x, y, "receipt.service", x->title, x->tlang, 0, x->also);
	y = row(cr, x, y, "receipt.date", r->date, x->lang, 0, NULL);
	y = row(cr, x, y, "receipt.reference", r->reference, x->lang, 0, NULL);
	if (r->submission[0] != '\0')
		y = row(cr, x, y, "receipt.submission", r->submission, x->lang, 8, NULL);
	snprintf(key, sizeof key, "receipt.%s", r->state);
	if ((t = text(x, key)) != NULL) {
		cairo_tag_begin(cr, "P", NULL);
		y = para(cr, x, y, t, x->lang, 10, 0, 4 * MM);
		cairo_tag_end(cr, "P");
	}
	free(t);
	if ((q = QRcode_encodeString(r->qr, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) != NULL) {
		/* Whole modules of a size a 203 dpi printer draws sharp; the paper's white
		 * is the quiet zone. */
		double m = QR_SIZE / (q->width + 8), x0 = (WIDTH - m * q->width) / 2;
		cairo_tag_begin(cr, "Figure", NULL);
		for (i = 0; i < q->width; i++)
			for (j = 0; j < q->width; j++)
				if (q->data[i * q->width + j] & 1)
					cairo_rectangle(cr, x0 + j * m, y + 4 * m + i * m, m, m);
		cairo_fill(cr);
		cairo_tag_end(cr, "Figure");
		y += m * (q->width + 8);
		QRcode_free(q);
	}
	cairo_tag_end(cr, "Document");
	return y + MARGIN;
}

/* cairo 1.16 tags the structure but writes neither the document's language (/Lang in the
 * catalogue) nor a figure's text alternative (/Alt), which a screen reader needs (EN 301
 * 549 10.1.1.1 and 10.3.1.1). amend() adds them in an incremental update (ISO 32000-1
 * 7.5.6): new versions of the catalogue, the Figure and the Span appended with an xref
 * section of their own, cairo's bytes left as they are. It reads the plain dictionaries
 * cairo 1.16 writes; -1 when they are not there (a cairo that packs objects in streams):
 * the PDF is then kept as cairo made it. */
struct obj {
	long num;
	size_t start, end;	/* the dictionary, without its closing ">>" */
};

static void *
find(const struct sink *s, size_t from, const char *what)
{
	return from < s->len ? memmem(s->buf + from, s->len - from, what, strlen(what)) :
	    NULL;
}

/* The last object whose dictionary holds marker: its number, and where its dictionary
 * is. */
static int
find_obj(const struct sink *s, const char *marker, struct obj *o)
{
	const unsigned char *m = NULL, *end, *p, *c, *close = NULL;
	char *e;

	for (c = s->buf; (c = find(s, (size_t)(c - s->buf), marker)) != NULL; c++)
		m = c;
	if (m == NULL || (end = find(s, (size_t)(m - s->buf), "\nendobj")) == NULL)
		return -1;
	for (c = m; (c = find(s, (size_t)(c - s->buf), ">>")) != NULL && c < end; c += 2)
		close = c;
	/* Its "N 0 obj" line, the last before the marker. */
	for (p = m; p > s->buf && memcmp(p, " 0 obj\n", 7) != 0; p--)
		;
	for (c = p; c > s->buf && c[-1] != '\n'; c--)
		;
	o->num = strtol((const char *)c, &e, 10);
	if (close == NULL || p == s->buf || o->num <= 0 || e != (const char *)p ||
	    memcmp(p + 7, "<<", 2) != 0)
		return -1;
	o->start = (size_t)(p + 7 - s->buf);
	o->end = (size_t)(close - s->buf);
	return 0;
}

/* A language tag, as it may stand in a PDF string unescaped. */
static int
lang_ok(const char *l)
{
	size_t n = strlen(l);

	return n > 0 && n < 36 && strspn(l, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

/* text as a PDF text string: UTF-16BE with its byte order mark, in hex. */
static int
put_text(FILE *f, const char *text)
{
	gunichar2 *u = g_utf8_to_utf16(text, -1, NULL, NULL, NULL);
	size_t i;

	if (u == NULL)
		return -1;
	fputs("<FEFF", f);
	for (i = 0; u[i] != 0; i++)
		fprintf(f, "%04X", (unsigned)u[i]);
	fputs(">", f);
	g_free(u);
	return 0;
}

static void
put_obj(FILE *f, const struct sink *s, const struct obj *o, long *off, size_t base)
{
	*off = (long)(base + (size_t)ftell(f));
	fprintf(f, "%ld 0 obj\n", o->num);
	fwrite(s->buf + o->start, 1, o->end - o->start, f);
}

static int
amend(struct sink *s, const char *lang, const char *alt, const char *span_lang)
{
	struct obj cat, fig, span, tr;
	const unsigned char *t, *sx;
	char *up = NULL;
	size_t uplen;
	long prev, xref, off[3];
	int have_span = span_lang != NULL && find_obj(s, "/S /Span\n", &span) == 0, rc;
	FILE *f;

	if (find_obj(s, "/Type /Catalog\n", &cat) != 0 ||
	    find_obj(s, "/S /Figure\n", &fig) != 0 ||
	    (span_lang != NULL && !have_span))
		return -1;
	/* The last trailer and the xref it ends: the new section points back to it. */
	for (t = NULL, sx = s->buf; (sx = find(s, (size_t)(sx - s->buf), "\ntrailer\n")) != NULL;
	    sx++)
		t = sx;
	if (t == NULL || (sx = find(s, (size_t)(t - s->buf), "\nstartxref\n")) == NULL)
		return -1;
	prev = strtol((const char *)sx + 11, NULL, 10);
	tr.start = (size_t)(t - s->buf) + 9;
	for (tr.end = (size_t)(sx - s->buf); tr.end > tr.start &&
	    memcmp(s->buf + tr.end, ">>", 2) != 0; tr.end--)
		;
	if (prev <= 0 || tr.end <= tr.start)
		return -1;
	if ((f = open_memstream(&up, &uplen)) == NULL)
		return -1;
	fputc('\n', f);
	put_obj(f, s, &cat, &off[0], s->len);
	fprintf(f, "   /Lang (%s)\n   /ViewerPreferences << /DisplayDocTitle true >>\n"
	    ">>\nendobj\n", lang);
	put_obj(f, s, &fig, &off[1], s->len);
	fputs("   /Alt ", f);
	rc = put_text(f, alt);
	fputs("\n>>\nendobj\n", f);
	if (have_span) {
		put_obj(f, s, &span, &off[2], s->len);
		fprintf(f, "   /Lang (%s)\n>>\nendobj\n", span_lang);
	}
	/* Each entry 20 bytes: ten digits of offset, five of generation, n, space, LF. */
	xref = (long)(s->len + (size_t)ftell(f));
	fprintf(f, "xref\n%ld 1\n%010ld 00000 n \n%ld 1\n%010ld 00000 n \n", cat.num, off[0],
	    fig.num, off[1]);
	if (have_span)
		fprintf(f, "%ld 1\n%010ld 00000 n \n", span.num, off[2]);
	fputs("trailer\n", f);
	fwrite(s->buf + tr.start, 1, tr.end - tr.start, f);
	fprintf(f, "   /Prev %ld\n>>\nstartxref\n%ld\n%%%%EOF\n", prev, xref);
	if (fclose(f) != 0 || rc != 0) {
		free(up);
		return -1;
	}
	rc = sink_write(s, (unsigned char *)up, (unsigned int)uplen) == CAIRO_STATUS_SUCCESS ?
	    0 : -1;
	free(up);
	return rc;
}

int
bb_receipt_pdf(const struct bb_receipt *r, const struct bb_catalogs *c,
    const char *services_dir, const char *lang, char **pdf, size_t *len, struct bb_err *e)
{
	struct ctx x = { r, c, services_dir, lang, strcmp(bb_catalog_dir(c, lang), "rtl") == 0,
		"", NULL, "", NULL };
	struct sink s = { NULL, 0, 0, 0 };
	cairo_surface_t *sf;
	cairo_t *cr;
	double h;
	char *t;
	int amended;

	bb_service_title(c, services_dir, lang, r->service, x.title, sizeof x.title, &x.tlang);
	if (bb_service_title_de(c, services_dir, r->service, x.tlang, x.title, x.de,
	    sizeof x.de))
		x.also = x.de;

	/* Measured first, on a surface that only records, then drawn on a page of the
	 * height it needs. */
	sf = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
	cr = cairo_create(sf);
	h = draw(cr, &x);
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
	sf = cairo_pdf_surface_create_for_stream(sink_write, &s, WIDTH, h);
	/* The document's title is the receipt's, never anything of the person's. */
	if ((t = text(&x, "receipt.title")) != NULL)
		cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, t);
	free(t);
	cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "bb-form");
	cr = cairo_create(sf);
	draw(cr, &x);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(sf);
	if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS || s.failed) {
		cairo_surface_destroy(sf);
		free(s.buf);
		return bb_fail(e, BB_SOFTWARE, "receipt: cannot make the PDF");
	}
	cairo_surface_destroy(sf);
	t = text(&x, "receipt.qr");
	/* At most one line is in another language: the German name under a translated
	 * title, or the German title itself where the catalogue has none. */
	amended = t != NULL && lang_ok(lang) && lang_ok(x.tlang) ?
	    amend(&s, lang, t, x.also != NULL ? "de" : strcmp(x.tlang, lang) != 0 ? x.tlang :
	    NULL) : -1;
	free(t);
	if (s.failed) {
		free(s.buf);
		return bb_fail(e, BB_SOFTWARE, "receipt: cannot make the PDF: out of memory");
	}
	if (amended != 0)
		bb_warn("receipt: this cairo's PDF cannot be given its language and the QR "
		    "code's text alternative: made without them");
	*pdf = (char *)s.buf;
	*len = s.len;
	return 0;
}

int
bb_receipt_print(const char *printer, const char *pdf, size_t len, struct bb_err *e)
{
	/* The queue's name is the configuration's; the receipt goes on stdin, so nothing
	 * of it is in the arguments (ps(1) shows them). */
	char *argv[] = { "lp", "-d", (char *)printer, "-t", "bb-receipt", NULL };
	struct bb_child c;
	int fd, rc;

	if ((fd = memfd_create("bb-receipt", MFD_CLOEXEC)) < 0)
		return bb_fail(e, BB_IOERR, "printer %s: memfd: %s", printer, strerror(errno));
	if (bb_write_all(fd, pdf, len) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return bb_fail(e, BB_IOERR, "printer %s: %s", printer, strerror(errno));
	}
	rc = bb_child_runv(argv, fd, NULL, PRINT_TIMEOUT, 4096, 0, &c, e);
	close(fd);
	if (rc != 0)
		return rc;
	if (c.status == 127)
		rc = bb_fail(e, BB_UNAVAILABLE, "printer %s: lp cannot be run (Debian's "
		    "cups-client)", printer);
	else if (c.timed_out)
		rc = bb_fail(e, BB_TEMPFAIL, "printer %s: lp took longer than %d s", printer,
		    PRINT_TIMEOUT);
	else if (c.status != 0)
		rc = bb_fail(e, BB_UNAVAILABLE, "printer %s: lp: %s", printer,
		    c.last_err[0] ? c.last_err : "failed");
	bb_child_free(&c);
	return rc;
}
