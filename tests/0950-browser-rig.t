#!/bin/sh
# The browser rig (tests/rig/browser.py, browser.sh, static-server.py) that the screen tests
# drive Debian's headless Chromium with: axe-core finds known WCAG violations (and none in a
# clean page) despite the page's CSP, clicks, typing on a physical and on an on-screen
# keyboard, screenshots of the asked size, the token-to-cookie redirect, DOM dumps, the time
# from an action to a DOM change, failing steps and the skip when a piece is missing.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/browser.sh"

out=$(BB_CHROMEDRIVER=/nonexistent sh -c '. "$1/tests/lib.sh"; . "$1/tests/rig/browser.sh";
	browser_or_skip; echo not skipped' sh "$BB_TOP" 2>&1)
browser_or_skip
case $out in
"1..0 # SKIP missing: chromium-driver (scripts/install-deps installs them)") ok 0 \
	"without chromedriver a browser test skips and says why";;
*) ok 1 "without chromedriver a browser test skips and says why"; echo "# $out" >&2;;
esac
BB_CHROMEDRIVER=/nonexistent browser "file:///"
[ "$rc" -eq 69 ] && grep -q 'chromium-driver' err
ok $? "browser.py without chromedriver: exit 69, says what is missing"

# --- axe-core from npm, once per directory ---
mkdir bin
printf '#!/bin/sh\necho "$*" >> %s/npm.log\nexec %s "$@"\n' "$scratch" "$(command -v npm)" > bin/npm
printf '#!/bin/sh\necho "npm ERR! network" >&2\nexit 1\n' > bin/npm-offline
chmod +x bin/npm bin/npm-offline
for i in 1 2 3; do
	PATH=$scratch/bin:$PATH BB_AXE_DIR=$scratch/axe "$BROWSER_PYTHON" \
		"$BROWSER_RIG/browser.py" --install-axe > "inst.$i" 2>&1 &
done
wait
[ "$(cat inst.1 inst.2 inst.3 | sort -u)" = "$scratch/axe/node_modules/axe-core/axe.min.js" ] &&
	[ "$(grep -c '^ci ' npm.log)" -eq 1 ]
st=$?
ok $st "three parallel installs of axe-core into one directory: one npm ci, all get it"
[ $st -eq 0 ] || diag inst.1 inst.2 inst.3 npm.log
head -c 20 axe/node_modules/axe-core/axe.min.js | grep -q '^/\*! axe v4\.14\.1'
ok $? "it is the pinned version (4.14.1)"
echo changed >> axe/.installed
PATH=$scratch/bin:$PATH BB_AXE_DIR=$scratch/axe "$BROWSER_PYTHON" "$BROWSER_RIG/browser.py" \
	--install-axe > /dev/null && [ "$(grep -c '^ci ' npm.log)" -eq 2 ]
ok $? "another lock file is installed again"
cp bin/npm-offline bin/npm
BB_AXE_DIR=$scratch/axe-offline PATH=$scratch/bin:$PATH browser --install-axe
[ "$rc" -eq 69 ] && grep -q 'npm ci in .* failed (status 1): npm ERR! network' err
ok $? "npm failing: exit 69 with npm's words"

mkdir www
cat > www/index.html <<'EOF'
<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sauber – bb</title><link rel="stylesheet" href="clean.css">
<script src="clean.js" defer></script><script>document.title = "inline ran";</script></head>
<body><main>
<h1>Ihr Name</h1>
<form><label for="name">Vorname</label> <input id="name" name="name" autocomplete="off">
<button type="button" id="go">Weiter</button></form>
<p id="out">vorher</p>
<p><a id="next" href="two.html">Seite zwei</a></p>
</main>
<div id="bb-keyboard"><button type="button" data-key="shift">⇧</button><button type="button"
data-key="e">e</button><button type="button" data-key="r">r</button><button type="button"
data-key="i">i</button><button type="button" data-key="k">k</button><button type="button"
data-key="a">a</button><button type="button" data-key="ä">ä</button><button type="button"
data-key="space">Leer</button><button type="button" data-key="m">m</button></div>
</body></html>
EOF
cat > www/clean.css <<'EOF'
body { color: #000; background: #fff; font: 24px sans-serif; }
#bb-keyboard button { min-width: 60px; min-height: 60px; }
.done { color: #000; }
EOF
# The click changes the text after a pause, so the measured time has a known floor.
cat > www/clean.js <<'EOF'
var shift = false;
document.getElementById('go').addEventListener('click', function () {
	setTimeout(function () {
		var o = document.getElementById('out');
		o.textContent = 'nachher';
		o.className = 'done';
	}, 50);
});
document.querySelectorAll('#bb-keyboard button').forEach(function (b) {
	b.addEventListener('click', function () {
		var k = b.getAttribute('data-key'), n = document.getElementById('name');
		if (k === 'shift') { shift = true; return; }
		if (k === 'space') k = ' ';
		n.value += shift ? k.toUpperCase() : k;
		shift = false;
	});
});
EOF
printf '<!doctype html>\n<html lang="de"><head><meta charset="utf-8"><title>Zwei – bb</title></head>\n<body><main><h1>Zweite Seite</h1></main></body></html>\n' > www/two.html
cat > www/bad.html <<'EOF'
<!doctype html>
<html><head><meta charset="utf-8"><title>Bad – bb</title><link rel="stylesheet" href="bad.css"></head>
<body><main><h1>Form</h1><p class="faint">Hard to read</p><input id="x" name="x"></main></body></html>
EOF
printf '.faint { color: #bbb; background: #fff; }\n' > www/bad.css

static_start "$scratch/www" 0123456789abcdef
ok $? "a static server with the screen's headers and token listens on 127.0.0.1"
trap 'kill "$STATIC_PID" 2> /dev/null; cd /; rm -rf "$scratch"' EXIT
U=$STATIC_URL

# --- axe-core ---
cat > bad.steps <<'EOF'
open /?token=0123456789abcdef
open bad.html
axe bad-axe.json
EOF
sed -i "s|^open /|open ${U%/}/|; s|^open bad|open ${U}bad|" bad.steps
browser "$U" --steps bad.steps
[ "$rc" -eq 1 ] && grep -q 'axe: 3 violation' err
ok $? "axe on a page with known violations: exit 1 (despite its CSP)"
[ "$(jq -r '[.[].id] | sort | join(" ")' bad-axe.json)" = "color-contrast html-has-lang label" ]
ok $? "they are color-contrast, html-has-lang and label, nothing else"
[ "$(jq -r '.[] | select(.id == "label") | .nodes[0].target[0]' bad-axe.json)" = "#x" ]
ok $? "each with the offending element (the unlabelled input #x)"
jq -e . out > /dev/null
ok $? "the violations are JSON on stdout"

cat > clean.steps <<EOF
open ${U}?token=0123456789abcdef
url
cookie bb
js 'return document.title'
axe
screenshot portrait.png 1080x1920
screenshot landscape.png 1920x1080
click '#go'
wait '#out.done'
expect '#out' nachher
focus '#name'
type 'Ärger ß'
press Tab
text '#name'
js 'document.getElementById("name").value = ""'
tap 'Erika Mä'
text '#name'
dom dom.html
js 'return navigator.languages'
EOF
browser "$U" --lang de,en --steps clean.steps
[ "$rc" -eq 0 ] && [ ! -s err ]
ok $? "a clean page: every step runs, exit 0"
diag err
sed -n 1p out | grep -qxF "$U"
ok $? "?token= is followed to / (the token leaves the URL)"
sed -n 2p out | jq -e '.name == "bb" and .httpOnly == true and .sameSite == "Strict"' > /dev/null
ok $? "the browser holds the cookie (HttpOnly, SameSite=Strict)"
[ "$(sed -n 3p out)" = '"Sauber – bb"' ]
ok $? "the page's CSP is in force: its inline script did not run"
[ "$(sed -n 4p out)" = "[]" ]
ok $? "axe: 0 WCAG 2.1 A/AA violations in a clean page (lang, title, label, contrast)"
[ "$(png_size portrait.png)" = 1080x1920 ] && [ "$(png_size landscape.png)" = 1920x1080 ]
ok $? "screenshots are PNGs of the asked size (1080x1920, 1920x1080)"
[ "$(sed -n 5p out)" = "Ärger ß" ]
ok $? "typing through keys (umlauts too) reaches the focused input"
[ "$(sed -n 7p out)" = "Erika Mä" ]
ok $? "tapping the on-screen keyboard's keys (shift, space, ä) types too"
grep -q '<p id="out" class="done">nachher</p>' dom.html
ok $? "the DOM dump shows the page after the click"
[ "$(sed -n 8p out)" = '["de", "en"]' ]
ok $? "--lang sets the browser's languages (navigator.languages)"

cat > time.steps <<'EOF'
time '#out.done' click '#go'
time 'text=Zweite Seite' click '#next'
time 'text=never' sleep 0
EOF
browser "${U}?token=0123456789abcdef" --timeout 2 --steps time.steps
[ "$rc" -eq 3 ] && grep -q 'step 3 (time text=never sleep 0): time: text=never not there' err
ok $? "time: a change that never comes is a failed step (exit 3)"
ms=$(sed -n 1p out | jq -r '"\(.ms) \(.input_ms)"')
jq -en "${ms% *} >= 49 and ${ms#* } >= 49 and ${ms#* } <= ${ms% *} and ${ms% *} < 2000" > /dev/null
ok $? "time from a click to a DOM change: ${ms% *} ms, ${ms#* } ms from the pointer down (the page waits 50 ms)"
ms=$(sed -n 2p out | jq -r '"\(.ms) \(.input_ms)"')
jq -en "${ms#* } > 0 and ${ms#* } <= ${ms% *} and ${ms% *} < 5000" > /dev/null
ok $? "time from a click to the next page showing a text: ${ms% *} ms, ${ms#* } ms from the pointer down"

browser "$U" "wait '#name' 0.5"
[ "$rc" -eq 3 ] && grep -q "step 1 (wait '#name' 0.5): #name: not there after" err
ok $? "without the token's cookie the server refuses (403): a wait there fails, exit 3"
browser "$U" "frobnicate"
[ "$rc" -eq 3 ] && grep -q 'unknown step' err
ok $? "an unknown step fails"

done_testing
