#!/bin/sh
# bb-capture as a kiosk script runs it: the signature from a recording of a pad through the
# same decoder as a device, the photo from image files through the same code as camera
# frames, devices, and every kind of bad input with its one-line error and exit status.
. "${0%/*}/lib.sh"
BB_CAPTURE=${BB_CAPTURE:-$BB_BIN/bb-capture}
DATA=$BB_TOP/tests/data
ASTRONAUT=/usr/lib/python3/dist-packages/skimage/data/astronaut.png
PORTRAITS=$BB_TOP/../shared/testdata/portraits

# mirror_start DIR INPUT...: photo --check-only --mirror DIR on the INPUTs, then on a FIFO
# nobody writes, where it waits with the mirror of the last frame in DIR; its pid in $pid.
# The terminating signals are reset: a script's background job starts with SIGINT and
# SIGQUIT ignored, and bb-capture leaves an ignored signal ignored.
mirror_start() {
	_d=$1
	shift
	rm -f "$_d.fifo"
	mkfifo "$_d.fifo"
	env --default-signal=HUP,INT,QUIT,TERM "$BB_CAPTURE" photo --check-only --mirror "$_d" \
	    "$@" --input "$_d.fifo" > /dev/null 2> "$_d.err" &
	pid=$!
	_i=0
	while [ ! -e "$_d/guidance.json" ] && [ $_i -lt 600 ] && kill -0 $pid 2> /dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
# mirror_gone DIR DESCRIPTION: neither file of the mirror, nor a temporary one, is left.
mirror_gone() {
	check "$2" test -z "$(ls -A "$1")"
	[ -z "$(ls -A "$1")" ] || ls -lA "$1" | diag
}

# ---- signature ----
expect_code 0 "a signature from a tablet recording" \
	"$BB_CAPTURE" signature --new --replay "$DATA/signature-tablet.evemu"
cp out sig.json
check "adds the rendering and the strokes" \
	jq -e '[.attachments[] | .name] == ["signature", "signature-strokes"]' sig.json
check "as PNG and JSON" \
	jq -e '.attachments[0].type == "image/png" and .attachments[1].type == "application/json"' sig.json
jq -r '.attachments[0].data' sig.json | base64 -d > sig.png
check "the PNG is a PNG" test "$(head -c 8 sig.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a
check "the case says how many strokes and points" \
	jq -e '.capture.signature | .strokes == 3 and .points > 100 and .dpi == 300' sig.json
jq -r '.attachments[1].data' sig.json | base64 -d > strokes.json
check "the strokes carry x, y, t and pressure per point" \
	jq -e '(.channels | index("x")) != null and (.strokes | length) == 3 and (.strokes[0][0] | has("t") and has("f"))' strokes.json
expect_code 0 "the case passes on: bb-queue's reader checks it, hashes too" \
	"$BB_BIN/bb-queue" -d spool add sig.json
"$BB_CAPTURE" signature --replay "$DATA/signature-touch.evemu" sig.json > sig2.json 2> err
ok "$?" "a touchscreen recording into the same case"
check "replaces the signature, keeps the case" \
	jq -e --slurpfile a sig.json '.id == $a[0].id and ([.attachments[] | select(.name == "signature")] | length) == 1' sig2.json
expect_code 4 "a dot is not a signature" "$BB_CAPTURE" signature --new --replay "$DATA/signature-dot.evemu"
check_grep "and says why" "single dot" err
check_same "no case" /dev/null out
printf '# EVEMU 1.3\nA: 00 0 100 0 0 0\nA: 01 0 100 0 0 0\nE: 0.0 0003 0000 12 junk\n' > bad.evemu
expect_code 65 "a malformed recording" "$BB_CAPTURE" signature --new --replay bad.evemu
check_grep "names file and line" "bad.evemu:4" err
head -c 3000 "$DATA/signature-tablet.evemu" > cut.evemu
must_fail "a truncated recording is refused or too short" "$BB_CAPTURE" signature --new --replay cut.evemu
check "with 65 or 4 ($rc)" eval 'test "$rc" -eq 65 || test "$rc" -eq 4'
expect_code 66 "a missing recording" "$BB_CAPTURE" signature --new --replay nosuch.evemu
expect_code 69 "a pad that is not there" "$BB_CAPTURE" signature --new --device /dev/input/event999
expect_code 69 "a device that is not a pad" "$BB_CAPTURE" signature --new --device /dev/null

# ---- devices ----
expect_code 0 "devices lists cameras and pads" "$BB_CAPTURE" devices --format json
check "as JSON" jq -e '(.cameras | type) == "array" and (.pads | type) == "array"' out

# ---- photo: bad input ----
printf 'not an image' > junk.png
expect_code 65 "garbage is not an image" "$BB_CAPTURE" photo --check-only --input junk.png
check_grep "one line naming it" "junk.png" err
check "one line" test "$(wc -l < err)" -eq 1
: > empty.jpg
expect_code 65 "an empty file" "$BB_CAPTURE" photo --check-only --input empty.jpg
if [ -f "$ASTRONAUT" ]; then
	head -c 20000 "$ASTRONAUT" > cut.png
	expect_code 65 "a truncated PNG" "$BB_CAPTURE" photo --check-only --input cut.png
fi
# A PNG header declaring 100000 x 100000 pixels: refused before anything is decoded.
/usr/bin/python3 - <<'EOF'
import struct, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
open("bomb.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
    chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
EOF
expect_code 65 "a decompression bomb" "$BB_CAPTURE" photo --check-only --input bomb.png
check_grep "refused for its size" "pixels" err
printf 'P6\n0 10\n255\n' > zero.ppm
expect_code 65 "a zero-width PPM" "$BB_CAPTURE" photo --check-only --input zero.ppm
expect_code 66 "a missing image" "$BB_CAPTURE" photo --check-only --input nosuch.jpg
expect_code 69 "no camera" "$BB_CAPTURE" photo --check-only --device /dev/video99
expect_code 64 "--device and --input exclude each other" "$BB_CAPTURE" photo --device /dev/video0 --input x.png
expect_code 64 "standard input once" "$BB_CAPTURE" photo --check-only --input - --input -
expect_code 64 "--check-only writes no case" "$BB_CAPTURE" photo --check-only --new --input junk.png
printf 'capture:\n  dpi: 20\n' > baddpi.yaml
BB_CONFIG=baddpi.yaml "$BB_CAPTURE" signature --new --replay "$DATA/signature-tablet.evemu" > out 2> err
check "a bad capture.dpi is 78 before anyone signs" test "$?" -eq 78
# A frame taller than a JPEG may be: refused as input, not an internal error.
printf 'P5\n1 70000\n255\n' > tall.pgm
head -c 70000 /dev/zero >> tall.pgm
mkdir tallmirror
"$BB_CAPTURE" photo --check-only --mirror tallmirror --input tall.pgm > out 2> err
check "a 1 x 70000 frame: 65, no internal error" test "$?" -eq 65
printf 'P5\n64 64\n255\n' > flat.pgm
head -c 4096 /dev/zero >> flat.pgm
# The mirror is replaced by rename: a symbolic link planted as mirror.jpg is replaced,
# its target left alone.
mkdir linkmirror
echo precious > victim
ln -s ../victim linkmirror/mirror.jpg
mirror_start linkmirror --input flat.pgm
check_grep "the link's target is untouched" "^precious$" victim
check "the link is replaced by the file" \
	eval 'test -f linkmirror/mirror.jpg && ! test -L linkmirror/mirror.jpg'
check "mode 0640, for the screen's group" test "$(stat -c %a linkmirror/mirror.jpg)" = 640
check "no temporary files left" \
	test -z "$(ls linkmirror | grep -v -e '^mirror.jpg$' -e '^guidance.json$')"
kill -TERM $pid
{ wait $pid; } 2> /dev/null
# The mirror shows a face: it goes when bb-capture goes, by a signal too (which still
# ends it: the status says so).
for sig in HUP:1 INT:2 QUIT:3 TERM:15; do
	mkdir "sig${sig%:*}"
	mirror_start "sig${sig%:*}" --input flat.pgm --input flat.pgm
	check "SIG${sig%:*}: the mirror is there while bb-capture runs" \
		eval 'test -s "sig${sig%:*}/mirror.jpg" && jq -e ".frame == 2" "sig${sig%:*}/guidance.json"'
	kill -s "${sig%:*}" $pid
	{ wait $pid; } 2> /dev/null
	check "SIG${sig%:*} ends bb-capture" test "$?" -eq $((128 + ${sig#*:}))
	mirror_gone "sig${sig%:*}" "SIG${sig%:*}: and the mirror with it"
done
mkdir endmirror
expect_code 4 "--mirror, a frame that does not meet the rules" \
	"$BB_CAPTURE" photo --check-only --mirror endmirror --input flat.pgm
mirror_gone endmirror "the mirror is gone at the end"
expect_code 65 "--mirror, a frame and then garbage" \
	"$BB_CAPTURE" photo --check-only --mirror endmirror --input flat.pgm --input junk.png
mirror_gone endmirror "the mirror is gone after an error"
expect_code 73 "--mirror into a directory that is not there: before any frame" \
	"$BB_CAPTURE" photo --check-only --mirror nosuchdir --input flat.pgm
check_grep "and says which" "nosuchdir" err
# A zigzag between the pad's corners renders like any signature.
/usr/bin/python3 - <<'EOF'
l = ["# EVEMU 1.3", "N: zig", "I: 0003 056a 0000 0001", "A: 00 0 21600 0 0 100",
     "A: 01 0 13500 0 0 100", "A: 18 0 1023 0 0 0"]
t = 0.0
def ev(ty, co, v):
    l.append("E: %d.%06d %04x %04x %d" % (int(t), int(t % 1 * 1e6), ty, co, v))
ev(1, 0x14a, 1); ev(3, 0x18, 500)
for i in range(400):
    ev(3, 0, 0 if i % 2 == 0 else 21600); ev(3, 1, 0 if i // 2 % 2 == 0 else 13500); ev(0, 0, 0)
    t += 0.005
ev(1, 0x14a, 0); ev(3, 0x18, 0); ev(0, 0, 0)
open("zig.evemu", "w").write("\n".join(l) + "\n")
EOF
expect_code 0 "a zigzag across the whole pad renders" "$BB_CAPTURE" signature --new --replay zig.evemu

# ---- photo: real faces, none compliant ----
if [ -f "$ASTRONAUT" ]; then
	expect_code 4 "the astronaut is no passport photo" "$BB_CAPTURE" photo --check-only --input "$ASTRONAUT"
	cp out astro.json
	check "one face found" jq -e '.faces == 1' astro.json
	check "every measure with its result" \
		jq -e '[.. | objects | select(has("pass") and has("mandatory"))] | length >= 10' astro.json
	"$BB_CAPTURE" photo --new --input "$ASTRONAUT" > out 2> err
	check "without --check-only: 4" test "$?" -eq 4
	check_same "and no case" /dev/null out
	check "one line of hints on stderr" test "$(wc -l < err)" -eq 1
	mkdir mirror
	mirror_start mirror --input "$ASTRONAUT"
	check "--mirror writes the frame and the guidance" \
		eval 'test -s mirror/mirror.jpg && jq -e ".frame == 1 and .faces == 1" mirror/guidance.json'
	kill $pid
	{ wait $pid; } 2> /dev/null
fi
if [ -f "$PORTRAITS/official-portrait-2.jpg" ]; then
	expect_code 4 "a full-body picture is too far away" "$BB_CAPTURE" photo --check-only \
		--input "$PORTRAITS/official-portrait-2.jpg"
	check "and says: come closer" \
		jq -e '[.. | objects | select(has("hint_en")) | .hint_en] | any(. != null and test("closer"))' out
fi

# ---- photo: composed fixtures (the astronaut's head on uniform grey) ----
COMPOSE=$BB_BIN/rig/compose-photo
if "$COMPOSE" compliant ok.ppm 2> /dev/null; then
	expect_code 0 "a compliant photo passes --check-only" "$BB_CAPTURE" photo --check-only --input ok.ppm
	check "compliant, one face" jq -e '.compliant == true and .faces == 1' out
	mkdir okmirror
	expect_code 0 "photo adds it to the case" "$BB_CAPTURE" photo --new --mirror okmirror --input ok.ppm
	cp out photo.json
	mirror_gone okmirror "the mirror is gone when the case is written"
	check "as attachment photo, image/jpeg" \
		jq -e '[.attachments[] | select(.name == "photo" and .type == "image/jpeg")] | length == 1' photo.json
	jq -r '.attachments[] | select(.name == "photo") | .data' photo.json | base64 -d > photo.jpg
	/usr/bin/python3 -c 'import cv2,sys; im=cv2.imread(sys.argv[1]); print(im.shape[1], im.shape[0])' photo.jpg > size
	check_grep "cropped to 1244 x 1600" "^1244 1600$" size
	check "the measurements go into capture.photo" \
		jq -e '.capture.photo | .compliant == true and .profile == "live" and .frames == 1' photo.json
	expect_code 0 "the scan profile" "$BB_CAPTURE" photo --new --profile scan --input ok.ppm
	jq -r '.attachments[] | select(.name == "photo") | .data' out | base64 -d > scan.jpg
	/usr/bin/python3 -c 'import cv2,sys; im=cv2.imread(sys.argv[1]); print(im.shape[1], im.shape[0])' scan.jpg > size
	check_grep "cropped to 622 x 800" "^622 800$" size
	"$BB_CAPTURE" photo --check-only --input ok.ppm --input ok.ppm > /dev/null 2>&1
	ok "$?" "several --input frames"
	for kind in small:closer left:left right:right tilted:straight two:several dark:light blurred:still; do
		k=${kind%%:*} hint=${kind#*:}
		"$COMPOSE" "$k" "$k.ppm"
		expect_code 4 "$k is refused" "$BB_CAPTURE" photo --check-only --input "$k.ppm"
		check "$k: the hint says '$hint'" \
			jq -e --arg h "$hint" '[.. | objects | select(has("hint_en")) | .hint_en // empty] | any(ascii_downcase | test($h))' out
	done
	"$COMPOSE" blank blank.ppm
	expect_code 4 "no face" "$BB_CAPTURE" photo --check-only --input blank.ppm
	check "counts no face" jq -e '.faces == 0' out
	# The best capture of a stream of frames: the compliant one, wherever it stands.
	"$COMPOSE" --stream small,left,compliant,right stream.ppm
	expect_code 0 "a stream of frames: the best is taken" "$BB_CAPTURE" photo --new --input stream.ppm
	check "and a compliant frame ends the search (frame 3 of 4)" \
		jq -e '.capture.photo | .compliant == true and .frames == 3' out
	expect_code 4 "--tries 2 stops before it" "$BB_CAPTURE" photo --new --tries 2 --input stream.ppm
	"$COMPOSE" --stream small,left stream2.ppm
	expect_code 4 "no compliant frame in the stream" "$BB_CAPTURE" photo --check-only --input stream2.ppm
	check "after every frame was tried" jq -e '.frames == 2' out
	cat ok.ppm | "$BB_CAPTURE" photo --check-only --input - > /dev/null 2>&1
	ok "$?" "frames from a pipe"
	# Privacy: the photo goes nowhere but the case.
	check_nogrep "nothing about the face on stderr" "." err
else
	ok 0 "# SKIP python3-skimage's astronaut.png is not installed"
fi

done_testing
