/* Helpers of fuzz.h, linked into every fuzz target. */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t
fuzz_split(const uint8_t *data, size_t size, uint8_t sep, const uint8_t **part, size_t *len,
    size_t max)
{
	size_t n = 0, start = 0, i;

	for (i = 0; i < size && n + 1 < max; i++)
		if (data[i] == sep) {
			part[n] = data + start;
			len[n++] = i - start;
			start = i + 1;
		}
	part[n] = data + start;
	len[n++] = size - start;
	return n;
}

char *
fuzz_str(const uint8_t *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static char dir[256];

static void
rm_tree(const char *path, int self)
{
	char sub[4096];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
				rm_tree(sub, 1);
			else
				unlink(sub);
		}
		closedir(d);
	}
	if (self)
		rmdir(path);
}

static void
rm_dir(void)
{
	if (dir[0] != '\0')
		rm_tree(dir, 1);
}

const char *
fuzz_dir(void)
{
	const char *base;

	if (dir[0] != '\0')
		return dir;
	/* tmpfs when there is one: the targets that write files sync them. */
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/bb-fuzz.XXXXXX", base ? base : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
	atexit(rm_dir);
	return dir;
}

void
fuzz_file(const char *name, const void *p, size_t len, char *out, size_t room)
{
	int fd;

	snprintf(out, room, "%s/%s", fuzz_dir(), name);
	unlink(out);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    (len > 0 && write(fd, p, len) != (ssize_t)len) || close(fd) != 0) {
		perror(out);
		abort();
	}
}

void
fuzz_clean(void)
{
	rm_tree(fuzz_dir(), 0);
}

int
fuzz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("BB_FUZZ_VERBOSE") != NULL &&
		    strcmp(getenv("BB_FUZZ_VERBOSE"), "1") == 0;
	return v;
}

