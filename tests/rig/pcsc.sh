# Sourced by TAP tests (after lib.sh) to run a private PC/SC stack: pcscd in the foreground
# with vsmartcard's vpcd driver as its only reader, and the card simulator (cardsim) as the
# card in it.
#
#   pcsc_start DIR        start pcscd with its reader.conf, socket and log in DIR; waits until
#                         it lists the reader; exports PCSC_DIR, PCSC_PID, VPCD_PORT,
#                         PCSC_READER (the reader's name) and PCSCLITE_CSOCK_NAME (so every
#                         PC/SC client the test starts talks to this pcscd, not the system's)
#   card_insert PROFILE [CARDSIM OPTION...]
#                         start cardsim with tests/rig/cards/PROFILE (or a profile directory)
#                         and wait until pcscd sees the card; exports CARD_PID. With EID_PKI
#                         set, cardsim gets --pki "$EID_PKI" (PACE, TA, CA, EF.CardSecurity).
#                         Options: see cardsim.c (--pin-retries N --blocked --deactivated
#                         --transport --no-extended --today D --expiry D --forged-security
#                         --fault KIND[@N] --atr HEX --truncate-response --garbage --mute;
#                         secrets --pin/--can/--puk better in PROFILE/options)
#   eid_pki_for_test [DIR] make the eID test PKI (tests/rig/make-eid-pki) in DIR, default
#                         $BB_BIN/eid-pki (shared by the tests: make-eid-pki is idempotent
#                         and flock-safe) or $scratch/eid-pki without BB_BIN; exports EID_PKI
#   card_remove           end cardsim; waits until pcscd sees the reader empty
#   pcsc_stop             end the card and pcscd
#   pcsc_for_test         all a test file needs: pcsc_start in $scratch/pcsc, stopped at exit
#   cardsim ARGS...       the simulator binary ($CARDSIM), e.g. cardsim --client --reader
#                         "$PCSC_READER" 00A4020C02011C 00B0000000
#
# pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME (only the client library reads it) and always
# uses /run/pcscd/pcscd.comm and /run/pcscd/pcscd.pid, removing both when it ends. So
# pcscd runs in a private mount namespace (unshare -m) with DIR/run bound over /run/pcscd:
# its socket appears as DIR/run/pcscd.comm, and a system pcscd or another test run is
# never touched. Without unshare (not root, no CAP_SYS_ADMIN), the test is skipped unless
# PCSC_SHARED_RUN=1 allows /run/pcscd itself, and then only when no pcscd uses it.
# vpcd listens on VPCD_PORT (slot 0) and VPCD_PORT+1 (slot 1) on all addresses; a free pair
# is picked per run.

PCSC_RIG=${PCSC_RIG:-${BB_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/rig}
CARDSIM=${CARDSIM:-${BB_BIN:-${BB_TOP:-.}/.build}/rig/cardsim}
PCSC_READER_NAME=${PCSC_READER_NAME:-bb vpcd}

cardsim() { "$CARDSIM" "$@"; }

# Whether pcscd can run in its own mount namespace here.
_pcsc_can_unshare() {
	unshare -m sh -c 'mount --make-rprivate /' > /dev/null 2>&1
}

_pcsc_port_free() {
	[ -z "$(ss -Htln "( sport = :$1 or sport = :$(($1 + 1)) )" 2> /dev/null)" ]
}

pcsc_start() {
	mkdir -p "$1/run" || return 1
	PCSC_DIR=$(cd "$1" && pwd) || return 1
	if ! command -v pcscd > /dev/null ||
	    [ ! -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]; then
		echo "pcsc_start: needs pcscd and vsmartcard-vpcd (scripts/install-deps)" >&2
		return 1
	fi
	if _pcsc_can_unshare; then
		_pcsc_ns=1
		PCSCLITE_CSOCK_NAME=$PCSC_DIR/run/pcscd.comm
	elif [ "${PCSC_SHARED_RUN:-0}" = 1 ] && [ ! -e /run/pcscd/pcscd.comm ]; then
		_pcsc_ns=0
		PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm
	else
		echo "pcsc_start: cannot give pcscd a private /run/pcscd (unshare -m failed)" >&2
		return 1
	fi
	export PCSCLITE_CSOCK_NAME PCSC_DIR
	_tries=0
	while :; do
		_tries=$((_tries + 1))
		[ "$_tries" -le 5 ] || { echo "pcsc_start: pcscd did not start" >&2; return 1; }
		# Two ports: vpcd makes two slots, on VPCD_PORT and VPCD_PORT+1.
		VPCD_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 * 2))
		_pcsc_port_free "$VPCD_PORT" || continue
		_hex=$(printf '0x%04X' "$VPCD_PORT")
		cat > "$PCSC_DIR/reader.conf" <<EOF
# The virtual reader of this test run (tests/rig/pcsc.sh)
FRIENDLYNAME "$PCSC_READER_NAME"
DEVICENAME   /dev/null:$_hex
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $_hex
EOF
		# -f foreground, -a logs APDUs (test data only), no -x: it stays until stopped.
		if [ "$_pcsc_ns" = 1 ]; then
			# shellcheck disable=SC2016 # $1 is the inner shell's
			unshare -m sh -c 'mount --make-rprivate / 2> /dev/null
				mkdir -p /run/pcscd && mount --bind "$1/run" /run/pcscd &&
				exec pcscd -f -a -c "$1/reader.conf"' sh "$PCSC_DIR" \
				< /dev/null >> "$PCSC_DIR/pcscd.log" 2>&1 &
		else
			pcscd -f -a -c "$PCSC_DIR/reader.conf" \
				< /dev/null >> "$PCSC_DIR/pcscd.log" 2>&1 &
		fi
		PCSC_PID=$!
		PCSC_READER="$PCSC_READER_NAME 00 00"
		_i=0
		while ! cardsim --list-readers 2> /dev/null | grep -qxF "$PCSC_READER"; do
			_i=$((_i + 1))
			if [ "$_i" -gt 50 ] || ! kill -0 "$PCSC_PID" 2> /dev/null; then
				break
			fi
			sleep 0.1
		done
		if cardsim --list-readers 2> /dev/null | grep -qxF "$PCSC_READER"; then
			break
		fi
		# Port taken meanwhile, or pcscd failed: try again, the log says why.
		kill "$PCSC_PID" 2> /dev/null
		wait "$PCSC_PID" 2> /dev/null
		sed 's/^/# pcscd: /' "$PCSC_DIR/pcscd.log" | tail -5 >&2
	done
	export VPCD_PORT PCSC_PID PCSC_READER
	# Should the test die without pcsc_stop, pcscd ends with it.
	_pcsc_test=$$
	(
		while kill -0 "$_pcsc_test" 2> /dev/null && kill -0 "$PCSC_PID" 2> /dev/null; do
			sleep 1
		done
		kill "$PCSC_PID" 2> /dev/null
	) < /dev/null > /dev/null 2>&1 &
	_pcsc_watch=$!
	return 0
}

card_insert() {
	_prof=$1
	shift
	case $_prof in
	*/*) ;;
	*) _prof=$PCSC_RIG/cards/$_prof ;;
	esac
	[ -d "$_prof" ] || { echo "card_insert: no profile $_prof" >&2; return 1; }
	[ -z "${CARD_PID:-}" ] || card_remove
	if [ -n "${EID_PKI:-}" ]; then
		set -- --pki "$EID_PKI" "$@"
	fi
	"$CARDSIM" --port "$VPCD_PORT" --parent $$ "$@" "$_prof" \
		< /dev/null >> "$PCSC_DIR/cardsim.log" 2>&1 &
	CARD_PID=$!
	export CARD_PID
	cardsim --client --reader "$PCSC_READER" --wait-card --timeout 10
}

card_remove() {
	[ -n "${CARD_PID:-}" ] || return 0
	kill "$CARD_PID" 2> /dev/null
	wait "$CARD_PID" 2> /dev/null
	CARD_PID=
	cardsim --client --reader "$PCSC_READER" --wait-removal --timeout 10
}

pcsc_stop() {
	if [ -n "${CARD_PID:-}" ]; then
		kill "$CARD_PID" 2> /dev/null
		wait "$CARD_PID" 2> /dev/null
		CARD_PID=
	fi
	if [ -n "${PCSC_PID:-}" ]; then
		kill "$PCSC_PID" 2> /dev/null
		wait "$PCSC_PID" 2> /dev/null
		PCSC_PID=
	fi
	if [ -n "${_pcsc_watch:-}" ]; then
		kill "$_pcsc_watch" 2> /dev/null
		wait "$_pcsc_watch" 2> /dev/null
		_pcsc_watch=
	fi
	return 0
}

eid_pki_for_test() {
	if [ $# -gt 0 ]; then
		EID_PKI=$1
	elif [ -n "${BB_BIN:-}" ]; then
		EID_PKI=$BB_BIN/eid-pki
	else
		EID_PKI=$scratch/eid-pki
	fi
	sh "$PCSC_RIG/make-eid-pki" "$EID_PKI" > /dev/null || {
		echo "eid_pki_for_test: make-eid-pki $EID_PKI failed" >&2
		return 1
	}
	EID_PKI=$(cd "$EID_PKI" && pwd)
	export EID_PKI
}

pcsc_for_test() {
	pcsc_start "$scratch/pcsc" || exit 1
	trap 'pcsc_stop; cd /; rm -rf "$scratch"' EXIT
}
