/* The options before the command, the configuration and the log; see cli.h. */
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
bb_cli_start(struct bb_cli *cli, int *argc, char ***argv, void (*usage)(int),
    int want_spool)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "spool", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct bb_err e = { 0, "" };
	const char *config = NULL;
	int c;

	memset(cli, 0, sizeof *cli);
	while ((c = getopt_long(*argc, *argv, want_spool ? "+c:d:vqhV" : "+c:vqhV", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd':
			if (!want_spool)
				usage(BB_USAGE);
			cli->spool = optarg;
			break;
		case 'v': cli->verbosity++; break;
		case 'q': cli->verbosity--; break;
		case 'h': usage(0); exit(0);
		case 'V':
			printf("%s (bb) %s\n", bb_progname, BB_VERSION);
			exit(0);
		default: usage(BB_USAGE); exit(BB_USAGE);
		}
	}
	if (optind >= *argc) {
		usage(BB_USAGE);
		exit(BB_USAGE);
	}
	if (bb_config_load(config, &cli->cfg, &e) != 0)
		bb_die_err(&e);
	bb_log_setup(cli->cfg);
	bb_log_verbosity(cli->verbosity);
	cli->cmd = (*argv)[optind];
	*argc -= optind;
	*argv += optind;
	(*argv)[0] = (char *)bb_progname;
	optind = 0;
}
