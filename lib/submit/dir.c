/* The dir target: the case lands in a directory (a document system's inbox) as
 * <case id>.json, written durably and mode 0600; delivering again replaces it. */
#include "submit/submit.h"
#include "case.h"
#include "diag.h"
#include "exit.h"
#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
bb_submit_dir(struct bb_submit *x, struct bb_err *e)
{
	const char *dir;
	char path[4096];
	json_t *payload;
	char *buf;
	size_t len;
	int rc;

	if ((rc = bb_submit_need(x, "path", &dir, e)) != 0)
		return rc;
	snprintf(path, sizeof path, "%s/%s.json", dir, x->id.s);
	if ((payload = bb_submit_payload(x->c)) == NULL ||
	    (buf = bb_case_dump(payload, &len)) == NULL) {
		json_decref(payload);
		return bb_fail(e, BB_SOFTWARE, "out of memory");
	}
	rc = bb_write_durable(path, buf, len, 0600, e);
	explicit_bzero(buf, len);
	free(buf);
	json_decref(payload);
	if (rc != 0)
		return bb_err_context(e, "%s", x->target);
	json_object_set_new(x->sub, "dir", json_pack("{s:s}", "file", path));
	bb_submit_state(x, "delivered");
	return 0;
}
