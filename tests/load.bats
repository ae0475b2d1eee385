#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Delivery under concurrency: every line to everybody, once, in order.
# bench/chatbench -C checks it: it fails on any line lost, duplicated,
# reordered or echoed, and on any connection lost; at the end every user
# sends /quit and waits for the server to close the connection.  -m N -w N:
# N lines per sender, all at once, as fast as the server takes them.

load helpers

: "${CHATBENCH:=$BATS_TEST_DIRNAME/../bench/chatbench}"

setup() {
	start_chatd --max-per-address 0
}

@test "100 clients each get every line of 5 concurrent senders, in order, once" {
	run "$CHATBENCH" -p "$PORT" -n 100 -s 5 -m 50 -w 50 -l 1 -T 60 -C
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"expected=24750 delivered=24750 lost=0 dup=0 reordered=0 echo=0"* ]]
}

@test "kill -9 of a worker while others chat: nobody else loses a line" {
	login_all alice bob carol
	local pid i
	pid=$(worker_pid carol)
	[ -n "$pid" ]
	"$CHATBENCH" -p "$PORT" -n 20 -s 4 -m 200 -w 200 -l 1 -T 60 -N load -C \
	    >"$BATS_TEST_TMPDIR/load.out" 2>&1 &
	local load=$!
	kill -KILL "$pid"
	expect_eventually alice "* carol quit (connection lost)"
	expect_eventually bob "* carol quit (connection lost)"
	wait "$load" || { cat "$BATS_TEST_TMPDIR/load.out"; false; }
	for i in 1 2 3; do
		say alice "line $i"
	done
	for i in 1 2 3; do
		expect_eventually bob "<alice> line $i"
	done
	login carol
	expect_eventually alice "* carol joined lobby"
}

@test "a worker lapped by the log with lines lost is evicted as too slow" {
	login_all alice bob
	local pid i
	pid=$(worker_pid bob)
	[ -n "$pid" ]
	# bob's worker cannot run while alice sends more than the 8 MiB log.
	kill -STOP "$pid"
	for ((i = 0; i < 10000; i++)); do
		printf 'line %05d %0900d\n' "$i" 0
	done >"$BATS_TEST_TMPDIR/lines"
	cat "$BATS_TEST_TMPDIR/lines" >&"${FD[alice]}"
	say alice "/stats"
	expect alice "* you have sent 10000 messages"
	kill -CONT "$pid"
	expect_eventually alice "* bob quit (too slow)"
	wait_for "$TIMEOUT" not_running "$pid"
	say alice "still here"
	login carol
	expect_eventually alice "* carol joined lobby"
}
