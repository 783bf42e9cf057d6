/* What the kinds of target share; see submit.h. */
#include "submit/submit.h"
#include "case.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
bb_submit_opt(const struct bb_submit *x, const char *key)
{
	char full[512];

	snprintf(full, sizeof full, "submit.targets.%s.%s", x->target, key);
	return bb_config_has(x->cfg, full) ? bb_config_str(x->cfg, full) : NULL;
}

int
bb_submit_need(const struct bb_submit *x, const char *key, const char **out,
    struct bb_err *e)
{
	if ((*out = bb_submit_opt(x, key)) == NULL)
		return bb_fail(e, BB_CONFIG, "%s: submit.targets.%s.%s is not set", x->target,
		    x->target, key);
	return 0;
}

int
bb_submit_secret(const struct bb_submit *x, const char *key, char **out, struct bb_err *e)
{
	const char *path;
	char *buf;
	size_t len;
	int rc;

	if ((rc = bb_submit_need(x, key, &path, e)) != 0)
		return rc;
	/* As ssh with a private key: a secret others can read is no longer one. */
	if (bb_read_trusted(path, key, BB_TRUST_SECRET, 64 * 1024, &buf, &len, e) != 0) {
		e->status = BB_CONFIG;
		return bb_err_context(e, "%s", x->target);
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		free(buf);
		return bb_fail(e, BB_CONFIG, "%s: %s: %s is empty", x->target, key, path);
	}
	*out = buf;
	return 0;
}

void
bb_submit_state(struct bb_submit *x, const char *state)
{
	json_object_set_new(x->sub, "state", json_string(state));
}

int
bb_submit_status(struct bb_submit *x, const struct bb_http_resp *r, const char *what,
    struct bb_err *e)
{
	long s = r->status;

	if (s >= 200 && s < 300)
		return 0;
	if (s == 408 || s == 429 || (s >= 500 && s < 600)) {
		if (r->retry_after >= 0)
			json_object_set_new(x->sub, "retry_after", json_integer(r->retry_after));
		return bb_fail(e, BB_TEMPFAIL, "%s: %s: HTTP %ld%s", x->target, what, s,
		    s == 429 ? " (rate limited)" : "");
	}
	if (s == 401 || s == 403)
		return bb_fail(e, BB_NOPERM, "%s: %s: HTTP %ld (not authorised)", x->target, what,
		    s);
	if (s == 400 || s == 422)
		return bb_fail(e, BB_DATAERR, "%s: %s: HTTP %ld (refused as invalid)", x->target,
		    what, s);
	return bb_fail(e, BB_PROTOCOL, "%s: %s: unexpected HTTP %ld", x->target, what, s);
}

json_t *
bb_submit_payload(const json_t *c)
{
	json_t *p = json_deep_copy(c);

	json_object_del(p, "submission");
	return p;
}
