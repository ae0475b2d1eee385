#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Roles you can see: the process title that ps and top show
# (/proc/PID/cmdline) says "chatd: listener INSTANCE", "chatd: worker
# ADDRESS", then "chatd: NAME@ADDRESS", while the kernel's name for
# every process stays chatd; and each log line says which role speaks,
# "chatd/listener[PID]: " or "chatd/worker[PID]: ".

load helpers

bats_require_minimum_version 1.5.0

setup() {
	SUPER_PID=
	INETD_PID=
}

teardown() {
	stop_chatd
	if [ -n "$SUPER_PID" ]; then
		stop_pid 15 "$SUPER_PID"
	fi
	if [ -n "$INETD_PID" ]; then
		wait_for 15 dead "$INETD_PID" ||
		    kill -KILL "$INETD_PID" 2>/dev/null || true
		rm -f "/dev/shm/chatd.$INSTANCE"
	fi
	assert_no_sanitizer_report
}

# The title of process $1 in TITLE: its /proc/PID/cmdline up to the
# first NUL. Fails unless all that follows is NULs: the old arguments
# and environment are cleared.
title_of() {
	local rest
	TITLE=
	IFS= read -r -d '' TITLE <"/proc/$1/cmdline" || return 1
	rest=$(tail -c +$((${#TITLE} + 2)) "/proc/$1/cmdline" | tr -d '\0')
	[ -z "$rest" ] || {
		echo "process $1: after its title '$TITLE' comes '$rest'" >&2
		return 1
	}
}

# Process $1's title is exactly $2.
title_is() {
	title_of "$1" || return 1
	[ "$TITLE" = "$2" ] || {
		printf 'process %s: title: %s\n         expected: %s\n' "$1" \
		    "$TITLE" "$2" >&2
		return 1
	}
}

# The kernel's name for process $1 is still chatd: what pgrep -x and
# ps -C match.
comm_is_chatd() {
	[ "$(cat "/proc/$1/comm")" = chatd ] &&
	    pgrep -x chatd | grep -qx "$1" &&
	    ps -C chatd -o pid= | tr -d ' ' | grep -qx "$1"
}

# The pid of the worker that logged "connection from $1" last.
connection_pid() {
	sed -n "s/^chatd\/worker\[\([0-9]*\)\]: connection from $1\$/\1/p" \
	    "$LOG" | tail -n 1
}

@test "the listener's title is chatd: listener INSTANCE, and it is still chatd to pgrep" {
	start_chatd
	title_is "$CHATD_PID" "chatd: listener $INSTANCE"
	[ "$(ps -o args= -p "$CHATD_PID")" = "chatd: listener $INSTANCE" ]
	comm_is_chatd "$CHATD_PID"
	# The arguments are still there for SIGHUP to read again.
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" grep -qx \
	    "chatd/listener\\[$CHATD_PID\\]: SIGHUP: settings re-read" "$LOG"
	run ! grep -q "SIGHUP: .*\\(changed\\|keeping\\)" "$LOG"
	title_is "$CHATD_PID" "chatd: listener $INSTANCE"
	login alice
	stop_chatd
	[ "$STATUS" -eq 0 ]
}

@test "a worker's title: worker ADDRESS, then NAME@ADDRESS, renamed by /nick" {
	local pid
	start_chatd
	open_client alice
	pid=$(connection_pid 127.0.0.1)
	[ -n "$pid" ]
	title_is "$pid" "chatd: worker 127.0.0.1"
	comm_is_chatd "$pid"
	# A name refused never reaches the title.
	say alice $'\e]0;evil\a'
	expect alice "! invalid name: must start with a letter"
	expect alice "Enter your name:"
	say alice "alice"
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	title_is "$pid" "chatd: alice@127.0.0.1"
	say alice "/nick no/slash"
	expect alice "! invalid name: use only letters, digits, _ and -"
	title_is "$pid" "chatd: alice@127.0.0.1"
	say alice "/nick Bob_2-x"
	expect alice "* you are now known as Bob_2-x"
	title_is "$pid" "chatd: Bob_2-x@127.0.0.1"
	# The listener's own title is its own.
	title_is "$CHATD_PID" "chatd: listener $INSTANCE"
}

@test "a worker over IPv6: worker ::1, then NAME@::1" {
	have_ipv6_loopback || skip "no ::1"
	start_chatd -l ::1
	connect6 alice
	expect_re alice '^\* Welcome to chatd! 0 users online\.$'
	expect alice "Enter your name:"
	wait_for "$TIMEOUT" test -n "$(connection_pid ::1)"
	title_is "$(connection_pid ::1)" "chatd: worker ::1"
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	title_is "$(connection_pid ::1)" "chatd: alice@::1"
}

@test "log lines name their role: chatd/listener[PID] and chatd/worker[PID]" {
	local listener alice bob
	start_chatd
	listener=$CHATD_PID
	login_all alice bob
	alice=$(worker_pid alice)
	bob=$(worker_pid bob)
	[ -n "$alice" ] && [ -n "$bob" ] && [ "$alice" != "$bob" ]
	say alice "/quit"
	expect alice "* Goodbye, alice."
	wait_for "$TIMEOUT" grep -qx \
	    "chatd/worker\\[$alice\\]: alice left () after [0-9]* wake-ups" \
	    "$LOG"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	grep -qx "chatd/listener\\[$listener\\]: listening on 127.0.0.1 port $PORT" \
	    "$LOG"
	grep -qx "chatd/listener\\[$listener\\]: created shared memory /chatd.$INSTANCE" \
	    "$LOG"
	grep -qx "chatd/worker\\[$alice\\]: connection from 127.0.0.1" "$LOG"
	grep -qx "chatd/worker\\[$bob\\]: 127.0.0.1 registered as bob" "$LOG"
	grep -qx "chatd/listener\\[$listener\\]: shutting down" "$LOG"
	# Every line has a role; the listener's pid is the listener's only.
	run ! grep -vE "^chatd/(listener\\[$listener\\]|worker\\[[0-9]+\\]): " \
	    "$LOG"
	run ! grep -E "^chatd/worker\\[$listener\\]" "$LOG"
}

@test "-d: the starter and the daemon are both chatd: listener INSTANCE" {
	local starter lk daemon
	need flock util-linux || return 1
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	# The instance directory's lock keeps the daemon from making the
	# segment, so the starter waits for it (as in daemon.bats).
	mkdir -m 700 "$RUNDIR" "$RUNDIR/$INSTANCE"
	exec {lk}<"$RUNDIR/$INSTANCE"
	flock -x "$lk"
	"$CHATD" -d -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    --pidfile "$BATS_TEST_TMPDIR/chatd.pid" 2>"$LOG" 3>&- {lk}<&- &
	starter=$!
	wait_for "$TIMEOUT" test -s "$BATS_TEST_TMPDIR/chatd.pid"
	daemon=$(cat "$BATS_TEST_TMPDIR/chatd.pid")
	CHATD_PID=$daemon	# stopped by teardown whatever happens
	title_is "$starter" "chatd: listener $INSTANCE"
	title_is "$daemon" "chatd: listener $INSTANCE"
	comm_is_chatd "$daemon"
	exec {lk}<&-
	STATUS=0
	wait "$starter" || STATUS=$?
	[ "$STATUS" -eq 0 ]
	grep -qE "^chatd/listener\\[$starter\\]: listening on 127.0.0.1 port [0-9]+\$" \
	    "$LOG"
	kill -TERM "$daemon"
	wait_for "$TIMEOUT" dead "$daemon"
	CHATD_PID=
}

# systemd-socket-activate --accept --inetd, as systemd runs
# contrib/chatd@.service for a socket with Accept=yes: one chatd -i per
# connection, with the connection on its standard input and output.
start_inetd() {
	need systemd-socket-activate systemd || return 1
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	mkdir -p -m 700 "$RUNDIR"
	activate_inetd "$CHATD" -i --run-dir="$RUNDIR" -v
}

@test "chatd -i: the worker's title and log lines are a worker's from the start" {
	local pid
	start_inetd
	open_client carol
	pid=$(connection_pid 127.0.0.1)
	[ -n "$pid" ]
	INETD_PID=$pid
	[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$SUPER_PID" ]
	title_is "$pid" "chatd: worker 127.0.0.1"
	comm_is_chatd "$pid"
	say carol carol
	expect carol "* Hello, carol! You are in lobby. Type /help for commands."
	expect carol "* You are the operator."
	title_is "$pid" "chatd: carol@127.0.0.1"
	say carol "/nick dave"
	expect carol "* you are now known as dave"
	title_is "$pid" "chatd: dave@127.0.0.1"
	say carol "/quit"
	expect carol "* Goodbye, dave."
	expect_eof carol
	wait_for "$TIMEOUT" dead "$pid"
	# There is no listener: the segment is made and removed by a worker.
	grep -qx "chatd/worker\\[$pid\\]: created shared memory /chatd.$INSTANCE" \
	    "$LOG"
	grep -qx "chatd/worker\\[$pid\\]: 127.0.0.1 registered as carol" "$LOG"
	grep -qx "chatd/worker\\[$pid\\]: last one out: removing shared memory /chatd.$INSTANCE" \
	    "$LOG"
	[ -z "$(grep -E '^chatd' "$LOG" | grep -vE "^chatd/worker\\[$pid\\]: ")" ]
}

# A configuration file called just "c" in the test's directory, so that
# chatd can be started with the shortest arguments: "c -f c".
short_argv_conf() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	mkdir -m 700 "$RUNDIR"
	printf '%s\n' "port = 0" "listen = 127.0.0.1" "instance = $INSTANCE" \
	    "run-dir = $RUNDIR" "verbose = yes" "rate = 0" \
	    >"$BATS_TEST_TMPDIR/c"
}

@test "a title longer than the arguments' space is cut to it" {
	short_argv_conf
	# "c", "-f", "c" and no environment: 7 bytes for the title, the
	# last of them its NUL.
	(cd "$BATS_TEST_TMPDIR" && exec -c -a c "$CHATD" -f c) 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" logged_port
	title_is "$CHATD_PID" "chatd:"
	# The space's last NUL is still there: the kernel shows the 7
	# bytes as they are, and did not read on past them.
	[ "$(wc -c <"/proc/$CHATD_PID/cmdline")" -eq 7 ]
	[ "$(wc -c <"/proc/$CHATD_PID/environ")" -eq 0 ]
	comm_is_chatd "$CHATD_PID"
	login alice
	title_is "$(worker_pid alice)" "chatd:"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a title longer than the arguments runs on over the old environment" {
	short_argv_conf
	# "c", "-f" and "c" again, then the environment, this variable in it.
	(cd "$BATS_TEST_TMPDIR" && export CHATD_ROLES_TEST="$(repeat 200 x)" &&
	    exec -a c "$CHATD" -f c) 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" logged_port
	title_is "$CHATD_PID" "chatd: listener $INSTANCE"
	# Past the arguments' last NUL, the kernel shows the title alone.
	[ "$(wc -c <"/proc/$CHATD_PID/cmdline")" -eq $((${#TITLE} + 1)) ]
	login alice
	title_is "$(worker_pid alice)" "chatd: alice@127.0.0.1"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}
