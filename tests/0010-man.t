#!/bin/sh
# Every man page is clean under mandoc -T lint, and every program and format has one;
# every program's usage text is the one in tests/data/expected/usage/, whole.
. "${0%/*}/lib.sh"

for page in "$BB_TOP"/man/*.[1-8]; do
	mandoc -T lint -W warning "$page" > lint.out 2>&1
	check "mandoc -T lint ${page##*/}" test ! -s lint.out
	[ -s lint.out ] && diag lint.out
	for sec in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
		check_grep "${page##*/} has $sec" "^\.Sh $sec" "$page"
	done
done
for want in bb.7 bb-case.5 bb.yaml.5 bb-form.5 bb-form.1; do
	check "man/$want exists" test -f "$BB_TOP/man/$want"
done
for prog in "$BB_TOP"/cmd/*.c; do
	name=${prog##*/}
	name=${name%.c}
	check "$name has a page" test -f "$BB_TOP/man/$name.1"
done

# --help: the usage on stdout, exit 0; no command: the same on stderr, exit 64 (bb-submit
# has no command: it reads its case from stdin).
BB_EID=${BB_EID:-$BB_BIN/bb-eid}
BB_CAPTURE=${BB_CAPTURE:-$BB_BIN/bb-capture}
U=$BB_TOP/tests/data/expected/usage
for bin in "$BB_FORM" "$BB_QUEUE" "$BB_SUBMIT" "$BB_EID" "$BB_CAPTURE"; do
	p=${bin##*/}
	expect_code 0 "$p --help" "$bin" --help
	check_same "$p --help: the whole usage text on stdout" "$U/$p.txt" out
	[ "$p" = bb-submit ] && continue
	expect_code 64 "$p without a command is a usage error" "$bin"
	check_same "$p without a command: the usage text on stderr" "$U/$p.txt" err
done

done_testing
