#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Keepalive: a peer that vanishes without a FIN is closed within
# --keepalive seconds as "ping timeout". The peer lives in a network
# namespace of its own behind a veth pair with a private /30 of the
# test's own; taking its end of the link down makes it vanish. Nothing
# leaves the machine, and teardown removes namespace and link.

load helpers

KEEPALIVE=4
# What the room may wait for a vanished peer beyond --keepalive.
MARGIN=6

# Microseconds since the epoch, whatever the locale's decimal point.
now_us() {
	local t=$EPOCHREALTIME
	echo "${t//[.,]/}"
}

# Connects $1 to address $2 (and port $3 or $PORT).
connect_to() {
	local fd
	exec {fd}<>"/dev/tcp/$2/${3:-$PORT}"
	FD[$1]=$fd
}

# Like login, over the connection connect_to made.
login_at() {
	connect_to "$1" "$2"
	expect_re "$1" '^\* Welcome to chatd! ([0-9]+) users? online\.$' ||
	    return 1
	ONLINE[$1]=${BASH_REMATCH[1]}
	expect "$1" "Enter your name:" || return 1
	say "$1" "$1"
	expect "$1" "* Hello, $1! You are in lobby. Type /help for commands." ||
	    return 1
	if [ "${ONLINE[$1]}" -eq 0 ]; then
		expect "$1" "* You are the operator."
	fi
}

# Picks a /30 in 10.200.0.0 to 10.255.255.255 that no interface uses:
# the host end gets .1 of it (HOST_ADDR), the namespace end .2 (NS_ADDR).
pick_subnet() {
	local i a b c
	for ((i = 0; i < 50; i++)); do
		a=$((200 + RANDOM % 56))
		b=$((RANDOM % 256))
		c=$((RANDOM % 64 * 4))
		if [ -z "$(ip -4 route show "10.$a.$b.$c/30")" ] &&
		    ! ip -4 -o addr show | grep -q " 10\.$a\.$b\.$((c + 1))/"
		then
			HOST_ADDR=10.$a.$b.$((c + 1))
			NS_ADDR=10.$a.$b.$((c + 2))
			return 0
		fi
	done
	echo "no free /30 found" >&2
	return 1
}

# The namespace, a veth pair between it and us, addresses, links up.
# Skips the test only if network namespaces cannot be created.
make_netns() {
	local err
	NS=chatd-ka-$$-$BATS_TEST_NUMBER
	VETH_HOST=cka$$h$BATS_TEST_NUMBER
	VETH_NS=cka$$n$BATS_TEST_NUMBER
	if ! err=$(ip netns add "$NS" 2>&1); then
		NS=
		skip "cannot create a network namespace: $err"
	fi
	pick_subnet
	VETH_MADE=1
	ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
	ip link set "$VETH_NS" netns "$NS"
	ip addr add "$HOST_ADDR/30" dev "$VETH_HOST"
	ip -n "$NS" addr add "$NS_ADDR/30" dev "$VETH_NS"
	ip -n "$NS" link set lo up
	ip -n "$NS" link set "$VETH_NS" up
	ip link set "$VETH_HOST" up
}

setup() {
	NS=
	VETH_MADE=
	GHOST_PID=
	GHOST_OUT=$BATS_TEST_TMPDIR/ghost.out
}

teardown() {
	if [ -n "$GHOST_PID" ]; then
		kill -TERM "$GHOST_PID" 2>/dev/null || true
		wait_for 5 not_running "$GHOST_PID" ||
		    kill -KILL "$GHOST_PID" 2>/dev/null || true
		wait "$GHOST_PID" 2>/dev/null || true
	fi
	stop_chatd
	if [ -n "$VETH_MADE" ]; then
		ip link del "$VETH_HOST" 2>/dev/null || true
	fi
	if [ -n "$NS" ]; then
		ip netns del "$NS" 2>/dev/null || true
	fi
	assert_no_sanitizer_report
}

# ghost connects from inside the namespace, registers and keeps reading
# into $GHOST_OUT; the observer, on the host, sees it join.
ghost_joins() {
	ip netns exec "$NS" bash -c \
	    'exec 3<>"/dev/tcp/$1/$2" && printf "ghost\n" >&3 && exec cat <&3' \
	    ghost "$HOST_ADDR" "$PORT" >"$GHOST_OUT" 2>&1 &
	GHOST_PID=$!
	expect observer "* ghost joined lobby"
	wait_for "$TIMEOUT" grep -q '^\* Hello, ghost! ' "$GHOST_OUT"
}

# Whether the server's socket to ghost has nothing unacknowledged.
ghost_socket_quiet() {
	ss -tnH state established "( sport = :$PORT and dst $NS_ADDR )" |
	    awk '{ n++; q = $2 } END { exit !(n == 1 && q == 0) }'
}

# The ghost's end of the link goes down: no FIN, no reset, nothing.
vanish() {
	ip -n "$NS" link set "$VETH_NS" down
	T0=$(now_us)
}

# The observer's next line says ghost timed out, within the bound.
expect_ping_timeout() {
	local ms
	TIMEOUT=$((KEEPALIVE + MARGIN + 10)) expect observer \
	    "* ghost quit (ping timeout)" || return 1
	ms=$((($(now_us) - T0) / 1000))
	echo "ping timeout after ${ms} ms"
	[ "$ms" -le $(((KEEPALIVE + MARGIN) * 1000)) ] || {
		echo "ping timeout after ${ms} ms, more than" \
		    "$((KEEPALIVE + MARGIN)) s" >&2
		return 1
	}
}

# The server's socket to its only client, as ss shows it.
server_socket() {
	ss -tnoH state established "( sport = :$PORT )"
}

# Whether that socket exists and has nothing unacknowledged (while it
# has, ss shows the retransmission timer instead of the keepalive one).
server_socket_quiet() {
	server_socket | awk '{ n++; q = $2 } END { exit !(n == 1 && q == 0) }'
}

# The timer of that socket once it is quiet ("" for none).
server_timer() {
	wait_for "$TIMEOUT" server_socket_quiet || return 1
	server_socket | grep -o 'timer:([^)]*)' || true
}

@test "--keepalive: a peer that vanished silently is gone within the time as ping timeout" {
	make_netns
	start_chatd -l "$HOST_ADDR" --keepalive "$KEEPALIVE"
	login_at observer "$HOST_ADDR"
	ghost_joins
	local pid
	pid=$(worker_pid ghost)
	[ -n "$pid" ]
	# Nothing in flight: only keepalive probes can find the dead peer.
	wait_for "$TIMEOUT" ghost_socket_quiet
	vanish
	expect_ping_timeout
	wait_for "$TIMEOUT" not_running "$pid"
	grep -q ': ghost left (ping timeout) ' "$LOG"
	# The name is free again.
	login_at ghost 127.0.0.1
	expect observer "* ghost joined lobby"
}

@test "--keepalive: a peer that vanished while lines were on their way to it is gone within the time as ping timeout" {
	make_netns
	start_chatd -l "$HOST_ADDR" --keepalive "$KEEPALIVE"
	login_at observer "$HOST_ADDR"
	ghost_joins
	local i pid
	pid=$(worker_pid ghost)
	[ -n "$pid" ]
	say observer "before"
	wait_for "$TIMEOUT" grep -q '^<observer> before' "$GHOST_OUT"
	vanish
	# Lines for ghost now stay unacknowledged: no keepalive probe goes
	# out, TCP_USER_TIMEOUT has to find the dead peer.
	for ((i = 0; i < 20; i++)); do
		say observer "line $i for ghost"
	done
	expect_ping_timeout
	wait_for "$TIMEOUT" not_running "$pid"
	grep -q ': ghost left (ping timeout) ' "$LOG"
	if grep -q '^<observer> line' "$GHOST_OUT"; then
		echo "the vanished ghost got lines" >&2
		return 1
	fi
}

@test "--keepalive N sets a keepalive timer on the client's connection" {
	start_chatd --keepalive "$KEEPALIVE"
	login alice
	local timer ms
	timer=$(server_timer)
	echo "timer: $timer"
	# ss shows the time left as 956ms, 1.924ms (1 s 924 ms) or 2sec.
	if [[ $timer =~ ^timer:\(keepalive,([0-9]+)\.([0-9]{3})ms,0\)$ ]]; then
		ms=$((BASH_REMATCH[1] * 1000 + 10#${BASH_REMATCH[2]}))
	elif [[ $timer =~ ^timer:\(keepalive,([0-9]+)ms,0\)$ ]]; then
		ms=${BASH_REMATCH[1]}
	elif [[ $timer =~ ^timer:\(keepalive,([0-9]+)sec,0\)$ ]]; then
		ms=$((BASH_REMATCH[1] * 1000))
	else
		echo "no keepalive timer of less than a minute: $timer" >&2
		return 1
	fi
	# The first probe goes out after KEEPALIVE/2 seconds of silence.
	[ "$ms" -le $((KEEPALIVE / 2 * 1000)) ]
}

@test "--keepalive 0 sets no keepalive on the client's connection" {
	start_chatd --keepalive 0
	login alice
	local timer
	timer=$(server_timer)
	server_socket
	# The connection is there, and has no timer at all.
	[ -z "$timer" ]
}
