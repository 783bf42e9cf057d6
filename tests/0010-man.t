#!/bin/sh
# Every man page is clean under mandoc -T lint, and every program and format has one.
. "${0%/*}/lib.sh"

for page in "$BB_TOP"/man/*.[1-8]; do
	mandoc -T lint -W warning "$page" > lint.out 2>&1
	ok "$(test ! -s lint.out; echo $?)" "mandoc -T lint ${page##*/}"
	[ -s lint.out ] && diag lint.out
	for sec in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
		check_grep "${page##*/} has $sec" "^\.Sh $sec" "$page"
	done
done
for want in bb.7 bb-case.5 bb.yaml.5 bb-form.5 bb-form.1; do
	ok "$(test -f "$BB_TOP/man/$want"; echo $?)" "man/$want exists"
done
for prog in "$BB_TOP"/cmd/*.c; do
	name=${prog##*/}
	name=${name%.c}
	ok "$(test -f "$BB_TOP/man/$name.1"; echo $?)" "$name has a page"
done

done_testing
