/* Fuzz target: BER-TLV of card answers (lib/eid/tlv.c), walked as the eID code walks them:
 * constructed objects recursively, every value re-encoded and parsed back. */
#include "fuzz.h"

#include "eid/tlv.h"

#include <stdlib.h>
#include <string.h>

static void
walk(const unsigned char *p, const unsigned char *end, int depth)
{
	const unsigned char *v;
	unsigned tag;
	size_t vlen;

	while (p < end) {
		const unsigned char *at = p;
		if (bb_tlv_next(&p, end, &tag, &v, &vlen) != 0) {
			if (p != at)
				__builtin_trap();	/* a failure changes nothing */
			return;
		}
		if (v < at || v + vlen > end || p > end || p <= at)
			__builtin_trap();
		if (tag <= 0xFFFF) {
			unsigned char *w = malloc(2 + 4 + vlen + 1), *q;
			const unsigned char *r, *v2;
			unsigned tag2;
			size_t n, vlen2;
			if (w == NULL)
				abort();
			n = bb_tlv_put(w, tag, v, vlen);
			q = w;
			r = q;
			/* What bb writes it reads back the same (one-byte tags above 0x1E
			 * and two-byte ones: the writer's domain). */
			if (bb_tlv_next(&r, w + n, &tag2, &v2, &vlen2) == 0 &&
			    (vlen2 != vlen || memcmp(v2, v, vlen) != 0))
				__builtin_trap();
			free(w);
		}
		if (depth < 16 && ((tag > 0xFF ? tag >> 8 : tag) & 0x20))
			walk(v, v + vlen, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, data + size, 0);
	return 0;
}
