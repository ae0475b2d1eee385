#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# /nick and /me: renaming (who is told, which names are free or taken,
# what a rename keeps) and acting.
#
# An absence (no echo, nothing for another room, nothing for a refused
# command) is shown with a barrier: lines reach a client in log order,
# so a line that should not exist would arrive before a chat line (or a
# direct message) sent to the client afterwards. That a reply has no
# more lines than asserted is shown with the reply to an unknown
# command.

load helpers

# The first user to register is the operator and hears lines the others
# do not (PROTOCOL.md, "The operator"). A silent first user keeps the
# users under test ordinary, except where the operator is the point.
setup() {
	start_chatd
	login first
}


# alice and bob in the lobby, bob's join seen by alice.
pair() {
	login_all alice bob
}

# /stats's connection time and uptime lines: 4s, 2m 5s, 1h 0m 3s, 2d 1h 0m 3s.
DURATION='(((0|[1-9][0-9]*)d )?(0|[1-9][0-9]?)h )?((0|[1-9][0-9]?)m )?(0|[1-9][0-9]?)s'

@test "/nick NEW: you are told, the rest of the room sees OLD is now known as NEW" {
	pair
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say alice "/nick alicia"
	expect alice "* you are now known as alicia"
	expect bob "* alice is now known as alicia"
	expect carol "* alice is now known as alicia"
	# alice heard nothing more; her lines now carry the new name.
	say bob "barrier"
	expect alice "<bob> barrier"
	expect carol "<bob> barrier"
	say alice "my new name"
	expect bob "<alicia> my new name"
	expect carol "<alicia> my new name"
}

@test "/nick is heard in the renamer's room only" {
	pair
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect alice "* carol left lobby"
	expect bob "* carol left lobby"
	say alice "/nick alicia"
	expect alice "* you are now known as alicia"
	expect bob "* alice is now known as alicia"
	say bob "/dm carol barrier"
	expect bob "-> *carol* barrier"
	expect carol "*bob* barrier"
	say carol "/nick caroline"
	expect carol "* you are now known as caroline"
	say bob "barrier"
	expect alice "<bob> barrier"
	say alice "barrier"
	expect bob "<alicia> barrier"
}

@test "the old name is free at once, the new one taken" {
	pair
	say alice "/nick alicia"
	expect alice "* you are now known as alicia"
	expect bob "* alice is now known as alicia"
	login alice2 alice
	expect bob "* alice joined lobby"
	open_client x
	say x "Alicia"
	expect x "! name taken: Alicia"
	expect x "Enter your name:"
	say bob "/nick ALICIA"
	expect bob "! name taken: ALICIA"
	barrier bob
}

@test "/nick to a name in use, in any case: ! name taken: NEW, as typed" {
	pair
	say alice "/nick bob"
	expect alice "! name taken: bob"
	say alice "/nick BOB"
	expect alice "! name taken: BOB"
	say alice "/nick First"
	expect alice "! name taken: First"
	barrier alice
	# Nothing changed and nobody was told.
	say alice "still alice"
	expect bob "<alice> still alice"
}

@test "/nick checks the new name as registration does: ! invalid name: ..." {
	pair
	say alice "/nick 1abc"
	expect alice "! invalid name: must start with a letter"
	say alice "/nick _abc"
	expect alice "! invalid name: must start with a letter"
	say alice "/nick ab.cd"
	expect alice "! invalid name: use only letters, digits, _ and -"
	say alice "/nick ab cd"
	expect alice "! invalid name: use only letters, digits, _ and -"
	say alice "/nick caf"$'\xc3\xa9'
	expect alice "! invalid name: use only letters, digits, _ and -"
	say alice "/nick abcdefghijklmnopq"
	expect alice "! invalid name: longer than 16 characters"
	barrier alice
	say alice "still alice"
	expect bob "<alice> still alice"
	say alice "/nick abcdefghijklmnop"
	expect alice "* you are now known as abcdefghijklmnop"
	expect bob "* alice is now known as abcdefghijklmnop"
	say alice "/nick Zed_9-x"
	expect alice "* you are now known as Zed_9-x"
	expect bob "* abcdefghijklmnop is now known as Zed_9-x"
}

@test "/nick without a name: ! usage: /nick NEW" {
	pair
	say alice "/nick"
	expect alice "! usage: /nick NEW"
	say alice "/nick   "
	expect alice "! usage: /nick NEW"
	say alice "/NICK"
	expect alice "! usage: /nick NEW"
	barrier alice
	say alice "still alice"
	expect bob "<alice> still alice"
}

@test "a rename keeps the message count, the operator status and the room" {
	login alice
	expect first "* alice joined lobby"
	say first "one"
	expect alice "<first> one"
	say first "/me two"
	expect alice "* first two"
	say first "/nick boss"
	expect first "* you are now known as boss"
	expect alice "* first is now known as boss"
	say first "three"
	expect alice "<boss> three"
	say first "/stats"
	expect first "* you have sent 3 messages"
	expect_re first "^\\* connected for $DURATION\$"
	expect_re first "^\\* server up for $DURATION\$"
	expect first "* 2 users online"
	expect first "* 3 messages relayed"
	say first "/users"
	expect first "* 2 users online"
	expect first "* boss (lobby) [op]"
	expect first "* alice (lobby)"
	barrier first
	# A rename in another room stays there.
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect first "* alice left lobby"
	say alice "/nick alicia"
	expect alice "* you are now known as alicia"
	say alice "/who"
	expect alice "* 1 user in dev"
	expect alice "* alicia"
	barrier alice
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* boss (lobby) [op]"
	expect alice "* alicia (dev)"
	barrier alice
	say first "/who"
	expect first "* 1 user in lobby"
	expect first "* boss [op]"
	barrier first
	# The lobby did not hear of alicia.
	say alice "/dm boss barrier"
	expect alice "-> *boss* barrier"
	expect first "*alicia* barrier"
}

@test "a case-only rename of yourself is allowed" {
	pair
	say alice "/nick ALICE"
	expect alice "* you are now known as ALICE"
	expect bob "* alice is now known as ALICE"
	say alice "/nick Alice"
	expect alice "* you are now known as Alice"
	expect bob "* ALICE is now known as Alice"
	say bob "/users"
	expect bob "* 3 users online"
	expect bob "* first (lobby) [op]"
	expect bob "* Alice (lobby)"
	expect bob "* bob (lobby)"
	barrier bob
	say alice "hi"
	expect bob "<Alice> hi"
}

@test "/me TEXT: the rest of the room gets * NAME TEXT, the sender nothing" {
	pair
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say alice "/me waves to everybody"
	expect bob "* alice waves to everybody"
	expect carol "* alice waves to everybody"
	say bob "barrier"
	expect alice "<bob> barrier"
	expect carol "<bob> barrier"
	say carol "/ME  grins  widely"
	expect alice "* carol grins  widely"
	expect bob "* carol grins  widely"
	say bob "barrier"
	expect alice "<bob> barrier"
	expect carol "<bob> barrier"
}

@test "/me without text: ! usage: /me TEXT" {
	pair
	say alice "/me"
	expect alice "! usage: /me TEXT"
	say alice "/me   "
	expect alice "! usage: /me TEXT"
	barrier alice
	say alice "barrier"
	expect bob "<alice> barrier"
}

@test "/me counts as a message you sent" {
	pair
	say alice "/me one"
	say alice "two"
	say alice "/me three"
	expect bob "* alice one"
	expect bob "<alice> two"
	expect bob "* alice three"
	say alice "/stats"
	expect alice "* you have sent 3 messages"
	expect_re alice "^\\* connected for $DURATION\$"
	expect_re alice "^\\* server up for $DURATION\$"
	expect alice "* 3 users online"
	expect alice "* 3 messages relayed"
}
