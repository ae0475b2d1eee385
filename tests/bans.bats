#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Range and expiring bans: /ban and chatctl ban of an ADDRESS or a CIDR
# range (every local user inside is banned at once), --ipv6-prefix for
# the users of IPv6 and --max-per-address, /ban -t DURATION and its
# time left in /bans and chatctl bans, expiry live and across a restart
# with --state-dir, and the refusals of bad ranges and durations.
#
# Clients come from other loopback addresses (127.0.0.2, ...) through a
# socat relay bound to that address; the operator is on 127.0.0.1.

load helpers

bats_require_minimum_version 1.5.0

: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"

T=$'\t'

setup() {
	STATE=$BATS_TEST_TMPDIR/state
	declare -gA RELAY
	RELAY_PIDS=()
}

teardown() {
	local pid
	stop_chatd
	for pid in "${RELAY_PIDS[@]}"; do
		stop_pid 5 "$pid"
	done
	assert_no_sanitizer_report
}

# Whether something listens on TCP port $1 of 127.0.0.1.
listening() {
	ss -Htln "( sport = :$1 )" | grep -q .
}

# Starts a relay from a free port of 127.0.0.1 to the server, whose
# connections come from address $1: RELAY[$1] is its port.
relay_from() {
	local try lo p pid
	need socat socat || return 1
	lo=$(cut -f 1 /proc/sys/net/ipv4/ip_local_port_range)
	[ "$lo" -gt 11024 ] || lo=61024
	for try in 1 2 3 4 5; do
		p=$((1024 + RANDOM % (lo - 1024 - 1)))
		listening "$p" && continue
		socat "TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork" \
		    "TCP:127.0.0.1:$PORT,bind=$1" 2>/dev/null &
		pid=$!
		if wait_for "$TIMEOUT" eval "listening $p || dead $pid" &&
		    ! dead "$pid"; then
			RELAY_PIDS+=("$pid")
			RELAY[$1]=$p
			return 0
		fi
		wait "$pid" 2>/dev/null || true
	done
	echo "no relay from $1" >&2
	return 1
}

# Logs in $1 from address $2, as login does; nobody else is told here.
login_from() {
	connect "$1" "${RELAY[$2]}"
	expect_re "$1" '^\* Welcome to chatd! [0-9]+ users? online\.$' ||
	    return 1
	expect "$1" "Enter your name:"
	say "$1" "$1"
	expect "$1" "* Hello, $1! You are in lobby. Type /help for commands."
}

# The port to connect to for address $1: its relay's, or the server's
# for "" (127.0.0.1).
port_for() {
	if [ -z "$1" ]; then
		echo "$PORT"
	else
		echo "${RELAY[$1]}"
	fi
}

# A new connection from $2 (an address with a relay, or "" for
# 127.0.0.1) is refused as banned, before any prompt.
refused_from() {
	connect "$1" "$(port_for "$2")"
	expect "$1" "! you are banned"
	expect_eof "$1"
	disconnect "$1"
}

# Whether a new connection from $1 ("" for 127.0.0.1) gets the greeting
# rather than "! you are banned".
admitted_from() {
	local fd line
	exec {fd}<>"/dev/tcp/127.0.0.1/$(port_for "$1")"
	IFS= read -r -t "$TIMEOUT" -u "$fd" line || line=
	exec {fd}>&-
	[[ $line == "* Welcome to chatd!"* ]]
}

@test "/ban ADDRESS and /ban RANGE ban every user inside now; /unban takes the range" {
	start_chatd
	relay_from 127.0.0.2
	relay_from 127.0.0.3
	relay_from 127.0.0.4
	login first
	login_from bob 127.0.0.2
	expect first "* bob joined lobby"
	login_from carol 127.0.0.3
	expect first "* carol joined lobby"
	expect bob "* carol joined lobby"
	login_from dave 127.0.0.4
	expect first "* dave joined lobby"
	expect bob "* dave joined lobby"
	expect carol "* dave joined lobby"
	# Host bits are cleared: 127.0.0.3/31 is 127.0.0.2/31.
	say first "/ban 127.0.0.3/31 spam"
	expect bob "! you were banned by first (spam)"
	expect_eof bob
	# In the log's order: bob's leaving, then carol's own kick.
	expect carol "* bob was banned by first (spam)"
	expect carol "! you were banned by first (spam)"
	expect_eof carol
	expect first "* bob was banned by first (spam)"
	expect first "* carol was banned by first (spam)"
	expect first "* banned 127.0.0.2/31"
	expect dave "* bob was banned by first (spam)"
	expect dave "* carol was banned by first (spam)"
	refused_from x 127.0.0.2
	refused_from y 127.0.0.3
	say first "/bans"
	expect first "* 1 ban"
	expect first "* 127.0.0.2/31 - spam"
	# A single address, no reason; the operator's own is refused.
	say first "/ban 127.0.0.4"
	expect dave "! you were banned by first"
	expect_eof dave
	expect first "* dave was banned by first"
	expect first "* banned 127.0.0.4"
	say first "/ban 127.0.0.0/24"
	expect first "! you cannot ban yourself: 127.0.0.0/24 holds your address"
	say first "/unban 127.0.0.2"
	expect first "! not banned: 127.0.0.2 (it is in 127.0.0.2/31: /unban 127.0.0.2/31)"
	say first "/unban 127.0.0.2/31"
	expect first "* unbanned 127.0.0.2/31"
	say first "/bans"
	expect first "* 1 ban"
	expect first "* 127.0.0.4 -"
	login_from bob 127.0.0.2
	expect first "* bob joined lobby"
	refused_from z 127.0.0.4
}

@test "bad addresses and ranges are refused, and nothing is banned" {
	start_chatd
	login first
	say first "/ban 10.0.0.0/33"
	expect first "! invalid address or range: 10.0.0.0/33"
	say first "/ban 300.1.2.3 why"
	expect first "! invalid address or range: 300.1.2.3"
	say first "/ban 2bob"
	expect first "! invalid address or range: 2bob"
	say first "/ban fe80::1::2"
	expect first "! invalid address or range: fe80::1::2"
	say first "/ban 10.0.0.0/"
	expect first "! invalid address or range: 10.0.0.0/"
	say first "/unban nonsense"
	expect first "! not banned: nonsense"
	say first "/bans"
	expect first "* 0 bans"
	ctl ban 10.0.0.0/33
	[ "$status" -eq 64 ]
	[ "${stderr%%$'\n'*}" = "chatctl: invalid address or range: 10.0.0.0/33" ]
	ctl unban 10.0.0.0/33
	[ "$status" -eq 1 ]
	[ "$stderr" = "chatctl: not banned: 10.0.0.0/33" ]
	ctl -H bans
	[ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "a connection choosing its name inside a range just banned is refused as it registers" {
	start_chatd
	relay_from 127.0.0.2
	login first
	connect x "${RELAY[127.0.0.2]}"
	expect x "* Welcome to chatd! 1 user online."
	expect x "Enter your name:"
	say first "/ban 127.0.0.2"
	expect first "* banned 127.0.0.2"
	say x "xavier"
	expect x "! you are banned"
	expect_eof x
	say first "/users"
	expect first "* 1 user online"
	expect first "* first (lobby) [op]"
}

@test "chatctl ban RANGE and ADDRESS; bans shows them with no name; unban" {
	start_chatd
	relay_from 127.0.0.2
	relay_from 127.0.0.3
	login first
	login_from bob 127.0.0.2
	expect first "* bob joined lobby"
	login_from carol 127.0.0.3
	expect first "* carol joined lobby"
	expect bob "* carol joined lobby"
	ctl ban 127.0.0.2/31 flooding
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
	expect bob "! you were banned by the administrator (flooding)"
	expect_eof bob
	expect carol "* bob was banned by the administrator (flooding)"
	expect carol "! you were banned by the administrator (flooding)"
	expect_eof carol
	expect first "* bob was banned by the administrator (flooding)"
	expect first "* carol was banned by the administrator (flooding)"
	ctl ban 10.9.8.7
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
	ctl bans
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "ADDRESS${T}NAME${T}REASON${T}LEFT_SECS" ]
	[ "${lines[1]}" = "127.0.0.2/31${T}-${T}flooding${T}-" ] ||
	    [ "${lines[2]}" = "127.0.0.2/31${T}-${T}flooding${T}-" ]
	[ "${lines[1]}" = "10.9.8.7${T}-${T}${T}-" ] ||
	    [ "${lines[2]}" = "10.9.8.7${T}-${T}${T}-" ]
	refused_from x 127.0.0.3
	ctl unban 127.0.0.3
	[ "$status" -eq 1 ]
	[ "$stderr" = "chatctl: not banned: 127.0.0.3 (it is in 127.0.0.2/31: unban 127.0.0.2/31)" ]
	ctl unban 127.0.0.2/31
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	login_from carol 127.0.0.3
	expect first "* carol joined lobby"
}

@test "--ipv6-prefix: /ban NAME of an IPv6 user bans its prefix, shown as a range" {
	have_ipv6_loopback || skip "no IPv6 loopback (::1)"
	start_chatd -l ::1 --ipv6-prefix 120
	wait_for "$TIMEOUT" grep -q 'listening on ::1 port' "$LOG"
	login first
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	say bob bob
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect first "* bob joined lobby"
	say first "/ban bob"
	expect bob "! you were banned by first"
	expect first "* bob was banned by first"
	say first "/bans"
	expect first "* 1 ban"
	expect first "* ::/120 bob"
	connect6 y
	expect y "! you are banned"
	expect_eof y
	say first "/unban ::/120"
	expect first "* unbanned ::/120"
}

@test "--ipv6-prefix: 1 to 128, in chatd.conf too; live on SIGHUP" {
	run "$CHATD" --ipv6-prefix 0 -t
	[ "$status" -eq 64 ]
	[[ $output == *"--ipv6-prefix: 0 is out of range (1 to 128)"* ]]
	run "$CHATD" --ipv6-prefix 129 -t
	[ "$status" -eq 64 ]
	printf 'ipv6-prefix = 200\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$CHATD" -f "$BATS_TEST_TMPDIR/bad.conf" -t
	[ "$status" -eq 78 ]
	[[ $output == *"bad.conf:1: ipv6-prefix: 200 is out of range (1 to 128)"* ]]
	have_ipv6_loopback || skip "no IPv6 loopback (::1)"
	CONF=$BATS_TEST_TMPDIR/chatd.conf
	printf 'ipv6-prefix = 128\n' >"$CONF"
	start_chatd -f "$CONF" -l ::1
	wait_for "$TIMEOUT" grep -q 'listening on ::1 port' "$LOG"
	login first
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	expect bob "Enter your name:"
	say bob bob
	expect bob "* Hello, bob! You are in lobby. Type /help for commands."
	expect first "* bob joined lobby"
	say first "/ban bob"
	expect first "* bob was banned by first"
	say first "/bans"
	expect first "* 1 ban"
	expect first "* ::1 bob"
	say first "/unban ::1"
	expect first "* unbanned ::1"
	printf 'ipv6-prefix = 96\n' >"$CONF"
	kill -HUP "$CHATD_PID"
	wait_for "$TIMEOUT" grep -q 'SIGHUP: settings re-read' "$LOG"
	connect6 carol
	expect carol "* Welcome to chatd! 1 user online."
	expect carol "Enter your name:"
	say carol carol
	expect carol "* Hello, carol! You are in lobby. Type /help for commands."
	expect first "* carol joined lobby"
	say first "/ban carol"
	expect first "* carol was banned by first"
	say first "/bans"
	expect first "* 1 ban"
	expect first "* ::/96 carol"
}

@test "--max-per-address counts one IPv4 address: other addresses are not counted" {
	start_chatd --max-per-address 1
	relay_from 127.0.0.2
	relay_from 127.0.0.3
	login first
	login_from bob 127.0.0.2
	expect first "* bob joined lobby"
	login_from carol 127.0.0.3
	expect first "* carol joined lobby"
	connect x "${RELAY[127.0.0.2]}"
	expect x "! too many connections from your address"
	expect_eof x
}

@test "--max-per-address counts one IPv6 prefix" {
	have_ipv6_loopback || skip "no IPv6 loopback (::1)"
	# ::1 is the one IPv6 address loopback has: unit_ban shows that a
	# /64 holds its neighbours; here the limit counts the prefix of ::1.
	start_chatd -l ::1 --max-per-address 1 --ipv6-prefix 1
	wait_for "$TIMEOUT" grep -q 'listening on ::1 port' "$LOG"
	login first
	connect6 bob
	expect bob "* Welcome to chatd! 1 user online."
	connect6 x
	expect x "! too many connections from your address"
	expect_eof x
}

@test "/ban -t DURATION: the time left in /bans and chatctl bans; gone once expired" {
	start_chatd
	relay_from 127.0.0.2
	login first
	login_from bob 127.0.0.2
	expect first "* bob joined lobby"
	# Exactly as /ban NAME REASON, but for a while.
	say first "/ban -t 3s bob spamming"
	expect bob "! you were banned by first (spamming)"
	expect_eof bob
	expect first "* bob was banned by first (spamming)"
	say first "/ban -t 2h30m 10.1.0.0/16"
	expect first "* banned 10.1.0.0/16"
	say first "/bans"
	expect first "* 2 bans"
	next_line first
	a=$LINE
	next_line first
	b=$LINE
	[[ $a =~ ^\*\ 127\.0\.0\.2\ bob\ \([1-3]s\ left\)\ spamming$ ]] ||
	    [[ $b =~ ^\*\ 127\.0\.0\.2\ bob\ \([1-3]s\ left\)\ spamming$ ]]
	[[ $a =~ ^\*\ 10\.1\.0\.0/16\ -\ \(2h(29|30)m\ left\)$ ]] ||
	    [[ $b =~ ^\*\ 10\.1\.0\.0/16\ -\ \(2h(29|30)m\ left\)$ ]]
	ctl -H bans
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} =~ ^127\.0\.0\.2${T}bob${T}spamming${T}[1-3]$ ]] ||
	    [[ ${lines[1]} =~ ^127\.0\.0\.2${T}bob${T}spamming${T}[1-3]$ ]]
	[[ ${lines[0]} =~ ^10\.1\.0\.0/16${T}-${T}${T}(89[0-9][0-9]|9000)$ ]] ||
	    [[ ${lines[1]} =~ ^10\.1\.0\.0/16${T}-${T}${T}(89[0-9][0-9]|9000)$ ]]
	refused_from x 127.0.0.2
	# Expired: the next connection is let in, and no list shows it.
	wait_for "$TIMEOUT" admitted_from 127.0.0.2
	say first "/bans"
	expect first "* 1 ban"
	expect_re first '^\* 10\.1\.0\.0/16 - \(2h(29|30)m left\)$'
	ctl -H bans
	[ "${#lines[@]}" -eq 1 ]
	ctl status
	[[ $output == *"bans${T}1"* ]]
}

@test "chatctl ban -t DURATION NAME|ADDRESS [REASON]" {
	start_chatd
	login first
	login alice
	expect first "* alice joined lobby"
	ctl ban -t 90s alice too loud
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
	expect alice "! you were banned by the administrator (too loud)"
	expect_eof alice
	expect first "* alice was banned by the administrator (too loud)"
	ctl ban -t 1w 192.0.2.0/24
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	ctl -H bans
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} =~ ^127\.0\.0\.1${T}alice${T}too\ loud${T}(8[89]|90)$ ]] ||
	    [[ ${lines[1]} =~ ^127\.0\.0\.1${T}alice${T}too\ loud${T}(8[89]|90)$ ]]
	[[ ${lines[0]} =~ ^192\.0\.2\.0/24${T}-${T}${T}60479[89]|604800$ ]] ||
	    [[ ${lines[1]} =~ ^192\.0\.2\.0/24${T}-${T}${T}(60479[89]|604800)$ ]]
	say first "/bans"
	expect first "* 2 bans"
	next_line first
	a=$LINE
	next_line first
	b=$LINE
	[[ $a =~ ^\*\ 127\.0\.0\.1\ alice\ \((1m(2[89]|30)s)\ left\)\ too\ loud$ ]] ||
	    [[ $b =~ ^\*\ 127\.0\.0\.1\ alice\ \((1m(2[89]|30)s)\ left\)\ too\ loud$ ]]
	[[ $a =~ ^\*\ 192\.0\.2\.0/24\ -\ \((6d23h|1w)\ left\)$ ]] ||
	    [[ $b =~ ^\*\ 192\.0\.2\.0/24\ -\ \((6d23h|1w)\ left\)$ ]]
}

@test "bad durations are refused with a clear error, and nothing is banned" {
	start_chatd
	login first
	login alice
	expect first "* alice joined lobby"
	local hint="e.g. 90s, 30m, 12h, 7d, 2w or 1h30m, at most 3650d"
	say first "/ban -t 90 alice"
	expect first "! bad duration: 90 (a unit (s, m, h, d or w) must follow each number; $hint)"
	say first "/ban -t 30m1h alice"
	expect first "! bad duration: 30m1h (each unit once, the largest first; $hint)"
	say first "/ban -t 5y alice"
	expect first "! bad duration: 5y (the units are s, m, h, d and w; $hint)"
	say first "/ban -t 0s alice"
	expect first "! bad duration: 0s (zero; $hint)"
	say first "/ban -t 3651d alice"
	expect first "! bad duration: 3651d (too long; $hint)"
	say first "/ban -t 1h"
	expect first "! usage: /ban [-t DURATION] NAME|ADDRESS [REASON]"
	say first "/ban -t"
	expect first "! usage: /ban [-t DURATION] NAME|ADDRESS [REASON]"
	say first "/ban -x 1h alice"
	expect first "! usage: /ban [-t DURATION] NAME|ADDRESS [REASON]"
	say first "/bans"
	expect first "* 0 bans"
	ctl ban -t 90 alice
	[ "$status" -eq 64 ]
	[ "${stderr%%$'\n'*}" = "chatctl: bad duration: 90 (a unit (s, m, h, d or w) must follow each number; $hint)" ]
	ctl ban -t 1h
	[ "$status" -eq 64 ]
	[ "$stderr" = "usage: chatctl ban [-t DURATION] NAME|ADDRESS [REASON]" ]
	ctl -H bans
	[ "$status" -eq 0 ] && [ -z "$output" ]
	say alice "still here"
	expect first "<alice> still here"
}

@test "--state-dir: an expiring ban keeps its end across a restart; an expired one is gone" {
	start_chatd --state-dir "$STATE"
	login first
	ctl ban -t 1h 10.1.2.3 long
	ctl ban -t 2s 10.9.9.9 short
	ctl ban 10.5.5.5 for ever
	grep -qxP 'b2\t10\.1\.2\.3\t\tlong\t[0-9]+\t[0-9a-f]{8}' "$STATE/bans"
	grep -qxP 'b2\t10\.9\.9\.9\t\tshort\t[0-9]+\t[0-9a-f]{8}' "$STATE/bans"
	grep -qxP 'b1\t10\.5\.5\.5\t\tfor ever\t[0-9a-f]{8}' "$STATE/bans"
	end=$(grep -P '^b2\t10\.1\.2\.3\t' "$STATE/bans" | cut -f 5)
	[ "$end" -gt "$(date +%s)" ]
	wait_for "$TIMEOUT" eval '[ "$(date +%s)" -ge "$(grep -P "^b2\t10\.9" "$STATE/bans" | cut -f 5)" ]'
	local instance=$INSTANCE
	stop_chatd
	start_chatd -n "$instance" --state-dir "$STATE"
	INSTANCE=$instance
	wait_for "$TIMEOUT" grep -qF "loaded 2 bans from $STATE/bans; 1 expired" "$LOG"
	# Rewritten without it; the other keeps its end.
	[ "$(wc -l < "$STATE/bans")" -eq 2 ]
	[ "$(grep -P '^b2\t10\.1\.2\.3\t' "$STATE/bans" | cut -f 5)" = "$end" ]
	[ ! -e "$STATE/bans.bad" ]
	ctl -H bans
	[ "${#lines[@]}" -eq 2 ]
	login first
	say first "/bans"
	expect first "* 2 bans"
}

@test "--state-dir: a ban in force still refuses after a restart, until it expires" {
	start_chatd --state-dir "$STATE"
	login first
	login alice
	expect first "* alice joined lobby"
	say first "/ban -t 3s alice"
	expect first "* alice was banned by first"
	local instance=$INSTANCE
	stop_chatd
	start_chatd -n "$instance" --state-dir "$STATE"
	INSTANCE=$instance
	refused_from x ""
	wait_for "$TIMEOUT" admitted_from ""
}

@test "a bans file of the old format loads: its bans are permanent; bad expiry times are skipped" {
	mkdir -m 700 "$STATE"
	{
		state_line b1 10.1.2.3 mallory "spam"
		state_line b1 192.0.2.0/24 "" "a range"
		state_line b2 10.0.0.1 x "bad end" 0
		state_line b2 10.0.0.2 x "bad end" soon
		state_line b2 10.0.0.3/40 x "bad range" 4102444800
	} > "$STATE/bans"
	start_chatd --state-dir "$STATE"
	wait_for "$TIMEOUT" grep -qF "$STATE/bans:3: bad expiry time, skipped" "$LOG"
	grep -qF "$STATE/bans:4: bad expiry time, skipped" "$LOG"
	grep -qF "$STATE/bans:5: bad address, skipped" "$LOG"
	grep -qF "loaded 2 bans from $STATE/bans" "$LOG"
	ctl -H bans
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "10.1.2.3${T}mallory${T}spam${T}-" ]
	[ "${lines[1]}" = "192.0.2.0/24${T}-${T}a range${T}-" ]
}

# FNV-1a, 32 bits, of $1's bytes, as the state files' checksum.
fnv1a() {
	local LC_ALL=C s=$1 h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(( ((h ^ (c & 255)) * 16777619) & 0xffffffff ))
	done
	printf '%08x' "$h"
}

# A state file line: the fields joined by tabs, then the checksum.
state_line() {
	local IFS=$'\t' body
	body="$*"
	printf '%s\t%s\n' "$body" "$(fnv1a "$body")"
}
