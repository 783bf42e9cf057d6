#!/bin/sh
# The test authority (tests/rig): PKI, token, destination and key, a whole FIT-Connect
# submission by an independent client (jwcrypto) with its signed events, a rejected one,
# the faults, the https target, and a server whose certificate the client must refuse.
# One authority serves the file on purpose (the PKI and the server's start cost seconds);
# the sections lean on what the first ones learnt from it (the key id, the case id).
# Each fault is set by authority_fault, which replaces whatever fault was left.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/authority.sh"

PY=/usr/bin/python3
if ! "$PY" -c 'import jwcrypto' 2> /dev/null || ! command -v openssl > /dev/null ||
    ! command -v curl > /dev/null; then
	echo "1..0 # SKIP needs $PY with jwcrypto, the openssl CLI and curl"
	exit 0
fi
AUTH_PKI=${AUTH_PKI:-$scratch/pki}	# one PKI for every server of this file
S=$scratch/auth

# curl against the authority: the status code on stdout, the body in body, headers in headers.
req() {
	curl -sS --cacert "$S/tls-ca.pem" -o body -D headers -w '%{http_code}' "$@" 2> curl.err
}
token() {
	curl -sS --cacert "$S/tls-ca.pem" -d grant_type=client_credentials -d client_id=bb-test \
		--data-urlencode "client_secret=$(cat "$S/client_secret")" "${AUTH_URL}token" |
		jq -r .access_token
}
is() { [ "$1" = "$2" ] && return 0; echo "# got '$1', want '$2'" >&2; return 1; }

# A FIT-Connect sender written against jwcrypto, independent of bb-submit.
cat > client.py <<'PY'
import hashlib, http.client, json, os, ssl, sys, uuid
from urllib.parse import urlsplit
from jwcrypto import jwe, jwk, jws

URL, DIR, DEST = os.environ["AUTH_URL"], os.environ["AUTH_DIR"], os.environ["AUTH_DESTINATION"]
EV = "https://schema.fitko.de/fit-connect/events/"
ctx = ssl.create_default_context(cafile=DIR + "/tls-ca.pem")
conn = None

def call(method, path, body=None, ctype=None, token=None, url=URL):
    global conn
    if conn is None:    # one connection for the whole flow: the server keeps it alive
        u = urlsplit(url)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    h = {"Content-Type": ctype} if ctype else {}
    if token:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body, h["Content-Type"] = json.dumps(body), "application/json"
    try:
        conn.request(method, urlsplit(url).path + path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        conn = None
        return "dropped", None
    if r.getheader("Content-Type", "").endswith("json") and data:
        data = json.loads(data)
    return r.status, data

def get_token():
    st, t = call("POST", "token", "grant_type=client_credentials&client_id=bb-test&client_secret="
                 + open(DIR + "/client_secret").read().strip(), "application/x-www-form-urlencoded")
    assert st == 200, st
    return t["access_token"]

def events(case, token):
    st, log = call("GET", "v1/cases/%s/events" % case, token=token)
    assert st == 200, st
    st, keys = call("GET", ".well-known/jwks.json")
    out = {"names": [], "verified": True, "claims": []}
    for s in log["eventLog"]:
        t = jws.JWS()
        t.deserialize(s)
        hdr = t.jose_header
        iss = json.loads(t.objects["payload"]).get("iss")
        if iss == DEST:     # the authority's: its signature key, next to the encryption key
            st, k = call("GET", "v1/destinations/%s/keys/%s" % (DEST, hdr.get("kid")))
            key = [k] if st == 200 and k.get("alg") == "PS512" and \
                k.get("key_ops") == ["verify"] and len(k.get("x5c", [])) == 3 else []
        else:
            key = [k for k in keys["keys"] if k["kid"] == hdr.get("kid")]
        try:
            assert hdr.get("typ") == "secevent+jwt" and hdr.get("alg") == "PS512" and key
            t.verify(jwk.JWK(**key[0]), alg="PS512")
        except Exception:
            out["verified"] = False
        c = json.loads(t.objects["payload"])
        out["claims"].append(c)
        out["names"].append(list(c["events"])[0][len(EV):])
    out["count"], out["totalCount"] = log["count"], log["totalCount"]
    return out

def submit(opts):
    out = {}
    token = get_token()
    st, dest = call("GET", "v1/destinations/" + DEST)
    st, key = call("GET", "v1/destinations/%s/keys/%s" % (DEST, dest["encryptionKid"]))
    pub = jwk.JWK(**key)
    def enc(plain):
        e = jwe.JWE(plain, protected=json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM",
                                                 "kid": key["kid"]}))
        e.add_recipient(pub)
        return e.serialize(compact=True)
    data = json.dumps({"fields": {"family_names": "MUSTERMANN"}}).encode()
    blob = os.urandom(40000) + b"MUSTERMANN"
    open("sent-data.json", "wb").write(data)
    open("sent-attachment", "wb").write(blob)
    aid = str(uuid.uuid4())
    st, sub = call("POST", "v1/submissions", {"destinationId": DEST, "announcedAttachments": [aid],
                   "serviceType": {"identifier": "urn:de:fim:leika:leistung:99115005104000",
                                   "name": "Wohnsitz anmelden"}}, token=token)
    out["create"] = st
    sid, case = sub["submissionId"], sub["caseId"]
    out["sid"], out["case"], out["aid"] = sid, case, aid
    if "unannounced" in opts:
        out["unannounced"], _ = call("PUT", "v1/submissions/%s/attachments/%s" % (sid, uuid.uuid4()),
                                     enc(b"x"), "application/jose", token)
    att = enc(blob)
    if "skip-upload" not in opts:
        out["upload"], _ = call("PUT", "v1/submissions/%s/attachments/%s" % (sid, aid), att,
                                "application/jose", token)
    sha = lambda b: hashlib.sha512(b).hexdigest()
    meta = {"$schema": "https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json",
            "contentStructure": {
                "data": {"hash": {"type": "sha512", "content": sha(b"wrong" if "wrong-hash" in opts else data)},
                         "submissionSchema": {"schemaUri": "urn:bb:test:schema",
                                              "mimeType": "application/json"}},
                "attachments": [{"attachmentId": aid, "hash": {"type": "sha512", "content": sha(blob)},
                                 "purpose": "attachment", "mimeType": "application/octet-stream",
                                 "filename": "blob.bin"}]}}
    em, ed = enc(json.dumps(meta).encode()), enc(data)
    out["submit"], _ = call("PUT", "v1/submissions/" + sid,
                            {"encryptedMetadata": em, "encryptedData": ed}, token=token)
    out["sent_tags"] = {"metadata": em.rsplit(".", 1)[1], "data": ed.rsplit(".", 1)[1],
                        "attachments": {aid: att.rsplit(".", 1)[1]}}
    if out["submit"] == 202:
        out["events"] = events(case, token)
    return out

if sys.argv[1] == "submit":
    print(json.dumps(submit(sys.argv[2:])))
else:
    print(json.dumps(events(sys.argv[2], get_token())))
PY
client() { "$PY" client.py "$@" > "$1.json" 2> client.err || diag client.err; }
cv() { jq -r "$1" "$2.json"; }	# cv FILTER submit|events

# PKI: made once, then left alone.
"$BB_TOP/tests/rig/make-pki" "$AUTH_PKI"
ok $? "make-pki makes the PKI"
ls -l --time-style=full-iso "$AUTH_PKI" > pki.before
"$BB_TOP/tests/rig/make-pki" "$AUTH_PKI"
ls -l --time-style=full-iso "$AUTH_PKI" > pki.after
check_same "a second make-pki changes nothing" pki.before pki.after
check "client_secret is 0600, bearer is there" \
	eval 'test "$(stat -c %a "$AUTH_PKI/client_secret")" = 600 && test -s "$AUTH_PKI/bearer"'
openssl x509 -in "$AUTH_PKI/tls-server.pem" -noout -ext subjectAltName > san 2>&1
check_grep "the TLS certificate names 127.0.0.1 and localhost" "IP Address:127.0.0.1, DNS:localhost" san

authority_start "$S"
ok $? "authority_start"
check "it exports AUTH_PORT and AUTH_URL and runs" \
	eval 'test -n "$AUTH_PORT" && test "$AUTH_URL" = "https://127.0.0.1:$AUTH_PORT/" && kill -0 "$AUTH_PID"'
check_grep "bb.yaml names the destination" "destination: $AUTH_DESTINATION\$" "$S/bb.yaml"
check_grep "bb.yaml has the https target" "url: ${AUTH_URL}applications\$" "$S/bb.yaml"
check "TLS verifies for localhost too" \
	curl -sS -o /dev/null --cacert "$S/tls-ca.pem" "https://localhost:$AUTH_PORT/.well-known/jwks.json"

# Token.
code=$(req -d grant_type=client_credentials -d client_id=bb-test \
	--data-urlencode "client_secret=$(cat "$S/client_secret")" "${AUTH_URL}token")
check "token: client_credentials with the secret" \
	is "$code $(jq -r '.token_type, .expires_in, (.access_token | length > 20)' body | xargs)" \
	"200 Bearer 300 true"
code=$(req -d grant_type=client_credentials -d client_id=bb-test -d client_secret=wrong "${AUTH_URL}token")
check "token: a wrong secret is 401 problem+json" \
	eval 'is "$code" 401 && grep -qi "^content-type: application/problem+json" headers'
code=$(req -X POST -H 'Content-Type: application/json' -d '{}' "${AUTH_URL}v1/submissions")
check "submissions without a token: 401" is "$code" 401
code=$(req -H "Authorization: Bearer nonsense" "${AUTH_URL}v1/cases/$AUTH_DESTINATION/events")
check "events with an unknown token: 401" is "$code" 401

# Destination and key.
code=$(req "${AUTH_URL}v1/destinations/$AUTH_DESTINATION")
check "destination: active, metadata 1.2.0, the repository's services, the test schema" \
	is "$code $(jq -r '[.status, .metadataVersions[0], (.services | map(.identifier) |
	index("urn:de:fim:leika:leistung:99115005104000") != null), .services[0].submissionSchemas[0].schemaUri,
	.services[0].submissionSchemas[0].mimeType] | join(" ")' body)" \
	"200 active 1.2.0 true urn:bb:test:schema application/json"
kid=$(jq -r .encryptionKid body)
code=$(req "${AUTH_URL}v1/destinations/$(cat /proc/sys/kernel/random/uuid)")
check "an unknown destination is 404" is "$code" 404
code=$(req "${AUTH_URL}v1/destinations/$AUTH_DESTINATION/keys/$kid")
cp body key.json
check "key (no token needed): RSA-OAEP-256, wrapKey, 4096 bits, three certificates" \
	is "$code $(jq -r '[.kty, .alg, (.key_ops | join(",")), .e, .kid, (.n | length >= 683),
	(.x5c | length)] | join(" ")' key.json)" "200 RSA RSA-OAEP-256 wrapKey AQAB $kid true 3"

# x5c_pem JWKFILE INDEX: one x5c certificate as PEM.
x5c_pem() {
	echo "-----BEGIN CERTIFICATE-----"
	jq -r ".x5c[$2]" "$1" | fold -w 64
	echo "-----END CERTIFICATE-----"
}
x5c_pem key.json 0 > leaf.pem
openssl verify -CAfile "$S/vpki-root.pem" -untrusted "$S/vpki-intermediate.pem" leaf.pem > verify.out 2>&1
ok $? "the x5c leaf verifies to vpki-root.pem through the intermediate"
x5c_pem key.json 1 > x5c1.pem
x5c_pem key.json 2 > x5c2.pem
check "x5c is leaf, intermediate, root" \
	eval 'openssl x509 -in x5c1.pem -noout -fingerprint > a; openssl x509 -in "$S/vpki-intermediate.pem" \
	-noout -fingerprint > b; openssl x509 -in x5c2.pem -noout -fingerprint > c
	openssl x509 -in "$S/vpki-root.pem" -noout -fingerprint > d; cmp -s a b && cmp -s c d'
check "the leaf certifies the served key" \
	"$PY" -c '
import base64, json, subprocess, sys
k = json.load(open("key.json"))
n = int.from_bytes(base64.urlsafe_b64decode(k["n"] + "=="), "big")
m = subprocess.run(["openssl", "x509", "-in", "leaf.pem", "-noout", "-modulus"],
                   capture_output=True, text=True).stdout.strip().split("=")[1]
sys.exit(0 if int(m, 16) == n and n.bit_length() == 4096 else 1)'

# A whole submission by an independent client.
conns=$(authority_state | jq .connections)
client submit
check "create 201, attachment 204, submit 202" \
	is "$(cv '[.create, .upload, .submit] | join(" ")' submit)" "201 204 202"
check "the client's eight requests went over one kept-alive connection" \
	is "$(authority_state | jq ".connections - $conns")" 2
check "the events: create, submit, accept" \
	is "$(cv '.events.names | join(" ")' submit)" "create-submission submit-submission accept-submission"
check "every SET verifies with the JWKS or the destination's signature key (PS512)" \
	is "$(cv .events.verified submit)" true
sid=$(cv .sid submit) case=$(cv .case submit) aid=$(cv .aid submit)
check "SET claims iss (the delivery service; the destination for the verdict), sub, txn, jti, iat" \
	jq -e --arg u "$AUTH_URL" --arg d "$AUTH_DESTINATION" --arg s "submission:$sid" --arg c "case:$case" \
	'.events.claims | (map(.iss) == [$u, $u, $d]) and all(.sub == $s and .txn == $c and (.jti | length == 36)
	and (.iat | type == "number"))' submit.json
check "accept-submission carries the authentication tags that were sent" \
	jq -e '.events.claims[2].events["https://schema.fitko.de/fit-connect/events/accept-submission"]
	.authenticationTags == .sent_tags' submit.json
R=$S/received/$sid
check "decrypted data, attachment and metadata are stored" \
	eval 'cmp -s sent-data.json "$R/data.json" && cmp -s sent-attachment "$R/attachments/$aid" &&
	jq -e ".contentStructure.attachments[0].attachmentId" "$R/metadata.json" > /dev/null &&
	is "$(jq -c . "$R/problems.json")" "[]"'
authority_state > state.json
check "/_control/state shows the submission" \
	jq -e --arg s "$sid" --arg c "$case" --arg a "$aid" '.submissions[$s] | .caseId == $c and
	.submitted and .attachments == [$a] and .problems == []' state.json
check_nogrep "the log holds no decrypted content" MUSTERMANN "$S/authority.log"

client events "$case"
check "the event log can be read again" is "$(cv '.names | length' events)" 3

# What the delivery service refuses or the authority rejects.
client submit wrong-hash unannounced
check "an unannounced attachment is 422; a wrong data hash is reject-submission" \
	is "$(cv '[.unannounced, .submit, .events.names[-1]] | join(" ")' submit)" "422 202 reject-submission"
check "problems.json says hash-mismatch" \
	jq -e '.[0].type | endswith("/hash-mismatch")' "$S/received/$(cv .sid submit)/problems.json"
client submit skip-upload
check "submit with an announced attachment missing is 422" is "$(cv .submit submit)" 422

# Faults.
authority_fault 503
c1=$(req "${AUTH_URL}.well-known/jwks.json") c2=$(req -d x "${AUTH_URL}token")
authority_fault none
c3=$(req "${AUTH_URL}.well-known/jwks.json")
check "503 applies to every request until cleared" is "$c1 $c2 $c3" "503 503 200"
authority_fault once:500
c1=$(req "${AUTH_URL}.well-known/jwks.json") c2=$(req "${AUTH_URL}.well-known/jwks.json")
check "once:500 applies to the next request only" is "$c1 $c2" "500 200"
authority_fault once:429
code=$(req "${AUTH_URL}v1/destinations/$AUTH_DESTINATION")
check "429 with RateLimit-Reset: 7 and Retry-After: 7" \
	eval 'is "$code" 429 && grep -q "^RateLimit-Reset: 7" headers && grep -q "^Retry-After: 7" headers'
authority_fault once:hang
start=$(date +%s)
curl -sS -o /dev/null --max-time 2 --cacert "$S/tls-ca.pem" "${AUTH_URL}.well-known/jwks.json" 2> /dev/null &
hung=$!
sleep 0.5
code=$(req --max-time 5 "${AUTH_URL}.well-known/jwks.json")
wait "$hung"
rc=$?
check "hang: curl --max-time 2 times out while other connections are served" is "$rc $code" "28 200"
check "and it took no longer than the client waited" test $(($(date +%s) - start)) -lt 5
authority_fault token-401
code=$(req -d grant_type=client_credentials -d client_id=bb-test \
	--data-urlencode "client_secret=$(cat "$S/client_secret")" "${AUTH_URL}token")
authority_fault none
check "token-401: the right secret is refused" is "$code" 401
authority_fault key-2048
code=$(req "${AUTH_URL}v1/destinations/$AUTH_DESTINATION/keys/$kid")
check "key-2048 serves a 2048-bit key" is "$code $(jq -r '.n | length' body)" "200 342"
authority_fault key-no-wrapkey
req "${AUTH_URL}v1/destinations/$AUTH_DESTINATION/keys/$kid" > /dev/null
check "key-no-wrapkey serves key_ops without wrapKey" \
	jq -e '.key_ops | index("wrapKey") == null' body
authority_fault key-broken-chain
req "${AUTH_URL}v1/destinations/$AUTH_DESTINATION/keys/$kid" > /dev/null
x5c_pem body 0 > broken.pem
openssl verify -CAfile "$S/vpki-root.pem" -untrusted "$S/vpki-intermediate.pem" broken.pem > verify.out 2>&1
check "key-broken-chain serves a leaf that does not verify" test $? -ne 0
authority_fault set-bad-signature
client events "$case"
authority_fault none
check "set-bad-signature: the SETs do not verify" is "$(cv '.verified' events)" false
authority_fault reject
client submit
check "reject: a correct submission is rejected" \
	is "$(cv '[.submit, .events.names[-1]] | join(" ")' submit)" "202 reject-submission"
authority_fault 422-submit
client submit
open=$(authority_state | jq -r --arg s "$(cv .sid submit)" '.submissions[$s].submitted')
check "422-submit: submit is refused, the submission stays open" \
	eval 'is "$(cv .submit submit)" 422 && is "$open" false'
authority_fault drop
client submit
authority_fault none
check "drop: the attachment upload loses its connection" is "$(cv '.upload' submit)" dropped

# The https target.
new_case case.json
id=$(jqv .id case.json)
post() { req -H "Authorization: Bearer $(cat "$S/bearer")" "$@" "${AUTH_URL}applications"; }
c1=$(post -H "Idempotency-Key: $id" -H 'Content-Type: application/json' --data-binary @case.json)
ref1=$(jq -r .reference body) loc=$(sed -n 's/^Location: *//p' headers | tr -d '\r')
c2=$(post -H "Idempotency-Key: $id" -H 'Content-Type: application/json' --data-binary @case.json)
ref2=$(jq -r .reference body)
check "POST /applications twice with one Idempotency-Key: 201, the same reference, a Location" \
	eval 'is "$c1 $c2 $ref2" "201 201 $ref1" && is "$loc" "${AUTH_URL}applications/$ref1"'
posts=$(authority_state | jq -r --arg i "$id" '.applications[$i].posts, (.applications | length)' | xargs)
check "stored once" eval 'cmp -s case.json "$S/applications/$id/case.json" && is "$posts" "2 1"'
c1=$(req -H "Idempotency-Key: $id" -H 'Content-Type: application/json' --data-binary @case.json "${AUTH_URL}applications")
c2=$(post -H 'Content-Type: application/json' --data-binary @case.json)
c3=$(post -H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)" -H 'Content-Type: application/json' --data-binary @case.json)
check "no bearer 401, no Idempotency-Key 400, a key not the case id 422" \
	is "$c1 $c2 $c3" "401 400 422"
id2=$(cat /proc/sys/kernel/random/uuid)
echo '{"definition": "wohnsitz-anmelden", "version": 1, "fields": {"n": 1}}' > form.json
head -c 30000 /dev/urandom > photo.jpg
code=$(post -H "Idempotency-Key: $id2" -F "form=@form.json;type=application/json" \
	-F "photo=@photo.jpg;type=image/jpeg;filename=photo.jpg")
check "multipart/form-data: form and attachment parts stored byte for byte" \
	eval 'is "$code" 201 && cmp -s photo.jpg "$S/applications/$id2/parts/photo" &&
	cmp -s form.json "$S/applications/$id2/form.json"'

authority_stop
check "authority_stop ends it" ! kill -0 "$AUTH_PID"

# A server with a certificate from another CA is refused.
authority_start "$scratch/other" tls-unknown-ca
curl -sS -o /dev/null --cacert "$scratch/other/tls-ca.pem" "${AUTH_URL}.well-known/jwks.json" 2> /dev/null
rc=$?
check "tls-unknown-ca: curl --cacert tls-ca.pem refuses the server" is "$rc" 60
curl -sS -o /dev/null --cacert "$scratch/other/tls-other-ca.pem" "${AUTH_URL}.well-known/jwks.json"
ok $? "and it is the other CA's certificate"
authority_stop

done_testing
