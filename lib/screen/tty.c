/* bb-form ask on a terminal: the same walk as the screen (ask.c), its pages printed and
 * their inputs read a line each. Nothing is checked here: every line goes to
 * bb_ask_answer as typed (an option's number turned into its value), and the reasons
 * come back from the walk, in words from the screens' catalogue. */
#include "screen/screen.h"
#include "form/ask.h"
#include "case.h"
#include "diag.h"
#include "exit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tty {
	FILE *in, *out;
	const char *lang;
	const struct bb_catalogs *cat;
	json_t *answers;	/* path -> what the person gave on this page */
	json_t *asked;		/* paths asked since the page was first shown */
	json_t *names;		/* add: and remove: choices -> what they add or remove */
	int eof;
};

/* A definition's text ({de, en}) in the language asked for, else the other. */
static const char *
text_of(const struct tty *t, const json_t *txt)
{
	const char *s = json_string_value(json_object_get(txt, t->lang));

	if (s == NULL)
		s = json_string_value(json_object_get(txt, strcmp(t->lang, "de") == 0 ?
		    "en" : "de"));
	return s != NULL ? s : "";
}

/* A catalogue text with its {placeholders} from args. */
static void
put_key(struct tty *t, const char *key, const json_t *args)
{
	const char *s = bb_catalog_text(t->cat, t->lang, key, NULL), *close;

	if (s == NULL) {
		fputs(key, t->out);
		return;
	}
	while (*s != '\0') {
		const json_t *v;
		char name[64];
		if (*s != '{' || (close = strchr(s, '}')) == NULL ||
		    (size_t)(close - s) >= sizeof name) {
			fputc(*s++, t->out);
			continue;
		}
		snprintf(name, sizeof name, "%.*s", (int)(close - s - 1), s + 1);
		v = json_object_get(args, name);
		if (json_is_string(v))
			fputs(json_string_value(v), t->out);
		else if (json_is_integer(v))
			fprintf(t->out, "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			fprintf(t->out, "%g", json_real_value(v));
		else
			fprintf(t->out, "%.*s", (int)(close - s + 1), s);
		s = close + 1;
	}
}

/* A summary or locked value: a string, a definition's text, or a catalogue key. */
static void
put_value(struct tty *t, const json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), t->out);
	else if (json_object_get(v, "key") != NULL)
		put_key(t, json_string_value(json_object_get(v, "key")), NULL);
	else
		fputs(text_of(t, v), t->out);
}

static void
put_reason(struct tty *t, const json_t *err, const char *indent)
{
	if (err == NULL)
		return;
	fprintf(t->out, "%s  ", indent);
	put_key(t, "err.prefix", NULL);
	fputc(' ', t->out);
	put_key(t, json_string_value(json_object_get(err, "key")),
	    json_object_get(err, "args"));
	fputc('\n', t->out);
}

/* One line from the person, without its newline; NULL at the end of input. The caller
 * wipes and frees it. */
static char *
read_line(struct tty *t)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	fflush(t->out);
	if ((n = getline(&line, &cap, t->in)) < 0) {
		if (line != NULL)
			explicit_bzero(line, cap);
		free(line);
		t->eof = 1;
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static void
wipe_line(char *line)
{
	if (line != NULL) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
}

/* An option's value for "3" (its number) or the value itself; NULL for neither. */
static const char *
option_value(const json_t *opts, const char *s)
{
	const json_t *o;
	char *end;
	size_t i;
	long n;

	json_array_foreach(opts, i, o)
		if (strcmp(json_string_value(json_object_get(o, "value")), s) == 0)
			return json_string_value(json_object_get(o, "value"));
	n = strtol(s, &end, 10);
	if (*s != '\0' && *end == '\0' && n >= 1 && (size_t)n <= json_array_size(opts))
		return json_string_value(json_object_get(json_array_get(opts, (size_t)n - 1),
		    "value"));
	return NULL;
}

static const char *
option_label(struct tty *t, const json_t *opts, const char *value)
{
	const json_t *o;
	size_t i;

	json_array_foreach(opts, i, o)
		if (strcmp(json_string_value(json_object_get(o, "value")), value) == 0)
			return text_of(t, json_object_get(o, "label"));
	return value;
}

static int
is_bool(const char *type)
{
	return strcmp(type, "checkbox") == 0 || strcmp(type, "consent") == 0;
}

/* The person's line as the answer: empty keeps the value shown, "-" clears it; a
 * select's number its value, a multi-select's list of numbers or values its values,
 * y/j/n for a checkbox. Anything else as typed, for the validator to judge. */
static json_t *
answer_of(const json_t *item, const char *line)
{
	const char *type = json_string_value(json_object_get(item, "type"));
	const json_t *opts = json_object_get(item, "options");
	const char *v;

	if (*line == '\0')
		return json_deep_copy(json_object_get(item, "value"));
	if (strcmp(line, "-") == 0)
		return strcmp(type, "multi-select") == 0 ? json_array() : json_string("");
	if (strcmp(type, "multi-select") == 0) {
		json_t *list = json_array();
		char *copy = strdup(line), *tok, *save = NULL;
		if (copy == NULL || list == NULL) {
			free(copy);
			json_decref(list);
			return NULL;
		}
		for (tok = strtok_r(copy, ", ", &save); tok != NULL;
		    tok = strtok_r(NULL, ", ", &save)) {
			v = option_value(opts, tok);
			json_array_append_new(list, json_string(v != NULL ? v : tok));
		}
		explicit_bzero(copy, strlen(copy));
		free(copy);
		return list;
	}
	if (opts != NULL && (v = option_value(opts, line)) != NULL)
		return json_string(v);
	if (is_bool(type) && line[1] == '\0') {
		switch (tolower((unsigned char)line[0])) {
		case 'y': case 'j': return json_string("yes");
		case 'n': return json_string("no");
		}
	}
	return json_string(line);
}

/* Prints an input and, when it is to be asked, reads its answer. */
static void
input(struct tty *t, const json_t *item, const char *indent, int ask)
{
	const char *path = json_string_value(json_object_get(item, "path"));
	const char *type = json_string_value(json_object_get(item, "type"));
	const json_t *opts = json_object_get(item, "options"), *val, *o;
	char *line;
	size_t i;

	if (!ask) {
		json_object_set_new(t->answers, path,
		    json_deep_copy(json_object_get(item, "value")));
		return;
	}
	fprintf(t->out, "\n%s%s", indent, text_of(t, json_object_get(item, "label")));
	if (json_is_true(json_object_get(item, "required"))) {
		fputc(' ', t->out);
		put_key(t, "ask.required", NULL);
	}
	fputc('\n', t->out);
	if (json_object_get(item, "text") != NULL)
		fprintf(t->out, "%s  %s\n", indent, text_of(t, json_object_get(item, "text")));
	if (json_object_get(item, "help") != NULL)
		fprintf(t->out, "%s  %s\n", indent, text_of(t, json_object_get(item, "help")));
	json_array_foreach(opts, i, o)
		fprintf(t->out, "%s  %zu) %s\n", indent, i + 1,
		    text_of(t, json_object_get(o, "label")));
	put_reason(t, json_object_get(item, "error"), indent);
	/* The prompt, with what Enter keeps. */
	fprintf(t->out, "%s  ", indent);
	if (strcmp(type, "date") == 0) {
		put_key(t, "ask.date_hint", NULL);
		fputc(' ', t->out);
	} else if (is_bool(type)) {
		fputs("(y/n) ", t->out);
	} else if (strcmp(type, "multi-select") == 0) {
		fputs("(1,2,…) ", t->out);
	}
	val = json_object_get(item, "value");
	if (json_is_array(val) && json_array_size(val) > 0) {
		const json_t *x;
		fputc('[', t->out);
		json_array_foreach(val, i, x)
			fprintf(t->out, "%s%s", i ? ", " : "",
			    option_label(t, opts, json_string_value(x)));
		fputs("] ", t->out);
	} else if (json_is_string(val) && json_string_length(val) > 0 &&
	    strcmp(type, "multi-select") == 0) {
		/* As the walk keeps what was typed: values with commas. */
		const char *s = json_string_value(val);
		fputc('[', t->out);
		for (i = 0; *s != '\0'; i++) {
			size_t n = strcspn(s, ",");
			char one[128];
			snprintf(one, sizeof one, "%.*s", (int)n, s);
			fprintf(t->out, "%s%s", i ? ", " : "", option_label(t, opts, one));
			s += n + (s[n] == ',');
		}
		fputs("] ", t->out);
	} else if (json_is_string(val) && json_string_length(val) > 0) {
		fprintf(t->out, "[%s] ", opts != NULL ? option_label(t, opts,
		    json_string_value(val)) : json_string_value(val));
	}
	fputs("> ", t->out);
	if ((line = read_line(t)) == NULL)
		return;
	json_object_set_new(t->answers, path, answer_of(item, line));
	json_object_set_new(t->asked, path, json_true());
	wipe_line(line);
}

/* The page's items; inputs asked: those with a reason when the page has reasons, else
 * those not asked yet since the page came up (a field that a show_if brought in, an
 * entry just added). */
static void
items(struct tty *t, const json_t *list, const char *indent, int redo)
{
	char deeper[32];
	const json_t *it;
	size_t i;

	snprintf(deeper, sizeof deeper, "%s  ", indent);
	json_array_foreach(list, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const char *path = json_string_value(json_object_get(it, "path"));
		if (t->eof)
			return;
		if (strcmp(kind, "locked") == 0) {
			fprintf(t->out, "\n%s%s: ", indent, text_of(t, json_object_get(it,
			    "label")));
			put_value(t, json_object_get(it, "value"));
			fputc(' ', t->out);
			put_key(t, "ask.locked", NULL);
			fputc('\n', t->out);
		} else if (strcmp(kind, "group") == 0) {
			fprintf(t->out, "\n%s%s", indent, text_of(t, json_object_get(it, "label")));
			if (json_object_get(it, "entry") != NULL) {
				char name[200];
				snprintf(name, sizeof name, "%s %lld", text_of(t,
				    json_object_get(it, "label")), (long long)json_integer_value(
				    json_object_get(it, "entry")));
				fprintf(t->out, " %lld", (long long)json_integer_value(
				    json_object_get(it, "entry")));
				if (json_object_get(it, "remove") != NULL)
					json_object_set_new(t->names, json_string_value(
					    json_object_get(it, "remove")), json_string(name));
			}
			fputc('\n', t->out);
			if (json_object_get(it, "help") != NULL)
				fprintf(t->out, "%s  %s\n", indent, text_of(t,
				    json_object_get(it, "help")));
			put_reason(t, json_object_get(it, "error"), indent);
			items(t, json_object_get(it, "items"), deeper, redo);
		} else if (strcmp(kind, "add") == 0) {
			if (json_object_get(it, "choice") != NULL)
				json_object_set_new(t->names, json_string_value(
				    json_object_get(it, "choice")), json_string(text_of(t,
				    json_object_get(it, "label"))));
			if (json_object_get(it, "error") != NULL)
				fprintf(t->out, "\n%s%s\n", indent, text_of(t,
				    json_object_get(it, "label")));
			put_reason(t, json_object_get(it, "error"), indent);
		} else if (strcmp(kind, "input") == 0) {
			input(t, it, indent, redo ? json_object_get(it, "error") != NULL :
			    json_object_get(t->asked, path) == NULL);
		}
	}
}

/* The choices offered after a page, with their words; the person's choice (new string),
 * or NULL at the end of input. */
static char *
choose(struct tty *t, const json_t *page, int summary)
{
	const json_t *c;
	char *line, *choice = NULL;
	size_t i;

	for (;;) {
		fputc('\n', t->out);
		json_array_foreach(json_object_get(page, "choices"), i, c) {
			const char *s = json_string_value(c);
			if (strcmp(s, "refresh") == 0 || strncmp(s, "edit:", 5) == 0)
				continue;
			if (strncmp(s, "add:", 4) == 0) {
				fprintf(t->out, "  add %s: ", s + 4);
				put_key(t, "ask.add", NULL);
				fprintf(t->out, " %s", json_string_value(json_object_get(t->names,
				    s)) ? json_string_value(json_object_get(t->names, s)) : "");
			} else if (strncmp(s, "remove:", 7) == 0) {
				fprintf(t->out, "  remove %s: ", s + 7);
				put_key(t, "ask.remove", NULL);
				fprintf(t->out, " (%s)", json_string_value(json_object_get(t->names,
				    s)) ? json_string_value(json_object_get(t->names, s)) : s + 7);
			} else {
				fprintf(t->out, "  %s: ", s);
				put_key(t, strcmp(s, "send") == 0 ? "ask.send" : strcmp(s, "next") ==
				    0 ? "chrome.next" : strcmp(s, "back") == 0 ? "chrome.back" :
				    "chrome.cancel", NULL);
			}
			fputc('\n', t->out);
		}
		if (summary) {
			fputs("  change N: ", t->out);
			put_key(t, "ask.edit", NULL);
			fputc('\n', t->out);
		}
		fputs(summary ? "> " : "[next] > ", t->out);
		if ((line = read_line(t)) == NULL)
			return NULL;
		if (!summary && line[0] == '\0') {
			choice = strdup("next");
		} else if (strncmp(line, "change ", 7) == 0) {
			/* The Nth section of the summary: its edit choice. */
			size_t n = strtoul(line + 7, NULL, 10), k = 0;
			const json_t *it;
			json_array_foreach(json_object_get(page, "items"), i, it)
				if (json_object_get(it, "edit") != NULL && ++k == n)
					choice = strdup(json_string_value(json_object_get(it, "edit")));
		} else {
			char want[400];
			if (strncmp(line, "add ", 4) == 0 || strncmp(line, "remove ", 7) == 0)
				snprintf(want, sizeof want, "%.*s:%s", (int)strcspn(line, " "), line,
				    line + strcspn(line, " ") + 1);
			else
				snprintf(want, sizeof want, "%s", line);
			json_array_foreach(json_object_get(page, "choices"), i, c)
				if (strcmp(json_string_value(c), want) == 0 &&
				    strcmp(want, "refresh") != 0 && strncmp(want, "edit:", 5) != 0)
					choice = strdup(want);
		}
		wipe_line(line);
		if (choice != NULL)
			return choice;
	}
}

static void
summary(struct tty *t, const json_t *page)
{
	const json_t *it, *row;
	size_t i, j, n = 0;

	fputc('\n', t->out);
	put_key(t, "ask.summary.title", NULL);
	fputs("\n", t->out);
	put_key(t, "ask.summary.text", NULL);
	fputs("\n", t->out);
	json_array_foreach(json_object_get(page, "items"), i, it) {
		fprintf(t->out, "\n%zu. %s\n", ++n, text_of(t, json_object_get(it, "title")));
		json_array_foreach(json_object_get(it, "rows"), j, row) {
			const char *label = text_of(t, json_object_get(row, "label"));
			if (json_is_true(json_object_get(row, "heading"))) {
				fprintf(t->out, "   %s", label);
				if (json_object_get(row, "entry") != NULL)
					fprintf(t->out, " %lld", (long long)json_integer_value(
					    json_object_get(row, "entry")));
				fputs(":\n", t->out);
				continue;
			}
			fprintf(t->out, "   %s: ", label);
			put_value(t, json_object_get(row, "value"));
			fputc('\n', t->out);
		}
	}
}

/* A page key: the same page shown again (its reasons, a field come in) asks less. */
static char *
page_key(const json_t *page)
{
	json_t *k = json_pack("{s:O?, s:O?, s:O?}", "kind", json_object_get(page, "kind"),
	    "section", json_object_get(page, "section"), "step", json_object_get(page, "step"));
	char *s = k != NULL ? json_dumps(k, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	json_decref(k);
	return s;
}

int
bb_ask_tty(struct bb_ask *a, FILE *in, FILE *out, const char *screens, const char *lang,
    struct bb_err *e)
{
	struct bb_catalogs *cat;
	struct tty t = { in, out, lang, NULL, NULL, NULL, NULL, 0 };
	char *last = NULL, *key, *choice;
	const char *title;
	json_t *args;
	int r = BB_ASK_SHOW;

	if (bb_catalogs_load(screens, &cat, e) != 0)
		return -1;
	t.cat = cat;
	if ((t.asked = json_object()) == NULL || (t.names = json_object()) == NULL)
		goto oom;
	title = strcmp(lang, "en") == 0 && a->f->title.en != NULL ? a->f->title.en :
	    a->f->title.de != NULL ? a->f->title.de : a->f->title.en;
	fprintf(out, "%s\n", title != NULL ? title : a->f->id);
	while (r == BB_ASK_SHOW) {
		json_t *page = bb_ask_page(a);
		const json_t *step;
		int redo, is_summary;
		if (page == NULL || (key = page_key(page)) == NULL) {
			bb_json_wipe(page);
			goto oom;
		}
		if (last == NULL || strcmp(last, key) != 0)
			json_object_clear(t.asked);
		free(last);
		last = key;
		is_summary = strcmp(json_string_value(json_object_get(page, "kind")),
		    "summary") == 0;
		step = json_object_get(page, "step");
		fputs("\n== ", out);
		args = json_pack("{s:O?, s:O?}", "n", json_array_get(step, 0), "total",
		    json_array_get(step, 1));
		put_key(&t, "ask.step", args);
		json_decref(args);
		fputs(" ==\n", out);
		if (is_summary) {
			summary(&t, page);
		} else {
			fprintf(out, "%s\n", text_of(&t, json_object_get(page, "section")));
			if (json_object_get(page, "help") != NULL)
				fprintf(out, "%s\n", text_of(&t, json_object_get(page, "help")));
			redo = json_object_get(page, "errors") != NULL;
			if (redo) {
				fputc('\n', out);
				args = json_pack("{s:O}", "count", json_object_get(page, "errors"));
				put_key(&t, "ask.errors", args);
				json_decref(args);
				fputc('\n', out);
			}
			t.answers = json_object();
			json_object_clear(t.names);
			items(&t, json_object_get(page, "items"), "", redo);
		}
		choice = t.eof ? NULL : choose(&t, page, is_summary);
		bb_json_wipe(page);
		if (choice == NULL) {
			r = BB_ASK_CANCEL;
		} else {
			r = bb_ask_answer(a, choice, t.answers);
			free(choice);
		}
		bb_json_wipe(t.answers);
		t.answers = NULL;
	}
	fputc('\n', out);
	fflush(out);
	free(last);
	bb_json_wipe(t.asked);
	json_decref(t.names);
	bb_catalogs_free(cat);
	return r;
oom:
	free(last);
	bb_json_wipe(t.asked);
	json_decref(t.names);
	bb_catalogs_free(cat);
	(void)bb_fail(e, BB_SOFTWARE, "out of memory");
	return -1;
}
