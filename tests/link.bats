#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The link (LINK.md): two chatd leaves, a.chatd.test and b.chatd.test,
# linked to one real ngircd (hub.test), and people on IRC, share rooms,
# names and direct messages. Chat, /me, /dm, listings and counts, names
# unique over the network, /join and /leave, /nick, /quit, history,
# kick and ban refused for remote users, an IRC operator's KILL, the
# IRC text, chatctl, ii (a real IRC client), and an inetd instance
# linked by chatd --link-only.
#
# As in the other files, that nothing more arrived is shown with a
# barrier: a chatd client's reply to an unknown command, an IRC
# client's answer to its own PING.

load helpers
load linkhelpers

bats_require_minimum_version 1.5.0

setup() {
	link_setup
}

teardown() {
	link_teardown
}

@test "chat: a line reaches the other leaf and IRC, and IRC's lines reach both leaves" {
	alice_bob_carol
	and_amy
	say alice "hello all"
	expect amy "<alice> hello all"
	expect bob "<alice> hello all"
	irc_expect carol ":alice!alice@a.chatd.test PRIVMSG #lobby :hello all"
	say bob "hi from b"
	expect alice "<bob> hi from b"
	expect amy "<bob> hi from b"
	irc_expect carol ":bob!bob@b.chatd.test PRIVMSG #lobby :hi from b"
	irc_say carol "PRIVMSG #lobby :hi from irc"
	expect alice "<carol> hi from irc"
	expect amy "<carol> hi from irc"
	expect bob "<carol> hi from irc"
	# A line starting with // goes out with one / removed.
	say bob "//slash"
	expect alice "<bob> /slash"
	expect amy "<bob> /slash"
	irc_expect carol ":bob!bob@b.chatd.test PRIVMSG #lobby :/slash"
	# Nobody got an echo of its own line, nor anything else.
	all_barriers alice amy bob
}

@test "chat: each sender's lines arrive in order on every server" {
	local i na=0 nc=0
	alice_bob_carol
	# ngircd lets an IRC client send a few lines a second: carol says
	# one for every five of alice's.
	for i in $(seq 1 50); do
		say alice "a$i"
		[ $((i % 5)) -ne 0 ] || irc_say carol "PRIVMSG #lobby :c$((i / 5))"
	done
	for i in $(seq 1 50); do
		irc_expect carol ":alice!alice@a.chatd.test PRIVMSG #lobby :a$i"
	done
	for i in $(seq 1 10); do
		expect alice "<carol> c$i"
	done
	# bob hears both senders, interleaved as they came, each in order.
	for i in $(seq 1 60); do
		next_line bob
		if [ "$LINE" = "<alice> a$((na + 1))" ]; then
			na=$((na + 1))
		elif [ "$LINE" = "<carol> c$((nc + 1))" ]; then
			nc=$((nc + 1))
		else
			echo "bob got: $LINE (after a$na and c$nc)" >&2
			false
		fi
	done
	all_barriers alice bob
}

@test "/me is a CTCP ACTION on IRC, and an ACTION from IRC is * NAME TEXT" {
	alice_bob_carol
	and_amy
	say alice "/me waves"
	expect amy "* alice waves"
	expect bob "* alice waves"
	irc_expect carol $':alice!alice@a.chatd.test PRIVMSG #lobby :\001ACTION waves\001'
	irc_say carol $'PRIVMSG #lobby :\001ACTION dances\001'
	expect alice "* carol dances"
	expect amy "* carol dances"
	expect bob "* carol dances"
	# Other CTCP requests reach nobody, in the room or direct.
	irc_say carol $'PRIVMSG #lobby :\001VERSION\001'
	irc_say carol $'PRIVMSG alice :\001PING 123\001'
	all_barriers alice amy bob
}

@test "/me can never look like a netsplit or netjoin line" {
	alice_bob_carol
	say alice "/me netsplit: 2 users left (hub.test)"
	expect bob "* alice netsplit: 2 users left (hub.test)"
	irc_expect carol $':alice!alice@a.chatd.test PRIVMSG #lobby :\001ACTION netsplit: 2 users left (hub.test)\001'
	all_barriers alice bob
}

@test "notices cannot be forged: a refused /me goes nowhere, an IRC ACTION like one is dropped" {
	alice_bob_carol
	say alice "/me quit (connection lost)"
	expect alice "! /me cannot look like a server notice"
	# An IRC user cannot be told why: its action reaches nobody.
	irc_say carol $'PRIVMSG #lobby :\001ACTION quit (connection lost)\001'
	irc_say carol $'PRIVMSG #lobby :\001ACTION is now known as alice\001'
	irc_say carol $'PRIVMSG #lobby :\001ACTION  WAS kicked  by alice (spam)\001'
	irc_say carol $'PRIVMSG #lobby :\001ACTION quit smoking\001'
	expect alice "* carol quit smoking"
	expect bob "* carol quit smoking"
	# A direct action is no notice: "*carol* * carol ..." stays.
	irc_say carol $'PRIVMSG alice :\001ACTION quit\001'
	expect alice "*carol* * carol quit"
	all_barriers alice bob
}

@test "IRC text: colour and bold codes stripped, then chatd's hygiene" {
	alice_bob_carol
	irc_say carol $'PRIVMSG #lobby :\002bold\002 and \00304,01red\003 and \037under\037\017 plain'
	expect alice "<carol> bold and red and under plain"
	expect bob "<carol> bold and red and under plain"
	irc_say carol $'PRIVMSG #lobby :bell\007 tab\there \xff end'
	expect alice $'<carol> bell tab\there \xef\xbf\xbd end'
	expect bob $'<carol> bell tab\there \xef\xbf\xbd end'
	# A line that is empty once cleaned is no line at all.
	irc_say carol $'PRIVMSG #lobby :\002\003'
	all_barriers alice bob
}

@test "a line too long for one IRC line goes out as several, cut between UTF-8 characters" {
	local long text got piece
	alice_bob_carol
	# 400 two-byte characters and 200 ASCII: 1,000 bytes (chatd takes
	# 1,024), more than an IRC line of 512 holds.
	long=$(repeat 400 é)$(repeat 200 x)
	say alice "$long"
	got=
	while [ "${#got}" -lt "${#long}" ]; do
		irc_line carol
		[[ $LINE =~ ^:alice!alice@a\.chatd\.test\ PRIVMSG\ \#lobby\ :(.+)$ ]] || {
			echo "carol got: $LINE" >&2
			false
		}
		piece=${BASH_REMATCH[1]}
		# Each piece is whole UTF-8 in itself.
		iconv -f UTF-8 -t UTF-8 <<<"$piece" >/dev/null
		got=$got$piece
	done
	[ "$got" = "$long" ]
	got=
	while [ "${#got}" -lt "${#long}" ]; do
		next_line bob
		[[ $LINE == "<alice> "* ]]
		text=${LINE#<alice> }
		[[ $text != *$'\xef\xbf\xbd'* ]]
		got=$got$text
	done
	[ "$got" = "$long" ]
	all_barriers alice bob
}

@test "/dm reaches a user on the other leaf and on IRC, and IRC's private messages reach chatd users" {
	alice_bob_carol
	and_amy
	say alice "/dm bob psst"
	expect alice "-> *bob* psst"
	expect bob "*alice* psst"
	say bob "/msg CAROL over here"
	expect bob "-> *carol* over here"
	irc_expect carol ":bob!bob@b.chatd.test PRIVMSG carol :over here"
	irc_say carol "PRIVMSG alice :psst alice"
	expect alice "*carol* psst alice"
	irc_say carol "PRIVMSG BOB :psst bob"
	expect bob "*carol* psst bob"
	say alice "/dm nobody hello"
	expect alice "! no such user: nobody"
	# Nobody else got any of it.
	all_barriers alice amy bob
}

@test "/users, /who and /rooms list remote users with their server, and count them" {
	alice_bob_carol
	say alice "/users"
	expect alice "* 3 users online"
	expect_set alice "* alice (lobby) [op]" "* bob (lobby) @b.chatd.test" \
	    "* carol (lobby) @hub.test"
	barrier alice
	say bob "/who"
	expect bob "* 3 users in lobby"
	expect_set bob "* alice @a.chatd.test" "* bob [op]" "* carol @hub.test"
	barrier bob
	say alice "/rooms"
	expect alice "* 1 room"
	expect alice "* lobby (3)"
	barrier alice
	# carol in two rooms: listed once by /users, with both rooms.
	irc_join carol '#dev'
	[ "$IRC_NAMES" = carol ]
	say alice "/users"
	expect alice "* 3 users online"
	expect_set alice "* alice (lobby) [op]" "* bob (lobby) @b.chatd.test" \
	    "* carol (lobby, dev) @hub.test"
	barrier alice
	say alice "/rooms"
	expect alice "* 2 rooms"
	expect_set alice "* lobby (3)" "* dev (1)"
	barrier alice
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob left lobby"
	irc_expect_re carol '^:bob!bob@b\.chatd\.test PART #lobby( :.*)?$'
	irc_expect carol ":bob!bob@b.chatd.test JOIN :#dev"
	say bob "/who"
	expect bob "* 2 users in dev"
	expect_set bob "* bob [op]" "* carol @hub.test"
	barrier bob
}

@test "remote users in no chatd room are neither listed nor counted, but their names are taken and /dm reaches them" {
	alice_bob_carol
	irc_connect dave
	irc_join dave '#no.room'
	irc_join dave '&local'
	irc_join dave '#also-not-a-room-because-it-is-far-too-long'
	say alice "/users"
	expect alice "* 3 users online"
	expect_set alice "* alice (lobby) [op]" "* bob (lobby) @b.chatd.test" \
	    "* carol (lobby) @hub.test"
	barrier alice
	say alice "/rooms"
	expect alice "* 1 room"
	expect alice "* lobby (3)"
	barrier alice
	leaf a
	open_client x
	say x dave
	expect x "! name taken: dave"
	expect x "Enter your name:"
	say alice "/dm dave hi dave"
	expect alice "-> *dave* hi dave"
	irc_expect dave ":alice!alice@a.chatd.test PRIVMSG dave :hi dave"
	# What is said there reaches no chatd user.
	irc_say dave "PRIVMSG #no.room :unseen"
	irc_say dave "PRIVMSG &local :unseen"
	all_barriers alice bob
}

@test "remote nicks: IRC's special characters and nicks longer than chatd's names are shown as they are" {
	alice_bob_carol
	irc_connect 'd[a]ve^'
	irc_join 'd[a]ve^' '#lobby'
	expect alice "* d[a]ve^ joined lobby"
	expect bob "* d[a]ve^ joined lobby"
	irc_say 'd[a]ve^' "PRIVMSG #lobby :hi"
	expect alice "<d[a]ve^> hi"
	expect bob "<d[a]ve^> hi"
	irc_connect abcdefghijklmnopqrstuvwxyz01234
	irc_join abcdefghijklmnopqrstuvwxyz01234 '#lobby'
	expect alice "* abcdefghijklmnopqrstuvwxyz01234 joined lobby"
	expect bob "* abcdefghijklmnopqrstuvwxyz01234 joined lobby"
	say alice "/users"
	expect alice "* 5 users online"
	expect_set alice "* alice (lobby) [op]" "* bob (lobby) @b.chatd.test" \
	    "* carol (lobby) @hub.test" "* d[a]ve^ (lobby) @hub.test" \
	    "* abcdefghijklmnopqrstuvwxyz01234 (lobby) @hub.test"
	barrier alice
}

@test "names are unique over the network, whatever the case" {
	alice_bob_carol
	leaf a
	open_client x
	say x bob
	expect x "! name taken: bob"
	expect x "Enter your name:"
	say x CAROL
	expect x "! name taken: CAROL"
	expect x "Enter your name:"
	say x Alice
	expect x "! name taken: Alice"
	expect x "Enter your name:"
	say alice "/nick Bob"
	expect alice "! name taken: Bob"
	say alice "/nick carol"
	expect alice "! name taken: carol"
	# And IRC cannot take a chatd user's name either.
	irc_say carol "NICK ALICE"
	irc_expect_re carol '^:hub\.test 433 carol ALICE :'
	irc_connect dave
	irc_say dave "NICK bob"
	irc_expect_re dave '^:hub\.test 433 dave bob :'
	# A name is free again once its owner left the network.
	irc_quit carol bye
	expect alice "* carol quit (bye)"
	expect bob "* carol quit (bye)"
	say x carol
	expect x "* Hello, carol! You are in lobby. Type /help for commands."
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	barrier alice
	barrier bob
	barrier x
}

@test "/join and /leave are JOIN and PART on IRC, and IRC's JOIN and PART are joins and leaves" {
	alice_bob_carol
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	irc_expect_re carol '^:alice!alice@a\.chatd\.test PART #lobby( :.*)?$'
	irc_join carol '#dev'
	[ "$IRC_NAMES" = "alice carol" ]
	expect alice "* carol joined dev"
	say bob "/join DEV"
	expect bob "* you are now in dev (3 users)"
	expect alice "* bob joined dev"
	irc_expect_re carol '^:bob!bob@b\.chatd\.test PART #lobby( :.*)?$'
	irc_expect carol ":bob!bob@b.chatd.test JOIN :#dev"
	say bob "in dev"
	expect alice "<bob> in dev"
	irc_expect carol ":bob!bob@b.chatd.test PRIVMSG #dev :in dev"
	irc_say carol "PART #dev :off"
	expect alice "* carol left dev"
	expect bob "* carol left dev"
	irc_expect carol ":carol!~carol@127.0.0.1 PART #dev :off"
	say alice "/leave"
	expect alice "* you are now in lobby (2 users)"
	expect bob "* alice left dev"
	irc_expect carol ":alice!alice@a.chatd.test JOIN :#lobby"
	say bob "/join dev"
	expect bob "! you are already in dev"
	all_barriers alice bob
}

@test "/nick renames across the network, and so does IRC's NICK" {
	alice_bob_carol
	say alice "/nick alicia"
	expect alice "* you are now known as alicia"
	expect bob "* alice is now known as alicia"
	irc_expect carol ":alice!alice@a.chatd.test NICK :alicia"
	say alice "still me"
	expect bob "<alicia> still me"
	irc_expect carol ":alicia!alice@a.chatd.test PRIVMSG #lobby :still me"
	irc_say carol "NICK caz"
	expect alice "* carol is now known as caz"
	expect bob "* carol is now known as caz"
	irc_expect carol ":carol!~carol@127.0.0.1 NICK :caz"
	say bob "/dm caz hi caz"
	expect bob "-> *caz* hi caz"
	irc_expect carol ":bob!bob@b.chatd.test PRIVMSG caz :hi caz"
	# The old names are free on both sides.
	leaf b
	net_login x alice
	expect x "* history: last 1 message in lobby"
	expect_hist x "<alicia> still me"
	expect x "* end of history"
	expect bob "* alice joined lobby"
	expect alice "* alice joined lobby"
	irc_expect carol ":alice!alice@b.chatd.test JOIN :#lobby"
	leaf a
	net_login y carol
	expect y "* history: last 1 message in lobby"
	expect_hist y "<alicia> still me"
	expect y "* end of history"
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	expect x "* carol joined lobby"
	irc_expect carol ":carol!carol@a.chatd.test JOIN :#lobby"
	all_barriers alice bob x y
}

@test "/quit with a reason, without one, and a closed connection reach the other leaf and IRC" {
	alice_bob_carol
	and_amy
	leaf b
	net_login dan
	expect alice "* dan joined lobby"
	expect amy "* dan joined lobby"
	expect bob "* dan joined lobby"
	irc_expect carol ":dan!dan@b.chatd.test JOIN :#lobby"
	say bob "/quit going home"
	expect bob "* Goodbye, bob."
	expect_eof bob
	expect alice "* bob quit (going home)"
	expect amy "* bob quit (going home)"
	expect dan "* bob quit (going home)"
	expect dan "* You are now the operator."
	irc_expect carol ":bob!bob@b.chatd.test QUIT :going home"
	say amy "/quit"
	expect amy "* Goodbye, amy."
	expect alice "* amy quit"
	expect dan "* amy quit"
	irc_expect_re carol '^:amy!amy@a\.chatd\.test QUIT( :.*)?$'
	disconnect dan
	expect alice "* dan quit (connection closed)"
	irc_expect carol ":dan!dan@b.chatd.test QUIT :connection closed"
	# ngircd quotes an IRC client's reason; chatd shows it as typed.
	irc_quit carol "see you"
	expect alice "* carol quit (see you)"
	barrier alice
}

@test "history: a remote line is in the room's history for a later joiner" {
	alice_bob_carol
	say alice "from a"
	expect bob "<alice> from a"
	irc_say carol "PRIVMSG #lobby :from irc"
	expect alice "<carol> from irc"
	expect bob "<carol> from irc"
	say alice "/me waves"
	expect bob "* alice waves"
	leaf b
	open_client dan
	say dan dan
	expect dan "* Hello, dan! You are in lobby. Type /help for commands."
	expect dan "* history: last 3 messages in lobby"
	expect_hist dan "<alice> from a"
	expect_hist dan "<carol> from irc"
	expect_hist dan "* alice waves"
	expect dan "* end of history"
	expect alice "* dan joined lobby"
	expect bob "* dan joined lobby"
	# And in another room, entered with /join.
	say bob "/join dev"
	expect bob "* you are now in dev (1 user)"
	expect alice "* bob left lobby"
	expect dan "* bob left lobby"
	say alice "/join dev"
	expect alice "* you are now in dev (2 users)"
	expect bob "* alice joined dev"
	expect dan "* alice left lobby"
	say alice "in dev"
	expect bob "<alice> in dev"
	say dan "/join dev"
	expect dan "* you are now in dev (3 users)"
	expect dan "* history: last 1 message in dev"
	expect_hist dan "<alice> in dev"
	expect dan "* end of history"
	expect alice "* dan joined dev"
	expect bob "* dan joined dev"
	barrier alice
	barrier bob
	barrier dan
}

@test "/kick and /ban of a remote user: ask its operators; chatctl kick and ban too" {
	alice_bob_carol
	say alice "/kick bob"
	expect alice "! bob is on b.chatd.test: ask its operators"
	say alice "/kick carol spamming"
	expect alice "! carol is on hub.test: ask its operators"
	say alice "/ban Carol"
	expect alice "! carol is on hub.test: ask its operators"
	say bob "/ban alice go"
	expect bob "! alice is on a.chatd.test: ask its operators"
	lctl a kick bob
	assert_failure_says 1 "chatctl: bob is on b.chatd.test: ask its operators"
	lctl a ban carol spam
	assert_failure_says 1 "chatctl: carol is on hub.test: ask its operators"
	# Nobody went anywhere.
	say bob "still here"
	expect alice "<bob> still here"
	irc_expect carol ":bob!bob@b.chatd.test PRIVMSG #lobby :still here"
	all_barriers alice bob
}

@test "an IRC operator's KILL disconnects a chatd user: you were killed by NICK" {
	start_network
	leaf a
	net_login amy
	net_login alice
	expect amy "* alice joined lobby"
	wait_seen b amy alice
	leaf b
	net_login bob
	expect amy "* bob joined lobby"
	expect alice "* bob joined lobby"
	irc_connect carol
	irc_join carol '#lobby'
	expect amy "* carol joined lobby"
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	irc_say carol "OPER root $HUB_OPER_PASSWORD"
	irc_wait_re carol "^:$HUB_NAME 381 carol "
	irc_say carol "KILL alice :spamming"
	expect alice "! you were killed by carol (spamming)"
	expect_eof alice
	disconnect alice
	expect amy "* alice quit (killed by carol)"
	expect bob "* alice quit (killed by carol)"
	irc_expect_re carol '^:alice!alice@a\.chatd\.test QUIT :.*$'
	# The name is free again, and a killed user's worker is gone.
	leaf b
	net_login x alice
	expect amy "* alice joined lobby"
	expect bob "* alice joined lobby"
	irc_expect carol ":alice!alice@b.chatd.test JOIN :#lobby"
	all_barriers amy bob x
}

@test "an IRC channel operator's KICK: of a chatd user, chatd's kick; of a remote user, a leave" {
	alice_bob_carol
	and_amy
	# carol makes #dev, so she is its channel operator.
	irc_join carol '#dev'
	[ "$IRC_NAMES" = carol ]
	say alice "/join dev"
	expect alice "* you are now in dev (2 users)"
	expect amy "* alice left lobby"
	expect bob "* alice left lobby"
	irc_expect_re carol '^:alice!alice@a\.chatd\.test PART #lobby( :.*)?$'
	irc_expect carol ":alice!alice@a.chatd.test JOIN :#dev"
	say bob "/join dev"
	expect bob "* you are now in dev (3 users)"
	expect alice "* bob joined dev"
	expect amy "* bob left lobby"
	irc_expect_re carol '^:bob!bob@b\.chatd\.test PART #lobby( :.*)?$'
	irc_expect carol ":bob!bob@b.chatd.test JOIN :#dev"
	say amy "/join dev"
	expect amy "* you are now in dev (4 users)"
	expect alice "* amy joined dev"
	expect bob "* amy joined dev"
	irc_expect_re carol '^:amy!amy@a\.chatd\.test PART #lobby( :.*)?$'
	irc_expect carol ":amy!amy@a.chatd.test JOIN :#dev"
	irc_connect dave
	irc_join dave '#dev'
	[ "$IRC_NAMES" = "alice amy bob carol dave" ]
	expect alice "* dave joined dev"
	expect amy "* dave joined dev"
	expect bob "* dave joined dev"
	irc_expect carol ":dave!~dave@127.0.0.1 JOIN :#dev"
	irc_say carol "KICK #dev dave :out"
	expect alice "* dave left dev"
	expect amy "* dave left dev"
	expect bob "* dave left dev"
	irc_expect carol ":carol!~carol@127.0.0.1 KICK #dev dave :out"
	irc_say carol "KICK #dev alice :behave"
	expect alice "! you were kicked by carol (behave)"
	expect_eof alice
	disconnect alice
	# Where alice is local, the kick of a chatd user; on leaf b she is
	# a remote user kicked from a channel, who left it.
	expect amy "* alice was kicked by carol (behave)"
	expect amy "* You are now the operator."
	expect bob "* alice left dev"
	irc_expect carol ":carol!~carol@127.0.0.1 KICK #dev alice :behave"
	barrier amy
	barrier bob
	irc_barrier carol
}

@test "chatctl status shows the link; chatctl users shows remote users with their server" {
	local a
	alice_bob_carol
	irc_join carol '#dev'
	irc_connect dave
	irc_join dave '#no.room'
	lctl a status
	[ "$status" -eq 0 ]
	leaf a
	[ "$(leaf_status a link)" = up ]
	[ "$(leaf_status a link_hub)" = "$HUB_NAME" ]
	[[ $(leaf_status a link_since) =~ ^[0-9]+$ ]]
	[ "$(leaf_status a users)" = 1 ]
	run ! leaf_status a link_error
	run ! leaf_status a link_retry
	a=$(worker_pid alice)
	lctl a users
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "NAME${T}ROOM${T}ADDRESS${T}CONNECTED_SECS${T}OP${T}PID${T}LAG_BYTES${T}QUEUED_BYTES${T}SERVER" ]
	[ "${#lines[@]}" -eq 5 ]
	[[ ${lines[1]} =~ ^alice${T}lobby${T}127\.0\.0\.1${T}[0-9]+${T}yes${T}$a${T}0${T}0${T}-$ ]]
	printf '%s\n' "${lines[@]:2}" | sort >"$BATS_TEST_TMPDIR/remote"
	run cat "$BATS_TEST_TMPDIR/remote"
	[[ ${lines[0]} =~ ^bob${T}lobby${T}-${T}[0-9]+${T}no${T}-${T}-${T}-${T}b\.chatd\.test$ ]]
	[[ ${lines[1]} =~ ^carol${T}lobby,dev${T}-${T}[0-9]+${T}no${T}-${T}-${T}-${T}hub\.test$ ]]
	[[ ${lines[2]} =~ ^dave${T}-${T}-${T}[0-9]+${T}no${T}-${T}-${T}-${T}hub\.test$ ]]
	# A chatd without --link has none, and no other link rows.
	link_teardown
	start_chatd
	run --separate-stderr "$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" \
	    -H status
	[ "$status" -eq 0 ]
	[[ $'\n'$output$'\n' == *$'\n'"link${T}none"$'\n'* ]]
	[[ $output != *link_* ]]
}

@test "ii, a real IRC client, chats with users on both leaves" {
	start_network
	leaf a
	net_login alice
	wait_seen b alice
	leaf b
	net_login bob
	expect alice "* bob joined lobby"
	ii_start erin
	ii_say erin "" "/j #lobby"
	ii_wait erin '#lobby' "-!- erin(~erin@127.0.0.1) has joined #lobby"
	expect alice "* erin joined lobby"
	expect bob "* erin joined lobby"
	say alice "hello erin"
	ii_wait erin '#lobby' "<alice> hello erin"
	expect bob "<alice> hello erin"
	say bob "/me waves at erin"
	say bob "hi from b"
	ii_wait erin '#lobby' "<bob> hi from b"
	ii_say erin '#lobby' "hello from ii"
	expect alice "* bob waves at erin"
	expect alice "<bob> hi from b"
	expect alice "<erin> hello from ii"
	expect bob "<erin> hello from ii"
	say alice "/dm erin psst"
	expect alice "-> *erin* psst"
	ii_wait erin alice "<alice> psst"
	ii_say erin alice "psst back"
	expect alice "*erin* psst back"
	say bob "/who"
	expect bob "* 3 users in lobby"
	expect_set bob "* alice @a.chatd.test" "* bob [op]" "* erin @hub.test"
	ii_say erin '#lobby' "/l"
	expect alice "* erin left lobby"
	expect bob "* erin left lobby"
	barrier alice
	barrier bob
}

@test "under inetd, chatd --link-only links the instance: its users chat with the network" {
	local pw=$BATS_TEST_TMPDIR/a.link-password
	need systemd-socket-activate systemd
	start_hub
	RUNDIR=$BATS_TEST_TMPDIR/run
	mkdir -p -m 700 "$RUNDIR"
	LOG=$BATS_TEST_TMPDIR/inetd.log
	activate_inetd "$CHATD" -i --run-dir="$RUNDIR" -v
	EXTRA_PIDS+=("$SUPER_PID")
	# The link process of the instance (its name: the port), on its own.
	printf '%s\n%s\n' a-to-hub hub-to-a >"$pw"
	chmod 600 "$pw"
	LEAF_LINK[a]=127.0.0.1:$HUB_PORT
	LEAF_LOG[a]=$BATS_TEST_TMPDIR/link-only.log
	LEAF_INSTANCE[a]=$INSTANCE
	"$CHATD" --link-only -p "$PORT" --run-dir="$RUNDIR" -v \
	    --link="${LEAF_LINK[a]}" --server-name=a.chatd.test \
	    --link-password-file="$pw" 2>"${LEAF_LOG[a]}" &
	LEAF_PID[a]=$!
	wait_link_up a
	CURRENT_LEAF=a
	net_login alice
	irc_connect carol
	irc_join carol '#lobby'
	[ "$IRC_NAMES" = "alice carol" ]
	expect alice "* carol joined lobby"
	say alice "hello from inetd"
	irc_expect carol ":alice!alice@a.chatd.test PRIVMSG #lobby :hello from inetd"
	irc_say carol "PRIVMSG #lobby :hello alice"
	expect alice "<carol> hello alice"
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* alice (lobby) [op]"
	expect alice "* carol (lobby) @hub.test"
	barrier alice
	# Its title, as the listener's child would have.
	[[ $(tr '\0' ' ' <"/proc/${LEAF_PID[a]}/cmdline") == "chatd: link ${LEAF_LINK[a]}"* ]]
	# SIGTERM: the network sees the server go, the user stays.
	stop_pid 10 "${LEAF_PID[a]}"
	[ "$STATUS" -eq 0 ]
	LEAF_PID[a]=
	irc_expect carol ":alice!alice@a.chatd.test QUIT :hub.test a.chatd.test"
	expect alice "* netsplit: 1 user left (hub.test)"
	say alice "/who"
	expect alice "* 1 user in lobby"
	expect alice "* alice [op]"
	barrier alice
}
