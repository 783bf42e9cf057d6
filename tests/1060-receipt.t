#!/bin/sh
# bb-form receipt (issue 12, EN 301 549 5.1.3.16): the receipt of a sent and of a queued
# case on the screen (the receipt screen, a QR code as inline SVG) and as a PDF (cairo,
# Pango), printed with lp when form.printer is set. The QR codes are decoded (zbarimg)
# from the PDF (pdftoppm) and from screenshots of headless Chromium in de, en and ar,
# and compared with the case's reference; axe-core finds nothing on them. The PDF is
# tagged (heading, paragraphs, the QR code a Figure with its text alternative, the
# document's language), as poppler's pdfinfo and qpdf read it, in de, en and ar. Nothing of the
# person but the service reaches the page, the PDF or lp's arguments. Printing goes
# through a real cupsd with a private configuration and a file: device when cupsd can
# run, and through an lp of the test's own on PATH in any case. Screenshots go to
# $BB_SHOTS when set.
. "${0%/*}/lib.sh"

pids=""
trap 'kill_own $pids; cd /; rm -rf "$scratch"' EXIT

for t in zbarimg pdftoppm pdftotext pdfinfo qpdf; do
	command -v $t > /dev/null || { echo "1..0 # SKIP missing: $t (scripts/install-deps)"; exit 0; }
done

cp -R "$BB_TOP/scripts/screens" screens
mkdir -m 700 run
sock=$scratch/run/screen
cat > bb.yaml <<YAML
form:
  screens: $scratch/screens
  services: $SERVICES
YAML
BB_CONFIG=$scratch/bb.yaml

# Distinctive personal values: none of them may appear on the page, in a PDF, in lp's
# arguments or in a log.
PERSONAL="QUIRINUS ZWETSCHKENBAUM HOLUNDERWEG KLEINKLECKERSDORF 1951-07-13 Quirinus Zwetschkenbaum"
case_with() {	# case_with FILE SUBMISSION-JSON
	cat > "$1" <<JSON
{
  "bb": 1,
  "id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3",
  "created": "2026-11-30T10:00:00Z",
  "terminal": "test-1",
  "service": "wohnsitz-anmelden",
  "identity": {
    "given_names": "QUIRINUS", "family_names": "ZWETSCHKENBAUM",
    "date_of_birth": "1951-07-13",
    "address": { "street": "HOLUNDERWEG 77", "postal_code": "99999",
                 "city": "KLEINKLECKERSDORF", "country": "DE" }
  },
  "form": { "definition": "wohnsitz-anmelden", "version": 1, "completed": "2026-11-30T10:05:00Z",
            "fields": { "family_names": "Zwetschkenbaum", "given_names": "Quirinus",
                        "new_address": { "street": "Holunderweg 77", "postal_code": "99999",
                                         "city": "Kleinkleckersdorf" } } }
  $2
}
JSON
	chmod 600 "$1"
}
case_with sent.json ', "submission": { "target": "authority", "kind": "fitconnect",
  "state": "accepted", "attempts": 1, "last_attempt": "2026-11-30T10:06:00Z",
  "fitconnect": { "submission_id": "0b3f6a2e-91c4-4d7e-8a55-2c9e1f4b7d03" } }'
case_with queued.json ', "submission": { "target": "authority", "kind": "fitconnect",
  "state": "failed", "attempts": 1, "error": "connect: network is unreachable",
  "queue": { "attempts": 0 } }'
SENT_REF="0B6C-1D2E 0b3f6a2e-91c4-4d7e-8a55-2c9e1f4b7d03"
QUEUED_REF="0B6C-1D2E"

no_personal() {	# no_personal DESCRIPTION FILE...
	_d=$1
	shift
	_hit=""
	for _v in $PERSONAL; do
		grep -a -q -F "$_v" "$@" && _hit="$_hit $_v"
	done
	if [ -z "$_hit" ]; then ok 0 "$_d"; else ok 1 "$_d (found:$_hit)"; fi
}

qr_of_pdf() {	# qr_of_pdf PDF: the QR code's text, from the page at 300 dpi
	rm -f qr-page*.png
	pdftoppm -r 300 -png "$1" qr-page && zbarimg -q --raw qr-page*.png 2> /dev/null
}

# --- refused before anything is shown ---
expect_code 66 "a case that is not there: 66" "$BB_FORM" receipt nothere.json --screen "$sock"
echo '{"bb": 1, "id": ' > broken.json
expect_code 65 "a case that is not JSON: 65" "$BB_FORM" receipt broken.json --screen "$sock"
check_nogrep "the message quotes nothing of the case" '"id"' err
jq 'del(.service)' sent.json > nosvc.json
expect_code 65 "a case that names no service: 65" "$BB_FORM" receipt nosvc.json --screen "$sock"
jq '.bb = 9' sent.json > v9.json
expect_code 65 "a case of an unknown version: 65" "$BB_FORM" receipt v9.json --screen "$sock"
expect_code 64 "no case: usage" "$BB_FORM" receipt --screen "$sock"
expect_code 64 "--until nonsense: usage" "$BB_FORM" receipt sent.json --until 0 --screen "$sock"
expect_code 69 "no server: 69, as tell" "$BB_FORM" receipt sent.json --screen "$sock"

# --- the server ---
"$BB_FORM" serve --control "$sock" > serve.url 2> serve.log &
pids="$pids $!"
i=0
while [ ! -s serve.url ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(head -n 1 serve.url)
port=${url#http://127.0.0.1:}
port=${port%%/*}
curl -s -o /dev/null -c jar "$url"
page() { curl -s -b jar -o "$1" "http://127.0.0.1:$port/"; }

# --- sent: screen and PDF in the session's language (de) ---
expect_code 0 "receipt of a sent case: 0" "$BB_FORM" receipt sent.json --screen "$sock" \
	--pdf sent.pdf
check_same "it prints nothing without --until" /dev/null out
page sent.html
check_grep "the page is the receipt screen" 'data-screen="receipt"' sent.html
check_grep "the service, in the session's language" '<dd>Wohnsitz anmelden</dd>' sent.html
check_grep "the short reference as text" '<dd><bdi>0B6C-1D2E</bdi></dd>' sent.html
check_grep "the authority's submission id as text" \
	'<dd><bdi>0b3f6a2e-91c4-4d7e-8a55-2c9e1f4b7d03</bdi></dd>' sent.html
check_grep "the date" '<dd><bdi>2026-11-30 11:00</bdi></dd>' sent.html
check_grep "what happens next: sent" 'bei der Behörde angekommen' sent.html
check_grep "the QR code is inline SVG with its text alternative" \
	"<svg class=\"bb-qr\" role=\"img\" aria-label=\"QR-Code mit der Vorgangsnummer $SENT_REF\"" \
	sent.html
check_nogrep "nothing on the page is loaded from elsewhere" 'src="http\|href="http' sent.html
no_personal "the page holds nothing of the person" sent.html
[ "$(qr_of_pdf sent.pdf)" = "$SENT_REF" ]
ok $? "the PDF's QR code holds the reference and the authority's id"
pdftotext -layout sent.pdf sent.txt
check_grep "PDF: the title" 'Ihre Quittung' sent.txt
check_grep "PDF: the service" 'Wohnsitz anmelden' sent.txt
check_grep "PDF: the reference" '0B6C-1D2E' sent.txt
check_grep "PDF: the authority's id" '0b3f6a2e-91c4-4d7e-8a55-2c9e1f4b7d03' sent.txt
check_grep "PDF: what happens next: sent" 'angekommen' sent.txt
pdfinfo sent.pdf > sent.info 2>&1
check_grep "PDF: 80 mm wide" 'Page size: *226.77[0-9]* x' sent.info
check "--pdf: the file is mode 0600" test "$(stat -c %a sent.pdf)" = 600
no_personal "PDF: nothing of the person, in the text or the file" sent.txt sent.info sent.pdf

# --- queued ---
expect_code 0 "receipt of a queued case: 0" "$BB_FORM" receipt queued.json --screen "$sock" \
	--pdf queued.pdf
page queued.html
check_grep "queued: what happens next" 'sobald die Verbindung zur Behörde wieder steht' \
	queued.html
check_nogrep "queued: no authority's id" 'Nummer bei der Behörde' queued.html
[ "$(qr_of_pdf queued.pdf)" = "$QUEUED_REF" ]
ok $? "queued: the PDF's QR code holds the short reference"
pdftotext -layout queued.pdf queued.txt
check_grep "queued PDF: what happens next" 'sobald die Verbindung' queued.txt
check_nogrep "queued PDF: not said to be sent" 'angekommen' queued.txt
no_personal "queued: nothing of the person on the page or in the PDF" queued.html queued.txt \
	queued.pdf

# --- the PDF's structure (EN 301 549 10.1.3.1, 10.1.1.1, 10.3.1.1): in de, en and ar ---
# pdfinfo -struct-text gives each element and the text of its marked content; poppler
# 22.12 stops a paragraph's text at the first marked content nested in it (cairo marks
# the space where a line wraps as such), so a wrapped paragraph shows its first line.
# qpdf reads what pdfinfo does not show: the catalogue's /Lang, a Figure's /Alt.
struct_of() {	# struct_of PDF: "ELEMENT text" a line, for each piece of text
	pdfinfo -struct-text "$1" | awk '{ sub(/^ +/, "") }
		/^"/ { gsub(/^"|"$/, ""); print el " " $0; next } { el = $1 }'
}
shape_of() {	# shape_of PDF: the elements in reading order, on one line
	pdfinfo -struct "$1" | awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }'
}
qpdf_json() {	# qpdf_json PDF JQ: what jq says of qpdf's objects (the last version of each)
	qpdf --json=2 --json-key=qpdf "$1" | jq -r ".qpdf[1] | $2"
}
tagged() {	# tagged LANG TITLE SERVICE-ROW REFERENCE-ROW NEXT ALT SHAPE
	curl -s -o /dev/null -b jar -d "lang=$1" "http://127.0.0.1:$port/act"
	expect_code 0 "$1: receipt with --pdf: 0" "$BB_FORM" receipt sent.json --screen "$sock" \
		--pdf "tagged-$1.pdf"
	check_same "$1: it says nothing (the structure was completed)" /dev/null err
	pdfinfo "tagged-$1.pdf" > "tagged-$1.info" 2>&1
	check_grep "$1: pdfinfo: Tagged: yes" '^Tagged: *yes$' "tagged-$1.info"
	check_grep "$1: the document's title is the receipt's" "^Title: *$2\$" "tagged-$1.info"
	struct_of "tagged-$1.pdf" > "tagged-$1.struct"
	check_grep "$1: the heading (H1) is the title" "^H1 $2\$" "tagged-$1.struct"
	check_grep "$1: a paragraph (P) for the service" "^$3\$" "tagged-$1.struct"
	check_grep "$1: a paragraph for the date" '^P .*2026-11-30 11:00$' "tagged-$1.struct"
	check_grep "$1: a paragraph for the reference" "^P $4\$" "tagged-$1.struct"
	check_grep "$1: a paragraph for the authority's id" \
		'^P .*0b3f6a2e-91c4-4d7e-8a55-2c9e1f4b7d03$' "tagged-$1.struct"
	check_grep "$1: a paragraph for what happens next" "^P $5" "tagged-$1.struct"
	[ "$(shape_of "tagged-$1.pdf")" = "$7" ]
	ok $? "$1: the elements in reading order: $7 ($(shape_of "tagged-$1.pdf"))"
	[ "$(qpdf_json "tagged-$1.pdf" '[.[] | .value | select(."/S"? == "/Figure") | ."/Alt"] | join("|")')" = "u:$6" ]
	ok $? "$1: the QR code is a Figure whose /Alt says what it holds"
	[ "$(qpdf_json "tagged-$1.pdf" '.[] | .value | select(."/Type"? == "/Catalog") | "\(."/Lang") \(."/ViewerPreferences"."/DisplayDocTitle")"')" = "u:$1 true" ]
	ok $? "$1: the catalogue's /Lang is $1, viewers show the title"
	qpdf --check "tagged-$1.pdf" > "tagged-$1.check" 2>&1
	ok $? "$1: qpdf --check finds the file sound (the update's xref too)"
	pdftotext "tagged-$1.pdf" "tagged-$1.txt"
	check_grep "$1: pdftotext: the reference" '0B6C-1D2E' "tagged-$1.txt"
	no_personal "$1: nothing of the person in the text, the structure or the file" \
		"tagged-$1.txt" "tagged-$1.struct" "tagged-$1.pdf"
}
tagged de "Ihre Quittung" "P DienstleistungWohnsitz anmelden" "Vorgangsnummer0B6C-1D2E" \
	"Ihr Antrag ist bei der Behörde" "QR-Code mit der Vorgangsnummer $SENT_REF" \
	"Document H1 P P P P P Figure"
# A translated title: the German name under it is a Span of its own language, the
# label and the translation Spans beside it (cairo marks no content beside an element).
tagged en "Your receipt" "Span Wohnsitz anmelden" "Reference number0B6C-1D2E" \
	"Your application has reached the" "QR code with the reference number $SENT_REF" \
	"Document H1 P Span Span Span P P P P Figure"
check_grep "en: the translated title in its Span" '^Span Register your address$' \
	tagged-en.struct
[ "$(qpdf_json tagged-en.pdf '[.[] | .value | select(."/S"? == "/Span") | ."/Lang" // "-"] | join(" ")')" = "- - u:de" ]
ok $? "en: the German name's Span says /Lang de, label and title the document's language"
tagged ar "إيصالك" "Span Wohnsitz anmelden" "رقم المعاملة0B6C-1D2E" \
	"وصل طلبك إلى الجهة المختصة" "رمز QR برقم المعاملة $SENT_REF" \
	"Document H1 P Span Span Span P P P P Figure"
check_grep "ar: the service's label in its Span" '^Span الخدمة$' tagged-ar.struct
[ "$(qpdf_json tagged-ar.pdf '[.[] | .value | select(."/S"? == "/Span") | ."/Lang" // "-"] | join(" ")')" = "- - u:de" ]
ok $? "ar: the German name's Span says /Lang de, label and title the document's language"
[ "$(qr_of_pdf tagged-ar.pdf)" = "$SENT_REF" ]
ok $? "ar: the tagged PDF's QR code still holds the reference"
curl -s -o /dev/null -b jar -d lang=de "http://127.0.0.1:$port/act"

# --- waiting ---
expect_code 1 "--until 1 and no tap: exit 1, as tell" "$BB_FORM" receipt sent.json \
	--screen "$sock" --until 1
check_same "a time-out prints nothing" /dev/null out
check_same "a time-out says nothing" /dev/null err

# --- printing through lp on PATH: what it is given ---
mkdir -m 700 bin
cat > bin/lp <<SH
#!/bin/sh
printf '%s\n' "\$@" > "$scratch/lp.argv"
cat > "$scratch/lp.stdin"
[ -z "\$LP_FAIL" ] || { echo "lp: The printer or class does not exist." >&2; exit 1; }
echo "request id is kiosk-1 (1 file(s))"
SH
chmod 755 bin/lp
printf 'form:\n  screens: %s\n  services: %s\n  printer: kiosk-printer\n' \
	"$scratch/screens" "$SERVICES" > printer.yaml
PATH=$scratch/bin:$PATH BB_CONFIG=$scratch/printer.yaml run "$BB_FORM" receipt sent.json \
	--screen "$sock" --pdf printed.pdf
ok $rc "form.printer: receipt exits 0"
printf '%s\n' -d kiosk-printer -t bb-receipt > want.argv
check_same "lp's arguments: the queue and a title, nothing of the person" want.argv lp.argv
cmp -s lp.stdin printed.pdf
ok $? "lp gets the PDF on its standard input"
PATH=$scratch/bin:$PATH BB_CONFIG=$scratch/printer.yaml LP_FAIL=1 run "$BB_FORM" receipt \
	sent.json --screen "$sock"
ok $rc "a failing printer does not fail the receipt (exit $rc)"
check_grep "it is said on stderr" 'printer kiosk-printer: lp: lp: The printer or class does not exist' err
printf 'form:\n  screens: %s\n  services: %s\n  printer: kiosk-printer\n' \
	"$scratch/screens" "$SERVICES" > printer.yaml
mkdir -m 700 nolp
PATH=$scratch/nolp BB_CONFIG=$scratch/printer.yaml run "$BB_FORM" receipt sent.json \
	--screen "$sock"
ok $rc "no lp at all: the receipt still exits 0"
check_grep "and says lp is missing" 'printer kiosk-printer: lp cannot be run' err

# --- printing through a real cupsd: a private configuration, a file: device ---
# cupsd prints nothing to a raw queue with a file: device (no filter runs, so nothing
# writes the file): the queue gets a PPD whose one filter copies the job, from a
# private ServerBin. Filters run as cupsd's User (lp when cupsd runs as root), so the
# path to them must be searchable.
cups_why=""
command -v cupsd > /dev/null || [ -x /usr/sbin/cupsd ] || cups_why="no cupsd (cups-daemon)"
command -v lpadmin > /dev/null || [ -x /usr/sbin/lpadmin ] || cups_why="$cups_why no lpadmin"
if [ -z "$cups_why" ]; then
	c=$scratch/cups
	mkdir -p "$c/etc" "$c/spool" "$c/tmp" "$c/cache" "$c/state" "$c/log" "$c/out" \
		"$c/sb/filter"
	chmod 711 "$scratch"
	chmod 755 "$c" "$c/sb" "$c/sb/filter"
	for d in daemon backend notifier; do ln -s /usr/lib/cups/$d "$c/sb/$d"; done
	printf '#!/bin/sh\nexec cat ${6:+"$6"}\n' > "$c/sb/filter/bbcopy"
	chmod 755 "$c/sb/filter/bbcopy"
	cat > "$c/etc/cupsd.conf" <<CONF
Listen $c/cups.sock
LogLevel info
WebInterface No
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
CONF
	cat > "$c/etc/cups-files.conf" <<CONF
ServerRoot $c/etc
RequestRoot $c/spool
TempDir $c/tmp
CacheDir $c/cache
StateDir $c/state
ErrorLog $c/log/error_log
AccessLog $c/log/access_log
PageLog $c/log/page_log
FileDevice Yes
ServerBin $c/sb
DataDir /usr/share/cups
CONF
	cat > "$c/receipt.ppd" <<'PPD'
*PPD-Adobe: "4.3"
*FormatVersion: "4.3"
*FileVersion: "1.0"
*LanguageVersion: English
*LanguageEncoding: ISOLatin1
*PCFileName: "BBRCPT.PPD"
*Manufacturer: "bb"
*Product: "(bb receipt test)"
*ModelName: "bb receipt test"
*ShortNickName: "bb receipt test"
*NickName: "bb receipt test"
*PSVersion: "(3010.000) 0"
*LanguageLevel: "3"
*ColorDevice: False
*DefaultColorSpace: Gray
*FileSystem: False
*Throughput: "1"
*cupsFilter: "application/pdf 0 bbcopy"
*OpenUI *PageSize: PickOne
*DefaultPageSize: X80
*PageSize X80/80 mm: "<</PageSize[227 400]>>setpagedevice"
*CloseUI: *PageSize
*DefaultImageableArea: X80
*ImageableArea X80: "0 0 227 400"
*DefaultPaperDimension: X80
*PaperDimension X80: "227 400"
PPD
	PATH=$PATH:/usr/sbin cupsd -f -c "$c/etc/cupsd.conf" -s "$c/etc/cups-files.conf" \
		> "$c/log/cupsd.out" 2>&1 &
	cupsd_pid=$!
	pids="$pids $cupsd_pid"
	i=0
	while [ ! -S "$c/cups.sock" ] && [ $i -lt 50 ] && kill -0 $cupsd_pid 2> /dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -S "$c/cups.sock" ]; then
		cups_why="cupsd did not start: $(tail -n 1 "$c/log/cupsd.out" "$c/log/error_log" 2> /dev/null | tr '\n' ' ')"
	elif ! CUPS_SERVER=$c/cups.sock PATH=$PATH:/usr/sbin lpadmin -p bb-receipt -E \
	    -v "file://$c/out/printed.pdf" -P "$c/receipt.ppd" 2> "$c/lpadmin.err"; then
		cups_why="lpadmin failed: $(cat "$c/lpadmin.err")"
	fi
fi
if [ -z "$cups_why" ]; then
	printf 'form:\n  screens: %s\n  services: %s\n  printer: bb-receipt\n' \
		"$scratch/screens" "$SERVICES" > cups.yaml
	CUPS_SERVER=$c/cups.sock BB_CONFIG=$scratch/cups.yaml run "$BB_FORM" receipt \
		sent.json --screen "$sock" --pdf cups-sent.pdf
	ok $rc "cupsd: receipt exits 0"
	check_same "cupsd: lp said nothing on stderr" /dev/null err
	i=0
	while ! cmp -s "$c/out/printed.pdf" cups-sent.pdf && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	cmp -s "$c/out/printed.pdf" cups-sent.pdf
	ok $? "cupsd: the queue's file: device got the receipt's PDF"
	[ "$(qr_of_pdf "$c/out/printed.pdf")" = "$SENT_REF" ]
	ok $? "cupsd: the printed QR code holds the reference"
	grep -h 'bb-receipt' "$c/log/page_log" "$c/log/access_log" > cups.logs 2> /dev/null
	no_personal "cupsd: its logs hold nothing of the person" "$c/log/error_log" \
		"$c/log/access_log" "$c/log/page_log"
	kill_own $cupsd_pid
	CUPS_SERVER=$c/cups.sock BB_CONFIG=$scratch/cups.yaml run "$BB_FORM" receipt \
		sent.json --screen "$sock"
	ok $rc "cupsd gone: the receipt still exits 0"
	check_grep "and says the printer failed" 'printer bb-receipt: lp' err
else
	echo "# SKIP printing through cupsd: $cups_why"
fi

# --- in the browser: de, en, ar; screenshots, QR codes, axe ---
. "$BB_TOP/tests/rig/browser.sh"
if [ -x "${BB_CHROMIUM:-/usr/bin/chromium}" ] && [ -x "${BB_CHROMEDRIVER:-/usr/bin/chromedriver}" ] &&
    command -v npm > /dev/null && "$BROWSER_PYTHON" -c 'import selenium' 2> /dev/null; then
browser_or_skip
kill_own $pids
mkdir -p "${BB_SHOTS:-$scratch/shots}"
cat > drive.py <<'PY'
import os, subprocess, sys, time, unicodedata
sys.path.insert(0, os.path.join(os.environ["BB_TOP"], "tests", "rig"))
from browser import Browser
from screen_serve import Serve

scratch, shots = os.getcwd(), sys.argv[1]
SENT, QUEUED = os.environ["SENT_REF"], os.environ["QUEUED_REF"]
PERSONAL = os.environ["PERSONAL"].split()

def ok(cond, desc, detail=""):
	print("%d %s" % (0 if cond else 1, desc), flush=True)
	if not cond and detail != "":
		print("# %s" % (detail,), file=sys.stderr)

def zbar(png):
	r = subprocess.run(["zbarimg", "-q", "--raw", png], stdout=subprocess.PIPE,
	    stderr=subprocess.DEVNULL)
	return r.stdout.decode().strip()

def qr_pdf(pdf):
	subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", pdf, pdf + "-page"],
	    check=True)
	return zbar(pdf + "-page.png")

# The server's espeak-ng: a spy that keeps each text and answers with a moment of
# silence, so that the page goes through the whole receipt quickly.
import glob, wave
spy = os.path.join(scratch, "spy")
os.makedirs(os.path.join(scratch, "spybin"))
os.makedirs(spy)
with wave.open(os.path.join(scratch, "silence.wav"), "wb") as w:
	w.setnchannels(1)
	w.setsampwidth(2)
	w.setframerate(22050)
	w.writeframes(b"\0\0" * 441)
with open(os.path.join(scratch, "spybin", "espeak-ng"), "w") as f:
	f.write('#!/bin/sh\nf=$(mktemp "%s/say.$(date +%%s%%N).XXXXXX") || exit 70\n'
	    'cat > "$f"\nprintf "%%s\\n" "$*" > "$f.argv"\nexec cat "%s"\n' %
	    (spy, os.path.join(scratch, "silence.wav")))
os.chmod(os.path.join(scratch, "spybin", "espeak-ng"), 0o755)
os.environ["PATH"] = os.path.join(scratch, "spybin") + ":" + os.environ["PATH"]

def spoken():
	out = []
	for f in sorted(glob.glob(os.path.join(spy, "say.*"))):
		if f.endswith(".argv") or not os.path.exists(f + ".argv"):	# written last
			continue
		with open(f, encoding="utf-8") as g, open(f + ".argv") as a:
			t, argv = g.read(), a.read().split()
		if argv:
			out.append((t, argv[-1]))
	return out

def until(cond, timeout=20):
	end = time.monotonic() + timeout
	while not cond():
		if time.monotonic() > end:
			return False
		time.sleep(0.05)
	return True

s = Serve(os.environ["BB_FORM"], scratch, os.path.join(scratch, "screens"),
    os.environ["SERVICES"])
b = Browser(size=(1080, 1920))

def receipt(case, *extra):
	old = b.d.execute_script("var m = document.getElementById('bb-screen');"
	    "return m ? m.dataset.version : null")
	r = subprocess.run([s.bb_form, "receipt", case, "--screen", s.sock] + list(extra),
	    env=s.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	s.wait_page(b, lambda m: m[0] == "receipt" and m[1] != old)
	return r

try:
	b.open(s.url)
	s.wait_page(b, lambda m: m[0] == "welcome")
	WANT = {"de": ("Ihre Quittung", "bei der Behörde angekommen"),
	    "en": ("Your receipt", "has reached the authority"),
	    "ar": ("إيصالك", "وصل طلبك إلى الجهة المختصة")}
	TITLE = {"de": "Wohnsitz anmelden", "en": "Register your address", "ar": "تسجيل السكن"}
	for lang in ("de", "en", "ar"):
		if lang != "de":
			s.lang(b, lang)
		pdf = os.path.join(scratch, "browser-%s.pdf" % lang)
		r = receipt("sent.json", "--pdf", pdf)
		ok(r.returncode == 0, "%s: receipt exits 0" % lang, r.stderr)
		png = os.path.join(shots, "receipt-%s.png" % lang)
		b.screenshot(png)
		ok(zbar(png) == SENT, "%s: the QR code on the screen holds the reference" % lang,
		    zbar(png))
		html = b.d.page_source
		ok(WANT[lang][0] in html and WANT[lang][1] in html,
		    "%s: the page is in the person's language" % lang)
		label = b.d.execute_script("var q = document.querySelector('svg.bb-qr');"
		    "return q && q.getAttribute('role') === 'img' ? q.getAttribute('aria-label') : null")
		ok(label is not None and SENT in label,
		    "%s: the QR code's text alternative says the reference" % lang, label)
		dds = b.d.execute_script("return [...document.querySelectorAll('dl.bb-receipt dd')]"
		    ".map(e => e.textContent)")
		ok("0B6C-1D2E" in dds and SENT.split()[1] in dds,
		    "%s: the reference and the authority's id are text on the page" % lang, dds)
		# The service in the person's language, and beside a translation its German
		# name, marked German, for the counter and the authority's letters.
		de = b.d.execute_script("return [...document.querySelectorAll("
		    "'dl.bb-receipt dd[lang=\"de\"]')].map(e => e.textContent)")
		ok(TITLE[lang] in dds and (de == [] if lang == "de" else de == ["Wohnsitz anmelden"]),
		    "%s: the service's title%s" % (lang, "" if lang == "de" else
		    ", the German name beside it"), (dds, de))
		hits = [p for p in PERSONAL if p in html]
		ok(not hits, "%s: the page holds nothing of the person" % lang, hits)
		v = b.axe()
		ok(not v, "%s: axe-core: no WCAG 2.1 A/AA violation" % lang,
		    ["%s %s" % (x["id"], x["nodes"][0]["target"]) for x in v])
		ok(qr_pdf(pdf) == SENT, "%s: the PDF's QR code holds the reference" % lang)
		txt = subprocess.run(["pdftotext", pdf, "-"], stdout=subprocess.PIPE).stdout.decode()
		# Poppler gives Arabic as shaped presentation forms: NFKC makes them letters.
		norm = unicodedata.normalize("NFKC", txt)
		ok(WANT[lang][0] in norm or WANT[lang][0][::-1] in norm,
		    "%s: the PDF is in the person's language" % lang, norm[:200])
		ok((TITLE[lang] in norm or TITLE[lang][::-1] in norm) and
		    norm.count("Wohnsitz anmelden") == 1,
		    "%s: the PDF names the service%s" % (lang, "" if lang == "de" else
		    ", and in German beside"), norm[:300])
		hits = [p for p in PERSONAL if p in txt]
		ok(not hits, "%s: the PDF holds nothing of the person" % lang, hits)

	# Speech (5.1.3.16: the receipt's information spoken): every label and value, what
	# happens next and the QR code's description, the German name in a German voice.
	s.setting(b, "speech", "on", lambda m: True)
	until(lambda: b.d.execute_script("return document.documentElement.dataset.speech") == "on")
	for f in glob.glob(os.path.join(spy, "say.*")):
		os.unlink(f)
	r = receipt("sent.json")
	want = [("الخدمة", "ar"), ("تسجيل السكن", "ar"), ("Wohnsitz anmelden", "de"), ("التاريخ", "ar"),
	    ("2026-11-30 11:00", "ar"), ("0B6C-1D2E", "ar"), (SENT.split()[1], "ar"),
	    ("وصل طلبك إلى الجهة المختصة، وستتواصل معك.", "ar")]
	ok(until(lambda: all(w in spoken() for w in want) and
	    any(SENT in t for t, _ in spoken())),
	    "speech: the receipt's labels, values, next step and QR code are spoken", spoken())
	s.setting(b, "speech", "off", lambda m: True)

	s.contrast(b, "high")
	b.screenshot(os.path.join(shots, "receipt-ar-high.png"))
	ok(zbar(os.path.join(shots, "receipt-ar-high.png")) == SENT,
	    "high contrast: the QR code still scans (dark on white)")
	v = b.axe()
	ok(not v, "high contrast: axe-core: no violation",
	    ["%s %s" % (x["id"], x["nodes"][0]["target"]) for x in v])
	s.contrast(b, "normal")
	s.lang(b, "en")

	r = receipt("queued.json")
	png = os.path.join(shots, "receipt-queued-en.png")
	b.screenshot(png)
	ok(zbar(png) == QUEUED, "queued: the QR code holds the short reference", zbar(png))
	ok("will be sent as soon as the connection" in b.d.page_source,
	    "queued: the page says it will be sent")

	# The tap: receipt --until tap prints the button's value, as tell does.
	old = b.d.execute_script("return document.getElementById('bb-screen').dataset.version")
	p = subprocess.Popen([s.bb_form, "receipt", "sent.json", "--screen", s.sock, "--until",
	    "tap"], env=s.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE)
	s.wait_page(b, lambda m: m[0] == "receipt" and m[1] != old)
	b.click("#bb-screen button[name=choice][value=done]")
	out, err = p.communicate(timeout=15)
	ok(p.returncode == 0 and out == b"done\n", "a tap on done: receipt prints done, exits 0",
	    (p.returncode, out, err))

	# A tap while the receipt is being printed (an lp that takes 3 s) counts: the
	# receipt shows, prints, then waits, and the tap came in between.
	slow = os.path.join(scratch, "slowbin")
	os.makedirs(slow, exist_ok=True)
	with open(os.path.join(slow, "lp"), "w") as f:
		f.write("#!/bin/sh\ncat > /dev/null\nsleep 3\n")
	os.chmod(os.path.join(slow, "lp"), 0o755)
	cfg = os.path.join(scratch, "slow.yaml")
	with open(cfg, "w") as f:
		f.write("form:\n  screens: %s\n  services: %s\n  printer: slow\n" %
		    (os.path.join(scratch, "screens"), os.environ["SERVICES"]))
	old = b.d.execute_script("return document.getElementById('bb-screen').dataset.version")
	env = dict(s.env, BB_CONFIG=cfg, PATH=slow + ":" + os.environ["PATH"])
	t0 = time.monotonic()
	p = subprocess.Popen([s.bb_form, "receipt", "sent.json", "--screen", s.sock, "--until",
	    "tap"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE)
	s.wait_page(b, lambda m: m[0] == "receipt" and m[1] != old)
	b.click("#bb-screen button[name=choice][value=done]")
	tapped = time.monotonic() - t0
	try:
		out, err = p.communicate(timeout=15)
	except subprocess.TimeoutExpired:	# the tap was lost
		p.kill()
		out, err = p.communicate()
	ok(p.returncode == 0 and out == b"done\n" and tapped < 2.5,
	    "a tap while it prints (%.1f s into a 3 s print) counts" % tapped,
	    (p.returncode, out, err))
	s.stop()
	with open(os.path.join(scratch, "serve.log")) as f:
		log = f.read()
	hits = [p for p in PERSONAL if p in log]
	ok(not hits, "the server's log holds nothing of the person", hits)
finally:
	if s.p.poll() is None:
		s.p.kill()
	b.close()
PY
SENT_REF=$SENT_REF QUEUED_REF=$QUEUED_REF PERSONAL=$PERSONAL SERVICES=$SERVICES \
	"$BROWSER_PYTHON" drive.py "${BB_SHOTS:-$scratch/shots}" > results 2> drive.err
rc=$?
while read -r st desc; do
	case $st in
	'#') echo "$st $desc" ;;
	*) ok "$st" "$desc" ;;
	esac
done < results
[ -s drive.err ] && diag drive.err
ok "$rc" "the browser run ended cleanly"
else
	echo "# SKIP the browser part: no chromium or python3-selenium"
fi

done_testing
