/* lib/files.c: durable replacement of files (mode, whole replacement, no temporary file
 * left behind, 73 when the file cannot be created, 74 when writing fails with the old
 * file intact), whole-input reads with a limit (66 missing, 65 too large, the exact
 * limit accepted, pipes), and all-or-nothing standard output that is cut back on a
 * failed write. Tests that change fd 1, resource limits or the user run in a child. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "scratch.h"
#include "files.h"

/* --- helpers --- */

struct tmp {
	char dir[64];
};

static int
setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	if (scratch_make(t->dir, "files") != 0) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown_tmp(void **state)
{
	struct tmp *t = *state;

	scratch_remove(t->dir);
	free(t);
	return 0;
}

static char *
path_in(const struct tmp *t, const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", t->dir, name);
	return buf[i];
}

static void
put_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The whole file as a string (tests only handle small files). */
static char *
slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* The names in dir, sorted, joined by spaces ("" when empty). */
static const char *
listing(const char *dir)
{
	static char out[1024];
	struct dirent **ents;
	int n, i;

	out[0] = '\0';
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 && strcmp(ents[i]->d_name, "..") != 0) {
			if (out[0] != '\0')
				strncat(out, " ", sizeof out - strlen(out) - 1);
			strncat(out, ents[i]->d_name, sizeof out - strlen(out) - 1);
		}
		free(ents[i]);
	}
	free(ents);
	return out;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Waits for a child and returns its exit status; a signal is a test failure. */
static int
child_status(pid_t pid)
{
	int st;

	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("child ended by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

static void
limit_file_size(rlim_t bytes)
{
	struct rlimit rl;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = bytes;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(201);
}

/* In a child: become an ordinary user when root, since root ignores permissions. */
static void
drop_root(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
		_exit(200);
	if (geteuid() == 0)
		_exit(200);
}

/* --- bb_write_durable --- */

static void
durable_mode_0600(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	const char *p = path_in(t, "case.json");
	mode_t old = umask(022);
	struct stat st;
	int rc;

	rc = bb_write_durable(p, "{}\n", 3, 0600, &e);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(p), "{}\n");

	/* The same under the umask bb_init sets. */
	old = umask(077);
	rc = bb_write_durable(path_in(t, "b.json"), "x", 1, 0600, &e);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(path_in(t, "b.json"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* The mode asked for is the mode the file gets, whatever the umask takes away. */
static void
durable_mode_exact_despite_umask(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	const char *p = path_in(t, "public.txt");
	mode_t old = umask(077);
	struct stat st;
	int rc;

	rc = bb_write_durable(p, "hello", 5, 0644, &e);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

static void
durable_replaces_whole(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	const char *p = path_in(t, "case.json");
	struct stat before, after;

	put_file(p, "a much longer old content that must not survive as a tail\n", 0644);
	assert_int_equal(stat(p, &before), 0);
	assert_int_equal(bb_write_durable(p, "new\n", 4, 0600, &e), 0);
	assert_string_equal(slurp(p), "new\n");
	assert_int_equal(stat(p, &after), 0);
	assert_int_equal(after.st_size, 4);
	assert_int_equal(after.st_mode & 0777, 0600);
	/* Replaced by rename, not rewritten in place. */
	assert_true(before.st_ino != after.st_ino);
	assert_string_equal(listing(t->dir), "case.json");
}

static void
durable_empty_content(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	const char *p = path_in(t, "empty");

	put_file(p, "old", 0600);
	assert_int_equal(bb_write_durable(p, "", 0, 0600, &e), 0);
	assert_int_equal(size_of(p), 0);
}

static void
durable_no_temp_left_on_success(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(bb_write_durable(path_in(t, "a"), "abc", 3, 0600, &e), 0);
	assert_int_equal(bb_write_durable(path_in(t, "b"), "abc", 3, 0600, &e), 0);
	assert_string_equal(listing(t->dir), "a b");
}

/* A name without a directory is written in the current directory. */
static void
durable_relative_name(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	int here = open(".", O_RDONLY | O_DIRECTORY), rc;

	assert_true(here >= 0);
	assert_int_equal(chdir(t->dir), 0);
	rc = bb_write_durable("plain.json", "{}", 2, 0600, &e);
	assert_int_equal(fchdir(here), 0);
	close(here);
	assert_int_equal(rc, 0);
	assert_string_equal(slurp(path_in(t, "plain.json")), "{}");
	assert_string_equal(listing(t->dir), "plain.json");
}

static void
durable_missing_directory(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };

	assert_int_equal(bb_write_durable(path_in(t, "nope/case.json"), "x", 1, 0600, &e), 73);
	assert_int_equal(e.status, 73);
	assert_non_null(strstr(e.msg, "nope/case.json"));
	assert_string_equal(listing(t->dir), "");
}

/* A path through a regular file (ENOTDIR) cannot be created either. */
static void
durable_parent_is_a_file(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };

	put_file(path_in(t, "file"), "x", 0600);
	assert_int_equal(bb_write_durable(path_in(t, "file/case.json"), "x", 1, 0600, &e), 73);
	assert_string_equal(listing(t->dir), "file");
}

/* The rename fails when the target is a directory: 73, and the temporary file goes. */
static void
durable_target_is_directory(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct stat st;

	assert_int_equal(mkdir(path_in(t, "d"), 0700), 0);
	assert_int_equal(bb_write_durable(path_in(t, "d"), "data", 4, 0600, &e), 73);
	assert_int_equal(stat(path_in(t, "d"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_string_equal(listing(t->dir), "d");
}

static void
durable_readonly_directory(void **state)
{
	struct tmp *t = *state;
	int rc;
	pid_t pid;

	assert_int_equal(mkdir(path_in(t, "ro"), 0555), 0);
	assert_int_equal(chmod(path_in(t, "ro"), 0555), 0);
	assert_int_equal(chmod(t->dir, 0755), 0);	/* an ordinary user may enter */
	if ((pid = fork()) == 0) {
		struct bb_err e = { 0, "" };
		drop_root();
		_exit(bb_write_durable(path_in(t, "ro/case.json"), "x", 1, 0600, &e));
	}
	rc = child_status(pid);
	if (rc == 200)
		skip();	/* running as root and cannot drop privileges */
	assert_int_equal(rc, 73);
	assert_string_equal(listing(path_in(t, "ro")), "");
}

/* A file size limit below the data: 74, the old file whole, no temporary file. */
static void
durable_file_size_limit(void **state)
{
	struct tmp *t = *state;
	const char *p = path_in(t, "case.json");
	const char *old = "{\"old\": true}\n";
	size_t n = 200000;
	char *big = malloc(n);
	int rc;
	pid_t pid;

	assert_non_null(big);
	memset(big, 'x', n);
	put_file(p, old, 0600);
	if ((pid = fork()) == 0) {
		struct bb_err e = { 0, "" };
		limit_file_size(4096);
		rc = bb_write_durable(p, big, n, 0600, &e);
		_exit(rc == 74 && strstr(e.msg, "case.json") != NULL ? 74 : rc == 74 ? 99 : rc);
	}
	free(big);
	rc = child_status(pid);
	assert_int_equal(rc, 74);
	assert_string_equal(slurp(p), old);
	assert_string_equal(listing(t->dir), "case.json");
}

/* --- bb_read_file, bb_read_fd --- */

static void
read_missing(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(bb_read_file(path_in(t, "missing"), 100, &buf, &len, &e), 66);
	assert_int_equal(e.status, 66);
	assert_non_null(strstr(e.msg, "missing"));
	assert_null(buf);
}

static void
read_limit(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	const char *p = path_in(t, "ten");
	char *buf = NULL;
	size_t len = 0;

	put_file(p, "0123456789", 0600);
	/* One byte over the limit. */
	assert_int_equal(bb_read_file(p, 9, &buf, &len, &e), 65);
	assert_non_null(strstr(e.msg, "larger than the limit"));
	assert_non_null(strstr(e.msg, "ten"));
	assert_null(buf);
	/* Exactly the limit is accepted, NUL-terminated. */
	assert_int_equal(bb_read_file(p, 10, &buf, &len, &e), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	buf = NULL;
	assert_int_equal(bb_read_file(p, 1000, &buf, &len, &e), 0);
	assert_int_equal(len, 10);
	free(buf);
}

static void
read_large_file_exact_limit(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	const char *p = path_in(t, "big");
	size_t n = 300001, i, len = 0;
	char *data = malloc(n), *buf = NULL;
	int fd;

	assert_non_null(data);
	for (i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(bb_write_all(fd, data, n), 0);
	close(fd);
	assert_int_equal(bb_read_file(p, n, &buf, &len, &e), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	assert_int_equal(buf[n], '\0');
	free(buf);
	buf = NULL;
	assert_int_equal(bb_read_file(p, n - 1, &buf, &len, &e), 65);
	assert_null(buf);
	free(data);
}

static void
read_empty_file(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char *buf = NULL;
	size_t len = 99;

	put_file(path_in(t, "empty"), "", 0600);
	assert_int_equal(bb_read_file(path_in(t, "empty"), 0, &buf, &len, &e), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void
read_unreadable(void **state)
{
	struct tmp *t = *state;
	int rc;
	pid_t pid;

	put_file(path_in(t, "secret"), "x", 0000);
	assert_int_equal(chmod(t->dir, 0755), 0);
	if ((pid = fork()) == 0) {
		struct bb_err e = { 0, "" };
		char *buf;
		size_t len;
		drop_root();
		_exit(bb_read_file(path_in(t, "secret"), 100, &buf, &len, &e));
	}
	rc = child_status(pid);
	if (rc == 200)
		skip();
	assert_int_equal(rc, 66);
}

/* A writer child sends n bytes into a pipe; returns the read end. */
static int
pipe_from_child(size_t n, pid_t *pid)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	if ((*pid = fork()) == 0) {
		char block[4096];
		size_t i, done = 0;
		close(fds[0]);
		signal(SIGPIPE, SIG_IGN);
		while (done < n) {
			size_t k = n - done < sizeof block ? n - done : sizeof block;
			for (i = 0; i < k; i++)
				block[i] = (char)((done + i) % 251);
			if (bb_write_all(fds[1], block, k) != 0)
				_exit(1);
			done += k;
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static void
read_fd_pipe(void **state)
{
	struct bb_err e = { 0, "" };
	size_t n = 300000, i, len = 0;
	char *buf = NULL;
	pid_t pid;
	int fd, rc;

	(void)state;
	fd = pipe_from_child(n, &pid);
	rc = bb_read_fd(fd, "<pipe>", 1u << 20, &buf, &len, &e);
	close(fd);
	assert_int_equal(child_status(pid), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(len, n);
	for (i = 0; i < n; i++)
		if (buf[i] != (char)(i % 251))
			fail_msg("byte %zu differs", i);
	assert_int_equal(buf[n], '\0');
	free(buf);
}

static void
read_fd_pipe_over_limit(void **state)
{
	struct bb_err e = { 0, "" };
	size_t len = 0;
	char *buf = NULL;
	pid_t pid;
	int fd, rc;

	(void)state;
	fd = pipe_from_child(200000, &pid);
	rc = bb_read_fd(fd, "<pipe>", 100000, &buf, &len, &e);
	close(fd);
	child_status(pid);
	assert_int_equal(rc, 65);
	assert_non_null(strstr(e.msg, "<pipe>"));
	assert_non_null(strstr(e.msg, "larger than the limit"));
	assert_null(buf);
}

/* NULL and "-" read standard input. */
static void
read_stdin(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char *buf = NULL;
	size_t len = 0;
	int saved, fd, rc1, rc2;
	char *b2 = NULL;

	put_file(path_in(t, "in"), "from stdin", 0600);
	saved = dup(0);
	fd = open(path_in(t, "in"), O_RDONLY);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 0);
	rc1 = bb_read_file(NULL, 100, &buf, &len, &e);
	lseek(0, 0, SEEK_SET);
	rc2 = bb_read_file("-", 100, &b2, &len, &e);
	dup2(saved, 0);
	close(saved);
	close(fd);
	assert_int_equal(rc1, 0);
	assert_string_equal(buf, "from stdin");
	assert_int_equal(rc2, 0);
	assert_string_equal(b2, "from stdin");
	free(buf);
	free(b2);
}

/* --- bb_write_stdout --- */

/* In a child with fd 1 on path (opened with flags): writes first, then under a file
 * size limit a large buffer; exits with the second call's status (or 90+ on setup). */
static int
stdout_child(const char *path, int flags, const char *first)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct bb_err e = { 0, "" };
		size_t n = 100000;
		char *big = malloc(n);
		int fd = open(path, flags, 0600);
		if (fd < 0 || big == NULL || dup2(fd, 1) < 0)
			_exit(90);
		memset(big, 'y', n);
		if (bb_write_stdout(first, strlen(first), &e) != 0)
			_exit(91);
		limit_file_size(4096);
		_exit(bb_write_stdout(big, n, &e));
	}
	return child_status(pid);
}

static void
stdout_cut_back_on_error(void **state)
{
	struct tmp *t = *state;
	const char *p = path_in(t, "out");

	assert_int_equal(stdout_child(p, O_WRONLY | O_CREAT | O_TRUNC, "first case\n"), 74);
	assert_int_equal(size_of(p), 11);
	assert_string_equal(slurp(p), "first case\n");
}

/* Appending (>>) to a file that already holds output: cut back to its old end. */
static void
stdout_cut_back_on_error_append(void **state)
{
	struct tmp *t = *state;
	const char *p = path_in(t, "log");

	put_file(p, "earlier\n", 0600);
	assert_int_equal(stdout_child(p, O_WRONLY | O_APPEND, "first case\n"), 74);
	assert_int_equal(size_of(p), 19);
	assert_string_equal(slurp(p), "earlier\nfirst case\n");
}

static void
stdout_writes_whole(void **state)
{
	struct tmp *t = *state;
	const char *p = path_in(t, "ok");
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct bb_err e = { 0, "" };
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(90);
		/* stdio output still buffered must come first. */
		fputs("buffered ", stdout);
		_exit(bb_write_stdout("then direct\n", 12, &e));
	}
	assert_int_equal(child_status(pid), 0);
	assert_string_equal(slurp(p), "buffered then direct\n");
}

static void
stdout_closed_pipe(void **state)
{
	int fds[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	/* The reading end closed before the fork: no process may hold it when the child
	 * writes (closing it only in the parent raced with the child's write). */
	close(fds[0]);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct bb_err e = { 0, "" };
		signal(SIGPIPE, SIG_IGN);
		if (dup2(fds[1], 1) < 0)
			_exit(90);
		_exit(bb_write_stdout("x", 1, &e));
	}
	close(fds[1]);
	assert_int_equal(child_status(pid), 74);
}

/* The spool's variant: the temporary file in another directory, the mtime given. */
static void
durable_at_tmpdir_and_mtime(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	struct stat st;
	DIR *d;
	struct dirent *de;
	int entries = 0;

	assert_int_equal(mkdir(path_in(t, "tmp"), 0700), 0);
	assert_int_equal(mkdir(path_in(t, "deferred"), 0700), 0);
	assert_int_equal(bb_write_durable_at(path_in(t, "deferred/x.json"), path_in(t, "tmp"),
	    "{}\n", 3, 0600, (time_t)2000000000, &e), 0);
	assert_int_equal(stat(path_in(t, "deferred/x.json"), &st), 0);
	assert_int_equal((long long)st.st_mtime, 2000000000LL);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(d = opendir(path_in(t, "tmp")));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			entries++;
	closedir(d);
	assert_int_equal(entries, 0);
	/* A temporary directory on the way that does not exist: cannot create. */
	assert_int_equal(bb_write_durable_at(path_in(t, "deferred/y.json"), path_in(t, "nope"),
	    "{}\n", 3, 0600, 0, &e), 73);
	assert_int_equal(stat(path_in(t, "deferred/y.json"), &st), -1);
}

/* Trust: owner and mode checked, what to chmod said, links refused; the running user's
 * own 0600 secret and 0644 file pass. Run as root, another owner is a chown away. */
static void
trust_owner_and_mode(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char *buf;
	size_t len;
	int fd;

	assert_int_equal(bb_write_durable(path_in(t, "key"), "k", 1, 0600, &e), 0);
	assert_int_equal(bb_write_durable(path_in(t, "anchor"), "a", 1, 0644, &e), 0);
	assert_int_equal(bb_read_trusted(path_in(t, "key"), "client_key", BB_TRUST_SECRET,
	    16, &buf, &len, &e), 0);
	assert_int_equal(len, 1);
	free(buf);
	assert_true((fd = bb_trust_open(path_in(t, "anchor"), "ca_file", 0, 0, &e)) >= 0);
	close(fd);
	/* Readable by others: fine for a trust anchor, not for a secret. */
	assert_int_equal(bb_read_trusted(path_in(t, "anchor"), "client_key", BB_TRUST_SECRET,
	    16, &buf, &len, &e), 78);
	assert_non_null(strstr(e.msg, "chmod go-rwx"));
	assert_int_equal(chmod(path_in(t, "key"), 0640), 0);
	assert_int_equal(bb_trust_open(path_in(t, "key"), "k", BB_TRUST_SECRET, 0, &e), -1);
	assert_int_equal(e.status, 78);
	/* Writable by group or others: never. */
	assert_int_equal(chmod(path_in(t, "anchor"), 0664), 0);
	assert_int_equal(bb_trust_open(path_in(t, "anchor"), "ca_file", 0, 0, &e), -1);
	assert_int_equal(e.status, 78);
	assert_non_null(strstr(e.msg, "chmod go-w"));
	assert_int_equal(chmod(path_in(t, "anchor"), 0644), 0);
	/* A symbolic link is not followed. */
	assert_int_equal(symlink(path_in(t, "anchor"), path_in(t, "link")), 0);
	assert_int_equal(bb_trust_open(path_in(t, "link"), "ca_file", 0, 0, &e), -1);
	assert_int_equal(e.status, 78);
	assert_int_equal(bb_trust_open(path_in(t, "none"), "ca_file", 0, 0, &e), -1);
	assert_int_equal(e.status, 66);
	/* A directory: the same rules, O_DIRECTORY. */
	assert_true((fd = bb_trust_open(t->dir, "spool", BB_TRUST_MINE, 1, &e)) >= 0);
	close(fd);
	assert_int_equal(chmod(t->dir, 0777), 0);
	assert_int_equal(bb_trust_open(t->dir, "spool", BB_TRUST_MINE, 1, &e), -1);
	assert_int_equal(chmod(t->dir, 0700), 0);
	/* A link to a directory is a link too: with O_DIRECTORY open says ENOTDIR, and
	 * with a trailing slash it would follow the link. */
	assert_int_equal(mkdir(path_in(t, "d"), 0700), 0);
	assert_int_equal(symlink("d", path_in(t, "dlink")), 0);
	assert_int_equal(bb_trust_open(path_in(t, "dlink"), "csca_dir", 0, 1, &e), -1);
	assert_int_equal(e.status, 78);
	assert_non_null(strstr(e.msg, "symbolic link"));
	assert_int_equal(bb_trust_open(path_in(t, "dlink/"), "csca_dir", 0, 1, &e), -1);
	assert_int_equal(e.status, 78);
	assert_true((fd = bb_trust_open(path_in(t, "d/"), "csca_dir", 0, 1, &e)) >= 0);
	close(fd);
	assert_int_equal(bb_trust_open(path_in(t, "link/"), "ca_file", 0, 0, &e), -1);
	assert_int_equal(e.status, 78);
	/* Owned by another user: refused; by root: refused only with BB_TRUST_MINE for a
	 * user other than root. */
	if (geteuid() == 0) {
		assert_int_equal(chown(path_in(t, "anchor"), 4242, 4242), 0);
		assert_int_equal(bb_trust_open(path_in(t, "anchor"), "ca_file", 0, 0, &e), -1);
		assert_int_equal(e.status, 78);
		assert_non_null(strstr(e.msg, "chown"));
	}
}

/* bb_replace_at: the file replaced whole, the mode as asked whatever the umask, no
 * temporary file left, also when the rename cannot be done. */
static void
replace_at(void **state)
{
	struct tmp *t = *state;
	struct bb_err e = { 0, "" };
	char path[128], *buf;
	size_t len;
	struct stat st;
	mode_t um;
	int dfd, n = 0;
	DIR *d;
	struct dirent *de;

	assert_true((dfd = open(t->dir, O_RDONLY | O_DIRECTORY)) >= 0);
	um = umask(077);
	assert_int_equal(bb_replace_at(dfd, t->dir, "mirror.jpg", "old", 3, 0640, &e), 0);
	assert_int_equal(bb_replace_at(dfd, t->dir, "mirror.jpg", "newer", 5, 0640, &e), 0);
	umask(um);
	snprintf(path, sizeof path, "%s/mirror.jpg", t->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(bb_read_file(path, 100, &buf, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "newer", 5);
	free(buf);
	/* A directory in the way: 73, and nothing left behind. */
	snprintf(path, sizeof path, "%s/guidance.json", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/guidance.json/x", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(bb_replace_at(dfd, t->dir, "guidance.json", "{}", 2, 0640, &e), 73);
	assert_non_null(strstr(e.msg, "guidance.json"));
	assert_non_null(d = opendir(t->dir));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp") != NULL)
			n++;
	closedir(d);
	assert_int_equal(n, 2);	/* mirror.jpg, guidance.json: no .tmp */
	close(dfd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(durable_mode_0600),
		T(replace_at),
		T(durable_mode_exact_despite_umask),
		T(durable_replaces_whole),
		T(durable_empty_content),
		T(durable_no_temp_left_on_success),
		T(durable_relative_name),
		T(durable_missing_directory),
		T(durable_parent_is_a_file),
		T(durable_target_is_directory),
		T(durable_readonly_directory),
		T(durable_file_size_limit),
		T(durable_at_tmpdir_and_mtime),
		T(read_missing),
		T(read_limit),
		T(read_large_file_exact_limit),
		T(read_empty_file),
		T(read_unreadable),
		cmocka_unit_test(read_fd_pipe),
		cmocka_unit_test(read_fd_pipe_over_limit),
		T(read_stdin),
		T(stdout_cut_back_on_error),
		T(stdout_cut_back_on_error_append),
		T(stdout_writes_whole),
		cmocka_unit_test(stdout_closed_pipe),
		T(trust_owner_and_mode),
	};

	return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
