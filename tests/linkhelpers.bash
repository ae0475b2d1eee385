# SPDX-License-Identifier: ISC
# Shared by the tests of the link (LINK.md): link.bats, linksplit.bats
# and linkbad.bats load it after helpers.bash.
#
# A test starts a hub, a real ngircd on a free port of 127.0.0.1
# (start_hub), and one or two chatd leaves linked to it (start_leaf a,
# start_leaf b: servers a.chatd.test and b.chatd.test, each with its
# own port, instance and log). `leaf a` makes leaf a the one that the
# helpers of helpers.bash (login, connect, worker_pid...) talk to.
# People on the IRC side are scripted IRC clients (irc_connect carol:
# raw IRC through a socat process, PINGs answered) or ii, a real IRC
# client driven through its files. linkbad.bats puts a fake hub in
# ngircd's place: a socat listening on a port, whose lines the test
# reads and writes itself.
#
# Every wait is bounded; teardown stops every process a test started,
# by its pid.

: "${CHATCTL:=$BATS_TEST_DIRNAME/../src/chatctl}"
: "${NGIRCD:=ngircd}"

T=$'\t'
HUB_NAME=hub.test
# ngircd 26's password for its IRC operator (an [Operator] block).
HUB_OPER_PASSWORD=opsecret
# The longest wait for a link to come back: its first retry is 10 s
# after the loss, the next 20 s later (LINK.md).
LINK_TIMEOUT=${LINK_TIMEOUT:-40}

declare -gA LEAF_PID LEAF_PORT LEAF_LOG LEAF_INSTANCE LEAF_LINK
declare -gA SR SW SPID
declare -ga II_PIDS=()
# Processes a test stopped with SIGSTOP: teardown continues them.
declare -ga STOPPED_PIDS=()
# Other processes a test started (a super-server): teardown stops them.
declare -ga EXTRA_PIDS=()
HUB_PID=
HUB_STOPPED=

# Writes the hub's ngircd.conf: a [Server] block for each leaf a and b
# (and any other names given), an IRC operator, nicks as long as chatd
# keeps (31), and no limit on connections from 127.0.0.1.
hub_conf() {
	local id
	cat <<-EOF
	[Global]
	Name = $HUB_NAME
	Info = chatd test hub
	Listen = 127.0.0.1
	Ports = $HUB_PORT
	MotdPhrase = chatd test hub
	[Limits]
	MaxNickLength = 31
	MaxConnectionsIP = 0
	[Options]
	PAM = no
	Ident = no
	DNS = no
	[Operator]
	Name = root
	Password = $HUB_OPER_PASSWORD
	EOF
	for id in a b "$@"; do
		cat <<-EOF
		[Server]
		Name = $id.chatd.test
		MyPassword = $id-to-hub
		PeerPassword = hub-to-$id
		Passive = yes
		EOF
	done
}

# Whether the hub listens on its port, or has died trying.
hub_ready() {
	grep -q "Now listening on \[127.0.0.1\]:$HUB_PORT " "$HUB_LOG" ||
	    not_running "$HUB_PID"
}

# Starts ngircd in the foreground on HUB_PORT with the configuration
# written before; HUB_PID, and HUB_LOG a new file. Fails if it does
# not listen.
run_hub() {
	HUB_RUNS=$((${HUB_RUNS:-0} + 1))
	HUB_LOG=$HUB_DIR/ngircd.$HUB_RUNS.log
	"$NGIRCD" -n -f "$HUB_DIR/ngircd.conf" >"$HUB_LOG" 2>&1 &
	HUB_PID=$!
	wait_for "$TIMEOUT" hub_ready && ! not_running "$HUB_PID" && return 0
	wait "$HUB_PID" 2>/dev/null || true
	HUB_PID=
	return 1
}

# Starts the hub on a free port (HUB_PORT), trying another one if
# somebody took it first. Names given have [Server] blocks too. As
# root ngircd runs as nobody, once it has read its configuration: it
# writes nothing, so its directory may stay the test's own.
start_hub() {
	local try port=${PORT:-} instance=${INSTANCE:-}
	need "$NGIRCD" ngircd || return 1
	HUB_DIR=$BATS_TEST_TMPDIR/hub
	mkdir -p "$HUB_DIR"
	for try in 1 2 3 4 5; do
		pick_port
		HUB_PORT=$PORT
		hub_conf "$@" >"$HUB_DIR/ngircd.conf"
		if run_hub; then
			PORT=$port
			INSTANCE=$instance
			return 0
		fi
	done
	cat "$HUB_LOG" >&2
	return 1
}

# Starts the hub again on its port after stop_hub or kill_hub.
restart_hub() {
	run_hub || {
		cat "$HUB_LOG" >&2
		return 1
	}
}

# Kills the hub with SIGKILL, as a crash would.
kill_hub() {
	# The braces keep bash's "Killed" notice out of the test's output.
	{
		kill -KILL "$HUB_PID"
		wait "$HUB_PID" || true
	} 2>/dev/null
	HUB_PID=
}

stop_hub() {
	[ -n "$HUB_PID" ] || return 0
	if [ -n "$HUB_STOPPED" ]; then
		kill -CONT "$HUB_PID" 2>/dev/null || true
		HUB_STOPPED=
	fi
	stop_pid 10 "$HUB_PID"
	HUB_PID=
}

# The hub logged that server $1 registered (its $2th time, default 1).
hub_saw_server() {
	[ "$(grep -c "Server \"$1\" registered" "$HUB_LOG")" -ge "${2:-1}" ]
}

# Starts chatd as leaf $1 (server $1.chatd.test) linked to the hub or
# to 127.0.0.1:$LINK_PORT when set (a fake hub), with the passwords of
# the hub's [Server] block for it and the options given. Leaf $1 is
# then the current one (see leaf).
start_leaf() {
	local id=$1 pw=$BATS_TEST_TMPDIR/$1.link-password
	shift
	printf '%s\n%s\n' "$id-to-hub" "hub-to-$id" >"$pw"
	chmod 600 "$pw"
	LEAF_LINK[$id]=127.0.0.1:${LINK_PORT:-$HUB_PORT}
	start_chatd --link="${LEAF_LINK[$id]}" --server-name="$id.chatd.test" \
	    --link-password-file="$pw" "$@" || return 1
	LEAF_PID[$id]=$CHATD_PID
	LEAF_PORT[$id]=$PORT
	LEAF_LOG[$id]=$LOG
	LEAF_INSTANCE[$id]=$INSTANCE
	CURRENT_LEAF=$id
}

# Makes leaf $1 the current one: the PORT, LOG, INSTANCE and CHATD_PID
# of helpers.bash are its own. Clients connected stay where they are.
leaf() {
	CURRENT_LEAF=$1
	PORT=${LEAF_PORT[$1]}
	LOG=${LEAF_LOG[$1]}
	INSTANCE=${LEAF_INSTANCE[$1]}
	CHATD_PID=${LEAF_PID[$1]}
}

# How many times leaf $1's link logged that it came up.
link_ups() {
	grep -c "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[$1]} up (hub $HUB_NAME)\$" \
	    "${LEAF_LOG[$1]}"
}

# How many times leaf $1's link logged that it went down.
link_downs() {
	grep -c "^chatd/link\[[0-9]*\]: link to ${LEAF_LINK[$1]} down: .*; next try in [0-9]* s\$" \
	    "${LEAF_LOG[$1]}"
}

# Whether leaf $1's link came up at least $2 times (default 1).
link_up_n() {
	[ "$(link_ups "$1")" -ge "${2:-1}" ]
}

# Whether leaf $1's link went down at least $2 times (default 1).
link_down_n() {
	[ "$(link_downs "$1")" -ge "${2:-1}" ]
}

# Waits until leaf $1's link is up for the $2th time (default 1), and
# says so in chatctl status.
wait_link_up() {
	wait_for "$LINK_TIMEOUT" link_up_n "$1" "${2:-1}" || {
		echo "leaf $1's link never came up (${2:-1}):" >&2
		tail -n 20 "${LEAF_LOG[$1]}" >&2
		return 1
	}
	wait_for "$TIMEOUT" link_state_is "$1" up
}

# Starts the hub, then leaves a and b (the options given are for
# both), and waits until both links are up.
start_network() {
	start_hub || return 1
	start_leaf a "$@" || return 1
	start_leaf b "$@" || return 1
	wait_link_up a || return 1
	wait_link_up b
}

# chatctl on leaf $1: $status, $output (stdout), $stderr, $lines.
lctl() {
	local id=$1
	shift
	run --separate-stderr timeout 30 "$CHATCTL" -n "${LEAF_INSTANCE[$id]}" \
	    --run-dir "$RUNDIR" "$@"
}

# The value of key $2 in leaf $1's `chatctl -H status`.
leaf_status() {
	local out l
	out=$("$CHATCTL" -n "${LEAF_INSTANCE[$1]}" --run-dir "$RUNDIR" \
	    -H status) || return 1
	while IFS= read -r l; do
		if [ "${l%%$T*}" = "$2" ]; then
			printf '%s\n' "${l#*$T}"
			return 0
		fi
	done <<<"$out"
	return 1
}

# Whether leaf $1's chatctl status says link $2 (up, down...).
link_state_is() {
	[ "$(leaf_status "$1" link)" = "$2" ]
}

# Whether leaf $1 knows remote user $2 (chatctl users lists it with
# a server): what a user who logs in there next will not see arrive.
seen_on() {
	"$CHATCTL" -n "${LEAF_INSTANCE[$1]}" --run-dir "$RUNDIR" -H users |
	    awk -F '\t' -v n="$2" '$1 == n && $9 != "-" { f = 1 } END { exit !f }'
}

# Waits until leaf $1 knows every remote user named after it.
wait_seen() {
	local id=$1 name
	shift
	for name in "$@"; do
		wait_for "$TIMEOUT" seen_on "$id" "$name" || return 1
	done
}

# The pid of leaf $1's link process: the listener's child whose title
# is "chatd: link HOST:PORT".
link_pid() {
	local p t
	for p in $(cat /proc/"${LEAF_PID[$1]}"/task/*/children 2>/dev/null); do
		t=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		if [[ $t == "chatd: link ${LEAF_LINK[$1]}"* ]]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Whether leaf $1 has a link process other than $2.
new_link_pid() {
	local p
	p=$(link_pid "$1") && [ "$p" != "$2" ]
}

# The listener of leaf $1 and all its children (workers, the link):
# their pids, one a line, sorted.
leaf_procs() {
	{
		echo "${LEAF_PID[$1]}"
		cat /proc/"${LEAF_PID[$1]}"/task/*/children 2>/dev/null |
		    tr ' ' '\n'
	} | grep . | sort -n
}

# Lines $2... are the next lines of client $1, in any order (a listing
# whose order the protocol leaves open).
expect_set() {
	local who=$1 want got i
	shift
	got=()
	for ((i = 0; i < $#; i++)); do
		next_line "$who" || return 1
		got+=("$LINE")
	done
	want=$(printf '%s\n' "$@" | sort)
	got=$(printf '%s\n' "${got[@]}" | sort)
	if [ "$want" != "$got" ]; then
		printf '%s: expected, in any order:\n%s\n%s: got:\n%s\n' "$who" \
		    "$want" "$who" "$got" >&2
		return 1
	fi
}

# --- Streams: a socat process between two fifos and a socket ---

# Opens stream $1 through socat to socat address $2: SW[$1] is written
# to the socket, SR[$1] read from it, SPID[$1] is socat.
stream_open() {
	local name=$1 dir=$BATS_TEST_TMPDIR/streams r w
	mkdir -p "$dir"
	rm -f "$dir/$name.in" "$dir/$name.out"
	mkfifo "$dir/$name.in" "$dir/$name.out"
	socat -b 65536 STDIO "$2" <"$dir/$name.in" >"$dir/$name.out" \
	    2>>"$dir/$name.err" &
	SPID[$name]=$!
	exec {w}>"$dir/$name.in"
	exec {r}<"$dir/$name.out"
	SW[$name]=$w
	SR[$name]=$r
}

# Closes stream $1 and stops its socat.
stream_close() {
	[ -n "${SPID[$1]:-}" ] || return 0
	{ exec {SW[$1]}>&-; } 2>/dev/null || true
	{ exec {SR[$1]}<&-; } 2>/dev/null || true
	stop_pid 5 "${SPID[$1]}"
	unset "SPID[$1]" "SW[$1]" "SR[$1]"
}

close_streams() {
	local name
	for name in "${!SPID[@]}"; do
		stream_close "$name"
	done
}

# Sends line $2 on stream $1 with CRLF; fails if the other end closed.
stream_say() {
	# A peer that closed (a leaf dropping a fake hub) is a failed write
	# here, not a SIGPIPE that would end the whole test.
	(trap '' PIPE; printf '%s\r\n' "$2" >&"${SW[$1]}")
}

# Reads the next line of stream $1 into LINE (CR stripped); fails on
# timeout ($2 seconds, default $TIMEOUT) or end of file.
stream_line() {
	LINE=
	if ! IFS= read -r -t "${2:-$TIMEOUT}" -u "${SR[$1]}" LINE; then
		echo "$1: no line (timeout or end of file); partial: '$LINE'" >&2
		return 1
	fi
	LINE=${LINE%$'\r'}
}

# The other end closed stream $1: end of file within $TIMEOUT seconds,
# whatever lines come before it.
stream_eof() {
	local rc end=$((SECONDS + TIMEOUT))
	while [ "$SECONDS" -le "$end" ]; do
		rc=0
		IFS= read -r -t 1 -u "${SR[$1]}" LINE || rc=$?
		[ "$rc" -eq 1 ] && return 0
	done
	echo "$1: never closed" >&2
	return 1
}

# --- The scripted IRC client ---

# $1 as an extended regular expression that matches exactly $1 (IRC
# nicks may hold [, ], ^, {, }, | and \\).
re_quote() {
	printf '%s' "$1" | sed 's/[][\\.^$*+?(){}|/]/\\&/g'
}

# Reads the next line that client $1 gets from the hub into LINE,
# answering PINGs on the way.
irc_line() {
	while stream_line "irc.$1" "${2:-}"; do
		if [[ $LINE =~ ^PING\ (.*)$ ]]; then
			stream_say "irc.$1" "PONG ${BASH_REMATCH[1]}"
			continue
		fi
		return 0
	done
	return 1
}

# Sends IRC line $2 as client $1.
irc_say() {
	stream_say "irc.$1" "$2"
}

# The next line of IRC client $1 is exactly $2.
irc_expect() {
	irc_line "$1" || return 1
	if [ "$LINE" != "$2" ]; then
		printf 'irc %s: expected: %s\nirc %s:      got: %s\n' "$1" "$2" \
		    "$1" "$LINE" >&2
		return 1
	fi
}

# The next line of IRC client $1 matches extended regular expression $2.
irc_expect_re() {
	irc_line "$1" || return 1
	if ! [[ $LINE =~ $2 ]]; then
		printf 'irc %s: expected /%s/\nirc %s:      got: %s\n' "$1" "$2" \
		    "$1" "$LINE" >&2
		return 1
	fi
}

# Lines $2... are the next lines of IRC client $1, in any order (the
# hub's, for several users of a server that left or came).
irc_expect_set() {
	local who=$1 want got i
	shift
	got=()
	for ((i = 0; i < $#; i++)); do
		irc_line "$who" || return 1
		got+=("$LINE")
	done
	want=$(printf '%s\n' "$@" | sort)
	got=$(printf '%s\n' "${got[@]}" | sort)
	if [ "$want" != "$got" ]; then
		printf 'irc %s: expected, in any order:\n%s\nirc %s: got:\n%s\n' \
		    "$who" "$want" "$who" "$got" >&2
		return 1
	fi
}

# Skips IRC client $1's lines until one matches $2 (an extended regular
# expression), within $TIMEOUT seconds in all.
irc_wait_re() {
	local end=$((SECONDS + TIMEOUT))
	while [ "$SECONDS" -le "$end" ] && irc_line "$1"; do
		[[ $LINE =~ $2 ]] && return 0
	done
	echo "irc $1: never got /$2/" >&2
	return 1
}

# Connects IRC client $1 (nick $1) to the hub and reads up to the end
# of its welcome (the MOTD).
irc_connect() {
	stream_open "irc.$1" "TCP:127.0.0.1:$HUB_PORT" || return 1
	irc_say "$1" "NICK $1"
	irc_say "$1" "USER ${1//[^a-z]/} 0 * :$1 of the test"
	irc_wait_re "$1" "^:$(re_quote "$HUB_NAME") 376 $(re_quote "$1") "
}

# IRC client $1 joins channel $2 (with its '#'): its JOIN comes back,
# and NAMES, whose names (prefixes such as @ removed) it keeps in
# IRC_NAMES, sorted and space-separated.
irc_join() {
	local n names= re
	re="^:$(re_quote "$HUB_NAME") 353 $(re_quote "$1") . $(re_quote "$2") :(.*)\$"
	irc_say "$1" "JOIN $2"
	irc_expect_re "$1" "^:$(re_quote "$1")![^ ]+@127\.0\.0\.1 JOIN :$(re_quote "$2")\$" ||
	    return 1
	while irc_line "$1"; do
		if [[ $LINE =~ $re ]]; then
			names="$names ${BASH_REMATCH[1]}"
		elif [[ $LINE == ":$HUB_NAME 366 $1 $2 :End of NAMES list" ]]; then
			IRC_NAMES=$(for n in $names; do
				echo "${n#[~&@%+]}"
			done | sort | tr '\n' ' ')
			IRC_NAMES=${IRC_NAMES% }
			return 0
		else
			echo "irc $1: unexpected: $LINE" >&2
			return 1
		fi
	done
	return 1
}

# IRC client $1 quits with reason $2 and sees its connection closed.
irc_quit() {
	irc_say "$1" "QUIT :$2"
	irc_wait_re "$1" '^ERROR ' || return 1
	stream_eof "irc.$1" || return 1
	stream_close "irc.$1"
}

# A barrier for IRC client $1: everything the hub sent it before has
# been read once the answer to a PING of our own comes back.
irc_barrier() {
	BARRIERS=$((${BARRIERS:-0} + 1))
	irc_say "$1" "PING :barrier$BARRIERS"
	irc_expect "$1" ":$HUB_NAME PONG $HUB_NAME :barrier$BARRIERS"
}

# --- ii, a real IRC client that talks through files ---

# Starts ii as nick $1 in its own directory (II_DIR[$1]); waits until
# it is registered.
declare -gA II_DIR
ii_start() {
	need ii ii || return 1
	II_DIR[$1]=$BATS_TEST_TMPDIR/ii.$1
	mkdir -p "${II_DIR[$1]}"
	ii -s 127.0.0.1 -p "$HUB_PORT" -n "$1" -i "${II_DIR[$1]}" \
	    >>"${II_DIR[$1]}.log" 2>&1 &
	II_PIDS+=($!)
	wait_for "$TIMEOUT" ii_has "$1" "" "End of MOTD command"
}

# Whether ii $1's output file for channel $2 ("" for the server's) has
# a line whose text after the time (seconds since 1970) is exactly $3.
ii_has() {
	local f=${II_DIR[$1]}/127.0.0.1${2:+/$2}/out
	[ -f "$f" ] && cut -d " " -f 2- "$f" | grep -qxF -- "$3"
}

# Has ii $1 write line $3 into channel $2's (or the server's, "") in
# file: a command or a line to the channel.
ii_say() {
	local f=${II_DIR[$1]}/127.0.0.1${2:+/$2}/in
	wait_for "$TIMEOUT" test -p "$f" || return 1
	timeout "$TIMEOUT" sh -c 'printf "%s\n" "$1" >"$2"' sh "$3" "$f"
}

# Waits until ii $1 shows line $3 in channel $2.
ii_wait() {
	wait_for "$TIMEOUT" ii_has "$@" || {
		echo "ii $1 never showed in ${2:-the server}: $3" >&2
		cat "${II_DIR[$1]}/127.0.0.1${2:+/$2}/out" >&2
		return 1
	}
}

stop_ii() {
	local pid
	for pid in "${II_PIDS[@]}"; do
		stop_pid 5 "$pid"
	done
	II_PIDS=()
}

# --- A fake hub: a socat listening where a leaf links to ---

# Whether something listens on 127.0.0.1:$1.
listening() {
	ss -Htln "( sport = :$1 )" | grep -q .
}

# Listens on LINK_PORT (a free port, picked the first time) for one
# connection: stream "hub" is its lines.
fakehub_listen() {
	local port=${PORT:-} instance=${INSTANCE:-}
	if [ -z "${LINK_PORT:-}" ]; then
		pick_port
		LINK_PORT=$PORT
		PORT=$port
		INSTANCE=$instance
	fi
	stream_open hub \
	    "TCP-LISTEN:$LINK_PORT,bind=127.0.0.1,reuseaddr" || return 1
	wait_for "$TIMEOUT" listening "$LINK_PORT"
}

# Reads leaf $1's handshake on the fake hub: its PASS (line 1 of its
# password file, ngircd 26's version field) and SERVER lines.
fakehub_hello() {
	stream_line hub "$LINK_TIMEOUT" || return 1
	[[ $LINE =~ ^(:$1\.chatd\.test\ )?PASS\ $1-to-hub\ 0210-IRC\+\ chatd\|[^\ ]*:[^\ ]*( .*)?$ ]] || {
		echo "fake hub: not a PASS: $LINE" >&2
		return 1
	}
	stream_line hub || return 1
	[[ $LINE =~ ^(:$1\.chatd\.test\ )?SERVER\ $1\.chatd\.test\ 1\ (1\ )?:.*$ ]] || {
		echo "fake hub: not a SERVER: $LINE" >&2
		return 1
	}
}

# The fake hub answers leaf $1 as ngircd 26.1 does: its PASS (password
# $2, default the right one) and SERVER.
fakehub_welcome() {
	stream_say hub ":$HUB_NAME PASS ${2:-hub-to-$1} 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ"
	stream_say hub ":$HUB_NAME SERVER $HUB_NAME 1 :fake hub"
}

# The end of the fake hub's burst: ngircd's PING.
fakehub_burst_end() {
	stream_say hub ":$HUB_NAME PING :$HUB_NAME"
}

# The fake hub reads lines until one matches $1 (skipping the leaf's
# burst, PONGs...), within $TIMEOUT seconds.
fakehub_wait_re() {
	local end=$((SECONDS + TIMEOUT))
	while [ "$SECONDS" -le "$end" ] && stream_line hub; do
		[[ $LINE =~ $1 ]] && return 0
	done
	echo "fake hub: never got /$1/" >&2
	return 1
}

# --- chatd users and the usual network ---

# How many users registered on each leaf: the first is its operator.
declare -gA LOCALS

# What every link test needs.
link_setup() {
	need socat socat || return 1
	LOCALS=()
}

# Connects client $1 to the current leaf and registers the name $1 (or
# $2). The first user of a leaf is its operator.
net_login() {
	local name=${2:-$1}
	open_client "$1" || return 1
	say "$1" "$name"
	expect "$1" "* Hello, $name! You are in lobby. Type /help for commands." ||
	    return 1
	if [ "${LOCALS[$CURRENT_LEAF]:-0}" -eq 0 ]; then
		expect "$1" "* You are the operator." || return 1
	fi
	LOCALS[$CURRENT_LEAF]=$((${LOCALS[$CURRENT_LEAF]:-0} + 1))
}

# Most tests: alice on leaf a and bob on leaf b (each its leaf's
# operator), carol on IRC, all in lobby, which is #lobby on IRC.
alice_bob_carol() {
	start_network || return 1
	leaf a
	net_login alice || return 1
	wait_seen b alice || return 1
	leaf b
	net_login bob || return 1
	expect alice "* bob joined lobby" || return 1
	irc_connect carol || return 1
	irc_join carol '#lobby' || return 1
	[ "$IRC_NAMES" = "alice bob carol" ] || {
		echo "#lobby on IRC: $IRC_NAMES" >&2
		return 1
	}
	expect alice "* carol joined lobby" || return 1
	expect bob "* carol joined lobby"
}

# Then amy on leaf a as well, in lobby: everybody sees her come.
and_amy() {
	leaf a
	net_login amy || return 1
	expect alice "* amy joined lobby" || return 1
	expect bob "* amy joined lobby" || return 1
	irc_expect carol ":amy!amy@a.chatd.test JOIN :#lobby"
}

# The last chatctl (lctl) exited with $1 and said $2 on stderr,
# nothing else.
assert_failure_says() {
	if [ "$status" -ne "$1" ] || [ "$stderr" != "$2" ] ||
	    [ -n "$output" ]; then
		printf 'status %s (want %s)\nstdout: %s\nstderr: %s\nwant: %s\n' \
		    "$status" "$1" "$output" "$stderr" "$2" >&2
		return 1
	fi
}

# Barriers for every chatd client named and IRC client carol.
all_barriers() {
	local who
	for who in "$@"; do
		barrier "$who" || return 1
	done
	irc_barrier carol
}

# --- Teardown ---

# Stops everything a link test started, by pid: IRC clients and ii,
# the leaves, the hub (continued first if a test stopped it), fake
# hubs; then looks for sanitizer reports in every leaf's log.
link_teardown() {
	local id rc=0
	close_streams
	stop_ii
	for id in "${STOPPED_PIDS[@]}"; do
		kill -CONT "$id" 2>/dev/null || true
	done
	STOPPED_PIDS=()
	if [ -n "$HUB_PID" ] && [ -n "$HUB_STOPPED" ]; then
		kill -CONT "$HUB_PID" 2>/dev/null || true
		HUB_STOPPED=
	fi
	for id in "${!LEAF_PID[@]}"; do
		[ -n "${LEAF_PID[$id]}" ] || continue
		[ "${LEAF_PID[$id]}" != "${CHATD_PID:-}" ] || CHATD_PID=
		stop_pid 15 "${LEAF_PID[$id]}"
		LEAF_PID[$id]=
	done
	for id in "${EXTRA_PIDS[@]}"; do
		stop_pid 10 "$id"
	done
	EXTRA_PIDS=()
	# A chatd of the test's own, not a leaf.
	stop_chatd
	close_clients
	stop_hub
	assert_no_sanitizer_report || rc=1
	for id in "${!LEAF_LOG[@]}"; do
		LOG=${LEAF_LOG[$id]}
		assert_no_sanitizer_report || rc=1
	done
	return "$rc"
}
