/* The pages of bb-form ask on the citizen's screen: rendered from the page description
 * the ask step sends (bb-form(5) ASK PAGES), in the session's language. The definition's
 * own texts come in German and English: a page in another language shows them in
 * German, marked as such (WCAG 3.1.2). */
#include "screen/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The definition's text for the page's language, and its language. */
static const char *
def_text(const struct bb_page *p, const json_t *t, const char **lang)
{
	const char *en = json_string_value(json_object_get(t, "en"));
	const char *de = json_string_value(json_object_get(t, "de"));

	if (strcmp(p->lang, "en") == 0 && en != NULL) {
		*lang = "en";
		return en;
	}
	*lang = de != NULL ? "de" : "en";
	return de != NULL ? de : en != NULL ? en : "";
}

static void
lang_attrs(FILE *f, const struct bb_page *p, const char *lang)
{
	if (strcmp(lang, p->lang) == 0)
		return;
	fprintf(f, " lang=\"%s\"", lang);
	if (strcmp(bb_page_dir(p, lang), bb_page_dir(p, p->lang)) != 0)
		fprintf(f, " dir=\"%s\"", bb_page_dir(p, lang));
}

/* A text of the definition in an element (tag NULL: inline, in a span when its
 * language is not the page's). */
static void
put_def(FILE *f, const struct bb_page *p, const char *tag, const char *attrs,
    const json_t *t)
{
	const char *lang, *s = def_text(p, t, &lang);

	if (tag == NULL) {
		if (strcmp(lang, p->lang) == 0) {
			bb_html_esc(f, s);
			return;
		}
		tag = "span";
	}
	fprintf(f, "<%s%s", tag, attrs != NULL ? attrs : "");
	lang_attrs(f, p, lang);
	fputc('>', f);
	bb_html_esc(f, s);
	fprintf(f, "</%s>", tag);
}

/* A shown value: as given (a person's text, in its own direction), a text of the
 * definition, or a catalogue key. */
static void
put_value(FILE *f, const struct bb_page *p, const json_t *v)
{
	if (json_is_string(v)) {
		fputs("<bdi>", f);
		bb_html_esc(f, json_string_value(v));
		fputs("</bdi>", f);
	} else if (json_is_string(json_object_get(v, "key"))) {
		bb_page_put(f, p, "span", NULL, json_string_value(json_object_get(v, "key")),
		    NULL);
	} else {
		put_def(f, p, NULL, NULL, v);
	}
}

/* The element id of an input. Paths bb-form ask sends are [a-z0-9_.]; whatever else a
 * control line carries must not leave the attribute: _XX, hex. */
static void
put_id(FILE *f, const char *path)
{
	fputs("f-", f);
	for (; *path; path++)
		if (*path == '.')
			fputc('-', f);
		else if (strchr("abcdefghijklmnopqrstuvwxyz0123456789_", *path) != NULL)
			fputc(*path, f);
		else
			fprintf(f, "_%02x", (unsigned char)*path);
}

/* The keyboard kiosk.js shows for an input: one of its layouts, else text. */
static const char *
kbd_name(const json_t *kbd)
{
	static const char *const known[] = { "text", "numeric", "postal", "date" };
	const char *k = json_string_value(kbd);
	size_t i;

	for (i = 0; k != NULL && i < sizeof known / sizeof known[0]; i++)
		if (strcmp(k, known[i]) == 0)
			return known[i];
	return "text";
}

static void
put_error(FILE *f, const struct bb_page *p, const char *path, const json_t *err)
{
	char attrs[400];
	const char *key = json_string_value(json_object_get(err, "key"));

	if (key == NULL)
		return;
	fputs("<p class=\"bb-error\" id=\"", f);
	put_id(f, path);
	fputs("-err\">", f);
	bb_page_put(f, p, "span", " class=\"bb-error-prefix\"", "err.prefix", NULL);
	fputc(' ', f);
	(void)attrs;
	bb_page_put(f, p, NULL, NULL, key, json_object_get(err, "args"));
	fputs("</p>\n", f);
}

static int
is_checked(const json_t *value, const char *option)
{
	json_t *x;
	size_t i;

	if (json_is_string(value))
		return strcmp(json_string_value(value), option) == 0;
	json_array_foreach(value, i, x)
		if (json_is_string(x) && strcmp(json_string_value(x), option) == 0)
			return 1;
	return 0;
}

static void
put_described(FILE *f, const char *path, int help, int err)
{
	if (!help && !err)
		return;
	fputs(" aria-describedby=\"", f);
	if (help) {
		put_id(f, path);
		fputs("-help", f);
	}
	if (err) {
		fputs(help ? " " : "", f);
		put_id(f, path);
		fputs("-err", f);
	}
	fputc('"', f);
	if (err)
		fputs(" aria-invalid=\"true\"", f);
}

static void
put_help(FILE *f, const struct bb_page *p, const char *path, const json_t *help)
{
	if (help == NULL)
		return;
	fputs("<p class=\"bb-help\" id=\"", f);
	put_id(f, path);
	fputs("-help\">", f);
	put_def(f, p, NULL, NULL, help);
	fputs("</p>\n", f);
}

static void
put_required(FILE *f, const struct bb_page *p, const json_t *it)
{
	if (json_is_true(json_object_get(it, "required")))
		bb_page_put(f, p, "span", " class=\"bb-req\"", "ask.required", NULL);
}

/* The first field with an error gets the focus. */
static void
put_autofocus(FILE *f, const json_t *err, int *first)
{
	if (err != NULL && *first) {
		fputs(" autofocus", f);
		*first = 0;
	}
}

/* A select or multi-select: its options as radio buttons or check boxes (large
 * targets, no drop-down). */
static void
put_options(FILE *f, const struct bb_page *p, const json_t *it, int multi, int *first)
{
	const char *path = json_string_value(json_object_get(it, "path"));
	const json_t *value = json_object_get(it, "value"), *help = json_object_get(it, "help");
	const json_t *err = json_object_get(it, "error");
	const char *v;
	json_t *o;
	size_t i;

	fputs("<fieldset class=\"bb-field bb-choices\" id=\"", f);
	put_id(f, path);
	fputc('"', f);
	put_described(f, path, help != NULL, err != NULL);
	fputs("><legend>", f);
	put_def(f, p, NULL, NULL, json_object_get(it, "label"));
	put_required(f, p, it);
	fputs("</legend>\n", f);
	put_help(f, p, path, help);
	json_array_foreach(json_object_get(it, "options"), i, o) {
		if ((v = json_string_value(json_object_get(o, "value"))) == NULL)
			continue;	/* nothing to choose */
		fprintf(f, "<label class=\"bb-choice\"><input type=\"%s\" name=\"f:",
		    multi ? "checkbox" : "radio");
		bb_html_esc(f, path);
		fputs("\" value=\"", f);
		bb_html_esc(f, v);
		fputc('"', f);
		if (is_checked(value, v))
			fputs(" checked", f);
		put_autofocus(f, err, first);
		fputs("> ", f);
		put_def(f, p, NULL, NULL, json_object_get(o, "label"));
		fputs("</label>\n", f);
	}
	put_error(f, p, path, err);
	fputs("</fieldset>\n", f);
}

/* A text input's label, help and the input up to its last attributes. */
static void
put_text_start(FILE *f, const struct bb_page *p, const json_t *it, const char *type)
{
	const char *path = json_string_value(json_object_get(it, "path"));
	const char *kbd = kbd_name(json_object_get(it, "kbd"));
	const json_t *value = json_object_get(it, "value");

	fputs("<label for=\"", f);
	put_id(f, path);
	fputs("\">", f);
	put_def(f, p, NULL, NULL, json_object_get(it, "label"));
	put_required(f, p, it);
	if (strcmp(type, "date") == 0)
		bb_page_put(f, p, "span", " class=\"bb-hint\"", "ask.date_hint", NULL);
	fputs("</label>\n", f);
	put_help(f, p, path, json_object_get(it, "help"));
	/* dir=auto: a person's text keeps its own direction ("3. OG links" on an Arabic
	 * page, an Arabic name on a German one). */
	fputs("<input type=\"text\" dir=\"auto\" autocomplete=\"off\" spellcheck=\"false\" "
	    "name=\"f:", f);
	bb_html_esc(f, path);
	fputs("\" id=\"", f);
	put_id(f, path);
	fprintf(f, "\" data-kbd=\"%s\"", kbd);
	if (strcmp(kbd, "numeric") == 0 || strcmp(kbd, "postal") == 0)
		fputs(" inputmode=\"numeric\"", f);
	if (json_is_integer(json_object_get(it, "maxlength")))
		fprintf(f, " maxlength=\"%lld\"",
		    (long long)json_integer_value(json_object_get(it, "maxlength")));
	fputs(" value=\"", f);
	bb_html_esc(f, json_is_string(value) ? json_string_value(value) : "");
	fputc('"', f);
	if (json_is_true(json_object_get(it, "required")))
		fputs(" aria-required=\"true\"", f);
}

static void
put_input(FILE *f, const struct bb_page *p, const json_t *it, int *first)
{
	const char *path = json_string_value(json_object_get(it, "path"));
	const char *type = json_string_value(json_object_get(it, "type"));
	const json_t *value = json_object_get(it, "value"), *help = json_object_get(it, "help");
	const json_t *err = json_object_get(it, "error");
	int check;

	if (type == NULL)
		type = "text";
	if (strcmp(type, "select") == 0 || strcmp(type, "multi-select") == 0) {
		put_options(f, p, it, strcmp(type, "multi-select") == 0, first);
		return;
	}
	check = strcmp(type, "checkbox") == 0 || strcmp(type, "consent") == 0;
	fprintf(f, "<div class=\"bb-field%s\">\n", check ? " bb-check" : "");
	if (check) {
		fputs("<label class=\"bb-choice\"><input type=\"checkbox\" value=\"yes\" name=\"f:",
		    f);
		bb_html_esc(f, path);
		fputs("\" id=\"", f);
		put_id(f, path);
		fputc('"', f);
		if (json_is_string(value) && strcmp(json_string_value(value), "yes") == 0)
			fputs(" checked", f);
	} else {
		put_text_start(f, p, it, type);
	}
	put_described(f, path, help != NULL, err != NULL);
	put_autofocus(f, err, first);
	fputc('>', f);
	if (check) {
		fputc(' ', f);
		put_def(f, p, NULL, NULL, json_object_get(it, "label"));
		put_required(f, p, it);
		fputs("</label>\n", f);
		put_help(f, p, path, help);
	} else {
		fputc('\n', f);
	}
	put_error(f, p, path, err);
	fputs("</div>\n", f);
}

static void put_items(FILE *f, const struct bb_page *p, const json_t *items, int *first);

static void
put_item(FILE *f, const struct bb_page *p, const json_t *it, int *first)
{
	const char *kind = json_string_value(json_object_get(it, "kind"));
	const char *path = json_string_value(json_object_get(it, "path"));

	if (kind == NULL || path == NULL)
		return;
	if (strcmp(kind, "input") == 0) {
		put_input(f, p, it, first);
	} else if (strcmp(kind, "locked") == 0) {
		fputs("<div class=\"bb-field bb-locked\"><span class=\"bb-label\">", f);
		put_def(f, p, NULL, NULL, json_object_get(it, "label"));
		fputs("</span> <span class=\"bb-value\">", f);
		put_value(f, p, json_object_get(it, "value"));
		fputs("</span> ", f);
		bb_page_put(f, p, "span", " class=\"bb-hint\"", "ask.locked", NULL);
		fputs("</div>\n", f);
	} else if (strcmp(kind, "group") == 0) {
		const json_t *entry = json_object_get(it, "entry");
		const char *remove = json_string_value(json_object_get(it, "remove"));
		fputs("<fieldset class=\"bb-group\"><legend>", f);
		put_def(f, p, NULL, NULL, json_object_get(it, "label"));
		if (json_is_integer(entry))
			fprintf(f, " <bdi>%lld</bdi>", (long long)json_integer_value(entry));
		fputs("</legend>\n", f);
		put_help(f, p, path, json_object_get(it, "help"));
		put_items(f, p, json_object_get(it, "items"), first);
		if (remove != NULL)
			bb_page_put_button(f, p, remove, "bb-secondary bb-remove", "ask.remove");
		put_error(f, p, path, json_object_get(it, "error"));
		fputs("</fieldset>\n", f);
	} else if (strcmp(kind, "add") == 0) {
		const char *choice = json_string_value(json_object_get(it, "choice"));
		const json_t *err = json_object_get(it, "error");
		fputs("<div class=\"bb-field bb-add\">\n", f);
		if (choice != NULL) {
			/* "Add: <the group's label>" */
			fputs("<button type=\"submit\" name=\"choice\" value=\"", f);
			bb_html_esc(f, choice);
			fputs("\" class=\"bb-secondary\" id=\"", f);
			put_id(f, path);
			fputc('"', f);
			if (err != NULL) {
				fputs(" aria-describedby=\"", f);
				put_id(f, path);
				fputs("-err\"", f);
				if (*first) {
					fputs(" autofocus", f);
					*first = 0;
				}
			}
			fputc('>', f);
			bb_page_put(f, p, NULL, NULL, "ask.add", NULL);
			fputs(" ", f);
			put_def(f, p, NULL, NULL, json_object_get(it, "label"));
			fputs("</button>\n", f);
		}
		put_error(f, p, path, err);
		fputs("</div>\n", f);
	}
}

static void
put_items(FILE *f, const struct bb_page *p, const json_t *items, int *first)
{
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it)
		put_item(f, p, it, first);
}

static void
put_summary(FILE *f, const struct bb_page *p, const json_t *items)
{
	json_t *sec, *row;
	size_t i, j;

	json_array_foreach(items, i, sec) {
		const char *edit = json_string_value(json_object_get(sec, "edit"));
		fputs("<section class=\"bb-summary\">\n", f);
		put_def(f, p, "h2", NULL, json_object_get(sec, "title"));
		fputs("\n<dl>\n", f);
		json_array_foreach(json_object_get(sec, "rows"), j, row) {
			const json_t *entry = json_object_get(row, "entry");
			if (json_is_true(json_object_get(row, "heading"))) {
				fputs("<dt class=\"bb-heading\">", f);
				put_def(f, p, NULL, NULL, json_object_get(row, "label"));
				if (json_is_integer(entry))
					fprintf(f, " <bdi>%lld</bdi>", (long long)json_integer_value(entry));
				fputs("</dt><dd class=\"bb-heading\"></dd>\n", f);
				continue;
			}
			fputs("<dt>", f);
			put_def(f, p, NULL, NULL, json_object_get(row, "label"));
			fputs("</dt><dd>", f);
			put_value(f, p, json_object_get(row, "value"));
			fputs("</dd>\n", f);
		}
		fputs("</dl>\n", f);
		if (edit != NULL) {
			/* "Change" alone would be ambiguous to speech: say which section. */
			fputs("<button type=\"submit\" name=\"choice\" class=\"bb-secondary\" value=\"", f);
			bb_html_esc(f, edit);
			fputs("\">", f);
			bb_page_put(f, p, NULL, NULL, "ask.edit", NULL);
			fputs(": ", f);
			put_def(f, p, NULL, NULL, json_object_get(sec, "title"));
			fputs("</button>\n", f);
		}
		fputs("</section>\n", f);
	}
}

/* The inputs with a reason, as links to them: a person who cannot see the page whole
 * (speech, 200 %) learns first how many there are and where. */
static size_t
count_errors(const json_t *items)
{
	json_t *it;
	size_t i, n = 0;

	json_array_foreach(items, i, it) {
		if (json_object_get(it, "error") != NULL)
			n++;
		n += count_errors(json_object_get(it, "items"));
	}
	return n;
}

void
bb_form_page_title(FILE *f, const struct bb_page *p)
{
	const json_t *t = json_object_get(p->form, "section");
	const char *lang;

	if (strcmp(json_string_value(json_object_get(p->form, "kind")), "summary") == 0)
		bb_page_put(f, p, NULL, NULL, "ask.summary.title", NULL);
	else
		bb_html_esc(f, def_text(p, t, &lang));
	fputs(" – ", f);
	bb_html_esc(f, def_text(p, json_object_get(p->form, "title"), &lang));
}

static int
offers(const json_t *page, const char *choice)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(page, "choices"), i, c)
		if (json_is_string(c) && strcmp(json_string_value(c), choice) == 0)
			return 1;
	return 0;
}

int
bb_form_page_offers(const json_t *page, const char *choice)
{
	return offers(page, choice);
}

void
bb_form_page_render(FILE *f, const struct bb_page *p)
{
	const json_t *page = p->form, *step = json_object_get(page, "step");
	const json_t *items = json_object_get(page, "items");
	int summary = strcmp(json_string_value(json_object_get(page, "kind")), "summary") == 0;
	size_t nerr = summary ? 0 : count_errors(items);
	int first = 1;
	json_t *args;
	char n[24];

	if (json_is_array(step) && json_array_size(step) == 2) {
		args = json_object();
		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(json_array_get(step, 0)));
		json_object_set_new(args, "n", json_string(n));
		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(json_array_get(step, 1)));
		json_object_set_new(args, "total", json_string(n));
		bb_page_put(f, p, "p", " class=\"bb-step\"", "ask.step", args);
		json_decref(args);
	}
	put_def(f, p, "p", " class=\"bb-form-title\"", json_object_get(page, "title"));
	fputc('\n', f);
	if (summary) {
		bb_page_put(f, p, "h1", NULL, "ask.summary.title", NULL);
		bb_page_put(f, p, "p", NULL, "ask.summary.text", NULL);
	} else {
		put_def(f, p, "h1", NULL, json_object_get(page, "section"));
		fputc('\n', f);
		if (json_object_get(page, "help") != NULL) {
			put_def(f, p, "p", " class=\"bb-help\"", json_object_get(page, "help"));
			fputc('\n', f);
		}
	}
	if (nerr > 0) {
		args = json_object();
		snprintf(n, sizeof n, "%zu", nerr);
		json_object_set_new(args, "count", json_string(n));
		bb_page_put(f, p, "p", " class=\"bb-error bb-error-summary\" role=\"alert\"",
		    "ask.errors",
		    args);
		json_decref(args);
	}
	/* novalidate: the one validator is bb-form's; the browser's would speak its own
	 * language, not the person's. */
	fprintf(f, "<form id=\"bb-ask\" method=\"post\" action=\"/act\" novalidate>"
	    "<input type=\"hidden\" name=\"v\" value=\"%lu\">\n", p->version);
	/* Enter in a field means "next": the default button is the form's first. */
	if (offers(page, summary ? "send" : "next"))
		fprintf(f, "<button type=\"submit\" name=\"choice\" value=\"%s\" class=\"bb-default\" "
		    "tabindex=\"-1\" aria-hidden=\"true\"></button>\n", summary ? "send" : "next");
	if (summary)
		put_summary(f, p, items);
	else
		put_items(f, p, items, &first);
	fputs("<div class=\"bb-nav\">\n", f);
	if (offers(page, "back"))
		bb_page_put_button(f, p, "back", "bb-secondary", "chrome.back");
	bb_page_put_button(f, p, "cancel", "bb-secondary", "chrome.cancel");
	if (summary)
		bb_page_put_button(f, p, "send", "bb-primary", "ask.send");
	else
		bb_page_put_button(f, p, "next", "bb-primary", "chrome.next");
	fputs("</div>\n</form>\n", f);
}

/* The catalogue key of the pad's title; its text's is the same with .text for the
 * kinds and the steps of --confirm, pin.text for a PIN. */
const char *
bb_pin_page_title(const json_t *pin)
{
	const char *kind = json_string_value(json_object_get(pin, "kind"));
	const char *confirm = json_string_value(json_object_get(pin, "confirm"));

	if (kind != NULL && strcmp(kind, "can") == 0)
		return "pin.can.title";
	if (kind != NULL && strcmp(kind, "puk") == 0)
		return "pin.puk.title";
	if (confirm != NULL && strcmp(confirm, "again") == 0)
		return "pin.again.title";
	if (confirm != NULL)
		return "pin.new.title";		/* new, and mismatch: from the first again */
	if (json_integer_value(json_object_get(pin, "digits")) == 5)
		return "pin.transport.title";
	return "pin.title";
}

/* The PIN pad (bb-form pin): the digits are never in the page, not even after a
 * mistake; kiosk.js gives the input its number pad and announces only the count. */
void
bb_pin_page_render(FILE *f, const struct bb_page *p)
{
	const json_t *pin = p->pin;
	const char *confirm = json_string_value(json_object_get(pin, "confirm"));
	long digits = (long)json_integer_value(json_object_get(pin, "digits"));
	long tries = (long)json_integer_value(json_object_get(pin, "tries"));
	const char *title = bb_pin_page_title(pin);
	int err = json_is_true(json_object_get(pin, "error"));
	json_t *args = json_object();
	char n[24], text[40];

	snprintf(text, sizeof text, "%.*s.text", (int)(strlen(title) - 6), title);
	if (strcmp(title, "pin.title") == 0)
		snprintf(text, sizeof text, "pin.text");
	snprintf(n, sizeof n, "%ld", digits);
	json_object_set_new(args, "digits", json_string(n));
	snprintf(n, sizeof n, "%ld", tries);
	json_object_set_new(args, "tries", json_string(n));
	bb_page_put(f, p, "h1", " id=\"bb-pin-title\"", title, NULL);
	bb_page_put(f, p, "p", " id=\"bb-pin-text\"", text, args);
	if (tries > 0)
		bb_page_put(f, p, "p", " class=\"bb-error\" role=\"alert\"", "pin.wrong", args);
	/* Two entries that differed: said first, and spoken, never what either was. */
	if (confirm != NULL && strcmp(confirm, "mismatch") == 0)
		bb_page_put(f, p, "p", " class=\"bb-error\" id=\"bb-pin-mismatch\" role=\"alert\"",
		    "pin.mismatch", NULL);
	fprintf(f, "<form id=\"bb-ask\" method=\"post\" action=\"/act\" novalidate "
	    "autocomplete=\"off\"><input type=\"hidden\" name=\"v\" value=\"%lu\">\n",
	    p->version);
	fputs("<button type=\"submit\" name=\"choice\" value=\"ok\" class=\"bb-default\" "
	    "tabindex=\"-1\" aria-hidden=\"true\"></button>\n", f);
	fprintf(f, "<input type=\"password\" id=\"f-pin\" name=\"f:pin\" data-kbd=\"pin\" "
	    "inputmode=\"numeric\" autocomplete=\"off\" maxlength=\"%ld\" "
	    "aria-labelledby=\"bb-pin-title\" aria-describedby=\"bb-pin-text%s%s\"%s autofocus>\n",
	    digits, confirm != NULL && strcmp(confirm, "mismatch") == 0 ? " bb-pin-mismatch" : "",
	    err ? " f-pin-err" : "", err ? " aria-invalid=\"true\"" : "");
	if (err) {
		fputs("<p class=\"bb-error\" id=\"f-pin-err\">", f);
		bb_page_put(f, p, "span", " class=\"bb-error-prefix\"", "err.prefix", NULL);
		fputc(' ', f);
		bb_page_put(f, p, NULL, NULL, "pin.length", args);
		fputs("</p>\n", f);
	}
	fputs("<div class=\"bb-nav\">\n", f);
	bb_page_put_button(f, p, "cancel", "bb-secondary", "chrome.cancel");
	bb_page_put_button(f, p, "ok", "bb-primary", "chrome.next");
	fputs("</div>\n</form>\n", f);
	json_decref(args);
}
