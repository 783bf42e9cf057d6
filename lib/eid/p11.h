/* The terminal's private key in a PKCS#11 token (a smart card, an HSM, SoftHSM), named by
 * an RFC 7512 pkcs11: URI, for Terminal Authentication: a stolen disk does not give the
 * key away. p11-kit parses the URI and loads the modules the system registers. */
#ifndef BB_EID_P11_H
#define BB_EID_P11_H

#include <stddef.h>

struct bb_err;
struct bb_p11_key;

/* Where the token's user PIN comes from: a descriptor (fd >= 0) first, else a file the
 * terminal owns and no one else may read (bb_trust_open with BB_TRUST_SECRET); neither:
 * fd -1 and file NULL. Never the URI (pin-value, pin-source are refused). */
struct bb_p11_pin {
	int fd;
	const char *file;
};

/* True when s is a pkcs11: URI rather than a file name. */
int bb_p11_is_uri(const char *s);

/* Opens the key the URI names: parses it (78 when it does not parse, names an unknown
 * attribute or carries a PIN), loads the module of its module-path or else every module
 * p11-kit registers (78 when one cannot be loaded), finds the one token that matches
 * (69 when none does, 78 when more than one), logs in with the PIN when the token asks
 * for one (77 when wrong or locked, saying so; 78 when no PIN is given), then finds the
 * one private key that matches (78 when none or several, or not an ECDSA key that may
 * sign). The PIN is read into locked memory and wiped right after C_Login. */
int bb_p11_open(struct bb_p11_key **k, const char *uri, const struct bb_p11_pin *pin,
    struct bb_err *e);

/* Signs a hash with CKM_ECDSA: sig gets r || s, each as long as the curve's order (the
 * plain format of BSI TR-03111). *siglen: room in, length out. 69 when the token is
 * gone, 74 when it fails. */
int bb_p11_sign_ecdsa(struct bb_p11_key *k, const unsigned char *hash, size_t hlen,
    unsigned char *sig, size_t *siglen, struct bb_err *e);

/* Logs out, closes the session and the modules; NULL is fine. */
void bb_p11_close(struct bb_p11_key *k);

#endif
