#!/bin/sh
# Personal data never reaches stderr or the log, at any verbosity, whatever fails.
. "${0%/*}/lib.sh"

write_identity_case id.json
F=$SERVICES/meldebescheinigung/form.yaml
A=$SERVICES/meldebescheinigung/example-answers.json
secret='ZAPHOD-BEEBLEBROX'
personal="MUSTERMANN ERIKA GABLER 1964-08-12 HEIDESTRASSE KÖLN 51147 $secret"

noleak() {	# noleak DESCRIPTION FILE
	leaked=""
	for v in $personal; do
		grep -q -F "$v" "$2" && leaked="$leaked $v"
	done
	check "$1${leaked:+ (leaked:$leaked)}" test -z "$leaked"
}

STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
ok "$rc" "a successful fill at the highest verbosity"
check_grep "the log names the event and the case id" "form.filled case=0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3" err
noleak "no personal value on stderr on success" err

STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers "$A" --set copies="$secret" \
	--set purpose="$(printf '%s\001' "$secret")" --set delivery="$secret"
check "validation fails" test "$rc" -eq 65
noleak "validation errors name fields, never values" err
check_grep "the event is logged with the case id" "form.invalid case=0b6c1d2e" err

# Every rule a value can fail, each value one a rule refuses (a value failing a pattern,
# a length or a range passes the type checks first, so only these reach the rule).
cat > rules.yaml <<'Y'
id: rules
version: 1
title: {de: Regeln, en: Rules}
leika: urn:de:fim:leika:leistung:99115005104000
target: inbox
sections:
  - id: s
    title: {de: S, en: S}
    fields:
      - {name: t_pattern, type: text, label: {de: A, en: A}, pattern: "[0-9]+"}
      - {name: t_short, type: text, label: {de: A, en: A}, min_length: 40}
      - {name: t_long, type: text, label: {de: A, en: A}, max_length: 5}
      - {name: e_short, type: email, label: {de: A, en: A}, min_length: 40}
      - {name: e_long, type: email, label: {de: A, en: A}, max_length: 5}
      - {name: e_bad, type: email, label: {de: A, en: A}}
      - {name: p_long, type: phone, label: {de: A, en: A}, max_length: 5}
      - {name: p_bad, type: phone, label: {de: A, en: A}}
      - {name: n_min, type: number, label: {de: A, en: A}, min: 90000000}
      - {name: n_max, type: number, label: {de: A, en: A}, max: 10}
      - {name: n_int, type: number, label: {de: A, en: A}, integer: true}
      - {name: n_bad, type: number, label: {de: A, en: A}}
      - {name: d_min, type: date, label: {de: A, en: A}, min: 1900-01-01}
      - {name: d_max, type: date, label: {de: A, en: A}, max: today}
      - {name: d_bad, type: date, label: {de: A, en: A}}
      - {name: postal, type: postal-code, label: {de: A, en: A}}
      - {name: iban, type: iban, label: {de: A, en: A}}
      - {name: country, type: country, label: {de: A, en: A}}
      - name: sel
        type: select
        label: {de: A, en: A}
        options: [{value: a, label: {de: A, en: A}}]
      - {name: ctrl, type: text, label: {de: A, en: A}}
Y
cat > rules-answers.json <<'J'
{"t_pattern": "PATTERN-ZAPHOD", "t_short": "SHORT-ZAPHOD", "t_long": "LONGER-ZAPHOD",
 "e_short": "short.zaphod@example.org", "e_long": "long.zaphod@example.org",
 "e_bad": "NOMAIL-ZAPHOD", "p_long": "+49 221 4711 0815", "p_bad": "PHONE-ZAPHOD",
 "n_min": 4242017, "n_max": 7342019, "n_int": 7342.5193, "n_bad": "NUMBER-ZAPHOD",
 "d_min": "1864-08-13", "d_max": "2999-08-14", "d_bad": "DATE-ZAPHOD",
 "postal": "POSTAL-ZAPHOD", "iban": "DE00ZAPHOD0815", "country": "ZAPHOD-LAND",
 "sel": "select-zaphod", "ctrl": "CTRL\u0001ZAPHOD"}
J
rule_values="PATTERN-ZAPHOD SHORT-ZAPHOD LONGER-ZAPHOD short.zaphod long.zaphod NOMAIL-ZAPHOD
4711 PHONE-ZAPHOD 4242017 7342019 7342.5193 NUMBER-ZAPHOD 1864-08-13 2999-08-14 DATE-ZAPHOD
POSTAL-ZAPHOD DE00ZAPHOD ZAPHOD-LAND select-zaphod ZAPHOD"
"$BB_FORM" check rules.yaml > out 2>&1
st=$?
ok $st "the form of every rule is valid"
[ $st -eq 0 ] || diag out
STDIN=id.json run "$BB_FORM" -vvv fill rules.yaml --answers rules-answers.json
check "every rule refuses its value" test "$rc" -eq 65
check "each field is named once" \
	test "$(grep -c -e ': t_' -e ': e_' -e ': p_' -e ': n_' -e ': d_' -e ': postal' -e ': iban' \
	-e ': country' -e ': sel' -e ': ctrl' err)" -eq 20
leaked=""
for v in $rule_values; do
	grep -q -F "$v" err && leaked="$leaked $v"
done
check "no refused value on stderr or in the log${leaked:+ (leaked:$leaked)}" test -z "$leaked"
[ -z "$leaked" ] || diag err
echo '{}' > none.json
: > set.err
for f in t_pattern t_short t_long e_long p_long n_min n_max n_int d_min d_max; do
	STDIN=id.json run "$BB_FORM" -vvv fill rules.yaml --answers none.json \
		--set "$f=$(jq -r --arg f "$f" '.[$f]' rules-answers.json)"
	cat err >> set.err
done
check "each value alone through --set is refused" \
	test "$(grep -c 'form.invalid.*problems=1$' set.err)" -eq 10
check_nogrep "and not echoed" "ZAPHOD\|zaphod\|4711\|4242017\|7342019\|7342.5193\|1864-08-13\|2999-08-14" set.err

STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers "$A" --set family_names="$secret"
noleak "a refused change of a locked field does not echo it" err

jq --arg s "$secret" '.id = $s' id.json > badid.json
STDIN=badid.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
noleak "a bad case id is not echoed" err

printf '{"purpose": "%s", ' "$secret" > broken.json
STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers broken.json
noleak "a broken answers file is not echoed" err

jq --arg s "$secret" '.identity.family_names = [$s]' id.json > typed.json
STDIN=typed.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
noleak "an identity value of the wrong type is not echoed" err

printf '{"bb": 1, "id": %s}' "$secret" > token.json
STDIN=token.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
check "a bare word in the case is invalid JSON" test "$rc" -eq 65
noleak "the offending token is not quoted" err
printf '{"purpose": %s}' "$secret" > tokenans.json
STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers tokenans.json
noleak "nor in an answers file" err

head -c 300 id.json > trunc.json
STDIN=trunc.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
noleak "a truncated case is not echoed" err

# bb-queue: adds, runs, failures and every view, at the highest verbosity.
S=$scratch/spool
"$BB_QUEUE" -vvv -d "$S" add id.json > out 2> err
noleak "bb-queue add logs no personal value" err
check_grep "bb-queue add logs the event with the case id" "queue.added case=0b6c1d2e" err
printf '#!/bin/sh\ncat > /dev/null; exit 65\n' > fail.sh
chmod +x fail.sh
"$BB_QUEUE" -vvv -d "$S" run --deliver ./fail.sh > out 2> err
noleak "bb-queue run logs no personal value" err
check_grep "bb-queue run logs the failure with the case id" "queue.failed case=0b6c1d2e" err
for cmd in "list --format json" "list --format text" "show 0b6c1d2e --format json" "stats --format json" "stats --format prometheus"; do
	"$BB_QUEUE" -vvv -d "$S" $cmd > out 2>&1
	noleak "bb-queue $cmd shows no personal value" out
done
jq '.bb = 9' id.json > v9.json
"$BB_QUEUE" -vvv -d "$S" add v9.json > out 2> err
noleak "a refused add does not echo the case" err

done_testing
