/* bb-eid: the German ID card over PC/SC. This first part lists readers, waits for a card
 * and tells what the card is without any secret; reading the data (PACE, TA, CA) and PIN
 * management follow. */
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"
#include "eid/card.h"
#include "eid/pcsc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: bb-eid [-c CONFIG] [-v|-q] readers [--format text|json]\n"
    "       bb-eid [-c CONFIG] wait [--reader NAME] [--timeout SECONDS]\n"
    "       bb-eid [-c CONFIG] info [--reader NAME] [--format text|json]\n"
    "       bb-eid --help | --version\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", b[i]);
	out[2 * n] = '\0';
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
	const char *reader, *format;
	long timeout;
};

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->reader = NULL;
	o->format = isatty(1) ? "text" : "json";
	o->timeout = -1;
	while ((c = getopt_long(argc, argv, "r:f:t:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o->reader = optarg; break;
		case 'f': o->format = optarg; break;
		case 't':
			o->timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || o->timeout < 0 || o->timeout > 86400)
				bb_die(BB_USAGE, "--timeout: expected seconds");
			break;
		default: usage(BB_USAGE);
		}
	}
	if (optind != argc || (strcmp(o->format, "text") && strcmp(o->format, "json")))
		usage(BB_USAGE);
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
		hex(r[i].atr, r[i].atrlen, atr);
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

static int
cmd_wait(struct bb_pcsc *p, const struct opts *o)
{
	struct bb_err e = { 0, "" };
	char name[256];
	int rc;

	rc = bb_pcsc_wait(p, o->reader, o->timeout < 0 ? -1 : o->timeout * 1000, name, &e);
	if (rc != 0)
		bb_die_err(&e);
	printf("%s\n", name);
	return 0;
}

static int
cmd_info(struct bb_pcsc *p, const struct opts *o)
{
	struct bb_err e = { 0, "" };
	unsigned char *ca;
	size_t len;
	json_t *infos, *out, *it;
	const char *pace = NULL;
	int retries = -1;
	size_t i;

	if (bb_pcsc_connect(p, o->reader, &e) != 0 ||
	    bb_card_read_file(p, BB_FID_CARD_ACCESS, 8192, &ca, &len, &e) != 0)
		bb_die_err(&e);
	if (bb_card_security_infos(ca, len, &infos, &e) != 0) {
		free(ca);
		bb_die_err(&e);
	}
	free(ca);
	json_array_foreach(infos, i, it) {
		const char *oid = json_string_value(json_object_get(it, "oid"));
		if (pace == NULL && strncmp(oid, "0.4.0.127.0.7.2.2.4.", 20) == 0)
			pace = oid;
	}
	if (pace == NULL)
		bb_die(BB_PROTOCOL, "%s: the card offers no PACE: not an eID card", p->reader);
	if (bb_card_pin_retries(p, pace, &retries, &e) != 0)
		bb_die_err(&e);
	out = json_pack("{s:s, s:s, s:O, s:{s:i, s:s}}", "reader", p->reader, "card", "eID (PACE)",
	    "card_access", infos, "pin", "retries", retries, "state", retries >= 2 ? "ready" :
	    retries == 1 ? "suspended (CAN needed)" : retries == 0 ? "blocked (PUK needed)" :
	    "unknown");
	if (strcmp(o->format, "json") == 0) {
		emit(out);
	} else {
		printf("reader: %s\ncard: eID (PACE)\n", p->reader);
		json_array_foreach(infos, i, it)
			printf("offers: %s\n", json_string_value(json_object_get(it, "protocol")));
		printf("PIN: %s\n", json_string_value(json_object_get(json_object_get(out, "pin"),
		    "state")));
	}
	json_decref(out);
	json_decref(infos);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bb_err e = { 0, "" };
	struct bb_cli cli;
	struct bb_pcsc p;
	struct opts o;
	const char *cmd;
	int rc;

	bb_init(argv[0]);
	bb_cli_start(&cli, &argc, &argv, usage, 0);
	cmd = cli.cmd;
	if (strcmp(cmd, "readers") && strcmp(cmd, "wait") && strcmp(cmd, "info")) {
		bb_warn("%s: unknown command", cmd);
		usage(BB_USAGE);
	}
	parse(argc, argv, &o);
	if (bb_pcsc_open(&p, &e) != 0)
		bb_die_err(&e);
	if (strcmp(cmd, "readers") == 0)
		rc = cmd_readers(&p, &o);
	else if (strcmp(cmd, "wait") == 0)
		rc = cmd_wait(&p, &o);
	else
		rc = cmd_info(&p, &o);
	bb_pcsc_close(&p);
	bb_config_free(cli.cfg);
	return rc;
}
