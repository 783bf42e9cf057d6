#!/usr/bin/python3
"""The browser test rig: Debian's headless Chromium driven through chromedriver and
python3-selenium, for the tests of the citizen's screen (issue 11). See tests/rig/README.

    browser.py [options] URL [STEP ...]       steps from argv, one step per argument
    browser.py [options] URL --steps FILE     steps from FILE, one a line ('-': stdin)
    browser.py --install-axe                  only install axe-core (npm ci), then exit

A step is a line split like a shell word list (shlex): `click '#go'`. Run it with
/usr/bin/python3: selenium is Debian's package, not pyenv's.
Exit: 0 done, 1 axe found violations (every step still ran), 2 usage, 3 a step failed
(the rest are not run), 69 no browser (chromium, chromedriver or selenium missing; with
--install-axe: axe-core did not install).
"""

import fcntl
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time

CHROMIUM = os.environ.get("BB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BB_CHROMEDRIVER", "/usr/bin/chromedriver")
RIG = os.path.dirname(os.path.abspath(__file__))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

EX_VIOLATIONS, EX_USAGE, EX_STEP, EX_UNAVAILABLE = 1, 2, 3, 69


class StepError(Exception):
	pass


def axe_dir():
	"""Where npm ci puts axe-core: BB_AXE_DIR, else the build directory's rig/axe."""
	if os.environ.get("BB_AXE_DIR"):
		return os.environ["BB_AXE_DIR"]
	bb_bin = os.environ.get("BB_BIN") or os.path.join(os.path.dirname(os.path.dirname(RIG)), ".build")
	return os.path.join(bb_bin, "rig", "axe")


def install_axe(dest=None):
	"""Installs the axe-core that tests/rig/axe/package-lock.json pins (version and sha512)
	into DEST with npm ci, unless the same lock file is installed there already. Parallel
	tests wait for each other on DEST/.lock. Returns the path of axe.min.js."""
	dest = dest or axe_dir()
	os.makedirs(dest, exist_ok=True)
	js = os.path.join(dest, "node_modules", "axe-core", "axe.min.js")
	lock = os.path.join(RIG, "axe", "package-lock.json")
	done = os.path.join(dest, ".installed")	# a copy of the lock file npm ci installed
	with open(os.path.join(dest, ".lock"), "w") as lk:
		fcntl.flock(lk, fcntl.LOCK_EX)
		with open(lock, "rb") as f:
			want = f.read()
		try:
			with open(done, "rb") as f:
				if f.read() == want and os.path.isfile(js):
					return js
		except FileNotFoundError:
			pass
		if not shutil.which("npm"):
			raise StepError("axe-core: npm is missing (scripts/install-deps installs it)")
		for name in ("package.json", "package-lock.json"):
			shutil.copyfile(os.path.join(RIG, "axe", name), os.path.join(dest, name))
		# --prefer-offline: a clone built again on the same machine needs no registry;
		# --ignore-scripts: nothing from the registry runs here.
		r = subprocess.run(["npm", "ci", "--prefix", dest, "--no-audit", "--no-fund",
		    "--ignore-scripts", "--prefer-offline", "--loglevel=error"],
		    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
		if r.returncode != 0 or not os.path.isfile(js):
			raise StepError("axe-core: npm ci in %s failed (status %d): %s" %
			    (dest, r.returncode, r.stdout.decode(errors="replace").strip()[-800:]))
		with open(done + ".tmp", "wb") as f:
			f.write(want)
		os.rename(done + ".tmp", done)
	return js


def png_size(data):
	"""(width, height) from a PNG's IHDR, or None when DATA is no PNG."""
	if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
		return None
	return struct.unpack(">II", data[16:24])


def css_string(s):
	"""S as a CSS string literal."""
	return '"%s"' % "".join("\\%x " % ord(c) if c in '"\\' or ord(c) < 0x20 else c for c in s)


def parse_size(s):
	try:
		w, h = s.lower().split("x")
		return int(w), int(h)
	except ValueError:
		raise StepError("bad size %r (want WIDTHxHEIGHT)" % s)


# Installed in a page (and, for `time`, in every new document before its own scripts):
# records in window.__bbSeen the time (epoch ms, page clock) at which TARGET first
# matched: a CSS selector, or text=... for a text anywhere in the body; and in
# sessionStorage (it survives a same-origin navigation) the time of the first input event
# (pointer down, key down) after it was installed first.
WATCH_JS = r"""
(function (target, fresh) {
	try { if (fresh) sessionStorage.removeItem('bb.rig.input'); } catch (e) {}
	if (window.__bbWatch === target && !fresh) return;
	window.__bbWatch = target; window.__bbSeen = null;
	function now() { return performance.timeOrigin + performance.now(); }
	function input(ev) {
		try {
			if (sessionStorage.getItem('bb.rig.input') === null)
				sessionStorage.setItem('bb.rig.input', String(performance.timeOrigin + ev.timeStamp));
		} catch (e) {}
	}
	['pointerdown', 'mousedown', 'touchstart', 'keydown'].forEach(function (t) {
		window.addEventListener(t, input, {capture: true, passive: true});
	});
	function match() {
		if (target.indexOf('text=') === 0)
			return document.body !== null && document.body.innerText.indexOf(target.slice(5)) >= 0;
		return document.querySelector(target) !== null;
	}
	function check() {
		if (window.__bbSeen === null && window.__bbWatch === target && match()) {
			window.__bbSeen = now();
		}
	}
	new MutationObserver(check).observe(document, {subtree: true, childList: true,
	    attributes: true, characterData: true});
	check();
})(%s, %s);
"""


class Browser:
	"""One headless Chromium with a scratch profile. size: the viewport, (w, h)."""

	def __init__(self, size=(1080, 1920), timeout=10.0, lang="de", profile=None, log=None):
		try:
			from selenium import webdriver
			from selenium.webdriver.chrome.service import Service
		except ImportError as e:
			raise OSError("python3-selenium is missing (%s)" % e)
		for p in (CHROMIUM, CHROMEDRIVER):
			if not os.access(p, os.X_OK):
				raise OSError("%s is missing (chromium, chromium-driver)" % p)
		self.timeout = timeout
		self.own_profile = profile is None
		self.profile = profile or tempfile.mkdtemp(prefix="bb-browser.")
		o = webdriver.ChromeOptions()
		o.binary_location = CHROMIUM
		for a in ("--headless=new", "--user-data-dir=" + self.profile, "--no-first-run",
		    "--no-default-browser-check", "--disable-dev-shm-usage", "--disable-gpu",
		    "--disable-extensions", "--disable-background-networking", "--disable-sync",
		    "--disable-translate", "--hide-scrollbars", "--mute-audio",
		    # The kiosk's own: speech starts without a tap (a headset plugged in).
		    "--autoplay-policy=no-user-gesture-required",
		    "--lang=" + lang, "--accept-lang=" + lang, "--window-size=%d,%d" % size):
			o.add_argument(a)
		o.add_experimental_option("prefs", {"intl.accept_languages": lang})
		if os.geteuid() == 0:
			o.add_argument("--no-sandbox")	# tests only: the kiosk runs unprivileged
		# The console (CSP violations, script errors): self.d.get_log("browser").
		o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
		svc = Service(executable_path=CHROMEDRIVER, log_path=log or os.devnull)
		try:
			self.d = webdriver.Chrome(service=svc, options=o)
		except Exception:
			self._rmprofile()
			raise
		self.d.set_script_timeout(max(timeout, 30))
		self.set_size(size)

	def _rmprofile(self):
		if self.own_profile:
			shutil.rmtree(self.profile, ignore_errors=True)

	def close(self):
		try:
			self.d.quit()
		finally:
			self._rmprofile()

	def set_size(self, size):
		"""The viewport (CSS px, scale 1) exactly, whatever the window's decorations."""
		self.size = size
		self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": size[0],
		    "height": size[1], "deviceScaleFactor": 1, "mobile": False})

	# --- waiting and finding ---
	def _find(self, sel):
		from selenium.webdriver.common.by import By
		els = self.d.find_elements(By.CSS_SELECTOR, sel)
		return els[0] if els else None

	def wait(self, target, timeout=None):
		"""Waits until TARGET (CSS selector, or text=TEXT) is there; returns the element."""
		from selenium.common.exceptions import WebDriverException
		timeout = self.timeout if timeout is None else timeout
		end = time.monotonic() + timeout
		while True:
			try:
				if target.startswith("text="):
					if self.d.execute_script("return document.body !== null && "
					    "document.body.innerText.indexOf(arguments[0]) >= 0", target[5:]):
						return None
				else:
					e = self._find(target)
					if e is not None:
						return e
			except WebDriverException:	# the page is being replaced (kiosk.js reloads)
				pass
			if time.monotonic() > end:
				raise StepError("%s: not there after %g s" % (target, timeout))
			time.sleep(0.01)

	# --- steps ---
	def open(self, url):
		"""Navigates (redirects are followed: ?token= comes back as a cookie) and waits
		until the document is loaded."""
		self.d.get(url)
		self.wait_loaded()

	def wait_loaded(self):
		end = time.monotonic() + self.timeout
		while self.d.execute_script("return document.readyState") != "complete":
			if time.monotonic() > end:
				raise StepError("the page did not finish loading")
			time.sleep(0.01)

	def click(self, sel):
		from selenium.common.exceptions import StaleElementReferenceException
		if sel.startswith("text="):
			raise StepError("click wants a CSS selector")
		try:
			self.wait(sel).click()
		except StaleElementReferenceException:	# replaced between finding and clicking
			self.wait(sel).click()

	def type(self, text):
		"""TEXT as key presses to the focused element (a physical keyboard)."""
		from selenium.webdriver.common.action_chains import ActionChains
		ActionChains(self.d).send_keys(text).perform()

	def press(self, key):
		"""One named key: Enter, Tab, Backspace, Escape, Space, ArrowLeft, ..."""
		from selenium.webdriver.common.keys import Keys
		from selenium.webdriver.common.action_chains import ActionChains
		names = {k.lower().replace("_", ""): getattr(Keys, k) for k in dir(Keys) if k.isupper()}
		names.update({"arrowleft": Keys.LEFT, "arrowright": Keys.RIGHT, "arrowup": Keys.UP,
		    "arrowdown": Keys.DOWN, "esc": Keys.ESCAPE})
		k = names.get(key.lower().replace("_", "").replace("-", ""))
		if k is None:
			raise StepError("unknown key %r" % key)
		ActionChains(self.d).send_keys(k).perform()

	def tap_key(self, name):
		sel = "#bb-keyboard [data-key=%s]" % css_string(name)
		e = self._find(sel)
		if e is None:
			raise StepError("no on-screen key %s" % sel)
		e.click()

	def tap(self, text):
		"""TEXT by tapping the page's on-screen keyboard, a key per character: the key
		[data-key=C]; a blank also as data-key=space, a capital also as shift + small."""
		for c in text:
			if self._find("#bb-keyboard [data-key=%s]" % css_string(c)) is not None:
				self.tap_key(c)
			elif c == " ":
				self.tap_key("space")
			elif c != c.lower():
				self.tap_key("shift")
				self.tap_key(c.lower())
			else:
				self.tap_key(c)	# fails with its name

	def focus(self, sel):
		e = self.wait(sel)
		self.d.execute_script("arguments[0].focus()", e)

	def text(self, sel):
		e = self.wait(sel)
		return self.d.execute_script("return arguments[0].value !== undefined && "
		    "arguments[0].tagName !== 'BUTTON' ? arguments[0].value : arguments[0].textContent", e)

	def dom(self):
		return self.d.execute_script("return document.documentElement.outerHTML")

	def screenshot(self, path, size=None):
		if size is not None and size != self.size:
			self.set_size(size)
		png = self.d.get_screenshot_as_png()
		if png_size(png) != self.size:
			raise StepError("screenshot is %s, not %s" % (png_size(png), self.size))
		with open(path, "wb") as f:
			f.write(png)

	def axe(self, context=None):
		"""axe-core's violations of the WCAG 2.0/2.1 A and AA rules in this page, as a
		list: injected through the driver (the page's CSP does not apply)."""
		with open(install_axe(), encoding="utf-8") as f:
			src = f.read()
		if not self.d.execute_script("return typeof window.axe === 'object'"):
			self.d.execute_script(src + "\n;return typeof window.axe;")
		r = self.d.execute_async_script("""
			var done = arguments[arguments.length - 1];
			axe.run(arguments[0] || document, {runOnly: {type: 'tag', values: arguments[1]},
			    resultTypes: ['violations']})
			  .then(function (r) { done({ok: r.violations, url: r.url}); },
			        function (e) { done({error: String(e)}); });
		""", context, AXE_TAGS)
		if "error" in r:
			raise StepError("axe: " + r["error"])
		return [{"id": v["id"], "impact": v.get("impact"), "help": v["help"],
		    "tags": [t for t in v["tags"] if t.startswith("wcag")],
		    "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")}
		        for n in v["nodes"]]} for v in r["ok"]]

	def clock_offset(self):
		"""Page clock (timeOrigin + now) minus this process's time.time(), in ms, from the
		best of a few round trips (error at most half a round trip)."""
		best = None
		for _ in range(5):
			a = time.time() * 1000
			p = self.d.execute_script("return performance.timeOrigin + performance.now()")
			b = time.time() * 1000
			if best is None or b - a < best[0]:
				best = (b - a, p - (a + b) / 2)
		return best[1]

	def time_until(self, target, action, timeout=None):
		"""Runs ACTION (a callable) and returns (ms, input_ms): the ms from just before it
		to the moment the page first showed TARGET, seen in the page (a MutationObserver,
		also in a page that ACTION made the browser load); input_ms from the page's first
		input event (pointer or key down) instead, None when ACTION made none (a command)."""
		self.watch_script = self.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
		    {"source": WATCH_JS % (json.dumps(target), "false")})["identifier"]
		try:
			self.d.execute_script(WATCH_JS % (json.dumps(target), "true"))
			if self.d.execute_script("return window.__bbSeen") is not None:
				raise StepError("time: %s is there before the action" % target)
			off = self.clock_offset()
			t0 = time.time() * 1000
			action()
			return self._seen(target, off, t0, timeout)
		finally:
			self.d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
			    {"identifier": self.watch_script})

	def _seen(self, target, off, t0, timeout):
		end = time.monotonic() + (self.timeout if timeout is None else timeout)
		while True:
			try:
				seen, inp = self.d.execute_script("var i = null; try { i = "
				    "sessionStorage.getItem('bb.rig.input'); } catch (e) {} return "
				    "[window.__bbWatch === arguments[0] ? window.__bbSeen : null, i]", target)
			except Exception:	# the page is being replaced
				seen = None
			if seen is not None:
				return seen - off - t0, None if inp is None else seen - float(inp)
			if time.monotonic() > end:
				raise StepError("time: %s not there after the action" % target)
			time.sleep(0.005)


def run_steps(b, steps, out):
	"""Runs STEPS ((line number, words) pairs); returns the exit status."""
	status = 0
	for n, w in steps:
		try:
			status = max(status, step(b, w, out))
		except StepError as e:
			print("browser.py: step %d (%s): %s" % (n, shlex.join(w), e), file=sys.stderr)
			return EX_STEP
		except Exception as e:	# selenium's: a detached element, a crashed tab, ...
			msg = str(e).strip().splitlines()
			print("browser.py: step %d (%s): %s: %s" % (n, shlex.join(w), type(e).__name__,
			    msg[0] if msg else ""), file=sys.stderr)
			return EX_STEP
	return status


def need(w, lo, hi=None):
	if len(w) - 1 < lo or len(w) - 1 > (lo if hi is None else hi):
		raise StepError("wrong number of arguments")


def step(b, w, out):
	cmd = w[0]
	if cmd == "open":
		need(w, 1)
		b.open(w[1])
	elif cmd == "wait":
		need(w, 1, 2)
		b.wait(w[1], float(w[2]) if len(w) > 2 else None)
	elif cmd == "gone":
		need(w, 1, 2)
		end = time.monotonic() + (float(w[2]) if len(w) > 2 else b.timeout)
		while b._find(w[1]) is not None:
			if time.monotonic() > end:
				raise StepError("still there")
			time.sleep(0.01)
	elif cmd == "loaded":
		need(w, 0)
		b.wait_loaded()
	elif cmd == "click":
		need(w, 1)
		b.click(w[1])
	elif cmd == "focus":
		need(w, 1)
		b.focus(w[1])
	elif cmd == "type":
		need(w, 1)
		b.type(w[1])
	elif cmd == "press":
		need(w, 1, 99)
		for k in w[1:]:
			b.press(k)
	elif cmd == "tap":
		need(w, 1)
		b.tap(w[1])
	elif cmd == "tapkey":
		need(w, 1, 99)
		for k in w[1:]:
			b.tap_key(k)
	elif cmd == "text":
		need(w, 1)
		print(b.text(w[1]), file=out)
	elif cmd == "expect":
		need(w, 2)
		got = b.text(w[1])
		if got.strip() != w[2]:
			raise StepError("text is %r, not %r" % (got.strip(), w[2]))
	elif cmd == "url":
		need(w, 0)
		print(b.d.current_url, file=out)
	elif cmd == "cookie":
		need(w, 1)
		c = b.d.get_cookie(w[1])
		print(json.dumps(c and {k: c.get(k) for k in ("name", "path", "httpOnly", "sameSite")}),
		    file=out)
	elif cmd == "dom":
		need(w, 0, 1)
		html = b.dom()
		if len(w) > 1:
			with open(w[1], "w", encoding="utf-8") as f:
				f.write(html)
		else:
			print(html, file=out)
	elif cmd == "size":
		need(w, 1)
		b.set_size(parse_size(w[1]))
	elif cmd == "screenshot":
		need(w, 1, 2)
		b.screenshot(w[1], parse_size(w[2]) if len(w) > 2 else None)
	elif cmd == "axe":
		need(w, 0, 1)
		v = b.axe()
		print(json.dumps(v, ensure_ascii=False), file=out)
		if len(w) > 1:
			with open(w[1], "w", encoding="utf-8") as f:
				json.dump(v, f, ensure_ascii=False, indent=1)
		if v:
			print("browser.py: axe: %d violation(s) in %s: %s" % (len(v), b.d.current_url,
			    " ".join(x["id"] for x in v)), file=sys.stderr)
			return EX_VIOLATIONS
	elif cmd == "js":
		need(w, 1)
		print(json.dumps(b.d.execute_script(w[1]), ensure_ascii=False), file=out)
	elif cmd == "sleep":
		need(w, 1)
		time.sleep(float(w[1]))
	elif cmd == "run":
		need(w, 1, 999)
		r = subprocess.run(w[1:], stdin=subprocess.DEVNULL)
		if r.returncode != 0:
			raise StepError("exit status %d" % r.returncode)
	elif cmd == "time":
		# time TARGET STEP...: ms from the step to TARGET shown (JSON on stdout)
		need(w, 2, 999)
		if w[2] == "time":
			raise StepError("time inside time")
		inner = w[2:]
		ms, input_ms = b.time_until(w[1], lambda: step(b, inner, out))
		print(json.dumps({"time": w[1], "step": shlex.join(inner), "ms": round(ms, 2),
		    "input_ms": None if input_ms is None else round(input_ms, 2)}), file=out)
	else:
		raise StepError("unknown step")
	out.flush()
	return 0


def read_steps(path):
	f = sys.stdin if path == "-" else open(path, encoding="utf-8")
	steps = []
	with f:
		for n, line in enumerate(f, 1):
			w = shlex.split(line, comments=True)
			if w:
				steps.append((n, w))
	return steps


def main(argv):
	import argparse
	p = argparse.ArgumentParser(prog="browser.py", description=__doc__.split("\n")[0])
	p.add_argument("url", nargs="?")
	p.add_argument("steps", nargs="*", help="steps, one per argument")
	p.add_argument("--steps", dest="file", help="a file of steps, one a line")
	p.add_argument("--size", default="1080x1920", help="viewport, WxH (default 1080x1920)")
	p.add_argument("--timeout", type=float, default=10, help="per wait, s (default 10)")
	p.add_argument("--lang", default="de",
	    help="the browser's languages, comma-separated (navigator.languages; default de)")
	p.add_argument("--log", help="chromedriver's log file")
	p.add_argument("--timing", action="store_true",
	    help="on stderr: ms to start the browser, and per step")
	p.add_argument("--install-axe", action="store_true", help="install axe-core and exit")
	a = p.parse_args(argv)
	if a.install_axe:
		try:
			print(install_axe())
		except StepError as e:
			print("browser.py: %s" % e, file=sys.stderr)
			return EX_UNAVAILABLE
		return 0
	if not a.url:
		p.print_usage(sys.stderr)
		return EX_USAGE
	try:
		steps = [(0, ["open", a.url])] + [(i, shlex.split(s)) for i, s in enumerate(a.steps, 1)]
		if a.file:
			steps += read_steps(a.file)
		size = parse_size(a.size)
	except (OSError, ValueError, StepError) as e:
		print("browser.py: %s" % e, file=sys.stderr)
		return EX_USAGE
	t = time.monotonic()
	try:
		b = Browser(size=size, timeout=a.timeout, lang=a.lang, log=a.log)
	except Exception as e:
		print("browser.py: cannot start the browser: %s" % str(e).strip().splitlines()[0],
		    file=sys.stderr)
		return EX_UNAVAILABLE
	try:
		if a.timing:
			print("browser.py: start %.0f ms" % ((time.monotonic() - t) * 1000), file=sys.stderr)
			status = 0
			for s in steps:
				t = time.monotonic()
				status = max(status, run_steps(b, [s], sys.stdout))
				print("browser.py: %s %.0f ms" % (s[1][0], (time.monotonic() - t) * 1000),
				    file=sys.stderr)
				if status == EX_STEP:
					break
		else:
			status = run_steps(b, steps, sys.stdout)
	finally:
		b.close()
	return status


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
