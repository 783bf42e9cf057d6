/* The replay driver: a main() that feeds files to a fuzz target's LLVMFuzzerTestOneInput,
 * so the corpora and the crashes found earlier run as regression tests under the normal
 * compiler (make check, make check SANITIZE=1) without libFuzzer. Arguments are files or
 * directories (their files in name order); the output is TAP, one line per file. A crash
 * ends the program, which prove reports as a failure. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int n;

static int
run(const char *path)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	long sz;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)sz + 1)) == NULL ||
	    (len = fread(buf, 1, (size_t)sz, f)) != (size_t)sz) {
		printf("not ok %d - %s: cannot read\n", ++n, path);
		if (f != NULL)
			fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	/* A copy of exactly len bytes, as libFuzzer gives: ASan sees any read past it. */
	unsigned char *copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	struct dirent **ents;
	struct stat sb;
	char path[4096];
	int i, j, k, fail = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) != 0)
			continue;	/* a target without crashes has no directory */
		if (!S_ISDIR(sb.st_mode)) {
			fail |= run(argv[i]);
			continue;
		}
		if ((k = scandir(argv[i], &ents, NULL, by_name)) < 0) {
			printf("not ok %d - %s: cannot list\n", ++n, argv[i]);
			fail = 1;
			continue;
		}
		for (j = 0; j < k; j++) {
			snprintf(path, sizeof path, "%s/%s", argv[i], ents[j]->d_name);
			if (ents[j]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
				fail |= run(path);
			free(ents[j]);
		}
		free(ents);
	}
	printf("1..%d\n", n);
	return fail;
}
