#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Persistence (--state-dir): room history and bans outlive a clean
# restart and a kill -9 of every chatd process; each room keeps its own
# order and --history limit; damaged lines are reported by file and
# line and skipped; a state directory that is not chatd's own stops it
# with 69; the history journal is compacted and stays bounded.
#
# A line reaches the state files before anybody is woken for it, so a
# line another client has read, a ban its target has been told of, or
# a reply to /unban is already saved.

load helpers

setup() {
	STATE=$BATS_TEST_TMPDIR/state
	HOLDER=
}

teardown() {
	[ -z "$HOLDER" ] || release_journal
	stop_chatd
	assert_no_sanitizer_report
}

# Stops the server and starts a new one on the same instance and state
# directory (extra options in $@).
restart_chatd() {
	local instance=$INSTANCE
	stop_chatd
	start_chatd -n "$instance" --state-dir "$STATE" "$@"
	INSTANCE=$instance
}

# Kills the listener and every worker with SIGKILL, by the pids this
# test started, and waits until they are all gone.
kill_all_chatd() {
	local pids pid
	local name
	pids="$CHATD_PID $(pgrep -P "$CHATD_PID" | tr '\n' ' ')"
	kill -KILL $pids
	for pid in $pids; do
		wait_for "$TIMEOUT" not_running "$pid"
	done
	wait "$CHATD_PID" 2>/dev/null || true
	CHATD_PID=
	close_clients
}

# Whether the history journal is smaller than $1 bytes.
journal_under() {
	[ "$(stat -c %s "$STATE/history")" -lt "$1" ]
}

# A new connection is refused as banned, before any prompt.
expect_refused() {
	connect "$1"
	expect "$1" "! you are banned"
	expect_eof "$1"
	disconnect "$1"
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

# The log says $1 (a fixed string), or will soon: the state is loaded
# after "listening on" is logged.
log_has() {
	wait_for "$TIMEOUT" grep -qF -- "$1" "$LOG" || {
		echo "not in the log: $1" >&2
		cat "$LOG" >&2
		return 1
	}
}

@test "history survives a clean restart, rooms and spelling included" {
	start_chatd --state-dir "$STATE"
	[ "$(stat -c %a "$STATE")" = 700 ]
	login_all first alice
	say alice "hi"
	expect first "<alice> hi"
	say alice "/me waves	with a tab \\o/"
	expect first "* alice waves	with a tab \\o/"
	say alice "/join Dev"
	expect alice "* you are now in Dev (1 user)"
	say alice "in dev"
	barrier alice
	restart_chatd
	log_has "loaded 3 history lines in 2 rooms from $STATE/history"
	login bob
	expect bob "* history: last 2 messages in lobby"
	expect_hist bob "<alice> hi"
	expect_hist bob "* alice waves	with a tab \\o/"
	expect bob "* end of history"
	say bob "/join dev"
	expect bob "* you are now in Dev (1 user)"
	expect bob "* history: last 1 message in Dev"
	expect_hist bob "<alice> in dev"
	expect bob "* end of history"
	barrier bob
}

@test "each room keeps its own order and --history limit across a restart" {
	start_chatd --state-dir "$STATE" --history 3
	login_all first alice
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	expect first "* alice left lobby"
	for i in 1 2 3 4 5; do
		say first "lobby $i"
		[ "$i" -gt 3 ] || say alice "dev $i"
	done
	barrier first
	barrier alice
	restart_chatd --history 3
	login bob
	expect bob "* history: last 3 messages in lobby"
	expect_hist bob "<first> lobby 3"
	expect_hist bob "<first> lobby 4"
	expect_hist bob "<first> lobby 5"
	expect bob "* end of history"
	say bob "/join dev"
	expect bob "* you are now in dev (1 user)"
	expect bob "* history: last 3 messages in dev"
	expect_hist bob "<alice> dev 1"
	expect_hist bob "<alice> dev 2"
	expect_hist bob "<alice> dev 3"
	expect bob "* end of history"
	barrier bob
	# Loading compacted the journal to the kept lines.
	[ "$(wc -l < "$STATE/history")" -eq 6 ]
	# Lines added after the restart follow the loaded ones.
	say bob "dev 4"
	barrier bob
	restart_chatd --history 3
	login carol
	expect carol "* history: last 3 messages in lobby"
	expect_eventually carol "* end of history"
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect carol "* history: last 3 messages in dev"
	expect_hist carol "<alice> dev 2"
	expect_hist carol "<alice> dev 3"
	expect_hist carol "<bob> dev 4"
	expect carol "* end of history"
}

@test "a ban survives a clean restart; the bans file has one checksummed line" {
	start_chatd --state-dir "$STATE"
	login_all first bob
	say first "/ban bob spamming"
	expect bob "! you were banned by first (spamming)"
	expect_eof bob
	grep -qxP 'b1\t127\.0\.0\.1\tbob\tspamming\t[0-9a-f]{8}' "$STATE/bans"
	[ "$(wc -l < "$STATE/bans")" -eq 1 ]
	[ "$(stat -c %a "$STATE/bans")" = 600 ]
	restart_chatd
	log_has "loaded 1 ban from $STATE/bans"
	expect_refused x
}

@test "/unban persists" {
	start_chatd --state-dir "$STATE"
	login_all first bob
	say first "/ban bob"
	expect bob "! you were banned by first"
	[ "$(wc -l < "$STATE/bans")" -eq 1 ]
	say first "/unban 127.0.0.1"
	expect first "* bob was banned by first"
	expect first "* unbanned 127.0.0.1"
	[ ! -s "$STATE/bans" ]
	restart_chatd
	login carol
}

@test "history and bans survive kill -9 of the listener and every worker" {
	start_chatd --state-dir "$STATE"
	login_all first alice
	say alice "before the crash"
	expect first "<alice> before the crash"
	say alice "/join dev"
	expect alice "* you are now in dev (1 user)"
	say alice "/me is in dev"
	barrier alice
	kill_all_chatd
	[ -e "/dev/shm/chatd.$INSTANCE" ]
	restart_chatd
	login bob
	expect bob "* history: last 1 message in lobby"
	expect_hist bob "<alice> before the crash"
	expect bob "* end of history"
	login carol
	expect bob "* carol joined lobby"
	expect carol "* history: last 1 message in lobby"
	expect_hist carol "<alice> before the crash"
	expect carol "* end of history"
	say bob "/ban carol"
	expect carol "! you were banned by bob"
	kill_all_chatd
	restart_chatd
	expect_refused x
	stop_chatd
	assert_clean
}

@test "a cut last line and a damaged middle line are reported and skipped" {
	start_chatd --state-dir "$STATE"
	login_all first alice
	for i in 1 2 3 4; do
		say alice "line $i"
		expect first "<alice> line $i"
	done
	stop_chatd
	cp "$STATE/history" "$BATS_TEST_TMPDIR/orig"
	sed -i '2s/line 2/line X/' "$STATE/history"
	truncate -s -4 "$STATE/history"
	restart_chatd
	log_has "$STATE/history:2: bad checksum, skipped"
	log_has "$STATE/history:4: truncated line, skipped"
	log_has "$STATE/history had bad lines: kept as history.bad"
	login bob
	expect bob "* history: last 2 messages in lobby"
	expect_hist bob "<alice> line 1"
	expect_hist bob "<alice> line 3"
	expect bob "* end of history"
	barrier bob
	# The damaged file is kept for the admin; the journal is clean.
	[ "$(wc -l < "$STATE/history.bad")" -eq 3 ]
	[ "$(wc -l < "$STATE/history")" -eq 2 ]
	restart_chatd
	run grep -c 'skipped' "$LOG"
	[ "$output" = 0 ]
}

@test "bans written by hand load; damaged and bad lines are reported" {
	mkdir -m 700 "$STATE"
	{
		state_line b1 10.1.2.3 mallory "spam, spam"
		state_line b1 10.9.9.9 eve "bad checksum" | sed 's/eve/Eve/'
		state_line b1 "" nobody "no address"
		state_line b1 2001:db8::1 trudy ""
		state_line b3 10.0.0.1 x "a later format"
		state_line b1 10.0.0.2 "tab\\there" "escaped tab\\\\"
		printf 'no checksum at all\n'
		state_line b1 '\x0010.0.0.3' nul "an escaped NUL"
	} > "$STATE/bans"
	start_chatd --state-dir "$STATE"
	log_has "$STATE/bans:2: bad checksum, skipped"
	log_has "$STATE/bans:3: bad address, skipped"
	log_has "$STATE/bans:5: unknown record type, skipped"
	log_has "$STATE/bans:7: no checksum, skipped"
	log_has "$STATE/bans:8: bad address, skipped"
	log_has "loaded 3 bans from $STATE/bans"
	login first
	say first "/bans"
	expect first "* 3 bans"
	expect first "* 10.1.2.3 mallory spam, spam"
	expect first "* 2001:db8::1 trudy"
	expect first "* 10.0.0.2 tab	here escaped tab\\"
	# Rewritten without the bad lines, the old file kept aside.
	[ "$(wc -l < "$STATE/bans")" -eq 3 ]
	[ "$(wc -l < "$STATE/bans.bad")" -eq 8 ]
	say first "/unban 10.1.2.3"
	expect first "* unbanned 10.1.2.3"
	restart_chatd
	log_has "loaded 2 bans from $STATE/bans"
}

@test "history written by hand: bad fields are reported, rooms over --max-rooms dropped" {
	mkdir -m 700 "$STATE"
	{
		state_line h1 5 1700000000 chat lobby "<a> five"
		state_line h1 x 1700000000 chat lobby "<a> bad seq"
		state_line h1 6 1700000000 shout lobby "<a> bad kind"
		state_line h1 7 1700000000 chat "no room" "<a> bad room"
		state_line h1 8 1700000000 chat lobby "bad \\q escape"
		state_line h1 2 1700000000 me lobby "* a two"
		state_line h1 3 1700000000 chat old "<a> oldest room"
		state_line h1 9 1700000000 chat new "<a> newest room"
		state_line h1 4 1700000000 chat lobby
	} > "$STATE/history"
	start_chatd --state-dir "$STATE" --max-rooms 2
	log_has "$STATE/history:2: bad sequence number, skipped"
	log_has "$STATE/history:3: bad kind, skipped"
	log_has "$STATE/history:4: bad room name, skipped"
	log_has "$STATE/history:5: bad text, skipped"
	log_has "$STATE/history:9: wrong number of fields, skipped"
	log_has "$STATE/history: no room for old (--max-rooms 2): its 1 lines are dropped"
	login first
	expect first "* history: last 2 messages in lobby"
	expect_hist first "* a two"
	expect_hist first "<a> five"
	expect first "* end of history"
	say first "/join new"
	expect first "* you are now in new (1 user)"
	expect first "* history: last 1 message in new"
	expect_hist first "<a> newest room"
	expect first "* end of history"
	# The dropped room has no history.
	say first "/leave"
	expect first "* you are now in lobby (1 user)"
	expect first "* history: last 2 messages in lobby"
	expect_eventually first "* end of history"
	say first "/join old"
	expect first "* you are now in old (1 user)"
	barrier first
}

@test "a state file that cannot be read is reported, left alone, and chatd runs" {
	mkdir -m 700 "$STATE" "$STATE/history"
	start_chatd --state-dir "$STATE"
	log_has "$STATE/history: not a regular file; skipped"
	login_all first alice
	say alice "still works"
	expect first "<alice> still works"
	log_has "$STATE/history: not saved"
	[ -d "$STATE/history" ]
}

@test "a bans file that cannot be read is never saved over" {
	# A FIFO: root reads any mode, but a rename would replace this.
	mkdir -m 700 "$STATE"
	mkfifo -m 600 "$STATE/bans"
	start_chatd --state-dir "$STATE"
	log_has "$STATE/bans: not a regular file; skipped"
	login_all first bob
	say first "/ban bob"
	expect first "* bob was banned by first"
	log_has "$STATE/bans could not be read at start: bans are not saved over it"
	[ -p "$STATE/bans" ]
	run ! ls "$STATE/bans.tmp"
}

# Starts chatd expecting it to refuse the state directory.
expect_bad_statedir() {
	local rundir=$BATS_TEST_TMPDIR/run instance=bad$$.$RANDOM
	mkdir -p -m 700 "$rundir"
	# A chatd that wrongly starts is stopped (SIGTERM) by timeout.
	run timeout 10 "$CHATD" -p 0 -l 127.0.0.1 -n "$instance" \
	    --run-dir "$rundir" --state-dir "$1"
	[ "$status" -eq 69 ]
	[[ $output == *"state directory $1: $2"* ]] || {
		echo "got: $output" >&2
		return 1
	}
	[ ! -e "/dev/shm/chatd.$instance" ]
}

@test "a state directory that is a file, not ours, or writable by others: exit 69" {
	touch "$BATS_TEST_TMPDIR/file"
	expect_bad_statedir "$BATS_TEST_TMPDIR/file" "not a directory"
	mkdir -m 777 "$BATS_TEST_TMPDIR/open"
	expect_bad_statedir "$BATS_TEST_TMPDIR/open" "not chatd's own"
	mkdir -m 720 "$BATS_TEST_TMPDIR/group"
	expect_bad_statedir "$BATS_TEST_TMPDIR/group" "not chatd's own"
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -m 700 "$BATS_TEST_TMPDIR/theirs"
		chown nobody "$BATS_TEST_TMPDIR/theirs"
		expect_bad_statedir "$BATS_TEST_TMPDIR/theirs" "not chatd's own"
	fi
	expect_bad_statedir "$BATS_TEST_TMPDIR/none/state" \
	    "No such file or directory"
}

@test "the journal is compacted under many lines and keeps every room's history" {
	start_chatd --state-dir "$STATE" --history 50
	login_all alice bob
	say bob "/join dev"
	expect bob "* you are now in dev (1 user)"
	expect alice "* bob left lobby"
	# Two writers at once, 600 lines of about 900 bytes each: 1 MB.
	local pad
	printf -v pad '%*s' 880 ''
	pad=${pad// /x}
	printf "lobby %d $pad\\n" {1..600} >&"${FD[alice]}"
	printf "dev %d $pad\\n" {1..600} >&"${FD[bob]}"
	barrier alice
	barrier bob
	log_has "compacted $STATE/history"
	# Bound: 4 times the 100 kept lines of under 1000 bytes; 1.1 MB
	# were written. A compaction that found the other writer's lock
	# is tried again 50 ms later, not waited for: hence wait_for.
	wait_for "$TIMEOUT" journal_under 400000
	restart_chatd --history 50
	login carol
	expect carol "* history: last 50 messages in lobby"
	for i in $(seq 551 600); do
		expect_hist carol "<alice> lobby $i $pad"
	done
	expect carol "* end of history"
	say carol "/join dev"
	expect carol "* you are now in dev (1 user)"
	expect carol "* history: last 50 messages in dev"
	for i in $(seq 551 600); do
		expect_hist carol "<bob> dev $i $pad"
	done
	expect carol "* end of history"
	[ "$(wc -l < "$STATE/history")" -eq 100 ]
}

@test "bans and unbans made with chatctl persist too" {
	: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"
	start_chatd --state-dir "$STATE"
	login_all first bob
	run timeout 30 "$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" \
	    ban bob flooding
	[ "$status" -eq 0 ]
	expect bob "! you were banned by the administrator (flooding)"
	grep -qxP 'b1\t127\.0\.0\.1\tbob\tflooding\t[0-9a-f]{8}' "$STATE/bans"
	restart_chatd
	expect_refused x
	run timeout 30 "$CHATCTL" -n "$INSTANCE" --run-dir "$RUNDIR" \
	    unban 127.0.0.1
	[ "$status" -eq 0 ]
	[ ! -s "$STATE/bans" ]
	restart_chatd
	login carol
}

# A compactor's exclusive lock on the journal (or on $1), as a stopped
# one, or one on a slow disk, would hold it: held by a process of ours
# until killed. Sets HOLDER.
hold_journal() {
	rm -f "$BATS_TEST_TMPDIR/locked"
	(
		exec 9<"${1:-$STATE/history}"
		flock -x 9
		touch "$BATS_TEST_TMPDIR/locked"
		exec sleep 60
	) &
	HOLDER=$!
	wait_for "$TIMEOUT" test -e "$BATS_TEST_TMPDIR/locked"
}

release_journal() {
	kill "$HOLDER"
	wait "$HOLDER" || true
	HOLDER=
}

@test "a journal being compacted holds up nobody's chat; the lines are saved after" {
	start_chatd --state-dir "$STATE"
	login_all alice bob
	say alice "before"
	expect bob "<alice> before"
	hold_journal
	# Before, alice's worker waited for the lock before waking bob.
	say alice "during"
	TIMEOUT=2 expect bob "<alice> during"
	say bob "meanwhile"
	TIMEOUT=2 expect alice "<bob> meanwhile"
	! grep -q during "$STATE/history"
	release_journal
	# Kept, and written with alice's next line, in order.
	say alice "after"
	expect bob "<alice> after"
	wait_for "$TIMEOUT" grep -q after "$STATE/history"
	grep -q meanwhile "$STATE/history"
	[ "$(grep -o -e before -e during -e after "$STATE/history" |
	    tr '\n' ' ')" = "before during after " ]
}

@test "a worker leaving while the journal stays locked waits a second, then says so" {
	start_chatd --state-dir "$STATE"
	login_all alice bob
	say alice "first"
	expect bob "<alice> first"
	hold_journal
	say alice "last words"
	expect bob "<alice> last words"
	say alice "/quit"
	expect alice "* Goodbye, alice."
	expect bob "* alice quit"
	grep -q "history: .* bytes of lines not saved: the journal stayed locked" "$LOG"
	release_journal
	! grep -q "last words" "$STATE/history"
}

@test "a ban while the state directory's lock is held: nobody waits, the ban is saved after" {
	start_chatd --state-dir "$STATE"
	login_all first bob carol
	: >"$STATE/lock"
	hold_journal "$STATE/lock"
	# Before, first's worker waited for the lock to save the bans file.
	say first "/ban bob spamming"
	TIMEOUT=2 expect bob "! you were banned by first (spamming)"
	TIMEOUT=2 expect first "* bob was banned by first (spamming)"
	say carol "still there?"
	TIMEOUT=2 expect first "<carol> still there?"
	[ ! -s "$STATE/bans" ]
	release_journal
	wait_for "$TIMEOUT" grep -qxP \
	    'b1\t127\.0\.0\.1\tbob\tspamming\t[0-9a-f]{8}' "$STATE/bans"
}
