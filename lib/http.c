/* HTTPS on libcurl; see http.h. */
#include "http.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Most a response body may hold: an answer this large is not one of ours. */
#define MAX_BODY (16u << 20)
/* Most a CA file or a client key may hold. */
#define MAX_PEM (1u << 20)

/* BSI TR-03116-4 (TLS for federal administration): TLS 1.2 or 1.3; in TLS 1.2 only
 * ECDHE (forward secrecy) with AES-GCM, in TLS 1.3 only the AES-GCM suites. RSA key
 * exchange, CBC and ChaCha20 are refused whatever the library would allow. */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define TLS13_CIPHERS "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"

struct bb_http {
	CURL *curl;
	struct bb_http_opts o;
	char *ca, *key;			/* ca_file and client_key as read (trusted) */
	size_t ca_len, key_len;
	int refused_alert;		/* a TLS alert that means "no common protocol" */
};

static int alert_index = -1;

/* Alerts either side sends when the two have no protocol version or cipher suite in
 * common (RFC 8446 section 6.2): the peer wants something bb refuses, or the reverse. */
static void
on_tls_info(const SSL *ssl, int where, int ret)
{
	struct bb_http *h;
	int desc = ret & 0xff;

	if (!(where & SSL_CB_ALERT) || SSL_is_init_finished(ssl))
		return;
	h = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), alert_index);
	if (h != NULL && (desc == SSL_AD_HANDSHAKE_FAILURE || desc == SSL_AD_PROTOCOL_VERSION ||
	    desc == SSL_AD_INSUFFICIENT_SECURITY))
		h->refused_alert = desc;
}

static CURLcode
on_ssl_ctx(CURL *c, void *ctx, void *arg)
{
	(void)c;
	SSL_CTX_set_ex_data(ctx, alert_index, arg);
	SSL_CTX_set_info_callback(ctx, on_tls_info);
	return CURLE_OK;
}

/* A file the terminal must own, read whole; 78 naming key and path when it cannot be
 * read or is not trusted (a secret readable by others, an anchor writable by them). */
static int
read_conf_file(const char *path, const char *what, unsigned flags, char **buf, size_t *len,
    struct bb_err *e)
{
	int rc;

	if ((rc = bb_read_trusted(path, what, flags, MAX_PEM, buf, len, e)) != 0 && e != NULL)
		e->status = BB_CONFIG;
	return rc != 0 ? BB_CONFIG : 0;
}

int
bb_http_open(struct bb_http **hp, const struct bb_http_opts *o, struct bb_err *e)
{
	static int global_done;
	struct bb_http *h;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return bb_fail(e, BB_SOFTWARE, "libcurl cannot start");
		global_done = 1;
	}
	if (alert_index < 0 &&
	    (alert_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
		return bb_fail(e, BB_SOFTWARE, "OpenSSL cannot start");
	if ((h = calloc(1, sizeof *h)) == NULL || (h->curl = curl_easy_init()) == NULL) {
		free(h);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	h->o = *o;
	if ((o->ca_file != NULL && read_conf_file(o->ca_file, "ca_file", 0, &h->ca, &h->ca_len,
	    e) != 0) || (o->client_key != NULL && read_conf_file(o->client_key, "client_key",
	    BB_TRUST_SECRET, &h->key, &h->key_len, e) != 0)) {
		bb_http_close(h);
		return BB_CONFIG;
	}
	if (h->o.timeout <= 0)
		h->o.timeout = 60;
	if (h->o.connect_timeout <= 0)
		h->o.connect_timeout = 10;
	*hp = h;
	return 0;
}

void
bb_http_close(struct bb_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca);
	if (h->key != NULL)
		explicit_bzero(h->key, h->key_len);
	free(h->key);
	free(h);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct bb_http_resp *r = arg;
	size_t len = size * n;
	char *nb;

	if (r->len + len > MAX_BODY)
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	if ((nb = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static void
header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), vl;

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1;
	len -= nl + 1;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	vl = len < outlen - 1 ? len : outlen - 1;
	memcpy(out, line, vl);
	out[vl] = '\0';
}

/* Retry-After is seconds or an HTTP date; RateLimit-Reset is seconds. */
static long
wait_seconds(const char *v)
{
	char *end;
	long n;
	time_t t;

	if (*v == '\0')
		return -1;
	n = strtol(v, &end, 10);
	if (*end == '\0' && n >= 0)
		return n;
	if ((t = curl_getdate(v, NULL)) > 0)
		return t > time(NULL) ? (long)(t - time(NULL)) : 0;
	return -1;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct bb_http_resp *r = arg;
	size_t len = size * n;
	char v[128] = "";
	long w;

	if (len > 6 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100 Continue): forget the old headers. */
		r->retry_after = -1;
		r->location[0] = r->content_type[0] = '\0';
	}
	header_value(p, len, "Content-Type", r->content_type, sizeof r->content_type);
	header_value(p, len, "Location", r->location, sizeof r->location);
	header_value(p, len, "Retry-After", v, sizeof v);
	if (v[0] && (w = wait_seconds(v)) >= 0)
		r->retry_after = w;
	v[0] = '\0';
	header_value(p, len, "RateLimit-Reset", v, sizeof v);
	if (v[0] && (w = wait_seconds(v)) >= 0 && w > r->retry_after)
		r->retry_after = w;
	return len;
}

/* Host of a URL for messages (never the path: it may carry ids). */
static void
host_of(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	n = (size_t)(end - p) < len - 1 ? (size_t)(end - p) : len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static int
perform(struct bb_http *h, const char *url, struct curl_slist *hdrs, struct bb_http_resp *r,
    struct bb_err *e)
{
	CURL *c = h->curl;
	char host[256], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	host_of(url, host, sizeof host);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, h->o.timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bb/" BB_VERSION);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, TLS12_CIPHERS);
	curl_easy_setopt(c, CURLOPT_TLS13_CIPHERS, TLS13_CIPHERS);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h);
	if (h->ca != NULL) {
		/* The configured CA is the only trust: without this libcurl would also believe
		 * every CA of the system's store (its built-in CApath /etc/ssl/certs). */
		struct curl_blob ca = { h->ca, h->ca_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
	}
	if (h->o.client_cert != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->o.client_cert);
	if (h->key != NULL) {
		struct curl_blob key = { h->key, h->key_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
	}
	h->refused_alert = 0;
	rc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	switch (rc) {
	case CURLE_OK:
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->body == NULL && (r->body = calloc(1, 1)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		return 0;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		if (rc == CURLE_SSL_CACERT_BADFILE)
			return bb_fail(e, BB_CONFIG, "%s: CA file: %s", host, errbuf);
		return bb_fail(e, BB_NOPERM, "%s: TLS certificate does not verify: %s", host,
		    errbuf);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
		if (h->refused_alert != 0 || rc == CURLE_SSL_CIPHER)
			return bb_fail(e, BB_NOPERM, "%s: TLS: no protocol version or cipher suite in "
			    "common (bb allows TLS 1.2 with ECDHE and AES-GCM, TLS 1.3 with AES-GCM); "
			    "nothing was sent", host);
		return bb_fail(e, BB_TEMPFAIL, "%s: %s", host, errbuf[0] ? errbuf :
		    curl_easy_strerror(rc));
	case CURLE_SSL_CERTPROBLEM:
		return bb_fail(e, BB_CONFIG, "%s: client certificate: %s", host, errbuf);
	case CURLE_WRITE_ERROR:
		return bb_fail(e, BB_PROTOCOL, "%s: answer larger than %u bytes", host, MAX_BODY);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return bb_fail(e, BB_CONFIG, "%s: not an https URL", host);
	default:
		return bb_fail(e, BB_TEMPFAIL, "%s: %s", host, errbuf[0] ? errbuf :
		    curl_easy_strerror(rc));
	}
}

static void
resp_init(struct bb_http_resp *r)
{
	memset(r, 0, sizeof *r);
	r->retry_after = -1;
}

int
bb_http_request(struct bb_http *h, const char *method, const char *url,
    const char *const *headers, const void *body, size_t len, struct bb_http_resp *r,
    struct bb_err *e)
{
	struct curl_slist *hdrs = NULL, *t;
	CURL *c = h->curl;
	int rc, i;

	resp_init(r);
	curl_easy_reset(c);
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((t = curl_slist_append(hdrs, headers[i])) == NULL) {
			curl_slist_free_all(hdrs);
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		}
		hdrs = t;
	}
	/* No "Expect: 100-continue" round trip before each upload. */
	if ((t = curl_slist_append(hdrs, "Expect:")) != NULL)
		hdrs = t;
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	rc = perform(h, url, hdrs, r, e);
	curl_slist_free_all(hdrs);
	return rc;
}

int
bb_http_post_multipart(struct bb_http *h, const char *url, const char *const *headers,
    const struct bb_http_part *parts, size_t nparts, struct bb_http_resp *r,
    struct bb_err *e)
{
	struct curl_slist *hdrs = NULL, *t;
	CURL *c = h->curl;
	curl_mime *mime;
	size_t i;
	int rc;

	resp_init(r);
	curl_easy_reset(c);
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		if ((t = curl_slist_append(hdrs, headers[i])) != NULL)
			hdrs = t;
	if ((t = curl_slist_append(hdrs, "Expect:")) != NULL)
		hdrs = t;
	if ((mime = curl_mime_init(c)) == NULL) {
		curl_slist_free_all(hdrs);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	for (i = 0; i < nparts; i++) {
		curl_mimepart *p = curl_mime_addpart(mime);
		curl_mime_name(p, parts[i].name);
		curl_mime_data(p, parts[i].data, parts[i].len);
		if (parts[i].type)
			curl_mime_type(p, parts[i].type);
		if (parts[i].filename)
			curl_mime_filename(p, parts[i].filename);
	}
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	rc = perform(h, url, hdrs, r, e);
	curl_mime_free(mime);
	curl_slist_free_all(hdrs);
	return rc;
}

void
bb_http_resp_free(struct bb_http_resp *r)
{
	free(r->body);
	r->body = NULL;
}

char *
bb_http_escape(const char *s)
{
	char *t = curl_easy_escape(NULL, s, 0), *copy;

	if (t == NULL)
		return NULL;
	copy = strdup(t);
	curl_free(t);
	return copy;
}
