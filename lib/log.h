/* The event log: stderr and, when configured, syslog. By design a log call takes no
 * free-form string: the event name and keys must be string literals, the only variable
 * parts are a case id (checked to be a UUID) and numbers. So no name, address, image or
 * secret can reach a log, whatever a caller passes. */
#ifndef BB_LOG_H
#define BB_LOG_H

#include <syslog.h>

struct bb_config;

/* A case id that has been checked to be a UUID; the only identifier logs may carry. */
struct bb_case_id {
	char s[37];
};

/* Parses a UUID string into id; returns 0, or -1 (id is then empty) when it is not one. */
int bb_case_id_parse(struct bb_case_id *id, const char *s);

/* Reads log.level (syslog threshold, default info), log.syslog, log.facility. stderr
 * shows warnings and errors unless bb_log_verbosity() says otherwise. */
void bb_log_setup(const struct bb_config *cfg);
/* Lowers (n > 0: -v, more events) or raises (n < 0: -q) the stderr threshold. */
void bb_log_verbosity(int n);

/* "" ev "" makes anything but a string literal a compile error. */
#define bb_log(level, ev, id) bb_log_event_((level), "" ev "", (id), NULL, 0)
#define bb_log_n(level, ev, id, key, n) \
	bb_log_event_((level), "" ev "", (id), "" key "", (long long)(n))
/* errno values are logged as their strerror text: a cause, never data. */
#define bb_log_errno(level, ev, id, errnum) \
	bb_log_event_((level), "" ev "", (id), "errno", -(long long)(errnum))

void bb_log_event_(int level, const char *event, const struct bb_case_id *id,
    const char *key, long long n);

#endif
