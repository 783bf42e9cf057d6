#!/bin/sh
# bb-eid read, pin-change, pin-unblock and pin-resume as a kiosk script runs them: a real
# pcscd with the vpcd reader, the card simulator with the test PKI (tests/rig/make-eid-pki),
# the PIN on a file descriptor. Every outcome a person causes has its exit status and
# message; every card fault ends with no case written; no PIN and no personal value
# reaches stderr, the trace or the argument vector.
# One pcscd serves the whole file on purpose (its start and the vpcd reader cost seconds);
# a section that counts on the card's state (retries, blocked, transport PIN) inserts a
# fresh simulated card of its own, which costs a process.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
BB_EID=${BB_EID:-$BB_BIN/bb-eid}

EID_PKI=$BB_BIN/eid-pki
export EID_PKI
"$BB_TOP/tests/rig/make-eid-pki" "$EID_PKI" || { echo "Bail out! make-eid-pki failed"; exit 1; }
pcsc_for_test

cat > "$BB_CONFIG" <<EOF
terminal: kiosk-1
eid:
  pki: $EID_PKI
  services:
    parken:
      fields: given_names, family_names, address
EOF
printf '123456\n' > pin
printf '654321\n' > badpin
printf '500540\n' > can
printf '9876543210\n' > puk
printf '12345\n' > tpin
printf '111222\n' > newpin

# rd ARGS...: bb-eid read --new into out and err, status in rc; the configuration is
# $cfg (default the test's).
cfg=$BB_CONFIG
rd() { BB_CONFIG=$cfg "$BB_EID" read --new "$@" > out 2> err; rc=$?; }

card_insert erika
rd --pin-fd 3 3< pin
ok "$rc" "read with the PIN"
cp out case.json
check "the identity is Erika's, from the card" \
	jq -e '.identity | .given_names == "ERIKA" and .family_names == "MUSTERMANN" and .date_of_birth == "1964-08-12" and .issuing_state == "DE" and .document_type == "ID" and .address.city == "KÖLN" and .address.postal_code == "51147"' case.json
check "and says how it was verified" \
	jq -e '.identity.verified | .pace == "pin" and .ta == true and .ca == true and .passive_auth == "ok" and (.document_signer | test("Document Signer"))' case.json
check "a new case for this terminal" \
	jq -e '.terminal == "kiosk-1" and (.id | test("^[0-9a-f-]{36}$"))' case.json
check_nogrep "nothing on stderr" '.' err

# The case flows on: an existing case keeps its other parts (a case of its own, not the
# one read above).
write_identity_case id.json
jq '.form = {"definition": "x"}' id.json > in.json
"$BB_EID" read --pin-fd 3 --fields given_names in.json 3< pin > out2 2> err
ok "$?" "read into an existing case"
check "keeps the case, replaces the identity with only the asked field" \
	jq -e --slurpfile a in.json '.id == $a[0].id and .form.definition == "x" and (.identity | keys) == ["given_names", "verified"]' out2

rd --pin-fd 3 --fields given_names,address 3< pin
check "--fields: the date of birth is not read" jq -e '.identity | has("date_of_birth") | not' out
rd --pin-fd 3 --service parken 3< pin
check "--service: the service's fields" \
	jq -e '.identity | (keys - ["verified"]) == ["address", "family_names", "given_names"]' out
rd --pin-fd 3 --service parken --fields date_of_birth 3< pin
check "asking more than the service may read is 77 ($rc)" test "$rc" -eq 77
rd --pin-fd 3 --service nosuch 3< pin
check "an unknown service is 78 ($rc)" test "$rc" -eq 78
rd --pin-fd 3 --fields shoe_size 3< pin
check "an unknown field is 64 ($rc)" test "$rc" -eq 64
check_grep "and names it" "shoe_size" err

rd --can-fd 3 3< can
ok "$rc" "read with the CAN"
check "says the CAN was used" \
	jq -e '.identity.verified.pace == "can" and .identity.given_names == "ERIKA"' out

printf '12a456\n' > oddpin
rd --pin-fd 3 3< oddpin
check "a PIN that is not 6 digits is 65 before the card is asked ($rc)" test "$rc" -eq 65
"$BB_EID" info --format json > info.json 2>/dev/null
check "and costs no retry" jq -e '.pin.retries == 3' info.json

# Wrong PINs: 2 with the retries, then suspended (3), resumed with the CAN: on a fresh
# card with all its retries, whatever the sections above did.
card_insert erika
rd --pin-fd 3 3< badpin
check "a wrong PIN is 2 ($rc)" test "$rc" -eq 2
check_grep "with the retries left" "2 retries left" err
check_same "and no case" /dev/null out
rd --pin-fd 3 3< badpin
check "a second wrong PIN is 2" test "$rc" -eq 2
check_grep "says the PIN is now suspended" "suspended" err
rd --pin-fd 3 3< pin
check "a suspended PIN is 3 even when right ($rc)" test "$rc" -eq 3
check_grep "says the CAN is needed" "CAN" err
"$BB_EID" pin-resume --can-fd 3 --pin-fd 4 3< can 4< pin > out 2> err
ok "$?" "pin-resume with the CAN and the PIN"
"$BB_EID" info --format json > info.json 2>/dev/null
check "the PIN has 3 retries again" jq -e '.pin.retries == 3' info.json
rd --pin-fd 3 3< pin
ok "$rc" "and reads again"

# Blocked: the PUK.
card_remove
card_insert erika --blocked
rd --pin-fd 3 3< pin
check "a blocked PIN is 3 ($rc)" test "$rc" -eq 3
check_grep "says the PUK is needed" "PUK" err
"$BB_EID" pin-unblock --puk-fd 3 3< badpin > out 2> err
check "a PUK that is not 10 digits is 65" test "$?" -eq 65
"$BB_EID" pin-unblock --puk-fd 3 3< puk > out 2> err
ok "$?" "pin-unblock with the PUK"
rd --pin-fd 3 3< pin
ok "$rc" "and the PIN reads again"
card_remove

# The transport PIN: change it, then read with the new PIN.
card_insert erika --transport
"$BB_EID" pin-change --pin-fd 3 --new-pin-fd 4 3< tpin 4< newpin > out 2> err
ok "$?" "pin-change from the transport PIN"
rd --pin-fd 3 3< newpin
ok "$rc" "the new PIN reads"
rd --pin-fd 3 3< tpin
check "the transport PIN is no longer good ($rc)" eval 'test "$rc" -eq 65 || test "$rc" -eq 2'
card_remove

card_insert erika --deactivated
rd --pin-fd 3 3< pin
check "a card with the eID function switched off is 3 ($rc)" test "$rc" -eq 3
card_remove

card_insert erika --expiry 20200131
rd --pin-fd 3 3< pin
check "an expired document is 3 ($rc)" test "$rc" -eq 3
check_grep "says so" "expired" err
check_same "and no case" /dev/null out
card_remove

# The terminal's certificate.
cat > nodg17.yaml <<EOF
eid:
  pki: $EID_PKI
  terminal_cert: $EID_PKI/terminal/nodg17.cvcert
  terminal_key: $EID_PKI/terminal/nodg17.pkcs8
EOF
cat > expired.yaml <<EOF
eid:
  pki: $EID_PKI
  terminal_cert: $EID_PKI/terminal/expired.cvcert
  terminal_key: $EID_PKI/terminal/expired.pkcs8
EOF
card_insert erika
cfg=nodg17.yaml
rd --pin-fd 3 3< pin
ok "$rc" "a terminal without the right to the address reads"
check "but not the address" \
	jq -e '.identity | (has("address") | not) and .given_names == "ERIKA"' out
cfg=expired.yaml
rd --pin-fd 3 3< pin
check "an expired terminal certificate is 77 ($rc)" test "$rc" -eq 77
check_grep "says so" "expired" err
cfg=$BB_CONFIG
card_remove

# Trust only what the terminal owns: the trust anchors and the terminal's key are
# refused (78, saying what to chmod) when another user could change them, or read the
# key, before the card is touched. A copy of the PKI, made as the rig makes it (0700).
cp -Rp "$EID_PKI" own
own=$PWD/own
printf 'eid:\n  pki: %s\n' "$own" > own.yaml
refused() {	# refused DESCRIPTION PATTERN: a read with own.yaml is 78, err matches
	cfg=own.yaml
	rd --pin-fd 3 3< pin
	check "$1: 78 ($rc)" test "$rc" -eq 78
	check_grep "$1: says why" "$2" err
	check_same "$1: no case" /dev/null out
	cfg=$BB_CONFIG
}
card_insert erika
h=$(openssl x509 -hash -noout -in own/csca/csca.pem)
ln -sf csca.pem "own/csca/$h.0"
cfg=own.yaml
rd --pin-fd 3 3< pin
ok "$rc" "the terminal's own copy reads, a link to a file beside it in csca_dir too"
chmod g+w own/csca
refused "a csca_dir writable by group" "mode 0720 is writable by others: chmod go-w $own/csca\$"
chmod g-w own/csca
chmod o+w own/csca/csca.pem
refused "a CSCA certificate writable by others" "chmod go-w $own/csca/csca.pem"
chmod o-w own/csca/csca.pem
chmod 0640 own/terminal/terminal.pkcs8
refused "a terminal key readable by group" \
	"terminal_key.*mode 0640.*chmod go-rwx $own/terminal/terminal.pkcs8"
chmod 0600 own/terminal/terminal.pkcs8
chmod g+w own/terminal
refused "the terminal key's directory writable by group" "chmod go-w $own/terminal\$"
chmod g-w own/terminal
mv own/cvca-trust/DECVCAeID00001 cvca.cvcert
ln -s "$PWD/cvca.cvcert" own/cvca-trust/DECVCAeID00001
refused "a symbolic link in cvca_dir" "eid.cvca_dir $own/cvca-trust/DECVCAeID00001: a symbolic link"
rm own/cvca-trust/DECVCAeID00001
mv cvca.cvcert own/cvca-trust/DECVCAeID00001
hf=$(openssl x509 -hash -noout -in own/forged/csca.pem)
ln -s "$own/forged/csca.pem" "own/csca/$hf.0"
refused "a symbolic link out of csca_dir" \
	"eid.csca_dir $own/csca/$hf.0: a symbolic link out of the directory"
rm "own/csca/$hf.0"
ln -s csca own/csca-link
printf 'eid:\n  pki: %s\n  csca_dir: %s/csca-link/\n' "$own" "$own" > own-link.yaml
cp own-link.yaml own.yaml
refused "csca_dir a symbolic link, named with a slash" "eid.csca_dir $own/csca-link/: a symbolic link, not trusted"
printf 'eid:\n  pki: %s\n' "$own" > own.yaml
cfg=own.yaml
rd --pin-fd 3 3< pin
ok "$rc" "and reads again when all is the terminal's"
# No default PKI: it was /tmp/bb-eid-pki-UID, which any user could create first.
printf 'eid:\n  reader: bb\n' > nopki.yaml
cfg=nopki.yaml
if command -v strace > /dev/null; then
	# LeakSanitizer cannot run under ptrace: no leak check for this one run.
	BB_CONFIG=nopki.yaml ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 \
		strace -f -e trace=open,openat,stat,newfstatat -o st.log \
		"$BB_EID" read --new --pin-fd 3 3< pin > out 2> err
	rc=$?
	check_grep "the trace sees bb-eid read its configuration" "nopki.yaml" st.log
	check_nogrep "no /tmp default is looked at" "bb-eid-pki" st.log
else
	rd --pin-fd 3 3< pin
fi
check "without eid.pki or the five keys: 78 ($rc)" test "$rc" -eq 78
check_grep "says what to configure" "eid.dv_cert: not configured, nor eid.pki" err
cfg=$BB_CONFIG
card_remove

# Card faults: no case, the documented status.
fault() {	# fault STATUS DESCRIPTION CARDSIM-OPTIONS...
	_want=$1 _what=$2
	shift 2
	card_insert erika "$@"
	rd --pin-fd 3 3< pin
	check "$_what: $_want ($rc)" test "$rc" -eq "$_want"
	check_same "$_what: no case" /dev/null out
	check "$_what: one line on stderr" test "$(wc -l < err)" -eq 1
	card_remove
}
fault 76 "a wrong MAC" --fault bad-mac@3
fault 76 "a wrong send sequence counter" --fault bad-ssc@8
fault 76 "an unexpected status word" --fault sw=6F00@12
fault 76 "a plain status word that disagrees with the protected one" --fault plain-sw=6A82@1
fault 76 "a truncated data group" --fault truncated-tlv
fault 76 "an oversized data group" --fault oversized-tlv
fault 77 "a forged EF.CardSecurity" --forged-security
fault 1 "the card removed mid-read" --fault remove@25
# A real card answers 6700 (wrong length) to an MSE:Set AT it cannot take: the protocol is
# broken, 76, the status word said. (Protected commands: 1 EF.CardSecurity, 2-5 the
# certificates, 6 MSE:Set AT of TA, 7 GET CHALLENGE, 8 External Authenticate, 9 MSE:Set
# AT of CA.)
fault 76 "6700 to Terminal Authentication's MSE:Set AT" --fault sw=6700@6
check_grep "which says so" "terminal authentication: MSE:Set AT: the card answered 6700" err
fault 76 "6700 to Chip Authentication's MSE:Set AT" --fault sw=6700@9
check_grep "which says so" "chip authentication: MSE:Set AT: the card answered 6700" err

# The other test person: another PACE parameter set.
card_insert jeanne
rd --pin-fd 3 --fields all 3< pin
ok "$rc" "a card with another PACE parameter set reads"
check "with its own data" \
	jq -e '.identity | .given_names != "ERIKA" and (.residence_permit | type) == "array"' out
check "a residence permit's conditions are read (DG19, DG20)" \
	jq -e '.identity | .document_type == "AR" and (.residence_permit | length) > 0' out

# With the CAN the terminal certificate needs "CAN allowed".
printf 'eid:\n  pki: %s\n  terminal_cert: %s\n  terminal_key: %s\n' "$EID_PKI" \
	"$EID_PKI/terminal/nocan.cvcert" "$EID_PKI/terminal/nocan.pkcs8" > nocan.yaml
card_insert erika
cfg=nocan.yaml
rd --can-fd 3 3< can
check "reading with the CAN without the right is 77 ($rc)" test "$rc" -eq 77
check_grep "says so" "does not allow reading with the CAN" err
rd --pin-fd 3 3< pin
ok "$rc" "that terminal reads with the PIN"
cfg=$BB_CONFIG
card_remove

# A card without extended length: short APDUs, chaining, the same data; resume too.
card_insert erika --no-extended --pin-retries 1
"$BB_EID" pin-resume --can-fd 3 --pin-fd 4 3< can 4< pin > out 2> err
ok "$?" "pin-resume on a card without extended length"
rd --pin-fd 3 3< pin
ok "$rc" "read on a card without extended length"
jq -S .identity out > short.json
jq -S .identity case.json > long.json
check_same "the same identity as with extended length" long.json short.json
card_remove

# The PIN typed on the terminal, without echo (script(1) gives bb-eid a terminal; the
# PIN comes a moment later, as typed: what is typed before the prompt is discarded).
card_insert erika
(sleep 1; printf '123456\n') | script -qec "'$BB_EID' read --new -o tty-case.json" typescript \
	> /dev/null 2>&1
ok "$?" "the PIN from the controlling terminal"
check "reads the card" jq -e '.identity.given_names == "ERIKA"' tty-case.json
check_grep "bb-eid asked for it" "PIN: " typescript
check_nogrep "and did not echo it" "123456" typescript
card_remove

# Two readers, the card in the second: found without --reader.
"$CARDSIM" --port $((VPCD_PORT + 1)) --parent $$ --pki "$EID_PKI" \
	"$BB_TOP/tests/rig/cards/erika" < /dev/null >> "$PCSC_DIR/cardsim.log" 2>&1 &
second=$!
cardsim --client --reader "$PCSC_READER_NAME 00 01" --wait-card --timeout 10
rd --pin-fd 3 3< pin
ok "$rc" "a card in the second reader is found"
"$BB_EID" wait --timeout 5 > which 2>/dev/null
check_grep "in the second reader" "00 01" which
kill "$second"
wait "$second" 2>/dev/null
cardsim --client --reader "$PCSC_READER_NAME 00 01" --wait-removal --timeout 10

# APDUs on the wire for a read of every field (the demo's): EF.CardAccess in one READ
# BINARY by short file identifier, as AusweisApp and npa-tool read it, not SELECT MF,
# SELECT EF and READ BINARY: 32 where it was 34 (npa-tool: 32); and no DG19 and DG20 (a
# residence permit's) from an identity card: 30. 1 EF.CardAccess, 5 PACE, 1
# EF.CardSecurity, 7 TA, 2 CA, 1 SELECT of the eID application, 13 data groups. cardsim
# -v logs each.
card_remove
card_insert erika -v
printf 'eid:\n  pki: %s\n  services:\n    all:\n      fields: all\n' "$EID_PKI" > all.yaml
before=$(grep -c '^cardsim: > ' "$PCSC_DIR/cardsim.log")
cfg=all.yaml rd --service all --pin-fd 3 3< pin
ok "$rc" "a read of every field"
grep '^cardsim: > ' "$PCSC_DIR/cardsim.log" | tail -n +$((before + 1)) > apdus
check "EF.CardAccess comes first, by its short file identifier" \
	eval 'head -n 1 apdus | grep -qx "cardsim: > 00B09C0000"'
n=$(wc -l < apdus)
check "at most 30 APDUs for it ($n)" test "$n" -le 30
check_nogrep "no DG19 nor DG20 asked of an identity card" '^cardsim: > 0CB09[34]' apdus
check "its residence_permit is empty" \
	jq -e '.identity | .document_type == "ID" and .residence_permit == []' out
grep -c '^cardsim: > 0CB08[1-9A-F]\|^cardsim: > 0CB09[0-6]' apdus > nread
check "13 data groups read ($(cat nread))" test "$(cat nread)" -eq 13
check "and the data is Erika's" \
	jq -e '.identity | .given_names == "ERIKA" and .address.city == "KÖLN"' out
# Another client left the eID application selected (cardsim --client leaves the card as it
# is): the short file identifier finds nothing there (6A82), and SELECT MF, SELECT EF and
# READ BINARY read EF.CardAccess as before.
cardsim --client --reader "$PCSC_READER" 00A4040C09E80704007F00070302 > sel
check_grep "another client selects the eID application" '^9000$' sel
before=$(grep -c '^cardsim: > ' "$PCSC_DIR/cardsim.log")
rd --pin-fd 3 3< pin
ok "$rc" "a read after it"
grep '^cardsim: > ' "$PCSC_DIR/cardsim.log" | tail -n +$((before + 1)) | head -n 4 > apdus
printf 'cardsim: > %s\n' 00B09C0000 00A4000C023F00 00A4020C02011C 00B0000000 > want
check_same "EF.CardAccess the long way then" want apdus

# Privacy: the trace shows the protocol, never the PIN or the data.
card_remove
card_insert erika
"$BB_EID" -v read --new --pin-fd 3 --trace --stats 3< pin > out 2> trace
ok "$?" "read with --trace -v"
check_grep "the trace shows the protected commands" "SM > 0C B0\|SM > 00 B0" trace
check_grep "the stats give each step" "stats: ta [0-9]* apdus" trace
check_grep "passive authentication a step of its own" "stats: pa 1 apdus" trace
check_grep "PACE counts reading EF.CardAccess" "stats: pace 6 apdus" trace
for v in 123456 ERIKA MUSTERMANN HEIDESTRASSE 1964 51147 GABLER; do
	check_nogrep "no '$v' in the trace" "$v" trace
done

# The PIN never in the argument vector: look while bb-eid waits for it.
mkfifo slowpin
"$BB_EID" read --new --pin-fd 3 3< slowpin > out 2> err &
pid=$!
exec 5> slowpin
sleep 0.5
check "the PIN is not in the argument vector" \
	eval '! tr "\0" "\n" < /proc/$pid/cmdline | grep -q -e 123456'
printf '123456\n' >&5
exec 5>&-
wait $pid
ok "$?" "and the read goes on"

card_remove
printf 'not json' > bad.json
"$BB_EID" read --pin-fd 3 bad.json 3< pin > out 2> err
check "a malformed case is 65" test "$?" -eq 65
"$BB_EID" read --new --pin-fd 3 3< pin > out 2> err
check "no card is 69" test "$?" -eq 69

pcsc_stop
done_testing
