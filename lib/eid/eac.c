/* Passive authentication, Terminal Authentication v2, Chip Authentication v2 and reading
 * files under secure messaging; see eac.h. OpenPACE does the cryptography and the
 * certificate checks; we build the APDUs and check every answer. */
#include "eid/eac.h"
#include "eid/tlv.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "secmem.h"

#include <eac/ca.h>
#include <eac/cv_cert.h>
#include <eac/eac.h>
#include <eac/objects.h>
#include <eac/ta.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERT_MAX 4096
#define KEY_MAX 4096

static const unsigned char eid_aid[] = { 0xE8, 0x07, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x03, 0x02 };

/* ---- the terminal's credentials ---------------------------------------------------- */

/* A CV certificate's date (6 bytes, one digit each: YYMMDD) as YYYY-MM-DD and as a
 * comparable number YYYYMMDD; -1 when malformed. */
static long
cvc_date(const ASN1_OCTET_STRING *d, char out[11])
{
	const unsigned char *v;
	int i;

	if (d == NULL || d->length != 6)
		return -1;
	v = d->data;
	for (i = 0; i < 6; i++)
		if (v[i] > 9)
			return -1;
	snprintf(out, 11, "20%c%c-%c%c-%c%c", '0' + v[0], '0' + v[1], '0' + v[2],
	    '0' + v[3], '0' + v[4], '0' + v[5]);
	return 20000000L + (v[0] * 10 + v[1]) * 10000L + (v[2] * 10 + v[3]) * 100L +
	    v[4] * 10 + v[5];
}

static int
copy_ref(char *dst, size_t room, const ASN1_UTF8STRING *s)
{
	int i;

	if (s == NULL || s->length <= 0 || (size_t)s->length >= room)
		return -1;
	for (i = 0; i < s->length; i++)
		if (s->data[i] < 0x20 || s->data[i] > 0x7E)
			return -1;
	memcpy(dst, s->data, (size_t)s->length);
	dst[s->length] = '\0';
	return 0;
}

/* Parses a CV certificate: CHR, CAR, validity (YYYYMMDD numbers), CHAT rights. */
static int
cvc_info(const unsigned char *der, size_t len, char chr[32], char car[32], long *from,
    long *until, char until_s[11], unsigned char rights[5])
{
	const unsigned char *p = der;
	CVC_CERT *c;
	char from_s[11];
	int rc = -1;

	if (len > LONG_MAX || (c = CVC_d2i_CVC_CERT(NULL, &p, (long)len)) == NULL)
		return -1;
	if (p == der + len && c->body != NULL &&
	    copy_ref(chr, 32, c->body->certificate_holder_reference) == 0 &&
	    copy_ref(car, 32, c->body->certificate_authority_reference) == 0 &&
	    (*from = cvc_date(c->body->certificate_effective_date, from_s)) > 0 &&
	    (*until = cvc_date(c->body->certificate_expiration_date, until_s)) > 0) {
		memset(rights, 0, 5);
		if (c->body->chat != NULL && c->body->chat->relative_authorization != NULL &&
		    c->body->chat->relative_authorization->length == 5)
			memcpy(rights, c->body->chat->relative_authorization->data, 5);
		rc = 0;
	}
	CVC_CERT_free(c);
	ERR_clear_error();
	return rc;
}

/* ---- trust: whoever can change a trust anchor or the key decides what is genuine ---- */

/* The directory holding path ("." for a bare name). */
static void
parent_dir(const char *path, char *buf, size_t room)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		snprintf(buf, room, ".");
	else
		snprintf(buf, room, "%.*s", (int)n, path);
}

/* The directory holding path is the terminal's: no one else can put another file there
 * in its stead (bb_trust_fd). */
static int
trusted_parent(const char *path, const char *what, struct bb_err *e)
{
	char dir[PATH_MAX];
	int fd;

	parent_dir(path, dir, sizeof dir);
	if ((fd = bb_trust_open(dir, what, 0, 1, e)) < 0)
		return e->status;
	close(fd);
	return 0;
}

int
bb_eac_trust_dir(const char *dir, const char *what, int links, struct bb_err *e)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	ssize_t n;
	int fd, f, rc;

	if (dir == NULL || *dir == '\0')
		return bb_fail(e, BB_CONFIG, "%s: not configured", what);
	if ((rc = trusted_parent(dir, what, e)) != 0)
		return rc;
	if ((fd = bb_trust_open(dir, what, 0, 1, e)) < 0)
		return e->status;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return bb_fail(e, BB_IOERR, "%s %s: %s", what, dir, strerror(errno));
	}
	rc = 0;
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) {
			rc = bb_fail(e, BB_CONFIG, "%s %s: path too long", what, dir);
			break;
		}
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = bb_fail(e, BB_IOERR, "%s %s: %s", what, path, strerror(errno));
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			/* openssl rehash links <hash>.0 to a certificate beside it; a link out of
			 * the directory would lead where the check does not reach. */
			if (!links) {
				rc = bb_fail(e, BB_CONFIG, "%s %s: a symbolic link, not trusted",
				    what, path);
				break;
			}
			n = readlinkat(fd, de->d_name, link, sizeof link - 1);
			if (n < 0 || memchr(link, '/', (size_t)n) != NULL)
				rc = bb_fail(e, BB_CONFIG,
				    "%s %s: a symbolic link out of the directory, not trusted", what,
				    path);
		} else if (S_ISREG(st.st_mode)) {
			f = openat(fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
			if (f < 0)
				rc = bb_fail(e, BB_IOERR, "%s %s: %s", what, path, strerror(errno));
			else {
				rc = bb_trust_fd(f, path, what, 0, e);
				close(f);
			}
		}
		/* Anything else (a subdirectory) is not read as a certificate. */
	}
	if (rc == 0 && errno != 0)
		rc = bb_fail(e, BB_IOERR, "%s %s: %s", what, dir, strerror(errno));
	closedir(d);
	return rc;
}

/* A certificate of the terminal's: the file and its directory must be the terminal's. */
static int
load(const char *what, const char *path, size_t max, char **buf, size_t *len,
    struct bb_err *e)
{
	int rc;

	if (path == NULL || *path == '\0')
		return bb_fail(e, BB_CONFIG, "%s: not configured", what);
	if ((rc = trusted_parent(path, what, e)) != 0 ||
	    (rc = bb_read_trusted(path, what, 0, max, buf, len, e)) != 0) {
		if (rc == BB_DATAERR)	/* too long: not a certificate */
			rc = e->status = BB_CONFIG;
		return rc;
	}
	return 0;
}

/* The hash of an ECDSA TA protocol (the terminal certificate's key OID); NULL for RSA. */
static const EVP_MD *
ta_ecdsa_md(int nid)
{
	if (nid == NID_id_TA_ECDSA_SHA_1)
		return EVP_sha1();
	if (nid == NID_id_TA_ECDSA_SHA_224)
		return EVP_sha224();
	if (nid == NID_id_TA_ECDSA_SHA_256)
		return EVP_sha256();
	if (nid == NID_id_TA_ECDSA_SHA_384)
		return EVP_sha384();
	if (nid == NID_id_TA_ECDSA_SHA_512)
		return EVP_sha512();
	return NULL;
}

/* The key in a token signs with CKM_ECDSA only: the certificate's key must be ECDSA. */
static int
token_load(struct bb_eac_terminal *t, const char *uri, const struct bb_p11_pin *pin,
    struct bb_err *e)
{
	const unsigned char *p = t->cert;
	CVC_CERT *c;
	int ecdsa;

	if ((c = CVC_d2i_CVC_CERT(NULL, &p, (long)t->cert_len)) == NULL)
		return bb_fail(e, BB_CONFIG, "eid: the terminal certificate %s is malformed",
		    t->chr);
	ecdsa = c->body != NULL && c->body->public_key != NULL &&
	    ta_ecdsa_md(OBJ_obj2nid(c->body->public_key->oid)) != NULL;
	CVC_CERT_free(c);
	ERR_clear_error();
	if (!ecdsa)
		return bb_fail(e, BB_CONFIG, "eid: the terminal certificate %s is not for an ECDSA "
		    "key: a key in a PKCS#11 token must be one", t->chr);
	return bb_p11_open(&t->token, uri, pin, e);
}

static long
day_at(time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	return (tm.tm_year + 1900) * 10000L + (tm.tm_mon + 1) * 100L + tm.tm_mday;
}

int
bb_eac_valid_on(long from, long until, time_t now)
{
	/* A CV certificate's dates name days without a time zone (TR-03110-3 D.2.1.3):
	 * the effective day has begun where it begins first (UTC+14), the expiry day has
	 * not ended while it lasts somewhere (UTC-12). Taken as UTC days, a certificate a
	 * German CA made effective today was refused in Berlin until 01:00 (02:00 in
	 * summer); the card checks the dates against its own anyway. */
	if (day_at(now - 12 * 3600) > until)
		return 1;
	if (day_at(now + 14 * 3600) < from)
		return -1;
	return 0;
}

int
bb_eac_terminal_load(struct bb_eac_terminal *t, const char *dv_path, const char *cert_path,
    const char *key_path, const struct bb_p11_pin *pin, time_t now, struct bb_err *e)
{
	struct bb_secret sec = { NULL, 0, 0 };
	char *buf = NULL, dummy[32], until_s[11];
	unsigned char dvrights[5];
	size_t len;
	long from, until;
	int rc, fd, valid;

	memset(t, 0, sizeof *t);
	if ((rc = load("eid.dv_cert", dv_path, CERT_MAX, &buf, &len, e)) != 0)
		return rc;
	t->dv = (unsigned char *)buf;
	t->dv_len = len;
	if ((rc = load("eid.terminal_cert", cert_path, CERT_MAX, &buf, &len, e)) != 0)
		goto fail;
	t->cert = (unsigned char *)buf;
	t->cert_len = len;
	if (cvc_info(t->dv, t->dv_len, dummy, t->dv_car, &from, &until, until_s, dvrights) != 0) {
		rc = bb_fail(e, BB_CONFIG, "%s: not a CV certificate", dv_path);
		goto fail;
	}
	if ((valid = bb_eac_valid_on(from, until, now)) != 0) {
		rc = bb_fail(e, BB_NOPERM, "eid: the DV certificate %s %s %s", dummy,
		    valid > 0 ? "expired on" : "is not valid before",
		    valid > 0 ? until_s : "its effective date");
		goto fail;
	}
	if (cvc_info(t->cert, t->cert_len, t->chr, t->car, &from, &until, t->expires,
	    t->rights) != 0) {
		rc = bb_fail(e, BB_CONFIG, "%s: not a CV certificate", cert_path);
		goto fail;
	}
	if (strcmp(t->car, dummy) != 0) {
		rc = bb_fail(e, BB_CONFIG, "eid: the terminal certificate %s is not issued by the DV %s",
		    t->chr, dummy);
		goto fail;
	}
	if ((valid = bb_eac_valid_on(from, until, now)) != 0) {
		rc = bb_fail(e, BB_NOPERM, "eid: the terminal certificate %s %s %s", t->chr,
		    valid > 0 ? "expired on" : "is not valid before",
		    valid > 0 ? t->expires : "its effective date");
		goto fail;
	}
	/* The key: the terminal's alone, read by no one else, straight into locked
	 * memory. */
	if (key_path == NULL || *key_path == '\0') {
		rc = bb_fail(e, BB_CONFIG, "eid.terminal_key: not configured");
		goto fail;
	}
	if (bb_p11_is_uri(key_path)) {
		if ((rc = token_load(t, key_path, pin, e)) != 0)
			goto fail;
		return 0;
	}
	if ((rc = trusted_parent(key_path, "eid.terminal_key", e)) != 0)
		goto fail;
	if ((fd = bb_trust_open(key_path, "eid.terminal_key", BB_TRUST_SECRET, 0, e)) < 0) {
		rc = e->status;
		goto fail;
	}
	if (bb_secret_alloc(&sec, KEY_MAX) != 0) {
		close(fd);
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, sec.buf + sec.len, sec.cap - sec.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = bb_fail(e, BB_IOERR, "%s: %s", key_path, strerror(errno));
			close(fd);
			goto fail;
		}
		if (n == 0)
			break;
		sec.len += (size_t)n;
		if (sec.len == sec.cap) {
			rc = bb_fail(e, BB_CONFIG, "%s: not a PKCS#8 key (too long)", key_path);
			close(fd);
			goto fail;
		}
	}
	close(fd);
	if (sec.len == 0) {
		rc = bb_fail(e, BB_CONFIG, "%s: empty key file", key_path);
		goto fail;
	}
	t->key = sec.buf;
	t->key_len = sec.len;
	t->key_cap = sec.cap;
	return 0;
fail:
	bb_secret_free(&sec);
	bb_eac_terminal_free(t);
	return rc;
}

void
bb_eac_terminal_free(struct bb_eac_terminal *t)
{
	struct bb_secret sec;

	free(t->dv);
	free(t->cert);
	bb_p11_close(t->token);
	if (t->key != NULL) {
		sec.buf = t->key;
		sec.len = t->key_len;
		sec.cap = t->key_cap;
		bb_secret_free(&sec);
	}
	memset(t, 0, sizeof *t);
}

/* ---- APDUs under the channel ----------------------------------------------------- */

static int
cmd(struct bb_sm *s, unsigned char cla, unsigned char ins, unsigned char p1, unsigned char p2,
    const unsigned char *data, size_t dlen, size_t ne, unsigned char **out, size_t *outlen,
    unsigned *sw, struct bb_err *e)
{
	const unsigned char hdr[4] = { cla, ins, p1, p2 };
	unsigned char *dummy;
	size_t dlen_out;

	if (out == NULL) {
		int rc = bb_sm_transmit(s, hdr, data, dlen, ne, &dummy, &dlen_out, sw, e);
		free(dummy);
		return rc;
	}
	return bb_sm_transmit(s, hdr, data, dlen, ne, out, outlen, sw, e);
}

/* The length of the TLV that starts buf (header and value), when the header is there;
 * 0 when not enough of it is. */
static size_t
tlv_total(const unsigned char *b, size_t n)
{
	size_t i = 1, len, nlen, k;

	if (n < 2)
		return 0;
	if ((b[0] & 0x1F) == 0x1F) {
		while (i < n && i < 3 && (b[i] & 0x80))
			i++;
		i++;
	}
	if (i >= n)
		return 0;
	len = b[i++];
	if (len & 0x80) {
		nlen = len & 0x7F;
		if (nlen == 0 || nlen > 3 || i + nlen > n)
			return nlen == 0 || nlen > 3 ? (size_t)-1 : 0;
		for (len = 0, k = 0; k < nlen; k++)
			len = len << 8 | b[i++];
	}
	return i + len;
}

int
bb_eac_read_sfi(struct bb_sm *s, unsigned sfi, size_t max, unsigned char **buf, size_t *len,
    struct bb_err *e)
{
	unsigned char *out = NULL, *all = NULL;
	size_t outlen, have = 0, total = 0, ne;
	unsigned sw;
	int rc, first = 1;

	*buf = NULL;
	*len = 0;
	if (sfi == 0 || sfi > 30 || max == 0 || max > 32767)
		return bb_fail(e, BB_SOFTWARE, "read: bad file");
	for (;;) {
		ne = s->ext ? 65536 : 0xDF;
		if (first)
			rc = cmd(s, 0x00, 0xB0, (unsigned char)(0x80 | sfi), 0x00, NULL, 0, ne,
			    &out, &outlen, &sw, e);
		else
			rc = cmd(s, 0x00, 0xB0, (unsigned char)(have >> 8), (unsigned char)have,
			    NULL, 0, ne, &out, &outlen, &sw, e);
		if (rc != 0)
			goto fail;
		if (sw == 0x6700 && s->ext) {
			/* No extended length after all: again in short pieces. */
			free(out);
			s->ext = 0;
			continue;
		}
		if (sw == 0x6A82 && first) {
			rc = bb_fail(e, BB_NOINPUT, "the card has no file %u", sfi);
			goto fail;
		}
		if (sw == 0x6982) {
			rc = bb_fail(e, BB_NOPERM, "the card refuses reading file %u", sfi);
			goto fail;
		}
		if (sw != 0x9000 && sw != 0x6282 && !(sw == 0x6B00 && !first)) {
			rc = bb_fail(e, BB_PROTOCOL, "reading file %u: the card answered %04X",
			    sfi, sw);
			goto fail;
		}
		if (outlen > max - have) {
			rc = bb_fail(e, BB_PROTOCOL, "file %u is longer than %zu bytes", sfi, max);
			goto fail;
		}
		if (all == NULL && (all = malloc(max)) == NULL) {
			rc = bb_fail(e, BB_SOFTWARE, "out of memory");
			goto fail;
		}
		if (outlen > 0)
			memcpy(all + have, out, outlen);
		have += outlen;
		if (out != NULL)
			OPENSSL_clear_free(out, outlen);
		out = NULL;
		first = 0;
		if (total == 0) {
			total = tlv_total(all, have);
			if (total == (size_t)-1 || total > max) {
				rc = bb_fail(e, BB_PROTOCOL, "file %u: malformed or too long", sfi);
				goto fail;
			}
		}
		if (total != 0 && have >= total) {
			if (have > total) {
				rc = bb_fail(e, BB_PROTOCOL, "file %u: data after its end", sfi);
				goto fail;
			}
			break;
		}
		if (sw != 0x9000 || outlen == 0) {
			rc = bb_fail(e, BB_PROTOCOL, "file %u ends before its length says", sfi);
			goto fail;
		}
	}
	*buf = all;
	*len = have;
	return 0;
fail:
	if (out != NULL)
		OPENSSL_clear_free(out, outlen);
	if (all != NULL)
		OPENSSL_clear_free(all, max);
	return rc;
}

/* ---- passive authentication ------------------------------------------------------- */

/* The elements of a DER SET OF (tag 31) as pointers into der: 0, or -1 when malformed. */
static int
set_elements(const unsigned char *der, size_t len, const unsigned char **el, size_t *ellen,
    size_t max, size_t *n)
{
	const unsigned char *p = der, *end = der + len, *v, *q, *start;
	size_t vlen;
	unsigned tag;

	*n = 0;
	if (bb_tlv_next(&p, end, &tag, &v, &vlen) != 0 || tag != 0x31 || p != end)
		return -1;
	for (q = v; q < v + vlen; ) {
		start = q;
		if (*n == max || bb_tlv_next(&q, v + vlen, &tag, &p, &len) != 0)
			return -1;
		el[*n] = start;
		ellen[*n] = (size_t)(q - start);
		(*n)++;
	}
	return 0;
}

#define INFOS_MAX 64

/* Passive authentication done here, whatever OpenPACE does: OpenPACE checks the signature
 * of EF.CardSecurity only when EF.CardAccess (which the card sends unprotected) names a
 * Chip Authentication, and CA_get_pubkey never does, so a card could steer around it.
 * The CMS signature and the document signer's chain to a CSCA of csca_dir (an OpenSSL
 * hashed directory) are checked with OpenSSL, the content must be a security object
 * (id-SecurityObject), and every SecurityInfo of EF.CardAccess must be among the signed
 * ones (TR-03110 part 3: no protocol may be downgraded by an altered EF.CardAccess).
 * 0 with the signer's subject; 77 when it does not verify; 76 when malformed. */
static int
verify_security_object(const unsigned char *cs, size_t len, const unsigned char *ca,
    size_t calen, const char *csca_dir, char *signer, size_t room, struct bb_err *e)
{
	const unsigned char *q = cs, *cael[INFOS_MAX], *csel[INFOS_MAX];
	size_t caellen[INFOS_MAX], csellen[INFOS_MAX], nca, ncs, i, j;
	CMS_ContentInfo *cms = NULL;
	X509_STORE *store = NULL;
	X509_LOOKUP *lookup;
	STACK_OF(X509) *signers = NULL;
	BIO *out = NULL, *b = NULL;
	char oid[64];
	char *content;
	long clen, n;
	int rc;

	signer[0] = '\0';
	if (len > LONG_MAX || (cms = d2i_CMS_ContentInfo(NULL, &q, (long)len)) == NULL ||
	    q != cs + len || CMS_get0_eContentType(cms) == NULL ||
	    OBJ_obj2txt(oid, sizeof oid, CMS_get0_eContentType(cms), 1) <= 0) {
		rc = bb_fail(e, BB_PROTOCOL, "passive authentication: EF.CardSecurity is malformed");
		goto done;
	}
	if (strcmp(oid, "0.4.0.127.0.7.3.2.1") != 0) {
		rc = bb_fail(e, BB_NOPERM,
		    "passive authentication failed: EF.CardSecurity holds no security object");
		goto done;
	}
	if ((store = X509_STORE_new()) == NULL || (out = BIO_new(BIO_s_mem())) == NULL ||
	    (lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) == NULL ||
	    !X509_LOOKUP_add_dir(lookup, csca_dir, X509_FILETYPE_PEM) ||
	    !X509_STORE_set_purpose(store, X509_PURPOSE_ANY)) {
		rc = bb_fail(e, BB_SOFTWARE, "passive authentication: cannot set up the CSCA store");
		goto done;
	}
	if (CMS_verify(cms, NULL, store, NULL, out, CMS_BINARY) != 1) {
		rc = bb_fail(e, BB_NOPERM,
		    "passive authentication failed: the card's security object is not signed by a trusted document signer");
		goto done;
	}
	if ((clen = BIO_get_mem_data(out, &content)) <= 0 ||
	    set_elements((unsigned char *)content, (size_t)clen, csel, csellen, INFOS_MAX,
	    &ncs) != 0 || set_elements(ca, calen, cael, caellen, INFOS_MAX, &nca) != 0) {
		rc = bb_fail(e, BB_PROTOCOL, "passive authentication: the SecurityInfos are malformed");
		goto done;
	}
	for (i = 0; i < nca; i++) {
		for (j = 0; j < ncs; j++)
			if (caellen[i] == csellen[j] && memcmp(cael[i], csel[j], caellen[i]) == 0)
				break;
		if (j == ncs) {
			rc = bb_fail(e, BB_NOPERM,
			    "passive authentication failed: EF.CardAccess names a protocol the signed security object does not");
			goto done;
		}
	}
	signers = CMS_get0_signers(cms);
	if (signers != NULL && sk_X509_num(signers) > 0 && (b = BIO_new(BIO_s_mem())) != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(sk_X509_value(signers, 0)), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_read(b, signer, (int)room - 1)) > 0)
		signer[n] = '\0';
	rc = 0;
done:
	sk_X509_free(signers);
	BIO_free(b);
	BIO_free(out);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

int
bb_eac_passive_auth(struct bb_pace *p, const unsigned char *cs, size_t len,
    const unsigned char *ca, size_t calen, const char *csca_dir, char *signer, size_t room,
    struct bb_err *e)
{
	EAC_CTX *ctx = p->ctx;
	BUF_MEM *pub;
	int rc;

	/* OpenSSL and OpenPACE read the directory by path: it is checked first. */
	if ((rc = bb_eac_trust_dir(csca_dir, "eid.csca_dir", 1, e)) != 0)
		return rc;
	if ((rc = verify_security_object(cs, len, ca, calen, csca_dir, signer, room, e)) != 0)
		return rc;
	if (ctx->ca_ctx == NULL)
		return bb_fail(e, BB_PROTOCOL, "the card offers no chip authentication");
	/* OpenPACE checks once more (it does when the context knows CA, as now) and takes the
	 * chip's key for CA from the signed SecurityInfos. */
	EAC_set_x509_default_dir(csca_dir);
	if (!EAC_CTX_init_ef_cardsecurity(cs, len, ctx)) {
		ERR_clear_error();
		return bb_fail(e, BB_NOPERM,
		    "passive authentication failed: the card's security object is not signed by a trusted document signer");
	}
	if ((pub = CA_get_pubkey(ctx, cs, len)) == NULL) {
		ERR_clear_error();
		return bb_fail(e, BB_NOPERM,
		    "passive authentication failed: no chip authentication key");
	}
	free(p->ca_pub);
	if ((p->ca_pub = malloc(pub->length)) == NULL) {
		BUF_MEM_free(pub);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	memcpy(p->ca_pub, pub->data, pub->length);
	p->ca_pub_len = pub->length;
	BUF_MEM_free(pub);
	return 0;
}

/* ---- Terminal Authentication ------------------------------------------------------ */

static int
read_cvca(const char *dir, const char *chr, unsigned char **buf, size_t *len,
    struct bb_err *e)
{
	char path[PATH_MAX], *b;
	size_t i;
	int rc;

	for (i = 0; chr[i] != '\0'; i++)
		if (chr[i] == '/' || chr[i] == '.')
			return bb_fail(e, BB_PROTOCOL, "the card names a malformed CVCA");
	if ((rc = bb_eac_trust_dir(dir, "eid.cvca_dir", 0, e)) != 0)
		return rc;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, chr) >= sizeof path)
		return bb_fail(e, BB_CONFIG, "eid.cvca_dir: path too long");
	if ((rc = bb_read_trusted(path, "eid.cvca_dir", 0, CERT_MAX, &b, len, e)) != 0) {
		if (rc == BB_NOINPUT)
			return bb_fail(e, BB_CONFIG,
			    "eid: the card trusts the CVCA %s, which is not in %s", chr, dir);
		if (rc == BB_DATAERR)
			rc = e->status = BB_CONFIG;
		return rc;
	}
	*buf = (unsigned char *)b;
	return 0;
}

/* The certificate's content without its 7F21 wrapper. */
static int
cert_content(const unsigned char *der, size_t len, const unsigned char **v, size_t *vlen)
{
	const unsigned char *p = der;
	unsigned tag;

	if (bb_tlv_next(&p, der + len, &tag, v, vlen) != 0 || tag != 0x7F21 || p != der + len)
		return -1;
	return 0;
}

static int
verify_cert(struct bb_sm *s, const char *car, const unsigned char *cert, size_t len,
    const char *chr, struct bb_err *e)
{
	unsigned char dst[40];
	const unsigned char *v;
	size_t vlen, n;
	unsigned sw;
	int rc;

	n = bb_tlv_put(dst, 0x83, (const unsigned char *)car, strlen(car));
	if ((rc = cmd(s, 0x00, 0x22, 0x81, 0xB6, dst, n, 0, NULL, NULL, &sw, e)) != 0)
		return rc;
	if (sw == 0x6A88)
		return bb_fail(e, BB_NOPERM,
		    "terminal authentication: the card does not know the CA %s (6A88)", car);
	if (sw != 0x9000)
		return bb_fail(e, BB_PROTOCOL, "terminal authentication: MSE:Set DST: the card answered %04X",
		    sw);
	if (cert_content(cert, len, &v, &vlen) != 0)
		return bb_fail(e, BB_CONFIG, "eid: the certificate %s is malformed", chr);
	if ((rc = cmd(s, 0x00, 0x2A, 0x00, 0xBE, v, vlen, 0, NULL, NULL, &sw, e)) != 0)
		return rc;
	if (sw == 0x6300 || sw == 0x6A80 || sw == 0x6982 || sw == 0x6985)
		return bb_fail(e, BB_NOPERM,
		    "terminal authentication: the card refuses the certificate %s (%04X)", chr, sw);
	if (sw != 0x9000)
		return bb_fail(e, BB_PROTOCOL,
		    "terminal authentication: PSO:Verify Certificate: the card answered %04X", sw);
	return 0;
}

/* TA's signature by the key in a token: the hash of ID_PICC || r_PICC || Comp(PK_PCD),
 * the data TA_STEP5_sign signs with a file key (TR-03110 part 3); CKM_ECDSA gives
 * r || s, each as long as the order: the plain format of TR-03111 the card expects.
 * Verified with the certificate's key before the card sees it, as the card will: a key
 * that does not belong to the certificate is the terminal's mistake (78), not the card's
 * refusal. */
static int
token_sign(EAC_CTX *ctx, const struct bb_eac_terminal *t, const BUF_MEM *eph,
    const BUF_MEM *idpicc, BUF_MEM **sig, struct bb_err *e)
{
	const BUF_MEM *nonce = ctx->ta_ctx->nonce;
	const EVP_MD *md = ta_ecdsa_md(ctx->ta_ctx->protocol);
	unsigned char *data, hash[EVP_MAX_MD_SIZE], plain[2 * 66];
	size_t n = idpicc->length + nonce->length + eph->length, len = sizeof plain;
	unsigned hlen;
	int rc, ok;

	if (md == NULL)
		return bb_fail(e, BB_CONFIG, "eid: the terminal certificate %s is not for an ECDSA "
		    "key: a key in a PKCS#11 token must be one", t->chr);
	if ((data = malloc(n)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	memcpy(data, idpicc->data, idpicc->length);
	memcpy(data + idpicc->length, nonce->data, nonce->length);
	memcpy(data + idpicc->length + nonce->length, eph->data, eph->length);
	ok = EVP_Digest(data, n, hash, &hlen, md, NULL);
	free(data);
	if (!ok)
		return bb_fail(e, BB_SOFTWARE, "terminal authentication: cannot hash");
	if ((rc = bb_p11_sign_ecdsa(t->token, hash, hlen, plain, &len, e)) != 0)
		return rc;
	/* OpenPACE's check below splits any even length in halves; a card wants each half
	 * exactly as long as the order. */
	if (len != 2 * (size_t)((EVP_PKEY_get_bits(ctx->ta_ctx->pub_key) + 7) / 8))
		return bb_fail(e, BB_IOERR, "terminal authentication: the token's signature is %zu "
		    "bytes, not r || s of the curve's length", len);
	if ((*sig = bb_bufmem(plain, len)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (TA_STEP6_verify(ctx, eph, idpicc, NULL, *sig) != 1)
		return bb_fail(e, BB_CONFIG, "eid.terminal_key: the key in the token does not "
		    "belong to the terminal certificate %s", t->chr);
	return 0;
}

int
bb_eac_comp(int ec, const unsigned char *pub, size_t len, unsigned char *out, size_t room,
    size_t *outlen)
{
	unsigned mdlen = 0;

	*outlen = 0;
	if (ec) {
		/* 04 x y: x and y are as long as the field (EC_POINT_point2oct pads them),
		 * so x is the first half after 04, its leading zero bytes with it. */
		if (len < 3 || len % 2 == 0 || pub[0] != 0x04 || len / 2 > room)
			return -1;
		memcpy(out, pub + 1, len / 2);
		*outlen = len / 2;
		return 0;
	}
	if (len == 0 || room < 20 || EVP_Digest(pub, len, out, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return -1;
	*outlen = mdlen;
	return 0;
}

int
bb_eac_plain_sig(const unsigned char *sig, size_t len, size_t olen, unsigned char *out,
    size_t room, size_t *outlen)
{
	size_t h = len / 2, i, k;

	*outlen = 0;
	if (len == 0 || len % 2 != 0 || olen == 0 || room < 2 * olen)
		return -1;
	/* Each half: its bytes beyond olen may only be leading zeros. */
	for (k = 0; k < 2; k++) {
		const unsigned char *v = sig + k * h;
		for (i = 0; h > olen && i < h - olen; i++)
			if (v[i] != 0)
				return -1;
		memset(out + k * olen, 0, olen);
		if (h > olen)
			memcpy(out + k * olen, v + h - olen, olen);
		else
			memcpy(out + k * olen + olen - h, v, h);
	}
	*outlen = 2 * olen;
	return 0;
}

/* TA's chain: the CVCA the card named in PACE (p->car) from cvca_dir, the DV's and the
 * terminal's certificates checked by OpenPACE and then by the card (MSE:Set DST, PSO:
 * Verify Certificate); the terminal's key into the context unless a token signs. */
static int
ta_chain(struct bb_sm *s, struct bb_pace *p, const struct bb_eac_terminal *t,
    const char *cvca_dir, struct bb_err *e)
{
	EAC_CTX *ctx = p->ctx;
	const char *car = p->car[0] != '\0' ? p->car : t->dv_car;
	unsigned char *cvca = NULL;
	const unsigned char *kp;
	size_t cvca_len = 0;
	EVP_PKEY *key;
	int rc, ok;

	if (strcmp(car, t->dv_car) != 0)
		return bb_fail(e, BB_NOPERM,
		    "terminal authentication: the card trusts the CVCA %s, the terminal's chain starts at %s",
		    car, t->dv_car);
	if ((rc = read_cvca(cvca_dir, car, &cvca, &cvca_len, e)) != 0)
		return rc;
	/* The key is set only after the chain is imported: OpenPACE writes each imported
	 * certificate's public key into the context's key, which OpenSSL 3 then refuses as a
	 * key pair that does not match (the DV's public key, our private key). */
	ok = EAC_CTX_init_ta(ctx, NULL, 0, cvca, cvca_len);
	free(cvca);
	if (!ok)
		return bb_fail(e, BB_CONFIG, "eid: the CVCA %s is unusable", car);
	/* OpenPACE would hold the chain's days against today in UTC, and refuse a
	 * certificate made effective today in Berlin between midnight and 01:00 UTC;
	 * bb_eac_terminal_load has checked the DV's and the terminal's days in every time
	 * zone (bb_eac_valid_on), and the card checks them against its own date. */
	TA_disable_checks(ctx);
	/* OpenPACE checks the chain on our side too: a broken chain never reaches the card. */
	if (!TA_STEP2_import_certificate(ctx, t->dv, t->dv_len) ||
	    !TA_STEP2_import_certificate(ctx, t->cert, t->cert_len))
		return bb_fail(e, BB_NOPERM,
		    "terminal authentication: the terminal's chain does not verify under %s", car);
	if (t->token == NULL) {	/* else it signs in the token (token_sign) */
		kp = t->key;
		if (t->key_len > LONG_MAX ||
		    (key = d2i_AutoPrivateKey(NULL, &kp, (long)t->key_len)) == NULL)
			return bb_fail(e, BB_CONFIG,
			    "eid: the terminal key is not a PKCS#8 private key");
		EVP_PKEY_free(ctx->ta_ctx->priv_key);
		ctx->ta_ctx->priv_key = key;
	}
	if ((rc = verify_cert(s, car, t->dv, t->dv_len, "DV", e)) != 0)
		return rc;
	return verify_cert(s, t->car, t->cert, t->cert_len, t->chr, e);
}

/* The ephemeral key is for CA (its domain parameters). OpenPACE answers it compressed,
 * but with the x coordinate's leading zero bytes dropped; the card compresses the key we
 * send at CA to the full length of the field and would find another key one time in 256
 * (issue 13). So Comp() here, of the whole key, for MSE:Set AT (91) and the signature:
 * into *comp. */
static int
ta_ephemeral(EAC_CTX *ctx, BUF_MEM **comp, struct bb_err *e)
{
	BUF_MEM *eph, *full = NULL;
	unsigned char cbuf[128];
	size_t clen;
	int ok;

	ok = (eph = TA_STEP3_generate_ephemeral_key(ctx)) != NULL &&
	    (full = CA_STEP2_get_eph_pubkey(ctx)) != NULL &&
	    bb_pace_dh_pad(ctx->ca_ctx->ka_ctx->key, full) == 0 &&
	    bb_eac_comp(EVP_PKEY_base_id(ctx->ca_ctx->ka_ctx->key) == EVP_PKEY_EC,
	    (unsigned char *)full->data, full->length, cbuf, sizeof cbuf, &clen) == 0;
	BUF_MEM_free(eph);
	BUF_MEM_free(full);
	if (!ok)
		return bb_fail(e, BB_SOFTWARE, "terminal authentication: no ephemeral key");
	if ((*comp = bb_bufmem(cbuf, clen)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	return 0;
}

/* MSE:Set AT for TA: the protocol (80), the terminal (83), our compressed key (91). */
static int
ta_set_at(struct bb_sm *s, EAC_CTX *ctx, const struct bb_eac_terminal *t,
    const BUF_MEM *comp, struct bb_err *e)
{
	const ASN1_OBJECT *o = OBJ_nid2obj(ctx->ta_ctx->protocol);
	unsigned char *at;
	size_t olen, n;
	unsigned sw;
	int rc;

	if (o == NULL || (olen = OBJ_length(o)) == 0 || olen > 32 || comp->length > 128)
		return bb_fail(e, BB_SOFTWARE, "terminal authentication: no protocol");
	if ((at = malloc(olen + strlen(t->chr) + comp->length + 16)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	n = bb_tlv_put(at, 0x80, OBJ_get0_data(o), olen);
	n += bb_tlv_put(at + n, 0x83, (const unsigned char *)t->chr, strlen(t->chr));
	n += bb_tlv_put(at + n, 0x91, (const unsigned char *)comp->data, comp->length);
	rc = cmd(s, 0x00, 0x22, 0x81, 0xA4, at, n, 0, NULL, NULL, &sw, e);
	free(at);
	if (rc == 0 && sw != 0x9000)
		rc = bb_fail(e, BB_PROTOCOL, "terminal authentication: MSE:Set AT: the card answered %04X",
		    sw);
	return rc;
}

/* ID_PICC, what TA signs besides the nonce and our key: the card's ephemeral PACE key
 * compressed. Comp() of TR-03110 part 3 A.2.2.3 is the x coordinate of an EC point, as
 * long as the field, and the SHA-1 of a DH key, never the DH key itself (bb_eac_comp;
 * OpenPACE's EAC_Comp drops a leading zero byte of x). A reader that ran PACE gives
 * ID_PICC compressed already (IDicc, as OpenSC takes it): as it is, unless it is a whole
 * point (04 x y: an odd length, which no x of a standard curve and no SHA-1 has). Its
 * context has no PACE key to tell a curve by. */
static int
ta_id_picc(const struct bb_pace *p, BUF_MEM **idpicc, struct bb_err *e)
{
	EAC_CTX *ctx = p->ctx;
	unsigned char cbuf[128];
	size_t clen;
	int ec;

	ec = p->picc_id ? p->picc_pub_len % 2 == 1 && p->picc_pub[0] == 0x04 :
	    EVP_PKEY_base_id(ctx->pace_ctx->ka_ctx->key) == EVP_PKEY_EC;
	if (p->picc_id && !ec) {
		if (p->picc_pub_len == 0 || p->picc_pub_len > sizeof cbuf)
			return bb_fail(e, BB_PROTOCOL, "terminal authentication: the reader's IDicc is malformed");
		memcpy(cbuf, p->picc_pub, p->picc_pub_len);
		clen = p->picc_pub_len;
	} else if (bb_eac_comp(ec, p->picc_pub, p->picc_pub_len, cbuf, sizeof cbuf, &clen) != 0)
		return bb_fail(e, BB_PROTOCOL, "terminal authentication: the card's PACE key is malformed");
	if ((*idpicc = bb_bufmem(cbuf, clen)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "terminal authentication: cannot sign");
	return 0;
}

/* The signature over ID_PICC, the card's nonce and our key: in the token, or with the
 * key, an ECDSA one as r || s, each as long as the order (TR-03111 5.2.1). Then the key
 * is needed no more: out of OpenSSL's heap now, not when the session ends. */
static int
ta_sign(EAC_CTX *ctx, const struct bb_eac_terminal *t, const BUF_MEM *comp,
    const unsigned char *nonce, size_t nlen, const BUF_MEM *idpicc, BUF_MEM **sig,
    struct bb_err *e)
{
	unsigned char sbuf[2 * 66];
	BUF_MEM *nb;
	size_t slen;
	int rc = 0, ok;
	EVP_PKEY *key = ctx->ta_ctx->priv_key;

	ok = (nb = bb_bufmem(nonce, nlen)) != NULL && TA_STEP4_set_nonce(ctx, nb) &&
	    (t->token != NULL || (*sig = TA_STEP5_sign(ctx, comp, idpicc, NULL)) != NULL);
	BUF_MEM_free(nb);
	if (!ok)
		rc = bb_fail(e, BB_SOFTWARE, "terminal authentication: cannot sign");
	else if (t->token != NULL)
		rc = token_sign(ctx, t, comp, idpicc, sig, e);
	else if (EVP_PKEY_base_id(key) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_bits(key) <= 0 ||
		    bb_eac_plain_sig((unsigned char *)(*sig)->data, (*sig)->length,
		    ((size_t)EVP_PKEY_get_bits(key) + 7) / 8, sbuf, sizeof sbuf, &slen) != 0)
			rc = bb_fail(e, BB_SOFTWARE, "terminal authentication: cannot sign");
		else {
			BUF_MEM_free(*sig);
			if ((*sig = bb_bufmem(sbuf, slen)) == NULL)
				rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		}
	}
	EVP_PKEY_free(ctx->ta_ctx->priv_key);
	ctx->ta_ctx->priv_key = NULL;
	return rc;
}

int
bb_eac_ta(struct bb_sm *s, struct bb_pace *p, const struct bb_eac_terminal *t,
    const char *cvca_dir, struct bb_err *e)
{
	EAC_CTX *ctx = p->ctx;
	unsigned char *nonce = NULL;
	size_t nlen = 0;
	BUF_MEM *comp = NULL, *sig = NULL, *idpicc = NULL;
	unsigned sw;
	int rc;

	if ((rc = ta_chain(s, p, t, cvca_dir, e)) != 0 ||
	    (rc = ta_ephemeral(ctx, &comp, e)) != 0 ||
	    (rc = ta_set_at(s, ctx, t, comp, e)) != 0 ||
	    (rc = cmd(s, 0x00, 0x84, 0x00, 0x00, NULL, 0, 8, &nonce, &nlen, &sw, e)) != 0)
		goto done;
	if (sw != 0x9000 || nlen != 8) {
		rc = bb_fail(e, BB_PROTOCOL, "terminal authentication: GET CHALLENGE: %04X, %zu bytes",
		    sw, nlen);
		goto done;
	}
	if ((rc = ta_id_picc(p, &idpicc, e)) != 0 ||
	    (rc = ta_sign(ctx, t, comp, nonce, nlen, idpicc, &sig, e)) != 0 ||
	    (rc = cmd(s, 0x00, 0x82, 0x00, 0x00, (unsigned char *)sig->data, sig->length, 0,
	    NULL, NULL, &sw, e)) != 0)
		goto done;
	if (sw == 0x6300 || sw == 0x6982)
		rc = bb_fail(e, BB_NOPERM,
		    "terminal authentication: the card rejects the terminal's signature (%04X)", sw);
	else if (sw != 0x9000)
		rc = bb_fail(e, BB_PROTOCOL,
		    "terminal authentication: EXTERNAL AUTHENTICATE: the card answered %04X", sw);
done:
	ERR_clear_error();
	free(nonce);
	BUF_MEM_free(comp);
	BUF_MEM_free(sig);
	BUF_MEM_free(idpicc);
	return rc;
}

/* ---- Chip Authentication ---------------------------------------------------------- */

/* MSE:Set AT for CA: the protocol (80) and the key's id (84) EF.CardSecurity named. */
static int
ca_set_at(struct bb_sm *s, EAC_CTX *ctx, struct bb_err *e)
{
	const ASN1_OBJECT *o = OBJ_nid2obj(ctx->ca_ctx->protocol);
	unsigned char at[64], id;
	size_t n, olen;
	unsigned sw;
	int rc;

	if (o == NULL || (olen = OBJ_length(o)) == 0 || olen > 32)
		return bb_fail(e, BB_PROTOCOL, "chip authentication: no protocol");
	n = bb_tlv_put(at, 0x80, OBJ_get0_data(o), olen);
	if (ctx->ca_ctx->id >= 0 && ctx->ca_ctx->id < 256) {
		id = (unsigned char)ctx->ca_ctx->id;
		n += bb_tlv_put(at + n, 0x84, &id, 1);
	}
	if ((rc = cmd(s, 0x00, 0x22, 0x41, 0xA4, at, n, 0, NULL, NULL, &sw, e)) != 0)
		return rc;
	if (sw != 0x9000)
		return bb_fail(e, BB_PROTOCOL, "chip authentication: MSE:Set AT: the card answered %04X",
		    sw);
	return 0;
}

/* General Authenticate with our ephemeral key from TA (7C { 80 key }); the card's answer
 * in *out. */
static int
ca_general_authenticate(struct bb_sm *s, EAC_CTX *ctx, unsigned char **out, size_t *outlen,
    struct bb_err *e)
{
	unsigned char *ga = NULL;
	size_t n, glen;
	BUF_MEM *eph;
	unsigned sw;
	int rc;

	if ((eph = CA_STEP2_get_eph_pubkey(ctx)) == NULL ||
	    bb_pace_dh_pad(ctx->ca_ctx->ka_ctx->key, eph) != 0 || eph->length > 512)
		rc = bb_fail(e, BB_SOFTWARE, "chip authentication: no ephemeral key");
	else if ((ga = malloc(eph->length + 16)) == NULL)
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
	else {
		glen = bb_tlv_put(ga + 4, 0x80, (const unsigned char *)eph->data, eph->length);
		/* 7C around it */
		ga[0] = 0x7C;
		n = 1 + bb_tlv_put_len(ga + 1, glen);
		memmove(ga + n, ga + 4, glen);
		if ((rc = cmd(s, 0x00, 0x86, 0x00, 0x00, ga, n + glen, 256, out, outlen, &sw,
		    e)) == 0 && sw != 0x9000)
			rc = bb_fail(e, BB_PROTOCOL, "chip authentication: the card answered %04X",
			    sw);
	}
	free(ga);
	BUF_MEM_free(eph);
	return rc;
}

/* The card's answer 7C { 81 nonce, 82 token }: the first of each. */
static int
ca_answer(const unsigned char *out, size_t outlen, const unsigned char **nv, size_t *nlen,
    const unsigned char **tv, size_t *tlen, struct bb_err *e)
{
	const unsigned char *q = out, *in, *inend, *v;
	size_t vlen;
	unsigned tag;

	*nv = *tv = NULL;
	*nlen = *tlen = 0;
	if (bb_tlv_next(&q, out + outlen, &tag, &in, &vlen) != 0 || tag != 0x7C ||
	    q != out + outlen)
		return bb_fail(e, BB_PROTOCOL, "chip authentication: malformed answer");
	inend = in + vlen;
	while (in < inend) {
		if (bb_tlv_next(&in, inend, &tag, &v, &vlen) != 0)
			return bb_fail(e, BB_PROTOCOL, "chip authentication: malformed answer");
		if (tag == 0x81 && *nv == NULL) {
			*nv = v;
			*nlen = vlen;
		} else if (tag == 0x82 && *tv == NULL) {
			*tv = v;
			*tlen = vlen;
		}
	}
	if (*nv == NULL || *tv == NULL || *nlen == 0 || *tlen == 0)
		return bb_fail(e, BB_PROTOCOL, "chip authentication: no nonce or token");
	return 0;
}

/* The CA keys from the chip's static key (passive authentication) and the card's nonce,
 * the token checked; then the host protects the channel with them. */
static int
ca_keys(struct bb_sm *s, struct bb_pace *p, const unsigned char *nv, size_t nlen,
    const unsigned char *tv, size_t tlen, struct bb_err *e)
{
	EAC_CTX *ctx = p->ctx;
	BUF_MEM *pub = NULL, *nb = NULL, *tb = NULL;
	int rc = 0;

	if ((pub = bb_bufmem(p->ca_pub, p->ca_pub_len)) == NULL ||
	    (nb = bb_bufmem(nv, nlen)) == NULL || (tb = bb_bufmem(tv, tlen)) == NULL)
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
	else if (!CA_STEP4_compute_shared_secret(ctx, pub))
		rc = bb_fail(e, BB_PROTOCOL, "chip authentication: the chip's key is unusable");
	else if (!CA_STEP6_derive_keys(ctx, nb, tb))
		rc = bb_fail(e, BB_PROTOCOL,
		    "chip authentication failed: the card's token does not verify (not a genuine chip)");
	else if (!EAC_CTX_set_encryption_ctx(ctx, EAC_ID_CA))
		rc = bb_fail(e, BB_SOFTWARE, "chip authentication: cannot switch keys");
	else {
		/* From here the host protects the channel with the CA keys, also when the
		 * reader protected it with the PACE keys until now (it passes protected APDUs
		 * through). */
		s->ctx = ctx;
		if (ctx->key_ctx == NULL || ctx->key_ctx->cipher == NULL ||
		    EVP_CIPHER_get_block_size(ctx->key_ctx->cipher) != 16)
			rc = bb_fail(e, BB_PROTOCOL,
			    "chip authentication: the card's parameters are not AES: not supported");
	}
	BUF_MEM_free(pub);
	BUF_MEM_free(nb);
	BUF_MEM_free(tb);
	return rc;
}

int
bb_eac_ca(struct bb_sm *s, struct bb_pace *p, struct bb_err *e)
{
	EAC_CTX *ctx = p->ctx;
	const unsigned char *nv, *tv;
	unsigned char *out = NULL;
	size_t outlen = 0, nlen, tlen;
	int rc;

	if (p->ca_pub == NULL)
		return bb_fail(e, BB_SOFTWARE, "chip authentication before passive authentication");
	if (ctx->ca_ctx == NULL)
		return bb_fail(e, BB_PROTOCOL, "the card offers no chip authentication");
	if ((rc = ca_set_at(s, ctx, e)) != 0)
		return rc;
	if ((rc = ca_general_authenticate(s, ctx, &out, &outlen, e)) == 0 &&
	    (rc = ca_answer(out, outlen, &nv, &nlen, &tv, &tlen, e)) == 0)
		rc = ca_keys(s, p, nv, nlen, tv, tlen, e);
	if (rc != 0)
		s->broken = 1;	/* half switched keys are no channel */
	ERR_clear_error();
	free(out);
	return rc;
}

int
bb_eac_select_eid(struct bb_sm *s, struct bb_err *e)
{
	unsigned sw;
	int rc;

	if ((rc = cmd(s, 0x00, 0xA4, 0x04, 0x0C, eid_aid, sizeof eid_aid, 0, NULL, NULL, &sw,
	    e)) != 0)
		return rc;
	if (sw == 0x6A82)
		return bb_fail(e, BB_PROTOCOL, "the card has no eID application");
	if (sw != 0x9000)
		return bb_fail(e, BB_PROTOCOL, "selecting the eID application: the card answered %04X",
		    sw);
	return 0;
}
