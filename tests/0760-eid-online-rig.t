#!/bin/sh
# The online eID rig (issue 15): tests/rig/eidserver.py, an eID-Server and eService on
# 127.0.0.1, authenticates the simulated card through the real AusweisApp (Debian's
# ausweisapp2, tests/rig/ausweisapp.py) as a town's online service would: TC Token, PAOS,
# PACE with the PIN given through the SDK, Terminal Authentication with the eService's
# certificate (its CertificateDescription bound to the server's TLS certificate by
# make-eid-pki), Chip Authentication, the data groups read under secure messaging. The
# identity the result endpoint gives must be the one bb-eid read writes for the same card.
# No developer mode: AusweisApp checks the chain to the rig's CVCA (--cvca installs it),
# the description's hash in the certificate, the same origin of the TC Token URL and the
# subjectURL, and the TLS certificate's hash in commCertificates, as for a real service.
# Skipped only without ausweisapp2 or python3-websocket (scripts/install-deps installs both).
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/ausweisapp.sh"

# aa NAME: the workflow script NAME.aa with AusweisApp (the rig's CVCA trusted): its
# messages in NAME.out, the driver's complaint in NAME.err, status in $rc.
aa() {
	[ -s "$1.aa" ] || { echo "Bail out! $1.aa is empty"; exit 1; }
	$AA --timeout 60 --timing "$1.time" --log "$1.log" --home "aa-$1" \
		--cvca "$EID_PKI/cvca/cvca.cvcert" "$1.aa" > "$1.out" 2> "$1.err"
	rc=$?
	echo "# ausweisapp $1: $(jq -r -s '[.[] | select(.lap) |
		"\(.lap) \(.ms) ms"] | join(", ")' "$1.time" 2> /dev/null)"
	if [ "$rc" -ne 0 ]; then
		diag "$1.err"
		grep -i -e 'critical' -e 'warning' "$1.log" | tail -15 | diag
		diag eids/eidserver.log; tail -2 "$1.out" | diag
	fi
}

# msg NAME FILTER: whether AusweisApp sent a message matching the jq FILTER.
msg() { jq -e -s "any(.[]; $2)" "$1.out" > /dev/null; }

# result NAME: the identity of the AUTH in NAME.out from the result endpoint, to NAME.json
# (the reference is the refresh address's ref parameter); status in $rc.
result() {
	_ref=$(jq -r 'select(.msg == "AUTH" and .url) | .url' "$1.out" |
		sed -n 's/.*[?&]ref=\([^&]*\).*/\1/p')
	curl -sS --fail --cacert "$EID_PKI/online/tls.pem" -o "$1.json" \
		"$EIDS_URL/result?ref=$_ref" 2> "$1.curl"
	rc=$?
}

OKMAJOR='"http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok"'

# (a) Erika, the PIN right the first time.
card_insert erika
eidserver
cat > erika.aa <<EOF
send {"cmd": "RUN_AUTH", "tcTokenURL": "$EIDS_URL/tctoken"}
expect AUTH
expect ACCESS_RIGHTS
lap access-rights
send {"cmd": "ACCEPT"}
expect ENTER_PIN {"reader": {"name": "bb vpcd 00 00", "card": {"retryCounter": 3}}}
lap card-found
send {"cmd": "SET_PIN", "value": "123456"}
expect AUTH {"result": {"major": $OKMAJOR}}
lap authenticated
EOF
aa erika
ok "$rc" "AusweisApp authenticates Erika against the rig's eID-Server: AUTH major ok"
check "ACCESS_RIGHTS names what the service reads (family name, address), no age check" \
	msg erika '.msg == "ACCESS_RIGHTS" and (.chat.required | index("FamilyName")) and
	(.chat.required | index("Address")) and (.aux == null or .aux == {})'
result erika
ok "$rc" "the result endpoint gives the identity read"
"$BB_EID" read --new --pin-fd 3 3< pin > local.json 2> local.err
ok "$?" "bb-eid read reads the same card"
jq -S '.identity // . | del(.verified)' local.json > want.json 2> /dev/null
jq -S 'del(.verified)' erika.json > got.json 2> /dev/null
check_same "the online identity equals bb-eid read's (names, birth, address, community id)" \
	want.json got.json
check "and it is Erika's" \
	jq -e '.given_names == "ERIKA" and .family_names == "MUSTERMANN" and
	.date_of_birth == "1964-08-12" and .place_of_birth == "BERLIN" and
	.address.street == "HEIDESTRASSE 17" and .address.city == "KÖLN"' got.json
result erika
check "the result is given once, then forgotten" test "$rc" -ne 0

# (b) A wrong PIN: ENTER_PIN again with retryCounter 2, then the right one.
card_insert erika
cat > wrongpin.aa <<EOF
send {"cmd": "RUN_AUTH", "tcTokenURL": "$EIDS_URL/tctoken"}
expect AUTH
expect ACCESS_RIGHTS
send {"cmd": "ACCEPT"}
expect ENTER_PIN {"reader": {"card": {"retryCounter": 3}}}
send {"cmd": "SET_PIN", "value": "654321"}
expect ENTER_PIN {"reader": {"card": {"retryCounter": 2}}}
lap wrong-pin
send {"cmd": "SET_PIN", "value": "123456"}
expect AUTH {"result": {"major": $OKMAJOR}}
lap authenticated
EOF
aa wrongpin
ok "$rc" "a wrong PIN: ENTER_PIN again with retryCounter 2; the right one authenticates"
result wrongpin
ok "$rc" "and the result endpoint gives the identity"
jq -S 'del(.verified)' wrongpin.json > got2.json 2> /dev/null
check_same "the same identity" want.json got2.json

# (c) The residence permit (brainpoolP384r1, AES-256 PACE; DG19, DG20, a French
# nationality), read online and locally.
card_insert jeanne
sed 's/^expect ENTER_PIN.*/expect ENTER_PIN/' erika.aa > jeanne.aa
aa jeanne
ok "$rc" "AusweisApp authenticates the residence permit against the rig's eID-Server"
result jeanne
"$BB_EID" read --new --pin-fd 3 3< pin > local-jeanne.json 2> local.err
jq -S '.identity // . | del(.verified)' local-jeanne.json > want-jeanne.json 2> /dev/null
jq -S 'del(.verified)' jeanne.json > got-jeanne.json 2> /dev/null
check_same "its online identity equals bb-eid read's (residence permit lines, nationality)" \
	want-jeanne.json got-jeanne.json
check "and it is the residence permit's" \
	jq -e '.document_type == "AR" and .nationality == "FR" and
	(.residence_permit | length) > 0' got-jeanne.json

ERRMAJOR='"http://www.bsi.bund.de/ecard/api/1.1/resultmajor#error"'

# (d) EF.CardSecurity signed by another CSCA: AusweisApp passes it on, the eID-Server's
# passive authentication refuses it; no identity.
card_insert erika --forged-security
sed 's|^expect AUTH {"result".*|expect AUTH {"result": {"major": '"$ERRMAJOR"'}}|' erika.aa \
	> forged.aa
aa forged
ok "$rc" "a forged EF.CardSecurity: the eID-Server ends with an error, AUTH major error"
check_grep "its log says passive authentication failed" "passive authentication" \
	eids/eidserver.log
result forged
check "and there is no result" test "$rc" -ne 0

# The faults the online client's tests need (tests/rig/README).
# (e) ask-more-rights: the service asks for age verification too; cancelled.
card_insert erika
eidserver ask-more-rights
cat > more.aa <<EOF
send {"cmd": "RUN_AUTH", "tcTokenURL": "$EIDS_URL/tctoken"}
expect AUTH
expect ACCESS_RIGHTS
send {"cmd": "CANCEL"}
expect AUTH {"result": {"major": $ERRMAJOR}}
EOF
aa more
ok "$rc" "ask-more-rights: ACCESS_RIGHTS, then CANCEL ends the AUTH with an error"
check "ACCESS_RIGHTS asks for age verification besides the identity" \
	msg more '.msg == "ACCESS_RIGHTS" and (.chat.required | index("AgeVerification")) and
	(.chat.required | index("FamilyName"))'

# (f) garbage: not PAOS in answer to StartPAOS.
eidserver garbage
cat > garbage.aa <<EOF
send {"cmd": "RUN_AUTH", "tcTokenURL": "$EIDS_URL/tctoken"}
expect AUTH
expect AUTH {"result": {"major": $ERRMAJOR}}
EOF
aa garbage
ok "$rc" "garbage: AusweisApp ends the AUTH with an error"
check_grep "the eID-Server answered garbage" "fault garbage" eids/eidserver.log

# (g) hang: the eID-Server never answers StartPAOS; no ACCESS_RIGHTS comes, CANCEL ends it.
eidserver hang
cat > hang.aa <<EOF
send {"cmd": "RUN_AUTH", "tcTokenURL": "$EIDS_URL/tctoken"}
expect AUTH
quiet 3
send {"cmd": "CANCEL"}
expect AUTH {"result": {"major": $ERRMAJOR}}
EOF
aa hang
ok "$rc" "hang: nothing for 3 s after RUN_AUTH, then CANCEL ends the AUTH with an error"
check_grep "the eID-Server hung on PAOS" "fault hang" eids/eidserver.log

for v in 123456 654321; do
	cat ./*.out ./*.err eids/eidserver.log | grep -q -e "$v" && echo "$v"
done > leaked
check_same "no PIN in the messages, the driver's complaints or the server's log" \
	/dev/null leaked
check_nogrep "the eID-Server raised no exception" "Traceback" eids.out
check_nogrep "the server's log holds no personal data" "MUSTERMANN\|ERIKA\|HEIDESTRASSE" \
	eids/eidserver.log

kill "$EIDS_PID" 2> /dev/null
wait "$EIDS_PID" 2> /dev/null
pcsc_stop
done_testing
