/* bb-eid: the German ID card over PC/SC. Lists readers, waits for a card, tells what the
 * card is without a secret (info), reads the personal data with PACE, Terminal and Chip
 * Authentication and passive authentication into a case (read), and manages the PIN
 * (pin-change, pin-unblock, pin-resume). What it does lives in lib/eid (eid.h); here are
 * its options, the secrets from descriptors or the terminal, its messages and its exit
 * statuses. */
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"
#include "case.h"
#include "files.h"
#include "eid/eid.h"
#include "eid/online.h"
#include "secmem.h"

#include <openssl/crypto.h>
#include <syslog.h>
#include <time.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: bb-eid [-c CONFIG] [-v|-q] readers [--reader NAME] [--format text|json]\n"
    "       bb-eid [-c CONFIG] wait [--reader NAME] [--timeout SECONDS]\n"
    "       bb-eid [-c CONFIG] info [--reader NAME] [--format text|json]\n"
    "       bb-eid [-c CONFIG] read [--reader NAME] [--pin-fd N | --can-fd N]\n"
    "              [--token-pin-fd N] [--fields LIST] [--service NAME] [--new] [-o OUT]\n"
    "              [--trace] [--stats] [CASE]\n"
    "       bb-eid [-c CONFIG] online --service NAME [--pin-fd N] [--can-fd N] [--puk-fd N]\n"
    "              [--fields LIST] [--new] [-o OUT] [CASE]\n"
    "       bb-eid [-c CONFIG] pin-change [--reader NAME] [--pin-fd N] [--new-pin-fd N]\n"
    "       bb-eid [-c CONFIG] pin-unblock [--reader NAME] [--puk-fd N]\n"
    "       bb-eid [-c CONFIG] pin-resume [--reader NAME] [--can-fd N] [--pin-fd N]\n"
    "       bb-eid --help | --version\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

static void
emit(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	puts(s);
	free(s);
}

struct opts {
	const char *reader, *format, *fields, *service, *out;
	long timeout;
	int pin_fd, can_fd, puk_fd, new_pin_fd, token_pin_fd, fresh, trace, stats;
	int flags;		/* BB_EID_*: from -v, --trace, --stats */
	const char *file;
};

static int
fd_arg(const char *s, const char *what)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*end != '\0' || n < 0 || n > 1024 || end == s)
		bb_die(BB_USAGE, "%s: expected a file descriptor number", what);
	return (int)n;
}

static void
parse(int argc, char **argv, const char *cmd, struct opts *o)
{
	static const struct option lo[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pin-fd", required_argument, NULL, 'P' },
		{ "can-fd", required_argument, NULL, 'C' },
		{ "puk-fd", required_argument, NULL, 'K' },
		{ "new-pin-fd", required_argument, NULL, 'N' },
		{ "token-pin-fd", required_argument, NULL, 'W' },
		{ "fields", required_argument, NULL, 'F' },
		{ "service", required_argument, NULL, 'S' },
		{ "new", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "trace", no_argument, NULL, 'T' },
		{ "stats", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c, online = strcmp(cmd, "online") == 0;
	int reading = strcmp(cmd, "read") == 0 || online;

	memset(o, 0, sizeof *o);
	o->format = isatty(1) ? "text" : "json";
	o->timeout = -1;
	o->pin_fd = o->can_fd = o->puk_fd = o->new_pin_fd = o->token_pin_fd = -1;
	while ((c = getopt_long(argc, argv, "r:f:t:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o->reader = optarg; break;
		case 'f': o->format = optarg; break;
		case 't':
			o->timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || o->timeout < 0 || o->timeout > 86400)
				bb_die(BB_USAGE, "--timeout: expected seconds");
			break;
		case 'P': o->pin_fd = fd_arg(optarg, "--pin-fd"); break;
		case 'C': o->can_fd = fd_arg(optarg, "--can-fd"); break;
		case 'K': o->puk_fd = fd_arg(optarg, "--puk-fd"); break;
		case 'N': o->new_pin_fd = fd_arg(optarg, "--new-pin-fd"); break;
		case 'W': o->token_pin_fd = fd_arg(optarg, "--token-pin-fd"); break;
		case 'F': o->fields = optarg; break;
		case 'S': o->service = optarg; break;
		case 'n': o->fresh = 1; break;
		case 'o': o->out = optarg; break;
		case 'T': o->trace = 1; break;
		case 's': o->stats = 1; break;
		default: usage(BB_USAGE);
		}
	}
	if (reading && optind == argc - 1)
		o->file = argv[optind++];
	if (optind != argc || (strcmp(o->format, "text") && strcmp(o->format, "json")))
		usage(BB_USAGE);
	if (online && o->service == NULL)
		bb_die(BB_USAGE, "online: --service NAME is needed (its eID-Server and result)");
	if (online && (o->token_pin_fd >= 0 || o->trace || o->stats || o->reader ||
	    o->timeout >= 0 || o->new_pin_fd >= 0))
		usage(BB_USAGE);
	/* Online, AusweisApp asks for the CAN first when the PIN is suspended, then the PIN. */
	if (reading && !online && o->pin_fd >= 0 && o->can_fd >= 0)
		bb_die(BB_USAGE, "--pin-fd and --can-fd exclude each other");
	/* Only read signs with the terminal's key (Terminal Authentication). */
	if (!reading && o->token_pin_fd >= 0)
		usage(BB_USAGE);
	if (o->fresh && o->file != NULL)
		bb_die(BB_USAGE, "--new and a CASE file exclude each other");
}

/* ---- secrets ----------------------------------------------------------------------- */

/* Digits only, of an allowed length: a mistyped PIN never reaches the card (it would
 * cost a retry). */
static void
check_digits(const struct bb_secret *s, const char *what, size_t lo, size_t hi)
{
	size_t i;

	if (s->len < lo || s->len > hi)
		goto bad;
	for (i = 0; i < s->len; i++)
		if (s->buf[i] < '0' || s->buf[i] > '9')
			goto bad;
	return;
bad:
	if (lo == hi)
		bb_die(BB_DATAERR, "%s: expected %zu digits", what, lo);
	bb_die(BB_DATAERR, "%s: expected %zu to %zu digits", what, lo, hi);
}

/* The secret what from fd, else asked for on the terminal with prompt; lo > 0: digits
 * only, lo to hi of them. */
static void
secret(struct bb_secret *s, int fd, const char *what, const char *prompt, size_t lo,
    size_t hi)
{
	struct bb_err e = { 0, "" };
	int rc;

	if (bb_secret_alloc(s, 64) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (fd >= 0)
		rc = bb_secret_read_fd(s, fd, what, &e);
	else
		rc = bb_secret_read_tty(s, prompt, &e);
	if (rc != 0) {
		bb_secret_free(s);
		bb_die_err(&e);
	}
	if (lo > 0)
		check_digits(s, what, lo, hi);
}

/* ---- the card ------------------------------------------------------------------- */

/* Whatever way bb-eid ends, the card is reset before it does: no secure channel outlives
 * the process, and the reader is free for the next one at once. */
static struct bb_eid_session *open_session;

static void
reset_card(void)
{
	if (open_session != NULL)
		bb_eid_session_close(open_session);
	open_session = NULL;
}

static void
session_open(struct bb_eid_session *s, const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };

	open_session = s;
	atexit(reset_card);
	if (bb_eid_session_open(s, o->reader ? o->reader : bb_config_str(cfg, "eid.reader"),
	    o->flags, &e) != 0)
		bb_die_err(&e);
}

static int
cmd_read(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_eid_read r;
	struct bb_eid_session s;
	struct bb_secret sec = { NULL, 0, 0 };
	struct bb_p11_pin tpin = { o->token_pin_fd, NULL };
	struct bb_case_id id;
	json_t *cs_json, *identity;
	int fd = o->can_fd >= 0 ? o->can_fd : o->pin_fd;
	const char *what = o->can_fd >= 0 ? "CAN" : "PIN";

	memset(&r, 0, sizeof r);
	if (bb_eid_wanted(cfg, o->fields, o->service, &r.asked, &e) != 0 ||
	    bb_eid_paths(cfg, &r.paths, &e) != 0)
		bb_die_err(&e);
	if (o->token_pin_fd >= 0 && !bb_p11_is_uri(r.paths.terminal_key))
		bb_die(BB_USAGE, "--token-pin-fd: eid.terminal_key is a file, not a pkcs11: URI");
	tpin.file = bb_config_str(cfg, "eid.terminal_key_pin_file");
	r.token_pin = &tpin;
	r.pwd_ref = o->can_fd >= 0 ? BB_PACE_CAN : BB_PACE_PIN;
	r.now = time(NULL);
	r.id = &id;
	if (bb_eid_read_begin(&r, &e) != 0 || bb_case_open(o->fresh, o->file, 0,
	    bb_config_str(cfg, "terminal"), (size_t)bb_config_int(cfg, "case.max_size"),
	    &cs_json, &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs_json);
	/* No descriptor: the reader's PIN pad when it runs PACE, else the terminal. With
	 * one, the secret comes first: a mistyped one never reaches the card. */
	if (fd >= 0)
		secret(&sec, fd, what, what, 6, 6);
	session_open(&s, o, cfg);
	if (fd < 0 && bb_eid_session_pinpad(&s))
		fprintf(stderr, "%s: enter the %s on the reader's PIN pad\n", bb_progname, what);
	else if (fd < 0)
		secret(&sec, fd, what, what, 6, 6);
	if (bb_eid_read(&r, &s, sec.buf != NULL ? &sec : NULL, &identity, &e) != 0)
		bb_die_err(&e);
	bb_secret_free(&sec);
	/* The identity part is replaced whole, not merged: a card read again, perhaps another
	 * person's, must not leave the last reading's data in the case. */
	if (json_object_set_new(cs_json, "identity", identity) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (bb_case_write(cs_json, o->out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "eid.read", &id);
	json_decref(cs_json);
	reset_card();
	bb_eid_read_end(&r);
	return 0;
}

/* Online: AusweisApp authenticates against the service's eID-Server, and the service's
 * result address gives the identity (bb_eid_online_read). No terminal certificate, no
 * trust anchors here: the eID-Server checks the card. */
static int
cmd_online(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_secret pin = { NULL, 0, 0 }, can = { NULL, 0, 0 }, puk = { NULL, 0, 0 };
	struct bb_case_id id;
	json_t *cs_json, *identity;
	int rc;

	if (bb_case_open(o->fresh, o->file, 0, bb_config_str(cfg, "terminal"),
	    (size_t)bb_config_int(cfg, "case.max_size"), &cs_json, &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs_json);
	if (o->can_fd >= 0)
		secret(&can, o->can_fd, "CAN", "CAN", 6, 6);
	if (o->puk_fd >= 0)
		secret(&puk, o->puk_fd, "PUK", "PUK", 10, 10);
	secret(&pin, o->pin_fd, "PIN", "PIN", 6, 6);
	rc = bb_eid_online_read(cfg, o->service, o->fields, &pin, can.buf ? &can : NULL,
	    puk.buf ? &puk : NULL, &identity, &e);
	bb_secret_free(&pin);
	bb_secret_free(&can);
	bb_secret_free(&puk);
	if (rc != 0) {
		bb_log_n(LOG_NOTICE, "eid.failed", &id, "status", rc);
		bb_die_err(&e);
	}
	/* Replaced whole, as read does. */
	if (json_object_set_new(cs_json, "identity", identity) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (bb_case_write(cs_json, o->out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "eid.online", &id);
	json_decref(cs_json);
	return 0;
}

/* ---- PIN management ------------------------------------------------------------ */

static int
cmd_pin_change(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_secret pin, newpin, again;
	struct bb_eid_session s;

	secret(&pin, o->pin_fd, "PIN", "PIN (or 5-digit transport PIN)", 5, 6);
	secret(&newpin, o->new_pin_fd, "new PIN", "new PIN (6 digits)", 6, 6);
	if (o->new_pin_fd < 0) {
		secret(&again, -1, "new PIN", "new PIN again", 0, 0);
		if (!bb_secret_equal(&again, &newpin))
			bb_die(BB_DATAERR, "the two new PINs differ");
		bb_secret_free(&again);
	}
	session_open(&s, o, cfg);
	if (bb_eid_pin_change(&s, &pin, &newpin, &e) != 0)
		bb_die_err(&e);
	bb_secret_free(&pin);
	bb_secret_free(&newpin);
	bb_log(LOG_INFO, "eid.pin_changed", NULL);
	fprintf(stderr, "%s: the PIN is changed\n", bb_progname);
	reset_card();
	return 0;
}

static int
cmd_pin_unblock(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_secret puk;
	struct bb_eid_session s;

	secret(&puk, o->puk_fd, "PUK", "PUK (10 digits)", 10, 10);
	session_open(&s, o, cfg);
	if (bb_eid_pin_unblock(&s, &puk, &e) != 0)
		bb_die_err(&e);
	bb_secret_free(&puk);
	bb_log(LOG_INFO, "eid.pin_unblocked", NULL);
	fprintf(stderr, "%s: the PIN is unblocked: 3 retries\n", bb_progname);
	reset_card();
	return 0;
}

static int
cmd_pin_resume(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_secret can, pin;
	struct bb_eid_session s;

	secret(&can, o->can_fd, "CAN", "CAN (6 digits on the front of the card)", 6, 6);
	secret(&pin, o->pin_fd, "PIN", "PIN", 6, 6);
	session_open(&s, o, cfg);
	if (bb_eid_pin_resume(&s, &can, &pin, &e) != 0)
		bb_die_err(&e);
	bb_secret_free(&can);
	bb_secret_free(&pin);
	bb_log(LOG_INFO, "eid.pin_resumed", NULL);
	fprintf(stderr, "%s: the PIN is resumed: 3 retries\n", bb_progname);
	reset_card();
	return 0;
}

static int
cmd_readers(struct bb_pcsc *p, const struct opts *o)
{
	struct bb_err e = { 0, "" };
	struct bb_reader *r;
	json_t *arr = json_array();
	char atr[67];
	size_t n, i;

	if (bb_pcsc_readers(p, &r, &n, &e) != 0)
		bb_die_err(&e);
	for (i = 0; i < n; i++) {
		if (!bb_pcsc_match(r[i].name, o->reader))
			continue;
		bb_eid_hex(r[i].atr, r[i].atrlen, atr);
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s?, s:b, s:b}", "name",
		    r[i].name, "card", r[i].card, "atr", r[i].card ? atr : NULL, "pinpad",
		    r[i].pinpad, "pace", r[i].pace));
		if (strcmp(o->format, "text") == 0)
			printf("%s\t%s%s%s\n", r[i].name, r[i].card ? "card" : "empty",
			    r[i].pinpad ? ", PIN pad" : "", r[i].pace ? ", PACE in the reader" : "");
	}
	if (strcmp(o->format, "json") == 0)
		emit(arr);
	json_decref(arr);
	free(r);
	return 0;
}

/* Waits for the card the next command will use: on eid.reader's readers by default, so
 * that a card on another reader (a pad for something else) is not taken for it. */
static int
cmd_wait(struct bb_pcsc *p, const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	const char *reader = o->reader ? o->reader : bb_config_str(cfg, "eid.reader");
	char name[256];
	int rc;

	rc = bb_pcsc_wait(p, reader, o->timeout < 0 ? -1 : o->timeout * 1000, name, &e);
	if (rc != 0)
		bb_die_err(&e);
	printf("%s\n", name);
	return 0;
}

static int
cmd_info(struct bb_pcsc *p, const struct opts *o)
{
	struct bb_err e = { 0, "" };
	json_t *out, *it;
	size_t i;

	if (bb_eid_info(p, o->reader, &out, &e) != 0)
		bb_die_err(&e);
	if (strcmp(o->format, "json") == 0) {
		emit(out);
	} else {
		printf("reader: %s\ncard: eID (PACE)\n", p->reader);
		json_array_foreach(json_object_get(out, "card_access"), i, it)
			printf("offers: %s\n", json_string_value(json_object_get(it, "protocol")));
		printf("PIN: %s\n", json_string_value(json_object_get(json_object_get(out, "pin"),
		    "state")));
	}
	json_decref(out);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const cmds[] = { "readers", "wait", "info", "read", "online",
	    "pin-change", "pin-unblock", "pin-resume", NULL };
	struct bb_err e = { 0, "" };
	struct bb_cli cli;
	struct bb_pcsc p;
	struct opts o;
	const char *cmd;
	int rc, i;

	bb_init(argv[0]);
	/* OpenSSL's secure heap for what it allocates as secret (private keys' numbers):
	 * locked and wiped like ours. */
	(void)CRYPTO_secure_malloc_init(1 << 16, 32);
	bb_cli_start(&cli, &argc, &argv, usage, 0);
	cmd = cli.cmd;
	for (i = 0; cmds[i] != NULL && strcmp(cmd, cmds[i]) != 0; i++)
		;
	if (cmds[i] == NULL) {
		bb_warn("%s: unknown command", cmd);
		usage(BB_USAGE);
	}
	parse(argc, argv, cmd, &o);
	/* The trace goes to stderr: keep it open. */
	o.flags = (cli.verbosity > 0 || o.trace ? BB_EID_VERBOSE : 0) |
	    (o.trace ? BB_EID_TRACE : 0) | (o.stats ? BB_EID_STATS : 0);
	if (strcmp(cmd, "read") == 0)
		rc = cmd_read(&o, cli.cfg);
	else if (strcmp(cmd, "online") == 0)
		rc = cmd_online(&o, cli.cfg);
	else if (strcmp(cmd, "pin-change") == 0)
		rc = cmd_pin_change(&o, cli.cfg);
	else if (strcmp(cmd, "pin-unblock") == 0)
		rc = cmd_pin_unblock(&o, cli.cfg);
	else if (strcmp(cmd, "pin-resume") == 0)
		rc = cmd_pin_resume(&o, cli.cfg);
	else {
		if (bb_pcsc_open(&p, &e) != 0)
			bb_die_err(&e);
		if (strcmp(cmd, "readers") == 0)
			rc = cmd_readers(&p, &o);
		else if (strcmp(cmd, "wait") == 0)
			rc = cmd_wait(&p, &o, cli.cfg);
		else
			rc = cmd_info(&p, &o);
		bb_pcsc_close(&p);
	}
	bb_config_free(cli.cfg);
	return rc;
}
