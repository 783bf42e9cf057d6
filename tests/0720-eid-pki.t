#!/bin/sh
# tests/rig/make-eid-pki: the terminal authentication chain (CVCA, DV, terminals) links
# and carries the intended rights, the CSCA and document signer verify, EF.CardSecurity
# is a CMS SignedData over EF.CardAccess's SecurityInfos plus the chip's CA public key
# that verifies against the CSCA (and the forged one does not), one per card profile,
# OpenPACE's own passive authentication agrees (when libeac-dev and cc are there),
# idempotence and file modes.
. "${0%/*}/lib.sh"

if ! command -v cvc-create > /dev/null || ! command -v cvc-print > /dev/null ||
    ! command -v openssl > /dev/null; then
	echo "1..0 # SKIP needs openpace (cvc-create, cvc-print) and the openssl CLI"
	exit 0
fi
MAKE=$BB_TOP/tests/rig/make-eid-pki
CARDACCESS=$BB_TOP/tests/rig/cards/erika/011C
P=$scratch/pki

is() { [ "$1" = "$2" ] && return 0; echo "# got '$1', want '$2'" >&2; return 1; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
# field FILE NAME: a "  NAME: value" line of cvc-print's output
field() { sed -n "s/^ *$2: //p" "$1" | head -n 1; }

expect_code 64 "usage: no argument" sh "$MAKE"
start=$(date +%s)
expect_code 0 "make-eid-pki runs" sh "$MAKE" "$P"
[ -f "$P/.eid-pki-done" ]
ok $? "done marker written"

# --- The CV certificate chain ------------------------------------------------------------
cvc-print --cvc "$P/cvca/cvca.cvcert" > cvca.txt 2> /dev/null
cvc-print --cvc "$P/dv/dv.cvcert" > dv.txt 2> /dev/null
cvc-print --cvc "$P/terminal/terminal.cvcert" --description "$P/terminal/terminal.desc" \
	> term.txt 2> /dev/null
cvc-print --cvc "$P/terminal/nodg17.cvcert" > nodg17.txt 2> /dev/null
cvc-print --cvc "$P/terminal/expired.cvcert" > expired.txt 2> /dev/null

is "$(field cvca.txt CHR)" DECVCAeID00001 && is "$(field cvca.txt CAR)" DECVCAeID00001
ok $? "CVCA DECVCAeID00001 is self-signed"
is "$(field dv.txt CHR)" DEDVeIDDTR00001 && is "$(field dv.txt CAR)" "$(field cvca.txt CHR)"
ok $? "DV's CAR is the CVCA's CHR"
is "$(field term.txt CHR)" DEBBEID00001 && is "$(field term.txt CAR)" "$(field dv.txt CHR)"
ok $? "terminal's CAR is the DV's CHR"
is "$(field nodg17.txt CAR)" DEDVeIDDTR00001 && is "$(field expired.txt CAR)" DEDVeIDDTR00001
ok $? "the restricted and the expired terminal certificates are the DV's too"
check_grep "CVCA role" "CVCA certificate" cvca.txt
check_grep "DV role (domestic)" "DV certificate" dv.txt
check_grep "terminal role" "Terminal certificate" term.txt
grep -q "Authentication terminal" cvca.txt && grep -q "Authentication terminal" term.txt
ok $? "type authentication terminal"
cmp -s "$P/dv/dv.cvcert" "$P/terminal/dv.cvcert"
ok $? "terminal/dv.cvcert is the DV certificate"

# rights FILE: the CHAT's lines, "Read DG N" shortened, one a line
rights() { sed -n 's/^      \(Read DG [0-9]*\).*/\1/p; s/^      \([A-Z][A-Za-z ]*\)$/\1/p' "$1" |
	grep -v certificate; }
rights cvca.txt > cvca.rights
{
	printf '%s\n' "Age Verification" "Community ID Verification" "Restricted Identification" \
		"CAN allowed" "PIN Management"
	i=1; while [ $i -le 21 ]; do echo "Read DG $i"; i=$((i + 1)); done
} > want.rights
check_same "CVCA: every read right, age, community id, RI, CAN, PIN management" \
	want.rights cvca.rights
rights dv.txt > dv.rights
check_same "DV: the CVCA's rights" want.rights dv.rights
{
	echo "CAN allowed"
	i=1; while [ $i -le 13 ]; do echo "Read DG $i"; i=$((i + 1)); done
	echo "Read DG 17"; echo "Read DG 18"; echo "Read DG 19"; echo "Read DG 20"
} > want.rights
rights term.txt > term.rights
check_same "terminal: CAN allowed, read DG1-DG13, DG17-DG20, nothing else" want.rights term.rights
grep -v "Read DG 17" want.rights > want-nodg17.rights
rights nodg17.txt > nodg17.rights
check_same "restricted terminal: the same without DG17" want-nodg17.rights nodg17.rights
cvc-print --cvc "$P/terminal/nocan.cvcert" > nocan.txt 2> /dev/null
grep -v "CAN allowed" want.rights > want-nocan.rights
rights nocan.txt > nocan.rights
check_same "terminal without the CAN: the same without CAN allowed" want-nocan.rights nocan.rights
check_nogrep "restricted terminal: no DG17" "Read DG 17" nodg17.txt

check_grep "certificate description matches the terminal certificate" \
	"^certificate description matches certificate" term.txt
grep -q "^issuerName.bb test DV" term.txt && grep -q "^subjectName.bb Testbehoerde" term.txt &&
	grep -q "^termsOfUsage" term.txt
ok $? "description: issuer and subject names, terms of usage"

# day FILE NAME: a date of cvc-print's as a number YYYYMMDD
day() { field "$1" "$2" | tr -d -; }
today=$(TZ=UTC date +%Y%m%d)	# make-eid-pki dates in UTC
eff=$(day term.txt "Effective Date") exp=$(day term.txt "Expiration Date")
[ "$eff" -eq "$today" ] && [ "$exp" -gt "$today" ]
ok $? "terminal valid now ($eff .. $exp)"
exp=$(day expired.txt "Expiration Date")
[ "$exp" -lt "$today" ]
ok $? "expired terminal certificate expired ($exp)"
[ "$(day cvca.txt "Expiration Date")" -gt "$(day dv.txt "Expiration Date")" ] &&
	[ "$(day dv.txt "Expiration Date")" -gt "$(day term.txt "Expiration Date")" ]
ok $? "expiry CVCA > DV > terminal"

# OpenPACE's lookup: the file cvca-trust/<CAR>; a dir with the DV too verifies a terminal.
ls "$P/cvca-trust" > trust.ls
echo DECVCAeID00001 > want.ls
check_same "cvca-trust holds the CVCA under its CHR" want.ls trust.ls
cmp -s "$P/cvca/cvca.cvcert" "$P/cvca-trust/DECVCAeID00001"
ok $? "cvca-trust/DECVCAeID00001 is the CVCA certificate"
cvc-print --cvc-dir="$P/cvca-trust" --cvc "$P/dv/dv.cvcert" > v.txt 2>&1
check_grep "DV verifies against cvca-trust (cvc-print --cvc-dir)" "^certificate verified" v.txt
mkdir chain && cp "$P/cvca/cvca.cvcert" chain/DECVCAeID00001 &&
	cp "$P/dv/dv.cvcert" chain/DEDVeIDDTR00001
cvc-print --cvc-dir=chain --cvc "$P/terminal/terminal.cvcert" > v.txt 2>&1
check_grep "terminal verifies against its DV" "^certificate verified" v.txt
cvc-print --cvc-dir=chain --cvc "$P/terminal/nodg17.cvcert" > v.txt 2>&1
check_grep "restricted terminal verifies against its DV" "^certificate verified" v.txt
cvc-print --cvc-dir=chain --cvc "$P/terminal/expired.cvcert" > v.txt 2>&1
check_grep "expired terminal does not verify" "^certificate not verified" v.txt
cvc-print --cvc-dir="$P/cvca-trust" --cvc "$P/terminal/terminal.cvcert" > v.txt 2>&1
check_grep "terminal alone does not verify against the CVCA (the DV is needed)" \
	"^certificate not verified" v.txt

for k in cvca/cvca dv/dv terminal/terminal terminal/nodg17 terminal/expired; do
	openssl pkey -inform DER -in "$P/$k.pkcs8" -noout 2> /dev/null || break
done
ok $? "private keys are PKCS#8 DER"

# --- Passive authentication --------------------------------------------------------------
expect_code 0 "DS verifies against the CSCA" \
	openssl verify -x509_strict -CAfile "$P/csca/csca.pem" "$P/csca/ds.pem"
expect_code 0 "... and against csca/ as a hashed directory (OpenPACE's x509 dir)" \
	openssl verify -no-CAfile -no-CAstore -CApath "$P/csca" "$P/csca/ds.pem"
h=$(openssl x509 -hash -noout -in "$P/csca/csca.pem")
cmp -s "$P/csca/csca.pem" "$P/csca/$h.0"
ok $? "csca/$h.0 is the CSCA"
openssl x509 -in "$P/csca/csca.pem" -noout -text > csca.txt
check_grep "CSCA: CA:TRUE" "CA:TRUE" csca.txt
check_grep "CSCA: brainpoolP256r1" "brainpoolP256r1" csca.txt
must_fail "forged DS does not verify against the CSCA" \
	openssl verify -CAfile "$P/csca/csca.pem" "$P/forged/ds.pem"

openssl asn1parse -inform DER -in "$P/card/011D" > 011D.asn1 2>&1
check_grep "011D: SignedData" ":pkcs7-signedData" 011D.asn1
check_grep "011D: eContentType id-SecurityObject" "OBJECT *:0.4.0.127.0.7.3.2.1$" 011D.asn1
expect_code 0 "011D verifies against the CSCA" openssl cms -verify -inform DER \
	-in "$P/card/011D" -CAfile "$P/csca/csca.pem" -out content.der
cmp -s content.der "$P/card/securityinfos.der"
ok $? "its content is card/securityinfos.der"
openssl asn1parse -inform DER -in content.der > content.asn1 2>&1
ok $? "the content parses"
check_grep "content holds id-PK-ECDH" "OBJECT *:0.4.0.127.0.7.2.2.1.2$" content.asn1
check_grep "... with standardized domain parameters" "OBJECT *:0.4.0.127.0.7.1.2$" content.asn1
# The SET's members: EF.CardAccess's, then the ChipAuthenticationPublicKeyInfo.
body() {	# body HEX: a SET's contents (the header stripped)
	case $1 in
	3181*) echo "${1#??????}" ;;
	3182*) echo "${1#????????}" ;;
	31*) echo "${1#????}" ;;
	esac
}
ca_body=$(body "$(hex "$CARDACCESS")")
c=$(body "$(hex content.der)")
[ -n "$ca_body" ] && case $c in "$ca_body"30*) true ;; *) false ;; esac
ok $? "content starts with EF.CardAccess's SecurityInfos"
pk=$(hex "$P/card/ca.pub.der" | sed 's/.*\(04.\{128\}\)$/\1/')
[ ${#pk} -eq 130 ] && case $c in "$ca_body"*"$pk"020141) true ;; *) false ;; esac
ok $? "content: then the chip's CA public key (card/ca.pub.der), keyId 65"
openssl pkey -inform DER -in "$P/card/ca.key" -pubout -outform DER 2> /dev/null > pub.der
cmp -s pub.der "$P/card/ca.pub.der"
ok $? "card/ca.key (PKCS#8 DER) is the key pair of ca.pub.der"
openssl pkey -inform DER -in "$P/card/ca.key" -noout -text 2> /dev/null | grep -q brainpoolP256r1
ok $? "chip CA key on brainpoolP256r1"

must_fail "011D.forged does not verify against the CSCA" openssl cms -verify -inform DER \
	-in "$P/card/011D.forged" -CAfile "$P/csca/csca.pem" -out /dev/null
expect_code 0 "011D.forged verifies against its own (forged) CSCA" openssl cms -verify \
	-inform DER -in "$P/card/011D.forged" -CAfile "$P/forged/csca.pem" -out forged.der
cmp -s forged.der content.der
ok $? "... with the same content"

# OpenPACE's passive authentication: EAC_CTX_init_ef_cardsecurity on a context set up from
# EF.CardAccess runs PKCS7_verify against EAC_set_x509_default_dir. (CA_get_pubkey alone
# does not: its fresh inner context has no CA context, so the check is skipped.)
if command -v cc > /dev/null && [ -f /usr/include/eac/eac.h ]; then
	cat > pa.c <<'EOF'
#include <eac/eac.h>
#include <eac/ca.h>
#include <stdio.h>
static size_t slurp(const char *p, unsigned char *b, size_t n)
{
	FILE *f = fopen(p, "rb");
	size_t r = f ? fread(b, 1, n, f) : 0;
	if (f) fclose(f);
	return r;
}
int main(int argc, char **argv)	/* pa X509DIR EF.CardAccess EF.CardSecurity */
{
	static unsigned char a[4096], s[8192];
	size_t an, sn;
	EAC_CTX *ctx;
	BUF_MEM *pk;
	int r;

	if (argc != 4) return 2;
	an = slurp(argv[2], a, sizeof a);
	sn = slurp(argv[3], s, sizeof s);
	EAC_init();
	EAC_set_x509_default_dir(argv[1]);
	ctx = EAC_CTX_new();
	if (!ctx || !EAC_CTX_init_ef_cardaccess(a, an, ctx)) return 3;
	r = EAC_CTX_init_ef_cardsecurity(s, sn, ctx);
	pk = r ? CA_get_pubkey(ctx, s, sn) : NULL;
	printf("%d %d\n", r, pk != NULL);
	return r && pk ? 0 : 1;
}
EOF
	if cc -o pa pa.c -leac -lcrypto 2> cc.err; then
		expect_code 0 "OpenPACE: passive authentication of 011D with csca/ succeeds" \
			./pa "$P/csca" "$CARDACCESS" "$P/card/011D"
		expect_code 1 "OpenPACE: passive authentication of 011D.forged fails" \
			./pa "$P/csca" "$CARDACCESS" "$P/card/011D.forged"
	else
		diag cc.err
		ok 1 "compiling the OpenPACE check"
	fi
else
	echo "ok $((_n + 1)) # SKIP no cc or libeac-dev for the OpenPACE check"
	_n=$((_n + 1))
fi

# --- EF.CardSecurity per card profile ----------------------------------------------------
for prof in "$BB_TOP"/tests/rig/cards/*/; do
	prof=${prof%/}
	name=${prof##*/}
	[ -f "$prof/011C" ] || continue
	openssl cms -verify -inform DER -in "$P/card/$name/011D" -CAfile "$P/csca/csca.pem" \
		-out "$name.content" 2> /dev/null &&
		cmp -s "$name.content" "$P/card/$name/securityinfos.der"
	ok $? "card/$name/011D verifies against the CSCA, over card/$name/securityinfos.der"
	c=$(body "$(hex "$name.content")")
	case $c in "$(body "$(hex "$prof/011C")")"*"$pk"020141) true ;; *) false ;; esac
	ok $? "... $name's EF.CardAccess infos, then the chip's CA public key"
	must_fail "card/$name/011D.forged does not verify" openssl cms -verify -inform DER \
		-in "$P/card/$name/011D.forged" -CAfile "$P/csca/csca.pem" -out /dev/null
done
cmp -s "$P/card/erika/securityinfos.der" "$P/card/securityinfos.der"
ok $? "card/011D is erika's (the same SecurityInfos)"
grep -q 0.4.0.127.0.7.2.2.4.2.4 <<EOF
$(openssl asn1parse -inform DER -in "$P/card/jeanne/securityinfos.der")
EOF
ok $? "jeanne's announces id-PACE-ECDH-GM-AES-CBC-CMAC-256"

# --- Files, idempotence, concurrency -----------------------------------------------------
find "$P" -type f ! -perm 600 > badmode
find "$P" -type d ! -perm 700 >> badmode
check_same "every file 0600, every directory 0700" /dev/null badmode
find "$P" -name '.tmp.*' > leftovers
check_same "no temporary directory left" /dev/null leftovers

sums() { (cd "$P" && find . -type f | sort | xargs sha256sum) > "$1"; }
sums before
expect_code 0 "second run succeeds" sh "$MAKE" "$P"
sums after
check_same "second run changes nothing" before after
rm "$P/.eid-pki-done"
expect_code 0 "a run without the done marker (a killed run) redoes everything" sh "$MAKE" "$P"
sums redone
! cmp -s before redone && [ -f "$P/.eid-pki-done" ]
ok $? "... with new keys"

Q=$scratch/concurrent
sh "$MAKE" "$Q" > c1.out 2>&1 & p1=$!
sh "$MAKE" "$Q" > c2.out 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ -f "$Q/.eid-pki-done" ] &&
	openssl cms -verify -inform DER -in "$Q/card/011D" -CAfile "$Q/csca/csca.pem" \
	-out /dev/null 2> /dev/null
ok $? "two concurrent runs on one directory give one consistent set"

elapsed=$(($(date +%s) - start))
[ $elapsed -lt 30 ]
ok $? "quick enough (${elapsed}s)"

done_testing
