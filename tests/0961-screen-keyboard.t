#!/bin/sh
# The citizen's screen in a real browser (issue 11), Debian's chromium through
# tests/rig/browser.py, one browser for the whole file. On the real server (bb-form serve,
# each screen by bb-form tell, each language, size and contrast by the page's own
# buttons): axe-core finds no WCAG 2.1 A/AA violation on any screen in any language in
# either contrast; every screen reflows at 200 % with targets of at least 64 px in de and
# ar; ar is right to left; the page follows /events; no CSP violation.
# The keyboard on a real page of bb-form ask (wohnsitz-anmelden's first): the on-screen
# keyboard types, long-presses to accented letters, submits the page with Enter (ask
# judges it), the date pad types a date; in ar the page is rtl, the keyboard ltr; at 200 %
# the open keyboard leaves the label, the field and its reason in sight.
# The pads no ask page offers yet (pin, postal, numeric) and the PIN's secrecy run on
# preview pages (tests/rig/preview-screen) served from 127.0.0.1 with the contract's CSP,
# until bb-form pin shows a real one: the right pad for each data-kbd; a PIN's digits
# appear nowhere in the page but the input's value; axe-core on those pages too.
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
for k in pin postal numeric; do
	$PREVIEW --lang de --input "$k" --label kbd.title --out "www/$k" field.yaml || exit 1
done
write_identity_case id.json
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
import json, os, subprocess, sys, time
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

field = ["f1"]	# the input value() reads: f1 on a preview page

def value():
    return js("return document.getElementById(arguments[0]).value", field[0])

def kbd_open():
    return js("return !document.getElementById('bb-keyboard').hidden")

def opened(page):
    field[0] = "f1"
    d.get(base + "/" + page + "/index.html")
    for _ in range(50):
        if kbd_open():
            return True
        time.sleep(0.1)
    return False

def tapped(fid):
    """Taps the input FID of the ask page shown: the keyboard opens on it."""
    field[0] = fid
    el = d.find_element(By.ID, fid)
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()
    for _ in range(50):
        if kbd_open() and js("return document.activeElement.id") == fid:
            return True
        time.sleep(0.1)
    return False

def ask_page(old=None):
    return srv.wait_page(b, lambda m: m[0] == "ask" and m[1] != old)[1]

try:
    # An ask page on the real server.
    b.open(srv.url)
    srv.wait_page(b, lambda m: True)
    ask = subprocess.Popen([os.environ["BB_FORM"], "ask", "wohnsitz-anmelden", "--screen",
        srv.sock, "-o", "ask.json", "id.json"], env=srv.env, stdin=subprocess.DEVNULL,
        stderr=open("ask.err", "w"))
    v = ask_page()
    # Text: QWERTZ with the catalogue's labels; shift starts on for an empty field.
    ok(tapped("f-new_address-street"), "text: the keyboard opens on a tapped field")
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
    ok(js("return document.activeElement.id") == field[0], "text: the field keeps the focus")
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
    d.find_element(By.ID, field[0]).send_keys("Öz 1")
    ok(value() == "Mülle -éşNñÖz 1", "text: a physical keyboard types", value())
    # Close, and a tap on the field opens again.
    tap("close")
    ok(not kbd_open() and js("return document.body.classList.contains('bb-kbd-open')") is False,
       "text: close hides the keyboard")
    d.find_element(By.ID, field[0]).click()
    ok(kbd_open(), "text: a tap on the field opens it again")
    # Tab reaches the keys; Enter on a focused key presses it.
    js("document.querySelector('#bb-keyboard button[data-key=\"a\"]').focus()")
    d.switch_to.active_element.send_keys(Keys.ENTER)
    ok(value().endswith("a"), "text: a key works from the keyboard alone", value())
    # Enter submits with the first button (next), as Enter in a field does: ask judges
    # the page (the day of moving in is missing) and what was typed stays.
    typed = value()
    tap("enter")
    v = ask_page(v)
    r = js("return [document.getElementById('f-new_address-street').value,"
           "document.getElementById('f-move_in').getAttribute('aria-invalid')]")
    ok(r == [typed, "true"], "text: enter sends the page with next", (r, typed))

    # The date pad, on the day of moving in.
    ok(tapped("f-move_in"), "date: the keyboard opens on the date")
    p = js("return [...document.querySelectorAll('#bb-keyboard button:not([disabled])')]"
           ".map(b => b.dataset.key)")
    ok("." in p and "letters" not in p and "q" not in p, "date: digits and a dot", p)
    tap("3"); tap("1"); tap("."); tap("1"); tap("2")
    ok(value() == "31.12", "date: the pad types 31.12", value())

    # Right to left: the page mirrors, the keyboard does not.
    srv.lang(b, "ar")	# the same page in another language (the typed text goes along)
    ok(tapped("f-new_address-street"), "ar: the keyboard opens")
    r = js("return [getComputedStyle(document.documentElement).direction,"
           "document.getElementById('bb-keyboard').dir]")
    ok(r == ["rtl", "ltr"], "ar: page rtl, keyboard ltr", r)

    # At 200 % the open keyboard leaves the label, the field and its reason in sight, on
    # a portrait screen and on a landscape one.
    srv.size(b, 150)
    srv.size(b, 200)
    for w, h in ((1080, 1920), (1920, 1080)):
        # The page as it comes: the focus on the field with a reason, the keyboard open.
        b.set_size((w, h))
        d.refresh()
        field[0] = "f-move_in"
        for _ in range(50):
            if kbd_open() and js("return document.activeElement.id") == "f-move_in":
                break
            time.sleep(0.1)
        time.sleep(1)
        r = js("var k = document.getElementById('bb-keyboard').getBoundingClientRect().top;"
               "return [document.querySelector('label[for=f-move_in]').getBoundingClientRect().top,"
               "document.getElementById('f-move_in-err').getBoundingClientRect().bottom, k]")
        ok(r[0] >= 0 and r[1] <= r[2],
           "ar 200 %% %dx%d: label, field and reason above the keyboard" % (w, h), r)
    b.set_size((1080, 1920))
    tap("close")
    b.click('form#bb-ask .bb-nav button[value="cancel"]')
    ok(ask.wait(20) == 1, "the ask ends with 1 on cancel")
    srv.end()

    # Pads.
    def pad(page):
        opened(page)
        return js("return [...document.querySelectorAll('#bb-keyboard button:not([disabled])')]"
                  ".map(b => b.dataset.key)")
    p = pad("pin")
    ok(sorted(p) == sorted(list("1234567890") + ["backspace", "close", "enter"]),
       "pin: digits, backspace, enter, close only", p)
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

    # axe-core on the field pages (preview: the server shows no input yet).
    found = []
    pages = sorted(p for p in os.listdir("www") if p.startswith("axe-") or
                   p in ("pin", "postal", "numeric"))
    for p in pages:
        d.get(base + "/" + p + "/index.html")
        found += ["%s: %s %s" % (p, v["id"], v["nodes"][0]["target"]) for v in b.axe()]
    ok(not found, "axe-core: no WCAG 2.1 A/AA violation on %d field pages" % len(pages),
       found[:10])
    prelogs = [e["message"] for e in d.get_log("browser")
               if "Content Security Policy" in e["message"] or e["level"] == "SEVERE"
               and "/events" not in e["message"] and "favicon" not in e["message"]]
    ok(not prelogs, "preview pages: no CSP violation, no script error", prelogs[:3])

    # --- the real server from here on (the token was taken at the start: its cookie) ---
    b.open(srv.url.split("?")[0])
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
