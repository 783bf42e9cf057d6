#!/bin/sh
# The live photo mirror on the citizen's screen (issue 11): bb-form tell camera --mirror DIR
# while the real bb-capture photo --mirror DIR runs on composed faces (too small, tilted,
# compliant, none); the page in a real browser (headless Chromium) shows each new frame,
# flipped as a mirror, and the hint in de, en and ar without reloading; the directory is
# checked (group-writable, not owned, a link: refused); /m/ needs the cookie, is 404 with
# no mirror on and after another screen or the end of the session; axe-core finds no
# violation. Screenshots camera-mirror-{de,en,ar}.png go to $BB_SHOTS when set.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"
browser_or_skip

COMPOSE=$BB_BIN/rig/compose-photo
for k in small tilted compliant blank; do
	if ! "$COMPOSE" "$k" "$k.ppm" 2> compose.err; then
		echo "1..0 # SKIP compose-photo $k: $(head -1 compose.err) (astronaut.png: python3-skimage)"
		exit 0
	fi
done
cp -R "$BB_TOP/scripts/screens" screens
mkdir -m 0750 mirror
mkdir -p "${BB_SHOTS:-$scratch/shots}"

cat > drive.py <<'PY'
import json, os, signal, subprocess, sys, time, urllib.request, urllib.error
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from memscan import scan

scratch, shots = os.getcwd(), sys.argv[1]
capture = os.path.join(os.environ["BB_BIN"], "bb-capture")
cats = {}
for l in ("de", "en", "ar"):
	import yaml
	with open(os.path.join(scratch, "screens", "catalog", l + ".yaml"), encoding="utf-8") as f:
		cats[l] = yaml.safe_load(f)

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

def js(s, *a):
	return b.d.execute_script(s, *a)

def tell(screen, *extra):
	return subprocess.run(s.tell_argv(screen, *extra), env=s.env, stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE)

cap = None
def capture_start(kind):
	"""bb-capture photo --mirror mirror on KIND.ppm, then on a FIFO nobody writes: it
	waits there with KIND's frame and guidance in the mirror."""
	global cap
	capture_stop()
	fifo = os.path.join(scratch, "frames.fifo")
	if not os.path.exists(fifo):
		os.mkfifo(fifo)
	for f in ("mirror.jpg", "guidance.json"):
		assert not os.path.exists(os.path.join(scratch, "mirror", f))
	cap = subprocess.Popen([capture, "photo", "--check-only", "--mirror", "mirror",
	    "--input", kind + ".ppm", "--input", fifo], stdin=subprocess.DEVNULL,
	    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	end = time.monotonic() + 60
	while not os.path.exists(os.path.join(scratch, "mirror", "guidance.json")):
		if time.monotonic() > end or cap.poll() is not None:
			raise OSError("bb-capture wrote no mirror for %s" % kind)
		time.sleep(0.05)

def capture_stop():
	global cap
	if cap is not None and cap.poll() is None:
		cap.terminate()	# it removes the mirror's files on SIGTERM
		cap.wait(10)
	cap = None
	for f in ("mirror.jpg", "guidance.json"):	# left by mirror_compliant
		if os.path.exists(os.path.join(scratch, "mirror", f)):
			os.unlink(os.path.join(scratch, "mirror", f))

def mirror_compliant():
	"""A compliant frame ends bb-capture at once, and its mirror with it: the mirror it
	would leave, made as it does: the measurements of --check-only without frames,
	profile, source and source_format, with frame; the frame shrunk to 640 rows; each
	file renamed into place."""
	from PIL import Image
	capture_stop()
	r = subprocess.run([capture, "photo", "--check-only", "--input", "compliant.ppm"],
	    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
	g = json.loads(r.stdout)
	for k in ("frames", "profile", "source", "source_format"):
		g.pop(k, None)
	g["frame"] = 1
	im = Image.open("compliant.ppm")
	im = im.resize((im.width * 640 // im.height, 640))
	im.save("mirror/.mirror.jpg.tmp", "JPEG", quality=85)
	os.rename("mirror/.mirror.jpg.tmp", "mirror/mirror.jpg")
	with open("mirror/.guidance.json.tmp", "w") as f:
		json.dump(g, f)
	os.rename("mirror/.guidance.json.tmp", "mirror/guidance.json")
	return r.returncode

def shown(text, timeout=10):
	"""Waits until the page's guidance says TEXT and its frame is loaded; the frame's URL."""
	end = time.monotonic() + timeout
	while True:
		st = js("var g = document.getElementById('bb-guide'), "
		    "i = document.getElementById('bb-mirror-frame'); return g && i ? "
		    "[g.textContent, i.hidden, i.complete && i.naturalWidth > 0, i.getAttribute('src'),"
		    " g.getAttribute('lang')] : null")
		if st is not None and st[0] == text and not st[1] and st[2]:
			return st
		if time.monotonic() > end:
			why(text, st)
			return st
		time.sleep(0.05)

def why(text, st):
	"""What the server and the browser say when the page did not show TEXT."""
	print("# waited for %r, the page has %r" % (text, st), file=sys.stderr)
	try:
		print("# /m/state now: %r" % (http("/m/state", timeout=3),), file=sys.stderr)
	except Exception as e:
		print("# /m/state now: %s" % e, file=sys.stderr)
	try:
		for l in b.d.get_log("browser")[-10:]:
			print("# browser: %s" % l.get("message"), file=sys.stderr)
	except Exception as e:
		print("# browser log: %s" % e, file=sys.stderr)
	with open(os.path.join(scratch, "serve.log")) as f:
		for l in f.read().splitlines()[-15:]:
			print("# serve: %s" % l, file=sys.stderr)

def http(path, cookie=True, timeout=10):
	"""GET PATH with the browser's session cookie (HttpOnly: from the driver): status,
	headers, body."""
	port = s.url.split(":")[2].split("/")[0]
	rq = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path))
	if cookie:
		rq.add_header("Cookie", "bb=" + b.d.get_cookie("bb")["value"])
	try:
		with urllib.request.urlopen(rq, timeout=timeout) as r:
			return r.status, r.headers, r.read()
	except urllib.error.HTTPError as e:
		return e.code, e.headers, e.read()

def axe(lang):
	v = b.axe()
	ok(v == [], "axe-core: no WCAG 2.1 A/AA violation on the mirror in %s" % lang,
	    [(x["id"], x["nodes"][0]["target"]) for x in v])

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(scratch, "screens"),
    os.environ["SERVICES"], verbose="-vv")
b = Browser(size=(1080, 1920))
try:
	b.open(s.url)
	s.wait_page(b, lambda m: m[0] == "welcome")

	# No mirror on: /m/ is not there, with the cookie or without.
	ok(http("/m/state")[0] == 404 and http("/m/mirror.jpg")[0] == 404,
	    "no mirror on: /m/state and /m/mirror.jpg are 404")
	r = tell("camera")
	s.wait_page(b, lambda m: m[0] == "camera")
	ok(r.returncode == 0 and js("return document.querySelector('img.bb-picture') !== null && "
	    "document.getElementById('bb-mirror-frame') === null"),
	    "camera without --mirror: the picture, no mirror", r.stderr)
	ok(http("/m/state")[0] == 404, "camera without --mirror: /m/state is 404")

	# The directory is checked before anything is shown.
	os.chmod("mirror", 0o770)
	r = tell("camera", "--mirror", "mirror")
	ok(r.returncode == 78 and b"chmod" in r.stderr,
	    "--mirror: a group-writable directory is refused (78)", (r.returncode, r.stderr))
	os.chmod("mirror", 0o752)
	r = tell("camera", "--mirror", "mirror")
	ok(r.returncode == 78, "--mirror: an other-writable directory is refused (78)", r.returncode)
	os.chmod("mirror", 0o750)
	if os.geteuid() == 0:
		os.chown("mirror", 65534, -1)
		r = tell("camera", "--mirror", "mirror")
		ok(r.returncode == 78 and b"chown" in r.stderr,
		    "--mirror: a directory of another user is refused (78)", (r.returncode, r.stderr))
		os.chown("mirror", 0, -1)
	else:
		ok(True, "--mirror: a directory of another user is refused # SKIP not root")
	os.symlink("mirror", "mirror.link")
	r = tell("camera", "--mirror", "mirror.link")
	ok(r.returncode == 78, "--mirror: a symbolic link is refused", (r.returncode, r.stderr))
	r = tell("wait", "--mirror", "mirror")
	ok(r.returncode == 64, "--mirror on a screen without mirror: true: 64", (r.returncode, r.stderr))
	ok(js("return document.getElementById('bb-screen').dataset.screen") == "camera",
	    "a refused tell changes nothing on the screen")

	# The mirror on, bb-capture not yet: the camera starts.
	old = js("return document.getElementById('bb-screen').dataset.version")
	r = tell("camera", "--mirror", "mirror")	# relative: tell makes it absolute
	m = s.wait_page(b, lambda m: m[0] == "camera" and m[1] != old)
	ok(r.returncode == 0 and js("return document.getElementById('bb-mirror-frame').hidden") and
	    js("return document.getElementById('bb-guide').textContent") == cats["de"]["guide.wait"],
	    "tell camera --mirror: no frame yet, the camera starts (de)", r.stderr)
	g = js("var g = document.getElementById('bb-guide'); return [g.getAttribute('role'), "
	    "g.getAttribute('aria-live')]")
	ok(g == ["status", "polite"], "the guidance is a polite live region", g)
	js("window.__bbSamePage = 1")

	# A frame too small: come closer.
	capture_start("small")
	st = shown(cats["de"]["guide.closer"])
	ok(st is not None and st[0] == cats["de"]["guide.closer"] and st[2],
	    "bb-capture's frame too small: the page shows it and \"%s\"" % cats["de"]["guide.closer"], st)
	first = st[3] if st else None
	ok(js("return window.__bbSamePage") == 1, "no reload for the mirror (the same document)")
	t = js("return getComputedStyle(document.getElementById('bb-mirror-frame')).transform")
	ok(t == "matrix(-1, 0, 0, 1, 0, 0)", "the frame is shown flipped, as a mirror", t)
	code, hdr, body = http("/m/mirror.jpg")
	sent = [body]
	with open(os.path.join(scratch, "mirror", "mirror.jpg"), "rb") as f:
		ok(code == 200 and hdr["Content-Type"] == "image/jpeg" and
		    hdr["Cache-Control"] == "no-store" and body == f.read(),
		    "GET /m/mirror.jpg: bb-capture's newest frame, image/jpeg, no-store",
		    (code, dict(hdr)))
	ok(http("/m/mirror.jpg", cookie=False)[0] == 403 and http("/m/state", cookie=False)[0] == 403,
	    "/m/ without the cookie: 403")
	code, hdr, body = http("/m/state")
	st2 = json.loads(body) if code == 200 else None
	ok(st2 is not None and st2["text"] == cats["de"]["guide.closer"] and st2["n"] != "" and
	    hdr["Cache-Control"] == "no-store", "GET /m/state: the frame's stamp and the hint", body)
	# Without script: the page as the server renders it has the frame and the hint.
	code, hdr, body = http("/")
	html = body.decode()
	ok(code == 200 and 'src="/m/mirror.jpg?n=' in html and cats["de"]["guide.closer"] in html,
	    "the page without script: the frame and the hint as of its load")
	b.screenshot(os.path.join(shots, "camera-mirror-de.png"))
	axe("de")

	# Tilted: look straight; a new frame under a new URL, still the same document.
	capture_start("tilted")
	written = os.stat(os.path.join(scratch, "mirror", "guidance.json")).st_mtime
	st = shown(cats["de"]["guide.straight"])
	print("# from bb-capture's guidance written to the page showing frame and hint: %.0f ms"
	    % ((time.time() - written) * 1000), flush=True)
	ok(st is not None and st[0] == cats["de"]["guide.straight"] and st[3] != first,
	    "tilted: \"%s\", the new frame loaded" % cats["de"]["guide.straight"], (st, first))
	ok(js("return window.__bbSamePage") == 1, "still no reload")

	# English: the page's own language button; the hint follows the session's language.
	s.lang(b, "en")
	st = shown(cats["en"]["guide.straight"])
	ok(st is not None and st[0] == cats["en"]["guide.straight"],
	    "en: \"%s\"" % cats["en"]["guide.straight"], st)
	rc = mirror_compliant()
	st = shown(cats["en"]["guide.good"])
	ok(rc == 0 and st is not None and st[0] == cats["en"]["guide.good"] and
	    js("return document.getElementById('bb-guide').classList.contains('bb-guide-good')"),
	    "compliant: \"%s\"" % cats["en"]["guide.good"], st)
	b.screenshot(os.path.join(shots, "camera-mirror-en.png"))
	axe("en")

	# Arabic, right to left: the hint in Arabic; the frame stays a mirror.
	capture_start("small")
	s.lang(b, "ar")
	st = shown(cats["ar"]["guide.closer"])
	ok(st is not None and st[0] == cats["ar"]["guide.closer"] and
	    js("return document.documentElement.dir") == "rtl",
	    "ar: \"%s\", right to left" % cats["ar"]["guide.closer"], st)
	b.screenshot(os.path.join(shots, "camera-mirror-ar.png"))
	axe("ar")
	# Text at 200 % and high contrast: still no violation, the hint still there.
	s.size(b, 150)
	s.size(b, 200)
	s.contrast(b, "high")
	st = shown(cats["ar"]["guide.closer"])
	ok(st is not None and st[0] == cats["ar"]["guide.closer"], "ar at 200 %, high contrast", st)
	b.screenshot(os.path.join(shots, "camera-mirror-ar-200-high.png"))
	axe("ar at 200 %, high contrast")
	capture_start("blank")
	st = shown(cats["ar"]["guide.no_face"])
	ok(st is not None and st[0] == cats["ar"]["guide.no_face"],
	    "ar, no face: \"%s\"" % cats["ar"]["guide.no_face"], st)
	ok(all(os.path.getsize(os.path.join(shots, "camera-mirror-%s.png" % l)) > 1000
	    for l in ("de", "en", "ar")), "screenshots of the mirror in de, en and ar")

	# A frame that cannot be loaded (gone when the photo was taken) is not shown: its
	# text alternative would be shown flipped.
	js("document.getElementById('bb-mirror-frame').src = '/m/gone.jpg'")
	end = time.monotonic() + 10
	while time.monotonic() < end and not js("return document.getElementById('bb-mirror-frame').hidden"):
		time.sleep(0.05)
	ok(js("return document.getElementById('bb-mirror-frame').hidden"),
	    "a frame that does not load is hidden, not its text alternative shown mirrored")

	# bb-capture ends: its files go, the page waits for the camera again.
	capture_stop()
	st = js("return null")
	end = time.monotonic() + 10
	while time.monotonic() < end and not (js("return document.getElementById('bb-mirror-frame').hidden")
	    and js("return document.getElementById('bb-guide').textContent") == cats["ar"]["guide.wait"]):
		time.sleep(0.05)
	ok(js("return document.getElementById('bb-mirror-frame').hidden") and
	    js("return document.getElementById('bb-guide').textContent") == cats["ar"]["guide.wait"],
	    "bb-capture ended: the frame goes, the camera starts again")

	# Another screen forgets the directory, though bb-capture still writes there.
	capture_start("small")
	code, hdr, body = http("/m/mirror.jpg")
	sent.append(body)
	ok(code == 200, "the mirror is served while camera shows it")
	s.show(b, "wait")
	ok(http("/m/mirror.jpg")[0] == 404 and http("/m/state")[0] == 404,
	    "another screen: /m/mirror.jpg and /m/state are 404, the files still there")
	ok(tell("camera", "--mirror", "mirror").returncode == 0 and http("/m/mirror.jpg")[0] == 200,
	    "camera --mirror again: served again")
	r = s.end()
	ok(r.get("ok") is True and http("/m/mirror.jpg")[0] == 404 and http("/m/state")[0] == 404,
	    "after {\"end\":true}: /m/mirror.jpg is 404", r)
	capture_stop()

	# The frames sent are gone from the server's memory (wiped when sent, not only
	# freed): a piece from the middle of each, where the picture's own bytes are.
	if os.geteuid() == 0:
		hits = [h for f in sent for h in scan(s.p.pid, f[len(f) // 2:len(f) // 2 + 64])]
		ok(len(sent) == 2 and all(len(f) > 1000 for f in sent) and hits == [],
		    "the frames sent are not in the server's memory", hits)
	else:
		ok(True, "the frames sent are not in the server's memory # SKIP not root")

	rc = s.stop()
	ok(rc == 0, "serve exits 0", rc)
	with open(os.path.join(scratch, "serve.log")) as f:
		log = f.read()
	ok("GET /m/state" in log and "GET /m/mirror.jpg" in log, "the log names /m/ routes")
	ok("Sanitizer" not in log and "runtime error" not in log, "no sanitizer report")
finally:
	capture_stop()
	if s.p.poll() is None:
		s.p.kill()
	b.close()
PY
BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP BB_BIN=$BB_BIN "$BROWSER_PYTHON" drive.py \
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
