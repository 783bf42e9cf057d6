/* BER-TLV as ISO/IEC 7816-4 uses it: tags of up to 3 bytes, definite lengths of up to 3
 * bytes after 0x81..0x83. Every length is checked against what is left, so a hostile
 * answer cannot make a parser read past its buffer. */
#ifndef BB_EID_TLV_H
#define BB_EID_TLV_H

#include <stddef.h>

/* The TLV at *pp before end: 0 with its tag, value and length and *pp after it; -1 when
 * it does not fit (nothing changed). */
int bb_tlv_next(const unsigned char **pp, const unsigned char *end, unsigned *tag,
    const unsigned char **val, size_t *vlen);

/* Writes the length octets of len at w (room for 4); returns how many. */
size_t bb_tlv_put_len(unsigned char *w, size_t len);

/* Writes tag (1 or 2 bytes: tags above 0xFF as two), length and value at w; returns the
 * bytes written. w needs room for 2 + 4 + vlen. */
size_t bb_tlv_put(unsigned char *w, unsigned tag, const unsigned char *val, size_t vlen);

/* A command APDU (ISO/IEC 7816-3 12.1) at w: the header, Lc and data when dlen > 0, Le
 * when ne > 0 (1..65536; 256 short and 65536 extended are written as zeros), in extended
 * length when ext (then dlen, ne up to 65535, 65536). Returns its length; w needs room for
 * 4 + 3 + dlen + 3. */
size_t bb_apdu_encode(unsigned char *w, const unsigned char hdr[4], const unsigned char *data,
    size_t dlen, size_t ne, int ext);

#endif
