/* Exit status shared by every bb program (bb(7)): sysexits(3) for the machine,
 * small codes for what a person at the terminal did. */
#ifndef BB_EXIT_H
#define BB_EXIT_H

enum bb_exit {
	BB_OK = 0,
	BB_CANCELLED = 1,	/* cancelled or timed out by the person */
	BB_WRONG_SECRET = 2,	/* wrong PIN/CAN; stderr says the retries left */
	BB_TIMED_OUT = 2,	/* bb-form ask, pin: no answer to the time-out warning */
	BB_DOC_BLOCKED = 3,	/* blocked, suspended or expired document */
	BB_NOT_MET = 4,		/* requirement not met after the allowed tries */
	BB_USAGE = 64,
	BB_DATAERR = 65,
	BB_NOINPUT = 66,
	BB_UNAVAILABLE = 69,
	BB_SOFTWARE = 70,
	BB_CANTCREAT = 73,
	BB_IOERR = 74,
	BB_TEMPFAIL = 75,
	BB_PROTOCOL = 76,
	BB_NOPERM = 77,
	BB_CONFIG = 78,
};

#endif
