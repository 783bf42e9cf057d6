/* Fuzz target: what the card answers inside and before secure messaging (lib/eid/sm.c,
 * pace.c, eac.c): protected answers to one command (short, extended, chained, the 6700
 * fallback), READ BINARY of a whole file through the channel, the plain answers when the
 * reader protects the channel, and the card's answers to PACE.
 *
 * The channel's keys come from a PACE run between two OpenPACE contexts at start-up
 * (EF.CardAccess of the test card erika, PIN 123456), so the harness can protect what the
 * input gives as the card's plain answer with the right counter, and the fuzzer gets past
 * the MAC to the parsing behind it; other answers go as they are.
 *
 * Input: a header of 9 bytes, then the card's answers as records.
 *   header: mode (low 2 bits: 0 one command, 1 read a file, 2 one command without SM, 3
 *           PACE; bit 7: extended length), 4 bytes CLA INS P1 P2 (mode 0, 2) or SFI and
 *           2 bytes max (mode 1), 2 bytes Ne, 2 bytes command length (data made up).
 *   record: flags, 2 bytes length, the bytes. flags bit 0: send the bytes as they are;
 *           otherwise they are the plain answer data and SW1 SW2 (the last two bytes) and
 *           the harness protects them; bit 1: DO 99 says another status than the plain
 *           one; bit 2: a wrong MAC. When the records run out the card is mute. */
#include "fuzz.h"

#include "diag.h"
#include "eid/eac.h"
#include "eid/pace.h"
#include "eid/sm.h"
#include "eid/tlv.h"
#include "exit.h"

#include <eac/eac.h>
#include <eac/pace.h>
#include <openssl/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EF.CardAccess of tests/rig/cards/erika (PACE ECDH GM AES-128, brainpoolP256r1). */
static const unsigned char cardaccess[] = {
	0x31, 0x55, 0x30, 0x0d, 0x06, 0x08, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02,
	0x02, 0x01, 0x02, 0x30, 0x12, 0x06, 0x0a, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02,
	0x03, 0x02, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x41, 0x30, 0x12, 0x06, 0x0a, 0x04,
	0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01,
	0x0d, 0x30, 0x1c, 0x06, 0x09, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02,
	0x30, 0x0c, 0x06, 0x07, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x02, 0x02, 0x01, 0x0d,
	0x02, 0x01, 0x41,
};

static EAC_CTX *pcd, *picc;	/* terminal's and card's side of one PACE channel */

struct card {
	const uint8_t *p, *end;
	unsigned long ssc;	/* the card's send sequence counter */
	int sm;			/* protect the answers */
};

static BUF_MEM *
buf(const void *p, size_t len)
{
	BUF_MEM *b = BUF_MEM_new();

	if (b == NULL || !BUF_MEM_grow(b, len ? len : 1))
		abort();
	if (len > 0)
		memcpy(b->data, p, len);
	b->length = len;
	return b;
}

/* The protected answer: [87] 99 8E and SW1 SW2, as a card makes it. */
static size_t
protect(struct card *k, const uint8_t *plain, size_t len, unsigned sw, int flags,
    unsigned char *out)
{
	BUF_MEM *b, *padded, *enc = NULL, *mac;
	unsigned char macin[4 + 65536 + 64];
	size_t n = 0, m;

	EAC_set_ssc(picc, k->ssc);
	if (len > 0) {
		b = buf(plain, len);
		if ((padded = EAC_add_iso_pad(picc, b)) == NULL ||
		    (enc = EAC_encrypt(picc, padded)) == NULL)
			abort();
		BUF_MEM_free(b);
		BUF_MEM_free(padded);
		out[n++] = 0x87;
		n += bb_tlv_put_len(out + n, enc->length + 1);
		out[n++] = 0x01;
		memcpy(out + n, enc->data, enc->length);
		n += enc->length;
		BUF_MEM_free(enc);
	}
	out[n++] = 0x99;
	out[n++] = 0x02;
	out[n++] = (unsigned char)((flags & 2 ? sw ^ 1 : sw) >> 8);
	out[n++] = (unsigned char)(flags & 2 ? sw ^ 1 : sw);
	memcpy(macin, out, n);
	b = buf(macin, n);
	if ((padded = EAC_add_iso_pad(picc, b)) == NULL ||
	    (mac = EAC_authenticate(picc, padded)) == NULL || mac->length != 8)
		abort();
	BUF_MEM_free(b);
	BUF_MEM_free(padded);
	out[n++] = 0x8E;
	out[n++] = 0x08;
	memcpy(out + n, mac->data, 8);
	if (flags & 4)
		out[n] ^= 0x01;
	n += 8;
	BUF_MEM_free(mac);
	m = n;
	out[m++] = (unsigned char)(sw >> 8);
	out[m++] = (unsigned char)sw;
	return m;
}

static int
transport(void *arg, const unsigned char *apdu, size_t alen, unsigned char *resp, size_t *rlen,
    struct bb_err *e)
{
	struct card *k = arg;
	size_t len, n;
	unsigned sw;
	int flags;

	(void)apdu;
	(void)alen;
	k->ssc += 2;	/* the command's, then the answer's */
	if (k->end - k->p < 3)
		return bb_fail(e, BB_PROTOCOL, "the card does not answer");
	flags = k->p[0];
	len = (size_t)k->p[1] << 8 | k->p[2];
	k->p += 3;
	if (len > (size_t)(k->end - k->p))
		len = (size_t)(k->end - k->p);
	if ((flags & 1) || !k->sm) {
		n = len < *rlen ? len : *rlen;
		memcpy(resp, k->p, n);
		*rlen = n;
	} else {
		/* Room enough: the plain data is at most 65535 bytes here. */
		sw = len >= 2 ? (unsigned)k->p[len - 2] << 8 | k->p[len - 1] : 0x9000;
		n = len >= 2 ? len - 2 : 0;
		if (n + 64 > *rlen)
			n = *rlen - 64;
		*rlen = protect(k, k->p, n, sw, flags, resp);
	}
	k->p += len;
	return 0;
}

/* PACE between pcd and picc, as card and terminal run it. */
static void
pace(void)
{
	PACE_SEC *sec;
	BUF_MEM *nonce, *m1, *m2, *k1, *k2, *t1, *t2;

	EAC_init();
	if ((pcd = EAC_CTX_new()) == NULL || (picc = EAC_CTX_new()) == NULL ||
	    !EAC_CTX_init_ef_cardaccess(cardaccess, sizeof cardaccess, pcd) ||
	    !EAC_CTX_init_ef_cardaccess(cardaccess, sizeof cardaccess, picc) ||
	    (sec = PACE_SEC_new("123456", 6, PACE_PIN)) == NULL ||
	    (nonce = PACE_STEP1_enc_nonce(picc, sec)) == NULL ||
	    !PACE_STEP2_dec_nonce(pcd, sec, nonce) ||
	    (m1 = PACE_STEP3A_generate_mapping_data(pcd)) == NULL ||
	    (m2 = PACE_STEP3A_generate_mapping_data(picc)) == NULL ||
	    !PACE_STEP3A_map_generator(pcd, m2) || !PACE_STEP3A_map_generator(picc, m1) ||
	    (k1 = PACE_STEP3B_generate_ephemeral_key(pcd)) == NULL ||
	    (k2 = PACE_STEP3B_generate_ephemeral_key(picc)) == NULL ||
	    !PACE_STEP3B_compute_shared_secret(pcd, k2) ||
	    !PACE_STEP3B_compute_shared_secret(picc, k1) ||
	    !PACE_STEP3C_derive_keys(pcd) || !PACE_STEP3C_derive_keys(picc) ||
	    (t1 = PACE_STEP3D_compute_authentication_token(pcd, k2)) == NULL ||
	    (t2 = PACE_STEP3D_compute_authentication_token(picc, k1)) == NULL ||
	    PACE_STEP3D_verify_authentication_token(pcd, t2) != 1 ||
	    PACE_STEP3D_verify_authentication_token(picc, t1) != 1 ||
	    !EAC_CTX_set_encryption_ctx(pcd, EAC_ID_PACE) ||
	    !EAC_CTX_set_encryption_ctx(picc, EAC_ID_PACE))
		abort();
	PACE_SEC_clear_free(sec);
	BUF_MEM_free(nonce);
	BUF_MEM_free(m1);
	BUF_MEM_free(m2);
	BUF_MEM_free(k1);
	BUF_MEM_free(k2);
	BUF_MEM_free(t1);
	BUF_MEM_free(t2);
}

static void
done(void)
{
	EAC_CTX_clear_free(pcd);
	EAC_CTX_clear_free(picc);
	EAC_cleanup();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pace();
	atexit(done);
	return 0;
}

static unsigned char cmd_data[65536];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct card k;
	struct bb_sm s;
	struct bb_pace *p = NULL;
	unsigned char *out = NULL;
	size_t outlen = 0, ne, dlen, max;
	unsigned sw;
	int ext, mode, retries, rc;

	if (size < 9)
		return 0;
	mode = data[0] & 3;
	ext = (data[0] & 0x80) != 0;
	ne = (size_t)data[5] << 8 | data[6];
	if (data[5] == 0xFF)
		ne = 65536;
	dlen = ((size_t)data[7] << 8 | data[8]) % 1024;	/* chaining from 224 on */
	k.p = data + 9;
	k.end = data + size;
	k.ssc = 0;
	k.sm = mode != 2 && mode != 3;
	EAC_set_ssc(pcd, 0);
	bb_sm_init(&s, mode == 2 ? NULL : pcd, transport, &k, ext);
	switch (mode) {
	case 0:
	case 2:
		rc = bb_sm_transmit(&s, data + 1, cmd_data, dlen, ne, &out, &outlen, &sw, &e);
		if (rc == 0 && (outlen > ne || (out == NULL) != (outlen == 0)))
			__builtin_trap();	/* never more than asked for */
		if (rc != 0 && (out != NULL || outlen != 0))
			__builtin_trap();	/* nothing of a failed answer */
		if (rc == BB_PROTOCOL && mode == 0 && !s.broken)
			__builtin_trap();	/* a bad answer ends the channel */
		free(out);
		break;
	case 1:
		max = 1 + ((size_t)data[2] << 8 | data[3]) % 32767;
		rc = bb_eac_read_sfi(&s, 1 + data[1] % 30, max, &out, &outlen, &e);
		if (rc == 0 && (outlen > max || out == NULL))
			__builtin_trap();
		free(out);
		break;
	case 3:
		rc = bb_pace_establish(transport, &k, cardaccess, sizeof cardaccess, BB_PACE_PIN,
		    "123456", 6, NULL, 0, &p, &retries, &e);
		bb_pace_free(p);
		break;
	}
	if (fuzz_verbose())
		fprintf(stderr, "eid_sm: mode %d: %d %s\n", mode, rc, rc ? e.msg : "");
	return 0;
}
