#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The link under inetd, where no listener starts it: chatd --link-only
# is the instance's link process, long-lived, beside the chatd -i
# instances systemd-socket-activate starts (as contrib's
# chatd-link.service and chatd.socket would).

load helpers
load linkhelpers

bats_require_minimum_version 1.5.0

setup() {
	link_setup
}

teardown() {
	close_streams
	close_clients
	[ -z "${LINK_ONLY_PID:-}" ] || stop_pid 10 "$LINK_ONLY_PID"
	[ -z "${SUPER_PID:-}" ] || stop_pid 10 "$SUPER_PID"
	link_teardown
	[ -z "${LINK_LOG:-}" ] || LOG=$LINK_LOG assert_no_sanitizer_report
}

# Whether the --link-only process logged that its link is up.
link_only_up() {
	grep -q "^chatd/link\[$LINK_ONLY_PID\]: link to 127.0.0.1:$HUB_PORT up (hub $HUB_NAME)\$" \
	    "$LINK_LOG"
}

@test "under inetd, chatd --link-only links the instance: its users and IRC's meet" {
	local pw=$BATS_TEST_TMPDIR/pw opts
	need systemd-socket-activate systemd
	start_hub
	printf 'a-to-hub\nhub-to-a\n' >"$pw"
	chmod 600 "$pw"
	INSTANCE=linkinetd$$.$RANDOM
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	opts=(-n "$INSTANCE" --run-dir="$RUNDIR" --link="127.0.0.1:$HUB_PORT"
	    --server-name=a.chatd.test --link-password-file="$pw")
	LINK_LOG=$BATS_TEST_TMPDIR/link.log
	"$CHATD" --link-only "${opts[@]}" 2>"$LINK_LOG" &
	LINK_ONLY_PID=$!
	wait_for "$TIMEOUT" link_only_up
	grep -q "^chatd/link\[$LINK_ONLY_PID\]: link to " "$LINK_LOG"
	[ "$(tr '\0' ' ' </proc/$LINK_ONLY_PID/cmdline)" = "chatd: link 127.0.0.1:$HUB_PORT " ]
	# A second one for the same instance is refused.
	run --separate-stderr "$CHATD" --link-only "${opts[@]}"
	[ "$status" -eq 69 ]
	[[ $stderr == *"instance $INSTANCE has a link process already (pid $LINK_ONLY_PID)" ]]
	activate_inetd "$CHATD" -i "${opts[@]}"
	irc_connect carol
	irc_join carol '#lobby'
	open_client alice
	expect_re alice '^\* Welcome to chatd! 1 user online\.$'
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	irc_expect carol ":alice!alice@a.chatd.test JOIN :#lobby"
	irc_say carol "PRIVMSG #lobby :hi alice"
	expect alice "<carol> hi alice"
	say alice "hi carol"
	irc_expect carol ":alice!alice@a.chatd.test PRIVMSG #lobby :hi carol"
	say alice "/who"
	expect_set alice "* 2 users in lobby" "* alice [op]" "* carol @$HUB_NAME"
	# The link process leaving is a netsplit for the instance's users,
	# and the network sees them go.
	stop_pid 10 "$LINK_ONLY_PID"
	LINK_ONLY_PID=
	expect alice "* netsplit: 1 user left ($HUB_NAME)"
	irc_wait_re carol "^:alice!alice@a\.chatd\.test QUIT :"
	say alice "/who"
	expect alice "* 1 user in lobby"
	expect alice "* alice [op]"
	say alice "/quit"
	expect alice "* Goodbye, alice."
}

@test "--link-only needs --link, and excludes --inetd" {
	run --separate-stderr "$CHATD" --link-only -n x
	[ "$status" -eq 64 ]
	[[ $stderr == *"--link-only needs --link" ]]
	printf 'a\nb\n' >"$BATS_TEST_TMPDIR/pw"
	run --separate-stderr "$CHATD" --link-only -i --link=127.0.0.1:1 \
	    --server-name=a.chatd.test --link-password-file="$BATS_TEST_TMPDIR/pw"
	[ "$status" -eq 64 ]
	[[ $stderr == *"--link-only and --inetd exclude each other" ]]
}
