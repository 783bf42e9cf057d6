/* PACE on the terminal side over a transport callback; see pace.h. Every answer of the
 * card is copied into a buffer of exactly its size before it is parsed, and the parser
 * checks every length against what is left, so a hostile answer cannot make us read out
 * of bounds (and AddressSanitizer would see it if we did). */
#include "eid/pace.h"
#include "eid/tlv.h"
#include "diag.h"
#include "exit.h"

#include <eac/eac.h>
#include <eac/pace.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_ROOM (65536 + 2)	/* an extended-length answer with SW1 SW2 */
#define DATA_MAX 65535		/* command data (extended Lc) */

struct link {
	bb_apdu_fn fn;
	void *arg;
	struct bb_err *e;
};

/* One APDU: header, Lc and data when dlen > 0 (extended when dlen > 255), Le 00 (00 00
 * extended) when le. The response data goes into *rdata (malloc'd, exactly *rdlen bytes,
 * at least 1 allocated) and the status word into *sw. */
static int
transmit(struct link *l, unsigned char cla, unsigned char ins, unsigned char p1,
    unsigned char p2, const unsigned char *data, size_t dlen, int le,
    unsigned char **rdata, size_t *rdlen, unsigned *sw)
{
	unsigned char *apdu, *resp, hdr[4];
	size_t n, rlen = RESP_ROOM;
	int ext = dlen > 255, rc;

	*rdata = NULL;
	*rdlen = 0;
	if (dlen > DATA_MAX)
		return bb_fail(l->e, BB_SOFTWARE, "PACE: command data too long");
	if ((apdu = malloc(4 + 3 + dlen + 3)) == NULL || (resp = malloc(RESP_ROOM)) == NULL) {
		free(apdu);
		return bb_fail(l->e, BB_SOFTWARE, "out of memory");
	}
	hdr[0] = cla;
	hdr[1] = ins;
	hdr[2] = p1;
	hdr[3] = p2;
	n = bb_apdu_encode(apdu, hdr, data, dlen, le ? (ext ? 65536 : 256) : 0, ext);
	rc = l->fn(l->arg, apdu, n, resp, &rlen, l->e);
	OPENSSL_cleanse(apdu, n);
	free(apdu);
	if (rc != 0) {
		free(resp);
		return rc;	/* fn said why */
	}
	if (rlen < 2 || rlen > RESP_ROOM) {
		free(resp);
		return bb_fail(l->e, BB_PROTOCOL, "PACE: the card's answer has no status word");
	}
	*sw = (unsigned)resp[rlen - 2] << 8 | resp[rlen - 1];
	*rdlen = rlen - 2;
	if ((*rdata = malloc(*rdlen ? *rdlen : 1)) == NULL) {
		free(resp);
		return bb_fail(l->e, BB_SOFTWARE, "out of memory");
	}
	memcpy(*rdata, resp, *rdlen);
	/* 61XX: the answer was longer than Ne and XX more bytes (00: 256 or more) wait for
	 * GET RESPONSE (ISO/IEC 7816-4:2013 5.3.4, response chaining). */
	while ((*sw & 0xFF00) == 0x6100) {
		static const unsigned char gr[4] = { 0x00, 0xC0, 0x00, 0x00 };
		unsigned char cmd[5], *more;

		n = bb_apdu_encode(cmd, gr, NULL, 0, (*sw & 0xFF) ? (*sw & 0xFF) : 256, 0);
		rlen = RESP_ROOM;
		if ((rc = l->fn(l->arg, cmd, n, resp, &rlen, l->e)) == 0 &&
		    (rlen < 2 || rlen - 2 > 256 || *rdlen + rlen - 2 > DATA_MAX))
			rc = bb_fail(l->e, BB_PROTOCOL, "PACE: the card's GET RESPONSE is malformed");
		if (rc == 0 && (more = realloc(*rdata, *rdlen + rlen - 2 + 1)) == NULL)
			rc = bb_fail(l->e, BB_SOFTWARE, "out of memory");
		if (rc != 0) {
			free(resp);
			free(*rdata);
			*rdata = NULL;
			*rdlen = 0;
			return rc;
		}
		*sw = (unsigned)resp[rlen - 2] << 8 | resp[rlen - 1];
		*rdata = more;
		memcpy(*rdata + *rdlen, resp, rlen - 2);
		*rdlen += rlen - 2;
	}
	free(resp);
	return 0;
}

/* Dynamic Authentication Data: exactly one 7C object filling the answer, holding
 * primitive objects 80..8F each at most once (others are skipped). val[t - 0x80]. */
struct dad {
	const unsigned char *val[16];
	size_t len[16];
};

static int
dad_parse(const unsigned char *data, size_t len, struct dad *d)
{
	const unsigned char *p = data, *end = data + len, *in, *inend, *v;
	size_t vlen;
	unsigned tag;

	memset(d, 0, sizeof *d);
	if (bb_tlv_next(&p, end, &tag, &in, &vlen) != 0 || tag != 0x7C || p != end)
		return -1;
	inend = in + vlen;
	while (in < inend) {
		if (bb_tlv_next(&in, inend, &tag, &v, &vlen) != 0)
			return -1;
		if (tag >= 0x80 && tag <= 0x8F) {
			if (d->val[tag - 0x80] != NULL)
				return -1;
			d->val[tag - 0x80] = v;
			d->len[tag - 0x80] = vlen;
		}
	}
	return 0;
}

BUF_MEM *
bb_bufmem(const unsigned char *p, size_t len)
{
	BUF_MEM *b = BUF_MEM_new();

	if (b == NULL || (len > 0 && !BUF_MEM_grow(b, len))) {
		BUF_MEM_free(b);
		return NULL;
	}
	if (len > 0)
		memcpy(b->data, p, len);
	b->length = len;
	return b;
}

int
bb_pace_dh_pad(const struct evp_pkey_st *params, BUF_MEM *key)
{
	int size;
	size_t n, len;

	if (params == NULL || EVP_PKEY_base_id(params) == EVP_PKEY_EC)
		return 0;
	if ((size = EVP_PKEY_get_size(params)) <= 0)
		return -1;
	n = (size_t)size;
	len = key->length;
	if (len > n)
		return -1;
	if (len == n)
		return 0;
	if (BUF_MEM_grow(key, n) == 0)
		return -1;
	memmove(key->data + n - len, key->data, len);
	memset(key->data, 0, n - len);
	return 0;
}

static const char *const steps[] = {
	"encrypted nonce", "mapping", "key agreement", "mutual authentication",
};

/* General Authenticate step i (0..3): 7C { tag in } out, chained but for the last; the
 * card's answer parsed into d (its data stays in *rdata for the caller to free). */
static int
general_authenticate(struct link *l, int i, unsigned tag, const BUF_MEM *in,
    unsigned char **rdata, struct dad *d, unsigned *sw, int *retries)
{
	size_t ilen = in ? in->length : 0, n = 0, rlen;
	unsigned char *cmd;
	int rc;

	*rdata = NULL;
	if (ilen > DATA_MAX - 16)
		return bb_fail(l->e, BB_SOFTWARE, "PACE: %s data too long", steps[i]);
	if ((cmd = malloc(ilen + 16)) == NULL)
		return bb_fail(l->e, BB_SOFTWARE, "out of memory");
	cmd[n++] = 0x7C;
	if (in == NULL)
		cmd[n++] = 0x00;
	else {
		size_t inner = 1 + (ilen < 0x80 ? 1 : ilen < 0x100 ? 2 : 3) + ilen;
		n += bb_tlv_put_len(cmd + n, inner);
		cmd[n++] = (unsigned char)tag;
		n += bb_tlv_put_len(cmd + n, ilen);
		memcpy(cmd + n, in->data, ilen);
		n += ilen;
	}
	rc = transmit(l, i < 3 ? 0x10 : 0x00, 0x86, 0x00, 0x00, cmd, n, 1, rdata, &rlen, sw);
	free(cmd);
	if (rc != 0)
		return rc;
	if (*sw == 0x9000) {
		if (dad_parse(*rdata, rlen, d) != 0)
			return bb_fail(l->e, BB_PROTOCOL,
			    "PACE: the card's answer to General Authenticate (%s) is malformed",
			    steps[i]);
		return 0;
	}
	if (*sw == 0x6982 || *sw == 0x6983)
		return bb_fail(l->e, BB_DOC_BLOCKED,
		    "PACE: the card refuses the password (%04X: blocked or deactivated)", *sw);
	if (i == 3 && ((*sw & 0xFFF0) == 0x63C0 || *sw == 0x6300)) {
		if ((*sw & 0xFFF0) == 0x63C0)
			*retries = (int)(*sw & 0x0F);
		else if (*retries > 0)
			*retries -= 1;
		else
			*retries = -1;
		if (*retries >= 0)
			return bb_fail(l->e, BB_WRONG_SECRET,
			    "PACE: wrong password, %d %s left", *retries,
			    *retries == 1 ? "retry" : "retries");
		return bb_fail(l->e, BB_WRONG_SECRET, "PACE: wrong password");
	}
	return bb_fail(l->e, BB_PROTOCOL, "PACE: General Authenticate (%s): the card answered %04X",
	    steps[i], *sw);
}

/* MSE:Set AT: 80 protocol, 83 password reference, 7F4C CHAT. */
static int
mse_set_at(struct link *l, int protocol, int pwd_ref, const unsigned char *chat,
    size_t chat_len, int flags, int *retries)
{
	const ASN1_OBJECT *o = OBJ_nid2obj(protocol);
	unsigned char *cmd, *rdata;
	size_t olen, n = 0, rlen;
	unsigned sw;
	int rc;

	if (o == NULL || (olen = OBJ_length(o)) == 0 || olen > 64 || OBJ_get0_data(o) == NULL)
		return bb_fail(l->e, BB_PROTOCOL, "PACE: the protocol has no OID");
	if ((cmd = malloc(2 + olen + 3 + chat_len)) == NULL)
		return bb_fail(l->e, BB_SOFTWARE, "out of memory");
	cmd[n++] = 0x80;
	cmd[n++] = (unsigned char)olen;
	memcpy(cmd + n, OBJ_get0_data(o), olen);
	n += olen;
	cmd[n++] = 0x83;
	cmd[n++] = 0x01;
	cmd[n++] = (unsigned char)pwd_ref;
	if (chat_len > 0)
		memcpy(cmd + n, chat, chat_len);
	n += chat_len;
	rc = transmit(l, 0x00, 0x22, 0xC1, 0xA4, cmd, n, 0, &rdata, &rlen, &sw);
	free(cmd);
	if (rc != 0)
		return rc;
	free(rdata);
	if (sw == 0x9000) {
		if (pwd_ref == BB_PACE_PIN)
			*retries = 3;
		return 0;
	}
	if ((sw & 0xFFF0) == 0x63C0) {
		*retries = (int)(sw & 0x0F);
		if (*retries >= 2 || (*retries == 1 && (flags & BB_PACE_SUSPENDED_OK)))
			return 0;
		if (*retries == 1)
			return bb_fail(l->e, BB_DOC_BLOCKED,
			    "PACE: the PIN is suspended (1 retry left): PACE with the CAN first");
		return bb_fail(l->e, BB_DOC_BLOCKED, "PACE: the password is blocked (0 retries left)");
	}
	if (sw == 0x6283)
		return bb_fail(l->e, BB_DOC_BLOCKED,
		    "PACE: the eID function of this card is switched off (6283)");
	if (sw == 0x6982 || sw == 0x6983)
		return bb_fail(l->e, BB_DOC_BLOCKED,
		    "PACE: the card refuses the password (%04X: blocked or deactivated)", sw);
	return bb_fail(l->e, BB_PROTOCOL, "PACE: MSE:Set AT: the card answered %04X", sw);
}

void
bb_pace_free(struct bb_pace *p)
{
	if (p == NULL)
		return;
	EAC_CTX_clear_free(p->ctx);
	free(p->picc_pub);
	free(p->ca_pub);
	free(p);
}

int
bb_pace_car(char *dst, size_t room, const unsigned char *v, size_t len)
{
	size_t i;

	if (v == NULL)
		return 0;
	if (len >= room)
		return -1;
	for (i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7E)
			return -1;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

int
bb_pace_establish(bb_apdu_fn fn, void *arg, const unsigned char *ef_cardaccess, size_t len,
    int pwd_ref, const char *secret, size_t secret_len, const unsigned char *chat,
    size_t chat_len, struct bb_pace **out, int *retries, struct bb_err *e)
{
	const struct bb_pace_in in = { fn, arg, ef_cardaccess, len, pwd_ref, secret,
	    secret_len, chat, chat_len, 0 };

	return bb_pace_run(&in, out, retries, e);
}

/* Domain parameters in EF.CardAccess only as standardized ones (TR-03110 part 3, A.2.1.1:
 * 0-2 MODP groups, 8-18 curves; ID cards use them): when OpenPACE (libeac 1.1.2,
 * aid2evp_pkey) cannot use the parameters of a PACEDomainParameterInfo,
 * ChipAuthenticationDomainParameterInfo or ChipAuthenticationPublicKeyInfo it frees the
 * context's key and leaves the pointer behind, and freeing the context then touches freed
 * memory: bb-eid hung for good on such a card (found by fuzzing,
 * tests/fuzz/crashes/eid_cardsec). The card sends EF.CardAccess unprotected, so it is
 * checked before OpenPACE sees it. 1 when usable. */
static int
cardaccess_usable(const unsigned char *ca, size_t len)
{
	/* 0.4.0.127.0.7.2.2 (BSI protocols), then 1 (id-PK), 3 (id-CA) or 4 (id-PACE) and one
	 * arc 1-4 (DH, ECDH, GM, IM): the infos that carry domain parameters. */
	static const unsigned char bsi[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02 };
	/* 0.4.0.127.0.7.1.2: standardizedDomainParameters. */
	static const unsigned char std[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x02 };
	const unsigned char *p = ca, *set, *q, *info, *r, *v;
	size_t setlen, infolen, n, vlen;
	unsigned tag;

	if (bb_tlv_next(&p, ca + len, &tag, &set, &setlen) != 0 || tag != 0x31)
		return 0;
	for (q = set; q < set + setlen; ) {
		if (bb_tlv_next(&q, set + setlen, &tag, &info, &infolen) != 0)
			return 0;
		r = info;
		if (tag != 0x30 || bb_tlv_next(&r, info + infolen, &tag, &v, &vlen) != 0 ||
		    tag != 0x06)
			continue;	/* not a SecurityInfo: OpenPACE stops there */
		if (vlen != sizeof bsi + 2 || memcmp(v, bsi, sizeof bsi) != 0 ||
		    (v[7] != 1 && v[7] != 3 && v[7] != 4) || v[8] < 1 || v[8] > 4)
			continue;
		/* The AlgorithmIdentifier; for id-PK inside the SubjectPublicKeyInfo. */
		for (n = v[7] == 1 ? 2 : 1; n > 0; n--) {
			if (bb_tlv_next(&r, info + infolen, &tag, &v, &vlen) != 0 || tag != 0x30)
				return 0;
			info = r = v;
			infolen = vlen;
		}
		if (bb_tlv_next(&r, info + infolen, &tag, &v, &vlen) != 0 || tag != 0x06 ||
		    vlen != sizeof std || memcmp(v, std, sizeof std) != 0 ||
		    bb_tlv_next(&r, info + infolen, &tag, &v, &vlen) != 0 || tag != 0x02 ||
		    vlen != 1 || v[0] > 18 || (v[0] > 2 && v[0] < 8))
			return 0;
	}
	return 1;
}

/* One run of PACE between its steps: the context, the card's last answer (parsed into d,
 * its bytes in rdata) and the card's ephemeral key (for the token and ID_PICC). */
struct run {
	struct link l;
	EAC_CTX *ctx;
	unsigned char *rdata;
	struct dad d;
	BUF_MEM *card_eph;
	int *retries;
};

/* Step 1: the encrypted nonce (80), decrypted with the password. */
static int
step_nonce(struct run *r, const PACE_SEC *sec)
{
	BUF_MEM *b;
	unsigned sw;
	int rc, ok;

	if ((rc = general_authenticate(&r->l, 0, 0, NULL, &r->rdata, &r->d, &sw,
	    r->retries)) != 0)
		return rc;
	if (r->d.val[0] == NULL || r->d.len[0] == 0)
		return bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card sent no encrypted nonce");
	if ((b = bb_bufmem(r->d.val[0], r->d.len[0])) == NULL)
		return bb_fail(r->l.e, BB_SOFTWARE, "out of memory");
	ok = PACE_STEP2_dec_nonce(r->ctx, sec, b);
	BUF_MEM_free(b);
	if (!ok)
		return bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card's encrypted nonce does not decrypt");
	return 0;
}

/* Step 2: mapping (81 ours, 82 the card's). DH: as long as p (bb_pace_dh_pad); a point
 * is 04 x y, x and y padded already. */
static int
step_map(struct run *r)
{
	BUF_MEM *mine, *b = NULL;
	unsigned sw;
	int rc;

	if ((mine = PACE_STEP3A_generate_mapping_data(r->ctx)) == NULL)
		return bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE cannot make mapping data");
	if (bb_pace_dh_pad(r->ctx->pace_ctx->static_key, mine) != 0)
		rc = bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE's mapping data is longer than p");
	else if ((rc = general_authenticate(&r->l, 1, 0x81, mine, &r->rdata, &r->d, &sw,
	    r->retries)) != 0)
		;
	else if (r->d.val[2] == NULL || r->d.len[2] == 0 ||
	    (b = bb_bufmem(r->d.val[2], r->d.len[2])) == NULL ||
	    !PACE_STEP3A_map_generator(r->ctx, b))
		rc = bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card's mapping data is unusable");
	BUF_MEM_free(mine);
	BUF_MEM_free(b);
	return rc;
}

/* Step 3: key agreement (83 ours, 84 the card's: not ours sent back), the keys derived. */
static int
step_agree(struct run *r)
{
	BUF_MEM *eph;
	unsigned sw;
	int rc;

	if ((eph = PACE_STEP3B_generate_ephemeral_key(r->ctx)) == NULL)
		return bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE cannot make an ephemeral key");
	if (bb_pace_dh_pad(r->ctx->pace_ctx->static_key, eph) != 0)
		rc = bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE's ephemeral key is longer than p");
	else if ((rc = general_authenticate(&r->l, 2, 0x83, eph, &r->rdata, &r->d, &sw,
	    r->retries)) != 0)
		;
	else if (r->d.val[4] == NULL || r->d.len[4] == 0 ||
	    (r->d.len[4] == eph->length && memcmp(r->d.val[4], eph->data, eph->length) == 0) ||
	    (r->card_eph = bb_bufmem(r->d.val[4], r->d.len[4])) == NULL ||
	    bb_pace_dh_pad(r->ctx->pace_ctx->static_key, r->card_eph) != 0 ||
	    !PACE_STEP3B_compute_shared_secret(r->ctx, r->card_eph))
		rc = bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card's ephemeral key is unusable");
	else if (!PACE_STEP3C_derive_keys(r->ctx))
		rc = bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE cannot derive the keys");
	BUF_MEM_free(eph);
	return rc;
}

/* Step 4: mutual authentication (85 ours, 86 the card's, 87/88 CARs for TA). */
static int
step_mutual(struct run *r)
{
	BUF_MEM *tok, *b = NULL;
	unsigned sw;
	int rc;

	if ((tok = PACE_STEP3D_compute_authentication_token(r->ctx, r->card_eph)) == NULL)
		return bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE cannot compute the token");
	if ((rc = general_authenticate(&r->l, 3, 0x85, tok, &r->rdata, &r->d, &sw,
	    r->retries)) != 0)
		;
	else if (r->d.val[6] == NULL || r->d.len[6] == 0 ||
	    (b = bb_bufmem(r->d.val[6], r->d.len[6])) == NULL ||
	    PACE_STEP3D_verify_authentication_token(r->ctx, b) != 1)
		rc = bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card's authentication token does not verify");
	BUF_MEM_free(tok);
	BUF_MEM_free(b);
	return rc;
}

/* The channel PACE established: the card's key and CARs kept, secure messaging with the
 * PACE keys set up (AES only). */
static int
established(struct run *r, struct bb_pace **out)
{
	struct bb_pace *p;

	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->picc_pub = malloc(r->card_eph->length)) == NULL) {
		bb_pace_free(p);
		return bb_fail(r->l.e, BB_SOFTWARE, "out of memory");
	}
	memcpy(p->picc_pub, r->card_eph->data, r->card_eph->length);
	p->picc_pub_len = r->card_eph->length;
	if (bb_pace_car(p->car, sizeof p->car, r->d.val[7], r->d.len[7]) != 0 ||
	    bb_pace_car(p->car_prev, sizeof p->car_prev, r->d.val[8], r->d.len[8]) != 0) {
		bb_pace_free(p);
		return bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card names a malformed CAR");
	}
	if (!EAC_CTX_set_encryption_ctx(r->ctx, EAC_ID_PACE)) {
		bb_pace_free(p);
		return bb_fail(r->l.e, BB_SOFTWARE, "PACE: OpenPACE cannot set up secure messaging");
	}
	/* Secure messaging here frames 16-byte blocks (AES); 3DES (TR-03110's old
	 * parameter sets, which no ID card uses) is refused, not framed wrongly. */
	if (r->ctx->key_ctx == NULL || r->ctx->key_ctx->cipher == NULL ||
	    EVP_CIPHER_get_block_size(r->ctx->key_ctx->cipher) != 16) {
		bb_pace_free(p);
		return bb_fail(r->l.e, BB_PROTOCOL, "PACE: the card's parameters are not AES: not supported");
	}
	p->ctx = r->ctx;
	r->ctx = NULL;
	*out = p;
	return 0;
}

int
bb_pace_run(const struct bb_pace_in *in, struct bb_pace **out, int *retries,
    struct bb_err *e)
{
	static int (*const after_nonce[])(struct run *) = { step_map, step_agree, step_mutual };
	struct run r = { .l = { in->fn, in->arg, e }, .retries = retries };
	PACE_SEC *sec = NULL;
	size_t i;
	int rc, dummy;

	if (r.retries == NULL)
		r.retries = &dummy;
	*r.retries = -1;
	if (out != NULL)
		*out = NULL;
	if (in->fn == NULL || in->ef_cardaccess == NULL || out == NULL || in->secret == NULL ||
	    in->pwd_ref < BB_PACE_MRZ || in->pwd_ref > BB_PACE_PUK ||
	    (in->chat == NULL && in->chat_len > 0) || in->chat_len > 200)
		return bb_fail(e, BB_USAGE, "PACE: bad arguments");
	EAC_init();
	if ((r.ctx = EAC_CTX_new()) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (!cardaccess_usable(in->ef_cardaccess, in->len))
		rc = bb_fail(e, BB_PROTOCOL,
		    "PACE: EF.CardAccess is malformed or has domain parameters that are not standardized");
	else if (!EAC_CTX_init_ef_cardaccess(in->ef_cardaccess, in->len, r.ctx) ||
	    r.ctx->pace_ctx == NULL)
		rc = bb_fail(e, BB_PROTOCOL, "PACE: EF.CardAccess names no PACE protocol OpenPACE supports");
	else if ((sec = PACE_SEC_new(in->secret, in->secret_len, (enum s_type)in->pwd_ref)) == NULL)
		rc = bb_fail(e, BB_SOFTWARE, "PACE: cannot encode the password");
	else if ((rc = mse_set_at(&r.l, r.ctx->pace_ctx->protocol, in->pwd_ref, in->chat,
	    in->chat_len, in->flags, r.retries)) != 0)
		;
	else {
		rc = step_nonce(&r, sec);
		PACE_SEC_clear_free(sec);	/* the password is not needed after the nonce */
		sec = NULL;
		/* Each step parses the card's answer into r.d; the last one's CARs are kept. */
		for (i = 0; rc == 0 && i < sizeof after_nonce / sizeof after_nonce[0]; i++) {
			free(r.rdata);
			r.rdata = NULL;
			rc = after_nonce[i](&r);
		}
		if (rc == 0)
			rc = established(&r, out);
	}
	if (rc != 0)
		ERR_clear_error();	/* what OpenPACE left there is in e now */
	free(r.rdata);
	BUF_MEM_free(r.card_eph);
	PACE_SEC_clear_free(sec);
	EAC_CTX_clear_free(r.ctx);
	return rc;
}

int
bb_pace_from_reader(const unsigned char *ef_cardaccess, size_t len, const unsigned char *id_icc,
    size_t id_len, const char *car, const char *car_prev, struct bb_pace **out,
    struct bb_err *e)
{
	struct bb_pace *p;

	*out = NULL;
	if (id_len == 0 || strlen(car) >= sizeof p->car || strlen(car_prev) >= sizeof p->car)
		return bb_fail(e, BB_PROTOCOL, "PACE in the reader: malformed answer");
	EAC_init();
	if ((p = calloc(1, sizeof *p)) == NULL || (p->picc_pub = malloc(id_len)) == NULL ||
	    (p->ctx = EAC_CTX_new()) == NULL) {
		bb_pace_free(p);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	if (!cardaccess_usable(ef_cardaccess, len) ||
	    !EAC_CTX_init_ef_cardaccess(ef_cardaccess, len, p->ctx)) {
		ERR_clear_error();
		bb_pace_free(p);
		return bb_fail(e, BB_PROTOCOL, "PACE in the reader: the reader's EF.CardAccess is unusable");
	}
	memcpy(p->picc_pub, id_icc, id_len);
	p->picc_pub_len = id_len;
	p->picc_id = 1;
	snprintf(p->car, sizeof p->car, "%s", car);
	snprintf(p->car_prev, sizeof p->car_prev, "%s", car_prev);
	*out = p;
	return 0;
}
