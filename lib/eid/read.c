/* The read of bb-eid: what the configuration asks for, the terminal's credentials, the
 * CHAT, then on the card PACE, passive authentication, TA, CA, the data groups and the
 * expiry rule; see eid.h. */
#include "eid/eid.h"
#include "eid/dg.h"
#include "config.h"
#include "diag.h"
#include "exit.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

/* What eid.pki stands for when it is not set. */
static const char *const pki_keys[] = {
	"eid.dv_cert", "eid.terminal_cert", "eid.terminal_key", "eid.cvca_dir", "eid.csca_dir",
};

static const char *
path_or(const struct bb_config *cfg, const char *key, const char *pki, const char *rel,
    char *buf, size_t room)
{
	if (bb_config_has(cfg, key))
		return bb_config_str(cfg, key);
	snprintf(buf, room, "%s/%s", pki, rel);
	return buf;
}

int
bb_eid_paths(const struct bb_config *cfg, struct bb_eid_paths *p, struct bb_err *e)
{
	const char *pki = p->pki;
	size_t i, room = sizeof p->buf[0];

	memset(p, 0, sizeof *p);
	/* No default: the trust anchors decide which documents are genuine, and a default
	 * path (it was /tmp/bb-eid-pki-UID) is one another user can create first. The
	 * configuration names them, each file and directory checked as the terminal's. */
	if (bb_config_has(cfg, "eid.pki"))
		snprintf(p->pki, sizeof p->pki, "%s", bb_config_str(cfg, "eid.pki"));
	else
		for (i = 0; i < sizeof pki_keys / sizeof pki_keys[0]; i++)
			if (!bb_config_has(cfg, pki_keys[i]))
				return bb_fail(e, BB_CONFIG, "%s: not configured, nor eid.pki: name "
				    "the terminal's certificates, key and trust anchors (bb.yaml(5))",
				    pki_keys[i]);
	p->dv_cert = path_or(cfg, "eid.dv_cert", pki, "terminal/dv.cvcert", p->buf[0], room);
	p->terminal_cert = path_or(cfg, "eid.terminal_cert", pki, "terminal/terminal.cvcert",
	    p->buf[1], room);
	p->terminal_key = path_or(cfg, "eid.terminal_key", pki, "terminal/terminal.pkcs8",
	    p->buf[2], room);
	p->csca_dir = path_or(cfg, "eid.csca_dir", pki, "csca", p->buf[3], room);
	p->cvca_dir = path_or(cfg, "eid.cvca_dir", pki, "cvca-trust", p->buf[4], room);
	if (bb_config_has(cfg, "eid.certificate_description"))
		p->desc = bb_config_str(cfg, "eid.certificate_description");
	else if (*pki != '\0') {
		snprintf(p->buf[5], room, "%s/terminal/terminal.desc", pki);
		p->desc = p->buf[5];
	}
	return 0;
}

int
bb_eid_wanted(const struct bb_config *cfg, const char *list, const char *service,
    unsigned long *dgs, struct bb_err *e)
{
	unsigned long allowed = ~0UL;
	char key[300];

	*dgs = 0;
	if (service != NULL) {
		snprintf(key, sizeof key, "eid.services.%s.fields", service);
		if (strchr(service, '.') != NULL || !bb_config_has(cfg, key))
			return bb_fail(e, BB_CONFIG, "eid.services: no service '%s' configured",
			    service);
		if (bb_dg_fields(bb_config_str(cfg, key), &allowed, e) != 0)
			return e->status = BB_CONFIG;
		if (list == NULL)
			list = bb_config_str(cfg, key);
	}
	if (list == NULL)
		list = bb_config_str(cfg, "eid.fields");
	if (bb_dg_fields(list, dgs, e) != 0)
		return e->status;
	if (*dgs & ~allowed)
		return bb_fail(e, BB_NOPERM, "--fields asks for more than the service '%s' may read",
		    service);
	return 0;
}

int
bb_eid_read_begin(struct bb_eid_read *r, struct bb_err *e)
{
	int rc;

	if ((rc = bb_eac_terminal_load(&r->t, r->paths.dv_cert, r->paths.terminal_cert, r->paths.terminal_key,
	    r->token_pin, r->now, e)) != 0)
		return rc;
	/* Checked again where they are used; here so that a refused one costs no PIN. */
	if ((rc = bb_eac_trust_dir(r->paths.csca_dir, "eid.csca_dir", 1, e)) != 0 ||
	    (rc = bb_eac_trust_dir(r->paths.cvca_dir, "eid.cvca_dir", 0, e)) != 0)
		return rc;
	/* The expiry is always checked: an expired document is refused whatever is asked.
	 * Data groups the terminal may not read are not asked for (the CHAT would be
	 * refused) and not read. */
	r->rights = bb_dg_chat_rights(r->t.rights);
	r->dgs = (r->asked | BB_DG_BIT(3)) & r->rights;
	r->chat_len = bb_dg_chat(r->dgs, r->chat, sizeof r->chat);
	/* With the CAN an authentication terminal needs the right "CAN allowed" (bit 4 of the
	 * CHAT, TR-03110 part 4); ask for it, and refuse before the card when the
	 * certificate does not have it. */
	if (r->pwd_ref == BB_PACE_CAN) {
		if (!(r->t.rights[4] & 0x10))
			return bb_fail(e, BB_NOPERM, "the terminal's certificate %s does not allow "
			    "reading with the CAN", r->t.chr);
		r->chat[r->chat_len - 1] |= 0x10;
	}
	return 0;
}

void
bb_eid_read_end(struct bb_eid_read *r)
{
	bb_eac_terminal_free(&r->t);
}

int
bb_eid_read(struct bb_eid_read *r, struct bb_eid_session *s, const struct bb_secret *sec,
    json_t **identity, struct bb_err *e)
{
	int rc;

	*identity = NULL;
	if (sec != NULL)
		rc = bb_eid_pace(s, r->pwd_ref, sec, r->chat, r->chat_len, 0, NULL, e);
	else
		rc = bb_eid_reader_pace(s, r->pwd_ref, r->chat, r->chat_len, r->paths.desc, e);
	if (rc != 0)
		return rc;
	bb_log(LOG_INFO, "eid.pace", r->id);
	return bb_eid_read_card(r, s, identity, e);
}

/* Passive authentication first (it gives the chip's key for CA), then TA and CA. */
static int
authenticate(struct bb_eid_read *r, struct bb_eid_session *s, struct bb_err *e)
{
	unsigned char *cs = NULL;
	size_t cs_len;
	int rc;

	bb_eid_session_step(s, BB_EID_PA);
	if ((rc = bb_eac_read_sfi(&s->sm, 0x1D, 8192, &cs, &cs_len, e)) == 0)
		rc = bb_eac_passive_auth(s->pace, cs, cs_len, s->ca, s->ca_len, r->paths.csca_dir,
		    r->signer, sizeof r->signer, e);
	free(cs);
	if (rc != 0)
		return rc;
	bb_eid_session_step(s, BB_EID_TA);
	if ((rc = bb_eac_ta(&s->sm, s->pace, &r->t, r->paths.cvca_dir, e)) != 0)
		return rc;
	/* A token is logged out as soon as it has signed, not when the read ends. */
	bb_p11_close(r->t.token);
	r->t.token = NULL;
	bb_eid_session_step(s, BB_EID_CA);
	if ((rc = bb_eac_ca(&s->sm, s->pace, e)) != 0)
		return rc;
	bb_eid_session_step(s, BB_EID_READ);
	return bb_eac_select_eid(&s->sm, e);
}

static int
read_dg(void *arg, int n, unsigned char **buf, size_t *len, struct bb_err *e)
{
	return bb_eac_read_sfi(arg, (unsigned)n, 16384, buf, len, e);
}

/* The expiry rule and "verified"; identity is the caller's on success, freed else. */
static int
finish(struct bb_eid_read *r, json_t *identity, struct bb_err *e)
{
	char today[11];
	struct tm tm;
	const char *exp;
	int unknown;

	/* The document's last day is a day where the terminal stands: local time. */
	localtime_r(&r->now, &tm);
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	if (r->rights & BB_DG_BIT(3)) {
		exp = json_string_value(json_object_get(identity, "expiry"));
		if (exp == NULL || *exp == '\0' || strcmp(exp, today) < 0) {
			unknown = exp == NULL || *exp == '\0';
			json_decref(identity);	/* exp with it */
			bb_log(LOG_NOTICE, "eid.expired", r->id);
			return bb_fail(e, BB_DOC_BLOCKED, unknown ? "the card does not say how long "
			    "it is valid" : "the document has expired: it cannot be used for the eID");
		}
	}
	/* Only what was asked for leaves (the expiry was read for the check). */
	if (!(r->asked & BB_DG_BIT(3)))
		json_object_del(identity, "expiry");
	json_object_set_new(identity, "verified", json_pack("{s:s, s:b, s:b, s:s, s:s}", "pace",
	    r->pwd_ref == BB_PACE_CAN ? "can" : "pin", "ta", 1, "ca", 1, "passive_auth", "ok",
	    "document_signer", r->signer));
	return 0;
}

int
bb_eid_read_card(struct bb_eid_read *r, struct bb_eid_session *s, json_t **identity,
    struct bb_err *e)
{
	json_t *id = NULL;
	int rc;

	*identity = NULL;
	bb_eid_session_quiet(s, 1);
	if ((rc = authenticate(r, s, e)) == 0)
		rc = bb_dg_identity(r->dgs, read_dg, &s->sm, &id, e);
	bb_eid_session_quiet(s, 0);
	if (rc != 0) {
		bb_log_n(LOG_NOTICE, "eid.failed", r->id, "status", rc);
		return rc;
	}
	bb_eid_session_step(s, BB_EID_READ);
	bb_eid_session_stats(s);
	if ((rc = finish(r, id, e)) != 0)
		return rc;
	*identity = id;
	return 0;
}
