/* bb-eid: the German ID card over PC/SC. Lists readers, waits for a card, tells what the
 * card is without a secret (info), reads the personal data with PACE, Terminal and Chip
 * Authentication and passive authentication into a case (read), and manages the PIN
 * (pin-change, pin-unblock, pin-resume). */
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"
#include "case.h"
#include "files.h"
#include "eid/card.h"
#include "eid/dg.h"
#include "eid/eac.h"
#include "eid/online.h"
#include "eid/pace.h"
#include "eid/pcsc.h"
#include "eid/readerpace.h"
#include "eid/sm.h"
#include "secmem.h"

#include <openssl/crypto.h>
#include <syslog.h>
#include <time.h>

#include <fcntl.h>
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
	const char *reader, *format, *fields, *service, *out;
	long timeout;
	int pin_fd, can_fd, puk_fd, new_pin_fd, token_pin_fd, fresh, trace, stats;
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
	if (online && (o->token_pin_fd >= 0 || o->trace || o->stats || o->reader))
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

/* ---- the transport: counting, tracing ------------------------------------------- */

/* Per protocol step: APDUs, bytes each way, time (for -v and the benchmark). */
enum step { ST_PACE, ST_PA, ST_TA, ST_CA, ST_READ, ST_N };
static const char *const step_names[ST_N] = { "pace", "pa", "ta", "ca", "read" };

struct io {
	struct bb_pcsc *p;
	int trace, stats;
	enum step step;
	unsigned long apdus[ST_N], out[ST_N], in[ST_N];
	struct timespec t0;
	double ms[ST_N];
};

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double step_start;

static void
step(struct io *io, enum step st)
{
	double t = now_ms();

	io->ms[io->step] += t - step_start;
	step_start = t;
	io->step = st;
}

/* The wire: only the header, the lengths and the status word are traced, never data
 * (it holds keys, the new PIN, personal data). */
static int
io_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp, size_t *rlen,
    struct bb_err *e)
{
	struct io *io = arg;
	int rc;

	io->apdus[io->step]++;
	io->out[io->step] += len;
	if (io->trace && len >= 4)
		fprintf(stderr, "%s: trace: > %02X %02X %02X %02X, %zu bytes\n", bb_progname,
		    apdu[0], apdu[1], apdu[2], apdu[3], len);
	rc = bb_pcsc_transmit(io->p, apdu, len, resp, rlen, e);
	if (rc == 0) {
		io->in[io->step] += *rlen;
		if (io->trace)
			fprintf(stderr, "%s: trace: < %zu bytes, %02X%02X\n", bb_progname, *rlen,
			    resp[*rlen - 2], resp[*rlen - 1]);
	}
	return rc;
}

/* Inside the channel: the plain command's header and lengths; its data only for
 * commands that carry neither secrets nor personal data (SELECT, MSE, certificates). */
static void
sm_trace(void *arg, const unsigned char hdr[4], const unsigned char *data, size_t len,
    size_t ne, unsigned sw)
{
	char buf[2 * 64 + 1];
	int show = hdr[1] == 0xA4 || hdr[1] == 0x22;

	(void)arg;
	if (sw == 0) {
		buf[0] = '\0';
		if (show && len <= 64)
			hex(data, len, buf);
		fprintf(stderr, "%s: trace: SM > %02X %02X %02X %02X, %zu bytes%s%s, Ne %zu\n",
		    bb_progname, hdr[0], hdr[1], hdr[2], hdr[3], len, buf[0] ? " " : "",
		    buf[0] ? buf : (len ? " (blanked)" : ""), ne);
	} else if (hdr[1] == 0xB0 || hdr[1] == 0xB1)
		/* Not even the length of what was read: it tells a name's length. */
		fprintf(stderr, "%s: trace: SM < %s, %04X\n", bb_progname,
		    len ? "data (blanked)" : "no data", sw);
	else
		fprintf(stderr, "%s: trace: SM < %zu bytes%s, %04X\n", bb_progname, len,
		    len ? " (blanked)" : "", sw);
}

static void
stats(const struct io *io)
{
	int i;

	for (i = 0; i < ST_N; i++)
		if (io->apdus[i] > 0)
			bb_log_n(LOG_DEBUG, "eid.step", NULL, "apdus", io->apdus[i]);
	if (!io->stats)
		return;
	/* Counts and times, never data: for comparing with other eID clients. */
	for (i = 0; i < ST_N; i++)
		fprintf(stderr, "%s: stats: %s %lu apdus %lu out %lu in %.3f ms\n", bb_progname,
		    step_names[i], io->apdus[i], io->out[i], io->in[i], io->ms[i]);
}

/* OpenPACE reports its failures on stderr from inside the library ("[ERROR] (file:line)
 * ..." and OpenSSL's error queue): no data, but not the one line a kiosk script shows.
 * While it works, stderr goes to /dev/null unless -v asked for everything. */
static int quiet_fd = -1, verbose;

static void
quiet(int on)
{
	int null;

	if (verbose)
		return;
	if (on && quiet_fd < 0) {
		fflush(stderr);
		if ((quiet_fd = fcntl(2, F_DUPFD_CLOEXEC, 3)) >= 0 &&
		    (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
			dup2(null, 2);
			close(null);
		}
	} else if (!on && quiet_fd >= 0) {
		dup2(quiet_fd, 2);
		close(quiet_fd);
		quiet_fd = -1;
	}
}

/* ---- secrets ----------------------------------------------------------------------- */

static void
secret(struct bb_secret *s, int fd, const char *what, const char *prompt)
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
}

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

/* ---- the card ------------------------------------------------------------------- */

struct session {
	struct bb_pcsc p;
	struct io io;
	unsigned char *ca;	/* EF.CardAccess */
	size_t ca_len;
	struct bb_pace *pace;
	struct bb_sm sm;
};

/* Whatever way bb-eid ends, the card is reset before it does: no secure channel outlives
 * the process, and the reader is free for the next one at once. */
static struct bb_pcsc *open_card;

static void
reset_card(void)
{
	if (open_card != NULL)
		bb_pcsc_close(open_card);
	open_card = NULL;
}

static void
session_open(struct session *s, const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	const char *reader = o->reader ? o->reader : bb_config_str(cfg, "eid.reader");

	memset(s, 0, sizeof *s);
	open_card = &s->p;
	atexit(reset_card);
	if (bb_pcsc_open(&s->p, &e) != 0 || bb_pcsc_connect(&s->p, reader, &e) != 0)
		bb_die_err(&e);
	/* EF.CardAccess is PACE's: its APDUs and time count there. */
	step_start = now_ms();
	if (bb_card_read_file(&s->p, BB_FID_CARD_ACCESS, 8192, &s->ca, &s->ca_len, &e) != 0)
		bb_die_err(&e);
	s->io.p = &s->p;
	s->io.trace = o->trace;
	s->io.stats = o->stats;
	s->io.step = ST_PACE;
	s->io.apdus[ST_PACE] = s->p.apdus;
	s->io.out[ST_PACE] = s->p.out;
	s->io.in[ST_PACE] = s->p.in;
}

static void
session_close(struct session *s)
{
	bb_pace_free(s->pace);
	free(s->ca);
	reset_card();
}

/* PACE with one secret; dies with the outcome a person can act on. */
static void
pace(struct session *s, int pwd_ref, const struct bb_secret *sec, const unsigned char *chat,
    size_t chat_len, int flags, bb_apdu_fn fn, void *arg)
{
	struct bb_err e = { 0, "" };
	struct bb_pace *p = NULL;
	int retries = -1, rc;

	quiet(1);
	rc = bb_pace_run(fn, arg, s->ca, s->ca_len, pwd_ref, (const char *)sec->buf, sec->len,
	    chat, chat_len, flags, &p, &retries, &e);
	quiet(0);
	if (rc == BB_DOC_BLOCKED && pwd_ref == BB_PACE_PIN && retries == 1)
		bb_die(BB_DOC_BLOCKED, "the PIN is suspended: confirm with the CAN first (bb-eid pin-resume)");
	if (rc == BB_DOC_BLOCKED && pwd_ref == BB_PACE_PIN && retries == 0)
		bb_die(BB_DOC_BLOCKED, "the PIN is blocked: unblock it with the PUK (bb-eid pin-unblock)");
	if (rc == BB_WRONG_SECRET && pwd_ref == BB_PACE_PIN && retries == 1)
		bb_die(BB_WRONG_SECRET, "wrong PIN, 1 retry left: the PIN is now suspended (the CAN is needed next)");
	if (rc == BB_WRONG_SECRET && pwd_ref == BB_PACE_PIN && retries == 0)
		bb_die(BB_WRONG_SECRET, "wrong PIN, no retries left: the PIN is now blocked (the PUK is needed)");
	if (rc == BB_WRONG_SECRET) {
		const char *what = pwd_ref == BB_PACE_PIN ? "PIN" : pwd_ref == BB_PACE_CAN ? "CAN" : "PUK";
		if (retries >= 0)
			bb_die(BB_WRONG_SECRET, "wrong %s, %d %s left", what, retries,
			    retries == 1 ? "retry" : "retries");
		bb_die(BB_WRONG_SECRET, "wrong %s", what);
	}
	if (rc != 0)
		bb_die_err(&e);
	bb_pace_free(s->pace);
	s->pace = p;
	bb_sm_init(&s->sm, p->ctx, io_apdu, &s->io, 1);
	if (s->io.trace) {
		s->sm.trace = sm_trace;
		s->sm.trace_arg = s;
	}
}

/* PACE in a PIN-pad reader (PC/SC part 10 amendment 1): the person types the PIN on the
 * pad, the reader runs PACE and protects the channel until Chip Authentication, when
 * bb-eid takes over with the CA keys. The certificate description goes along for
 * readers with a display. No such reader can be attached here: this path follows the
 * specification and is not tested against a reader. */
static void
reader_pace(struct session *s, int pwd_ref, const unsigned char *chat, size_t chat_len,
    const struct bb_config *cfg, const char *pki)
{
	struct bb_err e = { 0, "" };
	struct bb_reader_pace rp;
	char path[512], *desc = NULL;
	size_t desc_len = 0;
	int retries;

	if (bb_config_has(cfg, "eid.certificate_description"))
		snprintf(path, sizeof path, "%s", bb_config_str(cfg, "eid.certificate_description"));
	else if (*pki != '\0')
		snprintf(path, sizeof path, "%s/terminal/terminal.desc", pki);
	else
		path[0] = '\0';
	if (path[0] == '\0' || bb_read_file(path, 65535, &desc, &desc_len, &e) != 0) {
		desc = NULL;	/* optional: a reader without a display needs none */
		desc_len = 0;
	}
	fprintf(stderr, "%s: enter the %s on the reader's PIN pad\n", bb_progname,
	    pwd_ref == BB_PACE_CAN ? "CAN" : "PIN");
	if (bb_reader_pace(&s->p, pwd_ref, chat, chat_len, NULL, 0, (unsigned char *)desc,
	    desc_len, &rp, &retries, &e) != 0)
		bb_die_err(&e);
	free(desc);
	bb_pace_free(s->pace);
	s->pace = NULL;
	if (bb_pace_from_reader(rp.card_access, rp.card_access_len, rp.id_icc, rp.id_icc_len,
	    rp.car, rp.car_prev, &s->pace, &e) != 0)
		bb_die_err(&e);
	bb_reader_pace_free(&rp);
	bb_sm_init(&s->sm, NULL, io_apdu, &s->io, 1);
	if (s->io.trace) {
		s->sm.trace = sm_trace;
		s->sm.trace_arg = s;
	}
}

/* ---- read ------------------------------------------------------------------------ */

struct field {
	const char *key;
	int dg;
	int text;	/* a string the card may not hold: "" then */
};

static const struct field fields[] = {
	{ "document_type", 1, 1 }, { "issuing_state", 2, 1 }, { "expiry", 3, 1 },
	{ "given_names", 4, 1 }, { "family_names", 5, 1 }, { "artistic_name", 6, 1 },
	{ "academic_title", 7, 1 }, { "date_of_birth", 8, 1 }, { "place_of_birth", 9, 1 },
	{ "nationality", 10, 1 }, { "birth_name", 13, 1 }, { "address", 17, 0 },
	{ "community_id", 18, 1 }, { "residence_permit", 19, 0 }, { "residence_permit", 20, 0 },
};

/* What eid.pki stands for when it is not set. */
static const char *const pki_keys[] = {
	"eid.dv_cert", "eid.terminal_cert", "eid.terminal_key", "eid.cvca_dir", "eid.csca_dir",
};

static const char *
path_or(const struct bb_config *cfg, const char *key, const char *pki, const char *rel,
    char *buf, size_t room)
{
	if (bb_config_has(cfg, key))
		return bb_config_str(cfg, key);
	snprintf(buf, room, "%s/%s", pki, rel);
	return buf;
}

/* Which data groups to read: --fields, else the service's, else eid.fields; a service
 * names the most it may read. */
static unsigned long
wanted(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	unsigned long dgs = 0, allowed = ~0UL;
	char key[300];
	const char *list = o->fields;

	if (o->service != NULL) {
		snprintf(key, sizeof key, "eid.services.%s.fields", o->service);
		if (strchr(o->service, '.') != NULL || !bb_config_has(cfg, key))
			bb_die(BB_CONFIG, "eid.services: no service '%s' configured", o->service);
		if (bb_dg_fields(bb_config_str(cfg, key), &allowed, &e) != 0) {
			e.status = BB_CONFIG;
			bb_die_err(&e);
		}
		if (list == NULL)
			list = bb_config_str(cfg, key);
	}
	if (list == NULL)
		list = bb_config_str(cfg, "eid.fields");
	if (bb_dg_fields(list, &dgs, &e) != 0)
		bb_die_err(&e);
	if (dgs & ~allowed)
		bb_die(BB_NOPERM, "--fields asks for more than the service '%s' may read",
		    o->service);
	return dgs;
}

static int
cmd_read(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_eac_terminal t;
	struct bb_secret sec;
	struct session s;
	struct bb_case_id id;
	unsigned char chat[32], *cs = NULL, *dg;
	char pki[256], b1[512], b2[512], b3[512], signer[512], today[11];
	const char *csca, *cvca, *key;
	struct bb_p11_pin tpin;
	unsigned long asked, dgs, rights;
	size_t chat_len, cs_len, dg_len, i, max = (size_t)bb_config_int(cfg, "case.max_size");
	json_t *cs_json, *identity, *verified;
	int pwd_ref = o->can_fd >= 0 ? BB_PACE_CAN : BB_PACE_PIN, rc, n;
	time_t now = time(NULL);
	struct tm tm;

	asked = wanted(o, cfg);
	/* The expiry is always checked: an expired document is refused whatever is asked. */
	dgs = asked | 1UL << 3;
	/* No default: the trust anchors decide which documents are genuine, and a default
	 * path (it was /tmp/bb-eid-pki-UID) is one another user can create first. The
	 * configuration names them, each file and directory checked as the terminal's. */
	if (bb_config_has(cfg, "eid.pki"))
		snprintf(pki, sizeof pki, "%s", bb_config_str(cfg, "eid.pki"));
	else {
		for (i = 0; i < sizeof pki_keys / sizeof pki_keys[0]; i++)
			if (!bb_config_has(cfg, pki_keys[i]))
				bb_die(BB_CONFIG, "%s: not configured, nor eid.pki: name the "
				    "terminal's certificates, key and trust anchors (bb.yaml(5))",
				    pki_keys[i]);
		pki[0] = '\0';
	}
	key = path_or(cfg, "eid.terminal_key", pki, "terminal/terminal.pkcs8", b3, sizeof b3);
	if (o->token_pin_fd >= 0 && !bb_p11_is_uri(key))
		bb_die(BB_USAGE, "--token-pin-fd: eid.terminal_key is a file, not a pkcs11: URI");
	/* The token is opened (and its PIN used) before the card's PIN: a token that
	 * refuses costs the citizen nothing. */
	tpin.fd = o->token_pin_fd;
	tpin.file = bb_config_str(cfg, "eid.terminal_key_pin_file");
	if (bb_eac_terminal_load(&t,
	    path_or(cfg, "eid.dv_cert", pki, "terminal/dv.cvcert", b1, sizeof b1),
	    path_or(cfg, "eid.terminal_cert", pki, "terminal/terminal.cvcert", b2, sizeof b2),
	    key, &tpin, now, &e) != 0)
		bb_die_err(&e);
	csca = path_or(cfg, "eid.csca_dir", pki, "csca", b1, sizeof b1);
	cvca = path_or(cfg, "eid.cvca_dir", pki, "cvca-trust", b2, sizeof b2);
	/* Checked again where they are used; here so that a refused one costs no PIN. */
	if (bb_eac_trust_dir(csca, "eid.csca_dir", 1, &e) != 0 ||
	    bb_eac_trust_dir(cvca, "eid.cvca_dir", 0, &e) != 0)
		bb_die_err(&e);
	/* Data groups the terminal may not read are not asked for (the CHAT would be
	 * refused) and not read. */
	rights = bb_dg_chat_rights(t.rights);
	dgs &= rights;
	chat_len = bb_dg_chat(dgs, chat, sizeof chat);
	/* With the CAN an authentication terminal needs the right "CAN allowed" (bit 4 of the
	 * CHAT, TR-03110 part 4); ask for it, and refuse before the card when the
	 * certificate does not have it. */
	if (pwd_ref == BB_PACE_CAN) {
		if (!(t.rights[4] & 0x10))
			bb_die(BB_NOPERM, "the terminal's certificate %s does not allow reading with the CAN",
			    t.chr);
		chat[chat_len - 1] |= 0x10;
	}

	if (bb_case_open(o->fresh, o->file, 0, bb_config_str(cfg, "terminal"), max, &cs_json,
	    &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs_json);

	{
		int fd = pwd_ref == BB_PACE_CAN ? o->can_fd : o->pin_fd;
		const char *what = pwd_ref == BB_PACE_CAN ? "CAN" : "PIN";

		/* No descriptor: the reader's PIN pad when it runs PACE, else the terminal. With
		 * one, the secret comes first: a mistyped one never reaches the card. */
		if (fd < 0)
			session_open(&s, o, cfg);
		if (fd < 0 && bb_reader_pace_code(&s.p) != 0)
			reader_pace(&s, pwd_ref, chat, chat_len, cfg, pki);
		else {
			secret(&sec, fd, what, what);
			check_digits(&sec, what, 6, 6);
			if (fd >= 0)
				session_open(&s, o, cfg);
			pace(&s, pwd_ref, &sec, chat, chat_len, 0, io_apdu, &s.io);
			bb_secret_free(&sec);
		}
	}
	bb_log(LOG_INFO, "eid.pace", &id);

	/* Passive authentication first: it gives the chip's key for CA. */
	quiet(1);
	step(&s.io, ST_PA);
	if ((rc = bb_eac_read_sfi(&s.sm, 0x1D, 8192, &cs, &cs_len, &e)) != 0 ||
	    (rc = bb_eac_passive_auth(s.pace, cs, cs_len, s.ca, s.ca_len, csca, signer,
	    sizeof signer, &e)) != 0)
		goto fail;
	step(&s.io, ST_TA);
	if ((rc = bb_eac_ta(&s.sm, s.pace, &t, cvca, &e)) != 0)
		goto fail;
	/* A token is logged out as soon as it has signed, not when the read ends. */
	bb_p11_close(t.token);
	t.token = NULL;
	step(&s.io, ST_CA);
	if ((rc = bb_eac_ca(&s.sm, s.pace, &e)) != 0)
		goto fail;
	step(&s.io, ST_READ);
	if ((rc = bb_eac_select_eid(&s.sm, &e)) != 0)
		goto fail;
	identity = json_object();
	for (n = 1; n <= 22; n++) {
		if (!(dgs & (1UL << n)))
			continue;
		/* DG19 and DG20 hold the conditions of a residence permit (TR-03127: on the
		 * electronic residence permit only); on a German identity card, document type
		 * "ID" in DG1 (read first), they are not asked for: empty, as the card would
		 * answer (6A82), two APDUs less. */
		if ((n == 19 || n == 20) && (dgs & 1UL << 1)) {
			const char *type = json_string_value(json_object_get(identity,
			    "document_type"));

			if (type != NULL && strcmp(type, "ID") == 0)
				continue;
		}
		rc = bb_eac_read_sfi(&s.sm, (unsigned)n, 16384, &dg, &dg_len, &e);
		if (rc == BB_NOINPUT) {
			/* Not on this card: texts are empty (bb-case(5)). */
			for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
				if (fields[i].dg == n && fields[i].text)
					json_object_set_new(identity, fields[i].key, json_string(""));
			continue;
		}
		if (rc == 0) {
			rc = bb_dg_parse(n, dg, dg_len, identity, &e);
			OPENSSL_clear_free(dg, dg_len);
		}
		if (rc != 0) {
			json_decref(identity);
			goto fail;
		}
	}
	if ((dgs & ((1UL << 19) | (1UL << 20))) && json_object_get(identity, "residence_permit") == NULL)
		json_object_set_new(identity, "residence_permit", json_array());
	quiet(0);
	step(&s.io, ST_READ);
	stats(&s.io);
	/* The document's last day is a day where the terminal stands: local time. */
	localtime_r(&now, &tm);
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	if (rights & (1UL << 3)) {
		const char *exp = json_string_value(json_object_get(identity, "expiry"));
		if (exp == NULL || *exp == '\0' || strcmp(exp, today) < 0) {
			int unknown = exp == NULL || *exp == '\0';

			json_decref(identity);	/* exp with it */
			bb_log(LOG_NOTICE, "eid.expired", &id);
			bb_die(BB_DOC_BLOCKED, unknown ? "the card does not say how long it is valid" :
			    "the document has expired: it cannot be used for the eID");
		}
	}
	/* Only what was asked for leaves (the expiry was read for the check). */
	if (!(asked & (1UL << 3)))
		json_object_del(identity, "expiry");
	verified = json_pack("{s:s, s:b, s:b, s:s, s:s}", "pace",
	    pwd_ref == BB_PACE_CAN ? "can" : "pin", "ta", 1, "ca", 1, "passive_auth", "ok",
	    "document_signer", signer);
	json_object_set_new(identity, "verified", verified);
	/* The identity part is replaced whole, not merged: a card read again, perhaps another
	 * person's, must not leave the last reading's data in the case. */
	if (json_object_set_new(cs_json, "identity", identity) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
	if (bb_case_write(cs_json, o->out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "eid.read", &id);
	json_decref(cs_json);
	free(cs);
	session_close(&s);
	bb_eac_terminal_free(&t);
	return 0;
fail:
	quiet(0);
	bb_log_n(LOG_NOTICE, "eid.failed", &id, "status", rc);
	bb_die_err(&e);
}

/* Online: AusweisApp authenticates against the service's eID-Server, and the service's
 * result endpoint gives the identity. No terminal certificate, no trust anchors here: the
 * eID-Server checks the card. */
static int
cmd_online(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_secret pin, can, puk;
	struct bb_online on;
	struct bb_online_result r;
	struct bb_case_id id;
	json_t *cs_json, *identity, *v;
	char key[300], host[256];
	const char *tc, *res, *p;
	size_t max = (size_t)bb_config_int(cfg, "case.max_size");
	unsigned long asked = wanted(o, cfg);
	int rc;

	snprintf(key, sizeof key, "eid.services.%s.tc_token_url", o->service);
	tc = bb_config_str(cfg, key);
	snprintf(key, sizeof key, "eid.services.%s.result_url", o->service);
	res = bb_config_str(cfg, key);
	if (tc == NULL || res == NULL)
		bb_die(BB_CONFIG, "eid.services.%s: tc_token_url and result_url are needed online",
		    o->service);
	if (strncmp(tc, "https://", 8) != 0)
		bb_die(BB_CONFIG, "eid.services.%s.tc_token_url: not an https address", o->service);
	if (bb_case_open(o->fresh, o->file, 0, bb_config_str(cfg, "terminal"), max, &cs_json,
	    &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(cs_json);
	memset(&on, 0, sizeof on);
	if (o->can_fd >= 0) {
		secret(&can, o->can_fd, "CAN", "CAN: ");
		check_digits(&can, "CAN", 6, 6);
		on.can = &can;
	}
	if (o->puk_fd >= 0) {
		secret(&puk, o->puk_fd, "PUK", "PUK: ");
		check_digits(&puk, "PUK", 10, 10);
		on.puk = &puk;
	}
	secret(&pin, o->pin_fd, "PIN", "PIN: ");
	check_digits(&pin, "PIN", 6, 6);
	on.pin = &pin;
	on.sdk = bb_config_str(cfg, "eid.online.sdk");
	on.tc_token_url = tc;
	/* The document's validity (DG3) is always the eID-Server's to check, as read does. */
	on.allowed = asked | 1UL << 3;
	on.timeout_ms = (long)bb_config_int(cfg, "eid.online.timeout") * 1000;
	on.card_wait_ms = (long)bb_config_int(cfg, "eid.online.card_wait") * 1000;
	rc = bb_eid_online(&on, &r, &e);
	bb_secret_free(&pin);
	if (on.can)
		bb_secret_free(&can);
	if (on.puk)
		bb_secret_free(&puk);
	if (rc == 0)
		rc = bb_online_fetch(res, bb_config_str(cfg, "eid.online.ca_file"),
		    (long)bb_config_int(cfg, "eid.online.timeout"), on.allowed, &r, &identity, &e);
	if (rc != 0) {
		bb_log_n(LOG_NOTICE, "eid.failed", &id, "status", rc);
		bb_die_err(&e);
	}
	if (!(asked & (1UL << 3)))
		json_object_del(identity, "expiry");
	/* Which service and which eID-Server: the TC Token URL's host. */
	p = tc + 8;
	snprintf(host, sizeof host, "%.*s", (int)strcspn(p, "/?#"), p);
	v = json_object_get(identity, "verified");
	json_object_set_new(v, "service", json_string(o->service));
	json_object_set_new(v, "eid_server", json_string(host));
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

static void
reset_retry_counter(struct session *s, unsigned char p1, const struct bb_secret *newpin)
{
	const unsigned char hdr[4] = { 0x00, 0x2C, p1, 0x03 };
	struct bb_err e = { 0, "" };
	unsigned char *out;
	size_t outlen;
	unsigned sw;

	if (bb_sm_transmit(&s->sm, hdr, newpin ? newpin->buf : NULL, newpin ? newpin->len : 0,
	    0, &out, &outlen, &sw, &e) != 0)
		bb_die_err(&e);
	free(out);
	if (sw == 0x6982 || sw == 0x6985)
		bb_die(BB_NOPERM, "the card refuses to %s the PIN (%04X)",
		    p1 == 0x02 ? "change" : "unblock", sw);
	if (sw == 0x6A80)
		bb_die(BB_DATAERR, "the card refuses the new PIN (6A80)");
	if (sw != 0x9000)
		bb_die(BB_PROTOCOL, "RESET RETRY COUNTER: the card answered %04X", sw);
}

static int
cmd_pin_change(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_secret pin, newpin, again;
	struct session s;

	secret(&pin, o->pin_fd, "PIN", "PIN (or 5-digit transport PIN)");
	check_digits(&pin, "PIN", 5, 6);
	secret(&newpin, o->new_pin_fd, "new PIN", "new PIN (6 digits)");
	check_digits(&newpin, "new PIN", 6, 6);
	if (o->new_pin_fd < 0) {
		secret(&again, -1, "new PIN", "new PIN again");
		if (again.len != newpin.len || CRYPTO_memcmp(again.buf, newpin.buf, newpin.len))
			bb_die(BB_DATAERR, "the two new PINs differ");
		bb_secret_free(&again);
	}
	session_open(&s, o, cfg);
	pace(&s, BB_PACE_PIN, &pin, NULL, 0, 0, io_apdu, &s.io);
	bb_secret_free(&pin);
	reset_retry_counter(&s, 0x02, &newpin);
	bb_secret_free(&newpin);
	bb_log(LOG_INFO, "eid.pin_changed", NULL);
	fprintf(stderr, "%s: the PIN is changed\n", bb_progname);
	session_close(&s);
	return 0;
}

static int
cmd_pin_unblock(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_secret puk;
	struct session s;

	secret(&puk, o->puk_fd, "PUK", "PUK (10 digits)");
	check_digits(&puk, "PUK", 10, 10);
	session_open(&s, o, cfg);
	pace(&s, BB_PACE_PUK, &puk, NULL, 0, 0, io_apdu, &s.io);
	bb_secret_free(&puk);
	reset_retry_counter(&s, 0x03, NULL);
	bb_log(LOG_INFO, "eid.pin_unblocked", NULL);
	fprintf(stderr, "%s: the PIN is unblocked: 3 retries\n", bb_progname);
	session_close(&s);
	return 0;
}

static int
cmd_pin_resume(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_secret can, pin;
	struct session s;
	struct bb_sm outer;

	secret(&can, o->can_fd, "CAN", "CAN (6 digits on the front of the card)");
	check_digits(&can, "CAN", 6, 6);
	secret(&pin, o->pin_fd, "PIN", "PIN");
	check_digits(&pin, "PIN", 6, 6);
	session_open(&s, o, cfg);
	pace(&s, BB_PACE_CAN, &can, NULL, 0, 0, io_apdu, &s.io);
	bb_secret_free(&can);
	/* The PIN's PACE runs inside the CAN's channel; its keys then replace the CAN's. */
	outer = s.sm;
	{
		struct bb_pace *canpace = s.pace;
		s.pace = NULL;
		pace(&s, BB_PACE_PIN, &pin, NULL, 0, BB_PACE_SUSPENDED_OK, bb_sm_apdu, &outer);
		bb_pace_free(canpace);
	}
	bb_secret_free(&pin);
	bb_log(LOG_INFO, "eid.pin_resumed", NULL);
	fprintf(stderr, "%s: the PIN is resumed: 3 retries\n", bb_progname);
	session_close(&s);
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
	unsigned char *ca;
	size_t len;
	json_t *infos, *out, *it;
	const char *pace_oid = NULL;
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
		if (pace_oid == NULL && strncmp(oid, "0.4.0.127.0.7.2.2.4.", 20) == 0)
			pace_oid = oid;
	}
	if (pace_oid == NULL)
		bb_die(BB_PROTOCOL, "%s: the card offers no PACE: not an eID card", p->reader);
	if (bb_card_pin_retries(p, pace_oid, &retries, &e) != 0)
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
	static const char *const cmds[] = { "readers", "wait", "info", "read", "online", "pin-change",
	    "pin-unblock", "pin-resume", NULL };
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
	verbose = cli.verbosity > 0;
	cmd = cli.cmd;
	for (i = 0; cmds[i] != NULL && strcmp(cmd, cmds[i]) != 0; i++)
		;
	if (cmds[i] == NULL) {
		bb_warn("%s: unknown command", cmd);
		usage(BB_USAGE);
	}
	parse(argc, argv, cmd, &o);
	if (o.trace)
		verbose = 1;	/* the trace goes to stderr: keep it open */
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
