/* The receipt (bb-form(1) receipt, EN 301 549 5.1.3.16): what a case says a person may
 * keep — the service, the date, the reference, what happens next — on the screen with a
 * QR code of the reference, and as a PDF to print. Nothing else of the case. */
#ifndef BB_SCREEN_RECEIPT_H
#define BB_SCREEN_RECEIPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct bb_err;
struct bb_catalogs;
struct bb_page;

struct bb_receipt {
	char service[65];	/* the service's id */
	char date[24];		/* "YYYY-MM-DD HH:MM", local time of the case's creation */
	char reference[16];	/* the short form of the case id, "8F0E-1A2B" */
	char submission[72];	/* the authority's id of the submission, "" when none */
	char state[12];		/* "sent", "queued" or "rejected" */
	char qr[96];		/* what the QR code holds: reference [" " submission] */
};

/* The receipt's facts from a valid case: 0, or 65 when the case names no service. */
int bb_receipt_from_case(const json_t *c, struct bb_receipt *r, struct bb_err *e);
/* The placeholders of the receipt screen: service, date, reference, submission (when
 * there is one), state, qr. NULL when out of memory. */
json_t *bb_receipt_set(const struct bb_receipt *r);

/* Where a receipt goes besides the screen, and what it is made from. */
struct bb_receipt_opts {
	const char *screens;	/* form.screens: the catalogues */
	const char *services;	/* form.services: the services' own titles */
	const char *lang;	/* form.lang: when the screen does not say its language */
	const char *pdf;	/* the PDF into this file (0600), or NULL */
	const char *printer;	/* form.printer: the CUPS queue, or NULL */
};
/* bb-form receipt in-process: the receipt of case c shown at once on the screen of
 * control; then, when o asks for a PDF or a printer, made as a PDF in the language the
 * screen was shown in (else o->lang), written and printed. A printer that fails is a
 * warning on stderr, not a failed receipt: the screen has shown it. 0, or an exit
 * status with e set: 65 the case names no service, 69 no screen server, 78 the
 * catalogues, 73 or 74 the PDF's file. */
int bb_receipt_make(const char *control, const json_t *c, const struct bb_receipt_opts *o,
    struct bb_err *e);

/* The title of service id in lang: the catalogue's svc.ID.title, else the definition's
 * own (en for en, else de); copied into buf, *tlang the language it is in. 0, or -1
 * when neither has one (buf holds the id). */
int bb_service_title(const struct bb_catalogs *c, const char *services_dir,
    const char *lang, const char *id, char *buf, size_t len, const char **tlang);
/* The German name to show beside title, service id's title in tlang: 1 with it in buf
 * when tlang is not German and the German title (catalogue, else definition) differs;
 * else 0. */
int bb_service_title_de(const struct bb_catalogs *c, const char *services_dir,
    const char *id, const char *tlang, const char *title, char *buf, size_t len);

/* The receipt part of a screen with receipt: true, from the page's placeholders. */
void bb_receipt_page_render(FILE *f, const struct bb_page *p);
/* The QR code of text as inline SVG (role img, label its text alternative, escaped):
 * dark modules on white with the quiet zone, so it scans in either contrast mode.
 * 0, or -1 when text cannot be encoded. */
int bb_qr_svg(FILE *f, const char *text, const char *label);

/* The receipt as a PDF, 80 mm wide (a receipt printer's roll), as long as it needs, in
 * lang (texts from the catalogues, shaped by Pango, so Arabic joins and runs right to
 * left). *pdf malloc'd. 0, or 70. */
int bb_receipt_pdf(const struct bb_receipt *r, const struct bb_catalogs *c,
    const char *services_dir, const char *lang, char **pdf, size_t *len,
    struct bb_err *e);

/* Prints pdf on the CUPS queue printer: lp -d PRINTER with the PDF on its standard
 * input. 0 when lp took it, else 69 (no lp, or lp failed: its last line of stderr in
 * e), 75 (lp hung), 74. */
int bb_receipt_print(const char *printer, const char *pdf, size_t len, struct bb_err *e);

#endif
