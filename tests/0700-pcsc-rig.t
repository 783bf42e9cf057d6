#!/bin/sh
# The PC/SC test rig (tests/rig/pcsc.sh, cardsim): a private pcscd with the vpcd reader,
# the simulated ID card of Erika Mustermann behind it (files, status words, PIN retry
# counter), card removal (also by the card itself: --fault remove@N), the fault options,
# the eID PKI and the second profile, secrets from a profile's options file, and the
# simulator ending cleanly with pcscd. (The card's PACE, secure messaging, TA and CA are
# tests/unit/eidcard.c's.)
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"

if ! command -v pcscd > /dev/null || [ ! -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] ||
    ! command -v unshare > /dev/null || ! command -v openssl > /dev/null; then
	echo "1..0 # SKIP needs pcscd, vsmartcard-vpcd, unshare and the openssl CLI"
	exit 0
fi
if ! _pcsc_can_unshare; then
	echo "1..0 # SKIP pcscd needs a private /run/pcscd: unshare -m is not allowed here"
	exit 0
fi
if [ ! -x "$CARDSIM" ]; then
	echo "1..0 # SKIP no $CARDSIM (make rigs)"
	exit 0
fi
ERIKA=$BB_TOP/tests/rig/cards/erika
AID=E80704007F00070302
PACE_OID=800A04007F00070202040202	# id-PACE-ECDH-GM-AES-CBC-CMAC-128
MSE_PIN=0022C1A40F${PACE_OID}830103
MSE_CAN=0022C1A40F${PACE_OID}830102

is() { [ "$1" = "$2" ] && return 0; echo "# got '$1', want '$2'" >&2; return 1; }

# apdus APDU...: the card's answers, one a line, in out (status in rc).
apdus() { run cardsim --client --reader "$PCSC_READER" --timeout 5 "$@"; }

# answer WANT DESCRIPTION APDU...: the last APDU's answer is WANT.
answer() {
	_want=$1 _desc=$2
	shift 2
	apdus "$@"
	is "$(tail -n 1 out)" "$_want" && [ "$rc" -eq 0 ]
	ok $? "$_desc"
}

# --- pcscd ---
pcsc_start "$scratch/pcsc"
ok $? "pcscd starts with its own reader.conf and socket"
trap 'pcsc_stop; cd /; rm -rf "$scratch"' EXIT
[ -S "$PCSC_DIR/run/pcscd.comm" ] && [ "$PCSCLITE_CSOCK_NAME" = "$PCSC_DIR/run/pcscd.comm" ]
ok $? "its socket is private to the test"
run cardsim --list-readers
[ "$rc" -eq 0 ] && grep -qxF "$PCSC_READER" out && [ "$(wc -l < out)" -eq 2 ]
ok $? "the vpcd reader is listed (two slots, nothing else)"
ss -Htln "sport = :$VPCD_PORT" | grep -q .
ok $? "vpcd listens on port $VPCD_PORT"
expect_code 69 "a transmit without a card fails" cardsim --client --reader "$PCSC_READER" \
	--timeout 5 00A4020C02011C

# --- the card ---
card_insert erika
ok $? "the card is inserted"
apdus 00A4020C02011C 00B0000000
is "$(head -n 1 out)" 9000 && [ "$rc" -eq 0 ]
ok $? "SELECT EF.CardAccess by FID"
tail -n 1 out | sed 's/9000$//' | xxd -r -p > cardaccess
is "$(tail -n 1 out | tail -c 5)" 9000
ok $? "READ BINARY EF.CardAccess answers 9000"
check_same "EF.CardAccess read back byte for byte" "$ERIKA/011C" cardaccess
openssl asn1parse -inform DER -in cardaccess > asn1 2>&1
ok $? "EF.CardAccess is DER"
check_grep "with a PACEInfo (id-PACE-ECDH-GM-AES-CBC-CMAC-128)" ':0.4.0.127.0.7.2.2.4.2.2$' asn1
apdus 00A4020C02011C 00B00000000000
tail -n 1 out | sed 's/9000$//' | xxd -r -p > cardaccess.ext
check_same "extended Le reads the whole file too" "$ERIKA/011C" cardaccess.ext
answer "$(od -An -tx1 -j 16 -N 8 "$ERIKA/011C" | tr -d ' \n' | tr a-f A-F)9000" \
	"READ BINARY at an offset" 00A4020C02011C 00B0001008
answer "$(od -An -tx1 -j 80 "$ERIKA/011C" | tr -d ' \n' | tr a-f A-F)6282" \
	"READ BINARY past the end of the file: what there is, 6282" 00A4020C02011C 00B0005010
size=$(printf '%04X' "$(wc -c < "$ERIKA/011C")")
answer 6B00 "an offset past the end: 6B00" 00A4020C02011C "00B0${size}01"
answer "$(xxd -p "$ERIKA/2F00" | tr a-f A-F)9000" "EF.DIR by SFI 1E" 00B09E0000
answer 6982 "EF.CardSecurity needs PACE: 6982" 00A4020C02011D 00B0000000
answer 6A82 "an unknown FID: 6A82" 00A4020C020177
answer 6A82 "an unknown AID: 6A82" 00A4040C07A0000002471001
answer 9000 "SELECT the eID application by AID" 00A4040C09$AID
answer 6982 "DG1 by FID needs PACE: 6982" 00A4040C09$AID 00A4020C020101 00B0000000
answer 6982 "DG4 by SFI needs PACE: 6982" 00A4040C09$AID 00B0840000
answer 6A82 "DG6 (absent in this profile) by SFI: 6A82" 00A4040C09$AID 00B0860000
answer "620C8002${size}8201018302011C9000" "SELECT with P2 04 answers an FCP" \
	00A4000C023F00 00A4020402011C00
answer 6D00 "an unknown INS: 6D00" 00CA000000
answer 6985 "General Authenticate without PACE: 6985" 10860000027C00
answer 9000 "MSE:Set AT for the PIN: 9000, three tries" "$MSE_PIN"
answer 9000 "MSE:Set AT for the CAN: 9000" "$MSE_CAN"
answer 6700 "a malformed APDU (Lc 3, 2 bytes): 6700" 00A4000C023F00 00A4020C03011C
answer 6700 "MSE:Set AT without data: 6700 (wrong length), as a real card" 0022C1A4
answer 6A80 "MSE:Set AT with a malformed data field: 6A80" 0022C1A402800F

# --- removal ---
old_pid=$CARD_PID
card_remove
ok $? "removal is seen (SCardGetStatusChange: empty)"
! kill -0 "$old_pid" 2> /dev/null
ok $? "the simulator is gone"
expect_code 69 "a transmit after removal fails" cardsim --client --reader "$PCSC_READER" \
	--timeout 5 00A4020C02011C
expect_code 75 "waiting for a card that never comes times out" \
	cardsim --client --reader "$PCSC_READER" --wait-card --timeout 1

# --- PIN states, from options and from a profile's options file ---
card_insert erika --pin-retries 1
answer 63C1 "--pin-retries 1: 63C1 (suspended)" "$MSE_PIN"
card_insert erika --pin-retries 0
answer 63C0 "--pin-retries 0: 63C0" "$MSE_PIN"
card_insert erika --blocked
answer 63C0 "--blocked: 63C0" "$MSE_PIN"
answer 6983 "... and 6983 to the first General Authenticate" "$MSE_PIN" 10860000027C0000
card_insert erika --deactivated
answer 6283 "--deactivated: 6283" "$MSE_PIN"
cp -R "$ERIKA" erika2
printf '%s\n' "--pin-retries 2" "--pin 918273 --can 112233" > erika2/options
card_insert "$scratch/erika2"
answer 63C2 "a profile's options file: 63C2" "$MSE_PIN"
! tr '\0' ' ' < "/proc/$CARD_PID/cmdline" | grep -q '918273\|112233'
ok $? "secrets from the options file are on no command line"
expect_code 64 "a bad card option is a usage error" "$CARDSIM" --fault nonsense "$ERIKA"
expect_code 66 "a missing profile is 66" "$CARDSIM" "$scratch/nosuch"

# --- the card removes itself (--fault remove@N) ---
# (pcscd resets the card for every connection, and the count starts at a reset: one
# client run.)
card_insert erika --fault remove@3
sim=$CARD_PID
apdus 00A4020C02011C 00A4020C02011C 00A4020C02011C
[ "$(cat out)" = "9000
9000" ]
ok $? "remove@3: the first two APDUs are answered"
[ "$rc" -ne 0 ]
ok $? "the third fails (exit $rc)"
run cardsim --client --reader "$PCSC_READER" --wait-removal --timeout 5
[ "$rc" -eq 0 ]
ok $? "vpcd reports the reader empty"
kill -0 "$sim" 2> /dev/null
ok $? "the simulator stays, away from vpcd, until it is ended"
expect_code 75 "no card comes back by itself" \
	cardsim --client --reader "$PCSC_READER" --wait-card --timeout 1
card_remove
ok $? "card_remove ends it"
! kill -0 "$sim" 2> /dev/null
ok $? "... it is gone"

# --- with the eID PKI: EF.CardSecurity still needs PACE; the residence permit ---
eid_pki_for_test "$scratch/eid-pki"
ok $? "eid_pki_for_test makes the PKI"
card_insert erika
ok $? "a card with --pki \$EID_PKI is inserted"
answer 6982 "EF.CardSecurity needs PACE there too: 6982" 00A4020C02011D 00B0000000
tr '\0' ' ' < "/proc/$CARD_PID/cmdline" | grep -q -- "--pki $EID_PKI"
ok $? "card_insert passed --pki"
card_insert jeanne
apdus 00A4020C02011C 00B0000000
tail -n 1 out | sed 's/9000$//' | xxd -r -p > jeanne.cardaccess
check_same "jeanne: EF.CardAccess read back" "$BB_TOP/tests/rig/cards/jeanne/011C" \
	jeanne.cardaccess
answer 9000 "jeanne: MSE:Set AT with id-PACE-ECDH-GM-AES-CBC-CMAC-256" \
	0022C1A40F800A04007F00070202040204830103
answer 6A80 "jeanne: the 128-bit protocol is not hers: 6A80" "$MSE_PIN"
unset EID_PKI

# --- faults ---
card_insert erika --atr 3B8180018080
apdus --print-atr 00A4020C02011C
is "$(head -n 1 out)" 3B8180018080
ok $? "--atr sets the ATR"
card_insert erika --truncate-response
answer 31 "--truncate-response: one byte" 00A4020C02011C 00B0000000
card_insert erika --garbage
apdus 00A4020C02011C 00A4020C02011C
[ "$rc" -eq 0 ] && [ "$(wc -l < out)" -eq 2 ] && ! grep -qx 9000 out && grep -qx '[0-9A-F]*' out &&
    [ "$(sed -n 1p out)" != "$(sed -n 2p out)" ]
ok $? "--garbage: random answers"
card_insert erika --mute
start=$(date +%s)
expect_code 75 "--mute: the client times out" \
	cardsim --client --reader "$PCSC_READER" --timeout 2 00A4020C02011C
card_remove
ok $? "a mute card can be removed"
card_insert erika
answer 9000 "pcscd and the reader recover after the mute card" 00A4020C02011C
[ $(($(date +%s) - start)) -lt 15 ]
ok $? "all within time"

# --- pcscd ends while the card is in ---
sim=$CARD_PID
kill "$PCSC_PID"
wait "$PCSC_PID" 2> /dev/null
PCSC_PID=
wait "$sim"
is $? 0
ok $? "the simulator exits 0 when vpcd closes the connection"
CARD_PID=
[ ! -e "$PCSC_DIR/run/pcscd.comm" ]
ok $? "pcscd stopped and removed its socket"
expect_code 69 "no pcscd: listing readers fails" cardsim --list-readers
pcsc_stop
! grep -q 'ERROR: AddressSanitizer\|runtime error' "$PCSC_DIR/cardsim.log"
ok $? "the simulator's log has no sanitizer report"

done_testing
