#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Rooms: /join, /leave, room names, /rooms, /who and /users, room
# isolation (alone and under concurrent chat) and --max-rooms.
#
# An absence (a line that must not reach a room) is shown with a
# barrier: lines reach a client in log order, so a line that should not
# exist would arrive before a line sent to the client's own room (or a
# direct message to it) afterwards. That a reply has no more lines than
# asserted is shown with the reply to an unknown command.

load helpers

# The first user to register is the operator and hears lines the others
# do not (PROTOCOL.md, "The operator"). A silent first user keeps the
# users under test ordinary, except where the operator is the point.
setup() {
	start_chatd
	login first
}

# A direct message from $1 to $2: whatever the log held for $2 before it
# has arrived when $2 reads it.
dm_barrier() {
	say "$1" "/dm $2 barrier"
	expect "$1" "-> *$2* barrier"
	expect "$2" "*$1* barrier"
}

# Client $1 reads as many lines as there are further arguments, which
# must be those lines in any order.
expect_any_order() {
	local client=$1 want got= line
	shift
	want=$(printf '%s\n' "$@" | sort)
	for line in "$@"; do
		next_line "$client" || return 1
		got+=$LINE$'\n'
	done
	got=$(printf '%s' "$got" | sort)
	if [ "$got" != "$want" ]; then
		printf '%s: expected, in any order:\n%s\n%s: got:\n%s\n' \
		    "$client" "$want" "$client" "$got" >&2
		return 1
	fi
}

@test "/join ROOM: the old room sees NAME left, the new one NAME joined" {
	login_all alice bob carol
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	expect carol "* alice left lobby"
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	expect carol "* bob left lobby"
	say carol "/join dev"
	expect carol "* you are now in dev (3 users)"
	expect alice "* carol joined dev"
	expect bob "* carol joined dev"
	# The mover hears neither notice about itself.
	say alice "barrier"
	expect bob "<alice> barrier"
	expect carol "<alice> barrier"
	say bob "barrier"
	expect alice "<bob> barrier"
	expect carol "<bob> barrier"
}

@test "/join the room you are in: ! you are already in ROOM" {
	login_all alice bob
	say alice "/join lobby"
	expect alice "! you are already in lobby"
	say alice "/join LOBBY"
	expect alice "! you are already in lobby"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	say alice "/join dev"
	expect alice "! you are already in dev"
	say alice "/join Dev"
	expect alice "! you are already in dev"
	barrier alice
	# Nobody heard a thing.
	dm_barrier alice bob
}

@test "room names are case-insensitive and shown as the creator spelled them" {
	login_all alice bob
	say alice "/join Dev"
	expect alice "* you are now in Dev (1 user)"
	expect bob "* alice left lobby"
	say bob "/join DEV"
	expect bob "* you are now in Dev (2 users)"
	expect alice "* bob joined Dev"
	expect first "* alice joined lobby"
	expect first "* bob joined lobby"
	expect first "* alice left lobby"
	expect first "* bob left lobby"
	say first "/join dEv"
	expect first "* you are now in Dev (3 users)"
	expect alice "* first joined Dev"
	expect bob "* first joined Dev"
	say bob "/rooms"
	expect bob "* 2 rooms"
	expect bob "* lobby (0)"
	expect bob "* Dev (3)"
	barrier bob
	say bob "/who"
	expect bob "* 3 users in Dev"
	expect bob "* first [op]"
	expect bob "* alice"
	expect bob "* bob"
	barrier bob
	say bob "/leave"
	expect bob "* you are now in lobby (1 user)"
	expect alice "* bob left Dev"
}

@test "/join without a room: ! usage: /join ROOM" {
	login alice
	say alice "/join"
	expect alice "! usage: /join ROOM"
	say alice "/join   "
	expect alice "! usage: /join ROOM"
	say alice "/JOIN"
	expect alice "! usage: /join ROOM"
	barrier alice
	say alice "/who"
	expect alice "* 2 users in lobby"
	expect alice "* first [op]"
	expect alice "* alice"
	barrier alice
}

@test "room names are 1 to 24 characters" {
	local long
	long=$(repeat 24 r)
	login alice
	say alice "/join ${long}x"
	expect alice "! invalid room name: longer than 24 characters"
	say alice "/join $(repeat 100 r)"
	expect alice "! invalid room name: longer than 24 characters"
	say alice "/join $long"
	expect alice "* you are now in $long (1 user)"
	say alice "/join x"
	expect alice "* you are now in x (1 user)"
	barrier alice
}

@test "room names use only A-Z a-z 0-9 _ -" {
	login alice
	say alice "/join a.b"
	expect alice "! invalid room name: use only letters, digits, _ and -"
	say alice "/join #dev"
	expect alice "! invalid room name: use only letters, digits, _ and -"
	say alice "/join two words"
	expect alice "! invalid room name: use only letters, digits, _ and -"
	say alice "/join caf"$'\xc3\xa9'
	expect alice "! invalid room name: use only letters, digits, _ and -"
	say alice "/join dev/ops"
	expect alice "! invalid room name: use only letters, digits, _ and -"
	barrier alice
	say alice "/join Zed_9-x"
	expect alice "* you are now in Zed_9-x (1 user)"
	say alice "/join 42"
	expect alice "* you are now in 42 (1 user)"
	say alice "/join -_-"
	expect alice "* you are now in -_- (1 user)"
	barrier alice
}

@test "/leave goes back to lobby; in lobby: ! you are already in lobby" {
	login_all alice bob
	say alice "/leave"
	expect alice "! you are already in lobby"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	say alice "/leave"
	expect alice "* you are now in lobby (2 users)"
	expect bob "* alice left dev"
	say alice "/LEAVE"
	expect alice "! you are already in lobby"
	say alice "/leave now"
	expect alice "! usage: /leave"
	barrier alice
	say alice "/who"
	expect alice "* 2 users in lobby"
	expect alice "* first [op]"
	expect alice "* alice"
	barrier alice
	dm_barrier alice bob
}

@test "/rooms counts the rooms in use and lists lobby first, then the others" {
	login_all alice bob carol
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	expect carol "* alice left lobby"
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	expect carol "* bob left lobby"
	say carol "/join ops"
	expect carol "* you are now in ops (1 user)"
	say carol "/rooms"
	expect carol "* 3 rooms"
	expect carol "* lobby (1)"
	expect_any_order carol "* dev (2)" "* ops (1)"
	barrier carol
	say alice "/Rooms"
	expect alice "* 3 rooms"
	expect alice "* lobby (1)"
	expect_any_order alice "* dev (2)" "* ops (1)"
	barrier alice
}

@test "/rooms says 1 room when only lobby is in use" {
	say first "/rooms"
	expect first "* 1 room"
	expect first "* lobby (1)"
	barrier first
}

@test "/rooms always lists lobby, even when it is empty" {
	say first "/join dev"
	expect first "* you are now in dev (1 user)"
	say first "/rooms"
	expect first "* 2 rooms"
	expect first "* lobby (0)"
	expect first "* dev (1)"
	barrier first
}

@test "/rooms no longer lists a room once it is empty" {
	login alice
	expect first "* alice joined lobby"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect first "* alice left lobby"
	say first "/rooms"
	expect first "* 2 rooms"
	expect first "* lobby (1)"
	expect first "* dev (1)"
	barrier first
	say alice "/leave"
	expect alice "* you are now in lobby (2 users)"
	expect first "* alice joined lobby"
	say first "/rooms"
	expect first "* 1 room"
	expect first "* lobby (2)"
	barrier first
	# A user quitting empties a room too.
	say alice "/join ops"
	expect alice "* you are now in ops (1 user)"
	expect first "* alice left lobby"
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	say first "/rooms"
	expect first "* 1 room"
	expect first "* lobby (1)"
	barrier first
}

@test "/who lists the users in your room only, [op] for the operator" {
	login_all alice bob carol
	login dave
	expect carol "* dave joined lobby"
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect dave "* carol left lobby"
	say dave "/join dev"
	expect dave "* you are now in dev (2 users)"
	expect carol "* dave joined dev"
	expect alice "* dave joined lobby"
	expect alice "* carol left lobby"
	expect alice "* dave left lobby"
	say alice "/who"
	expect alice "* 3 users in lobby"
	expect alice "* first [op]"
	expect alice "* alice"
	expect alice "* bob"
	barrier alice
	say dave "/WHO"
	expect dave "* 2 users in dev"
	expect dave "* carol"
	expect dave "* dave"
	barrier dave
	say carol "/leave"
	expect carol "* you are now in lobby (4 users)"
	expect dave "* carol left dev"
	say dave "/who"
	expect dave "* 1 user in dev"
	expect dave "* dave"
	barrier dave
	say dave "/who is there"
	expect dave "! usage: /who"
	barrier dave
}

@test "/users shows each user's room" {
	login_all alice bob
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect bob "* alice left lobby"
	say bob "/join Ops"
	expect bob "* you are now in Ops (1 user)"
	say bob "/users"
	expect bob "* 3 users online"
	expect bob "* first (lobby) [op]"
	expect bob "* alice (dev)"
	expect bob "* bob (Ops)"
	barrier bob
	expect first "* alice joined lobby"
	expect first "* bob joined lobby"
	expect first "* alice left lobby"
	expect first "* bob left lobby"
	say first "/join OPS"
	expect first "* you are now in Ops (2 users)"
	say alice "/users"
	expect alice "* 3 users online"
	expect alice "* first (Ops) [op]"
	expect alice "* alice (dev)"
	expect alice "* bob (Ops)"
	barrier alice
}

@test "a chat line reaches only the sender's room" {
	login alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	login bob
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	login_all carol dave
	say alice "in dev"
	expect bob "<alice> in dev"
	# Posted after alice's line: dave would have had hers first.
	say carol "in lobby"
	expect dave "<carol> in lobby"
	say dave "lobby barrier"
	expect carol "<dave> lobby barrier"
	say bob "dev barrier"
	expect alice "<bob> dev barrier"
	say alice "dev barrier"
	expect bob "<alice> dev barrier"
}

@test "a /me line reaches only the sender's room" {
	login alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	login bob
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	login_all carol dave
	say alice "/me waves in dev"
	expect bob "* alice waves in dev"
	say carol "/me waves in lobby"
	expect dave "* carol waves in lobby"
	say dave "lobby barrier"
	expect carol "<dave> lobby barrier"
	say bob "dev barrier"
	expect alice "<bob> dev barrier"
	say alice "dev barrier"
	expect bob "<alice> dev barrier"
}

@test "join and leave notices reach only the rooms concerned" {
	login alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	login carol
	say carol "/join ops"
	expect carol "* you are now in ops (1 user)"
	login_all dave bob
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect alice "* bob joined dev"
	expect dave "* bob left lobby"
	say bob "/leave"
	expect bob "* you are now in lobby (3 users)"
	expect alice "* bob left dev"
	expect dave "* bob joined lobby"
	say bob "/join ops"
	expect bob "* you are now in ops (2 users)"
	expect carol "* bob joined ops"
	expect dave "* bob left lobby"
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect carol "* bob left ops"
	expect alice "* bob joined dev"
	# Nothing else reached anybody.
	dm_barrier bob alice
	dm_barrier bob carol
	dm_barrier bob dave
	dm_barrier alice bob
}

@test "rooms stay apart under concurrent chat in several rooms" {
	local -A room_of next
	local -a members
	local room u m i n lines line sender
	local rooms="red green blue"
	local red="r1 r2 r3" green="g1 g2 g3" blue="b1 b2"

	for room in $rooms; do
		members=()
		for u in ${!room}; do
			login "$u"
			say "$u" "/join $room"
			n=$((${#members[@]} + 1))
			if [ "$n" -eq 1 ]; then
				expect "$u" "* you are now in $room (1 user)"
			else
				expect "$u" "* you are now in $room ($n users)"
			fi
			for m in "${members[@]}"; do
				expect "$m" "* $u joined $room"
			done
			members+=("$u")
			room_of[$u]=$room
		done
	done
	# Everybody sends 20 lines in one write before anybody reads.
	for room in $rooms; do
		for u in ${!room}; do
			lines=
			for i in $(seq 1 20); do
				lines+="$u $i"$'\n'
			done
			printf '%s' "$lines" >&"${FD[$u]}"
		done
	done
	# Each user gets exactly its room-mates' lines, each sender's in
	# order, and nothing from another room.
	for room in $rooms; do
		members=(${!room})
		for u in "${members[@]}"; do
			next=()
			for m in "${members[@]}"; do
				[ "$m" = "$u" ] || next[$m]=1
			done
			n=$((20 * (${#members[@]} - 1)))
			for i in $(seq 1 "$n"); do
				next_line "$u"
				line=$LINE
				if ! [[ $line =~ ^\<([a-z0-9]+)\>\ ([a-z0-9]+)\ ([0-9]+)$ ]] ||
				    [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]; then
					echo "$u: unexpected line: $line" >&2
					return 1
				fi
				sender=${BASH_REMATCH[1]}
				if [ -z "${next[$sender]:-}" ]; then
					echo "$u ($room): line from outside the room: $line" >&2
					return 1
				fi
				if [ "${BASH_REMATCH[3]}" != "${next[$sender]}" ]; then
					echo "$u: expected $sender ${next[$sender]}, got: $line" >&2
					return 1
				fi
				next[$sender]=$((next[$sender] + 1))
			done
			for m in "${!next[@]}"; do
				if [ "${next[$m]}" -ne 21 ]; then
					echo "$u: missing lines from $m" >&2
					return 1
				fi
			done
		done
	done
	# Every line has been posted: a line from another room would come
	# before these.
	for room in $rooms; do
		members=(${!room})
		for u in "${members[@]}"; do
			say "$u" "end of $u"
			for m in "${members[@]}"; do
				[ "$m" = "$u" ] || expect "$m" "<$u> end of $u"
			done
		done
	done
}

@test "a user idle in a quiet room stays connected however busy another room is" {
	local pad i
	login alice
	say alice "/join quiet"
	expect alice "* you are now in quiet (1 user)"
	login bob
	say bob "/join busy"
	expect bob "* you are now in busy (1 user)"
	# More than the server's 8 MiB message log, none of it for alice.
	pad=$(repeat 889 x)
	for i in $(seq 1 10000); do
		printf 'line %05d %s\n' "$i" "$pad"
	done >"$BATS_TEST_TMPDIR/lines"
	cat "$BATS_TEST_TMPDIR/lines" >&"${FD[bob]}"
	say bob "/stats"
	expect bob "* you have sent 10000 messages"
	login carol
	say carol "/join quiet"
	expect carol "* you are now in quiet (2 users)"
	expect alice "* carol joined quiet"
	say alice "still here"
	expect carol "<alice> still here"
	say carol "/who"
	expect carol "* 2 users in quiet"
	expect carol "* alice"
	expect carol "* carol"
	barrier carol
	# So does first, idle in lobby all along.
	say carol "/dm first still there?"
	expect carol "-> *first* still there?"
	expect_eventually first "*carol* still there?"
}

@test "--max-rooms: with every room in use, /join a new one: ! too many rooms" {
	stop_chatd
	start_chatd --max-rooms 3
	login first
	login alice
	say alice "/join one"
	expect alice "* you are now in one (1 user)"
	login bob
	say bob "/join two"
	expect bob "* you are now in two (1 user)"
	login carol
	say carol "/join three"
	expect carol "! too many rooms"
	barrier carol
	# Rooms already remembered can still be entered, in any case.
	say carol "/join ONE"
	expect carol "* you are now in one (2 users)"
	expect alice "* carol joined one"
	say carol "/join four"
	expect carol "! too many rooms"
	say carol "/leave"
	expect carol "* you are now in lobby (2 users)"
	expect alice "* carol left one"
	say carol "/rooms"
	expect carol "* 3 rooms"
	expect carol "* lobby (2)"
	expect_any_order carol "* one (1)" "* two (1)"
	barrier carol
}

@test "--max-rooms: a new room forgets the room empty longest, with its history" {
	stop_chatd
	start_chatd --max-rooms 3
	login first
	login alice
	say alice "/join one"
	expect alice "* you are now in one (1 user)"
	say alice "said in one"
	login bob
	say bob "/join two"
	expect bob "* you are now in two (1 user)"
	say bob "said in two"
	say alice "/leave"
	expect alice "* you are now in lobby (2 users)"
	say bob "/leave"
	expect bob "* you are now in lobby (3 users)"
	expect alice "* bob joined lobby"
	# one has been empty longest: three takes its place.
	login carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	say carol "/join three"
	expect carol "* you are now in three (1 user)"
	expect alice "* carol left lobby"
	expect bob "* carol left lobby"
	barrier carol
	say carol "/join two"
	expect carol "* you are now in two (1 user)"
	expect carol "* history: last 1 message in two"
	expect_re carol '^\[[0-2][0-9]:[0-5][0-9]\] <bob> said in two$'
	expect carol "* end of history"
	# one was forgotten: it is made anew, without history, and takes
	# the place of three, now the only empty room.
	say carol "/join one"
	expect carol "* you are now in one (1 user)"
	barrier carol
	say carol "/rooms"
	expect carol "* 2 rooms"
	expect carol "* lobby (3)"
	expect carol "* one (1)"
	barrier carol
	say alice "/join three"
	expect alice "* you are now in three (1 user)"
	barrier alice
}

@test "--quiet-above N: no join, leave or quit notices in a room of more than N users" {
	stop_chatd
	start_chatd --quiet-above 2
	login_all alice bob
	# carol makes lobby 3 users: nobody hears her arrive.
	login carol
	room_barrier carol alice bob
	# Leaving a room of 3 is quiet too; dev has 1 user, and hears it.
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	# bob leaves a lobby of 2: announced.
	say bob "/join dev"
	expect bob "* you are now in dev (2 users)"
	expect carol "* bob joined dev"
	expect alice "* bob left lobby"
	# lobby has 1 user now: a newcomer is announced again.
	login dave
	expect alice "* dave joined lobby"
	say dave "/quit"
	expect alice "* dave quit"
	# 3 in dev: erin's arrival and departure are not announced.
	login erin
	expect alice "* erin joined lobby"
	say erin "/join dev"
	# (after lobby's history: carol's barrier line)
	expect_eventually erin "* you are now in dev (3 users)"
	expect alice "* erin left lobby"
	say erin "/quit bye"
	room_barrier bob carol
}

@test "--quiet-above 0 (the default) announces in rooms of any size" {
	login_all alice bob carol dave
	say dave "/quit"
	expect alice "* dave quit"
	expect bob "* dave quit"
	expect carol "* dave quit"
}
