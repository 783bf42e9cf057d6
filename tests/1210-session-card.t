#!/bin/sh
# scripts/kiosk/session (issue 12): taking the card off the reader ends the session while
# the flow needs it ($BB_SESSION/card-needed), and only then; with two readers, the one
# eid.reader names counts, not a card on the other. A real pcscd with the vpcd
# reader and the card simulator, the real screen server, the fixture flow
# tests/data/kiosk/probe with PROBE_CARD.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/session.sh"
. "$BB_TOP/tests/rig/pcsc.sh"

pcsc_start "$scratch/pcsc" || { echo "Bail out! pcscd did not start"; exit 1; }
trap 'session_cleanup; pcsc_stop; cd /; rm -rf "$scratch"' EXIT
session_conf
session_serve

# card_session MODE DESC: a session whose flow waits on the card step (PROBE_CARD=MODE);
# the card is taken off after 2 s; sets ended (1: the session ended within 5 s of that).
card_session() {
	rm -f "$scratch/spool/counts.json"
	page
	_old=$(version)
	PROBE_CARD=$1 PROBE_WAIT=20 "$SESSION" --once > session.out 2> session.err &
	sess=$!
	srv_pids="$srv_pids $sess"
	wait_screen welcome "$_old" && tap "service probe"
	wait_screen wait
	ok $? "$2: the flow waits with the card on the reader"
	sleep 2
	check "$2: a card on the reader ends nothing" kill -0 "$sess"
	card_remove
	ended=0
	_i=0
	while [ $_i -lt 50 ]; do
		kill -0 "$sess" 2>/dev/null || { ended=1; break; }
		sleep 0.1
		_i=$((_i + 1))
	done
}

card_insert erika
card_session needed "card needed"
check "card needed: taking it off ends the session" test $ended = 1
wait "$sess"
check_grep "... logged" 'outcome=cancelled by=card status=137 step=card' session.err
bb-queue stats --format json | jq -c '.counts.probe // {}' > counts
check_grep "... counted as cancelled, in German" '^{"cancelled":1,"lang":{"de":1},"started":1}$' counts
check "... the session directory is gone" test ! -e "$shm/session"
check "... and no process of the flow is left" \
	test -z "$(ps -eo args= | grep -F "$sock" | grep -v -e grep -e ' serve ')"
page
check "... the welcome screen again" grep -q 'data-screen="welcome"' page.html

card_insert erika
card_session done "card read"
check "card read: taking it off then ends nothing" test $ended = 0
wait "$sess"
check_grep "... the flow ends the session itself" 'outcome=cancelled status=1 step=card' \
	session.err

# Two readers (vpcd's second slot, on the next port), eid.reader naming the first: a card
# on the other reader (a pad for something else) is not the ID card. Taking the ID card
# off ends the session while the other card stays.
CONF_EXTRA="eid:
  reader: $PCSC_READER
" session_conf
other="$PCSC_READER_NAME 00 01"
"$CARDSIM" --port $((VPCD_PORT + 1)) --parent $$ "$PCSC_RIG/cards/erika" \
	< /dev/null >> "$PCSC_DIR/cardsim.log" 2>&1 &
other_pid=$!
srv_pids="$srv_pids $other_pid"
cardsim --client --reader "$other" --wait-card --timeout 10
ok $? "two readers: a card on the other one ($other)"
bb-eid readers --reader "$PCSC_READER" --format json > readers.json
check "bb-eid readers --reader: only the reader named" \
	jq -e --arg r "$PCSC_READER" '. == [.[0]] and .[0].name == $r' readers.json
expect_code 1 "bb-eid wait: a card on the other reader is not eid.reader's: 1 (no card in time)" \
	bb-eid wait --timeout 1
card_insert erika
expect_code 0 "bb-eid wait: the card on eid.reader's reader: 0" bb-eid wait --timeout 1
check "... and its name ($(cat out))" test "$(cat out)" = "$PCSC_READER"
card_session needed "two readers"
check "two readers: the ID card taken off eid.reader's ends the session" test $ended = 1
check "... while the other reader's card stays" kill -0 "$other_pid"
wait "$sess"
check_grep "... logged" 'outcome=cancelled by=card status=137 step=card' session.err
kill "$other_pid"
wait "$other_pid" 2>/dev/null

check_nogrep "no sanitizer report" 'Sanitizer\|runtime error' run/serve.log
done_testing
