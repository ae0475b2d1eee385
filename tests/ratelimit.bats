#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Rate limiting: the token bucket (--rate, --burst), the warning for a
# dropped line, the free name line, --rate 0, and the flood kick
# (--flood-kick).
#
# The bucket refills with time, so how many lines may pass is computed
# from the time measured around the test's sends (before the first
# write, after the last read): the server cannot have had more time than
# that. Where a count must be exact, the lines go out in one write, which
# the server takes in one read, far quicker than a token refills.
#
# That nothing more came is shown with a barrier: a chat line from
# another user, posted after the event, reaches every user of the room
# in log order.

load helpers

WARNING="! rate limit exceeded, slow down"

# Microseconds since the epoch, in $NOW.
now_us() {
	NOW=${EPOCHREALTIME//[!0-9]/}
}

# The most tokens a bucket of rate $1 gains in $2 microseconds, with a
# token to spare for the server's millisecond clock: ceil(rate * t) + 1.
refill_max() {
	echo $((($1 * $2 + 999999) / 1000000 + 1))
}

# The most whole tokens a bucket of rate $1 can have gained in $2
# microseconds, exactly: floor(rate * t), t with 2 ms to spare for the
# server's millisecond clock.
refill_exact() {
	echo $(($1 * ($2 + 2000) / 1000000))
}

# Appends to the variable named $1 the lines "$2 N" for N from $3 to $4,
# to be sent in one write.
numbered_lines() {
	local -n out=$1
	local i
	for ((i = $3; i <= $4; i++)); do
		out+="$2 $i"$'\n'
	done
}

# Reads client $1's lines up to the line $2, which ends the count: COUNT
# is how many lines came before it, each of which must be $3 followed by
# a number, the numbers rising (in NUMS), or the rate limit warning,
# counted apart in WARNINGS.
count_until() {
	COUNT=0
	NUMS=()
	WARNINGS=0
	while next_line "$1"; do
		[ "$LINE" = "$2" ] && return 0
		if [ "$LINE" = "$WARNING" ]; then
			WARNINGS=$((WARNINGS + 1))
			continue
		fi
		if [[ $LINE != "$3"* ]] || ! [[ ${LINE#"$3"} =~ ^[0-9]+$ ]]; then
			echo "$1: unexpected line: $LINE" >&2
			return 1
		fi
		if [ "$COUNT" -gt 0 ] &&
		    [ "${LINE#"$3"}" -le "${NUMS[COUNT - 1]}" ]; then
			echo "$1: out of order: $LINE after ${NUMS[*]}" >&2
			return 1
		fi
		NUMS+=("${LINE#"$3"}")
		COUNT=$((COUNT + 1))
	done
	echo "$1: never got: $2" >&2
	return 1
}

# Reads client $1's lines up to the line $2, each of which must be the
# rate limit warning; counts them in WARNINGS.
warnings_until() {
	count_until "$1" "$2" "$WARNING" || return 1
	[ "$COUNT" -eq 0 ] || {
		echo "$1: unexpected lines: ${NUMS[*]}" >&2
		return 1
	}
}

# At most one warning a second: $1 warnings in $2 microseconds.
assert_warned() {
	[ "$1" -ge 1 ] && [ "$1" -le $((1 + ($2 + 999999) / 1000000)) ] || {
		echo "warned $1 times in $2 us" >&2
		return 1
	}
}

# Asserts that client $1 gets nothing, not even end of file, for $2
# seconds.
expect_quiet() {
	local rc=0
	LINE=
	IFS= read -r -t "$2" -u "${FD[$1]}" LINE || rc=$?
	if [ "$rc" -le 128 ] || [ -n "$LINE" ]; then
		echo "$1: expected nothing for $2 s, got rc=$rc line='$LINE'" >&2
		return 1
	fi
}

# Client $1 sends a numbered line ("flood N") every 100 ms or so, for at
# most $2 seconds, stopping when the server disconnects it. The reads in
# between pace the loop and take what $1 is sent: warnings, counted in
# WARNINGS, and the disconnection, which sets KICKED. SENT counts the
# lines sent.
flood() {
	local client=$1 limit=$(($2 * 1000000)) start rc partial=
	KICKED=0
	SENT=0
	WARNINGS=0
	now_us
	start=$NOW
	while [ $((NOW - start)) -lt "$limit" ]; do
		SENT=$((SENT + 1))
		# A write may fail once the server has closed its side.
		say "$client" "flood $SENT" 2>/dev/null || true
		for (( ; ; )); do
			rc=0
			LINE=
			IFS= read -r -t 0.1 -u "${FD[$client]}" LINE || rc=$?
			if [ "$rc" -gt 128 ]; then
				partial+=$LINE
				break
			fi
			LINE=$partial$LINE
			partial=
			if [ "$rc" -ne 0 ]; then
				echo "$client: end of file, not told why;" \
				    "partial: '$LINE'" >&2
				return 1
			fi
			LINE=${LINE%$'\r'}
			case $LINE in
			"$WARNING")
				WARNINGS=$((WARNINGS + 1))
				;;
			"! disconnected: flooding")
				KICKED=1
				return 0
				;;
			*)
				echo "$client: unexpected line: $LINE" >&2
				return 1
				;;
			esac
		done
		now_us
	done
	[ -z "$partial" ] || {
		echo "$client: partial line: '$partial'" >&2
		return 1
	}
}

@test "a burst: the first --burst lines pass, the rest are dropped with one warning" {
	local i lines= start elapsed max warned
	start_chatd --rate 2 --burst 10
	login_all first bob alice
	numbered_lines lines "line" 1 30
	now_us
	start=$NOW
	printf '%s' "$lines" >&"${FD[alice]}"
	expect alice "$WARNING"
	# Every line alice's worker took before it said so is in the log.
	say first "barrier"
	warnings_until alice "<first> barrier"
	warned=$((1 + WARNINGS))
	count_until bob "<first> barrier" "<alice> line "
	now_us
	elapsed=$((NOW - start))
	max=$((10 + $(refill_max 2 "$elapsed")))
	[ "$COUNT" -ge 10 ] && [ "$COUNT" -le "$max" ] || {
		echo "bob got $COUNT lines (${NUMS[*]}) in $elapsed us;" \
		    "expected 10 to $max" >&2
		return 1
	}
	for i in $(seq 1 10); do
		[ "${NUMS[i - 1]}" -eq "$i" ]
	done
	# One warning, not one a line: at most one a second.
	assert_warned "$warned" "$elapsed"
}

@test "exactly --burst lines pass at once; the next is dropped" {
	local i lines= start elapsed max warned
	start_chatd --rate 1 --burst 5
	login_all first bob alice
	numbered_lines lines "line" 1 6
	now_us
	start=$NOW
	printf '%s' "$lines" >&"${FD[alice]}"
	expect alice "$WARNING"
	say first "barrier"
	warnings_until alice "<first> barrier"
	count_until bob "<first> barrier" "<alice> line "
	now_us
	elapsed=$((NOW - start))
	# Five, unless the server took a second or more over the six lines.
	max=$((5 + $(refill_exact 1 "$elapsed")))
	[ "$COUNT" -ge 5 ] && [ "$COUNT" -le "$max" ] || {
		echo "bob got $COUNT lines (${NUMS[*]}) in $elapsed us;" \
		    "expected 5 to $max" >&2
		return 1
	}
	[ "${NUMS[*]:0:5}" = "1 2 3 4 5" ]
}

@test "name lines cost no token" {
	local i lines=
	start_chatd --rate 2 --burst 10
	login_all first bob
	open_client alice
	# Names that fail, the name, and --burst lines, in one write.
	lines=$'\n1abc\nfirst\nalice\n'
	numbered_lines lines "line" 1 10
	printf '%s' "$lines" >&"${FD[alice]}"
	expect alice "! invalid name: empty"
	expect alice "Enter your name:"
	expect alice "! invalid name: must start with a letter"
	expect alice "Enter your name:"
	expect alice "! name taken: first"
	expect alice "Enter your name:"
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect bob "* alice joined lobby"
	for i in $(seq 1 10); do
		expect bob "<alice> line $i"
	done
	room_barrier first bob alice
}

@test "a command costs a token like a chat line" {
	local i lines= start elapsed max warned
	start_chatd --rate 2 --burst 10
	login_all first bob alice
	for i in $(seq 1 10); do
		lines+="/frob"$'\n'
	done
	numbered_lines lines "line" 1 10
	now_us
	start=$NOW
	printf '%s' "$lines" >&"${FD[alice]}"
	for i in $(seq 1 10); do
		expect alice "! unknown command: /frob (try /help)"
	done
	expect alice "$WARNING"
	say first "barrier"
	warnings_until alice "<first> barrier"
	warned=$((1 + WARNINGS))
	count_until bob "<first> barrier" "<alice> line "
	now_us
	elapsed=$((NOW - start))
	assert_warned "$warned" "$elapsed"
	# Had the commands been free, all ten lines would have passed.
	max=$(refill_max 2 "$elapsed")
	[ "$COUNT" -le "$max" ] || {
		echo "bob got $COUNT lines (${NUMS[*]}) in $elapsed us;" \
		    "expected at most $max" >&2
		return 1
	}
}

@test "the bucket refills: after a pause a line passes again" {
	start_chatd --rate 2 --burst 2
	login_all first bob alice
	printf 'one\ntwo\nthree\n' >&"${FD[alice]}"
	expect alice "$WARNING"
	expect bob "<alice> one"
	expect bob "<alice> two"
	# The warning came after the server dropped the line: from then on
	# the bucket gains a token in half a second.
	expect_quiet alice 0.6
	say alice "four"
	expect bob "<alice> four"
	room_barrier first bob alice
}

@test "one client's bucket does not limit another's" {
	local i lines=
	start_chatd --rate 2 --burst 10
	login_all first bob alice
	numbered_lines lines "line" 1 20
	printf '%s' "$lines" >&"${FD[alice]}"
	expect alice "$WARNING"
	lines=
	numbered_lines lines "bob" 1 10
	printf '%s' "$lines" >&"${FD[bob]}"
	# All of bob's lines reach alice (between warnings of her own, if
	# this took over a second).
	count_until alice "<bob> bob 10" "<bob> bob "
	[ "${NUMS[*]}" = "1 2 3 4 5 6 7 8 9" ]
	# bob's worker took his lines before that: had it warned him, the
	# warning would come before a line posted now.
	say first "barrier"
	count_until bob "<first> barrier" "<alice> line "
	[ "$COUNT" -ge 10 ]
	[ "$WARNINGS" -eq 0 ]
}

@test "--rate 0: no limit" {
	local i lines=
	start_chatd --rate 0 --burst 1 --flood-kick 1
	login_all first bob alice
	numbered_lines lines "line" 1 100
	printf '%s' "$lines" >&"${FD[alice]}"
	for i in $(seq 1 100); do
		expect bob "<alice> line $i"
	done
	for i in $(seq 1 20); do
		say alice "/frob"
	done
	for i in $(seq 1 20); do
		expect alice "! unknown command: /frob (try /help)"
	done
	room_barrier first bob alice
}

@test "--flood-kick: dropping lines that many seconds in a row disconnects" {
	start_chatd --rate 1 --burst 1 --flood-kick 2
	login_all first bob alice
	trap '' PIPE
	flood alice 6
	[ "$KICKED" -eq 1 ] || {
		echo "alice sent $SENT lines and was not disconnected" >&2
		return 1
	}
	[ "$WARNINGS" -ge 1 ]
	expect_eof alice
	count_until bob "* alice quit (flooding)" "<alice> flood "
	[ "$COUNT" -ge 1 ]
	count_until first "* alice quit (flooding)" "<alice> flood "
	# Once.
	room_barrier first bob
	room_barrier bob first
	grep -q ': alice from 127\.0\.0\.1 disconnected for flooding$' "$LOG"
}

@test "a client that keeps under the rate is never warned or kicked" {
	local i
	start_chatd --rate 2 --burst 1 --flood-kick 1
	login_all first bob alice
	# A line, and then 0.6 s from when bob has it, so the server took the
	# lines more than the 0.5 s of a token apart; about 3.5 s in all.
	for i in $(seq 1 6); do
		say alice "steady $i"
		expect bob "<alice> steady $i"
		expect_quiet alice 0.6
	done
	room_barrier first bob alice
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect_eof alice
	expect bob "* alice quit"
}

@test "--flood-kick 0: a client is never disconnected for flooding" {
	local start elapsed max warned received
	start_chatd --rate 1 --burst 1 --flood-kick 0
	login_all first bob alice
	trap '' PIPE
	now_us
	start=$NOW
	# Dropping lines in four seconds in a row, or five: twice what
	# --flood-kick 2 needs.
	flood alice 4
	[ "$KICKED" -eq 0 ]
	warned=$WARNINGS
	say first "barrier"
	warnings_until alice "<first> barrier"
	warned=$((warned + WARNINGS))
	count_until bob "<first> barrier" "<alice> flood "
	received=$COUNT
	# Still there.
	say bob "/dm alice are you there"
	expect bob "-> *alice* are you there"
	warnings_until alice "*bob* are you there"
	warned=$((warned + WARNINGS))
	now_us
	elapsed=$((NOW - start))
	# Warned, but at most once a second.
	assert_warned "$warned" "$elapsed"
	max=$((1 + $(refill_max 1 "$elapsed")))
	[ "$received" -ge 1 ] && [ "$received" -le "$max" ] || {
		echo "bob got $received of $SENT lines in $elapsed us;" \
		    "expected 1 to $max" >&2
		return 1
	}
}
