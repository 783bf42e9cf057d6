/* Delivering a case to its target (bb-submit): the three kinds of target, and what they
 * share — reading a target's configuration, mapping an HTTP answer to an exit status,
 * and keeping the case's submission part, so a later attempt resumes where this one
 * stopped and the queue knows how long to wait. */
#ifndef BB_SUBMIT_H
#define BB_SUBMIT_H

#include <jansson.h>

#include "log.h"

struct bb_config;
struct bb_err;
struct bb_http;
struct bb_http_resp;

struct bb_submit {
	const struct bb_config *cfg;
	const char *target;		/* its name in submit.targets */
	json_t *c;			/* the case, changed in place */
	json_t *sub;			/* c.submission (borrowed) */
	long wait;			/* --wait seconds; 0: do not wait for the answer */
	long timeout;			/* per request */
	struct bb_case_id id;
};

/* The target's key (submit.targets.NAME.key), or NULL when not set. */
const char *bb_submit_opt(const struct bb_submit *x, const char *key);
/* The same, required: 78 naming the target and key when missing. */
int bb_submit_need(const struct bb_submit *x, const char *key, const char **out,
    struct bb_err *e);
/* The first line of a secret file (client secret, bearer token) into a malloc'd string
 * that the caller wipes; 78 when it cannot be read or is empty. */
int bb_submit_secret(const struct bb_submit *x, const char *key, char **out,
    struct bb_err *e);
/* Exit status for an HTTP answer to `what`: 2xx 0; 401/403 77; 400/422 65; 408/429/5xx
 * 75 (retry_after recorded in the submission part); anything else 76. */
int bb_submit_status(struct bb_submit *x, const struct bb_http_resp *r, const char *what,
    struct bb_err *e);
/* Records state (and error, when status is not 0) in the submission part. */
void bb_submit_state(struct bb_submit *x, const char *state);
/* The case as the authority gets it: without bb's own submission part. */
json_t *bb_submit_payload(const json_t *c);

/* Delivers case c (changed in place) to target (NULL: the form's target, else
 * submit.default), waiting up to wait seconds for the authority's answer where the kind
 * can. Before an attempt — a need of the form without its attachment (65), no such
 * target (78) — c is untouched and *tried 0; else *tried is 1 and c's submission part
 * says what was done, also when it failed (error, state), so the queue resumes. 0
 * delivered, else the kind's exit status with e set. */
int bb_submit_case(json_t *c, const struct bb_config *cfg, const char *target, long wait,
    int *tried, struct bb_err *e);

int bb_submit_dir(struct bb_submit *x, struct bb_err *e);
int bb_submit_https(struct bb_submit *x, struct bb_err *e);
int bb_submit_fitconnect(struct bb_submit *x, struct bb_err *e);

#endif
