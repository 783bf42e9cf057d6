/* HTTPS requests on libcurl: one handle per target so connections are reused, TLS peer
 * verification always on (it cannot be turned off), timeouts, and the headers a sender
 * needs to tell "later" from "never" (Retry-After, RateLimit-Reset, Location). */
#ifndef BB_HTTP_H
#define BB_HTTP_H

#include <stddef.h>

struct bb_err;
struct bb_http;

struct bb_http_opts {
	const char *ca_file;		/* NULL: the system store */
	const char *client_cert, *client_key;
	long timeout;			/* seconds for a whole request; 0: 60 */
	long connect_timeout;		/* seconds; 0: 10 */
};

struct bb_http_resp {
	long status;
	char *body;			/* NUL-terminated */
	size_t len;
	char content_type[128];
	char location[1024];
	long retry_after;		/* seconds asked to wait (Retry-After, RateLimit-Reset); -1 */
};

/* A part of a multipart/form-data body. */
struct bb_http_part {
	const char *name, *type, *filename;
	const void *data;
	size_t len;
};

int bb_http_open(struct bb_http **h, const struct bb_http_opts *o, struct bb_err *e);
void bb_http_close(struct bb_http *h);

/* One request. headers: NULL-terminated "Name: value" strings (may be NULL). 0 when an
 * HTTP answer came, whatever its status; 75 for network failures and timeouts; 77 when
 * the peer's TLS certificate does not verify; 78 for a bad client certificate or CA
 * file. Messages name the URL's host, never the body. */
int bb_http_request(struct bb_http *h, const char *method, const char *url,
    const char *const *headers, const void *body, size_t len, struct bb_http_resp *r,
    struct bb_err *e);
/* The same as multipart/form-data POST. */
int bb_http_post_multipart(struct bb_http *h, const char *url, const char *const *headers,
    const struct bb_http_part *parts, size_t nparts, struct bb_http_resp *r,
    struct bb_err *e);
void bb_http_resp_free(struct bb_http_resp *r);

/* application/x-www-form-urlencoded escaping (malloc'd). */
char *bb_http_escape(const char *s);

#endif
