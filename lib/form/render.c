/* The form as others see it: a JSON model for screens, and text for a person reading a
 * definition. Reads the model only; validation lives in fill.c and value.c. */
#include "form.h"

#include <string.h>

static json_t *
text_json(const struct bb_text *t)
{
	if (t->de == NULL && t->en == NULL)
		return NULL;
	return json_pack("{s:s?, s:s?}", "de", t->de, "en", t->en);
}

static void
set_opt(json_t *o, const char *k, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, k, v);
}

static json_t *
fields_json(const struct bb_field *fields, size_t n)
{
	json_t *arr = json_array();
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct bb_field *f = &fields[i];
		json_t *o = json_pack("{s:s, s:s, s:b}", "name", f->name, "type",
		    bb_ftype_name(f->type), "required", f->required);
		set_opt(o, "label", text_json(&f->label));
		set_opt(o, "help", text_json(&f->help));
		set_opt(o, "text", text_json(&f->text));
		if (f->pattern)
			set_opt(o, "pattern", json_string(f->pattern));
		if (f->min_length >= 0)
			set_opt(o, "min_length", json_integer(f->min_length));
		if (f->max_length >= 0)
			set_opt(o, "max_length", json_integer(f->max_length));
		if (f->type == BB_F_DATE) {
			if (f->dmin.set)
				set_opt(o, "min", json_string(f->dmin.spec));
			if (f->dmax.set)
				set_opt(o, "max", json_string(f->dmax.spec));
		} else {
			if (f->has_min)
				set_opt(o, "min", json_real(f->min));
			if (f->has_max)
				set_opt(o, "max", json_real(f->max));
		}
		if (f->integer)
			set_opt(o, "integer", json_true());
		if (f->noptions > 0) {
			json_t *opts = json_array();
			for (j = 0; j < f->noptions; j++)
				json_array_append_new(opts, json_pack("{s:s, s:o}", "value",
				    f->options[j].value, "label", text_json(&f->options[j].label)));
			set_opt(o, "options", opts);
		}
		if (f->show_if.target != NULL)
			set_opt(o, "show_if", json_pack("{s:s, s:O}", "field", f->show_if.field,
			    "in", f->show_if.values));
		if (f->prefill)
			set_opt(o, "prefill", json_string(f->prefill));
		if (f->locked)
			set_opt(o, "locked", json_true());
		if (f->def)
			set_opt(o, "default", json_incref(f->def));
		if (f->repeat)
			set_opt(o, "repeat", json_pack("{s:I, s:I}", "min",
			    (json_int_t)f->repeat_min, "max", (json_int_t)f->repeat_max));
		if (f->nfields > 0)
			set_opt(o, "fields", fields_json(f->fields, f->nfields));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *
bb_form_to_json(const struct bb_form *f)
{
	json_t *o, *secs = json_array();
	size_t i;

	for (i = 0; i < f->nsections; i++) {
		const struct bb_section *s = &f->sections[i];
		json_t *so = json_pack("{s:s, s:o}", "id", s->id, "title", text_json(&s->title));
		set_opt(so, "help", text_json(&s->help));
		set_opt(so, "fields", fields_json(s->fields, s->nfields));
		json_array_append_new(secs, so);
	}
	o = json_pack("{s:s, s:I, s:o, s:s, s:s}", "id", f->id, "version",
	    (json_int_t)f->version, "title", text_json(&f->title), "leika", f->leika,
	    "target", f->target);
	set_opt(o, "help", text_json(&f->help));
	set_opt(o, "needs", bb_needs_json(f->needs));
	set_opt(o, "sections", secs);
	return o;
}

/* Words of the text rendering in both languages. */
struct words {
	const char *required, *from_card, *locked, *entries, *shown_if, *options,
	    *at_most_chars, *version, *yes, *no;
};

static const struct words de_words = {
	"Pflichtfeld", "vom Ausweis", "nicht änderbar", "Einträge", "nur wenn", "Auswahl",
	"höchstens %ld Zeichen", "Version", "ja", "nein",
};
static const struct words en_words = {
	"required", "from the ID card", "cannot be changed", "entries", "only if", "choices",
	"at most %ld characters", "version", "yes", "no",
};

static const char *
tr(const struct bb_text *t, int en)
{
	const char *s = en ? t->en : t->de;
	return s != NULL ? s : (t->de != NULL ? t->de : "");
}

/* "only if <label>: <value>, <value>" with option labels where the values are options. */
static void
print_condition(FILE *out, const struct bb_condition *c, int indent, int en)
{
	const struct bb_field *t = c->target;
	const struct words *w = en ? &en_words : &de_words;
	json_t *v;
	size_t i, j;

	fprintf(out, "%*s  %s %s:", indent, "", w->shown_if, tr(&t->label, en));
	json_array_foreach(c->values, i, v) {
		const char *shown = NULL;
		char buf[64];
		if (json_is_string(v)) {
			shown = json_string_value(v);
			for (j = 0; j < t->noptions; j++)
				if (strcmp(t->options[j].value, shown) == 0)
					shown = tr(&t->options[j].label, en);
		} else if (json_is_boolean(v)) {
			shown = json_is_true(v) ? w->yes : w->no;
		} else {
			snprintf(buf, sizeof buf, "%g", json_number_value(v));
			shown = buf;
		}
		fprintf(out, "%s %s", i ? "," : "", shown);
	}
	fputc('\n', out);
}

static void
print_fields(FILE *out, const struct bb_field *fields, size_t n, int indent, int en)
{
	const struct words *w = en ? &en_words : &de_words;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct bb_field *f = &fields[i];
		fprintf(out, "%*s- %s%s  [%s", indent, "", tr(&f->label, en),
		    f->required ? " *" : "", bb_ftype_name(f->type));
		if (f->repeat)
			fprintf(out, ", %ld-%ld %s", f->repeat_min, f->repeat_max, w->entries);
		if (f->type == BB_F_DATE && (f->dmin.set || f->dmax.set))
			fprintf(out, ", %s .. %s", f->dmin.set ? f->dmin.spec : "",
			    f->dmax.set ? f->dmax.spec : "");
		if (f->type == BB_F_NUMBER && (f->has_min || f->has_max)) {
			fprintf(out, ", ");
			if (f->has_min)
				fprintf(out, "%g", f->min);
			fprintf(out, "..");
			if (f->has_max)
				fprintf(out, "%g", f->max);
		}
		if (f->type == BB_F_TEXT && f->max_length >= 0 && !f->max_length_implicit) {
			fprintf(out, ", ");
			fprintf(out, w->at_most_chars, f->max_length);
		}
		if (f->prefill)
			fprintf(out, ", %s", w->from_card);
		if (f->locked)
			fprintf(out, ", %s", w->locked);
		fprintf(out, "]  (%s)\n", f->name);
		if (f->show_if.target != NULL)
			print_condition(out, &f->show_if, indent, en);
		if (f->help.de)
			fprintf(out, "%*s  %s\n", indent, "", tr(&f->help, en));
		if (f->text.de)
			fprintf(out, "%*s  %s\n", indent, "", tr(&f->text, en));
		for (j = 0; j < f->noptions; j++)
			fprintf(out, "%*s  ( ) %s  (%s)\n", indent, "", tr(&f->options[j].label, en),
			    f->options[j].value);
		if (f->nfields > 0)
			print_fields(out, f->fields, f->nfields, indent + 4, en);
	}
}

int
bb_form_print_text(FILE *out, const struct bb_form *f, const char *lang)
{
	int en = lang != NULL && strcmp(lang, "en") == 0;
	size_t i;

	fprintf(out, "%s\n", tr(&f->title, en));
	fprintf(out, "%s %s %ld, %s\n", f->id, (en ? &en_words : &de_words)->version,
	    f->version, f->leika);
	if (f->help.de)
		fprintf(out, "\n%s\n", tr(&f->help, en));
	for (i = 0; i < f->nsections; i++) {
		const struct bb_section *s = &f->sections[i];
		fprintf(out, "\n%s\n", tr(&s->title, en));
		if (s->help.de)
			fprintf(out, "%s\n", tr(&s->help, en));
		print_fields(out, s->fields, s->nfields, 2, en);
	}
	fprintf(out, "\n* %s\n", (en ? &en_words : &de_words)->required);
	return ferror(out) ? -1 : 0;
}
