# Sourced by TAP tests (after lib.sh) that drive a browser (tests/rig/browser.py):
#
#   browser_or_skip              prints "1..0 # SKIP reason" and exits when Chromium,
#                                chromedriver, python3-selenium or npm is missing; else
#                                installs axe-core (once per build directory) and returns;
#                                one failed test and exit when axe-core does not install
#   browser ARG...               browser.py ARG... (status in $rc, stdout in out, stderr in err)
#   static_start DIR [TOKEN]     serves DIR on 127.0.0.1 (tests/rig/static-server.py);
#                                sets STATIC_URL (http://127.0.0.1:PORT/) and STATIC_PID
#   png_size FILE                "WIDTHxHEIGHT" from a PNG's IHDR, nothing when it is none

BROWSER_RIG=${BROWSER_RIG:-${BB_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/rig}
BROWSER_PYTHON=${BROWSER_PYTHON:-/usr/bin/python3}	# Debian's selenium: not pyenv's python

browser_or_skip() {
	_why=
	[ -x "${BB_CHROMIUM:-/usr/bin/chromium}" ] || _why="$_why chromium"
	[ -x "${BB_CHROMEDRIVER:-/usr/bin/chromedriver}" ] || _why="$_why chromium-driver"
	"$BROWSER_PYTHON" -c 'import selenium' 2> /dev/null || _why="$_why python3-selenium"
	command -v npm > /dev/null || _why="$_why npm"
	if [ -n "$_why" ]; then
		echo "1..0 # SKIP missing:$_why (scripts/install-deps installs them)"
		exit 0
	fi
	# A failure, not a skip: the npm registry (or npm's cache) is part of the test
	# environment, and a skip would hide every screen test.
	if ! "$BROWSER_PYTHON" "$BROWSER_RIG/browser.py" --install-axe > /dev/null 2> axe.err; then
		echo "not ok 1 - axe-core installs (tests/rig/axe, npm ci)"
		diag axe.err
		echo "1..1"
		exit 1
	fi
}

browser() { run "$BROWSER_PYTHON" "$BROWSER_RIG/browser.py" "$@"; }

static_start() {
	rm -f "$scratch/static.port"
	"$BROWSER_PYTHON" "$BROWSER_RIG/static-server.py" "$1" "$scratch/static.port" \
		${2:+--token "$2"} --parent $$ < /dev/null > /dev/null 2> "$scratch/static.err" &
	STATIC_PID=$!
	_i=0
	while [ ! -s "$scratch/static.port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$STATIC_PID" 2> /dev/null; then
			echo "static_start: the server did not start" >&2
			sed 's/^/# /' "$scratch/static.err" >&2
			return 1
		fi
		sleep 0.1
	done
	STATIC_URL=http://127.0.0.1:$(cat "$scratch/static.port")/
}

png_size() {
	[ "$(od -An -tx1 -N16 "$1" | tr -d ' \n')" = 89504e470d0a1a0a0000000d49484452 ] || return 1
	echo "$(od -An -tu4 --endian=big -j16 -N4 "$1" | tr -d ' ')x$(od -An -tu4 --endian=big -j20 -N4 "$1" | tr -d ' ')"
}
