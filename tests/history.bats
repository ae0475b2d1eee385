#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# History: each room's last chat and /me lines, replayed framed on login
# and on /join; the --history cap; what is never history; history that
# outlives its authors and the traffic of other rooms; and a busy room
# that wakes nobody in a quiet one.
#
# That a replay has no more lines than asserted, or that there is none,
# is shown with the reply to an unknown command: replies reach the
# client in order, so an extra line would arrive before it.

load helpers

setup() {
	start_chatd
}

# /stats's connection time and uptime lines: 4s, 2m 5s, 1h 0m 3s, 2d 1h 0m 3s.
DURATION='(((0|[1-9][0-9]*)d )?(0|[1-9][0-9]?)h )?((0|[1-9][0-9]?)m )?(0|[1-9][0-9]?)s'

@test "login replays the room's history after the Hello line, framed" {
	login_all first alice
	say alice "hi"
	expect first "<alice> hi"
	say first "hello alice"
	expect alice "<first> hello alice"
	say alice "/me waves"
	expect first "* alice waves"
	login bob
	expect bob "* history: last 3 messages in lobby"
	expect_hist bob "<alice> hi"
	expect_hist bob "<first> hello alice"
	expect_hist bob "* alice waves"
	expect bob "* end of history"
	barrier bob
}

@test "the operator's replay comes after * You are the operator." {
	login alice
	say alice "said to nobody"
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	disconnect alice
	connect bob
	expect bob "* Welcome to chatd! 0 users online."
	expect bob "Enter your name:"
	say bob "bob"
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect bob "* You are the operator."
	expect bob "* history: last 1 message in lobby"
	expect_hist bob "<alice> said to nobody"
	expect bob "* end of history"
	barrier bob
}

@test "/join replays the new room's history after the reply" {
	login_all first alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect first "* alice left lobby"
	login bob
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	say alice "one"
	expect bob "<alice> one"
	say bob "/me nods"
	expect alice "* bob nods"
	expect first "* bob joined lobby"
	expect first "* bob left lobby"
	say first "only in lobby"
	barrier first
	login carol
	expect carol "* history: last 1 message in lobby"
	expect_hist carol "<first> only in lobby"
	expect carol "* end of history"
	say carol "/join DEV"
	expect carol "* you are now in dev (3 users)"
	expect carol "* history: last 2 messages in dev"
	expect_hist carol "<alice> one"
	expect_hist carol "* bob nods"
	expect carol "* end of history"
	barrier carol
	say carol "/leave"
	expect carol "* you are now in lobby (2 users)"
	expect carol "* history: last 1 message in lobby"
	expect_hist carol "<first> only in lobby"
	expect carol "* end of history"
	barrier carol
}

@test "a room that empties keeps its history for whoever enters it again" {
	login first
	login alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	say alice "kept"
	say alice "/leave"
	expect alice "* you are now in lobby (2 users)"
	expect first "* alice joined lobby"
	expect first "* alice left lobby"
	expect first "* alice joined lobby"
	say first "/rooms"
	expect first "* 1 room"
	expect first "* lobby (2)"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect alice "* history: last 1 message in dev"
	expect_hist alice "<alice> kept"
	expect alice "* end of history"
	barrier alice
}

@test "nothing is replayed when the room has no history" {
	login first
	barrier first
	login alice
	barrier alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	barrier alice
	say alice "/leave"
	expect alice "* you are now in lobby (2 users)"
	barrier alice
}

@test "replayed lines carry their time, HH:MM in the server's local time" {
	local before after stamp
	# Half an hour off UTC: a UTC or whole-hour mistake shows.
	stop_chatd
	TZ=XST-5:30 start_chatd
	login alice
	before=$(TZ=XST-5:30 date +%H:%M)
	say alice "what time is it"
	barrier alice
	login bob
	after=$(TZ=XST-5:30 date +%H:%M)
	expect bob "* history: last 1 message in lobby"
	expect_hist bob "<alice> what time is it"
	stamp=${LINE:1:5}
	if [ "$stamp" != "$before" ] && [ "$stamp" != "$after" ]; then
		echo "stamp $stamp is neither $before nor $after" >&2
		return 1
	fi
	expect bob "* end of history"
}

@test "--history N replays only the last N lines, in order" {
	local i
	stop_chatd
	start_chatd --history 3
	login alice
	for i in 1 2 3 4; do
		say alice "line $i"
	done
	say alice "/me line 5"
	barrier alice
	login bob
	expect bob "* history: last 3 messages in lobby"
	expect_hist bob "<alice> line 3"
	expect_hist bob "<alice> line 4"
	expect_hist bob "* alice line 5"
	expect bob "* end of history"
	barrier bob
}

@test "--history 0 keeps no history" {
	stop_chatd
	start_chatd --history 0
	login alice
	say alice "line 1"
	say alice "/me line 2"
	barrier alice
	login bob
	barrier bob
	say bob "/join dev"
	expect bob "* you are now in dev (1 user)"
	say bob "in dev"
	say bob "/leave"
	expect bob "* you are now in lobby (2 users)"
	barrier bob
	expect alice "* bob joined lobby"
	expect alice "* bob left lobby"
	expect alice "* bob joined lobby"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	barrier alice
}

@test "history survives the users who wrote it" {
	login_all first alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect first "* alice left lobby"
	login bob
	expect first "* bob joined lobby"
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	say alice "from alice"
	expect bob "<alice> from alice"
	say bob "/me from bob"
	expect alice "* bob from bob"
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	expect bob "* alice quit"
	say bob "/quit"
	expect bob "* Goodbye, bob."
	expect_eof bob
	login carol
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect carol "* history: last 2 messages in dev"
	expect_hist carol "<alice> from alice"
	expect_hist carol "* bob from bob"
	expect carol "* end of history"
	barrier carol
}

@test "a replayed line keeps the name its author had when sending it" {
	login alice
	say alice "before"
	say alice "/nick alicia"
	expect alice "* you are now known as alicia"
	say alice "/me after"
	barrier alice
	login bob
	expect bob "* history: last 2 messages in lobby"
	expect_hist bob "<alice> before"
	expect_hist bob "* alicia after"
	expect bob "* end of history"
	barrier bob
}

@test "notices and direct messages are never history" {
	login_all first alice bob
	say alice "/dm bob a secret"
	expect alice "-> *bob* a secret"
	expect bob "*alice* a secret"
	say alice "the only line"
	expect bob "<alice> the only line"
	say bob "/nick robert"
	expect bob "* you are now known as robert"
	expect alice "* bob is now known as robert"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	say alice "/leave"
	expect alice "* you are now in lobby (3 users)"
	expect alice "* history: last 1 message in lobby"
	expect_hist alice "<alice> the only line"
	expect alice "* end of history"
	expect bob "* alice joined lobby"
	say bob "/quit bye"
	expect alice "* robert quit (bye)"
	say alice "/dm first another secret"
	expect alice "-> *first* another secret"
	login carol
	expect carol "* history: last 1 message in lobby"
	expect_hist carol "<alice> the only line"
	expect carol "* end of history"
	barrier carol
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	barrier carol
}

@test "a quiet room's history survives 10,000 lines of traffic in another room" {
	local pad i
	# alice leaves 3 lines in quiet and goes.
	login alice
	say alice "/join quiet"
	expect alice "* you are now in quiet (1 user)"
	say alice "quiet 1"
	say alice "/me quiet 2"
	say alice "quiet 3"
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	# bob, alone in lobby, sends about 9 MB: more than the server's 8 MiB
	# message log, so history cannot be kept in the log.
	login bob
	pad=$(repeat 889 x)
	for i in $(seq 1 10000); do
		printf 'line %05d %s\n' "$i" "$pad"
	done >"$BATS_TEST_TMPDIR/lines"
	cat "$BATS_TEST_TMPDIR/lines" >&"${FD[bob]}"
	say bob "/stats"
	expect bob "* you have sent 10000 messages"
	expect_re bob "^\\* connected for $DURATION\$"
	expect_re bob "^\\* server up for $DURATION\$"
	expect bob "* 1 user online"
	expect bob "* 10003 messages relayed"
	# lobby keeps its last 50 of them.
	login carol
	expect carol "* history: last 50 messages in lobby"
	for i in $(seq 9951 10000); do
		expect_hist carol "<bob> line $(printf %05d "$i") $pad"
	done
	expect carol "* end of history"
	barrier carol
	expect bob "* carol joined lobby"
	say carol "/join quiet"
	expect carol "* you are now in quiet (1 user)"
	expect carol "* history: last 3 messages in quiet"
	expect_hist carol "<alice> quiet 1"
	expect_hist carol "* alice quiet 2"
	expect_hist carol "<alice> quiet 3"
	expect carol "* end of history"
	barrier carol
	expect bob "* carol left lobby"
}

@test "a burst in one room wakes nobody in another room" {
	local i lines= pid n
	login carol
	say carol "/join quiet"
	expect carol "* you are now in quiet (1 user)"
	login_all alice bob
	for i in $(seq 1 200); do
		lines+="burst $i"$'\n'
	done
	printf '%s' "$lines" >&"${FD[alice]}"
	for i in $(seq 1 200); do
		expect bob "<alice> burst $i"
	done
	say carol "/quit"
	expect carol "* Goodbye, carol."
	expect_eof carol
	pid=$(worker_pid carol)
	[ -n "$pid" ]
	wait_for "$TIMEOUT" grep -Eq \
	    "^chatd/worker\\[$pid\\]: carol left \\(\\) after [0-9]+ wake-ups\$" "$LOG"
	n=$(sed -En "s/^chatd\/worker\\[$pid\\]: carol left \\(\\) after ([0-9]+) wake-ups\$/\\1/p" \
	    "$LOG")
	if [ "$n" != 0 ]; then
		echo "carol was woken $n times" >&2
		return 1
	fi
}
