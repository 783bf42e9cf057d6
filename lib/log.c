/* Event log to stderr and syslog; see log.h for why it takes no strings. */
#include "log.h"
#include "config.h"
#include "diag.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* stderr is for the person at the shell: warnings unless -v; syslog gets the event
 * stream from log.level up, for the fleet's log collection. */
static int stderr_level = LOG_WARNING;
static int syslog_level = LOG_INFO;
static int use_syslog;

static const struct {
	const char *name;
	int value;
} levels[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "err", LOG_ERR },
}, facilities[] = {
	{ "user", LOG_USER }, { "daemon", LOG_DAEMON },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
bb_case_id_parse(struct bb_case_id *id, const char *s)
{
	size_t i;

	id->s[0] = '\0';
	/* strnlen: a struct filled by hand may hold no NUL at all. */
	if (s == NULL || strnlen(s, 37) != 36)
		return -1;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
		} else if (!isxdigit((unsigned char)s[i])) {
			return -1;
		}
	}
	for (i = 0; i < 36; i++)
		id->s[i] = (char)tolower((unsigned char)s[i]);
	id->s[36] = '\0';
	return 0;
}

static int
lookup(const char *name, int fallback, int facility)
{
	size_t i, n = facility ? NELEM(facilities) : NELEM(levels);

	for (i = 0; name != NULL && i < n; i++) {
		if (facility && strcmp(facilities[i].name, name) == 0)
			return facilities[i].value;
		if (!facility && strcmp(levels[i].name, name) == 0)
			return levels[i].value;
	}
	return fallback;
}

void
bb_log_setup(const struct bb_config *cfg)
{
	if (cfg == NULL)
		return;
	syslog_level = lookup(bb_config_str(cfg, "log.level"), LOG_INFO, 0);
	use_syslog = bb_config_bool(cfg, "log.syslog");
	if (use_syslog)
		openlog(bb_progname, LOG_PID,
		    lookup(bb_config_str(cfg, "log.facility"), LOG_USER, 1));
}

void
bb_log_verbosity(int n)
{
	stderr_level += n;
	if (stderr_level > LOG_DEBUG)
		stderr_level = LOG_DEBUG;
	if (stderr_level < LOG_ERR)
		stderr_level = LOG_ERR;
}

static const char *
level_name(int level)
{
	size_t i;

	for (i = 0; i < NELEM(levels); i++)
		if (levels[i].value == level)
			return levels[i].name;
	return level < LOG_ERR ? "err" : "debug";
}

void
bb_log_event_(int level, const char *event, const struct bb_case_id *id,
    const char *key, long long n)
{
	char line[256];
	struct bb_case_id checked;
	int len;

	len = snprintf(line, sizeof line, "%s", event);
	if (len < 0 || len >= (int)sizeof line)
		len = (int)sizeof line - 1;
	/* Re-check: a caller that filled the struct by hand still cannot log a name. */
	if (id != NULL && bb_case_id_parse(&checked, id->s) == 0) {
		len += snprintf(line + len, sizeof line - (size_t)len, " case=%s", checked.s);
		if (len >= (int)sizeof line)
			len = (int)sizeof line - 1;
	}
	if (key != NULL && len < (int)sizeof line - 1) {
		if (strcmp(key, "errno") == 0)
			snprintf(line + len, sizeof line - (size_t)len, " error=\"%s\"",
			    strerror((int)-n));
		else
			snprintf(line + len, sizeof line - (size_t)len, " %s=%lld", key, n);
	}
	if (level <= stderr_level)
		fprintf(stderr, "%s: %s: %s\n", bb_progname, level_name(level), line);
	if (use_syslog && level <= syslog_level)
		syslog(level, "%s", line);
}
