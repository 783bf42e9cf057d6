/* The live photo mirror (bb-form(5) SCREENS, mirror): the frame and the guidance that
 * bb-capture photo --mirror DIR replaces after every frame, read for the kiosk page.
 * The frame shows a face: it is read into memory for one answer and nowhere else. */
#include "screen/screen.h"
#include "capture/photo.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRAME (2u << 20)	/* bb-capture's is at most 640x640: ~100 KB */
#define MAX_GUIDANCE (64u << 10)

int
bb_mirror_open(const char *dir, struct bb_err *e)
{
	if (dir[0] != '/')
		return bb_fail(e, BB_USAGE, "mirror %s: not an absolute path", dir), -1;
	/* Who can write there can show any picture on the citizen's screen. */
	return bb_trust_open(dir, "mirror directory", 0, 1, e);
}

/* DIR/name whole, a regular file of at most max bytes, never through a link; *st its
 * status. -1 when there is none or it is anything else. */
static int
read_at(int dfd, const char *name, size_t max, char **buf, size_t *len, struct stat *st)
{
	size_t got = 0;
	ssize_t n;
	char *b;
	int fd;

	*buf = NULL;
	/* O_NONBLOCK: a FIFO planted there would block; it is refused below anyway. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size <= 0 ||
	    (unsigned long long)st->st_size > max || (b = malloc((size_t)st->st_size)) == NULL) {
		close(fd);
		return -1;
	}
	/* Replaced by rename, never written in place: its size is its size. */
	while (got < (size_t)st->st_size) {
		n = read(fd, b + got, (size_t)st->st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st->st_size) {
		explicit_bzero(b, got);
		free(b);
		return -1;
	}
	*buf = b;
	*len = got;
	return 0;
}

int
bb_mirror_frame(int dfd, char **buf, size_t *len)
{
	struct stat st;

	return read_at(dfd, "mirror.jpg", MAX_FRAME, buf, len, &st);
}

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

void
bb_mirror_guide(int dfd, struct bb_guide *g)
{
	const char *name, *hkey;
	json_t *j, *m;
	struct stat st;
	char *buf;
	size_t len;

	memset(g, 0, sizeof *g);
	copy(g->key, sizeof g->key, "guide.wait");
	/* The frame's own time stamp names it: each is a new file. */
	if (fstatat(dfd, "mirror.jpg", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		snprintf(g->stamp, sizeof g->stamp, "%lld.%09ld.%llu",
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (unsigned long long)st.st_ino);
	if (read_at(dfd, "guidance.json", MAX_GUIDANCE, &buf, &len, &st) != 0)
		return;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (j == NULL)
		return;
	if (json_is_true(json_object_get(j, "compliant"))) {
		copy(g->key, sizeof g->key, "guide.good");
		json_decref(j);
		return;
	}
	/* The measures come in the order guidance helps (bb-capture(1) Guidance): the
	 * first mandatory one failing with a hint is the one thing to change now. */
	json_object_foreach(json_object_get(j, "measures"), name, m) {
		const char *en = json_string_value(json_object_get(m, "hint_en"));
		if (json_is_false(json_object_get(m, "pass")) &&
		    json_is_true(json_object_get(m, "mandatory")) && en != NULL) {
			hkey = bb_photo_hint_key(en);
			snprintf(g->key, sizeof g->key, "guide.%s", hkey != NULL ? hkey : name);
			copy(g->en, sizeof g->en, en);
			copy(g->de, sizeof g->de,
			    json_string_value(json_object_get(m, "hint_de")));
			break;
		}
	}
	json_decref(j);
}
