/* SPDX-License-Identifier: ISC */
/*
 * soak - many clients doing everything a user can, under a checker that
 * knows who must receive what.
 *
 * Clients chat, act (/me), send direct messages, change rooms, rename,
 * quit, close, reset their connection, stall, send garbage, over-long
 * lines and telnet sequences; an operator kicks and bans; every few
 * seconds a random chatd worker gets SIGKILL, and every second or so
 * another is stopped (SIGSTOP) for up to 2 s.  Every line a client sends
 * carries a number ("#ID") that indexes a table of what was sent, by
 * whom, from which room and when, so that every line received is checked
 * against what the receiver must get: nothing lost, nothing twice,
 * nothing out of order, nothing meant for another room or user.
 * tests/README says exactly what is counted, and why the exceptions are
 * the protocol's own.  One epoll loop (bench/conn.c, which chatbench
 * shares), no threads.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench/conn.h"
#include "../bench/stopper.h"

#define EX_FAIL		1	/* a fault found, or the run could not be done */
#define EX_USAGE	64

#define NS		1000000000LL
#define MS		1000000LL
#define NEVER		INT64_MAX
#define NONE		UINT32_MAX

#define NROOMS		8	/* r1 ... r8, besides lobby and flood */
#define ROOM_LOBBY	0
#define ROOM_FLOOD	(NROOMS + 1)
#define NROOMS_ALL	(NROOMS + 2)
#define ROOM_DM		UINT16_MAX
#define TICK_MS		10	/* the scheduler's beat */
#define REPLY_SLOW	(60 * NS)	/* an answer this late is counted as slow */
#define REG_TIMEOUT	(120 * NS)	/* connect to "* Hello" at most */
#define EVAL_DELAY	(10 * NS)	/* an ended stint is judged this much later */
#define QUIET		(2 * NS)	/* silence that ends the final drain */
#define END_WAIT	(300 * NS)	/* bound of each phase of the end */
#define IN_SIZE		8192	/* a client's unparsed input at most */
#define OUT_SIZE	16384	/* a client's unsent output at most */
#define RCVBUF		16384	/* small, so that stalls bite */
#define LONG_PAD	900	/* the flooder's lines */
#define OVERLONG	1200	/* an over-long line, LF not counted */
#define MAX_SAMPLES	10	/* faults described one by one */
#define NAME_LEN	16
#define STOP_MIN	(50 * MS)	/* a worker stopped at least this long */
#define STOP_MAX	(2000 * MS)	/* and less than this */

/* Line kinds and pads. */
enum kind { K_CHAT, K_ME, K_DM };
enum pad { P_PLAIN, P_IAC, P_UTF8, P_LONG };
enum dmstate { D_PENDING, D_CONFIRMED, D_REFUSED };

/* Every tagged line sent: its id is its index. */
struct line {
	int64_t		 sent;		/* queued for the socket: a lower bound */
	int64_t		 proven;	/* surely processed by then, or NEVER */
	uint32_t	 session;
	uint32_t	 target;	/* K_DM: the target session */
	uint32_t	 rpos;		/* index in its room's list */
	uint16_t	 room;		/* or ROOM_DM */
	uint8_t		 kind;
	uint8_t		 pad;
	uint8_t		 dm;		/* enum dmstate */
	uint8_t		 got;		/* K_DM: times received */
};

struct vec {
	uint32_t	*v;
	size_t		 n, cap;
};

enum endwhy { E_NONE, E_US, E_QUIT, E_KICKED, E_KILLED, E_SLOW, E_LOST };
/* What a room hears when somebody leaves: "* NAME quit (REASON)". */
enum { Q_NONE, Q_SLOW, Q_LOST, Q_OTHER };

struct session {
	uint32_t	 client;
	uint32_t	 nick;		/* renames so far */
	uint32_t	 addr;		/* our source address, host order */
	uint16_t	 port;		/* our source port */
	uint8_t		 registered;
	uint8_t		 killed;
	uint8_t		 kicked;
	uint8_t		 stalled;	/* stalled long at some time */
	uint8_t		 end;		/* enum endwhy */
	uint8_t		 heard;		/* its room heard "quit (REASON)": Q_* */
	int64_t		 lastsent;	/* newest 'sent' of a line it received */
	int64_t		 ended;
	struct vec	 lines;		/* its lines, in order */
	size_t		 unproven;	/* lines[unproven...] not proven yet */
	struct vec	 dms;		/* DMs addressed to it */
};

/* A stay in one room: what was received there. */
struct stint {
	uint32_t	 session;
	uint16_t	 room;
	int64_t		 t0;		/* the join reply came: after the join */
	int64_t		 t1;		/* before the leave, or NEVER */
	int64_t		 judge;		/* when to judge it */
	struct vec	 got;		/* line ids received, history included */
};

enum cstate { C_OFF, C_CONNECTING, C_GREETING, C_HELLO, C_READY, C_QUITTING };
enum role { R_NORMAL, R_OP, R_FLOODER, R_WATCHER };
enum pending { PD_NONE, PD_JOIN, PD_NICK, PD_SYNC, PD_DM, PD_LONG, PD_KICK,
    PD_BAN, PD_UNBAN };

/* What a receiver has seen of one sender in this stint or session. */
struct seen {
	uint32_t	 epoch;		/* stint (chat) or session (DM) */
	uint32_t	 session;
	uint32_t	 line;
};

/* A user: its connection first, so that conn.c's callbacks find it. */
struct client {
	struct conn	 conn;
	uint8_t		 state;
	uint8_t		 role;
	uint8_t		 pending;
	uint8_t		 in_history;
	uint8_t		 stalled;	/* not reading */
	uint8_t		 long_stall;	/* waiting to join flood, or in it */
	uint8_t		 final;		/* the last /sync is sent */
	uint16_t	 room;
	uint16_t	 pend_room;
	uint32_t	 session;	/* NONE when off */
	uint32_t	 stint;		/* index into stints, or NONE */
	uint32_t	 pend_line;	/* PD_DM */
	int64_t		 pend_since;
	int64_t		 next;		/* next action, or reconnect */
	int64_t		 stall_until;
	int64_t		 flood_due;
	char		 name[NAME_LEN + 1];
	char		 pend_name[NAME_LEN + 1];
	char		 pend_addr[INET_ADDRSTRLEN];
	struct seen	*seen;		/* [sender client], chat, per stint */
	struct seen	*dmseen;	/* [sender client], DMs, per session */
};

/* Kinds of fault, each described on stderr for its first few. */
enum { F_LOST, F_DUP, F_MIS, F_ORDER, F_CORRUPT, F_ERROR, F_KINDS };

struct stats {
	uint64_t	 sent, dms, required, delivered, history, lost, dm_lost;
	uint64_t	 dup, misdelivered, reordered, corrupt, garbage;
	uint64_t	 kills, stops, reconnects, kicks, bans, unbans, evicted;
	uint64_t	 quits;
	uint64_t	 resets, closes, stalls, long_stalls, overlong, iac;
	uint64_t	 renames, joins, syncs, errors, sessions, slow_replies;
};

/* Options. */
static const char	*opt_host = "127.0.0.1";
static int		 opt_port;
static unsigned		 opt_clients = 1000;
static double		 opt_seconds = 600;
static double		 opt_action = 4.0;	/* mean seconds between actions */
static double		 opt_kill = 3.0;	/* seconds between kills; 0 none */
static double		 opt_stop = 1.0;	/* seconds between stops; 0 none */
static double		 opt_stall = 60;	/* longest stall */
static double		 opt_flood = 100;	/* flooder lines per second */
static pid_t		 opt_pid;		/* the listener */
static const char	*opt_rundir;
static const char	*opt_instance;
static int		 opt_minimal;		/* chat in lobby only */
static unsigned		 opt_seed;

static struct sockaddr_storage server;
static socklen_t	 serverlen;
static struct client	*clients;
static struct line	*lines;
static size_t		 nlines, caplines;
static struct session	*sessions;
static size_t		 nsessions, capsessions;
static struct stint	*stints;
static size_t		 nstints, capstints;
static struct vec	 roomlines[NROOMS_ALL];
static uint32_t		*mark;		/* [line]: judge scratch */
static size_t		 capmark;
static uint32_t		*rlo, *rhi, *rstamp;	/* [session]: judge scratch */
static size_t		 capr;
static uint32_t		 judgeno;
static struct stats	 st;
static int64_t		 t_start, t_end, t_synced, t_last_rx, next_kill;
static int64_t		 next_stop;
static int64_t		 t_unban;
static char		 unban_addr[INET_ADDRSTRLEN];
static int		 ending;		/* no new actions */
static unsigned		 nsamples[F_KINDS];
static uint64_t		 rng_state;

/* Resources at the start and the end. */
struct census {
	long	procs, fds, shm, rundir;
};
static struct census	 c_start, c_end;

static void	die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	sample(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	usage(void) __attribute__((noreturn));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("soak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EX_FAIL);
}

static void
sample(int kind, const char *fmt, ...)
{
	va_list	ap;

	if (nsamples[kind]++ >= MAX_SAMPLES)
		return;
	fputs("soak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(void)
{
	fprintf(stderr, "usage: soak -p port [-H host] [-n clients] "
	    "[-d seconds] [-a action_s]\n"
	    "            [-k kill_s] [-z stop_s] [-t stall_s] [-f flood_rate] "
	    "[-S pid]\n"
	    "            [-R rundir] [-I instance] [-s seed] [-m]\n");
	exit(EX_USAGE);
}

/* xorshift64*: a seed gives the same choices, not the same timing. */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint32_t
rnd_below(uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(rnd() % n);
}

/* A uniform double in [0, 1). */
static double
rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* A random delay with mean m seconds (exponential, capped at 5 m). */
static int64_t
rnd_delay(double m)
{
	double	x = -m * log(1 - rnd_unit());

	if (x > 5 * m)
		x = 5 * m;
	return (int64_t)(x * NS) + MS;
}

static void *
xrealloc(void *p, size_t n, size_t size)
{
	if (n != 0 && size > SIZE_MAX / n)
		die("out of memory");
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		die("out of memory");
	return p;
}

static void
vec_push(struct vec *v, uint32_t x)
{
	if (v->n == v->cap) {
		v->cap = v->cap == 0 ? 16 : v->cap * 2;
		v->v = xrealloc(v->v, v->cap, sizeof *v->v);
	}
	v->v[v->n++] = x;
}

static void
vec_free(struct vec *v)
{
	free(v->v);
	memset(v, 0, sizeof *v);
}

static const char *
room_name(unsigned r)
{
	static char	buf[NROOMS_ALL][8];

	if (r == ROOM_LOBBY)
		return "lobby";
	if (r == ROOM_FLOOD)
		return "flood";
	snprintf(buf[r], sizeof buf[r], "r%u", r);
	return buf[r];
}

static int
room_index(const char *s, size_t n)
{
	unsigned	r;

	for (r = 0; r < NROOMS_ALL; r++)
		if (strlen(room_name(r)) == n && memcmp(room_name(r), s, n) == 0)
			return (int)r;
	return -1;
}

/* --- The tables --------------------------------------------------------- */

static uint32_t
session_new(uint32_t client)
{
	struct session	*s;

	if (nsessions == capsessions) {
		capsessions = capsessions == 0 ? 4096 : capsessions * 2;
		sessions = xrealloc(sessions, capsessions, sizeof *sessions);
	}
	s = &sessions[nsessions];
	memset(s, 0, sizeof *s);
	s->client = client;
	s->lastsent = 0;
	st.sessions++;
	return (uint32_t)nsessions++;
}

static uint32_t
line_new(uint32_t session, enum kind kind, enum pad pad, uint16_t room,
    uint32_t target, int64_t now)
{
	struct line	*l;
	uint32_t	 id;

	if (nlines == caplines) {
		caplines = caplines == 0 ? 65536 : caplines * 2;
		lines = xrealloc(lines, caplines, sizeof *lines);
	}
	id = (uint32_t)nlines++;
	l = &lines[id];
	memset(l, 0, sizeof *l);
	l->sent = now;
	l->proven = NEVER;
	l->session = session;
	l->target = target;
	l->room = room;
	l->kind = (uint8_t)kind;
	l->pad = (uint8_t)pad;
	l->rpos = NONE;
	if (room != ROOM_DM) {
		l->rpos = (uint32_t)roomlines[room].n;
		vec_push(&roomlines[room], id);
	} else
		vec_push(&sessions[target].dms, id);
	vec_push(&sessions[session].lines, id);
	st.sent++;
	return id;
}

/*
 * Lines of a session up to and including line id were processed by the
 * server by now: somebody received it (or a later one), or the session
 * got the reply to a later command.
 */
static void
prove(uint32_t session, uint32_t upto, int64_t now)
{
	struct session	*s = &sessions[session];

	while (s->unproven < s->lines.n && s->lines.v[s->unproven] <= upto) {
		lines[s->lines.v[s->unproven]].proven = now;
		s->unproven++;
	}
}

static void
prove_all(uint32_t session, int64_t now)
{
	prove(session, NONE, now);
}

/* --- The pads: what is sent, and what must arrive ------------------------ */

static const char iac_raw[] = "a\xff\xfb\x01" "b\xff\xff" "c\xff\xfa\x18\x00xy\xff\xf0"
    "d\xff\xfd\x03" "e";
static const char iac_clean[] = "ab\xef\xbf\xbd" "cde";
static const char utf8_raw[] = "u\xc3\xa9\xe2\x82\xac\xc0v";
static const char utf8_clean[] = "u\xc3\xa9\xe2\x82\xac\xef\xbf\xbdv";

/* Writes the pad of line id, raw (as sent) or clean (as it must arrive). */
static size_t
pad_text(uint32_t id, int clean, char *buf)
{
	size_t	n;

	switch (lines[id].pad) {
	case P_IAC:
		n = clean ? sizeof iac_clean - 1 : sizeof iac_raw - 1;
		memcpy(buf, clean ? iac_clean : iac_raw, n);
		return n;
	case P_UTF8:
		n = clean ? sizeof utf8_clean - 1 : sizeof utf8_raw - 1;
		memcpy(buf, clean ? utf8_clean : utf8_raw, n);
		return n;
	case P_LONG:
		memset(buf, 'F', LONG_PAD);
		return LONG_PAD;
	default:
		n = 1 + id % 37;
		memset(buf, 'a' + (int)(id % 26), n);
		return n;
	}
}

/* --- Census: processes, descriptors, /dev/shm, the run directory -------- */

static long
count_dir(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	long		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	if (errno != 0)
		die("readdir %s: %s", path, strerror(errno));
	if (closedir(d) == -1)
		die("closedir: %s", strerror(errno));
	return n;
}

/* The parent of a process, from /proc/PID/stat; 0 when it is gone. */
static pid_t
parent_of(pid_t pid)
{
	char	 path[64], buf[1024], *p;
	FILE	*f;
	size_t	 n;
	int	 ppid;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    /* NOLINTNEXTLINE(cert-err34-c): the kernel's pid fits. */
	    sscanf(p + 2, "%*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* The listener's children, into pids (at most max); their number. */
static size_t
children(pid_t *pids, size_t max)
{
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 pid;
	size_t		 n = 0;

	if ((d = opendir("/proc")) == NULL)
		die("opendir /proc: %s", strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (parent_of((pid_t)pid) == opt_pid) {
			if (n < max)
				pids[n] = (pid_t)pid;
			n++;
		}
	}
	if (errno != 0)
		die("readdir /proc: %s", strerror(errno));
	if (closedir(d) == -1)
		die("closedir /proc: %s", strerror(errno));
	return n;
}

static void
census(struct census *c)
{
	char		path[PATH_MAX];
	struct stat	sb;

	c->procs = c->fds = c->shm = c->rundir = -1;
	if (opt_pid != 0) {
		c->procs = (long)children(NULL, 0);
		snprintf(path, sizeof path, "/proc/%d/fd", (int)opt_pid);
		c->fds = count_dir(path);
	}
	if (opt_instance != NULL) {
		snprintf(path, sizeof path, "/dev/shm/chatd.%s", opt_instance);
		c->shm = stat(path, &sb) == 0;
	}
	if (opt_rundir != NULL)
		c->rundir = count_dir(opt_rundir);
}

static int
census_same(void)
{
	return c_start.procs == c_end.procs && c_start.fds == c_end.fds &&
	    c_start.shm == c_end.shm && c_start.rundir == c_end.rundir;
}

/* --- Stopping workers ---------------------------------------------------- */

/*
 * A stopped worker keeps its client's lines in the kernel's buffers and
 * holds up the wake-ups handed to it; it loses nothing, and is evicted
 * only if the log laps it, which the checker explains as any "too slow"
 * end (the room hears "quit (too slow)").  bench/stopper.c continues
 * them when their time is up and however we end.
 */

/* SIGSTOP for a random worker not stopped yet, for STOP_MIN to STOP_MAX. */
static void
stop_one(int64_t now)
{
	pid_t		pids[4096], pid;
	size_t		n, try;
	int64_t		until;

	if (stopper_count() == STOPPER_MAX)
		return;
	if ((n = children(pids, 4096)) > 4096)
		n = 4096;
	for (try = 0; try < 8 && n > 0; try++) {
		pid = pids[rnd_below((uint32_t)n)];
		if (stopper_has(pid))
			continue;
		until = now + STOP_MIN +
		    (int64_t)rnd_below((STOP_MAX - STOP_MIN) / MS) * MS;
		if (stopper_stop(pid, until) == -1) {
			if (errno == ESRCH)
				continue;
			die("kill %d: %s", (int)pid, strerror(errno));
		}
		st.stops++;
		return;
	}
}

/* --- Killing workers ---------------------------------------------------- */

/* The socket inode of a worker's fd 0, or 0. */
static unsigned long
worker_inode(pid_t pid)
{
	char		path[64], link[64];
	ssize_t		n;
	unsigned long	ino;

	snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
	if ((n = readlink(path, link, sizeof link - 1)) == -1)
		return 0;
	link[n] = '\0';
	/* NOLINTNEXTLINE(cert-err34-c): the kernel's inode number fits. */
	if (sscanf(link, "socket:[%lu]", &ino) != 1)
		return 0;
	return ino;
}

/* Our end of the TCP connection with that inode, from /proc/net/tcp. */
static int
peer_of(unsigned long ino, uint32_t *addr, uint16_t *port)
{
	FILE		*f;
	char		 buf[512];
	unsigned	 la, lp, ra, rp;
	unsigned long	 i;
	int		 found = 0;

	if ((f = fopen("/proc/net/tcp", "r")) == NULL)
		die("/proc/net/tcp: %s", strerror(errno));
	while (!found && fgets(buf, sizeof buf, f) != NULL) {
		/* NOLINTNEXTLINE(cert-err34-c): the kernel's numbers fit. */
		if (sscanf(buf, " %*u: %x:%x %x:%x %*x %*x:%*x %*x:%*x %*x "
		    "%*u %*u %lu", &la, &lp, &ra, &rp, &i) != 5 || i != ino)
			continue;
		/* The kernel prints the address as it lies in memory. */
		*addr = ntohl((uint32_t)ra);
		*port = (uint16_t)rp;
		found = 1;
	}
	fclose(f);
	return found;
}

/* The client whose session has that source address and port, or NULL. */
static struct client *
client_at(uint32_t addr, uint16_t port)
{
	unsigned	i;
	struct session	*s;

	for (i = 0; i < opt_clients; i++) {
		if (clients[i].state == C_OFF || clients[i].session == NONE)
			continue;
		s = &sessions[clients[i].session];
		if (s->addr == addr && s->port == port)
			return &clients[i];
	}
	return NULL;
}

/*
 * SIGKILL for a random worker of the listener, found by pid among its
 * children, never the operator's: whose it is comes from its socket.
 */
static void
kill_one(void)
{
	pid_t		 pids[4096];
	size_t		 n, try;
	unsigned long	 ino;
	uint32_t	 addr;
	uint16_t	 port;
	struct client	*c;
	pid_t		 pid;

	if ((n = children(pids, 4096)) > 4096)
		n = 4096;
	for (try = 0; try < 8 && n > 0; try++) {
		pid = pids[rnd_below((uint32_t)n)];
		if ((ino = worker_inode(pid)) == 0 || !peer_of(ino, &addr,
		    &port) || (c = client_at(addr, port)) == NULL ||
		    c->role == R_OP)
			continue;
		/* Marked first: the end it causes must find it explained. */
		sessions[c->session].killed = 1;
		if (kill(pid, SIGKILL) == -1) {
			if (errno == ESRCH)
				continue;
			die("kill %d: %s", (int)pid, strerror(errno));
		}
		stopper_forget(pid);
		st.kills++;
		return;
	}
}

/* --- Client I/O --------------------------------------------------------- */

/* The user whose connection it is: the connection is its first member. */
static struct client *
client_of(struct conn *cn)
{
	return (struct client *)(void *)cn;
}

static void	client_end(struct client *, int64_t, int);

static void
queue(struct client *c, const char *s, size_t n)
{
	if (conn_put(&c->conn, s, n) == -1)
		die("bug: output full");
}

static void
queue_str(struct client *c, const char *s)
{
	queue(c, s, strlen(s));
}

/* Each session its own loopback address: a ban hits one user only. */
static uint32_t
session_addr(uint32_t sid)
{
	return (127U << 24) | ((1 + sid / 62500) << 16) |
	    ((1 + sid / 250 % 250) << 8) | (1 + sid % 250);
}

static void
client_connect(struct client *c, int64_t now)
{
	struct sockaddr_in	 src;
	socklen_t		 len = sizeof src;
	struct session		*s;
	int			 rc;

	c->session = session_new((uint32_t)(c - clients));
	s = &sessions[c->session];
	s->addr = session_addr(c->session);
	snprintf(c->name, sizeof c->name, "c%us%un0", (unsigned)(c - clients),
	    c->session);
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(s->addr);
	c->state = C_CONNECTING;
	c->pending = PD_NONE;
	c->stalled = c->long_stall = c->in_history = 0;
	c->stint = NONE;
	c->next = now + REG_TIMEOUT;	/* registration deadline */
	rc = conn_open(&c->conn, (const struct sockaddr *)&server, serverlen,
	    (struct sockaddr *)&src, &len, RCVBUF);
	s->port = ntohs(src.sin_port);
	if (rc == -1)
		client_end(c, now, E_LOST);
}

/* conn.c: the connect finished, or failed. */
static void
client_up(struct conn *cn, const char *why)
{
	struct client	*c = client_of(cn);

	if (why != NULL) {
		st.errors++;
		sample(F_ERROR, "%s: connect: %s", c->name, why);
		client_end(c, now_ns(), E_US);
		return;
	}
	c->state = C_GREETING;
}

/* conn.c: the server closed the connection, or it failed. */
static void
client_down(struct conn *cn, const char *why)
{
	(void)why;
	client_end(client_of(cn), now_ns(), E_LOST);
}

/* conn.c: a line longer than IN_SIZE, thrown away. */
static void
client_overlong(struct conn *cn)
{
	st.errors++;
	sample(F_ERROR, "%s: a line longer than %d bytes", client_of(cn)->name,
	    IN_SIZE);
}

/* --- Stints and judging -------------------------------------------------- */

static struct vec	closed_stints, closed_sessions;
static size_t		judged_stints, judged_sessions;

static void
stint_open(struct client *c, uint16_t room, int64_t now)
{
	struct stint	*s;

	if (nstints == capstints) {
		capstints = capstints == 0 ? 4096 : capstints * 2;
		stints = xrealloc(stints, capstints, sizeof *stints);
	}
	c->stint = (uint32_t)nstints;
	s = &stints[nstints++];
	memset(s, 0, sizeof *s);
	s->session = c->session;
	s->room = room;
	s->t0 = now;
	s->t1 = NEVER;
	c->room = room;
	c->in_history = 0;
}

/* Ends the stint: lines proven processed before t1 were due to it. */
static void
stint_close(struct client *c, int64_t t1, int64_t now)
{
	if (c->stint == NONE)
		return;
	stints[c->stint].t1 = t1;
	stints[c->stint].judge = now + EVAL_DELAY;
	vec_push(&closed_stints, c->stint);
	c->stint = NONE;
}

static void
grow_scratch(void)
{
	size_t	old;

	if (capmark < nlines) {
		old = capmark;
		capmark = caplines;
		mark = xrealloc(mark, capmark, sizeof *mark);
		memset(mark + old, 0, (capmark - old) * sizeof *mark);
	}
	if (capr < nsessions) {
		old = capr;
		capr = capsessions;
		rlo = xrealloc(rlo, capr, sizeof *rlo);
		rhi = xrealloc(rhi, capr, sizeof *rhi);
		rstamp = xrealloc(rstamp, capr, sizeof *rstamp);
		memset(rstamp + old, 0, (capr - old) * sizeof *rstamp);
	}
}

/* The first index of a room's list whose line was sent after t. */
static size_t
first_after(const struct vec *v, int64_t t)
{
	size_t	lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (lines[v->v[mid]].sent > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * A line is due to the stint when it was surely appended while the
 * receiver was in the room (sent after the join reply came, proven
 * processed before the leave was sent), or when the receiver got an
 * earlier and a later line of the same sender there: the stint sees one
 * unbroken stretch of the room's log.
 */
static void
judge_stint(struct stint *s)
{
	const struct vec	*v = &roomlines[s->room];
	const struct line	*l;
	size_t			 i, a, b, lo = SIZE_MAX, hi = 0;
	uint32_t		 id, p;

	grow_scratch();
	judgeno++;
	for (i = 0; i < s->got.n; i++) {
		id = s->got.v[i];
		l = &lines[id];
		mark[id] = judgeno;
		p = l->rpos;
		if (rstamp[l->session] != judgeno) {
			rstamp[l->session] = judgeno;
			rlo[l->session] = rhi[l->session] = p;
		} else if (p < rlo[l->session])
			rlo[l->session] = p;
		else if (p > rhi[l->session])
			rhi[l->session] = p;
		lo = p < lo ? p : lo;
		hi = p > hi ? p : hi;
	}
	a = first_after(v, s->t0);
	b = s->t1 == NEVER ? v->n : first_after(v, s->t1 - 1);
	if (lo < a)
		a = lo;
	if (s->got.n > 0 && hi + 1 > b)
		b = hi + 1;
	for (i = a; i < b; i++) {
		id = v->v[i];
		l = &lines[id];
		if (l->session == s->session)
			continue;
		if (!((l->sent > s->t0 && l->proven < s->t1) ||
		    (rstamp[l->session] == judgeno && rlo[l->session] <= i &&
		    i <= rhi[l->session])))
			continue;
		st.required++;
		if (mark[id] != judgeno) {
			st.lost++;
			sample(F_LOST, "lost: line #%u from session %u in %s never "
			    "reached session %u", id, l->session,
			    room_name(l->room), s->session);
		}
	}
	vec_free(&s->got);
}

/* A confirmed direct message is due unless its target was cut off first. */
static void
judge_session(struct session *s, int64_t t1)
{
	const struct line	*l;
	size_t			 i;

	for (i = 0; i < s->dms.n; i++) {
		l = &lines[s->dms.v[i]];
		if (l->dm == D_REFUSED && l->got > 0) {
			st.misdelivered++;
			sample(F_MIS, "DM #%u refused as no such user, yet delivered",
			    s->dms.v[i]);
		}
		if (l->dm != D_CONFIRMED || l->proven >= t1)
			continue;
		st.required++;
		if (l->got == 0) {
			st.lost++;
			st.dm_lost++;
			sample(F_LOST, "lost: DM #%u confirmed to its sender never "
			    "reached session %u", s->dms.v[i],
			    (unsigned)(s - sessions));
		}
	}
	vec_free(&s->dms);
}

/*
 * Disconnects we did not cause and had no word of: evicted as too slow
 * while reading if its room said so (a reader slower than its room, on
 * a busy machine), a fault otherwise.  Judged at the very end, since a
 * room's notice may come to a lagging reader long after.
 */
static void
judge_ends(void)
{
	static const char *const heard[] = { "nothing", "too slow",
	    "connection lost", "another reason" };
	size_t	i;

	for (i = 0; i < nsessions; i++) {
		if (sessions[i].end != E_LOST)
			continue;
		if (sessions[i].heard == Q_SLOW) {
			st.evicted++;
			continue;
		}
		st.errors++;
		sample(F_ERROR, "session %zu (c%u) disconnected; its room heard "
		    "%s", i, sessions[i].client, heard[sessions[i].heard]);
	}
}

/* Judges what has waited long enough, or everything (now NEVER). */
static void
judge_due(int64_t now)
{
	struct stint	*s;
	struct session	*ss;

	while (judged_stints < closed_stints.n) {
		s = &stints[closed_stints.v[judged_stints]];
		if (s->judge > now)
			break;
		judge_stint(s);
		judged_stints++;
	}
	while (judged_sessions < closed_sessions.n) {
		ss = &sessions[closed_sessions.v[judged_sessions]];
		if (ss->ended + EVAL_DELAY > now)
			break;
		judge_session(ss, ss->end == E_NONE ? t_synced : ss->lastsent);
		judged_sessions++;
	}
}

/* --- Session ends -------------------------------------------------------- */

static const char *const endname[] = { "none", "by us", "quit", "kicked",
    "killed", "too slow", "lost" };

/*
 * The connection is over: why decides what was due.  A session we ended,
 * or that quit, was kicked, killed or evicted, is owed what was proven
 * processed before the newest line it got (the rest may have been in
 * flight); any other end is unexplained, an error.
 */
static void
client_end(struct client *c, int64_t now, int why)
{
	struct session	*s = &sessions[c->session];

	conn_close(&c->conn, 0);
	if (why == E_LOST) {
		if (s->killed)
			why = E_KILLED;
		else if (s->kicked)
			why = E_KICKED;
		else if (c->state == C_QUITTING)
			why = E_QUIT;
		else if (s->stalled)
			why = E_SLOW;
	}
	if (why == E_SLOW)
		st.evicted++;
	if (why == E_KICKED && !s->kicked) {
		st.errors++;
		sample(F_ERROR, "%s: kicked without a kick line", c->name);
	}
	if (why == E_QUIT && c->state != C_QUITTING) {
		st.errors++;
		sample(F_ERROR, "%s: goodbye without /quit", c->name);
	}
	if (c->state < C_READY && why != E_US && why != E_KILLED &&
	    why != E_LOST) {
		st.errors++;
		sample(F_ERROR, "%s: not registered: %s", c->name, endname[why]);
	}
	s->end = (uint8_t)why;
	s->ended = now;
	stint_close(c, s->lastsent, now);
	vec_push(&closed_sessions, c->session);
	c->state = C_OFF;
	c->pending = PD_NONE;
	c->stalled = 0;
	c->next = now + (int64_t)(0.2 * NS) + (int64_t)rnd_below(800) * MS;
}

/* We end the session: close, or a reset (SO_LINGER 0). */
static void
client_hangup(struct client *c, int64_t now, int reset)
{
	conn_close(&c->conn, reset);
	client_end(c, now, E_US);
}

/* --- What a client receives ---------------------------------------------- */

/*
 * The letter c and a decimal number after it, from *s on; moves *s past
 * them. Not sscanf: a name is chatd's output, and a number too big for
 * sscanf's %u would be undefined behaviour rather than a mismatch.
 */
static int
name_number(const char **s, char c, unsigned *v)
{
	unsigned long	 n;
	char		*end;

	if (**s != c || (*s)[1] < '0' || (*s)[1] > '9')
		return 0;
	errno = 0;
	n = strtoul(*s + 1, &end, 10);
	if (errno != 0 || n > UINT_MAX)
		return 0;
	*v = (unsigned)n;
	*s = end;
	return 1;
}

/* "cCLIENTsSESSIONnNICK": whose name it is; 0 if it is none of ours. */
static int
name_owner(const char *s, size_t n, uint32_t *session)
{
	char		 buf[NAME_LEN + 1];
	const char	*p = buf;
	unsigned	 cl, se, ni;

	if (n == 0 || n > NAME_LEN)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!name_number(&p, 'c', &cl) || !name_number(&p, 's', &se) ||
	    !name_number(&p, 'n', &ni) || *p != '\0' ||
	    se >= nsessions || sessions[se].client != cl)
		return 0;
	*session = se;
	return 1;
}

/* "#ID" and the pad after a space: the line's id, or NONE. */
static uint32_t
parse_tag(const char *s, size_t n, const char **pad, size_t *padlen)
{
	uint64_t	id = 0;
	size_t		i;

	if (n < 2 || s[0] != '#')
		return NONE;
	for (i = 1; i < n && i < 11 && s[i] >= '0' && s[i] <= '9'; i++)
		id = id * 10 + (uint64_t)(s[i] - '0');
	if (i == 1 || (i < n && s[i] != ' ') || id >= nlines)
		return NONE;
	*pad = i < n ? s + i + 1 : s + n;
	*padlen = i < n ? n - i - 1 : 0;
	return (uint32_t)id;
}

/* Whether a line arrived whole: from its sender, as sent, cleaned. */
static int
line_intact(uint32_t id, const char *name, size_t namelen, const char *pad,
    size_t padlen)
{
	char		want[LONG_PAD + 64];
	size_t		n = pad_text(id, 1, want);
	uint32_t	owner;

	if (!name_owner(name, namelen, &owner) || owner != lines[id].session ||
	    n != padlen || memcmp(want, pad, n) != 0) {
		st.corrupt++;
		sample(F_CORRUPT, "line #%u arrived damaged or under another name (%.*s)",
		    id, (int)namelen, name);
		return 0;
	}
	return 1;
}

/* Whether id is among what the stint got already. */
static int
stint_has(const struct stint *s, uint32_t id)
{
	size_t	i;

	for (i = s->got.n; i > 0; i--)
		if (s->got.v[i - 1] == id)
			return 1;
	return 0;
}

/* A chat or /me line, live or replayed, in the receiver's room. */
static void
got_room_line(struct client *c, uint32_t id, int history, int64_t now)
{
	struct line	*l = &lines[id];
	struct stint	*s;
	struct seen	*sn;

	if (c->stint == NONE || l->kind == K_DM) {
		st.misdelivered++;
		sample(F_MIS, "line #%u reached %s outside any room", id, c->name);
		return;
	}
	s = &stints[c->stint];
	if (history && l->session == c->session && l->room == s->room) {
		st.history++;	/* our own line in the room's history */
		return;
	}
	if (l->room != s->room || l->session == c->session) {
		st.misdelivered++;
		sample(F_MIS, "line #%u of %s from session %u reached %s "
		    "in %s%s", id, room_name(l->room), l->session, c->name,
		    room_name(s->room), history ? " (history)" : "");
		return;
	}
	sn = &c->seen[sessions[l->session].client];
	if (sn->epoch == c->stint && sn->session == l->session &&
	    id <= sn->line) {
		if (stint_has(s, id)) {
			st.dup++;
			sample(F_DUP, "line #%u reached %s twice", id, c->name);
			return;
		}
		st.reordered++;
		sample(F_ORDER, "line #%u reached %s after #%u", id, c->name, sn->line);
	} else {
		sn->epoch = c->stint;
		sn->session = l->session;
		sn->line = id;
	}
	vec_push(&s->got, id);
	if (history) {
		st.history++;
		return;
	}
	st.delivered++;
	t_last_rx = now;
	if (l->sent > sessions[c->session].lastsent)
		sessions[c->session].lastsent = l->sent;
}

static void
got_dm(struct client *c, uint32_t id, int64_t now)
{
	struct line	*l = &lines[id];
	struct seen	*sn;

	if (l->kind != K_DM || l->target != c->session) {
		st.misdelivered++;
		sample(F_MIS, "DM #%u for session %u reached %s", id, l->target,
		    c->name);
		return;
	}
	if (++l->got > 1) {
		st.dup++;
		sample(F_DUP, "DM #%u reached %s twice", id, c->name);
		return;
	}
	sn = &c->dmseen[sessions[l->session].client];
	if (sn->epoch == c->session && sn->session == l->session &&
	    id < sn->line) {
		st.reordered++;
		sample(F_ORDER, "DM #%u reached %s after #%u", id, c->name, sn->line);
	} else {
		sn->epoch = c->session;
		sn->session = l->session;
		sn->line = id;
	}
	st.delivered++;
	t_last_rx = now;
	if (l->sent > sessions[c->session].lastsent)
		sessions[c->session].lastsent = l->sent;
}

/*
 * "<NAME> TEXT", "* NAME TEXT" (/me), "*NAME* TEXT" (a DM): ours when
 * TEXT is a tag.  Returns 0 when the line is none of these.
 */
static int
tagged(struct client *c, const char *s, size_t n, int history, int64_t now)
{
	const char	*name, *end = s + n, *text, *pad;
	size_t		 namelen, padlen;
	uint32_t	 id, owner;
	int		 dm = 0;

	if (n > 2 && s[0] == '<') {
		name = s + 1;
		if ((text = memchr(name, '>', (size_t)(end - name))) == NULL ||
		    text + 1 >= end || text[1] != ' ')
			return 0;
		namelen = (size_t)(text - name);
		text += 2;
	} else if (n > 2 && s[0] == '*' && s[1] != ' ') {
		name = s + 1;
		if ((text = memchr(name, '*', (size_t)(end - name))) == NULL ||
		    text + 1 >= end || text[1] != ' ')
			return 0;
		namelen = (size_t)(text - name);
		text += 2;
		dm = 1;
	} else if (n > 2 && s[0] == '*' && s[1] == ' ') {
		name = s + 2;
		if ((text = memchr(name, ' ', (size_t)(end - name))) == NULL ||
		    text + 1 >= end || text[1] != '#')
			return 0;
		namelen = (size_t)(text - name);
		text += 1;
	} else
		return 0;
	if ((id = parse_tag(text, (size_t)(end - text), &pad, &padlen)) ==
	    NONE) {
		if (dm || text[0] != '~' || !name_owner(name, namelen, &owner))
			return 0;
		st.garbage++;	/* cleaned garbage: anything goes */
		return 1;
	}
	if (!line_intact(id, name, namelen, pad, padlen))
		return 1;
	if (lines[id].kind != (dm ? K_DM : s[0] == '*' ? K_ME : K_CHAT)) {
		st.misdelivered++;
		sample(F_MIS, "line #%u arrived as another kind", id);
		return 1;
	}
	prove(lines[id].session, id, now);
	if (dm && history) {
		st.misdelivered++;
		sample(F_MIS, "DM #%u replayed as history", id);
	} else if (dm)
		got_dm(c, id, now);
	else
		got_room_line(c, id, history, now);
	return 1;
}

static int
starts(const char *s, size_t n, const char *prefix)
{
	size_t	k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

static int
equals(const char *s, size_t n, const char *what)
{
	return strlen(what) == n && memcmp(s, what, n) == 0;
}

static void
unexpected(struct client *c, const char *s, size_t n)
{
	st.errors++;
	sample(F_ERROR, "%s got an unexpected line: %.*s", c->name,
	    (int)(n > 120 ? 120 : n), s);
}

/* The command awaited is answered: whatever it follows was processed. */
static void
answered(struct client *c, int64_t now)
{
	if (now - c->pend_since > REPLY_SLOW)
		st.slow_replies++;
	prove_all(c->session, now);
	c->pending = PD_NONE;
}

static void
registered(struct client *c, int64_t now)
{
	sessions[c->session].registered = 1;
	c->state = C_READY;
	stint_open(c, ROOM_LOBBY, now);
	c->next = now + (c->role == R_NORMAL || c->role == R_OP ?
	    rnd_delay(opt_action) : 0);
	c->flood_due = now;
}

/* "* you are now in ROOM (N users)": the stint in the old room is over. */
static int
joined(struct client *c, const char *s, size_t n, int64_t now)
{
	const char	*room = s + 17, *sp;
	int		 r;

	if (!starts(s, n, "* you are now in ") ||
	    (sp = memchr(room, ' ', n - 17)) == NULL ||
	    (r = room_index(room, (size_t)(sp - room))) == -1)
		return 0;
	if (c->pending != PD_JOIN || r != c->pend_room) {
		unexpected(c, s, n);
		return 1;
	}
	stint_close(c, c->pend_since, now);
	stint_open(c, (uint16_t)r, now);
	st.joins++;
	answered(c, now);
	if (c->long_stall && !ending) {
		c->stalled = 1;
		sessions[c->session].stalled = 1;
		c->stall_until = now + (int64_t)(opt_stall * NS);
		conn_reading(&c->conn, 0);
	}
	return 1;
}

/* Replies to the operator's /kick, /ban and /unban. */
static int
op_reply(struct client *c, const char *s, size_t n, int64_t now)
{
	char	want[128];

	if (c->pending == PD_KICK || c->pending == PD_BAN) {
		snprintf(want, sizeof want, "* %s was %s by %s (soak)",
		    c->pend_name, c->pending == PD_BAN ? "banned" : "kicked",
		    c->name);
		if (equals(s, n, want)) {
			if (c->pending == PD_BAN) {
				st.bans++;
				snprintf(unban_addr, sizeof unban_addr, "%s",
				    c->pend_addr);
				t_unban = now + 3 * NS;
			} else
				st.kicks++;
			answered(c, now);
			return 1;
		}
		snprintf(want, sizeof want, "! the ban table is full; %s was "
		    "only kicked", c->pend_name);
		if (equals(s, n, want)) {
			st.kicks++;
			answered(c, now);
			return 1;
		}
	}
	if (c->pending == PD_UNBAN && starts(s, n, "* unbanned ")) {
		st.unbans++;
		answered(c, now);
		return 1;
	}
	return 0;
}

/* Notes the reason for NAME's end, if NAME is ours; 0 if no such line. */
static int
quit_notice(const char *s, size_t n)
{
	const char	*q;
	uint32_t	 se;

	if (!starts(s, n, "* ") || (q = memchr(s + 2, ' ', n - 2)) == NULL ||
	    !starts(q, (size_t)(s + n - q), " quit") ||
	    !name_owner(s + 2, (size_t)(q - s - 2), &se))
		return 0;
	q += 5;
	if (equals(q, (size_t)(s + n - q), " (too slow)"))
		sessions[se].heard = Q_SLOW;
	else if (equals(q, (size_t)(s + n - q), " (connection lost)"))
		sessions[se].heard = Q_LOST;
	else
		sessions[se].heard = Q_OTHER;
	return 1;
}

/* A line that answers the command awaited, or an error line. */
static void
reply(struct client *c, const char *s, size_t n, int64_t now)
{
	char		 want[128];
	const char	*pad;
	size_t		 padlen, k;
	uint32_t	 id;

	if (joined(c, s, n, now) || op_reply(c, s, n, now))
		return;
	if (c->pending == PD_DM && starts(s, n, "-> *") &&
	    (pad = memchr(s + 4, '*', n - 4)) != NULL && pad + 2 < s + n &&
	    (id = parse_tag(pad + 2, (size_t)(s + n - pad - 2), &pad,
	    &padlen)) == c->pend_line) {
		k = pad_text(id, 1, want);
		if (k != padlen || memcmp(want, pad, k) != 0) {
			st.corrupt++;
			sample(F_CORRUPT, "DM #%u confirmed damaged", id);
		}
		lines[id].dm = D_CONFIRMED;
		answered(c, now);
		return;
	}
	if (c->pending == PD_JOIN && starts(s, n, "! you are already in ")) {
		answered(c, now);
		return;
	}
	if (starts(s, n, "! no such user: ") && (c->pending == PD_DM ||
	    c->pending == PD_KICK || c->pending == PD_BAN)) {
		if (c->pending == PD_DM)
			lines[c->pend_line].dm = D_REFUSED;
		answered(c, now);
		return;
	}
	if (c->pending == PD_SYNC &&
	    equals(s, n, "! unknown command: /sync (try /help)")) {
		st.syncs++;
		answered(c, now);
		return;
	}
	if (c->pending == PD_LONG &&
	    equals(s, n, "! line too long (max 1024 bytes)")) {
		answered(c, now);
		return;
	}
	snprintf(want, sizeof want, "* you are now known as %s", c->pend_name);
	if (c->pending == PD_NICK && equals(s, n, want)) {
		memcpy(c->name, c->pend_name, sizeof c->name);
		sessions[c->session].nick++;
		st.renames++;
		answered(c, now);
		return;
	}
	if (starts(s, n, "! you were kicked by ") ||
	    starts(s, n, "! you were banned by ")) {
		sessions[c->session].kicked = 1;
		return;
	}
	if (quit_notice(s, n))
		return;
	snprintf(want, sizeof want, "* Goodbye, %s.", c->name);
	if (c->state == C_QUITTING && equals(s, n, want))
		return;
	if (!starts(s, n, "* "))
		unexpected(c, s, n);
	/* Any other "* " line is a notice or an answer to /who and such. */
}

/* A line before registration: greeting, prompt, hello, or a refusal. */
static void
registering(struct client *c, const char *s, size_t n, int64_t now)
{
	char	want[96];

	if (c->state == C_GREETING && equals(s, n, CONN_PROMPT)) {
		c->state = C_HELLO;
		if (conn_send_line(&c->conn, c->name, strlen(c->name)) == -1)
			die("bug: output full");
		return;
	}
	snprintf(want, sizeof want, "* Hello, %s! You are in lobby. Type "
	    "/help for commands.", c->name);
	if (c->state == C_HELLO && equals(s, n, want)) {
		registered(c, now);
		return;
	}
	if (starts(s, n, "* "))
		return;
	unexpected(c, s, n);
}

/* conn.c: a line from the server. */
static void
client_line(struct conn *cn, const char *s, size_t n, int64_t now)
{
	struct client	*c = client_of(cn);

	if (memmem(s, n, "ZZLONG", 6) != NULL) {
		st.misdelivered++;
		sample(F_MIS, "part of an over-long line reached %s", c->name);
		return;
	}
	if (c->state < C_READY) {
		registering(c, s, n, now);
		return;
	}
	if (c->in_history) {
		if (equals(s, n, "* end of history"))
			c->in_history = 0;
		else if (n < 8 || s[0] != '[' || s[6] != ']' || s[7] != ' ' ||
		    !tagged(c, s + 8, n - 8, 1, now))
			unexpected(c, s, n);
		return;
	}
	if (starts(s, n, "* history: last ")) {
		c->in_history = 1;
		return;
	}
	if (equals(s, n, "* You are the operator.") ||
	    equals(s, n, "* You are now the operator.")) {
		/* With -m nobody waits for the operator: any may be it. */
		if (c->role != R_OP && !opt_minimal)
			unexpected(c, s, n);
		return;
	}
	if (tagged(c, s, n, 0, now))
		return;
	if (n > 0 && s[0] == '<') {
		unexpected(c, s, n);
		return;
	}
	reply(c, s, n, now);
}

static const struct conn_ops	client_ops = {
	client_up, client_line, client_overlong, client_down
};

/* --- What a client does -------------------------------------------------- */

static void
await(struct client *c, int what, int64_t now)
{
	c->pending = (uint8_t)what;
	c->pend_since = now;
}

/* A tagged line: chat, /me, or a DM to the session target. */
static void
say(struct client *c, enum kind kind, enum pad pad, uint32_t target,
    int64_t now)
{
	char		buf[LONG_PAD + 128];
	size_t		n = 0;
	uint32_t	id;

	id = line_new(c->session, kind, pad, kind == K_DM ? ROOM_DM : c->room,
	    target, now);
	if (kind == K_ME)
		n = (size_t)snprintf(buf, sizeof buf, "/me ");
	else if (kind == K_DM) {
		n = (size_t)snprintf(buf, sizeof buf, "/msg %s ",
		    clients[sessions[target].client].name);
		c->pend_line = id;
		await(c, PD_DM, now);
		st.dms++;
	}
	n += (size_t)snprintf(buf + n, sizeof buf - n, "#%u ", id);
	n += pad_text(id, 0, buf + n);
	buf[n++] = '\n';
	queue(c, buf, n);
	if (pad == P_IAC)
		st.iac++;
}

/* Garbage that is still a chat line: no LF, no IAC, no leading /. */
static void
garbage(struct client *c)
{
	char	buf[256];
	size_t	i, n = 1 + rnd_below(200);

	buf[0] = '~';
	for (i = 1; i < n; i++) {
		do
			buf[i] = (char)rnd_below(255);
		while (buf[i] == '\n');
	}
	buf[n++] = '\n';
	queue(c, buf, n);
}

static void
overlong(struct client *c, int64_t now)
{
	char	buf[OVERLONG + 1];
	size_t	i;

	/* Bytes sent by their length, not a string: no '\0' is wanted. */
	for (i = 0; i + 6 <= OVERLONG; i += 6)
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
		memcpy(buf + i, "ZZLONG", 6);
	memset(buf + i, 'Z', OVERLONG - i);
	buf[OVERLONG] = '\n';
	queue(c, buf, sizeof buf);
	await(c, PD_LONG, now);
	st.overlong++;
}

static void
join(struct client *c, uint16_t room, int64_t now)
{
	char	buf[64];

	snprintf(buf, sizeof buf, room == ROOM_LOBBY && rnd_below(2) ?
	    "/leave\n" : "/join %s\n", room_name(room));
	queue_str(c, buf);
	c->pend_room = room;
	await(c, PD_JOIN, now);
}

static void
nick(struct client *c, int64_t now)
{
	char	buf[64];

	snprintf(c->pend_name, sizeof c->pend_name, "c%us%un%u",
	    (unsigned)(c - clients), c->session,
	    sessions[c->session].nick + 1);
	snprintf(buf, sizeof buf, "/nick %s\n", c->pend_name);
	queue_str(c, buf);
	await(c, PD_NICK, now);
}

static void
sync_cmd(struct client *c, int64_t now)
{
	queue_str(c, "/sync\n");
	await(c, PD_SYNC, now);
}

/* A random registered user other than c, or NULL. */
static struct client *
someone(const struct client *c, int normal_only)
{
	struct client	*o;
	int		 try;

	for (try = 0; try < 8; try++) {
		o = &clients[rnd_below(opt_clients)];
		if (o != c && o->state == C_READY &&
		    (!normal_only || o->role == R_NORMAL))
			return o;
	}
	return NULL;
}

static void
info(struct client *c)
{
	static const char *const cmds[] = { "/who\n", "/users\n", "/rooms\n",
	    "/stats\n", "/help\n" };

	queue_str(c, cmds[rnd_below(5)]);
}

static void
stall(struct client *c, int64_t now)
{
	c->stalled = 1;
	sessions[c->session].stalled = 1;
	c->stall_until = now + (int64_t)(0.5 * NS) + rnd_below(4500) * MS;
	st.stalls++;
	conn_reading(&c->conn, 0);
}

/* A random room other than the flood and the current one. */
static uint16_t
other_room(const struct client *c)
{
	uint16_t	r;

	do
		r = (uint16_t)rnd_below(NROOMS + 1);
	while (r == c->room);
	return r;
}

/*
 * One action of a user, by weight (per mille).  The operator and the
 * watchers never leave or stall: the operator must stay to kick, and
 * the watchers read the flood.
 */
static void
act(struct client *c, int64_t now)
{
	uint32_t	 w = rnd_below(1000);
	struct client	*o;

	/* What the others do from 920 on (stall, leave), they chat. */
	if (c->role != R_NORMAL && w >= 920)
		w = 0;
	if (opt_minimal || w < 400)
		say(c, K_CHAT, P_PLAIN, 0, now);
	else if (w < 420) {
		say(c, K_CHAT, P_IAC, 0, now);
	} else if (w < 440)
		say(c, K_CHAT, P_UTF8, 0, now);
	else if (w < 480)
		say(c, K_ME, P_PLAIN, 0, now);
	else if (w < 630) {
		if ((o = someone(c, 0)) != NULL)
			say(c, K_DM, rnd_below(4) ? P_PLAIN : P_UTF8,
			    o->session, now);
	} else if (w < 700)
		join(c, c->role == R_WATCHER ? ROOM_FLOOD : other_room(c), now);
	else if (w < 720)
		join(c, c->role == R_WATCHER ? ROOM_FLOOD : ROOM_LOBBY, now);
	else if (w < 760)
		nick(c, now);
	else if (w < 840)
		sync_cmd(c, now);
	else if (w < 870)
		info(c);
	else if (w < 900)
		garbage(c);
	else if (w < 920)
		overlong(c, now);
	else if (w < 945)
		stall(c, now);
	else if (w < 950) {
		if (opt_flood > 0 && opt_stall > 0) {
			c->long_stall = 1;
			st.long_stalls++;
			join(c, ROOM_FLOOD, now);
		}
	} else if (w < 970) {
		queue_str(c, "/quit soak\n");
		c->state = C_QUITTING;
		st.quits++;
	} else if (w < 985) {
		st.closes++;
		client_hangup(c, now, 0);
	} else {
		st.resets++;
		client_hangup(c, now, 1);
	}
}

/* The operator kicks every 2 s, bans every 10 s, unbans 3 s after. */
static int64_t	next_kick, next_ban;

static int
op_act(struct client *c, int64_t now)
{
	struct client	*v;
	struct in_addr	 a;
	char		 buf[96];

	if (unban_addr[0] != '\0' && now >= t_unban) {
		snprintf(buf, sizeof buf, "/unban %s\n", unban_addr);
		unban_addr[0] = '\0';
		queue_str(c, buf);
		await(c, PD_UNBAN, now);
		return 1;
	}
	if (now < next_kick || (v = someone(c, 1)) == NULL)
		return 0;
	next_kick = now + 2 * NS;
	if (now >= next_ban && unban_addr[0] == '\0') {
		next_ban = now + 10 * NS;
		await(c, PD_BAN, now);
		a.s_addr = htonl(sessions[v->session].addr);
		if (inet_ntop(AF_INET, &a, c->pend_addr,
		    sizeof c->pend_addr) == NULL)
			die("inet_ntop: %s", strerror(errno));
		snprintf(buf, sizeof buf, "/ban %s soak\n", v->name);
	} else {
		await(c, PD_KICK, now);
		snprintf(buf, sizeof buf, "/kick %s soak\n", v->name);
	}
	memcpy(c->pend_name, v->name, sizeof c->pend_name);
	queue_str(c, buf);
	return 1;
}

/* The flooder keeps the flood room at opt_flood long lines a second. */
static void
flood(struct client *c, int64_t now)
{
	if (c->room != ROOM_FLOOD) {
		join(c, ROOM_FLOOD, now);
		return;
	}
	while (c->flood_due <= now && conn_room(&c->conn) >= LONG_PAD + 64) {
		say(c, K_CHAT, P_LONG, 0, now);
		c->flood_due += (int64_t)(NS / opt_flood);
	}
	if (c->flood_due < now - NS)
		c->flood_due = now;	/* behind: no burst to catch up */
}

/* --- The schedule -------------------------------------------------------- */

enum phase { PH_RUN, PH_SYNC, PH_DRAIN, PH_DONE };
static enum phase	phase = PH_RUN;
static int64_t		phase_since;
#define RAMP		50	/* clients registering at once at most */

static int
registering_state(const struct client *c)
{
	return c->state >= C_CONNECTING && c->state <= C_HELLO;
}

/* Connects who is due: the operator alone first, then at most RAMP. */
static void
tick_connect(struct client *c, int64_t now, unsigned *inflight)
{
	if (ending || now < c->next || *inflight >= RAMP)
		return;
	if (!opt_minimal && c->role != R_OP && (clients[0].session == NONE ||
	    !sessions[clients[0].session].registered))
		return;
	if (c->session != NONE)
		st.reconnects++;
	client_connect(c, now);
	(*inflight)++;
}

static void
tick_ready(struct client *c, int64_t now)
{
	if (c->stalled) {
		if (now < c->stall_until && !ending)
			return;
		c->stalled = c->long_stall = 0;
		conn_reading(&c->conn, 1);
	}
	/* However late, an answer must come: the end checks that it did. */
	if (c->pending != PD_NONE)
		return;
	if (ending) {
		if (!c->final && !opt_minimal) {
			c->final = 1;
			sync_cmd(c, now);
		}
		return;
	}
	if (c->role == R_FLOODER) {
		flood(c, now);
		return;
	}
	if (c->role == R_WATCHER && c->room != ROOM_FLOOD) {
		join(c, ROOM_FLOOD, now);
		return;
	}
	if (c->role == R_OP && op_act(c, now))
		return;
	if (now >= c->next) {
		act(c, now);
		if (c->conn.fd != -1 && c->state == C_QUITTING)
			c->next = now + END_WAIT;
		else
			c->next = now + rnd_delay(opt_action);
	}
}

static void
tick_clients(int64_t now)
{
	unsigned	i, inflight = 0;
	struct client	*c;

	for (i = 0; i < opt_clients; i++)
		inflight += registering_state(&clients[i]);
	for (i = 0; i < opt_clients; i++) {
		c = &clients[i];
		if (c->state == C_OFF)
			tick_connect(c, now, &inflight);
		else if (registering_state(c) && (now >= c->next || (ending &&
		    phase == PH_SYNC))) {
			if (!ending) {
				st.errors++;
				sample(F_ERROR, "%s: not registered in %lld s", c->name,
				    (long long)(REG_TIMEOUT / NS));
			}
			client_end(c, now, E_US);
		} else if (c->state == C_READY)
			tick_ready(c, now);
		else if (c->state == C_QUITTING && now >= c->next) {
			st.errors++;
			sample(F_ERROR, "%s: no goodbye after /quit", c->name);
			client_end(c, now, E_US);
		}
		conn_flush(&c->conn);
	}
}

/* Whether every client is done with the last /sync (or gone). */
static int
all_synced(void)
{
	unsigned	i;

	for (i = 0; i < opt_clients; i++) {
		if (clients[i].state == C_QUITTING)
			return 0;
		if (clients[i].state == C_READY && (clients[i].pending !=
		    PD_NONE || (!clients[i].final && !opt_minimal)))
			return 0;
	}
	return 1;
}

static void
tick(int64_t now)
{
	if (!ending && opt_kill > 0 && opt_pid != 0 && now >= next_kill) {
		kill_one();
		next_kill = now + (int64_t)(opt_kill * NS);
	}
	if (!ending && opt_stop > 0 && opt_pid != 0 && now >= next_stop) {
		stop_one(now);
		next_stop = now + (int64_t)(opt_stop * NS);
	}
	stopper_due(ending ? NEVER : now);
	tick_clients(now);
	judge_due(now);
	switch (phase) {
	case PH_RUN:
		if (now >= t_end) {
			ending = 1;
			phase = PH_SYNC;
			phase_since = now;
		}
		break;
	case PH_SYNC:
		if (all_synced() || now - phase_since > END_WAIT) {
			if (!all_synced()) {
				st.errors++;
				sample(F_ERROR, "the last /sync went unanswered");
			}
			t_synced = now;
			phase = PH_DRAIN;
			phase_since = now;
		}
		break;
	case PH_DRAIN:
		if (now - (t_last_rx > t_synced ? t_last_rx : t_synced) >=
		    QUIET || now - phase_since > END_WAIT)
			phase = PH_DONE;
		break;
	case PH_DONE:
		break;
	}
}

/* The end: every live session is owed what was proven before t_synced. */
static void
close_all(int64_t now)
{
	unsigned	i;
	struct client	*c;

	for (i = 0; i < opt_clients; i++) {
		c = &clients[i];
		if (c->conn.fd == -1)
			continue;
		if (c->state == C_READY && c->pending != PD_NONE) {
			st.errors++;
			sample(F_ERROR, "%s: command %d never answered", c->name,
			    c->pending);
		}
		if (c->state == C_READY) {
			stint_close(c, t_synced, now);
			sessions[c->session].ended = now;
			vec_push(&closed_sessions, c->session);
		}
		conn_close(&c->conn, 0);
		c->state = C_OFF;
	}
	judge_due(NEVER);
	judge_ends();
}

/* Waits (bounded) for the server to be back where it started. */
static void
settle(void)
{
	int64_t		end = now_ns() + END_WAIT;
	struct timespec	ts = { 0, 100 * MS };

	for (;;) {
		census(&c_end);
		if (census_same() || now_ns() > end)
			return;
		if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
			die("nanosleep: %s", strerror(errno));
	}
}

static void
loop(void)
{
	int64_t	now, last = 0;

	while (phase != PH_DONE) {
		conn_wait(TICK_MS);
		now = now_ns();
		if (now - last >= TICK_MS * MS) {
			tick(now);
			last = now;
		}
	}
	close_all(now_ns());
}

/* --- Report and setup ---------------------------------------------------- */

static int
failed(void)
{
	return st.lost || st.dup || st.misdelivered || st.reordered ||
	    st.corrupt || st.errors || !census_same();
}

static void
report(double secs)
{
	printf("%-14s %u clients for %.0f s, %" PRIu64 " sessions "
	    "(%" PRIu64 " reconnects)\n", "run", opt_clients, secs,
	    st.sessions, st.reconnects);
	printf("%-14s %" PRIu64 " tagged lines (%" PRIu64 " DMs, %" PRIu64
	    " with telnet sequences), %" PRIu64 " over-long\n", "sent",
	    st.sent, st.dms, st.iac, st.overlong);
	printf("%-14s %" PRIu64 " due, %" PRIu64 " delivered, %" PRIu64
	    " replayed as history, %" PRIu64 " garbage lines\n", "received",
	    st.required, st.delivered, st.history, st.garbage);
	printf("%-14s lost %" PRIu64 " (DMs %" PRIu64 "), duplicated %" PRIu64
	    ", misdelivered %" PRIu64 ", reordered %" PRIu64 ", corrupt %"
	    PRIu64 ", errors %" PRIu64 "\n", "faults", st.lost, st.dm_lost,
	    st.dup, st.misdelivered, st.reordered, st.corrupt, st.errors);
	printf("%-14s %" PRIu64 " kills, %" PRIu64 " stops, %" PRIu64
	    " kicks, %" PRIu64 " bans (%" PRIu64 " lifted), %" PRIu64
	    " evicted as too slow\n", "disruption", st.kills, st.stops,
	    st.kicks, st.bans, st.unbans, st.evicted);
	printf("%-14s %" PRIu64 " quits, %" PRIu64 " closes, %" PRIu64
	    " resets, %" PRIu64 " stalls, %" PRIu64 " long stalls, %" PRIu64
	    " renames, %" PRIu64 " room changes\n", "users", st.quits,
	    st.closes, st.resets, st.stalls, st.long_stalls, st.renames,
	    st.joins);
	printf("%-14s %" PRIu64 " commands answered after more than %lld s\n",
	    "slowness", st.slow_replies, (long long)(REPLY_SLOW / NS));
	printf("%-14s processes %ld -> %ld, listener fds %ld -> %ld, "
	    "/dev/shm segment %ld -> %ld, run dir entries %ld -> %ld\n",
	    "server", c_start.procs, c_end.procs, c_start.fds, c_end.fds,
	    c_start.shm, c_end.shm, c_start.rundir, c_end.rundir);
	printf("RESULT clients=%u seconds=%.0f sent=%" PRIu64 " due=%" PRIu64
	    " delivered=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
	    " misdelivered=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64
	    " kills=%" PRIu64 " stops=%" PRIu64 " reconnects=%" PRIu64
	    " kicks=%" PRIu64
	    " bans=%" PRIu64 " evicted=%" PRIu64 " errors=%" PRIu64
	    " procs_start=%ld procs_end=%ld fds_start=%ld fds_end=%ld"
	    " shm_start=%ld shm_end=%ld rundir_start=%ld rundir_end=%ld"
	    " verdict=%s\n", opt_clients, secs, st.sent, st.required,
	    st.delivered, st.lost, st.dup, st.misdelivered, st.reordered,
	    st.corrupt, st.kills, st.stops, st.reconnects, st.kicks, st.bans,
	    st.evicted,
	    st.errors, c_start.procs, c_end.procs, c_start.fds, c_end.fds,
	    c_start.shm, c_end.shm, c_start.rundir, c_end.rundir,
	    failed() ? "FAIL" : "PASS");
	if (fflush(stdout) == EOF)
		die("stdout: %s", strerror(errno));
}

static double
opt_num(const char *s, double min, double max, const char *what)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		fprintf(stderr, "soak: %s must be %g to %g: %s\n", what, min,
		    max, s);
		usage();
	}
	return v;
}

static void
getopts(int argc, char **argv)
{
	int	ch;

	opt_seed = (unsigned)getpid();
	while ((ch = getopt(argc, argv, "a:d:f:H:I:k:mn:p:R:S:s:t:z:")) != -1) {
		switch (ch) {
		case 'a':
			opt_action = opt_num(optarg, 0.01, 3600, "-a");
			break;
		case 'd':
			opt_seconds = opt_num(optarg, 1, 86400, "-d");
			break;
		case 'f':
			opt_flood = opt_num(optarg, 0, 10000, "-f");
			break;
		case 'H':
			opt_host = optarg;
			break;
		case 'I':
			opt_instance = optarg;
			break;
		case 'k':
			opt_kill = opt_num(optarg, 0, 3600, "-k");
			break;
		case 'm':
			opt_minimal = 1;
			break;
		case 'n':
			opt_clients = (unsigned)opt_num(optarg, 1, 10000, "-n");
			break;
		case 'p':
			opt_port = (int)opt_num(optarg, 1, 65535, "-p");
			break;
		case 'R':
			opt_rundir = optarg;
			break;
		case 'S':
			opt_pid = (pid_t)opt_num(optarg, 1, INT_MAX, "-S");
			break;
		case 's':
			opt_seed = (unsigned)opt_num(optarg, 0, UINT_MAX, "-s");
			break;
		case 't':
			opt_stall = opt_num(optarg, 0, 3600, "-t");
			break;
		case 'z':
			opt_stop = opt_num(optarg, 0, 3600, "-z");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt_port == 0)
		usage();
	if (!opt_minimal && opt_clients < 6) {
		fprintf(stderr, "soak: -n must be at least 6 without -m\n");
		usage();
	}
}

static void
setup(void)
{
	char		port[16];
	rlim_t		nofile;
	unsigned	i;

	nofile = conn_nofile();
	if (nofile != RLIM_INFINITY && nofile < opt_clients + 64ULL)
		die("%u clients need %u descriptors", opt_clients,
		    opt_clients + 64);
	snprintf(port, sizeof port, "%d", opt_port);
	conn_resolve(opt_host, port, AF_INET, &server, &serverlen);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal: %s", strerror(errno));
	if (stopper_init() == -1)
		die("stopper_init: %s", strerror(errno));
	conn_setup(&client_ops);
	rng_state = 0x9e3779b97f4a7c15ULL ^ opt_seed;
	clients = xrealloc(NULL, opt_clients, sizeof *clients);
	memset(clients, 0, opt_clients * sizeof *clients);
	for (i = 0; i < opt_clients; i++) {
		conn_init(&clients[i].conn, xrealloc(NULL, IN_SIZE, 1), IN_SIZE,
		    xrealloc(NULL, OUT_SIZE, 1), OUT_SIZE);
		clients[i].session = NONE;
		clients[i].stint = NONE;
		clients[i].seen = xrealloc(NULL, opt_clients,
		    sizeof *clients[i].seen);
		clients[i].dmseen = xrealloc(NULL, opt_clients,
		    sizeof *clients[i].dmseen);
		memset(clients[i].seen, 0xff, opt_clients *
		    sizeof *clients[i].seen);
		memset(clients[i].dmseen, 0xff, opt_clients *
		    sizeof *clients[i].dmseen);
		if (!opt_minimal)
			clients[i].role = i == 0 ? R_OP : i == 1 && opt_flood > 0 ?
			    R_FLOODER : (i == 2 || i == 3) && opt_flood > 0 ?
			    R_WATCHER : R_NORMAL;
	}
}

int
main(int argc, char **argv)
{
	getopts(argc, argv);
	setup();
	census(&c_start);
	t_start = now_ns();
	t_end = t_start + (int64_t)(opt_seconds * NS);
	next_kill = t_start + (int64_t)(opt_kill * NS);
	next_stop = t_start + (int64_t)(opt_stop * NS);
	fprintf(stderr, "soak: %u clients to %s port %d for %g s, seed %u\n",
	    opt_clients, opt_host, opt_port, opt_seconds, opt_seed);
	loop();
	settle();
	report((double)(t_synced - t_start) / NS);
	return failed() ? EX_FAIL : 0;
}
