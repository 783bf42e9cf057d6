/* lib/eid/readerpace.c: EstablishPACEChannel of PC/SC part 10 amendment 1, the encoding
 * only (no reader with the feature can be attached here). Checked: the input bytes for a
 * PIN on the pad with a CHAT and a certificate description; a full output parsed into its
 * parts; every truncation and every wrong inner length of it refused (76, under ASan
 * without reading past it); the result codes mapped to the person's outcomes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "eid/pace.h"
#include "eid/readerpace.h"
#include "exit.h"

static void
input(void **state)
{
	static const unsigned char chat[] = { 0x7F, 0x4C, 0x02, 0xAA, 0xBB };
	static const unsigned char desc[] = { 0x30, 0x01, 0x00 };
	static const unsigned char want[] = {
		0x02, 0x0D, 0x00,		/* EstablishPACEChannel, 13 bytes follow */
		0x03,				/* PinID: PIN */
		0x05, 0x7F, 0x4C, 0x02, 0xAA, 0xBB,	/* CHAT */
		0x00,				/* no PIN: on the pad */
		0x03, 0x00, 0x30, 0x01, 0x00,	/* certificate description */
	};
	unsigned char out[64];
	struct bb_err e = { 0, "" };
	size_t len;

	(void)state;
	assert_int_equal(bb_reader_pace_input(BB_PACE_PIN, chat, sizeof chat, NULL, 0, desc,
	    sizeof desc, out, sizeof out, &len, &e), 0);
	assert_int_equal(len, sizeof want);
	assert_memory_equal(out, want, sizeof want);
	/* Too little room, a bad password reference: refused, nothing written past room. */
	assert_int_equal(bb_reader_pace_input(BB_PACE_PIN, chat, sizeof chat, NULL, 0, desc,
	    sizeof desc, out, sizeof want - 1, &len, &e), BB_USAGE);
	assert_int_equal(bb_reader_pace_input(9, NULL, 0, NULL, 0, NULL, 0, out, sizeof out,
	    &len, &e), BB_USAGE);
}

/* A successful output: result 0, MSE:Set AT 9000, EF.CardAccess of 3 bytes, CARs
 * "DECVCAeID00001" and none, IDicc of 4 bytes. */
static size_t
good_output(unsigned char *b)
{
	static const char car[] = "DECVCAeID00001";
	size_t n = 0, body;

	memset(b, 0, 6);
	n = 6;
	b[n++] = 0x90;
	b[n++] = 0x00;
	b[n++] = 3;
	b[n++] = 0;
	b[n++] = 0x31;
	b[n++] = 0x01;
	b[n++] = 0x00;
	b[n++] = (unsigned char)strlen(car);
	memcpy(b + n, car, strlen(car));
	n += strlen(car);
	b[n++] = 0;
	b[n++] = 4;
	b[n++] = 0;
	memcpy(b + n, "\x04\x01\x02\x03", 4);
	n += 4;
	body = n - 6;
	b[4] = (unsigned char)body;
	b[5] = (unsigned char)(body >> 8);
	return n;
}

static void
output(void **state)
{
	unsigned char b[128], *copy;
	struct bb_reader_pace o;
	struct bb_err e = { 0, "" };
	size_t n = good_output(b), cut;

	(void)state;
	assert_int_equal(bb_reader_pace_output(b, n, &o, &e), 0);
	assert_int_equal(o.result, 0);
	assert_int_equal(o.mse_sw, 0x9000);
	assert_int_equal(o.card_access_len, 3);
	assert_string_equal(o.car, "DECVCAeID00001");
	assert_string_equal(o.car_prev, "");
	assert_int_equal(o.id_icc_len, 4);
	assert_memory_equal(o.id_icc, "\x04\x01\x02\x03", 4);
	bb_reader_pace_free(&o);
	/* Every truncation, with the outer length made to agree, and every inner length one
	 * too long: refused, but for the cut right after EF.CardAccess (13 bytes), which is
	 * a whole answer without the parts for TA. Copies of exactly the size, so ASan sees
	 * any read past them. */
	for (cut = 0; cut < n; cut++) {
		int rc;

		copy = malloc(cut ? cut : 1);
		memcpy(copy, b, cut);
		if (cut >= 6) {
			copy[4] = (unsigned char)(cut - 6);
			copy[5] = 0;
		}
		rc = bb_reader_pace_output(copy, cut, &o, &e);
		if (cut == 13) {
			assert_int_equal(rc, 0);
			assert_null(o.id_icc);
			bb_reader_pace_free(&o);
		} else
			assert_int_equal(rc, BB_PROTOCOL);
		free(copy);
	}
	{
		/* The lengths of EF.CardAccess, CARcurr, CARprev, IDicc. */
		static const size_t lens[] = { 8, 13, 28, 29 };
		size_t i;

		for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			n = good_output(b);
			b[lens[i]]++;
			copy = malloc(n);
			memcpy(copy, b, n);
			assert_int_equal(bb_reader_pace_output(copy, n, &o, &e), BB_PROTOCOL);
			free(copy);
		}
	}
}

static void
results(void **state)
{
	static const struct {
		unsigned long code;
		int status, retries;
	} t[] = {
		{ 0xF00663C2UL, BB_WRONG_SECRET, 2 },
		{ 0xF00663C1UL, BB_WRONG_SECRET, 1 },
		{ 0xF00263C1UL, BB_DOC_BLOCKED, 1 },
		{ 0xF00263C0UL, BB_DOC_BLOCKED, 0 },
		{ 0xF0036983UL, BB_DOC_BLOCKED, 0 },
		{ 0xF0026283UL, BB_DOC_BLOCKED, -1 },
		{ 0xF0200001UL, BB_CANCELLED, -1 },
		{ 0xF0200002UL, BB_CANCELLED, -1 },
		{ 0xF0100001UL, BB_CANCELLED, -1 },
		{ 0xF0100002UL, BB_UNAVAILABLE, -1 },
		{ 0xE0000006UL, BB_PROTOCOL, -1 },
		{ 0xD0000001UL, BB_PROTOCOL, -1 },
		{ 0xF0046A80UL, BB_PROTOCOL, -1 },
	};
	struct bb_reader_pace o;
	struct bb_err e = { 0, "" };
	size_t i;
	int retries;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		memset(&o, 0, sizeof o);
		o.result = t[i].code;
		assert_int_equal(bb_reader_pace_result(&o, &retries, &e), t[i].status);
		assert_int_equal(retries, t[i].retries);
		assert_true(e.msg[0] != '\0');
	}
	memset(&o, 0, sizeof o);
	o.mse_sw = 0x63C2;
	assert_int_equal(bb_reader_pace_result(&o, &retries, &e), 0);
	assert_int_equal(retries, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(input),
		cmocka_unit_test(output),
		cmocka_unit_test(results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
