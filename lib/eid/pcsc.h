/* Card readers over PC/SC (pcsclite): listing readers with their card and PIN pad, waiting
 * for a card, connecting, and exchanging APDUs. Everything above (PACE, secure messaging,
 * data groups) sees only bb_pcsc_transmit. */
#ifndef BB_EID_PCSC_H
#define BB_EID_PCSC_H

#include <stddef.h>

struct bb_err;

struct bb_reader {
	char name[256];
	int card;		/* a card is present */
	int pinpad;		/* FEATURE_VERIFY_PIN_DIRECT */
	int pace;		/* FEATURE_EXECUTE_PACE: PACE runs in the reader */
	unsigned char atr[33];
	size_t atrlen;
};

struct bb_pcsc {
	long ctx;		/* SCARDCONTEXT */
	long card;		/* SCARDHANDLE */
	unsigned long proto;
	int connected;
	char reader[256];
	unsigned long apdus, out, in;	/* exchanged so far: APDUs, bytes each way */
};

/* 69 when the PC/SC service cannot be reached. */
int bb_pcsc_open(struct bb_pcsc *p, struct bb_err *e);
void bb_pcsc_close(struct bb_pcsc *p);
/* Whether the reader called name is one pattern names (NULL: any reader): its name
 * contains pattern. The one rule for --reader and eid.reader. */
int bb_pcsc_match(const char *name, const char *pattern);
/* All readers (n may be 0), with card presence and features (features only for readers
 * with a card, since asking needs a connection). */
int bb_pcsc_readers(struct bb_pcsc *p, struct bb_reader **out, size_t *n, struct bb_err *e);
/* Waits until a reader whose name contains pattern (NULL: any) has a card; timeout_ms < 0
 * waits for ever. 0 and the reader's name; 1 (BB_CANCELLED) on timeout; 69 without any
 * matching reader. */
int bb_pcsc_wait(struct bb_pcsc *p, const char *pattern, long timeout_ms, char name[256],
    struct bb_err *e);
/* Connects to the card in the first matching reader that has one. 69 no reader or no
 * card. */
int bb_pcsc_connect(struct bb_pcsc *p, const char *pattern, struct bb_err *e);
/* One APDU. 0 and the response (data and SW1 SW2); 1 when the card was removed; 76 for
 * any other transmission failure. */
int bb_pcsc_transmit(struct bb_pcsc *p, const unsigned char *apdu, size_t len,
    unsigned char *resp, size_t *rlen, struct bb_err *e);

#endif
