/* The front door of delivering a case (submit.h: bb_submit_case): the rules every kind of
 * target shares, then the kind's own delivery. */
#include "submit/submit.h"
#include "case.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "form/form.h"

#include <stdio.h>
#include <string.h>

/* The case holds an attachment for each need its form part names (form.needs, written by
 * bb-form from the definition): an application without the signature its form asks for
 * must not reach the authority. 0, or 65 with what is missing in e. */
static int
check_needs(const json_t *c, struct bb_err *e)
{
	const json_t *needs = json_object_get(json_object_get(c, "form"), "needs"), *v, *a;
	const char *name;
	size_t i, j, k;

	if (needs == NULL)
		return 0;
	if (!json_is_array(needs))
		return bb_fail(e, BB_DATAERR, "case: form.needs: expected a list");
	json_array_foreach(needs, i, v) {
		name = json_string_value(v);
		for (j = 0; name != NULL && bb_need_name(j) != NULL; j++)
			if (strcmp(name, bb_need_name(j)) == 0)
				break;
		if (name == NULL || bb_need_name(j) == NULL)
			return bb_fail(e, BB_DATAERR, "case: form.needs: a need this "
			    "bb-submit does not know (photo, signature); not sent");
		json_array_foreach(json_object_get(c, "attachments"), k, a)
			if (json_is_string(json_object_get(a, "name")) &&
			    strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
				break;
		if (k == json_array_size(json_object_get(c, "attachments")))
			return bb_fail(e, BB_DATAERR, "case: its form needs the %s, but the case "
			    "has none (bb-capture %s); not sent", name, name);
	}
	return 0;
}

/* A case moved to another target starts over there; so does one whose last attempt ended
 * (rejected, delivered, failed): only a submission under way is resumed. Then this
 * attempt is counted. */
static void
start_attempt(json_t *sub, const char *target, const char *kind)
{
	const char *st = json_string_value(json_object_get(sub, "state"));
	const char *was = json_string_value(json_object_get(sub, "target"));
	char now[21];

	if ((was != NULL && strcmp(was, target) != 0) || (st != NULL &&
	    (strcmp(st, "rejected") == 0 || strcmp(st, "delivered") == 0 ||
	    strcmp(st, "failed") == 0))) {
		json_object_del(sub, "state");
		json_object_del(sub, "fitconnect");
		json_object_del(sub, "https");
		json_object_del(sub, "dir");
	}
	json_object_set_new(sub, "target", json_string(target));
	json_object_set_new(sub, "kind", json_string(kind));
	json_object_set_new(sub, "attempts",
	    json_integer(json_integer_value(json_object_get(sub, "attempts")) + 1));
	bb_time_rfc3339(now);
	json_object_set_new(sub, "last_attempt", json_string(now));
	json_object_del(sub, "error");
	json_object_del(sub, "retry_after");
}

int
bb_submit_case(json_t *c, const struct bb_config *cfg, const char *target, long wait,
    int *tried, struct bb_err *e)
{
	struct bb_submit x;
	const char *kind;
	char key[512];
	int rc;

	*tried = 0;
	if ((rc = check_needs(c, e)) != 0)
		return rc;
	memset(&x, 0, sizeof x);
	x.cfg = cfg;
	x.c = c;
	x.wait = wait;
	x.timeout = (long)bb_config_int(cfg, "submit.timeout");
	x.id = bb_case_id(c);
	/* --target, else the service definition's (form.target), else submit.default. */
	x.target = target != NULL ? target :
	    json_string_value(json_object_get(json_object_get(c, "form"), "target"));
	if (x.target == NULL)
		x.target = bb_config_str(cfg, "submit.default");
	snprintf(key, sizeof key, "submit.targets.%s.kind", x.target);
	if (strspn(x.target, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(x.target) ||
	    !bb_config_has(cfg, key))
		return bb_fail(e, BB_CONFIG, "%s: no such target in %s (submit.targets)",
		    x.target, bb_config_file(cfg) ? bb_config_file(cfg) : "the configuration");
	kind = bb_config_str(cfg, key);
	if ((x.sub = bb_case_part(c, "submission")) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	*tried = 1;
	start_attempt(x.sub, x.target, kind);
	if (strcmp(kind, "dir") == 0)
		rc = bb_submit_dir(&x, e);
	else if (strcmp(kind, "https") == 0)
		rc = bb_submit_https(&x, e);
	else
		rc = bb_submit_fitconnect(&x, e);
	if (rc != 0) {
		json_object_set_new(x.sub, "error", json_string(e->msg));
		if (!json_is_string(json_object_get(x.sub, "state")))
			json_object_set_new(x.sub, "state", json_string("failed"));
	}
	return rc;
}
