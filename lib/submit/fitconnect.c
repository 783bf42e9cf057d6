/* The fitconnect target: the FIT-Connect Submission API v1 sender flow. Token, the
 * destination and its encryption key (checked before anything is encrypted with it),
 * create the submission with its announced attachments, upload each attachment as a JWE,
 * submit metadata and data as JWEs; optionally wait for the authority's answer in the
 * event log, each event a signed SET. Every step is recorded in submission.fitconnect, so
 * a retry continues the same submission instead of creating a second one. */
#include "submit/submit.h"
#include "case.h"
#include "crypto.h"
#include "diag.h"
#include "exit.h"
#include "http.h"
#include "jose/jose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define METADATA_SCHEMA \
	"https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json"
#define URL_MAX 1600
/* Longest an access token is kept, whatever its expires_in says (seconds). */
#define TOKEN_TTL_MAX 86400
#define EVENT_PREFIX "https://schema.fitko.de/fit-connect/events/"

struct fc {
	struct bb_submit *x;
	struct bb_http *h;
	const char *token_url, *client_id, *dest, *schema_uri, *trust, *identifier, *name;
	char base[1024];
	char *secret, *token;
	time_t token_until;
	EVP_PKEY *key;
	char kid[256];
	json_t *st;		/* submission.fitconnect (borrowed) */
	json_t *jwks;		/* the delivery service's signing keys, fetched once a run */
	EVP_PKEY *sigkey;	/* the destination's signature key of kid sigkid, checked */
	char sigkid[256];
	int warned;		/* about a verdict from the delivery service, once a run */
};

/* Most of a reject reason kept and shown: one line for the operator, not a document. */
#define REASON_MAX 200

static void
api_url(const struct fc *f, char *out, size_t len, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	snprintf(out, len, "%s%s", f->base, path);
}

/* OAuth2 client credentials; the token is kept until shortly before it expires. */
static int
token(struct fc *f, struct bb_err *e)
{
	const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct bb_http_resp r;
	char *id = NULL, *sec = NULL, *body = NULL;
	json_t *j = NULL;
	size_t len;
	int rc;

	if (f->token != NULL && time(NULL) < f->token_until)
		return 0;
	id = bb_http_escape(f->client_id);
	sec = bb_http_escape(f->secret);
	len = (id ? strlen(id) : 0) + (sec ? strlen(sec) : 0) + 64;
	if (id == NULL || sec == NULL || (body = malloc(len)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	snprintf(body, len, "grant_type=client_credentials&client_id=%s&client_secret=%s", id,
	    sec);
	if ((rc = bb_http_request(f->h, "POST", f->token_url, headers, body, strlen(body), &r,
	    e)) != 0) {
		bb_err_context(e, "%s: token", f->x->target);
		goto out;
	}
	if (r.status == 400 || r.status == 401) {
		rc = bb_fail(e, BB_NOPERM, "%s: token: the client credentials were refused "
		    "(HTTP %ld)", f->x->target, r.status);
	} else if ((rc = bb_submit_status(f->x, &r, "token", e)) == 0) {
		j = json_loadb(r.body, r.len, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "access_token"));
		json_int_t ttl = json_integer_value(json_object_get(j, "expires_in"));
		if (t == NULL || *t == '\0' || strpbrk(t, "\r\n") != NULL) {
			rc = bb_fail(e, BB_PROTOCOL, "%s: token: no access_token in the answer",
			    f->x->target);
		} else {
			free(f->token);
			f->token = strdup(t);
			/* expires_in is the server's number: bounded before it is added to the
			 * clock (near INT64_MAX the sum overflowed). No run needs a day. */
			if (ttl > TOKEN_TTL_MAX)
				ttl = TOKEN_TTL_MAX;
			f->token_until = time(NULL) + (ttl > 60 ? ttl - 30 : 30);
		}
	}
	bb_http_resp_free(&r);
out:
	json_decref(j);
	if (body != NULL)
		explicit_bzero(body, strlen(body));
	if (sec != NULL)
		explicit_bzero(sec, strlen(sec));
	free(body);
	free(sec);
	free(id);
	return rc;
}

/* One API request with the bearer token; the answer's JSON (if wanted) in *out. */
static int
call(struct fc *f, const char *method, const char *url, const char *ctype, const void *body,
    size_t len, int auth, const char *what, json_t **out, struct bb_err *e)
{
	struct bb_http_resp r;
	char authz[4200] = "", ct[160];
	const char *headers[4];
	int rc, nh = 0;

	if (out != NULL)
		*out = NULL;
	if (auth) {
		if ((rc = token(f, e)) != 0)
			return rc;
		snprintf(authz, sizeof authz, "Authorization: Bearer %s", f->token);
		headers[nh++] = authz;
	}
	if (ctype != NULL) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		headers[nh++] = ct;
	}
	headers[nh++] = "Accept: application/json, application/problem+json";
	headers[nh] = NULL;
	rc = bb_http_request(f->h, method, url, headers, body, len, &r, e);
	explicit_bzero(authz, sizeof authz);
	if (rc != 0)
		return bb_err_context(e, "%s: %s", f->x->target, what);
	if ((rc = bb_submit_status(f->x, &r, what, e)) == 0 && out != NULL &&
	    (*out = json_loadb(r.body, r.len, 0, NULL)) == NULL)
		rc = bb_fail(e, BB_PROTOCOL, "%s: %s: the answer is not JSON", f->x->target, what);
	bb_http_resp_free(&r);
	return rc;
}

/* The destination's current encryption key, checked against the rules before use. */
static int
fetch_key(struct fc *f, struct bb_err *e)
{
	char url[URL_MAX];
	json_t *dest, *jwk;
	const char *kid;
	int rc;

	api_url(f, url, sizeof url, "v1/destinations/%s", f->dest);
	if ((rc = call(f, "GET", url, NULL, NULL, 0, 1, "destination", &dest, e)) != 0)
		return rc;
	kid = json_string_value(json_object_get(dest, "encryptionKid"));
	if (kid == NULL || *kid == '\0' || strlen(kid) >= sizeof f->kid ||
	    strpbrk(kid, "/?#%") != NULL) {
		json_decref(dest);
		return bb_fail(e, BB_PROTOCOL, "%s: destination: no usable encryptionKid",
		    f->x->target);
	}
	snprintf(f->kid, sizeof f->kid, "%s", kid);
	json_decref(dest);
	api_url(f, url, sizeof url, "v1/destinations/%s/keys/%s", f->dest, f->kid);
	if ((rc = call(f, "GET", url, NULL, NULL, 0, 0, "destination key", &jwk, e)) != 0)
		return rc;
	if (!json_is_string(json_object_get(jwk, "kid")) ||
	    strcmp(json_string_value(json_object_get(jwk, "kid")), f->kid) != 0)
		rc = bb_fail(e, BB_NOPERM, "destination key: its kid is not the encryptionKid");
	else
		rc = bb_jwk_check_encryption_key(jwk, f->trust, time(NULL), &f->key, e);
	json_decref(jwk);
	if (rc != 0)
		return bb_err_context(e, "%s: nothing was sent", f->x->target);
	return 0;
}

static int
create(struct fc *f, struct bb_err *e)
{
	json_t *atts = json_object_get(f->x->c, "attachments"), *a, *ids, *announced, *req, *ans;
	char url[URL_MAX], uuid[37], *body;
	size_t i;
	int rc;

	ids = json_object();
	announced = json_array();
	json_array_foreach(atts, i, a) {
		if (bb_uuid_v4(uuid) != 0) {
			json_decref(ids);
			json_decref(announced);
			return bb_fail(e, BB_SOFTWARE, "no randomness for an attachment id");
		}
		json_array_append_new(announced, json_string(uuid));
		json_object_set_new(ids, json_string_value(json_object_get(a, "name")),
		    json_pack("{s:s, s:b}", "id", uuid, "uploaded", 0));
	}
	req = json_pack("{s:s, s:o, s:{s:s, s:s}}", "destinationId", f->dest,
	    "announcedAttachments", announced, "serviceType", "name", f->name, "identifier",
	    f->identifier);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (body == NULL) {
		json_decref(ids);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	api_url(f, url, sizeof url, "v1/submissions");
	rc = call(f, "POST", url, "application/json", body, strlen(body), 1, "create submission",
	    &ans, e);
	free(body);
	if (rc != 0) {
		json_decref(ids);
		return rc;
	}
	const char *sid = json_string_value(json_object_get(ans, "submissionId"));
	const char *cid = json_string_value(json_object_get(ans, "caseId"));
	struct bb_case_id chk;
	if (bb_case_id_parse(&chk, sid) != 0 || bb_case_id_parse(&chk, cid) != 0) {
		json_decref(ids);
		json_decref(ans);
		return bb_fail(e, BB_PROTOCOL, "%s: create submission: no submissionId or caseId",
		    f->x->target);
	}
	json_object_set_new(f->st, "destination", json_string(f->dest));
	json_object_set_new(f->st, "submission_id", json_string(sid));
	json_object_set_new(f->st, "case_id", json_string(cid));
	json_object_set_new(f->st, "attachments", ids);
	json_decref(ans);
	bb_submit_state(f->x, "created");
	return 0;
}

static const json_t *
case_attachment(const json_t *c, const char *name)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(c, "attachments"), i, a)
		if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
			return a;
	return NULL;
}

static int
upload(struct fc *f, struct bb_err *e)
{
	const char *sid = json_string_value(json_object_get(f->st, "submission_id"));
	json_t *atts = json_object_get(f->st, "attachments"), *st;
	const char *name;
	char url[URL_MAX];
	int rc;

	json_object_foreach(atts, name, st) {
		const json_t *a = case_attachment(f->x->c, name);
		const char *data;
		unsigned char *raw;
		size_t len;
		char *jwe;
		if (json_is_true(json_object_get(st, "uploaded")))
			continue;
		if (a == NULL)
			return bb_fail(e, BB_DATAERR, "%s: attachment %s announced but no longer in "
			    "the case", f->x->target, name);
		data = json_string_value(json_object_get(a, "data"));
		if ((raw = bb_base64_decode(data, strlen(data), &len)) == NULL)
			return bb_fail(e, BB_DATAERR, "%s: attachment %s: not base64", f->x->target,
			    name);
		jwe = bb_jwe_encrypt(f->key, f->kid, NULL, raw, len, e);
		explicit_bzero(raw, len);
		free(raw);
		if (jwe == NULL)
			return e->status;
		api_url(f, url, sizeof url, "v1/submissions/%s/attachments/%s", sid,
		    json_string_value(json_object_get(st, "id")));
		rc = call(f, "PUT", url, "application/jose", jwe, strlen(jwe), 1,
		    "upload attachment", NULL, e);
		if (rc == 0) {
			char *tag = bb_jwe_tag(jwe);
			json_object_set_new(st, "uploaded", json_true());
			json_object_set_new(st, "tag", tag ? json_string(tag) : json_null());
			free(tag);
		}
		free(jwe);
		if (rc != 0)
			return rc;
		bb_submit_state(f->x, "attachments");
	}
	return 0;
}

/* The application data: the case as the authority needs it, attachments by reference
 * (name, type, hash) since they travel as attachments of their own. */
static json_t *
application_data(const json_t *c)
{
	json_t *d = bb_submit_payload(c), *atts = json_array(), *a;
	size_t i;

	json_array_foreach(json_object_get(c, "attachments"), i, a)
		json_array_append_new(atts, json_pack("{s:O, s:O, s:O}", "name",
		    json_object_get(a, "name"), "type", json_object_get(a, "type"), "sha512",
		    json_object_get(a, "sha512")));
	json_object_set_new(d, "attachments", atts);
	return d;
}

static json_t *
metadata(struct fc *f, const char *data_sha512)
{
	json_t *atts = json_array(), *st, *a, *m, *identity;
	const char *name, *created;
	char date[11] = "";

	json_object_foreach(json_object_get(f->st, "attachments"), name, st) {
		a = (json_t *)case_attachment(f->x->c, name);
		json_array_append_new(atts, json_pack("{s:O, s:{s:s, s:O}, s:s, s:O, s:s}",
		    "attachmentId", json_object_get(st, "id"), "hash", "type", "sha512", "content",
		    json_object_get(a, "sha512"), "purpose", "attachment", "mimeType",
		    json_object_get(a, "type"), "filename", name));
	}
	m = json_pack("{s:s, s:{s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:o}}", "$schema",
	    METADATA_SCHEMA, "contentStructure", "data", "hash", "type", "sha512", "content",
	    data_sha512, "submissionSchema", "schemaUri", f->schema_uri, "mimeType",
	    "application/json", "attachments", atts);
	created = json_string_value(json_object_get(f->x->c, "created"));
	if (created != NULL)
		snprintf(date, sizeof date, "%.10s", created);
	json_object_set_new(m, "additionalReferenceInfo", json_pack("{s:s, s:s}",
	    "senderReference", f->x->id.s, "applicationDate", date));
	/* The person was identified with the eID: say how, not who. */
	identity = json_object_get(f->x->c, "identity");
	if (json_is_object(json_object_get(identity, "verified"))) {
		char *v = json_dumps(json_object_get(identity, "verified"), JSON_COMPACT);
		char *b = v ? bb_base64_encode(v, strlen(v)) : NULL;
		if (b != NULL)
			json_object_set_new(m, "authenticationInformation", json_pack(
			    "[{s:s, s:s, s:s}]", "type", "identificationReport", "version", "1.0.0",
			    "content", b));
		free(v);
		free(b);
	}
	return m;
}

static int
submit(struct fc *f, struct bb_err *e)
{
	const char *sid = json_string_value(json_object_get(f->st, "submission_id"));
	json_t *data = application_data(f->x->c), *meta = NULL, *req = NULL;
	char *djs = NULL, *mjs = NULL, *dj = NULL, *mj = NULL, *body = NULL, hash[129], url[URL_MAX];
	int rc;

	if ((djs = json_dumps(data, JSON_COMPACT)) == NULL ||
	    bb_sha512_hex(djs, strlen(djs), hash) != 0) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	meta = metadata(f, hash);
	if (meta == NULL || (mjs = json_dumps(meta, JSON_COMPACT)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	if ((dj = bb_jwe_encrypt(f->key, f->kid, "application/json", djs, strlen(djs), e)) ==
	    NULL || (mj = bb_jwe_encrypt(f->key, f->kid, "application/json", mjs, strlen(mjs),
	    e)) == NULL) {
		rc = e->status;
		goto out;
	}
	req = json_pack("{s:s, s:s}", "encryptedMetadata", mj, "encryptedData", dj);
	if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	api_url(f, url, sizeof url, "v1/submissions/%s", sid);
	if ((rc = call(f, "PUT", url, "application/json", body, strlen(body), 1, "submit", NULL,
	    e)) != 0)
		goto out;
	char now[21], *dt = bb_jwe_tag(dj), *mt = bb_jwe_tag(mj);
	bb_time_rfc3339(now);
	json_object_set_new(f->st, "data_tag", dt ? json_string(dt) : json_null());
	json_object_set_new(f->st, "metadata_tag", mt ? json_string(mt) : json_null());
	json_object_set_new(f->st, "submitted", json_string(now));
	free(dt);
	free(mt);
	bb_submit_state(f->x, "submitted");
out:
	if (djs != NULL)
		explicit_bzero(djs, strlen(djs));
	free(djs);
	free(mjs);
	free(dj);
	free(mj);
	free(body);
	json_decref(req);
	json_decref(meta);
	json_decref(data);
	return rc;
}

/* The key that signed a SET. Only two issuers are believed: the delivery service this
 * target talks to (its JWKS at the submission API's /.well-known/jwks.json) and the
 * destination (its signature key of that kid, checked as the encryption key is: x5c to
 * key_trust, PS512, "verify", 4096 bits). A key server named by the event itself would
 * let whoever wrote the event vouch for it. *dest says which one it was. */
static int
signer_key(struct fc *f, const char *iss, const char *kid, EVP_PKEY **key, int *dest,
    struct bb_err *e)
{
	char url[URL_MAX];
	size_t blen = strlen(f->base);
	json_t *j, *k = NULL;
	size_t i;
	int rc;

	*key = NULL;
	*dest = 0;
	if (strncmp(iss, f->base, blen - 1) == 0 && (iss[blen - 1] == '\0' ||
	    (iss[blen - 1] == '/' && iss[blen] == '\0'))) {
		if (f->jwks == NULL) {
			api_url(f, url, sizeof url, ".well-known/jwks.json");
			if ((rc = call(f, "GET", url, NULL, NULL, 0, 0, "event signing keys",
			    &f->jwks, e)) != 0)
				return rc;
		}
		j = f->jwks;
		json_array_foreach(json_object_get(j, "keys"), i, k)
			if (json_is_string(json_object_get(k, "kid")) &&
			    strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
				break;
		return i < json_array_size(json_object_get(j, "keys")) ?
		    bb_jwk_rsa_public(k, key, e) : bb_fail(e, BB_PROTOCOL,
		    "%s: event: no signing key %s", f->x->target, kid);
	}
	if (strcmp(iss, f->dest) != 0)
		return bb_fail(e, BB_PROTOCOL, "%s: event from an issuer that is neither the "
		    "delivery service nor the destination", f->x->target);
	*dest = 1;
	if (f->sigkey == NULL || strcmp(f->sigkid, kid) != 0) {
		EVP_PKEY_free(f->sigkey);
		f->sigkey = NULL;
		if (strlen(kid) >= sizeof f->sigkid)
			return bb_fail(e, BB_PROTOCOL, "%s: event: kid too long", f->x->target);
		api_url(f, url, sizeof url, "v1/destinations/%s/keys/%s", f->dest, kid);
		if ((rc = call(f, "GET", url, NULL, NULL, 0, 0, "event signing key", &j, e)) != 0)
			return rc;
		if (!json_is_string(json_object_get(j, "kid")) ||
		    strcmp(json_string_value(json_object_get(j, "kid")), kid) != 0)
			rc = bb_fail(e, BB_NOPERM, "destination signature key: its kid is not the "
			    "event's");
		else
			rc = bb_jwk_check_signature_key(j, f->trust, time(NULL), &f->sigkey, e);
		json_decref(j);
		if (rc != 0)
			return bb_err_context(e, "%s: event", f->x->target);
		snprintf(f->sigkid, sizeof f->sigkid, "%s", kid);
	}
	if (EVP_PKEY_up_ref(f->sigkey) != 1)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	*key = f->sigkey;
	return 0;
}

/* A reject reason as the operator sees it and the case keeps it: at most REASON_MAX
 * bytes, cut at a character boundary, control characters (C0, DEL, C1: escape sequences
 * for a terminal) each made '?'. jansson strings are valid UTF-8 already. */
static json_t *
reason_string(const char *why)
{
	char buf[REASON_MAX + 4];
	size_t i = 0, o = 0, n;
	unsigned char c;

	while ((c = (unsigned char)why[i]) != '\0') {
		n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (o + n > REASON_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)why[i + 1] < 0xa0)) {
			buf[o++] = '?';	/* U+0000-001F, U+007F, U+0080-009F */
		} else {
			memcpy(buf + o, why + i, n);
			o += n;
		}
		i += n;
	}
	buf[o] = '\0';
	return json_string(buf);
}

static int
tags_match(struct fc *f, const json_t *tags)
{
	const char *name;
	json_t *st;

	if (!json_equal(json_object_get(tags, "data"), json_object_get(f->st, "data_tag")) ||
	    !json_equal(json_object_get(tags, "metadata"), json_object_get(f->st, "metadata_tag")))
		return 0;
	json_object_foreach(json_object_get(f->st, "attachments"), name, st)
		if (!json_equal(json_object_get(json_object_get(tags, "attachments"),
		    json_string_value(json_object_get(st, "id"))), json_object_get(st, "tag")))
			return 0;
	return 1;
}

/* One entry of the event log: a security event token signed by the key its issuer
 * names, its claims in *payload. 75 when the key could not be fetched yet, else 76. */
static int
verify_set(struct fc *f, const json_t *set, json_t **payload, int *from_dest,
    struct bb_err *e)
{
	json_t *hdr = NULL, *claims = NULL;
	const char *iss, *kid, *typ;
	EVP_PKEY *key = NULL;
	int rc;

	*payload = NULL;
	*from_dest = 0;
	if (!json_is_string(set) || bb_jws_parse(json_string_value(set), &hdr, &claims, e) != 0)
		return bb_fail(e, BB_PROTOCOL, "%s: event log: not a signed event token",
		    f->x->target);
	iss = json_string_value(json_object_get(claims, "iss"));
	kid = json_string_value(json_object_get(hdr, "kid"));
	typ = json_string_value(json_object_get(hdr, "typ"));
	if (iss == NULL || kid == NULL || strpbrk(kid, "/?#%") != NULL)
		rc = bb_fail(e, BB_PROTOCOL, "%s: event: no iss or kid", f->x->target);
	else if (typ == NULL || strcmp(typ, "secevent+jwt") != 0)
		rc = bb_fail(e, BB_PROTOCOL, "%s: event: not a security event token (typ)",
		    f->x->target);
	else if ((rc = signer_key(f, iss, kid, &key, from_dest, e)) == 0 &&
	    (rc = bb_jws_verify_ps512(json_string_value(set), key, payload, e)) != 0)
		bb_err_context(e, "%s: event", f->x->target);
	EVP_PKEY_free(key);
	json_decref(hdr);
	json_decref(claims);
	if (rc != 0) {
		if (rc != BB_TEMPFAIL)
			rc = e->status = BB_PROTOCOL;
		json_decref(*payload);
		*payload = NULL;
	}
	return rc;
}

/* The FIT-Connect event of a verified token, when it is one of this submission that
 * counts (*name and *body; *name NULL: none to act on); 76 when it is of another
 * case. */
static int
event_of(struct fc *f, const json_t *payload, const char *sub, const char *txn,
    int from_dest, const char **name, json_t **body, struct bb_err *e)
{
	const char *psub = json_string_value(json_object_get(payload, "sub"));
	const char *ptxn = json_string_value(json_object_get(payload, "txn"));
	json_t *ev = json_object_get(payload, "events");

	*name = NULL;
	if (psub == NULL || strcmp(psub, sub) != 0)
		return 0;	/* another submission of the same case */
	if (ptxn == NULL || strcmp(ptxn, txn) != 0)
		return bb_fail(e, BB_PROTOCOL, "%s: event: for another case (txn)",
		    f->x->target);
	if (json_object_size(ev) != 1 || strncmp(json_object_iter_key(json_object_iter(ev)),
	    EVENT_PREFIX, strlen(EVENT_PREFIX)) != 0)
		return 0;	/* events we do not act on */
	*name = json_object_iter_key(json_object_iter(ev)) + strlen(EVENT_PREFIX);
	*body = json_object_iter_value(json_object_iter(ev));
	if (!from_dest && (strcmp(*name, "accept-submission") == 0 ||
	    strcmp(*name, "reject-submission") == 0)) {
		/* Only the authority decides, and only it signs with the destination's key:
		 * a verdict from the delivery service is no verdict. */
		if (!f->warned)
			bb_warn("%s: ignored %s issued by the delivery service, not by "
			    "the destination", f->x->target, *name);
		f->warned = 1;
		*name = NULL;
	}
	return 0;
}

/* The authority's verdict in an event: *outcome 0 accepted (when the tags are those of
 * what was sent, else 76), 65 rejected with its reason kept; other events change
 * nothing. */
static int
verdict(struct fc *f, const char *name, const json_t *body, int *outcome,
    struct bb_err *e)
{
	json_t *p0;
	const char *why;

	if (strcmp(name, "accept-submission") == 0) {
		if (!tags_match(f, json_object_get(body, "authenticationTags")))
			return bb_fail(e, BB_PROTOCOL, "%s: accepted, but the authentication "
			    "tags are not those of what was sent", f->x->target);
		*outcome = 0;
	} else if (strcmp(name, "reject-submission") == 0) {
		p0 = json_array_get(json_object_get(body, "problems"), 0);
		why = json_string_value(json_object_get(p0, "detail"));
		if (why == NULL)
			why = json_string_value(json_object_get(p0, "title"));
		json_object_set_new(f->st, "reject_reason", reason_string(why ? why :
		    "rejected"));
		*outcome = BB_DATAERR;
	}
	return 0;
}

/* One look at the event log: 0 accepted, 65 rejected, 75 no answer yet, 76 a bad SET. */
static int
events(struct fc *f, struct bb_err *e)
{
	const char *cid = json_string_value(json_object_get(f->st, "case_id"));
	const char *sid = json_string_value(json_object_get(f->st, "submission_id"));
	char url[URL_MAX], sub[64], txn[64];
	json_t *log, *set, *payload, *body, *names = json_array();
	const char *name;
	size_t i;
	int rc, from_dest, outcome = BB_TEMPFAIL;

	api_url(f, url, sizeof url, "v1/cases/%s/events", cid);
	if ((rc = call(f, "GET", url, NULL, NULL, 0, 1, "event log", &log, e)) != 0) {
		json_decref(names);
		return rc;
	}
	snprintf(sub, sizeof sub, "submission:%s", sid);
	snprintf(txn, sizeof txn, "case:%s", cid);
	json_array_foreach(json_object_get(log, "eventLog"), i, set) {
		if ((rc = verify_set(f, set, &payload, &from_dest, e)) != 0)
			break;
		rc = event_of(f, payload, sub, txn, from_dest, &name, &body, e);
		if (rc == 0 && name != NULL) {
			json_array_append_new(names, json_string(name));
			rc = verdict(f, name, body, &outcome, e);
		}
		json_decref(payload);
		if (rc != 0)
			break;
	}
	json_decref(log);
	json_object_set_new(f->st, "events", names);
	if (rc != 0)
		return rc;
	if (outcome == 0)
		bb_submit_state(f->x, "accepted");
	else if (outcome == BB_DATAERR) {
		bb_submit_state(f->x, "rejected");
		return bb_fail(e, BB_DATAERR, "%s: the authority rejected the submission: %s",
		    f->x->target, json_string_value(json_object_get(f->st, "reject_reason")));
	}
	if (outcome == BB_TEMPFAIL)
		bb_fail(e, BB_TEMPFAIL, "%s: no answer from the authority yet", f->x->target);
	return outcome;
}

static int
await(struct fc *f, struct bb_err *e)
{
	time_t until = time(NULL) + f->x->wait;
	int rc;

	for (;;) {
		rc = events(f, e);
		if (rc != BB_TEMPFAIL || time(NULL) >= until)
			return rc;
		sleep(1);
	}
}

static int
setup(struct fc *f, struct bb_submit *x, struct bb_err *e)
{
	const char *api;
	json_t *form = json_object_get(x->c, "form");
	struct bb_http_opts o = { 0 };
	int rc;

	memset(f, 0, sizeof *f);
	f->x = x;
	if ((rc = bb_submit_need(x, "submission_api", &api, e)) != 0 ||
	    (rc = bb_submit_need(x, "token_url", &f->token_url, e)) != 0 ||
	    (rc = bb_submit_need(x, "client_id", &f->client_id, e)) != 0 ||
	    (rc = bb_submit_need(x, "destination", &f->dest, e)) != 0 ||
	    (rc = bb_submit_need(x, "schema_uri", &f->schema_uri, e)) != 0 ||
	    (rc = bb_submit_need(x, "key_trust", &f->trust, e)) != 0)
		return rc;
	struct bb_case_id d;
	if (bb_case_id_parse(&d, f->dest) != 0)
		return bb_fail(e, BB_CONFIG, "%s: destination: not a UUID", x->target);
	snprintf(f->base, sizeof f->base, "%s%s", api, api[strlen(api) - 1] == '/' ? "" : "/");
	f->identifier = bb_submit_opt(x, "service_identifier");
	if (f->identifier == NULL)
		f->identifier = json_string_value(json_object_get(form, "leika"));
	if (f->identifier == NULL)
		return bb_fail(e, BB_CONFIG, "%s: no service_identifier, and the case has no "
		    "form.leika", x->target);
	f->name = bb_submit_opt(x, "service_name");
	if (f->name == NULL)
		f->name = json_string_value(json_object_get(x->c, "service"));
	if (f->name == NULL)
		f->name = f->identifier;
	if ((rc = bb_submit_secret(x, "client_secret_file", &f->secret, e)) != 0)
		return rc;
	o.ca_file = bb_submit_opt(x, "ca_file");
	o.timeout = x->timeout;
	if ((rc = bb_http_open(&f->h, &o, e)) != 0)
		return bb_err_context(e, "%s", x->target);
	f->st = json_object_get(x->sub, "fitconnect");
	if (!json_is_object(f->st)) {
		f->st = json_object();
		json_object_set_new(x->sub, "fitconnect", f->st);
	}
	return 0;
}

static void
teardown(struct fc *f)
{
	if (f->secret != NULL)
		explicit_bzero(f->secret, strlen(f->secret));
	if (f->token != NULL)
		explicit_bzero(f->token, strlen(f->token));
	free(f->secret);
	free(f->token);
	EVP_PKEY_free(f->key);
	json_decref(f->jwks);
	EVP_PKEY_free(f->sigkey);
	bb_http_close(f->h);
}

int
bb_submit_fitconnect(struct bb_submit *x, struct bb_err *e)
{
	const char *state = json_string_value(json_object_get(x->sub, "state"));
	struct fc f;
	int rc, submitted;

	if ((rc = setup(&f, x, e)) != 0) {
		teardown(&f);
		return rc;
	}
	submitted = state != NULL && (strcmp(state, "submitted") == 0 ||
	    strcmp(state, "accepted") == 0);
	if (!submitted) {
		/* Resume: a submission this case already created is continued, not made anew. */
		int resume = json_is_string(json_object_get(f.st, "submission_id")) && state != NULL &&
		    (strcmp(state, "created") == 0 || strcmp(state, "attachments") == 0);
		if ((rc = fetch_key(&f, e)) == 0 && (resume || (rc = create(&f, e)) == 0) &&
		    (rc = upload(&f, e)) == 0)
			rc = submit(&f, e);
	} else if (state != NULL && strcmp(state, "accepted") == 0) {
		teardown(&f);
		return 0;
	}
	if (rc == 0 && x->wait > 0)
		rc = await(&f, e);
	teardown(&f);
	return rc;
}
