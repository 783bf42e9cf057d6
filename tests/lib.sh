# Sourced by every tests/NNNN-*.t: TAP output, a fresh scratch directory, and helpers
# that run a bb program and check its exit status and output. Binaries come from
# $BB_BIN (the build directory), or one by one from $BB_FORM, $BB_EID, ... so the same
# tests can check an installed build.
#
# How a test reads: each line that counts is one check, what it shows first, then how:
#	check 'the case file is mode 0600' test "$(stat -c %a case.json)" = 600
#	check 'no PIN in the trace' ! grep -q 123456 trace.log
#	check 'delivered, and gone from deferred/' eval 'test -f "$D" && empty "$S/deferred"'
#	expect_code 65 'a bare word is invalid JSON' "$BB_FORM" check bare.json
#	check_same 'list as text, whole' "$BB_TOP/tests/data/expected/queue/list.txt" out.norm
# A failing check says as TAP diagnostics what ran and what it printed (or the diff), so
# the report alone tells what broke. Whole outputs are compared with check_same against
# files in tests/data/expected/ (or a heredoc: check_same 'what' - out <<'EOF'), after a
# sed that takes out what changes from run to run (times, the scratch path, random ids).
# A section builds the state it needs with a small function (a fresh spool, case, card),
# so one failure does not cascade into the next; where a file shares a started server
# (pcscd, the authority, the screen) on purpose, its head says why.

BB_TOP=${BB_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BB_BIN=${BB_BIN:-$BB_TOP/.build}
BB_FORM=${BB_FORM:-$BB_BIN/bb-form}
BB_QUEUE=${BB_QUEUE:-$BB_BIN/bb-queue}
BB_SUBMIT=${BB_SUBMIT:-$BB_BIN/bb-submit}
SERVICES=$BB_TOP/scripts/services
export BB_TOP BB_BIN BB_FORM BB_QUEUE BB_SUBMIT
unset BB_SPOOL

# No configuration of the machine running the tests may leak in.
unset BB_CONFIG
LC_ALL=C.UTF-8
TZ=Europe/Berlin
export LC_ALL TZ
# A sanitizer report must fail a test as a crash, not pass as an expected exit status.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
LSAN_OPTIONS=suppressions=$BB_TOP/tests/lsan.supp:print_suppressions=0
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

scratch=$(mktemp -d "${TMPDIR:-/tmp}/bb-test.XXXXXX")
trap 'cd /; rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
: > empty.yaml
BB_CONFIG=$scratch/empty.yaml
export BB_CONFIG

_n=0
_failed=0

ok() {	# ok STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

diag() { sed 's/^/# /' "$@" >&2; }

# check DESCRIPTION [!] CMD...: ok when CMD exits 0 (with !, when it does not). CMD runs
# in a subshell, as a pure observation: it cannot cd or set a variable of the test. Its
# output is kept back, and shown with the command as it ran when the check fails. For
# shell syntax (&&, |, redirections) CMD is eval 'CODE'.
check() {
	_ck_desc=$1
	shift
	_ck_not=
	if [ "$1" = '!' ]; then
		_ck_not='! '
		shift
	fi
	_ck_out=$("$@" 2>&1)
	_ck_rc=$?
	_ck_ok=$_ck_rc
	[ -z "$_ck_not" ] || { [ "$_ck_rc" -ne 0 ]; _ck_ok=$?; }
	if [ "$_ck_ok" -eq 0 ]; then
		ok 0 "$_ck_desc"
		return 0
	fi
	ok 1 "$_ck_desc"
	{
		printf 'ran: %s' "$_ck_not"
		printf '%s ' "$@"
		printf '(exit %s)\n' "$_ck_rc"
		[ -z "$_ck_out" ] || printf '%s\n' "$_ck_out" | head -n 40
	} | diag
	return 1
}

# kill_own PID...: SIGTERM to each PID that is still a child of this shell. A PID that
# was waited for may belong to another process by now (pid_max 32768 wraps within
# minutes when several test runs share the machine): an EXIT trap that kills a list of
# old PIDs can kill another run's server.
kill_own() {
	for _p; do
		[ "$(ps -o ppid= -p "$_p" 2>/dev/null)" -eq $$ ] 2>/dev/null && kill "$_p" 2>/dev/null
	done
	return 0
}

# jq with -e: Debian 12's jq 1.6 exits 0 when its input holds no value at all (1.7 exits
# 4), so `check 'what' jq -e FILTER out` passed when the program wrote nothing. Here -e
# (alone or among short options) with no output value is status 4, as in 1.7.
jq() {
	_jq_e=
	for _jq_a; do
		case $_jq_a in
		--) break ;;
		--*) ;;
		-*e*) _jq_e=1 ;;
		esac
	done
	[ -n "$_jq_e" ] || { command jq "$@"; return; }
	command jq "$@" > "$scratch/.jq.out"
	_jq_rc=$?
	cat "$scratch/.jq.out"
	[ "$_jq_rc" -ne 0 ] || [ -s "$scratch/.jq.out" ] || _jq_rc=4
	return "$_jq_rc"
}

# run CMD...: runs it with stdin from $STDIN (default /dev/null), stdout to out,
# stderr to err; the status is in $rc.
run() {
	"$@" < "${STDIN:-/dev/null}" > out 2> err
	rc=$?
}

crashed() { [ "$1" -ge 126 ]; }

# expect_code CODE DESCRIPTION CMD...: exact exit status; a crash never matches.
expect_code() {
	_want=$1 _desc=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$_want" ] && ! crashed "$rc"; then
		ok 0 "$_desc"
	else
		ok 1 "$_desc (exit $rc, want $_want)"
		diag err
	fi
}

# must_fail DESCRIPTION CMD...: any error status, but not a crash (signal, 126, 127).
must_fail() {
	_desc=$1
	shift
	run "$@"
	if [ "$rc" -ne 0 ] && ! crashed "$rc"; then
		ok 0 "$_desc"
	else
		ok 1 "$_desc (exit $rc)"
		diag err
	fi
}

# check_same DESCRIPTION EXPECTED ACTUAL: whole-file comparison, diff on mismatch.
# EXPECTED may be - for a heredoc.
check_same() {
	if diff -u "$2" "$3" > diff.out 2>&1; then
		ok 0 "$1"
		return 0
	fi
	ok 1 "$1"
	diag diff.out
	return 1
}

# check_grep DESCRIPTION PATTERN FILE / check_nogrep: a line matching (or none).
check_grep() {
	if grep -q -e "$2" "$3"; then ok 0 "$1"; else ok 1 "$1"; diag "$3"; fi
}
check_nogrep() {
	if grep -q -e "$2" "$3"; then ok 1 "$1"; grep -e "$2" "$3" | diag; else ok 0 "$1"; fi
}

# jqv FILTER FILE: one value from a JSON file, raw.
jqv() { jq -r "$1" "$2"; }

# An identity as bb-eid writes it; personal values the tests look for in logs.
write_identity_case() {
	cat > "$1" <<'JSON'
{
  "bb": 1,
  "id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3",
  "created": "2026-11-30T10:00:00Z",
  "terminal": "test-1",
  "identity": {
    "document_type": "ID", "issuing_state": "DE", "expiry": "2031-10-31",
    "given_names": "ERIKA", "family_names": "MUSTERMANN", "birth_name": "GABLER",
    "academic_title": "DR.", "date_of_birth": "1964-08-12",
    "place_of_birth": "BERLIN", "nationality": "DE",
    "address": { "street": "HEIDESTRASSE 17", "postal_code": "51147",
                 "city": "KÖLN", "country": "DE" }
  }
}
JSON
}

# dir_target FILE NAME DIR: a bb.yaml whose one (default) target NAME is a directory.
dir_target() {
	printf 'submit:\n  default: %s\n  targets:\n    %s:\n      kind: dir\n      path: %s\n' \
		"$2" "$2" "$3" > "$1"
}

# The plan comes last (TAP allows it), so tests need no count kept by hand.
# new_case FILE: the identity case with a fresh id.
new_case() {
	write_identity_case "$1.tmp"
	jq --arg id "$(cat /proc/sys/kernel/random/uuid)" '.id = $id' "$1.tmp" > "$1"
	rm -f "$1.tmp"
}

# cases COUNT DIR: COUNT distinct valid cases DIR/0.json ... (the identity case in
# id.json, which the test wrote, each with a fresh UUID v4), and their ids one a line in
# DIR.ids, in the same order.
cases() {
	mkdir -p "$2"
	_i=0
	: > "$2.ids"
	while [ $_i -lt "$1" ]; do
		read -r _u < /proc/sys/kernel/random/uuid
		echo "$_u" >> "$2.ids"
		_i=$((_i + 1))
	done
	jq -c --rawfile ids "$2.ids" '. as $c | $ids | split("\n")[] | select(length > 0) |
		$c + {id: .}' id.json > "$2.jsonl" || return 1
	_i=0
	while IFS= read -r _l; do
		printf '%s\n' "$_l" > "$2/$_i.json"
		_i=$((_i + 1))
	done < "$2.jsonl"
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
	exit $?
}
