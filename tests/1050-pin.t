#!/bin/sh
# bb-form pin: the PIN pad on the screen (Chromium) and on a terminal (tmux). The digits
# reach the descriptor --to-fd names and nothing else: not the page after the step, not
# the server's log, not the server's memory, not the step's output; a wrong count is said
# on the page without them; cancel exits 1 with nothing written; CAN and PUK pads; a new
# PIN entered twice (--confirm): one line only for a pair that matches, the mismatch said,
# cancel on the second pad, three pairs that differ exit 4; axe and screenshots of its pads.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"

# Usage: the card's rules and a descriptor of its own.
expect_code 64 "--to-fd 1 is refused (a terminal's, a log's)" "$BB_FORM" pin --to-fd 1
expect_code 64 "--to-fd of a closed descriptor" "$BB_FORM" pin --to-fd 9
expect_code 64 "a CAN has 6 digits" "$BB_FORM" pin --can --digits 5 --to-fd 2
expect_code 64 "a PUK has 10 digits" "$BB_FORM" pin --puk --digits 6 --to-fd 2
expect_code 64 "--screen and --tty exclude each other" "$BB_FORM" pin --tty --screen /x/y --to-fd 2 3>&-
expect_code 64 "--confirm is for a new PIN: not a PUK" "$BB_FORM" pin --confirm --puk --to-fd 3 3>fd.out
expect_code 64 "--confirm: not a transport PIN" "$BB_FORM" pin --confirm --digits 5 --to-fd 3 3>fd.out
expect_code 69 "no screen server, no terminal: 69" "$BB_FORM" pin --screen "$scratch/none/s" --to-fd 3 3>fd.out

# The terminal: echo off, the digits to the descriptor.
if command -v tmux >/dev/null; then
	sock=$scratch/tmux
	tmux -S "$sock" new-session -d -x 80 -y 10 \
		"'$BB_FORM' pin --tty --to-fd 3 3>'$scratch/tty.out'; echo exit=\$? > '$scratch/tty.rc'; sleep 30"
	i=0
	until tmux -S "$sock" capture-pane -p | grep -q PIN || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	tmux -S "$sock" send-keys 12 Enter
	sleep 0.3
	tmux -S "$sock" send-keys 503172 Enter
	i=0
	until [ -f tty.rc ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	tmux -S "$sock" capture-pane -p > pane
	tmux -S "$sock" kill-server 2>/dev/null
	check "terminal: exit 0" grep -qx 'exit=0' tty.rc
	check "terminal: the digits reach the descriptor" test "$(cat tty.out)" = 503172
	check "terminal: no digit echoed on the screen" ! grep -q 503172 pane
	check_grep "terminal: a wrong count is said" "6 digits, please" pane

	# --confirm on the terminal: asked again; two that differ are said, then asked anew.
	tmux -S "$sock" new-session -d -x 80 -y 10 \
		"'$BB_FORM' pin --confirm --tty --to-fd 3 3>'$scratch/tty2.out'; echo exit=\$? > '$scratch/tty2.rc'; sleep 30"
	for keys in 482913 482914 771204 771204; do
		i=0
		until [ "$(tmux -S "$sock" capture-pane -p | grep -c 'PIN')" -gt "${n:-0}" ] ||
		    [ $i -ge 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		n=$(tmux -S "$sock" capture-pane -p | grep -c 'PIN')
		tmux -S "$sock" send-keys "$keys" Enter
	done
	i=0
	until [ -f tty2.rc ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	tmux -S "$sock" capture-pane -p > pane2
	tmux -S "$sock" kill-server 2>/dev/null
	check "terminal --confirm: the pair that matched reaches the descriptor, one line" \
		eval 'grep -qx "exit=0" tty2.rc && test "$(cat tty2.out)" = 771204'
	check_grep "terminal --confirm: asked again" "PIN again" pane2
	check_grep "terminal --confirm: two that differ are said" "the two entries differ" pane2
	check "terminal --confirm: no digit echoed" ! grep -q '482913\|482914\|771204' pane2
else
	skip "tmux is missing" 8
fi

browser_or_skip
cat > drive.py <<'PY'
import os, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from memscan import scan
from selenium.webdriver.common.by import By

scratch = os.getcwd()
import random
# Made at run time: the test's own files do not hold them, so a search of every file
# below can find only what the run wrote.
PIN = "%06d" % random.SystemRandom().randrange(10**6)
CAN = "%06d" % random.SystemRandom().randrange(10**6)
NEW = "%06d" % random.SystemRandom().randrange(10**6)
OTHER = "%06d" % ((int(NEW) + 1) % 10**6)	# one digit off: a slip of the finger

def files_holding(top, needles):
	found = []
	for d, _, names in os.walk(top):
		for n in names:
			p = os.path.join(d, n)
			try:
				with open(p, "rb") as f:
					data = f.read()
			except OSError:
				continue
			if any(x.encode() in data for x in needles):
				found.append(p)
	return found

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

def page():
	return b.d.execute_script("return document.documentElement.outerHTML")

def version():
	return b.d.execute_script("var m = document.getElementById('bb-screen');"
	    "return m ? m.dataset.version : null")

def pin(*args):
	global shown
	shown = version()
	r, w = os.pipe()
	p = subprocess.Popen([os.environ["BB_FORM"], "pin", "--screen", s.sock, "--to-fd",
	    str(w)] + list(args), env=s.env, pass_fds=(w,), stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	os.close(w)
	return p, r

def tap(keys):
	kb = b.d.find_element(By.ID, "bb-keyboard")
	for ch in keys:
		kb.find_element(By.CSS_SELECTOR, 'button[data-key="%s"]' % ch).click()

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(os.environ["BB_TOP"], "scripts",
    "screens"), os.environ["SERVICES"], verbose="-vv")
profile = os.path.join(scratch, "profile")
os.mkdir(profile)
b = Browser(size=(1080, 1920), profile=profile)
try:
	b.open(s.url)
	s.wait_page(b, lambda m: True)
	p, r = pin("--tries", "2")
	m = s.wait_page(b, lambda m: m[0] == "pin" and m[1] != shown)
	el = b.d.find_element(By.ID, "f-pin")
	ok(el.get_attribute("type") == "password" and el.get_attribute("maxlength") == "6" and
	    el.get_attribute("autocomplete") == "off", "the pad: a masked field of 6 digits")
	ok("2" in b.d.find_element(By.CSS_SELECTOR, "main p.bb-error").text,
	    "the tries left are said")
	tap("1234")
	b.click(".bb-nav button[value=ok]")
	try:
		b.wait("#f-pin-err")
	except Exception:
		pass
	ok(b.d.find_elements(By.ID, "f-pin-err") != [] and "1234" not in page(),
	    "too few digits: said on the page, the digits not in it")
	ok(p.poll() is None, "too few digits: the step still waits")
	tap(PIN)
	b.click(".bb-nav button[value=ok]")
	out, err = p.communicate(timeout=10)
	got = os.read(r, 64)
	os.close(r)
	ok(p.returncode == 0, "ok: pin exits 0", (p.returncode, err))
	ok(got == (PIN + "\n").encode(), "the digits reach the descriptor, one line", got)
	ok(PIN.encode() not in out + err, "nothing of them on the step's output")
	s.wait_page(b, lambda m: m[0] == "wait")
	ok(PIN not in page(), "after the step the page holds no digit of it")
	time.sleep(0.5)
	hits = scan(s.p.pid, PIN.encode())
	ok(hits == [], "the server's memory holds no copy after use", hits)

	# Cancel: exit 1, nothing written.
	p, r = pin()
	s.wait_page(b, lambda m: m[0] == "pin" and m[1] != shown)
	tap("55")
	b.click(".bb-nav button[value=cancel]")
	p.communicate(timeout=10)
	got = os.read(r, 64)
	os.close(r)
	ok(p.returncode == 1 and got == b"", "cancel: exit 1, nothing written", (p.returncode, got))
	m = s.wait_page(b, lambda m: m[0] == "wait")
	ok(m[0] == "wait", "cancel: the pad gives way to the wait screen", m)

	# --confirm: the new PIN twice. Nothing is written until a pair matches; then one line.
	def pad_next():
		"""The next pad, after the one tapped on (shown)."""
		global shown
		m = s.wait_page(b, lambda m: m[0] == "pin" and m[1] != shown)
		shown = m[1]
		return b.d.find_element(By.TAG_NAME, "h1").text

	def nothing_yet(r):
		os.set_blocking(r, False)
		try:
			return os.read(r, 64) == b""	# EOF: the step ended without a line
		except BlockingIOError:
			return True
		finally:
			os.set_blocking(r, True)

	def read_all(r):
		got = b""
		while True:
			c = os.read(r, 64)
			if not c:
				break
			got += c
		os.close(r)
		return got

	def enter(digits):
		tap(digits)
		b.click(".bb-nav button[value=ok]")

	shots = os.environ.get("BB_SHOTS") or os.path.join(scratch, "shots")
	os.makedirs(shots, exist_ok=True)
	langs = sorted(f[:-5] for f in os.listdir(os.path.join(os.environ["BB_TOP"], "scripts",
	    "screens", "catalog")) if f.endswith(".yaml"))
	def look(name):
		"""axe in every language, a screenshot in de, en and ar; back to de."""
		bad = []
		for l in langs:
			s.lang(b, l)
			bad += ["%s: %s %s" % (l, v["id"], v["nodes"][0]["target"]) for v in b.axe()]
			if l in ("de", "en", "ar"):
				b.screenshot(os.path.join(shots, "%s-%s.png" % (name, l)))
		s.lang(b, "de")
		ok(bad == [], "axe-core: no WCAG 2.1 A/AA violation on %s in any language"
		    % name, bad[:8])

	p, r = pin("--confirm")
	t = pad_next()
	ok(t == "Neue PIN eingeben" and b.d.find_elements(By.ID, "bb-pin-mismatch") == [],
	    "--confirm: the first pad asks for the new PIN", t)
	enter(NEW)
	t = pad_next()
	ok(t == "Neue PIN wiederholen", "--confirm: the pad comes again, asking for the same", t)
	ok(p.poll() is None and nothing_yet(r), "--confirm: nothing written after one entry")
	ok(NEW not in page(), "--confirm: the first entry is not in the page")
	look("pin-again")
	enter(NEW)
	out, err = p.communicate(timeout=10)
	got = read_all(r)
	ok(p.returncode == 0 and got == (NEW + "\n").encode(),
	    "--confirm: equal entries: exit 0, exactly one line with the PIN", (p.returncode, got, err))
	ok(NEW.encode() not in out + err, "--confirm: nothing of it on the step's output")
	s.wait_page(b, lambda m: m[0] == "wait")
	ok(NEW not in page(), "--confirm: after the step the page holds no digit of it")
	time.sleep(0.5)
	hits = scan(s.p.pid, NEW.encode())
	ok(hits == [], "--confirm: the server's memory holds no copy after use", hits)

	# Two that differ: said, and asked again from the first; the pair that matches goes.
	p, r = pin("--confirm")
	pad_next()
	enter(NEW)
	pad_next()
	enter(OTHER)
	t = pad_next()
	mis = b.d.find_elements(By.ID, "bb-pin-mismatch")
	ok(t == "Neue PIN eingeben" and mis != [] and "nicht gleich" in mis[0].text and
	    mis[0].get_attribute("role") == "alert" and "bb-pin-mismatch" in
	    b.d.find_element(By.ID, "f-pin").get_attribute("aria-describedby"),
	    "different entries: the first pad again, the mismatch said as an alert", t)
	ok(p.poll() is None and nothing_yet(r), "different entries: nothing written")
	ok(NEW not in page() and OTHER not in page(), "different entries: neither is in the page")
	look("pin-mismatch")
	enter(OTHER)
	pad_next()
	enter(OTHER)
	out, err = p.communicate(timeout=10)
	got = read_all(r)
	ok(p.returncode == 0 and got == (OTHER + "\n").encode(),
	    "different entries, then a pair that matches: exactly that one line", (p.returncode, got))
	s.wait_page(b, lambda m: m[0] == "wait")
	ok(NEW not in page() and OTHER not in page(), "... and the page holds neither after")

	# Cancel on the second pad: exit 1, nothing written, the first entry gone with it.
	p, r = pin("--confirm")
	pad_next()
	enter(NEW)
	pad_next()
	tap("12")
	b.click(".bb-nav button[value=cancel]")
	p.communicate(timeout=10)
	got = read_all(r)
	ok(p.returncode == 1 and got == b"", "--confirm: cancel on the second pad: exit 1, nothing "
	    "written", (p.returncode, got))
	m = s.wait_page(b, lambda m: m[0] == "wait")
	ok(NEW not in page(), "... the pad gives way to the wait screen, no digit in it")

	# Three pairs that differ: the step gives up, 4, nothing written.
	p, r = pin("--confirm")
	for i in range(3):
		pad_next()
		enter(NEW)
		pad_next()
		enter(OTHER)
	p.communicate(timeout=10)
	got = read_all(r)
	ok(p.returncode == 4 and got == b"", "--confirm: three pairs that differ: exit 4, nothing "
	    "written", (p.returncode, got))
	s.wait_page(b, lambda m: m[0] == "wait")
	time.sleep(0.5)
	hits = scan(s.p.pid, NEW.encode()) + scan(s.p.pid, OTHER.encode())
	ok(hits == [], "... and the server's memory holds neither", hits)
	# The flow's screen then (pin-change: the PIN was not changed).
	s.show(b, "pin-mismatch")
	look("pin-mismatch-screen")

	# axe-core on the pad, with a wrong count said, in every language.
	p, r = pin("--tries", "1")
	s.wait_page(b, lambda m: m[0] == "pin" and m[1] != shown)
	tap("12")
	b.click(".bb-nav button[value=ok]")
	b.wait("#f-pin-err")
	bad = []
	for l in sorted(f[:-5] for f in os.listdir(os.path.join(os.environ["BB_TOP"], "scripts",
	    "screens", "catalog")) if f.endswith(".yaml")):
		s.lang(b, l)
		bad += ["%s: %s %s" % (l, v["id"], v["nodes"][0]["target"]) for v in b.axe()]
	ok(bad == [], "axe-core: no WCAG 2.1 A/AA violation on the pad in any language", bad[:8])
	b.click(".bb-nav button[value=cancel]")
	p.communicate(timeout=10)
	os.close(r)

	# CAN and PUK pads, in English.
	# The cancelled pad is still shown: pin() waits for the new one's version.
	s.lang(b, "en")
	p, r = pin("--can")
	s.wait_page(b, lambda m: m[0] == "pin" and m[1] != shown)
	ok("access number" in b.d.find_element(By.TAG_NAME, "h1").text.lower(), "--can: the CAN pad")
	tap(CAN)
	b.click(".bb-nav button[value=ok]")
	p.communicate(timeout=10)
	ok(os.read(r, 64) == (CAN + "\n").encode(), "--can: its 6 digits to the descriptor")
	os.close(r)
	p, r = pin("--puk")
	s.wait_page(b, lambda m: m[0] == "pin" and m[1] != shown)
	ok(b.d.find_element(By.ID, "f-pin").get_attribute("maxlength") == "10" and
	    "PUK" in b.d.find_element(By.TAG_NAME, "h1").text, "--puk: a pad of 10")
	b.click(".bb-nav button[value=cancel]")
	p.communicate(timeout=10)
	os.close(r)
finally:
	rc = s.stop()
	b.close()
with open(os.path.join(scratch, "serve.log")) as f:
	log = f.read()
ok(PIN not in log and CAN not in log and NEW not in log and OTHER not in log,
    "the server's log holds no digits")
# Every file the run wrote: the scratch directory, the browser's profile in it.
found = files_holding(scratch, (PIN, CAN, NEW, OTHER))
ok(found == [], "no file holds the digits, the browser's profile included", found)
PY
BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP "$BROWSER_PYTHON" drive.py > results 2> drive.err
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
