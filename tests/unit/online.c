/* lib/eid/online.c without AusweisApp: the conversation fed AusweisApp's messages as
 * Debian's 1.26 sends them (tests/0770 runs the real one), checking each command bb
 * answers with and each end's status and message; and the identity from the service's
 * result address taken only as far as the service may read it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "eid/dg.h"
#include "eid/online.h"
#include "exit.h"
#include "secmem.h"

static unsigned char pin[] = "123456", can[] = "500540";
static struct bb_secret spin = { pin, 6, 7 }, scan = { can, 6, 7 };
static struct bb_online o;
static struct bb_online_result r;
static struct bb_online_talk t;
static struct bb_err e;
static char out[4096];
static size_t outlen;

static const char *const ok_end =
    "{\"msg\":\"AUTH\",\"result\":{\"major\":\"http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok\"},"
    "\"url\":\"https://127.0.0.1:4000/refresh?ref=abc\"}";
static const char *const cancelled_end =
    "{\"msg\":\"AUTH\",\"result\":{\"major\":\"http://www.bsi.bund.de/ecard/api/1.1/resultmajor#error\","
    "\"minor\":\"http://www.bsi.bund.de/ecard/api/1.1/resultminor/sal#cancellationByUser\"},"
    "\"url\":\"https://127.0.0.1:4000/refresh?ref=abc\"}";
static const char *const names_rights =
    "{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"effective\":[\"FamilyName\",\"GivenNames\"],"
    "\"optional\":[],\"required\":[\"FamilyName\",\"GivenNames\"]},\"transactionInfo\":\"t\"}";

static int
setup(void **state)
{
	(void)state;
	memset(&o, 0, sizeof o);
	o.sdk = "ws://127.0.0.1:1/eID-Kernel";
	o.tc_token_url = "https://127.0.0.1:4000/tctoken";
	o.allowed = BB_DG_BIT(4) | BB_DG_BIT(5) | BB_DG_BIT(17);
	o.pin = &spin;
	bb_online_talk_init(&t, &o, &r);
	memset(&e, 0, sizeof e);
	return 0;
}

/* One message in; the status; the command out ("" for none). */
static int
say(const char *msg)
{
	int rc = bb_online_talk(&t, msg, strlen(msg), out, sizeof out, &outlen, &e);

	out[outlen] = '\0';
	return rc;
}

static void
pin_then_ok(void **state)
{
	json_t *j;
	json_error_t je;
	size_t n;

	(void)state;
	n = bb_online_start(&t, out, sizeof out);
	j = json_loadb(out, n, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "cmd")), "RUN_AUTH");
	assert_string_equal(json_string_value(json_object_get(j, "tcTokenURL")), o.tc_token_url);
	assert_true(json_is_false(json_object_get(j, "developerMode")));
	json_decref(j);
	assert_int_equal(say("{\"msg\":\"AUTH\"}"), -1);
	assert_string_equal(out, "");
	assert_int_equal(say(names_rights), -1);
	assert_string_equal(out, "{\"cmd\":\"ACCEPT\"}");
	assert_int_equal(say("{\"msg\":\"INSERT_CARD\"}"), -1);
	assert_true(t.waiting_card);
	assert_int_equal(say("{\"attached\":true,\"card\":{\"deactivated\":false,\"inoperative\":false,"
	    "\"retryCounter\":3},\"msg\":\"READER\",\"name\":\"bb vpcd 00 00\"}"), -1);
	assert_false(t.waiting_card);
	/* Another reader without a card changes nothing. */
	assert_int_equal(say("{\"card\":null,\"msg\":\"READER\",\"name\":\"bb vpcd 00 01\"}"), -1);
	assert_string_equal(t.card_reader, "bb vpcd 00 00");
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{\"card\":{\"deactivated\":false,"
	    "\"retryCounter\":3},\"name\":\"bb vpcd 00 00\"}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"SET_PIN\",\"value\":\"123456\"}");
	assert_int_equal(say(ok_end), 0);
	assert_string_equal(r.url, "https://127.0.0.1:4000/refresh?ref=abc");
	assert_string_equal(r.pace, "pin");
}

static void
wrong_pin(void **state)
{
	(void)state;
	assert_int_equal(say(names_rights), -1);
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{\"card\":{\"retryCounter\":3}}}"), -1);
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{\"card\":{\"retryCounter\":2}}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	/* What comes before AUTH's end is not answered. */
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{\"card\":{\"retryCounter\":2}}}"), -1);
	assert_string_equal(out, "");
	assert_int_equal(say(cancelled_end), BB_WRONG_SECRET);
	assert_string_equal(e.msg, "wrong PIN, 2 retries left");
	/* No retry counter said: no number made up. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{}}"), -1);
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{}}"), -1);
	assert_int_equal(say(cancelled_end), BB_WRONG_SECRET);
	assert_string_equal(e.msg, "wrong PIN");
}

/* The refresh address's query goes into the result URL only when it is plain. */
static void
refresh_query(void **state)
{
	const char *bad[] = { "https://h/refresh", "https://h/refresh?", "https://h/r?ref=a b",
	    "https://h/r?ref=a#b", "https://h/r?ref=a\r\nX: y", "https://h/r?ref=<x>" };
	json_t *id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(r.url, sizeof r.url, "%s", bad[i]);
		assert_int_equal(bb_online_fetch("https://127.0.0.1:1/result", NULL, 1, o.allowed,
		    &r, &id, &e), BB_PROTOCOL);
		assert_null(id);
	}
	/* A plain one is asked for (nobody listens there: 75). */
	snprintf(r.url, sizeof r.url, "https://h/r?ref=Ab-9_x.~%%2F&n=1");
	assert_int_equal(bb_online_fetch("https://127.0.0.1:1/result", NULL, 1, o.allowed, &r,
	    &id, &e), BB_TEMPFAIL);
}

static void
suspended_and_blocked(void **state)
{
	(void)state;
	/* Wrong a second time: AusweisApp asks for the CAN next. */
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{\"card\":{\"retryCounter\":2}}}"), -1);
	assert_int_equal(say("{\"msg\":\"ENTER_CAN\",\"reader\":{\"card\":{\"retryCounter\":1}}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	assert_int_equal(say(cancelled_end), BB_WRONG_SECRET);
	assert_non_null(strstr(e.msg, "now suspended"));
	/* Suspended from the start: without a CAN 3, with it SET_CAN then SET_PIN. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"ENTER_CAN\",\"reader\":{\"card\":{\"retryCounter\":1}}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	assert_int_equal(say(cancelled_end), BB_DOC_BLOCKED);
	setup(NULL);
	o.can = &scan;
	assert_int_equal(say(names_rights), -1);
	assert_int_equal(say("{\"msg\":\"ENTER_CAN\",\"reader\":{\"card\":{\"retryCounter\":1}}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"SET_CAN\",\"value\":\"500540\"}");
	assert_int_equal(say("{\"msg\":\"ENTER_PIN\",\"reader\":{\"card\":{\"retryCounter\":1}}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"SET_PIN\",\"value\":\"123456\"}");
	assert_int_equal(say(ok_end), 0);
	assert_string_equal(r.pace, "can");
	/* Blocked, no PUK. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"ENTER_PUK\",\"reader\":{\"card\":{\"retryCounter\":0}}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	assert_int_equal(say(cancelled_end), BB_DOC_BLOCKED);
	assert_non_null(strstr(e.msg, "PUK"));
	/* A switched-off eID function in a READER message: at once. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"READER\",\"name\":\"r\",\"card\":{\"deactivated\":true,"
	    "\"retryCounter\":0}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	assert_int_equal(say(cancelled_end), BB_DOC_BLOCKED);
}

static void
rights(void **state)
{
	(void)state;
	/* Required and not allowed: cancelled, naming it. */
	assert_int_equal(say("{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"effective\":[\"FamilyName\","
	    "\"AgeVerification\"],\"optional\":[],\"required\":[\"FamilyName\",\"AgeVerification\"]}}"),
	    -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	assert_int_equal(say(cancelled_end), BB_NOPERM);
	assert_non_null(strstr(e.msg, "AgeVerification"));
	/* Optional and not allowed: switched off once, then ACCEPT. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"effective\":[\"FamilyName\","
	    "\"Address\",\"DateOfBirth\"],\"optional\":[\"Address\",\"DateOfBirth\"],"
	    "\"required\":[\"FamilyName\"]}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"SET_ACCESS_RIGHTS\",\"chat\":[\"Address\"]}");
	assert_int_equal(say("{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"effective\":[\"FamilyName\","
	    "\"Address\"],\"optional\":[\"Address\",\"DateOfBirth\"],\"required\":[\"FamilyName\"]}}"),
	    -1);
	assert_string_equal(out, "{\"cmd\":\"ACCEPT\"}");
	/* A right the SDK does not name for a data group bb reads is never allowed. */
	setup(NULL);
	o.allowed = ~0UL;
	assert_int_equal(say("{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"required\":[\"Pseudonym\"],"
	    "\"effective\":[\"Pseudonym\"]}}"), -1);
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	/* No "effective": nothing to check, nothing accepted (76). */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"required\":[\"FamilyName\"]}}"),
	    BB_PROTOCOL);
	/* ACCESS_RIGHTS again after ACCEPT: 76, not a second ACCEPT. */
	setup(NULL);
	assert_int_equal(say(names_rights), -1);
	assert_int_equal(say(names_rights), BB_PROTOCOL);
	/* Success without the rights accepted: 76. */
	setup(NULL);
	assert_int_equal(say(ok_end), BB_PROTOCOL);
	/* A chat that is not one: 76. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"ACCESS_RIGHTS\",\"chat\":{\"required\":\"FamilyName\"}}"),
	    BB_PROTOCOL);
}

static void
ends(void **state)
{
	(void)state;
	assert_int_equal(say(cancelled_end), BB_CANCELLED);
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"AUTH\",\"result\":{\"major\":\"http://www.bsi.bund.de/ecard/"
	    "api/1.1/resultmajor#error\",\"minor\":\"http://www.bsi.bund.de/ecard/api/1.1/resultminor/"
	    "al/common#internalError\"}}"), BB_NOPERM);
	assert_string_equal(e.msg, "the authentication failed: internalError");
	setup(NULL);
	/* Success without an https refresh address is not success. */
	assert_int_equal(say("{\"msg\":\"AUTH\",\"result\":{\"major\":\"http://www.bsi.bund.de/ecard/"
	    "api/1.1/resultmajor#ok\"},\"url\":\"http://x/\"}"), BB_PROTOCOL);
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"BAD_STATE\",\"error\":\"RUN_AUTH\"}"), BB_PROTOCOL);
	setup(NULL);
	assert_int_equal(say("not json"), BB_PROTOCOL);
	setup(NULL);
	/* No card: CANCEL, then 69; a time-out: 75. */
	assert_int_equal(say("{\"msg\":\"INSERT_CARD\"}"), -1);
	assert_int_equal(bb_online_no_card(&t, out, sizeof out, &outlen), -1);
	out[outlen] = '\0';
	assert_string_equal(out, "{\"cmd\":\"CANCEL\"}");
	assert_int_equal(say(cancelled_end), BB_UNAVAILABLE);
	setup(NULL);
	assert_int_equal(bb_online_timeout(&t, out, sizeof out, &outlen), -1);
	assert_int_equal(say(cancelled_end), BB_TEMPFAIL);
	/* The card's reader says it is empty before the end: the card was taken out (1),
	 * whatever AusweisApp calls the end. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"READER\",\"name\":\"r\",\"card\":{\"retryCounter\":3}}"), -1);
	assert_int_equal(say("{\"msg\":\"READER\",\"name\":\"other\",\"card\":null}"), -1);
	assert_false(t.card_gone);
	assert_int_equal(say("{\"msg\":\"READER\",\"name\":\"r\",\"card\":null}"), -1);
	assert_int_equal(say("{\"msg\":\"AUTH\",\"result\":{\"major\":\"x#error\",\"minor\":"
	    "\"y#unknownError\"}}"), BB_CANCELLED);
	assert_string_equal(e.msg, "the card was removed");
	/* A card seen before INSERT_CARD: not waiting for one. */
	setup(NULL);
	assert_int_equal(say("{\"msg\":\"READER\",\"name\":\"r\",\"card\":{\"retryCounter\":3}}"), -1);
	assert_int_equal(say("{\"msg\":\"INSERT_CARD\"}"), -1);
	assert_false(t.waiting_card);
}

static void
identity(void **state)
{
	const char *good = "{\"given_names\":\"ERIKA\",\"family_names\":\"MUSTERMANN\","
	    "\"address\":{\"street\":\"HEIDESTRASSE 17\",\"postal_code\":\"51147\",\"city\":\"KÖLN\","
	    "\"country\":\"DE\"},\"verified\":{\"ta\":true,\"ca\":true,\"passive_auth\":\"ok\","
	    "\"document_signer\":\"CN=DS\",\"method\":\"forged\",\"extra\":1}}";
	const char *bad[] = {
		"{\"given_names\":\"ERIKA\",\"date_of_birth\":\"1964-08-12\"}",	/* not allowed */
		"{\"given_names\":\"ER\\u0007IKA\"}",				/* control */
		"{\"given_names\":1}",
		"{\"address\":{\"street\":\"S\",\"city\":\"K\"}}",
		"{\"secret_key\":\"x\"}",
		"{\"all\":\"x\"}",
		"{\"given_names,family_names\":\"x\"}",
		"{\"family_names   \":\"x\"}",		/* fuzzer: bb_dg_fields trims */
		"{\"verified\":{}}",
		"{\"given_names\":\"A\",\"given_names\":\"B\"}",
		"[]",
		"{\"given_names\":\"A\",\"verified\":[]}",
	};
	json_t *id;
	size_t i;

	(void)state;
	snprintf(r.pace, sizeof r.pace, "pin");
	assert_int_equal(bb_online_identity(good, strlen(good), o.allowed, &r, &id, &e), 0);
	assert_string_equal(json_string_value(json_object_get(id, "given_names")), "ERIKA");
	assert_string_equal(json_string_value(json_object_get(json_object_get(id, "verified"),
	    "method")), "online");
	assert_null(json_object_get(json_object_get(id, "verified"), "extra"));
	assert_true(json_is_true(json_object_get(json_object_get(id, "verified"), "ta")));
	json_decref(id);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		assert_int_equal(bb_online_identity(bad[i], strlen(bad[i]), o.allowed, &r, &id, &e),
		    BB_PROTOCOL);
		assert_null(id);
		/* No value in the message. */
		assert_null(strstr(e.msg, "ERIKA"));
		assert_null(strstr(e.msg, "secret_key"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(pin_then_ok, setup),
		cmocka_unit_test_setup(wrong_pin, setup),
		cmocka_unit_test_setup(suspended_and_blocked, setup),
		cmocka_unit_test_setup(rights, setup),
		cmocka_unit_test_setup(ends, setup),
		cmocka_unit_test_setup(identity, setup),
		cmocka_unit_test_setup(refresh_query, setup),
	};

	return cmocka_run_group_tests_name("online", tests, NULL, NULL);
}
