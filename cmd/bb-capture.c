/* bb-capture: the passport photo to the German biometric rules (BSI TR-03121-3 Vol. 2),
 * from a camera or image files, checked, guided and cropped; the handwritten signature
 * from a signature pad or touchscreen (evdev) or a recording of one. Each is added to the
 * case as an attachment. */
#include "case.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "log.h"
#include "capture/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define EVEMU_MAX (16u << 20)

static const char usage_text[] =
    "usage: bb-capture [-c CONFIG] [-v|-q] photo [--device /dev/videoN | --input FILE|-]...\n"
    "                  [--profile live|scan] [--tries N] [--mirror DIR] [--check-only]\n"
    "                  [--new] [-o OUT] [CASE]\n"
    "       bb-capture [-c CONFIG] signature [--device /dev/input/eventN | --replay FILE]\n"
    "                  [--timeout S] [--new] [-o OUT] [CASE]\n"
    "       bb-capture [-c CONFIG] devices [--format text|json]\n"
    "       bb-capture --help | --version\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status == 0 ? stdout : stderr);
	exit(status);
}

struct opts {
	const char *device, *profile, *mirror, *replay, *out, *format, *file;
	const char *inputs[64];
	size_t ninputs;
	long tries, timeout;
	int check_only, fresh;
};

static long
number(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < lo || n > hi)
		bb_die(BB_USAGE, "%s: expected a number from %ld to %ld", what, lo, hi);
	return n;
}

static void
parse(int argc, char **argv, const char *cmd, struct opts *o)
{
	static const struct option lo[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "input", required_argument, NULL, 'i' },
		{ "profile", required_argument, NULL, 'p' },
		{ "tries", required_argument, NULL, 't' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "check-only", no_argument, NULL, 'C' },
		{ "replay", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' },
		{ "new", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c, photo = strcmp(cmd, "photo") == 0, sig = strcmp(cmd, "signature") == 0;

	memset(o, 0, sizeof *o);
	o->tries = -1;
	o->timeout = -1;
	o->format = isatty(1) ? "text" : "json";
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'i':
			if (!photo || o->ninputs == sizeof o->inputs / sizeof o->inputs[0])
				usage(BB_USAGE);
			o->inputs[o->ninputs++] = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "live") && strcmp(optarg, "scan"))
				bb_die(BB_USAGE, "--profile: live or scan");
			o->profile = optarg;
			break;
		case 't': o->tries = number(optarg, "--tries", 1, 10000); break;
		case 'm': o->mirror = optarg; break;
		case 'C': o->check_only = 1; break;
		case 'r': o->replay = optarg; break;
		case 'T': o->timeout = number(optarg, "--timeout", 1, 86400); break;
		case 'f': o->format = optarg; break;
		case 'n': o->fresh = 1; break;
		case 'o': o->out = optarg; break;
		default: usage(BB_USAGE);
		}
	}
	if (optind < argc && (photo || sig))
		o->file = argv[optind++];
	if (optind != argc || (strcmp(o->format, "text") && strcmp(o->format, "json")))
		usage(BB_USAGE);
	if (photo && (o->replay != NULL || o->timeout >= 0))
		usage(BB_USAGE);
	if (sig && (o->ninputs > 0 || o->profile || o->mirror || o->check_only || o->tries >= 0))
		usage(BB_USAGE);
	if (o->device != NULL && (o->ninputs > 0 || o->replay != NULL))
		bb_die(BB_USAGE, "--device and %s exclude each other",
		    photo ? "--input" : "--replay");
	if (o->fresh && o->file != NULL)
		bb_die(BB_USAGE, "--new and a CASE file exclude each other");
	if (o->check_only && (o->file != NULL || o->fresh || o->out != NULL))
		bb_die(BB_USAGE, "--check-only writes no case: no CASE, --new or -o");
}

/* The case: from FILE, else standard input, unless that is a terminal, carries the
 * image, or --new was given: then a fresh one. */
static json_t *
read_case(const struct opts *o, const struct bb_config *cfg, int stdin_busy)
{
	struct bb_err e = { 0, "" };
	json_t *c;

	if (bb_case_open(o->fresh, o->file, stdin_busy, bb_config_str(cfg, "terminal"),
	    (size_t)bb_config_int(cfg, "case.max_size"), &c, &e) != 0)
		bb_die_err(&e);
	return c;
}

static void
set_part(json_t *c, const char *name, json_t *part)
{
	json_t *cap = bb_case_part(c, "capture");

	if (cap == NULL || part == NULL || json_object_set_new(cap, name, part) != 0)
		bb_die(BB_SOFTWARE, "out of memory");
}

/* ---- photo ------------------------------------------------------------------------ */

/* The mirror shows a face, so it lives no longer than bb-capture: its directory is
 * opened once (renaming the path meanwhile redirects nothing), and its two files are
 * removed at every exit and on the signals that end a session. A signal ignored when
 * bb-capture started stays ignored (nohup, a background job of a script): it ends
 * nothing. A SIGKILL or a crash leaves the files for the kiosk to remove. */
static int mirror_fd = -1;
static const int mirror_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
static sigset_t mirror_sigset;

static void
mirror_remove(void)
{
	bb_photo_mirror_remove(mirror_fd);
}

/* Async-signal-safe: unlinkat, signal and raise only. The signal is raised again
 * unhandled, so whoever waits sees bb-capture ended by it. */
static void
mirror_signal(int sig)
{
	mirror_remove();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
mirror_open(const char *dir)
{
	struct sigaction sa, old;
	size_t i;

	if ((mirror_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		bb_die(BB_CANTCREAT, "%s: %s", dir, strerror(errno));
	if (atexit(mirror_remove) != 0)
		bb_die(BB_SOFTWARE, "atexit failed");
	sigemptyset(&mirror_sigset);
	for (i = 0; i < sizeof mirror_signals / sizeof mirror_signals[0]; i++)
		sigaddset(&mirror_sigset, mirror_signals[i]);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = mirror_signal;
	sa.sa_mask = mirror_sigset;	/* one removal at a time */
	for (i = 0; i < sizeof mirror_signals / sizeof mirror_signals[0]; i++) {
		if (sigaction(mirror_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(mirror_signals[i], &sa, NULL);
	}
}

/* The mirror after every frame (bb_photo_best's seen). The signals that remove the
 * mirror wait while a temporary file exists, so none is left. */
static int
write_mirror(void *dir, const struct bb_image *frame, const struct bb_photo_result *r,
    long frame_no, struct bb_err *e)
{
	sigset_t old;
	int rc;

	sigprocmask(SIG_BLOCK, &mirror_sigset, &old);
	rc = bb_photo_mirror_write(mirror_fd, dir, frame, r, frame_no, e);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* The source: the --input files, else the camera at its configured size. */
static void
open_frames(const struct opts *o, const struct bb_config *cfg, struct bb_frame_source *src)
{
	struct bb_err e = { 0, "" };
	const char *size = bb_config_str(cfg, "capture.camera_size");
	int cw, ch, used = 0;
	char x;

	if (o->ninputs > 0) {
		if (bb_frames_files(o->inputs, o->ninputs, src, &e) != 0)
			bb_die_err(&e);
		return;
	}
	/* The live profile needs 1600 rows without upscaling (TR-03121 5.3.1): the camera
	 * is asked for its configured size, by default 4K. */
	if (sscanf(size, "%d%c%d%n", &cw, &x, &ch, &used) != 3 || size[used] != '\0' ||
	    x != 'x' || cw < 64 || ch < 64 || cw > 10000 || ch > 10000 ||
	    (long)cw * ch > BB_IMAGE_MAX_PIXELS)
		bb_die(BB_CONFIG, "capture.camera_size: expected WIDTHxHEIGHT, at most 50 megapixels");
	if (bb_frames_camera(o->device ? o->device : bb_config_str(cfg, "capture.camera"), cw,
	    ch, src, &e) != 0)
		bb_die_err(&e);
}

/* What the person is told when the best frame still fails: each mandatory hint once. */
static void
say_hints(const struct bb_photo_result *r, long n)
{
	size_t k, j;

	fprintf(stderr, "%s: the photo does not meet the rules after %ld %s:", bb_progname, n,
	    n == 1 ? "frame" : "frames");
	for (k = 0; k < r->nm; k++) {
		if (r->m[k].pass || !r->m[k].mandatory || r->m[k].hint_en == NULL)
			continue;
		for (j = 0; j < k; j++)
			if (!r->m[j].pass && r->m[j].mandatory && r->m[j].hint_en &&
			    strcmp(r->m[j].hint_en, r->m[k].hint_en) == 0)
				break;
		if (j == k)
			fprintf(stderr, " %s.", r->m[k].hint_en);
	}
	fputc('\n', stderr);
}

static int
cmd_photo(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_cascade *face, *eye;
	struct bb_frame_source src;
	struct bb_photo_job job;
	struct bb_photo_best best;
	unsigned char *jpg;
	size_t len, i;
	int stdin_busy = 0, rc = 0;
	json_t *c = NULL, *part;
	struct bb_case_id id;

	memset(&job, 0, sizeof job);
	job.profile = strcmp(o->profile ? o->profile : bb_config_str(cfg, "capture.profile"),
	    "scan") == 0 ? BB_PHOTO_SCAN : BB_PHOTO_LIVE;
	for (i = 0; i < o->ninputs; i++)
		if (strcmp(o->inputs[i], "-") == 0)
			stdin_busy++;
	if (stdin_busy > 1 || (stdin_busy && o->file != NULL && strcmp(o->file, "-") == 0))
		bb_die(BB_USAGE, "standard input can carry the image or the case, once");
	job.tries = o->tries > 0 ? o->tries : o->ninputs > 0 ? LONG_MAX :
	    bb_config_int(cfg, "capture.tries");
	if (o->mirror != NULL) {
		mirror_open(o->mirror);
		job.seen = write_mirror;
		job.seen_ctx = (void *)o->mirror;
	}
	if (!o->check_only)
		c = read_case(o, cfg, stdin_busy);
	if (bb_photo_cascades(bb_config_str(cfg, "capture.cascades"), &face, &eye, &e) != 0)
		bb_die_err(&e);
	open_frames(o, cfg, &src);
	job.face = face;
	job.eye = eye;
	job.src = &src;
	if (bb_photo_best(&job, &best, &e) != 0)
		bb_die_err(&e);
	bb_frames_close(&src);
	if ((part = bb_photo_best_json(&best)) == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	if (o->check_only) {
		char *s = json_dumps(part, JSON_INDENT(2));
		if (s == NULL)
			bb_die(BB_SOFTWARE, "out of memory");
		puts(s);
		free(s);
		json_decref(part);
		rc = best.r.compliant ? 0 : BB_NOT_MET;
		goto done;
	}
	id = bb_case_id(c);
	if (!best.r.compliant) {
		say_hints(&best.r, best.frames);
		bb_log(LOG_NOTICE, "capture.photo_rejected", &id);
		json_decref(part);
		rc = BB_NOT_MET;
		goto done;
	}
	if (bb_photo_best_jpeg(&best, &jpg, &len, &e) != 0 ||
	    bb_case_set_attachment(c, "photo", "image/jpeg", jpg, len, &e) != 0)
		bb_die_err(&e);
	explicit_bzero(jpg, len);
	free(jpg);
	set_part(c, "photo", part);
	if (bb_case_write(c, o->out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "capture.photo", &id);
done:
	/* A face is personal data: its pixels are wiped before the memory goes back. */
	bb_photo_best_free(&best);
	json_decref(c);
	bb_cascade_free(face);
	bb_cascade_free(eye);
	return rc;
}

/* ---- signature -------------------------------------------------------------------- */

static int
cmd_signature(const struct opts *o, const struct bb_config *cfg)
{
	struct bb_err e = { 0, "" };
	struct bb_sig sig;
	struct bb_sig_case sc;
	char *buf;
	size_t len;
	long timeout = o->timeout > 0 ? o->timeout : bb_config_int(cfg, "capture.timeout");
	int rc, stdin_busy = o->replay != NULL && strcmp(o->replay, "-") == 0;
	json_t *c;
	struct bb_case_id id;
	const char *dev = o->device ? o->device : bb_config_str(cfg, "capture.pad");

	if (stdin_busy && o->file != NULL && strcmp(o->file, "-") == 0)
		bb_die(BB_USAGE, "standard input can carry the recording or the case, not both");
	memset(&sig, 0, sizeof sig);
	c = read_case(o, cfg, stdin_busy);
	id = bb_case_id(c);
	if (o->replay != NULL) {
		if (bb_read_file(stdin_busy ? NULL : o->replay, EVEMU_MAX, &buf, &len, &e) != 0)
			bb_die_err(&e);
		rc = bb_sig_read_evemu(buf, len, stdin_busy ? "<stdin>" : o->replay, &sig, &e);
		free(buf);
	} else {
		if (dev == NULL)
			bb_die(BB_UNAVAILABLE, "signature: no pad configured (capture.pad) or given (--device)");
		rc = bb_sig_read_device(dev, (int)(timeout * 1000), &sig, &e);
	}
	if (rc != 0 || bb_sig_check(&sig, &e) != 0) {
		bb_log(LOG_NOTICE, "capture.signature_rejected", &id);
		bb_die_err(&e);
	}
	if (bb_sig_case_make(&sig, (int)bb_config_int(cfg, "capture.dpi"),
	    o->replay ? "recording" : "device", &sc, &e) != 0 ||
	    bb_case_set_attachment(c, "signature", "image/png", sc.png, sc.png_len, &e) != 0 ||
	    bb_case_set_attachment(c, "signature-strokes", "application/json", sc.strokes,
	    strlen(sc.strokes), &e) != 0)
		bb_die_err(&e);
	set_part(c, "signature", json_incref(sc.part));
	bb_sig_case_free(&sc);
	bb_sig_free(&sig);
	if (bb_case_write(c, o->out, &e) != 0)
		bb_die_err(&e);
	bb_log(LOG_INFO, "capture.signature", &id);
	json_decref(c);
	return 0;
}

/* ---- devices ---------------------------------------------------------------------- */

static int
cmd_devices(const struct opts *o)
{
	json_t *all = bb_capture_devices("/dev/input"), *it;
	size_t i;
	char *s;

	if (all == NULL)
		bb_die(BB_SOFTWARE, "out of memory");
	if (strcmp(o->format, "json") == 0) {
		if ((s = json_dumps(all, JSON_INDENT(2))) == NULL)
			bb_die(BB_SOFTWARE, "out of memory");
		puts(s);
		free(s);
	} else {
		json_array_foreach(json_object_get(all, "cameras"), i, it) {
			const char *name = json_string_value(json_object_get(it, "name"));
			const char *err = json_string_value(json_object_get(it, "error"));
			printf("camera\t%s\t%s\n", json_string_value(json_object_get(it, "path")),
			    name ? name : err ? err : "");
		}
		json_array_foreach(json_object_get(all, "pads"), i, it)
			printf("%s\t%s\t%s\n", json_string_value(json_object_get(it, "kind")),
			    json_string_value(json_object_get(it, "path")),
			    json_string_value(json_object_get(it, "name")));
	}
	json_decref(all);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bb_cli cli;
	struct opts o;
	const char *cmd;
	int rc;

	bb_init(argv[0]);
	bb_cli_start(&cli, &argc, &argv, usage, 0);
	cmd = cli.cmd;
	if (strcmp(cmd, "photo") && strcmp(cmd, "signature") && strcmp(cmd, "devices")) {
		bb_warn("%s: unknown command", cmd);
		usage(BB_USAGE);
	}
	parse(argc, argv, cmd, &o);
	/* Configuration mistakes before the person stands in front of the camera or signs. */
	if (bb_config_int(cli.cfg, "capture.tries") < 1 || bb_config_int(cli.cfg, "capture.tries") > 10000)
		bb_die(BB_CONFIG, "capture.tries: expected 1 to 10000");
	if (bb_config_int(cli.cfg, "capture.dpi") < 50 || bb_config_int(cli.cfg, "capture.dpi") > 1200)
		bb_die(BB_CONFIG, "capture.dpi: expected 50 to 1200");
	if (bb_config_int(cli.cfg, "capture.timeout") < 1 ||
	    bb_config_int(cli.cfg, "capture.timeout") > 86400)
		bb_die(BB_CONFIG, "capture.timeout: expected 1s to 24h");
	if (strcmp(cmd, "photo") == 0)
		rc = cmd_photo(&o, cli.cfg);
	else if (strcmp(cmd, "signature") == 0)
		rc = cmd_signature(&o, cli.cfg);
	else
		rc = cmd_devices(&o);
	bb_config_free(cli.cfg);
	return rc;
}
