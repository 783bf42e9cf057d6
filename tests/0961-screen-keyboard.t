#!/bin/sh
# The citizen's screen in a real browser (issue 11): kiosk.js and kiosk.css on preview pages
# (tests/rig/preview-screen) served from 127.0.0.1 with the contract's CSP, driven by
# Debian's chromium through chromium-driver and python3-selenium. The on-screen keyboard
# types, long-presses to accented letters, submits with Enter, offers the right pad for
# each data-kbd; a PIN's digits appear nowhere in the page but the input's value; the page
# follows /events; every screen reflows at 200 % with targets of at least 64 px; axe-core
# finds no WCAG 2.1 A/AA violation on any screen in any language.
. "${0%/*}/lib.sh"

PY=/usr/bin/python3
PREVIEW="$PY $BB_TOP/tests/rig/preview-screen"

if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ] ||
    ! $PY -c 'import selenium' 2>/dev/null; then
	echo "1..0 # SKIP chromium, chromium-driver or python3-selenium missing"
	exit 0
fi

# The pages: one field of each kind on a two-button screen, every screen at 200 %.
cat > field.yaml <<'EOF'
id: field
title: chrome.next
text: []
buttons:
  - {value: next, label: chrome.next}
  - {value: back, label: chrome.back}
EOF
mkdir -p www
$PREVIEW --lang de --out www field.yaml || exit 1
for k in text pin date postal numeric; do
	$PREVIEW --lang de --input "$k" --label kbd.title --out "www/$k" field.yaml || exit 1
done
$PREVIEW --lang ar --input text --label kbd.title --out www/text-ar field.yaml || exit 1
$PREVIEW --lang ar --size 200 --contrast high --input pin --label pin.title --error pin.wrong \
	--set tries=2 --out www/pin-big-ar field.yaml || exit 1
for l in de ar; do
	for s in welcome card-place card-remove camera sign wait thanks cancelled timeout-warning; do
		$PREVIEW --lang "$l" --size 200 --set reference=BB-2026-000042 \
			--out "www/big-$l-$s" "$s" || exit 1
	done
done

# axe-core (npm, installed here) on every screen in every language, normal and high
# contrast, and on the field pages; skipped when npm cannot fetch it (no network).
for l in de en tr ar uk ru pl ro; do
	for s in welcome card-place card-remove camera sign wait thanks cancelled timeout-warning; do
		for c in normal high; do
			$PREVIEW --lang "$l" --contrast "$c" --set reference=BB-2026-000042 \
				--out "www/axe-$l-$s-$c" "$s" || exit 1
		done
	done
	$PREVIEW --lang "$l" --contrast high --input pin --label pin.title --error pin.wrong \
		--set tries=2 --out "www/axe-$l-pin-high" field.yaml || exit 1
done
mkdir axe
if (cd axe && timeout 120 npm install --prefer-offline --no-audit --no-fund --silent \
    axe-core@4.14 > /dev/null 2>&1); then
	cp axe/node_modules/axe-core/axe.min.js axe.min.js
fi

# A server as strict as the contract's: CSP on every answer, /events from the file ver,
# POST /act recorded in posted and answered 303 to /.
cat > serve.py <<'EOF'
import http.server, os, sys
root = os.path.abspath(sys.argv[1])
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()
    def log_message(self, *a):
        pass
    def do_GET(self):
        if self.path == "/events":
            v = open(os.path.join(root, "..", "ver")).read().strip()
            body = ("retry: 200\ndata: %s\n\n" % v).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/":
            with open(os.path.join(root, "..", "gets"), "a") as f:
                f.write("/\n")
        super().do_GET()
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        with open(os.path.join(root, "..", "posted"), "ab") as f:
            f.write(self.rfile.read(n) + b"\n")
        self.send_response(303)
        self.send_header("Location", "/")
        self.send_header("Content-Length", "0")
        self.end_headers()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(os.path.join(root, "..", "port"), "w").write(str(srv.server_address[1]))
srv.serve_forever()
EOF
echo 1 > ver
$PY serve.py www 2> serve.err &
server=$!
trap 'kill $server 2>/dev/null; cd /; rm -rf "$scratch"' EXIT
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

cat > drive.py <<'EOF'
import json, os, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

base = "http://127.0.0.1:%s" % open("port").read().strip()
o = webdriver.ChromeOptions()
o.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1080,1920",
          "--disable-dev-shm-usage", "--user-data-dir=" + os.path.abspath("profile")):
    o.add_argument(a)
o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
d.set_page_load_timeout(30)
d.set_script_timeout(60)

def ok(cond, desc, detail=""):
    print("%d %s" % (0 if cond else 1, desc), flush=True)
    if not cond and detail:
        print("# " + str(detail).replace("\n", "\n# "), file=sys.stderr)

def js(s, *a):
    return d.execute_script(s, *a)

def key(k):
    return d.find_element(By.CSS_SELECTOR, '#bb-keyboard button[data-key="%s"]' % k)

def tap(k):
    key(k).click()

def value():
    return js("return document.getElementById('f1').value")

def kbd_open():
    return js("return !document.getElementById('bb-keyboard').hidden")

def opened(page):
    d.get(base + "/" + page + "/index.html")
    for _ in range(50):
        if kbd_open():
            return True
        time.sleep(0.1)
    return False

try:
    # Text: QWERTZ with the catalogue's labels; shift starts on for an empty field.
    ok(opened("text"), "text: the keyboard opens on the focused field")
    keys = js("return [...document.querySelectorAll('#bb-keyboard button')]"
              ".map(b => [b.type, b.dataset.key, b.getAttribute('aria-label')])")
    ks = [k[1] for k in keys]
    ok(all(k[0] == "button" for k in keys), "text: every key is a type=button")
    ok(all(x in ks for x in "qwertzuiopüasdfghjklöäyxcvbnmß") and "shift" in ks and
       "space" in ks and "backspace" in ks and "enter" in ks and "close" in ks,
       "text: QWERTZ with ä ö ü ß, shift, space, backspace, enter, close", ks)
    labels = {k[1]: k[2] for k in keys}
    ok(labels.get("backspace") == "Zeichen löschen" and labels.get("close") ==
       "Tastatur schließen" and labels.get("space") == "Leerzeichen",
       "text: the keys are labelled from the catalogue", labels)
    ok(js("return document.getElementById('bb-keyboard').dir") == "ltr",
       "text: the keyboard is left to right")
    for k in ("m", "ü", "l", "l", "e", "r"):
        tap(k)
    ok(value() == "Müller", "text: taps type Müller (one capital)", value())
    ok(js("return document.activeElement.id") == "f1", "text: the field keeps the focus")
    tap("backspace"); tap("space"); tap("-")
    ok(value() == "Mülle -", "text: backspace, space and hyphen", value())
    # Long press: the accented letters of e; a short tap types e.
    ActionChains(d).click_and_hold(key("e")).pause(0.8).release().perform()
    vs = js("return [...document.querySelectorAll('.bb-kbd-variants button')]"
            ".map(b => b.dataset.key)")
    ok("é" in vs and "ë" in vs and "ę" in vs, "text: a long press on e offers é ë ę …", vs)
    ok(value() == "Mülle -", "text: the long press itself types nothing", value())
    d.find_element(By.CSS_SELECTOR, '.bb-kbd-variants button[data-key="é"]').click()
    ok(value() == "Mülle -é", "text: a variant types é", value())
    ok(js("return document.querySelector('.bb-kbd-variants')") is None,
       "text: the variants close after the choice")
    ActionChains(d).click_and_hold(key("s")).pause(0.8).release().perform()
    vs = js("return [...document.querySelectorAll('.bb-kbd-variants button')]"
            ".map(b => b.dataset.key)")
    ok("ş" in vs and "š" in vs, "text: s offers ş š", vs)
    d.find_element(By.CSS_SELECTOR, '.bb-kbd-variants button[data-key="ş"]').click()
    tap("shift"); tap("n")
    ActionChains(d).click_and_hold(key("n")).pause(0.8).release().perform()
    vs = js("return [...document.querySelectorAll('.bb-kbd-variants button')]"
            ".map(b => b.dataset.key)")
    ok("ñ" in vs and "Ñ" not in vs, "text: after one capital the variants are small again", vs)
    d.find_element(By.CSS_SELECTOR, '.bb-kbd-variants button[data-key="ñ"]').click()
    ok(value() == "Mülle -éşNñ", "text: shift gives one capital", value())
    # A physical keyboard still types.
    d.find_element(By.ID, "f1").send_keys("Öz 1")
    ok(value() == "Mülle -éşNñÖz 1", "text: a physical keyboard types", value())
    # Close, and a tap on the field opens again.
    tap("close")
    ok(not kbd_open() and js("return document.body.classList.contains('bb-kbd-open')") is False,
       "text: close hides the keyboard")
    d.find_element(By.ID, "f1").click()
    ok(kbd_open(), "text: a tap on the field opens it again")
    # Tab reaches the keys; Enter on a focused key presses it.
    js("document.querySelector('#bb-keyboard button[data-key=\"a\"]').focus()")
    d.switch_to.active_element.send_keys(Keys.ENTER)
    ok(value().endswith("a"), "text: a key works from the keyboard alone", value())
    # Enter submits with the first button, as Enter in a field does.
    if os.path.exists("posted"):
        os.remove("posted")
    tap("enter")
    for _ in range(50):
        if os.path.exists("posted") and os.path.getsize("posted"):
            break
        time.sleep(0.1)
    posted = open("posted").read() if os.path.exists("posted") else ""
    ok("choice=next" in posted and "f1=M%C3%BClle" in posted,
       "text: enter posts the form with its first button", posted)

    # Pads.
    def pad(page):
        opened(page)
        return js("return [...document.querySelectorAll('#bb-keyboard button:not([disabled])')]"
                  ".map(b => b.dataset.key)")
    p = pad("pin")
    ok(sorted(p) == sorted(list("1234567890") + ["backspace", "close", "enter"]),
       "pin: digits, backspace, enter, close only", p)
    p = pad("date")
    ok("." in p and "letters" not in p and "q" not in p, "date: digits and a dot", p)
    tap("3"); tap("1"); tap("."); tap("1"); tap("2")
    ok(value() == "31.12", "date: the pad types 31.12", value())
    p = pad("postal")
    ok("." not in p and "letters" not in p and "0" in p, "postal: digits only", p)
    for k in "1234567":
        tap(k)
    ok(value() == "12345", "postal: maxlength 5 holds", value())
    p = pad("numeric")
    ok("letters" in p, "numeric: a key to the letters (house numbers)", p)
    tap("1"); tap("2"); tap("letters"); tap("a")
    ok(value() == "12a", "numeric: types 12a", value())

    # PIN: the digits are in the value and nowhere else; only the count is announced.
    opened("pin")
    for k in "9182736":
        tap(k)
    html = js("return document.documentElement.outerHTML")
    text = js("return document.body.innerText + ' ' + document.body.textContent")
    ok(value() == "918273", "pin: six digits typed, the seventh refused")
    ok("918273" not in html and "91827" not in html, "pin: no digits in the page's HTML")
    ok("918273" not in text, "pin: no digits in the page's text")
    ok(js("return document.getElementById('f1').getAttribute('value')") is None,
       "pin: no value attribute")
    st = js("return document.querySelector('#bb-keyboard [role=status]').textContent")
    ok(st == "Eingegeben: 6 von 6 Ziffern", "pin: the live region says the count only", st)
    ok(js("return document.getElementById('f1').type") == "password", "pin: masked")

    # The page follows /events: same version stays, another reloads /.
    open("gets", "w").close()
    d.get(base + "/")
    time.sleep(1.5)
    n1 = len(open("gets").read().split())
    open("ver", "w").write("2\n")
    for _ in range(50):
        if len(open("gets").read().split()) > n1:
            break
        time.sleep(0.1)
    n2 = len(open("gets").read().split())
    ok(n1 == 1, "events: the same version does not reload", n1)
    ok(n2 > n1, "events: a new version loads / again", (n1, n2))
    open("ver", "w").write("1\n")

    # Right to left: the page mirrors, the keyboard does not.
    opened("text-ar")
    r = js("return [getComputedStyle(document.documentElement).direction,"
           "document.getElementById('bb-keyboard').dir]")
    ok(r == ["rtl", "ltr"], "ar: page rtl, keyboard ltr", r)

    # At 200 % the open keyboard leaves the label, the field and its error in sight, on
    # a portrait screen and on a landscape one.
    for w, h in ((1080, 1920), (1920, 1080)):
        d.set_window_size(w, h)
        opened("pin-big-ar")
        time.sleep(1)
        r = js("var k = document.getElementById('bb-keyboard').getBoundingClientRect().top;"
               "return [document.querySelector('label[for=f1]').getBoundingClientRect().top,"
               "document.getElementById('f1-err').getBoundingClientRect().bottom, k]")
        ok(r[0] >= 0 and r[1] <= r[2],
           "pin-big-ar %dx%d: label, field and error above the keyboard" % (w, h), r)
    d.set_window_size(1080, 1920)

    # Every screen at 200 %, de and ar: no sideways scrolling, targets >= 64 px.
    for l in ("de", "ar"):
        for s in ("welcome", "card-place", "card-remove", "camera", "sign", "wait",
                  "thanks", "cancelled", "timeout-warning"):
            d.get(base + "/big-%s-%s/index.html" % (l, s))
            w = js("return [document.documentElement.scrollWidth,"
                   "document.documentElement.clientWidth]")
            small = js("return [...document.querySelectorAll('button,input:not([type=hidden])')]"
                       ".map(b => b.getBoundingClientRect())"
                       ".filter(r => r.width < 64 || r.height < 64).length")
            ok(w[0] <= w[1] and small == 0,
               "%s %s at 200 %%: reflows, targets >= 64 px" % (l, s), (w, small))
    ok(js("return getComputedStyle(document.documentElement).fontSize") == "48px",
       "size-200: the base text is 48 px")

    logs = [e["message"] for e in d.get_log("browser")
            if "Content Security Policy" in e["message"] or e["level"] == "SEVERE"
            and "/events" not in e["message"] and "favicon" not in e["message"]]
    ok(not logs, "no CSP violation, no script error", logs[:3])

    # axe-core, WCAG 2.1 A/AA rules, on every page it was given.
    if os.path.exists("axe.min.js"):
        axe = open("axe.min.js").read()
        pages = sorted(p for p in os.listdir("www") if p.startswith("axe-") or
                       p in ("text", "pin", "date", "postal", "numeric", "text-ar"))
        found = []
        for p in pages:
            d.get(base + "/" + p + "/index.html")
            d.execute_script(axe)
            r = d.execute_async_script(
                "var cb = arguments[arguments.length - 1]; axe.run(document, {runOnly:"
                "{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
                ".then(r => cb(r.violations.map(v => v.id + ' ' + v.nodes.length)))")
            found += ["%s: %s" % (p, v) for v in r]
        ok(not found, "axe-core: no WCAG 2.1 A/AA violation on %d pages" % len(pages),
           found[:10])
    else:
        print("0 axe-core # SKIP npm could not install axe-core", flush=True)
finally:
    d.quit()
EOF

$PY drive.py > results 2> drive.err
rc=$?
while read -r st desc; do
	ok "$st" "$desc"
done < results
[ -s drive.err ] && diag drive.err
ok "$rc" "the browser run ended cleanly"

done_testing
