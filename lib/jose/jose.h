/* JOSE as FIT-Connect needs it, on OpenSSL EVP: base64url (RFC 7515 section 2), RSA
 * public keys from JWKs and the rules a destination's encryption key must meet, JWE
 * compact serialization with RSA-OAEP-256 and A256GCM (RFC 7516, RFC 7518), and PS512
 * JWS verification for the Security Event Tokens of the event log. No C library in
 * Debian 12 does RSA-OAEP-256 JWE, so this is the one place JOSE is assembled by hand;
 * every primitive underneath is OpenSSL's. */
#ifndef BB_JOSE_H
#define BB_JOSE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "diag.h"

/* base64url without padding; a malloc'd string, NULL on OOM. */
char *bb_b64url_encode(const void *data, size_t len);
/* Characters the encoding of len bytes takes (without the NUL). */
size_t bb_b64url_encoded_len(size_t len);
/* Encodes into out, which holds bb_b64url_encoded_len(len) + 1 bytes, and terminates it;
 * returns the characters written. For writing large encodings in place, piece by piece:
 * pieces whose length is a multiple of 3 concatenate to the encoding of the whole. */
size_t bb_b64url_encode_to(char *out, const void *data, size_t len);
/* Strict decoding: url alphabet only, no padding, no whitespace, unused bits zero.
 * A malloc'd buffer (one spare byte, NUL) and its length, or NULL if invalid or OOM. */
unsigned char *bb_b64url_decode(const char *s, size_t len, size_t *outlen);

/* An RSA public key from a JWK object (kty RSA, n, e); 0, or 76 with the reason. The key
 * must pass OpenSSL's public key checks (SP 800-56B: n odd, 2^16 < e < 2^256, ...) and have
 * at least 2048 bits, since anything weaker from a peer is a protocol error, not a key. */
int bb_jwk_rsa_public(const json_t *jwk, EVP_PKEY **out, struct bb_err *e);

/* The FIT-Connect rules for a destination's encryption key, before anything is encrypted
 * with it: kty RSA, alg RSA-OAEP-256, key_ops contains "wrapKey", e AQAB, modulus >= 4096
 * bits, x5c present: leaf (x5c[0]) chains through the given intermediates to a root in
 * trust_pem (a PEM file of one or more certificates), every certificate valid at `now`, and
 * the leaf's public key equals n/e. 0 and *out (the key), or 77 with a one-line reason
 * naming the rule that failed (e.g. "destination key: modulus has 2048 bits, need 4096").
 * A trust_pem that is NULL, unreadable or holds no certificate is 78 (configuration).
 * Revocation (OCSP, CRL) is not checked here. */
int bb_jwk_check_encryption_key(const json_t *jwk, const char *trust_pem, time_t now,
    EVP_PKEY **out, struct bb_err *e);
/* The same rules for the destination's signature key, the key of the events only the
 * authority issues (accept-submission, reject-submission): alg PS512, key_ops contains
 * "verify"; messages start "destination signature key". */
int bb_jwk_check_signature_key(const json_t *jwk, const char *trust_pem, time_t now,
    EVP_PKEY **out, struct bb_err *e);

/* JWE compact serialization, alg RSA-OAEP-256, enc A256GCM, protected header
 * {"alg","enc","kid"[,"cty"]} (cty omitted when NULL; kid too). Returns a malloc'd string
 * or NULL with e set (70). */
char *bb_jwe_encrypt(EVP_PKEY *pub, const char *kid, const char *cty, const void *plain,
    size_t len, struct bb_err *e);
/* The last segment (authentication tag) of a compact JWE, malloc'd; NULL when compact
 * does not have five segments (or on OOM). */
char *bb_jwe_tag(const char *compact);

/* A compact JWS: header and payload (JSON objects) parsed without checking anything (to
 * find kid, iss). 0, or 76 when it is not a JWS; either output may be NULL. */
int bb_jws_parse(const char *compact, json_t **header, json_t **payload, struct bb_err *e);
/* Verifies a compact JWS whose header says alg PS512 (anything else: 76) with pub: RSASSA-PSS,
 * SHA-512, MGF1 SHA-512, salt of 64 bytes (RFC 7518 section 3.5). A "crit" header is 76 (no
 * extension is understood). 0 and the payload; 76 "signature does not verify" etc. */
int bb_jws_verify_ps512(const char *compact, EVP_PKEY *pub, json_t **payload,
    struct bb_err *e);

/* For the tests and the rig: decrypt a compact JWE with an RSA private key. alg RSA-OAEP-256
 * or RSA-OAEP (SHA-1, so the RFC 7516 A.1 example can be checked), enc A256GCM; zip and crit
 * are refused. 0 and a malloc'd plaintext (with a NUL after it), or 76. */
int bb_jwe_decrypt(EVP_PKEY *priv, const char *compact, unsigned char **plain,
    size_t *len, struct bb_err *e);

#endif
