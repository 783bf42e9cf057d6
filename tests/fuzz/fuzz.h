/* Shared by the fuzz targets (tests/fuzz/README): splitting one input into the parts a
 * target feeds to several parsers, and a private scratch directory for the parsers that
 * read files. The same code runs under libFuzzer (make fuzz) and under the standalone
 * replay driver (driver.c, make check). */
#ifndef BB_FUZZ_H
#define BB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Up to max parts of data separated by the byte sep; returns how many (at least 1).
 * Parts point into data and are not NUL-terminated. */
size_t fuzz_split(const uint8_t *data, size_t size, uint8_t sep, const uint8_t **part,
    size_t *len, size_t max);
/* A malloc'd NUL-terminated copy (aborts when out of memory). */
char *fuzz_str(const uint8_t *p, size_t len);
/* The target's private directory (mode 0700, removed at exit), made on first use. */
const char *fuzz_dir(void);
/* dir/name written with exactly len bytes, mode 0600; the path into out. Aborts on
 * failure: the harness, not the input, is broken then. */
void fuzz_file(const char *name, const void *p, size_t len, char *out, size_t room);
/* Removes everything below the private directory (not the directory itself). */
void fuzz_clean(void);

/* BB_FUZZ_VERBOSE=1: a target may say on stderr what became of an input (for checking
 * that seeds reach what they are meant to). */
int fuzz_verbose(void);

#endif
