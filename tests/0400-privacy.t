#!/bin/sh
# Personal data never reaches stderr or the log, at any verbosity, whatever fails.
. "${0%/*}/lib.sh"

write_identity_case id.json
F=$SERVICES/meldebescheinigung/form.yaml
A=$SERVICES/meldebescheinigung/example-answers.json
secret='ZAPHOD-BEEBLEBROX'
personal="MUSTERMANN ERIKA GABLER 1964-08-12 HEIDESTRASSE KÖLN 51147 $secret"

noleak() {	# noleak DESCRIPTION FILE
	leaked=""
	for v in $personal; do
		grep -q -F "$v" "$2" && leaked="$leaked $v"
	done
	ok "$(test -z "$leaked"; echo $?)" "$1${leaked:+ (leaked:$leaked)}"
}

STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
ok "$rc" "a successful fill at the highest verbosity"
check_grep "the log names the event and the case id" "form.filled case=0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3" err
noleak "no personal value on stderr on success" err

STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers "$A" --set copies="$secret" \
	--set purpose="$(printf '%s\001' "$secret")" --set delivery="$secret"
ok "$(test "$rc" -eq 65; echo $?)" "validation fails"
noleak "validation errors name fields, never values" err
check_grep "the event is logged with the case id" "form.invalid case=0b6c1d2e" err

STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers "$A" --set family_names="$secret"
noleak "a refused change of a locked field does not echo it" err

jq --arg s "$secret" '.id = $s' id.json > badid.json
STDIN=badid.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
noleak "a bad case id is not echoed" err

printf '{"purpose": "%s", ' "$secret" > broken.json
STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers broken.json
noleak "a broken answers file is not echoed" err

jq --arg s "$secret" '.identity.family_names = [$s]' id.json > typed.json
STDIN=typed.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
noleak "an identity value of the wrong type is not echoed" err

printf '{"bb": 1, "id": %s}' "$secret" > token.json
STDIN=token.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
ok "$(test "$rc" -eq 65; echo $?)" "a bare word in the case is invalid JSON"
noleak "the offending token is not quoted" err
printf '{"purpose": %s}' "$secret" > tokenans.json
STDIN=id.json run "$BB_FORM" -vvv fill "$F" --answers tokenans.json
noleak "nor in an answers file" err

head -c 300 id.json > trunc.json
STDIN=trunc.json run "$BB_FORM" -vvv fill "$F" --answers "$A"
noleak "a truncated case is not echoed" err

# bb-queue: adds, runs, failures and every view, at the highest verbosity.
S=$scratch/spool
"$BB_QUEUE" -vvv -d "$S" add id.json > out 2> err
noleak "bb-queue add logs no personal value" err
check_grep "bb-queue add logs the event with the case id" "queue.added case=0b6c1d2e" err
printf '#!/bin/sh\ncat > /dev/null; exit 65\n' > fail.sh
chmod +x fail.sh
"$BB_QUEUE" -vvv -d "$S" run --deliver ./fail.sh > out 2> err
noleak "bb-queue run logs no personal value" err
check_grep "bb-queue run logs the failure with the case id" "queue.failed case=0b6c1d2e" err
for cmd in "list --format json" "list --format text" "show 0b6c1d2e --format json" "stats --format json" "stats --format prometheus"; do
	"$BB_QUEUE" -vvv -d "$S" $cmd > out 2>&1
	noleak "bb-queue $cmd shows no personal value" out
done
jq '.bb = 9' id.json > v9.json
"$BB_QUEUE" -vvv -d "$S" add v9.json > out 2> err
noleak "a refused add does not echo the case" err

done_testing
