#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The pure parsers, tested without a server.

load helpers

@test "line framing, telnet stripping and text hygiene pass their unit tests" {
	run "$TESTBIN/unit_text"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the token bucket and the flood detector pass their unit tests" {
	run "$TESTBIN/unit_ratelimit"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the ngircd dialect parses and formats the server-to-server lines" {
	run "$TESTBIN/unit_irc"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the output backlog starts in its lent block and keeps its bytes and bound when it outgrows it" {
	run "$TESTBIN/unit_outbuf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "addresses and CIDR ranges parse, print and match" {
	run "$TESTBIN/unit_addr"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "PROXY protocol headers, v1 and v2, parse whole, split and bad" {
	run "$TESTBIN/unit_proxy"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "ban durations, the ranges --ipv6-prefix makes, and the ban index agree with a scan" {
	run "$TESTBIN/unit_ban"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}
