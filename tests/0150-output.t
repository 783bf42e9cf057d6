#!/bin/sh
# Writing cases: atomically to a file (mode 0600, no temporary left), never a partial
# case on a full disk or a closed output, and the right exit status for each failure.
. "${0%/*}/lib.sh"

write_identity_case id.json
F=$SERVICES/meldebescheinigung/form.yaml
A=$SERVICES/meldebescheinigung/example-answers.json

expect_code 0 "-o writes the case" "$BB_FORM" fill "$F" --answers "$A" -o case.json id.json
check "the case file is mode 0600" test "$(stat -c %a case.json)" = 600
check "no temporary file is left" test -z "$(ls -A | grep '^\.')"
umask 000
"$BB_FORM" fill "$F" --answers "$A" -o case2.json id.json 2>/dev/null
check "0600 even under umask 000" test "$(stat -c %a case2.json)" = 600
umask 077

echo old > keep.json
expect_code 73 "-o into a missing directory is 73" "$BB_FORM" fill "$F" --answers "$A" -o nodir/case.json id.json
check_grep "the path is named" "nodir/case.json: cannot create" err
if [ "$(id -u)" -ne 0 ]; then
	mkdir ro && chmod 500 ro
	expect_code 73 "-o into a read-only directory is 73" "$BB_FORM" fill "$F" --answers "$A" -o ro/case.json id.json
else
	# root ignores directory permissions; a directory in the way of the name is the same
	# "cannot create" failure.
	mkdir -p isdir.json/x
	expect_code 73 "-o onto a directory is 73" "$BB_FORM" fill "$F" --answers "$A" -o isdir.json id.json
fi

# A full disk, by the file size limit: the old file stays whole, no temporary remains.
( ulimit -f 1; exec "$BB_FORM" fill "$F" --answers "$A" -o keep.json id.json ) > out 2> err
rc=$?
check "-o on a full disk is 74 (got $rc)" test "$rc" -eq 74
check_grep "the cause is named" "keep.json: write: File too large" err
check "the old file is untouched" test "$(cat keep.json)" = old
check "no temporary file is left" test -z "$(ls -A | grep '^\.keep')"

# stdout on a full disk: no partial case in the file.
printf 'before\n' > stdout.json
( ulimit -f 1; exec "$BB_FORM" fill "$F" --answers "$A" id.json ) >> stdout.json 2> err
rc=$?
check "stdout on a full disk is 74 (got $rc)" test "$rc" -eq 74
check "the partial case is cut away again" test "$(cat stdout.json)" = before
if [ -w /dev/full ]; then
	"$BB_FORM" fill "$F" --answers "$A" id.json > /dev/full 2> err
	rc=$?
	check "stdout to /dev/full is 74 (got $rc)" test "$rc" -eq 74
	check_grep "says standard output" "standard output" err
	"$BB_FORM" show "$F" --format text > /dev/full 2> err
	rc=$?
	check "show to /dev/full is 74 (got $rc)" test "$rc" -eq 74
fi

# A killed writer never leaves a half case under the final name.
i=0
while [ $i -lt 20 ]; do
	"$BB_FORM" fill "$F" --answers "$A" -o killed.json id.json 2>/dev/null &
	pid=$!
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if [ -e killed.json ]; then
		jq -e .form killed.json >/dev/null 2>&1 || break
	fi
	i=$((i + 1))
done
check "after kill -9 the case file is absent or whole" test $i -eq 20

done_testing
