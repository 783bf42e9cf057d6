/* Reading what the ID card shows before PACE; see card.h. */
#include "eid/card.h"
#include "eid/pcsc.h"
#include "diag.h"
#include "exit.h"

#include <eac/eac.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <stdlib.h>
#include <string.h>

int
bb_card_exchange(struct bb_pcsc *p, const unsigned char *apdu, size_t len,
    unsigned char *resp, size_t *rlen, unsigned *sw, struct bb_err *e)
{
	unsigned char buf[65538 + 2];
	size_t n = sizeof buf;
	int rc;

	if ((rc = bb_pcsc_transmit(p, apdu, len, buf, &n, e)) != 0)
		return rc;
	*sw = (unsigned)buf[n - 2] << 8 | buf[n - 1];
	n -= 2;
	if (n > *rlen)
		return bb_fail(e, BB_PROTOCOL, "the card answered more than was asked for");
	memcpy(resp, buf, n);
	*rlen = n;
	return 0;
}

static int
sw_error(unsigned sw, unsigned fid, struct bb_err *e)
{
	if (sw == 0x6A82)
		return bb_fail(e, BB_NOINPUT, "the card has no file %04X", fid);
	if (sw == 0x6982)
		return bb_fail(e, BB_NOPERM, "file %04X: the card wants a secure channel (PACE) first",
		    fid);
	return bb_fail(e, BB_PROTOCOL, "file %04X: the card answered %04X", fid, sw);
}

/* The short file identifiers of the master file's EFs (BSI TR-03110 part 3, A.1.2); -1
 * for another FID. */
static int
sfi_of(unsigned fid)
{
	switch (fid) {
	case 0x011B: return 0x1B;
	case 0x011C: return 0x1C;
	case 0x011D: return 0x1D;
	case 0x2F00: return 0x1E;
	default: return -1;
	}
}

/* READ BINARY from the first answer on: short, Le 00 (256 bytes), at the next offset
 * until the card says the file has ended (6B00, 6282, less than 256 bytes or none). The
 * first answer, r of rlen bytes with sw, is already there. */
static int
read_rest(struct bb_pcsc *p, unsigned fid, size_t max, unsigned char *resp, size_t rlen,
    unsigned sw, unsigned char **bufp, size_t *lenp, struct bb_err *e)
{
	unsigned char *buf;
	size_t len = 0;
	int rc;

	if ((buf = malloc(max ? max : 1)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	for (;;) {
		if (sw == 0x6B00 || (sw == 0x9000 && rlen == 0))
			break;
		if (sw != 0x9000 && sw != 0x6282) {
			free(buf);
			return sw_error(sw, fid, e);
		}
		if (len + rlen > max) {
			free(buf);
			return bb_fail(e, BB_PROTOCOL, "file %04X: longer than %zu bytes", fid, max);
		}
		memcpy(buf + len, resp, rlen);
		len += rlen;
		if (rlen < 256 || sw == 0x6282 || len >= max || len > 0x7FFF)
			break;
		{
			unsigned char rb[] = { 0x00, 0xB0, (len >> 8) & 0x7F, len & 0xFF, 0x00 };

			rlen = 258;
			if ((rc = bb_card_exchange(p, rb, sizeof rb, resp, &rlen, &sw, e)) != 0) {
				free(buf);
				return rc;
			}
		}
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
bb_card_read_file(struct bb_pcsc *p, unsigned fid, size_t max, unsigned char **bufp,
    size_t *lenp, struct bb_err *e)
{
	unsigned char select[] = { 0x00, 0xA4, 0x02, 0x0C, 0x02, fid >> 8, fid & 0xFF };
	unsigned char resp[258];
	size_t rlen = sizeof resp;
	unsigned sw;
	int rc, sfi = sfi_of(fid);
	/* The master file: a card keeps its selection between connections, and an earlier
	 * step may have left the eID application selected. */
	static const unsigned char mf[] = { 0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00 };

	/* One READ BINARY by short file identifier first, as AusweisApp and OpenSC's
	 * npa-tool read EF.CardAccess: it names the file in the current DF, the MF after a
	 * reset. A card that answers anything but data (another DF selected, no SFI) gets
	 * the long way: SELECT MF, SELECT EF, READ BINARY. */
	if (sfi >= 0) {
		unsigned char rb[] = { 0x00, 0xB0, (unsigned char)(0x80 | sfi), 0x00, 0x00 };

		if ((rc = bb_card_exchange(p, rb, sizeof rb, resp, &rlen, &sw, e)) != 0)
			return rc;
		if ((sw == 0x9000 || sw == 0x6282) && rlen > 0)
			return read_rest(p, fid, max, resp, rlen, sw, bufp, lenp, e);
	}
	rlen = sizeof resp;
	if ((rc = bb_card_exchange(p, mf, sizeof mf, resp, &rlen, &sw, e)) != 0)
		return rc;
	rlen = sizeof resp;
	if ((rc = bb_card_exchange(p, select, sizeof select, resp, &rlen, &sw, e)) != 0)
		return rc;
	if (sw != 0x9000)
		return sw_error(sw, fid, e);
	{
		unsigned char rb[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };

		rlen = sizeof resp;
		if ((rc = bb_card_exchange(p, rb, sizeof rb, resp, &rlen, &sw, e)) != 0)
			return rc;
	}
	return read_rest(p, fid, max, resp, rlen, sw, bufp, lenp, e);
}

/* An OID's name as OpenPACE registers it (id-PACE-…), else the dotted form. */
static void
oid_names(const ASN1_OBJECT *o, char *name, size_t nlen, char *dotted, size_t dlen)
{
	OBJ_obj2txt(dotted, (int)dlen, o, 1);
	if (OBJ_obj2nid(o) != NID_undef)
		OBJ_obj2txt(name, (int)nlen, o, 0);
	else
		snprintf(name, nlen, "%s", dotted);
}

int
bb_card_security_infos(const unsigned char *der, size_t len, json_t **out, struct bb_err *e)
{
	const unsigned char *p = der;
	ASN1_SEQUENCE_ANY *set;
	json_t *list;
	int i;

	EAC_init();
	if ((set = d2i_ASN1_SET_ANY(NULL, &p, (long)len)) == NULL || p != der + len) {
		sk_ASN1_TYPE_pop_free(set, ASN1_TYPE_free);
		return bb_fail(e, BB_PROTOCOL, "EF.CardAccess is not DER SecurityInfos");
	}
	list = json_array();
	for (i = 0; i < sk_ASN1_TYPE_num(set); i++) {
		ASN1_TYPE *t = sk_ASN1_TYPE_value(set, i);
		const unsigned char *q;
		ASN1_SEQUENCE_ANY *seq;
		ASN1_TYPE *f;
		char name[128], dotted[128];
		json_t *o;
		if (t->type != V_ASN1_SEQUENCE)
			continue;
		q = t->value.sequence->data;
		seq = d2i_ASN1_SEQUENCE_ANY(NULL, &q, t->value.sequence->length);
		if (seq == NULL || sk_ASN1_TYPE_num(seq) < 1 ||
		    (f = sk_ASN1_TYPE_value(seq, 0))->type != V_ASN1_OBJECT) {
			sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
			continue;
		}
		oid_names(f->value.object, name, sizeof name, dotted, sizeof dotted);
		o = json_pack("{s:s, s:s}", "protocol", name, "oid", dotted);
		if (sk_ASN1_TYPE_num(seq) > 1 &&
		    (f = sk_ASN1_TYPE_value(seq, 1))->type == V_ASN1_INTEGER)
			json_object_set_new(o, "version",
			    json_integer(ASN1_INTEGER_get(f->value.integer)));
		if (sk_ASN1_TYPE_num(seq) > 2 &&
		    (f = sk_ASN1_TYPE_value(seq, 2))->type == V_ASN1_INTEGER)
			json_object_set_new(o, "parameter_id",
			    json_integer(ASN1_INTEGER_get(f->value.integer)));
		json_array_append_new(list, o);
		sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	}
	sk_ASN1_TYPE_pop_free(set, ASN1_TYPE_free);
	*out = list;
	return 0;
}

int
bb_card_pin_retries(struct bb_pcsc *p, const char *pace_oid, int *retries, struct bb_err *e)
{
	unsigned char apdu[64], oid[32], resp[16];
	ASN1_OBJECT *o = OBJ_txt2obj(pace_oid, 1);
	size_t rlen = sizeof resp, n = 0;
	int olen;
	unsigned sw;
	int rc;

	*retries = -1;
	if (o == NULL || (olen = i2d_ASN1_OBJECT(o, NULL)) < 3 || olen > (int)sizeof oid) {
		ASN1_OBJECT_free(o);
		return bb_fail(e, BB_PROTOCOL, "not a PACE protocol");
	}
	unsigned char *w = oid;
	i2d_ASN1_OBJECT(o, &w);
	ASN1_OBJECT_free(o);
	/* MSE:Set AT: 80 the protocol (the OID without its tag and length), 83 PIN. */
	apdu[n++] = 0x00; apdu[n++] = 0x22; apdu[n++] = 0xC1; apdu[n++] = 0xA4;
	apdu[n++] = (unsigned char)(olen - 2 + 2 + 3);
	apdu[n++] = 0x80;
	apdu[n++] = (unsigned char)(olen - 2);
	memcpy(apdu + n, oid + 2, (size_t)olen - 2);
	n += (size_t)olen - 2;
	apdu[n++] = 0x83; apdu[n++] = 0x01; apdu[n++] = 0x03;
	if ((rc = bb_card_exchange(p, apdu, n, resp, &rlen, &sw, e)) != 0)
		return rc;
	if (sw == 0x9000)
		*retries = 3;
	else if ((sw & 0xFFF0) == 0x63C0)
		*retries = (int)(sw & 0x0F);
	else if (sw == 0x6983)
		*retries = 0;
	return 0;
}
