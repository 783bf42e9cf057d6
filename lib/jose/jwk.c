/* RSA public keys from JWKs (RFC 7517, RFC 7518 section 6.3.1), and the rules FIT-Connect
 * sets for a destination's encryption key: a sender checks them before it encrypts
 * anything, because the key comes over the network from a directory it does not control,
 * and the x5c chain to the administration's PKI root is what makes the key the authority's
 * and not an attacker's. Chain building and time checks are OpenSSL's (X509_verify_cert). */
#include "jose/jose.h"

#include "crypto.h"
#include "exit.h"
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

/* Below this a peer's RSA key is no key (NIST SP 800-57 retired 1024 bits in 2013). */
#define MIN_BITS 2048
/* FIT-Connect: a destination's encryption key has a 4096-bit modulus. */
#define DEST_BITS 4096
/* OpenSSL refuses public operations past this (OPENSSL_RSA_MAX_MODULUS_BITS). */
#define MAX_BITS 16384
/* x5c holds leaf, intermediates and root; more than this is not a chain anyone issues. */
#define MAX_CHAIN 10

/* A value from a peer, quoted in a message only when it is short printable ASCII: a
 * message is one line, and a peer must not be able to write into our logs. */
static const char *
shown(const char *s, char buf[48])
{
	size_t i;

	if (s == NULL)
		return "missing";
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 40 || s[i] < 0x20 || s[i] > 0x7e || s[i] == '"')
			return "not what is allowed";
	snprintf(buf, 48, "\"%s\"", s);
	return buf;
}

/* A base64url big-endian unsigned integer member (n, e) as a BIGNUM, or NULL with e set. */
static BIGNUM *
member_bn(const json_t *jwk, const char *name, int status, const char *who,
    struct bb_err *e)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	unsigned char *raw;
	size_t len;
	BIGNUM *bn;

	if (s == NULL) {
		bb_fail(e, status, "%s: %s is missing or not a string", who, name);
		return NULL;
	}
	if ((raw = bb_b64url_decode(s, strlen(s), &len)) == NULL) {
		bb_fail(e, status, "%s: %s is not base64url", who, name);
		return NULL;
	}
	if (len == 0 || len > MAX_BITS / 8) {
		free(raw);
		bb_fail(e, status, "%s: %s has %zu bytes", who, name, len);
		return NULL;
	}
	bn = BN_bin2bn(raw, (int)len, NULL);
	free(raw);
	if (bn == NULL)
		bb_fail(e, BB_SOFTWARE, "%s: out of memory", who);
	return bn;
}

/* The RSA key of n and e; failures are `status` with messages that start with `who`. */
static int
rsa_from_ne(const json_t *jwk, int status, const char *who, EVP_PKEY **out,
    struct bb_err *e)
{
	BIGNUM *n = NULL, *ex = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if ((n = member_bn(jwk, "n", status, who, e)) == NULL ||
	    (ex = member_bn(jwk, "e", status, who, e)) == NULL) {
		rc = e != NULL ? e->status : status;
		goto done;
	}
	if (BN_num_bits(n) < MIN_BITS) {
		rc = bb_fail(e, status, "%s: modulus has %d bits, need at least %d", who,
		    BN_num_bits(n), MIN_BITS);
		goto done;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0) {
		rc = bb_fail(e, BB_SOFTWARE, "%s: cannot set up an RSA key", who);
		goto done;
	}
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = bb_fail(e, status, "%s: n and e do not make an RSA key", who);
		goto done;
	}
	/* SP 800-56B public key checks: n odd and composite without small factors, e odd and
	 * between 2^16 and 2^256. Catches keys that would make OAEP or PSS meaningless. */
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(check) != 1) {
		rc = bb_fail(e, status, "%s: n and e fail the RSA public key checks", who);
		goto done;
	}
	*out = pkey;
	pkey = NULL;
	rc = 0;
done:
	if (rc != 0)
		ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(ex);
	return rc;
}

int
bb_jwk_rsa_public(const json_t *jwk, EVP_PKEY **out, struct bb_err *e)
{
	const char *kty;
	char buf[48];

	*out = NULL;
	if (!json_is_object(jwk))
		return bb_fail(e, BB_PROTOCOL, "JWK: not a JSON object");
	kty = json_string_value(json_object_get(jwk, "kty"));
	if (kty == NULL || strcmp(kty, "RSA") != 0)
		return bb_fail(e, BB_PROTOCOL, "JWK: kty is %s, need \"RSA\"", shown(kty, buf));
	return rsa_from_ne(jwk, BB_PROTOCOL, "JWK", out, e);
}

/* From here on every refusal is 77 and names the rule. */

static int
has_op(const json_t *ops, const char *want)
{
	size_t i;
	json_t *op;

	json_array_foreach(ops, i, op) {
		const char *s = json_string_value(op);
		if (s != NULL && strcmp(s, want) == 0)
			return 1;
	}
	return 0;
}

/* x5c (RFC 7517 section 4.7: standard base64 of DER, not base64url) as certificates:
 * the leaf and a stack of the rest, which are only candidates for the chain. */
static int
parse_x5c(const char *who, const json_t *x5c, X509 **leaf, STACK_OF(X509) **rest,
    struct bb_err *e)
{
	size_t i, n = json_array_size(x5c);
	json_t *item;

	*leaf = NULL;
	if (!json_is_array(x5c) || n == 0)
		return bb_fail(e, BB_NOPERM,
		    "%s: x5c is missing or empty, need the certificate chain", who);
	if (n > MAX_CHAIN)
		return bb_fail(e, BB_NOPERM, "%s: x5c has %zu certificates, at most %d", who,
		    n, MAX_CHAIN);
	if ((*rest = sk_X509_new_null()) == NULL)
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory", who);
	json_array_foreach(x5c, i, item) {
		const char *s = json_string_value(item);
		const unsigned char *p;
		unsigned char *der;
		size_t len;
		X509 *x;

		if (s == NULL || (der = bb_base64_decode(s, strlen(s), &len)) == NULL)
			return bb_fail(e, BB_NOPERM, "%s: x5c[%zu] is not base64", who, i);
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		/* Trailing bytes after the certificate mean it is not one DER certificate. */
		if (x == NULL || p != der + len) {
			X509_free(x);
			free(der);
			ERR_clear_error();
			return bb_fail(e, BB_NOPERM, "%s: x5c[%zu] is not a DER certificate", who, i);
		}
		free(der);
		if (i == 0) {
			*leaf = x;
		} else if (!sk_X509_push(*rest, x)) {
			X509_free(x);
			return bb_fail(e, BB_SOFTWARE, "%s: out of memory", who);
		}
	}
	return 0;
}

/* The trust anchors: every certificate in a PEM file. Configuration, so 78. */
static int
load_trust(const char *who, const char *path, X509_STORE *store, struct bb_err *e)
{
	FILE *fp;
	X509 *x;
	unsigned long err;
	int count = 0, fd;

	if (path == NULL)
		return bb_fail(e, BB_CONFIG, "%s: no trust anchors configured (key_trust)", who);
	/* A trust anchor others may write is no anchor (bb(7) SECURITY). */
	if ((fd = bb_trust_open(path, "key_trust", 0, 0, e)) < 0) {
		if (e != NULL)
			e->status = BB_CONFIG;
		return BB_CONFIG;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return bb_fail(e, BB_CONFIG, "%s: %s: %s", who, path, strerror(errno));
	}
	ERR_clear_error();
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		int added = X509_STORE_add_cert(store, x);
		X509_free(x);
		if (!added) {
			fclose(fp);
			ERR_clear_error();
			return bb_fail(e, BB_SOFTWARE, "%s: %s: cannot add a certificate", who, path);
		}
		count++;
	}
	fclose(fp);
	/* The loop ends at the end of the file (no further PEM start line) or at a broken
	 * certificate; a broken one must not silently shorten the list of roots. */
	err = ERR_peek_last_error();
	ERR_clear_error();
	if (err != 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM &&
	    ERR_GET_REASON(err) == PEM_R_NO_START_LINE))
		return bb_fail(e, BB_CONFIG, "%s: %s: a certificate is not readable PEM", who,
		    path);
	if (count == 0)
		return bb_fail(e, BB_CONFIG, "%s: %s: holds no certificate", who, path);
	return 0;
}

static int
verify_chain(const char *who, X509 *leaf, STACK_OF(X509) *rest, const char *trust_pem,
    time_t now, struct bb_err *e)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx = NULL;
	int rc;

	if ((store = X509_STORE_new()) == NULL)
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory", who);
	if ((rc = load_trust(who, trust_pem, store, e)) != 0)
		goto done;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, leaf, rest)) {
		rc = bb_fail(e, BB_SOFTWARE, "%s: cannot set up chain verification", who);
		goto done;
	}
	/* Validity of every certificate, the root included, at the caller's time. */
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);

		if (depth == 0)
			rc = bb_fail(e, BB_NOPERM, "%s: x5c chain does not verify: %s (leaf)", who,
			    X509_verify_cert_error_string(err));
		else
			rc = bb_fail(e, BB_NOPERM,
			    "%s: x5c chain does not verify: %s (certificate at depth %d)", who,
			    X509_verify_cert_error_string(err), depth);
		goto done;
	}
	rc = 0;
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

/* The rules FIT-Connect sets for a destination's key, the encryption key and the
 * signature key alike but for alg and key_ops. */
static int
check_dest_key(const json_t *jwk, const char *who, const char *alg, const char *op,
    const char *trust_pem, time_t now, EVP_PKEY **out, struct bb_err *e)
{
	const char *s;
	char buf[48];
	BIGNUM *n;
	int bits, rc;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	STACK_OF(X509) *rest = NULL;

	*out = NULL;
	if (!json_is_object(jwk))
		return bb_fail(e, BB_NOPERM, "%s: not a JSON object", who);
	s = json_string_value(json_object_get(jwk, "kty"));
	if (s == NULL || strcmp(s, "RSA") != 0)
		return bb_fail(e, BB_NOPERM, "%s: kty is %s, need \"RSA\"", who, shown(s, buf));
	s = json_string_value(json_object_get(jwk, "alg"));
	if (s == NULL || strcmp(s, alg) != 0)
		return bb_fail(e, BB_NOPERM, "%s: alg is %s, need \"%s\"", who, shown(s, buf),
		    alg);
	if (!has_op(json_object_get(jwk, "key_ops"), op))
		return bb_fail(e, BB_NOPERM, "%s: key_ops does not contain \"%s\"", who, op);
	s = json_string_value(json_object_get(jwk, "e"));
	if (s == NULL || strcmp(s, "AQAB") != 0)
		return bb_fail(e, BB_NOPERM, "%s: e is %s, need \"AQAB\" (65537)", who,
		    shown(s, buf));
	if ((n = member_bn(jwk, "n", BB_NOPERM, who, e)) == NULL)
		return e != NULL ? e->status : BB_NOPERM;
	bits = BN_num_bits(n);
	BN_free(n);
	if (bits < DEST_BITS)
		return bb_fail(e, BB_NOPERM, "%s: modulus has %d bits, need %d", who, bits,
		    DEST_BITS);
	if ((rc = rsa_from_ne(jwk, BB_NOPERM, who, &key, e)) != 0)
		return rc;
	if ((rc = parse_x5c(who, json_object_get(jwk, "x5c"), &leaf, &rest, e)) != 0)
		goto done;
	/* The certificate vouches for a key; it must be this key. */
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
		rc = bb_fail(e, BB_NOPERM, "%s: the leaf certificate (x5c[0]) is for another "
		    "key than n/e", who);
		goto done;
	}
	if ((rc = verify_chain(who, leaf, rest, trust_pem, now, e)) != 0)
		goto done;
	*out = key;
	key = NULL;
done:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(rest, X509_free);
	return rc;
}

int
bb_jwk_check_encryption_key(const json_t *jwk, const char *trust_pem, time_t now,
    EVP_PKEY **out, struct bb_err *e)
{
	return check_dest_key(jwk, "destination key", "RSA-OAEP-256", "wrapKey", trust_pem,
	    now, out, e);
}

int
bb_jwk_check_signature_key(const json_t *jwk, const char *trust_pem, time_t now,
    EVP_PKEY **out, struct bb_err *e)
{
	return check_dest_key(jwk, "destination signature key", "PS512", "verify", trust_pem,
	    now, out, e);
}
