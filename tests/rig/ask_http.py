#!/usr/bin/python3
"""ask_http.py: a person answering bb-form ask's pages over the screen server's HTTP side,
as the page's own form posts them, without a browser (tests/rig/screen.sh's server):

    ask_http.py PORT COOKIE WANT.json [cancel-at N]

WANT.json is a case as `bb-form fill` made it from the same answers; each page's inputs
(name "f:PATH") get their value from its form.fields: dates as DD.MM.YYYY, options by
value, a checkbox ticked when true, entries of a repeated group added with its add
button first. Pages are answered from the first ask page (within 30 s) until the screen is no longer
an ask page; with
"cancel-at N" page N (from 1) is cancelled instead. Exit 0; 1 when a page did not
change or more than 80 came. Prints the pages answered."""

import html.parser
import json
import re
import sys
import time
import urllib.parse
import urllib.request

from answers import value_at, as_typed


class Page(html.parser.HTMLParser):
	def __init__(self, text):
		super().__init__()
		self.screen = self.version = None
		self.inputs = []	# (name, type, value, kbd)
		self.choices = []
		self.select = None
		self.feed(text)

	def handle_starttag(self, tag, attrs):
		a = dict(attrs)
		if tag == "main" and a.get("id") == "bb-screen":
			self.screen, self.version = a.get("data-screen"), a.get("data-version")
		elif tag in ("input", "textarea") and (a.get("name") or "").startswith("f:"):
			self.inputs.append((a["name"][2:], a.get("type", "text"), a.get("value"),
			    a.get("data-kbd")))
		elif tag == "select" and (a.get("name") or "").startswith("f:"):
			self.select = a["name"][2:]
			self.inputs.append((self.select, "select", None, None))
		elif tag == "button" and a.get("name") == "choice" and a.get("aria-hidden") != "true":
			self.choices.append(a.get("value"))


def main(port, cookie, want_file, *rest):
	base = "http://127.0.0.1:%s" % port
	want = json.load(open(want_file))["form"]["fields"]
	cancel_at = int(rest[1]) if len(rest) == 2 and rest[0] == "cancel-at" else 0

	def get():
		rq = urllib.request.Request(base + "/", headers={"Cookie": cookie})
		with urllib.request.urlopen(rq, timeout=10) as r:
			return Page(r.read().decode())

	def post(pairs):
		rq = urllib.request.Request(base + "/act", data=urllib.parse.urlencode(pairs).encode(),
		    headers={"Cookie": cookie})
		with urllib.request.urlopen(rq, timeout=10) as r:
			r.read()

	last, n = None, 0
	first = time.monotonic() + 30
	while n < 80:
		end = time.monotonic() + 15
		while True:
			p = get()
			if p.version != last and p.screen is not None:
				break
			if time.monotonic() > end:
				print("the page did not change", file=sys.stderr)
				return 1
			time.sleep(0.05)
		if p.screen != "ask" and n == 0 and time.monotonic() < first:
			last = p.version	# the screens before the form's first page
			continue
		if p.screen != "ask":
			print("pages %d" % n)
			return 0 if n > 0 else 1
		last = p.version
		n += 1
		if n == cancel_at:
			post([("v", p.version), ("choice", "cancel")])
			continue
		pairs = [("v", p.version)]
		seen = set()
		for name, typ, val, kbd in p.inputs:
			v = value_at(want, name)
			if typ == "radio":
				if v is not None and str(v if not isinstance(v, bool) else
				    ("yes" if v else "no")) == val:
					pairs.append(("f:" + name, val))
			elif typ == "checkbox":
				if v is True or (isinstance(v, list) and val in [str(x) for x in v]):
					pairs.append(("f:" + name, val if val is not None else "on"))
			elif name not in seen:
				pairs.append(("f:" + name, as_typed(v, kbd)))
			seen.add(name)
		# A repeated group with fewer entries shown than wanted: add one first.
		choice = "send" if "send" in p.choices else "next"
		for c in p.choices:
			if c and c.startswith("add:"):
				group = c[4:]
				have = {int(m.group(1)) for name, _, _, _ in p.inputs
				    for m in [re.match(re.escape(group) + r"\.(\d+)\.", name)] if m}
				if isinstance(want.get(group), list) and len(have) < len(want[group]):
					choice = c
					break
		pairs.append(("choice", choice))
		post(pairs)
	print("more than 80 pages", file=sys.stderr)
	return 1


if __name__ == "__main__":
	sys.exit(main(*sys.argv[1:]))
