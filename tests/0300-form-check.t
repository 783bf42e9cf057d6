#!/bin/sh
# bb-form check: every service passes; each kind of mistake in a definition is reported
# with FILE:LINE, all of them in one run, exit 78.
. "${0%/*}/lib.sh"

expect_code 0 "every service definition passes check" "$BB_FORM" check "$SERVICES"/*/form.yaml
ok "$(test ! -s err; echo $?)" "check is silent on success"
n=$(ls "$SERVICES"/*/form.yaml | wc -l)
ok "$(test "$n" -ge 5; echo $?)" "at least five services ($n)"

good() {
	cat <<'Y'
id: t
version: 1
title: {de: Test, en: Test}
leika: urn:de:fim:leika:leistung:99115005104000
target: authority
sections:
  - id: s
    title: {de: Abschnitt, en: Section}
    fields:
      - name: a
        type: text
        label: {de: A, en: A}
Y
}
good > good.yaml
expect_code 0 "a minimal definition passes" "$BB_FORM" check good.yaml

# mk NAME: the definition on stdin into NAME.yaml (pipelines run in a subshell, so the
# test itself runs outside: bad NAME EXPECTED-MESSAGE then checks it fails with that line).
mk() { cat > "$1.yaml"; }
bad() {
	expect_code 78 "check rejects: $1" "$BB_FORM" check "$1.yaml"
	check_grep "  $1: message is '$2'" "^bb-form: $1.yaml:$2" err
}

good | sed 's/^version: 1/version: 0/' | mk version; bad version '2: version: expected a positive whole number'
good | sed 's/99115005104000/123/' | mk leika; bad leika '4: leika: expected urn:de:fim:leika:leistung: and 14 digits'
good | sed '/^target/d' | mk notarget; bad notarget '1: missing .target.'
good | sed 's/title: {de: Test, en: Test}/title: {de: Test}/' | mk english; bad english '3: title: missing the English text (en)'
good | sed 's/title: {de: Test, en: Test}/title: Test/' | mk plaintitle; bad plaintitle '3: title: expected a text in German and English'
good | sed 's/^id: t/id: T!/' | mk badid; bad badid "1: id 'T!': use a-z"
good | sed 's/        type: text/        type: txt/' | mk type; bad type "11: a: unknown type 'txt'"
good | sed 's/        type: text/        type: text\n        colour: red/' | mk unknownkey; bad unknownkey "12: a: unknown key 'colour'"
good | sed 's/        type: text/        type: text\n        options: []/' | mk wrongkey; bad wrongkey "12: a: a text field has no 'options'"
good | sed 's/        type: text/        type: text\n        pattern: "[a-"/' | mk pattern; bad pattern "12: a: pattern is not a valid extended regular expression"
good | sed 's/        type: text/        type: number\n        min: 5\n        max: 1/' | mk minmax; bad minmax "10: a: min is larger than max"
good | sed 's/        type: text/        type: date\n        min: yesterday/' | mk datebound; bad datebound "12: a: min: expected a date"
good | sed 's/        type: text/        type: select/' | mk nooptions; bad nooptions "10: a: a select needs options"
good | sed 's/        type: text/        type: consent/' | mk consenttext; bad consenttext "10: missing 'text'"
good | sed 's/        type: text/        type: text\n        locked: true/' | mk locked; bad locked "10: a: locked needs prefill"
good | sed 's/        type: text/        type: text\n        prefill: identity..x/' | mk prefill; bad prefill "12: a: prefill: expected a dotted path"
good | sed 's/        type: text/        type: text\n        show_if: {field: nope, equals: x}/' | mk showif; bad showif "12: a: show_if: no field 'nope'"
good | sed 's/        type: text/        type: text\n        show_if: {field: a, equals: x}/' | mk showself; bad showself "12: a: show_if refers to itself"
good | sed 's/        type: text/        type: group/' | mk group; bad group "10: a: a group needs a non-empty list of fields"
good | sed 's/        type: text/        type: group\n        repeat: {min: 3, max: 2}\n        fields: [{name: b, type: text, label: {de: B, en: B}}]/' \
	| mk repeat; bad repeat "12: a: repeat: need 1 <= max and min <= max"
good | sed 's/        type: text/        type: number\n        default: many/' | mk default; bad default "12: a: default: expected a number"
good | sed 's/^  - id: s/  - id: s\n    colour: x/' | mk sectionkey; bad sectionkey "8: unknown key 'colour' in a section"
{ good; printf '      - name: a\n        type: text\n        label: {de: A, en: A}\n'; } | mk twice; bad twice "13: field 'a' defined twice (first on line 10)"
{ good; printf '  - id: s2\n    title: {de: X, en: X}\n    fields:\n      - name: a\n        type: text\n        label: {de: A, en: A}\n'; } \
	| mk twicesections; bad twicesections "16: field 'a' defined twice (first on line 10)"
{ good; printf '      - name: b\n        type: select\n        label: {de: B, en: B}\n        options:\n          - {value: x, label: {de: X, en: X}}\n          - {value: x, label: {de: Y, en: Y}}\n'; } \
	| mk dupoption; bad dupoption "18: b: option value 'x' given twice"
{ good; printf '      - name: b\n        type: checkbox\n        label: {de: B, en: B}\n        show_if: {field: c, equals: true}\n      - name: c\n        type: checkbox\n        label: {de: C, en: C}\n        show_if: {field: b, equals: true}\n'; } \
	| mk cycle; bad cycle "16: b: show_if conditions form a cycle"
{ good; printf '      - name: b\n        type: select\n        label: {de: B, en: B}\n        options: [{value: x, label: {de: X, en: X}}]\n      - name: c\n        type: text\n        label: {de: C, en: C}\n        show_if: {field: b, equals: y}\n'; } \
	| mk showvalue; bad showvalue "20: c: show_if: not a value of 'b': not one of the options"
# needs: only the known needs, each once, in a list.
good | sed 's/^target: authority/target: authority\nneeds: [photo, fingerprint]/' | mk needsunknown
bad needsunknown "6: needs: unknown need 'fingerprint' (photo, signature)"
good | sed 's/^target: authority/target: authority\nneeds:\n  - signature\n  - photo\n  - signature/' | mk needstwice
bad needstwice "9: needs: 'signature' given twice"
good | sed 's/^target: authority/target: authority\nneeds: photo/' | mk needsplain
bad needsplain "6: needs: expected a list of photo and signature"
good | sed 's/^target: authority/target: authority\nneeds: [[photo]]/' | mk needsnested
bad needsnested "6: needs: expected a list of photo and signature"
for v in '[]' '[signature]' '[signature, photo]'; do
	good | sed "s/^target: authority/target: authority\nneeds: $v/" > needsgood.yaml
	expect_code 0 "needs: $v passes" "$BB_FORM" check needsgood.yaml
done

# bb-form needs: the needs one per line, photo before signature, whatever the order
# written; none for a form without; a broken form as check says.
expect_code 0 "needs of a form that needs both" "$BB_FORM" needs needsgood.yaml
ok "$(test "$(cat out)" = "$(printf 'photo\nsignature')"; echo $?)" "... photo, then signature"
expect_code 0 "needs of a form without the key" "$BB_FORM" needs good.yaml
ok "$(test ! -s out; echo $?)" "... prints nothing"
expect_code 78 "needs of a broken form: 78" "$BB_FORM" needs needsunknown.yaml
check_grep "... with check's message" "^bb-form: needsunknown.yaml:6: needs: unknown need" err
ok "$(test ! -s out; echo $?)" "... and nothing on standard output"
expect_code 64 "needs without a form is a usage error" "$BB_FORM" needs
for dir in "$SERVICES"/*; do
	[ -f "$dir/form.yaml" ] || continue
	case ${dir##*/} in
	wohnsitz-anmelden) want='photo signature' ;;
	wohnsitz-abmelden|fuehrungszeugnis|wohnungsgeberbestaetigung) want=signature ;;
	*) want= ;;
	esac
	"$BB_FORM" needs "$dir/form.yaml" > out
	ok "$(test "$(echo $(cat out))" = "$want"; echo $?)" "${dir##*/} needs '$want'"
done

printf 'id: t\nid: u\n' | mk dupkey; bad dupkey "2: duplicate key 'id' (first on line 1)"
printf 'id: [t\n' | mk syntax; bad syntax "[0-9]*: invalid YAML"
printf -- '- a\n- b\n' | mk notamap; bad notamap "1: expected a mapping"

# All problems in one run, each with its own line.
good | sed 's/^version: 1/version: x/; s/99115005104000/1/; s/        type: text/        type: txt/' > many.yaml
expect_code 78 "several mistakes fail check" "$BB_FORM" check many.yaml
ok "$(test "$(wc -l < err)" -eq 3; echo $?)" "all three are reported"

# The id must match the directory of a service.
mkdir -p svc/other
good > svc/other/form.yaml
expect_code 78 "an id that is not its directory's name is an error" "$BB_FORM" check svc/other/form.yaml
check_grep "the mismatch is named" "id 't' does not match its directory 'other'" err
expect_code 78 "also when the path has ./ in it" "$BB_FORM" check svc/other/./form.yaml
cd svc/other
expect_code 78 "also for a bare form.yaml in the directory" "$BB_FORM" check form.yaml
cd "$scratch"

expect_code 66 "a missing definition is 66" "$BB_FORM" check nosuch.yaml
expect_code 78 "bad and missing together give 78" "$BB_FORM" check nosuch.yaml version.yaml
expect_code 64 "check without a form is a usage error" "$BB_FORM" check

done_testing
