#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The operator: the first user, or whoever gives /oper the password; how
# it is shown ([op] in /users and /who) and handed over when it leaves;
# and its commands /kick, /ban, /unban and /bans.
#
# An absence (no second notice, no handover) is shown with a barrier: a
# chat line posted after the event reaches every user of the room in log
# order, so a line that should not exist would arrive before it. An
# absence in a reply is shown with an unknown command, whose reply comes
# after the whole of the reply before.
#
# Every client connects from 127.0.0.1, so once that address is banned
# new connections are refused: what follows a ban is seen by clients
# that were connected before it.

load helpers

# Starts chatd with /oper enabled, password "secret", and any options.
start_chatd_oper() {
	OPER_FILE=$BATS_TEST_TMPDIR/oper
	printf '%s\n' "$OPER_HASH" >"$OPER_FILE"
	start_chatd --oper-password-file "$OPER_FILE" "$@"
}

# Like login, for a server where nobody becomes operator by arriving.
login_plain() {
	local name=${2:-$1}
	open_client "$1" || return 1
	say "$1" "$name"
	expect "$1" "* Hello, $name! You are in lobby. Type /help for commands."
}

# Like login, over IPv6 to ::1.
login6() {
	connect6 "$1"
	expect_re "$1" '^\* Welcome to chatd! ([0-9]+) users? online\.$' ||
	    return 1
	expect "$1" "Enter your name:"
	say "$1" "$1"
	expect "$1" "* Hello, $1! You are in lobby. Type /help for commands."
}

# A new connection is refused as banned, before any prompt.
expect_refused() {
	connect "$1" "${2:-}"
	expect "$1" "! you are banned"
	expect_eof "$1"
	disconnect "$1"
}

# A worker stopped by a test is let go again, whatever happened.
teardown() {
	if [ -n "${STOPPED:-}" ]; then
		kill -CONT "$STOPPED" 2>/dev/null || true
	fi
	stop_chatd
	assert_no_sanitizer_report
}

# Microseconds since the epoch, in $NOW.
now_us() {
	NOW=${EPOCHREALTIME//[!0-9]/}
}

@test "the first user is the operator, marked [op] in /users and /who" {
	start_chatd
	login first
	barrier first
	login alice
	expect first "* alice joined lobby"
	barrier alice
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* first (lobby) [op]"
	expect alice "* alice (lobby)"
	say alice "/who"
	expect alice "* 2 users in lobby"
	expect alice "* first [op]"
	expect alice "* alice"
	barrier alice
	say first "/join ops"
	expect first "* you are now in ops (1 user)"
	expect alice "* first left lobby"
	say first "/who"
	expect first "* 1 user in ops"
	expect first "* first [op]"
	say first "/users"
	expect first "* 2 users online"
	expect first "* first (ops) [op]"
	expect first "* alice (lobby)"
	barrier first
}

@test "a user who finds nobody online is the operator" {
	start_chatd
	login first
	say first "/quit"
	expect first "* Goodbye, first."
	expect_eof first
	disconnect first
	# login asserts "* You are the operator." for a user who found
	# nobody online.
	login alice
	[ "${ONLINE[alice]}" -eq 0 ]
	login bob
	expect alice "* bob joined lobby"
	barrier bob
	say bob "/users"
	expect bob "* 2 users online"
	expect bob "* alice (lobby) [op]"
	expect bob "* bob (lobby)"
}

@test "the operator quits: the user who registered earliest is the operator" {
	start_chatd
	login_all first alice bob
	say alice "/quit"
	expect first "* alice quit"
	expect bob "* alice quit"
	# carol may take alice's place in the slot table; bob registered
	# before her all the same, and a new name does not change that.
	login carol
	expect first "* carol joined lobby"
	expect bob "* carol joined lobby"
	say bob "/nick bert"
	expect bob "* you are now known as bert"
	expect first "* bob is now known as bert"
	expect carol "* bob is now known as bert"
	say first "/quit"
	expect first "* Goodbye, first."
	expect_eof first
	expect bob "* first quit"
	expect bob "* You are now the operator."
	expect carol "* first quit"
	say bob "barrier from bert"
	expect carol "<bert> barrier from bert"
	room_barrier carol bob
	say carol "/users"
	expect carol "* 2 users online"
	expect carol "* bert (lobby) [op]"
	expect carol "* carol (lobby)"
	say carol "/who"
	expect carol "* 2 users in lobby"
	expect carol "* bert [op]"
	expect carol "* carol"
}

@test "the operator's connection closes: the earliest registered user is the operator" {
	start_chatd
	login_all first alice bob
	disconnect first
	expect alice "* first quit (connection closed)"
	expect alice "* You are now the operator."
	expect bob "* first quit (connection closed)"
	room_barrier alice bob
	room_barrier bob alice
	say bob "/users"
	expect bob "* 2 users online"
	expect bob "* alice (lobby) [op]"
	expect bob "* bob (lobby)"
}

@test "the operator's worker is killed: the heir is told, in whatever room" {
	local pid
	start_chatd
	login_all first alice bob
	say alice "/join side"
	expect alice "* you are now in side (1 user)"
	expect first "* alice left lobby"
	expect bob "* alice left lobby"
	pid=$(worker_pid first)
	[ -n "$pid" ]
	kill -KILL "$pid"
	expect bob "* first quit (connection lost)"
	expect alice "* You are now the operator."
	say bob "/users"
	expect bob "* 2 users online"
	expect bob "* alice (side) [op]"
	expect bob "* bob (lobby)"
	# Told once: a line that alice's room gets after the handover is
	# her next line.
	say bob "/join side"
	expect bob "* you are now in side (2 users)"
	expect alice "* bob joined side"
	say alice "/bans"
	expect alice "* 0 bans"
}

@test "a connection that has not registered yet is not the heir" {
	start_chatd
	login first
	open_client x
	[ "${ONLINE[x]}" -eq 1 ]
	login alice
	expect first "* alice joined lobby"
	say first "/quit"
	expect alice "* first quit"
	expect alice "* You are now the operator."
	say x "xavier"
	expect x "* Hello, xavier! You are in lobby. Type /help for commands."
	barrier x
	expect alice "* xavier joined lobby"
	say x "/users"
	expect x "* 2 users online"
	expect x "* alice (lobby) [op]"
	expect x "* xavier (lobby)"
}

@test "with several operators nothing is handed over until the last leaves" {
	start_chatd_oper
	login_all first alice bob
	login carol
	expect first "* carol joined lobby"
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say bob "/oper secret"
	expect bob "* You are now an operator."
	say carol "/users"
	expect carol "* 4 users online"
	expect carol "* first (lobby) [op]"
	expect carol "* alice (lobby)"
	expect carol "* bob (lobby) [op]"
	expect carol "* carol (lobby)"
	say first "/quit"
	expect alice "* first quit"
	expect bob "* first quit"
	expect carol "* first quit"
	room_barrier carol alice bob
	say carol "/users"
	expect carol "* 3 users online"
	expect carol "* alice (lobby)"
	expect carol "* bob (lobby) [op]"
	expect carol "* carol (lobby)"
	# The last operator leaves: alice registered before carol.
	say bob "/quit"
	expect alice "* bob quit"
	expect alice "* You are now the operator."
	expect carol "* bob quit"
	room_barrier alice carol
	room_barrier carol alice
	say carol "/who"
	expect carol "* 2 users in lobby"
	expect carol "* alice [op]"
	expect carol "* carol"
}

@test "/help lists the operator's commands to operators only" {
	start_chatd_oper
	login first
	say first "/help"
	expect_help first op
	barrier first
	login alice
	expect first "* alice joined lobby"
	say alice "/help"
	expect_help alice
	barrier alice
	say alice "/oper secret"
	expect alice "* You are now an operator."
	say alice "/HELP"
	expect_help alice op
	barrier alice
}

@test "a user who is not the operator gets permission denied for /kick, /ban, /unban and /bans" {
	start_chatd
	login_all first alice bob
	say alice "/kick bob"
	expect alice "! permission denied: /kick is for the operator"
	say alice "/KICK bob too loud"
	expect alice "! permission denied: /kick is for the operator"
	say alice "/kick"
	expect alice "! permission denied: /kick is for the operator"
	say alice "/ban bob"
	expect alice "! permission denied: /ban is for the operator"
	say alice "/Ban bob spam"
	expect alice "! permission denied: /ban is for the operator"
	say alice "/unban 127.0.0.1"
	expect alice "! permission denied: /unban is for the operator"
	say alice "/bans"
	expect alice "! permission denied: /bans is for the operator"
	say alice "/bans now"
	expect alice "! permission denied: /bans is for the operator"
	barrier alice
	# Nobody was kicked or banned.
	room_barrier bob first alice
	say first "/bans"
	expect first "* 0 bans"
	say first "/users"
	expect first "* 3 users online"
	expect first "* first (lobby) [op]"
	expect first "* alice (lobby)"
	expect first "* bob (lobby)"
}

@test "the operator's commands: usage, no such user, not yourself, not banned" {
	start_chatd
	login_all first alice
	say first "/kick"
	expect first "! usage: /kick NAME [REASON]"
	say first "/ban"
	expect first "! usage: /ban [-t DURATION] NAME|ADDRESS [REASON]"
	say first "/unban"
	expect first "! usage: /unban ADDRESS"
	say first "/bans everybody"
	expect first "! usage: /bans"
	say first "/kick nobody"
	expect first "! no such user: nobody"
	say first "/kick NoBody for a reason"
	expect first "! no such user: NoBody"
	say first "/ban ghost"
	expect first "! no such user: ghost"
	say first "/kick first"
	expect first "! you cannot kick yourself"
	say first "/kick FIRST because"
	expect first "! you cannot kick yourself"
	say first "/ban first"
	expect first "! you cannot ban yourself"
	say first "/ban First because"
	expect first "! you cannot ban yourself"
	say first "/unban 10.1.2.3"
	expect first "! not banned: 10.1.2.3"
	say first "/unban 127.0.0.1"
	expect first "! not banned: 127.0.0.1"
	say first "/bans"
	expect first "* 0 bans"
	barrier first
	room_barrier alice first
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* first (lobby) [op]"
	expect alice "* alice (lobby)"
}

@test "/kick NAME: NAME is told and disconnected, its room hears it once" {
	start_chatd
	login_all first alice bob
	say first "/kick BOB"
	expect bob "! you were kicked by first"
	expect_eof bob
	expect alice "* bob was kicked by first"
	expect first "* bob was kicked by first"
	# bob's worker has gone (bob saw end of file): no quit line too.
	room_barrier alice first
	room_barrier first alice
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* first (lobby) [op]"
	expect alice "* alice (lobby)"
}

@test "/kick NAME REASON: NAME and its room are told the reason" {
	start_chatd
	login_all first alice bob
	say first "/kick bob too many capitals, again"
	expect bob "! you were kicked by first (too many capitals, again)"
	expect_eof bob
	expect alice "* bob was kicked by first (too many capitals, again)"
	expect first "* bob was kicked by first (too many capitals, again)"
	room_barrier alice first
	room_barrier first alice
}

@test "a kicked user's name is free again as soon as the room hears the kick" {
	start_chatd
	login_all first alice bob
	say first "/kick bob"
	expect alice "* bob was kicked by first"
	login bob2 bob
	expect alice "* bob joined lobby"
	say bob2 "back"
	expect alice "<bob> back"
	expect first "* bob was kicked by first"
	expect first "* bob joined lobby"
	expect first "<bob> back"
}

@test "a kicked user is gone when the room hears it, even before its worker runs" {
	start_chatd
	login_all first alice bob
	# bob's worker is kept from running until the end: a busy machine
	# may do the same to it for a while.
	STOPPED=$(worker_pid bob)
	[ -n "$STOPPED" ]
	kill -STOP "$STOPPED"
	say first "/kick bob"
	expect alice "* bob was kicked by first"
	expect first "* bob was kicked by first"
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* first (lobby) [op]"
	expect alice "* alice (lobby)"
	login bob2 bob
	expect alice "* bob joined lobby"
	expect first "* bob joined lobby"
	kill -CONT "$STOPPED"
	STOPPED=
	expect bob "! you were kicked by first"
	expect_eof bob
	# The new bob is not the one kicked, and nobody hears the old one go.
	say bob2 "still here"
	expect alice "<bob> still here"
	expect first "<bob> still here"
	room_barrier first alice
}

@test "/kick from another room: the target's room and the operator hear it" {
	start_chatd
	login_all first mate alice
	login bob
	expect first "* bob joined lobby"
	expect mate "* bob joined lobby"
	expect alice "* bob joined lobby"
	say first "/join ops"
	expect first "* you are now in ops (1 user)"
	expect mate "* first left lobby"
	say mate "/join ops"
	expect mate "* you are now in ops (2 users)"
	expect first "* mate joined ops"
	expect alice "* first left lobby"
	expect alice "* mate left lobby"
	expect bob "* first left lobby"
	expect bob "* mate left lobby"
	say first "/kick bob spam"
	expect bob "! you were kicked by first (spam)"
	expect_eof bob
	expect alice "* bob was kicked by first (spam)"
	expect first "* bob was kicked by first (spam)"
	# Once each, and nothing for the rest of the operator's room.
	room_barrier mate first
	room_barrier first mate
	say first "/dm alice barrier"
	expect first "-> *alice* barrier"
	expect alice "*first* barrier"
}

@test "/ban NAME REASON: NAME is disconnected and its address refused" {
	start_chatd
	login_all first alice bob
	say first "/ban Bob spamming the room"
	expect bob "! you were banned by first (spamming the room)"
	expect_eof bob
	expect alice "* bob was banned by first (spamming the room)"
	expect first "* bob was banned by first (spamming the room)"
	room_barrier alice first
	room_barrier first alice
	say first "/bans"
	expect first "* 1 ban"
	expect first "* 127.0.0.1 bob spamming the room"
	barrier first
	expect_refused x
	expect_refused y
	# Who was connected from the address stays.
	say alice "still here"
	expect first "<alice> still here"
	say alice "/users"
	expect alice "* 2 users online"
	expect alice "* first (lobby) [op]"
	expect alice "* alice (lobby)"
}

@test "/ban NAME from another room, without a reason" {
	start_chatd
	login_all first alice bob
	say first "/join ops"
	expect first "* you are now in ops (1 user)"
	expect alice "* first left lobby"
	expect bob "* first left lobby"
	say first "/ban bob"
	expect bob "! you were banned by first"
	expect_eof bob
	expect alice "* bob was banned by first"
	expect first "* bob was banned by first"
	barrier first
	say first "/dm alice barrier"
	expect first "-> *alice* barrier"
	expect alice "*first* barrier"
	say first "/bans"
	expect first "* 1 ban"
	expect first "* 127.0.0.1 bob"
	barrier first
	expect_refused x
}

@test "/unban ADDRESS lets the address in again" {
	start_chatd
	login_all first alice bob
	say first "/ban bob"
	expect bob "! you were banned by first"
	expect_eof bob
	disconnect bob
	expect alice "* bob was banned by first"
	expect first "* bob was banned by first"
	expect_refused x
	say first "/unban 127.0.0.1"
	expect first "* unbanned 127.0.0.1"
	say first "/bans"
	expect first "* 0 bans"
	say first "/unban 127.0.0.1"
	expect first "! not banned: 127.0.0.1"
	login bob
	expect first "* bob joined lobby"
	expect alice "* bob joined lobby"
	say bob "I am back"
	expect first "<bob> I am back"
	expect alice "<bob> I am back"
}

# With the default --ipv6-prefix of 64, banning the user of ::1 bans
# ::/64; /unban takes the range as /bans shows it.
@test "a ban is of one IPv4 address or one IPv6 /64; /bans lists each" {
	local a b
	have_ipv6_loopback || skip "no IPv6 loopback (::1)"
	start_chatd -l ::1
	wait_for "$TIMEOUT" grep -q 'listening on ::1 port' "$LOG"
	login_all first alice
	login6 bob6
	expect first "* bob6 joined lobby"
	expect alice "* bob6 joined lobby"
	say first "/ban alice"
	expect alice "! you were banned by first"
	expect_eof alice
	expect first "* alice was banned by first"
	expect bob6 "* alice was banned by first"
	expect_refused x
	login6 carol6
	expect first "* carol6 joined lobby"
	expect bob6 "* carol6 joined lobby"
	say first "/ban bob6 too chatty"
	expect bob6 "! you were banned by first (too chatty)"
	expect_eof bob6
	expect first "* bob6 was banned by first (too chatty)"
	expect carol6 "* bob6 was banned by first (too chatty)"
	say first "/bans"
	expect first "* 2 bans"
	# One line each, in no particular order.
	next_line first
	a=$LINE
	next_line first
	b=$LINE
	if ! { [ "$a" = "* 127.0.0.1 alice" ] &&
	    [ "$b" = "* ::/64 bob6 too chatty" ]; } &&
	    ! { [ "$b" = "* 127.0.0.1 alice" ] &&
	    [ "$a" = "* ::/64 bob6 too chatty" ]; }; then
		printf 'first got: %s / %s\n' "$a" "$b" >&2
		return 1
	fi
	barrier first
	connect6 y
	expect y "! you are banned"
	expect_eof y
	say first "/unban ::1"
	expect first "! not banned: ::1 (it is in ::/64: /unban ::/64)"
	say first "/unban ::/64"
	expect first "* unbanned ::/64"
	login6 dave6
	expect first "* dave6 joined lobby"
	expect carol6 "* dave6 joined lobby"
	expect_refused z
}

@test "--oper-first-user no: only /oper makes an operator, nothing is handed over" {
	local pid
	start_chatd_oper --oper-first-user no
	login_plain alice
	barrier alice
	say alice "/kick nobody"
	expect alice "! permission denied: /kick is for the operator"
	login bob
	expect alice "* bob joined lobby"
	barrier bob
	say bob "/users"
	expect bob "* 2 users online"
	expect bob "* alice (lobby)"
	expect bob "* bob (lobby)"
	say alice "/oper secret"
	expect alice "* You are now an operator."
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say bob "/who"
	expect bob "* 3 users in lobby"
	expect bob "* alice [op]"
	expect bob "* bob"
	expect bob "* carol"
	say alice "/quit"
	expect bob "* alice quit"
	expect carol "* alice quit"
	room_barrier carol bob
	room_barrier bob carol
	say bob "/users"
	expect bob "* 2 users online"
	expect bob "* bob (lobby)"
	expect bob "* carol (lobby)"
	say bob "/bans"
	expect bob "! permission denied: /bans is for the operator"
	# Nor when an operator's worker dies.
	say bob "/oper secret"
	expect bob "* You are now an operator."
	pid=$(worker_pid bob)
	[ -n "$pid" ]
	kill -KILL "$pid"
	expect carol "* bob quit (connection lost)"
	say carol "/users"
	expect carol "* 1 user online"
	expect carol "* carol (lobby)"
	# Nobody online: the next user is no operator either.
	say carol "/quit"
	expect carol "* Goodbye, carol."
	expect_eof carol
	login_plain dave
	[ "${ONLINE[dave]}" -eq 0 ]
	expect dave "* history: last 2 messages in lobby"
	expect_re dave '^\[[0-9]{2}:[0-9]{2}\] <carol> barrier from carol$'
	expect_re dave '^\[[0-9]{2}:[0-9]{2}\] <bob> barrier from bob$'
	expect dave "* end of history"
	barrier dave
	say dave "/who"
	expect dave "* 1 user in lobby"
	expect dave "* dave"
}

@test "/oper without a password file is not enabled" {
	start_chatd
	login_all first alice
	say alice "/oper secret"
	expect alice "! /oper is not enabled"
	say alice "/OPER"
	expect alice "! usage: /oper PASSWORD"
	say first "/oper secret"
	expect first "! /oper is not enabled"
	say alice "/who"
	expect alice "* 2 users in lobby"
	expect alice "* first [op]"
	expect alice "* alice"
}

@test "/oper PASSWORD makes an operator, marked [op], who may kick" {
	start_chatd_oper
	login_all first alice bob
	say alice "/oper secret"
	expect alice "* You are now an operator."
	say bob "/users"
	expect bob "* 3 users online"
	expect bob "* first (lobby) [op]"
	expect bob "* alice (lobby) [op]"
	expect bob "* bob (lobby)"
	say alice "/kick bob"
	expect bob "! you were kicked by alice"
	expect_eof bob
	expect first "* bob was kicked by alice"
	expect alice "* bob was kicked by alice"
	say alice "/kick first"
	expect first "! you were kicked by alice"
	expect_eof first
	expect alice "* first was kicked by alice"
	barrier alice
	grep -q ': audit: oper by alice (127\.0\.0\.1)$' "$LOG"
}

@test "/oper with a wrong password: ! wrong password after a second, logged" {
	local start elapsed
	start_chatd_oper
	login_all first alice
	now_us
	start=$NOW
	say alice "/oper wrongsecret"
	expect alice "! wrong password"
	now_us
	elapsed=$((NOW - start))
	[ "$elapsed" -ge 1000000 ] || {
		echo "answered after ${elapsed} us" >&2
		return 1
	}
	grep -q \
	    ': audit: oper-failed by alice (127\.0\.0\.1): wrong password$' \
	    "$LOG"
	run ! grep -q wrongsecret "$LOG"
	say alice "/bans"
	expect alice "! permission denied: /bans is for the operator"
	say first "/users"
	expect first "* 2 users online"
	expect first "* first (lobby) [op]"
	expect first "* alice (lobby)"
	# The right one still works afterwards.
	say alice "/oper secret"
	expect alice "* You are now an operator."
	say alice "/bans"
	expect alice "* 0 bans"
}
