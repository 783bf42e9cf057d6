/* JWE compact serialization (RFC 7516) with RSA-OAEP-256 key encryption and A256GCM
 * content encryption (RFC 7518 sections 4.3 and 5.3), as FIT-Connect prescribes for
 * metadata, data and attachments. OpenSSL does every primitive (EVP_PKEY_encrypt with
 * OAEP, EVP aes-256-gcm, RAND_bytes); this file lays out the five segments:
 *   BASE64URL(header) . BASE64URL(encrypted CEK) . BASE64URL(IV) . BASE64URL(ciphertext)
 *   . BASE64URL(tag), with the ASCII of the first segment as the GCM additional data.
 * Attachments go up to 500 MB, so the ciphertext is encoded into the result piece by
 * piece instead of being held twice. */
#include "jose/jose.h"

#include "exit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#define CEK_LEN 32	/* AES-256 */
#define IV_LEN 12	/* 96 bits, RFC 7518 section 5.3 */
#define TAG_LEN 16	/* 128 bits */
/* Plaintext per EVP call: a multiple of 3 so each piece's base64 joins the next. */
#define PIECE (3u << 16)
/* GCM counts blocks in 32 bits: at most 2^39 - 256 bits under one IV (SP 800-38D). */
#define GCM_MAX ((((uint64_t)1 << 32) - 2) * 16)

/* Sets the OAEP parameters: SHA-256 for RSA-OAEP-256, SHA-1 for RSA-OAEP, both for the
 * hash and MGF1 (RFC 7518 section 4.3). */
static int
set_oaep(EVP_PKEY_CTX *ctx, const EVP_MD *md)
{
	return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) > 0 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
}

static char *
protected_header(const char *kid, const char *cty)
{
	json_t *h = json_object();
	char *s = NULL;

	/* Insertion order is kept by jansson, so the header reads alg, enc, kid, cty. */
	if (h != NULL &&
	    json_object_set_new(h, "alg", json_string("RSA-OAEP-256")) == 0 &&
	    json_object_set_new(h, "enc", json_string("A256GCM")) == 0 &&
	    (kid == NULL || json_object_set_new(h, "kid", json_string(kid)) == 0) &&
	    (cty == NULL || json_object_set_new(h, "cty", json_string(cty)) == 0))
		s = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	return s;
}

/* The CEK encrypted to pub with RSA-OAEP-256; a malloc'd buffer or NULL. */
static unsigned char *
wrap_cek(EVP_PKEY *pub, const unsigned char *cek, size_t *outlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	unsigned char *out = NULL;
	size_t len = 0;

	if (ctx != NULL && EVP_PKEY_encrypt_init(ctx) > 0 && set_oaep(ctx, EVP_sha256()) &&
	    EVP_PKEY_encrypt(ctx, NULL, &len, cek, CEK_LEN) > 0 &&
	    (out = malloc(len)) != NULL &&
	    EVP_PKEY_encrypt(ctx, out, &len, cek, CEK_LEN) <= 0) {
		free(out);
		out = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	*outlen = len;
	return out;
}

/* AES-256-GCM under cek and iv, encrypting (enc 1) or decrypting (0), the encoded
 * header (aad, as it stands in the JWE) its additional data (RFC 7516 5.1 #14); NULL
 * when OpenSSL cannot. */
static EVP_CIPHER_CTX *
gcm_start(int enc, const unsigned char *cek, const unsigned char *iv, const char *aad,
    size_t aadlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;

	if (ctx == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, cek, iv, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aadlen) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

char *
bb_jwe_encrypt(EVP_PKEY *pub, const char *kid, const char *cty, const void *plain,
    size_t len, struct bb_err *e)
{
	unsigned char cek[CEK_LEN], iv[IV_LEN], tag[TAG_LEN], *ek = NULL, *piece = NULL;
	const unsigned char *p = plain;
	char *header = NULL, *out = NULL, *w;
	size_t eklen = 0, hlen, total, off, chunk;
	EVP_CIPHER_CTX *ctx = NULL;
	int n, ok = 0;

	if (pub == NULL || !EVP_PKEY_is_a(pub, "RSA")) {
		bb_fail(e, BB_SOFTWARE, "JWE: the key is not an RSA key");
		return NULL;
	}
	if ((uint64_t)len > GCM_MAX || len > SIZE_MAX / 2) {
		bb_fail(e, BB_SOFTWARE, "JWE: %zu bytes are too many for one encryption", len);
		return NULL;
	}
	if ((header = protected_header(kid, cty)) == NULL) {
		bb_fail(e, BB_SOFTWARE, "JWE: cannot make the header");
		return NULL;
	}
	/* A fresh key and IV for every message: GCM under a repeated key and IV leaks the
	 * XOR of the plaintexts and the authentication key. */
	if (RAND_bytes(cek, sizeof cek) != 1 || RAND_bytes(iv, sizeof iv) != 1) {
		bb_fail(e, BB_SOFTWARE, "JWE: no random bytes");
		goto done;
	}
	if ((ek = wrap_cek(pub, cek, &eklen)) == NULL) {
		bb_fail(e, BB_SOFTWARE, "JWE: RSA-OAEP-256 encryption of the key failed");
		goto done;
	}
	hlen = bb_b64url_encoded_len(strlen(header));
	total = hlen + 1 + bb_b64url_encoded_len(eklen) + 1 + bb_b64url_encoded_len(IV_LEN) +
	    1 + bb_b64url_encoded_len(len) + 1 + bb_b64url_encoded_len(TAG_LEN) + 1;
	if ((out = malloc(total)) == NULL || (piece = malloc(PIECE)) == NULL) {
		bb_fail(e, BB_SOFTWARE, "JWE: out of memory for %zu bytes", total);
		goto done;
	}
	w = out;
	w += bb_b64url_encode_to(w, header, strlen(header));
	*w++ = '.';
	w += bb_b64url_encode_to(w, ek, eklen);
	*w++ = '.';
	w += bb_b64url_encode_to(w, iv, IV_LEN);
	*w++ = '.';

	if ((ctx = gcm_start(1, cek, iv, out, hlen)) == NULL) {
		bb_fail(e, BB_SOFTWARE, "JWE: cannot set up AES-256-GCM");
		goto done;
	}
	for (off = 0; off < len; off += chunk) {
		chunk = len - off > PIECE ? PIECE : len - off;
		if (EVP_EncryptUpdate(ctx, piece, &n, p + off, (int)chunk) != 1 ||
		    (size_t)n != chunk) {
			bb_fail(e, BB_SOFTWARE, "JWE: AES-256-GCM encryption failed");
			goto done;
		}
		w += bb_b64url_encode_to(w, piece, chunk);
	}
	if (EVP_EncryptFinal_ex(ctx, piece, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1) {
		bb_fail(e, BB_SOFTWARE, "JWE: AES-256-GCM encryption failed");
		goto done;
	}
	*w++ = '.';
	w += bb_b64url_encode_to(w, tag, TAG_LEN);
	ok = 1;
done:
	OPENSSL_cleanse(cek, sizeof cek);
	EVP_CIPHER_CTX_free(ctx);
	free(piece);
	free(ek);
	free(header);
	if (!ok) {
		ERR_clear_error();
		free(out);
		out = NULL;
	}
	return out;
}

char *
bb_jwe_tag(const char *compact)
{
	const char *p, *last = NULL;
	int dots = 0;

	if (compact == NULL)
		return NULL;
	for (p = compact; *p != '\0'; p++)
		if (*p == '.') {
			dots++;
			last = p;
		}
	return dots == 4 ? strdup(last + 1) : NULL;
}

/* Decrypting: for the tests and the rig. Failures are the sender's (76). */

struct seg {
	const char *s;
	size_t len;
};

static int
split5(const char *compact, struct seg seg[5])
{
	const char *p = compact;
	int i;

	for (i = 0; i < 5; i++) {
		const char *dot = strchr(p, '.');

		seg[i].s = p;
		seg[i].len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if ((i < 4) != (dot != NULL))
			return -1;
		p = dot != NULL ? dot + 1 : p;
	}
	return 0;
}

static unsigned char *
decode_seg(const struct seg *s, size_t *len)
{
	return bb_b64url_decode(s->s, s->len, len);
}

/* The digest of alg: SHA-256 for RSA-OAEP-256, SHA-1 for RSA-OAEP; NULL otherwise. */
static const EVP_MD *
oaep_md(const json_t *header)
{
	const char *alg = json_string_value(json_object_get(header, "alg"));

	if (alg != NULL && strcmp(alg, "RSA-OAEP-256") == 0)
		return EVP_sha256();
	if (alg != NULL && strcmp(alg, "RSA-OAEP") == 0)
		return EVP_sha1();
	return NULL;
}

/* The CEK out of the encrypted key. Whatever goes wrong, cek ends up holding 32 bytes:
 * on failure random ones, so a wrong key and a wrong CEK fail alike, at the tag, and the
 * RSA step is no oracle (RFC 7516 section 11.5). */
static void
unwrap_cek(EVP_PKEY *priv, const EVP_MD *md, const unsigned char *ek, size_t eklen,
    unsigned char cek[CEK_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	int ok = 0;

	if (RAND_bytes(cek, CEK_LEN) != 1)
		memset(cek, 0, CEK_LEN);
	if (ctx != NULL && EVP_PKEY_decrypt_init(ctx) > 0 && set_oaep(ctx, md) &&
	    EVP_PKEY_decrypt(ctx, NULL, &cap, ek, eklen) > 0 && (buf = malloc(cap)) != NULL) {
		len = cap;
		ok = EVP_PKEY_decrypt(ctx, buf, &len, ek, eklen) > 0 && len == CEK_LEN;
	}
	if (ok)
		memcpy(cek, buf, CEK_LEN);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
}

/* The protected header: RSA-OAEP-256 or RSA-OAEP (*md its digest), A256GCM, neither
 * zip nor crit. */
static int
read_header(const struct seg *s, const EVP_MD **md, struct bb_err *e)
{
	unsigned char *hdr;
	size_t hlen;
	json_t *header = NULL;
	const char *enc;
	int rc = 0;

	if ((hdr = decode_seg(s, &hlen)) == NULL ||
	    (header = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(header))
		rc = bb_fail(e, BB_PROTOCOL, "JWE: the protected header is not a JSON object");
	else if ((*md = oaep_md(header)) == NULL)
		rc = bb_fail(e, BB_PROTOCOL, "JWE: alg is not RSA-OAEP-256 or RSA-OAEP");
	else if ((enc = json_string_value(json_object_get(header, "enc"))) == NULL ||
	    strcmp(enc, "A256GCM") != 0)
		rc = bb_fail(e, BB_PROTOCOL, "JWE: enc is not A256GCM");
	else if (json_object_get(header, "zip") != NULL ||
	    json_object_get(header, "crit") != NULL)
		rc = bb_fail(e, BB_PROTOCOL, "JWE: zip and crit are not supported");
	json_decref(header);
	free(hdr);
	return rc;
}

int
bb_jwe_decrypt(EVP_PKEY *priv, const char *compact, unsigned char **plain, size_t *len,
    struct bb_err *e)
{
	struct seg seg[5];
	unsigned char *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL, *pt = NULL;
	unsigned char cek[CEK_LEN];
	size_t eklen, ivlen, ctlen = 0, taglen, off, chunk;
	const EVP_MD *md = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int n, rc;

	*plain = NULL;
	*len = 0;
	OPENSSL_cleanse(cek, sizeof cek);
	if (priv == NULL || !EVP_PKEY_is_a(priv, "RSA"))
		return bb_fail(e, BB_SOFTWARE, "JWE: the key is not an RSA key");
	/* The header goes to GCM as AAD in one int-sized call. */
	if (compact == NULL || split5(compact, seg) != 0 || seg[0].len > 65536)
		return bb_fail(e, BB_PROTOCOL, "JWE: not five segments");
	if ((rc = read_header(&seg[0], &md, e)) != 0)
		return rc;
	if ((ek = decode_seg(&seg[1], &eklen)) == NULL ||
	    (iv = decode_seg(&seg[2], &ivlen)) == NULL || ivlen != IV_LEN ||
	    (ct = decode_seg(&seg[3], &ctlen)) == NULL ||
	    (tag = decode_seg(&seg[4], &taglen)) == NULL || taglen != TAG_LEN) {
		rc = bb_fail(e, BB_PROTOCOL, "JWE: a segment is not base64url or has the wrong "
		    "length");
		goto done;
	}
	if ((pt = malloc(ctlen + 1)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "JWE: out of memory");
		goto done;
	}
	unwrap_cek(priv, md, ek, eklen, cek);
	if ((ctx = gcm_start(0, cek, iv, seg[0].s, seg[0].len)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "JWE: cannot set up AES-256-GCM");
		goto done;
	}
	for (off = 0; off < ctlen; off += chunk) {
		chunk = ctlen - off > PIECE ? PIECE : ctlen - off;
		if (EVP_DecryptUpdate(ctx, pt + off, &n, ct + off, (int)chunk) != 1 ||
		    (size_t)n != chunk) {
			rc = bb_fail(e, BB_PROTOCOL, "JWE: decryption failed");
			goto done;
		}
	}
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + ctlen, &n) != 1) {
		rc = bb_fail(e, BB_PROTOCOL, "JWE: decryption failed (wrong key, or the JWE "
		    "was changed)");
		goto done;
	}
	pt[ctlen] = '\0';
	*plain = pt;
	*len = ctlen;
	pt = NULL;
	rc = 0;
done:
	/* GCM hands out plaintext before the tag is checked: a failed one is wiped. */
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ctlen + 1);
		free(pt);
	}
	OPENSSL_cleanse(cek, sizeof cek);
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	free(ek);
	free(iv);
	free(ct);
	free(tag);
	return rc;
}
