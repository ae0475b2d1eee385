#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A /dev/shm with no room to spare. chatd takes every page of its
# segment at start: where there is not enough room it says how much it
# needs and exits 69, leaving nothing behind; and once it runs, another
# program filling /dev/shm kills no chatd process: no page of the
# segment is left to find at a first write, which on a full tmpfs is
# a SIGBUS.
#
# Each test gets a mount namespace of its own whose /dev/shm is a new,
# small tmpfs, held by a sleeping process; chatd, and whatever fills
# /dev/shm, enter it with nsenter(1).

load helpers

bats_require_minimum_version 1.5.0

: "${CHATBENCH:=$BATS_TEST_DIRNAME/../bench/chatbench}"

# Makes the namespace, /dev/shm a tmpfs of $1; sets NS_PID, its holder.
# Skips when the system will not let us.
shm_namespace() {
	local ready=$BATS_TEST_TMPDIR/ns.ready why
	command -v nsenter >/dev/null || skip "no nsenter(1)"
	why=$(unshare -m --propagation private \
	    mount -t tmpfs -o size=1m tmpfs /dev/shm 2>&1) ||
	    skip "cannot mount a tmpfs in a mount namespace: $why"
	unshare -m --propagation private sh -c 'mount -t tmpfs -o "size=$1" \
	    tmpfs /dev/shm && : >"$2" && exec sleep 600' sh "$1" "$ready" &
	NS_PID=$!
	wait_for "$TIMEOUT" test -e "$ready"
}

# Runs a command in the namespace.
in_ns() {
	nsenter -t "$NS_PID" -m "$@"
}

# What start_chatd runs in place of chatd: chatd in the namespace.
# nsenter execs it, so CHATD_PID is chatd's.
chatd_in_ns() {
	exec nsenter -t "$NS_PID" -m "$REAL_CHATD" "$@"
}

# $1 logs in after the bench and is replayed its last 50 lines.
newcomer() {
	login "$1"
	expect "$1" "* history: last 50 messages in lobby"
	expect_eventually "$1" "* end of history"
}

# Whether the listener has no workers left.
no_workers() {
	[ -z "$(cat "/proc/$CHATD_PID/task/"*/children)" ]
}

setup() {
	NS_PID=
	REAL_CHATD=$CHATD
	CHATD=chatd_in_ns
}

teardown() {
	local rc=0
	stop_chatd
	assert_no_sanitizer_report || rc=1
	if [ -n "$NS_PID" ]; then
		stop_pid 5 "$NS_PID"
	fi
	return "$rc"
}

@test "/dev/shm too small for the segment: exit 69, what it needs, nothing left" {
	shm_namespace 4m
	INSTANCE=test$$.$BATS_TEST_NUMBER.$RANDOM
	mkdir -m 700 "$BATS_TEST_TMPDIR/run"
	# One slot, one room, no history: the segment is 1364 KiB of header
	# (the ban table is most of it) and tables and the 8 MiB log.
	run --separate-stderr timeout 10 nsenter -t "$NS_PID" -m \
	    "$REAL_CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" \
	    --run-dir "$BATS_TEST_TMPDIR/run" --max-clients 1 --max-rooms 1 \
	    --history 0
	echo "$stderr"
	[ "$status" -eq 69 ]
	[[ ${stderr_lines[-1]} == *"]: no room in /dev/shm for shared memory /chatd.$INSTANCE: it needs 9785344 bytes (9.3 MiB); free space there, lower --max-clients, --max-rooms, --history or --max-line, or grow it (mount -o remount,size=SIZE /dev/shm)" ]]
	[ -z "$(in_ns ls -A /dev/shm)" ]
}

@test "/dev/shm filled after start: 4 users wrap the log, no process dies, a newcomer joins" {
	shm_namespace 64m
	start_chatd --max-per-address 0
	wait_for "$TIMEOUT" in_ns test -e "/dev/shm/chatd.$INSTANCE"
	run in_ns dd if=/dev/zero of=/dev/shm/filler bs=1M
	[ "$status" -ne 0 ]
	[[ $output == *"No space left on device"* ]]
	[ "$(in_ns df --output=avail /dev/shm | tail -n 1)" -eq 0 ]
	# 2 senders x 1000 lines a second x 5 s of 1000 bytes: 10 MB, more
	# than the 8 MiB log holds, so every page of it is written.
	run_result "$CHATBENCH" -p "$PORT" -n 4 -s 2 -r 1000 -d 5 -l 1000 \
	    -S "$CHATD_PID"
	# No chatd process died: a SIGBUS is "worker PID killed by signal 7".
	if grep 'killed by signal' "$LOG"; then false; fi
	[ "$status" -eq 0 ]
	assert_fields users=4 registered=4 deliveries=30000 lost=0 dup=0 \
	    reorder=0
	run ! dead "$CHATD_PID"
	# The bench's users are gone, so the newcomers are alone.
	wait_for "$TIMEOUT" no_workers
	newcomer alice
	newcomer bob
	expect alice "* bob joined lobby"
	say alice "still here"
	expect bob "<alice> still here"
}
