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
#include "screen/step.h"
#include "secmem.h"

#include <errno.h>
#include <fcntl.h>
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
	struct bb_err e = { 0, "" };
	struct bb_form *form;
	int rc = bb_form_open(arg, bb_config_str(cfg, "form.services"), &form, &p, &e);

	if (e.msg[0] != '\0')
		bb_die_err(&e);
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
	struct bb_err e = { 0, "" };
	int i, rc, status = 0;

	if (argc < 1)
		usage(BB_USAGE);
	for (i = 0; i < argc; i++) {
		struct bb_problems p = { 0 };
		struct bb_form *form;
		rc = bb_form_open(argv[i], bb_config_str(cfg, "form.services"), &form, &p,
		    &e);
		if (e.msg[0] != '\0')
			bb_die_err(&e);
		print_problems(&p);
		bb_problems_free(&p);
		if (rc == 0)
			bb_form_free(form);
		else if (status != BB_CONFIG)
			status = rc;
	}
	return status;
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
	struct bb_form *form;
	struct bb_case_id id;
	const char *answers = NULL, *out = NULL;
	/* Static: a bb_die further down (broken answers) must not leave it unreachable. */
	static const char **sets;
	size_t nsets = 0, max = (size_t)bb_config_int(cfg, "case.max_size");
	int c, rc, fresh = 0;
	json_t *cs, *a = NULL;

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
	if (fresh && argc == 2)
		bb_die(BB_USAGE, "--new and a CASE file exclude each other");
	if (bb_case_open(fresh, argc == 2 ? argv[1] : NULL, 0,
	    bb_config_str(cfg, "terminal"), max, &cs, &e) != 0 ||
	    bb_form_case_check(cs, form, &e) != 0 ||
	    (answers != NULL && bb_fill_read_answers(answers, max, &a, &e) != 0))
		bb_die_err(&e);
	id = bb_case_id(cs);
	rc = bb_fill_case(cs, form, a, sets, nsets, &p, &e);
	json_decref(a);
	if (p.n > 0) {
		print_problems(&p);
		if (rc == BB_DATAERR)
			bb_log_n(LOG_NOTICE, "form.invalid", &id, "problems", p.n);
		exit(rc);
	}
	if (rc != 0 || bb_case_write(cs, out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "form.filled", &id);
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
		case 's':
			if (bb_screen_set_arg(set, optarg, &e) != 0)
				bb_die_err(&e);
			break;
		case 'F':
			if (bb_screen_set_read(set, optarg, &e) != 0)
				bb_die_err(&e);
			break;
		case 'u': until = until_arg(optarg); break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(BB_USAGE);
	rc = bb_screen_tell_mirror(bb_screen_control(path, control, sizeof control),
	    argv[optind], json_object_size(set) ? set : NULL, mirror, until, &choice, &e);
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
	struct bb_step s = { NULL, 0, 0, 0 };
	struct bb_form *form;
	struct bb_case_id id;
	const char *out = NULL;
	char defctl[256], *end;
	size_t max = (size_t)bb_config_int(cfg, "case.max_size");
	int c, fresh = 0, rc;
	json_t *cs;

	s.idle = (long)bb_config_int(cfg, "form.idle");
	s.warning = (long)bb_config_int(cfg, "form.warning");
	optind = 0;
	while ((c = getopt_long(argc, argv, "S:t:no:Th", opts, NULL)) != -1) {
		switch (c) {
		case 'S': s.control = optarg; break;
		case 'T': s.tty = 1; break;
		case 't':
			errno = 0;
			s.idle = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || s.idle < 1 || s.idle > 86400)
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
	if (s.tty && s.control != NULL)
		bb_die(BB_USAGE, "--tty and --screen exclude each other");
	if (s.control == NULL)
		bb_step_default(&s, defctl, sizeof defctl, bb_tty_opens());
	form = load_form(argv[0], cfg);
	if (fresh && argc == 2)
		bb_die(BB_USAGE, "--new and a CASE file exclude each other");
	if (bb_case_open(fresh, argc == 2 ? argv[1] : NULL, 0,
	    bb_config_str(cfg, "terminal"), max, &cs, &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs);
	rc = bb_ask_case(cs, form, &s, bb_config_str(cfg, "form.screens"),
	    bb_config_str(cfg, "form.lang"), &p, &e);
	if (rc == BB_CANCELLED || rc == BB_TIMED_OUT) {
		if (e.msg[0] != '\0')
			bb_warn("%s", e.msg);
		if (rc == BB_TIMED_OUT)
			bb_log(LOG_NOTICE, "form.timeout", &id);
		else if (e.msg[0] != '\0')
			bb_log(LOG_NOTICE, "form.ended", &id);
		else
			bb_log(LOG_NOTICE, "form.cancelled", &id);
		bb_json_wipe(cs);
		bb_form_free(form);
		/* The flow tells the two apart: a person who left, one who chose to stop. */
		return rc;
	}
	if (rc != 0 && p.n > 0) {
		print_problems(&p);
		exit(rc);
	}
	if (rc != 0 || bb_case_write(cs, out, &e) != 0)
		bb_die_err(&e);
	/* The screen shows "please wait" until the flow's next step says otherwise. */
	if (!s.tty)
		bb_screen_leave(s.control);
	bb_log(LOG_INFO, "form.asked", &id);
	bb_json_wipe(cs);
	bb_form_free(form);
	return 0;
}

/* bb-form pin's options into p and *fd, checked: the card's rules, a descriptor to
 * write to, the screen or the terminal. */
static void
pin_options(int argc, char **argv, struct bb_pin_step *p, long *fd, char *defctl,
    size_t len)
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
	struct bb_err e = { 0, "" };
	char *end;
	long v;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "CPcd:r:t:S:Tf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'C': p->kind = "can"; break;
		case 'P': p->kind = "puk"; break;
		case 'c': p->confirm = 1; break;
		case 'S': p->s.control = optarg; break;
		case 'T': p->s.tty = 1; break;
		case 'd': case 'r': case 't': case 'f':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 0 || v > 86400)
				bb_die(BB_USAGE, "--%s: expected a number", c == 'd' ? "digits" :
				    c == 'r' ? "tries" : c == 't' ? "timeout" : "to-fd");
			*(c == 'd' ? &p->digits : c == 'r' ? &p->tries : c == 't' ?
			    &p->s.idle : fd) = v;
			break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc)
		usage(BB_USAGE);
	if (bb_pin_check(p, &e) != 0)
		bb_die_err(&e);
	/* 0 to 2 are a terminal's or a log's: the digits go to a pipe of their own. */
	if (*fd < 3 || fcntl((int)*fd, F_GETFL) < 0 || (fcntl((int)*fd, F_GETFL) &
	    O_ACCMODE) == O_RDONLY)
		bb_die(BB_USAGE, "--to-fd: expected an open, writable descriptor from 3 up "
		    "(the reading end of bb-eid's --pin-fd)");
	if (p->s.tty && p->s.control != NULL)
		bb_die(BB_USAGE, "--screen and --tty exclude each other");
	if (p->s.control == NULL)
		bb_step_default(&p->s, defctl, len, isatty(2));
}

static int
cmd_pin(int argc, char **argv, const struct bb_config *cfg)
{
	struct bb_pin_step p = { { NULL, 0, 0, 0 }, "pin", 0, 0, 0 };
	struct bb_secret sec = { 0 };
	struct bb_err e = { 0, "" };
	char defctl[256];
	long fd = -1;
	int rc;

	p.s.idle = (long)bb_config_int(cfg, "form.idle");
	p.s.warning = (long)bb_config_int(cfg, "form.warning");
	pin_options(argc, argv, &p, &fd, defctl, sizeof defctl);
	rc = bb_pin_read(&p, &sec, &e);
	if (rc == BB_CANCELLED || rc == BB_TIMED_OUT || rc == BB_NOT_MET) {
		if (e.msg[0] != '\0')
			bb_warn("%s", e.msg);
		return rc;
	}
	if (rc != 0)
		bb_die_err(&e);
	sec.buf[sec.len] = '\n';
	if (write((int)fd, sec.buf, sec.len + 1) != (ssize_t)sec.len + 1) {
		int err = errno;
		bb_secret_free(&sec);
		bb_die(BB_IOERR, "--to-fd %ld: %s", fd, strerror(err));
	}
	bb_secret_free(&sec);
	close((int)fd);
	if (!p.s.tty)
		bb_screen_leave(p.s.control);
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

/* bb-form presence: waits for kiosk.presence_event on kiosk.presence_device and exits
 * 0; the session loop ends the session then. */
static int
cmd_presence(int argc, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };

	if (argc != 1)
		usage(BB_USAGE);
	if (bb_presence_wait(bb_config_str(cfg, "kiosk.presence_device"),
	    bb_config_str(cfg, "kiosk.presence_event"), &e) != 0)
		bb_die_err(&e);
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
	struct bb_case_id id;
	struct bb_receipt_opts o = { bb_config_str(cfg, "form.screens"),
	    bb_config_str(cfg, "form.services"), bb_config_str(cfg, "form.lang"), NULL,
	    bb_config_str(cfg, "form.printer") };
	const char *path = NULL;
	char control[256], *choice = NULL;
	size_t max = (size_t)bb_config_int(cfg, "case.max_size");
	long until = -1;
	json_t *cs;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "S:u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S': path = optarg; break;
		case 'p': o.pdf = optarg; break;
		case 'u': until = until_arg(optarg); break;
		case 'h': usage(0);
		default: usage(BB_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(BB_USAGE);
	if (bb_case_read(argv[optind], max, &cs, &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs);
	path = bb_screen_control(path, control, sizeof control);
	rc = bb_receipt_make(path, cs, &o, &e);
	bb_json_wipe(cs);
	if (rc != 0)
		bb_die_err(&e);
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
