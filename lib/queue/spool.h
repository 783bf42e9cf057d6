/* The spool of bb-queue: one directory per state, one file per entry (a whole case),
 * state changes by rename(2), the next try of a deferred entry in its file's mtime, and
 * locks held on file descriptors so that a dead process frees them. Policy (when to try,
 * what an exit status means) lives in queue.c; this file only keeps the files right:
 * every path, lock and mtime of the spool is made here, nowhere else. */
#ifndef BB_SPOOL_H
#define BB_SPOOL_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

struct bb_err;

enum bb_qstate {
	BB_Q_DEFERRED, BB_Q_ACTIVE, BB_Q_DELIVERED, BB_Q_FAILED, BB_Q_CORRUPT, BB_Q_NSTATES
};
#define BB_Q_ALL ((1u << BB_Q_NSTATES) - 1)

const char *bb_qstate_name(enum bb_qstate st);
/* -1 when name is no state. */
int bb_qstate_parse(const char *name);

struct bb_spool {
	char *dir;
};

struct bb_qentry {
	enum bb_qstate state;
	char name[96];		/* file name, the same in every state */
	char id[37];		/* the case id */
	time_t mtime;		/* deferred: next try; delivered, failed: when */
	time_t added;		/* from the name */
};

/* The per-user default: root /var/spool/bb, else $XDG_STATE_HOME/bb/spool,
 * $HOME/.local/state/bb/spool (malloc'd); NULL with errno ENOENT when neither is set
 * (never a shared directory such as /tmp), ENOMEM. */
char *bb_spool_default_dir(void);

/* Opens (with create: makes, 0700) the spool; with create also the state directories of
 * an existing spool that lacks some. Without create a missing spool is fine:
 * it reads as empty. 73 when it cannot be created. The spool and its state directories
 * must be directories, not symbolic links, owned by the running user and not writable
 * by group or others: 78 otherwise (bb_trust_fd). */
int bb_spool_open(struct bb_spool *s, const char *dir, int create, struct bb_err *e);
void bb_spool_close(struct bb_spool *s);
/* For a run: 0 with *none set when the spool does not exist (nothing was ever queued);
 * else makes any state directory that a spool of an older bb lacks, as bb_spool_open
 * with create does, and its statuses. */
int bb_spool_prepare(struct bb_spool *s, int *none, struct bb_err *e);
/* dir/state/name into buf; name NULL: the state's directory. */
void bb_spool_path(const struct bb_spool *s, enum bb_qstate st, const char *name, char *buf,
    size_t len);
/* dir/name into buf: a file at the top of the spool (counts.json). */
void bb_spool_top_path(const struct bb_spool *s, const char *name, char *buf, size_t len);
/* Replaces the file name at the top of the spool with buf durably, through tmp/ as every
 * entry is: a writer killed before its rename leaves a file there that bb_spool_clean_tmp
 * removes, never half a file here. */
int bb_spool_write_top(const struct bb_spool *s, const char *name, const char *buf,
    size_t len, struct bb_err *e);

/* The spool's own locks, files at its top, each held by the descriptor *fd until
 * bb_spool_unlock or the process's end. Taking an entry's lock (bb_spool_lock) under
 * one of them never waits, so they cannot deadlock with it.
 *
 * run.lock: one run at a time, held for the whole run; without wait 75 ("another run is
 * active") when it is taken. It is a POSIX record lock (fcntl), not flock(2): a child
 * created by fork does not inherit a record lock, while it shares a flock with its parent
 * until it execs. A runner killed between forking its delivery command and that
 * command's exec left the lock to the orphan, and the next run found "another run is
 * active". The lock belongs to the runner alone and ends with it. (No other descriptor
 * of run.lock is ever opened in a process: closing one would drop a record lock.) */
int bb_spool_run_lock(const struct bb_spool *s, int wait, int *fd, struct bb_err *e);
/* spool.lock: every change of an entry's state, held only for the change itself (never
 * while a delivery command runs), so that one process's scan for a case id never falls
 * between another's writing a new state and removing the old one. Waits. */
int bb_spool_change_lock(const struct bb_spool *s, int *fd, struct bb_err *e);
/* counts.lock: one change of the counts (counts.c) at a time. Waits. */
int bb_spool_counts_lock(const struct bb_spool *s, int *fd, struct bb_err *e);
/* Releases a lock of this file or an entry's (fd -1: none). */
void bb_spool_unlock(int fd);

/* A new entry name for id, from the current time. */
void bb_spool_name(const char *id, char out[96]);

/* Entries of the states in mask, sorted by name (the time they were added). Files whose
 * name is no entry name (leftovers, .reason files) are skipped. */
int bb_spool_scan(const struct bb_spool *s, unsigned mask, struct bb_qentry **out,
    size_t *n, struct bb_err *e);
/* Drops the older copies of an entry found under two states (a crash between writing the
 * new state and removing the old leaves both); list must be sorted by name. Returns the
 * new count. With losers, the dropped entries are moved there (at most n). */
size_t bb_spool_unique(struct bb_qentry *list, size_t n, struct bb_qentry *losers,
    size_t *nlosers);

/* The entry of a case id, or of a unique id prefix of at least 8 characters.
 * 66 when there is none, 64 when the prefix is ambiguous. */
int bb_spool_find(const struct bb_spool *s, const char *id, struct bb_qentry *out,
    struct bb_err *e);

/* Opens the entry's file and takes its lock without waiting. 0 and *fd; 75 when another
 * process holds it; 66 when the entry moved away meanwhile. The lock goes with the file
 * through bb_spool_move. */
int bb_spool_lock(const struct bb_spool *s, const struct bb_qentry *q, int *fd,
    struct bb_err *e);
/* 0 when the entry's file, held as fd, is the running user's and no one else could have
 * written it; 78 otherwise (bb_trust_fd): it is then no case of ours. */
int bb_spool_trust(const struct bb_spool *s, const struct bb_qentry *q, int fd,
    struct bb_err *e);
/* The entry's file whole into *buf (malloc'd, NUL-terminated; the caller wipes and frees
 * it), at most max bytes (65 beyond): from fd when it is >= 0 (held by bb_spool_lock,
 * read from its start and left there for a delivery command to read), else from the file
 * opened anew, no symbolic link followed (66 when it is gone). 74 on a read error. */
int bb_spool_read(const struct bb_spool *s, const struct bb_qentry *q, int fd, size_t max,
    char **buf, size_t *len, struct bb_err *e);

/* Writes c durably as state/name (through tmp/), with mtime (0: now). */
int bb_spool_write(const struct bb_spool *s, enum bb_qstate st, const char *name,
    const json_t *c, time_t mtime, struct bb_err *e);
/* Moves an entry to another state (rename; with sync, then fsync of both directories:
 * without, a crash may undo the move, which callers must be able to live with). An entry
 * leaving corrupt/ leaves its reason behind: removed once the move is done. */
int bb_spool_move(const struct bb_spool *s, struct bb_qentry *q, enum bb_qstate to,
    int sync, struct bb_err *e);
/* Sets the mtime of the entry's file, which in deferred/ is its next try, to when (0:
 * now). Best effort: a file whose time cannot be set keeps the one it had. */
void bb_spool_set_due(const struct bb_spool *s, const struct bb_qentry *q, time_t when);
/* Removes the entry's file (and a corrupt entry's reason); with sync, durably. */
int bb_spool_unlink(const struct bb_spool *s, const struct bb_qentry *q, int sync,
    struct bb_err *e);
/* Removes every copy of the entry's file, in whatever state a crash left one (and a
 * corrupt copy's reason), durably: removing only the newest would let a later recovery
 * bring back an older copy. */
int bb_spool_unlink_copies(const struct bb_spool *s, const struct bb_qentry *q,
    struct bb_err *e);
/* Moves an unreadable entry to corrupt/ with a one-line reason beside it, the reason
 * first: an entry in corrupt/ always says why. */
int bb_spool_corrupt(const struct bb_spool *s, struct bb_qentry *q, const char *reason,
    struct bb_err *e);
/* A corrupt entry's reason, its first line (malloc'd); NULL when it has none that can
 * be read. */
char *bb_spool_reason(const struct bb_spool *s, const struct bb_qentry *q);
/* When an entry of a final state got there: delivered and failed entries carry it in
 * their mtime; a corrupt one in its reason's (written when it became corrupt), or in its
 * own when it has none. */
time_t bb_spool_done_time(const struct bb_spool *s, const struct bb_qentry *q);
/* Removes files in tmp/ older than age seconds (left by a process that died writing). */
void bb_spool_clean_tmp(const struct bb_spool *s, time_t age);

#endif
