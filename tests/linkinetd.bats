#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# chatd --link-only, the link process of an instance that has no
# listener (inetd): its options, and one per instance. link.bats has
# it linking an inetd instance to a real hub.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	RUNDIR=$BATS_TEST_TMPDIR/run
	INSTANCE=linkonly$$.$RANDOM
	LINK_LOG=$BATS_TEST_TMPDIR/link.log
	LINK_ONLY_PID=
	printf 'sent\nexpected\n' >"$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	# Nothing listens on port 1 of 127.0.0.1: the link stays down.
	OPTS=(-n "$INSTANCE" --run-dir="$RUNDIR" --link=127.0.0.1:1
	    --server-name=a.chatd.test --link-password-file="$BATS_TEST_TMPDIR/pw")
}

teardown() {
	[ -z "$LINK_ONLY_PID" ] || stop_pid 10 "$LINK_ONLY_PID"
	LOG=$LINK_LOG
	assert_no_sanitizer_report
}

# Whether the --link-only process has tried the hub and is down.
tried() {
	grep -q "^chatd/link\[$LINK_ONLY_PID\]: link to 127.0.0.1:1 down: connect: Connection refused; next try in 10 s\$" \
	    "$LINK_LOG"
}

@test "--link-only: one link process per instance; it keeps the segment, and leaves nothing" {
	"$CHATD" --link-only "${OPTS[@]}" 2>"$LINK_LOG" &
	LINK_ONLY_PID=$!
	wait_for "$TIMEOUT" tried
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	run --separate-stderr "$CHATD" --link-only "${OPTS[@]}"
	[ "$status" -eq 69 ]
	[[ $stderr == *"instance $INSTANCE has a link process already (pid $LINK_ONLY_PID)" ]]
	# chatctl sees it down, with why and when it tries again.
	run "$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" -H status
	[ "$status" -eq 0 ]
	[[ $output == *$'\nlink\tdown\n'* ]]
	[[ $output == *$'\nlink_error\tconnect: Connection refused\n'* ]]
	[[ $output =~ $'\n'link_retry$'\t'([0-9]+)$'\n' ]]
	[ "${BASH_REMATCH[1]}" -le 10 ]
	stop_pid 10 "$LINK_ONLY_PID"
	LINK_ONLY_PID=
	[ "$STATUS" -eq 0 ]
	[ ! -e "/dev/shm/chatd.$INSTANCE" ]
}

@test "--link-only needs --link, and excludes --inetd" {
	run --separate-stderr "$CHATD" --link-only -n x
	[ "$status" -eq 64 ]
	[[ $stderr == *"--link-only needs --link" ]]
	run --separate-stderr "$CHATD" --link-only -i "${OPTS[@]}"
	[ "$status" -eq 64 ]
	[[ $stderr == *"--link-only and --inetd exclude each other" ]]
}
