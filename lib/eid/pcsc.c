/* PC/SC on pcsclite; see pcsc.h. */
#include "eid/pcsc.h"
#include "diag.h"
#include "exit.h"

#include <PCSC/reader.h>
#include <PCSC/winscard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *
why(LONG rv)
{
	return pcsc_stringify_error(rv);
}

int
bb_pcsc_open(struct bb_pcsc *p, struct bb_err *e)
{
	SCARDCONTEXT ctx;
	LONG rv;

	memset(p, 0, sizeof *p);
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS)
		return bb_fail(e, BB_UNAVAILABLE, "PC/SC service not available: %s", why(rv));
	p->ctx = (long)ctx;
	return 0;
}

void
bb_pcsc_close(struct bb_pcsc *p)
{
	if (p->connected)
		SCardDisconnect((SCARDHANDLE)p->card, SCARD_RESET_CARD);
	if (p->ctx)
		SCardReleaseContext((SCARDCONTEXT)p->ctx);
	memset(p, 0, sizeof *p);
}

/* The reader names as one malloc'd multi-string; NULL and *count 0 when there are none. */
static char *
reader_list(struct bb_pcsc *p, size_t *count, struct bb_err *e, int *rc)
{
	DWORD len = 0;
	char *buf, *r;
	LONG rv;

	*count = 0;
	*rc = 0;
	rv = SCardListReaders((SCARDCONTEXT)p->ctx, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return NULL;
	if (rv != SCARD_S_SUCCESS) {
		*rc = bb_fail(e, BB_UNAVAILABLE, "PC/SC: listing readers: %s", why(rv));
		return NULL;
	}
	if ((buf = calloc(1, len + 1)) == NULL) {
		*rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		return NULL;
	}
	rv = SCardListReaders((SCARDCONTEXT)p->ctx, NULL, buf, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		free(buf);
		return NULL;
	}
	if (rv != SCARD_S_SUCCESS) {
		free(buf);
		*rc = bb_fail(e, BB_UNAVAILABLE, "PC/SC: listing readers: %s", why(rv));
		return NULL;
	}
	for (r = buf; *r; r += strlen(r) + 1)
		(*count)++;
	return buf;
}

/* PC/SC part 10: the reader's features as TLV (tag, length 4, control code). */
static void
features(SCARDHANDLE h, struct bb_reader *r)
{
	unsigned char buf[256];
	DWORD len = 0, i;

	if (SCardControl(h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof buf, &len) !=
	    SCARD_S_SUCCESS)
		return;
	for (i = 0; i + 2 <= len; i += 2u + buf[i + 1]) {
		if (buf[i] == FEATURE_VERIFY_PIN_DIRECT)
			r->pinpad = 1;
		if (buf[i] == FEATURE_EXECUTE_PACE)
			r->pace = 1;
	}
}

int
bb_pcsc_match(const char *name, const char *pattern)
{
	return pattern == NULL || strstr(name, pattern) != NULL;
}

int
bb_pcsc_readers(struct bb_pcsc *p, struct bb_reader **out, size_t *n, struct bb_err *e)
{
	struct bb_reader *list;
	size_t count, i = 0;
	char *names, *r;
	int rc;

	*out = NULL;
	*n = 0;
	names = reader_list(p, &count, e, &rc);
	if (rc != 0 || count == 0)
		return rc;
	if ((list = calloc(count, sizeof *list)) == NULL) {
		free(names);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	for (r = names; *r; r += strlen(r) + 1, i++) {
		SCARD_READERSTATE st;
		SCARDHANDLE h;
		DWORD proto;
		snprintf(list[i].name, sizeof list[i].name, "%s", r);
		memset(&st, 0, sizeof st);
		st.szReader = r;
		st.dwCurrentState = SCARD_STATE_UNAWARE;
		if (SCardGetStatusChange((SCARDCONTEXT)p->ctx, 0, &st, 1) == SCARD_S_SUCCESS &&
		    (st.dwEventState & SCARD_STATE_PRESENT)) {
			list[i].card = 1;
			list[i].atrlen = st.cbAtr < sizeof list[i].atr ? st.cbAtr :
			    sizeof list[i].atr;
			memcpy(list[i].atr, st.rgbAtr, list[i].atrlen);
			if (SCardConnect((SCARDCONTEXT)p->ctx, r, SCARD_SHARE_SHARED,
			    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto) == SCARD_S_SUCCESS) {
				features(h, &list[i]);
				SCardDisconnect(h, SCARD_LEAVE_CARD);
			}
		}
	}
	free(names);
	*out = list;
	*n = count;
	return 0;
}

int
bb_pcsc_wait(struct bb_pcsc *p, const char *pattern, long timeout_ms, char name[256],
    struct bb_err *e)
{
	SCARD_READERSTATE *st;
	size_t count, i, m = 0;
	char *names, *r;
	LONG rv;
	int rc;

	names = reader_list(p, &count, e, &rc);
	if (rc != 0)
		return rc;
	if ((st = calloc(count + 1, sizeof *st)) == NULL) {
		free(names);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	for (r = names; names != NULL && *r; r += strlen(r) + 1)
		if (bb_pcsc_match(r, pattern)) {
			st[m].szReader = r;
			st[m].dwCurrentState = SCARD_STATE_UNAWARE;
			m++;
		}
	if (m == 0) {
		free(st);
		free(names);
		return bb_fail(e, BB_UNAVAILABLE, "no card reader%s%s", pattern ? " matching " : "",
		    pattern ? pattern : "");
	}
	for (;;) {
		rv = SCardGetStatusChange((SCARDCONTEXT)p->ctx,
		    timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms, st, (DWORD)m);
		if (rv == SCARD_E_TIMEOUT) {
			rc = bb_fail(e, BB_CANCELLED, "no card within the time");
			break;
		}
		if (rv != SCARD_S_SUCCESS) {
			rc = bb_fail(e, BB_UNAVAILABLE, "PC/SC: waiting for a card: %s", why(rv));
			break;
		}
		for (i = 0; i < m; i++)
			if (st[i].dwEventState & SCARD_STATE_PRESENT)
				break;
		if (i < m) {
			snprintf(name, 256, "%s", st[i].szReader);
			rc = 0;
			break;
		}
		for (i = 0; i < m; i++)
			st[i].dwCurrentState = st[i].dwEventState & ~SCARD_STATE_CHANGED;
	}
	free(st);
	free(names);
	return rc;
}

int
bb_pcsc_connect(struct bb_pcsc *p, const char *pattern, struct bb_err *e)
{
	const struct timespec pause = { 0, 50 * 1000 * 1000 };
	char name[256];
	SCARDHANDLE h;
	DWORD proto;
	LONG rv;
	int rc, tries;

	if ((rc = bb_pcsc_wait(p, pattern, 0, name, e)) != 0)
		return rc == BB_CANCELLED ? bb_fail(e, BB_UNAVAILABLE, "no card in the reader") :
		    rc;
	/* Exclusive: no other program's APDU may come between ours in a secure channel.
	 * Another program may hold the card a moment (a kiosk script's `info`, or pcscd still
	 * cleaning up after a process that ended): wait for it, up to 5 s. */
	for (tries = 0; ; tries++) {
		rv = SCardConnect((SCARDCONTEXT)p->ctx, name, SCARD_SHARE_EXCLUSIVE,
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto);
		if (rv != SCARD_E_SHARING_VIOLATION || tries == 100)
			break;
		nanosleep(&pause, NULL);
	}
	if (rv != SCARD_S_SUCCESS)
		return bb_fail(e, rv == SCARD_W_REMOVED_CARD ? BB_CANCELLED : BB_UNAVAILABLE,
		    "%s: cannot connect to the card: %s", name, why(rv));
	p->card = (long)h;
	p->proto = proto;
	p->connected = 1;
	snprintf(p->reader, sizeof p->reader, "%s", name);
	return 0;
}

/* Whether the card has left the reader: a failed exchange is then a removal (exit 1, the
 * person's doing), not a protocol error. The reader may need a moment to notice. */
static int
gone(struct bb_pcsc *p)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	SCARD_READERSTATE st;
	int i;

	for (i = 0; i < 25; i++) {
		memset(&st, 0, sizeof st);
		st.szReader = p->reader;
		st.dwCurrentState = SCARD_STATE_UNAWARE;
		if (SCardGetStatusChange((SCARDCONTEXT)p->ctx, 0, &st, 1) != SCARD_S_SUCCESS)
			return 0;
		if (st.dwEventState & SCARD_STATE_EMPTY)
			return 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

int
bb_pcsc_transmit(struct bb_pcsc *p, const unsigned char *apdu, size_t len,
    unsigned char *resp, size_t *rlen, struct bb_err *e)
{
	SCARD_IO_REQUEST pci = { p->proto, sizeof(SCARD_IO_REQUEST) };
	DWORD n = (DWORD)*rlen;
	LONG rv;

	p->apdus++;
	p->out += len;
	rv = SCardTransmit((SCARDHANDLE)p->card, &pci, apdu, (DWORD)len, NULL, resp, &n);
	if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD || rv == SCARD_W_RESET_CARD ||
	    ((rv != SCARD_S_SUCCESS || n < 2) && gone(p)))
		return bb_fail(e, BB_CANCELLED, "the card was removed");
	if (rv != SCARD_S_SUCCESS)
		return bb_fail(e, BB_PROTOCOL, "%s: transmission failed: %s", p->reader, why(rv));
	if (n < 2)
		return bb_fail(e, BB_PROTOCOL, "%s: the card answered without a status word",
		    p->reader);
	p->in += n;
	*rlen = n;
	return 0;
}
