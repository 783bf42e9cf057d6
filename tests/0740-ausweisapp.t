#!/bin/sh
# AusweisApp2 (Debian's ausweisapp2 1.26.2, the BSI-certified eID client) as an independent
# terminal against the card simulator: the real AusweisApp through its SDK
# (tests/rig/ausweisapp.py), the real pcscd with vpcd, cardsim with the test PKI. The
# simulator and bb-eid were built together and could agree on a mistake; each workflow
# here must end as AusweisApp reports it for a real card (its SDK documentation,
# docs/sdk/messages.rst), and the PIN it set must then open the card for bb-eid (issue 13).
# Skipped only without ausweisapp2 or python3-websocket (scripts/install-deps installs both).
# The time of each workflow is printed as a TAP comment.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/ausweisapp.sh"
printf '111222\n' > newpin

# aa NAME: runs the workflow script NAME.aa with AusweisApp: the messages it sent in
# NAME.out, the driver's complaint in NAME.err, status in $rc; prints as a TAP comment the
# time AusweisApp took to offer its SDK and the script's laps (each from the previous lap,
# the first from the SDK's first answer).
aa() {
	$AA --timeout 30 --timing "$1.time" --log "$1.log" --home "aa-$1" "$1.aa" \
		> "$1.out" 2> "$1.err"
	rc=$?
	echo "# ausweisapp $1: AusweisApp up in $(jq -r 'select(.start_ms) | .start_ms' \
		"$1.time" 2> /dev/null) ms; $(jq -r -s '[.[] | select(.lap) |
		"\(.lap) \(.ms) ms"] | join(", ")' "$1.time" 2> /dev/null)"
	[ "$rc" -eq 0 ] || diag "$1.err"
}

# msg NAME FILTER: whether AusweisApp sent a message matching the jq FILTER.
msg() { jq -e -s "any(.[]; $2)" "$1.out" > /dev/null; }

# The card as AusweisApp saw it in the PC/SC reader: never its built-in simulator reader.
READER='"reader": {"name": "bb vpcd 00 00"'

# (a) The PIN changed by AusweisApp.
card_insert erika
cat > change.aa <<EOF
send {"cmd": "GET_INFO"}
expect INFO {"VersionInfo": {"Name": "AusweisApp2"}}
send {"cmd": "RUN_CHANGE_PIN"}
expect CHANGE_PIN
expect ENTER_PIN {$READER, "card": {"retryCounter": 3, "deactivated": false}}}
lap card-found
send {"cmd": "SET_PIN", "value": "123456"}
expect ENTER_NEW_PIN
send {"cmd": "SET_NEW_PIN", "value": "111222"}
expect CHANGE_PIN {"success": true}
lap pin-change
EOF
aa change
ok "$rc" "AusweisApp changes the PIN: ENTER_PIN, ENTER_NEW_PIN, CHANGE_PIN success"
echo "# AusweisApp $(jq -r 'select(.msg == "INFO") | .VersionInfo."Implementation-Version"' change.out)"
"$BB_EID" read --new --pin-fd 3 3< newpin > out 2> err
ok "$?" "bb-eid reads with the PIN AusweisApp set"
"$BB_EID" read --new --pin-fd 3 3< pin > out 2> err
check "and the old PIN is wrong for it" test "$?" -eq 2

# The same on the residence permit (brainpoolP384r1, AES-256 PACE: long-form lengths).
card_insert jeanne
sed '/INFO/d' change.aa > jeanne.aa
aa jeanne
ok "$rc" "AusweisApp changes the PIN of the residence permit (PACE on brainpoolP384r1)"
"$BB_EID" read --new --pin-fd 3 3< newpin > out 2> err
ok "$?" "bb-eid reads it with that PIN"

# (b) The transport PIN (5 digits) to a PIN: cardsim --transport (PIN 12345, changeable only).
card_insert erika --transport
cat > transport.aa <<EOF
send {"cmd": "RUN_CHANGE_PIN"}
expect CHANGE_PIN
expect ENTER_PIN {$READER, "card": {"retryCounter": 3}}}
lap card-found
send {"cmd": "SET_PIN", "value": "12345"}
expect ENTER_NEW_PIN
send {"cmd": "SET_NEW_PIN", "value": "111222"}
expect CHANGE_PIN {"success": true}
lap pin-change
EOF
aa transport
ok "$rc" "AusweisApp changes the transport PIN to a PIN"
"$BB_EID" read --new --pin-fd 3 3< newpin > out 2> err
ok "$?" "bb-eid reads with that PIN"

# (c) Two wrong PINs: the third try needs the CAN first (ENTER_CAN, retryCounter 1);
# with the CAN, the right PIN changes it and the counter is 3 again.
card_insert erika
cat > can.aa <<EOF
send {"cmd": "RUN_CHANGE_PIN"}
expect CHANGE_PIN
expect ENTER_PIN {$READER, "card": {"retryCounter": 3}}}
lap card-found
send {"cmd": "SET_PIN", "value": "654321"}
expect ENTER_PIN {"reader": {"card": {"retryCounter": 2}}}
send {"cmd": "SET_PIN", "value": "654321"}
expect ENTER_CAN {"reader": {"card": {"retryCounter": 1}}}
lap two-wrong-pins
send {"cmd": "SET_CAN", "value": "500540"}
expect ENTER_PIN {"reader": {"card": {"retryCounter": 1}}}
send {"cmd": "SET_PIN", "value": "123456"}
expect ENTER_NEW_PIN
send {"cmd": "SET_NEW_PIN", "value": "111222"}
expect CHANGE_PIN {"success": true}
lap can-and-pin-change
EOF
aa can
check "after two wrong PINs AusweisApp asks for the CAN (retryCounter 1)" \
	msg can '.msg == "ENTER_CAN" and .reader.card.retryCounter == 1'
ok "$rc" "with the CAN the third try changes the PIN"
"$BB_EID" info --format json > info.json 2> /dev/null
check "the card has 3 PIN retries again" jq -e '.pin.retries == 3' info.json
"$BB_EID" read --new --pin-fd 3 3< newpin > out 2> err
ok "$?" "bb-eid reads with the new PIN"

# A wrong PUK: ENTER_PUK again, without an error and not inoperative; one of 3 digits:
# ENTER_PUK with an error, the card not asked; CANCEL: no success, the PIN still blocked.
card_insert erika --blocked
cat > badpuk.aa <<EOF
send {"cmd": "RUN_CHANGE_PIN"}
expect CHANGE_PIN
expect ENTER_PUK {$READER, "card": {"retryCounter": 0}}}
lap card-found
send {"cmd": "SET_PUK", "value": "1111111111"}
expect ENTER_PUK {"reader": {"card": {"retryCounter": 0, "inoperative": false}}}
lap wrong-puk
send {"cmd": "SET_PUK", "value": "123"}
expect ENTER_PUK {"error": "You must provide 10 digits"}
send {"cmd": "CANCEL"}
expect CHANGE_PIN {"success": false}
EOF
aa badpuk
ok "$rc" "a wrong PUK: AusweisApp asks for it again; a short one: it says so; cancel"
"$BB_EID" info --format json > info.json 2> /dev/null
check "the PIN is still blocked" jq -e '.pin.retries == 0' info.json

# (d) The PIN blocked: AusweisApp asks for the PUK and unblocks it (RESET RETRY COUNTER
# under secure messaging, 0C 2C 03 03 with only DO8E), then the PIN is changed.
card_insert erika --blocked
cat > puk.aa <<EOF
send {"cmd": "RUN_CHANGE_PIN"}
expect CHANGE_PIN
expect ENTER_PUK {$READER, "card": {"retryCounter": 0, "inoperative": false}}}
lap card-found
send {"cmd": "SET_PUK", "value": "9876543210"}
expect ENTER_PIN {"reader": {"card": {"retryCounter": 3}}}
send {"cmd": "SET_PIN", "value": "123456"}
expect ENTER_NEW_PIN
send {"cmd": "SET_NEW_PIN", "value": "111222"}
expect CHANGE_PIN {"success": true}
lap unblock-and-change
EOF
aa puk
check "with the PIN blocked AusweisApp asks for the PUK (retryCounter 0)" \
	msg puk '.msg == "ENTER_PUK" and .reader.card.retryCounter == 0'
# Today the simulator answers AusweisApp's RESET RETRY COUNTER with 6988: the MAC of a
# command with neither DO87 nor DO97 (issue 13 item 1).
ok "$rc" "AusweisApp unblocks with the PUK and changes the PIN (issue 13 item 1: the MAC of a command without data objects)"
"$BB_EID" read --new --pin-fd 3 3< newpin > out 2> err
ok "$?" "bb-eid reads with the PIN set after the unblock"

# (e) The eID function deactivated: AusweisApp shows the card as deactivated, asks for
# nothing and waits for another card; CANCEL ends the workflow without success.
card_insert erika --deactivated
cat > deactivated.aa <<EOF
send {"cmd": "RUN_CHANGE_PIN"}
expect CHANGE_PIN
expect READER {"name": "bb vpcd 00 00", "card": {"deactivated": true, "retryCounter": 0}}
lap card-found
quiet 2
send {"cmd": "CANCEL"}
expect CHANGE_PIN {"success": false}
EOF
aa deactivated
ok "$rc" "a deactivated card: AusweisApp says deactivated, asks for no PIN, cancels"
check "and never asked for a PIN, CAN or PUK" \
	! msg deactivated '.msg == "ENTER_PIN" or .msg == "ENTER_CAN" or .msg == "ENTER_PUK"'

for v in 123456 111222 12345 654321 500540 9876543210; do
	cat ./*.out ./*.err | grep -q -e "$v" && echo "$v"
done > leaked
check_same "no PIN, CAN or PUK in the messages or the driver's complaints" \
	/dev/null leaked

# No AusweisApp outlives its workflow.
for p in $(pgrep -x AusweisApp2); do readlink "/proc/$p/cwd"; done > left
check_nogrep "no AusweisApp left running" "^$scratch/" left

pcsc_stop
done_testing
