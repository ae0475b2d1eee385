#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Slow and hostile clients: one that stops reading is evicted as too slow
# and delays nobody; one that dribbles its name is cut off by the
# registration timeout; one that opens connection after connection gets
# refusals while everybody else keeps chatting.

load helpers

: "${CHATBENCH:=$BATS_TEST_DIRNAME/../bench/chatbench}"

setup() {
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		stop_pid 5 "$pid"
	done
	stop_chatd
	assert_no_sanitizer_report
}

# Microseconds since the epoch, whatever the locale's decimal point.
now_us() {
	local t=$EPOCHREALTIME
	echo "${t//[.,]/}"
}

# Like login, over IPv6 to ::1, into a lobby that has history.
login6() {
	connect6 "$1"
	expect_re "$1" '^\* Welcome to chatd! ([0-9]+) users? online\.$' ||
	    return 1
	expect "$1" "Enter your name:" || return 1
	say "$1" "$1"
	expect "$1" "* Hello, $1! You are in lobby. Type /help for commands." ||
	    return 1
	expect_re "$1" '^\* history: last [0-9]+ messages in lobby$' ||
	    return 1
	expect_eventually "$1" "* end of history"
}

# alice and bob still talk to each other, both ways, at once.
still_chatting() {
	say alice "still here $1"
	expect bob "<alice> still here $1" || return 1
	say bob "me too $1"
	expect alice "<bob> me too $1"
}

@test "a client that stops reading is evicted as too slow, and the others lose nothing" {
	start_chatd --max-per-address 0
	login_all observer stalled
	local pid out=$BATS_TEST_TMPDIR/observer.out
	pid=$(worker_pid stalled)
	[ -n "$pid" ]
	# stalled never reads again. observer reads everything, fast, and
	# keeps the notices.
	grep -a '^\* ' <&"${FD[observer]}" >"$out" &
	BG_PIDS+=($!)
	# 20 clients, each sending 1000 lines of 1000 bytes: stalled has
	# about 20 MB coming, far beyond its 1 MiB backlog and what the
	# kernel buffers. Paced, so that no reader that reads falls behind.
	# bench/chatbench -C fails on any line lost, duplicated, reordered
	# or echoed; every user ends with /quit.
	run "$CHATBENCH" -p "$PORT" -n 20 -s 20 -m 1000 -l 1000 -r 100 \
	    -T 60 -C
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"expected=380000 delivered=380000 lost=0 dup=0 reordered=0 echo=0"* ]]
	# Nobody waited for stalled: paced at 100 lines a second, the
	# 1000 lines take 10 seconds.
	[[ $output =~ seconds=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -le $((10 + 10)) ]
	grep -q "^chatd/worker\[$pid\]: stalled left (too slow) " "$LOG"
	wait_for "$TIMEOUT" not_running "$pid"
	say observer "/quit"
	wait_for "$TIMEOUT" not_running "${BG_PIDS[0]}"
	cat "$out"
	# The room heard it once; the 20 all left by /quit.
	[ "$(grep -c stalled "$out")" -eq 1 ]
	grep -qx $'\\* stalled quit (too slow)\r' "$out"
	[ "$(grep -c '^\* u[0-9]* quit'$'\r''$' "$out")" -eq 20 ]
	[ "$(grep -c 'quit (' "$out")" -eq 1 ]
}

@test "--register-timeout: a client that sends a byte a second and never a newline is cut off" {
	start_chatd --register-timeout 2
	local t0 ms i
	t0=$(now_us)
	open_client loris
	# One byte a second, for at most 10 seconds: the attack itself.
	(
		for ((i = 0; i < 10; i++)); do
			printf 'x' >&"${FD[loris]}" || exit 0
			sleep 1
		done
	) 2>/dev/null &
	BG_PIDS+=($!)
	TIMEOUT=8 expect loris "! registration timeout"
	TIMEOUT=8 expect_eof loris
	ms=$((($(now_us) - t0) / 1000))
	echo "cut off after ${ms} ms"
	[ "$ms" -le $(((2 + 3) * 1000)) ]
}

@test "--register-timeout is counted from connect: input does not bring it forward" {
	start_chatd --register-timeout 2
	local t0 ms
	# Connect just before a whole second of the clock, send a byte
	# just after it, and the rest of a valid name 1.5 s after connect:
	# well within the 2 seconds.
	sleep_until_fraction 90
	t0=$(now_us)
	open_client alice
	sleep 0.15
	say_raw alice 'a'
	sleep 1.35
	say alice 'lice' 2>/dev/null || true
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	ms=$((($(now_us) - t0) / 1000))
	echo "registered after ${ms} ms"
}

# Sleeps until the clock's fraction of a second is .$1 (or a little
# after, on a busy machine).
sleep_until_fraction() {
	local t=$EPOCHREALTIME us
	t=${t#*[.,]}
	us=$(((${1}0000 - 10#${t:0:6} + 1000000) % 1000000))
	sleep "$(printf '%d.%06d' 0 "$us")"
}

@test "--max-per-address: one address opening 40 connections is refused, others get in, users keep chatting" {
	local v6=0 i ok=0 refused=0
	if have_ipv6_loopback; then
		v6=1
		start_chatd -l ::1 --max-clients 20 --max-per-address 16
	else
		start_chatd --max-clients 20 --max-per-address 16
	fi
	login_all alice bob
	# alice and bob are 2 of the 16 connections 127.0.0.1 may have.
	for ((i = 0; i < 40; i++)); do
		connect "a$i"
		next_line "a$i"
		case $LINE in
		"* Welcome to chatd! 2 users online.")
			expect "a$i" "Enter your name:"
			ok=$((ok + 1))
			;;
		"! too many connections from your address")
			expect_eof "a$i"
			disconnect "a$i"
			refused=$((refused + 1))
			;;
		*)
			echo "a$i: unexpected: $LINE" >&2
			return 1
			;;
		esac
		if ((i % 10 == 9)); then
			still_chatting "$i"
		fi
	done
	echo "accepted $ok, refused $refused"
	[ "$ok" -eq 14 ]
	[ "$refused" -eq 26 ]
	if [ "$v6" -eq 0 ]; then
		echo "# ::1 is not configured: other address not tried" >&3
		return 0
	fi
	# Another address gets in, up to --max-clients: 16 + 4 = 20.
	login6 carol
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
	login6 dave
	expect alice "* dave joined lobby"
	expect bob "* dave joined lobby"
	expect carol "* dave joined lobby"
	connect6 e1
	expect e1 "* Welcome to chatd! 4 users online."
	connect6 e2
	expect e2 "* Welcome to chatd! 4 users online."
	connect6 full
	expect full "! server full"
	expect_eof full
	still_chatting v6
	for i in carol dave; do
		expect "$i" "<alice> still here v6"
		expect "$i" "<bob> me too v6"
	done
	say carol "from ::1"
	expect alice "<carol> from ::1"
	expect bob "<carol> from ::1"
	expect dave "<carol> from ::1"
}
