/* A flow's steps that wait for the person (bb-form ask, pin; bb-form(1)): a form's walk
 * and the PIN pad, on the screen server's control socket or on the terminal. Before a
 * page's time runs out the person is offered more (WCAG 2.2.1); after a step the page
 * gives way to "please wait", so that nothing typed stays on the screen. These are the
 * programs' front doors: bb-form keeps its options, messages and exit statuses. */
#ifndef BB_SCREEN_STEP_H
#define BB_SCREEN_STEP_H

#include <jansson.h>
#include <stddef.h>

struct bb_err;
struct bb_form;
struct bb_problems;
struct bb_secret;

/* Where and how long a step waits. */
struct bb_step {
	const char *control;	/* the screen server's control socket */
	int tty;		/* on /dev/tty instead of the screen */
	long idle;		/* seconds a page waits before the time-out warning */
	long warning;		/* seconds the warning waits for "more" */
};

/* path, or the default control socket (bb_screen_control_default) in buf. */
const char *bb_screen_control(const char *path, char *buf, size_t len);
/* Whether a screen server listens on the control socket at path. */
int bb_screen_listens(const char *path);
/* Whether there is a controlling terminal to open (/dev/tty). */
int bb_tty_opens(void);
/* Where s waits when no --screen was given: the default control socket (in buf), or the
 * terminal when no screen server listens there and at_terminal says a person sits at
 * one (a developer in a shell). */
void bb_step_default(struct bb_step *s, char *buf, size_t len, int at_terminal);
/* The page gives way to "please wait" until the flow's next step; errors ignored (a
 * session that ended has nothing to hide). */
void bb_screen_leave(const char *control);
/* Adds an argument "NAME=VALUE" of --set to set (bb_screen_set_add). 0; 64 when it is
 * not NAME=VALUE; 65. */
int bb_screen_set_arg(json_t *set, const char *arg, struct bb_err *e);

/* bb-form ask in-process: f's walk (form/ask.h) from case c on s's screen or terminal
 * (then screens and lang: its catalogue and language); at the end the form part is put
 * into c (bb_form_case_put). 0 when the person sent it; BB_CANCELLED when the person
 * chose to stop (the page left) or the session ended (e->msg says so, c is untouched);
 * BB_TIMED_OUT when no answer came to the warning (the page left); 65 when c is another
 * service's; else an exit status with e set, or with p when the walk's part fails. */
int bb_ask_case(json_t *c, const struct bb_form *f, const struct bb_step *s,
    const char *screens, const char *lang, struct bb_problems *p, struct bb_err *e);

/* bb-form pin --confirm: how often a new PIN may be entered twice differently before the
 * step gives up (BB_NOT_MET). Three, as the card's tries: a fourth round would rarely go
 * better, and the flow then says plainly that nothing changed, rather than loop until
 * the person walks away. A round costs the card nothing: it is never asked. */
#define BB_PIN_ROUNDS 3

/* A PIN pad step: what is read, and where. */
struct bb_pin_step {
	struct bb_step s;
	const char *kind;	/* "pin", "can" or "puk" */
	long digits;		/* 0: the card's (PIN and CAN 6, PUK 10) */
	long tries;		/* > 0: the last try was wrong, so many are left */
	int confirm;		/* a new PIN, entered twice */
};

/* The card's rules for a pad (digits set when 0): a PIN has 6 digits (a transport PIN
 * 5), a CAN 6, a PUK 10; only a new PIN of 6 digits is confirmed, without tries; tries
 * 0 to 9, idle at least a second. 0, or 64 naming bb-form pin's options. */
int bb_pin_check(struct bb_pin_step *p, struct bb_err *e);

/* Where the digits come from: one entry into sec (allocated); confirm NULL, or "new",
 * "again", "mismatch" for a new PIN (as bb_screen_pin). 0; BB_CANCELLED with *timed_out
 * set when the time ran out, with e->msg set when the session ended; else an exit
 * status with e set. */
typedef int bb_pin_entry(void *arg, const char *confirm, struct bb_secret *sec,
    int *timed_out, struct bb_err *e);
/* The pad's own entry (arg: the struct bb_pin_step): bb_screen_pin with the time-out
 * warning, or the terminal, which asks again until the digits have the right count. */
int bb_pin_pad_entry(void *arg, const char *confirm, struct bb_secret *sec,
    int *timed_out, struct bb_err *e);
/* The pad's rounds into out (allocated, at least 16 bytes): one entry; with p->confirm
 * a new PIN and the same again, compared in locked memory of their own (the time taken
 * does not say where they differ), both wiped on a mismatch, at most BB_PIN_ROUNDS
 * times. 0 with the digits in out; BB_NOT_MET (out empty); else as entry. */
int bb_pin_rounds(const struct bb_pin_step *p, bb_pin_entry *entry, void *arg,
    struct bb_secret *out, int *timed_out, struct bb_err *e);
/* bb-form pin in-process: p checked by bb_pin_check, then its rounds on the pad into out
 * (allocated here, locked; the caller frees it). 0 with the digits; BB_CANCELLED,
 * BB_TIMED_OUT, BB_NOT_MET (out freed; the page left unless the session ended, which
 * e->msg then says); else an exit status with e set. */
int bb_pin_read(struct bb_pin_step *p, struct bb_secret *out, struct bb_err *e);

#endif
