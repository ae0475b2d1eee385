# SPDX-License-Identifier: ISC
# Shared by every chatd test. Each test starts its own chatd on a free
# port (chosen by the kernel: -p 0) with its own run directory, plays
# clients over bash's /dev/tcp, and stops the server in teardown.
#
# Clients have names: `login alice` opens a connection called alice and
# registers the name alice; `say alice TEXT` sends a line; `expect alice
# LINE` reads alice's next line (CRLF stripped) and fails unless it is
# exactly LINE. Every wait is bounded by $TIMEOUT seconds.

: "${CHATD:=$BATS_TEST_DIRNAME/../src/chatd}"
: "${TESTBIN:=$BATS_TEST_DIRNAME}"
TIMEOUT=${TIMEOUT:-10}

bats_require_minimum_version 1.5.0	# run ! and run --separate-stderr

declare -gA FD
CHATD_DEFAULTS=(-v --rate 0)

# The crypt(3) SHA-512 hash of "secret" (what `openssl passwd -6 -salt
# saltsalt secret` prints), for --oper-password-file; written out so
# that no tool is needed.
OPER_HASH='$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1'

# Runs a command until it succeeds or $1 seconds have passed.
wait_for() {
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${limit}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# The port a started chatd logged: sets PORT, fails until it is there.
logged_port() {
	PORT=$(sed -n 's/.*listening on .* port \([0-9][0-9]*\)$/\1/p' \
	    "$LOG" 2>/dev/null | head -n 1)
	[ -n "$PORT" ]
}

# Starts chatd with the test's options; sets CHATD_PID, PORT, LOG (a new
# file at each start: the workers of a server stopped a moment ago may
# still write to the last one), RUNDIR and INSTANCE.
start_chatd() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	[ ! -e "$LOG" ] || LOG=$(mktemp "$BATS_TEST_TMPDIR/chatd.XXXXXX.log")
	INSTANCE=test$$.${BATS_TEST_NUMBER:-0}.$RANDOM
	mkdir -p -m 700 "$RUNDIR"
	# No rate limit unless a test asks for one (a later --rate wins):
	# most tests send faster than a person types. A test of settings
	# from a file empties CHATD_DEFAULTS, since the command line wins.
	"$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    "${CHATD_DEFAULTS[@]}" "$@" 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" logged_port || {
		cat "$LOG" >&2
		return 1
	}
}

# Starts chatd as start_chatd does, with JOURNAL_STREAM set as systemd
# sets it for a service whose stderr is the journal: to the device and
# inode of $LOG, or of the file $JOURNAL_FILE if set (a stream that is
# not chatd's stderr), as printf formats it with $JOURNAL_WRAP if set
# (a malformed value).
start_chatd_journal() {
	local stream
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$(mktemp "$BATS_TEST_TMPDIR/journal.XXXXXX.log")
	INSTANCE=test$$.${BATS_TEST_NUMBER:-0}.$RANDOM
	mkdir -p -m 700 "$RUNDIR"
	stream=$(stat -c '%d:%i' "${JOURNAL_FILE:-$LOG}")
	# shellcheck disable=SC2059 # the format is the caller's
	stream=$(printf "${JOURNAL_WRAP:-%s}" "$stream")
	JOURNAL_STREAM=$stream "$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$RUNDIR" "${CHATD_DEFAULTS[@]}" "$@" 2>>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" logged_port || {
		cat "$LOG" >&2
		return 1
	}
}

# The state of process $1 (R, S, T for stopped, Z for a zombie...) in
# STATE; fails when there is no such process.
proc_state() {
	local stat
	PROC_STATE=
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	PROC_STATE=${stat%% *}
}

# Whether process $1 is stopped.
is_stopped() {
	proc_state "$1" && [ "$PROC_STATE" = T ]
}

# Whether process $1 is gone or a zombie: a zombie holds nothing, and
# a test's orphans may never be reaped where PID 1 does not reap.
dead() {
	proc_state "$1" || return 0
	[ "$PROC_STATE" = Z ] || [ "$PROC_STATE" = X ]
}

not_running() {
	! kill -0 "$1" 2>/dev/null
}

# Closes every client connection. The braces matter: a bare "exec
# {fd}>&- 2>/dev/null" would also send the shell's stderr, and with it
# every later failure message of the test, to /dev/null.
close_clients() {
	local name
	for name in "${!FD[@]}"; do
		{ exec {FD[$name]}>&-; } 2>/dev/null || true
	done
	FD=()
}

# Stops the server with SIGTERM and waits for it; SIGKILL as a last
# resort so that a failing test never leaves a server behind.
stop_chatd() {
	[ -n "${CHATD_PID:-}" ] || return 0
	stop_pid 15 "$CHATD_PID"
	CHATD_PID=
	close_clients
	return 0
}

# Stops our child $2 with SIGTERM, and SIGKILL if it is still there
# after $1 seconds; STATUS is its exit status.
stop_pid() {
	kill -TERM "$2" 2>/dev/null || true
	if ! wait_for "$1" dead "$2"; then
		kill -KILL "$2" 2>/dev/null || true
	fi
	wait "$2" 2>/dev/null && STATUS=0 || STATUS=$?
}

# A sanitizer report from any chatd process fails the test.
assert_no_sanitizer_report() {
	[ -n "${LOG:-}" ] && [ -f "$LOG" ] || return 0
	if grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$LOG" >&2
	then
		return 1
	fi
}

teardown() {
	stop_chatd
	assert_no_sanitizer_report
}

# The pid of the worker serving a registered user, from the -v log.
worker_pid() {
	sed -n "s/^chatd\/worker\[\([0-9]*\)\]: .* registered as $1\$/\1/p" "$LOG" |
	    tail -n 1
}

connect() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/${2:-$PORT}"
	FD[$1]=$fd
}

# Whether the loopback interface has ::1.
have_ipv6_loopback() {
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 \
	    2>/dev/null
}

# Like connect, over IPv6 to ::1.
connect6() {
	local fd
	exec {fd}<>"/dev/tcp/::1/${2:-$PORT}"
	FD[$1]=$fd
}

disconnect() {
	exec {FD[$1]}>&-
	unset "FD[$1]"
}

say() {
	printf '%s\n' "$2" >&"${FD[$1]}"
}

# Sends raw bytes, printf-style escapes allowed (\xNN, \r, \n).
say_raw() {
	printf "$2" >&"${FD[$1]}"
}

# Reads the next line of a client into $LINE; fails on timeout or EOF.
next_line() {
	LINE=
	if ! IFS= read -r -t "$TIMEOUT" -u "${FD[$1]}" LINE; then
		echo "$1: no line (timeout or end of file); partial: '$LINE'" >&2
		return 1
	fi
	LINE=${LINE%$'\r'}
}

expect() {
	next_line "$1" || return 1
	if [ "$LINE" != "$2" ]; then
		printf '%s: expected: %s\n%s:      got: %s\n' "$1" "$2" "$1" \
		    "$LINE" >&2
		return 1
	fi
}

# Like expect, but LINE must match the extended regular expression.
expect_re() {
	next_line "$1" || return 1
	if ! [[ $LINE =~ $2 ]]; then
		printf '%s: expected /%s/\n%s:      got: %s\n' "$1" "$2" "$1" \
		    "$LINE" >&2
		return 1
	fi
}

# The reply to an unknown command: a barrier for client $1's own
# replies (lines from the shared log may still come after it).
barrier() {
	say "$1" "/barrier"
	expect "$1" "! unknown command: /barrier (try /help)"
}

# The whole of /help: for an operator with "op" as $2, else for anybody.
expect_help() {
	expect "$1" "* commands:"
	expect "$1" "* /help - list the commands"
	expect "$1" "* /users - list everybody online and their rooms"
	expect "$1" "* /who - list the users in your room"
	expect "$1" "* /rooms - list the rooms"
	expect "$1" "* /stats - your message count, times and the server's counters"
	expect "$1" "* /dm NAME TEXT - send TEXT to NAME only (alias /msg)"
	expect "$1" "* /me TEXT - act: * NAME TEXT"
	expect "$1" "* /nick NEW - change your name"
	expect "$1" "* /join ROOM - go to ROOM, making it if need be"
	expect "$1" "* /leave - go back to lobby"
	expect "$1" "* /oper PASSWORD - become an operator"
	if [ "$2" = op ]; then
		expect "$1" "* /kick NAME [REASON] - disconnect NAME"
		expect "$1" "* /ban [-t DURATION] NAME|ADDRESS [REASON] - disconnect NAME and refuse its address, or a range"
		expect "$1" "* /unban ADDRESS - lift a ban"
		expect "$1" "* /bans - list the bans"
	fi
	expect "$1" "* /quit [REASON] - leave the chat"
	expect "$1" "* a line not starting with / goes to everybody in your room; start it with // to send a line beginning with /"
}

# $1 says a chat line, and each of the other clients named must get it
# as its next line: whatever the log held for them before has come.
room_barrier() {
	local from=$1 to
	shift
	say "$from" "barrier from $from"
	for to in "$@"; do
		expect "$to" "<$from> barrier from $from" || return 1
	done
}

# A replayed line: [HH:MM] and a space, then exactly $2.
expect_hist() {
	next_line "$1" || return 1
	if ! [[ $LINE =~ ^\[[0-2][0-9]:[0-5][0-9]\]\  ]] ||
	    [ "${LINE:8}" != "$2" ]; then
		printf '%s: expected: [HH:MM] %s\n%s:      got: %s\n' "$1" "$2" \
		    "$1" "$LINE" >&2
		return 1
	fi
}

# $1 copies of the character $2.
repeat() {
	local s
	printf -v s '%*s' "$1" ''
	printf '%s' "${s// /$2}"
}

# Skips lines until one equals $2.
expect_eventually() {
	while next_line "$1"; do
		[ "$LINE" = "$2" ] && return 0
	done
	echo "$1: never got: $2" >&2
	return 1
}

# The server closed the connection: the next read sees end of file.
expect_eof() {
	local rc=0
	LINE=
	IFS= read -r -t "$TIMEOUT" -u "${FD[$1]}" LINE || rc=$?
	if [ "$rc" -ne 1 ] || [ -n "$LINE" ]; then
		echo "$1: expected end of file, got rc=$rc line='$LINE'" >&2
		return 1
	fi
}

declare -gA ONLINE

# Connects and reads the greeting up to the name prompt, remembering how
# many users were online.
open_client() {
	connect "$1" "${2:-}"
	expect_re "$1" '^\* Welcome to chatd! ([0-9]+) users? online\.$' ||
	    return 1
	ONLINE[$1]=${BASH_REMATCH[1]}
	expect "$1" "Enter your name:"
}

# Connects as $1 and registers the name $1 (or $2). A user who found
# nobody online becomes the operator and is told so.
login() {
	local name=${2:-$1}
	open_client "$1" || return 1
	say "$1" "$name"
	expect "$1" "* Hello, $name! You are in lobby. Type /help for commands." ||
	    return 1
	if [ "${ONLINE[$1]}" -eq 0 ]; then
		expect "$1" "* You are the operator."
	fi
}

# Logs in each name in turn, in lobby; everyone already in sees each
# newcomer join.
login_all() {
	local i j names=("$@")
	for ((i = 0; i < ${#names[@]}; i++)); do
		login "${names[i]}" || return 1
		for ((j = 0; j < i; j++)); do
			expect "${names[j]}" "* ${names[i]} joined lobby" ||
			    return 1
		done
	done
}

# Asserts that the shared segment and the instance's pipes are gone.
assert_clean() {
	[ ! -e "/dev/shm/chatd.$INSTANCE" ] || {
		echo "/dev/shm/chatd.$INSTANCE left behind" >&2
		return 1
	}
	[ -z "$(ls -A "$RUNDIR")" ] || {
		echo "run directory not empty:" >&2
		ls -la "$RUNDIR" >&2
		return 1
	}
}

# The processes under $1 (children, theirs, ...) that are stopped (state
# T): none when whoever stopped them let them go on.
stopped_under() {
	local p s
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		[ "${s%% *}" != T ] || echo "$p"
		stopped_under "$p"
	done
}

# Runs a program that ends with a RESULT line (chatbench, the soak):
# $output is its stdout, $RESULT that line; fails on a sanitizer report.
run_result() {
	run --separate-stderr "$@"
	printf '%s\n' "$output" "$stderr"
	RESULT=${lines[${#lines[@]} - 1]}
	if [[ $stderr == *Sanitizer* || $stderr == *"runtime error"* ]]; then
		echo "sanitizer report from $1" >&2
		return 1
	fi
}

# The value of field $1 of the RESULT line.
field() {
	local re=" $1=([^ ]*)( |\$)"
	[[ $RESULT =~ $re ]] || return 1
	printf '%s\n' "${BASH_REMATCH[1]}"
}

# Exactly these values in the RESULT line, e.g. "lost=0 dup=0".
assert_fields() {
	local kv
	for kv in "$@"; do
		[ "$(field "${kv%%=*}")" = "${kv#*=}" ] || {
			echo "expected $kv in: $RESULT" >&2
			return 1
		}
	done
}

# Starts tests/brokenchat, a server that damages delivery on purpose,
# in place of chatd: sets CHATD_PID, LOG and PORT.
# chatctl on the test's instance, under bats' run (stdout in $output,
# stderr in $stderr).
ctl() {
	run --separate-stderr timeout 30 "$CHATCTL" -n "$INSTANCE" \
	    --run-dir "$RUNDIR" "$@"
}

# The address chatctl shows for user $1.
address_of() {
	"$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" -H users |
	    awk -F'\t' -v n="$1" '$1 == n { print $3 }'
}

start_broken() {
	LOG=$BATS_TEST_TMPDIR/brokenchat.log
	"$TESTBIN/brokenchat" "$@" 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" logged_port || {
		cat "$LOG" >&2
		return 1
	}
}

# Fails, saying what to install, unless command $1 (of package $2) is there.
need() {
	command -v "$1" >/dev/null || {
		echo "$1 is not installed: this test needs it (apt-get install $2)" >&2
		return 1
	}
}

# A port nobody uses now, below the kernel's ephemeral range so that no
# outgoing connection takes it meanwhile. Someone may still bind it
# first: the callers try again with another.
pick_port() {
	local lo
	lo=$(cut -f 1 /proc/sys/net/ipv4/ip_local_port_range)
	[ "$lo" -gt 11024 ] || lo=61024
	while :; do
		PORT=$((1024 + RANDOM % (lo - 1024 - 1)))
		ss -Htan "( sport = :$PORT or dport = :$PORT )" | grep -q . ||
		    break
	done
	# The contrib files leave the instance name to its default: the port.
	INSTANCE=$PORT
}

# Whether the super-server ($SUPER_PID, logging to $LOG) listens on
# $PORT, or has died.
super_listening() {
	grep -q "^Listening on 127.0.0.1:$PORT" "$LOG" ||
	    not_running "$SUPER_PID"
}

# Runs the command given under systemd-socket-activate --accept --inetd
# on a free port of 127.0.0.1 ($PORT), as systemd runs
# contrib/chatd@.service for a socket with Accept=yes, its stderr and
# the super-server's appended to $LOG; SUPER_PID is the super-server.
# Another port is tried if somebody took this one first.
activate_inetd() {
	local try
	for try in 1 2 3 4 5; do
		pick_port
		: >"$LOG"
		systemd-socket-activate --accept --inetd -l "127.0.0.1:$PORT" \
		    "$@" 2>>"$LOG" &
		SUPER_PID=$!
		wait_for "$TIMEOUT" super_listening && ! not_running \
		    "$SUPER_PID" && return 0
		wait "$SUPER_PID" || true
		SUPER_PID=
	done
	cat "$LOG" >&2
	return 1
}
