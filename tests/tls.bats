#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# TLS in front of chatd (chatd(8) "TLS"): the real stunnel and haproxy,
# run from contrib/stunnel.conf and contrib/haproxy.cfg with a throwaway
# certificate, pass each client's address on with a PROXY header (v1
# and v2). Clients speak TLS from different 127.0.0.x addresses through
# socat; chatctl, the log, bans and --max-per-address see those
# addresses, not the front end's.

load helpers

CONTRIB=$BATS_TEST_DIRNAME/../contrib

declare -gA VIA		# client name: the port of its TLS bridge
BRIDGES=()		# the bridges' pids
FRONT_PID=

# As helpers.bash connects, but through client $1's TLS bridge if any.
connect() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/${VIA[$1]:-${2:-$PORT}}"
	FD[$1]=$fd
}

logged() {
	grep -qF -- "$1" "$LOG"
}

# A throwaway self-signed certificate and key for localhost.
make_cert() {
	need openssl openssl || return 1
	CERT=$BATS_TEST_TMPDIR/cert.pem
	KEY=$BATS_TEST_TMPDIR/key.pem
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$KEY" -out "$CERT" -days 1 -subj /CN=localhost \
	    2>/dev/null
}

# Whether something listens on TCP port $1 of 127.0.0.1.
port_listening() {
	ss -Htln "sport = :$1" | grep -q .
}

# Whether the front end listens on $FRONT_PORT, or has died.
front_up() {
	port_listening "$FRONT_PORT" || not_running "$FRONT_PID"
}

# Starts the front end whose command is "$@", FRONT_CONF made from the
# contrib file by $FRONT_EDIT (a sed script using $FRONT_PORT), on a
# free port; another port is tried if somebody took this one first.
start_front() {
	local try src=$1 log=$BATS_TEST_TMPDIR/front.log
	shift
	for try in 1 2 3 4 5; do
		FRONT_PORT=$((20000 + RANDOM % 20000))
		port_listening "$FRONT_PORT" && continue
		sed -e "$(front_edit)" "$src" >"$FRONT_CONF"
		"$@" "$FRONT_CONF" >>"$log" 2>&1 &
		FRONT_PID=$!
		if wait_for "$TIMEOUT" front_up && ! not_running "$FRONT_PID"
		then
			return 0
		fi
		wait "$FRONT_PID" || true
		FRONT_PID=
	done
	cat "$log" >&2
	return 1
}

# contrib/stunnel.conf for this test: in the foreground, as ourselves,
# no pid file, our ports and certificate.
stunnel_edit() {
	cat <<EOF
/^setuid/d
/^setgid/d
s|^pid = .*|pid =\\
foreground = yes|
s|^accept = 9443\$|accept = 127.0.0.1:$FRONT_PORT|
s|^connect = 127.0.0.1:9000\$|connect = 127.0.0.1:$PORT|
s|^cert = .*|cert = $CERT|
s|^key = .*|key = $KEY|
EOF
}

start_stunnel() {
	local bin
	bin=$(command -v stunnel4 || command -v stunnel) || {
		need stunnel stunnel4
		return 1
	}
	grep -qx 'protocol = proxy' "$CONTRIB/stunnel.conf" || {
		echo "contrib/stunnel.conf lacks protocol = proxy" >&2
		return 1
	}
	FRONT_CONF=$BATS_TEST_TMPDIR/stunnel.conf
	front_edit() { stunnel_edit; }
	start_front "$CONTRIB/stunnel.conf" "$bin"
}

# contrib/haproxy.cfg for this test: no syslog, our ports, the
# certificate and key in one file as haproxy wants them.
haproxy_edit() {
	cat <<EOF
/^	log /d
/^	option tcplog/d
s|^	bind :9443 ssl crt .*|	bind 127.0.0.1:$FRONT_PORT ssl crt $PEM|
s|^	server chatd 127.0.0.1:9000 |	server chatd 127.0.0.1:$PORT |
EOF
}

start_haproxy() {
	need haproxy haproxy || return 1
	grep -q 'send-proxy-v2$' "$CONTRIB/haproxy.cfg" || {
		echo "contrib/haproxy.cfg lacks send-proxy-v2" >&2
		return 1
	}
	PEM=$BATS_TEST_TMPDIR/haproxy.pem
	cat "$CERT" "$KEY" >"$PEM"
	FRONT_CONF=$BATS_TEST_TMPDIR/haproxy.cfg
	front_edit() { haproxy_edit; }
	# -db: in the foreground; -f: the file.
	start_front "$CONTRIB/haproxy.cfg" haproxy -db -f
}

# The port a bridge logged: sets BRIDGE_PORT.
bridge_port() {
	BRIDGE_PORT=$(sed -n 's/.* listening on AF=2 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$1" | head -n 1)
	[ -n "$BRIDGE_PORT" ]
}

# Client $1 speaks TLS to the front end from address $2: a socat that
# takes plain connections on a port of its own and makes each a TLS
# connection bound to $2.
tls_client() {
	local log=$BATS_TEST_TMPDIR/bridge.$1.log
	need socat socat || return 1
	socat -d -d TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork \
	    "OPENSSL:127.0.0.1:$FRONT_PORT,verify=0,bind=$2" 2>"$log" &
	BRIDGES+=($!)
	wait_for "$TIMEOUT" bridge_port "$log" || return 1
	VIA[$1]=$BRIDGE_PORT
}

teardown() {
	local pid
	close_clients
	for pid in "${BRIDGES[@]}"; do
		stop_pid 5 "$pid"
	done
	[ -z "$FRONT_PID" ] || stop_pid 10 "$FRONT_PID"
	stop_chatd
	assert_no_sanitizer_report
}

# Two clients over TLS from two addresses: chatctl and the log show
# each one's own address; a ban on one refuses its next connection
# while a third address joins.
join_and_ban() {
	local version=$1
	tls_client alice 127.0.0.5
	tls_client bob 127.0.0.6
	tls_client carol 127.0.0.7
	login_all alice bob
	say alice "hello over TLS"
	expect bob "<alice> hello over TLS"
	[ "$(address_of alice)" = 127.0.0.5 ]
	[ "$(address_of bob)" = 127.0.0.6 ]
	wait_for "$TIMEOUT" logged "127.0.0.5 registered as alice"
	wait_for "$TIMEOUT" logged "127.0.0.6 registered as bob"
	grep -qE "connection from 127\.0\.0\.5 port [0-9]+ via 127\.0\.0\.1 \(PROXY v$version\)" "$LOG"
	ctl ban bob
	[ "$status" -eq 0 ]
	expect bob "! you were banned by the administrator"
	expect_eof bob
	expect alice "* bob was banned by the administrator"
	disconnect bob
	ctl -H bans
	[[ ${lines[0]} == "127.0.0.6"$'\t'* ]]
	connect bob
	expect bob "! you are banned"
	expect_eof bob
	login carol
	expect alice "* carol joined lobby"
	[ "$(address_of carol)" = 127.0.0.7 ]
}

@test "stunnel (PROXY v1): join over TLS, real addresses, a ban refuses only its address" {
	make_cert
	start_chatd --proxy-from 127.0.0.1
	start_stunnel
	join_and_ban 1
}

@test "haproxy (PROXY v2): join over TLS, real addresses, a ban refuses only its address" {
	make_cert
	start_chatd --proxy-from 127.0.0.1
	start_haproxy
	join_and_ban 2
}

@test "--max-per-address counts the addresses behind stunnel" {
	make_cert
	start_chatd --proxy-from 127.0.0.1 --max-per-address 1
	start_stunnel
	tls_client a1 127.0.0.5
	tls_client a2 127.0.0.5
	tls_client b1 127.0.0.6
	login a1
	open_client a2 2>/dev/null && false
	[ "$LINE" = "! too many connections from your address" ]
	login b1
}

@test "stunnel's header to a chatd that does not trust it is refused" {
	make_cert
	start_chatd --proxy-from 127.0.0.2
	start_stunnel
	tls_client alice 127.0.0.5
	connect alice
	expect_re alice '^\* Welcome to chatd! 0 users online\.$'
	expect alice "Enter your name:"
	expect alice "! PROXY header from an untrusted address"
	expect_eof alice
	wait_for "$TIMEOUT" logged \
	    "127.0.0.1: PROXY header from an untrusted address; closed"
}
