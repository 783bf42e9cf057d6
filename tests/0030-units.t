#!/bin/sh
# The systemd units of the kiosk and the queue: make install-kiosk installs them with the
# paths of its PREFIX, systemd-analyze verify finds nothing to say about any of them, and
# systemd-analyze security rates each one's exposure below the bound stated here. And the
# two wrappers the units run: scripts/kiosk/screen hands the one-use URL over in a 0600
# file and in no process's arguments, and ends cleanly; scripts/kiosk/browser opens it
# from a new profile's preferences, not from its arguments.
. "${0%/*}/lib.sh"

# Exposure bounds (systemd-analyze security, 0 best to 10): the browser's Chromium needs
# namespaces, JIT memory and the devices of the display, so it may reach 3.0; every other
# unit stays below 2.0.
bound() { case $1 in bb-kiosk-browser.service) echo 3.0 ;; *) echo 2.0 ;; esac; }

if ! command -v systemd-analyze > /dev/null; then
	echo "1..0 # skip systemd-analyze missing (scripts/install-deps installs systemd)"
	exit 0
fi

# Into a scratch prefix, so that every path a unit names exists: the programs are copied
# into its bin/, since verify checks that ExecStart= names an executable.
P=$scratch/prefix
make -s -C "$BB_TOP" install-kiosk PREFIX="$P" POLKITDIR="$P/etc/polkit-1/rules.d" > make.out 2>&1
ok $? "make install-kiosk PREFIX=... installs the units and the kiosk's scripts"
diag make.out
U=$P/lib/systemd/system
mkdir -p "$P/bin"
for p in bb-form bb-queue bb-submit bb-eid bb-capture; do
	cp "$BB_BIN/$p" "$P/bin/" || echo "$p" >> cp.fail
done
check "the programs copied into the prefix" test ! -e cp.fail

units=
for u in "$BB_TOP"/scripts/kiosk/*.service "$BB_TOP"/scripts/kiosk/*.timer \
    "$BB_TOP"/scripts/queue/bb-queue.service "$BB_TOP"/scripts/queue/bb-queue.timer; do
	[ -e "$u" ] || continue
	units="$units ${u##*/}"
	check "${u##*/} installed, 0644" \
		eval 'test -f "$U/${u##*/}" && test "$(stat -c %a "$U/${u##*/}")" = 644'
done
for u in bb-screen.service bb-session.service bb-kiosk-browser.service bb-queue.service \
    bb-queue.timer; do
	check "there is $u" eval 'case " $units " in *" $u "*) ;; *) false ;; esac'
done
check "no installed unit names /usr/local when PREFIX is elsewhere" \
	eval '! grep -l "/usr/local" "$U"/* > leftover'
diag leftover
check "ExecStart= names the scripts and programs where make installed them" \
	eval 'grep -q "^ExecStart=$P/share/bb/kiosk/screen /run/bb-screen\$" "$U/bb-screen.service" &&
	grep -q "^ExecStart=$P/bin/bb-queue run" "$U/bb-queue.service"'
for f in screen browser; do
	check "scripts/kiosk/$f installed, executable" test -x "$P/share/bb/kiosk/$f"
done

# verify: the pages of Documentation= are looked up with man(1), in the installed ones.
mkdir -p man/man1 man/man5 man/man7
for m in "$BB_TOP"/man/*.[1-8]; do cp "$m" "man/man${m##*.}/"; done
MANPATH=$scratch/man
export MANPATH
manopt=
command -v man > /dev/null || manopt=--man=false
for u in $units; do
	if [ "$u" = bb-session.service ] && [ ! -e "$P/share/bb/kiosk/session" ]; then
		echo "ok $((_n + 1)) # skip verify $u: scripts/kiosk/session is not in this tree yet"
		_n=$((_n + 1))
		continue
	fi
	(cd "$U" && systemd-analyze verify $manopt "./$u") > verify.out 2>&1
	r=$?
	check "systemd-analyze verify $u: clean" eval 'test $r -eq 0 && test ! -s verify.out'
	diag verify.out
done

# The dependencies as systemd itself reads them (not as grep reads the files): verify
# dumps the units it loaded, with each dependency, at log level debug. PartOf= of the
# screen on the browser is the browser's ConsistsOf=: stopping or restarting the browser
# does the same to the screen, which a new browser needs for its new token; and the
# session goes with the screen.
(cd "$U" && SYSTEMD_LOG_LEVEL=debug systemd-analyze verify $manopt ./bb-kiosk-browser.service \
    ./bb-screen.service ./bb-session.service) > dump.out 2>&1
awk '/^\t-> Unit / { u = $3; sub(/:$/, "", u); next }
	/^\t[^\t]/ { u = "" }
	u ~ /^bb-/ && /^\t\t(PartOf|ConsistsOf|Requires|RequiredBy|BindsTo|BoundBy):/ {
		print u, $1, $2 }' dump.out | sort > deps.out
if grep -q '^bb-kiosk-browser.service ' deps.out; then
	for d in "bb-screen.service PartOf: bb-kiosk-browser.service" \
	    "bb-kiosk-browser.service ConsistsOf: bb-screen.service" \
	    "bb-kiosk-browser.service Requires: bb-screen.service" \
	    "bb-session.service PartOf: bb-screen.service" \
	    "bb-screen.service ConsistsOf: bb-session.service" \
	    "bb-session.service Requires: bb-screen.service"; do
		check "systemd reads: $d" grep -qxF "$d" deps.out
	done
else
	echo "ok $((_n + 1)) # skip this systemd-analyze dumps no units at debug level"
	_n=$((_n + 1))
fi

for u in $units; do
	case $u in *.service) ;; *) continue ;; esac
	(cd "$U" && systemd-analyze security --offline=true --no-pager "./$u") > sec.out 2>&1
	e=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' sec.out)
	check "systemd-analyze security $u: exposure ${e:-?} below $(bound "$u")" \
		eval 'test -n "$e" && awk -v e="$e" -v b="$(bound "$u")" "BEGIN { exit !(e < b) }"'
	[ -n "$e" ] || diag sec.out
done

# What each unit must say: the hardening the issue asks for, and the kiosk's own rules.
has() {	# has UNIT LINE...
	_u=$1
	shift
	for _l; do grep -qxF -- "$_l" "$U/$_u" || { echo "$_u lacks $_l" >> has.fail; }; done
}
for u in bb-screen.service bb-session.service bb-kiosk-browser.service bb-queue.service; do
	has $u NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		CapabilityBoundingSet= User=bb UMask=0077
	grep -q '^RestrictAddressFamilies=' "$U/$u" || echo "$u lacks RestrictAddressFamilies" >> has.fail
done
for u in bb-screen.service bb-session.service bb-queue.service; do
	has $u SystemCallFilter=@system-service RestrictNamespaces=yes MemoryDenyWriteExecute=yes
done
has bb-screen.service "RestrictAddressFamilies=AF_UNIX AF_INET" IPAddressDeny=any \
	IPAddressAllow=localhost PartOf=bb-kiosk-browser.service
has bb-session.service "ReadWritePaths=/run/bb /var/spool/bb" Requires=bb-screen.service \
	PartOf=bb-screen.service
has bb-kiosk-browser.service Restart=always Requires=bb-screen.service \
	RuntimeDirectory=bb-kiosk-browser
check "every unit has its hardening and its dependencies" test ! -e has.fail
diag has.fail 2> /dev/null
check "the browser's ExecStart= carries no URL" \
	eval '! grep -qi "token\|incognito" "$U/bb-kiosk-browser.service" ||
	! grep -q "^ExecStart=.*\(token\|http\)" "$U/bb-kiosk-browser.service"'

# ---------------------------------------------------------------------------------------
# scripts/kiosk/screen: the URL in DIR/url, 0600, one line; not in any process's
# arguments; SIGTERM ends the server, and the URL and the socket go.
cat > bb.yaml <<EOF
form:
  services: $BB_TOP/scripts/services
  screens: $BB_TOP/scripts/screens
EOF
BB_CONFIG=$scratch/bb.yaml
XDG_RUNTIME_DIR=$scratch/xdg
BB_FORM=$BB_BIN/bb-form
export BB_CONFIG XDG_RUNTIME_DIR BB_FORM
mkdir -m 700 run xdg
"$BB_TOP/scripts/kiosk/screen" "$scratch/run" > screen.out 2> screen.err &
spid=$!
"$BB_TOP/scripts/kiosk/screen" --wait "$scratch/run" 20
ok $? "screen --wait returns once the URL is there"
check "run/url: one line, the server's URL with its token, mode 0600" \
	eval 'test "$(stat -c %a run/url)" = 600 && test "$(wc -l < run/url)" -eq 1 &&
	grep -Eqx "http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]{64}" run/url'
# The token from a file (grep -f), so that grep's own arguments do not hold it.
sed 's/.*token=//' run/url > token
ps -eo args > ps.out
check "the token is in no process's arguments" eval '! grep -qF -f token ps.out && test -s token'
check "the control socket is there, and nothing went to standard output" \
	eval 'test -S xdg/bb/screen && test ! -s screen.out'
kill -TERM $spid
wait $spid
r=$?
check "SIGTERM: the server ends, the URL file and socket go (exit $r)" \
	eval 'test $r -eq 0 -o $r -eq 143 && test ! -e run/url && test ! -e xdg/bb/screen &&
	test -z "$(ls -A run)"'
diag screen.err

# scripts/kiosk/browser with a Chromium that only writes down what it was given.
cat > fake-chromium <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$scratch/chromium.args"
cp "\$HOME/Default/Preferences" "$scratch/chromium.prefs"
stat -c %a "\$HOME" "\$HOME/Default/Preferences" > "$scratch/chromium.modes"
EOF
chmod +x fake-chromium
printf 'http://127.0.0.1:1/?token=%064d\n' 7 > url
mkdir -p prof/Default
echo old > prof/Default/History
BB_CHROMIUM=$scratch/fake-chromium "$BB_TOP/scripts/kiosk/browser" --headless url "$scratch/prof"
ok $? "browser --headless runs the browser"
check "its arguments hold the new profile, not the URL" \
	eval '! grep -q "token\|127\.0\.0\.1" chromium.args && grep -qx -- "--user-data-dir=$scratch/prof" chromium.args &&
	grep -qx -- --headless chromium.args'
check "the profile's preferences open the URL at startup, and keep no passwords" \
	jq -e --arg u "$(cat url)" '.session.startup_urls == [$u] and .session.restore_on_startup == 4 and .credentials_enable_service == false' chromium.prefs
check "the profile is new (nothing of the last run), 0700, its preferences 0600" \
	eval 'test "$(tr "\n" " " < chromium.modes)" = "700 600 " && test ! -e prof/Default/History'
printf 'file:///etc/passwd\n' > url2
expect_code 65 "a URL file that holds no URL of bb-form serve is refused" \
	env BB_CHROMIUM="$scratch/fake-chromium" "$BB_TOP/scripts/kiosk/browser" --headless url2 "$scratch/prof2"
unset DISPLAY WAYLAND_DISPLAY
expect_code 69 "--window without a display says so" \
	env BB_CHROMIUM="$scratch/fake-chromium" "$BB_TOP/scripts/kiosk/browser" --window url "$scratch/prof3"
check_grep "in a message" 'needs a display' err

# And the real Chromium, headless: the page it opens from the preferences is the welcome
# screen (the token was taken, the cookie came back on the redirect: no 403).
if command -v chromium > /dev/null; then
	"$BB_TOP/scripts/kiosk/screen" "$scratch/run" > screen.out 2> screen.err &
	spid=$!
	"$BB_TOP/scripts/kiosk/screen" --wait "$scratch/run" 20
	flags=--remote-debugging-port=0
	[ "$(id -u)" -eq 0 ] && flags="$flags --no-sandbox"
	BB_BROWSER_FLAGS=$flags "$BB_TOP/scripts/kiosk/browser" --headless run/url "$scratch/bprof" \
		> browser.out 2>&1 &
	bpid=$!
	title=
	i=0
	while [ $i -lt 120 ]; do
		port=$(head -n 1 bprof/DevToolsActivePort 2> /dev/null)
		[ -n "$port" ] && title=$(curl -s "http://127.0.0.1:$port/json/list" |
			jq -r '.[] | select(.type == "page") | .title' 2> /dev/null)
		case $title in *Willkommen*) break ;; esac
		sleep 0.25
		i=$((i + 1))
	done
	check "headless Chromium shows the welcome screen (${title:-nothing})" \
		eval 'case $title in *Willkommen*) ;; *) false ;; esac'
	kill_own $bpid $spid
	wait $bpid $spid 2> /dev/null
else
	echo "ok $((_n + 1)) # skip chromium missing"
	_n=$((_n + 1))
fi

done_testing
