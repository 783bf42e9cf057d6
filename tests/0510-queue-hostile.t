#!/bin/sh
# bb-queue against hostile input and the terminal's own faults: what it reads back from a
# case or a delivery command never crashes or halts a run, a fault of the terminal defers
# the case, the delivery command gets the run's configuration, failed/ and corrupt/ are
# kept for their own retention and counted, and the spool is trusted only when the
# running user alone owns it. A section starts on a spool of its own (fresh_spool), not
# on what the one before left, emptied by hand.
. "${0%/*}/lib.sh"

. "$BB_TOP/tests/queue.sh"
write_identity_case id.json
# case_with FILE JQ: a fresh case changed by the jq filter JQ; its id in $ID.
case_with() {
	new_case "$1.tmp"
	jq "$2" "$1.tmp" > "$1"
	rm -f "$1.tmp"
	ID=$(jqv .id "$1")
}
# plant STATE FILE: FILE's case written straight into the spool, as an editor or
# another program would; its name in $PLANTED.
plant() {
	PLANTED="$(date -u +%Y%m%dT%H%M%S).$(printf %06d $((_n * 1000 % 1000000)))Z-$(jqv .id "$2").json"
	cp "$2" "$S/$1/$PLANTED"
	touch -d '-1 minute' "$S/$1/$PLANTED"
}
# by_id: a delivery command that exits with the status named for its entry in
# status.$BB_QUEUE_ID (default: delivered, logged to delivered.log).
cat > by-id <<'SH'
#!/bin/sh
cat > /dev/null
if [ -f "status.$BB_QUEUE_ID" ]; then exit "$(cat "status.$BB_QUEUE_ID")"; fi
echo "$BB_QUEUE_ID" >> delivered.log
SH
chmod +x by-id
: > delivered.log

# --- 1. Hostile times ------------------------------------------------------------------
# RFC 3339 allows a lower-case t; this since once crashed every run (SIGSEGV) and left the
# entry in active/, so no case behind it was ever delivered.
lt=$(date -u -d '-1 hour' +%Y-%m-%dt%H:%M:%SZ)	# within the lifetime
case_with lt.json ".submission.queue.since = \"$lt\""
LT=$ID
expect_code 0 "add takes a since with a lower-case t" Q add lt.json
case_with behind.json .
BEHIND=$ID
Q add behind.json > /dev/null
echo 75 > "status.$LT"
expect_code 0 "a run over it with a command exiting 75 ends normally" Q run --deliver ./by-id
check "the entry is deferred, its since kept" \
	test "$(qv "$LT" '.state + " " + (.attempts|tostring) + " " + .since')" = "deferred 1 $lt"
check "active/ is empty and the case behind it was delivered" \
	eval 'empty "$S/active" && grep -qx "$BEHIND" delivered.log'

for bad in garbage "2026-13-01T00:00:00Z" "99999-01-01T00:00:00Z" "2026-11-30T09:12:44" 42; do
	case_with bad.json ".submission.queue.since = $(printf %s "$bad" | jq -R 'tonumber? // .')"
	expect_code 65 "add refuses since $bad" Q add bad.json
done
case_with fut.json '.submission.queue.since = "9999-12-31T23:59:59Z"'
expect_code 65 "add refuses a since in year 9999" Q add fut.json
check_grep "and says why" "submission.queue.since: lies in the future" err
case_with att.json '.submission.queue.attempts = -3'
expect_code 65 "add refuses a negative attempts" Q add att.json

# The same read back from the spool: corrupt/ with a reason, and the run goes on.
fresh_spool planted
Q add id.json > /dev/null 2>&1 || true
rm -f "$S"/deferred/*
case_with pg.json '.submission.queue = {"since": "yesterday", "attempts": 0}'
PG=$ID
plant deferred pg.json
case_with pa.json '.submission.queue = {"since": "2026-12-01T00:00:00Z", "attempts": "many"}'
PA=$ID
plant deferred pa.json
case_with ok2.json .
OK2=$ID
Q add ok2.json > /dev/null
expect_code 0 "a run over entries with unparsable bookkeeping" Q run --deliver ./by-id
check "a since that is no time: corrupt/ with a reason" \
	eval 'test -f "$S/corrupt/$(ls "$S/corrupt" | grep "$PG.json\$")" && grep -q "submission.queue.since: not an RFC 3339 time" "$S"/corrupt/*"$PG".json.reason'
check "attempts that are no count: corrupt/ with a reason" \
	grep -q "submission.queue.attempts" "$S"/corrupt/*"$PA".json.reason
check "the good entry was delivered, the corrupt ones not" \
	eval 'grep -qx "$OK2" delivered.log && ! grep -q "$PG\|$PA" delivered.log'

# What a delivery command writes back is untrusted too.
rat() {	# rat VALUE: a command that writes submission.retry_at VALUE and exits 75
	printf '#!/bin/sh\njq --arg t "%s" ".submission.retry_at = \\$t"\nexit 75\n' "$1" > deliver-rat
	chmod +x deliver-rat
}
printf 'queue:\n  backoff_min: 10m\n  backoff_max: 1h\n' > q.yaml
QC() { "$BB_QUEUE" -c q.yaml -d "$S" "$@"; }
case_with r.json .
R=$ID
QC add r.json > /dev/null
at=$(date -u -d '+45 minutes' +%Y-%m-%dt%H:%M:%Sz)
rat "$at"
expect_code 0 "a retry_at with a lower-case t and z" QC run --deliver ./deliver-rat
check "is honoured" test "$(epoch "$(qv "$R" .next_try)")" -eq "$(epoch "$(echo "$at" | tr tz TZ)")"
for bad in "not a time" "2026-02-30T10:00:00Z" "12026-01-01T00:00:00Z"; do
	touch -d '-1 minute' "$S"/deferred/*"$R".json
	rat "$bad"
	t0=$(now)
	expect_code 0 "a run whose command writes retry_at \"$bad\"" QC run --deliver ./deliver-rat
	next=$(epoch "$(qv "$R" .next_try)")
	check "is not obeyed: deferred by the backoff, and last_error says so" \
		eval 'test "$(qv "$R" .state)" = deferred && test "$next" -ge $((t0 + 600)) && qv "$R" .last_error | grep -q "retry_at ignored"'
done
touch -d '-1 minute' "$S"/deferred/*"$R".json
rat "9999-12-31T23:59:59Z"
QC run --deliver ./deliver-rat
check "a retry_at in year 9999 is capped at backoff_max" \
	test "$(epoch "$(qv "$R" .next_try)")" -le $(( $(now) + 3600 ))
QC remove "$R"

# An entry that kills every run delivering it (a crash of bb-queue itself) is tried last,
# and is never put aside: a kill from outside looks the same (0520), and the case must not
# be lost to it.
fresh_spool killed
case_with kill.json .
KILL=$ID
Q add kill.json > /dev/null
case_with after.json .
AFTER=$ID
Q add after.json > /dev/null
: > delivered.log
# Run by the runner's sh -c, so $PPID is the runner.
kill_it="cat > /dev/null; [ \"\$BB_QUEUE_ID\" = $KILL ] && kill -9 \$PPID && exit 75; echo \"\$BB_QUEUE_ID\" >> delivered.log"
Q run --deliver "$kill_it" 2>/dev/null
sleep 0.3
check "the first run died on the entry (it is oldest)" \
	eval 'test -n "$(ls "$S/active")" && ! grep -q "$AFTER" delivered.log'
Q run --deliver "$kill_it" 2>/dev/null
sleep 0.3
check "the next run delivers the case behind it first" grep -qx "$AFTER" delivered.log
i=0
while [ $i -lt 5 ]; do
	Q run --deliver "$kill_it" 2>/dev/null
	sleep 0.3
	i=$((i + 1))
done
check "after five more dead runs it is still waiting, not put aside" \
	eval 'empty "$S/corrupt" "$S/failed" && test -n "$(ls "$S"/deferred/*"$KILL".json "$S"/active/*"$KILL".json 2>/dev/null)"'
sleep 0.3
expect_code 0 "once the runs stop dying on it" Q run --deliver "cat > /dev/null; echo \"\$BB_QUEUE_ID\" >> delivered.log"
check "it is delivered" grep -qx "$KILL" delivered.log

# ... but not past its lifetime: an entry the last run died on, whose lifetime is over, is
# put aside without another attempt (else a case that kills every run is tried forever).
fresh_spool killed-late
case_with kill.json .
KILL=$ID
Q add kill.json > /dev/null
case_with after.json .
AFTER=$ID
Q add after.json > /dev/null
: > delivered.log
kill_it="cat > /dev/null; [ \"\$BB_QUEUE_ID\" = $KILL ] && kill -9 \$PPID && exit 75; echo \"\$BB_QUEUE_ID\" >> delivered.log"
Q run --deliver "$kill_it" 2>/dev/null
sleep 0.3
f=$(ls "$S"/active/*"$KILL".json)
old=$(date -u -d '-6 days' +%Y-%m-%dT%H:%M:%SZ)
jq --arg t "$old" '.submission.queue.since = $t' "$f" > since.json && cat since.json > "$f"
expect_code 0 "a run after its lifetime" Q run --deliver "$kill_it"
check "the entry a run died on is failed once its lifetime is over" \
	eval 'test -f "$S"/failed/*"$KILL".json && empty "$S/active"'
check "without another attempt; the case behind it is delivered" \
	eval '! grep -q "$KILL" delivered.log && grep -qx "$AFTER" delivered.log'
check "last_error says why" \
	jq -e '.submission.queue.last_error | test("never returned")' "$S"/failed/*"$KILL".json

# --- 2. The terminal's faults defer; only the authority's verdict fails ------------------
fresh_spool faults
dir_target sub.yaml inbox "$scratch/inbox"
case_with d.json .
D=$ID
Q add d.json > /dev/null
expect_code 0 "a run whose dir target has no directory" Q run --deliver "$BB_SUBMIT -c $scratch/sub.yaml"
check "73 defers the case" test "$(qv "$D" '.state + " " + (.last_exit|tostring)')" = "deferred 73"
: > inbox
touch -d '-1 minute' "$S"/deferred/*"$D".json
Q run --deliver "$BB_SUBMIT -c $scratch/sub.yaml" 2>/dev/null
check "a file where the directory should be: deferred again" \
	test "$(qv "$D" '.state + " " + (.last_exit|tostring) + " " + (.attempts|tostring)')" = "deferred 73 2"
rm inbox && mkdir inbox
touch -d '-1 minute' "$S"/deferred/*"$D".json
Q run --deliver "$BB_SUBMIT -c $scratch/sub.yaml" 2>/dev/null
check "once the directory is there, the case is delivered" \
	eval 'test "$(qv "$D" .state)" = delivered && test -f "inbox/$D.json"'
for st in 73 74 78 70 76 1 126 127; do
	case_with "x$st.json" .
	Q add "x$st.json" > /dev/null
	Q run --deliver "cat > /dev/null; exit $st" 2>/dev/null
	check "exit $st defers" test "$(qv "$ID" .state)" = deferred
	Q remove "$ID"
done
for st in 65 77; do
	case_with "x$st.json" .
	Q add "x$st.json" > /dev/null
	Q run --deliver "cat > /dev/null; exit $st" 2>/dev/null
	check "exit $st (the authority's verdict) fails" test "$(qv "$ID" .state)" = failed
	Q remove "$ID"
done

# --- 3. The delivery command gets the run's configuration --------------------------------
rm -rf inbox && mkdir inbox
dir_target only.yaml onlyhere "$scratch/inbox"
case_with c3.json .
C3=$ID
Q add c3.json > /dev/null
expect_code 0 "bb-queue -c FILE run with bb-submit as the command" \
	"$BB_QUEUE" -c only.yaml -d "$S" run --deliver "cd / && exec \"$BB_SUBMIT\""
check "bb-submit used the target only FILE defines" \
	eval 'test "$(qv "$C3" .state)" = delivered && test -f "inbox/$C3.json"'
case_with c3b.json .
Q add c3b.json > /dev/null
"$BB_QUEUE" -c only.yaml -d "$S" run --deliver 'cat > /dev/null; echo "$BB_CONFIG" > cfg.seen'
check "BB_CONFIG is FILE's absolute path" test "$(cat cfg.seen)" = "$scratch/only.yaml"
case_with c3c.json .
Q add c3c.json > /dev/null
"$BB_QUEUE" -c only.yaml -d "$S" run --deliver 'cat > /dev/null; BB_CONFIG=/nowhere; echo "$BB_CONFIG" > cfg.seen'
check "a command can still set its own" test "$(cat cfg.seen)" = /nowhere

# --- 4. failed/ and corrupt/ kept for their own retention, counted; queue.max ------------
fresh_spool retention
case_with f1.json .
F1=$ID
Q add f1.json > /dev/null
Q run --deliver 'cat > /dev/null; exit 65' 2>/dev/null
case_with f2.json .
F2=$ID
Q add f2.json > /dev/null
Q run --deliver 'cat > /dev/null; exit 77' 2>/dev/null
printf '{"bb": 1, "id": ' > "$S/corrupt/20261201T000000.000000Z-11111111-2222-4333-8444-555555555555.json"
echo "invalid JSON" > "$S/corrupt/20261201T000000.000000Z-11111111-2222-4333-8444-555555555555.json.reason"
touch -d '-5 days' "$S"/failed/*"$F1".json
touch -d '-3 days' "$S/corrupt/20261201T000000.000000Z-11111111-2222-4333-8444-555555555555.json.reason"
expect_code 0 "stats as JSON" Q stats --format json
check "counts failed and corrupt entries and the age of the oldest of each" \
	jq -e '.entries.failed == 2 and .entries.corrupt == 1 and (.oldest_failed_seconds - 432000 | fabs) < 60 and (.oldest_corrupt_seconds - 259200 | fabs) < 60' out
expect_code 0 "stats for Prometheus" Q stats --format prometheus
check_grep "the oldest failed entry's age" '^bb_queue_oldest_unhandled_seconds{state="failed"} 4320[0-5][0-9]$' out
check_grep "the oldest corrupt entry's age" '^bb_queue_oldest_unhandled_seconds{state="corrupt"} 2592[0-5][0-9]$' out
expect_code 0 "stats as text" Q stats --format text
check_grep "text too" '^oldest failed: 4320[0-5][0-9] s$' out
expect_code 0 "purge" Q purge
check "a failed entry of 5 days is kept (failed_retention 14 d), and the corrupt one" \
	eval 'test -f "$S"/failed/*"$F1".json && test -n "$(ls "$S/corrupt")"'
touch -d '-15 days' "$S"/failed/*"$F1".json "$S"/corrupt/*.reason
expect_code 0 "run purges too" Q run --deliver ./by-id
check "after 14 days the failed and the corrupt entry are purged (with its reason), the younger stays" \
	eval 'test -z "$(ls "$S"/failed/*"$F1"* 2>/dev/null)" && test -f "$S"/failed/*"$F2".json && empty "$S/corrupt"'
printf 'queue:\n  failed_retention: 1d\n  corrupt_retention: 1h\n' > ret.yaml
touch -d '-2 days' "$S"/failed/*"$F2".json
"$BB_QUEUE" -c ret.yaml -d "$S" purge
check "queue.failed_retention is configurable" empty "$S/failed"
for v in 0 -1; do
	printf 'queue:\n  max: %s\n' "$v" > max.yaml
	expect_code 78 "queue.max: $v is refused" "$BB_QUEUE" -c max.yaml -d "$S" stats
	check_grep "with the line" "max.yaml:2: queue.max: expected a positive integer" err
done
printf 'queue:\n  max: 3\n' > max.yaml
expect_code 0 "queue.max: 3 is taken" "$BB_QUEUE" -c max.yaml -d "$S" stats

# --- 6. Trust only the spool the user owns -----------------------------------------------
fresh_spool trust
Q add id.json > /dev/null
chmod 0777 "$S"
for cmd in "add id.json" "run --deliver ./by-id" "list" "stats"; do
	expect_code 78 "$cmd on a spool of mode 0777" Q $cmd
done
check_grep "the message says what to chmod" "spool $S: mode 0777 is writable by others: chmod go-w $S" err
chmod 0700 "$S" && chmod 0775 "$S/deferred"
expect_code 78 "a state directory writable by the group" Q run --deliver ./by-id
check_grep "is named" "spool $S/deferred: mode 0775" err
chmod 0700 "$S/deferred"
chown nobody "$S"
expect_code 78 "a spool owned by another user" Q list
check_grep "says chown" "owned by uid $(id -u nobody), not by the running user" err
chown 0 "$S"
ln -s "$S" link
expect_code 78 "a symbolic link as the spool" "$BB_QUEUE" -d "$scratch/link" run --deliver ./by-id
check_grep "is refused" "a symbolic link, not trusted" err
mv "$S/failed" "$S/failed.real" && ln -s failed.real "$S/failed"
expect_code 78 "a symbolic link as a state directory" Q list
rm "$S/failed" && mv "$S/failed.real" "$S/failed"

# An entry that another user owns is not delivered with ours: corrupt/.
fresh_spool owner
: > delivered.log
case_with own.json .
OWN=$ID
Q add own.json > /dev/null
case_with theirs.json .
THEIRS=$ID
Q add theirs.json > /dev/null
chown nobody "$S"/deferred/*"$THEIRS".json
expect_code 0 "a run over an entry owned by nobody" Q run --deliver ./by-id
check "it is not delivered; the user's own is" \
	eval 'grep -qx "$OWN" delivered.log && ! grep -q "$THEIRS" delivered.log'
check "it is in corrupt/, with the reason" \
	eval 'test -f "$S"/corrupt/*"$THEIRS".json && grep -q "owned by uid $(id -u nobody)" "$S"/corrupt/*"$THEIRS".json.reason'
case_with gw.json .
GW=$ID
Q add gw.json > /dev/null
chmod 0666 "$S"/deferred/*"$GW".json
Q run --deliver ./by-id 2>/dev/null
check "an entry writable by others too" \
	eval 'test -f "$S"/corrupt/*"$GW".json && ! grep -q "$GW" delivered.log'

# No spool in /tmp: a user without HOME and no spool configured is told to give one.
nb() { setpriv --reuid=nobody --regid=nogroup --clear-groups env -u HOME -u XDG_STATE_HOME -u BB_CONFIG -u BB_SPOOL "$@"; }
nuid=$(id -u nobody)
if [ ! -e "/tmp/bb-spool-$nuid" ] && (cd / && nb "$BB_QUEUE" --help >/dev/null 2>&1); then
	( cd / && nb "$BB_QUEUE" stats --format json ) > out 2> err
	rc=$?
	check "without HOME: 78 and no spool in /tmp (got $rc)" \
		eval 'test $rc -eq 78 && test ! -e "/tmp/bb-spool-$nuid"'
	check_grep "saying what to set" "no spool: HOME is not set; give one with -d, queue.spool in bb.yaml or BB_SPOOL" err
	rm -rf "/tmp/bb-spool-$nuid"
else
	ok 0 "# SKIP cannot run as nobody here"
fi

done_testing
