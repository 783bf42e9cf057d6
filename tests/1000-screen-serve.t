#!/bin/sh
# bb-form serve and tell (issue 11): the kiosk URL and its one-time token, the cookie,
# Host and Origin checks, the headers on every answer, the control socket, a screen
# shown and a choice taken, time-outs, the end of a session; then a real headless
# Chromium that follows the screens by server-sent events.
. "${0%/*}/lib.sh"

srv_pids=""
trap 'kill_own $srv_pids; cd /; rm -rf "$scratch"' EXIT

# Screens of the test's own, so the shipped texts may change without breaking it.
mkdir -p screens/catalog screens/pictures services
cp -r "$SERVICES/sperrmuell" "$SERVICES/meldebescheinigung" services/
# Tasks without a form, a flow only: offered when a catalogue names them, and executable.
mkdir services/a-pin-task services/nameless services/inert
printf '#!/bin/sh\n' > services/a-pin-task/flow
cp services/a-pin-task/flow services/nameless/flow
cp services/a-pin-task/flow services/inert/flow
chmod 755 services/a-pin-task/flow services/nameless/flow
cat > screens/catalog/de.yaml <<'YAML'
lang.name: Deutsch
lang.dir: ltr
chrome.language: Sprache
chrome.size: Schriftgröße
chrome.contrast: Kontrast
chrome.speech_on: Vorlesen an
chrome.speech_off: Vorlesen aus
chrome.cancel: Abbrechen
welcome.title: Willkommen
welcome.text: Bitte wählen Sie.
wait.title: Bitte warten
wait.text: "Einen Moment, {name}."
ask.title: Weiter?
ask.yes: Ja
ask.picture: Ein Punkt
svc.sperrmuell.title: Sperrmüll
svc.sperrmuell.text: Abholung bestellen
svc.a-pin-task.title: PIN ändern
svc.inert.title: Nicht ausführbar
welcome.services: Dienste
wait.busy: Wird bearbeitet
kbd.space: Leerzeichen
YAML
cat > screens/catalog/en.yaml <<'YAML'
lang.name: English
lang.dir: ltr
chrome.language: Language
chrome.size: Text size
chrome.contrast: Contrast
chrome.speech_on: Read aloud on
chrome.speech_off: Read aloud off
chrome.cancel: Cancel
welcome.title: Welcome
welcome.text: Please choose.
wait.title: Please wait
wait.text: "One moment, {name}."
ask.title: Go on?
ask.yes: "Yes"
ask.picture: A dot
svc.sperrmuell.title: Bulky waste
YAML
cat > screens/catalog/ar.yaml <<'YAML'
lang.name: العربية
lang.dir: rtl
welcome.title: أهلا وسهلا
YAML
cat > screens/welcome.yaml <<'YAML'
id: welcome
title: welcome.title
text: [welcome.text]
languages: true
services: true
YAML
cat > screens/wait.yaml <<'YAML'
id: wait
title: wait.title
text: [wait.text]
busy: true
YAML
cat > screens/ask.yaml <<'YAML'
id: ask
title: ask.title
picture: dot.svg
buttons:
  - {value: yes, label: ask.yes}
  - {value: cancel, label: chrome.cancel}
YAML
echo '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 2"><circle cx="1" cy="1" r="1"/></svg>' \
	> screens/pictures/dot.svg
printf 'form:\n  screens: %s\n  services: %s\n' "$scratch/screens" "$scratch/services" > bb.yaml
BB_CONFIG=$scratch/bb.yaml
mkdir -m 700 run
sock=$scratch/run/screen

# start_serve NAME ARGS...: bb-form -vv serve in the background, its stdout in NAME.url,
# stderr in NAME.log; waits for the URL line and sets url, port, token, pid.
start_serve() {
	_name=$1
	shift
	"$BB_FORM" -vv serve "$@" > "$_name.url" 2> "$_name.log" &
	pid=$!
	srv_pids="$srv_pids $pid"
	_i=0
	while [ ! -s "$_name.url" ] && [ $_i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	url=$(head -n 1 "$_name.url")
	port=${url#http://127.0.0.1:}
	port=${port%%/*}
	token=${url#*token=}
}

# get PATH [CURL ARGS...]: headers in h, body in b, status in code.
get() {
	_p=$1
	shift
	code=$(curl -s -o b -D h -w '%{http_code}' "$@" "http://127.0.0.1:$port$_p")
}

# The four headers every answer carries (issue 11, the contract's HTTP section).
headers_ok() {
	grep -qi '^Cache-Control: no-store' h &&
	grep -qi "^Content-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'" h &&
	grep -qi '^X-Content-Type-Options: nosniff' h &&
	grep -qi '^Referrer-Policy: same-origin' h
}

start_serve a --control "$sock"
echo "$url" > url.txt
check_grep "serve prints the kiosk URL with a 64-hex token" \
	'^http://127\.0\.0\.1:[0-9][0-9]*/?token=[0-9a-f]\{64\}$' url.txt
check "serve prints one line" test "$(wc -l < a.url)" -eq 1
check "the control socket is a socket with mode 0600" \
	eval 'test "$(stat -c %a "$sock")" = 600 && test -S "$sock"'

get /
check "no cookie: 403 ($code)" test "$code" = 403
check "403: the four headers" headers_ok
get /events
check "no cookie: /events 403 ($code)" test "$code" = 403
get /s/kiosk.css -b "bb=$token"
check "the token as cookie before the token was used: 403 ($code)" test "$code" = 403

get "/?token=$token" -H "Host: evil.example:$port"
check "token with a foreign Host: 403 ($code)" test "$code" = 403
get "/?token=0$token"
check "a wrong token: 403 ($code)" test "$code" = 403
get "/?token=$token"
check "token: 303 ($code)" test "$code" = 303
check_grep "303 to /" '^Location: /.$' h
check_grep "the cookie" '^Set-Cookie: bb=[0-9a-f]\{64\}; HttpOnly; SameSite=Strict; Path=/.$' h
session=$(sed -n 's/^Set-Cookie: bb=\([0-9a-f]*\);.*/\1/p' h)
# The URL is in the kiosk browser's argv, which every local user can read for as long
# as it runs: the cookie must be a secret of its own, not the token again.
check "the cookie is not the token" eval 'test -n "$session" && test "$session" != "$token"'
get / -b "bb=$token"
check "the used token as a cookie: 403 ($code)" test "$code" = 403
check "303: the four headers" headers_ok
get "/?token=$token"
check "a second use of the token: 403 ($code)" test "$code" = 403

C="bb=$session"
get / -b "$C"
check "with the cookie: the page ($code)" test "$code" = 200
check "page: the four headers" headers_ok
check_grep "page: text/html" '^Content-Type: text/html; charset=utf-8' h
check_grep "page: the welcome screen first" 'data-screen="welcome"' b
check_grep "page: html element of the contract" \
	'^<html lang="de" dir="ltr" class="bb size-100 contrast-normal" data-volume="50">$' b
check_grep "welcome: the service by its catalogue title" \
	'<button type="submit" name="choice" value="service sperrmuell" class="bb-secondary">Sperrmüll<span class="bb-sub">Abholung bestellen</span></button>' b
check_grep "welcome: a heading over the services" '^<h2>Dienste</h2>$' b
check_grep "welcome: a service no catalogue names, by its definition's title" \
	'value="service meldebescheinigung" class="bb-secondary">Meldebescheinigung beantragen<' b
check_grep "welcome: each language in its own" \
	'name="lang" value="ar" class="bb-secondary" lang="ar" dir="rtl">العربية<' b
check_grep "welcome: the current language, not by colour alone" \
	'name="lang" value="de" class="bb-secondary" lang="de" dir="ltr" aria-current="true">Deutsch<' b
check_grep "welcome: the services in their own group" '^<div class="bb-services">$' b
check_grep "welcome: a task with a flow and a title in the catalogue" \
	'value="service a-pin-task" class="bb-secondary">PIN ändern<' b
grep -o 'value="service [a-z-]*"' b > tiles
printf 'value="service %s"\n' meldebescheinigung sperrmuell a-pin-task > tiles.want
check_same "welcome: the services with a form first, then the tasks" tiles.want tiles
# The chrome has one language control, a menu that is closed at first: the welcome
# screen lists the languages once, as its tiles.
check_grep "chrome: one language menu, named in English too" \
	'^<details class="bb-lang"><summary><svg class="bb-globe" aria-hidden="true" [^>]*>.*</svg>Sprache <span lang="en" dir="ltr">Language</span></summary><div class="bb-lang-list">$' b
sed -n '/<header/,/<\/header>/p' b > header
check_grep "chrome: the menu holds each language, named in its own" \
	'^<button type="submit" name="lang" value="ar" lang="ar" dir="rtl">العربية</button>$' header
check "chrome: the menu is one details element" test "$(grep -c '<details' header)" -eq 1
check "chrome: no language button outside the menu" \
	test "$(sed '/<details/,/<\/details>/d' header | grep -c 'name="lang"')" -eq 0
check "the page has no other details element" test "$(grep -o '<details' b | wc -l)" -eq 1
check_grep "welcome: the languages in their own group" '^<div class="bb-languages">$' b
check_grep "page: the keyboard's labels for kiosk.js" \
	'^<div id="bb-keyboard" data-labels="{&quot;kbd.space&quot;:&quot;Leerzeichen&quot;}" hidden></div>$' b
for p in /s/kiosk.css /s/kiosk.js /p/dot.svg /nowhere /p/nothing.svg; do
	get "$p" -b "$C"
	check "$p: the four headers ($code)" headers_ok
done
get /s/kiosk.js -b "$C"
check_grep "kiosk.js is the embedded file" "EventSource('/events')" b
get /p/dot.svg -b "$C"
check "/p/dot.svg: the picture" eval 'test "$code" = 200 && cmp -s b screens/pictures/dot.svg'
get /p/..%2fwelcome.yaml -b "$C"
check "/p/ takes names only ($code)" test "$code" = 404
code=$(curl -s -o b -D h -m 1 -w '%{http_code}' -b "$C" "http://127.0.0.1:$port/events")
check "/events: 200 and the four headers" eval 'test "$code" = 200 && headers_ok'
check_grep "/events: text/event-stream" '^Content-Type: text/event-stream' h
check_grep "/events: the version at once" '^data: [0-9]' b

# At most 4 event streams: a fifth ends the oldest (a replaced page's), not itself.
spids=""
for i in 1 2 3 4 5; do
	curl -s -N -m 20 -b "$C" "http://127.0.0.1:$port/events" > "ev$i" 2>/dev/null &
	spids="$spids $!"
	sleep 0.3
done
sleep 0.5
set -- $spids
first=$1 fifth=$5
check "a fifth event stream ends the first, and stays" \
	eval '! kill -0 "$first" 2>/dev/null && kill -0 "$fifth"'
kill $spids 2>/dev/null
wait $spids 2>/dev/null

get / -b "$C" -H "Host: evil.example:$port"
check "foreign Host: 403 ($code)" test "$code" = 403
check "foreign Host: the four headers" headers_ok
get / -b "$C" -H "Host: 127.0.0.1:1"
check "another port in Host: 403 ($code)" test "$code" = 403
get / -b "$C" -H "Host: localhost:$port"
check "Host localhost:PORT: 200 ($code)" test "$code" = 200
get /act -b "$C" -H "Origin: http://evil.example" -d size=150
check "foreign Origin: 403 ($code)" test "$code" = 403
get / -b "$C"
check_grep "foreign Origin changed nothing" 'class="bb size-100 ' b
get /act -b "$C" -H "Origin: http://localhost:$port" -d size=150
check "own Origin: 303 ($code)" test "$code" = 303
get / -b "$C"
check_grep "the size setting applies" 'class="bb size-150 contrast-normal"' b
get /act -b "$C" -H "Content-Type: text/plain" -d size=200
check "POST /act takes form data only ($code)" test "$code" = 415
get / -b "$C" -I
check "HEAD: 405 ($code)" test "$code" = 405
get / -b "$C"
check_grep "neither changed the size" 'class="bb size-150 contrast-normal"' b

# A screen with placeholders: every text escaped.
expect_code 0 "tell wait: exit 0" "$BB_FORM" tell wait --screen "$sock" \
	--set 'name=<b>Erika & "Max"</b>'
check "tell without --until prints nothing" test ! -s out
get / -b "$C"
check_grep "tell: the page shows the screen" '<main id="bb-screen" data-version="[0-9]*" data-screen="wait" tabindex="-1">' b
check_grep "tell: its title" '<h1>Bitte warten</h1>' b
check_grep "tell: the placeholder, escaped" \
	'<p>Einen Moment, <bdi>&lt;b&gt;Erika &amp; &quot;Max&quot;&lt;/b&gt;</bdi>.</p>' b
check_nogrep "tell: nothing unescaped" '<b>Erika' b
check_grep "busy screen: the indicator with its text" \
	'^<div class="bb-busy" role="status">Wird bearbeitet</div>$' b
check_grep "<title> of the screen" '<title>Bitte warten – bb</title>' b

# A choice: tell waits for it and prints it.
"$BB_FORM" tell ask --screen "$sock" --until tap > choice.out 2> choice.err &
tell_pid=$!
i=0
until get / -b "$C" && grep -q 'data-screen="ask"' b || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
v=$(sed -n 's/.*data-version="\([0-9]*\)".*/\1/p' b)
check_grep "ask: the picture with its text" '<img class="bb-picture" alt="Ein Punkt" src="/p/dot.svg">' b
check_grep "ask: a primary button" '<button type="submit" name="choice" value="yes" class="bb-primary">Ja</button>' b
check_grep "ask: cancel is secondary" 'value="cancel" class="bb-secondary">Abbrechen<' b
get /act -b "$C" -d "v=$((v - 1))&choice=yes"
get /act -b "$C" -d "v=$v&choice=evil"
sleep 0.3
check "a stale page's choice and an unoffered one are not taken" kill -0 $tell_pid
get /act -b "$C" -d "v=$v&choice=yes"
check "POST /act: 303 ($code)" test "$code" = 303
check_grep "POST /act: to /" '^Location: /.$' h
wait $tell_pid
rc=$?
check "tell --until tap prints the choice and exits 0 (exit $rc, '$(cat choice.out)')" \
	eval 'test $rc -eq 0 && test "$(cat choice.out)" = yes'

# The welcome screen's services are choices too.
"$BB_FORM" tell welcome --screen "$sock" --until tap > choice.out 2> choice.err &
tell_pid=$!
sleep 0.3
get / -b "$C"
v=$(sed -n 's/.*data-version="\([0-9]*\)".*/\1/p' b)
get /act -b "$C" --data-urlencode "v=$v" --data-urlencode "choice=service sperrmuell"
wait $tell_pid
check "welcome: 'service ID' chosen" test "$(cat choice.out)" = "service sperrmuell"

# Time-outs.
start=$(date +%s)
expect_code 1 "tell --until 1 with no tap: exit 1" "$BB_FORM" tell ask --screen "$sock" --until 1
check "a time-out prints nothing" eval 'test ! -s out && test ! -s err'
check "the time-out came in time" test $(($(date +%s) - start)) -le 5
expect_code 64 "tell --until 0: usage" "$BB_FORM" tell ask --screen "$sock" --until 0

# A translated service title has the German name under it (the counter's and the
# letters' word), marked German and isolated; a title that is German itself does not.
get /act -b "$C" -d lang=en
"$BB_FORM" tell welcome --screen "$sock"
get / -b "$C"
check_grep "en: the German name under a translated service title" \
	'value="service sperrmuell" class="bb-secondary">Bulky waste<span class="bb-sub bb-de" lang="de"><bdi>Sperrmüll</bdi></span><span class="bb-sub" lang="de">Abholung bestellen</span></button>' b
check_grep "en: a title from de has no second German name" \
	'value="service a-pin-task" class="bb-secondary" lang="de">PIN ändern</button>' b

# Language: ar has only a title; the rest falls back to en with the element marked.
get /act -b "$C" -d lang=ar -d contrast=high
"$BB_FORM" tell welcome --screen "$sock"
get / -b "$C"
check_grep "ar: html lang and dir" '^<html lang="ar" dir="rtl" class="bb size-150 contrast-high" data-volume="50">$' b
check_grep "ar: its own title" '<h1>أهلا وسهلا</h1>' b
check_grep "ar: a missing key from en, marked" '<p lang="en" dir="ltr">Please choose.</p>' b
check_grep "ar: a definition's title in de, marked" \
	'value="service meldebescheinigung" class="bb-secondary" lang="de" dir="ltr">Meldebescheinigung beantragen<' b
check_grep "ar: the language menu in ar, named in English too" \
	'^<details class="bb-lang"><summary lang="en" dir="ltr"><svg [^>]*>.*</svg>Language</summary>' b
check_grep "ar: a service text from de, marked" 'value="service sperrmuell" class="bb-secondary" lang="de" dir="ltr">Sperrmüll<span class="bb-sub">Abholung bestellen</span><' b

# The end of a session: settings back, the welcome screen.
printf '{"end":true}\n' > end.json
"$BB_FORM" tell wait --screen "$sock" --until tap > /dev/null 2> ended.err &
tell_pid=$!
sleep 0.3
ans=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"end\":true}\n"); print(s.makefile().readline().strip())' "$sock")
check "end: answered ok, with the ended session's settings ($ans)" \
	test "$ans" = '{"ok":true,"lang":"ar","speech":false}'
wait $tell_pid
rc=$?
check "a tell waiting when the session ends: exit 1 ($rc)" test $rc -eq 1
get / -b "$C"
check_grep "end: language, size and contrast reset" '^<html lang="de" dir="ltr" class="bb size-100 contrast-normal" data-volume="50">$' b
check_grep "end: the welcome screen" 'data-screen="welcome"' b

# bb-form end: the same from a flow's shell.
get /act -b "$C" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'lang=en&v=0'
"$BB_FORM" tell wait --screen "$sock" --set reference=BB-7 > /dev/null
expect_code 0 "bb-form end" "$BB_FORM" end --screen "$sock"
get / -b "$C"
check_grep "bb-form end: the language reset, welcome shown" '^<html lang="de" ' b
check_grep "bb-form end: the welcome screen" 'data-screen="welcome"' b
expect_code 69 "bb-form end without a server: 69" "$BB_FORM" end --screen "$scratch/none/screen"

# A control client that sends and never reads its answers may not stop the server: its
# socket fills, and a blocking send would hang the control thread for every other step.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.setblocking(False)
line = b"{}\n" * 20000
try:
    for _ in range(50):
        s.send(line)
        time.sleep(0.02)
except OSError:
    pass
open("flood.ready", "w").close()
time.sleep(15)' "$sock" &
flood_pid=$!
i=0
while [ ! -e flood.ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_code 0 "a client that never reads does not block another's tell" \
	timeout 5 "$BB_FORM" tell wait --screen "$sock"
kill "$flood_pid" 2>/dev/null
wait "$flood_pid" 2>/dev/null

expect_code 66 "tell an unknown screen: 66" "$BB_FORM" tell nosuch --screen "$sock"
expect_code 64 "tell a bad screen name: 64" "$BB_FORM" tell ../etc --screen "$sock"
expect_code 75 "a second server on the same socket: 75" "$BB_FORM" serve --control "$sock"

# The log at -vv: method and path, never the token, a placeholder value or a choice.
check_grep "-vv logs the requests" '^bb-form: GET /$' a.log
check_grep "-vv logs POST /act" '^bb-form: POST /act$' a.log
check_nogrep "no token in the log" "$token" a.log
check_nogrep "no cookie in the log" "$session" a.log
check_nogrep "no placeholder value in the log" 'Erika' a.log
check_nogrep "no choice in the log" 'sperrmuell\|choice' a.log

kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: serve exits 0 ($rc)" test $rc -eq 0
check "the control socket is gone" test ! -e "$sock"
expect_code 69 "tell with no server: 69" "$BB_FORM" tell wait --screen "$sock"
expect_code 69 "tell with no directory: 69" "$BB_FORM" tell wait --screen "$scratch/none/screen"

mkdir open
chmod 777 open
expect_code 78 "serve refuses a control directory others can write" \
	"$BB_FORM" serve --control "$scratch/open/screen"
check_grep "the message says what to chmod" 'chmod go-w' err
expect_code 78 "tell refuses it too" "$BB_FORM" tell wait --screen "$scratch/open/screen"
expect_code 64 "serve: a relative control path is a usage error" "$BB_FORM" serve --control run/screen
expect_code 64 "tell: a relative control path is a usage error" "$BB_FORM" tell wait --screen run/screen
expect_code 64 "serve listens on loopback only" "$BB_FORM" serve --listen 0.0.0.0:0 \
	--control "$sock"
XDG_RUNTIME_DIR=$scratch/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
start_serve x
check "default socket \$XDG_RUNTIME_DIR/bb/screen, its directory created 0700" \
	eval 'test "$(stat -c %a "$XDG_RUNTIME_DIR/bb")" = 700 && test -S "$XDG_RUNTIME_DIR/bb/screen"'
expect_code 0 "tell finds the default socket" "$BB_FORM" tell wait
kill "$pid"
wait "$pid"
unset XDG_RUNTIME_DIR

# A screen definition with a mistake is named with its line.
printf 'id: ask\ntitle: ask.title\ncolour: red\n' > screens/ask.yaml
rm screens/welcome.yaml
start_serve b --control "$sock"
get "/?token=$token"
get / -b "bb=$(sed -n 's/^Set-Cookie: bb=\([0-9a-f]*\);.*/\1/p' h)"
check_grep "no welcome screen: the blank idle page" '<main id="bb-screen" data-version="0" data-screen="" tabindex="-1">' b
check_grep "the idle page's title" '<title>bb</title>' b
expect_code 78 "tell a broken screen: 78" "$BB_FORM" tell ask --screen "$sock"
check_grep "the mistake's FILE:LINE" 'ask.yaml:3: unknown key' err
kill "$pid"
wait "$pid"
cat *.log > all.log
check_nogrep "no sanitizer report from any server" 'Sanitizer\|runtime error' all.log
printf 'lang.name: Português\nlang.dir: ltr\n' > screens/catalog/pt-BR.yaml
start_serve p --control "$sock"
check "a town's catalogue pt-BR.yaml is taken" test -n "$url"
kill "$pid"
wait "$pid"
cp screens/catalog/pt-BR.yaml screens/catalog/Portugues.yaml
expect_code 78 "a catalogue whose name is no language tag: 78" "$BB_FORM" serve --control "$sock"
check_grep "... named" 'Portugues.yaml: the name is not a language tag' err
rm screens/catalog/Portugues.yaml
printf 'lang.name: Polski\nlang.dir: up\n' > screens/catalog/pl.yaml
expect_code 78 "a catalogue with a bad lang.dir: 78" "$BB_FORM" serve --control "$sock"
check_grep "... with its line" 'pl.yaml:2: .lang.dir. must be ltr or rtl' err
printf 'lang.name: Polski\nlang.dir: ltr\nWelcome: x\n' > screens/catalog/pl.yaml
expect_code 78 "a catalogue key that is not [a-z0-9_.-]+: 78" "$BB_FORM" serve --control "$sock"
check_grep "... with its line" 'pl.yaml:3: Welcome: not a catalogue key' err
rm screens/catalog/pl.yaml
rm screens/catalog/en.yaml
expect_code 78 "serve without the en catalogue: 78" "$BB_FORM" serve --control "$sock"

done_testing
