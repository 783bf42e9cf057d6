/* Speech output on the citizen's screen (EN 301 549 5.1.3): a text spoken by espeak-ng
 * into a WAV the page plays. */
#ifndef BB_SCREEN_SPEECH_H
#define BB_SCREEN_SPEECH_H

#include <stddef.h>

struct bb_err;

#define BB_SPEECH_MAX 2048	/* bytes of text in one utterance */

/* Speaks text (UTF-8, 1 to BB_SPEECH_MAX bytes) with the espeak-ng voice of lang (a
 * catalogue's language tag) into a WAV: *wav (malloc'd, *len bytes; the caller wipes
 * and frees it). espeak-ng is found through PATH and gets the text on its stdin, never
 * in its arguments; it is killed after a few seconds. Nothing of the text is logged.
 * 0; 65 no text or too long; 69 espeak-ng missing, failed or without that voice; 75 it
 * hung; 70 out of memory. */
int bb_speech_render(const char *text, const char *lang, unsigned char **wav, size_t *len,
    struct bb_err *e);

/* The headset jack (form.headset): an evdev device, or a FIFO of struct input_event
 * records (tests). A thread of its own calls cb(arg, 1) when SW_HEADPHONE_INSERT says
 * a headset is plugged in, cb(arg, 0) when it is pulled out, and at the start with the
 * state a device reports. cb must not block for long. 78 when path is no character
 * device or FIFO. */
struct bb_headset;
int bb_headset_start(const char *path, void (*cb)(void *, int), void *arg,
    struct bb_headset **out, struct bb_err *e);
void bb_headset_stop(struct bb_headset *h);
/* The same for any key (type EV_KEY) or switch (EV_SW) code of an input device: cb(arg,
 * value) for each of its events (a key: 1 pressed, 0 released, 2 repeated), and at the
 * start the state the device reports when initial is set. key names the setting in
 * messages. Stopped with bb_headset_stop. 78 for no such code, or no device. */
int bb_input_watch(const char *key, const char *path, int type, int code, int initial,
    void (*cb)(void *, int), void *arg, struct bb_headset **out, struct bb_err *e);

/* bb-form presence in-process: waits for the event ev (kiosk.presence_event, as
 * bb_parse_input_event reads it) on the input device dev (kiosk.presence_device); only
 * an event counts, not the state the device has at the start. 0 when it came; 78 when
 * either is not set, or as bb_input_watch. */
int bb_presence_wait(const char *dev, const char *ev, struct bb_err *e);

#endif
