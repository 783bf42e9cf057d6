#!/bin/sh
# The kiosk page in a real browser (Debian's chromium through tests/rig/browser.py): the
# token URL leads to the page, a tell changes the screen in the browser by server-sent
# events, a tap in the page is the choice tell prints, and the end of a session goes back
# to welcome in the default language. The shipped screens (scripts/screens) are the ones
# shown. Screenshots of the welcome screen in de and en go to $BB_SHOTS when set.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"
browser_or_skip

# The shipped screens and catalogues, and one screen of the test's own whose button it
# can count on (chrome.cancel is in every catalogue).
cp -R "$BB_TOP/scripts/screens" screens
printf 'id: t-ask\ntitle: chrome.cancel\nbuttons:\n  - {value: cancel, label: chrome.cancel}\n' \
	> screens/t-ask.yaml
mkdir -p "${BB_SHOTS:-$scratch/shots}"

cat > drive.py <<'PY'
import os, signal, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve

scratch, shots = os.getcwd(), sys.argv[1]

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

def js(s, *a):
	return b.d.execute_script(s, *a)

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(scratch, "screens"),
    os.environ["SERVICES"], verbose="-vv")
b = Browser(size=(1080, 1920))
try:
	b.open(s.url)
	m = s.wait_page(b, lambda m: True)
	ok(m[0] == "welcome", "the token URL leads to the page: welcome", m)
	ok(js("return document.cookie") == "", "the cookie is HttpOnly: not in document.cookie")
	ok(js("return location.search") == "", "the token has left the URL")

	# From tell to the new screen, seen by the page (a MutationObserver, also in the
	# document kiosk.js loads).
	ms, _ = b.time_until("main[data-screen=wait]", lambda: s.tell("wait", name="Erika"))
	print("# from tell to the new screen shown in the browser: %.0f ms" % ms)
	m = s.wait_page(b, lambda m: m[0] == "wait")
	ok(m[0] == "wait", "after tell the browser shows the screen", m)
	ok(m[1] not in ("", "0"), "the page holds the new version", m)
	ok(js("return document.querySelector('h1').textContent.length") > 0,
	    "the screen's title is in the DOM")

	# A tap in the page: the button's own form post, no script needed.
	p = subprocess.Popen(s.tell_argv("t-ask", "--until", "tap"), env=s.env,
	    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	s.wait_page(b, lambda m: m[0] == "t-ask")
	b.click("#bb-screen button[name=choice][value=cancel]")
	out, err = p.communicate(timeout=10)
	ok(p.returncode == 0 and out == b"cancel\n",
	    "a tap in the browser: tell prints it", (p.returncode, out, err))

	# Screenshots of welcome, and the page's own language menu.
	s.show(b, "welcome")
	b.screenshot(os.path.join(shots, "welcome-de.png"))

	# The welcome screen shows each language once, as its tiles: the chrome's one
	# language control is a menu, closed at first.
	SHOWN = ("return [...document.querySelectorAll('button[name=lang]')]"
	    ".filter(e => e.checkVisibility())"
	    ".map(e => e.closest('header') ? 'chrome' : 'tile')")
	shown = js(SHOWN)
	n = js("return document.querySelectorAll('header button[name=lang]').length")
	ok(n >= 8 and shown.count("tile") == n and shown.count("chrome") == 0,
	    "welcome: each of the %d languages shown once, as a tile" % n, shown)
	# The menu by keyboard alone: Tab reaches it, Enter opens it, Tab goes on to the
	# languages in it.
	js("document.querySelector('header button').focus()")
	for _ in range(5):
		if js("return document.activeElement.tagName") == "SUMMARY":
			break
		b.press("Tab")
	ok(js("return document.activeElement.tagName") == "SUMMARY",
	    "the language menu is reached by Tab")
	b.press("Enter")
	shown = js(SHOWN)
	ok(js("return document.querySelector('header details').open") and
	    shown.count("chrome") == n, "Enter opens it: the languages in the bar", shown)
	b.press("Tab")
	ok(js("return document.activeElement.name === 'lang' && "
	    "document.activeElement.closest('header') !== null"),
	    "Tab goes on to a language in the menu")
	b.screenshot(os.path.join(shots, "menu-de.png"))
	m = s.lang(b, "en")
	ok(m[2] == "en" and js("return document.querySelector('h1').textContent") == "Welcome",
	    "the page's language button: the page in en", m)
	b.screenshot(os.path.join(shots, "welcome-en.png"))
	ok(all(os.path.getsize(os.path.join(shots, "welcome-%s.png" % l)) > 1000
	    for l in ("de", "en")), "screenshots of welcome in de and en")

	s.tell("wait")
	s.wait_page(b, lambda m: m[0] == "wait")
	r = s.end()
	ok(r == {"ok": True, "lang": "en", "speech": False},
	    "end: answered ok, with the ended session's language and speech", r)
	m = s.wait_page(b, lambda m: m[0] == "welcome")
	ok(m[0] == "welcome", "end: the browser is back at welcome", m)
	ok(m[2] == "de", "end: the language is the default", m)

	# SIGTERM with the browser's event stream open: the stream ends, serve exits 0.
	t = time.monotonic()
	rc = s.stop()
	ok(rc == 0, "SIGTERM with a stream open: serve exits 0 (%d ms)" %
	    ((time.monotonic() - t) * 1000), rc)
	with open(os.path.join(scratch, "serve.log")) as f:
		log = f.read()
	tok = s.url.split("token=", 1)[1]
	ok(tok not in log, "the browser's requests carry no token in the log")
	ok("GET /s/kiosk.css" in log, "the browser got the page's style")
	ok("Sanitizer" not in log and "runtime error" not in log, "no sanitizer report")
finally:
	if s.p.poll() is None:
		s.p.kill()
	b.close()
PY
BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP "$BROWSER_PYTHON" drive.py \
	"${BB_SHOTS:-$scratch/shots}" > results 2> drive.err
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
