#!/bin/sh
# One whole kiosk flow in a real browser (headless Chromium): "Wohnsitz anmelden" from the
# card to the receipt, the PIN tapped on the screen's pad, the form answered on its pages,
# the photo and the signature from the test portrait and a recorded pad; the authority
# receives the case, the flow ends 0, and no file the run wrote holds the PIN.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
. "$BB_TOP/tests/rig/authority.sh"

browser_or_skip
eid_pki_for_test || { echo "Bail out! make-eid-pki failed"; exit 1; }
pcsc_start "$scratch/pcsc" || { echo "Bail out! pcscd did not start"; exit 1; }
AUTH_PKI=${AUTH_PKI:-${TMPDIR:-/tmp}/bb-test-pki-$(id -u)}
export AUTH_PKI
authority_start "$scratch/authority" || { pcsc_stop; echo "Bail out! no authority"; exit 1; }
trap 'pcsc_stop; authority_stop; cd /; rm -rf "$scratch"' EXIT
# A PIN made at run time: no file of the test holds it, so a search finds only what the run
# wrote.
PIN=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
PIN=$(printf '%06d' $((PIN % 1000000)))
card_insert erika --pin "$PIN" || { echo "Bail out! no card"; exit 1; }

{
	cat "$AUTH_DIR/bb.yaml"
	printf 'eid:\n  pki: %s\n' "$EID_PKI"
	printf 'form:\n  screens: %s\n  services: %s\n' "$BB_TOP/scripts/screens" "$SERVICES"
	printf 'queue:\n  spool: %s\n' "$scratch/spool"
} > flow.yaml
svc=wohnsitz-anmelden
write_identity_case id.json
set --
while read -r field days; do
	set -- "$@" --set "$field=$(date -d "$days days" +%F)"
done < "$SERVICES/$svc/example-dates.txt"
"$BB_FORM" -c flow.yaml fill "$svc" --answers "$SERVICES/$svc/example-answers.json" "$@" \
	-o want.json id.json || { echo "Bail out! fill"; exit 1; }
"$BB_BIN/rig/compose-photo" compliant photo.ppm

cat > drive.py <<'PY'
import json, os, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from ask_drive import answer_page
from selenium.webdriver.common.by import By

scratch = os.getcwd()
PIN = os.environ["PIN"]

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(os.environ["BB_TOP"], "scripts",
    "screens"), os.environ["SERVICES"])
profile = os.path.join(scratch, "profile")
os.mkdir(profile)
b = Browser(size=(1080, 1920), profile=profile)
session = os.path.join(scratch, "session")
os.mkdir(session, 0o700)
env = dict(os.environ, BB_CONFIG=os.path.join(scratch, "flow.yaml"), BB_SCREEN=s.sock,
    BB_SESSION=session, BB_PHOTO_INPUT=os.path.join(scratch, "photo.ppm"),
    BB_SIGNATURE_REPLAY=os.path.join(os.environ["BB_TOP"], "tests", "data",
    "signature-tablet.evemu"), PATH=os.environ["BB_BIN"] + ":" + os.environ["PATH"],
    FLOW_CARD_REMOVE_WAIT="1")
flow = None
try:
	b.open(s.url)
	s.wait_page(b, lambda m: True)
	flow = subprocess.Popen([os.path.join(os.environ["SERVICES"], "wohnsitz-anmelden", "flow")],
	    env=env, stdin=subprocess.DEVNULL, stderr=open(os.path.join(scratch, "flow.log"), "w"),
	    start_new_session=True)
	m = s.wait_page(b, lambda m: m[0] == "pin", 30)
	kb = b.d.find_element(By.ID, "bb-keyboard")
	for ch in PIN:
		kb.find_element(By.CSS_SELECTOR, 'button[data-key="%s"]' % ch).click()
	b.click(".bb-nav button[value=ok]")
	ok(True, "the PIN tapped on the pad")
	want = json.load(open("want.json"))["form"]["fields"]
	last, pages = None, 0
	while pages < 60:
		m = s.wait_page(b, lambda m: m[1] != last and m[0] in ("ask", "camera", "sign",
		    "wait", "receipt", "failed", "cancelled"), 60)
		if m[0] != "ask":
			if m[0] in ("receipt", "failed", "cancelled"):
				break
			last = m[1]
			continue
		last = m[1]
		pages += 1
		answer_page(b, want, "direct")
	ok(m[0] == "receipt", "the form answered on %d pages, then the receipt" % pages, m)
	ok("Vorgangsnummer" in b.d.find_element(By.TAG_NAME, "main").text,
	    "the receipt gives the reference")
	b.click('button[name=choice][value="done"]')
	rc = flow.wait(timeout=30)
	ok(rc == 0, "the flow ends 0", rc)
finally:
	if flow is not None and flow.poll() is None:
		os.killpg(flow.pid, 15)
	s.stop()
	b.close()
with open(os.path.join(session, "step")) as f:
	ok(f.read().strip() == "receipt", "its last step was the receipt")
with open(os.path.join(scratch, "flow.log")) as f:
	log = f.read()
ok("step=photo" in log and "step=signature" in log, "photo and signature were taken", log)
found = []
for d, _, names in os.walk(scratch):
	for n in names:
		try:
			with open(os.path.join(d, n), "rb") as f:
				if PIN.encode() in f.read():
					found.append(os.path.join(d, n))
		except OSError:
			pass
ok(found == [], "no file holds the PIN, the browser's profile included", found)
PY
before=$(find "$AUTH_DIR/received" -name data.json 2> /dev/null | wc -l)
PIN=$PIN BB_FORM=$BB_FORM BB_BIN=$BB_BIN SERVICES=$SERVICES BB_TOP=$BB_TOP "$BROWSER_PYTHON" drive.py \
	> results 2> drive.err
rc=$?
while read -r st desc; do
	case $st in
	'#') echo "$st $desc" ;;
	*) ok "$st" "$desc" ;;
	esac
done < results
[ -s drive.err ] && diag drive.err
ok "$rc" "the browser run ended cleanly"
after=$(find "$AUTH_DIR/received" -name data.json 2> /dev/null | wc -l)
check "the authority received the case" test "$after" -eq $((before + 1))
done_testing
