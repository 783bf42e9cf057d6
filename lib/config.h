/* bb.yaml(5): one file, a section per program, checked against one schema so that an
 * unknown key, a wrong type or a duplicate key is an error naming FILE:LINE (exit 78).
 * Every key has a built-in default, so every program runs with no file at all. */
#ifndef BB_CONFIG_H
#define BB_CONFIG_H

#include <stddef.h>

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

/* "64M" -> bytes, "90s"/"5m"/"4h"/"5d" -> seconds; -1 when malformed. */
long long bb_parse_size(const char *s);
long long bb_parse_duration(const char *s);

#endif
