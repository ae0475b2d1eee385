#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Text hygiene and transport: line ends, control characters, UTF-8
# repair, NUL bytes, telnet negotiation and the max-line limit.
#
# alice sends, bob reads. An absence (nothing delivered for a line) is
# shown with a barrier: alice's lines reach bob in order, so a line that
# should not exist would arrive before alice's next one.

load helpers

FFFD=$'\xef\xbf\xbd'

# The first user to register is the operator and hears lines the others
# do not (PROTOCOL.md, "The operator"). A silent first user keeps the
# users under test ordinary.
setup() {
	start_chatd
	login first
}

# alice and bob in the lobby, bob's join seen by alice.
pair() {
	login_all alice bob
}

@test "lines may end with CRLF or a bare LF; server lines end with CRLF" {
	open_client alice
	say_raw alice 'alice\r\n'
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	login bob
	expect alice "* bob joined lobby"
	say_raw alice 'with crlf\r\n'
	say_raw alice 'with lf\n'
	say_raw alice 'a\rcr inside\r\n'
	expect bob "<alice> with crlf"
	expect bob "<alice> with lf"
	expect bob "<alice> acr inside"
	# The raw line, before next_line strips the CR.
	say bob "raw"
	IFS= read -r -t "$TIMEOUT" -u "${FD[alice]}" LINE
	[ "$LINE" = $'<bob> raw\r' ]
}

@test "control characters are removed and TAB is kept" {
	pair
	say_raw alice 'bell\x07!\n'
	expect bob "<alice> bell!"
	say_raw alice 'back\x08\x08space\n'
	expect bob "<alice> backspace"
	say_raw alice '\x1b[31mred\x1b[0m\n'
	expect bob "<alice> [31mred[0m"
	say_raw alice 'del\x7fete\n'
	expect bob "<alice> delete"
	say_raw alice 'c1\xc2\x9b31m \xc2\x80first \xc2\x9flast\n'
	expect bob "<alice> c131m first last"
	say_raw alice '\x01every\x02 C0\x0b\x0c\x1f\n'
	expect bob "<alice> every C0"
	say_raw alice 'tab\there\n'
	expect bob "<alice> tab"$'\t'"here"
	# Just past the ranges: U+0020 and U+00A0 (no-break space) stay.
	say_raw alice 'nbsp\xc2\xa0end\n'
	expect bob "<alice> nbsp"$'\xc2\xa0'"end"
}

@test "invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart" {
	local F=$FFFD
	pair
	say_raw alice 'stray a\x80b\n'
	expect bob "<alice> stray a${F}b"
	say_raw alice 'strays \x80\xbf\n'
	expect bob "<alice> strays $F$F"
	say_raw alice 'overlong \xc0\xaf\n'
	expect bob "<alice> overlong $F$F"
	say_raw alice 'overlong3 \xe0\x80\xaf\n'
	expect bob "<alice> overlong3 $F$F$F"
	say_raw alice 'surrogate \xed\xa0\x80\n'
	expect bob "<alice> surrogate $F$F$F"
	say_raw alice 'too big \xf4\x90\x80\x80 \xf5\x80\n'
	expect bob "<alice> too big $F$F$F$F $F$F"
	# A lone 0xFF can only arrive as telnet's escaped IAC IAC.
	say_raw alice 'ff \xff\xff fe \xfe\n'
	expect bob "<alice> ff $F fe $F"
	say_raw alice 'truncated x\xe2\x82y\n'
	expect bob "<alice> truncated x${F}y"
	say_raw alice 'truncated at the end \xf0\x9f\x98\n'
	expect bob "<alice> truncated at the end $F"
	# Unicode 15, table 3-8 (U+FFFD for maximal subparts).
	say_raw alice '\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64\n'
	expect bob "<alice> a$F$F${F}b${F}c$F${F}d"
	say_raw alice '\x80\n'
	expect bob "<alice> $F"
}

@test "valid multi-byte UTF-8 passes unchanged" {
	local s
	pair
	s=$'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87'
	say alice "$s"
	expect bob "<alice> $s"
	# The edges: U+0080 is C1, so U+00A1, U+07FF, U+0800, U+D7FF, U+E000,
	# U+FFFD, U+10000 and U+10FFFF.
	s=$'\xc2\xa1 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 '
	s+=$'\xef\xbf\xbd \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf'
	say alice "$s"
	expect bob "<alice> $s"
}

@test "NUL bytes neither end nor corrupt a line" {
	pair
	say_raw alice 'a\x00b\n'
	expect bob "<alice> ab"
	say_raw alice '\x00\x00lead and trail\x00\n'
	expect bob "<alice> lead and trail"
	# A line of NULs is empty, hence ignored.
	say_raw alice '\x00\x00\n'
	say_raw alice 'caf\xc3\xa9\x00\n'
	expect bob "<alice> caf"$'\xc3\xa9'
	say_raw alice '/fr\x00ob\x00\n'
	expect alice "! unknown command: /frob (try /help)"
	open_client c
	say_raw c 'car\x00ol\n'
	expect c "* Hello, carol! You are in lobby. Type /help for commands."
	expect alice "* carol joined lobby"
	expect bob "* carol joined lobby"
}

@test "telnet negotiation is removed and reaches nobody" {
	pair
	# IAC WILL ECHO, IAC DO SUPPRESS-GO-AHEAD, IAC WONT x, IAC DONT x.
	say_raw alice 'he\xff\xfb\x01llo\xff\xfd\x03 w\xff\xfc\x22or\xff\xfe\x18ld\n'
	expect bob "<alice> hello world"
	# IAC SB TERMINAL-TYPE IS xterm IAC SE, an escaped IAC inside.
	say_raw alice 'sub\xff\xfa\x18\x00xterm\xff\xff\xff\xf0neg\n'
	expect bob "<alice> subneg"
	# IAC NOP, IAC AYT, IAC GA: AYT is answered, to alice alone.
	say_raw alice 'n\xff\xf1o\xff\xf6p\xff\xf9\n'
	expect bob "<alice> nop"
	expect alice "* yes, chatd is here"
	say_raw alice 'iac \xff\xff iac\n'
	expect bob "<alice> iac $FFFD iac"
	# A line of nothing but negotiation is empty, hence ignored.
	say_raw alice '\xff\xfb\x01\xff\xfd\x03\r\n'
	say_raw alice 'split\xff'
	say_raw alice '\xfb'
	say_raw alice '\x01 across writes\n'
	expect bob "<alice> split across writes"
	say bob "barrier"
	expect alice "<bob> barrier"
}

@test "telnet negotiation before the name does not spoil it" {
	login alice
	open_client c
	say_raw c '\xff\xfd\x03\xff\xfb\x18\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0'
	say_raw c 'carol\r\n'
	expect c "* Hello, carol! You are in lobby. Type /help for commands."
	expect alice "* carol joined lobby"
}

@test "a line of exactly max-line bytes is delivered" {
	local long
	pair
	long=$(repeat 1024 x)
	say alice "$long"
	expect bob "<alice> $long"
	# A CR is counted: 1023 bytes, CR, LF.
	long=$(repeat 1023 y)
	say_raw alice "$long"'\r\n'
	expect bob "<alice> $long"
	# Bytes, not characters: 341 three-byte euro signs and an x.
	long=$(repeat 341 $'\xe2\x82\xac')x
	say alice "$long"
	expect bob "<alice> $long"
	# Repair may triple a line: 1024 stray bytes, 1024 U+FFFD.
	say_raw alice "$(repeat 1024 '\x80')\n"
	expect bob "<alice> $(repeat 1024 "$FFFD")"
}

@test "a longer line is refused, not delivered, and the connection stays usable" {
	pair
	say alice "$(repeat 1025 x)"
	expect alice "! line too long (max 1024 bytes)"
	say alice "next"
	expect bob "<alice> next"
	say_raw alice "$(repeat 1024 y)"'\r\n'
	expect alice "! line too long (max 1024 bytes)"
	say alice "$(repeat 342 $'\xe2\x82\xac')"
	expect alice "! line too long (max 1024 bytes)"
	say alice "and next"
	expect bob "<alice> and next"
	say bob "still talking"
	expect alice "<bob> still talking"
}

@test "an overlong line gets one error as soon as it passes the limit" {
	pair
	say_raw alice "$(repeat 1025 x)"
	expect alice "! line too long (max 1024 bytes)"
	# The rest of it, however long, is discarded up to its LF.
	say_raw alice "$(repeat 5000 z)"
	say alice "tail of the long line"
	say alice "next"
	expect bob "<alice> next"
	say bob "barrier"
	expect alice "<bob> barrier"
}

@test "--max-line changes the limit and the message" {
	stop_chatd
	start_chatd --max-line 100
	login first
	pair
	say alice "$(repeat 100 x)"
	expect bob "<alice> $(repeat 100 x)"
	say alice "$(repeat 101 x)"
	expect alice "! line too long (max 100 bytes)"
	say alice "next"
	expect bob "<alice> next"
	say_raw alice "$(repeat 101 x)"
	expect alice "! line too long (max 100 bytes)"
	say alice "rest"
	say alice "and next"
	expect bob "<alice> and next"
}

@test "--max-line 8192, the largest, delivers a line that repair triples" {
	stop_chatd
	start_chatd --max-line 8192
	login first
	pair
	say_raw alice "$(repeat 8192 '\x80')\n"
	expect bob "<alice> $(repeat 8192 "$FFFD")"
	say_raw alice "$(repeat 8193 '\x80')\n"
	expect alice "! line too long (max 8192 bytes)"
	say alice "next"
	expect bob "<alice> next"
}

@test "a line of nothing but control characters is ignored" {
	pair
	say_raw alice '\x07\x08\x1b\x7f\xc2\x9b\r\n'
	say_raw alice '\x01\x02\x03\n'
	say alice "after the controls"
	expect bob "<alice> after the controls"
	say bob "barrier"
	expect alice "<bob> barrier"
}
