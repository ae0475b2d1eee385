#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Readiness (chatd(8), "Readiness"): the standalone listener tells a
# service manager through $NOTIFY_SOCKET that it is ready, reloading or
# stopping, its users and rooms, and pings the watchdog. tests/notifysink
# plays systemd's end of the socket; on READY=1 it checks at once that
# the port accepts and the segment exists, as a client systemd let in
# would need.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	SINK=$BATS_TEST_TMPDIR/notify.sock
	SINKOUT=$BATS_TEST_TMPDIR/notify.out
	SINK_PID=
	SINK2_PID=
	CHATD2_PID=
}

teardown() {
	stop_chatd
	if [ -n "$CHATD2_PID" ]; then
		stop_pid 15 "$CHATD2_PID"
	fi
	for pid in $SINK_PID $SINK2_PID; do
		stop_pid 5 "$pid"
	done
	assert_no_sanitizer_report
}

# Starts tests/notifysink on socket $1 writing to $2, for chatd on PORT
# and its segment; sets SINK_PID once it listens.
start_sink() {
	"$TESTBIN/notifysink" "$1" "$PORT" "/dev/shm/chatd.$INSTANCE" \
	    >"$2" 2>"$2.err" &
	SINK_PID=$!
	wait_for "$TIMEOUT" grep -q '^listening$' "$2.err"
}

# Whether chatd logged its port, or died (a port somebody took).
port_logged_or_dead() {
	grep -q "listening on 127.0.0.1 port $PORT\$" "$LOG" ||
	    dead "$CHATD_PID"
}

# Starts chatd on a port of our choosing (the sink must know it before
# READY=1 comes) with NOTIFY_SOCKET=$SINK, the environment given as
# VAR=VALUE words first, then chatd's options; another port if that one
# was taken. Sets CHATD_PID, PORT, INSTANCE, LOG, RUNDIR.
start_notified() {
	local envs=() try
	while [[ ${1:-} == *=* ]]; do
		envs+=("$1")
		shift
	done
	RUNDIR=$BATS_TEST_TMPDIR/run
	mkdir -p -m 700 "$RUNDIR"
	for try in 1 2 3 4 5; do
		pick_port
		INSTANCE=ready$$.$RANDOM
		LOG=$(mktemp "$BATS_TEST_TMPDIR/chatd.XXXXXX.log")
		start_sink "$SINK" "$SINKOUT" || return 1
		env NOTIFY_SOCKET="$SINK" "${envs[@]}" "$CHATD" -p "$PORT" \
		    -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
		    "${CHATD_DEFAULTS[@]}" "$@" 2>"$LOG" &
		CHATD_PID=$!
		wait_for "$TIMEOUT" port_logged_or_dead || return 1
		dead "$CHATD_PID" || return 0
		wait "$CHATD_PID" || true
		stop_pid 5 "$SINK_PID"
		rm -f "$SINK"
	done
	cat "$LOG" >&2
	return 1
}

# Whether the sink got line $1 (exactly) $2 times or more.
sink_has() {
	[ "$(grep -cx -- "$1" "$SINKOUT")" -ge "${2:-1}" ]
}

# Whether chatd logged $1 (a regular expression) $2 times or more.
logged() {
	[ "$(grep -c -- "$1" "$LOG")" -ge "${2:-1}" ]
}

@test "READY=1 once the port accepts and the segment exists, then STATUS" {
	start_notified
	wait_for "$TIMEOUT" sink_has 'READY=1'
	wait_for "$TIMEOUT" sink_has 'ready: port accepts'
	run cat "$SINKOUT"
	[ "${lines[0]}" = "READY=1" ]
	[ "${lines[1]}" = "--" ]
	[ "${lines[2]}" = "ready: port accepts" ]
	[ "${lines[3]}" = "ready: /dev/shm/chatd.$INSTANCE exists" ]
	wait_for "$TIMEOUT" sink_has 'STATUS=0 users, 1 room'
	# Kept current: a user, then another room.
	login alice
	wait_for "$TIMEOUT" sink_has 'STATUS=1 user, 1 room'
	say alice "/join den"
	expect alice "* you are now in den (1 user)"
	wait_for "$TIMEOUT" sink_has 'STATUS=1 user, 2 rooms'
	login bob
	wait_for "$TIMEOUT" sink_has 'STATUS=2 users, 2 rooms'
	# Once each: nothing is sent while the counts stand still.
	[ "$(grep -c '^READY=1$' "$SINKOUT")" -eq 1 ]
	[ "$(grep -cx 'STATUS=1 user, 1 room' "$SINKOUT")" -eq 1 ]
}

@test "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again" {
	start_notified
	wait_for "$TIMEOUT" sink_has 'STATUS=0 users, 1 room'
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" sink_has 'READY=1' 2
	wait_for "$TIMEOUT" grep -q 'SIGHUP: settings re-read' "$LOG"
	# One datagram: RELOADING=1 and the monotonic clock, in
	# microseconds; then the READY=1 that ends the reload.
	run grep -A 3 -x 'RELOADING=1' "$SINKOUT"
	[[ ${lines[1]} =~ ^MONOTONIC_USEC=[1-9][0-9]*$ ]]
	[ "${lines[2]}" = "--" ]
	[ "${lines[3]}" = "READY=1" ]
	# Its clock is the monotonic one: no more than now since boot.
	up=$(cut -d ' ' -f 1 /proc/uptime)
	[ "${lines[1]#MONOTONIC_USEC=}" -le "$(( ${up%.*} * 1000000 + 2000000 ))" ]
}

@test "a bad file at SIGHUP: still RELOADING=1 then READY=1, old settings kept" {
	local conf=$BATS_TEST_TMPDIR/chatd.conf
	printf 'history = 5\n' >"$conf"
	start_notified -f "$conf"
	wait_for "$TIMEOUT" sink_has 'READY=1'
	printf 'history = x\n' >"$conf"
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" sink_has 'READY=1' 2
	sink_has 'RELOADING=1'
	grep -q "keeping the old settings" "$LOG"
	login alice
}

@test "SIGTERM: STOPPING=1 before the server goes" {
	start_notified
	wait_for "$TIMEOUT" sink_has 'READY=1'
	login alice
	kill -TERM "$CHATD_PID"
	expect alice "* server shutting down"
	wait_for "$TIMEOUT" sink_has 'STOPPING=1'
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "WATCHDOG_USEC: WATCHDOG=1 every half of it; none without it" {
	# Without: a server beside one with the watchdog, which proves by
	# its own pings that time enough for several went by.
	start_notified
	wait_for "$TIMEOUT" sink_has 'READY=1'
	CHATD2_PID=$CHATD_PID SINK2_PID=$SINK_PID
	local quiet=$SINKOUT
	SINK=$BATS_TEST_TMPDIR/notify2.sock SINKOUT=$BATS_TEST_TMPDIR/notify2.out
	start_notified WATCHDOG_USEC=200000
	wait_for "$TIMEOUT" sink_has 'WATCHDOG=1' 5
	run ! grep -q WATCHDOG "$quiet"
	# The environment is the listener's alone: no worker inherits it.
	login alice
	pid=$(worker_pid alice)
	[ -n "$pid" ]
	run ! grep -Eqz '^(NOTIFY_SOCKET|WATCHDOG_USEC)=' "/proc/$pid/environ"
}

@test "WATCHDOG_PID of another process: no pings for it" {
	start_notified WATCHDOG_USEC=100000 WATCHDOG_PID=1
	wait_for "$TIMEOUT" sink_has 'READY=1'
	# A SIGHUP round trip takes longer than a ping would have.
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" sink_has 'READY=1' 2
	login alice
	wait_for "$TIMEOUT" sink_has 'STATUS=1 user, 1 room'
	run ! grep -q WATCHDOG "$SINKOUT"
}

@test "an abstract NOTIFY_SOCKET (@name) is reached too" {
	SINK=@chatd-test-$$-$RANDOM
	start_notified
	wait_for "$TIMEOUT" sink_has 'READY=1'
	wait_for "$TIMEOUT" sink_has 'ready: port accepts'
}

@test "nobody at NOTIFY_SOCKET: logged once, and chatd serves all the same" {
	start_notified
	wait_for "$TIMEOUT" sink_has 'READY=1'
	stop_pid 5 "$SINK_PID"
	SINK_PID=
	login alice
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" grep -q 'SIGHUP: settings re-read' "$LOG"
	wait_for "$TIMEOUT" grep -q 'cannot notify the service manager' "$LOG"
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" logged 'SIGHUP: settings re-read' 2
	[ "$(grep -c 'cannot notify the service manager' "$LOG")" -eq 1 ]
	say alice "still here"
	barrier alice
}

@test "a NOTIFY_SOCKET that is no socket name: a warning, and chatd serves" {
	RUNDIR=$BATS_TEST_TMPDIR/run
	NOTIFY_SOCKET=relative/path start_chatd
	grep -q 'NOTIFY_SOCKET=relative/path: not a socket path or @name' \
	    "$LOG"
	login alice
}
