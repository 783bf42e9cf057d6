#!/bin/sh
# Every fuzz target's corpus and every crash found by fuzzing, replayed as regression tests
# through the standalone driver (tests/fuzz/README).
. "${0%/*}/lib.sh"

for src in "$BB_TOP"/tests/fuzz/*.c; do
	t=${src##*/}
	t=${t%.c}
	case $t in driver|common|keys) continue ;; esac
	# A hang is a finding too (tests/fuzz/crashes/eid_cardsec): bounded.
	timeout 300 "$BB_BIN/fuzz/$t" "$BB_TOP/tests/fuzz/corpus/$t" \
		"$BB_TOP/tests/fuzz/crashes/$t" > replay.out 2> replay.err
	rc=$?
	ok "$rc" "fuzz replay $t: $(grep -c '^ok' replay.out) inputs"
	if [ "$rc" -ne 0 ]; then
		grep -v '^ok' replay.out | diag
		tail -n 30 replay.err | diag
	fi
done

done_testing
