#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A short soak (tests/README): 100 clients for 15 s doing everything a
# user can, with workers killed every second, and again with workers
# stopped for up to 2 s every half second, under the checker of
# tests/soak.c; and proof that the checker sees loss, duplicates,
# reordering and misdelivery when a server (tests/brokenchat) commits
# them on purpose.  The full soak is `make soak`.

load helpers

: "${SOAK:=$BATS_TEST_DIRNAME/soak}"

# Runs the soak; $output is its stdout, $RESULT its last line.
soak() {
	run_result "$SOAK" -p "$PORT" "$@"
}

# Field $1 is more than zero.
assert_some() {
	[ "$(field "$1")" -gt 0 ] || {
		echo "expected some $1 in: $RESULT" >&2
		return 1
	}
}

# Chat only, in lobby (-m): what brokenchat speaks.  No kills.
broken_soak() {
	soak -m -n "${1:-10}" -d 2 -a 0.05 -k 0 -s 7
}

@test "chatd: 100 clients for 15 s with kills, kicks, bans: nothing lost, nothing left" {
	start_chatd --max-clients 0 --max-per-address 0
	soak -n 100 -d 15 -a 2 -k 1 -z 0 -t 4 -f 50 -s 7 -S "$CHATD_PID" \
	    -R "$RUNDIR" -I "$INSTANCE"
	[ "$status" -eq 0 ]
	assert_fields lost=0 dup=0 misdelivered=0 reordered=0 corrupt=0 \
	    errors=0 verdict=PASS procs_start=0 procs_end=0
	for f in due delivered kills reconnects kicks bans; do
		assert_some "$f"
	done
	[ "$(field fds_end)" = "$(field fds_start)" ]
	[ "$(field rundir_end)" = "$(field rundir_start)" ]
	assert_fields shm_start=1 shm_end=1
	[[ $output == *"faults         lost 0 (DMs 0), duplicated 0, misdelivered 0, reordered 0, corrupt 0, errors 0"* ]]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "chatd: 100 clients for 15 s with workers stopped and killed: nothing lost" {
	# A stopped worker holds up the wake-ups handed to it (a relay of
	# src/notify.c) and its client's lines: late, never lost.  The stops
	# must all be over when the soak ends.
	start_chatd --max-clients 0 --max-per-address 0
	soak -n 100 -d 15 -a 2 -k 3 -z 0.5 -t 4 -f 50 -s 12 -S "$CHATD_PID" \
	    -R "$RUNDIR" -I "$INSTANCE"
	[ -z "$(stopped_under "$CHATD_PID")" ]
	[ "$status" -eq 0 ]
	assert_fields lost=0 dup=0 misdelivered=0 reordered=0 corrupt=0 \
	    errors=0 verdict=PASS procs_start=0 procs_end=0
	[ "$(field stops)" -gt 20 ]
	assert_some kills
	[[ $output == *"disruption     "*" kills, "*" stops, "* ]]
	stop_chatd
	[ "$STATUS" -eq 0 ]
	assert_clean
}

@test "reconnect churn: every new worker keeps its own wake-up pipe" {
	# A worker that left used to unlink its pipe after freeing its slot,
	# removing the pipe of a successor in that slot: "! server error"
	# or a user never woken again.  40 users acting 20 times a second
	# reconnect a hundred times in 8 s; before the fix every such run
	# failed.
	start_chatd --max-clients 0 --max-per-address 0
	soak -n 40 -d 8 -a 0.05 -k 0 -z 0 -f 0 -s 11 -S "$CHATD_PID" \
	    -R "$RUNDIR" -I "$INSTANCE"
	[ "$status" -eq 0 ]
	assert_fields lost=0 errors=0 verdict=PASS
	[ "$(field reconnects)" -gt 50 ]
	! grep -q 'wake-up pipe' "$LOG"
}

@test "the listener lets go of the pipes of workers that left" {
	start_chatd
	local before
	before=$(ls "/proc/$CHATD_PID/fd" | wc -l)
	login_all alice bob carol
	# A killed worker is buried by the listener, which wakes everybody
	# left through their pipes.
	kill -KILL "$(worker_pid carol)"
	expect alice "* carol quit (connection lost)"
	expect bob "* carol quit (connection lost)"
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect bob "* alice quit"
	expect bob "* You are now the operator."
	say bob "/quit"
	expect bob "* Goodbye, bob."
	fds_back() {
		[ "$(ls "/proc/$CHATD_PID/fd" | wc -l)" -eq "$before" ]
	}
	wait_for "$TIMEOUT" fds_back
}

@test "the checker counts lost lines" {
	start_broken -d 7
	broken_soak
	[ "$status" -eq 1 ]
	assert_some lost
	assert_fields dup=0 misdelivered=0 reordered=0 corrupt=0 verdict=FAIL
}

@test "the checker counts duplicated lines" {
	start_broken -u 10
	broken_soak
	[ "$status" -eq 1 ]
	assert_some dup
	assert_fields lost=0 misdelivered=0 reordered=0 corrupt=0
}

@test "the checker counts reordered lines" {
	start_broken -x 7
	# Three users: a line swapped with the next is often swapped with
	# one of the same sender, which is what reordering means.
	broken_soak 3
	[ "$status" -eq 1 ]
	assert_some reordered
	# A receiver's last line may still be held back when the run ends.
	assert_fields dup=0 misdelivered=0 corrupt=0
}

@test "the checker counts misdelivered lines" {
	start_broken -e 5
	broken_soak
	[ "$status" -eq 1 ]
	assert_some misdelivered
	assert_fields lost=0 dup=0 reordered=0 corrupt=0
}

@test "a faultless server passes the checker" {
	start_broken
	broken_soak
	[ "$status" -eq 0 ]
	assert_fields lost=0 dup=0 misdelivered=0 reordered=0 corrupt=0 \
	    errors=0 verdict=PASS
	assert_some due
}

@test "soak: usage errors exit 64" {
	local args
	for args in "" "-n 5" "-p 0" "-p 1 -n 3" "-p 1 -d x" "-p 1 -Z" "-p 1 -z x" \
	    "-p 1 extra"; do
		# shellcheck disable=SC2086
		run "$SOAK" $args
		[ "$status" -eq 64 ] || { echo "'$args': $status" >&2; false; }
		[[ $output == *"usage: soak"* ]]
	done
}
