#!/bin/sh
# lib/'s layers (lib/README): the base includes no domain; a domain includes the base, its
# own headers and those of the domains its line in lib/README names, each listed above
# it, so no include goes down the list and there is no circle; nothing in lib/ includes
# cmd/.
self=$(cd "${0%/*}" && pwd)/${0##*/}
. "${0%/*}/lib.sh"

readme=$BB_TOP/lib/README
# The table: the lines after its header up to a blank line, its columns where the
# header's words start (the third column wraps onto lines of its own).
sed -n '/^    domain   may include/,/^$/p' "$readme" | awk '
NR == 1 { c2 = index($0, "may include"); c3 = index($0, "what it holds"); next }
substr($0, 1, c2 - 1) ~ /[a-z]/ {
	dom = substr($0, 1, c2 - 1); gsub(/ /, "", dom)
	deps = substr($0, c2, c3 - c2); gsub(/-/, "", deps); gsub(/  +/, " ", deps)
	sub(/ +$/, "", deps); sub(/^ +/, "", deps)
	print dom ":" (deps == "" ? "" : " " deps)
}' > table
check "lib/README has the table of domains" test -s table


# Every directory of lib/ is in the table, every domain of the table a directory.
for d in "$BB_TOP"/lib/*/; do
	d=${d%/}; d=${d##*/}
	[ "$d" = assets ] && continue
	check_grep "lib/$d is in lib/README's table" "^$d:" table
done
while IFS=: read -r dom deps; do
	check "lib/$dom exists" test -d "$BB_TOP/lib/$dom"
done < table

# A domain may name only domains above it: the list is the order of the layers.
awk -F: '{ seen[$1] = NR; n = split($2, d, " "); for (i = 1; i <= n; i++)
	if (!(d[i] in seen) || seen[d[i]] >= NR) print $1 " names " d[i] " (not above it)" }' \
	table > order
check "each domain names only domains above it" test ! -s order
diag order

# Every #include "X/..." in lib/ against the table.
: > bad
for f in "$BB_TOP"/lib/*.[ch] "$BB_TOP"/lib/*/*.[ch]; do
	rel=${f#"$BB_TOP"/lib/}
	case $rel in
	*/*) dom=${rel%%/*} ;;
	*) dom= ;;
	esac
	allowed=" $dom $(sed -n "s/^$dom://p" table) "
	[ -z "$dom" ] && allowed=" "
	sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
		case $inc in
		*/*) to=${inc%%/*} ;;
		*) continue ;;
		esac
		case $to in
		..|cmd) echo "lib/$rel includes $inc" ;;
		esac
		case $allowed in
		*" $to "*) ;;
		*) echo "lib/$rel (${dom:-base}) includes $inc" ;;
		esac
	done >> bad
done
check "every include in lib/ keeps to the layers" test ! -s bad
diag bad

# The check sees a wrong include: one from the base into a domain, one up the list.
[ -n "$BB_LAYERS_FAKE" ] && done_testing
mkdir -p fake/lib/form fake/lib/screen
cp "$readme" fake/lib/README
printf '#include "screen/screen.h"\n' > fake/lib/form/x.c
printf '#include "form/form.h"\n' > fake/lib/y.c
BB_LAYERS_FAKE=1 BB_TOP=$PWD/fake sh "$self" > fake.out 2>&1
check_grep "a wrong include fails the check" "^not ok .* keeps to the layers" fake.out
check_grep "a domain including one below it is named" \
    "lib/form/x.c (form) includes screen/screen.h" fake.out
check_grep "the base including a domain is named" "lib/y.c (base) includes form/form.h" fake.out

done_testing
