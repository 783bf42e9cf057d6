/* Fuzz target: evdev events from a signature pad or touchscreen through the decoder
 * (lib/capture/sig.c), as bb_sig_read_device (sigdev.c) feeds them. Input: axis ranges
 * (6 x 16 bits) then events of 8 bytes: time step (16 bits, ms), type, code (8 bits each), value (32). */
#include "fuzz.h"

#include "capture/sig.h"
#include "diag.h"

#include <string.h>

static int
get16(const uint8_t *p)
{
	return (int16_t)(p[0] | p[1] << 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_sig sig = { 0 };
	struct bb_sig_decoder *d;
	double t = 0;
	size_t i;

	if (size < 12)
		return 0;
	sig.x_min = get16(data);
	sig.x_max = get16(data + 2);
	sig.y_min = get16(data + 4);
	sig.y_max = get16(data + 6);
	sig.p_min = get16(data + 8);
	sig.p_max = get16(data + 10);
	sig.x_res = data[0] % 50;
	sig.y_res = data[1] % 50;
	if ((d = bb_sig_decoder_new(&sig)) == NULL)
		return 0;
	for (i = 12; i + 8 <= size; i += 8) {
		int32_t v;
		memcpy(&v, data + i + 4, 4);
		t += (data[i] | data[i + 1] << 8) / 1000.0;
		bb_sig_decoder_event(d, t, data[i + 2] % 6, data[i + 3] | (data[i + 2] & 0x80) << 1, v);
		bb_sig_decoder_done(d);
		bb_sig_decoder_contact(d);
	}
	bb_sig_decoder_error(d, &e);
	bb_sig_decoder_free(d);
	bb_sig_check(&sig, &e);
	json_decref(bb_sig_json(&sig));
	struct bb_image im = { 0 };
	if (bb_sig_render(&sig, 50, &im, &e) == 0)
		bb_image_free(&im);
	bb_sig_free(&sig);
	return 0;
}
