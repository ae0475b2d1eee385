#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Netsplits and netjoins (LINK.md): the hub killed and started again,
# the link process killed (its listener starts another), the hub gone
# for longer (the retry delay doubles), and a hub that stops reading
# (SIGSTOP) while a room is busy. Local chat never stops meanwhile,
# nothing said during a split is carried over, and the link comes back
# by itself. A link's retry comes 10 s after the loss, so these tests
# wait up to LINK_TIMEOUT seconds for it, never a fixed time.

load helpers
load linkhelpers

bats_require_minimum_version 1.5.0

setup() {
	link_setup
}

teardown() {
	link_teardown
}

# Client $1 reads lines until one is exactly $2, skipping those that
# match $3 (an extended regular expression) and failing on any other.
expect_skipping() {
	while next_line "$1"; do
		[ "$LINE" = "$2" ] && return 0
		[[ $LINE =~ $3 ]] || {
			echo "$1: expected: $2 (skipping /$3/), got: $LINE" >&2
			return 1
		}
	done
	return 1
}

# alice (leaf a) says "again N" until bob (leaf b) hears one of them,
# within $1 seconds: the link is back however long it took. bob skips
# the lines of before, and netsplit and netjoin notices.
heard_again() {
	local end=$((SECONDS + $1)) k=0 rc
	while [ "$SECONDS" -le "$end" ]; do
		k=$((k + 1))
		say alice "again $k"
		while :; do
			rc=0
			IFS= read -r -t 1 -u "${FD[bob]}" LINE || rc=$?
			[ "$rc" -eq 0 ] || break
			LINE=${LINE%$'\r'}
			[[ $LINE == "<alice> again "* ]] && return 0
		done
		# A timeout is the only way out but a line heard.
		[ "$rc" -gt 128 ] || {
			echo "bob: end of file" >&2
			return 1
		}
	done
	echo "bob never heard alice again within $1 s" >&2
	return 1
}

# Every process of leaf $1 given as WHAT=PID (its listener, a user's
# worker) is still running: the same process as before.
same_processes() {
	local id=$1 kv
	shift
	for kv in "$@"; do
		kill -0 "${kv#*=}" 2>/dev/null || {
			echo "leaf $id: ${kv%%=*} (pid ${kv#*=}) is gone" >&2
			return 1
		}
	done
}

@test "ngircd killed: a netsplit on both leaves, local chat goes on, a netjoin when it is back" {
	local bl
	alice_bob_carol
	and_amy
	kill_hub
	stream_close irc.carol
	expect alice "* netsplit: 2 users left (hub.test)"
	expect amy "* netsplit: 2 users left (hub.test)"
	expect bob "* netsplit: 3 users left (hub.test)"
	wait_for "$TIMEOUT" link_down_n a
	wait_for "$TIMEOUT" link_down_n b
	# Leaf b's link waits, stopped, so that leaf a links first.
	bl=$(link_pid b)
	kill -STOP "$bl"
	STOPPED_PIDS+=("$bl")
	grep -q "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[a]} down: .*; next try in 10 s\$" \
	    "${LEAF_LOG[a]}"
	wait_for "$TIMEOUT" link_state_is a down
	[ "$(leaf_status a link_hub)" = "$HUB_NAME" ]
	[ -n "$(leaf_status a link_error)" ]
	[[ $(leaf_status a link_retry) =~ ^([0-9]|10)$ ]]
	[ "$(leaf_status a remote_users)" = 0 ]
	# Local chat goes on; the others are gone from every listing.
	say alice "during the split"
	expect amy "<alice> during the split"
	say amy "/users"
	expect amy "* 2 users online"
	expect amy "* alice (lobby) [op]"
	expect amy "* amy (lobby)"
	barrier amy
	say bob "/who"
	expect bob "* 1 user in lobby"
	expect bob "* bob [op]"
	barrier bob
	restart_hub
	wait_link_up a 2
	barrier alice
	kill -CONT "$bl"
	wait_link_up b 2
	# Leaf b, linking second, finds a's users in the hub's burst; leaf
	# a sees b's come.
	expect bob "* netjoin: 2 users joined (hub.test)"
	expect alice "* netjoin: 1 user joined (b.chatd.test)"
	expect amy "* netjoin: 1 user joined (b.chatd.test)"
	# What was said during the split is not carried over.
	say alice "after the split"
	expect amy "<alice> after the split"
	expect bob "<alice> after the split"
	say bob "/who"
	expect bob "* 3 users in lobby"
	expect_set bob "* alice @a.chatd.test" "* amy @a.chatd.test" "* bob [op]"
	barrier bob
	barrier alice
	barrier amy
	[ "$(leaf_status b remote_users)" = 2 ]
}

@test "the link process killed: its listener starts another, a netsplit then a netjoin, local chat goes on" {
	local old listener wa wm
	alice_bob_carol
	and_amy
	leaf a
	old=$(link_pid a)
	listener=${LEAF_PID[a]}
	wa=$(worker_pid alice)
	wm=$(worker_pid amy)
	[ -n "$old" ] && [ -n "$wa" ] && [ -n "$wm" ]
	kill -KILL "$old"
	expect alice "* netsplit: 2 users left (hub.test)"
	expect amy "* netsplit: 2 users left (hub.test)"
	expect bob "* netsplit: 2 users left (a.chatd.test)"
	irc_expect_set carol ":alice!alice@a.chatd.test QUIT :hub.test a.chatd.test" \
	    ":amy!amy@a.chatd.test QUIT :hub.test a.chatd.test"
	# Local chat never stopped.
	say alice "on a alone"
	expect amy "<alice> on a alone"
	wait_for "$TIMEOUT" new_link_pid a "$old"
	wait_link_up a 2
	expect alice "* netjoin: 2 users joined (hub.test)"
	expect amy "* netjoin: 2 users joined (hub.test)"
	expect bob "* netjoin: 2 users joined (a.chatd.test)"
	irc_expect_set carol ":alice!alice@a.chatd.test JOIN :#lobby" \
	    ":amy!amy@a.chatd.test JOIN :#lobby"
	same_processes a "listener=$listener" "alice=$wa" "amy=$wm"
	# The network is whole again, and nothing said in the split came.
	say alice "back"
	expect amy "<alice> back"
	expect bob "<alice> back"
	irc_expect carol ":alice!alice@a.chatd.test PRIVMSG #lobby :back"
	irc_say carol "PRIVMSG #lobby :welcome back"
	expect alice "<carol> welcome back"
	expect amy "<carol> welcome back"
	expect bob "<carol> welcome back"
	all_barriers alice amy bob
	[ "$(leaf_status a remote_users)" = 2 ]
}

@test "the hub gone for longer: the link tries again after 10 s, then 20 s, and comes back" {
	start_hub
	start_leaf a
	wait_link_up a
	net_login alice
	irc_connect carol
	irc_join carol '#lobby'
	[ "$IRC_NAMES" = "alice carol" ]
	expect alice "* carol joined lobby"
	kill_hub
	stream_close irc.carol
	expect alice "* netsplit: 1 user left (hub.test)"
	wait_for "$TIMEOUT" grep -q \
	    "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[a]} down: .*; next try in 10 s\$" \
	    "${LEAF_LOG[a]}"
	wait_for "$LINK_TIMEOUT" grep -q \
	    "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[a]} down: .*; next try in 20 s\$" \
	    "${LEAF_LOG[a]}"
	[ "$(leaf_status a link)" = down ]
	[[ $(leaf_status a link_retry) =~ ^([0-9]|1[0-9]|20)$ ]]
	[ -n "$(leaf_status a link_error)" ]
	# Chat never waited for it.
	say alice "/who"
	expect alice "* 1 user in lobby"
	expect alice "* alice [op]"
	barrier alice
	restart_hub
	wait_link_up a 2
	irc_connect dave
	irc_join dave '#lobby'
	[ "$IRC_NAMES" = "alice dave" ]
	expect alice "* dave joined lobby"
	say alice "back"
	irc_expect dave ":alice!alice@a.chatd.test PRIVMSG #lobby :back"
	barrier alice
}

@test "a stalled hub (SIGSTOP) costs local users nothing, and the link recovers when it runs again" {
	local i pad end
	alice_bob_carol
	and_amy
	# carol's IRC client would not read the flood either.
	irc_quit carol bye
	expect alice "* carol quit (bye)"
	expect amy "* carol quit (bye)"
	expect bob "* carol quit (bye)"
	kill -STOP "$HUB_PID"
	HUB_STOPPED=1
	pad=$(repeat 200 x)
	end=$((SECONDS + 2 * TIMEOUT))
	for i in $(seq 1 2000); do
		say alice "$i $pad"
	done
	# amy gets every line, in order, however far behind the link is
	# (it may drop the link as too slow: a netsplit, no more).
	for i in $(seq 1 2000); do
		expect_skipping amy "<alice> $i $pad" '^\* netsplit: [0-9]+ users? left \(hub\.test\)$'
	done
	[ "$SECONDS" -le "$end" ]
	barrier amy
	kill -CONT "$HUB_PID"
	HUB_STOPPED=
	heard_again $((LINK_TIMEOUT + 20))
	# Both ways.
	say bob "both ways"
	expect_skipping alice "<bob> both ways" '^\* net(split|join): '
	expect_skipping amy "<bob> both ways" \
	    '^(\* net(split|join): |<alice> again [0-9]+$)'
}
