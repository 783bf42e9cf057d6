/* Memory for secrets (PIN, CAN, PUK, keys): locked so it is never swapped, excluded from
 * core dumps, wiped before it is given back. */
#ifndef BB_SECMEM_H
#define BB_SECMEM_H

#include <stddef.h>

struct bb_err;

struct bb_secret {
	unsigned char *buf;	/* NUL-terminated when read as text */
	size_t len, cap;
};

/* Allocates cap bytes of locked memory; returns 0 or -1 (errno set). */
int bb_secret_alloc(struct bb_secret *s, size_t cap);
/* Wipes and frees; safe on a zeroed or already freed secret. */
void bb_secret_free(struct bb_secret *s);
/* Reads one line (up to cap - 1 bytes, no newline kept) from fd into s, which must be
 * allocated. A longer line is an error 65; EOF with nothing read is 65. */
int bb_secret_read_fd(struct bb_secret *s, int fd, const char *what, struct bb_err *e);
/* Asks on the controlling terminal (/dev/tty) with prompt, echo off, and reads one line
 * into s. 64 when there is no controlling terminal; 1 (cancelled) on end of input. */
int bb_secret_read_tty(struct bb_secret *s, const char *prompt, struct bb_err *e);
/* 1 when a and b hold the same bytes, else 0; the time depends on the lengths only, not
 * on where the contents differ (a PIN entered twice is compared so). */
int bb_secret_equal(const struct bb_secret *a, const struct bb_secret *b);

#endif
