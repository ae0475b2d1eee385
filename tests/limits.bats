#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Connection limits: --max-clients and --max-per-address refuse a
# connection with one line, before any prompt, and close it.

load helpers

# Connects $1 and expects the refusal $2 as its only line, then the close.
refused() {
	connect "$1"
	expect "$1" "$2"
	expect_eof "$1"
	disconnect "$1"
}

@test "--max-clients counts connections, registered or not" {
	start_chatd --max-clients 2
	login alice
	open_client x
	refused c "! server full"
	# The refused connection took no place: both still work.
	say x "bob"
	expect x "* Hello, bob! You are in lobby. Type /help for commands."
	expect alice "* bob joined lobby"
	refused d "! server full"
}

@test "--max-clients: two unregistered connections fill the server" {
	start_chatd --max-clients 2
	open_client x
	open_client y
	refused c "! server full"
	refused d "! server full"
	say x "alice"
	expect x "* Hello, alice! You are in lobby. Type /help for commands."
}

@test "--max-clients: a place freed by a leaving user goes to the next one" {
	start_chatd --max-clients 2
	login_all alice bob
	refused c "! server full"
	disconnect alice
	expect bob "* alice quit (connection closed)"
	expect bob "* You are now the operator."
	connect carol
	expect carol "* Welcome to chatd! 1 user online."
	expect carol "Enter your name:"
	say carol "carol"
	expect carol "* Hello, carol! You are in lobby. Type /help for commands."
	expect bob "* carol joined lobby"
	refused d "! server full"
	say bob "/quit"
	expect bob "* Goodbye, bob."
	expect_eof bob
	login dave
	expect carol "* bob quit"
	expect carol "* You are now the operator."
	expect carol "* dave joined lobby"
}

@test "--max-per-address limits the connections from one address" {
	start_chatd --max-per-address 2
	login alice
	open_client x
	refused c "! too many connections from your address"
	refused d "! too many connections from your address"
	say x "bob"
	expect x "* Hello, bob! You are in lobby. Type /help for commands."
	expect alice "* bob joined lobby"
}

@test "--max-per-address: a place freed by a leaving user goes to the next one" {
	start_chatd --max-per-address 2
	login_all alice bob
	refused c "! too many connections from your address"
	disconnect alice
	expect bob "* alice quit (connection closed)"
	expect bob "* You are now the operator."
	login carol
	expect bob "* carol joined lobby"
	refused d "! too many connections from your address"
}

@test "--max-per-address counts each address on its own" {
	have_ipv6_loopback || skip "::1 is not configured on this machine"
	start_chatd --max-per-address 1 -l ::1
	login alice
	refused c "! too many connections from your address"
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	connect6 d
	expect d "! too many connections from your address"
	expect_eof d
}

@test "--max-per-address defaults to 16" {
	local i
	start_chatd
	for i in {1..16}; do
		open_client "c$i"
	done
	refused c17 "! too many connections from your address"
}

@test "--max-per-address 0 means no limit" {
	local i
	start_chatd --max-per-address 0 --max-clients 0
	for i in {1..20}; do
		open_client "c$i"
	done
	say c20 "alice"
	expect c20 "* Hello, alice! You are in lobby. Type /help for commands."
	expect c20 "* You are the operator."
	say c1 "bob"
	expect c1 "* Hello, bob! You are in lobby. Type /help for commands."
	expect c20 "* bob joined lobby"
}

@test "out of file descriptors, a sender still wakes every recipient" {
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	mkdir -p -m 700 "$RUNDIR"
	# Room for the listener's descriptors, and in a worker for its own
	# six and three cached wake-up pipes: a line to six users needs more.
	# (bats's own descriptors 3 and 4 are not chatd's business.)
	(exec 3>&- 4>&- && ulimit -n 9 && exec "$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$RUNDIR" -v --rate 0 2>"$LOG") &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'listening on' "$LOG"
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
	login_all a b c d e f g
	say a "hello everybody"
	for name in b c d e f g; do
		expect "$name" "<a> hello everybody"
	done
	say a "once more"
	for name in b c d e f g; do
		expect "$name" "<a> once more"
	done
}
