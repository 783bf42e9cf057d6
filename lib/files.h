/* Reading whole inputs with a size limit, and writing files so that a crash leaves
 * either the old or the new whole file: temporary name in the same directory opened
 * with O_EXCL, fsync, rename, fsync of the directory (as maildir and nq do). */
#ifndef BB_FILES_H
#define BB_FILES_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct bb_err;

/* Reads all of fd into a NUL-terminated buffer. More than max bytes: 65. Read error: 74.
 * name is used in messages ("<stdin>", a path). */
int bb_read_fd(int fd, const char *name, size_t max, char **buf, size_t *len,
    struct bb_err *e);
/* path NULL or "-" reads stdin. A missing file: 66; unreadable: 66 (EACCES) or 74. */
int bb_read_file(const char *path, size_t max, char **buf, size_t *len, struct bb_err *e);

/* Writes all bytes, retrying short writes and EINTR; returns 0 or an errno value. */
int bb_write_all(int fd, const void *buf, size_t len);

/* Durable replace of path with buf, created with mode. Errors: 73 when the file cannot be
 * created (directory missing, not writable), 74 when writing or syncing fails (full disk,
 * file size limit); the temporary file is removed and path is untouched. */
int bb_write_durable(const char *path, const void *buf, size_t len, mode_t mode,
    struct bb_err *e);

/* The same with the temporary file in tmpdir (same file system as path; NULL: path's
 * directory) and the file's mtime set to mtime (0: now) before it is renamed into place. */
int bb_write_durable_at(const char *path, const char *tmpdir, const void *buf, size_t len,
    mode_t mode, time_t mtime, struct bb_err *e);

/* Replaces dirfd/name whole by rename, not synced: for files a reader takes at any
 * moment and a crash may lose (the photo mirror under /run). The temporary name is
 * random and created exclusively, never through a symbolic link. dir names dirfd in
 * messages. 73 cannot create, 74 full disk; the temporary file never stays. */
int bb_replace_at(int dirfd, const char *dir, const char *name, const void *buf, size_t len,
    mode_t mode, struct bb_err *e);

/* fsync of the directory holding path (or of path itself when it is a directory). */
int bb_fsync_dir(const char *dir);

/* Writes buf to stdout whole. When stdout is a regular file and the write fails (full
 * disk), the file is cut back to where it was, so no partial output remains. 74 on error. */
int bb_write_stdout(const void *buf, size_t len, struct bb_err *e);

/* Trust only what the terminal owns (bb(7) SECURITY). A file or directory that holds
 * cases, keys, trust anchors or the configuration must be owned by the running user (or,
 * unless BB_TRUST_MINE, by root) and not writable by group or others; with
 * BB_TRUST_SECRET not readable by them either. what names it in the message ("spool",
 * "client_key"), which says what to chmod or chown. 78 when refused, 74 when fstat fails. */
enum {
	BB_TRUST_MINE = 1,	/* the running user only, not root */
	BB_TRUST_SECRET = 2,	/* no read access for group or others */
};
int bb_trust_fd(int fd, const char *path, const char *what, unsigned flags,
    struct bb_err *e);
/* Opens path (O_NOFOLLOW: a symbolic link is refused), checks it as bb_trust_fd does and
 * returns the descriptor (O_RDONLY, O_CLOEXEC; O_DIRECTORY when dir), or -1 with e set:
 * 66 when missing, 78 when refused. */
int bb_trust_open(const char *path, const char *what, unsigned flags, int dir,
    struct bb_err *e);
/* bb_read_file for a file bb must trust: opened with bb_trust_open, then read whole. */
int bb_read_trusted(const char *path, const char *what, unsigned flags, size_t max,
    char **buf, size_t *len, struct bb_err *e);

#endif
