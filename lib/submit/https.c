/* The https target: the case (or its form part and attachments as multipart) POSTed to
 * the town's own endpoint, with the case id as Idempotency-Key so a repeated delivery
 * is recognised, a bearer token from a file and an optional client certificate. */
#include "submit/submit.h"
#include "case.h"
#include "crypto.h"
#include "diag.h"
#include "exit.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
post_multipart(struct bb_submit *x, struct bb_http *h, const char *url,
    const char *const *headers, struct bb_http_resp *r, struct bb_err *e)
{
	json_t *atts = json_object_get(x->c, "attachments"), *a;
	size_t n = json_array_size(atts), i;
	struct bb_http_part *parts = calloc(n + 1, sizeof *parts);
	unsigned char **raw = calloc(n + 1, sizeof *raw);
	json_t *form = json_object_get(x->c, "form");
	char *formjs = form ? json_dumps(form, JSON_COMPACT) : strdup("{}");
	int rc;

	if (parts == NULL || raw == NULL || formjs == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	parts[0] = (struct bb_http_part){ "form", "application/json", NULL, formjs,
		strlen(formjs) };
	json_array_foreach(atts, i, a) {
		const char *data = json_string_value(json_object_get(a, "data"));
		size_t len = 0;
		raw[i] = bb_base64_decode(data, strlen(data), &len);
		parts[i + 1] = (struct bb_http_part){
			json_string_value(json_object_get(a, "name")),
			json_string_value(json_object_get(a, "type")),
			json_string_value(json_object_get(a, "name")), raw[i], len };
	}
	rc = bb_http_post_multipart(h, url, headers, parts, n + 1, r, e);
out:
	for (i = 0; raw != NULL && i < n; i++)
		free(raw[i]);
	free(raw);
	free(parts);
	if (formjs != NULL)
		explicit_bzero(formjs, strlen(formjs));
	free(formjs);
	return rc;
}

int
bb_submit_https(struct bb_submit *x, struct bb_err *e)
{
	struct bb_http_opts o = { 0 };
	struct bb_http *h = NULL;
	struct bb_http_resp r = { 0 };
	const char *url, *format = bb_submit_opt(x, "format");
	char *token = NULL, auth[4200] = "", idem[128];
	const char *headers[4];
	json_t *payload = NULL, *answer;
	char *body = NULL;
	int rc, nh = 0;

	if ((rc = bb_submit_need(x, "url", &url, e)) != 0)
		return rc;
	if (bb_submit_opt(x, "bearer_token_file") != NULL &&
	    (rc = bb_submit_secret(x, "bearer_token_file", &token, e)) != 0)
		return rc;
	o.ca_file = bb_submit_opt(x, "ca_file");
	o.client_cert = bb_submit_opt(x, "client_cert");
	o.client_key = bb_submit_opt(x, "client_key");
	o.timeout = x->timeout;
	if ((rc = bb_http_open(&h, &o, e)) != 0) {
		bb_err_context(e, "%s", x->target);
		goto out;
	}
	snprintf(idem, sizeof idem, "Idempotency-Key: %s", x->id.s);
	headers[nh++] = idem;
	if (token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		headers[nh++] = auth;
	}
	if (format != NULL && strcmp(format, "multipart") == 0) {
		headers[nh] = NULL;
		rc = post_multipart(x, h, url, headers, &r, e);
	} else {
		headers[nh++] = "Content-Type: application/json";
		headers[nh] = NULL;
		payload = bb_submit_payload(x->c);
		if ((body = json_dumps(payload, JSON_COMPACT)) == NULL) {
			rc = bb_fail(e, BB_SOFTWARE, "out of memory");
			goto out;
		}
		rc = bb_http_request(h, "POST", url, headers, body, strlen(body), &r, e);
	}
	if (rc != 0) {
		bb_err_context(e, "%s", x->target);
		goto out;
	}
	if ((rc = bb_submit_status(x, &r, "POST", e)) != 0)
		goto out;
	answer = json_loadb(r.body, r.len, 0, NULL);
	json_object_set_new(x->sub, "https", json_pack("{s:I, s:s?, s:O?}", "status",
	    (json_int_t)r.status, "location", r.location[0] ? r.location : NULL, "reference",
	    json_object_get(answer, "reference")));
	json_decref(answer);
	bb_submit_state(x, "delivered");
out:
	if (body != NULL)
		explicit_bzero(body, strlen(body));
	free(body);
	json_decref(payload);
	explicit_bzero(auth, sizeof auth);
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	bb_http_resp_free(&r);
	bb_http_close(h);
	return rc;
}
