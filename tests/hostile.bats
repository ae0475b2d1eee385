#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A hostile environment: no process or no descriptor to spare, names in
# /dev/shm and the run directory that are not what chatd made, a second
# chatd on the instance, the run directory removed under a running
# server, and signals during heavy traffic. Each case gets a clear log
# line, and the users already connected keep chatting (or, on SIGTERM,
# are told and nothing is left behind).
#
# Covered elsewhere and not repeated here: a segment or run directory
# owned by another user, or a symlink in place of the run or instance
# directory (lifecycle.bats); a second chatd -d (daemon.bats); workers
# out of descriptors for wake-up pipes (limits.bats).

load helpers

bats_require_minimum_version 1.5.0

: "${CHATBENCH:=$BATS_TEST_DIRNAME/../bench/chatbench}"

setup() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	LOG=$BATS_TEST_TMPDIR/chatd.log
	# Somewhere another user can reach: test directories are 0700.
	TESTROOT=$(mktemp -d /tmp/chatd-hostile.XXXXXX)
	chmod 755 "$TESTROOT"
	FOREIGN=
	LOAD_PID=
	# No history: users who join later hear only what is said after.
	CHATD_DEFAULTS=(-v --rate 0 --history 0)
}

teardown() {
	local rc=0
	if [ -n "$LOAD_PID" ]; then
		stop_pid 5 "$LOAD_PID"
	fi
	stop_chatd
	assert_no_sanitizer_report || rc=1
	if [ -n "$FOREIGN" ]; then
		rm -rf "$FOREIGN"
	fi
	rm -rf "$TESTROOT"
	return "$rc"
}

# start_chatd on the instance that setup() named, for a test that put
# things in its way first.
start_here() {
	local keep=$INSTANCE
	start_chatd "$@" -n "$keep"
	INSTANCE=$keep
}

# Runs chatd on this test's instance, expecting it not to start.
try_chatd() {
	mkdir -p -m 700 "$RUNDIR"
	run --separate-stderr timeout 10 "$CHATD" -p 0 -l 127.0.0.1 \
	    -n "$INSTANCE" --run-dir "$RUNDIR" "$@"
}

# chatd exited 69 with exactly the message $1 (after its
# "chatd/listener[PID]: ").
assert_refused_with() {
	if [ "$status" -ne 69 ]; then
		echo "exit status $status, not 69; stderr: $stderr" >&2
		return 1
	fi
	if [[ $stderr != *"]: $1" ]]; then
		printf 'expected: %s\n     got: %s\n' "$1" "$stderr" >&2
		return 1
	fi
}

# Every user named says a line, and every other one gets it.
all_chat() {
	local from to
	for from in "$@"; do
		say "$from" "hello from $from"
		for to in "$@"; do
			[ "$to" = "$from" ] && continue
			expect "$to" "<$from> hello from $from" || return 1
		done
	done
}

# A client that connects is told the server cannot take it, and closed.
expect_refused() {
	connect "$1"
	expect "$1" "! server error, try again later"
	expect_eof "$1"
	disconnect "$1"
}

# How many lines of the log are exactly $2 after the "chatd/$1[PID]: "
# ($1: listener or worker).
log_count() {
	grep -c -F -x -e "$2" <(sed -n "s/^chatd\/$1\[[0-9]*\]: //p" "$LOG") ||
	    true
}

log_has() {
	[ "$(log_count "$1" "$2")" -ge 1 ]
}

# The processes whose parent is $1.
children_of() {
	local stat pid
	for stat in /proc/[0-9]*/stat; do
		pid=${stat#/proc/}
		pid=${pid%/stat}
		stat=$(cat "$stat" 2>/dev/null) || continue
		stat=${stat##*) }
		set -- "$1" $stat
		[ "$3" = "$1" ] && echo "$pid"
	done
	return 0
}

# CPU time of process $1 so far, in clock ticks.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat")
	stat=${stat##*) }
	set -- $stat
	echo $(($12 + $13))
}

# The lowest descriptor number process $1 has free.
lowest_free_fd() {
	local n=0
	while [ -e "/proc/$1/fd/$n" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

# Runs prlimit(1) on the listener as its own user: root may lack
# CAP_SYS_RESOURCE (so in some containers), and a user may always lower
# the limits of its own processes and raise a soft limit back.
server_prlimit() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		    prlimit --pid "$CHATD_PID" "$@"
	else
		prlimit --pid "$CHATD_PID" "$@"
	fi
}

@test "fork failing: the client is told, one log line, the others chat on" {
	local user=() nproc
	# RLIMIT_NPROC does not hold root back: as root, chatd runs as
	# nobody. The limit is lowered on the running listener, and as
	# nobody may run other processes, only a limit of 1 is sure.
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -m 700 "$TESTROOT/run"
		user=(-u nobody --run-dir "$TESTROOT/run")
	fi
	start_chatd "${user[@]}"
	if [ "$(id -u)" -eq 0 ]; then
		RUNDIR=$TESTROOT/run
		wait_for "$TIMEOUT" grep -q "running as nobody" "$LOG"
	fi
	nproc=$(server_prlimit --nproc --raw --noheadings --output SOFT)
	login_all alice bob
	server_prlimit --nproc=1:
	expect_refused carol
	expect_refused dave
	[ "$(log_count listener "cannot fork a worker: Resource temporarily unavailable; refusing new connections")" -eq 1 ]
	all_chat alice bob
	server_prlimit --nproc="$nproc:"
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	log_has listener "accepting new connections again (2 refused)"
	all_chat alice bob carol
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "out of descriptors: the listener refuses without spinning, one log line, and recovers" {
	local nofile t0 t1 i
	start_chatd
	login_all alice bob
	nofile=$(prlimit --pid "$CHATD_PID" --nofile --raw --noheadings \
	    --output SOFT)
	prlimit --pid "$CHATD_PID" --nofile="$(lowest_free_fd "$CHATD_PID"):"
	expect_refused carol
	t0=$(cpu_ticks "$CHATD_PID")
	for i in {1..20}; do
		expect_refused "c$i"
	done
	# Refusing 20 clients and a second of waiting cost next to no CPU;
	# a listener that left them queued would spin at 100%.
	sleep 1
	t1=$(cpu_ticks "$CHATD_PID")
	echo "CPU ticks: $t0 then $t1" >&2
	[ $((t1 - t0)) -le 20 ]
	[ "$(log_count listener "out of file descriptors: Too many open files; refusing new connections")" -eq 1 ]
	[ "$(wc -l <"$LOG")" -lt 50 ]
	all_chat alice bob
	prlimit --pid "$CHATD_PID" --nofile="$nofile:"
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	log_has listener "accepting new connections again (21 refused)"
	all_chat alice bob carol
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "out of descriptors: SIGTERM still tells everybody and cleans up" {
	start_chatd
	login_all alice bob
	prlimit --pid "$CHATD_PID" --nofile="$(lowest_free_fd "$CHATD_PID"):"
	expect_refused carol
	kill -TERM "$CHATD_PID"
	expect alice "* server shutting down"
	expect_eof alice
	expect bob "* server shutting down"
	expect_eof bob
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a symlink in /dev/shm in place of the segment: exit 69, its target untouched" {
	echo precious >"$TESTROOT/victim"
	FOREIGN=/dev/shm/chatd.$INSTANCE
	ln -s "$TESTROOT/victim" "$FOREIGN"
	try_chatd
	assert_refused_with "shared memory /chatd.$INSTANCE cannot be used: it is a symbolic link; remove it or use another instance"
	[ -L "$FOREIGN" ]
	[ "$(cat "$TESTROOT/victim")" = precious ]
}

@test "a directory or a FIFO in /dev/shm in place of the segment: exit 69, left alone" {
	FOREIGN=/dev/shm/chatd.$INSTANCE
	mkdir -m 700 "$FOREIGN"
	try_chatd
	assert_refused_with "shared memory /chatd.$INSTANCE cannot be used: it is not a shared memory object; remove it or use another instance"
	[ -d "$FOREIGN" ]
	rmdir "$FOREIGN"
	mkfifo -m 600 "$FOREIGN"
	try_chatd
	assert_refused_with "shared memory /chatd.$INSTANCE cannot be used: it is not a shared memory object; remove it or use another instance"
	[ -p "$FOREIGN" ]
}

@test "a segment of ours that others may read: exit 69, left alone" {
	FOREIGN=/dev/shm/chatd.$INSTANCE
	head -c 65536 /dev/zero >"$FOREIGN"
	chmod 644 "$FOREIGN"
	try_chatd
	assert_refused_with "shared memory /chatd.$INSTANCE is not chatd's own (owner uid $(id -u), mode 644); remove it or use another instance"
	[ "$(stat -c %s:%a "$FOREIGN")" = 65536:644 ]
}

@test "a segment of ours full of garbage is stale: rebuilt, logged, users chat" {
	local n
	for n in 10 100000; do
		head -c "$n" /dev/urandom >"/dev/shm/chatd.$INSTANCE"
		chmod 600 "/dev/shm/chatd.$INSTANCE"
		start_here
		wait_for "$TIMEOUT" log_has listener \
		    "removing stale shared memory /chatd.$INSTANCE"
		login_all alice bob
		all_chat alice bob
		stop_chatd
		[ "$STATUS" -eq 0 ]
		assert_clean
	done
}

@test "things planted in the instance directory under pipe names are replaced, not followed" {
	mkdir -m 700 "$RUNDIR" "$RUNDIR/$INSTANCE"
	echo precious >"$TESTROOT/victim"
	mkfifo "$TESTROOT/fifo"
	ln -s "$TESTROOT/victim" "$RUNDIR/$INSTANCE/w0"
	ln -s "$TESTROOT/fifo" "$RUNDIR/$INSTANCE/w1"
	echo planted >"$RUNDIR/$INSTANCE/w2"
	start_here
	login_all alice bob carol
	log_has worker "$RUNDIR/$INSTANCE/w0 was not a pipe (a symbolic link): replacing it"
	log_has worker "$RUNDIR/$INSTANCE/w1 was not a pipe (a symbolic link): replacing it"
	log_has worker "$RUNDIR/$INSTANCE/w2 was not a pipe (a file): replacing it"
	[ -p "$RUNDIR/$INSTANCE/w0" ]
	[ ! -L "$RUNDIR/$INSTANCE/w0" ]
	all_chat alice bob carol
	[ "$(cat "$TESTROOT/victim")" = precious ]
	[ -p "$TESTROOT/fifo" ]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a symlink as the pid file: exit 69, its target untouched" {
	echo precious >"$TESTROOT/victim"
	ln -s "$TESTROOT/victim" "$TESTROOT/chatd.pid"
	try_chatd --pidfile "$TESTROOT/chatd.pid"
	assert_refused_with "cannot open pid file $TESTROOT/chatd.pid: Too many levels of symbolic links"
	[ "$(cat "$TESTROOT/victim")" = precious ]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}

# A second chatd on the running instance, on another port or (with
# "same") on the first one's, exits 69 saying why, and leaves the
# first, its segment and its pipes alone.
second_chatd() {
	local ino pipes why port=0
	start_chatd
	login_all alice bob
	ino=$(stat -c %i "/dev/shm/chatd.$INSTANCE")
	pipes=$(ls "$RUNDIR/$INSTANCE")
	why="instance $INSTANCE is already running (pid $CHATD_PID)"
	if [ "$1" = same ]; then
		port=$PORT
		why="cannot listen on 127.0.0.1 port $PORT: Address already in use"
	fi
	run --separate-stderr timeout 10 "$CHATD" -p "$port" -l 127.0.0.1 \
	    -n "$INSTANCE" --run-dir "$RUNDIR"
	assert_refused_with "$why"
	[ "$(stat -c %i "/dev/shm/chatd.$INSTANCE")" = "$ino" ]
	[ "$(ls "$RUNDIR/$INSTANCE")" = "$pipes" ]
	all_chat alice bob
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	all_chat alice bob carol
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a second chatd on the instance, another port: exit 69, the first unharmed" {
	second_chatd other
}

@test "a second chatd on the instance and its port: exit 69, the first unharmed" {
	second_chatd same
}

# Removes the instance directory ($1 "instance") or the whole run
# directory ("all") under a running server whose users alice and bob
# have talked (so their workers keep each other's pipes open), with
# carol, whom nobody has woken yet: the listener makes the directory
# again, and all chat on.
removed_under_us() {
	start_chatd
	login_all alice bob
	all_chat alice bob
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	if [ "$1" = all ]; then
		rm -rf "$RUNDIR"
	else
		rm -rf "${RUNDIR:?}/$INSTANCE"
	fi
	wait_for "$TIMEOUT" log_has listener "$RUNDIR/$INSTANCE was removed under us: made it again"
	all_chat alice bob carol
	login dave
	expect alice "* dave joined lobby"
	expect bob "* dave joined lobby"
	expect carol "* dave joined lobby"
	all_chat alice bob carol dave
	[ "$(stat -c %a "$RUNDIR")" = 700 ]
	[ "$(stat -c %a "$RUNDIR/$INSTANCE")" = 700 ]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "the instance directory removed under a running server: made again, all chat on" {
	removed_under_us instance
}

@test "the whole run directory removed under a running server: made again, all chat on" {
	removed_under_us all
}

@test "the instance directory moved away and a symlink planted there: logged, refused, then made again" {
	start_chatd
	login_all alice bob carol
	mkdir -m 700 "$TESTROOT/elsewhere"
	mv "$RUNDIR/$INSTANCE" "$TESTROOT/moved"
	ln -s "$TESTROOT/elsewhere" "$RUNDIR/$INSTANCE"
	wait_for "$TIMEOUT" log_has listener "run directory lost: cannot open $RUNDIR/$INSTANCE: not a directory (or a symlink); new users cannot join until it is back"
	expect_refused dave
	# The moved directory still holds the pipes: nobody lost a thing.
	all_chat alice bob carol
	[ -z "$(ls -A "$TESTROOT/elsewhere")" ]
	rm "$RUNDIR/$INSTANCE"
	wait_for "$TIMEOUT" log_has listener "$RUNDIR/$INSTANCE was removed under us: made it again"
	login dave
	expect alice "* dave joined lobby"
	expect bob "* dave joined lobby"
	expect carol "* dave joined lobby"
	all_chat alice bob carol dave
	[ "$(log_count listener "run directory lost: cannot open $RUNDIR/$INSTANCE: not a directory (or a symlink); new users cannot join until it is back")" -eq 1 ]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

# Sends signal $1 to process $2 every 20 ms while process $3 runs, at
# most $4 times.
signal_while() {
	local i
	for ((i = 0; i < $4; i++)); do
		dead "$3" && return 0
		kill "-$1" "$2" 2>/dev/null || true
		sleep 0.02
	done
}

@test "SIGHUP to the listener and every worker during heavy traffic: every line once, in order" {
	local conf=$BATS_TEST_TMPDIR/chatd.conf pid
	printf 'rate = 0\nmax-per-address = 0\n' >"$conf"
	CHATD_DEFAULTS=(-v --history 0)
	start_chatd -f "$conf"
	login_all alice bob
	# bench/chatbench -C: every line once and in order, or it fails.
	"$CHATBENCH" -p "$PORT" -n 30 -s 5 -m 400 -w 400 -l 1 -T 60 -N load -C \
	    >"$BATS_TEST_TMPDIR/load.out" 2>&1 &
	LOAD_PID=$!
	signal_while HUP "$CHATD_PID" "$LOAD_PID" 500
	# An administrator's "kill -HUP" of every chatd process: workers
	# ignore it.
	for pid in $(children_of "$CHATD_PID"); do
		kill -HUP "$pid"
	done
	wait "$LOAD_PID" || { cat "$BATS_TEST_TMPDIR/load.out"; false; }
	LOAD_PID=
	cat "$BATS_TEST_TMPDIR/load.out"
	grep -q "expected=58000 delivered=58000 lost=0 dup=0 reordered=0 echo=0" \
	    "$BATS_TEST_TMPDIR/load.out"
	log_has listener "SIGHUP: settings re-read"
	run ! grep -q "killed by signal\|exited with status" "$LOG"
	say alice "still here"
	expect_eventually bob "<alice> still here"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

declare -gA NEXT

# Reads client $1's lines until it has had $2 chat lines from chatbench's
# senders ("<NAME> SENDER SEQ STAMP"), or with "shutdown" up to
# "* server shutting down" and the close. The lines of each sender must
# be its first ones, each once, in order: NEXT holds, for each, the
# number its next line must have. NLINES counts them.
read_load_lines() {
	local re='^<load[0-9]+> ([0-9]+) ([0-9]+) [0-9]+$' want
	while [ "$2" = shutdown ] || [ "$NLINES" -lt "$2" ]; do
		next_line "$1" || return 1
		if [ "$LINE" = "* server shutting down" ]; then
			[ "$2" = shutdown ] || return 1
			expect_eof "$1"
			return
		fi
		[[ $LINE =~ $re ]] || continue
		want=${NEXT[$1.${BASH_REMATCH[1]}]:-0}
		if [ "${BASH_REMATCH[2]}" != "$want" ]; then
			echo "$1: sender ${BASH_REMATCH[1]}: line ${BASH_REMATCH[2]}, expected $want" >&2
			return 1
		fi
		NEXT[$1.${BASH_REMATCH[1]}]=$((want + 1))
		NLINES=$((NLINES + 1))
	done
}

@test "SIGTERM during heavy traffic: lines once and in order, then the notice; nothing left behind" {
	local pids pid
	start_chatd --max-per-address 0
	login_all alice bob
	# More lines than it can send before the signal: 5 senders, 200
	# lines a second each, to 31 others.
	"$CHATBENCH" -p "$PORT" -n 30 -s 5 -m 100000 -r 200 -l 1 -T 600 \
	    -N load -C >"$BATS_TEST_TMPDIR/load.out" 2>&1 &
	LOAD_PID=$!
	# Traffic is flowing: alice has had 200 lines, and chatbench (which
	# registers everybody before it sends) is still sending.
	NLINES=0
	read_load_lines alice 200
	run ! dead "$LOAD_PID"
	pids=$(children_of "$CHATD_PID")
	[ "$(echo "$pids" | wc -l)" -eq 32 ]
	kill -TERM "$CHATD_PID"
	read_load_lines alice shutdown
	NLINES=0
	read_load_lines bob shutdown
	echo "bob had $NLINES lines before the notice" >&2
	[ "$NLINES" -ge 200 ]
	stop_pid 15 "$CHATD_PID"
	CHATD_PID=
	[ "$STATUS" -eq 0 ]
	# chatbench -C sees its clients closed and gives up.
	wait_for "$TIMEOUT" dead "$LOAD_PID"
	stop_pid 1 "$LOAD_PID"
	LOAD_PID=
	for pid in $pids; do
		dead "$pid"
	done
	close_clients
	assert_clean
	log_has listener "shutting down"
	run ! grep -q "killing .* workers that did not exit" "$LOG"
}
