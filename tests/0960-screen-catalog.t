#!/bin/sh
# The citizen's screen, its content (issue 11): every catalogue holds every key of de.yaml
# (svc.* of the shipped services included) and no other, with the same placeholders;
# every key a screen names exists; pictures exist, stay small and load nothing from
# outside; kiosk.css and kiosk.js stay small and name no URL. The checker then runs on
# broken copies, so each check is seen to fail.
. "${0%/*}/lib.sh"

SCREENS=$BB_TOP/scripts/screens
ASSETS=$BB_TOP/lib/screen/assets

cat > check.py <<'EOF'
import glob, os, re, sys
import yaml

screens, assets, only = sys.argv[1], sys.argv[2], sys.argv[3]
bad = []
KEY = re.compile(r"^[a-z0-9_.-]+$")
PH = re.compile(r"\{([a-z0-9_]+)\}")
# The keys /work/screen-contract.md requires of every catalogue.
CONTRACT = """lang.name lang.dir chrome.language chrome.size chrome.contrast chrome.speech_on
chrome.speech_off chrome.cancel chrome.back chrome.next chrome.help kbd.space kbd.backspace
kbd.enter kbd.shift kbd.close kbd.accents err.required err.pattern err.too_short err.too_long
err.range err.date err.email err.phone err.postal err.iban err.country err.choice pin.title
pin.text pin.masked pin.can.title pin.puk.title pin.wrong pin.digits""".split()
SCREENS = "welcome card-place card-remove camera sign wait thanks cancelled timeout-warning"

def load(p):
    with open(p, encoding="utf-8") as f:
        return yaml.safe_load(f)

cats = {os.path.basename(p)[:-5]: load(p)
        for p in sorted(glob.glob(os.path.join(screens, "catalog", "*.yaml")))}
de = cats.get("de") or {}
if only == "langs":
    for l in "de en tr ar uk ru pl ro".split():
        if l not in cats:
            bad.append("no catalogue %s" % l)
elif only == "shape":
    for l, c in cats.items():
        if not isinstance(c, dict):
            bad.append("%s: not a mapping" % l)
            continue
        for k, v in c.items():
            if not isinstance(k, str) or not KEY.match(k):
                bad.append("%s: bad key %r" % (l, k))
            if not isinstance(v, str) or (v.strip() == "" and k != "lang.dir"):
                bad.append("%s: %s is not a text" % (l, k))
        if c.get("lang.dir") not in ("ltr", "rtl"):
            bad.append("%s: lang.dir %r" % (l, c.get("lang.dir")))
    if cats.get("ar", {}).get("lang.dir") != "rtl":
        bad.append("ar: not rtl")
elif only == "contract":
    for l in ("de", "en"):
        for k in CONTRACT:
            if k not in cats.get(l, {}):
                bad.append("%s: lacks %s" % (l, k))
elif only == "complete":
    for l, c in cats.items():
        for k in de:
            # svc.* too: a town's own service may fall back to German, but the
            # shipped ones are named in every language (the German name beside).
            if k not in c:
                bad.append("%s: lacks %s" % (l, k))
elif only == "unknown":
    for l, c in cats.items():
        for k in c:
            if k not in de:
                bad.append("%s: unknown key %s" % (l, k))
elif only == "placeholders":
    for l, c in cats.items():
        for k, v in c.items():
            if k in de and set(PH.findall(str(v))) != set(PH.findall(str(de[k]))):
                bad.append("%s: %s: placeholders %s, de has %s" % (
                    l, k, sorted(PH.findall(str(v))), sorted(PH.findall(str(de[k])))))
elif only == "screens":
    for name in SCREENS.split():
        p = os.path.join(screens, name + ".yaml")
        if not os.path.exists(p):
            bad.append("no screen %s" % name)
            continue
        s = load(p)
        if s.get("id") != name:
            bad.append("%s: id %r" % (name, s.get("id")))
        keys = [s.get("title")] + list(s.get("text") or [])
        keys += [b.get("label") for b in s.get("buttons") or []]
        for b in s.get("buttons") or []:
            if not re.match(r"^[a-z0-9_-]+$", str(b.get("value"))):
                bad.append("%s: button value %r" % (name, b.get("value")))
        for k in keys:
            for l, c in cats.items():
                if k not in c:
                    bad.append("%s: %s names %s, not in %s" % (name, p, k, l))
        pic = s.get("picture")
        if pic and not os.path.isfile(os.path.join(screens, "pictures", pic)):
            bad.append("%s: no picture %s" % (name, pic))
        if s.get("busy") and name + ".busy" not in de:
            bad.append("%s: busy without %s.busy" % (name, name))
elif only == "pictures":
    for p in sorted(glob.glob(os.path.join(screens, "pictures", "*.svg"))):
        t = open(p, encoding="utf-8").read()
        n = os.path.basename(p)
        if len(t.encode()) >= 4096:
            bad.append("%s: %d bytes" % (n, len(t.encode())))
        # The namespace name is the one URL an SVG needs; it loads nothing.
        t2 = t.replace('xmlns="http://www.w3.org/2000/svg"', "")
        for m in re.finditer(r"""(?:href|src)\s*=\s*["']([^"']*)|url\(\s*["']?([^)"']*)|@import|https?:|<(?:image|script|foreignObject|text|use)\b""", t2):
            ref = m.group(1) if m.group(1) is not None else m.group(2)
            if ref is not None and ref.startswith("#"):
                continue
            bad.append("%s: external reference or forbidden element %r" % (n, m.group(0)))
elif only == "guides":
    # Every hint bb-capture gives the mirror (lib/capture/photo.c: its name after the
    # German and English texts) has its text guide.NAME; and the screen's own ones.
    src = open(os.path.join(os.environ["BB_TOP"], "lib", "capture", "photo.c"),
               encoding="utf-8").read()
    names = re.findall(r'static const struct hint H_\w+ = \{\s*"[^"]*",\s*"[^"]*",\s*"([a-z_]+)"\s*\}', src)
    if len(names) < 13:
        bad.append("photo.c: found %d hints, not the 13 or more there are" % len(names))
    for n in names + ["frame", "wait", "good"]:
        if "guide." + n not in de:
            bad.append("de: lacks guide.%s" % n)
elif only == "assets":
    for f in ("kiosk.css", "kiosk.js"):
        p = os.path.join(assets, f)
        if not os.path.isfile(p):
            bad.append("no %s" % f)
            continue
        t = open(p, encoding="utf-8").read()
        if len(t.encode()) >= 30 * 1024:
            bad.append("%s: %d bytes" % (f, len(t.encode())))
        if re.search(r"https?://", t):
            bad.append("%s: names a URL" % f)
        if re.search(r"@import|\beval\s*\(|new Function|innerHTML|document\.write", t):
            bad.append("%s: @import, eval, innerHTML or document.write" % f)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF

CHECKS="langs shape contract complete unknown placeholders screens pictures guides assets"

# catalog_check NAME DIR ASSETS: the checker's verdict on one part.
catalog_check() { BB_TOP=$BB_TOP /usr/bin/python3 check.py "$2" "$3" "$1" > why 2>&1; }

for c in $CHECKS; do
	catalog_check "$c" "$SCREENS" "$ASSETS"
	rc=$?
	ok "$rc" "catalogues and screens: $c"
	[ "$rc" -eq 0 ] || diag why
done

# The same checks on broken copies: each must say no.
broken() {	# broken CHECK DESCRIPTION: run after changing the copy in b/
	catalog_check "$1" "$scratch/b/screens" "$scratch/b/assets"
	if [ $? -ne 0 ] && [ -s why ]; then ok 0 "$2 is found"; else ok 1 "$2 is found"; fi
	rm -rf "$scratch/b"
}
copy() {
	mkdir -p "$scratch/b"
	cp -R "$SCREENS" "$scratch/b/screens"
	cp -R "$ASSETS" "$scratch/b/assets"
}

copy; sed -i '/^kbd.enter:/d' b/screens/catalog/tr.yaml
broken complete "a key removed from tr.yaml"
copy; sed -i '/^chrome.help:/d' b/screens/catalog/de.yaml b/screens/catalog/en.yaml
broken contract "a contract key missing in de and en"
copy; sed -i '/^svc.sperrmuell.text:/d' b/screens/catalog/en.yaml
broken complete "a service text missing in en"
copy; sed -i '/^svc.wohnsitz-anmelden.title:/d' b/screens/catalog/tr.yaml
broken complete "a service title missing in tr"
copy; echo 'chrome.hlep: "Hilfe"' >> b/screens/catalog/pl.yaml
broken unknown "an unknown key in pl.yaml"
copy; sed -i 's/^thanks.reference: .*/thanks.reference: "Nr. {ref}"/' b/screens/catalog/ru.yaml
broken placeholders "a renamed placeholder in ru.yaml"
copy; sed -i 's/^lang.dir: .*/lang.dir: "ltr"/' b/screens/catalog/ar.yaml
broken shape "Arabic left to right"
copy; sed -i 's/^lang.dir: .*/lang.dir: "rtl-ish"/' b/screens/catalog/uk.yaml
broken shape "a bad lang.dir"
copy; sed -i 's/^chrome.next: .*/chrome.next: yes/' b/screens/catalog/ro.yaml
broken shape "a text YAML reads as a boolean"
copy; sed -i 's/^title: .*/title: card-place.titel/' b/screens/card-place.yaml
broken screens "a screen naming a missing key"
copy; sed -i '/^guide.left:/d' b/screens/catalog/de.yaml
broken guides "a hint of bb-capture without its guide text"
copy; sed -i 's/^picture: .*/picture: nowhere.svg/' b/screens/sign.yaml
broken screens "a screen naming a missing picture"
copy; rm b/screens/wait.yaml
broken screens "a missing screen"
copy; sed -i 's|</svg>|<image href="https://example.org/x.png" width="1" height="1"/></svg>|' \
	b/screens/pictures/camera.svg
broken pictures "a picture loading an external image"
copy; sed -i 's|</svg>|<rect style="fill:url(http://example.org/p)" width="1" height="1"/></svg>|' \
	b/screens/pictures/sign.svg
broken pictures "a picture with an external url()"
copy; sed -i 's|</svg>|<text x="1" y="1">Ausweis</text></svg>|' b/screens/pictures/card-place.svg
broken pictures "text in a picture"
copy; head -c 5000 /dev/zero | tr '\0' ' ' >> b/screens/pictures/card-remove.svg
broken pictures "a picture of 4 KB or more"
copy; printf '/* see https://example.org */\n' >> b/assets/kiosk.css
broken assets "a URL in kiosk.css"
copy; head -c 31000 /dev/zero | tr '\0' ' ' >> b/assets/kiosk.js
broken assets "kiosk.js over 30 KB"

# The preview renders every screen in every language into the contract's page.
for l in de en tr ar uk ru pl ro; do
	for s in welcome card-place card-remove camera sign wait thanks cancelled timeout-warning; do
		/usr/bin/python3 "$BB_TOP/tests/rig/preview-screen" --lang "$l" \
			--set reference=BB-1 --out "p-$l-$s" "$s" 2> err || echo "$l $s" >> prev.bad
	done
done
check "the preview renders every screen in every language" test ! -s prev.bad
check_grep "the Arabic page is right to left" '<html lang="ar" dir="rtl"' p-ar-thanks/index.html
check_grep "placeholders are filled" 'BB-1' p-de-thanks/index.html
check_nogrep "no placeholder left on the thanks screen" '{reference}' p-en-thanks/index.html

done_testing
