/* bb-submit: deliver a case to the authority over FIT-Connect, HTTPS or a directory, and
 * write the case back with what was done — also when it failed, so the queue resumes. */
#include "case.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "form/form.h"
#include "log.h"
#include "submit/submit.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: bb-submit [-c CONFIG] [-v|-q] [-t|--target NAME] [-w|--wait SECONDS] [FILE]\n"
    "       bb-submit --help | --version\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

/* --target, else the service definition's (form.target), else submit.default. */
static const char *
choose_target(const char *given, const json_t *c, const struct bb_config *cfg)
{
	const char *t;

	if (given != NULL)
		return given;
	t = json_string_value(json_object_get(json_object_get(c, "form"), "target"));
	return t != NULL ? t : bb_config_str(cfg, "submit.default");
}

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

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "target", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *target = NULL, *kind;
	struct bb_config *cfg;
	struct bb_err e = { 0, "" }, werr = { 0, "" };
	struct bb_submit x;
	char key[512], now[21], *end;
	json_t *c, *sub;
	long wait = 0;
	int ch, verbosity = 0, rc;

	bb_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "c:t:w:vqhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 't': target = optarg; break;
		case 'w':
			wait = strtol(optarg, &end, 10);
			if (*end != '\0' || wait < 0 || wait > 86400)
				bb_die(BB_USAGE, "--wait: expected seconds (0 to 86400)");
			break;
		case 'v': verbosity++; break;
		case 'q': verbosity--; break;
		case 'h': usage(0);
		case 'V':
			printf("bb-submit (bb) %s\n", BB_VERSION);
			return 0;
		default: usage(BB_USAGE);
		}
	}
	if (argc - optind > 1)
		usage(BB_USAGE);
	if (bb_config_load(config, &cfg, &e) != 0)
		bb_die_err(&e);
	bb_log_setup(cfg);
	bb_log_verbosity(verbosity);
	if (bb_case_read(optind < argc ? argv[optind] : NULL,
	    (size_t)bb_config_int(cfg, "case.max_size"), &c, &e) != 0)
		bb_die_err(&e);
	if (check_needs(c, &e) != 0)
		bb_die_err(&e);

	memset(&x, 0, sizeof x);
	x.cfg = cfg;
	x.c = c;
	x.wait = wait;
	x.timeout = (long)bb_config_int(cfg, "submit.timeout");
	x.id = bb_case_id(c);
	x.target = choose_target(target, c, cfg);
	snprintf(key, sizeof key, "submit.targets.%s.kind", x.target);
	if (strspn(x.target, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(x.target) ||
	    !bb_config_has(cfg, key))
		bb_die(BB_CONFIG, "%s: no such target in %s (submit.targets)", x.target,
		    bb_config_file(cfg) ? bb_config_file(cfg) : "the configuration");
	kind = bb_config_str(cfg, key);

	if ((sub = bb_case_part(c, "submission")) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	x.sub = sub;
	/* A case moved to another target starts over there; so does one whose last attempt
	 * ended (rejected, delivered, failed): only a submission under way is resumed. */
	const char *st = json_string_value(json_object_get(sub, "state"));
	if ((json_is_string(json_object_get(sub, "target")) &&
	    strcmp(json_string_value(json_object_get(sub, "target")), x.target) != 0) ||
	    (st != NULL && (strcmp(st, "rejected") == 0 || strcmp(st, "delivered") == 0 ||
	    strcmp(st, "failed") == 0))) {
		json_object_del(sub, "state");
		json_object_del(sub, "fitconnect");
		json_object_del(sub, "https");
		json_object_del(sub, "dir");
	}
	json_object_set_new(sub, "target", json_string(x.target));
	json_object_set_new(sub, "kind", json_string(kind));
	json_object_set_new(sub, "attempts",
	    json_integer(json_integer_value(json_object_get(sub, "attempts")) + 1));
	bb_time_rfc3339(now);
	json_object_set_new(sub, "last_attempt", json_string(now));
	json_object_del(sub, "error");
	json_object_del(sub, "retry_after");

	if (strcmp(kind, "dir") == 0)
		rc = bb_submit_dir(&x, &e);
	else if (strcmp(kind, "https") == 0)
		rc = bb_submit_https(&x, &e);
	else
		rc = bb_submit_fitconnect(&x, &e);

	if (rc != 0) {
		json_object_set_new(sub, "error", json_string(e.msg));
		if (!json_is_string(json_object_get(sub, "state")))
			json_object_set_new(sub, "state", json_string("failed"));
		bb_warn("%s", e.msg);
		bb_log_n(rc == BB_TEMPFAIL ? LOG_NOTICE : LOG_WARNING, "submit.failed", &x.id,
		    "exit", rc);
	} else {
		bb_log(LOG_INFO, "submit.delivered", &x.id);
	}
	/* The case goes out in any case: what was done must not be lost. */
	if (bb_case_write(c, NULL, &werr) != 0)
		bb_die_err(&werr);
	json_decref(c);
	bb_config_free(cfg);
	return rc;
}
