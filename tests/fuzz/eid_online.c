/* Fuzz target: what AusweisApp's SDK sends (lib/eid/online.c), messages separated by a
 * NUL byte, fed one after the other to one conversation; the last part is also taken as
 * the service's result (the identity from the result address). */
#include "fuzz.h"

#include "diag.h"
#include "eid/dg.h"
#include "eid/online.h"
#include "secmem.h"

#include <jansson.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char pin[] = "123456", can[] = "500540";
	struct bb_secret p = { pin, 6, 7 }, c = { can, 6, 7 };
	struct bb_online o = { "ws://127.0.0.1:1/eID-Kernel", "https://127.0.0.1/tc", 0,
	    &p, &c, NULL, 0, 0 };
	struct bb_online_result r;
	struct bb_online_talk t;
	struct bb_err e = { 0, "" };
	const uint8_t *part[32];
	size_t len[32], n, i, outlen;
	char out[4096];
	json_t *id;
	int rc = -1;

	o.allowed = BB_DG_BIT(4) | BB_DG_BIT(5) | BB_DG_BIT(17);
	bb_online_talk_init(&t, &o, &r);
	if (bb_online_start(&t, out, sizeof out) == 0)
		__builtin_trap();
	n = fuzz_split(data, size, 0, part, len, 32);
	for (i = 0; i < n && rc < 0; i++) {
		rc = bb_online_talk(&t, (const char *)part[i], len[i], out, sizeof out, &outlen, &e);
		if (outlen >= sizeof out || (rc >= 0 && e.msg[0] == '\0' && rc != 0))
			__builtin_trap();
	}
	if (rc < 0)
		bb_online_timeout(&t, out, sizeof out, &outlen);
	if (bb_online_identity((const char *)part[n - 1], len[n - 1], o.allowed, &r, &id, &e) == 0) {
		/* Only the allowed keys and verified. */
		const char *k;
		json_t *v;

		json_object_foreach(id, k, v)
			if (strcmp(k, "given_names") && strcmp(k, "family_names") &&
			    strcmp(k, "address") && strcmp(k, "verified"))
				__builtin_trap();
		json_decref(id);
	}
	return 0;
}
