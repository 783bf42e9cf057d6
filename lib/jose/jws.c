/* JWS compact serialization (RFC 7515), read only: FIT-Connect's Security Event Tokens
 * are PS512 JWSs, and a sender must check their signatures before it believes an
 * accept-submission or reject-submission. Parsing without verification exists because
 * the key is found through the token itself (kid in the header, iss in the payload);
 * nothing read that way is trusted until bb_jws_verify_ps512 has said yes. */
#include "jose/jose.h"

#include "exit.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

/* A SET is a few hundred bytes; this bounds what an event log entry may make us parse. */
#define MAX_JWS (1u << 20)
/* RFC 7518 section 3.5: the salt is as long as the hash, 64 bytes for SHA-512. */
#define PS512_SALT 64

struct parts {
	const char *h, *p, *s;	/* header, payload, signature segments */
	size_t hlen, plen, slen;
};

static int
split3(const char *compact, struct parts *x)
{
	const char *d1, *d2;
	size_t len;

	if (compact == NULL || (len = strlen(compact)) > MAX_JWS ||
	    (d1 = strchr(compact, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL ||
	    strchr(d2 + 1, '.') != NULL)
		return -1;
	x->h = compact;
	x->hlen = (size_t)(d1 - compact);
	x->p = d1 + 1;
	x->plen = (size_t)(d2 - x->p);
	x->s = d2 + 1;
	x->slen = len - (size_t)(x->s - compact);
	return 0;
}

/* A segment that must decode to a JSON object. */
static int
json_seg(const char *s, size_t len, const char *what, json_t **out, struct bb_err *e)
{
	unsigned char *raw;
	size_t rawlen;
	json_t *j = NULL;

	*out = NULL;
	if ((raw = bb_b64url_decode(s, len, &rawlen)) == NULL)
		return bb_fail(e, BB_PROTOCOL, "JWS: the %s is not base64url", what);
	/* Duplicate names could be read differently by us and by whoever checked them. */
	j = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (!json_is_object(j)) {
		json_decref(j);
		return bb_fail(e, BB_PROTOCOL, "JWS: the %s is not a JSON object", what);
	}
	*out = j;
	return 0;
}

int
bb_jws_parse(const char *compact, json_t **header, json_t **payload, struct bb_err *e)
{
	struct parts x;
	json_t *h = NULL, *p = NULL;
	int rc;

	if (header != NULL)
		*header = NULL;
	if (payload != NULL)
		*payload = NULL;
	if (split3(compact, &x) != 0)
		return bb_fail(e, BB_PROTOCOL, "JWS: not three segments");
	if ((rc = json_seg(x.h, x.hlen, "header", &h, e)) != 0 ||
	    (rc = json_seg(x.p, x.plen, "payload", &p, e)) != 0) {
		json_decref(h);
		return rc;
	}
	if (header != NULL)
		*header = h;
	else
		json_decref(h);
	if (payload != NULL)
		*payload = p;
	else
		json_decref(p);
	return 0;
}

int
bb_jws_verify_ps512(const char *compact, EVP_PKEY *pub, json_t **payload, struct bb_err *e)
{
	struct parts x;
	json_t *h = NULL;
	const char *alg;
	unsigned char *sig = NULL;
	size_t siglen;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc;

	*payload = NULL;
	if (pub == NULL || !EVP_PKEY_is_a(pub, "RSA"))
		return bb_fail(e, BB_PROTOCOL, "JWS: the signing key is not an RSA key");
	if (split3(compact, &x) != 0)
		return bb_fail(e, BB_PROTOCOL, "JWS: not three segments");
	if ((rc = json_seg(x.h, x.hlen, "header", &h, e)) != 0)
		return rc;
	/* The algorithm is ours to insist on, never the token's to choose (RFC 8725 3.1). */
	alg = json_string_value(json_object_get(h, "alg"));
	if (alg == NULL || strcmp(alg, "PS512") != 0) {
		rc = bb_fail(e, BB_PROTOCOL, "JWS: alg is not PS512");
		goto done;
	}
	if (json_object_get(h, "crit") != NULL) {
		rc = bb_fail(e, BB_PROTOCOL, "JWS: crit names extensions not understood");
		goto done;
	}
	if ((sig = bb_b64url_decode(x.s, x.slen, &siglen)) == NULL ||
	    siglen != (size_t)EVP_PKEY_get_size(pub)) {
		rc = bb_fail(e, BB_PROTOCOL, "JWS: the signature is not base64url of the key's "
		    "size");
		goto done;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, &pctx, EVP_sha512(), NULL, pub) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PS512_SALT) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha512()) <= 0) {
		rc = bb_fail(e, BB_SOFTWARE, "JWS: cannot set up RSASSA-PSS verification");
		goto done;
	}
	/* The signing input is the ASCII of header segment, '.', payload segment. */
	if (EVP_DigestVerify(md, sig, siglen, (const unsigned char *)x.h,
	    x.hlen + 1 + x.plen) != 1) {
		rc = bb_fail(e, BB_PROTOCOL, "JWS: signature does not verify");
		goto done;
	}
	rc = json_seg(x.p, x.plen, "payload", payload, e);
done:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	free(sig);
	json_decref(h);
	return rc;
}
