#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The audit trail (chatd(8), AUDIT TRAIL): every operator's and
# administrator's action is one line of the server's log,
#   audit: ACTION [TARGET [(ADDRESS)]] by WHO (FROM)[: REASON]
# an operator's from its worker, chatctl's from the listener (or under
# -i from a worker), at notice, or warning for a wrong /oper password.
# Every client connects from 127.0.0.1.

load helpers

bats_require_minimum_version 1.5.0

: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"

setup() {
	EXTRA_PIDS=()
	STALE=
	STOPPED=
	# What chatctl says of whoever runs it: "USER, uid UID, pid ".
	ME="$(id -un), uid $(id -u), pid "
}

teardown() {
	local pid
	if [ -n "$STOPPED" ]; then
		kill -CONT "$STOPPED" 2>/dev/null || true
	fi
	for pid in "${EXTRA_PIDS[@]}"; do
		stop_pid 5 "$pid"
	done
	stop_chatd
	if [ -n "$STALE" ]; then
		rm -f "/dev/shm/chatd.$STALE"
		rm -rf "${RUNDIR:?}/$STALE"
	fi
	assert_no_sanitizer_report
}

# chatctl on this test's instance: $status, $output (stdout), $stderr.
ctl() {
	run --separate-stderr timeout 30 "$CHATCTL" -n "$INSTANCE" \
	    --run-dir "$RUNDIR" "$@"
	if [ "$status" -ne 0 ] || [ -n "$output$stderr" ]; then
		printf 'chatctl %s: status %s\nstdout: %s\nstderr: %s\n' \
		    "$*" "$status" "$output" "$stderr" >&2
		return 1
	fi
}

# The log's audit lines, each without what precedes "audit: ".
audit_lines() {
	sed -n 's/^.*\]: \(audit: \)/\1/p' "$LOG"
}

# Whether the log holds the audit line $2 (whole, a fixed string),
# written by a process whose role and pid match the regex $1.
has_line() {
	sed -n "s/^\(<[0-7]>\)\{0,1\}chatd\/$1\]: \(audit: \)/\2/p" "$LOG" |
	    grep -qxF -- "$2"
}

# Waits until the log holds line $2 from process $1 (see has_line).
logged() {
	wait_for "$TIMEOUT" has_line "$1" "$2" || {
		cat "$LOG" >&2
		return 1
	}
}

# Whether the log holds the line "$1USER, uid UID, pid PID$2", PID any
# number, written by process $3 (a regex, as in has_line).
has_ctl_line() {
	local head=$1$ME tail=$2 line pid
	while IFS= read -r line; do
		[[ $line == "$head"*"$tail" ]] || continue
		pid=${line#"$head"}
		pid=${pid%"$tail"}
		[[ $pid =~ ^[0-9]+$ ]] && return 0
	done < <(sed -n "s/^\(<[0-7]>\)\{0,1\}chatd\/$3\]: \(audit: \)/\2/p" \
	    "$LOG")
	return 1
}

# Waits until the log holds "$1 (USER, uid UID, pid PID)$2", logged by
# process $3.
ctl_logged() {
	wait_for "$TIMEOUT" has_ctl_line "$1 (" ")$2" "$3" || {
		cat "$LOG" >&2
		return 1
	}
}

# The log holds exactly $1 audit lines.
audit_count() {
	local n
	n=$(audit_lines | wc -l)
	[ "$n" -eq "$1" ] || {
		echo "$n audit lines, not $1:" >&2
		audit_lines >&2
		return 1
	}
}

@test "audit_format: fields in order, controls escaped, cut at a character" {
	run "$TESTBIN/unit_audit"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "an operator's /kick, /ban and /unban: one line each, with who, whom and why" {
	start_chatd
	login_all alice bob carol
	say alice "/kick bob too  loud, again"
	expect bob "! you were kicked by alice (too  loud, again)"
	expect carol "* bob was kicked by alice (too  loud, again)"
	expect alice "* bob was kicked by alice (too  loud, again)"
	logged 'worker\[[0-9]*' \
	    "audit: kick bob (127.0.0.1) by alice (127.0.0.1): too  loud, again"
	say alice "/ban carol"
	expect carol "! you were banned by alice"
	expect alice "* carol was banned by alice"
	logged 'worker\[[0-9]*' \
	    "audit: ban carol (127.0.0.1) by alice (127.0.0.1)"
	say alice "/unban 127.0.0.1"
	expect alice "* unbanned 127.0.0.1"
	logged 'worker\[[0-9]*' "audit: unban 127.0.0.1 by alice (127.0.0.1)"
	# What did nothing is no action: no line.
	say alice "/unban 127.0.0.1"
	expect alice "! not banned: 127.0.0.1"
	say alice "/kick nobody"
	expect alice "! no such user: nobody"
	barrier alice
	audit_count 3
}

# Whether TIME (2025-06-01T14:00:00Z) is $2 seconds from the epoch
# second $1, within 5 seconds.
ends_in() {
	local end
	end=$(date -u -d "$3" +%s) || return 1
	[ "$end" -ge $(($1 + $2 - 5)) ] && [ "$end" -le $(($1 + $2 + 5)) ] || {
		echo "$3 is not $2 s after $(date -u -d "@$1")" >&2
		return 1
	}
}

# Whether the log has an audit line that starts with "$1 until TIME by ":
# sets END to TIME.
has_ban_end() {
	END=$(audit_lines | grep -F -- "$1 until " |
	    sed -n 's|.* until \([0-9TZ:-]*\) by .*|\1|p' | head -n 1)
	[ -n "$END" ]
}

# Waits for the audit line of a ban that ends (see has_ban_end).
ban_end() {
	wait_for "$TIMEOUT" has_ban_end "$1" || {
		cat "$LOG" >&2
		return 1
	}
}

@test "an operator's /ban -t and /ban RANGE: the range and when the ban ends" {
	local now
	start_chatd
	login_all alice bob
	now=$(date +%s)
	say alice "/ban -t 2h bob for a while"
	expect bob "! you were banned by alice (for a while)"
	expect alice "* bob was banned by alice (for a while)"
	ban_end "audit: ban bob (127.0.0.1)"
	has_line 'worker\[[0-9]*' \
	    "audit: ban bob (127.0.0.1) until $END by alice (127.0.0.1): for a while"
	ends_in "$now" 7200 "$END"
	say alice "/ban 10.1.2.3/8 spam"
	expect alice "* banned 10.0.0.0/8"
	logged 'worker\[[0-9]*' \
	    "audit: ban 10.0.0.0/8 by alice (127.0.0.1): spam"
	# An unban names the range as the table does, however typed.
	say alice "/unban 10.9.9.9/8"
	expect alice "* unbanned 10.9.9.9/8"
	logged 'worker\[[0-9]*' "audit: unban 10.0.0.0/8 by alice (127.0.0.1)"
	audit_count 3
}

@test "--ipv6-prefix: a ban of an IPv6 user says the prefix it covers" {
	have_ipv6_loopback || skip "no IPv6 loopback (::1)"
	start_chatd -l ::1 --ipv6-prefix 120
	wait_for "$TIMEOUT" grep -q 'listening on ::1 port' "$LOG"
	login first
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	say bob bob
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect first "* bob joined lobby"
	say first "/ban bob"
	expect bob "! you were banned by first"
	logged 'worker\[[0-9]*' "audit: ban bob (::1) in ::/120 by first (127.0.0.1)"
}

@test "/oper: the new operator at notice, a wrong password at warning" {
	OPER_FILE=$BATS_TEST_TMPDIR/oper
	printf '%s\n' "$OPER_HASH" >"$OPER_FILE"
	chmod 600 "$OPER_FILE"
	start_chatd_journal --oper-password-file "$OPER_FILE"
	login_all first alice bob
	say alice "/oper secret"
	expect alice "* You are now an operator."
	say bob "/oper guess"
	expect bob "! wrong password"
	logged 'worker\[[0-9]*' "audit: oper by alice (127.0.0.1)"
	logged 'worker\[[0-9]*' \
	    "audit: oper-failed by bob (127.0.0.1): wrong password"
	grep -qx '<5>chatd/worker\[[0-9]*\]: audit: oper by alice (127\.0\.0\.1)' \
	    "$LOG"
	grep -qx '<4>chatd/worker\[[0-9]*\]: audit: oper-failed by bob (127\.0\.0\.1): wrong password' \
	    "$LOG"
	run ! grep -q guess "$LOG"
	audit_count 2
}

@test "chatctl's kick, ban, unban and wall: logged by the listener, naming the invoker" {
	local now
	start_chatd
	login_all alice bob carol
	ctl kick bob too "loud, again"
	expect bob "! you were kicked by the administrator (too loud, again)"
	expect alice "* bob was kicked by the administrator (too loud, again)"
	expect carol "* bob was kicked by the administrator (too loud, again)"
	ctl_logged "audit: kick bob (127.0.0.1) by chatctl" ": too loud, again" \
	    "listener\[$CHATD_PID"
	ctl ban carol
	expect carol "! you were banned by the administrator"
	expect alice "* carol was banned by the administrator"
	ctl_logged "audit: ban carol (127.0.0.1) by chatctl" "" \
	    "listener\[$CHATD_PID"
	ctl unban 127.0.0.1
	ctl_logged "audit: unban 127.0.0.1 by chatctl" "" \
	    "listener\[$CHATD_PID"
	ctl wall "the server" "restarts at noon"
	expect alice "* the server restarts at noon"
	ctl_logged "audit: wall by chatctl" ": the server restarts at noon" \
	    "listener\[$CHATD_PID"
	now=$(date +%s)
	ctl ban -t 1d 2001:db8::/32 "a whole network"
	ban_end "audit: ban 2001:db8::/32"
	ctl_logged "audit: ban 2001:db8::/32 until $END by chatctl" \
	    ": a whole network" "listener\[$CHATD_PID"
	ends_in "$now" 86400 "$END"
	audit_count 5
}

@test "chatctl shutdown: logged before the listener shuts down" {
	start_chatd
	login alice
	ctl shutdown
	expect alice "* server shutting down"
	wait_for "$TIMEOUT" not_running "$CHATD_PID"
	stop_chatd
	ctl_logged "audit: shutdown by chatctl" "" "listener\[[0-9]*"
	audit_count 1
	# Its line comes before "shutting down".
	sed -n '/: audit: shutdown by chatctl/,$p' "$LOG" |
	    grep -q ': shutting down$'
}

@test "no text can forge a line: chatctl's reason and wall are one line each" {
	start_chatd
	login_all alice bob
	ctl kick bob $'x\nchatd/listener[1]: audit: shutdown by chatctl\r'
	expect bob "! you were kicked by the administrator (xchatd/listener[1]: audit: shutdown by chatctl)"
	expect alice "* bob was kicked by the administrator (xchatd/listener[1]: audit: shutdown by chatctl)"
	ctl_logged "audit: kick bob (127.0.0.1) by chatctl" \
	    ": xchatd/listener[1]: audit: shutdown by chatctl" \
	    "listener\[$CHATD_PID"
	ctl wall $'a\x1b[31m\n<3>b\\n'
	expect alice '* a[31m<3>b\n'
	ctl_logged "audit: wall by chatctl" ': a[31m<3>b\\n' \
	    "listener\[$CHATD_PID"
	audit_count 2
	# Every line of the log is one of the server's.
	run ! grep -v '^chatd/[a-z]*\[[0-9]*\]: ' "$LOG"
}

@test "chatctl's lines wait for a stopped listener; past 4, the oldest are lost and counted" {
	local n
	start_chatd
	login alice
	kill -STOP "$CHATD_PID"
	STOPPED=$CHATD_PID
	for n in 1 2 3 4 5 6; do
		ctl wall "wall $n"
		expect alice "* wall $n"
	done
	audit_count 0
	kill -CONT "$CHATD_PID"
	STOPPED=
	for n in 3 4 5 6; do
		ctl_logged "audit: wall by chatctl" ": wall $n" \
		    "listener\[$CHATD_PID"
	done
	logged "listener\[$CHATD_PID" \
	    "audit: 2 lines of chatctl lost: no server process logged them in time"
	run ! grep -q 'wall [12]$' "$LOG"
	# The count first, then the rest in order.
	[ "$(audit_lines | sed 's/, pid [0-9]*)/, pid P)/')" = \
	    "audit: 2 lines of chatctl lost: no server process logged them in time
audit: wall by chatctl (${ME}P): wall 3
audit: wall by chatctl (${ME}P): wall 4
audit: wall by chatctl (${ME}P): wall 5
audit: wall by chatctl (${ME}P): wall 6" ]
}

# Starts chatd -i for one client over two FIFOs, as inetd would with a
# socket: FD[$1] reads its output, WFD[$1] writes its input.
declare -gA WFD
start_inetd_client() {
	local in=$BATS_TEST_TMPDIR/$1.in out=$BATS_TEST_TMPDIR/$1.out fd
	mkfifo "$in" "$out"
	"$CHATD" -i -n "$INSTANCE" --run-dir "$RUNDIR" --rate 0 \
	    <"$in" >"$out" 2>>"$LOG" &
	EXTRA_PIDS+=($!)
	exec {fd}>"$in"
	WFD[$1]=$fd
	exec {fd}<"$out"
	FD[$1]=$fd
}

# A user of an inetd instance, registered.
inetd_login() {
	start_inetd_client "$1"
	expect_re "$1" '^\* Welcome to chatd! [0-9]+ users? online\.$'
	expect "$1" "Enter your name:"
	printf '%s\n' "$1" >&"${WFD[$1]}"
	expect "$1" "* Hello, $1! You are in lobby. Type /help for commands."
}

@test "under -i, with no listener, a worker logs chatctl's actions" {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	mkdir -p -m 700 "$RUNDIR"
	STALE=$INSTANCE
	inetd_login alice
	expect alice "* You are the operator."
	inetd_login bob
	expect alice "* bob joined lobby"
	ctl wall "hello, inetd"
	expect alice "* hello, inetd"
	ctl_logged "audit: wall by chatctl" ": hello, inetd" 'worker\[[0-9]*'
	ctl shutdown
	expect alice "* server shutting down"
	ctl_logged "audit: shutdown by chatctl" "" 'worker\[[0-9]*'
	audit_count 2
	wait "${EXTRA_PIDS[0]}"
	wait "${EXTRA_PIDS[1]}"
	EXTRA_PIDS=()
	exec {WFD[alice]}>&- {WFD[bob]}>&-
}
