/* Loading and linting a service definition (bb-form(5)). Every problem is collected with
 * its FILE:LINE, so `bb-form check` reports them all in one run. */
#include "form.h"
#include "diag.h"
#include "exit.h"
#include "yamltree.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Which keys a field of each type may have. */
enum {
	K_NAME = 1 << 0, K_TYPE = 1 << 1, K_LABEL = 1 << 2, K_HELP = 1 << 3,
	K_REQUIRED = 1 << 4, K_PATTERN = 1 << 5, K_LENGTH = 1 << 6, K_MINMAX = 1 << 7,
	K_INTEGER = 1 << 8, K_OPTIONS = 1 << 9, K_TEXT = 1 << 10, K_SHOWIF = 1 << 11,
	K_PREFILL = 1 << 12, K_LOCKED = 1 << 13, K_DEFAULT = 1 << 14, K_REPEAT = 1 << 15,
	K_FIELDS = 1 << 16,
};
#define K_COMMON (K_NAME | K_TYPE | K_LABEL | K_HELP | K_REQUIRED | K_SHOWIF)
#define K_SCALAR (K_COMMON | K_PREFILL | K_LOCKED | K_DEFAULT)

static const struct {
	const char *name;
	unsigned keys;
} types[] = {
	[BB_F_TEXT] = { "text", K_SCALAR | K_PATTERN | K_LENGTH },
	[BB_F_NUMBER] = { "number", K_SCALAR | K_MINMAX | K_INTEGER },
	[BB_F_DATE] = { "date", K_SCALAR | K_MINMAX },
	[BB_F_SELECT] = { "select", K_SCALAR | K_OPTIONS },
	[BB_F_MULTI] = { "multi-select", K_SCALAR | K_OPTIONS | K_MINMAX },
	[BB_F_CHECKBOX] = { "checkbox", K_SCALAR },
	[BB_F_CONSENT] = { "consent", K_COMMON | K_TEXT },
	[BB_F_EMAIL] = { "email", K_SCALAR | K_LENGTH },
	[BB_F_PHONE] = { "phone", K_SCALAR | K_LENGTH },
	[BB_F_POSTAL] = { "postal-code", K_SCALAR },
	[BB_F_IBAN] = { "iban", K_SCALAR },
	[BB_F_COUNTRY] = { "country", K_SCALAR },
	[BB_F_ADDRESS] = { "address", K_COMMON | K_PREFILL | K_LOCKED | K_REPEAT },
	[BB_F_GROUP] = { "group", K_COMMON | K_REPEAT | K_FIELDS },
};
#define NTYPES (sizeof types / sizeof types[0])

static const struct {
	const char *key;
	unsigned bit;
} field_keys[] = {
	{ "name", K_NAME }, { "type", K_TYPE }, { "label", K_LABEL }, { "help", K_HELP },
	{ "required", K_REQUIRED }, { "pattern", K_PATTERN }, { "min_length", K_LENGTH },
	{ "max_length", K_LENGTH }, { "min", K_MINMAX }, { "max", K_MINMAX },
	{ "integer", K_INTEGER }, { "options", K_OPTIONS }, { "text", K_TEXT },
	{ "show_if", K_SHOWIF }, { "prefill", K_PREFILL }, { "locked", K_LOCKED },
	{ "default", K_DEFAULT }, { "repeat", K_REPEAT }, { "fields", K_FIELDS },
};
#define NFIELDKEYS (sizeof field_keys / sizeof field_keys[0])

/* What a service may need besides the answers, in the order a flow takes them: the
 * person signs last, having seen everything. */
static const struct {
	const char *name;
	unsigned bit;
} needs[BB_NEEDS] = {
	{ "photo", BB_NEED_PHOTO },
	{ "signature", BB_NEED_SIGNATURE },
};

/* Longest text a field takes when the definition sets no max_length. */
#define BB_TEXT_MAX_DEFAULT 1000

struct ctx {
	const char *file;
	struct bb_problems *p;
};

void
bb_problems_add(struct bb_problems *p, const char *fmt, ...)
{
	char line[768], **msg;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if ((msg = realloc(p->msg, (p->n + 1) * sizeof *msg)) == NULL)
		return;
	p->msg = msg;
	if ((msg[p->n] = strdup(line)) != NULL)
		p->n++;
}

void
bb_problems_free(struct bb_problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->msg[i]);
	free(p->msg);
	p->msg = NULL;
	p->n = 0;
}

#define PROBLEM(c, line, ...) problem((c), (line), __VA_ARGS__)

static void __attribute__((format(printf, 3, 4)))
problem(struct ctx *c, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bb_problems_add(c->p, "%s:%d: %s", c->file, line, msg);
}

const char *
bb_ftype_name(enum bb_ftype t)
{
	return (size_t)t < NTYPES ? types[t].name : "?";
}

const char *
bb_need_name(size_t i)
{
	return i < BB_NEEDS ? needs[i].name : NULL;
}

unsigned
bb_need_bit(size_t i)
{
	return i < BB_NEEDS ? needs[i].bit : 0;
}

json_t *
bb_needs_json(unsigned bits)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < BB_NEEDS; i++)
		if ((bits & needs[i].bit) && json_array_append_new(a,
		    json_string(needs[i].name)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int
is_ident(const char *s, int dash)
{
	if (!((*s >= 'a' && *s <= 'z') || (dash && *s >= '0' && *s <= '9')))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		    (dash && *s == '-')))
			return 0;
	return 1;
}

static char *
get_str(struct ctx *c, const struct bb_ynode *map, const char *key, int required)
{
	const struct bb_ynode *n = bb_yaml_get(map, key);
	char *s;

	if (n == NULL) {
		if (required)
			PROBLEM(c, map->line, "missing '%s'", key);
		return NULL;
	}
	if (n->kind != BB_Y_SCALAR || n->str[0] == '\0') {
		PROBLEM(c, n->line, "%s: expected a non-empty string", key);
		return NULL;
	}
	s = strdup(n->str);
	return s;
}

static int
get_bool(struct ctx *c, const struct bb_ynode *map, const char *key)
{
	const struct bb_ynode *n = bb_yaml_get(map, key);
	int b = 0;

	if (n != NULL && bb_yaml_bool(n, &b) != 0)
		PROBLEM(c, n->line, "%s: expected true or false", key);
	return b;
}

static int
get_long(struct ctx *c, const struct bb_ynode *map, const char *key, long *out)
{
	const struct bb_ynode *n = bb_yaml_get(map, key);
	long long v;

	if (n == NULL)
		return 0;
	if (bb_yaml_long(n, &v) != 0 || v < 0 || v > 1000000) {
		PROBLEM(c, n->line, "%s: expected a whole number from 0 to 1000000", key);
		return 0;
	}
	*out = (long)v;
	return 1;
}

static void
get_text(struct ctx *c, const struct bb_ynode *map, const char *key, int required,
    struct bb_text *t)
{
	const struct bb_ynode *n = bb_yaml_get(map, key), *de, *en;
	size_t i;

	if (n == NULL) {
		if (required)
			PROBLEM(c, map->line, "missing '%s'", key);
		return;
	}
	if (n->kind != BB_Y_MAP) {
		PROBLEM(c, n->line, "%s: expected a text in German and English ({de: …, en: …})",
		    key);
		return;
	}
	for (i = 0; i < n->n; i++)
		if (strcmp(n->keys[i], "de") != 0 && strcmp(n->keys[i], "en") != 0)
			PROBLEM(c, n->key_lines[i], "%s: unknown language '%s' (de, en)", key,
			    n->keys[i]);
	de = bb_yaml_get(n, "de");
	en = bb_yaml_get(n, "en");
	if (de == NULL || de->kind != BB_Y_SCALAR || de->str[0] == '\0')
		PROBLEM(c, n->line, "%s: missing the German text (de)", key);
	else
		t->de = strdup(de->str);
	if (en == NULL || en->kind != BB_Y_SCALAR || en->str[0] == '\0')
		PROBLEM(c, n->line, "%s: missing the English text (en)", key);
	else
		t->en = strdup(en->str);
}

/* Leaves t empty: a slot that is loaded again (an option without a value) must not
 * keep pointers to what was freed. */
static void
free_text(struct bb_text *t)
{
	free(t->de);
	free(t->en);
	t->de = t->en = NULL;
}

static void
unknown_keys(struct ctx *c, const struct bb_ynode *map, const char *const *allowed,
    const char *what)
{
	size_t i, j;

	for (i = 0; i < map->n; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(map->keys[i], allowed[j]) == 0)
				break;
		if (allowed[j] == NULL)
			PROBLEM(c, map->key_lines[i], "unknown key '%s' in %s", map->keys[i], what);
	}
}

/* Reads "2026-01-01", "today", "today-14d", "today+6m". */
static int
parse_datebound(const char *s, struct bb_datebound *b)
{
	char *end;
	long n;

	memset(b, 0, sizeof *b);
	if (strncmp(s, "today", 5) == 0) {
		b->relative = 1;
		s += 5;
		if (*s == '\0') {
			b->unit = 'd';
		} else {
			if (*s != '+' && *s != '-')
				return -1;
			if (s[1] < '0' || s[1] > '9')
				return -1;
			n = strtol(s, &end, 10);
			if (n < -10000 || n > 10000 || strchr("dwmy", *end) == NULL ||
			    *end == '\0' || end[1] != '\0')
				return -1;
			b->amount = (int)n;
			b->unit = *end;
		}
	} else if (bb_date_parse(s, b->date) != 0) {
		return -1;
	}
	b->set = 1;
	return 0;
}

static void load_fields(struct ctx *c, const struct bb_ynode *seq, struct bb_field **out,
    size_t *nout, const char *scope);

static void
load_options(struct ctx *c, const struct bb_ynode *n, struct bb_field *f)
{
	static const char *const allowed[] = { "value", "label", NULL };
	size_t i, j;

	if (n == NULL) {
		PROBLEM(c, f->line, "%s: a %s needs options", f->name, bb_ftype_name(f->type));
		return;
	}
	if (n->kind != BB_Y_SEQ || n->n == 0) {
		PROBLEM(c, n->line, "%s: options: expected a non-empty list", f->name);
		return;
	}
	f->options = calloc(n->n, sizeof *f->options);
	if (f->options == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		const struct bb_ynode *o = n->items[i];
		struct bb_option *opt = &f->options[f->noptions];
		if (o->kind != BB_Y_MAP) {
			PROBLEM(c, o->line, "%s: an option is {value: …, label: {de, en}}", f->name);
			continue;
		}
		unknown_keys(c, o, allowed, "an option");
		opt->value = get_str(c, o, "value", 1);
		get_text(c, o, "label", 1, &opt->label);
		if (opt->value == NULL) {
			free_text(&opt->label);
			continue;
		}
		if (!is_ident(opt->value, 1))
			PROBLEM(c, o->line, "%s: option value '%s': use a-z, 0-9, '_' and '-'",
			    f->name, opt->value);
		for (j = 0; j < f->noptions; j++)
			if (strcmp(f->options[j].value, opt->value) == 0)
				PROBLEM(c, o->line, "%s: option value '%s' given twice", f->name,
				    opt->value);
		f->noptions++;
	}
}

static void
load_minmax(struct ctx *c, const struct bb_ynode *map, struct bb_field *f)
{
	const char *keys[2] = { "min", "max" };
	int i;

	for (i = 0; i < 2; i++) {
		const struct bb_ynode *n = bb_yaml_get(map, keys[i]);
		double v;
		if (n == NULL)
			continue;
		if (f->type == BB_F_DATE) {
			struct bb_datebound *b = i ? &f->dmax : &f->dmin;
			if (n->kind != BB_Y_SCALAR || parse_datebound(n->str, b) != 0)
				PROBLEM(c, n->line, "%s: %s: expected a date (YYYY-MM-DD) or today, "
				    "today-N or today+N with d, w, m or y", f->name, keys[i]);
			else
				b->spec = strdup(n->str);
			continue;
		}
		if (bb_yaml_double(n, &v) != 0 || v != v) {
			PROBLEM(c, n->line, "%s: %s: expected a number", f->name, keys[i]);
			continue;
		}
		if (f->type == BB_F_MULTI && (v < 0 || v != (long)v)) {
			PROBLEM(c, n->line, "%s: %s: expected a count of options", f->name, keys[i]);
			continue;
		}
		if (i) {
			f->has_max = 1;
			f->max = v;
		} else {
			f->has_min = 1;
			f->min = v;
		}
	}
	if (f->has_min && f->has_max && f->min > f->max)
		PROBLEM(c, f->line, "%s: min is larger than max", f->name);
	if (f->type == BB_F_DATE && f->dmin.set && f->dmax.set && !f->dmin.relative &&
	    !f->dmax.relative && strcmp(f->dmin.date, f->dmax.date) > 0)
		PROBLEM(c, f->line, "%s: min is later than max", f->name);
}

static void
load_repeat(struct ctx *c, const struct bb_ynode *n, struct bb_field *f)
{
	static const char *const allowed[] = { "min", "max", NULL };

	if (n == NULL)
		return;
	if (n->kind != BB_Y_MAP) {
		PROBLEM(c, n->line, "%s: repeat: expected {min: N, max: M}", f->name);
		return;
	}
	unknown_keys(c, n, allowed, "repeat");
	f->repeat = 1;
	f->repeat_min = 0;
	f->repeat_max = 100;
	get_long(c, n, "min", &f->repeat_min);
	if (!get_long(c, n, "max", &f->repeat_max))
		PROBLEM(c, n->line, "%s: repeat: missing max", f->name);
	if (f->repeat_max < 1 || f->repeat_min > f->repeat_max)
		PROBLEM(c, n->line, "%s: repeat: need 1 <= max and min <= max", f->name);
}

/* The parts of an address, the same in every form. */
static void
address_parts(struct bb_field *f)
{
	static const struct {
		const char *name, *de, *en;
		enum bb_ftype type;
		int required;
	} parts[] = {
		{ "street", "Straße und Hausnummer", "Street and house number", BB_F_TEXT, 1 },
		{ "addition", "Adresszusatz", "Address line 2", BB_F_TEXT, 0 },
		{ "postal_code", "Postleitzahl", "Postal code", BB_F_TEXT, 1 },
		{ "city", "Ort", "City", BB_F_TEXT, 1 },
		{ "country", "Staat", "Country", BB_F_COUNTRY, 0 },
	};
	size_t i, n = sizeof parts / sizeof parts[0];

	if ((f->fields = calloc(n, sizeof *f->fields)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		struct bb_field *p = &f->fields[i];
		p->name = strdup(parts[i].name);
		p->type = parts[i].type;
		p->line = f->line;
		p->label.de = strdup(parts[i].de);
		p->label.en = strdup(parts[i].en);
		p->required = parts[i].required;
		p->min_length = -1;
		p->max_length = i == 2 ? 10 : 200;
		if (p->type == BB_F_COUNTRY)
			p->def = json_string("DE");
	}
	f->nfields = n;
}

static void
load_default(struct ctx *c, const struct bb_ynode *n, struct bb_field *f)
{
	char why[256];
	json_t *in;
	size_t i;

	if (n == NULL)
		return;
	if (n->kind == BB_Y_SCALAR) {
		int b;
		long long l;
		double d;
		if (!n->quoted && bb_yaml_bool(n, &b) == 0)
			in = json_boolean(b);
		else if (!n->quoted && bb_yaml_long(n, &l) == 0)
			in = json_integer(l);
		else if (!n->quoted && bb_yaml_double(n, &d) == 0)
			in = json_real(d);
		else
			in = json_string(n->str);
	} else if (n->kind == BB_Y_SEQ) {
		in = json_array();
		for (i = 0; i < n->n; i++)
			if (n->items[i]->kind == BB_Y_SCALAR)
				json_array_append_new(in, json_string(n->items[i]->str));
	} else {
		PROBLEM(c, n->line, "%s: default: expected a value", f->name);
		return;
	}
	f->def = bb_field_convert(f, in, why, sizeof why);
	json_decref(in);
	if (f->def == NULL)
		PROBLEM(c, n->line, "%s: default: %s", f->name, why);
}

/* The field's name and type (text when none); 0 when the type is unknown, and nothing
 * more of the field can be checked. */
static int
load_type(struct ctx *c, const struct bb_ynode *m, struct bb_field *f)
{
	size_t i;
	char *type;

	f->name = get_str(c, m, "name", 1);
	if (f->name == NULL)
		f->name = strdup("?");
	else if (!is_ident(f->name, 0))
		PROBLEM(c, m->line, "name '%s': use a-z, 0-9 and '_', starting with a letter",
		    f->name);
	type = get_str(c, m, "type", 1);
	f->type = BB_F_TEXT;
	if (type == NULL)
		return 1;
	for (i = 0; i < NTYPES; i++)
		if (strcmp(types[i].name, type) == 0)
			break;
	if (i == NTYPES)
		PROBLEM(c, bb_yaml_get(m, "type")->line, "%s: unknown type '%s'", f->name, type);
	else
		f->type = (enum bb_ftype)i;
	free(type);
	return i != NTYPES;
}

/* Every key is one a field of its type has. */
static void
check_keys(struct ctx *c, const struct bb_ynode *m, const struct bb_field *f)
{
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		for (j = 0; j < NFIELDKEYS; j++)
			if (strcmp(m->keys[i], field_keys[j].key) == 0)
				break;
		if (j == NFIELDKEYS)
			PROBLEM(c, m->key_lines[i], "%s: unknown key '%s'", f->name, m->keys[i]);
		else if (!(types[f->type].keys & field_keys[j].bit))
			PROBLEM(c, m->key_lines[i], "%s: a %s field has no '%s'", f->name,
			    types[f->type].name, m->keys[i]);
	}
}

/* min_length, max_length (a text's default when none) and pattern, anchored: it
 * matches the whole value. */
static void
load_text_rules(struct ctx *c, const struct bb_ynode *m, struct bb_field *f)
{
	size_t len;
	char *anchored;

	get_long(c, m, "min_length", &f->min_length);
	get_long(c, m, "max_length", &f->max_length);
	if (f->min_length >= 0 && f->max_length >= 0 && f->min_length > f->max_length)
		PROBLEM(c, m->line, "%s: min_length is larger than max_length", f->name);
	if (f->max_length < 0 && f->type == BB_F_TEXT) {
		f->max_length = BB_TEXT_MAX_DEFAULT;
		f->max_length_implicit = 1;
	}
	if ((f->pattern = get_str(c, m, "pattern", 0)) == NULL)
		return;
	len = strlen(f->pattern) + 5;
	if ((anchored = malloc(len)) == NULL)
		return;
	snprintf(anchored, len, "^(%s)$", f->pattern);
	if (regcomp(&f->re, anchored, REG_EXTENDED | REG_NOSUB) != 0)
		PROBLEM(c, bb_yaml_get(m, "pattern")->line,
		    "%s: pattern is not a valid extended regular expression", f->name);
	else
		f->has_re = 1;
	free(anchored);
}

/* prefill: a dotted path into the case; locked needs one. */
static void
load_prefill(struct ctx *c, const struct bb_ynode *m, struct bb_field *f)
{
	const char *s;
	int ok = 1;

	if ((f->prefill = get_str(c, m, "prefill", 0)) != NULL) {
		for (s = f->prefill; *s; s++)
			if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
			    *s == '_' || *s == '.'))
				ok = 0;
		if (!ok || f->prefill[0] == '.' || strstr(f->prefill, "..") ||
		    f->prefill[strlen(f->prefill) - 1] == '.')
			PROBLEM(c, bb_yaml_get(m, "prefill")->line,
			    "%s: prefill: expected a dotted path into the case "
			    "(identity.family_names)", f->name);
	}
	if (f->locked && f->prefill == NULL)
		PROBLEM(c, m->line, "%s: locked needs prefill", f->name);
}

/* show_if: {field: NAME, equals: VALUE} or {field: NAME, in: [VALUES]}. */
static void
load_show_if(struct ctx *c, const struct bb_ynode *n, struct bb_field *f)
{
	static const char *const allowed[] = { "field", "equals", "in", NULL };
	const struct bb_ynode *eq, *in;
	size_t i;

	if (n == NULL)
		return;
	f->show_if.line = n->line;
	if (n->kind != BB_Y_MAP) {
		PROBLEM(c, n->line, "%s: show_if: expected {field: NAME, equals: VALUE}",
		    f->name);
		return;
	}
	unknown_keys(c, n, allowed, "show_if");
	f->show_if.field = get_str(c, n, "field", 1);
	eq = bb_yaml_get(n, "equals");
	in = bb_yaml_get(n, "in");
	f->show_if.values = json_array();
	if ((eq == NULL) == (in == NULL))
		PROBLEM(c, n->line, "%s: show_if: give either equals or in", f->name);
	else if (eq != NULL && eq->kind == BB_Y_SCALAR)
		json_array_append_new(f->show_if.values, json_string(eq->str));
	else if (in != NULL && in->kind == BB_Y_SEQ && in->n > 0)
		for (i = 0; i < in->n; i++)
			json_array_append_new(f->show_if.values,
			    json_string(in->items[i]->kind == BB_Y_SCALAR ?
			    in->items[i]->str : ""));
	else
		PROBLEM(c, n->line, "%s: show_if: equals takes a value, in a list", f->name);
}

static void
load_field(struct ctx *c, const struct bb_ynode *m, struct bb_field *f)
{
	const struct bb_ynode *n;

	memset(f, 0, sizeof *f);
	f->line = m->line;
	f->min_length = f->max_length = -1;
	if (!load_type(c, m, f))
		return;
	check_keys(c, m, f);
	get_text(c, m, "label", 1, &f->label);
	get_text(c, m, "help", 0, &f->help);
	get_text(c, m, "text", f->type == BB_F_CONSENT, &f->text);
	f->required = get_bool(c, m, "required") || f->type == BB_F_CONSENT;
	f->locked = get_bool(c, m, "locked");
	f->integer = get_bool(c, m, "integer");
	load_text_rules(c, m, f);
	load_minmax(c, m, f);
	if (f->type == BB_F_SELECT || f->type == BB_F_MULTI)
		load_options(c, bb_yaml_get(m, "options"), f);
	load_prefill(c, m, f);
	load_repeat(c, bb_yaml_get(m, "repeat"), f);
	if (f->type == BB_F_ADDRESS) {
		address_parts(f);
	} else if (f->type == BB_F_GROUP) {
		n = bb_yaml_get(m, "fields");
		if (n == NULL || n->kind != BB_Y_SEQ || n->n == 0)
			PROBLEM(c, m->line, "%s: a group needs a non-empty list of fields", f->name);
		else
			load_fields(c, n, &f->fields, &f->nfields, f->name);
	}
	load_show_if(c, bb_yaml_get(m, "show_if"), f);
	load_default(c, bb_yaml_get(m, "default"), f);
}

static void
load_fields(struct ctx *c, const struct bb_ynode *seq, struct bb_field **out,
    size_t *nout, const char *scope)
{
	struct bb_field *fields;
	size_t i, j;

	if ((fields = calloc(seq->n, sizeof *fields)) == NULL)
		return;
	*out = fields;
	for (i = 0; i < seq->n; i++) {
		if (seq->items[i]->kind != BB_Y_MAP) {
			PROBLEM(c, seq->items[i]->line, "%s: a field is a mapping", scope);
			continue;
		}
		load_field(c, seq->items[i], &fields[*nout]);
		for (j = 0; j < *nout; j++)
			if (strcmp(fields[j].name, fields[*nout].name) == 0)
				PROBLEM(c, fields[*nout].line, "field '%s' defined twice (first on "
				    "line %d)", fields[j].name, fields[j].line);
		(*nout)++;
	}
}

static void
free_fields(struct bb_field *fields, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct bb_field *f = &fields[i];
		free(f->name);
		free_text(&f->label);
		free_text(&f->help);
		free_text(&f->text);
		free(f->pattern);
		if (f->has_re)
			regfree(&f->re);
		for (j = 0; j < f->noptions; j++) {
			free(f->options[j].value);
			free_text(&f->options[j].label);
		}
		free(f->options);
		free(f->show_if.field);
		json_decref(f->show_if.values);
		free(f->prefill);
		free(f->dmin.spec);
		free(f->dmax.spec);
		json_decref(f->def);
		free_fields(f->fields, f->nfields);
	}
	free(fields);
}

void
bb_form_free(struct bb_form *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nsections; i++) {
		free(f->sections[i].id);
		free_text(&f->sections[i].title);
		free_text(&f->sections[i].help);
		free_fields(f->sections[i].fields, f->sections[i].nfields);
	}
	free(f->sections);
	free(f->path);
	free(f->id);
	free_text(&f->title);
	free_text(&f->help);
	free(f->leika);
	free(f->target);
	free(f);
}

const struct bb_field *
bb_form_field(const struct bb_form *f, const char *name)
{
	size_t i, j;

	for (i = 0; i < f->nsections; i++)
		for (j = 0; j < f->sections[i].nfields; j++)
			if (strcmp(f->sections[i].fields[j].name, name) == 0)
				return &f->sections[i].fields[j];
	return NULL;
}

static const struct bb_field *
find_in(const struct bb_field *fields, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* Links each show_if to its field (sibling first, then top level) and normalises the
 * accepted values with that field's type. */
static void
resolve_conditions(struct ctx *c, const struct bb_form *form, struct bb_field *fields,
    size_t n)
{
	size_t i, k;
	char why[256];

	for (i = 0; i < n; i++) {
		struct bb_field *f = &fields[i];
		struct bb_condition *cond = &f->show_if;
		if (f->nfields > 0)
			resolve_conditions(c, form, f->fields, f->nfields);
		if (cond->field == NULL)
			continue;
		cond->target = find_in(fields, n, cond->field);
		if (cond->target == NULL)
			cond->target = bb_form_field(form, cond->field);
		if (cond->target == NULL) {
			PROBLEM(c, cond->line, "%s: show_if: no field '%s'", f->name, cond->field);
			continue;
		}
		if (cond->target == f) {
			PROBLEM(c, cond->line, "%s: show_if refers to itself", f->name);
			cond->target = NULL;
			continue;
		}
		if (cond->target->type == BB_F_GROUP || cond->target->type == BB_F_ADDRESS ||
		    cond->target->repeat) {
			PROBLEM(c, cond->line, "%s: show_if: '%s' is a group", f->name, cond->field);
			cond->target = NULL;
			continue;
		}
		for (k = 0; k < json_array_size(cond->values); k++) {
			const struct bb_field *t = cond->target;
			json_t *in = json_array_get(cond->values, k), *norm;
			/* A condition on a multi-select names one of its options. */
			if (t->type == BB_F_MULTI) {
				json_t *one = json_pack("[O]", in);
				norm = bb_field_convert(t, one, why, sizeof why);
				json_decref(one);
				if (norm != NULL) {
					json_t *v = json_incref(json_array_get(norm, 0));
					json_decref(norm);
					norm = v;
				}
			} else {
				norm = bb_field_convert(t, in, why, sizeof why);
			}
			if (norm == NULL) {
				PROBLEM(c, cond->line, "%s: show_if: not a value of '%s': %s", f->name,
				    cond->field, why);
				continue;
			}
			json_array_set_new(cond->values, k, norm);
		}
	}
}

/* A chain of show_if that comes back to where it started can never be decided. */
static void
check_cycles(struct ctx *c, const struct bb_field *fields, size_t n)
{
	size_t i, steps;

	for (i = 0; i < n; i++) {
		const struct bb_field *f = &fields[i], *t = f->show_if.target;
		for (steps = 0; t != NULL && steps < 1000; steps++) {
			if (t == f) {
				PROBLEM(c, f->show_if.line, "%s: show_if conditions form a cycle",
				    f->name);
				break;
			}
			t = t->show_if.target;
		}
		if (f->nfields > 0)
			check_cycles(c, f->fields, f->nfields);
	}
}

static void
load_sections(struct ctx *c, const struct bb_ynode *seq, struct bb_form *form)
{
	static const char *const allowed[] = { "id", "title", "help", "fields", NULL };
	size_t i, j, k, l;

	if (seq == NULL)
		return;
	if (seq->kind != BB_Y_SEQ || seq->n == 0) {
		PROBLEM(c, seq->line, "sections: expected a non-empty list");
		return;
	}
	if ((form->sections = calloc(seq->n, sizeof *form->sections)) == NULL)
		return;
	for (i = 0; i < seq->n; i++) {
		const struct bb_ynode *m = seq->items[i], *fields;
		struct bb_section *s = &form->sections[form->nsections];
		if (m->kind != BB_Y_MAP) {
			PROBLEM(c, m->line, "a section is a mapping with id, title and fields");
			continue;
		}
		form->nsections++;
		s->line = m->line;
		unknown_keys(c, m, allowed, "a section");
		s->id = get_str(c, m, "id", 1);
		if (s->id != NULL && !is_ident(s->id, 0))
			PROBLEM(c, m->line, "section id '%s': use a-z, 0-9 and '_'", s->id);
		for (j = 0; s->id != NULL && j + 1 < form->nsections; j++)
			if (form->sections[j].id && strcmp(form->sections[j].id, s->id) == 0)
				PROBLEM(c, m->line, "section '%s' defined twice", s->id);
		get_text(c, m, "title", 1, &s->title);
		get_text(c, m, "help", 0, &s->help);
		fields = bb_yaml_get(m, "fields");
		if (fields == NULL || fields->kind != BB_Y_SEQ || fields->n == 0) {
			PROBLEM(c, m->line, "section '%s': needs a non-empty list of fields",
			    s->id ? s->id : "?");
			continue;
		}
		load_fields(c, fields, &s->fields, &s->nfields, s->id ? s->id : "section");
		/* Top-level fields of all sections share one namespace. */
		for (j = 0; j + 1 < form->nsections; j++)
			for (k = 0; k < form->sections[j].nfields; k++)
				for (l = 0; l < s->nfields; l++)
					if (strcmp(form->sections[j].fields[k].name,
					    s->fields[l].name) == 0)
						PROBLEM(c, s->fields[l].line,
						    "field '%s' defined twice (first on line %d)",
						    s->fields[l].name, form->sections[j].fields[k].line);
	}
}

/* needs: a list of names of needs[], each at most once; absent or [] is none. */
static void
load_needs(struct ctx *c, const struct bb_ynode *n, struct bb_form *form)
{
	size_t i, j;

	if (n == NULL)
		return;
	if (n->kind != BB_Y_SEQ) {
		PROBLEM(c, n->line, "needs: expected a list of photo and signature");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct bb_ynode *it = n->items[i];
		if (it->kind != BB_Y_SCALAR) {
			PROBLEM(c, it->line, "needs: expected a list of photo and signature");
			continue;
		}
		for (j = 0; j < BB_NEEDS; j++)
			if (strcmp(it->str, needs[j].name) == 0)
				break;
		if (j == BB_NEEDS)
			PROBLEM(c, it->line, "needs: unknown need '%s' (photo, signature)", it->str);
		else if (form->needs & needs[j].bit)
			PROBLEM(c, it->line, "needs: '%s' given twice", it->str);
		else
			form->needs |= needs[j].bit;
	}
}

/* The id must match the directory of a services tree: services/<id>/form.yaml, however
 * the path was written (./, //, a bare form.yaml from inside the directory). */
static void
check_id_dir(struct ctx *c, const struct bb_form *form, int line)
{
	char *real, *base, *dir;
	const char *name = strrchr(form->path, '/');

	name = name != NULL ? name + 1 : form->path;
	if (strcmp(name, "form.yaml") != 0 || form->id == NULL ||
	    (real = realpath(form->path, NULL)) == NULL)
		return;
	base = strrchr(real, '/');
	*base = '\0';
	dir = strrchr(real, '/');
	dir = dir != NULL ? dir + 1 : real;
	if (strcmp(dir, form->id) != 0)
		PROBLEM(c, line, "id '%s' does not match its directory '%s'", form->id, dir);
	free(real);
}

int
bb_form_load(const char *path, struct bb_form **out, struct bb_problems *p)
{
	static const char *const allowed[] = { "id", "version", "title", "help", "leika",
		"target", "needs", "sections", NULL };
	struct ctx c = { .file = path, .p = p };
	struct bb_ynode *root;
	struct bb_form *form;
	struct bb_err e = { 0, "" };
	size_t before = p->n, i;
	long long version = 0;
	int rc;

	*out = NULL;
	if ((rc = bb_yaml_load_file(path, &root, &e)) != 0) {
		bb_problems_add(p, "%s", e.msg);
		return rc == BB_NOINPUT ? BB_NOINPUT : BB_CONFIG;
	}
	if (root == NULL || root->kind != BB_Y_MAP) {
		bb_problems_add(p, "%s:%d: expected a mapping with id, version, title, leika, "
		    "target and sections", path, root ? root->line : 1);
		bb_yaml_free(root);
		return BB_CONFIG;
	}
	if ((form = calloc(1, sizeof *form)) == NULL || (form->path = strdup(path)) == NULL) {
		free(form);
		bb_yaml_free(root);
		bb_problems_add(p, "%s: out of memory", path);
		return BB_SOFTWARE;
	}
	unknown_keys(&c, root, allowed, "a form");
	form->id = get_str(&c, root, "id", 1);
	if (form->id != NULL && !is_ident(form->id, 1))
		PROBLEM(&c, bb_yaml_get(root, "id")->line,
		    "id '%s': use a-z, 0-9 and '-', starting with a letter or digit", form->id);
	check_id_dir(&c, form, root->line);
	if (bb_yaml_get(root, "version") == NULL)
		PROBLEM(&c, root->line, "missing 'version'");
	else if (bb_yaml_long(bb_yaml_get(root, "version"), &version) != 0 || version < 1 ||
	    version > 1000000000)
		PROBLEM(&c, bb_yaml_get(root, "version")->line,
		    "version: expected a positive whole number");
	form->version = (long)version;
	get_text(&c, root, "title", 1, &form->title);
	get_text(&c, root, "help", 0, &form->help);
	form->leika = get_str(&c, root, "leika", 1);
	if (form->leika != NULL) {
		const char *prefix = "urn:de:fim:leika:leistung:";
		size_t pl = strlen(prefix);
		if (strncmp(form->leika, prefix, pl) != 0 || strlen(form->leika) != pl + 14 ||
		    strspn(form->leika + pl, "0123456789") != 14)
			PROBLEM(&c, bb_yaml_get(root, "leika")->line,
			    "leika: expected urn:de:fim:leika:leistung: and 14 digits");
	}
	form->target = get_str(&c, root, "target", 1);
	if (form->target != NULL && !is_ident(form->target, 1))
		PROBLEM(&c, bb_yaml_get(root, "target")->line,
		    "target '%s': use a-z, 0-9, '_' and '-'", form->target);
	load_needs(&c, bb_yaml_get(root, "needs"), form);
	if (bb_yaml_get(root, "sections") == NULL)
		PROBLEM(&c, root->line, "missing 'sections'");
	load_sections(&c, bb_yaml_get(root, "sections"), form);
	for (i = 0; i < form->nsections; i++)
		resolve_conditions(&c, form, form->sections[i].fields, form->sections[i].nfields);
	for (i = 0; i < form->nsections; i++)
		check_cycles(&c, form->sections[i].fields, form->sections[i].nfields);
	bb_yaml_free(root);
	if (p->n > before) {
		bb_form_free(form);
		return BB_CONFIG;
	}
	*out = form;
	return 0;
}
