#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Notices cannot be forged (chatd(7)): /me TEXT is refused with "! /me
# cannot look like a server notice", and nothing is sent, when "* NAME
# TEXT" would read as a notice the server writes about NAME, compared
# after text hygiene, ignoring case, repeated blanks and invisible
# characters. Everything else stays allowed.
#
# That nothing reached bob is shown with a barrier: alice's chat line
# after the refusals must be bob's next line.

load helpers

REFUSED="! /me cannot look like a server notice"

setup() {
	start_chatd
	login_all alice bob
}

# alice's /me of each argument is refused; bob sees none of them.
refused() {
	local text
	for text in "$@"; do
		say alice "/me $text"
		expect alice "$REFUSED" || return 1
	done
	room_barrier alice bob
}

@test "/me cannot say somebody joined or left a room" {
	refused "joined lobby" "left lobby" "joined dev" "left some-room"
}

@test "/me cannot say somebody quit, with any reason" {
	refused "quit" "quit (connection closed)" "quit (connection lost)" \
	    "quit (ping timeout)" "quit (too slow)" "quit (flooding)" \
	    "quit (killed by oper)" "quit (name collision)" "quit (bye all)"
}

@test "/me cannot say somebody changed names, was kicked or banned, or became operator" {
	refused "is now known as carol" "was kicked by bob" \
	    "was banned by bob" "was kicked by bob (spam)" \
	    "was banned by bob (go away)" "was kicked by the administrator" \
	    "was banned by the administrator (flood)" \
	    "is now the operator" "is now an operator"
}

@test "case, repeated blanks and invisible characters do not help" {
	refused "QUIT" "Is Now Known As Carol" "joined      lobby" \
	    $'quit\t(connection lost)' "was   KICKED  by  Bob   (x)" \
	    $'quit\xc2\xa0(connection lost)' $'qu\xe2\x80\x8bit' \
	    $'joined\xe3\x80\x80lobby'
	# Compared after text hygiene: the control character goes first.
	say_raw alice '/me qu\x01it (connection lost)\n'
	expect alice "$REFUSED"
	room_barrier alice bob
}

@test "a refused /me is not counted as sent" {
	say alice "/me quit"
	expect alice "$REFUSED"
	say alice "/stats"
	expect alice "* you have sent 0 messages"
}

@test "/me joined the army, is happy, left early today: all allowed" {
	local text
	for text in "joined the army" "is happy" "left early today" \
	    "quit smoking" "was kicked by a horse" "is now known as a pirate" \
	    "netsplit: 2 users left (hub.test)"; do
		say alice "/me $text"
		expect bob "* alice $text"
	done
	barrier alice
}
