#!/usr/bin/python3
"""ask_drive.py: a person answering a bb-form ask page in the browser, from the answers a
case already holds (what `bb-form fill` made of the same answers):

    from ask_drive import answer_page
    answer_page(b, want_fields, mode)      # mode: "keys" (physical keyboard alone) or
                                           # "osk" (taps on the page's on-screen keyboard)

It reads the page's inputs (name "f:PATH"), finds each PATH's value in want_fields, and
enters it as a person would: dates as DD.MM.YYYY, options by their label, entries of a
repeated group added with its add button first. Returns the choice it made ("add:…" or
"next"/"send"), the page then changes."""

import time
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains


def value_at(fields, path):
	v = fields
	for part in path.split("."):
		if isinstance(v, list):
			i = int(part)
			v = v[i] if i < len(v) else None
		elif isinstance(v, dict):
			v = v.get(part)
		else:
			return None
		if v is None:
			return None
	return v


def as_typed(v, kbd):
	if v is None:
		return ""
	if isinstance(v, bool):
		return "yes" if v else "no"
	if isinstance(v, (int, float)):
		return "%g" % v
	if kbd == "date" and len(v) == 10 and v[4] == "-":
		return "%s.%s.%s" % (v[8:10], v[5:7], v[0:4])
	return str(v)


def focus_by_tab(b, el, limit=400):
	"""Moves the focus with Tab until el has it: the keyboard alone reaches it."""
	body = b.d.find_element(By.TAG_NAME, "body")
	for _ in range(limit):
		if b.d.execute_script("return document.activeElement === arguments[0]", el):
			return
		ActionChains(b.d).send_keys(Keys.TAB).perform()
	raise AssertionError("Tab never reached %s" % el.get_attribute("name"))


def osk_type(b, text):
	"""Taps text on #bb-keyboard: shift for capitals, a long press for accented letters."""
	kbd = b.d.find_element(By.ID, "bb-keyboard")
	for ch in text:
		low = ch.lower()
		keys = kbd.find_elements(By.CSS_SELECTOR, 'button[data-key="%s"]' % low.replace('"', '\\"'))
		if not keys and low == " ":
			keys = kbd.find_elements(By.CSS_SELECTOR, 'button[data-key="{space}"]')
		if keys:
			if ch != low:
				kbd.find_element(By.CSS_SELECTOR, 'button[data-key="{shift}"]').click()
			keys[0].click()
			continue
		# An accented letter: long press on its base letter, then the variant.
		base = None
		for cand, variants in (("a", "áàâäãåæąăā"), ("c", "çćč"), ("e", "éèêëęěėē"),
		    ("i", "íìîïıī"), ("n", "ñńň"), ("o", "óòôöõøőœ"), ("s", "śšşș"),
		    ("u", "úùûüűůū"), ("z", "žźż"), ("l", "łľĺ"), ("g", "ğ")):
			if low in variants:
				base = cand
		if base is None:
			raise AssertionError("no key for %r on the on-screen keyboard" % ch)
		if ch != low:
			kbd.find_element(By.CSS_SELECTOR, 'button[data-key="{shift}"]').click()
		k = kbd.find_element(By.CSS_SELECTOR, 'button[data-key="%s"]' % base)
		ActionChains(b.d).click_and_hold(k).pause(0.7).release().perform()
		kbd.find_element(By.CSS_SELECTOR, '.bb-kbd-variants button[data-key="%s"]' % ch).click()


def set_text(b, el, text, mode):
	if mode == "keys":
		focus_by_tab(b, el)
		ActionChains(b.d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL) \
		    .send_keys(Keys.DELETE).perform()
		if text:
			ActionChains(b.d).send_keys(text).perform()
	else:
		el.click()
		kbd = b.d.find_element(By.ID, "bb-keyboard")
		n = len(el.get_attribute("value"))
		if n:
			bs = kbd.find_element(By.CSS_SELECTOR, 'button[data-key="{backspace}"]')
			for _ in range(n):
				bs.click()
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
	if mode == "keys":
		focus_by_tab(b, el)
		ActionChains(b.d).send_keys(Keys.SPACE).perform()
	else:
		el.click()


def answer_page(b, want, mode):
	d = b.d
	# Entries first: a repeated group with fewer entries than wanted gets one more.
	for add in d.find_elements(By.CSS_SELECTOR, 'button[name=choice][value^="add:"]'):
		path = add.get_attribute("value")[4:]
		have = len(d.find_elements(By.CSS_SELECTOR, 'button[value^="remove:%s."]' % path))
		wantn = value_at(want, path)
		if isinstance(wantn, list) and have < len(wantn):
			tap(b, add, mode) if mode == "keys" else add.click()
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
					el.click()
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
	btn = d.find_element(By.CSS_SELECTOR, "form#bb-ask .bb-nav button[value=%s]" % choice)
	if mode == "keys":
		focus_by_tab(b, btn)
		ActionChains(d).send_keys(Keys.ENTER).perform()
	else:
		btn.click()
	return choice
