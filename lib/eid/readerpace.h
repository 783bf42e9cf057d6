/* PACE in the reader: PC/SC part 10 amendment 1, FEATURE_EXECUTE_PACE, function
 * EstablishPACEChannel (0x02). A PIN-pad reader with this feature runs PACE itself, the
 * PIN typed on its pad never reaching the host; afterwards the reader protects the APDUs
 * the host sends (secure messaging with the PACE keys) until Chip Authentication gives
 * the host keys of its own. No such reader can be attached here (vpcd offers no
 * features): the encoding below follows the specification and is unit-tested, the path
 * through a real reader is not. */
#ifndef BB_EID_READERPACE_H
#define BB_EID_READERPACE_H

#include <stddef.h>

struct bb_err;
struct bb_pcsc;

/* What EstablishPACEChannel answers. */
struct bb_reader_pace {
	unsigned long result;		/* ResultCode: 0 success */
	unsigned mse_sw;		/* MSE:Set AT's status word */
	unsigned char *card_access;	/* EF.CardAccess as the reader read it */
	size_t card_access_len;
	char car[32], car_prev[32];	/* the CVCAs the card trusts ("" none) */
	unsigned char *id_icc;		/* the card's ephemeral PACE key (ID_PICC) */
	size_t id_icc_len;
};

/* The control code of FEATURE_EXECUTE_PACE for the connected card's reader; 0 when the
 * reader has none. */
unsigned long bb_reader_pace_code(struct bb_pcsc *p);

/* EstablishPACEChannel's input: function 02, length (2 bytes, little endian), PinID,
 * CHAT (length 1 byte, the 7F4C object), PIN (length 1 byte; empty: on the pad),
 * certificate description (length 2 bytes little endian). The length written into
 * *len; 64 when it does not fit in room or a part is too long. */
int bb_reader_pace_input(int pwd_ref, const unsigned char *chat, size_t chat_len,
    const unsigned char *secret, size_t secret_len, const unsigned char *desc,
    size_t desc_len, unsigned char *out, size_t room, size_t *len, struct bb_err *e);

/* Parses its output: ResultCode (4 bytes LE), length (2 LE, the rest), MSE:Set AT status
 * (2), EF.CardAccess (length 2 LE), and when TA follows: CARcurr and CARprev (length 1
 * each), IDicc (length 2 LE). 0, or 76 when anything does not fit. */
int bb_reader_pace_output(const unsigned char *b, size_t n, struct bb_reader_pace *o,
    struct bb_err *e);

/* A failed ResultCode as an exit status and a message: 2 wrong secret (with *retries),
 * 3 suspended or blocked, 1 cancelled, timed out or card removed, 76 else. */
int bb_reader_pace_result(const struct bb_reader_pace *o, int *retries, struct bb_err *e);

/* Runs EstablishPACEChannel on the connected card's reader (secret NULL: the person types
 * it on the pad). 0 and *o (free with bb_reader_pace_free); 69 when the reader has no
 * such feature; else as bb_reader_pace_result. */
int bb_reader_pace(struct bb_pcsc *p, int pwd_ref, const unsigned char *chat,
    size_t chat_len, const unsigned char *secret, size_t secret_len,
    const unsigned char *desc, size_t desc_len, struct bb_reader_pace *o, int *retries,
    struct bb_err *e);
void bb_reader_pace_free(struct bb_reader_pace *o);

#endif
