/* Fuzz target: bb.yaml (lib/config.c) from a file in a private directory, and the values
 * every program reads from it. */
#include "fuzz.h"

#include "config.h"
#include "diag.h"
#include "queue/queue.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static const char *keys_str[] = { "log.level", "log.facility", "form.services", "form.lang",
	"queue.spool", "queue.deliver", "submit.default", "capture.camera", "capture.camera_size",
	"capture.pad", "capture.profile", "capture.cascades", "eid.reader", "eid.pki",
	"eid.fields", NULL };
static const char *keys_int[] = { "case.max_size", "queue.timeout", "queue.backoff_min",
	"queue.backoff_max", "queue.lifetime", "queue.retention", "queue.max",
	"queue.time_limit", "submit.timeout", "capture.tries", "capture.timeout", "capture.dpi",
	NULL };
static const char *keys_target[] = { "kind", "submission_api", "token_url", "client_id",
	"destination", "url", "format", "path", NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_err e = { 0, "" };
	struct bb_config *cfg = NULL;
	struct bb_queue_policy p;
	const char **names;
	char path[4096], key[600], *s;
	size_t n, i, j;

	/* The value parsers on the raw input too. */
	s = fuzz_str(data, size < 64 ? size : 64);
	bb_parse_size(s);
	bb_parse_duration(s);
	free(s);
	fuzz_file("bb.yaml", data, size, path, sizeof path);
	if (bb_config_load(path, &cfg, &e) == 0) {
		bb_config_file(cfg);
		bb_config_bool(cfg, "log.syslog");
		for (i = 0; keys_str[i] != NULL; i++) {
			bb_config_str(cfg, keys_str[i]);
			bb_config_line(cfg, keys_str[i]);
		}
		for (i = 0; keys_int[i] != NULL; i++)
			bb_config_int(cfg, keys_int[i]);
		bb_queue_policy_init(&p, cfg);
		n = bb_config_names(cfg, "submit.targets", &names);
		for (i = 0; i < n; i++)
			for (j = 0; strlen(names[i]) < 500 && keys_target[j] != NULL; j++) {
				snprintf(key, sizeof key, "submit.targets.%s.%s", names[i],
				    keys_target[j]);
				if (bb_config_has(cfg, key))
					bb_config_str(cfg, key);
			}
		n = bb_config_names(cfg, "eid.services", &names);
		for (i = 0; i < n && strlen(names[i]) < 500; i++) {
			snprintf(key, sizeof key, "eid.services.%s.fields", names[i]);
			bb_config_str(cfg, key);
		}
		bb_config_free(cfg);
	}
	return 0;
}
