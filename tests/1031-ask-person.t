#!/bin/sh
# bb-form ask in a real browser, a person's way through a form (issue 11) on wohnsitz-anmelden:
# - back at every page shows the page before with its answers kept; cancel at every page
#   (the summary too) ends ask with 1 and writes no case;
# - at every page the idle time-out (--timeout 5, form.warning: 2s) shows the timeout-warning
#   screen, "more" brings the page back with what was typed and not sent; no answer ends
#   ask with 1 and no case;
# - a wrong date and a wrong postal code: the page stays, each reason is beside its field
#   (aria-invalid, aria-describedby to the .bb-error) in the page's language (de, en, ar
#   from the catalogues), the error summary counts them, the focus is on the first; once
#   corrected ask goes on and ends with 0 (never 65) and fill's case;
# - axe-core (WCAG 2.1 A/AA) finds nothing on any page of wohnsitz-anmelden and sperrmuell,
#   in every shipped language
#   (summary and a page with errors too) in de, en and ar; ar is right to left; at 200 % a
#   form page needs no sideways scrolling. Screenshots (1080x1920) of a form page, a page
#   with errors and the summary in de, en and ar go to $BB_SHOTS (default: the scratch).
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"
browser_or_skip

write_identity_case id.json
printf 'form:\n  services: %s\n' "$SERVICES" > fill.yaml
for svc in wohnsitz-anmelden sperrmuell; do
	dir=$SERVICES/$svc
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
import json, os, subprocess, sys, time, traceback, yaml
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve
from ask_drive import answer_page, osk_reach
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException

TOP, BB_FORM = os.environ["BB_TOP"], os.environ["BB_FORM"]
SHOTS = os.environ.get("BB_SHOTS") or os.getcwd()
# Every language a catalogue is shipped for: axe and the reasons in each.
LANGS = ("de", "en", "ar") + tuple(sorted(f[:-5] for f in os.listdir(os.path.join(TOP,
    "scripts", "screens", "catalog")) if f.endswith(".yaml") and f[:-5] not in
    ("de", "en", "ar")))
CAT = {l: yaml.safe_load(open(os.path.join(TOP, "scripts", "screens", "catalog",
    l + ".yaml"), encoding="utf-8")) for l in LANGS}
SVC = "wohnsitz-anmelden"

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (str(detail).replace("\n", "\n# "),), file=sys.stderr)

def want(svc):
	return json.load(open("fill-%s.json" % svc))

s = Serve(BB_FORM, os.getcwd(), os.path.join(TOP, "scripts", "screens"),
    os.environ["SERVICES"], verbose="-vv")
with open(s.config, "a") as f:
	f.write("  warning: 2s\n")
b = Browser(size=(1080, 1920))
d = b.d

def js(src, *a):
	return d.execute_script(src, *a)

def version():
	return js("var m = document.getElementById('bb-screen'); return m && m.dataset.version")

def step():
	return js("var e = document.querySelector('.bb-step'); return e ? e.textContent : ''")

def values():
	"""The page's inputs and what they hold."""
	return js("return [...document.querySelectorAll('form#bb-ask input[name^=\"f:\"]')]"
	    ".map(e => [e.name, e.type === 'text' ? e.value : e.value + (e.checked ? '+' : '-')])")

def offers(choice):
	return js("return document.querySelector('form#bb-ask .bb-nav button[value=\"%s\"]')"
	    " !== null" % choice)

def press(choice):
	"""Taps a button of the page's foot (scrolled above the keyboard when it is open)."""
	el = b.wait('form#bb-ask .bb-nav button[value="%s"]' % choice)
	osk_reach(b, el)
	el.click()

class Ask:
	"""One bb-form ask on the server's screen."""
	def __init__(self, svc, out, *extra, log=False):
		self.out = out
		# The page shown now may be the last ask's: this one's first is a new version.
		self.last = version()
		self.p = subprocess.Popen([BB_FORM] + (["-vv"] if log else []) + ["ask", svc, "--screen", s.sock, "-o", out] +
		    list(extra) + ["id.json"], env=s.env, stdin=subprocess.DEVNULL,
		    stderr=open(out + ".err", "w"))

	def page(self, timeout=10):
		"""Waits for the next page of this ask (a new version); returns its step text."""
		m = s.wait_page(b, lambda m: m[0] == "ask" and m[1] != self.last, timeout)
		self.last = m[1]
		return step()

	def seen(self):
		self.last = version()

	def fill(self, fields, mode="direct"):
		"""Answers the page (entries added first) without pressing next or send;
		returns "next" or "send"."""
		tries = 0
		while True:
			try:
				c = answer_page(b, fields, mode, go=False)
			except WebDriverException:
				# The page was loaded again under the driver (/events); answer it anew.
				tries += 1
				if tries > 3:
					raise
				time.sleep(0.2)
				b.wait_loaded()
				continue
			if not c.startswith("add:"):
				return c
			self.page()

	def end(self, timeout=20):
		try:
			return self.p.wait(timeout=timeout)
		except subprocess.TimeoutExpired:
			self.p.kill()
			return "killed: " + str(self.p.wait())

def forward(a, fields, st):
	"""Answers the page and presses next; a page that grows (a show_if answered) is
	answered again. Returns (the values answered, the next page's step), or (None, st)
	on the summary."""
	while True:
		if a.fill(fields) == "send":
			return None, st
		vals = values()
		press("next")
		got = a.page()
		if got != st:
			return vals, got

def big(a, desc):
	"""200 % by the size button (twice): no sideways scrolling; then back to 100 %."""
	s.size(b, 150)
	s.size(b, 200)
	a.seen()
	r = js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
	ok(r[0] <= r[1], desc, r)
	s.size(b, 100)
	a.seen()

def same_case(out, svc):
	try:
		got = json.load(open(out))
	except Exception as e:
		return False, repr(e)
	w = want(svc)
	for c in (got, w):
		c.get("form", {}).pop("completed", None)
	return got == w, json.dumps([got.get("form"), w.get("form")], ensure_ascii=False)[:1500]

try:
	b.open(s.url)
	s.wait_page(b, lambda m: True)
	fields = want(SVC)["form"]["fields"]

	# --- back at every page, then send -------------------------------------------
	a = Ask(SVC, "back.json")
	pages = []	# (step, the values answered) of each page
	st = a.page()
	ok(not offers("back"), "back: the first page offers no back")
	while True:
		if pages:
			press("back")
			got = a.page()
			ok(got == pages[-1][0] and values() == pages[-1][1],
			    "back at %s: %s again, its answers kept" % (st, pages[-1][0]),
			    (got, values(), pages[-1]))
			press("next")
			got = a.page()
			ok(got == st, "back at %s: next leads to it again" % st, got)
		vals, got = forward(a, fields, st)
		if vals is None:
			break
		pages.append((st, vals))
		st = got
	ok(js("return document.querySelector('form#bb-ask .bb-summary') !== null"),
	    "back: the summary after %d pages" % len(pages))
	press("send")
	rc = a.end()
	ok(rc == 0, "back: then send ends ask with 0", rc)
	r = same_case("back.json", SVC)
	ok(r[0], "back: the case equals fill's", r[1])
	s.wait_page(b, lambda m: m[0] == "wait")

	# --- cancel at every page and at the summary -----------------------------------
	for k in range(len(pages) + 1):
		a = Ask(SVC, "cancel-%d.json" % k)
		st = a.page()
		for _ in range(k):
			st = forward(a, fields, st)[1]
		a.fill(fields)	# answered, and still cancelled
		press("cancel")
		rc = a.end()
		ok(rc == 1 and not os.path.exists(a.out),
		    "cancel at %s: ask ends with 1, no case" % st, rc)
		ok(os.path.getsize(a.out + ".err") == 0, "cancel at %s: nothing on standard error" % st,
		    open(a.out + ".err").read())

	# --- time-out at every page: a warning, more time keeps what was typed ----------
	a = Ask(SVC, "timeout.json", "--timeout", "5", log=True)
	st = a.page()
	while True:
		typed = None
		el = d.find_elements(By.CSS_SELECTOR, "form#bb-ask input[type=text]")
		if el:
			# A physical keyboard: the text is in the browser only, not sent.
			el[0].send_keys("Entwurf")
			typed = (el[0].get_attribute("name"), el[0].get_attribute("value"))
		try:
			m = s.wait_page(b, lambda m: m[0] == "timeout-warning", 10)
		except Exception as e:
			m = [repr(e)]
		ok(m[0] == "timeout-warning", "time-out at %s: the warning screen" % st, m)
		b.click('button[name=choice][value="more"]')
		got = a.page()
		ok(got == st, "time-out at %s: more brings the page back" % st, got)
		if typed is not None:
			v = js("var e = document.querySelector('form#bb-ask input[name=\"' + arguments[0] +"
			    " '\"]'); return e && e.value", typed[0])
			ok(v == typed[1], "time-out at %s: what was typed is still there" % st,
			    (typed, v))
		vals, st = forward(a, fields, st)
		if vals is None:
			break
	try:
		m = s.wait_page(b, lambda m: m[0] == "timeout-warning", 10)
	except Exception as e:
		m = [repr(e)]
	ok(m[0] == "timeout-warning", "time-out at the summary: the warning screen", m)
	rc = a.end()
	ok(rc == 2 and not os.path.exists(a.out),
	    "time-out: no answer to the warning ends ask with 2, no case", rc)

	# --- mistakes, axe, right to left, 200 %, screenshots: every language -------------
	found = {}
	for l in LANGS:
		if js("return document.documentElement.lang") != l:
			s.lang(b, l)
		for svc in (SVC, "sperrmuell"):
			fl = want(svc)["form"]["fields"]
			a = Ask(svc, "lang-%s-%s.json" % (l, svc))
			st = a.page()
			first = st
			found[(l, svc)] = []
			n = 0
			while True:
				n += 1
				found[(l, svc)] += ["%s: %s %s" % (st, v["id"], v["nodes"][0]["target"])
				    for v in b.axe()]
				if l == "ar":
					ok(js("return document.documentElement.dir") == "rtl",
					    "ar %s %s: the page is right to left" % (svc, st))
				summary = js("return document.querySelector('form#bb-ask .bb-summary')"
				    " !== null")
				if svc == SVC and st == first:
					b.screenshot(os.path.join(SHOTS, "ask-form-%s.png" % l))
				if summary and svc == SVC:
					b.screenshot(os.path.join(SHOTS, "ask-summary-%s.png" % l))
				if summary and svc == "sperrmuell" and l != "en":
					big(a, "%s at 200 %%: the summary with a long answer reflows" % l)
				if svc == SVC and st == first:
					a.fill(fl)
					# A person's mistakes: a date that does not exist, a postal code
					# one digit short.
					for name, bad in (("f:move_in", "31.02.2026"),
					    ("f:new_address.postal_code", "7613")):
						e = d.find_element(By.NAME, name)
						e.clear()
						e.send_keys(bad)
					press("next")
					got = a.page()
					ok(got == st, "%s mistakes: the page stays" % l, got)
					for fid, key in (("f-move_in", "err.date"),
					    ("f-new_address-postal_code", "err.postal")):
						r = js("var e = document.getElementById(arguments[0]),"
						    " t = document.getElementById(arguments[0] + '-err');"
						    "return [e.getAttribute('aria-invalid'),"
						    " (e.getAttribute('aria-describedby') || '').split(' '),"
						    " t && t.className, t && t.textContent.replace(/\\s+/g, ' ')]", fid)
						w = CAT[l]["err.prefix"] + " " + CAT[l][key]
						ok(r[0] == "true" and fid + "-err" in r[1] and r[2] == "bb-error"
						    and r[3] == w, "%s mistakes: %s beside %s" % (l, key, fid),
						    (r, w))
					r = js("var e = document.querySelector('.bb-error-summary');"
					    "return e && e.textContent")
					w = CAT[l]["ask.errors"].replace("{count}", "2")
					ok(r == w, "%s mistakes: the error summary counts 2" % l, (r, w))
					r = js("return document.activeElement.id")
					ok(r == "f-move_in", "%s mistakes: the focus is on the first" % l, r)
					found[(l, svc)] += ["%s with errors: %s %s" % (st, v["id"],
					    v["nodes"][0]["target"]) for v in b.axe()]
					b.screenshot(os.path.join(SHOTS, "ask-error-%s.png" % l))
					if l != "en":
						big(a, "%s at 200 %%: a form page reflows" % l)
					if l == "ar":
						r = js("return getComputedStyle(document.getElementById("
						    "'f-new_address-addition')).direction")
						ok(r == "ltr", "ar: a value in Latin letters stays left to right "
						    "in its field (dir=auto)", r)
					vals, got = forward(a, fl, st)
					ok(got != st, "%s mistakes: corrected, the next page" % l, got)
					st = got
					continue
				vals, st = forward(a, fl, st)
				if vals is None:
					break
			press("send")
			rc = a.end()
			ok(rc == 0, "%s %s: ask ends with 0" % (l, svc), rc)
			r = same_case(a.out, svc)
			ok(r[0], "%s %s: the case equals fill's" % (l, svc), r[1])
			ok(not found[(l, svc)], "%s %s: axe-core finds no WCAG 2.1 A/AA violation on "
			    "%d pages" % (l, svc, n), found[(l, svc)][:8])
			s.wait_page(b, lambda m: m[0] == "wait")
except Exception:
	print("# " + traceback.format_exc().replace("\n", "\n# "), file=sys.stderr)
	print("1 the drive ran to its end", flush=True)
finally:
	rc = s.stop()
	ok(rc == 0, "serve exits 0", rc)
	b.close()
PY
mkdir -p "${BB_SHOTS:-$scratch}" || bail "cannot make $BB_SHOTS"
BB_FORM=$BB_FORM SERVICES=$SERVICES BB_TOP=$BB_TOP BB_SHOTS=${BB_SHOTS:-$scratch} \
	"$BROWSER_PYTHON" drive.py > results 2> drive.err
rc=$?
while read -r st desc; do
	ok "$st" "$desc"
done < results
[ -s drive.err ] && diag drive.err
ok "$rc" "the browser run ended cleanly"
for l in de en ar; do
	for p in form error summary; do
		check "screenshot ask-$p-$l.png, 1080x1920" \
			test "$(png_size "${BB_SHOTS:-$scratch}/ask-$p-$l.png")" = 1080x1920
	done
done

done_testing
