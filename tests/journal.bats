#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Log priorities for the journal (chatd(8), LOGGING): when systemd's
# JOURNAL_STREAM names the device and inode of chatd's stderr, every
# line written there begins with its syslog priority, <N>, which
# journald takes as the line's priority; otherwise nothing changes.

load helpers

bats_require_minimum_version 1.5.0

: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"

setup() {
	OPER_FILE=$BATS_TEST_TMPDIR/oper
	printf '%s\n' "$OPER_HASH" >"$OPER_FILE"
	chmod 600 "$OPER_FILE"
}

# A wrong /oper password, and the warning it is logged with.
wrong_oper() {
	login_all alice bob
	say bob "/oper guess"
	expect bob "! wrong password"
	wait_for "$TIMEOUT" grep -q 'audit: oper-failed by bob' "$LOG"
}

# Each line of file $1 matches the extended regex $2.
all_lines_of() {
	if grep -Ev "$2" "$1" >&2; then
		echo "(lines above do not match $2)" >&2
		return 1
	fi
}

# Each line of the log matches the extended regex $1.
all_lines() {
	all_lines_of "$LOG" "$1"
}

# Runs "$@" with its stderr appended to $ERR and JOURNAL_STREAM naming
# $ERR; fails unless it exits with status $1.
run_journal() {
	local want=$1 st=0
	shift
	JOURNAL_STREAM=$(stat -c '%d:%i' "$ERR") "$@" 2>>"$ERR" || st=$?
	[ "$st" -eq "$want" ] || {
		echo "exit status $st, not $want" >&2
		cat "$ERR" >&2
		return 1
	}
}

@test "stderr is the journal: info, warning, debug and fatal lines carry <N>" {
	start_chatd_journal --oper-password-file "$OPER_FILE"
	wrong_oper
	grep -qx "<6>chatd/listener\[$CHATD_PID\]: listening on 127\.0\.0\.1 port $PORT" \
	    "$LOG"
	grep -qx '<7>chatd/worker\[[0-9]*\]: 127\.0\.0\.1 registered as alice' \
	    "$LOG"
	grep -qx '<4>chatd/worker\[[0-9]*\]: audit: oper-failed by bob (127\.0\.0\.1): wrong password' \
	    "$LOG"
	all_lines '^<[0-7]>chatd/(listener|worker)\[[0-9]+\]: '
	# A second server on the same instance cannot start: a fatal error.
	ERR=$LOG run_journal 69 "$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$RUNDIR"
	grep -Eqx "<2>chatd/listener\[[0-9]+\]: instance $INSTANCE is already running \(pid $CHATD_PID\)" \
	    "$LOG" || {
		cat "$LOG" >&2
		false
	}
	all_lines '^<[0-7]>chatd/(listener|worker)\[[0-9]+\]: '
}

@test "stderr is the journal: an option or chatctl error is <3>" {
	ERR=$BATS_TEST_TMPDIR/err
	: >"$ERR"
	run_journal 64 "$CHATD" --bogus
	grep -qx '<3>chatd: unknown option --bogus' "$ERR"
	run_journal 69 "$CHATCTL" -n nosuch$$ --run-dir "$BATS_TEST_TMPDIR" \
	    status
	grep -Eqx '<3>chatctl: .+' "$ERR"
	all_lines_of "$ERR" '^<3>'
}

@test "JOURNAL_STREAM naming another stream: lines as ever, no <N>" {
	JOURNAL_FILE=$BATS_TEST_TMPDIR/other
	: >"$JOURNAL_FILE"
	start_chatd_journal --oper-password-file "$OPER_FILE"
	wrong_oper
	grep -qx "chatd/listener\[$CHATD_PID\]: listening on 127\.0\.0\.1 port $PORT" \
	    "$LOG"
	grep -qx 'chatd/worker\[[0-9]*\]: audit: oper-failed by bob (127\.0\.0\.1): wrong password' \
	    "$LOG"
	all_lines '^chatd/(listener|worker)\[[0-9]+\]: '
	[ ! -s "$JOURNAL_FILE" ]
}

@test "JOURNAL_STREAM unset, or not DEVICE:INODE exactly: lines as ever, no <N>" {
	local wrap
	# Each a form of stderr's own DEVICE:INODE (%s), spoilt.
	for wrap in "%sx" " %s" "+%s" "%s:1" "%s:" "x%s"; do
		JOURNAL_WRAP=$wrap
		start_chatd_journal --oper-password-file "$OPER_FILE"
		wrong_oper
		all_lines '^chatd/(listener|worker)\[[0-9]+\]: '
		stop_chatd
	done
	unset JOURNAL_STREAM
	start_chatd --oper-password-file "$OPER_FILE"
	wrong_oper
	all_lines '^chatd/(listener|worker)\[[0-9]+\]: '
}
