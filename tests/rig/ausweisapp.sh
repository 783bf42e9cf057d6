# Sourced after tests/lib.sh by the tests that run AusweisApp2 against the card simulator
# (0740, 0760, 0770): the test is skipped without ausweisapp2 or python3-websocket (which
# scripts/install-deps installs); else the eID test PKI is made ($EID_PKI), pcscd starts
# with vpcd and the simulator (pcsc.sh), bb.yaml names the PKI, $AA runs ausweisapp.py,
# $BB_EID is bb-eid and the file pin holds the test cards' PIN.
. "$BB_TOP/tests/rig/pcsc.sh"
. "$BB_TOP/tests/rig/eidonline.sh"
BB_EID=${BB_EID:-$BB_BIN/bb-eid}

if ! aa_available; then
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

