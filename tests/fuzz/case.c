/* Fuzz target: the case (bb-case(5)) as every program reads it: parse, validate, the
 * fields programs read from it, and writing it back. */
#include "fuzz.h"

#include "case.h"
#include "diag.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_case_id id;
	json_t *c = NULL;
	char *dump;
	size_t len;
	time_t t;

	if (bb_case_parse("fuzz", (const char *)data, size, &c, &e) != 0) {
		if (e.status != 65)
			abort();	/* a parse error is always bad data */
		return 0;
	}
	id = bb_case_id(c);
	(void)id;
	bb_time_parse(json_string_value(json_object_get(c, "created")), &t);
	bb_time_parse(json_string_value(json_object_get(json_object_get(json_object_get(c,
	    "submission"), "queue"), "since")), &t);
	if ((dump = bb_case_dump(c, &len)) != NULL) {
		json_t *again = NULL;
		/* What bb writes, bb reads back. */
		if (bb_case_parse("dump", dump, len, &again, &e) != 0)
			abort();
		json_decref(again);
		free(dump);
	}
	json_decref(c);
	return 0;
}
