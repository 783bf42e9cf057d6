#!/bin/sh
# lib/capture/haar against OpenCV 4.6 (Debian's python3-opencv) through the rig's detect
# and tests/rig/face-ref.py, on the same grey pixels (the reference writes the PGM it
# detects on): the pyramid's shrink is OpenCV's bit for bit; on astronaut.png (scikit-
# image), the two official portraits and the 1080p video frame in ../shared (and that
# frame shrunk to the mirror's width 480) the face count is OpenCV's and every OpenCV face
# has one of ours with IoU >= 0.8, and the same for the eyes in the largest face; the raw
# hits before grouping are the same too; and the same when libbb decodes the file. Also the time per detection, ours and OpenCV's
# (reported, not asserted: the machine may be busy).
. "${0%/*}/lib.sh"

PY=/usr/bin/python3
REF="$PY $BB_TOP/tests/rig/face-ref.py"
DETECT=$BB_BIN/rig/detect
HAAR=/usr/share/opencv4/haarcascades
PORTRAITS=$BB_TOP/../shared/testdata/portraits
ASTRONAUT=/usr/lib/python3/dist-packages/skimage/data/astronaut.png

if ! "$PY" -c 'import cv2' 2>/dev/null || [ ! -r "$HAAR/haarcascade_frontalface_default.xml" ] ||
    [ ! -r "$HAAR/haarcascade_eye.xml" ]; then
	echo "1..0 # SKIP needs $PY with cv2 (python3-opencv) and opencv-data's cascades"
	exit 0
fi

# compare NAME PGM [OPTIONS...]: ours and OpenCV's faces and eyes match.
compare() {
	_name=$1 _pgm=$2
	shift 2
	if ! "$DETECT" "$@" "$_pgm" > "$_name.ours.json" 2> err; then
		ok 1 "$_name: detect runs"
		diag err
		return
	fi
	if ! $REF detect "$@" "$_pgm" > "$_name.ref.json" 2> err; then
		ok 1 "$_name: face-ref.py runs"
		diag err
		return
	fi
	$REF compare "$_name.ours.json" "$_name.ref.json" > cmp.out 2>&1
	_rc=$?
	cat cmp.out
	ok $_rc "$_name: faces and eyes as OpenCV's ($(jq -c '.faces | length' \
	    "$_name.ref.json") faces, $(jq -c '.eyes | length' "$_name.ref.json") eyes)"
}

# same_hits NAME PGM [OPTIONS...]: the ungrouped hits (min-neighbors 0) are the same
# multiset, the strongest check that the evaluation is OpenCV's.
same_hits() {
	_name=$1 _pgm=$2
	shift 2
	"$DETECT" --no-eyes --min-neighbors 0 "$@" "$_pgm" > hits.ours 2> err &&
	    $REF detect --no-eyes --min-neighbors 0 "$@" "$_pgm" > hits.ref 2>> err
	if [ $? -ne 0 ]; then
		ok 1 "$_name: raw hits"
		diag err
		return
	fi
	jq -c '.faces | sort' hits.ours > hits.ours.s
	jq -c '.faces | sort' hits.ref > hits.ref.s
	check_same "$_name: raw hits $* ($(jq length hits.ref.s)) as OpenCV's" hits.ref.s \
	    hits.ours.s
}

images=
if [ -r "$ASTRONAUT" ]; then
	$REF grey "$ASTRONAUT" astronaut.pgm 2> /dev/null
	images="astronaut"
else
	echo "# $ASTRONAUT missing (python3-skimage): skipped"
fi
for p in official-portrait-1 official-portrait-2 video-frame-1080p; do
	if [ -r "$PORTRAITS/$p.jpg" ]; then
		$REF grey "$PORTRAITS/$p.jpg" "$p.pgm"
		images="$images $p"
	else
		echo "# $PORTRAITS/$p.jpg missing: skipped"
	fi
done
if [ -r "$PORTRAITS/video-frame-1080p.jpg" ]; then
	$REF grey "$PORTRAITS/video-frame-1080p.jpg" frame-480.pgm --width 480
	images="$images frame-480"
fi

# The pyramid: every level of a 1.1 pyramid of the first image, odd sizes, exactly half
# (OpenCV's 2x2 mean), one row, one column.
first=${images%% *}
first=${first# }
if [ -n "$first" ]; then
	w=$(sed -n 2p "$first.pgm" | cut -d' ' -f1)
	h=$(sed -n 2p "$first.pgm" | cut -d' ' -f2)
	sizes=$("$PY" -c "
w, h = $w, $h
f = 1.0
while 24 * f <= min(w, h):
    print('%dx%d' % (round(w / f), round(h / f)))
    f *= 1.1
print('%dx%d %dx%d %dx1 1x%d 1x1 %dx%d' % (w // 2, h // 2, w - 1, h - 3, w, h, w // 3 + 1, h // 7 + 2))
")
	args=
	for s in $sizes; do
		args="$args $s ref-$s.pgm"
	done
	$REF resize "$first.pgm" $args
	bad=
	for s in $sizes; do
		"$DETECT" --resize "$s" "$first.pgm" ours.pgm && cmp -s ours.pgm "ref-$s.pgm" ||
		    bad="$bad $s"
	done
	check "pyramid levels of $first are cv2.resize's (INTER_LINEAR_EXACT)${bad:+, not:$bad}" \
		[ -z "$bad" ]
fi

for i in $images; do
	compare "$i" "$i.pgm"
done
# The whole path bb-capture takes: the file decoded by bb_image_decode and made grey by
# bb_image_grey, against OpenCV's imread and cvtColor (the reference of compare above).
for i in $images; do
	case $i in
	astronaut) src=$ASTRONAUT ;;
	frame-480) continue ;;
	*) src=$PORTRAITS/$i.jpg ;;
	esac
	if "$DETECT" "$src" > "$i.direct.json" 2> err; then
		$REF compare "$i.direct.json" "$i.ref.json" > cmp.out 2>&1
		_rc=$?
		cat cmp.out
		ok $_rc "$i: decoded by libbb, as OpenCV's"
	else
		ok 1 "$i: detect decodes ${src##*/}"
		diag err
	fi
done
for i in $images; do
	same_hits "$i" "$i.pgm"
done
if [ -n "$first" ]; then
	same_hits "$first" "$first.pgm" --scale 1.05
	same_hits "$first" "$first.pgm" --scale 1.3 --min-size 40
	# Other stump cascades of opencv-data, with and without stage trees.
	for c in frontalface_alt frontalface_alt_tree profileface frontalcatface; do
		[ -r "$HAAR/haarcascade_$c.xml" ] &&
		    same_hits "$first" "$first.pgm" --cascade "$HAAR/haarcascade_$c.xml"
	done
	compare "$first-options" "$first.pgm" --scale 1.2 --min-neighbors 5 --min-size 30x40 \
	    --max-size 300
fi

# Errors: a missing image and a missing cascade are 66, a cascade with what we do not
# implement (tilted features, trees) 65 with the reason.
printf 'P5\n30 30\n255\n' > small.pgm
head -c 900 /dev/zero >> small.pgm
expect_code 66 "missing image: 66" "$DETECT" no-such.pgm
expect_code 66 "missing cascade: 66" "$DETECT" --cascade no-such.xml small.pgm
if [ -r "$HAAR/haarcascade_upperbody.xml" ]; then
	expect_code 65 "tilted features: 65" "$DETECT" \
	    --cascade "$HAAR/haarcascade_upperbody.xml" small.pgm
	check_grep "tilted: the reason" "tilted features" err
fi
if [ -r "$HAAR/haarcascade_frontalface_alt2.xml" ]; then
	expect_code 65 "trees: 65" "$DETECT" --cascade "$HAAR/haarcascade_frontalface_alt2.xml" \
	    small.pgm
	check_grep "trees: the reason" "trees are not supported" err
fi
expect_code 0 "a flat image: no faces" "$DETECT" small.pgm
check_grep "flat image: empty lists" '^{"faces":\[\],"eyes":\[\]}$' out

# Speed: the mirror detects on the 1080p frame shrunk to width 480.
if [ -r frame-480.pgm ]; then
	"$DETECT" --no-eyes --time 20 frame-480.pgm > t.ours 2> err
	$REF detect --no-eyes --time 20 frame-480.pgm > t.ref 2>> err
	$REF detect --no-eyes --time 20 --threads 1 frame-480.pgm > t.ref1 2>> err
	echo "# 480x270 frame, median (min) ms: bb_detect $(jq .ms t.ours) ($(jq .ms_min t.ours))," \
	    "OpenCV $(jq .ms t.ref) ($(jq .ms_min t.ref)), OpenCV 1 thread" \
	    "$(jq .ms t.ref1) ($(jq .ms_min t.ref1))"
	check "timed bb_detect on the 480 frame" jq -e '.ms > 0' t.ours
fi

done_testing
