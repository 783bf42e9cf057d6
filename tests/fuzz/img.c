/* Fuzz target: images from files and cameras (lib/img): PNG, JPEG, PPM/PGM by magic, a
 * stream of PPM frames, and YUYV frames with sizes from the input. */
#include "fuzz.h"

#include "diag.h"
#include "img/image.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_image im = { 0 }, grey = { 0 };
	size_t off = 0, n;
	int frames = 0;

	/* A stream as a camera or a pipe gives it: frame after frame. */
	while (off < size && frames < 4) {
		n = bb_image_frame_len(data + off, size - off);
		if (n == 0 || n > size - off)
			__builtin_trap();	/* a frame is never empty nor longer than what is left */
		memset(&im, 0, sizeof im);
		if (bb_image_decode(data + off, n, "fuzz", &im, &e) == 0) {
			if (im.w <= 0 || im.h <= 0 || im.ch != 3 || im.px == NULL)
				__builtin_trap();
			if ((long)im.w * im.h <= 1L << 20 && bb_image_grey(&im, &grey, &e) == 0)
				bb_image_free(&grey);
			bb_image_free(&im);
		}
		off += n;
		frames++;
	}
	/* YUYV: width and height from the first bytes, the rest the frame. */
	if (size >= 4) {
		int w = 2 * (1 + data[0] % 64), h = 1 + data[1] % 64;
		size_t stride = (size_t)w * 2 + data[2] % 8;
		if (bb_image_from_yuyv(data + 4, size - 4, w, h, &im, &e) == 0)
			bb_image_free(&im);
		if (bb_image_from_yuyv_stride(data + 4, size - 4, w, h, stride, &im, &e) == 0)
			bb_image_free(&im);
	}
	return 0;
}
