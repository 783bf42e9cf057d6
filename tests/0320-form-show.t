#!/bin/sh
# bb-form show: the form as a person reads it (text, German or English) and as the
# model screens use (JSON).
. "${0%/*}/lib.sh"

# The whole renderings of the registration form are in tests/data/expected/show/: a
# change to the form or to show is seen there first, then the checks below say what.
F=$SERVICES/wohnsitz-anmelden/form.yaml
X=$BB_TOP/tests/data/expected
expect_code 0 "show as JSON" "$BB_FORM" show "$F" --format json
check_same "the whole model" "$X/show/wohnsitz-anmelden.json" out
cp out model.json
check "the model names id, LeiKa key and sections" \
	jq -e '.id == "wohnsitz-anmelden" and .leika == "urn:de:fim:leika:leistung:99115005104000" and (.sections | length) > 0' model.json
check "every field has German and English labels" \
	jq -e '[.. | objects | select(has("type")) | .label.de, .label.en] | all(type == "string" and length > 0)' model.json
check "locked fields are marked" \
	jq -e '[.. | objects | select(.locked == true)] | length > 0' model.json
check "repeated groups carry their bounds" \
	jq -e '[.. | objects | select(.type == "group") | .repeat.max] | all(. > 0)' model.json
check "addresses list their parts" \
	jq -e '[.. | objects | select(.type == "address") | .fields | map(.name)] | all(. == ["street","addition","postal_code","city","country"])' model.json
expected=$(jq '[.sections[].fields[]] | length' model.json)
check "the registration form has its fields ($expected at the top level)" test "$expected" -gt 10

expect_code 0 "show as German text" "$BB_FORM" show "$F" --format text --lang de
check_same "the whole German text" "$X/show/wohnsitz-anmelden.de.txt" out
cp out de.txt
check_grep "German title" "^$(jq -r .title.de model.json)\$" de.txt
check_grep "required marks explained" "^\* Pflichtfeld$" de.txt
check_grep "prefilled fields say so" "vom Ausweis" de.txt
# previous_address is shown when moved_from_abroad is false: the text must say "nein".
label=$(jq -r '.sections[].fields[] | select(.name == "moved_from_abroad") | .label.de' model.json)
check_grep "a condition names the field and the value" "nur wenn $label: nein" de.txt
expect_code 0 "show as English text" "$BB_FORM" show "$F" --format text --lang en
check_same "the whole English text" "$X/show/wohnsitz-anmelden.en.txt" out
check_grep "English title" "^$(jq -r .title.en model.json)\$" out
check_grep "English wording" "from the ID card" out
# Every top-level field appears with its name.
missing=0
for name in $(jq -r '.sections[].fields[].name' model.json); do
	grep -q "($name)\$" de.txt || missing=$((missing + 1))
done
ok "$missing" "every field is in the text rendering"

expect_code 0 "JSON is the default when stdout is not a terminal" "$BB_FORM" show "$F"
check "and it parses" jq -e . out
expect_code 64 "an unknown format is a usage error" "$BB_FORM" show "$F" --format xml
expect_code 64 "an unknown language is a usage error" "$BB_FORM" show "$F" --lang fr
expect_code 66 "a missing form is 66" "$BB_FORM" show nosuch.yaml
expect_code 0 "--help" "$BB_FORM" --help
check_grep "--help prints the usage on stdout" "^usage: bb-form" out
expect_code 0 "--version" "$BB_FORM" --version
check_grep "--version names program and toolkit" "^bb-form (bb) [0-9]" out
expect_code 64 "no command is a usage error" "$BB_FORM"
check_grep "usage goes to stderr" "^usage: bb-form" err
expect_code 64 "an unknown command is a usage error" "$BB_FORM" frobnicate
check_grep "the command is named" "frobnicate: unknown command" err
{
	echo "bb-form: frobnicate: unknown command (check, fill, show, needs, ask, pin, serve, tell, end, config, presence, receipt)"
	cat "$X/usage/bb-form.txt"
} > frob.want
check_same "... with the commands there are, then the usage" frob.want err
expect_code 64 "an unknown option is a usage error" "$BB_FORM" show "$F" --colour

done_testing
