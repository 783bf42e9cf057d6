/* bb.yaml: schema, loading and typed lookup with built-in defaults. */
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "log.h"
#include "yamltree.h"

#include <linux/input.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef BB_SERVICES_DIR
#define BB_SERVICES_DIR "/usr/local/share/bb/services"
#endif
#ifndef BB_SCREENS_DIR
#define BB_SCREENS_DIR "/usr/local/share/bb/screens"
#endif

enum ctype { C_SECTION, C_STR, C_BOOL, C_INT, C_COUNT, C_SIZE, C_DURATION, C_ENUM };

struct schema_key {
	const char *key;
	enum ctype type;
	const char *def;	/* NULL: computed (terminal) or none */
	const char *choices;	/* C_ENUM: space-separated */
};

/* The whole file's schema: every program checks every section, so a typo anywhere in
 * bb.yaml is found by whichever program reads it first. Later programs add their keys. */
static const struct schema_key schema[] = {
	{ "terminal", C_STR, NULL, NULL },
	{ "log", C_SECTION, NULL, NULL },
	{ "log.level", C_ENUM, "info", "debug info notice warning err" },
	{ "log.syslog", C_BOOL, "false", NULL },
	{ "log.facility", C_ENUM, "user",
	  "user daemon local0 local1 local2 local3 local4 local5 local6 local7" },
	{ "case", C_SECTION, NULL, NULL },
	{ "case.max_size", C_SIZE, "64M", NULL },
	{ "form", C_SECTION, NULL, NULL },
	{ "form.services", C_STR, BB_SERVICES_DIR, NULL },
	{ "form.screens", C_STR, BB_SCREENS_DIR, NULL },
	{ "form.lang", C_ENUM, "de", "de en" },
	{ "form.idle", C_DURATION, "2m", NULL },
	{ "form.warning", C_DURATION, "30s", NULL },
	{ "form.headset", C_STR, NULL, NULL },
	{ "form.printer", C_STR, NULL, NULL },
	{ "queue", C_SECTION, NULL, NULL },
	{ "queue.spool", C_STR, NULL, NULL },
	{ "queue.deliver", C_STR, "bb-submit", NULL },
	{ "queue.timeout", C_DURATION, "10m", NULL },
	{ "queue.backoff_min", C_DURATION, "5m", NULL },
	{ "queue.backoff_max", C_DURATION, "4h", NULL },
	{ "queue.lifetime", C_DURATION, "5d", NULL },
	{ "queue.retention", C_DURATION, "96h", NULL },
	{ "queue.failed_retention", C_DURATION, "14d", NULL },
	{ "queue.corrupt_retention", C_DURATION, "14d", NULL },
	{ "queue.max", C_COUNT, "100", NULL },
	{ "queue.time_limit", C_DURATION, "10m", NULL },
	{ "submit", C_SECTION, NULL, NULL },
	{ "submit.default", C_STR, "authority", NULL },
	{ "submit.timeout", C_DURATION, "60s", NULL },
	{ "submit.targets", C_SECTION, NULL, NULL },
	{ "submit.targets.*", C_SECTION, NULL, NULL },
	{ "submit.targets.*.kind", C_ENUM, NULL, "fitconnect https dir" },
	{ "submit.targets.*.submission_api", C_STR, NULL, NULL },
	{ "submit.targets.*.token_url", C_STR, NULL, NULL },
	{ "submit.targets.*.client_id", C_STR, NULL, NULL },
	{ "submit.targets.*.client_secret_file", C_STR, NULL, NULL },
	{ "submit.targets.*.destination", C_STR, NULL, NULL },
	{ "submit.targets.*.service_identifier", C_STR, NULL, NULL },
	{ "submit.targets.*.service_name", C_STR, NULL, NULL },
	{ "submit.targets.*.schema_uri", C_STR, NULL, NULL },
	{ "submit.targets.*.key_trust", C_STR, NULL, NULL },
	{ "submit.targets.*.ca_file", C_STR, NULL, NULL },
	{ "submit.targets.*.url", C_STR, NULL, NULL },
	{ "submit.targets.*.client_cert", C_STR, NULL, NULL },
	{ "submit.targets.*.client_key", C_STR, NULL, NULL },
	{ "submit.targets.*.bearer_token_file", C_STR, NULL, NULL },
	{ "submit.targets.*.format", C_ENUM, "case", "case multipart" },
	{ "submit.targets.*.path", C_STR, NULL, NULL },
	{ "capture", C_SECTION, NULL, NULL },
	{ "capture.camera", C_STR, "/dev/video0", NULL },
	{ "capture.camera_size", C_STR, "3840x2160", NULL },
	{ "capture.pad", C_STR, NULL, NULL },
	{ "capture.profile", C_ENUM, "live", "live scan" },
	{ "capture.tries", C_INT, "50", NULL },
	{ "capture.timeout", C_DURATION, "120s", NULL },
	{ "capture.cascades", C_STR, "/usr/share/opencv4/haarcascades", NULL },
	{ "capture.dpi", C_INT, "300", NULL },
	{ "eid", C_SECTION, NULL, NULL },
	{ "eid.reader", C_STR, NULL, NULL },
	{ "eid.pki", C_STR, NULL, NULL },
	{ "eid.dv_cert", C_STR, NULL, NULL },
	{ "eid.terminal_cert", C_STR, NULL, NULL },
	{ "eid.terminal_key", C_STR, NULL, NULL },
	{ "eid.terminal_key_pin_file", C_STR, NULL, NULL },
	{ "eid.cvca_dir", C_STR, NULL, NULL },
	{ "eid.csca_dir", C_STR, NULL, NULL },
	{ "eid.certificate_description", C_STR, NULL, NULL },
	{ "eid.fields", C_STR, "all", NULL },
	{ "eid.services", C_SECTION, NULL, NULL },
	{ "eid.services.*", C_SECTION, NULL, NULL },
	{ "eid.services.*.fields", C_STR, NULL, NULL },
	{ "eid.services.*.tc_token_url", C_STR, NULL, NULL },
	{ "eid.services.*.result_url", C_STR, NULL, NULL },
	{ "eid.online", C_SECTION, NULL, NULL },
	{ "eid.online.sdk", C_STR, "ws://127.0.0.1:24727/eID-Kernel", NULL },
	{ "eid.online.timeout", C_DURATION, "3m", NULL },
	{ "eid.online.card_wait", C_DURATION, "5s", NULL },
	{ "eid.online.ca_file", C_STR, NULL, NULL },
	{ "kiosk", C_SECTION, NULL, NULL },
	{ "kiosk.session", C_STR, "/run/bb/session", NULL },
	{ "kiosk.presence", C_STR, NULL, NULL },
	{ "kiosk.presence_device", C_STR, NULL, NULL },
	{ "kiosk.presence_event", C_STR, NULL, NULL },
};

#define NKEYS (sizeof schema / sizeof schema[0])

/* As for any YAML file bb reads (yamltree.c). */
#define CONFIG_MAX_SIZE (16u << 20)

/* The keys of each kind of target (bb.yaml(5)): a key of another kind is a mistake (a
 * url in a dir target does nothing), a required key that is missing would fail only at
 * delivery, hours later in the queue; both are found when any program loads the file. */
enum { T_REQ = 1, T_URL = 2, T_UUID = 4 };
static const struct target_key {
	const char *key;
	const char *kinds;	/* space-separated */
	unsigned flags;
} target_keys[] = {
	{ "submission_api", "fitconnect", T_REQ | T_URL },
	{ "token_url", "fitconnect", T_REQ | T_URL },
	{ "client_id", "fitconnect", T_REQ },
	{ "client_secret_file", "fitconnect", T_REQ },
	{ "destination", "fitconnect", T_REQ | T_UUID },
	{ "service_identifier", "fitconnect", 0 },
	{ "service_name", "fitconnect", 0 },
	{ "schema_uri", "fitconnect", T_REQ },
	{ "key_trust", "fitconnect", T_REQ },
	{ "ca_file", "fitconnect https", 0 },
	{ "url", "https", T_REQ | T_URL },
	{ "format", "https", 0 },
	{ "bearer_token_file", "https", 0 },
	{ "client_cert", "https", 0 },
	{ "client_key", "https", 0 },
	{ "path", "dir", T_REQ },
};

struct bb_config {
	char *file;
	struct bb_ynode *root;
	char terminal[256];
};

/* A schema key matches a key when their dotted parts are equal, "*" matching any one
 * part (the name of a target under submit.targets). */
static int
key_matches(const char *pattern, const char *key)
{
	while (*pattern && *key) {
		size_t pl = strcspn(pattern, "."), kl = strcspn(key, ".");
		if (!(pl == 1 && *pattern == '*') && (pl != kl || strncmp(pattern, key, pl) != 0))
			return 0;
		pattern += pl;
		key += kl;
		if ((*pattern == '.') != (*key == '.'))
			return 0;
		if (*pattern == '.') {
			pattern++;
			key++;
		}
	}
	return *pattern == '\0' && *key == '\0';
}

static const struct schema_key *
find_key(const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (key_matches(schema[i].key, key))
			return &schema[i];
	return NULL;
}

int
bb_lang_tag_ok(const char *s, size_t len)
{
	size_t i, start = 0;
	int first = 1;

	if (len == 0 || len > 35)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '-') {
			size_t part = i - start;
			if (first ? (part < 2 || part > 3) : (part < 1 || part > 8))
				return 0;
			first = 0;
			start = i + 1;
		} else if (!(s[i] >= 'a' && s[i] <= 'z') && (first ||
		    !((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))) {
			return 0;
		}
	}
	return 1;
}

long long
bb_parse_size(const char *s)
{
	char *end;
	long long v, mul = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1LL << 10;
	else if (*end == 'M')
		mul = 1LL << 20;
	else if (*end == 'G')
		mul = 1LL << 30;
	else if (*end != '\0')
		return -1;
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > (1LL << 62) / mul)
		return -1;
	return v * mul;
}

long long
bb_parse_duration(const char *s)
{
	char *end;
	long long v, mul;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0': case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > (1LL << 62) / mul)
		return -1;
	return v * mul;
}

int
bb_parse_input_event(const char *s, int *type, int *code, int *value)
{
	const char *p;
	char *end;
	long c, v;

	if (strncmp(s, "key:", 4) == 0) {
		*type = EV_KEY;
		p = s + 4;
	} else if (strncmp(s, "sw:", 3) == 0) {
		*type = EV_SW;
		p = s + 3;
	} else
		return -1;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	c = strtol(p, &end, 0);
	if (errno != 0 || c > (*type == EV_KEY ? KEY_MAX : SW_MAX))
		return -1;
	/* A key's press; a switch turned off: the sensor no longer sees anyone. */
	v = *type == EV_KEY ? 1 : 0;
	if (*end == ':') {
		p = end + 1;
		if (*p < '0' || *p > '9')
			return -1;
		v = strtol(p, &end, 10);
		if (errno != 0 || v > 2)
			return -1;
	}
	if (*end != '\0')
		return -1;
	*code = (int)c;
	*value = (int)v;
	return 0;
}

/* v is exactly one of the space-separated words of choices. */
static int
enum_has(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	if (n == 0 || strchr(v, ' ') != NULL)
		return 0;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (w == n && strncmp(p, v, n) == 0)
			return 1;
		p += w;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static int
check_value(const char *file, const struct schema_key *k, const char *key,
    const struct bb_ynode *v, struct bb_err *e)
{
	int b;
	long long n;

	if (k->type == C_SECTION) {
		if (v->kind != BB_Y_MAP)
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected a mapping, not %s",
			    file, v->line, key, bb_yaml_kind_name(v));
		return 0;
	}
	if (v->kind != BB_Y_SCALAR)
		return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected a value, not %s", file,
		    v->line, key, bb_yaml_kind_name(v));
	switch (k->type) {
	case C_BOOL:
		if (bb_yaml_bool(v, &b) != 0)
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected true or false", file,
			    v->line, key);
		break;
	case C_INT:
		if (bb_yaml_long(v, &n) != 0)
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected an integer", file,
			    v->line, key);
		break;
	case C_COUNT:
		if (bb_yaml_long(v, &n) != 0 || n < 1)
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected a positive integer",
			    file, v->line, key);
		break;
	case C_SIZE:
		if (bb_parse_size(v->str) < 0)
			return bb_fail(e, BB_CONFIG,
			    "%s:%d: %s: expected a size (bytes, or with K, M, G)", file, v->line,
			    key);
		break;
	case C_DURATION:
		if (bb_parse_duration(v->str) < 0)
			return bb_fail(e, BB_CONFIG,
			    "%s:%d: %s: expected a duration (seconds, or with s, m, h, d)", file,
			    v->line, key);
		break;
	case C_ENUM:
		if (!enum_has(k->choices, v->str))
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: expected one of: %s", file,
			    v->line, key, k->choices);
		break;
	case C_STR:
		if (v->str[0] == '\0')
			return bb_fail(e, BB_CONFIG, "%s:%d: %s: must not be empty", file,
			    v->line, key);
		break;
	case C_SECTION:
		break;
	}
	return 0;
}

static int
check_map(const char *file, const char *prefix, const struct bb_ynode *map,
    struct bb_err *e)
{
	char key[256];
	const struct schema_key *k;
	size_t i;
	int rc;

	for (i = 0; i < map->n; i++) {
		snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", map->keys[i]);
		if ((k = find_key(key)) == NULL)
			return bb_fail(e, BB_CONFIG, "%s:%d: unknown key '%s'", file,
			    map->key_lines[i], key);
		if ((rc = check_value(file, k, key, map->items[i], e)) != 0)
			return rc;
		if (k->type == C_SECTION && (rc = check_map(file, key, map->items[i], e)) != 0)
			return rc;
	}
	return 0;
}

/* https://HOST..., nothing else: libcurl is limited to https too, but a plain http URL
 * is better refused when the file is loaded than when the first case is delivered. */
static int
is_https_url(const char *s)
{
	const char *p;

	if (strncasecmp(s, "https://", 8) != 0 || s[8] == '\0' || s[8] == '/')
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int
check_target(const char *file, const char *name, int name_line,
    const struct bb_ynode *t, struct bb_err *e)
{
	const struct bb_ynode *kind = bb_yaml_get(t, "kind"), *v;
	struct bb_case_id id;
	size_t i;

	if (name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-")] != '\0')
		return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s: a target's name is made "
		    "of a-z, 0-9, '_' and '-'", file, name_line, name);
	if (kind == NULL)
		return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s.kind is not set", file,
		    t->line, name);
	for (i = 0; i < t->n; i++) {
		const struct target_key *k = NULL;
		size_t j;

		if (strcmp(t->keys[i], "kind") == 0)
			continue;
		for (j = 0; j < sizeof target_keys / sizeof target_keys[0]; j++)
			if (strcmp(target_keys[j].key, t->keys[i]) == 0)
				k = &target_keys[j];
		if (k == NULL || !enum_has(k->kinds, kind->str))
			return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s.%s: not a key of "
			    "a target of kind %s", file, t->key_lines[i], name, t->keys[i],
			    kind->str);
		v = t->items[i];
		if ((k->flags & T_URL) && !is_https_url(v->str))
			return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s.%s: expected an "
			    "https URL", file, v->line, name, t->keys[i]);
		if ((k->flags & T_UUID) && bb_case_id_parse(&id, v->str) != 0)
			return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s.%s: expected a "
			    "UUID", file, v->line, name, t->keys[i]);
	}
	for (i = 0; i < sizeof target_keys / sizeof target_keys[0]; i++)
		if ((target_keys[i].flags & T_REQ) && enum_has(target_keys[i].kinds, kind->str) &&
		    bb_yaml_get(t, target_keys[i].key) == NULL)
			return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s.%s is not set (a "
			    "%s target needs it)", file, t->line, name, target_keys[i].key,
			    kind->str);
	if ((bb_yaml_get(t, "client_cert") == NULL) != (bb_yaml_get(t, "client_key") == NULL))
		return bb_fail(e, BB_CONFIG, "%s:%d: submit.targets.%s: client_cert and "
		    "client_key go together", file, t->line, name);
	return 0;
}

/* The kiosk's presence device needs its event, and the event its device. */
static int
check_kiosk(const char *file, const struct bb_ynode *root, struct bb_err *e)
{
	const struct bb_ynode *k = bb_yaml_get(root, "kiosk"), *dev, *ev;
	int type, code, value;

	if (k == NULL)
		return 0;
	dev = bb_yaml_get(k, "presence_device");
	ev = bb_yaml_get(k, "presence_event");
	if (ev != NULL && bb_parse_input_event(ev->str, &type, &code, &value) != 0)
		return bb_fail(e, BB_CONFIG, "%s:%d: kiosk.presence_event: expected key:CODE or "
		    "sw:CODE, and :VALUE (0 to 2) if not the default", file, ev->line);
	if ((dev == NULL) != (ev == NULL))
		return bb_fail(e, BB_CONFIG, "%s:%d: kiosk.presence_device and "
		    "kiosk.presence_event go together", file, (dev != NULL ? dev : ev)->line);
	return 0;
}

/* After the schema: what a target needs beyond the type of each value. */
static int
check_targets(const char *file, const struct bb_ynode *root, struct bb_err *e)
{
	const struct bb_ynode *targets = bb_yaml_get(bb_yaml_get(root, "submit"), "targets");
	size_t i;
	int rc;

	if (targets == NULL)
		return 0;
	for (i = 0; i < targets->n; i++)
		if ((rc = check_target(file, targets->keys[i], targets->key_lines[i],
		    targets->items[i], e)) != 0)
			return rc;
	return 0;
}

/* bb.yaml can name a shell command (queue.deliver) and where cases go: like ssh with its
 * configuration, bb reads it only when nobody but its owner, the running user or root,
 * can have written it. */
static int
load_trusted(const char *path, struct bb_ynode **root, struct bb_err *e)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = bb_read_trusted(path, "file", 0, CONFIG_MAX_SIZE, &buf, &len,
	    e)) != 0)
		return rc;
	rc = bb_yaml_load_buffer(path, buf, len, root, e);
	free(buf);
	return rc;
}

int
bb_config_load(const char *path, struct bb_config **out, struct bb_err *e)
{
	struct bb_config *cfg;
	int rc, named = path != NULL;

	*out = NULL;
	if (path == NULL && (path = getenv("BB_CONFIG")) != NULL && *path != '\0')
		named = 1;
	else if (path == NULL || *path == '\0')
		path = BB_CONFIG_DEFAULT_PATH;
	if ((cfg = calloc(1, sizeof *cfg)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (gethostname(cfg->terminal, sizeof cfg->terminal - 1) != 0 || !cfg->terminal[0])
		strcpy(cfg->terminal, "terminal");
	if (!named && access(path, F_OK) != 0 && errno == ENOENT) {
		*out = cfg;
		return 0;
	}
	rc = load_trusted(path, &cfg->root, e);
	if (rc != 0) {
		if (rc != BB_CONFIG)
			e->status = rc = BB_CONFIG;
		bb_config_free(cfg);
		return bb_err_context(e, "configuration");
	}
	if (cfg->root != NULL) {
		if (cfg->root->kind != BB_Y_MAP)
			rc = bb_fail(e, BB_CONFIG, "%s:%d: expected a mapping of sections", path,
			    cfg->root->line);
		else if ((rc = check_map(path, "", cfg->root, e)) == 0 &&
		    (rc = check_targets(path, cfg->root, e)) == 0)
			rc = check_kiosk(path, cfg->root, e);
		if (rc != 0) {
			bb_config_free(cfg);
			return rc;
		}
	}
	if ((cfg->file = strdup(path)) == NULL) {
		bb_config_free(cfg);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	*out = cfg;
	return 0;
}

void
bb_config_free(struct bb_config *cfg)
{
	if (cfg == NULL)
		return;
	bb_yaml_free(cfg->root);
	free(cfg->file);
	free(cfg);
}

const char *
bb_config_file(const struct bb_config *cfg)
{
	return cfg != NULL ? cfg->file : NULL;
}

static const struct bb_ynode *
lookup(const struct bb_config *cfg, const char *key)
{
	char part[256];
	const struct bb_ynode *n = cfg != NULL ? cfg->root : NULL;
	const char *p = key, *dot;

	while (n != NULL && *p) {
		dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof part)
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		n = bb_yaml_get(n, part);
		p += len + (dot != NULL);
	}
	return n;
}

static const struct schema_key *
must_find(const char *key)
{
	const struct schema_key *k = find_key(key);

	if (k == NULL) {
		fprintf(stderr, "%s: internal error: configuration key %s not in schema\n",
		    bb_progname, key);
		abort();
	}
	return k;
}

const char *
bb_config_str(const struct bb_config *cfg, const char *key)
{
	const struct schema_key *k = must_find(key);
	const struct bb_ynode *n = lookup(cfg, key);

	if (n != NULL && n->kind == BB_Y_SCALAR)
		return n->str;
	if (strcmp(key, "terminal") == 0)
		return cfg != NULL ? cfg->terminal : "terminal";
	return k->def;
}

int
bb_config_bool(const struct bb_config *cfg, const char *key)
{
	const struct schema_key *k = must_find(key);
	const struct bb_ynode *n = lookup(cfg, key);
	int b = 0;

	if (n != NULL && bb_yaml_bool(n, &b) == 0)
		return b;
	return k->def != NULL && strcmp(k->def, "true") == 0;
}

int
bb_config_has(const struct bb_config *cfg, const char *key)
{
	return lookup(cfg, key) != NULL;
}

int
bb_config_line(const struct bb_config *cfg, const char *key)
{
	const struct bb_ynode *n = lookup(cfg, key);

	return n != NULL ? n->line : 0;
}

size_t
bb_config_names(const struct bb_config *cfg, const char *section, const char ***names)
{
	const struct bb_ynode *n = lookup(cfg, section);

	*names = NULL;
	if (n == NULL || n->kind != BB_Y_MAP)
		return 0;
	*names = (const char **)n->keys;
	return n->n;
}

long long
bb_config_int(const struct bb_config *cfg, const char *key)
{
	const struct schema_key *k = must_find(key);
	const char *s = bb_config_str(cfg, key);

	if (s == NULL)
		return 0;
	if (k->type == C_SIZE)
		return bb_parse_size(s);
	if (k->type == C_DURATION)
		return bb_parse_duration(s);
	return strtoll(s, NULL, 10);
}

int
bb_config_print(const struct bb_config *cfg, const char *key, FILE *f, struct bb_err *e)
{
	const struct schema_key *k = find_key(key);
	const char *v;

	if (k == NULL || strchr(key, '*') != NULL)
		return bb_fail(e, BB_USAGE, "%s: no such key (bb.yaml(5))", key);
	if (k->type == C_SECTION)
		return bb_fail(e, BB_USAGE, "%s: a section, not a key", key);
	if ((v = bb_config_str(cfg, key)) == NULL)
		return 1;
	if (k->type == C_DURATION || k->type == C_SIZE)
		fprintf(f, "%lld\n", bb_config_int(cfg, key));
	else if (k->type == C_BOOL)
		fprintf(f, "%s\n", bb_config_bool(cfg, key) ? "true" : "false");
	else
		fprintf(f, "%s\n", v);
	return 0;
}
