/* bb-submit: deliver a case to the authority over FIT-Connect, HTTPS or a directory, and
 * write the case back with what was done — also when it failed, so the queue resumes. */
#include "case.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"
#include "submit/submit.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: bb-submit [-c CONFIG] [-v|-q] [-t|--target NAME] [-w|--wait SECONDS] [FILE]\n"
    "       bb-submit --help | --version\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "target", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *target = NULL;
	struct bb_config *cfg;
	struct bb_err e = { 0, "" }, werr = { 0, "" };
	struct bb_case_id id;
	char *end;
	json_t *c;
	long wait = 0;
	int ch, verbosity = 0, rc, tried;

	bb_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "c:t:w:vqhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 't': target = optarg; break;
		case 'w':
			wait = strtol(optarg, &end, 10);
			if (*end != '\0' || wait < 0 || wait > 86400)
				bb_die(BB_USAGE, "--wait: expected seconds (0 to 86400)");
			break;
		case 'v': verbosity++; break;
		case 'q': verbosity--; break;
		case 'h': usage(0);
		case 'V':
			printf("bb-submit (bb) %s\n", BB_VERSION);
			return 0;
		default: usage(BB_USAGE);
		}
	}
	if (argc - optind > 1)
		usage(BB_USAGE);
	if (bb_config_load(config, &cfg, &e) != 0)
		bb_die_err(&e);
	bb_log_setup(cfg);
	bb_log_verbosity(verbosity);
	if (bb_case_read(optind < argc ? argv[optind] : NULL,
	    (size_t)bb_config_int(cfg, "case.max_size"), &c, &e) != 0)
		bb_die_err(&e);
	id = bb_case_id(c);
	rc = bb_submit_case(c, cfg, target, wait, &tried, &e);
	if (!tried)
		bb_die_err(&e);
	if (rc != 0) {
		bb_warn("%s", e.msg);
		bb_log_n(rc == BB_TEMPFAIL ? LOG_NOTICE : LOG_WARNING, "submit.failed", &id,
		    "exit", rc);
	} else {
		bb_log(LOG_INFO, "submit.delivered", &id);
	}
	/* The case goes out in any case: what was done must not be lost. */
	if (bb_case_write(c, NULL, &werr) != 0)
		bb_die_err(&werr);
	json_decref(c);
	bb_config_free(cfg);
	return rc;
}
