/* The receipt: its facts from the case, its part of the screen and its QR code; the PDF
 * is in receiptpdf.c. See receipt.h. */
#include "screen/receipt.h"
#include "screen/screen.h"
#include "screen/server.h"
#include "case.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "form/form.h"

#include <qrencode.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The authority's id is the authority's text: shown and encoded only when it is a plain
 * identifier, never markup or a line break from a peer. */
static int
id_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len < sizeof ((struct bb_receipt *)0)->submission &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/-") ==
	    len;
}

int
bb_receipt_from_case(const json_t *c, struct bb_receipt *r, struct bb_err *e)
{
	const json_t *sub = json_object_get(c, "submission");
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *svc = json_string_value(json_object_get(c, "service"));
	const char *state = json_string_value(json_object_get(sub, "state"));
	const char *created = json_string_value(json_object_get(c, "created"));
	const char *aid;
	struct tm tm;
	time_t t;
	size_t i, n = 0;

	memset(r, 0, sizeof *r);
	if (svc == NULL || !bb_screen_name_ok(svc))
		return bb_fail(e, BB_DATAERR, "case: names no service: there is nothing to "
		    "give a receipt for");
	snprintf(r->service, sizeof r->service, "%s", svc);
	/* Eight hex digits of the UUID: enough to find the case among a day's at the
	 * counter, short enough to read out. */
	for (i = 0; id != NULL && id[i] != '\0' && n < 8; i++)
		if (isxdigit((unsigned char)id[i])) {
			r->reference[n + n / 4] = (char)toupper((unsigned char)id[i]);
			n++;
			if (n == 4)
				r->reference[4] = '-';
		}
	if (n < 8)
		return bb_fail(e, BB_DATAERR, "case: id: expected a UUID");
	if (created == NULL || bb_time_parse(created, &t) != 0 ||
	    localtime_r(&t, &tm) == NULL)
		return bb_fail(e, BB_DATAERR, "case: created: expected an RFC 3339 time");
	strftime(r->date, sizeof r->date, "%Y-%m-%d %H:%M", &tm);
	/* Sent: the authority has it (FIT-Connect submitted or later, https and dir
	 * delivered). Anything else is on its way: bb-queue sends it. */
	if (state != NULL && (strcmp(state, "submitted") == 0 ||
	    strcmp(state, "accepted") == 0 || strcmp(state, "delivered") == 0))
		snprintf(r->state, sizeof r->state, "sent");
	else if (state != NULL && strcmp(state, "rejected") == 0)
		snprintf(r->state, sizeof r->state, "rejected");
	else
		snprintf(r->state, sizeof r->state, "queued");
	aid = json_string_value(json_object_get(json_object_get(sub, "fitconnect"),
	    "submission_id"));
	if (aid == NULL)
		aid = json_string_value(json_object_get(json_object_get(sub, "https"),
		    "reference"));
	if (strcmp(r->state, "queued") != 0 && aid != NULL) {
		if (id_ok(aid))
			snprintf(r->submission, sizeof r->submission, "%s", aid);
		else
			bb_warn("case: the authority's reference is not a plain id: not shown");
	}
	snprintf(r->qr, sizeof r->qr, "%s%s%s", r->reference, r->submission[0] ? " " : "",
	    r->submission);
	return 0;
}

json_t *
bb_receipt_set(const struct bb_receipt *r)
{
	json_t *set = json_pack("{s:s, s:s, s:s, s:s, s:s}", "service", r->service, "date",
	    r->date, "reference", r->reference, "state", r->state, "qr", r->qr);

	if (set != NULL && r->submission[0] != '\0' &&
	    json_object_set_new(set, "submission", json_string(r->submission)) != 0) {
		json_decref(set);
		return NULL;
	}
	return set;
}

/* The receipt as a PDF in lang, else the language the screen was shown in, into the
 * file and onto the printer o asks for. */
static int
receipt_paper(const struct bb_receipt *r, const struct bb_receipt_opts *o, char *lang,
    size_t langlen, struct bb_err *e)
{
	struct bb_catalogs *cat;
	char *pdf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = bb_catalogs_load(o->screens, &cat, e)) != 0)
		return rc;
	if (lang[0] == '\0' || !bb_catalogs_has(cat, lang))
		snprintf(lang, langlen, "%s", o->lang);
	rc = bb_receipt_pdf(r, cat, o->services, lang, &pdf, &len, e);
	bb_catalogs_free(cat);
	if (rc != 0)
		return rc;
	if (o->pdf != NULL && (rc = bb_write_durable(o->pdf, pdf, len, 0600, e)) != 0) {
		bb_err_context(e, "--pdf %s", o->pdf);
		free(pdf);
		return rc;
	}
	/* The screen has shown it: a printer out of paper is the staff's to fix, not a
	 * failed receipt. */
	if (o->printer != NULL && bb_receipt_print(o->printer, pdf, len, e) != 0)
		bb_warn("%s", e->msg);
	free(pdf);
	return 0;
}

int
bb_receipt_make(const char *control, const json_t *c, const struct bb_receipt_opts *o,
    struct bb_err *e)
{
	struct bb_receipt r;
	char lang[40];
	json_t *set;
	int rc;

	if ((rc = bb_receipt_from_case(c, &r, e)) != 0)
		return rc;
	if ((set = bb_receipt_set(&r)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	/* Shown first, in the session's language, which the paper then speaks too. */
	rc = bb_screen_show(control, "receipt", set, lang, sizeof lang, e);
	json_decref(set);
	if (rc != 0 || (o->pdf == NULL && o->printer == NULL))
		return rc;
	return receipt_paper(&r, o, lang, sizeof lang, e);
}

int
bb_service_title(const struct bb_catalogs *c, const char *services_dir, const char *lang,
    const char *id, char *buf, size_t len, const char **tlang)
{
	struct bb_problems pr = { 0 };
	struct bb_form *form;
	const char *t;
	char key[96], path[4200];

	snprintf(key, sizeof key, "svc.%.64s.title", id);
	if ((t = bb_catalog_text(c, lang, key, tlang)) != NULL) {
		snprintf(buf, len, "%s", t);
		return 0;
	}
	snprintf(buf, len, "%s", id);
	*tlang = lang;
	snprintf(path, sizeof path, "%s/%s/form.yaml", services_dir, id);
	if (services_dir == NULL || bb_form_load(path, &form, &pr) != 0) {
		bb_problems_free(&pr);
		return -1;
	}
	/* A definition has de and en; any other language reads de. */
	*tlang = strcmp(lang, "en") == 0 ? "en" : "de";
	snprintf(buf, len, "%s", strcmp(lang, "en") == 0 ? form->title.en : form->title.de);
	bb_form_free(form);
	return 0;
}

int
bb_service_title_de(const struct bb_catalogs *c, const char *services_dir, const char *id,
    const char *tlang, const char *title, char *buf, size_t len)
{
	const char *dl;

	return strcmp(tlang, "de") != 0 &&
	    bb_service_title(c, services_dir, "de", id, buf, len, &dl) == 0 &&
	    strcmp(dl, "de") == 0 && strcmp(buf, title) != 0;
}

int
bb_qr_svg(FILE *f, const char *text, const char *label)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int x, y, run, w, quiet = 4;

	if (q == NULL)
		return -1;
	w = q->width + 2 * quiet;
	/* Presentation attributes, not style: the page's policy allows no inline style. */
	fprintf(f, "<svg class=\"bb-qr\" role=\"img\" aria-label=\"%s\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"", label, w, w, w, w);
	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x += run) {
			for (run = 0; x + run < q->width &&
			    (q->data[y * q->width + x + run] & 1); run++)
				;
			if (run > 0)
				fprintf(f, "M%d %dh%dv1h-%dz", x + quiet, y + quiet, run, run);
			else
				run = 1;
		}
	fputs("\"/></svg>\n", f);
	QRcode_free(q);
	return 0;
}

/* A value of the receipt: its own direction inside a right-to-left page. */
static void
put_value(FILE *f, const char *v)
{
	fputs("<dd><bdi>", f);
	bb_html_esc(f, v);
	fputs("</bdi></dd>\n", f);
}

void
bb_receipt_page_render(FILE *f, const struct bb_page *p)
{
	static const char *const states[] = { "sent", "queued", "rejected" };
	const char *svc = json_string_value(json_object_get(p->set, "service"));
	const char *date = json_string_value(json_object_get(p->set, "date"));
	const char *ref = json_string_value(json_object_get(p->set, "reference"));
	const char *aid = json_string_value(json_object_get(p->set, "submission"));
	const char *state = json_string_value(json_object_get(p->set, "state"));
	const char *qr = json_string_value(json_object_get(p->set, "qr"));
	char title[256], de[256], key[48], *label = NULL;
	const char *tlang;
	size_t i, llen;
	FILE *m;

	if (svc == NULL && date == NULL && ref == NULL)
		return;		/* told without bb-form receipt: nothing to give */
	fputs("<dl class=\"bb-receipt\">\n", f);
	if (svc != NULL && bb_screen_name_ok(svc)) {
		bb_page_put(f, p, "dt", NULL, "receipt.service", NULL);
		bb_service_title(p->cat, p->services_dir, p->lang, svc, title, sizeof title,
		    &tlang);
		/* A title in another language (a German one on an Arabic page) is marked
		 * as such (speech takes its voice) and isolated, and stands on the page's
		 * side like the others. */
		if (strcmp(tlang, p->lang) != 0) {
			fputs("<dd lang=\"", f);
			bb_html_esc(f, tlang);
			fputs("\"><bdi>", f);
		} else
			fputs("<dd>", f);
		bb_html_esc(f, title);
		fputs(strcmp(tlang, p->lang) != 0 ? "</bdi></dd>\n" : "</dd>\n", f);
		/* Beside a translation, the German name, for the counter and the
		 * authority's letters (bb-form(5) Message catalogues). */
		if (bb_service_title_de(p->cat, p->services_dir, svc, tlang, title, de, sizeof de)) {
			fputs("<dd class=\"bb-de\" lang=\"de\"><bdi>", f);
			bb_html_esc(f, de);
			fputs("</bdi></dd>\n", f);
		}
	}
	if (date != NULL) {
		bb_page_put(f, p, "dt", NULL, "receipt.date", NULL);
		put_value(f, date);
	}
	if (ref != NULL) {
		bb_page_put(f, p, "dt", NULL, "receipt.reference", NULL);
		put_value(f, ref);
	}
	if (aid != NULL) {
		bb_page_put(f, p, "dt", NULL, "receipt.submission", NULL);
		put_value(f, aid);
	}
	fputs("</dl>\n", f);
	for (i = 0; state != NULL && i < sizeof states / sizeof states[0]; i++)
		if (strcmp(state, states[i]) == 0) {
			snprintf(key, sizeof key, "receipt.%s", states[i]);
			bb_page_put(f, p, "p", " class=\"bb-next\"", key, p->set);
		}
	if (qr == NULL)
		return;
	/* The code's text alternative says what it holds (5.1.3.16): the same reference
	 * the page shows as text. */
	if ((m = open_memstream(&label, &llen)) == NULL)
		return;
	bb_page_put(m, p, NULL, NULL, "receipt.qr", p->set);
	if (fclose(m) == 0 && label != NULL) {
		fputs("<div class=\"bb-qr-box\">", f);
		(void)bb_qr_svg(f, qr, label);	/* too long to encode: the text stays */
		fputs("</div>\n", f);
	}
	free(label);
}
