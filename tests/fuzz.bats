#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The fuzz harnesses, replayed on their seed corpora (fuzz/README): each
# input runs once through the harness built with the configured
# compiler, so the sanitizer build checks them too. make fuzz does the
# fuzzing itself, with clang.

load helpers

corpus="$BATS_TEST_DIRNAME/../fuzz/corpus"

# Runs one harness over every file of its corpus.
replay() {
	local files=("$corpus/$1"/*)
	[ -f "${files[0]}" ] || { echo "no seed corpus for $1"; false; }
	run "$FUZZBIN/replay-$1" "${files[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "replayed ${#files[@]} inputs" ]
}

@test "line framing and telnet stripping survive their fuzz corpus" {
	replay linebuf
}

@test "text hygiene and UTF-8 repair survive their fuzz corpus" {
	replay text
}

@test "the command parser survives its fuzz corpus" {
	replay cmd
}

@test "the configuration file parser survives its fuzz corpus" {
	replay config
}

@test "the state-file line decoders survive their fuzz corpus" {
	replay state
}

@test "the ngircd dialect survives its fuzz corpus" {
	replay irc
}

@test "the PROXY protocol header parser survives its fuzz corpus" {
	replay proxy
}

@test "a replay of a file that cannot be read fails" {
	run "$FUZZBIN/replay-linebuf" "$BATS_TEST_TMPDIR/missing"
	[ "$status" -eq 1 ]
	[[ "$output" == *"/missing: No such file or directory" ]]
	run "$FUZZBIN/replay-linebuf"
	[ "$status" -eq 2 ]
}
