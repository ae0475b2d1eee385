#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Chat lines: delivery to the room, no echo, the // escape, empty lines,
# order, and the notices the room sees when somebody leaves.
#
# An absence (no echo, nothing for an empty line) is shown with a
# barrier: one user's lines reach another in log order, so a line that
# should not exist would arrive before the barrier's line.

load helpers

# The first user to register is the operator and hears lines the others
# do not (PROTOCOL.md, "The operator"). A silent first user keeps the
# users under test ordinary.
setup() {
	start_chatd
	login first
}

@test "a chat line reaches the room as <NAME> TEXT and is not echoed" {
	login_all alice bob
	say alice "hello, bob"
	expect bob "<alice> hello, bob"
	say bob "hi alice"
	expect alice "<bob> hi alice"
	say alice "still no echo"
	expect bob "<alice> still no echo"
	say bob "barrier"
	expect alice "<bob> barrier"
}

@test "a line reaches every other user in the room" {
	login_all alice bob carol
	say alice "to all of you"
	expect bob "<alice> to all of you"
	expect carol "<alice> to all of you"
	say carol "got it"
	expect alice "<carol> got it"
	expect bob "<carol> got it"
	say bob "me too"
	expect alice "<bob> me too"
	expect carol "<bob> me too"
}

@test "lines from one sender arrive in order" {
	local i lines=
	login_all alice bob
	for i in $(seq 1 50); do
		lines+="line $i"$'\n'
	done
	# One write: the server, not the client, keeps them apart.
	printf '%s' "$lines" >&"${FD[alice]}"
	for i in $(seq 1 50); do
		expect bob "<alice> line $i"
	done
	say bob "barrier"
	expect alice "<bob> barrier"
}

@test "a leading // is sent as a plain line with one / removed" {
	login_all alice bob
	say alice "//x"
	expect bob "<alice> /x"
	say alice "///x"
	expect bob "<alice> //x"
	say alice "//help"
	expect bob "<alice> /help"
	say alice "//"
	expect bob "<alice> /"
	say alice "a /slash inside"
	expect bob "<alice> a /slash inside"
	say bob "barrier"
	expect alice "<bob> barrier"
}

@test "an empty line is ignored" {
	login_all alice bob
	say alice ""
	say alice "after the empty line"
	expect bob "<alice> after the empty line"
	say bob ""
	say bob "barrier"
	expect alice "<bob> barrier"
}

@test "/quit says goodbye and closes, the room sees * NAME quit" {
	login_all alice bob
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	disconnect alice
	expect bob "* alice quit"
	login alice
	expect bob "* alice joined lobby"
}

@test "/quit: the lines already on their way to the user come before the goodbye" {
	local pid i
	login_all alice bob
	pid=$(worker_pid bob)
	[ -n "$pid" ]
	# bob's worker is stopped while alice's lines go to the log and
	# bob's /quit waits in its socket: when it runs again, it finds
	# both at once.
	kill -STOP "$pid"
	for ((i = 1; i <= 20; i++)); do
		say alice "line $i"
	done
	barrier alice
	say bob "/quit"
	kill -CONT "$pid"
	for ((i = 1; i <= 20; i++)); do
		expect bob "<alice> line $i"
	done
	expect bob "* Goodbye, bob."
	expect_eof bob
}

@test "/quit REASON shows the reason to the room" {
	login_all alice bob
	say alice "/quit gone fishing"
	expect alice "* Goodbye, alice."
	expect_eof alice
	disconnect alice
	expect bob "* alice quit (gone fishing)"
	login alice
	expect bob "* alice joined lobby"
}

@test "/quit REASON shows all of a long reason" {
	local reason
	login_all alice bob
	printf -v reason 'reason %04d ' $(seq 1 80)
	reason=${reason% }
	say alice "/quit $reason"
	expect alice "* Goodbye, alice."
	expect bob "* alice quit ($reason)"
	login alice2 alice
	expect bob "* alice joined lobby"
}

@test "a client that closes the connection quits with (connection closed)" {
	login_all alice bob
	disconnect alice
	expect bob "* alice quit (connection closed)"
	login alice
	expect bob "* alice joined lobby"
}

@test "a name is free again as soon as the room hears its owner quit" {
	login_all alice bob
	say alice "/quit"
	expect bob "* alice quit"
	login alice2 alice
	expect bob "* alice joined lobby"
	disconnect alice2
	expect bob "* alice quit (connection closed)"
	login alice3 alice
	expect bob "* alice joined lobby"
	say alice3 "/quit bye"
	expect bob "* alice quit (bye)"
	login alice4 alice
	expect bob "* alice joined lobby"
	say alice4 "back again"
	expect bob "<alice> back again"
}
