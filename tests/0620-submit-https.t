#!/bin/sh
# bb-submit to a town's own HTTPS endpoint (the test authority's /applications): JSON and
# multipart, the case id as Idempotency-Key, bearer token from a file, every status.
. "${0%/*}/lib.sh"
. "$BB_TOP/tests/rig/authority.sh"

authority_for_test "$scratch/auth"

write_identity_case a.json
A=$(jqv .id a.json)
printf 'photo' > p.bin
jq --arg d "$(base64 -w0 p.bin)" --arg s "$(sha512sum p.bin | cut -d' ' -f1)" \
	--arg id "$(cat /proc/sys/kernel/random/uuid)" '.id = $id | .form = {"definition": "x", "fields": {"n": 1}} | .attachments = [{"name": "photo", "type": "image/jpeg", "sha512": $s, "data": $d}]' \
	a.json > att.json

expect_code 0 "POST the case as JSON" "$BB_SUBMIT" --target town a.json
check "the status and the authority's reference are recorded" \
	jq -e '.submission.state == "delivered" and .submission.https.status == 201 and (.submission.https.reference | length) > 0' out
ref=$(jqv .submission.https.reference out)
check "the authority got the case, without bb's bookkeeping" \
	jq -e '.identity.family_names == "MUSTERMANN" and (has("submission") | not)' "$AUTH_DIR/applications/$A/case.json"
cp out once.json
STDIN=once.json expect_code 0 "delivering the same case again" "$BB_SUBMIT" --target town
check "the Idempotency-Key makes it the same application" \
	test "$(jqv .submission.https.reference out)" = "$ref"
authority_state > state.json
check "stored once" test "$(jq '.applications | length' state.json)" -eq 1

sed 's/^      bearer_token_file: .*$/&\n      format: multipart/' "$AUTH_DIR/bb.yaml" > multi.yaml
grep -q 'format: multipart' multi.yaml || sed -i '/kind: https/a\      format: multipart' multi.yaml
expect_code 0 "POST as multipart" "$BB_SUBMIT" -c multi.yaml --target town att.json
B=$(jqv .id att.json)
check "the form part and each attachment as parts" \
	eval 'cmp -s p.bin "$AUTH_DIR/applications/$B/parts/photo" && jq -e ".fields.n == 1" "$AUTH_DIR/applications/$B/form.json"'

echo wrong > badtoken
chmod 600 badtoken
sed "s#bearer_token_file: .*#bearer_token_file: $scratch/badtoken#" "$AUTH_DIR/bb.yaml" > badtok.yaml
expect_code 77 "a refused bearer token is 77" "$BB_SUBMIT" -c badtok.yaml --target town a.json
sed "s#bearer_token_file: .*#bearer_token_file: $scratch/nosuch#" "$AUTH_DIR/bb.yaml" > notok.yaml
expect_code 78 "an unreadable token file is 78" "$BB_SUBMIT" -c notok.yaml --target town a.json
authority_fault 500
expect_code 75 "500 is 75" "$BB_SUBMIT" --target town a.json
authority_fault 429
expect_code 75 "429 is 75" "$BB_SUBMIT" --target town a.json
check "with retry_after" jq -e '.submission.retry_after == 7' out
authority_fault none
jq '.id = "11111111-2222-4333-8444-555555555555"' a.json > other.json
sed "s#url: \(.*\)applications#url: \1nowhere#" "$AUTH_DIR/bb.yaml" > nowhere.yaml
expect_code 76 "an endpoint that is not there (404) is 76" "$BB_SUBMIT" -c nowhere.yaml --target town a.json
sed "s#url: https://#url: http://#" "$AUTH_DIR/bb.yaml" > plain.yaml
expect_code 78 "a plain http URL is refused" "$BB_SUBMIT" -c plain.yaml --target town a.json
# Secrets others can read are refused, as ssh refuses an unprotected key; so is a CA file
# others can write (it decides whom bb believes).
authority_state > before.json
cp "$AUTH_DIR/bearer" open-bearer
chmod 640 open-bearer
sed "s#bearer_token_file: .*#bearer_token_file: $scratch/open-bearer#" "$AUTH_DIR/bb.yaml" > open.yaml
expect_code 78 "a bearer token file readable by its group is refused (78)" "$BB_SUBMIT" -c open.yaml --target town a.json
check_grep "saying what to chmod" "bearer_token_file $scratch/open-bearer: mode 0640 .*chmod go-rwx" err
cp "$AUTH_DIR/tls-ca.pem" open-ca.pem
chmod 664 open-ca.pem
sed "s#ca_file: .*#ca_file: $scratch/open-ca.pem#" "$AUTH_DIR/bb.yaml" > openca.yaml
expect_code 78 "a ca_file writable by its group is refused (78)" "$BB_SUBMIT" -c openca.yaml --target town a.json
check_grep "saying what to chmod" "ca_file $scratch/open-ca.pem: mode 0664 .*chmod go-w" err
chmod 644 open-ca.pem
expect_code 0 "a ca_file others may only read is fine" "$BB_SUBMIT" -c openca.yaml --target town a.json
authority_state > after.json
check "nothing was sent with the refused files" \
	test "$(jq '.requests | length' before.json)" -eq "$(($(jq '.requests | length' after.json) - 1))"

token=$(cat "$AUTH_DIR/bearer")
"$BB_SUBMIT" -vvv --target town a.json > t.out 2> t.err
check_nogrep "the bearer token is not on stderr" "$token" t.err
check_nogrep "nor in the case" "$token" t.out

# Mutual TLS: a town whose endpoint wants the terminal's client certificate.
authority_stop
authority_start "$scratch/mtls" client-cert
expect_code 75 "without the client certificate the TLS handshake fails" "$BB_SUBMIT" -c "$AUTH_DIR/bb.yaml" --target town a.json
printf '      client_cert: %s\n      client_key: %s\n' "$AUTH_DIR/tls-client.pem" "$AUTH_DIR/tls-client.key" > cc.part
sed "/bearer_token_file:/r cc.part" "$AUTH_DIR/bb.yaml" > mtls.yaml
expect_code 0 "with client_cert and client_key it is delivered" "$BB_SUBMIT" -c mtls.yaml --target town a.json
sed "s#client_key: .*#client_key: $scratch/nosuch.key#" mtls.yaml > badkey.yaml
expect_code 78 "an unreadable client key is a configuration error" "$BB_SUBMIT" -c badkey.yaml --target town a.json
cp "$AUTH_DIR/tls-client.key" open.key
chmod 604 open.key
sed "s#client_key: .*#client_key: $scratch/open.key#" mtls.yaml > openkey.yaml
expect_code 78 "a client key readable by others is refused" "$BB_SUBMIT" -c openkey.yaml --target town a.json
check_grep "saying what to chmod" "client_key $scratch/open.key: mode 0604 .*chmod go-rwx" err
chmod 600 open.key
expect_code 0 "the same key mode 0600 is used" "$BB_SUBMIT" -c openkey.yaml --target town a.json

# ca_file is the only trust: a server certificate from a CA that libcurl's built-in CApath
# (/etc/ssl/certs) holds but ca_file does not is refused. The CApath is made to hold the
# unrelated CA in a private mount namespace, as a public CA would be in the system store.
authority_stop
authority_start "$scratch/other" tls-unknown-ca
mkdir capath
cp "$AUTH_DIR/tls-other-ca.pem" capath/
cat capath/tls-other-ca.pem > capath/ca-certificates.crt
openssl rehash capath 2> /dev/null || c_rehash capath > /dev/null 2>&1
in_ns() {	# in_ns CMD...: CMD with capath/ mounted over /etc/ssl/certs
	unshare -rm sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' "$scratch/capath" "$@"
}
if in_ns true 2> /dev/null; then
	sed '/ca_file:/d' "$AUTH_DIR/bb.yaml" > sys.yaml
	STDIN=a.json expect_code 0 "without ca_file the (private) system store is trusted" in_ns "$BB_SUBMIT" -c sys.yaml --target town
	sed "s#ca_file: .*#ca_file: $scratch/auth/tls-ca.pem#" "$AUTH_DIR/bb.yaml" > only.yaml
	STDIN=a.json expect_code 77 "with ca_file a certificate from a CA of the system store is refused" in_ns "$BB_SUBMIT" -c only.yaml --target town
	check_grep "saying why" "TLS certificate does not verify" err
else
	ok 0 "# SKIP no private mount namespace (unshare -rm)"
	ok 0 "# SKIP no private mount namespace (unshare -rm)"
	ok 0 "# SKIP no private mount namespace (unshare -rm)"
fi

# TLS after BSI TR-03116-4: 1.2 only with ECDHE and AES-GCM, 1.3 only with AES-GCM. A
# server that offers nothing else gets nothing.
for suite in AES128-SHA ECDHE-RSA-AES128-SHA AES256-GCM-SHA384 ECDHE-RSA-AES256-SHA384; do
	authority_stop
	authority_start "$scratch/tls-$suite" "tls12-cipher=$suite"
	expect_code 77 "a server with only TLS 1.2 $suite is refused (77)" "$BB_SUBMIT" -c "$AUTH_DIR/bb.yaml" --target town a.json
	check_grep "saying why" "no protocol version or cipher suite in common" err
	check "nothing was sent to it" test "$(authority_state | jq '.requests | length')" -eq 0
done
authority_stop
authority_start "$scratch/tls-gcm" "tls12-cipher=ECDHE-RSA-AES128-GCM-SHA256"
expect_code 0 "TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 is used" "$BB_SUBMIT" -c "$AUTH_DIR/bb.yaml" --target town a.json
# openssl s_server without -www prints what it receives: no POST in s_server.out after the
# run means nothing was sent. A short timeout, as a bb that did send would wait for an answer.
# Its stdin is a FIFO held open: at EOF on stdin it would end before the handshake.
mkfifo s_server.in
exec 3<> s_server.in
s_server() {	# s_server ARGS...: openssl s_server with the test certificate; sets SPORT
	# Emptied here, not by the background job's redirection: the job may truncate the
	# file after the loop below has read the last server's port from it.
	: > s_server.out
	openssl s_server -accept 127.0.0.1:0 -cert "$AUTH_PKI/tls-server.pem" \
		-key "$AUTH_PKI/tls-server.key" -naccept 1 "$@" < s_server.in > s_server.out 2>&1 &
	SPID=$!
	i=0
	until SPORT=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' s_server.out) && [ -n "$SPORT" ]; do
		i=$((i + 1)); [ "$i" -lt 300 ] || break; sleep 0.1
	done
	sed -e "s#127.0.0.1:[0-9]*/#127.0.0.1:$SPORT/#" -e 's/^submit:$/&\n  timeout: 3s/' "$AUTH_DIR/bb.yaml" > s.yaml
}
s_server -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
expect_code 77 "a server with only TLS 1.3 ChaCha20-Poly1305 is refused (77)" "$BB_SUBMIT" -c s.yaml --target town a.json
check_grep "saying why" "no protocol version or cipher suite in common" err
kill "$SPID" 2> /dev/null; wait "$SPID" 2> /dev/null
check_nogrep "it got no request" "POST" s_server.out
s_server -tls1_1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
expect_code 77 "a server with only TLS 1.1 is refused (77)" "$BB_SUBMIT" -c s.yaml --target town a.json
check_grep "saying why" "no protocol version or cipher suite in common" err
kill "$SPID" 2> /dev/null; wait "$SPID" 2> /dev/null
check_nogrep "it got no request" "POST" s_server.out
exec 3>&-

done_testing
