#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The command line: -V, -h, bad usage (exit 64, nothing bound or
# created), binding addresses and ports (exit 69 when it cannot).

load helpers

bats_require_minimum_version 1.5.0

setup() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	mkdir -p -m 700 "$RUNDIR"
}

# Runs chatd with a good command line naming this test's instance and run
# directory, then the arguments: $status, $output (stdout), $stderr.
try_chatd() {
	TRIED="$*"
	run --separate-stderr timeout 10 "$CHATD" -v -p 0 -l 127.0.0.1 \
	    -n "$INSTANCE" --run-dir "$RUNDIR" "$@"
}

# chatd stopped with exit 64 and one line on stderr naming option $1
# (or $2, its other spelling), and bound and created nothing: -v would
# have logged a "listening on" line.
assert_usage_error() {
	local why=
	if [ "$status" -ne 64 ]; then
		why="exit status $status, not 64"
	elif [ -n "$output" ]; then
		why="unexpected stdout: $output"
	elif [ "${#stderr_lines[@]}" -ne 1 ]; then
		why="stderr is not one line"
	elif [[ $stderr != *"$1"* ]] &&
	    [[ -z ${2:-} || $stderr != *"$2"* ]]; then
		why="stderr does not name $1${2:+ or $2}"
	fi
	if [ -n "$why" ]; then
		printf 'chatd ... %s: %s; stderr:\n%s\n' "$TRIED" "$why" \
		    "$stderr" >&2
		return 1
	fi
	assert_clean
}

@test "-V and --version print the version and exit 0" {
	local version
	version=$(sed -n 's/^AC_INIT(\[chatd\], *\[\([^]]*\)\].*/\1/p' \
	    "$BATS_TEST_DIRNAME/../configure.ac")
	[ -n "$version" ]
	run --separate-stderr "$CHATD" -V
	[ "$status" -eq 0 ]
	[ "$output" = "chatd $version" ]
	[ -z "$stderr" ]
	run --separate-stderr "$CHATD" --version
	[ "$status" -eq 0 ]
	[ "$output" = "chatd $version" ]
	[ -z "$stderr" ]
}

@test "-h and --help print a usage summary naming every option and exit 0" {
	local opt missing=
	run --separate-stderr "$CHATD" -h
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ ${lines[0]} =~ ^[Uu]sage:\ chatd ]]
	# The options chatd has so far; CLI.md's others come with their issues.
	for opt in -p --port -l --listen -i --inetd \
	    -n --instance --run-dir \
	    --max-clients --max-per-address --history --max-rooms \
	    --max-line --register-timeout --rate --burst --flood-kick \
	    --keepalive --oper-password-file --oper-first-user --proxy-from \
	    -v --verbose -V --version -h --help; do
		[[ $output =~ (^|[^-[:alnum:]])$opt([^-[:alnum:]]|$) ]] ||
		    missing+=" $opt"
	done
	if [ -n "$missing" ]; then
		echo "-h does not mention:$missing" >&2
		return 1
	fi
	local help=$output
	run --separate-stderr "$CHATD" --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$help" ]
}

@test "an unknown option is a usage error naming it" {
	try_chatd --bogus
	assert_usage_error --bogus
	try_chatd --bogus=1
	assert_usage_error --bogus
	try_chatd -x
	assert_usage_error -x
}

@test "an option without its value is a usage error naming it" {
	local opt
	for opt in -p --port -l --listen -n --instance --run-dir \
	    --max-clients --max-per-address --max-line --register-timeout; do
		try_chatd "$opt"
		assert_usage_error "$opt"
	done
}

@test "a value that is not a number is a usage error naming the option" {
	local opt value
	for opt in --port --max-clients --max-per-address --max-line \
	    --register-timeout; do
		for value in abc 12abc "" -1 1.5; do
			try_chatd "$opt" "$value"
			assert_usage_error "$opt"
			try_chatd "$opt=$value"
			assert_usage_error "$opt"
		done
	done
	try_chatd -p 9x
	assert_usage_error -p --port
}

@test "a number out of range is a usage error naming the option" {
	local opt
	try_chatd --port 65536
	assert_usage_error --port
	try_chatd -p 100000
	assert_usage_error -p --port
	for opt in --port --max-clients --max-per-address --max-line \
	    --register-timeout; do
		try_chatd "$opt" 99999999999999999999999
		assert_usage_error "$opt"
	done
}

@test "a bad instance name is a usage error" {
	local name
	for name in "" a/b . .. ../x "$(printf 'x%.0s' {1..300})"; do
		try_chatd --instance "$name"
		assert_usage_error --instance
	done
	try_chatd -n a/b
	assert_usage_error -n --instance
}

@test "a relative run directory is a usage error" {
	[[ $CHATD != */* ]] || CHATD=$(realpath "$CHATD")
	mkdir "$BATS_TEST_TMPDIR/cwd"
	cd "$BATS_TEST_TMPDIR/cwd"
	try_chatd --run-dir run
	assert_usage_error --run-dir
	try_chatd --run-dir ./run
	assert_usage_error --run-dir
	try_chatd --run-dir=run
	assert_usage_error --run-dir
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/cwd")" ]
}

@test "a stray argument is a usage error naming it" {
	try_chatd stray
	assert_usage_error stray
	TRIED="stray first"
	run --separate-stderr timeout 10 "$CHATD" stray -v -p 0 \
	    -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR"
	assert_usage_error stray
}

@test "-l may be given twice: the server answers on 127.0.0.1 and ::1" {
	have_ipv6_loopback || skip "::1 is not configured on this machine"
	start_chatd -l ::1
	login alice
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	say bob "bob"
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect alice "* bob joined lobby"
	say bob "hello over IPv6"
	expect alice "<bob> hello over IPv6"
	say alice "hello over IPv4"
	expect bob "<alice> hello over IPv4"
}

@test "an address that cannot be bound exits 69 with the reason" {
	try_chatd -l 192.0.2.1
	[ "$status" -eq 69 ]
	[[ $stderr == *192.0.2.1* ]]
	[[ $stderr != *"listening on"* ]]
	assert_clean
	# Each given address must bind, even when another one does.
	run --separate-stderr timeout 10 "$CHATD" -v -p 0 -l 127.0.0.1 \
	    -l 192.0.2.1 -n "$INSTANCE" --run-dir "$RUNDIR"
	[ "$status" -eq 69 ]
	[[ $stderr == *192.0.2.1* ]]
	assert_clean
}

@test "a port in use by another chatd exits 69 and the first one keeps serving" {
	start_chatd
	login alice
	local other=other$$.$RANDOM
	run --separate-stderr timeout 10 "$CHATD" -p "$PORT" -l 127.0.0.1 \
	    -n "$other" --run-dir "$RUNDIR"
	[ "$status" -eq 69 ]
	[[ $stderr == *127.0.0.1*"$PORT"* ]]
	[ ! -e "/dev/shm/chatd.$other" ]
	[ ! -e "$RUNDIR/$other" ]
	login bob
	expect alice "* bob joined lobby"
	say bob "still here"
	expect alice "<bob> still here"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "a second chatd on the same instance exits 69: already running" {
	start_chatd
	login alice
	open_client x
	run --separate-stderr timeout 10 "$CHATD" -p 0 -l 127.0.0.1 \
	    -n "$INSTANCE" --run-dir "$RUNDIR"
	[ "$status" -eq 69 ]
	[[ $stderr == *"$INSTANCE"* ]]
	[[ $stderr == *"already running"* ]]
	# The first one and its clients are unharmed.
	say x "bob"
	expect x "* Hello, bob! You are in lobby. Type /help for commands."
	expect alice "* bob joined lobby"
	say alice "hi bob"
	expect x "<alice> hi bob"
	login carol
	expect alice "* carol joined lobby"
	expect x "* carol joined lobby"
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}
