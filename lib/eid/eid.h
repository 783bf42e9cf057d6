/* The eID domain's front door: a session with an ID card, and what bb-eid does in it.
 *
 * The read (bb_eid_read): PACE with the PIN or the CAN typed on the terminal, or with
 * the reader's own PIN pad when the reader runs PACE itself; passive authentication of
 * EF.CardSecurity against the country signing CAs (it gives the chip's key); Terminal
 * Authentication with the terminal's certificate chain and key (a file or a PKCS#11
 * token, logged out as soon as it has signed); Chip Authentication; then the data groups
 * asked for, each parsed into the identity (bb_dg_identity). The CHAT asks for exactly
 * the data groups asked for that the terminal's certificate may read, and with the CAN
 * for the right "CAN allowed" (bit 4, TR-03110 part 4), refused before the card when the
 * certificate lacks it. The expiry (DG3) is always read when the certificate may: an
 * expired document, or one that does not say, is refused (3), and the expiry leaves only
 * when asked for. The identity ends with "verified": how (pace "pin" or "can", ta, ca,
 * passive_auth "ok") and the document signer.
 *
 * Errors travel as struct bb_err: the status is the exit status, the message the line a
 * person reads. Nothing personal reaches a message, the trace or the log: the trace shows
 * headers, lengths and status words, data only of commands that carry neither secrets
 * nor personal data; the log gets events with the case's id. */
#ifndef BB_EID_EID_H
#define BB_EID_EID_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "eid/eac.h"
#include "eid/pace.h"
#include "eid/pcsc.h"
#include "eid/sm.h"

struct bb_config;
struct bb_case_id;
struct bb_err;
struct bb_secret;

/* Per protocol step: APDUs, bytes each way, time (for -v and the benchmark). */
enum bb_eid_step { BB_EID_PACE, BB_EID_PA, BB_EID_TA, BB_EID_CA, BB_EID_READ, BB_EID_STEPS };

struct bb_eid_counts {
	enum bb_eid_step step;		/* the step APDUs count for now */
	unsigned long apdus[BB_EID_STEPS], out[BB_EID_STEPS], in[BB_EID_STEPS];
	double ms[BB_EID_STEPS];
	double start;			/* when the current step began (ms, monotonic) */
};

#define BB_EID_TRACE	1	/* the wire and the channel on stderr (no data) */
#define BB_EID_STATS	2	/* counts and times per step on stderr at the end of a read */
#define BB_EID_VERBOSE	4	/* OpenPACE's own messages reach stderr (else /dev/null) */

/* A session with one card: the transport, EF.CardAccess, the PACE channel. */
struct bb_eid_session {
	struct bb_pcsc p;		/* the reader, when bb_eid_session_open connected it */
	int pcsc;			/* p is open */
	bb_apdu_fn fn;			/* the plain transport below everything */
	void *arg;
	int flags;			/* BB_EID_* */
	int quiet_fd;			/* stderr while OpenPACE works quietly; -1 */
	unsigned char *ca;		/* EF.CardAccess (malloc'd) */
	size_t ca_len;
	struct bb_pace *pace;
	struct bb_sm sm;		/* the channel, after PACE */
	struct bb_eid_counts n;
};

/* A session over a transport of the caller's (an in-process card): fn, arg below, flags
 * BB_EID_*. The caller puts EF.CardAccess into ca (malloc'd; freed by close). */
void bb_eid_session_init(struct bb_eid_session *s, bb_apdu_fn fn, void *arg, int flags);
/* A session with the card in the first reader whose name contains reader (NULL: any),
 * EF.CardAccess read. 69 no reader or card; the statuses of bb_card_read_file. */
int bb_eid_session_open(struct bb_eid_session *s, const char *reader, int flags,
    struct bb_err *e);
/* Frees the channel and EF.CardAccess; resets the card (a pcsc session): no secure
 * channel outlives the session. Safe twice and on an unopened, zeroed session. */
void bb_eid_session_close(struct bb_eid_session *s);
/* The APDU transport of the session (arg: the session): counts per step, traces. */
int bb_eid_session_apdu(void *arg, const unsigned char *apdu, size_t len,
    unsigned char *resp, size_t *rlen, struct bb_err *e);
/* The next APDUs count for step st. */
void bb_eid_session_step(struct bb_eid_session *s, enum bb_eid_step st);
/* While on, stderr goes to /dev/null (OpenPACE's own messages), unless BB_EID_VERBOSE. */
void bb_eid_session_quiet(struct bb_eid_session *s, int on);
/* The counts per step: in the log (debug), and with BB_EID_STATS on stderr. */
void bb_eid_session_stats(const struct bb_eid_session *s);
/* n bytes as upper-case hex digits (an ATR, an APDU in the trace) into out, 2n + 1
 * bytes with the NUL. */
void bb_eid_hex(const unsigned char *b, size_t n, char *out);
/* Whether the session's reader runs PACE itself (a PIN pad, PC/SC part 10 AMD1). */
int bb_eid_session_pinpad(struct bb_eid_session *s);

/* PACE with one secret (pwd_ref BB_PACE_PIN, _CAN or _PUK; sec its digits), on the card
 * or, with inside, within that channel (resuming the PIN in the CAN's); the new channel
 * replaces the session's. A failure with the outcome a person can act on: 2 wrong
 * secret with the retries left, 3 suspended or blocked naming the way out; else PACE's
 * statuses (pace.h). */
int bb_eid_pace(struct bb_eid_session *s, int pwd_ref, const struct bb_secret *sec,
    const unsigned char *chat, size_t chat_len, int flags, struct bb_sm *inside,
    struct bb_err *e);
/* PACE on the reader's PIN pad (the person types the secret there); the file desc (NULL
 * or unreadable: none) is the certificate description for a reader with a display. The
 * reader protects the channel until Chip Authentication. Not tested against a reader
 * (readerpace.h). */
int bb_eid_reader_pace(struct bb_eid_session *s, int pwd_ref, const unsigned char *chat,
    size_t chat_len, const char *desc, struct bb_err *e);

/* Where the terminal's credentials and trust anchors are (bb.yaml(5)): each key of
 * eid, else under eid.pki; desc is for a PIN pad's display. The pointers may point into
 * buf: filled in place, never copied. */
struct bb_eid_paths {
	const char *dv_cert, *terminal_cert, *terminal_key, *csca_dir, *cvca_dir;
	const char *desc;		/* the certificate description; NULL: none */
	char pki[256], buf[6][512];
};
/* 78 when neither eid.pki nor all five keys are configured: no default, since a default
 * path is one another user could create first. */
int bb_eid_paths(const struct bb_config *cfg, struct bb_eid_paths *p, struct bb_err *e);
/* The data groups to read: fields (a --fields list; NULL: the service's, else
 * eid.fields); a service (may be NULL) names the most it may read. 78 no such service,
 * 77 fields ask for more than it may, 64 an unknown field. */
int bb_eid_wanted(const struct bb_config *cfg, const char *fields, const char *service,
    unsigned long *dgs, struct bb_err *e);

/* One read: the caller fills the inputs, bb_eid_read_begin prepares the rest before the
 * card is touched, bb_eid_read runs it on a session, bb_eid_read_end frees. */
struct bb_eid_read {
	/* inputs */
	struct bb_eid_paths paths;	/* the terminal key: a file or a pkcs11: URI */
	const struct bb_p11_pin *token_pin;	/* NULL: none */
	unsigned long asked;		/* data groups (bit n = DGn) */
	int pwd_ref;			/* BB_PACE_PIN or BB_PACE_CAN */
	time_t now;
	const struct bb_case_id *id;	/* for the log; may be NULL */
	/* made by bb_eid_read_begin */
	struct bb_eac_terminal t;
	unsigned long dgs;		/* what is read: asked, DG3, as far as rights go */
	unsigned long rights;		/* what the terminal's certificate may read */
	unsigned char chat[32];
	size_t chat_len;
	char signer[512];		/* the document signer, after the read */
};

/* Loads the terminal's chain and key (a token is opened and its PIN used now: a token
 * that refuses costs the citizen nothing), checks the trust anchors, makes the CHAT.
 * The statuses of bb_eac_terminal_load and bb_eac_trust_dir; 77 when the CAN is to be
 * used and the certificate does not allow it. */
int bb_eid_read_begin(struct bb_eid_read *r, struct bb_err *e);
/* PACE with sec (NULL: on the reader's PIN pad, paths.desc going along), logged as eid.pace, then the rest of
 * the read (bb_eid_read_card). */
int bb_eid_read(struct bb_eid_read *r, struct bb_eid_session *s, const struct bb_secret *sec,
    json_t **identity, struct bb_err *e);
/* The read after PACE, on the session's channel: passive authentication, TA, CA, the
 * data groups, the expiry rule, "verified". 0 and *identity (a new object); else the
 * failing step's status (eac.h, dg.h) logged as eid.failed, or 3 for an expired
 * document (eid.expired); *identity NULL. */
int bb_eid_read_card(struct bb_eid_read *r, struct bb_eid_session *s, json_t **identity,
    struct bb_err *e);
void bb_eid_read_end(struct bb_eid_read *r);

/* What the card in the first reader whose name contains reader (NULL: any) is, without
 * a secret: {reader, card, card_access: EF.CardAccess's SecurityInfos, pin: {retries,
 * state}} (p open). 69 no reader or card; 76 when the card offers no PACE (not an eID
 * card) or EF.CardAccess is malformed. */
int bb_eid_info(struct bb_pcsc *p, const char *reader, json_t **out, struct bb_err *e);

/* The PIN (bb-eid pin-*), each on an open session: change it (pin: the PIN or the
 * 5-digit transport PIN), unblock it with the PUK (3 retries again), resume a suspended
 * one (PACE with the CAN, then with the PIN inside its channel). The statuses of
 * bb_eid_pace; for RESET RETRY COUNTER 77 when the card refuses (6982, 6985), 65 when it
 * refuses the new PIN (6A80), 76 for another answer. */
int bb_eid_pin_change(struct bb_eid_session *s, const struct bb_secret *pin,
    const struct bb_secret *newpin, struct bb_err *e);
int bb_eid_pin_unblock(struct bb_eid_session *s, const struct bb_secret *puk,
    struct bb_err *e);
int bb_eid_pin_resume(struct bb_eid_session *s, const struct bb_secret *can,
    const struct bb_secret *pin, struct bb_err *e);

#endif
