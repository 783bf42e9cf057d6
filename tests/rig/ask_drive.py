#!/usr/bin/python3
"""ask_drive.py: a person answering a bb-form ask page in the browser, from the answers a
case already holds (what `bb-form fill` made of the same answers):

    from ask_drive import answer_page
    answer_page(b, want_fields, mode)      # mode: "keys" (physical keyboard alone),
                                           # "osk" (taps on the page's on-screen keyboard)
                                           # or "direct" (values set by script: for tests
                                           # whose subject is not the way of typing)
    answer_page(b, want_fields, mode, go=False)   # fills the page, presses nothing

It reads the page's inputs (name "f:PATH"), finds each PATH's value in want_fields, and
enters it as a person would: dates as DD.MM.YYYY, options by their label, entries of a
repeated group added with its add button first. Returns the choice it made ("add:…" or
"next"/"send"), the page then changes."""

import time
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains

from answers import value_at, as_typed


def focus_by_tab(b, el, limit=400):
	"""Moves the focus with Tab until el has it: the keyboard alone reaches it."""
	body = b.d.find_element(By.TAG_NAME, "body")
	for _ in range(limit):
		if b.d.execute_script("return document.activeElement === arguments[0]", el):
			return
		ActionChains(b.d).send_keys(Keys.TAB).perform()
	raise AssertionError("Tab never reached %s" % el.get_attribute("name"))


# kiosk.js's VARIANTS: the letters a long press on a base letter offers.
VARIANTS = {"a": "áàâäãåæąăā", "c": "çćč", "d": "ďđ", "e": "éèêëęěėē", "g": "ğ",
    "i": "íìîïıī", "l": "łľĺ", "n": "ñńň", "o": "óòôöõøőœ", "r": "ř", "s": "śšşș",
    "t": "țţť", "u": "úùûüűůū", "y": "ýÿ", "z": "žźż"}


def osk_key(b, name):
	"""The on-screen key NAME shown now (the keyboard renders anew on shift), or None."""
	keys = b.d.find_elements(By.CSS_SELECTOR, '#bb-keyboard .bb-kbd-keys button[data-key="%s"]'
	    % name.replace("\\", "\\\\").replace('"', '\\"'))
	return keys[0] if keys else None


def osk_shift(b, on):
	"""Sets the one-letter shift as the key shows it (aria-pressed); kiosk.js turns it on
	by itself in an empty field and off after a capital."""
	k = osk_key(b, "shift")
	if k is not None and (k.get_attribute("aria-pressed") == "true") != on:
		k.click()


def osk_reach(b, el):
	"""Scrolls EL above the open keyboard when the keyboard covers it, as a person swipes
	the page (body.bb-kbd-open leaves room to)."""
	b.d.execute_script("var k = document.getElementById('bb-keyboard'), r = "
	    "arguments[0].getBoundingClientRect();"
	    "if (!k.hidden && r.bottom > k.getBoundingClientRect().top - 16)"
	    "  window.scrollBy(0, r.bottom - k.getBoundingClientRect().top + 16 + r.height);"
	    "else if (r.top < 0) window.scrollBy(0, r.top - 16);", el)


def osk_type(b, text):
	"""Taps text on #bb-keyboard: shift for capitals, a long press for accented letters,
	the letters key of a number pad (house numbers) for a letter."""
	for ch in text:
		low = ch.lower()
		name = "space" if ch == " " else low
		if osk_key(b, name) is None and osk_key(b, "letters") is not None:
			osk_key(b, "letters").click()
		if low != ch.upper() or low != ch:	# a letter: shift as its case wants
			osk_shift(b, ch != low)
		k = osk_key(b, name)
		if k is not None:
			k.click()
			continue
		base = [c for c, v in VARIANTS.items() if low in v]
		if not base or osk_key(b, base[0]) is None:
			raise AssertionError("no key for %r on the on-screen keyboard" % ch)
		ActionChains(b.d).click_and_hold(osk_key(b, base[0])).pause(0.7).release().perform()
		b.d.find_element(By.CSS_SELECTOR, '.bb-kbd-variants button[data-key="%s"]' % ch).click()


def set_text(b, el, text, mode):
	if mode == "direct":
		b.d.execute_script("arguments[0].value = arguments[1]", el, text)
	elif mode == "keys":
		focus_by_tab(b, el)
		ActionChains(b.d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL) \
		    .send_keys(Keys.DELETE).perform()
		if text:
			ActionChains(b.d).send_keys(text).perform()
	else:
		osk_reach(b, el)
		el.click()
		n = len(el.get_attribute("value"))
		if n:	# the caret at the end, as a tap after the text puts it
			b.d.execute_script("arguments[0].setSelectionRange(%d, %d)" % (n, n), el)
			for _ in range(n):
				osk_key(b, "backspace").click()
		osk_type(b, text)
	got = el.get_attribute("value")
	if got != text:
		raise AssertionError("%s: typed %r, the field holds %r" % (el.get_attribute("name"),
		    text, got))


def radio_keys(b, name, el):
	"""A radio group by keyboard: Tab reaches the group (its checked button, else its
	first), the arrow keys move the choice."""
	group = b.d.find_elements(By.CSS_SELECTOR, "input[type=radio][name='%s']" % name)
	stop = [g for g in group if g.is_selected()] or group[:1]
	focus_by_tab(b, stop[0])
	if not stop[0].is_selected():
		ActionChains(b.d).send_keys(Keys.SPACE).perform()
	for _ in range(len(group)):
		if el.is_selected():
			return
		ActionChains(b.d).send_keys(Keys.ARROW_DOWN).perform()
	raise AssertionError("the arrow keys never chose %s=%s" % (name, el.get_attribute("value")))


def tap(b, el, mode):
	if mode == "direct":
		b.d.execute_script("arguments[0].click()", el)
	elif mode == "keys":
		focus_by_tab(b, el)
		ActionChains(b.d).send_keys(Keys.SPACE).perform()
	else:
		osk_reach(b, el)
		el.click()


def answer_page(b, want, mode, go=True):
	d = b.d
	# Entries first: a repeated group with fewer entries than wanted gets one more.
	for add in d.find_elements(By.CSS_SELECTOR, 'button[name=choice][value^="add:"]'):
		path = add.get_attribute("value")[4:]
		have = len(d.find_elements(By.CSS_SELECTOR, 'button[value^="remove:%s."]' % path))
		wantn = value_at(want, path)
		if isinstance(wantn, list) and have < len(wantn):
			tap(b, add, mode)
			return "add:" + path
	seen = set()
	for el in d.find_elements(By.CSS_SELECTOR, "form#bb-ask input[name^='f:']"):
		name = el.get_attribute("name")
		path = name[2:]
		typ = el.get_attribute("type")
		v = value_at(want, path)
		if typ == "text":
			set_text(b, el, as_typed(v, el.get_attribute("data-kbd")), mode)
		elif typ == "radio":
			should = v is not None and el.get_attribute("value") == str(v)
			if should and not el.is_selected():
				if mode == "keys":
					radio_keys(b, name, el)
				else:
					tap(b, el, mode)
		elif typ == "checkbox":
			if el.get_attribute("value") == "yes":
				should = v is True
			else:
				should = isinstance(v, list) and el.get_attribute("value") in v
			if should != el.is_selected():
				tap(b, el, mode)
		seen.add(path)
	summary = d.find_elements(By.CSS_SELECTOR, "form#bb-ask button[value=send]")
	choice = "send" if summary else "next"
	if not go:
		return choice
	btn = d.find_element(By.CSS_SELECTOR, "form#bb-ask .bb-nav button[value=%s]" % choice)
	if mode == "keys":
		focus_by_tab(b, btn)
		ActionChains(d).send_keys(Keys.ENTER).perform()
	else:
		tap(b, btn, mode)
	return choice
