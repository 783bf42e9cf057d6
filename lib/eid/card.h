/* The ID card's files and status as far as they can be had without a secret: ISO 7816-4
 * SELECT and READ BINARY, EF.CardAccess and the SecurityInfos it lists (BSI TR-03110
 * part 3), and the PIN's retry counter from MSE:Set AT. */
#ifndef BB_EID_CARD_H
#define BB_EID_CARD_H

#include <jansson.h>
#include <stddef.h>

struct bb_err;
struct bb_pcsc;

#define BB_FID_CARD_ACCESS 0x011C

/* Sends apdu, answers in resp (without SW) and sw. 0, 1 (card removed) or 76. */
int bb_card_exchange(struct bb_pcsc *p, const unsigned char *apdu, size_t len,
    unsigned char *resp, size_t *rlen, unsigned *sw, struct bb_err *e);
/* A whole elementary file of the master file by its FID (at most max bytes, malloc'd).
 * 66 when the card has no such file, 77 when it needs a secure channel first. */
int bb_card_read_file(struct bb_pcsc *p, unsigned fid, size_t max, unsigned char **buf,
    size_t *len, struct bb_err *e);
/* EF.CardAccess's SecurityInfos as JSON: [{protocol, oid, version, parameter_id?}];
 * 76 when it is not DER SecurityInfos. */
int bb_card_security_infos(const unsigned char *der, size_t len, json_t **out,
    struct bb_err *e);
/* The PIN's retries left (3, 2, 1 suspended, 0 blocked) by MSE:Set AT for PACE with the
 * PIN and the PACE protocol oid (dotted); -1 when the card does not say. */
int bb_card_pin_retries(struct bb_pcsc *p, const char *pace_oid, int *retries,
    struct bb_err *e);

#endif
