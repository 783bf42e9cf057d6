/* Field values: converting input to each type's normal form, and checking the rules.
 * Reasons name the rule, never the value: they end up on stderr. */
#include "form.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void __attribute__((format(printf, 3, 4)))
why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static void
format_date(char out[11], int y, int m, int d)
{
	char buf[40];

	snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

int
bb_date_parse(const char *s, char out[11])
{
	int y, m, d, n = 0;

	if (strlen(s) != 10)
		return -1;
	if (s[4] == '-' && s[7] == '-' &&
	    sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10)
		;
	else if (s[2] == '.' && s[5] == '.' &&
	    sscanf(s, "%2d.%2d.%4d%n", &d, &m, &y, &n) == 3 && n == 10)
		;
	else
		return -1;
	if (strspn(s, "0123456789-.") != 10)
		return -1;
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	format_date(out, y, m, d);
	return 0;
}

int
bb_datebound_resolve(const struct bb_datebound *b, char out[11])
{
	time_t now;
	struct tm tm;
	int y, m, d;

	if (!b->relative) {
		memcpy(out, b->date, 11);
		return 0;
	}
	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL)
		return -1;
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	switch (b->unit) {
	case 'y':
		y += b->amount;
		break;
	case 'm':
		m += b->amount;
		y += (m - 1 >= 0 ? (m - 1) / 12 : -((12 - m) / 12));
		m = ((m - 1) % 12 + 12) % 12 + 1;
		break;
	case 'w':
	case 'd':
		tm.tm_mday += b->amount * (b->unit == 'w' ? 7 : 1);
		tm.tm_hour = 12;	/* away from DST edges */
		if (mktime(&tm) == (time_t)-1)
			return -1;
		y = tm.tm_year + 1900;
		m = tm.tm_mon + 1;
		d = tm.tm_mday;
		break;
	}
	/* 31 January plus a month is the last day of February, not 3 March. */
	if (d > days_in_month(y, m))
		d = days_in_month(y, m);
	format_date(out, y, m, d);
	return 0;
}

/* ISO 3166-1 alpha-2, officially assigned codes. */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN "
    "BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL "
    "GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM "
    "JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
    "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD "
    "SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

int
bb_country_valid(const char *code)
{
	const char *p;

	if (strlen(code) != 2 || !isupper((unsigned char)code[0]) ||
	    !isupper((unsigned char)code[1]))
		return 0;
	/* Entries are "XX " with no space after the last: step by 3 within the bounds. */
	for (p = countries; p + 1 < countries + sizeof countries - 1; p += 3)
		if (p[0] == code[0] && p[1] == code[1])
			return 1;
	return 0;
}

/* IBAN lengths (ISO 13616 registry) for the SEPA countries and neighbours. */
static int
iban_length(const char *cc)
{
	static const struct {
		char cc[3];
		int len;
	} t[] = {
		{ "AD", 24 }, { "AT", 20 }, { "BE", 16 }, { "BG", 22 }, { "CH", 21 },
		{ "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DK", 18 }, { "EE", 20 },
		{ "ES", 24 }, { "FI", 18 }, { "FR", 27 }, { "GB", 22 }, { "GI", 23 },
		{ "GR", 27 }, { "HR", 21 }, { "HU", 28 }, { "IE", 22 }, { "IS", 26 },
		{ "IT", 27 }, { "LI", 21 }, { "LT", 20 }, { "LU", 20 }, { "LV", 21 },
		{ "MC", 27 }, { "MT", 31 }, { "NL", 18 }, { "NO", 15 }, { "PL", 28 },
		{ "PT", 25 }, { "RO", 24 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 },
		{ "SM", 27 }, { "VA", 22 },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strncmp(t[i].cc, cc, 2) == 0)
			return t[i].len;
	return 0;
}

int
bb_iban_valid(const char *iban)
{
	size_t len = strlen(iban), i;
	int want, rem = 0;

	if (len < 15 || len > 34 || !isupper((unsigned char)iban[0]) ||
	    !isupper((unsigned char)iban[1]) || !isdigit((unsigned char)iban[2]) ||
	    !isdigit((unsigned char)iban[3]))
		return 0;
	want = iban_length(iban);
	if (want != 0 && (size_t)want != len)
		return 0;
	/* mod 97 of the number formed by moving the first four characters to the end and
	 * replacing letters by 10..35; done digit by digit. */
	for (i = 0; i < len; i++) {
		char ch = iban[(i + 4) % len];
		if (isdigit((unsigned char)ch))
			rem = (rem * 10 + (ch - '0')) % 97;
		else if (isupper((unsigned char)ch))
			rem = (rem * 100 + (ch - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

/* Number of UTF-8 code points (the input is valid UTF-8: jansson checks it). */
static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A string input for a scalar type, trimmed; NULL if in is no string or number. */
static char *
input_string(const json_t *in)
{
	const char *s, *e;
	char buf[64];

	if (json_is_integer(in)) {
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(in));
		return strdup(buf);
	}
	if (json_is_real(in)) {
		snprintf(buf, sizeof buf, "%.15g", json_real_value(in));
		return strdup(buf);
	}
	if (!json_is_string(in))
		return NULL;
	s = json_string_value(in);
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return strndup(s, (size_t)(e - s));
}

static json_t *
convert_bool(const json_t *in, char *why, size_t len)
{
	static const char *yes[] = { "true", "yes", "ja", "1", "on", NULL };
	static const char *no[] = { "false", "no", "nein", "0", "off", NULL };
	const char *s;
	int i;

	if (json_is_boolean(in))
		return json_boolean(json_is_true(in));
	if (json_is_integer(in) && (json_integer_value(in) == 0 || json_integer_value(in) == 1))
		return json_boolean(json_integer_value(in));
	if ((s = json_string_value(in)) != NULL)
		for (i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(s, yes[i]) == 0)
				return json_true();
			if (strcasecmp(s, no[i]) == 0)
				return json_false();
		}
	why_set(why, len, "expected yes or no");
	return NULL;
}

static int
is_option(const struct bb_field *f, const char *v)
{
	size_t i;

	for (i = 0; i < f->noptions; i++)
		if (strcmp(f->options[i].value, v) == 0)
			return 1;
	return 0;
}

static json_t *
convert_multi(const struct bb_field *f, const json_t *in, char *why, size_t len)
{
	json_t *out = json_array(), *v;
	size_t i, j;

	if (json_is_string(in)) {
		/* --set gives "a,b,c" */
		char *copy = strdup(json_string_value(in)), *tok, *save = NULL;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *end;
			while (isspace((unsigned char)*tok))
				tok++;
			end = tok + strlen(tok);
			while (end > tok && isspace((unsigned char)end[-1]))
				*--end = '\0';
			if (*tok != '\0')
				json_array_append_new(out, json_string(tok));
		}
		free(copy);
	} else if (json_is_array(in)) {
		json_array_foreach(in, i, v) {
			if (!json_is_string(v)) {
				json_decref(out);
				why_set(why, len, "expected a list of options");
				return NULL;
			}
			json_array_append(out, v);
		}
	} else {
		json_decref(out);
		why_set(why, len, "expected a list of options");
		return NULL;
	}
	json_array_foreach(out, i, v) {
		if (!is_option(f, json_string_value(v))) {
			json_decref(out);
			why_set(why, len, "not one of the options");
			return NULL;
		}
		for (j = 0; j < i; j++)
			if (json_equal(json_array_get(out, j), v)) {
				json_decref(out);
				why_set(why, len, "an option is chosen twice");
				return NULL;
			}
	}
	/* The normal form lists them in the definition's order: the order they were
	 * ticked in on a screen, or written in, says nothing. */
	{
		json_t *sorted = json_array();
		for (j = 0; j < f->noptions; j++)
			json_array_foreach(out, i, v)
				if (strcmp(json_string_value(v), f->options[j].value) == 0)
					json_array_append(sorted, v);
		json_decref(out);
		out = sorted;
	}
	return out;
}

static json_t *
convert_number(const struct bb_field *f, const char *s, char *why, size_t len)
{
	char buf[64], *end, *p;
	double d;

	if (strlen(s) >= sizeof buf || *s == '\0') {
		why_set(why, len, "expected a number");
		return NULL;
	}
	strcpy(buf, s);
	/* German decimal comma */
	if ((p = strchr(buf, ',')) != NULL && strchr(buf, '.') == NULL)
		*p = '.';
	if (strspn(buf, "+-0123456789.eE") != strlen(buf)) {
		why_set(why, len, "expected a number");
		return NULL;
	}
	errno = 0;
	d = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || d != d) {
		why_set(why, len, "expected a number");
		return NULL;
	}
	if (d == (double)(long long)d && d > -1e15 && d < 1e15)
		return json_integer((long long)d);
	if (f->integer) {
		why_set(why, len, "expected a whole number");
		return NULL;
	}
	return json_real(d);
}

static int
email_valid(const char *s)
{
	const char *at = strchr(s, '@'), *p, *dot;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL || strlen(s) > 254)
		return 0;
	for (p = s; p < at; p++)
		if (!isalnum((unsigned char)*p) && strchr(".!#$%&'*+/=?^_`{|}~-", *p) == NULL &&
		    !((unsigned char)*p & 0x80))
			return 0;
	if (*s == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	dot = strrchr(at + 1, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0')
		return 0;
	for (p = at + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    !((unsigned char)*p & 0x80))
			return 0;
	return at[1] != '-' && at[1] != '.' && strlen(dot + 1) >= 2;
}

static int
phone_valid(const char *s)
{
	int digits = 0;
	const char *p;

	for (p = s; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '+' && p != s)
			return 0;
		else if (strchr("+ /-()", *p) == NULL)
			return 0;
	}
	return digits >= 6 && digits <= 20;
}

json_t *
bb_field_convert(const struct bb_field *f, const json_t *in, char *why, size_t len)
{
	char *s = NULL, date[11], *w, *r;
	json_t *out = NULL;

	switch (f->type) {
	case BB_F_MULTI:
		return convert_multi(f, in, why, len);
	case BB_F_CHECKBOX:
	case BB_F_CONSENT:
		return convert_bool(in, why, len);
	case BB_F_GROUP:
	case BB_F_ADDRESS:
		if (f->repeat ? json_is_array(in) : json_is_object(in))
			return json_deep_copy(in);
		why_set(why, len, f->repeat ? "expected a list" : "expected an object");
		return NULL;
	default:
		break;
	}
	if ((s = input_string(in)) == NULL) {
		why_set(why, len, json_is_boolean(in) || json_is_null(in) ?
		    "expected a value" : "expected a single value, not a list or object");
		return NULL;
	}
	if (json_is_string(in) && has_control(s)) {
		why_set(why, len, "contains control characters");
		free(s);
		return NULL;
	}
	switch (f->type) {
	case BB_F_TEXT:
		out = json_string(s);
		if (out == NULL)
			why_set(why, len, "not valid UTF-8");
		break;
	case BB_F_NUMBER:
		out = convert_number(f, s, why, len);
		break;
	case BB_F_DATE:
		if (bb_date_parse(s, date) == 0)
			out = json_string(date);
		else
			why_set(why, len, "expected a date (YYYY-MM-DD or DD.MM.YYYY)");
		break;
	case BB_F_SELECT:
		if (is_option(f, s))
			out = json_string(s);
		else
			why_set(why, len, "not one of the options");
		break;
	case BB_F_EMAIL:
		if (email_valid(s))
			out = json_string(s);
		else
			why_set(why, len, "not an e-mail address");
		break;
	case BB_F_PHONE:
		if (phone_valid(s))
			out = json_string(s);
		else
			why_set(why, len, "not a telephone number");
		break;
	case BB_F_POSTAL:
		if (strlen(s) == 5 && strspn(s, "0123456789") == 5)
			out = json_string(s);
		else
			why_set(why, len, "expected a German postal code of 5 digits");
		break;
	case BB_F_IBAN:
		for (w = r = s; *r; r++)
			if (*r != ' ')
				*w++ = (char)toupper((unsigned char)*r);
		*w = '\0';
		if (bb_iban_valid(s))
			out = json_string(s);
		else
			why_set(why, len, "not a valid IBAN (check digits or length)");
		break;
	case BB_F_COUNTRY:
		for (w = s; *w; w++)
			*w = (char)toupper((unsigned char)*w);
		if (bb_country_valid(s))
			out = json_string(s);
		else
			why_set(why, len, "expected an ISO 3166 country code (DE, AT, …)");
		break;
	default:
		why_set(why, len, "cannot hold a value");
		break;
	}
	free(s);
	return out;
}

int
bb_field_check(const struct bb_field *f, const json_t *v, char *why, size_t len)
{
	char bound[11];
	size_t n;
	double d;

	switch (f->type) {
	case BB_F_TEXT:
	case BB_F_EMAIL:
	case BB_F_PHONE:
		n = utf8_len(json_string_value(v));
		if (f->min_length >= 0 && n < (size_t)f->min_length) {
			why_set(why, len, "shorter than %ld characters", f->min_length);
			return -1;
		}
		if (f->max_length >= 0 && n > (size_t)f->max_length) {
			why_set(why, len, "longer than %ld characters", f->max_length);
			return -1;
		}
		if (f->has_re && regexec(&f->re, json_string_value(v), 0, NULL, 0) != 0) {
			why_set(why, len, "does not have the required form");
			return -1;
		}
		break;
	case BB_F_NUMBER:
		d = json_number_value(v);
		if (f->has_min && d < f->min) {
			why_set(why, len, "less than %g", f->min);
			return -1;
		}
		if (f->has_max && d > f->max) {
			why_set(why, len, "more than %g", f->max);
			return -1;
		}
		break;
	case BB_F_DATE:
		if (f->dmin.set && bb_datebound_resolve(&f->dmin, bound) == 0 &&
		    strcmp(json_string_value(v), bound) < 0) {
			why_set(why, len, "earlier than %s (%s)", bound, f->dmin.spec);
			return -1;
		}
		if (f->dmax.set && bb_datebound_resolve(&f->dmax, bound) == 0 &&
		    strcmp(json_string_value(v), bound) > 0) {
			why_set(why, len, "later than %s (%s)", bound, f->dmax.spec);
			return -1;
		}
		break;
	case BB_F_MULTI:
		n = json_array_size(v);
		if (f->has_min && (double)n < f->min) {
			why_set(why, len, "choose at least %g", f->min);
			return -1;
		}
		if (f->has_max && (double)n > f->max) {
			why_set(why, len, "choose at most %g", f->max);
			return -1;
		}
		break;
	case BB_F_CONSENT:
		if (!json_is_true(v)) {
			why_set(why, len, "must be accepted");
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* The reasons above and bb_fill_validate's, as the screen says them in every language.
 * A reason with a number or date carries it after a fixed prefix. */
static const struct {
	const char *prefix, *key, *arg;
} reasons[] = {
	{ "required", "err.required", NULL },
	{ "must be accepted", "err.consent", NULL },
	{ "expected yes or no", "err.choice", NULL },
	{ "expected a list of options", "err.choice", NULL },
	{ "not one of the options", "err.choice", NULL },
	{ "an option is chosen twice", "err.choice", NULL },
	{ "expected a number", "err.number", NULL },
	{ "expected a whole number", "err.number", NULL },
	{ "expected a date", "err.date", NULL },
	{ "not an e-mail address", "err.email", NULL },
	{ "not a telephone number", "err.phone", NULL },
	{ "expected a German postal code", "err.postal", NULL },
	{ "not a valid IBAN", "err.iban", NULL },
	{ "expected an ISO 3166 country code", "err.country", NULL },
	{ "shorter than ", "err.too_short", "min" },
	{ "longer than ", "err.too_long", "max" },
	{ "does not have the required form", "err.pattern", NULL },
	{ "less than ", "err.min", "min" },
	{ "more than ", "err.max", "max" },
	{ "earlier than ", "err.date_min", "min" },
	{ "later than ", "err.date_max", "max" },
	{ "choose at least ", "err.choose_min", "min" },
	{ "choose at most ", "err.choose_max", "max" },
	{ "at least ", "err.entries_min", "min" },
	{ "at most ", "err.entries_max", "max" },
};

const char *
bb_reason_key(const char *why, json_t *args)
{
	size_t i, n;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		n = strlen(reasons[i].prefix);
		if (strncmp(why, reasons[i].prefix, n) != 0)
			continue;
		if (reasons[i].arg != NULL && args != NULL) {
			const char *a = why + n;
			size_t alen = strcspn(a, " ");
			char d[11];
			char buf[32];
			snprintf(buf, sizeof buf, "%.*s", (int)(alen < 31 ? alen : 31), a);
			/* A date as people write it here (the catalogues' example: 31.12.2026). */
			if (alen == 10 && bb_date_parse(buf, d) == 0)
				snprintf(buf, sizeof buf, "%.2s.%.2s.%.4s", d + 8, d + 5, d);
			json_object_set_new(args, reasons[i].arg, json_string(buf));
		}
		return reasons[i].key;
	}
	return "err.pattern";
}
