/* The screen server: libmicrohttpd serves the page to one kiosk browser (its own threads,
 * one per connection, so an event stream may block), the main thread serves the control
 * socket. Both meet in struct srv under its mutex. */
#include "screen/server.h"
#include "screen/screen.h"
#include "screen/speech.h"
#include "case.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "secmem.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 8		/* control connections at once */
#define MAX_LINE 65536		/* one control request */
#define MAX_STREAMS 4		/* event streams: one page, and a reload's overlap */
#define MAX_BODY 32768		/* a POST /act: a form page's answers */
#define MAX_PICTURE (200u << 10)
#define KEEPALIVE_S 10		/* an event-stream comment finds a gone browser */
#define VOLUME_DEFAULT 50	/* speech volume, %: a session starts and ends with it */
#define MAX_SPEAKERS 4		/* espeak-ng runs at once: the page asks one ahead */

struct srv {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	const struct bb_serve_opts *o;
	struct bb_catalogs *cat;
	char token[65];
	char session[65];		/* the cookie: the token is in the browser's argv */
	int token_used;
	char host[2][40], origin[2][48];
	unsigned long version;
	struct bb_screen *screen;	/* NULL: the idle page */
	json_t *form;			/* a page of bb-form ask (then screen is NULL) */
	json_t *answers;		/* what came with the choice on a form page */
	json_t *pin;			/* the PIN pad shown: kind, digits, tries, error */
	struct bb_secret secret;	/* the digits, from their POST until sent */
	json_t *set;
	char lang[40];
	int size, contrast_high, speech, volume;
	int speakers;			/* espeak-ng running for POST /say */
	int headset_in, speech_by_headset;	/* form.headset */
	int speech_used;		/* speech was on at some time in this session */
	int waiting;			/* a tell waits for this screen's choice */
	int have_choice;
	char choice[80];
	unsigned long stream_next, stream_min;
	int streams, stopping;
	int wake_w;
	int mirror_fd;			/* tell --mirror DIR: DIR open, else -1 */
	int mirror_next;		/* the next screen's (control thread only) */
};

static volatile sig_atomic_t stop_signal;
static int sig_wake_fd = -1;

static void
on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	stop_signal = 1;
	/* A full pipe already holds a wake-up. */
	if (sig_wake_fd >= 0)
		(void)!write(sig_wake_fd, "s", 1);
	errno = saved;
}

void
bb_screen_control_default(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	if (x != NULL && x[0] == '/')
		snprintf(buf, len, "%s/bb/screen", x);
	else
		snprintf(buf, len, "/run/bb/screen");
}

static int
consttime_eq(const char *a, const char *b, size_t len)
{
	unsigned char d = 0;
	size_t i;

	if (strlen(b) != len)
		return 0;
	for (i = 0; i < len; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* --- HTTP --- */

struct req {
	char body[MAX_BODY + 1];
	size_t len;
	int too_big;
	int say;		/* POST /say, else /act */
};

struct stream {
	struct srv *s;
	unsigned long serial, sent;
};

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, struct MHD_Response *r, const char *type)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	if (type != NULL)
		MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return answer(c, status, MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT), "text/plain; charset=utf-8");
}

static enum MHD_Result
see_root(struct MHD_Connection *c, const char *cookie)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Location", "/");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	return answer(c, MHD_HTTP_SEE_OTHER, r, NULL);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	struct srv *s = st->s;
	struct timespec ts;
	int n;

	pthread_mutex_lock(&s->mu);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += KEEPALIVE_S;
	while (!s->stopping && st->serial >= s->stream_min && s->version == st->sent)
		if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) == ETIMEDOUT)
			break;
	if (s->stopping || st->serial < s->stream_min) {
		pthread_mutex_unlock(&s->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (s->version == st->sent) {
		pthread_mutex_unlock(&s->mu);
		return snprintf(buf, max, ": alive\n\n");
	}
	st->sent = s->version;
	pthread_mutex_unlock(&s->mu);
	n = snprintf(buf, max, "%sdata: %lu\n\n", pos == 0 ? "retry: 1000\n" : "", st->sent);
	return n > 0 && (size_t)n < max ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
stream_free(void *cls)
{
	struct stream *st = cls;

	pthread_mutex_lock(&st->s->mu);
	st->s->streams--;
	pthread_mutex_unlock(&st->s->mu);
	free(st);
}

static enum MHD_Result
serve_events(struct srv *s, struct MHD_Connection *c)
{
	struct stream *st = calloc(1, sizeof *st);
	struct MHD_Response *r;

	if (st == NULL)
		return MHD_NO;
	st->s = s;
	st->sent = ULONG_MAX;
	pthread_mutex_lock(&s->mu);
	st->serial = ++s->stream_next;
	/* The newest stream wins: the page that opened it is the one on the screen, an
	 * older one belongs to a page that was replaced and may not have closed yet. */
	if (s->streams >= MAX_STREAMS) {
		s->stream_min = st->serial - MAX_STREAMS + 1;
		pthread_cond_broadcast(&s->cond);
	}
	s->streams++;
	pthread_mutex_unlock(&s->mu);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256, stream_read, st,
	    stream_free);
	if (r == NULL) {
		stream_free(st);
		return MHD_NO;
	}
	return answer(c, MHD_HTTP_OK, r, "text/event-stream");
}

/* A page once sent: it may show a person's answers (a form page's drafts, the summary),
 * so it is overwritten before it is freed. A page is text: its length is strlen's. */
static void
free_wiped(void *page)
{
	explicit_bzero(page, strlen(page));
	free(page);
}

static enum MHD_Result
serve_page(struct srv *s, struct MHD_Connection *c)
{
	struct bb_page p;
	struct bb_guide g;
	char *html;
	size_t len;

	pthread_mutex_lock(&s->mu);
	p.cat = s->cat;
	p.screen = s->screen;
	p.set = s->set;
	p.lang = s->lang;
	p.size = s->size;
	p.contrast_high = s->contrast_high;
	p.speech = s->speech;
	p.volume = s->volume;
	p.version = s->version;
	p.services_dir = s->o->services;
	p.form = s->form;
	p.pin = s->pin;
	/* Read under the lock, so the page and its mirror are one screen's: two small
	 * files, never blocking (bb_mirror_guide refuses all but regular files). */
	p.guide = NULL;
	if (s->mirror_fd >= 0 && s->screen != NULL && s->screen->mirror) {
		bb_mirror_guide(s->mirror_fd, &g);
		p.guide = &g;
	}
	html = bb_page_render(&p, &len);
	pthread_mutex_unlock(&s->mu);
	if (html == NULL)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return answer(c, MHD_HTTP_OK, MHD_create_response_from_buffer_with_free_callback(len,
	    html, free_wiped), "text/html; charset=utf-8");
}

static enum MHD_Result
serve_picture(struct srv *s, struct MHD_Connection *c, const char *url)
{
	char name[80], path[4200], *buf;
	size_t len = strlen(url);

	if (len < 8 || len - 7 >= sizeof name || strcmp(url + len - 4, ".svg") != 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	memcpy(name, url + 3, len - 7);
	name[len - 7] = '\0';
	if (!bb_screen_name_ok(name))
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	snprintf(path, sizeof path, "%s/pictures/%s.svg", s->o->screens, name);
	if (bb_read_file(path, MAX_PICTURE, &buf, &len, NULL) != 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	return answer(c, MHD_HTTP_OK, MHD_create_response_from_buffer(len, buf,
	    MHD_RESPMEM_MUST_FREE), "image/svg+xml");
}

/* The mirror's descriptor, or -1 when no mirror is on (the caller closes it): a copy, so
 * the files are read without the lock while a tell may close the original. */
static int
mirror_dup(struct srv *s)
{
	int fd = -1;

	pthread_mutex_lock(&s->mu);
	if (s->mirror_fd >= 0)
		fd = fcntl(s->mirror_fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_unlock(&s->mu);
	return fd;
}

static void
wipe_free(void *cls)
{
	struct { char *buf; size_t len; } *w = cls;

	explicit_bzero(w->buf, w->len);
	free(w->buf);
	free(w);
}

/* GET /m/mirror.jpg: the newest frame (any query: the page changes it to load the next).
 * It shows a face: read for this answer only, wiped when sent, never cached (no-store
 * as every answer). */
static enum MHD_Result
serve_frame(struct srv *s, struct MHD_Connection *c)
{
	struct { char *buf; size_t len; } *w;
	struct MHD_Response *r;
	int fd = mirror_dup(s);
	char *buf;
	size_t len;

	if (fd < 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (bb_mirror_frame(fd, &buf, &len) != 0) {
		close(fd);
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	close(fd);
	if ((w = malloc(sizeof *w)) == NULL) {
		explicit_bzero(buf, len);
		free(buf);
		return MHD_NO;
	}
	w->buf = buf;
	w->len = len;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, buf, wipe_free, w);
	if (r == NULL) {
		wipe_free(w);
		return MHD_NO;
	}
	return answer(c, MHD_HTTP_OK, r, "image/jpeg");
}

/* GET /m/state: what kiosk.js needs to follow the mirror without a reload: the frame's
 * stamp (its image URL changes with it) and the guidance in the session's language. */
static enum MHD_Result
serve_state(struct srv *s, struct MHD_Connection *c)
{
	const char *text, *tlang = NULL;
	struct bb_guide g;
	json_t *j;
	char *js;
	int fd = mirror_dup(s);

	if (fd < 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	bb_mirror_guide(fd, &g);
	close(fd);
	pthread_mutex_lock(&s->mu);
	text = bb_guide_text(s->cat, s->lang, &g, &tlang);
	j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "n", g.stamp, "text", text, "lang", tlang,
	    "dir", bb_catalog_dir(s->cat, tlang), "good", strcmp(g.key, "guide.good") == 0);
	pthread_mutex_unlock(&s->mu);
	js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (js == NULL)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return answer(c, MHD_HTTP_OK, MHD_create_response_from_buffer(strlen(js), js,
	    MHD_RESPMEM_MUST_FREE), "application/json");
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded, decoded in place: '+' and %XX. */
static void
form_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '+')
			*w++ = ' ';
		else if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/* A tap: settings apply whatever page they came from; a choice only from the page of the
 * current screen (v), once, and only a value the screen offers. */
/* Sets every input of a form page's items to what the POST gave (drafts: the page
 * shows them again after a setting changed or a reason was given). */
static void
form_drafts(json_t *items, const json_t *answers)
{
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const char *path = json_string_value(json_object_get(it, "path"));
		json_t *v;
		if (kind != NULL && strcmp(kind, "input") == 0 && path != NULL) {
			const char *type = json_string_value(json_object_get(it, "type"));
			/* A check box not ticked is not in a POST: it says no (as ask reads
			 * a page); "" would be no answer, and a show_if on it would hide
			 * what it shows when the drafts go back to ask with a time-out. */
			v = json_object_get(answers, path);
			json_object_set_new(it, "value", v != NULL ? json_deep_copy(v) :
			    json_string(type != NULL && strcmp(type, "checkbox") == 0 ? "no" : ""));
		}
		form_drafts(json_object_get(it, "items"), answers);
	}
}

/* The drafts of a form page's inputs, path -> value. */
static void
form_values(const json_t *items, json_t *out)
{
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const char *path = json_string_value(json_object_get(it, "path"));
		json_t *v = json_object_get(it, "value");
		if (kind != NULL && strcmp(kind, "input") == 0 && path != NULL && v != NULL)
			json_object_set_new(out, path, json_deep_copy(v));
		form_values(json_object_get(it, "items"), out);
	}
}

/* An input's value on a form page: a name twice (a multi-select) makes a list. */
static void
form_answer(json_t *answers, const char *path, const char *val)
{
	json_t *old = json_object_get(answers, path), *v = json_string(val);

	if (v == NULL)		/* not UTF-8: as if nothing was typed */
		v = json_string("");
	if (old == NULL) {
		json_object_set_new(answers, path, v);
	} else if (json_is_array(old)) {
		json_array_append_new(old, v);
	} else {
		json_t *list = json_pack("[O, o]", old, v);
		json_object_set_new(answers, path, list);
	}
}

/* A setting the page sent (size, contrast, speech, lang, volume): taken when it is one
 * the page offers, else ignored. Under s->mu. */
static void
act_setting(struct srv *s, const char *name, const char *val)
{
	if (strcmp(name, "size") == 0) {
		if (strcmp(val, "100") == 0 || strcmp(val, "150") == 0 ||
		    strcmp(val, "200") == 0)
			s->size = atoi(val);
	} else if (strcmp(name, "contrast") == 0) {
		if (strcmp(val, "high") == 0 || strcmp(val, "normal") == 0)
			s->contrast_high = val[0] == 'h';
	} else if (strcmp(name, "speech") == 0) {
		if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)
			s->speech = val[1] == 'n';
		s->speech_used |= s->speech;
	} else if (strcmp(name, "lang") == 0) {
		if (strlen(val) < sizeof s->lang && bb_catalogs_has(s->cat, val))
			snprintf(s->lang, sizeof s->lang, "%s", val);
	} else if (strcmp(name, "volume") == 0) {
		if (strcmp(val, "25") == 0 || strcmp(val, "50") == 0 ||
		    strcmp(val, "75") == 0 || strcmp(val, "100") == 0)
			s->volume = atoi(val);
	}
}

/* The choice is made: the control thread hears of it when a client waits. */
static int
choose(struct srv *s, const char *choice)
{
	snprintf(s->choice, sizeof s->choice, "%s", choice);
	s->have_choice = 1;
	return s->waiting;
}

/* A tap on the PIN pad: cancel, or ok with as many digits as asked. The digits go to
 * locked memory and nowhere else; a wrong count is said on the page, without them.
 * Under s->mu; whether a client is to be woken. */
static int
act_pin(struct srv *s, const char *choice, const json_t *answers)
{
	const char *digits = json_string_value(json_object_get(answers, "pin"));
	long want = (long)json_integer_value(json_object_get(s->pin, "digits"));

	if (choice != NULL && strcmp(choice, "cancel") == 0)
		return choose(s, "cancel");
	if (choice == NULL || strcmp(choice, "ok") != 0)
		return 0;
	if (digits != NULL && (long)strlen(digits) == want &&
	    strspn(digits, "0123456789") == strlen(digits) && (size_t)want < s->secret.cap) {
		memcpy(s->secret.buf, digits, (size_t)want + 1);
		s->secret.len = (size_t)want;
		return choose(s, "ok");
	}
	json_object_set_new(s->pin, "error", json_true());
	return 0;
}

/* A tap on a form page: the answers go with a choice the page offers (*answers then is
 * the server's). Whatever was tapped, what was typed stays on the page. Under s->mu. */
static int
act_form(struct srv *s, const char *choice, json_t **answers)
{
	form_drafts(json_object_get(s->form, "items"), *answers);
	if (choice == NULL || strlen(choice) >= sizeof s->choice ||
	    !bb_form_page_offers(s->form, choice))
		return 0;
	bb_json_wipe(s->answers);
	s->answers = *answers;
	*answers = NULL;
	return choose(s, choice);
}

/* POST /act: the page's settings, and a tap with the version of the page it was on. */
static void
act(struct srv *s, char *body)
{
	char *pair, *save = NULL, *choice = NULL;
	unsigned long v = ULONG_MAX;
	int chosen = 0;
	json_t *answers = json_object();

	pthread_mutex_lock(&s->mu);
	for (pair = strtok_r(body, "&", &save); pair != NULL; pair = strtok_r(NULL, "&", &save)) {
		char *val = strchr(pair, '=');
		if (val == NULL)
			continue;
		*val++ = '\0';
		form_decode(pair);
		form_decode(val);
		if (strcmp(pair, "v") == 0) {
			char *end;
			v = strtoul(val, &end, 10);
			if (*end != '\0' || end == val)
				v = ULONG_MAX;
		} else if (strcmp(pair, "choice") == 0) {
			choice = val;
		} else if (strncmp(pair, "f:", 2) == 0 && pair[2] != '\0' && strlen(pair) < 300) {
			form_answer(answers, pair + 2, val);
		} else {
			act_setting(s, pair, val);
		}
	}
	/* A tap counts on the page shown (not one already replaced), once. */
	if (v == s->version && !s->have_choice) {
		if (s->pin != NULL)
			chosen = act_pin(s, choice, answers);
		else if (s->form != NULL)
			chosen = act_form(s, choice, &answers);
		else if (choice != NULL && s->screen != NULL &&
		    strlen(choice) < sizeof s->choice &&
		    bb_screen_offers(s->screen, s->o->services, choice))
			chosen = choose(s, choice);
	}
	pthread_mutex_unlock(&s->mu);
	bb_json_wipe(answers);
	if (chosen)
		(void)!write(s->wake_w, "c", 1);	/* full: a wake-up is pending already */
}

struct wav {
	unsigned char *buf;
	size_t len;
};

/* Sound of a person's answers is theirs too: wiped before it is freed. */
static void
wav_free(void *cls)
{
	struct wav *w = cls;

	explicit_bzero(w->buf, w->len);
	free(w->buf);
	free(w);
}

/* POST /say: text=... (and lang=..., a language with a catalogue: a part of the page in
 * another language, the session's by default) spoken into audio/wav. Only while speech
 * is on, and a few at once. The text is never logged, nor espeak-ng's stderr. */
static enum MHD_Result
serve_say(struct srv *s, struct MHD_Connection *c, char *body)
{
	struct bb_err e = { 0, "" };
	struct MHD_Response *r;
	char *pair, *save = NULL, *text = NULL, lang[40];
	const char *want = NULL;
	struct wav *w;
	int on, off, rc;

	for (pair = strtok_r(body, "&", &save); pair != NULL; pair = strtok_r(NULL, "&", &save)) {
		char *val = strchr(pair, '=');
		if (val == NULL)
			continue;
		*val++ = '\0';
		form_decode(pair);
		form_decode(val);
		if (strcmp(pair, "text") == 0)
			text = val;
		else if (strcmp(pair, "lang") == 0)
			want = val;
	}
	if (text == NULL || text[strspn(text, " \t\r\n")] == '\0')
		return answer_text(c, MHD_HTTP_BAD_REQUEST, "no text\n");
	if (strlen(text) > BB_SPEECH_MAX)
		return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "text too long\n");
	pthread_mutex_lock(&s->mu);
	off = !s->speech;
	on = !off && s->speakers < MAX_SPEAKERS;
	if (on)
		s->speakers++;
	snprintf(lang, sizeof lang, "%s", want != NULL && strlen(want) < sizeof lang &&
	    bb_catalogs_has(s->cat, want) ? want : s->lang);
	pthread_mutex_unlock(&s->mu);
	if (!on)
		return answer_text(c, off ? MHD_HTTP_CONFLICT : MHD_HTTP_SERVICE_UNAVAILABLE,
		    off ? "speech is off\n" : "busy\n");
	if ((w = calloc(1, sizeof *w)) == NULL)
		rc = bb_fail(&e, BB_SOFTWARE, "out of memory");
	else
		rc = bb_speech_render(text, lang, &w->buf, &w->len, &e);
	pthread_mutex_lock(&s->mu);
	s->speakers--;
	pthread_mutex_unlock(&s->mu);
	if (rc != 0) {
		free(w);
		bb_warn("%s", e.msg);	/* what failed, never the text */
		return answer_text(c, rc == BB_DATAERR ? MHD_HTTP_CONTENT_TOO_LARGE :
		    MHD_HTTP_SERVICE_UNAVAILABLE, "no speech\n");
	}
	r = MHD_create_response_from_buffer_with_free_callback_cls(w->len, w->buf, wav_free, w);
	if (r == NULL) {
		wav_free(w);
		return MHD_NO;
	}
	return answer(c, MHD_HTTP_OK, r, "audio/wav");
}

static const char *
route_name(const char *url)
{
	static const char *const known[] = { "/", "/events", "/act", "/say", "/s/kiosk.css",
		"/s/kiosk.js" };
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(url, known[i]) == 0)
			return known[i];
	if (strcmp(url, "/m/state") == 0 || strcmp(url, "/m/mirror.jpg") == 0)
		return url;
	return strncmp(url, "/p/", 3) == 0 ? "/p/…" : "(other)";
}

/* DNS rebinding: a page from elsewhere that resolves its name to 127.0.0.1 sends its own
 * Host, and its Origin on a POST or fetch. */
static int
origin_ok(struct srv *s, struct MHD_Connection *c)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

	if (host == NULL || (strcmp(host, s->host[0]) != 0 && strcmp(host, s->host[1]) != 0))
		return 0;
	return origin == NULL || strcmp(origin, s->origin[0]) == 0 ||
	    strcmp(origin, s->origin[1]) == 0;
}

/* The body of POST /act or /say, piece by piece, then at its end the answer. */
static enum MHD_Result
post_body(struct srv *s, struct MHD_Connection *c, struct req *rq, const char *upload,
    size_t *upload_size)
{
	if (*upload_size > 0) {
		if (rq->len + *upload_size > MAX_BODY)
			rq->too_big = 1;
		else {
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
	rq->body[rq->len] = '\0';
	if (rq->say)
		return serve_say(s, c, rq->body);
	act(s, rq->body);
	explicit_bzero(rq->body, rq->len);	/* a person's answers */
	return see_root(c, NULL);
}

/* GET /?token=: the token from the browser's argv, used once, buys the cookie. */
static enum MHD_Result
log_in(struct srv *s, struct MHD_Connection *c, const char *token)
{
	char set_cookie[128];
	int ok;

	pthread_mutex_lock(&s->mu);
	ok = !s->token_used && consttime_eq(s->token, token, 64);
	if (ok)
		s->token_used = 1;
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		return answer_text(c, MHD_HTTP_FORBIDDEN, "forbidden\n");
	snprintf(set_cookie, sizeof set_cookie, "bb=%s; HttpOnly; SameSite=Strict; Path=/",
	    s->session);
	return see_root(c, set_cookie);
}

/* A POST's start: /act or /say, a form's body, which post_body() then takes. */
static enum MHD_Result
post_start(struct MHD_Connection *c, const char *url, void **con_cls)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	struct req *rq;

	if (strcmp(url, "/act") != 0 && strcmp(url, "/say") != 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	/* What a form sends: text/plain or multipart would be a script's making. */
	if (type == NULL || strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
		return answer_text(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "expected a form\n");
	if ((rq = calloc(1, sizeof *rq)) == NULL)
		return MHD_NO;
	rq->say = url[1] == 's';
	*con_cls = rq;
	return MHD_YES;
}

/* A GET with the cookie: the page, its events, style and script, pictures, the mirror. */
static enum MHD_Result
serve_get(struct srv *s, struct MHD_Connection *c, const char *url)
{
	if (strcmp(url, "/") == 0)
		return serve_page(s, c);
	if (strcmp(url, "/events") == 0)
		return serve_events(s, c);
	if (strcmp(url, "/s/kiosk.css") == 0)
		return answer(c, MHD_HTTP_OK, MHD_create_response_from_buffer(
		    bb_asset_kiosk_css_len, (void *)bb_asset_kiosk_css, MHD_RESPMEM_PERSISTENT),
		    "text/css; charset=utf-8");
	if (strcmp(url, "/s/kiosk.js") == 0)
		return answer(c, MHD_HTTP_OK, MHD_create_response_from_buffer(
		    bb_asset_kiosk_js_len, (void *)bb_asset_kiosk_js, MHD_RESPMEM_PERSISTENT),
		    "text/javascript; charset=utf-8");
	if (strncmp(url, "/p/", 3) == 0)
		return serve_picture(s, c, url);
	if (strcmp(url, "/m/mirror.jpg") == 0)
		return serve_frame(s, c);
	if (strcmp(url, "/m/state") == 0)
		return serve_state(s, c);
	return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	const char *token, *cookie;
	int is_get = strcmp(method, "GET") == 0;
	int ok;

	(void)version;
	if (*con_cls != NULL)
		return post_body(s, c, *con_cls, upload, upload_size);
	/* Method and path only: never the query (the token) or a body (a person's taps). */
	if (s->o->verbosity >= 2)
		fprintf(stderr, "%s: %s %s\n", bb_progname,
		    is_get || strcmp(method, "POST") == 0 ? method : "(other)", route_name(url));
	if (!origin_ok(s, c))
		return answer_text(c, MHD_HTTP_FORBIDDEN, "forbidden\n");
	if (is_get && strcmp(url, "/") == 0 &&
	    (token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token")) != NULL)
		return log_in(s, c, token);
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "bb");
	pthread_mutex_lock(&s->mu);
	ok = s->token_used && cookie != NULL && consttime_eq(s->session, cookie, 64);
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		return answer_text(c, MHD_HTTP_FORBIDDEN, "forbidden\n");
	if (strcmp(method, "POST") == 0)
		return post_start(c, url, con_cls);
	if (!is_get)
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	return serve_get(s, c, url);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	/* A body is a person's taps, or a text of the page to speak: not left in freed
	 * memory. */
	if (*con_cls != NULL)
		explicit_bzero(*con_cls, sizeof(struct req));
	free(*con_cls);
	*con_cls = NULL;
}

/* A headset plugged in turns speech on (private listening, EN 301 549 5.1.3.11); pulled
 * out, it turns off the speech it turned on, which would go on from the loudspeaker.
 * The page is sent again (a new version) so that it starts or stops speaking. */
static void
headset(void *arg, int in)
{
	struct srv *s = arg;

	pthread_mutex_lock(&s->mu);
	if (in != s->headset_in) {
		s->headset_in = in;
		if (in && !s->speech)
			s->speech = s->speech_by_headset = s->speech_used = 1;
		else if (!in && s->speech_by_headset)
			s->speech = s->speech_by_headset = 0;
		else
			in = -1;
		if (in >= 0) {
			s->version++;
			pthread_cond_broadcast(&s->cond);
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/* --- the control socket --- */

struct client {
	int fd;
	char *buf;
	size_t len;
	unsigned long active;	/* control_loop's tick when it last connected or sent */
};

static void
send_line(int fd, json_t *j)
{
	size_t n = j != NULL ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
	char *line = n > 0 ? malloc(n + 1) : NULL;

	/* A client that went away is seen closing by poll. One that does not read its
	 * answers (the socket is nonblocking, a full buffer would block the control thread
	 * for every other step) is shut down: poll then sees it close, and it goes.
	 * Straight into a buffer of our own (json_dumps leaves a copy in freed memory),
	 * wiped after: the line may hold a person's choice or answers. */
	if (line == NULL || json_dumpb(j, line, n, JSON_COMPACT) != n) {
		shutdown(fd, SHUT_RDWR);
	} else {
		line[n] = '\n';
		if (send(fd, line, n + 1, MSG_NOSIGNAL) != (ssize_t)(n + 1))
			shutdown(fd, SHUT_RDWR);
	}
	if (line != NULL)
		explicit_bzero(line, n + 1);
	free(line);
	bb_json_wipe(j);
}

static void
send_error(int fd, int status, const char *msg)
{
	send_line(fd, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

/* The welcome screen after a session, or the idle page when there is none. */
static int
load_idle(const char *dir, struct bb_screen **out, struct bb_err *e)
{
	int rc = bb_screen_load(dir, "welcome", out, e);

	if (rc == BB_NOINPUT) {
		*out = NULL;
		return 0;
	}
	return rc;
}

/* The placeholder values replaced (a name, a reference) are wiped, not only freed: they
 * must not outlive the session in freed memory. */
static void
show_page(struct srv *s, struct bb_screen *scr, json_t *form, json_t *pin, json_t *set,
    int waiting)
{
	pthread_mutex_lock(&s->mu);
	/* Only the screen a tell --mirror showed shows the mirror. */
	if (s->mirror_fd >= 0)
		close(s->mirror_fd);
	s->mirror_fd = s->mirror_next;
	s->mirror_next = -1;
	bb_screen_free(s->screen);
	bb_json_wipe(s->set);
	bb_json_wipe(s->form);
	bb_json_wipe(s->answers);
	s->answers = NULL;
	json_decref(s->pin);
	s->pin = pin;
	if (s->secret.buf != NULL)
		explicit_bzero(s->secret.buf, s->secret.cap);
	s->secret.len = 0;
	s->form = form;
	s->screen = scr;
	s->set = set;
	s->version++;
	s->waiting = waiting;
	s->have_choice = 0;
	explicit_bzero(s->choice, sizeof s->choice);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

/* mirror_fd: the mirror directory the screen shows (tell --mirror), or -1. */
static void
show(struct srv *s, struct bb_screen *scr, json_t *set, int waiting, int mirror_fd)
{
	s->mirror_next = mirror_fd;
	show_page(s, scr, NULL, NULL, set, waiting);
}

/* What the renderer relies on in a form page; the rest it reads defensively. */
static int
form_page_ok(const json_t *page)
{
	const char *kind = json_string_value(json_object_get(page, "kind"));
	json_t *c;
	size_t i;

	if (!json_is_object(page) || kind == NULL ||
	    (strcmp(kind, "page") != 0 && strcmp(kind, "summary") != 0) ||
	    !json_is_array(json_object_get(page, "items")) ||
	    !json_is_array(json_object_get(page, "choices")))
		return 0;
	json_array_foreach(json_object_get(page, "choices"), i, c)
		if (!json_is_string(c) || json_string_length(c) >= 80)
			return 0;
	return 1;
}

static int
set_ok(const json_t *set)
{
	const char *k;
	json_t *v;

	if (set == NULL)
		return 1;
	if (!json_is_object(set) || json_object_size(set) > BB_SCREEN_SET_MAX)
		return 0;
	json_object_foreach((json_t *)set, k, v) {
		if (!*k || strlen(k) > BB_SCREEN_SET_NAME ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k) ||
		    !json_is_string(v) || json_string_length(v) > BB_SCREEN_SET_VALUE)
			return 0;
	}
	return 1;
}

struct waiter {
	int fd;			/* -1: none */
	struct timespec deadline;	/* tv_sec 0: until a tap */
};

static void
end_waiter(struct waiter *w, int status, const char *msg)
{
	if (w->fd >= 0)
		send_error(w->fd, status, msg);
	w->fd = -1;
}

/* A request's "until": "tap" 0, seconds 1 to 86400, absent -1 where optional; -2 when
 * it is none of those. */
static long
parse_until(const json_t *u, int optional)
{
	if (u == NULL && optional)
		return -1;
	if (json_is_string(u) && strcmp(json_string_value(u), "tap") == 0)
		return 0;
	if (json_is_integer(u) && json_integer_value(u) > 0 && json_integer_value(u) <= 86400)
		return (long)json_integer_value(u);
	return -2;
}

/* The client on fd waits for the screen's answer: a tap, or until seconds pass. */
static void
wait_for(struct waiter *w, int fd, long until)
{
	w->fd = fd;
	w->deadline.tv_sec = 0;
	if (until > 0) {
		clock_gettime(CLOCK_MONOTONIC, &w->deadline);
		w->deadline.tv_sec += until;
	}
}

/* {"end": true}: the session is over. The idle page comes back, the settings a person
 * chose go back to the terminal's, and the client hears what the session used. */
static void
req_end(struct srv *s, struct client *cl, struct waiter *w)
{
	struct bb_err e = { 0, "" };
	struct bb_screen *scr;
	json_t *ended;

	if (load_idle(s->o->screens, &scr, &e) != 0) {
		bb_warn("%s", e.msg);
		scr = NULL;
	}
	end_waiter(w, BB_CANCELLED, "the session ended");
	/* What the session used, for the kiosk's counts (language, speech on at some time):
	 * settings, nothing the person typed. */
	pthread_mutex_lock(&s->mu);
	ended = json_pack("{s:b, s:s, s:b}", "ok", 1, "lang", s->lang, "speech",
	    s->speech || s->speech_used);
	snprintf(s->lang, sizeof s->lang, "%s", s->o->lang);
	s->size = 100;
	s->contrast_high = s->speech = s->speech_by_headset = s->speech_used = 0;
	s->volume = VOLUME_DEFAULT;
	pthread_mutex_unlock(&s->mu);
	show(s, scr, NULL, 0, -1);
	send_line(cl->fd, ended);
}

/* {"pin": {...}}: the PIN pad, the client waiting for the digits. */
static void
req_pin(struct srv *s, struct client *cl, const json_t *t, struct waiter *w)
{
	const char *kind = json_string_value(json_object_get(t, "kind"));
	json_int_t digits = json_integer_value(json_object_get(t, "digits"));
	json_int_t tries = json_integer_value(json_object_get(t, "tries"));
	/* bb-form pin --confirm: the second pad ("again"), the first after two entries
	 * that differed ("mismatch"), the first of a new PIN ("new"). */
	const char *confirm = json_string_value(json_object_get(t, "confirm"));
	long until = parse_until(json_object_get(t, "until"), 0);
	json_t *pad;

	if (kind == NULL || (strcmp(kind, "pin") != 0 && strcmp(kind, "can") != 0 &&
	    strcmp(kind, "puk") != 0) || digits < 4 || digits > 12 || tries < 0 ||
	    tries > 9 || until == -2 || (json_object_get(t, "confirm") != NULL &&
	    (confirm == NULL || (strcmp(confirm, "new") != 0 &&
	    strcmp(confirm, "again") != 0 && strcmp(confirm, "mismatch") != 0)))) {
		send_error(cl->fd, BB_PROTOCOL, "pin: expected kind pin, can or puk, digits, "
		    "tries, until tap or seconds, and confirm new, again or mismatch");
		return;
	}
	pad = json_pack("{s:s, s:I, s:I}", "kind", kind, "digits", digits, "tries", tries);
	if (pad != NULL && confirm != NULL)
		json_object_set_new(pad, "confirm", json_string(confirm));
	end_waiter(w, BB_TEMPFAIL, "another screen replaced this one");
	/* With the version it comes in: a page fetched in between would show no pad, and
	 * no change would follow. */
	show_page(s, NULL, NULL, pad, NULL, 1);
	wait_for(w, cl->fd, until);
}

/* {"ask": {...}}: a page of bb-form ask, the client waiting for its answers. */
static void
req_ask(struct srv *s, struct client *cl, const json_t *t, struct waiter *w)
{
	json_t *page = json_object_get(t, "page");
	long until = parse_until(json_object_get(t, "until"), 0);

	if (!form_page_ok(page) || until == -2) {
		send_error(cl->fd, BB_PROTOCOL, "ask: expected a form page and until tap or "
		    "seconds");
		return;
	}
	end_waiter(w, BB_TEMPFAIL, "another screen replaced this one");
	show_page(s, NULL, json_deep_copy(page), NULL, NULL, 1);
	wait_for(w, cl->fd, until);
}

/* {"tell": {...}}: a screen of the catalogue, with its placeholder values and maybe the
 * photo mirror; the client waits for a tap or a time, or hears the language at once. */
static void
req_tell(struct srv *s, struct client *cl, const json_t *t, struct waiter *w)
{
	struct bb_err e = { 0, "" };
	struct bb_screen *scr;
	const char *name = json_string_value(json_object_get(t, "screen"));
	json_t *set = json_object_get(t, "set"), *mir = json_object_get(t, "mirror");
	long until = parse_until(json_object_get(t, "until"), 1);
	int rc, mfd = -1;

	if (name == NULL || until == -2 || !set_ok(set) ||
	    (mir != NULL && !json_is_string(mir))) {
		send_error(cl->fd, BB_PROTOCOL, "tell: expected screen, set of strings, "
		    "until tap or seconds, mirror a path");
		return;
	}
	if ((rc = bb_screen_load(s->o->screens, name, &scr, &e)) != 0) {
		send_error(cl->fd, rc, e.msg);
		return;
	}
	if (mir != NULL && !scr->mirror) {
		send_error(cl->fd, BB_USAGE, "tell: this screen shows no mirror (mirror: true)");
		bb_screen_free(scr);
		return;
	}
	if (mir != NULL && (mfd = bb_mirror_open(json_string_value(mir), &e)) < 0) {
		send_error(cl->fd, e.status, e.msg);
		bb_screen_free(scr);
		return;
	}
	end_waiter(w, BB_TEMPFAIL, "another screen replaced this one");
	show(s, scr, set != NULL ? json_deep_copy(set) : NULL, until >= 0, mfd);
	if (until >= 0) {
		wait_for(w, cl->fd, until);
		return;
	}
	/* The language shown, for what a step prints (a receipt). */
	pthread_mutex_lock(&s->mu);
	send_line(cl->fd, json_pack("{s:b, s:s}", "ok", 1, "lang", s->lang));
	pthread_mutex_unlock(&s->mu);
}

/* {"wait": {...}}: the choice on a screen already shown (bb-form receipt shows, prints,
 * then waits): a tap made in between counts. */
static void
req_wait(struct srv *s, struct client *cl, const json_t *t, struct waiter *w)
{
	const char *name = json_string_value(json_object_get(t, "screen"));
	long until = parse_until(json_object_get(t, "until"), 0);
	int shown, chosen;

	if (name == NULL || until == -2) {
		send_error(cl->fd, BB_PROTOCOL, "wait: expected screen and until tap or seconds");
		return;
	}
	pthread_mutex_lock(&s->mu);
	shown = s->screen != NULL && strcmp(s->screen->id, name) == 0;
	chosen = shown && s->have_choice;
	if (shown)
		s->waiting = 1;
	pthread_mutex_unlock(&s->mu);
	if (!shown) {
		send_error(cl->fd, BB_TEMPFAIL, "another screen replaced this one");
		return;
	}
	end_waiter(w, BB_TEMPFAIL, "another screen replaced this one");
	wait_for(w, cl->fd, until);
	if (chosen)
		(void)!write(s->wake_w, "c", 1);
}

/* One line of the control protocol: end, pin, ask, tell or wait. */
static void
request(struct srv *s, struct client *cl, const char *line, struct waiter *w)
{
	static const struct {
		const char *name;
		void (*fn)(struct srv *, struct client *, const json_t *, struct waiter *);
	} kinds[] = {
		{ "pin", req_pin }, { "ask", req_ask }, { "tell", req_tell },
		{ "wait", req_wait },
	};
	json_error_t jerr;
	json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &jerr), *t;
	size_t i;

	if (j == NULL || !json_is_object(j)) {
		send_error(cl->fd, BB_PROTOCOL, "not a JSON object");
		bb_json_wipe(j);
		return;
	}
	if (json_is_true(json_object_get(j, "end"))) {
		req_end(s, cl, w);
		bb_json_wipe(j);
		return;
	}
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if ((t = json_object_get(j, kinds[i].name)) != NULL && json_is_object(t))
			break;
	if (i < sizeof kinds / sizeof kinds[0])
		kinds[i].fn(s, cl, t, w);
	else
		send_error(cl->fd, BB_PROTOCOL, "expected tell, ask, wait or end");
	bb_json_wipe(j);	/* the placeholder values it carried */
}

/* Reads what a client sent and answers each whole line; -1 when it is gone. */
static int
client_read(struct srv *s, struct client *cl, struct waiter *w)
{
	char *nl;
	ssize_t n;

	if (cl->len >= MAX_LINE) {
		send_error(cl->fd, BB_PROTOCOL, "request too long");
		return -1;
	}
	n = read(cl->fd, cl->buf + cl->len, MAX_LINE - cl->len);
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	cl->len += (size_t)n;
	while ((nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
		size_t used = (size_t)(nl + 1 - cl->buf);
		*nl = '\0';
		request(s, cl, cl->buf, w);
		cl->len -= used;
		memmove(cl->buf, nl + 1, cl->len);
		explicit_bzero(cl->buf + cl->len, used);
	}
	return 0;
}

static int
control_listen(const char *path, struct bb_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path], *slash;
	struct stat st;
	mode_t old;
	int fd, dfd;

	if (path[0] != '/' || strlen(path) >= sizeof sa.sun_path ||
	    (slash = strrchr(path, '/')) == NULL)
		return bb_fail(e, BB_USAGE, "control socket %s: not an absolute path of at most "
		    "%zu bytes", path, sizeof sa.sun_path - 1), -1;
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (dir[0] != '\0' && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return bb_fail(e, BB_CANTCREAT, "control directory %s: %s", dir,
		    strerror(errno)), -1;
	if ((dfd = bb_trust_open(dir[0] ? dir : "/", "control directory", 0, 1, e)) < 0)
		return -1;
	close(dfd);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return bb_fail(e, BB_CANTCREAT, "control socket %s: exists and is not a "
			    "socket", path), -1;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(fd);
			return bb_fail(e, BB_TEMPFAIL, "control socket %s: another screen "
			    "server listens there", path), -1;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);	/* left by a server that died */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return bb_fail(e, BB_CANTCREAT, "socket: %s", strerror(errno)), -1;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0) {
		int err = errno;
		umask(old);
		close(fd);
		return bb_fail(e, BB_CANTCREAT, "control socket %s: %s", path, strerror(err)), -1;
	}
	umask(old);
	return fd;
}

static long
ms_until(const struct timespec *d)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(d->tv_sec - now.tv_sec) * 1000 + (d->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (long)ms;
}

static void
drop_client(struct client *cl, size_t *n, size_t i)
{
	close(cl[i].fd);
	explicit_bzero(cl[i].buf, MAX_LINE);	/* what it sent: placeholder values */
	free(cl[i].buf);
	cl[i] = cl[--*n];
}

/* A full table must not lock a flow out: clients that connect and send nothing (a
 * script that hangs, a stuck step) would otherwise hold every place, and the next
 * step's tell would wait for ever. The one idle longest goes, never the one waiting
 * for a tap. */
static void
make_room(struct client *cl, size_t *n, const struct waiter *w)
{
	size_t i, old = *n;

	for (i = 0; i < *n; i++)
		if (cl[i].fd != w->fd && (old == *n || cl[i].active < cl[old].active))
			old = i;
	if (old == *n)
		return;
	send_error(cl[old].fd, BB_TEMPFAIL, "too many control connections: this idle one "
	    "is closed");
	drop_client(cl, n, old);
}

/* A tap woke the control thread: the choice (and a form page's answers, or the PIN's
 * digits) goes to the client waiting for it, if one is. */
static void
send_choice(struct srv *s, struct waiter *w)
{
	json_t *j;

	pthread_mutex_lock(&s->mu);
	if (!s->have_choice || !s->waiting || w->fd < 0) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	j = json_pack("{s:s}", "choice", s->choice);
	if (s->answers != NULL) {
		json_object_set_new(j, "answers", s->answers);
		s->answers = NULL;
	}
	s->waiting = 0;
	if (s->pin != NULL && s->secret.len > 0) {
		/* The digits follow on a line of their own, straight from locked memory, so
		 * the client reads them into its own. */
		json_object_set_new(j, "secret", json_true());
		send_line(w->fd, j);
		s->secret.buf[s->secret.len] = '\n';
		if (send(w->fd, s->secret.buf, s->secret.len + 1, MSG_NOSIGNAL) !=
		    (ssize_t)s->secret.len + 1)
			shutdown(w->fd, SHUT_RDWR);
		explicit_bzero(s->secret.buf, s->secret.cap);
		s->secret.len = 0;
		j = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (j != NULL)
		send_line(w->fd, j);
	w->fd = -1;
}

/* The waiting client's time is up: it hears so, with a form page's drafts. */
static void
send_timeout(struct srv *s, struct waiter *w)
{
	json_t *j = json_pack("{s:b}", "timeout", 1), *drafts;

	pthread_mutex_lock(&s->mu);
	s->waiting = 0;
	/* What was typed and not sent: more time must not lose it. */
	if (s->form != NULL) {
		drafts = json_object();
		form_values(json_object_get(s->form, "items"), drafts);
		json_object_set_new(j, "answers", drafts);
	}
	pthread_mutex_unlock(&s->mu);
	send_line(w->fd, j);
	w->fd = -1;
}

/* A new control connection, in the table (making room when it is full). */
static void
accept_client(int lfd, struct client *cl, size_t *n, const struct waiter *w,
    unsigned long tick)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (*n == MAX_CLIENTS)
		make_room(cl, n, w);
	if (*n == MAX_CLIENTS) {
		close(fd);	/* cannot happen: the waiter is one */
		return;
	}
	cl[*n].fd = fd;
	cl[*n].len = 0;
	cl[*n].active = tick;
	if ((cl[*n].buf = malloc(MAX_LINE)) == NULL)
		close(fd);
	else
		(*n)++;
}

static void
control_loop(struct srv *s, int lfd, int wake_r)
{
	struct client cl[MAX_CLIENTS];
	struct pollfd pf[MAX_CLIENTS + 2];
	struct waiter w = { -1, { 0, 0 } };
	unsigned long tick = 0;
	size_t n = 0, i;
	char junk[64];

	while (!stop_signal) {
		int timeout = w.fd >= 0 && w.deadline.tv_sec != 0 ? (int)ms_until(&w.deadline) : -1;

		pf[0] = (struct pollfd){ .fd = wake_r, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < n; i++)
			pf[i + 2] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		if (poll(pf, n + 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			bb_warn("poll: %s", strerror(errno));
			break;
		}
		tick++;
		if (pf[0].revents & POLLIN) {
			(void)!read(wake_r, junk, sizeof junk);	/* nonblocking */
			send_choice(s, &w);
		}
		if (w.fd >= 0 && w.deadline.tv_sec != 0 && ms_until(&w.deadline) == 0)
			send_timeout(s, &w);
		for (i = n; i-- > 0;) {
			if (!(pf[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			cl[i].active = tick;
			if (client_read(s, &cl[i], &w) != 0) {
				if (w.fd == cl[i].fd) {
					w.fd = -1;
					pthread_mutex_lock(&s->mu);
					s->waiting = 0;
					pthread_mutex_unlock(&s->mu);
				}
				drop_client(cl, &n, i);
			}
		}
		/* After the clients: a new one has no poll entry yet. */
		if (pf[1].revents & POLLIN)
			accept_client(lfd, cl, &n, &w, tick);
	}
	while (n > 0)
		drop_client(cl, &n, 0);
}

static int
parse_listen(const char *spec, struct sockaddr_in *sa, struct bb_err *e)
{
	const char *colon = strrchr(spec, ':');
	char *end;
	long port;

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	/* Loopback only: the kiosk's browser runs on the terminal itself. */
	if (colon == NULL || (size_t)(colon - spec) != 9 || strncmp(spec, "127.0.0.1", 9) != 0)
		return bb_fail(e, BB_USAGE, "--listen %s: expected 127.0.0.1:PORT", spec);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return bb_fail(e, BB_USAGE, "--listen %s: bad port", spec);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* The HTTP socket, bound and listening before the daemon starts: the port (a free one
 * for port 0) is known, and the Host and Origin that origin_ok compares with are set,
 * before the first request can come in. */
static int
http_listen(const char *spec, struct sockaddr_in *sa, int *port, struct bb_err *e)
{
	socklen_t len = sizeof *sa;
	int fd, one = 1, err;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return bb_fail(e, BB_UNAVAILABLE, "socket: %s", strerror(errno)), -1;
	/* As libmicrohttpd does: a restart need not wait for the last one's TIME_WAIT. A
	 * port another socket listens on still fails. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)sa, sizeof *sa) != 0 || listen(fd, 32) != 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &len) != 0) {
		err = errno;
		close(fd);
		return bb_fail(e, BB_UNAVAILABLE, "cannot listen on %s: %s", spec,
		    err == EADDRINUSE ? "the port is in use" : strerror(err)), -1;
	}
	*port = ntohs(sa->sin_port);
	return fd;
}

/* The server's state at the start of a session: settings as o gives them, the idle
 * page, locked memory for the PIN, a fresh token and cookie. srv_free undoes it, also
 * after a failure here. */
static int
srv_start(struct srv *s, const struct bb_serve_opts *o, struct bb_err *e)
{
	pthread_condattr_t ca;
	unsigned char rnd[64];
	size_t i;
	int rc;

	memset(s, 0, sizeof *s);
	s->mirror_fd = s->mirror_next = -1;
	s->o = o;
	s->size = 100;
	s->volume = VOLUME_DEFAULT;
	snprintf(s->lang, sizeof s->lang, "%s", o->lang);
	if ((rc = bb_catalogs_load(o->screens, &s->cat, e)) != 0)
		return rc;
	if (!bb_catalogs_has(s->cat, s->lang))
		snprintf(s->lang, sizeof s->lang, "de");
	if ((rc = load_idle(o->screens, &s->screen, e)) != 0)
		return rc;
	/* Locked, never swapped, not in a core: the PIN passes through here. */
	if (bb_secret_alloc(&s->secret, 32) != 0)
		return bb_fail(e, BB_SOFTWARE, "locked memory: %s", strerror(errno));
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return bb_fail(e, BB_SOFTWARE, "getrandom: %s", strerror(errno));
	/* The token (the URL, in the browser's argv for every local user to read while it
	 * runs) is used once; the cookie it buys is another secret. */
	for (i = 0; i < 32; i++) {
		snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
		snprintf(s->session + 2 * i, 3, "%02x", rnd[32 + i]);
	}
	explicit_bzero(rnd, sizeof rnd);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

/* Wiped, not only freed: the page's values, the choice and the answers are a person's;
 * the token and cookie are secrets. */
static void
srv_free(struct srv *s)
{
	if (s->mirror_fd >= 0)
		close(s->mirror_fd);
	bb_screen_free(s->screen);
	bb_json_wipe(s->set);
	explicit_bzero(s->choice, sizeof s->choice);
	bb_json_wipe(s->form);
	bb_json_wipe(s->answers);
	json_decref(s->pin);
	bb_secret_free(&s->secret);
	bb_catalogs_free(s->cat);
	explicit_bzero(s->token, sizeof s->token);
	explicit_bzero(s->session, sizeof s->session);
}

/* The HTTP daemon on hfd (which it then owns), and the headset watcher when o names
 * one. Non-zero with *d NULL: no daemon started (hfd closed); with *d set: the daemon
 * runs, the headset failed. */
static int
http_start(struct srv *s, int hfd, struct MHD_Daemon **d, struct bb_headset **hs,
    struct bb_err *e)
{
	const struct bb_serve_opts *o = s->o;
	sigset_t block, old;
	int rc = 0;

	/* The HTTP threads take no signals: the control thread sees them in poll. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	*d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)hfd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (*d != NULL && o->headset != NULL && o->headset[0] != '\0')
		rc = bb_headset_start(o->headset, headset, s, hs, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (*d == NULL) {
		/* Ours again, unless the daemon closed it on its way out (no other thread
		 * runs yet to have reused the number). */
		if (fcntl(hfd, F_GETFD) != -1)
			close(hfd);
		rc = bb_fail(e, BB_SOFTWARE, "cannot start the HTTP server on %s", o->listen);
	}
	return rc;
}

int
bb_screen_serve(const struct bb_serve_opts *o, struct bb_err *e)
{
	static struct srv s;
	struct bb_headset *hs = NULL;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	struct sigaction act;
	int pipefd[2], lfd = -1, hfd, rc, port;

	if ((rc = parse_listen(o->listen, &sa, e)) != 0)
		return rc;
	if ((rc = srv_start(&s, o, e)) != 0)
		goto out;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = bb_fail(e, BB_SOFTWARE, "pipe: %s", strerror(errno));
		goto out;
	}
	s.wake_w = sig_wake_fd = pipefd[1];
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = control_listen(o->control, e)) < 0) {
		rc = e->status;
		goto out_pipe;
	}
	if ((hfd = http_listen(o->listen, &sa, &port, e)) < 0) {
		rc = e->status;
		goto out_sock;
	}
	snprintf(s.host[0], sizeof s.host[0], "127.0.0.1:%d", port);
	snprintf(s.host[1], sizeof s.host[1], "localhost:%d", port);
	snprintf(s.origin[0], sizeof s.origin[0], "http://127.0.0.1:%d", port);
	snprintf(s.origin[1], sizeof s.origin[1], "http://localhost:%d", port);
	if ((rc = http_start(&s, hfd, &d, &hs, e)) != 0) {
		if (d == NULL)
			goto out_sock;
		goto out_http;
	}
	printf("http://127.0.0.1:%d/?token=%s\n", port, s.token);
	if (fflush(stdout) != 0) {
		rc = bb_fail(e, BB_IOERR, "standard output: %s", strerror(errno));
		goto out_http;
	}
	control_loop(&s, lfd, pipefd[0]);
	rc = 0;
out_http:
	bb_headset_stop(hs);
	pthread_mutex_lock(&s.mu);
	s.stopping = 1;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.mu);
	MHD_stop_daemon(d);
out_sock:
	close(lfd);
	unlink(o->control);
out_pipe:
	sig_wake_fd = -1;
	close(pipefd[0]);
	close(pipefd[1]);
out:
	srv_free(&s);
	return rc;
}
