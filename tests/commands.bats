#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Commands: /help, /users, /stats, case-insensitive names, unknown
# commands and usage errors.
#
# That a reply has no more lines than asserted is shown with a barrier:
# replies reach the client in order, so an extra line would arrive before
# the reply to the next command (an unknown one, whose reply is known).

load helpers

# The first user to register is the operator and hears lines the others
# do not (PROTOCOL.md, "The operator"). A silent first user keeps the
# users under test ordinary, except where the operator is the point.
setup() {
	start_chatd
	login first
}


# /stats's connection time and uptime lines: 4s, 2m 5s, 1h 0m 3s, 2d 1h 0m 3s.
DURATION='(((0|[1-9][0-9]*)d )?(0|[1-9][0-9]?)h )?((0|[1-9][0-9]?)m )?(0|[1-9][0-9]?)s'

@test "/help lists every command" {
	login alice
	say alice "/help"
	expect_help alice
	barrier alice
}

@test "/users counts users and lists them in registration order" {
	login_all zed bob
	login dave
	expect zed "* dave joined lobby"
	say bob "/quit"
	expect zed "* bob quit"
	# carol may take bob's slot; she is listed after dave all the same.
	login carol
	expect zed "* carol joined lobby"
	# Nobody until registered.
	open_client x
	say zed "/users"
	expect zed "* 4 users online"
	expect zed "* first (lobby) [op]"
	expect zed "* zed (lobby)"
	expect zed "* dave (lobby)"
	expect zed "* carol (lobby)"
	barrier zed
	say carol "/Users"
	expect carol "* 4 users online"
	expect carol "* first (lobby) [op]"
	expect carol "* zed (lobby)"
	expect carol "* dave (lobby)"
	expect carol "* carol (lobby)"
	barrier carol
}

@test "/users says 1 user online when alone" {
	say first "/users"
	expect first "* 1 user online"
	expect first "* first (lobby) [op]"
	barrier first
}

@test "/stats counts your chat lines, users online and messages relayed" {
	login_all alice bob carol
	# Nobody until registered.
	open_client x
	# Each sender's reply to /frob shows that its lines before have been
	# counted. Every /stats is the last thing its user reads.
	say alice "one"
	say alice "/frob"
	expect alice "! unknown command: /frob (try /help)"
	expect bob "<alice> one"
	expect carol "<alice> one"
	say carol "/stats"
	expect carol "* you have sent 0 messages"
	expect_re carol "^\\* connected for $DURATION\$"
	expect_re carol "^\\* server up for $DURATION\$"
	expect carol "* 4 users online"
	expect carol "* 1 message relayed"
	# // lines count; commands and empty lines do not.
	say alice "//two"
	say alice ""
	say alice "/frob"
	expect alice "! unknown command: /frob (try /help)"
	expect bob "<alice> /two"
	say bob "three"
	say bob "/frob"
	expect bob "! unknown command: /frob (try /help)"
	expect alice "<bob> three"
	say bob "/stats"
	expect bob "* you have sent 1 message"
	expect_re bob "^\\* connected for $DURATION\$"
	expect_re bob "^\\* server up for $DURATION\$"
	expect bob "* 4 users online"
	expect bob "* 3 messages relayed"
	say alice "/stats"
	expect alice "* you have sent 2 messages"
	expect_re alice "^\\* connected for $DURATION\$"
	expect_re alice "^\\* server up for $DURATION\$"
	expect alice "* 4 users online"
	expect alice "* 3 messages relayed"
}

@test "/stats shows nothing beyond its documented lines" {
	login alice
	say alice "/stats"
	expect alice "* you have sent 0 messages"
	expect_re alice "^\\* connected for $DURATION\$"
	expect_re alice "^\\* server up for $DURATION\$"
	expect alice "* 2 users online"
	expect alice "* 0 messages relayed"
	barrier alice
}

@test "command names are case-insensitive" {
	login alice
	say alice "/HELP"
	expect_help alice
	say alice "/hElP"
	expect_help alice
	login bob
	expect alice "* bob joined lobby"
	say alice "/Quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	expect bob "* alice quit"
	say bob "/STATS"
	expect bob "* you have sent 0 messages"
	expect_re bob "^\\* connected for $DURATION\$"
	expect_re bob "^\\* server up for $DURATION\$"
	expect bob "* 2 users online"
	expect bob "* 0 messages relayed"
}

@test "an unknown command is named as typed" {
	login alice
	say alice "/Frob"
	expect alice "! unknown command: /Frob (try /help)"
	say alice "/frob with some arguments"
	expect alice "! unknown command: /frob (try /help)"
	# No abbreviations.
	say alice "/hel"
	expect alice "! unknown command: /hel (try /help)"
	say alice "/helpme"
	expect alice "! unknown command: /helpme (try /help)"
	barrier alice
}

@test "an unknown command is named in full, however long" {
	local name
	stop_chatd
	start_chatd --max-line 8192
	login first
	login alice
	printf -v name 'frob%04d' $(seq 1 1000)
	say alice "/$name"
	expect alice "! unknown command: /$name (try /help)"
	barrier alice
}

@test "arguments to a command that takes none are a usage error" {
	login_all alice bob
	say alice "/users everybody"
	expect alice "! usage: /users"
	say alice "/help me"
	expect alice "! usage: /help"
	say alice "/STATS now"
	expect alice "! usage: /stats"
	barrier alice
	# Nothing reached the room either.
	say alice "barrier"
	expect bob "<alice> barrier"
}

@test "an unregistered user's /help is a name, and an invalid one" {
	open_client a
	say a "/help"
	expect a "! invalid name: must start with a letter"
	expect a "Enter your name:"
	say a "/users"
	expect a "! invalid name: must start with a letter"
	expect a "Enter your name:"
	say a "alice"
	expect a "* Hello, alice! You are in lobby. Type /help for commands."
	say a "/help"
	expect_help a
}
