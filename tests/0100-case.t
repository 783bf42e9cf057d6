#!/bin/sh
# The case format (bb-case(5)) as every program reads and writes it, through bb-form.
. "${0%/*}/lib.sh"

write_identity_case id.json
F=$SERVICES/meldebescheinigung/form.yaml
A=$SERVICES/meldebescheinigung/example-answers.json

STDIN=id.json expect_code 0 "a valid case is accepted" "$BB_FORM" fill "$F" --answers "$A"
cp out filled.json
check "version and id are kept" \
	jq -e '.bb == 1 and .id == "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"' filled.json
check "the identity part is passed through unchanged" \
	jq -e '.identity == input.identity' filled.json id.json

# Unknown keys at any level survive a program that does not know them.
jq '. + {"x_future": {"a": [1, 2]}} | .identity.x_new = "kept"' id.json > future.json
STDIN=future.json expect_code 0 "a case with unknown keys is accepted" "$BB_FORM" fill "$F" --answers "$A"
check "unknown keys are preserved" jq -e '.x_future.a == [1, 2] and .identity.x_new == "kept"' out

# Empty input means the stage before failed: never start a new case silently.
: > empty.json
STDIN=empty.json expect_code 65 "empty input is an error" "$BB_FORM" fill "$F" --answers "$A"
check_grep "empty input says so" "empty input" err
check "nothing on stdout for empty input" test ! -s out

head -c 200 id.json > truncated.json
STDIN=truncated.json expect_code 65 "a truncated case is an error" "$BB_FORM" fill "$F" --answers "$A"
check_grep "truncated: names place and cause" '<stdin>:[0-9]*:[0-9]*: invalid JSON' err
check "nothing on stdout for a truncated case" test ! -s out

printf '{"bb":1,"bb":2}' > dup.json
STDIN=dup.json expect_code 65 "duplicate keys are rejected" "$BB_FORM" fill "$F"
check_grep "duplicate key named" "duplicate" err

cat id.json id.json > two.json
STDIN=two.json expect_code 65 "trailing data after the case is rejected" "$BB_FORM" fill "$F"

jq '.bb = 2' id.json > v2.json
STDIN=v2.json expect_code 65 "an unknown major version is rejected" "$BB_FORM" fill "$F" --answers "$A"
check_grep "version error names it" "unsupported format version 2" err

jq 'del(.bb)' id.json > nov.json
STDIN=nov.json expect_code 65 "a case without version is rejected" "$BB_FORM" fill "$F"
jq '.id = "not-a-uuid"' id.json > badid.json
STDIN=badid.json expect_code 65 "a case with a bad id is rejected" "$BB_FORM" fill "$F"
check_grep "bad id named" "case: id:" err
jq '.created = "yesterday"' id.json > badtime.json
STDIN=badtime.json expect_code 65 "a case with a bad time is rejected" "$BB_FORM" fill "$F"
jq '.identity = "x"' id.json > badpart.json
STDIN=badpart.json expect_code 65 "a part of the wrong type is rejected" "$BB_FORM" fill "$F"
check_grep "the part is named" "case: identity: expected an object" err
echo '[1,2]' > array.json
STDIN=array.json expect_code 65 "a JSON array is not a case" "$BB_FORM" fill "$F"

# Attachments carry a SHA-512 of their data; a reader checks it.
printf 'photo bytes' > photo.bin
sha=$(sha512sum photo.bin | cut -d' ' -f1)
b64=$(base64 -w0 photo.bin)
jq --arg s "$sha" --arg d "$b64" '.attachments = [{"name":"photo","type":"image/jpeg","sha512":$s,"data":$d}]' \
	id.json > att.json
STDIN=att.json expect_code 0 "an attachment with a matching hash is accepted" "$BB_FORM" fill "$F" --answers "$A"
check "attachment data kept" jq -e --arg d "$b64" '.attachments[0].data == $d' out
jq '.attachments[0].data = "b3RoZXI="' att.json > attbad.json
STDIN=attbad.json expect_code 65 "an attachment whose data does not match its hash is rejected" \
	"$BB_FORM" fill "$F" --answers "$A"
check_grep "the attachment is named" "attachments\[0\].sha512: does not match" err
jq '.attachments[0].data = "%%%="' att.json > attb64.json
STDIN=attb64.json expect_code 65 "an attachment that is not base64 is rejected" "$BB_FORM" fill "$F"
jq '.attachments += .attachments' att.json > attdup.json
STDIN=attdup.json expect_code 65 "two attachments of one name are rejected" "$BB_FORM" fill "$F"

# The size limit (case.max_size) is checked while reading.
cat > small.yaml <<'Y'
case:
  max_size: 1K
Y
head -c 3000 /dev/zero | tr '\0' ' ' > big.json
cat id.json >> big.json
STDIN=big.json expect_code 65 "input over case.max_size is rejected" "$BB_FORM" -c small.yaml fill "$F" --answers "$A"
check_grep "the limit is named" "larger than the limit of 1024 bytes" err
STDIN=id.json expect_code 0 "input under the limit is accepted" "$BB_FORM" -c small.yaml fill "$F" --answers "$A"

# A missing case file is 66; --new starts a case.
expect_code 66 "a missing case file is 66" "$BB_FORM" fill "$F" --answers "$A" nosuch.json
expect_code 0 "--new starts a fresh case" "$BB_FORM" fill "$F" --new --answers "$A" \
	--set family_names=X --set given_names=Y --set date_of_birth=1990-01-01 \
	--set place_of_birth=Z --set nationality=DE --set address.street="A 1" \
	--set address.postal_code=12345 --set address.city=B
check "a fresh case has version, a UUID v4 and an RFC 3339 time" \
	jq -e '.bb == 1 and (.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")) and (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' out
cp out fresh1.json
"$BB_FORM" fill "$F" --new --answers "$A" --set family_names=X --set given_names=Y \
	--set date_of_birth=1990-01-01 --set place_of_birth=Z --set nationality=DE \
	--set address.street="A 1" --set address.postal_code=12345 --set address.city=B \
	> fresh2.json 2>/dev/null </dev/null
check "two fresh cases have different ids" test "$(jqv .id fresh1.json)" != "$(jqv .id fresh2.json)"
printf 'terminal: rathaus-7\n' > term.yaml
"$BB_FORM" -c term.yaml fill "$F" --new --answers "$A" --set family_names=X --set given_names=Y \
	--set date_of_birth=1990-01-01 --set place_of_birth=Z --set nationality=DE \
	--set address.street="A 1" --set address.postal_code=12345 --set address.city=B \
	> fresh3.json 2>/dev/null </dev/null
check "a fresh case carries the configured terminal id" \
	test "$(jqv .terminal fresh3.json)" = rathaus-7

# At most 256 attachments (bb-case(5)), and the names checked in linear time: 40,000
# attachments took 14 s to validate, in every program and every queue attempt.
SHA=$(printf a | sha512sum | cut -d' ' -f1)
atts() {	# atts COUNT FILE: the identity case with COUNT attachments p0, p1, ...
	jq --arg sha "$SHA" --argjson n "$1" \
		'.attachments = [range($n) | {name: "p\(.)", type: "text/plain", sha512: $sha, data: "YQ=="}]' \
		id.json > "$2"
}
atts 256 max.json
expect_code 0 "256 attachments are allowed" "$BB_QUEUE" -d spool add max.json
atts 257 over.json
expect_code 65 "257 attachments are too many" "$BB_QUEUE" -d spool add over.json
check_grep "the cap is named" "case: attachments: 257, more than the 256 a case may hold" err
jq '.attachments[255].name = "p0"' max.json > dupl.json
expect_code 65 "the last name the same as the first" "$BB_QUEUE" -d spool add dupl.json
check_grep "both are named" "attachments\[255\].name: the same as attachments\[0\].name" err
atts 40000 many.json
t0=$(date +%s%N)
expect_code 65 "40,000 attachments are refused" "$BB_QUEUE" -d spool add many.json
t1=$(date +%s%N)
check "in less than 3 s ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 3000

done_testing
