/* The spool of bb-queue: one directory per state, one file per entry (a whole case),
 * state changes by rename(2), the next try of a deferred entry in its file's mtime, and
 * locks held on file descriptors so that a dead process frees them. Policy (when to try,
 * what an exit status means) lives in queue.c; this file only keeps the files right. */
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
/* dir/state/name into buf; name NULL: the state's directory. */
void bb_spool_path(const struct bb_spool *s, enum bb_qstate st, const char *name, char *buf,
    size_t len);

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
 * process holds it; 66 when the entry moved away meanwhile. */
int bb_spool_lock(const struct bb_spool *s, const struct bb_qentry *q, int *fd,
    struct bb_err *e);

/* Writes c durably as state/name (through tmp/), with mtime (0: now). */
int bb_spool_write(const struct bb_spool *s, enum bb_qstate st, const char *name,
    const json_t *c, time_t mtime, struct bb_err *e);
/* Moves an entry to another state (rename; with sync, then fsync of both directories:
 * without, a crash may undo the move, which callers must be able to live with). */
int bb_spool_move(const struct bb_spool *s, struct bb_qentry *q, enum bb_qstate to,
    int sync, struct bb_err *e);
/* Removes the entry's file (and a corrupt entry's reason); with sync, durably. */
int bb_spool_unlink(const struct bb_spool *s, const struct bb_qentry *q, int sync,
    struct bb_err *e);
/* Moves an unreadable entry to corrupt/ with a one-line reason beside it. */
int bb_spool_corrupt(const struct bb_spool *s, struct bb_qentry *q, const char *reason,
    struct bb_err *e);
/* Removes files in tmp/ older than age seconds (left by a process that died writing). */
void bb_spool_clean_tmp(const struct bb_spool *s, time_t age);

#endif
