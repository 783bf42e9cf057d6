#!/bin/sh
# The wipe proof (issue 12): four people go through scripts/kiosk/session with the real
# flow "Wohnsitz anmelden" (scripts/services/wohnsitz-anmelden/flow) in headless Chromium:
# each lays an ID card of their own on the reader (the card simulator behind pcscd and
# vpcd, a name, birth name and date of birth drawn at run time), types the PIN on the
# pad, answers the form (a street and a landlord drawn at run time), is photographed (a
# frame file with noise drawn at run time, BB_PHOTO_INPUT) and signs (BB_SIGNATURE_REPLAY).
# One completes (the local test authority receives the case), one cancels on the sign
# screen, one walks away on the form (the time runs out), and one's flow is SIGKILLed on
# the sign screen: after the photo was taken, before the submit. After each, the next
# session's screens show nothing of the people before, the browser's history did not
# grow, the session directory is gone, and no file under /run, /tmp, /dev/shm holds a
# name, a date of birth, an answer or a byte run of the photo (of the frame, of the JPEG
# the case carried, of the camera's mirror frame when the test caught one); at the end
# no file under /run, /tmp, /var, /dev/shm, $HOME, the scratch directory or the browser's
# profile does. The searches read the files changed since the test began (ctime): the
# people are made at run time, no older file can hold them. Not searched: what the test
# made or copied out of the running session (wipe-inputs/: the cards, the answers, the
# camera) and the authority's directory (it keeps the case it received, as a real one
# does; the test checks that the search finds the person there).
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/session.sh"
. "$BB_TOP/tests/rig/browser.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
. "$BB_TOP/tests/rig/authority.sh"

browser_or_skip
eid_pki_for_test || { echo "Bail out! make-eid-pki failed"; exit 1; }
pcsc_start "$scratch/pcsc" || { echo "Bail out! pcscd did not start"; exit 1; }
AUTH_PKI=${AUTH_PKI:-${TMPDIR:-/tmp}/bb-test-pki-$(id -u)}
export AUTH_PKI
authority_start "$scratch/authority" || { pcsc_stop; echo "Bail out! no authority"; exit 1; }
trap 'session_cleanup; pcsc_stop; authority_stop; cd /; rm -rf "$scratch"' EXIT
mkdir -m 700 wipe-inputs

# The kiosk's bb.yaml; idle.yaml the same with a short time for an answer.
SESSION_SERVICES=$SERVICES
CONF_EXTRA="$(cat "$AUTH_DIR/bb.yaml")
eid:
  pki: $EID_PKI
"
FORM_EXTRA='  idle: 4s
  warning: 3s
' session_conf
mv bb.yaml idle.yaml
session_conf
"$BB_BIN/rig/compose-photo" compliant wipe-inputs/portrait.ppm ||
	{ echo "Bail out! compose-photo"; exit 1; }
FLOW_CARD_REMOVE_WAIT=1
export FLOW_CARD_REMOVE_WAIT

cat > drive.py <<'PY'
import base64, json, os, random, shutil, signal, subprocess, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from ask_drive import answer_page
from kiosk_person import screen, tap_pin
from selenium.webdriver.common.by import By

TOP, BIN, SHM = os.environ["BB_TOP"], os.environ["BB_BIN"], os.environ["SHM"]
SERVICES, AUTH_DIR = os.environ["SERVICES"], os.environ["AUTH_DIR"]
scratch = os.getcwd()
INPUTS = os.path.join(scratch, "wipe-inputs")	# the test's own: not searched
SKIP = (INPUTS + "/", AUTH_DIR + "/")
SESSION_DIR = os.path.join(SHM, "session")
FLOW = os.path.join(SERVICES, "wohnsitz-anmelden", "flow")
READER = os.environ["PCSC_READER"]
CARDSIM = os.environ["CARDSIM"]
STAMP = os.path.join(INPUTS, "start")	# the searches look at what changed after it
open(STAMP, "w").close()
rnd = random.SystemRandom()

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr, flush=True)

def letters(n, pool="BCDFGHJKLMNPQRSTVWXZ"):
	return "".join(rnd.choice(pool) for _ in range(n))

def run(argv, **kw):
	return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, **kw)

def tlv(tag, body):
	assert len(body) < 128
	return bytes([tag, len(body)]) + body

def byte_run(data, at, n=48):
	"""n bytes of data from about at on, none a newline or NUL: one line of grep -F -f."""
	at -= at % 3
	while at + n <= len(data):
		r = data[at:at + n]
		if b"\n" not in r and b"\0" not in r:
			return at, r
		at += 3
	raise ValueError("no byte run without newline and NUL")

# ---- the people, made at run time: no file of the test holds them before the run ----
def person(i):
	y, m, d = rnd.randrange(1931, 2006), rnd.randrange(1, 13), rnd.randrange(1, 29)
	p = {"family": "Q" + letters(11), "given": "Q" + letters(7), "birth": "Q" + letters(9),
	    "iso": "%04d-%02d-%02d" % (y, m, d), "de": "%02d.%02d.%04d" % (d, m, y),
	    "card": "%04d%02d%02d" % (y, m, d),
	    "street": "Q" + letters(9, "bcdfghjklmnpqrstvwxz") + "weg",
	    "landlord": "Q" + letters(9, "bcdfghjklmnpqrstvwxz") + " Wohnbau",
	    "dir": os.path.join(INPUTS, "p%d" % i), "photo": []}
	os.mkdir(p["dir"], 0o700)
	# The ID card: erika's profile with this person's DG4, DG5, DG8, DG13 (the eID
	# application's data groups are not signed; Chip Authentication proves the chip).
	card = os.path.join(p["dir"], "card")
	shutil.copytree(os.path.join(TOP, "tests", "rig", "cards", "erika"), card, symlinks=True)
	for fid, tag, body in (("0104", 0x64, tlv(0x0C, p["given"].encode())),
	    ("0105", 0x65, tlv(0x0C, p["family"].encode())),
	    ("0108", 0x68, tlv(0x12, p["card"].encode())),
	    ("010D", 0x6D, tlv(0x0C, p["birth"].encode()))):
		with open(os.path.join(card, "app", fid), "wb") as f:
			f.write(tlv(tag, body))
	# What the person answers: the service's example answers, a street and a landlord
	# of their own; the case fill makes of them with the card's identity.
	with open(os.path.join(SERVICES, "wohnsitz-anmelden", "example-answers.json")) as f:
		ans = json.load(f)
	ans["new_address"]["street"] = p["street"] + " %d" % rnd.randrange(1, 200)
	ans["landlord_name"] = p["landlord"]
	with open(os.path.join(p["dir"], "answers.json"), "w") as f:
		json.dump(ans, f)
	# The identity as bb-eid reads it from this card (lib.sh's write_identity_case).
	ident = {"bb": 1, "id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3",
	    "created": "2026-11-30T10:00:00Z", "terminal": "test-1", "identity": {
	    "document_type": "ID", "issuing_state": "DE", "expiry": "2031-10-31",
	    "academic_title": "DR.", "place_of_birth": "BERLIN", "nationality": "DE",
	    "address": {"street": "HEIDESTRASSE 17", "postal_code": "51147", "city": "KÖLN",
	    "country": "DE"}}}
	ident["identity"].update(given_names=p["given"], family_names=p["family"],
	    birth_name=p["birth"], date_of_birth=p["iso"])
	with open(os.path.join(p["dir"], "id.json"), "w") as f:
		json.dump(ident, f)
	sets = []
	with open(os.path.join(SERVICES, "wohnsitz-anmelden", "example-dates.txt")) as f:
		for line in f:
			field, days = line.split()
			sets += ["--set", "%s=%s" % (field, time.strftime("%Y-%m-%d",
			    time.localtime(time.time() + 86400 * int(days))))]
	r = run([os.environ["BB_FORM"], "fill", "wohnsitz-anmelden", "--answers",
	    os.path.join(p["dir"], "answers.json")] + sets + ["-o",
	    os.path.join(p["dir"], "want.json"), os.path.join(p["dir"], "id.json")])
	if r.returncode != 0:
		raise RuntimeError("bb-form fill: " + r.stderr.decode(errors="replace"))
	with open(os.path.join(p["dir"], "want.json")) as f:
		p["want"] = json.load(f)["form"]["fields"]
	# The camera: the test portrait, its middle changed by noise of this person's.
	with open(os.path.join(INPUTS, "portrait.ppm"), "rb") as f:
		data = bytearray(f.read())
	head = data.split(b"\n", 3)
	w, h = (int(x) for x in head[1].split())
	off = sum(len(x) + 1 for x in head[:3])
	noise = os.urandom(w * 3)
	for y in range(h // 4, 3 * h // 4):
		a = off + (y * w + w // 4) * 3
		row = data[a:a + w // 2 * 3]
		data[a:a + w // 2 * 3] = bytes(v ^ (n & 3) for v, n in zip(row, noise[(y * 7) % w:]))
	p["camera"] = os.path.join(p["dir"], "camera.ppm")
	with open(p["camera"], "wb") as f:
		f.write(data)
	p["photo"].append(byte_run(bytes(data), off + (h // 2 * w + w // 2) * 3)[1])
	return p

people = []

def text_needles(ps):
	out = []
	for p in ps:
		for k in ("family", "given", "birth", "street", "landlord"):
			out += [p[k].encode(), p[k].upper().encode(), p[k].capitalize().encode()]
		out += [p["iso"].encode(), p["de"].encode(), p["card"].encode()]
	return out

def needles(ps=None):
	ps = people if ps is None else ps
	return text_needles(ps) + [x for p in ps for x in p["photo"]]

def kind(n):
	for p in people:
		if n in p["photo"]:
			return "photo bytes"
		if n in (p["iso"].encode(), p["de"].encode(), p["card"].encode()):
			return "date of birth"
		if n.lower() in (p["street"].lower().encode(), p["landlord"].lower().encode()):
			return "answer"
	return "name"

NEEDLES = os.path.join(INPUTS, "needles")

def own(path):
	"""Whether path is in another test run's scratch directory (no run but this one
	knows the people: only a date there is a coincidence)."""
	for top in ("/tmp/bb-test.", "/dev/shm/bb-test."):
		if path.startswith(top) and not path.startswith(scratch + "/") and \
		    not path.startswith(SHM + "/"):
			return False
	return True


def search(trees, skip=SKIP):
	"""Files under trees holding a needle: grep -a -F over the files whose inode changed
	since the test began (the people are made at run time: no older file can hold them,
	and a program cannot set a ctime back), not /proc. A date alone in another run's
	scratch directory is a coincidence, not a leak."""
	t0 = time.monotonic()
	with open(NEEDLES, "wb") as f:
		f.write(b"\n".join(needles()) + b"\n")
	trees = sorted(set(t for t in trees if os.path.isdir(t)))
	r = subprocess.run(["sh", "-c", 'find "$@" -type f -cnewer "$STAMP" -print0 2> /dev/null |'
	    ' xargs -0 -r grep -a -F -l -s -f "$NEEDLES" --', "sh"] + trees,
	    stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C", STAMP=STAMP, NEEDLES=NEEDLES))
	found = []
	for path in sorted(set(r.stdout.decode(errors="replace").splitlines())):
		if path.startswith(skip):
			continue
		try:
			with open(path, "rb") as f:
				data = f.read()
		except OSError:
			continue
		hits = [n for n in needles() if n in data]
		strong = [n for n in hits if not n.replace(b"-", b"").replace(b".", b"").isdigit()]
		if strong or (hits and own(path)):
			found.append(path)
			print("# %s holds: %s" % (path, ", ".join(sorted(set(kind(n) for n in hits)))),
			    file=sys.stderr)
		elif hits:
			print("# %s: a date of birth in a file of another run" % path, file=sys.stderr)
	print("# search %s: %.1f s" % (" ".join(trees), time.monotonic() - t0), file=sys.stderr)
	return found

# ---- the card on the reader ----
card_pid = None

def card_insert(p):
	global card_pid
	card_remove()
	log = open(os.path.join(scratch, "pcsc", "cardsim.log"), "a")
	card_pid = subprocess.Popen([CARDSIM, "--port", os.environ["VPCD_PORT"], "--parent",
	    str(os.getpid()), "--pki", os.environ["EID_PKI"], os.path.join(p["dir"], "card")],
	    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
	r = run([CARDSIM, "--client", "--reader", READER, "--wait-card", "--timeout", "10"])
	if r.returncode != 0:
		raise RuntimeError("the card did not come: " + r.stderr.decode(errors="replace"))

def card_remove():
	global card_pid
	if card_pid is not None:
		card_pid.terminate()
		card_pid.wait()
		card_pid = None
		run([CARDSIM, "--client", "--reader", READER, "--wait-removal", "--timeout", "10"])

# ---- what the person sees ----
def dom():
	try:
		return b.d.execute_script("return document.documentElement.outerHTML").encode()
	except Exception:
		return b""

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

class Mirror(threading.Thread):
	"""Keeps the last mirror frame the camera wrote into the session (the test's copy,
	in wipe-inputs), while the session runs."""
	def __init__(self):
		super().__init__(daemon=True)
		self.frame, self.stop = None, False
	def run(self):
		path = os.path.join(SESSION_DIR, "mirror", "mirror.jpg")
		while not self.stop:
			try:
				with open(path, "rb") as f:
					data = f.read()
				if len(data) > 4096 and data[-2:] == b"\xff\xd9":
					self.frame = data
			except OSError:
				pass
			time.sleep(0.01)

def take_case(p):
	"""The case in the session, once it holds the photo: the JPEG's byte run, raw and as
	the case's base64, becomes a needle."""
	if p.get("jpeg"):
		return True
	try:
		with open(os.path.join(SESSION_DIR, "case.json"), "rb") as f:
			raw = f.read()
		c = json.loads(raw)
	except (OSError, ValueError):
		return False
	for a in c.get("attachments", []):
		if a.get("name") == "photo":
			jpeg = base64.b64decode(a["data"])
			at, r = byte_run(jpeg, len(jpeg) // 2)
			b64 = base64.b64encode(r)
			ok(a["data"][at // 3 * 4:at // 3 * 4 + len(b64)] == b64.decode(),
			    "%s: the case's photo: the byte run found in its base64 too" % p["end"])
			p["photo"] += [r, b64]
			p["jpeg"] = True
			with open(os.path.join(p["dir"], "case.json"), "wb") as f:
				f.write(raw)
			return True
	return False

ENDS = (("completed", 0), ("cancelled", 1), ("timeout", 2), ("killed", 137))

srv = os.path.join(scratch, "srv")
os.mkdir(srv, 0o700)
s = Serve(os.environ["BB_FORM"], srv, os.path.join(TOP, "scripts", "screens"), SERVICES)
profile = os.path.join(scratch, "profile")
os.mkdir(profile)
b = Browser(size=(1080, 1920), profile=profile)
log = open(os.path.join(scratch, "session.err"), "w")
replay = os.path.join(TOP, "tests", "data", "signature-tablet.evemu")
nothing = os.path.join(INPUTS, "nothing.evemu")	# a pad that gives nothing: a FIFO
os.mkfifo(nothing)
sess = None
try:
	b.open(s.url)
	s.wait_page(b, lambda m: m[0] == "welcome")
	history = b.d.execute_script("return history.length")
	for i, (end, want) in enumerate(ENDS):
		p = person(i)
		p["end"] = end
		earlier = text_needles(people)
		people.append(p)
		card_insert(p)
		env = dict(os.environ, BB_SCREEN=s.sock, BB_PHOTO_INPUT=p["camera"],
		    BB_SIGNATURE_REPLAY=replay if end == "completed" else nothing,
		    BB_CONFIG=os.path.join(scratch, "idle.yaml" if end == "timeout" else "bb.yaml"))
		shown = screen(b)
		sess = subprocess.Popen([os.path.join(TOP, "scripts", "kiosk", "session"), "--once"],
		    env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
		mirror = Mirror()
		mirror.start()
		seen, last, pages, shown_earlier = [], shown[:2] if shown else None, 0, []
		started, exited = False, None
		deadline = time.monotonic() + 240
		while time.monotonic() < deadline:
			m = screen(b)
			if m is None or m[:2] == last:
				# A session that ended (or broke) without the welcome screen: done.
				if sess.poll() is not None:
					exited = exited or time.monotonic()
					if time.monotonic() - exited > 5:
						break
				time.sleep(0.05)
				continue
			last = m[:2]
			name = m[0]
			html = dom()
			shown_earlier += [n.decode() for n in earlier if n in html]
			if name == "welcome":
				if started:	# the session is over
					break
				# (shown again when nobody chose in time: chosen again)
				b.d.find_element(By.CSS_SELECTOR,
				    'main button[value="service wohnsitz-anmelden"]').click()
				continue
			started = True
			seen.append(name)
			try:
				if name == "pin":
					tap_pin(b, "123456")
				elif name == "ask":
					pages += 1
					if end == "timeout" and pages > 1:
						continue	# the person walked away
					answer_page(b, p["want"], "direct")
				elif name in ("sign", "wait", "receipt"):
					take_case(p)
					if name == "sign" and end == "cancelled":
						b.click("button[value=cancel]")
					elif name == "sign" and end == "killed":
						pid = flow_pid(sess.pid)
						ok(pid is not None, "killed: the flow runs on the sign screen")
						if pid is not None:
							os.kill(pid, signal.SIGKILL)
					elif name == "receipt":
						b.click('main button[value="done"]')
				elif name == "sorry":
					b.click('main button[value="done"]')
			except Exception as e:	# the page changed under the tap: look again
				print("# %s: %s: %s" % (end, name, str(e).splitlines()[0] if str(e)
				    else type(e).__name__), file=sys.stderr)
				last = None
		rc = sess.wait(60)
		sess = None
		mirror.stop = True
		mirror.join()
		if mirror.frame:
			p["photo"].append(byte_run(mirror.frame, len(mirror.frame) // 2)[1])
			with open(os.path.join(p["dir"], "mirror.jpg"), "wb") as f:
				f.write(mirror.frame)
		print("# %s: screens %s; photo needles %d (mirror frame %s)" % (end, " ".join(seen),
		    len(p["photo"]), "caught" if mirror.frame else "not caught"), file=sys.stderr)
		ok(rc == want, "%s: the session ends with the flow's status %d" % (end, want), rc)
		if end != "timeout":	# (the time runs out on the form, before the camera)
			ok(p.get("jpeg"), "%s: the flow took the photo" % end, seen)
		if end == "killed":
			ok("sorry" in seen, "killed: the session said sorry", seen)
		if end == "completed":
			with open(os.path.join(AUTH_DIR, "authority.log"), "rb") as f:
				ok(b"accepted" in f.read(), "completed: the authority accepted the case")
			# The search finds what is there: the authority keeps the name and the photo.
			held = search([AUTH_DIR], skip=(INPUTS + "/",))
			hits = set()
			for path in held:
				with open(path, "rb") as f:
					data = f.read()
				hits |= {n for n in needles([p]) if n in data}
			ok(p["family"].encode() in hits and any(x in hits for x in p["photo"][1:]),
			    "completed: the search finds the name and the photo's bytes where the "
			    "authority keeps them", held)
		ok(shown_earlier == [], "%s: the screens showed nothing of the people before" % end,
		    shown_earlier)
		try:
			s.wait_page(b, lambda m: m[0] == "welcome")
		except Exception:
			pass	# (said below: the page is not the welcome screen)
		html = dom()
		ok(b'data-screen="welcome"' in html, "%s: the welcome screen after it" % end)
		ok(not any(n in html for n in needles([p])), "%s: the welcome page after it shows "
		    "nothing of the person" % end)
		ok(b.d.execute_script("return history.length") == history,
		    "%s: the browser's history did not grow" % end)
		ok(not os.path.exists(SESSION_DIR), "%s: the session directory is gone" % end)
		found = search(["/run", "/tmp", "/dev/shm", scratch])
		ok(found == [], "%s: no file under /run, /tmp, /dev/shm holds the person's data" %
		    end, found)
finally:
	if sess is not None and sess.poll() is None:
		sess.terminate()
		sess.wait()
	card_remove()
	s.stop()
	b.close()
	log.close()
found = search(["/run", "/tmp", "/var", "/dev/shm", os.environ["HOME"], scratch, profile])
ok(found == [], "at the end: no file under /run, /tmp, /var, /dev/shm, $HOME, the scratch "
    "directory or the browser's profile holds any of the four people's data", found)
with open(os.path.join(scratch, "session.err"), "rb") as f:
	text = f.read()
with open(os.path.join(srv, "serve.log"), "rb") as f:
	text += f.read()
ok(not any(n in text for n in needles()), "the logs hold none of it")
PY
SHM=$shm SERVICES=$SERVICES CARDSIM=$CARDSIM "$BROWSER_PYTHON" drive.py > results 2> drive.err
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
