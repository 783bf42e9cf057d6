#!/usr/bin/python3
"""kiosk_person.py: a person at the kiosk, in headless Chromium, for `make demo` and the
session tests. It opens the screen server's URL, chooses a service on the welcome screen,
types the PIN (read from standard input, never from argv) on the on-screen pad, answers
the form's pages by taps on the on-screen keyboard from the values of a case `bb-form fill`
made of the same answers, taps "done" where a step asks for it, and stops when the welcome
screen is back after the session. It writes a screenshot of every screen it sees to
SHOTS/NN-SCREEN.png and one line per screen on standard output: "screen NAME".

    kiosk_person.py --url URL --service ID --answers CASE --shots DIR [--lang L]
        [--mode osk|keys|direct] [--timeout S] [--cancel-at SCREEN] [--leave-at SCREEN]

--cancel-at: tap cancel on that screen (the session ends cancelled); --leave-at: stop
touching anything from that screen on (the person walked away). Exit 0 when the welcome
screen came back, 1 when the time ran out, 2 on a usage error."""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser  # noqa: E402
from ask_drive import answer_page  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def screen(b):
	try:
		return b.d.execute_script("var m = document.getElementById('bb-screen');"
		    "return m && document.readyState === 'complete' ? [m.dataset.screen, "
		    "m.dataset.version, document.documentElement.lang] : null")
	except Exception:	# the page is being replaced
		return None


def click_value(b, value):
	"""Taps the button whose value is VALUE; False when the page has none."""
	els = b.d.find_elements(By.CSS_SELECTOR, 'main button[value="%s"]' % value)
	if not els:
		return False
	els[0].click()
	return True


def choose_lang(b, lang):
	if b.d.execute_script("return document.documentElement.lang") == lang:
		return
	if b.d.execute_script("var d = document.querySelector('header.bb-chrome details');"
	    "return d !== null && !d.open"):
		b.click("header.bb-chrome details > summary")
	b.click('header.bb-chrome button[name=lang][value="%s"]' % lang)


def tap_pin(b, digits):
	kb = b.d.find_element(By.ID, "bb-keyboard")
	for ch in digits:
		kb.find_element(By.CSS_SELECTOR, 'button[data-key="%s"]' % ch).click()
	b.click(".bb-nav button[value=ok]")


def main(argv):
	ap = argparse.ArgumentParser(prog="kiosk_person.py")
	ap.add_argument("--url", required=True)
	ap.add_argument("--service", required=True)
	ap.add_argument("--answers", required=True)
	ap.add_argument("--shots", required=True)
	ap.add_argument("--lang", default=None)
	ap.add_argument("--mode", default="osk", choices=("osk", "keys", "direct"))
	ap.add_argument("--timeout", type=float, default=300)
	ap.add_argument("--cancel-at", default=None)
	ap.add_argument("--leave-at", default=None)
	ap.add_argument("--profile", default=None)
	a = ap.parse_args(argv)
	pin = sys.stdin.readline().strip()
	want = json.load(open(a.answers))["form"]["fields"]
	os.makedirs(a.shots, mode=0o700, exist_ok=True)
	b = Browser(size=(1080, 1920), profile=a.profile)
	n, last, started, gone = 0, None, False, False
	end = time.monotonic() + a.timeout
	try:
		b.open(a.url)
		while time.monotonic() < end:
			m = screen(b)
			if m is None or m[:2] == last:
				time.sleep(0.05)
				continue
			last = m[:2]
			name = m[0]
			if name == "welcome" and started:
				print("screen welcome (the session is over)", flush=True)
				return 0
			n += 1
			b.screenshot(os.path.join(a.shots, "%02d-%s.png" % (n, name)))
			print("screen %s" % name, flush=True)
			if gone or name == a.leave_at:
				gone = True
				continue
			if name == a.cancel_at and click_value(b, "cancel"):
				continue
			try:
				if name == "welcome":
					if a.lang and m[2] != a.lang:
						choose_lang(b, a.lang)	# the page comes again in it
						while (screen(b) or [0, 0, 0])[2] != a.lang:
							if time.monotonic() > end:
								raise TimeoutError("no page in " + a.lang)
							time.sleep(0.05)
						last = None
						continue
					started = click_value(b, "service " + a.service)
					if not started:
						print("kiosk_person: no service %s on the welcome screen" %
						    a.service, file=sys.stderr)
						return 2
				elif name == "pin":
					tap_pin(b, pin)
				elif name == "ask":
					answer_page(b, want, a.mode)
				elif name in ("receipt", "thanks"):
					time.sleep(0.5)	# a person reads it first
					if (screen(b) or [0, 0])[:2] == last:
						click_value(b, "done")
				# sign: the recorded pad's signature ends by itself (its pen lifted);
				# a "done" tapped late would land on the next screen's button.
			except Exception as e:	# the page changed under the tap: look again
				print("kiosk_person: %s: %s" % (name, str(e).splitlines()[0] if str(e)
				    else type(e).__name__), file=sys.stderr)
				last = None
		print("kiosk_person: the welcome screen did not come back in %g s" % a.timeout,
		    file=sys.stderr)
		return 1
	finally:
		b.close()


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
