#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The PROXY protocol (chatd(8) "TLS", PROTOCOL.md "Clients behind a TLS
# front end"): headers of version 1 and 2 written by hand from
# 127.0.0.1, trusted with --proxy-from, give the client's address to
# chatctl, the log, bans and --max-per-address; a bad header or none is
# a silent close; a header from an untrusted address is refused. The
# real stunnel and haproxy are in tls.bats.

load helpers

# The v2 signature, for printf.
SIG='\r\n\r\n\0\r\nQUIT\n'
# v2, PROXY over TCP/IPv4: 203.0.113.9 port 51234 to 192.0.2.1 port 9443.
V2_4="${SIG}"'\x21\x11\x00\x0c\xcb\x00\x71\x09\xc0\x00\x02\x01\xc8\x22\x24\xe3'
# v2, PROXY over TCP/IPv6: 2001:db8::7 port 80 to 2001:db8::1 port 9443.
V2_6="${SIG}"'\x21\x21\x00\x24\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07'
V2_6+='\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50\x24\xe3'

# A v1 header for a TCP4 client at $1 (port $2, default 51234).
v1() {
	printf 'PROXY TCP4 %s 192.0.2.1 %s 9443\\r\\n' "$1" "${2:-51234}"
}

declare -gA HEADER

# As helpers.bash connects, then sends the header set for client $1.
connect() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/${2:-$PORT}"
	FD[$1]=$fd
	[ -z "${HEADER[$1]:-}" ] || say_raw "$1" "${HEADER[$1]}"
}

# Client $1 sends $2 (printf escapes) as its first bytes when it
# connects (login, open_client, connect).
via() {
	HEADER[$1]=$2
}

# Connects $1 with $2 as its first bytes.
proxied() {
	via "$1" "$2"
	connect "$1"
}

# Whether the log holds a line with $1 (a fixed string).
logged() {
	grep -qF -- "$1" "$LOG"
}

# Nothing came for client $1 within $2 seconds (default 1): a bounded
# look for a line that must not be there.
silent_for_now() {
	local l
	! IFS= read -r -t "${2:-1}" -u "${FD[$1]}" l
}

@test "a v1 header from a trusted address: the client's address in chatctl and the log" {
	start_chatd --proxy-from 127.0.0.1
	via alice "$(v1 198.51.100.7)"
	login alice
	[ "$(address_of alice)" = 198.51.100.7 ]
	wait_for "$TIMEOUT" logged \
	    "connection from 198.51.100.7 port 51234 via 127.0.0.1 (PROXY v1)"
	wait_for "$TIMEOUT" logged "198.51.100.7 registered as alice"
	# IPv6, and an IPv4-mapped address shown as IPv4 as everywhere.
	via bob 'PROXY TCP6 2001:db8::7 2001:db8::1 40000 9443\r\n'
	open_client bob
	say bob bob
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	via carol 'PROXY TCP6 ::ffff:10.1.2.3 ::1 40001 9443\r\n'
	login carol
	[ "$(address_of bob)" = 2001:db8::7 ]
	[ "$(address_of carol)" = 10.1.2.3 ]
}

@test "v2 headers, IPv4 and IPv6, with the name in the same segment" {
	start_chatd --proxy-from 127.0.0.0/8
	proxied alice "${V2_4}alice\r\n"
	expect alice "* Welcome to chatd! 0 users online."
	expect alice "Enter your name:"
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	proxied bob "${V2_6}bob\r\n"
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	[ "$(address_of alice)" = 203.0.113.9 ]
	[ "$(address_of bob)" = 2001:db8::7 ]
	wait_for "$TIMEOUT" logged \
	    "connection from 203.0.113.9 port 51234 via 127.0.0.1 (PROXY v2)"
	# TLVs are skipped: ALPN "h2" and a NOOP.
	via carol "${SIG}"'\x21\x11\x00\x17\xcb\x00\x71\x0a\xc0\x00\x02\x01\xc8\x22\x24\xe3\x01\x00\x02h2\x04\x00\x03\0\0\0'
	login carol
	[ "$(address_of carol)" = 203.0.113.10 ]
}

@test "a header split across reads is read before the greeting" {
	start_chatd --proxy-from 127.0.0.1
	proxied alice 'PROXY TCP4 198.51'
	silent_for_now alice
	say_raw alice '.100.7 192.0.2.1 5'
	silent_for_now alice
	say_raw alice '1234 9443\r'
	silent_for_now alice
	say_raw alice '\nalice\r\n'
	expect alice "* Welcome to chatd! 0 users online."
	expect alice "Enter your name:"
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	proxied bob "${V2_4:0:20}"
	silent_for_now bob
	say_raw bob "${V2_4:20}bob\r\n"
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	[ "$(address_of alice)" = 198.51.100.7 ]
	[ "$(address_of bob)" = 203.0.113.9 ]
}

@test "LOCAL, UNKNOWN and UNSPEC headers keep the front end's address" {
	start_chatd --proxy-from 127.0.0.1
	via alice "${SIG}"'\x20\x00\x00\x00'
	login alice
	via bob 'PROXY UNKNOWN\r\n'
	login bob
	via carol "${SIG}"'\x21\x00\x00\x00'
	login carol
	[ "$(address_of alice)" = 127.0.0.1 ]
	[ "$(address_of bob)" = 127.0.0.1 ]
	[ "$(address_of carol)" = 127.0.0.1 ]
}

@test "no header from a trusted address within 5 seconds: closed without a word" {
	start_chatd --proxy-from 127.0.0.1
	connect quiet
	proxied partial 'PROXY TCP4 198.51.100.7 '
	# Others are served meanwhile.
	via alice "$(v1 198.51.100.8)"
	login alice
	expect_eof quiet
	expect_eof partial
	wait_for "$TIMEOUT" logged \
	    "127.0.0.1: no PROXY header within 5000 ms; closed"
	[ "$(grep -cF 'no PROXY header within 5000 ms; closed' "$LOG")" -eq 2 ]
	say alice "/users"
	expect alice "* 1 user online"
	expect alice "* alice (lobby) [op]"
}

@test "bad headers from a trusted address: each closed without a word, and logged" {
	local bad why i=0
	start_chatd --proxy-from 127.0.0.1
	via alice "$(v1 198.51.100.7)"
	login alice
	while IFS='|' read -r bad why; do
		i=$((i + 1))
		proxied "c$i" "$bad"
		expect_eof "c$i" || { echo "header: $bad" >&2; return 1; }
		wait_for "$TIMEOUT" logged "127.0.0.1: $why; closed" ||
		    return 1
	done <<'EOF'
alice\r\n|no PROXY header
PROXY TCP4 198.51.100.256 192.0.2.1 1 2\r\n|bad address
PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n|bad address
PROXY TCP4 198.51.100.7 192.0.2.1 65536 2\r\n|bad port
PROXY TCP4 198.51.100.7 192.0.2.1 01 2\r\n|bad port
PROXY TCP4 198.51.100.7 192.0.2.1 1\r\n|missing fields
PROXY TCP5 198.51.100.7 192.0.2.1 1 2\r\n|unknown protocol
PROXY TCP4 198.51.100.7 192.0.2.1 1 2\n|a control byte in a v1 header
PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n|v1 header too long
\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x08\xcb\x00\x71\x09\xc0\x00\x02\x01|address block too short
\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff|v2 header too long
\r\n\r\n\0\r\nQUIT\n\x21\x41\x00\x00|unknown address family
\r\n\r\n\0\r\nQUIT\n\x21\x31\x00\x00|not a TCP connection over IP
\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x00|unknown version
\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x10\xcb\x00\x71\x09\xc0\x00\x02\x01\xc8\x22\x24\xe3\x01\x00\x02h|malformed TLV
EOF
	# Truncated: the front end closed halfway.
	proxied cut 'PROXY TCP4 198.51.100.7'
	disconnect cut
	wait_for "$TIMEOUT" logged \
	    "127.0.0.1: closed before its PROXY header; closed"
	# Nothing was lost for alice, and nobody else came in.
	say alice "/users"
	expect alice "* 1 user online"
	expect alice "* alice (lobby) [op]"
}

@test "a second header after a good one is a line like any other" {
	start_chatd --proxy-from 127.0.0.1
	via alice "$(v1 198.51.100.7)$(v1 198.51.100.9)"
	open_client alice
	expect alice "! invalid name: longer than 16 characters"
	expect alice "Enter your name:"
	say alice alice
	expect alice "* Hello, alice! You are in lobby. Type /help for commands."
	expect alice "* You are the operator."
	[ "$(address_of alice)" = 198.51.100.7 ]
}

@test "a header from an untrusted address is refused; other first bytes are not" {
	start_chatd --proxy-from 127.0.0.2 --proxy-from 2001:db8::/32
	open_client v1
	say_raw v1 "$(v1 198.51.100.7)"
	expect v1 "! PROXY header from an untrusted address"
	expect_eof v1
	wait_for "$TIMEOUT" logged \
	    "127.0.0.1: PROXY header from an untrusted address; closed"
	# v2's signature, split: its first bytes are held until it shows.
	open_client v2
	say_raw v2 '\r\n\r\n'
	silent_for_now v2 0.2
	say_raw v2 "${V2_4:8}"
	expect v2 "! PROXY header from an untrusted address"
	expect_eof v2
	# "PROX" then a name that is no header: a user like any other.
	open_client prox
	say_raw prox 'PROX'
	silent_for_now prox
	say_raw prox 'YMAN\r\n'
	expect prox "* Hello, PROXYMAN! You are in lobby. Type /help for commands."
	expect prox "* You are the operator."
	# An empty line, which may begin v2's signature, is answered once
	# nothing follows for a second.
	open_client empty
	say_raw empty '\r\n'
	expect empty "! invalid name: empty"
	expect empty "Enter your name:"
	say empty bob
	expect empty "* Hello, bob! You are in lobby. Type /help for commands."
	[ "$(address_of PROXYMAN)" = 127.0.0.1 ]
	[ "$(grep -cF 'PROXY header from an untrusted address' "$LOG")" -eq 2 ]
}

@test "a ban on a client's real address refuses it, and only it" {
	start_chatd --proxy-from 127.0.0.1
	via op "$(v1 198.51.100.1)"
	login op
	via bob "$(v1 198.51.100.7)"
	login bob
	expect op "* bob joined lobby"
	say op "/ban bob spam"
	expect bob "! you were banned by op (spam)"
	expect_eof bob
	expect op "* bob was banned by op (spam)"
	proxied again "$(v1 198.51.100.7 40000)"
	expect again "! you are banned"
	expect_eof again
	via carol "$(v1 198.51.100.8)"
	login carol
	expect op "* carol joined lobby"
	say op "/bans"
	# (The bans table's own tests say more of this line's form.)
	expect_re op '^\* 1 ban'
	expect_re op '^\* 198\.51\.100\.7 bob'
	[ "$(address_of carol)" = 198.51.100.8 ]
}

@test "--max-per-address counts the clients' real addresses" {
	start_chatd --proxy-from 127.0.0.1 --max-per-address 1
	via a1 "$(v1 198.51.100.7)"
	login a1
	proxied a2 "$(v1 198.51.100.7 40000)"
	expect a2 "! too many connections from your address"
	expect_eof a2
	via b1 "$(v1 198.51.100.8)"
	login b1
	via c1 "${V2_6}"
	login c1
}

# Whether the log holds more than $1 lines of SIGHUP re-reads.
reloaded_after() {
	[ "$(grep -c 'SIGHUP: settings re-read' "$LOG")" -gt "$1" ]
}

@test "--proxy-from is live on SIGHUP, from the file; the command line's replace the file's" {
	local n
	CONF=$BATS_TEST_TMPDIR/chatd.conf
	printf 'proxy-from = 127.0.0.2\nproxy-from = 10.0.0.0/8\n' >"$CONF"
	start_chatd -f "$CONF"
	open_client before
	say_raw before "$(v1 198.51.100.7)"
	expect before "! PROXY header from an untrusted address"
	printf 'proxy-from = 127.0.0.0/24\n' >"$CONF"
	n=$(grep -c 'SIGHUP: settings re-read' "$LOG" || true)
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" reloaded_after "$n"
	via after "$(v1 198.51.100.7)"
	login after
	[ "$(address_of after)" = 198.51.100.7 ]
	stop_chatd
	# The command line's --proxy-from replaces the file's.
	start_chatd -f "$CONF" --proxy-from 127.0.0.2
	open_client plain
	say_raw plain "$(v1 198.51.100.7)"
	expect plain "! PROXY header from an untrusted address"
}

@test "a bad --proxy-from, or too many: exit 64 or 78, naming the value" {
	local args=() i
	run "$CHATD" --proxy-from 127.0.0.1/33 -t
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --proxy-from: '127.0.0.1/33' is not an address or ADDR/LEN" ]
	run "$CHATD" --proxy-from localhost -t
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --proxy-from: 'localhost' is not an address or ADDR/LEN" ]
	for i in $(seq 1 16); do
		args+=(--proxy-from "192.0.2.$i")
	done
	run "$CHATD" "${args[@]}" -t
	[ "$status" -eq 0 ]
	run "$CHATD" "${args[@]}" --proxy-from 2001:db8::/32 -t
	[ "$status" -eq 64 ]
	[ "$output" = "chatd: --proxy-from: at most 16 addresses" ]
	printf 'proxy-from = 10.0.0.0/8x\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$CHATD" -f "$BATS_TEST_TMPDIR/bad.conf" -t
	[ "$status" -eq 78 ]
	[ "$output" = "chatd: $BATS_TEST_TMPDIR/bad.conf:1: proxy-from: '10.0.0.0/8x' is not an address or ADDR/LEN" ]
}

@test "under inetd the header is read before the segment is opened" {
	need systemd-socket-activate systemd
	RUNDIR=$BATS_TEST_TMPDIR/run
	LOG=$BATS_TEST_TMPDIR/chatd.log
	mkdir -p -m 700 "$RUNDIR"
	activate_inetd "$CHATD" -i --run-dir="$RUNDIR" -v --proxy-from 127.0.0.1
	# One instance waiting for its header holds up nobody.
	connect quiet
	via alice "$(v1 198.51.100.7)"
	login alice
	[ "$(address_of alice)" = 198.51.100.7 ]
	expect_eof quiet
	wait_for "$TIMEOUT" logged \
	    "127.0.0.1: no PROXY header within 5000 ms; closed"
}

teardown() {
	close_clients
	if [ -n "${SUPER_PID:-}" ]; then
		stop_pid 10 "$SUPER_PID"
		SUPER_PID=
	fi
	stop_chatd
	assert_no_sanitizer_report
}
