/* The eID data groups: --fields to data groups, the CHAT for them, and each data group's
 * DER to the identity keys; see dg.h. The DER comes from the card: every length is
 * checked against what is left before it is used, the encoding must be DER (definite,
 * minimal lengths, nothing after an object), and a text must be UTF-8 without control
 * characters before it becomes a JSON string. The messages say what is wrong with which
 * data group from constant text only: the values are personal data and must not reach
 * stderr or a log. */
#include "eid/dg.h"
#include "diag.h"
#include "exit.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Identity keys to data groups (bb-case(5)): the one table for --fields, for the key a
 * data group's DER sets and for what a data group the card lacks gives. */
static const struct {
	const char *key;
	unsigned long dgs;
	int text;	/* a string the card may not hold: "" then */
} fields[] = {
	{ "document_type", BB_DG_BIT(1), 1 },
	{ "issuing_state", BB_DG_BIT(2), 1 },
	{ "expiry", BB_DG_BIT(3), 1 },
	{ "given_names", BB_DG_BIT(4), 1 },
	{ "family_names", BB_DG_BIT(5), 1 },
	{ "artistic_name", BB_DG_BIT(6), 1 },
	{ "academic_title", BB_DG_BIT(7), 1 },
	{ "date_of_birth", BB_DG_BIT(8), 1 },
	{ "place_of_birth", BB_DG_BIT(9), 1 },
	{ "nationality", BB_DG_BIT(10), 1 },
	{ "birth_name", BB_DG_BIT(13), 1 },
	{ "address", BB_DG_BIT(17), 0 },
	{ "community_id", BB_DG_BIT(18), 1 },
	{ "residence_permit", BB_DG_BIT(19) | BB_DG_BIT(20), 0 },
};

#define NFIELDS (sizeof fields / sizeof fields[0])

const char *
bb_dg_key(int dg, int *text)
{
	size_t i;

	for (i = 0; dg >= 1 && dg <= BB_DG_MAX && i < NFIELDS; i++)
		if (fields[i].dgs & BB_DG_BIT(dg)) {
			if (text != NULL)
				*text = fields[i].text;
			return fields[i].key;
		}
	return NULL;
}

int
bb_dg_fields(const char *list, unsigned long *dgs, struct bb_err *e)
{
	unsigned long all = 0, want = 0;
	const char *p, *q, *end;
	size_t i, n;

	if (dgs != NULL)
		*dgs = 0;
	if (list == NULL || dgs == NULL)
		return bb_fail(e, BB_USAGE, "identity fields: none given");
	for (i = 0; i < NFIELDS; i++)
		all |= fields[i].dgs;
	for (p = list; ; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		/* Spaces around a key: "a, b" is what people type. */
		for (q = end; q > p && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		while (p < q && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(q - p);
		if (n == 0)
			return bb_fail(e, BB_USAGE, "identity fields: an empty name in the list");
		if (n == 3 && memcmp(p, "all", 3) == 0)
			want |= all;
		else {
			for (i = 0; i < NFIELDS; i++)
				if (strlen(fields[i].key) == n && memcmp(fields[i].key, p, n) == 0)
					break;
			if (i == NFIELDS) {
				/* The key comes from the command line, not the card: quote it, but
				 * short and printable so the message stays one line. */
				char shown[48];
				size_t j;
				for (j = 0; j < n && j < sizeof shown - 1; j++)
					shown[j] = p[j] > 0x20 && p[j] < 0x7F ? p[j] : '?';
				shown[j] = '\0';
				return bb_fail(e, BB_USAGE, "identity fields: unknown field '%s%s' "
				    "(known: document_type, issuing_state, expiry, given_names, "
				    "family_names, artistic_name, academic_title, date_of_birth, "
				    "place_of_birth, nationality, birth_name, address, community_id, "
				    "residence_permit, all)", shown, n > j ? "..." : "");
			}
			want |= fields[i].dgs;
		}
		if (*end == '\0')
			break;
	}
	*dgs = want;
	return 0;
}

/* id-AT, the role of authentication terminals (TR-03110 part 4, 2.2.3.2). */
static const unsigned char chat_head[] = {
	0x7F, 0x4C, 0x12,
	0x06, 0x09, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x03, 0x01, 0x02, 0x02,
	0x53, 0x05,
};

size_t
bb_dg_chat(unsigned long dgs, unsigned char *out, size_t room)
{
	unsigned char r[5] = { 0 };
	unsigned b;
	int n;

	if (out == NULL || room < sizeof chat_head + sizeof r)
		return 0;
	/* Read DGn is bit n+7 of the 40-bit map, bit 0 the lowest of the last byte; the
	 * role (top two bits) stays 00, an authentication terminal. */
	for (n = 1; n <= BB_DG_MAX; n++)
		if (dgs & BB_DG_BIT(n)) {
			b = (unsigned)n + 7;
			r[4 - b / 8] |= (unsigned char)(1u << (b % 8));
		}
	memcpy(out, chat_head, sizeof chat_head);
	memcpy(out + sizeof chat_head, r, sizeof r);
	return sizeof chat_head + sizeof r;
}

unsigned long
bb_dg_chat_rights(const unsigned char rights[5])
{
	unsigned long dgs = 0;
	unsigned b;
	int n;

	for (n = 1; n <= BB_DG_MAX; n++) {
		b = (unsigned)n + 7;
		if (rights[4 - b / 8] & (1u << (b % 8)))
			dgs |= BB_DG_BIT(n);
	}
	return dgs;
}

/* ---- parsing ---- */

struct ctx {
	int dg;
	struct bb_err *e;
};

/* Every message is constant text after the DG's number: nothing from the card. */
static int
bad(const struct ctx *c, const char *why)
{
	return bb_fail(c->e, BB_PROTOCOL, "DG%d: %s", c->dg, why);
}

static int
oom(const struct ctx *c)
{
	return bb_fail(c->e, BB_SOFTWARE, "DG%d: out of memory", c->dg);
}

/* The object at *pp before end must have tag want (all tags here are one byte): its
 * value and length, *pp after it. what names the object in the message for another
 * tag. Lengths must be definite and minimal (DER), of at most 3 bytes, and fit in what
 * is left. */
static int
get(const struct ctx *c, const unsigned char **pp, const unsigned char *end, unsigned want,
    const char *what, const unsigned char **val, size_t *vlen)
{
	const unsigned char *p = *pp;
	size_t len, nlen, i;

	if (p >= end)
		return bad(c, "malformed: a value is missing");
	if (*p != want)
		return bad(c, what);
	p++;
	if (p >= end)
		return bad(c, "malformed: a length runs past the end");
	len = *p++;
	if (len & 0x80) {
		nlen = len & 0x7F;
		if (nlen == 0)
			return bad(c, "malformed: indefinite length");
		if (nlen > 3)
			return bad(c, "malformed: oversized length");
		if ((size_t)(end - p) < nlen)
			return bad(c, "malformed: a length runs past the end");
		if (*p == 0)
			return bad(c, "malformed: length not in DER form");
		for (len = 0, i = 0; i < nlen; i++)
			len = len << 8 | *p++;
		if (len < 0x80)
			return bad(c, "malformed: length not in DER form");
	}
	if ((size_t)(end - p) < len)
		return bad(c, "malformed: a length runs past the end");
	*val = p;
	*vlen = len;
	*pp = p + len;
	return 0;
}

/* A constructed object holding exactly one object of tag want (an explicit tag, or the
 * data group around its value). */
static int
get_only(const struct ctx *c, const unsigned char *v, size_t vlen, unsigned want,
    const unsigned char **val, size_t *len)
{
	const unsigned char *p = v, *end = v + vlen;
	int rc;

	if ((rc = get(c, &p, end, want, "unexpected inner type", val, len)) != 0)
		return rc;
	if (p != end)
		return bad(c, "malformed: bytes after the value");
	return 0;
}

/* UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF) without control
 * characters (C0, DEL, C1); line breaks (CR, LF) only when lines. */
static int
text_check(const struct ctx *c, const unsigned char *s, size_t n, int lines)
{
	size_t i = 0, k, len;
	unsigned char b;

	while (i < n) {
		b = s[i];
		if (b < 0x80) {
			if ((b < 0x20 || b == 0x7F) && !(lines && (b == '\n' || b == '\r')))
				return bad(c, "control character in a text");
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			len = 2;
		else if (b >= 0xE0 && b <= 0xEF)
			len = 3;
		else if (b >= 0xF0 && b <= 0xF4)
			len = 4;
		else
			return bad(c, "a text is not valid UTF-8");
		if (n - i < len)
			return bad(c, "a text is not valid UTF-8");
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return bad(c, "a text is not valid UTF-8");
		if ((b == 0xE0 && s[i + 1] < 0xA0) || (b == 0xED && s[i + 1] > 0x9F) ||
		    (b == 0xF0 && s[i + 1] < 0x90) || (b == 0xF4 && s[i + 1] > 0x8F))
			return bad(c, "a text is not valid UTF-8");
		if (b == 0xC2 && s[i + 1] <= 0x9F)
			return bad(c, "control character in a text");
		i += len;
	}
	return 0;
}

static int
new_string(const struct ctx *c, const unsigned char *s, size_t n, json_t **out)
{
	if ((*out = json_stringn((const char *)s, n)) == NULL)
		return oom(c);
	return 0;
}

/* A UTF8String object at v: checked, as a JSON string. */
static int
utf8_value(const struct ctx *c, const unsigned char *v, size_t vlen, json_t **out)
{
	const unsigned char *s;
	size_t n;
	int rc;

	if ((rc = get_only(c, v, vlen, 0x0C, &s, &n)) != 0 || (rc = text_check(c, s, n, 0)) != 0)
		return rc;
	return new_string(c, s, n, out);
}

/* PrintableString's characters (X.680). */
static int
printable(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] != '\0' && strchr(" '()+,-./:=?", s[i]) != NULL)))
			return 0;
	return 1;
}

/* ISO 3166-1 alpha-3 code and alpha-2 code, sorted (from Debian's iso-codes). ICAO
 * uses alpha-3 but for Germany ("D") and codes ISO does not have (XXA stateless, GBD
 * and the other British nationalities, RKS, UNO ...); those stay as the card has them. */
static const char countries[][6] = {
	"ABWAW", "AFGAF", "AGOAO", "AIAAI", "ALAAX", "ALBAL", "ANDAD", "AREAE", "ARGAR", "ARMAM",
	"ASMAS", "ATAAQ", "ATFTF", "ATGAG", "AUSAU", "AUTAT", "AZEAZ", "BDIBI", "BELBE", "BENBJ",
	"BESBQ", "BFABF", "BGDBD", "BGRBG", "BHRBH", "BHSBS", "BIHBA", "BLMBL", "BLRBY", "BLZBZ",
	"BMUBM", "BOLBO", "BRABR", "BRBBB", "BRNBN", "BTNBT", "BVTBV", "BWABW", "CAFCF", "CANCA",
	"CCKCC", "CHECH", "CHLCL", "CHNCN", "CIVCI", "CMRCM", "CODCD", "COGCG", "COKCK", "COLCO",
	"COMKM", "CPVCV", "CRICR", "CUBCU", "CUWCW", "CXRCX", "CYMKY", "CYPCY", "CZECZ", "DEUDE",
	"DJIDJ", "DMADM", "DNKDK", "DOMDO", "DZADZ", "ECUEC", "EGYEG", "ERIER", "ESHEH", "ESPES",
	"ESTEE", "ETHET", "FINFI", "FJIFJ", "FLKFK", "FRAFR", "FROFO", "FSMFM", "GABGA", "GBRGB",
	"GEOGE", "GGYGG", "GHAGH", "GIBGI", "GINGN", "GLPGP", "GMBGM", "GNBGW", "GNQGQ", "GRCGR",
	"GRDGD", "GRLGL", "GTMGT", "GUFGF", "GUMGU", "GUYGY", "HKGHK", "HMDHM", "HNDHN", "HRVHR",
	"HTIHT", "HUNHU", "IDNID", "IMNIM", "INDIN", "IOTIO", "IRLIE", "IRNIR", "IRQIQ", "ISLIS",
	"ISRIL", "ITAIT", "JAMJM", "JEYJE", "JORJO", "JPNJP", "KAZKZ", "KENKE", "KGZKG", "KHMKH",
	"KIRKI", "KNAKN", "KORKR", "KWTKW", "LAOLA", "LBNLB", "LBRLR", "LBYLY", "LCALC", "LIELI",
	"LKALK", "LSOLS", "LTULT", "LUXLU", "LVALV", "MACMO", "MAFMF", "MARMA", "MCOMC", "MDAMD",
	"MDGMG", "MDVMV", "MEXMX", "MHLMH", "MKDMK", "MLIML", "MLTMT", "MMRMM", "MNEME", "MNGMN",
	"MNPMP", "MOZMZ", "MRTMR", "MSRMS", "MTQMQ", "MUSMU", "MWIMW", "MYSMY", "MYTYT", "NAMNA",
	"NCLNC", "NERNE", "NFKNF", "NGANG", "NICNI", "NIUNU", "NLDNL", "NORNO", "NPLNP", "NRUNR",
	"NZLNZ", "OMNOM", "PAKPK", "PANPA", "PCNPN", "PERPE", "PHLPH", "PLWPW", "PNGPG", "POLPL",
	"PRIPR", "PRKKP", "PRTPT", "PRYPY", "PSEPS", "PYFPF", "QATQA", "REURE", "ROURO", "RUSRU",
	"RWARW", "SAUSA", "SDNSD", "SENSN", "SGPSG", "SGSGS", "SHNSH", "SJMSJ", "SLBSB", "SLESL",
	"SLVSV", "SMRSM", "SOMSO", "SPMPM", "SRBRS", "SSDSS", "STPST", "SURSR", "SVKSK", "SVNSI",
	"SWESE", "SWZSZ", "SXMSX", "SYCSC", "SYRSY", "TCATC", "TCDTD", "TGOTG", "THATH", "TJKTJ",
	"TKLTK", "TKMTM", "TLSTL", "TONTO", "TTOTT", "TUNTN", "TURTR", "TUVTV", "TWNTW", "TZATZ",
	"UGAUG", "UKRUA", "UMIUM", "URYUY", "USAUS", "UZBUZ", "VATVA", "VCTVC", "VENVE", "VGBVG",
	"VIRVI", "VNMVN", "VUTVU", "WLFWF", "WSMWS", "YEMYE", "ZAFZA", "ZMBZM", "ZWEZW",
};

static int
country_cmp(const void *key, const void *elem)
{
	return memcmp(key, elem, 3);
}

/* An ICAOCountry (PrintableString of 1 or 3 letters) object at *pp into out (up to 3
 * letters and NUL). */
static int
country_value(const struct ctx *c, const unsigned char *v, size_t vlen, char out[4])
{
	const unsigned char *s;
	const char *hit;
	size_t n, i;
	int rc;

	if ((rc = get_only(c, v, vlen, 0x13, &s, &n)) != 0)
		return rc;
	if (n != 1 && n != 3)
		return bad(c, "not a country code");
	for (i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return bad(c, "not a country code");
	memcpy(out, s, n);
	out[n] = '\0';
	if (n == 1 && s[0] == 'D')
		memcpy(out, "DE", 3);
	else if (n == 3 && (hit = bsearch(s, countries, sizeof countries / sizeof countries[0],
	    sizeof countries[0], country_cmp)) != NULL) {
		out[0] = hit[3];
		out[1] = hit[4];
		out[2] = '\0';
	}
	return 0;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
digits(const unsigned char *s, size_t n, int *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*out = *out * 10 + (s[i] - '0');
	}
	return 1;
}

/* Unknown part of a date of birth (TR-03127: filled with spaces; zeros seen too). */
static int
unknown(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] == s[0]; i++)
		;
	return i == n && (s[0] == ' ' || s[0] == '0');
}

/* A Date (NumericString YYYYMMDD) object as "YYYY-MM-DD"; with partial, a date of birth
 * with unknown parts as what is known ("YYYY-MM", "YYYY", ""), but never a day without
 * its month or a month without its year. */
static int
date_value(const struct ctx *c, const unsigned char *v, size_t vlen, int partial,
    json_t **out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const unsigned char *s;
	char buf[24];	/* "YYYY-MM-DD", with room the compiler can see */
	size_t n;
	int rc, y, m, d, known = 3;

	if ((rc = get_only(c, v, vlen, 0x12, &s, &n)) != 0)
		return rc;
	if (n != 8)
		return bad(c, "not a date");
	if (partial) {
		if (unknown(s + 6, 2))
			known = 2;
		if (known == 2 && unknown(s + 4, 2))
			known = 1;
		if (known == 1 && unknown(s, 4))
			known = 0;
	}
	if ((known >= 1 && (!digits(s, 4, &y) || y == 0)) ||
	    (known >= 2 && (!digits(s + 4, 2, &m) || m < 1 || m > 12)) ||
	    (known >= 3 && (!digits(s + 6, 2, &d) || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap(y)))))
		return bad(c, "not a date");
	switch (known) {
	case 0: buf[0] = '\0'; break;
	case 1: snprintf(buf, sizeof buf, "%04d", y); break;
	case 2: snprintf(buf, sizeof buf, "%04d-%02d", y, m); break;
	default: snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d); break;
	}
	if ((*out = json_string(buf)) == NULL)
		return oom(c);
	return 0;
}

/* Place ::= SEQUENCE { street [10] UTF8String OPTIONAL, city [11] UTF8String,
 * state [12] UTF8String OPTIONAL, country [13] ICAOCountry,
 * zipcode [14] PrintableString OPTIONAL }, explicitly tagged (TR-03110 part 4), in that
 * order. Absent optional parts are "". */
struct place {
	json_t *street, *city, *state, *zip;
	char country[4];
};

static void
place_free(struct place *pl)
{
	json_decref(pl->street);
	json_decref(pl->city);
	json_decref(pl->state);
	json_decref(pl->zip);
	memset(pl, 0, sizeof *pl);
}

static int
place_parse(const struct ctx *c, const unsigned char *v, size_t vlen, struct place *pl)
{
	const unsigned char *p = v, *end = v + vlen, *in, *s;
	size_t inlen, n;
	unsigned last = 0, tag;
	int rc = 0, have_country = 0;
	json_t **slot;

	memset(pl, 0, sizeof *pl);
	while (p < end) {
		tag = *p;
		/* Each part once, in order: DER's SEQUENCE. */
		if (tag < 0xAA || tag > 0xAE || tag <= last) {
			rc = bad(c, "unexpected part in a place");
			goto fail;
		}
		last = tag;
		if ((rc = get(c, &p, end, tag, "unexpected part in a place", &in, &inlen)) != 0)
			goto fail;
		switch (tag) {
		case 0xAD:
			if ((rc = country_value(c, in, inlen, pl->country)) != 0)
				goto fail;
			have_country = 1;
			continue;
		case 0xAE:
			if ((rc = get_only(c, in, inlen, 0x13, &s, &n)) != 0)
				goto fail;
			if (!printable(s, n)) {
				rc = bad(c, "a postal code is not a PrintableString");
				goto fail;
			}
			if ((rc = new_string(c, s, n, &pl->zip)) != 0)
				goto fail;
			continue;
		case 0xAA: slot = &pl->street; break;
		case 0xAB: slot = &pl->city; break;
		default: slot = &pl->state; break;
		}
		if ((rc = utf8_value(c, in, inlen, slot)) != 0)
			goto fail;
	}
	if (pl->city == NULL || !have_country) {
		rc = bad(c, "a place without city or country");
		goto fail;
	}
	if ((pl->street == NULL && (pl->street = json_string("")) == NULL) ||
	    (pl->state == NULL && (pl->state = json_string("")) == NULL) ||
	    (pl->zip == NULL && (pl->zip = json_string("")) == NULL)) {
		rc = oom(c);
		goto fail;
	}
	return 0;
fail:
	place_free(pl);
	return rc;
}

/* GeneralPlace ::= CHOICE { structuredPlace Place, freetextPlace [1] UTF8String,
 * noPlaceInfo [2] UTF8String }: *kind 0 structured (pl), 1 free text, 2 no place
 * (*text the checked text). */
static int
general_place(const struct ctx *c, const unsigned char *v, size_t vlen, int *kind,
    struct place *pl, json_t **text)
{
	const unsigned char *p = v, *end = v + vlen, *in;
	size_t inlen;
	unsigned tag;
	int rc;

	*text = NULL;
	memset(pl, 0, sizeof *pl);
	if (p >= end)
		return bad(c, "malformed: a value is missing");
	tag = *p;
	if (tag == 0x31)
		return bad(c, "several places are not supported");
	if (tag != 0x30 && tag != 0xA1 && tag != 0xA2)
		return bad(c, "unexpected inner type");
	if ((rc = get(c, &p, end, tag, "unexpected inner type", &in, &inlen)) != 0)
		return rc;
	if (p != end)
		return bad(c, "malformed: bytes after the value");
	if (tag == 0x30) {
		*kind = 0;
		return place_parse(c, in, inlen, pl);
	}
	*kind = tag == 0xA1 ? 1 : 2;
	return utf8_value(c, in, inlen, text);
}

/* A structured place of birth as one text: "street, postal code city, state, country",
 * leaving out what is empty and the country when it is Germany. */
static int
place_text(const struct ctx *c, const struct place *pl, json_t **out)
{
	const char *street = json_string_value(pl->street), *city = json_string_value(pl->city);
	const char *state = json_string_value(pl->state), *zip = json_string_value(pl->zip);
	size_t room = strlen(street) + strlen(zip) + strlen(city) + strlen(state) + 16;
	char *buf;
	size_t n = 0;

	if ((buf = malloc(room)) == NULL)
		return oom(c);
	buf[0] = '\0';
#define PART(sep, s) do { \
		if (*(s) != '\0') \
			n += (size_t)snprintf(buf + n, room - n, "%s%s", n > 0 ? (sep) : "", (s)); \
	} while (0)
	PART(", ", street);
	PART(", ", zip);
	PART(*zip != '\0' ? " " : ", ", city);
	PART(", ", state);
	if (strcmp(pl->country, "DE") != 0)
		PART(", ", pl->country);
#undef PART
	*out = json_string(buf);
	free(buf);
	return *out == NULL ? oom(c) : 0;
}

static int
dg_place_of_birth(const struct ctx *c, const unsigned char *v, size_t vlen, json_t **out)
{
	struct place pl;
	json_t *text;
	int kind, rc;

	if ((rc = general_place(c, v, vlen, &kind, &pl, &text)) != 0)
		return rc;
	if (kind == 0) {
		rc = place_text(c, &pl, out);
		place_free(&pl);
		return rc;
	}
	if (kind == 2) {
		/* "No place": the card holds no place of birth, only a remark. */
		json_decref(text);
		if ((text = json_string("")) == NULL)
			return oom(c);
	}
	*out = text;
	return 0;
}

static json_t *
address_new(json_t *street, json_t *zip, json_t *city, const char *country)
{
	json_t *a = json_object(), *co = json_string(country);

	if (a == NULL || co == NULL || street == NULL || zip == NULL || city == NULL ||
	    json_object_set_new(a, "street", street) != 0 ||
	    json_object_set_new(a, "postal_code", zip) != 0 ||
	    json_object_set_new(a, "city", city) != 0 ||
	    json_object_set_new(a, "country", co) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* PlaceOfResidence ::= CHOICE { residence GeneralPlace, multResidence SET OF
 * GeneralPlace }; German documents hold one. */
static int
dg_address(const struct ctx *c, const unsigned char *v, size_t vlen, json_t **out)
{
	struct place pl;
	json_t *text;
	int kind, rc;

	if (vlen == 0) {
		*out = address_new(json_string(""), json_string(""), json_string(""), "");
		return *out == NULL ? oom(c) : 0;
	}
	if ((rc = general_place(c, v, vlen, &kind, &pl, &text)) != 0)
		return rc;
	if (kind == 0) {
		json_incref(pl.street);
		json_incref(pl.zip);
		json_incref(pl.city);
		*out = address_new(pl.street, pl.zip, pl.city, pl.country);
		place_free(&pl);
	} else if (kind == 1)
		/* A free-text address is whole in street: where a form shows the first
		 * line of an address. */
		*out = address_new(text, json_string(""), json_string(""), "");
	else {
		/* "No place" ("keine Wohnung in Deutschland"): no address to give. */
		json_decref(text);
		*out = address_new(json_string(""), json_string(""), json_string(""), "");
	}
	return *out == NULL ? oom(c) : 0;
}

/* MunicipalityID: BCD, in general 14 digits (TR-03127 3.4.3): 0 and the ISO 3166-1
 * numeric country, then the AGS: state 2, 0 and district 1, county 2, 0 and
 * municipality 3. Shown as the AGS in the Federal Statistical Office's grouping,
 * "05 3 15 000" (bb-case(5)), for Germany (0276); for another country with the country
 * in front, "0040 05 3 15 000"; digits of another length or with the padding zeros not zero
 * ungrouped, so nothing the card holds is lost. */
static int
dg_community_id(const struct ctx *c, const unsigned char *v, size_t vlen, json_t **out)
{
	const unsigned char *s;
	char d[33], buf[40];
	size_t n, i;
	int rc;

	if ((rc = get_only(c, v, vlen, 0x04, &s, &n)) != 0)
		return rc;
	if (n > 16)
		return bad(c, "community id too long");
	for (i = 0; i < n; i++) {
		if ((s[i] >> 4) > 9 || (s[i] & 0x0F) > 9)
			return bad(c, "community id is not decimal digits");
		d[2 * i] = (char)('0' + (s[i] >> 4));
		d[2 * i + 1] = (char)('0' + (s[i] & 0x0F));
	}
	d[2 * n] = '\0';
	if (n == 7 && d[6] == '0' && d[10] == '0' && strncmp(d, "0276", 4) == 0)
		snprintf(buf, sizeof buf, "%.2s %.1s %.2s %.3s", d + 4, d + 7, d + 8, d + 11);
	else if (n == 7 && d[6] == '0' && d[10] == '0')
		snprintf(buf, sizeof buf, "%.4s %.2s %.1s %.2s %.3s", d, d + 4, d + 7, d + 8,
		    d + 11);
	else
		snprintf(buf, sizeof buf, "%s", d);
	if ((*out = json_string(buf)) == NULL)
		return oom(c);
	return 0;
}

/* Text ::= CHOICE { uncompressed [1] UTF8String, compressed [2] OCTET STRING }: the
 * non-empty lines of the text. */
static int
dg_residence_permit(const struct ctx *c, const unsigned char *v, size_t vlen, json_t **out)
{
	const unsigned char *p = v, *end = v + vlen, *in, *s;
	size_t inlen, n, i, j;
	json_t *lines, *line;
	int rc;

	if ((lines = json_array()) == NULL)
		return oom(c);
	if (vlen == 0) {
		*out = lines;
		return 0;
	}
	if (*p == 0xA2) {
		json_decref(lines);
		return bad(c, "compressed text is not supported");
	}
	if ((rc = get(c, &p, end, 0xA1, "unexpected inner type", &in, &inlen)) != 0 ||
	    (p != end && (rc = bad(c, "malformed: bytes after the value")) != 0) ||
	    (rc = get_only(c, in, inlen, 0x0C, &s, &n)) != 0 ||
	    (rc = text_check(c, s, n, 1)) != 0) {
		json_decref(lines);
		return rc;
	}
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && s[j] != '\n' && s[j] != '\r'; j++)
			;
		if (j == i)
			continue;
		if ((line = json_stringn((const char *)s + i, j - i)) == NULL ||
		    json_array_append_new(lines, line) != 0) {
			json_decref(lines);
			return oom(c);
		}
	}
	*out = lines;
	return 0;
}

/* DG19's lines go to the front of residence_permit, DG20's to its end. */
static int
set_residence_permit(const struct ctx *c, json_t *identity, json_t *lines)
{
	json_t *rp = json_object_get(identity, "residence_permit");
	size_t i;

	if (!json_is_array(rp)) {
		if ((rp = json_array()) == NULL ||
		    json_object_set_new(identity, "residence_permit", rp) != 0) {
			json_decref(lines);
			return oom(c);
		}
	}
	for (i = 0; i < json_array_size(lines); i++)
		if ((c->dg == 19 ? json_array_insert(rp, i, json_array_get(lines, i)) :
		    json_array_append(rp, json_array_get(lines, i))) != 0) {
			json_decref(lines);
			return oom(c);
		}
	json_decref(lines);
	return 0;
}

/* The value of the data group whose content (inside the outer tag) is v. */
static int
dg_value(const struct ctx *c, const unsigned char *v, size_t vlen, json_t **out)
{
	const unsigned char *s;
	char cc[4];
	size_t n;
	int rc;

	*out = NULL;
	switch (c->dg) {
	case 17:
		return dg_address(c, v, vlen, out);
	case 19:
	case 20:
		return dg_residence_permit(c, v, vlen, out);
	}
	if (vlen == 0) {
		/* An empty data group: the card holds nothing there. */
		*out = json_string("");
		return *out == NULL ? oom(c) : 0;
	}
	switch (c->dg) {
	case 1:
		/* ICAOString (SIZE (2)): "ID", "AR", "AS", "AF", "UB", "OA" ... */
		if ((rc = get_only(c, v, vlen, 0x13, &s, &n)) != 0)
			return rc;
		if (n != 2 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == ' ') ||
		    !((s[1] >= 'A' && s[1] <= 'Z') || s[1] == ' '))
			return bad(c, "not a document type");
		return new_string(c, s, n, out);
	case 2:
		/* IssuingEntity ::= CHOICE { issuingState ICAOCountry, issuingPlace Place } */
		if (v[0] == 0x30) {
			struct place pl;
			const unsigned char *p = v, *in;
			size_t inlen;
			if ((rc = get(c, &p, v + vlen, 0x30, "unexpected inner type", &in,
			    &inlen)) != 0)
				return rc;
			if (p != v + vlen)
				return bad(c, "malformed: bytes after the value");
			if ((rc = place_parse(c, in, inlen, &pl)) != 0)
				return rc;
			memcpy(cc, pl.country, sizeof cc);
			place_free(&pl);
		} else if ((rc = country_value(c, v, vlen, cc)) != 0)
			return rc;
		break;
	case 10:
		if ((rc = country_value(c, v, vlen, cc)) != 0)
			return rc;
		break;
	case 3:
		return date_value(c, v, vlen, 0, out);
	case 8:
		return date_value(c, v, vlen, 1, out);
	case 9:
		return dg_place_of_birth(c, v, vlen, out);
	case 18:
		return dg_community_id(c, v, vlen, out);
	default:
		return utf8_value(c, v, vlen, out);
	}
	if ((*out = json_string(cc)) == NULL)
		return oom(c);
	return 0;
}

int
bb_dg_parse(int dg, const unsigned char *der, size_t len, json_t *identity,
    struct bb_err *e)
{
	struct ctx c = { dg, e };
	const unsigned char *p = der, *v;
	const char *key;
	size_t vlen;
	json_t *val;
	int rc;

	if (dg < 1 || dg > BB_DG_MAX || (der == NULL && len > 0) || !json_is_object(identity))
		return bb_fail(e, BB_USAGE, "data group: bad arguments");
	if ((key = bb_dg_key(dg, NULL)) == NULL)
		return 0;	/* no identity key comes from it */
	if (len == 0 || der[0] != 0x60 + dg)
		return bad(&c, "wrong outer tag");
	if ((rc = get(&c, &p, der + len, 0x60u + (unsigned)dg, "wrong outer tag", &v, &vlen)) != 0)
		return rc;
	if (p != der + len)
		return bad(&c, "malformed: bytes after the data group");
	if ((rc = dg_value(&c, v, vlen, &val)) != 0)
		return rc;
	if (dg == 19 || dg == 20)
		return set_residence_permit(&c, identity, val);
	if (json_object_set_new(identity, key, val) != 0)
		return oom(&c);
	return 0;
}

int
bb_dg_identity(unsigned long dgs, bb_dg_read_fn read, void *arg, json_t **out,
    struct bb_err *e)
{
	json_t *identity = json_object();
	unsigned char *dg;
	const char *key, *type;
	size_t len;
	int n, rc, text;

	*out = NULL;
	if (identity == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	for (n = 1; n <= BB_DG_MAX; n++) {
		if (!(dgs & BB_DG_BIT(n)))
			continue;
		/* DG19 and DG20 hold the conditions of a residence permit (TR-03127: on the
		 * electronic residence permit only); on a German identity card, document type
		 * "ID" in DG1 (read first), they are not asked for: empty, as the card would
		 * answer (6A82), two APDUs less. */
		if ((n == 19 || n == 20) && (dgs & BB_DG_BIT(1))) {
			type = json_string_value(json_object_get(identity, "document_type"));
			if (type != NULL && strcmp(type, "ID") == 0)
				continue;
		}
		rc = read(arg, n, &dg, &len, e);
		if (rc == BB_NOINPUT) {
			/* Not on this card: texts are empty (bb-case(5)). */
			if ((key = bb_dg_key(n, &text)) != NULL && text)
				json_object_set_new(identity, key, json_string(""));
			continue;
		}
		if (rc == 0) {
			rc = bb_dg_parse(n, dg, len, identity, e);
			OPENSSL_clear_free(dg, len);
		}
		if (rc != 0) {
			json_decref(identity);
			return rc;
		}
	}
	if ((dgs & (BB_DG_BIT(19) | BB_DG_BIT(20))) &&
	    json_object_get(identity, "residence_permit") == NULL)
		json_object_set_new(identity, "residence_permit", json_array());
	*out = identity;
	return 0;
}
