#!/bin/sh
# The kiosk's flows (scripts/services/*/flow, scripts/kiosk/flow.sh) with the real pieces:
# the screen server driven over HTTP as its page posts (tests/rig/screen.sh), pcscd with
# the virtual ID card (tests/rig/pcsc.sh), the test authority (tests/rig/authority.sh).
# Every service's happy path ends 0 with the authority holding the case; every exit
# status of every step reaches its screen, and the flow's status and step say where.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
. "$BB_TOP/tests/rig/authority.sh"
. "$BB_TOP/tests/rig/screen.sh"
. "$BB_TOP/tests/rig/eidonline.sh"

eid_pki_for_test || { echo "Bail out! make-eid-pki failed"; exit 1; }
pcsc_start "$scratch/pcsc" || { echo "Bail out! pcscd did not start"; exit 1; }
AUTH_PKI=${AUTH_PKI:-${TMPDIR:-/tmp}/bb-test-pki-$(id -u)}
export AUTH_PKI
authority_start "$scratch/authority" || { pcsc_stop; echo "Bail out! no authority"; exit 1; }
trap '[ -z "${flow_pid:-}" ] || kill -- "-$flow_pid" 2> /dev/null; kill_own "${AA_PID:-}" "${EIDS_PID:-}"; screen_stop; pcsc_stop; authority_stop; cd /; rm -rf "$scratch"' EXIT

# config IDLE WARNING [EID]: bb.yaml with the authority's targets, the eID PKI (and the
# lines EID under eid:), the shipped screens and services, a spool.
config() {
	cat "$AUTH_DIR/bb.yaml"
	printf '  timeout: 3s\n'
	printf 'eid:\n  pki: %s\n%s' "$EID_PKI" "${3:-}"
	printf 'form:\n  screens: %s\n  services: %s\n  idle: %s\n  warning: %s\n' \
		"$BB_TOP/scripts/screens" "$SERVICES" "$1" "$2"
	printf 'queue:\n  spool: %s\n' "$scratch/spool"
	printf 'capture:\n  tries: 2\n'
}
config 2m 3s > bb.yaml
config 1s 3s > idle.yaml
BB_CONFIG=$scratch/bb.yaml
export BB_CONFIG
screen_start "$scratch/run" || { echo "Bail out! bb-form serve did not start"; exit 1; }
PATH=$BB_BIN:$PATH
export PATH

# What each service's ask is answered with: what fill makes of its example answers.
write_identity_case id.json
for dir in "$SERVICES"/*; do
	svc=${dir##*/}
	[ -f "$dir/form.yaml" ] || continue
	set --
	while read -r field days; do
		set -- "$@" --set "$field=$(date -d "$days days" +%F)"
	done < "$dir/example-dates.txt"
	bb-form fill "$dir/form.yaml" --answers "$dir/example-answers.json" "$@" \
		-o "want-$svc.json" id.json || { echo "Bail out! fill $svc"; exit 1; }
done
"$BB_BIN/rig/compose-photo" compliant photo.ppm
"$BB_BIN/rig/compose-photo" small small.ppm
BB_PHOTO_INPUT=$scratch/photo.ppm
BB_SIGNATURE_REPLAY=$BB_TOP/tests/data/signature-tablet.evemu
FLOW_OUTCOME_WAIT=20
FLOW_CARD_REMOVE_WAIT=1
export BB_PHOTO_INPUT BB_SIGNATURE_REPLAY FLOW_OUTCOME_WAIT FLOW_CARD_REMOVE_WAIT

# flow ID: starts the flow as the session does, in a fresh session directory.
n_flow=0
flow() {
	n_flow=$((n_flow + 1))
	sess=$scratch/session-$n_flow
	mkdir -m 700 "$sess"
	# A group of its own: a flow that hangs is ended with every step it started.
	BB_SESSION=$sess setsid "$SERVICES/$1/flow" < /dev/null 2> "$sess.log" &
	flow_pid=$!
	flow_name=$1
}
# flow_done STATUS STEP DESCRIPTION: the flow ends with STATUS, its last step STEP.
flow_done() {
	_i=0
	while kill -0 "$flow_pid" 2> /dev/null && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -- "-$flow_pid" 2> /dev/null
	wait "$flow_pid"
	frc=$?
	fstep=$(cat "$sess/step" 2> /dev/null)
	if [ "$frc" -eq "$1" ] && [ "$fstep" = "$2" ] && [ ! -e "$sess/card-needed" ]; then
		ok 0 "$flow_name: $3: exit $1 at step $2"
	else
		ok 1 "$flow_name: $3: exit $1 at step $2 (exit $frc, step $fstep)"
		diag "$sess.log"
	fi
}
# see SCREEN DESCRIPTION: the screen comes.
see() {
	if screen_wait "$1" 30; then
		ok 0 "$flow_name: $2: the $1 screen"
	else
		ok 1 "$flow_name: $2: the $1 screen (shown: $screen_id)"
		diag "$sess.log"
	fi
}
tap() { screen_wait "$1" 30 && screen_act "choice=$2"; }
pin() { screen_wait pin 30 && screen_act "choice=ok&f:pin=$1"; }
ask() {
	python3 "$BB_TOP/tests/rig/ask_http.py" "$SCREEN_PORT" "$SCREEN_COOKIE" \
		"want-$flow_name.json" "$@" > ask.out 2> ask.err || diag ask.err
}
received() { find "$AUTH_DIR/received" -name data.json 2> /dev/null | wc -l; }

card_insert erika || { echo "Bail out! no card"; exit 1; }

# A session directory others could read is refused before anything is shown.
mkdir -m 755 open-session
BB_SESSION=$scratch/open-session "$SERVICES/sperrmuell/flow" < /dev/null > /dev/null 2> err
check "a session directory of mode 0755: 78" test $? -eq 78
check_grep "... saying what to do" "chmod 700" err

# --- every service: the happy path ----------------------------------------------------
for dir in "$SERVICES"/*; do
	svc=${dir##*/}
	[ -f "$dir/form.yaml" ] || continue
	before=$(received)
	flow "$svc"
	pin 123456
	ask
	see receipt "sent"
	check_grep "$svc: the receipt gives the reference" \
		'[0-9A-F]\{4\}-[0-9A-F]\{4\}' "$SCREEN_DIR/page"
	check_grep "$svc: ... and the authority's id of the submission" \
		'Nummer bei der Behörde' "$SCREEN_DIR/page"
	screen_act "choice=done"
	flow_done 0 receipt "happy path"
	check "$svc: the authority holds the case" test "$(received)" -eq $((before + 1))
	case $svc in
	wohnsitz-anmelden)
		check_grep "$svc: the photo was taken" "step=photo" "$sess.log" ;;
	esac
	case $svc in
	wohnsitz-anmelden|wohnsitz-abmelden|fuehrungszeugnis|wohnungsgeberbestaetigung)
		check_grep "$svc: the signature was taken" "step=signature" "$sess.log" ;;
	*)	check_nogrep "$svc: no photo, no signature" "step=photo\|step=signature" "$sess.log" ;;
	esac
done
check "nothing was queued" test -z "$(ls "$scratch/spool/deferred" 2> /dev/null)"

# The form decides what is taken besides its answers (needs), not the flow: the same
# flows with the needs of their forms swapped, in a services tree of their own.
for svc in meldebescheinigung wohnsitz-anmelden; do
	mkdir -p "svc/$svc"
	cp "$SERVICES/$svc/flow" "svc/$svc/"
done
sed 's/^needs: .*/needs: [signature, photo]/' "$SERVICES/meldebescheinigung/form.yaml" \
	> svc/meldebescheinigung/form.yaml
sed '/^needs: /d' "$SERVICES/wohnsitz-anmelden/form.yaml" > svc/wohnsitz-anmelden/form.yaml
services=$SERVICES
SERVICES=$scratch/svc BB_KIOSK=$BB_TOP/scripts/kiosk
export BB_KIOSK
flow meldebescheinigung
pin 123456
ask
tap receipt done
flow_done 0 receipt "a form that needs both"
check_grep "meldebescheinigung: needs both: the photo was taken" "step=photo" "$sess.log"
check_grep "meldebescheinigung: ... and the signature" "step=signature" "$sess.log"
check "meldebescheinigung: the photo first, whatever the order written" \
	test "$(sed -n 's/.*step=\(photo\|signature\)$/\1/p' "$sess.log" | tr '\n' ' ')" = \
	'photo signature '
check "meldebescheinigung: the case sent holds both, and says they were needed" \
	jq -e '([.attachments[].name] | index("photo") and index("signature")) and
	.form.needs == ["photo", "signature"]' "$sess/submitted.json"
flow wohnsitz-anmelden
pin 123456
ask
tap receipt done
flow_done 0 receipt "a form without needs"
check_nogrep "wohnsitz-anmelden without needs: no photo, no signature" \
	"step=photo\|step=signature" "$sess.log"
SERVICES=$services
unset BB_KIOSK

# --- the PIN ------------------------------------------------------------------------------
flow meldebescheinigung
pin 654321
see pin "a wrong PIN"
check_grep "meldebescheinigung: a wrong PIN: the pad says 2 tries are left" \
	'class="bb-error"[^>]*>[^<]*<bdi>2</bdi>' "$SCREEN_DIR/page"
screen_act "choice=ok&f:pin=123456"
ask cancel-at 1
see cancelled "cancel in ask"
flow_done 1 ask "wrong PIN, then the right one, then cancel in ask"

flow meldebescheinigung
tap pin cancel
flow_done 1 pin "cancel on the PIN pad"

card_remove
flow meldebescheinigung
see card-place "no card on the reader"
screen_act "choice=cancel"
flow_done 1 card "cancel while the card is awaited"
card_insert erika

card_insert erika --pin-retries 1
flow meldebescheinigung
pin 123456
see pin-suspended "a suspended PIN"
screen_act "choice=next"
see pin "the CAN pad"
check_grep "meldebescheinigung: the CAN pad is the CAN's" 'maxlength="6"' "$SCREEN_DIR/page"
screen_act "choice=ok&f:pin=500540"
pin 123456			# resumes the PIN
pin 123456			# reads with it
ask cancel-at 1
flow_done 1 ask "suspended: CAN and PIN resume it, then the read"

card_insert erika --blocked
flow meldebescheinigung
pin 123456
see pin-blocked "a blocked PIN"
screen_act "choice=done"
flow_done 4 read "blocked card"

card_insert erika --deactivated
flow meldebescheinigung
pin 123456
see card-deactivated "the eID function switched off"
screen_act "choice=done"
flow_done 4 read "deactivated card"

card_insert erika --expiry 20200131
flow meldebescheinigung
pin 123456
see card-expired "an expired card"
screen_act "choice=done"
flow_done 4 read "expired card"
card_insert erika

# --- photo, delivery ------------------------------------------------------------------------
BB_PHOTO_INPUT=$scratch/small.ppm flow wohnsitz-anmelden
pin 123456
ask
see photo-failed "no compliant photo in the tries"
screen_act "choice=done"
flow_done 4 photo "photo not compliant"

# Cancel on the camera and the sign screens stops the capture (a camera and a pad that
# give nothing: FIFOs nobody writes).
mkfifo nothing.ppm nothing.evemu
BB_PHOTO_INPUT=$scratch/nothing.ppm flow wohnsitz-anmelden
pin 123456
ask
see camera "the camera"
screen_act "choice=cancel"
flow_done 1 photo "cancel on the camera screen"
check "... no mirror frame is left" test -z "$(ls "$sess/mirror" 2> /dev/null)"
BB_SIGNATURE_REPLAY=$scratch/nothing.evemu flow fuehrungszeugnis
pin 123456
ask
see sign "the signature pad"
screen_act "choice=cancel"
flow_done 1 signature "cancel on the sign screen"

authority_fault 503
flow meldebescheinigung
pin 123456
ask
see receipt "503: the receipt"
check_grep "meldebescheinigung: 503: the reference is shown" '[0-9A-F]\{4\}-[0-9A-F]\{4\}' "$SCREEN_DIR/page"
check_grep "meldebescheinigung: 503: it will be sent" 'sobald die Verbindung' "$SCREEN_DIR/page"
screen_act "choice=done"
flow_done 0 receipt "authority unreachable (503): queued"
check "503: the queue holds the case" test "$(ls "$scratch/spool/deferred" | wc -l)" -eq 1

authority_fault hang
flow sperrmuell
pin 123456
ask
tap receipt done
flow_done 0 receipt "authority hangs: queued"
check "hang: the queue holds it too" test "$(ls "$scratch/spool/deferred" | wc -l)" -eq 2

authority_fault reject
flow meldebescheinigung
pin 123456
ask
see rejected "the authority rejects the application"
screen_act "choice=done"
flow_done 4 submit "rejected"
authority_fault 422-submit
flow meldebescheinigung
pin 123456
ask
see rejected-invalid "the authority refuses it as invalid"
check_nogrep "meldebescheinigung: the authority's own words are not on the screen" \
	'422\|HTTP' "$SCREEN_DIR/page"
screen_act "choice=done"
flow_done 4 submit "refused as invalid"
authority_fault none

# --- the time runs out ----------------------------------------------------------------------
BB_CONFIG=$scratch/idle.yaml flow meldebescheinigung
see timeout-warning "no PIN typed"
flow_done 2 pin "time-out at the PIN pad"

# --- the PIN tasks --------------------------------------------------------------------------
card_insert erika --transport
flow pin-change
tap pin-change transport
screen_wait pin 30
check_grep "pin-change: the transport PIN pad has 5 digits" 'maxlength="5"' "$SCREEN_DIR/page"
screen_act "choice=ok&f:pin=12345"
tap pin-new next
pin 111222
screen_wait pin 30
check_grep "pin-change: the new PIN is asked a second time" 'Neue PIN wiederholen' "$SCREEN_DIR/page"
pin 111222
see pin-changed "transport PIN to own PIN"
screen_act "choice=done"
flow_done 0 pin "changed"
printf '111222\n' | bb-eid read --new --fields given_names --pin-fd 3 3<&0 < /dev/null \
	> /dev/null 2> eid.err
ok "$?" "pin-change: the new PIN reads the card"

flow pin-change
tap pin-change own
pin 999999
tap pin-new next
pin 222333
pin 222333
see pin "a wrong current PIN"
screen_act "choice=ok&f:pin=111222"
tap pin-new next
# Mistyped once: the pad says so and asks the new PIN twice again; the card is asked only
# with a pair that matches.
pin 222333
pin 223333
screen_wait pin 30
check_grep "pin-change: two entries that differ are said" 'Die beiden Eingaben waren nicht gleich' \
	"$SCREEN_DIR/page"
check_grep "... on the first pad of the new PIN again" 'Neue PIN eingeben' "$SCREEN_DIR/page"
check_nogrep "... which holds neither entry" '222333\|223333' "$SCREEN_DIR/page"
pin 222333
pin 222333
see pin-changed "own PIN, wrong once, to a new one mistyped once"
screen_act "choice=done"
flow_done 0 pin "changed after a wrong PIN and a mismatch"
printf '222333\n' | bb-eid read --new --fields given_names --pin-fd 3 3<&0 < /dev/null \
	> /dev/null 2> eid.err
ok "$?" "pin-change: the card's PIN is the pair that matched"

# Three pairs that differ: the flow gives up with its own screen, the card not asked.
flow pin-change
tap pin-change own
pin 222333
tap pin-new next
for p in 1 2 3; do
	pin 44455$p
	pin 44456$p
done
see pin-mismatch "three pairs that differ"
screen_act "choice=done"
flow_done 4 pin "the new PIN entered differently three times"
check_grep "pin-change: bb-eid got no new PIN, so did not open the card" 'new PIN' "$sess/eid.err"
check_grep "... the log says the outcome" 'outcome=pin-mismatch' "$sess.log"
printf '222333\n' | bb-eid read --new --fields given_names --pin-fd 3 3<&0 < /dev/null \
	> /dev/null 2> eid.err
ok "$?" "pin-change: ... the PIN is still the one before"

card_insert erika --blocked
flow pin-unblock
pin 1111111111
see secret-wrong "a wrong PUK"
screen_act "choice=next"
pin 9876543210
see pin-unblocked "the PUK"
screen_act "choice=done"
flow_done 0 pin "unblocked"
printf '123456\n' | bb-eid read --new --fields given_names --pin-fd 3 3<&0 < /dev/null \
	> /dev/null 2> eid.err
ok "$?" "pin-unblock: the PIN reads the card again"

# --- online eID: sperrmuell's eID-Server reads the card through AusweisApp ---------------
if aa_available; then
	card_insert erika
	if aa_serve aa; then
		eidserver
		config 2m 3s "$(printf '  online:\n    sdk: ws://127.0.0.1:%s/eID-Kernel\n    ca_file: %s\n    timeout: 90s\n  services:\n    sperrmuell:\n      fields: all\n      tc_token_url: %s/tctoken\n      result_url: %s/result\n' \
		    "$(cat aa.port)" "$EID_PKI/online/tls.pem" "$EIDS_URL" "$EIDS_URL")
" > online.yaml
		BB_CONFIG=$scratch/online.yaml
		before=$(received)
		flow sperrmuell
		pin 654321
		see pin "online: a wrong PIN is asked again"
		check_grep "sperrmuell online: ... with the tries left" "tries=2" "$sess.log"
		pin 123456
		ask
		tap receipt done
		flow_done 0 receipt "read online"
		check_grep "sperrmuell: the flow chose online" "eid=online" "$sess.log"
		check "sperrmuell online: the authority holds the case" test "$(received)" -eq $((before + 1))
		check "sperrmuell online: the case sent says the identity was read online" \
			jq -e -n 'input | .identity.verified.method == "online" and
			.identity.family_names == "MUSTERMANN"' "$sess/submitted.json"
		flow meldebescheinigung
		pin 123456
		ask
		tap receipt done
		flow_done 0 receipt "a service without an eID-Server beside it"
		check_grep "meldebescheinigung: read locally" "eid=read" "$sess.log"
		BB_CONFIG=$scratch/bb.yaml
	else
		ok 1 "AusweisApp started for the online flow"
	fi
else
	echo "ok $((_n + 1)) # skip online eID flow: needs ausweisapp2 and python3-websocket"
	_n=$((_n + 1))
fi

# The log: steps and outcomes, never a secret or a personal value.
cat "$scratch"/session-*.log > flows.log
check_nogrep "no PIN, CAN or PUK in the flows' log" \
	'123456\|654321\|500540\|9876543210\|12345\b\|111222\|222333\|223333\|44455\|44456' flows.log
check_nogrep "no personal value in the flows' log" 'ERIKA\|MUSTERMANN\|1964\|HEIDESTRASSE' flows.log
check_nogrep "no sanitizer report" 'Sanitizer\|runtime error' flows.log

done_testing
