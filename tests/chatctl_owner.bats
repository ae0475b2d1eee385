#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Root's chatctl on an instance that runs as another user trusts nothing
# that user can write: the segment's header names an owner and a listener
# pid, but root takes the owner from the kernel (the segment's uid),
# becomes that user, and only then signals the pid or writes the state
# directory. A forged header gets it no further than the user could go.

load helpers

setup() {
	FOREIGN_DIR=
	VICTIM=
}

teardown() {
	[ -z "$VICTIM" ] || stop_pid 5 "$VICTIM"
	stop_chatd
	[ -z "$FOREIGN_DIR" ] || rm -rf "$FOREIGN_DIR"
	assert_no_sanitizer_report
}

# Runs a command as the user nobody.
as_nobody() {
	setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
	    "$@"
}

# Starts chatd as nobody, with a run and a state directory of its own.
start_foreign_chatd() {
	FOREIGN_DIR=$(mktemp -d /tmp/chatctl-owner.XXXXXX)
	chmod 755 "$FOREIGN_DIR"
	RUNDIR=$FOREIGN_DIR/run
	mkdir -m 700 "$RUNDIR" "$FOREIGN_DIR/state"
	chown "$NOBODY_UID:$NOBODY_GID" "$RUNDIR" "$FOREIGN_DIR/state"
	LOG=$BATS_TEST_TMPDIR/chatd.log
	INSTANCE=test$$.${BATS_TEST_NUMBER}.$RANDOM
	# setpriv itself, not as_nobody: $! must be chatd's pid, which
	# setpriv becomes, for stop_chatd to stop it.
	setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
	    "$CHATD" -p 0 -l 127.0.0.1 -n "$INSTANCE" --run-dir "$RUNDIR" \
	    -v --rate 0 --state-dir "$FOREIGN_DIR/state" 2>"$LOG" &
	CHATD_PID=$!
	wait_for "$TIMEOUT" grep -q 'listening on' "$LOG"
	PORT=$(sed -n 's/.*listening on .* port \([0-9]*\)$/\1/p' "$LOG")
}

# Needs root, setpriv and the user nobody; forges the header as nobody:
# the segment is root's and the listener is $VICTIM, a process of root's.
forge_header() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "needs setpriv"
	id nobody >/dev/null 2>&1 || skip "needs the user nobody"
	NOBODY_UID=$(id -u nobody)
	NOBODY_GID=$(id -g nobody)
	start_foreign_chatd
	login alice
	sleep 1000 &
	VICTIM=$!
	as_nobody "$TESTBIN/forgehub" "/chatd.$INSTANCE" owner 0
	as_nobody "$TESTBIN/forgehub" "/chatd.$INSTANCE" listener "$VICTIM"
}

@test "a forged header: root's chatctl signals the listener pid as the segment's owner" {
	forge_header
	ctl shutdown
	[ "$status" -eq 69 ]
	[ "$stderr" = "chatctl: cannot signal the listener (pid $VICTIM): Operation not permitted" ]
	! dead "$VICTIM"
}

@test "a forged header: root's chatctl writes the state directory as the segment's owner" {
	forge_header
	ctl ban alice
	[ "$status" -eq 0 ]
	expect alice "! you were banned by the administrator"
	[ "$(stat -c %u "$FOREIGN_DIR/state/bans")" = "$NOBODY_UID" ]
}
