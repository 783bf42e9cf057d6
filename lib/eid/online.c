/* Online eID through AusweisApp's SDK: the conversation (what each message asks and what
 * bb answers) and the WebSocket that carries it (libwebsockets). See online.h. */
#include "eid/online.h"
#include "eid/eid.h"
#include "config.h"
#include "eid/dg.h"
#include "diag.h"
#include "exit.h"
#include "http.h"
#include "secmem.h"

#include <libwebsockets.h>
#include <openssl/crypto.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The SDK's names of the read rights (AusweisApp's ACCESS_RIGHTS, as Debian's 1.26 sends
 * them) and the data groups they read (TR-03127). Pseudonym, AgeVerification,
 * AddressVerification, CanAllowed, PinManagement and the write rights have no data group
 * bb reads: a service never gets them from bb. */
static const struct {
	const char *name;
	int dg;
} rights[] = {
	{ "DocumentType", 1 }, { "IssuingCountry", 2 }, { "ValidUntil", 3 },
	{ "GivenNames", 4 }, { "FamilyName", 5 }, { "ArtisticName", 6 },
	{ "DoctoralDegree", 7 }, { "DateOfBirth", 8 }, { "PlaceOfBirth", 9 },
	{ "Nationality", 10 }, { "BirthName", 13 }, { "Address", 17 },
	{ "CommunityID", 18 }, { "ResidencePermitI", 19 }, { "ResidencePermitII", 20 },
};

static int
right_allowed(const char *name, unsigned long allowed)
{
	size_t i;

	for (i = 0; i < sizeof rights / sizeof rights[0]; i++)
		if (strcmp(rights[i].name, name) == 0)
			return (allowed & BB_DG_BIT(rights[i].dg)) != 0;
	return 0;
}

/* A text from AusweisApp fit for a message: the part after the last '#' or '/', only
 * letters, digits and "_-.", at most 60 characters ("?" when nothing is left). */
static void
tame(const char *s, char *out, size_t room)
{
	const char *p = s ? s : "";
	size_t n = 0;

	if (strrchr(p, '#'))
		p = strrchr(p, '#') + 1;
	else if (strrchr(p, '/'))
		p = strrchr(p, '/') + 1;
	for (; *p && n + 1 < room && n < 60; p++)
		if (isalnum((unsigned char)*p) || strchr("_-.", *p))
			out[n++] = *p;
	if (n == 0 && room > 1)
		out[n++] = '?';
	out[n] = '\0';
}

void
bb_online_talk_init(struct bb_online_talk *t, const struct bb_online *o,
    struct bb_online_result *r)
{
	memset(t, 0, sizeof *t);
	t->o = o;
	t->r = r;
	memset(r, 0, sizeof *r);
	snprintf(r->pace, sizeof r->pace, "pin");
}

static size_t
put(char *out, size_t room, const char *s)
{
	size_t n = strlen(s);

	if (n >= room)
		return 0;
	memcpy(out, s, n + 1);
	return n;
}

size_t
bb_online_start(struct bb_online_talk *t, char *out, size_t room)
{
	json_t *j;
	char *s;
	size_t n = 0;

	/* developerMode stays off: AusweisApp checks dates, TLS and the chain as for a
	 * citizen at home. */
	j = json_pack("{s:s, s:s, s:b}", "cmd", "RUN_AUTH", "tcTokenURL",
	    t->o->tc_token_url, "developerMode", 0);
	if (j && (s = json_dumps(j, JSON_COMPACT))) {
		n = put(out, room, s);
		free(s);
	}
	json_decref(j);
	t->started = n > 0;
	return n;
}

/* Ends with status after AusweisApp is told to cancel: the workflow must end before the
 * next person's RUN_AUTH, so the end waits for AUTH's answer to the CANCEL. */
static int
cancel(struct bb_online_talk *t, char *out, size_t room, size_t *outlen, int status,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	va_end(ap);
	t->status = status;
	t->cancelled = 1;
	*outlen = put(out, room, "{\"cmd\":\"CANCEL\"}");
	return -1;
}

/* {"cmd":"SET_x","value":"digits"} from a secret of digits only (JSON needs no escape). */
static int
set_secret(const char *cmd, const struct bb_secret *s, char *out, size_t room,
    size_t *outlen, struct bb_err *e)
{
	size_t i, n;

	for (i = 0; i < s->len; i++)
		if (!isdigit(s->buf[i]))
			return bb_fail(e, BB_DATAERR, "a secret holds more than digits");
	n = (size_t)snprintf(out, room, "{\"cmd\":\"%s\",\"value\":\"", cmd);
	if (n + s->len + 3 > room)
		return bb_fail(e, BB_SOFTWARE, "SDK command too long");
	memcpy(out + n, s->buf, s->len);
	memcpy(out + n + s->len, "\"}", 3);
	*outlen = n + s->len + 2;
	return -1;
}

static int
strings_of(json_t *a, const char **names, size_t max, size_t *n)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return -1;
		names[(*n)++] = json_string_value(v);
	}
	return 0;
}

/* ACCESS_RIGHTS: the required rights must all be allowed (else cancel, 77); optional
 * ones not allowed are switched off once with SET_ACCESS_RIGHTS; then ACCEPT. */
static int
access_rights(struct bb_online_talk *t, json_t *m, char *out, size_t room, size_t *outlen,
    struct bb_err *e)
{
	const char *req[64], *opt[64], *eff[64];
	size_t nreq, nopt, neff, i;
	json_t *chat = json_object_get(m, "chat"), *want, *cmd;
	char *s;

	if (t->accepted)
		return bb_fail(e, BB_PROTOCOL, "AusweisApp: ACCESS_RIGHTS after they were accepted");
	/* No "effective": nothing to check the rights against, so nothing to accept. */
	if (!json_is_object(chat) || !json_is_array(json_object_get(chat, "effective")) ||
	    strings_of(json_object_get(chat, "required"), req, 64, &nreq) < 0 ||
	    strings_of(json_object_get(chat, "optional"), opt, 64, &nopt) < 0 ||
	    strings_of(json_object_get(chat, "effective"), eff, 64, &neff) < 0)
		return bb_fail(e, BB_PROTOCOL, "AusweisApp: ACCESS_RIGHTS without a readable chat");
	for (i = 0; i < nreq; i++)
		if (!right_allowed(req[i], t->o->allowed)) {
			char n[64];

			tame(req[i], n, sizeof n);
			return cancel(t, out, room, outlen, BB_NOPERM,
			    "the service asks for more than it may read: %s", n);
		}
	for (i = 0; i < neff; i++)
		if (!right_allowed(eff[i], t->o->allowed))
			break;
	if (i == neff) {
		t->accepted = 1;
		*outlen = put(out, room, "{\"cmd\":\"ACCEPT\"}");
		return -1;
	}
	if (t->rights_set)
		return cancel(t, out, room, outlen, BB_NOPERM,
		    "AusweisApp keeps a right the service may not have");
	t->rights_set = 1;
	want = json_array();
	for (i = 0; i < nopt; i++)
		if (right_allowed(opt[i], t->o->allowed))
			json_array_append_new(want, json_string(opt[i]));
	cmd = json_pack("{s:s, s:o}", "cmd", "SET_ACCESS_RIGHTS", "chat", want);
	s = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
	json_decref(cmd);
	*outlen = s ? put(out, room, s) : 0;
	free(s);
	if (*outlen == 0)
		return bb_fail(e, BB_SOFTWARE, "SET_ACCESS_RIGHTS: out of memory");
	return -1;
}

/* The card in ENTER_PIN/CAN/PUK: its retry counter (-1 when not said); 3 when its eID
 * function is off. */
static int
card_state(json_t *m, int *retries)
{
	json_t *card = json_object_get(json_object_get(m, "reader"), "card");
	json_t *rc = json_object_get(card, "retryCounter");

	*retries = json_is_integer(rc) ? (int)json_integer_value(rc) : -1;
	return json_is_true(json_object_get(card, "deactivated")) ? BB_DOC_BLOCKED : 0;
}

static int
enter(struct bb_online_talk *t, const char *what, json_t *m, char *out, size_t room,
    size_t *outlen, struct bb_err *e)
{
	const struct bb_online *o = t->o;
	int retries;

	t->waiting_card = 0;
	if (card_state(m, &retries))
		return cancel(t, out, room, outlen, BB_DOC_BLOCKED,
		    "the card's eID function is switched off");
	if (strcmp(what, "ENTER_PIN") == 0) {
		if (t->pin_sent && retries < 0)
			return cancel(t, out, room, outlen, BB_WRONG_SECRET, "wrong PIN");
		if (t->pin_sent)
			return cancel(t, out, room, outlen, BB_WRONG_SECRET,
			    "wrong PIN, %d %s left", retries, retries == 1 ? "retry" : "retries");
		if (o->pin == NULL)
			return cancel(t, out, room, outlen, BB_CANCELLED, "no PIN was entered");
		t->pin_sent = 1;
		return set_secret("SET_PIN", o->pin, out, room, outlen, e);
	}
	if (strcmp(what, "ENTER_CAN") == 0) {
		if (t->pin_sent && !t->can_sent)
			return cancel(t, out, room, outlen, BB_WRONG_SECRET,
			    "wrong PIN, 1 retry left: the PIN is now suspended (the CAN is needed next)");
		if (t->can_sent)
			return cancel(t, out, room, outlen, BB_WRONG_SECRET, "wrong CAN");
		if (o->can == NULL)
			return cancel(t, out, room, outlen, BB_DOC_BLOCKED,
			    "the PIN is suspended: confirm with the CAN first (bb-eid pin-resume)");
		t->can_sent = 1;
		snprintf(t->r->pace, sizeof t->r->pace, "can");
		return set_secret("SET_CAN", o->can, out, room, outlen, e);
	}
	/* ENTER_PUK */
	if (t->pin_sent && !t->puk_sent)
		return cancel(t, out, room, outlen, BB_WRONG_SECRET,
		    "wrong PIN, no retries left: the PIN is now blocked (the PUK is needed)");
	if (t->puk_sent)
		return cancel(t, out, room, outlen, BB_WRONG_SECRET, "wrong PUK");
	if (o->puk == NULL)
		return cancel(t, out, room, outlen, BB_DOC_BLOCKED,
		    "the PIN is blocked: unblock it with the PUK (bb-eid pin-unblock)");
	t->puk_sent = 1;
	return set_secret("SET_PUK", o->puk, out, room, outlen, e);
}

/* AUTH with a result: the end. */
static int
auth_end(struct bb_online_talk *t, json_t *res, json_t *url, struct bb_err *e)
{
	const char *major = json_string_value(json_object_get(res, "major"));
	const char *minor = json_string_value(json_object_get(res, "minor"));
	char m[64];

	if (t->cancelled)
		return bb_fail(e, t->status, "%s", t->msg);
	if (major == NULL)
		return bb_fail(e, BB_PROTOCOL, "AusweisApp: AUTH without a result");
	if (strcmp(major, "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok") == 0) {
		const char *u = json_string_value(url);

		/* Success without bb's ACCEPT: rights nobody checked. */
		if (!t->accepted)
			return bb_fail(e, BB_PROTOCOL, "AusweisApp: AUTH succeeded without the rights accepted");
		if (u == NULL || strncmp(u, "https://", 8) != 0 || strlen(u) >= sizeof t->r->url)
			return bb_fail(e, BB_PROTOCOL, "AusweisApp: AUTH without a refresh address");
		snprintf(t->r->url, sizeof t->r->url, "%s", u);
		return 0;
	}
	tame(minor, m, sizeof m);
	if (strcmp(m, "cancellationByUser") == 0)
		return bb_fail(e, BB_CANCELLED, "cancelled in AusweisApp");
	/* When AusweisApp's READER message said the card went before the end. (A card
	 * that goes while AusweisApp talks to it, 1.26 ends as "unknownError" with no such
	 * message: that is 77 below.) */
	if (t->card_gone || strstr(m, "ardRemoved") || strstr(m, "ardNotFound"))
		return bb_fail(e, BB_CANCELLED, "the card was removed");
	return bb_fail(e, BB_NOPERM, "the authentication failed: %s", m);
}

/* READER: which reader holds a card. AusweisApp says INSERT_CARD when it starts to look
 * for one, also when the card is there and its READER message is still to come. */
static int
reader(struct bb_online_talk *t, json_t *m, char *out, size_t room, size_t *outlen)
{
	const char *name = json_string_value(json_object_get(m, "name"));
	json_t *card = json_object_get(m, "card");

	if (name == NULL)
		return -1;
	/* AusweisApp waits for another card when the one there cannot be used; bb says so
	 * at once. */
	if (json_is_true(json_object_get(card, "deactivated")))
		return cancel(t, out, room, outlen, BB_DOC_BLOCKED,
		    "the card's eID function is switched off");
	if (json_is_object(card)) {
		snprintf(t->card_reader, sizeof t->card_reader, "%s", name);
		t->waiting_card = 0;
		t->card_gone = 0;
	} else if (t->card_reader[0] != '\0' && strcmp(name, t->card_reader) == 0) {
		t->card_reader[0] = '\0';
		t->card_gone = 1;
	}
	return -1;
}

int
bb_online_talk(struct bb_online_talk *t, const char *msg, size_t len, char *out,
    size_t room, size_t *outlen, struct bb_err *e)
{
	json_t *m;
	json_error_t je;
	const char *kind;
	int rc = -1;

	*outlen = 0;
	m = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(m)) {
		json_decref(m);
		return bb_fail(e, BB_PROTOCOL, "AusweisApp: a message that is not a JSON object");
	}
	kind = json_string_value(json_object_get(m, "msg"));
	if (kind == NULL)
		rc = bb_fail(e, BB_PROTOCOL, "AusweisApp: a message without \"msg\"");
	else if (strcmp(kind, "AUTH") == 0) {
		json_t *res = json_object_get(m, "result");

		if (res != NULL)
			rc = json_is_object(res) ? auth_end(t, res, json_object_get(m, "url"), e) :
			    bb_fail(e, BB_PROTOCOL, "AusweisApp: AUTH with a bad result");
	} else if (t->cancelled)
		;	/* whatever comes before AUTH's end */
	else if (strcmp(kind, "ACCESS_RIGHTS") == 0)
		rc = access_rights(t, m, out, room, outlen, e);
	else if (strcmp(kind, "ENTER_PIN") == 0 || strcmp(kind, "ENTER_CAN") == 0 ||
	    strcmp(kind, "ENTER_PUK") == 0)
		rc = enter(t, kind, m, out, room, outlen, e);
	else if (strcmp(kind, "INSERT_CARD") == 0)
		t->waiting_card = t->card_reader[0] == '\0';
	else if (strcmp(kind, "READER") == 0)
		rc = reader(t, m, out, room, outlen); else if (strcmp(kind, "BAD_STATE") == 0 || strcmp(kind, "INVALID") == 0 ||
	    strcmp(kind, "UNKNOWN_COMMAND") == 0 || strcmp(kind, "INTERNAL_ERROR") == 0) {
		char k[64];

		tame(kind, k, sizeof k);
		rc = bb_fail(e, BB_PROTOCOL, "AusweisApp refused a command: %s", k);
	} else if (strcmp(kind, "ENTER_NEW_PIN") == 0 || strcmp(kind, "CHANGE_PIN") == 0)
		rc = bb_fail(e, BB_PROTOCOL, "AusweisApp: a PIN change inside an authentication");
	/* Other messages (CERTIFICATE, STATUS, INFO, API_LEVEL, READER_LIST, ...) tell bb
	 * nothing it needs. */
	json_decref(m);
	return rc;
}

int
bb_online_no_card(struct bb_online_talk *t, char *out, size_t room, size_t *outlen)
{
	*outlen = 0;
	if (!t->waiting_card || t->cancelled)
		return -1;
	if (t->card_gone)
		return cancel(t, out, room, outlen, BB_CANCELLED, "the card was removed");
	return cancel(t, out, room, outlen, BB_UNAVAILABLE, "no card in a reader");
}

int
bb_online_timeout(struct bb_online_talk *t, char *out, size_t room, size_t *outlen)
{
	*outlen = 0;
	if (t->cancelled)
		return -1;
	return cancel(t, out, room, outlen, BB_TEMPFAIL,
	    "no end of the authentication in time (AusweisApp or the eID-Server does not answer)");
}

/* --- the identity from the result endpoint --------------------------------------------- */

static int
text_ok(json_t *v)
{
	const unsigned char *s;

	if (!json_is_string(v))
		return 0;
	for (s = (const unsigned char *)json_string_value(v); *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
value_ok(const char *key, json_t *v)
{
	static const char *const addr[] = { "street", "postal_code", "city", "country" };
	size_t i;
	json_t *x;

	if (strcmp(key, "address") == 0) {
		if (!json_is_object(v) || json_object_size(v) != 4)
			return 0;
		for (i = 0; i < 4; i++)
			if (!text_ok(json_object_get(v, addr[i])))
				return 0;
		return 1;
	}
	if (strcmp(key, "residence_permit") == 0) {
		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, x)
			if (!text_ok(x))
				return 0;
		return 1;
	}
	return text_ok(v);
}

static int
verified_of(json_t *sv, const struct bb_online_result *r, json_t **out, struct bb_err *e)
{
	json_t *v = json_pack("{s:s, s:s}", "method", "online", "pace", r->pace);
	json_t *x;

	if (v == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (sv != NULL && !json_is_object(sv)) {
		json_decref(v);
		return bb_fail(e, BB_PROTOCOL, "the service's result: \"verified\" is not an object");
	}
	if ((x = json_object_get(sv, "ta")) != NULL && json_is_boolean(x))
		json_object_set(v, "ta", x);
	if ((x = json_object_get(sv, "ca")) != NULL && json_is_boolean(x))
		json_object_set(v, "ca", x);
	if ((x = json_object_get(sv, "passive_auth")) != NULL && text_ok(x))
		json_object_set(v, "passive_auth", x);
	if ((x = json_object_get(sv, "document_signer")) != NULL && text_ok(x))
		json_object_set(v, "document_signer", x);
	*out = v;
	return 0;
}

int
bb_online_identity(const char *body, size_t len, unsigned long allowed,
    const struct bb_online_result *r, json_t **identity, struct bb_err *e)
{
	json_t *in, *id, *v, *ver = NULL;
	json_error_t je;
	const char *key;
	struct bb_err ke;
	unsigned long dgs;
	int rc = 0;

	*identity = NULL;
	in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(in)) {
		json_decref(in);
		return bb_fail(e, BB_PROTOCOL, "the service's result is not a JSON object");
	}
	id = json_object();
	json_object_foreach(in, key, v) {
		if (strcmp(key, "verified") == 0)
			continue;
		/* A key outside bb-case(5), or one the service may not read, is not taken:
		 * its name may be anything, so the message does not quote it. Exactly the
		 * key: bb_dg_fields would take " family_names" (a list's spaces) too. */
		if (key[strspn(key, "abcdefghijklmnopqrstuvwxyz_")] != '\0' ||
		    bb_dg_fields(key, &dgs, &ke) != 0 || strcmp(key, "all") == 0) {
			rc = bb_fail(e, BB_PROTOCOL, "the service's result holds a key that is no identity key");
			break;
		}
		if ((dgs & ~allowed) != 0) {
			rc = bb_fail(e, BB_PROTOCOL, "the service's result holds %s, which it may not read",
			    key);
			break;
		}
		if (!value_ok(key, v)) {
			rc = bb_fail(e, BB_PROTOCOL, "the service's result: %s is not of its type", key);
			break;
		}
		json_object_set(id, key, v);
	}
	if (rc == 0 && json_object_size(id) == 0)
		rc = bb_fail(e, BB_PROTOCOL, "the service's result holds no identity");
	if (rc == 0 && (rc = verified_of(json_object_get(in, "verified"), r, &ver, e)) == 0)
		json_object_set_new(id, "verified", ver);
	json_decref(in);
	if (rc != 0) {
		json_decref(id);
		return rc;
	}
	*identity = id;
	return 0;
}

int
bb_online_fetch(const char *result_url, const char *ca_file, long timeout,
    unsigned long allowed, const struct bb_online_result *r, json_t **identity,
    struct bb_err *e)
{
	struct bb_http_opts ho = { ca_file, NULL, NULL, timeout, 0 };
	struct bb_http_resp resp;
	struct bb_http *h;
	const char *q = strchr(r->url, '?');
	char *url;
	int rc;

	*identity = NULL;
	if (strncmp(result_url, "https://", 8) != 0)
		return bb_fail(e, BB_CONFIG, "result_url: not an https address");
	/* The query goes into a URL as it is: only what a query may hold unescaped. */
	if (q == NULL || q[1] == '\0' || q[1 + strspn(q + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~%&=+")] != '\0')
		return bb_fail(e, BB_PROTOCOL, "AusweisApp: the refresh address names no authentication");
	if (asprintf(&url, "%s%c%s", result_url, strchr(result_url, '?') ? '&' : '?', q + 1) < 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	memset(&resp, 0, sizeof resp);
	if ((rc = bb_http_open(&h, &ho, e)) == 0) {
		rc = bb_http_request(h, "GET", url, (const char *const[]){
		    "Accept: application/json", NULL }, NULL, 0, &resp, e);
		bb_http_close(h);
	}
	free(url);
	if (rc == 0) {
		if (resp.status == 404 || resp.status == 403 || resp.status == 410)
			rc = bb_fail(e, BB_NOPERM, "the service has no result for this authentication (HTTP %ld)",
			    resp.status);
		else if (resp.status != 200)
			rc = bb_fail(e, BB_PROTOCOL, "the service's result endpoint answered HTTP %ld",
			    resp.status);
		else if (strncmp(resp.content_type, "application/json", 16) != 0)
			rc = bb_fail(e, BB_PROTOCOL, "the service's result is not application/json");
		else
			rc = bb_online_identity(resp.body, resp.len, allowed, r, identity, e);
	}
	if (resp.body != NULL)
		OPENSSL_cleanse(resp.body, resp.len);
	bb_http_resp_free(&resp);
	return rc;
}

int
bb_eid_online_read(const struct bb_config *cfg, const char *service, const char *fields,
    const struct bb_secret *pin, const struct bb_secret *can, const struct bb_secret *puk,
    json_t **identity, struct bb_err *e)
{
	struct bb_online o;
	struct bb_online_result r;
	unsigned long asked;
	char key[300], host[256];
	const char *res, *p;
	json_t *v;
	int rc;

	*identity = NULL;
	if (bb_eid_wanted(cfg, fields, service, &asked, e) != 0)
		return e->status;
	memset(&o, 0, sizeof o);
	snprintf(key, sizeof key, "eid.services.%s.tc_token_url", service);
	o.tc_token_url = bb_config_str(cfg, key);
	snprintf(key, sizeof key, "eid.services.%s.result_url", service);
	res = bb_config_str(cfg, key);
	if (o.tc_token_url == NULL || res == NULL)
		return bb_fail(e, BB_CONFIG, "eid.services.%s: tc_token_url and result_url are "
		    "needed online", service);
	if (strncmp(o.tc_token_url, "https://", 8) != 0)
		return bb_fail(e, BB_CONFIG, "eid.services.%s.tc_token_url: not an https address",
		    service);
	o.sdk = bb_config_str(cfg, "eid.online.sdk");
	/* The document's validity (DG3) is always the eID-Server's to check, as read does. */
	o.allowed = asked | BB_DG_BIT(3);
	o.pin = pin;
	o.can = can;
	o.puk = puk;
	o.timeout_ms = (long)bb_config_int(cfg, "eid.online.timeout") * 1000;
	o.card_wait_ms = (long)bb_config_int(cfg, "eid.online.card_wait") * 1000;
	if ((rc = bb_eid_online(&o, &r, e)) != 0 ||
	    (rc = bb_online_fetch(res, bb_config_str(cfg, "eid.online.ca_file"),
	    (long)bb_config_int(cfg, "eid.online.timeout"), o.allowed, &r, identity, e)) != 0)
		return rc;
	if (!(asked & BB_DG_BIT(3)))
		json_object_del(*identity, "expiry");
	p = o.tc_token_url + 8;
	snprintf(host, sizeof host, "%.*s", (int)strcspn(p, "/?#"), p);
	v = json_object_get(*identity, "verified");
	json_object_set_new(v, "service", json_string(service));
	json_object_set_new(v, "eid_server", json_string(host));
	return 0;
}

/* --- the WebSocket ----------------------------------------------------------------------- */

#define MSG_MAX 65536	/* AusweisApp's largest messages (CERTIFICATE) are a few KiB */
#define OUT_ROOM 4096
#define QUEUE 4		/* commands waiting for the socket: several messages can come in
			 * one turn of the loop, each with its answer */

struct ws {
	struct bb_online_talk t;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t tick;
	struct bb_err *e;
	int done, rc;
	char in[MSG_MAX];
	size_t inlen;
	/* Locked memory (a command may hold a PIN): the talk's scratch, then the queue,
	 * each with LWS_PRE bytes in front for libwebsockets' header. */
	struct bb_secret mem;
	char *scratch;
	unsigned char *q[QUEUE];
	size_t qlen[QUEUE], nq, outlen;
	long long deadline, card_deadline;
};

#define SLOT (LWS_PRE + OUT_ROOM)

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
finish(struct ws *w, int rc)
{
	if (!w->done) {
		w->done = 1;
		w->rc = rc;
	}
}

/* The end with status and a message, unless it has ended already (then e keeps the
 * first end's message: a connection torn down after an end says nothing new). */
static void __attribute__((format(printf, 3, 4)))
fail(struct ws *w, int status, const char *fmt, ...)
{
	va_list ap;

	if (w->done)
		return;
	va_start(ap, fmt);
	vsnprintf(w->e->msg, sizeof w->e->msg, fmt, ap);
	va_end(ap);
	w->e->status = status;
	finish(w, status);
}

/* What the conversation said: the end, or go on with the command in scratch (outlen
 * bytes, may be none) queued for the socket. */
static void
after(struct ws *w, int rc)
{
	if (w->outlen > 0) {
		if (w->nq == QUEUE)
			fail(w, BB_PROTOCOL, "AusweisApp: too many messages unanswered");
		else {
			memcpy(w->q[w->nq] + LWS_PRE, w->scratch, w->outlen);
			w->qlen[w->nq++] = w->outlen;
		}
		OPENSSL_cleanse(w->scratch, OUT_ROOM);
		w->outlen = 0;
	}
	if (rc >= 0) {
		finish(w, rc);
		return;
	}
	if (w->nq > 0 && w->wsi)
		lws_callback_on_writable(w->wsi);
	/* Told to cancel: its end comes at once, or AusweisApp is stuck (on a hanging
	 * eID-Server): 10 s for it, not what is left of the whole time. */
	if (w->t.cancelled && w->deadline > now_ms() + 10000)
		w->deadline = now_ms() + 10000;
	if (w->t.waiting_card && w->card_deadline == 0)
		w->card_deadline = now_ms() + (w->t.o->card_wait_ms > 0 ? w->t.o->card_wait_ms : 5000);
	if (!w->t.waiting_card)
		w->card_deadline = 0;
}

static void
on_tick(lws_sorted_usec_list_t *sul)
{
	struct ws *w = lws_container_of(sul, struct ws, tick);
	long long now = now_ms();
	char *o = w->scratch;

	if (w->done)
		return;
	if (w->card_deadline && now >= w->card_deadline) {
		w->card_deadline = 0;
		after(w, bb_online_no_card(&w->t, o, OUT_ROOM, &w->outlen));
	}
	if (now >= w->deadline) {
		if (!w->t.started)
			fail(w, BB_UNAVAILABLE, "AusweisApp does not answer at its SDK address");
		else if (w->t.cancelled)
			fail(w, w->t.status, "%s", w->t.msg);
		else if (w->nq > 0)
			fail(w, BB_TEMPFAIL, "AusweisApp does not take commands");
		else {
			after(w, bb_online_timeout(&w->t, o, OUT_ROOM, &w->outlen));
			w->deadline = now + 10000;	/* for the CANCEL's answer */
		}
	}
	if (!w->done)
		lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, 100 * LWS_US_PER_MS);
}

static int
on_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct ws *w = user;
	char *o;

	if (w == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	o = w->scratch;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fail(w, BB_UNAVAILABLE, "AusweisApp does not answer at its SDK address");
		w->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		w->outlen = bb_online_start(&w->t, o, OUT_ROOM);
		if (w->outlen == 0)
			fail(w, BB_SOFTWARE, "RUN_AUTH: out of memory");
		else
			after(w, -1);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (w->done)
			break;
		if (lws_frame_is_binary(wsi) || w->inlen + len > sizeof w->in) {
			fail(w, BB_PROTOCOL, "AusweisApp: a message too long or binary");
			return -1;
		}
		memcpy(w->in + w->inlen, in, len);
		w->inlen += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
			break;
		after(w, bb_online_talk(&w->t, w->in, w->inlen, o, OUT_ROOM, &w->outlen, w->e));
		w->inlen = 0;
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		/* A command goes whole or waits: what the socket does not take, libwebsockets
		 * would keep in memory of its own, not locked and not wiped (a PIN). */
		if (w->nq > 0 && lws_send_pipe_choked(wsi)) {
			lws_callback_on_writable(wsi);
			break;
		}
		if (w->nq > 0) {
			unsigned char *first = w->q[0];
			int n = lws_write(wsi, first + LWS_PRE, w->qlen[0], LWS_WRITE_TEXT);
			size_t i;

			OPENSSL_cleanse(first, SLOT);
			for (i = 1; i < w->nq; i++) {
				w->q[i - 1] = w->q[i];
				w->qlen[i - 1] = w->qlen[i];
			}
			w->q[--w->nq] = first;
			if (n < 0) {
				fail(w, BB_UNAVAILABLE, "AusweisApp: the SDK connection broke");
				return -1;
			}
			if (lws_partial_buffered(wsi)) {
				fail(w, BB_SOFTWARE, "AusweisApp: the SDK connection took a part of a command");
				return -1;
			}
			if (w->nq > 0)
				lws_callback_on_writable(wsi);
		}
		if (w->done)
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		w->wsi = NULL;
		if (w->t.cancelled)
			fail(w, w->t.status, "%s", w->t.msg);
		else
			fail(w, BB_UNAVAILABLE, "AusweisApp went away (it closed the SDK connection)");
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "bb-eid", on_event, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ws://HOST:PORT/PATH into its parts (host and path point into buf). */
static int
parse_sdk(const char *url, char *buf, size_t room, const char **host, int *port,
    const char **path)
{
	char *p, *c, *end;
	long n;

	if (strncmp(url, "ws://", 5) != 0 || strlen(url + 5) + 2 > room)
		return -1;
	snprintf(buf, room, "%s", url + 5);
	p = strchr(buf, '/');
	*path = "/";
	if (p) {
		memmove(p + 1, p, strlen(p) + 1);
		*p = '\0';
		*path = p + 1;
	}
	if ((c = strrchr(buf, ':')) == NULL)
		return -1;
	*c = '\0';
	n = strtol(c + 1, &end, 10);
	if (*end != '\0' || n < 1 || n > 65535 || *buf == '\0')
		return -1;
	*host = buf;
	*port = (int)n;
	return 0;
}

int
bb_eid_online(const struct bb_online *o, struct bb_online_result *r, struct bb_err *e)
{
	struct lws_context_creation_info ci;
	struct lws_client_connect_info cc;
	struct ws *w;
	char buf[512];
	const char *host, *path;
	int port, rc;

	if (parse_sdk(o->sdk, buf, sizeof buf, &host, &port, &path) < 0)
		return bb_fail(e, BB_CONFIG, "eid.online.sdk: not ws://HOST:PORT/PATH");
	if ((w = calloc(1, sizeof *w)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (bb_secret_alloc(&w->mem, OUT_ROOM + QUEUE * SLOT) < 0) {
		free(w);
		return bb_fail(e, BB_SOFTWARE, "cannot lock memory for the secrets");
	}
	w->scratch = (char *)w->mem.buf;
	for (rc = 0; rc < QUEUE; rc++)
		w->q[rc] = w->mem.buf + OUT_ROOM + (size_t)rc * SLOT;
	w->e = e;
	bb_online_talk_init(&w->t, o, r);
	lws_set_log_level(0, NULL);	/* its log could name what it carries */
	memset(&ci, 0, sizeof ci);
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = protocols;
	ci.gid = -1;
	ci.uid = -1;
	if ((w->ctx = lws_create_context(&ci)) == NULL) {
		bb_secret_free(&w->mem);
		free(w);
		return bb_fail(e, BB_SOFTWARE, "libwebsockets: no context");
	}
	memset(&cc, 0, sizeof cc);
	cc.context = w->ctx;
	cc.address = host;
	cc.port = port;
	cc.path = path;
	cc.host = host;
	cc.origin = host;
	cc.ietf_version_or_minus_one = -1;
	cc.userdata = w;
	cc.pwsi = &w->wsi;
	cc.local_protocol_name = "bb-eid";
	w->deadline = now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 180000);
	lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, 100 * LWS_US_PER_MS);
	if (lws_client_connect_via_info(&cc) == NULL)
		fail(w, BB_UNAVAILABLE, "AusweisApp does not answer at its SDK address");
	while (!w->done)
		if (lws_service(w->ctx, 0) < 0)
			fail(w, BB_UNAVAILABLE, "AusweisApp: the SDK connection broke");
	lws_sul_cancel(&w->tick);
	lws_context_destroy(w->ctx);
	rc = w->rc;
	bb_secret_free(&w->mem);
	OPENSSL_cleanse(w->in, sizeof w->in);
	free(w);
	return rc;
}
