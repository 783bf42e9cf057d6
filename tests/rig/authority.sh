# Sourced by TAP tests (after lib.sh) to run the test authority (authority.py):
#
#   authority_start DIR [FAULT...]   start it with state in DIR; exports AUTH_PORT, AUTH_URL,
#                                    AUTH_DIR, AUTH_PID, AUTH_DESTINATION; writes DIR/bb.yaml
#   authority_fault NAME|none ...    switch faults at run time (once:NAME: next request only)
#   authority_state                  what it received, as JSON on stdout
#   authority_stop                   end it
#   authority_for_test DIR [FAULT...] all a test file needs: the shared PKI, the server,
#                                    BB_CONFIG set to its bb.yaml, stopped at exit
#
# The PKI is made in $AUTH_PKI (default: DIR) by make-pki, once; set AUTH_PKI to share it
# between servers and test files. The files a client needs are copied into DIR.

AUTH_RIG=${AUTH_RIG:-${BB_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/rig}
AUTH_PYTHON=${AUTH_PYTHON:-/usr/bin/python3}	# jwcrypto is a Debian package: not pyenv's python

authority_start() {
	mkdir -p "$1" || return 1
	AUTH_DIR=$(cd "$1" && pwd) || return 1
	shift
	_pki=${AUTH_PKI:-$AUTH_DIR}
	"$AUTH_RIG/make-pki" "$_pki" || return 1
	_pki=$(cd "$_pki" && pwd)
	if [ "$_pki" != "$AUTH_DIR" ]; then
		for _f in tls-ca.pem tls-other-ca.pem vpki-root.pem vpki-intermediate.pem \
		    tls-client.pem tls-client.key client_secret bearer destination; do
			cp "$_pki/$_f" "$AUTH_DIR/$_f" || return 1
		done
	fi
	AUTH_CA=$AUTH_DIR/tls-ca.pem
	_faults=
	for _f; do
		[ "$_f" = tls-unknown-ca ] && AUTH_CA=$AUTH_DIR/tls-other-ca.pem
		_faults="$_faults --fault $_f"
	done
	rm -f "$AUTH_DIR/port"
	# shellcheck disable=SC2086 # fault names have no blanks
	"$AUTH_PYTHON" "$AUTH_RIG/authority.py" --dir "$AUTH_DIR" --pki "$_pki" --parent $$ \
		$_faults < /dev/null >> "$AUTH_DIR/authority.err" 2>&1 &
	AUTH_PID=$!
	_i=0
	while [ ! -s "$AUTH_DIR/port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$AUTH_PID" 2> /dev/null; then
			echo "authority_start: the test authority did not start" >&2
			sed 's/^/# /' "$AUTH_DIR/authority.err" >&2
			kill "$AUTH_PID" 2> /dev/null
			return 1
		fi
		sleep 0.1
	done
	AUTH_PORT=$(cat "$AUTH_DIR/port")
	AUTH_URL=https://127.0.0.1:$AUTH_PORT/
	AUTH_DESTINATION=$(cat "$AUTH_DIR/destination")
	export AUTH_PORT AUTH_URL AUTH_DIR AUTH_PID AUTH_DESTINATION AUTH_CA
	mkdir -p "$AUTH_DIR/inbox"
	cat > "$AUTH_DIR/bb.yaml" <<EOF
# The test authority on port $AUTH_PORT (tests/rig/authority.sh)
submit:
  default: authority
  targets:
    authority:
      kind: fitconnect
      submission_api: $AUTH_URL
      token_url: ${AUTH_URL}token
      client_id: bb-test
      client_secret_file: $AUTH_DIR/client_secret
      destination: $AUTH_DESTINATION
      schema_uri: urn:bb:test:schema
      key_trust: $AUTH_DIR/vpki-root.pem
      ca_file: $AUTH_DIR/tls-ca.pem
    town:
      kind: https
      url: ${AUTH_URL}applications
      ca_file: $AUTH_DIR/tls-ca.pem
      bearer_token_file: $AUTH_DIR/bearer
    inbox:
      kind: dir
      path: $AUTH_DIR/inbox
EOF
}

# authority_fault NAME|once:NAME|none [NAME...]: replaces the faults in force.
authority_fault() {
	if [ "$1" = none ]; then
		_json=null
	else
		_json=
		for _f; do _json="$_json${_json:+, }\"$_f\""; done
		_json="[$_json]"
	fi
	curl -sS -f -o /dev/null --cacert "$AUTH_CA" -H 'Content-Type: application/json' \
		-d "{\"fault\": $_json}" "${AUTH_URL}_control/fault"
}

authority_state() {
	curl -sS -f --cacert "$AUTH_CA" "${AUTH_URL}_control/state"
}

authority_stop() {
	[ -n "${AUTH_PID:-}" ] || return 0
	kill "$AUTH_PID" 2> /dev/null
	wait "$AUTH_PID" 2> /dev/null
	AUTH_PID=
	return 0
}

authority_for_test() {
	AUTH_PKI=${AUTH_PKI:-${TMPDIR:-/tmp}/bb-test-pki-$(id -u)}
	export AUTH_PKI
	authority_start "$@" || exit 1
	BB_CONFIG=$AUTH_DIR/bb.yaml
	export BB_CONFIG
	trap 'authority_stop; cd /; rm -rf "$scratch"' EXIT
}
