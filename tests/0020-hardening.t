#!/bin/sh
# Every program is built hardened as Debian builds its packages (dpkg-buildflags,
# hardening=+all): position independent, relocations read-only and bound at start, stack
# protector, FORTIFY, and on x86-64 indirect-branch tracking. The programs read ID cards,
# cases and images from strangers. Checked on the binaries themselves, so an installed
# build can be checked too (BB_FORM, ... as in lib.sh).
. "${0%/*}/lib.sh"

x86=0
case $(uname -m) in x86_64|i?86) x86=1 ;; esac
for prog in "$BB_FORM" "$BB_QUEUE" "$BB_SUBMIT" "${BB_EID:-$BB_BIN/bb-eid}" \
    "${BB_CAPTURE:-$BB_BIN/bb-capture}"; do
	n=${prog##*/}
	readelf -hW "$prog" > hdr 2>&1
	readelf -dW "$prog" > dyn 2>&1
	readelf -lW "$prog" > seg 2>&1
	readelf --dyn-syms -W "$prog" > sym 2>&1
	check_grep "$n: position independent (PIE)" '^ *Type: *DYN' hdr
	check_grep "$n: bound at start (BIND_NOW)" '(FLAGS) .*BIND_NOW' dyn
	check_grep "$n: bound at start (FLAGS_1 NOW)" '(FLAGS_1) .*NOW' dyn
	check_grep "$n: relocations read-only after start (GNU_RELRO)" '^ *GNU_RELRO ' seg
	check_grep "$n: stack protector" ' __stack_chk_fail\b' sym
	# The sanitizer build leaves FORTIFY out (ASan checks the same calls, its own way).
	if grep -q ' __asan_init\b' sym; then
		ok 0 "# SKIP $n: FORTIFY is off in the sanitizer build"
	else
		check_grep "$n: FORTIFY (__*_chk functions)" ' __[a-z0-9_]*_chk\b' sym
	fi
	# Indirect-branch tracking (-fcf-protection): Debian 12's crt1.o has no CET note, so
	# the program as a whole has none either; its code starts every function with endbr64.
	if [ "$x86" -eq 1 ]; then
		objdump -d --no-show-raw-insn --disassemble=main "$prog" 2> /dev/null |
		    sed -n '/<main>:/{n;p;q}' > main.s
		if [ -s main.s ]; then
			check_grep "$n: branch targets marked (-fcf-protection)" 'endbr' main.s
		else
			ok 0 "# SKIP $n: stripped, no main to look at"
		fi
	fi
done

done_testing
