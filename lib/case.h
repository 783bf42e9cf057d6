/* The case (bb-case(5)): the one JSON document that flows through a kiosk flow. Read it
 * whole, check it, change only a program's own part, write it whole. */
#ifndef BB_CASE_H
#define BB_CASE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "log.h"

struct bb_err;

#define BB_CASE_VERSION 1
/* A case holds a photo, a signature and its strokes, and some scanned pages: tens of
 * attachments. The cap leaves room for any service and bounds what every reader and
 * every delivery does with one case (FIT-Connect uploads each with its own request). */
#define BB_CASE_MAX_ATTACHMENTS 256
#define BB_CASE_MAX_SIZE_DEFAULT (64u << 20)

/* Reads and validates a case from path (NULL or "-": stdin) of at most max bytes.
 * Empty input, invalid JSON, a wrong version or shape: 65 with what and where.
 * A missing file: 66. */
int bb_case_read(const char *path, size_t max, json_t **out, struct bb_err *e);
/* The same from a buffer; name is used in messages. */
int bb_case_parse(const char *name, const char *buf, size_t len, json_t **out,
    struct bb_err *e);
/* Why jansson refused a document, without quoting it: jansson's own text repeats the
 * offending token, which may be a name. */
const char *bb_json_error_reason(const json_error_t *jerr);

/* Checks a parsed case against bb-case(5): 0, or 65 naming the offending key. */
int bb_case_validate(const json_t *c, struct bb_err *e);

/* A fresh case: format version, UUID v4 id, created now, terminal. NULL on failure. */
json_t *bb_case_new(const char *terminal);

/* The case a program works on: a fresh one (bb_case_new) when fresh is set, or when
 * path is NULL and stdin is a terminal or busy (a program that reads something else
 * there); else the case at path, or stdin for NULL or "-", as bb_case_read. */
int bb_case_open(int fresh, const char *path, int stdin_busy, const char *terminal,
    size_t max, json_t **out, struct bb_err *e);

/* The object under name in o (a case or a part of one), created when missing or not an
 * object: where a program writes its part. NULL when out of memory (or o is no object). */
json_t *bb_case_part(json_t *o, const char *name);

/* The case's id, checked to be a UUID (for logs). */
struct bb_case_id bb_case_id(const json_t *c);

/* Shallow merge of part into c[name]: keys of part replace those of the same name, other
 * keys already there (from a newer program) stay. Takes a reference of part. */
int bb_case_merge_part(json_t *c, const char *name, json_t *part);

/* Adds the attachment name (MIME type, data) to the case, base64 and SHA-512 computed,
 * replacing one of the same name where it stood. 0, or 70 when out of memory. */
int bb_case_set_attachment(json_t *c, const char *name, const char *type,
    const void *data, size_t len, struct bb_err *e);

/* Overwrites every string in j (keys too) with zeros, then drops the reference: for the
 * answers a person gave and the values a screen showed, which must not outlive the
 * session in freed memory. Safe on NULL. Only for j nobody else holds. */
void bb_json_wipe(json_t *j);

/* Serialises the whole case (malloc'd, newline-terminated). */
char *bb_case_dump(const json_t *c, size_t *len);
/* Writes the case whole to stdout (path NULL or "-") or durably to path, mode 0600.
 * 73 cannot create, 74 I/O error; never a partial case. */
int bb_case_write(const json_t *c, const char *path, struct bb_err *e);

/* Current UTC time as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (out holds 21 bytes). */
void bb_time_rfc3339(char out[21]);
/* t as RFC 3339 UTC. */
void bb_time_format(time_t t, char out[21]);
/* Parses RFC 3339 (Z or an offset; fractions ignored); 0 or -1. */
int bb_time_parse(const char *s, time_t *t);

#endif
