#!/bin/sh
# lib/jose against an independent JOSE implementation, python3-jwcrypto, through the rig's
# jose-tool: our JWEs (1 MiB of random bytes, a small JSON document, nothing) decrypt
# there byte for byte with the header FIT-Connect expects, theirs decrypt here; PS512
# SETs signed there verify here, changed ones do not; and the destination key rules
# against a chain made with the openssl CLI (root, intermediate, leaf, x5c in base64 DER).
. "${0%/*}/lib.sh"

PY=/usr/bin/python3
JOSE=$BB_BIN/rig/jose-tool

if ! "$PY" -c 'import jwcrypto' 2>/dev/null || ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP needs $PY with jwcrypto and the openssl CLI"
	exit 0
fi

is() { [ "$1" = "$2" ] && return 0; echo "# got '$1', want '$2'" >&2; return 1; }

cat > jw.py <<'PY'
"""The jwcrypto side: keys, decryption, encryption and PS512 signatures."""
import base64, json, sys
from jwcrypto import jwe, jwk, jws

def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def read(path):
    with open(path, "rb") as f:
        return f.read()

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "genkey":
    # genkey BITS KID PRIV_JWK PUB_JWK PEM: the public JWK as a destination publishes it.
    bits, kid, priv, pub, pem = int(args[0]), args[1], args[2], args[3], args[4]
    key = jwk.JWK.generate(kty="RSA", size=bits)
    write(priv, key.export_private())
    p = json.loads(key.export_public())
    p.update(alg="RSA-OAEP-256", key_ops=["wrapKey"], kid=kid)
    write(pub, json.dumps(p))
    write(pem, key.export_to_pem(private_key=True, password=None))
elif cmd == "decrypt":
    # decrypt PRIV_JWK JWE PLAIN HEADER: only the algorithms FIT-Connect uses are allowed.
    key = jwk.JWK.from_json(read(args[0]))
    compact = read(args[1]).decode().strip()
    e = jwe.JWE(algs=["RSA-OAEP-256", "A256GCM"])
    e.deserialize(compact, key)
    write(args[2], e.payload)
    seg = compact.split(".")[0]
    write(args[3], base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
elif cmd == "decrypt-raw":
    # decrypt-raw PEM JWE PLAIN: the same with python3-cryptography's primitives, for
    # what jwcrypto 1.1 cannot take (an empty plaintext reads to it as no plaintext).
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    def b64d(s):
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    key = serialization.load_pem_private_key(read(args[0]), None)
    h, ek, iv, ct, tag = read(args[1]).decode().strip().split(".")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                        label=None)
    cek = key.decrypt(b64d(ek), oaep)
    write(args[2], AESGCM(cek).decrypt(b64d(iv), b64d(ct) + b64d(tag), h.encode()))
elif cmd == "encrypt":
    # encrypt PUB_JWK PLAIN JWE
    key = jwk.JWK.from_json(read(args[0]))
    e = jwe.JWE(read(args[1]), json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM",
                                           "kid": key.get("kid")}))
    e.add_recipient(key)
    write(args[2], e.serialize(compact=True))
elif cmd == "sign":
    # sign PRIV_JWK ALG PAYLOAD JWS
    key = jwk.JWK.from_json(read(args[0]))
    s = jws.JWS(read(args[2]))
    s.add_signature(key, None, json.dumps({"typ": "secevent+jwt", "alg": args[1],
                                           "kid": "set-1"}))
    write(args[3], s.serialize(compact=True))
PY
jw() { "$PY" jw.py "$@"; }

jw genkey 4096 enc-1 enc-priv.json enc.json enc.pem
jw genkey 4096 set-1 set-priv.json set.json set.pem
jw genkey 2048 small-1 small-priv.json small.json small.pem
check "jwcrypto made the keys" eval 'test -s enc.json && test -s set.json && test -s small.json'

# ---- our JWE, their decryption ----

head -c 1048576 /dev/urandom > big.bin
STDIN=big.bin expect_code 0 "encrypt 1 MiB of random bytes" "$JOSE" encrypt enc.json
mv out big.jwe
check "jwcrypto decrypts it" jw decrypt enc-priv.json big.jwe big.out big.hdr
check "byte for byte the plaintext" cmp -s big.bin big.out
check "the protected header is alg RSA-OAEP-256, enc A256GCM, the JWK's kid, nothing else" \
	is "$(jq -cS . big.hdr)" '{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"enc-1"}'
check "compact: five segments" is "$(tr -cd . < big.jwe | wc -c)" 4
check "base64url only, no padding" test -z "$(tr -d 'A-Za-z0-9_.-' < big.jwe)"
STDIN=big.jwe expect_code 0 "tag" "$JOSE" tag
check "the tag is the last segment" is "$(cat out)" "$(cut -d. -f5 big.jwe)"

cat > doc.json <<'JSON'
{"antrag": "Meldebescheinigung", "name": "Müller-Lüdenscheidt", "n": [1, 2, 3]}
JSON
STDIN=doc.json expect_code 0 "encrypt a small JSON document with cty" \
	"$JOSE" encrypt -t application/json enc.json
mv out doc.jwe
check "jwcrypto decrypts it" jw decrypt enc-priv.json doc.jwe doc.out doc.hdr
check "byte for byte the document" cmp -s doc.json doc.out
check "the header, cty last" \
	is "$(jq -c . doc.hdr)" \
	'{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"enc-1","cty":"application/json"}'

STDIN=doc.json "$JOSE" encrypt enc.json > doc2.jwe
check "the same document encrypts differently each time" \
	test "$(cut -d. -f2- doc.jwe)" != "$(cut -d. -f2- doc2.jwe)"

: > empty.bin
STDIN=empty.bin expect_code 0 "encrypt nothing" "$JOSE" encrypt enc.json
mv out empty.jwe
check "python3-cryptography decrypts it to nothing" \
	eval 'jw decrypt-raw enc.pem empty.jwe empty.out && test -f empty.out && \
	! test -s empty.out'
check "and the document, too" \
	eval 'jw decrypt-raw enc.pem doc.jwe doc.raw && cmp -s doc.json doc.raw'

# A JWE for another key: jwcrypto refuses it, as it should.
STDIN=doc.json "$JOSE" encrypt set.json > other.jwe
check "a JWE for another key does not decrypt there" \
	eval 'jw decrypt enc-priv.json other.jwe x.out x.hdr 2>/dev/null; test $? -ne 0'

# ---- their JWE, our decryption ----

check "jwcrypto encrypts 1 MiB" jw encrypt enc.json big.bin theirs.jwe
STDIN=theirs.jwe expect_code 0 "jose-tool decrypts jwcrypto's JWE" "$JOSE" decrypt enc.pem
check "byte for byte" cmp -s big.bin out
STDIN=theirs.jwe expect_code 76 "not with another key" "$JOSE" decrypt set.pem

# ---- PS512 SETs signed by jwcrypto ----

cat > set-payload.json <<'JSON'
{"jti": "2b0f3c1e-1f5a-4b7e-9b1e-8f0c2d3e4a5b", "iss": "https://dvdv.example/",
 "iat": 1764496503, "sub": "submission:9a1c4d2e-0000-4000-8000-000000000001",
 "txn": "case:77b2e3f4-0000-4000-8000-000000000002",
 "events": {"https://schema.fitko.de/fit-connect/events/accept-submission":
   {"authenticationTags": {"metadata": "XFBoMYUZodetZdvTiFvSkQ",
                           "data": "Mz-VPPyU4RlcuYv1IwIvzw", "attachments": {}}}}}
JSON
jw sign set-priv.json PS512 set-payload.json set.jws
STDIN=set.jws expect_code 0 "a PS512 SET from jwcrypto verifies" "$JOSE" verify-ps512 set.json
check "and gives its payload" is "$(jq -cS . out)" "$(jq -cS . set-payload.json)"

STDIN=set.jws expect_code 76 "not with another key" "$JOSE" verify-ps512 enc.json
check_grep "says why" "signature does not verify" err

# One character of the signature changed.
sig=$(cut -d. -f3 set.jws)
rest=${sig#?}
case $sig in A*) sig=B$rest ;; *) sig=A$rest ;; esac
printf '%s.%s' "$(cut -d. -f1,2 set.jws)" "$sig" > bad-sig.jws
STDIN=bad-sig.jws expect_code 76 "a changed signature is refused" "$JOSE" verify-ps512 set.json
check_grep "says why" "signature does not verify" err

# Another payload under the same signature.
printf '{"iss":"https://attacker.example/"}' | base64 -w0 | tr '+/' '-_' | tr -d '=' > p.b64
printf '%s.%s.%s' "$(cut -d. -f1 set.jws)" "$(cat p.b64)" "$(cut -d. -f3 set.jws)" > bad-payload.jws
STDIN=bad-payload.jws expect_code 76 "a changed payload is refused" "$JOSE" verify-ps512 set.json
check "and nothing of it is printed" test ! -s out

# Signed well, but not PS512.
jw sign set-priv.json RS512 set-payload.json rs.jws
STDIN=rs.jws expect_code 76 "an RS512 SET is refused" "$JOSE" verify-ps512 set.json
check_grep "names the algorithm" "alg is not PS512" err
jw sign set-priv.json PS256 set-payload.json ps256.jws
STDIN=ps256.jws expect_code 76 "a PS256 SET is refused" "$JOSE" verify-ps512 set.json

# ---- destination key rules against a chain made by the openssl CLI ----

ca_ext='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always'
printf '%s\n' "$ca_ext" > ca.ext
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,keyEncipherment' \
	'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid:always' > leaf.ext

serial() { echo "0x$(openssl rand -hex 8)"; }
# ca NAME SUBJECT [ISSUER]: an EC CA key and certificate, self-signed without ISSUER.
ca() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null &&
	if [ -z "$3" ]; then
		openssl req -x509 -new -key "$1.key" -subj "$2" -days 3650 -sha256 \
			-addext 'basicConstraints=critical,CA:TRUE' \
			-addext 'keyUsage=critical,keyCertSign,cRLSign' -out "$1.pem" 2>/dev/null
	else
		openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "$(serial)" \
			-days 1825 -sha256 -extfile ca.ext -out "$1.pem" 2>/dev/null
	fi
}
# leaf KEY_PEM ISSUER OUT: a leaf certificate for an RSA key.
leaf() {
	openssl req -new -key "$1" -subj "/CN=bb test destination" -out "$3.csr" 2>/dev/null &&
	openssl x509 -req -in "$3.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$(serial)" \
		-days 365 -sha256 -extfile leaf.ext -out "$3" 2>/dev/null
}
der64() { openssl x509 -in "$1" -outform DER | base64 -w0; }
# with_x5c JWK OUT CERT...: the JWK with x5c from the certificates, in order.
with_x5c() {
	_jwk=$1 _out=$2
	shift 2
	for _c; do der64 "$_c"; echo; done | jq -R . | jq -s . > x5c.json
	jq --slurpfile x x5c.json '. + {x5c: $x[0]}' "$_jwk" > "$_out"
}

ca root "/CN=bb test root" && ca inter "/CN=bb test intermediate" root &&
	leaf enc.pem inter leaf.pem
ok $? "openssl made root, intermediate and leaf"
with_x5c enc.json dest.json leaf.pem inter.pem root.pem
check "x5c: three certificates in standard base64" \
	jq -e '.x5c | length == 3 and all(test("^[A-Za-z0-9+/]+=*$"))' dest.json

expect_code 0 "check-key accepts the destination key" "$JOSE" check-key dest.json root.pem
check "silently" test ! -s err

# The 2048-bit key with a chain just as good.
leaf small.pem inter small-leaf.pem
with_x5c small.json small-dest.json small-leaf.pem inter.pem root.pem
expect_code 77 "check-key refuses a 2048-bit key" "$JOSE" check-key small-dest.json root.pem
check_grep "names the rule" "destination key: modulus has 2048 bits, need 4096" err

# The leaf signed by another root under the same name.
ca evil "/CN=bb test root" && leaf enc.pem evil evil-leaf.pem
with_x5c enc.json broken.json evil-leaf.pem inter.pem root.pem
expect_code 77 "check-key refuses a leaf signed by another root" \
	"$JOSE" check-key broken.json root.pem
check_grep "names the chain" "destination key: x5c chain does not verify" err
with_x5c enc.json broken2.json evil-leaf.pem evil.pem
expect_code 77 "also when that root travels in x5c" "$JOSE" check-key broken2.json root.pem
expect_code 77 "the right chain against the wrong root" "$JOSE" check-key dest.json evil.pem

# Without the intermediate; with the leaf of another key.
with_x5c enc.json short.json leaf.pem root.pem
expect_code 77 "check-key refuses a chain without the intermediate" \
	"$JOSE" check-key short.json root.pem
with_x5c set.json swapped.json leaf.pem inter.pem root.pem
jq '.kid = "enc-1"' swapped.json > swapped2.json
expect_code 77 "check-key refuses n/e that are not the leaf's" \
	"$JOSE" check-key swapped2.json root.pem
check_grep "names the rule" "is for another key than n/e" err

jq 'del(.x5c)' dest.json > nox5c.json
expect_code 77 "check-key refuses a key without x5c" "$JOSE" check-key nox5c.json root.pem
jq '.key_ops = ["encrypt"]' dest.json > ops.json
expect_code 77 "check-key refuses key_ops without wrapKey" "$JOSE" check-key ops.json root.pem
expect_code 78 "a missing trust file is a configuration error" \
	"$JOSE" check-key dest.json nosuch.pem

# An expired leaf: `openssl ca` takes explicit dates (OpenSSL 3.0's x509 -req does not).
openssl req -new -key enc.pem -subj "/CN=bb test destination" -out old.csr 2>/dev/null
mkdir -p ca-db && : > ca-db/index.txt && echo 01 > ca-db/serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = p
copy_extensions = none
x509_extensions = x
[p]
commonName = supplied
[x]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
CNF
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -in old.csr \
	-startdate 20200101000000Z -enddate 20210101000000Z -out old-leaf.pem >/dev/null 2>&1
ok $? "openssl ca made a leaf that expired in 2021"
with_x5c enc.json expired.json old-leaf.pem inter.pem root.pem
expect_code 77 "check-key refuses an expired leaf" "$JOSE" check-key expired.json root.pem
check_grep "names the rule" "certificate has expired (leaf)" err

done_testing
