/* A person's way through a form (bb-form ask): one page per section that has something
 * to show, then a summary to check and change the answers before sending. Answers go in
 * through bb_fill_set and are judged by bb_fill_validate, exactly as fill's --set values
 * are: one validator. What a page shows is a JSON description (bb-form(5), ASK PAGES)
 * that the screen server renders and the terminal prompts from; it holds both languages
 * of the definition and catalogue keys for the rest, so the person may change the
 * language on any page. */
#ifndef BB_FORM_ASK_H
#define BB_FORM_ASK_H

#include "form/form.h"

struct bb_err;

struct bb_ask {
	const struct bb_form *f;
	struct bb_fill fl;
	size_t page;		/* a section; f->nsections: the summary */
	int editing;		/* came from the summary: next goes back there */
	json_t *errors;		/* path -> {key, args}: the page's reasons */
	json_t *shown;		/* the paths of the page's inputs and groups */
};

enum { BB_ASK_SHOW, BB_ASK_DONE, BB_ASK_CANCEL };

/* Starts from the case as bb_fill_begin does, on the first page with something to show
 * (the summary when no section has). 0, or -1 out of memory. */
int bb_ask_begin(struct bb_ask *a, const struct bb_form *f, const json_t *c);
/* Wipes every answer and frees. */
void bb_ask_end(struct bb_ask *a);
/* The page to show now (new reference), or NULL out of memory. */
json_t *bb_ask_page(struct bb_ask *a);
/* What the person did on the page shown: choice one of the page's "choices", answers an
 * object of input path -> string (or list of strings for a multi-select). BB_ASK_SHOW:
 * show bb_ask_page again (the next page, or this one with its reasons); BB_ASK_DONE:
 * every answer holds, bb_ask_part gives the part; BB_ASK_CANCEL. */
int bb_ask_answer(struct bb_ask *a, const char *choice, const json_t *answers);
/* The case's form part after BB_ASK_DONE (new reference); problems in p otherwise. */
json_t *bb_ask_part(struct bb_ask *a, struct bb_problems *p);

#endif
