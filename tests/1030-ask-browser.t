#!/bin/sh
# bb-form ask in a real browser: every service under scripts/services answered through the
# page by the physical keyboard alone (Tab, arrow keys, Space, Enter: EN 301 549 5.1.6),
# and again by taps on the page's on-screen keyboard (#bb-keyboard: shift for capitals, a
# long press for accented letters), gives the same case as `bb-form fill` given the same
# answers (one validator); the case comes on the ID card's identity, whose locked values
# the page shows and keeps.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"
browser_or_skip

write_identity_case id.json
printf 'form:\n  services: %s\n' "$SERVICES" > fill.yaml
for dir in "$SERVICES"/*; do
	svc=${dir##*/}
	[ -f "$dir/form.yaml" ] || continue	# a task without a form (pin-change)
	set --
	if [ -f "$dir/example-dates.txt" ]; then
		while read -r field days; do
			set -- "$@" --set "$field=$(date -d "$days days" +%F)"
		done < "$dir/example-dates.txt"
	fi
	"$BB_FORM" -c fill.yaml fill "$svc" --answers "$dir/example-answers.json" "$@" \
		-o "fill-$svc.json" id.json 2> fill.err || { diag fill.err; bail "fill $svc"; }
done

cat > drive.py <<'PY'
import json, os, subprocess, sys, traceback
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from ask_drive import answer_page

scratch = os.getcwd()

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(os.environ["BB_TOP"], "scripts",
    "screens"), os.environ["SERVICES"], verbose="-vv")
b = Browser(size=(1080, 1920))
try:
	b.open(s.url)
	s.wait_page(b, lambda m: True)
	for mode in sys.argv[1:]:
		for svc in sorted(d for d in os.listdir(os.environ["SERVICES"]) if
		    os.path.exists(os.path.join(os.environ["SERVICES"], d, "form.yaml"))):
			want = json.load(open("fill-%s.json" % svc))
			out = "ask-%s-%s.json" % (mode, svc)
			ask = subprocess.Popen([os.environ["BB_FORM"], "ask", svc, "--screen", s.sock,
			    "-o", out, "id.json"], env=s.env, stdin=subprocess.DEVNULL,
			    stderr=open("ask-%s-%s.err" % (mode, svc), "w"))
			last, pages, err = None, 0, ""
			try:
				while ask.poll() is None and pages < 80:
					m = s.wait_page(b, lambda m: m[0] == "ask" and m[1] != last)
					last = m[1]
					pages += 1
					if answer_page(b, want["form"]["fields"], mode) == "send":
						break
				rc = ask.wait(timeout=20)
			except Exception as e:
				err = "".join(traceback.format_exception_only(e)).strip()
				ask.kill()
				rc = ask.wait()
			ok(rc == 0, "%s (%s): ask ends with 0 after %d pages" % (svc, mode, pages), err)
			try:
				got = json.load(open(out))
			except Exception as e:
				got = {"error": repr(e)}
			for c in (got, want):
				c.get("form", {}).pop("completed", None)
			ok(got == want, "%s (%s): the case equals fill's" % (svc, mode),
			    json.dumps([got.get("form"), want.get("form")], ensure_ascii=False)[:2000])
			try:
				m = s.wait_page(b, lambda m: m[0] == "wait")
			except Exception as e:
				m = [repr(e)]
			ok(m[0] == "wait", "%s (%s): after ask the screen says please wait" % (svc, mode), m)
finally:
	rc = s.stop()
	ok(rc == 0, "serve exits 0", rc)
	b.close()
PY
BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP "$BROWSER_PYTHON" drive.py keys osk \
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
for f in ask-*.err; do
	check "${f%.err}: nothing on standard error" test ! -s "$f"
done

done_testing
