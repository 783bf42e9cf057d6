#!/bin/sh
# bb-eid online (issue 15): the real AusweisApp (Debian's ausweisapp2, running as the
# kiosk runs it: a process beside the screen, its SDK on a WebSocket) authenticates the
# simulated card against tests/rig/eidserver.py; bb-eid drives it over the SDK with the
# PIN from a descriptor, allows only the service's rights, and writes the identity the
# service's result endpoint gives, the same as bb-eid read's.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/ausweisapp.sh"

aa_serve aa || { echo "Bail out! AusweisApp did not start"; exit 1; }
trap 'kill_own "$AA_PID" "${EIDS_PID:-}"; cd /; rm -rf "$scratch"' EXIT
eidserver

# config [SERVICE-FIELDS [TIMEOUT]]: bb.yaml for the eID-Server at $EIDS_URL. The time
# limit is generous (AusweisApp's first authentication on a loaded machine takes long),
# but for the hanging server.
config() {
	cat > "$BB_CONFIG" <<EOC
eid:
  pki: $EID_PKI
  online:
    sdk: ws://127.0.0.1:$(cat aa.port)/eID-Kernel
    ca_file: $EID_PKI/online/tls.pem
    timeout: ${2:-90s}
    card_wait: 3s
  services:
    town:
      fields: ${1:-all}
      tc_token_url: $EIDS_URL/tctoken
      result_url: $EIDS_URL/result
EOC
}
config
printf '654321\n' > badpin
printf '500540\n' > can

online() {
	"$BB_EID" online --service town --new "$@" > out 2> err
	rc=$?
}
# expect_rc STATUS DESCRIPTION: the last online's status.
expect_rc() {
	check "$2 (exit $rc, want $1)" test "$rc" -eq "$1" || diag err
}

# (a) Erika.
card_insert erika
online --pin-fd 3 3< pin
expect_rc 0 "Erika authenticates online"
# same_as_read DESCRIPTION: the identity in out is the one bb-eid read reads (not both
# empty: an empty input is an error of jq -n input).
same_as_read() {
	"$BB_EID" read --new --pin-fd 3 3< pin > local.json 2> local.err
	jq -S -n 'input | .identity | del(.verified)' local.json > want.json 2>&1
	jq -S -n 'input | .identity | del(.verified)' out > got.json 2>&1
	check_same "$1" want.json got.json
}
same_as_read "the identity equals bb-eid read's"
port=$(cat eids/port)
check "verified: online, the service, the eID-Server, the server's checks" \
	jq -e -n --arg s "127.0.0.1:$port" 'input | .identity.verified | .method == "online" and
	.pace == "pin" and .service == "town" and .eid_server == $s and .ta == true and
	.ca == true and .passive_auth == "ok" and (.document_signer | length) > 0' out
check "a new case" jq -e -n 'input | .id | length > 0' out

# (b) A wrong PIN: 2, the retries said; AusweisApp takes the next authentication.
online --pin-fd 3 3< badpin
expect_rc 2 "a wrong PIN"
check_grep "says the retries left" "wrong PIN, 2 retries left" err
online --pin-fd 3 3< pin
expect_rc 0 "the right PIN next: AusweisApp's workflow had ended"

# (c) Jeanne's residence permit.
card_insert jeanne
online --pin-fd 3 3< pin
expect_rc 0 "the residence permit authenticates online"
same_as_read "its identity equals bb-eid read's"

# (d) A suspended PIN: 3 without the CAN; with it, the CAN then the PIN.
card_insert erika --pin-retries 1
online --pin-fd 3 3< pin
expect_rc 3 "a suspended PIN without the CAN"
check_grep "says the CAN is needed" "CAN" err
online --pin-fd 3 --can-fd 4 3< pin 4< can
expect_rc 0 "with the CAN and the PIN"
check "verified.pace says can" jq -e -n 'input | .identity.verified.pace == "can"' out

# (e) A blocked PIN, a switched-off eID function.
card_insert erika --blocked
online --pin-fd 3 3< pin
expect_rc 3 "a blocked PIN"
check_grep "says the PUK is needed" "PUK" err
printf '9876543210\n' > puk
online --pin-fd 3 --puk-fd 4 3< pin 4< puk
expect_rc 0 "with the PUK: unblocked, then the PIN"
online --pin-fd 3 3< pin
expect_rc 0 "the PIN works again without the PUK"
card_insert erika --deactivated
online --pin-fd 3 3< pin
expect_rc 3 "the eID function switched off"

# (f) More rights than the service may have: refused before the card is touched.
card_insert erika
config "family_names,given_names"
online --pin-fd 3 3< pin
expect_rc 77 "the eID-Server asks for more than the service's fields"
check_grep "names a right it may not have" "more than it may read" err
eidserver ask-more-rights
config
online --pin-fd 3 3< pin
expect_rc 77 "the eID-Server asks for age verification too"
check_grep "names it" "AgeVerification" err
eidserver
config
online --pin-fd 3 3< pin
expect_rc 0 "the card still takes the PIN (no retry spent)"

# (g) The eID-Server answers garbage; hangs; AusweisApp not there; no card.
eidserver garbage
config
online --pin-fd 3 3< pin
expect_rc 77 "garbage from the eID-Server: the authentication failed"
eidserver hang
config all 8s
online --pin-fd 3 3< pin
expect_rc 75 "a hanging eID-Server: no end in time"
eidserver
config
card_remove
online --pin-fd 3 3< pin
expect_rc 69 "no card in a reader"
sed -i "s|sdk: .*|sdk: ws://127.0.0.1:$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')/eID-Kernel|" "$BB_CONFIG"
online --pin-fd 3 3< pin
expect_rc 69 "AusweisApp not running"

# (h) Bad usage and configuration.
online < /dev/null
expect_rc 64 "no PIN descriptor and no terminal to ask on"
"$BB_EID" online --pin-fd 3 3< pin > out 2> err
rc=$?
expect_rc 64 "no --service"
"$BB_EID" online --service town --timeout 5 --pin-fd 3 3< pin > out 2> err
rc=$?
expect_rc 64 "--timeout is read's and wait's, not online's (eid.online.timeout)"
sed -i '/result_url/d' "$BB_CONFIG"
online --pin-fd 3 3< pin
expect_rc 78 "a service without result_url"

# (i) The card taken out during the authentication (the simulator leaves the reader after
# 8 commands, while AusweisApp reads it): AusweisApp 1.26 ends it as "unknownError"
# without a READER message first, so bb-eid can only say the authentication failed (77).
# Last: the simulator's reader may take its time to come back after such a removal.
config
card_insert erika --fault remove@8
online --pin-fd 3 3< pin
expect_rc 77 "the card taken out during the authentication"
check "... one line on stderr, that it failed" eval \
	'test "$(wc -l < err)" -eq 1 && grep -q "the authentication failed" err'
card_remove

for v in 123456 654321 500540; do
	cat ./*.json err aa.log aa.err eids/eidserver.log 2> /dev/null | grep -q -e "$v" && echo "$v"
done > leaked
check_same "no PIN or CAN in the case, the messages or the logs" /dev/null leaked

pcsc_stop
done_testing
