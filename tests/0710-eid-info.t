#!/bin/sh
# bb-eid readers, wait and info on a real pcscd with the vpcd virtual reader and the card
# simulator (tests/rig/cardsim.c): what the card says before any secret.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
BB_EID=${BB_EID:-$BB_BIN/bb-eid}

pcsc_for_test
# The whole answers of info for each card state are in tests/data/expected/eid/, with the
# reader's name taken out (norm FILE: to FILE.norm).
X=$BB_TOP/tests/data/expected/eid
norm() { sed "s|$PCSC_READER|READER|g" "$1" > "$1.norm"; }

expect_code 0 "readers lists the virtual reader" "$BB_EID" readers --format json
check "with no card in it" \
	jq -e --arg r "$PCSC_READER" 'map(select(.name == $r)) | length == 1 and .[0].card == false' out
expect_code 1 "wait gives up after --timeout with 1" "$BB_EID" wait --timeout 1
expect_code 69 "info without a card is 69" "$BB_EID" info
expect_code 69 "a reader name that matches none is 69" "$BB_EID" wait --reader "no such reader" --timeout 1

card_insert erika
expect_code 0 "wait sees the card" "$BB_EID" wait --timeout 10
check "and names its reader" test "$(cat out)" = "$PCSC_READER"
expect_code 0 "readers shows the card" "$BB_EID" readers --format json
check "with its ATR, and no PIN pad or PACE in the virtual reader" \
	jq -e --arg r "$PCSC_READER" '.[] | select(.name == $r) | .card == true and (.atr | test("^[0-9A-F]+$")) and .pinpad == false and .pace == false' out
expect_code 0 "info reads EF.CardAccess" "$BB_EID" info --reader "$PCSC_READER" --format json
cp out info.json
norm info.json
check_same "info as JSON, whole" "$X/info-erika.json" info.json.norm
check "PACE ECDH generic mapping AES-128 on brainpoolP256r1 (parameter 13) is offered" \
	jq -e '.card_access | map(select(.oid == "0.4.0.127.0.7.2.2.4.2.2" and .version == 2 and .parameter_id == 13)) | length == 1' info.json
check "named as OpenPACE names it" jq -e '[.card_access[].protocol] | any(test("PACE"))' info.json
check "Chip Authentication is offered" \
	jq -e '.card_access | map(select(.oid | startswith("0.4.0.127.0.7.2.2.3."))) | length >= 1' info.json
check "the PIN is ready" jq -e '.pin.retries == 3 and .pin.state == "ready"' info.json
expect_code 0 "info as text" "$BB_EID" info --format text
check_grep "text names the PIN state" "^PIN: ready$" out
norm out
check_same "info as text, whole" "$X/info-erika.txt" out.norm
card_remove

card_insert erika --pin-retries 1
"$BB_EID" info --format json > s.json 2>/dev/null
check "a suspended PIN says the CAN is needed" \
	jq -e '.pin.retries == 1 and (.pin.state | startswith("suspended"))' s.json
norm s.json
check_same "info of a suspended PIN, whole" "$X/info-suspended.json" s.json.norm
card_remove
card_insert erika --blocked
"$BB_EID" info --format json > b.json 2>/dev/null
check "a blocked PIN says the PUK is needed" \
	jq -e '.pin.retries == 0 and (.pin.state | startswith("blocked"))' b.json
norm b.json
check_same "info of a blocked PIN, whole" "$X/info-blocked.json" b.json.norm
card_remove

# Hostile card answers: a clear error, never a crash.
card_insert erika --garbage
must_fail "a card answering garbage is refused" "$BB_EID" info
check "with a protocol status ($rc)" \
	eval 'test "$rc" -eq 76 || test "$rc" -eq 66 || test "$rc" -eq 77'
card_remove
card_insert erika --truncate-response
must_fail "a card cutting its answers is refused" "$BB_EID" info
# The simulator cuts its ATR too, so pcscd may not power the card at all (69).
check "as a protocol error or no usable card ($rc)" eval 'test "$rc" -eq 76 || test "$rc" -eq 69'
card_remove

pcsc_stop
expect_code 69 "without the PC/SC service: 69" "$BB_EID" readers
check_grep "says so" "PC/SC service not available" err
expect_code 64 "an unknown command is a usage error" "$BB_EID" frobnicate
expect_code 0 "--help" "$BB_EID" --help

done_testing
