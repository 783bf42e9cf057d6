# Sourced by the session loop's tests (tests/12NN-*.t, after lib.sh): the place and the
# configuration of scripts/kiosk/session, and the real screen server driven with curl as
# the kiosk page posts.
#
#   SESSION              scripts/kiosk/session
#   shm                  a directory on tmpfs (/dev/shm) for kiosk.session, removed at exit
#   session_conf [KEY: VALUE]...
#                        bb.yaml (BB_CONFIG, exported): the shipped screens, the services
#                        in $SESSION_SERVICES (default the fixtures of tests/data/kiosk),
#                        queue.spool $scratch/spool, kiosk.session $shm/session and the
#                        kiosk keys given; lines for the form section in $FORM_EXTRA,
#                        whole sections in $CONF_EXTRA
#   session_serve        starts bb-form serve (tests/rig/screen.sh's screen_start on
#                        $scratch/run); sets sock (also BB_SCREEN), port, C (the cookie)
#   page                 GET / into page.html; version: its data-version
#   wait_screen SCREEN [OLD]   until the page shows SCREEN in a version other than OLD
#                        (15 s); 1 when it did not come
#   tap VALUE            taps VALUE (choice=VALUE) on the page last read
#   wait_file PATH       until PATH exists (15 s)
#   session_cleanup      ends what was started: the EXIT trap calls it; a test that sets
#                        its own trap calls it there
#   srv_pids             PIDs the test started (sessions): ended at exit when still its own
#
# $scratch/bin comes first on PATH, then $BB_BIN.

. "$BB_TOP/tests/rig/screen.sh"

SESSION=$BB_TOP/scripts/kiosk/session
SESSION_SERVICES=${SESSION_SERVICES:-$BB_TOP/tests/data/kiosk}
srv_pids=""
shm=$(mktemp -d /dev/shm/bb-test.XXXXXX)
session_cleanup() {
	kill_own $srv_pids
	screen_stop
	rm -rf "$shm"
}
trap 'session_cleanup; cd /; rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/bin"
PATH=$scratch/bin:$BB_BIN:$PATH
export PATH

session_conf() {
	{
		printf 'form:\n  screens: %s\n  services: %s\n%s' "$BB_TOP/scripts/screens" \
			"$SESSION_SERVICES" "${FORM_EXTRA:-}"
		printf 'queue:\n  spool: %s\n' "$scratch/spool"
		printf '%s' "${CONF_EXTRA:-}"
		printf 'kiosk:\n  session: %s\n' "$shm/session"
		for _kv; do printf '  %s\n' "$_kv"; done
	} > "$scratch/bb.yaml"
	BB_CONFIG=$scratch/bb.yaml
	export BB_CONFIG
}

session_serve() {
	screen_start "$scratch/run" || { echo "Bail out! bb-form serve did not start"; exit 1; }
	sock=$SCREEN_SOCK
	port=$SCREEN_PORT
	C=$SCREEN_COOKIE
}

page() { curl -s -b "$C" "http://127.0.0.1:$port/" > "$scratch/page.html"; }
version() { sed -n 's/.*data-version="\([0-9]*\)".*/\1/p' "$scratch/page.html" | head -n 1; }
wait_screen() {
	_i=0
	until page && grep -q "data-screen=\"$1\"" "$scratch/page.html" &&
	    [ "$(version)" != "${2:-}" ] || [ $_i -ge 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -q "data-screen=\"$1\"" "$scratch/page.html"
}
tap() {
	curl -s -o /dev/null -b "$C" --data-urlencode "v=$(version)" --data-urlencode "choice=$1" \
		"http://127.0.0.1:$port/act"
}
wait_file() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -e "$1" ]
}
