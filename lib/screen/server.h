/* bb-form serve and tell (bb-form(1)): the screen server for the kiosk browser, and the
 * client a flow's step uses on its control socket. */
#ifndef BB_SCREEN_SERVER_H
#define BB_SCREEN_SERVER_H

#include <jansson.h>
#include <stddef.h>

struct bb_err;

struct bb_serve_opts {
	const char *listen;	/* "127.0.0.1:PORT"; port 0 picks a free one */
	const char *control;	/* the control socket's path */
	const char *screens;	/* form.screens */
	const char *services;	/* form.services, for the welcome screen */
	const char *lang;	/* the session's language until the person picks one */
	const char *headset;	/* form.headset: the jack's input device, or NULL */
	int verbosity;		/* 2 (-vv): each request's method and path on stderr */
};

/* Serves until SIGTERM or SIGINT; prints the kiosk URL on stdout once listening.
 * 0, or the exit status with e set (78 configuration, 73 socket, 69 port in use). */
int bb_screen_serve(const struct bb_serve_opts *o, struct bb_err *e);

/* $XDG_RUNTIME_DIR/bb/screen, else /run/bb/screen. */
void bb_screen_control_default(char *buf, size_t len);

/* The placeholder values a tell may carry (the server refuses more). */
#define BB_SCREEN_SET_MAX	32	/* values */
#define BB_SCREEN_SET_NAME	64	/* bytes of a name, [a-z0-9_] */
#define BB_SCREEN_SET_VALUE	1024	/* bytes of a value, UTF-8 */

/* Adds name=value to set, checked as the server checks it; from names the source in the
 * message ("--set", "FILE:LINE"), which never holds the value. 0, or 65. */
int bb_screen_set_add(json_t *set, const char *from, const char *name, size_t nlen,
    const char *value, size_t vlen, struct bb_err *e);
/* Adds the values of path ("-": stdin): NAME=VALUE lines (blank lines and lines
 * starting with # are skipped), or one JSON object of strings. 0, or 65, 66, 74. */
int bb_screen_set_read(json_t *set, const char *path, struct bb_err *e);

/* Shows screen with set's placeholders. until: -1 return at once, 0 wait for a tap,
 * S > 0 wait at most S seconds. Returns 0 (*choice the tapped value, or NULL), 1 on
 * time-out or a session that ended, else an exit status with e set (69 no server). */
int bb_screen_tell(const char *control, const char *screen, const json_t *set, long until,
    char **choice, struct bb_err *e);
/* bb_screen_tell with the live photo mirror of directory mirror (bb-form tell --mirror;
 * relative to the working directory), NULL for none. */
int bb_screen_tell_mirror(const char *control, const char *screen, const json_t *set,
    const char *mirror, long until, char **choice, struct bb_err *e);

/* Shows screen with set's placeholders at once, as tell without until, and gives the
 * language the screen is shown in (lang[0] '\0' when the server does not say). */
int bb_screen_show(const char *control, const char *screen, const json_t *set, char *lang,
    size_t langlen, struct bb_err *e);
/* Waits for the choice on screen, shown before and still shown: as tell with until
 * (0 *choice, 1 time-out or the session ended), 75 when another screen replaced it. */
int bb_screen_wait(const char *control, const char *screen, long until, char **choice,
    struct bb_err *e);

/* Shows a page of bb-form ask (form/ask.h) and waits for what the person does on it, as
 * tell does: 0 with *choice and *answers (input path -> string or list), 1 on time-out
 * (with *answers what was typed and not sent) or a session that ended, else an exit
 * status with e set. */
int bb_screen_ask(const char *control, const json_t *page, long until, char **choice,
    json_t **answers, struct bb_err *e);
struct bb_secret;
/* Shows the PIN pad (kind "pin", "can" or "puk"; digits 4 to 12; tries > 0: the last
 * try was wrong, so many are left; confirm NULL, or for a new PIN entered twice "new",
 * "again" or "mismatch", which the pad's texts say) and reads the digits into out (locked
 * memory). 0, 1 when the person cancelled (*cancelled set) or the time ran out, else an
 * exit status with e set. */
int bb_screen_pin(const char *control, const char *kind, int digits, int tries,
    const char *confirm, long until, struct bb_secret *out, int *cancelled,
    struct bb_err *e);
/* Ends the session: the server forgets it and shows the welcome screen. *settings
 * (unless settings is NULL): the ended session's {"lang":..., "speech":...}, each
 * when the server said it. */
int bb_screen_end(const char *control, json_t **settings, struct bb_err *e);

#endif
