/* Online eID: the citizen authenticates to the service's eID-Server (BSI TR-03130) through
 * AusweisApp, the eID-Client (BSI TR-03124), driven over its SDK: JSON messages over a
 * WebSocket (ws://127.0.0.1:PORT/eID-Kernel). bb only starts the authentication with the
 * service's TC Token URL, allows no more access rights than the service may have, hands
 * over the PIN, CAN or PUK, and reads how it ended; the card's data goes from the card to
 * the eID-Server, and the service gives the identity at its result endpoint
 * (bb_online_identity). The conversation (bb_online_talk) is kept apart from the socket so
 * a test or a fuzzer can play AusweisApp's part. */
#ifndef BB_EID_ONLINE_H
#define BB_EID_ONLINE_H

#include <jansson.h>
#include <stddef.h>

struct bb_err;
struct bb_secret;

struct bb_online {
	const char *sdk;		/* ws://HOST:PORT/PATH, plain WebSocket on loopback */
	const char *tc_token_url;	/* https://... of the service */
	unsigned long allowed;		/* DG mask (bb_dg_fields) the service may read */
	const struct bb_secret *pin, *can, *puk;	/* NULL: not given */
	long timeout_ms;		/* the whole authentication; 0: 180000 */
	long card_wait_ms;		/* how long AusweisApp may look for the card; 0: 5000 */
};

/* How it ended, for the identity's "verified" and the caller's messages. */
struct bb_online_result {
	char url[2048];			/* AUTH's refresh address ("" when none) */
	char pace[4];			/* "pin", or "can" when the CAN was given too */
};

/* The whole authentication against AusweisApp at o->sdk. 0 when AusweisApp ended it with
 * "resultmajor#ok"; then r->url holds the refresh address. Otherwise the status, with a
 * one-line message that names no secret and no personal data:
 * 1   cancelled in AusweisApp, or the card was taken out (AusweisApp's READER message
 *     said so before the end);
 * 2   a wrong PIN or CAN (with the retries left; bb cancels rather than ask again: the
 *     person is asked on the screen, and the next try is a new authentication);
 * 3   the PIN is suspended and no CAN given, blocked and no PUK given, or the card's eID
 *     function is off;
 * 69  AusweisApp does not answer at o->sdk, or no card in a reader within card_wait_ms;
 * 75  no end within timeout_ms (AusweisApp or the eID-Server hangs); AusweisApp is told
 *     to cancel;
 * 76  AusweisApp broke the SDK protocol (a malformed or unexpected message);
 * 77  the service asks for more access rights than o->allowed (cancelled before the card
 *     is touched), or the eID-Server or AusweisApp refused the authentication. */
int bb_eid_online(const struct bb_online *o, struct bb_online_result *r, struct bb_err *e);

/* The conversation, one message at a time. */
struct bb_online_talk {
	const struct bb_online *o;
	struct bb_online_result *r;
	int started;			/* RUN_AUTH sent */
	int rights_set;			/* SET_ACCESS_RIGHTS sent once */
	int accepted;			/* ACCEPT sent */
	int pin_sent, can_sent, puk_sent;
	int cancelled;			/* CANCEL sent; the status below waits for AUTH's end */
	int status;			/* what the end will be after a cancel */
	char msg[256];			/* its message */
	int waiting_card;		/* INSERT_CARD seen and no card since */
	char card_reader[128];		/* the reader that holds a card ("": none) */
	int card_gone;			/* it held one, and it was taken out */
};

void bb_online_talk_init(struct bb_online_talk *t, const struct bb_online *o,
    struct bb_online_result *r);

/* The first command: RUN_AUTH with the TC Token URL, into out (room bytes). Its length. */
size_t bb_online_start(struct bb_online_talk *t, char *out, size_t room);

/* One message from AusweisApp (len bytes of JSON, untrusted). Returns -1 to go on, with
 * the command to send in out (*outlen bytes; 0: none), or the end: 0 or a status as for
 * bb_eid_online, with its message in e. out may receive a secret (SET_PIN): give it
 * locked memory and wipe it after sending. */
int bb_online_talk(struct bb_online_talk *t, const char *msg, size_t len, char *out,
    size_t room, size_t *outlen, struct bb_err *e);

/* Told by the caller when AusweisApp has looked for a card for card_wait_ms (after an
 * INSERT_CARD): the CANCEL command into out, -1 to go on (or 0 when no INSERT_CARD is
 * outstanding: *outlen 0). */
int bb_online_no_card(struct bb_online_talk *t, char *out, size_t room, size_t *outlen);
/* The same when timeout_ms has passed. */
int bb_online_timeout(struct bb_online_talk *t, char *out, size_t room, size_t *outlen);

/* The identity the service gives at its result endpoint (len bytes of JSON, untrusted) as
 * the identity part of bb-case(5): only the keys of the data groups in allowed, each of
 * its type (texts; address an object of four texts; residence_permit a list of texts),
 * no control characters; "verified" is the server's (ta, ca, passive_auth,
 * document_signer) with method "online" and pace set from r. 0 and *identity, or 76 with
 * a message naming the key, never its value. */
int bb_online_identity(const char *body, size_t len, unsigned long allowed,
    const struct bb_online_result *r, json_t **identity, struct bb_err *e);

/* The identity from the service's result endpoint: GET result_url (https) with the query of
 * the refresh address appended (the service knows the authentication by it: its ref),
 * TLS verified against ca_file (NULL: the system's store), within timeout seconds; then
 * bb_online_identity. 0 and *identity; 75 network failure or time-out; 77 the TLS
 * certificate does not verify, or the service has no result (404, 403, 410); 76 another
 * answer, not JSON, or an identity that is not one. */
int bb_online_fetch(const char *result_url, const char *ca_file, long timeout,
    unsigned long allowed, const struct bb_online_result *r, json_t **identity,
    struct bb_err *e);

/* The front door: bb-eid online for the service (eid.services.SERVICE of bb.yaml:
 * tc_token_url, result_url, fields; eid.online.*): the access rights allowed are those of
 * fields (NULL: the service's; bb_eid_wanted) and the document's validity; the
 * authentication (bb_eid_online); the identity from the result address
 * (bb_online_fetch), its "verified" naming the service and the eID-Server (the TC Token
 * URL's host and port), the expiry kept only when asked for, as the read does. 78 the
 * service or its addresses are not configured; the statuses above. */
struct bb_config;
int bb_eid_online_read(const struct bb_config *cfg, const char *service, const char *fields,
    const struct bb_secret *pin, const struct bb_secret *can, const struct bb_secret *puk,
    json_t **identity, struct bb_err *e);

#endif
