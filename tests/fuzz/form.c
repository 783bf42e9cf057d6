/* Fuzz target: a form definition (lib/form, bb-form(5)) with answers and a case to fill it
 * from, as bb-form fill, check and show take them: load and lint, render as JSON and
 * text, prefill from the case, apply the answers and NAME=VALUE settings, validate, the
 * case's form part. Input: the YAML, NUL, the answers (JSON), NUL, the case (JSON), NUL,
 * NAME=VALUE lines. */
#include "fuzz.h"

#include "case.h"
#include "diag.h"
#include "form/form.h"
#include "yamltree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_problems p = { 0 };
	struct bb_err e = { 0, "" };
	struct bb_form *f = NULL;
	struct bb_fill fl;
	const uint8_t *part[4];
	size_t len[4], n;
	json_t *answers = NULL, *c = NULL, *j;
	char path[4096];

	n = fuzz_split(data, size, 0, part, len, 4);
	fuzz_file("form.yaml", part[0], len[0], path, sizeof path);
	if (bb_form_load(path, &f, &p) != 0) {
		bb_problems_free(&p);
		bb_form_free(f);
		return 0;
	}
	bb_problems_free(&p);
	json_decref(bb_form_to_json(f));
	bb_form_print_text(devnull, f, "de");
	bb_form_print_text(devnull, f, "en");
	if (n > 1)
		answers = json_loadb((const char *)part[1], len[1], JSON_DECODE_ANY, NULL);
	if (n > 2 && bb_case_parse("case", (const char *)part[2], len[2], &c, &e) != 0)
		c = NULL;
	if (bb_fill_begin(&fl, f, c) == 0) {
		if (json_is_object(answers))
			bb_fill_answers(&fl, f, answers, &p);
		if (n > 3) {
			char *sets = fuzz_str(part[3], len[3]), *line, *save = NULL;
			for (line = strtok_r(sets, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save)) {
				char *eq = strchr(line, '=');
				if (eq == NULL)
					continue;
				*eq = '\0';
				bb_fill_set(&fl, f, line, eq + 1, &p);
			}
			free(sets);
		}
		bb_fill_validate(&fl, f, &p);
		if (p.n == 0 && (j = bb_fill_part(&fl, f)) != NULL) {
			char *s = json_dumps(j, 0);
			free(s);
			json_decref(j);
		}
		bb_fill_end(&fl);
	}
	bb_problems_free(&p);
	json_decref(answers);
	json_decref(c);
	bb_form_free(f);
	return 0;
}
