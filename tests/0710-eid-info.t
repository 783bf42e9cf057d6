#!/bin/sh
# bb-eid readers, wait and info on a real pcscd with the vpcd virtual reader and the card
# simulator (tests/rig/cardsim.c): what the card says before any secret.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
BB_EID=${BB_EID:-$BB_BIN/bb-eid}

pcsc_for_test

expect_code 0 "readers lists the virtual reader" "$BB_EID" readers --format json
ok "$(jq -e --arg r "$PCSC_READER" 'map(select(.name == $r)) | length == 1 and .[0].card == false' out >/dev/null; echo $?)" \
	"with no card in it"
expect_code 1 "wait gives up after --timeout with 1" "$BB_EID" wait --timeout 1
expect_code 69 "info without a card is 69" "$BB_EID" info
expect_code 69 "a reader name that matches none is 69" "$BB_EID" wait --reader "no such reader" --timeout 1

card_insert erika
expect_code 0 "wait sees the card" "$BB_EID" wait --timeout 10
ok "$(test "$(cat out)" = "$PCSC_READER"; echo $?)" "and names its reader"
expect_code 0 "readers shows the card" "$BB_EID" readers --format json
ok "$(jq -e --arg r "$PCSC_READER" '.[] | select(.name == $r) | .card == true and (.atr | test("^[0-9A-F]+$")) and .pinpad == false and .pace == false' out >/dev/null; echo $?)" \
	"with its ATR, and no PIN pad or PACE in the virtual reader"
expect_code 0 "info reads EF.CardAccess" "$BB_EID" info --reader "$PCSC_READER" --format json
cp out info.json
ok "$(jq -e '.card_access | map(select(.oid == "0.4.0.127.0.7.2.2.4.2.2" and .version == 2 and .parameter_id == 13)) | length == 1' info.json >/dev/null; echo $?)" \
	"PACE ECDH generic mapping AES-128 on brainpoolP256r1 (parameter 13) is offered"
ok "$(jq -e '[.card_access[].protocol] | any(test("PACE"))' info.json >/dev/null; echo $?)" "named as OpenPACE names it"
ok "$(jq -e '.card_access | map(select(.oid | startswith("0.4.0.127.0.7.2.2.3."))) | length >= 1' info.json >/dev/null; echo $?)" "Chip Authentication is offered"
ok "$(jq -e '.pin.retries == 3 and .pin.state == "ready"' info.json >/dev/null; echo $?)" "the PIN is ready"
expect_code 0 "info as text" "$BB_EID" info --format text
check_grep "text names the PIN state" "^PIN: ready$" out
card_remove

card_insert erika --pin-retries 1
"$BB_EID" info --format json > s.json 2>/dev/null
ok "$(jq -e '.pin.retries == 1 and (.pin.state | startswith("suspended"))' s.json >/dev/null; echo $?)" "a suspended PIN says the CAN is needed"
card_remove
card_insert erika --blocked
"$BB_EID" info --format json > b.json 2>/dev/null
ok "$(jq -e '.pin.retries == 0 and (.pin.state | startswith("blocked"))' b.json >/dev/null; echo $?)" "a blocked PIN says the PUK is needed"
card_remove

# Hostile card answers: a clear error, never a crash.
card_insert erika --garbage
must_fail "a card answering garbage is refused" "$BB_EID" info
ok "$(test "$rc" -eq 76 || test "$rc" -eq 66 || test "$rc" -eq 77; echo $?)" "with a protocol status ($rc)"
card_remove
card_insert erika --truncate-response
must_fail "a card cutting its answers is refused" "$BB_EID" info
# The simulator cuts its ATR too, so pcscd may not power the card at all (69).
ok "$(test "$rc" -eq 76 || test "$rc" -eq 69; echo $?)" "as a protocol error or no usable card ($rc)"
card_remove

pcsc_stop
expect_code 69 "without the PC/SC service: 69" "$BB_EID" readers
check_grep "says so" "PC/SC service not available" err
expect_code 64 "an unknown command is a usage error" "$BB_EID" frobnicate
expect_code 0 "--help" "$BB_EID" --help

done_testing
