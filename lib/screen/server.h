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

/* Shows screen with set's placeholders. until: -1 return at once, 0 wait for a tap,
 * S > 0 wait at most S seconds. Returns 0 (*choice the tapped value, or NULL), 1 on
 * time-out or a session that ended, else an exit status with e set (69 no server). */
int bb_screen_tell(const char *control, const char *screen, const json_t *set, long until,
    char **choice, struct bb_err *e);

#endif
