#!/bin/sh
# bb-submit to a directory target, choosing the target, and the case written back in
# every outcome.
. "${0%/*}/lib.sh"

write_identity_case a.json
A=0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3
mkdir inbox
cat > s.yaml <<Y
submit:
  default: inbox
  targets:
    inbox:
      kind: dir
      path: $scratch/inbox
    other:
      kind: dir
      path: $scratch/nodir/x
Y
S() { "$BB_SUBMIT" -c s.yaml "$@"; }

expect_code 0 "delivers to the default target" S a.json
check "as <case id>.json, mode 0600" \
	eval 'test -f "inbox/$A.json" && test "$(stat -c %a "inbox/$A.json")" = 600'
check "the delivered file is the case without bb's submission bookkeeping" \
	jq -e '.identity == input.identity and (has("submission") | not)' "inbox/$A.json" a.json
check "stdout is the case with its submission part" \
	jq -e --arg f "$scratch/inbox/$A.json" '.submission.state == "delivered" and .submission.target == "inbox" and .submission.kind == "dir" and .submission.attempts == 1 and .submission.dir.file == $f' out
cp out once.json
expect_code 0 "delivering again" S once.json
check "replaces, never duplicates; attempts counted" \
	eval 'test "$(ls inbox | wc -l)" -eq 1 && jq -e ".submission.attempts == 2" out'

# The target: --target, else the form's target, else submit.default.
jq '.form = {"definition": "x", "target": "other", "fields": {}}' a.json > formtarget.json
expect_code 73 "the form's target is used (and cannot be created)" S formtarget.json
check_grep "says which target and why" "^bb-submit: other: .*nodir/x/$A.json: cannot create" err
check "a failed delivery still writes the case, with the error" \
	jq -e '.submission.state == "failed" and .submission.target == "other" and (.submission.error | test("cannot create"))' out
expect_code 0 "--target wins over the form's" S --target inbox formtarget.json
expect_code 78 "an unknown target is a configuration error" S --target nowhere a.json
check_grep "the target is named" "nowhere: no such target" err
check "nothing on stdout before anything was done" test ! -s out
expect_code 78 "a target without its path" "$BB_SUBMIT" -c /dev/null --target inbox a.json
printf 'submit:\n  targets:\n    inbox:\n      kind: dir\n' > nopath.yaml
expect_code 78 "a dir target without path" "$BB_SUBMIT" -c nopath.yaml --target inbox a.json
check_grep "the missing key is named" "submit.targets.inbox.path is not set" err

# A case that lacks what its form needs (form.needs, bb-form(5) needs) is not sent: 65,
# one line, nothing delivered, nothing on stdout.
att() { jq --arg n "$1" '.attachments += [{"name": $n, "type": "image/png",
	"sha512": "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", "data": ""}]'; }
rm -f inbox/*
jq '.form = {"definition": "x", "needs": ["photo", "signature"], "fields": {}}' a.json > needs.json
att photo < needs.json > needs-photo.json
expect_code 65 "a case without the signature its form needs: 65" S needs-photo.json
check_grep "... saying what is missing, in one line" \
	"^bb-submit: case: its form needs the signature, but the case has none" err
check "... nothing sent, nothing on stdout" \
	eval 'test "$(wc -l < err)" -eq 1 && test ! -s out && test -z "$(ls inbox)"'
expect_code 65 "nor without the photo" S needs.json
check_grep "... the photo named" "needs the photo" err
att signature < needs-photo.json > needs-both.json
expect_code 0 "with both it goes" S needs-both.json
jq '.form.needs = []' a.json > needs-none.json
expect_code 0 "needs [] asks for nothing" S needs-none.json
jq '.form.needs = ["fingerprint"]' needs-both.json > needs-unknown.json
expect_code 65 "a need bb-submit does not know: 65" S needs-unknown.json
check_grep "... said so" "form.needs: a need this bb-submit does not know" err
jq '.form.needs = "photo"' needs-both.json > needs-plain.json
expect_code 65 "needs not a list: 65" S needs-plain.json
rm -f inbox/*

# Bad input.
: > empty.json
STDIN=empty.json expect_code 65 "empty input" S
echo '{"bb": 1' > trunc.json
expect_code 65 "a truncated case" S trunc.json
check "nothing on stdout for bad input" test ! -s out
expect_code 66 "a missing case file" S nosuch.json

# Full disk: 74, the old file stays, the case comes back with the error.
echo old > "inbox/$A.json"
( ulimit -f 1; exec "$BB_SUBMIT" -c s.yaml a.json ) > out 2> err
rc=$?
check "a full disk is 74 (got $rc)" test $rc -eq 74
check "the old file is untouched" test "$(cat "inbox/$A.json")" = old

expect_code 64 "a bad --wait is a usage error" S --wait soon a.json
expect_code 0 "--help" "$BB_SUBMIT" --help
check_grep "usage on stdout" "^usage: bb-submit" out

# No personal value on stderr, even verbose and failing.
jq '.form = {"target": "other"}' a.json > f2.json
"$BB_SUBMIT" -c s.yaml -vvv f2.json > /dev/null 2> err
check_nogrep "no personal data on stderr" "MUSTERMANN\|HEIDESTRASSE\|1964" err
check_grep "the event is logged with the case id" "submit.failed case=$A" err

done_testing
