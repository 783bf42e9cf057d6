/* Spool files: layout, scanning, locks, durable writes, renames between states, the
 * reasons of corrupt entries and the mtimes that say when: every path of the spool is
 * made here. */
#include "queue/spool.h"
#include "case.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static const char *const state_names[BB_Q_NSTATES] = {
	"deferred", "active", "delivered", "failed", "corrupt",
};

const char *
bb_qstate_name(enum bb_qstate st)
{
	return (unsigned)st < BB_Q_NSTATES ? state_names[st] : "?";
}

int
bb_qstate_parse(const char *name)
{
	int i;

	for (i = 0; i < BB_Q_NSTATES; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

char *
bb_spool_default_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char buf[4096];

	if (geteuid() == 0)
		return strdup("/var/spool/bb");
	if (x != NULL && x[0] == '/')
		snprintf(buf, sizeof buf, "%s/bb/spool", x);
	else if (home != NULL && home[0] == '/')
		snprintf(buf, sizeof buf, "%s/.local/state/bb/spool", home);
	else {
		/* No shared directory such as /tmp: whoever made the spool there first would
		 * read and plant the user's cases. */
		errno = ENOENT;
		return NULL;
	}
	return strdup(buf);
}

void
bb_spool_path(const struct bb_spool *s, enum bb_qstate st, const char *name, char *buf,
    size_t len)
{
	if (name != NULL)
		snprintf(buf, len, "%s/%s/%s", s->dir, bb_qstate_name(st), name);
	else
		snprintf(buf, len, "%s/%s", s->dir, bb_qstate_name(st));
}

/* corrupt/name.reason: why a corrupt entry is there (bb_spool_corrupt). */
static void
reason_path(const struct bb_spool *s, const char *name, char *buf, size_t len)
{
	bb_spool_path(s, BB_Q_CORRUPT, name, buf, len);
	strncat(buf, ".reason", len - strlen(buf) - 1);
}

/* mkdir -p with 0700 for what it creates. */
static int
make_dirs(const char *path)
{
	char buf[4096], *p;

	if (strlen(path) >= sizeof buf)
		return ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

/* Opens dir/name (name NULL: dir itself) as a directory without following a symbolic
 * link and checks that the running user owns it and no one else can write to it (bb(7)
 * SECURITY): the cases in it are delivered with the user's credentials. With create,
 * makes it first (0700). A missing one: 0 and *fd -1 when missing_ok. */
static int
open_trusted_dir(int at, const char *dir, const char *name, int create, int missing_ok,
    int *fd, struct bb_err *e)
{
	char path[4200];
	struct stat sb;
	int err;

	*fd = -1;
	if (name != NULL)
		snprintf(path, sizeof path, "%s/%s", dir, name);
	else
		snprintf(path, sizeof path, "%s", dir);
	if (create && name != NULL && mkdirat(at, name, 0700) != 0 && errno != EEXIST)
		return bb_fail(e, BB_CANTCREAT, "spool %s: cannot create: %s", path,
		    strerror(errno));
	*fd = name != NULL ? openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) :
	    open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		err = errno;
		if (err == ENOENT && missing_ok)
			return 0;
		/* O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a link to a directory. */
		if (err == ELOOP || (err == ENOTDIR && (name != NULL ? fstatat(at, name, &sb,
		    AT_SYMLINK_NOFOLLOW) : lstat(dir, &sb)) == 0 && S_ISLNK(sb.st_mode)))
			return bb_fail(e, BB_CONFIG, "spool %s: a symbolic link, not trusted: "
			    "give the real directory", path);
		return bb_fail(e, err == ENOENT || err == ENOTDIR ? BB_CANTCREAT : BB_IOERR,
		    "spool %s: %s", path, strerror(err));
	}
	if (bb_trust_fd(*fd, path, "spool", BB_TRUST_MINE, e) != 0) {
		close(*fd);
		*fd = -1;
		return e->status;
	}
	return 0;
}

int
bb_spool_open(struct bb_spool *s, const char *dir, int create, struct bb_err *e)
{
	int i, err, fd, sfd, rc;

	memset(s, 0, sizeof *s);
	if ((s->dir = strdup(dir)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	if (create && (err = make_dirs(dir)) != 0) {
		bb_spool_close(s);
		return bb_fail(e, BB_CANTCREAT, "spool %s: cannot create: %s", dir, strerror(err));
	}
	/* Without create a missing spool is fine: it reads as empty. */
	if ((rc = open_trusted_dir(AT_FDCWD, dir, NULL, create, !create, &fd, e)) != 0 ||
	    fd < 0) {
		if (rc != 0)
			bb_spool_close(s);
		return rc;
	}
	for (i = -1; i < BB_Q_NSTATES && rc == 0; i++) {
		rc = open_trusted_dir(fd, dir, i < 0 ? "tmp" : bb_qstate_name((enum bb_qstate)i),
		    create, !create, &sfd, e);
		if (sfd >= 0)
			close(sfd);
	}
	close(fd);
	if (rc != 0)
		bb_spool_close(s);
	return rc;
}

void
bb_spool_close(struct bb_spool *s)
{
	free(s->dir);
	s->dir = NULL;
}

int
bb_spool_prepare(struct bb_spool *s, int *none, struct bb_err *e)
{
	struct stat sb;
	char *dir = s->dir;
	int rc;

	*none = lstat(s->dir, &sb) != 0 && errno == ENOENT;
	if (*none)
		return 0;
	rc = bb_spool_open(s, dir, 1, e);
	free(dir);
	return rc;
}

void
bb_spool_top_path(const struct bb_spool *s, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->dir, name);
}

int
bb_spool_write_top(const struct bb_spool *s, const char *name, const char *buf,
    size_t len, struct bb_err *e)
{
	char path[4200], tmpdir[4200];

	bb_spool_top_path(s, name, path, sizeof path);
	bb_spool_top_path(s, "tmp", tmpdir, sizeof tmpdir);
	return bb_write_durable_at(path, tmpdir, buf, len, 0600, 0, e);
}

/* The file name at the top of the spool, locked as record (fcntl) or flock says
 * (spool.h says why run.lock differs). Only run.lock is ever tried without waiting: the
 * 75 is its. */
static int
lock_top(const struct bb_spool *s, const char *name, int record, int wait, int *fd,
    struct bb_err *e)
{
	char path[4200];

	bb_spool_top_path(s, name, path, sizeof path);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return bb_fail(e, BB_CANTCREAT, "%s: %s", path, strerror(errno));
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int err;
		if (record ? fcntl(*fd, wait ? F_SETLKW : F_SETLK, &fl) == 0 :
		    flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0)
			break;
		if ((err = errno) == EINTR)
			continue;
		close(*fd);
		*fd = -1;
		if (err == EWOULDBLOCK || err == EAGAIN || err == EACCES)
			return bb_fail(e, BB_TEMPFAIL, "spool %s: another run is active", s->dir);
		return bb_fail(e, BB_IOERR, "%s: lock: %s", path, strerror(err));
	}
	return 0;
}

int
bb_spool_run_lock(const struct bb_spool *s, int wait, int *fd, struct bb_err *e)
{
	return lock_top(s, "run.lock", 1, wait, fd, e);
}

int
bb_spool_change_lock(const struct bb_spool *s, int *fd, struct bb_err *e)
{
	return lock_top(s, "spool.lock", 0, 1, fd, e);
}

int
bb_spool_counts_lock(const struct bb_spool *s, int *fd, struct bb_err *e)
{
	return lock_top(s, "counts.lock", 0, 1, fd, e);
}

void
bb_spool_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

void
bb_spool_name(const char *id, char out[96])
{
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	snprintf(out, 96, "%s.%06ldZ-%s.json", stamp, (long)tv.tv_usec, id);
}

/* "20261130T101503.123456Z-<uuid>.json": the id and the time it was added. */
static int
parse_name(const char *name, struct bb_qentry *q)
{
	struct bb_case_id id;
	struct tm tm;
	char idbuf[37];
	const char *end;

	if (strlen(name) != 23 + 1 + 36 + 5 || name[22] != 'Z' || name[23] != '-' ||
	    strcmp(name + 60, ".json") != 0)
		return -1;
	memcpy(idbuf, name + 24, 36);
	idbuf[36] = '\0';
	if (bb_case_id_parse(&id, idbuf) != 0)
		return -1;
	memset(&tm, 0, sizeof tm);
	end = strptime(name, "%Y%m%dT%H%M%S", &tm);
	if (end == NULL || *end != '.')
		return -1;
	q->added = timegm(&tm);
	memcpy(q->id, id.s, sizeof q->id);
	snprintf(q->name, sizeof q->name, "%s", name);
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct bb_qentry *)a)->name, ((const struct bb_qentry *)b)->name);
}

int
bb_spool_scan(const struct bb_spool *s, unsigned mask, struct bb_qentry **out, size_t *n,
    struct bb_err *e)
{
	struct bb_qentry *list = NULL, *nl;
	size_t cap = 0, cnt = 0;
	char path[4200];
	int st;

	for (st = 0; st < BB_Q_NSTATES; st++) {
		DIR *d;
		struct dirent *de;
		if (!(mask & (1u << st)))
			continue;
		bb_spool_path(s, (enum bb_qstate)st, NULL, path, sizeof path);
		if ((d = opendir(path)) == NULL) {
			if (errno == ENOENT)
				continue;
			free(list);
			return bb_fail(e, BB_IOERR, "%s: %s", path, strerror(errno));
		}
		while ((de = readdir(d)) != NULL) {
			struct bb_qentry q;
			struct stat sb;
			memset(&q, 0, sizeof q);
			if (parse_name(de->d_name, &q) != 0)
				continue;
			q.state = (enum bb_qstate)st;
			if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISREG(sb.st_mode))
				continue;
			q.mtime = sb.st_mtime;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nl = realloc(list, cap * sizeof *list)) == NULL) {
					closedir(d);
					free(list);
					return bb_fail(e, BB_SOFTWARE, "out of memory");
				}
				list = nl;
			}
			list[cnt++] = q;
		}
		closedir(d);
	}
	if (cnt > 1)
		qsort(list, cnt, sizeof *list, cmp_entry);
	*out = list;
	*n = cnt;
	return 0;
}

/* Which copy is the newer: deferred after a re-add or a deferral, a final state after
 * a delivery, an active copy never. */
static int
precedence(enum bb_qstate st)
{
	static const int order[BB_Q_NSTATES] = {
		[BB_Q_DEFERRED] = 4, [BB_Q_DELIVERED] = 3, [BB_Q_FAILED] = 2,
		[BB_Q_CORRUPT] = 1, [BB_Q_ACTIVE] = 0,
	};
	return order[st];
}

size_t
bb_spool_unique(struct bb_qentry *list, size_t n, struct bb_qentry *losers,
    size_t *nlosers)
{
	size_t i, out = 0;

	if (nlosers != NULL)
		*nlosers = 0;
	for (i = 0; i < n; i++) {
		if (out > 0 && strcmp(list[out - 1].name, list[i].name) == 0) {
			struct bb_qentry lose = list[i];
			if (precedence(list[i].state) > precedence(list[out - 1].state)) {
				lose = list[out - 1];
				list[out - 1] = list[i];
			}
			if (losers != NULL)
				losers[(*nlosers)++] = lose;
			continue;
		}
		list[out++] = list[i];
	}
	return out;
}

int
bb_spool_find(const struct bb_spool *s, const char *id, struct bb_qentry *out,
    struct bb_err *e)
{
	struct bb_qentry *list;
	size_t n, i, len = strlen(id), found = 0;
	int rc;

	if (len < 8 || len > 36)
		return bb_fail(e, BB_USAGE, "%s: give the entry id or at least 8 of its "
		    "first characters", id);
	if ((rc = bb_spool_scan(s, BB_Q_ALL, &list, &n, e)) != 0)
		return rc;
	n = bb_spool_unique(list, n, NULL, NULL);
	for (i = 0; i < n; i++)
		if (strncasecmp(list[i].id, id, len) == 0) {
			if (found++ && strcmp(out->id, list[i].id) != 0) {
				free(list);
				return bb_fail(e, BB_USAGE, "%s: more than one entry has this prefix",
				    id);
			}
			*out = list[i];
		}
	free(list);
	if (!found)
		return bb_fail(e, BB_NOINPUT, "%s: no such entry", id);
	return 0;
}

int
bb_spool_lock(const struct bb_spool *s, const struct bb_qentry *q, int *fdp,
    struct bb_err *e)
{
	char path[4200];
	struct stat a, b;
	int fd;

	bb_spool_path(s, q->state, q->name, path, sizeof path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return bb_fail(e, BB_NOINPUT, "%s: entry moved meanwhile", q->id);
		return bb_fail(e, BB_IOERR, "%s: %s", path, strerror(errno));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return bb_fail(e, BB_TEMPFAIL, "%s: entry is being delivered", q->id);
		return bb_fail(e, BB_IOERR, "%s: lock: %s", path, strerror(err));
	}
	/* The holder may have moved or replaced the file before we got the lock. */
	if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		close(fd);
		return bb_fail(e, BB_NOINPUT, "%s: entry moved meanwhile", q->id);
	}
	*fdp = fd;
	return 0;
}

int
bb_spool_trust(const struct bb_spool *s, const struct bb_qentry *q, int fd,
    struct bb_err *e)
{
	char path[4200];

	bb_spool_path(s, q->state, q->name, path, sizeof path);
	return bb_trust_fd(fd, path, "spool entry", BB_TRUST_MINE, e);
}

int
bb_spool_read(const struct bb_spool *s, const struct bb_qentry *q, int fd, size_t max,
    char **buf, size_t *len, struct bb_err *e)
{
	char path[4200];
	int rc, own = fd < 0;

	bb_spool_path(s, q->state, q->name, path, sizeof path);
	if (own && (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return bb_fail(e, errno == ENOENT ? BB_NOINPUT : BB_IOERR, "%s: %s", path,
		    strerror(errno));
	if (lseek(fd, 0, SEEK_SET) != 0) {
		if (own)
			close(fd);
		return bb_fail(e, BB_IOERR, "%s: %s", path, strerror(errno));
	}
	rc = bb_read_fd(fd, path, max, buf, len, e);
	if (own)
		close(fd);
	else
		lseek(fd, 0, SEEK_SET);
	return rc;
}

int
bb_spool_write(const struct bb_spool *s, enum bb_qstate st, const char *name,
    const json_t *c, time_t mtime, struct bb_err *e)
{
	char path[4200], tmpdir[4200], *buf;
	size_t len;
	int rc;

	if ((buf = bb_case_dump(c, &len)) == NULL)
		return bb_fail(e, BB_SOFTWARE, "cannot serialise the case: out of memory");
	bb_spool_path(s, st, name, path, sizeof path);
	bb_spool_top_path(s, "tmp", tmpdir, sizeof tmpdir);
	rc = bb_write_durable_at(path, tmpdir, buf, len, 0600, mtime, e);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int
bb_spool_move(const struct bb_spool *s, struct bb_qentry *q, enum bb_qstate to,
    int sync, struct bb_err *e)
{
	char from[4200], dest[4200], dir[4200], reason[4200];
	int err, was_corrupt = q->state == BB_Q_CORRUPT && to != BB_Q_CORRUPT;

	reason_path(s, q->name, reason, sizeof reason);
	bb_spool_path(s, q->state, q->name, from, sizeof from);
	bb_spool_path(s, to, q->name, dest, sizeof dest);
	if (rename(from, dest) != 0)
		return bb_fail(e, errno == ENOENT ? BB_NOINPUT : BB_IOERR, "%s: rename to %s: %s",
		    q->id, bb_qstate_name(to), strerror(errno));
	/* The new name first, then the old one gone: a crash between leaves two names for
	 * one file, never none. */
	if (!sync) {
		q->state = to;
		if (was_corrupt)
			unlink(reason);
		return 0;
	}
	bb_spool_path(s, to, NULL, dir, sizeof dir);
	if ((err = bb_fsync_dir(dir)) == 0) {
		bb_spool_path(s, q->state, NULL, dir, sizeof dir);
		err = bb_fsync_dir(dir);
	}
	q->state = to;
	if (err != 0)
		return bb_fail(e, BB_IOERR, "%s: sync: %s", dir, strerror(err));
	if (was_corrupt)
		unlink(reason);
	return 0;
}

void
bb_spool_set_due(const struct bb_spool *s, const struct bb_qentry *q, time_t when)
{
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };
	char path[4200];

	bb_spool_path(s, q->state, q->name, path, sizeof path);
	utimensat(AT_FDCWD, path, when != 0 ? ts : NULL, 0);
}

int
bb_spool_unlink(const struct bb_spool *s, const struct bb_qentry *q, int sync,
    struct bb_err *e)
{
	char path[4200], dir[4200];
	int err;

	bb_spool_path(s, q->state, q->name, path, sizeof path);
	if (unlink(path) != 0 && errno != ENOENT)
		return bb_fail(e, BB_IOERR, "%s: %s", path, strerror(errno));
	if (q->state == BB_Q_CORRUPT) {
		reason_path(s, q->name, path, sizeof path);
		unlink(path);
	}
	if (!sync)
		return 0;
	bb_spool_path(s, q->state, NULL, dir, sizeof dir);
	if ((err = bb_fsync_dir(dir)) != 0)
		return bb_fail(e, BB_IOERR, "%s: sync: %s", dir, strerror(err));
	return 0;
}

int
bb_spool_unlink_copies(const struct bb_spool *s, const struct bb_qentry *q,
    struct bb_err *e)
{
	struct bb_qentry other = *q;
	char path[4200];
	int st, rc = 0;

	for (st = 0; st < BB_Q_NSTATES && rc == 0; st++) {
		other.state = (enum bb_qstate)st;
		bb_spool_path(s, other.state, q->name, path, sizeof path);
		if (st == (int)q->state || access(path, F_OK) == 0)
			rc = bb_spool_unlink(s, &other, 1, e);
	}
	return rc;
}

int
bb_spool_corrupt(const struct bb_spool *s, struct bb_qentry *q, const char *reason,
    struct bb_err *e)
{
	char path[4200], tmpdir[4200], line[600];
	int n;

	/* The reason first: an entry in corrupt/ always says why. */
	reason_path(s, q->name, path, sizeof path);
	bb_spool_top_path(s, "tmp", tmpdir, sizeof tmpdir);
	n = snprintf(line, sizeof line, "%s\n", reason);
	if (bb_write_durable_at(path, tmpdir, line, (size_t)n < sizeof line ? (size_t)n :
	    sizeof line - 1, 0600, 0, e) != 0)
		return e->status;
	return bb_spool_move(s, q, BB_Q_CORRUPT, 1, e);
}

char *
bb_spool_reason(const struct bb_spool *s, const struct bb_qentry *q)
{
	struct bb_err ignore;
	char path[4200], *buf;
	size_t len;

	reason_path(s, q->name, path, sizeof path);
	if (bb_read_file(path, 4096, &buf, &len, &ignore) != 0)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

time_t
bb_spool_done_time(const struct bb_spool *s, const struct bb_qentry *q)
{
	char path[4200];
	struct stat sb;

	if (q->state != BB_Q_CORRUPT)
		return q->mtime;
	reason_path(s, q->name, path, sizeof path);
	return lstat(path, &sb) == 0 ? sb.st_mtime : q->mtime;
}

void
bb_spool_clean_tmp(const struct bb_spool *s, time_t age)
{
	char path[4200];
	struct dirent *de;
	struct stat sb;
	time_t now = time(NULL);
	DIR *d;

	bb_spool_top_path(s, "tmp", path, sizeof path);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && sb.st_mtime + age < now)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}
