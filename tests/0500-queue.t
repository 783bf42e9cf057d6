#!/bin/sh
# bb-queue: every state transition, the delivery command's exit status, backoff,
# Retry-After, lifetime, timeouts, corrupt entries, retry, remove, purge, list, show, stats.
# Each section starts on a spool of its own (fresh_spool, mixed_spool); only the cases
# (a.json, ...) and the delivery scripts in the scratch directory are shared.
. "${0%/*}/lib.sh"

. "$BB_TOP/tests/queue.sh"

write_identity_case a.json
A=0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3

# add: durable, 0600 in 0700, a whole case with the queue's bookkeeping; then the same
# case again, and its delivery: one story on one spool.
fresh_spool add
expect_code 0 "add stores a case" Q add a.json
check "add prints the entry id, which is the case id" test "$(cat out)" = "$A"
f=$(ls "$S"/deferred/)
check "the file name starts with the time it was added" \
	eval 'echo "$f" | grep -Eq "^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-$A\.json\$"'
check "entry 0600, spool and state directories 0700" \
	eval 'test "$(stat -c %a "$S/deferred/$f")" = 600 && test "$(stat -c %a "$S")" = 700 && test "$(stat -c %a "$S/deferred")" = 700'
check "the entry is the whole case with submission.queue" \
	jq -e '.identity.family_names == "MUSTERMANN" and .submission.queue.attempts == 0 and .submission.queue.state == "deferred"' "$S/deferred/$f"
check "nothing is left in tmp/" test -z "$(ls -A "$S/tmp")"

: > empty.json
STDIN=empty.json expect_code 65 "add of empty input is refused" Q add
echo '{"bb":1}' > bad.json
expect_code 65 "add of an invalid case is refused" Q add bad.json
check "and nothing is stored" test "$(ls "$S/deferred" | wc -l)" -eq 1
expect_code 66 "add of a missing file is 66" Q add nosuch.json

# The same case again: one entry, the newer case wins.
jq '.form = {"definition": "x", "fields": {"n": 2}}' a.json > a2.json
STDIN=a2.json expect_code 0 "add of the same case id again" Q add
check "keeps one entry under its first name" \
	eval 'test "$(ls "$S/deferred" | wc -l)" -eq 1 && test "$(ls "$S/deferred")" = "$f"'
check "holding the newer case" jq -e '.form.fields.n == 2' "$S/deferred/$f"

# run: exit 0 is delivered; the command gets the case on stdin and the id in BB_QUEUE_ID.
cat > deliver-ok <<'SH'
#!/bin/sh
jq -c --arg e "$BB_QUEUE_ID" '{id, env: $e}' >> delivered.log
SH
chmod +x deliver-ok
expect_code 0 "run delivers" Q run --deliver ./deliver-ok
check "the command got the case on stdin and BB_QUEUE_ID" \
	test "$(cat delivered.log)" = "{\"id\":\"$A\",\"env\":\"$A\"}"
check "the entry moved to delivered/" \
	eval 'test -f "$S/delivered/$f" && empty "$S/deferred" "$S/active"'
check "show: delivered after one attempt, exit 0" \
	test "$(qv "$A" '.state + " " + (.attempts|tostring) + " " + (.last_exit|tostring)')" = "delivered 1 0"
expect_code 0 "a second run has nothing to do" Q run --deliver ./deliver-ok
check "a delivered entry is not delivered again" test "$(wc -l < delivered.log)" -eq 1

# What the command writes to stdout is the case's new state.
fresh_spool note
new_case b.json
B=$(jqv .id b.json)
cat > deliver-note <<'SH'
#!/bin/sh
jq '.submission.reference = "FIT-42"'
SH
chmod +x deliver-note
Q add b.json > /dev/null
Q run --deliver ./deliver-note 2>/dev/null
check "the command's updated case is kept, with the queue's own bookkeeping" \
	jq -e '.submission.reference == "FIT-42" and .submission.queue.state == "delivered"' "$S"/delivered/*"$B".json

# 75: deferred with backoff, not retried before it is due.
cat > q.yaml <<'Y'
queue:
  backoff_min: 10m
  backoff_max: 1h
  lifetime: 5d
  timeout: 2s
Y
QC() { "$BB_QUEUE" -c q.yaml -d "$S" "$@"; }
fresh_spool backoff
new_case c.json
C=$(jqv .id c.json)
QC add c.json > /dev/null
printf '#!/bin/sh\necho "503 from the authority" >&2\nexit 75\n' > deliver-75
chmod +x deliver-75
t0=$(now)
expect_code 0 "run with a temporary failure" QC run --deliver ./deliver-75
t1=$(now)
check "75 defers the entry, attempts 1" \
	eval 'test "$(qv "$C" .state)" = deferred && test "$(qv "$C" .attempts)" -eq 1'
check "last exit and the command's last stderr line are kept" \
	eval 'test "$(qv "$C" .last_exit)" = 75 && test "$(qv "$C" .last_error)" = "503 from the authority"'
next=$(epoch "$(qv "$C" .next_try)")
check "the next try is backoff_min (10 m, jitter up to 1.2) away" \
	eval 'test "$next" -ge $((t0 + 600)) && test "$next" -le $((t1 + 720))'
check "the file's mtime is the next try" test "$(stat -c %Y "$S"/deferred/*"$C".json)" -eq "$next"
QC run --deliver ./deliver-75 2>/dev/null
check "an entry that is not due is left alone" test "$(qv "$C" .attempts)" -eq 1
# Make it due and fail again: the backoff doubles.
touch -d '-1 minute' "$S"/deferred/*"$C".json
t0=$(now)
QC run --deliver ./deliver-75 2>/dev/null
t1=$(now)
next=$(epoch "$(qv "$C" .next_try)")
check "the second backoff is doubled (20 m with jitter)" \
	eval 'test "$(qv "$C" .attempts)" -eq 2 && test "$next" -ge $((t0 + 960)) && test "$next" -le $((t1 + 1440))'
i=0
while [ $i -lt 6 ]; do
	touch -d '-1 minute' "$S"/deferred/*"$C".json
	QC run --deliver ./deliver-75 2>/dev/null
	i=$((i + 1))
done
t1=$(now)
next=$(epoch "$(qv "$C" .next_try)")
check "the backoff is capped at backoff_max" \
	eval 'test "$next" -le $((t1 + 3600)) && test "$next" -ge $((t1 - 5 + 2880))'

# Retry-After reported by the command in the case it writes; then used once only.
fresh_spool retry-after
new_case d.json
D=$(jqv .id d.json)
QC add d.json > /dev/null
printf '#!/bin/sh\njq ".submission.retry_after = 1800"\nexit 75\n' > deliver-ra
chmod +x deliver-ra
t0=$(now)
QC run --deliver ./deliver-ra 2>/dev/null
t1=$(now)
next=$(epoch "$(qv "$D" .next_try)")
check "submission.retry_after is honoured" \
	eval 'test "$next" -ge $((t0 + 1800)) && test "$next" -le $((t1 + 1800))'
touch -d '-1 minute' "$S"/deferred/*"$D".json
at=$(date -u -d '+45 minutes' +%Y-%m-%dT%H:%M:%SZ)
printf '#!/bin/sh\njq --arg t "%s" ".submission.retry_at = \\$t"\nexit 75\n' "$at" > deliver-rat
chmod +x deliver-rat
QC run --deliver ./deliver-rat 2>/dev/null
check "submission.retry_at is honoured" test "$(qv "$D" .next_try)" = "$at"
touch -d '-1 minute' "$S"/deferred/*"$D".json
printf '#!/bin/sh\njq ".submission.retry_after = 86400"\nexit 75\n' > deliver-long
chmod +x deliver-long
t0=$(now)
QC run --deliver ./deliver-long 2>/dev/null
next=$(epoch "$(qv "$D" .next_try)")
check "a Retry-After beyond backoff_max is capped" test "$next" -le $(( $(now) + 3600 ))

# A Retry-After counts for one deferral only.
touch -d '-1 minute' "$S"/deferred/*"$D".json
t0=$(now)
QC run --deliver 'exit 75' 2>/dev/null
next=$(epoch "$(qv "$D" .next_try)")
check "a used Retry-After is dropped" \
	! jq -e '.submission | has("retry_after") or has("retry_at")' "$S"/deferred/*"$D".json
check "the next deferral backs off again" test "$next" -ge $((t0 + 600))

# A command that closes its output and goes on is still killed at the timeout.
fresh_spool closed
new_case cl.json
CL=$(jqv .id cl.json)
QC add cl.json > /dev/null
t0=$(now)
QC run --deliver 'exec >&- 2>&-; sleep 60' 2>/dev/null
check "a command that closed its output is killed at the timeout" \
	eval 'test $(( $(now) - t0 )) -lt 30 && test "$(qv "$CL" .last_error)" = "timed out after 2 s"'
QC remove "$CL"

# Lifetime: a deferral past since + lifetime fails the entry.
printf 'queue:\n  backoff_min: 2h\n  backoff_max: 4h\n  lifetime: 1h\n' > life.yaml
fresh_spool lifetime
new_case e.json
E=$(jqv .id e.json)
"$BB_QUEUE" -c life.yaml -d "$S" add e.json > /dev/null
"$BB_QUEUE" -c life.yaml -d "$S" run --deliver ./deliver-75 2>/dev/null
check "a deferral past the lifetime fails the entry" test "$(qv "$E" .state)" = failed
check_grep "the reason says lifetime" "lifetime exceeded" "$(ls "$S"/failed/*"$E".json)"

# Any other status fails at once.
fresh_spool exit65
new_case g.json
G=$(jqv .id g.json)
QC add g.json > /dev/null
printf '#!/bin/sh\necho "authority: invalid case" >&2\nexit 65\n' > deliver-65
chmod +x deliver-65
QC run --deliver ./deliver-65 2>/dev/null
check "65 fails the entry at once, with its reason" \
	test "$(qv "$G" '.state + " " + (.last_exit|tostring) + " " + .last_error')" = "failed 65 authority: invalid case"

# The terminal's own trouble defers, as in mail systems: 71, 74, 78, and a delivery
# command that cannot be found (127) must not fail the citizen's case.
for st in 71 74 78; do
	fresh_spool "exit$st"
	new_case "s$st.json"
	id=$(jqv .id "s$st.json")
	QC add "s$st.json" > /dev/null
	QC run --deliver "exit $st" 2>/dev/null
	check "exit $st defers the entry" test "$(qv "$id" .state)" = deferred
	QC remove "$id"
done
fresh_spool missing
new_case nf.json
NF=$(jqv .id nf.json)
QC add nf.json > /dev/null
QC run --deliver ./no-such-command 2>/dev/null
check "a missing delivery command defers (127)" \
	eval 'test "$(qv "$NF" .state)" = deferred && test "$(qv "$NF" .last_exit)" = 127'
QC remove "$NF"

# A hanging command is killed after the timeout and the entry deferred.
fresh_spool hang
new_case h.json
H=$(jqv .id h.json)
QC add h.json > /dev/null
# The sleep is marked with this test's PID: pgrep must not see another run's sleep.
printf '#!/bin/sh\nsleep 60.%s\n' "$$" > deliver-hang
chmod +x deliver-hang
t0=$(now)
QC run --deliver ./deliver-hang 2>/dev/null
t1=$(now)
check "a hanging delivery is killed and deferred" \
	eval 'test "$(qv "$H" .state)" = deferred && test "$(qv "$H" .last_error)" = "timed out after 2 s"'
check "the run did not wait for the hanging command" test $((t1 - t0)) -lt 30
check "the command's children were killed too" ! pgrep -f "sleep 60.$$"

# Killed by a signal: a crash, not a verdict on the case.
fresh_spool killed
new_case k.json
K=$(jqv .id k.json)
QC add k.json > /dev/null
QC run --deliver 'kill -9 $$' 2>/dev/null
check "a delivery killed by a signal is deferred" \
	eval 'test "$(qv "$K" .state)" = deferred && test "$(qv "$K" .last_error)" = "killed by signal 9"'

# A command that crashes inside sh (sh reports 128+N) is deferred, not failed.
fresh_spool crash
new_case sg.json
SG=$(jqv .id sg.json)
QC add sg.json > /dev/null
printf '#!/bin/sh\ncat > /dev/null\nkill -SEGV $$\n' > crash.sh
chmod +x crash.sh
QC run --deliver './crash.sh; true && ./crash.sh' 2>/dev/null
check "a crash reported by sh as 139 defers the entry" \
	eval 'test "$(qv "$SG" .state)" = deferred && test "$(qv "$SG" .last_error)" = "killed by signal 11"'
QC remove "$SG"

# Inherited SIGCHLD=ignore must not turn an unknown outcome into a delivery.
fresh_spool sigchld
new_case ig.json
IG=$(jqv .id ig.json)
QC add ig.json > /dev/null
/usr/bin/python3 -c 'import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])' \
	"$BB_QUEUE" -c q.yaml -d "$S" run --deliver 'sleep 0.2; exit 77' 2>/dev/null
check "with SIGCHLD ignored by the parent the real status is still read" \
	eval 'test "$(qv "$IG" .state)" = failed && test "$(qv "$IG" .last_exit)" = 77'
QC remove "$IG"

# A case at the size limit is still delivered: the stored file is larger than the case.
fresh_spool size
printf 'case:\n  max_size: 2K\n' > small.yaml
jq -c '.terminal = "t" | del(.identity.address)' a.json > sm.json
jq -c --arg id "$(cat /proc/sys/kernel/random/uuid)" '.id = $id' sm.json > sm2.json
SM=$(jqv .id sm2.json)
"$BB_QUEUE" -c small.yaml -d "$S" add sm2.json > /dev/null
"$BB_QUEUE" -c small.yaml -d "$S" run --deliver 'cat > /dev/null' 2>/dev/null
check "an entry near case.max_size is read back and delivered" test "$(qv "$SM" .state)" = delivered

# A corrupt entry goes to corrupt/ with a reason and does not block the others.
fresh_spool corrupt
new_case m.json
M=$(jqv .id m.json)
Q add m.json > /dev/null
bad="$(date -u +%Y%m%dT%H%M%S).000000Z-11111111-2222-4333-8444-555555555555.json"
printf '{"bb": 1, "id": ' > "$S/deferred/$bad"
touch -d '-1 day' "$S/deferred/$bad"
: > delivered.log
expect_code 0 "a run with a corrupt entry" Q run --deliver ./deliver-ok
check "the corrupt entry is in corrupt/ with a reason" \
	eval 'test -f "$S/corrupt/$bad" && test -s "$S/corrupt/$bad.reason"'
check_grep "the reason names the problem" "invalid JSON" "$S/corrupt/$bad.reason"
check "the other entries are delivered" grep -q "$M" delivered.log
check "show tells the reason" \
	eval 'test "$(qv 11111111 .state)" = corrupt && qv 11111111 .reason | grep -q "invalid JSON"'

# A dead runner's leftovers: an entry in active/ goes back and is delivered; an entry
# found under two states keeps its newer copy only.
fresh_spool leftovers
new_case r.json
R=$(jqv .id r.json)
Q add r.json > /dev/null
mv "$S"/deferred/*"$R".json "$S/active/"
expect_code 0 "list shows an entry left in active/" Q list --state active --format json
check "as active" jq -e --arg r "$R" 'map(.id) == [$r]' out
new_case t.json
T=$(jqv .id t.json)
Q add t.json > /dev/null
tf=$(ls "$S"/deferred/*"$T".json)
jq '.stale = true' "$tf" > "$S/active/${tf##*/}"
Q list --format json > both.json
check "an entry under two states is listed once, in its newer state" \
	jq -e --arg t "$T" '[.[] | select(.id == $t)] | length == 1 and .[0].state == "deferred"' both.json
: > delivered.log
expect_code 0 "run recovers and delivers" Q run --deliver ./deliver-ok
check "each is delivered once" \
	eval 'test "$(grep -c "$R" delivered.log)" -eq 1 && test "$(grep -c "$T" delivered.log)" -eq 1'
check "active/ is empty and the stale copy was dropped" \
	eval 'empty "$S/active" && ! grep -q stale "$S"/delivered/*"$T".json'

# Oldest first, and --max.
fresh_spool order
mkdir -p order && for n in 1 2 3; do new_case "order/$n.json"; Q add "order/$n.json" > /dev/null; done
: > delivered.log
Q run --max 2 --deliver ./deliver-ok
check "run takes the oldest first and stops at --max" \
	test "$(jq -r .id delivered.log | tr '\n' ' ')" = "$(jqv .id order/1.json) $(jqv .id order/2.json) "
Q run --deliver ./deliver-ok
check "the next run takes the rest" test "$(wc -l < delivered.log)" -eq 3

# mixed_spool NAME: a fresh spool with an entry in each state but active/, under fixed
# ids: A delivered, G and E failed (65), the corrupt X, C deferred (75, due later).
G=aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
E=eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee
C=cccccccc-cccc-4ccc-8ccc-cccccccccccc
X=11111111-2222-4333-8444-555555555555
for id in $G $E $C; do
	jq --arg id "$id" '.id = $id' a.json > "fixed-$id.json"
done
mixed_spool() {
	fresh_spool "$1"
	Q add a.json > /dev/null
	printf '{"bb": 1, "id": ' > broken.json
	mkdir -p "$S/deferred"
	cp broken.json "$S/deferred/20261130T100000.000000Z-$X.json"
	touch -d '-1 day' "$S/deferred/20261130T100000.000000Z-$X.json"
	Q run --deliver 'cat > /dev/null' 2> /dev/null
	Q add "fixed-$G.json" > /dev/null
	Q add "fixed-$E.json" > /dev/null
	Q run --deliver 'echo "authority: invalid case" >&2; exit 65' 2> /dev/null
	Q add "fixed-$C.json" > /dev/null
	Q run --deliver 'echo "503 from the authority" >&2; exit 75' 2> /dev/null
}

# retry, remove, purge.
mixed_spool purge
expect_code 0 "retry of a failed entry" Q retry "$G"
check "it is deferred again, due now" \
	eval 'test "$(qv "$G" .state)" = deferred && test -z "$(ls "$S"/failed/*"$G"* 2>/dev/null)"'
expect_code 0 "retry --failed" Q retry --failed
check "no failed entry is left" test -z "$(ls "$S/failed")"
expect_code 65 "retry of a delivered entry is refused" Q retry "$A"
expect_code 66 "retry of an unknown entry is 66" Q retry 99999999
expect_code 64 "retry without ids or --failed is a usage error" Q retry
expect_code 64 "a prefix shorter than 8 characters is refused" Q show 0b6c
expect_code 0 "remove" Q remove "$E"
check "the entry is gone" test -z "$(ls "$S"/*/*"$E"* 2>/dev/null)"
expect_code 66 "remove of an unknown entry is 66" Q remove "$E"
expect_code 0 "remove of a corrupt entry" Q remove "$X"
check "with its reason" test -z "$(ls -A "$S/corrupt")"
n=$(ls "$S/delivered" | wc -l)
expect_code 0 "purge keeps what is within the retention" Q purge
check "fresh delivered entries stay" test "$(ls "$S/delivered" | wc -l)" -eq "$n"
touch -d '-5 days' "$S"/delivered/*"$A".json
expect_code 0 "purge after the retention" Q purge
check "an entry older than 96 h is purged, the others stay" \
	eval 'test -z "$(ls "$S"/delivered/*"$A"* 2>/dev/null)" && test "$(ls "$S/delivered" | wc -l)" -eq $((n - 1))'
expect_code 0 "purge --older-than 0 empties delivered and failed" Q purge --older-than 0
check "nothing delivered or failed is left" empty "$S/delivered" "$S/failed"
check "deferred entries are never purged" test -n "$(ls "$S/deferred")"
touch -d '-2 hours' "$S/tmp/.stale.tmp" 2>/dev/null || { : > "$S/tmp/.stale.tmp"; touch -d '-2 hours' "$S/tmp/.stale.tmp"; }
Q purge
check "purge removes stale temporary files" test ! -e "$S/tmp/.stale.tmp"

# list, show, stats: states and numbers, never the case's content. The whole outputs
# are in tests/data/expected/queue/, with times, ages and the spool's path taken out.
mixed_spool view
Y=$BB_TOP/tests/data/expected/queue
# norm FILE: FILE without what changes from run to run, to FILE.norm.
norm() {
	sed -e 's/[0-9]\{8\}T[0-9]\{6\}\.[0-9]\{6\}Z-/STAMP-/' \
	    -e 's/20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z/TIME/g' \
	    -e "s|$S|SPOOL|" -e 's/: [0-9][0-9]* s$/: N s/' -e 's/_seconds": [0-9][0-9]*/_seconds": N/' \
	    -e 's/^\(bb_queue_[a-z_]*seconds[^ ]*\) [0-9][0-9]*$/\1 N/' "$1" > "$1.norm"
}
expect_code 0 "list as JSON" Q list --format json
check "list gives id, state, added" \
	jq -e 'length > 0 and all(.[]; has("id") and has("state") and has("added"))' out
cp out list.json
norm list.json
check_same "list as JSON, whole" "$Y/list.json" list.json.norm
expect_code 0 "list as text" Q list --format text
check "one line per entry" test "$(wc -l < out)" -eq "$(jq length list.json)"
norm out
check_same "list as text, whole" "$Y/list.txt" out.norm
expect_code 0 "list --state deferred" Q list --state deferred --format json
check "only that state" jq -e 'all(.[]; .state == "deferred")' out
expect_code 64 "list of an unknown state" Q list --state lost
expect_code 0 "stats as JSON" Q stats --format json
check "stats counts per state and the next due time" \
	jq -e --argjson n "$(ls "$S/deferred" | wc -l)" '.entries.deferred == $n and .entries.delivered == 1 and (.next_due | type) == "string"' out
norm out
check_same "stats as JSON, whole" "$Y/stats.json" out.norm
expect_code 0 "stats as text" Q stats --format text
norm out
check_same "stats as text, whole" "$Y/stats.txt" out.norm
expect_code 0 "show as text" Q show "$C" --format text
norm out
check_same "show as text, whole" "$Y/show.txt" out.norm
expect_code 0 "show as JSON" Q show "$C" --format json
norm out
check_same "show as JSON, whole" "$Y/show.json" out.norm
expect_code 0 "stats for Prometheus" Q stats --format prometheus
norm out
check_same "stats for Prometheus, whole" "$Y/stats.prom" out.norm
check_grep "a gauge per state" '^bb_queue_entries{state="deferred"} [0-9][0-9]*$' out
check_grep "the oldest waiting age" '^bb_queue_oldest_waiting_seconds [0-9][0-9]*$' out
check_grep "typed for the textfile collector" '^# TYPE bb_queue_entries gauge$' out
for cmd in "list --format json" "list --format text" "show $C --format json" "show $C --format text" "stats --format json"; do
	Q $cmd > view.out 2>&1
	check_nogrep "$cmd shows no personal data" "MUSTERMANN\|HEIDESTRASSE\|1964-08-12" view.out
done

# The spool: -d, then queue.spool, then BB_SPOOL.
printf 'queue:\n  spool: %s/cfgspool\n' "$scratch" > sp.yaml
"$BB_QUEUE" -c sp.yaml add a.json > /dev/null
check "queue.spool names the spool" test -n "$(ls cfgspool/deferred)"
BB_SPOOL=$scratch/envspool "$BB_QUEUE" -c sp.yaml stats --format json > o.json
check "the configuration wins over BB_SPOOL" jq -e --arg d "$scratch/cfgspool" '.spool == $d' o.json
BB_SPOOL=$scratch/envspool "$BB_QUEUE" add a.json > /dev/null
check "BB_SPOOL is used without a configured spool" test -n "$(ls envspool/deferred)"
"$BB_QUEUE" -c sp.yaml -d "$scratch/dspool" add a.json > /dev/null
check "-d wins over both" test -n "$(ls dspool/deferred)"
expect_code 0 "run on a spool that does not exist is a no-op" "$BB_QUEUE" -d "$scratch/none" run --deliver false
check "and creates nothing" test ! -e none

# Full disk during add: 74, no half file, nothing left in tmp/.
new_case big.json
( ulimit -f 1; exec "$BB_QUEUE" -d "$scratch/full" add big.json ) > out 2> err
rc=$?
check "add on a full disk is 74 (got $rc)" test $rc -eq 74
check "nothing is stored, nothing left in tmp/" empty full/deferred full/tmp
mkdir -p ro && : > ro/spool
expect_code 73 "a spool that cannot be created is 73" "$BB_QUEUE" -d "$scratch/ro/spool/x" add a.json

expect_code 64 "no command is a usage error" "$BB_QUEUE"
expect_code 64 "an unknown command is a usage error" "$BB_QUEUE" fly
expect_code 0 "--help" "$BB_QUEUE" --help
check_grep "--help lists the commands" "purge \[--older-than DURATION\]" out
expect_code 64 "run --max 0 is a usage error" Q run --max 0
check_grep "an option error names the program" "^bb-queue: " err
expect_code 64 "purge with a bad duration is a usage error" Q purge --older-than soon

done_testing
