/* Secure messaging (ISO/IEC 7816-4, BSI TR-03110 part 3 appendix F) on the terminal side:
 * every command after PACE is sent with its data encrypted (DO 87), its expected length
 * (DO 97) and a MAC (DO 8E) over the send sequence counter, the header and both; every
 * answer must carry DO 99 (its status) and a MAC we check before anything of it is used.
 * The keys and the counter live in OpenPACE's EAC_CTX (PACE's, later Chip
 * Authentication's). One failure of any kind breaks the channel for good: the session is
 * over, and nothing the card said in it may be trusted. */
#ifndef BB_EID_SM_H
#define BB_EID_SM_H

#include "eid/pace.h"

#include <stddef.h>

struct bb_err;

/* Called for each command and answer inside the channel (the plain view): for a command,
 * sw is 0 and len the command data's length; for an answer, sw its status and len the
 * answer data's length. data is the plain data, for a tracer that knows what may be
 * shown. */
typedef void (*bb_sm_trace_fn)(void *arg, const unsigned char hdr[4], const unsigned char *data,
    size_t len, size_t ne, unsigned sw);

struct bb_sm {
	void *ctx;		/* EAC_CTX * with the current keys (borrowed); NULL: the
				 * reader protects the channel, commands go plain */
	bb_apdu_fn fn;		/* the plain transport below */
	void *arg;
	int ext;		/* extended length may be used */
	int broken;		/* a failure ended the channel */
	int last_ext;		/* the last command went out in extended length */
	bb_sm_trace_fn trace;
	void *trace_arg;
};

/* Sets up s over an established channel ctx (EAC_CTX *; NULL when the reader ran PACE
 * and protects the channel itself until Chip Authentication) and the transport fn. ext:
 * the card and reader take extended-length APDUs. */
void bb_sm_init(struct bb_sm *s, void *ctx, bb_apdu_fn fn, void *arg, int ext);

/* One protected command: hdr = CLA INS P1 P2 (CLA without the SM bits; the chaining bit
 * is kept), data of dlen bytes, ne the expected answer length (0: none, at most 65536).
 * 0 with *out (malloc'd, exactly *outlen bytes, NULL when empty) and *sw; the status of the
 * transport when it failed; 76 (BB_PROTOCOL) when the answer is unprotected, malformed,
 * its MAC or counter is wrong or its status disagrees with DO 99 (the channel is then
 * broken, and every later call fails with 76). */
int bb_sm_transmit(struct bb_sm *s, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, unsigned char **out, size_t *outlen, unsigned *sw,
    struct bb_err *e);

/* A bb_apdu_fn (arg: struct bb_sm *) that protects a plain command APDU and answers the
 * plain response (data and SW1 SW2): for running PACE inside the channel of another PACE
 * (resuming a suspended PIN with the CAN). */
int bb_sm_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen, struct bb_err *e);

#endif
