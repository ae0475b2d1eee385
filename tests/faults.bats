#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Crash points: tests/chatd-fault is chatd with the crash points of
# src/fault.h compiled in. CHATD_CRASH=POINT:N@K makes the worker of the
# Kth connection kill itself with SIGKILL the Nth time it passes POINT.
# For every point there is a test below, or in linkfaults.bats for the
# link process's (the first test fails for a point without one), and each proves that the point was reached (the
# worker logs it before it dies) and that the death left the hub sound:
# the others hear what they must, each line once; the dead user's slot
# is freed and its name can be taken again; a lock left by the dead is
# repaired and counted (chatctl status: lock_repairs); a new client can
# join; and the server still shuts down clean.
#
# The victim is the third connection, after alice and bob, unless it
# must be the operator: then it is the first.

load helpers

bats_require_minimum_version 1.5.0

: "${CHATD_FAULT:=$BATS_TEST_DIRNAME/chatd-fault}"
PLAIN_CHATD=$CHATD
: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"

T=$'\t'

setup() {
	CHATD=$CHATD_FAULT
}

# Starts chatd-fault with CHATD_CRASH=$1 and the options that follow.
start_crash() {
	local spec=$1
	shift
	CHATD_CRASH=$spec start_chatd "$@"
}

# The value of key $1 in `chatctl status`.
status_value() {
	local out l
	out=$("$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" -H status) ||
	    return 1
	while IFS= read -r l; do
		if [ "${l%%$T*}" = "$1" ]; then
			echo "${l#*$T}"
			return 0
		fi
	done <<<"$out"
	return 1
}

connections_are() {
	[ "$(status_value connections)" = "$1" ]
}

# The worker at crash point $1 logged it and died of SIGKILL, and the
# listener reaped it; then $2 connections remain (the dead one's slot
# was freed).
crashed_at() {
	local pid
	wait_for "$TIMEOUT" grep -q "crash point $1, pass" "$LOG" || return 1
	pid=$(sed -n "s/^chatd\/worker\[\([0-9]*\)\]: crash point $1, pass .*/\1/p" \
	    "$LOG")
	[ "$(wc -l <<<"$pid")" -eq 1 ] || {
		echo "more than one crash at $1: $pid" >&2
		return 1
	}
	wait_for "$TIMEOUT" grep -q "worker $pid killed by signal 9" "$LOG" ||
	    return 1
	wait_for "$TIMEOUT" connections_are "$2"
}

# The victim's connection ends, whatever came before the end.
lost() {
	while next_line "$1"; do
		:
	done
	[ -z "$LINE" ] || return 1
	disconnect "$1"
}

# Sends every registered user "* mark N" through the log (chatctl wall),
# after whatever the log holds already: where heard() stops reading.
mark() {
	MARK=$((${MARK:-0} + 1))
	"$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" wall "mark $MARK"
}

# Client $1 heard exactly these lines before the last mark, in any
# order: each once, or, for one written "?LINE", at most once.
heard() {
	local who=$1 w g n
	shift
	GOT=()
	while next_line "$who"; do
		[ "$LINE" = "* mark $MARK" ] && break
		GOT+=("$LINE")
	done
	[ "$LINE" = "* mark $MARK" ] || return 1
	for w in "$@"; do
		n=0
		for g in "${GOT[@]}"; do
			[ "$g" = "${w#\?}" ] && n=$((n + 1))
		done
		if [ "$n" -gt 1 ] || { [ "$n" -eq 0 ] && [ "${w:0:1}" != "?" ]; }
		then
			printf '%s heard %s times: %s\nall: %s\n' "$who" "$n" \
			    "$w" "$(printf '[%s] ' "${GOT[@]}")" >&2
			return 1
		fi
	done
	for g in "${GOT[@]}"; do
		n=0
		for w in "$@"; do
			[ "$g" = "${w#\?}" ] && n=1
		done
		[ "$n" -eq 1 ] || {
			echo "$who heard what it should not: $g" >&2
			return 1
		}
	done
}

# Users $1 and $2 keep chatting in their room: each gets the other's
# lines once and in order, and so does every other user named, whose
# six lines may interleave the two senders.
chat_on() {
	local a=$1 b=$2 i who na nb
	shift 2
	for i in 1 2 3; do
		say "$a" "$a says $i"
		say "$b" "$b says $i"
	done
	for i in 1 2 3; do
		expect "$b" "<$a> $a says $i" || return 1
	done
	for i in 1 2 3; do
		expect "$a" "<$b> $b says $i" || return 1
	done
	for who in "$@"; do
		na=0
		nb=0
		for i in 1 2 3 4 5 6; do
			next_line "$who" || return 1
			if [ "$LINE" = "<$a> $a says $((na + 1))" ]; then
				na=$((na + 1))
			elif [ "$LINE" = "<$b> $b says $((nb + 1))" ]; then
				nb=$((nb + 1))
			else
				echo "$who got: $LINE" >&2
				return 1
			fi
		done
	done
}

# The dead user's name is free, and a new client can join the lobby,
# where the users named after the name hear it come.
rejoin() {
	local name=$1 who
	shift
	login "new$name" "$name" || return 1
	for who in "$@"; do
		expect "$who" "* $name joined lobby" || return 1
	done
	say "new$name" "/quit"
	next_line "new$name" || return 1
	if [[ $LINE == "* history: "* ]]; then
		expect_eventually "new$name" "* end of history" || return 1
		next_line "new$name" || return 1
	fi
	[ "$LINE" = "* Goodbye, $name." ] || {
		echo "new$name got: $LINE" >&2
		return 1
	}
	disconnect "new$name"
	for who in "$@"; do
		expect "$who" "* $name quit" || return 1
	done
	# No slot is left taken by the dead, seen or not.
	connections_are "$#" || {
		echo "connections: $(status_value connections), not $#" >&2
		return 1
	}
}

# The lock was recovered from the dead $1 times, and the server stops
# clean.
ends_clean() {
	[ "$(status_value lock_repairs)" = "$1" ] || {
		echo "lock_repairs: $(status_value lock_repairs), not $1" >&2
		return 1
	}
	if [ "$1" -gt 0 ]; then
		grep -q "recovered the hub lock from a dead process" "$LOG"
	fi
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

# alice, bob, then the victim, all in lobby.
three_in_lobby() {
	login_all alice bob vic
}

# The victim dies while saying "doomed"; the others hear $@.
dies_saying() {
	three_in_lobby
	say vic "doomed"
	lost vic
	crashed_at "$1" 2
	shift
	mark
	heard alice "$@"
	heard bob "$@"
	chat_on alice bob
	rejoin vic alice bob
}

# The victim, first and so the operator, then alice, bob and carol, who
# comes from ::1 so that banning her spares the others.
op_victim_and_three() {
	login vic
	login_all alice bob
	expect vic "* alice joined lobby"
	expect vic "* bob joined lobby"
	connect6 carol
	expect carol "* Welcome to chatd! 3 users online."
	expect carol "Enter your name:"
	say carol carol
	expect carol "* Hello, carol! You are in lobby. Type /help for commands."
	expect vic "* carol joined lobby"
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
}

@test "every crash point has a test here or in linkfaults.bats, and no test names another" {
	local p points tests files
	files=("$BATS_TEST_FILENAME" "$BATS_TEST_DIRNAME/linkfaults.bats")
	points=$(CHATD_CRASH=list "$CHATD_FAULT") || return 1
	[ "$(wc -l <<<"$points")" -ge 20 ]
	for p in $points; do
		grep -qF "@test \"crash point $p: " "${files[@]}" || {
			echo "no test for crash point $p" >&2
			return 1
		}
	done
	tests=$(sed -n 's/^@test "crash point \([^:]*\): .*/\1/p' \
	    "${files[@]}")
	for p in $tests; do
		grep -qxF "$p" <<<"$points" || {
			echo "a test for $p, which is no crash point" >&2
			return 1
		}
	done
}

@test "CHATD_CRASH naming no point, or a bad count, is a usage error" {
	run --separate-stderr env CHATD_CRASH=hub.lok "$CHATD_FAULT" --check
	[ "$status" -eq 64 ]
	[[ $stderr == *"CHATD_CRASH: no crash point 'hub.lok'"* ]]
	run --separate-stderr env CHATD_CRASH=hub.lock:0 "$CHATD_FAULT" --check
	[ "$status" -eq 64 ]
	run --separate-stderr env CHATD_CRASH=hub.lock@x "$CHATD_FAULT" --check
	[ "$status" -eq 64 ]
	run --separate-stderr env CHATD_CRASH=hub.lock:2@3 "$CHATD_FAULT" \
	    --check
	[ "$status" -eq 0 ]
}

@test "chatd has crash points only when configured with --enable-fault-injection" {
	run --separate-stderr env CHATD_CRASH=list "$PLAIN_CHATD" --check
	[ "$status" -eq 0 ]
	if [ "${FAULT_INJECTION:-no}" = yes ]; then
		[ "${lines[0]}" = hub.lock ]
	else
		[ "$output" = "chatd: settings OK" ]
	fi
}

@test "crash point hub.lock: a registered user dies holding the lock" {
	# Its third lock: the claim, the name, then the line.
	start_crash hub.lock:3@3
	dies_saying hub.lock "* vic quit (connection lost)"
	ends_clean 1
}

@test "crash point slot.claim: a new connection dies claiming a slot" {
	start_crash slot.claim@3
	login_all alice bob
	connect vic
	lost vic
	crashed_at slot.claim 2
	mark
	heard alice
	heard bob
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point slot.claimed: a new connection dies once its slot is claimed" {
	start_crash slot.claimed@3
	login_all alice bob
	connect vic
	lost vic
	crashed_at slot.claimed 2
	mark
	heard alice
	heard bob
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point slot.register: a user dies taking its name" {
	start_crash slot.register@3
	login_all alice bob
	open_client vic
	say vic vic
	lost vic
	crashed_at slot.register 2
	mark
	heard alice
	heard bob
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point slot.registered: a user dies before its arrival is told" {
	start_crash slot.registered@3
	login_all alice bob
	open_client vic
	say vic vic
	lost vic
	crashed_at slot.registered 2
	mark
	heard alice "* vic quit (connection lost)"
	heard bob "* vic quit (connection lost)"
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point slot.leave: a user dies quitting, before its slot is freed" {
	start_crash slot.leave@3
	three_in_lobby
	say vic "/quit"
	lost vic
	crashed_at slot.leave 2
	mark
	heard alice "* vic quit"
	heard bob "* vic quit"
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point slot.release: a user dies freeing its slot" {
	start_crash slot.release@3
	three_in_lobby
	say vic "/quit bye"
	lost vic
	crashed_at slot.release 2
	mark
	heard alice "* vic quit (bye)"
	heard bob "* vic quit (bye)"
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point ring.reserve: a writer dies with log bytes reserved" {
	# Its second record: the arrival notice, then the line.
	start_crash ring.reserve:2@3
	dies_saying ring.reserve "* vic quit (connection lost)"
	ends_clean 1
}

@test "crash point ring.write: a writer dies with its record written, not published" {
	start_crash ring.write:2@3
	dies_saying ring.write "* vic quit (connection lost)"
	ends_clean 1
}

@test "crash point hub.post: a writer dies with its record published, not linked" {
	start_crash hub.post:2@3
	dies_saying hub.post "<vic> doomed" "* vic quit (connection lost)"
	ends_clean 1
}

@test "crash point room.history: a writer dies adding to the room's history" {
	start_crash room.history@3
	dies_saying room.history "<vic> doomed" "* vic quit (connection lost)"
	ends_clean 1
}

@test "crash point join.make: a user dies making a room" {
	start_crash join.make@3
	three_in_lobby
	say vic "/join den"
	lost vic
	crashed_at join.make 2
	mark
	heard alice "* vic quit (connection lost)"
	heard bob "* vic quit (connection lost)"
	chat_on alice bob
	# The room can still be made.
	say bob "/join den"
	expect bob "* you are now in den (1 user)"
	expect alice "* bob left lobby"
	say bob "/leave"
	expect bob "* you are now in lobby (2 users)"
	expect bob "* history: last 6 messages in lobby"
	expect_eventually bob "* end of history"
	expect alice "* bob joined lobby"
	rejoin vic alice bob
	ends_clean 1
}

# bob waits in den, which has history; the victim moves there from
# lobby, where alice stays.
victim_joins_den() {
	login_all alice bob
	say bob "/join den"
	expect bob "* you are now in den (1 user)"
	expect alice "* bob left lobby"
	say bob "history in den"
	login vic
	expect alice "* vic joined lobby"
	say vic "/join den"
	lost vic
}

# After a victim_joins_den: alice and bob meet in lobby and chat.
meet_in_lobby() {
	say bob "/leave"
	expect bob "* you are now in lobby (2 users)"
	expect alice "* bob joined lobby"
	chat_on alice bob
}

@test "crash point join.left: a user dies between leaving a room and entering another" {
	start_crash join.left@3
	victim_joins_den
	crashed_at join.left 2
	mark
	heard alice "* vic left lobby" "* vic quit (connection lost)"
	heard bob
	meet_in_lobby
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point join.moved: a user dies in a new room before it is told" {
	start_crash join.moved@3
	victim_joins_den
	crashed_at join.moved 2
	mark
	heard alice "* vic left lobby"
	heard bob "* vic quit (connection lost)"
	meet_in_lobby
	rejoin vic alice bob
	ends_clean 1
}

@test "crash point history.replay: a user dies while the room's history is replayed" {
	start_crash history.replay@3
	victim_joins_den
	crashed_at history.replay 2
	mark
	heard alice "* vic left lobby"
	heard bob "* vic joined den" "* vic quit (connection lost)"
	meet_in_lobby
	rejoin vic alice bob
	ends_clean 0
}

# The victim renames itself to vlad and dies at crash point $1; whatever
# it was called, both names are free afterwards.
dies_renaming() {
	start_crash "$1@3"
	three_in_lobby
	say vic "/nick vlad"
	lost vic
	crashed_at "$1" 2
	shift
	mark
	heard alice "$@"
	heard bob "$@"
	chat_on alice bob
	rejoin vic alice bob
	rejoin vlad alice bob
	ends_clean 1
}

@test "crash point nick.name: a user dies with its new name half taken" {
	dies_renaming nick.name "* vlad quit (connection lost)"
}

@test "crash point nick.key: a user dies renamed before the room is told" {
	dies_renaming nick.key "* vlad quit (connection lost)"
}

@test "crash point ban.add: the operator dies writing a ban" {
	start_crash ban.add@1 -l ::1
	op_victim_and_three
	say vic "/ban carol"
	lost vic
	crashed_at ban.add 3
	# Nobody was banned; alice, the earliest left, is the operator.
	mark
	heard alice "* vic quit (connection lost)" \
	    "* You are now the operator."
	heard bob "* vic quit (connection lost)"
	heard carol "* vic quit (connection lost)"
	[ "$(status_value bans)" = 0 ]
	chat_on alice carol bob
	rejoin vic alice bob carol
	ends_clean 1
}

@test "crash point kick.half: the operator dies half-way through a kick" {
	start_crash kick.half@1
	login vic
	login_all alice bob
	expect vic "* alice joined lobby"
	expect vic "* bob joined lobby"
	say vic "/kick bob"
	lost vic
	# bob is kicked for good, not left half kicked: out of every list
	# yet connected, unable to talk and never told.
	crashed_at kick.half 1
	expect_eventually bob "! you were kicked by vic"
	expect_eof bob
	disconnect bob
	mark
	heard alice "* bob quit (kicked)" "* vic quit (connection lost)" \
	    "* You are now the operator."
	rejoin bob alice
	rejoin vic alice
	ends_clean 1
}

@test "crash point state.journal: a writer dies appending to the history journal" {
	local state=$BATS_TEST_TMPDIR/state
	mkdir -m 700 "$state"
	start_crash state.journal@3 --state-dir "$state"
	dies_saying state.journal "<vic> doomed" "* vic quit (connection lost)"
	# The journal is not left locked: lines after it are saved too.
	grep -q "bob says 3" "$state/history"
	ends_clean 0
}

@test "crash point state.replace: the operator dies saving the bans" {
	local state=$BATS_TEST_TMPDIR/state
	mkdir -m 700 "$state"
	start_crash state.replace@1 --state-dir "$state" -l ::1
	op_victim_and_three
	say vic "/ban carol"
	lost vic
	expect_eventually carol "! you were banned by vic"
	expect_eof carol
	disconnect carol
	crashed_at state.replace 2
	mark
	heard alice "* carol was banned by vic" \
	    "* vic quit (connection lost)" "* You are now the operator."
	heard bob "* carol was banned by vic" \
	    "* vic quit (connection lost)"
	[ "$(status_value bans)" = 1 ]
	chat_on alice bob
	# The half-saved file is no obstacle to the next save.
	say alice "/unban ::/64"
	expect alice "* unbanned ::/64"
	wait_for "$TIMEOUT" test ! -e "$state/bans.tmp"
	[ ! -s "$state/bans" ]
	rejoin vic alice bob
	ends_clean 0
}

@test "crash point wake.claimed: a sender dies between a flag and the pipe" {
	# vic's third wake-up: alice and bob for its join, then alice for
	# "doomed". alice's flag says woken, her pipe holds nothing: the
	# burial's wake-up must not trust the flag.
	start_crash wake.claimed:3@3
	three_in_lobby
	say vic "doomed"
	lost vic
	crashed_at wake.claimed 2
	mark
	heard alice "<vic> doomed" "* vic quit (connection lost)"
	heard bob "<vic> doomed" "* vic quit (connection lost)"
	chat_on alice bob
	rejoin vic alice bob
	ends_clean 0
}
