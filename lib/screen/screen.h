/* The citizen's screen (bb-form(5) SCREENS): message catalogues, screen definitions and
 * the page rendered from them. The server (server.h) holds the state; this part only
 * reads files and writes HTML. */
#ifndef BB_SCREEN_H
#define BB_SCREEN_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct bb_err;
struct bb_catalogs;
struct bb_ask;

/* Loads every DIR/catalog/LANG.yaml. de and en must be there (they are the fallbacks);
 * each needs lang.name and lang.dir. 78 with FILE:LINE in e on a mistake. */
int bb_catalogs_load(const char *dir, struct bb_catalogs **out, struct bb_err *e);
void bb_catalogs_free(struct bb_catalogs *c);
/* Whether lang has a catalogue. */
int bb_catalogs_has(const struct bb_catalogs *c, const char *lang);
/* The text of key in lang: missing there, from en then de (svc.* keys straight from de);
 * *got says which language it came from. NULL when no catalogue has the key. */
const char *bb_catalog_text(const struct bb_catalogs *c, const char *lang, const char *key,
    const char **got);

struct bb_screen_button {
	char *value, *label;
};

struct bb_screen {
	char *id, *title, *picture;
	char **text;
	size_t ntext;
	struct bb_screen_button *buttons;
	size_t nbuttons;
	int languages, services, busy;
	int mirror;		/* mirror: true: the frames of bb-capture photo --mirror */
	int receipt;		/* receipt: true: the receipt of bb-form receipt */
};

/* Loads DIR/NAME.yaml (NAME: [a-z0-9-]+). 66 when missing, 78 on a mistake. */
int bb_screen_load(const char *dir, const char *name, struct bb_screen **out,
    struct bb_err *e);
void bb_screen_free(struct bb_screen *s);
/* Whether v is a choice the screen offers: a button's value, or "service ID" for a
 * service of services_dir when the screen lists services. */
int bb_screen_offers(const struct bb_screen *s, const char *services_dir, const char *v);
/* Whether name is a screen or picture name ([a-z0-9-]+, at most 64 bytes). */
int bb_screen_name_ok(const char *name);

/* The live photo mirror (bb-form(1) tell --mirror): what bb-capture photo --mirror DIR
 * left in DIR, read through a descriptor of DIR opened when the screen was told. */
struct bb_guide {
	char key[48];		/* "guide.closer", ...; "guide.good" when compliant,
				 * "guide.wait" when there is no guidance (yet) */
	char de[160], en[160];	/* bb-capture's own hint: for a key no catalogue has */
	char stamp[48];		/* changes with every frame; "" when there is none */
};

/* Opens DIR (absolute; owned by the running user or root, not writable by group or
 * others, not a symbolic link): its descriptor, or -1 with e set (64, 66, 78). */
int bb_mirror_open(const char *dir, struct bb_err *e);
/* The newest frame, DIR/mirror.jpg, read whole into *buf (malloc'd; the caller wipes
 * it): 0, or -1 when there is none (or it is no regular file, or too big). */
int bb_mirror_frame(int dfd, char **buf, size_t *len);
/* What the screen says now, from DIR/guidance.json; never fails (guide.wait). */
void bb_mirror_guide(int dfd, struct bb_guide *g);
/* The guide's text in lang (fallbacks as bb_catalog_text, then bb-capture's own de or
 * en text); *tlang the language it is in. */
const char *bb_guide_text(const struct bb_catalogs *c, const char *lang,
    const struct bb_guide *g, const char **tlang);
/* lang.dir of lang's catalogue, "ltr" when there is none. */
const char *bb_catalog_dir(const struct bb_catalogs *c, const char *lang);

struct bb_page {
	const struct bb_catalogs *cat;
	const struct bb_screen *screen;	/* NULL: the blank idle page */
	const json_t *set;		/* placeholder values, or NULL */
	const char *lang;
	int size;			/* 100, 150, 200 */
	int contrast_high, speech;
	int volume;			/* speech volume: 25, 50, 75, 100 (%) */
	unsigned long version;
	const char *services_dir;
	const json_t *form;		/* a page of bb-form ask, or NULL */
	const json_t *pin;		/* the PIN pad of bb-form pin, or NULL */
	const struct bb_guide *guide;	/* the mirror when the screen shows one, or NULL */
};

/* The page as the contract in bb-form(5) describes it, every text escaped. NULL when out
 * of memory. */
char *bb_page_render(const struct bb_page *p, size_t *len);

/* For the form pages (formpage.c): HTML-escapes s; the direction of a catalogue's
 * language; a catalogue text (placeholders from args) in an element tag with attrs, its
 * lang when it is another catalogue's (tag NULL: the text alone); a choice button. */
void bb_html_esc(FILE *f, const char *s);
const char *bb_page_dir(const struct bb_page *p, const char *lang);
void bb_page_put(FILE *f, const struct bb_page *p, const char *tag, const char *attrs,
    const char *key, const json_t *args);
void bb_page_put_button(FILE *f, const struct bb_page *p, const char *value, const char *cls,
    const char *key);
/* The title and the main part of a form page (p->form). */
void bb_form_page_title(FILE *f, const struct bb_page *p);
void bb_form_page_render(FILE *f, const struct bb_page *p);
/* The PIN pad (p->pin: kind pin|can|puk, digits, tries, error, confirm), and the
 * catalogue key of its title. */
void bb_pin_page_render(FILE *f, const struct bb_page *p);
const char *bb_pin_page_title(const json_t *pin);
/* Whether choice is one the form page offers. */
int bb_form_page_offers(const json_t *page, const char *choice);

/* The page's style and script, embedded at build time (Makefile). */
extern const unsigned char bb_asset_kiosk_css[], bb_asset_kiosk_js[];
extern const size_t bb_asset_kiosk_css_len, bb_asset_kiosk_js_len;

/* The form's walk (form/ask.h) on a terminal (tty.c), the screen without a browser: each
 * page printed on out in lang (de or en; the reasons and the words around them from the
 * catalogue in SCREENS/catalog), its inputs read from in a line each (Enter keeps the value shown, "-" clears it), then the page's choices;
 * until the walk says BB_ASK_DONE or BB_ASK_CANCEL, which it returns. The end of input
 * is a cancel. -1 with e set when the catalogue cannot be read or memory runs out. */
int bb_ask_tty(struct bb_ask *a, FILE *in, FILE *out, const char *screens, const char *lang,
    struct bb_err *e);

#endif
