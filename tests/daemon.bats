#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Daemon mode (-d): detaching, the starter's exit status, the pid file
# and its lock, syslog; and -u USER, checked as root on the processes
# themselves.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	# Somewhere nobody can reach: test directories are root's 0700.
	TESTROOT=$(mktemp -d /tmp/chatd-daemon.XXXXXX)
	chmod 755 "$TESTROOT"
	RUNDIR=$TESTROOT/run
	PIDFILE=$TESTROOT/chatd.pid
	LOG=$BATS_TEST_TMPDIR/chatd.log
	DAEMON_PID=
	SOCAT_PID=
	# A daemon's stderr is /dev/null: sanitizers report to files.
	mkdir -m 1777 "$TESTROOT/san"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TESTROOT/san/report"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$TESTROOT/san/report"
}

teardown() {
	local rc=0
	stop_chatd
	stop_daemon
	if [ -n "$SOCAT_PID" ]; then
		kill "$SOCAT_PID" 2>/dev/null || true
	fi
	assert_no_sanitizer_report || rc=1
	if compgen -G "$TESTROOT/san/report*" >/dev/null; then
		cat "$TESTROOT"/san/report* >&2
		rc=1
	fi
	rm -f "/dev/shm/chatd.$INSTANCE" "/run/chatd.$INSTANCE.pid"
	rm -rf "$TESTROOT"
	return "$rc"
}

needs_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	getent passwd nobody >/dev/null || skip "no user nobody"
}

# Field $2 of /proc/$1/stat, counting from the state (3) on.
stat_field() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	read -r -a F <<<"$stat"
	echo "${F[$2 - 3]}"
}

# Starts chatd -d with this test's instance, run directory and pid
# file: $STATUS is the starter's exit status, $LOG its stderr, $PORT
# the port and $DAEMON_PID the pid in the pid file.
start_daemon() {
	STATUS=0
	"$CHATD" -d -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    --rate 0 "$@" 2>"$LOG" 3>&- || STATUS=$?
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG" |
	    head -n 1)
}

# The daemon whose pid the pid file holds, checked to be running.
daemon_from() {
	DAEMON_PID=$(cat "$1")
	[[ $DAEMON_PID =~ ^[0-9]+$ ]] && [ -d "/proc/$DAEMON_PID" ] || {
		echo "$1 holds '$DAEMON_PID', no running process" >&2
		return 1
	}
}

# SIGTERM to the daemon and wait; SIGKILL if it will not go.
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	if ! wait_for 15 dead "$DAEMON_PID"; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
	fi
	DAEMON_PID=
}

# The start-up failed with status 69 and stderr saying $1 (a regular
# expression matched against whole lines).
assert_refused() {
	[ "$STATUS" -eq 69 ] || {
		echo "exit status $STATUS, not 69; stderr:" >&2
		cat "$LOG" >&2
		return 1
	}
	grep -Eq "^chatd/listener\[[0-9]+\]: $1\$" "$LOG" || {
		echo "stderr does not say /$1/:" >&2
		cat "$LOG" >&2
		return 1
	}
}

# Two users chat through the server on $PORT.
chat_works() {
	login_all alice bob
	say alice "hello bob"
	expect bob "<alice> hello bob"
}

# Uid and Gid lines of /proc/$1/status are all nobody's, and no
# supplementary group is root's.
assert_nobody() {
	local uid gid
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	if ! grep -Eq "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid\$" \
	    "/proc/$1/status" ||
	    ! grep -Eq "^Gid:[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid\$" \
	    "/proc/$1/status" ||
	    grep -Eq "^Groups:(.*[[:space:]])?0([[:space:]]|\$)" \
	    "/proc/$1/status"; then
		echo "process $1 is not nobody:" >&2
		grep -E '^(Uid|Gid|Groups):' "/proc/$1/status" >&2
		return 1
	fi
}

@test "-d: the starter exits 0 once the server is ready; the daemon is detached" {
	local starter lk ppid sid tty fd
	# Hold the instance directory's lock, so that the daemon stops
	# short of making the segment: the starter must wait for it.
	mkdir -m 700 "$RUNDIR" "$RUNDIR/$INSTANCE"
	exec {lk}<"$RUNDIR/$INSTANCE"
	flock -x "$lk"
	"$CHATD" -d -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    --rate 0 --pidfile "$PIDFILE" 2>"$LOG" 3>&- {lk}<&- &
	starter=$!
	wait_for "$TIMEOUT" test -s "$PIDFILE"
	daemon_from "$PIDFILE"
	[ "$DAEMON_PID" != "$starter" ]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
	run ! dead "$starter"
	exec {lk}<&-
	STATUS=0
	wait "$starter" || STATUS=$?
	[ "$STATUS" -eq 0 ]
	# Ready: the segment is there, and the log says where to connect.
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	grep -Eq "^chatd/listener\[$starter\]: listening on 127.0.0.1 port $PORT\$" "$LOG"
	# Not our child, not in our session, no terminal, no session leader.
	ppid=$(stat_field "$DAEMON_PID" 4)
	sid=$(stat_field "$DAEMON_PID" 6)
	tty=$(stat_field "$DAEMON_PID" 7)
	[ "$ppid" != "$$" ]
	[ "$ppid" != "$BASHPID" ]
	[ "$sid" != "$(stat_field "$BASHPID" 6)" ]
	[ "$sid" != "$DAEMON_PID" ]
	[ "$tty" -eq 0 ]
	for fd in 0 1 2; do
		[ "$(readlink "/proc/$DAEMON_PID/fd/$fd")" = /dev/null ]
	done
	[ "$(readlink "/proc/$DAEMON_PID/cwd")" = / ]
	chat_works
	kill -TERM "$DAEMON_PID"
	expect alice "* server shutting down"
	expect_eof alice
	wait_for "$TIMEOUT" dead "$DAEMON_PID"
	DAEMON_PID=
	[ ! -e "$PIDFILE" ]
	assert_clean
}

@test "-d: a second chatd on the instance exits 69, already running" {
	local first port
	start_daemon --pidfile "$PIDFILE"
	[ "$STATUS" -eq 0 ]
	daemon_from "$PIDFILE"
	first=$DAEMON_PID
	port=$PORT
	# The same pid file: its lock refuses.
	start_daemon --pidfile "$PIDFILE"
	assert_refused "instance $INSTANCE is already running \\(pid $first; $PIDFILE is locked\\)"
	[ "$(cat "$PIDFILE")" = "$first" ]
	# Another pid file: the segment refuses, and that pid file goes.
	start_daemon --pidfile "$TESTROOT/other.pid"
	assert_refused "instance $INSTANCE is already running \\(pid $first\\)"
	[ ! -e "$TESTROOT/other.pid" ]
	# The first still serves, and still holds its pid file.
	PORT=$port
	chat_works
	[ "$(cat "$PIDFILE")" = "$first" ]
	kill -TERM "$first"
	wait_for "$TIMEOUT" dead "$first"
	DAEMON_PID=
	[ ! -e "$PIDFILE" ]
	assert_clean
}

@test "-d: a bad bind exits 69 from the starter, with the reason on stderr" {
	start_chatd
	local busy=$PORT
	STATUS=0
	"$CHATD" -d -p "$busy" -l 127.0.0.1 -n "$INSTANCE.2" \
	    --run-dir "$RUNDIR" --pidfile "$PIDFILE" 2>"$LOG.2" 3>&- ||
	    STATUS=$?
	LOG=$LOG.2 assert_refused "cannot listen on 127.0.0.1 port $busy: Address already in use"
	[ ! -e "$PIDFILE" ]
	[ ! -e "/dev/shm/chatd.$INSTANCE.2" ]
}

@test "-d: a failure after detaching reaches the starter: status 69 and the reason" {
	# A run directory that is not chatd's own is found by the daemon.
	mkdir -m 755 "$RUNDIR"
	start_daemon --pidfile "$PIDFILE"
	assert_refused "$RUNDIR is not chatd's own \\(owner uid $(id -u), mode 755; it must be ours and 0700\\)"
	# Nothing is left: no pid file, no segment, no process.
	[ ! -e "$PIDFILE" ]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}

@test "-d: the pid file is /run/chatd.NAME.pid for root" {
	needs_root
	start_daemon
	[ "$STATUS" -eq 0 ]
	daemon_from "/run/chatd.$INSTANCE.pid"
	[ "$(stat -c %a "/run/chatd.$INSTANCE.pid")" = 644 ]
	kill -TERM "$DAEMON_PID"
	wait_for "$TIMEOUT" dead "$DAEMON_PID"
	DAEMON_PID=
	[ ! -e "/run/chatd.$INSTANCE.pid" ]
	assert_clean
}

@test "-d: the pid file is RUNDIR/NAME.pid for other users" {
	needs_root
	command -v setpriv >/dev/null || skip "no setpriv"
	install -d -m 700 -o nobody -g "$(id -gn nobody)" "$RUNDIR"
	STATUS=0
	setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups \
	    "$CHATD" -d -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    2>"$LOG" 3>&- || STATUS=$?
	[ "$STATUS" -eq 0 ]
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	daemon_from "$RUNDIR/$INSTANCE.pid"
	assert_nobody "$DAEMON_PID"
	chat_works
	kill -TERM "$DAEMON_PID"
	wait_for "$TIMEOUT" dead "$DAEMON_PID"
	DAEMON_PID=
	assert_clean
}

# Runs $@ in a mount namespace of its own in which /dev/log is a socat
# writing what it gets to $SYSLOG; the real /dev is left alone.
with_syslog() {
	SYSLOG=$TESTROOT/syslog
	mkdir "$TESTROOT/dev"
	cat >"$TESTROOT/ns.sh" <<-'EOF'
	set -e
	root=$1
	shift
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=755 tmpfs /dev
	for n in null zero random urandom; do
		touch "/dev/$n"
		mount --bind "$root/dev/$n" "/dev/$n"
	done
	mkdir /dev/shm
	mount --rbind "$root/dev/shm" /dev/shm
	(umask 0 && exec socat -u UNIX-RECV:/dev/log \
	    "OPEN:$root/syslog,creat,append") &
	echo $! >"$root/socat.pid"
	i=0
	while [ ! -S /dev/log ] && [ "$i" -lt 500 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	exec "$@"
	EOF
	unshare --mount sh "$TESTROOT/ns.sh" "$TESTROOT" "$@"
}

# The syslog file has a message of priority $1 (facility daemon, 24,
# plus the level: 6 info, 7 debug) from chatd/$2[$3]: $4.
logged() {
	grep -oE "<[0-9]+>[^<]*" "$SYSLOG" |
	    grep -Eq "^<$1>.* chatd/$2\[$3\]: $4\$"
}

@test "-d: messages go to syslog, facility daemon, from listener and workers" {
	local worker
	needs_root
	command -v unshare >/dev/null || skip "no unshare"
	command -v socat >/dev/null || skip "no socat"
	STATUS=0
	with_syslog "$CHATD" -d -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$RUNDIR" --pidfile "$PIDFILE" -u nobody -v \
	    2>"$LOG" 3>&- || STATUS=$?
	SOCAT_PID=$(cat "$TESTROOT/socat.pid")
	[ "$STATUS" -eq 0 ]
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	daemon_from "$PIDFILE"
	assert_nobody "$DAEMON_PID"
	# Start-up went to both the starter's stderr and syslog.
	wait_for "$TIMEOUT" logged 30 listener '[0-9]+' "listening on 127.0.0.1 port $PORT"
	wait_for "$TIMEOUT" logged 30 listener "$DAEMON_PID" \
	    "running as nobody \\(uid $(id -u nobody), gid $(id -g nobody)\\)"
	chat_works
	# With -v, a worker's (debug) lines too.
	wait_for "$TIMEOUT" logged 31 worker '[0-9]+' "127.0.0.1 registered as bob"
	worker=$(grep -oE "<31>[^<]*" "$SYSLOG" |
	    sed -n 's/.*chatd\/worker\[\([0-9]*\)\]: 127.0.0.1 registered as bob$/\1/p')
	[ "$(stat_field "$worker" 4)" = "$DAEMON_PID" ]
	run ! grep -q "registered as" "$LOG"
	kill -TERM "$DAEMON_PID"
	wait_for "$TIMEOUT" dead "$DAEMON_PID"
	wait_for "$TIMEOUT" logged 30 listener "$DAEMON_PID" "shutting down"
	DAEMON_PID=
	assert_clean
	[ -f "$PIDFILE" ]
	[ ! -s "$PIDFILE" ]
}

@test "-u: the listener and every worker run as the user, who owns the segment" {
	local uid listener worker fd
	needs_root
	uid=$(id -u nobody)
	# What chatd as root leaves: an empty run directory, root's, 0700.
	mkdir -m 700 "$RUNDIR"
	"$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" -v \
	    --rate 0 -u nobody --pidfile "$PIDFILE" 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'listening on' "$LOG"
	wait_for "$TIMEOUT" grep -q 'running as nobody' "$LOG"
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	chat_works
	listener=$CHATD_PID
	worker=$(worker_pid alice)
	[ -n "$worker" ]
	[ "$worker" != "$listener" ]
	assert_nobody "$listener"
	assert_nobody "$worker"
	[ "$(stat -c %u "/dev/shm/chatd.$INSTANCE")" -eq "$uid" ]
	[ "$(stat -c '%u %a' "$RUNDIR")" = "$uid 700" ]
	[ "$(stat -c '%u %a' "$RUNDIR/$INSTANCE")" = "$uid 700" ]
	# The pid file, written as root, keeps root's.
	[ "$(cat "$PIDFILE")" = "$listener" ]
	[ "$(stat -c %u "$PIDFILE")" -eq 0 ]
	# Workers do not keep the pid file open.
	for fd in "/proc/$worker/fd/"*; do
		[ "$(readlink "$fd")" != "$PIDFILE" ]
	done
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
	# nobody may not unlink in a directory of root's: the file is
	# emptied, so that it names no process, and its lock is free.
	[ -f "$PIDFILE" ]
	[ ! -s "$PIDFILE" ]
	"$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    -u nobody --pidfile "$PIDFILE" 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'running as nobody' "$LOG"
	[ "$(cat "$PIDFILE")" = "$CHATD_PID" ]
}

@test "-u: an unknown user exits 64 before anything is bound" {
	run --separate-stderr "$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$RUNDIR" -u no-such-user-here
	[ "$status" -eq 64 ]
	[ "$stderr" = "chatd: --user: no such user 'no-such-user-here'" ]
	[ ! -e "$RUNDIR" ]
}

@test "-u: a run directory of root's that is not empty is not given away" {
	needs_root
	mkdir -m 700 "$RUNDIR"
	touch "$RUNDIR/something"
	run --separate-stderr "$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$RUNDIR" -u nobody
	[ "$status" -eq 69 ]
	[[ $stderr =~ "cannot give $RUNDIR to nobody: it is not an empty directory of root's with mode 0700 (owner uid 0, mode 700)" ]]
	[ "$(stat -c %u "$RUNDIR")" -eq 0 ]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}

# A new connection's MOTD is exactly $1.
motd_is() {
	local ok=1
	connect probe
	expect_re probe '^\* Welcome to chatd! [0-9]+ users? online\.$' &&
	    next_line probe && [ "$LINE" = "$1" ] && ok=0
	disconnect probe
	return "$ok"
}

@test "-d: SIGHUP reads a relative --motd from the start directory, not /" {
	printf 'first\n' >"$TESTROOT/motd"
	cd "$TESTROOT"
	start_daemon --motd motd --pidfile "$PIDFILE"
	cd - >/dev/null
	[ "$STATUS" -eq 0 ]
	daemon_from "$PIDFILE"
	motd_is "* first"
	printf 'second\n' >"$TESTROOT/motd"
	kill -HUP "$DAEMON_PID"
	wait_for "$TIMEOUT" motd_is "* second"
}
