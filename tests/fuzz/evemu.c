/* Fuzz target: evemu recordings of a signature (lib/capture/sigevemu.c, sig.c), then what
 * bb-capture does with what they hold: check, JSON, rendering (when the picture stays small). */
#include "fuzz.h"

#include "capture/sig.h"
#include "diag.h"

#include <jansson.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_sig sig = { 0 };
	struct bb_image im = { 0 };
	json_t *j;

	if (bb_sig_read_evemu((const char *)data, size, "fuzz.evemu", &sig, &e) != 0)
		return 0;
	bb_sig_check(&sig, &e);
	if ((j = bb_sig_json(&sig)) != NULL) {
		char *s = json_dumps(j, JSON_REAL_PRECISION(12));
		free(s);
		json_decref(j);
	}
	/* Rendering costs the picture's size: at 50 dpi only what stays small. */
	if (bb_sig_render(&sig, 50, &im, &e) == 0)
		bb_image_free(&im);
	bb_sig_free(&sig);
	return 0;
}
