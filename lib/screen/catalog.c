/* Message catalogues, screen definitions and the kiosk page (bb-form(5) SCREENS). */
#include "screen/screen.h"
#include "screen/receipt.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "form/form.h"
#include "yamltree.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct catalog {
	char *lang;		/* BCP 47 tag, from the file name */
	const char *name, *dir;	/* lang.name, lang.dir */
	struct bb_ynode *root;
};

struct bb_catalogs {
	struct catalog *c;
	size_t n;
};

static int
key_ok(const char *k)
{
	return *k && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(k);
}

static const struct catalog *
find_cat(const struct bb_catalogs *c, const char *lang)
{
	size_t i;

	for (i = 0; c != NULL && lang != NULL && i < c->n; i++)
		if (strcmp(c->c[i].lang, lang) == 0)
			return &c->c[i];
	return NULL;
}

static int
load_one(struct catalog *cat, const char *path, struct bb_err *e)
{
	const struct bb_ynode *r;
	size_t i;
	int rc;

	if ((rc = bb_yaml_load_file(path, &cat->root, e)) != 0)
		return rc;
	r = cat->root;
	/* An empty file is no document: no root. */
	if (r == NULL || r->kind != BB_Y_MAP)
		return bb_fail(e, BB_CONFIG, "%s:%d: expected a mapping of keys to texts", path,
		    r != NULL ? r->line : 1);
	for (i = 0; i < r->n; i++) {
		if (!key_ok(r->keys[i]))
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: not a catalogue key "
			    "([a-z0-9_.-]+)", path, r->key_lines[i], r->keys[i]);
		if (r->items[i]->kind != BB_Y_SCALAR)
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected a text, not a %s",
			    path, r->items[i]->line, r->keys[i], bb_yaml_kind_name(r->items[i]));
	}
	r = bb_yaml_get(cat->root, "lang.name");
	if (r == NULL || r->str[0] == '\0')
		return bb_fail(e, BB_CONFIG, "%s: missing 'lang.name'", path);
	cat->name = r->str;
	r = bb_yaml_get(cat->root, "lang.dir");
	if (r == NULL || (strcmp(r->str, "ltr") != 0 && strcmp(r->str, "rtl") != 0))
		return bb_fail(e, BB_CONFIG, "%s:%d: 'lang.dir' must be ltr or rtl", path,
		    r != NULL ? r->line : 1);
	cat->dir = r->str;
	return 0;
}

/* de and en first (the fallbacks, and the terminal's own languages), then by tag. */
static int
cat_order(const void *a, const void *b)
{
	const struct catalog *x = a, *y = b;
	int rx = strcmp(x->lang, "de") == 0 ? 0 : strcmp(x->lang, "en") == 0 ? 1 : 2;
	int ry = strcmp(y->lang, "de") == 0 ? 0 : strcmp(y->lang, "en") == 0 ? 1 : 2;

	return rx != ry ? rx - ry : strcmp(x->lang, y->lang);
}

void
bb_catalogs_free(struct bb_catalogs *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->c[i].lang);
		bb_yaml_free(c->c[i].root);
	}
	free(c->c);
	free(c);
}

int
bb_catalogs_load(const char *dir, struct bb_catalogs **out, struct bb_err *e)
{
	struct bb_catalogs *c;
	struct dirent *d;
	char path[4096];
	DIR *dp;
	int rc = 0;

	*out = NULL;
	snprintf(path, sizeof path, "%s/catalog", dir);
	if ((dp = opendir(path)) == NULL)
		return bb_fail(e, BB_CONFIG, "catalogues %s: cannot open", path);
	if ((c = calloc(1, sizeof *c)) == NULL) {
		closedir(dp);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	while (rc == 0 && (d = readdir(dp)) != NULL) {
		size_t len = strlen(d->d_name);
		struct catalog *grown;

		if (d->d_name[0] == '.' || len < 6 || strcmp(d->d_name + len - 5, ".yaml") != 0)
			continue;
		if (!bb_lang_tag_ok(d->d_name, len - 5)) {
			rc = bb_fail(e, BB_CONFIG, "%s/%s: the name is not a language tag "
			    "(de.yaml, pt-BR.yaml)", path, d->d_name);
			break;
		}
		if ((grown = realloc(c->c, (c->n + 1) * sizeof *grown)) == NULL) {
			rc = bb_fail(e, BB_SOFTWARE, "out of memory");
			break;
		}
		c->c = grown;
		memset(&c->c[c->n], 0, sizeof c->c[c->n]);
		if ((c->c[c->n].lang = strndup(d->d_name, len - 5)) == NULL) {
			rc = bb_fail(e, BB_SOFTWARE, "out of memory");
			break;
		}
		c->n++;
		snprintf(path, sizeof path, "%s/catalog/%s", dir, d->d_name);
		rc = load_one(&c->c[c->n - 1], path, e);
		snprintf(path, sizeof path, "%s/catalog", dir);
	}
	closedir(dp);
	if (rc == 0 && (find_cat(c, "de") == NULL || find_cat(c, "en") == NULL))
		rc = bb_fail(e, BB_CONFIG, "catalogues %s: de.yaml and en.yaml are required "
		    "(the fallbacks of every other language)", path);
	if (rc != 0) {
		bb_catalogs_free(c);
		return rc;
	}
	qsort(c->c, c->n, sizeof *c->c, cat_order);
	*out = c;
	return 0;
}

int
bb_catalogs_has(const struct bb_catalogs *c, const char *lang)
{
	return find_cat(c, lang) != NULL;
}

const char *
bb_catalog_text(const struct bb_catalogs *c, const char *lang, const char *key,
    const char **got)
{
	/* Service texts are written by the town in German first; other keys fall back to
	 * English, which more people read than German among those who chose neither. */
	const char *order[3] = { lang, strncmp(key, "svc.", 4) == 0 ? "de" : "en", "de" };
	const struct bb_ynode *n;
	const struct catalog *cat;
	size_t i;

	for (i = 0; i < 3; i++) {
		if ((cat = find_cat(c, order[i])) == NULL)
			continue;
		if ((n = bb_yaml_get(cat->root, key)) != NULL) {
			if (got != NULL)
				*got = cat->lang;
			return n->str;
		}
	}
	return NULL;
}

const char *
bb_catalog_dir(const struct bb_catalogs *c, const char *lang)
{
	const struct catalog *cat = find_cat(c, lang);

	return cat != NULL ? cat->dir : "ltr";
}

const char *
bb_guide_text(const struct bb_catalogs *c, const char *lang, const struct bb_guide *g,
    const char **tlang)
{
	const char *s = bb_catalog_text(c, lang, g->key, tlang);

	if (s != NULL)
		return s;
	/* A hint newer than the catalogues: bb-capture's own words, German for a German
	 * page, else English. */
	if (strcmp(lang, "de") == 0 && g->de[0] != '\0') {
		*tlang = "de";
		return g->de;
	}
	*tlang = "en";
	return g->en[0] != '\0' ? g->en : g->key;
}

/* --- screens --- */

int
bb_screen_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= 64 &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static int
value_ok(const char *v)
{
	size_t len = strlen(v);

	return len > 0 && len <= 64 &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

void
bb_screen_free(struct bb_screen *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->id);
	free(s->title);
	free(s->picture);
	for (i = 0; i < s->ntext; i++)
		free(s->text[i]);
	free(s->text);
	for (i = 0; i < s->nbuttons; i++) {
		free(s->buttons[i].value);
		free(s->buttons[i].label);
	}
	free(s->buttons);
	free(s);
}

static int
scalar(const char *path, const struct bb_ynode *n, const char *what, char **out,
    struct bb_err *e)
{
	if (n->kind != BB_Y_SCALAR || n->str[0] == '\0')
		return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected a non-empty string", path,
		    n->line, what);
	if ((*out = strdup(n->str)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	return 0;
}

static int
parse_screen(const char *path, const char *name, const struct bb_ynode *r,
    struct bb_screen *s, struct bb_err *e)
{
	static const char *const known[] = { "id", "title", "text", "picture", "buttons",
		"languages", "services", "busy", "mirror", "receipt" };
	const struct bb_ynode *n;
	size_t i, k;
	int rc, *flag;

	if (r == NULL || r->kind != BB_Y_MAP)	/* NULL: an empty file */
		return bb_fail(e, BB_CONFIG, "%s:%d: expected a mapping", path,
		    r != NULL ? r->line : 1);
	for (i = 0; i < r->n; i++) {
		for (k = 0; k < sizeof known / sizeof known[0]; k++)
			if (strcmp(r->keys[i], known[k]) == 0)
				break;
		if (k == sizeof known / sizeof known[0])
			return bb_fail(e, BB_CONFIG, "%s:%d: unknown key '%s'", path,
			    r->key_lines[i], r->keys[i]);
	}
	if ((n = bb_yaml_get(r, "id")) == NULL)
		return bb_fail(e, BB_CONFIG, "%s: missing 'id'", path);
	if ((rc = scalar(path, n, "id", &s->id, e)) != 0)
		return rc;
	if (strcmp(s->id, name) != 0)
		return bb_fail(e, BB_CONFIG, "%s:%d: id '%s' is not the file's name", path,
		    n->line, s->id);
	if ((n = bb_yaml_get(r, "title")) == NULL)
		return bb_fail(e, BB_CONFIG, "%s: missing 'title'", path);
	if ((rc = scalar(path, n, "title", &s->title, e)) != 0)
		return rc;
	if ((n = bb_yaml_get(r, "text")) != NULL) {
		if (n->kind != BB_Y_SEQ)
			return bb_fail(e, BB_CONFIG, "%s:%d: text: expected a list of keys", path,
			    n->line);
		if ((s->text = calloc(n->n + 1, sizeof *s->text)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		for (i = 0; i < n->n; i++, s->ntext++)
			if ((rc = scalar(path, n->items[i], "text", &s->text[i], e)) != 0)
				return rc;
	}
	if ((n = bb_yaml_get(r, "picture")) != NULL) {
		size_t len;
		if ((rc = scalar(path, n, "picture", &s->picture, e)) != 0)
			return rc;
		len = strlen(s->picture);
		if (len < 5 || strcmp(s->picture + len - 4, ".svg") != 0 ||
		    (s->picture[len - 4] = '\0', !bb_screen_name_ok(s->picture)))
			return bb_fail(e, BB_CONFIG, "%s:%d: picture: expected NAME.svg", path,
			    n->line);
	}
	if ((n = bb_yaml_get(r, "buttons")) != NULL) {
		if (n->kind != BB_Y_SEQ)
			return bb_fail(e, BB_CONFIG, "%s:%d: buttons: expected a list", path,
			    n->line);
		if ((s->buttons = calloc(n->n + 1, sizeof *s->buttons)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		for (i = 0; i < n->n; i++) {
			const struct bb_ynode *b = n->items[i], *v, *l;
			s->nbuttons++;	/* bb_screen_free frees what a mistake leaves */
			if (b->kind != BB_Y_MAP || b->n != 2 ||
			    (v = bb_yaml_get(b, "value")) == NULL ||
			    (l = bb_yaml_get(b, "label")) == NULL)
				return bb_fail(e, BB_CONFIG, "%s:%d: a button is "
				    "{value: VALUE, label: KEY}", path, b->line);
			if ((rc = scalar(path, v, "value", &s->buttons[i].value, e)) != 0 ||
			    (rc = scalar(path, l, "label", &s->buttons[i].label, e)) != 0)
				return rc;
			if (!value_ok(s->buttons[i].value))
				return bb_fail(e, BB_CONFIG, "%s:%d: value: expected [a-z0-9_-]+",
				    path, v->line);
		}
	}
	for (k = 5; k < 10; k++) {
		flag = k == 5 ? &s->languages : k == 6 ? &s->services : k == 7 ? &s->busy :
		    k == 8 ? &s->mirror : &s->receipt;
		if ((n = bb_yaml_get(r, known[k])) != NULL && bb_yaml_bool(n, flag) != 0)
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected true or false", path,
			    n->line, known[k]);
	}
	return 0;
}

int
bb_screen_load(const char *dir, const char *name, struct bb_screen **out, struct bb_err *e)
{
	struct bb_ynode *root;
	struct bb_screen *s;
	char path[4096];
	int rc;

	*out = NULL;
	if (!bb_screen_name_ok(name))
		return bb_fail(e, BB_USAGE, "%.64s: not a screen name ([a-z0-9-]+)", name);
	snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
	if ((rc = bb_yaml_load_file(path, &root, e)) != 0)
		return rc;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		bb_yaml_free(root);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	rc = parse_screen(path, name, root, s, e);
	bb_yaml_free(root);
	if (rc != 0) {
		bb_screen_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* --- services on the welcome screen --- */

struct service {
	char id[65];
	int flow_only;		/* a flow without a form: a task such as changing the PIN */
};

/* The services with a form first, then the tasks without one, each by id. */
static int
svc_order(const void *a, const void *b)
{
	const struct service *x = a, *y = b;

	if (x->flow_only != y->flow_only)
		return x->flow_only - y->flow_only;
	return strcmp(x->id, y->id);
}

/* The services of dir, sorted; at most max: subdirectories with a form.yaml, and those
 * with only an executable flow (bb-form(5) SCREENS), which need a title in the
 * catalogues to be shown. */
static size_t
list_services(const char *dir, struct service *out, size_t max)
{
	struct dirent *d;
	struct stat st;
	char path[4096];
	size_t n = 0;
	DIR *dp;

	if (dir == NULL || (dp = opendir(dir)) == NULL)
		return 0;
	while (n < max && (d = readdir(dp)) != NULL) {
		int flow_only = 0;

		if (!bb_screen_name_ok(d->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s/form.yaml", dir, d->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			snprintf(path, sizeof path, "%s/%s/flow", dir, d->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
				continue;
			flow_only = 1;
		}
		out[n].flow_only = flow_only;
		snprintf(out[n++].id, sizeof out->id, "%s", d->d_name);
	}
	closedir(dp);
	qsort(out, n, sizeof *out, svc_order);
	return n;
}

#define MAX_SERVICES 64

int
bb_screen_offers(const struct bb_screen *s, const char *services_dir, const char *v)
{
	struct service svc[MAX_SERVICES];
	size_t i, n;

	for (i = 0; i < s->nbuttons; i++)
		if (strcmp(s->buttons[i].value, v) == 0)
			return 1;
	if (!s->services || strncmp(v, "service ", 8) != 0)
		return 0;
	n = list_services(services_dir, svc, MAX_SERVICES);
	for (i = 0; i < n; i++)
		if (strcmp(svc[i].id, v + 8) == 0)
			return 1;
	return 0;
}

/* --- the page --- */

/* What the form pages (formpage.c) share with the screens. */
static void esc_str(FILE *f, const char *s);
static void fill(FILE *f, const char *t, const json_t *set, int bdi);
struct text;

void
bb_html_esc(FILE *f, const char *s)
{
	esc_str(f, s);
}

const char *
bb_page_dir(const struct bb_page *p, const char *lang)
{
	const struct catalog *c = find_cat(p->cat, lang);

	return c != NULL ? c->dir : "ltr";
}

static void
esc(FILE *f, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(s[i], f);
		}
	}
}

static void
esc_str(FILE *f, const char *s)
{
	esc(f, s, strlen(s));
}

/* A catalogue text with its {placeholders} filled from set: both escaped, each value in
 * <bdi> when bdi (not in an attribute or the title). A placeholder with no value stays
 * as written, so a missing --set shows rather than vanishes. */
static void
fill(FILE *f, const char *t, const json_t *set, int bdi)
{
	const char *open, *close;

	while ((open = strchr(t, '{')) != NULL) {
		char name[65];
		size_t len;
		const char *v;

		esc(f, t, (size_t)(open - t));
		close = strchr(open, '}');
		len = close != NULL ? (size_t)(close - open - 1) : 0;
		if (close == NULL || len == 0 || len >= sizeof name) {
			esc(f, open, 1);
			t = open + 1;
			continue;
		}
		memcpy(name, open + 1, len);
		name[len] = '\0';
		if ((v = json_string_value(json_object_get(set, name))) != NULL) {
			/* bdi: a reference keeps its own direction inside Arabic text. */
			fputs(bdi ? "<bdi>" : "", f);
			esc_str(f, v);
			fputs(bdi ? "</bdi>" : "", f);
		} else
			esc(f, open, len + 2);
		t = close + 1;
	}
	esc_str(f, t);
}

static void
put_filled(FILE *f, const char *t, const json_t *set)
{
	fill(f, t, set, 1);
}

struct text {
	const char *s, *lang, *dir;	/* lang/dir NULL: the page's own */
};

static struct text
text_of(const struct bb_page *p, const char *key)
{
	struct text t = { NULL, NULL, NULL };
	const struct catalog *cat;
	const char *got = NULL;

	if ((t.s = bb_catalog_text(p->cat, p->lang, key, &got)) == NULL) {
		t.s = key;	/* visible, so the missing key is found in review */
		return t;
	}
	if (strcmp(got, p->lang) != 0) {
		const struct catalog *mine = find_cat(p->cat, p->lang);
		cat = find_cat(p->cat, got);
		t.lang = got;
		if (mine == NULL || strcmp(mine->dir, cat->dir) != 0)
			t.dir = cat->dir;
	}
	return t;
}

/* lang="…" dir="…" when a text came from another catalogue than the page's. */
static void
put_lang(FILE *f, const struct text *t)
{
	if (t->lang != NULL) {
		fputs(" lang=\"", f);
		esc_str(f, t->lang);
		fputc('"', f);
	}
	if (t->dir != NULL)
		fprintf(f, " dir=\"%s\"", t->dir);
}

static void
put_elem_attrs(FILE *f, const struct bb_page *p, const char *tag, const char *attrs,
    const char *key)
{
	struct text t = text_of(p, key);

	fprintf(f, "<%s%s", tag, attrs);
	put_lang(f, &t);
	fputc('>', f);
	put_filled(f, t.s, p->set);
	fprintf(f, "</%s>\n", tag);
}

void
bb_page_put(FILE *f, const struct bb_page *p, const char *tag, const char *attrs,
    const char *key, const json_t *args)
{
	struct text t = text_of(p, key);

	if (tag != NULL) {
		fprintf(f, "<%s%s", tag, attrs != NULL ? attrs : "");
		put_lang(f, &t);
		fputc('>', f);
	}
	fill(f, t.s, args, tag != NULL);
	if (tag != NULL)
		fprintf(f, "</%s>\n", tag);
}

static void put_button(FILE *f, const struct bb_page *p, const char *name, const char *value,
    const char *cls, const char *key, int pressed);

void
bb_page_put_button(FILE *f, const struct bb_page *p, const char *value, const char *cls,
    const char *key)
{
	put_button(f, p, "choice", value, cls, key, -1);
}

static void
put_elem(FILE *f, const struct bb_page *p, const char *tag, const char *key)
{
	struct text t = text_of(p, key);

	fprintf(f, "<%s", tag);
	put_lang(f, &t);
	fputc('>', f);
	put_filled(f, t.s, p->set);
	fprintf(f, "</%s>\n", tag);
}

static void
put_button(FILE *f, const struct bb_page *p, const char *name, const char *value,
    const char *cls, const char *key, int pressed)
{
	struct text t = text_of(p, key);

	fprintf(f, "<button type=\"submit\" name=\"%s\" value=\"", name);
	esc_str(f, value);
	fputc('"', f);
	/* On a form page a setting takes the answers typed so far along (drafts). */
	if (p->form != NULL && strcmp(name, "choice") != 0)
		fputs(" form=\"bb-ask\"", f);
	if (cls != NULL)
		fprintf(f, " class=\"%s\"", cls);
	if (pressed >= 0)
		fprintf(f, " aria-pressed=\"%s\"", pressed ? "true" : "false");
	put_lang(f, &t);
	fputc('>', f);
	put_filled(f, t.s, p->set);
	fputs("</button>\n", f);
}

/* The German name of a service beside its translation (svc.ID.title of de), on a page in
 * another language whose own title differs: the counter, the letters from the authority
 * and the signs in the office use the German one. NULL: none to show. */
static const char *
german_beside(const struct bb_page *p, const struct text *t, const char *key)
{
	const char *de;

	if (t->lang != NULL || strcmp(p->lang, "de") == 0 ||
	    (de = bb_catalog_text(p->cat, "de", key, NULL)) == NULL || strcmp(de, t->s) == 0)
		return NULL;
	return de;
}

/* A service tile: svc.ID.title, the German name under a translation, and svc.ID.text
 * (when a catalogue has it). */
static void
put_button_sub(FILE *f, const struct bb_page *p, const char *value, const char *key,
    const char *id)
{
	struct text t = text_of(p, key), sub;
	const char *de;
	char subkey[96];

	snprintf(subkey, sizeof subkey, "svc.%.64s.text", id);
	sub = text_of(p, subkey);
	de = german_beside(p, &t, key);
	fputs("<button type=\"submit\" name=\"choice\" value=\"", f);
	esc_str(f, value);
	fputs("\" class=\"bb-secondary\"", f);
	put_lang(f, &t);
	fputc('>', f);
	put_filled(f, t.s, p->set);
	if (de != NULL) {
		/* Isolated, but on the page's side like the lines around it. */
		fputs("<span class=\"bb-sub bb-de\" lang=\"de\"><bdi>", f);
		esc_str(f, de);
		fputs("</bdi></span>", f);
	}
	if (sub.s != subkey) {
		fputs("<span class=\"bb-sub\"", f);
		if (sub.lang != t.lang || sub.dir != t.dir)
			put_lang(f, &sub);
		fputc('>', f);
		put_filled(f, sub.s, p->set);
		fputs("</span>", f);
	}
	fputs("</button>\n", f);
}

/* The keyboard's place: kiosk.js builds the keys; their labels (every kbd.* key of de,
 * which holds them all, pin.digits, raw, and the two texts speech needs) come in
 * data-labels as JSON. */
static void
put_keyboard(FILE *f, const struct bb_page *p)
{
	const struct catalog *de = find_cat(p->cat, "de");
	json_t *o = json_object();
	char *js = NULL;
	size_t i;

	for (i = 0; o != NULL && de != NULL && de->root != NULL && i < de->root->n; i++) {
		const char *k = de->root->keys[i], *v;
		/* pin.masked and err.prefix: what speech says for a PIN's digit and
		 * before an error (kiosk.js). */
		if (strncmp(k, "kbd.", 4) != 0 && strcmp(k, "pin.digits") != 0 &&
		    strcmp(k, "pin.masked") != 0 && strcmp(k, "err.prefix") != 0)
			continue;
		if ((v = bb_catalog_text(p->cat, p->lang, k, NULL)) != NULL)
			json_object_set_new(o, k, json_string(v));
	}
	fputs("<div id=\"bb-keyboard\"", f);
	if (o != NULL && (js = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL) {
		fputs(" data-labels=\"", f);
		esc_str(f, js);
		fputc('"', f);
	}
	fputs(" hidden></div>\n", f);
	free(js);
	json_decref(o);
}

/* One button per language, each named in its own language; the current one
 * aria-current (kiosk.css underlines it: not colour alone). */
static void
put_languages(FILE *f, const struct bb_page *p, const char *cls)
{
	size_t i;

	for (i = 0; i < p->cat->n; i++) {
		const struct catalog *c = &p->cat->c[i];
		fputs("<button type=\"submit\" name=\"lang\" value=\"", f);
		esc_str(f, c->lang);
		fputc('"', f);
		if (p->form != NULL)
			fputs(" form=\"bb-ask\"", f);
		if (cls != NULL)
			fprintf(f, " class=\"%s\"", cls);
		fputs(" lang=\"", f);
		esc_str(f, c->lang);
		fprintf(f, "\" dir=\"%s\"%s>", c->dir,
		    strcmp(c->lang, p->lang) == 0 ? " aria-current=\"true\"" : "");
		esc_str(f, c->name);
		fputs("</button>\n", f);
	}
}

static void
put_services(FILE *f, const struct bb_page *p)
{
	struct service svc[MAX_SERVICES];
	size_t i, n = list_services(p->services_dir, svc, MAX_SERVICES);

	for (i = 0; i < n; i++) {
		char key[96], value[80];
		struct text t;

		snprintf(key, sizeof key, "svc.%.64s.title", svc[i].id);
		snprintf(value, sizeof value, "service %.64s", svc[i].id);
		t = text_of(p, key);
		if (t.s == key && svc[i].flow_only)
			continue;	/* a task no catalogue names is not offered */
		if (t.s == key) {
			/* No catalogue names it: the definition's own title. */
			struct bb_problems pr = { 0 };
			struct bb_form *form;
			char path[4200];
			snprintf(path, sizeof path, "%s/%s/form.yaml", p->services_dir, svc[i].id);
			if (bb_form_load(path, &form, &pr) != 0) {
				bb_problems_free(&pr);
				continue;
			}
			/* A definition has de and en; any other language reads de. */
			t.lang = strcmp(p->lang, "en") == 0 || strcmp(p->lang, "de") == 0 ? NULL :
			    "de";
			t.dir = t.lang != NULL && strcmp(find_cat(p->cat, p->lang)->dir,
			    find_cat(p->cat, "de")->dir) != 0 ? find_cat(p->cat, "de")->dir : NULL;
			fprintf(f, "<button type=\"submit\" name=\"choice\" value=\"%s\" "
			    "class=\"bb-secondary\"", value);
			put_lang(f, &t);
			fputc('>', f);
			esc_str(f, strcmp(p->lang, "en") == 0 ? form->title.en : form->title.de);
			fputs("</button>\n", f);
			bb_form_free(form);
			continue;
		}
		put_button_sub(f, p, value, key, svc[i].id);
	}
}

/* The chrome's one language control: a disclosure whose summary names it (in English
 * too, for a person who does not read the page's language) and opens the languages.
 * A details element needs no script, is reached and opened by keyboard, and is read as
 * a collapsed or expanded button; closed, it keeps the welcome screen from listing
 * every language twice. */
static void
put_language_menu(FILE *f, const struct bb_page *p)
{
	struct text t = text_of(p, "chrome.language");
	const char *en;

	fputs("<details class=\"bb-lang\"><summary", f);
	put_lang(f, &t);
	/* A globe, the sign of a language choice that needs no language; in the text's
	 * colour, so it follows the contrast mode. */
	fputs("><svg class=\"bb-globe\" aria-hidden=\"true\" viewBox=\"0 0 24 24\" "
	    "fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"><circle cx=\"12\" "
	    "cy=\"12\" r=\"10\"/><path d=\"M2 12h20M12 2c3 3 4.5 6.5 4.5 10S15 19 12 22M12 "
	    "2C9 5 7.5 8.5 7.5 12S9 19 12 22\"/></svg>", f);
	put_filled(f, t.s, p->set);
	if (t.lang == NULL && (en = bb_catalog_text(p->cat, "en", "chrome.language", NULL)) !=
	    NULL && strcmp(en, t.s) != 0) {
		fputs(" <span lang=\"en\" dir=\"ltr\">", f);
		esc_str(f, en);
		fputs("</span>", f);
	}
	fputs("</summary><div class=\"bb-lang-list\">\n", f);
	put_languages(f, p, NULL);
	fputs("</div></details>\n", f);
}

/* With speech on: stop and repeat (EN 301 549 5.1.3.4), hidden until kiosk.js, which
 * speaks, shows them; the volume (5.1.3.11) and a step down and up, plain form posts. */
static void
put_speech(FILE *f, const struct bb_page *p)
{
	static const char *const say[][2] = { { "stop", "chrome.speech_stop" },
		{ "again", "chrome.speech_again" } };
	json_t *set;
	struct text t;
	char v[16];
	size_t i;

	for (i = 0; i < 2; i++) {
		t = text_of(p, say[i][1]);
		fprintf(f, "<button type=\"button\" class=\"bb-say\" data-say=\"%s\"",
		    say[i][0]);
		put_lang(f, &t);
		fputs(" hidden>", f);
		put_filled(f, t.s, p->set);
		fputs("</button>\n", f);
	}
	t = text_of(p, "chrome.volume");
	fputs("<span class=\"bb-volume\"", f);
	put_lang(f, &t);
	fputc('>', f);
	snprintf(v, sizeof v, "%d", p->volume);
	set = json_pack("{s:s}", "volume", v);
	put_filled(f, t.s, set);
	json_decref(set);
	fputs("</span>\n", f);
	snprintf(v, sizeof v, "%d", p->volume <= 25 ? 25 : p->volume - 25);
	put_button(f, p, "volume", v, NULL, "chrome.volume_down", -1);
	snprintf(v, sizeof v, "%d", p->volume >= 100 ? 100 : p->volume + 25);
	put_button(f, p, "volume", v, NULL, "chrome.volume_up", -1);
}

/* The live mirror in place of the picture: the newest frame (kiosk.css shows it flipped,
 * as a mirror; kiosk.js follows /m/state) and what to change, in a polite live region
 * that speaks a hint once, when it changes. No frame yet: the image waits, hidden. */
static void
put_mirror(FILE *f, const struct bb_page *p)
{
	const struct bb_guide *g = p->guide;
	const char *alt, *tlang = p->lang;
	const char *text = bb_guide_text(p->cat, p->lang, g, &tlang);

	fputs("<div class=\"bb-mirror\">\n<img class=\"bb-mirror-frame\" id=\"bb-mirror-frame\" "
	    "alt=\"", f);
	if ((alt = bb_catalog_text(p->cat, p->lang, "guide.frame", NULL)) != NULL)
		esc_str(f, alt);
	if (g->stamp[0] != '\0') {
		fputs("\" data-n=\"", f);
		esc_str(f, g->stamp);
		fputs("\" src=\"/m/mirror.jpg?n=", f);
		esc_str(f, g->stamp);
		fputs("\">\n", f);
	} else
		fputs("\" data-n=\"\" hidden>\n", f);
	fputs("<p class=\"bb-guide\" id=\"bb-guide\" role=\"status\" aria-live=\"polite\"", f);
	if (strcmp(tlang, p->lang) != 0) {
		fputs(" lang=\"", f);
		esc_str(f, tlang);
		fprintf(f, "\" dir=\"%s\"", bb_catalog_dir(p->cat, tlang));
	}
	fputc('>', f);
	esc_str(f, text);
	fputs("</p>\n</div>\n", f);
}

static void
put_chrome(FILE *f, const struct bb_page *p)
{
	char v[16];

	fprintf(f, "<header class=\"bb-chrome\"><form method=\"post\" action=\"/act\">\n"
	    "<input type=\"hidden\" name=\"v\" value=\"%lu\">\n", p->version);
	snprintf(v, sizeof v, "%d", p->size >= 200 ? 100 : p->size + 50);
	put_button(f, p, "size", v, NULL, "chrome.size", -1);
	put_button(f, p, "contrast", p->contrast_high ? "normal" : "high", NULL,
	    "chrome.contrast", p->contrast_high);
	put_button(f, p, "speech", p->speech ? "off" : "on", NULL,
	    p->speech ? "chrome.speech_off" : "chrome.speech_on", p->speech);
	if (p->speech)
		put_speech(f, p);
	put_language_menu(f, p);
	fputs("</form></header>\n", f);
}

static int
is_secondary(const char *value)
{
	return strcmp(value, "cancel") == 0 || strcmp(value, "back") == 0 ||
	    strcmp(value, "end") == 0;
}

/* From the doctype to the end of head: the language, the reader's settings, the title. */
static void
put_head(FILE *f, const struct bb_page *p)
{
	const struct catalog *cat = find_cat(p->cat, p->lang);
	const struct bb_screen *s = p->screen;

	fputs("<!doctype html>\n<html lang=\"", f);
	esc_str(f, p->lang);
	/* data-speech, data-volume: kiosk.js speaks, at that volume. */
	fprintf(f, "\" dir=\"%s\" class=\"bb size-%d contrast-%s\" data-volume=\"%d\"%s>\n",
	    cat->dir, p->size, p->contrast_high ? "high" : "normal", p->volume,
	    p->speech ? " data-speech=\"on\"" : "");
	fputs("<head><meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width\">\n<title>", f);
	if (p->pin != NULL)
		put_filled(f, text_of(p, bb_pin_page_title(p->pin)).s, NULL);
	else if (p->form != NULL)
		bb_form_page_title(f, p);
	else if (s != NULL)
		fill(f, text_of(p, s->title).s, p->set, 0);
	fputs(s != NULL || p->form != NULL || p->pin != NULL ? " – bb" : "bb", f);
	fputs("</title><link rel=\"stylesheet\" href=\"/s/kiosk.css\">\n"
	    "<script src=\"/s/kiosk.js\" defer></script></head>\n", f);
}

/* The screen's picture. SCREEN.picture describes it; without one it is decoration (the
 * texts say everything) and gets an empty alt. */
static void
put_picture(FILE *f, const struct bb_page *p, const struct bb_screen *s)
{
	char key[96];
	const char *alt;

	snprintf(key, sizeof key, "%s.picture", s->id);
	alt = bb_catalog_text(p->cat, p->lang, key, NULL);
	fputs("<img class=\"bb-picture\" alt=\"", f);
	if (alt != NULL)
		fill(f, alt, p->set, 0);
	fprintf(f, "\" src=\"/p/%s.svg\">\n", s->picture);
}

/* What a person can choose on the screen: a service, a language, its buttons. */
static void
put_choices(FILE *f, const struct bb_page *p, const struct bb_screen *s)
{
	size_t i;

	fprintf(f, "<form method=\"post\" action=\"/act\">"
	    "<input type=\"hidden\" name=\"v\" value=\"%lu\">\n", p->version);
	if (s->services) {
		put_elem(f, p, "h2", "welcome.services");
		fputs("<div class=\"bb-services\">\n", f);
		put_services(f, p);
		fputs("</div>\n", f);
	}
	if (s->languages) {
		put_elem(f, p, "h2", "welcome.languages");
		fputs("<div class=\"bb-languages\">\n", f);
		put_languages(f, p, "bb-secondary");
		fputs("</div>\n", f);
	}
	for (i = 0; i < s->nbuttons; i++)
		put_button(f, p, "choice", s->buttons[i].value,
		    is_secondary(s->buttons[i].value) ? "bb-secondary" : "bb-primary",
		    s->buttons[i].label, -1);
	fputs("</form>\n", f);
}

/* A busy screen's status: SCREEN.busy, else the title (a status has a text). */
static void
put_busy(FILE *f, const struct bb_page *p, const struct bb_screen *s)
{
	char key[96];

	snprintf(key, sizeof key, "%s.busy", s->id);
	if (bb_catalog_text(p->cat, p->lang, key, NULL) != NULL) {
		put_elem_attrs(f, p, "div", " class=\"bb-busy\" role=\"status\"", key);
	} else {
		fputs("<div class=\"bb-busy\" role=\"status\">", f);
		put_filled(f, text_of(p, s->title).s, p->set);
		fputs("</div>\n", f);
	}
}

/* A screen of the catalogue: title, texts, receipt, mirror or picture, choices. */
static void
put_screen(FILE *f, const struct bb_page *p, const struct bb_screen *s)
{
	size_t i;

	put_elem(f, p, "h1", s->title);
	for (i = 0; i < s->ntext; i++)
		put_elem(f, p, "p", s->text[i]);
	if (s->receipt)
		bb_receipt_page_render(f, p);
	if (s->mirror && p->guide != NULL)
		put_mirror(f, p);
	else if (s->picture != NULL)
		put_picture(f, p, s);
	if (s->nbuttons > 0 || s->languages || s->services)
		put_choices(f, p, s);
	if (s->busy)
		put_busy(f, p, s);
}

char *
bb_page_render(const struct bb_page *p, size_t *len)
{
	const struct bb_screen *s = p->screen;
	char *buf = NULL;
	FILE *f;

	if ((f = open_memstream(&buf, len)) == NULL)
		return NULL;
	put_head(f, p);
	fputs("<body>\n", f);
	put_chrome(f, p);
	fprintf(f, "<main id=\"bb-screen\" data-version=\"%lu\" data-screen=\"%s\" "
	    "tabindex=\"-1\">\n", p->version, p->pin != NULL ? "pin" : p->form != NULL ?
	    "ask" : s != NULL ? s->id : "");
	if (p->pin != NULL)
		bb_pin_page_render(f, p);
	else if (p->form != NULL)
		bb_form_page_render(f, p);
	else if (s != NULL)
		put_screen(f, p, s);
	fputs("</main>\n", f);
	put_keyboard(f, p);
	fputs("</body></html>\n", f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
