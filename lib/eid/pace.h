/* PACE (BSI TR-03110 part 2, APDUs from part 3) on the terminal side, on OpenPACE: MSE:Set AT
 * and the four chained General Authenticate steps. The card is reached only through a
 * transport callback (bb_pcsc_transmit fits behind it), so tests can run terminal and card
 * in one process. */
#ifndef BB_EID_PACE_H
#define BB_EID_PACE_H

#include <stddef.h>

struct bb_err;

/* Password references (tag 83 of MSE:Set AT). */
enum bb_pace_pwd {
	BB_PACE_MRZ = 1,
	BB_PACE_CAN = 2,
	BB_PACE_PIN = 3,
	BB_PACE_PUK = 4,
};

/* Sends a command APDU, returns the response (data + SW1SW2) in resp; *rlen is the room in
 * resp on the way in and the length of the response on the way out. 0 or a bb exit
 * status. */
typedef int (*bb_apdu_fn)(void *arg, const unsigned char *apdu, size_t len,
    unsigned char *resp, size_t *rlen, struct bb_err *e);

/* An established PACE channel. ctx is OpenPACE's EAC_CTX with the PACE keys set for
 * secure messaging (EAC_CTX_set_encryption_ctx(ctx, EAC_ID_PACE), send sequence counter
 * 0); later TA and CA run on it. The card's ephemeral public key (its compressed form is
 * ID_PICC for TA) and the CARs it named in the last General Authenticate (87, 88; for
 * picking the terminal's certificate chain) are kept; the secret is not. */
struct bb_pace {
	void *ctx;			/* EAC_CTX * */
	unsigned char *picc_pub;	/* card's ephemeral public key (83/84 content) */
	size_t picc_pub_len;
	int picc_id;			/* picc_pub is ID_PICC already: a reader's IDicc */
	char car[32];			/* 87: most recent CAR the card trusts, "" if none */
	char car_prev[32];		/* 88: the previous one, "" if none */
	unsigned char *ca_pub;		/* the chip's static CA key, after passive auth */
	size_t ca_pub_len;
};

/* Runs MSE:Set AT (protocol OID from EF.CardAccess, password reference pwd_ref, optional
 * CHAT as DER 7F4C object) and General Authenticate with the secret. *retries: the
 * retries the card reported (-1 when it did not say; 3 when MSE:Set AT for the PIN
 * answered 9000).
 * 0 and *out (free with bb_pace_free); the status of fn when the transport failed;
 * 2 (BB_WRONG_SECRET) for a wrong secret (the card answered 63Cx or 6300 to the last
 * General Authenticate; *retries then is x, or one less than before, or -1);
 * 3 (BB_DOC_BLOCKED) when MSE:Set AT answered 63C1 (suspended: PACE with the CAN must come
 * first) or 63C0, or the card answered 6982/6983 (blocked or deactivated);
 * 64 for bad arguments; 76 (BB_PROTOCOL) for an EF.CardAccess without PACE or any
 * malformed or unexpected answer; 70 when OpenPACE fails for no reason of the card's. */
int bb_pace_establish(bb_apdu_fn fn, void *arg, const unsigned char *ef_cardaccess,
    size_t len, int pwd_ref, const char *secret, size_t secret_len,
    const unsigned char *chat, size_t chat_len, struct bb_pace **out, int *retries,
    struct bb_err *e);

/* The same with flags: BB_PACE_SUSPENDED_OK goes on when MSE:Set AT says the PIN is
 * suspended (63C1), for resuming it inside the channel of a PACE with the CAN. */
#define BB_PACE_SUSPENDED_OK 1
struct bb_pace_in {
	bb_apdu_fn fn;
	void *arg;
	const unsigned char *ef_cardaccess;
	size_t len;
	int pwd_ref;
	const char *secret;
	size_t secret_len;
	const unsigned char *chat;	/* DER 7F4C; NULL: none */
	size_t chat_len;
	int flags;
};
int bb_pace_run(const struct bb_pace_in *in, struct bb_pace **out, int *retries,
    struct bb_err *e);

/* The channel a reader established itself (PACE in the reader, readerpace.h): a context
 * from its EF.CardAccess without keys (the reader keeps them), ID_PICC (IDicc: the card's
 * key compressed by the reader, PC/SC part 10 AMD1) and CARs for TA. 0, 76 when
 * EF.CardAccess is unusable or a CAR malformed. */
int bb_pace_from_reader(const unsigned char *ef_cardaccess, size_t len,
    const unsigned char *id_icc, size_t id_len, const char *car, const char *car_prev,
    struct bb_pace **out, struct bb_err *e);

/* A copy of p in a new OpenSSL BUF_MEM (NULL when out of memory): OpenPACE's currency. */
struct buf_mem_st;
struct buf_mem_st *bb_bufmem(const unsigned char *p, size_t len);

/* A Diffie-Hellman public value as TR-03110 part 3 encodes it (D.3.4, an unsigned integer;
 * I2OS of TR-03111 3.1.2 with the length of the modulus p): key is left-padded with zero
 * bytes to the length of params' p, where OpenPACE gives it only as long as the number (a
 * byte short one key in 256). What is sent, hashed for Comp() and compared is that form.
 * Nothing is done for an elliptic curve (its points are padded already). 0, or -1 when
 * the key is longer than p or memory runs out. */
struct evp_pkey_st;
int bb_pace_dh_pad(const struct evp_pkey_st *params, struct buf_mem_st *key);

/* A CAR (87, 88 of PACE, or a reader's): printable, shorter than room; copied with its
 * NUL into dst. 0, or -1 when it is not such a CAR (v NULL: nothing copied, 0). */
int bb_pace_car(char *dst, size_t room, const unsigned char *v, size_t len);

/* Frees p and the EAC_CTX with its keys (cleared). NULL is fine. */
void bb_pace_free(struct bb_pace *p);

#endif
