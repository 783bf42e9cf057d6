/* lib/jose: base64url against RFC 4648 section 10 (url alphabet, no padding) and its
 * strictness; JWE round trips through bb_jwe_decrypt with a fresh RSA-4096 key (exact
 * header, IV and tag sizes, a new CEK and IV every time), refusal of every tampered
 * segment, and the published RFC 7516 A.1 JWE decrypted with its published key (A.1 is
 * RSA-OAEP with SHA-1; bb_jwe_decrypt picks the OAEP digest from alg, so it applies);
 * the FIT-Connect rules for a destination key, with certificate chains made here with
 * the OpenSSL API, one broken rule at a time; PS512 JWS verification against signatures
 * made here with OpenSSL. The keys are made once for the group: RSA-4096 takes seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "diag.h"
#include "exit.h"
#include "jose/jose.h"
#include "scratch.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DAY 86400

/* ---- base64url ---- */

static const struct {
	const char *plain, *b64;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

static void
b64url_rfc4648(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(rfc4648); i++) {
		const char *b = rfc4648[i].b64;
		char *s = bb_b64url_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));
		unsigned char *d;

		assert_non_null(s);
		assert_string_equal(s, b);
		assert_int_equal(bb_b64url_encoded_len(strlen(rfc4648[i].plain)), strlen(b));
		free(s);
		len = 12345;
		d = bb_b64url_decode(b, strlen(b), &len);
		assert_non_null(d);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(d, rfc4648[i].plain, len);
		assert_int_equal(d[len], '\0');
		free(d);
	}
}

/* 0xfb 0xff is "+/8=" in the standard alphabet: '-' and '_' here, and no '='. */
static void
b64url_alphabet(void **state)
{
	const unsigned char in[] = { 0xfb, 0xff, 0xbf };
	unsigned char all[256], *d;
	size_t i, len;
	char *s;

	(void)state;
	s = bb_b64url_encode(in, 2);
	assert_string_equal(s, "-_8");
	free(s);
	s = bb_b64url_encode(in, 3);
	assert_string_equal(s, "-_-_");
	d = bb_b64url_decode(s, strlen(s), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(d, in, 3);
	free(d);
	free(s);

	for (i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	for (len = 0; len <= sizeof all; len++) {
		size_t back;

		s = bb_b64url_encode(all, len);
		assert_non_null(s);
		assert_null(strpbrk(s, "+/=\n"));
		d = bb_b64url_decode(s, strlen(s), &back);
		assert_non_null(d);
		assert_int_equal(back, len);
		assert_memory_equal(d, all, len);
		free(d);
		free(s);
	}
}

/* Pieces of a multiple of 3 bytes, encoded one after another, are the whole's encoding:
 * what bb_jwe_encrypt relies on. Past the 3 MiB piece of EVP_EncodeBlock too. */
static void
b64url_pieces(void **state)
{
	size_t len = (3u << 20) * 2 + 7, back, pos = 0, off;
	unsigned char *data = malloc(len), *d;
	char *whole, *pieced;

	(void)state;
	assert_non_null(data);
	assert_int_equal(RAND_bytes(data, (int)len), 1);
	whole = bb_b64url_encode(data, len);
	assert_non_null(whole);
	assert_int_equal(strlen(whole), bb_b64url_encoded_len(len));
	pieced = malloc(bb_b64url_encoded_len(len) + 1);
	for (off = 0; off < len; off += 3 * 1000)
		pos += bb_b64url_encode_to(pieced + pos, data + off,
		    len - off < 3 * 1000 ? len - off : 3 * 1000);
	assert_string_equal(pieced, whole);
	d = bb_b64url_decode(whole, strlen(whole), &back);
	assert_non_null(d);
	assert_int_equal(back, len);
	assert_memory_equal(d, data, len);
	free(d);
	free(pieced);
	free(whole);
	free(data);
}

static void
b64url_rejects(void **state)
{
	static const char *bad[] = {
		"Zg==", "Zm8=", "Zm9v=", "Zm9vYg=",	/* padding */
		"Zm+v", "Zm/v", "-_+/",			/* standard alphabet */
		"Zm9 v", "Zm9v\n", "\tZm9v", "Zm9v ",	/* whitespace */
		"Zm9vY", "Z",				/* a lone character is no byte */
		"Zh", "Zm9", "Zm9vYh",			/* unused bits not zero */
		"Zm9*", "Zm9.", "Zm\xc3\xa4",		/* other characters */
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		unsigned char *d = bb_b64url_decode(bad[i], strlen(bad[i]), &len);
		if (d != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* A NUL inside the given length is a bad character, not the end. */
	assert_null(bb_b64url_decode("Zm9v\0Zm9v", 9, &len));
	/* Only len characters are read: a prefix of a longer string decodes alone. */
	{
		unsigned char *d = bb_b64url_decode("Zm9vYmFy", 4, &len);
		assert_non_null(d);
		assert_int_equal(len, 3);
		assert_memory_equal(d, "foo", 3);
		free(d);
	}
}

/* ---- keys and certificates made for the tests ---- */

static struct fixture {
	EVP_PKEY *rsa4096, *other4096, *rsa2048;	/* keys a destination might publish */
	EVP_PKEY *root_key, *inter_key, *evil_key;	/* CA keys (EC: quick to make) */
	X509 *root, *inter, *evil_root;
	char dir[64], trust[128];
	time_t now;
} fx;

static EVP_PKEY *
rsa_key(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key, issued by issuer (NULL: self-signed) with issuer_key. */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
    time_t not_before, time_t not_after)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x,
	    issuer != NULL ? X509_get_subject_name(issuer) : name), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), not_after));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign" : "critical,keyEncipherment");
	/* Key identifiers, as every real PKI has: they pick the issuer among certificates
	 * of the same name. */
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static json_t *
b64url_bn(EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int len;
	char *s;
	json_t *j;

	assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	len = BN_bn2bin(bn, buf);
	s = bb_b64url_encode(buf, (size_t)len);
	j = json_string(s);
	free(s);
	BN_free(bn);
	return j;
}

/* The JWK a FIT-Connect destination publishes for key, without x5c. */
static json_t *
jwk_of(EVP_PKEY *key)
{
	json_t *j = json_pack("{s:s, s:s, s:[s], s:s}", "kty", "RSA", "alg", "RSA-OAEP-256",
	    "key_ops", "wrapKey", "kid", "enc-key-1");

	json_object_set_new(j, "n", b64url_bn(key, OSSL_PKEY_PARAM_RSA_N));
	json_object_set_new(j, "e", b64url_bn(key, OSSL_PKEY_PARAM_RSA_E));
	return j;
}

static json_t *
x5c_entry(X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	char *s;
	json_t *j;

	assert_true(len > 0);
	s = bb_base64_encode(der, (size_t)len);
	j = json_string(s);
	free(s);
	OPENSSL_free(der);
	return j;
}

/* jwk_of(key) with x5c [leaf, intermediate, root] and a leaf for leaf_key (usually key),
 * issued by the real intermediate, valid from nb to na. */
static json_t *
destination_jwk(EVP_PKEY *key, EVP_PKEY *leaf_key, time_t nb, time_t na)
{
	json_t *j = jwk_of(key);
	X509 *leaf = make_cert("bb test destination", leaf_key, fx.inter, fx.inter_key, 0, nb,
	    na);

	json_object_set_new(j, "x5c", json_pack("[o,o,o]", x5c_entry(leaf),
	    x5c_entry(fx.inter), x5c_entry(fx.root)));
	X509_free(leaf);
	return j;
}

static int
setup(void **state)
{
	FILE *fp;

	(void)state;
	fx.now = time(NULL);
	fx.rsa4096 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	fx.other4096 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	fx.rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	fx.root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	fx.inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	fx.evil_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (fx.rsa4096 == NULL || fx.other4096 == NULL || fx.rsa2048 == NULL ||
	    fx.root_key == NULL || fx.inter_key == NULL || fx.evil_key == NULL)
		return -1;
	fx.root = make_cert("bb test root", fx.root_key, NULL, NULL, 1, fx.now - DAY,
	    fx.now + 3650 * DAY);
	fx.inter = make_cert("bb test intermediate", fx.inter_key, fx.root, fx.root_key, 1,
	    fx.now - DAY, fx.now + 1825 * DAY);
	/* Another root under the same name: only the signature tells them apart. */
	fx.evil_root = make_cert("bb test root", fx.evil_key, NULL, NULL, 1, fx.now - DAY,
	    fx.now + 3650 * DAY);
	if (scratch_make(fx.dir, "jose") != 0)
		return -1;
	snprintf(fx.trust, sizeof fx.trust, "%s/root.pem", fx.dir);
	if ((fp = fopen(fx.trust, "w")) == NULL || PEM_write_X509(fp, fx.root) != 1)
		return -1;
	return fclose(fp) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(fx.rsa4096);
	EVP_PKEY_free(fx.other4096);
	EVP_PKEY_free(fx.rsa2048);
	EVP_PKEY_free(fx.root_key);
	EVP_PKEY_free(fx.inter_key);
	EVP_PKEY_free(fx.evil_key);
	X509_free(fx.root);
	X509_free(fx.inter);
	X509_free(fx.evil_root);
	scratch_remove(fx.dir);
	return 0;
}

/* ---- JWE ---- */

struct segs {
	char *part[5];
	size_t n;
};

static void
split(const char *compact, struct segs *s)
{
	const char *p = compact;

	s->n = 0;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

		assert_true(s->n < 5);
		s->part[s->n] = strndup(p, len);
		s->n++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
}

static void
free_segs(struct segs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->part[i]);
}

static size_t
decoded_len(const char *seg)
{
	size_t len;
	unsigned char *d = bb_b64url_decode(seg, strlen(seg), &len);

	assert_non_null(d);
	free(d);
	return len;
}

static void
jwe_round_trip(void **state)
{
	const char *msg = "{\"antrag\":\"Meldebescheinigung\"}";
	struct bb_err e = { 0, "" };
	struct segs s;
	unsigned char *plain, *hdr;
	size_t len, hlen;
	char *jwe, *tag;

	(void)state;
	jwe = bb_jwe_encrypt(fx.rsa4096, "enc-key-1", "application/json", msg, strlen(msg), &e);
	assert_non_null(jwe);
	split(jwe, &s);
	assert_int_equal(s.n, 5);
	hdr = bb_b64url_decode(s.part[0], strlen(s.part[0]), &hlen);
	assert_non_null(hdr);
	assert_string_equal((char *)hdr, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\","
	    "\"kid\":\"enc-key-1\",\"cty\":\"application/json\"}");
	free(hdr);
	assert_int_equal(decoded_len(s.part[1]), 512);	/* one RSA-4096 block */
	assert_int_equal(decoded_len(s.part[2]), 12);
	assert_int_equal(decoded_len(s.part[3]), strlen(msg));
	assert_int_equal(decoded_len(s.part[4]), 16);
	tag = bb_jwe_tag(jwe);
	assert_string_equal(tag, s.part[4]);
	free(tag);
	free_segs(&s);

	assert_int_equal(bb_jwe_decrypt(fx.rsa4096, jwe, &plain, &len, &e), 0);
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(plain, msg, len);
	assert_int_equal(plain[len], '\0');
	free(plain);
	free(jwe);

	/* Without cty the header has three members, in this order. */
	jwe = bb_jwe_encrypt(fx.rsa4096, "k\"2", NULL, "x", 1, &e);
	assert_non_null(jwe);
	split(jwe, &s);
	hdr = bb_b64url_decode(s.part[0], strlen(s.part[0]), &hlen);
	assert_string_equal((char *)hdr,
	    "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"k\\\"2\"}");
	free(hdr);
	free_segs(&s);
	free(jwe);
}

static void
jwe_sizes(void **state)
{
	/* Empty, one byte, around the encoder's piece size, past a MiB. */
	static const size_t sizes[] = { 0, 1, 2, 3, 196607, 196608, 196609, (1u << 20) + 5 };
	struct bb_err e = { 0, "" };
	unsigned char *data = malloc((1u << 20) + 5), *plain;
	size_t i, len;

	(void)state;
	assert_non_null(data);
	assert_int_equal(RAND_bytes(data, (1 << 20) + 5), 1);
	for (i = 0; i < NELEM(sizes); i++) {
		char *jwe = bb_jwe_encrypt(fx.rsa4096, "k", NULL, data, sizes[i], &e);
		struct segs s;

		assert_non_null(jwe);
		split(jwe, &s);
		assert_int_equal(decoded_len(s.part[3]), sizes[i]);
		free_segs(&s);
		assert_int_equal(bb_jwe_decrypt(fx.rsa4096, jwe, &plain, &len, &e), 0);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(plain, data, len);
		free(plain);
		free(jwe);
	}
	free(data);
}

/* A new CEK and IV every time: no two segments of two encryptions are equal but the
 * header. */
static void
jwe_each_different(void **state)
{
	struct bb_err e = { 0, "" };
	char *a = bb_jwe_encrypt(fx.rsa4096, "k", NULL, "same text", 9, &e);
	char *b = bb_jwe_encrypt(fx.rsa4096, "k", NULL, "same text", 9, &e);
	struct segs sa, sb;
	size_t i;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	split(a, &sa);
	split(b, &sb);
	assert_string_equal(sa.part[0], sb.part[0]);
	for (i = 1; i < 5; i++)
		assert_string_not_equal(sa.part[i], sb.part[i]);
	free_segs(&sa);
	free_segs(&sb);
	free(a);
	free(b);
}

/* The JWE with segment i's first character changed. The first character of a segment
 * always carries six bits of its first byte, so the bytes change. */
static char *
tampered(const char *jwe, int seg)
{
	char *t = strdup(jwe), *p = t;
	int i;

	for (i = 0; i < seg; i++)
		p = strchr(p, '.') + 1;
	*p = *p == 'A' ? 'B' : 'A';
	return t;
}

static void
jwe_tampering(void **state)
{
	const char *msg = "Wohnsitz anmelden";
	struct bb_err e = { 0, "" };
	unsigned char *plain = (unsigned char *)"untouched";
	size_t len = 99;
	char *jwe, *t, *other_hdr, *swapped;
	struct segs s;
	int i;

	(void)state;
	jwe = bb_jwe_encrypt(fx.rsa4096, "k", NULL, msg, strlen(msg), &e);
	assert_non_null(jwe);
	for (i = 0; i < 5; i++) {
		t = tampered(jwe, i);
		e.status = 0;
		assert_int_equal(bb_jwe_decrypt(fx.rsa4096, t, &plain, &len, &e), BB_PROTOCOL);
		assert_int_equal(e.status, BB_PROTOCOL);
		assert_null(plain);
		assert_int_equal(len, 0);
		free(t);
	}

	/* A header that still says the same but is other bytes: the AAD no longer fits. */
	split(jwe, &s);
	other_hdr = bb_b64url_encode("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"j\"}",
	    strlen("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"j\"}"));
	swapped = malloc(strlen(jwe) + strlen(other_hdr) + 1);
	sprintf(swapped, "%s%s", other_hdr, jwe + strlen(s.part[0]));
	assert_int_equal(bb_jwe_decrypt(fx.rsa4096, swapped, &plain, &len, &e), BB_PROTOCOL);
	assert_non_null(strstr(e.msg, "decryption failed"));
	free(swapped);
	free(other_hdr);

	/* Cut short, a segment too many, the wrong key. */
	t = strndup(jwe, strlen(jwe) - strlen(s.part[4]) - 1);
	assert_int_equal(bb_jwe_decrypt(fx.rsa4096, t, &plain, &len, &e), BB_PROTOCOL);
	free(t);
	t = malloc(strlen(jwe) + 3);
	sprintf(t, "%s.A", jwe);
	assert_int_equal(bb_jwe_decrypt(fx.rsa4096, t, &plain, &len, &e), BB_PROTOCOL);
	free(t);
	assert_int_equal(bb_jwe_decrypt(fx.other4096, jwe, &plain, &len, &e), BB_PROTOCOL);
	assert_null(plain);
	free_segs(&s);
	free(jwe);
	assert_null(bb_jwe_tag("a.b.c"));
}

static void
jwe_refuses_non_rsa(void **state)
{
	struct bb_err e = { 0, "" };

	(void)state;
	assert_null(bb_jwe_encrypt(fx.root_key, "k", NULL, "x", 1, &e));
	assert_int_equal(e.status, BB_SOFTWARE);
	assert_null(bb_jwe_encrypt(NULL, "k", NULL, "x", 1, &e));
}

/* RFC 7516 Appendix A.1: RSAES-OAEP (SHA-1) and A256GCM; the JWK of A.1.3 and the
 * compact serialization of A.1.7. */
static const char *a1_jwk =
    "{\"kty\":\"RSA\","
    "\"n\":\"oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUW"
    "cJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3S"
    "psk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2a"
    "sbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMS"
    "tPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2dj"
    "YgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw\","
    "\"e\":\"AQAB\","
    "\"d\":\"kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5N"
    "WV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD9"
    "3Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghk"
    "qDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vl"
    "t3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSnd"
    "VTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ\","
    "\"p\":\"1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-"
    "SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lf"
    "fNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0\","
    "\"q\":\"wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBm"
    "UDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aX"
    "IWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc\","
    "\"dp\":\"ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KL"
    "hMXvo-uz-KUJWDxS5pFQ_M0evdo1dKiRTjVw_x4NyqyXPM5nULPkcpU827"
    "rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE\","
    "\"dq\":\"Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCj"
    "ywcMlYYg4yoC4YZa9hNVcsjqA3FeiL19rk8g6Qn29Tt0cj8qqyFpz9vNDB"
    "UfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis\","
    "\"qi\":\"VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-ZW1FxU7"
    "AlWAyLWybqq6t16VFd7hQd0y6flUK4SlOydB61gwanOsXGOAOv82cHq0E3"
    "eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY\"}";

static const char *a1_jwe =
    "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ."
    "OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe"
    "ipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDb"
    "Sv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaV"
    "mqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je8"
    "1860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi"
    "6UklfCpIMfIjf7iGdXKHzg."
    "48V1_ALb6US04U3b."
    "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji"
    "SdiwkIr3ajwQzaBtQD_A."
    "XFBoMYUZodetZdvTiFvSkQ";

static const char *a1_plain = "The true sign of intelligence is not knowledge but imagination.";

/* An RSA private key from the members of a JWK (RFC 7518 section 6.3.2). */
static EVP_PKEY *
private_from_jwk(const json_t *jwk)
{
	static const struct {
		const char *member, *param;
	} map[] = {
		{ "n", OSSL_PKEY_PARAM_RSA_N }, { "e", OSSL_PKEY_PARAM_RSA_E },
		{ "d", OSSL_PKEY_PARAM_RSA_D }, { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
		{ "q", OSSL_PKEY_PARAM_RSA_FACTOR2 }, { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
		{ "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 }, { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
	};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn[NELEM(map)];
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *k = NULL;
	size_t i;

	for (i = 0; i < NELEM(map); i++) {
		const char *s = json_string_value(json_object_get(jwk, map[i].member));
		unsigned char *raw;
		size_t len;

		assert_non_null(s);
		raw = bb_b64url_decode(s, strlen(s), &len);
		assert_non_null(raw);
		bn[i] = BN_bin2bn(raw, (int)len, NULL);
		free(raw);
		assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, map[i].param, bn[i]), 1);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < NELEM(map); i++)
		BN_clear_free(bn[i]);
	return k;
}

static void
jwe_rfc7516_a1(void **state)
{
	json_t *jwk = json_loads(a1_jwk, 0, NULL);
	struct bb_err e = { 0, "" };
	EVP_PKEY *priv, *pub;
	unsigned char *plain;
	size_t len;
	char *jwe;

	(void)state;
	assert_non_null(jwk);
	priv = private_from_jwk(jwk);
	assert_int_equal(bb_jwe_decrypt(priv, a1_jwe, &plain, &len, &e), 0);
	assert_int_equal(len, strlen(a1_plain));
	assert_memory_equal(plain, a1_plain, len);
	free(plain);

	/* The published tag is what bb_jwe_tag reports to compare with accept-submission. */
	{
		char *tag = bb_jwe_tag(a1_jwe);
		assert_string_equal(tag, "XFBoMYUZodetZdvTiFvSkQ");
		free(tag);
	}

	/* The same key's public half from the JWK, used with RSA-OAEP-256 both ways. */
	assert_int_equal(bb_jwk_rsa_public(jwk, &pub, &e), 0);
	jwe = bb_jwe_encrypt(pub, NULL, NULL, a1_plain, strlen(a1_plain), &e);
	assert_non_null(jwe);
	assert_int_equal(bb_jwe_decrypt(priv, jwe, &plain, &len, &e), 0);
	assert_memory_equal(plain, a1_plain, len);
	free(plain);
	free(jwe);

	/* The A.1 ciphertext under a header claiming RSA-OAEP-256: OAEP fails, and the
	 * random CEK that replaces it fails at the tag, as any other wrong key would. */
	{
		const char *hdr256 = "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0";
		char *t = malloc(strlen(a1_jwe) + 16);

		sprintf(t, "%s%s", hdr256, strchr(a1_jwe, '.'));
		assert_int_equal(bb_jwe_decrypt(priv, t, &plain, &len, &e), BB_PROTOCOL);
		free(t);
	}
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	json_decref(jwk);
}

/* ---- JWK ---- */

static void
jwk_rsa_public(void **state)
{
	struct bb_err e = { 0, "" };
	json_t *jwk = jwk_of(fx.rsa4096), *bad;
	EVP_PKEY *k;
	EVP_PKEY *small = rsa_key(1024);

	(void)state;
	assert_int_equal(bb_jwk_rsa_public(jwk, &k, &e), 0);
	assert_int_equal(EVP_PKEY_eq(k, fx.rsa4096), 1);
	EVP_PKEY_free(k);

	bad = json_deep_copy(jwk);
	json_object_set_new(bad, "kty", json_string("EC"));
	assert_int_equal(bb_jwk_rsa_public(bad, &k, &e), BB_PROTOCOL);
	assert_null(k);
	assert_string_equal(e.msg, "JWK: kty is \"EC\", need \"RSA\"");
	json_decref(bad);

	bad = json_deep_copy(jwk);
	json_object_del(bad, "n");
	assert_int_equal(bb_jwk_rsa_public(bad, &k, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWK: n is missing or not a string");
	json_object_set_new(bad, "n", json_string("AQAB=="));
	assert_int_equal(bb_jwk_rsa_public(bad, &k, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWK: n is not base64url");
	json_decref(bad);

	/* An even exponent is no RSA public key. */
	bad = json_deep_copy(jwk);
	json_object_set_new(bad, "e", json_string("AQAA"));
	assert_int_equal(bb_jwk_rsa_public(bad, &k, &e), BB_PROTOCOL);
	assert_non_null(strstr(e.msg, "public key checks"));
	json_decref(bad);

	bad = jwk_of(small);
	assert_int_equal(bb_jwk_rsa_public(bad, &k, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWK: modulus has 1024 bits, need at least 2048");
	json_decref(bad);

	bad = json_string("RSA");
	assert_int_equal(bb_jwk_rsa_public(bad, &k, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWK: not a JSON object");
	json_decref(bad);
	EVP_PKEY_free(small);
	json_decref(jwk);
}

/* check_key(jwk, want_status, want_substring): one rule at a time. */
static void
check_key(json_t *jwk, time_t now, int want, const char *reason)
{
	struct bb_err e = { 0, "" };
	EVP_PKEY *k = (EVP_PKEY *)&e;	/* anything but NULL: it must be set */
	int rc = bb_jwk_check_encryption_key(jwk, fx.trust, now, &k, &e);

	if (rc != want || (reason != NULL && strstr(e.msg, reason) == NULL))
		fail_msg("status %d, want %d; \"%s\" does not say \"%s\"", rc, want, e.msg,
		    reason != NULL ? reason : "");
	if (want == 0) {
		assert_non_null(k);
		EVP_PKEY_free(k);
	} else {
		assert_null(k);
		assert_int_equal(e.status, want);
		assert_null(strchr(e.msg, '\n'));
	}
	json_decref(jwk);
}

static json_t *
good_jwk(void)
{
	return destination_jwk(fx.rsa4096, fx.rsa4096, fx.now - DAY, fx.now + 365 * DAY);
}

static json_t *
with(json_t *jwk, const char *member, json_t *value)
{
	if (value == NULL)
		json_object_del(jwk, member);
	else
		json_object_set_new(jwk, member, value);
	return jwk;
}

static void
check_accepts_good_key(void **state)
{
	struct bb_err e = { 0, "" };
	json_t *jwk = good_jwk();
	EVP_PKEY *k;

	(void)state;
	assert_int_equal(bb_jwk_check_encryption_key(jwk, fx.trust, fx.now, &k, &e), 0);
	assert_int_equal(EVP_PKEY_eq(k, fx.rsa4096), 1);
	EVP_PKEY_free(k);
	/* key_ops may hold more than wrapKey. */
	check_key(with(good_jwk(), "key_ops", json_pack("[s,s]", "encrypt", "wrapKey")), fx.now,
	    0, NULL);
	json_decref(jwk);
}

static void
check_refuses_each_rule(void **state)
{
	(void)state;
	check_key(with(good_jwk(), "kty", json_string("EC")), fx.now, BB_NOPERM,
	    "destination key: kty is \"EC\", need \"RSA\"");
	check_key(with(good_jwk(), "alg", json_string("RSA-OAEP")), fx.now, BB_NOPERM,
	    "destination key: alg is \"RSA-OAEP\", need \"RSA-OAEP-256\"");
	check_key(with(good_jwk(), "alg", NULL), fx.now, BB_NOPERM,
	    "destination key: alg is missing");
	check_key(with(good_jwk(), "key_ops", json_pack("[s]", "encrypt")), fx.now, BB_NOPERM,
	    "destination key: key_ops does not contain \"wrapKey\"");
	check_key(with(good_jwk(), "key_ops", NULL), fx.now, BB_NOPERM, "wrapKey");
	check_key(with(good_jwk(), "key_ops", json_string("wrapKey")), fx.now, BB_NOPERM,
	    "wrapKey");
	check_key(with(good_jwk(), "e", json_string("Aw")), fx.now, BB_NOPERM,
	    "destination key: e is \"Aw\", need \"AQAB\"");
	check_key(destination_jwk(fx.rsa2048, fx.rsa2048, fx.now - DAY, fx.now + DAY), fx.now,
	    BB_NOPERM, "destination key: modulus has 2048 bits, need 4096");
	check_key(with(good_jwk(), "x5c", NULL), fx.now, BB_NOPERM,
	    "destination key: x5c is missing");
	check_key(with(good_jwk(), "x5c", json_array()), fx.now, BB_NOPERM, "x5c is missing");
	check_key(with(good_jwk(), "x5c", json_pack("[s]", "MIIB-_")), fx.now, BB_NOPERM,
	    "x5c[0] is not base64");
	check_key(with(good_jwk(), "x5c", json_pack("[s]", "AAAA")), fx.now, BB_NOPERM,
	    "x5c[0] is not a DER certificate");
	check_key(json_string("not a key"), fx.now, BB_NOPERM, "not a JSON object");
}

static void
check_refuses_other_leaf_key(void **state)
{
	(void)state;
	/* n/e of one key, a good chain for another. */
	check_key(destination_jwk(fx.rsa4096, fx.other4096, fx.now - DAY, fx.now + DAY),
	    fx.now, BB_NOPERM, "destination key: the leaf certificate (x5c[0]) is for another "
	    "key than n/e");
}

static void
check_refuses_broken_chains(void **state)
{
	json_t *jwk;
	X509 *leaf;

	(void)state;
	/* The leaf issued by another root of the same name. */
	jwk = jwk_of(fx.rsa4096);
	leaf = make_cert("bb test destination", fx.rsa4096, fx.evil_root, fx.evil_key, 0,
	    fx.now - DAY, fx.now + DAY);
	json_object_set_new(jwk, "x5c", json_pack("[o,o,o]", x5c_entry(leaf),
	    x5c_entry(fx.inter), x5c_entry(fx.root)));
	X509_free(leaf);
	check_key(jwk, fx.now, BB_NOPERM, "destination key: x5c chain does not verify: ");

	/* The same with the other root in x5c: being sent along makes it no anchor. */
	jwk = jwk_of(fx.rsa4096);
	leaf = make_cert("bb test destination", fx.rsa4096, fx.evil_root, fx.evil_key, 0,
	    fx.now - DAY, fx.now + DAY);
	json_object_set_new(jwk, "x5c", json_pack("[o,o]", x5c_entry(leaf),
	    x5c_entry(fx.evil_root)));
	X509_free(leaf);
	check_key(jwk, fx.now, BB_NOPERM, "x5c chain does not verify");

	/* The intermediate left out. */
	jwk = good_jwk();
	json_array_remove(json_object_get(jwk, "x5c"), 1);
	json_array_remove(json_object_get(jwk, "x5c"), 1);
	check_key(jwk, fx.now, BB_NOPERM,
	    "x5c chain does not verify: unable to get local issuer certificate (leaf)");
}

static void
check_refuses_times(void **state)
{
	(void)state;
	check_key(destination_jwk(fx.rsa4096, fx.rsa4096, fx.now - 30 * DAY, fx.now - DAY),
	    fx.now, BB_NOPERM, "x5c chain does not verify: certificate has expired (leaf)");
	/* `now` decides, not the clock: the good key a year and a day on, and before the
	 * root existed. */
	check_key(good_jwk(), fx.now + 366 * DAY, BB_NOPERM, "certificate has expired (leaf)");
	check_key(good_jwk(), fx.now - 2 * DAY, BB_NOPERM, "certificate is not yet valid");
	check_key(good_jwk(), fx.now + 2000 * DAY, BB_NOPERM, "certificate has expired");
}

static void
check_trust_file(void **state)
{
	struct bb_err e = { 0, "" };
	json_t *jwk = good_jwk();
	EVP_PKEY *k;
	char path[160];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof path, "%s/missing.pem", fx.dir);
	assert_int_equal(bb_jwk_check_encryption_key(jwk, path, fx.now, &k, &e), BB_CONFIG);
	assert_non_null(strstr(e.msg, "missing.pem: No such file"));
	assert_int_equal(bb_jwk_check_encryption_key(jwk, NULL, fx.now, &k, &e), BB_CONFIG);
	snprintf(path, sizeof path, "%s/empty.pem", fx.dir);
	fp = fopen(path, "w");
	fputs("no certificates here\n", fp);
	fclose(fp);
	assert_int_equal(bb_jwk_check_encryption_key(jwk, path, fx.now, &k, &e), BB_CONFIG);
	assert_non_null(strstr(e.msg, "holds no certificate"));
	/* A broken certificate after a good one does not go unnoticed. */
	snprintf(path, sizeof path, "%s/broken.pem", fx.dir);
	fp = fopen(path, "w");
	PEM_write_X509(fp, fx.root);
	fputs("-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n", fp);
	fclose(fp);
	assert_int_equal(bb_jwk_check_encryption_key(jwk, path, fx.now, &k, &e), BB_CONFIG);
	/* Several roots in one file: the one that issued the chain is found. */
	snprintf(path, sizeof path, "%s/two.pem", fx.dir);
	fp = fopen(path, "w");
	PEM_write_X509(fp, fx.evil_root);
	PEM_write_X509(fp, fx.root);
	fclose(fp);
	assert_int_equal(bb_jwk_check_encryption_key(jwk, path, fx.now, &k, &e), 0);
	EVP_PKEY_free(k);
	json_decref(jwk);
}

/* The destination's signature key: the same rules but for alg and key_ops, and the
 * messages say which key. */
static void
check_signature_key(void **state)
{
	struct bb_err e = { 0, "" };
	EVP_PKEY *k;
	json_t *sig;

	(void)state;
	sig = with(with(good_jwk(), "alg", json_string("PS512")), "key_ops",
	    json_pack("[s]", "verify"));
	assert_int_equal(bb_jwk_check_signature_key(sig, fx.trust, fx.now, &k, &e), 0);
	assert_int_equal(EVP_PKEY_eq(k, fx.rsa4096), 1);
	EVP_PKEY_free(k);
	/* The encryption key is no signature key, nor the reverse. */
	assert_int_equal(bb_jwk_check_encryption_key(sig, fx.trust, fx.now, &k, &e), BB_NOPERM);
	assert_null(k);
	json_decref(sig);
	sig = good_jwk();
	assert_int_equal(bb_jwk_check_signature_key(sig, fx.trust, fx.now, &k, &e), BB_NOPERM);
	assert_null(k);
	assert_string_equal(e.msg,
	    "destination signature key: alg is \"RSA-OAEP-256\", need \"PS512\"");
	json_object_set_new(sig, "alg", json_string("PS512"));
	assert_int_equal(bb_jwk_check_signature_key(sig, fx.trust, fx.now, &k, &e), BB_NOPERM);
	assert_string_equal(e.msg,
	    "destination signature key: key_ops does not contain \"verify\"");
	json_decref(sig);
	sig = with(with(destination_jwk(fx.rsa2048, fx.rsa2048, fx.now - DAY, fx.now + DAY),
	    "alg", json_string("PS512")), "key_ops", json_pack("[s]", "verify"));
	assert_int_equal(bb_jwk_check_signature_key(sig, fx.trust, fx.now, &k, &e), BB_NOPERM);
	assert_string_equal(e.msg, "destination signature key: modulus has 2048 bits, need 4096");
	json_decref(sig);
	sig = with(with(good_jwk(), "alg", json_string("PS512")), "key_ops",
	    json_pack("[s]", "verify"));
	json_array_remove(json_object_get(sig, "x5c"), 1);
	json_array_remove(json_object_get(sig, "x5c"), 1);
	assert_int_equal(bb_jwk_check_signature_key(sig, fx.trust, fx.now, &k, &e), BB_NOPERM);
	assert_non_null(strstr(e.msg, "destination signature key: x5c chain does not verify"));
	json_decref(sig);
}

/* ---- JWS ---- */

/* A compact JWS of header and payload, RSASSA-PSS with md, MGF1 md and salt bytes. */
static char *
sign(EVP_PKEY *key, const char *header, const char *payload, const EVP_MD *md, int salt)
{
	char *h = bb_b64url_encode(header, strlen(header));
	char *p = bb_b64url_encode(payload, strlen(payload));
	char *input = malloc(strlen(h) + strlen(p) + 2), *sig64, *out;
	unsigned char sig[1024];
	size_t siglen = sizeof sig;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	sprintf(input, "%s.%s", h, p);
	assert_int_equal(EVP_DigestSignInit(mctx, &pctx, md, NULL, key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0);
	assert_int_equal(EVP_DigestSign(mctx, sig, &siglen, (unsigned char *)input,
	    strlen(input)), 1);
	sig64 = bb_b64url_encode(sig, siglen);
	out = malloc(strlen(input) + strlen(sig64) + 2);
	sprintf(out, "%s.%s", input, sig64);
	EVP_MD_CTX_free(mctx);
	free(sig64);
	free(input);
	free(h);
	free(p);
	return out;
}

static const char *set_header =
    "{\"typ\":\"secevent+jwt\",\"alg\":\"PS512\",\"kid\":\"sig-1\"}";
static const char *set_payload =
    "{\"jti\":\"0f3c\",\"iss\":\"https://dvdv.example\",\"iat\":1764496503,"
    "\"sub\":\"submission:9a1c\",\"txn\":\"case:77b2\",\"events\":{"
    "\"https://schema.fitko.de/fit-connect/events/accept-submission\":{}}}";

static void
jws_verifies(void **state)
{
	struct bb_err e = { 0, "" };
	char *jws = sign(fx.rsa4096, set_header, set_payload, EVP_sha512(), 64);
	json_t *payload, *header, *want = json_loads(set_payload, 0, NULL);

	(void)state;
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa4096, &payload, &e), 0);
	assert_true(json_equal(payload, want));
	json_decref(payload);

	assert_int_equal(bb_jws_parse(jws, &header, &payload, &e), 0);
	assert_string_equal(json_string_value(json_object_get(header, "kid")), "sig-1");
	assert_string_equal(json_string_value(json_object_get(payload, "iss")),
	    "https://dvdv.example");
	json_decref(header);
	json_decref(payload);
	assert_int_equal(bb_jws_parse(jws, NULL, NULL, &e), 0);
	free(jws);

	/* A 2048-bit signing key works the same way. */
	jws = sign(fx.rsa2048, set_header, set_payload, EVP_sha512(), 64);
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa2048, &payload, &e), 0);
	json_decref(payload);
	free(jws);
	json_decref(want);
}

static void
jws_refuses(void **state)
{
	struct bb_err e = { 0, "" };
	char *jws = sign(fx.rsa4096, set_header, set_payload, EVP_sha512(), 64), *t, *sig64;
	unsigned char *sig;
	size_t siglen;
	json_t *payload = (json_t *)&e;

	(void)state;
	/* One bit of the signature. */
	sig = bb_b64url_decode(strrchr(jws, '.') + 1, strlen(strrchr(jws, '.') + 1), &siglen);
	sig[siglen / 2] ^= 0x01;
	sig64 = bb_b64url_encode(sig, siglen);
	t = malloc(strlen(jws) + 1);
	sprintf(t, "%.*s.%s", (int)(strrchr(jws, '.') - jws), jws, sig64);
	assert_int_equal(bb_jws_verify_ps512(t, fx.rsa4096, &payload, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWS: signature does not verify");
	assert_null(payload);
	free(t);
	free(sig64);
	free(sig);

	/* The wrong key. */
	assert_int_equal(bb_jws_verify_ps512(jws, fx.other4096, &payload, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWS: signature does not verify");
	/* The payload swapped for another. */
	{
		char *p = bb_b64url_encode("{\"iss\":\"x\"}", 11), *dot1 = strchr(jws, '.');
		t = malloc(strlen(jws) + strlen(p) + 1);
		sprintf(t, "%.*s.%s%s", (int)(dot1 - jws), jws, p, strrchr(jws, '.'));
		assert_int_equal(bb_jws_verify_ps512(t, fx.rsa4096, &payload, &e), BB_PROTOCOL);
		free(t);
		free(p);
	}
	free(jws);

	/* Other algorithms, even with a good PSS signature under them. */
	jws = sign(fx.rsa4096, "{\"alg\":\"RS256\"}", set_payload, EVP_sha512(), 64);
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa4096, &payload, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWS: alg is not PS512");
	free(jws);
	jws = sign(fx.rsa4096, "{\"alg\":\"none\"}", set_payload, EVP_sha512(), 64);
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa4096, &payload, &e), BB_PROTOCOL);
	free(jws);
	jws = sign(fx.rsa4096, "{\"alg\":\"PS512\",\"crit\":[\"exp\"],\"exp\":1}", set_payload,
	    EVP_sha512(), 64);
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa4096, &payload, &e), BB_PROTOCOL);
	free(jws);
	/* PS512 means a 64-byte salt; PSS with SHA-256 or another salt is not PS512. */
	jws = sign(fx.rsa4096, set_header, set_payload, EVP_sha512(), 32);
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa4096, &payload, &e), BB_PROTOCOL);
	free(jws);
	jws = sign(fx.rsa4096, set_header, set_payload, EVP_sha256(), 64);
	assert_int_equal(bb_jws_verify_ps512(jws, fx.rsa4096, &payload, &e), BB_PROTOCOL);
	free(jws);

	/* Not a JWS. */
	assert_int_equal(bb_jws_verify_ps512("a.b", fx.rsa4096, &payload, &e), BB_PROTOCOL);
	assert_int_equal(bb_jws_verify_ps512("a.b.c.d", fx.rsa4096, &payload, &e), BB_PROTOCOL);
	assert_int_equal(bb_jws_parse("e30.bm90IGpzb24.", NULL, &payload, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWS: the payload is not a JSON object");
	assert_int_equal(bb_jws_parse("eyJhIjoxLCJhIjoyfQ.e30.", NULL, NULL, &e), BB_PROTOCOL);
	assert_string_equal(e.msg, "JWS: the header is not a JSON object");
	assert_int_equal(bb_jws_verify_ps512("e30.e30.AA", fx.root_key, &payload, &e),
	    BB_PROTOCOL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64url_rfc4648),
		cmocka_unit_test(b64url_alphabet),
		cmocka_unit_test(b64url_pieces),
		cmocka_unit_test(b64url_rejects),
		cmocka_unit_test(jwe_round_trip),
		cmocka_unit_test(jwe_sizes),
		cmocka_unit_test(jwe_each_different),
		cmocka_unit_test(jwe_tampering),
		cmocka_unit_test(jwe_refuses_non_rsa),
		cmocka_unit_test(jwe_rfc7516_a1),
		cmocka_unit_test(jwk_rsa_public),
		cmocka_unit_test(check_accepts_good_key),
		cmocka_unit_test(check_refuses_each_rule),
		cmocka_unit_test(check_refuses_other_leaf_key),
		cmocka_unit_test(check_refuses_broken_chains),
		cmocka_unit_test(check_refuses_times),
		cmocka_unit_test(check_trust_file),
		cmocka_unit_test(check_signature_key),
		cmocka_unit_test(jws_verifies),
		cmocka_unit_test(jws_refuses),
	};

	return cmocka_run_group_tests_name("jose", tests, setup, teardown);
}
