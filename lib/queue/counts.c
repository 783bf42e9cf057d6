/* The kiosk's usage counts in the spool (bb-counts(5)). */
#include "queue/counts.h"
#include "queue/spool.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COUNTS_MAX (1 << 20)	/* a terminal's file stays far below: a few KB */

static const char *const outcome_names[BB_OUT_N] = {
	"started", "completed", "cancelled", "timeout", "failed",
};

static const char *const step_names[] = {
	"card", "pin", "read", "ask", "photo", "signature", "submit", "receipt", NULL,
};

const char *
bb_outcome_name(enum bb_outcome o)
{
	return (unsigned)o < BB_OUT_N ? outcome_names[o] : "?";
}

int
bb_outcome_parse(const char *name)
{
	int i;

	for (i = 0; i < BB_OUT_N; i++)
		if (strcmp(outcome_names[i], name) == 0)
			return i;
	return -1;
}

const char *
bb_count_step(int i)
{
	return i >= 0 && i < (int)(sizeof step_names / sizeof step_names[0]) ? step_names[i] :
	    NULL;
}

static int
step_ok(const char *s)
{
	int i;

	for (i = 0; step_names[i] != NULL; i++)
		if (strcmp(step_names[i], s) == 0)
			return 1;
	return 0;
}

/* [a-z0-9-]{1,64}: a service directory's name, as bb-form(5) ids are. */
static int
service_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A catalogue's name (bb-form(5) SCREENS). */
static int
lang_ok(const char *s)
{
	return bb_lang_tag_ok(s, strlen(s));
}

/* Whether dir/name(suffix) exists as a directory (want_dir) or a regular file. Checked
 * only where the terminal has the directory: always when key is set in bb.yaml, else when
 * its default exists (a build tried out before make install has neither). */
static int
listed(const struct bb_config *cfg, const char *key, const char *sub, const char *name,
    const char *suffix, int want_dir)
{
	const char *dir = bb_config_str(cfg, key);
	char path[4200];
	struct stat sb;

	snprintf(path, sizeof path, "%s%s", dir, sub);
	if (!bb_config_has(cfg, key) && stat(path, &sb) != 0)
		return 1;
	snprintf(path, sizeof path, "%s%s/%s%s", dir, sub, name, suffix);
	if (stat(path, &sb) != 0)
		return 0;
	return want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode);
}

int
bb_count_check(const struct bb_config *cfg, const struct bb_count *c, struct bb_err *e)
{
	/* The messages never repeat a value: it might be what must not be logged. */
	if (c->service == NULL || !service_ok(c->service))
		return bb_fail(e, BB_USAGE, "--service: expected a service id ([a-z0-9-], 1 to "
		    "64 characters)");
	if (!listed(cfg, "form.services", "", c->service, "", 1))
		return bb_fail(e, BB_USAGE, "--service: no such service in form.services");
	if ((unsigned)c->outcome >= BB_OUT_N)
		return bb_fail(e, BB_USAGE, "--outcome: expected started, completed, cancelled, "
		    "timeout or failed");
	if (c->step != NULL && !step_ok(c->step))
		return bb_fail(e, BB_USAGE, "--step: expected card, pin, read, ask, photo, "
		    "signature, submit or receipt");
	if (c->step != NULL && c->outcome != BB_OUT_FAILED)
		return bb_fail(e, BB_USAGE, "--step goes with --outcome failed only");
	if (c->lang != NULL && !lang_ok(c->lang))
		return bb_fail(e, BB_USAGE, "--lang: expected a language tag (de, pt-BR)");
	if (c->lang != NULL && !listed(cfg, "form.screens", "/catalog", c->lang, ".yaml", 0))
		return bb_fail(e, BB_USAGE, "--lang: no such catalogue in form.screens");
	/* A session's language and speech are counted once, with its end. */
	if ((c->lang != NULL || c->speech) && c->outcome == BB_OUT_STARTED)
		return bb_fail(e, BB_USAGE, "--lang and --speech go with the outcome that ends "
		    "the session, not with started");
	return 0;
}

static int
count_ok(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* Every key and value as bb-queue writes them, so that whatever stats prints (as
 * Prometheus labels, too) has a fixed shape even when someone edited the file. */
static int
check_map(const json_t *m, int (*key_ok)(const char *))
{
	const char *k;
	json_t *v;

	if (!json_is_object(m))
		return 0;
	json_object_foreach((json_t *)m, k, v)
		if (!key_ok(k) || !count_ok(v))
			return 0;
	return 1;
}

static int
check_service(const json_t *o)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return 0;
	json_object_foreach((json_t *)o, k, v) {
		if (bb_outcome_parse(k) >= 0 || strcmp(k, "speech") == 0) {
			if (!count_ok(v))
				return 0;
		} else if (strcmp(k, "failed_steps") == 0) {
			if (!check_map(v, step_ok))
				return 0;
		} else if (strcmp(k, "lang") == 0) {
			if (!check_map(v, lang_ok))
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

static int
check_counts(const json_t *j)
{
	const json_t *svc = json_object_get(j, "services");
	const char *k;
	json_t *v;

	if (!json_is_object(j) || json_object_size(j) != 2 ||
	    json_integer_value(json_object_get(j, "version")) != 1 ||
	    !json_is_integer(json_object_get(j, "version")) || !json_is_object(svc))
		return 0;
	json_object_foreach((json_t *)svc, k, v)
		if (!service_ok(k) || !check_service(v))
			return 0;
	return 1;
}

int
bb_counts_load(const struct bb_spool *s, json_t **out, struct bb_err *e)
{
	char path[4200], *buf = NULL;
	json_error_t je;
	size_t len;
	int rc;

	*out = NULL;
	bb_spool_top_path(s, "counts.json", path, sizeof path);
	rc = bb_read_trusted(path, "counts", BB_TRUST_MINE, COUNTS_MAX, &buf, &len, e);
	if (rc == BB_NOINPUT && access(path, F_OK) != 0 && errno == ENOENT) {
		*out = json_pack("{s:i, s:{}}", "version", 1, "services");
		return *out != NULL ? 0 : bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	if (rc != 0)
		return rc;
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (*out == NULL || !check_counts(*out)) {
		json_decref(*out);
		*out = NULL;
		return bb_fail(e, BB_DATAERR, "%s: not a counts file as bb-queue writes it "
		    "(bb-counts(5)); move it aside to start counting anew", path);
	}
	return 0;
}

/* Adds one to the counter key of object o, made when missing. */
static int
bump(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	long long n = v != NULL ? json_integer_value(v) : 0;

	return json_object_set_new(o, key, json_integer(n + 1));
}

static json_t *
sub_object(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && json_object_set_new(o, key, v = json_object()) != 0)
		return NULL;
	return v;
}

int
bb_counts_add(const struct bb_spool *s, const struct bb_count *c, struct bb_err *e)
{
	char *text;
	json_t *all = NULL, *svc, *m;
	int fd, rc;

	/* One count at a time: read, add, replace. The lock is the open file's, so a count
	 * that dies holding it frees it; the file it replaced is whole either way. */
	if ((rc = bb_spool_counts_lock(s, &fd, e)) != 0)
		return rc;
	if ((rc = bb_counts_load(s, &all, e)) != 0)
		goto out;
	rc = bb_fail(e, BB_SOFTWARE, "out of memory");
	if ((svc = sub_object(json_object_get(all, "services"), c->service)) == NULL ||
	    bump(svc, bb_outcome_name(c->outcome)) != 0)
		goto out;
	if (c->step != NULL && ((m = sub_object(svc, "failed_steps")) == NULL ||
	    bump(m, c->step) != 0))
		goto out;
	if (c->lang != NULL && ((m = sub_object(svc, "lang")) == NULL || bump(m, c->lang) != 0))
		goto out;
	if (c->speech && bump(svc, "speech") != 0)
		goto out;
	if ((text = json_dumps(all, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
		goto out;
	/* Through tmp/: a count killed before its rename leaves a file there that run and
	 * purge remove after an hour, never a half file here. */
	rc = bb_spool_write_top(s, "counts.json", text, strlen(text), e);
	free(text);
out:
	json_decref(all);
	bb_spool_unlock(fd);
	return rc;
}
