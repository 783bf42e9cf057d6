/* Fuzz target: the kiosk screen (lib/screen, bb-form(5) SCREENS): a message catalogue
 * and a screen definition loaded as bb-form serve loads them, the page rendered in each
 * language, then a tap (POST /act) decoded and applied as the server does, and the page
 * rendered again with what the tap set. lib/screen/server.c is included to reach
 * form_decode and act(); act() gets a struct srv of its own, no daemon.
 *
 * The catalogue is de.yaml beside a fixed small en.yaml (both are required); the screen
 * is NAME.yaml, NAME taken from its "id:" line (else "fuzz", which then fails to load
 * on the id unless the id says fuzz). Services: one, "anmeldung".
 *
 * Every text that reaches the page is escaped: "<x" (in any input or not) never appears
 * in the HTML, the page's own tags do not start so.
 *
 * Input: de.yaml, NUL, the screen's YAML, NUL, the POST body, NUL, the placeholders
 * (a JSON object, as tell --set gives them). */
#include "fuzz.h"

#define bb_screen_serve fuzz_screen_serve
#define bb_screen_control_default fuzz_screen_control_default
#include "../../lib/screen/server.c"

static const char en_yaml[] =
    "lang.name: \"English\"\n"
    "lang.dir: \"ltr\"\n"
    "chrome.language: \"Language\"\n"
    "welcome.title: \"Welcome, {name}\"\n"
    "welcome.services: \"Services\"\n"
    "svc.anmeldung.title: \"Registration\"\n";

static char screens[512], services[512];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[4096];

	(void)argc;
	(void)argv;
	snprintf(screens, sizeof screens, "%s/screens", fuzz_dir());
	snprintf(services, sizeof services, "%s/services", fuzz_dir());
	snprintf(path, sizeof path, "%s/anmeldung", services);
	if (mkdir(screens, 0700) != 0 || mkdir(services, 0700) != 0 ||
	    mkdir(path, 0700) != 0)
		abort();
	snprintf(path, sizeof path, "%s/catalog", screens);
	if (mkdir(path, 0700) != 0)
		abort();
	fuzz_file("services/anmeldung/form.yaml", "id: anmeldung\n", 14, path, sizeof path);
	fuzz_file("screens/catalog/en.yaml", en_yaml, sizeof en_yaml - 1, path, sizeof path);
	return 0;
}

/* NAME from a line "id: NAME" of the screen's YAML. */
static void
screen_name(const uint8_t *p, size_t len, char *name, size_t room)
{
	size_t i, n;

	snprintf(name, room, "fuzz");
	for (i = 0; i + 3 < len; i++) {
		if ((i > 0 && p[i - 1] != '\n') || memcmp(p + i, "id:", 3) != 0)
			continue;
		for (i += 3; i < len && p[i] == ' '; i++)
			;
		for (n = 0; i + n < len && n + 1 < room && n < 64 &&
		    strchr("abcdefghijklmnopqrstuvwxyz0123456789-", p[i + n]) != NULL &&
		    p[i + n] != '\0'; n++)
			name[n] = (char)p[i + n];
		if (n > 0)
			name[n] = '\0';
		return;
	}
}

static void
render(struct srv *s, const char *lang)
{
	struct bb_page pg = { 0 };	/* pg.form NULL: not a form page */
	char *html;
	size_t len;

	pg.cat = s->cat;
	pg.screen = s->screen;
	pg.set = s->set;
	pg.lang = lang;
	pg.size = s->size;
	pg.contrast_high = s->contrast_high;
	pg.speech = s->speech;
	pg.version = s->version;
	pg.services_dir = s->o->services;
	if ((html = bb_page_render(&pg, &len)) == NULL)
		abort();
	/* Escaped everywhere: no "<x" from any input reaches the page as a tag. */
	if (strlen(html) != len || strstr(html, "<x") != NULL || strstr(html, "<X") != NULL)
		__builtin_trap();
	free(html);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_serve_opts o = { 0 };
	struct bb_err e = { 0, "" };
	struct srv s;
	const uint8_t *part[4];
	size_t len[4], n;
	char path[4096], name[80], file[96];
	char *body;

	n = fuzz_split(data, size, 0, part, len, 4);
	fuzz_file("screens/catalog/de.yaml", part[0], len[0], path, sizeof path);
	memset(&s, 0, sizeof s);
	if (bb_catalogs_load(screens, &s.cat, &e) != 0) {
		if (fuzz_verbose())
			fprintf(stderr, "catalogue: %s\n", e.msg);
		return 0;
	}
	name[0] = '\0';
	if (n > 1) {
		screen_name(part[1], len[1], name, sizeof name);
		snprintf(file, sizeof file, "screens/%s.yaml", name);
		fuzz_file(file, part[1], len[1], path, sizeof path);
		if (bb_screen_load(screens, name, &s.screen, &e) != 0) {
			if (fuzz_verbose())
				fprintf(stderr, "screen %s: %s\n", name, e.msg);
			s.screen = NULL;
		}
		unlink(path);
	}
	if (n > 3)
		s.set = json_loadb((const char *)part[3], len[3], 0, NULL);
	o.services = services;
	s.o = &o;
	s.size = 100;
	s.version = 7;
	snprintf(s.lang, sizeof s.lang, "de");
	if (pthread_mutex_init(&s.mu, NULL) != 0)
		abort();
	render(&s, "de");
	render(&s, "en");
	if (n > 2) {
		body = fuzz_str(part[2], len[2]);
		act(&s, body);
		free(body);
		if ((s.size != 100 && s.size != 150 && s.size != 200) ||
		    !bb_catalogs_has(s.cat, s.lang))
			__builtin_trap();
		if (s.have_choice && (s.screen == NULL ||
		    !bb_screen_offers(s.screen, services, s.choice)))
			__builtin_trap();
		if (fuzz_verbose())
			fprintf(stderr, "screen %s: lang %s size %d choice %s\n",
			    s.screen != NULL ? name : "(idle)", s.lang, s.size,
			    s.have_choice ? s.choice : "(none)");
		render(&s, s.lang);
	} else if (fuzz_verbose())
		fprintf(stderr, "screen %s rendered\n", s.screen != NULL ? name : "(idle)");
	pthread_mutex_destroy(&s.mu);
	json_decref(s.set);
	bb_screen_free(s.screen);
	bb_catalogs_free(s.cat);
	return 0;
}
