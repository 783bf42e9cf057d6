# Sourced after tests/lib.sh by the tests that run AusweisApp2 against the card simulator
# (0740, 0760): the test is skipped without ausweisapp2 or python3-websocket (which
# scripts/install-deps installs); else the eID test PKI is made ($EID_PKI), pcscd starts
# with vpcd and the simulator (pcsc.sh), bb.yaml names the PKI, $AA runs ausweisapp.py,
# $BB_EID is bb-eid and the file pin holds the test cards' PIN.
. "$BB_TOP/tests/rig/pcsc.sh"
BB_EID=${BB_EID:-$BB_BIN/bb-eid}
AA="/usr/bin/python3 $BB_TOP/tests/rig/ausweisapp.py"

if ! command -v "${BB_AUSWEISAPP:-AusweisApp2}" > /dev/null ||
    ! /usr/bin/python3 -c 'import websocket' 2> /dev/null; then
	echo "1..0 # SKIP needs ausweisapp2 and python3-websocket (scripts/install-deps)"
	exit 0
fi

EID_PKI=$BB_BIN/eid-pki
export EID_PKI
"$BB_TOP/tests/rig/make-eid-pki" "$EID_PKI" || { echo "Bail out! make-eid-pki failed"; exit 1; }
pcsc_for_test

cat > "$BB_CONFIG" <<EOC
eid:
  pki: $EID_PKI
EOC
printf '123456\n' > pin

# eidserver [FAULT...]: (re)starts tests/rig/eidserver.py in $scratch/eids with the
# faults named; EIDS_URL is its origin.
eidserver() {
	[ -z "${EIDS_PID:-}" ] || { kill "$EIDS_PID"; wait "$EIDS_PID" 2> /dev/null; }
	rm -f eids/port
	_f=
	for _x in "$@"; do _f="$_f --fault $_x"; done
	# shellcheck disable=SC2086 # the faults are words
	/usr/bin/python3 "$BB_TOP/tests/rig/eidserver.py" --pki "$EID_PKI" --dir eids \
		--parent $$ $_f >> eids.out 2>&1 &
	EIDS_PID=$!
	_i=0
	while [ ! -s eids/port ] && [ "$_i" -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -s eids/port ] || { diag eids.out; echo "Bail out! eidserver did not start"; exit 1; }
	EIDS_URL=https://127.0.0.1:$(cat eids/port)
}
