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

done_testing
