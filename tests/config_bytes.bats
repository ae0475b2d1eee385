#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The bytes of a configuration file: a NUL byte, wherever it is in a
# line, and a line too long for the reader stop chatd with exit 78 naming
# the file and the line, rather than cutting the line short in silence;
# the lines after them are still read, and reported if bad.

load helpers

setup() {
	CONF=$BATS_TEST_TMPDIR/chatd.conf
}

@test "a NUL byte in a line of the file: exit 78 naming file and line" {
	# Read up to the NUL, the line would set max-clients to 5.
	printf 'port = 9000\nmax-clients = 5\0junk\n' >"$CONF"
	run "$CHATD" -t -f "$CONF"
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:2: a NUL byte" ]

	# Read up to the NUL, the line would be empty and ignored.
	printf '\0port = 9000\n' >"$CONF"
	run "$CHATD" -t -f "$CONF"
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: a NUL byte" ]

	# The last line, without its newline.
	printf 'port = 9000\nverbose = yes\0' >"$CONF"
	run "$CHATD" -t -f "$CONF"
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:2: a NUL byte" ]
}

@test "a line of 8190 bytes and its newline is read; one byte more is too long" {
	# A comment fills the line up to the reader's limit.
	{ printf 'port = 9000 #'; head -c 8177 /dev/zero | tr '\0' x
	    printf '\n'; } >"$CONF"
	[ "$(head -n 1 "$CONF" | wc -c)" -eq 8191 ]
	run "$CHATD" -t -f "$CONF"
	[ "$status" -eq 0 ]

	{ printf 'port = 9000 #'; head -c 8178 /dev/zero | tr '\0' x
	    printf '\n'; } >"$CONF"
	run "$CHATD" -t -f "$CONF"
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: line too long" ]
}

@test "a line too long is one bad line: the lines after it are read, numbered and reported" {
	# Were the rest of the long line read as a line of its own, its
	# "rate = x" would be reported too, and the numbers would be off.
	{ printf 'port = 9000 #'; head -c 8178 /dev/zero | tr '\0' x
	    printf 'rate = x\nburst = 0\nmax-clients = 5\0\nhistory = 5\nkeepalive = y'; } >"$CONF"
	run "$CHATD" -t -f "$CONF"
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $CONF:1: line too long
chatd: $CONF:2: burst: 0 is out of range (1 to 1000000)
chatd: $CONF:3: a NUL byte
chatd: $CONF:5: keepalive: 'y' is not a number" ]
}
