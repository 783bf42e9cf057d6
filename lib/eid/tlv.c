/* BER-TLV reading and writing; see tlv.h. */
#include "eid/tlv.h"

#include <string.h>

int
bb_tlv_next(const unsigned char **pp, const unsigned char *end, unsigned *tag,
    const unsigned char **val, size_t *vlen)
{
	const unsigned char *p = *pp;
	size_t len, i, nlen;

	if (p >= end)
		return -1;
	*tag = *p++;
	if ((*tag & 0x1F) == 0x1F) {
		for (i = 0; ; i++) {
			if (p >= end || i == 2)
				return -1;
			*tag = *tag << 8 | *p;
			if (!(*p++ & 0x80))
				break;
		}
	}
	if (p >= end)
		return -1;
	len = *p++;
	if (len & 0x80) {
		nlen = len & 0x7F;
		if (nlen == 0 || nlen > 3 || (size_t)(end - p) < nlen)
			return -1;
		for (len = 0, i = 0; i < nlen; i++)
			len = len << 8 | *p++;
	}
	if ((size_t)(end - p) < len)
		return -1;
	*val = p;
	*vlen = len;
	*pp = p + len;
	return 0;
}

size_t
bb_tlv_put_len(unsigned char *w, size_t len)
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

size_t
bb_tlv_put(unsigned char *w, unsigned tag, const unsigned char *val, size_t vlen)
{
	size_t n = 0;

	if (tag > 0xFF)
		w[n++] = (unsigned char)(tag >> 8);
	w[n++] = (unsigned char)tag;
	n += bb_tlv_put_len(w + n, vlen);
	if (vlen > 0)
		memcpy(w + n, val, vlen);
	return n + vlen;
}

size_t
bb_apdu_encode(unsigned char *w, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, int ext)
{
	size_t n = 4;

	memcpy(w, hdr, 4);
	if (dlen > 0) {
		if (ext) {
			w[n++] = 0x00;
			w[n++] = (unsigned char)(dlen >> 8);
		}
		w[n++] = (unsigned char)dlen;
		memcpy(w + n, data, dlen);
		n += dlen;
	}
	if (ne > 0) {
		if (ext && dlen == 0)
			w[n++] = 0x00;
		if (ext)
			w[n++] = (unsigned char)(ne >> 8);	/* 65536: 00 00 */
		w[n++] = (unsigned char)ne;			/* 256 short: 00 */
	}
	return n;
}
