/* lib/crypto.c: base64 against the RFC 4648 section 10 vectors and its strictness
 * (length, alphabet, padding, whitespace), round trips of random data including sizes
 * past the 3 MiB chunk of the encoder, SHA-512 against the FIPS 180-2 values, and the
 * shape of bb_uuid_v4. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

static const struct {
	const char *plain, *b64;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
base64_encode_rfc4648(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rfc4648); i++) {
		char *s = bb_base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));
		assert_non_null(s);
		assert_string_equal(s, rfc4648[i].b64);
		free(s);
	}
}

static void
base64_decode_rfc4648(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(rfc4648); i++) {
		const char *b = rfc4648[i].b64;
		unsigned char *d;

		len = 12345;
		d = bb_base64_decode(b, strlen(b), &len);
		assert_non_null(d);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(d, rfc4648[i].plain, len);
		free(d);
	}
}

/* Binary data with every byte value, including NUL, survives. */
static void
base64_all_bytes(void **state)
{
	unsigned char in[256], *out;
	size_t i, len;
	char *s;

	(void)state;
	for (i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)i;
	s = bb_base64_encode(in, sizeof in);
	assert_non_null(s);
	assert_int_equal(strlen(s), 4 * ((sizeof in + 2) / 3));
	/* Standard alphabet: '+' and '/', never the URL-safe '-' and '_'. */
	assert_non_null(strchr(s, '+'));
	assert_non_null(strchr(s, '/'));
	assert_null(strpbrk(s, "-_\n\r "));
	out = bb_base64_decode(s, strlen(s), &len);
	assert_non_null(out);
	assert_int_equal(len, sizeof in);
	assert_memory_equal(out, in, sizeof in);
	free(out);
	free(s);
}

static void
assert_rejected(const char *s)
{
	size_t len = 0;
	unsigned char *d = bb_base64_decode(s, strlen(s), &len);

	if (d != NULL) {
		free(d);
		fail_msg("base64 '%s' was accepted", s);
	}
}

static void
base64_decode_rejects_bad_length(void **state)
{
	(void)state;
	assert_rejected("Z");
	assert_rejected("Zg");		/* padding is required */
	assert_rejected("Zg=");
	assert_rejected("Zm9");
	assert_rejected("Zm9vY");
	assert_rejected("Zm9vYmFy=");
}

static void
base64_decode_rejects_bad_characters(void **state)
{
	(void)state;
	assert_rejected("Zm9*");
	assert_rejected("Zm9v!mFy");
	assert_rejected("Zm9-");	/* URL-safe alphabet is not standard base64 */
	assert_rejected("Zm9_");
	assert_rejected("Zm\xc3\xa4v");
	assert_rejected("Zm9.");
}

static void
base64_decode_rejects_misplaced_padding(void **state)
{
	(void)state;
	assert_rejected("====");
	assert_rejected("Z===");
	assert_rejected("=m9v");
	assert_rejected("Zm=v");
	assert_rejected("Zg=a");
	assert_rejected("Zg==Zm9v");	/* padding in the middle */
	assert_rejected("Zm9vZ===");
}

static void
base64_decode_rejects_whitespace(void **state)
{
	(void)state;
	assert_rejected("Zm9v YmFy");
	assert_rejected("Zm9vYmF ");
	assert_rejected(" Zm9vYmF");
	assert_rejected("Zm9v\nYmFy");
	assert_rejected("Zm9v\r\nYm");
	assert_rejected("Zm9v\tYmFy");
	assert_rejected("Zm9vYmFy\n");	/* a trailing newline too */
}

/* A NUL inside the given length is a bad character, not the end of the input. */
static void
base64_decode_rejects_embedded_nul(void **state)
{
	static const char s[] = "Zm9v\0mFy";
	size_t len;
	unsigned char *d;

	(void)state;
	d = bb_base64_decode(s, sizeof s - 1, &len);
	assert_null(d);
	free(d);
}

static void
round_trip(size_t n)
{
	unsigned char *in = malloc(n ? n : 1), *out;
	size_t len = 0;
	char *s;

	assert_non_null(in);
	assert_int_equal(bb_random(in, n), 0);
	s = bb_base64_encode(in, n);
	assert_non_null(s);
	assert_int_equal(strlen(s), 4 * ((n + 2) / 3));
	out = bb_base64_decode(s, strlen(s), &len);
	assert_non_null(out);
	assert_int_equal(len, n);
	if (n > 0 && memcmp(out, in, n) != 0)
		fail_msg("round trip of %zu bytes changed the data", n);
	free(out);
	free(s);
	free(in);
}

static void
base64_round_trip_small(void **state)
{
	size_t n;

	(void)state;
	for (n = 0; n <= 70; n++)
		round_trip(n);
	round_trip(1000);
	round_trip(65537);
}

/* The encoder works in 3 MiB and the decoder in 4 MiB pieces: sizes at and around the
 * boundary, and several pieces with each padding. */
static void
base64_round_trip_large(void **state)
{
	const size_t chunk = 3u << 20;

	(void)state;
	round_trip(chunk - 1);
	round_trip(chunk);
	round_trip(chunk + 1);
	round_trip(chunk + 2);
	round_trip(chunk + 3);
	round_trip(2 * chunk + 1);
	round_trip(7u << 20);
}

/* Independent check of a multi-chunk encoding: the output of a large input equals the
 * concatenation of the encodings of its 3-byte-aligned pieces. */
static void
base64_large_equals_pieces(void **state)
{
	const size_t n = (3u << 20) + 5;
	unsigned char *in = malloc(n);
	char *whole, *a, *b;
	size_t cut = 3u << 19;	/* a multiple of 3 well inside the first chunk */

	(void)state;
	assert_non_null(in);
	assert_int_equal(bb_random(in, n), 0);
	whole = bb_base64_encode(in, n);
	a = bb_base64_encode(in, cut);
	b = bb_base64_encode(in + cut, n - cut);
	assert_non_null(whole);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(strlen(whole), strlen(a) + strlen(b));
	assert_memory_equal(whole, a, strlen(a));
	assert_string_equal(whole + strlen(a), b);
	free(whole);
	free(a);
	free(b);
	free(in);
}

/* FIPS 180-2, appendix C.1 (one block message "abc"), and the empty message. */
static void
sha512_known_answers(void **state)
{
	char hex[129];

	(void)state;
	assert_int_equal(bb_sha512_hex("abc", 3, hex), 0);
	assert_string_equal(hex,
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	assert_int_equal(bb_sha512_hex("", 0, hex), 0);
	assert_string_equal(hex,
	    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
	/* FIPS 180-2 C.2: the two-block message. */
	assert_int_equal(bb_sha512_hex(
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112, hex), 0);
	assert_string_equal(hex,
	    "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
	    "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void
assert_uuid_v4(const char *u)
{
	size_t i;

	assert_int_equal(strlen(u), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				fail_msg("uuid %s: no '-' at %zu", u, i);
		} else if (!is_lower_hex(u[i])) {
			fail_msg("uuid %s: '%c' at %zu is not lower-case hex", u, u[i], i);
		}
	}
	if (u[14] != '4')
		fail_msg("uuid %s: version nibble is not 4", u);
	if (strchr("89ab", u[19]) == NULL)
		fail_msg("uuid %s: variant nibble is not 8-b", u);
}

static void
uuid_v4_format(void **state)
{
	char a[37], b[37];
	int i;

	(void)state;
	/* Many draws, so a version or variant bit left to chance would show. */
	for (i = 0; i < 200; i++) {
		memset(a, 'X', sizeof a);
		assert_int_equal(bb_uuid_v4(a), 0);
		assert_uuid_v4(a);
	}
	assert_int_equal(bb_uuid_v4(a), 0);
	assert_int_equal(bb_uuid_v4(b), 0);
	assert_string_not_equal(a, b);
}

static void
random_bytes_differ(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(bb_random(a, sizeof a), 0);
	assert_int_equal(bb_random(b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base64_encode_rfc4648),
		cmocka_unit_test(base64_decode_rfc4648),
		cmocka_unit_test(base64_all_bytes),
		cmocka_unit_test(base64_decode_rejects_bad_length),
		cmocka_unit_test(base64_decode_rejects_bad_characters),
		cmocka_unit_test(base64_decode_rejects_misplaced_padding),
		cmocka_unit_test(base64_decode_rejects_whitespace),
		cmocka_unit_test(base64_decode_rejects_embedded_nul),
		cmocka_unit_test(base64_round_trip_small),
		cmocka_unit_test(base64_round_trip_large),
		cmocka_unit_test(base64_large_equals_pieces),
		cmocka_unit_test(sha512_known_answers),
		cmocka_unit_test(uuid_v4_format),
		cmocka_unit_test(random_bytes_differ),
	};

	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
