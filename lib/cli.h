/* The common start of a bb program with commands: the options every one takes before its
 * command (-c, -v, -q, -h, -V, and -d SPOOL where asked for), the configuration, the log. */
#ifndef BB_CLI_H
#define BB_CLI_H

struct bb_config;

struct bb_cli {
	struct bb_config *cfg;
	const char *cmd;	/* the command word */
	const char *spool;	/* -d, when want_spool; else NULL */
	int verbosity;		/* -v minus -q */
};

/* Parses the global options (usage(0) for -h, usage(64) for mistakes or no command),
 * loads the configuration (exit 78 on error) and sets up the log. On return *argc and
 * *argv start at the command, argv[0] renamed to the program so getopt's messages name
 * it, and optind reset for the command's own options. */
void bb_cli_start(struct bb_cli *cli, int *argc, char ***argv, void (*usage)(int),
    int want_spool);

#endif
