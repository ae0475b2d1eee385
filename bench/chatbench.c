/* SPDX-License-Identifier: ISC */
/*
 * chatbench - measure a server of chatd's line protocol.
 *
 * Connects USERS clients (at most INFLIGHT connecting or registering at
 * once), registers them all in lobby and waits for the join notices to
 * settle.  Then the first SENDERS registered send for SECONDS, either at
 * RATE lines per second each on a fixed schedule or keeping WINDOW lines
 * in flight each, and every other user checks that it gets each line
 * exactly once and in order.  A line carries its sender's number, its
 * sequence number and its intended send time, so the latency of every
 * delivery is measured from when the line should have left, and
 * back-pressure shows as latency instead of hiding as a slower sender.
 *
 * With -z, the server processes serving some users (chatd's workers) are
 * stopped with SIGSTOP for the whole send phase and continued after it:
 * the latency of everybody else shows what one stopped process holds
 * up.  The server's memory (Pss of a process tree, the drop of
 * MemAvailable) and CPU time come from /proc.
 *
 * With -m, each sender sends exactly LINES lines instead of sending for
 * SECONDS; with -C the run is a check, as the tests want it: any line
 * lost, duplicated, reordered or echoed, or a connection lost, fails it,
 * and at the end every user sends /quit and waits for the server to
 * close its connection.  bench/README says what every number means.
 * One epoll loop (bench/conn.c), no threads.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "stopper.h"

#define EX_RUN		1	/* the run could not be done */
#define EX_USAGE	64

#define DEF_INFLIGHT	200	/* -c */
#define DEF_SENDERS	1	/* -s */
#define DEF_RATE	10.0	/* -r, lines per second per sender */
#define DEF_SECONDS	10.0	/* -d */
#define DEF_BYTES	64	/* -l */
#define DEF_TIMEOUT	120.0	/* -T */
#define DEF_DRAIN	5.0	/* -D: silence that ends the drain */
#define DEF_PREFIX	"u"	/* -N */
#define MAX_NAME	16	/* the protocol's longest name */
#define MAX_BYTES	1000	/* -l at most: under chatd's max-line 1024 */
#define MAX_PIDS	16	/* -S given at most this often */
#define MAX_SERVERS	8	/* ports in -p at most */
#define MAX_STOPS	STOPPER_MAX	/* users in -z at most */
#define STOP_WAIT_MS	1000	/* for a stopped process to show as stopped */
#define MAX_REASONS	8	/* distinct failure reasons kept */
#define CARRY_SIZE	1088	/* longest server line kept across reads */
#define SEND_SIZE	65536	/* a sender's output buffer */
#define LINE_ROOM	(MAX_BYTES + 64)	/* a line, stamp and LF, at most */
#define SMALL_OUT	(MAX_NAME + 2)	/* anybody else's: a name and LF */
#define SETTLE_QUIET	2.0	/* s without a join notice ends settling */
#define STALL_SECONDS	1.0	/* -w: a full window stalled this long opens */
#define LATE_NS		1000000	/* -r: a line generated 1 ms late is late */
#define REORDER_WIN	64	/* how far behind the newest a line is told */
#define HIST_SUB_BITS	9	/* 512 sub-buckets per power of two */
#define HIST_SUB	(1 << HIST_SUB_BITS)
#define HIST_MAX_SHIFT	29	/* up to 2^38 us, three days */
#define HIST_BUCKETS	((HIST_MAX_SHIFT + 2) * HIST_SUB)
#define NS		1000000000LL

enum cstate {
	C_IDLE,			/* not connected yet */
	C_CONNECTING,
	C_PROMPT,		/* waiting for "Enter your name:" */
	C_HELLO,		/* name sent, waiting for "* Hello, NAME!" */
	C_READY,		/* registered */
	C_QUIT,			/* -C: "/quit" sent, waiting for the close */
	C_CLOSED,		/* -C: closed by the server after "/quit" */
	C_FAILED,		/* never registered */
	C_LOST			/* registered, then disconnected */
};

enum phase {
	P_REGISTER,
	P_SETTLE,		/* join notices still arriving */
	P_SEND,
	P_DRAIN,		/* sending over, stragglers arriving */
	P_QUIT,			/* -C: every user quits */
	P_DONE
};

/* A user: its connection first, so that conn.c's callbacks find it. */
struct client {
	struct conn	 conn;
	uint8_t		 state;
	uint8_t		 namelen;
	uint8_t		 stopped;	/* -z: its server process is stopped */
	uint8_t		 srv;		/* its server: an index into -p */
	int32_t		 sender;	/* sender number, or -1 */
	char		 name[MAX_NAME + 1];
	char		 small[SMALL_OUT];
};

struct sender {
	uint32_t	 client;
	uint32_t	 observer;	/* -w: whose receipt takes a line out of flight */
	uint32_t	 next;		/* sequence number of the next line */
	uint32_t	 acked;		/* -w: lines the observer has got */
	uint32_t	 total;		/* -r, -m: lines due before the end */
	int64_t		 progress;	/* -w: when acked last moved */
	double		 offset;	/* -r: stagger, in periods */
};

/* What a receiver has seen of one sender. */
struct pair {
	uint32_t	 next;		/* newest sequence number seen + 1 */
	uint64_t	 mask;		/* bit i: line next - 1 - i was seen */
};

/* Latencies (see hist_index). */
struct histo {
	uint64_t	*bucket;
	uint64_t	 count;
	uint64_t	 max_us;
};

struct reason {
	char		 text[96];
	unsigned	 count;
};

/* Options. */
static const char	*host = "127.0.0.1";
static char		*ports[MAX_SERVERS];	/* -p */
static unsigned		 nservers;
static int		 oneway;	/* -F: every sender on the first server */
static const char	*prefix = DEF_PREFIX;
static unsigned		 nusers;
static unsigned		 inflight_max = DEF_INFLIGHT;
static unsigned		 nsenders = DEF_SENDERS;
static double		 rate = DEF_RATE;
static unsigned		 window;	/* 0: -r mode */
static double		 seconds = DEF_SECONDS;
static unsigned		 linebytes = DEF_BYTES;
static pid_t		 pids[MAX_PIDS];
static unsigned		 npids;
static double		 timeout = DEF_TIMEOUT;
static double		 drain_quiet = DEF_DRAIN;
static int		 quiet;
static uint32_t		 nlines;	/* -m; 0: send for -d seconds */
static int		 check;		/* -C */
static unsigned		 stop_users[MAX_STOPS];	/* -z */
static unsigned		 nstop_users;

static struct sockaddr_storage servers[MAX_SERVERS];
static socklen_t	 serverlens[MAX_SERVERS];
static int		 timerfd = -1;
static int64_t		 timer_armed;
static struct client	*clients;
static struct sender	*senders;
static struct pair	*pairs;		/* [receiver * nsenders + sender] */
static uint32_t		*order;		/* clients in the order they registered */
static struct histo	 lat;		/* every delivery */
static struct histo	 lat_across;	/* several servers: those across */
static char		*carries;	/* every client's carry, in one block */

static enum phase	 phase = P_REGISTER;
static int		 run_failed;
static unsigned		 nstarted, ninflight, nregistered, nfailed, nlost;
static unsigned		 nquit, nclosed;	/* -C */
static int64_t		 t_start, t_first_connect, t_last_hello, t_settled;
static int64_t		 t_send, t_end, t_drain, t_last_arrival, t_last_join;
static int64_t		 t_deadline;
static uint64_t		 njoins, nsent, nlate, nstalls, nnotices;
static uint64_t		 delivered, ndup, nreorder, necho, nforeign;
static int64_t		 lag_sum, lag_max;	/* -r: generated after due */
static struct reason	 reasons[MAX_REASONS];
static unsigned		 nreasons, nreasons_other;
static uint64_t		 stopped_deliveries;	/* -z */
static unsigned		 nstopped_procs;
static int64_t		 t_stopped, t_continued;

/* Server figures. */
static long long	 memavail_before, memavail_after;
static long long	 ownrss_before, ownrss_after;
static long long	 pss_registered, pss_end;
static double		 cpu_before, cpu_after;
static double		 cpu_send;	/* at the start of the send phase */
static unsigned		 nprocs_registered, nprocs_end;
static uint8_t		*pidset;	/* a bit per pid: in the measured tree */
static size_t		 pidset_bytes;
static pid_t		*ptab_pid, *ptab_ppid;
static size_t		 ptab_len, ptab_cap;

static void	vwarn(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));
static void	usage(void) __attribute__((noreturn));
static void	die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	note(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chatbench -p port[,port]... [-F] [-H host] -n users "
	    "[-c inflight]\n"
	    "                 [-s senders] [-r rate | -w window] "
	    "[-d seconds | -m lines]\n"
	    "                 [-l bytes]"
	    " [-S pid]... [-z user,...] [-T timeout] [-D drain]\n"
	    "                 [-N name_prefix] [-C] [-q]\n");
	exit(EX_USAGE);
}

/* One line on stderr: "chatbench: " and the message. */
static void
vwarn(const char *fmt, va_list ap)
{
	fputs("chatbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void
usage_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	usage();
}

/* A failure that stops the run before there is anything to report. */
static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(EX_RUN);
}

/* Progress on stderr, unless -q. */
static void
note(const char *fmt, ...)
{
	va_list	ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

static double
secs(int64_t ns)
{
	return (ns / 1e9);
}

/*
 * Memory allocated before the "before" figures are taken and touched,
 * so that chatbench's own pages do not show as the server's MemAvailable
 * drop.
 */
static void *
alloc_touched(size_t n, size_t size)
{
	void	*p;

	if (n != 0 && size > SIZE_MAX / n)
		die("out of memory");
	if ((p = malloc(n * size == 0 ? 1 : n * size)) == NULL)
		die("out of memory");
	memset(p, 0, n * size);
	return (p);
}

/* --- Options ---------------------------------------------------------- */

static unsigned
opt_uint(const char *s, unsigned min, unsigned max, const char *what)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		usage_error("%s must be %u to %u: %s", what, min, max, s);
	return ((unsigned)v);
}

static double
opt_double(const char *s, double min, double max, const char *what)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (!(*s >= '0' && *s <= '9') || *end != '\0' || errno != 0 ||
	    !isfinite(v) || v < min || v > max)
		usage_error("%s must be a number from %g to %g: %s", what, min,
		    max, s);
	return (v);
}

/* -z: user numbers, comma-separated, each at most once. */
static void
opt_stops(char *list)
{
	char		*u, *next;
	unsigned	 i;

	for (u = list; u != NULL; u = next) {
		if ((next = strchr(u, ',')) != NULL)
			*next++ = '\0';
		if (nstop_users == MAX_STOPS)
			usage_error("-z: at most %d users", MAX_STOPS);
		stop_users[nstop_users] = opt_uint(u, 0, 999999, "-z");
		for (i = 0; i < nstop_users; i++)
			if (stop_users[i] == stop_users[nstop_users])
				usage_error("-z: user %u twice", stop_users[i]);
		nstop_users++;
	}
}

/*
 * -p PORT[,PORT]...: several servers of one network (chatd instances
 * linked through an IRC hub), each user on one of them.
 */
static void
opt_ports(char *list)
{
	char	*p, *save = NULL;

	nservers = 0;
	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (nservers == MAX_SERVERS)
			usage_error("-p: at most %d ports", MAX_SERVERS);
		ports[nservers++] = p;
	}
	if (nservers == 0)
		usage_error("-p: no port");
}

/* Users are dealt to the servers in turn: user k to server k mod N. */
static unsigned
users_of(unsigned srv)
{
	return ((nusers + nservers - 1 - srv) / nservers);
}

static void
check_prefix(void)
{
	const char	*p;
	char		 buf[16];
	int		 n;

	if (!isalpha((unsigned char)*prefix))
		usage_error("name prefix must start with a letter: %s", prefix);
	for (p = prefix; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			usage_error("bad character in name prefix: %s", prefix);
	}
	n = snprintf(buf, sizeof buf, "%u", nusers - 1);
	if (n < 0 || strlen(prefix) + (size_t)n > MAX_NAME)
		usage_error("name prefix too long for %u users: %s", nusers,
		    prefix);
}

static void
getopts(int argc, char **argv)
{
	int		ch, have_rate = 0, have_seconds = 0;
	unsigned	i;

	while ((ch = getopt(argc, argv, "Cc:D:d:FH:l:m:N:n:p:qr:S:s:T:w:z:")) !=
	    -1) {
		switch (ch) {
		case 'C':
			check = 1;
			break;
		case 'c':
			inflight_max = opt_uint(optarg, 1, 1000000, "-c");
			break;
		case 'D':
			drain_quiet = opt_double(optarg, 0.001, 3600, "-D");
			break;
		case 'd':
			seconds = opt_double(optarg, 0.001, 86400, "-d");
			have_seconds = 1;
			break;
		case 'F':
			oneway = 1;
			break;
		case 'H':
			host = optarg;
			break;
		case 'l':
			linebytes = opt_uint(optarg, 1, MAX_BYTES, "-l");
			break;
		case 'm':
			nlines = opt_uint(optarg, 1, 100000000, "-m");
			break;
		case 'N':
			prefix = optarg;
			break;
		case 'n':
			nusers = opt_uint(optarg, 1, 1000000, "-n");
			break;
		case 'p':
			opt_ports(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			rate = opt_double(optarg, 0.001, 1e7, "-r");
			have_rate = 1;
			break;
		case 'S':
			if (npids == MAX_PIDS)
				usage_error("at most %d -S", MAX_PIDS);
			pids[npids++] = (pid_t)opt_uint(optarg, 1, INT_MAX,
			    "-S");
			break;
		case 's':
			nsenders = opt_uint(optarg, 0, 1000000, "-s");
			break;
		case 'T':
			timeout = opt_double(optarg, 0.001, 86400, "-T");
			break;
		case 'w':
			window = opt_uint(optarg, 1, 1000000, "-w");
			break;
		case 'z':
			opt_stops(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage_error("unexpected argument: %s", argv[optind]);
	if (nservers == 0)
		usage_error("-p is required");
	if (nusers == 0)
		usage_error("-n is required");
	if (have_rate && window != 0)
		usage_error("-r and -w exclude each other");
	if (have_seconds && nlines != 0)
		usage_error("-d and -m exclude each other");
	if (nsenders > nusers)
		usage_error("-s %u is more than -n %u", nsenders, nusers);
	if (oneway && nsenders > users_of(0))
		usage_error("-F -s %u: the first server has %u users of -n %u",
		    nsenders, users_of(0), nusers);
	for (i = 0; i < nstop_users; i++)
		if (stop_users[i] >= nusers)
			usage_error("-z %u: the users are 0 to %u", stop_users[i],
			    nusers - 1);
	if (nstop_users > 0 && npids == 0)
		usage_error("-z needs -S: the processes to stop are found "
		    "among the server's");
	check_prefix();
}

/* --- /proc: memory and CPU -------------------------------------------- */

/* Reads a small /proc file whole; 0 when it is gone. */
static int
read_small(const char *path, char *buf, size_t size)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return (0);
	n = fread(buf, 1, size - 1, f);
	if (ferror(f)) {
		fclose(f);
		return (0);
	}
	buf[n] = '\0';
	if (fclose(f) == EOF)
		return (0);
	return (1);
}

/* The "Key:   N kB" figure of a /proc file, or -1. */
static long long
proc_kib(const char *path, const char *key)
{
	char		 buf[8192], *p;
	size_t		 len = strlen(key);

	if (!read_small(path, buf, sizeof buf))
		return (-1);
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, len) == 0 && p[len] == ':')
			return (strtoll(p + len + 1, NULL, 10));
	}
	return (-1);
}

static long long
memavailable(void)
{
	long long	kib;

	if ((kib = proc_kib("/proc/meminfo", "MemAvailable")) < 0)
		die("no MemAvailable in /proc/meminfo");
	return (kib);
}

/* Our own resident memory, to subtract from the MemAvailable drop. */
static long long
own_rss_kib(void)
{
	char		buf[256];
	long long	size, resident;

	if (!read_small("/proc/self/statm", buf, sizeof buf) ||
	    /* NOLINTNEXTLINE(cert-err34-c): the kernel's numbers fit. */
	    sscanf(buf, "%lld %lld", &size, &resident) != 2)
		die("cannot read /proc/self/statm");
	return (resident * (sysconf(_SC_PAGESIZE) / 1024));
}

/*
 * The fields of /proc/PID/stat after the command name, which may hold
 * spaces and parentheses: field[0] is the state (field 3 of proc(5)).
 */
static int
proc_stat(pid_t pid, unsigned long long *field, int nfield)
{
	char	 path[64], buf[2048], *p, *end;
	int	 i;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!read_small(path, buf, sizeof buf) ||
	    (p = strrchr(buf, ')')) == NULL)
		return (0);
	p += 2;			/* ") " */
	if (*p == '\0')
		return (0);
	field[0] = (unsigned char)*p++;
	for (i = 1; i < nfield; i++) {
		field[i] = strtoull(p, &end, 10);
		if (end == p)
			return (0);
		p = end;
	}
	return (1);
}

static void
ptab_add(pid_t pid, pid_t ppid)
{
	pid_t	*p, *pp;

	if (ptab_len == ptab_cap) {
		ptab_cap = ptab_cap == 0 ? 1024 : ptab_cap * 2;
		p = realloc(ptab_pid, ptab_cap * sizeof *ptab_pid);
		pp = p == NULL ? NULL :
		    realloc(ptab_ppid, ptab_cap * sizeof *ptab_ppid);
		if (pp == NULL)
			die("out of memory");
		ptab_pid = p;
		ptab_ppid = pp;
	}
	ptab_pid[ptab_len] = pid;
	ptab_ppid[ptab_len++] = ppid;
}

static int
pidset_has(pid_t pid)
{
	size_t	i = (size_t)pid;

	return (i / 8 < pidset_bytes && (pidset[i / 8] & (1 << (i % 8))));
}

static void
pidset_add(pid_t pid)
{
	size_t	i = (size_t)pid;

	if (i / 8 < pidset_bytes)
		pidset[i / 8] |= 1 << (i % 8);
}

/* Every process and its parent, from /proc. */
static void
ptab_scan(void)
{
	DIR			*d;
	struct dirent		*de;
	unsigned long long	 f[2];
	char			*end;
	long			 pid;

	ptab_len = 0;
	if ((d = opendir("/proc")) == NULL)
		die("opendir /proc: %s", strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (proc_stat((pid_t)pid, f, 2))
			ptab_add((pid_t)pid, (pid_t)f[1]);
	}
	if (errno != 0)
		die("readdir /proc: %s", strerror(errno));
	if (closedir(d) == -1)
		die("closedir /proc: %s", strerror(errno));
}

/* Marks the -S processes and all their descendants in pidset. */
static void
tree_mark(void)
{
	size_t	i;
	int	changed;
	unsigned k;

	memset(pidset, 0, pidset_bytes);
	ptab_scan();
	for (k = 0; k < npids; k++)
		pidset_add(pids[k]);
	do {
		changed = 0;
		for (i = 0; i < ptab_len; i++) {
			if (!pidset_has(ptab_pid[i]) &&
			    pidset_has(ptab_ppid[i])) {
				pidset_add(ptab_pid[i]);
				changed = 1;
			}
		}
	} while (changed);
}

static int
is_root(pid_t pid)
{
	unsigned	k;

	for (k = 0; k < npids; k++)
		if (pids[k] == pid)
			return (1);
	return (0);
}

/*
 * Nanoseconds a process's threads have run, from the first field of each
 * /proc/PID/task/TID/schedstat; -1 when there is none. utime and stime
 * count whole clock ticks and round down each process's share: 10,000
 * workers that ran 100 us each would show nothing.
 */
static double
proc_runtime_ns(pid_t pid)
{
	char		 path[64], buf[128];
	struct dirent	*de;
	DIR		*d;
	double		 ns = 0;
	int		 found = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.16s/schedstat",
		    (int)pid, de->d_name);
		if (read_small(path, buf, sizeof buf)) {
			ns += strtod(buf, NULL);
			found = 1;
		}
	}
	closedir(d);
	return (found ? ns : -1);
}

/*
 * CPU seconds of the tree: the run time of every live process (utime +
 * stime where the kernel keeps no schedstat), and the cutime + cstime
 * of the roots for their children already reaped.
 */
static double
tree_cpu(void)
{
	unsigned long long	f[15], ticks = 0;
	double			ns = 0, t;
	size_t			i;

	tree_mark();
	for (i = 0; i < ptab_len; i++) {
		if (!pidset_has(ptab_pid[i]) || !proc_stat(ptab_pid[i], f, 15))
			continue;
		if ((t = proc_runtime_ns(ptab_pid[i])) >= 0)
			ns += t;
		else
			ticks += f[11] + f[12];		/* utime, stime */
		if (is_root(ptab_pid[i]))
			ticks += f[13] + f[14];		/* cutime, cstime */
	}
	return (ns / 1e9 + (double)ticks / sysconf(_SC_CLK_TCK));
}

/* Pss of the tree in KiB, from each process's smaps_rollup. */
static long long
tree_pss(unsigned *nprocs)
{
	char		path[64];
	long long	kib, sum = 0;
	size_t		i;

	tree_mark();
	*nprocs = 0;
	for (i = 0; i < ptab_len; i++) {
		if (!pidset_has(ptab_pid[i]))
			continue;
		snprintf(path, sizeof path, "/proc/%d/smaps_rollup",
		    (int)ptab_pid[i]);
		if ((kib = proc_kib(path, "Pss")) < 0)
			continue;	/* gone, or a zombie */
		sum += kib;
		(*nprocs)++;
	}
	return (sum);
}

static void
pids_check(void)
{
	char		buf[64];
	unsigned	k;
	long long	max;

	for (k = 0; k < npids; k++) {
		snprintf(buf, sizeof buf, "/proc/%d", (int)pids[k]);
		if (access(buf, F_OK) == -1)
			die("-S %d: no such process", (int)pids[k]);
	}
	if (!read_small("/proc/sys/kernel/pid_max", buf, sizeof buf) ||
	    (max = strtoll(buf, NULL, 10)) <= 0)
		max = 4194304;
	pidset_bytes = (size_t)max / 8 + 1;
	pidset = alloc_touched(pidset_bytes, 1);
}

/* --- Stopped server processes (-z) -------------------------------------- */

/*
 * An address and port as /proc/net/tcp and tcp6 print them: each 32-bit
 * word of the address as it lies in memory, in hex, then the port.
 */
static void
kernel_addr(const void *a, size_t len, unsigned p, char *buf, size_t size)
{
	uint32_t	w[4];
	size_t		i, n = len / 4, off = 0;

	memcpy(w, a, len);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, size - off, "%08X",
		    (unsigned)w[i]);
	snprintf(buf + off, size - off, ":%04X", p);
}

/*
 * The inode of the server's end of a connection whose remote end is rem
 * (as kernel_addr prints it) and whose local port is lport; 0 if none.
 */
static unsigned long
conn_inode(const char *path, const char *rem, unsigned lport)
{
	FILE		*f;
	char		 buf[512], la[40], ra[40], have[48];
	unsigned	 lp, rp;
	unsigned long	 ino, found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (found == 0 && fgets(buf, sizeof buf, f) != NULL) {
		/* NOLINTNEXTLINE(cert-err34-c): the kernel's numbers fit. */
		if (sscanf(buf, " %*u: %32[0-9A-F]:%x %32[0-9A-F]:%x %*x "
		    "%*x:%*x %*x:%*x %*x %*u %*u %lu", la, &lp, ra, &rp,
		    &ino) != 5 || lp != lport)
			continue;
		snprintf(have, sizeof have, "%s:%04X", ra, rp);
		if (strcmp(have, rem) == 0)
			found = ino;
	}
	fclose(f);
	return (found);
}

/* The inode of the server's end of a user's connection, or 0. */
static unsigned long
user_inode(const struct client *c)
{
	struct sockaddr_storage	 ours, theirs;
	struct sockaddr_in	*o4 = (struct sockaddr_in *)&ours;
	struct sockaddr_in6	*o6 = (struct sockaddr_in6 *)&ours;
	struct in6_addr		 mapped;
	socklen_t		 olen = sizeof ours, tlen = sizeof theirs;
	char			 rem[48];
	unsigned		 sport;
	unsigned long		 ino;

	/* Zeroed: the analyser cannot see getsockname fill them. */
	memset(&ours, 0, sizeof ours);
	memset(&theirs, 0, sizeof theirs);
	if (getsockname(c->conn.fd, (struct sockaddr *)&ours, &olen) == -1 ||
	    getpeername(c->conn.fd, (struct sockaddr *)&theirs, &tlen) == -1)
		return (0);
	sport = ntohs(theirs.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&theirs)->sin_port :
	    ((struct sockaddr_in6 *)&theirs)->sin6_port);
	if (ours.ss_family == AF_INET6) {
		kernel_addr(&o6->sin6_addr, sizeof o6->sin6_addr,
		    ntohs(o6->sin6_port), rem, sizeof rem);
		return (conn_inode("/proc/net/tcp6", rem, sport));
	}
	kernel_addr(&o4->sin_addr, sizeof o4->sin_addr, ntohs(o4->sin_port),
	    rem, sizeof rem);
	if ((ino = conn_inode("/proc/net/tcp", rem, sport)) != 0)
		return (ino);
	/* A server listening on :: sees us as ::ffff:a.b.c.d. */
	memset(&mapped, 0, sizeof mapped);
	mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;
	memcpy(&mapped.s6_addr[12], &o4->sin_addr, 4);
	kernel_addr(&mapped, sizeof mapped, ntohs(o4->sin_port), rem,
	    sizeof rem);
	return (conn_inode("/proc/net/tcp6", rem, sport));
}

/* Whether process pid holds a descriptor of socket inode ino. */
static int
holds_socket(pid_t pid, unsigned long ino)
{
	char		 path[64], link[64], want[40];
	struct dirent	*de;
	DIR		*d;
	ssize_t		 n;
	int		 found = 0;

	snprintf(want, sizeof want, "socket:[%lu]", ino);
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (0);
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "/proc/%d/fd/%.16s", (int)pid,
		    de->d_name);
		if ((n = readlink(path, link, sizeof link - 1)) <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return (found);
}

/* Waits (bounded) until process pid shows as stopped. */
static void
stop_wait(pid_t pid)
{
	unsigned long long	f[1];
	struct timespec		ts = { 0, 1000000 };
	int			ms;

	for (ms = 0; ms < STOP_WAIT_MS; ms++) {
		if (!proc_stat(pid, f, 1) || f[0] == 'T')
			return;
		nanosleep(&ts, NULL);
	}
	note("process %d did not stop in %d ms", (int)pid, STOP_WAIT_MS);
}

/* Stops process pid until the send phase ends, once. */
static void
stop_pid(pid_t pid)
{
	if (stopper_has(pid))
		return;
	if (stopper_stop(pid, INT64_MAX) == -1)
		die("kill -STOP %d: %s", (int)pid, strerror(errno));
	stop_wait(pid);
}

/*
 * Stops the processes of the -S trees, but the -S processes themselves,
 * that hold the server's end of the -z users' connections.
 */
static void
stops_apply(void)
{
	struct client	*c;
	unsigned long	 ino;
	unsigned	 k, i;
	size_t		 j;
	int		 found;

	tree_mark();
	for (k = 0; k < nstop_users; k++) {
		c = &clients[stop_users[k]];
		for (i = 0; i < nsenders; i++)
			if (order[i] == stop_users[k])
				die("-z %u: %s is a sender", stop_users[k],
				    c->name);
		if (c->state != C_READY)
			die("-z %u: %s is not connected", stop_users[k],
			    c->name);
		if ((ino = user_inode(c)) == 0)
			die("-z %u: no connection of %s in /proc/net",
			    stop_users[k], c->name);
		found = 0;
		for (j = 0; j < ptab_len; j++)
			if (pidset_has(ptab_pid[j]) && !is_root(ptab_pid[j]) &&
			    holds_socket(ptab_pid[j], ino)) {
				stop_pid(ptab_pid[j]);
				found = 1;
			}
		if (!found)
			die("-z %u: no process under -S but the -S processes "
			    "serves %s", stop_users[k], c->name);
		c->stopped = 1;
	}
	t_stopped = now_ns();
	nstopped_procs = stopper_count();
	note("%u users' server processes stopped (%u processes)",
	    nstop_users, nstopped_procs);
}

/* Continues them at the end of the send phase. */
static void
stops_end(void)
{
	if (stopper_count() == 0)
		return;
	if (t_continued == 0)
		t_continued = now_ns();
	stopper_cont_all();
}

/* --- Latency histogram ------------------------------------------------ */

/*
 * Log-linear buckets (as HdrHistogram's): microseconds exact below
 * 1024, then 512 buckets per power of two, so every value is kept to
 * within 0.2% in 124 KiB however many deliveries there are.
 */
static unsigned
hist_index(uint64_t us)
{
	unsigned	e, shift;

	if (us < 2ULL * HIST_SUB)
		return ((unsigned)us);
	e = 63 - (unsigned)__builtin_clzll(us);
	shift = e - HIST_SUB_BITS;
	if (shift > HIST_MAX_SHIFT)
		return (HIST_BUCKETS - 1);
	return (shift * HIST_SUB + (unsigned)(us >> shift));
}

/* The middle of bucket i, in microseconds. */
static double
hist_value(unsigned i)
{
	unsigned	shift, sub;

	if (i < 2 * HIST_SUB)
		return (i);
	shift = i / HIST_SUB - 1;
	sub = i - shift * HIST_SUB;
	return (((double)sub + 0.5) * (double)(1ULL << shift));
}

static void
hist_add(struct histo *h, int64_t ns)
{
	uint64_t	us = ns < 0 ? 0 : (uint64_t)ns / 1000;

	h->bucket[hist_index(us)]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

/* The q quantile in ms: the smallest value with q of them at or below. */
static double
hist_quantile(const struct histo *h, double q)
{
	uint64_t	target, sum = 0;
	unsigned	i;
	double		v;

	if (h->count == 0)
		return (0);
	target = (uint64_t)ceil(q * (double)h->count);
	if (target == 0)
		target = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		sum += h->bucket[i];
		if (sum >= target)
			break;
	}
	v = hist_value(i);
	if (v > (double)h->max_us)
		v = (double)h->max_us;
	return (v / 1000);
}

/* --- Clients ------------------------------------------------------------ */

static void
reason_add(const char *text)
{
	unsigned	i;

	for (i = 0; i < nreasons; i++) {
		if (strcmp(reasons[i].text, text) == 0) {
			reasons[i].count++;
			return;
		}
	}
	if (nreasons == MAX_REASONS) {
		nreasons_other++;
		return;
	}
	snprintf(reasons[nreasons].text, sizeof reasons[0].text, "%s", text);
	reasons[nreasons++].count = 1;
}

/* The user whose connection it is: the connection is its first member. */
static struct client *
client_of(struct conn *cn)
{
	return ((struct client *)(void *)cn);
}

/*
 * Ends a client: not registered (failed), registered (lost), or, with
 * -C, closed by the server after its "/quit" as it should be.  With -C
 * a lost connection ends the run.
 */
static void
client_end(struct client *c, const char *why)
{
	char	text[96];

	conn_close(&c->conn, 0);
	if (c->state == C_QUIT) {
		c->state = C_CLOSED;
		nclosed++;
		return;
	}
	if (c->state == C_READY) {
		c->state = C_LOST;
		nlost++;
		snprintf(text, sizeof text, "disconnected: %s", why);
		if (check) {
			note("%s %s", c->name, text);
			run_failed = 1;
			phase = P_DONE;
		}
	} else {
		if (c->state != C_IDLE)
			ninflight--;
		c->state = C_FAILED;
		nfailed++;
		snprintf(text, sizeof text, "not registered: %s", why);
	}
	reason_add(text);
}

static void
client_connect(struct client *c)
{
	ninflight++;
	nstarted++;
	if (t_first_connect == 0)
		t_first_connect = now_ns();
	c->state = C_CONNECTING;
	if (conn_open(&c->conn, (const struct sockaddr *)&servers[c->srv],
	    serverlens[c->srv], NULL, NULL, 0) == -1)
		client_end(c, strerror(errno));
}

/* conn.c: the connect finished, or failed. */
static void
client_up(struct conn *cn, const char *why)
{
	struct client	*c = client_of(cn);

	if (why != NULL)
		client_end(c, why);
	else
		c->state = C_PROMPT;
}

/* conn.c: the server closed the connection, or it failed. */
static void
client_down(struct conn *cn, const char *why)
{
	client_end(client_of(cn), why);
}

static void
send_name(struct client *c)
{
	c->state = C_HELLO;
	if (conn_send_line(&c->conn, c->name, c->namelen) == -1)
		die("bug: no room for a name");
}

static void
registered(struct client *c, int64_t now)
{
	c->state = C_READY;
	order[nregistered++] = (uint32_t)(c - clients);
	ninflight--;
	t_last_hello = now;
}

/* "* NAME joined lobby": the notices a registration causes. */
static int
is_join(const char *s, size_t len)
{
	static const char	tail[] = " joined lobby";
	size_t			tlen = sizeof tail - 1;

	return (len > 2 + tlen && s[0] == '*' && s[1] == ' ' &&
	    memcmp(s + len - tlen, tail, tlen) == 0);
}

/* A line while registering: the prompt, the hello, or a refusal. */
static void
line_registering(struct client *c, const char *s, size_t len, int64_t now)
{
	char	why[96];

	if (c->state == C_PROMPT && len == sizeof CONN_PROMPT - 1 &&
	    memcmp(s, CONN_PROMPT, len) == 0) {
		send_name(c);
		return;
	}
	if (c->state == C_HELLO && len > 9U + c->namelen &&
	    memcmp(s, "* Hello, ", 9) == 0 &&
	    memcmp(s + 9, c->name, c->namelen) == 0 && s[9 + c->namelen] == '!') {
		registered(c, now);
		return;
	}
	if (len >= 2 && s[0] == '!' && s[1] == ' ') {
		snprintf(why, sizeof why, "%.*s", (int)(len > 80 ? 80 : len), s);
		client_end(c, why);
	}
}

/* Parses a decimal number of at most 20 digits; NULL if there is none. */
static const char *
parse_u64(const char *p, const char *end, uint64_t *v)
{
	const char	*start = p;
	uint64_t	 x = 0;

	while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
		x = x * 10 + (uint64_t)(*p++ - '0');
	if (p == start)
		return (NULL);
	*v = x;
	return (p);
}

/*
 * Counts one arrival of line seq of a sender at a receiver.  The latency
 * of a receiver whose server process we stopped is how long we stopped
 * it: left out of the figures.
 */
static void
pair_arrival(struct pair *p, uint32_t seq, int64_t latency, int stopped,
    int across)
{
	uint32_t	d, shift;

	if (seq >= p->next) {
		shift = seq - p->next + 1;
		p->mask = shift >= 64 ? 1 : (p->mask << shift) | 1;
		p->next = seq + 1;
	} else {
		d = p->next - 1 - seq;
		/* Too far behind to tell: counted as a duplicate, so that
		 * "lost" never goes below zero. */
		if (d >= REORDER_WIN || (p->mask & (1ULL << d))) {
			ndup++;
			return;
		}
		p->mask |= 1ULL << d;
		nreorder++;
	}
	delivered++;
	if (stopped) {
		stopped_deliveries++;
		return;
	}
	hist_add(&lat, latency);
	if (across)
		hist_add(&lat_across, latency);
}

/*
 * "<NAME> SENDER SEQ STAMP[ PADDING]": one of our lines.  Anything else
 * (notices, history, other people's lines) is no business of ours.
 */
static void
line_chat(const struct client *c, const char *s, size_t len, int64_t now)
{
	const char	*end = s + len, *gt, *p;
	uint64_t	 sid, seq, stamp;
	struct sender	*snd;
	struct client	*from;
	uint32_t	 self = (uint32_t)(c - clients);

	if (len < 3 || s[0] != '<' ||
	    (gt = memchr(s + 1, '>', len - 1)) == NULL ||
	    gt + 1 >= end || gt[1] != ' ')
		return;
	p = gt + 2;
	if ((p = parse_u64(p, end, &sid)) == NULL || p == end || *p++ != ' ' ||
	    (p = parse_u64(p, end, &seq)) == NULL || p == end || *p++ != ' ' ||
	    (p = parse_u64(p, end, &stamp)) == NULL || (p != end && *p != ' '))
		return;
	if (sid >= nsenders || seq > UINT32_MAX || phase < P_SEND) {
		nforeign++;
		return;
	}
	snd = &senders[sid];
	from = &clients[snd->client];
	if ((size_t)(gt - s - 1) != from->namelen ||
	    memcmp(s + 1, from->name, from->namelen) != 0 ||
	    seq >= snd->next) {
		nforeign++;
		return;
	}
	if (snd->client == self) {
		necho++;
		ndup++;
		return;
	}
	t_last_arrival = now;
	pair_arrival(&pairs[(size_t)self * nsenders + sid], (uint32_t)seq,
	    now - (int64_t)stamp, c->stopped, from->srv != c->srv);
	if (window != 0 && snd->observer == self && seq >= snd->acked) {
		snd->acked = (uint32_t)seq + 1;
		snd->progress = now;
	}
}

/* conn.c: a line from the server. */
static void
client_line(struct conn *cn, const char *s, size_t len, int64_t now)
{
	struct client	*c = client_of(cn);

	if (c->state == C_PROMPT || c->state == C_HELLO) {
		line_registering(c, s, len, now);
		return;
	}
	if (len >= 2 && s[0] == '*' && s[1] == ' ') {
		if (is_join(s, len)) {
			njoins++;
			t_last_join = now;
		}
		return;
	}
	if (len >= 2 && s[0] == '!' && s[1] == ' ') {
		/* "! rate limit exceeded" and the like: worth a look. */
		if (nnotices++ < 3)
			note("%s got: %.*s", c->name, (int)len, s);
		return;
	}
	line_chat(c, s, len, now);
}

static const struct conn_ops	client_ops = {
	client_up, client_line, NULL, client_down
};

/* --- Senders ------------------------------------------------------------ */

/* When line k of a -r sender is due: a fixed schedule that cannot drift. */
static int64_t
intended(const struct sender *s, uint32_t k)
{
	return (t_send + (int64_t)(((double)k + s->offset) * 1e9 / rate));
}

/* Appends line seq, stamped, padded to -l bytes, and a LF. */
static void
put_line(struct client *c, uint32_t sid, uint32_t seq, int64_t stamp)
{
	char	*p = conn_reserve(&c->conn, LINE_ROOM);
	int	 n;

	if (p == NULL)
		die("bug: no room for a line");
	n = snprintf(p, LINE_ROOM, "%" PRIu32 " %" PRIu32 " %" PRId64, sid,
	    seq, stamp);
	if (n < 0 || (size_t)n >= LINE_ROOM)
		die("bug: no room for a line");
	if ((unsigned)n + 1 < linebytes) {
		p[n] = ' ';
		memset(p + n + 1, 'x', linebytes - (unsigned)n - 1);
		n = (int)linebytes;
	}
	p[n] = '\n';
	conn_commit(&c->conn, (size_t)n + 1);
	nsent++;
}

static int
has_room(const struct client *c)
{
	return (conn_room(&c->conn) >= LINE_ROOM);
}

/* Lines due by now, as many as the buffer takes. */
static void
fill_rate(struct sender *s, uint32_t sid, int64_t now)
{
	struct client	*c = &clients[s->client];
	int64_t		 due;

	while (s->next < s->total && has_room(c) &&
	    (due = intended(s, s->next)) <= now) {
		if (now - due > LATE_NS)
			nlate++;
		lag_sum += now - due;
		if (now - due > lag_max)
			lag_max = now - due;
		put_line(c, sid, s->next++, due);
	}
}

/* New lines while the window has room; a stalled window opens. */
static void
fill_window(struct sender *s, uint32_t sid, int64_t now)
{
	struct client	*c = &clients[s->client];

	if (s->next - s->acked >= window &&
	    now - s->progress >= (int64_t)(STALL_SECONDS * NS)) {
		nstalls++;
		s->acked = s->next;
		s->progress = now;
	}
	while (s->next < s->total && s->next - s->acked < window &&
	    has_room(c)) {
		if (s->next == s->acked)
			s->progress = now;
		put_line(c, sid, s->next++, now);
	}
}

static void
fill_senders(int64_t now)
{
	struct client	*c;
	uint32_t	 i;

	for (i = 0; i < nsenders; i++) {
		c = &clients[senders[i].client];
		if (c->conn.fd == -1)
			continue;
		if (window == 0)
			fill_rate(&senders[i], i, now);
		else if (phase == P_SEND)
			fill_window(&senders[i], i, now);
		conn_flush(&c->conn);
	}
}

/* The number of k with (k + offset) / rate < seconds. */
static uint32_t
lines_due(double offset)
{
	double	n = ceil(seconds * rate - offset);

	if (n < 0)
		return (0);
	if (n > UINT32_MAX)
		return (UINT32_MAX);
	return ((uint32_t)n);
}

/*
 * Sender i: the first registered send.  With several servers they are
 * taken from each in turn (sender i is the (i / N)-th to register of
 * server i mod N), or with -F all from the first.
 */
static uint32_t
sender_client(uint32_t i)
{
	unsigned	srv = oneway ? 0 : i % nservers;
	uint32_t	rank = oneway ? i : i / nservers, k;

	for (k = 0; k < nregistered; k++)
		if (clients[order[k]].srv == srv && rank-- == 0)
			return (order[k]);
	die("bug: no sender %" PRIu32 " on server %u", i, srv);
}

/*
 * The observer of a sender: the last registered user of the last server
 * other than the sender, so that with several servers the lines of the
 * others' senders are acknowledged across the link; any other user when
 * that server has none.
 */
static uint32_t
observer_of(uint32_t sender)
{
	uint32_t	k, other = sender;

	for (k = nregistered; k-- > 0;) {
		if (order[k] == sender)
			continue;
		if (clients[order[k]].srv == nservers - 1)
			return (order[k]);
		if (other == sender)
			other = order[k];
	}
	return (other);
}

/*
 * The first registered send (see sender_client).  -r: sender i runs i/S
 * of a period behind sender 0, so that the server sees a steady stream,
 * not bursts.  -w: see observer_of.
 */
static void
senders_setup(void)
{
	struct sender	*s;
	char		*out;
	uint32_t	 i;

	for (i = 0; i < nsenders; i++) {
		s = &senders[i];
		s->client = sender_client(i);
		clients[s->client].sender = (int32_t)i;
		if ((out = malloc(SEND_SIZE)) == NULL)
			die("out of memory");
		conn_setout(&clients[s->client].conn, out, SEND_SIZE);
		s->observer = observer_of(s->client);
		s->offset = (double)i / nsenders;
		if (nlines != 0)
			s->total = nlines;
		else
			s->total = window == 0 ? lines_due(s->offset) :
			    UINT32_MAX;
		s->progress = t_send;
	}
}

/* --- Phases ------------------------------------------------------------- */

static uint64_t
expected(void)
{
	return (nregistered == 0 ? 0 : nsent * (nregistered - 1ULL));
}

static uint64_t
lost(void)
{
	return (expected() > delivered ? expected() - delivered : 0);
}

/* -C: whether every line came once and in order, and nobody was lost. */
static int
check_passed(void)
{
	return (!run_failed && nfailed == 0 && nlost == 0 && lost() == 0 &&
	    ndup == 0 && nreorder == 0 && nforeign == 0);
}

static int
senders_done(void)
{
	uint32_t	i;
	struct client	*c;

	for (i = 0; i < nsenders; i++) {
		c = &clients[senders[i].client];
		if (c->conn.fd == -1)
			continue;
		if (conn_pending(&c->conn) > 0 ||
		    (window == 0 && senders[i].next < senders[i].total))
			return (0);
	}
	return (1);
}

/*
 * Whether the send phase is over: -d seconds have passed, or with -m
 * every sender still connected has generated its lines.
 */
static int
sending_over(int64_t now)
{
	uint32_t	i;

	if (nlines == 0)
		return (now >= t_end);
	for (i = 0; i < nsenders; i++)
		if (clients[senders[i].client].conn.fd != -1 &&
		    senders[i].next < senders[i].total)
			return (0);
	return (1);
}

static void
measure_registered(void)
{
	memavail_after = memavailable();
	ownrss_after = own_rss_kib();
	if (npids > 0)
		pss_registered = tree_pss(&nprocs_registered);
}

static void
start_sending(void)
{
	t_settled = now_ns();
	note("%u users registered in %.3f s; %" PRIu64 " join notices "
	    "settled after %.3f s more", nregistered,
	    secs(t_last_hello - t_first_connect), njoins,
	    secs(t_settled - t_last_hello));
	measure_registered();
	if (npids > 0)
		cpu_send = tree_cpu();
	if (nstop_users > 0)
		stops_apply();
	t_send = now_ns();
	t_end = nlines != 0 ? INT64_MAX : t_send + (int64_t)(seconds * NS);
	t_last_arrival = t_send;
	senders_setup();
	phase = P_SEND;
}

static void
tick_register(int64_t now)
{
	while (ninflight < inflight_max && nstarted < nusers)
		client_connect(&clients[nstarted]);
	if (nregistered + nfailed < nusers)
		return;
	if (nfailed > 0) {
		run_failed = 1;
		phase = P_DONE;
		return;
	}
	t_last_join = now;
	phase = P_SETTLE;
}

/*
 * -C: every user says "/quit", and the server must close every
 * connection; a check that failed already ends here.  Without -C the
 * connections are closed at exit.
 */
static void
drain_over(void)
{
	static const char	quit[] = "/quit";
	struct client		*c;
	uint32_t		 i;

	if (!check || !check_passed()) {
		phase = P_DONE;
		return;
	}
	phase = P_QUIT;
	for (i = 0; i < nusers; i++) {
		c = &clients[i];
		if (c->state != C_READY)
			continue;
		c->state = C_QUIT;
		nquit++;
		if (conn_send_line(&c->conn, quit, sizeof quit - 1) == -1)
			die("bug: no room for /quit");
	}
}

static void
tick(int64_t now)
{
	uint64_t	joins_due = (uint64_t)nregistered * (nregistered - 1) / 2;

	if (now >= t_deadline) {
		note("timed out after %.1f s", timeout);
		run_failed = 1;
		phase = P_DONE;
		return;
	}
	if (phase == P_REGISTER)
		tick_register(now);
	/* With several servers a user may see another's join, and that one
	 * its own, when both register at once: only silence settles them. */
	if (phase == P_SETTLE && ((nservers == 1 && njoins >= joins_due) ||
	    now - t_last_join >= (int64_t)(SETTLE_QUIET * NS)))
		start_sending();
	if (phase == P_SEND || phase == P_DRAIN)
		fill_senders(now_ns());
	if (phase == P_SEND && sending_over(now)) {
		t_drain = now;
		phase = P_DRAIN;
		stops_end();
	}
	if (phase == P_DRAIN && senders_done() && (delivered >= expected() ||
	    now - (t_last_arrival > t_drain ? t_last_arrival : t_drain) >=
	    (int64_t)(drain_quiet * NS)))
		drain_over();
	if (phase == P_QUIT && nclosed == nquit)
		phase = P_DONE;
}

/* The earliest moment tick() has something to do. */
static int64_t
next_deadline(void)
{
	int64_t		d = t_deadline, t;
	uint32_t	i;
	struct sender	*s;

	if (phase == P_SETTLE && (t = t_last_join +
	    (int64_t)(SETTLE_QUIET * NS)) < d)
		d = t;
	if (phase == P_SEND && t_end < d)
		d = t_end;
	if (phase == P_DRAIN && (t = (t_last_arrival > t_drain ?
	    t_last_arrival : t_drain) + (int64_t)(drain_quiet * NS)) < d)
		d = t;
	for (i = 0; (phase == P_SEND || phase == P_DRAIN) && i < nsenders;
	    i++) {
		s = &senders[i];
		if (clients[s->client].conn.fd == -1 ||
		    !has_room(&clients[s->client]))
			continue;
		if (window == 0 && s->next < s->total &&
		    (t = intended(s, s->next)) < d)
			d = t;
		if (window != 0 && phase == P_SEND &&
		    s->next - s->acked >= window &&
		    (t = s->progress + (int64_t)(STALL_SECONDS * NS)) < d)
			d = t;
	}
	return (d);
}

static void
arm_timer(int64_t when)
{
	struct itimerspec	its;

	if (when == timer_armed)
		return;
	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = when / NS;
	its.it_value.tv_nsec = when % NS;
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(timerfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		die("timerfd_settime: %s", strerror(errno));
	timer_armed = when;
}

static void
timer_read(void)
{
	uint64_t	n;

	if (read(timerfd, &n, sizeof n) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		die("read timerfd: %s", strerror(errno));
	timer_armed = 0;
}

static void
loop(void)
{
	for (;;) {
		tick(now_ns());
		if (phase == P_DONE)
			break;
		arm_timer(next_deadline());
		if (conn_wait(-1) > 0)
			timer_read();
	}
}

/* --- Report ------------------------------------------------------------- */

static double
per_user(long long kib)
{
	return (nregistered == 0 ? 0 : (double)kib / nregistered);
}

static void
report_table(int64_t treg, double regs_s, double deliv_s, int64_t t_last,
    long long drop)
{
	char		span[48];
	unsigned	i;

	if (nlines != 0)
		snprintf(span, sizeof span, ", %" PRIu32 " lines each", nlines);
	else
		snprintf(span, sizeof span, " for %g s", seconds);
	printf("%-18s %u of %u in %.3f s: %.1f/s (%u in flight at most)\n",
	    "registered", nregistered, nusers, secs(treg), regs_s,
	    inflight_max);
	printf("%-18s %" PRIu64 " of %" PRIu64 " in %.3f s more\n",
	    "join notices", njoins,
	    (uint64_t)nregistered * (nregistered > 0 ? nregistered - 1 : 0) / 2,
	    t_settled ? secs(t_settled - t_last_hello) : 0.0);
	if (window == 0)
		printf("%-18s %u x %g lines/s%s: %" PRIu64
		    " lines, %" PRIu64 " over 1 ms late; lag mean %.3f ms, "
		    "max %.3f ms\n", "sent", nsenders, rate, span, nsent,
		    nlate, nsent ? lag_sum / 1e6 / nsent : 0.0, lag_max / 1e6);
	else
		printf("%-18s %u with window %u%s: %" PRIu64
		    " lines, %" PRIu64 " stalls\n", "sent", nsenders, window,
		    span, nsent, nstalls);
	printf("%-18s %" PRIu64 " of %" PRIu64 " in %.3f s: %.1f/s\n",
	    "deliveries", delivered, expected(),
	    t_send ? secs(t_last - t_send) : 0.0, deliv_s);
	if (nstop_users > 0)
		printf("%-18s %u users, %u processes, for %.3f s: %" PRIu64
		    " deliveries to them, not in the latency figures\n",
		    "stopped", t_stopped != 0 ? nstop_users : 0, nstopped_procs,
		    t_stopped == 0 ? 0.0 : secs((t_continued ? t_continued :
		    now_ns()) - t_stopped),
		    stopped_deliveries);
	printf("%-18s lost %" PRIu64 ", duplicated %" PRIu64
	    " (echoed %" PRIu64 "), reordered %" PRIu64 "\n", "errors",
	    lost(), ndup, necho, nreorder);
	printf("%-18s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
	    "latency ms", hist_quantile(&lat, 0.5), hist_quantile(&lat, 0.9),
	    hist_quantile(&lat, 0.99), hist_quantile(&lat, 0.999),
	    lat.max_us / 1000.0);
	if (nservers > 1)
		printf("%-18s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  "
		    "max %.3f (%" PRIu64 " deliveries)\n", "  across servers",
		    hist_quantile(&lat_across, 0.5),
		    hist_quantile(&lat_across, 0.9),
		    hist_quantile(&lat_across, 0.99),
		    hist_quantile(&lat_across, 0.999),
		    lat_across.max_us / 1000.0, lat_across.count);
	if (npids > 0) {
		printf("%-18s %lld KiB in %u processes after registration, "
		    "%lld KiB in %u at the end: %.1f KiB/user\n", "server Pss",
		    pss_registered, nprocs_registered, pss_end, nprocs_end,
		    per_user(pss_end));
		printf("%-18s %.2f s, %.2f s of it in the send phase\n",
		    "server CPU", cpu_after - cpu_before,
		    t_send != 0 ? cpu_after - cpu_send : 0);
	}
	printf("%-18s %lld KiB: %.1f KiB/user\n", "MemAvailable drop", drop,
	    per_user(drop));
	for (i = 0; i < nreasons; i++)
		printf("%-18s %u x %s\n", "problem", reasons[i].count,
		    reasons[i].text);
	if (nreasons_other > 0)
		printf("%-18s %u more\n", "problem", nreasons_other);
}

/* -C: the check's figures; dup does not count the echoes here. */
static void
report_check(void)
{
	printf("CHECK expected=%" PRIu64 " delivered=%" PRIu64 " lost=%"
	    PRIu64 " dup=%" PRIu64 " reordered=%" PRIu64 " echo=%" PRIu64
	    " foreign=%" PRIu64 " seconds=%.2f verdict=%s\n", expected(),
	    delivered, lost(), ndup - necho, nreorder, necho, nforeign,
	    secs(now_ns() - t_start), check_passed() ? "PASS" : "FAIL");
}

static void
report(void)
{
	int64_t		t_last = t_last_arrival > t_send ? t_last_arrival : t_send;
	int64_t		treg = t_last_hello > t_first_connect ?
			    t_last_hello - t_first_connect : 0;
	double		regs_s, deliv_s = 0;
	long long	drop, own;

	if (memavail_after == 0)
		measure_registered();
	if (npids > 0) {
		pss_end = tree_pss(&nprocs_end);
		cpu_after = tree_cpu();
	}
	own = ownrss_after - ownrss_before;
	drop = memavail_before - memavail_after - (own > 0 ? own : 0);
	regs_s = treg > 0 ? nregistered / secs(treg) : 0;
	if (t_send != 0 && t_last > t_send)
		deliv_s = delivered / secs(t_last - t_send);
	if (!quiet)
		report_table(treg, regs_s, deliv_s, t_last, drop);
	if (check)
		report_check();
	printf("RESULT users=%u registered=%u regs_per_s=%.1f deliveries=%"
	    PRIu64 " deliv_per_s=%.1f lost=%" PRIu64 " dup=%" PRIu64
	    " reorder=%" PRIu64 " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f"
	    " p999_ms=%.3f max_ms=%.3f pss_kib=%lld pss_per_user_kib=%.1f"
	    " memavail_drop_kib=%lld memavail_per_user_kib=%.1f cpu_s=%.2f"
	    " send_cpu_s=%.2f stopped=%u",
	    nusers, nregistered, regs_s, delivered, deliv_s, lost(), ndup,
	    nreorder, hist_quantile(&lat, 0.5), hist_quantile(&lat, 0.9),
	    hist_quantile(&lat, 0.99), hist_quantile(&lat, 0.999),
	    lat.max_us / 1000.0,
	    pss_end, per_user(pss_end), drop, per_user(drop),
	    cpu_after - cpu_before, t_send != 0 ? cpu_after - cpu_send : 0,
	    t_stopped != 0 ? nstop_users : 0);
	if (nservers > 1)
		printf(" across=%" PRIu64 " across_p50_ms=%.3f"
		    " across_p99_ms=%.3f across_max_ms=%.3f", lat_across.count,
		    hist_quantile(&lat_across, 0.5),
		    hist_quantile(&lat_across, 0.99),
		    lat_across.max_us / 1000.0);
	putchar('\n');
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout: %s", strerror(errno));
}

/* --- Setup -------------------------------------------------------------- */

static void
setup(void)
{
	rlim_t		nofile;
	unsigned	i;

	nofile = conn_nofile();
	if (nofile != RLIM_INFINITY && nofile < nusers + 16ULL)
		die("-n %u needs %u descriptors; the hard limit is %llu",
		    nusers, nusers + 16, (unsigned long long)nofile);
	for (i = 0; i < nservers; i++)
		conn_resolve(host, ports[i], AF_UNSPEC, &servers[i],
		    &serverlens[i]);
	/* The send schedule wants the timer on time, not 50 us late. */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == -1)
		die("prctl PR_SET_TIMERSLACK: %s", strerror(errno));
	conn_setup(&client_ops);
	if ((timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1)
		die("timerfd_create: %s", strerror(errno));
	conn_watch(timerfd);
	clients = alloc_touched(nusers, sizeof *clients);
	order = alloc_touched(nusers, sizeof *order);
	senders = alloc_touched(nsenders, sizeof *senders);
	pairs = alloc_touched((size_t)nusers * nsenders, sizeof *pairs);
	lat.bucket = alloc_touched((size_t)HIST_BUCKETS, sizeof *lat.bucket);
	if (nservers > 1)
		lat_across.bucket = alloc_touched((size_t)HIST_BUCKETS,
		    sizeof *lat_across.bucket);
	carries = alloc_touched(nusers, CARRY_SIZE);
	for (i = 0; i < nusers; i++) {
		conn_init(&clients[i].conn, carries + (size_t)i * CARRY_SIZE,
		    CARRY_SIZE, clients[i].small, SMALL_OUT);
		clients[i].sender = -1;
		clients[i].srv = (uint8_t)(i % nservers);
		clients[i].namelen = (uint8_t)snprintf(clients[i].name,
		    sizeof clients[i].name, "%s%u", prefix, i);
	}
	if (npids > 0)
		pids_check();
	if (nstop_users > 0 && stopper_init() == -1)
		die("stopper_init: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	char		list[MAX_SERVERS * 8];
	unsigned	i;
	size_t		off;

	getopts(argc, argv);
	setup();
	if (npids > 0)
		cpu_before = tree_cpu();
	memavail_before = memavailable();
	ownrss_before = own_rss_kib();
	t_start = now_ns();
	t_deadline = t_start + (int64_t)(timeout * NS);
	for (i = 0, off = 0; i < nservers && off < sizeof list; i++)
		off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
		    i == 0 ? "" : ",", ports[i]);
	note("%u users to %s port%s %s, %u in flight", nusers, host,
	    nservers > 1 ? "s" : "", list, inflight_max);
	loop();
	stops_end();	/* the -T deadline may come in the send phase */
	report();
	return (run_failed || (check && !check_passed()) ? EX_RUN : 0);
}
