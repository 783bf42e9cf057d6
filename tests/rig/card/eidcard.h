/* eidcard: the card side of a German ID card (BSI TR-03110 part 3) for the tests, as an
 * engine without a transport: tests/rig/cardsim.c puts it behind vsmartcard's vpcd, unit
 * tests call eidcard_apdu directly. The wire contract with the terminal (lib/eid/) is
 * /work/notes/eidspec.md; the profile layout is tests/rig/cards/README.
 *
 * What it does: the file system of a profile directory (MF: EF.CardAccess 011C,
 * EF.CardSecurity 011D, EF.DIR 2F00, EF.ChipSecurity 011B if present; the eID
 * application with DG n as FID 01nn, SFI n), SELECT and READ BINARY; PACE (card side, on
 * OpenPACE) with the CAN, PIN (retry counter, suspension, blocking, deactivation,
 * transport PIN) and PUK, also inside secure messaging (resuming a suspended PIN);
 * secure messaging (DO87/97/8E commands, DO87/99/8E answers, command chaining, short
 * and extended lengths); Terminal Authentication v2 against the CVCA of a make-eid-pki
 * directory; Chip Authentication v2 with that directory's chip key; access rights on
 * the data groups from the effective CHAT; RESET RETRY COUNTER (change, unblock); the
 * faults of eidspec.md. Every length from the terminal is checked against what is
 * there; no answer exceeds Ne: the rest waits for GET RESPONSE, announced by 61XX
 * (ISO/IEC 7816-4 response chaining). */
#ifndef BB_RIG_EIDCARD_H
#define BB_RIG_EIDCARD_H

#include <stddef.h>

#define EIDCARD_REMOVED (-1)	/* eidcard_apdu: the card is (now) gone */
#define EIDCARD_MUTE (-2)	/* eidcard_apdu: the card does not answer */

#define EIDCARD_MAX_FAULTS 16

enum eidcard_fault_kind {
	EIDCARD_FAULT_BAD_MAC = 1,	/* the Nth protected answer carries a wrong MAC */
	EIDCARD_FAULT_BAD_SSC,		/* the Nth protected answer is MACed with SSC + 1 */
	EIDCARD_FAULT_SW,		/* the Nth protected command is answered with sw */
	EIDCARD_FAULT_REMOVE,		/* the card is removed on the Nth APDU */
	EIDCARD_FAULT_PLAIN_SW,		/* the Nth protected answer's plain status word is
					 * sw, its DO99 (under the MAC) the true one */
};

/* The card's configuration; eidcard_conf_init gives the defaults, eidcard_conf_option
 * sets one option. Plain data: copy it as you like. */
struct eidcard_conf {
	char profile[4096];	/* the profile directory (required) */
	char pki[4096];		/* --pki: make-eid-pki output, "" for none */
	int pin_retries;	/* --pin-retries 0..3 (3); --blocked is 0 */
	int deactivated;	/* --deactivated: MSE:Set AT for the PIN answers 6283 */
	int transport;		/* --transport: the PIN is a 5-digit transport PIN */
	char pin[16], can[16], puk[16];	/* --pin --can --puk */
	int pin_given;		/* --pin was given (else 123456, or 12345 with --transport) */
	int no_extended;	/* --no-extended: extended APDUs answer 6700 */
	long today;		/* --today YYYYMMDD, 0: the system's date (UTC) */
	char expiry[9];		/* --expiry YYYYMMDD: DG3 replaced, "" keeps it */
	int forged_security;	/* --forged-security: serve 011D.forged */
	int truncated_tlv;	/* --fault truncated-tlv */
	int oversized_tlv;	/* --fault oversized-tlv */
	struct {
		enum eidcard_fault_kind kind;
		long n;		/* 1.., 0: every one (remove: 1) */
		unsigned sw;
	} faults[EIDCARD_MAX_FAULTS];
	int nfaults;
	int truncate_response;	/* --truncate-response: every answer cut to one byte */
	int garbage;		/* --garbage: random answers */
	int mute;		/* --mute: no answer at all (EIDCARD_MUTE) */
	unsigned char atr[33];	/* --atr HEX */
	size_t atr_len;
};

struct eidcard;

void eidcard_conf_init(struct eidcard_conf *c);
/* One option as cardsim takes it ("--pin-retries", "2"; value NULL for a flag); 0, or -1
 * with a message in err (unknown option, bad value). */
int eidcard_conf_option(struct eidcard_conf *c, const char *name, const char *value,
    char *err, size_t errlen);
/* Whether the option takes a value: 1, 0 (a flag), -1 (not an engine option). */
int eidcard_conf_option_arity(const char *name);

/* Loads the profile (and the PKI's EF.CardSecurity, chip key and CVCA); NULL with a
 * message in err. */
struct eidcard *eidcard_new(const struct eidcard_conf *c, char *err, size_t errlen);
/* One command APDU; the response (data + SW) in resp, its length returned;
 * EIDCARD_REMOVED (-1) when the card is (now) removed, EIDCARD_MUTE (-2) when it does
 * not answer. room must be at least 2; an answer that does not fit is 6F00. A removed
 * card stays removed (also across eidcard_reset). */
long eidcard_apdu(struct eidcard *k, const unsigned char *apdu, size_t n,
    unsigned char *resp, size_t room);
/* Power on / reset: MF, SM off, rights gone, the session's APDU counters from 0. The
 * retry counters and the PIN stay, as on a card. */
void eidcard_reset(struct eidcard *k);
void eidcard_free(struct eidcard *k);

/* For tests and the transport. */
int eidcard_pin_retries(const struct eidcard *k);
int eidcard_puk_uses(const struct eidcard *k);
int eidcard_in_transport_state(const struct eidcard *k);
int eidcard_sm_active(const struct eidcard *k);	/* a secure channel is up */
int eidcard_removed(const struct eidcard *k);
long eidcard_apdu_count(const struct eidcard *k);	/* APDUs since the last reset */
/* Hex (blanks and colons allowed) to bytes: their number, or -1 on bad input or more
 * than max bytes. For --atr and cardsim's APDUs. */
long eidcard_unhex(const char *s, unsigned char *out, size_t max);
/* The ATR (from --atr, or an ID card's); its length. */
size_t eidcard_atr(const struct eidcard *k, const unsigned char **atr);

#endif
