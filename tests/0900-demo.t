#!/bin/sh
# make demo (scripts/demo) end to end: a whole kiosk session in headless Chromium, from the
# welcome screen to the receipt, the case accepted by the test authority, the session
# wiped; a screenshot of every screen. And the PIN goes to bb-eid through pipes, never
# into a file: strace shows every write and where it went.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
. "$BB_TOP/tests/rig/browser.sh"

browser_or_skip
if ! command -v strace > /dev/null || ! command -v pcscd > /dev/null ||
    [ ! -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || ! command -v unshare > /dev/null ||
    ! command -v openssl > /dev/null || ! command -v cvc-create > /dev/null ||
    ! command -v curl > /dev/null || ! /usr/bin/python3 -c 'import jwcrypto' 2> /dev/null; then
	echo "1..0 # SKIP needs strace, pcscd, vsmartcard-vpcd, unshare, openpace, openssl, curl and python3-jwcrypto"
	exit 0
fi
if ! _pcsc_can_unshare; then
	echo "1..0 # SKIP pcscd needs a private /run/pcscd: unshare -m is not allowed here"
	exit 0
fi
if [ ! -x "$CARDSIM" ]; then
	echo "1..0 # SKIP no $CARDSIM (make rigs)"
	exit 0
fi

# TMPDIR: the demo's work directory and its authority's PKI go to the scratch directory.
# LeakSanitizer cannot run under ptrace (make check SANITIZE=1): no leak check here.
# --seccomp-bpf: only the writes stop the traced processes (Chromium among them).
ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 TMPDIR=$scratch BB_DEMO_SHOTS=$scratch/shots \
	strace -f --seccomp-bpf -qq -y -s 32 -e trace=write,pwrite64,writev -o trace \
	sh "$BB_TOP/scripts/demo" > out 2> err
ok $? "the demo runs"
# card-place, camera and sign may pass faster than the person looks: the card lies on the
# reader already, the photo comes from a file and the pad's signature from a recording
# (a loaded machine's person and one under ASan missed them); that the flow took the
# photo and the signature is checked in its steps below.
for s in welcome pin ask receipt; do
	check_grep "the screen shows $s" "the screen shows: $s\$" err
done
check_grep "the session starts from the welcome screen" "session: start service=wohnsitz-anmelden" err
tr '\n' ' ' < err > err1
check_grep "the flow reads the card, asks, takes the photo and signature and submits" \
	"step=card.*step=pin.*step=read.*step=ask.*step=photo.*step=signature.*step=submit.*step=receipt" \
	err1
check_grep "the session ends completed" "outcome=completed status=0" err
check_grep "and the welcome screen is back" "the screen shows: welcome (the session is over)" err
check_grep "the authority accepts the case" "accepted by the authority" err
check_grep "the wipe is checked" "wipe checked" err
n=$(grep -c 'the screen shows: [a-z-]*$' err)
check "at least ten screens shown ($n)" test "$n" -ge 10
check "a screenshot of every screen shown" test "$(ls shots | grep -c '\.png$')" -eq "$n"
check_grep "the demo names the folder" "screenshots of every screen: $scratch/shots" err
cat out err > all
check_nogrep "the demo prints nothing of the person" 'MUSTERMANN\|ERIKA\|1964' all
check_grep "the trace sees the PIN written" '"123456\\n"' trace
# strace pads the PID: "9108  write(1<pipe:[260751]>, "123456\n", 7) = 7".
grep '"123456' trace | grep -v '^[0-9][0-9]*  *write([0-9][0-9]*<pipe:\[[0-9]*\]>, ' \
	> to-files
check_same "the PIN is written to pipes and nothing else" /dev/null to-files
done_testing
