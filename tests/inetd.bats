#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# inetd mode (-i) under the real programs that start it: xinetd, with a
# configuration made from contrib/xinetd.d/chatd, and
# systemd-socket-activate --inetd, with the command line of
# contrib/chatd@.service and the socket of contrib/accept/chatd.socket.
# Every connection is its own chatd -i process; the instances find each
# other by instance name (the port) and the last one out removes the
# segment and the run directory's entries.

load helpers

bats_require_minimum_version 1.5.0

CONTRIB=$BATS_TEST_DIRNAME/../contrib
# chatd@.service is made by make from chatd@.service.in, in the build tree.
BUILT_UNITS=$TESTBIN/../contrib

setup() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	SUPER_PID=
	SEEN_PIDS=
	mkdir -m 700 "$RUNDIR"
	: >"$LOG"
}

# Stops the super-server, then waits for the instances it started (our
# clients are closed, so they end), killing any that do not.
teardown() {
	local name pid
	[ -z "$SUPER_PID" ] || SEEN_PIDS="$SEEN_PIDS $(children)"
	close_clients
	if [ -n "$SUPER_PID" ]; then
		kill -TERM "$SUPER_PID" 2>/dev/null || true
		wait_for 15 not_running "$SUPER_PID" ||
		    kill -KILL "$SUPER_PID" 2>/dev/null || true
		wait "$SUPER_PID" 2>/dev/null || true
	fi
	for pid in $SEEN_PIDS; do
		wait_for 15 dead "$pid" ||
		    kill -KILL "$pid" 2>/dev/null || true
	done
	if [ -n "${INSTANCE:-}" ]; then
		rm -f "/dev/shm/chatd.$INSTANCE"
	fi
	assert_no_sanitizer_report
}

# The configuration xinetd gets: contrib/xinetd.d/chatd with this test's
# port, chatd, run directory and user, bound to the loopback address,
# with $1 added to server_args.
xinetd_conf() {
	sed -e "s|^\([[:space:]]*port[[:space:]]*=\).*|\1 $PORT|" \
	    -e "s|^\([[:space:]]*user[[:space:]]*=\).*|\1 $(id -un)|" \
	    -e "s|/usr/local/sbin/chatd|$CHATD|" \
	    -e "s|--run-dir=/run/chatd|--run-dir=$RUNDIR${1:+ $1}|" \
	    -e "s|^}|\tbind\t\t= 127.0.0.1\n}|" \
	    "$CONTRIB/xinetd.d/chatd"
}

# Starts xinetd in the foreground on a free port with our service, $1
# added to chatd's options.
start_xinetd() {
	local try conf=$BATS_TEST_TMPDIR/xinetd.conf
	local xlog=$BATS_TEST_TMPDIR/xinetd.log
	need xinetd xinetd || return 1
	for try in 1 2 3 4 5; do
		pick_port
		xinetd_conf "${1:-}" >"$conf"
		grep -q "server_args.*-i --run-dir=$RUNDIR" "$conf" || {
			echo "contrib/xinetd.d/chatd: no server_args to test" >&2
			return 1
		}
		: >"$xlog"
		xinetd -dontfork -f "$conf" -pidfile "$BATS_TEST_TMPDIR/xinetd.pid" \
		    -filelog "$xlog" &
		SUPER_PID=$!
		wait_for "$TIMEOUT" grep -q 'Started working' "$xlog" || {
			cat "$xlog" >&2
			return 1
		}
		if grep -q 'Started working: 1 available service' "$xlog"; then
			# The shipped file must parse without a complaint.
			! grep -E 'ERROR|WARNING' "$xlog" >&2 || return 1
			return 0
		fi
		# The port was taken after all: another one.
		kill -TERM "$SUPER_PID"
		wait "$SUPER_PID" || true
		SUPER_PID=
	done
	cat "$xlog" >&2
	return 1
}

# The command line of contrib/chatd@.service, for this test's chatd and
# run directory.
unit_command() {
	sed -n 's/^ExecStart=//p' "$BUILT_UNITS/chatd@.service" |
	    sed -e "s|^[^ ]*/sbin/chatd |$CHATD |" \
	    -e "s|--run-dir=/run/chatd|--run-dir=$RUNDIR|"
}

# What systemd-socket-activate --accept --inetd -l PORT stands for:
# a socket unit with Accept=yes on the port, starting the template unit
# with the connection on its standard input and output.
check_units() {
	local line
	for line in 'Accept=yes' 'ListenStream=9000'; do
		grep -qx "$line" "$CONTRIB/accept/chatd.socket" || {
			echo "contrib/accept/chatd.socket lacks $line" >&2
			return 1
		}
	done
	for line in 'StandardInput=socket' 'StandardOutput=socket'; do
		grep -qx "$line" "$BUILT_UNITS/chatd@.service" || {
			echo "contrib/chatd@.service lacks $line" >&2
			return 1
		}
	done
}

# Starts systemd-socket-activate the way chatd.socket (Accept=yes) and
# chatd@.service would have systemd start chatd, on a free port, with
# $@ added to chatd's options. chatd logs to $LOG.
start_activate() {
	local cmd
	need systemd-socket-activate systemd || return 1
	check_units || return 1
	cmd=$(unit_command)
	[[ $cmd == "$CHATD -i --run-dir=$RUNDIR" ]] || {
		echo "unexpected ExecStart in contrib/chatd@.service: $cmd" >&2
		return 1
	}
	# shellcheck disable=SC2086 # the unit's words, as systemd splits
	activate_inetd $cmd -v "$@"
}

start_super() {
	local kind=$1
	shift
	case $kind in
	xinetd) start_xinetd "$*" ;;
	activate) start_activate "$@" ;;
	esac
}

# The processes the super-server started that are still around.
children() {
	ps -o pid= --ppid "$SUPER_PID" | tr -d ' ' | sort
}

declare -gA PID

# Connects client $1 and remembers the chatd instance serving it: the
# one child of the super-server that was not there before.
open_instance() {
	local before new
	before=$(children)
	open_client "$1" || return 1
	new=$(comm -13 <(echo "$before") <(children))
	[ "$(echo "$new" | wc -w)" -eq 1 ] || {
		echo "$1: not one new instance: '$new'" >&2
		return 1
	}
	PID[$1]=$new
	SEEN_PIDS="$SEEN_PIDS $new"
}

# Like login_all, each client served by an instance of its own.
login_instances() {
	local i j names=("$@")
	for ((i = 0; i < ${#names[@]}; i++)); do
		open_instance "${names[i]}" || return 1
		say "${names[i]}" "${names[i]}"
		expect "${names[i]}" "* Hello, ${names[i]}! You are in lobby. Type /help for commands." ||
		    return 1
		if [ "${ONLINE[${names[i]}]}" -eq 0 ]; then
			expect "${names[i]}" "* You are the operator." ||
			    return 1
		fi
		for ((j = 0; j < i; j++)); do
			expect "${names[j]}" "* ${names[i]} joined lobby" ||
			    return 1
		done
	done
}

segment_gone() {
	[ ! -e "/dev/shm/chatd.$INSTANCE" ] && [ -z "$(ls -A "$RUNDIR")" ]
}

# The last instance has left: no segment, no FIFO, no instance directory.
assert_gone() {
	wait_for "$TIMEOUT" segment_gone || {
		assert_clean
		return 1
	}
}

# Everyone says a line and the others get it; every client has its own
# process; when they all leave, nothing is left behind.
chat_through() {
	local pid
	start_super "$1"
	login_instances alice bob carol
	[ "${PID[alice]}" != "${PID[bob]}" ] && [ "${PID[bob]}" != "${PID[carol]}" ]
	for pid in "${PID[@]}"; do
		[ "$(cat "/proc/$pid/comm")" = chatd ]
	done
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	[ -p "$RUNDIR/$INSTANCE/w0" ]
	say alice "hello from alice"
	expect bob "<alice> hello from alice"
	expect carol "<alice> hello from alice"
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect alice "* carol left lobby"
	expect bob "* carol left lobby"
	say bob "/dm carol psst"
	expect bob "-> *carol* psst"
	expect carol "*bob* psst"
	say alice "/users"
	expect alice "* 3 users online"
	expect alice "* alice (lobby) [op]"
	expect alice "* bob (lobby)"
	expect alice "* carol (dev)"
	say alice "/quit bye"
	expect alice "* Goodbye, alice."
	expect_eof alice
	expect bob "* alice quit (bye)"
	expect bob "* You are now the operator."
	disconnect bob
	expect carol "* You are now the operator."
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	say carol "/quit"
	expect carol "* Goodbye, carol."
	expect_eof carol
	assert_gone
	wait_for "$TIMEOUT" dead "${PID[carol]}"
}

@test "xinetd: several clients chat, each through its own chatd -i" {
	chat_through xinetd
}

@test "systemd-socket-activate --inetd: several clients chat, each its own chatd -i" {
	chat_through activate
	grep -q "created shared memory /chatd.$INSTANCE" "$LOG"
	grep -q "last one out: removing shared memory /chatd.$INSTANCE" "$LOG"
}

# An instance killed with SIGKILL is found by the next wake-up of its
# pipe (a line in its room) or, failing that, by the next instance to
# start; its room hears "connection lost" once.
kill_noticed() {
	start_super "$1"
	login_instances alice bob carol
	kill -KILL "${PID[bob]}"
	wait_for "$TIMEOUT" dead "${PID[bob]}"
	say alice "anyone there?"
	expect carol "<alice> anyone there?"
	expect carol "* bob quit (connection lost)"
	expect alice "* bob quit (connection lost)"
	# carol, alone in dev, is killed: nobody wakes her pipe, but a
	# listing looks for the dead first.
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect alice "* carol left lobby"
	kill -KILL "${PID[carol]}"
	wait_for "$TIMEOUT" dead "${PID[carol]}"
	say alice "/users"
	expect alice "* 1 user online"
	expect alice "* alice (lobby) [op]"
	open_instance dave
	[ "${ONLINE[dave]}" -eq 1 ]
	say dave "dave"
	expect dave "* Hello, dave! You are in lobby. Type /help for commands."
	expect alice "* dave joined lobby"
	say dave "hi"
	expect alice "<dave> hi"
	disconnect alice
	disconnect dave
	assert_gone
}

@test "xinetd: kill -9 of one instance is noticed, the others chat on" {
	kill_noticed xinetd
}

@test "systemd-socket-activate --inetd: kill -9 of one instance is noticed" {
	kill_noticed activate
}

# Many clients connect at the same moment: one segment is made, and
# everybody is in it.
at_once() {
	local i j n=10
	start_super "$1"
	for ((i = 0; i < n; i++)); do
		connect "u$i"
	done
	for ((i = 0; i < n; i++)); do
		expect_re "u$i" '^\* Welcome to chatd! 0 users online\.$'
		expect "u$i" "Enter your name:"
	done
	for ((i = 0; i < n; i++)); do
		say "u$i" "u$i"
		expect "u$i" "* Hello, u$i! You are in lobby. Type /help for commands."
		[ "$i" -gt 0 ] || expect u0 "* You are the operator."
		for ((j = 0; j < i; j++)); do
			expect "u$j" "* u$i joined lobby"
		done
	done
	say u0 "/users"
	expect u0 "* $n users online"
	expect u0 "* u0 (lobby) [op]"
	for ((i = 1; i < n; i++)); do
		expect u0 "* u$i (lobby)"
	done
	say "u$((n - 1))" "last word"
	for ((i = 0; i < n - 1; i++)); do
		expect "u$i" "<u$((n - 1))> last word"
	done
	for ((i = 0; i < n; i++)); do
		disconnect "u$i"
	done
	assert_gone
}

@test "xinetd: clients connecting at once share one segment" {
	at_once xinetd
}

@test "systemd-socket-activate --inetd: many at once initialise the segment once" {
	at_once activate
	[ "$(grep -c "created shared memory /chatd.$INSTANCE" "$LOG")" -eq 1 ]
	run ! grep -q "removing stale" "$LOG"
}

# The last instance killed leaves its segment; the next one finds it
# stale, builds a new one, and removes that when it leaves.
last_killed() {
	local ino
	start_super "$1"
	login_instances alice
	kill -KILL "${PID[alice]}"
	wait_for "$TIMEOUT" dead "${PID[alice]}"
	disconnect alice
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	ino=$(stat -c %i "/dev/shm/chatd.$INSTANCE")
	login_instances bob
	[ "${ONLINE[bob]}" -eq 0 ]
	[ "$(stat -c %i "/dev/shm/chatd.$INSTANCE")" != "$ino" ]
	say bob "/quit"
	expect bob "* Goodbye, bob."
	assert_gone
}

@test "xinetd: a last instance killed leaves a stale segment, rebuilt next" {
	last_killed xinetd
}

@test "systemd-socket-activate --inetd: a stale segment is rebuilt, then removed" {
	last_killed activate
	grep -q "removing stale shared memory /chatd.$INSTANCE" "$LOG"
}

# Stopping the service: every instance gets SIGTERM (systemctl stop
# does this to each chatd@ unit), each client hears that the server
# shuts down, and the last instance removes everything.
stopped() {
	local pid
	start_super "$1"
	login_instances alice bob carol
	kill -TERM "${PID[@]}"
	for name in alice bob carol; do
		expect_eventually "$name" "* server shutting down"
		expect_eof "$name"
	done
	for pid in "${PID[@]}"; do
		wait_for "$TIMEOUT" dead "$pid"
	done
	assert_gone
}

@test "xinetd: every instance stopped with SIGTERM: told, closed, clean" {
	stopped xinetd
}

@test "systemd-socket-activate --inetd: every instance stopped: told, clean" {
	stopped activate
}

# chatctl shutdown sets the segment's shutdown flag and wakes everybody:
# with no listener to remove the segment, the last instance out does.
@test "systemd-socket-activate --inetd: chatctl shutdown, and the last one out cleans up" {
	: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"
	start_super activate
	login_instances alice bob carol
	run --separate-stderr timeout 30 "$CHATCTL" -n "$INSTANCE" \
	    --run-dir "$RUNDIR" shutdown
	[ "$status" -eq 0 ] || {
		echo "chatctl shutdown: status $status: $stderr" >&2
		return 1
	}
	for name in alice bob carol; do
		expect "$name" "* server shutting down"
		expect_eof "$name"
	done
	assert_gone
	[ "$(grep -c "last one out: removing shared memory /chatd.$INSTANCE" \
	    "$LOG")" -eq 1 ]
	# The next connection builds a new segment, and nobody is shut down.
	login_instances dave
	[ "${ONLINE[dave]}" -eq 0 ]
	disconnect dave
	assert_gone
}

# Limits and bans are the worker's: there is no listener to refuse.
@test "xinetd: --max-clients and bans are enforced by each instance" {
	start_super xinetd --max-clients=2
	login_instances alice bob
	connect carol
	expect carol "! server full"
	expect_eof carol
	disconnect carol
	say bob "/quit"
	expect bob "* Goodbye, bob."
	expect alice "* bob quit"
	login_instances mallory
	expect alice "* mallory joined lobby"
	say alice "/ban mallory spam"
	expect alice "* mallory was banned by alice (spam)"
	expect mallory "! you were banned by alice (spam)"
	expect_eof mallory
	connect eve
	expect eve "! you are banned"
	expect_eof eve
	disconnect eve
	say alice "/unban 127.0.0.1"
	expect alice "* unbanned 127.0.0.1"
	login_instances eve
	expect alice "* eve joined lobby"
	disconnect alice
	disconnect eve
	assert_gone
}

# The race the directory lock closes: an instance leaving as another
# starts. Whatever the order, the newcomer ends up on the segment that
# the next client uses, and the last one out leaves nothing.
@test "systemd-socket-activate --inetd: leaving and arriving at once" {
	local i
	start_super activate
	for i in {1..40}; do
		login_instances a
		connect b
		say a "/quit"
		expect a "* Goodbye, a."
		expect_eof a
		disconnect a
		expect_re b '^\* Welcome to chatd! [01] users? online\.$'
		expect b "Enter your name:"
		# a has gone by now: b is the first user.
		say b "b"
		expect b "* Hello, b! You are in lobby. Type /help for commands."
		expect b "* You are the operator."
		login_instances c
		expect b "* c joined lobby"
		disconnect b
		disconnect c
		assert_gone
	done
}

# Whether process $1 waits for an exclusive flock(2) (a "->" line).
flock_waiting() {
	grep -Eq -- "-> FLOCK +ADVISORY +WRITE +$1 " /proc/locks
}

# A leaver frees its slot first and takes the instance directory's lock
# only after, so a newcomer may find the segment unused in between and
# build another under the same name. Here the test holds the directory
# lock until the leaver waits for it, stops the leaver, lets a newcomer
# build its segment, then lets the leaver go on: it must leave the
# newcomer's segment alone. Before, it removed it with the directory,
# and the next user landed on a third segment, out of the newcomer's
# sight.
@test "systemd-socket-activate --inetd: a leaver held up after freeing its slot leaves the newcomer's segment alone" {
	local holder a
	start_super activate
	login_instances a
	a=${PID[a]}
	(
		exec 9<"$RUNDIR/$INSTANCE"
		flock -x 9
		touch "$BATS_TEST_TMPDIR/locked"
		exec sleep 60
	) &
	holder=$!
	wait_for "$TIMEOUT" test -e "$BATS_TEST_TMPDIR/locked"
	say a "/quit"
	wait_for "$TIMEOUT" flock_waiting "$a"
	# Stopped while the lock is still held: woken by its release before
	# the stop took effect, it could take the lock and then stop.
	kill -STOP "$a"
	wait_for "$TIMEOUT" is_stopped "$a"
	kill "$holder"
	wait "$holder" || true
	# The segment is unused: b rebuilds it, alone and operator.
	login_instances b
	kill -CONT "$a"
	expect a "* Goodbye, a."
	expect_eof a
	disconnect a
	wait_for "$TIMEOUT" dead "$a"
	login_instances c
	expect b "* c joined lobby"
	say c "hello"
	expect b "<c> hello"
	disconnect b
	disconnect c
	assert_gone
}

# systemd itself checks the units: every key known, the socket finds its
# template service, ExecStart names a program that exists.
@test "contrib/accept/chatd.socket and contrib/chatd@.service pass systemd-analyze verify" {
	local dir=$BATS_TEST_TMPDIR/units
	need systemd-analyze systemd
	mkdir "$dir"
	cp "$CONTRIB/accept/chatd.socket" "$dir/"
	sed "s|=[^ ]*/sbin/chatd |=$CHATD |" "$BUILT_UNITS/chatd@.service" \
	    >"$dir/chatd@.service"
	run --separate-stderr systemd-analyze verify --man=no \
	    "$dir/chatd.socket" "$dir/chatd@.service"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || {
		echo "status $status: $stderr" >&2
		return 1
	}
}

# The rule is "no live listener", not "inetd mode": a standalone
# server's workers whose listener died remove the segment as they go.
@test "a killed listener's last worker removes the segment when it leaves" {
	local listener
	start_chatd
	listener=$CHATD_PID
	login_all alice bob
	kill -KILL "$listener"
	wait "$listener" || true
	CHATD_PID=
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect bob "* alice quit"
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	say bob "still here"
	disconnect bob
	assert_gone
}

@test "chatd -i handed a listening socket (Accept=no) says so and exits 64" {
	need systemd-socket-activate systemd || return 1
	INSTANCE=accept$$.$RANDOM
	pick_port
	# Without --accept, the listening socket itself becomes stdin.
	systemd-socket-activate --inetd -l "127.0.0.1:$PORT" \
	    "$CHATD" -i -n "$INSTANCE" --run-dir "$RUNDIR" 2>"$LOG" &
	SUPER_PID=$!
	wait_for "$TIMEOUT" grep -q "^Listening on 127.0.0.1:$PORT" "$LOG"
	connect client
	wait_for "$TIMEOUT" not_running "$SUPER_PID"
	wait "$SUPER_PID" && STATUS=0 || STATUS=$?
	SUPER_PID=
	[ "$STATUS" -eq 64 ]
	grep -q -- '-i: standard input is a listening socket, not a connection; with Accept=no run chatd without -i' "$LOG"
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}
