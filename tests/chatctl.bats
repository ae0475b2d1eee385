#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# chatctl(8): the administrator's reports (status, users, rooms, bans)
# and actions (kick, ban, unban, wall, shutdown) on a running chatd,
# found by the same -n and --run-dir. Its actions reach users as the
# operator's commands do, so the lines they see are asserted exactly;
# an absence is shown with a barrier, as in operator.bats.

load helpers

bats_require_minimum_version 1.5.0

: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"

T=$'\t'

setup() {
	STOPPED=
	EXTRA_PIDS=()
	STALE=
	FOREIGN_DIR=
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
	# A segment a test left behind on purpose (stale, or inetd's).
	if [ -n "$STALE" ]; then
		rm -f "/dev/shm/chatd.$STALE"
		rm -rf "${RUNDIR:?}/$STALE"
	fi
	if [ -n "$FOREIGN_DIR" ]; then
		rm -rf "$FOREIGN_DIR"
	fi
	assert_no_sanitizer_report
}

# chatctl on this test's instance: $status, $output (stdout), $stderr.
# The last chatctl succeeded and said nothing at all.
assert_quiet_success() {
	if [ "$status" -ne 0 ] || [ -n "$output" ] || [ -n "$stderr" ]; then
		printf 'status %s\nstdout: %s\nstderr: %s\n' "$status" \
		    "$output" "$stderr" >&2
		return 1
	fi
}

# The last chatctl exited with $1 and said $2 on stderr, nothing else.
assert_failure_says() {
	if [ "$status" -ne "$1" ] || [ "$stderr" != "$2" ] ||
	    [ -n "$output" ]; then
		printf 'status %s (want %s)\nstdout: %s\nstderr: %s\nwant: %s\n' \
		    "$status" "$1" "$output" "$stderr" "$2" >&2
		return 1
	fi
}

# The last chatctl succeeded and printed exactly one line per argument,
# each matching its extended regular expression whole.
assert_records() {
	local i pats=("$@")
	if [ "$status" -ne 0 ] || [ -n "$stderr" ]; then
		printf 'status %s, stderr: %s\n' "$status" "$stderr" >&2
		return 1
	fi
	if [ "${#lines[@]}" -ne "${#pats[@]}" ]; then
		printf '%s lines, not %s:\n%s\n' "${#lines[@]}" "${#pats[@]}" \
		    "$output" >&2
		return 1
	fi
	for ((i = 0; i < ${#pats[@]}; i++)); do
		[[ ${lines[i]} =~ ^${pats[i]}$ ]] || {
			printf 'line %d: %q\n  does not match: %q\n' "$i" \
			    "${lines[i]}" "${pats[i]}" >&2
			return 1
		}
	done
}

# The value of key $1 in the last `chatctl -H status`.
status_value() {
	local l
	for l in "${lines[@]}"; do
		if [ "${l%%$T*}" = "$1" ]; then
			echo "${l#*$T}"
			return 0
		fi
	done
	return 1
}

# Whether exactly $1 users are registered.
users_are() {
	[ "$("$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" -H users |
	    wc -l)" -eq "$1" ]
}

# Field $2 (from 1) of user $1's record in the last `chatctl -H users`.
user_field() {
	local l f
	for l in "${lines[@]}"; do
		IFS=$T read -ra f <<<"$l"
		if [ "${f[0]}" = "$1" ]; then
			echo "${f[$2 - 1]}"
			return 0
		fi
	done
	return 1
}

# Moves $1 to room $2, where nobody else is; the others named hear it.
join_alone() {
	local who=$1 room=$2 other
	shift 2
	say "$who" "/join $room"
	expect "$who" "* you are now in $room (1 user)"
	for other in "$@"; do
		expect "$other" "* $who left lobby"
	done
}

# A new connection is refused as banned, before any prompt.
expect_refused() {
	connect "$1"
	expect "$1" "! you are banned"
	expect_eof "$1"
	disconnect "$1"
}

@test "-h, -V, and usage errors exit 64 before looking for the instance" {
	INSTANCE=nosuch$$
	RUNDIR=$BATS_TEST_TMPDIR/none
	run --separate-stderr "$CHATCTL" -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: chatctl [-HhV] [-f file] [-n instance | -p port] [--run-dir=dir] command [arg ...]" ]]
	[[ $output == *"  kick NAME [REASON]   disconnect NAME"* ]]
	[[ $output == *"  shutdown             stop the server"* ]]
	run --separate-stderr "$CHATCTL" --help
	[ "$status" -eq 0 ]
	run --separate-stderr "$CHATCTL" -V
	[ "$status" -eq 0 ]
	[[ $output =~ ^chatctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	ctl
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: no command"$'\n'"usage: chatctl "* ]]
	ctl frobnicate
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: unknown command: frobnicate"$'\n'* ]]
	ctl kick
	assert_failure_says 64 "usage: chatctl kick NAME [REASON]"
	ctl ban
	assert_failure_says 64 "usage: chatctl ban [-t DURATION] NAME|ADDRESS [REASON]"
	ctl unban
	assert_failure_says 64 "usage: chatctl unban ADDRESS"
	ctl unban 10.0.0.1 10.0.0.2
	assert_failure_says 64 "usage: chatctl unban ADDRESS"
	ctl wall
	assert_failure_says 64 "usage: chatctl wall TEXT"
	ctl status now
	assert_failure_says 64 "usage: chatctl status"
	ctl shutdown -f
	assert_failure_says 64 "usage: chatctl shutdown"
	ctl wall $'\a\x1b' " "
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: wall: nothing left of the text once cleaned"$'\n'* ]]
	ctl wall "$(printf '%8193s' x)"
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: text: longer than 8192 bytes"$'\n'* ]]
	ctl -x status
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: unknown option -x"$'\n'* ]]
	ctl --frob status
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: unknown option --frob"$'\n'* ]]
	run --separate-stderr "$CHATCTL" -n
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: option -n needs a value"$'\n'* ]]
	run --separate-stderr "$CHATCTL" -n ../etc status
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: --instance: '../etc' must be"* ]]
	run --separate-stderr "$CHATCTL" --run-dir relative status
	[ "$status" -eq 64 ]
	[[ $stderr == "chatctl: --run-dir: 'relative' must be an absolute path"* ]]
	for p in 0 65536 x 9000x ""; do
		run --separate-stderr "$CHATCTL" -p "$p" status
		[ "$status" -eq 64 ]
		[[ $stderr == "chatctl: --port: '$p' is not a port number (1 to 65535)"* ]]
	done
	# None of it looked for, let alone made, anything.
	[ ! -e "$RUNDIR" ]
}

@test "an instance that is not running: exit 69, and nothing is made" {
	INSTANCE=nosuch$$
	RUNDIR=$BATS_TEST_TMPDIR/none
	for cmd in status users rooms bans "kick bob" "ban bob" \
	    "unban 10.0.0.1" "wall hello" shutdown; do
		# shellcheck disable=SC2086
		ctl $cmd
		assert_failure_says 69 "chatctl: instance $INSTANCE is not running"
	done
	[ ! -e "$RUNDIR" ]
	mkdir -m 700 "$RUNDIR"
	ctl status
	assert_failure_says 69 "chatctl: instance $INSTANCE is not running"
	[ -z "$(ls -A "$RUNDIR")" ]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}

# Whether chatctl finds the instance running (its segment made and
# ready: the listener logs its port before it makes the segment).
running() {
	"$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" status >/dev/null 2>&1
}

@test "a crashed server's segment is not running, and chatctl leaves it for chatd" {
	local ino
	start_chatd
	wait_for "$TIMEOUT" running
	kill -KILL "$CHATD_PID"
	wait "$CHATD_PID" || true
	CHATD_PID=
	STALE=$INSTANCE
	ino=$(stat -c %i "/dev/shm/chatd.$INSTANCE")
	ctl status
	assert_failure_says 69 "chatctl: instance $INSTANCE is not running"
	ctl shutdown
	assert_failure_says 69 "chatctl: instance $INSTANCE is not running"
	[ "$(stat -c %i "/dev/shm/chatd.$INSTANCE")" = "$ino" ]
	[ -d "$RUNDIR/$INSTANCE" ]
}

@test "status: one KEY<TAB>VALUE record a line; -H leaves out the header" {
	local t0 t1 head
	t0=$(date +%s)
	start_chatd
	login_all alice bob
	open_client x
	say alice "hello"
	expect bob "<alice> hello"
	join_alone bob den alice
	say bob "in den"
	barrier bob
	barrier alice
	t1=$(date +%s)
	ctl status
	assert_records "KEY${T}VALUE" \
	    "instance$T$INSTANCE" \
	    "listener$T$CHATD_PID" \
	    "started$T[0-9]+" \
	    "uptime$T[0-9]+" \
	    "users${T}2" \
	    "connections${T}3" \
	    "rooms${T}2" \
	    "bans${T}0" \
	    "relayed${T}2" \
	    "log_head$T[1-9][0-9]*" \
	    "log_size${T}8388608" \
	    "lock_repairs${T}0" \
	    "wakeups$T[1-9][0-9]*" \
	    "late_wakeups${T}0" \
	    "lines_out$T[1-9][0-9]*" \
	    "link${T}none" \
	    "lag.alice${T}0" \
	    "lag.bob${T}0"
	ctl -H status
	[ "${#lines[@]}" -eq 18 ]
	[ "${lines[0]}" = "instance$T$INSTANCE" ]
	[ "$(status_value started)" -ge "$t0" ]
	[ "$(status_value started)" -le "$t1" ]
	[ "$(status_value uptime)" -le $(($(date +%s) - t0)) ]
	# The log position moves with every record.
	head=$(status_value log_head)
	say alice "more"
	barrier alice
	ctl -H status
	[ "$(status_value log_head)" -gt "$head" ]
	[ "$(status_value relayed)" -eq 3 ]
}

@test "status: lines_out counts every line delivered, wakeups the pipe wake-ups" {
	local lines0 wakes0 i batch=
	start_chatd
	login_all alice bob
	barrier alice
	barrier bob
	ctl -H status
	lines0=$(status_value lines_out)
	wakes0=$(status_value wakeups)
	# 50 lines in one write: alice's worker posts them all, then wakes
	# bob once (twice if the kernel split the write), not 50 times.
	for ((i = 1; i <= 50; i++)); do
		batch+="line $i"$'\n'
	done
	printf '%s' "$batch" >&"${FD[alice]}"
	for ((i = 1; i <= 50; i++)); do
		expect bob "<alice> line $i"
	done
	barrier alice
	ctl -H status
	[ "$(status_value lines_out)" -eq $((lines0 + 50)) ]
	[ "$(status_value wakeups)" -ge $((wakes0 + 1)) ]
	[ "$(status_value wakeups)" -le $((wakes0 + 2)) ]
	# A worker's counts stay in the total when it leaves.
	disconnect bob
	wait_for 10 users_are 1
	ctl -H status
	[ "$(status_value lines_out)" -ge $((lines0 + 50)) ]
}

@test "users: name, room, address, connected seconds, op, pid, lag, backlog" {
	local a b
	start_chatd
	login_all alice bob
	open_client x
	join_alone bob den alice
	barrier alice
	barrier bob
	a=$(worker_pid alice)
	b=$(worker_pid bob)
	ctl users
	assert_records \
	    "NAME${T}ROOM${T}ADDRESS${T}CONNECTED_SECS${T}OP${T}PID${T}LAG_BYTES${T}QUEUED_BYTES${T}SERVER" \
	    "alice${T}lobby${T}127\.0\.0\.1$T[0-9]+${T}yes$T$a${T}0${T}0$T-" \
	    "bob${T}den${T}127\.0\.0\.1$T[0-9]+${T}no$T$b${T}0${T}0$T-"
	ctl -H users
	assert_records \
	    "alice${T}lobby${T}127\.0\.0\.1$T[0-9]+${T}yes$T$a${T}0${T}0$T-" \
	    "bob${T}den${T}127\.0\.0\.1$T[0-9]+${T}no$T$b${T}0${T}0$T-"
	# A full disk for standard output is an error, not a silent loss.
	run --separate-stderr bash -c '"$0" -n "$1" --run-dir "$2" users \
	    >/dev/full' "$CHATCTL" "$INSTANCE" "$RUNDIR"
	[ "$status" -eq 74 ]
	[[ $stderr == "chatctl: standard output: No space left on device" ]]
	ctl -H users
	# Fields for awk: who is in den?
	[ "$(printf '%s\n' "$output" | awk -F'\t' '$2 == "den" { print $1 }')" = bob ]
	say bob "/quit"
	expect bob "* Goodbye, bob."
	ctl -H users
	assert_records "alice${T}lobby${T}127\.0\.0\.1$T[0-9]+${T}yes$T$a${T}0${T}0$T-"
}

@test "rooms: every room remembered, its users and its lines of history" {
	start_chatd --history 2
	login_all alice bob
	say alice "one"
	expect bob "<alice> one"
	join_alone bob den alice
	say bob "in den 1"
	say bob "in den 2"
	say bob "in den 3"
	say bob "/leave"
	expect bob "* you are now in lobby (2 users)"
	expect bob "* history: last 1 message in lobby"
	expect_re bob '^\[[0-9]{2}:[0-9]{2}\] <alice> one$'
	expect bob "* end of history"
	ctl rooms
	assert_records "ROOM${T}USERS${T}HISTORY_LINES" \
	    "lobby${T}2${T}1" \
	    "den${T}0${T}2"
	ctl -H rooms
	assert_records "lobby${T}2${T}1" "den${T}0${T}2"
}

@test "kick NAME REASON: NAME and its room hear the administrator, nobody else does" {
	start_chatd
	login_all first alice bob carol
	join_alone carol den first alice bob
	ctl kick BOB too "loud, again"
	assert_quiet_success
	expect bob "! you were kicked by the administrator (too loud, again)"
	expect_eof bob
	expect first "* bob was kicked by the administrator (too loud, again)"
	expect alice "* bob was kicked by the administrator (too loud, again)"
	# Once each, and nothing for carol in den or a quit line after.
	room_barrier first alice
	room_barrier alice first
	say first "/dm carol barrier"
	expect first "-> *carol* barrier"
	expect carol "*first* barrier"
	say alice "/users"
	expect alice "* 3 users online"
	expect alice "* first (lobby) [op]"
	expect alice "* alice (lobby)"
	expect alice "* carol (den)"
	# The name is free at once.
	login bob2 bob
	expect first "* bob joined lobby"
}

@test "kick NAME without a reason; kicking the operator hands the operator on" {
	start_chatd
	login_all first alice
	ctl kick first
	assert_quiet_success
	expect first "! you were kicked by the administrator"
	expect_eof first
	expect alice "* first was kicked by the administrator"
	expect alice "* You are now the operator."
	say alice "/users"
	expect alice "* 1 user online"
	expect alice "* alice (lobby) [op]"
}

@test "ban NAME: disconnected, its address refused; bans lists it; unban lifts it" {
	start_chatd
	login_all alice bob carol
	join_alone carol den alice bob
	ctl ban bob
	assert_quiet_success
	expect bob "! you were banned by the administrator"
	expect_eof bob
	expect alice "* bob was banned by the administrator"
	say alice "/dm carol barrier"
	expect carol "*alice* barrier"
	expect alice "-> *carol* barrier"
	expect_refused x
	ctl bans
	assert_records "ADDRESS${T}NAME${T}REASON${T}LEFT_SECS" \
	    "127\.0\.0\.1${T}bob$T$T-"
	# Banning again replaces the reason; tabs stay out of the fields.
	ctl ban carol "spam"$'\t'"and more"
	assert_quiet_success
	expect carol "! you were banned by the administrator (spam"$'\t'"and more)"
	expect_eof carol
	ctl -H bans
	assert_records "127\.0\.0\.1${T}carol${T}spam and more$T-"
	say alice "/bans"
	expect alice "* 1 ban"
	expect alice "* 127.0.0.1 carol spam"$'\t'"and more"
	ctl unban 127.0.0.1
	assert_quiet_success
	ctl -H bans
	assert_records
	login bob
	expect alice "* bob joined lobby"
	ctl unban 127.0.0.1
	assert_failure_says 1 "chatctl: not banned: 127.0.0.1"
}

@test "kick or ban of somebody not online: exit 1, and nobody hears a thing" {
	start_chatd
	login_all alice bob
	ctl kick nobody
	assert_failure_says 1 "chatctl: no such user: nobody"
	ctl ban ghost for a reason
	assert_failure_says 1 "chatctl: no such user: ghost"
	ctl kick averyveryverylongname
	assert_failure_says 1 "chatctl: no such user: averyveryverylongname"
	open_client x
	ctl kick x
	assert_failure_says 1 "chatctl: no such user: x"
	room_barrier alice bob
	room_barrier bob alice
	ctl -H bans
	assert_records
}

@test "wall TEXT: every registered user in every room gets * TEXT, cleaned" {
	start_chatd
	login_all alice bob carol
	join_alone bob den alice carol
	join_alone carol attic alice
	open_client x
	ctl wall "the server" "restarts at noon"
	assert_quiet_success
	expect alice "* the server restarts at noon"
	expect bob "* the server restarts at noon"
	expect carol "* the server restarts at noon"
	ctl wall $'  \x1b[31mred\x07 alert\x7f  '
	assert_quiet_success
	expect alice "* [31mred alert"
	expect bob "* [31mred alert"
	expect carol "* [31mred alert"
	# x was not registered yet: its first lines are its own.
	say x "xavier"
	expect x "* Hello, xavier! You are in lobby. Type /help for commands."
	barrier x
	expect alice "* xavier joined lobby"
}

@test "shutdown: a standalone server tells everybody, exits 0 and leaves nothing" {
	start_chatd
	login_all alice bob
	open_client x
	ctl shutdown
	assert_quiet_success
	# chatctl waited for the listener to remove the segment.
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
	expect alice "* server shutting down"
	expect_eof alice
	expect bob "* server shutting down"
	expect_eof bob
	expect x "* server shutting down"
	expect_eof x
	wait_for "$TIMEOUT" not_running "$CHATD_PID"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
	grep -q "shutting down" "$LOG"
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

inetd_say() {
	printf '%s\n' "$2" >&"${WFD[$1]}"
}

@test "shutdown: inetd instances all say goodbye and leave" {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	mkdir -p -m 700 "$RUNDIR"
	STALE=$INSTANCE
	start_inetd_client alice
	expect alice "* Welcome to chatd! 0 users online."
	expect alice "Enter your name:"
	inetd_say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	start_inetd_client bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	inetd_say bob bob
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect alice "* bob joined lobby"
	ctl -H status
	[ "$(status_value listener)" = 0 ]
	[ "$(status_value users)" = 2 ]
	ctl shutdown
	assert_quiet_success
	expect alice "* server shutting down"
	expect_eof alice
	expect bob "* server shutting down"
	expect_eof bob
	wait "${EXTRA_PIDS[0]}"
	wait "${EXTRA_PIDS[1]}"
	EXTRA_PIDS=()
	exec {WFD[alice]}>&- {WFD[bob]}>&-
}

@test "lag: a worker that has not read the log shows how far behind it is" {
	local lag
	start_chatd
	login_all alice bob carol
	join_alone carol den alice bob
	STOPPED=$(worker_pid bob)
	[ -n "$STOPPED" ]
	kill -STOP "$STOPPED"
	say alice "one"
	say alice "two"
	say alice "three"
	barrier alice
	ctl -H users
	lag=$(user_field bob 7)
	# Three records of at least 64 bytes each.
	[ "$lag" -ge 192 ]
	[ "$(user_field alice 7)" -eq 0 ]
	# carol's quiet room has nothing for her, however busy lobby is.
	[ "$(user_field carol 7)" -eq 0 ]
	ctl -H status
	[ "$(status_value lag.bob)" -eq "$lag" ]
	[ "$(status_value lag.carol)" -eq 0 ]
	kill -CONT "$STOPPED"
	STOPPED=
	expect bob "<alice> one"
	expect bob "<alice> two"
	expect bob "<alice> three"
	bob_caught_up() {
		ctl -H users
		[ "$(user_field bob 7)" -eq 0 ]
	}
	wait_for "$TIMEOUT" bob_caught_up
}

@test "lag: a client that stopped reading shows its backlog, the rest nothing" {
	local i j line queued=0 lag
	start_chatd
	login_all alice stalled
	line=$(printf '%1000s' x)
	stalled_drained() {
		ctl -H users
		[ "$(user_field stalled 7)" -eq 0 ]
	}
	# stalled never reads. Once the kernel's buffers are full, what
	# its worker copies from the log waits in its backlog (1 MiB at
	# most); each round adds 100 kB, so the backlog shows before the
	# worker gives up on stalled.
	for ((i = 0; i < 200 && queued == 0; i++)); do
		for ((j = 0; j < 100; j++)); do
			say alice "$line"
		done
		barrier alice
		wait_for "$TIMEOUT" stalled_drained
		queued=$(user_field stalled 8)
		[ "$(user_field alice 8)" -eq 0 ]
	done
	echo "backlog $queued bytes after $i rounds"
	[ "$queued" -gt 0 ]
	[ "$queued" -le 1048576 ]
}

@test "-p PORT names the instance as chatd does by default; -n wins" {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	mkdir -p -m 700 "$RUNDIR"
	"$CHATD" -p 0 -l 127.0.0.1 --run-dir "$RUNDIR" -v 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'listening on' "$LOG"
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	INSTANCE=$PORT
	login alice
	run --separate-stderr "$CHATCTL" -p "$PORT" --run-dir "$RUNDIR" \
	    -H users
	assert_records "alice${T}lobby$T.*"
	run --separate-stderr "$CHATCTL" --port="$PORT" \
	    --run-dir="$RUNDIR" -H status
	[ "$(status_value instance)" = "$PORT" ]
	run --separate-stderr "$CHATCTL" -n "$PORT" -p 1 \
	    --run-dir "$RUNDIR" -H status
	[ "$(status_value instance)" = "$PORT" ]
	run --separate-stderr "$CHATCTL" --instance "$PORT" \
	    --run-dir "$RUNDIR" --no-header rooms
	assert_records "lobby${T}1${T}0"
	stop_chatd
	assert_clean
}

@test "root manages an instance that runs as another user; that user cannot touch root's" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "needs setpriv"
	id nobody >/dev/null 2>&1 || skip "needs the user nobody"
	local uid gid
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	FOREIGN_DIR=$(mktemp -d /tmp/chatctl-test.XXXXXX)
	chmod 755 "$FOREIGN_DIR"
	RUNDIR=$FOREIGN_DIR/run
	mkdir -m 700 "$RUNDIR" "$FOREIGN_DIR/state"
	chown "$uid:$gid" "$RUNDIR" "$FOREIGN_DIR/state"
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	setpriv --reuid="$uid" --regid="$gid" --clear-groups "$CHATD" -p 0 \
	    -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" -v --rate 0 \
	    --state-dir "$FOREIGN_DIR/state" 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'listening on' "$LOG"
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	[ "$(stat -c %u "/dev/shm/chatd.$INSTANCE")" = "$uid" ]
	login_all alice bob
	ctl -H status
	[ "$(status_value users)" = 2 ]
	ctl kick bob
	assert_quiet_success
	expect bob "! you were kicked by the administrator"
	expect alice "* bob was kicked by the administrator"
	ctl wall hello
	assert_quiet_success
	expect alice "* hello"
	# The files root's chatctl writes in the state directory stay the
	# server's, or it could not save its bans any more.
	ctl ban alice
	assert_quiet_success
	expect alice "! you were banned by the administrator"
	[ "$(stat -c %u "$FOREIGN_DIR/state/bans")" = "$uid" ]
	[ "$(stat -c %u "$FOREIGN_DIR/state/lock")" = "$uid" ]
	ctl unban 127.0.0.1
	assert_quiet_success
	[ ! -s "$FOREIGN_DIR/state/bans" ]
	login carol
	ctl shutdown
	assert_quiet_success
	expect carol "* server shutting down"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean

	# The other way round: nobody may not manage root's instance.
	start_chatd
	run --separate-stderr setpriv --reuid="$uid" --regid="$gid" \
	    --clear-groups "$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" status
	[ "$status" -eq 69 ]
	[[ $stderr == "chatctl: cannot open $RUNDIR/$INSTANCE: Permission denied" ]]
}

# chatctl -f FILE: where the instance is, from chatd's own file.
@test "chatctl -f FILE finds the instance by the file's instance and run-dir" {
	local conf=$BATS_TEST_TMPDIR/chatd.conf
	start_chatd
	login alice
	# The other settings are chatd's to check, even unknown ones.
	printf '%s\n' "instance = $INSTANCE" "run-dir = $RUNDIR" \
	    'history = 5' 'oper-password-file = /nonexistent' 'nosuch = 1' \
	    >"$conf"
	run --separate-stderr "$CHATCTL" -f "$conf" -H users
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "alice${T}lobby${T}"* ]]
	# The command line wins: -n over the file's instance.
	run --separate-stderr "$CHATCTL" -f "$conf" -n "other$$" -H users
	[ "$status" -eq 69 ]
	[[ $stderr == *"other$$"* ]]
}

@test "chatctl -f FILE: the instance named after the file's port" {
	local conf=$BATS_TEST_TMPDIR/chatd.conf port
	port=$((20000 + RANDOM % 10000))
	INSTANCE=$port
	RUNDIR=$BATS_TEST_TMPDIR/run
	mkdir -p -m 700 "$RUNDIR"
	"$CHATD" -p 0 -l 127.0.0.1 -n "$port" --run-dir "$RUNDIR" -v \
	    2>"$BATS_TEST_TMPDIR/chatd.log" &
	CHATD_PID=$!
	LOG=$BATS_TEST_TMPDIR/chatd.log
	wait_for "$TIMEOUT" logged_port
	printf '%s\n' "port = $port" "run-dir = $RUNDIR" >"$conf"
	run --separate-stderr "$CHATCTL" -f "$conf" -H status
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "instance${T}$port" ]
}

@test "chatctl -f FILE: a bad or missing file, or port 0, is exit 78" {
	local conf=$BATS_TEST_TMPDIR/chatd.conf
	run --separate-stderr "$CHATCTL" -f "$BATS_TEST_TMPDIR/nosuch" status
	assert_failure_says 78 "chatctl: $BATS_TEST_TMPDIR/nosuch: cannot read it: No such file or directory"
	printf 'run-dir = relative\n' >"$conf"
	run --separate-stderr "$CHATCTL" -f "$conf" status
	assert_failure_says 78 "chatctl: $conf:1: run-dir: 'relative' must be an absolute path"
	printf 'port = 0\n' >"$conf"
	run --separate-stderr "$CHATCTL" -f "$conf" status
	assert_failure_says 78 "chatctl: $conf: with port 0 the instance is named after the port chatd picks: name it with -n"
}
