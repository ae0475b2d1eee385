#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The configuration file (-f), the MOTD (--motd) and SIGHUP: the syntax,
# every option settable in a file, each bad line named by file, line and
# setting (exit 78), the limits of the numbers, the command line winning,
# and what a re-read applies live.

load helpers

# These tests set the rate limit from files: no --rate 0 on the command
# line, which would win.
CHATD_DEFAULTS=(-v)

setup() {
	CONF=$BATS_TEST_TMPDIR/chatd.conf
}

# Runs chatd with only a file; it must fail before binding anything.
run_conf() {
	run "$CHATD" -f "$CONF" "$@"
}

reload() {
	local n
	n=$(grep -c 'SIGHUP' "$LOG" || true)
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" sighup_logged "$((n + 1))"
}

sighup_logged() {
	[ "$(grep -c 'SIGHUP: \(settings re-read\|.*keeping the old\)' \
	    "$LOG")" -ge "$1" ]
}

# Connects and reads the greeting up to the prompt; GREETING holds the
# lines between the welcome line and the prompt (the MOTD).
open_motd_client() {
	connect "$1"
	expect_re "$1" '^\* Welcome to chatd! [0-9]+ users? online\.$'
	GREETING=()
	while next_line "$1" && [ "$LINE" != "Enter your name:" ]; do
		GREETING+=("$LINE")
	done
	[ "$LINE" = "Enter your name:" ]
}

# A new connection's MOTD is exactly $1.
motd_is() {
	open_motd_client probe && [ "${GREETING[*]}" = "$1" ]
	local ok=$?
	disconnect probe
	return "$ok"
}

@test "every option of --help can be set in a file" {
	local names name
	names=$("$CHATD" --help | grep -o -- '--[a-z][a-z0-9-]*' | sed 's/^--//' |
	    sort -u)
	[ -n "$names" ]
	printf 'secret hash\n' >"$BATS_TEST_TMPDIR/oper"
	chmod 600 "$BATS_TEST_TMPDIR/oper"
	printf 'hello\n' >"$BATS_TEST_TMPDIR/motd"
	mkdir -m 700 "$BATS_TEST_TMPDIR/state"
	printf 'sent\nexpected\n' >"$BATS_TEST_TMPDIR/linkpw"
	chmod 600 "$BATS_TEST_TMPDIR/linkpw"
	for name in $names; do
		# --link and --link-only need the settings that go with them.
		more=
		case $name in
		config|check-config|help|version)
			# Not settings: they act. A file refuses them.
			printf '%s = x\n' "$name" >"$CONF"
			run_conf -t
			[ "$status" -eq 78 ]
			[[ $output == *"$CONF:1: '$name' cannot be set in a configuration file"* ]]
			continue ;;
		port) value=0 ;;
		listen) value=127.0.0.1 ;;
		proxy-from) value=192.0.2.0/24 ;;
		inetd|daemon|verbose) value=no ;;
		instance) value=conftest ;;
		user) value=$(id -un) ;;
		pidfile) value=$BATS_TEST_TMPDIR/pid ;;
		run-dir) value=$BATS_TEST_TMPDIR/run ;;
		state-dir) value=$BATS_TEST_TMPDIR/state ;;
		motd) value=$BATS_TEST_TMPDIR/motd ;;
		oper-password-file) value=$BATS_TEST_TMPDIR/oper ;;
		oper-first-user) value=no ;;
		server-name) value=a.chatd.test ;;
		link-password-file) value=$BATS_TEST_TMPDIR/linkpw ;;
		link|link-only)
			[ "$name" = link ] && value=127.0.0.1:6667 || value=yes
			more=$(printf 'link = 127.0.0.1:6667\nserver-name = a.chatd.test\nlink-password-file = %s' \
			    "$BATS_TEST_TMPDIR/linkpw") ;;
		*) value=100 ;;
		esac
		printf '%s = %s\n%s\n' "$name" "$value" "$more" >"$CONF"
		run_conf -t
		if [ "$status" -ne 0 ] || [ "$output" != "chatd: settings OK" ]; then
			echo "$name = $value: $output" >&2
			return 1
		fi
		# And a bad value names the file, the line and the setting.
		printf '# comment\n\n%s = \n' "$name" >"$CONF"
		run_conf -t
		[ "$status" -eq 78 ]
		[[ $output == "chatd: $CONF:3: $name: no value" ]]
	done
}

@test "a bad file: unknown setting, bad value, no '=', bad flag, unreadable: exit 78 naming file and line" {
	printf 'port = 9000\nfrobnicate = 1\n' >"$CONF"
	run_conf
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:2: unknown setting 'frobnicate'" ]

	printf '\n# rate\n   rate = fast  \n' >"$CONF"
	run_conf
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:3: rate: 'fast' is not a number" ]

	printf 'max-clients 10\n' >"$CONF"
	run_conf
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: expected 'name = value', not 'max-clients 10'" ]

	printf 'verbose = maybe\n' >"$CONF"
	run_conf
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: verbose: 'maybe' is not yes or no" ]

	run "$CHATD" -f "$BATS_TEST_TMPDIR/missing.conf"
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $BATS_TEST_TMPDIR/missing.conf: cannot read it: No such file or directory" ]

	printf 'motd = %s\n' "$BATS_TEST_TMPDIR/nomotd" >"$CONF"
	run_conf
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: motd: $BATS_TEST_TMPDIR/nomotd: No such file or directory" ]
}

@test "every bad line of a file is reported as FILE:LINE: KEY: REASON, then exit 78" {
	cat >"$CONF" <<-'EOF'
	rate = fast
	port = 9000
	# a comment, then a good line between bad ones
	burst = 0
	history = 5
	oper-first-user = maybe
	EOF
	run_conf -t
	[ "$status" -eq 78 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "chatd: $CONF:1: rate: 'fast' is not a number" ]
	[ "${lines[1]}" = "chatd: $CONF:4: burst: 0 is out of range (1 to 1000000)" ]
	[ "${lines[2]}" = "chatd: $CONF:6: oper-first-user: 'maybe' is not yes or no" ]
	# Not only with -t: a server is not started either.
	run_conf
	[ "$status" -eq 78 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[2]}" = "chatd: $CONF:6: oper-first-user: 'maybe' is not yes or no" ]

	# Every kind of bad line, each once, in the file's order.
	cat >"$CONF" <<-EOF
	frobnicate = 1
	max-clients 10
	help = yes
	history =
	verbose = maybe
	motd = $BATS_TEST_TMPDIR/nomotd
	EOF
	run_conf -t
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: unknown setting 'frobnicate'
chatd: $CONF:2: expected 'name = value', not 'max-clients 10'
chatd: $CONF:3: 'help' cannot be set in a configuration file
chatd: $CONF:4: history: no value
chatd: $CONF:5: verbose: 'maybe' is not yes or no
chatd: $CONF:6: motd: $BATS_TEST_TMPDIR/nomotd: No such file or directory" ]
}

@test "each number's limits: both ends accepted, one past either refused naming them" {
	# name, smallest, largest: what chatd(8) documents.
	local limits=(port 0 65535 max-clients 0 65536
	    max-per-address 0 65536 max-line 16 8192 register-timeout 0 86400
	    history 0 1000 max-rooms 1 4096 rate 0 1000000 burst 1 1000000
	    flood-kick 0 86400 keepalive 0 86400 quiet-above 0 65536)
	local i end name min max expected=() n=0
	# Every smallest value, then every largest.
	for end in 1 2; do
		: >"$CONF"
		for ((i = 0; i < ${#limits[@]}; i += 3)); do
			printf '%s = %s\n' "${limits[i]}" \
			    "${limits[i + end]}" >>"$CONF"
		done
		run_conf -t
		[ "$status" -eq 0 ]
		[ "$output" = "chatd: settings OK" ]
	done
	: >"$CONF"
	for ((i = 0; i < ${#limits[@]}; i += 3)); do
		name=${limits[i]} min=${limits[i + 1]} max=${limits[i + 2]}
		printf '%s = %s\n' "$name" "$((max + 1))" >>"$CONF"
		expected+=("chatd: $CONF:$((++n)): $name: $((max + 1)) is out of range ($min to $max)")
		[ "$min" -gt 0 ] || continue
		printf '%s = %s\n' "$name" "$((min - 1))" >>"$CONF"
		expected+=("chatd: $CONF:$((++n)): $name: $((min - 1)) is out of range ($min to $max)")
	done
	run_conf -t
	[ "$status" -eq 78 ]
	[ "$output" = "$(printf '%s\n' "${expected[@]}")" ]
	# The command line names the option as it is written there.
	run "$CHATD" -t --max-line 15
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --max-line: 15 is out of range (16 to 8192)" ]
}

@test "the command line is checked first: a bad option is exit 64 alone, whatever the file holds" {
	printf 'rate = fast\nburst = 0\n' >"$CONF"
	run "$CHATD" -t -f "$CONF" --history x
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --history: 'x' is not a number" ]
	run "$CHATD" -t -f "$CONF" --history 5
	[ "$status" -eq 78 ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "contrib/chatd.conf (the package's) is valid, starts a server, makes no operator" {
	run "$CHATD" -t -f "$BATS_TEST_DIRNAME/../contrib/chatd.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "chatd: settings OK" ]
	start_chatd -f "$BATS_TEST_DIRNAME/../contrib/chatd.conf"
	# The packaged default for a public server: the first user is no
	# operator.
	open_client alice
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	barrier alice
	grep -qx 'oper-first-user = no' "$BATS_TEST_DIRNAME/../contrib/chatd.conf"
	grep -qx 'run-dir = /run/chatd' "$BATS_TEST_DIRNAME/../contrib/chatd.conf"
}

@test "a bad command line is still exit 64, even with a good file" {
	printf 'history = 5\n' >"$CONF"
	run "$CHATD" -f "$CONF" --history x
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --history: 'x' is not a number" ]
	run "$CHATD" -d -i
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --daemon and --inetd exclude each other" ]
}

@test "comments, blanks and spacing; a relative -f path; settings take effect" {
	cat >"$CONF" <<-'EOF'
	# chatd test configuration
	   max-line   =   40   # a comment after a blank

	history=2
	EOF
	cd "$BATS_TEST_TMPDIR"
	start_chatd -f chatd.conf
	cd - >/dev/null
	login alice
	say alice "$(printf '%041d' 0)"
	expect alice "! line too long (max 40 bytes)"
	say alice one
	say alice two
	say alice three
	barrier alice
	login bob
	expect alice "* bob joined lobby"
	expect bob "* history: last 2 messages in lobby"
	expect_re bob '^\[[0-9]{2}:[0-9]{2}\] <alice> two$'
	expect_re bob '^\[[0-9]{2}:[0-9]{2}\] <alice> three$'
	expect bob "* end of history"
	barrier bob
}

@test "the command line wins over the file, and its -l replaces the file's" {
	printf 'max-line = 40\nlisten = 192.0.2.1\n' >"$CONF"
	# 192.0.2.1 (TEST-NET) cannot be bound: the command line's
	# 127.0.0.1 must replace it, not join it.
	start_chatd -f "$CONF" --max-line 60
	login alice
	say alice "$(printf '%050d' 0)"
	barrier alice
	say alice "$(printf '%061d' 0)"
	expect alice "! line too long (max 60 bytes)"
}

@test "--motd: its lines follow the greeting, cleaned of control characters" {
	printf 'Welcome to the\033[31m test\a server\r\n\nsecond line\n' \
	    >"$BATS_TEST_TMPDIR/motd"
	start_chatd --motd "$BATS_TEST_TMPDIR/motd"
	open_motd_client alice
	[ "${#GREETING[@]}" -eq 3 ]
	[ "${GREETING[0]}" = "* Welcome to the[31m test server" ]
	[ "${GREETING[1]}" = "* " ]
	[ "${GREETING[2]}" = "* second line" ]
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
}

@test "--motd: a file too long, or missing, stops chatd with exit 64" {
	head -c 5000 /dev/zero | tr '\0' 'x' | fold -w 60 >"$BATS_TEST_TMPDIR/motd"
	run "$CHATD" --motd "$BATS_TEST_TMPDIR/motd"
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --motd: $BATS_TEST_TMPDIR/motd: longer than 4096 bytes" ]
	run "$CHATD" --motd "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 64 ]
}

@test "SIGHUP re-reads the MOTD and the file; new connections see them" {
	printf 'old news\n' >"$BATS_TEST_TMPDIR/motd"
	printf 'motd = %s\n' "$BATS_TEST_TMPDIR/motd" >"$CONF"
	start_chatd -f "$CONF"
	open_motd_client alice
	[ "${GREETING[*]}" = "* old news" ]
	printf 'fresh news\n' >"$BATS_TEST_TMPDIR/motd"
	reload
	open_motd_client bob
	[ "${GREETING[*]}" = "* fresh news" ]
	# Dropping the setting from the file drops the MOTD.
	: >"$CONF"
	reload
	open_motd_client carol
	[ "${#GREETING[@]}" -eq 0 ]
}

# $1 sends six lines at once and every one is answered: no rate limit.
unlimited() {
	local i
	for i in 1 2 3 4 5 6; do say "$1" "/barrier"; done
	for i in 1 2 3 4 5 6; do
		expect "$1" "! unknown command: /barrier (try /help)" || return 1
	done
}

@test "SIGHUP applies a new rate limit to connections already open" {
	printf 'rate = 0\n' >"$CONF"
	start_chatd -f "$CONF"
	login alice
	unlimited alice
	printf 'rate = 1\nburst = 2\n' >"$CONF"
	reload
	for i in 1 2 3 4 5 6; do say alice "/barrier"; done
	expect alice "! unknown command: /barrier (try /help)"
	expect alice "! unknown command: /barrier (try /help)"
	expect alice "! rate limit exceeded, slow down"
}

@test "SIGHUP enables /oper for users already connected" {
	: >"$CONF"
	start_chatd --oper-first-user no -f "$CONF"
	open_client alice
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	say alice "/oper secret"
	expect alice "! /oper is not enabled"
	printf '%s\n' "$OPER_HASH" >"$BATS_TEST_TMPDIR/oper"
	chmod 600 "$BATS_TEST_TMPDIR/oper"
	printf 'oper-password-file = %s\n' "$BATS_TEST_TMPDIR/oper" >"$CONF"
	reload
	say alice "/oper secret"
	expect alice "* You are now an operator."
}

@test "SIGHUP lowers max-clients live" {
	printf 'max-clients = 10\n' >"$CONF"
	start_chatd -f "$CONF"
	login alice
	printf 'max-clients = 1\n' >"$CONF"
	reload
	connect bob
	expect bob "! server full"
	expect_eof bob
}

@test "SIGHUP: what needs a restart is logged and kept" {
	printf 'history = 1\n' >"$CONF"
	start_chatd -f "$CONF"
	login alice
	say alice one
	say alice two
	barrier alice
	printf 'history = 5\nmax-line = 100\n' >"$CONF"
	reload
	grep -q 'SIGHUP: history changed; it takes a restart' "$LOG"
	grep -q 'SIGHUP: max-line changed; it takes a restart' "$LOG"
	run ! grep -q 'SIGHUP: port changed' "$LOG"
	run ! grep -q 'SIGHUP: instance changed' "$LOG"
	login bob
	expect alice "* bob joined lobby"
	expect bob "* history: last 1 message in lobby"
	expect_re bob '^\[[0-9]{2}:[0-9]{2}\] <alice> two$'
	expect bob "* end of history"
	barrier bob
}

@test "SIGHUP with a broken file logs file and line and keeps the old settings" {
	printf 'max-line = 40\nrate = 0\n' >"$CONF"
	start_chatd -f "$CONF"
	printf 'max-line = 40\nrate = soon\n' >"$CONF"
	reload
	grep -q "SIGHUP: $CONF:2: rate: 'soon' is not a number; keeping the old settings" "$LOG"
	kill -0 "$CHATD_PID"
	login alice
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do say alice "/barrier"; done
	# The old settings, no rate limit, are still in force.
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		expect alice "! unknown command: /barrier (try /help)"
	done
	say alice "$(printf '%041d' 0)"
	expect alice "! line too long (max 40 bytes)"
}

@test "SIGHUP with three bad lines logs each and keeps the old settings; a good file then applies" {
	printf 'rate = 0\n' >"$CONF"
	start_chatd -f "$CONF"
	login alice
	printf 'rate = soon\nburst = 2\nmax-line = 5\n\nfrobnicate = 1\n' >"$CONF"
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" grep -qF "SIGHUP: $CONF:5: unknown setting 'frobnicate'; keeping the old settings" "$LOG"
	grep -qF "SIGHUP: $CONF:1: rate: 'soon' is not a number; keeping the old settings" "$LOG"
	grep -qF "SIGHUP: $CONF:3: max-line: 5 is out of range (16 to 8192); keeping the old settings" "$LOG"
	[ "$(grep -c 'keeping the old settings' "$LOG")" -eq 3 ]
	run ! grep -q 'SIGHUP: settings re-read' "$LOG"
	run ! grep -q 'SIGHUP: max-line changed' "$LOG"
	# Nothing of the bad file was applied: still no rate limit.
	unlimited alice
	# A good file after it is read as any other.
	printf 'rate = 1\nburst = 2\n' >"$CONF"
	reload
	grep -q 'SIGHUP: settings re-read' "$LOG"
	for i in 1 2 3 4 5 6; do say alice "/barrier"; done
	expect alice "! unknown command: /barrier (try /help)"
	expect alice "! unknown command: /barrier (try /help)"
	expect alice "! rate limit exceeded, slow down"
}

@test "-d: a relative path first met at SIGHUP is taken from the start directory, not /" {
	printf 'from the start directory\n' >"$BATS_TEST_TMPDIR/news"
	: >"$CONF"
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	mkdir -m 700 "$RUNDIR"
	cd "$BATS_TEST_TMPDIR"
	# Every path absolute: none makes chatd look at its directory.
	"$CHATD" -d -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    --pidfile "$BATS_TEST_TMPDIR/pid" -f "$CONF" 2>"$LOG" 3>&-
	cd - >/dev/null
	# teardown stops it as any other server.
	CHATD_PID=$(cat "$BATS_TEST_TMPDIR/pid")
	logged_port
	open_motd_client alice
	[ "${#GREETING[@]}" -eq 0 ]
	printf 'motd = news\n' >"$CONF"
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" motd_is "* from the start directory"
}

@test "an operator password file others may read is named in a warning" {
	printf '%s\n' "$OPER_HASH" >"$BATS_TEST_TMPDIR/oper"
	chmod 644 "$BATS_TEST_TMPDIR/oper"
	printf 'oper-password-file = %s\n' "$BATS_TEST_TMPDIR/oper" >"$CONF"
	start_chatd -f "$CONF"
	wait_for "$TIMEOUT" grep -qF "$BATS_TEST_TMPDIR/oper may be read by others; keep it 0600" "$LOG"
}

# The default configuration file (chatd(8), FILES). The chatd and
# chatctl make check runs read the one configure set, which tests must
# not write: tests/chatd-conf and tests/chatctl-conf are the same
# programs with the default in the build tree, $TESTBIN/conf/chatd.conf.
DEFCONF=$TESTBIN/conf/chatd.conf

# Writes the default file of the test programs; teardown removes it.
default_conf() {
	mkdir -p "$TESTBIN/conf"
	printf '%s\n' "$@" >"$DEFCONF"
}

teardown() {
	stop_chatd
	rm -rf "$TESTBIN/conf"
	assert_no_sanitizer_report
}

# The default of the chatd under test, from -h: none of the suite's
# servers is given -f, so a real file there would change every test.
@test "this build's default configuration file is not there (the suite reads none)" {
	local path
	path=$("$CHATD" -h | sed -n 's/^With no -f, settings are read from \(.*\) if it exists\.$/\1/p')
	[ -n "$path" ]
	[ ! -e "$path" ] || {
		echo "$path exists: the tests would read it; configure with another --sysconfdir" >&2
		return 1
	}
}

@test "chatd -h names the default file" {
	run "$TESTBIN/chatd-conf" -h
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "With no -f, settings are read from $DEFCONF if it exists." ]
}

@test "with no -f, the default file is read if it exists" {
	run "$TESTBIN/chatd-conf" -t
	[ "$status" -eq 0 ]
	default_conf 'history = x'
	run "$TESTBIN/chatd-conf" -t
	[ "$status" -eq 78 ]
	[ "$output" = "chatd-conf: $DEFCONF:1: history: 'x' is not a number" ]
	# A setting of the file takes effect: the first user is no operator.
	default_conf 'oper-first-user = no'
	CHATD=$TESTBIN/chatd-conf start_chatd
	open_client alice
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	barrier alice
}

@test "-f FILE replaces the default file, and -f /dev/null reads none" {
	default_conf 'history = x'
	printf 'history = 5\n' >"$CONF"
	run "$TESTBIN/chatd-conf" -t -f "$CONF"
	[ "$status" -eq 0 ]
	run "$TESTBIN/chatd-conf" -t -f /dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "chatd: settings OK" ]
}

@test "a default file that cannot be read is an error, as a bad -f is" {
	# A directory in its place: unreadable as a file even for root,
	# whom a file of mode 0 would not stop.
	mkdir -p "$DEFCONF"
	run "$TESTBIN/chatd-conf" -t
	[ "$status" -eq 78 ]
	[[ $output == "chatd-conf: $DEFCONF: read error: Is a directory" ]]
}

@test "SIGHUP reads the default file again" {
	default_conf 'history = 5'
	CHATD=$TESTBIN/chatd-conf start_chatd
	default_conf 'history = x'
	reload
	grep -q "SIGHUP: $DEFCONF:1: history: 'x' is not a number; keeping the old settings" "$LOG"
}

@test "chatctl reads instance, port and run-dir from the default file" {
	start_chatd
	default_conf "instance = $INSTANCE" "run-dir = $RUNDIR" 'max-line = 100'
	run --separate-stderr "$TESTBIN/chatctl-conf" -H status
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "instance	$INSTANCE" ]
	# The command line wins over the file.
	run --separate-stderr "$TESTBIN/chatctl-conf" -n nosuch -H status
	[ "$status" -eq 69 ]
	run --separate-stderr "$TESTBIN/chatctl-conf" -f /dev/null \
	    --run-dir "$RUNDIR" -H status
	[ "$status" -eq 69 ]
	[ "$stderr" = "chatctl: instance 9000 is not running" ]
}
