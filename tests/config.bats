#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The configuration file (-f), the MOTD (--motd) and SIGHUP: the syntax,
# every option settable in a file, errors that name the file and line
# (exit 78), the command line winning, and what a re-read applies live.

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

@test "every option of --help can be set in a file" {
	local names name
	names=$("$CHATD" --help | grep -o -- '--[a-z-]*' | sed 's/^--//' |
	    sort -u)
	[ -n "$names" ]
	printf 'secret hash\n' >"$BATS_TEST_TMPDIR/oper"
	chmod 600 "$BATS_TEST_TMPDIR/oper"
	printf 'hello\n' >"$BATS_TEST_TMPDIR/motd"
	mkdir -m 700 "$BATS_TEST_TMPDIR/state"
	for name in $names; do
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
		inetd|daemon|verbose) value=no ;;
		instance) value=conftest ;;
		user) value=$(id -un) ;;
		pidfile) value=$BATS_TEST_TMPDIR/pid ;;
		run-dir) value=$BATS_TEST_TMPDIR/run ;;
		state-dir) value=$BATS_TEST_TMPDIR/state ;;
		motd) value=$BATS_TEST_TMPDIR/motd ;;
		oper-password-file) value=$BATS_TEST_TMPDIR/oper ;;
		oper-first-user) value=no ;;
		*) value=100 ;;
		esac
		printf '%s = %s\n' "$name" "$value" >"$CONF"
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

@test "the example contrib/chatd.conf is valid and starts a server" {
	run "$CHATD" -t -f "$BATS_TEST_DIRNAME/../contrib/chatd.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "chatd: settings OK" ]
	start_chatd -f "$BATS_TEST_DIRNAME/../contrib/chatd.conf"
	login alice
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

@test "SIGHUP applies a new rate limit to connections already open" {
	printf 'rate = 0\n' >"$CONF"
	start_chatd -f "$CONF"
	login alice
	for i in 1 2 3 4 5 6; do say alice "/barrier"; done
	for i in 1 2 3 4 5 6; do
		expect alice "! unknown command: /barrier (try /help)"
	done
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

@test "an operator password file others may read is named in a warning" {
	printf '%s\n' "$OPER_HASH" >"$BATS_TEST_TMPDIR/oper"
	chmod 644 "$BATS_TEST_TMPDIR/oper"
	printf 'oper-password-file = %s\n' "$BATS_TEST_TMPDIR/oper" >"$CONF"
	start_chatd -f "$CONF"
	wait_for "$TIMEOUT" grep -qF "$BATS_TEST_TMPDIR/oper may be read by others; keep it 0600" "$LOG"
}
