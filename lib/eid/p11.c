/* The terminal's key in a PKCS#11 token; see p11.h. p11-kit, not OpenSSL: Debian 12 has
 * no pkcs11-provider for OpenSSL 3 and libp11's engine needs the deprecated ENGINE API;
 * p11-kit parses RFC 7512 URIs and loads the modules the system registers
 * (/usr/share/p11-kit/modules), and TA needs nothing but one ECDSA signature. */
#include "eid/p11.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "secmem.h"

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIN_MAX 256

struct bb_p11_key {
	CK_FUNCTION_LIST **modules;	/* every registered module, or NULL */
	CK_FUNCTION_LIST *module;	/* the one a module-path names, or NULL */
	CK_FUNCTION_LIST *m;		/* the token's */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	int open;
	char token[33];			/* its label, for messages */
};

int
bb_p11_is_uri(const char *s)
{
	return s != NULL && strncmp(s, "pkcs11:", 7) == 0;
}

/* A blank-padded CK_UTF8CHAR field as a C string for a message: what a terminal could
 * take for a control sequence is shown as '?'. */
static void
unpad(char *dst, const CK_UTF8CHAR *src, size_t n)
{
	size_t i;

	while (n > 0 && src[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		dst[i] = src[i] < 0x20 || src[i] == 0x7F ? '?' : (char)src[i];
	dst[n] = '\0';
}

static int
load_modules(struct bb_p11_key *k, P11KitUri *u, struct bb_err *e)
{
	const char *path = p11_kit_uri_get_module_path(u);
	CK_RV rv;
	int fd;

	if (path == NULL) {
		if ((k->modules = p11_kit_modules_load_and_initialize(0)) == NULL)
			return bb_fail(e, BB_CONFIG, "eid.terminal_key: p11-kit cannot load the "
			    "PKCS#11 modules: %s", p11_kit_message());
		if (k->modules[0] == NULL)
			return bb_fail(e, BB_UNAVAILABLE, "eid.terminal_key: no PKCS#11 module is "
			    "registered with p11-kit (/usr/share/p11-kit/modules)");
		return 0;
	}
	/* A module runs inside bb-eid with the key: it must be as much the terminal's as
	 * the key file was. */
	if (path[0] != '/')
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: module-path %s: not an absolute "
		    "path", path);
	if ((fd = bb_trust_open(path, "eid.terminal_key module-path", 0, 0, e)) < 0)
		return e->status == BB_NOINPUT ? (e->status = BB_CONFIG) : e->status;
	close(fd);
	if ((k->module = p11_kit_module_load(path, 0)) == NULL)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: module-path %s: %s", path,
		    p11_kit_message());
	if ((rv = p11_kit_module_initialize(k->module)) != CKR_OK) {
		p11_kit_module_release(k->module);
		k->module = NULL;
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: module-path %s: C_Initialize: %s",
		    path, p11_kit_strerror(rv));
	}
	return 0;
}

/* The one token the URI matches, among the present ones of the modules it allows. */
static int
find_token(struct bb_p11_key *k, P11KitUri *u, const char *uri, struct bb_err *e)
{
	CK_FUNCTION_LIST *one[2] = { k->module, NULL }, **list, **m;
	const char *name = p11_kit_uri_get_module_name(u);
	CK_SLOT_ID *slots;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_INFO mi;
	CK_ULONG n, i;
	char *mname;
	int found = 0, same;

	list = k->module != NULL ? one : k->modules;
	for (m = list; *m != NULL; m++) {
		if (name != NULL && k->module == NULL) {
			mname = p11_kit_module_get_name(*m);
			same = mname != NULL && strcmp(mname, name) == 0;
			free(mname);
			if (!same)
				continue;
		}
		if ((*m)->C_GetInfo(&mi) != CKR_OK || !p11_kit_uri_match_module_info(u, &mi))
			continue;
		if ((*m)->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0)
			continue;
		if ((slots = calloc(n, sizeof *slots)) == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		if ((*m)->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
			n = 0;
		for (i = 0; i < n; i++) {
			if ((*m)->C_GetSlotInfo(slots[i], &si) != CKR_OK ||
			    !p11_kit_uri_match_slot_info(u, &si) ||
			    (*m)->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
			    !p11_kit_uri_match_token_info(u, &ti))
				continue;
			if (found++ == 0) {
				k->m = *m;
				k->slot = slots[i];
				unpad(k->token, ti.label, sizeof ti.label);
			}
		}
		free(slots);
	}
	if (found == 0)
		return bb_fail(e, BB_UNAVAILABLE, "eid.terminal_key: no PKCS#11 token matches %s",
		    uri);
	if (found > 1)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: %d PKCS#11 tokens match %s: name "
		    "one (token=, serial=)", found, uri);
	return 0;
}

/* The token's user PIN, from the descriptor or the file, into locked memory. */
static int
read_pin(const struct bb_p11_pin *pin, const char *token, struct bb_secret *s,
    struct bb_err *e)
{
	int fd, rc;

	if (pin == NULL || (pin->fd < 0 && (pin->file == NULL || *pin->file == '\0')))
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the token %s needs its PIN: give "
		    "it with --token-pin-fd or eid.terminal_key_pin_file", token);
	if (bb_secret_alloc(s, PIN_MAX) != 0)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (pin->fd >= 0)
		rc = bb_secret_read_fd(s, pin->fd, "--token-pin-fd", e);
	else if ((fd = bb_trust_open(pin->file, "eid.terminal_key_pin_file", BB_TRUST_SECRET,
	    0, e)) < 0)
		rc = e->status;
	else {
		rc = bb_secret_read_fd(s, fd, "eid.terminal_key_pin_file", e);
		close(fd);
	}
	if (rc != 0)
		bb_secret_free(s);
	return rc;
}

static int
login(struct bb_p11_key *k, const struct bb_p11_pin *pin, struct bb_err *e)
{
	struct bb_secret s;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	int rc;

	if (k->m->C_GetTokenInfo(k->slot, &ti) != CKR_OK)
		return bb_fail(e, BB_UNAVAILABLE, "eid.terminal_key: the token %s is gone",
		    k->token);
	if (!(ti.flags & CKF_LOGIN_REQUIRED))
		return 0;
	/* A locked PIN is told before a PIN is read: no try is spent on it. */
	if (ti.flags & CKF_USER_PIN_LOCKED)
		return bb_fail(e, BB_NOPERM, "eid.terminal_key: the token %s's PIN is locked "
		    "(CKF_USER_PIN_LOCKED): its security officer must reset it", k->token);
	if ((rc = read_pin(pin, k->token, &s, e)) != 0)
		return rc;
	rv = k->m->C_Login(k->session, CKU_USER, s.buf, s.len);
	bb_secret_free(&s);
	switch (rv) {
	case CKR_OK:
	case CKR_USER_ALREADY_LOGGED_IN:
		return 0;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		if (k->m->C_GetTokenInfo(k->slot, &ti) != CKR_OK)
			ti.flags = 0;
		return bb_fail(e, BB_NOPERM, "eid.terminal_key: the token %s refuses the PIN "
		    "(%s)%s", k->token, rv == CKR_PIN_INCORRECT ? "CKR_PIN_INCORRECT" :
		    rv == CKR_PIN_INVALID ? "CKR_PIN_INVALID" : "CKR_PIN_LEN_RANGE",
		    ti.flags & CKF_USER_PIN_LOCKED ? ": it is now locked" :
		    ti.flags & CKF_USER_PIN_FINAL_TRY ? ": one try left before it locks" : "");
	case CKR_PIN_LOCKED:
		return bb_fail(e, BB_NOPERM, "eid.terminal_key: the token %s's PIN is locked "
		    "(CKR_PIN_LOCKED): its security officer must reset it", k->token);
	case CKR_PIN_EXPIRED:
		return bb_fail(e, BB_NOPERM, "eid.terminal_key: the token %s's PIN has expired "
		    "(CKR_PIN_EXPIRED)", k->token);
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		return bb_fail(e, BB_UNAVAILABLE, "eid.terminal_key: the token %s is gone",
		    k->token);
	default:
		return bb_fail(e, BB_IOERR, "eid.terminal_key: the token %s: C_Login: %s",
		    k->token, p11_kit_strerror(rv));
	}
}

/* The one private key the URI's object attributes (type, object, id) match. */
static int
find_key(struct bb_p11_key *k, P11KitUri *u, const char *uri, struct bb_err *e)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE type;
	CK_BBOOL sign = CK_FALSE, always = CK_FALSE;
	CK_ATTRIBUTE tmpl[8], *a, attr;
	CK_OBJECT_HANDLE found[2];
	CK_MECHANISM_INFO mi;
	CK_ULONG n, i, nt = 0, count = 0;
	CK_RV rv;

	a = p11_kit_uri_get_attributes(u, &n);
	for (i = 0; i < n && nt < sizeof tmpl / sizeof tmpl[0] - 1; i++) {
		if (a[i].type == CKA_CLASS && (a[i].ulValueLen != sizeof cls ||
		    memcmp(a[i].pValue, &cls, sizeof cls) != 0))
			return bb_fail(e, BB_CONFIG, "eid.terminal_key: %s: the terminal's key is "
			    "an object of type=private", uri);
		if (a[i].type != CKA_CLASS)
			tmpl[nt++] = a[i];
	}
	tmpl[nt].type = CKA_CLASS;
	tmpl[nt].pValue = &cls;
	tmpl[nt++].ulValueLen = sizeof cls;
	if ((rv = k->m->C_FindObjectsInit(k->session, tmpl, nt)) != CKR_OK)
		return bb_fail(e, BB_IOERR, "eid.terminal_key: the token %s: C_FindObjectsInit: %s",
		    k->token, p11_kit_strerror(rv));
	rv = k->m->C_FindObjects(k->session, found, 2, &count);
	k->m->C_FindObjectsFinal(k->session);
	if (rv != CKR_OK)
		return bb_fail(e, BB_IOERR, "eid.terminal_key: the token %s: C_FindObjects: %s",
		    k->token, p11_kit_strerror(rv));
	if (count == 0)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: no private key in the token %s "
		    "matches %s", k->token, uri);
	if (count > 1)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: more than one private key in the "
		    "token %s matches %s: name one (object=, id=)", k->token, uri);
	k->key = found[0];
	attr.type = CKA_KEY_TYPE;
	attr.pValue = &type;
	attr.ulValueLen = sizeof type;
	if (k->m->C_GetAttributeValue(k->session, k->key, &attr, 1) != CKR_OK)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the key %s has no key type", uri);
	if (type != CKK_EC)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the key %s is not an elliptic "
		    "curve key (its CKA_KEY_TYPE is 0x%lx, not CKK_EC): Terminal Authentication "
		    "signs with ECDSA", uri, (unsigned long)type);
	attr.type = CKA_SIGN;
	attr.pValue = &sign;
	attr.ulValueLen = sizeof sign;
	if (k->m->C_GetAttributeValue(k->session, k->key, &attr, 1) != CKR_OK || !sign)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the key %s may not sign (CKA_SIGN)",
		    uri);
	/* A PIN for every signature would have to be kept: it is wiped after C_Login. */
	attr.type = CKA_ALWAYS_AUTHENTICATE;
	attr.pValue = &always;
	attr.ulValueLen = sizeof always;
	if (k->m->C_GetAttributeValue(k->session, k->key, &attr, 1) == CKR_OK && always)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the key %s asks for the PIN at "
		    "every signature (CKA_ALWAYS_AUTHENTICATE): not supported", uri);
	if (k->m->C_GetMechanismInfo(k->slot, CKM_ECDSA, &mi) != CKR_OK ||
	    !(mi.flags & CKF_SIGN))
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the token %s cannot sign with "
		    "CKM_ECDSA", k->token);
	return 0;
}

int
bb_p11_open(struct bb_p11_key **kp, const char *uri, const struct bb_p11_pin *pin,
    struct bb_err *e)
{
	struct bb_p11_key *k;
	P11KitUri *u;
	char shown[512];
	CK_RV rv;
	int rc;

	*kp = NULL;
	/* Messages name the URI's path only: its query may hold what is no one's business
	 * (a vendor's attribute, a mistyped pin-value). */
	snprintf(shown, sizeof shown, "%.*s", (int)strcspn(uri, "?"), uri);
	if ((u = p11_kit_uri_new()) == NULL || (k = calloc(1, sizeof *k)) == NULL) {
		p11_kit_uri_free(u);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	/* The URI is named in messages only once it is known to hold no PIN. */
	if ((rc = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u)) != P11_KIT_URI_OK) {
		rc = bb_fail(e, BB_CONFIG, "eid.terminal_key: not a PKCS#11 URI (RFC 7512): %s",
		    p11_kit_uri_message(rc));
		goto fail;
	}
	if (p11_kit_uri_get_pin_value(u) != NULL || p11_kit_uri_get_pin_source(u) != NULL) {
		rc = bb_fail(e, BB_CONFIG, "eid.terminal_key: a PIN in the URI (pin-value, "
		    "pin-source) is refused: give it with --token-pin-fd or "
		    "eid.terminal_key_pin_file");
		goto fail;
	}
	/* Not named either: a PIN in the path (;pin-value=) is one of these. */
	if (p11_kit_uri_any_unrecognized(u)) {
		rc = bb_fail(e, BB_CONFIG, "eid.terminal_key: the URI has an attribute RFC 7512 "
		    "does not know");
		goto fail;
	}
	if ((rc = load_modules(k, u, e)) != 0 || (rc = find_token(k, u, shown, e)) != 0)
		goto fail;
	if ((rv = k->m->C_OpenSession(k->slot, CKF_SERIAL_SESSION, NULL, NULL,
	    &k->session)) != CKR_OK) {
		rc = bb_fail(e, rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ?
		    BB_UNAVAILABLE : BB_IOERR, "eid.terminal_key: the token %s: C_OpenSession: %s",
		    k->token, p11_kit_strerror(rv));
		goto fail;
	}
	k->open = 1;
	if ((rc = login(k, pin, e)) != 0 || (rc = find_key(k, u, shown, e)) != 0)
		goto fail;
	p11_kit_uri_free(u);
	*kp = k;
	return 0;
fail:
	p11_kit_uri_free(u);
	bb_p11_close(k);
	return rc;
}

int
bb_p11_sign_ecdsa(struct bb_p11_key *k, const unsigned char *hash, size_t hlen,
    unsigned char *sig, size_t *siglen, struct bb_err *e)
{
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_ULONG n = *siglen;
	CK_RV rv;

	if ((rv = k->m->C_SignInit(k->session, &mech, k->key)) == CKR_OK)
		rv = k->m->C_Sign(k->session, (CK_BYTE_PTR)hash, hlen, sig, &n);
	if (rv == CKR_OK) {
		*siglen = n;
		return 0;
	}
	if (rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	    rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED)
		return bb_fail(e, BB_UNAVAILABLE, "terminal authentication: the token %s is gone "
		    "(%s)", k->token, p11_kit_strerror(rv));
	return bb_fail(e, BB_IOERR, "terminal authentication: the token %s cannot sign: %s",
	    k->token, p11_kit_strerror(rv));
}

void
bb_p11_close(struct bb_p11_key *k)
{
	if (k == NULL)
		return;
	/* Closing the last session logs out (PKCS#11 v2.40 5.6). */
	if (k->open)
		k->m->C_CloseSession(k->session);
	if (k->module != NULL) {
		p11_kit_module_finalize(k->module);
		p11_kit_module_release(k->module);
	}
	if (k->modules != NULL)
		p11_kit_modules_finalize_and_release(k->modules);
	free(k);
}
