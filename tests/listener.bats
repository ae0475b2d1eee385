#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The listener dies (kill -9): its workers serve on, and a new chatd on
# the same instance (same -n, run directory and port) adopts the live
# segment and the workers in it, which are not its children: it buries
# those that die, and a clean shutdown ends them with its own and
# leaves nothing behind.

load helpers

bats_require_minimum_version 1.5.0

: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"

setup() {
	ORPHANS=()
	STOPPED=
	LOG2=
}

# Whatever a failed test left: workers that have no listener, and the
# segment and directory they kept.
teardown() {
	local pid
	if [ -n "$STOPPED" ]; then
		kill -CONT "$STOPPED" 2>/dev/null || true
	fi
	stop_chatd
	for pid in "${ORPHANS[@]}"; do
		dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
	done
	rm -f "/dev/shm/chatd.${INSTANCE:?}"
	rm -rf "${RUNDIR:?}/$INSTANCE"
	assert_no_sanitizer_report
	[ -z "$LOG2" ] || LOG=$LOG2 assert_no_sanitizer_report
}

# alice and bob log in; then the listener is killed with SIGKILL. Their
# workers are remembered as orphans, and the segment's inode as SHM.
kill_listener() {
	login_all alice bob
	ORPHANS=("$(worker_pid alice)" "$(worker_pid bob)")
	[ -n "${ORPHANS[0]}" ] && [ -n "${ORPHANS[1]}" ]
	SHM=$(stat -c %i "/dev/shm/chatd.$INSTANCE")
	kill -KILL "$CHATD_PID"
	wait "$CHATD_PID" || true
	CHATD_PID=
}

# Starts a new chatd on the dead one's instance, run directory and port,
# logging to LOG2 (the orphans still write to LOG).
restart_listener() {
	LOG2=$BATS_TEST_TMPDIR/chatd2.log
	"$CHATD" -p "$PORT" -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    "${CHATD_DEFAULTS[@]}" 2>"$LOG2" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'listening on' "$LOG2" || {
		cat "$LOG2" >&2
		return 1
	}
}

# The value of key $1 in `chatctl status`.
status_value() {
	"$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" -H status |
	    sed -n "s/^$1\t//p"
}

# alice and bob still talk to each other, both ways.
still_chatting() {
	say alice "still here $1"
	expect bob "<alice> still here $1" || return 1
	say bob "me too $1"
	expect alice "<bob> me too $1"
}

@test "the listener killed: connected users keep chatting" {
	start_chatd
	kill_listener
	still_chatting 1
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* alice (lobby) [op]"
	expect alice "* bob (lobby)"
	still_chatting 2
}

@test "a new chatd adopts the live segment: new users see the old ones" {
	start_chatd
	kill_listener
	restart_listener
	# The same segment, not a new one.
	[ "$(stat -c %i "/dev/shm/chatd.$INSTANCE")" = "$SHM" ]
	grep -q "adopted 2 workers of a listener that died" "$LOG2"
	[ "$(status_value listener)" = "$CHATD_PID" ]
	connect carol
	expect carol "* Welcome to chatd! 2 users online."
	expect carol "Enter your name:"
	say carol carol
	expect carol "* Hello, carol! You are in lobby. Type /help for commands."
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say carol "/users"
	expect carol "* 3 users online"
	expect carol "* alice (lobby) [op]"
	expect carol "* bob (lobby)"
	expect carol "* carol (lobby)"
	say carol "hello, old ones"
	expect alice "<carol> hello, old ones"
	expect bob "<carol> hello, old ones"
	still_chatting 1
	expect carol "<alice> still here 1"
	expect carol "<bob> me too 1"
	# A name held by an orphan is taken.
	open_client bob2
	say bob2 bob
	expect bob2 "! name taken: bob"
}

@test "an orphan killed after the takeover is buried: its room hears connection lost" {
	start_chatd
	login_all alice bob carol
	ORPHANS=("$(worker_pid alice)" "$(worker_pid bob)" "$(worker_pid carol)")
	kill -KILL "$CHATD_PID"
	wait "$CHATD_PID" || true
	CHATD_PID=
	restart_listener
	kill -KILL "${ORPHANS[1]}"
	# Nobody speaks: the listener finds the dead one by itself.
	expect alice "* bob quit (connection lost)"
	expect carol "* bob quit (connection lost)"
	[ "$(status_value connections)" = 2 ]
	login bob2 bob
	expect alice "* bob joined lobby"
	expect carol "* bob joined lobby"
	say bob2 "back"
	expect alice "<bob> back"
	expect carol "<bob> back"
}

@test "an orphan that died with no listener is buried when the new one starts" {
	start_chatd
	kill_listener
	kill -KILL "${ORPHANS[1]}"
	wait_for "$TIMEOUT" dead "${ORPHANS[1]}"
	restart_listener
	expect alice "* bob quit (connection lost)"
	grep -q "adopted 1 workers of a listener that died" "$LOG2"
	[ "$(status_value connections)" = 1 ]
}

@test "a clean shutdown after a takeover ends the orphans too and leaves nothing" {
	start_chatd
	kill_listener
	restart_listener
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	kill -TERM "$CHATD_PID"
	expect alice "* server shutting down"
	expect_eof alice
	expect bob "* server shutting down"
	expect_eof bob
	expect carol "* server shutting down"
	expect_eof carol
	stop_chatd
	[ "$STATUS" -eq 0 ]
	wait_for "$TIMEOUT" dead "${ORPHANS[0]}"
	wait_for "$TIMEOUT" dead "${ORPHANS[1]}"
	assert_clean
}

@test "a clean shutdown after a takeover kills an orphan that will not go" {
	start_chatd
	kill_listener
	restart_listener
	STOPPED=${ORPHANS[1]}
	kill -STOP "$STOPPED"
	kill -TERM "$CHATD_PID"
	expect alice "* server shutting down"
	expect_eof alice
	# The grace period (5 seconds), then SIGKILL, which a stopped
	# process cannot ignore.
	wait_for 20 not_running "$CHATD_PID"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	dead "$STOPPED"
	STOPPED=
	grep -q "killing 1 workers that did not exit" "$LOG2"
	assert_clean
}
