#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Direct messages: /dm NAME TEXT and its alias /msg, names as their
# owners spell them, unknown and departed users, usage errors, other
# rooms, renamed users, no history, and /stats.
#
# That nobody else gets a direct message is shown with a barrier: lines
# reach a client in log order, so a line that should not exist would
# arrive before a chat line sent to the client's room afterwards. That a
# reply has no more lines than asserted is shown with the reply to an
# unknown command.

load helpers

# The first user to register is the operator and hears lines the others
# do not (PROTOCOL.md, "The operator"). A silent first user keeps the
# users under test ordinary.
setup() {
	start_chatd
	login first
}


# alice, bob and carol in the lobby, every join seen.
trio() {
	login_all alice bob carol
}

# /stats's connection time and uptime lines: 4s, 2m 5s, 1h 0m 3s, 2d 1h 0m 3s.
DURATION='(((0|[1-9][0-9]*)d )?(0|[1-9][0-9]?)h )?((0|[1-9][0-9]?)m )?(0|[1-9][0-9]?)s'

@test "/dm NAME TEXT: NAME gets *SENDER* TEXT, the sender -> *NAME* TEXT" {
	trio
	say alice "/dm bob psst, bob"
	expect alice "-> *bob* psst, bob"
	expect bob "*alice* psst, bob"
	# Nobody else got it, nor an echo.
	say bob "barrier"
	expect alice "<bob> barrier"
	expect carol "<bob> barrier"
	say carol "barrier"
	expect alice "<carol> barrier"
	expect bob "<carol> barrier"
}

@test "/dm keeps the text as typed, spaces inside included" {
	trio
	say alice "/dm bob   two  spaces, a /slash and *stars*"
	expect alice "-> *bob* two  spaces, a /slash and *stars*"
	expect bob "*alice* two  spaces, a /slash and *stars*"
	barrier alice
	say carol "barrier"
	expect bob "<carol> barrier"
}

@test "/dm shows NAME as its owner spells it, whatever case was typed" {
	login alice
	login bob Bob
	expect alice "* Bob joined lobby"
	say alice "/dm BOB hi"
	expect alice "-> *Bob* hi"
	expect bob "*alice* hi"
	say alice "/dm bob hi again"
	expect alice "-> *Bob* hi again"
	expect bob "*alice* hi again"
	say bob "/DM ALICE hello"
	expect bob "-> *alice* hello"
	expect alice "*Bob* hello"
	barrier alice
	barrier bob
}

@test "/msg NAME TEXT is /dm" {
	trio
	say alice "/msg bob psst"
	expect alice "-> *bob* psst"
	expect bob "*alice* psst"
	say bob "/MSG Alice back"
	expect bob "-> *alice* back"
	expect alice "*bob* back"
	say carol "barrier"
	expect alice "<carol> barrier"
	expect bob "<carol> barrier"
	say bob "barrier"
	expect carol "<bob> barrier"
}

@test "/dm to an unknown user: ! no such user: NAME, as typed" {
	login_all alice bob
	say alice "/dm Nobody hello"
	expect alice "! no such user: Nobody"
	say alice "/msg zed hello"
	expect alice "! no such user: zed"
	say alice "/dm abcdefghijklmnopq hello"
	expect alice "! no such user: abcdefghijklmnopq"
	say alice "/dm b hello"
	expect alice "! no such user: b"
	say alice "/dm bob. hello"
	expect alice "! no such user: bob."
	barrier alice
	say alice "barrier"
	expect bob "<alice> barrier"
}

@test "/dm to a user who has quit: ! no such user: NAME" {
	login_all alice bob
	say bob "/quit"
	expect bob "* Goodbye, bob."
	expect_eof bob
	expect alice "* bob quit"
	say alice "/dm bob are you there?"
	expect alice "! no such user: bob"
	barrier alice
	# A new bob is somebody else, and gets it.
	login bob2 bob
	expect alice "* bob joined lobby"
	say alice "/dm bob now?"
	expect alice "-> *bob* now?"
	expect bob2 "*alice* now?"
}

@test "/dm without text, or without anything: ! usage: /dm NAME TEXT" {
	login_all alice bob
	say alice "/dm bob"
	expect alice "! usage: /dm NAME TEXT"
	say alice "/dm bob   "
	expect alice "! usage: /dm NAME TEXT"
	say alice "/dm"
	expect alice "! usage: /dm NAME TEXT"
	say alice "/Dm"
	expect alice "! usage: /dm NAME TEXT"
	barrier alice
	say alice "barrier"
	expect bob "<alice> barrier"
}

# chatd(7): /msg is /dm, except that without any argument it names
# itself in the usage line.
@test "/msg without anything: ! usage: /msg NAME TEXT; without text, as /dm" {
	login_all alice bob
	say alice "/msg"
	expect alice "! usage: /msg NAME TEXT"
	say alice "/MSG   "
	expect alice "! usage: /msg NAME TEXT"
	say alice "/msg bob"
	expect alice "! usage: /dm NAME TEXT"
	barrier alice
	say alice "barrier"
	expect bob "<alice> barrier"
}

@test "/dm reaches a user in another room, and only that user" {
	login alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	login carol
	say carol "/join dev"
	expect carol "* you are now in dev (2 users)"
	expect alice "* carol joined dev"
	login bob
	say bob "/dm alice from the lobby"
	expect bob "-> *alice* from the lobby"
	expect alice "*bob* from the lobby"
	say alice "/dm bob from dev"
	expect alice "-> *bob* from dev"
	expect bob "*alice* from dev"
	say alice "barrier"
	expect carol "<alice> barrier"
	say carol "barrier"
	expect alice "<carol> barrier"
}

@test "/dm to a renamed user goes by the new name; the old one is unknown" {
	login_all alice bob
	say bob "/nick robert"
	expect bob "* you are now known as robert"
	expect alice "* bob is now known as robert"
	say alice "/dm robert hi robert"
	expect alice "-> *robert* hi robert"
	expect bob "*alice* hi robert"
	say alice "/dm bob hi bob"
	expect alice "! no such user: bob"
	# And a renamed sender signs with the new name.
	say bob "/dm alice from robert"
	expect bob "-> *alice* from robert"
	expect alice "*robert* from robert"
	barrier alice
	barrier bob
}

@test "direct messages are never history" {
	login_all alice bob
	say alice "/dm bob private"
	expect alice "-> *bob* private"
	expect bob "*alice* private"
	say alice "public"
	expect bob "<alice> public"
	say bob "/msg alice private too"
	expect bob "-> *alice* private too"
	expect alice "*bob* private too"
	login carol
	expect carol "* history: last 1 message in lobby"
	expect_re carol '^\[[0-2][0-9]:[0-5][0-9]\] <alice> public$'
	expect carol "* end of history"
	barrier carol
}

@test "/stats counts the direct messages you sent" {
	login_all alice bob
	say alice "/dm bob one"
	expect alice "-> *bob* one"
	say alice "/msg bob two"
	expect alice "-> *bob* two"
	say alice "three"
	expect bob "*alice* one"
	expect bob "*alice* two"
	expect bob "<alice> three"
	# Refused ones are not sent.
	say alice "/dm nobody four"
	expect alice "! no such user: nobody"
	say alice "/dm bob"
	expect alice "! usage: /dm NAME TEXT"
	say alice "/stats"
	expect alice "* you have sent 3 messages"
	expect_re alice "^\\* connected for $DURATION\$"
	expect_re alice "^\\* server up for $DURATION\$"
	expect alice "* 3 users online"
	expect alice "* 3 messages relayed"
	say bob "/stats"
	expect bob "* you have sent 0 messages"
	expect_re bob "^\\* connected for $DURATION\$"
	expect_re bob "^\\* server up for $DURATION\$"
	expect bob "* 3 users online"
	expect bob "* 3 messages relayed"
	say bob "/dm alice one back"
	expect bob "-> *alice* one back"
	say bob "/stats"
	expect bob "* you have sent 1 message"
	expect_re bob "^\\* connected for $DURATION\$"
	expect_re bob "^\\* server up for $DURATION\$"
	expect bob "* 3 users online"
	expect bob "* 4 messages relayed"
}
