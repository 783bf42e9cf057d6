/* photofix: passport photo fixtures for lib/capture/photo.c, composed in memory. This
 * directory (tests/rig/card, librig.a) holds the simulated ID card and, despite its name,
 * also these photo fixtures: tests/unit/photo.c and tests/rig/compose-photo.c (for
 * tests/0810-capture.t) both use them.
 *
 * The head of skimage's astronaut.png (public domain, 512x512, from python3-skimage) cut
 * out with a soft elliptical edge, scaled and placed on uniform grey #C0C0C0 at the
 * geometry of TR-03121-3 table 5.3 (head height 0.75, eyes at 0.4 from the top, centred).
 * Kinds (photofix_make), all PHOTOFIX_W x PHOTOFIX_H RGB:
 *   compliant  every mandatory measure passes (scale PHOTOFIX_K, eyes at PHOTOFIX_MX/MY)
 *   small      scale 4: too far away ("näher")
 *   left       eyes at x 450: on the image's left, the person must move "nach links"
 *   right      eyes at x 1150: "nach rechts"
 *   tilted     compliant, rolled 15° counter-clockwise on screen ("gerade")
 *   two        two heads at scale 5, eyes at x 420 and 1180 ("Mehrere Gesichter")
 *   blank      the grey alone, no face ("Kein Gesicht"; needs no astronaut.png)
 *   dark       compliant, every sample divided by 10 ("Mehr Licht")
 *   blurred    compliant, three box blurs of radius 12 ("stillhalten") */
#ifndef BB_RIG_PHOTOFIX_H
#define BB_RIG_PHOTOFIX_H

#include "capture/haar.h"	/* struct bb_rect */
#include "img/image.h"

struct bb_err;

/* Where astronaut.png is; the environment's BB_ASTRONAUT, when set and not empty, names
 * another file instead (so a test can see the answer when it is missing). */
#define PHOTOFIX_ASTRONAUT "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"

/* In astronaut.png (OpenCV 4.6 detectMultiScale, scale 1.1, 3-5 neighbours): the face
 * box, the eyes found in its upper half, their midpoint, and the head ellipse cut out
 * (hair narrowed a little so that it stays clear of the photo's side margins). */
extern const struct bb_rect PHOTOFIX_A_FACE, PHOTOFIX_A_EYE_L, PHOTOFIX_A_EYE_R;
#define PHOTOFIX_A_MX 222.75
#define PHOTOFIX_A_MY 100.25
#define PHOTOFIX_A_ELL_X 226.0
#define PHOTOFIX_A_ELL_Y 112.0
#define PHOTOFIX_A_ELL_A 57.0
#define PHOTOFIX_A_ELL_B 100.0
/* The compliant placement on a 1600x2000 canvas: scale 9.5 (face box 902 px: the crop
 * is 1.09 frame pixels per output pixel, no upscaling), eye midpoint at (800, 826), so
 * the crop (eyes 0.1 of its height above its centre) is centred in the canvas. */
#define PHOTOFIX_W 1600
#define PHOTOFIX_H 2000
#define PHOTOFIX_GREY 0xC0
#define PHOTOFIX_K 9.5
#define PHOTOFIX_MX 800.0
#define PHOTOFIX_MY 826.0
#define PHOTOFIX_COS15 0.96592582628906831
#define PHOTOFIX_SIN15 0.25881904510252074

/* One fixture of the kinds above into out (allocated; bb_image_free). 0; 64 for an
 * unknown kind; 66 when astronaut.png is missing (a kind that needs it); 65 when it does
 * not decode; 70 out of memory. */
int photofix_make(const char *kind, struct bb_image *out, struct bb_err *e);
/* The kinds, NULL-terminated, in the order above. */
extern const char *const photofix_kinds[];

/* The pieces, for other geometries. */
/* astronaut.png, loaded once and kept (photofix_release frees it): 0, 66 missing, 65. */
int photofix_astronaut(const struct bb_image **a, struct bb_err *e);
void photofix_release(void);
/* A w x h RGB canvas of one grey. */
int photofix_canvas(struct bb_image *im, int w, int h, unsigned char grey, struct bb_err *e);
/* The astronaut's head onto cv: its eye midpoint at (dx, dy), scaled by k, turned
 * counter-clockwise on screen by the angle of cosine cs, sine sn; bilinear, blended by
 * the soft edge of the head ellipse. 66/65 as photofix_astronaut. */
int photofix_place(struct bb_image *cv, double dx, double dy, double k, double cs, double sn,
    struct bb_err *e);
/* A source rectangle of astronaut.png where the unturned placement puts it. */
struct bb_rect photofix_placed(const struct bb_rect *s, double dx, double dy, double k);
/* Three box blurs of radius rad (close to a Gaussian of sigma rad): a shaken camera. */
int photofix_blur(struct bb_image *im, int rad, struct bb_err *e);

#endif
