/* The PIN on the card: change, unblock with the PUK, resume with the CAN; see eid.h. */
#include "eid/eid.h"
#include "diag.h"
#include "exit.h"
#include "secmem.h"

#include <stdlib.h>

/* RESET RETRY COUNTER (TR-03110 part 3, B.9): p1 02 sets the new PIN, 03 only gives
 * the PIN its retries back; both after PACE with the PIN or the PUK. */
static int
reset_retry_counter(struct bb_eid_session *s, unsigned char p1,
    const struct bb_secret *newpin, struct bb_err *e)
{
	const unsigned char hdr[4] = { 0x00, 0x2C, p1, 0x03 };
	unsigned char *out;
	size_t outlen;
	unsigned sw;
	int rc;

	if ((rc = bb_sm_transmit(&s->sm, hdr, newpin ? newpin->buf : NULL,
	    newpin ? newpin->len : 0, 0, &out, &outlen, &sw, e)) != 0)
		return rc;
	free(out);
	if (sw == 0x6982 || sw == 0x6985)
		return bb_fail(e, BB_NOPERM, "the card refuses to %s the PIN (%04X)",
		    p1 == 0x02 ? "change" : "unblock", sw);
	if (sw == 0x6A80)
		return bb_fail(e, BB_DATAERR, "the card refuses the new PIN (6A80)");
	if (sw != 0x9000)
		return bb_fail(e, BB_PROTOCOL, "RESET RETRY COUNTER: the card answered %04X", sw);
	return 0;
}

int
bb_eid_pin_change(struct bb_eid_session *s, const struct bb_secret *pin,
    const struct bb_secret *newpin, struct bb_err *e)
{
	int rc;

	if ((rc = bb_eid_pace(s, BB_PACE_PIN, pin, NULL, 0, 0, NULL, e)) != 0)
		return rc;
	return reset_retry_counter(s, 0x02, newpin, e);
}

int
bb_eid_pin_unblock(struct bb_eid_session *s, const struct bb_secret *puk, struct bb_err *e)
{
	int rc;

	if ((rc = bb_eid_pace(s, BB_PACE_PUK, puk, NULL, 0, 0, NULL, e)) != 0)
		return rc;
	return reset_retry_counter(s, 0x03, NULL, e);
}

int
bb_eid_pin_resume(struct bb_eid_session *s, const struct bb_secret *can,
    const struct bb_secret *pin, struct bb_err *e)
{
	struct bb_sm outer;
	int rc;

	if ((rc = bb_eid_pace(s, BB_PACE_CAN, can, NULL, 0, 0, NULL, e)) != 0)
		return rc;
	/* The PIN's PACE runs inside the CAN's channel; its keys then replace the CAN's. */
	outer = s->sm;
	return bb_eid_pace(s, BB_PACE_PIN, pin, NULL, 0, BB_PACE_SUSPENDED_OK, &outer, e);
}
