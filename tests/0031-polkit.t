#!/bin/sh
# The kiosk's polkit rule (scripts/kiosk/50-bb-pcscd.rules): make install-kiosk puts it
# in POLKITDIR, 0644, without opening polkit's 0700 directory; and a real polkitd, on a
# private system bus, grants the user bb org.debian.pcsc-lite.access_pcsc and access_card
# and nothing else, and grants them to no other user; without the rule bb is refused.
#
# The polkitd (which drops to its user polkitd) runs in a mount namespace of its own (unshare -m, as root), where the
# install's rules directory, an actions directory and a passwd with the users bb and
# bbother are bind-mounted over /etc/polkit-1/rules.d, /usr/share/polkit-1/actions and
# /etc/passwd (polkitd reads no other paths); nothing of the machine's polkit changes.
# The actions: pcscd's own policy when it ships one; Debian 12's pcscd is built without
# polkit and ships none, so the test declares the two actions with pcsc-lite's defaults
# (allow_active yes, allow_any and allow_inactive no) and a third one bb must not get.
. "${0%/*}/lib.sh"

pids=""
trap 'kill_own $pids; cd /; rm -rf "$scratch"' EXIT

# --- make install-kiosk ---
D=$scratch/dest
mkdir -p "$D/etc/polkit-1/rules.d"
chmod 700 "$D/etc/polkit-1/rules.d"
make -s -C "$BB_TOP" install-kiosk DESTDIR="$D" PREFIX=/usr/local > make.out 2>&1
ok $? "make install-kiosk DESTDIR=... installs"
diag make.out
R=$D/etc/polkit-1/rules.d/50-bb-pcscd.rules
check "the rule is in /etc/polkit-1/rules.d (POLKITDIR), 0644" \
	eval 'test -f "$R" && test "$(stat -c %a "$R")" = 644'
check "polkit's directory stays 0700" test "$(stat -c %a "$D/etc/polkit-1/rules.d")" = 700
check "the rule is not among the kiosk's scripts" \
	test ! -e "$D/usr/local/share/bb/kiosk/50-bb-pcscd.rules"
make -s -C "$BB_TOP" install-kiosk DESTDIR="$scratch/fresh" > make2.out 2>&1
check "a missing rules directory is made 0700" \
	eval 'test "$(stat -c %a "$scratch/fresh/etc/polkit-1/rules.d")" = 700 &&
	test -f "$scratch/fresh/etc/polkit-1/rules.d/50-bb-pcscd.rules"'
make -s -C "$BB_TOP" uninstall DESTDIR="$D" PREFIX=/usr/local > make3.out 2>&1
check "make uninstall removes it" test ! -e "$R"
make -s -C "$BB_TOP" install-kiosk DESTDIR="$D" PREFIX=/usr/local > make.out 2>&1

# The units' user is the rule's.
users=$(sed -n 's/^User=//p' "$BB_TOP"/scripts/kiosk/*.service | sort -u)
rule='subject.user === "bb"'
check "the rule names the user the kiosk's units run as (${users:-none})" \
	eval 'test "$users" = bb && grep -q "$rule" "$R"'

# --- a real polkitd ---
why=""
[ "$(id -u)" -eq 0 ] || why="not root (unshare -m and bind mounts)"
for t in unshare setpriv dbus-daemon dbus-send pkcheck; do
	command -v $t > /dev/null || why="$why no $t"
done
[ -x /usr/lib/polkit-1/polkitd ] || why="$why no polkitd (Debian's polkitd)"
[ -n "$why" ] || unshare -m --propagation private true 2> /dev/null ||
	why="unshare -m refused here"
if [ -n "$why" ]; then
	echo "# SKIP polkitd: $why"
	done_testing
fi

# polkitd drops to the user polkitd: what it reads must be open to it, and its rules
# directories are its own, as Debian's are.
chmod 711 "$scratch"
mkdir -m 755 actions
mkdir -m 700 norules
if getent passwd polkitd > /dev/null; then
	chown polkitd "$D/etc/polkit-1/rules.d" norules
fi
cp /usr/share/polkit-1/actions/*.policy actions/ 2> /dev/null
if [ -e actions/org.debian.pcsc-lite.policy ]; then
	echo "# pcscd's own policy: /usr/share/polkit-1/actions/org.debian.pcsc-lite.policy"
	extra=""
else
	echo "# pcscd ships no polkit policy (built without polkit): the test declares its actions"
	extra='<action id="org.debian.pcsc-lite.access_pcsc"><description>PC/SC daemon</description>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>yes</allow_active></defaults></action>
  <action id="org.debian.pcsc-lite.access_card"><description>smart card</description>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>yes</allow_active></defaults></action>'
fi
cat > actions/bb-test.policy <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1.0/policyconfig.dtd">
<policyconfig>
  $extra
  <action id="org.bb.test.other"><description>not pcscd</description>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>yes</allow_active></defaults></action>
</policyconfig>
EOF
# bb and bbother: the machine's when it has them, else added to the namespace's passwd.
cp /etc/passwd passwd
for u in bb bbother; do
	getent passwd $u > /dev/null && continue
	uid=64990
	while getent passwd $uid > /dev/null || grep -q "^[^:]*:[^:]*:$uid:" passwd; do
		uid=$((uid + 1))
	done
	echo "$u:x:$uid:$uid::/nonexistent:/usr/sbin/nologin" >> passwd
done
cat > bus.conf <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$scratch/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF

# In the namespace: one polkitd per rules directory; "STATUS description" per check.
cat > inner.sh <<'EOF'
set -u
s=$1
mount --bind "$s/actions" /usr/share/polkit-1/actions &&
mount --bind "$s/passwd" /etc/passwd || { echo "1 bind mounts"; exit 0; }
dbus-daemon --config-file="$s/bus.conf" --nofork --nopidfile > "$s/dbus.log" 2>&1 &
dp=$!
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$s/bus
export DBUS_SYSTEM_BUS_ADDRESS
uid() { awk -F: -v u="$1" '$1 == u { print $3 }' /etc/passwd; }
as() {	# as USER: a process of USER, in $p, once it is USER's (polkit grants root all)
	u=$(uid "$1")
	setpriv --reuid="$u" --regid="$u" --clear-groups sleep 60 &
	p=$!
	j=0
	while [ "$(ps -o uid= -p "$p" | tr -d ' ')" != "$u" ] && [ $j -lt 100 ]; do
		sleep 0.05
		j=$((j + 1))
	done
}
pk_check() {	# pk_check WANT USER ACTION DESCRIPTION: pkcheck's status is WANT (0 yes, 1 no)
	as "$2"
	pkcheck --action-id "$3" --process "$p" > /dev/null 2>> "$s/pkcheck.err"
	r=$?
	kill "$p"
	if [ "$1" = 0 ]; then test $r -eq 0; else test $r -ne 0 && test $r -ne 4; fi
	echo "$? $4 (pkcheck: $r)"
}
polkitd() {	# polkitd RULES-DIR: a polkitd reading it, in $pp, on the bus
	mount --bind "$1" /etc/polkit-1/rules.d
	/usr/lib/polkit-1/polkitd --no-debug >> "$s/polkitd.log" 2>&1 &
	pp=$!
	i=0
	until dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
	    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 2> /dev/null |
	    grep -q 'boolean true'; do
		[ $i -lt 100 ] || { echo "1 polkitd did not come up"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	echo "0 polkitd runs on the private system bus"
}
i=0
while [ ! -S "$s/bus" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if polkitd "$s/dest/etc/polkit-1/rules.d"; then
	pk_check 0 bb org.debian.pcsc-lite.access_pcsc "bb may use pcscd (access_pcsc)"
	pk_check 0 bb org.debian.pcsc-lite.access_card "bb may use the card (access_card)"
	pk_check 1 bbother org.debian.pcsc-lite.access_pcsc "another user may not use pcscd"
	pk_check 1 bbother org.debian.pcsc-lite.access_card "another user may not use the card"
	pk_check 1 bb org.bb.test.other "bb gets no other action"
	kill $pp
	wait $pp 2> /dev/null
	umount /etc/polkit-1/rules.d
fi
if polkitd "$s/norules"; then
	pk_check 1 bb org.debian.pcsc-lite.access_pcsc "without the rule bb may not use pcscd"
	kill $pp
fi
kill $dp
EOF
unshare -m --propagation private sh inner.sh "$scratch" > results 2> inner.err
while read -r st desc; do ok "$st" "$desc"; done < results
[ -s inner.err ] && diag inner.err
[ "$(grep -c . results)" -ge 8 ]
ok $? "every check ran"
[ "$_failed" -eq 0 ] || for f in polkitd.log dbus.log pkcheck.err; do [ ! -s $f ] || diag $f; done

done_testing
