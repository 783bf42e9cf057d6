/* Secrets in locked memory: read from a descriptor, bounded, wiped on free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "exit.h"
#include "secmem.h"

static int
pipe_with(const char *data)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], data, strlen(data)), (ssize_t)strlen(data));
	close(fds[1]);
	return fds[0];
}

static void
reads_one_line(void **state)
{
	struct bb_secret s;
	struct bb_err e = { 0, "" };
	int fd = pipe_with("123456\nrest");

	(void)state;
	assert_int_equal(bb_secret_alloc(&s, 64), 0);
	assert_int_equal(bb_secret_read_fd(&s, fd, "PIN", &e), 0);
	assert_string_equal((char *)s.buf, "123456");
	assert_int_equal(s.len, 6);
	close(fd);
	bb_secret_free(&s);
	assert_null(s.buf);
	bb_secret_free(&s);	/* twice is harmless */
}

static void
strips_carriage_return(void **state)
{
	struct bb_secret s;
	struct bb_err e = { 0, "" };
	int fd = pipe_with("4711\r\n");

	(void)state;
	assert_int_equal(bb_secret_alloc(&s, 64), 0);
	assert_int_equal(bb_secret_read_fd(&s, fd, "CAN", &e), 0);
	assert_string_equal((char *)s.buf, "4711");
	close(fd);
	bb_secret_free(&s);
}

static void
too_long_is_refused_and_wiped(void **state)
{
	struct bb_secret s;
	struct bb_err e = { 0, "" };
	int fd = pipe_with("12345678901234567890\n");
	size_t i;

	(void)state;
	assert_int_equal(bb_secret_alloc(&s, 8), 0);
	assert_int_equal(bb_secret_read_fd(&s, fd, "PIN", &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "PIN: too long"));
	/* The part that was read is not left behind. */
	for (i = 0; i < s.cap; i++)
		assert_int_equal(s.buf[i], 0);
	/* The message never holds the secret. */
	assert_null(strstr(e.msg, "1234"));
	close(fd);
	bb_secret_free(&s);
}

static void
empty_is_refused(void **state)
{
	struct bb_secret s;
	struct bb_err e = { 0, "" };
	int fd = pipe_with("");

	(void)state;
	assert_int_equal(bb_secret_alloc(&s, 16), 0);
	assert_int_equal(bb_secret_read_fd(&s, fd, "PIN", &e), BB_DATAERR);
	assert_non_null(strstr(e.msg, "PIN: empty"));
	close(fd);
	bb_secret_free(&s);
}

static void
closed_fd_is_io_error(void **state)
{
	struct bb_secret s;
	struct bb_err e = { 0, "" };

	(void)state;
	assert_int_equal(bb_secret_alloc(&s, 16), 0);
	assert_int_equal(bb_secret_read_fd(&s, 987, "PIN", &e), BB_IOERR);
	bb_secret_free(&s);
}

/* A PIN entered twice: equal only when every digit and the count are. */
static void
equal_compares_all(void **state)
{
	struct bb_secret a, b;

	(void)state;
	assert_int_equal(bb_secret_alloc(&a, 16), 0);
	assert_int_equal(bb_secret_alloc(&b, 16), 0);
	memcpy(a.buf, "123456", 7);
	memcpy(b.buf, "123456", 7);
	a.len = b.len = 6;
	assert_true(bb_secret_equal(&a, &b));
	b.buf[5] = '7';
	assert_false(bb_secret_equal(&a, &b));
	b.buf[5] = '6';
	b.buf[0] = '0';
	assert_false(bb_secret_equal(&a, &b));
	b.buf[0] = '1';
	b.len = 5;	/* a prefix is not the same */
	assert_false(bb_secret_equal(&a, &b));
	a.len = b.len = 0;
	assert_true(bb_secret_equal(&a, &b));
	bb_secret_free(&a);
	bb_secret_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_one_line),
		cmocka_unit_test(strips_carriage_return),
		cmocka_unit_test(too_long_is_refused_and_wiped),
		cmocka_unit_test(empty_is_refused),
		cmocka_unit_test(closed_fd_is_io_error),
		cmocka_unit_test(equal_compares_all),
	};

	return cmocka_run_group_tests_name("secmem", tests, NULL, NULL);
}
