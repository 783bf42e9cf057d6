#!/bin/sh
# bb-eid read with the terminal's key in a PKCS#11 token (issue 13): SoftHSM2 as the token,
# in a private SOFTHSM2_CONF and token directory, holding the test PKI's terminal key;
# eid.terminal_key a pkcs11: URI (RFC 7512), the token's PIN from --token-pin-fd or
# eid.terminal_key_pin_file. The read gives the same identity as with the key file; a
# wrong token PIN is 77 before the card is touched, a missing token 69, a key that is not
# there 78, a URI that does not parse 78; a locked PIN 77 and a token gone 69 with
# tests/rig/p11mock (SoftHSM2 never locks); the token PIN is never in an argument vector,
# an environment or stderr. Skipped only without softhsm2 (scripts/install-deps).
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/pcsc.sh"
BB_EID=${BB_EID:-$BB_BIN/bb-eid}

if ! command -v softhsm2-util > /dev/null || [ ! -f /usr/share/p11-kit/modules/softhsm2.module ]
then
	echo "1..0 # SKIP needs softhsm2 (scripts/install-deps)"
	exit 0
fi
# The module the system registers with p11-kit (module: /usr/lib/.../libsofthsm2.so).
module=$(sed -n 's/^module: *//p' /usr/share/p11-kit/modules/softhsm2.module)

EID_PKI=$BB_BIN/eid-pki
export EID_PKI
"$BB_TOP/tests/rig/make-eid-pki" "$EID_PKI" || { echo "Bail out! make-eid-pki failed"; exit 1; }

# The token: the terminal key (and, to be refused, another terminal's and an RSA key).
mkdir -m 0700 tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$scratch" > softhsm2.conf
SOFTHSM2_CONF=$scratch/softhsm2.conf
export SOFTHSM2_CONF
TPIN=24681357
softhsm2-util --init-token --free --label bbterm --so-pin 87654321 --pin "$TPIN" > /dev/null
openssl pkey -inform DER -in "$EID_PKI/terminal/terminal.pkcs8" -out terminal.pem
openssl pkey -inform DER -in "$EID_PKI/terminal/nodg17.pkcs8" -out other.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2> /dev/null
for k in terminal:01 other:02 rsa:03; do
	softhsm2-util --import "${k%:*}.pem" --token bbterm --label "${k%:*}" --id "${k#*:}" \
		--pin "$TPIN" > /dev/null || { echo "Bail out! softhsm2-util --import failed"; exit 1; }
done
rm -f terminal.pem other.pem rsa.pem
printf '%s\n' "$TPIN" > tpin
printf '13572468\n' > badtpin
printf '123456\n' > pin

pcsc_for_test

# cfg KEY [PIN_FILE]: a bb.yaml with the test PKI and eid.terminal_key KEY.
cfg() {
	{
		printf 'eid:\n  pki: %s\n  terminal_key: %s\n' "$EID_PKI" "$1"
		[ -z "${2:-}" ] || printf '  terminal_key_pin_file: %s\n' "$2"
	} > cfg.yaml
}
# rd ARGS...: bb-eid read --new with cfg.yaml, the card PIN on fd 3; out, err, rc.
rd() { BB_CONFIG=cfg.yaml "$BB_EID" read --new --pin-fd 3 "$@" 3< pin > out 2> err; rc=$?; }
retries() { "$BB_EID" info --format json 2> /dev/null | jq -r .pin.retries; }
URI="pkcs11:token=bbterm;object=terminal;type=private"

card_insert erika
cfg "$EID_PKI/terminal/terminal.pkcs8"
rd
ok "$rc" "a read with the key file"
jq -S .identity out > file.json
check "reads Erika with terminal authentication" \
	jq -e '.identity.given_names == "ERIKA" and .identity.verified.ta == true' out

cfg "$URI"
rd --token-pin-fd 4 4< tpin
ok "$rc" "a read with the key in the token, its PIN on --token-pin-fd"
jq -S .identity out > token.json
check_same "the same identity as with the key file" file.json token.json
check_nogrep "nothing on stderr" '.' err

cfg "pkcs11:token=bbterm;id=%01?module-path=$module"
rd --token-pin-fd 4 4< tpin
ok "$rc" "the key by its id, in the module the URI's module-path names"

cp tpin tpin.file
chmod 0600 tpin.file
cfg "$URI" "$scratch/tpin.file"
rd
ok "$rc" "the token PIN from eid.terminal_key_pin_file"
chmod 0640 tpin.file
rd
check "a PIN file others may read is 78 ($rc)" test "$rc" -eq 78
check_grep "says what to chmod" "chmod go-rwx $scratch/tpin.file" err
cfg "$URI"
rd
check "no token PIN at all is 78 ($rc)" test "$rc" -eq 78
check_grep "says where to give it" "token-pin-fd or eid.terminal_key_pin_file" err

# Wrong: the token refuses, the card is never asked (no PIN retry spent, no PACE).
before=$(retries)
rd --token-pin-fd 4 4< badtpin
check "a wrong token PIN is 77 ($rc)" test "$rc" -eq 77
check_grep "says the token refuses the PIN" "refuses the PIN (CKR_PIN_INCORRECT)" err
check_nogrep "never the PIN" "13572468" err
check_same "and no case" /dev/null out
check "the card's PIN retries are untouched ($before, $(retries))" \
	eval 'test "$(retries)" = "$before" && test "$before" = 3'
rd --token-pin-fd 4 4< tpin
ok "$rc" "the right token PIN reads again"

cfg "pkcs11:token=nosuch;object=terminal?pin_value=$TPIN"
rd --token-pin-fd 4 4< tpin
check "no token matching the URI is 69 ($rc)" test "$rc" -eq 69
check_grep "says so, naming the URI's path" "no PKCS#11 token matches pkcs11:token=nosuch;object=terminal$" err
check_nogrep "not its query (a mistyped PIN attribute there)" "$TPIN" err
cfg "pkcs11:token=bbterm;object=nosuch"
rd --token-pin-fd 4 4< tpin
check "an object label that does not exist is 78 ($rc)" test "$rc" -eq 78
check_grep "says so" "no private key in the token bbterm matches" err
cfg "pkcs11:token=bbterm;object=rsa"
rd --token-pin-fd 4 4< tpin
check "an RSA key is 78 ($rc)" test "$rc" -eq 78
check_grep "says it must be ECDSA" "not an elliptic curve key.*ECDSA" err
cfg "pkcs11:token=bbterm;object=other"
rd --token-pin-fd 4 4< tpin
check "another terminal's key is 78 ($rc)" test "$rc" -eq 78
check_grep "says it does not belong to the certificate" \
	"does not belong to the terminal certificate DEBBEID00001" err
cfg "pkcs11:token=bbterm;object=terminal?pin-value=$TPIN"
rd
check "a PIN in the URI is 78 ($rc)" test "$rc" -eq 78
check_grep "says where to give it instead" "pin-value.*refused.*--token-pin-fd" err
check_nogrep "and is not repeated" "$TPIN" err
cfg "pkcs11:token=bbterm;id=%G1"
rd --token-pin-fd 4 4< tpin
check "a URI that does not parse is 78 ($rc)" test "$rc" -eq 78
check_grep "says so" "not a PKCS#11 URI" err
cfg "pkcs11:token=bbterm;objekt=terminal"
rd --token-pin-fd 4 4< tpin
check "an attribute RFC 7512 does not know is 78 ($rc)" test "$rc" -eq 78
check_grep "says so" "an attribute RFC 7512 does not know" err
cfg "pkcs11:token=bbterm;object=terminal;pin_value=$TPIN"
rd
check "a PIN under a mistyped attribute is 78 ($rc)" test "$rc" -eq 78
check_nogrep "and is not repeated either" "$TPIN" err
cfg "$EID_PKI/terminal/terminal.pkcs8"
rd --token-pin-fd 4 4< tpin
check "--token-pin-fd with a key file is 64 ($rc)" test "$rc" -eq 64

# What SoftHSM2 does not do (it never locks a PIN): tests/rig/p11mock, one token "mock",
# as P11MOCK says.
mock="pkcs11:token=mock?module-path=$BB_BIN/rig/p11mock.so"
cfg "$mock"
P11MOCK=locked rd --token-pin-fd 4 4< tpin
check "a token whose PIN is locked is 77 ($rc)" test "$rc" -eq 77
check_grep "says so" "the token mock's PIN is locked (CKF_USER_PIN_LOCKED)" err
P11MOCK=login-locked rd --token-pin-fd 4 4< tpin
check "a PIN the token finds locked at login is 77 ($rc)" test "$rc" -eq 77
check_grep "says so" "PIN is locked (CKR_PIN_LOCKED)" err
P11MOCK=final-try rd --token-pin-fd 4 4< tpin
check "a wrong PIN with one try left is 77 ($rc)" test "$rc" -eq 77
check_grep "says one try is left" "refuses the PIN (CKR_PIN_INCORRECT): one try left" err
P11MOCK=always rd --token-pin-fd 4 4< tpin
check "a key that wants the PIN at every signature is 78 ($rc)" test "$rc" -eq 78
check_grep "says so" "CKA_ALWAYS_AUTHENTICATE" err
before=$(retries)
P11MOCK=gone rd --token-pin-fd 4 4< tpin
check "a token removed before it signs is 69 ($rc)" test "$rc" -eq 69
check_grep "says so" "the token mock is gone" err
check_same "and no case" /dev/null out
P11MOCK= rd --token-pin-fd 4 --trace 4< tpin
check "a signature that does not verify is 78 ($rc)" test "$rc" -eq 78
check_grep "says the key is not the certificate's" "does not belong to the terminal certificate" err
check_grep "after GET CHALLENGE" "SM > 00 84 00 00" err
check_nogrep "and it never reaches the card" "SM > 00 82" err
check "the card's PIN retries are untouched ($before, $(retries))" test "$(retries)" = "$before"

# The token PIN never in an argument vector or an environment: look at every process
# while bb-eid waits for it on its descriptor; nor on stderr or in the trace.
cfg "$URI"
mkfifo slowpin
BB_CONFIG=cfg.yaml "$BB_EID" -v read --new --trace --pin-fd 3 --token-pin-fd 4 3< pin \
	4< slowpin > out 2> trace &
pid=$!
exec 5> slowpin
sleep 0.5
seen=0
for p in /proc/[0-9]*; do
	cat "$p/cmdline" "$p/environ" 2> /dev/null | tr '\0' '\n' | grep -q -e "24681[3]57" && seen=1
done
ok "$seen" "the token PIN is in no process's argument vector or environment"
# (A subshell: when bb-eid is gone, SIGPIPE ends it, not the test.)
(printf '%s\n' "$TPIN" >&5) 2> /dev/null
exec 5>&-
wait $pid
ok "$?" "and the read goes on"
check_nogrep "the token PIN is not in the trace" "$TPIN" trace
check_grep "the trace shows terminal authentication, r || s of brainpoolP256r1" \
	"SM > 00 82 00 00, 64 bytes" trace

card_remove
pcsc_stop
done_testing
