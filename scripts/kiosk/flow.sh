# flow.sh: the pieces every kiosk flow shares, sourced by scripts/services/*/flow:
#
#	. "${BB_KIOSK:-$(dirname "$0")/../../kiosk}/flow.sh"
#
# A flow is run by the session (scripts/kiosk/session) with no arguments, stdin /dev/null,
# stderr the kiosk's log, BB_SESSION its private directory (0700, on tmpfs, removed at the
# session's end), BB_CONFIG, the five programs on PATH, and the screen server running
# (BB_SCREEN its control socket when not the default). See FLOWS in bb(7).
#
# Exit status of a flow: 0 completed (sent or queued, receipt shown; or the PIN changed or
# unblocked); 1 the person cancelled; 2 the time ran out; 4 the service could not be
# completed and the person was shown why and what to do; anything else: the flow broke.
#
# Secrets never pass through this shell: bb-form pin writes the digits into a pipe that
# bb-eid reads (--to-fd 3 into --pin-fd 3), never into a variable, an argument, the
# environment or a file. Nothing personal is written to the log: the steps, outcomes and
# bb-eid's, bb-capture's and bb-submit's own messages only, which carry none.
#
# Test and demo hooks (no camera or pad there): BB_PHOTO_INPUT, an image file bb-capture
# photo reads instead of the camera (--input), and BB_SIGNATURE_REPLAY, a recording of a
# pad bb-capture signature replays (--replay). Unset on a terminal.
#
# Times, in seconds, when the environment does not set them (tests shorten them):
# FLOW_CARD_WAIT (120) for the card before the time-out warning, FLOW_OUTCOME_WAIT (60) an
# outcome or receipt screen waits for a tap, FLOW_SUBMIT_WAIT (20) bb-submit --wait for the
# authority's verdict, FLOW_CARD_REMOVE_WAIT (3) the "take your card" screen.

umask 077
: "${BB_SESSION:?flow: BB_SESSION is not set (a flow runs in a session)}"
# The session's directory holds the case: this user's own, and nobody else's.
if [ ! -d "$BB_SESSION" ] || [ -L "$BB_SESSION" ] ||
    [ "$(stat -c '%u %a' "$BB_SESSION")" != "$(id -u) 700" ]; then
	echo "flow: $BB_SESSION: not a directory of this user with mode 0700 (chown, chmod 700)" >&2
	exit 78
fi
TMPDIR=$BB_SESSION
export TMPDIR
unset BB_SPOOL		# the queue is queue.spool of bb.yaml, whatever the caller had
flow_id=$(basename "$(cd "$(dirname "$0")" && pwd)")

FLOW_OUTCOME_WAIT=${FLOW_OUTCOME_WAIT:-60}
FLOW_CARD_WAIT=${FLOW_CARD_WAIT:-120}
FLOW_SUBMIT_WAIT=${FLOW_SUBMIT_WAIT:-20}
FLOW_CARD_REMOVE_WAIT=${FLOW_CARD_REMOVE_WAIT:-3}

flow_log() { printf 'flow: %s: %s\n' "$flow_id" "$*" >&2; }

# flow_step NAME: the step about to run, for the session's counts and its sorry screen.
flow_step() {
	printf '%s\n' "$1" > "$BB_SESSION/step"
	flow_log "step=$1"
}

# flow_card_needed / flow_card_done: while the marker is there, taking the card away ends
# the session (the session watches the reader).
flow_card_needed() { : > "$BB_SESSION/card-needed"; }
flow_card_done() { rm -f "$BB_SESSION/card-needed"; }

# flow_tell SCREEN [ARG...]: bb-form tell on the session's screen; the choice on stdout.
flow_tell() {
	bb-form tell "$@" ${BB_SCREEN:+--screen "$BB_SCREEN"}
}

# flow_end STATUS: leave the flow, the card no longer needed.
flow_end() {
	flow_card_done
	flow_log "exit=$1"
	exit "$1"
}

# flow_outcome SCREEN STATUS [ARG...]: show an outcome screen until the person taps (or
# FLOW_OUTCOME_WAIT passes), then end the flow with STATUS.
flow_outcome() {
	_fo_screen=$1 _fo_status=$2
	shift 2
	flow_log "outcome=$_fo_screen"
	flow_tell "$_fo_screen" "$@" --until "$FLOW_OUTCOME_WAIT" > /dev/null
	flow_end "$_fo_status"
}

# flow_status RC [KIND]: the one map from a step's exit status to its screen and the
# flow's end; returns only for 0. KIND says what the step was where a status means more
# than one thing: photo, signature, submit.
#   1 (cancelled)  the cancelled screen, exit 1        2 (time ran out)  the same, exit 2
#   4 photo        photo-failed, exit 4                4 signature       failed, exit 4
#   65 submit      rejected or rejected-invalid, exit 4
#   anything else  failed (ask at the counter, not waited for), exit with the step's
#                  status: the flow broke
flow_status() {
	case $1:${2:-} in
	0:*)		return 0 ;;
	1:signature)	# cancel tapped, or nothing drawn in time
			flow_tell cancelled > /dev/null
			grep -qx cancel "$BB_SESSION/choice" 2> /dev/null && flow_end 1
			flow_end 2 ;;
	1:*)		flow_tell cancelled > /dev/null; flow_end 1 ;;
	2:*)		flow_tell cancelled > /dev/null; flow_end 2 ;;
	4:photo)	flow_outcome photo-failed 4 ;;
	4:*)		flow_outcome failed 4 ;;
	65:submit)	flow_rejected ;;
	*)		# The session shows its own "ask at the counter" at once: no wait here.
			flow_log "broke status=$1"
			flow_tell failed > /dev/null 2>&1
			flow_end "$1" ;;
	esac
}

# flow_while SCREEN [TELL ARG...] -- CMD [ARG...]: run CMD while SCREEN is shown; a tap on
# the screen's cancel button stops CMD. Returns CMD's status, or 1 when cancelled.
flow_while() {
	_fw_n=0
	for _fw_a; do
		_fw_n=$((_fw_n + 1))
		[ "$_fw_a" = -- ] && break
	done
	_fw_i=0 _fw_screen=
	for _fw_a; do
		shift
		_fw_i=$((_fw_i + 1))
		[ "$_fw_i" -eq "$_fw_n" ] && break
		_fw_screen="$_fw_screen $_fw_a"	# screen names and mirror paths: no blanks
	done
	rm -f "$BB_SESSION/choice"
	# Simple commands in the background, so that the pids are the programs' own.
	# shellcheck disable=SC2086 # the screen's words, split on purpose
	bb-form tell $_fw_screen ${BB_SCREEN:+--screen "$BB_SCREEN"} --until tap \
		> "$BB_SESSION/choice" 2> /dev/null &
	_fw_tell=$!
	"$@" &
	_fw_cmd=$!
	while kill -0 "$_fw_cmd" 2> /dev/null; do
		if ! kill -0 "$_fw_tell" 2> /dev/null && grep -qx cancel "$BB_SESSION/choice"; then
			kill "$_fw_cmd" 2> /dev/null
			wait "$_fw_cmd" 2> /dev/null
			flow_log "cancelled"
			return 1
		fi
		sleep 0.2
	done
	wait "$_fw_cmd"
	_fw_rc=$?
	kill "$_fw_tell" 2> /dev/null
	wait "$_fw_tell" 2> /dev/null
	return "$_fw_rc"
}

# flow_card: the person lays the ID card on the reader (cancel, or the time running out
# with no answer to the warning, end the flow).
flow_card() {
	flow_step card
	flow_card_needed
	while :; do
		_fc_rc=0
		flow_while card-place -- bb-eid wait --timeout "$FLOW_CARD_WAIT" > /dev/null || _fc_rc=$?
		[ "$_fc_rc" -eq 0 ] && return 0
		if [ "$_fc_rc" -eq 1 ] && ! grep -qx cancel "$BB_SESSION/choice" 2> /dev/null; then
			# No card in time: WCAG 2.2.1, offer more.
			_fc_more=$(flow_tell timeout-warning --until 30) || _fc_more=
			[ "$_fc_more" = more ] && continue
			[ -n "$_fc_more" ] && flow_status 1
			flow_status 2
		fi
		flow_status "$_fc_rc"
	done
}

# --- the PIN ----------------------------------------------------------------------------

# flow_pad [BB-FORM PIN ARG...]: the pad; the digits to descriptor 3, which the caller
# pipes into bb-eid; the pad's status into $BB_SESSION/pad.rc (a pipe has one status).
flow_pad() {
	_pd=0
	bb-form pin "$@" ${BB_SCREEN:+--screen "$BB_SCREEN"} --to-fd 3 3>&1 > /dev/null || _pd=$?
	echo "$_pd" > "$BB_SESSION/pad.rc"
	return "$_pd"
}

# flow_pads STATUS: after a pipeline of pads into bb-eid (STATUS its status): when a pad
# was cancelled or timed out, the flow ends so (bb-eid read nothing: 65, no retry spent);
# a new PIN entered differently three times (bb-form pin --confirm: 4) ends it with
# pin-mismatch, the card untouched; else flow_rc is STATUS.
flow_pads() {
	_fp=$(cat "$BB_SESSION/pad.rc" 2> /dev/null) || _fp=70
	rm -f "$BB_SESSION/pad.rc"
	[ "$_fp" -eq 4 ] && flow_outcome pin-mismatch 4
	[ "$_fp" -eq 0 ] || flow_status "$_fp"
	flow_rc=$1
}

# flow_eid_msg: bb-eid's last message (its own words, no personal data), also to the log.
flow_eid_msg() {
	cat "$BB_SESSION/eid.err" >&2
	sed -n '$s/^bb-eid: //p' "$BB_SESSION/eid.err"
}

# flow_eid_state MESSAGE: bb-eid exit 3, the card cannot be used this way: say what to do
# instead, and end the flow.
flow_eid_state() {
	case $1 in
	*suspended*)			flow_outcome pin-suspended 4 ;;
	*"PIN is blocked"*)		flow_outcome pin-blocked 4 ;;
	*"switched off"*|*deactivated*)	flow_outcome card-deactivated 4 ;;
	*expired*|*"how long"*)		flow_outcome card-expired 4 ;;
	*)				flow_outcome failed 4 ;;
	esac
}

# flow_pin_retry STATUS: after a bb-eid command with a secret that did not succeed (the
# pads' status first: flow_pads). Returns, to ask again, on a wrong PIN, CAN or PUK, with
# flow_tries the tries the card has left for the PIN (0: not said), and once a suspended PIN
# works again (flow_pin_resume); ends the flow on anything else with its screen.
flow_pin_retry() {
	_pt_msg=$(flow_eid_msg)
	case $1:$_pt_msg in
	2:*suspended*|3:*suspended*)
		flow_log "outcome=pin-suspended"
		[ "${flow_digits:-6}" -eq 6 ] || flow_outcome failed 4
		flow_pin_resume
		flow_tries=0 ;;
	2:*blocked*)
		flow_outcome pin-blocked 4 ;;
	2:*"wrong PIN"*)
		flow_tries=$(printf '%s
' "$_pt_msg" | sed -n 's/.*, \([0-9]\) retr.*/\1/p')
		[ -n "$flow_tries" ] || flow_tries=1
		flow_log "outcome=pin-wrong tries=$flow_tries" ;;
	2:*)	flow_tries=0
		flow_log "outcome=secret-wrong" ;;
	3:*)	flow_eid_state "$_pt_msg" ;;
	*)	flow_status "$1" ;;
	esac
}

# flow_tries_arg: the pad's --tries for the tries left, when a PIN was wrong.
flow_tries_arg() {
	[ "${flow_tries:-0}" -gt 0 ] && echo "--tries $flow_tries"
}

# flow_pin_resume: the PIN was entered wrong twice and is suspended: the screen says so,
# then the CAN and the PIN once more (bb-eid pin-resume). Returns when the PIN works
# again; ends the flow when the person cancels or the PIN is now blocked. A transport PIN
# (flow_digits 5) cannot be resumed so (bb-eid pin-resume takes 6 digits): the counter.
flow_pin_resume() {
	_pr_try=0
	while :; do
		flow_step pin
		_pr=$(flow_tell pin-suspended --until "$FLOW_OUTCOME_WAIT") || _pr=
		case $_pr in
		next)	;;
		'')	flow_status 2 ;;
		*)	flow_status 1 ;;
		esac
		_pr_rc=0
		{ flow_pad --can && flow_pad --tries 1; } |
			bb-eid pin-resume --can-fd 3 --pin-fd 4 3<&0 4<&0 < /dev/null \
			2> "$BB_SESSION/eid.err" || _pr_rc=$?
		flow_pads "$_pr_rc"
		_pr_rc=$flow_rc
		_pr_msg=$(flow_eid_msg)
		case $_pr_rc:$_pr_msg in
		0:*)		return 0 ;;
		2:*blocked*)	flow_outcome pin-blocked 4 ;;
		2:*CAN*)	_pr_try=$((_pr_try + 1))
				[ "$_pr_try" -lt 3 ] && continue
				flow_outcome failed 4 ;;
		3:*)		flow_eid_state "$_pr_msg" ;;
		*)		flow_status "$_pr_rc" ;;
		esac
	done
}

# flow_eid_read FIELDS CASE [SERVICE]: the PIN on the pad, piped into bb-eid, which writes
# a new case with the identity keys FIELDS (comma-separated) to CASE with the terminal's
# own certificate (bb-eid read); or, when bb.yaml gives SERVICE an eID-Server
# (eid.services.SERVICE.tc_token_url), bb-eid online, where the service's eID-Server reads
# the card through AusweisApp: the keys are then the service's fields (its eID-Server asks
# for what it is authorized for, not what this form prefills). A wrong PIN is asked again with the tries left; a suspended one goes
# through the CAN; the card's other states end the flow with their screens.
flow_eid_read() {
	flow_tries=0
	_er_cmd=read _er_opt=--fields _er_arg=$1
	if [ -n "${3:-}" ]; then
		# 1: not set (read locally); anything else but 0, a bb.yaml that is broken.
		_er_rc=0
		bb-form config "eid.services.$3.tc_token_url" > /dev/null || _er_rc=$?
		case $_er_rc in
		0)	_er_cmd=online _er_opt=--service _er_arg=$3 ;;
		1)	;;
		*)	flow_status "$_er_rc" ;;
		esac
	fi
	flow_log "eid=$_er_cmd"
	while :; do
		flow_step pin
		_er_rc=0
		# shellcheck disable=SC2046 # --tries N: two words
		{ flow_pad $(flow_tries_arg) && flow_step read; } |
			bb-eid "$_er_cmd" "$_er_opt" "$_er_arg" --new --pin-fd 3 -o "$2" \
			3<&0 < /dev/null 2> "$BB_SESSION/eid.err" || _er_rc=$?
		flow_pads "$_er_rc"
		_er_rc=$flow_rc
		if [ "$_er_rc" -eq 0 ]; then
			flow_eid_msg > /dev/null
			return 0
		fi
		flow_pin_retry "$_er_rc"
	done
}

# flow_read_card FORM CASE: the card, the PIN, the read of what FORM prefills from the
# card into a new CASE (or online, when bb.yaml gives the service, the flow's directory
# name, an eID-Server); then the card may go.
flow_read_card() {
	_rc_fields=$(bb-form show "$1" --format json |
	    jq -r '[.. | objects | select(has("prefill")) | .prefill | select(startswith("identity."))
		| ltrimstr("identity.") | split(".")[0]] | unique | join(",")') || flow_status 70
	[ -n "$_rc_fields" ] || _rc_fields=given_names,family_names
	flow_card
	flow_eid_read "$_rc_fields" "$2" "$flow_id"
	flow_card_done
	# The card may go: say so for a moment, before the form takes the screen.
	flow_tell card-remove --until "$FLOW_CARD_REMOVE_WAIT" > /dev/null 2>&1 || :
}

# --- the other steps ----------------------------------------------------------------------

# flow_ask FORM CASE: the form on the screen, into CASE.
flow_ask() {
	flow_step ask
	_fa_rc=0
	bb-form ask "$1" ${BB_SCREEN:+--screen "$BB_SCREEN"} -o "$2" "$2" || _fa_rc=$?
	flow_status "$_fa_rc"
}

# flow_photo CASE: the passport photo, with the live mirror on the camera screen.
flow_photo() {
	flow_step photo
	_ph_m=$BB_SESSION/mirror
	[ -d "$_ph_m" ] || mkdir -m 700 "$_ph_m" || flow_status 73
	_ph_rc=0
	flow_while camera --mirror "$_ph_m" -- \
		bb-capture photo --mirror "$_ph_m" ${BB_PHOTO_INPUT:+--input "$BB_PHOTO_INPUT"} \
		-o "$1" "$1" || _ph_rc=$?
	rmdir "$_ph_m" 2> /dev/null
	flow_status "$_ph_rc" photo
}

# flow_signature CASE: the signature on the pad; a dot or a scribble too small is asked
# again, twice.
flow_signature() {
	flow_step signature
	_sg_try=0
	while :; do
		_sg_rc=0
		flow_while sign -- bb-capture signature \
			${BB_SIGNATURE_REPLAY:+--replay "$BB_SIGNATURE_REPLAY"} -o "$1" "$1" || _sg_rc=$?
		_sg_try=$((_sg_try + 1))
		[ "$_sg_rc" -eq 4 ] && [ "$_sg_try" -lt 3 ] && continue
		flow_status "$_sg_rc" signature
		return 0
	done
}

# flow_needs FORM CASE: what FORM needs besides its answers (bb-form needs: the form
# says it, bb-form(5) needs), taken into CASE in the order given: the photo, the
# signature. A form that needs neither goes straight on.
flow_needs() {
	_fn_needs=$(bb-form needs "$1") || flow_status $?
	for _fn_need in $_fn_needs; do
		case $_fn_need in
		photo)		flow_photo "$2" ;;
		signature)	flow_signature "$2" ;;
		*)		flow_log "unknown need $_fn_need"	# a bb-form newer than this
				flow_status 70 ;;
		esac
	done
}

# flow_rejected: bb-submit exit 65, the authority refused the case. Its reason is the
# authority's text, untrusted, perhaps in no language of the person, perhaps quoting the
# application: the screen says only what kind of refusal it was, in fixed words, and the
# log only that it was refused (the queue's failed/ and the authority keep the reason).
flow_rejected() {
	if [ "$(jq -r '.submission.state // empty' "$BB_SESSION/submitted.json" 2> /dev/null)" = \
	    rejected ]; then
		flow_outcome rejected 4
	fi
	flow_outcome rejected-invalid 4
}

# flow_submit CASE: deliver the case now with bb-submit; when the authority cannot be
# reached (75), keep the case bb-submit wrote (it records what was done, so the queue
# resumes there) in the queue and tell the person so. Sets flow_sent (the case as sent or
# queued) and flow_queued (the queue's id, empty when sent).
flow_submit() {
	flow_step submit
	flow_tell wait > /dev/null
	flow_sent=$BB_SESSION/submitted.json flow_queued=
	_fs_rc=0
	bb-submit --wait "$FLOW_SUBMIT_WAIT" < "$1" > "$flow_sent" 2> "$BB_SESSION/submit.err" ||
		_fs_rc=$?
	case $_fs_rc in
	0)	cat "$BB_SESSION/submit.err" >&2
		flow_log "outcome=sent" ;;
	75)	cat "$BB_SESSION/submit.err" >&2
		_fs_q=0
		# bb-submit's case; when it wrote nothing valid (it crashed), the case as it came.
		if [ -s "$flow_sent" ]; then
			flow_queued=$(bb-queue add "$flow_sent") || _fs_q=$?
		else
			_fs_q=65
		fi
		if [ "$_fs_q" -eq 65 ]; then
			_fs_q=0
			cp "$1" "$flow_sent"
			flow_queued=$(bb-queue add "$flow_sent") || _fs_q=$?
		fi
		[ "$_fs_q" -eq 0 ] || flow_status "$_fs_q"
		flow_log "outcome=queued" ;;	# the receipt says it will be sent
	*)	flow_status "$_fs_rc" submit ;;
	esac
}

# flow_receipt CASE: the receipt of the case as sent or queued (bb-form receipt): the
# service, the date, the reference, what happens next, a QR code; printed when
# form.printer is set.
flow_receipt() {
	flow_step receipt
	bb-form receipt "$1" ${BB_SCREEN:+--screen "$BB_SCREEN"} --until "$FLOW_OUTCOME_WAIT" \
		> /dev/null || :
}
