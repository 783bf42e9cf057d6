/* bb-form serve wipes what a session showed and chose before it frees it: the
 * placeholder values of a screen (when another screen replaces it, and at exit) and the
 * choice it answers a tell with. The server runs in a thread of this test; jansson's
 * allocator is the test's, and counts the blocks freed that still hold a secret. */
#include "diag.h"
#include "screen/server.h"
#include "scratch.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NAME "Erika Mustermann-Gabler"
#define CHOICE "secretchoice"

static atomic_int armed, hits;

static void *
count_malloc(size_t n)
{
	return malloc(n);
}

static void
count_free(void *p)
{
	if (p != NULL && atomic_load(&armed)) {
		size_t n = malloc_usable_size(p);
		if (memmem(p, n, NAME, strlen(NAME)) != NULL ||
		    memmem(p, n, CHOICE, strlen(CHOICE)) != NULL)
			atomic_fetch_add(&hits, 1);
	}
	free(p);
}

static char dir[64], sock[100], url[256], base[200];
static struct bb_serve_opts opts;
static struct bb_err serve_err;
static int serve_rc;

static void *
serve(void *arg)
{
	(void)arg;
	serve_rc = bb_screen_serve(&opts, &serve_err);
	return NULL;
}

static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* One request on a new control connection, its answer line in ans. */
static void
control(const char *req, char *ans, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < len - 1 && (n = read(fd, ans + got, len - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(ans, '\n', got) != NULL)
			break;
	}
	ans[got] = '\0';
	close(fd);
}

/* After this answer the server has finished with every earlier request (it serves the
 * control socket in one thread, a request at a time). */
static void
sync_server(void)
{
	char ans[256];

	control("x\n", ans, sizeof ans);
	assert_non_null(strstr(ans, "\"error\""));
}

static size_t
collect(char *data, size_t size, size_t n, void *cls)
{
	FILE *f = cls;

	return fwrite(data, size, n, f);
}

static void
test_serve_wipes(void **state)
{
	char path[300], ans[256], *page = NULL, *v, post[64];
	size_t page_len = 0;
	pthread_t t;
	int devnull, saved, pfd[2], i;
	CURL *c;
	FILE *f;

	(void)state;
	assert_int_equal(scratch_make(dir, "screen"), 0);
	snprintf(path, sizeof path, "%s/catalog", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/run", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/services", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	put("catalog/de.yaml", "lang.name: Deutsch\nlang.dir: ltr\nwait.title: W\n"
	    "wait.text: \"{name}\"\nask.title: A\nask.yes: J\n");
	put("catalog/en.yaml", "lang.name: English\nlang.dir: ltr\n");
	put("wait.yaml", "id: wait\ntitle: wait.title\ntext: [wait.text]\n");
	put("ask.yaml", "id: ask\ntitle: ask.title\nbuttons:\n"
	    "  - {value: " CHOICE ", label: ask.yes}\n");
	snprintf(sock, sizeof sock, "%s/run/screen", dir);
	opts.listen = "127.0.0.1:0";
	opts.control = sock;
	opts.screens = dir;
	opts.services = path;
	opts.lang = "de";

	json_set_alloc_funcs(count_malloc, count_free);
	/* The kiosk URL the server prints: through a pipe, not into the TAP output. */
	assert_int_equal(pipe(pfd), 0);
	fflush(stdout);
	saved = dup(1);
	assert_int_equal(dup2(pfd[1], 1), 1);
	close(pfd[1]);
	assert_int_equal(pthread_create(&t, NULL, serve, NULL), 0);
	assert_non_null(f = fdopen(pfd[0], "r"));
	assert_non_null(fgets(url, sizeof url, f));
	fclose(f);
	fflush(stdout);
	assert_true((devnull = open("/dev/null", O_WRONLY)) >= 0);
	dup2(devnull, 1);	/* the server's stdout, until it ends */
	close(devnull);
	url[strcspn(url, "\n")] = '\0';
	snprintf(base, sizeof base, "%.*s", (int)strcspn(url, "?"), url);	/* ends in / */
	atomic_store(&hits, 0);

	/* A screen with a name, replaced by one without: the name is wiped. */
	control("{\"tell\":{\"screen\":\"wait\",\"set\":{\"name\":\"" NAME "\"}}}\n", ans,
	    sizeof ans);
	assert_string_equal(ans, "{\"ok\":true,\"lang\":\"de\"}\n");
	sync_server();
	atomic_store(&armed, 1);
	control("{\"tell\":{\"screen\":\"wait\"}}\n", ans, sizeof ans);
	assert_string_equal(ans, "{\"ok\":true,\"lang\":\"de\"}\n");
	sync_server();
	atomic_store(&armed, 0);
	assert_int_equal(atomic_load(&hits), 0);

	/* A choice: tapped in the page (the kiosk's token, its cookie, POST /act), answered
	 * to the tell waiting for it, then wiped. */
	c = curl_easy_init();
	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		const char *req = "{\"tell\":{\"screen\":\"ask\",\"until\":\"tap\"}}\n";
		size_t got = 0;
		ssize_t n;
		int fd;

		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
		assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
		assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
		/* The page, until it shows ask: its version goes with the tap. */
		for (i = 0; i < 100; i++) {
			assert_non_null(f = open_memstream(&page, &page_len));
			curl_easy_setopt(c, CURLOPT_URL, base);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
			assert_int_equal(curl_easy_perform(c), CURLE_OK);
			fclose(f);
			if (strstr(page, "data-screen=\"ask\"") != NULL)
				break;
			free(page);
			page = NULL;
			usleep(50000);
		}
		assert_non_null(page);
		assert_non_null(v = strstr(page, "data-version=\""));
		snprintf(post, sizeof post, "v=%ld&choice=" CHOICE, strtol(v + 14, NULL, 10));
		free(page);
		atomic_store(&armed, 1);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
		snprintf(path, sizeof path, "%sact", base);
		curl_easy_setopt(c, CURLOPT_URL, path);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		assert_int_equal(curl_easy_perform(c), CURLE_OK);
		while (got < sizeof ans - 1 && (n = read(fd, ans + got, sizeof ans - 1 - got)) > 0)
			if (memchr(ans, '\n', got += (size_t)n) != NULL)
				break;
		ans[got] = '\0';
		close(fd);
		assert_string_equal(ans, "{\"choice\":\"" CHOICE "\"}\n");
	}
	curl_easy_cleanup(c);
	sync_server();
	atomic_store(&armed, 0);
	assert_int_equal(atomic_load(&hits), 0);

	/* A name still shown when the server stops: wiped at exit. */
	control("{\"tell\":{\"screen\":\"wait\",\"set\":{\"name\":\"" NAME "\"}}}\n", ans,
	    sizeof ans);
	assert_string_equal(ans, "{\"ok\":true,\"lang\":\"de\"}\n");
	sync_server();
	atomic_store(&armed, 1);
	pthread_kill(t, SIGTERM);
	assert_int_equal(pthread_join(t, NULL), 0);
	atomic_store(&armed, 0);
	assert_int_equal(serve_rc, 0);
	assert_int_equal(atomic_load(&hits), 0);

	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	json_set_alloc_funcs(malloc, free);
	scratch_remove(dir);
}

/* The control: a decref alone leaves the name in freed memory, seen by count_free. */
static void
test_counter_sees_decref(void **state)
{
	json_t *j;

	(void)state;
	json_set_alloc_funcs(count_malloc, count_free);
	atomic_store(&hits, 0);
	atomic_store(&armed, 1);
	j = json_pack("{s:s}", "name", NAME);
	json_decref(j);
	atomic_store(&armed, 0);
	json_set_alloc_funcs(malloc, free);
	assert_true(atomic_load(&hits) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_sees_decref),
		cmocka_unit_test(test_serve_wipes),
	};

	bb_init("screen_wipe");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
