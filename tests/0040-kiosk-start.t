#!/bin/sh
# scripts/kiosk/start (make kiosk): refuses clearly what it cannot do, runs headless when
# there is no display, starts the rig, the screen, the browser and the session loop with
# what the session needs, ends with the session's status, and on SIGTERM takes everything
# it started with it. A stand-in session loop and Chromium here: the real ones have tests
# of their own (0030-units.t loads the kiosk page in headless Chromium).
. "${0%/*}/lib.sh"

START=$BB_TOP/scripts/kiosk/start
unset DISPLAY WAYLAND_DISPLAY
TMPDIR=$scratch/tmp
# The test authority's PKI made once in the build directory (make-pki is idempotent and
# flock-safe), as the eID PKI is.
AUTH_PKI=$BB_BIN/auth-pki
export TMPDIR AUTH_PKI
mkdir -p "$TMPDIR"

# A session loop that writes down what it found, then ends with 4 (--once) or waits.
cat > session <<'EOF'
#!/bin/sh
{
	echo "args: $*"
	echo "bb-form: $(command -v bb-form)"
	echo "config: $BB_CONFIG"
	grep -q '^  services: .*/scripts/services$' "$BB_CONFIG" && echo "services: yes"
	grep -q '^  spool: ' "$BB_CONFIG" && echo "spool: yes"
	test -S "$XDG_RUNTIME_DIR/bb/screen" && echo "socket: yes"
	test -S "$PCSCLITE_CSOCK_NAME" && echo "pcscd: yes"
	echo "kiosk: $BB_KIOSK"
} > "$OUT.tmp" 2>&1
mv "$OUT.tmp" "$OUT"
case "$*" in *--once*) exit 4 ;; esac
exec sleep 300
EOF
cat > chromium <<'EOF'
#!/bin/sh
printf '%s\n' "$@" > "$OUT.chromium"
exec sleep 300
EOF
chmod +x session chromium
OUT=$scratch/session.out
BB_CHROMIUM=$scratch/chromium
export OUT BB_CHROMIUM

# leftovers: processes or directories of a start that ended.
leftovers() {
	ps -eo args | grep -F "$TMPDIR/bb-kiosk." | grep -v grep
	ls -d "$TMPDIR"/bb-kiosk.* 2> /dev/null
}

expect_code 64 "an unknown option is a usage error" "$START" --fullscreen
expect_code 69 "no session loop: 69" env BB_KIOSK_SESSION=$scratch/nosuch "$START" --once
check_grep "saying which" 'nosuch: no session loop there' err
check "and nothing was started or made" test -z "$(leftovers)"
expect_code 69 "--window without a display: 69" env BB_KIOSK_SESSION=$scratch/session "$START" --window
check_grep "saying why" 'needs a display' err

# One session, headless since there is no display.
expect_code 4 "start --once ends with the session loop's status" \
	env BB_KIOSK_SESSION=$scratch/session "$START" --once
check_grep "it says it runs headless without a display" 'no display.*headless' err
for l in "args: --once" "bb-form: $BB_BIN/bb-form" "services: yes" "spool: yes" "socket: yes" \
    "pcscd: yes" "kiosk: $BB_TOP/scripts/kiosk"; do
	check "the session loop found $l" grep -qxF "$l" session.out
done
[ -f session.out ] || diag err
check "Chromium ran headless, with no URL in its arguments" \
	eval 'grep -qx -- --headless session.out.chromium && ! grep -q "token" session.out.chromium'
sleep 0.5
check "nothing left running, the scratch directory gone" test -z "$(leftovers)"
leftovers | diag

# The loop until SIGTERM; --no-browser prints the one-use URL instead.
rm -f session.out session.out.chromium
BB_KIOSK_SESSION=$scratch/session "$START" --no-browser > start.out 2> start.err &
pid=$!
i=0
while [ ! -f session.out ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "the session loop runs, without --once" grep -qx 'args: ' session.out
check "--no-browser: the URL on standard output, no browser" \
	eval 'grep -Eqx "http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]{64}" start.out && test ! -e session.out.chromium'
kill -TERM $pid
i=0
while kill -0 $pid 2> /dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
wait $pid
r=$?
check "SIGTERM ends start (exit $r)" test $r -eq 143
sleep 0.5
check "and everything it started: pcscd, card, authority, screen, session" test -z "$(leftovers)"
leftovers | diag
diag start.err

done_testing
