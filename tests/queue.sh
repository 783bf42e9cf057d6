# Sourced by the bb-queue tests after lib.sh: a spool in the scratch directory and ways
# to look into it.
S=$scratch/spool
Q() { "$BB_QUEUE" -d "$S" "$@"; }
# fresh_spool NAME: from here on S (and so Q, qv) is a new spool of its own, so that a
# section does not stand on what an earlier one left: one failure does not cascade.
fresh_spool() { S=$scratch/spool.$1; }
qv() { Q show "$1" --format json | jq -r "$2"; }	# qv ID FILTER
now() { date +%s; }
epoch() { date -d "$1" +%s; }
empty() { for d; do [ -z "$(ls -A "$d" 2>/dev/null)" ] || return 1; done; }
