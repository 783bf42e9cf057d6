# The reference edit for tests/bench/run: what `bb-form fill` writes into a case for the
# benchmark form, done by jq without any validation. $a[0] is answers.json
# (jq --slurpfile a answers.json -f edit.jq case.json).
.service = (.service // "bench")
| .form = {
	definition: "bench",
	version: 1,
	leika: "urn:de:fim:leika:leistung:99115005104000",
	target: "authority",
	fields: $a[0],
	prefilled: [],
	completed: (now | todate)
}
