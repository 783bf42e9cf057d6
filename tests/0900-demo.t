#!/bin/sh
# make demo (scripts/demo) end to end: the virtual ID card read, the case filled, delivered
# and accepted by the test authority. And the PIN goes to bb-eid through a pipe, never
# into a file: strace shows every write and where it went.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"

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
ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 TMPDIR=$scratch strace -f -qq -y -s 32 -e trace=write,pwrite64,writev -o trace \
	sh "$BB_TOP/scripts/demo" > out 2> err
ok $? "the demo runs"
check_grep "it reads the card" "ID card read: ERIKA MUSTERMANN" err
check_grep "and the authority accepts the case" "accepted by the authority" err
check_grep "the trace sees the PIN written" '"123456\\n"' trace
# strace pads the PID: "9108  write(1<pipe:[260751]>, "123456\n", 7) = 7".
grep '"123456\\n"' trace | grep -v '^[0-9][0-9]*  *write([0-9][0-9]*<pipe:\[[0-9]*\]>, ' \
	> to-files
check_same "the PIN is written to a pipe and nothing else" /dev/null to-files
done_testing
