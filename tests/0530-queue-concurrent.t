#!/bin/sh
# bb-queue with more than one process on a spool: runs exclude each other (each entry is
# delivered once), a second run without --wait gives up at once with 75, adds go on while
# a run is active, and the entry being delivered cannot be removed, retried or replaced
# (75: try again).
. "${0%/*}/lib.sh"

write_identity_case id.json

# add_all SPOOL DIR COUNT: adds DIR/0.json ... in order; 0 when all were added.
add_all() {
	_i=0 _bad=0
	while [ $_i -lt "$3" ]; do
		"$BB_QUEUE" -d "$1" add "$2/$_i.json" > /dev/null 2>> add.err || _bad=1
		_i=$((_i + 1))
	done
	return $_bad
}

# entries DIR...: the names in the directories (missing ones are empty); none_in DIR...:
# true when there are none; names SPOOL STATE: the ids of the entries in one state, sorted.
entries() { for _d; do ls -A "$_d" 2>/dev/null; done; }
none_in() { [ -z "$(entries "$@")" ]; }
names() { entries "$1/$2" | sed -n 's/^.*Z-\(.*\)\.json$/\1/p' | sort; }

# wait_for FILE: up to 10 s for FILE to appear.
wait_for() {
	_t=0
	while [ ! -e "$1" ] && [ $_t -lt 500 ]; do sleep 0.02; _t=$((_t + 1)); done
	[ -e "$1" ]
}

# ---------------------------------------------------------------------------------------
# 1. Two runs started together, both waiting for the lock: each entry is delivered once.
S=$scratch/spool
LOG=$scratch/deliver.log
export LOG
: > "$LOG"
cat > deliver.sh <<'EOF'
#!/bin/sh
cat > /dev/null
echo "$BB_QUEUE_ID" >> "$LOG"
sleep 0.05
EOF
chmod +x deliver.sh
cases 40 c40
add_all "$S" c40 40
ok $? "40 entries added"
"$BB_QUEUE" -d "$S" run --wait --deliver "$scratch/deliver.sh" > r1.out 2> r1.err &
p1=$!
"$BB_QUEUE" -d "$S" run --wait --deliver "$scratch/deliver.sh" > r2.out 2> r2.err &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
check "both runs exit 0 (got $rc1 and $rc2)" eval 'test $rc1 -eq 0 && test $rc2 -eq 0'
[ $rc1 -eq 0 ] || diag r1.err
[ $rc2 -eq 0 ] || diag r2.err
sort c40.ids > want40
sort "$LOG" > got40
check_same "each id was delivered exactly once" want40 got40
names "$S" delivered > delivered40
check_same "all 40 are in delivered/" want40 delivered40
expect_code 0 "list" "$BB_QUEUE" -d "$S" list --format json
check "list: 40 delivered, each after one attempt" \
	jq -e 'length == 40 and all(.state == "delivered" and .attempts == 1)' out

# ---------------------------------------------------------------------------------------
# 2. While a delivery is in progress (held until we release it).
S3=$scratch/spool3
BLOG=$scratch/block.log
export BLOG
: > "$BLOG"
cat > block.sh <<EOF
#!/bin/sh
cat > /dev/null
echo "\$BB_QUEUE_ID" >> "\$BLOG"
: > "$scratch/started"
n=0
while [ ! -e "$scratch/release" ] && [ \$n -lt 1500 ]; do sleep 0.02; n=\$((n + 1)); done
EOF
chmod +x block.sh
cases 3 c3
add_all "$S3" c3 2
ok $? "two entries added"
A=$(sed -n 1p c3.ids) B=$(sed -n 2p c3.ids) C=$(sed -n 3p c3.ids)
"$BB_QUEUE" -d "$S3" run --deliver "$scratch/block.sh" > run1.out 2> run1.err &
p1=$!
wait_for started
ok $? "the first run started a delivery"
names "$S3" active > active.now
echo "$A" > active.want
check_same "the oldest entry is the one in active/" active.want active.now

t0=$(date +%s%N)
expect_code 75 "a second run without --wait exits 75" "$BB_QUEUE" -d "$S3" run --deliver true
t1=$(date +%s%N)
kill -0 $p1 2>/dev/null
ok $? "... at once: the first run is still going when it returns ($(( (t1 - t0) / 1000000 )) ms)"
check_grep "... and says another run is active" "another run is active" err
cp err second.err

"$BB_QUEUE" -d "$S3" run --wait --deliver true > run2.out 2> run2.err &
p2=$!
sleep 0.3
kill -0 $p2 2>/dev/null
ok $? "a run with --wait waits for the first"

expect_code 0 "add of a new case while a run is active succeeds" "$BB_QUEUE" -d "$S3" add c3/2.json
check "... and prints its id" test "$(cat out)" = "$C"
names "$S3" deferred > deferred.now
check "... and it is in deferred/" grep -q -x "$C" deferred.now

expect_code 75 "remove of the entry being delivered exits 75" "$BB_QUEUE" -d "$S3" remove "$A"
check_grep "... saying it is being delivered" "being delivered" err
expect_code 75 "remove by a prefix of its id too" \
	"$BB_QUEUE" -d "$S3" remove "$(echo "$A" | cut -c1-8)"
expect_code 75 "retry of the entry being delivered exits 75" "$BB_QUEUE" -d "$S3" retry "$A"
check_grep "... saying it is being delivered" "being delivered" err
expect_code 75 "add of the same case again while it is delivered exits 75" \
	"$BB_QUEUE" -d "$S3" add c3/0.json
names "$S3" active > active.after
check_same "the entry is still in active/, untouched" active.want active.after
check "the refused add left nothing in tmp/" none_in "$S3/tmp"
expect_code 0 "show of the active entry works" "$BB_QUEUE" -d "$S3" show "$A" --format json
check "... and says active" jq -e '.state == "active"' out

: > release
wait $p1
rc1=$?
check "the first run ends with 0 once released (got $rc1)" test $rc1 -eq 0
wait $p2
rc2=$?
check "the waiting run then runs and ends with 0 (got $rc2)" test $rc2 -eq 0
[ $rc2 -eq 0 ] || diag run2.err
sort c3.ids > want3
names "$S3" delivered > delivered3
check_same "all three are delivered" want3 delivered3
printf '%s\n' "$A" "$B" | sort > want.blog
sort "$BLOG" > got.blog
check_same "the first run delivered its two entries once each (the held one too)" want.blog got.blog
check "nothing left in active/ or deferred/" none_in "$S3/active" "$S3/deferred"

# ---------------------------------------------------------------------------------------
# 3. add, remove and retry of an entry at the instant a run takes it: each may lose the
#    race (75, try again) or win it (0), never anything else (66 "moved meanwhile" was the
#    bug). The window lies between the command's scan of the spool and its opening of the
#    entry, so a spool with many entries in delivered/ (a busy terminal within
#    queue.retention) widens it: 3000 of them, made by hand.
S4=$scratch/spool4
cases 1 c1
ID1=$(cat c1.ids)
"$BB_QUEUE" -d "$S4" add c1/0.json > /dev/null
ok $? "the raced entry is added"
i=0
while [ $i -lt 3000 ]; do
	read -r u < /proc/sys/kernel/random/uuid
	: > "$S4/delivered/20261130T101503.$((100000 + i))Z-$u.json"
	i=$((i + 1))
done

# race OP DELIVER: for 3 s, runs with --deliver DELIVER one after another, and meanwhile
# OP on the raced entry again and again (remove: an add and a remove); the exit statuses
# of each command in race.CMD.codes, their stderr in race.CMD.err.
race() {
	(
		end=$(( $(date +%s) + 3 ))
		while [ "$(date +%s)" -lt $end ]; do
			"$BB_QUEUE" -d "$S4" run --deliver "$2" 2>> race-run.err ||
				echo "run: $?" >> race-run.fail
		done
	) &
	_rp=$!
	while kill -0 $_rp 2>/dev/null; do
		case $1 in
		add|remove)
			"$BB_QUEUE" -d "$S4" add c1/0.json > /dev/null 2>> race.add.err
			echo $? >> race.add.codes ;;
		esac
		case $1 in
		remove|retry)
			"$BB_QUEUE" -d "$S4" "$1" "$ID1" 2>> "race.$1.err"
			echo $? >> "race.$1.codes" ;;
		esac
	done
	wait $_rp
}
race add true
race remove true
"$BB_QUEUE" -d "$S4" add c1/0.json > /dev/null 2>> race.add.err
race retry 'cat > /dev/null; exit 65'	# failed at once, so retry always has work
check "the runs all exit 0" test ! -e race-run.fail
for cmd in add remove retry; do
	sort "race.$cmd.codes" | uniq -c |
		awk -v c="$cmd" '{ printf "# %s during runs: %d x exit %d\n", c, $1, $2 }'
	grep -v -x -e 0 -e 75 "race.$cmd.codes" | sort | uniq -c > "race.$cmd.odd"
	check "$cmd racing a run exits 0 or 75, nothing else" test ! -s "race.$cmd.odd"
	if [ -s "race.$cmd.odd" ]; then
		diag "race.$cmd.odd"
		sed "s/$ID1/ID/" "race.$cmd.err" | sort | uniq -c | diag
	fi
done
check "the raced case has one entry afterwards" \
	test "$(entries "$S4/deferred" "$S4/active" "$S4/failed" "$S4/corrupt" "$S4/delivered" |
	grep -c -e "$ID1")" -eq 1

# ---------------------------------------------------------------------------------------
# 4. retry (or add) of a failed entry must never lose the case to a run that comes in
#    between. (An earlier version wrote the deferred copy first and then removed the
#    failed one by its name, deleting the new failed/NAME a run had written meanwhile.)
#    Now the locked old file moves to deferred/ first and is rewritten there; the gap
#    before the rewrite is made wide on purpose: a preloaded rename(2) sleeps a second
#    when it moves a temporary file into deferred/.
if command -v cc > /dev/null; then
	cat > slow-rename.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *match = getenv("BB_TEST_SLOW_RENAME");
	struct timespec ts = { 1, 0 };

	if (real == NULL)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (match != NULL && *match && strstr(from, "/tmp/") != NULL &&
	    strstr(to, match) != NULL)
		nanosleep(&ts, NULL);
	return real(from, to);
}
EOF
	cc -O2 -shared -fPIC -o slow-rename.so slow-rename.c -ldl 2> cc.err ||
		{ diag cc.err; rm -f slow-rename.so; }
fi
# wait_gone DIR: up to 10 s until DIR holds no entry.
wait_gone() {
	_t=0
	while ! none_in "$1" && [ $_t -lt 500 ]; do sleep 0.02; _t=$((_t + 1)); done
}
# lost_race OP: OP (retry or add) of a failed entry paused before it rewrites the entry,
# a run meanwhile; then the entry must be in the spool once, deferred.
lost_race() {
	_s=$scratch/spool-$1
	cases 1 "lost-$1"
	_id=$(cat "lost-$1.ids")
	"$BB_QUEUE" -d "$_s" add "lost-$1/0.json" > /dev/null &&
		"$BB_QUEUE" -d "$_s" run --deliver 'cat > /dev/null; exit 65' 2> /dev/null
	check "$1 race: the entry failed first" test "$(names "$_s" failed)" = "$_id"
	if [ "$1" = retry ]; then set -- "$1" retry "$_id"; else set -- "$1" add "lost-$1/0.json"; fi
	BB_TEST_SLOW_RENAME=/deferred/ LD_PRELOAD=$scratch/slow-rename.so \
	ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
		"$BB_QUEUE" -d "$_s" "$2" "$3" > "lost-$1.out" 2> "lost-$1.err" &
	_pid=$!
	wait_gone "$_s/failed"
	check "$1 race: paused with the old file moved to deferred/, nothing left in failed/" \
		eval 'test "$(names "$_s" deferred)" = "$_id" && none_in "$_s/failed"'
	expect_code 0 "$1 race: a run meanwhile exits 0" \
		"$BB_QUEUE" -d "$_s" run --deliver 'cat > /dev/null; exit 65'
	wait $_pid
	_rc=$?
	check "$1 race: $1 ends with 0 (got $_rc)" test $_rc -eq 0
	entries "$_s/deferred" "$_s/active" "$_s/failed" "$_s/delivered" "$_s/corrupt" |
		grep -c -e "$_id" > "lost-$1.count"
	check "$1 race: the case is still in the spool, once ($(cat "lost-$1.count") entries)" \
		test "$(cat "lost-$1.count")" -eq 1
	# The run waited for the spool lock the retry held, then took the entry the retry
	# had made due and failed it again: one attempt more, never lost.
	check "$1 race: the run waited for $1, then tried the entry once more" \
		eval 'test "$(names "$_s" failed)" = "$_id" &&
		jq -e ".submission.queue.attempts == 2" "$_s"/failed/*.json'
}
if [ -e slow-rename.so ]; then
	lost_race retry
	lost_race add
else
	ok 0 "# SKIP no C compiler for the preloaded rename"
fi

done_testing
