/*
 * kiosk.js — the citizen's screen (issue 11; /work/screen-contract.md "The page").
 *
 * Two jobs, no framework, no inline code (CSP default-src 'self'):
 * 1. Follow the server: /events sends the screen's version; when it is not the one this
 *    page shows, load the new page. Without script the page still works: plain form
 *    posts, 303 back to /. What is typed on a form page goes along as a draft.
 * 2. The on-screen keyboard (a kiosk has no system keyboard): built into #bb-keyboard
 *    when an input with data-kbd gets focus. data-kbd="text" is German QWERTZ with
 *    Ä Ö Ü ß, the signs forms want (- / for house and file numbers, + for phones, @ . ' ,),
 *    shift, space, backspace, enter (submits like the Enter key does), close, and
 *    a long press (500 ms) on a letter offers the accented letters names carry;
 *    numeric|postal|pin|date get a number pad (date with "."). Each key is a
 *    <button type="button" data-key="X"> labelled from the catalogue (the server puts the
 *    kbd.* texts, and pin.digits, as JSON into #bb-keyboard's data-labels). A physical
 *    keyboard keeps working: nothing here listens to its keys but Escape.
 * PIN inputs (data-kbd="pin"): the digits go into the input's value and nowhere else —
 * never into an attribute, a text node or a live region; only their count is announced.
 */
(function () {
	'use strict';

	var LONG_PRESS_MS = 500;

	/* Accented letters names carry (lower case; upper case is derived). */
	var VARIANTS = {
		a: 'áàâäãåæąăā', c: 'çćč', d: 'ďđ', e: 'éèêëęěėē', g: 'ğ', i: 'íìîïıī',
		l: 'łľĺ', n: 'ñńň', o: 'óòôöõøőœ', r: 'ř', s: 'śšşș', t: 'țţť',
		u: 'úùûüűůū', y: 'ýÿ', z: 'žźż'
	};

	var TEXT_ROWS = [
		['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 'ß'],
		['q', 'w', 'e', 'r', 't', 'z', 'u', 'i', 'o', 'p', 'ü'],
		['a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'ö', 'ä'],
		['{shift}', 'y', 'x', 'c', 'v', 'b', 'n', 'm', '-', '/', '{backspace}'],
		['{close}', '@', '.', '{space}', '\'', ',', '+', '{enter}']
	];

	/* English fallbacks when the server gave no labels (a preview, an old server). */
	var FALLBACK = {
		'kbd.title': 'On-screen keyboard', 'kbd.space': 'Space',
		'kbd.backspace': 'Delete character', 'kbd.enter': 'Confirm entry',
		'kbd.shift': 'Capital letters', 'kbd.close': 'Close keyboard',
		'kbd.accents': 'Press and hold for accented letters', 'kbd.dot': 'Full stop',
		'kbd.letters': 'Letters', 'pin.digits': '{count} / {digits}'
	};

	var kbd = null;		/* #bb-keyboard */
	var labels = {};
	var target = null;	/* the input the keyboard types into */
	var layout = '';	/* the layout shown: text, letters, numeric, postal, pin, date */
	var shift = false;
	var pressTimer = 0;
	var swallowClick = false;
	var status = null;	/* live region: PIN count only, never the digits */
	var closing = false;	/* the focus goes back to the field: do not reopen */
	var pointerDown = false;	/* a finger (or the mouse) is on the screen */
	var unpadLater = false;	/* the room below the page goes when it is lifted */

	function label(key) {
		if (Object.prototype.hasOwnProperty.call(labels, key))
			return labels[key];
		return FALLBACK[key] || key;
	}

	function reducedMotion() {
		return window.matchMedia &&
		    window.matchMedia('(prefers-reduced-motion: reduce)').matches;
	}

	/* --- following the server ------------------------------------------------ */

	function follow(main) {
		var es;

		if (!main || typeof EventSource === 'undefined')
			return;
		try {
			es = new EventSource('/events');
		} catch (e) {
			return;		/* a preview from a file: no server to follow */
		}
		es.onmessage = function (ev) {
			if (String(ev.data) !== main.getAttribute('data-version')) {
				es.close();
				location.replace('/');
			}
		};
	}

	/* --- drafts ------------------------------------------------------------------ */

	/*
	 * What is typed on a form page and not yet sent goes to the server as it is typed
	 * (a POST without a choice: the page stays), so that a time-out's "more" brings it
	 * back (WCAG 2.2.1: more time loses nothing). The page has no PIN input.
	 */
	function drafts() {
		var form = document.getElementById('bb-ask'), timer = 0;

		if (!form || typeof fetch !== 'function' || typeof URLSearchParams === 'undefined' ||
		    typeof FormData === 'undefined' || form.querySelector('[data-kbd="pin"]'))
			return;
		function send() {
			timer = 0;
			fetch('/act', { method: 'POST', body: new URLSearchParams(new FormData(form)),
			    redirect: 'manual', credentials: 'same-origin', cache: 'no-store' })
			    .catch(function () { /* the page is being replaced */ });
		}
		function later() {
			clearTimeout(timer);
			timer = setTimeout(send, 300);
		}
		form.addEventListener('input', later);
		form.addEventListener('change', later);
	}

	/* --- the keyboard ------------------------------------------------------------ */

	function upper(ch) {
		var u;

		if (ch === 'ı')
			return 'İ';
		u = ch.toLocaleUpperCase('de');
		return u.length === 1 ? u : ch;	/* ß has no one-letter capital here */
	}

	function shown(ch) {
		return shift && ch.length === 1 ? upper(ch) : ch;
	}

	function makeKey(key, text, aria, cls) {
		var b = document.createElement('button');

		b.type = 'button';
		b.setAttribute('data-key', key);
		b.textContent = text;
		if (aria)
			b.setAttribute('aria-label', aria);
		if (cls)
			b.className = cls;
		return b;
	}

	function specialKey(name) {
		switch (name) {
		case '{shift}':
			var s = makeKey('shift', '⇧', label('kbd.shift'), 'bb-kbd-fn bb-kbd-wide');
			s.setAttribute('aria-pressed', shift ? 'true' : 'false');
			return s;
		case '{backspace}':
			return makeKey('backspace', '⌫', label('kbd.backspace'),
			    'bb-kbd-fn bb-kbd-wide');
		case '{space}':
			return makeKey('space', '␣', label('kbd.space'), 'bb-kbd-space');
		case '{enter}':
			return makeKey('enter', '⏎', label('kbd.enter'),
			    'bb-kbd-fn bb-kbd-wide bb-kbd-enter');
		case '{close}':
			return makeKey('close', '⌨▾', label('kbd.close'), 'bb-kbd-fn bb-kbd-wide');
		case '{letters}':
			return makeKey('letters', 'ABC', label('kbd.letters'), 'bb-kbd-fn');
		case '{dot}':
			return makeKey('.', '.', label('kbd.dot'), '');
		case '{none}':
			var n = makeKey('', '', '', 'bb-kbd-gap');
			n.disabled = true;
			n.setAttribute('aria-hidden', 'true');
			return n;
		}
		return null;
	}

	function padRows(kind) {
		var last = kind === 'date' ? '{dot}' : kind === 'numeric' ? '{letters}' : '{none}';

		return [
			['1', '2', '3'], ['4', '5', '6'], ['7', '8', '9'],
			[last, '0', '{backspace}'], ['{close}', '{enter}']
		];
	}

	function render() {
		var rows, box, hint, i, j, row, el, k, pad = layout !== 'text' &&
		    layout !== 'letters';

		kbd.textContent = '';
		if (layout === 'text' || layout === 'letters') {
			rows = TEXT_ROWS;
			hint = document.createElement('p');
			hint.className = 'bb-kbd-hint';
			hint.textContent = label('kbd.accents');
			kbd.appendChild(hint);
		} else {
			rows = padRows(layout);
		}
		box = document.createElement('div');
		box.className = rows === TEXT_ROWS ? 'bb-kbd-keys' : 'bb-kbd-keys bb-kbd-pad';
		for (i = 0; i < rows.length; i++) {
			row = document.createElement('div');
			row.className = 'bb-kbd-row';
			for (j = 0; j < rows[i].length; j++) {
				k = rows[i][j];
				el = specialKey(k);
				if (el && pad)
					el.classList.remove('bb-kbd-wide');
				if (!el) {
					el = makeKey(k, shown(k), shown(k), '');
					if (VARIANTS[k])
						el.setAttribute('aria-haspopup', 'true');
				}
				row.appendChild(el);
			}
			box.appendChild(row);
		}
		kbd.appendChild(box);
		status = document.createElement('div');
		status.className = 'bb-sr';
		status.setAttribute('role', 'status');
		status.setAttribute('aria-live', 'polite');
		kbd.appendChild(status);
		if (layout === 'pin')
			announcePin();
	}

	function layoutFor(input) {
		var k = input.getAttribute('data-kbd');

		return /^(numeric|postal|pin|date)$/.test(k) ? k : 'text';
	}

	function open(input) {
		var again = kbd && !kbd.hidden && target === input;

		if (!kbd)
			return;
		target = input;
		if (again)
			return;
		layout = layoutFor(input);
		shift = layout === 'text' && input.value === '' &&
		    input.type !== 'email' && input.getAttribute('inputmode') !== 'email';
		render();
		kbd.hidden = false;
		document.body.classList.add('bb-kbd-open');
		reveal(input);
	}

	/*
	 * Scroll so that the field, its label and its error (aria-describedby) stand between
	 * the top of the screen and the keyboard; the label wins when all do not fit.
	 */
	function reveal(input) {
		var top = input, bottom = input, lab, desc, kt, t, b, by;

		if (input.id) {
			lab = document.querySelector('label[for="' + input.id + '"]');
			if (lab)
				top = lab;
		}
		desc = input.getAttribute('aria-describedby');
		if (desc && document.getElementById(desc.split(/\s+/)[0]))
			bottom = document.getElementById(desc.split(/\s+/)[0]);
		kt = kbd.getBoundingClientRect().top;
		t = top.getBoundingClientRect().top;
		b = bottom.getBoundingClientRect().bottom;
		by = 0;
		if (b + 16 > kt)
			by = b + 16 - kt;
		if (t - by < 16)
			by = t - 16;
		if (by !== 0)
			window.scrollBy({ top: by, behavior: reducedMotion() ? 'auto' : 'smooth' });
	}

	/*
	 * away: the focus went to another control (a tap on "next", a choice). Then it stays
	 * there, and while the finger is still down the page keeps its room below: without it
	 * the page would move under the finger and the tap land beside the button meant.
	 */
	function close(away) {
		if (!kbd || kbd.hidden)
			return;
		kbd.hidden = true;
		kbd.textContent = '';
		status = null;
		if (away && pointerDown)
			unpadLater = true;
		else
			document.body.classList.remove('bb-kbd-open');
		if (!away && target && document.activeElement !== target) {
			closing = true;
			target.focus({ preventScroll: true });
			closing = false;
		}
	}

	function unpad() {
		unpadLater = false;
		if (kbd && kbd.hidden)
			document.body.classList.remove('bb-kbd-open');
	}

	/* The caret, or the end where the input type has none (number, email). */
	function caret(input) {
		var s, e;

		try {
			s = input.selectionStart;
			e = input.selectionEnd;
		} catch (x) {
			s = null;
		}
		if (typeof s !== 'number' || typeof e !== 'number')
			s = e = input.value.length;
		return { s: s, e: e };
	}

	function setCaret(input, at) {
		try {
			input.setSelectionRange(at, at);
		} catch (x) {
			/* inputs without a selection keep the caret at the end */
		}
	}

	function changed(input) {
		input.dispatchEvent(new Event('input', { bubbles: true }));
		if (input.getAttribute('data-kbd') === 'pin')
			announcePin();
	}

	function insert(text) {
		var input = target, c, v, max;

		if (!input || input.readOnly || input.disabled)
			return;
		c = caret(input);
		v = input.value;
		max = input.maxLength;
		if (max > 0 && v.length - (c.e - c.s) + text.length > max)
			return;
		input.value = v.slice(0, c.s) + text + v.slice(c.e);
		setCaret(input, c.s + text.length);
		changed(input);
	}

	function backspace() {
		var input = target, c, v, from;

		if (!input || input.readOnly || input.disabled)
			return;
		c = caret(input);
		v = input.value;
		if (c.s === c.e && c.s === 0)
			return;
		from = c.s === c.e ? c.s - 1 : c.s;
		input.value = v.slice(0, from) + v.slice(c.e);
		setCaret(input, from);
		changed(input);
	}

	/* Enter submits as the Enter key in a field does: with the form's first button. */
	function enter() {
		var form = target && target.form, b;

		if (!form)
			return;
		b = form.querySelector('button[type="submit"], button:not([type]), ' +
		    'input[type="submit"]');
		close();
		if (typeof form.requestSubmit === 'function')
			form.requestSubmit(b || undefined);
		else if (b)
			b.click();
		else
			form.submit();
	}

	/* Only the count of a PIN's digits, never a digit. */
	function announcePin() {
		var n, max;

		if (!status || !target)
			return;
		n = target.value.length;
		max = target.maxLength > 0 ? target.maxLength : '';
		status.textContent = label('pin.digits').replace('{count}', String(n))
		    .replace('{digits}', String(max));
	}

	function closeVariants() {
		var v = kbd && kbd.querySelector('.bb-kbd-variants');

		if (v)
			v.parentNode.removeChild(v);
	}

	function showVariants(base) {
		var box, list, i, ch, b;

		closeVariants();
		list = VARIANTS[base];
		if (!list)
			return;
		box = document.createElement('div');
		box.className = 'bb-kbd-variants';
		box.setAttribute('role', 'group');
		box.setAttribute('aria-label', label('kbd.accents'));
		for (i = 0; i < list.length; i++) {
			ch = shown(list.charAt(i));
			b = makeKey(ch, ch, ch, 'bb-kbd-variant');
			box.appendChild(b);
		}
		kbd.insertBefore(box, kbd.firstChild);
		box.firstChild.focus({ preventScroll: true });
	}

	function press(key, isVariant) {
		switch (key) {
		case 'shift':
			shift = !shift;
			render();
			return;
		case 'backspace':
			backspace();
			return;
		case 'space':
			insert(' ');
			return;
		case 'enter':
			enter();
			return;
		case 'close':
			close();
			return;
		case 'letters':
			layout = 'letters';
			shift = false;
			render();
			return;
		case '':
			return;
		}
		insert(isVariant ? key : shown(key));
		closeVariants();
		if (shift && key.length === 1 && /\p{L}/u.test(key)) {
			shift = false;	/* one capital, as phone keyboards do */
			render();
		}
	}

	function keyOf(ev) {
		var b = ev.target && ev.target.closest ? ev.target.closest('button') : null;

		return b && kbd.contains(b) ? b : null;
	}

	function setupKeyboard() {
		kbd = document.getElementById('bb-keyboard');
		if (!kbd)
			return;
		try {
			labels = JSON.parse(kbd.getAttribute('data-labels') || '{}') || {};
		} catch (e) {
			labels = {};
		}
		kbd.setAttribute('dir', 'ltr');		/* QWERTZ in every language */
		kbd.setAttribute('role', 'group');
		kbd.setAttribute('aria-label', label('kbd.title'));

		/* Keys never take the focus from the field on touch; Tab still reaches them. */
		kbd.addEventListener('mousedown', function (ev) {
			if (keyOf(ev))
				ev.preventDefault();
		});
		kbd.addEventListener('pointerdown', function (ev) {
			var b = keyOf(ev), k;

			if (!b)
				return;
			ev.preventDefault();
			k = b.getAttribute('data-key');
			clearTimeout(pressTimer);
			if (VARIANTS[k] && !b.classList.contains('bb-kbd-variant')) {
				pressTimer = setTimeout(function () {
					swallowClick = true;
					showVariants(k);
				}, LONG_PRESS_MS);
			}
		});
		['pointerup', 'pointercancel', 'pointerleave'].forEach(function (t) {
			kbd.addEventListener(t, function () { clearTimeout(pressTimer); });
		});
		kbd.addEventListener('contextmenu', function (ev) { ev.preventDefault(); });
		kbd.addEventListener('click', function (ev) {
			var b = keyOf(ev);

			if (!b)
				return;
			if (swallowClick) {
				swallowClick = false;
				return;
			}
			press(b.getAttribute('data-key'), b.classList.contains('bb-kbd-variant'));
			if (target && !kbd.hidden && !kbd.contains(document.activeElement))
				target.focus({ preventScroll: true });
		});

		document.addEventListener('focusin', function (ev) {
			var t = ev.target;

			if (closing)
				return;
			if (t && t.hasAttribute && t.hasAttribute('data-kbd'))
				open(t);
			else if (!kbd.contains(t))
				close(true);
		});
		document.addEventListener('pointerdown', function () {
			pointerDown = true;
		}, true);
		['pointerup', 'pointercancel'].forEach(function (t) {
			document.addEventListener(t, function () {
				pointerDown = false;
				if (unpadLater)
					setTimeout(unpad, 0);	/* after the click this lift makes */
			}, true);
		});
		/* A tap on the field the keyboard was closed for opens it again. */
		document.addEventListener('click', function (ev) {
			var t = ev.target;

			if (t && t.hasAttribute && t.hasAttribute('data-kbd') && kbd.hidden) {
				target = null;
				open(t);
			}
		});
		/* Typing on a PIN field with a physical keypad: the count is announced too. */
		document.addEventListener('input', function (ev) {
			if (ev.target === target && layout === 'pin' && ev.isTrusted)
				announcePin();
		});
		document.addEventListener('keydown', function (ev) {
			if (ev.key === 'Escape' && !kbd.hidden) {
				if (kbd.querySelector('.bb-kbd-variants'))
					closeVariants();
				else
					close();
			}
		});
	}

	function start() {
		var main = document.getElementById('bb-screen');
		var first = document.querySelector('[data-kbd][autofocus], [aria-invalid="true"]');

		setupKeyboard();
		follow(main);
		drafts();
		/* The page after a change: focus the field to correct, else the screen itself. */
		if (first)
			first.focus();
		else if (main && document.activeElement === document.body)
			main.focus({ preventScroll: true });
		if (document.activeElement && document.activeElement.hasAttribute &&
		    document.activeElement.hasAttribute('data-kbd'))
			open(document.activeElement);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
