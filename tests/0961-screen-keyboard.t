#!/bin/sh
# The citizen's screen in a real browser (issue 11), Debian's chromium through
# tests/rig/browser.py, one browser for the whole file. On the real server (bb-form serve,
# each screen by bb-form tell, each language, size and contrast by the page's own
# buttons): axe-core finds no WCAG 2.1 A/AA violation on any screen in any language in
# either contrast; every screen reflows at 200 % with targets of at least 64 px in de and
# ar; ar is right to left; the page follows /events; no CSP violation.
# The keyboard checks run on preview pages (tests/rig/preview-screen) served from
# 127.0.0.1 with the contract's CSP, because the server cannot show an input yet (that is
# bb-form ask, next): the on-screen keyboard types, long-presses to accented letters,
# submits with Enter, offers the right pad for each data-kbd; a PIN's digits appear
# nowhere in the page but the input's value; at 200 % the open keyboard leaves the field
# in sight; axe-core on those field pages too.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"
browser_or_skip

PY=$BROWSER_PYTHON
PREVIEW="$PY $BB_TOP/tests/rig/preview-screen"

# The preview pages: one field of each kind on a two-button screen.
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
for l in de en tr ar uk ru pl ro; do
	$PREVIEW --lang "$l" --contrast high --input pin --label pin.title --error pin.wrong \
		--set tries=2 --out "www/axe-$l-pin-high" field.yaml || exit 1
done

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
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

base = "http://127.0.0.1:%s" % open("port").read().strip()
SCREENS = ("welcome", "card-place", "card-remove", "camera", "sign", "wait", "thanks",
    "cancelled", "timeout-warning")
LANGS = ("de", "en", "tr", "ar", "uk", "ru", "pl", "ro")
os.mkdir("real")
srv = Serve(os.environ["BB_FORM"], os.path.abspath("real"),
    os.path.join(os.environ["BB_TOP"], "scripts", "screens"), os.environ["SERVICES"])
b = Browser(size=(1080, 1920))
d = b.d
d.set_page_load_timeout(30)

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

    # Right to left: the page mirrors, the keyboard does not.
    opened("text-ar")
    r = js("return [getComputedStyle(document.documentElement).direction,"
           "document.getElementById('bb-keyboard').dir]")
    ok(r == ["rtl", "ltr"], "ar (preview): page rtl, keyboard ltr", r)

    # At 200 % the open keyboard leaves the label, the field and its error in sight, on
    # a portrait screen and on a landscape one.
    for w, h in ((1080, 1920), (1920, 1080)):
        b.set_size((w, h))
        opened("pin-big-ar")
        time.sleep(1)
        r = js("var k = document.getElementById('bb-keyboard').getBoundingClientRect().top;"
               "return [document.querySelector('label[for=f1]').getBoundingClientRect().top,"
               "document.getElementById('f1-err').getBoundingClientRect().bottom, k]")
        ok(r[0] >= 0 and r[1] <= r[2],
           "pin-big-ar %dx%d: label, field and error above the keyboard" % (w, h), r)
    b.set_size((1080, 1920))

    # axe-core on the field pages (preview: the server shows no input yet).
    found = []
    pages = sorted(p for p in os.listdir("www") if p.startswith("axe-") or
                   p in ("text", "pin", "date", "postal", "numeric", "text-ar"))
    for p in pages:
        d.get(base + "/" + p + "/index.html")
        found += ["%s: %s %s" % (p, v["id"], v["nodes"][0]["target"]) for v in b.axe()]
    ok(not found, "axe-core: no WCAG 2.1 A/AA violation on %d field pages" % len(pages),
       found[:10])
    prelogs = [e["message"] for e in d.get_log("browser")
               if "Content Security Policy" in e["message"] or e["level"] == "SEVERE"
               and "/events" not in e["message"] and "favicon" not in e["message"]]
    ok(not prelogs, "preview pages: no CSP violation, no script error", prelogs[:3])

    # --- the real server from here on ---
    b.open(srv.url)
    m = srv.wait_page(b, lambda m: True)
    ok(m[0] == "welcome" and m[2] == "de", "real server: welcome in de first", m)

    # The page follows /events: with no tell it stays, a tell loads / again.
    t0 = js("return performance.timeOrigin")
    time.sleep(1.5)
    ok(js("return performance.timeOrigin") == t0, "events: the same version does not reload")
    srv.show(b, "wait")
    ok(js("return performance.timeOrigin") != t0, "events: a tell loads / again")

    # axe-core on every screen in every language, normal and high contrast, each
    # language and contrast set with the page's own buttons.
    found, n = [], 0
    for l in LANGS:
        if js("return document.documentElement.lang") != l:
            srv.lang(b, l)
        for c in ("normal", "high"):
            if ("contrast-" + c) not in js("return document.documentElement.className"):
                srv.contrast(b, c)
            for s in SCREENS:
                m = srv.show(b, s, reference="BB-2026-000042") or []
                n += 1
                found += ["%s %s %s: %s %s" % (l, c, s, v["id"], v["nodes"][0]["target"])
                          for v in b.axe()]
    ok(n == len(LANGS) * 2 * len(SCREENS) and not found,
       "axe-core: no WCAG 2.1 A/AA violation on the server's %d pages (%d languages x "
       "2 contrasts x %d screens)" % (n, len(LANGS), len(SCREENS)), found[:10])

    # Right to left on the server's page; the reference keeps its direction.
    srv.lang(b, "ar")
    srv.contrast(b, "normal")
    srv.show(b, "thanks", reference="BB-2026-000042")
    r = js("return [getComputedStyle(document.documentElement).direction,"
           "getComputedStyle(document.querySelector('main bdi')).direction,"
           "document.querySelector('main bdi').textContent]")
    ok(r == ["rtl", "ltr", "BB-2026-000042"], "ar: page rtl, the reference ltr in a bdi", r)

    # Every screen at 200 % (the size button, twice), de and ar: no sideways scrolling,
    # targets >= 64 px.
    srv.size(b, 150)
    srv.size(b, 200)
    for l in ("de", "ar"):
        srv.lang(b, l)
        for s in SCREENS:
            srv.show(b, s, reference="BB-2026-000042")
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
    ok(not logs, "the server's pages: no CSP violation, no script error", logs[:3])
    ok(srv.stop() == 0, "the server stops cleanly")
finally:
    if srv.p.poll() is None:
        srv.p.kill()
    b.close()
EOF

BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP $PY drive.py > results 2> drive.err
rc=$?
while read -r st desc; do
	ok "$st" "$desc"
done < results
[ -s drive.err ] && diag drive.err
ok "$rc" "the browser run ended cleanly"

done_testing
