/* The handwritten signature from an evdev signature pad or touchscreen, or an evemu
 * recording of one through the same decoder: strokes (ISO/IEC 19794-7 channels) and an
 * anti-aliased rendering. */
#ifndef BB_CAPTURE_SIG_H
#define BB_CAPTURE_SIG_H

#include "img/image.h"

#include <jansson.h>
#include <stddef.h>

struct bb_err;

struct bb_sig_point { double x, y; double t; int pressure; };	/* t seconds from first */
struct bb_sig_stroke { struct bb_sig_point *p; size_t n, cap; };
struct bb_sig {
	struct bb_sig_stroke *s; size_t n, cap;
	int x_min, x_max, y_min, y_max, p_min, p_max;	/* axis ranges (EVIOCGABS / A: lines) */
	int x_res, y_res;				/* units per mm, 0 unknown */
};
/* Decoder fed one event at a time, the same for a device and a recording: EV_ABS
 * ABS_X/ABS_Y/ABS_PRESSURE (and ABS_MT_POSITION_X/Y for touchscreens), EV_KEY BTN_TOUCH /
 * BTN_TOOL_PEN, EV_SYN SYN_REPORT commits a point; pen leaving (BTN_TOUCH 0 or pressure 0)
 * ends a stroke, re-entering starts a new one. */
struct bb_sig_decoder;
struct bb_sig_decoder *bb_sig_decoder_new(struct bb_sig *sig);
void bb_sig_decoder_event(struct bb_sig_decoder *d, double t, int type, int code, int value);
void bb_sig_decoder_free(struct bb_sig_decoder *d);
/* evemu recording (evemu-record's text: "# EVEMU 1.3", N:, I:, P:, B:, A: lines, then
 * "E: sec.usec type code value" with hex type/code as evemu writes them (check
 * evemu-tools' format in /usr/share/doc/evemu-tools or evemu-record output) into sig.
 * 65 with FILE:LINE for a malformed line. */
int bb_sig_read_evemu(const char *buf, size_t len, const char *name, struct bb_sig *sig,
    struct bb_err *e);
/* The input devices of dir (/dev/input) a signature can come from: eventN with absolute
 * X and Y and a touch or pen button, as [{"path", "name" (ASCII), "kind": "pen"|"touch",
 * "pressure": bool}]; what cannot be opened or asked is left out. Never NULL but when
 * out of memory. */
json_t *bb_sig_pads(const char *dir);
/* From a device: EVIOCGABS for the ranges, then events until the person taps "done",
 * or BB_SIG_IDLE_MS without input after a stroke with the pen up, or timeout_ms in all:
 * 1 (cancelled) when nothing was drawn; 69 no device. */
int bb_sig_read_device(const char *path, int timeout_ms, struct bb_sig *sig, struct bb_err *e);
/* Too few points (< 20), too small (bounding box < 10 mm wide or < 3 mm high when the
 * resolution is known, else < 5 % of the axis range) or a single dot: 4 with why. */
int bb_sig_check(const struct bb_sig *sig, struct bb_err *e);
/* Strokes as JSON (ISO/IEC 19794-7 channel names): {"channels": ["x","y","t","f"],
 * "x_range": [min, max], "y_range": [..], "f_range": [..] (device units), "resolution":
 * {"x": units/mm or null, "y": ..} or null when neither is known, "strokes":
 * [[{"x":..,"y":..,"t":..,"f":..}, ...], ...]} (the brief's "ranges" spelled out).
 * t is rounded to the millisecond but stored as a JSON real, so dump with
 * JSON_REAL_PRECISION(12) or less to print it with at most 3 decimals. */
json_t *bb_sig_json(const struct bb_sig *sig);
/* Anti-aliased rendering in black on white at dpi (300), stroke width ~0.5 mm scaled by
 * pressure, cropped tightly with a small margin; grey image. */
int bb_sig_render(const struct bb_sig *sig, int dpi, struct bb_image *out, struct bb_err *e);
void bb_sig_free(struct bb_sig *sig);

/* Additions to the contract above. bb_sig_read_evemu and bb_sig_read_device leave sig
 * empty (freed) on failure; bb_sig_free on an empty or zeroed sig is fine. The decoder
 * takes the ranges already in sig (no pressure axis: p_min 0, p_max 1, every point 1).
 * bb_sig_render: dpi <= 0 is 300, outside 50..1200 64; nothing drawn 4; a size over
 * BB_IMAGE_MAX_PIXELS (absurd ranges) 65. Units/mm: the axis resolution, else the other
 * axis's, else a pad 100 mm wide; the crop is the points' box plus the widest stroke's
 * half width plus 2 mm on each side. */
#define BB_SIG_MAX_POINTS 100000	/* more: 65 */
#define BB_SIG_MAX_STROKES 1000		/* more: 65 */
#define BB_SIG_MAX_LINE 256	/* evemu lines; # comments up to 4096 (evemu's "# DMI:") */
#define BB_SIG_MAX_RECORDING (16L * 1024 * 1024)
/* bb_sig_read_device's timeouts: it ends (0) BB_SIG_IDLE_MS after the last event once a
 * stroke is drawn and the pen is up (a pen resting on the pad sends nothing but is not
 * done), or on "done"; 1 when nothing was drawn by timeout_ms, which also ends a
 * signature in progress (0 with what was drawn). timeout_ms <= 0: BB_SIG_TOTAL_MS.
 * It grabs the device (EVIOCGRAB: the pen must not also move the desktop's pointer); 69
 * also when another program holds that grab. */
#define BB_SIG_TOTAL_MS 120000
#define BB_SIG_IDLE_MS 3000
/* The decoder's state for its feeder: 1 once the person pressed "done" (BTN_0..BTN_9,
 * KEY_ENTER, KEY_KPENTER; later events are ignored); 1 while the pen is down. */
int bb_sig_decoder_done(const struct bb_sig_decoder *d);
int bb_sig_decoder_contact(const struct bb_sig_decoder *d);
/* 0, or the status (65 too many points or strokes, 70 out of memory) with its reason in e
 * once the decoder has stopped taking points. */
int bb_sig_decoder_error(const struct bb_sig_decoder *d, struct bb_err *e);

#endif
