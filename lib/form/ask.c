/* bb-form ask's walk through a form, without knowing the screen it is shown on: pages as
 * JSON (bb-form(5) ASK PAGES), answers through bb_fill_set, reasons from
 * bb_fill_validate, as fill gives them. */
#include "form/ask.h"
#include "case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATH 300

static json_t *
text_json(const struct bb_text *t)
{
	json_t *o = json_object();

	if (t->de != NULL)
		json_object_set_new(o, "de", json_string(t->de));
	if (t->en != NULL)
		json_object_set_new(o, "en", json_string(t->en));
	return o;
}

static int
has_text(const struct bb_text *t)
{
	return t->de != NULL || t->en != NULL;
}

/* The keyboard a field wants on the screen (kiosk.js's layouts). */
static const char *
kbd_of(const struct bb_field *f)
{
	switch (f->type) {
	case BB_F_NUMBER:
		return f->integer ? "numeric" : "text";
	case BB_F_POSTAL:
		return "postal";
	case BB_F_DATE:
		return "date";
	default:
		return "text";
	}
}

/* "2026-11-30" as people here write it. */
static void
date_local(const char *iso, char out[11])
{
	snprintf(out, 11, "%.2s.%.2s.%.4s", iso + 8, iso + 5, iso);
}

static int
is_iso_date(const char *s)
{
	char d[11];

	return strlen(s) == 10 && s[4] == '-' && bb_date_parse(s, d) == 0;
}

/* A stored value as the person would type it again. */
static json_t *
input_value(const struct bb_field *f, const json_t *v)
{
	char buf[64];

	if (v == NULL || json_is_null(v))
		return json_string("");
	if (json_is_string(v) && f->type == BB_F_MULTI) {
		/* A multi-select as bb_fill_set keeps it, "a,b" (the validator makes the list
		 * of it): its values, as a list, or the page shows none ticked after back. */
		json_t *out = json_array();
		const char *s = json_string_value(v), *c;
		while (*s != '\0') {
			c = s + strcspn(s, ",");
			if (c > s)
				json_array_append_new(out, json_stringn(s, (size_t)(c - s)));
			s = *c == ',' ? c + 1 : c;
		}
		return out;
	}
	if (json_is_string(v)) {
		if (f->type == BB_F_DATE && is_iso_date(json_string_value(v))) {
			date_local(json_string_value(v), buf);
			return json_string(buf);
		}
		return json_incref((json_t *)v);
	}
	if (json_is_boolean(v))
		return json_string(json_is_true(v) ? "yes" : "no");
	if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		return json_string(buf);
	}
	if (json_is_real(v)) {
		snprintf(buf, sizeof buf, "%g", json_real_value(v));
		return json_string(buf);
	}
	if (json_is_array(v)) {	/* a multi-select: its values, as a list */
		json_t *out = json_array(), *x;
		size_t i;
		json_array_foreach(v, i, x)
			if (json_is_string(x))
				json_array_append(out, x);
		return out;
	}
	return json_string("");
}

static const struct bb_option *
option_of(const struct bb_field *f, const char *v)
{
	size_t i;

	for (i = 0; v != NULL && i < f->noptions; i++)
		if (strcmp(f->options[i].value, v) == 0)
			return &f->options[i];
	return NULL;
}

/* A validated value as the summary shows it: a string as given, a text of the definition
 * ({de, en}) or a catalogue key ({key}). */
static json_t *
display(const struct bb_field *f, const json_t *v)
{
	const struct bb_option *o;
	char buf[64];

	if (bb_fill_is_empty(v) && !json_is_false(v))
		return json_pack("{s:s}", "key", "ask.empty");
	if (f->nfields > 0 && json_is_object(v)) {
		/* A group shown whole (an address from the card): its parts in order. */
		char *s = NULL;
		size_t len = 0, i, n = 0;
		FILE *m = open_memstream(&s, &len);
		json_t *out;
		if (m == NULL)
			return NULL;
		for (i = 0; i < f->nfields; i++) {
			json_t *pv = json_object_get(v, f->fields[i].name), *d;
			if (pv == NULL || bb_fill_is_empty(pv))
				continue;
			d = display(&f->fields[i], pv);
			if (json_is_string(d))
				fprintf(m, "%s%s", n++ ? ", " : "", json_string_value(d));
			bb_json_wipe(d);
		}
		fclose(m);
		out = n > 0 ? json_string(s) : json_pack("{s:s}", "key", "ask.empty");
		explicit_bzero(s, len);
		free(s);
		return out;
	}
	switch (f->type) {
	case BB_F_CHECKBOX:
	case BB_F_CONSENT:
		return json_pack("{s:s}", "key", json_is_true(v) ? "ask.yes" : "ask.no");
	case BB_F_SELECT:
		if ((o = option_of(f, json_string_value(v))) != NULL)
			return text_json(&o->label);
		break;
	case BB_F_MULTI: {
		char *de = NULL, *en = NULL;
		size_t i, dl = 0, el = 0;
		FILE *fd = open_memstream(&de, &dl), *fe = open_memstream(&en, &el);
		json_t *x, *out;
		if (fd == NULL || fe == NULL) {
			if (fd != NULL)
				fclose(fd);
			if (fe != NULL)
				fclose(fe);
			free(de);
			free(en);
			return NULL;
		}
		json_array_foreach(v, i, x) {
			if ((o = option_of(f, json_string_value(x))) == NULL)
				continue;
			fprintf(fd, "%s%s", i ? ", " : "", o->label.de ? o->label.de : o->value);
			fprintf(fe, "%s%s", i ? ", " : "", o->label.en ? o->label.en : o->value);
		}
		fclose(fd);
		fclose(fe);
		out = json_pack("{s:s, s:s}", "de", de, "en", en);
		free(de);
		free(en);
		return out;
	}
	case BB_F_DATE:
		if (json_is_string(v) && is_iso_date(json_string_value(v))) {
			date_local(json_string_value(v), buf);
			return json_string(buf);
		}
		break;
	default:
		break;
	}
	if (json_is_string(v))
		return json_incref((json_t *)v);
	if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		return json_string(buf);
	}
	if (json_is_real(v)) {
		snprintf(buf, sizeof buf, "%g", json_real_value(v));
		return json_string(buf);
	}
	return json_pack("{s:s}", "key", "ask.empty");
}

static void
add_choice(json_t *page, const char *choice)
{
	json_array_append_new(json_object_get(page, "choices"), json_string(choice));
}

static void
set_error(struct bb_ask *a, json_t *item, const char *path)
{
	json_t *err = json_object_get(a->errors, path);

	if (err != NULL)
		json_object_set(item, "error", err);
}

static void items_of(struct bb_ask *a, json_t *page, json_t *items,
    const struct bb_field *fields, size_t n, json_t *container, const char *prefix,
    int nested);

/* One field of a page: an input, a locked value, a group of parts, or a repeated group's
 * entries with their remove and add. */
static void
item_of(struct bb_ask *a, json_t *page, json_t *items, const struct bb_field *f,
    json_t *container, const char *path)
{
	json_t *v = json_object_get(container, f->name), *it;
	char sub[MAX_PATH + 24], choice[MAX_PATH + 32];
	size_t i;

	if (f->locked && json_object_get(a->fl.prefilled, path) != NULL) {
		it = json_pack("{s:s, s:s, s:o, s:o}", "kind", "locked", "path", path, "label",
		    text_json(&f->label), "value", display(f, v));
		json_array_append_new(items, it);
		return;
	}
	if (f->nfields > 0 && !f->repeat) {
		json_t *parts = json_array();
		if (!json_is_object(v)) {
			v = json_object();
			json_object_set_new(container, f->name, v);
		}
		it = json_pack("{s:s, s:s, s:o, s:o}", "kind", "group", "path", path, "label",
		    text_json(&f->label), "items", parts);
		if (has_text(&f->help))
			json_object_set_new(it, "help", text_json(&f->help));
		set_error(a, it, path);
		json_array_append_new(items, it);
		json_array_append_new(a->shown, json_string(path));
		items_of(a, page, parts, f->fields, f->nfields, v, path, 1);
		return;
	}
	if (f->nfields > 0) {
		size_t n = json_is_array(v) ? json_array_size(v) : 0;
		json_array_append_new(a->shown, json_string(path));
		for (i = 0; i < n; i++) {
			json_t *parts = json_array(), *entry = json_array_get(v, i);
			if (!json_is_object(entry))
				continue;
			snprintf(sub, sizeof sub, "%s.%zu", path, i);
			snprintf(choice, sizeof choice, "remove:%s", sub);
			it = json_pack("{s:s, s:s, s:o, s:I, s:o, s:s}", "kind", "group", "path", sub,
			    "label", text_json(&f->label), "entry", (json_int_t)i + 1, "items", parts,
			    "remove", choice);
			add_choice(page, choice);
			json_array_append_new(items, it);
			items_of(a, page, parts, f->fields, f->nfields, entry, sub, 1);
		}
		it = json_pack("{s:s, s:s, s:o}", "kind", "add", "path", path, "label",
		    text_json(&f->label));
		if (has_text(&f->help))
			json_object_set_new(it, "help", text_json(&f->help));
		set_error(a, it, path);
		if ((long)n < f->repeat_max) {
			snprintf(choice, sizeof choice, "add:%s", path);
			json_object_set_new(it, "choice", json_string(choice));
			add_choice(page, choice);
		}
		json_array_append_new(items, it);
		return;
	}
	it = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:o}", "kind", "input", "path", path,
	    "type", bb_ftype_name(f->type), "kbd", kbd_of(f), "label", text_json(&f->label),
	    "required", f->required, "value", input_value(f, v));
	if (has_text(&f->help))
		json_object_set_new(it, "help", text_json(&f->help));
	if (has_text(&f->text))
		json_object_set_new(it, "text", text_json(&f->text));
	if (f->max_length > 0 && !f->max_length_implicit)
		json_object_set_new(it, "maxlength", json_integer(f->max_length));
	if (f->noptions > 0) {
		json_t *opts = json_array();
		for (i = 0; i < f->noptions; i++)
			json_array_append_new(opts, json_pack("{s:s, s:o}", "value",
			    f->options[i].value, "label", text_json(&f->options[i].label)));
		json_object_set_new(it, "options", opts);
	}
	set_error(a, it, path);
	json_array_append_new(items, it);
	json_array_append_new(a->shown, json_string(path));
}

static void
items_of(struct bb_ask *a, json_t *page, json_t *items, const struct bb_field *fields,
    size_t n, json_t *container, const char *prefix, int nested)
{
	char path[MAX_PATH];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!bb_fill_shown(&a->fl, a->f, &fields[i], nested ? fields : NULL,
		    nested ? n : 0, nested ? container : NULL))
			continue;
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
		    fields[i].name);
		item_of(a, page, items, &fields[i], container, path);
	}
}

/* Whether section i has anything to show or ask now. */
static int
section_shows(struct bb_ask *a, size_t i)
{
	const struct bb_section *s = &a->f->sections[i];
	size_t j;

	for (j = 0; j < s->nfields; j++)
		if (bb_fill_shown(&a->fl, a->f, &s->fields[j], NULL, 0, NULL))
			return 1;
	return 0;
}

static size_t
next_page(struct bb_ask *a, size_t from)
{
	size_t i;

	for (i = from; i < a->f->nsections; i++)
		if (section_shows(a, i))
			return i;
	return a->f->nsections;
}

/* The last page before `before` with something to show; `before` itself if none. */
static size_t
prev_page(struct bb_ask *a, size_t before)
{
	size_t i;

	for (i = before; i-- > 0;)
		if (section_shows(a, i))
			return i;
	return before;
}

static size_t
count_pages(struct bb_ask *a, size_t *index)
{
	size_t i, n = 0;

	for (i = 0; i < a->f->nsections; i++)
		if (section_shows(a, i)) {
			if (i == a->page)
				*index = n;
			n++;
		}
	return n;
}

int
bb_ask_begin(struct bb_ask *a, const struct bb_form *f, const json_t *c)
{
	memset(a, 0, sizeof *a);
	a->f = f;
	if (bb_fill_begin(&a->fl, f, c) != 0 || (a->errors = json_object()) == NULL ||
	    (a->shown = json_array()) == NULL)
		return -1;
	a->page = next_page(a, 0);
	return 0;
}

void
bb_ask_end(struct bb_ask *a)
{
	bb_json_wipe(a->fl.fields);
	bb_json_wipe(a->fl.prefilled);
	a->fl.fields = a->fl.prefilled = NULL;
	bb_json_wipe(a->errors);
	bb_json_wipe(a->shown);
	a->errors = a->shown = NULL;
}

/* The summary: every section shown, its answers as validated, a change button each. */
static json_t *
summary(struct bb_ask *a, json_t *page)
{
	struct bb_problems p = { 0 };
	struct bb_fill copy = { json_deep_copy(a->fl.fields), a->fl.prefilled };
	json_t *items = json_object_get(page, "items");
	char choice[32];
	size_t i, j, k;

	bb_fill_validate(&copy, a->f, &p);
	bb_problems_free(&p);
	for (i = 0; i < a->f->nsections; i++) {
		const struct bb_section *s = &a->f->sections[i];
		json_t *rows = json_array(), *sec;
		for (j = 0; j < s->nfields; j++) {
			const struct bb_field *f = &s->fields[j];
			json_t *v = json_object_get(copy.fields, f->name);
			if (!bb_fill_shown(&a->fl, a->f, f, NULL, 0, NULL))
				continue;
			if (f->nfields == 0) {
				json_array_append_new(rows, json_pack("{s:o, s:o}", "label",
				    text_json(&f->label), "value", display(f, v)));
				continue;
			}
			/* A group: its label, then its parts (each entry of a repeated one). */
			for (k = 0; k < (f->repeat ? (json_is_array(v) ? json_array_size(v) : 0) :
			    1); k++) {
				json_t *item = f->repeat ? json_array_get(v, k) : v;
				size_t m;
				json_t *head = json_pack("{s:o, s:b}", "label", text_json(&f->label),
				    "heading", 1);
				if (f->repeat)
					json_object_set_new(head, "entry", json_integer((json_int_t)k + 1));
				json_array_append_new(rows, head);
				for (m = 0; m < f->nfields; m++) {
					json_t *pv = json_object_get(item, f->fields[m].name);
					if (pv == NULL)
						continue;
					json_array_append_new(rows, json_pack("{s:o, s:o}", "label",
					    text_json(&f->fields[m].label), "value",
					    display(&f->fields[m], pv)));
				}
			}
			if (f->repeat && (!json_is_array(v) || json_array_size(v) == 0))
				json_array_append_new(rows, json_pack("{s:o, s:o}", "label",
				    text_json(&f->label), "value", display(f, NULL)));
		}
		if (json_array_size(rows) == 0) {
			json_decref(rows);
			continue;
		}
		snprintf(choice, sizeof choice, "edit:%zu", i);
		sec = json_pack("{s:s, s:o, s:o, s:s}", "kind", "section", "title",
		    text_json(&s->title), "rows", rows, "edit", choice);
		json_array_append_new(items, sec);
		add_choice(page, choice);
	}
	bb_json_wipe(copy.fields);
	add_choice(page, "send");
	add_choice(page, "back");
	return page;
}

json_t *
bb_ask_page(struct bb_ask *a)
{
	json_t *page;
	size_t index = 0, total;

	json_array_clear(a->shown);
	page = json_pack("{s:s, s:o, s:[], s:[s, s]}", "form", a->f->id, "title",
	    text_json(&a->f->title), "items", "choices", "cancel", "refresh");
	if (page == NULL)
		return NULL;
	total = count_pages(a, &index);
	if (a->page >= a->f->nsections) {
		json_object_set_new(page, "kind", json_string("summary"));
		json_object_set_new(page, "step", json_pack("[I, I]", (json_int_t)total + 1,
		    (json_int_t)total + 1));
		return summary(a, page);
	}
	json_object_set_new(page, "kind", json_string("page"));
	json_object_set_new(page, "step", json_pack("[I, I]", (json_int_t)index + 1,
	    (json_int_t)total + 1));
	json_object_set_new(page, "section", text_json(&a->f->sections[a->page].title));
	if (has_text(&a->f->sections[a->page].help))
		json_object_set_new(page, "help", text_json(&a->f->sections[a->page].help));
	items_of(a, page, json_object_get(page, "items"), a->f->sections[a->page].fields,
	    a->f->sections[a->page].nfields, a->fl.fields, "", 0);
	add_choice(page, "next");
	if (prev_page(a, a->page) != a->page)
		add_choice(page, "back");
	if (json_object_size(a->errors) > 0)
		json_object_set_new(page, "errors", json_integer((json_int_t)
		    json_object_size(a->errors)));
	return page;
}

static int
shown_has(const struct bb_ask *a, const char *path)
{
	json_t *x;
	size_t i;

	json_array_foreach(a->shown, i, x)
		if (strcmp(json_string_value(x), path) == 0)
			return 1;
	return 0;
}

/* Applies the page's answers: every input shown gets what came back, nothing else. */
static void
apply(struct bb_ask *a, const json_t *answers)
{
	struct bb_problems p = { 0 };
	json_t *x;
	size_t i;

	json_array_foreach(a->shown, i, x) {
		const char *path = json_string_value(x);
		const json_t *v = json_object_get(answers, path);
		char *joined = NULL;
		const char *s;
		size_t len = 0;

		if (v == NULL && !json_is_object(answers))
			continue;
		if (json_is_array(v)) {
			FILE *m = open_memstream(&joined, &len);
			json_t *y;
			size_t j;
			if (m == NULL)
				continue;
			json_array_foreach(v, j, y)
				if (json_is_string(y))
					fprintf(m, "%s%s", j ? "," : "", json_string_value(y));
			fclose(m);
			s = joined;
		} else {
			s = json_is_string(v) ? json_string_value(v) : "";
		}
		/* A group's own path takes no value; a checkbox not ticked says no. */
		if (strchr(path, '.') == NULL && bb_form_field(a->f, path) != NULL &&
		    bb_form_field(a->f, path)->nfields > 0) {
			free(joined);
			continue;
		}
		if (v == NULL) {
			/* Which field: the last component names it among its siblings. */
			const struct bb_field *f = NULL;
			char copy[MAX_PATH], *c, *save = NULL;
			snprintf(copy, sizeof copy, "%s", path);
			for (c = strtok_r(copy, ".", &save); c != NULL; c = strtok_r(NULL, ".",
			    &save)) {
				size_t k;
				if (f == NULL) {
					f = bb_form_field(a->f, c);
					continue;
				}
				if (c[0] >= '0' && c[0] <= '9')
					continue;
				for (k = 0; k < f->nfields; k++)
					if (strcmp(f->fields[k].name, c) == 0)
						break;
				f = k < f->nfields ? &f->fields[k] : NULL;
				if (f == NULL)
					break;
			}
			if (f != NULL && f->nfields > 0) {
				free(joined);
				continue;
			}
			if (f != NULL && f->type == BB_F_CHECKBOX)
				s = "no";
		}
		(void)bb_fill_set(&a->fl, a->f, path, s, &p);
		if (joined != NULL) {
			explicit_bzero(joined, len);
			free(joined);
		}
	}
	bb_problems_free(&p);
}

/* The reasons the validator gives for the page's paths (every page's with all). */
static void
judge(struct bb_ask *a, int all, size_t *first_page)
{
	struct bb_problems p = { 0 };
	struct bb_fill copy = { json_deep_copy(a->fl.fields), a->fl.prefilled };
	size_t i;

	json_object_clear(a->errors);
	bb_fill_validate(&copy, a->f, &p);
	*first_page = a->f->nsections;
	for (i = 0; i < p.n; i++) {
		char path[MAX_PATH], top[MAX_PATH];
		const char *colon = strstr(p.msg[i], ": ");
		const struct bb_field *f;
		json_t *args = json_object();
		size_t s, j;
		if (colon == NULL || (size_t)(colon - p.msg[i]) >= sizeof path) {
			json_decref(args);
			continue;
		}
		snprintf(path, sizeof path, "%.*s", (int)(colon - p.msg[i]), p.msg[i]);
		if (!all && !shown_has(a, path)) {
			json_decref(args);
			continue;
		}
		snprintf(top, sizeof top, "%.*s", (int)strcspn(path, "."), path);
		if ((f = bb_form_field(a->f, top)) != NULL)
			for (s = 0; s < a->f->nsections; s++)
				for (j = 0; j < a->f->sections[s].nfields; j++)
					if (&a->f->sections[s].fields[j] == f && s < *first_page)
						*first_page = s;
		json_object_set_new(a->errors, path, json_pack("{s:s, s:o}", "key",
		    bb_reason_key(colon + 2, args), "args", args));
	}
	bb_problems_free(&p);
	bb_json_wipe(copy.fields);
}

/* Whether the page would now show other inputs than it did (a show_if answered). */
static int
page_changed(struct bb_ask *a)
{
	json_t *before = json_deep_copy(a->shown), *page;
	int changed;

	page = bb_ask_page(a);
	json_decref(page);
	changed = !json_equal(before, a->shown);
	json_decref(before);
	return changed;
}

static int
change_entries(struct bb_ask *a, const char *choice)
{
	struct bb_problems p = { 0 };
	char path[MAX_PATH], *dot;
	json_t *list;
	int add = strncmp(choice, "add:", 4) == 0;

	snprintf(path, sizeof path, "%s", choice + (add ? 4 : 7));
	if (!add) {
		/* remove:NAME.N: the entry N of NAME. */
		if ((dot = strrchr(path, '.')) == NULL)
			return BB_ASK_SHOW;
		*dot++ = '\0';
	}
	/* Setting a part creates the path to it; then the list is at hand. */
	if (strchr(path, '.') != NULL) {
		char *last = strrchr(path, '.');
		*last = '\0';
		list = json_object_get(json_object_get(a->fl.fields, path), last + 1);
		*last = '.';
	} else {
		list = json_object_get(a->fl.fields, path);
	}
	if (add) {
		if (!json_is_array(list)) {
			list = json_array();
			if (strchr(path, '.') == NULL)
				json_object_set_new(a->fl.fields, path, list);
			else {
				json_decref(list);
				return BB_ASK_SHOW;
			}
		}
		json_array_append_new(list, json_object());
	} else if (json_is_array(list)) {
		size_t n = strtoul(dot, NULL, 10);
		json_t *gone = json_array_get(list, n);
		if (gone != NULL) {
			json_incref(gone);
			json_array_remove(list, n);
			bb_json_wipe(gone);
		}
	}
	bb_problems_free(&p);
	return BB_ASK_SHOW;
}

int
bb_ask_answer(struct bb_ask *a, const char *choice, const json_t *answers)
{
	size_t first;

	if (strcmp(choice, "cancel") == 0)
		return BB_ASK_CANCEL;
	if (a->page < a->f->nsections)
		apply(a, answers);
	json_object_clear(a->errors);
	if (strncmp(choice, "add:", 4) == 0 || strncmp(choice, "remove:", 7) == 0)
		return change_entries(a, choice);
	if (strcmp(choice, "back") == 0) {
		a->page = prev_page(a, a->page);
		a->editing = 0;
		return BB_ASK_SHOW;
	}
	if (strncmp(choice, "edit:", 5) == 0) {
		size_t i = strtoul(choice + 5, NULL, 10);
		if (i < a->f->nsections && section_shows(a, i)) {
			a->page = i;
			a->editing = 1;
		}
		return BB_ASK_SHOW;
	}
	if (strcmp(choice, "next") == 0 && a->page < a->f->nsections) {
		/* The page's inputs as shown, for its reasons; then what it shows now. */
		json_t *was = json_deep_copy(a->shown);
		judge(a, 0, &first);
		json_decref(a->shown);
		a->shown = was;
		if (page_changed(a)) {
			/* A new field appeared: ask it before judging the page whole. The reasons
			 * of what was shown stay; the new ones are not the person's mistakes. */
			return BB_ASK_SHOW;
		}
		if (json_object_size(a->errors) > 0)
			return BB_ASK_SHOW;
		a->page = a->editing ? a->f->nsections : next_page(a, a->page + 1);
		return BB_ASK_SHOW;
	}
	if (strcmp(choice, "send") == 0 && a->page >= a->f->nsections) {
		judge(a, 1, &first);
		if (json_object_size(a->errors) == 0)
			return BB_ASK_DONE;
		a->page = first < a->f->nsections ? first : next_page(a, 0);
		a->editing = 1;
		return BB_ASK_SHOW;
	}
	return BB_ASK_SHOW;	/* refresh, or a choice the page did not offer */
}

json_t *
bb_ask_part(struct bb_ask *a, struct bb_problems *p)
{
	struct bb_fill copy = { json_deep_copy(a->fl.fields), a->fl.prefilled };
	json_t *part = NULL;
	size_t before = p->n;

	bb_fill_validate(&copy, a->f, p);
	if (p->n == before)
		part = bb_fill_part(&copy, a->f);
	bb_json_wipe(copy.fields);
	return part;
}
