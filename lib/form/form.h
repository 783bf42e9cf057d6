/* The form model (bb-form(5)): a service definition loaded from YAML, and what can be done
 * with it without a screen — lint, prefill, answers, validation, the case's form part.
 * Rendering (text, JSON, the terminal and web screens) sits apart in render.c and only
 * reads the model. */
#ifndef BB_FORM_H
#define BB_FORM_H

#include <jansson.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>

struct bb_err;

enum bb_ftype {
	BB_F_TEXT, BB_F_NUMBER, BB_F_DATE, BB_F_SELECT, BB_F_MULTI, BB_F_CHECKBOX,
	BB_F_CONSENT, BB_F_EMAIL, BB_F_PHONE, BB_F_POSTAL, BB_F_IBAN, BB_F_COUNTRY,
	BB_F_ADDRESS, BB_F_GROUP,
};

/* A text in both languages of the terminal. */
struct bb_text {
	char *de, *en;
};

struct bb_option {
	char *value;
	struct bb_text label;
};

/* A date bound: absolute, or today plus an offset in a unit (d, w, m, y). */
struct bb_datebound {
	int set, relative;
	char date[11];		/* absolute: YYYY-MM-DD */
	int amount;
	char unit;
	char *spec;		/* as written, for show */
};

struct bb_field;

struct bb_condition {
	char *field;			/* as written */
	const struct bb_field *target;	/* resolved after loading */
	json_t *values;			/* list of accepted values, normalised */
	int line;
};

struct bb_field {
	char *name;
	enum bb_ftype type;
	int line;
	struct bb_text label, help, text;
	int required, locked, integer;
	char *pattern;
	regex_t re;
	int has_re;
	long min_length, max_length;	/* -1: not set */
	int max_length_implicit;	/* the built-in limit, not the definition's */
	int has_min, has_max;
	double min, max;		/* number; multi-select counts */
	struct bb_datebound dmin, dmax;	/* date */
	struct bb_option *options;
	size_t noptions;
	struct bb_condition show_if;	/* field NULL: always shown */
	char *prefill;
	json_t *def;			/* default, normalised */
	int repeat;
	long repeat_min, repeat_max;
	struct bb_field *fields;	/* group and address */
	size_t nfields;
};

struct bb_section {
	char *id;
	int line;
	struct bb_text title, help;
	struct bb_field *fields;
	size_t nfields;
};

/* What a service needs besides the answers (bb-form(5) needs), taken by the flow in the
 * order of the list below: the photo before the signature. */
enum bb_need {
	BB_NEED_PHOTO = 1 << 0,
	BB_NEED_SIGNATURE = 1 << 1,
};
#define BB_NEEDS 2

struct bb_form {
	char *path;
	char *id;
	long version;
	struct bb_text title, help;
	char *leika, *target;
	unsigned needs;			/* enum bb_need bits */
	struct bb_section *sections;
	size_t nsections;
};

/* Messages collected while linting or validating, one line each. */
struct bb_problems {
	char **msg;
	size_t n;
};
void bb_problems_add(struct bb_problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bb_problems_free(struct bb_problems *p);

/* Loads and lints a definition. Every problem goes to p as "FILE:LINE: what"; returns 0
 * when there were none (then *out is the form), 66 when the file is missing, else 78. */
int bb_form_load(const char *path, struct bb_form **out, struct bb_problems *p);
void bb_form_free(struct bb_form *f);

const char *bb_ftype_name(enum bb_ftype t);
/* The name of the i-th need (0 <= i < BB_NEEDS) in the flow's order, and its bit. */
const char *bb_need_name(size_t i);
unsigned bb_need_bit(size_t i);
/* The needs as a JSON list of names in that order (new reference). */
json_t *bb_needs_json(unsigned needs);
/* Looks up a top-level field by name across all sections. */
const struct bb_field *bb_form_field(const struct bb_form *f, const char *name);

/* --- values (value.c) --- */

/* Converts a value given as JSON (or as a string from --set) to the field's normal
 * form; NULL with a reason in why (never the value itself) when it is not one. */
json_t *bb_field_convert(const struct bb_field *f, const json_t *in, char *why, size_t whylen);
/* Checks the rules of a converted value; 0, or -1 with the reason in why. */
int bb_field_check(const struct bb_field *f, const json_t *v, char *why, size_t whylen);
/* Today plus a date bound, as YYYY-MM-DD (out holds 11 bytes); 0 or -1. */
int bb_datebound_resolve(const struct bb_datebound *b, char out[11]);
/* Parses "2026-11-30" or "30.11.2026" into "2026-11-30" (a real calendar day). */
int bb_date_parse(const char *s, char out[11]);
int bb_iban_valid(const char *iban);
/* The message catalogue key (bb-form(5): err.*) for a reason bb_field_convert,
 * bb_field_check or bb_fill_validate gave, with its placeholders ({min}, {max}) set in args
 * when args is not NULL. Every reason has one; an unknown one is err.pattern. */
const char *bb_reason_key(const char *why, json_t *args);
int bb_country_valid(const char *code);

/* --- filling (fill.c) --- */

struct bb_fill {
	json_t *fields;		/* the answers as they are being built */
	json_t *prefilled;	/* path -> value taken from the case */
};

/* Starts from the case's own form part (same definition), then prefill, then defaults. */
int bb_fill_begin(struct bb_fill *fl, const struct bb_form *f, const json_t *c);
void bb_fill_end(struct bb_fill *fl);
/* Applies an --answers object; unknown fields are problems. */
void bb_fill_answers(struct bb_fill *fl, const struct bb_form *f, const json_t *answers,
    struct bb_problems *p);
/* Applies one NAME=VALUE (dotted path; numbers index repeated groups). Returns 0, or
 * -1 with the reason in p when the path names no field. */
int bb_fill_set(struct bb_fill *fl, const struct bb_form *f, const char *path,
    const char *value, struct bb_problems *p);
/* Validates everything, normalises values and drops hidden fields. Problems are
 * "PATH: reason" and never hold a value. */
void bb_fill_validate(struct bb_fill *fl, const struct bb_form *f, struct bb_problems *p);
/* Whether fld is shown now, by its show_if on the answers so far: siblings are the parts
 * of the group whose item container is (NULL, 0, NULL for a top-level field). */
int bb_fill_shown(const struct bb_fill *fl, const struct bb_form *f, const struct bb_field *fld,
    const struct bb_field *siblings, size_t nsiblings, json_t *container);
/* Whether v counts as not given (absent, null, blank, or only such parts). */
int bb_fill_is_empty(const json_t *v);
/* The case's form part from a validated fill (new reference). */
json_t *bb_fill_part(const struct bb_fill *fl, const struct bb_form *f);

/* --- the form's part of a case (casepart.c) --- */

/* The definition a FORM argument names: a service id ([a-z0-9-]+) is
 * SERVICES/ID/form.yaml, an argument with a slash or ending in .yaml a path. *path
 * malloc'd; 0, 64 when arg is neither, 70. */
int bb_form_path(const char *arg, const char *services, char **path, struct bb_err *e);
/* The form FORM names (bb_form_path), loaded (bb_form_load, its problems in p): 0, the
 * status of bb_form_load, or 64 or 70 with e set (then p is empty). */
int bb_form_open(const char *arg, const char *services, struct bb_form **out,
    struct bb_problems *p, struct bb_err *e);
/* Whether case c may take f's part: 0, or 65 when c is another service's. */
int bb_form_case_check(const json_t *c, const struct bb_form *f, struct bb_err *e);
/* Puts part (its reference taken) into c as the form part, with f's service when c
 * names none. 0, or 70. */
int bb_form_case_put(json_t *c, const struct bb_form *f, json_t *part, struct bb_err *e);
/* fill's --answers: the JSON at path (at most max bytes; a name twice is a mistake) in
 * *out, the file's bytes wiped. 0, or as bb_read_file with "answers: " before, or 65. */
int bb_fill_read_answers(const char *path, size_t max, json_t **out, struct bb_err *e);
/* bb-form fill in-process: f's part of case c from the case (bb_fill_begin), then
 * answers (an object of NAME -> value, or NULL), then sets ("NAME=VALUE" each, in
 * order), validated and put into c. 0; 64 when a NAME is no field (its reason alone in
 * p); 65 when c is another service's (e) or an answer does not hold (p: a line each,
 * never a value); 70. c is unchanged unless it returns 0. */
int bb_fill_case(json_t *c, const struct bb_form *f, const json_t *answers,
    const char *const *sets, size_t nsets, struct bb_problems *p, struct bb_err *e);

/* --- rendering (render.c) --- */

/* The model as JSON, for screens (new reference). */
json_t *bb_form_to_json(const struct bb_form *f);
/* The form as a person reads it, in lang "de" or "en". */
int bb_form_print_text(FILE *out, const struct bb_form *f, const char *lang);

#endif
