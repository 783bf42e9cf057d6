/* Fuzz target: what the FIT-Connect services answer (lib/submit/fitconnect.c): the token,
 * the destination and its encryption key, the created submission, the uploads and the
 * submission, the event log with its Security Event Tokens and the keys that signed them,
 * each with the status bb-submit makes of it. lib/submit/fitconnect.c is included with
 * bb_http_request answering from the input and a clock of its own (so waiting costs no
 * time and every run sees the same time).
 *
 * Input: the state the case starts in (the first byte: 0 new, 1 submitted and waiting for
 * the answer, 2 created with one attachment left to upload), then the answers, separated
 * by NUL bytes, each the three digits of its HTTP status, the body, and optionally after a
 * '\001' header lines (Retry-After ...). When the answers run out the network is down.
 *
 * The destination's key is the 4096-bit certificate below, its own trust anchor (made for
 * fuzzing only; its key is not kept); the delivery service signs events with keys.h's. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "exit.h"
#include "http.h"

static time_t fuzz_now;
static time_t fuzz_time(time_t *t) { if (t != NULL) *t = fuzz_now; return fuzz_now; }
static unsigned fuzz_sleep(unsigned s) { fuzz_now += s; return 0; }
struct bb_http;
static int fuzz_http_open(struct bb_http **h, const struct bb_http_opts *o, struct bb_err *e);
static void fuzz_http_close(struct bb_http *h);
static int fuzz_http_request(struct bb_http *h, const char *method, const char *url,
    const char *const *headers, const void *body, size_t len, struct bb_http_resp *r,
    struct bb_err *e);

#define time(t) fuzz_time(t)
#define sleep(s) fuzz_sleep(s)
#define bb_http_open fuzz_http_open
#define bb_http_close fuzz_http_close
#define bb_http_request fuzz_http_request
#define bb_submit_fitconnect fuzz_submit_fitconnect
#include "../../lib/submit/fitconnect.c"
#undef time
#undef sleep

static const char dest_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIFLzCCAxegAwIBAgIUY3bnhsVnh2UUv0kdyRsFS2I291cwDQYJKoZIhvcNAQEL\n"
	"BQAwHjEcMBoGA1UEAwwTYmIgZnV6eiBkZXN0aW5hdGlvbjAgFw0yNjEyMDcxMTUz\n"
	"MThaGA8yMTI2MTExMzExNTMxOFowHjEcMBoGA1UEAwwTYmIgZnV6eiBkZXN0aW5h\n"
	"dGlvbjCCAiIwDQYJKoZIhvcNAQEBBQADggIPADCCAgoCggIBALv9NFhEM88SPdec\n"
	"9WuQm/orScdMxNNuZejTKCFmU2ofgRZ8ATIH54FJHaUoSbcUJ3d11NlLZ37aujAX\n"
	"2qyfZ3x5ZSAfZHDhQaZhH+w9iUc6KlEolFDYw/h1dv1ZKRgXGZtKAgbH6p6zdriq\n"
	"IqYvbnK859DRNwHbonskMpMyA92CN4XfwvYxAbnFaOaHmyRcw33pluM9DvsnC/EO\n"
	"BFJ1HAj120JqWaIllB8R2VmmoudCwJRmSQnZsoTNYtboHIT4BTrg/EI7SzfAKb35\n"
	"FmUHqkMYz82uiq1siSCNcSHcc6aykhheMHbLRf8qTLKnPCBZLf6VbwVQYxrqlIlG\n"
	"tmETrY8uSo3So8f+1WYN2iDIfBpZvGi4Lawi2LiyUq95nrcMChQYjUYP7o/oI3pP\n"
	"1NIk2z2lICmEVgfOwac2+P5SMyhYbG5R9vEIT5llitXXgU/oTpGPbmoEeBvlI9Uu\n"
	"MuU7luLFU/kxmNo3kmWe/VboNtBX07Zse0L1cVXbuLxhn4j+LRLMuKggtkZng9C+\n"
	"aGC0dNkuqESHFjORA2kMHgiZPyrCBu9kdvGFlNFbiCfsYyAuOoimJahvbxFa6oGH\n"
	"y8gDTgnEC7tCw59Q87Vq/GMX/KKXN5AQHDklnqJjpcxTbpduxaFlVbljVF73VLL6\n"
	"EKVcoUbXiRbsG0kwBQoYwWx2IQZHAgMBAAGjYzBhMB0GA1UdDgQWBBS/N7kyP4+J\n"
	"rL50zDkhasulrPcLXjAfBgNVHSMEGDAWgBS/N7kyP4+JrL50zDkhasulrPcLXjAO\n"
	"BgNVHQ8BAf8EBAMCBSAwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOC\n"
	"AgEAGRjZpZ9iXCIvI0uwLeMOUAWQogJ1c22PQLlsX2QkHW5GP9KP2AjEsp2jIU64\n"
	"rhJw1hsEQgpURUJLIAnMoEcVWsLKbPpll15cK2XKqxBuNy82k0jt5eLVHy8/3TbD\n"
	"HrC727KjMOI32YD2438bPdywmdW1lfqUffKvUSXrpc99Rw6tYiPUdyJjZM5+5ipj\n"
	"m3b/Lelo9xh9srLtkCdLY7vLlW9QrJr+XI1ZXIsvBBJ/0ygCZ6pRlukdBb4lxNiI\n"
	"i+gSquPYemwzvdGa64jqds9END9K02v79BOI7QR8MbQ/+h/J5V+YHpEdv3Z1zB+m\n"
	"OVrHm80GBosJ/ME9dSNoVuzTVx6WTrb1VXseBoDRuePk3IfuKilkDLKAHl7xTpVB\n"
	"18cVMcnH7FjcJPQOB0ArzoL0buSBIhuvsnJdJWjw38kmw7XJ4+CfzdV+FNzw3xZL\n"
	"xCl8FFmP2dD/Lrs17hYULhPrxnidXIzHRU5rvgTtapF4A6G9o6b6WLl/2+/2NecP\n"
	"FHULtoxCV82FypFwZGFDHyoTmUZLTuOXYRIXlFGJkZaDPPe28iKxCXqU5vJbmuXo\n"
	"OOBiUkpOEg98lm4aTXkYHQ1YeW8xuYJ7EoeEyXwwiLZvPKAkwvjHi+qHXDu4Ofc3\n"
	"jOu37Mb9H0F+hgPUGJ8WZ9RimZOPrWawCyo0cRKwyQgNFS4=\n"
	"-----END CERTIFICATE-----\n"
;

/* 2027-01-01, inside the certificates' validity. */
#define NOW ((time_t)1798761600)
#define API "https://api.fuzz.invalid/"
#define TOKEN_URL "https://auth.fuzz.invalid/token"
#define DEST "7c2e1a4d-0b5f-4e8a-9d3c-6f1b2a8e4c70"

static struct bb_config *cfg;
static const uint8_t *ans, *ans_end;
static char dummy;

static int
fuzz_http_open(struct bb_http **h, const struct bb_http_opts *o, struct bb_err *e)
{
	(void)o;
	(void)e;
	*h = (struct bb_http *)&dummy;
	return 0;
}

static void
fuzz_http_close(struct bb_http *h)
{
	(void)h;
}

static int
fuzz_http_request(struct bb_http *h, const char *method, const char *url,
    const char *const *headers, const void *body, size_t len, struct bb_http_resp *r,
    struct bb_err *e)
{
	const uint8_t *end, *hdr;
	size_t i;

	(void)h;
	(void)method;
	(void)body;
	(void)len;
	/* Whatever the answers said, bb asks only its own services, and no answer puts a
	 * line break into a header. */
	if (strncmp(url, API, strlen(API)) != 0 && strcmp(url, TOKEN_URL) != 0)
		__builtin_trap();
	if (strpbrk(url + strlen(API) - 1, "?#\r\n ") != NULL)
		__builtin_trap();
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		if (strpbrk(headers[i], "\r\n") != NULL)
			__builtin_trap();
	memset(r, 0, sizeof *r);
	r->retry_after = -1;
	if (ans >= ans_end)
		return bb_fail(e, BB_TEMPFAIL, "fuzz: the network is down");
	if ((end = memchr(ans, 0, (size_t)(ans_end - ans))) == NULL)
		end = ans_end;
	r->status = 0;
	for (i = 0; i < 3 && ans + i < end && ans[i] >= '0' && ans[i] <= '9'; i++)
		r->status = r->status * 10 + (ans[i] - '0');
	ans += i;
	if ((hdr = memchr(ans, 1, (size_t)(end - ans))) == NULL)
		hdr = end;
	r->len = (size_t)(hdr - ans);
	r->body = fuzz_str(ans, r->len);
	snprintf(r->content_type, sizeof r->content_type, "application/json");
	if (hdr < end && hdr + 1 < end && hdr[1] >= '0' && hdr[1] <= '9')
		r->retry_after = (long)(hdr[1] - '0') * 7;
	ans = end < ans_end ? end + 1 : end;
	return 0;
}

static const char case_json[] =
	"{\"bb\":1,\"id\":\"0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3\","
	"\"created\":\"2026-11-30T10:00:00+01:00\",\"terminal\":\"t\",\"service\":\"s\","
	"\"form\":{\"definition\":\"s\",\"version\":1,\"leika\":\"99115005000000\","
	"\"fields\":{\"a\":\"b\"}},\"identity\":{\"verified\":{\"by\":\"eid\"}},"
	"\"attachments\":[{\"name\":\"photo\",\"type\":\"image/jpeg\",\"size\":3,"
	"\"sha512\":\"6d518f8b31d1882feace10a9215f5d8cf5afe037652a1d11d9c1408d988c2a4f71a5edfc85d0712fa3f4e21b2c0a244c8c0d333bab454311e24067d2a83e5e59\",\"data\":\"AAAA\"}],\"submission\":{\"target\":\"fc\"}}";

/* The submission part of each start state (kept small: the fuzzer changes the answers). */
static const char *const starts[] = {
	"{\"target\":\"fc\"}",
	"{\"target\":\"fc\",\"state\":\"submitted\",\"fitconnect\":{\"destination\":\"" DEST "\","
	"\"submission_id\":\"11111111-2222-4333-8444-555555555555\","
	"\"case_id\":\"66666666-7777-4888-9999-000000000000\",\"data_tag\":\"d\","
	"\"metadata_tag\":\"m\",\"attachments\":{\"photo\":{\"id\":\"a1\",\"uploaded\":true,"
	"\"tag\":\"p\"}}}}",
	"{\"target\":\"fc\",\"state\":\"created\",\"fitconnect\":{\"destination\":\"" DEST "\","
	"\"submission_id\":\"11111111-2222-4333-8444-555555555555\","
	"\"case_id\":\"66666666-7777-4888-9999-000000000000\","
	"\"attachments\":{\"photo\":{\"id\":\"a1\",\"uploaded\":false}}}}",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct bb_err e = { 0, "" };
	char yaml[10000], secret[4096], trust[4096], path[4096];

	(void)argc;
	(void)argv;
	fuzz_file("secret", "s3cret\n", 7, secret, sizeof secret);
	fuzz_file("trust.pem", dest_pem, strlen(dest_pem), trust, sizeof trust);
	snprintf(yaml, sizeof yaml,
	    "submit:\n  default: fc\n  targets:\n    fc:\n      kind: fitconnect\n"
	    "      submission_api: %s\n      token_url: %s\n      client_id: kiosk\n"
	    "      client_secret_file: %s\n      destination: %s\n"
	    "      schema_uri: https://schema.fuzz.invalid/1.json\n      key_trust: %s\n",
	    API, TOKEN_URL, secret, DEST, trust);
	fuzz_file("bb.yaml", yaml, strlen(yaml), path, sizeof path);
	if (bb_config_load(path, &cfg, &e) != 0) {
		fprintf(stderr, "fitconnect: %s\n", e.msg);
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_submit x = { 0 };
	json_t *c, *sub;
	int rc;

	if (size < 1)
		return 0;
	c = json_loads(case_json, 0, NULL);
	sub = json_loads(starts[data[0] % 3], 0, NULL);
	if (c == NULL || sub == NULL)
		abort();
	json_object_set_new(c, "submission", sub);
	x.cfg = cfg;
	x.target = "fc";
	x.c = c;
	x.sub = sub;
	x.wait = data[0] % 3 == 1 ? 3 : (data[0] & 0x80 ? 2 : 0);
	x.timeout = 10;
	if (bb_case_id_parse(&x.id, json_string_value(json_object_get(c, "id"))) != 0)
		abort();
	ans = data + 1;
	ans_end = data + size;
	fuzz_now = NOW;
	rc = fuzz_submit_fitconnect(&x, &e);
	if (fuzz_verbose())
		fprintf(stderr, "fitconnect: %d %s [%s]\n", rc, rc ? e.msg : "",
		    json_string_value(json_object_get(sub, "state")));
	if (rc == 0 && !json_is_string(json_object_get(sub, "state")))
		__builtin_trap();
	/* What was recorded is a case bb can write and read again. */
	char *dump = json_dumps(c, JSON_COMPACT);
	json_t *again = NULL;
	if (dump == NULL || bb_case_parse("fuzz", dump, strlen(dump), &again, &e) != 0) {
		fprintf(stderr, "fitconnect: the case does not parse again: %s\n", e.msg);
		abort();
	}
	json_decref(again);
	free(dump);
	json_decref(c);
	return 0;
}
