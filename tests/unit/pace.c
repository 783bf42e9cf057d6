/* lib/eid/pace.c: PACE between the terminal (bb_pace_establish) and a card played by this
 * test with OpenPACE's card-side functions, both in one process, on the real EF.CardAccess
 * of the test card erika (id-PACE-ECDH-GM-AES-CBC-CMAC-128, brainpoolP256r1). The card
 * keeps a PIN retry counter. Checked: the right PIN gives both sides the same secure
 * messaging keys; a wrong PIN is 2 with the retries the card says; suspended and blocked
 * PINs are 3; truncated, garbage and otherwise wrong answers to each General Authenticate
 * are 76 (the terminal parses copies of exactly the answer's size, so ASan sees any read
 * past it); transport failures pass through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <eac/eac.h>
#include <eac/pace.h>
#include <openssl/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "eid/pace.h"
#include "exit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static unsigned char ef[1024];
static size_t eflen;

/* How the card spoils its answer to one General Authenticate. */
enum mangle {
	M_NONE,
	M_TRUNCATE,	/* answer cut in the middle, 9000 */
	M_FIXED,	/* answer replaced by bytes given in the table */
	M_TOKEN,	/* a wrong authentication token (86), 9000 */
};

struct card {
	EAC_CTX *ctx;
	PACE_SEC *sec;
	BUF_MEM *pcd_eph;
	int retries;		/* 3 .. 0 */
	int deactivated;	/* answers 6983 to MSE:Set AT */
	int step;		/* the next General Authenticate, 0 .. 3; -1 before MSE:Set AT */
	unsigned char cla[4];	/* the CLA of each General Authenticate */
	int pwd_ref;
	int chat_seen;
	int transport_fail;	/* fn fails on this APDU (1-based), 0 never */
	int napdu;
	int mangle_step;
	enum mangle mangle;
	const unsigned char *fixed;
	size_t fixed_len;
	const char *car;	/* 87 in the last answer */
};

static void
card_init(struct card *c)
{
	memset(c, 0, sizeof *c);
	c->retries = 3;
	c->step = -1;
	c->mangle_step = -1;
	c->car = "DECVCAeID00001";
	c->sec = PACE_SEC_new("123456", 6, PACE_PIN);
	assert_non_null(c->sec);
}

static void
card_free(struct card *c)
{
	EAC_CTX_clear_free(c->ctx);
	PACE_SEC_clear_free(c->sec);
	BUF_MEM_free(c->pcd_eph);
}

static int
sw_only(unsigned char *resp, size_t *rlen, unsigned sw)
{
	assert_true(*rlen >= 2);
	resp[0] = (unsigned char)(sw >> 8);
	resp[1] = (unsigned char)sw;
	*rlen = 2;
	return 0;
}

/* 7C { tag value [87 car] } 9000 (all short here: keys of 65 bytes). */
static int
dad_answer(unsigned char *resp, size_t *rlen, unsigned tag, const BUF_MEM *v,
    const char *car)
{
	size_t n = 0, inner = 2 + v->length + (car ? 2 + strlen(car) : 0);

	assert_true(inner < 0x80);
	assert_true(*rlen >= inner + 4);
	resp[n++] = 0x7C;
	resp[n++] = (unsigned char)inner;
	resp[n++] = (unsigned char)tag;
	resp[n++] = (unsigned char)v->length;
	memcpy(resp + n, v->data, v->length);
	n += v->length;
	if (car) {
		resp[n++] = 0x87;
		resp[n++] = (unsigned char)strlen(car);
		memcpy(resp + n, car, strlen(car));
		n += strlen(car);
	}
	resp[n++] = 0x90;
	resp[n++] = 0x00;
	*rlen = n;
	return 0;
}

/* The value of the single object inside 7C of a command (our own terminal's, but still
 * checked), or NULL for an empty 7C. */
static BUF_MEM *
cmd_value(const unsigned char *d, size_t len, unsigned want)
{
	size_t l, i = 0, vl;

	assert_true(len >= 2);
	assert_int_equal(d[i++], 0x7C);
	l = d[i++];
	if (l == 0x81)
		l = d[i++];
	assert_int_equal(l, len - i);
	if (l == 0)
		return NULL;
	assert_int_equal(d[i++], want);
	vl = d[i++];
	if (vl == 0x81)
		vl = d[i++];
	assert_int_equal(vl, len - i);
	BUF_MEM *b = BUF_MEM_new();
	assert_non_null(b);
	assert_true(BUF_MEM_grow(b, vl) != 0 || vl == 0);
	memcpy(b->data, d + i, vl);
	b->length = vl;
	return b;
}

static int
card_mse(struct card *c, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen)
{
	size_t lc, i;

	assert_true(len >= 5);
	assert_int_equal(apdu[2], 0xC1);
	assert_int_equal(apdu[3], 0xA4);
	lc = apdu[4];
	assert_int_equal(len, 5 + lc);	/* case 3: no Le */
	/* 80 protocol: the PACE OID of EF.CardAccess. */
	static const unsigned char oid[] = { 0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02,
		0x04, 0x02, 0x02 };
	assert_true(lc >= sizeof oid + 3);
	assert_memory_equal(apdu + 5, oid, sizeof oid);
	i = 5 + sizeof oid;
	assert_int_equal(apdu[i], 0x83);
	assert_int_equal(apdu[i + 1], 0x01);
	c->pwd_ref = apdu[i + 2];
	i += 3;
	c->chat_seen = i + 2 <= len && apdu[i] == 0x7F && apdu[i + 1] == 0x4C;

	EAC_CTX_clear_free(c->ctx);
	BUF_MEM_free(c->pcd_eph);
	c->pcd_eph = NULL;
	c->ctx = EAC_CTX_new();
	assert_non_null(c->ctx);
	assert_int_equal(EAC_CTX_init_ef_cardaccess(ef, eflen, c->ctx), 1);
	c->step = 0;
	if (c->deactivated)
		return sw_only(resp, rlen, 0x6983);
	if (c->pwd_ref != PACE_PIN || c->retries == 3)
		return sw_only(resp, rlen, 0x9000);
	return sw_only(resp, rlen, 0x63C0 | (unsigned)c->retries);
}

static int
card_ga(struct card *c, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen)
{
	static const unsigned tags[] = { 0x00, 0x81, 0x83, 0x85 };
	BUF_MEM *in, *out = NULL;
	int step = c->step, ok;
	size_t lc;

	if (step < 0 || step > 3)
		return sw_only(resp, rlen, 0x6985);
	assert_true(len >= 6);
	c->cla[step] = apdu[0];
	lc = apdu[4];
	assert_int_equal(len, 5 + lc + 1);	/* case 4 with Le 00 */
	assert_int_equal(apdu[len - 1], 0x00);
	in = cmd_value(apdu + 5, lc, tags[step]);
	c->step++;
	switch (step) {
	case 0:
		assert_null(in);
		out = PACE_STEP1_enc_nonce(c->ctx, c->sec);
		assert_non_null(out);
		dad_answer(resp, rlen, 0x80, out, NULL);
		break;
	case 1:
		assert_non_null(in);
		out = PACE_STEP3A_generate_mapping_data(c->ctx);
		assert_non_null(out);
		assert_int_equal(PACE_STEP3A_map_generator(c->ctx, in), 1);
		dad_answer(resp, rlen, 0x82, out, NULL);
		break;
	case 2:
		assert_non_null(in);
		out = PACE_STEP3B_generate_ephemeral_key(c->ctx);
		assert_non_null(out);
		assert_int_equal(PACE_STEP3B_compute_shared_secret(c->ctx, in), 1);
		assert_int_equal(PACE_STEP3C_derive_keys(c->ctx), 1);
		c->pcd_eph = in;
		in = NULL;
		dad_answer(resp, rlen, 0x84, out, NULL);
		break;
	case 3:
		assert_non_null(in);
		ok = PACE_STEP3D_verify_authentication_token(c->ctx, in);
		if (ok != 1) {
			BUF_MEM_free(in);
			c->step = -1;
			if (c->pwd_ref == PACE_PIN && c->retries > 0) {
				c->retries--;
				return sw_only(resp, rlen, 0x63C0 | (unsigned)c->retries);
			}
			return sw_only(resp, rlen, 0x6300);
		}
		if (c->pwd_ref == PACE_PIN)
			c->retries = 3;
		out = PACE_STEP3D_compute_authentication_token(c->ctx, c->pcd_eph);
		assert_non_null(out);
		if (c->mangle == M_TOKEN && c->mangle_step == 3)
			out->data[0] ^= 0x01;
		dad_answer(resp, rlen, 0x86, out, c->car);
		assert_int_equal(EAC_CTX_set_encryption_ctx(c->ctx, EAC_ID_PACE), 1);
		break;
	}
	BUF_MEM_free(in);
	BUF_MEM_free(out);
	if (step == c->mangle_step) {
		if (c->mangle == M_TRUNCATE) {
			/* Keep the first half of the data, then 9000. */
			size_t half = (*rlen - 2) / 2;
			resp[half] = 0x90;
			resp[half + 1] = 0x00;
			*rlen = half + 2;
		} else if (c->mangle == M_FIXED) {
			assert_true(*rlen >= c->fixed_len);
			memcpy(resp, c->fixed, c->fixed_len);
			*rlen = c->fixed_len;
		}
	}
	return 0;
}

static int
card_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen, struct bb_err *e)
{
	struct card *c = arg;

	c->napdu++;
	if (c->transport_fail == c->napdu)
		return bb_fail(e, BB_UNAVAILABLE, "the card was taken away");
	assert_true(len >= 4);
	if (apdu[1] == 0x22)
		return card_mse(c, apdu, len, resp, rlen);
	if (apdu[1] == 0x86)
		return card_ga(c, apdu, len, resp, rlen);
	return sw_only(resp, rlen, 0x6D00);
}

static int
setup(void **state)
{
	const char *top = getenv("BB_TOP");
	char path[4096];
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/tests/rig/cards/erika/011C", top ? top : ".");
	if ((f = fopen(path, "rb")) == NULL && (f = fopen("tests/rig/cards/erika/011C", "rb")) == NULL)
		return -1;
	eflen = fread(ef, 1, sizeof ef, f);
	fclose(f);
	EAC_init();
	return eflen > 0 && eflen < sizeof ef ? 0 : -1;
}

static struct bb_pace *
establish(struct card *c, const char *pin, int *rc, int *retries, struct bb_err *e)
{
	struct bb_pace *p = (struct bb_pace *)1;

	memset(e, 0, sizeof *e);
	*rc = bb_pace_establish(card_apdu, c, ef, eflen, BB_PACE_PIN, pin, strlen(pin), NULL, 0,
	    &p, retries, e);
	if (*rc != 0)
		assert_null(p);
	return p;
}

static BUF_MEM *
block(const char *s)
{
	BUF_MEM *b = BUF_MEM_new();

	assert_non_null(b);
	assert_true(BUF_MEM_grow(b, strlen(s)) != 0);
	memcpy(b->data, s, strlen(s));
	b->length = strlen(s);
	return b;
}

static void
right_pin_same_keys(void **state)
{
	struct card c;
	struct bb_err e;
	struct bb_pace *p;
	int rc, retries;

	(void)state;
	card_init(&c);
	p = establish(&c, "123456", &rc, &retries, &e);
	assert_int_equal(rc, 0);
	assert_non_null(p);
	assert_int_equal(retries, 3);
	assert_int_equal(c.pwd_ref, 3);
	/* Chaining: CLA 10 for all but the last General Authenticate. */
	assert_int_equal(c.cla[0], 0x10);
	assert_int_equal(c.cla[1], 0x10);
	assert_int_equal(c.cla[2], 0x10);
	assert_int_equal(c.cla[3], 0x00);
	assert_string_equal(p->car, "DECVCAeID00001");
	assert_string_equal(p->car_prev, "");
	assert_int_equal(p->picc_pub_len, 65);
	assert_int_equal(p->picc_pub[0], 0x04);

	/* The same block encrypted on both sides gives the same bytes (K_enc and SSC). */
	BUF_MEM *plain = block("an APDU for secure messaging"), *pt, *pc, *ct, *cc, *mac;
	pt = EAC_add_iso_pad(p->ctx, plain);
	pc = EAC_add_iso_pad(c.ctx, plain);
	assert_non_null(pt);
	assert_non_null(pc);
	assert_int_equal(pt->length % 16, 0);
	ct = EAC_encrypt(p->ctx, pt);
	cc = EAC_encrypt(c.ctx, pc);
	assert_non_null(ct);
	assert_non_null(cc);
	assert_int_equal(ct->length, cc->length);
	assert_memory_equal(ct->data, cc->data, ct->length);
	assert_memory_not_equal(ct->data, pt->data, pt->length);
	/* A MAC by the terminal verifies on the card (K_mac), a changed one does not. */
	mac = EAC_authenticate(p->ctx, pt);
	assert_non_null(mac);
	assert_int_equal(mac->length, 8);
	assert_int_equal(EAC_verify_authentication(c.ctx, pt, mac), 1);
	mac->data[7] ^= 0x80;
	assert_int_not_equal(EAC_verify_authentication(c.ctx, pt, mac), 1);
	/* And the card decrypts what the terminal encrypted. */
	BUF_MEM *back = EAC_decrypt(c.ctx, ct);
	assert_non_null(back);
	assert_memory_equal(back->data, pt->data, pt->length);
	BUF_MEM_free(back);
	BUF_MEM_free(mac);
	BUF_MEM_free(ct);
	BUF_MEM_free(cc);
	BUF_MEM_free(pt);
	BUF_MEM_free(pc);
	BUF_MEM_free(plain);
	bb_pace_free(p);
	card_free(&c);
}

static void
chat_is_sent(void **state)
{
	static const unsigned char chat[] = { 0x7F, 0x4C, 0x12, 0x06, 0x09, 0x04, 0x00, 0x7F,
		0x00, 0x07, 0x03, 0x01, 0x02, 0x02, 0x53, 0x05, 0x00, 0x00, 0x00, 0x01, 0x10 };
	struct card c;
	struct bb_err e = { 0, "" };
	struct bb_pace *p = NULL;
	int retries, rc;

	(void)state;
	card_init(&c);
	rc = bb_pace_establish(card_apdu, &c, ef, eflen, BB_PACE_PIN, "123456", 6, chat,
	    sizeof chat, &p, &retries, &e);
	assert_int_equal(rc, 0);
	assert_true(c.chat_seen);
	bb_pace_free(p);
	card_free(&c);
}

static void
wrong_pin_then_right(void **state)
{
	struct card c;
	struct bb_err e;
	struct bb_pace *p;
	int rc, retries;

	(void)state;
	card_init(&c);
	p = establish(&c, "654321", &rc, &retries, &e);
	assert_int_equal(rc, BB_WRONG_SECRET);
	assert_int_equal(e.status, BB_WRONG_SECRET);
	assert_int_equal(retries, 2);
	assert_non_null(strstr(e.msg, "2 retries left"));
	assert_null(strstr(e.msg, "654321"));
	assert_int_equal(c.retries, 2);

	/* MSE:Set AT now says 63C2; the right PIN still works and resets the counter. */
	p = establish(&c, "123456", &rc, &retries, &e);
	assert_int_equal(rc, 0);
	assert_non_null(p);
	assert_int_equal(retries, 2);
	assert_int_equal(c.retries, 3);
	bb_pace_free(p);
	card_free(&c);
}

static void
suspended_and_blocked(void **state)
{
	struct card c;
	struct bb_err e;
	struct bb_pace *p;
	int rc, retries;

	(void)state;
	card_init(&c);
	/* Two wrong tries: 2, then 1 left; the third MSE:Set AT says suspended (63C1). */
	p = establish(&c, "000000", &rc, &retries, &e);
	assert_int_equal(rc, BB_WRONG_SECRET);
	assert_int_equal(retries, 2);
	p = establish(&c, "000000", &rc, &retries, &e);
	assert_int_equal(rc, BB_WRONG_SECRET);
	assert_int_equal(retries, 1);
	p = establish(&c, "123456", &rc, &retries, &e);
	assert_int_equal(rc, BB_DOC_BLOCKED);
	assert_null(p);
	assert_int_equal(retries, 1);
	assert_int_equal(c.napdu, 5 + 5 + 1);	/* no General Authenticate after 63C1 */

	c.retries = 0;
	p = establish(&c, "123456", &rc, &retries, &e);
	assert_int_equal(rc, BB_DOC_BLOCKED);
	assert_int_equal(retries, 0);

	/* 6983 to MSE:Set AT: blocked or deactivated. */
	c.retries = 3;
	c.deactivated = 1;
	c.napdu = 0;
	p = establish(&c, "123456", &rc, &retries, &e);
	assert_int_equal(rc, BB_DOC_BLOCKED);
	assert_int_equal(e.status, BB_DOC_BLOCKED);
	assert_null(p);
	assert_int_equal(c.napdu, 1);
	card_free(&c);
}

static void
wrong_can_6300(void **state)
{
	struct card c;
	struct bb_err e = { 0, "" };
	struct bb_pace *p = NULL;
	int rc, retries;

	(void)state;
	card_init(&c);
	/* The card's secret is the PIN "123456"; a CAN run with another secret fails at the
	 * last step with 6300 (the card keeps no counter for the CAN). */
	PACE_SEC_clear_free(c.sec);
	c.sec = PACE_SEC_new("500540", 6, PACE_CAN);
	rc = bb_pace_establish(card_apdu, &c, ef, eflen, BB_PACE_CAN, "111111", 6, NULL, 0, &p,
	    &retries, &e);
	assert_int_equal(rc, BB_WRONG_SECRET);
	assert_int_equal(retries, -1);
	assert_null(p);
	rc = bb_pace_establish(card_apdu, &c, ef, eflen, BB_PACE_CAN, "500540", 6, NULL, 0, &p,
	    &retries, &e);
	assert_int_equal(rc, 0);
	assert_int_equal(retries, -1);
	bb_pace_free(p);
	card_free(&c);
}

static const unsigned char junk[] = { 0xDE, 0xAD, 0xBE, 0xEF, 0x90, 0x00 };
static const unsigned char over[] = { 0x7C, 0x10, 0x80, 0x0E, 0x01, 0x02, 0x90, 0x00 };
static const unsigned char over_inner[] = { 0x7C, 0x04, 0x80, 0x7F, 0x01, 0x02, 0x90, 0x00 };
static const unsigned char big_len[] = { 0x7C, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x90, 0x00 };
static const unsigned char big_len2[] = { 0x7C, 0x82, 0xFF, 0xFF, 0x80, 0x00, 0x90, 0x00 };
static const unsigned char indef[] = { 0x7C, 0x80, 0x80, 0x01, 0x00, 0x00, 0x00, 0x90, 0x00 };
static const unsigned char len_cut[] = { 0x7C, 0x82, 0x01, 0x90, 0x00 };
static const unsigned char tag_cut[] = { 0x7C, 0x02, 0x7F, 0x80, 0x90, 0x00 };
static const unsigned char long_tag[] = { 0x7C, 0x06, 0x7F, 0x81, 0x82, 0x83, 0x01, 0x00,
	0x90, 0x00 };
static const unsigned char empty_7c[] = { 0x7C, 0x00, 0x90, 0x00 };
static const unsigned char tail[] = { 0x7C, 0x03, 0x80, 0x01, 0x00, 0x00, 0x90, 0x00 };
static const unsigned char dup[] = { 0x7C, 0x06, 0x80, 0x01, 0x00, 0x80, 0x01, 0x00,
	0x90, 0x00 };
static const unsigned char small_nonce[] = { 0x7C, 0x03, 0x80, 0x01, 0x00, 0x90, 0x00 };
static const unsigned char no_data[] = { 0x90, 0x00 };
static const unsigned char sw_half[] = { 0x90 };
static const unsigned char nothing[] = { 0x00 };	/* fixed_len 0 */
static const unsigned char odd_sw[] = { 0x6A, 0x80 };
static const unsigned char bad_point[] = { 0x7C, 0x07, 0x82, 0x05, 0x04, 0x01, 0x02, 0x03,
	0x04, 0x90, 0x00 };
static const unsigned char bad_point4[] = { 0x7C, 0x07, 0x84, 0x05, 0x04, 0x01, 0x02, 0x03,
	0x04, 0x90, 0x00 };

static void
malformed_answers(void **state)
{
	static const struct {
		int step;
		enum mangle how;
		const unsigned char *fixed;
		size_t len;
	} cases[] = {
		{ 0, M_TRUNCATE, NULL, 0 }, { 1, M_TRUNCATE, NULL, 0 },
		{ 2, M_TRUNCATE, NULL, 0 }, { 3, M_TRUNCATE, NULL, 0 },
		{ 3, M_TOKEN, NULL, 0 },
		{ 0, M_FIXED, junk, sizeof junk }, { 1, M_FIXED, junk, sizeof junk },
		{ 2, M_FIXED, junk, sizeof junk }, { 3, M_FIXED, junk, sizeof junk },
		{ 0, M_FIXED, over, sizeof over }, { 0, M_FIXED, over_inner, sizeof over_inner },
		{ 0, M_FIXED, big_len, sizeof big_len }, { 0, M_FIXED, big_len2, sizeof big_len2 },
		{ 0, M_FIXED, indef, sizeof indef }, { 0, M_FIXED, len_cut, sizeof len_cut },
		{ 0, M_FIXED, tag_cut, sizeof tag_cut }, { 0, M_FIXED, long_tag, sizeof long_tag },
		{ 0, M_FIXED, empty_7c, sizeof empty_7c }, { 1, M_FIXED, empty_7c, sizeof empty_7c },
		{ 2, M_FIXED, empty_7c, sizeof empty_7c }, { 3, M_FIXED, empty_7c, sizeof empty_7c },
		{ 0, M_FIXED, tail, sizeof tail }, { 0, M_FIXED, dup, sizeof dup },
		{ 0, M_FIXED, small_nonce, sizeof small_nonce },
		{ 0, M_FIXED, no_data, sizeof no_data }, { 3, M_FIXED, no_data, sizeof no_data },
		{ 1, M_FIXED, sw_half, sizeof sw_half }, { 2, M_FIXED, nothing, 0 },
		{ 1, M_FIXED, odd_sw, sizeof odd_sw },
		{ 1, M_FIXED, bad_point, sizeof bad_point },
		{ 2, M_FIXED, bad_point4, sizeof bad_point4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct card c;
		struct bb_err e;
		struct bb_pace *p;
		int rc, retries;
		unsigned char *copy;

		card_init(&c);
		c.mangle_step = cases[i].step;
		c.mangle = cases[i].how;
		/* The fixed answer from the heap, exactly sized, as the card would leave it. */
		copy = malloc(cases[i].len ? cases[i].len : 1);
		assert_non_null(copy);
		if (cases[i].len)
			memcpy(copy, cases[i].fixed, cases[i].len);
		c.fixed = copy;
		c.fixed_len = cases[i].len;
		p = establish(&c, "123456", &rc, &retries, &e);
		if (rc != BB_PROTOCOL)
			print_error("case %zu: status %d (%s)\n", i, rc, e.msg);
		assert_int_equal(rc, BB_PROTOCOL);
		assert_int_equal(e.status, BB_PROTOCOL);
		assert_null(p);
		free(copy);
		card_free(&c);
	}
}

/* A CAR (87) in the last answer that is not printable, or too long for bb_pace. */
static void
malformed_car(void **state)
{
	static const char *const cars[] = { "DECVCA\001eID00001",
		"DECVCAeID00001DECVCAeID00001DECVCAeID00001" };
	struct card c;
	struct bb_err e;
	struct bb_pace *p;
	int rc, retries;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cars); i++) {
		card_init(&c);
		c.car = cars[i];
		p = establish(&c, "123456", &rc, &retries, &e);
		assert_int_equal(rc, BB_PROTOCOL);
		assert_null(p);
		card_free(&c);
	}
}

static void
transport_and_arguments(void **state)
{
	struct card c;
	struct bb_err e;
	struct bb_pace *p;
	int rc, retries, n;
	static const unsigned char notca[] = { 0x31, 0x03, 0x02, 0x01, 0x00 };

	(void)state;
	for (n = 1; n <= 5; n++) {
		card_init(&c);
		c.transport_fail = n;
		p = establish(&c, "123456", &rc, &retries, &e);
		assert_int_equal(rc, BB_UNAVAILABLE);
		assert_string_equal(e.msg, "the card was taken away");
		assert_null(p);
		card_free(&c);
	}
	card_init(&c);
	memset(&e, 0, sizeof e);
	p = NULL;
	rc = bb_pace_establish(card_apdu, &c, notca, sizeof notca, BB_PACE_PIN, "123456", 6, NULL,
	    0, &p, &retries, &e);
	assert_int_equal(rc, BB_PROTOCOL);
	assert_int_equal(c.napdu, 0);
	rc = bb_pace_establish(card_apdu, &c, ef, eflen, 5, "123456", 6, NULL, 0, &p, &retries, &e);
	assert_int_equal(rc, BB_USAGE);
	rc = bb_pace_establish(card_apdu, &c, ef, eflen, BB_PACE_PIN, "123456", 6, NULL, 3, &p,
	    &retries, &e);
	assert_int_equal(rc, BB_USAGE);
	assert_null(p);
	bb_pace_free(NULL);
	card_free(&c);
}

/* EF.CardAccess with domain parameters that are not standardized (a parameter that is
 * not an INTEGER, an unknown parameter id) in the Chip Authentication domain parameter
 * info: refused with 76 before OpenPACE sees it and before any APDU. OpenPACE 1.1.2 frees a
 * key it leaves in the context on such infos; freeing the context then hung (found by
 * fuzzing, tests/fuzz/crashes/eid_cardsec). The last info of erika's EF.CardAccess is that
 * info; its parameter is the INTEGER 13 at the end (02 01 0D 02 01 41). */
static void
nonstandard_domain_parameters(void **state)
{
	static const unsigned char param[][3] = { { 0x0D, 0x01, 0x02 }, { 0x02, 0x01, 99 },
		{ 0x02, 0x01, 5 } };
	unsigned char bad[sizeof ef];
	struct card c;
	struct bb_err e;
	struct bb_pace *p;
	int rc, retries;
	size_t i;

	(void)state;
	assert_memory_equal(ef + eflen - 6, "\x02\x01\x0D\x02\x01\x41", 6);
	for (i = 0; i < NELEM(param); i++) {
		memcpy(bad, ef, eflen);
		memcpy(bad + eflen - 6, param[i], 3);
		card_init(&c);
		memset(&e, 0, sizeof e);
		p = NULL;
		rc = bb_pace_establish(card_apdu, &c, bad, eflen, BB_PACE_PIN, "123456", 6, NULL,
		    0, &p, &retries, &e);
		assert_int_equal(rc, BB_PROTOCOL);
		assert_int_equal(c.napdu, 0);
		assert_null(p);
		rc = bb_pace_from_reader(bad, eflen, (const unsigned char *)"\x04", 1, "", "", &p,
		    &e);
		assert_int_equal(rc, BB_PROTOCOL);
		assert_null(p);
		card_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(right_pin_same_keys),
		cmocka_unit_test(chat_is_sent),
		cmocka_unit_test(wrong_pin_then_right),
		cmocka_unit_test(suspended_and_blocked),
		cmocka_unit_test(wrong_can_6300),
		cmocka_unit_test(malformed_answers),
		cmocka_unit_test(malformed_car),
		cmocka_unit_test(transport_and_arguments),
		cmocka_unit_test(nonstandard_domain_parameters),
	};

	return cmocka_run_group_tests_name("pace", tests, setup, NULL);
}
