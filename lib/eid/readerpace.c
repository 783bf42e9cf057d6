/* PACE in the reader (PC/SC part 10 amendment 1); see readerpace.h. */
#include "eid/readerpace.h"
#include "eid/pcsc.h"
#include "eid/pace.h"
#include "diag.h"
#include "exit.h"

#include <PCSC/reader.h>
#include <PCSC/winscard.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define PACE_ESTABLISH 0x02
#define OUT_MAX 4096

unsigned long
bb_reader_pace_code(struct bb_pcsc *p)
{
	unsigned char buf[256];
	DWORD len = 0, i;

	if (!p->connected || SCardControl((SCARDHANDLE)p->card, CM_IOCTL_GET_FEATURE_REQUEST,
	    NULL, 0, buf, sizeof buf, &len) != SCARD_S_SUCCESS || len > sizeof buf)
		return 0;
	/* tag, length 4, the control code big endian */
	for (i = 0; i + 6 <= len; i += 2u + buf[i + 1])
		if (buf[i] == FEATURE_EXECUTE_PACE && buf[i + 1] == 4)
			return (unsigned long)buf[i + 2] << 24 | (unsigned long)buf[i + 3] << 16 |
			    (unsigned long)buf[i + 4] << 8 | buf[i + 5];
	return 0;
}

int
bb_reader_pace_input(int pwd_ref, const unsigned char *chat, size_t chat_len,
    const unsigned char *secret, size_t secret_len, const unsigned char *desc,
    size_t desc_len, unsigned char *out, size_t room, size_t *len, struct bb_err *e)
{
	size_t in = 1 + 1 + chat_len + 1 + secret_len + 2 + desc_len, n = 0;

	if (pwd_ref < BB_PACE_MRZ || pwd_ref > BB_PACE_PUK || chat_len > 255 ||
	    secret_len > 255 || desc_len > 0xFFFF || in > 0xFFFF || 3 + in > room)
		return bb_fail(e, BB_USAGE, "PACE in the reader: input too long");
	out[n++] = PACE_ESTABLISH;
	out[n++] = (unsigned char)in;
	out[n++] = (unsigned char)(in >> 8);
	out[n++] = (unsigned char)pwd_ref;
	out[n++] = (unsigned char)chat_len;
	if (chat_len > 0)
		memcpy(out + n, chat, chat_len);
	n += chat_len;
	out[n++] = (unsigned char)secret_len;
	if (secret_len > 0)
		memcpy(out + n, secret, secret_len);
	n += secret_len;
	out[n++] = (unsigned char)desc_len;
	out[n++] = (unsigned char)(desc_len >> 8);
	if (desc_len > 0)
		memcpy(out + n, desc, desc_len);
	n += desc_len;
	*len = n;
	return 0;
}

static size_t
le16(const unsigned char *b)
{
	return (size_t)b[0] | (size_t)b[1] << 8;
}

int
bb_reader_pace_output(const unsigned char *b, size_t n, struct bb_reader_pace *o,
    struct bb_err *e)
{
	const unsigned char *p, *end;
	size_t len;

	memset(o, 0, sizeof *o);
	if (n < 6)
		goto bad;
	o->result = (unsigned long)b[0] | (unsigned long)b[1] << 8 | (unsigned long)b[2] << 16 |
	    (unsigned long)b[3] << 24;
	if (le16(b + 4) != n - 6)
		goto bad;
	p = b + 6;
	end = b + n;
	if (o->result != 0 && p == end)
		return 0;	/* a failure may come without data */
	if (end - p < 4)
		goto bad;
	o->mse_sw = (unsigned)p[0] << 8 | p[1];
	len = le16(p + 2);
	p += 4;
	if ((size_t)(end - p) < len)
		goto bad;
	if (len > 0) {
		if ((o->card_access = malloc(len)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		memcpy(o->card_access, p, len);
		o->card_access_len = len;
	}
	p += len;
	if (p == end)
		return 0;
	/* For TA: CARcurr, CARprev, IDicc. */
	len = *p++;
	if ((size_t)(end - p) < len || bb_pace_car(o->car, sizeof o->car, p, len) != 0)
		goto bad;
	p += len;
	if (p == end)
		goto bad;
	len = *p++;
	if ((size_t)(end - p) < len || bb_pace_car(o->car_prev, sizeof o->car_prev, p, len) != 0)
		goto bad;
	p += len;
	if (end - p < 2)
		goto bad;
	len = le16(p);
	p += 2;
	if ((size_t)(end - p) != len || len == 0)
		goto bad;
	if ((o->id_icc = malloc(len)) == NULL) {
		bb_reader_pace_free(o);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	memcpy(o->id_icc, p, len);
	o->id_icc_len = len;
	return 0;
bad:
	bb_reader_pace_free(o);
	return bb_fail(e, BB_PROTOCOL, "PACE in the reader: the reader's answer is malformed");
}

int
bb_reader_pace_result(const struct bb_reader_pace *o, int *retries, struct bb_err *e)
{
	unsigned long r = o->result;
	unsigned sw = (unsigned)(r & 0xFFFF), step = (unsigned)(r >> 16 & 0xFF);

	*retries = -1;
	if (r == 0) {
		/* MSE:Set AT may still have warned: 63C1 suspended went through only with
		 * the CAN before. */
		if ((o->mse_sw & 0xFFF0) == 0x63C0)
			*retries = (int)(o->mse_sw & 0x0F);
		return 0;
	}
	if (r == 0xF0100001UL)
		return bb_fail(e, BB_CANCELLED, "the card was removed");
	if (r == 0xF0100002UL)
		return bb_fail(e, BB_UNAVAILABLE, "no card in the reader");
	if (r == 0xF0200001UL)
		return bb_fail(e, BB_CANCELLED, "cancelled on the reader");
	if (r == 0xF0200002UL)
		return bb_fail(e, BB_CANCELLED, "no PIN entered on the reader in time");
	if ((r & 0xFFF00000UL) == 0xF0000000UL && step <= 6) {
		/* F0 0s SW: step s (0 select, 1 read, 2 MSE:Set AT, 3-6 General
		 * Authenticate) failed with the card's status word. */
		if (step == 2 && sw == 0x63C1)
			return *retries = 1, bb_fail(e, BB_DOC_BLOCKED,
			    "the PIN is suspended: confirm with the CAN first (bb-eid pin-resume)");
		if ((step == 2 && sw == 0x63C0) || sw == 0x6983)
			return *retries = 0, bb_fail(e, BB_DOC_BLOCKED,
			    "the PIN is blocked: unblock it with the PUK (bb-eid pin-unblock)");
		if (step == 2 && sw == 0x6283)
			return bb_fail(e, BB_DOC_BLOCKED,
			    "the eID function of this card is switched off (6283)");
		if (step == 6 && (sw & 0xFFF0) == 0x63C0) {
			*retries = (int)(sw & 0x0F);
			return bb_fail(e, BB_WRONG_SECRET, "wrong PIN, %d %s left", *retries,
			    *retries == 1 ? "retry" : "retries");
		}
		if (step == 6 && sw == 0x6300)
			return bb_fail(e, BB_WRONG_SECRET, "wrong secret");
		return bb_fail(e, BB_PROTOCOL, "PACE in the reader: step %u: the card answered %04X",
		    step, sw);
	}
	if (r == 0xE0000006UL)
		return bb_fail(e, BB_PROTOCOL, "PACE in the reader: the card's token is wrong");
	return bb_fail(e, BB_PROTOCOL, "PACE in the reader failed (%08lX)", r);
}

int
bb_reader_pace(struct bb_pcsc *p, int pwd_ref, const unsigned char *chat, size_t chat_len,
    const unsigned char *secret, size_t secret_len, const unsigned char *desc,
    size_t desc_len, struct bb_reader_pace *o, int *retries, struct bb_err *e)
{
	unsigned long code = bb_reader_pace_code(p);
	unsigned char *in, out[OUT_MAX];
	size_t inlen, room = 3 + 5 + chat_len + secret_len + desc_len;
	DWORD got = 0;
	LONG rv;
	int rc;

	memset(o, 0, sizeof *o);
	*retries = -1;
	if (code == 0)
		return bb_fail(e, BB_UNAVAILABLE, "%s: the reader does not run PACE", p->reader);
	if ((in = malloc(room)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if ((rc = bb_reader_pace_input(pwd_ref, chat, chat_len, secret, secret_len, desc,
	    desc_len, in, room, &inlen, e)) != 0) {
		free(in);
		return rc;
	}
	rv = SCardControl((SCARDHANDLE)p->card, (DWORD)code, in, (DWORD)inlen, out, sizeof out,
	    &got);
	OPENSSL_cleanse(in, inlen);
	free(in);
	if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD)
		return bb_fail(e, BB_CANCELLED, "the card was removed");
	if (rv != SCARD_S_SUCCESS || got > sizeof out)
		return bb_fail(e, BB_PROTOCOL, "%s: PACE in the reader failed: %s", p->reader,
		    pcsc_stringify_error(rv));
	if ((rc = bb_reader_pace_output(out, got, o, e)) != 0)
		return rc;
	if ((rc = bb_reader_pace_result(o, retries, e)) != 0) {
		bb_reader_pace_free(o);
		return rc;
	}
	if (o->card_access == NULL || o->id_icc == NULL) {
		bb_reader_pace_free(o);
		return bb_fail(e, BB_PROTOCOL, "PACE in the reader: no EF.CardAccess or ID_PICC");
	}
	return 0;
}

void
bb_reader_pace_free(struct bb_reader_pace *o)
{
	free(o->card_access);
	free(o->id_icc);
	memset(o, 0, sizeof *o);
}
