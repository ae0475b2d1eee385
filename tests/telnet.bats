#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Real telnet clients (chatd(7), Transport): IAC DO TIMING-MARK gets IAC
# WILL TIMING-MARK (FF FB 06), IAC AYT gets "* yes, chatd is here", each
# in stream order (after the replies to what came before it) and at
# once, without waiting for an LF; every other telnet command gets
# nothing, and chatd starts no negotiation. The last test drives the
# real telnet program through Ctrl-C and "send ayt" under tmux.
#
# An absence (no byte more) is shown with a barrier: the reply to an
# unknown command must be the very next line.

load helpers

WILL_TM='\xff\xfb\x06'
IP_DO_TM='\xff\xf4\xff\xfd\x06'

setup() {
	TMUX_SOCK=
	start_chatd
}

teardown() {
	[ -z "$TMUX_SOCK" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null ||
	    true
	stop_chatd
	assert_no_sanitizer_report
}

# Reads exactly the bytes $2 (printf escapes) from client $1, and fails,
# showing both in hex, unless they are what came.
expect_bytes() {
	local LC_ALL=C want got
	printf -v want "$2"
	got=
	IFS= read -r -N "${#want}" -t "$TIMEOUT" -u "${FD[$1]}" got || true
	if [ "$got" != "$want" ]; then
		printf '%s: expected bytes: %s\n%s:      got bytes: %s\n' \
		    "$1" "$(printf '%s' "$want" | od -An -tx1)" "$1" \
		    "$(printf '%s' "$got" | od -An -tx1)" >&2
		return 1
	fi
}

# Whether chatd has read everything sent to it on its one connection:
# the receive queue of the server's side of it is empty.
server_read_all() {
	local q
	q=$(ss -Htn state established "( sport = :$PORT )" |
	    awk '{ print $1 }')
	[ "$q" = 0 ]
}

# Sends the bytes $2 to client $1's server and waits until the server
# has read them, so that the next bytes come in a read of their own.
send_read() {
	say_raw "$1" "$2"
	wait_for "$TIMEOUT" server_read_all
}

@test "IAC DO TIMING-MARK at the name prompt gets IAC WILL TIMING-MARK, and nothing more" {
	open_client c
	say_raw c "$IP_DO_TM"
	expect_bytes c "$WILL_TM"
	say c alice
	expect c "* Hello, alice! You are in lobby. Type /help for commands."
	expect c "* You are the operator."
}

@test "IAC DO TIMING-MARK is answered after the replies to the lines before it in the same write" {
	login alice
	say_raw alice '/who\n'"$IP_DO_TM"
	expect alice "* 1 user in lobby"
	expect alice "* alice [op]"
	expect_bytes alice "$WILL_TM"
	barrier alice
	# Two in a row get two answers; a line after them is handled.
	say_raw alice "$IP_DO_TM$IP_DO_TM"'/who\n'
	expect_bytes alice "$WILL_TM$WILL_TM"
	expect alice "* 1 user in lobby"
	expect alice "* alice [op]"
}

@test "IAC DO TIMING-MARK is answered at once, without an LF, mid-line too" {
	pair_chat
	say_raw alice 'half a li'"$IP_DO_TM"
	expect_bytes alice "$WILL_TM"
	say_raw alice 'ne\n'
	expect bob "<alice> half a line"
	barrier alice
}

@test "IAC DO TIMING-MARK split across writes is answered once it is whole" {
	open_client c
	send_read c '\xff'
	send_read c '\xfd'
	say_raw c '\x06'
	expect_bytes c "$WILL_TM"
	say c alice
	expect c "* Hello, alice! You are in lobby. Type /help for commands."
	expect c "* You are the operator."
	send_read c '\xff\xf4\xff'
	send_read c '\xfd'
	say_raw c '\x06/who\n'
	expect_bytes c "$WILL_TM"
	expect c "* 1 user in lobby"
	expect c "* alice [op]"
}

@test "IAC DO TIMING-MARK waits for the delayed answer to a wrong /oper password" {
	OPER_FILE=$BATS_TEST_TMPDIR/oper
	printf '%s\n' "$OPER_HASH" >"$OPER_FILE"
	stop_chatd
	start_chatd --oper-password-file "$OPER_FILE" --oper-first-user no
	open_client alice
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	say_raw alice '/oper wrong\n'"$IP_DO_TM"
	expect alice "! wrong password"
	expect_bytes alice "$WILL_TM"
	barrier alice
}

@test "IAC DO TIMING-MARK in the discarded rest of an overlong line is answered" {
	login alice
	say_raw alice "$(repeat 1100 x)$IP_DO_TM"
	expect alice "! line too long (max 1024 bytes)"
	expect_bytes alice "$WILL_TM"
	say_raw alice 'still discarded\n'
	barrier alice
}

@test "IAC AYT gets * yes, chatd is here, at the name prompt and after" {
	open_client c
	say_raw c '\xff\xf6'
	expect c "* yes, chatd is here"
	send_read c '\xff'
	say_raw c '\xf6'
	expect c "* yes, chatd is here"
	say c alice
	expect c "* Hello, alice! You are in lobby. Type /help for commands."
	expect c "* You are the operator."
	say_raw c '/who\n\xff\xf6'
	expect c "* 1 user in lobby"
	expect c "* alice [op]"
	expect c "* yes, chatd is here"
	barrier c
}

@test "IAC AYT mid-line is answered at once and the line goes on" {
	pair_chat
	say_raw alice 'hel\xff\xf6'
	expect alice "* yes, chatd is here"
	say_raw alice 'lo\n'
	expect bob "<alice> hello"
	barrier alice
}

@test "every other telnet command gets no answer at all" {
	login alice
	# IP, AO, BRK, EC, EL, GA, NOP, DM, SE outside SB; WILL, WONT and
	# DONT TIMING-MARK; DO ECHO, DO SUPPRESS-GO-AHEAD, WILL NAWS; a
	# subnegotiation holding DO TIMING-MARK and AYT; an escaped IAC
	# before AYT's byte, which is then data.
	say_raw alice '\xff\xf4\xff\xf5\xff\xf3\xff\xf7\xff\xf8\xff\xf9\xff\xf1\xff\xf2\xff\xf0'
	say_raw alice '\xff\xfb\x06\xff\xfc\x06\xff\xfe\x06'
	say_raw alice '\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f'
	say_raw alice '\xff\xfa\x18\xff\xfd\x06\xff\xf6\xff\xf0'
	say_raw alice '\xff\xff\xf6\n'
	barrier alice
}

# alice and bob in lobby, alice the operator.
pair_chat() {
	login alice
	login bob
	expect alice "* bob joined lobby"
}

# The pane of the telnet session, as the user sees it now.
pane() {
	tmux -S "$TMUX_SOCK" capture-pane -p -t chat
}

# Whether a line of the pane is exactly $1.
pane_has() {
	pane | grep -qxF -- "$1"
}

# Whether the last line of the pane with anything on it ends with $1.
pane_ends() {
	local last
	last=$(pane | grep -v '^$' | tail -n 1)
	[[ $last == *"$1" ]]
}

@test "the real telnet program: Ctrl-C does not silence the room, send ayt is answered" {
	need telnet telnet || return 1
	need tmux tmux || return 1
	TMUX_SOCK=$BATS_TEST_TMPDIR/tmux
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s chat -x 120 \
	    -y 40 "telnet 127.0.0.1 $PORT"
	wait_for "$TIMEOUT" pane_has "Enter your name:" || { pane; false; }
	tmux -S "$TMUX_SOCK" send-keys -t chat alice Enter
	wait_for "$TIMEOUT" pane_has \
	    "* Hello, alice! You are in lobby. Type /help for commands." ||
	    { pane; false; }
	login bob
	wait_for "$TIMEOUT" pane_has "* bob joined lobby" || { pane; false; }
	# Ctrl-C: telnet sends IAC IP IAC DO TIMING-MARK and shows no
	# output until the answer comes.
	tmux -S "$TMUX_SOCK" send-keys -t chat C-c
	wait_for "$TIMEOUT" pane_ends "^C" || { pane; false; }
	# Ctrl-] and send ayt: the answer shows once the TIMING-MARK's has
	# come, since it follows it in the stream.
	tmux -S "$TMUX_SOCK" send-keys -t chat C-]
	wait_for "$TIMEOUT" pane_ends "telnet>" || { pane; false; }
	tmux -S "$TMUX_SOCK" send-keys -t chat "send ayt" Enter
	wait_for "$TIMEOUT" pane_has "* yes, chatd is here" || { pane; false; }
	# The room's lines are seen again, and alice can talk.
	say bob "anybody there after that Ctrl-C?"
	wait_for "$TIMEOUT" pane_has "<bob> anybody there after that Ctrl-C?" ||
	    { pane; false; }
	tmux -S "$TMUX_SOCK" send-keys -t chat "yes, me" Enter
	expect bob "<alice> yes, me"
}
