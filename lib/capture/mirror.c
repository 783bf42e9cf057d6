/* The live mirror's files, written for a screen to read (capture.h). */
#include "capture/capture.h"

#include "diag.h"
#include "exit.h"
#include "files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
bb_photo_mirror_write(int dfd, const char *dir, const struct bb_image *frame,
    const struct bb_photo_result *r, long n, struct bb_err *e)
{
	struct bb_image m;
	unsigned char *jpg;
	char *js;
	size_t len;
	json_t *g;
	int mw, rc;

	/* At most 640 on either side: a tall frame must not make a JPEG too tall to encode. */
	mw = frame->w >= frame->h ? 640 : (int)((long)640 * frame->w / frame->h);
	if ((rc = bb_photo_mirror(frame, r, mw > 0 ? mw : 1, &m, e)) != 0)
		return rc;
	rc = bb_image_jpeg(&m, &jpg, &len, e);
	bb_image_free(&m);
	if (rc != 0)
		return rc;
	rc = bb_replace_at(dfd, dir, "mirror.jpg", jpg, len, 0640, e);
	free(jpg);
	if (rc != 0)
		return rc;
	if ((g = bb_photo_json(r)) == NULL ||
	    json_object_set_new(g, "frame", json_integer(n)) != 0 ||
	    (js = json_dumps(g, JSON_COMPACT)) == NULL) {
		json_decref(g);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	json_decref(g);
	rc = bb_replace_at(dfd, dir, "guidance.json", js, strlen(js), 0640, e);
	free(js);
	return rc;
}

void
bb_photo_mirror_remove(int dfd)
{
	int saved = errno;

	if (dfd >= 0) {
		(void)unlinkat(dfd, "mirror.jpg", 0);
		(void)unlinkat(dfd, "guidance.json", 0);
	}
	errno = saved;
}
