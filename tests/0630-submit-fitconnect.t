#!/bin/sh
# bb-submit over FIT-Connect against the local test authority (tests/rig/authority.py):
# the whole sender flow, end-to-end encryption checked by an independent JOSE library,
# every exit status from its fault, resume after a failure at each step without a second
# submission, a 20 MB attachment, and secrets kept out of argv, stderr and output.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/authority.sh"

authority_for_test "$scratch/auth"

# A case with two attachments, as bb-capture will add them.
mkcase() {	# mkcase FILE [ATTACHMENT-BYTES]
	new_case "$1.base"
	head -c "${2:-3000}" /dev/urandom > "$1.photo"
	head -c 1500 /dev/urandom > "$1.sig"
	base64 -w0 "$1.photo" > "$1.photo.b64"
	base64 -w0 "$1.sig" > "$1.sig.b64"
	jq --rawfile p "$1.photo.b64" --arg ps "$(sha512sum "$1.photo" | cut -d' ' -f1)" \
	   --rawfile s "$1.sig.b64" --arg ss "$(sha512sum "$1.sig" | cut -d' ' -f1)" \
	   '.service = "wohnsitz-anmelden" |
	    .form = {"definition": "wohnsitz-anmelden", "version": 1,
	             "leika": "urn:de:fim:leika:leistung:99115005104000", "target": "authority",
	             "fields": {"move_in": "2026-11-27"}} |
	    .identity.verified = {"pace": "pin", "ta": true, "ca": true, "passive_auth": "ok"} |
	    .attachments = [{"name": "photo", "type": "image/jpeg", "sha512": $ps, "data": $p},
	                    {"name": "signature", "type": "image/png", "sha512": $ss, "data": $s}]' \
	   "$1.base" > "$1"
	rm -f "$1.base" "$1.photo.b64" "$1.sig.b64"
}
state() { authority_state > state.json; }
sid_of() { jq -r '.submission.fitconnect.submission_id' "$1"; }
received() { echo "$AUTH_DIR/received/$1"; }

# The whole flow.
mkcase a.json
expect_code 0 "a case is submitted" "$BB_SUBMIT" a.json
cp out a.out
SID=$(sid_of a.out)
check "the submission part records ids and uploads" \
	jq -e '.submission.state == "submitted" and .submission.kind == "fitconnect" and (.submission.fitconnect.case_id | length) == 36 and ([.submission.fitconnect.attachments[].uploaded] == [true, true])' a.out
state
check "the authority decrypted everything and found no problem" \
	jq -e --arg s "$SID" '.submissions[$s].submitted == true and (.submissions[$s].problems | length) == 0' state.json
check "the photo arrived byte for byte (decrypted by jwcrypto)" \
	cmp -s a.json.photo "$(received "$SID")/attachments/$(jq -r '.submission.fitconnect.attachments.photo.id' a.out)"
check "the data is the application, attachments by reference" \
	jq -e --slurpfile c a.json '.identity == $c[0].identity and .form.fields == $c[0].form.fields and (.attachments | map(.name)) == ["photo","signature"] and (.attachments[0] | has("data") | not)' "$(received "$SID")/data.json"
check "the metadata has the structure, hashes, eID report and the case id as reference" \
	jq -e --arg id "$(jqv .id a.json)" '.contentStructure.data.submissionSchema.schemaUri == "urn:bb:test:schema" and (.contentStructure.attachments | length) == 2 and .authenticationInformation[0].type == "identificationReport" and .additionalReferenceInfo.senderReference == $id' "$(received "$SID")/metadata.json"
check_nogrep "nothing of the application is in the authority's request log" "MUSTERMANN" "$AUTH_DIR/authority.log"

# --wait: the authority's answer, each event verified.
STDIN=a.out expect_code 0 "--wait on a submitted case waits for the answer" "$BB_SUBMIT" --wait 20
check "accepted, with the events recorded" \
	jq -e '.submission.state == "accepted" and (.submission.fitconnect.events | index("accept-submission")) != null' out
check "resumed the same submission, sent nothing again" test "$(sid_of out)" = "$SID"
cp out accepted.json
expect_code 0 "an accepted case is left as it is" "$BB_SUBMIT" accepted.json

mkcase r.json
authority_fault reject
expect_code 65 "a rejected submission is 65" "$BB_SUBMIT" --wait 20 r.json
check "the reason is recorded" \
	jq -e '.submission.state == "rejected" and (.submission.fitconnect.reject_reason | length) > 0' out
check_grep "and said" "rejected the submission" err
authority_fault none

# The reason comes from the authority: bounded and printable before it reaches the
# operator's terminal, cron mail or the case.
mkcase h.json
authority_fault reject-hostile
expect_code 65 "a rejected submission with a hostile reason is 65" "$BB_SUBMIT" --wait 20 h.json
check "the recorded reason is at most 200 bytes and has no control character" \
	jq -e '.submission.fitconnect.reject_reason | (utf8bytelength <= 203) and (test("[[:cntrl:]]") | not) and startswith("?]0;owned??[2J")' out
check "nor has the message on stderr" \
	eval '! LC_ALL=C grep -q "$(printf "[\033\007]")" err && ! grep -q "$(printf "\302\233")" err &&
	test "$(wc -l < err)" -le 2'
check_grep "and it is still said" "rejected the submission: ?]0;owned??\[2J?\[31mREJECTED" err
authority_fault none

# Only the authority decides: accept- and reject-submission count only when issued by the
# destination (iss) and signed with its signature key, which must pass the checks of the
# encryption key (x5c to key_trust, PS512, "verify", 4096 bits).
mkcase w.json
"$BB_SUBMIT" w.json > w.out 2>/dev/null
authority_fault verdict-by-service
STDIN=w.out expect_code 75 "an accept issued by the delivery service is no answer (75)" "$BB_SUBMIT" --wait 1
check "the case stays submitted" jq -e '.submission.state == "submitted"' out
check_grep "saying so" "ignored accept-submission issued by the delivery service" err
for f in sigkey-no-verify sigkey-broken-chain sigkey-2048; do
	authority_fault "$f"
	STDIN=w.out expect_code 76 "$f: the verdict is not believed (76)" "$BB_SUBMIT" --wait 1
	check "$f: the case stays submitted" jq -e '.submission.state == "submitted"' out
	check_grep "$f: saying why" "destination signature key: " err
done
authority_fault tags-wrong
STDIN=w.out expect_code 76 "an accept with tags other than those sent is 76" "$BB_SUBMIT" --wait 1
check "the case stays submitted" jq -e '.submission.state == "submitted"' out
check_grep "saying why" "authentication tags are not those of what was sent" err
authority_fault none
STDIN=w.out expect_code 0 "the authority's own accept is believed" "$BB_SUBMIT" --wait 1
check "accepted" jq -e '.submission.state == "accepted"' out

mkcase v.json
authority_fault 422-submit
expect_code 65 "a submission the delivery service refuses as invalid (422) is 65" "$BB_SUBMIT" v.json
authority_fault none

mkcase b.json
"$BB_SUBMIT" b.json > b.out 2>/dev/null
authority_fault set-bad-signature
STDIN=b.out expect_code 76 "an event with a bad signature is 76" "$BB_SUBMIT" --wait 10
authority_fault none

# The destination key is checked before anything is sent.
for f in key-no-wrapkey key-2048 key-broken-chain; do
	state
	before=$(jq '.submissions | length' state.json)
	authority_fault "$f"
	mkcase "k-$f.json"
	expect_code 77 "$f: refused with 77" "$BB_SUBMIT" "k-$f.json"
	state
	check "$f: nothing was sent" test "$(jq '.submissions | length' state.json)" -eq "$before"
	authority_fault none
done
# Files the terminal must own: a client secret others can read, trust anchors others can
# write are refused before anything is sent.
state
before=$(jq '.submissions | length' state.json)
cp "$AUTH_DIR/client_secret" open-secret
chmod 644 open-secret
sed "s#client_secret_file: .*#client_secret_file: $scratch/open-secret#" "$AUTH_DIR/bb.yaml" > open.yaml
expect_code 78 "a client secret readable by others is refused (78)" "$BB_SUBMIT" -c open.yaml a.json
check_grep "saying what to chmod" "client_secret_file $scratch/open-secret: mode 0644 .*chmod go-rwx" err
cp "$AUTH_DIR/vpki-root.pem" open-root.pem
chmod 666 open-root.pem
sed "s#key_trust: .*#key_trust: $scratch/open-root.pem#" "$AUTH_DIR/bb.yaml" > openroot.yaml
mkcase o.json
expect_code 78 "trust anchors writable by others are refused (78)" "$BB_SUBMIT" -c openroot.yaml o.json
check_grep "saying what to chmod" "key_trust $scratch/open-root.pem: mode 0666 .*chmod go-w" err
state
check "nothing was sent" test "$(jq '.submissions | length' state.json)" -eq "$before"
authority_fault token-401
expect_code 77 "refused client credentials are 77" "$BB_SUBMIT" a.json
authority_fault none

# expires_in near the 64-bit maximum: no overflow of the clock (which made every request
# fetch a new token), one token for the whole run.
mkcase ttl.json
authority_fault token-ttl-max
state
before=$(jq .tokens_issued state.json)
expect_code 0 "a token with expires_in 2^63-1 is used" "$BB_SUBMIT" ttl.json
state
check "one token for the run" test "$(jq .tokens_issued state.json)" -eq $((before + 1))
authority_fault none

# Temporary trouble is 75; 429 tells bb-queue how long to wait.
authority_fault 503
expect_code 75 "503 is 75" "$BB_SUBMIT" a.json
check "the error is recorded in the case" jq -e '.submission.error | test("HTTP 503")' out
authority_fault 429
expect_code 75 "429 is 75" "$BB_SUBMIT" a.json
check "with retry_after from RateLimit-Reset/Retry-After" jq -e '.submission.retry_after == 7' out
authority_fault hang
sed 's/^submit:$/submit:\n  timeout: 2s/' "$AUTH_DIR/bb.yaml" > short.yaml
t0=$(date +%s)
expect_code 75 "a server that hangs is 75 after the timeout" "$BB_SUBMIT" -c short.yaml a.json
check "and does not wait longer" test $(( $(date +%s) - t0 )) -lt 20
authority_fault none

# Resume after a failure at each step, never a second submission.
for step in destination key create attachment submit; do
	mkcase "s-$step.json"
	authority_fault "once:503@$step"
	expect_code 75 "a failure at $step is 75" "$BB_SUBMIT" "s-$step.json"
	cp out "s-$step.out"
	STDIN="s-$step.out" expect_code 0 "the retry after a failure at $step succeeds" "$BB_SUBMIT"
	cp out "s-$step.done"
	state
	n=$(jq --arg id "$(jqv .id "s-$step.json")" '[.submissions[] | select(.submitted)] | length' state.json)
	completed='.submissions[$d[0].submission.fitconnect.submission_id].submitted == true'
	check "after a failure at $step the same submission was completed" \
		eval 'jq -e --slurpfile d "s-$step.done" "$completed" state.json && {
		[ "$step" = destination ] || [ "$step" = key ] || [ "$step" = create ] ||
		test "$(sid_of "s-$step.out")" = "$(sid_of "s-$step.done")"; }'
done
mkcase d.json
# libcurl itself retries a request once on a fresh connection when a reused one died, so
# the drop is made to happen every time until it is cleared.
authority_fault drop
expect_code 75 "a connection dropped mid-upload is 75" "$BB_SUBMIT" d.json
cp out d.out
authority_fault none
check "the unfinished upload is recorded" \
	jq -e '[.submission.fitconnect.attachments[].uploaded] | index(false) != null' d.out
STDIN=d.out expect_code 0 "the retry completes it" "$BB_SUBMIT"
check "in the same submission" test "$(sid_of d.out)" = "$(sid_of out)"
state
check "which the authority holds once" \
	test "$(jq --arg s "$(sid_of out)" '[.submissions | to_entries[] | select(.key == $s)] | length' state.json)" -eq 1
check "and accepted whole" \
	jq -e --arg s "$(sid_of out)" '.submissions[$s].submitted and (.submissions[$s].problems | length) == 0' state.json

# A 20 MB attachment.
mkcase big.json 20000000
expect_code 0 "a case with a 20 MB attachment" "$BB_SUBMIT" big.json
check "arrives whole" \
	cmp -s big.json.photo "$(received "$(sid_of out)")/attachments/$(jq -r '.submission.fitconnect.attachments.photo.id' out)"
rm -f big.json big.json.photo

# Secrets: never in output, stderr or the log; TLS always verified.
secret=$(cat "$AUTH_DIR/client_secret")
authority_fault token-401
"$BB_SUBMIT" -vvv a.json > sec.out 2> sec.err
authority_fault 503
"$BB_SUBMIT" -vvv a.json >> sec.out 2>> sec.err
authority_fault none
"$BB_SUBMIT" -vvv a.json >> sec.out 2>> sec.err
check_nogrep "the client secret is not on stderr" "$secret" sec.err
check_nogrep "nor in the case" "$secret" sec.out
check_nogrep "no access token on stderr or in the case" "access_token\|Bearer" sec.err
check_nogrep "no personal data on stderr" "MUSTERMANN\|HEIDESTRASSE" sec.err
authority_stop
authority_start "$scratch/auth2" tls-unknown-ca
sed "s#127.0.0.1:[0-9]*/#127.0.0.1:$AUTH_PORT/#g" "$scratch/auth/bb.yaml" > other.yaml
expect_code 77 "a server certificate from an unknown CA is refused (77)" "$BB_SUBMIT" -c other.yaml a.json
check_grep "saying why" "TLS certificate does not verify" err

done_testing
