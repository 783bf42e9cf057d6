/* Whole-file reads with a limit, durable writes, and all-or-nothing stdout. */
#include "files.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

int
bb_read_fd(int fd, const char *name, size_t max, char **bufp, size_t *lenp,
    struct bb_err *e)
{
	size_t cap = 65536, len = 0;
	char *buf, *nbuf;
	ssize_t n;

	if ((buf = malloc(cap)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "%s: out of memory", name);
	for (;;) {
		if (cap - len < 2) {
			/* Never hold more than max + 1 bytes: enough to know it is too much. */
			size_t ncap = cap * 2;
			if (max < SIZE_MAX - 2 && ncap > max + 2)
				ncap = max + 2;
			if (ncap <= cap)
				ncap = cap + 65536;
			if ((nbuf = realloc(buf, ncap)) == NULL) {
				free(buf);
				return bb_fail(e, BB_SOFTWARE, "%s: out of memory", name);
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(buf);
			return bb_fail(e, BB_IOERR, "%s: read: %s", name, strerror(err));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return bb_fail(e, BB_DATAERR, "%s: input larger than the limit of %zu bytes",
			    name, max);
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
bb_read_file(const char *path, size_t max, char **buf, size_t *len, struct bb_err *e)
{
	int fd, rc, err;

	if (path == NULL || strcmp(path, "-") == 0)
		return bb_read_fd(0, "<stdin>", max, buf, len, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno;
		return bb_fail(e, err == ENOENT || err == EACCES || err == ENOTDIR ?
		    BB_NOINPUT : BB_IOERR, "%s: %s", path, strerror(err));
	}
	rc = bb_read_fd(fd, path, max, buf, len, e);
	close(fd);
	return rc;
}

int
bb_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
bb_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = errno;
	close(fd);
	return rc;
}

/* dirname(3) may modify its argument; work on a copy. */
static char *
dir_of(const char *path)
{
	char *copy = strdup(path), *d, *res;

	if (copy == NULL)
		return NULL;
	d = dirname(copy);
	res = strdup(d);
	free(copy);
	return res;
}

int
bb_write_durable(const char *path, const void *buf, size_t len, mode_t mode,
    struct bb_err *e)
{
	return bb_write_durable_at(path, NULL, buf, len, mode, 0, e);
}

int
bb_replace_at(int dirfd, const char *dir, const char *name, const void *buf, size_t len,
    mode_t mode, struct bb_err *e)
{
	char tmp[NAME_MAX + 1];
	unsigned char rnd[8];
	int fd = -1, err, i;

	if (strlen(name) > NAME_MAX - 22)
		return bb_fail(e, BB_CANTCREAT, "%s/%s: name too long", dir, name);
	for (i = 0; i < 8 && fd < 0; i++) {
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			return bb_fail(e, BB_SOFTWARE, "no random numbers");
		snprintf(tmp, sizeof tmp, ".%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", name,
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		return bb_fail(e, err == ENOSPC || err == EDQUOT ? BB_IOERR : BB_CANTCREAT,
		    "%s/%s: cannot create: %s", dir, name, strerror(err));
	}
	/* The mode as asked, whatever the umask. */
	if ((err = bb_write_all(fd, buf, len)) != 0 || (fchmod(fd, mode) != 0 && (err = errno))) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return bb_fail(e, err == ENOSPC || err == EDQUOT ? BB_IOERR : BB_CANTCREAT,
		    "%s/%s: %s", dir, name, strerror(err));
	}
	if (close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
		err = errno;
		unlinkat(dirfd, tmp, 0);
		return bb_fail(e, err == ENOSPC || err == EDQUOT ? BB_IOERR : BB_CANTCREAT,
		    "%s/%s: %s", dir, name, strerror(err));
	}
	return 0;
}

int
bb_write_durable_at(const char *path, const char *tmpdir, const void *buf, size_t len,
    mode_t mode, time_t mtime, struct bb_err *e)
{
	char *dir, *tmp;
	struct timespec times[2];
	const char *base = strrchr(path, '/');
	unsigned char rnd[8];
	size_t tmplen;
	int fd = -1, err, i;

	base = base != NULL ? base + 1 : path;
	if ((dir = dir_of(path)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	tmplen = strlen(tmpdir ? tmpdir : dir) + strlen(base) + 32;
	if ((tmp = malloc(tmplen)) == NULL) {
		free(dir);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	/* Hidden, unique name in the same directory, so rename(2) is atomic. */
	for (i = 0; i < 8 && fd < 0; i++) {
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			memset(rnd, i, sizeof rnd);
		snprintf(tmp, tmplen, "%s/.%s.%02x%02x%02x%02x%02x%02x.tmp",
		    tmpdir ? tmpdir : dir, base,
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		free(tmp);
		free(dir);
		/* A full disk (no inodes, quota) is an I/O error, not a path that cannot be. */
		return bb_fail(e, err == ENOSPC || err == EDQUOT ? BB_IOERR : BB_CANTCREAT,
		    "%s: cannot create: %s", path, strerror(err));
	}
	times[0].tv_sec = times[1].tv_sec = mtime;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	if (mtime == 0)
		times[0].tv_nsec = times[1].tv_nsec = UTIME_NOW;
	if ((err = bb_write_all(fd, buf, len)) != 0 || (fchmod(fd, mode) != 0 && (err = errno)) ||
	    (futimens(fd, times) != 0 && (err = errno)) || (fsync(fd) != 0 && (err = errno))) {
		close(fd);
		unlink(tmp);
		free(tmp);
		free(dir);
		return bb_fail(e, BB_IOERR, "%s: write: %s", path, strerror(err));
	}
	if (close(fd) != 0) {
		err = errno;
		unlink(tmp);
		free(tmp);
		free(dir);
		return bb_fail(e, BB_IOERR, "%s: write: %s", path, strerror(err));
	}
	if (rename(tmp, path) != 0) {
		err = errno;
		unlink(tmp);
		free(tmp);
		free(dir);
		return bb_fail(e, err == ENOSPC || err == EDQUOT ? BB_IOERR : BB_CANTCREAT,
		    "%s: rename: %s", path, strerror(err));
	}
	err = bb_fsync_dir(dir);
	free(tmp);
	free(dir);
	if (err != 0)
		return bb_fail(e, BB_IOERR, "%s: sync directory: %s", path, strerror(err));
	return 0;
}

int
bb_write_stdout(const void *buf, size_t len, struct bb_err *e)
{
	struct stat st;
	off_t start = -1;
	int err;

	fflush(stdout);
	/* With O_APPEND (>>) the offset says nothing until the first write: the end is
	 * where this case starts. */
	if (fstat(1, &st) == 0 && S_ISREG(st.st_mode))
		start = (fcntl(1, F_GETFL) & O_APPEND) ? st.st_size : lseek(1, 0, SEEK_CUR);
	if ((err = bb_write_all(1, buf, len)) != 0) {
		/* Best effort: a truncated case in a file is worse than none. */
		if (start >= 0 && ftruncate(1, start) == 0)
			lseek(1, start, SEEK_SET);
		return bb_fail(e, BB_IOERR, "standard output: %s", strerror(err));
	}
	return 0;
}

int
bb_trust_fd(int fd, const char *path, const char *what, unsigned flags, struct bb_err *e)
{
	struct stat st;
	uid_t me = geteuid();
	mode_t bad;

	if (fstat(fd, &st) != 0)
		return bb_fail(e, BB_IOERR, "%s %s: %s", what, path, strerror(errno));
	if (st.st_uid != me && ((flags & BB_TRUST_MINE) || st.st_uid != 0))
		return bb_fail(e, BB_CONFIG, "%s %s: owned by uid %u, not by the running user "
		    "(uid %u): chown it", what, path, (unsigned)st.st_uid, (unsigned)me);
	bad = (flags & BB_TRUST_SECRET) ? (S_IRWXG | S_IRWXO) : (S_IWGRP | S_IWOTH);
	if (st.st_mode & bad)
		return bb_fail(e, BB_CONFIG, "%s %s: mode %04o is %s by others: chmod %s %s",
		    what, path, (unsigned)(st.st_mode & 07777),
		    (flags & BB_TRUST_SECRET) ? "open to reading" : "writable",
		    (flags & BB_TRUST_SECRET) ? "go-rwx" : "go-w", path);
	return 0;
}

int
bb_trust_open(const char *path, const char *what, unsigned flags, int dir, struct bb_err *e)
{
	char name[4096];
	struct stat st;
	size_t len = strlen(path);
	int fd, err;

	/* "link/" resolves the link whatever O_NOFOLLOW says: the name without the slash
	 * is what must not be a link. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof name) {
		bb_fail(e, BB_CONFIG, "%s %s: path too long", what, path);
		return -1;
	}
	memcpy(name, path, len);
	name[len] = '\0';
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		err = errno;
		/* With O_DIRECTORY a link is ENOTDIR, not ELOOP. */
		if (err == ELOOP || (err == ENOTDIR && lstat(name, &st) == 0 &&
		    S_ISLNK(st.st_mode)))
			bb_fail(e, BB_CONFIG, "%s %s: a symbolic link, not trusted", what, path);
		else
			bb_fail(e, err == ENOENT || err == ENOTDIR || err == EACCES ? BB_NOINPUT :
			    BB_IOERR, "%s %s: %s", what, path, strerror(err));
		return -1;
	}
	if (bb_trust_fd(fd, path, what, flags, e) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
bb_read_trusted(const char *path, const char *what, unsigned flags, size_t max, char **buf,
    size_t *len, struct bb_err *e)
{
	int fd, rc;

	if ((fd = bb_trust_open(path, what, flags, 0, e)) < 0)
		return e != NULL ? e->status : BB_CONFIG;
	rc = bb_read_fd(fd, path, max, buf, len, e);
	close(fd);
	return rc;
}
