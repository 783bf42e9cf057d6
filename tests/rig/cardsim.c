/* cardsim: a German ID card for the tests, behind vsmartcard's vpcd reader driver, and a
 * small PC/SC client to talk to it (tests/rig/pcsc.sh drives both).
 *
 *   cardsim [OPTIONS] PROFILE_DIR          the card: connects to vpcd, serves the profile
 *     --host H (127.0.0.1)  --port N (35963)  --parent PID (exit when it is gone)
 *     -v (log every command and answer to stderr; secrets of PACE never appear: they do
 *        not travel)
 *     The card's options (tests/rig/card/eidcard.h, /work/notes/eidspec.md):
 *     --pki DIR (make-eid-pki output: EF.CardSecurity, chip key, CVCA)  --pin-retries N (3)
 *     --blocked  --deactivated  --transport  --pin P  --can C  --puk K  --no-extended
 *     --today YYYYMMDD  --expiry YYYYMMDD  --forged-security  --fault KIND[@N] (bad-mac,
 *     bad-ssc, sw=XXXX, plain-sw=XXXX, remove, truncated-tlv, oversized-tlv)  --atr HEX
 *     --truncate-response  --garbage  --mute
 *     PROFILE_DIR/options, if present, holds more of these options (before the command
 *     line's, so the command line wins): the place for --pin, --can and --puk, which then
 *     appear on no command line.
 *   cardsim --list-readers                 reader names, one a line (libpcsclite)
 *   cardsim --client --reader NAME [--timeout S] [--print-atr] APDU_HEX...
 *                                          each answer in hex on its own line (first the
 *                                          card's ATR with --print-atr); a transmit error
 *                                          or an empty answer (the card left) is exit 74,
 *                                          no card 69, --timeout (10 s) 75
 *   cardsim --client --reader NAME --wait-card|--wait-removal [--timeout S]
 *
 * The card itself is the engine in tests/rig/card (eidcard.c): files, PACE, secure
 * messaging, TA, CA, PIN management, faults. This file is its transport: vpcd's power
 * off, on and reset controls reset the engine (MF, no secure channel); the engine keeps
 * its retry counters and PIN for the life of the process. When the engine says the card
 * is removed (--fault remove@N), cardsim closes its vpcd connection, so vpcd reports the
 * slot empty, and stays away for good: it only waits to be ended (or for --parent to go)
 * and exits 0. A fresh card is a fresh process (card_insert).
 *
 * libpcsclite is loaded with dlopen, so the rig links with the Makefile's libraries. */
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <PCSC/winscard.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "card/eidcard.h"

#define MSG_MAX 65538

/* The transport's own options; the card's are in eidcard_conf. */
struct opts {
	const char *host;
	int port, verbose;
	long parent;
};

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: cardsim [--host H] [--port N] [--parent PID] [-v] [CARD OPTION...] PROFILE_DIR\n"
	    "         card options: --pki DIR --pin-retries N --blocked --deactivated --transport\n"
	    "         --pin P --can C --puk K --no-extended --today YYYYMMDD --expiry YYYYMMDD\n"
	    "         --forged-security --fault KIND[@N] --atr HEX --truncate-response --garbage\n"
	    "         --mute\n"
	    "       cardsim --list-readers\n"
	    "       cardsim --client --reader NAME [--timeout S] [--print-atr] [APDU_HEX...]\n"
	    "       cardsim --client --reader NAME --wait-card|--wait-removal [--timeout S]\n",
	    stderr);
	exit(BB_USAGE);
}

static void
hexdump(FILE *f, const char *prefix, const unsigned char *b, size_t n)
{
	fputs(prefix, f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02X", b[i]);
	fputc('\n', f);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		bb_die(BB_USAGE, "bad number: %s", s);
	return v;
}

/* ---- vpcd's wire: 2-byte big-endian length, then the payload ---- */

static int
read_full(int fd, unsigned char *b, size_t n, long parent)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;
		int pr = poll(&p, 1, 1000);

		if (pr < 0 && errno != EINTR)
			return -1;
		if (parent > 0 && kill((pid_t)parent, 0) != 0 && errno == ESRCH)
			return -1;
		if (pr <= 0)
			continue;
		k = read(fd, b + got, n - got);
		/* vpcd writes the length and the APDU separately; an ACK now lets its second
		 * write go without waiting out our delayed ACK (Linux re-arms it per read). */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
		if (k == 0)
			return -1;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

/* Length and payload in one write: two small writes meet Nagle's algorithm and the peer's
 * delayed ACK, some 40 ms each (with TCP_NODELAY set too). */
static int
send_msg(int fd, const unsigned char *b, size_t n)
{
	unsigned char msg[2 + MSG_MAX];

	if (n > MSG_MAX)
		return -1;
	msg[0] = (unsigned char)(n >> 8);
	msg[1] = (unsigned char)n;
	memcpy(msg + 2, b, n);
	return bb_write_all(fd, msg, n + 2) != 0 ? -1 : 0;
}

static int
connect_vpcd(const struct opts *o)
{
	struct addrinfo hints, *res, *ai;
	char port[16];
	int fd = -1, tries, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", o->port);
	if (getaddrinfo(o->host, port, &hints, &res) != 0)
		bb_die(BB_USAGE, "%s: cannot resolve", o->host);
	/* vpcd may not listen yet while pcscd starts: try for 10 s. */
	for (tries = 0; fd < 0 && tries < 100; tries++) {
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
			    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
				break;
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			struct timespec ts = { 0, 100000000 };

			nanosleep(&ts, NULL);
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		bb_die(BB_UNAVAILABLE, "%s:%d: cannot connect to vpcd", o->host, o->port);
	return fd;
}

static int
run_card(const struct opts *o, struct eidcard *k)
{
	static unsigned char in[MSG_MAX], out[MSG_MAX];
	int fd = connect_vpcd(o);

	for (;;) {
		unsigned char hdr[2];
		size_t n;
		long m;

		if (read_full(fd, hdr, 2, o->parent) != 0)
			break;
		n = (size_t)hdr[0] << 8 | hdr[1];
		if (read_full(fd, in, n, o->parent) != 0)
			break;
		if (n == 1) {
			if (o->verbose)
				fprintf(stderr, "cardsim: control %u\n", in[0]);
			if (in[0] == 0 || in[0] == 1 || in[0] == 2)
				eidcard_reset(k);
			else if (in[0] == 4) {
				const unsigned char *atr;
				size_t alen = eidcard_atr(k, &atr);

				if (eidcard_removed(k))
					continue;
				if (send_msg(fd, atr, alen) != 0)
					break;
			}
			continue;
		}
		if (o->verbose)
			hexdump(stderr, "cardsim: > ", in, n);
		/* vpcd's length field is 16 bits: keep one byte of room below it. */
		m = eidcard_apdu(k, in, n, out, 65535);
		if (m == EIDCARD_MUTE)
			continue;
		if (m == EIDCARD_REMOVED) {
			if (o->verbose)
				fputs("cardsim: removed\n", stderr);
			close(fd);
			/* Away for good: vpcd sees no card until another cardsim connects. */
			while (o->parent <= 0 || kill((pid_t)o->parent, 0) == 0 || errno != ESRCH)
				sleep(1);
			return BB_OK;
		}
		if (o->verbose)
			hexdump(stderr, "cardsim: < ", out, (size_t)m);
		if (send_msg(fd, out, (size_t)m) != 0)
			break;
	}
	/* vpcd closed the connection (pcscd ended) or the parent is gone: not an error. */
	close(fd);
	return BB_OK;
}

/* ---- the PC/SC client, libpcsclite by dlopen ---- */

static struct {
	__typeof__(SCardEstablishContext) *establish;
	__typeof__(SCardReleaseContext) *release;
	__typeof__(SCardListReaders) *list;
	__typeof__(SCardConnect) *connect;
	__typeof__(SCardDisconnect) *disconnect;
	__typeof__(SCardTransmit) *transmit;
	__typeof__(SCardGetStatusChange) *status_change;
	__typeof__(SCardStatus) *status;
	__typeof__(pcsc_stringify_error) *error;
	const SCARD_IO_REQUEST *pci_t0, *pci_t1;
} pc;

static void
load_pcsc(void)
{
	void *h = dlopen("libpcsclite.so.1", RTLD_NOW);

	if (h == NULL)
		bb_die(BB_UNAVAILABLE, "libpcsclite.so.1: %s", dlerror());
#define SYM(field, name) \
	if ((*(void **)&pc.field = dlsym(h, name)) == NULL) \
		bb_die(BB_UNAVAILABLE, "libpcsclite.so.1: no %s", name)
	SYM(establish, "SCardEstablishContext");
	SYM(release, "SCardReleaseContext");
	SYM(list, "SCardListReaders");
	SYM(connect, "SCardConnect");
	SYM(disconnect, "SCardDisconnect");
	SYM(transmit, "SCardTransmit");
	SYM(status_change, "SCardGetStatusChange");
	SYM(status, "SCardStatus");
	SYM(error, "pcsc_stringify_error");
	SYM(pci_t0, "g_rgSCardT0Pci");
	SYM(pci_t1, "g_rgSCardT1Pci");
#undef SYM
	/* The handle stays open for the life of the process. */
}

static SCARDCONTEXT
context(void)
{
	SCARDCONTEXT ctx;
	LONG rv;

	load_pcsc();
	rv = pc.establish(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS)
		bb_die(BB_UNAVAILABLE, "SCardEstablishContext: %s", pc.error(rv));
	return ctx;
}

static int
list_readers(void)
{
	SCARDCONTEXT ctx = context();
	DWORD len = 0;
	char *names;
	LONG rv;

	rv = pc.list(ctx, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		pc.release(ctx);
		return BB_OK;
	}
	if (rv != SCARD_S_SUCCESS)
		bb_die(BB_UNAVAILABLE, "SCardListReaders: %s", pc.error(rv));
	names = malloc(len);
	if (names == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	rv = pc.list(ctx, NULL, names, &len);
	if (rv != SCARD_S_SUCCESS)
		bb_die(BB_UNAVAILABLE, "SCardListReaders: %s", pc.error(rv));
	for (char *p = names; *p != '\0'; p += strlen(p) + 1)
		puts(p);
	free(names);
	pc.release(ctx);
	return bb_close_stdout();
}

/* Waits until the reader has a card (want 1) or none (want 0); 0 when it happened. */
static int
wait_card(SCARDCONTEXT ctx, const char *reader, int want, long timeout_ms)
{
	SCARD_READERSTATE st;
	LONG rv;

	memset(&st, 0, sizeof st);
	st.szReader = reader;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	for (;;) {
		rv = pc.status_change(ctx, (DWORD)timeout_ms, &st, 1);
		if (rv == SCARD_E_TIMEOUT)
			return 1;
		if (rv != SCARD_S_SUCCESS)
			bb_die(BB_UNAVAILABLE, "SCardGetStatusChange: %s", pc.error(rv));
		if (st.dwEventState & SCARD_STATE_UNKNOWN)
			bb_die(BB_UNAVAILABLE, "%s: no such reader", reader);
		if (want ? (st.dwEventState & SCARD_STATE_PRESENT) != 0 :
		    (st.dwEventState & SCARD_STATE_EMPTY) != 0)
			return 0;
		st.dwCurrentState = st.dwEventState;
	}
}

static void
on_alarm(int sig)
{
	static const char m[] = "cardsim: timed out\n";

	(void)sig;
	(void)!write(2, m, sizeof m - 1);
	_exit(BB_TEMPFAIL);
}

static int
client(const char *reader, int wait, int print_atr, long timeout, char **apdus, int n)
{
	static unsigned char cmd[MSG_MAX], resp[MSG_MAX];
	SCARDCONTEXT ctx = context();
	SCARDHANDLE card;
	DWORD proto;
	LONG rv;
	int status = BB_OK;

	if (wait != 0) {
		int r = wait_card(ctx, reader, wait > 0, timeout * 1000);

		pc.release(ctx);
		if (r != 0)
			bb_warn("%s: timed out waiting for the card to %s", reader,
			    wait > 0 ? "appear" : "go");
		return r ? BB_TEMPFAIL : BB_OK;
	}
	signal(SIGALRM, on_alarm);
	alarm((unsigned)timeout);
	rv = pc.connect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &card, &proto);
	if (rv != SCARD_S_SUCCESS)
		bb_die(BB_UNAVAILABLE, "SCardConnect %s: %s", reader, pc.error(rv));
	if (print_atr) {
		unsigned char atr[MAX_ATR_SIZE];
		DWORD alen = sizeof atr, state, p;

		rv = pc.status(card, NULL, NULL, &state, &p, atr, &alen);
		if (rv != SCARD_S_SUCCESS)
			bb_die(BB_UNAVAILABLE, "SCardStatus: %s", pc.error(rv));
		hexdump(stdout, "", atr, alen);
	}
	for (int i = 0; i < n; i++) {
		long len = eidcard_unhex(apdus[i], cmd, sizeof cmd);
		DWORD rlen = sizeof resp;

		if (len < 4)
			bb_die(BB_USAGE, "bad APDU: %s", apdus[i]);
		rv = pc.transmit(card, proto == SCARD_PROTOCOL_T0 ? pc.pci_t0 : pc.pci_t1, cmd,
		    (DWORD)len, NULL, resp, &rlen);
		if (rv != SCARD_S_SUCCESS) {
			bb_warn("SCardTransmit: %s", pc.error(rv));
			status = BB_IOERR;
			break;
		}
		/* vpcd answers nothing, successfully, when the card left during the command. */
		if (rlen == 0) {
			bb_warn("SCardTransmit: no answer (the card is gone)");
			status = BB_IOERR;
			break;
		}
		hexdump(stdout, "", resp, rlen);
	}
	alarm(0);
	pc.disconnect(card, SCARD_LEAVE_CARD);
	pc.release(ctx);
	if (bb_close_stdout() != 0)
		return BB_IOERR;
	return status;
}

/* ---- options ---- */

/* PROFILE_DIR/options: whitespace-separated words, prepended to argv. *keep holds them
 * (keep_len bytes), to be cleared and freed at the end: they may be secrets. */
static size_t keep_len;

static char **
profile_args(const char *profile, int argc, char **argv, int *nargc, char **keep)
{
	char path[4096];
	struct bb_err e = { 0, "" };
	char *buf, **v;
	size_t len;
	int n = 0;

	*keep = NULL;
	*nargc = argc;
	snprintf(path, sizeof path, "%s/options", profile);
	if (access(path, F_OK) != 0)
		return argv;
	if (bb_read_file(path, 4096, &buf, &len, &e) != 0)
		bb_die_err(&e);
	buf = realloc(buf, len + 1);
	if (buf == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	buf[len] = '\0';
	keep_len = len;
	v = calloc((size_t)argc + len / 2 + 2, sizeof *v);
	if (v == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	v[n++] = argv[0];
	for (char *t = strtok(buf, " \t\n"); t != NULL; t = strtok(NULL, " \t\n"))
		v[n++] = t;
	for (int i = 1; i < argc; i++)
		v[n++] = argv[i];
	*nargc = n;
	*keep = buf;
	return v;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct eidcard_conf conf;
	const char *reader = NULL;
	int list = 0, is_client = 0, wait = 0, print_atr = 0, i, status;
	long timeout = 10;
	char **args = argv, *keep = NULL, err[512];

	bb_init(argv[0]);
	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	o.port = 0x8C7B;
	eidcard_conf_init(&conf);
	signal(SIGPIPE, SIG_IGN);
	/* The profile is the last argument of a card run; its options come first. */
	if (argc > 1 && argv[argc - 1][0] != '-') {
		int client_mode = 0;

		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], "--client") == 0 || strcmp(argv[i], "--list-readers") == 0)
				client_mode = 1;
		if (!client_mode)
			args = profile_args(argv[argc - 1], argc, argv, &argc, &keep);
	}
	for (i = 1; i < argc && args[i][0] == '-'; i++) {
		const char *a = args[i];
		const char *v = i + 1 < argc ? args[i + 1] : NULL;
		int arity;

#define ARG() do { if (v == NULL) usage(); i++; } while (0)
		if (strcmp(a, "--list-readers") == 0)
			list = 1;
		else if (strcmp(a, "--client") == 0)
			is_client = 1;
		else if (strcmp(a, "--reader") == 0) {
			ARG();
			reader = v;
		} else if (strcmp(a, "--timeout") == 0) {
			ARG();
			timeout = number(v, 1, 3600);
		} else if (strcmp(a, "--print-atr") == 0)
			print_atr = 1;
		else if (strcmp(a, "--wait-card") == 0)
			wait = 1;
		else if (strcmp(a, "--wait-removal") == 0)
			wait = -1;
		else if (strcmp(a, "--host") == 0) {
			ARG();
			o.host = v;
		} else if (strcmp(a, "--port") == 0) {
			ARG();
			o.port = (int)number(v, 1, 65535);
		} else if (strcmp(a, "--parent") == 0) {
			ARG();
			o.parent = number(v, 1, 1L << 30);
		} else if (strcmp(a, "-v") == 0)
			o.verbose = 1;
		else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if ((arity = eidcard_conf_option_arity(a)) >= 0) {
			if (arity)
				ARG();
			if (eidcard_conf_option(&conf, a, arity ? v : NULL, err, sizeof err) != 0)
				bb_die(BB_USAGE, "%s", err);
		} else
			usage();
#undef ARG
	}
	if (list) {
		status = list_readers();
	} else if (is_client) {
		if (reader == NULL || (wait != 0 && i != argc) ||
		    (wait == 0 && i == argc && !print_atr))
			usage();
		status = client(reader, wait, print_atr, timeout, args + i, argc - i);
	} else {
		struct eidcard *k;

		if (i != argc - 1)
			usage();
		if (access(args[i], R_OK | X_OK) != 0)
			bb_die(BB_NOINPUT, "%s: %s", args[i], strerror(errno));
		if (strlen(args[i]) >= sizeof conf.profile)
			bb_die(BB_USAGE, "%s: path too long", args[i]);
		strcpy(conf.profile, args[i]);
		if ((k = eidcard_new(&conf, err, sizeof err)) == NULL)
			bb_die(BB_NOINPUT, "%s", err);
		/* The secrets are in the engine now; no copy stays here. */
		explicit_bzero(&conf, sizeof conf);
		status = run_card(&o, k);
		eidcard_free(k);
	}
	if (args != argv)
		free(args);
	if (keep != NULL)
		explicit_bzero(keep, keep_len);
	free(keep);
	return status;
}
