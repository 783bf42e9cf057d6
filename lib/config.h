/* bb.yaml(5): one file, a section per program, checked against one schema so that an
 * unknown key, a wrong type or a duplicate key is an error naming FILE:LINE (exit 78).
 * Every key has a built-in default, so every program runs with no file at all. */
#ifndef BB_CONFIG_H
#define BB_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct bb_err;
struct bb_config;

#define BB_CONFIG_DEFAULT_PATH "/etc/bb/bb.yaml"

/* path from -c, or NULL: then $BB_CONFIG, then /etc/bb/bb.yaml if it exists, else the
 * defaults. A named file (-c, BB_CONFIG) that cannot be read is an error (78). */
int bb_config_load(const char *path, struct bb_config **out, struct bb_err *e);
void bb_config_free(struct bb_config *cfg);
/* The file read, or NULL when running on defaults. */
const char *bb_config_file(const struct bb_config *cfg);

/* Values by dotted key ("form.lang", "submit.targets.inbox.path"); the key must match
 * the schema (else abort: a bug). Sizes are bytes, durations seconds. */
const char *bb_config_str(const struct bb_config *cfg, const char *key);
int bb_config_bool(const struct bb_config *cfg, const char *key);
long long bb_config_int(const struct bb_config *cfg, const char *key);

/* Whether the file sets key; the line it does so on (0: not set), for messages. */
int bb_config_has(const struct bb_config *cfg, const char *key);
int bb_config_line(const struct bb_config *cfg, const char *key);
/* The names under a section of named entries (submit.targets): a borrowed array. */
size_t bb_config_names(const struct bb_config *cfg, const char *section, const char ***names);

/* Prints key's value, or its default, as one line on f (bb-form config): durations in
 * seconds, sizes in bytes, booleans true or false. 0; 1 when neither is set; 64 when
 * key is no key of the schema (a section is none). */
int bb_config_print(const struct bb_config *cfg, const char *key, FILE *f, struct bb_err *e);
/* kiosk.presence_event: "key:CODE" (a press) or "sw:CODE" (the switch off), ":VALUE"
 * for another value (0 to 2); CODE as strtol base 0 reads it. EV_KEY or EV_SW in *type.
 * 0, or -1 when malformed. */
int bb_parse_input_event(const char *s, int *type, int *code, int *value);

/* "64M" -> bytes, "90s"/"5m"/"4h"/"5d" -> seconds; -1 when malformed. */
long long bb_parse_size(const char *s);
long long bb_parse_duration(const char *s);

/* A language tag as a catalogue's file is named (bb-form(5) SCREENS): ll or lll, then
 * subtags of 1 to 8 letters and digits (pt-BR, sr-Latn, es-419); the first len bytes of
 * s. 1 when well formed, else 0. */
int bb_lang_tag_ok(const char *s, size_t len);

#endif
