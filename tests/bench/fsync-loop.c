/* fsync-loop DIR SIZE COUNT [FIRST]: COUNT durable file writes as bb-queue add does them,
 * and nothing else: write SIZE bytes to DIR/tmp/.NAME.tmp (O_EXCL), fsync, close, rename
 * to DIR/new/NAME, fsync DIR/new. The file system's own cost of a durable add, for
 * tests/bench/queue-run; names go on from FIRST so blocks can be run one after another. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
fail(const char *what, const char *path)
{
	fprintf(stderr, "fsync-loop: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

int
main(int argc, char **argv)
{
	char tmp[4200], dst[4200], newdir[4096], *buf;
	long size, count, first, i;
	int fd, dfd;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: fsync-loop DIR SIZE COUNT [FIRST]\n");
		return 2;
	}
	size = atol(argv[2]);
	count = atol(argv[3]);
	first = argc == 5 ? atol(argv[4]) : 0;
	if (size < 0 || count < 0 || first < 0 || (buf = malloc(size ? (size_t)size : 1)) == NULL)
		return 2;
	memset(buf, 'x', (size_t)size);
	snprintf(newdir, sizeof newdir, "%s/new", argv[1]);
	for (i = first; i < first + count; i++) {
		ssize_t n, off = 0;
		snprintf(tmp, sizeof tmp, "%s/tmp/.f%08ld.json.tmp", argv[1], i);
		snprintf(dst, sizeof dst, "%s/f%08ld.json", newdir, i);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
			fail("open", tmp);
		while (off < size) {
			if ((n = write(fd, buf + off, (size_t)(size - off))) < 0) {
				if (errno == EINTR)
					continue;
				fail("write", tmp);
			}
			off += n;
		}
		if (fsync(fd) != 0)
			fail("fsync", tmp);
		if (close(fd) != 0)
			fail("close", tmp);
		if (rename(tmp, dst) != 0)
			fail("rename", dst);
		if ((dfd = open(newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			fail("open", newdir);
		if (fsync(dfd) != 0)
			fail("fsync", newdir);
		close(dfd);
	}
	free(buf);
	return 0;
}
