/* Secure messaging on the terminal side; see sm.h. The cryptography is OpenPACE's
 * (EAC_encrypt with the IV from the counter, EAC_authenticate with the counter in front),
 * the framing is ours. Every answer is copied into a buffer of exactly its size before it
 * is parsed. */
#include "eid/sm.h"
#include "eid/tlv.h"
#include "diag.h"
#include "exit.h"

#include <eac/eac.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#define RESP_ROOM (65536 + 64)	/* a protected extended answer: data, DOs, SW */
#define DATA_MAX 65280		/* plain command data we protect */

void
bb_sm_init(struct bb_sm *s, void *ctx, bb_apdu_fn fn, void *arg, int ext)
{
	memset(s, 0, sizeof *s);
	s->ctx = ctx;
	s->fn = fn;
	s->arg = arg;
	s->ext = ext;
}

static int
broken(struct bb_sm *s, struct bb_err *e, const char *why)
{
	s->broken = 1;
	ERR_clear_error();
	return bb_fail(e, BB_PROTOCOL, "secure messaging: %s: session ended", why);
}

/* The MAC of the input, padded when pad is set (OpenPACE puts the counter in front). */
static BUF_MEM *
mac_of(struct bb_sm *s, const unsigned char *in, size_t len, int pad)
{
	BUF_MEM *raw = bb_bufmem(in, len), *padded, *mac = NULL;

	if (raw == NULL)
		return NULL;
	padded = pad ? EAC_add_iso_pad(s->ctx, raw) : raw;
	if (padded != NULL)
		mac = EAC_authenticate(s->ctx, padded);
	if (padded != raw)
		BUF_MEM_free(padded);
	BUF_MEM_free(raw);
	return mac;
}

/* Builds the protected command in *apdu (malloc'd). */
static int
protect(struct bb_sm *s, const unsigned char hdr[4], const unsigned char *data, size_t dlen,
    size_t ne, unsigned char **apdu, size_t *alen, struct bb_err *e)
{
	BUF_MEM *plain = NULL, *padded = NULL, *enc = NULL, *mac = NULL;
	unsigned char *body = NULL, *cmd = NULL, *macin = NULL;
	size_t n = 0, blen = 0, mlen = 0, bodyroom;
	unsigned char h[4];
	int ext, rc = 0;

	memcpy(h, hdr, 4);
	h[0] |= 0x0C;
	if (!EAC_increment_ssc(s->ctx))
		return bb_fail(e, BB_SOFTWARE, "secure messaging: cannot count");
	if (dlen > 0) {
		if ((plain = bb_bufmem(data, dlen)) == NULL ||
		    (padded = EAC_add_iso_pad(s->ctx, plain)) == NULL ||
		    (enc = EAC_encrypt(s->ctx, padded)) == NULL) {
			rc = bb_fail(e, BB_SOFTWARE, "secure messaging: cannot encrypt");
			goto done;
		}
	}
	bodyroom = (enc ? enc->length : 0) + 32;
	if ((body = malloc(bodyroom)) == NULL || (macin = malloc(16 + bodyroom)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto done;
	}
	if (enc != NULL) {
		body[blen++] = 0x87;
		blen += bb_tlv_put_len(body + blen, enc->length + 1);
		body[blen++] = 0x01;
		memcpy(body + blen, enc->data, enc->length);
		blen += enc->length;
	}
	if (ne > 0) {
		body[blen++] = 0x97;
		if (ne <= 256) {
			body[blen++] = 0x01;
			body[blen++] = (unsigned char)(ne == 256 ? 0 : ne);
		} else {
			body[blen++] = 0x02;
			body[blen++] = (unsigned char)(ne == 65536 ? 0 : ne >> 8);
			body[blen++] = (unsigned char)(ne == 65536 ? 0 : ne);
		}
	}
	/* MAC input: the header padded to a block, then the data objects, padded again only
	 * when there are any: a command with neither DO 87 nor DO 97 (RESET RETRY COUNTER to
	 * unblock) MACs the padded header alone, as real cards check it (AusweisApp's
	 * SecureMessaging::createMac, OpenSC). The block is 16 bytes for AES: the padding of
	 * 4 bytes is 80 00 ... */
	memcpy(macin, h, 4);
	macin[4] = 0x80;
	memset(macin + 5, 0, 11);
	mlen = 16;
	memcpy(macin + mlen, body, blen);
	mlen += blen;
	if ((mac = mac_of(s, macin, mlen, blen > 0)) == NULL || mac->length == 0 ||
	    mac->length > 16) {
		rc = bb_fail(e, BB_SOFTWARE, "secure messaging: cannot compute the MAC");
		goto done;
	}
	body[blen++] = 0x8E;
	body[blen++] = (unsigned char)mac->length;
	memcpy(body + blen, mac->data, mac->length);
	blen += mac->length;

	/* A protected answer is longer than its plain data: past 0xDF plain bytes it needs an
	 * extended Le. Without extended length the card answers what fits in 256. */
	ext = blen > 255 || (ne > 0xDF && s->ext);
	s->last_ext = ext;
	if (ext && !s->ext) {
		rc = bb_fail(e, BB_SOFTWARE, "secure messaging: command too long for short APDUs");
		goto done;
	}
	if ((cmd = malloc(4 + 3 + blen + 3)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto done;
	}
	/* Le: whatever the protected answer needs. */
	n = bb_apdu_encode(cmd, h, body, blen, ext ? 65536 : 256, ext);
	*apdu = cmd;
	*alen = n;
	cmd = NULL;
done:
	if (plain != NULL)
		BUF_MEM_clear_free(plain);
	if (padded != NULL)
		BUF_MEM_clear_free(padded);
	BUF_MEM_free(enc);
	BUF_MEM_free(mac);
	if (body != NULL)
		OPENSSL_clear_free(body, bodyroom);
	if (macin != NULL)
		OPENSSL_clear_free(macin, 16 + bodyroom);
	free(cmd);
	return rc;
}

/* The data objects of a protected answer: [87] 99 8E, in that order, nothing else. */
struct answer {
	const unsigned char *do87, *do87v, *do99, *do8e;
	size_t do87len, do87vlen;
};

/* Finds them in r .. end (the answer without its status word). */
static int
answer_parse(struct bb_sm *s, const unsigned char *r, const unsigned char *end,
    struct answer *a, struct bb_err *e)
{
	const unsigned char *p = r, *v;
	size_t vlen;
	unsigned tag;

	memset(a, 0, sizeof *a);
	if (bb_tlv_next(&p, end, &tag, &v, &vlen) != 0)
		return broken(s, e, "malformed answer");
	if (tag == 0x87) {
		a->do87 = r;
		a->do87v = v;
		a->do87vlen = vlen;
		a->do87len = (size_t)(p - r);
		if (bb_tlv_next(&p, end, &tag, &v, &vlen) != 0)
			return broken(s, e, "malformed answer");
	}
	/* Exactly 99 02 and 8E 08: the MAC input is these bytes as sent. */
	if (tag != 0x99 || vlen != 2 || v - 2 < r || v[-2] != 0x99 || v[-1] != 0x02)
		return broken(s, e, "the answer has no protected status (DO 99)");
	a->do99 = v - 2;
	if (bb_tlv_next(&p, end, &tag, &v, &vlen) != 0 || tag != 0x8E || vlen != 8 || p != end ||
	    v[-1] != 0x08)
		return broken(s, e, "the answer has no MAC (DO 8E)");
	a->do8e = v;
	return 0;
}

/* The MAC (DO 8E) over the send sequence counter, DO 87 and DO 99, padded. */
static int
answer_mac(struct bb_sm *s, const struct answer *a, struct bb_err *e)
{
	BUF_MEM *macin, *padded = NULL, *mac = NULL;
	int rc = 0;

	if ((macin = BUF_MEM_new()) == NULL || !BUF_MEM_grow(macin, a->do87len + 4)) {
		BUF_MEM_free(macin);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	if (a->do87len > 0)
		memcpy(macin->data, a->do87, a->do87len);
	memcpy(macin->data + a->do87len, a->do99, 4);
	macin->length = a->do87len + 4;
	if ((padded = EAC_add_iso_pad(s->ctx, macin)) == NULL ||
	    (mac = bb_bufmem(a->do8e, 8)) == NULL)
		rc = bb_fail(e, BB_SOFTWARE, "secure messaging: cannot check the MAC");
	else if (EAC_verify_authentication(s->ctx, padded, mac) != 1)
		rc = broken(s, e, "the answer's MAC is wrong");
	BUF_MEM_free(macin);
	BUF_MEM_free(padded);
	BUF_MEM_free(mac);
	return rc;
}

/* DO 87's data decrypted into *out (malloc'd, *outlen bytes). */
static int
answer_data(struct bb_sm *s, const struct answer *a, unsigned char **out, size_t *outlen,
    struct bb_err *e)
{
	BUF_MEM *enc = NULL, *dec = NULL, *plain = NULL;
	int rc = 0;

	/* 01 (padding as ISO 9797-1 method 2) and whole blocks. */
	if (a->do87vlen < 17 || a->do87v[0] != 0x01 || (a->do87vlen - 1) % 16 != 0)
		return broken(s, e, "the answer's data object is malformed");
	if ((enc = bb_bufmem(a->do87v + 1, a->do87vlen - 1)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if ((dec = EAC_decrypt(s->ctx, enc)) == NULL || (plain = EAC_remove_iso_pad(dec)) == NULL)
		rc = broken(s, e, "the answer's data does not decrypt");
	else if ((*out = malloc(plain->length ? plain->length : 1)) == NULL)
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
	else {
		memcpy(*out, plain->data, plain->length);
		*outlen = plain->length;
	}
	BUF_MEM_free(enc);
	if (dec != NULL)
		BUF_MEM_clear_free(dec);
	if (plain != NULL)
		BUF_MEM_clear_free(plain);
	return rc;
}

/* Checks and opens a protected answer r of rlen bytes (data, SW1 SW2). */
static int
unprotect(struct bb_sm *s, const unsigned char *r, size_t rlen, unsigned char **out,
    size_t *outlen, unsigned *sw, struct bb_err *e)
{
	struct answer a;
	const unsigned char *end;
	int rc;

	if (rlen < 2)
		return broken(s, e, "the card's answer has no status word");
	*sw = (unsigned)r[rlen - 2] << 8 | r[rlen - 1];
	end = r + rlen - 2;
	if (!EAC_increment_ssc(s->ctx))
		return bb_fail(e, BB_SOFTWARE, "secure messaging: cannot count");
	if (end == r) {
		/* A plain status: the card could not (6987, 6988) or would not protect its
		 * answer. Either way the channel is gone. */
		s->broken = 1;
		return bb_fail(e, BB_PROTOCOL,
		    "secure messaging: the card answered %04X unprotected: session ended", *sw);
	}
	if ((rc = answer_parse(s, r, end, &a, e)) != 0)
		return rc;
	*out = NULL;
	*outlen = 0;
	if ((rc = answer_mac(s, &a, e)) == 0 &&
	    ((unsigned)a.do99[2] << 8 | a.do99[3]) != *sw)
		rc = broken(s, e, "the answer's status disagrees with its protected status");
	if (rc == 0 && a.do87 != NULL)
		rc = answer_data(s, &a, out, outlen, e);
	if (rc != 0)
		ERR_clear_error();
	return rc;
}

/* The reader protects the channel (PACE in the reader): the command goes plain, in
 * extended length when it or its answer needs it, and so does the answer. */
static int
pass_through(struct bb_sm *s, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, unsigned char **out, size_t *outlen, unsigned *sw,
    struct bb_err *e)
{
	unsigned char *apdu, *resp;
	size_t n, rlen = RESP_ROOM;
	int ext = dlen > 255 || ne > 256, rc;

	if ((apdu = malloc(4 + 3 + dlen + 3)) == NULL || (resp = malloc(RESP_ROOM)) == NULL) {
		free(apdu);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	n = bb_apdu_encode(apdu, hdr, data, dlen, ne, ext);
	rc = s->fn(s->arg, apdu, n, resp, &rlen, e);
	OPENSSL_cleanse(apdu, n);
	free(apdu);
	if (rc == 0 && (rlen < 2 || rlen > RESP_ROOM || rlen - 2 > ne))
		rc = broken(s, e, "the reader's answer is malformed");
	if (rc == 0) {
		*sw = (unsigned)resp[rlen - 2] << 8 | resp[rlen - 1];
		if (rlen > 2) {
			if ((*out = malloc(rlen - 2)) == NULL)
				rc = bb_fail(e, BB_SOFTWARE, "out of memory");
			else {
				memcpy(*out, resp, rlen - 2);
				*outlen = rlen - 2;
			}
		}
	} else
		s->broken = 1;
	OPENSSL_cleanse(resp, RESP_ROOM);
	free(resp);
	if (rc == 0 && s->trace != NULL)
		s->trace(s->trace_arg, hdr, *out, *outlen, ne, *sw);
	return rc;
}

static int transmit1(struct bb_sm *s, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, unsigned char **out, size_t *outlen, unsigned *sw,
    struct bb_err *e);

/* Plain data per piece of a chained command without extended length: its protected form
 * (DO 87 with padding, DO 97, DO 8E) stays within a short Lc of 255. */
#define CHAIN_PIECE 0xDF

int
bb_sm_transmit(struct bb_sm *s, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, unsigned char **out, size_t *outlen, unsigned *sw,
    struct bb_err *e)
{
	unsigned char h[4];
	size_t off = 0;
	int rc;

	if (s->ext) {
		/* A card without extended length answers an extended command 6700 (protected,
		 * so the channel holds): from then on short APDUs, and this one again. */
		rc = transmit1(s, hdr, data, dlen, ne, out, outlen, sw, e);
		if (rc != 0 || *sw != 0x6700 || !s->last_ext)
			return rc;
		free(*out);
		*out = NULL;
		*outlen = 0;
		s->ext = 0;
	}
	if (dlen <= CHAIN_PIECE)
		return transmit1(s, hdr, data, dlen, ne > 256 ? 0xDF : ne, out, outlen, sw, e);
	/* ISO 7816-4 command chaining: every piece but the last with CLA bit 0x10, each a
	 * protected command of its own, each answered 9000. */
	memcpy(h, hdr, 4);
	h[0] |= 0x10;
	for (off = 0; dlen - off > CHAIN_PIECE; off += CHAIN_PIECE) {
		if ((rc = transmit1(s, h, data + off, CHAIN_PIECE, 0, out, outlen, sw, e)) != 0)
			return rc;
		free(*out);
		*out = NULL;
		*outlen = 0;
		if (*sw != 0x9000)
			return 0;	/* the caller sees the card's answer */
	}
	return transmit1(s, hdr, data + off, dlen - off, ne, out, outlen, sw, e);
}

static int
transmit1(struct bb_sm *s, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, unsigned char **out, size_t *outlen, unsigned *sw,
    struct bb_err *e)
{
	unsigned char *apdu = NULL, *resp = NULL, *copy = NULL;
	size_t alen = 0, rlen = RESP_ROOM;
	int rc;

	*out = NULL;
	*outlen = 0;
	*sw = 0;
	if (s->broken)
		return bb_fail(e, BB_PROTOCOL, "secure messaging: the session has ended");
	if (dlen > DATA_MAX || ne > 65536 || (data == NULL && dlen > 0))
		return bb_fail(e, BB_SOFTWARE, "secure messaging: command too long");
	if (s->trace != NULL)
		s->trace(s->trace_arg, hdr, data, dlen, ne, 0);
	if (s->ctx == NULL)
		return pass_through(s, hdr, data, dlen, ne, out, outlen, sw, e);
	if ((rc = protect(s, hdr, data, dlen, ne, &apdu, &alen, e)) != 0)
		return rc;
	if ((resp = malloc(RESP_ROOM)) == NULL) {
		free(apdu);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	rc = s->fn(s->arg, apdu, alen, resp, &rlen, e);
	free(apdu);
	if (rc != 0) {
		s->broken = 1;
		free(resp);
		return rc;
	}
	if (rlen > RESP_ROOM || (copy = malloc(rlen ? rlen : 1)) == NULL) {
		free(resp);
		return rlen > RESP_ROOM ? broken(s, e, "answer too long") :
		    bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	memcpy(copy, resp, rlen);
	OPENSSL_cleanse(resp, rlen);
	free(resp);
	rc = unprotect(s, copy, rlen, out, outlen, sw, e);
	OPENSSL_cleanse(copy, rlen);
	free(copy);
	if (rc == 0 && (*outlen > ne || (ne == 0 && *out != NULL))) {
		/* More than was asked for: no caller has room for it to be trusted. */
		OPENSSL_clear_free(*out, *outlen);
		*out = NULL;
		*outlen = 0;
		return broken(s, e, "the answer is longer than asked for");
	}
	if (rc == 0 && s->trace != NULL)
		s->trace(s->trace_arg, hdr, *out, *outlen, ne, *sw);
	return rc;
}

int
bb_sm_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen, struct bb_err *e)
{
	struct bb_sm *s = arg;
	unsigned char *out;
	size_t dlen = 0, ne = 0, outlen, room = *rlen;
	const unsigned char *data = NULL;
	unsigned sw;
	int rc;

	/* The four cases of ISO 7816-3 12.1, short and extended. */
	if (len < 4)
		return bb_fail(e, BB_SOFTWARE, "secure messaging: APDU too short");
	/* A short Le of 00 (256) stays short: at most what a short protected answer holds. */
	if (len == 5) {
		ne = apdu[4] ? apdu[4] : 0xDF;
	} else if (len > 5 && apdu[4] != 0) {
		dlen = apdu[4];
		data = apdu + 5;
		if (len == 5 + dlen + 1)
			ne = apdu[len - 1] ? apdu[len - 1] : 0xDF;
		else if (len != 5 + dlen)
			return bb_fail(e, BB_SOFTWARE, "secure messaging: malformed APDU");
	} else if (len == 7) {
		ne = (size_t)apdu[5] << 8 | apdu[6];
		if (ne == 0)
			ne = 65536;
	} else if (len > 7) {
		dlen = (size_t)apdu[5] << 8 | apdu[6];
		data = apdu + 7;
		if (dlen == 0)
			return bb_fail(e, BB_SOFTWARE, "secure messaging: malformed APDU");
		if (len == 7 + dlen + 2) {
			ne = (size_t)apdu[len - 2] << 8 | apdu[len - 1];
			if (ne == 0)
				ne = 65536;
		} else if (len != 7 + dlen)
			return bb_fail(e, BB_SOFTWARE, "secure messaging: malformed APDU");
	} else if (len != 4)
		return bb_fail(e, BB_SOFTWARE, "secure messaging: malformed APDU");
	if ((rc = bb_sm_transmit(s, apdu, data, dlen, ne, &out, &outlen, &sw, e)) != 0)
		return rc;
	if (outlen + 2 > room) {
		free(out);
		return broken(s, e, "answer too long");
	}
	if (outlen > 0)
		memcpy(resp, out, outlen);
	resp[outlen] = (unsigned char)(sw >> 8);
	resp[outlen + 1] = (unsigned char)sw;
	*rlen = outlen + 2;
	if (out != NULL)
		OPENSSL_clear_free(out, outlen);
	return 0;
}
