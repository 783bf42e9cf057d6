/* A scratch directory per unit test: made under /tmp, removed with all it holds. */
#ifndef BB_UNIT_SCRATCH_H
#define BB_UNIT_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* dir (64 bytes) becomes a fresh /tmp/bb-unit-TAG-XXXXXX; 0 or -1. */
static inline int
scratch_make(char dir[64], const char *tag)
{
	snprintf(dir, 64, "/tmp/bb-unit-%s-XXXXXX", tag);
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int
scratch_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
scratch_remove(const char *dir)
{
	chmod(dir, 0700);
	nftw(dir, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
