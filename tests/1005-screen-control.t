#!/bin/sh
# bb-form serve and tell, the review's fixes (issue 11): a fixed --listen port is bound
# before the daemon starts and a port in use is 69; idle control connections cannot lock
# a flow out (the one idle longest goes, never the one waiting for a tap); a --set value
# that is not UTF-8 is an error, not dropped; --set-from passes values outside argv.
. "${0%/*}/lib.sh"

srv_pids=""
trap 'kill_own $srv_pids; cd /; rm -rf "$scratch"' EXIT

mkdir -p screens/catalog services
for l in de en; do
	cat > screens/catalog/$l.yaml <<YAML
lang.name: $l
lang.dir: ltr
chrome.cancel: Cancel
wait.title: Wait
wait.text: "name={name} ref={ref}"
ask.title: Go on?
ask.yes: "Yes"
YAML
done
printf 'id: wait\ntitle: wait.title\ntext: [wait.text]\n' > screens/wait.yaml
printf 'id: ask\ntitle: ask.title\nbuttons:\n  - {value: yes, label: ask.yes}\n' \
	> screens/ask.yaml
printf 'form:\n  screens: %s\n  services: %s\n' "$scratch/screens" "$scratch/services" > bb.yaml
BB_CONFIG=$scratch/bb.yaml
mkdir -m 700 run
sock=$scratch/run/screen

# start_serve NAME ARGS...: as in 1000-screen-serve.t; sets url, port, token, pid.
start_serve() {
	_name=$1
	shift
	"$BB_FORM" serve "$@" > "$_name.url" 2> "$_name.log" &
	pid=$!
	srv_pids="$srv_pids $pid"
	_i=0
	while [ ! -s "$_name.url" ] && [ $_i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	url=$(head -n 1 "$_name.url")
	port=${url#http://127.0.0.1:}
	port=${port%%/*}
	token=${url#*token=}
}

get() {
	_p=$1
	shift
	code=$(curl -s -o b -D h -w '%{http_code}' "$@" "http://127.0.0.1:$port$_p")
}

# A port nobody listens on, and one a process of the test holds.
free_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open("busy.port", "w").write(str(s.getsockname()[1])); time.sleep(60)' &
busy_pid=$!
srv_pids="$srv_pids $busy_pid"
i=0
while [ ! -s busy.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_code 69 "serve on a port in use: 69" "$BB_FORM" serve --listen "127.0.0.1:$(cat busy.port)" \
	--control "$sock"
check_grep "... says so" "cannot listen on 127.0.0.1:$(cat busy.port): the port is in use" err
check "... and leaves no control socket" test ! -e "$sock"
kill "$busy_pid"

# A fixed port: the URL names it, and its Host is the one taken.
start_serve a --listen "127.0.0.1:$free_port" --control "$sock"
check "serve on a fixed port: the URL names it ($url)" test "$port" = "$free_port"
get "/?token=$token"
check "the token on the fixed port: 303 ($code)" test "$code" = 303
C="bb=$(sed -n 's/^Set-Cookie: bb=\([0-9a-f]*\);.*/\1/p' h)"

# Eight control connections that send nothing fill the server's table; the next tell
# must still get in (before, the listening socket left the poll set and tell hung).
# The one waiting for a tap is never the one dropped.
"$BB_FORM" tell ask --screen "$sock" --until tap > choice.out 2> choice.err &
tell_pid=$!
i=0
until get / -b "$C" && grep -q 'data-screen="ask"' b || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
v=$(sed -n 's/.*data-version="\([0-9]*\)".*/\1/p' b)
python3 -c '
import socket, sys, time
cs = []
for _ in range(8):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); cs.append(s)
    time.sleep(0.05)
open("idle.ready", "w").close()
time.sleep(3)
got = []
for s in cs:
    s.setblocking(False)
    try:
        got.append(s.recv(200).decode())
    except OSError:
        got.append("")
open("idle.got", "w").write("\n".join(g.strip() for g in got) + "\n")
time.sleep(20)' "$sock" &
idle_pid=$!
srv_pids="$srv_pids $idle_pid"
i=0
while [ ! -e idle.ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
get /act -b "$C" -d "v=$v&choice=yes"
i=0
while kill -0 "$tell_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "8 idle connections: the tell waiting for a tap still gets its choice" \
	eval '! kill -0 "$tell_pid" 2>/dev/null && test "$(cat choice.out)" = yes'
kill "$tell_pid" 2>/dev/null
expect_code 0 "8 idle connections: a later tell still gets in" \
	timeout 5 "$BB_FORM" tell wait --screen "$sock" --set name=after
expect_code 0 "... and another" timeout 5 "$BB_FORM" tell wait --screen "$sock" --set name=again
i=0
while [ ! -s idle.got ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_grep "the idle connection dropped is told why" \
	'^{"error":"too many control connections: this idle one is closed","status":75}$' idle.got
kill "$idle_pid" 2>/dev/null

# --set: a value that is not UTF-8 is an error of its own, not dropped without a word.
bad=$(printf 'M\374ller')	# Latin-1 ü
expect_code 65 "--set with a value not UTF-8: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set "name=$bad"
check_grep "... names the placeholder" '^bb-form: --set: name: the value is not UTF-8 text$' err
check "... in one line" test "$(wc -l < err)" -eq 1
expect_code 65 "--set with a name not [a-z0-9_]: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set "Name=x"
expect_code 65 "--set with a value over 1024 bytes: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set "name=$(head -c 1025 /dev/zero | tr '\0' x)"
expect_code 0 "--set with a UTF-8 value: 0" "$BB_FORM" tell wait --screen "$sock" \
	--set "name=Müller-Şahin" --set ref=BB-1
get / -b "$C"
check_grep "... shown" 'name=<bdi>Müller-Şahin</bdi> ref=<bdi>BB-1</bdi>' b

# --set-from: the values from a file or stdin, never in argv.
printf '# the person\nname=Erika Mustermann\n\nref=BB-2026-7=1\n' > vals
expect_code 0 "--set-from FILE (NAME=VALUE lines): 0" "$BB_FORM" tell wait --screen "$sock" \
	--set-from vals
get / -b "$C"
check_grep "... the values shown, a value may hold =" \
	'name=<bdi>Erika Mustermann</bdi> ref=<bdi>BB-2026-7=1</bdi>' b
STDIN=vals expect_code 0 "--set-from - reads stdin, a later --set wins" \
	"$BB_FORM" tell wait --screen "$sock" --set-from - --set ref=BB-3
get / -b "$C"
check_grep "... shown" 'name=<bdi>Erika Mustermann</bdi> ref=<bdi>BB-3</bdi>' b
printf ' {"name": "Lea \\"Lu\\" M\\u00fcller", "ref": "BB-4"}\n' > vals.json
expect_code 0 "--set-from FILE (a JSON object of strings): 0" "$BB_FORM" tell wait \
	--screen "$sock" --set-from vals.json
get / -b "$C"
check_grep "... shown, escaped" 'name=<bdi>Lea &quot;Lu&quot; Müller</bdi> ref=<bdi>BB-4</bdi>' b
printf 'name=Erika\nno equals sign here\n' > vals.bad
expect_code 65 "--set-from: a line without =: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set-from vals.bad
check_grep "... with FILE:LINE" '^bb-form: --set-from vals.bad:2: expected NAME=VALUE$' err
printf 'name=Erika\nref=M\374ller\n' > vals.bad
expect_code 65 "--set-from: a value not UTF-8: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set-from vals.bad
check_grep "... with FILE:LINE and the name" \
	'^bb-form: --set-from vals.bad:2: ref: the value is not UTF-8 text$' err
printf '{"name": "M\374ller"}' > vals.bad
expect_code 65 "--set-from: JSON not UTF-8: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set-from vals.bad
printf '{"name": 1}' > vals.bad
expect_code 65 "--set-from: JSON not an object of strings: 65" "$BB_FORM" tell wait \
	--screen "$sock" --set-from vals.bad
printf '{"name": "Erika Mustermann", "Bad": "x"}' > vals.bad
expect_code 65 "--set-from: JSON with a bad name: 65" "$BB_FORM" tell wait --screen "$sock" \
	--set-from vals.bad
check_nogrep "no message carries a value" 'Erika\|M.ller\|Mustermann' err
expect_code 66 "--set-from a missing file: 66" "$BB_FORM" tell wait --screen "$sock" \
	--set-from nosuch
cat a.log > all.log
check_nogrep "no value in the server's log" 'Erika\|Mustermann\|M.ller' all.log

kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: serve exits 0 ($rc)" test $rc -eq 0
check_nogrep "no sanitizer report" 'Sanitizer\|runtime error' all.log

done_testing
