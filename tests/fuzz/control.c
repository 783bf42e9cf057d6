/* Fuzz target: the screen server's control socket (bb-form(5) ASK PAGES and SCREENS):
 * the lines a client sends (ask with a form page, tell, end) taken by request() as the
 * server takes them, the page then shown rendered in German, English and Arabic, a tap
 * (POST /act) on it applied as act() applies it, the page rendered again with the drafts,
 * and the answer the waiting client would get (choice or time-out, with the answers).
 * lib/screen/server.c is included to reach request(), act() and the form page's checks;
 * they get a struct srv of their own, no daemon, and the client's descriptor is
 * /dev/null (what the server sends it goes nowhere).
 *
 * The catalogues and screens are the real ones, $BB_TOP/scripts/screens (BB_TOP is
 * where make fuzz and make check run from).
 *
 * Whatever the lines say: a form page the server keeps passed its checks; every text
 * reaches the page escaped ("<x" never appears in the HTML, the page's own tags do not
 * start so); a choice taken is one the page offers.
 *
 * Input: the client's bytes (lines; a last one without newline is not taken), NUL, the
 * POST body. */
#include "fuzz.h"

#define bb_screen_serve fuzz_screen_serve
#define bb_screen_control_default fuzz_screen_control_default
#include "../../lib/screen/server.c"

static struct bb_serve_opts opts;
static struct bb_catalogs *cat;
static char screens[4096], services[4096];
static int devnull = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct bb_err e = { 0, "" };
	const char *top = getenv("BB_TOP");

	(void)argc;
	(void)argv;
	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(screens, sizeof screens, "%s/scripts/screens", top);
	snprintf(services, sizeof services, "%s/scripts/services", top);
	if (bb_catalogs_load(screens, &cat, &e) != 0) {
		fprintf(stderr, "control: %s (set BB_TOP to the source tree)\n", e.msg);
		abort();
	}
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	opts.screens = screens;
	opts.services = services;
	opts.lang = "de";
	return 0;
}

static void
render(struct srv *s, const char *lang)
{
	struct bb_page pg;
	char *html;
	size_t len;

	/* Zeroed first: a field bb_page grows must not be stack garbage here. */
	memset(&pg, 0, sizeof pg);
	pg.cat = s->cat;
	pg.screen = s->screen;
	pg.set = s->set;
	pg.lang = lang;
	pg.size = s->size;
	pg.contrast_high = s->contrast_high;
	pg.speech = s->speech;
	pg.version = s->version;
	pg.services_dir = s->o->services;
	pg.form = s->form;
	pg.pin = s->pin;
	pg.volume = s->volume;
	if ((html = bb_page_render(&pg, &len)) == NULL)
		abort();
	if (strlen(html) != len || strstr(html, "<x") != NULL || strstr(html, "<X") != NULL)
		__builtin_trap();
	free(html);
}

static void
render_all(struct srv *s)
{
	/* A form page must have passed the checks the renderer relies on. */
	if (s->form != NULL && (s->screen != NULL || !form_page_ok(s->form)))
		__builtin_trap();
	render(s, "de");
	render(s, "en");
	render(s, "ar");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv s;
	struct client cl = { devnull, NULL, 0, 0 };
	struct waiter w = { -1, { 0, 0 } };
	const uint8_t *part[2];
	size_t len[2], n;
	char *lines, *line, *nl, *body;
	int wake[2];

	n = fuzz_split(data, size, 0, part, len, 2);
	memset(&s, 0, sizeof s);
	s.mirror_fd = s.mirror_next = -1;	/* as serve starts: no mirror (0 is a descriptor) */
	s.o = &opts;
	s.cat = cat;
	s.size = 100;
	snprintf(s.lang, sizeof s.lang, "de");
	if (pthread_mutex_init(&s.mu, NULL) != 0 || pthread_cond_init(&s.cond, NULL) != 0 ||
	    pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		abort();
	s.wake_w = wake[1];

	/* As client_read: each whole line a request. */
	lines = fuzz_str(part[0], len[0]);
	for (line = lines; (nl = memchr(line, '\n', len[0] - (size_t)(line - lines))) != NULL;
	    line = nl + 1) {
		*nl = '\0';
		if ((size_t)(nl - line) < MAX_LINE)
			request(&s, &cl, line, &w);
	}
	free(lines);
	if (fuzz_verbose())
		fprintf(stderr, "control: %s%s, waiting %d\n", s.form != NULL ? "form page " :
		    s.screen != NULL ? "screen " : "idle", s.screen != NULL ? s.screen->id :
		    s.form != NULL ? json_string_value(json_object_get(s.form, "kind")) : "",
		    s.waiting);
	render_all(&s);

	if (n > 1) {
		body = fuzz_str(part[1], len[1]);
		act(&s, body);
		free(body);
		if (s.have_choice && (s.form != NULL ? !bb_form_page_offers(s.form, s.choice) :
		    s.screen == NULL || !bb_screen_offers(s.screen, services, s.choice)))
			__builtin_trap();
		if (fuzz_verbose())
			fprintf(stderr, "control: choice %s\n", s.have_choice ? s.choice : "(none)");
		render_all(&s);
	}

	/* What the waiting client would get: the choice, or a time-out with the drafts. */
	if (s.form != NULL) {
		json_t *j = json_pack("{s:b}", "timeout", 1), *drafts = json_object();
		form_values(json_object_get(s.form, "items"), drafts);
		json_object_set_new(j, "answers", drafts);
		send_line(devnull, j);
	}
	if (s.have_choice && s.waiting) {
		json_t *j = json_pack("{s:s}", "choice", s.choice);
		if (s.answers != NULL) {
			json_object_set_new(j, "answers", s.answers);
			s.answers = NULL;
		}
		send_line(devnull, j);
	}
	show_page(&s, NULL, NULL, NULL, NULL, 0);
	if (s.mirror_fd >= 0)
		close(s.mirror_fd);
	close(wake[0]);
	close(wake[1]);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.mu);
	return 0;
}
