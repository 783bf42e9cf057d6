/*
 * kiosk.js — the citizen's screen (bb-form(1) serve).
 *
 * Three jobs, no framework, no inline code (CSP default-src 'self'):
 * 1. Follow the server: /events sends the screen's version; when it is not the one this
 *    page shows, load the new page. A tap is posted by fetch and the page replaced, so
 *    the history never grows (no page of one person for the next); without script,
 *    plain posts, 303 to /. What is typed on a form page goes along as a draft.
 * 2. The on-screen keyboard (a kiosk has no system keyboard): built into #bb-keyboard
 *    when an input with data-kbd gets focus. data-kbd="text" is German QWERTZ with
 *    Ä Ö Ü ß, the signs forms want (- / for house and file numbers, + for phones, @ . ' ,),
 *    shift, space, backspace, enter (submits like the Enter key does), close, and
 *    a long press (500 ms) on a letter offers the accented letters names carry;
 *    numeric|postal|pin|date get a number pad (date with "."). Each key is a
 *    <button type="button" data-key="X"> labelled from the catalogue (the server puts the
 *    kbd.* texts, and pin.digits, as JSON into #bb-keyboard's data-labels). A physical
 *    keyboard works: nothing here listens to its keys but Escape.
 * 3. The live photo mirror (camera with tell --mirror): polls /m/state, loads each new
 *    frame, and puts a changed hint into its polite live region.
 * PIN inputs (data-kbd="pin"): the digits go into the input's value and nowhere else —
 * never into an attribute, a text node or a live region; only their count is announced.
 * 4. Speech (EN 301 549 5.1.3), when <html data-speech="on">: the server speaks each text
 *    (POST /say, espeak-ng, a WAV) and the page plays it (Web Audio, so the CSP needs no
 *    media source) at <html data-volume> %. On load main's content in order: headings,
 *    texts, a receipt's labels and values, picture descriptions, errors after err.prefix,
 *    the busy status, fields and buttons; on focus a control's name, value and error; a
 *    character typed is echoed, a PIN's digit only as pin.masked, its pad's keys unnamed. A new utterance, a key, a tap and the chrome's stop button
 *    cut the one playing (5.1.3.5); "again" speaks the page again (5.1.3.4). While sound
 *    plays <html> has data-speaking.
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
		'kbd.letters': 'Letters', 'pin.digits': '{count} / {digits}',
		'pin.masked': 'Digit entered', 'err.prefix': 'Error:'
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

	/* --- following the server */

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

	/* --- the live photo mirror */

	/* /m/state names the newest frame and the hint; a hint is replaced only when it
	 * changes, so the live region speaks each once. */
	function mirror() {
		var img = document.getElementById('bb-mirror-frame');
		var guide = document.getElementById('bb-guide');
		var busy = false, loading = 0;	/* when the frame being loaded was asked for */

		if (!img || !guide || typeof fetch !== 'function')
			return;
		/* Shown once loaded: a frame gone already would show its alt text flipped. */
		img.addEventListener('load', function () { loading = 0; img.hidden = false; });
		img.addEventListener('error', function () { loading = 0; img.hidden = true; });
		function apply(st) {
			/* One frame at a time; one that takes over 2 s is given up. */
			if (typeof st.n === 'string' && st.n !== img.getAttribute('data-n') &&
			    (!loading || Date.now() - loading > 2000)) {
				img.setAttribute('data-n', st.n);
				if (st.n === '') {
					loading = 0;
					img.hidden = true;
				} else {
					loading = Date.now();
					img.src = '/m/mirror.jpg?n=' + encodeURIComponent(st.n);
				}
			}
			if (typeof st.text === 'string' && st.text !== guide.textContent) {
				if (st.lang === document.documentElement.lang) {
					guide.removeAttribute('lang');
					guide.removeAttribute('dir');
				} else {
					guide.setAttribute('lang', st.lang);
					guide.setAttribute('dir', st.dir);
				}
				guide.textContent = st.text;
			}
			guide.classList.toggle('bb-guide-good', st.good === true);
		}
		function poll() {
			var ctl = typeof AbortController === 'function' ? new AbortController() : null;
			var timer;

			if (busy || document.hidden)
				return;
			busy = true;
			/* A request that hangs must not stop the mirror: given up after 2 s. */
			if (ctl)
				timer = setTimeout(function () { ctl.abort(); }, 2000);
			fetch('/m/state', { cache: 'no-store', credentials: 'same-origin',
			    signal: ctl ? ctl.signal : undefined })
			    .then(function (r) { return r.ok ? r.json() : null; })
			    .then(function (st) { clearTimeout(timer); busy = false; if (st) apply(st); },
			        function () { clearTimeout(timer); busy = false; });
		}
		setInterval(poll, 250);
	}

	/* --- drafts */

	/* What is typed on a form page goes to the server as it is typed (a POST without a
	 * choice), so a time-out's "more" brings it back (WCAG 2.2.1). Never a PIN. */
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

	function posts() {
		document.addEventListener('submit', function (ev) {
			var f = ev.target, body, b = ev.submitter;

			if (typeof fetch !== 'function' || f.getAttribute('action') !== '/act')
				return;
			ev.preventDefault();
			body = new URLSearchParams(new FormData(f));
			if (b && b.name)
				body.append(b.name, b.value);
			fetch('/act', { method: 'POST', body: body, redirect: 'manual',
			    credentials: 'same-origin' }).then(home, home);
		});
		window.addEventListener('pageshow', function (ev) {
			if (ev.persisted)
				home();
		});
	}

	function home() {
		location.replace('/');
	}

	/* --- the keyboard */

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

	/* away: the focus went to another control; while the finger is down the page keeps
	 * its room below, or it would move and the tap land beside the button meant. */
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

	/* --- speech */

	var SAY_MAX = 400;	/* characters an utterance: the server takes 2048 bytes */
	var sp = null;		/* { ctx, gain, gen, queue, src, busy }, when speech is on */
	var typed = null;	/* WeakMap input -> the value (a PIN: its length) last seen */

	function langOf(el) {
		var l = el && el.closest ? el.closest('[lang]') : null;

		return l ? l.getAttribute('lang') : '';
	}

	function clean(t) {
		return (t || '').replace(/\s+/g, ' ').trim();
	}

	/* Texts longer than an utterance, cut after a sentence, else at a blank. */
	function pieces(t) {
		var out = [], cut, m;

		while (t.length > SAY_MAX) {
			m = t.slice(0, SAY_MAX).match(/^[\s\S]*[.!?;:\u061f\u06d4]\s/);
			cut = m ? m[0].length : t.lastIndexOf(' ', SAY_MAX);
			if (cut <= 0)
				cut = SAY_MAX;
			out.push(t.slice(0, cut));
			t = t.slice(cut).trim();
		}
		if (t)
			out.push(t);
		return out;
	}

	function speaking(on) {
		if (on)
			document.documentElement.setAttribute('data-speaking', '');
		else
			document.documentElement.removeAttribute('data-speaking');
	}

	/* Cuts what plays and drops what waits; late answers of /say are then ignored. */
	function hush() {
		var src;

		if (!sp)
			return;
		sp.gen++;
		sp.queue = [];
		src = sp.src;
		sp.src = null;
		sp.busy = false;
		if (src) {
			src.onended = null;
			try {
				src.stop();
			} catch (e) {
				/* not started yet */
			}
		}
		speaking(false);
	}

	function fetchSound(item) {
		var body = new URLSearchParams();

		body.set('text', item.text);
		if (item.lang)
			body.set('lang', item.lang);
		return fetch('/say', { method: 'POST', body: body, cache: 'no-store',
		    credentials: 'same-origin' }).then(function (r) {
			if (!r.ok)
				throw new Error('/say ' + r.status);
			return r.arrayBuffer();
		}).then(function (buf) {
			return sp.ctx.decodeAudioData(buf);
		});
	}

	/* Plays the queue in order. */
	function pump() {
		var item, gen = sp.gen;

		item = sp.queue.shift();
		if (!item) {
			sp.busy = false;
			speaking(false);
			return;
		}
		sp.busy = true;
		if (!item.sound)
			item.sound = fetchSound(item);
		item.sound.then(function (audio) {
			var src;

			if (gen !== sp.gen)
				return;
			/* The next is made while this one plays: no gap. */
			if (sp.queue[0] && !sp.queue[0].sound)
				sp.queue[0].sound = fetchSound(sp.queue[0]);
			src = sp.ctx.createBufferSource();
			src.buffer = audio;
			src.connect(sp.gain);
			src.onended = function () {
				if (gen === sp.gen && sp.src === src) {
					sp.src = null;
					pump();
				}
			};
			sp.src = src;
			/* A browser that waits for a tap before sound holds the context
			 * suspended: nothing is heard, so nothing is said to be. */
			speaking(sp.ctx.state === 'running');
			src.start();
		}, function () {
			if (gen === sp.gen)
				pump();		/* a text the server refused: the next one */
		});
	}

	/* say(texts, el): speaks each text in el's language, after what is queued, or
	 * instead of it when cut. */
	function say(list, el, cut) {
		var i, j, lang = langOf(el), p;

		if (!sp)
			return;
		if (cut)
			hush();
		for (i = 0; i < list.length; i++) {
			p = pieces(clean(list[i].text !== undefined ? list[i].text : list[i]));
			for (j = 0; j < p.length; j++)
				sp.queue.push({ text: p[j], lang: list[i].lang || lang });
		}
		if (!sp.busy)
			pump();
	}

	function visible(el) {
		return !el.closest('[hidden], [aria-hidden="true"], .bb-sr') &&
		    el.getClientRects().length > 0;
	}

	function isPin(el) {
		return el.getAttribute && el.getAttribute('data-kbd') === 'pin';
	}

	/* The elements an attribute names by id (aria-labelledby, aria-describedby). */
	function named(el, attr) {
		var ids = (el.getAttribute(attr) || '').split(/\s+/), out = [], i, e;

		for (i = 0; i < ids.length; i++)
			if (ids[i] && (e = document.getElementById(ids[i])))
				out.push(e);
		return out;
	}

	/* What a control is called: aria-label, aria-labelledby, its label, its text. */
	function nameOf(el) {
		var n = el.getAttribute('aria-label');

		if (!n)
			n = named(el, 'aria-labelledby').map(function (e) {
				return e.textContent;
			}).join(' ');
		if (!n && el.labels && el.labels.length)
			n = el.labels[0].textContent;
		if (!n && el.tagName !== 'INPUT')
			n = el.textContent;
		if (!n && el.tagName === 'IMG')
			n = el.getAttribute('alt');
		return clean(n);
	}

	/* An error's text after err.prefix, unless the page wrote the prefix already. */
	function textOf(e) {
		var t = clean(e.textContent);

		if (e.classList.contains('bb-error') && !e.querySelector('.bb-error-prefix'))
			t = label('err.prefix') + ' ' + t;
		return t;
	}

	/* An input's value as it may be spoken: never a PIN's, nor a password's; a box
	 * ticked is said by its label. */
	function valueOf(el) {
		if (!/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) || isPin(el) ||
		    /^(password|hidden|checkbox|radio)$/.test(el.type))
			return '';
		return el.value || '';
	}

	function item(text, el) {
		return { text: text, lang: langOf(el) };
	}

	/* t, el's text: a part in another language in its own voice. */
	function runs(el, t) {
		var o = [], w = document.createTreeWalker(el, 4), n, r;

		if (clean(el.textContent) !== t)
			return [item(t, el)];
		while ((n = w.nextNode()))
			if ((r = o[o.length - 1]) && r.lang === langOf(n.parentNode))
				r.text += n.nodeValue;
			else
				o.push(item(n.nodeValue, n.parentNode));
		return o;
	}

	/* Everything main shows, in order: what these match, not inside another. */
	/* dt, dd: the receipt (EN 301 549 5.1.3.16); svg[aria-label]: its QR code. */
	var SAY_PAGE = 'h1, h2, h3, p, dt, dd, legend, img[alt], svg[aria-label], .bb-busy, ' +
	    '.bb-locked, label, input:not([type="hidden"]), select, textarea, button';

	function speakPage() {
		var main = document.getElementById('bb-screen'), list = [], els, i, el, t;

		if (!sp || !main || !main.getAttribute('data-screen'))
			return;
		els = main.querySelectorAll(SAY_PAGE);
		for (i = 0; i < els.length; i++) {
			el = els[i];
			if (!visible(el) || (el.tagName !== 'INPUT' && el.parentElement &&
			    main.contains(el.parentElement.closest(SAY_PAGE))))
				continue;	/* a part of a text already said */
			if (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName))
				t = valueOf(el);
			else if (el.tagName === 'IMG')
				t = el.getAttribute('alt');
			else if (el.tagName.toLowerCase() === 'svg')
				t = el.getAttribute('aria-label');
			else
				t = textOf(el);
			if (clean(t))
				list.push.apply(list, runs(el, t));
		}
		say(list, main, true);
	}

	function speakFocus(el) {
		var k, list;

		if (!el || el === document.body || el.id === 'bb-screen' ||
		    el.closest('[aria-hidden="true"]'))
			return;
		if (kbd && kbd.contains(el)) {
			k = el.getAttribute('data-key');
			/* The PIN pad names no digit: the next one typed would be heard. */
			if (layout === 'pin' && /^[0-9]$/.test(k))
				return hush();
			return say([item(nameOf(el), el)], el, true);
		}
		list = runs(el, nameOf(el));
		if (valueOf(el))
			list.push(item(valueOf(el), el));
		/* Its help and its error (aria-describedby), each in its own language. */
		named(el, 'aria-describedby').forEach(function (e) {
			list.push(item(textOf(e), e));
		});
		say(list, el, true);
	}

	/* What typing changed: a PIN's digit as pin.masked, never the digit; else the
	 * characters added; a deletion as the backspace key's name. */
	function speakTyped(el) {
		var before = typed.get(el), now, a, n;

		if (isPin(el) || el.type === 'password') {
			now = el.value.length;
			typed.set(el, now);
			if (before === undefined || now === before)
				return;
			say([now > before ? label('pin.masked') : label('kbd.backspace')], el, true);
			return;
		}
		now = el.value;
		typed.set(el, now);
		before = typeof before === 'string' ? before : '';
		if (now.length < before.length)
			return say([label('kbd.backspace')], el, true);
		for (a = 0; a < before.length && before[a] === now[a]; a++)
			;
		for (n = 0; n < before.length - a &&
		    before[before.length - 1 - n] === now[now.length - 1 - n]; n++)
			;
		if (now.slice(a, now.length - n))
			say([now.slice(a, now.length - n)], el, true);
	}

	function setupSpeech() {
		var html = document.documentElement, AC = window.AudioContext ||
		    window.webkitAudioContext, vol, i, b;

		if (html.getAttribute('data-speech') !== 'on' || !AC || !window.fetch)
			return;
		vol = parseInt(html.getAttribute('data-volume'), 10);
		sp = { ctx: new AC(), gen: 0, queue: [], src: null, busy: false };
		sp.gain = sp.ctx.createGain();
		sp.gain.gain.value = (vol >= 0 && vol <= 100 ? vol : 50) / 100;
		sp.gain.connect(sp.ctx.destination);
		typed = new WeakMap();
		b = document.querySelectorAll('.bb-chrome [data-say]');
		for (i = 0; i < b.length; i++)
			b[i].hidden = false;
		document.addEventListener('click', function (ev) {
			var t = ev.target && ev.target.closest ?
			    ev.target.closest('[data-say]') : null;

			if (!t)
				return;
			if (t.getAttribute('data-say') === 'stop')
				hush();
			else
				speakPage();
		});
		/* Any key or tap cuts the speech (5.1.3.5); what it leads to speaks anew. It
		 * also wakes the sound where the browser waits for a gesture. */
		['keydown', 'pointerdown'].forEach(function (t) {
			document.addEventListener(t, function () {
				if (sp.ctx.state === 'suspended')
					sp.ctx.resume();
				hush();
			}, true);
		});
		sp.ctx.addEventListener('statechange', function () {
			if (sp.src)
				speaking(sp.ctx.state === 'running');
		});
		document.addEventListener('focusin', function (ev) {
			if (ev.target && ev.target.hasAttribute && ev.target.hasAttribute('data-say'))
				return hush();	/* its click says what it does */
			speakFocus(ev.target);
		});
		document.addEventListener('input', function (ev) {
			var t = ev.target;

			if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA'))
				speakTyped(t);
		});
		/* What the fields hold now: typing is told from here on. */
		b = document.querySelectorAll('input, textarea');
		for (i = 0; i < b.length; i++)
			typed.set(b[i], isPin(b[i]) || b[i].type === 'password' ? b[i].value.length :
			    b[i].value);
		speakPage();
	}

	function start() {
		var main = document.getElementById('bb-screen');
		var first = document.querySelector('[data-kbd][autofocus], [aria-invalid="true"]');

		setupKeyboard();
		posts();
		follow(main);
		mirror();
		drafts();
		/* The page after a change: focus the field to correct, else the screen itself. */
		if (first)
			first.focus();
		else if (main && document.activeElement === document.body)
			main.focus({ preventScroll: true });
		if (document.activeElement && document.activeElement.hasAttribute &&
		    document.activeElement.hasAttribute('data-kbd'))
			open(document.activeElement);
		/* After the focus is set: the page is spoken first, not the field. */
		setupSpeech();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
