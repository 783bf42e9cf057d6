/* lib/form/value.c: IBAN check digits and lengths, calendar dates in both notations,
 * ISO 3166 country codes, relative and absolute date bounds (checked against dates
 * computed here with localtime_r/mktime), and bb_field_convert/bb_field_check for each
 * field type on a struct bb_field set up by hand; no reason ever repeats the value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "form/form.h"

/* --- helpers --- */

static void
field_init(struct bb_field *f, enum bb_ftype type)
{
	memset(f, 0, sizeof *f);
	f->name = "f";
	f->type = type;
	f->min_length = -1;
	f->max_length = -1;
}

static struct bb_option two_options[] = {
	{ "a", { "A", "A" } },
	{ "b", { "B", "B" } },
};

/* Converts in (taking its reference); NULL and the reason when refused. */
static json_t *
convert(const struct bb_field *f, json_t *in, char *why, size_t len)
{
	json_t *out;

	why[0] = '\0';
	out = bb_field_convert(f, in, why, len);
	json_decref(in);
	if (out == NULL && why[0] == '\0')
		fail_msg("refused without a reason");
	return out;
}

/* Expects s to convert to a string equal to want. */
static void
converts_to(const struct bb_field *f, const char *s, const char *want)
{
	char why[256];
	json_t *out = convert(f, json_string(s), why, sizeof why);

	if (out == NULL)
		fail_msg("'%s' refused: %s", s, why);
	if (!json_is_string(out) || strcmp(json_string_value(out), want) != 0)
		fail_msg("'%s' became something other than '%s'", s, want);
	json_decref(out);
}

/* Expects s to be refused, with want in the reason. */
static void
refused(const struct bb_field *f, const char *s, const char *want)
{
	char why[256];
	json_t *out = convert(f, json_string(s), why, sizeof why);

	if (out != NULL) {
		json_decref(out);
		fail_msg("'%s' accepted as %s", s, bb_ftype_name(f->type));
	}
	if (want != NULL && strstr(why, want) == NULL)
		fail_msg("reason for '%s' is '%s', lacks '%s'", s, why, want);
}

/* Converts (must succeed) then checks; returns the check's result and reason. */
static int
check(const struct bb_field *f, json_t *in, char *why, size_t len)
{
	json_t *v = convert(f, in, why, len);
	int rc;

	if (v == NULL)
		fail_msg("conversion refused: %s", why);
	why[0] = '\0';
	rc = bb_field_check(f, v, why, len);
	json_decref(v);
	return rc;
}

static void
ymd(const struct tm *tm, char out[11])
{
	strftime(out, 11, "%Y-%m-%d", tm);
}

/* --- a clock the tests can set ---
 * This executable's time() takes the place of the C library's for the code linked in
 * from libbb.a, so date bounds can be resolved on chosen days (month ends, leap days,
 * the nights clocks change). fake_now 0: the real time. */

static time_t fake_now;
static char *saved_tz;		/* TZ before set_clock, or NULL */
static int tz_saved;

time_t
time(time_t *t)
{
	struct timespec ts;
	time_t now = fake_now;

	if (now == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = ts.tv_sec;
	}
	if (t != NULL)
		*t = now;
	return now;
}

/* Sets the clock to a local time in Germany's zone (the rules as a POSIX TZ string,
 * so no time zone data is needed). */
static void
set_clock(int y, int m, int d, int hour, int min)
{
	struct tm tm;

	if (!tz_saved) {
		saved_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
		tz_saved = 1;
	}
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_isdst = -1;
	fake_now = mktime(&tm);
	assert_true(fake_now != (time_t)-1);
}

static int
reset_clock(void **state)
{
	(void)state;
	fake_now = 0;
	if (saved_tz != NULL)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	free(saved_tz);
	saved_tz = NULL;
	tz_saved = 0;
	tzset();
	return 0;
}

/* --- IBAN --- */

static void
iban_valid(void **state)
{
	static const char *good[] = {
		"DE89370400440532013000", "GB82WEST12345698765432", "AT611904300234573201",
		"NL91ABNA0417164300", "FR1420041010050500013M02606",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!bb_iban_valid(good[i]))
			fail_msg("%s refused", good[i]);
}

static void
iban_invalid(void **state)
{
	static const char *bad[] = {
		"DE89370400440532013001",	/* one digit changed */
		"DE89370400440532013100",
		"DE98370400440532013000",	/* check digits swapped */
		"GB82WEST12345698765433",
		"NL91ABNA0417164301",
		/* Check digits right, length wrong for DE (20 and 23, not 22). */
		"DE863704004405320130",
		"DE543704004405320130001",
		"de89370400440532013000",	/* lower case */
		"DE89370400440532O13000",	/* letter O for zero */
		"DE89 3704 0044 0532 0130 00",	/* spaces are for bb_field_convert */
		"DE89", "DE8937040044", "",
		"8937040044053201300000",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (bb_iban_valid(bad[i]))
			fail_msg("%s accepted", bad[i]);
}

static void
iban_field(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_IBAN);
	converts_to(&f, "de89 3704 0044 0532 0130 00", "DE89370400440532013000");
	converts_to(&f, " GB82 WEST 1234 5698 7654 32 ", "GB82WEST12345698765432");
	refused(&f, "DE89 3704 0044 0532 0130 01", "IBAN");
}

/* --- dates --- */

static void
date_parse(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "2024-02-29", "2024-02-29" }, { "2000-02-29", "2000-02-29" },
		{ "30.11.2026", "2026-11-30" }, { "01.01.1970", "1970-01-01" },
		{ "2026-12-31", "2026-12-31" }, { "31.01.2026", "2026-01-31" },
	};
	static const char *bad[] = {
		"2023-02-29", "1900-02-29", "29.02.2023", "2026-13-01", "2026-00-10",
		"2026-04-31", "31.04.2026", "2026-11-00", "2026-1-1", "1.1.2026",
		"2026-11-30x", "2026-11-30 ", " 2026-11-30", "2026/11/30", "30-11-2026",
		"2026-+1-01", "2026- 1-01", "2026-11--1", "26-11-30", "", "2026-11-3",
		"30.11.26", "0999-01-01", "2026.11-30",
	};
	char out[11];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		memset(out, 'x', sizeof out);
		if (bb_date_parse(good[i].in, out) != 0)
			fail_msg("'%s' refused", good[i].in);
		assert_string_equal(out, good[i].out);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (bb_date_parse(bad[i], out) == 0)
			fail_msg("'%s' accepted as %s", bad[i], out);
}

static void
date_field(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_DATE);
	converts_to(&f, "30.11.2026", "2026-11-30");
	converts_to(&f, " 2026-11-30 ", "2026-11-30");
	refused(&f, "2023-02-29", "date");
	refused(&f, "morgen", "date");
}

/* --- countries --- */

static void
country_valid(void **state)
{
	(void)state;
	assert_true(bb_country_valid("DE"));
	assert_true(bb_country_valid("AT"));
	assert_true(bb_country_valid("AD"));	/* first of the list */
	assert_true(bb_country_valid("ZW"));	/* last of the list */
	assert_false(bb_country_valid("XX"));
	assert_false(bb_country_valid("ZZ"));
	assert_false(bb_country_valid("AA"));
	assert_false(bb_country_valid("UK"));	/* GB is the code */
	assert_false(bb_country_valid("de"));
	assert_false(bb_country_valid("De"));
	assert_false(bb_country_valid("D"));
	assert_false(bb_country_valid("DEU"));
	assert_false(bb_country_valid(""));
	assert_false(bb_country_valid("D "));
}

static void
country_field(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_COUNTRY);
	converts_to(&f, "de", "DE");
	converts_to(&f, " at ", "AT");
	refused(&f, "XX", "country");
	refused(&f, "DEU", "country");
}

/* --- date bounds --- */

static int
days_in(int y, int m)
{
	struct tm tm;

	/* Day 0 of the next month is the last day of this one. */
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m;		/* 0-based: the month after m */
	tm.tm_mday = 0;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	mktime(&tm);
	return tm.tm_mday;
}

/* Today plus amount units, computed here, as YYYY-MM-DD. */
static void
expected_date(int amount, char unit, char out[11])
{
	time_t now = time(NULL);
	struct tm tm;
	int y, m, d, idx;

	localtime_r(&now, &tm);
	if (unit == 'd' || unit == 'w') {
		tm.tm_mday += amount * (unit == 'w' ? 7 : 1);
		tm.tm_hour = 12;
		tm.tm_isdst = -1;
		mktime(&tm);
		ymd(&tm, out);
		return;
	}
	/* Months and years: the same day, or the month's last when it has fewer. */
	idx = (tm.tm_year + 1900) * 12 + tm.tm_mon + (unit == 'y' ? 12 * amount : amount);
	y = idx / 12;
	m = idx % 12 + 1;
	d = tm.tm_mday;
	if (d > days_in(y, m))
		d = days_in(y, m);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	ymd(&tm, out);
}

static void
assert_bound(int amount, char unit)
{
	struct bb_datebound b;
	char got[11], before[11], after[11];

	memset(&b, 0, sizeof b);
	b.set = 1;
	b.relative = 1;
	b.amount = amount;
	b.unit = unit;
	expected_date(amount, unit, before);
	assert_int_equal(bb_datebound_resolve(&b, got), 0);
	expected_date(amount, unit, after);
	/* Around midnight either day is right. */
	if (strcmp(got, before) != 0 && strcmp(got, after) != 0)
		fail_msg("today %+d%c: got %s, expected %s", amount, unit, got, before);
}

static void
datebound_relative(void **state)
{
	(void)state;
	assert_bound(0, 'd');
	assert_bound(-14, 'd');
	assert_bound(1, 'd');
	assert_bound(400, 'd');
	assert_bound(1, 'w');
	assert_bound(-6, 'w');
	assert_bound(-18, 'y');
	assert_bound(100, 'y');
	assert_bound(1, 'm');
	assert_bound(-1, 'm');
	assert_bound(11, 'm');
	assert_bound(12, 'm');
	assert_bound(-12, 'm');
	assert_bound(-13, 'm');
	assert_bound(25, 'm');
	assert_bound(-25, 'm');
}

/* today itself, independently of the helper above. */
static void
datebound_today(void **state)
{
	struct bb_datebound b;
	char got[11], want[11];
	time_t now;
	struct tm tm;

	(void)state;
	memset(&b, 0, sizeof b);
	b.set = b.relative = 1;
	b.unit = 'd';
	assert_int_equal(bb_datebound_resolve(&b, got), 0);
	now = time(NULL);
	localtime_r(&now, &tm);
	ymd(&tm, want);
	assert_string_equal(got, want);	/* fails only in the second around midnight */
}

static void
datebound_absolute(void **state)
{
	struct bb_datebound b;
	char got[11];

	(void)state;
	memset(&b, 0, sizeof b);
	b.set = 1;
	strcpy(b.date, "2026-01-31");
	assert_int_equal(bb_datebound_resolve(&b, got), 0);
	assert_string_equal(got, "2026-01-31");
}

/* On a chosen day: "today" plus amount units resolves to want. */
static void
bound_on(const char *today, int hour, int amount, char unit, const char *want)
{
	struct bb_datebound b;
	char got[11];
	int y, m, d;

	assert_int_equal(sscanf(today, "%d-%d-%d", &y, &m, &d), 3);
	set_clock(y, m, d, hour, 30);
	memset(&b, 0, sizeof b);
	b.set = b.relative = 1;
	b.amount = amount;
	b.unit = unit;
	assert_int_equal(bb_datebound_resolve(&b, got), 0);
	if (strcmp(got, want) != 0)
		fail_msg("%s %02d:30 %+d%c: got %s, expected %s", today, hour, amount, unit,
		    got, want);
}

/* A month or year later on a day the target month lacks is that month's last day. */
static void
datebound_month_ends(void **state)
{
	(void)state;
	bound_on("2026-01-31", 12, 1, 'm', "2026-02-28");
	bound_on("2024-01-31", 12, 1, 'm', "2024-02-29");
	bound_on("2026-03-31", 12, -1, 'm', "2026-02-28");
	bound_on("2026-05-31", 12, 1, 'm', "2026-06-30");
	bound_on("2026-12-31", 12, 2, 'm', "2027-02-28");
	bound_on("2026-01-15", 12, -13, 'm', "2024-12-15");
	bound_on("2026-12-15", 12, 1, 'm', "2027-01-15");
	bound_on("2026-01-15", 12, -1, 'm', "2025-12-15");
	bound_on("2026-08-31", 12, -6, 'm', "2026-02-28");
	bound_on("2024-02-29", 12, -18, 'y', "2006-02-28");
	bound_on("2024-02-29", 12, 4, 'y', "2028-02-29");
	bound_on("2024-02-29", 12, 1, 'y', "2025-02-28");
}

/* Days and weeks across month and year ends, leap days and the nights the clocks
 * change (29 March and 25 October 2026), also just after and before midnight. */
static void
datebound_day_edges(void **state)
{
	(void)state;
	bound_on("2026-03-01", 12, -1, 'd', "2026-02-28");
	bound_on("2024-03-01", 12, -1, 'd', "2024-02-29");
	bound_on("2026-12-28", 12, 1, 'w', "2027-01-04");
	bound_on("2026-01-03", 12, -1, 'w', "2025-12-27");
	bound_on("2026-03-28", 12, 1, 'd', "2026-03-29");
	bound_on("2026-03-29", 12, 1, 'd', "2026-03-30");
	bound_on("2026-03-30", 0, -1, 'd', "2026-03-29");
	bound_on("2026-03-29", 0, -14, 'd', "2026-03-15");
	bound_on("2026-10-25", 23, 1, 'd', "2026-10-26");
	bound_on("2026-10-25", 0, -1, 'd', "2026-10-24");
	bound_on("2026-10-26", 0, -1, 'd', "2026-10-25");
	bound_on("2026-11-30", 23, 0, 'd', "2026-11-30");
	bound_on("2026-11-30", 0, 0, 'd', "2026-11-30");
}

/* Bounds through bb_field_check: a birth date at least 18 years ago, and an absolute
 * latest date. The reasons name the bound, never the value. */
static void
date_field_bounds(void **state)
{
	struct bb_field f;
	char why[256], adult[11], minor[11];
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	field_init(&f, BB_F_DATE);
	f.dmax.set = f.dmax.relative = 1;
	f.dmax.amount = -18;
	f.dmax.unit = 'y';
	f.dmax.spec = "-18y";
	localtime_r(&now, &tm);
	tm.tm_year -= 19;
	tm.tm_mday = 1;
	ymd(&tm, adult);
	tm.tm_year += 2;
	ymd(&tm, minor);
	assert_int_equal(check(&f, json_string(adult), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string(minor), why, sizeof why), -1);
	assert_non_null(strstr(why, "later than"));
	assert_non_null(strstr(why, "-18y"));
	assert_null(strstr(why, minor));

	field_init(&f, BB_F_DATE);
	f.dmin.set = 1;
	strcpy(f.dmin.date, "2026-01-01");
	f.dmin.spec = "2026-01-01";
	f.dmax.set = 1;
	strcpy(f.dmax.date, "2026-12-31");
	f.dmax.spec = "2026-12-31";
	assert_int_equal(check(&f, json_string("2026-01-01"), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("31.12.2026"), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("2025-12-31"), why, sizeof why), -1);
	assert_non_null(strstr(why, "earlier than 2026-01-01"));
	assert_null(strstr(why, "2025"));
	assert_int_equal(check(&f, json_string("2027-01-01"), why, sizeof why), -1);
	assert_non_null(strstr(why, "later than 2026-12-31"));
	assert_null(strstr(why, "2027"));
}

/* --- numbers --- */

static void
number_field(void **state)
{
	struct bb_field f;
	char why[256];
	json_t *v;

	(void)state;
	field_init(&f, BB_F_NUMBER);
	v = convert(&f, json_string("2,5"), why, sizeof why);
	assert_non_null(v);
	assert_true(json_is_real(v));
	assert_true(json_real_value(v) == 2.5);
	json_decref(v);
	v = convert(&f, json_string("-0.25"), why, sizeof why);
	assert_true(json_number_value(v) == -0.25);
	json_decref(v);
	v = convert(&f, json_string(" 42 "), why, sizeof why);
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 42);
	json_decref(v);
	v = convert(&f, json_integer(7), why, sizeof why);
	assert_int_equal(json_integer_value(v), 7);
	json_decref(v);
	v = convert(&f, json_real(1.5), why, sizeof why);
	assert_true(json_number_value(v) == 1.5);
	json_decref(v);
	v = convert(&f, json_string("1e3"), why, sizeof why);
	assert_true(json_number_value(v) == 1000);
	json_decref(v);

	refused(&f, "abc", "number");
	refused(&f, "", "number");
	refused(&f, "1,5,5", "number");
	refused(&f, "--1", "number");
	refused(&f, "1e999", "number");
	refused(&f, "nan", "number");
	refused(&f, "inf", "number");
	refused(&f, "0x10", "number");
	refused(&f, "1 000", "number");
}

static void
integer_field(void **state)
{
	struct bb_field f;
	char why[256];
	json_t *v;

	(void)state;
	field_init(&f, BB_F_NUMBER);
	f.integer = 1;
	refused(&f, "2.5", "whole number");
	refused(&f, "2,5", "whole number");
	v = convert(&f, json_real(2.5), why, sizeof why);
	assert_null(v);
	v = convert(&f, json_string("2,0"), why, sizeof why);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 2);
	json_decref(v);
	v = convert(&f, json_string("-3"), why, sizeof why);
	assert_int_equal(json_integer_value(v), -3);
	json_decref(v);
}

static void
number_bounds(void **state)
{
	struct bb_field f;
	char why[256];

	(void)state;
	field_init(&f, BB_F_NUMBER);
	f.has_min = f.has_max = 1;
	f.min = 0;
	f.max = 10;
	assert_int_equal(check(&f, json_string("0"), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("10"), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("10,5"), why, sizeof why), -1);
	assert_non_null(strstr(why, "more than 10"));
	assert_int_equal(check(&f, json_string("-1"), why, sizeof why), -1);
	assert_non_null(strstr(why, "less than 0"));
}

/* --- e-mail, telephone, postal code --- */

static void
email_field(void **state)
{
	static const char *bad[] = {
		"a@b", "@b.de", "a b@c.de", "a@@b.de", "a@b@c.de", "a@b.c", "a..b@c.de",
		".a@b.de", "a.@b.de", "a@b..de", "a@-b.de", "a@.b.de", "a@b.de.", "a", "",
		"a<b>@c.de",
	};
	struct bb_field f;
	size_t i;

	(void)state;
	field_init(&f, BB_F_EMAIL);
	converts_to(&f, "a@b.de", "a@b.de");
	converts_to(&f, " erika.mustermann+bb@example.org ", "erika.mustermann+bb@example.org");
	converts_to(&f, "info@stadt-bonn.de", "info@stadt-bonn.de");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(&f, bad[i], "e-mail");
}

static void
phone_field(void **state)
{
	static const char *bad[] = { "12", "abc", "0721+5", "", "+", "0721 133 0x",
	    "++49 721 1330", "0721.133.0", "123456789012345678901" };
	struct bb_field f;
	size_t i;

	(void)state;
	field_init(&f, BB_F_PHONE);
	converts_to(&f, "+49 721 133-0", "+49 721 133-0");
	converts_to(&f, "0721/133-0", "0721/133-0");
	converts_to(&f, "(0721) 1330", "(0721) 1330");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(&f, bad[i], "telephone");
}

static void
postal_field(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_POSTAL);
	converts_to(&f, "76133", "76133");
	converts_to(&f, "01067", "01067");
	refused(&f, "7613", "postal");
	refused(&f, "761333", "postal");
	refused(&f, "7613a", "postal");
	refused(&f, "D-76133", "postal");
}

/* --- yes/no fields --- */

static void
assert_bool(const struct bb_field *f, json_t *in, int want)
{
	char why[256];
	json_t *v = convert(f, in, why, sizeof why);

	if (v == NULL)
		fail_msg("refused: %s", why);
	assert_true(json_is_boolean(v));
	assert_int_equal(json_is_true(v), want);
	json_decref(v);
}

static void
checkbox_field(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_CHECKBOX);
	assert_bool(&f, json_string("ja"), 1);
	assert_bool(&f, json_string("Ja"), 1);
	assert_bool(&f, json_string("nein"), 0);
	assert_bool(&f, json_string("1"), 1);
	assert_bool(&f, json_string("0"), 0);
	assert_bool(&f, json_string("yes"), 1);
	assert_bool(&f, json_string("no"), 0);
	assert_bool(&f, json_true(), 1);
	assert_bool(&f, json_false(), 0);
	assert_bool(&f, json_integer(1), 1);
	assert_bool(&f, json_integer(0), 0);
	refused(&f, "vielleicht", "yes or no");
	refused(&f, "", "yes or no");
	refused(&f, "2", "yes or no");
}

static void
consent_field(void **state)
{
	struct bb_field f;
	char why[256];

	(void)state;
	field_init(&f, BB_F_CONSENT);
	assert_int_equal(check(&f, json_false(), why, sizeof why), -1);
	assert_non_null(strstr(why, "must be accepted"));
	assert_int_equal(check(&f, json_string("nein"), why, sizeof why), -1);
	assert_non_null(strstr(why, "must be accepted"));
	assert_int_equal(check(&f, json_true(), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("ja"), why, sizeof why), 0);
}

/* --- text --- */

static void
text_length_counts_characters(void **state)
{
	struct bb_field f;
	char why[256];

	(void)state;
	field_init(&f, BB_F_TEXT);
	f.max_length = 3;
	/* "äöü" is 6 bytes but 3 characters. */
	assert_int_equal(check(&f, json_string("\xc3\xa4\xc3\xb6\xc3\xbc"), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f"), why,
	    sizeof why), -1);
	assert_non_null(strstr(why, "longer than 3"));
	/* A character outside the BMP counts once too. */
	assert_int_equal(check(&f, json_string("ab\xf0\x9f\x98\x80"), why, sizeof why), 0);
	f.max_length = -1;
	f.min_length = 4;
	assert_int_equal(check(&f, json_string("\xc3\xa4\xc3\xb6\xc3\xbc"), why, sizeof why), -1);
	assert_non_null(strstr(why, "shorter than 4"));
	assert_int_equal(check(&f, json_string("abcd"), why, sizeof why), 0);
}

static void
text_control_characters(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_TEXT);
	refused(&f, "a\tb", "control");
	refused(&f, "a\nb", "control");
	refused(&f, "a\x01" "b", "control");
	refused(&f, "a\x1b[31mb", "control");
	refused(&f, "a\x7f" "b", "control");
	refused(&f, "\x7f", "control");
	/* Surrounding white space is trimmed, not refused. */
	converts_to(&f, "  Bonn \n", "Bonn");
	converts_to(&f, "K\xc3\xb6ln", "K\xc3\xb6ln");
}

static void
text_pattern(void **state)
{
	struct bb_field f;
	char why[256];

	(void)state;
	field_init(&f, BB_F_TEXT);
	assert_int_equal(regcomp(&f.re, "^[0-9]{2}[A-Z]$", REG_EXTENDED | REG_NOSUB), 0);
	f.has_re = 1;
	assert_int_equal(check(&f, json_string("12A"), why, sizeof why), 0);
	assert_int_equal(check(&f, json_string("12a"), why, sizeof why), -1);
	assert_non_null(strstr(why, "required form"));
	regfree(&f.re);
}

static void
text_wrong_input_kinds(void **state)
{
	struct bb_field f;
	char why[256];

	(void)state;
	field_init(&f, BB_F_TEXT);
	assert_null(convert(&f, json_pack("[s]", "a"), why, sizeof why));
	assert_null(convert(&f, json_object(), why, sizeof why));
	assert_null(convert(&f, json_null(), why, sizeof why));
	assert_null(convert(&f, json_true(), why, sizeof why));
}

/* --- options, groups --- */

static void
select_field(void **state)
{
	struct bb_field f;

	(void)state;
	field_init(&f, BB_F_SELECT);
	f.options = two_options;
	f.noptions = 2;
	converts_to(&f, "a", "a");
	converts_to(&f, " b ", "b");
	refused(&f, "c", "options");
	refused(&f, "A", "options");	/* the label is not the value */
}

static void
multi_field(void **state)
{
	struct bb_field f;
	char why[256];
	json_t *v, *want;

	(void)state;
	field_init(&f, BB_F_MULTI);
	f.options = two_options;
	f.noptions = 2;
	v = convert(&f, json_string("a, b"), why, sizeof why);
	want = json_pack("[s,s]", "a", "b");
	assert_true(json_equal(v, want));
	json_decref(v);
	v = convert(&f, json_pack("[s,s]", "b", "a"), why, sizeof why);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
	json_decref(want);
	assert_null(convert(&f, json_pack("[s,s]", "a", "a"), why, sizeof why));
	assert_non_null(strstr(why, "twice"));
	assert_null(convert(&f, json_pack("[s]", "c"), why, sizeof why));
	assert_null(convert(&f, json_pack("[i]", 1), why, sizeof why));
	assert_null(convert(&f, json_integer(1), why, sizeof why));
	f.has_min = 1;
	f.min = 2;
	assert_int_equal(check(&f, json_pack("[s]", "a"), why, sizeof why), -1);
	assert_non_null(strstr(why, "at least 2"));
	assert_int_equal(check(&f, json_pack("[s,s]", "a", "b"), why, sizeof why), 0);
}

static void
group_field(void **state)
{
	struct bb_field f;
	char why[256];
	json_t *v, *in = json_pack("{s:s}", "street", "Berliner Platz 2");

	(void)state;
	field_init(&f, BB_F_ADDRESS);
	json_incref(in);
	v = convert(&f, in, why, sizeof why);
	assert_true(json_equal(v, in));
	assert_true(v != in);	/* a copy */
	json_decref(v);
	json_decref(in);
	assert_null(convert(&f, json_string("Berliner Platz 2"), why, sizeof why));
	field_init(&f, BB_F_GROUP);
	f.repeat = 1;
	v = convert(&f, json_pack("[{}]"), why, sizeof why);
	assert_true(json_is_array(v));
	json_decref(v);
	assert_null(convert(&f, json_object(), why, sizeof why));
}

/* --- reasons never hold the value --- */

static void
reasons_never_hold_the_value(void **state)
{
	static const enum bb_ftype types[] = {
		BB_F_TEXT, BB_F_NUMBER, BB_F_DATE, BB_F_SELECT, BB_F_MULTI, BB_F_CHECKBOX,
		BB_F_CONSENT, BB_F_EMAIL, BB_F_PHONE, BB_F_POSTAL, BB_F_IBAN, BB_F_COUNTRY,
		BB_F_ADDRESS, BB_F_GROUP,
	};
	static const char *inputs[] = {
		"Zaphod", "Zaphod\x01", "Zaphod@", "Zaphod@Beeblebrox", "+49 Zaphod",
		"Zaphod,Zaphod", "12.34.Zaphod", "ZaphodZaphodZaphodZaphodZaphodZaphod",
	};
	struct bb_field f;
	char why[512];
	json_t *v, *in;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		for (j = 0; j < sizeof inputs / sizeof inputs[0]; j++) {
			field_init(&f, types[i]);
			f.options = two_options;
			f.noptions = 2;
			f.max_length = 3;
			f.min_length = 1;
			memset(why, 0, sizeof why);
			in = json_string(inputs[j]);
			v = bb_field_convert(&f, in, why, sizeof why);
			json_decref(in);
			if (strstr(why, "Zaphod") != NULL || strstr(why, "aphod") != NULL)
				fail_msg("%s: reason '%s' holds the value",
				    bb_ftype_name(types[i]), why);
			if (v != NULL) {
				memset(why, 0, sizeof why);
				bb_field_check(&f, v, why, sizeof why);
				if (strstr(why, "aphod") != NULL)
					fail_msg("%s: check reason '%s' holds the value",
					    bb_ftype_name(types[i]), why);
				json_decref(v);
			}
		}
	}
	/* A list for a multi-select. */
	field_init(&f, BB_F_MULTI);
	f.options = two_options;
	f.noptions = 2;
	v = json_pack("[s]", "Zaphod");
	assert_null(bb_field_convert(&f, v, why, sizeof why));
	assert_null(strstr(why, "Zaphod"));
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iban_valid),
		cmocka_unit_test(iban_invalid),
		cmocka_unit_test(iban_field),
		cmocka_unit_test(date_parse),
		cmocka_unit_test(date_field),
		cmocka_unit_test(country_valid),
		cmocka_unit_test(country_field),
		cmocka_unit_test(datebound_relative),
		cmocka_unit_test(datebound_today),
		cmocka_unit_test(datebound_absolute),
		cmocka_unit_test_teardown(datebound_month_ends, reset_clock),
		cmocka_unit_test_teardown(datebound_day_edges, reset_clock),
		cmocka_unit_test(date_field_bounds),
		cmocka_unit_test(number_field),
		cmocka_unit_test(integer_field),
		cmocka_unit_test(number_bounds),
		cmocka_unit_test(email_field),
		cmocka_unit_test(phone_field),
		cmocka_unit_test(postal_field),
		cmocka_unit_test(checkbox_field),
		cmocka_unit_test(consent_field),
		cmocka_unit_test(text_length_counts_characters),
		cmocka_unit_test(text_control_characters),
		cmocka_unit_test(text_pattern),
		cmocka_unit_test(text_wrong_input_kinds),
		cmocka_unit_test(select_field),
		cmocka_unit_test(multi_field),
		cmocka_unit_test(group_field),
		cmocka_unit_test(reasons_never_hold_the_value),
	};

	return cmocka_run_group_tests_name("form_values", tests, NULL, NULL);
}
