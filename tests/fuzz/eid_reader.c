/* Fuzz target: what a PIN-pad reader answers to EstablishPACEChannel (PACE in the reader,
 * lib/eid/readerpace.c): the output parsed, its result code as an exit status, and the
 * context bb-eid builds from it (EF.CardAccess as the reader read it, the card's key and
 * CARs, lib/eid/pace.c). Input: the reader's output as it comes. */
#include "fuzz.h"

#include "diag.h"
#include "eid/pace.h"
#include "eid/readerpace.h"
#include "exit.h"

#include <stdio.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_reader_pace o;
	struct bb_pace *p = NULL;
	int rc, retries = -1;

	memset(&o, 0, sizeof o);
	if ((rc = bb_reader_pace_output(data, size, &o, &e)) != 0) {
		if (rc != BB_PROTOCOL || o.card_access != NULL || o.id_icc != NULL)
			__builtin_trap();	/* refused, and nothing of it kept */
		goto out;
	}
	if (strlen(o.car) >= sizeof o.car || strlen(o.car_prev) >= sizeof o.car_prev)
		__builtin_trap();
	if (o.result != 0) {
		rc = bb_reader_pace_result(&o, &retries, &e);
		if (rc == 0)
			__builtin_trap();	/* a failed result is never success */
	} else if (o.card_access != NULL && o.id_icc != NULL) {
		rc = bb_pace_from_reader(o.card_access, o.card_access_len, o.id_icc,
		    o.id_icc_len, o.car, o.car_prev, &p, &e);
		bb_pace_free(p);
	}
out:
	if (fuzz_verbose())
		fprintf(stderr, "eid_reader: %d %s\n", rc, rc ? e.msg : "");
	bb_reader_pace_free(&o);
	return 0;
}
