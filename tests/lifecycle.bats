#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Start and stop: clean shutdown on SIGTERM and SIGINT, a worker or the
# whole server killed, and who owns the segment and the run directory.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	FOREIGN=
}

teardown() {
	stop_chatd
	if [ -n "$FOREIGN" ]; then
		rm -f "$FOREIGN"
	fi
}

# Whether process $1 is gone from the process table (reaped).
reaped() {
	[ ! -e "/proc/$1" ]
}

# Runs chatd on this test's instance and run directory, expecting it
# not to start: $status, $output (stdout) and $stderr.
try_chatd() {
	run --separate-stderr timeout 10 "$CHATD" -p 0 -l 127.0.0.1 \
	    -n "$INSTANCE" --run-dir "$RUNDIR" "$@"
}

# chatd refused to start with 69, naming $1 on stderr, and made no
# segment.
assert_unavailable() {
	if [ "$status" -ne 69 ]; then
		echo "exit status $status, not 69; stderr: $stderr" >&2
		return 1
	fi
	if [[ $stderr != *"$1"* ]]; then
		echo "stderr does not name $1: $stderr" >&2
		return 1
	fi
	[ ! -e "/dev/shm/chatd.$INSTANCE" ] || [ -n "$FOREIGN" ] || {
		echo "/dev/shm/chatd.$INSTANCE was created" >&2
		return 1
	}
}

# Reads $2 lines of client $1 into the array GOT.
collect() {
	local i
	GOT=()
	for ((i = 0; i < $2; i++)); do
		next_line "$1" || return 1
		GOT+=("$LINE")
	done
}

# Sends shutdown signal $1 to a server with registered and unregistered
# clients; each must hear the news and be closed.
shutdown_by() {
	start_chatd
	login_all alice bob
	open_client x
	kill "-$1" "$CHATD_PID"
	expect alice "* server shutting down"
	expect_eof alice
	expect bob "* server shutting down"
	expect_eof bob
	expect x "* server shutting down"
	expect_eof x
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "SIGTERM: every connection is told and closed, chatd exits 0, clean" {
	shutdown_by TERM
}

@test "SIGINT: every connection is told and closed, chatd exits 0, clean" {
	shutdown_by INT
}

@test "a killed worker: the room sees connection lost and keeps chatting" {
	local pid i line chat=0 notice=0
	start_chatd
	login_all alice bob carol
	pid=$(worker_pid bob)
	[ -n "$pid" ]
	for i in 1 2 3 4; do
		say alice "line $i"
	done
	kill -KILL "$pid"
	for i in 5 6 7 8; do
		say alice "line $i"
	done
	# carol gets every line in order and the notice once, wherever it
	# falls among them.
	collect carol 9
	for line in "${GOT[@]}"; do
		if [ "$line" = "* bob quit (connection lost)" ]; then
			notice=$((notice + 1))
		else
			chat=$((chat + 1))
			[ "$line" = "<alice> line $chat" ] || {
				echo "carol got: ${GOT[*]}" >&2
				return 1
			}
		fi
	done
	[ "$notice" -eq 1 ]
	[ "$chat" -eq 8 ]
	expect alice "* bob quit (connection lost)"
	# bob may have got some lines before his worker died, then the end.
	while next_line bob; do
		[[ $LINE =~ ^"<alice> line "[1-8]$ ]] || {
			echo "bob got: $LINE" >&2
			return 1
		}
	done
	expect_eof bob
	say carol "still here"
	expect alice "<carol> still here"
	login bob2 bob
	expect alice "* bob joined lobby"
	expect carol "* bob joined lobby"
	say bob2 "back"
	expect alice "<bob> back"
	expect carol "<bob> back"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

# Starts chatd again on the instance and run directory of the last one.
restart_same_instance() {
	local instance=$INSTANCE
	start_chatd -n "$instance"
	INSTANCE=$instance
}

# A new chatd on a crashed one's instance builds a new segment and
# serves from scratch, then shuts down clean.
assert_rebuilt() {
	local old=$1
	restart_same_instance
	[ "$(stat -c %i "/dev/shm/chatd.$INSTANCE")" != "$old" ] || {
		echo "the old segment was not rebuilt" >&2
		return 1
	}
	connect alice
	expect alice "* Welcome to chatd! 0 users online."
	expect alice "Enter your name:"
	say alice "alice"
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	login bob
	expect alice "* bob joined lobby"
	say bob "hello again"
	expect alice "<bob> hello again"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a crashed server's segment is rebuilt (workers killed, then the listener)" {
	local a b ino
	start_chatd
	login_all alice bob
	a=$(worker_pid alice)
	b=$(worker_pid bob)
	[ -n "$a" ] && [ -n "$b" ]
	kill -KILL "$a" "$b"
	# The listener reaps them; then it dies too.
	wait_for "$TIMEOUT" reaped "$a"
	wait_for "$TIMEOUT" reaped "$b"
	kill -KILL "$CHATD_PID"
	wait "$CHATD_PID" || true
	CHATD_PID=
	disconnect alice
	disconnect bob
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	ino=$(stat -c %i "/dev/shm/chatd.$INSTANCE")
	assert_rebuilt "$ino"
}

@test "a crashed server's segment is rebuilt (the listener killed, then workers)" {
	local a b ino
	start_chatd
	login_all alice bob
	a=$(worker_pid alice)
	b=$(worker_pid bob)
	[ -n "$a" ] && [ -n "$b" ]
	kill -KILL "$CHATD_PID"
	wait "$CHATD_PID" || true
	CHATD_PID=
	kill -KILL "$a" "$b"
	wait_for "$TIMEOUT" dead "$a"
	wait_for "$TIMEOUT" dead "$b"
	disconnect alice
	disconnect bob
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	ino=$(stat -c %i "/dev/shm/chatd.$INSTANCE")
	assert_rebuilt "$ino"
}

@test "a segment owned by another user: exit 69 naming it, left alone" {
	mkdir -m 700 "$RUNDIR"
	FOREIGN=/dev/shm/chatd.$INSTANCE
	head -c 4096 /dev/zero >"$FOREIGN"
	chmod 600 "$FOREIGN"
	chown nobody "$FOREIGN"
	try_chatd
	assert_unavailable "chatd.$INSTANCE"
	[ "$(stat -c %U "$FOREIGN")" = nobody ]
	[ "$(stat -c %s "$FOREIGN")" -eq 4096 ]
}

@test "a run directory owned by another user: exit 69 naming it" {
	mkdir -m 700 "$RUNDIR"
	chown nobody "$RUNDIR"
	try_chatd
	assert_unavailable "$RUNDIR"
	[ -z "$(ls -A "$RUNDIR")" ]
}

@test "a run directory with mode 0755: exit 69 naming it" {
	mkdir -m 755 "$RUNDIR"
	try_chatd
	assert_unavailable "$RUNDIR"
	[ -z "$(ls -A "$RUNDIR")" ]
}

@test "a symlink in place of the run directory: exit 69 naming it" {
	mkdir -m 700 "$BATS_TEST_TMPDIR/real"
	ln -s real "$RUNDIR"
	try_chatd
	assert_unavailable "$RUNDIR"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/real")" ]
}

@test "a symlink in place of the instance directory: exit 69 naming it" {
	mkdir -m 700 "$RUNDIR" "$BATS_TEST_TMPDIR/real"
	ln -s ../real "$RUNDIR/$INSTANCE"
	try_chatd
	assert_unavailable "$RUNDIR/$INSTANCE"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/real")" ]
	[ -L "$RUNDIR/$INSTANCE" ]
}

@test "an instance directory owned by another user: exit 69 naming it" {
	mkdir -m 700 "$RUNDIR" "$RUNDIR/$INSTANCE"
	chown nobody "$RUNDIR/$INSTANCE"
	try_chatd
	assert_unavailable "$RUNDIR/$INSTANCE"
	[ -z "$(ls -A "$RUNDIR/$INSTANCE")" ]
}

@test "while running, the segment is 0600 and the instance directory 0700" {
	start_chatd
	login alice
	[ "$(stat -c %a:%u "/dev/shm/chatd.$INSTANCE")" = "600:$(id -u)" ]
	[ "$(stat -c %a:%u "$RUNDIR/$INSTANCE")" = "700:$(id -u)" ]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a missing run directory is created 0700" {
	local fresh=$BATS_TEST_TMPDIR/fresh
	start_chatd --run-dir "$fresh"
	RUNDIR=$fresh
	login alice
	[ "$(stat -c %a:%u "$RUNDIR")" = "700:$(id -u)" ]
	[ "$(stat -c %a:%u "$RUNDIR/$INSTANCE")" = "700:$(id -u)" ]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "SIGTERM as soon as chatd says it is listening: exit 0, clean" {
	local i pid err line fifo=$BATS_TEST_TMPDIR/stderr
	mkdir -m 700 "$RUNDIR"
	mkfifo "$fifo"
	# The window between the "listening on" line and the signal
	# handlers being in place is short: read the line from a pipe, not
	# by polling a file, and try many times.
	for i in {1..50}; do
		INSTANCE=test$$.${BATS_TEST_NUMBER}.$i.$RANDOM
		"$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
		    2>"$fifo" &
		pid=$!
		exec {err}<"$fifo"
		IFS= read -r -t "$TIMEOUT" -u "$err" line || true
		kill -TERM "$pid"
		wait_for 15 not_running "$pid" || kill -KILL "$pid"
		wait "$pid" && STATUS=0 || STATUS=$?
		exec {err}<&-
		if [[ $line != *"listening on"* ]] || [ "$STATUS" -ne 0 ] ||
		    ! assert_clean; then
			echo "attempt $i: first line '$line', exit $STATUS" >&2
			rm -f "/dev/shm/chatd.$INSTANCE"
			rm -rf "${RUNDIR:?}/$INSTANCE"
			return 1
		fi
	done
}

# The pipes a process holds open in the instance's directory.
pipes_of() {
	local fd n=0
	for fd in /proc/"$1"/fd/*; do
		case $(readlink "$fd") in
		"$RUNDIR/$INSTANCE/w"*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

@test "a worker holds no wake-up pipes but its own two ends" {
	start_chatd
	login_all alice bob
	login carol
	expect alice "* carol joined lobby"
	# The listener wakes everybody when it buries carol, and so opens
	# their pipes; a worker forked after that must not inherit them.
	kill -KILL "$(worker_pid carol)"
	expect alice "* carol quit (connection lost)"
	# dave has woken nobody yet: every pipe it holds was inherited.
	open_client dave
	local pid
	pid=$(sed -n 's/^chatd\/worker\[\([0-9]*\)\]: connection from .*/\1/p' "$LOG" |
	    tail -n 1)
	[ "$(pipes_of "$pid")" -eq 2 ]
}
