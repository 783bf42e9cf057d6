#!/bin/sh
# The kiosk page in a real browser (Debian's chromium, headless): the token URL leads to
# the page, a tell changes the screen in the browser by server-sent events, a tap in the
# page is the choice tell prints, and the end of a session goes back to welcome. The
# shipped screens (scripts/screens) are the ones shown. Screenshots of the welcome
# screen in de and en go to $BB_SHOTS when set (for review).
. "${0%/*}/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "1..0 # SKIP no chromium ($CHROMIUM)"
	exit 0
fi
CDP="python3 $BB_TOP/tests/rig/cdp.py"

# The browser runs in a session of its own (setsid), so its whole process group (zygote,
# renderers) is ended with it and nothing writes into the scratch dir after it is gone.
pids=""
browser_group=""
stop_browser() {
	[ -n "$browser_group" ] || return 0
	kill -- -"$browser_group" 2>/dev/null
	_i=0
	while kill -0 -- -"$browser_group" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL -- -"$browser_group" 2>/dev/null
	browser_group=""
}
trap 'stop_browser; for p in $pids; do kill "$p" 2>/dev/null; done; cd /; rm -rf "$scratch"' EXIT

# The shipped screens and catalogues, and one screen of the test's own whose button it
# can count on (chrome.cancel is in every catalogue).
cp -R "$BB_TOP/scripts/screens" screens
printf 'id: t-ask\ntitle: chrome.cancel\nbuttons:\n  - {value: cancel, label: chrome.cancel}\n' \
	> screens/t-ask.yaml
printf 'form:\n  screens: %s\n  services: %s\n' "$scratch/screens" "$SERVICES" > bb.yaml
BB_CONFIG=$scratch/bb.yaml
mkdir -m 700 run
sock=$scratch/run/screen

start_serve() {	# start_serve NAME ARGS...: as in 1000-screen-serve.t
	_name=$1
	shift
	"$BB_FORM" -vv serve "$@" > "$_name.url" 2> "$_name.log" &
	pid=$!
	pids="$pids $pid"
	_i=0
	while [ ! -s "$_name.url" ] && [ $_i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	url=$(head -n 1 "$_name.url")
}

chromium() {	# chromium PROFILE ARGS...: headless, the profile in the scratch dir
	_prof=$1
	shift
	exec setsid "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
		--no-default-browser-check --disable-extensions --disable-sync \
		--user-data-dir="$scratch/$_prof" --window-size=1280,800 "$@"
}

# until_dom EXPR WANT: polls the page until EXPR evaluates to WANT (20 s at most).
until_dom() {
	_i=0
	while [ $_i -lt 200 ]; do
		got=$($CDP "$dport" "$1" 2>/dev/null)
		[ "$got" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

start_serve a --control "$sock"
(chromium prof --remote-debugging-port=0 "$url") > chromium.out 2> chromium.err &
browser_group=$!
i=0
while [ ! -s prof/DevToolsActivePort ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
dport=$(head -n 1 prof/DevToolsActivePort 2>/dev/null)
ok "$(test -n "$dport"; echo $?)" "chromium started with DevTools on port ${dport:-?}"

SCREEN="document.getElementById('bb-screen').dataset.screen"
until_dom "$SCREEN" welcome; ok $? "the token URL leads to the page: welcome ($got)"
until_dom "document.cookie" ""; ok $? "the cookie is HttpOnly: not in document.cookie"
until_dom "location.search" ""; ok $? "the token has left the URL"

t0=$(date +%s%3N)
"$BB_FORM" tell wait --screen "$sock" --set name=Erika
until_dom "$SCREEN" wait; ok $? "after tell the browser shows the screen ($got)"
# Measured by the page itself: when its new document was loaded, against the start
# of the tell (both wall clock, ms).
t1=$($CDP "$dport" "Math.round(performance.timeOrigin + performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)")
echo "# from tell to the new screen's DOM loaded in the browser: $((t1 - t0)) ms"
v=$($CDP "$dport" "document.getElementById('bb-screen').dataset.version")
ok "$(test -n "$v" && test "$v" != 0; echo $?)" "the page holds the new version ($v)"
until_dom "document.querySelector('h1') !== null && document.querySelector('h1').textContent.length > 0" true; ok $? \
	"the screen's title is in the DOM"

# A tap in the page: the button's own form post, no script needed.
"$BB_FORM" tell t-ask --screen "$sock" --until tap > choice.out 2> choice.err &
tell_pid=$!
until_dom "$SCREEN + ' ' + document.getElementById('bb-screen').dataset.version" "t-ask $((v + 1))"
$CDP "$dport" "document.querySelector('#bb-screen button[name=choice][value=cancel]').click(); 1" > /dev/null
i=0
while kill -0 $tell_pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait $tell_pid
rc=$?
ok "$(test $rc -eq 0 && test "$(cat choice.out)" = cancel; echo $?)" \
	"a tap in the browser: tell prints it (exit $rc, '$(cat choice.out)')"

python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"end\":true}\n"); s.makefile().readline()' "$sock"
until_dom "$SCREEN" welcome; ok $? "end: the browser is back at welcome ($got)"
until_dom "document.documentElement.lang" de; ok $? "end: the language is the default"
check_nogrep "the browser's requests carry no token in the log" "${url#*token=}" a.log
# SIGTERM with the browser's event stream open: the stream ends, serve exits 0.
kill "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "SIGTERM with a stream open: serve stops ($((i * 100)) ms)"
wait "$pid"
rc=$?
ok "$(test $rc -eq 0; echo $?)" "... and exits 0 ($rc)"
check_nogrep "no sanitizer report" 'Sanitizer\|runtime error' a.log
stop_browser

# Screenshots of the welcome screen, one browser (and one token) each.
shots=${BB_SHOTS:-$scratch}
mkdir -p "$shots"
for lang in de en; do
	printf 'form:\n  screens: %s\n  services: %s\n  lang: %s\n' "$scratch/screens" \
		"$SERVICES" "$lang" > bb.yaml
	start_serve "s$lang" --control "$sock"
	rm -f "$shots/welcome-$lang.png"
	(chromium "p$lang" --screenshot="$shots/welcome-$lang.png" "$url") \
		> shot.out 2> shot.err
	ok "$(test -s "$shots/welcome-$lang.png"; echo $?)" "screenshot of welcome in $lang"
	check_grep "the $lang browser got the page" '^bb-form: GET /s/kiosk.css$' "s$lang.log"
	kill "$pid"
	wait "$pid"
done

done_testing
