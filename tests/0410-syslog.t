#!/bin/sh
# Logging to syslog when configured: events with the case id, the configured facility and
# threshold, never a personal value. Each program runs in its own mount namespace whose
# /dev/log is a socket this test listens on (a private /dev: the machine's is untouched).
. "${0%/*}/lib.sh"

cat > listen.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(30)
with open(sys.argv[2], "a") as out:
    try:
        while True:
            out.write(s.recv(65536).decode("utf-8", "replace") + "\n")
            out.flush()
    except socket.timeout:
        pass
PY

if ! unshare -m sh -c 'mount -t tmpfs tmpfs /mnt' 2>/dev/null; then
	ok 0 "# SKIP no mount namespace here (needs root)"
	done_testing
fi

/usr/bin/python3 listen.py "$scratch/log.sock" "$scratch/syslog.txt" &
listener=$!
trap 'kill $listener 2>/dev/null; cd /; rm -rf "$scratch"' EXIT
i=0
while [ ! -e syslog.txt.ready ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

# logged CMD...: runs CMD with /dev/log being our socket; stdin from $STDIN.
logged() {
	mkdir -p olddev
	unshare -m sh -c 'mount --rbind /dev "$0/olddev" && mount -t tmpfs tmpfs /dev &&
		touch /dev/null /dev/log && mount --bind "$0/olddev/null" /dev/null &&
		mount --bind "$0/log.sock" /dev/log && exec "$@"' "$scratch" "$@" \
		< "${STDIN:-/dev/null}" > out 2> err
	rc=$?
	sleep 0.2
}

write_identity_case id.json
F=$SERVICES/meldebescheinigung/form.yaml
A=$SERVICES/meldebescheinigung/example-answers.json
ID=0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3
printf 'log:\n  syslog: true\n  facility: local3\n' > on.yaml
printf 'log:\n  syslog: true\n  facility: local3\n  level: warning\n' > warn.yaml
printf 'log:\n  syslog: false\n' > off.yaml

STDIN=id.json logged "$BB_FORM" -c "$scratch/on.yaml" fill "$F" --answers "$A"
ok "$rc" "bb-form fills with syslog on"
# <158>: facility local3 (19) * 8 + info (6).
check_grep "the event reaches syslog with its facility and level" "^<158>.*bb-form\[[0-9]*\]: form.filled case=$ID$" syslog.txt
STDIN=id.json logged "$BB_FORM" -c "$scratch/on.yaml" fill "$F" --set copies=99
check_grep "a failed validation is logged at notice" "^<157>.*form.invalid case=$ID problems=" syslog.txt
n=$(wc -l < syslog.txt)
STDIN=id.json logged "$BB_FORM" -c "$scratch/warn.yaml" fill "$F" --answers "$A"
check "log.level warning keeps info events out of syslog" test "$(wc -l < syslog.txt)" -eq "$n"
STDIN=id.json logged "$BB_FORM" -c "$scratch/off.yaml" fill "$F" --answers "$A"
check "syslog: false sends nothing" test "$(wc -l < syslog.txt)" -eq "$n"

logged "$BB_QUEUE" -c "$scratch/on.yaml" -d "$scratch/spool" add "$scratch/id.json"
check_grep "bb-queue add is logged" "bb-queue\[[0-9]*\]: queue.added case=$ID$" syslog.txt
logged "$BB_QUEUE" -c "$scratch/on.yaml" -d "$scratch/spool" run --deliver 'cat > /dev/null; exit 65'
check_grep "a failed delivery is logged at warning" "^<156>.*queue.failed case=$ID exit=65$" syslog.txt
mkdir inbox
printf 'log:\n  syslog: true\n  facility: local3\nsubmit:\n  targets:\n    inbox:\n      kind: dir\n      path: %s/inbox\n' "$scratch" > sub.yaml
logged "$BB_SUBMIT" -c "$scratch/sub.yaml" --target inbox "$scratch/id.json"
check_grep "bb-submit is logged" "bb-submit\[[0-9]*\]: submit.delivered case=$ID$" syslog.txt

for v in MUSTERMANN ERIKA GABLER 1964-08-12 HEIDESTRASSE KÖLN 51147 BERLIN; do
	check_nogrep "no personal value in syslog: $v" "$v" syslog.txt
done

done_testing
