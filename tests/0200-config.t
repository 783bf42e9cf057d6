#!/bin/sh
# bb.yaml(5): defaults without a file, -c and BB_CONFIG, and every kind of mistake named
# with FILE:LINE and exit 78.
. "${0%/*}/lib.sh"

F=$SERVICES/meldebescheinigung/form.yaml

unset BB_CONFIG
expect_code 0 "runs with no configuration at all" "$BB_FORM" check "$F"

cat > unknown.yaml <<'Y'
terminal: t1
form:
  lang: de
  colour: blue
Y
expect_code 78 "an unknown key is a configuration error" "$BB_FORM" -c unknown.yaml check "$F"
check_grep "it names file, line and key" "^bb-form: unknown.yaml:4: unknown key 'form.colour'$" err

cat > dup.yaml <<'Y'
log:
  syslog: true
  syslog: false
Y
expect_code 78 "a duplicate key is a configuration error" "$BB_FORM" -c dup.yaml check "$F"
check_grep "it names both lines" "dup.yaml:3: duplicate key 'syslog' (first on line 2)" err

printf 'case:\n  max_size: lots\n' > type.yaml
expect_code 78 "a mistyped size is a configuration error" "$BB_FORM" -c type.yaml check "$F"
check_grep "the size error names the line" "type.yaml:2: case.max_size: expected a size" err
printf 'log:\n  syslog: maybe\n' > bool.yaml
expect_code 78 "a mistyped boolean is a configuration error" "$BB_FORM" -c bool.yaml check "$F"
check_grep "the boolean error names the line" "bool.yaml:2: log.syslog: expected true or false" err
printf 'form:\n  lang: fr\n' > enum.yaml
expect_code 78 "a value outside its choices is a configuration error" "$BB_FORM" -c enum.yaml check "$F"
check_grep "the choices are named" "enum.yaml:2: form.lang: expected one of: de en" err
printf 'form: de\n' > sect.yaml
expect_code 78 "a section given as a value is an error" "$BB_FORM" -c sect.yaml check "$F"
check_grep "section error names the line" "sect.yaml:1: form: expected a mapping" err
printf 'form:\n  lang: [de\n' > syntax.yaml
expect_code 78 "broken YAML is a configuration error" "$BB_FORM" -c syntax.yaml check "$F"
check_grep "syntax error names the file" "syntax.yaml:[0-9]*: invalid YAML" err
printf 'a: &x 1\nb: *x\n' > alias.yaml
expect_code 78 "anchors and aliases are refused" "$BB_FORM" -c alias.yaml check "$F"

expect_code 78 "a named configuration file that is missing is an error" "$BB_FORM" -c nosuch.yaml check "$F"
check_grep "the missing file is named" "nosuch.yaml" err
BB_CONFIG=$scratch/nosuch.yaml expect_code 78 "BB_CONFIG naming a missing file is an error" "$BB_FORM" check "$F"

# -c wins over BB_CONFIG; values are used.
mkdir -p svc/meldebescheinigung
cp "$F" svc/meldebescheinigung/
printf 'form:\n  services: %s/svc\n  lang: en\n' "$scratch" > good.yaml
BB_CONFIG=$scratch/unknown.yaml expect_code 0 "-c wins over BB_CONFIG" "$BB_FORM" -c good.yaml check meldebescheinigung
BB_CONFIG=$scratch/good.yaml expect_code 0 "BB_CONFIG is read" "$BB_FORM" show meldebescheinigung --format text
check_grep "form.lang chooses the language" "registration certificate" out
expect_code 66 "a service id that is not in form.services is missing" "$BB_FORM" -c good.yaml check wohnsitz-anmelden
expect_code 64 "a service id with odd characters is a usage error" "$BB_FORM" -c good.yaml check 'Bad$Id'

: > empty.yaml
expect_code 0 "an empty file means defaults" "$BB_FORM" -c empty.yaml check "$F"
printf 'terminal: rathaus-2\nlog:\n  level: debug\n  syslog: false\n  facility: local3\ncase:\n  max_size: 2M\nform:\n  services: /srv/x\n  lang: de\n' > all.yaml
expect_code 0 "every documented key is accepted" "$BB_FORM" -c all.yaml check "$F"

# ---- targets are checked when the file is loaded, by every program (bb.yaml(5)) ----
good_targets() {
	cat <<'Y'
submit:
  default: authority
  targets:
    authority:
      kind: fitconnect
      submission_api: https://submission-api.fitconnect.example/
      token_url: https://auth.fitconnect.example/token
      client_id: rathaus-kiosk
      client_secret_file: /etc/bb/secrets/fitconnect
      destination: 7c2e1a4d-0b5f-4e8a-9d3c-6f1b2a8e4c70
      service_identifier: urn:de:fim:leika:leistung:99115005104000
      schema_uri: https://schema.stadt.example/meldung/1.0.json
      key_trust: /etc/bb/fitconnect-root.pem
    buergeramt:
      kind: https
      url: https://antraege.stadt.example/applications
      format: multipart
      bearer_token_file: /etc/bb/secrets/antraege
      client_cert: /etc/bb/rathaus-1.crt
      client_key: /etc/bb/secrets/rathaus-1.key
      ca_file: /etc/bb/stadt-ca.pem
    inbox:
      kind: dir
      path: /srv/bb/inbox
Y
}
good_targets > targets.yaml
expect_code 0 "the targets of bb.yaml(5)'s example are accepted" "$BB_FORM" -c targets.yaml check "$F"
# bad NAME SED DESCRIPTION MESSAGE: the example changed by SED is refused, FILE:LINE named.
bad() {
	good_targets | sed "$2" > "$1.yaml"
	expect_code 78 "$3" "$BB_FORM" -c "$1.yaml" check "$F"
	check_grep "  with file, line and why" "^bb-form: $1.yaml:$4" err
}
bad dest 's/destination: .*/destination: 7c2e1a4d-0b5f-4e8a-9d3c/' \
	"a destination that is no UUID" "10: submit.targets.authority.destination: expected a UUID$"
bad api 's#submission_api: https#submission_api: http#' \
	"a plain http submission_api" "6: submit.targets.authority.submission_api: expected an https URL$"
bad token 's#token_url: .*#token_url: auth.fitconnect.example/token#' \
	"a token_url without scheme" "7: submit.targets.authority.token_url: expected an https URL$"
bad url 's#url: https://antraege#url: http://antraege#' \
	"a plain http url" "16: submit.targets.buergeramt.url: expected an https URL$"
bad nohost 's#url: https://antraege.*#url: https:///x#' \
	"an https url without host" "16: submit.targets.buergeramt.url: expected an https URL$"
bad notrust '/key_trust:/d' \
	"a fitconnect target without key_trust" "5: submit.targets.authority.key_trust is not set"
bad nopath '/path:/d' \
	"a dir target without path" "23: submit.targets.inbox.path is not set"
bad nokind '/kind: dir/d' \
	"a target without kind" "23: submit.targets.inbox.kind is not set$"
bad wrongkey 's#path: /srv/bb/inbox#url: https://x.example/#' \
	"a key of another kind of target" "24: submit.targets.inbox.url: not a key of a target of kind dir$"
bad kind 's/kind: dir/kind: ftp/' \
	"an unknown kind" "23: submit.targets.inbox.kind: expected one of: fitconnect https dir$"
bad name 's/^    inbox:/    In box:/' \
	"a target name with odd characters" "22: submit.targets.In box: a target's name"
bad halfcert '/client_key:/d' \
	"client_cert without client_key" "15: submit.targets.buergeramt: client_cert and client_key go together$"

# Every program checks the whole file, the targets too.
mkdir -p spool
for p in "form check $F" "queue -d spool list" "submit $scratch/nosuch.json" "eid info" \
    "capture devices"; do
	# shellcheck disable=SC2086
	set -- $p
	prog=$1
	shift
	expect_code 78 "bb-$prog refuses a bad destination" "$BB_BIN/bb-$prog" -c dest.yaml "$@"
	check_grep "  naming file and line" "^bb-$prog: dest.yaml:10: " err
done

# ---- bb.yaml is trusted only when nobody else can have written it (ssh's rule) ----
printf 'queue:\n  deliver: "true"\n' > mine.yaml
chmod 664 mine.yaml
expect_code 78 "a group-writable bb.yaml is refused" "$BB_FORM" -c mine.yaml check "$F"
check_grep "the message says what to chmod" "mine.yaml: mode 0664 is writable by others: chmod go-w mine.yaml" err
chmod 646 mine.yaml
BB_CONFIG=$scratch/mine.yaml expect_code 78 "a world-writable BB_CONFIG is refused" "$BB_QUEUE" -d spool list
chmod 644 mine.yaml
expect_code 0 "mode 0644 is fine" "$BB_FORM" -c mine.yaml check "$F"
chown 65533 mine.yaml
expect_code 78 "a bb.yaml owned by another user is refused" "$BB_FORM" -c mine.yaml check "$F"
check_grep "the owner is named" "owned by uid 65533" err
chown 0 mine.yaml
ln -s mine.yaml link.yaml
expect_code 78 "a symbolic link is refused" "$BB_FORM" -c link.yaml check "$F"

# The same as a user that is not root: its own file and root's are trusted, another
# user's is not.
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
	U=65534
	as_user() { setpriv --reuid=$U --regid=$U --clear-groups "$@"; }
	chmod 711 "$scratch"
	mkdir u
	chown $U u
	printf 'form:\n  lang: en\n' > u/own.yaml
	cp u/own.yaml u/root.yaml
	cp u/own.yaml u/other.yaml
	chown $U u/own.yaml
	chown 65533 u/other.yaml
	expect_code 0 "a user's own bb.yaml (0644) is read" as_user "$BB_FORM" -c u/own.yaml check "$F"
	expect_code 0 "root's bb.yaml is read by a user" as_user "$BB_FORM" -c u/root.yaml check "$F"
	expect_code 78 "another user's bb.yaml is refused" as_user "$BB_FORM" -c u/other.yaml check "$F"
	check_grep "naming the owner and the running user" "owned by uid 65533, not by the running user (uid $U)" err
	chmod 620 u/own.yaml
	expect_code 78 "a user's own group-writable bb.yaml is refused" as_user "$BB_FORM" -c u/own.yaml check "$F"
	check_grep "saying what to chmod" "chmod go-w u/own.yaml" err
	chmod 700 "$scratch"
else
	echo "# skipped: the tests as another user need root and setpriv"
fi

done_testing
