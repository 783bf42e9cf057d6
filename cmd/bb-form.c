/* bb-form: the application forms of a service — lint definitions, fill a case's form part
 * without a screen, show a form as a person reads it — and the citizen's screen: serve it
 * to the kiosk browser, tell it what to show between steps. */
#include "case.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "form/ask.h"
#include "form/form.h"
#include "log.h"
#include "screen/receipt.h"
#include "screen/screen.h"
#include "screen/server.h"
#include "screen/speech.h"
#include "secmem.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: bb-form [-c CONFIG] [-v|-q] check FORM...\n"
    "       bb-form [-c CONFIG] [-v|-q] fill FORM [--set NAME=VALUE]... [--answers FILE]\n"
    "               [--new] [-o OUT] [CASE]\n"
    "       bb-form [-c CONFIG] show FORM [--format text|json] [--lang de|en]\n"
    "       bb-form [-c CONFIG] needs FORM\n"
    "       bb-form [-c CONFIG] [-v|-q] serve [--listen 127.0.0.1:PORT] [--control PATH]\n"
    "       bb-form [-c CONFIG] [-v|-q] ask FORM [--screen PATH] [--timeout S] [--new]\n"
    "               [--tty] [-o OUT] [CASE]\n"
    "       bb-form [-c CONFIG] pin [--can | --puk | --confirm] [--digits N] [--tries N]\n"
    "               [--timeout S] [--screen PATH | --tty] --to-fd N\n"
    "       bb-form [-c CONFIG] tell SCREEN [--screen PATH] [--set K=V]... [--set-from FILE]\n"
    "               [--until tap|S] [--mirror DIR]\n"
    "       bb-form [-c CONFIG] end [--screen PATH]\n"
    "       bb-form [-c CONFIG] config KEY\n"
    "       bb-form [-c CONFIG] presence\n"
    "       bb-form [-c CONFIG] receipt CASE [--screen PATH] [--until tap|S] [--pdf FILE]\n"
    "       bb-form --help | --version\n"
    "FORM is a form.yaml path or a service id (looked up in form.services).\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

/* A service id names DIR/ID/form.yaml; anything with a slash or .yaml is a path. */
static char *
resolve_form(const char *arg, const struct bb_config *cfg)
{
	const char *dir = bb_config_str(cfg, "form.services");
	size_t len;
	char *path;

	if (strchr(arg, '/') != NULL || (strlen(arg) > 5 &&
	    strcmp(arg + strlen(arg) - 5, ".yaml") == 0))
		return strdup(arg);
	if (strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(arg) || !*arg)
		bb_die(BB_USAGE, "%s: not a service id or a path to a form", arg);
	len = strlen(dir) + strlen(arg) + 16;
	if ((path = malloc(len)) != NULL)
		snprintf(path, len, "%s/%s/form.yaml", dir, arg);
	return path;
}

static void
print_problems(const struct bb_problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		fprintf(stderr, "%s: %s\n", bb_progname, p->msg[i]);
}

static struct bb_form *
load_form(const char *arg, const struct bb_config *cfg)
{
	struct bb_problems p = { 0 };
	struct bb_form *form;
	char *path = resolve_form(arg, cfg);
	int rc;

	if (path == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	rc = bb_form_load(path, &form, &p);
	free(path);
	if (rc != 0) {
		print_problems(&p);
		bb_problems_free(&p);
		exit(rc);
	}
	return form;
}

static int
cmd_check(int argc, char **argv, const struct bb_config *cfg)
{
	int i, status = 0;

	if (argc < 1)
		usage(BB_USAGE);
	for (i = 0; i < argc; i++) {
		struct bb_problems p = { 0 };
		struct bb_form *form;
		char *path = resolve_form(argv[i], cfg);
		int rc = path != NULL ? bb_form_load(path, &form, &p) : BB_SOFTWARE;
		print_problems(&p);
		bb_problems_free(&p);
		if (rc == 0)
			bb_form_free(form);
		else if (status != BB_CONFIG)
			status = rc;
		free(path);
	}
	return status;
}

static json_t *
read_answers(const char *path, size_t max)
{
	struct bb_err e = { 0, "" };
	json_error_t jerr;
	json_t *a;
	char *buf;
	size_t len;

	if (bb_read_file(path, max, &buf, &len, &e) != 0) {
		bb_err_context(&e, "answers");
		bb_die_err(&e);
	}
	a = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	explicit_bzero(buf, len);
	free(buf);
	if (a == NULL)
		bb_die(BB_DATAERR, "answers: %s:%d:%d: invalid JSON: %s", path, jerr.line,
		    jerr.column, bb_json_error_reason(&jerr));
	return a;
}

/* Reads the case for fill and ask: CASE, stdin, or a new one (--new, or stdin a terminal
 * and no CASE). 65/66 as bb_case_read says. */
static json_t *
open_case(int fresh, const char *path, size_t max, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	json_t *cs;

	if (fresh && path != NULL)
		bb_die(BB_USAGE, "--new and a CASE file exclude each other");
	if (bb_case_open(fresh, path, 0, bb_config_str(cfg, "terminal"), max, &cs, &e) != 0)
		bb_die_err(&e);
	return cs;
}

static int
cmd_fill(int argc, char **argv, const struct bb_config *cfg)
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 's' },
		{ "answers", required_argument, NULL, 'a' },
		{ "new", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_problems p = { 0 };
	struct bb_err e = { 0, "" };
	struct bb_fill fl;
	struct bb_form *form;
	struct bb_case_id id;
	const char *answers = NULL, *out = NULL, *service;
	/* Static: a bb_die further down (broken answers) must not leave it unreachable. */
	static char **sets;
	size_t nsets = 0, max = (size_t)bb_config_int(cfg, "case.max_size"), i;
	int c, fresh = 0;
	json_t *cs, *a;

	if ((sets = calloc((size_t)argc + 1, sizeof *sets)) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	optind = 0;
	while ((c = getopt_long(argc, argv, "s:a:no:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				bb_die(BB_USAGE, "--set: expected NAME=VALUE");
			sets[nsets++] = optarg;
			break;
		case 'a': answers = optarg; break;
		case 'n': fresh = 1; break;
		case 'o': out = optarg; break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage(BB_USAGE);
	form = load_form(argv[0], cfg);
	cs = open_case(fresh, argc == 2 ? argv[1] : NULL, max, cfg);
	id = bb_case_id(cs);
	service = json_string_value(json_object_get(cs, "service"));
	if (service != NULL && strcmp(service, form->id) != 0)
		bb_die(BB_DATAERR, "case is for service '%s', not '%s'", service, form->id);

	if (bb_fill_begin(&fl, form, cs) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (answers != NULL) {
		a = read_answers(answers, max);
		bb_fill_answers(&fl, form, a, &p);
		json_decref(a);
	}
	for (i = 0; i < nsets; i++) {
		char *eq = strchr(sets[i], '=');
		struct bb_problems sp = { 0 };
		*eq = '\0';
		if (bb_fill_set(&fl, form, sets[i], eq + 1, &sp) != 0) {
			print_problems(&sp);
			exit(BB_USAGE);
		}
		*eq = '=';
	}
	bb_fill_validate(&fl, form, &p);
	if (p.n > 0) {
		print_problems(&p);
		bb_log_n(LOG_NOTICE, "form.invalid", &id, "problems", p.n);
		exit(BB_DATAERR);
	}
	if (service == NULL)
		json_object_set_new(cs, "service", json_string(form->id));
	if (bb_case_merge_part(cs, "form", bb_fill_part(&fl, form)) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (bb_case_write(cs, out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "form.filled", &id);
	bb_fill_end(&fl);
	json_decref(cs);
	bb_form_free(form);
	free(sets);
	return 0;
}

static int
cmd_show(int argc, char **argv, const struct bb_config *cfg)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "lang", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = isatty(1) ? "text" : "json";
	const char *lang = bb_config_str(cfg, "form.lang");
	struct bb_form *form;
	struct bb_err e = { 0, "" };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'l': lang = optarg; break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
		bb_die(BB_USAGE, "--format: expected text or json");
	if (strcmp(lang, "de") != 0 && strcmp(lang, "en") != 0)
		bb_die(BB_USAGE, "--lang: expected de or en");
	if (argc - optind != 1)
		usage(BB_USAGE);
	form = load_form(argv[optind], cfg);
	if (strcmp(format, "json") == 0) {
		json_t *j = bb_form_to_json(form);
		char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
		if (s == NULL)
			bb_die(BB_SOFTWARE, "out of memory");
		if (bb_write_stdout(s, strlen(s), &e) != 0 || bb_write_stdout("\n", 1, &e) != 0)
			bb_die_err(&e);
		free(s);
		json_decref(j);
	} else if (bb_form_print_text(stdout, form, lang) != 0) {
		bb_die(BB_IOERR, "standard output: write error");
	}
	bb_form_free(form);
	return 0;
}

static int
cmd_serve(int argc, char **argv, const struct bb_config *cfg, int verbosity)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_serve_opts o = { 0 };
	struct bb_err e = { 0, "" };
	char control[256];
	int c;

	bb_screen_control_default(control, sizeof control);
	o.listen = "127.0.0.1:0";
	o.control = control;
	o.screens = bb_config_str(cfg, "form.screens");
	o.services = bb_config_str(cfg, "form.services");
	o.lang = bb_config_str(cfg, "form.lang");
	o.headset = bb_config_str(cfg, "form.headset");
	o.verbosity = verbosity;
	optind = 0;
	while ((c = getopt_long(argc, argv, "l:C:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'C': o.control = optarg; break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc)
		usage(BB_USAGE);
	if (bb_screen_serve(&o, &e) != 0)
		bb_die_err(&e);
	return 0;
}


/* --until of tell and receipt: "tap" (0) or seconds, 1 to 86400. */
static long
until_arg(const char *arg)
{
	char *end;
	long v;

	if (strcmp(arg, "tap") == 0)
		return 0;
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 86400)
		bb_die(BB_USAGE, "--until: expected tap or seconds (1 to 86400)");
	return v;
}
static int
cmd_tell(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "screen", required_argument, NULL, 'S' },
		{ "set", required_argument, NULL, 's' },
		{ "set-from", required_argument, NULL, 'F' },
		{ "until", required_argument, NULL, 'u' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	char control[256], *choice = NULL;
	const char *path = NULL, *mirror = NULL;
	json_t *set = json_object();
	long until = -1;
	int c, rc;

	if (set == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	optind = 0;
	while ((c = getopt_long(argc, argv, "S:s:u:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S': path = optarg; break;
		case 'm': mirror = optarg; break;
		case 's': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg)
				bb_die(BB_USAGE, "--set: expected NAME=VALUE");
			if (bb_screen_set_add(set, "--set", optarg, (size_t)(eq - optarg), eq + 1,
			    strlen(eq + 1), &e) != 0)
				bb_die_err(&e);
			break;
		}
		case 'F':
			if (bb_screen_set_read(set, optarg, &e) != 0)
				bb_die_err(&e);
			break;
		case 'u':
			until = until_arg(optarg);
			break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(BB_USAGE);
	if (path == NULL) {
		bb_screen_control_default(control, sizeof control);
		path = control;
	}
	rc = bb_screen_tell_mirror(path, argv[optind], json_object_size(set) ? set : NULL,
	    mirror, until, &choice, &e);
	bb_json_wipe(set);
	if (rc == BB_CANCELLED && e.msg[0] == '\0')
		return BB_CANCELLED;	/* the time ran out: no message, as a cancel */
	if (rc != 0)
		bb_die_err(&e);
	if (choice != NULL) {
		printf("%s\n", choice);
		explicit_bzero(choice, strlen(choice));
		free(choice);
	}
	return 0;
}

/* The values of a form page's inputs as the server sent them back with a time-out (what
 * was typed and not yet sent), so that more time loses nothing. */
static int
ask_wait(const char *control, struct bb_ask *a, long idle, long warning, int *timed_out,
    char **choice, json_t **answers, struct bb_err *e)
{
	json_t *page;
	char *more = NULL;
	int rc;

	for (;;) {
		if ((page = bb_ask_page(a)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		rc = bb_screen_ask(control, page, idle, choice, answers, e);
		bb_json_wipe(page);
		if (rc != BB_CANCELLED || e->msg[0] != '\0')
			return rc;
		if (*answers != NULL) {
			(void)bb_ask_answer(a, "refresh", *answers);
			bb_json_wipe(*answers);
			*answers = NULL;
		}
		/* WCAG 2.2.1: before the time ends, offer more. */
		rc = bb_screen_tell(control, "timeout-warning", NULL, warning, &more, e);
		if (rc == 0 && more != NULL && strcmp(more, "more") == 0) {
			free(more);
			continue;
		}
		free(more);
		if (rc != 0 && rc != BB_CANCELLED)
			return rc;
		/* No answer to the warning is the time running out; "end" tapped is the
		 * person's choice, and the session ending (a message) is neither. */
		if (rc == BB_CANCELLED && e->msg[0] == '\0')
			*timed_out = 1;
		return BB_CANCELLED;
	}
}

/* What was typed must not stay on the screen, nor in the server, after a cancel or a
 * time-out: the page gives way to "please wait" until the flow's next step. */
static void
ask_leave(const char *control)
{
	struct bb_err e = { 0, "" };
	char *choice = NULL;

	(void)bb_screen_tell(control, "wait", NULL, -1, &choice, &e);
	free(choice);
}

/* Whether a screen server listens on the control socket at path. */
static int
screen_listens(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ok;

	if (strlen(path) >= sizeof sa.sun_path)
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* The form on the terminal: prompts on /dev/tty, the case still through stdin and
 * stdout. BB_ASK_DONE or BB_ASK_CANCEL; dies otherwise. */
static int
ask_tty(struct bb_ask *a, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	FILE *in, *out;
	int r;

	if ((in = fopen("/dev/tty", "re")) == NULL || (out = fopen("/dev/tty", "we")) == NULL)
		bb_die(BB_USAGE, "--tty: /dev/tty: %s", strerror(errno));
	/* What is typed stays in the walk's buffers, which are wiped, not in stdio's. */
	setvbuf(in, NULL, _IONBF, 0);
	r = bb_ask_tty(a, in, out, bb_config_str(cfg, "form.screens"),
	    bb_config_str(cfg, "form.lang"), &e);
	fclose(in);
	fclose(out);
	if (r < 0) {
		bb_ask_end(a);
		bb_die_err(&e);
	}
	return r;
}

static int
cmd_ask(int argc, char **argv, const struct bb_config *cfg)
{
	static const struct option opts[] = {
		{ "screen", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "new", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "tty", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_problems p = { 0 };
	struct bb_err e = { 0, "" };
	struct bb_ask a;
	struct bb_form *form;
	struct bb_case_id id;
	const char *out = NULL, *control = NULL, *service;
	char defctl[256], *end, *choice;
	size_t max = (size_t)bb_config_int(cfg, "case.max_size");
	long idle = (long)bb_config_int(cfg, "form.idle");
	long warning = (long)bb_config_int(cfg, "form.warning");
	int c, fresh = 0, rc, r = BB_ASK_SHOW, timed_out = 0, tty = 0;
	json_t *cs, *answers, *part;

	optind = 0;
	while ((c = getopt_long(argc, argv, "S:t:no:Th", opts, NULL)) != -1) {
		switch (c) {
		case 'S': control = optarg; break;
		case 'T': tty = 1; break;
		case 't':
			errno = 0;
			idle = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || idle < 1 || idle > 86400)
				bb_die(BB_USAGE, "--timeout: expected seconds (1 to 86400)");
			break;
		case 'n': fresh = 1; break;
		case 'o': out = optarg; break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage(BB_USAGE);
	if (tty && control != NULL)
		bb_die(BB_USAGE, "--tty and --screen exclude each other");
	if (control == NULL) {
		bb_screen_control_default(defctl, sizeof defctl);
		control = defctl;
		/* No screen server and a terminal: a developer in a shell. */
		if (!tty && !screen_listens(control)) {
			int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0) {
				tty = 1;
				close(fd);
			}
		}
	}
	form = load_form(argv[0], cfg);
	cs = open_case(fresh, argc == 2 ? argv[1] : NULL, max, cfg);
	id = bb_case_id(cs);
	service = json_string_value(json_object_get(cs, "service"));
	if (service != NULL && strcmp(service, form->id) != 0)
		bb_die(BB_DATAERR, "case is for service '%s', not '%s'", service, form->id);
	if (bb_ask_begin(&a, form, cs) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (tty)
		r = ask_tty(&a, cfg);
	while (r == BB_ASK_SHOW) {
		rc = ask_wait(control, &a, idle, warning, &timed_out, &choice, &answers, &e);
		if (rc == BB_CANCELLED) {
			bb_ask_end(&a);
			if (e.msg[0] != '\0')
				bb_warn("%s", e.msg);
			else
				ask_leave(control);
			if (timed_out)
				bb_log(LOG_NOTICE, "form.timeout", &id);
			else if (e.msg[0] != '\0')
				bb_log(LOG_NOTICE, "form.ended", &id);
			else
				bb_log(LOG_NOTICE, "form.cancelled", &id);
			bb_json_wipe(cs);
			bb_form_free(form);
			/* The flow tells the two apart: a person who left, one who chose to stop. */
			return timed_out ? BB_TIMED_OUT : BB_CANCELLED;
		}
		if (rc != 0) {
			bb_ask_end(&a);
			bb_die_err(&e);
		}
		r = bb_ask_answer(&a, choice, answers);
		free(choice);
		bb_json_wipe(answers);
	}
	if (r == BB_ASK_CANCEL) {
		bb_ask_end(&a);
		ask_leave(control);
		bb_log(LOG_NOTICE, "form.cancelled", &id);
		bb_json_wipe(cs);
		bb_form_free(form);
		return BB_CANCELLED;
	}
	if ((part = bb_ask_part(&a, &p)) == NULL) {
		/* Cannot be the person's: every page was judged before the summary. */
		print_problems(&p);
		bb_ask_end(&a);
		exit(BB_SOFTWARE);
	}
	bb_ask_end(&a);
	if (service == NULL)
		json_object_set_new(cs, "service", json_string(form->id));
	if (bb_case_merge_part(cs, "form", part) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (bb_case_write(cs, out, &e) != 0)
		bb_die_err(&e);
	/* The screen shows "please wait" until the flow's next step says otherwise. */
	if (!tty) {
		choice = NULL;
		(void)bb_screen_tell(control, "wait", NULL, -1, &choice, &e);
		free(choice);
	}
	bb_log(LOG_INFO, "form.asked", &id);
	bb_json_wipe(cs);
	bb_form_free(form);
	return 0;
}

/* bb-form pin --confirm: how often a new PIN may be entered twice differently before the
 * step gives up (4). Three, as the card's tries: a fourth round would rarely go better,
 * and the flow then says plainly that nothing changed, rather than loop until the person
 * walks away. A round costs the card nothing: it is never asked. */
#define PIN_ROUNDS 3

struct pad {
	const char *control, *kind;
	long digits, tries, idle, warning;
	int tty;
};

/* One entry of the pad into sec: on the screen with its time-out warning (confirm as
 * bb_screen_pin takes it), or on the terminal. 0; BB_CANCELLED with *timed_out set when
 * no answer came to the warning, e->msg set when the session ended; else an exit status
 * with e set. */
static int
pad_entry(const struct pad *pd, const char *confirm, struct bb_secret *sec, int *timed_out,
    struct bb_err *e)
{
	char *more;
	int rc, cancelled = 0;

	*timed_out = 0;
	for (;;) {
		if (pd->tty) {
			rc = bb_secret_read_tty(sec, confirm != NULL && strcmp(confirm, "again") ==
			    0 ? "PIN again" : strcmp(pd->kind, "can") == 0 ? "CAN" :
			    strcmp(pd->kind, "puk") == 0 ? "PUK" : "PIN", e);
			if (rc == 0 && (sec->len != (size_t)pd->digits ||
			    strspn((char *)sec->buf, "0123456789") != sec->len)) {
				fprintf(stderr, "%s: %ld digits, please\n", bb_progname, pd->digits);
				continue;
			}
			return rc;
		}
		rc = bb_screen_pin(pd->control, pd->kind, (int)pd->digits, (int)pd->tries,
		    confirm, pd->idle, sec, &cancelled, e);
		if (rc != BB_CANCELLED || cancelled || e->msg[0] != '\0')
			return rc;
		/* The time ran out: WCAG 2.2.1, offer more. */
		more = NULL;
		rc = bb_screen_tell(pd->control, "timeout-warning", NULL, pd->warning, &more, e);
		if (rc == 0 && more != NULL && strcmp(more, "more") == 0) {
			free(more);
			continue;
		}
		free(more);
		/* No answer to the warning: the time ran out; "end" tapped: cancelled. */
		if (rc == BB_CANCELLED && e->msg[0] == '\0')
			*timed_out = 1;
		return rc == 0 || rc == BB_CANCELLED ? BB_CANCELLED : rc;
	}
}

static int
cmd_pin(int argc, char **argv, const struct bb_config *cfg)
{
	static const struct option opts[] = {
		{ "can", no_argument, NULL, 'C' },
		{ "puk", no_argument, NULL, 'P' },
		{ "confirm", no_argument, NULL, 'c' },
		{ "digits", required_argument, NULL, 'd' },
		{ "tries", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "screen", required_argument, NULL, 'S' },
		{ "tty", no_argument, NULL, 'T' },
		{ "to-fd", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_secret sec = { 0 }, again = { 0 };
	struct bb_err e = { 0, "" };
	struct pad pd = { NULL, "pin", 0, 0, 0, 0, 0 };
	char defctl[256], *end;
	long fd = -1, v;
	int c, rc, timed_out = 0, confirm = 0, round;

	pd.idle = (long)bb_config_int(cfg, "form.idle");
	pd.warning = (long)bb_config_int(cfg, "form.warning");
	optind = 0;
	while ((c = getopt_long(argc, argv, "CPcd:r:t:S:Tf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'C': pd.kind = "can"; break;
		case 'P': pd.kind = "puk"; break;
		case 'c': confirm = 1; break;
		case 'S': pd.control = optarg; break;
		case 'T': pd.tty = 1; break;
		case 'd': case 'r': case 't': case 'f':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 0 || v > 86400)
				bb_die(BB_USAGE, "--%s: expected a number", c == 'd' ? "digits" :
				    c == 'r' ? "tries" : c == 't' ? "timeout" : "to-fd");
			if (c == 'd')
				pd.digits = v;
			else if (c == 'r')
				pd.tries = v;
			else if (c == 't')
				pd.idle = v;
			else
				fd = v;
			break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc)
		usage(BB_USAGE);
	/* The card's rules: PIN 6 (the transport PIN 5), CAN 6, PUK 10. */
	if (pd.digits == 0)
		pd.digits = strcmp(pd.kind, "puk") == 0 ? 10 : 6;
	if ((strcmp(pd.kind, "pin") == 0 && pd.digits != 5 && pd.digits != 6) ||
	    (strcmp(pd.kind, "can") == 0 && pd.digits != 6) ||
	    (strcmp(pd.kind, "puk") == 0 && pd.digits != 10))
		bb_die(BB_USAGE, "--digits %ld: a PIN has 6 digits (a transport PIN 5), a CAN 6, "
		    "a PUK 10", pd.digits);
	/* Only a new PIN is chosen, and the card takes 6 digits for it: a CAN, a PUK and
	 * a transport PIN are read off a card or a letter, not made up. */
	if (confirm && (strcmp(pd.kind, "pin") != 0 || pd.digits != 6 || pd.tries != 0))
		bb_die(BB_USAGE, "--confirm: for a new PIN of 6 digits only (no --can, --puk, "
		    "--digits 5 or --tries)");
	if (pd.tries > 9 || pd.idle < 1)
		bb_die(BB_USAGE, "--tries: 0 to 9; --timeout: at least 1 second");
	/* 0 to 2 are a terminal's or a log's: the digits go to a pipe of their own. */
	if (fd < 3 || fcntl((int)fd, F_GETFL) < 0 || (fcntl((int)fd, F_GETFL) & O_ACCMODE) ==
	    O_RDONLY)
		bb_die(BB_USAGE, "--to-fd: expected an open, writable descriptor from 3 up "
		    "(the reading end of bb-eid's --pin-fd)");
	if (pd.tty && pd.control != NULL)
		bb_die(BB_USAGE, "--screen and --tty exclude each other");
	if (pd.control == NULL) {
		bb_screen_control_default(defctl, sizeof defctl);
		pd.control = defctl;
		if (!pd.tty && !screen_listens(pd.control) && isatty(2))
			pd.tty = 1;	/* a developer in a shell */
	}
	if (bb_secret_alloc(&sec, 16) != 0 || (confirm && bb_secret_alloc(&again, 16) != 0))
		bb_die(BB_SOFTWARE, "locked memory: %s", strerror(errno));
	for (round = 0; ; round++) {
		rc = pad_entry(&pd, !confirm ? NULL : round > 0 ? "mismatch" : "new", &sec,
		    &timed_out, &e);
		if (rc != 0 || !confirm)
			break;
		/* The same again, into memory of its own; compared there, so that where two
		 * entries differ takes no time of its own, and wiped either way. */
		rc = pad_entry(&pd, "again", &again, &timed_out, &e);
		if (rc != 0)
			break;
		if (bb_secret_equal(&sec, &again))
			break;
		explicit_bzero(sec.buf, sec.cap);
		explicit_bzero(again.buf, again.cap);
		sec.len = again.len = 0;
		bb_log(LOG_NOTICE, "pin.mismatch", NULL);
		if (pd.tty)
			fprintf(stderr, "%s: the two entries differ\n", bb_progname);
		if (round + 1 == PIN_ROUNDS) {
			rc = BB_NOT_MET;
			break;
		}
	}
	bb_secret_free(&again);
	if (rc == BB_CANCELLED || rc == BB_NOT_MET) {
		bb_secret_free(&sec);
		if (e.msg[0] != '\0')
			bb_warn("%s", e.msg);
		else if (!pd.tty)
			ask_leave(pd.control);	/* the pad gives way, as ask's page does */
		if (rc == BB_NOT_MET)
			return BB_NOT_MET;
		return timed_out ? BB_TIMED_OUT : BB_CANCELLED;
	}
	if (rc != 0) {
		bb_secret_free(&sec);
		bb_die_err(&e);
	}
	sec.buf[sec.len] = '\n';
	if (write((int)fd, sec.buf, sec.len + 1) != (ssize_t)sec.len + 1) {
		int err = errno;
		bb_secret_free(&sec);
		bb_die(BB_IOERR, "--to-fd %ld: %s", fd, strerror(err));
	}
	bb_secret_free(&sec);
	close((int)fd);
	if (!pd.tty) {
		char *choice = NULL;
		(void)bb_screen_tell(pd.control, "wait", NULL, -1, &choice, &e);
		free(choice);
	}
	return 0;
}

/* bb-form end: the session is over; the server forgets it. */
static int
cmd_end(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "screen", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	char control[256];
	const char *path = NULL;
	json_t *settings;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "S:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S': path = optarg; break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc)
		usage(BB_USAGE);
	if (path == NULL) {
		bb_screen_control_default(control, sizeof control);
		path = control;
	}
	if (bb_screen_end(path, &settings, &e) != 0)
		bb_die_err(&e);
	/* One line for the session loop's counts: json_dumpf keeps the order given. */
	if (json_dumpf(settings, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF ||
	    fflush(stdout) != 0)
		bb_die(BB_IOERR, "standard output: %s", strerror(errno));
	json_decref(settings);
	return 0;
}

/* bb-form config KEY: a key of bb.yaml for the kiosk's shell scripts, read by the same
 * strict parser as every program, so a typo in the file stops the script too. */
static int
cmd_config(int argc, char **argv, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		usage(BB_USAGE);
	if ((rc = bb_config_print(cfg, argv[1], stdout, &e)) > 1)
		bb_die_err(&e);
	if (fflush(stdout) != 0)
		bb_die(BB_IOERR, "standard output: %s", strerror(errno));
	return rc;
}

/* bb-form needs FORM: what the service needs besides the answers, one per line in the
 * order the flow takes them, read by the one strict parser: the flows ask this instead
 * of reading YAML, so a mistake in the definition stops the flow too. */
static int
cmd_needs(int argc, char **argv, const struct bb_config *cfg)
{
	struct bb_form *form;
	size_t i;

	if (argc != 2 || argv[1][0] == '-')
		usage(BB_USAGE);
	form = load_form(argv[1], cfg);
	for (i = 0; i < BB_NEEDS; i++)
		if (form->needs & bb_need_bit(i))
			printf("%s\n", bb_need_name(i));
	bb_form_free(form);
	if (fflush(stdout) != 0 || ferror(stdout))
		bb_die(BB_IOERR, "standard output: %s", strerror(errno));
	return 0;
}

struct presence {
	int fd;			/* a byte on it: the event came */
	int value;
};

static void
presence_event(void *arg, int value)
{
	struct presence *p = arg;

	if (value == p->value)
		(void)!write(p->fd, "p", 1);
}

/* bb-form presence: waits for kiosk.presence_event on kiosk.presence_device and exits
 * 0; the session loop ends the session then. */
static int
cmd_presence(int argc, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_headset *h;
	struct presence p;
	const char *dev = bb_config_str(cfg, "kiosk.presence_device");
	const char *ev = bb_config_str(cfg, "kiosk.presence_event");
	int type, code, pfd[2];
	char c;

	if (argc != 1)
		usage(BB_USAGE);
	if (dev == NULL || ev == NULL || bb_parse_input_event(ev, &type, &code, &p.value) != 0)
		bb_die(BB_CONFIG, "presence: kiosk.presence_device and kiosk.presence_event "
		    "are not set");
	if (pipe2(pfd, O_CLOEXEC) != 0)
		bb_die(BB_SOFTWARE, "pipe: %s", strerror(errno));
	p.fd = pfd[1];
	/* Only an event: a sensor that reads "nobody" when the session starts (broken,
	 * or the person stands aside) must not end every session at once. */
	if (bb_input_watch("kiosk.presence_device", dev, type, code, 0, presence_event, &p,
	    &h, &e) != 0)
		bb_die_err(&e);
	while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
		;
	bb_headset_stop(h);
	bb_log(LOG_NOTICE, "kiosk.presence", NULL);
	return 0;
}

/* bb-form receipt: the receipt of a sent or queued case on the screen, as a PDF, and on
 * the printer of form.printer. Only the service and the reference leave the case. */
static int
cmd_receipt(int argc, char **argv, const struct bb_config *cfg)
{
	static const struct option opts[] = {
		{ "screen", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'u' },
		{ "pdf", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	struct bb_receipt r;
	struct bb_case_id id;
	struct bb_catalogs *cat;
	const char *path = NULL, *pdfpath = NULL;
	const char *printer = bb_config_str(cfg, "form.printer");
	char control[256], lang[40], *choice = NULL, *pdf = NULL;
	size_t max = (size_t)bb_config_int(cfg, "case.max_size"), pdflen = 0;
	long until = -1;
	json_t *cs, *set;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "S:u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S': path = optarg; break;
		case 'p': pdfpath = optarg; break;
		case 'u':
			until = until_arg(optarg);
			break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(BB_USAGE);
	if (bb_case_read(argv[optind], max, &cs, &e) != 0 ||
	    bb_receipt_from_case(cs, &r, &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs);
	bb_json_wipe(cs);
	if ((set = bb_receipt_set(&r)) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	if (path == NULL) {
		bb_screen_control_default(control, sizeof control);
		path = control;
	}
	/* Shown first, in the session's language, which the paper then speaks too. */
	rc = bb_screen_show(path, "receipt", set, lang, sizeof lang, &e);
	json_decref(set);
	if (rc != 0)
		bb_die_err(&e);
	if (pdfpath != NULL || printer != NULL) {
		if ((rc = bb_catalogs_load(bb_config_str(cfg, "form.screens"), &cat, &e)) != 0)
			bb_die_err(&e);
		if (lang[0] == '\0' || !bb_catalogs_has(cat, lang))
			snprintf(lang, sizeof lang, "%s", bb_config_str(cfg, "form.lang"));
		if (bb_receipt_pdf(&r, cat, bb_config_str(cfg, "form.services"), lang, &pdf,
		    &pdflen, &e) != 0)
			bb_die_err(&e);
		bb_catalogs_free(cat);
		if (pdfpath != NULL && bb_write_durable(pdfpath, pdf, pdflen, 0600, &e) != 0) {
			bb_err_context(&e, "--pdf %s", pdfpath);
			bb_die_err(&e);
		}
		/* The screen has shown it: a printer out of paper is the staff's to fix,
		 * not a failed receipt. */
		if (printer != NULL && bb_receipt_print(printer, pdf, pdflen, &e) != 0)
			bb_warn("%s", e.msg);
		free(pdf);
	}
	bb_log(LOG_INFO, "form.receipt", &id);
	if (until < 0)
		return 0;
	e.msg[0] = '\0';
	rc = bb_screen_wait(path, "receipt", until, &choice, &e);
	if (rc == BB_CANCELLED && e.msg[0] == '\0')
		return BB_CANCELLED;
	if (rc != 0)
		bb_die_err(&e);
	if (choice != NULL) {
		printf("%s\n", choice);
		free(choice);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct bb_cli cli;
	int rc;

	bb_init(argv[0]);
	/* Patterns in definitions match characters, not bytes: [A-ZÄÖÜ] is three letters,
	 * whatever locale the kiosk session runs in. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	bb_cli_start(&cli, &argc, &argv, usage, 0);
	if (strcmp(cli.cmd, "check") == 0)
		rc = cmd_check(argc - 1, argv + 1, cli.cfg);
	else if (strcmp(cli.cmd, "fill") == 0)
		rc = cmd_fill(argc, argv, cli.cfg);
	else if (strcmp(cli.cmd, "show") == 0)
		rc = cmd_show(argc, argv, cli.cfg);
	else if (strcmp(cli.cmd, "needs") == 0)
		rc = cmd_needs(argc, argv, cli.cfg);
	else if (strcmp(cli.cmd, "serve") == 0)
		rc = cmd_serve(argc, argv, cli.cfg, cli.verbosity);
	else if (strcmp(cli.cmd, "tell") == 0)
		rc = cmd_tell(argc, argv);
	else if (strcmp(cli.cmd, "ask") == 0)
		rc = cmd_ask(argc, argv, cli.cfg);
	else if (strcmp(cli.cmd, "pin") == 0)
		rc = cmd_pin(argc, argv, cli.cfg);
	else if (strcmp(cli.cmd, "end") == 0)
		rc = cmd_end(argc, argv);
	else if (strcmp(cli.cmd, "config") == 0)
		rc = cmd_config(argc, argv, cli.cfg);
	else if (strcmp(cli.cmd, "presence") == 0)
		rc = cmd_presence(argc, cli.cfg);
	else if (strcmp(cli.cmd, "receipt") == 0)
		rc = cmd_receipt(argc, argv, cli.cfg);
	else {
		bb_warn("%s: unknown command (check, fill, show, needs, ask, pin, serve, tell, end, "
		    "config, presence, receipt)", cli.cmd);
		usage(BB_USAGE);
	}
	bb_config_free(cli.cfg);
	return rc;
}
