/* lib/eid/dg.c: the test card erika's data groups give the values of
 * scripts/examples/identity.json; hand-built DER for each variant (structured, free-text
 * and no-place DG9 and DG17, partial dates of birth, 3-letter country codes, community
 * ids, residence permit lines); every kind of malformed DER is 76, sets nothing, and its
 * message names the DG but holds no byte of the value (space aside); bb_dg_fields for
 * each key, "all" and unknown keys; the CHAT for DG1+DG17 is 00 01 00 01 00 (read DGn is
 * bit n+7: DG1 bit 8, the lowest bit of the fourth byte; DG17 bit 24, the lowest of the
 * second), which OpenPACE reads back as "Read DG 1" and "Read DG 17" of an
 * authentication terminal, and bb_dg_chat_rights inverts bb_dg_chat. Every parse works
 * on a copy of exactly the input's size, so AddressSanitizer sees any read past it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <eac/cv_cert.h>
#include <eac/eac.h>
#include <openssl/bio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "eid/dg.h"
#include "exit.h"

/* --- helpers --- */

static const char *
top(void)
{
	const char *t = getenv("BB_TOP");

	return t != NULL && *t != '\0' ? t : ".";
}

/* A file of the repository, malloc'd with exactly its size. */
static unsigned char *
slurp(const char *rel, size_t *len)
{
	char path[4096];
	unsigned char buf[4096], *out;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", top(), rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(*len > 0 && *len < sizeof buf);
	out = malloc(*len);
	assert_non_null(out);
	memcpy(out, buf, *len);
	return out;
}

/* bb_dg_parse on a copy of exactly len bytes. */
static int
parse(int dg, const void *der, size_t len, json_t *id, struct bb_err *e)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, der, len);
	memset(e, 0, sizeof *e);
	rc = bb_dg_parse(dg, copy, len, id, e);
	free(copy);
	return rc;
}

/* DER built by hand. */
struct der {
	unsigned char b[600];
	size_t n;
};

static void
put(struct der *d, unsigned tag, const void *v, size_t n)
{
	assert_true(d->n + n + 4 <= sizeof d->b);
	d->b[d->n++] = (unsigned char)tag;
	if (n < 0x80)
		d->b[d->n++] = (unsigned char)n;
	else if (n < 0x100) {
		d->b[d->n++] = 0x81;
		d->b[d->n++] = (unsigned char)n;
	} else {
		d->b[d->n++] = 0x82;
		d->b[d->n++] = (unsigned char)(n >> 8);
		d->b[d->n++] = (unsigned char)n;
	}
	if (n > 0)
		memcpy(d->b + d->n, v, n);
	d->n += n;
}

static void
put_s(struct der *d, unsigned tag, const char *s)
{
	put(d, tag, s, strlen(s));
}

/* tag { in } */
static void
put_d(struct der *d, unsigned tag, const struct der *in)
{
	put(d, tag, in->b, in->n);
}

/* tag { inner { s } } */
static void
put_in(struct der *d, unsigned tag, unsigned inner, const char *s)
{
	struct der in = { .n = 0 };

	put_s(&in, inner, s);
	put_d(d, tag, &in);
}

/* A data group 0x60+dg { inner s }. */
static struct der
dg_of(int dg, unsigned inner, const char *s)
{
	struct der d = { .n = 0 };

	put_in(&d, 0x60u + (unsigned)dg, inner, s);
	return d;
}

/* A data group around ready content. */
static struct der
dg_wrap(int dg, const struct der *content)
{
	struct der d = { .n = 0 };

	put_d(&d, 0x60u + (unsigned)dg, content);
	return d;
}

/* Place: parts given as a NULL-terminated list of (tag, text); AD and AE are
 * PrintableString, the others UTF8String. */
static struct der
place(unsigned seqtag, ...)
{
	struct der seq = { .n = 0 }, out = { .n = 0 };
	va_list ap;
	unsigned tag;

	va_start(ap, seqtag);
	while ((tag = va_arg(ap, unsigned)) != 0) {
		const char *s = va_arg(ap, const char *);
		put_in(&seq, tag, tag >= 0xAD ? 0x13 : 0x0C, s);
	}
	va_end(ap);
	put_d(&out, seqtag, &seq);
	return out;
}

static void
expect_str(int dg, const struct der *d, const char *key, const char *want)
{
	json_t *id = json_object();
	struct bb_err e;
	int rc = parse(dg, d->b, d->n, id, &e);

	if (rc != 0)
		fail_msg("DG%d for %s: %d %s", dg, key, rc, e.msg);
	assert_true(json_is_string(json_object_get(id, key)));
	assert_string_equal(json_string_value(json_object_get(id, key)), want);
	assert_int_equal(json_object_size(id), 1);
	json_decref(id);
}

/* Every byte of the value but spaces: not in msg. */
static void
no_leak(const char *msg, const void *value, size_t n)
{
	const unsigned char *v = value;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] != ' ' && v[i] != '\0' && strchr(msg, v[i]) != NULL)
			fail_msg("message \"%s\" holds byte %02X of the value", msg, v[i]);
}

/* Malformed: 76, nothing set, one line naming the DG, nothing of value. */
static void
expect_bad_raw(int dg, const void *der, size_t len, const void *value, size_t vlen)
{
	json_t *id = json_object();
	struct bb_err e;
	char prefix[16];
	int rc = parse(dg, der, len, id, &e);

	if (rc != BB_PROTOCOL)
		fail_msg("DG%d: expected 76, got %d (%s)", dg, rc, rc ? e.msg : "no error");
	assert_int_equal(e.status, BB_PROTOCOL);
	assert_int_equal(json_object_size(id), 0);
	snprintf(prefix, sizeof prefix, "DG%d: ", dg);
	assert_memory_equal(e.msg, prefix, strlen(prefix));
	assert_null(strchr(e.msg, '\n'));
	if (value != NULL)
		no_leak(e.msg, value, vlen);
	json_decref(id);
}

static void
expect_bad(int dg, const struct der *d, const char *value)
{
	expect_bad_raw(dg, d->b, d->n, value, value ? strlen(value) : 0);
}

/* --- the test card --- */

static void
erika_matches_example(void **state)
{
	static const char *const files[] = {
		"0101", "0102", "0103", "0104", "0105", "0107", "0108", "0109", "010A", "010D",
		"0111",
	};
	static const char *const keys[] = {
		"document_type", "issuing_state", "expiry", "given_names", "family_names",
		"academic_title", "date_of_birth", "place_of_birth", "nationality",
		"birth_name", "address",
	};
	json_t *id = json_object(), *example, *want;
	json_error_t jerr;
	char path[4096], rel[64];
	struct bb_err e;
	size_t i, len;

	(void)state;
	snprintf(path, sizeof path, "%s/scripts/examples/identity.json", top());
	example = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (example == NULL)
		fail_msg("%s: %s", path, jerr.text);
	want = json_object_get(example, "identity");
	assert_true(json_is_object(want));
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		unsigned char *der;
		int rc;
		snprintf(rel, sizeof rel, "tests/rig/cards/erika/app/%s", files[i]);
		der = slurp(rel, &len);
		rc = parse((int)strtol(files[i] + 2, NULL, 16), der, len, id, &e);
		if (rc != 0)
			fail_msg("%s: %d %s", rel, rc, e.msg);
		free(der);
	}
	assert_int_equal(json_object_size(id), sizeof keys / sizeof keys[0]);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *got = json_object_get(id, keys[i]), *exp = json_object_get(want, keys[i]);
		assert_non_null(exp);
		if (got == NULL || !json_equal(got, exp)) {
			char *g = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
			fail_msg("%s: got %s", keys[i], g ? g : "nothing");
		}
	}
	json_decref(example);
	json_decref(id);
}

/* --- variants --- */

static void
simple_texts(void **state)
{
	struct der d;

	(void)state;
	d = dg_of(1, 0x13, "AR");
	expect_str(1, &d, "document_type", "AR");
	d = dg_of(4, 0x0C, "ERIKA MARIA");
	expect_str(4, &d, "given_names", "ERIKA MARIA");
	d = dg_of(5, 0x0C, "M\xC3\x9CLLER-L\xC3\x9C\xC3\x9F" "DORF");
	expect_str(5, &d, "family_names", "M\xC3\x9CLLER-L\xC3\x9C\xC3\x9F" "DORF");
	d = dg_of(6, 0x0C, "");
	expect_str(6, &d, "artistic_name", "");
	d = dg_of(6, 0x0C, "SCHWESTER ANNA");
	expect_str(6, &d, "artistic_name", "SCHWESTER ANNA");
	d = dg_of(7, 0x0C, "DR.");
	expect_str(7, &d, "academic_title", "DR.");
	d = dg_of(13, 0x0C, "GABLER");
	expect_str(13, &d, "birth_name", "GABLER");
	/* A name of 200 bytes: a two-byte DER length (81 C8) inside and out. */
	{
		char name[201];
		memset(name, 'A', 200);
		name[200] = '\0';
		d = dg_of(4, 0x0C, name);
		assert_int_equal(d.b[1], 0x81);
		expect_str(4, &d, "given_names", name);
	}
	/* An empty data group: the card holds nothing there. */
	{
		static const unsigned char empty[] = { 0x6A, 0x00 };
		memcpy(d.b, empty, sizeof empty);
		d.n = sizeof empty;
		expect_str(10, &d, "nationality", "");
	}
}

static void
countries(void **state)
{
	static const struct {
		const char *card, *want;
	} t[] = {
		{ "D", "DE" }, { "AUT", "AT" }, { "TUR", "TR" }, { "FRA", "FR" },
		{ "ABW", "AW" }, { "ZWE", "ZW" }, { "SYR", "SY" }, { "UKR", "UA" },
		/* ICAO codes ISO does not have: kept. */
		{ "XXA", "XXA" }, { "GBD", "GBD" }, { "RKS", "RKS" }, { "UNO", "UNO" },
	};
	struct der d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		d = dg_of(10, 0x13, t[i].card);
		expect_str(10, &d, "nationality", t[i].want);
		d = dg_of(2, 0x13, t[i].card);
		expect_str(2, &d, "issuing_state", t[i].want);
	}
	/* DG2 as an issuing place: its country. */
	{
		struct der p = place(0x30, 0xAB, "BERLIN", 0xAD, "D", 0u);
		d = dg_wrap(2, &p);
		expect_str(2, &d, "issuing_state", "DE");
	}
}

static void
dates(void **state)
{
	static const struct {
		const char *card, *want;
	} birth[] = {
		{ "19640812", "1964-08-12" }, { "196408  ", "1964-08" }, { "1964    ", "1964" },
		{ "19640800", "1964-08" }, { "19640000", "1964" }, { "        ", "" },
		{ "00000000", "" }, { "1964  00", "1964" }, { "20000229", "2000-02-29" },
		{ "19961231", "1996-12-31" },
	};
	struct der d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof birth / sizeof birth[0]; i++) {
		d = dg_of(8, 0x12, birth[i].card);
		expect_str(8, &d, "date_of_birth", birth[i].want);
	}
	d = dg_of(3, 0x12, "20311031");
	expect_str(3, &d, "expiry", "2031-10-31");
	d = dg_of(3, 0x12, "20240229");
	expect_str(3, &d, "expiry", "2024-02-29");
}

static void
places_of_birth(void **state)
{
	struct der p, d;

	(void)state;
	{
		struct der a = { .n = 0 };
		put_in(&a, 0xA1, 0x0C, "HAMBURG");
		d = dg_wrap(9, &a);
		expect_str(9, &d, "place_of_birth", "HAMBURG");
	}
	/* Structured: the city; a foreign country is added; all parts in order. */
	p = place(0x30, 0xAB, "M\xC3\x9CNCHEN", 0xAD, "D", 0u);
	d = dg_wrap(9, &p);
	expect_str(9, &d, "place_of_birth", "M\xC3\x9CNCHEN");
	p = place(0x30, 0xAB, "WIEN", 0xAD, "AUT", 0u);
	d = dg_wrap(9, &p);
	expect_str(9, &d, "place_of_birth", "WIEN, AT");
	p = place(0x30, 0xAA, "RUE X 1", 0xAB, "PARIS", 0xAC, "ILE", 0xAD, "FRA", 0xAE, "75001",
	    0u);
	d = dg_wrap(9, &p);
	expect_str(9, &d, "place_of_birth", "RUE X 1, 75001 PARIS, ILE, FR");
	p = place(0x30, 0xAB, "ANKARA", 0xAC, "ANKARA", 0xAD, "TUR", 0u);
	d = dg_wrap(9, &p);
	expect_str(9, &d, "place_of_birth", "ANKARA, ANKARA, TR");
	/* No place: the card holds a remark, not a place. */
	{
		struct der a = { .n = 0 };
		put_in(&a, 0xA2, 0x0C, "UNBEKANNT");
		d = dg_wrap(9, &a);
		expect_str(9, &d, "place_of_birth", "");
	}
}

static void
expect_address(const struct der *d, const char *street, const char *zip, const char *city,
    const char *country)
{
	json_t *id = json_object(), *a;
	struct bb_err e;
	int rc = parse(17, d->b, d->n, id, &e);

	if (rc != 0)
		fail_msg("DG17: %d %s", rc, e.msg);
	a = json_object_get(id, "address");
	assert_true(json_is_object(a));
	assert_int_equal(json_object_size(a), 4);
	assert_string_equal(json_string_value(json_object_get(a, "street")), street);
	assert_string_equal(json_string_value(json_object_get(a, "postal_code")), zip);
	assert_string_equal(json_string_value(json_object_get(a, "city")), city);
	assert_string_equal(json_string_value(json_object_get(a, "country")), country);
	json_decref(id);
}

static void
addresses(void **state)
{
	struct der p, d;

	(void)state;
	p = place(0x30, 0xAA, "HEIDESTRASSE 17", 0xAB, "K\xC3\x96LN", 0xAD, "D", 0xAE, "51147",
	    0u);
	d = dg_wrap(17, &p);
	expect_address(&d, "HEIDESTRASSE 17", "51147", "K\xC3\x96LN", "DE");
	/* A state is not kept; a foreign country becomes alpha-2; parts may be missing. */
	p = place(0x30, 0xAB, "WIEN", 0xAC, "WIEN", 0xAD, "AUT", 0u);
	d = dg_wrap(17, &p);
	expect_address(&d, "", "", "WIEN", "AT");
	/* Free text: whole in street. */
	p.n = 0;
	put_in(&p, 0xA1, 0x0C, "12 RUE DE LA PAIX, 75002 PARIS");
	d = dg_wrap(17, &p);
	expect_address(&d, "12 RUE DE LA PAIX, 75002 PARIS", "", "", "");
	/* No place ("keine Hauptwohnung in Deutschland"): nothing to give. */
	p.n = 0;
	put_in(&p, 0xA2, 0x0C, "keine Hauptwohnung in Deutschland");
	d = dg_wrap(17, &p);
	expect_address(&d, "", "", "", "");
	/* An empty DG17. */
	p.n = 0;
	d = dg_wrap(17, &p);
	expect_address(&d, "", "", "", "");
}

static void
community_ids(void **state)
{
	static const struct {
		unsigned char v[8];
		size_t n;
		const char *want;
	} t[] = {
		/* TR-03127's 14 digits: 0276, state 05, 0 3, county 15, 0 000 (Köln): the AGS. */
		{ { 0x02, 0x76, 0x05, 0x03, 0x15, 0x00, 0x00 }, 7, "05 3 15 000" },
		{ { 0x02, 0x76, 0x09, 0x01, 0x62, 0x00, 0x00 }, 7, "09 1 62 000" },
		{ { 0x02, 0x76, 0x11, 0x00, 0x00, 0x00, 0x00 }, 7, "11 0 00 000" },
		/* Abroad: the country, then zeros. */
		{ { 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00 }, 7, "0040 00 0 00 000" },
		/* Padding not zero, or another length: the digits, ungrouped. */
		{ { 0x02, 0x76, 0x05, 0x13, 0x15, 0x10, 0x00 }, 7, "02760513151000" },
		{ { 0x05, 0x31, 0x50, 0x00 }, 4, "05315000" },
		{ { 0 }, 0, "" },
	};
	struct der d, o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		o.n = 0;
		put(&o, 0x04, t[i].v, t[i].n);
		d = dg_wrap(18, &o);
		expect_str(18, &d, "community_id", t[i].want);
	}
}

static void
residence_permits(void **state)
{
	json_t *id = json_object(), *rp;
	struct der d, a;
	struct bb_err e;

	(void)state;
	/* DG20 read first: DG19's lines still come first. */
	a.n = 0;
	put_in(&a, 0xA1, 0x0C, "AUFLAGE DREI");
	d = dg_wrap(20, &a);
	assert_int_equal(parse(20, d.b, d.n, id, &e), 0);
	a.n = 0;
	put_in(&a, 0xA1, 0x0C, "ERWERBST\xC3\x84TIGKEIT GESTATTET\nAUFLAGE ZWEI\r\n\n");
	d = dg_wrap(19, &a);
	assert_int_equal(parse(19, d.b, d.n, id, &e), 0);
	rp = json_object_get(id, "residence_permit");
	assert_true(json_is_array(rp));
	assert_int_equal(json_array_size(rp), 3);
	assert_string_equal(json_string_value(json_array_get(rp, 0)),
	    "ERWERBST\xC3\x84TIGKEIT GESTATTET");
	assert_string_equal(json_string_value(json_array_get(rp, 1)), "AUFLAGE ZWEI");
	assert_string_equal(json_string_value(json_array_get(rp, 2)), "AUFLAGE DREI");
	json_decref(id);

	/* Empty DGs: an empty list. */
	id = json_object();
	a.n = 0;
	d = dg_wrap(19, &a);
	assert_int_equal(parse(19, d.b, d.n, id, &e), 0);
	rp = json_object_get(id, "residence_permit");
	assert_true(json_is_array(rp));
	assert_int_equal(json_array_size(rp), 0);
	json_decref(id);
}

static void
other_dgs_ignored(void **state)
{
	static const unsigned char junk[] = { 0xFF, 0x01 };
	json_t *id = json_object();
	struct bb_err e;
	struct der d;
	int dg;

	(void)state;
	for (dg = 11; dg <= 22; dg++) {
		if (dg == 13 || (dg >= 17 && dg <= 20))
			continue;
		assert_int_equal(parse(dg, junk, sizeof junk, id, &e), 0);
		d = dg_of(dg, 0x13, "F");
		assert_int_equal(parse(dg, d.b, d.n, id, &e), 0);
	}
	assert_int_equal(json_object_size(id), 0);
	assert_int_equal(parse(0, junk, sizeof junk, id, &e), BB_USAGE);
	assert_int_equal(parse(23, junk, sizeof junk, id, &e), BB_USAGE);
	assert_int_equal(bb_dg_parse(4, junk, sizeof junk, NULL, &e), BB_USAGE);
	json_decref(id);
}

/* --- malformed --- */

#define V "QXZJWVKYH"	/* a name: no byte of it is in any message */

static void
malformed_structure(void **state)
{
	struct der d;
	unsigned char raw[64];

	(void)state;
	/* Empty file, wrong outer tag, a DG4 file given as DG5. */
	expect_bad_raw(4, "", 0, NULL, 0);
	d = dg_of(5, 0x0C, V);
	expect_bad(4, &d, V);
	d = dg_of(4, 0x0C, V);
	/* Outer length past the end: the file cut short. */
	expect_bad_raw(4, d.b, d.n - 1, V, strlen(V));
	/* Outer length larger than the file, inner consistent. */
	memcpy(raw, d.b, d.n);
	raw[1] = (unsigned char)(raw[1] + 1);
	expect_bad_raw(4, raw, d.n, V, strlen(V));
	/* Inner length past its object. */
	memcpy(raw, d.b, d.n);
	raw[3] = (unsigned char)(raw[3] + 1);
	expect_bad_raw(4, raw, d.n, V, strlen(V));
	/* Inner length shorter: bytes after the value inside DG4. */
	memcpy(raw, d.b, d.n);
	raw[3] = (unsigned char)(raw[3] - 1);
	expect_bad_raw(4, raw, d.n, V, strlen(V));
	/* Bytes after the data group. */
	memcpy(raw, d.b, d.n);
	raw[d.n] = 0x00;
	expect_bad_raw(4, raw, d.n + 1, V, strlen(V));
	/* Only the tag; tag and a long-form length byte without its length. */
	expect_bad_raw(4, "\x64", 1, NULL, 0);
	expect_bad_raw(4, "\x64\x82\x00", 3, NULL, 0);
	/* Not DER: non-minimal long form, leading zero, indefinite, oversized. */
	{
		size_t n = 0, vl = strlen(V);
		raw[n++] = 0x64; raw[n++] = 0x81; raw[n++] = (unsigned char)(vl + 2);
		raw[n++] = 0x0C; raw[n++] = (unsigned char)vl;
		memcpy(raw + n, V, vl);
		n += vl;
		expect_bad_raw(4, raw, n, V, vl);
		raw[1] = 0x82; raw[2] = 0x00;
		memmove(raw + 4, raw + 3, n - 3);
		raw[3] = (unsigned char)(vl + 2);
		expect_bad_raw(4, raw, n + 1, V, vl);
		raw[0] = 0x64; raw[1] = 0x80;
		memcpy(raw + 2, "\x0C\x01Q\x00\x00", 5);
		expect_bad_raw(4, raw, 7, NULL, 0);
		memcpy(raw, "\x64\x84\x00\x00\x00\x03\x0C\x01Q", 9);
		expect_bad_raw(4, raw, 9, NULL, 0);
		/* A length of 16M: past the end, never read. */
		memcpy(raw, "\x64\x83\xFF\xFF\xFF\x0C\x01Q", 8);
		expect_bad_raw(4, raw, 8, NULL, 0);
	}
}

static void
malformed_types(void **state)
{
	struct der d, p;

	(void)state;
	/* Names must be UTF8String. */
	d = dg_of(4, 0x13, V);
	expect_bad(4, &d, V);
	d = dg_of(5, 0x04, V);
	expect_bad(5, &d, V);
	/* A constructed value where a string belongs. */
	d = dg_of(7, 0x30, "\x0C\x01Q");
	expect_bad(7, &d, "Q");
	/* Dates must be NumericString, countries and document types PrintableString. */
	d = dg_of(3, 0x0C, "20201442");
	expect_bad(3, &d, "20201442");
	d = dg_of(10, 0x0C, "XYZ");
	expect_bad(10, &d, "XYZ");
	d = dg_of(1, 0x0C, "QX");
	expect_bad(1, &d, "QX");
	d = dg_of(1, 0x13, "Q");
	expect_bad(1, &d, "Q");
	d = dg_of(1, 0x13, "qx");
	expect_bad(1, &d, "qx");
	/* Not country codes: 2 letters, lower case, digits. */
	d = dg_of(10, 0x13, "QX");
	expect_bad(10, &d, "QX");
	d = dg_of(10, 0x13, "qxz");
	expect_bad(10, &d, "qxz");
	d = dg_of(2, 0x13, "Q1Z");
	expect_bad(2, &d, "Q1Z");
	/* DG9: [0] is not in GeneralPlace; UTF8String inside [1]; nothing after it. */
	d = dg_of(9, 0xA0, "\x0C\x03QXZ");
	expect_bad(9, &d, "QXZ");
	p.n = 0;
	put_in(&p, 0xA1, 0x13, V);
	d = dg_wrap(9, &p);
	expect_bad(9, &d, V);
	p.n = 0;
	put_in(&p, 0xA1, 0x0C, V);
	put_s(&p, 0x0C, "QQ");
	d = dg_wrap(9, &p);
	expect_bad(9, &d, V);
	/* Places: part out of order, twice, unknown, missing city or country, wrong inner
	 * type, several residences, non-printable postal code. */
	p = place(0x30, 0xAB, V, 0xAA, "QQ", 0xAD, "XYZ", 0u);
	d = dg_wrap(17, &p);
	expect_bad(17, &d, V);
	p = place(0x30, 0xAB, V, 0xAB, "QQ", 0xAD, "XYZ", 0u);
	d = dg_wrap(17, &p);
	expect_bad(17, &d, V);
	p = place(0x30, 0xA9, "QQ", 0xAB, V, 0xAD, "XYZ", 0u);
	d = dg_wrap(17, &p);
	expect_bad(17, &d, V);
	p = place(0x30, 0xAA, V, 0xAD, "XYZ", 0u);
	d = dg_wrap(17, &p);
	expect_bad(17, &d, V);
	p = place(0x30, 0xAB, V, 0u);
	d = dg_wrap(9, &p);
	expect_bad(9, &d, V);
	p.n = 0;
	{
		struct der seq = { .n = 0 };
		put_in(&seq, 0xAB, 0x13, "QXZ");
		put_in(&seq, 0xAD, 0x13, "XYZ");
		put_d(&p, 0x30, &seq);
	}
	d = dg_wrap(17, &p);
	expect_bad(17, &d, "QXZ");
	{
		struct der one = place(0x30, 0xAB, V, 0xAD, "XYZ", 0u), set = { .n = 0 };
		put_d(&set, 0x31, &one);
		d = dg_wrap(17, &set);
		expect_bad(17, &d, V);
	}
	p = place(0x30, 0xAB, "QQ", 0xAD, "XYZ", 0xAE, "Q@Z", 0u);
	d = dg_wrap(17, &p);
	expect_bad(17, &d, "Q@Z");
	p = place(0x30, 0xAB, "QQ", 0xAD, "QX", 0u);
	d = dg_wrap(17, &p);
	expect_bad(17, &d, "QX");
	/* DG18: OCTET STRING of decimal digits. */
	d = dg_of(18, 0x0C, "QXZ");
	expect_bad(18, &d, "QXZ");
	{
		static const unsigned char hexd[] = { 0x02, 0x76, 0x0A, 0x03 };
		p.n = 0;
		put(&p, 0x04, hexd, sizeof hexd);
		d = dg_wrap(18, &p);
		expect_bad(18, &d, NULL);
		p.n = 0;
		put(&p, 0x04, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		    17);
		d = dg_wrap(18, &p);
		expect_bad(18, &d, NULL);
	}
	/* DG19: [1] UTF8String; compressed is not supported; [3] is nothing. */
	p.n = 0;
	put_in(&p, 0xA2, 0x04, "QXZ");
	d = dg_wrap(19, &p);
	expect_bad(19, &d, "QXZ");
	p.n = 0;
	put_in(&p, 0xA3, 0x0C, "QXZ");
	d = dg_wrap(20, &p);
	expect_bad(20, &d, "QXZ");
	p.n = 0;
	put_s(&p, 0x0C, "QXZ");
	d = dg_wrap(19, &p);
	expect_bad(19, &d, "QXZ");
}

static void
malformed_text(void **state)
{
	static const char *const bad[] = {
		"QX\xC3",		/* cut */
		"QX\xC3Z",		/* no continuation */
		"Q\xC0\xAF",		/* overlong */
		"Q\xE0\x80\xAF",	/* overlong */
		"Q\xED\xA0\x80",	/* surrogate */
		"Q\xF4\x90\x80\x80",	/* past U+10FFFF */
		"Q\xF5\x80\x80\x80",
		"Q\xFF",
		"Q\x80Z",		/* lone continuation */
		"QX\x01Z",		/* controls */
		"QX\x1BZ",
		"QX\x7FZ",
		"QX\nZ",
		"QX\rZ",
		"QX\tZ",
		"QX\xC2\x85Z",		/* C1: NEL */
		"QX\xC2\x9FZ",
	};
	struct der d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		d = dg_of(5, 0x0C, bad[i]);
		expect_bad(5, &d, bad[i]);
		d = dg_of(13, 0x0C, bad[i]);
		expect_bad(13, &d, bad[i]);
		/* Also inside a place. */
		{
			struct der p = place(0x30, 0xAB, bad[i], 0xAD, "XYZ", 0u);
			d = dg_wrap(17, &p);
			expect_bad(17, &d, bad[i]);
		}
	}
	/* NUL inside a name. */
	{
		struct der in = { .n = 0 };
		put(&in, 0x0C, "QX\0Z", 4);
		d = dg_wrap(4, &in);
		expect_bad_raw(4, d.b, d.n, "QX\0Z", 4);
	}
	/* Residence permits allow line breaks, not other controls. */
	{
		struct der p = { .n = 0 };
		put_in(&p, 0xA1, 0x0C, "QX\nZ\x0BW");
		d = dg_wrap(19, &p);
		expect_bad(19, &d, "QX\nZ\x0BW");
	}
}

static void
malformed_dates(void **state)
{
	static const char *const expiry[] = {
		"20201442", "20200001", "20200100", "20200199", "20210229", "21000229",
		"00000101", "2020 101", "2020    ", "        ", "20200101 ", "2020011", "Q0200101",
		"2020-1-1",
	};
	static const char *const birth[] = {
		"1964  12", "    0412", "196414  ", "19641299", "19640431",
		"19  0412", "1964 4  ", "19000229", "1964012 ", "196401 1",
	};
	struct der d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof expiry / sizeof expiry[0]; i++) {
		d = dg_of(3, 0x12, expiry[i]);
		expect_bad(3, &d, expiry[i]);
	}
	for (i = 0; i < sizeof birth / sizeof birth[0]; i++) {
		d = dg_of(8, 0x12, birth[i]);
		expect_bad(8, &d, birth[i]);
	}
}

/* Every erika file cut at each length and with each byte changed: 0 or 76, never a
 * crash or a read past the copy, and a 76 leaves the identity as it was. */
static void
mutations(void **state)
{
	static const char *const files[] = { "0103", "0104", "0108", "0109", "010A", "0111" };
	static const unsigned char vals[] = { 0x00, 0x01, 0x0C, 0x13, 0x30, 0x7F, 0x80, 0x81,
	    0x82, 0xA1, 0xFF };
	char rel[64];
	struct bb_err e;
	size_t f, i, k, len;

	(void)state;
	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		unsigned char *der, *m;
		int dg = (int)strtol(files[f] + 2, NULL, 16);
		snprintf(rel, sizeof rel, "tests/rig/cards/erika/app/%s", files[f]);
		der = slurp(rel, &len);
		m = malloc(len);
		assert_non_null(m);
		for (i = 0; i < len; i++) {
			json_t *id = json_object();
			assert_int_equal(parse(dg, der, i, id, &e), BB_PROTOCOL);
			assert_int_equal(json_object_size(id), 0);
			json_decref(id);
		}
		for (i = 0; i < len; i++)
			for (k = 0; k < sizeof vals; k++) {
				json_t *id = json_pack("{s:s}", "bb", "x");
				int rc;
				memcpy(m, der, len);
				m[i] = vals[k];
				rc = parse(dg, m, len, id, &e);
				assert_true(rc == 0 || rc == BB_PROTOCOL);
				if (rc != 0)
					assert_int_equal(json_object_size(id), 1);
				json_decref(id);
			}
		free(m);
		free(der);
	}
}

/* --- fields and CHAT --- */

static void
fields(void **state)
{
	static const struct {
		const char *key;
		unsigned long dgs;
	} t[] = {
		{ "document_type", 1UL << 1 }, { "issuing_state", 1UL << 2 },
		{ "expiry", 1UL << 3 }, { "given_names", 1UL << 4 },
		{ "family_names", 1UL << 5 }, { "artistic_name", 1UL << 6 },
		{ "academic_title", 1UL << 7 }, { "date_of_birth", 1UL << 8 },
		{ "place_of_birth", 1UL << 9 }, { "nationality", 1UL << 10 },
		{ "birth_name", 1UL << 13 }, { "address", 1UL << 17 },
		{ "community_id", 1UL << 18 }, { "residence_permit", 1UL << 19 | 1UL << 20 },
	};
	unsigned long dgs, all = 0;
	struct bb_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(bb_dg_fields(t[i].key, &dgs, &e), 0);
		assert_int_equal(dgs, t[i].dgs);
		all |= t[i].dgs;
	}
	assert_int_equal(all, 0x1E27FEUL);	/* DG1-10, 13, 17-20 */
	assert_int_equal(bb_dg_fields("all", &dgs, &e), 0);
	assert_int_equal(dgs, all);
	assert_int_equal(bb_dg_fields("given_names,family_names,address", &dgs, &e), 0);
	assert_int_equal(dgs, 1UL << 4 | 1UL << 5 | 1UL << 17);
	assert_int_equal(bb_dg_fields(" expiry , date_of_birth,expiry", &dgs, &e), 0);
	assert_int_equal(dgs, 1UL << 3 | 1UL << 8);
	assert_int_equal(bb_dg_fields("address,all", &dgs, &e), 0);
	assert_int_equal(dgs, all);

	memset(&e, 0, sizeof e);
	assert_int_equal(bb_dg_fields("given_names,sex", &dgs, &e), BB_USAGE);
	assert_int_equal(e.status, BB_USAGE);
	assert_int_equal(dgs, 0);
	assert_non_null(strstr(e.msg, "'sex'"));
	assert_int_equal(bb_dg_fields("Given_Names", &dgs, &e), BB_USAGE);
	assert_non_null(strstr(e.msg, "'Given_Names'"));
	assert_int_equal(bb_dg_fields("given", &dgs, &e), BB_USAGE);
	assert_int_equal(bb_dg_fields("given_names_x", &dgs, &e), BB_USAGE);
	assert_int_equal(bb_dg_fields("", &dgs, &e), BB_USAGE);
	assert_int_equal(bb_dg_fields("expiry,", &dgs, &e), BB_USAGE);
	assert_int_equal(bb_dg_fields(",expiry", &dgs, &e), BB_USAGE);
	assert_int_equal(bb_dg_fields("expiry,,address", &dgs, &e), BB_USAGE);
	assert_int_equal(bb_dg_fields("bad\nkey", &dgs, &e), BB_USAGE);
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(bb_dg_fields(NULL, &dgs, &e), BB_USAGE);
}

static const unsigned char chat_head[] = {
	0x7F, 0x4C, 0x12, 0x06, 0x09, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x03, 0x01, 0x02, 0x02,
	0x53, 0x05,
};

/* OpenPACE's reading of a CHAT, as text. */
static char *
openpace_reads(const unsigned char *chat, size_t len)
{
	const unsigned char *p = chat;
	CVC_CHAT *c;
	BIO *b;
	char *mem, *out;
	long n;

	EAC_init();
	c = d2i_CVC_CHAT(NULL, &p, (long)len);
	assert_non_null(c);
	assert_ptr_equal(p, chat + len);
	b = BIO_new(BIO_s_mem());
	assert_non_null(b);
	assert_true(cvc_chat_print(b, c, 0) == 1);
	n = BIO_get_mem_data(b, &mem);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	memcpy(out, mem, (size_t)n);
	BIO_free(b);
	CVC_CHAT_free(c);
	return out;
}

static void
chat(void **state)
{
	static const unsigned char dg1_17[] = { 0x00, 0x01, 0x00, 0x01, 0x00 };
	static const unsigned char every[] = { 0x00, 0x3F, 0xFF, 0xFF, 0x00 };
	unsigned char out[32], *copy;
	unsigned long dgs;
	struct bb_err e;
	char *text;
	size_t n;
	int i;

	(void)state;
	/* DG1: bit 8, the lowest bit of the 4th byte; DG17: bit 24, the lowest of the 2nd. */
	n = bb_dg_chat(1UL << 1 | 1UL << 17, out, sizeof out);
	assert_int_equal(n, BB_DG_CHAT_LEN);
	assert_memory_equal(out, chat_head, sizeof chat_head);
	assert_memory_equal(out + sizeof chat_head, dg1_17, 5);
	assert_int_equal(bb_dg_chat_rights(out + sizeof chat_head), 1UL << 1 | 1UL << 17);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, out, n);
	text = openpace_reads(copy, n);
	assert_non_null(strstr(text, "Authentication terminal"));
	assert_non_null(strstr(text, "Read DG 1 "));
	assert_non_null(strstr(text, "Read DG 17 "));
	assert_null(strstr(text, "Read DG 2 "));
	assert_null(strstr(text, "Age"));
	free(text);
	free(copy);

	/* Every DG: bits 8-29. */
	n = bb_dg_chat(~0UL, out, sizeof out);
	assert_int_equal(n, BB_DG_CHAT_LEN);
	assert_memory_equal(out + sizeof chat_head, every, 5);
	assert_int_equal(bb_dg_chat_rights(every), 0x7FFFFEUL);

	/* Each DG alone round-trips; nothing but it. */
	for (i = 1; i <= 22; i++) {
		n = bb_dg_chat(1UL << i, out, sizeof out);
		assert_int_equal(n, BB_DG_CHAT_LEN);
		assert_int_equal(bb_dg_chat_rights(out + sizeof chat_head), 1UL << i);
		assert_int_equal(out[16] & 0xC0, 0);	/* role: terminal */
	}
	/* What the services ask for. */
	assert_int_equal(bb_dg_fields("all", &dgs, &e), 0);
	n = bb_dg_chat(dgs, out, sizeof out);
	assert_int_equal(bb_dg_chat_rights(out + sizeof chat_head), dgs);
	/* Nothing asked: no rights; bits outside DG1-22 are no rights either. */
	n = bb_dg_chat(0, out, sizeof out);
	assert_memory_equal(out + sizeof chat_head, "\0\0\0\0\0", 5);
	n = bb_dg_chat(1UL | 1UL << 23 | 1UL << 30, out, sizeof out);
	assert_memory_equal(out + sizeof chat_head, "\0\0\0\0\0", 5);
	/* Rights outside read DG1-22 (special functions, write, role) are not DGs. */
	{
		static const unsigned char other[] = { 0xFF, 0xC0, 0x00, 0x00, 0xFF };
		assert_int_equal(bb_dg_chat_rights(other), 0);
	}
	/* Too little room. */
	assert_int_equal(bb_dg_chat(1UL << 1, out, BB_DG_CHAT_LEN - 1), 0);
	assert_int_equal(bb_dg_chat(1UL << 1, out, BB_DG_CHAT_LEN), BB_DG_CHAT_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(erika_matches_example),
		cmocka_unit_test(simple_texts),
		cmocka_unit_test(countries),
		cmocka_unit_test(dates),
		cmocka_unit_test(places_of_birth),
		cmocka_unit_test(addresses),
		cmocka_unit_test(community_ids),
		cmocka_unit_test(residence_permits),
		cmocka_unit_test(other_dgs_ignored),
		cmocka_unit_test(malformed_structure),
		cmocka_unit_test(malformed_types),
		cmocka_unit_test(malformed_text),
		cmocka_unit_test(malformed_dates),
		cmocka_unit_test(mutations),
		cmocka_unit_test(fields),
		cmocka_unit_test(chat),
	};

	return cmocka_run_group_tests_name("dg", tests, NULL, NULL);
}
