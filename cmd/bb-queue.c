/* bb-queue: the durable spool of cases that could not be delivered yet, run from cron. */
#include "case.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"
#include "queue/counts.h"
#include "queue/queue.h"
#include "queue/spool.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: bb-queue [-c CONFIG] [-d SPOOL] [-v|-q] COMMAND ...\n"
    "  add [FILE]                       store a case durably; print its entry id\n"
    "  list [--state STATE] [--format text|json]\n"
    "  show ID [--format text|json]     state, attempts, last error, next try\n"
    "  run [--max N] [--time-limit SECONDS] [--deliver COMMAND] [--wait]\n"
    "  retry ID... | --failed\n"
    "  remove ID...\n"
    "  purge [--older-than DURATION]\n"
    "  stats [--format text|json|prometheus]\n"
    "  count --service ID --outcome OUTCOME [--step STEP] [--lang LANG] [--speech]\n"
    "STATE: deferred, active, delivered, failed, corrupt.\n"
    "OUTCOME: started, completed, cancelled, timeout, failed.\n"
    "STEP: card, pin, read, ask, photo, signature, submit, receipt.\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

struct ctx {
	struct bb_config *cfg;
	struct bb_spool spool;
	struct bb_queue_policy policy;
	const char *dir;
};

static void
die_if(int rc, const struct bb_err *e)
{
	if (rc != 0)
		bb_die_err(e);
}

static void
emit_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
}

/* --format's value: text or json, with prometheus where it is allowed. */
static int
format_ok(const char *format, int prometheus)
{
	return strcmp(format, "text") == 0 || strcmp(format, "json") == 0 ||
	    (prometheus && strcmp(format, "prometheus") == 0);
}

/* The options of show and stats: --format only, text on a terminal, else json. */
static const char *
format_option(int argc, char **argv, int prometheus)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = isatty(1) ? "text" : "json";
	int c;

	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (c != 'f')
			usage(BB_USAGE);
		format = optarg;
	}
	if (!format_ok(format, prometheus))
		usage(BB_USAGE);
	return format;
}

/* fn on each id: one that fails is warned about and does not stop the others; the
 * status is that of the last such id. */
static int
each_id(struct ctx *x, char **ids, int n,
    int (*fn)(struct bb_spool *, struct bb_qentry *, struct bb_err *))
{
	struct bb_err e = { 0, "" };
	int i, rc, status = 0;

	for (i = 0; i < n; i++) {
		if ((rc = bb_queue_by_id(&x->spool, ids[i], fn, &e)) != 0) {
			bb_warn("%s", e.msg);
			status = rc;
		}
	}
	return status;
}

static int
cmd_add(struct ctx *x, int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	char id[37];
	json_t *c;

	if (argc > 2)
		usage(BB_USAGE);
	die_if(bb_case_read(argc == 2 ? argv[1] : NULL, x->policy.max_size, &c, &e), &e);
	die_if(bb_spool_open(&x->spool, x->dir, 1, &e), &e);
	die_if(bb_queue_add(&x->spool, c, id, &e), &e);
	printf("%s\n", id);
	json_decref(c);
	return 0;
}

static void
print_entry_text(const json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		if (json_is_string(v))
			printf("%s: %s\n", k, json_string_value(v));
		else if (json_is_integer(v))
			printf("%s: %lld\n", k, (long long)json_integer_value(v));
		else if (json_is_null(v))
			printf("%s: -\n", k);
	}
}

static const char *
str_or_dash(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "-";
}

static int
cmd_list(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	const char *format = isatty(1) ? "text" : "json";
	unsigned mask = BB_Q_ALL;
	size_t i;
	json_t *arr, *o;
	int c, st;

	while ((c = getopt_long(argc, argv, "s:f:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((st = bb_qstate_parse(optarg)) < 0)
				bb_die(BB_USAGE, "%s: not a state (deferred, active, delivered, "
				    "failed, corrupt)", optarg);
			mask = 1u << st;
			break;
		case 'f': format = optarg; break;
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc || !format_ok(format, 0))
		usage(BB_USAGE);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	die_if(bb_queue_list(&x->spool, mask, x->policy.max_size, &arr, &e), &e);
	if (strcmp(format, "json") == 0) {
		emit_json(arr);
	} else {
		if (isatty(1))
			printf("%-36s  %-9s  %8s  %-20s  %s\n", "ID", "STATE", "ATTEMPTS",
			    "NEXT TRY", "ADDED");
		json_array_foreach(arr, i, o)
			printf("%-36s  %-9s  %8lld  %-20s  %s\n", str_or_dash(o, "id"),
			    str_or_dash(o, "state"),
			    (long long)json_integer_value(json_object_get(o, "attempts")),
			    str_or_dash(o, "next_try"), str_or_dash(o, "added"));
	}
	json_decref(arr);
	return 0;
}

static int
cmd_show(struct ctx *x, int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	struct bb_qentry q;
	const char *format = format_option(argc, argv, 0);
	json_t *o;

	if (argc - optind != 1)
		usage(BB_USAGE);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	die_if(bb_spool_find(&x->spool, argv[optind], &q, &e), &e);
	o = bb_queue_describe(&x->spool, &q, x->policy.max_size);
	if (strcmp(format, "json") == 0)
		emit_json(o);
	else
		print_entry_text(o);
	json_decref(o);
	return 0;
}

static int
cmd_run(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max", required_argument, NULL, 'm' },
		{ "time-limit", required_argument, NULL, 't' },
		{ "deliver", required_argument, NULL, 'D' },
		{ "wait", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	struct bb_queue_tally t;
	char *end;
	long long v;
	int c, rc, wait = 0;

	while ((c = getopt_long(argc, argv, "m:t:D:w", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			v = strtoll(optarg, &end, 10);
			if (*end || v < 1)
				bb_die(BB_USAGE, "--max: expected a positive number");
			x->policy.max = (long)v;
			break;
		case 't':
			if ((v = bb_parse_duration(optarg)) < 0)
				bb_die(BB_USAGE, "--time-limit: expected seconds (or 90s, 5m, 1h)");
			x->policy.time_limit = (time_t)v;
			break;
		case 'D': x->policy.deliver = optarg; break;
		case 'w': wait = 1; break;
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc)
		usage(BB_USAGE);
	die_if(bb_queue_pass_config(x->cfg, &e), &e);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	/* The tally first: entries that could not be handled did not stop the others. */
	rc = bb_queue_run(&x->spool, &x->policy, wait, &t, &e);
	bb_log_n(LOG_INFO, "queue.run.delivered", NULL, "n", t.delivered);
	if (t.deferred)
		bb_log_n(LOG_INFO, "queue.run.deferred", NULL, "n", t.deferred);
	if (t.failed)
		bb_log_n(LOG_INFO, "queue.run.failed", NULL, "n", t.failed);
	if (t.recovered)
		bb_log_n(LOG_NOTICE, "queue.run.recovered", NULL, "n", t.recovered);
	die_if(rc, &e);
	return 0;
}

static int
cmd_retry(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	int c, all_failed = 0, status;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f')
			usage(BB_USAGE);
		all_failed = 1;
	}
	if (all_failed == (optind < argc))
		usage(BB_USAGE);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	if (!all_failed)
		return each_id(x, argv + optind, argc - optind, bb_queue_retry);
	die_if(bb_queue_retry_all(&x->spool, BB_Q_FAILED, &status, &e), &e);
	return status;
}

static int
cmd_remove(struct ctx *x, int argc, char **argv)
{
	struct bb_err e = { 0, "" };

	if (argc < 2)
		usage(BB_USAGE);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	return each_id(x, argv + 1, argc - 1, bb_queue_remove);
}

static int
cmd_purge(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	time_t age = -1;	/* each state's own retention */
	long long v;
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c != 'o')
			usage(BB_USAGE);
		if ((v = bb_parse_duration(optarg)) < 0)
			bb_die(BB_USAGE, "--older-than: expected a duration (90m, 96h, 5d)");
		age = (time_t)v;
	}
	if (optind != argc)
		usage(BB_USAGE);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	die_if(bb_queue_purge(&x->spool, &x->policy, age, &n, &e), &e);
	bb_log_n(LOG_INFO, "queue.purged", NULL, "n", n);
	return 0;
}

static int
cmd_count(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "outcome", required_argument, NULL, 'o' },
		{ "step", required_argument, NULL, 't' },
		{ "lang", required_argument, NULL, 'l' },
		{ "speech", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	struct bb_count k = { NULL, BB_OUT_N, NULL, NULL, 0 };
	int c, o;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': k.service = optarg; break;
		case 'o':
			/* An unknown outcome stays BB_OUT_N, which the check refuses. */
			k.outcome = (o = bb_outcome_parse(optarg)) < 0 ? BB_OUT_N :
			    (enum bb_outcome)o;
			break;
		case 't': k.step = optarg; break;
		case 'l': k.lang = optarg; break;
		case 'S': k.speech = 1; break;
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc)
		usage(BB_USAGE);
	die_if(bb_count_check(x->cfg, &k, &e), &e);
	die_if(bb_spool_open(&x->spool, x->dir, 1, &e), &e);
	die_if(bb_counts_add(&x->spool, &k, &e), &e);
	return 0;
}

/* The usage counts beside the queue's numbers: NULL (with a warning) when the file is
 * not what count writes, so that the queue's numbers still come. */
static json_t *
load_counts(struct ctx *x)
{
	struct bb_err e = { 0, "" };
	json_t *j;

	if (bb_counts_load(&x->spool, &j, &e) != 0) {
		bb_warn("%s; the usage counts are left out", e.msg);
		return NULL;
	}
	return j;
}

/* One Prometheus family over the services: for each service, each key of its object
 * sub (NULL: the service object itself, keys in keys), as label="key". */
static void
prom_family(json_t *services, const char *name, const char *help, const char *sub,
    const char *label, const char *const *keys)
{
	const char *id, *k;
	json_t *svc, *m, *v;
	size_t i;

	printf("# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	json_object_foreach(services, id, svc) {
		if (label == NULL) {
			printf("%s{service=\"%s\"} %lld\n", name, id,
			    (long long)json_integer_value(json_object_get(svc, "speech")));
			continue;
		}
		if (keys != NULL) {
			for (i = 0; keys[i] != NULL; i++)
				printf("%s{service=\"%s\",%s=\"%s\"} %lld\n", name, id, label,
				    keys[i],
				    (long long)json_integer_value(json_object_get(svc, keys[i])));
			continue;
		}
		m = json_object_get(svc, sub);
		json_object_foreach(m, k, v)
			printf("%s{service=\"%s\",%s=\"%s\"} %lld\n", name, id, label, k,
			    (long long)json_integer_value(v));
	}
}

static void
print_counts(json_t *counts, const char *format)
{
	const char *outcomes[BB_OUT_N + 1], *id, *k;	/* counts.json's names */
	json_t *services = json_object_get(counts, "services"), *svc, *m, *v;
	size_t i;

	for (i = 0; i < BB_OUT_N; i++)
		outcomes[i] = bb_outcome_name((enum bb_outcome)i);
	outcomes[i] = NULL;

	if (strcmp(format, "prometheus") == 0) {
		/* Values are checked on load (bb_counts_load): ids, steps and language tags
		 * of fixed shapes, nothing to escape. */
		prom_family(services, "bb_kiosk_sessions_total",
		    "Kiosk sessions by service and outcome.", NULL, "outcome", outcomes);
		prom_family(services, "bb_kiosk_failed_total",
		    "Kiosk sessions that failed, by service and step.", "failed_steps", "step",
		    NULL);
		prom_family(services, "bb_kiosk_language_total",
		    "Kiosk sessions by service and the language they ended in.", "lang", "lang",
		    NULL);
		prom_family(services, "bb_kiosk_speech_total",
		    "Kiosk sessions with speech on, by service.", NULL, NULL, NULL);
		return;
	}
	json_object_foreach(services, id, svc) {
		for (i = 0; outcomes[i] != NULL; i++)
			printf("count %s %s: %lld\n", id, outcomes[i],
			    (long long)json_integer_value(json_object_get(svc, outcomes[i])));
		m = json_object_get(svc, "failed_steps");
		json_object_foreach(m, k, v)
			printf("count %s failed at %s: %lld\n", id, k,
			    (long long)json_integer_value(v));
		m = json_object_get(svc, "lang");
		json_object_foreach(m, k, v)
			printf("count %s lang %s: %lld\n", id, k, (long long)json_integer_value(v));
		printf("count %s speech: %lld\n", id,
		    (long long)json_integer_value(json_object_get(svc, "speech")));
	}
}

static void
stats_prometheus(const struct bb_queue_stats *q)
{
	int st;

	printf("# HELP bb_queue_entries Entries in the spool by state.\n"
	    "# TYPE bb_queue_entries gauge\n");
	for (st = 0; st < BB_Q_NSTATES; st++)
		printf("bb_queue_entries{state=\"%s\"} %ld\n", bb_qstate_name((enum bb_qstate)st),
		    q->entries[st]);
	printf("# HELP bb_queue_oldest_waiting_seconds Age of the oldest entry not yet "
	    "delivered.\n# TYPE bb_queue_oldest_waiting_seconds gauge\n"
	    "bb_queue_oldest_waiting_seconds %lld\n", (long long)q->oldest_waiting);
	printf("# HELP bb_queue_oldest_unhandled_seconds Time since the oldest failed or "
	    "corrupt entry got there (0: none).\n"
	    "# TYPE bb_queue_oldest_unhandled_seconds gauge\n"
	    "bb_queue_oldest_unhandled_seconds{state=\"failed\"} %lld\n"
	    "bb_queue_oldest_unhandled_seconds{state=\"corrupt\"} %lld\n",
	    (long long)q->oldest_failed, (long long)q->oldest_corrupt);
	if (q->next_due)
		printf("# HELP bb_queue_next_due_timestamp_seconds When the next deferred "
		    "entry is due.\n# TYPE bb_queue_next_due_timestamp_seconds gauge\n"
		    "bb_queue_next_due_timestamp_seconds %lld\n", (long long)q->next_due);
}

static void
stats_text(const char *dir, const struct bb_queue_stats *q)
{
	char when[21];
	int st;

	if (q->next_due)
		bb_time_format(q->next_due, when);
	printf("spool: %s\n", dir);
	for (st = 0; st < BB_Q_NSTATES; st++)
		printf("%s: %ld\n", bb_qstate_name((enum bb_qstate)st), q->entries[st]);
	printf("oldest waiting: %lld s\noldest failed: %lld s\noldest corrupt: %lld s\n"
	    "next due: %s\n", (long long)q->oldest_waiting, (long long)q->oldest_failed,
	    (long long)q->oldest_corrupt, q->next_due ? when : "-");
}

static void
stats_json(const char *dir, const struct bb_queue_stats *q, json_t *counts)
{
	json_t *o = json_object(), *states = json_object();
	char when[21];
	int st;

	for (st = 0; st < BB_Q_NSTATES; st++)
		json_object_set_new(states, bb_qstate_name((enum bb_qstate)st),
		    json_integer(q->entries[st]));
	json_object_set_new(o, "spool", json_string(dir));
	json_object_set_new(o, "entries", states);
	json_object_set_new(o, "oldest_waiting_seconds", json_integer(q->oldest_waiting));
	json_object_set_new(o, "oldest_failed_seconds", json_integer(q->oldest_failed));
	json_object_set_new(o, "oldest_corrupt_seconds", json_integer(q->oldest_corrupt));
	if (q->next_due)
		bb_time_format(q->next_due, when);
	json_object_set_new(o, "next_due", q->next_due ? json_string(when) : json_null());
	if (counts != NULL)
		json_object_set(o, "counts", json_object_get(counts, "services"));
	emit_json(o);
	json_decref(o);
}

/* The numbers are bb_queue_stats's; this only formats them. */
static int
cmd_stats(struct ctx *x, int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	struct bb_queue_stats q;
	const char *format = format_option(argc, argv, 1);
	json_t *counts;

	if (optind != argc)
		usage(BB_USAGE);
	die_if(bb_spool_open(&x->spool, x->dir, 0, &e), &e);
	die_if(bb_queue_stats(&x->spool, time(NULL), &q, &e), &e);
	counts = load_counts(x);
	if (strcmp(format, "json") == 0) {
		stats_json(x->dir, &q, counts);
	} else {
		if (strcmp(format, "prometheus") == 0)
			stats_prometheus(&q);
		else
			stats_text(x->dir, &q);
		if (counts != NULL)
			print_counts(counts, format);
	}
	json_decref(counts);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct ctx *, int, char **);
	} cmds[] = {
		{ "add", cmd_add }, { "list", cmd_list }, { "show", cmd_show },
		{ "run", cmd_run }, { "retry", cmd_retry }, { "remove", cmd_remove },
		{ "purge", cmd_purge }, { "stats", cmd_stats }, { "count", cmd_count },
	};
	struct bb_err e = { 0, "" };
	struct ctx x;
	struct bb_cli cli;
	char *dir;
	int rc;
	size_t i;

	bb_init(argv[0]);
	memset(&x, 0, sizeof x);
	bb_cli_start(&cli, &argc, &argv, usage, 1);
	x.cfg = cli.cfg;
	bb_queue_policy_init(&x.policy, x.cfg);
	x.policy.echo_stderr = cli.verbosity > 0;
	if ((dir = bb_queue_spool_dir(cli.spool, x.cfg, &e)) == NULL)
		bb_die_err(&e);
	x.dir = dir;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cli.cmd, cmds[i].name) == 0)
			break;
	if (i == sizeof cmds / sizeof cmds[0]) {
		bb_warn("%s: unknown command", cli.cmd);
		usage(BB_USAGE);
	}
	rc = cmds[i].fn(&x, argc, argv);
	bb_spool_close(&x.spool);
	bb_config_free(x.cfg);
	free(dir);
	return rc;
}
