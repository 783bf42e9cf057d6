// Placeholder (the screens helper writes the real script): reload on a new screen.
'use strict';
(function () {
	var main = document.getElementById('bb-screen');
	var es = new EventSource('/events');
	es.onmessage = function (ev) {
		if (main && ev.data !== main.getAttribute('data-version'))
			location.replace('/');
	};
})();
