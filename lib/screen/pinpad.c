/* bb-form pin: the PIN pad's entries on the screen or the terminal, the rounds of a new
 * PIN entered twice, the card's rules for the digits. See step.h. */
#include "screen/step.h"
#include "screen/server.h"
#include "diag.h"
#include "exit.h"
#include "log.h"
#include "secmem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
bb_pin_check(struct bb_pin_step *p, struct bb_err *e)
{
	int pin = strcmp(p->kind, "pin") == 0, puk = strcmp(p->kind, "puk") == 0;

	if (!pin && !puk && strcmp(p->kind, "can") != 0)
		return bb_fail(e, BB_USAGE, "%s: not pin, can or puk", p->kind);
	/* The card's rules: PIN 6 (the transport PIN 5), CAN 6, PUK 10. */
	if (p->digits == 0)
		p->digits = puk ? 10 : 6;
	if ((pin && p->digits != 5 && p->digits != 6) || (!pin && !puk && p->digits != 6) ||
	    (puk && p->digits != 10))
		return bb_fail(e, BB_USAGE, "--digits %ld: a PIN has 6 digits (a transport "
		    "PIN 5), a CAN 6, a PUK 10", p->digits);
	/* Only a new PIN is chosen, and the card takes 6 digits for it: a CAN, a PUK and
	 * a transport PIN are read off a card or a letter, not made up. */
	if (p->confirm && (!pin || p->digits != 6 || p->tries != 0))
		return bb_fail(e, BB_USAGE, "--confirm: for a new PIN of 6 digits only (no "
		    "--can, --puk, --digits 5 or --tries)");
	if (p->tries < 0 || p->tries > 9 || p->s.idle < 1)
		return bb_fail(e, BB_USAGE, "--tries: 0 to 9; --timeout: at least 1 second");
	return 0;
}

/* One entry on the terminal, asked again until it has the pad's count of digits. */
static int
tty_entry(const struct bb_pin_step *p, const char *confirm, struct bb_secret *sec,
    struct bb_err *e)
{
	const char *prompt = confirm != NULL && strcmp(confirm, "again") == 0 ? "PIN again" :
	    strcmp(p->kind, "can") == 0 ? "CAN" : strcmp(p->kind, "puk") == 0 ? "PUK" : "PIN";
	int rc;

	for (;;) {
		rc = bb_secret_read_tty(sec, prompt, e);
		if (rc == 0 && (sec->len != (size_t)p->digits ||
		    strspn((char *)sec->buf, "0123456789") != sec->len)) {
			bb_warn("%ld digits, please", p->digits);
			continue;
		}
		return rc;
	}
}

int
bb_pin_pad_entry(void *arg, const char *confirm, struct bb_secret *sec, int *timed_out,
    struct bb_err *e)
{
	const struct bb_pin_step *p = arg;
	char *more;
	int rc, cancelled = 0;

	*timed_out = 0;
	if (p->s.tty)
		return tty_entry(p, confirm, sec, e);
	for (;;) {
		rc = bb_screen_pin(p->s.control, p->kind, (int)p->digits, (int)p->tries,
		    confirm, p->s.idle, sec, &cancelled, e);
		if (rc != BB_CANCELLED || cancelled || e->msg[0] != '\0')
			return rc;
		/* The time ran out: WCAG 2.2.1, offer more. */
		more = NULL;
		rc = bb_screen_tell(p->s.control, "timeout-warning", NULL, p->s.warning, &more,
		    e);
		if (rc == 0 && more != NULL && strcmp(more, "more") == 0) {
			free(more);
			continue;
		}
		free(more);
		/* No answer to the warning: the time ran out; "end" tapped: cancelled. */
		if (rc == BB_CANCELLED && e->msg[0] == '\0')
			*timed_out = 1;
		return rc == 0 || rc == BB_CANCELLED ? BB_CANCELLED : rc;
	}
}

int
bb_pin_rounds(const struct bb_pin_step *p, bb_pin_entry *entry, void *arg,
    struct bb_secret *out, int *timed_out, struct bb_err *e)
{
	struct bb_secret again = { 0 };
	int rc, round;

	*timed_out = 0;
	if (p->confirm && bb_secret_alloc(&again, out->cap) != 0)
		return bb_fail(e, BB_SOFTWARE, "locked memory: %s", strerror(errno));
	for (round = 0; ; round++) {
		rc = entry(arg, !p->confirm ? NULL : round > 0 ? "mismatch" : "new", out,
		    timed_out, e);
		if (rc != 0 || !p->confirm)
			break;
		/* The same again, into memory of its own; compared there, so that where two
		 * entries differ takes no time of its own, and wiped either way. */
		if ((rc = entry(arg, "again", &again, timed_out, e)) != 0)
			break;
		if (bb_secret_equal(out, &again))
			break;
		explicit_bzero(out->buf, out->cap);
		explicit_bzero(again.buf, again.cap);
		out->len = again.len = 0;
		bb_log(LOG_NOTICE, "pin.mismatch", NULL);
		if (p->s.tty)
			bb_warn("the two entries differ");
		if (round + 1 == BB_PIN_ROUNDS) {
			rc = BB_NOT_MET;
			break;
		}
	}
	bb_secret_free(&again);
	return rc;
}

int
bb_pin_read(struct bb_pin_step *p, struct bb_secret *out, struct bb_err *e)
{
	int rc, timed_out = 0;

	if ((rc = bb_pin_check(p, e)) != 0)
		return rc;
	if (bb_secret_alloc(out, 16) != 0)
		return bb_fail(e, BB_SOFTWARE, "locked memory: %s", strerror(errno));
	rc = bb_pin_rounds(p, bb_pin_pad_entry, p, out, &timed_out, e);
	if (rc == 0)
		return 0;
	bb_secret_free(out);
	if (rc != BB_CANCELLED && rc != BB_NOT_MET)
		return rc;
	if (e->msg[0] == '\0' && !p->s.tty)
		bb_screen_leave(p->s.control);	/* the pad gives way, as ask's page does */
	return rc == BB_CANCELLED && timed_out ? BB_TIMED_OUT : rc;
}
