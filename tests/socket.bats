#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Socket activation (systemd's Accept=no): chatd takes the listening
# sockets passed as LISTEN_FDS. contrib/chatd.service (made by make
# from contrib/chatd.service.in) and chatd.socket are tested by running
# the unit's own ExecStart= under systemd-socket-activate, as systemd
# would.

load helpers

bats_require_minimum_version 1.5.0

UNITS=$BATS_TEST_DIRNAME/../contrib
# The units make generates, with configure's paths, are in the build tree.
BUILT_UNITS=$TESTBIN/../contrib

setup() {
	command -v systemd-socket-activate >/dev/null ||
	    skip "no systemd-socket-activate"
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	# Somewhere the service's user can reach: test directories are 0700.
	TESTROOT=$(mktemp -d /tmp/chatd-socket.XXXXXX)
	chmod 755 "$TESTROOT"
	RUNDIR=$TESTROOT/run
	STATEDIR=$TESTROOT/state
	LOG=$BATS_TEST_TMPDIR/chatd.log
	SA_PID=
	SA_SOCKETS=(-l "127.0.0.1:%d")
	RUN_AS=()
}

teardown() {
	local rc=0
	stop_activated
	assert_no_sanitizer_report || rc=1
	rm -f "/dev/shm/chatd.$INSTANCE"
	rm -rf "$TESTROOT"
	return "$rc"
}

# A unit of contrib, as installed: generated, or as it is.
unit_file() {
	if [ -f "$BUILT_UNITS/$1" ]; then
		echo "$BUILT_UNITS/$1"
	else
		echo "$UNITS/$1"
	fi
}

# A [Service] or [Socket] setting of a unit in contrib: unit, key.
unit_value() {
	sed -n "s/^$2=//p" "$(unit_file "$1")"
}

# The unit's programs made this build's: chatd wherever configure put it.
unit_here() {
	sed "s|[^ =]*/sbin/chatd |$CHATD |" "$(unit_file "$1")"
}

# The ExecStart= of chatd.service made to run here: this build's chatd
# and this test's directories, then "$@". The result is in CMD.
service_command() {
	local line
	line=$(unit_here chatd.service | sed -n 's/^ExecStart=//p')
	line=${line//\/var\/lib\/chatd/$STATEDIR}
	line=${line//\/run\/chatd/$RUNDIR}
	read -r -a CMD <<<"$line"
	CMD+=("$@")
}

# What systemd does before ExecStart=: as root, the unit's User= is
# played by nobody (RUN_AS), and the runtime and state directories are
# made with the unit's modes, owned by that user.
service_user() {
	local owner=()
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
		RUN_AS=(setpriv --reuid=nobody --regid="$(id -g nobody)"
		    --init-groups)
		owner=(-o nobody -g "$(id -g nobody)")
	fi
	install -d -m "$(unit_value chatd.service RuntimeDirectoryMode)" \
	    "${owner[@]}" "$RUNDIR"
	install -d -m "$(unit_value chatd.service StateDirectoryMode)" \
	    "${owner[@]}" "$STATEDIR"
}

# systemd-socket-activate has bound its sockets, or given up.
activator_ready() {
	grep -q "^Listening on .* as $((2 + ${#SA_SOCKETS[@]} / 2))\.\$" \
	    "$LOG" || dead "$SA_PID"
}

# Runs "$@" under systemd-socket-activate with the sockets SA_SOCKETS
# (-l options; %d is the port) on a free port, PORT: it execs "$@" at
# the first connection, with the sockets as descriptors 3 and up. A port
# that turns out to be taken is tried again with another.
start_activated() {
	local try opts
	for try in 1 2 3 4 5 6 7 8 9 10; do
		PORT=$((20000 + RANDOM % 10000))
		opts=("${SA_SOCKETS[@]//%d/$PORT}")
		systemd-socket-activate "${opts[@]}" "$@" 2>"$LOG" 3>&- &
		SA_PID=$!
		wait_for "$TIMEOUT" activator_ready || return 1
		dead "$SA_PID" || return 0
		wait "$SA_PID" || true
		SA_PID=
	done
	echo "no free port in 10 tries:" >&2
	cat "$LOG" >&2
	return 1
}

stop_activated() {
	[ -n "$SA_PID" ] || return 0
	stop_pid 15 "$SA_PID"
	SA_PID=
	close_clients
}

# chatd (the process systemd-socket-activate became) logged that it
# listens on passed socket $1.
chatd_listening() {
	wait_for "$TIMEOUT" grep -q "^chatd/listener\[$SA_PID\]: listening on $1 port $PORT\$" \
	    "$LOG" || {
		cat "$LOG" >&2
		return 1
	}
}

@test "the units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	mkdir "$TESTROOT/units"
	unit_here chatd.service >"$TESTROOT/units/chatd.service"
	cp "$UNITS/chatd.socket" "$TESTROOT/units/"
	run systemd-analyze verify --man=no "$TESTROOT/units/chatd.socket" \
	    "$TESTROOT/units/chatd.service"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || {
		echo "$output" >&2
		return 1
	}
}

@test "chatd.socket's settings: Accept=no, port 9000; the service notifies" {
	[ "$(unit_value chatd.socket Accept)" = no ]
	[ "$(unit_value chatd.socket ListenStream)" = 9000 ]
	[ "$(unit_value chatd.service Type)" = notify ]
	[ -n "$(unit_value chatd.service WatchdogSec)" ]
	# The file is checked before a start and before a reload, whose
	# SIGHUP the server answers with RELOADING=1 and READY=1.
	[ "$(unit_value chatd.service ExecStartPre)" = "$(unit_value chatd.service ExecStart | sed 's|/chatd |/chatd -t |')" ]
	unit_value chatd.service ExecReload | grep -qx '.*/chatd -t .*'
	unit_value chatd.service ExecReload | grep -qx '/bin/kill -HUP \$MAINPID'
}

@test "chatd.service's ExecStart, socket-activated: clients chat, SIGTERM cleans up" {
	service_command -v
	service_user
	start_activated "${RUN_AS[@]}" "${CMD[@]}"
	# The first connection starts chatd.
	login alice
	chatd_listening 127.0.0.1
	# No -n: the instance is named after the passed socket's port.
	INSTANCE=$PORT
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	run ! grep -q "ignored" "$LOG"
	login bob
	expect alice "* bob joined lobby"
	say bob "hello alice"
	expect alice "<bob> hello alice"
	# chatd is the main process, as the unit's user.
	[ "$(readlink "/proc/$SA_PID/exe")" = "$(readlink -f "$CHATD")" ]
	if [ "${#RUN_AS[@]}" -gt 0 ]; then
		grep -Eq "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]" \
		    "/proc/$SA_PID/status"
	fi
	kill -TERM "$SA_PID"
	expect alice "* server shutting down"
	expect_eof alice
	expect bob "* server shutting down"
	expect_eof bob
	stop_activated
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "passed sockets: -l and -p are ignored, and the log says so" {
	start_activated "$CHATD" -n "$INSTANCE" --run-dir "$RUNDIR" \
	    -l 192.0.2.1 -p 1
	login alice
	chatd_listening 127.0.0.1
	grep -q "^chatd/listener\[$SA_PID\]: -l and -p are ignored: the service manager passed the sockets\$" \
	    "$LOG"
	run ! grep -q "port 1\$" "$LOG"
	stop_activated
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "passed sockets: IPv4 and IPv6, one chatd serves both" {
	have_ipv6_loopback || skip "no ::1"
	SA_SOCKETS=(-l "127.0.0.1:%d" -l "[::1]:%d")
	start_activated "$CHATD" -n "$INSTANCE" --run-dir "$RUNDIR"
	login alice
	chatd_listening 127.0.0.1
	chatd_listening ::1
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	say bob bob
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect alice "* bob joined lobby"
	say bob "over IPv6"
	expect alice "<bob> over IPv6"
	stop_activated
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "LISTEN_PID of another process: chatd binds its own sockets" {
	LISTEN_PID=1 LISTEN_FDS=1 start_chatd
	grep -q "^chatd/listener\[$CHATD_PID\]: listening on 127.0.0.1 port $PORT\$" \
	    "$LOG"
	login alice
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

# Runs chatd with LISTEN_PID naming it and LISTEN_FDS=$1; descriptor 3
# is whatever the caller redirects.
run_passed() {
	local n=$1
	shift
	run --separate-stderr env LISTEN_FDS="$n" sh -c \
	    'LISTEN_PID=$$ exec "$@"' sh "$CHATD" -n "$INSTANCE" \
	    --run-dir "$RUNDIR" "$@"
}

@test "passed descriptors that are no listening TCP socket: exit 69" {
	run_passed 1 3</dev/null
	[ "$status" -eq 69 ]
	[[ $stderr =~ ^chatd/listener\[[0-9]+\]:\ descriptor\ 3\ from\ the\ service\ manager\ is\ not\ a\ listening\ TCP\ socket$ ]]
	run_passed x 3</dev/null
	[ "$status" -eq 69 ]
	[[ $stderr =~ ^chatd/listener\[[0-9]+\]:\ LISTEN_FDS=x:\ not\ a\ number\ of\ sockets\ from\ 0\ to\ 32$ ]]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}
