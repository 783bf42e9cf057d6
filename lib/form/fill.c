/* Filling a form without a screen: the case's earlier answers, prefill from the case,
 * defaults, answers and --set values; then validation that normalises every value and
 * drops what a show_if hides. A screen drives the same calls. */
#include "form.h"
#include "case.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

static const struct bb_field *
find_in(const struct bb_field *fields, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* The value at a dotted path in the case, or NULL. */
static const json_t *
case_path(const json_t *c, const char *path)
{
	char part[128];
	const char *p = path, *dot;
	size_t len;

	while (c != NULL && *p) {
		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof part)
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		c = json_object_get(c, part);
		p += len + (dot != NULL);
	}
	return c;
}

static int
is_empty(const json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;

	if (v == NULL || json_is_null(v))
		return 1;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		return *s == '\0';
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (!is_empty(x))
				return 0;
		return 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			if (!is_empty(x))
				return 0;
		return 1;
	}
	return 0;
}

/* Prefill one field from the case; records it in fl->prefilled under path. */
static void
prefill_field(struct bb_fill *fl, const struct bb_field *f, json_t *container,
    const json_t *c, const char *path)
{
	const json_t *src;
	json_t *v = NULL;
	char why[128];
	size_t i;

	if (f->prefill == NULL || f->repeat)
		return;
	src = case_path(c, f->prefill);
	if (src == NULL || is_empty(src))
		return;
	if (f->type == BB_F_ADDRESS) {
		if (!json_is_object(src))
			return;
		v = json_object();
		for (i = 0; i < f->nfields; i++) {
			const json_t *part = json_object_get(src, f->fields[i].name);
			if (json_is_string(part) && !is_empty(part))
				json_object_set(v, f->fields[i].name, (json_t *)part);
		}
	} else {
		/* A value the field cannot hold (an incomplete date of birth on the card)
		 * is not prefilled: the person enters it. */
		v = bb_field_convert(f, src, why, sizeof why);
	}
	if (v == NULL)
		return;
	/* A copy: an answer that changes a part of the address must not change the record
	 * of what the card said (it would still count as prefilled, and a locked one as
	 * unchanged). */
	if (f->locked || is_empty(json_object_get(container, f->name)))
		json_object_set_new(container, f->name, json_deep_copy(v));
	json_object_set_new(fl->prefilled, path, v);
}

static void
begin_fields(struct bb_fill *fl, const struct bb_field *fields, size_t n,
    json_t *container, const json_t *c, const char *prefix)
{
	char path[256];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bb_field *f = &fields[i];
		snprintf(path, sizeof path, "%s%s", prefix, f->name);
		prefill_field(fl, f, container, c, path);
		if (f->type == BB_F_GROUP && !f->repeat) {
			json_t *sub = json_object_get(container, f->name);
			char sp[sizeof path + 2];
			if (!json_is_object(sub)) {
				sub = json_object();
				json_object_set_new(container, f->name, sub);
			}
			snprintf(sp, sizeof sp, "%s.", path);
			begin_fields(fl, f->fields, f->nfields, sub, c, sp);
			if (json_object_size(sub) == 0)
				json_object_del(container, f->name);
		}
		if (f->def != NULL && is_empty(json_object_get(container, f->name)))
			json_object_set(container, f->name, f->def);
	}
}

int
bb_fill_begin(struct bb_fill *fl, const struct bb_form *f, const json_t *c)
{
	const json_t *part = json_object_get(c, "form"), *old;
	const char *k;
	json_t *v;
	size_t i;

	fl->fields = json_object();
	fl->prefilled = json_object();
	if (fl->fields == NULL || fl->prefilled == NULL)
		return -1;
	/* Answers the case already holds for this form (a screen was left half way). */
	old = json_object_get(part, "fields");
	if (json_is_string(json_object_get(part, "definition")) &&
	    strcmp(json_string_value(json_object_get(part, "definition")), f->id) == 0 &&
	    json_is_object(old))
		json_object_foreach((json_t *)old, k, v)
			if (bb_form_field(f, k) != NULL)
				json_object_set_new(fl->fields, k, json_deep_copy(v));
	for (i = 0; i < f->nsections; i++)
		begin_fields(fl, f->sections[i].fields, f->sections[i].nfields, fl->fields, c,
		    "");
	return 0;
}

void
bb_fill_end(struct bb_fill *fl)
{
	json_decref(fl->fields);
	json_decref(fl->prefilled);
	fl->fields = fl->prefilled = NULL;
}

void
bb_fill_answers(struct bb_fill *fl, const struct bb_form *f, const json_t *answers,
    struct bb_problems *p)
{
	const char *k;
	json_t *v;

	if (!json_is_object(answers)) {
		bb_problems_add(p, "answers: expected a JSON object of field names");
		return;
	}
	json_object_foreach((json_t *)answers, k, v) {
		if (bb_form_field(f, k) == NULL) {
			bb_problems_add(p, "%s: no such field in form '%s'", k, f->id);
			continue;
		}
		json_object_set_new(fl->fields, k, json_deep_copy(v));
	}
}

static int
parse_index(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v >= max)
		return -1;
	*out = v;
	return 0;
}

int
bb_fill_set(struct bb_fill *fl, const struct bb_form *f, const char *path,
    const char *value, struct bb_problems *p)
{
	char *copy = strdup(path), *comp, *save = NULL;
	const struct bb_field *fld = NULL;
	json_t *container = fl->fields, *v;
	int rc = -1;

	if (copy == NULL)
		return -1;
	comp = strtok_r(copy, ".", &save);
	if (comp == NULL || (fld = bb_form_field(f, comp)) == NULL) {
		bb_problems_add(p, "%s: no such field in form '%s'", path, f->id);
		goto out;
	}
	while ((comp = strtok_r(NULL, ".", &save)) != NULL) {
		json_t *next;
		if (fld->nfields == 0) {
			bb_problems_add(p, "%s: '%s' has no parts", path, fld->name);
			goto out;
		}
		next = json_object_get(container, fld->name);
		if (fld->repeat) {
			long idx;
			if (parse_index(comp, fld->repeat_max, &idx) != 0) {
				bb_problems_add(p, "%s: expected an entry number from 0 to %ld", path,
				    fld->repeat_max - 1);
				goto out;
			}
			if (!json_is_array(next)) {
				next = json_array();
				json_object_set_new(container, fld->name, next);
			}
			while ((long)json_array_size(next) <= idx)
				json_array_append_new(next, json_object());
			container = json_array_get(next, (size_t)idx);
			if (!json_is_object(container)) {
				container = json_object();
				json_array_set_new(next, (size_t)idx, container);
			}
			if ((comp = strtok_r(NULL, ".", &save)) == NULL) {
				bb_problems_add(p, "%s: name a part of the entry", path);
				goto out;
			}
		} else {
			if (!json_is_object(next)) {
				next = json_object();
				json_object_set_new(container, fld->name, next);
			}
			container = next;
		}
		if ((fld = find_in(fld->fields, fld->nfields, comp)) == NULL) {
			bb_problems_add(p, "%s: no such field", path);
			goto out;
		}
	}
	if (fld->nfields > 0) {
		bb_problems_add(p, "%s: is a group; set its parts (%s.%s…)", path, path,
		    fld->repeat ? "0." : "");
		goto out;
	}
	if ((v = json_string(value)) == NULL) {
		bb_problems_add(p, "%s: not valid UTF-8", path);
		goto out;
	}
	json_object_set_new(container, fld->name, v);
	rc = 0;
out:
	free(copy);
	return rc;
}

struct scope {
	const struct bb_field *fields;	/* siblings; NULL: the form's top level */
	size_t n;
	json_t *container;
};

struct vctx {
	const struct bb_form *form;
	json_t *top;
	struct bb_problems *p;
};

static int visible(struct vctx *v, const struct bb_field *f, const struct scope *s,
    int depth);

/* The scope a field lives in: its siblings, or the top level. */
static int
in_scope(const struct bb_field *f, const struct scope *s)
{
	return s->fields != NULL && f >= s->fields && f < s->fields + s->n;
}

static int
visible(struct vctx *v, const struct bb_field *f, const struct scope *s, int depth)
{
	const struct bb_field *t = f->show_if.target;
	struct scope top = { NULL, 0, v->top };
	const struct scope *ts;
	json_t *raw, *norm, *want;
	char why[64];
	size_t i, j;
	int shown = 0;

	if (t == NULL)
		return 1;
	if (depth > MAX_DEPTH)
		return 0;
	ts = in_scope(t, s) ? s : &top;
	if (!visible(v, t, ts, depth + 1))
		return 0;
	raw = json_object_get(ts->container, t->name);
	if (raw == NULL || (norm = bb_field_convert(t, raw, why, sizeof why)) == NULL)
		return 0;
	json_array_foreach(f->show_if.values, i, want) {
		if (json_is_array(norm)) {
			for (j = 0; j < json_array_size(norm); j++)
				if (json_equal(json_array_get(norm, j), want))
					shown = 1;
		} else if (json_equal(norm, want)) {
			shown = 1;
		}
	}
	json_decref(norm);
	return shown;
}

int
bb_fill_shown(const struct bb_fill *fl, const struct bb_form *f, const struct bb_field *fld,
    const struct bb_field *siblings, size_t nsiblings, json_t *container)
{
	struct vctx v = { f, fl->fields, NULL };
	struct scope s = { siblings, nsiblings, container };

	return visible(&v, fld, siblings != NULL ? &s : &(struct scope){ NULL, 0, fl->fields }, 0);
}

int
bb_fill_is_empty(const json_t *v)
{
	return is_empty(v);
}

static void validate_field(struct vctx *v, const struct bb_field *f,
    const struct scope *s, const char *prefix, int parent_filled);

/* One object of a group or address: unknown keys, each part, and the German postal
 * code rule of an address. */
static void
validate_item(struct vctx *v, const struct bb_field *f, json_t *item, const char *path,
    int filled)
{
	struct scope s = { f->fields, f->nfields, item };
	char prefix[360];
	const char *k;
	json_t *x;
	void *tmp;
	size_t i;

	json_object_foreach_safe(item, tmp, k, x)
		if (find_in(f->fields, f->nfields, k) == NULL) {
			bb_problems_add(v->p, "%s.%s: no such field", path, k);
			json_object_del(item, k);
		}
	snprintf(prefix, sizeof prefix, "%s.", path);
	for (i = 0; i < f->nfields; i++)
		validate_field(v, &f->fields[i], &s, prefix, filled);
	if (f->type == BB_F_ADDRESS) {
		const char *cc = json_string_value(json_object_get(item, "country"));
		const char *pc = json_string_value(json_object_get(item, "postal_code"));
		if (cc == NULL) {
			json_object_set_new(item, "country", json_string("DE"));
			cc = "DE";
		}
		if (pc != NULL && strcmp(cc, "DE") == 0 &&
		    (strlen(pc) != 5 || strspn(pc, "0123456789") != 5))
			bb_problems_add(v->p, "%s.postal_code: expected a German postal code of "
			    "5 digits", path);
	}
}

static void
validate_group(struct vctx *v, const struct bb_field *f, const struct scope *s,
    const char *path, json_t *val)
{
	char ipath[340];
	size_t i;

	if (!f->repeat) {
		if (val == NULL || is_empty(val)) {
			if (!f->required) {
				json_object_del(s->container, f->name);
				return;
			}
			val = json_object();
			json_object_set_new(s->container, f->name, val);
		}
		if (!json_is_object(val)) {
			bb_problems_add(v->p, "%s: expected an object of its parts", path);
			return;
		}
		validate_item(v, f, val, path, 1);
		return;
	}
	if (val == NULL || json_is_null(val)) {
		val = json_array();
		json_object_set_new(s->container, f->name, val);
	}
	if (!json_is_array(val)) {
		bb_problems_add(v->p, "%s: expected a list of entries", path);
		return;
	}
	/* Entries left empty (a screen's blank row) are not entries. */
	for (i = json_array_size(val); i-- > 0;)
		if (is_empty(json_array_get(val, i)))
			json_array_remove(val, i);
	if (json_array_size(val) < (size_t)f->repeat_min || (f->required && !json_array_size(val)))
		bb_problems_add(v->p, "%s: at least %ld entr%s needed", path,
		    f->repeat_min ? f->repeat_min : 1, f->repeat_min > 1 ? "ies" : "y");
	if (json_array_size(val) > (size_t)f->repeat_max)
		bb_problems_add(v->p, "%s: at most %ld entries", path, f->repeat_max);
	for (i = 0; i < json_array_size(val); i++) {
		json_t *item = json_array_get(val, i);
		snprintf(ipath, sizeof ipath, "%s.%zu", path, i);
		if (!json_is_object(item)) {
			bb_problems_add(v->p, "%s: expected an object of its parts", ipath);
			continue;
		}
		validate_item(v, f, item, ipath, 1);
	}
	if (json_array_size(val) == 0)
		json_object_del(s->container, f->name);
}

static void
validate_field(struct vctx *v, const struct bb_field *f, const struct scope *s,
    const char *prefix, int parent_filled)
{
	char path[300], why[160];
	json_t *val, *norm;

	snprintf(path, sizeof path, "%s%s", prefix, f->name);
	if (!visible(v, f, s, 0)) {
		json_object_del(s->container, f->name);
		return;
	}
	val = json_object_get(s->container, f->name);
	if (f->nfields > 0) {
		validate_group(v, f, s, path, val);
		return;
	}
	if (is_empty(val) && !json_is_false(val)) {
		/* A multi-select that needs at least one choice is required by its min. */
		if (f->type == BB_F_MULTI && f->has_min && f->min > 0 && parent_filled) {
			bb_problems_add(v->p, "%s: choose at least %g", path, f->min);
			json_object_del(s->container, f->name);
			return;
		}
		if (f->required && parent_filled)
			bb_problems_add(v->p, "%s: %s", path,
			    f->type == BB_F_CONSENT ? "must be accepted" : "required");
		json_object_del(s->container, f->name);
		return;
	}
	if ((norm = bb_field_convert(f, val, why, sizeof why)) == NULL) {
		bb_problems_add(v->p, "%s: %s", path, why);
		return;
	}
	if (bb_field_check(f, norm, why, sizeof why) != 0)
		bb_problems_add(v->p, "%s: %s", path, why);
	json_object_set_new(s->container, f->name, norm);
}

/* The value at a dotted path of the fields ("persons.0.city"), or NULL. */
static json_t *
fields_path(json_t *fields, const char *path)
{
	char part[128];
	const char *p = path, *dot;
	size_t len;

	while (fields != NULL && *p) {
		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof part)
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		fields = json_is_array(fields) ? json_array_get(fields, strtoul(part, NULL, 10)) :
		    json_object_get(fields, part);
		p += len + (dot != NULL);
	}
	return fields;
}

/* The field a prefilled path names (top level or a plain group's part). */
static const struct bb_field *
field_at(const struct bb_form *form, const char *path)
{
	char *copy = strdup(path), *comp, *save = NULL;
	const struct bb_field *f = NULL;

	if (copy == NULL)
		return NULL;
	comp = strtok_r(copy, ".", &save);
	if (comp != NULL)
		f = bb_form_field(form, comp);
	while (f != NULL && (comp = strtok_r(NULL, ".", &save)) != NULL)
		f = find_in(f->fields, f->nfields, comp);
	free(copy);
	return f;
}

void
bb_fill_validate(struct bb_fill *fl, const struct bb_form *f, struct bb_problems *p)
{
	struct vctx v = { f, fl->fields, p };
	struct scope top = { NULL, 0, fl->fields };
	const char *path;
	json_t *pre;
	size_t i, j;

	for (i = 0; i < f->nsections; i++)
		for (j = 0; j < f->sections[i].nfields; j++)
			validate_field(&v, &f->sections[i].fields[j], &top, "", 1);
	/* What the ID card says is what the authority gets. */
	json_object_foreach(fl->prefilled, path, pre) {
		const struct bb_field *fld = field_at(f, path);
		json_t *now = fields_path(fl->fields, path);
		if (fld != NULL && fld->locked && !json_equal(now, pre))
			bb_problems_add(p, "%s: prefilled from the ID card; may not be changed",
			    path);
	}
}

/* A copy of obj with its keys in the order the definition gives them. */
static json_t *
ordered(const struct bb_field *fields, size_t n, const json_t *obj)
{
	json_t *out = json_object(), *v, *items;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct bb_field *f = &fields[i];
		if ((v = json_object_get(obj, f->name)) == NULL)
			continue;
		if (f->nfields > 0 && json_is_array(v)) {
			items = json_array();
			for (j = 0; j < json_array_size(v); j++)
				json_array_append_new(items, ordered(f->fields, f->nfields,
				    json_array_get(v, j)));
			json_object_set_new(out, f->name, items);
		} else if (f->nfields > 0 && json_is_object(v)) {
			json_object_set_new(out, f->name, ordered(f->fields, f->nfields, v));
		} else {
			json_object_set(out, f->name, v);
		}
	}
	return out;
}

json_t *
bb_fill_part(const struct bb_fill *fl, const struct bb_form *f)
{
	char now[21];
	json_t *names = json_array();
	const char *path;
	json_t *pre;

	json_t *fields = json_object();
	size_t i;

	bb_time_rfc3339(now);
	/* Only what still holds the card's value counts as prefilled. */
	json_object_foreach(fl->prefilled, path, pre)
		if (json_equal(fields_path(fl->fields, path), pre))
			json_array_append_new(names, json_string(path));
	for (i = 0; i < f->nsections; i++) {
		json_t *sec = ordered(f->sections[i].fields, f->sections[i].nfields, fl->fields);
		json_object_update(fields, sec);
		json_decref(sec);
	}
	/* needs: what bb-submit checks the case has before it goes (bb-case(5)). */
	return json_pack("{s:s, s:I, s:s, s:s, s:o, s:o, s:o, s:s}", "definition", f->id,
	    "version", (json_int_t)f->version, "leika", f->leika, "target", f->target,
	    "needs", bb_needs_json(f->needs), "fields", fields, "prefilled", names,
	    "completed", now);
}
