#!/bin/sh
# The wipe proof (issue 12): four people, each with a name, a date of birth and a "photo"
# drawn at run time, go through scripts/kiosk/session with the real screen server,
# headless Chromium and the fixture flow tests/data/kiosk/probe: one completes, one
# cancels, one walks away (the time runs out), and one's flow is SIGKILLed mid-step.
# After each, the next session's screens show none of the earlier answers, the browser's
# history did not grow, and no file under /run, /tmp, /dev/shm holds them; at the end no
# file under /run, /tmp, /var, /dev/shm, $HOME or the browser's profile does.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"

browser_or_skip
shm=$(mktemp -d /dev/shm/bb-test.XXXXXX)
trap 'rm -rf "$shm"; cd /; rm -rf "$scratch"' EXIT

cat > drive.py <<'PY'
import os, random, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from ask_drive import answer_page
from selenium.webdriver.common.by import By

TOP, BIN, SHM = os.environ["BB_TOP"], os.environ["BB_BIN"], os.environ["SHM"]
scratch = os.getcwd()
start = time.time()
rnd = random.SystemRandom()
NEEDLES = os.path.join(scratch, "expected.needles")	# skipped by the search
CAMERA = os.path.join(scratch, "probe-camera-input.jpg")	# the test's camera: skipped
FLOW = os.path.join(TOP, "tests", "data", "kiosk", "probe", "flow")

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

def person():
	"""Made at run time: no file of the test holds them before the run."""
	y, m, d = rnd.randrange(1931, 2006), rnd.randrange(1, 13), rnd.randrange(1, 29)
	# Bytes that are neither newline nor NUL: one line of grep -F -f.
	body = bytes(rnd.choice([b for b in range(1, 256) if b != 10]) for _ in range(4096))
	return {"name": "Q" + "".join(rnd.choice("bcdfghjklmnpqrstvwxz") for _ in range(11)),
	    "iso": "%04d-%02d-%02d" % (y, m, d), "de": "%02d.%02d.%04d" % (d, m, y),
	    "photo": b"\xff\xd8\xff\xe0" + body}

people = []

def needles():
	out = []
	for p in people:
		out += [p["name"].encode(), p["iso"].encode(), p["de"].encode(), p["photo"][100:164]]
	return out

def search(trees):
	"""Files under trees holding a needle: grep -r -a -F over them, not /proc. A date
	alone in a file older than the test is a coincidence (a changelog), not a leak."""
	with open(NEEDLES, "wb") as f:
		f.write(b"\n".join(needles()) + b"\n")
	r = subprocess.run(["grep", "-r", "-a", "-F", "-l", "-s", "-D", "skip",
	    "--exclude=expected.needles", "--exclude=probe-camera-input.jpg", "-f", NEEDLES] +
	    [t for t in trees if os.path.isdir(t)], stdout=subprocess.PIPE,
	    env=dict(os.environ, LC_ALL="C"))
	found = []
	for path in r.stdout.decode(errors="replace").splitlines():
		try:
			with open(path, "rb") as f:
				data = f.read()
			old = os.stat(path).st_mtime < start
		except OSError:
			continue
		strong = [n for n in needles() if n in data and not n[:1].isdigit()]
		if strong or not old:
			found.append(path)
		else:
			print("# %s: a date of birth in a file older than the test" % path, file=sys.stderr)
	return found

def dom():
	return b.d.execute_script("return document.documentElement.outerHTML")

def version():
	return b.d.execute_script("var m = document.getElementById('bb-screen');"
	    "return m ? m.dataset.version : null")

def flow_pid(parent):
	for pid in os.listdir("/proc"):
		try:
			with open("/proc/%s/cmdline" % pid, "rb") as f:
				args = f.read().split(b"\0")
			with open("/proc/%s/stat" % pid) as f:
				ppid = int(f.read().rsplit(")", 1)[1].split()[1])
		except (OSError, ValueError, IndexError):
			continue
		if ppid == parent and FLOW.encode() in args:
			return int(pid)
	return None

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(TOP, "scripts", "screens"),
    os.path.join(TOP, "tests", "data", "kiosk"))
with open(os.path.join(scratch, "session.yaml"), "w") as f:
	f.write("form:\n  screens: %s\n  services: %s\nkiosk:\n  session: %s/session\n" %
	    (os.path.join(TOP, "scripts", "screens"), os.path.join(TOP, "tests", "data", "kiosk"),
	    SHM))
env = dict(os.environ, BB_CONFIG=os.path.join(scratch, "session.yaml"), BB_SCREEN=s.sock,
    PATH=BIN + ":" + os.environ["PATH"], PROBE_PHOTO=CAMERA, PROBE_WAIT="8")
profile = os.path.join(scratch, "profile")
os.mkdir(profile)
b = Browser(size=(1080, 1920), profile=profile)
log = open(os.path.join(scratch, "session.err"), "w")
try:
	b.open(s.url)
	s.wait_page(b, lambda m: m[0] == "welcome")
	history = b.d.execute_script("return history.length")
	for end, want in (("completed", 0), ("cancelled", 1), ("timeout", 2), ("killed", 137)):
		earlier = needles()
		p = person()
		people.append(p)
		with open(CAMERA, "wb") as f:
			f.write(p["photo"])
		shown = version()
		sess = subprocess.Popen([os.path.join(TOP, "scripts", "kiosk", "session"), "--once"],
		    env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
		s.wait_page(b, lambda m: m[0] == "welcome" and m[1] != shown)
		b.click('button[name=choice][value="service probe"]')
		s.wait_page(b, lambda m: m[0] == "ask")
		html = dom().encode()
		ok(not any(n in html for n in earlier),
		    "%s: the ask page shows nothing of the people before" % end)
		answer_page(b, {"family_names": p["name"], "date_of_birth": p["iso"]}, "direct")
		s.wait_page(b, lambda m: m[0] == "ask" and b.d.find_elements(By.CSS_SELECTOR,
		    "button[value=send]"))
		ok(p["name"] in dom(), "%s: the summary shows the name" % end)
		answer_page(b, {}, "direct")
		s.wait_page(b, lambda m: m[0] == "camera")
		# The "photo" reaches the browser: the frame is loaded from the mirror.
		b.wait("#bb-mirror-frame[data-n]:not([data-n=''])")
		if end == "completed":
			s.wait_page(b, lambda m: m[0] == "timeout-warning", timeout=30)
			b.click("button[value=more]")
			s.wait_page(b, lambda m: m[0] == "thanks")
			ok(p["name"] in dom(), "completed: the last screen shows the name")
			b.click("button[value=done]")
		elif end == "cancelled":
			b.click("button[value=cancel]")
		elif end == "killed":
			pid = flow_pid(sess.pid)
			ok(pid is not None, "killed: the flow runs")
			os.kill(pid, 9)
			s.wait_page(b, lambda m: m[0] == "sorry")
			b.click("button[value=done]")
		rc = sess.wait(60)
		ok(rc == want, "%s: the session ends with the flow's status %d" % (end, want), rc)
		s.wait_page(b, lambda m: m[0] == "welcome")
		html = dom().encode()
		ok(not any(n in html for n in needles()), "%s: the welcome page after it shows "
		    "nothing of the person" % end)
		ok(b.d.execute_script("return history.length") == history,
		    "%s: the browser's history did not grow" % end)
		ok(not os.path.exists(os.path.join(SHM, "session")),
		    "%s: the session directory is gone" % end)
		found = search(["/run", "/tmp", "/dev/shm"])
		ok(found == [], "%s: no file under /run, /tmp, /dev/shm holds the person's data" %
		    end, found)
finally:
	s.stop()
	b.close()
	log.close()
found = search(["/run", "/tmp", "/var", "/dev/shm", os.environ["HOME"], profile])
ok(found == [], "at the end: no file under /run, /tmp, /var, /dev/shm, $HOME or the "
    "browser's profile holds any of the four people's data", found)
with open(os.path.join(scratch, "session.err"), "rb") as f:
	text = f.read()
with open(os.path.join(scratch, "serve.log"), "rb") as f:
	text += f.read()
ok(not any(n in text for n in needles()), "the logs hold none of it")
PY
BB_FORM=$BB_FORM BB_BIN=$BB_BIN SHM=$shm BB_TOP=$BB_TOP "$BROWSER_PYTHON" drive.py > results 2> drive.err
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
