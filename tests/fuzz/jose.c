/* Fuzz target: JOSE as FIT-Connect answers bring it (lib/jose): a destination's JWK and the
 * encryption key rules, a JWKS of signing keys, Security Event Tokens (compact JWS, PS512),
 * compact JWE, base64url. The first byte picks the parser, the rest is its input. The
 * key is fixed (keys.h), its certificate the trust anchor, so seeds stay valid. */
#include "fuzz.h"
#include "keys.h"

#include "diag.h"
#include "jose/jose.h"

#include <stdlib.h>
#include <string.h>

static EVP_PKEY *priv, *pub;
static char trust[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	priv = fuzz_key_private();
	pub = fuzz_key_public();
	fuzz_file("trust.pem", fuzz_cert_pem, strlen(fuzz_cert_pem), trust, sizeof trust);
	return 0;
}

/* 2026-12-01: inside the certificate's validity, and the same on every run. */
#define NOW ((time_t)1796083200)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	EVP_PKEY *k = NULL;
	json_t *j, *hdr = NULL, *payload = NULL, *key;
	unsigned char *plain = NULL, *raw;
	char *s, *enc, *tag;
	size_t len, i;

	if (size < 1)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:	/* the destination's encryption key */
		if ((j = json_loads(s, 0, NULL)) != NULL) {
			if (bb_jwk_rsa_public(j, &k, &e) == 0)
				EVP_PKEY_free(k);
			k = NULL;
			if (bb_jwk_check_encryption_key(j, trust, NOW, &k, &e) == 0)
				EVP_PKEY_free(k);
			json_decref(j);
		}
		break;
	case 1:	/* the delivery service's JWKS */
		if ((j = json_loads(s, 0, NULL)) != NULL) {
			json_array_foreach(json_object_get(j, "keys"), i, key) {
				k = NULL;
				if (bb_jwk_rsa_public(key, &k, &e) == 0)
					EVP_PKEY_free(k);
			}
			json_decref(j);
		}
		break;
	case 2:	/* a Security Event Token */
		if (bb_jws_parse(s, &hdr, &payload, &e) == 0) {
			json_decref(hdr);
			json_decref(payload);
		}
		payload = NULL;
		if (bb_jws_verify_ps512(s, pub, &payload, &e) == 0)
			json_decref(payload);
		break;
	case 3:	/* a JWE */
		if (bb_jwe_decrypt(priv, s, &plain, &len, &e) == 0)
			free(plain);
		free(bb_jwe_tag(s));
		break;
	case 4:	/* base64url both ways */
		if ((raw = bb_b64url_decode(s, size - 1, &len)) != NULL) {
			enc = bb_b64url_encode(raw, len);
			if (enc == NULL || strlen(enc) != size - 1 || memcmp(enc, s, size - 1) != 0)
				__builtin_trap();	/* strict: one encoding per value */
			free(enc);
			free(raw);
		}
		break;
	case 5:	/* what bb encrypts, it decrypts (bounded: one RSA operation each) */
		if (size > 4096)
			break;
		if ((enc = bb_jwe_encrypt(pub, "kid", size % 2 ? "application/json" : NULL,
		    data + 1, size - 1, &e)) == NULL)
			abort();
		if (bb_jwe_decrypt(priv, enc, &plain, &len, &e) != 0 || len != size - 1 ||
		    (len > 0 && memcmp(plain, data + 1, len) != 0))
			__builtin_trap();
		tag = bb_jwe_tag(enc);
		if (tag == NULL)
			__builtin_trap();
		free(tag);
		free(plain);
		free(enc);
		break;
	}
	free(s);
	return 0;
}
