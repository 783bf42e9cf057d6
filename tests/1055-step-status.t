#!/bin/sh
# bb-form ask and pin tell a flow why they wrote nothing: 1 when the person cancelled (on
# the page, or "no" on the time-out warning) or the session ended, 2 when the time ran out
# with no answer to the warning. The real screen server, driven over HTTP as its page posts.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/screen.sh"
trap 'screen_stop; cd /; rm -rf "$scratch"' EXIT

write_identity_case id.json
cat > bb.yaml <<EOF
form:
  screens: $BB_TOP/scripts/screens
  services: $SERVICES
  warning: 1s
EOF
BB_CONFIG=$scratch/bb.yaml
screen_start run || { echo "Bail out! bb-form serve did not start"; exit 1; }

# pin STATUS-FILE ARGS...: bb-form pin in the background, the digits into pin.out.
pin_bg() {
	"$BB_FORM" pin --screen "$SCREEN_SOCK" --to-fd 3 "$@" 3> pin.out 2> pin.err &
	bg=$!
}
finish() {
	wait "$bg"
	rc=$?
}

# No answer to the warning: 2.
expect_code 2 "pin: no answer to the time-out warning is 2" \
	"$BB_FORM" pin --screen "$SCREEN_SOCK" --timeout 1 --to-fd 3 3> pin.out
check "... and no digit written" test ! -s pin.out
screen_page
check "... the pad gives way to the wait screen ($screen_id)" test "$screen_id" = wait
expect_code 2 "ask: no answer to the time-out warning is 2" \
	"$BB_FORM" ask meldebescheinigung --screen "$SCREEN_SOCK" --timeout 1 -o case.json id.json
check "... and no case written" test ! -e case.json

# Cancel on the pad: 1.
pin_bg
screen_wait pin
screen_act "choice=cancel"
finish
check "pin: cancel on the pad is 1 ($rc)" eval 'test "$rc" -eq 1 && test ! -s pin.out'

# "No, finish" on the warning: the person's choice, 1.
pin_bg --timeout 1
screen_wait timeout-warning
screen_act "choice=end"
finish
check "pin: 'no, finish' on the warning is 1 ($rc)" eval 'test "$rc" -eq 1 && test ! -s pin.out'
"$BB_FORM" ask meldebescheinigung --screen "$SCREEN_SOCK" --timeout 1 -o case.json id.json \
	2> ask.err &
bg=$!
screen_wait timeout-warning
screen_act "choice=end"
finish
check "ask: 'no, finish' on the warning is 1 ($rc)" eval 'test "$rc" -eq 1 && test ! -e case.json'

# "More time", then the right digits: 0.
pin_bg --timeout 1
screen_wait timeout-warning
screen_act "choice=more"
screen_wait pin
screen_act "choice=ok&f:pin=135790"
finish
check "pin: more time, then the digits: 0 ($rc)" \
	eval 'test "$rc" -eq 0 && test "$(cat pin.out)" = 135790'

# The session ends while the pad waits: 1.
pin_bg
screen_wait pin
"$BB_FORM" end --screen "$SCREEN_SOCK" > /dev/null
finish
check "pin: the session ended is 1 ($rc)" eval 'test "$rc" -eq 1 && test ! -s pin.out'
"$BB_FORM" -v ask meldebescheinigung --screen "$SCREEN_SOCK" -o case.json id.json 2> ask.err &
bg=$!
screen_wait ask
"$BB_FORM" end --screen "$SCREEN_SOCK" > /dev/null
finish
check "ask: the session ended is 1 ($rc)" eval 'test "$rc" -eq 1 && test ! -e case.json'
check_grep "... the log says it ended" "form.ended" ask.err

done_testing
