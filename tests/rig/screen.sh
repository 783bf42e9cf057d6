# Sourced by TAP tests (after lib.sh): the real screen server (bb-form serve), driven over
# its HTTP side with curl as the kiosk browser would post, for tests that need no Chromium.
#
#   screen_start DIR        serve with BB_CONFIG as it is, its control socket DIR/screen
#                           (DIR made 0700), log DIR/serve.log; takes the token's cookie;
#                           exports SCREEN_SOCK (also as BB_SCREEN), SCREEN_PORT, SCREEN_PID
#   screen_page             GET / into $SCREEN_DIR/page; sets screen_id and screen_v
#   screen_wait NAME [S]    until the page shows screen NAME in a version newer than the
#                           last one acted on (default 15 s); 1 when it did not come
#   screen_act BODY         POST /act "v=<version>&BODY" (e.g. choice=ok&f:pin=123456)
#   screen_stop             SIGTERM, wait
#
# The server is stopped at exit by screen_stop only: a test's EXIT trap calls it.

screen_start() {
	mkdir -p -m 700 "$1" || return 1
	SCREEN_DIR=$(cd "$1" && pwd)
	SCREEN_SOCK=$SCREEN_DIR/screen
	"$BB_FORM" -vv serve --control "$SCREEN_SOCK" > "$SCREEN_DIR/url" \
		2> "$SCREEN_DIR/serve.log" &
	SCREEN_PID=$!
	_i=0
	while [ ! -s "$SCREEN_DIR/url" ] && [ $_i -lt 100 ] && kill -0 "$SCREEN_PID" 2> /dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_url=$(head -n 1 "$SCREEN_DIR/url")
	SCREEN_PORT=${_url#http://127.0.0.1:}
	SCREEN_PORT=${SCREEN_PORT%%/*}
	curl -s -o /dev/null -D "$SCREEN_DIR/h" "$_url" || return 1
	SCREEN_COOKIE="bb=$(sed -n 's/^Set-Cookie: bb=\([0-9a-f]*\);.*/\1/p' "$SCREEN_DIR/h")"
	screen_acted=0
	BB_SCREEN=$SCREEN_SOCK
	export SCREEN_SOCK SCREEN_PORT SCREEN_PID BB_SCREEN
}

screen_page() {
	curl -s -o "$SCREEN_DIR/page" -b "$SCREEN_COOKIE" "http://127.0.0.1:$SCREEN_PORT/"
	screen_id=$(sed -n 's/.*id="bb-screen" data-version="\([0-9]*\)" data-screen="\([^"]*\)".*/\2/p' \
		"$SCREEN_DIR/page" | head -n 1)
	screen_v=$(sed -n 's/.*id="bb-screen" data-version="\([0-9]*\)".*/\1/p' "$SCREEN_DIR/page" |
		head -n 1)
}

screen_wait() {
	_sw_max=$((${2:-15} * 10))
	_i=0
	while :; do
		screen_page
		if [ "$screen_id" = "$1" ] && [ "${screen_v:-0}" -gt "$screen_acted" ]; then
			return 0
		fi
		[ $_i -ge $_sw_max ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

screen_act() {
	screen_acted=$screen_v
	curl -s -o /dev/null -b "$SCREEN_COOKIE" -d "v=$screen_v&$1" \
		"http://127.0.0.1:$SCREEN_PORT/act"
}

screen_stop() {
	[ -n "${SCREEN_PID:-}" ] || return 0
	kill "$SCREEN_PID" 2> /dev/null
	wait "$SCREEN_PID" 2> /dev/null
	SCREEN_PID=
	return 0
}
