/* YAML to a line-numbered tree on libyaml's event parser. */
#include "yamltree.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define BB_YAML_MAX_DEPTH 64
#define BB_YAML_MAX_SIZE (16u << 20)

struct loader {
	yaml_parser_t parser;
	const char *name;
	struct bb_err *e;
};

static void *
xcalloc(size_t n, size_t sz)
{
	return calloc(n ? n : 1, sz);
}

void
bb_yaml_free(struct bb_ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			free(n->keys[i]);
		bb_yaml_free(n->items[i]);
	}
	free(n->keys);
	free(n->key_lines);
	free(n->items);
	free(n->str);
	free(n);
}

static int
next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		const char *why = l->parser.problem ? l->parser.problem : "syntax error";
		return bb_fail(l->e, BB_CONFIG, "%s:%zu: invalid YAML: %s", l->name,
		    l->parser.problem_mark.line + 1, why);
	}
	return 0;
}

static int
append(struct bb_ynode *parent, char *key, int key_line, struct bb_ynode *child)
{
	size_t n = parent->n + 1;
	struct bb_ynode **items = realloc(parent->items, n * sizeof *items);

	if (items == NULL)
		return -1;
	parent->items = items;
	if (parent->kind == BB_Y_MAP) {
		char **keys = realloc(parent->keys, n * sizeof *keys);
		int *lines;
		if (keys == NULL)
			return -1;
		parent->keys = keys;
		lines = realloc(parent->key_lines, n * sizeof *lines);
		if (lines == NULL)
			return -1;
		parent->key_lines = lines;
		keys[n - 1] = key;
		lines[n - 1] = key_line;
	}
	items[n - 1] = child;
	parent->n = n;
	return 0;
}

static int parse_node(struct loader *l, yaml_event_t *ev, struct bb_ynode **out, int depth);

static int
parse_children(struct loader *l, struct bb_ynode *node, int depth)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		char *key = NULL;
		int key_line = 0;
		struct bb_ynode *child = NULL;
		size_t i;

		if ((rc = next_event(l, &ev)) != 0)
			return rc;
		if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (node->kind == BB_Y_MAP) {
			if (ev.type != YAML_SCALAR_EVENT) {
				rc = bb_fail(l->e, BB_CONFIG, "%s:%zu: a key must be a plain name",
				    l->name, ev.start_mark.line + 1);
				yaml_event_delete(&ev);
				return rc;
			}
			key = strdup((char *)ev.data.scalar.value);
			key_line = (int)ev.start_mark.line + 1;
			yaml_event_delete(&ev);
			if (key == NULL)
				return bb_fail(l->e, BB_SOFTWARE, "out of memory");
			for (i = 0; i < node->n; i++) {
				if (strcmp(node->keys[i], key) == 0) {
					rc = bb_fail(l->e, BB_CONFIG,
					    "%s:%d: duplicate key '%s' (first on line %d)", l->name,
					    key_line, key, node->key_lines[i]);
					free(key);
					return rc;
				}
			}
			if ((rc = next_event(l, &ev)) != 0) {
				free(key);
				return rc;
			}
		}
		rc = parse_node(l, &ev, &child, depth + 1);
		yaml_event_delete(&ev);
		if (rc != 0) {
			free(key);
			return rc;
		}
		if (append(node, key, key_line, child) != 0) {
			free(key);
			bb_yaml_free(child);
			return bb_fail(l->e, BB_SOFTWARE, "out of memory");
		}
	}
}

static int
parse_node(struct loader *l, yaml_event_t *ev, struct bb_ynode **out, int depth)
{
	struct bb_ynode *node;
	int rc;

	if (depth > BB_YAML_MAX_DEPTH)
		return bb_fail(l->e, BB_CONFIG, "%s:%zu: nested too deeply", l->name,
		    ev->start_mark.line + 1);
	if (ev->type == YAML_ALIAS_EVENT ||
	    (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
	    (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor) ||
	    (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor))
		return bb_fail(l->e, BB_CONFIG, "%s:%zu: anchors and aliases are not supported",
		    l->name, ev->start_mark.line + 1);
	/* A tag (!!str, !custom) would change what a value means behind the schema's back. */
	if ((ev->type == YAML_SCALAR_EVENT && ev->data.scalar.tag) ||
	    (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.tag) ||
	    (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.tag))
		return bb_fail(l->e, BB_CONFIG, "%s:%zu: tags are not supported", l->name,
		    ev->start_mark.line + 1);
	if ((node = xcalloc(1, sizeof *node)) == NULL)
		return bb_fail(l->e, BB_SOFTWARE, "out of memory");
	node->line = (int)ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		node->kind = BB_Y_SCALAR;
		node->str = strdup((char *)ev->data.scalar.value);
		node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		if (node->str == NULL) {
			free(node);
			return bb_fail(l->e, BB_SOFTWARE, "out of memory");
		}
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		node->kind = ev->type == YAML_MAPPING_START_EVENT ? BB_Y_MAP : BB_Y_SEQ;
		if ((rc = parse_children(l, node, depth)) != 0) {
			bb_yaml_free(node);
			return rc;
		}
		break;
	default:
		free(node);
		return bb_fail(l->e, BB_CONFIG, "%s:%zu: unexpected YAML event", l->name,
		    ev->start_mark.line + 1);
	}
	*out = node;
	return 0;
}

int
bb_yaml_load_buffer(const char *name, const char *buf, size_t len,
    struct bb_ynode **root, struct bb_err *e)
{
	struct loader l = { .name = name, .e = e };
	yaml_event_t ev;
	int rc = 0, done = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&l.parser))
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		if ((rc = next_event(&l, &ev)) != 0)
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (*root != NULL)
				rc = bb_fail(e, BB_CONFIG, "%s:%zu: more than one YAML document",
				    name, ev.start_mark.line + 1);
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			rc = parse_node(&l, &ev, root, 0);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&l.parser);
	if (rc != 0) {
		bb_yaml_free(*root);
		*root = NULL;
	}
	return rc;
}

int
bb_yaml_load_file(const char *path, struct bb_ynode **root, struct bb_err *e)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = bb_read_file(path, BB_YAML_MAX_SIZE, &buf, &len, e)) != 0)
		return rc;
	rc = bb_yaml_load_buffer(path, buf, len, root, e);
	free(buf);
	return rc;
}

struct bb_ynode *
bb_yaml_get(const struct bb_ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != BB_Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

int
bb_yaml_bool(const struct bb_ynode *n, int *out)
{
	static const char *yes[] = { "true", "True", "TRUE", "yes", "Yes", "on", NULL };
	static const char *no[] = { "false", "False", "FALSE", "no", "No", "off", NULL };
	int i;

	if (n == NULL || n->kind != BB_Y_SCALAR || n->quoted)
		return -1;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcmp(n->str, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(n->str, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int
bb_yaml_long(const struct bb_ynode *n, long long *out)
{
	char *end;

	if (n == NULL || n->kind != BB_Y_SCALAR || n->quoted || n->str[0] == '\0')
		return -1;
	errno = 0;
	*out = strtoll(n->str, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
bb_yaml_double(const struct bb_ynode *n, double *out)
{
	char *end;

	if (n == NULL || n->kind != BB_Y_SCALAR || n->quoted || n->str[0] == '\0')
		return -1;
	errno = 0;
	*out = strtod(n->str, &end);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

const char *
bb_yaml_kind_name(const struct bb_ynode *n)
{
	if (n == NULL)
		return "nothing";
	return n->kind == BB_Y_MAP ? "a mapping" : n->kind == BB_Y_SEQ ? "a list" : "a scalar";
}
