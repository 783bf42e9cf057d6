#!/bin/sh
# bb-form fill: each rule rejects what it must, prefill and locked fields, show_if,
# repeated groups, answers and --set, and the form part it writes.
. "${0%/*}/lib.sh"

cat > rules.yaml <<'Y'
id: rules
version: 7
title: {de: Regeln, en: Rules}
leika: urn:de:fim:leika:leistung:99115005104000
target: inbox
sections:
  - id: person
    title: {de: Person, en: Person}
    fields:
      - {name: family_names, type: text, label: {de: Name, en: Name}, required: true,
         prefill: identity.family_names, locked: true}
      - {name: city, type: text, label: {de: Ort, en: City}, prefill: identity.address.city}
      - {name: plate, type: text, label: {de: Kennzeichen, en: Plate},
         pattern: "[A-Z]{1,3}-[A-Z]{1,2} [0-9]{1,4}"}
      - {name: area, type: text, label: {de: Kreis, en: District}, pattern: "[A-ZÄÖÜ]{1,3}"}
      - {name: nick, type: text, label: {de: Rufname, en: Nick}, min_length: 2, max_length: 4}
      - {name: copies, type: number, label: {de: Anzahl, en: Copies}, min: 1, max: 5, integer: true}
      - {name: volume, type: number, label: {de: Menge, en: Volume}, min: 0.5, max: 5}
      - {name: move_in, type: date, label: {de: Einzug, en: Move-in}, min: today-14d, max: today}
      - {name: born, type: date, label: {de: Geboren, en: Born}, min: 1900-01-01, max: today}
      - name: kind
        type: select
        label: {de: Art, en: Kind}
        default: a
        options:
          - {value: a, label: {de: A, en: A}}
          - {value: b, label: {de: B, en: B}}
      - name: why
        type: text
        label: {de: Grund, en: Reason}
        required: true
        show_if: {field: kind, equals: b}
      - name: items
        type: multi-select
        label: {de: Dinge, en: Items}
        min: 1
        max: 2
        options:
          - {value: sofa, label: {de: Sofa, en: Sofa}}
          - {value: bed, label: {de: Bett, en: Bed}}
          - {value: desk, label: {de: Tisch, en: Desk}}
      - {name: newsletter, type: checkbox, label: {de: Newsletter, en: Newsletter}}
      - {name: mail, type: email, label: {de: E-Mail, en: E-mail}}
      - {name: phone, type: phone, label: {de: Telefon, en: Phone}}
      - {name: plz, type: postal-code, label: {de: PLZ, en: Postcode}}
      - {name: iban, type: iban, label: {de: IBAN, en: IBAN}}
      - {name: country, type: country, label: {de: Staat, en: Country}}
      - {name: home, type: address, label: {de: Anschrift, en: Address}, required: true,
         prefill: identity.address}
      - {name: old, type: address, label: {de: Alte Anschrift, en: Old address}}
  - id: others
    title: {de: Weitere, en: Others}
    fields:
      - name: persons
        type: group
        label: {de: Personen, en: Persons}
        repeat: {min: 1, max: 3}
        fields:
          - {name: given, type: text, label: {de: Vorname, en: Given name}, required: true}
          - {name: child, type: checkbox, label: {de: Kind, en: Child}}
          - {name: school, type: text, label: {de: Schule, en: School}, required: true,
             show_if: {field: child, equals: true}}
      - {name: privacy, type: consent, label: {de: Datenschutz, en: Privacy},
         text: {de: Ich stimme zu., en: I agree.}}
Y
expect_code 0 "the rules form passes check" "$BB_FORM" check rules.yaml
write_identity_case id.json

cat > base.json <<'J'
{"persons": [{"given": "Anna"}], "items": ["sofa"], "privacy": true}
J

# fill_ok DESC ARGS...: fill with base.json plus ARGS succeeds; the case is in out.
fill_ok() {
	_d=$1
	shift
	STDIN=id.json expect_code 0 "$_d" "$BB_FORM" fill rules.yaml --answers base.json "$@"
}
# fill_bad DESC EXPECTED-LINE ARGS...: fill fails with 65, that line is all of stderr,
# nothing on stdout.
fill_bad() {
	_d=$1 _m=$2
	shift 2
	STDIN=id.json expect_code 65 "$_d" "$BB_FORM" fill rules.yaml --answers base.json "$@"
	printf 'bb-form: %s\n' "$_m" > bad.want
	check_same "  $_d: says '$_m', only that" bad.want err
	check "  $_d: nothing on stdout" test ! -s out
}

fill_ok "the base answers pass"
cp out ok.json
# The whole case, the time it was completed aside.
jq '.form.completed = "C"' ok.json > ok.norm.json
check_same "the whole case: the identity, the form part, the fields in order" \
	"$BB_TOP/tests/data/expected/fill/rules-base.json" ok.norm.json
check "the form part names definition, version, target and LeiKa key" \
	jq -e '.service == "rules" and .form.definition == "rules" and .form.version == 7 and .form.target == "inbox" and .form.leika == "urn:de:fim:leika:leistung:99115005104000"' ok.json
check "completed is a UTC time" jq -e '.form.completed | test("^[0-9-]{10}T[0-9:]{8}Z$")' ok.json
check "fields are prefilled from the identity" \
	jq -e '.form.fields.family_names == "MUSTERMANN" and .form.fields.city == "KÖLN"' ok.json
check "an address is prefilled whole" \
	jq -e '.form.fields.home == {"street":"HEIDESTRASSE 17","postal_code":"51147","city":"KÖLN","country":"DE"}' ok.json
check "prefilled names the fields that came from the case" \
	jq -e '.form.prefilled == ["family_names","city","home"]' ok.json
check "a default fills an unanswered field" jq -e '.form.fields.kind == "a"' ok.json
check "a hidden field is not stored" jq -e '.form.fields | has("why") | not' ok.json
check "fields are written in the definition's order" \
	jq -e '(.form.fields | keys_unsorted) == ["family_names","city","kind","items","home","persons","privacy"]' ok.json

# Required and consent.
echo '{"persons": [{"given": "Anna"}], "items": ["sofa"]}' > noconsent.json
STDIN=id.json expect_code 65 "consent not given fails" "$BB_FORM" fill rules.yaml --answers noconsent.json
check_grep "consent is named" "^bb-form: privacy: must be accepted$" err
fill_bad "consent refused" "privacy: must be accepted" --set privacy=nein
fill_bad "a required field left empty" "why: required" --set kind=b
fill_ok "a field shown by show_if and answered" --set kind=b --set why=Umzug
check "the shown field is stored" jq -e '.form.fields.why == "Umzug"' out
echo '{"persons": [{"given": "Anna"}], "items": ["sofa"], "privacy": true, "why": "x"}' > hidden.json
STDIN=id.json expect_code 0 "an answer to a hidden field is accepted" "$BB_FORM" fill rules.yaml --answers hidden.json
check "and dropped" jq -e '.form.fields | has("why") | not' out

# Text rules.
fill_ok "a pattern that matches" --set plate="KA-AB 123"
fill_bad "a pattern that does not match" "plate: does not have the required form" --set plate="ka-ab 123"
fill_ok "a pattern matches characters, not bytes" --set area=DÜW
LC_ALL=C fill_ok "whatever the locale" --set area=DÜW
fill_bad "a pattern counts an umlaut as one character" "area: does not have the required form" --set area=DÜWX
fill_bad "a text too short" "nick: shorter than 2 characters" --set nick=A
fill_bad "a text too long" "nick: longer than 4 characters" --set nick=Annabelle
fill_ok "length counts characters, not bytes" --set nick=Jörg
fill_bad "control characters are refused" "nick: contains control characters" --set "nick=$(printf 'a\tb')"

# Numbers.
fill_ok "a number in range" --set copies=3 --set volume=2,5
check "numbers are stored as numbers (German decimal comma read)" \
	jq -e '.form.fields.copies == 3 and .form.fields.volume == 2.5' out
fill_bad "a number above max" "copies: more than 5" --set copies=6
fill_bad "a number below min" "volume: less than 0.5" --set volume=0.1
fill_bad "a fraction for a whole number" "copies: expected a whole number" --set copies=2.5
fill_bad "not a number" "copies: expected a number" --set copies=zwei

# Dates relative to today and absolute.
d() { date -d "$1 days" +%F; }
fill_ok "a move-in date 14 days ago" --set move_in="$(d -14)"
fill_ok "a move-in date today, German notation" --set move_in="$(date +%d.%m.%Y)"
check "a German date is stored as ISO 8601" \
	jq -e --arg t "$(date +%F)" '.form.fields.move_in == $t' out
STDIN=id.json expect_code 65 "a move-in date 15 days ago is too early" "$BB_FORM" fill rules.yaml --answers base.json --set move_in="$(d -15)"
check_grep "the bound is named" "^bb-form: move_in: earlier than $(d -14) (today-14d)$" err
STDIN=id.json expect_code 65 "a move-in date tomorrow is too late" "$BB_FORM" fill rules.yaml --answers base.json --set move_in="$(d 1)"
fill_bad "an absolute lower bound" "born: earlier than 1900-01-01 (1900-01-01)" --set born=1899-12-31
fill_bad "an impossible date" "born: expected a date (YYYY-MM-DD or DD.MM.YYYY)" --set born=2023-02-29
fill_ok "a leap day" --set born=2024-02-29

# Choices.
fill_bad "a value that is no option" "kind: not one of the options" --set kind=c
fill_ok "multi-select from a comma list" --set items=sofa,desk
check "multi-select is a list" jq -e '.form.fields.items == ["sofa","desk"]' out
fill_ok "multi-select in another order" --set items=desk,sofa
check "multi-select in the definition's order, whatever order it was given or ticked in" \
	jq -e '.form.fields.items == ["sofa","desk"]' out
fill_bad "multi-select over max" "items: choose at most 2" --set items=sofa,bed,desk
fill_bad "multi-select under min" "items: choose at least 1" --set items=
fill_bad "an option chosen twice" "items: an option is chosen twice" --set items=sofa,sofa
fill_ok "checkbox from ja" --set newsletter=ja
check "checkbox is a boolean" jq -e '.form.fields.newsletter == true' out
fill_ok "an unticked checkbox" --set newsletter=no
check "an unticked checkbox is stored as false" jq -e '.form.fields.newsletter == false' out
fill_bad "checkbox nonsense" "newsletter: expected yes or no" --set newsletter=vielleicht

# Typed strings.
fill_ok "an e-mail address" --set mail=erika@example.de
fill_bad "not an e-mail address" "mail: not an e-mail address" --set mail=erika@example
fill_ok "a telephone number" --set "phone=+49 721 133-0"
fill_bad "not a telephone number" "phone: not a telephone number" --set phone=12
fill_ok "a postal code" --set plz=76133
fill_bad "a short postal code" "plz: expected a German postal code of 5 digits" --set plz=7613
fill_ok "an IBAN with spaces" --set "iban=de89 3704 0044 0532 0130 00"
check "an IBAN is stored without spaces, upper case" \
	jq -e '.form.fields.iban == "DE89370400440532013000"' out
fill_bad "an IBAN with a wrong check digit" "iban: not a valid IBAN (check digits or length)" --set iban=DE89370400440532013001
fill_ok "a country code" --set country=at
check "country codes are upper case" jq -e '.form.fields.country == "AT"' out
fill_bad "not a country" "country: expected an ISO 3166 country code (DE, AT, …)" --set country=XX

# Addresses.
fill_ok "a whole address" --set old.street="Am Markt 1" --set old.postal_code=76133 --set old.city=Karlsruhe
check "an address's country defaults to DE" jq -e '.form.fields.old.country == "DE"' out
fill_bad "a partial address" "old.city: required" --set old.street="Am Markt 1" --set old.postal_code=76133
fill_bad "a German address needs a 5-digit code" "old.postal_code: expected a German postal code of 5 digits" \
	--set old.street="Am Markt 1" --set old.postal_code=1010 --set old.city=Wien
fill_ok "an address abroad has its own codes" --set old.street="Ring 1" --set old.postal_code=1010 \
	--set old.city=Wien --set old.country=AT

# Repeated groups.
fill_ok "a second entry by --set" --set persons.1.given=Ben
check "entries are kept in order" jq -e '[.form.fields.persons[].given] == ["Anna","Ben"]' out
fill_bad "a required part of an entry" "persons.1.given: required" --set persons.1.child=no
fill_bad "show_if inside an entry" "persons.0.school: required" --set persons.0.child=ja
fill_ok "show_if inside an entry, answered" --set persons.0.child=ja --set persons.0.school=Grundschule
echo '{"persons": [], "items": ["sofa"], "privacy": true}' > nopersons.json
STDIN=id.json expect_code 65 "too few entries" "$BB_FORM" fill rules.yaml --answers nopersons.json
check_grep "the count is named" "^bb-form: persons: at least 1 entry needed$" err
echo '{"persons": [{"given":"a"},{"given":"b"},{"given":"c"},{"given":"d"}], "items": ["sofa"], "privacy": true}' > many.json
STDIN=id.json expect_code 65 "too many entries" "$BB_FORM" fill rules.yaml --answers many.json
check_grep "the maximum is named" "^bb-form: persons: at most 3 entries$" err
STDIN=id.json expect_code 64 "an entry number past the maximum is a usage error" "$BB_FORM" fill rules.yaml --answers base.json --set persons.3.given=x
STDIN=id.json expect_code 64 "setting a whole group is a usage error" "$BB_FORM" fill rules.yaml --answers base.json --set persons=x

# Locked fields from the ID card.
fill_bad "a locked prefilled field cannot be changed" "family_names: prefilled from the ID card; may not be changed" \
	--set family_names=Musterfrau
fill_ok "the same value for a locked field is fine" --set family_names=MUSTERMANN
fill_ok "an unlocked prefilled field can be changed" --set city=Bonn
check "and the person's answer wins" jq -e '.form.fields.city == "Bonn"' out
jq 'del(.identity)' id.json > noid.json
STDIN=noid.json expect_code 65 "without an identity the person must enter locked fields" "$BB_FORM" fill rules.yaml --answers base.json
check_grep "family_names is then required" "^bb-form: family_names: required$" err
STDIN=noid.json expect_code 0 "and may enter them" "$BB_FORM" fill rules.yaml --answers base.json \
	--set family_names=Muster --set home.street="A 1" --set home.postal_code=12345 --set home.city=B

# Answers and --set mistakes.
echo '{"nosuch": 1, "persons": [{"given": "Anna"}], "items": ["sofa"], "privacy": true}' > unknown.json
STDIN=id.json expect_code 65 "an unknown field in the answers" "$BB_FORM" fill rules.yaml --answers unknown.json
check_grep "the unknown field is named" "^bb-form: nosuch: no such field in form 'rules'$" err
echo '{"persons": [{"given": "Anna", "age": 3}], "items": ["sofa"], "privacy": true}' > unknownpart.json
STDIN=id.json expect_code 65 "an unknown part of an entry" "$BB_FORM" fill rules.yaml --answers unknownpart.json
check_grep "the unknown part is named" "^bb-form: persons.0.age: no such field$" err
echo '{"persons": [' > broken.json
STDIN=id.json expect_code 65 "broken answers JSON" "$BB_FORM" fill rules.yaml --answers broken.json
check_grep "the answers file is named" "answers: broken.json:" err
STDIN=id.json expect_code 66 "a missing answers file" "$BB_FORM" fill rules.yaml --answers nosuch.json
STDIN=id.json expect_code 64 "--set of an unknown field" "$BB_FORM" fill rules.yaml --set nosuch=1
STDIN=id.json expect_code 64 "--set without =" "$BB_FORM" fill rules.yaml --set copies
echo '{"copies": [1]}' > listnum.json
STDIN=id.json expect_code 65 "a list for a number" "$BB_FORM" fill rules.yaml --answers listnum.json
check_grep "the type is named" "^bb-form: copies: expected a single value, not a list or object$" err

# Several problems: every one is listed.
STDIN=id.json expect_code 65 "several problems" "$BB_FORM" fill rules.yaml --set copies=9 --set mail=x
check "each problem has its line (copies, mail, items, persons, privacy)" \
	test "$(grep -c '^bb-form: ' err)" -eq 5

# The case already holding this form: answers continue from there; --set wins.
STDIN=ok.json expect_code 0 "a filled case can be filled again" "$BB_FORM" fill rules.yaml --set copies=2
check "earlier answers are kept, new ones added" \
	jq -e '.form.fields.copies == 2 and .form.fields.persons[0].given == "Anna"' out
jq '.service = "other"' ok.json > other.json
STDIN=other.json expect_code 65 "a case for another service is refused" "$BB_FORM" fill rules.yaml
check_grep "the services are named" "case is for service 'other', not 'rules'" err

# Answers then --set, in that order.
STDIN=id.json expect_code 0 "--set overrides --answers" "$BB_FORM" fill rules.yaml --answers base.json --set persons.0.given=Zoe
check "the --set value is stored" jq -e '.form.fields.persons[0].given == "Zoe"' out

# A case file as argument, and output to a file.
expect_code 0 "the case may come as a file argument" "$BB_FORM" fill rules.yaml --answers base.json id.json
expect_code 0 "-o writes the case to a file" "$BB_FORM" fill rules.yaml --answers base.json -o case.json id.json
check "-o: nothing on stdout, file mode 0600" \
	eval 'test ! -s out && test "$(stat -c %a case.json)" = 600'
jq 'del(.form.completed)' ok.json > a.json
jq 'del(.form.completed)' case.json > b.json
check_same "-o writes what stdout would" a.json b.json

# A part of a prefilled address changed by an answer: the address no longer counts as
# prefilled (the record of what the card said was the same object as the answer, so
# it changed with it), and a locked one is refused as changed.
cat > addr.yaml <<'YAML'
id: addr
version: 1
title: {de: "A", en: "A"}
leika: "urn:de:fim:leika:leistung:99000000000000"
target: authority
sections:
  - id: s
    title: {de: "S", en: "S"}
    fields:
      - {name: home, type: address, label: {de: "W", en: "H"}, prefill: identity.address}
      - {name: fixed, type: address, label: {de: "F", en: "F"}, prefill: identity.address, locked: true}
YAML
STDIN=id.json expect_code 0 "an unchanged address is prefilled" "$BB_FORM" fill addr.yaml
check "both addresses named prefilled" jq -e '.form.prefilled == ["home", "fixed"]' out
STDIN=id.json expect_code 0 "a changed part of an address" "$BB_FORM" fill addr.yaml --set home.street="Am Markt 1"
check "the changed address is not named prefilled" \
	jq -e '.form.prefilled == ["fixed"] and .form.fields.home.street == "Am Markt 1"' out
STDIN=id.json expect_code 65 "a changed part of a locked address" "$BB_FORM" fill addr.yaml --set fixed.city=Bonn
check_grep "the locked address is named" "fixed: prefilled from the ID card; may not be changed" err

done_testing
