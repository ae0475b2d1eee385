#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The link process's crash points (src/fault.h), as faults.bats does for
# the workers': tests/chatd-fault with CHATD_CRASH=POINT@link kills the
# first link process the listener starts (not the ones it starts again)
# the first time it passes POINT, under the hub lock. Each test proves
# that the point was reached and that the death left the segment sound:
# the lock is repaired, the remote users it held are gone from every
# listing, the listener starts a new link process that links again,
# chat goes on both ways, and the server shuts down clean.

load helpers
load linkhelpers

bats_require_minimum_version 1.5.0

: "${CHATD_FAULT:=$BATS_TEST_DIRNAME/chatd-fault}"

setup() {
	link_setup
	CHATD=$CHATD_FAULT
}

teardown() {
	link_teardown
}

# Starts the hub and leaf a armed at crash point $1 of its link, waits
# for the link, and logs alice in there.
armed_leaf() {
	start_hub || return 1
	CHATD_CRASH="$1@link" start_leaf a || return 1
	wait_link_up a || return 1
	net_login alice
}

# Leaf a's first link process logged crash point $1 and died of SIGKILL;
# the listener reaped it, and a new one linked again.
link_crashed_at() {
	local pid
	wait_for "$TIMEOUT" grep -q "crash point $1, pass" "$LOG" || return 1
	pid=$(sed -n "s/^chatd\/link\[\([0-9]*\)\]: crash point $1, pass .*/\1/p" \
	    "$LOG")
	[ "$(wc -l <<<"$pid")" -eq 1 ] || {
		echo "not one crash at $1: $pid" >&2
		return 1
	}
	wait_for "$TIMEOUT" grep -q "link process $pid killed by signal 9" \
	    "$LOG"
}

# The segment as chatctl sees it: the lock repaired once, N remote
# users ($1), the link up.
sound() {
	[ "$(leaf_status a lock_repairs)" = 1 ] &&
	    [ "$(leaf_status a remote_users)" = "$1" ] &&
	    link_state_is a up || {
		echo "lock_repairs $(leaf_status a lock_repairs)," \
		    "remote_users $(leaf_status a remote_users)," \
		    "link $(leaf_status a link)" >&2
		return 1
	}
}

# alice and IRC user $1 (in #lobby) hear each other.
chat_both_ways() {
	say alice "to $1"
	irc_wait_re "$1" "^:alice!alice@a\.chatd\.test PRIVMSG #lobby :to $1\$" ||
	    return 1
	irc_say "$1" "PRIVMSG #lobby :to alice"
	expect alice "<$1> to alice"
}

# The server stops clean, with no sanitizer report.
stops_clean() {
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "crash point remote.add: the link dies adding a remote user" {
	armed_leaf remote.add
	# carol's arrival on the network is the first remote user.
	irc_connect carol
	link_crashed_at remote.add
	wait_link_up a 2
	# The new link's burst brought carol, in no room yet.
	wait_seen a carol
	irc_join carol '#lobby'
	expect alice "* carol joined lobby"
	say alice "/who"
	expect_set alice "* 2 users in lobby" "* alice [op]" "* carol @$HUB_NAME"
	sound 1
	chat_both_ways carol
	stops_clean
}

@test "crash point link.join: the link dies putting a remote user in a room" {
	armed_leaf link.join
	irc_connect carol
	wait_seen a carol
	irc_join carol '#lobby'
	link_crashed_at link.join
	# The dead link's carol is gone with it; the new one brings her back.
	expect alice "* netsplit: 1 user left ($HUB_NAME)"
	wait_link_up a 2
	expect alice "* netjoin: 1 user joined ($HUB_NAME)"
	say alice "/users"
	expect_set alice "* 2 users online" "* alice (lobby) [op]" \
	    "* carol (lobby) @$HUB_NAME"
	sound 1
	chat_both_ways carol
	stops_clean
}

@test "crash point remote.del: the link dies forgetting a remote user" {
	armed_leaf remote.del
	irc_connect carol
	wait_seen a carol
	irc_join carol '#lobby'
	expect alice "* carol joined lobby"
	irc_say carol "QUIT :gone"
	expect alice "* carol quit (gone)"
	link_crashed_at remote.del
	wait_link_up a 2
	say alice "/who"
	expect_set alice "* 1 user in lobby" "* alice [op]"
	sound 0
	# Her name is free on this leaf again, and dave is heard.
	irc_connect dave
	irc_join dave '#lobby'
	expect alice "* dave joined lobby"
	chat_both_ways dave
	stops_clean
}

@test "crash point link.split: the link dies half-way through a netsplit" {
	armed_leaf link.split
	irc_connect carol
	irc_connect dave
	wait_seen a carol dave
	irc_join carol '#lobby'
	expect alice "* carol joined lobby"
	irc_join dave '#lobby'
	expect alice "* dave joined lobby"
	kill_hub
	close_streams
	link_crashed_at link.split
	# It died having taken carol out, the first; its burial took dave
	# out, and told the room. Nobody of the network is left anywhere.
	expect alice "* netsplit: 1 user left ($HUB_NAME)"
	say alice "/users"
	expect_set alice "* 1 user online" "* alice (lobby) [op]"
	[ "$(leaf_status a remote_users)" = 0 ]
	restart_hub
	wait_link_up a 2
	irc_connect carol
	irc_join carol '#lobby'
	expect_eventually alice "* carol joined lobby"
	sound 1
	chat_both_ways carol
	stops_clean
}
