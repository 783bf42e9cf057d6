/* A session with an ID card: the transport that counts and traces, EF.CardAccess, PACE
 * with a secret or on the reader's PIN pad, the secure channel; see eid.h. */
#include "eid/eid.h"
#include "eid/card.h"
#include "eid/readerpace.h"
#include "diag.h"
#include "exit.h"
#include "files.h"
#include "log.h"
#include "secmem.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *const step_names[BB_EID_STEPS] = { "pace", "pa", "ta", "ca", "read" };

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

void
bb_eid_session_step(struct bb_eid_session *s, enum bb_eid_step st)
{
	double t = now_ms();

	s->n.ms[s->n.step] += t - s->n.start;
	s->n.start = t;
	s->n.step = st;
}

void
bb_eid_hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", b[i]);
	out[2 * n] = '\0';
}

/* The wire: only the header, the lengths and the status word are traced, never data
 * (it holds keys, the new PIN, personal data). */
int
bb_eid_session_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp,
    size_t *rlen, struct bb_err *e)
{
	struct bb_eid_session *s = arg;
	int rc, trace = s->flags & BB_EID_TRACE;

	s->n.apdus[s->n.step]++;
	s->n.out[s->n.step] += len;
	if (trace && len >= 4)
		fprintf(stderr, "%s: trace: > %02X %02X %02X %02X, %zu bytes\n", bb_progname,
		    apdu[0], apdu[1], apdu[2], apdu[3], len);
	rc = s->fn(s->arg, apdu, len, resp, rlen, e);
	if (rc == 0) {
		s->n.in[s->n.step] += *rlen;
		if (trace)
			fprintf(stderr, "%s: trace: < %zu bytes, %02X%02X\n", bb_progname, *rlen,
			    resp[*rlen - 2], resp[*rlen - 1]);
	}
	return rc;
}

/* Inside the channel: the plain command's header and lengths; its data only for
 * commands that carry neither secrets nor personal data (SELECT, MSE, certificates). */
static void
sm_trace(void *arg, const unsigned char hdr[4], const unsigned char *data, size_t len,
    size_t ne, unsigned sw)
{
	char buf[2 * 64 + 1];
	int show = hdr[1] == 0xA4 || hdr[1] == 0x22;

	(void)arg;
	if (sw == 0) {
		buf[0] = '\0';
		if (show && len <= 64)
			bb_eid_hex(data, len, buf);
		fprintf(stderr, "%s: trace: SM > %02X %02X %02X %02X, %zu bytes%s%s, Ne %zu\n",
		    bb_progname, hdr[0], hdr[1], hdr[2], hdr[3], len, buf[0] ? " " : "",
		    buf[0] ? buf : (len ? " (blanked)" : ""), ne);
	} else if (hdr[1] == 0xB0 || hdr[1] == 0xB1)
		/* Not even the length of what was read: it tells a name's length. */
		fprintf(stderr, "%s: trace: SM < %s, %04X\n", bb_progname,
		    len ? "data (blanked)" : "no data", sw);
	else
		fprintf(stderr, "%s: trace: SM < %zu bytes%s, %04X\n", bb_progname, len,
		    len ? " (blanked)" : "", sw);
}

void
bb_eid_session_stats(const struct bb_eid_session *s)
{
	int i;

	for (i = 0; i < BB_EID_STEPS; i++)
		if (s->n.apdus[i] > 0)
			bb_log_n(LOG_DEBUG, "eid.step", NULL, "apdus", s->n.apdus[i]);
	if (!(s->flags & BB_EID_STATS))
		return;
	/* Counts and times, never data: for comparing with other eID clients. */
	for (i = 0; i < BB_EID_STEPS; i++)
		fprintf(stderr, "%s: stats: %s %lu apdus %lu out %lu in %.3f ms\n", bb_progname,
		    step_names[i], s->n.apdus[i], s->n.out[i], s->n.in[i], s->n.ms[i]);
}

/* OpenPACE reports its failures on stderr from inside the library ("[ERROR] (file:line)
 * ..." and OpenSSL's error queue): no data, but not the one line a kiosk script shows.
 * While it works, stderr goes to /dev/null unless the session is verbose. */
void
bb_eid_session_quiet(struct bb_eid_session *s, int on)
{
	int null;

	if (s->flags & BB_EID_VERBOSE)
		return;
	if (on && s->quiet_fd < 0) {
		fflush(stderr);
		if ((s->quiet_fd = fcntl(2, F_DUPFD_CLOEXEC, 3)) >= 0 &&
		    (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
			dup2(null, 2);
			close(null);
		}
	} else if (!on && s->quiet_fd >= 0) {
		dup2(s->quiet_fd, 2);
		close(s->quiet_fd);
		s->quiet_fd = -1;
	}
}

void
bb_eid_session_init(struct bb_eid_session *s, bb_apdu_fn fn, void *arg, int flags)
{
	memset(s, 0, sizeof *s);
	s->fn = fn;
	s->arg = arg;
	s->flags = flags;
	s->quiet_fd = -1;
	s->n.step = BB_EID_PACE;
	s->n.start = now_ms();
}

static int
pcsc_apdu(void *arg, const unsigned char *apdu, size_t len, unsigned char *resp, size_t *rlen,
    struct bb_err *e)
{
	return bb_pcsc_transmit(arg, apdu, len, resp, rlen, e);
}

int
bb_eid_session_open(struct bb_eid_session *s, const char *reader, int flags,
    struct bb_err *e)
{
	bb_eid_session_init(s, pcsc_apdu, &s->p, flags);
	if (bb_pcsc_open(&s->p, e) != 0)
		return e->status;
	s->pcsc = 1;
	if (bb_pcsc_connect(&s->p, reader, e) != 0)
		return e->status;
	/* EF.CardAccess is PACE's: its APDUs and time count there. */
	s->n.start = now_ms();
	if (bb_card_read_file(&s->p, BB_FID_CARD_ACCESS, 8192, &s->ca, &s->ca_len, e) != 0)
		return e->status;
	s->n.apdus[BB_EID_PACE] = s->p.apdus;
	s->n.out[BB_EID_PACE] = s->p.out;
	s->n.in[BB_EID_PACE] = s->p.in;
	return 0;
}

void
bb_eid_session_close(struct bb_eid_session *s)
{
	bb_eid_session_quiet(s, 0);
	bb_pace_free(s->pace);
	s->pace = NULL;
	free(s->ca);
	s->ca = NULL;
	if (s->pcsc)
		bb_pcsc_close(&s->p);
	s->pcsc = 0;
}

int
bb_eid_session_pinpad(struct bb_eid_session *s)
{
	return s->pcsc && bb_reader_pace_code(&s->p) != 0;
}

/* The new channel: the session's keys are now those of p. */
static void
channel(struct bb_eid_session *s, struct bb_pace *p, void *ctx)
{
	bb_pace_free(s->pace);
	s->pace = p;
	bb_sm_init(&s->sm, ctx, bb_eid_session_apdu, s, 1);
	if (s->flags & BB_EID_TRACE) {
		s->sm.trace = sm_trace;
		s->sm.trace_arg = s;
	}
}

/* PACE's failure as the person can act on it: what is wrong, and the way out. */
static int
pace_outcome(int rc, int pwd_ref, int retries, struct bb_err *e)
{
	const char *what = pwd_ref == BB_PACE_PIN ? "PIN" : pwd_ref == BB_PACE_CAN ? "CAN" : "PUK";

	if (rc == BB_DOC_BLOCKED && pwd_ref == BB_PACE_PIN && retries == 1)
		return bb_fail(e, BB_DOC_BLOCKED, "the PIN is suspended: confirm with the CAN first (bb-eid pin-resume)");
	if (rc == BB_DOC_BLOCKED && pwd_ref == BB_PACE_PIN && retries == 0)
		return bb_fail(e, BB_DOC_BLOCKED, "the PIN is blocked: unblock it with the PUK (bb-eid pin-unblock)");
	if (rc == BB_WRONG_SECRET && pwd_ref == BB_PACE_PIN && retries == 1)
		return bb_fail(e, BB_WRONG_SECRET, "wrong PIN, 1 retry left: the PIN is now suspended (the CAN is needed next)");
	if (rc == BB_WRONG_SECRET && pwd_ref == BB_PACE_PIN && retries == 0)
		return bb_fail(e, BB_WRONG_SECRET, "wrong PIN, no retries left: the PIN is now blocked (the PUK is needed)");
	if (rc == BB_WRONG_SECRET && retries >= 0)
		return bb_fail(e, BB_WRONG_SECRET, "wrong %s, %d %s left", what, retries,
		    retries == 1 ? "retry" : "retries");
	if (rc == BB_WRONG_SECRET)
		return bb_fail(e, BB_WRONG_SECRET, "wrong %s", what);
	return rc;
}

int
bb_eid_pace(struct bb_eid_session *s, int pwd_ref, const struct bb_secret *sec,
    const unsigned char *chat, size_t chat_len, int flags, struct bb_sm *inside,
    struct bb_err *e)
{
	struct bb_pace_in in = {
		.fn = inside ? bb_sm_apdu : bb_eid_session_apdu,
		.arg = inside ? (void *)inside : (void *)s,
		.ef_cardaccess = s->ca, .len = s->ca_len, .pwd_ref = pwd_ref,
		.secret = (const char *)sec->buf, .secret_len = sec->len,
		.chat = chat, .chat_len = chat_len, .flags = flags,
	};
	struct bb_pace *p = NULL;
	int retries = -1, rc;

	bb_eid_session_quiet(s, 1);
	rc = bb_pace_run(&in, &p, &retries, e);
	bb_eid_session_quiet(s, 0);
	if (rc != 0)
		return pace_outcome(rc, pwd_ref, retries, e);
	channel(s, p, p->ctx);
	return 0;
}

/* PACE in a PIN-pad reader (PC/SC part 10 amendment 1): the person types the PIN on the
 * pad, the reader runs PACE and protects the channel until Chip Authentication, when
 * bb-eid takes over with the CA keys. The certificate description goes along for
 * readers with a display. No such reader can be attached here: this path follows the
 * specification and is not tested against a reader. */
int
bb_eid_reader_pace(struct bb_eid_session *s, int pwd_ref, const unsigned char *chat,
    size_t chat_len, const char *desc_path, struct bb_err *e)
{
	struct bb_reader_pace rp;
	struct bb_pace *p = NULL;
	char *desc = NULL;
	size_t desc_len = 0;
	int retries, rc;

	if (desc_path == NULL || bb_read_file(desc_path, 65535, &desc, &desc_len, e) != 0) {
		desc = NULL;	/* optional: a reader without a display needs none */
		desc_len = 0;
	}
	rc = bb_reader_pace(&s->p, pwd_ref, chat, chat_len, NULL, 0, (unsigned char *)desc,
	    desc_len, &rp, &retries, e);
	free(desc);
	if (rc != 0)
		return rc;
	rc = bb_pace_from_reader(rp.card_access, rp.card_access_len, rp.id_icc, rp.id_icc_len,
	    rp.car, rp.car_prev, &p, e);
	bb_reader_pace_free(&rp);
	if (rc != 0)
		return rc;
	channel(s, p, NULL);
	return 0;
}

int
bb_eid_info(struct bb_pcsc *p, const char *reader, json_t **out, struct bb_err *e)
{
	unsigned char *ca;
	size_t len, i;
	json_t *infos, *it;
	const char *pace_oid = NULL;
	int retries = -1, rc;

	*out = NULL;
	if ((rc = bb_pcsc_connect(p, reader, e)) != 0 ||
	    (rc = bb_card_read_file(p, BB_FID_CARD_ACCESS, 8192, &ca, &len, e)) != 0)
		return rc;
	rc = bb_card_security_infos(ca, len, &infos, e);
	free(ca);
	if (rc != 0)
		return rc;
	json_array_foreach(infos, i, it) {
		const char *oid = json_string_value(json_object_get(it, "oid"));
		if (pace_oid == NULL && strncmp(oid, "0.4.0.127.0.7.2.2.4.", 20) == 0)
			pace_oid = oid;
	}
	if (pace_oid == NULL)
		rc = bb_fail(e, BB_PROTOCOL, "%s: the card offers no PACE: not an eID card",
		    p->reader);
	else if ((rc = bb_card_pin_retries(p, pace_oid, &retries, e)) == 0)
		*out = json_pack("{s:s, s:s, s:O, s:{s:i, s:s}}", "reader", p->reader, "card",
		    "eID (PACE)", "card_access", infos, "pin", "retries", retries, "state",
		    retries >= 2 ? "ready" : retries == 1 ? "suspended (CAN needed)" :
		    retries == 0 ? "blocked (PUK needed)" : "unknown");
	json_decref(infos);
	return rc;
}
