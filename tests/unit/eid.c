/* The terminal's whole eID stack (lib/eid: PACE, secure messaging, passive authentication,
 * Terminal and Chip Authentication, reading and parsing data groups) against the
 * simulated card (tests/rig/card) in one process: no pcscd, no vpcd. The test PKI is made
 * by tests/rig/make-eid-pki (once per build directory). The read is bb-eid's own
 * (bb_eid_read_begin, bb_eid_pace, bb_eid_read_card of lib/eid/eid.h) over the card's
 * transport. Checked: a full read gives Erika's data and the card's counters agree; a
 * data group the card lacks gives ""; every fault of the card (wrong MAC, wrong
 * counter, an unexpected status, a plain status word that disagrees with the protected
 * one, removal, a forged EF.CardSecurity, an EF.CardAccess the card did not sign, a data
 * group that does not parse) ends the session with the documented status and no data;
 * a terminal without the right to a data group cannot read it; an expired terminal
 * certificate is refused before the card is touched; without extended length the data
 * comes in short pieces and is the same; the other test person's card, with another
 * PACE parameter set, reads too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <eac/eac.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../rig/card/eidcard.h"
#include "diag.h"
#include "eid/dg.h"
#include "eid/eac.h"
#include "eid/eid.h"
#include "eid/pace.h"
#include "eid/sm.h"
#include "eid/tlv.h"
#include "exit.h"
#include "files.h"
#include "secmem.h"

static char top[1024], pki[1024];	/* short enough for every path made of them */

struct wire {
	struct eidcard *k;
	long apdus;
	size_t bytes;
};

static int
wire_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp, size_t *rlen,
    struct bb_err *e)
{
	struct wire *w = arg;
	long n = eidcard_apdu(w->k, apdu, len, resp, *rlen);

	w->apdus++;
	w->bytes += len;
	if (n == EIDCARD_REMOVED)
		return bb_fail(e, BB_CANCELLED, "the card was removed");
	if (n == EIDCARD_MUTE)
		return bb_fail(e, BB_PROTOCOL, "the card does not answer");
	assert_true(n >= 2);
	*rlen = (size_t)n;
	w->bytes += (size_t)n;
	return 0;
}

static int
setup(void **state)
{
	const char *t = getenv("BB_TOP"), *b = getenv("BB_BIN");
	char cmd[PATH_MAX * 2 + 64];

	(void)state;
	snprintf(top, sizeof top, "%s", t ? t : ".");
	if (b != NULL)
		snprintf(pki, sizeof pki, "%s/eid-pki", b);
	else
		snprintf(pki, sizeof pki, "/tmp/bb-unit-eid-pki-%u", (unsigned)getuid());
	snprintf(cmd, sizeof cmd, "'%s/tests/rig/make-eid-pki' '%s' >/dev/null 2>&1", top, pki);
	return system(cmd) == 0 ? 0 : -1;
}

static struct eidcard *
card(const char *profile, const char *const *opts)
{
	struct eidcard_conf c;
	struct eidcard *k;
	char err[512], path[PATH_MAX];

	eidcard_conf_init(&c);
	snprintf(path, sizeof path, "%s/tests/rig/cards/%s", top, profile);
	assert_int_equal(eidcard_conf_option(&c, "--pki", pki, err, sizeof err), 0);
	c.profile[0] = '\0';
	snprintf(c.profile, sizeof c.profile, "%s", path);
	for (; opts != NULL && opts[0] != NULL; opts += 2) {
		int rc = eidcard_conf_option(&c, opts[0], opts[1], err, sizeof err);
		if (rc != 0)
			fail_msg("%s", err);
	}
	k = eidcard_new(&c, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	return k;
}

static unsigned char *
file(const char *rel, size_t *len)
{
	char path[PATH_MAX], *buf;
	struct bb_err e;

	assert_true((size_t)snprintf(path, sizeof path, "%s/%s", top, rel) < sizeof path);
	assert_int_equal(bb_read_file(path, 65536, &buf, len, &e), 0);
	return (unsigned char *)buf;
}

static void
load_terminal(struct bb_eac_terminal *t, const char *name, int expect)
{
	char dv[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	struct bb_err e = { 0, "" };

	snprintf(dv, sizeof dv, "%s/terminal/dv.cvcert", pki);
	snprintf(cert, sizeof cert, "%s/terminal/%s.cvcert", pki, name);
	snprintf(key, sizeof key, "%s/terminal/%s.pkcs8", pki, name);
	assert_int_equal(bb_eac_terminal_load(t, dv, cert, key, NULL, time(NULL), &e), expect);
}

/* EF.CardAccess as a card (or someone between card and terminal: it travels
 * unprotected) could alter it: the same SET without the Chip Authentication infos
 * (OIDs under 0.4.0.127.0.7.2.2.3). Rewritten in place; the new length. */
static size_t
trim_ca(unsigned char *der, size_t len)
{
	static const unsigned char ca_arc[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03 };
	unsigned char out[1024], body[1024];
	const unsigned char *p = der, *v, *q, *start, *ev;
	size_t vlen, elen, n = 0, blen = 0;
	unsigned tag;

	assert_int_equal(bb_tlv_next(&p, der + len, &tag, &v, &vlen), 0);
	assert_int_equal(tag, 0x31);
	for (q = v; q < v + vlen; ) {
		start = q;
		assert_int_equal(bb_tlv_next(&q, v + vlen, &tag, &ev, &elen), 0);
		/* SEQUENCE { OID ... }: the OID's first bytes after the SEQUENCE header. */
		if (elen >= 2 + sizeof ca_arc && ev[0] == 0x06 &&
		    memcmp(ev + 2, ca_arc, sizeof ca_arc) == 0)
			continue;
		memcpy(body + blen, start, (size_t)(q - start));
		blen += (size_t)(q - start);
	}
	assert_true(blen < vlen);	/* something was taken out */
	n = bb_tlv_put(out, 0x31, body, blen);
	memcpy(der, out, n);
	return n;
}

/* EF.CardAccess with one SecurityInfo more than EF.CardSecurity signs (how = 1: an
 * unsigned one added; 2: the TerminalAuthenticationInfo's version changed). der has room
 * for 64 bytes more; the new length. */
static size_t
alter_ca(unsigned char *der, size_t len, int how)
{
	static const unsigned char ta_v1[] = { 0x30, 0x0D, 0x06, 0x08, 0x04, 0x00, 0x7F, 0x00,
	    0x07, 0x02, 0x02, 0x02, 0x02, 0x01, 0x01 };
	static const unsigned char ta_v2[] = { 0x30, 0x0D, 0x06, 0x08, 0x04, 0x00, 0x7F, 0x00,
	    0x07, 0x02, 0x02, 0x02, 0x02, 0x01, 0x02 };
	unsigned char body[1024];
	const unsigned char *p = der, *v;
	size_t vlen, i;
	unsigned tag;

	assert_int_equal(bb_tlv_next(&p, der + len, &tag, &v, &vlen), 0);
	assert_int_equal(tag, 0x31);
	assert_true(vlen + sizeof ta_v1 <= sizeof body);
	memcpy(body, v, vlen);
	if (how == 1) {
		memcpy(body + vlen, ta_v1, sizeof ta_v1);
		vlen += sizeof ta_v1;
	} else {
		for (i = 0; i + sizeof ta_v2 <= vlen; i++)
			if (memcmp(body + i, ta_v2, sizeof ta_v2) == 0)
				break;
		assert_true(i + sizeof ta_v2 <= vlen);
		body[i + sizeof ta_v2 - 1] = 0x01;
	}
	return bb_tlv_put(der, 0x31, body, vlen);
}

/* Runs the read bb-eid runs (bb_eid_read_begin, PACE, bb_eid_read_card of lib/eid)
 * against the simulated card. Returns the first failing status (0: all read) and the
 * identity in *out. The switches make the terminal worse than bb-eid (unmasked, can 1)
 * or the card and reader other than a plain card (trim_ca, alter_ca, picc_x0, reader). */
struct run {
	const char *profile;
	const char *const *opts;
	const char *terminal;
	const char *pin;
	unsigned long dgs;
	int unmasked;		/* the CHAT asks for dgs even where the certificate may not */
	int trim_ca;		/* the terminal sees EF.CardAccess without its CA infos */
	int alter_ca;		/* ... with an unsigned SecurityInfo (alter_ca) */
	const char *tpki;	/* the terminal's credentials and anchors (NULL: pki) */
	int can;		/* PACE with the CAN; 1: the CHAT without "CAN allowed" */
	int picc_x0;		/* PACE again until the card's key has x = 00 ... (issue 13) */
	int reader;		/* PACE as if in the reader: TA gets IDicc (2: the whole key) */
	struct bb_err e;
	json_t *identity;
	long apdus;
	char signer[512];
};

/* PACE as bb_eid_read runs it; with picc_x0 again on a fresh card until the card's key
 * begins x with 00; with reader, the channel as a PIN-pad reader leaves it. */
static int
run_pace(struct run *r, struct bb_eid_session *s, struct bb_eid_read *rd, struct wire *w,
    struct bb_pace **soft)
{
	const char *pin = r->can ? "500540" : r->pin ? r->pin : "123456";
	struct bb_secret sec = { (unsigned char *)pin, strlen(pin), 0 };
	struct bb_pace *p;
	int n, rc;

	for (n = 0;; n++) {
		if ((rc = bb_eid_pace(s, rd->pwd_ref, &sec, rd->chat, rd->chat_len, 0, NULL,
		    &r->e)) != 0)
			return rc;
		if (!r->picc_x0 || (s->pace->picc_pub_len > 1 && s->pace->picc_pub[1] == 0x00))
			break;
		assert_true(n < 20000);	/* misses 20000 times: p = 10^-34 */
		eidcard_free(w->k);	/* a fresh card: PACE as on insertion */
		w->k = card(r->profile, r->opts);
	}
	if (!r->reader)
		return 0;
	/* PACE in the reader, as bb-eid gets it (readerpace.h): the channel stays the
	 * reader's (here the session's, with the PACE keys); the host has EF.CardAccess, the
	 * CARs and IDicc, the card's key compressed by the reader (x of 04 x y), or with
	 * reader 2 the whole key. */
	p = s->pace;
	assert_true(p->picc_pub_len % 2 == 1 && p->picc_pub[0] == 0x04);
	if ((rc = bb_pace_from_reader(s->ca, s->ca_len, p->picc_pub + (r->reader == 1),
	    r->reader == 1 ? p->picc_pub_len / 2 : p->picc_pub_len, p->car, p->car_prev,
	    &s->pace, &r->e)) != 0) {
		s->pace = p;
		return rc;
	}
	*soft = p;	/* its keys protect the channel: freed at the end */
	return 0;
}

static int
run(struct run *r)
{
	struct wire w = { card(r->profile, r->opts), 0, 0 };
	struct bb_eid_session s;
	struct bb_eid_read rd;
	struct bb_pace *soft = NULL;
	char rel[PATH_MAX], csca[PATH_MAX], cvca[PATH_MAX], dv[PATH_MAX], cert[PATH_MAX],
	    key[PATH_MAX];
	const char *tp = r->tpki ? r->tpki : pki, *name = r->terminal ? r->terminal : "terminal";
	int rc;

	memset(&r->e, 0, sizeof r->e);
	r->identity = NULL;
	/* Verbose: OpenPACE's stderr is left alone (a failed assertion must not leave it
	 * on /dev/null). */
	bb_eid_session_init(&s, wire_apdu, &w, BB_EID_VERBOSE);
	snprintf(rel, sizeof rel, "tests/rig/cards/%s/011C", r->profile);
	s.ca = file(rel, &s.ca_len);
	if (r->trim_ca)
		s.ca_len = trim_ca(s.ca, s.ca_len);
	if (r->alter_ca) {
		assert_non_null(s.ca = realloc(s.ca, s.ca_len + 64));
		s.ca_len = alter_ca(s.ca, s.ca_len, r->alter_ca);
	}
	snprintf(csca, sizeof csca, "%s/csca", tp);
	snprintf(cvca, sizeof cvca, "%s/cvca-trust", tp);
	snprintf(dv, sizeof dv, "%s/terminal/dv.cvcert", tp);
	snprintf(cert, sizeof cert, "%s/terminal/%s.cvcert", tp, name);
	snprintf(key, sizeof key, "%s/terminal/%s.pkcs8", tp, name);
	memset(&rd, 0, sizeof rd);
	rd.paths.dv_cert = dv;
	rd.paths.terminal_cert = cert;
	rd.paths.terminal_key = key;
	rd.paths.csca_dir = csca;
	rd.paths.cvca_dir = cvca;
	rd.asked = r->dgs;
	rd.pwd_ref = r->can ? BB_PACE_CAN : BB_PACE_PIN;
	rd.now = time(NULL);
	if ((rc = bb_eid_read_begin(&rd, &r->e)) != 0)
		goto done;
	if (r->unmasked) {
		rd.dgs |= r->dgs;
		rd.chat_len = bb_dg_chat(rd.dgs, rd.chat, sizeof rd.chat);
	}
	if (r->can == 1)
		rd.chat[rd.chat_len - 1] &= (unsigned char)~0x10;
	if ((rc = run_pace(r, &s, &rd, &w, &soft)) != 0)
		goto done;
	rc = bb_eid_read_card(&rd, &s, &r->identity, &r->e);
	snprintf(r->signer, sizeof r->signer, "%s", rd.signer);
done:
	r->apdus = w.apdus;
	bb_eid_session_close(&s);
	bb_pace_free(soft);
	bb_eid_read_end(&rd);
	eidcard_free(w.k);
	return rc;
}

#define DGS_ALL ((1UL << 1) | (1UL << 2) | (1UL << 3) | (1UL << 4) | (1UL << 5) | \
	(1UL << 7) | (1UL << 8) | (1UL << 9) | (1UL << 10) | (1UL << 13) | (1UL << 17))

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
full_read(void **state)
{
	struct run r = { .profile = "erika", .dgs = DGS_ALL };

	(void)state;
	assert_int_equal(run(&r), 0);
	assert_non_null(r.identity);
	assert_string_equal(str(r.identity, "given_names"), "ERIKA");
	assert_string_equal(str(r.identity, "family_names"), "MUSTERMANN");
	assert_string_equal(str(r.identity, "date_of_birth"), "1964-08-12");
	assert_string_equal(str(json_object_get(r.identity, "address"), "city"), "KÖLN");
	assert_string_equal(str(r.identity, "issuing_state"), "DE");
	assert_non_null(strstr(r.signer, "Document Signer"));
	json_decref(r.identity);
}

static void
short_apdus_same_data(void **state)
{
	static const char *const noext[] = { "--no-extended", NULL, NULL };
	struct run a = { .profile = "erika", .dgs = DGS_ALL };
	struct run b = { .profile = "erika", .dgs = DGS_ALL, .opts = noext };
	char *x, *y;

	(void)state;
	assert_int_equal(run(&a), 0);
	if (run(&b) != 0)
		fail_msg("%s", b.e.msg);
	x = json_dumps(a.identity, JSON_SORT_KEYS);
	y = json_dumps(b.identity, JSON_SORT_KEYS);
	assert_string_equal(x, y);
	/* More APDUs without extended length (the address alone does not fit one). */
	assert_true(b.apdus > a.apdus);
	free(x);
	free(y);
	json_decref(a.identity);
	json_decref(b.identity);
}

static void
other_parameter_set(void **state)
{
	struct run r = { .dgs = DGS_ALL | (1UL << 19) | (1UL << 20) };
	char path[PATH_MAX];
	struct stat st;
	const char *names[] = { "jeanne", NULL };
	int i;

	(void)state;
	/* The second test person, whatever the card helper named her: the profile that is not
	 * erika and has an EF.CardAccess. */
	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof path, "%s/tests/rig/cards/%s/011C", top, names[i]);
		if (stat(path, &st) == 0)
			break;
	}
	if (names[i] == NULL)
		skip();
	r.profile = names[i];
	if (run(&r) != 0)
		fail_msg("%s: %s", r.profile, r.e.msg);
	assert_non_null(str(r.identity, "document_type"));
	assert_string_not_equal(str(r.identity, "given_names"), "ERIKA");
	json_decref(r.identity);
}

static void
wrong_pin(void **state)
{
	struct run r = { .profile = "erika", .dgs = DGS_ALL, .pin = "654321" };

	(void)state;
	assert_int_equal(run(&r), BB_WRONG_SECRET);
	assert_null(r.identity);
	assert_non_null(strstr(r.e.msg, "2 retries"));
}

static void
no_right_no_data(void **state)
{
	struct run r = { .profile = "erika", .dgs = DGS_ALL, .terminal = "nodg17",
		.unmasked = 1 };
	struct run m = { .profile = "erika", .dgs = DGS_ALL, .terminal = "nodg17" };

	(void)state;
	/* Asking for DG17 in the CHAT with a certificate that lacks it: the card narrows the
	 * rights, and reading DG17 is refused. */
	assert_int_equal(run(&r), BB_NOPERM);
	assert_null(r.identity);
	assert_non_null(strstr(r.e.msg, "17"));
	/* The read does not ask for it: the rest is read, no address. */
	if (run(&m) != 0)
		fail_msg("%s", m.e.msg);
	assert_null(json_object_get(m.identity, "address"));
	assert_string_equal(str(m.identity, "given_names"), "ERIKA");
	json_decref(m.identity);
}

static void
expired_terminal(void **state)
{
	struct bb_eac_terminal t;

	(void)state;
	load_terminal(&t, "expired", BB_NOPERM);
}

struct fault {
	const char *name, *value;
	int status;
	const char *msg;
	const char *name2, *value2;	/* a second option, or NULL */
};

static void
faults(void **state)
{
	static const struct fault f[] = {
		{ "--fault", "bad-mac@1", BB_PROTOCOL, "MAC", NULL, NULL },
		{ "--fault", "bad-mac@6", BB_PROTOCOL, "MAC", NULL, NULL },
		{ "--fault", "bad-mac@14", BB_PROTOCOL, "MAC", NULL, NULL },
		{ "--fault", "bad-ssc@3", BB_PROTOCOL, "MAC", NULL, NULL },
		{ "--fault", "bad-ssc@12", BB_PROTOCOL, "MAC", NULL, NULL },
		{ "--fault", "sw=6F00@2", BB_PROTOCOL, "6F00", NULL, NULL },
		{ "--fault", "sw=6A80@5", BB_NOPERM, NULL, NULL, NULL },
		{ "--fault", "remove@9", BB_CANCELLED, "removed", NULL, NULL },
		{ "--fault", "remove@20", BB_CANCELLED, "removed", NULL, NULL },
		{ "--fault", "truncated-tlv", BB_PROTOCOL, NULL, NULL, NULL },
		{ "--fault", "oversized-tlv", BB_PROTOCOL, NULL, NULL, NULL },
		{ "--forged-security", NULL, BB_NOPERM, "passive authentication", NULL, NULL },
		/* The plain status word is outside the MAC: when it disagrees with the
		 * protected one (DO99), the answer is not believed either way. */
		{ "--fault", "plain-sw=6A82@1", BB_PROTOCOL, "protected status", NULL, NULL },
		{ "--fault", "plain-sw=9000@1", BB_PROTOCOL, "protected status", "--fault",
		    "sw=6A82@1" },
		{ "--fault", "plain-sw=9000@5", BB_PROTOCOL, "protected status", "--fault",
		    "sw=6982@5" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *opts[] = { f[i].name, f[i].value, f[i].name2, f[i].value2, NULL,
		    NULL };
		struct run r = { .profile = "erika", .dgs = DGS_ALL, .opts = opts };
		int rc = run(&r);

		if (rc != f[i].status)
			fail_msg("%s %s: status %d, expected %d (%s)", f[i].name,
			    f[i].value ? f[i].value : "", rc, f[i].status, r.e.msg);
		assert_null(r.identity);
		if (f[i].msg != NULL && strstr(r.e.msg, f[i].msg) == NULL)
			fail_msg("%s %s: message '%s' lacks '%s'", f[i].name,
			    f[i].value ? f[i].value : "", r.e.msg, f[i].msg);
	}
}

/* A card (or anyone in between) leaving the CA infos out of EF.CardAccess: OpenPACE then
 * skips checking EF.CardSecurity's signature; bb-eid checks it itself. */
static void
downgrade(void **state)
{
	static const char *const forged[] = { "--forged-security", NULL, NULL };
	struct run a = { .profile = "erika", .dgs = DGS_ALL, .trim_ca = 1, .opts = forged };
	struct run b = { .profile = "erika", .dgs = DGS_ALL, .trim_ca = 1 };

	(void)state;
	assert_int_equal(run(&a), BB_NOPERM);
	assert_null(a.identity);
	assert_non_null(strstr(a.e.msg, "passive authentication failed"));
	/* Genuine EF.CardSecurity, but no CA announced: no chip authentication, no data. */
	assert_int_equal(run(&b), BB_PROTOCOL);
	assert_null(b.identity);
}

/* EF.CardAccess naming what the signed EF.CardSecurity does not (an info added, or one
 * changed): passive authentication fails right there, whatever would follow. downgrade
 * cannot show this: an EF.CardAccess with infos taken out is still among the signed
 * ones, and without CA the read fails later anyway. */
static void
unsigned_card_access(void **state)
{
	int how;

	(void)state;
	for (how = 1; how <= 2; how++) {
		struct run r = { .profile = "erika", .dgs = DGS_ALL, .alter_ca = how };

		if (run(&r) != BB_NOPERM ||
		    strstr(r.e.msg, "EF.CardAccess names a protocol") == NULL)
			fail_msg("EF.CardAccess altered (%d): status %d, %s", how,
			    r.e.status, r.e.msg);
		assert_null(r.identity);
	}
}

/* With the CAN the card lets an authentication terminal read only with the right "CAN
 * allowed" in the CHAT (which the test terminal certificate has). */
static void
can_needs_its_right(void **state)
{
	struct run a = { .profile = "erika", .dgs = DGS_ALL, .can = 1 };
	struct run b = { .profile = "erika", .dgs = DGS_ALL, .can = 2 };

	(void)state;
	assert_int_equal(run(&a), BB_NOPERM);
	assert_null(a.identity);
	if (run(&b) != 0)
		fail_msg("%s", b.e.msg);
	assert_string_equal(str(b.identity, "given_names"), "ERIKA");
	json_decref(b.identity);
}

/* PACE over DH (the profile erika-dh: id-PACE-DH-GM-AES-CBC-CMAC-128, the 2048-bit MODP
 * group). Issue 13, item 2: Terminal Authentication signs ID_PICC = Comp(the card's
 * ephemeral PACE key), which for DH is the SHA-1 of the key (TR-03110 part 3, A.2.2.3),
 * not the key itself: the card checks the signature over that and refuses another
 * (6300, exit status 77). */
static void
dh_parameters(void **state)
{
	struct run r = { .profile = "erika-dh", .dgs = DGS_ALL };

	(void)state;
	if (run(&r) != 0)
		fail_msg("erika-dh: status %d: %s", r.e.status, r.e.msg);
	assert_string_equal(str(r.identity, "given_names"), "ERIKA");
	json_decref(r.identity);
}

/* Issue 13: one read in about 256 would fail against a real card, and the simulator's
 * card agreed with bb-eid on the mistake: both compressed keys with OpenPACE's Comp, which
 * drops the leading zero bytes of the x coordinate, where TR-03110 part 3 A.2.2.3 takes
 * all of it (FE2OS of TR-03111, as long as the field; AusweisApp's compressPoint does
 * so). Here the card's ephemeral PACE key begins x with 00 (PACE again until it does):
 * the card checks the TA signature over the whole x (the old bb-eid: 6300, 77). */
static void
comp_leading_zero(void **state)
{
	struct run r = { .profile = "erika", .dgs = DGS_ALL, .picc_x0 = 1 };

	(void)state;
	if (run(&r) != 0)
		fail_msg("status %d: %s", r.e.status, r.e.msg);
	assert_string_equal(str(r.identity, "given_names"), "ERIKA");
	json_decref(r.identity);
}

/* PACE in the reader: TA signs the reader's IDicc, which is ID_PICC already (the card's
 * key compressed), as it is. The reader's context has no PACE key that tells a curve:
 * OpenPACE's EAC_Comp failed there (70, since a6afdb8), and a Comp() that went by it
 * took the SHA-1 (77, 6300). A reader that gives the whole point (04 x y) works too. */
static void
reader_pace_id_icc(void **state)
{
	struct run r = { .profile = "erika", .dgs = DGS_ALL, .reader = 1 };

	(void)state;
	if (run(&r) != 0)
		fail_msg("status %d: %s", r.e.status, r.e.msg);
	assert_string_equal(str(r.identity, "given_names"), "ERIKA");
	json_decref(r.identity);
	r.reader = 2;
	if (run(&r) != 0)
		fail_msg("whole point: status %d: %s", r.e.status, r.e.msg);
	json_decref(r.identity);
}

/* bb_eac_comp and bb_eac_plain_sig with known answers. A P-256 point whose x begins with
 * 00: Comp() is all 32 bytes of x (OpenPACE's EAC_Comp: 31). A DH key: its SHA-1. An
 * ECDSA signature whose r and s both have a leading zero byte, as OpenPACE gives it
 * (31 + 31 bytes): 32 + 32. */
static void
comp_and_plain_sig_vectors(void **state)
{
	unsigned char pt[65], out[200], sig[66], dh[3] = { 'a', 'b', 'c' };
	static const unsigned char sha1_abc[20] = { 0xA9, 0x99, 0x3E, 0x36, 0x47, 0x06, 0x81,
		0x6A, 0xBA, 0x3E, 0x25, 0x71, 0x78, 0x50, 0xC2, 0x6C, 0x9C, 0xD0, 0xD8, 0x9D };
	size_t n, i;

	(void)state;
	pt[0] = 0x04;
	for (i = 1; i < 65; i++)
		pt[i] = (unsigned char)i;
	pt[1] = 0x00;
	assert_int_equal(bb_eac_comp(1, pt, sizeof pt, out, sizeof out, &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(out, pt + 1, 32);
	assert_int_equal(bb_eac_comp(1, pt, 64, out, sizeof out, &n), -1);	/* no point */
	assert_int_equal(bb_eac_comp(1, pt + 1, 63, out, sizeof out, &n), -1);	/* no 04 */
	assert_int_equal(bb_eac_comp(1, pt, sizeof pt, out, 31, &n), -1);	/* no room */
	assert_int_equal(bb_eac_comp(0, dh, sizeof dh, out, sizeof out, &n), 0);
	assert_int_equal(n, 20);
	assert_memory_equal(out, sha1_abc, 20);

	/* r = 01..1F, s = 21..3F (31 bytes each): 00 r 00 s. */
	for (i = 0; i < 62; i++)
		sig[i] = (unsigned char)(i < 31 ? i + 1 : i + 2);
	assert_int_equal(bb_eac_plain_sig(sig, 62, 32, out, sizeof out, &n), 0);
	assert_int_equal(n, 64);
	assert_int_equal(out[0], 0);
	assert_memory_equal(out + 1, sig, 31);
	assert_int_equal(out[32], 0);
	assert_memory_equal(out + 33, sig + 31, 31);
	/* Already 32 + 32: the same; longer halves only when the excess is zeros. */
	memcpy(sig, out, 64);
	assert_int_equal(bb_eac_plain_sig(sig, 64, 32, out, sizeof out, &n), 0);
	assert_int_equal(n, 64);
	assert_memory_equal(out, sig, 64);
	memmove(sig + 34, sig + 32, 32);
	memmove(sig + 1, sig, 32);
	sig[0] = sig[33] = 0;
	assert_int_equal(bb_eac_plain_sig(sig, 66, 32, out, sizeof out, &n), 0);
	assert_int_equal(n, 64);
	assert_memory_equal(out, sig + 1, 32);
	assert_memory_equal(out + 32, sig + 34, 32);
	sig[0] = 1;
	assert_int_equal(bb_eac_plain_sig(sig, 66, 32, out, sizeof out, &n), -1);
	assert_int_equal(bb_eac_plain_sig(sig, 63, 32, out, sizeof out, &n), -1);	/* odd */
	assert_int_equal(bb_eac_plain_sig(sig, 64, 32, out, 63, &n), -1);	/* no room */
}

/* Ne of a command APDU (ISO/IEC 7816-3 12.1: the four cases, short and extended). */
static size_t
apdu_ne(const unsigned char *a, size_t n)
{
	size_t lc;

	if (n == 4)
		return 0;
	if (n == 5)
		return a[4] ? a[4] : 256;
	if (a[4] != 0) {
		lc = a[4];
		return n == 5 + lc ? 0 : a[n - 1] ? a[n - 1] : 256;
	}
	if (n == 7)
		return ((size_t)a[5] << 8 | a[6]) ? ((size_t)a[5] << 8 | a[6]) : 65536;
	lc = (size_t)a[5] << 8 | a[6];
	if (n == 7 + lc)
		return 0;
	return ((size_t)a[n - 2] << 8 | a[n - 1]) ? ((size_t)a[n - 2] << 8 | a[n - 1]) : 65536;
}

/* A transport that asks for 256 bytes where pace.c asks for all (extended Le 00 00 becomes
 * 01 00, as AusweisApp sends General Authenticate with Le 256 whatever the length), and
 * checks that no answer is longer than its command's Ne. */
struct ne256 {
	struct wire *w;
	int over, get_response;
};

static int
ne256_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen, struct bb_err *e)
{
	struct ne256 *c = arg;
	unsigned char a[70000];
	int rc;

	assert_true(len <= sizeof a);
	memcpy(a, apdu, len);
	if (len > 7 && a[4] == 0 && len == 7 + ((size_t)a[5] << 8 | a[6]) + 2 &&
	    a[len - 2] == 0 && a[len - 1] == 0)
		a[len - 2] = 0x01;
	if (a[1] == 0xC0)
		c->get_response++;
	if ((rc = wire_apdu(c->w, a, len, resp, rlen, e)) == 0 && *rlen - 2 > apdu_ne(a, len))
		c->over++;
	return rc;
}

/* Issue 13, item 3: the card's answer to General Authenticate never exceeds Ne (with
 * erika-dh its keys are 264 bytes in 7C, asked for with Ne 256): 256 bytes and 6108, the
 * rest by GET RESPONSE (ISO/IEC 7816-4:2013 5.3.4), which bb-eid's PACE sends. */
static void
answers_within_ne(void **state)
{
	struct eidcard *k = card("erika-dh", NULL);
	struct wire w = { k, 0, 0 };
	struct ne256 c = { &w, 0, 0 };
	struct bb_pace *p = NULL;
	struct bb_err e = { 0, "" };
	unsigned char *ca, chat[32];
	size_t calen, chatlen;
	int retries;

	(void)state;
	ca = file("tests/rig/cards/erika-dh/011C", &calen);
	chatlen = bb_dg_chat(DGS_ALL, chat, sizeof chat);
	if (bb_pace_establish(ne256_apdu, &c, ca, calen, BB_PACE_PIN, "123456", 6, chat, chatlen,
	    &p, &retries, &e) != 0)
		fail_msg("PACE with answers within Ne: %s", e.msg);
	assert_int_equal(c.over, 0);
	assert_int_equal(c.get_response, 2);	/* the mapping and the ephemeral key */
	free(ca);
	bb_pace_free(p);
	eidcard_free(k);
}

/* The 8-byte AES-CMAC of in under key, by OpenSSL's EVP_MAC directly: the MAC input as
 * ICAO 9303-11 and AusweisApp write it, not as lib/eid/sm.c builds it. */
static void
cmac8(const unsigned char *key, size_t klen, const unsigned char *in, size_t len,
    unsigned char out[8])
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string("cipher", klen == 32 ? "AES-256-CBC" : klen == 24 ?
		    "AES-192-CBC" : "AES-128-CBC", 0),
		OSSL_PARAM_END
	};
	unsigned char full[16];
	size_t n = 0;

	assert_non_null(c);
	assert_int_equal(EVP_MAC_init(c, key, klen, params), 1);
	assert_int_equal(EVP_MAC_update(c, in, len), 1);
	assert_int_equal(EVP_MAC_final(c, full, &n, sizeof full), 1);
	assert_int_equal(n, 16);
	memcpy(out, full, 8);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
}

/* The APDUs lib/eid/sm.c puts on the wire, on their way to the card. */
struct capture {
	struct wire *w;
	unsigned char apdu[512];
	size_t len;
};

static int
capture_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen, struct bb_err *e)
{
	struct capture *c = arg;

	assert_true(len <= sizeof c->apdu);
	memcpy(c->apdu, apdu, len);
	c->len = len;
	return wire_apdu(c->w, apdu, len, resp, rlen, e);
}

static void
hex(const char *h, unsigned char *out, size_t *n)
{
	for (*n = 0; h[0] != '\0'; h += 2) {
		unsigned v;

		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[(*n)++] = (unsigned char)v;
	}
}

/* The command MAC of secure messaging (issue 13, item 1). ICAO 9303-11 9.8.6 / TR-03110
 * part 3 F: MAC over SSC || pad(header) || DO87 || DO97, padded again, but a command
 * with neither (RESET RETRY COUNTER to unblock the PIN: 0C 2C 03 03) MACs SSC ||
 * pad(header) alone, as AusweisApp (SecureMessaging::createMac) and OpenSC send it and
 * real cards check it. First with the session's key against the card; then two fixed
 * vectors: key 00 01 .. 0F, SSC 1; the MACs computed apart from this code with
 *   openssl mac -cipher AES-128-CBC -macopt hexkey:000102030405060708090A0B0C0D0E0F CMAC
 * over 00..01 0C2C0303 80 00..00 (BF4ECBB465DFEA12) and over
 * 00..01 0CB09C00 80 00..00 970100 80 00..00 (D0B526DFF4F4C23A). */
static void
unblock_mac_vector(void **state)
{
	static const char *const blocked[] = { "--blocked", "", NULL, NULL };
	static const unsigned char unblock[4] = { 0x00, 0x2C, 0x03, 0x03 };
	static const unsigned char rb[4] = { 0x00, 0xB0, 0x9C, 0x00 };
	struct eidcard *k = card("erika", blocked);
	struct wire w = { k, 0, 0 };
	struct capture cap = { &w, { 0 }, 0 };
	struct bb_pace *p = NULL;
	struct bb_sm sm;
	struct bb_err e = { 0, "" };
	unsigned char *ca, *out = NULL, in[32], mac[8], want[64], chat[32];
	size_t calen, outlen, n, chatlen;
	unsigned sw;
	int retries;
	EAC_CTX *ctx;
	BUF_MEM *kmac;

	(void)state;
	ca = file("tests/rig/cards/erika/011C", &calen);
	chatlen = bb_dg_chat(1UL << 1, chat, sizeof chat);
	assert_int_equal(eidcard_pin_retries(k), 0);
	if (bb_pace_establish(wire_apdu, &w, ca, calen, BB_PACE_PUK, "9876543210", 10, chat,
	    chatlen, &p, &retries, &e) != 0)
		fail_msg("PACE with the PUK: %s", e.msg);
	ctx = p->ctx;
	kmac = ctx->key_ctx->k_mac;
	assert_true(kmac != NULL && kmac->length == 16);

	/* The session: the card takes it and unblocks the PIN; the MAC is the documented one. */
	bb_sm_init(&sm, ctx, capture_apdu, &cap, 1);
	if (bb_sm_transmit(&sm, unblock, NULL, 0, 0, &out, &outlen, &sw, &e) != 0)
		fail_msg("unblock: %s", e.msg);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(eidcard_pin_retries(k), 3);
	memset(in, 0, sizeof in);
	in[15] = 1;				/* SSC 1 */
	memcpy(in + 16, "\x0C\x2C\x03\x03\x80", 5);	/* pad(header) */
	cmac8((unsigned char *)kmac->data, kmac->length, in, 32, mac);
	assert_int_equal(cap.len, 4 + 1 + 10 + 1);
	assert_memory_equal(cap.apdu, "\x0C\x2C\x03\x03\x0A\x8E\x08", 7);
	assert_memory_equal(cap.apdu + 7, mac, 8);
	assert_int_equal(cap.apdu[15], 0x00);

	/* The fixed vectors, with our key in the context (OpenSSL is given k_mac anew for
	 * each MAC); the card, with the session's key, answers 6988 and the channel ends. */
	memcpy(kmac->data, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F",
	    16);
	cmac8((unsigned char *)kmac->data, 16, in, 32, mac);
	hex("BF4ECBB465DFEA12", want, &n);
	assert_memory_equal(mac, want, 8);	/* the helper agrees with openssl mac */
	assert_int_equal(EAC_set_ssc(ctx, 0), 1);
	bb_sm_init(&sm, ctx, capture_apdu, &cap, 1);
	assert_int_equal(bb_sm_transmit(&sm, unblock, NULL, 0, 0, &out, &outlen, &sw, &e),
	    BB_PROTOCOL);
	hex("0C2C03030A8E08BF4ECBB465DFEA1200", want, &n);
	assert_int_equal(cap.len, n);
	assert_memory_equal(cap.apdu, want, n);
	assert_int_equal(EAC_set_ssc(ctx, 0), 1);
	bb_sm_init(&sm, ctx, capture_apdu, &cap, 0);
	assert_int_equal(bb_sm_transmit(&sm, rb, NULL, 0, 256, &out, &outlen, &sw, &e),
	    BB_PROTOCOL);
	hex("0CB09C000D9701008E08D0B526DFF4F4C23A00", want, &n);
	assert_int_equal(cap.len, n);
	assert_memory_equal(cap.apdu, want, n);
	free(ca);
	bb_pace_free(p);
	eidcard_free(k);
}

/* A CV certificate's days hold in every time zone: made effective today by a German CA,
 * it is valid in Berlin just after midnight, while UTC is still at yesterday. */
static void
valid_on_any_zone(void **state)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 7, .tm_hour = 23,
		.tm_min = 30 };
	time_t t = timegm(&tm);	/* 2026-12-07 23:30 UTC, 00:30 on the 8th in Berlin */

	(void)state;
	assert_int_equal(bb_eac_valid_on(20261208, 20270308, t), 0);
	assert_int_equal(bb_eac_valid_on(20261209, 20270308, t), -1);	/* UTC+14: the 8th */
	assert_int_equal(bb_eac_valid_on(20261208, 20270308, t - 15 * 3600), -1);
	/* The expiry day lasts until it has ended at UTC-12. */
	assert_int_equal(bb_eac_valid_on(20260101, 20261207, t), 0);
	assert_int_equal(bb_eac_valid_on(20260101, 20261207, t + 12 * 3600), 0);
	assert_int_equal(bb_eac_valid_on(20260101, 20261207, t + 13 * 3600), 1);
	assert_int_equal(bb_eac_valid_on(20260101, 20261206, t), 1);
}

/* The read as bb-eid runs it: a data group the card does not hold gives "" for a text
 * key (bb-case(5)), not a missing key: erika has neither DG6 (artistic_name) nor DG18
 * (community_id); residence_permit, asked for, is [] (an ID card: DG19 and DG20 are not
 * read). The copy of the read this test kept before skipped them. */
static void
missing_dg_empty(void **state)
{
	struct run r = { .profile = "erika",
		.dgs = DGS_ALL | (1UL << 6) | (1UL << 18) | (1UL << 19) | (1UL << 20) };
	json_t *rp;

	(void)state;
	if (run(&r) != 0)
		fail_msg("%s", r.e.msg);
	assert_non_null(str(r.identity, "artistic_name"));
	assert_string_equal(str(r.identity, "artistic_name"), "");
	assert_non_null(str(r.identity, "community_id"));
	assert_string_equal(str(r.identity, "community_id"), "");
	rp = json_object_get(r.identity, "residence_permit");
	assert_true(json_is_array(rp) && json_array_size(rp) == 0);
	assert_string_equal(str(r.identity, "document_type"), "ID");
	json_decref(r.identity);
}

/* A session over the simulated card, EF.CardAccess as the card holds it; the card reset
 * as bb_eid_session_close resets a card in a reader. */
static void
pin_session(struct bb_eid_session *s, struct wire *w)
{
	eidcard_reset(w->k);
	bb_eid_session_init(s, wire_apdu, w, BB_EID_VERBOSE);
	s->ca = file("tests/rig/cards/erika/011C", &s->ca_len);
}

static struct bb_secret
digits(const char *d)
{
	struct bb_secret sec = { (unsigned char *)d, strlen(d), 0 };

	return sec;
}

/* bb-eid's PIN operations in-process (lib/eid/pin.c): unblock with the PUK, change, resume
 * a suspended PIN with the CAN; and the messages a person acts on. */
static void
pin_operations(void **state)
{
	static const char *const blocked[] = { "--blocked", "", NULL, NULL };
	static const char *const suspended[] = { "--pin-retries", "1", NULL, NULL };
	static const char *const two[] = { "--pin-retries", "2", NULL, NULL };
	struct bb_secret puk = digits("9876543210"), pin = digits("123456"),
	    newpin = digits("654321"), can = digits("500540"), wrong = digits("111111");
	struct bb_eid_session s;
	struct bb_err e = { 0, "" };
	struct wire w = { card("erika", blocked), 0, 0 };

	(void)state;
	pin_session(&s, &w);
	if (bb_eid_pin_unblock(&s, &puk, &e) != 0)
		fail_msg("unblock: %s", e.msg);
	assert_int_equal(eidcard_pin_retries(w.k), 3);
	bb_eid_session_close(&s);

	/* Changed: the old PIN is wrong now, the new one opens the card. */
	pin_session(&s, &w);
	if (bb_eid_pin_change(&s, &pin, &newpin, &e) != 0)
		fail_msg("change: %s", e.msg);
	bb_eid_session_close(&s);
	pin_session(&s, &w);
	assert_int_equal(bb_eid_pace(&s, BB_PACE_PIN, &pin, NULL, 0, 0, NULL, &e),
	    BB_WRONG_SECRET);
	assert_string_equal(e.msg, "wrong PIN, 2 retries left");
	bb_eid_session_close(&s);
	pin_session(&s, &w);
	if (bb_eid_pace(&s, BB_PACE_PIN, &newpin, NULL, 0, 0, NULL, &e) != 0)
		fail_msg("the new PIN: %s", e.msg);
	bb_eid_session_close(&s);
	eidcard_free(w.k);

	/* Suspended: PACE with the PIN alone says what to do; pin-resume does it. */
	w.k = card("erika", suspended);
	pin_session(&s, &w);
	assert_int_equal(bb_eid_pace(&s, BB_PACE_PIN, &pin, NULL, 0, 0, NULL, &e),
	    BB_DOC_BLOCKED);
	assert_string_equal(e.msg,
	    "the PIN is suspended: confirm with the CAN first (bb-eid pin-resume)");
	bb_eid_session_close(&s);
	pin_session(&s, &w);
	if (bb_eid_pin_resume(&s, &can, &pin, &e) != 0)
		fail_msg("resume: %s", e.msg);
	assert_int_equal(eidcard_pin_retries(w.k), 3);
	bb_eid_session_close(&s);
	eidcard_free(w.k);

	/* The second wrong PIN suspends it, and the message says so. */
	w.k = card("erika", two);
	pin_session(&s, &w);
	assert_int_equal(bb_eid_pin_change(&s, &wrong, &newpin, &e), BB_WRONG_SECRET);
	assert_string_equal(e.msg,
	    "wrong PIN, 1 retry left: the PIN is now suspended (the CAN is needed next)");
	bb_eid_session_close(&s);
	eidcard_free(w.k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_on_any_zone),
		cmocka_unit_test(full_read),
		cmocka_unit_test(missing_dg_empty),
		cmocka_unit_test(pin_operations),
		cmocka_unit_test(short_apdus_same_data),
		cmocka_unit_test(other_parameter_set),
		cmocka_unit_test(wrong_pin),
		cmocka_unit_test(no_right_no_data),
		cmocka_unit_test(expired_terminal),
		cmocka_unit_test(faults),
		cmocka_unit_test(downgrade),
		cmocka_unit_test(unsigned_card_access),
		cmocka_unit_test(can_needs_its_right),
		cmocka_unit_test(unblock_mac_vector),
		cmocka_unit_test(dh_parameters),
		cmocka_unit_test(comp_leading_zero),
		cmocka_unit_test(comp_and_plain_sig_vectors),
		cmocka_unit_test(reader_pace_id_icc),
		cmocka_unit_test(answers_within_ne),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
