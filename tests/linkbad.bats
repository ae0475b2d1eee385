#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A fake hub in ngircd's place: a socat listening where leaf a links
# to, its lines written by the test. Bad input on the link (a wrong
# password, an over-long line, garbage, an ERROR, a hub that closes
# during its burst, nobody listening) costs a log line and a retry,
# never a crash: the listener and the workers stay, local chat goes
# on, the segment stays sound, and the link comes up at the next try.
# Unknown commands are ignored, as an IRC server ignores them. And
# what a real hub does only by chance: a nick collision.
#
# The fake hub speaks as ngircd 26.1 does (its lines were taken from a
# real one): PASS, SERVER, a NICK and an NJOIN per user and channel,
# and a PING that ends its burst.

load helpers
load linkhelpers

bats_require_minimum_version 1.5.0

setup() {
	link_setup
	LINK_PORT=
}

teardown() {
	link_teardown
}

# Leaf a linked to a fake hub, which has read its PASS and SERVER;
# alice (the operator) and amy in lobby. LISTENER, WA and WM are the
# pids of its listener and of alice's and amy's workers.
fake_setup() {
	fakehub_listen || return 1
	start_leaf a || return 1
	fakehub_hello a || return 1
	net_login alice || return 1
	net_login amy || return 1
	expect alice "* amy joined lobby" || return 1
	LISTENER=${LEAF_PID[a]}
	WA=$(worker_pid alice)
	WM=$(worker_pid amy)
	[ -n "$WA" ] && [ -n "$WM" ]
}

# The fake hub welcomes leaf a and bursts dan (an IRC user of its own)
# in #lobby; leaf a answers the burst's PING, its link is up, and
# lobby sees dan come.
fakehub_up() {
	fakehub_welcome a
	stream_say hub ":$HUB_NAME NICK dan 1 ~dan 127.0.0.1 1 + :Dan"
	stream_say hub ":$HUB_NAME NJOIN #lobby :dan"
	fakehub_burst_end
	fakehub_wait_re "^(:a\\.chatd\\.test )?PONG " || return 1
	wait_link_up a "${1:-1}" || return 1
	expect alice "* netjoin: 1 user joined ($HUB_NAME)" || return 1
	expect amy "* netjoin: 1 user joined ($HUB_NAME)"
}

# Nothing broke: the listener and both workers are the same processes,
# chat goes on both ways, /users shows exactly who should be there
# ("" or "dan"), and chatctl still reads the segment.
still_sound() {
	local who
	kill -0 "$LISTENER" && kill -0 "$WA" && kill -0 "$WM" || {
		echo "a process is gone: listener $LISTENER, workers $WA $WM" >&2
		return 1
	}
	say alice "still here"
	expect amy "<alice> still here" || return 1
	say amy "me too"
	expect alice "<amy> me too" || return 1
	say alice "/users"
	if [ "${1:-}" = dan ]; then
		expect alice "* 3 users online" || return 1
		expect alice "* alice (lobby) [op]" || return 1
		expect alice "* amy (lobby)" || return 1
		expect alice "* dan (lobby) @$HUB_NAME" || return 1
	else
		expect alice "* 2 users online" || return 1
		expect alice "* alice (lobby) [op]" || return 1
		expect alice "* amy (lobby)" || return 1
	fi
	for who in alice amy; do
		barrier "$who" || return 1
	done
	[ "$(leaf_status a users)" = 2 ]
}

# Leaf a logged that its link is down for REASON $1 (chatd(8)), with a
# retry in 10 s, and closed the fake hub's connection.
dropped_saying() {
	local want="link to ${LEAF_LINK[a]} down: $1; next try in 10 s"
	wait_for "$TIMEOUT" down_logged "$want" || {
		echo "leaf a never logged: $want" >&2
		tail -n 20 "${LEAF_LOG[a]}" >&2
		return 1
	}
	stream_eof hub || return 1
	stream_close hub
}

# Leaf a's link logged line $1 (after its "chatd/link[PID]: " tag).
down_logged() {
	sed -n 's/^chatd\/link\[[0-9]*\]: //p' "${LEAF_LOG[a]}" | grep -qxF -- "$1"
}

# Leaf a tries again: the fake hub, listening anew, reads its handshake
# and welcomes it with a whole burst; the link is up for the $1th time.
retried() {
	fakehub_listen || return 1
	fakehub_hello a || return 1
	fakehub_up "$1"
}

@test "a wrong password from the hub: a log line and a retry" {
	fake_setup
	fakehub_welcome a wrong-password
	dropped_saying "wrong password from the hub"
	[ "$(leaf_status a link)" = down ]
	[ "$(leaf_status a link_error)" = "wrong password from the hub" ]
	[ "$(leaf_status a link_hub)" = "$HUB_NAME" ] ||
	    [ "$(leaf_status a link_hub)" = "${LEAF_LINK[a]}" ]
	still_sound
	retried 1
	still_sound dan
}

@test "an over-long line from the hub: a log line and a retry; nobody sees any of it" {
	fake_setup
	fakehub_up
	stream_say hub ":dan PRIVMSG #lobby :$(repeat 2000 x)"
	dropped_saying "a line over 512 bytes from the hub"
	expect alice "* netsplit: 1 user left ($HUB_NAME)"
	expect amy "* netsplit: 1 user left ($HUB_NAME)"
	still_sound
	retried 2
	still_sound dan
}

@test "the hub sends ERROR: a log line and a retry" {
	fake_setup
	fakehub_up
	stream_say hub "ERROR :Closing connection: a.chatd.test[127.0.0.1] (go away)"
	{ exec {SW[hub]}>&-; } 2>/dev/null
	dropped_saying "the hub said: ERROR Closing connection: a.chatd.test[127.0.0.1] (go away)"
	expect alice "* netsplit: 1 user left ($HUB_NAME)"
	expect amy "* netsplit: 1 user left ($HUB_NAME)"
	still_sound
	retried 2
	still_sound dan
}

@test "a hub that closes during its burst: a retry, and nobody saw half a burst" {
	fake_setup
	fakehub_welcome a
	stream_say hub ":$HUB_NAME NICK dan 1 ~dan 127.0.0.1 1 + :Dan"
	stream_say hub ":$HUB_NAME NJOIN #lobby :dan"
	stream_close hub
	wait_for "$TIMEOUT" down_logged \
	    "link to ${LEAF_LINK[a]} down: the hub closed the connection; next try in 10 s"
	# No netjoin for a burst never finished, so no netsplit either:
	# still_sound's lines are the next ones.
	still_sound
	leaf a
	open_client x
	say x dan
	expect x "* Hello, dan! You are in lobby. Type /help for commands."
	# still_sound's lines, replayed.
	expect x "* history: last 2 messages in lobby"
	expect_eventually x "* end of history"
	expect alice "* dan joined lobby"
	expect amy "* dan joined lobby"
	say x "/quit"
	expect x "* Goodbye, dan."
	expect alice "* dan quit"
	expect amy "* dan quit"
	retried 1
	still_sound dan
}

# Sends line $1 to the leaf if the fake hub's connection is still open.
say_hub() {
	stream_say hub "$1" 2>/dev/null || true
}

@test "garbage from the hub: never a crash; the link goes on or comes back" {
	local before
	fake_setup
	fakehub_up
	before=$(grep -c '^chatd/link\[' "${LEAF_LOG[a]}")
	# The leaf may drop the link at any of these: then the rest
	# finds the connection closed.
	(trap '' PIPE; printf '\001\002\003\377\376 garbage\r\n' >&"${SW[hub]}") 2>/dev/null || true
	(trap '' PIPE; printf 'abc\000def\r\n' >&"${SW[hub]}") 2>/dev/null || true
	(trap '' PIPE; printf '\r\n\n:\r\n:%s\r\n' "$HUB_NAME" >&"${SW[hub]}") 2>/dev/null || true
	say_hub "PRIVMSG"
	say_hub ":dan PRIVMSG"
	say_hub ":dan PRIVMSG #lobby"
	say_hub ":$HUB_NAME NICK"
	say_hub ":$HUB_NAME NICK eve 1"
	say_hub ":$HUB_NAME NICK eve 1 ~eve 127.0.0.1 99 + :unknown server"
	say_hub ":nobody PRIVMSG #lobby :from a ghost"
	say_hub ":nobody JOIN #lobby"
	say_hub ":dan JOIN"
	say_hub ":$HUB_NAME NJOIN #lobby :"
	say_hub ":$HUB_NAME NJOIN #lobby :@@ghost,,"
	say_hub ":$HUB_NAME SQUIT no.such.server :gone"
	say_hub ":dan PRIVMSG #lobby :still linked"
	# Either the link took it all (and logged what it threw away)...
	next_line alice
	if [ "$LINE" = "<dan> still linked" ]; then
		expect amy "<dan> still linked"
		[ "$(grep -c '^chatd/link\[' "${LEAF_LOG[a]}")" -gt "$before" ]
		still_sound dan
		stream_say hub ":$HUB_NAME PING :check"
		fakehub_wait_re "^(:a\\.chatd\\.test )?PONG .*check"
	else
		# ... or it dropped the link, said why, and tries again.
		[ "$LINE" = "* netsplit: 1 user left ($HUB_NAME)" ]
		expect amy "* netsplit: 1 user left ($HUB_NAME)"
		stream_eof hub
		stream_close hub
		wait_for "$TIMEOUT" grep -q \
		    "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[a]} down: bad line from the hub: .*; next try in 10 s\$" \
		    "${LEAF_LOG[a]}"
		still_sound
		retried 2
		still_sound dan
	fi
}

@test "unknown commands from the hub are ignored, and the link goes on" {
	fake_setup
	fakehub_up
	stream_say hub ":$HUB_NAME FROBNICATE a b :c d"
	stream_say hub ":dan WHATEVER #lobby"
	stream_say hub ":$HUB_NAME 999 a.chatd.test :a numeric"
	stream_say hub ":$HUB_NAME MODE #lobby +nt"
	stream_say hub ":dan TOPIC #lobby :a topic"
	stream_say hub ":dan PRIVMSG #lobby :after the unknown"
	expect alice "<dan> after the unknown"
	expect amy "<dan> after the unknown"
	stream_say hub ":$HUB_NAME PING :check"
	fakehub_wait_re "^(:a\\.chatd\\.test )?PONG .*check"
	[ "$(link_downs a)" -eq 0 ]
	still_sound dan
}

@test "nobody listening: down with the error, tries again after 10 s, then 20 s" {
	pick_port
	LINK_PORT=$PORT
	start_leaf a
	net_login alice
	wait_for "$TIMEOUT" grep -q \
	    "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[a]} down: .*; next try in 10 s\$" \
	    "${LEAF_LOG[a]}"
	[ "$(leaf_status a link)" = down ]
	[ "$(leaf_status a link_hub)" = "${LEAF_LINK[a]}" ]
	[ "$(leaf_status a link_error)" = "connect: Connection refused" ]
	[[ $(leaf_status a link_retry) =~ ^([0-9]|10)$ ]]
	[ "$(leaf_status a remote_users)" = 0 ]
	wait_for "$LINK_TIMEOUT" grep -q \
	    "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[a]} down: .*; next try in 20 s\$" \
	    "${LEAF_LOG[a]}"
	# Chat never waited for it.
	say alice "/who"
	expect alice "* 1 user in lobby"
	expect alice "* alice [op]"
	barrier alice
	fakehub_listen
	fakehub_hello a
	fakehub_welcome a
	fakehub_burst_end
	fakehub_wait_re "^(:a\\.chatd\\.test )?PONG "
	wait_link_up a
	[ "$(leaf_status a link_hub)" = "$HUB_NAME" ]
}

@test "a nick collision: the hub's KILL removes the local user, who is told to reconnect" {
	fake_setup
	fakehub_up
	# What ngircd sends both servers when each introduced an alice.
	stream_say hub ":$HUB_NAME KILL alice :Nick collision"
	expect alice "! name collision on the IRC network: reconnect"
	expect_eof alice
	disconnect alice
	expect amy "* alice quit (name collision)"
	expect amy "* You are now the operator."
	say amy "/users"
	expect amy "* 2 users online"
	expect amy "* amy (lobby) [op]"
	expect amy "* dan (lobby) @$HUB_NAME"
	barrier amy
	[ "$(link_downs a)" -eq 0 ]
}
