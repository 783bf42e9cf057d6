#!/bin/sh
# Speech on the citizen's screen (issue 11, EN 301 549 5.1.3): POST /say speaks a text
# with the real espeak-ng into a WAV, in each of the eight languages; refused without the
# cookie, with speech off and with a text too long; a missing or hanging espeak-ng. The
# volume setting and its reset when the session ends. Then in a real browser: with speech
# on the page asks /say for what the screen shows (seen by a spy around the real
# espeak-ng: a script first in PATH that copies its stdin to a file and execs
# /usr/bin/espeak-ng) and plays it; stop; again; a headset jack (a FIFO of input_event
# records); the PIN pad of bb-form pin speaks each digit only as pin.masked, never a
# digit, and with --confirm says the second pad and a mismatch; a page with the real
# kiosk.js on the static rig server checks a PIN field typed into by keys and pad, its
# keys focused, and an error without a prefix of its own; axe
# on the chrome with speech on, and screenshots of it in de, en and ar to $BB_SHOTS.
. "${0%/*}/lib.sh"

if [ ! -x /usr/bin/espeak-ng ]; then
	echo "1..0 # SKIP missing: espeak-ng (scripts/install-deps installs it)"
	exit 0
fi

# Servers still running at the end are stopped; one stopped already is taken off the
# list: its pid, reused (pid_max is 32768 and the suite is busy), may be anyone's.
srv_pids=""
trap 'for p in $srv_pids; do kill "$p" 2>/dev/null; done; cd /; [ -n "$KEEP" ] || rm -rf "$scratch"' EXIT
stop_serve() {	# stop_serve PID
	kill "$1"
	wait "$1" 2> /dev/null
	_rc=$?
	_l=
	for _p in $srv_pids; do [ "$_p" = "$1" ] || _l="$_l $_p"; done
	srv_pids=$_l
	return $_rc
}

# The spy: what bb-form serve asks espeak-ng to say, one file per run (and its
# arguments beside it), then the real program speaks it.
mkdir -p spybin spy hangbin nobin
cat > spybin/espeak-ng <<'EOF'
#!/bin/sh
f=$(mktemp "$SPY_DIR/say.$(date +%s%N).XXXXXX") || exit 70
cat > "$f"
printf '%s\n' "$*" > "$f.argv"
exec /usr/bin/espeak-ng "$@" < "$f"
EOF
# One that hangs, to be killed.
cat > hangbin/espeak-ng <<'EOF'
#!/bin/sh
echo $$ > "$SPY_DIR/hang.pid"
exec sleep 120
EOF
chmod +x spybin/espeak-ng hangbin/espeak-ng
SPY_DIR=$scratch/spy
export SPY_DIR

printf 'form:\n  screens: %s\n  services: %s\n' "$BB_TOP/scripts/screens" "$SERVICES" > bb.yaml
BB_CONFIG=$scratch/bb.yaml
mkdir -m 700 run

# start_serve NAME PATHDIR: bb-form -vv serve with PATHDIR first in PATH; sets url, port,
# pid and C (the cookie, from the token).
start_serve() {
	PATH=$scratch/$2:$PATH "$BB_FORM" -vv serve --control "$scratch/run/$1" > "$1.url" \
		2> "$1.log" &
	pid=$!
	srv_pids="$srv_pids $pid"
	_i=0
	while [ ! -s "$1.url" ] && [ $_i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	url=$(head -n 1 "$1.url")
	port=${url#http://127.0.0.1:}
	port=${port%%/*}
	C="bb=$(curl -s -D - -o /dev/null "$url" | sed -n 's/^Set-Cookie: bb=\([0-9a-f]*\);.*/\1/p')"
}

# say TEXT [CURL ARGS...]: POST /say text=TEXT; headers in h, body in b, status in code.
say() {
	_t=$1
	shift
	code=$(curl -s -o b -D h -w '%{http_code}' --data-urlencode "text=$_t" "$@" \
		"http://127.0.0.1:$port/say")
}

# wav_ok FILE: a RIFF/WAVE whose RIFF size is the file's less 8 (espeak-ng leaves it
# wrong on a pipe; the server sets it), with sound after the header.
wav_ok() {
	[ "$(head -c 4 "$1")" = RIFF ] && [ "$(dd if="$1" bs=1 skip=8 count=4 2>/dev/null)" = WAVE ] &&
	[ "$(od -An -tu4 -j4 -N4 "$1" | tr -d ' ')" -eq $(($(stat -c %s "$1") - 8)) ] &&
	[ "$(stat -c %s "$1")" -gt 1000 ]
}

spied() { ls spy | grep -c '^say\.[0-9]*\.[A-Za-z0-9]*$'; }

start_serve a spybin
page() { curl -s -o page.html -b "$C" "http://127.0.0.1:$port/"; }

say "Guten Tag"
check "/say without the cookie: 403 ($code)" test "$code" = 403
say "Guten Tag" -b "$C"
check "/say with speech off: 409 ($code)" test "$code" = 409
check "... and espeak-ng did not run" test "$(spied)" -eq 0
code=$(curl -s -o b -w '%{http_code}' -b "$C" -d speech=on -d volume=75 \
	"http://127.0.0.1:$port/act")
page
check_grep "speech on: the page says so on html, with the volume" \
	'^<html lang="de" dir="ltr" class="bb size-100 contrast-normal" data-volume="75" data-speech="on">$' page.html
check_grep "speech on: a stop control (shown by kiosk.js)" \
	'<button type="button" class="bb-say" data-say="stop" hidden>Stopp</button>' page.html
check_grep "speech on: the volume shown" '<span class="bb-volume">Lautstärke <bdi>75</bdi> %</span>' page.html
check_grep "speech on: a step down and up" \
	'name="volume" value="50">Leiser</button>' page.html
check_grep "... and up" 'name="volume" value="100">Lauter</button>' page.html

# Each language with its own voice, in its own script.
for l in de:'Guten Tag, Erika Mustermann' en:'Good morning' tr:'Günaydın' \
    ar:'صباح الخير' uk:'Доброго ранку' ru:'Доброе утро' pl:'Dzień dobry' ro:'Bună dimineața'; do
	lang=${l%%:*}
	text=${l#*:}
	n0=$(spied)
	say "$text" -b "$C" -d "lang=$lang"
	last=$(ls spy | grep '^say\.[0-9]*\.[A-Za-z0-9]*$' | sort | tail -n 1)
	check "/say in $lang: a WAV, no-store, the text on espeak-ng's stdin, voice $lang ($code)" \
		eval 'test "$code" = 200 && wav_ok b && grep -qi "^Content-Type: audio/wav" h &&
		grep -qi "^Cache-Control: no-store" h && test "$(spied)" -eq $((n0 + 1)) &&
		test "$(cat "spy/$last")" = "$text" &&
		grep -q -- "-v $lang\$" "spy/$last.argv"'
done
say "Hallo" -b "$C"
check "no lang: the session's language" \
	grep -q -- '-v de$' "spy/$(ls spy | grep 'argv$' | sort | tail -n 1)"
say "Hallo" -b "$C" -d lang=xx
check "a language without a catalogue: 200 ($code)" test "$code" = 200
check "a language without a catalogue: the session's" \
	grep -q -- '-v de$' "spy/$(ls spy | grep 'argv$' | sort | tail -n 1)"
check "the text never in espeak-ng's arguments" ! grep -q 'Erika\|Mustermann' spy/*.argv

n0=$(spied)
long=$(head -c 2049 /dev/zero | tr '\0' 'a')
say "$long" -b "$C"
check "2049 bytes of text: 413, espeak-ng not run ($code)" \
	eval 'test "$code" = 413 && test "$(spied)" -eq "$n0"'
say "$(head -c 2048 /dev/zero | tr '\0' 'a')" -b "$C"
check "2048 bytes: spoken ($code)" test "$code" = 200
say "   " -b "$C"
check "no text: 400 ($code)" test "$code" = 400
code=$(curl -s -o b -w '%{http_code}' -b "$C" -H 'Content-Type: text/plain' \
	--data-binary 'text=x' "http://127.0.0.1:$port/say")
check "not a form: 415 ($code)" test "$code" = 415
code=$(curl -s -o b -w '%{http_code}' -b "$C" "http://127.0.0.1:$port/say")
check "GET /say: 404 ($code)" test "$code" = 404
code=$(curl -s -o b -w '%{http_code}' -b "$C" -H 'Origin: http://evil.example' \
	--data-urlencode 'text=x' "http://127.0.0.1:$port/say")
check "/say from a foreign Origin: 403 ($code)" test "$code" = 403

# Volume: only the four steps; the end of the session resets it with speech.
curl -s -o /dev/null -b "$C" -d volume=33 "http://127.0.0.1:$port/act"
page
check_grep "volume 33: refused, 75 stays" 'data-volume="75"' page.html
curl -s -o /dev/null -b "$C" -d volume=100 "http://127.0.0.1:$port/act"
page
check_grep "volume 100" 'data-volume="100" data-speech="on"' page.html
check_grep "at 100 louder stays 100" 'name="volume" value="100">Lauter</button>' page.html
ans=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"end\":true}\n"); print(s.makefile().readline().strip())' "$scratch/run/a")
page
check "end: says speech was on ($ans)" test "$ans" = '{"ok":true,"lang":"de","speech":true}'
check_grep "end: sets volume back to 50, speech off" \
	'^<html lang="de" dir="ltr" class="bb size-100 contrast-normal" data-volume="50">$' page.html
check_nogrep "end: no volume control with speech off" 'bb-volume' page.html
say "Hallo" -b "$C"
check "end: /say refused again ($code)" test "$code" = 409

check_nogrep "the texts are not in the log" 'Erika\|Guten Tag\|Günaydın\|aaaa' a.log
check_grep "the log names the route only" 'POST /say$' a.log

# espeak-ng missing, and one that hangs: 503, said in the log; the hanging one killed.
PATH=/nonexistent "$BB_FORM" -vv serve --control "$scratch/run/c" > c.url 2> c.log &
pid=$!
srv_pids="$srv_pids $pid"
i=0
while [ ! -s c.url ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(head -n 1 c.url)
port=${url#http://127.0.0.1:}
port=${port%%/*}
C="bb=$(curl -s -D - -o /dev/null "$url" | sed -n 's/^Set-Cookie: bb=\([0-9a-f]*\);.*/\1/p')"
curl -s -o /dev/null -b "$C" -d speech=on "http://127.0.0.1:$port/act"
say "Hallo" -b "$C"
check "no espeak-ng in PATH: 503 ($code)" test "$code" = 503
check_grep "... the log says so" 'speech: espeak-ng is not installed' c.log
stop_serve "$pid"

start_serve d hangbin
curl -s -o /dev/null -b "$C" -d speech=on "http://127.0.0.1:$port/act"
t0=$(date +%s)
say "Hallo" -b "$C"
t1=$(date +%s)
check "a hanging espeak-ng: 503 after $((t1 - t0)) s ($code)" \
	eval 'test "$code" = 503 && test $((t1 - t0)) -le 8'
sleep 0.2
check "... and it is killed" eval 'test -s spy/hang.pid && ! kill -0 "$(cat spy/hang.pid)"'
check_grep "... the log says so" 'speech: espeak-ng did not finish' d.log
stop_serve "$pid"

# The headset jack (form.headset): a FIFO of struct input_event records stands for the
# evdev device. Plugged in: speech on, a new version (the page reloads and speaks);
# pulled out: off again, but not the speech the person turned on.
mkfifo jack
printf 'form:\n  screens: %s\n  services: %s\n  headset: %s\n' "$BB_TOP/scripts/screens" \
	"$SERVICES" "$scratch/jack" > jack.yaml
BB_CONFIG=$scratch/jack.yaml start_serve e spybin
jack() {	# jack 1|0: SW_HEADPHONE_INSERT, then SYN_REPORT
	timeout 10 python3 -c '
import struct, sys
with open(sys.argv[1], "wb") as f:
	f.write(struct.pack("llHHi", 0, 0, 5, 2, int(sys.argv[2])) + struct.pack("llHHi", 0, 0, 0, 0, 0))
' "$scratch/jack" "$1"
}
# wait_page PATTERN: until the page matches (5 s)
wait_page() {
	_i=0
	while [ $_i -lt 50 ]; do
		page
		grep -q -e "$1" page.html && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
page
v0=$(sed -n 's/.*data-version="\([0-9]*\)".*/\1/p' page.html)
jack 1
check "headset in: speech on" wait_page 'data-speech="on"'
v1=$(sed -n 's/.*data-version="\([0-9]*\)".*/\1/p' page.html)
check "... and a new version, so the page reloads ($v0 -> $v1)" test "$v1" -gt "$v0"
jack 0
check "headset out: speech off again" wait_page '<html [^>]*data-volume="50">$'
curl -s -o /dev/null -b "$C" -d speech=on "http://127.0.0.1:$port/act"
jack 1
jack 0
sleep 1.5
page
check_grep "speech the person turned on stays on when the headset goes" 'data-speech="on"' page.html
jack 1
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"end\":true}\n"); s.makefile().readline()' "$scratch/run/e"
page
check_nogrep "end: speech off, headset or not" 'data-speech' page.html
stop_serve "$pid"
rc=$?
check "serve with a headset: SIGTERM, exit 0 ($rc)" test "$rc" -eq 0
printf 'form:\n  screens: %s\n  headset: %s\n' "$BB_TOP/scripts/screens" "$scratch/bb.yaml" \
	> jack2.yaml
BB_CONFIG=$scratch/jack2.yaml expect_code 78 "form.headset not a device: 78" \
	"$BB_FORM" serve --control "$scratch/run/f"
check_grep "... saying so" 'form.headset .*: not an input device' err

# --- in the browser ---
. "$BB_TOP/tests/rig/browser.sh"
if ! [ -x "${BB_CHROMIUM:-/usr/bin/chromium}" ] || ! "$BROWSER_PYTHON" -c 'import selenium' 2> /dev/null ||
    ! command -v npm > /dev/null; then
	echo "# no browser: the page's part is not run"
	done_testing
fi
browser_or_skip
rm -f spy/*
mkdir -p "${BB_SHOTS:-$scratch/shots}" www

# A page with a PIN field, an error and the real kiosk.js, on the static rig server.
cp "$BB_TOP/lib/screen/assets/kiosk.js" "$BB_TOP/lib/screen/assets/kiosk.css" www/
cat > www/index.html <<'EOF'
<!doctype html>
<html lang="de" dir="ltr" class="bb size-100 contrast-normal" data-volume="50" data-speech="on">
<head><meta charset="utf-8"><title>PIN – bb</title><link rel="stylesheet" href="kiosk.css">
<script src="kiosk.js" defer></script></head>
<body>
<main id="bb-screen" data-version="1" data-screen="pin" tabindex="-1">
<h1>Ihre PIN</h1>
<form method="post" action="/act">
<label for="pin">PIN</label>
<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" maxlength="6"
 data-kbd="pin" aria-invalid="true" aria-describedby="pin-err">
<p class="bb-error" id="pin-err" role="alert">Die PIN ist zu kurz.</p>
<button type="submit" name="choice" value="ok" class="bb-primary">Weiter</button>
</form>
</main>
<div id="bb-keyboard" data-labels="{&quot;pin.masked&quot;:&quot;Ziffer eingegeben&quot;,&quot;err.prefix&quot;:&quot;Fehler:&quot;,&quot;kbd.backspace&quot;:&quot;Zeichen löschen&quot;}" hidden></div>
</body></html>
EOF
static_start www || { ok 1 "the static server starts"; done_testing; }
srv_pids="$srv_pids $STATIC_PID"

cat > drive.py <<'PY'
import glob, json, os, struct, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve

scratch, shots, static = os.getcwd(), sys.argv[1], sys.argv[2]

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

def js(s, *a):
	return b.d.execute_script(s, *a)

def spoken():
	"""What espeak-ng was asked to say, in order."""
	out = []
	for f in sorted(glob.glob(os.path.join(scratch, "spy", "say.*"))):
		if not f.endswith(".argv"):
			with open(f, encoding="utf-8") as g:
				out.append(g.read())
	return out

def until(cond, timeout=20):
	end = time.monotonic() + timeout
	while not cond():
		if time.monotonic() > end:
			return False
		time.sleep(0.05)
	return True

def attr(name):
	return js("return document.documentElement.getAttribute(arguments[0])", name)

def tap(sel, cond):
	"""Taps SEL in the chrome (a form post, 303 to /) and waits until cond() holds."""
	b.click(sel)
	if not until(cond):
		raise Exception("after %s: the page did not change" % sel)

def speaking():
	return js("return document.documentElement.hasAttribute('data-speaking')")

# Every text the page posts to /say, recorded in the page before its own scripts run
# (the request itself goes on unchanged).
RECORD = """
(function () {
	var f = window.fetch;
	window.__said = [];
	window.fetch = function (url, o) {
		if (String(url).indexOf('/say') >= 0 && o && o.body)
			window.__said.push(new URLSearchParams(String(o.body)).get('text'));
		return f.apply(this, arguments);
	};
})();
"""

os.environ["PATH"] = os.path.join(scratch, "spybin") + ":" + os.environ["PATH"]
os.mkfifo(os.path.join(scratch, "jack-w"))
s = Serve(os.environ["BB_FORM"], os.path.join(scratch, "w"), os.path.join(os.environ["BB_TOP"],
    "scripts", "screens"), os.environ["SERVICES"], verbose="-vv",
    headset=os.path.join(scratch, "jack-w"))

def jack(v):
	with open(os.path.join(scratch, "jack-w"), "wb") as f:
		f.write(struct.pack("llHHi", 0, 0, 5, 2, v) + struct.pack("llHHi", 0, 0, 0, 0, 0))

b = Browser(size=(1080, 1920))
try:
	b.open(s.url)
	s.wait_page(b, lambda m: m[0] == "welcome")
	time.sleep(0.5)
	ok(spoken() == [] and not speaking(), "speech off: nothing spoken", spoken())
	# A headset plugged in before any tap: the page reloads and speaks, one text after
	# another (the third is asked for only when the first has been heard to its end).
	jack(1)
	ok(until(lambda: attr("data-speech") == "on" and len(spoken()) >= 3),
	    "headset in, no tap: the page speaks on", spoken())
	jack(0)
	ok(until(lambda: attr("data-speech") is None and not speaking()),
	    "headset out: silent, speech off")
	time.sleep(0.5)
	for f in glob.glob(os.path.join(scratch, "spy", "say.*")):
		os.unlink(f)
	tap("header.bb-chrome button[name=speech][value=on]", lambda: attr("data-speech") == "on")
	h1 = js("return document.querySelector('h1').textContent")
	ok(until(lambda: h1 in spoken()), "speech on: the page asks for its title", spoken())
	ok(until(speaking), "... and plays it (data-speaking)")
	p = js("return document.querySelector('main p').textContent")
	ok(until(lambda: p in spoken()), "... then its text, in order", spoken())
	ok(spoken().index(h1) < spoken().index(p), "title before text", spoken())
	ok(js("return getComputedStyle(document.querySelector('[data-say=stop]')).display") != "none",
	    "the stop control is shown")
	b.click("header.bb-chrome button[data-say=stop]")
	ok(until(lambda: not speaking(), 2), "stop: the sound stops at once")
	time.sleep(0.3)		# a /say under way when stopped lands in the spy
	n = len(spoken())
	time.sleep(1)
	ok(len(spoken()) == n and not speaking(), "... and nothing more is asked", spoken()[n:])
	b.click("header.bb-chrome button[data-say=again]")
	ok(until(lambda: spoken()[n:].count(h1) == 1), "again: the title once more", spoken()[n:])

	# A screen told by the flow: spoken without a tap on it, with its placeholder.
	os.makedirs(os.path.join(scratch, "spy"), exist_ok=True)
	for f in glob.glob(os.path.join(scratch, "spy", "say.*")):
		os.unlink(f)
	s.show(b, "thanks", reference="BB-2026-000042")
	texts = js("return Array.prototype.map.call(document.querySelectorAll('main h1, main p'),"
	    " function (e) { return e.textContent.replace(/\\s+/g, ' ').trim(); })")
	ok(until(lambda: all(t in spoken() for t in texts)),
	    "a told screen: every text of it spoken", (texts, spoken()))
	ok(any("BB-2026-000042" in t for t in spoken()), "... the reference too")
	ok(until(speaking), "... and played without a tap")

	# Volume: a step up; the end of the session: speech off, volume 50.
	tap("header.bb-chrome button[name=volume][value='75']", lambda: attr("data-volume") == "75")
	ok(js("return document.documentElement.dataset.volume") == "75", "louder: volume 75")
	for l, name in (("de", "de"), ("en", "en"), ("ar", "ar")):
		if l == "ar":
			for f in glob.glob(os.path.join(scratch, "spy", "say.*")):
				os.unlink(f)
		if js("return document.documentElement.lang") != l:
			s.lang(b, l)
		s.show(b, "welcome")
		if l == "ar":
			argv = lambda: [open(f).read().strip()[-5:] for f in
			    glob.glob(os.path.join(scratch, "spy", "say.*.argv"))]
			ok(until(lambda: "-v ar" in argv() and "-v de" in argv(), 30),
			    "ar: the Arabic voice, and a German service title in its own",
			    (argv(), s.p.poll(), open(os.path.join(scratch, "w", "serve.log")).read()[-600:]))
			# A tile: its Arabic title in the Arabic voice, the German name under it
			# in the German one, not read out by the Arabic voice as one text.
			said = lambda: [(open(f[:-5], encoding="utf-8").read().strip(),
			    open(f).read().strip()[-5:]) for f in
			    glob.glob(os.path.join(scratch, "spy", "say.*.argv"))]
			ok(until(lambda: ("تصريح وقوف السيارات للسكان", "-v ar") in said() and
			    ("Bewohnerparkausweis", "-v de") in said(), 30),
			    "ar: a tile's title in the Arabic voice, its German name in the German",
			    said())
		b.screenshot(os.path.join(shots, "speech-welcome-%s.png" % name))
		js("document.querySelector('[data-say=stop]').click()")
		v = b.axe()
		ok(v == [], "axe: the chrome with speech on in %s, 0 violations" % l,
		    json.dumps(v, ensure_ascii=False)[:2000])
	# The real PIN pad (bb-form pin): each digit tapped is asked for as pin.masked, and
	# no digit of the PIN ever reaches espeak-ng.
	PIN = "918273"
	b.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD})
	s.lang(b, "de")
	r, w = os.pipe()
	p = subprocess.Popen([os.environ["BB_FORM"], "pin", "--screen", s.sock, "--to-fd",
	    str(w)], env=s.env, pass_fds=(w,), stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	os.close(w)
	s.wait_page(b, lambda m: m[0] == "pin")
	title = js("return document.querySelector('h1').textContent")
	ok(until(lambda: title in js("return window.__said || []") and
	    "Abbrechen" in js("return window.__said || []")),
	    "the PIN pad: its title and buttons spoken", js("return window.__said"))
	until(lambda: not speaking())
	time.sleep(0.5)
	js("window.__said.length = 0")
	n = len(spoken())
	for ch in PIN:
		b.tap_key(ch)
	# (The field's name may come between: the focus goes back to it after a tap.)
	ok(until(lambda: js("return window.__said").count("Ziffer eingegeben") == 6) and
	    not any(c.isdigit() for t in js("return window.__said") for c in t),
	    "the PIN pad: each digit tapped as pin.masked", js("return window.__said"))
	b.click(".bb-nav button[value=ok]")
	out, err = p.communicate(timeout=10)
	ok(p.returncode == 0 and os.read(r, 64) == (PIN + "\n").encode(),
	    "... and the PIN reaches bb-form pin", (p.returncode, err))
	os.close(r)
	# Each tap cuts the one before; one cut before its /say went out is never made (a
	# loaded machine sees that), so one to six runs, maybe still going.
	until(lambda: spoken()[n:].count("Ziffer eingegeben") >= 6, 3)
	said = [t for t in spoken()[n:] if t]
	ok(1 <= said.count("Ziffer eingegeben") <= 6 and
	    not any(PIN in t or t.strip().isdigit() for t in spoken()),
	    "espeak-ng got pin.masked, never a digit typed", said)

	# bb-form pin --confirm: the pad again and the mismatch are spoken, never a digit.
	A, B = "135790", "135791"
	v0 = js("return document.getElementById('bb-screen').dataset.version")
	r, w = os.pipe()
	p = subprocess.Popen([os.environ["BB_FORM"], "pin", "--confirm", "--screen", s.sock,
	    "--to-fd", str(w)], env=s.env, pass_fds=(w,), stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	os.close(w)
	n = len(spoken())
	for digits in (A, B):
		m = s.wait_page(b, lambda m: m[0] == "pin" and m[1] != v0)
		v0 = m[1]
		for ch in digits:
			b.tap_key(ch)
		b.click(".bb-nav button[value=ok]")
	s.wait_page(b, lambda m: m[0] == "pin" and m[1] != v0)
	mis = js("return document.getElementById('bb-pin-mismatch').textContent")
	ok(until(lambda: "Fehler: " + mis in js("return window.__said || []")),
	    "--confirm: the mismatch is spoken, after err.prefix", js("return window.__said"))
	ok(until(lambda: any(mis in t for t in spoken()[n:])),
	    "... espeak-ng was asked to say it", spoken()[n:])
	b.click(".bb-nav button[value=cancel]")
	p.communicate(timeout=10)
	ok(p.returncode == 1 and os.read(r, 64) == b"", "... cancel: exit 1, nothing written")
	os.close(r)
	said = spoken()[n:]
	ok("Neue PIN wiederholen" in " ".join(said) and
	    not any(A in t or B in t or t.strip().isdigit() for t in said) and
	    not any(c.isdigit() for t in said for c in t.replace("6 Ziffern", "")),
	    "--confirm: the second pad's title spoken, no digit of either entry", said)
	s.end()
	m = s.wait_page(b, lambda m: m[0] == "welcome" and m[2] == "de")
	ok(js("return [document.documentElement.dataset.volume, "
	    "document.documentElement.dataset.speech || '']") == ["50", ""],
	    "end: volume 50, speech off")
	time.sleep(0.3)
	ok(not speaking(), "end: silent")
	s.stop()
	log = open(os.path.join(scratch, "w", "serve.log")).read()
	ok("BB-2026-000042" not in log and h1 not in log, "nothing spoken is in the log")

	# A field with an error and no prefix of its own: kiosk.js adds err.prefix.
	b.open(static)
	ok(until(lambda: "Fehler: Die PIN ist zu kurz." in js("return window.__said")),
	    "PIN page: its error spoken after err.prefix", js("return window.__said"))
	ok(until(lambda: "Weiter" in js("return window.__said")), "... and the rest, to the button")
	js("window.__said.length = 0")
	b.type("1")
	b.type("2")
	b.tap_key("3")
	b.tap_key("4")
	b.press("Backspace")
	said = js("return window.__said")
	ok(said == ["Ziffer eingegeben"] * 4 + ["Zeichen löschen"],
	    "PIN: each digit typed (keys or pad) as pin.masked, a deletion by name", said)
	js("window.__said.length = 0")
	b.focus('#bb-keyboard [data-key="5"]')
	b.focus('#bb-keyboard [data-key="backspace"]')
	b.focus("#pin")
	said = js("return window.__said")
	ok(not any(c.isdigit() for t in said for c in t),
	    "PIN: no digit spoken, neither the pad's keys nor the field's value", said)
	ok(js("return document.getElementById('pin').value") == "123",
	    "the PIN field holds the digits")
except Exception:
	print("# serve: %s" % s.p.poll(), file=sys.stderr)
	raise
finally:
	if s.p.poll() is None:
		s.p.kill()
	b.close()
PY
BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP "$BROWSER_PYTHON" drive.py \
	"${BB_SHOTS:-$scratch/shots}" "$STATIC_URL" > results 2> drive.err
rc=$?
while read -r st desc; do
	case $st in
	'#') echo "$st $desc" ;;
	*) ok "$st" "$desc" ;;
	esac
done < results
[ -s drive.err ] && diag drive.err
ok "$rc" "the browser run ended cleanly"

done_testing
