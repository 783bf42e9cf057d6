#!/bin/sh
# scripts/kiosk/session (issue 12): the loop with the real screen server and the fixture
# flow tests/data/kiosk/probe (the person's part played with curl on the kiosk page):
# bb-form config and the kiosk keys; a session directory that is not the user's, or not
# in memory, is refused; a cancel, a SIGKILLed flow, the presence command and the
# presence device each end the session, leave no process of the flow and no session
# directory, and are counted with bb-queue count without a personal value; bb-form end
# prints the ended session's settings.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/session.sh"

# counted WHAT JQ: the real bb-queue's counts of the fixture service pass JQ.
counted() {
	bb-queue stats --format json | jq -c '.counts.probe // {}' > counts
	if jq -e "$2" counts > /dev/null; then ok 0 "$1"; else ok 1 "$1"; diag counts; fi
}
PROBE_PHOTO=$scratch/photo.jpg
export PROBE_PHOTO
head -c 2048 /dev/urandom > photo.jpg

# conf [KEY: VALUE]...: the test's bb.yaml, with the kiosk keys given (and form's lines
# in FORM_EXTRA).
conf() { session_conf "$@"; }
conf
BB_SCREEN=$scratch/run/screen
export BB_SCREEN

# bb-form config: a key's value or its default; durations in seconds; a typo is 78.
expect_code 0 "config kiosk.session: 0" "$BB_FORM" config kiosk.session
check "... its value" test "$(cat out)" = "$shm/session"
expect_code 0 "config form.idle: the default" "$BB_FORM" config form.idle
check "... in seconds (2m: $(cat out))" test "$(cat out)" = 120
expect_code 1 "config kiosk.presence unset: 1, nothing printed" "$BB_FORM" config kiosk.presence
check "... nothing printed" test ! -s out
expect_code 64 "config of no key: 64" "$BB_FORM" config kiosk.nosuch
expect_code 64 "config of a section: 64" "$BB_FORM" config kiosk
printf 'kiosk:\n  sesion: /run/x\n' > typo.yaml
expect_code 78 "a typo in the kiosk section: 78" "$BB_FORM" -c typo.yaml config kiosk.session
check_grep "... names the key" "unknown key 'kiosk.sesion'" err
printf 'kiosk:\n  presence_device: /dev/null\n  presence_event: sw:eleven\n' > typo.yaml
expect_code 78 "a presence_event not key:N or sw:N: 78" "$BB_FORM" -c typo.yaml config kiosk.session
printf 'kiosk:\n  presence_device: /dev/null\n' > typo.yaml
expect_code 78 "a presence_device without its event: 78" "$BB_FORM" -c typo.yaml config kiosk.session

# The session directory's parent must be the user's, not writable by others, in memory.
mkdir -m 777 "$shm/open"
printf 'kiosk:\n  session: %s\n' "$shm/open/session" > open.yaml
BB_CONFIG=$scratch/open.yaml expect_code 78 "a session directory others can write to: 78" \
	"$SESSION" --once
check_grep "... says so" "chmod go-w" err
printf 'kiosk:\n  session: %s\n' "$scratch/disk/session" > disk.yaml
BB_CONFIG=$scratch/disk.yaml expect_code 78 "a session directory on a disk: 78" "$SESSION" --once
if [ "$(stat -f -c %T "$scratch")" = tmpfs ]; then
	skip "the scratch directory is on tmpfs here" 1
else
	check_grep "... says so" "is not on tmpfs" err
fi

session_serve

# The flow: the session's child that runs the fixture (other runs may run it too).
flow_pid() {
	ps -eo pid=,ppid=,args= | awk -v s="$sess" -v f="$BB_TOP/tests/data/kiosk/probe/flow" \
	    '$2 == s && index($0, f) { print $1; exit }'
}
# The flow's processes: found by the unique control socket in their arguments.
flow_procs() { ps -eo pid=,args= | grep -F "$sock" | grep -v -e grep -e ' serve ' ; }

# start_session: session --once in the background, the service chosen on the welcome
# screen; waits until the flow asks.
start_session() {
	rm -f "$scratch/spool/counts.json"
	page
	_old=$(version)
	"$SESSION" --once > session.out 2> session.err &
	sess=$!
	srv_pids="$srv_pids $sess"
	wait_screen welcome "$_old" && tap "service probe"
	wait_file "$shm/session/step"
	_i=0
	until page && grep -q 'id="bb-ask"' page.html || [ $_i -ge 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
# end_session DESC: waits for the session; its status in $rc.
end_session() {
	_i=0
	while kill -0 "$sess" 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
	wait "$sess"
	rc=$?
	check "$1: the session directory is gone" test ! -e "$shm/session"
	check "$1: no process of the flow is left" test -z "$(flow_procs)"
}

# A cancel on the ask page: the flow exits 1, the session counts it and ends.
start_session
check "cancel: the flow asks on the screen" grep -q 'id="bb-ask"' page.html
check "the session directory is 0700" test "$(stat -c %a "$shm/session")" = 700
tap cancel
end_session cancel
check "cancel: session --once exits with the flow's 1 ($rc)" test $rc -eq 1
counted "cancel: counted as started and cancelled, in German, without speech" \
	'. == {"started":1,"cancelled":1,"lang":{"de":1}}'
check_grep "cancel: logged" 'end service=probe outcome=cancelled status=1 step=ask' session.err
page
check "cancel: the welcome screen again" grep -q 'data-screen="welcome"' page.html

# The flow SIGKILLed mid-step, while its camera writes frames in the background: the
# session ends every process of the flow's group, shows its own screen and counts a
# failure at the step.
start_session
fpid=$(flow_pid)
group() { ps -eo pgid=,pid=,stat=,args= | awk -v g="$fpid" '$1 == g && $3 !~ /^Z/ { print $2, $4, $5 }'; }
page
_old=$(version)
curl -s -o /dev/null -b "$C" --data-urlencode "v=$(version)" --data-urlencode "choice=next" \
	--data-urlencode "f:family_names=Probe" --data-urlencode "f:date_of_birth=01.02.1990" \
	"http://127.0.0.1:$port/act"
wait_screen ask "$_old"
page
grep -q 'value="send"' page.html && tap send
wait_screen camera
ok $? "killed: the flow runs to the camera"
check "killed: the flow, its step and its camera run in the flow's group ($(group | wc -l))" \
	eval 'test -n "$fpid" && test "$(group | wc -l)" -ge 3'
page
_old=$(version)
kill -KILL "$fpid"
wait_screen sorry "$_old"
ok $? "killed: the session's own screen says sorry"
check "killed: no process of the flow's group is left $(group | tr "\n" " ")" test -z "$(group)"
tap done
end_session killed
check "killed: exits with the flow's status ($rc)" test $rc -eq 137
counted "killed: counted as failed at its step" \
	'. == {"started":1,"failed":1,"failed_steps":{"photo":1},"lang":{"de":1}}'

# Speech on during the session: bb-form end says so, and the count carries it.
start_session
curl -s -o /dev/null -b "$C" --data-urlencode "speech=on" --data-urlencode "lang=en" \
	"http://127.0.0.1:$port/act"
tap cancel
end_session speech
counted "speech on, English: counted with the language and speech" \
	'. == {"started":1,"cancelled":1,"lang":{"en":1},"speech":1}'

# bb-form end prints the ended session's settings as one JSON line.
curl -s -o /dev/null -b "$C" --data-urlencode "lang=en" "http://127.0.0.1:$port/act"
expect_code 0 "end: 0" "$BB_FORM" end --screen "$sock"
check "end: the settings ($(cat out))" test "$(cat out)" = '{"lang":"en","speech":false}'
expect_code 0 "end again" "$BB_FORM" end --screen "$sock"
check "... back to the defaults" test "$(cat out)" = '{"lang":"de","speech":false}'

# The presence command: its exit ends the session, the flow's processes with it.
conf "presence: \"while [ ! -e '$scratch/gone' ]; do sleep 0.1; done\""
start_session
sleep 1
check "presence command: the session runs while it does" kill -0 "$sess"
touch gone
end_session "presence command"
check_grep "presence command: ends it" 'outcome=cancelled by=presence' session.err
counted "... counted as cancelled" '.cancelled == 1'
rm -f gone

# The presence device (an evdev switch; here a FIFO of struct input_event, as the
# headset's tests do): the switch's other value does nothing, its event ends the session.
mkfifo presence
conf "presence_device: $scratch/presence" "presence_event: sw:0x0b"
start_session
evdev() {	# evdev TYPE CODE VALUE: one event and a SYN_REPORT, the writer stays a while
	python3 -c '
import struct, sys, time
t, c, v = (int(x) for x in sys.argv[2:5])
with open(sys.argv[1], "wb", buffering=0) as f:
	f.write(struct.pack("llHHi", 0, 0, t, c, v) + struct.pack("llHHi", 0, 0, 0, 0, 0))
	time.sleep(1)' "$scratch/presence" "$@"
}
evdev 5 11 1
check "presence device: a person seen does not end it" kill -0 "$sess"
evdev 5 10 0
check "... nor another switch" kill -0 "$sess"
evdev 5 11 0
end_session "presence device"
check_grep "presence device: its event ends the session" 'outcome=cancelled by=presence' session.err
check "... and no watcher is left" \
	test -z "$(ps -eo args= | grep -F 'bb-form presence' | grep -v grep)"

# SIGTERM (systemd stopping the loop) mid-flow: the session ends and is wiped first.
conf
start_session
fpid=$(flow_pid)
kill -TERM "$sess"
end_session SIGTERM
check "SIGTERM: the loop exits 0 ($rc)" test $rc -eq 0
check "SIGTERM: no process of the flow's group is left" test -z "$(group)"
page
check "SIGTERM: the server forgot the session" grep -q 'data-screen="welcome"' page.html

# Nobody chooses on the welcome screen for form.idle + form.warning: the language a
# person picked before walking away is reset for the next one.
FORM_EXTRA='  idle: 1s
  warning: 1s
' conf
page
_old=$(version)
"$SESSION" --once > session.out 2> session.err &
sess=$!
srv_pids="$srv_pids $sess"
wait_screen welcome "$_old"
curl -s -o /dev/null -b "$C" --data-urlencode "lang=en" "http://127.0.0.1:$port/act"
page
check "welcome: a person picks English" grep -q '<html lang="en"' page.html
sleep 4
page
check "welcome: nobody chose for a while: back to German" grep -q '<html lang="de"' page.html
check "... and the loop still waits for the next person" kill -0 "$sess"
# The welcome screen is shown again every 2 s here: a tap may come a version late.
i=0
while [ ! -e "$shm/session/step" ] && [ $i -lt 50 ]; do
	page
	tap "service probe"
	sleep 0.3
	i=$((i + 1))
done
i=0
while kill -0 "$sess" 2>/dev/null && [ $i -lt 100 ]; do
	page
	tap cancel
	sleep 0.2
	i=$((i + 1))
done
kill "$sess" 2>/dev/null
wait "$sess"

# A count that cannot be kept (a counts file others may write: 78) is said in the log,
# and the session still ends.
conf
start_session
chmod 666 "$scratch/spool/counts.json"
tap cancel
end_session "a count refused"
check "a count refused: the session still ends ($rc)" test $rc -eq 1
check_grep "... and says it was not counted" 'bb-queue count: exit 78: not counted' session.err

check_nogrep "no sanitizer report" 'Sanitizer\|runtime error' run/serve.log
done_testing
