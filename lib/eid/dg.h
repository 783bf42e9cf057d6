/* The data groups of the ID card's eID application (BSI TR-03110 part 4, what the German
 * documents hold: TR-03127): which data groups the identity keys of bb-case(5) come from,
 * the CHAT (Certificate Holder Authorization Template) asking the card for exactly those,
 * and each data group's DER turned into those keys. */
#ifndef BB_EID_DG_H
#define BB_EID_DG_H

#include <jansson.h>
#include <stddef.h>

struct bb_err;

#define BB_DG_MAX 22	/* DG1 .. DG22 */
#define BB_DG_BIT(n) (1UL << (n))
#define BB_DG_CHAT_LEN 21	/* what bb_dg_chat writes */

/* Identity keys (bb-case(5)) a service may ask for with --fields, to data groups.
 * list: comma-separated keys, e.g. "given_names,family_names,address"; also "all".
 * Sets *dgs (bit n = DGn, n 1..22). Keys: document_type DG1, issuing_state DG2,
 * expiry DG3, given_names DG4, family_names DG5, artistic_name DG6, academic_title DG7,
 * date_of_birth DG8, place_of_birth DG9, nationality DG10, birth_name DG13,
 * address DG17, community_id DG18, residence_permit DG19+DG20. 64 (BB_USAGE) with a
 * message naming the unknown key. Spaces around a key are ignored; an empty list or key
 * is 64 too. *dgs is 0 on error. */
int bb_dg_fields(const char *list, unsigned long *dgs, struct bb_err *e);

/* The identity key data group dg gives (NULL: none, or dg outside 1..22); *text (when
 * not NULL) is 1 when that key is a string, which a card without the data group gives
 * as "". The one table behind bb_dg_fields, bb_dg_parse and bb_dg_identity. */
const char *bb_dg_key(int dg, int *text);

/* The CHAT for an authentication terminal reading exactly those DGs (read DGn = bit
 * n+7, bit 0 the lowest bit of the last byte; role bits 00 = terminal), as the DER
 * object 7F4C { 06 len 0.4.0.127.0.7.3.1.2.2, 53 05 <5 bytes> }. Returns its length
 * (BB_DG_CHAT_LEN), or 0 when room is too small. Bits outside DG1..DG22 are ignored. */
size_t bb_dg_chat(unsigned long dgs, unsigned char *out, size_t room);

/* The read rights of a CHAT's 5-byte discretionary data (53) as a DG mask. */
unsigned long bb_dg_chat_rights(const unsigned char rights[5]);

/* One data group's file (its whole DER, outer tag 0x60+n) into the identity object,
 * setting the key(s) of that DG as bb-case(5) says:
 * - dates YYYY-MM-DD; a partial date of birth (DG8: unknown parts spaces, or zeros) as
 *   what is known: "YYYY-MM" or "YYYY", and "" when nothing is;
 * - country codes: "D" is "DE", 3-letter codes that are ISO 3166-1 alpha-3 become their
 *   alpha-2 code, others (ICAO's "XXA", "GBD", "RKS" ...) are kept as on the card;
 * - names and texts as the card holds them;
 * - place_of_birth: the free text; a structured place as its parts joined with ", "
 *   (street, postal code and city, state, country when not Germany); "" for "no place";
 * - address {street, postal_code, city, country} (a state is not kept); a free-text
 *   address goes whole into street; "no place" (no home in Germany) is all "";
 * - community_id: the 14 digits as country and AGS, "0276 05 3 15 000"; digits that do
 *   not fit that pattern ungrouped; "" when empty;
 * - residence_permit: the lines of DG19 then those of DG20 (DG19 goes to the front of the
 *   list, DG20 to its end, so the order does not depend on the reading order).
 * An empty data group (the card holds nothing there, e.g. DG10 and DG18 of older
 * cards) gives "" (address: all "", residence_permit: no lines).
 * Data groups without an identity key (DG11, 12, 14-16, 21, 22) are ignored: 0, nothing
 * set. 64 for dg outside 1..22 or NULL arguments. 76 (BB_PROTOCOL) with a one-line
 * message naming the DG, never quoting the card's value, when the DER is malformed: wrong
 * outer tag, a length past the end or not minimal DER, bytes after the object, wrong
 * inner types, invalid UTF-8, control characters, a date that is not a date, a country
 * code that is none, a compressed text (not supported); identity is then unchanged. */
int bb_dg_parse(int dg, const unsigned char *der, size_t len, json_t *identity,
    struct bb_err *e);

/* Reads data group n (1..22) whole into *buf (malloc'd; wiped and freed by the caller):
 * 0; 66 (BB_NOINPUT) when the card has no such data group; else the failure. */
typedef int (*bb_dg_read_fn)(void *arg, int n, unsigned char **buf, size_t *len,
    struct bb_err *e);

/* The identity (bb-case(5)) from the data groups dgs, each read with read, in the order
 * DG1 .. DG22, through bb_dg_parse: a data group the card does not have (66) gives ""
 * for a text key and nothing else; DG19 and DG20 are not read when DG1 says the document
 * is an identity card ("ID"); residence_permit, when asked for, is at least []. Each
 * data group's bytes are wiped before they are freed. 0 and *out (a new object); the
 * first failure of read or bb_dg_parse, *out NULL. Any transport can give the data
 * groups: the card's channel (bb_eid_read) or another. */
int bb_dg_identity(unsigned long dgs, bb_dg_read_fn read, void *arg, json_t **out,
    struct bb_err *e);

#endif
