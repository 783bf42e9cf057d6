# Sourced by the tests of online eID (0760, 0770, 1100): AusweisApp and the rig's
# eID-Server as processes of the test. Defines functions only; needs $EID_PKI (the eID
# test PKI, tests/rig/make-eid-pki) and a running pcscd (pcsc.sh) when they are called.
AA="/usr/bin/python3 $BB_TOP/tests/rig/ausweisapp.py"

# aa_available: ausweisapp2 and python3-websocket are there (scripts/install-deps).
aa_available() {
	command -v "${BB_AUSWEISAPP:-AusweisApp2}" > /dev/null &&
	    /usr/bin/python3 -c 'import websocket' 2> /dev/null
}

# aa_serve DIR: AusweisApp running (the rig's CVCA trusted) with its home in DIR; its SDK's
# port in DIR.port, its pid in AA_PID; 1 when it did not start within 60 s.
aa_serve() {
	$AA --serve "$1.port" --timeout 60 --log "$1.log" --home "$1" \
		--cvca "$EID_PKI/cvca/cvca.cvcert" 2> "$1.err" &
	AA_PID=$!
	_i=0
	while [ ! -s "$1.port" ] && [ "$_i" -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -s "$1.port" ] || { diag "$1.err"; return 1; }
}

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
