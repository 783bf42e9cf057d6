/* A YAML file as a small tree that remembers the line of every node, so that
 * configuration and form definitions can name FILE:LINE in each error. Duplicate keys,
 * anchors and aliases, and non-scalar keys are refused while loading. */
#ifndef BB_YAMLTREE_H
#define BB_YAMLTREE_H

#include <stddef.h>

struct bb_err;

enum bb_ykind { BB_Y_SCALAR, BB_Y_MAP, BB_Y_SEQ };

struct bb_ynode {
	enum bb_ykind kind;
	int line;		/* 1-based */
	char *str;		/* scalar value */
	int quoted;		/* scalar was quoted: a string, never a number or bool */
	size_t n;		/* entries (map) or items (seq) */
	char **keys;		/* map keys */
	int *key_lines;
	struct bb_ynode **items;	/* map values or seq items */
};

/* Parses path (or the buffer, named path in messages). 78 on a syntax error, 66 when
 * the file is missing, with "path:line: why" in e. */
int bb_yaml_load_file(const char *path, struct bb_ynode **root, struct bb_err *e);
int bb_yaml_load_buffer(const char *name, const char *buf, size_t len,
    struct bb_ynode **root, struct bb_err *e);
void bb_yaml_free(struct bb_ynode *n);

/* The value of key in a map, or NULL. */
struct bb_ynode *bb_yaml_get(const struct bb_ynode *map, const char *key);

/* Scalar conversions; return 0 on success, -1 when the scalar is not of that type. */
int bb_yaml_bool(const struct bb_ynode *n, int *out);
int bb_yaml_long(const struct bb_ynode *n, long long *out);
int bb_yaml_double(const struct bb_ynode *n, double *out);
const char *bb_yaml_kind_name(const struct bb_ynode *n);

#endif
