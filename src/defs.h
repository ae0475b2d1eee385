/* SPDX-License-Identifier: ISC */
/*
 * Every limit and default of chatd, in one place. The man page quotes
 * the same numbers; change both together.
 */
#ifndef CHATD_DEFS_H
#define CHATD_DEFS_H

#include <limits.h>

/* A constant's value as a string literal, for messages built from it. */
#define CHATD_STR(x)		CHATD_STR_(x)
#define CHATD_STR_(x)		#x

/*
 * What a worker runs on every wake-up, gathered in .text.hot: after a
 * switch of address space every page a process touches may cost a miss
 * (on a virtual machine with shadow page tables, a trip through the
 * hypervisor), and a room of N users takes N such switches per line.
 * Spread over the program, a woken worker touched 9 pages of it; now 4.
 */
#define WAKE_PATH		__attribute__((hot))

#define CHATD_PORT		9000	/* default TCP port */
#define CHATD_PORT_MAX		65535	/* largest --port accepted */
#define CHATD_MAX_CLIENTS	1024	/* connections at most, registered or not */
#define CHATD_MAX_SLOTS		65536	/* slot table size when max-clients is 0 */
#define CHATD_MAX_PER_ADDR	16	/* connections from one address */
#define CHATD_MAX_LINE		1024	/* longest accepted client line, raw bytes */
#define CHATD_MAX_LINE_MIN	16	/* smallest --max-line accepted */
#define CHATD_MAX_LINE_CAP	8192	/* largest --max-line accepted */
#define CHATD_REG_TIMEOUT	60	/* seconds from connect to choose a name */
#define CHATD_RATE		2	/* lines a second a client may send */
#define CHATD_RATE_CAP		1000000	/* largest --rate and --burst accepted, lines */
#define CHATD_BURST		10	/* token bucket size, lines */
#define CHATD_BURST_MIN		1	/* smallest --burst accepted: one line */
#define CHATD_FLOOD_KICK	10	/* seconds of flooding before a disconnect */
#define CHATD_KEEPALIVE		120	/* seconds to detect a vanished peer */
#define CHATD_SECONDS_CAP	86400	/* largest --register-timeout, --flood-kick, --keepalive: a day */
#define CHATD_MAX_BANS		4096	/* bans remembered at once */
#define CHATD_BAN_DAYS_MAX	3650	/* longest ban -t DURATION, in days */
#define CHATD_BAN_SECS_MAX	(CHATD_BAN_DAYS_MAX * 86400L)	/* the same in seconds */
/* What a bad ban duration's message suggests, in cmd.c and chatctl.c. */
#define CHATD_BAN_DURATIONS	"e.g. 90s, 30m, 12h, 7d, 2w or 1h30m, at most " \
	CHATD_STR(CHATD_BAN_DAYS_MAX) "d"
#define CHATD_IPV6_PREFIX	64	/* --ipv6-prefix: bits of an IPv6 address one ban, one limit covers */
#define BAN_REASON_MAX		200	/* bytes of a ban's reason kept */
#define MOTD_MAX		4096	/* bytes of MOTD, as sent */
#define OPER_DELAY_MS		1000	/* wait before "! wrong password" */
#define AUDIT_LINE_MAX		512	/* bytes of an audit line, its NUL included */
#define AUDIT_QUEUE_LEN		4	/* chatctl's audit lines waiting for the server */
#define CHATD_MAX_LISTEN	16	/* -l addresses at most */
#define CHATD_MAX_PROXY		16	/* --proxy-from ranges at most */
#define PROXY_TIMEOUT_MS	5000	/* a trusted front end's PROXY header must come this soon */
#define PROXY_V2_MAX		1024	/* a v2 header's addresses and TLVs at most, bytes */
#define PROXY_SNIFF_MS		1000	/* first bytes that may begin a PROXY header are held this long */
#define CHATD_MAX_ROOMS		256	/* rooms remembered at once, lobby included */
#define CHATD_MAX_ROOMS_MIN	1	/* smallest --max-rooms accepted: the lobby */
#define CHATD_MAX_ROOMS_CAP	4096	/* largest --max-rooms accepted */
#define CHATD_HISTORY		50	/* chat lines kept per room */
#define CHATD_HISTORY_CAP	1000	/* largest --history accepted */

#define NAME_MAX_LEN		16	/* user name characters */
#define ROOM_MAX_LEN		24	/* room name characters */
#define ADDR_MAX_LEN		46	/* printable address, INET6_ADDRSTRLEN */
#define INSTANCE_MAX_LEN	64	/* instance name characters */
#define NOTICE_MAX		(2 * NAME_MAX_LEN + ROOM_MAX_LEN + 32)	/* a notice naming users and a room */
#define PATH_MSG_MAX		(PATH_MAX + 128)	/* a message naming a path */
#define CONFIG_LINE_MAX		8190	/* configuration file line bytes, its newline excluded */

#define RING_BYTES		(8u << 20)	/* message log ring, bytes */
#define RECORD_TEXT_MAX		(3 * CHATD_MAX_LINE_CAP + 64)	/* formatted line in a record */
#define HIST_TEXT_MAX(maxline)	(3 * (maxline) + NAME_MAX_LEN + 4)	/* a history line */
#define OUTBUF_MAX		(1u << 20)	/* a worker's output backlog, bytes */
#define WORKER_READ		4096	/* bytes a worker reads from its client at once */
#define FIFO_CACHE		64	/* wake pipes a worker keeps open */
#define RELAY_FANOUT		4	/* relays a waker hands a range to */
#define RELAY_LEAF		32	/* slots a waker wakes itself */
#define RELAY_DEADLINE_MS	5	/* a sender's backstop looks behind its relays */
#define SHUTDOWN_GRACE_MS	5000	/* time workers get to say goodbye */
#define ACCEPT_PAUSE_MS		100	/* no accepting after an error that would repeat */
#define RUNDIR_CHECK_MS		1000	/* the listener checks its run directory */
#define STATUS_EVERY_MS		1000	/* the listener tells the service manager its counts */
#define SDNOTIFY_MSG_MAX	512	/* a state sent to the service manager, bytes */
#define ORPHAN_CHECK_MS		500	/* how often a new listener looks at a dead one's workers */
#define ORPHAN_CHECK_BATCH	1024	/* of which it looks at this many at most */
#define CTL_SHUTDOWN_WAIT_MS	10000	/* chatctl shutdown waits for the end */
#define FLUSH_GRACE_MS		2000	/* time a closing client gets to read */
#define ATTACH_WAIT_MS		5000	/* wait for another process to build the segment */
#define STATE_JOURNAL_MIN	(256u << 10)	/* history journal bytes before compaction, at least */
#define STATE_PENDING_MAX	(4u << 20)	/* history bytes a worker holds while the journal is compacted */
#define STATE_RETRY_MS		50	/* how often it tries the journal again meanwhile */
#define STATE_FINISH_MS		1000	/* a leaving worker waits for the journal at most */
#define CHATD_MAX_REMOTES	4096	/* users of the rest of the IRC network kept */
#define LINK_RETRY_MIN		10	/* seconds before the first retry of a lost link */
#define LINK_RETRY_MAX		300	/* and at most, doubling */
#define LINK_RESTART_MIN_MS	1000	/* the listener restarts a dead link process */
#define LINK_RESTART_MAX_MS	60000	/* at most this late, doubling */
#define LINK_PING_SECS		60	/* a quiet hub is pinged */
#define LINK_TIMEOUT_SECS	180	/* and dropped when silent this long */
#define LINK_CONNECT_SECS	10	/* a connection attempt gives up */
#define LINK_HANDSHAKE_SECS	30	/* and the handshake */
#define LINK_PASSWORD_MAX	127	/* bytes of a link password */
#define LINK_ERROR_MAX		120	/* bytes of the last link error kept */
#define STATE_JOURNAL_FACTOR	4	/* compact when this many times its compacted size */

#endif
