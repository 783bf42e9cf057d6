/* Fuzz target: the YAML tree under bb.yaml and the form definitions (lib/yamltree.c). */
#include "fuzz.h"

#include "diag.h"
#include "yamltree.h"

static void
walk(const struct bb_ynode *n, int depth)
{
	long long l;
	double d;
	int b;
	size_t i;

	if (n == NULL || depth > 200)
		return;
	bb_yaml_kind_name(n);
	if (n->kind == BB_Y_SCALAR) {
		bb_yaml_bool(n, &b);
		bb_yaml_long(n, &l);
		bb_yaml_double(n, &d);
		return;
	}
	for (i = 0; i < n->n; i++) {
		if (n->kind == BB_Y_MAP && bb_yaml_get(n, n->keys[i]) == NULL)
			__builtin_trap();	/* a key of the map is found in it */
		walk(n->items[i], depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_ynode *root = NULL;

	if (bb_yaml_load_buffer("fuzz.yaml", (const char *)data, size, &root, &e) == 0)
		walk(root, 0);
	bb_yaml_free(root);
	return 0;
}
