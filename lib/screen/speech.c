/* Speech output: espeak-ng renders a text into a WAV; see speech.h. */
#include "screen/speech.h"
#include "child.h"
#include "diag.h"
#include "exit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPEECH_TIMEOUT 5		/* s: a sentence takes espeak-ng milliseconds */
#define MAX_WAV (16u << 20)		/* 2 KB of text is two minutes of speech, 5 MB */

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* espeak-ng writing to a pipe cannot seek back to its header and leaves both sizes at
 * 0x7ffff000-odd; a browser then takes the data for endless. The sizes the WAV really
 * has: RIFF's, and the data chunk's (the last chunk). 0, or -1 when it is no RIFF/WAVE. */
static int
wav_fix(unsigned char *w, size_t len)
{
	size_t at = 12;

	if (len < 44 || len > UINT32_MAX || memcmp(w, "RIFF", 4) != 0 ||
	    memcmp(w + 8, "WAVE", 4) != 0)
		return -1;
	put_le32(w + 4, (uint32_t)(len - 8));
	while (at + 8 <= len) {
		uint32_t n = get_le32(w + at + 4);
		if (memcmp(w + at, "data", 4) == 0) {
			put_le32(w + at + 4, (uint32_t)(len - at - 8));
			return 0;
		}
		if (n > len - at - 8)
			return -1;
		at += 8 + n + (n & 1);
	}
	return -1;
}

/* The voice: the language tag in lower case (de, ar, pt-br), as espeak-ng names them.
 * Checked again here: it goes into a command line. */
static int
voice_of(const char *lang, char *voice, size_t len)
{
	size_t i, n = strlen(lang);

	if (n == 0 || n >= len)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)lang[i];
		if (!isalnum(ch) && ch != '-')
			return -1;
		voice[i] = (char)tolower(ch);
	}
	voice[n] = '\0';
	return 0;
}

int
bb_speech_render(const char *text, const char *lang, unsigned char **wav, size_t *len,
    struct bb_err *e)
{
	struct bb_child c;
	char voice[40], cmd[96];
	size_t n = strlen(text), off;
	int p[2], rc;

	*wav = NULL;
	*len = 0;
	if (n == 0 || n > BB_SPEECH_MAX)
		return bb_fail(e, BB_DATAERR, "speech: a text of 1 to %d bytes expected",
		    BB_SPEECH_MAX);
	if (voice_of(lang, voice, sizeof voice) != 0)
		return bb_fail(e, BB_DATAERR, "speech: not a language tag");
	/* The text on stdin: the arguments of a process are every local user's to read,
	 * and the text may be a person's answers. A pipe holds it whole (64 KiB), so the
	 * write never waits for espeak-ng; O_CLOEXEC keeps its ends out of the children
	 * other threads start meanwhile. */
	if (pipe2(p, O_CLOEXEC) != 0)
		return bb_fail(e, BB_UNAVAILABLE, "speech: pipe: %s", strerror(errno));
	for (off = 0; off < n;) {
		ssize_t w = write(p[1], text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = errno;
			close(p[0]);
			close(p[1]);
			return bb_fail(e, BB_UNAVAILABLE, "speech: pipe: %s", strerror(err));
		}
		off += (size_t)w;
	}
	close(p[1]);
	/* -b 1: the text is UTF-8, whatever the locale. */
	snprintf(cmd, sizeof cmd, "exec espeak-ng --stdout -b 1 -v %s", voice);
	rc = bb_child_run(cmd, p[0], NULL, SPEECH_TIMEOUT, MAX_WAV, 0, &c, e);
	close(p[0]);
	if (rc != 0)
		return rc;
	/* Its stderr is not passed on: it could quote the text. */
	if (c.timed_out)
		rc = bb_fail(e, BB_TEMPFAIL, "speech: espeak-ng did not finish in %d s",
		    SPEECH_TIMEOUT);
	else if (c.status == 127)
		rc = bb_fail(e, BB_UNAVAILABLE, "speech: espeak-ng is not installed "
		    "(scripts/install-deps)");
	else if (c.status != 0)
		rc = bb_fail(e, BB_UNAVAILABLE, "speech: espeak-ng failed (%s %d; no voice "
		    "%s?)", c.status < 0 ? "signal" : "status", c.status < 0 ? c.signal :
		    c.status, voice);
	else if (c.out_truncated)
		rc = bb_fail(e, BB_DATAERR, "speech: more than %u bytes of sound", MAX_WAV);
	else if (wav_fix((unsigned char *)c.out, c.outlen) != 0)
		rc = bb_fail(e, BB_UNAVAILABLE, "speech: espeak-ng wrote no WAV");
	if (rc != 0) {
		bb_child_free(&c);
		return rc;
	}
	*wav = (unsigned char *)c.out;
	*len = c.outlen;
	return 0;
}
