/* The kiosk's usage counts (bb-counts(5)): per service how many sessions started,
 * completed, were cancelled, timed out or failed (and at which step), in which language
 * and with speech on. Kept in the spool's counts.json, changed under counts.lock with a
 * durable replace, so that concurrent counts lose nothing and a crash leaves the old or
 * the new file whole. Only values of fixed shapes go in: no personal value can. */
#ifndef BB_COUNTS_H
#define BB_COUNTS_H

#include <jansson.h>

struct bb_config;
struct bb_err;
struct bb_spool;

enum bb_outcome {
	BB_OUT_STARTED, BB_OUT_COMPLETED, BB_OUT_CANCELLED, BB_OUT_TIMEOUT, BB_OUT_FAILED,
	BB_OUT_N
};

/* The names in counts.json and on the command line (timeout counts as "timeout"). */
const char *bb_outcome_name(enum bb_outcome o);
int bb_outcome_parse(const char *name);	/* -1 when none */
/* The steps of a flow (card pin read ask photo signature submit receipt); NULL past the
 * last. */
const char *bb_count_step(int i);

struct bb_count {
	const char *service;
	enum bb_outcome outcome;
	const char *step;	/* NULL: none (failed only) */
	const char *lang;	/* NULL: none (not with started) */
	int speech;		/* not with started */
};

/* Checks every value against its fixed shape and, where the terminal has them, against
 * the service directories (form.services) and the catalogues (form.screens): 64 with a
 * message that names the option, never the value. */
int bb_count_check(const struct bb_config *cfg, const struct bb_count *c, struct bb_err *e);

/* Adds c (checked) to the counts of the spool (open, created). */
int bb_counts_add(const struct bb_spool *s, const struct bb_count *c, struct bb_err *e);

/* The counts as stored ({"version":1,"services":{}} when there are none yet), checked
 * against the format: 65 when the file is not what bb-queue writes. */
int bb_counts_load(const struct bb_spool *s, json_t **out, struct bb_err *e);

#endif
