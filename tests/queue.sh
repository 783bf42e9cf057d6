# Sourced by the bb-queue tests after lib.sh: a spool in the scratch directory and ways
# to look into it.
S=$scratch/spool
Q() { "$BB_QUEUE" -d "$S" "$@"; }
qv() { Q show "$1" --format json | jq -r "$2"; }	# qv ID FILTER
now() { date +%s; }
epoch() { date -d "$1" +%s; }
empty() { for d; do [ -z "$(ls -A "$d" 2>/dev/null)" ] || return 1; done; }
