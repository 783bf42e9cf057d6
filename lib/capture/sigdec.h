/* The signature decoder's state (sig.c), shared by the files that feed it: evemu
 * recordings (sigevemu.c) and devices (sigdev.c) set its axis mode and start state.
 * Only for lib/capture/sig*.c; everyone else uses capture/sig.h. */
#ifndef BB_CAPTURE_SIGDEC_H
#define BB_CAPTURE_SIGDEC_H

#include "capture/sig.h"


#ifndef ABS_MT_SLOT
#define ABS_MT_SLOT 0x2f
#endif
#ifndef ABS_MT_TRACKING_ID
#define ABS_MT_TRACKING_ID 0x39
#endif


enum { MODE_AUTO, MODE_ST, MODE_MT };

struct bb_sig_decoder {
	struct bb_sig *sig;
	int mode;		/* MODE_ST: ABS_X/Y; MODE_MT: slot 0's MT position */
	int st_seen;		/* MODE_AUTO: an ABS_X/Y came, MT positions are ignored */
	int x, y, p;		/* last values */
	int have_x, have_y, have_p;
	int mx, my, have_mx, have_my;	/* slot 0 / first contact */
	int slot;		/* current MT slot */
	int mt_contact;		/* type A: contacts seen in this frame (SYN_MT_REPORT) */
	int tid;		/* slot 0's tracking id, -1 none */
	int have_tid;
	int touch, tool;	/* -1 never reported, else 0/1 */
	int down;		/* the last frame committed a point (inside a stroke) */
	int changed;		/* x, y or p changed since the last point */
	int dropping;		/* after SYN_DROPPED until SYN_REPORT */
	int done;
	int status;		/* 0, or 65/70 once the decoder stopped */
	char why[128];
	int have_t0;
	double t0, tlast;
	size_t npoints;
};

#endif
