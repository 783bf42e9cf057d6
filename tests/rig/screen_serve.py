#!/usr/bin/python3
"""screen_serve.py: the real screen server (bb-form serve) for browser tests, as a module:

    from screen_serve import Serve        (sys.path: tests/rig; see tests/0961, 1010)
    s = Serve(bb_form, workdir, screens=DIR, services=DIR, lang="de")
    b = Browser(...); b.open(s.url)       # the token URL; the cookie is set, / shown
    s.tell("thanks", reference="BB-1")    # bb-form tell SCREEN --set K=V ... (no wait)
    s.show(b, "thanks")                   # ... and waits until the browser shows it
    s.lang(b, "ar")                       # taps the page's own language button
    s.end(); s.stop()

Run as a program it takes screenshots: screen_serve.py BB_FORM SCREENS SERVICES OUTDIR
SCREEN,... LANG,... (OUTDIR/SCREEN-LANG.png, 1080x1920). A SCREEN receipt:CASE is the
receipt of the case file CASE as bb-form receipt shows it (OUTDIR/receipt-LANG.png)."""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
browser = __import__("browser")


class Serve:
	def __init__(self, bb_form, workdir, screens, services, lang="de", verbose="-v",
	    headset=None):
		self.bb_form = bb_form
		self.dir = workdir
		self.sock = os.path.join(workdir, "run", "screen")
		os.makedirs(os.path.dirname(self.sock), mode=0o700, exist_ok=True)
		self.config = os.path.join(workdir, "bb.yaml")
		with open(self.config, "w") as f:
			f.write("form:\n  screens: %s\n  services: %s\n  lang: %s\n" %
			    (screens, services, lang))
			if headset:
				f.write("  headset: %s\n" % headset)
		self.env = dict(os.environ, BB_CONFIG=self.config)
		self.log = open(os.path.join(workdir, "serve.log"), "w")
		self.p = subprocess.Popen([bb_form, verbose, "serve", "--control", self.sock],
		    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, env=self.env)
		self.url = self.p.stdout.readline().decode().strip()
		if not self.url.startswith("http://127.0.0.1:"):
			raise OSError("bb-form serve did not start (see %s/serve.log)" % workdir)

	def tell_argv(self, screen, *extra, **sets):
		argv = [self.bb_form, "tell", screen, "--screen", self.sock] + list(extra)
		for k, v in sets.items():
			argv += ["--set", "%s=%s" % (k, v)]
		return argv

	def tell(self, screen, **sets):
		"""bb-form tell SCREEN --set K=V...: the screen is shown (tell returns at once)."""
		r = subprocess.run(self.tell_argv(screen, **sets), env=self.env, stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
		if r.returncode != 0:
			raise browser.StepError("tell %s: exit %d: %s" % (screen, r.returncode,
			    r.stderr.decode(errors="replace").strip()))

	def show(self, b, screen, **sets):
		"""Tells SCREEN and waits until B's page is its new version (kiosk.js reloads)."""
		old = b.d.execute_script("var m = document.getElementById('bb-screen');"
		    "return m ? m.dataset.version : null")
		self.tell(screen, **sets)
		self.wait_page(b, lambda m: m[0] == screen and m[1] != old)

	def receipt(self, b, case):
		"""bb-form receipt CASE, and waits until B shows it."""
		old = b.d.execute_script("var m = document.getElementById('bb-screen');"
		    "return m ? m.dataset.version : null")
		r = subprocess.run([self.bb_form, "receipt", case, "--screen", self.sock],
		    env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE)
		if r.returncode != 0:
			raise browser.StepError("receipt %s: exit %d: %s" % (case, r.returncode,
			    r.stderr.decode(errors="replace").strip()))
		self.wait_page(b, lambda m: m[0] == "receipt" and m[1] != old)

	def wait_page(self, b, cond, timeout=10):
		end = time.monotonic() + timeout
		while True:
			try:
				m = b.d.execute_script("var m = document.getElementById('bb-screen');"
				    "return m && document.readyState === 'complete' ? [m.dataset.screen, "
				    "m.dataset.version, document.documentElement.lang, "
				    "document.documentElement.className] : null")
				if m is not None and cond(m):
					return m
			except Exception:	# the page is being replaced
				pass
			if time.monotonic() > end:
				raise browser.StepError("the page did not change in %g s" % timeout)
			time.sleep(0.02)

	def setting(self, b, name, value, check):
		"""Taps the chrome's button NAME=VALUE (the page's own form post, 303 to /) and
		waits until the reloaded page passes check([screen, version, lang, class])."""
		b.click("header.bb-chrome button[name=%s][value=\"%s\"]" % (name, value))
		return self.wait_page(b, check)

	def lang(self, b, lang):
		"""Opens the chrome's language menu (a details element) and taps LANG in it."""
		if b.d.execute_script("var d = document.querySelector('header.bb-chrome details');"
		    "return d !== null && !d.open"):
			b.click("header.bb-chrome details > summary")
		return self.setting(b, "lang", lang, lambda m: m[2] == lang)

	def size(self, b, size):
		return self.setting(b, "size", str(size), lambda m: ("size-%s" % size) in m[3].split())

	def contrast(self, b, c):
		return self.setting(b, "contrast", c, lambda m: ("contrast-" + c) in m[3].split())

	def control(self, obj):
		s = socket.socket(socket.AF_UNIX)
		s.connect(self.sock)
		s.sendall((json.dumps(obj) + "\n").encode())
		r = s.makefile().readline()
		s.close()
		return json.loads(r)

	def end(self):
		return self.control({"end": True})

	def stop(self):
		self.p.terminate()
		try:
			return self.p.wait(10)
		finally:
			self.log.close()


def main(argv):
	bb_form, screens, services, out, names, langs = argv
	os.makedirs(out, exist_ok=True)
	work = os.path.join(out, ".work")
	os.makedirs(work, exist_ok=True)
	s = Serve(bb_form, work, screens, services)
	b = browser.Browser()
	try:
		b.open(s.url)
		for lang in langs.split(","):
			if b.d.execute_script("return document.documentElement.lang") != lang:
				s.lang(b, lang)
			for name in names.split(","):
				if name.startswith("receipt:"):
					s.receipt(b, name[len("receipt:"):])
					name = "receipt"
				else:
					s.show(b, name, reference="BB-2026-000042")
				b.screenshot(os.path.join(out, "%s-%s.png" % (name, lang)))
	finally:
		b.close()
		s.stop()
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
