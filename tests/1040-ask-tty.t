#!/bin/sh
# bb-form ask on the terminal (issue 11): without a screen server, or with --tty, the
# same walk as the screen's is prompted on /dev/tty. Driven through tmux as a developer
# would type it: a wrong answer's reason shown in words and the question asked again,
# locked values shown, the summary, change, send; the case the same as fill's from the
# same answers. Cancel and the end of input exit 1 and write no case.
. "${0%/*}/lib.sh"

if ! command -v tmux > /dev/null 2>&1; then
	echo "1..0 # SKIP needs tmux"
	exit 0
fi

# A tmux server of this test's own, so nothing else's sessions are touched.
T="tmux -L bb-test-$$ -f /dev/null"
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; $T kill-server 2>/dev/null; cd /; rm -rf "$scratch"' EXIT

write_identity_case id.json
mkdir -p run
cat > bb.yaml <<YAML
form:
  services: $SERVICES
  screens: $BB_TOP/scripts/screens
  lang: en
YAML
# No screen server listens where the default control socket would be.
XDG_RUNTIME_DIR=$scratch/run
BB_CONFIG=$scratch/bb.yaml
export XDG_RUNTIME_DIR BB_CONFIG

# start NAME ARGS...: bb-form ARGS in a detached tmux session NAME (its terminal
# 160x50), its exit status into NAME.rc when it ends.
start() {
	_s=$1
	shift
	rm -f "$_s.rc" "$_s.pane"
	printf '#!/bin/sh\ncd %s || exit 1\n"%s" "$@" 2> %s.err\necho $? > %s.rc\n' \
		"$scratch" "$BB_FORM" "$_s" "$_s" > "$_s.sh"
	$T new-session -d -s "$_s" -x 160 -y 50 sh "$scratch/$_s.sh" "$@"
	np=0
	sess=$_s
}

# The prompts waiting or answered: lines with " > " or ending in " >".
PROMPT='(^| )>( |$)'

# ask EXPECT TEXT: waits (10 s at most) for the next prompt, checks that the lines since
# the last one say EXPECT, then types TEXT and Enter.
ask() {
	np=$((np + 1))
	_i=0
	while :; do
		$T capture-pane -p -J -S - -t "$sess" > "$sess.pane" 2> /dev/null
		if [ "$(grep -c -E "$PROMPT" "$sess.pane")" -ge "$np" ] &&
		    grep -v '^ *$' "$sess.pane" | tail -n 1 | grep -q -E '(^| )> *$'; then
			break
		fi
		_i=$((_i + 1))
		if [ "$_i" -ge 100 ] || [ -e "$sess.rc" ]; then
			ok 1 "prompt $np ($1)"
			diag "$sess.pane"
			return 1
		fi
		sleep 0.1
	done
	awk -v n="$np" -v re="$PROMPT" '{ if (c == n - 1) print; if ($0 ~ re) c++ }' \
		"$sess.pane" > q.txt
	if grep -q -F -e "$1" q.txt; then
		ok 0 "prompt $np asks: $1"
	else
		ok 1 "prompt $np asks: $1"
		diag q.txt
	fi
	[ -n "$2" ] && $T send-keys -t "$sess" -l "$2"
	$T send-keys -t "$sess" Enter
}

# finish: waits (10 s at most) for the program to end; its status in $rc.
finish() {
	_i=0
	while [ ! -e "$sess.rc" ] && [ "$_i" -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	rc=$(cat "$sess.rc" 2> /dev/null || echo timeout)
	$T capture-pane -p -J -S - -t "$sess" > "$sess.pane" 2> /dev/null
	$T kill-session -t "$sess" 2> /dev/null
}

# The way through: a wrong number of copies (the reason in words, asked again), the
# locked values of the card, the consent refused once, the summary, a change, send.
start walk ask meldebescheinigung --tty -o walk.json id.json
ask "Kind of certificate (required)" 2
ask "Purpose (required)" "for my employer"
ask "Number of copies (required)" 9
ask "Delivery" ""
ask "next: Next" ""
ask "Error: The value must be no more than 5." 2
grep -q -F "Number of copies (required)" q.txt && grep -q -F "[9] >" q.txt
ok $? "the wrong answer's question asked again, with what was typed"
ask "next: Next" ""
ask "Family name: MUSTERMANN (from your ID card)" ""
grep -q -F "Address: HEIDESTRASSE 17, 51147, KÖLN, DE (from your ID card)" q.txt
ok $? "a locked address shows its parts"
ask "Data protection notice (required)" n
ask "next: Next" ""
ask "Error: Please confirm this to continue." y
ask "next: Next" ""
ask "Please check your answers" "change 1"
grep -q -F "Number of copies: 2" q.txt
ok $? "the summary shows the answers"
ask "Kind of certificate" ""
ask "Purpose" ""
ask "Number of copies" 3
ask "Delivery" 2
ask "next: Next" ""
ask "Delivery: collect at the citizen office" send
finish
check "send: exit 0 (got $rc)" [ "$rc" = 0 ]
[ -s walk.err ] && diag walk.err
"$BB_FORM" fill meldebescheinigung --set certificate_kind=extended \
	--set purpose="for my employer" --set copies=3 --set delivery=pickup \
	--set privacy=yes id.json > fill.json
jq -S 'del(.form.completed)' walk.json > walk.cmp 2> /dev/null
jq -S 'del(.form.completed)' fill.json > fill.cmp
check_same "the terminal's case is fill's with the same answers" fill.cmp walk.cmp

# Without --tty: no server listens, so the terminal; the case through stdin and stdout.
cat > shell.sh <<EOF
#!/bin/sh
cd $scratch || exit 1
"$BB_FORM" ask meldebescheinigung < id.json > shell.json 2> shell.err
echo \$? > shell.rc
EOF
rm -f shell.rc
$T new-session -d -s shell -x 160 -y 50 sh "$scratch/shell.sh"
sess=shell np=0
ask "Kind of certificate" ""
ask "Purpose" "for my employer"
ask "Number of copies" ""
ask "Delivery" ""
ask "next: Next" ""
ask "Family name: MUSTERMANN" ""
ask "Data protection notice" y
ask "next: Next" ""
ask "Please check your answers" send
finish
check "no screen server: the terminal, exit 0 (got $rc)" [ "$rc" = 0 ]
jqv .form.fields.purpose shell.json > purpose 2> /dev/null
echo "for my employer" > want
check_same "the case went to standard output" want purpose

# A screen server listens at the default control socket: the screen, not the terminal
# (no browser shows the page, so the time runs out: exit 2).
printf '  warning: 1s\n' >> bb.yaml
"$BB_FORM" serve > serve.out 2> serve.err &
serve_pid=$!
_i=0
while [ ! -S run/bb/screen ] && [ "$_i" -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
start screen ask meldebescheinigung --timeout 1 -o screen.json id.json
finish
kill "$serve_pid" 2> /dev/null
wait "$serve_pid" 2> /dev/null
check "a screen server listens: its time-out, exit 2 (got $rc)" [ "$rc" = 2 ]
check_nogrep "a screen server listens: nothing asked on the terminal" "Kind of certificate" \
	screen.pane
sed -i '/  warning: 1s/d' bb.yaml

# Cancel: exit 1, nothing written.
start cancel ask meldebescheinigung --tty -o cancel.json id.json
ask "Kind of certificate" ""
ask "Purpose" "for my employer"
ask "Number of copies" ""
ask "Delivery" ""
ask "next: Next" cancel
finish
check "cancel: exit 1 (got $rc)" [ "$rc" = 1 ]
check "cancel: no case written" [ ! -e cancel.json ]

# The end of input (Ctrl-D) is a cancel too.
start eof ask meldebescheinigung --tty -o eof.json id.json
ask "Kind of certificate" ""
$T send-keys -t eof C-d
finish
check "end of input: exit 1 (got $rc)" [ "$rc" = 1 ]
check "end of input: no case written" [ ! -e eof.json ]

# A group prefilled from the card and changed, a wrong postal code, multi-selects by
# number and by value.
start sp ask sperrmuell --tty -o sp.json id.json
ask "Street and house number (required)" ""
ask "Address line 2" ""
ask "Postal code (required)" 5114
ask "City (required)" ""
ask "Country" ""
ask "Items (required)" "1,3"
ask "Other items" ""
ask "Estimated volume" 2.5
ask "Preferred collection days" "mon 5"
ask "Notes" ""
ask "next: Next" ""
ask "Error: The postcode has 5 digits." 50667
grep -q -F "Postal code (required)" q.txt && grep -q -F "[5114] >" q.txt &&
    ! grep -q -F "Street and house number" q.txt
ok $? "only the wrong postal code asked again"
ask "next: Next" ""
ask "Telephone number (required)" "0221 123456"
ask "Email address" ""
ask "next: Next" ""
ask "Putting the items out (required)" y
ask "Data protection notice (required)" y
ask "next: Next" ""
ask "Items: sofa or couch, wardrobe (dismantled)" send
finish
check "sperrmuell sent: exit 0 (got $rc)" [ "$rc" = 0 ]
"$BB_FORM" fill sperrmuell --set pickup_address.postal_code=50667 \
	--set items=sofa,wardrobe --set volume=2.5 --set weekdays=mon,fri \
	--set phone="0221 123456" --set rules=yes --set privacy=yes id.json > spfill.json
jq -S 'del(.form.completed)' sp.json > sp.cmp 2> /dev/null
jq -S 'del(.form.completed)' spfill.json > spfill.cmp
check_same "sperrmuell: the terminal's case is fill's" spfill.cmp sp.cmp

# A show_if that brings a field in (only it is asked then), a wrong date, a repeated
# group: two entries added, the first removed.
start wg ask wohnungsgeberbestaetigung --tty -o wg.json id.json
ask "The landlord is (required)" 2
ask "Street and house number (required)" ""
ask "Address line 2" ""
ask "Postal code (required)" ""
ask "City (required)" ""
ask "Country" ""
ask "The landlord also owns the dwelling" ""
ask "next: Next" ""
ask "Name of the company or organisation (required)" "Wohnbau GmbH"
! grep -q -F "Street and house number" q.txt
ok $? "show_if: only the field it brought in asked"
ask "next: Next" ""
ask "Street and house number (required)" "Hauptstr. 2"
ask "Address line 2" "2. OG"
ask "Postal code (required)" 50667
ask "City (required)" "Köln"
ask "Country" ""
ask "This confirms (required)" 1
ask "Date of moving in or out (required)" 31.02.2026
ask "add persons: Add: Person obliged to register" ""
ask "Error: Please enter a date, for example 31.12.2026." 01.03.2026
grep -q -F "Date of moving in or out (required)" q.txt && grep -q -F "[31.02.2026] >" q.txt
ok $? "a wrong date: asked again"
ask "add persons: Add: Person obliged to register" "add persons"
grep -A1 -F "Person obliged to register" q.txt |
    grep -q -F "Error: Please give at least 1 entries."
ok $? "too few entries: the reason under the group's name"
ask "Family name (required)" Gabler
ask "Given names (required)" Hans
ask "remove persons.0: Remove this entry (Person obliged to register 1)" "add persons"
ask "Person obliged to register 2" Mustermann
ask "Given names (required)" Erika
ask "remove persons.1" "remove persons.0"
ask "next: Next" ""
ask "Accuracy of the confirmation (required)" y
ask "Data protection notice (required)" j
ask "next: Next" ""
ask "Person obliged to register 1:" send
grep -q -F "Family name: Mustermann" q.txt && ! grep -q -F "Gabler" q.txt
ok $? "the summary: the entry left, not the one removed"
finish
check "wohnungsgeberbestaetigung sent: exit 0 (got $rc)" [ "$rc" = 0 ]
cat > wg-answers.json <<'JSON'
{"landlord_kind": "company", "company_name": "Wohnbau GmbH", "landlord_is_owner": true,
 "dwelling_address": {"street": "Hauptstr. 2", "addition": "2. OG", "postal_code": "50667",
   "city": "Köln", "country": "DE"},
 "movement": "move_in", "movement_date": "01.03.2026",
 "persons": [{"family_names": "Mustermann", "given_names": "Erika"}],
 "truthful": true, "privacy": true}
JSON
"$BB_FORM" fill wohnungsgeberbestaetigung --answers wg-answers.json id.json > wgfill.json
jq -S 'del(.form.completed)' wg.json > wg.cmp 2> /dev/null
jq -S 'del(.form.completed)' wgfill.json > wgfill.cmp
check_same "wohnungsgeberbestaetigung: the terminal's case is fill's" wgfill.cmp wg.cmp

# German: the reasons and words from the German catalogue.
sed -i 's/lang: en/lang: de/' bb.yaml
start de ask meldebescheinigung --tty -o de.json id.json
ask "Art der Meldebescheinigung (Pflichtangabe)" ""
ask "Verwendungszweck" ab
ask "Anzahl" ""
ask "Zustellung" ""
ask "next: Weiter" ""
ask "Fehler: Bitte geben Sie mindestens 3 Zeichen ein." "Rentenantrag"
ask "next: Weiter" cancel
finish
check "German, cancelled: exit 1 (got $rc)" [ "$rc" = 1 ]

# --tty and --screen together make no sense.
expect_code 64 "--tty with --screen: usage" "$BB_FORM" ask meldebescheinigung --tty \
	--screen "$scratch/run/x" id.json

done_testing
