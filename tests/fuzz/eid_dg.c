/* Fuzz target: the data groups of the eID application (lib/eid/dg.c), what the card
 * answers to READ BINARY; the first byte picks the data group, and the CHAT rights and the
 * --fields list are parsed from the input too. */
#include "fuzz.h"

#include "diag.h"
#include "eid/dg.h"

#include <jansson.h>
#include <stdlib.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	unsigned long dgs;
	json_t *id;
	int dg;

	if (size < 1)
		return 0;
	dg = 1 + data[0] % BB_DG_MAX;
	id = json_object();
	/* Twice into the same identity: DG19 and DG20 add to one list. */
	if (bb_dg_parse(dg, data + 1, size - 1, id, &e) == 0)
		bb_dg_parse(dg, data + 1, size - 1, id, &e);
	else if (json_object_size(id) != 0)
		__builtin_trap();	/* a refused DG leaves the identity unchanged */
	char *s = json_dumps(id, 0);
	free(s);
	json_decref(id);
	if (size >= 6) {
		unsigned char chat[BB_DG_CHAT_LEN];
		dgs = bb_dg_chat_rights(data + 1);
		if (bb_dg_chat(dgs, chat, sizeof chat) != BB_DG_CHAT_LEN)
			__builtin_trap();
	}
	if (size < 256) {
		char *list = fuzz_str(data + 1, size - 1);
		bb_dg_fields(list, &dgs, &e);
		free(list);
	}
	return 0;
}
