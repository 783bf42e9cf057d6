/* The simulated ID card's engine; see eidcard.h and /work/notes/eidspec.md. Everything the
 * terminal sends is parsed with bounds checks against the bytes there are (the unit test
 * and the simulator run under AddressSanitizer in `make check SANITIZE=1`). The
 * cryptography is OpenPACE's card side: PACE_STEP1_enc_nonce and PACE_STEP3A..3D,
 * TA_STEP2_import_certificate, TA_STEP4_get_nonce, TA_STEP6_verify, CA_STEP4..5, and its
 * secure messaging primitives; building and checking the protected APDUs is ours, and so
 * is Comp() (OpenPACE's drops leading zero bytes). */
#include "eidcard.h"

#include <eac/ca.h>
#include <eac/cv_cert.h>
#include <eac/eac.h>
#include <eac/pace.h>
#include <eac/ta.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX 65536
#define OUT_MAX (FILE_MAX + 64)
#define NFILES 32
#define SHORT_PROTECTED_MAX 0xDF	/* plaintext that fits a 256-byte protected answer */

static const unsigned char eid_aid[] = { 0xE8, 0x07, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x03, 0x02 };
/* An ID card's ATR (T=1). */
static const unsigned char default_atr[] = { 0x3B, 0x8A, 0x80, 0x01, 0x80, 0x31, 0xF8, 0x73,
	0xF7, 0x41, 0xE0, 0x82, 0x90, 0x00, 0x75 };
static const char default_car[] = "DECVCAeID00001";

/* Which password established the secure channel (PACE password references, and the
 * transport PIN apart: it only allows changing itself). */
enum { PWD_NONE = 0, PWD_MRZ = 1, PWD_CAN = 2, PWD_PIN = 3, PWD_PUK = 4, PWD_TRANSPORT = 5 };

#define CHAT_LEN 5		/* an authentication terminal's relative authorization */

struct efile {
	int df;			/* 0 MF, 1 eID application */
	int fid;
	unsigned char *data;
	size_t len;
};

/* A command as the handlers see it (after secure messaging is taken off). */
struct cmd {
	unsigned char cla, ins, p1, p2;
	const unsigned char *data;
	size_t nc, ne;
	int ext;		/* the APDU on the wire used extended lengths */
	int sm;			/* it came protected */
	size_t cap;		/* most answer data the wire can carry back */
};

struct eidcard {
	struct eidcard_conf c;
	struct efile files[NFILES];
	int nfiles;
	const struct efile *cardaccess;
	unsigned char pace_oid[32];	/* the PACEInfo's protocol OID (content octets) */
	size_t pace_oid_len;
	unsigned char *ca_key;		/* chip authentication private key (PKCS#8 DER) */
	size_t ca_key_len;
	unsigned char *cvca;		/* the trusted CVCA certificate (DER) */
	size_t cvca_len;
	char cvca_chr[32];		/* its CHR, the CAR named in PACE; default_car without */
	unsigned char cvca_chat[CHAT_LEN];

	/* What the card keeps. */
	int pin_retries, puk_uses, transport, deactivated, removed;
	char pin[16];
	long date;			/* YYYYMMDD: the newest of today and seen effective dates */

	/* The session (until reset). */
	int df, ef_fid;
	long napdu, nprot_cmd, nprot_ans;

	/* Secure messaging. */
	EAC_CTX *sm;			/* NULL: none */
	int sm_pwd;
	unsigned long ssc;		/* our copy of the send sequence counter */
	unsigned char pace_chat[CHAT_LEN];
	int pace_chat_set;
	BUF_MEM *picc_eph;		/* the card's PACE ephemeral public key of this channel */

	/* Terminal authentication. */
	int dst_set;			/* MSE:Set DST named a known CAR */
	char ta_chr[32];		/* CHR of the last imported certificate */
	int ta_term;			/* ... which is a terminal certificate */
	unsigned char chain_chat[CHAT_LEN];
	int ta_at_set, ta_nonce, ta_done;
	unsigned char ta_challenge[8];	/* GET CHALLENGE's, kept until EXTERNAL AUTHENTICATE */
	BUF_MEM *ta_comp, *ta_aux;	/* 91 and the whole 67 object of MSE:Set AT */
	unsigned char eff_chat[CHAT_LEN];

	/* Chip authentication. */
	int ca_at_set, ca_done, ca_switch;

	/* PACE in progress (a new context: PACE inside SM keeps the old channel until it
	 * ends). */
	EAC_CTX *p;
	PACE_SEC *psec;
	int pstep, pref, p_can_sm, pace_switch;
	unsigned char pchat[CHAT_LEN];
	int pchat_set;
	BUF_MEM *p_pcd_eph, *p_picc_eph;

	/* Command chaining under SM. */
	int chaining;
	unsigned char chain_hdr[3];
	size_t chain_len;
	unsigned char chain[FILE_MAX];

	/* Response chaining: what did not fit Ne, for GET RESPONSE. */
	size_t rest_len;
	unsigned char rest[OUT_MAX];

	unsigned char out[OUT_MAX];
	unsigned char resp_tmp[OUT_MAX + 64];
};

/* ---- configuration ---- */

static void
msg(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, arg);
}

void
eidcard_conf_init(struct eidcard_conf *c)
{
	memset(c, 0, sizeof *c);
	c->pin_retries = 3;
	strcpy(c->pin, "123456");
	strcpy(c->can, "500540");
	strcpy(c->puk, "9876543210");
	memcpy(c->atr, default_atr, sizeof default_atr);
	c->atr_len = sizeof default_atr;
}

static const struct {
	const char *name;
	int arity;
} options[] = {
	{ "--pki", 1 }, { "--pin-retries", 1 }, { "--blocked", 0 }, { "--deactivated", 0 },
	{ "--transport", 0 }, { "--pin", 1 }, { "--can", 1 }, { "--puk", 1 },
	{ "--no-extended", 0 }, { "--today", 1 }, { "--expiry", 1 },
	{ "--forged-security", 0 }, { "--fault", 1 }, { "--truncate-response", 0 },
	{ "--garbage", 0 }, { "--mute", 0 }, { "--atr", 1 },
};

int
eidcard_conf_option_arity(const char *name)
{
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
		if (strcmp(name, options[i].name) == 0)
			return options[i].arity;
	return -1;
}

static int
all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A plausible YYYYMMDD. */
static int
date_ok(const char *s)
{
	long v;

	if (!all_digits(s, 8, 8))
		return 0;
	v = strtol(s, NULL, 10);
	return v / 10000 >= 1900 && v % 10000 / 100 >= 1 && v % 10000 / 100 <= 12 &&
	    v % 100 >= 1 && v % 100 <= 31;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

long
eidcard_unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (*s != '\0') {
		int hi, lo;

		if (isspace((unsigned char)*s) || *s == ':') {
			s++;
			continue;
		}
		hi = hexval((unsigned char)s[0]);
		lo = s[1] != '\0' ? hexval((unsigned char)s[1]) : -1;
		if (hi < 0 || lo < 0 || n >= max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return (long)n;
}

/* --fault KIND[@N]: bad-mac bad-ssc sw=XXXX plain-sw=XXXX remove, truncated-tlv
 * oversized-tlv. */
static int
add_fault(struct eidcard_conf *c, const char *v, char *err, size_t errlen)
{
	char kind[32];
	const char *at = strchr(v, '@');
	size_t kl = at ? (size_t)(at - v) : strlen(v);
	long n = 0;

	if (kl == 0 || kl >= sizeof kind) {
		msg(err, errlen, "bad fault: %s", v);
		return -1;
	}
	memcpy(kind, v, kl);
	kind[kl] = '\0';
	if (at != NULL) {
		if (!all_digits(at + 1, 1, 6) || (n = strtol(at + 1, NULL, 10)) < 1) {
			msg(err, errlen, "bad fault count: %s", v);
			return -1;
		}
	}
	if (strcmp(kind, "truncated-tlv") == 0 || strcmp(kind, "oversized-tlv") == 0) {
		if (at != NULL) {
			msg(err, errlen, "fault %s takes no @N", v);
			return -1;
		}
		if (kind[0] == 't')
			c->truncated_tlv = 1;
		else
			c->oversized_tlv = 1;
		return 0;
	}
	if (c->nfaults >= EIDCARD_MAX_FAULTS) {
		msg(err, errlen, "too many faults: %s", v);
		return -1;
	}
	c->faults[c->nfaults].n = n;
	c->faults[c->nfaults].sw = 0;
	if (strcmp(kind, "bad-mac") == 0)
		c->faults[c->nfaults].kind = EIDCARD_FAULT_BAD_MAC;
	else if (strcmp(kind, "bad-ssc") == 0)
		c->faults[c->nfaults].kind = EIDCARD_FAULT_BAD_SSC;
	else if (strcmp(kind, "remove") == 0)
		c->faults[c->nfaults].kind = EIDCARD_FAULT_REMOVE;
	else if (strncmp(kind, "sw=", 3) == 0 && strlen(kind) == 7 &&
	    isxdigit((unsigned char)kind[3]) && isxdigit((unsigned char)kind[4]) &&
	    isxdigit((unsigned char)kind[5]) && isxdigit((unsigned char)kind[6])) {
		c->faults[c->nfaults].kind = EIDCARD_FAULT_SW;
		c->faults[c->nfaults].sw = (unsigned)strtoul(kind + 3, NULL, 16);
	} else if (strncmp(kind, "plain-sw=", 9) == 0 && strlen(kind) == 13 &&
	    isxdigit((unsigned char)kind[9]) && isxdigit((unsigned char)kind[10]) &&
	    isxdigit((unsigned char)kind[11]) && isxdigit((unsigned char)kind[12])) {
		c->faults[c->nfaults].kind = EIDCARD_FAULT_PLAIN_SW;
		c->faults[c->nfaults].sw = (unsigned)strtoul(kind + 9, NULL, 16);
	} else {
		msg(err, errlen, "unknown fault: %s", v);
		return -1;
	}
	c->nfaults++;
	return 0;
}

int
eidcard_conf_option(struct eidcard_conf *c, const char *name, const char *value,
    char *err, size_t errlen)
{
	int arity = eidcard_conf_option_arity(name);

	if (arity < 0) {
		msg(err, errlen, "unknown option: %s", name);
		return -1;
	}
	if (arity == 1 && value == NULL) {
		msg(err, errlen, "%s needs a value", name);
		return -1;
	}
	if (strcmp(name, "--pki") == 0) {
		if (strlen(value) >= sizeof c->pki) {
			msg(err, errlen, "--pki: path too long: %s", value);
			return -1;
		}
		strcpy(c->pki, value);
	} else if (strcmp(name, "--pin-retries") == 0) {
		if (!all_digits(value, 1, 1) || value[0] > '3') {
			msg(err, errlen, "--pin-retries: 0 to 3, not %s", value);
			return -1;
		}
		c->pin_retries = value[0] - '0';
	} else if (strcmp(name, "--blocked") == 0)
		c->pin_retries = 0;
	else if (strcmp(name, "--deactivated") == 0)
		c->deactivated = 1;
	else if (strcmp(name, "--transport") == 0)
		c->transport = 1;
	else if (strcmp(name, "--pin") == 0 || strcmp(name, "--can") == 0 ||
	    strcmp(name, "--puk") == 0) {
		char *dst = name[3] == 'i' ? c->pin : name[3] == 'a' ? c->can : c->puk;

		if (!all_digits(value, 4, 12)) {
			/* Never echo what could be a secret. */
			msg(err, errlen, "%s: 4 to 12 digits", name);
			return -1;
		}
		strcpy(dst, value);
		if (dst == c->pin)
			c->pin_given = 1;
	} else if (strcmp(name, "--no-extended") == 0)
		c->no_extended = 1;
	else if (strcmp(name, "--today") == 0) {
		if (!date_ok(value)) {
			msg(err, errlen, "--today: YYYYMMDD, not %s", value);
			return -1;
		}
		c->today = strtol(value, NULL, 10);
	} else if (strcmp(name, "--expiry") == 0) {
		if (!date_ok(value)) {
			msg(err, errlen, "--expiry: YYYYMMDD, not %s", value);
			return -1;
		}
		strcpy(c->expiry, value);
	} else if (strcmp(name, "--forged-security") == 0)
		c->forged_security = 1;
	else if (strcmp(name, "--fault") == 0)
		return add_fault(c, value, err, errlen);
	else if (strcmp(name, "--truncate-response") == 0)
		c->truncate_response = 1;
	else if (strcmp(name, "--garbage") == 0)
		c->garbage = 1;
	else if (strcmp(name, "--mute") == 0)
		c->mute = 1;
	else if (strcmp(name, "--atr") == 0) {
		long n = eidcard_unhex(value, c->atr, sizeof c->atr);

		if (n < 2) {
			msg(err, errlen, "bad ATR: %s", value);
			return -1;
		}
		c->atr_len = (size_t)n;
	}
	return 0;
}

/* ---- files ---- */

/* The file at path (at most FILE_MAX bytes), malloc'd; 0, -1 when absent, -2 on error. */
static int
slurp(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return errno == ENOENT ? -1 : -2;
	if ((*buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(f);
		return -2;
	}
	n = fread(*buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -2;
	}
	fclose(f);
	*len = n;
	return 0;
}

static const struct efile *
find_file(const struct eidcard *k, int df, int fid)
{
	for (int i = 0; i < k->nfiles; i++)
		if (k->files[i].df == df && k->files[i].fid == fid)
			return &k->files[i];
	return NULL;
}

static int
add_file(struct eidcard *k, int df, int fid, const char *path, char *err, size_t errlen)
{
	unsigned char *b;
	size_t len;
	int r = slurp(path, &b, &len);

	if (r == -1)
		return 0;
	if (r != 0) {
		msg(err, errlen, "%s: cannot read (or larger than 64 KiB)", path);
		return -1;
	}
	if (k->nfiles >= NFILES) {
		free(b);
		msg(err, errlen, "%s: too many files", path);
		return -1;
	}
	k->files[k->nfiles].df = df;
	k->files[k->nfiles].fid = fid;
	k->files[k->nfiles].data = b;
	k->files[k->nfiles].len = len;
	k->nfiles++;
	return 0;
}

/* Length of a DER length field at p (what is left: n); its value in *v. 0 if bad. */
static size_t
der_len(const unsigned char *p, size_t n, size_t *v)
{
	size_t l, i;

	if (n < 1)
		return 0;
	if (p[0] < 0x80) {
		*v = p[0];
		return 1;
	}
	l = p[0] & 0x7F;
	if (l == 0 || l > 3 || n < 1 + l)
		return 0;
	for (*v = 0, i = 0; i < l; i++)
		*v = *v << 8 | p[1 + i];
	return 1 + l;
}

static size_t
put_len(unsigned char *w, size_t len)
{
	if (len < 0x80) {
		w[0] = (unsigned char)len;
		return 1;
	}
	if (len < 0x100) {
		w[0] = 0x81;
		w[1] = (unsigned char)len;
		return 2;
	}
	if (len < 0x10000) {
		w[0] = 0x82;
		w[1] = (unsigned char)(len >> 8);
		w[2] = (unsigned char)len;
		return 3;
	}
	w[0] = 0x83;
	w[1] = (unsigned char)(len >> 16);
	w[2] = (unsigned char)(len >> 8);
	w[3] = (unsigned char)len;
	return 4;
}

/* Rewrites a DG's outer length: claimed = the content's + extra, or exactly claimed when
 * extra < 0 (the oversized fault). The content stays. */
static int
relabel_dg(struct efile *f, long extra, size_t claimed)
{
	unsigned char *b;
	size_t hl, v, content, n = 0;

	if (f->len < 2)
		return -1;
	hl = der_len(f->data + 1, f->len - 1, &v);
	if (hl == 0)
		return -1;
	content = f->len - 1 - hl;
	if ((b = malloc(content + 8)) == NULL)
		return -1;
	b[n++] = f->data[0];
	n += put_len(b + n, extra >= 0 ? content + (size_t)extra : claimed);
	memcpy(b + n, f->data + 1 + hl, content);
	n += content;
	free(f->data);
	f->data = b;
	f->len = n;
	return 0;
}

static long
today_utc(void)
{
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 20000101;
	return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* The CHAT's relative authorization, right-aligned in CHAT_LEN bytes; -1 if none. */
static int
cert_chat(const CVC_CERT *cv, unsigned char chat[CHAT_LEN])
{
	const ASN1_OCTET_STRING *ra;

	memset(chat, 0, CHAT_LEN);
	if (cv == NULL || cv->body == NULL || cv->body->chat == NULL ||
	    (ra = cv->body->chat->relative_authorization) == NULL || ra->length < 1 ||
	    ra->length > CHAT_LEN)
		return -1;
	memcpy(chat + CHAT_LEN - ra->length, ra->data, (size_t)ra->length);
	return 0;
}

/* A CV certificate's date (6 unpacked BCD digits YYMMDD) as YYYYMMDD; -1 if bad. */
static long
cvc_date(const ASN1_OCTET_STRING *d)
{
	long v = 0;

	if (d == NULL || d->length != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (d->data[i] > 9)
			return -1;
		v = v * 10 + d->data[i];
	}
	return 20000000 + v;
}

static int
load_pki(struct eidcard *k, const char *profname, char *err, size_t errlen)
{
	char path[8400];
	const char *suffix = k->c.forged_security ? ".forged" : "";
	DIR *d;
	struct dirent *de;
	int r;

	/* EF.CardSecurity: the profile's own, else the PKI's default (erika's). */
	snprintf(path, sizeof path, "%s/card/%s/011D%s", k->c.pki, profname, suffix);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof path, "%s/card/011D%s", k->c.pki, suffix);
	for (int i = 0; i < k->nfiles; i++)
		if (k->files[i].df == 0 && k->files[i].fid == 0x011D) {
			free(k->files[i].data);
			k->files[i] = k->files[--k->nfiles];
			break;
		}
	if (add_file(k, 0, 0x011D, path, err, errlen) != 0)
		return -1;
	if (find_file(k, 0, 0x011D) == NULL) {
		msg(err, errlen, "%s: missing (run make-eid-pki)", path);
		return -1;
	}
	snprintf(path, sizeof path, "%s/card/ca.key", k->c.pki);
	if ((r = slurp(path, &k->ca_key, &k->ca_key_len)) != 0) {
		msg(err, errlen, "%s: cannot read", path);
		return -1;
	}
	/* The trust anchor: the one CV certificate in cvca-trust/, named by its CHR. */
	snprintf(path, sizeof path, "%s/cvca-trust", k->c.pki);
	if ((d = opendir(path)) == NULL) {
		msg(err, errlen, "%s: cannot open", path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const unsigned char *p;
		CVC_CERT *cv = NULL;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof k->cvca_chr)
			continue;
		snprintf(path, sizeof path, "%s/cvca-trust/%s", k->c.pki, de->d_name);
		if (slurp(path, &k->cvca, &k->cvca_len) != 0)
			continue;
		p = k->cvca;
		cv = CVC_d2i_CVC_CERT(&cv, &p, (long)k->cvca_len);
		if (cv == NULL || cert_chat(cv, k->cvca_chat) != 0) {
			CVC_CERT_free(cv);
			free(k->cvca);
			k->cvca = NULL;
			continue;
		}
		CVC_CERT_free(cv);
		strcpy(k->cvca_chr, de->d_name);
		break;
	}
	closedir(d);
	ERR_clear_error();
	if (k->cvca == NULL) {
		msg(err, errlen, "%s/cvca-trust: no CV certificate", k->c.pki);
		return -1;
	}
	return 0;
}

static void
clear_pending_pace(struct eidcard *k)
{
	EAC_CTX_clear_free(k->p);
	PACE_SEC_clear_free(k->psec);
	BUF_MEM_free(k->p_pcd_eph);
	BUF_MEM_free(k->p_picc_eph);
	k->p = NULL;
	k->psec = NULL;
	k->p_pcd_eph = k->p_picc_eph = NULL;
	k->pstep = -1;
	k->pace_switch = 0;
}

static void
clear_auth(struct eidcard *k)
{
	BUF_MEM_free(k->ta_comp);
	BUF_MEM_free(k->ta_aux);
	k->ta_comp = k->ta_aux = NULL;
	k->dst_set = k->ta_term = k->ta_at_set = k->ta_nonce = k->ta_done = 0;
	k->ta_chr[0] = '\0';
	memset(k->chain_chat, 0, CHAT_LEN);
	memset(k->eff_chat, 0, CHAT_LEN);
	k->ca_at_set = k->ca_done = k->ca_switch = 0;
}

/* Secure messaging ends: keys, rights and any PACE in progress are gone. */
static void
sm_end(struct eidcard *k)
{
	EAC_CTX_clear_free(k->sm);
	k->sm = NULL;
	k->sm_pwd = PWD_NONE;
	k->ssc = 0;
	BUF_MEM_free(k->picc_eph);
	k->picc_eph = NULL;
	k->pace_chat_set = 0;
	clear_pending_pace(k);
	clear_auth(k);
	k->chaining = 0;
	k->chain_len = 0;
	k->rest_len = 0;
}

struct eidcard *
eidcard_new(const struct eidcard_conf *c, char *err, size_t errlen)
{
	struct eidcard *k;
	char path[4200], profname[256];
	const char *base;
	size_t plen;
	EAC_CTX *ctx;
	const ASN1_OBJECT *o;
	static const int mf[] = { 0x011B, 0x011C, 0x011D, 0x2F00 };

	EAC_init();
	if (c->profile[0] == '\0') {
		msg(err, errlen, "%s", "no profile directory");
		return NULL;
	}
	if ((k = calloc(1, sizeof *k)) == NULL) {
		msg(err, errlen, "%s", "out of memory");
		return NULL;
	}
	k->c = *c;
	k->pstep = -1;
	k->ef_fid = -1;
	for (size_t i = 0; i < sizeof mf / sizeof mf[0]; i++) {
		snprintf(path, sizeof path, "%s/%04X", c->profile, mf[i]);
		if (add_file(k, 0, mf[i], path, err, errlen) != 0)
			goto fail;
	}
	for (int dg = 1; dg <= 22; dg++) {
		snprintf(path, sizeof path, "%s/app/%04X", c->profile, 0x0100 | dg);
		if (add_file(k, 1, 0x0100 | dg, path, err, errlen) != 0)
			goto fail;
	}
	if ((k->cardaccess = find_file(k, 0, 0x011C)) == NULL) {
		msg(err, errlen, "%s: no EF.CardAccess (011C)", c->profile);
		goto fail;
	}
	/* The PACEInfo OpenPACE picks is the one the card runs (MSE:Set AT must name it). */
	ctx = EAC_CTX_new();
	if (ctx == NULL || !EAC_CTX_init_ef_cardaccess(k->cardaccess->data, k->cardaccess->len,
	    ctx) || ctx->pace_ctx == NULL || (o = OBJ_nid2obj(ctx->pace_ctx->protocol)) == NULL ||
	    OBJ_length(o) == 0 || OBJ_length(o) > sizeof k->pace_oid) {
		EAC_CTX_clear_free(ctx);
		ERR_clear_error();
		msg(err, errlen, "%s: EF.CardAccess has no PACEInfo OpenPACE supports", c->profile);
		goto fail;
	}
	k->pace_oid_len = OBJ_length(o);
	memcpy(k->pace_oid, OBJ_get0_data(o), k->pace_oid_len);
	EAC_CTX_clear_free(ctx);

	/* Data group options. */
	for (int i = 0; i < k->nfiles; i++) {
		struct efile *f = &k->files[i];
		int r = 0;

		if (f->df != 1)
			continue;
		if (f->fid == 0x0103 && c->expiry[0] != '\0') {
			/* [APPLICATION 3] NumericString YYYYMMDD */
			unsigned char *b = malloc(12);

			if (b == NULL)
				goto fail;
			b[0] = 0x63, b[1] = 0x0A, b[2] = 0x12, b[3] = 0x08;
			memcpy(b + 4, c->expiry, 8);
			free(f->data);
			f->data = b;
			f->len = 12;
		}
		if (c->truncated_tlv)
			r = relabel_dg(f, 1, 0);
		if (r == 0 && c->oversized_tlv && f->fid == 0x0111)
			r = relabel_dg(f, -1, 0x7FFFFF);
		if (r != 0) {
			msg(err, errlen, "%s: a data group is not a TLV", c->profile);
			goto fail;
		}
	}

	strcpy(k->cvca_chr, default_car);
	if (c->pki[0] != '\0') {
		plen = strlen(c->profile);
		while (plen > 1 && c->profile[plen - 1] == '/')
			plen--;
		snprintf(profname, sizeof profname, "%.*s", (int)plen, c->profile);
		base = strrchr(profname, '/');
		base = base ? base + 1 : profname;
		memmove(profname, base, strlen(base) + 1);
		if (load_pki(k, profname, err, errlen) != 0)
			goto fail;
	}

	k->pin_retries = c->pin_retries;
	k->puk_uses = 10;
	k->deactivated = c->deactivated;
	k->transport = c->transport;
	strcpy(k->pin, c->transport && !c->pin_given ? "12345" : c->pin);
	k->date = c->today ? c->today : today_utc();
	return k;
fail:
	eidcard_free(k);
	return NULL;
}

void
eidcard_free(struct eidcard *k)
{
	if (k == NULL)
		return;
	sm_end(k);
	for (int i = 0; i < k->nfiles; i++)
		free(k->files[i].data);
	if (k->ca_key != NULL)
		OPENSSL_cleanse(k->ca_key, k->ca_key_len);
	free(k->ca_key);
	free(k->cvca);
	OPENSSL_cleanse(k, sizeof *k);
	free(k);
}

void
eidcard_reset(struct eidcard *k)
{
	sm_end(k);
	k->df = 0;
	k->ef_fid = -1;
	k->napdu = k->nprot_cmd = k->nprot_ans = 0;
}

int eidcard_pin_retries(const struct eidcard *k) { return k->pin_retries; }
int eidcard_puk_uses(const struct eidcard *k) { return k->puk_uses; }
int eidcard_in_transport_state(const struct eidcard *k) { return k->transport; }
int eidcard_sm_active(const struct eidcard *k) { return k->sm != NULL; }
int eidcard_removed(const struct eidcard *k) { return k->removed; }
long eidcard_apdu_count(const struct eidcard *k) { return k->napdu; }

size_t
eidcard_atr(const struct eidcard *k, const unsigned char **atr)
{
	*atr = k->c.atr;
	return k->c.atr_len;
}

/* ---- parsing ---- */

/* One BER-TLV at *pp before end: tags of up to 3 bytes, definite lengths of up to 3
 * bytes. 0 and *pp after it; -1 when it does not fit. */
static int
tlv_next(const unsigned char **pp, const unsigned char *end, unsigned *tag,
    const unsigned char **val, size_t *vlen)
{
	const unsigned char *p = *pp;
	size_t hl, len;

	if (p >= end)
		return -1;
	*tag = *p++;
	if ((*tag & 0x1F) == 0x1F) {
		for (int i = 0; ; i++) {
			if (p >= end || i == 2)
				return -1;
			*tag = *tag << 8 | *p;
			if (!(*p++ & 0x80))
				break;
		}
	}
	hl = der_len(p, (size_t)(end - p), &len);
	if (hl == 0)
		return -1;
	p += hl;
	if ((size_t)(end - p) < len)
		return -1;
	*val = p;
	*vlen = len;
	*pp = p + len;
	return 0;
}

/* The ISO 7816-4 cases 1-4, short and extended. */
static int
parse_apdu(const unsigned char *b, size_t n, struct cmd *a)
{
	memset(a, 0, sizeof *a);
	if (n < 4)
		return -1;
	a->cla = b[0], a->ins = b[1], a->p1 = b[2], a->p2 = b[3];
	if (n == 4)
		return 0;
	if (n == 5) {
		a->ne = b[4] ? b[4] : 256;
		return 0;
	}
	if (b[4] != 0) {		/* short Lc */
		a->nc = b[4];
		a->data = b + 5;
		if (n == 5 + a->nc)
			return 0;
		if (n == 6 + a->nc) {
			a->ne = b[n - 1] ? b[n - 1] : 256;
			return 0;
		}
		return -1;
	}
	a->ext = 1;
	if (n < 7)
		return -1;
	if (n == 7) {			/* extended Le only */
		a->ne = (size_t)b[5] << 8 | b[6];
		if (a->ne == 0)
			a->ne = 65536;
		return 0;
	}
	a->nc = (size_t)b[5] << 8 | b[6];
	a->data = b + 7;
	if (a->nc == 0)
		return -1;
	if (n == 7 + a->nc)
		return 0;
	if (n == 9 + a->nc) {
		a->ne = (size_t)b[n - 2] << 8 | b[n - 1];
		if (a->ne == 0)
			a->ne = 65536;
		return 0;
	}
	return -1;
}

static BUF_MEM *
bufmem(const unsigned char *p, size_t len)
{
	BUF_MEM *b = BUF_MEM_new();

	if (b == NULL || (len > 0 && !BUF_MEM_grow(b, len))) {
		BUF_MEM_free(b);
		return NULL;
	}
	if (len > 0)
		memcpy(b->data, p, len);
	b->length = len;
	return b;
}

static int
fault_at(const struct eidcard *k, enum eidcard_fault_kind kind, long n, unsigned *sw)
{
	for (int i = 0; i < k->c.nfaults; i++) {
		long at = k->c.faults[i].n;

		if (k->c.faults[i].kind != kind)
			continue;
		if (at == 0 && kind == EIDCARD_FAULT_REMOVE)
			at = 1;
		if (at == 0 || at == n) {
			if (sw != NULL)
				*sw = k->c.faults[i].sw;
			return 1;
		}
	}
	return 0;
}

/* ---- files: SELECT and READ BINARY ---- */

static int
sfi_to_fid(int df, int sfi)
{
	if (df)
		return sfi >= 1 && sfi <= 22 ? 0x0100 | sfi : -1;
	switch (sfi) {
	case 0x1B: return 0x011B;
	case 0x1C: return 0x011C;
	case 0x1D: return 0x011D;
	case 0x1E: return 0x2F00;
	default: return -1;
	}
}

static int
chat_bit(const unsigned char chat[CHAT_LEN], int bit)
{
	if (bit < 0 || bit >= CHAT_LEN * 8)
		return 0;
	return (chat[CHAT_LEN - 1 - bit / 8] >> (bit % 8)) & 1;
}

/* Who may read what: EF.CardAccess and EF.DIR always; EF.CardSecurity under SM after any
 * PACE; EF.ChipSecurity after TA as a privileged terminal; a data group after TA and CA
 * with the read right (bit DG + 7) in the effective CHAT, not when the eID function is
 * deactivated, and after PACE with the CAN only with the right "CAN allowed" (bit 4,
 * TR-03110 part 4: an authentication terminal reads with the CAN only with it). */
static int
readable(const struct eidcard *k, int df, int fid)
{
	if (df == 0 && (fid == 0x011C || fid == 0x2F00))
		return 1;
	if (k->sm == NULL)
		return 0;
	if (df == 0 && fid == 0x011D)
		return 1;
	if (df == 0 && fid == 0x011B)
		return k->ta_done && chat_bit(k->eff_chat, 3);
	if (df == 1)
		return k->ta_done && k->ca_done && !k->deactivated &&
		    (k->sm_pwd != PWD_CAN || chat_bit(k->eff_chat, 4)) &&
		    chat_bit(k->eff_chat, (fid & 0xFF) + 7);
	return 0;
}

static unsigned
do_select(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	const struct efile *f;
	int fid;

	if (a->p2 != 0x0C && a->p2 != 0x04 && a->p2 != 0x00)
		return 0x6A86;
	if (a->p1 == 0x04) {
		if (a->nc == sizeof eid_aid && memcmp(a->data, eid_aid, sizeof eid_aid) == 0) {
			for (int i = 0; i < k->nfiles; i++)
				if (k->files[i].df == 1) {
					k->df = 1;
					k->ef_fid = -1;
					return 0x9000;
				}
		}
		return 0x6A82;
	}
	if (a->p1 != 0x00 && a->p1 != 0x02)
		return 0x6A86;
	if (a->p1 == 0x00 && (a->nc == 0 || (a->nc == 2 && a->data[0] == 0x3F &&
	    a->data[1] == 0x00))) {
		k->df = 0;
		k->ef_fid = -1;
		return 0x9000;
	}
	if (a->nc != 2)
		return 0x6700;
	fid = a->data[0] << 8 | a->data[1];
	if ((f = find_file(k, k->df, fid)) == NULL)
		return 0x6A82;
	k->ef_fid = fid;
	if (a->p2 == 0x0C)
		return 0x9000;
	/* FCP: 62 { 80 size, 82 transparent EF, 83 FID } */
	{
		const unsigned char fcp[] = { 0x62, 0x0C, 0x80, 0x02, (unsigned char)(f->len >> 8),
		    (unsigned char)f->len, 0x82, 0x01, 0x01, 0x83, 0x02, a->data[0], a->data[1] };
		size_t n = sizeof fcp;

		if (a->ne != 0 && a->ne < n)
			n = a->ne;
		memcpy(out, fcp, n);
		*olen = n;
		return 0x9000;
	}
}

static unsigned
do_read_binary(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	const struct efile *f;
	size_t offset, n, rest;
	int fid;

	if (a->p1 & 0x80) {
		if ((a->p1 & 0x60) != 0)
			return 0x6A86;
		fid = sfi_to_fid(k->df, a->p1 & 0x1F);
		if (fid < 0)
			return 0x6A82;
		offset = a->p2;
	} else {
		fid = k->ef_fid;
		if (fid < 0)
			return 0x6986;
		offset = (size_t)a->p1 << 8 | a->p2;
	}
	if (a->nc != 0 || a->ne == 0)
		return 0x6700;
	if ((f = find_file(k, k->df, fid)) == NULL)
		return 0x6A82;
	k->ef_fid = fid;
	if (!readable(k, k->df, fid))
		return 0x6982;
	if (offset > f->len || (offset == f->len && f->len > 0))
		return 0x6B00;
	rest = f->len - offset;
	n = rest < a->ne ? rest : a->ne;
	if (n > a->cap)
		n = a->cap;
	memcpy(out, f->data + offset, n);
	*olen = n;
	/* Le 00 (or 0000) asks for everything there is; a shorter answer is no warning then,
	 * nor when the wire could not carry more. */
	if (n == rest && n < a->ne && a->ne != 256 && a->ne != 65536)
		return 0x6282;
	return 0x9000;
}

/* ---- PACE ---- */

/* 7C { tag value ... } into out. */
static size_t
dad(unsigned char *out, const unsigned tags[], const BUF_MEM *vals[], int n)
{
	size_t inner = 0, w = 0;

	for (int i = 0; i < n; i++) {
		unsigned char tmp[4];

		inner += 1 + put_len(tmp, vals[i]->length) + vals[i]->length;
	}
	out[w++] = 0x7C;
	w += put_len(out + w, inner);
	for (int i = 0; i < n; i++) {
		out[w++] = (unsigned char)tags[i];
		w += put_len(out + w, vals[i]->length);
		memcpy(out + w, vals[i]->data, vals[i]->length);
		w += vals[i]->length;
	}
	return w;
}

/* The only object inside the 7C of a General Authenticate; tag 0 means 7C must be empty.
 * -1 when malformed. */
static int
dad_value(const struct cmd *a, unsigned want, const unsigned char **v, size_t *vlen)
{
	const unsigned char *p = a->data, *end = a->data + a->nc, *in, *inend;
	unsigned tag;
	size_t len;

	if (tlv_next(&p, end, &tag, &in, &len) != 0 || tag != 0x7C || p != end)
		return -1;
	inend = in + len;
	if (want == 0)
		return len == 0 ? 0 : -1;
	if (tlv_next(&in, inend, &tag, v, vlen) != 0 || tag != want || in != inend ||
	    *vlen == 0)
		return -1;
	return 0;
}

/* MSE:Set AT for PACE: 80 OID, 83 password reference, [7F4C CHAT]. */
static unsigned
mse_pace(struct eidcard *k, const struct cmd *a)
{
	const unsigned char *p = a->data, *end = a->data + a->nc, *v, *oid = NULL;
	size_t vlen, oid_len = 0;
	unsigned tag;
	int ref = -1, chat_set = 0;
	unsigned char chat[CHAT_LEN];
	const char *secret;

	memset(chat, 0, sizeof chat);
	clear_pending_pace(k);
	while (p < end) {
		if (tlv_next(&p, end, &tag, &v, &vlen) != 0)
			return 0x6A80;
		if (tag == 0x80) {
			oid = v;
			oid_len = vlen;
		} else if (tag == 0x83) {
			if (vlen != 1)
				return 0x6A80;
			ref = v[0];
		} else if (tag == 0x7F4C) {
			/* 06 terminal type, 53 relative authorization */
			const unsigned char *q = v, *qend = v + vlen, *w;
			size_t wl;
			unsigned t;

			if (tlv_next(&q, qend, &t, &w, &wl) != 0 || t != 0x06 ||
			    tlv_next(&q, qend, &t, &w, &wl) != 0 || t != 0x53 || q != qend ||
			    wl < 1 || wl > CHAT_LEN)
				return 0x6A80;
			memcpy(chat + CHAT_LEN - wl, w, wl);
			chat_set = 1;
		} else if (tag != 0x84 && tag != 0x67 && tag != 0x65)
			return 0x6A80;
	}
	if (oid == NULL || oid_len != k->pace_oid_len || memcmp(oid, k->pace_oid, oid_len) != 0)
		return 0x6A80;
	if (ref < PWD_CAN || ref > PWD_PUK)
		return 0x6A80;		/* MRZ: not supported (an ID card, not a passport) */
	secret = ref == PWD_CAN ? k->c.can : ref == PWD_PIN ? k->pin : k->c.puk;
	if ((k->p = EAC_CTX_new()) == NULL ||
	    !EAC_CTX_init_ef_cardaccess(k->cardaccess->data, k->cardaccess->len, k->p) ||
	    (k->psec = PACE_SEC_new(secret, strlen(secret), (enum s_type)ref)) == NULL) {
		clear_pending_pace(k);
		ERR_clear_error();
		return 0x6F00;
	}
	k->pstep = 0;
	k->pref = ref;
	k->p_can_sm = a->sm && k->sm != NULL && k->sm_pwd == PWD_CAN;
	memcpy(k->pchat, chat, CHAT_LEN);
	k->pchat_set = chat_set;
	if (ref == PWD_PIN) {
		if (k->deactivated)
			return 0x6283;
		return k->pin_retries == 3 ? 0x9000 : 0x63C0 | (unsigned)k->pin_retries;
	}
	if (ref == PWD_PUK && k->puk_uses == 0)
		return 0x63C0;
	return 0x9000;
}

/* A Diffie-Hellman public value is an unsigned integer as long as the modulus p,
 * leading zero bytes kept (TR-03110 part 3 D.3.4; I2OS of TR-03111 3.1.2 with the length
 * of p): dh_len is that length (0 for a curve, whose points OpenSSL pads itself);
 * dh_pad pads what OpenPACE gives, a byte short one key in 256. The card sends its keys
 * so and takes the terminal's only so (6A80). */
static size_t
dh_len(const EVP_PKEY *dp)
{
	int n;

	if (dp == NULL || EVP_PKEY_base_id(dp) == EVP_PKEY_EC || (n = EVP_PKEY_get_size(dp)) <= 0)
		return 0;
	return (size_t)n;
}

static int
dh_pad(const EVP_PKEY *dp, BUF_MEM *key)
{
	size_t n = dh_len(dp), len = key->length;

	if (n == 0 || len == n)
		return 0;
	if (len > n || !BUF_MEM_grow(key, n))
		return -1;
	memmove(key->data + n - len, key->data, len);
	memset(key->data, 0, n - len);
	return 0;
}

static unsigned
ga_pace(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	static const unsigned in_tags[] = { 0x00, 0x81, 0x83, 0x85 };
	const unsigned char *v = NULL;
	size_t vlen = 0;
	BUF_MEM *in = NULL, *r1 = NULL, *r2 = NULL;
	unsigned sw = 0x9000;
	int step = k->pstep;

	if (dad_value(a, in_tags[step], &v, &vlen) != 0) {
		clear_pending_pace(k);
		return 0x6A80;
	}
	if (step > 0 && (in = bufmem(v, vlen)) == NULL) {
		clear_pending_pace(k);
		return 0x6F00;
	}
	switch (step) {
	case 0:
		if (k->pref == PWD_PIN && k->pin_retries == 0) {
			clear_pending_pace(k);
			return 0x6983;
		}
		if (k->pref == PWD_PIN && k->pin_retries == 1 && !k->p_can_sm) {
			clear_pending_pace(k);
			return 0x6985;
		}
		if (k->pref == PWD_PUK && k->puk_uses == 0) {
			clear_pending_pace(k);
			return 0x6983;
		}
		if ((r1 = PACE_STEP1_enc_nonce(k->p, k->psec)) == NULL) {
			sw = 0x6F00;
			break;
		}
		*olen = dad(out, (const unsigned[]){ 0x80 }, (const BUF_MEM *[]){ r1 }, 1);
		break;
	case 1:
		if ((r1 = PACE_STEP3A_generate_mapping_data(k->p)) == NULL ||
		    dh_pad(k->p->pace_ctx->static_key, r1) != 0) {
			sw = 0x6F00;
			break;
		}
		if ((dh_len(k->p->pace_ctx->static_key) != 0 &&
		    in->length != dh_len(k->p->pace_ctx->static_key)) ||
		    !PACE_STEP3A_map_generator(k->p, in)) {
			sw = 0x6A80;
			break;
		}
		*olen = dad(out, (const unsigned[]){ 0x82 }, (const BUF_MEM *[]){ r1 }, 1);
		break;
	case 2:
		if ((r1 = PACE_STEP3B_generate_ephemeral_key(k->p)) == NULL ||
		    dh_pad(k->p->pace_ctx->static_key, r1) != 0) {
			sw = 0x6F00;
			break;
		}
		/* The terminal must not mirror the card's key (TR-03110 part 3, A.3.1). */
		if ((dh_len(k->p->pace_ctx->static_key) != 0 &&
		    in->length != dh_len(k->p->pace_ctx->static_key)) ||
		    (in->length == r1->length && memcmp(in->data, r1->data, r1->length) == 0) ||
		    !PACE_STEP3B_compute_shared_secret(k->p, in)) {
			sw = 0x6A80;
			break;
		}
		if (!PACE_STEP3C_derive_keys(k->p)) {
			sw = 0x6F00;
			break;
		}
		*olen = dad(out, (const unsigned[]){ 0x84 }, (const BUF_MEM *[]){ r1 }, 1);
		k->p_pcd_eph = in;
		k->p_picc_eph = r1;
		in = r1 = NULL;
		break;
	case 3:
		if (PACE_STEP3D_verify_authentication_token(k->p, in) != 1) {
			/* The wrong password: count it down. */
			if (k->pref == PWD_PIN) {
				if (k->pin_retries > 0)
					k->pin_retries--;
				sw = 0x63C0 | (unsigned)k->pin_retries;
			} else if (k->pref == PWD_PUK) {
				if (k->puk_uses > 0)
					k->puk_uses--;
				sw = 0x63C0 | (unsigned)(k->puk_uses > 15 ? 15 : k->puk_uses);
			} else
				sw = 0x6300;
			break;
		}
		if ((r1 = PACE_STEP3D_compute_authentication_token(k->p, k->p_pcd_eph)) == NULL) {
			sw = 0x6F00;
			break;
		}
		if (k->pref == PWD_PIN)
			k->pin_retries = 3;
		if (k->pchat_set) {
			if ((r2 = bufmem((const unsigned char *)k->cvca_chr,
			    strlen(k->cvca_chr))) == NULL) {
				sw = 0x6F00;
				break;
			}
			*olen = dad(out, (const unsigned[]){ 0x86, 0x87 },
			    (const BUF_MEM *[]){ r1, r2 }, 2);
		} else
			*olen = dad(out, (const unsigned[]){ 0x86 }, (const BUF_MEM *[]){ r1 }, 1);
		if (!EAC_CTX_set_encryption_ctx(k->p, EAC_ID_PACE)) {
			sw = 0x6F00;
			break;
		}
		/* The card checks certificate dates itself (against its own date). */
		TA_disable_checks(k->p);
		if (k->ca_key != NULL &&
		    !CA_set_key(k->p, k->ca_key, k->ca_key_len, NULL, 0)) {
			sw = 0x6F00;
			break;
		}
		k->pace_switch = 1;	/* after the answer has gone out */
		break;
	}
	BUF_MEM_free(in);
	BUF_MEM_free(r1);
	BUF_MEM_free(r2);
	ERR_clear_error();
	if (sw != 0x9000) {
		*olen = 0;
		clear_pending_pace(k);
	} else if (step < 3)
		k->pstep++;
	else
		k->pstep = -1;
	return sw;
}

/* The new PACE channel replaces the old one: keys, SSC 0, rights from its CHAT. */
static void
pace_finish(struct eidcard *k)
{
	EAC_CTX *p = k->p;
	BUF_MEM *eph = k->p_picc_eph;
	int ref = k->pref;

	k->p = NULL;
	k->p_picc_eph = NULL;
	sm_end(k);
	k->sm = p;
	k->picc_eph = eph;
	k->sm_pwd = ref == PWD_PIN && k->transport ? PWD_TRANSPORT : ref;
	k->ssc = 0;
	memcpy(k->pace_chat, k->pchat, CHAT_LEN);
	k->pace_chat_set = k->pchat_set;
}

/* ---- Terminal Authentication ---- */

/* Comp() of TR-03110 part 3 A.2.2.3 as a card computes it, of a public key as it travels:
 * of an EC point (04 x y) its x coordinate, as long as the field (FE2OS of TR-03111
 * 3.1.3), of a DH key its SHA-1. dp: the key's domain parameters. Not OpenPACE's Comp,
 * which drops the leading zero bytes of x: one time in 256 it and a terminal that
 * follows the standard (AusweisApp, bb-eid) disagree (issue 13). */
static BUF_MEM *
comp(const EVP_PKEY *dp, const BUF_MEM *pub)
{
	const unsigned char *v = (const unsigned char *)pub->data;
	unsigned char md[EVP_MAX_MD_SIZE], whole[1024];
	unsigned mdlen = 0;
	size_t n = dh_len(dp);

	if (EVP_PKEY_base_id(dp) == EVP_PKEY_EC) {
		if (pub->length < 3 || pub->length % 2 == 0 || v[0] != 0x04)
			return NULL;
		return bufmem(v + 1, pub->length / 2);
	}
	/* SHA-1 of the key as long as p: a key the card holds as a number is hashed in
	 * that form whatever bytes it came in. */
	if (pub->length == 0 || n == 0 || n > sizeof whole || pub->length > n)
		return NULL;
	memset(whole, 0, n - pub->length);
	memcpy(whole + n - pub->length, v, pub->length);
	if (EVP_Digest(whole, n, md, &mdlen, EVP_sha1(), NULL) != 1)
		return NULL;
	return bufmem(md, mdlen);
}

static unsigned
mse_dst(struct eidcard *k, const struct cmd *a)
{
	const unsigned char *p = a->data, *end = a->data + a->nc, *v;
	size_t vlen;
	unsigned tag;

	k->dst_set = 0;
	if (tlv_next(&p, end, &tag, &v, &vlen) != 0 || tag != 0x83 || p != end || vlen == 0)
		return 0x6A80;
	if (k->ta_chr[0] != '\0' && vlen == strlen(k->ta_chr) &&
	    memcmp(v, k->ta_chr, vlen) == 0) {
		k->dst_set = 1;		/* the chain goes on from the last certificate */
		return 0x9000;
	}
	if (k->cvca != NULL && vlen == strlen(k->cvca_chr) && memcmp(v, k->cvca_chr, vlen) == 0) {
		/* A new chain from the trust anchor. */
		if (!EAC_CTX_init_ta(k->sm, NULL, 0, k->cvca, k->cvca_len)) {
			ERR_clear_error();
			return 0x6F00;
		}
		TA_disable_checks(k->sm);
		memcpy(k->chain_chat, k->cvca_chat, CHAT_LEN);
		strcpy(k->ta_chr, k->cvca_chr);
		/* The challenge stays: AusweisApp asks for it right after PACE, before the
		 * chain (TR-03124 EAC1), and real cards keep it. */
		k->ta_term = k->ta_at_set = k->ta_done = 0;
		k->ca_at_set = k->ca_done = 0;
		k->dst_set = 1;
		return 0x9000;
	}
	return 0x6A88;
}

static unsigned
pso_verify(struct eidcard *k, const struct cmd *a)
{
	const unsigned char *p = a->data, *end = a->data + a->nc, *v, *q;
	size_t vlen, n = 0;
	unsigned tag;
	unsigned char *cert;
	CVC_CERT *cv = NULL;
	unsigned char chat[CHAT_LEN];
	long eff, exp;
	char *chr = NULL;
	unsigned sw = 0x9000;
	int role;

	if (a->p1 != 0x00 || a->p2 != 0xBE)
		return 0x6A86;
	if (tlv_next(&p, end, &tag, &v, &vlen) != 0 || tag != 0x7F4E ||
	    tlv_next(&p, end, &tag, &v, &vlen) != 0 || tag != 0x5F37 || p != end)
		return 0x6A80;
	if (!k->dst_set)
		return 0x6985;
	if ((cert = malloc(a->nc + 8)) == NULL)
		return 0x6F00;
	cert[n++] = 0x7F;
	cert[n++] = 0x21;
	n += put_len(cert + n, a->nc);
	memcpy(cert + n, a->data, a->nc);
	n += a->nc;
	q = cert;
	cv = CVC_d2i_CVC_CERT(&cv, &q, (long)n);
	if (cv == NULL || q != cert + n || cv->body == NULL || cert_chat(cv, chat) != 0 ||
	    (chr = CVC_get_chr(cv)) == NULL || strlen(chr) >= sizeof k->ta_chr) {
		sw = 0x6A80;
		goto done;
	}
	eff = cvc_date(cv->body->certificate_effective_date);
	exp = cvc_date(cv->body->certificate_expiration_date);
	role = CVC_get_role(cv->body->chat);
	if (eff < 0 || exp < 0 || (int)role < 0) {
		sw = 0x6A80;
		goto done;
	}
	/* Expired for the card's date, or not signed by the one before: 6300. */
	if (exp < k->date || TA_STEP2_import_certificate(k->sm, cert, n) != 1) {
		sw = 0x6300;
		k->dst_set = 0;
		goto done;
	}
	/* Cards have no clock: a verified certificate's effective date moves theirs on. */
	if (eff > k->date)
		k->date = eff;
	for (int i = 0; i < CHAT_LEN; i++)
		k->chain_chat[i] &= chat[i];
	strcpy(k->ta_chr, chr);
	k->ta_term = role == CVC_Terminal;
	k->dst_set = 0;
done:
	OPENSSL_free(chr);
	CVC_CERT_free(cv);
	free(cert);
	ERR_clear_error();
	return sw;
}

static unsigned
mse_ta(struct eidcard *k, const struct cmd *a)
{
	const unsigned char *p = a->data, *end = a->data + a->nc, *v, *start;
	const unsigned char *oid = NULL, *chr = NULL, *comp = NULL, *aux = NULL;
	size_t vlen, oid_len = 0, chr_len = 0, comp_len = 0, aux_len = 0;
	const ASN1_OBJECT *o;
	unsigned tag;

	k->ta_at_set = 0;
	while (p < end) {
		start = p;
		if (tlv_next(&p, end, &tag, &v, &vlen) != 0)
			return 0x6A80;
		switch (tag) {
		case 0x80: oid = v, oid_len = vlen; break;
		case 0x83: chr = v, chr_len = vlen; break;
		case 0x91: comp = v, comp_len = vlen; break;
		case 0x67: aux = start, aux_len = (size_t)(p - start); break;	/* with its tag */
		default: return 0x6A80;
		}
	}
	if (oid == NULL || chr == NULL || comp == NULL || comp_len == 0)
		return 0x6A80;
	if (!k->ta_term || chr_len != strlen(k->ta_chr) || memcmp(chr, k->ta_chr, chr_len) != 0)
		return 0x6A88;
	if ((o = OBJ_nid2obj(k->sm->ta_ctx->protocol)) == NULL ||
	    oid_len != (size_t)OBJ_length(o) || memcmp(oid, OBJ_get0_data(o), oid_len) != 0)
		return 0x6A80;
	BUF_MEM_free(k->ta_comp);
	BUF_MEM_free(k->ta_aux);
	k->ta_aux = NULL;
	if ((k->ta_comp = bufmem(comp, comp_len)) == NULL ||
	    (aux != NULL && (k->ta_aux = bufmem(aux, aux_len)) == NULL))
		return 0x6F00;
	k->ta_at_set = 1;
	return 0x9000;
}

static unsigned
get_challenge(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	if (a->p1 != 0 || a->p2 != 0)
		return 0x6A86;
	if (a->nc != 0 || a->ne < 8)
		return 0x6700;
	/* Any time under PACE's secure messaging: the eID-Client gets it right after PACE
	 * for the eID-Server's signature (EAC1), before MSE:Set DST, PSO:Verify Certificate
	 * and MSE:Set AT, which keep it; EXTERNAL AUTHENTICATE uses it once. */
	if (RAND_bytes(k->ta_challenge, sizeof k->ta_challenge) != 1) {
		ERR_clear_error();
		return 0x6F00;
	}
	memcpy(out, k->ta_challenge, 8);
	*olen = 8;
	k->ta_nonce = 1;
	return 0x9000;
}

static unsigned
external_authenticate(struct eidcard *k, const struct cmd *a)
{
	BUF_MEM *sig, *id_picc = NULL, *nonce = NULL;
	EVP_PKEY *pk;
	int ok;

	if (a->p1 != 0 || a->p2 != 0)
		return 0x6A86;
	if (a->nc == 0)
		return 0x6700;
	if (!k->ta_nonce || !k->ta_at_set)
		return 0x6985;
	k->ta_nonce = 0;	/* one try per challenge */
	/* ECDSA: r || s, each as long as the group's order (TR-03110 part 3 D.3.3 refers to
	 * TR-03111 5.2.1). OpenPACE would split any even length in halves; a card does not. */
	pk = k->sm->ta_ctx->pub_key;
	if (pk != NULL && EVP_PKEY_base_id(pk) == EVP_PKEY_EC &&
	    (EVP_PKEY_get_bits(pk) <= 0 || a->nc != 2 * (((size_t)EVP_PKEY_get_bits(pk) + 7) / 8))) {
		k->ta_at_set = 0;
		return 0x6300;
	}
	/* ID_PICC: the compressed ephemeral PACE key of this card (TR-03110 part 2, 3.3).
	 * The challenge into OpenPACE's TA context, which MSE:Set DST made anew since. */
	if ((sig = bufmem(a->data, a->nc)) == NULL ||
	    (id_picc = comp(k->sm->pace_ctx->ka_ctx->key, k->picc_eph)) == NULL ||
	    (nonce = bufmem(k->ta_challenge, sizeof k->ta_challenge)) == NULL ||
	    !TA_STEP4_set_nonce(k->sm, nonce)) {
		BUF_MEM_free(sig);
		BUF_MEM_free(id_picc);
		BUF_MEM_free(nonce);
		ERR_clear_error();
		return 0x6F00;
	}
	BUF_MEM_free(nonce);
	ok = TA_STEP6_verify(k->sm, k->ta_comp, id_picc, k->ta_aux, sig);
	BUF_MEM_free(sig);
	BUF_MEM_free(id_picc);
	ERR_clear_error();
	if (ok != 1) {
		k->ta_at_set = 0;
		return 0x6300;
	}
	k->ta_done = 1;
	for (int i = 0; i < CHAT_LEN; i++)
		k->eff_chat[i] = k->pace_chat_set ? (unsigned char)(k->pace_chat[i] &
		    k->chain_chat[i]) : 0;
	return 0x9000;
}

/* ---- Chip Authentication ---- */

static unsigned
mse_ca(struct eidcard *k, const struct cmd *a)
{
	const unsigned char *p = a->data, *end = a->data + a->nc, *v, *oid = NULL;
	size_t vlen, oid_len = 0;
	const ASN1_OBJECT *o;
	unsigned tag;
	long key_id = -1;

	k->ca_at_set = 0;
	while (p < end) {
		if (tlv_next(&p, end, &tag, &v, &vlen) != 0)
			return 0x6A80;
		if (tag == 0x80)
			oid = v, oid_len = vlen;
		else if (tag == 0x84) {
			if (vlen < 1 || vlen > 2)
				return 0x6A80;
			key_id = vlen == 1 ? v[0] : v[0] << 8 | v[1];
		} else
			return 0x6A80;
	}
	if (oid == NULL)
		return 0x6A80;
	if (!k->ta_done || k->sm->ca_ctx == NULL || k->ca_key == NULL)
		return 0x6982;
	if ((o = OBJ_nid2obj(k->sm->ca_ctx->protocol)) == NULL ||
	    oid_len != (size_t)OBJ_length(o) || memcmp(oid, OBJ_get0_data(o), oid_len) != 0)
		return 0x6A80;
	if (key_id >= 0 && key_id != k->sm->ca_ctx->id)
		return 0x6A88;
	k->ca_at_set = 1;
	return 0x9000;
}

static unsigned
ga_ca(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	const unsigned char *v;
	size_t vlen;
	BUF_MEM *pub = NULL, *nonce = NULL, *token = NULL, *c = NULL;
	unsigned sw = 0x9000;

	if (!k->ca_at_set)
		return 0x6985;
	if (dad_value(a, 0x80, &v, &vlen) != 0)
		return 0x6A80;
	k->ca_at_set = 0;
	if ((pub = bufmem(v, vlen)) == NULL)
		return 0x6F00;
	/* The key must be the one whose compressed form TA signed (91): Comp() of the whole
	 * key, not OpenPACE's CA_STEP3_check_pcd_pubkey (its Comp drops leading zeros). */
	if ((c = comp(k->sm->ca_ctx->ka_ctx->key, pub)) == NULL || k->ta_comp == NULL ||
	    c->length != k->ta_comp->length ||
	    memcmp(c->data, k->ta_comp->data, c->length) != 0 ||
	    !CA_STEP4_compute_shared_secret(k->sm, pub))
		sw = 0x6A80;
	else if (!CA_STEP5_derive_keys(k->sm, pub, &nonce, &token))
		sw = 0x6F00;
	else {
		*olen = dad(out, (const unsigned[]){ 0x81, 0x82 },
		    (const BUF_MEM *[]){ nonce, token }, 2);
		k->ca_switch = 1;	/* the answer still goes out under the PACE keys */
	}
	BUF_MEM_free(pub);
	BUF_MEM_free(c);
	BUF_MEM_free(nonce);
	BUF_MEM_free(token);
	ERR_clear_error();
	return sw;
}

/* ---- PIN management ---- */

static unsigned
reset_retry_counter(struct eidcard *k, const struct cmd *a)
{
	if (a->p1 == 0x02 && a->p2 == 0x03) {
		if (k->sm_pwd != PWD_PIN && k->sm_pwd != PWD_TRANSPORT)
			return 0x6982;
		if (a->nc != 6)
			return 0x6A80;
		for (size_t i = 0; i < 6; i++)
			if (!isdigit(a->data[i]))
				return 0x6A80;
		memcpy(k->pin, a->data, 6);
		k->pin[6] = '\0';
		k->pin_retries = 3;
		k->transport = 0;
		if (k->sm_pwd == PWD_TRANSPORT)
			k->sm_pwd = PWD_PIN;
		return 0x9000;
	}
	if (a->p1 == 0x03 && a->p2 == 0x03) {
		if (k->sm_pwd != PWD_PUK)
			return 0x6982;
		if (a->nc != 0)
			return 0x6A80;
		if (k->puk_uses == 0)
			return 0x6983;
		k->puk_uses--;
		k->pin_retries = 3;
		return 0x9000;
	}
	return 0x6A86;
}

/* ---- dispatch ---- */

/* A command that only exists with a data field came without one: 6700, wrong length
 * (ISO/IEC 7816-4:2013 5.6, table 6: Nc is not what the command's case needs), before
 * anything else is looked at. MSE:Set AT or DST, PSO:Verify Certificate, General
 * Authenticate, External Authenticate. A data field that is there but wrong (DOs that do
 * not parse, a missing or unknown DO, an OID the card does not run) is 6A80, incorrect
 * parameters in the command data field, as TR-03110 part 3 B.11 lists for these commands.
 * AusweisApp ends a PACE channel on a basic reader with a plain MSE:Set AT without data
 * and counts on the 6700. */
static int
lacks_data(const struct cmd *a)
{
	if (a->nc != 0)
		return 0;
	switch (a->ins) {
	case 0x22:
		return (a->p1 == 0xC1 || a->p1 == 0x81 || a->p1 == 0x41) &&
		    (a->p2 == 0xA4 || a->p2 == 0xB6);
	case 0x2A:
		return a->p1 == 0x00 && a->p2 == 0xBE;
	case 0x86:
	case 0x82:
		return 1;
	default:
		return 0;
	}
}

static unsigned
dispatch(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	*olen = 0;
	if (lacks_data(a)) {
		/* A PACE under way ends, as with any other failed step of it. */
		if (a->ins == 0x86 || (a->ins == 0x22 && a->p1 == 0xC1))
			clear_pending_pace(k);
		return 0x6700;
	}
	switch (a->ins) {
	case 0xA4:
		return do_select(k, a, out, olen);
	case 0xB0:
		return do_read_binary(k, a, out, olen);
	case 0x22:
		if (a->p1 == 0xC1 && a->p2 == 0xA4)
			return mse_pace(k, a);
		if (!a->sm)
			return 0x6982;	/* TA and CA need PACE first */
		if (a->p1 == 0x81 && a->p2 == 0xB6)
			return mse_dst(k, a);
		if (a->p1 == 0x81 && a->p2 == 0xA4)
			return mse_ta(k, a);
		if (a->p1 == 0x41 && a->p2 == 0xA4)
			return mse_ca(k, a);
		return 0x6A86;
	case 0x86:
		if (a->p1 != 0 || a->p2 != 0)
			return 0x6A86;
		if (k->pstep >= 0)
			return ga_pace(k, a, out, olen);
		if (a->sm)
			return ga_ca(k, a, out, olen);
		return 0x6985;
	case 0x2A:
		return a->sm ? pso_verify(k, a) : 0x6982;
	case 0x84:
		return a->sm ? get_challenge(k, a, out, olen) : 0x6982;
	case 0x82:
		return a->sm ? external_authenticate(k, a) : 0x6982;
	case 0x2C:
		return a->sm ? reset_retry_counter(k, a) : 0x6982;
	default:
		return 0x6D00;
	}
}

/* GET RESPONSE: the next piece of an answer that did not fit its Ne. */
static unsigned
get_response(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	if (a->p1 != 0 || a->p2 != 0)
		return 0x6A86;
	if (a->nc != 0)
		return 0x6700;
	if (k->rest_len == 0)
		return 0x6985;
	memcpy(out, k->rest, k->rest_len);
	*olen = k->rest_len;
	k->rest_len = 0;
	return 0x9000;
}

/* A command and its answer, which never exceeds Ne (ISO/IEC 7816-4:2013 5.1: Le 00 is
 * 256, 00 00 65536, no Le no data; and what the wire carries, a->cap). What does not fit
 * waits for GET RESPONSE, announced by 61XX (5.3.4, response chaining; 5.6: XX the bytes
 * still available, 00 for 256 or more). Not 6CXX (wrong Le, XX the exact length): that
 * has the terminal send the same command again, and a step of General Authenticate
 * cannot be run twice. */
static unsigned
run(struct eidcard *k, const struct cmd *a, unsigned char *out, size_t *olen)
{
	size_t lim = a->ne < a->cap ? a->ne : a->cap, left;
	unsigned sw;

	if (a->ins == 0xC0)
		sw = get_response(k, a, out, olen);
	else
		sw = dispatch(k, a, out, olen);
	if (*olen <= lim)
		return sw;
	left = *olen - lim;
	memcpy(k->rest, out + lim, left);
	k->rest_len = left;
	*olen = lim;
	return 0x6100 | (left > 255 ? 0 : (unsigned)left);
}

static long
answer(unsigned char *resp, size_t room, const unsigned char *data, size_t n, unsigned sw)
{
	if (n + 2 > room) {
		n = 0;
		sw = 0x6F00;
	}
	if (n > 0)
		memmove(resp, data, n);
	resp[n] = (unsigned char)(sw >> 8);
	resp[n + 1] = (unsigned char)sw;
	return (long)(n + 2);
}

/* While a secure channel is up, a plain SELECT of the MF, EF.CardAccess or EF.DIR and a
 * plain READ BINARY of those two do not disturb it. */
static int
plain_allowed_in_sm(const struct eidcard *k, const struct cmd *a)
{
	if (a->ins == 0xA4 && (a->p1 == 0x00 || a->p1 == 0x02) && k->df == 0) {
		if (a->nc == 0)
			return a->p1 == 0x00;
		if (a->nc != 2)
			return 0;
		return (a->data[0] == 0x3F && a->data[1] == 0x00) ||
		    (a->data[0] == 0x01 && a->data[1] == 0x1C) ||
		    (a->data[0] == 0x2F && a->data[1] == 0x00);
	}
	if (a->ins == 0xA4 && a->p1 == 0x00 && a->nc == 2 && a->data[0] == 0x3F &&
	    a->data[1] == 0x00)
		return 1;
	if (a->ins == 0xB0 && k->df == 0) {
		if (a->p1 & 0x80)
			return (a->p1 & 0x1F) == 0x1C || (a->p1 & 0x1F) == 0x1E;
		return k->ef_fid == 0x011C || k->ef_fid == 0x2F00;
	}
	return 0;
}

static long
plain(struct eidcard *k, struct cmd *a, unsigned char *resp, size_t room)
{
	size_t olen = 0;
	unsigned sw;

	if ((a->cla & ~0x10) != 0x00)
		return answer(resp, room, NULL, 0, 0x6E00);
	if (a->ext && k->c.no_extended)
		return answer(resp, room, NULL, 0, 0x6700);
	/* A plain command ends the secure channel; one without the data its case needs is
	 * still 6700 (the length is checked first). */
	if (k->sm != NULL && !plain_allowed_in_sm(k, a)) {
		sm_end(k);
		return answer(resp, room, NULL, 0, lacks_data(a) ? 0x6700 : 0x6982);
	}
	if ((a->cla & 0x10) && a->ins != 0x86)
		return answer(resp, room, NULL, 0, 0x6884);	/* chaining only for PACE */
	a->cap = a->ext ? 65536 : 256;
	sw = run(k, a, k->out, &olen);
	if (k->pace_switch)
		pace_finish(k);
	return answer(resp, room, k->out, olen, sw);
}

/* The protected answer: [DO87] DO99 DO8E, SW; resp has room bytes. */
static long
wrap(struct eidcard *k, const unsigned char *data, size_t dlen, unsigned sw,
    unsigned char *resp, size_t room)
{
	BUF_MEM *in = NULL, *padded = NULL, *ct = NULL, *mac = NULL, *macin = NULL;
	unsigned char *w = k->resp_tmp;
	size_t n = 0, body;
	long r;

	if (dlen > FILE_MAX)
		dlen = 0, sw = 0x6F00;
	EAC_increment_ssc(k->sm);
	k->ssc++;
	k->nprot_ans++;
	if (dlen > 0) {
		if ((in = bufmem(data, dlen)) == NULL ||
		    (padded = EAC_add_iso_pad(k->sm, in)) == NULL ||
		    (ct = EAC_encrypt(k->sm, padded)) == NULL)
			goto fail;
		w[n++] = 0x87;
		n += put_len(w + n, ct->length + 1);
		w[n++] = 0x01;
		memcpy(w + n, ct->data, ct->length);
		n += ct->length;
	}
	w[n++] = 0x99;
	w[n++] = 0x02;
	w[n++] = (unsigned char)(sw >> 8);
	w[n++] = (unsigned char)sw;
	body = n;
	BUF_MEM_free(in);
	if ((in = bufmem(w, body)) == NULL || (macin = EAC_add_iso_pad(k->sm, in)) == NULL)
		goto fail;
	if (fault_at(k, EIDCARD_FAULT_BAD_SSC, k->nprot_ans, NULL)) {
		EAC_set_ssc(k->sm, k->ssc + 1);
		mac = EAC_authenticate(k->sm, macin);
		EAC_set_ssc(k->sm, k->ssc);
	} else
		mac = EAC_authenticate(k->sm, macin);
	if (mac == NULL || mac->length != 8)
		goto fail;
	if (fault_at(k, EIDCARD_FAULT_BAD_MAC, k->nprot_ans, NULL))
		mac->data[7] ^= 0x01;
	w[n++] = 0x8E;
	w[n++] = 0x08;
	memcpy(w + n, mac->data, 8);
	n += 8;
	/* The plain status word travels outside the MAC: one that lies. */
	(void)fault_at(k, EIDCARD_FAULT_PLAIN_SW, k->nprot_ans, &sw);
	r = answer(resp, room, w, n, sw);
	goto done;
fail:
	r = answer(resp, room, NULL, 0, 0x6F00);
done:
	BUF_MEM_free(in);
	BUF_MEM_free(padded);
	BUF_MEM_free(ct);
	BUF_MEM_free(mac);
	BUF_MEM_free(macin);
	ERR_clear_error();
	return r;
}

/* Reports a broken protected command: plain sw, the channel is over. */
static long
sm_broken(struct eidcard *k, unsigned sw, unsigned char *resp, size_t room)
{
	sm_end(k);
	return answer(resp, room, NULL, 0, sw);
}

static long
protected(struct eidcard *k, const struct cmd *o, unsigned char *resp, size_t room)
{
	const unsigned char *p = o->data, *end = o->data + o->nc, *v, *do87 = NULL,
	    *do97 = NULL, *do8e = NULL, *macend = o->data;
	size_t vlen, l87 = 0, l97 = 0, l8e = 0, olen = 0;
	unsigned tag, fsw;
	BUF_MEM *b = NULL, *macin = NULL, *mac = NULL, *ct = NULL, *pt = NULL, *plain_data = NULL;
	struct cmd a;
	unsigned char hdr[4] = { o->cla, o->ins, o->p1, o->p2 };
	int ok, last = 0;
	long r;

	if (k->sm == NULL)
		return answer(resp, room, NULL, 0, 0x6882);	/* no channel to check it by */
	/* 87, 97, 8E in this order, each at most once, nothing else. */
	while (p < end) {
		if (tlv_next(&p, end, &tag, &v, &vlen) != 0)
			return sm_broken(k, 0x6987, resp, room);
		if (tag == 0x87 && last < 1)
			do87 = v, l87 = vlen, last = 1, macend = p;
		else if (tag == 0x97 && last < 2)
			do97 = v, l97 = vlen, last = 2, macend = p;
		else if (tag == 0x8E && last < 3)
			do8e = v, l8e = vlen, last = 3;
		else
			return sm_broken(k, 0x6987, resp, room);
	}
	if (do8e == NULL || l8e != 8 || p != do8e + l8e)
		return sm_broken(k, do8e == NULL || l8e != 8 ? 0x6988 : 0x6987, resp, room);
	EAC_increment_ssc(k->sm);
	k->ssc++;
	/* MAC over pad(pad(header) || DO87 || DO97), or pad(header) alone when neither is
	 * there (AusweisApp and OpenSC send RESET RETRY COUNTER so; real cards check it so). */
	if ((b = bufmem(hdr, 4)) == NULL || (pt = EAC_add_iso_pad(k->sm, b)) == NULL ||
	    !BUF_MEM_grow(pt, pt->length + (size_t)(macend - o->data))) {
		r = sm_broken(k, 0x6F00, resp, room);
		goto done;
	}
	memcpy(pt->data + pt->length - (size_t)(macend - o->data), o->data,
	    (size_t)(macend - o->data));
	if ((macin = macend == o->data ?
	    bufmem((const unsigned char *)pt->data, pt->length) :
	    EAC_add_iso_pad(k->sm, pt)) == NULL || (mac = bufmem(do8e, 8)) == NULL) {
		r = sm_broken(k, 0x6F00, resp, room);
		goto done;
	}
	ok = EAC_verify_authentication(k->sm, macin, mac);
	BUF_MEM_free(pt);
	pt = NULL;
	if (ok != 1) {
		r = sm_broken(k, 0x6988, resp, room);
		goto done;
	}
	k->nprot_cmd++;
	memset(&a, 0, sizeof a);
	a.cla = o->cla & 0x10;
	a.ins = o->ins, a.p1 = o->p1, a.p2 = o->p2;
	a.sm = 1;
	a.ext = o->ext;
	a.cap = o->ext ? 65536 : SHORT_PROTECTED_MAX;
	if (do87 != NULL) {
		if (l87 < 17 || do87[0] != 0x01 || (l87 - 1) % 16 != 0 ||
		    (ct = bufmem(do87 + 1, l87 - 1)) == NULL ||
		    (pt = EAC_decrypt(k->sm, ct)) == NULL ||
		    (plain_data = EAC_remove_iso_pad(pt)) == NULL || plain_data->length == 0) {
			r = sm_broken(k, 0x6987, resp, room);
			goto done;
		}
		a.data = (const unsigned char *)plain_data->data;
		a.nc = plain_data->length;
	}
	if (do97 != NULL) {
		if (l97 == 1)
			a.ne = do97[0] ? do97[0] : 256;
		else if (l97 == 2)
			a.ne = (size_t)(do97[0] << 8 | do97[1]) ? (size_t)(do97[0] << 8 | do97[1]) :
			    65536;
		else {
			r = sm_broken(k, 0x6987, resp, room);
			goto done;
		}
	}
	if (fault_at(k, EIDCARD_FAULT_SW, k->nprot_cmd, &fsw)) {
		r = wrap(k, NULL, 0, fsw, resp, room);
		goto done;
	}
	if (k->c.no_extended && (o->ext || a.ne > 256)) {
		r = wrap(k, NULL, 0, 0x6700, resp, room);
		goto done;
	}
	/* Command chaining: the pieces' data is gathered, each piece answered 9000. General
	 * Authenticate chains steps, not data (PACE inside SM). */
	if (a.ins != 0x86 && ((a.cla & 0x10) || k->chaining)) {
		if (k->chaining && (k->chain_hdr[0] != a.ins || k->chain_hdr[1] != a.p1 ||
		    k->chain_hdr[2] != a.p2))
			k->chain_len = 0, k->chaining = 0;
		if (a.nc > sizeof k->chain - k->chain_len) {
			k->chaining = 0;
			k->chain_len = 0;
			r = wrap(k, NULL, 0, 0x6700, resp, room);
			goto done;
		}
		if (a.nc > 0)
			memcpy(k->chain + k->chain_len, a.data, a.nc);
		k->chain_len += a.nc;
		if (a.cla & 0x10) {
			k->chaining = 1;
			k->chain_hdr[0] = a.ins, k->chain_hdr[1] = a.p1, k->chain_hdr[2] = a.p2;
			r = wrap(k, NULL, 0, 0x9000, resp, room);
			goto done;
		}
		a.data = k->chain;
		a.nc = k->chain_len;
		k->chaining = 0;
		k->chain_len = 0;
	}
	/* The transport PIN opens the card for changing it, nothing else. */
	if (k->sm_pwd == PWD_TRANSPORT && !(a.ins == 0x2C && a.p1 == 0x02)) {
		r = wrap(k, NULL, 0, 0x6982, resp, room);
		goto done;
	}
	fsw = run(k, &a, k->out, &olen);
	r = wrap(k, k->out, olen, fsw, resp, room);
	if (k->sm != NULL && k->ca_switch) {
		k->ca_switch = 0;
		if (EAC_CTX_set_encryption_ctx(k->sm, EAC_ID_CA)) {
			k->ssc = 0;
			k->ca_done = 1;
		} else
			sm_end(k);
	}
	if (k->pace_switch)
		pace_finish(k);
done:
	BUF_MEM_free(b);
	BUF_MEM_free(macin);
	BUF_MEM_free(mac);
	BUF_MEM_free(ct);
	if (pt != NULL)
		BUF_MEM_clear_free(pt);
	if (plain_data != NULL)
		BUF_MEM_clear_free(plain_data);
	ERR_clear_error();
	return r;
}

long
eidcard_apdu(struct eidcard *k, const unsigned char *apdu, size_t n, unsigned char *resp,
    size_t room)
{
	struct cmd a;
	long r;
	int bad;

	if (k->removed)
		return EIDCARD_REMOVED;
	k->napdu++;
	if (fault_at(k, EIDCARD_FAULT_REMOVE, k->napdu, NULL)) {
		k->removed = 1;
		sm_end(k);
		return EIDCARD_REMOVED;
	}
	if (k->c.mute)
		return EIDCARD_MUTE;
	if (room < 2)
		return 0;
	if (k->c.garbage) {
		size_t m = 1 + (size_t)(rand() % 32);

		if (m > room)
			m = room;
		if (RAND_bytes(resp, (int)m) != 1)
			for (size_t i = 0; i < m; i++)
				resp[i] = (unsigned char)rand();
		/* Never a well-formed 9000 by chance. */
		if (m >= 2 && resp[m - 2] == 0x90 && resp[m - 1] == 0x00)
			resp[m - 1] = 0x01;
		return (long)m;
	}
	bad = parse_apdu(apdu, n, &a) != 0;
	/* Response chaining: a command other than GET RESPONSE drops what was left. */
	if (bad || a.ins != 0xC0)
		k->rest_len = 0;
	if (bad)
		r = answer(resp, room, NULL, 0, 0x6700);
	else if ((a.cla & 0x0C) == 0x0C && (a.cla & ~0x1C) == 0)
		r = protected(k, &a, resp, room);
	else
		r = plain(k, &a, resp, room);
	if (k->c.truncate_response && r > 1)
		r = 1;
	return r;
}
