#!/bin/sh
# bb-form check: every service passes; each kind of mistake in a definition is reported
# with FILE:LINE, all of them in one run, exit 78.
. "${0%/*}/lib.sh"

expect_code 0 "every service definition passes check" "$BB_FORM" check "$SERVICES"/*/form.yaml
check "check is silent on success" test ! -s err
n=$(ls "$SERVICES"/*/form.yaml | wc -l)
check "at least five services ($n)" test "$n" -ge 5

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
# test itself runs outside: bad NAME EXPECTED-MESSAGE then checks it fails with that line,
# and says nothing else).
mk() { cat > "$1.yaml"; }
bad() {
	expect_code 78 "check rejects: $1" "$BB_FORM" check "$1.yaml"
	printf 'bb-form: %s.yaml:%s\n' "$1" "$2" > "$1.want"
	check_same "  $1: its one message is '$2'" "$1.want" err
}

good | sed 's/^version: 1/version: 0/' | mk version; bad version '2: version: expected a positive whole number'
good | sed 's/99115005104000/123/' | mk leika; bad leika '4: leika: expected urn:de:fim:leika:leistung: and 14 digits'
good | sed '/^target/d' | mk notarget; bad notarget "1: missing 'target'"
good | sed 's/title: {de: Test, en: Test}/title: {de: Test}/' | mk english; bad english '3: title: missing the English text (en)'
good | sed 's/title: {de: Test, en: Test}/title: Test/' | mk plaintitle; bad plaintitle '3: title: expected a text in German and English ({de: …, en: …})'
good | sed 's/^id: t/id: T!/' | mk badid; bad badid "1: id 'T!': use a-z, 0-9 and '-', starting with a letter or digit"
good | sed 's/        type: text/        type: txt/' | mk type; bad type "11: a: unknown type 'txt'"
good | sed 's/        type: text/        type: text\n        colour: red/' | mk unknownkey; bad unknownkey "12: a: unknown key 'colour'"
good | sed 's/        type: text/        type: text\n        options: []/' | mk wrongkey; bad wrongkey "12: a: a text field has no 'options'"
good | sed 's/        type: text/        type: text\n        pattern: "[a-"/' | mk pattern; bad pattern "12: a: pattern is not a valid extended regular expression"
good | sed 's/        type: text/        type: number\n        min: 5\n        max: 1/' | mk minmax; bad minmax "10: a: min is larger than max"
good | sed 's/        type: text/        type: date\n        min: yesterday/' | mk datebound; bad datebound \
	"12: a: min: expected a date (YYYY-MM-DD) or today, today-N or today+N with d, w, m or y"
good | sed 's/        type: text/        type: select/' | mk nooptions; bad nooptions "10: a: a select needs options"
good | sed 's/        type: text/        type: consent/' | mk consenttext; bad consenttext "10: missing 'text'"
good | sed 's/        type: text/        type: text\n        locked: true/' | mk locked; bad locked "10: a: locked needs prefill"
good | sed 's/        type: text/        type: text\n        prefill: identity..x/' | mk prefill; bad prefill "12: a: prefill: expected a dotted path into the case (identity.family_names)"
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
	| mk cycle
expect_code 78 "check rejects: cycle" "$BB_FORM" check cycle.yaml
check_same "  cycle: each field of the cycle is named" - err <<'EOF'
bb-form: cycle.yaml:16: b: show_if conditions form a cycle
bb-form: cycle.yaml:20: c: show_if conditions form a cycle
EOF
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
check_same "... photo, then signature" - out <<'EOF'
photo
signature
EOF
expect_code 0 "needs of a form without the key" "$BB_FORM" needs good.yaml
check "... prints nothing" test ! -s out
expect_code 78 "needs of a broken form: 78" "$BB_FORM" needs needsunknown.yaml
check_grep "... with check's message" "^bb-form: needsunknown.yaml:6: needs: unknown need" err
check "... and nothing on standard output" test ! -s out
expect_code 64 "needs without a form is a usage error" "$BB_FORM" needs
for dir in "$SERVICES"/*; do
	[ -f "$dir/form.yaml" ] || continue
	case ${dir##*/} in
	wohnsitz-anmelden) want='photo signature' ;;
	wohnsitz-abmelden|fuehrungszeugnis|wohnungsgeberbestaetigung) want=signature ;;
	*) want= ;;
	esac
	"$BB_FORM" needs "$dir/form.yaml" > out
	check "${dir##*/} needs '$want'" test "$(echo $(cat out))" = "$want"
done

printf 'id: t\nid: u\n' | mk dupkey; bad dupkey "2: duplicate key 'id' (first on line 1)"
# libyaml's own words after "invalid YAML" are its version's.
printf 'id: [t\n' | mk syntax
expect_code 78 "check rejects: syntax" "$BB_FORM" check syntax.yaml
check_grep "  syntax: message is '2: invalid YAML: ...'" "^bb-form: syntax.yaml:2: invalid YAML: " err
printf -- '- a\n- b\n' | mk notamap; bad notamap "1: expected a mapping with id, version, title, leika, target and sections"

# All problems in one run, each with its own line.
good | sed 's/^version: 1/version: x/; s/99115005104000/1/; s/        type: text/        type: txt/' > many.yaml
expect_code 78 "several mistakes fail check" "$BB_FORM" check many.yaml
check_same "all three are reported, in the order of the file" - err <<'EOF'
bb-form: many.yaml:2: version: expected a positive whole number
bb-form: many.yaml:4: leika: expected urn:de:fim:leika:leistung: and 14 digits
bb-form: many.yaml:11: a: unknown type 'txt'
EOF

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
