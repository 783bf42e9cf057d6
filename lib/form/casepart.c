/* The form's part of a case: which definition a FORM argument names, whether the case is
 * the form's service, bb-form fill's answers and --set values put in. See form.h. */
#include "form/form.h"
#include "case.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
bb_form_path(const char *arg, const char *services, char **path, struct bb_err *e)
{
	size_t len = strlen(arg);

	*path = NULL;
	if (strchr(arg, '/') != NULL || (len > 5 && strcmp(arg + len - 5, ".yaml") == 0)) {
		if ((*path = strdup(arg)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		return 0;
	}
	if (strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789-") != len || len == 0)
		return bb_fail(e, BB_USAGE, "%s: not a service id or a path to a form", arg);
	len += strlen(services) + 16;
	if ((*path = malloc(len)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	snprintf(*path, len, "%s/%s/form.yaml", services, arg);
	return 0;
}

int
bb_form_open(const char *arg, const char *services, struct bb_form **out,
    struct bb_problems *p, struct bb_err *e)
{
	char *path;
	int rc;

	if ((rc = bb_form_path(arg, services, &path, e)) != 0)
		return rc;
	rc = bb_form_load(path, out, p);
	free(path);
	return rc;
}

int
bb_form_case_check(const json_t *c, const struct bb_form *f, struct bb_err *e)
{
	const char *service = json_string_value(json_object_get(c, "service"));

	if (service != NULL && strcmp(service, f->id) != 0)
		return bb_fail(e, BB_DATAERR, "case is for service '%s', not '%s'", service,
		    f->id);
	return 0;
}

int
bb_form_case_put(json_t *c, const struct bb_form *f, json_t *part, struct bb_err *e)
{
	if (!json_is_string(json_object_get(c, "service")) &&
	    json_object_set_new(c, "service", json_string(f->id)) != 0) {
		json_decref(part);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	if (bb_case_merge_part(c, "form", part) != 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	return 0;
}

int
bb_fill_read_answers(const char *path, size_t max, json_t **out, struct bb_err *e)
{
	json_error_t jerr;
	char *buf;
	size_t len;

	*out = NULL;
	if (bb_read_file(path, max, &buf, &len, e) != 0)
		return bb_err_context(e, "answers");
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	explicit_bzero(buf, len);
	free(buf);
	if (*out == NULL)
		return bb_fail(e, BB_DATAERR, "answers: %s:%d:%d: invalid JSON: %s", path,
		    jerr.line, jerr.column, bb_json_error_reason(&jerr));
	return 0;
}

/* sets[i] as NAME and VALUE into fl: 0, or -1 with the reason in p. */
static int
fill_set(struct bb_fill *fl, const struct bb_form *f, const char *set,
    struct bb_problems *p)
{
	const char *eq = strchr(set, '=');
	char *name;
	int rc;

	if (eq == NULL || eq == set) {
		bb_problems_add(p, "--set: expected NAME=VALUE");
		return -1;
	}
	/* Only the name is copied: a value a person gave stays where the caller has it. */
	if ((name = strndup(set, (size_t)(eq - set))) == NULL) {
		bb_problems_add(p, "out of memory");
		return -1;
	}
	rc = bb_fill_set(fl, f, name, eq + 1, p);
	free(name);
	return rc;
}

int
bb_fill_case(json_t *c, const struct bb_form *f, const json_t *answers,
    const char *const *sets, size_t nsets, struct bb_problems *p, struct bb_err *e)
{
	struct bb_problems sp = { 0 };
	struct bb_fill fl;
	size_t i;
	int rc;

	if ((rc = bb_form_case_check(c, f, e)) != 0)
		return rc;
	if (bb_fill_begin(&fl, f, c) != 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (answers != NULL)
		bb_fill_answers(&fl, f, answers, p);
	for (i = 0; i < nsets; i++) {
		if (fill_set(&fl, f, sets[i], &sp) != 0) {
			/* A NAME that is no field is a mistake in the call, said alone. */
			bb_problems_free(p);
			*p = sp;
			bb_fill_end(&fl);
			return bb_fail(e, BB_USAGE, "--set: not a field of the form");
		}
	}
	bb_fill_validate(&fl, f, p);
	if (p->n > 0)
		rc = bb_fail(e, BB_DATAERR, "%zu problems with the answers", p->n);
	else
		rc = bb_form_case_put(c, f, bb_fill_part(&fl, f), e);
	bb_fill_end(&fl);
	return rc;
}
