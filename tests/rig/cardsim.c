/* cardsim: a German ID card for the tests, behind vsmartcard's vpcd reader driver, and a
 * small PC/SC client to talk to it (tests/rig/pcsc.sh drives both).
 *
 *   cardsim [OPTIONS] PROFILE_DIR          the card: connects to vpcd, serves the profile
 *     --host H (127.0.0.1)  --port N (35963)  --parent PID (exit when it is gone)
 *     --atr HEX  --pin-retries N (3)  --blocked  --truncate-response  --garbage  --mute
 *     -v (log every command and answer to stderr)
 *     PROFILE_DIR/options, if present, holds more of these options (before the command
 *     line's, so the command line wins).
 *   cardsim --list-readers                 reader names, one a line (libpcsclite)
 *   cardsim --client --reader NAME [--timeout S] [--print-atr] APDU_HEX...
 *                                          each answer in hex on its own line (first the
 *                                          card's ATR with --print-atr); a transmit error is
 *                                          exit 74, no card 69, --timeout (10 s) 75
 *   cardsim --client --reader NAME --wait-card|--wait-removal [--timeout S]
 *
 * The card: MF with EF.CardAccess 011C, EF.CardSecurity 011D, EF.DIR 2F00 (and 011B if
 * the profile has it); the eID application (AID E8 07 04 00 7F 00 07 03 02) in
 * PROFILE_DIR/app with DG n as FID 01nn (SFI n). Files are named by FID in upper-case hex.
 * No PACE: only EF.CardAccess and EF.DIR are readable (others 6982). MSE:Set AT for the
 * PIN answers the retry counter (63Cx, 6983 blocked), for other passwords 9000; General
 * Authenticate 6985. The card keeps its state (current DF and EF) across connections;
 * power off, on and reset go back to the MF. READ BINARY: 6282 when the file ends before
 * Ne bytes (not for Le 00 / 0000, which ask for all there is), 6B00 past the end.
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
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX 65536
#define MSG_MAX 65538

static const unsigned char eid_aid[] = { 0xE8, 0x07, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x03, 0x02 };
/* An ID card's ATR (T=1). */
static const char default_atr[] = "3B8A80018031F873F741E082900075";

struct opts {
	const char *host, *profile;
	int port, pin_retries, blocked, truncate, garbage, mute, verbose;
	long parent;
	unsigned char atr[33];
	size_t atr_len;
};

/* The card's state: current DF (0 MF, 1 eID application) and current EF. */
struct card {
	const struct opts *o;
	int df;
	int ef_fid;		/* -1: none */
};

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: cardsim [--host H] [--port N] [--parent PID] [--atr HEX] [--pin-retries N]\n"
	    "               [--blocked] [--truncate-response] [--garbage] [--mute] [-v] PROFILE_DIR\n"
	    "       cardsim --list-readers\n"
	    "       cardsim --client --reader NAME [--timeout S] [--print-atr] [APDU_HEX...]\n"
	    "       cardsim --client --reader NAME --wait-card|--wait-removal [--timeout S]\n",
	    stderr);
	exit(BB_USAGE);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex (blanks allowed) to bytes; -1 on bad input or more than max bytes. */
static long
unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (*s != '\0') {
		int hi, lo;

		if (isspace((unsigned char)*s) || *s == ':') {
			s++;
			continue;
		}
		hi = hexval((unsigned char)s[0]);
		lo = s[1] != '\0' ? hexval((unsigned char)s[1]) : -1;
		if (hi < 0 || lo < 0 || n >= max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return (long)n;
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

/* ---- the card ---- */

/* Reads the file FID of the current DF into buf; returns its size or -1 if absent. */
static long
load_file(const struct card *c, int df, int fid, unsigned char *buf)
{
	char path[4096];
	struct bb_err e = { 0, "" };
	char *data;
	size_t len;

	snprintf(path, sizeof path, "%s/%s%04X", c->o->profile, df ? "app/" : "", fid);
	if (access(path, F_OK) != 0)
		return -1;
	if (bb_read_file(path, FILE_MAX, &data, &len, &e) != 0) {
		bb_warn("%s", e.msg);
		return -1;
	}
	memcpy(buf, data, len);
	free(data);
	return (long)len;
}

static int
sfi_to_fid(int df, int sfi)
{
	if (df)
		return sfi >= 1 && sfi <= 22 ? 0x0100 | sfi : -1;
	switch (sfi) {
	case 0x1B: return 0x011B;
	case 0x1C: return 0x011C;
	case 0x1D: return 0x011D;
	case 0x1E: return 0x2F00;
	default: return -1;
	}
}

/* Without PACE only EF.CardAccess and EF.DIR may be read. */
static int
readable(int df, int fid)
{
	return df == 0 && (fid == 0x011C || fid == 0x2F00);
}

static size_t
sw(unsigned char *r, size_t n, unsigned sw12)
{
	r[n] = (unsigned char)(sw12 >> 8);
	r[n + 1] = (unsigned char)sw12;
	return n + 2;
}

/* The parsed APDU: data (nc bytes) and ne (0: none expected). */
struct apdu {
	unsigned char cla, ins, p1, p2;
	const unsigned char *data;
	size_t nc, ne;
};

static int
parse_apdu(const unsigned char *b, size_t n, struct apdu *a)
{
	memset(a, 0, sizeof *a);
	if (n < 4)
		return -1;
	a->cla = b[0], a->ins = b[1], a->p1 = b[2], a->p2 = b[3];
	if (n == 4)
		return 0;
	if (n == 5) {
		a->ne = b[4] ? b[4] : 256;
		return 0;
	}
	if (b[4] != 0) {		/* short Lc */
		a->nc = b[4];
		a->data = b + 5;
		if (n == 5 + a->nc)
			return 0;
		if (n == 6 + a->nc) {
			a->ne = b[n - 1] ? b[n - 1] : 256;
			return 0;
		}
		return -1;
	}
	if (n < 7)
		return -1;
	if (n == 7) {			/* extended Le only */
		a->ne = (size_t)b[5] << 8 | b[6];
		if (a->ne == 0)
			a->ne = 65536;
		return 0;
	}
	a->nc = (size_t)b[5] << 8 | b[6];
	a->data = b + 7;
	if (a->nc == 0)
		return -1;
	if (n == 7 + a->nc)
		return 0;
	if (n == 9 + a->nc) {
		a->ne = (size_t)b[n - 2] << 8 | b[n - 1];
		if (a->ne == 0)
			a->ne = 65536;
		return 0;
	}
	return -1;
}

static size_t
do_select(struct card *c, const struct apdu *a, unsigned char *r)
{
	unsigned char buf[FILE_MAX];
	int df = c->df, fid;
	long size;

	if (a->p2 != 0x0C && a->p2 != 0x04 && a->p2 != 0x00)
		return sw(r, 0, 0x6A86);
	if (a->p1 == 0x04) {
		if (a->nc == sizeof eid_aid && memcmp(a->data, eid_aid, sizeof eid_aid) == 0 &&
		    access(c->o->profile, F_OK) == 0) {
			char path[4096];

			snprintf(path, sizeof path, "%s/app", c->o->profile);
			if (access(path, F_OK) != 0)
				return sw(r, 0, 0x6A82);
			c->df = 1;
			c->ef_fid = -1;
			return sw(r, 0, 0x9000);
		}
		return sw(r, 0, 0x6A82);
	}
	if (a->p1 != 0x00 && a->p1 != 0x02)
		return sw(r, 0, 0x6A86);
	if (a->p1 == 0x00 && (a->nc == 0 || (a->nc == 2 && a->data[0] == 0x3F &&
	    a->data[1] == 0x00))) {
		c->df = 0;
		c->ef_fid = -1;
		return sw(r, 0, 0x9000);
	}
	if (a->nc != 2)
		return sw(r, 0, 0x6700);
	fid = a->data[0] << 8 | a->data[1];
	size = load_file(c, df, fid, buf);
	if (size < 0)
		return sw(r, 0, 0x6A82);
	c->ef_fid = fid;
	if (a->p2 == 0x0C)
		return sw(r, 0, 0x9000);
	/* FCP: 62 { 80 size, 82 transparent EF, 83 FID } */
	{
		const unsigned char fcp[] = { 0x62, 0x0C, 0x80, 0x02, (unsigned char)(size >> 8),
		    (unsigned char)size, 0x82, 0x01, 0x01, 0x83, 0x02, a->data[0], a->data[1] };
		size_t n = sizeof fcp;

		if (a->ne != 0 && a->ne < n)
			n = a->ne;
		memcpy(r, fcp, n);
		return sw(r, n, 0x9000);
	}
}

static size_t
do_read_binary(struct card *c, const struct apdu *a, unsigned char *r)
{
	unsigned char buf[FILE_MAX];
	size_t offset, n;
	long size;
	int fid;

	if (a->p1 & 0x80) {
		fid = sfi_to_fid(c->df, a->p1 & 0x1F);
		if ((a->p1 & 0x60) != 0 || fid < 0)
			return sw(r, 0, fid < 0 ? 0x6A82 : 0x6A86);
		offset = a->p2;
	} else {
		fid = c->ef_fid;
		if (fid < 0)
			return sw(r, 0, 0x6986);
		offset = (size_t)a->p1 << 8 | a->p2;
	}
	if (a->nc != 0 || a->ne == 0)
		return sw(r, 0, 0x6700);
	size = load_file(c, c->df, fid, buf);
	if (size < 0)
		return sw(r, 0, 0x6A82);
	c->ef_fid = fid;
	if (!readable(c->df, fid))
		return sw(r, 0, 0x6982);
	if (offset > (size_t)size || (offset == (size_t)size && size > 0))
		return sw(r, 0, 0x6B00);
	n = (size_t)size - offset;
	if (n > a->ne)
		n = a->ne;
	memcpy(r, buf + offset, n);
	/* Le 00 (or 0000) asks for everything there is; a shorter answer is no warning then. */
	if (n < a->ne && a->ne != 256 && a->ne != 65536)
		return sw(r, n, 0x6282);
	return sw(r, n, 0x9000);
}

static size_t
do_mse(struct card *c, const struct apdu *a, unsigned char *r)
{
	size_t i = 0;
	int ref = -1;

	if (a->p1 != 0xC1 || a->p2 != 0xA4)
		return sw(r, 0, 0x6982);	/* TA and CA need PACE first */
	while (i + 2 <= a->nc) {		/* tags 80, 83 are one byte; 7F4C two */
		size_t tl = a->data[i] == 0x7F ? 2 : 1, len;

		if (i + tl + 1 > a->nc)
			return sw(r, 0, 0x6A80);
		len = a->data[i + tl];
		if (len & 0x80 || i + tl + 1 + len > a->nc)
			return sw(r, 0, 0x6A80);
		if (a->data[i] == 0x83 && len == 1)
			ref = a->data[i + tl + 1];
		i += tl + 1 + len;
	}
	if (i != a->nc || ref < 1 || ref > 4)
		return sw(r, 0, 0x6A80);
	(void)c;
	if (ref != 3)
		return sw(r, 0, 0x9000);
	if (c->o->blocked)
		return sw(r, 0, 0x6983);
	return sw(r, 0, 0x63C0 | (unsigned)c->o->pin_retries);
}

/* Answers one command APDU; returns the answer's length. */
static size_t
card_apdu(struct card *c, const unsigned char *b, size_t n, unsigned char *r)
{
	struct apdu a;

	if (parse_apdu(b, n, &a) != 0)
		return sw(r, 0, 0x6700);
	if ((a.cla & 0x0C) != 0)
		return sw(r, 0, 0x6882);	/* secure messaging: no PACE here */
	if ((a.cla & ~0x10) != 0x00)		/* 10: command chaining */
		return sw(r, 0, 0x6E00);
	switch (a.ins) {
	case 0xA4: return do_select(c, &a, r);
	case 0xB0: return do_read_binary(c, &a, r);
	case 0x22: return do_mse(c, &a, r);
	case 0x86: return sw(r, 0, 0x6985);	/* General Authenticate: no PACE yet */
	default: return sw(r, 0, 0x6D00);
	}
}

static void
card_reset(struct card *c)
{
	c->df = 0;
	c->ef_fid = -1;
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

static int
send_msg(int fd, const unsigned char *b, size_t n)
{
	unsigned char hdr[2] = { (unsigned char)(n >> 8), (unsigned char)n };

	if (bb_write_all(fd, hdr, 2) != 0 || bb_write_all(fd, b, n) != 0)
		return -1;
	return 0;
}

static int
connect_vpcd(const struct opts *o)
{
	struct addrinfo hints, *res, *ai;
	char port[16];
	int fd = -1, tries;

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
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
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
run_card(const struct opts *o)
{
	static unsigned char in[MSG_MAX], out[MSG_MAX];
	struct card c = { o, 0, -1 };
	int fd = connect_vpcd(o);

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (;;) {
		unsigned char hdr[2];
		size_t n, m;

		if (read_full(fd, hdr, 2, o->parent) != 0)
			break;
		n = (size_t)hdr[0] << 8 | hdr[1];
		if (read_full(fd, in, n, o->parent) != 0)
			break;
		if (n == 1) {
			if (o->verbose)
				fprintf(stderr, "cardsim: control %u\n", in[0]);
			if (in[0] == 0 || in[0] == 1 || in[0] == 2)
				card_reset(&c);
			else if (in[0] == 4 && send_msg(fd, o->atr, o->atr_len) != 0)
				break;
			continue;
		}
		if (o->verbose)
			hexdump(stderr, "cardsim: > ", in, n);
		if (o->mute)
			continue;
		if (o->garbage) {
			m = 1 + (size_t)rand() % 32;
			for (size_t i = 0; i < m; i++)
				out[i] = (unsigned char)rand();
		} else {
			m = card_apdu(&c, in, n, out);
		}
		if (o->truncate && m > 1)
			m = 1;
		if (o->verbose)
			hexdump(stderr, "cardsim: < ", out, m);
		if (send_msg(fd, out, m) != 0)
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
		long len = unhex(apdus[i], cmd, sizeof cmd);
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

/* PROFILE_DIR/options: whitespace-separated words, prepended to argv. */
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
	const char *reader = NULL, *atr = default_atr;
	int list = 0, is_client = 0, wait = 0, print_atr = 0, i, status;
	long timeout = 10;
	char **args = argv, *keep = NULL;

	bb_init(argv[0]);
	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	o.port = 0x8C7B;
	o.pin_retries = 3;
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
		} else if (strcmp(a, "--atr") == 0) {
			ARG();
			atr = v;
		} else if (strcmp(a, "--pin-retries") == 0) {
			ARG();
			o.pin_retries = (int)number(v, 0, 15);
		} else if (strcmp(a, "--blocked") == 0)
			o.blocked = 1;
		else if (strcmp(a, "--truncate-response") == 0)
			o.truncate = 1;
		else if (strcmp(a, "--garbage") == 0)
			o.garbage = 1;
		else if (strcmp(a, "--mute") == 0)
			o.mute = 1;
		else if (strcmp(a, "-v") == 0)
			o.verbose = 1;
		else if (strcmp(a, "--") == 0) {
			i++;
			break;
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
		long n;

		if (i != argc - 1)
			usage();
		o.profile = args[i];
		n = unhex(atr, o.atr, sizeof o.atr);
		if (n < 2)
			bb_die(BB_USAGE, "bad ATR: %s", atr);
		o.atr_len = (size_t)n;
		if (access(o.profile, R_OK | X_OK) != 0)
			bb_die(BB_NOINPUT, "%s: %s", o.profile, strerror(errno));
		status = run_card(&o);
	}
	if (args != argv)
		free(args);
	free(keep);
	return status;
}
