/* Fuzz target: what an HTTP peer sends back (lib/http.c): header lines as libcurl hands
 * them to the header callback (Content-Type, Location, Retry-After, RateLimit-Reset),
 * the body in pieces as the write callback gets it, and the exit status bb-submit makes
 * of the answer. Input: headers (one a line), NUL, body. lib/http.c is included to reach
 * its callbacks. */
#include "fuzz.h"

#include "../../lib/http.c"

#include "submit/submit.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_http_resp r;
	struct bb_submit x = { 0 };
	const uint8_t *part[2];
	size_t len[2], n, i, start, chunk;
	char host[256], *hdrs, *esc;

	n = fuzz_split(data, size, 0, part, len, 2);
	resp_init(&r);
	/* Header lines, each with its line end, as libcurl passes them. */
	hdrs = fuzz_str(part[0], len[0]);
	for (start = 0, i = 0; i <= len[0]; i++) {
		if (i == len[0] || hdrs[i] == '\n') {
			size_t l = i - start + (i < len[0]);
			if (l > 0) {
				char *line = fuzz_str((const uint8_t *)hdrs + start, l);
				if (on_header(line, 1, l, &r) != l)
					__builtin_trap();
				if (r.status == 0 && l > 12 && strncmp(line, "HTTP/", 5) == 0)
					r.status = strtol(line + 9, NULL, 10);
				free(line);
			}
			start = i + 1;
		}
	}
	if (strlen(r.content_type) >= sizeof r.content_type ||
	    strlen(r.location) >= sizeof r.location || r.retry_after < -1)
		__builtin_trap();
	host_of(hdrs, host, sizeof host);
	esc = bb_http_escape(hdrs);
	free(esc);
	free(hdrs);
	/* The body in pieces of a size taken from its first byte. */
	if (n > 1) {
		chunk = len[1] > 0 ? 1 + part[1][0] % 64 : 1;
		for (i = 0; i < len[1]; i += chunk) {
			size_t l = len[1] - i < chunk ? len[1] - i : chunk;
			char *piece = fuzz_str(part[1] + i, l);
			if (on_body(piece, 1, l, &r) != l)
				__builtin_trap();
			free(piece);
		}
		if (r.len != len[1] || (r.len > 0 && memcmp(r.body, part[1], r.len) != 0))
			__builtin_trap();
	}
	x.target = "fuzz";
	x.sub = json_object();
	bb_submit_status(&x, &r, "fuzz", &e);
	json_decref(x.sub);
	bb_http_resp_free(&r);
	return 0;
}
