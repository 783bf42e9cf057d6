/* Cameras through V4L2 (linux/videodev2.h): one device opened for mmap streaming, frames
 * as RGB images, and the list of cameras for `bb-capture devices`.
 *
 * No camera can be attached where this was written (no /dev/video*, v4l2loopback cannot
 * load): the device path follows the V4L2 API documentation and is untested here; the
 * conversion of what a device delivers (bb_v4l2_convert, bb_image_from_yuyv, MJPEG through
 * bb_image_decode) and the failures without a device are unit-tested. */
#ifndef BB_IMG_V4L2_H
#define BB_IMG_V4L2_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bb_err;
struct bb_image;

#define BB_V4L2_BUFFERS 4	/* asked for; the driver may give more, up to BB_V4L2_MAXBUF */
#define BB_V4L2_MAXBUF 16

struct bb_v4l2 {
	int fd;				/* -1 when closed */
	char path[256];
	int w, h;			/* the frame size the driver agreed to */
	uint32_t fourcc;		/* V4L2_PIX_FMT_YUYV or V4L2_PIX_FMT_MJPEG */
	size_t stride;			/* bytesperline (YUYV) */
	struct { void *p; size_t len; } buf[BB_V4L2_MAXBUF];
	unsigned nbuf;
	int streaming;
};

/* Opens path (e.g. /dev/video0) and starts streaming want_w x want_h: YUYV when the driver
 * gives that size in YUYV, else MJPEG at that size, else the larger of what each format
 * was adjusted to (v->w, v->h say what was agreed). 69 when there is no such device, it is
 * busy or not a streaming capture device, or has neither format. v is always initialised,
 * so bb_v4l2_close may follow any outcome. */
int bb_v4l2_open(const char *path, int want_w, int want_h, struct bb_v4l2 *v,
    struct bb_err *e);
/* The next frame as RGB (out allocated), waiting at most timeout_ms: 69 when none comes
 * (camera unplugged or stalled). Frames the driver flags as damaged and MJPEG frames that
 * do not decode are skipped while time remains; the last such error is returned (65). */
int bb_v4l2_frame(struct bb_v4l2 *v, struct bb_image *out, int timeout_ms, struct bb_err *e);
/* Stops streaming, unmaps and closes; harmless twice. */
void bb_v4l2_close(struct bb_v4l2 *v);

/* One delivered buffer (len bytes used) of the given format to RGB: what bb_v4l2_frame
 * does with a frame, separate so it can be tested without a camera. The decoded size must
 * be w x h (65 otherwise). */
int bb_v4l2_convert(uint32_t fourcc, const unsigned char *buf, size_t len, int w, int h,
    size_t stride, struct bb_image *out, struct bb_err *e);

/* The capture devices: a JSON array of {"path", "name", "driver", "bus", "formats":
 * [{"fourcc", "description", "sizes": [[w, h], ...] or {"min": [w, h], "max": [w, h],
 * "step": [w, h]}}]}, from /dev/video* with the VIDEO_CAPTURE capability (metadata nodes
 * of the same camera are left out). A node that cannot be opened is listed with "error"
 * (e.g. permission denied), so the operator sees why. 0, or 70 out of memory (*out NULL). */
int bb_v4l2_list(json_t **out);
/* "YUYV" for V4L2_PIX_FMT_YUYV: the four characters, non-printable ones as '?'. buf 5. */
const char *bb_v4l2_fourcc_str(uint32_t fourcc, char buf[5]);

#endif
