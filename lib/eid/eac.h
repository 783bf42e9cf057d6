/* Extended Access Control after PACE (BSI TR-03110 parts 2 and 3) on the terminal side, on
 * OpenPACE, through a secure messaging channel: passive authentication of EF.CardSecurity
 * against the country signing CAs, Terminal Authentication v2 with the terminal's CV
 * certificate chain, Chip Authentication v2, and reading files and data groups. */
#ifndef BB_EID_EAC_H
#define BB_EID_EAC_H

#include "eid/p11.h"
#include "eid/pace.h"
#include "eid/sm.h"

#include <stddef.h>
#include <time.h>

struct bb_err;

/* The terminal's credentials: DV and terminal CV certificates (DER, 7F21) and the
 * terminal's private key: PKCS#8 DER in locked memory, or a key in a PKCS#11 token. */
struct bb_eac_terminal {
	unsigned char *dv, *cert;
	size_t dv_len, cert_len;
	unsigned char *key;		/* locked, wiped on free */
	size_t key_len, key_cap;
	struct bb_p11_key *token;	/* instead of key: the key in a token */
	char chr[32], car[32], dv_car[32];
	unsigned char rights[5];	/* the terminal certificate's CHAT rights */
	char expires[11];		/* YYYY-MM-DD */
};

/* Whether a CV certificate valid from day from to day until (YYYYMMDD) is valid at now,
 * in any time zone: 0 yes, -1 not yet, 1 expired. */
int bb_eac_valid_on(long from, long until, time_t now);

/* Loads the chain and the key. Each file and its directory must be the terminal's
 * (bb_trust_fd: owned by the running user or root, not writable by group or others, no
 * symbolic link), the key file also not readable by them. 66 when a file is missing, 78
 * when refused, unreadable or malformed, 77 when the terminal certificate has expired or
 * is not yet valid at now. key_path may instead be a pkcs11: URI (RFC 7512): the key
 * stays in the token, which is opened and logged into with pin (bb_p11_open and its
 * statuses; pin may be NULL for a file), and the certificate's key must be ECDSA (78). */
int bb_eac_terminal_load(struct bb_eac_terminal *t, const char *dv_path,
    const char *cert_path, const char *key_path, const struct bb_p11_pin *pin, time_t now,
    struct bb_err *e);
void bb_eac_terminal_free(struct bb_eac_terminal *t);

/* A directory of trust anchors (csca_dir, cvca_dir) as the terminal must own it: the
 * directory, the one holding it and every file in it are the terminal's (bb_trust_fd).
 * With links, a symbolic link may name a file beside it (as openssl rehash makes them),
 * never one elsewhere; without, none is trusted. what names it in the message
 * ("eid.csca_dir"). 0; 66 when missing; 78 when refused. */
int bb_eac_trust_dir(const char *dir, const char *what, int links, struct bb_err *e);

/* Reads a whole elementary file by its short file identifier (READ BINARY with SFI, then
 * offsets), at most max bytes, in as few APDUs as the channel allows (extended length:
 * one). 66 when the card has no such file, 77 when it refuses (6982: no right), 76 for a
 * file longer than max or a wrong answer; transport and channel statuses pass through. */
int bb_eac_read_sfi(struct bb_sm *s, unsigned sfi, size_t max, unsigned char **buf,
    size_t *len, struct bb_err *e);

/* Passive authentication: EF.CardSecurity (read under the channel) verified against the
 * CSCA certificates in csca_dir (an OpenSSL hashed directory, checked with
 * bb_eac_trust_dir first: 78 when refused): the CMS signature, the
 * document signer's chain, the content type, and that every SecurityInfo of EF.CardAccess
 * (ca, calen: as read before PACE) is among the signed ones. Then the context gets the
 * chip's public key for CA. signer: the document signer's subject (RFC 2253). 0; 77 when
 * anything does not verify (a forged or unknown document); 76 when malformed or the card
 * offers no chip authentication. */
int bb_eac_passive_auth(struct bb_pace *p, const unsigned char *cs, size_t len,
    const unsigned char *ca, size_t calen, const char *csca_dir, char *signer, size_t room,
    struct bb_err *e);

/* Terminal Authentication v2: the chain (MSE:Set DST, PSO:Verify Certificate), MSE:Set
 * AT, GET CHALLENGE, EXTERNAL AUTHENTICATE. The CVCA the card named in PACE (p->car) is
 * looked up in cvca_dir (checked with bb_eac_trust_dir) as a file named by its CHR. 77
 * when the card refuses a certificate or the signature, or the chain does not start at
 * the card's CVCA; 78 when the CVCA is not in cvca_dir or cvca_dir is refused, or a
 * token's key does not belong to the terminal certificate. */
int bb_eac_ta(struct bb_sm *s, struct bb_pace *p, const struct bb_eac_terminal *t,
    const char *cvca_dir, struct bb_err *e);

/* Comp() of TR-03110 part 3 A.2.2.3 of a public key as it travels (an uncompressed EC
 * point 04 x y, or a DH public value): of a point its x coordinate, all of it (FE2OS of
 * TR-03111 3.1.3: as long as the field, a leading zero byte kept, where OpenPACE's Comp
 * drops it one time in 256 and a card refuses the signature or the key), of a DH key its
 * SHA-1. ec: the key is a point (its domain parameters say so, not its bytes). 0 with
 * *outlen bytes in out; -1 when malformed or out is too small. */
int bb_eac_comp(int ec, const unsigned char *pub, size_t len, unsigned char *out,
    size_t room, size_t *outlen);

/* An ECDSA signature r || s (both halves of one length) in the plain format of TR-03111
 * 5.2.1: r and s each as long as the group's order (olen bytes), left-padded with zero
 * bytes. OpenPACE pads both only to the longer of the two: one signature in 65536 is
 * two bytes short. 0 with 2 * olen bytes in out; -1 when it does not fit. */
int bb_eac_plain_sig(const unsigned char *sig, size_t len, size_t olen, unsigned char *out,
    size_t room, size_t *outlen);

/* Chip Authentication v2 with the key of EF.CardSecurity (after bb_eac_passive_auth and
 * bb_eac_ta); afterwards s uses the CA keys. 76 when the card's token does not verify. */
int bb_eac_ca(struct bb_sm *s, struct bb_pace *p, struct bb_err *e);

/* SELECT the eID application (after CA). */
int bb_eac_select_eid(struct bb_sm *s, struct bb_err *e);

#endif
