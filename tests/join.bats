#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Joining: greeting, name prompt, every registration error, the hint
# for IRC clients, timeout.

load helpers

setup() {
	start_chatd
}

@test "greeting counts registered users, then the prompt" {
	connect a
	expect a "* Welcome to chatd! 0 users online."
	expect a "Enter your name:"
	login bob
	connect c
	expect c "* Welcome to chatd! 1 user online."
	login carol
	connect d
	expect d "* Welcome to chatd! 2 users online."
}

@test "a valid name is greeted and the room is told" {
	login_all alice bob
}

@test "an empty name is invalid and the prompt comes again" {
	open_client a
	say a ""
	expect a "! invalid name: empty"
	expect a "Enter your name:"
	say a "alice"
	expect a "* Hello, alice! You are in lobby. Type /help for commands."
}

@test "names must start with a letter and use only A-Z a-z 0-9 _ -" {
	open_client a
	say a "1abc"
	expect a "! invalid name: must start with a letter"
	expect a "Enter your name:"
	say a "_abc"
	expect a "! invalid name: must start with a letter"
	expect a "Enter your name:"
	say a "ab cd"
	expect a "! invalid name: use only letters, digits, _ and -"
	expect a "Enter your name:"
	say a "caf"$'\xc3\xa9'
	expect a "! invalid name: use only letters, digits, _ and -"
	expect a "Enter your name:"
	say a "Zed_9-x"
	expect a "* Hello, Zed_9-x! You are in lobby. Type /help for commands."
}

@test "names are 1 to 16 characters" {
	open_client a
	say a "abcdefghijklmnopq"
	expect a "! invalid name: longer than 16 characters"
	expect a "Enter your name:"
	say a "abcdefghijklmnop"
	expect a "* Hello, abcdefghijklmnop! You are in lobby. Type /help for commands."
	login b x
}

@test "a name that is empty after hygiene is invalid" {
	open_client a
	say_raw a '\x01\x1b\x7f\r\n'
	expect a "! invalid name: empty"
	expect a "Enter your name:"
}

IRC_HINT="! this is chatd, not IRC: type a name to join, or use an IRC server linked to it"

@test "an IRC client's first line gets the IRC hint once; its next lines are invalid names" {
	open_client a
	# What an IRC client sends at once, in one write.
	say_raw a 'CAP LS 302\r\nNICK alice\r\nUSER alice 0 * :Alice\r\n'
	expect a "$IRC_HINT"
	expect a "Enter your name:"
	expect a "! invalid name: use only letters, digits, _ and -"
	expect a "Enter your name:"
	expect a "! invalid name: longer than 16 characters"
	expect a "Enter your name:"
	say a "alice"
	expect a "* Hello, alice! You are in lobby. Type /help for commands."
}

@test "the IRC hint comes for NICK, USER and PASS first too, in any case" {
	local line
	for line in "NICK alice" "USER alice 0 * :Alice" "PASS :secret" \
	    "cap ls" "Nick alice"; do
		open_client a
		say a "$line"
		expect a "$IRC_HINT"
		expect a "Enter your name:"
		# The hint is for the first line only.
		say a "$line"
		expect_re a '^! invalid name: '
		expect a "Enter your name:"
		disconnect a
	done
}

@test "no IRC hint after another first line, nor for the word alone, which is a name" {
	open_client a
	say a ""
	expect a "! invalid name: empty"
	expect a "Enter your name:"
	say a "NICK alice"
	expect a "! invalid name: use only letters, digits, _ and -"
	expect a "Enter your name:"
	disconnect a
	open_client b
	say b "NICKNAME alice"
	expect b "! invalid name: use only letters, digits, _ and -"
	expect b "Enter your name:"
	disconnect b
	open_client c
	say c "Nick"
	expect c "* Hello, Nick! You are in lobby. Type /help for commands."
	expect c "* You are the operator."
}

@test "names are unique case-insensitively and shown as typed" {
	login bob Bob
	open_client x
	say x "bOB"
	expect x "! name taken: bOB"
	expect x "Enter your name:"
	say x "bob2"
	expect x "* Hello, bob2! You are in lobby. Type /help for commands."
	say x "/users"
	expect x "* 2 users online"
	expect x "* Bob (lobby) [op]"
	expect x "* bob2 (lobby)"
}

@test "registration timeout closes a client that never picks a name" {
	stop_chatd
	start_chatd --register-timeout 1
	open_client a
	expect a "! registration timeout"
	expect_eof a
}

@test "a bad name does not restart the registration timeout" {
	stop_chatd
	start_chatd --register-timeout 2
	open_client a
	local start=$SECONDS
	say a "1bad"
	expect a "! invalid name: must start with a letter"
	expect a "Enter your name:"
	expect a "! registration timeout"
	expect_eof a
	[ $((SECONDS - start)) -le 3 ]
}

@test "registration timeout 0 means none" {
	stop_chatd
	start_chatd --register-timeout 0
	open_client a
	# The absence of a timeout can only be shown by letting time pass:
	# longer than the 1 s after which the test above is cut off.
	sleep 2
	say a "alice"
	expect a "* Hello, alice! You are in lobby. Type /help for commands."
}
