#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# chatbench tells the truth: against a server that drops, duplicates or
# swaps lines on purpose (tests/brokenchat) it counts exactly the damage
# done, and against chatd it counts none.  Counts, never timings, are
# asserted: lines are due on a fixed schedule, so -r 50 -d 1 is exactly
# 50 lines per sender however busy the machine is.

load helpers

: "${CHATBENCH:=$BATS_TEST_DIRNAME/../bench/chatbench}"

FIELDS='users registered regs_per_s deliveries deliv_per_s lost dup reorder
    p50_ms p90_ms p99_ms p999_ms max_ms pss_kib pss_per_user_kib
    memavail_drop_kib memavail_per_user_kib cpu_s send_cpu_s stopped'

# Runs chatbench; $output is its stdout, $RESULT its last line.
bench() {
	run_result "$CHATBENCH" -p "$PORT" "$@"
}

@test "every 7th delivery dropped: lost is exactly a seventh" {
	start_broken -d 7
	# 2 senders x 50 lines x 9 receivers = 900 deliveries, 128 dropped.
	bench -n 10 -s 2 -r 50 -d 1 -D 1
	[ "$status" -eq 0 ]
	assert_fields users=10 registered=10 deliveries=772 lost=128 dup=0 \
	    reorder=0
}

@test "every 10th delivery sent twice: dup is exactly a tenth" {
	start_broken -u 10
	bench -n 10 -s 2 -r 50 -d 1 -D 1
	[ "$status" -eq 0 ]
	assert_fields registered=10 deliveries=900 lost=0 dup=90 reorder=0
}

@test "every 7th line swapped with the next: reorder counts each swap" {
	start_broken -x 7
	# 50 lines to each of 9 receivers: lines 7, 14 ... 49 come late.
	bench -n 10 -s 1 -r 50 -d 1 -D 1
	[ "$status" -eq 0 ]
	assert_fields registered=10 deliveries=450 lost=0 dup=0 reorder=63
}

@test "chatd: 20 users, 2 senders for 1 s, nothing lost, every field" {
	start_chatd --max-per-address 0
	bench -n 20 -s 2 -r 20 -d 1 -S "$CHATD_PID"
	[ "$status" -eq 0 ]
	assert_fields users=20 registered=20 deliveries=760 lost=0 dup=0 \
	    reorder=0
	local f re=RESULT
	for f in $FIELDS; do
		# MemAvailable is the whole machine's: it may grow meanwhile.
		case $f in
		memavail_*) re+=" $f=-?[0-9]+(\\.[0-9]+)?" ;;
		*) re+=" $f=[0-9]+(\\.[0-9]+)?" ;;
		esac
	done
	[[ $RESULT =~ ^$re$ ]] || { echo "bad RESULT line" >&2; false; }
	# 20 workers and the listener have memory.
	[ "$(field pss_kib)" -gt 0 ]
	[[ $output == *"registered         20 of 20 in "* ]]
	[[ $output == *"join notices       190 of 190 "* ]]
	[[ $output == *"errors             lost 0, duplicated 0 (echoed 0), reordered 0"* ]]
}

@test "chatd: 100 users, woken along a tree of relays: nothing lost" {
	# More users than a waker wakes itself (RELAY_LEAF, 32): the lines
	# reach most of them through relays, two levels deep.
	start_chatd --max-per-address 0
	bench -n 100 -s 4 -r 20 -d 1 -S "$CHATD_PID"
	[ "$status" -eq 0 ]
	assert_fields users=100 registered=100 deliveries=7920 lost=0 dup=0 \
	    reorder=0
}

@test "idle run: -s 0 holds the users for -d s; send_cpu_s is part of cpu_s" {
	start_chatd --max-per-address 0
	bench -n 20 -s 0 -d 1 -S "$CHATD_PID"
	[ "$status" -eq 0 ]
	assert_fields users=20 registered=20 deliveries=0 lost=0
	awk -v a="$(field send_cpu_s)" -v b="$(field cpu_s)" \
	    'BEGIN { exit !(a >= 0 && a <= b) }'
	[[ $output == *"server CPU         "*" s of it in the send phase"* ]]
}

@test "chatd with a window of 4 lines per sender: nothing lost" {
	start_chatd --max-per-address 0
	bench -n 10 -s 2 -w 4 -d 1
	[ "$status" -eq 0 ]
	assert_fields registered=10 lost=0 dup=0 reorder=0
	[ "$(field deliveries)" -gt 0 ]
	[[ $output == *"sent               2 with window 4 for 1 s: "* ]]
}

@test "chatd: the workers of 2 of 100 users stopped for the send phase, then continued" {
	# Registered one at a time, user k has slot k; the sender (user 0)
	# hands slots 1 to 24 to slot 1 and 50 to 74 to slot 50, so half
	# the room waits for the stopped relays: only counts are asserted.
	start_chatd --max-per-address 0
	bench -n 100 -c 1 -s 1 -r 20 -d 1 -S "$CHATD_PID" -z 1,50
	[ "$status" -eq 0 ]
	assert_fields users=100 registered=100 stopped=2 deliveries=1980 \
	    lost=0 dup=0 reorder=0
	[[ $output == *"stopped            2 users, 2 processes, for "*" s: 40 deliveries to them, not in the latency figures"* ]]
	[[ $stderr == *"2 users' server processes stopped (2 processes)"* ]]
	[ -z "$(stopped_under "$CHATD_PID")" ]
}

@test "stopped workers go on at the -T deadline and when chatbench is killed" {
	start_chatd --max-per-address 0
	bench -n 20 -c 1 -r 5 -d 60 -T 3 -S "$CHATD_PID" -z 1,10
	[ "$status" -eq 1 ]
	[[ $stderr == *"timed out after 3.0 s"* ]]
	assert_fields stopped=2
	[ -z "$(stopped_under "$CHATD_PID")" ]
	# SIGTERM in the send phase: continued, then killed by the signal.
	"$CHATBENCH" -p "$PORT" -n 20 -c 1 -r 5 -d 60 -S "$CHATD_PID" \
	    -z 2,11 -N v 2>"$BATS_TEST_TMPDIR/err" >/dev/null &
	local pid=$!
	wait_for "$TIMEOUT" grep -q "processes stopped" "$BATS_TEST_TMPDIR/err"
	[ -n "$(stopped_under "$CHATD_PID")" ]
	kill -TERM "$pid"
	wait "$pid" || STATUS=$?
	[ "$STATUS" -eq 143 ]
	[ -z "$(stopped_under "$CHATD_PID")" ]
}

@test "-z: a sender, or a server of one process, has nothing to stop" {
	start_chatd --max-per-address 0
	# No report: nothing was measured yet.
	run --separate-stderr "$CHATBENCH" -p "$PORT" -n 5 -c 1 -s 2 -d 1 \
	    -S "$CHATD_PID" -z 1
	[ "$status" -eq 1 ]
	[[ $stderr == *"-z 1: u1 is a sender"* ]]
	stop_chatd
	start_broken
	run --separate-stderr "$CHATBENCH" -p "$PORT" -n 5 -d 1 \
	    -S "$CHATD_PID" -z 1
	[ "$status" -eq 1 ]
	[[ $stderr == *"-z 1: no process under -S but the -S processes serves u1"* ]]
}

@test "-C -m: a check against every 7th delivery dropped fails, with exactly the lost lines" {
	start_broken -d 7
	# 2 senders x 50 lines, all at once, x 9 receivers = 900
	# deliveries, 128 dropped.
	bench -n 10 -s 2 -m 50 -w 50 -D 1 -C
	[ "$status" -eq 1 ]
	assert_fields registered=10 deliveries=772 lost=128 dup=0 reorder=0
	[[ $output == *"CHECK expected=900 delivered=772 lost=128 dup=0 reordered=0 echo=0 foreign=0 seconds="*" verdict=FAIL"* ]]
	[[ $output == *"sent               2 with window 50, 50 lines each: 100 lines, "* ]]
}

@test "-C: duplicated, reordered and echoed lines each fail the check" {
	start_broken -u 10
	bench -n 10 -s 2 -m 50 -w 50 -D 1 -C
	[ "$status" -eq 1 ]
	[[ $output == *"CHECK expected=900 delivered=900 lost=0 dup=90 reordered=0 echo=0 foreign=0 seconds="*" verdict=FAIL"* ]]
	stop_chatd
	start_broken -x 7
	bench -n 10 -s 1 -m 50 -r 50 -D 1 -C
	[ "$status" -eq 1 ]
	[[ $output == *"CHECK expected=450 delivered=450 lost=0 dup=0 reordered=63 echo=0 foreign=0 seconds="*" verdict=FAIL"* ]]
	stop_chatd
	# Every 5th line back to its sender: the run may end before the
	# last echoes come, but one is enough.
	start_broken -e 5
	bench -n 10 -s 1 -m 50 -w 50 -D 1 -C
	[ "$status" -eq 1 ]
	[[ $output =~ CHECK\ expected=450\ delivered=450\ lost=0\ dup=0\ reordered=0\ echo=[1-9][0-9]*\ foreign=0\ seconds=[0-9.]+\ verdict=FAIL ]]
}

@test "-C: a connection the server closes ends the check, failed" {
	start_chatd --max-per-address 0
	local pid rc=0 out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	# Without -C, 100000 lines at 10 a second would run into -T.
	"$CHATBENCH" -p "$PORT" -n 5 -s 1 -m 100000 -r 10 -T 60 -C \
	    >"$out" 2>"$err" &
	pid=$!
	wait_for "$TIMEOUT" grep -q "join notices settled" "$err"
	kill -KILL "$(worker_pid u3)"
	wait "$pid" || rc=$?
	cat "$out" "$err"
	[ "$rc" -eq 1 ]
	grep -q "^chatbench: u3 disconnected: closed by the server$" "$err"
	grep -q "^problem            1 x disconnected: closed by the server$" \
	    "$out"
	grep -q "^CHECK .* verdict=FAIL$" "$out"
	run ! grep -q "timed out" "$err"
}

@test "registrations refused: reported, and the run fails" {
	start_broken -m 5
	bench -n 10 -s 1 -d 1
	[ "$status" -eq 1 ]
	assert_fields users=10 registered=5 deliveries=0
	[[ $output == *"problem            5 x not registered: ! server full"* ]]
}

@test "users not registered by -T: reported, and the run fails" {
	start_broken -q 3
	bench -n 6 -s 1 -d 1 -T 1
	[ "$status" -eq 1 ]
	assert_fields users=6 registered=3
	[[ $stderr == *"timed out after 1.0 s"* ]]
}

@test "nobody listening: the run fails" {
	start_broken
	local port=$PORT
	stop_chatd
	PORT=$port
	bench -n 3 -d 1
	[ "$status" -eq 1 ]
	assert_fields registered=0
	[[ $output == *"not registered: Connection refused"* ]]
}

@test "usage errors exit 64" {
	local args
	for args in "" "-n 5" "-p 1" "-p 1 -n 5 -r 5 -w 2" "-p 1 -n 2 -s 3" \
	    "-p 1 -n 0" "-p 1 -n 5 -l 2000" "-p 1 -n 5 -N 9x" \
	    "-p 1 -n 5 -N a.b" "-p 1 -n 100 -N abcdefghijklmno" \
	    "-p 1 -n 5 -r 0" "-p 1 -n 5 -d x" "-p 1 -n 5 -Z" "-p 1 -n 5 extra" \
	    "-p 1 -n 5 -z 1" "-p 1 -n 5 -S 1 -z 5" "-p 1 -n 5 -S 1 -z 1,1" \
	    "-p 1 -n 5 -S 1 -z 1," "-p 1 -n 5 -m 5 -d 1" "-p 1 -n 5 -m 0"
	do
		# shellcheck disable=SC2086
		run "$CHATBENCH" $args
		[ "$status" -eq 64 ] || { echo "'$args': $status" >&2; false; }
		[[ $output == *"usage: chatbench"* ]]
	done
}
