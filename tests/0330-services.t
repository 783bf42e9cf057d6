#!/bin/sh
# Every service under scripts/services fills from its example answers on a case read from
# the ID card, and takes every value the card provides from the card.
. "${0%/*}/lib.sh"

write_identity_case id.json
for dir in "$SERVICES"/*; do
	svc=${dir##*/}
	check "$svc: has its kiosk flow" test -x "$dir/flow"
	[ -f "$dir/form.yaml" ] || continue	# a task without a form (pin-change)
	set --
	if [ -f "$dir/example-dates.txt" ]; then
		while read -r field days; do
			set -- "$@" --set "$field=$(date -d "$days days" +%F)"
		done < "$dir/example-dates.txt"
	fi
	STDIN=id.json expect_code 0 "$svc: fills from its example answers" \
		"$BB_FORM" fill "$dir/form.yaml" --answers "$dir/example-answers.json" "$@"
	cp out "$svc.json"
	check "$svc: the case names the service" \
		jq -e --arg s "$svc" '.service == $s and .form.definition == $s' "$svc.json"
	# Each prefilled field holds exactly what the card said.
	"$BB_FORM" show "$dir/form.yaml" --format json > model.json
	bad=$(jq -r --slurpfile c "$svc.json" '
		[.sections[].fields[] | select(.prefill != null) | {name, prefill}] | .[] |
		(.prefill | split(".")) as $p | ($c[0] | getpath($p)) as $want |
		($c[0].form.fields[.name]) as $got |
		select($want != null and $got != $want and ($got | type) != "object") | .name' model.json)
	check "$svc: prefilled values equal the identity's ($bad)" test -z "$bad"
	n=$(jq '[.sections[].fields[] | select(.prefill != null)] | length' model.json)
	check "$svc: prefills from the ID card ($n fields)" test "$n" -gt 0
done

done_testing
