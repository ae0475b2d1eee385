/* SPDX-License-Identifier: ISC */
/*
 * chatctl: the administrator's tool. It attaches to the shared segment
 * of a running chatd instance, found by the same -n and --run-dir as
 * chatd's, and either reports what the tables hold (status, users,
 * rooms, bans) or acts the way a user's command does: under the hub
 * lock it posts records to the log, then wakes the recipients through
 * their pipes, and their own workers do the rest. It has no slot of its
 * own: it is nobody in the chat, and is shown as "the administrator".
 *
 * Every report is one record a line, fields separated by tabs, after a
 * header line that -H leaves out. Nothing is printed while the lock is
 * held: a slow reader of our output must not stop the server.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "ban.h"
#include "config.h"
#include "duration.h"
#include "hub.h"
#include "log.h"
#include "room.h"
#include "session.h"
#include "notify.h"
#include "state.h"
#include "text.h"
#include "worker.h"

#define ADMIN_NAME	"the administrator"	/* never a valid user name */
#define EXIT_NOTARGET	1	/* no such user, not banned, not stopped */

struct ctl {
	struct config	 cf;
	struct hub	 h;
	struct notifier	 nt;
	int		 header;	/* print a header line (no -H) */
	char		*words;		/* the cleaned REASON or TEXT, or NULL */
	int64_t		 expires;	/* ban -t: when it ends; 0: never */
	char		*text;		/* a record's text, RECORD_TEXT_MAX */
	char		 who[NAME_MAX_LEN + 64];	/* the invoker, for the log */
};

enum rest {
	REST_NONE,	/* exactly nargs arguments */
	REST_OPTIONAL,	/* more words may follow: a reason */
	REST_REQUIRED	/* more words must follow: a text */
};

struct ctl_cmd {
	const char	*name;
	int		 nargs;		/* words before the rest */
	enum rest	 rest;		/* joined by spaces, cleaned */
	int		(*fn)(struct ctl *, char **);
	const char	*args;
	const char	*help;
};

static int	ctl_status(struct ctl *, char **);
static int	ctl_users(struct ctl *, char **);
static int	ctl_rooms(struct ctl *, char **);
static int	ctl_bans(struct ctl *, char **);
static int	ctl_kick(struct ctl *, char **);
static int	ctl_ban(struct ctl *, char **);
static int	ctl_unban(struct ctl *, char **);
static int	ctl_wall(struct ctl *, char **);
static int	ctl_shutdown(struct ctl *, char **);

static const struct ctl_cmd ctl_cmds[] = {
	{ "status",	0, REST_NONE,	  ctl_status,	"",
	    "the server's counters and each user's lag" },
	{ "users",	0, REST_NONE,	  ctl_users,	"",	"who is online" },
	{ "rooms",	0, REST_NONE,	  ctl_rooms,	"",
	    "the rooms remembered and their history" },
	{ "bans",	0, REST_NONE,	  ctl_bans,	"",
	    "the banned addresses" },
	{ "kick",	1, REST_OPTIONAL, ctl_kick,	"NAME [REASON]",
	    "disconnect NAME" },
	{ "ban",	1, REST_OPTIONAL, ctl_ban,
	    "[-t DURATION] NAME|ADDRESS [REASON]",
	    "disconnect NAME and refuse its address, or a range" },
	{ "unban",	1, REST_NONE,	  ctl_unban,	"ADDRESS",
	    "lift a ban" },
	{ "wall",	0, REST_REQUIRED, ctl_wall,	"TEXT",
	    "a notice to everybody" },
	{ "shutdown",	0, REST_NONE,	  ctl_shutdown,	"",
	    "stop the server" },
};

#define NCTL_CMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static const struct option longopts[] = {
	{ "config",	required_argument, NULL, 'f' },
	{ "instance",	required_argument, NULL, 'n' },
	{ "port",	required_argument, NULL, 'p' },
	{ "run-dir",	required_argument, NULL, 'r' },
	{ "no-header",	no_argument,	   NULL, 'H' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL,		0,		   NULL, 0 }
};

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "%schatctl: ", log_pritag(LOG_ERR));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

static void
usage(FILE *fp)
{
	size_t	i;
	int	n;

	fprintf(fp, "usage: chatctl [-HhV] [-f file] [-n instance | -p port] "
	    "[--run-dir=dir] command [arg ...]\n"
	    "  -f, --config=FILE    chatd's settings file, for its instance, "
	    "port and run-dir\n"
	    "                       (default: %s if it exists)\n"
	    "  -n, --instance=NAME  the instance (default: the port, 9000)\n"
	    "  -p, --port=PORT      the instance named after PORT\n"
	    "      --run-dir=DIR    where the instance's pipes live\n",
	    CHATD_CONFIG_FILE);
	fprintf(fp,
	    "  -H, --no-header      leave out the header line\n"
	    "  -V, --version        print the version and exit\n"
	    "  -h, --help           print this summary and exit\n"
	    "commands:\n");
	for (i = 0; i < NCTL_CMDS; i++) {
		n = fprintf(fp, "  %s%s%s", ctl_cmds[i].name,
		    ctl_cmds[i].args[0] ? " " : "", ctl_cmds[i].args);
		fprintf(fp, "%*s%s\n", n < 23 ? 23 - n : 1, "",
		    ctl_cmds[i].help);
	}
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%schatctl: ", log_pritag(LOG_ERR));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(EX_USAGE);
}

/* Prints one record: its fields joined by tabs. */
static void __attribute__((format(printf, 1, 2)))
row(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
header(const struct ctl *c, const char *line)
{
	if (c->header)
		row("%s", line);
}

/* A user, copied out under the lock. */
struct user_row {
	uint64_t	regseq;
	char		name[NAME_MAX_LEN + 1];
	char		room[ROOM_MAX_LEN + 1];
	char		addr[ADDR_MAX_LEN + 1];
	int64_t		conntime;
	int		op;
	pid_t		pid;
	uint64_t	lag;	/* log bytes its worker has not read */
	uint64_t	queued;	/* bytes its client has not read */
};

static int
user_cmp(const void *a, const void *b)
{
	const struct user_row	*x = a, *y = b;

	return x->regseq < y->regseq ? -1 : x->regseq > y->regseq;
}

/*
 * Under the lock: whether the log holds a record for the user at slot
 * that its worker has not read, which is at or after rpos. The newest
 * record of each chain it reads (its own, its room's, everybody's)
 * tells; a user in a quiet room is not behind however busy the others.
 */
static int
user_pending(const struct hub *h, uint32_t slot, uint64_t rpos)
{
	uint32_t	room = atomic_load(&h->slots[slot].room);

	return h->slots[slot].lastpost > rpos ||
	    (room < h->hdr->nrooms && h->rooms[room].lastpost > rpos) ||
	    h->hdr->lastall > rpos;
}

/* The registered users, in registration order; the caller frees them. */
static struct user_row *
user_rows(struct ctl *c, size_t *np)
{
	struct hub	*h = &c->h;
	struct user_row	*list, *u;
	struct slot	*s;
	uint32_t	 i, hwm = h->hdr->nslots;
	uint64_t	 head, rpos;
	size_t		 n = 0;

	if ((list = calloc(hwm, sizeof(*list))) == NULL)
		die(EX_OSERR, "out of memory");
	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	head = ring_head(&h->ring);
	for (i = 0; i < hwm && i < h->hdr->nslots; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) != SLOT_ACTIVE)
			continue;
		u = &list[n++];
		u->regseq = s->regseq;
		memcpy(u->name, s->name, sizeof(u->name));
		memcpy(u->room, h->rooms[atomic_load(&s->room) %
		    h->hdr->nrooms].name, sizeof(u->room));
		memcpy(u->addr, s->addr, sizeof(u->addr));
		u->conntime = s->conntime;
		u->op = atomic_load(&s->op) != 0;
		u->pid = s->pid;
		rpos = atomic_load_explicit(&s->rpos, memory_order_relaxed);
		u->lag = user_pending(h, i, rpos) && head > rpos ?
		    head - rpos : 0;
		u->queued = atomic_load_explicit(&s->queued,
		    memory_order_relaxed);
	}
	hub_unlock(h);
	qsort(list, n, sizeof(*list), user_cmp);
	*np = n;
	return list;
}

/* The server's counters, copied out under the lock. */
struct status {
	pid_t		listener;
	int64_t		started;
	size_t		connections;
	size_t		rooms;
	size_t		bans;
	uint64_t	relayed;
	uint64_t	head;
	uint64_t	repairs;
	uint64_t	wakeups;
	uint64_t	late;
	uint64_t	lines;
	uint32_t	link;	/* enum link_state */
	int64_t		link_since;
	int64_t		link_retry;
	uint32_t	remotes;
	char		link_hub[SERVER_NAME_MAX + 1];
	char		link_error[LINK_ERROR_MAX + 1];
};

static void
status_copy(struct ctl *c, struct status *st)
{
	struct hub	*h = &c->h;
	uint32_t	 i, hwm;

	memset(st, 0, sizeof(*st));
	hub_lock(h);
	if (proc_alive(h->hdr->listener, h->hdr->lstart))
		st->listener = h->hdr->listener;
	st->started = h->hdr->started;
	hwm = atomic_load(&h->hdr->hwm);
	st->wakeups = atomic_load(&h->hdr->wakeups);
	st->lines = atomic_load(&h->hdr->lines);
	st->late = atomic_load(&h->hdr->late);
	for (i = 0; i < hwm && i < h->hdr->nslots; i++) {
		if (atomic_load(&h->slots[i].state) == SLOT_FREE)
			continue;
		if (atomic_load(&h->slots[i].state) != SLOT_LINK)
			st->connections++;
		st->wakeups += atomic_load(&h->slots[i].wakeups);
		st->lines += atomic_load(&h->slots[i].lines);
	}
	st->rooms = room_count_locked(h);
	st->bans = ban_count_locked(h, time(NULL));
	st->link = atomic_load(&h->hdr->link.state);
	st->link_since = h->hdr->link.since;
	st->link_retry = h->hdr->link.retry;
	st->remotes = atomic_load(&h->hdr->link.remotes);
	memcpy(st->link_hub, h->hdr->link.hub, sizeof(st->link_hub));
	memcpy(st->link_error, h->hdr->link.error, sizeof(st->link_error));
	st->relayed = atomic_load(&h->hdr->relayed);
	st->head = ring_head(&h->ring);
	st->repairs = atomic_load(&h->hdr->repairs);
	hub_unlock(h);
}

/* The link's rows of chatctl status (LINK.md). */
static void
status_link(const struct status *st, time_t now)
{
	static const char *const names[] = { "none", "connecting", "up",
					     "down" };

	row("link\t%s", names[st->link % 4]);
	if (st->link == LINK_NONE)
		return;
	row("link_hub\t%s", st->link_hub);
	row("link_since\t%lld", (long long)(now - (time_t)st->link_since));
	if (st->link == LINK_DOWN) {
		row("link_error\t%s", st->link_error);
		row("link_retry\t%lld", st->link_retry > now ?
		    (long long)(st->link_retry - now) : 0LL);
	}
	row("remote_users\t%u", st->remotes);
}

static int
ctl_status(struct ctl *c, char **argv)
{
	struct status	 st;
	struct user_row	*users;
	size_t		 i, n;
	time_t		 now = time(NULL);

	(void)argv;
	status_copy(c, &st);
	users = user_rows(c, &n);
	header(c, "KEY\tVALUE");
	row("instance\t%s", c->cf.instance);
	row("listener\t%ld", (long)st.listener);
	row("started\t%lld", (long long)st.started);
	row("uptime\t%lld", (long long)(now - (time_t)st.started));
	row("users\t%zu", n);
	row("connections\t%zu", st.connections);
	row("rooms\t%zu", st.rooms);
	row("bans\t%zu", st.bans);
	row("relayed\t%llu", (unsigned long long)st.relayed);
	row("log_head\t%llu", (unsigned long long)st.head);
	row("log_size\t%llu", (unsigned long long)c->h.ring.size);
	row("lock_repairs\t%llu", (unsigned long long)st.repairs);
	row("wakeups\t%llu", (unsigned long long)st.wakeups);
	row("late_wakeups\t%llu", (unsigned long long)st.late);
	row("lines_out\t%llu", (unsigned long long)st.lines);
	status_link(&st, now);
	for (i = 0; i < n; i++)
		row("lag.%s\t%llu", users[i].name,
		    (unsigned long long)users[i].lag);
	free(users);
	return 0;
}

/*
 * The users of the rest of the network, after the local ones: their
 * rooms joined by ',' and their server. Written to memory under the
 * lock, and only then to stdout, which may block.
 */
static void
remote_rows(struct ctl *c, time_t now)
{
	struct hub		*h = &c->h;
	const struct remote	*r;
	uint32_t		 i, room;
	const char		*sep;
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*fp;

	if ((fp = open_memstream(&out, &len)) == NULL)
		die(EX_OSERR, "open_memstream: %s", strerror(errno));
	hub_lock(h);
	for (i = 0; i < h->hdr->nremotes; i++) {
		r = remote_at(h, i);
		if (!r->used)
			continue;
		fprintf(fp, "%s\t", r->name);
		sep = "";
		for (room = 0; room < h->hdr->nrooms; room++)
			if (remote_in(h, (int)i, room)) {
				fprintf(fp, "%s%s", sep, h->rooms[room].name);
				sep = ",";
			}
		fprintf(fp, "%s\t-\t%lld\tno\t-\t-\t-\t%s\n",
		    sep[0] == '\0' ? "-" : "", (long long)(now -
		    (time_t)r->since),
		    h->hdr->servers[r->server % NET_SERVERS_MAX].name);
	}
	hub_unlock(h);
	if (fclose(fp) != 0)
		die(EX_OSERR, "out of memory");
	fputs(out, stdout);
	free(out);
}

static int
ctl_users(struct ctl *c, char **argv)
{
	struct user_row	*users;
	size_t		 i, n;
	time_t		 now = time(NULL);

	(void)argv;
	users = user_rows(c, &n);
	header(c, "NAME\tROOM\tADDRESS\tCONNECTED_SECS\tOP\tPID\t"
	    "LAG_BYTES\tQUEUED_BYTES\tSERVER");
	for (i = 0; i < n; i++)
		row("%s\t%s\t%s\t%lld\t%s\t%ld\t%llu\t%llu\t-",
		    users[i].name, users[i].room, users[i].addr,
		    (long long)(now - (time_t)users[i].conntime),
		    users[i].op ? "yes" : "no", (long)users[i].pid,
		    (unsigned long long)users[i].lag,
		    (unsigned long long)users[i].queued);
	free(users);
	remote_rows(c, now);
	return 0;
}

struct room_row {
	char		name[ROOM_MAX_LEN + 1];
	size_t		users;
	uint64_t	history;
};

static int
ctl_rooms(struct ctl *c, char **argv)
{
	struct hub	*h = &c->h;
	struct room_row	*list;
	uint32_t	 i, r, hwm, nrooms = h->hdr->nrooms;
	size_t		 n = 0, *count;

	(void)argv;
	if ((list = calloc(nrooms, sizeof(*list))) == NULL ||
	    (count = calloc(nrooms, sizeof(*count))) == NULL)
		die(EX_OSERR, "out of memory");
	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	for (i = 0; i < hwm && i < h->hdr->nslots; i++)
		if (atomic_load(&h->slots[i].state) == SLOT_ACTIVE)
			count[atomic_load(&h->slots[i].room) % nrooms]++;
	for (r = 0; r < nrooms; r++) {
		if (!h->rooms[r].used)
			continue;
		memcpy(list[n].name, h->rooms[r].name, sizeof(list[n].name));
		list[n].users = count[r];
		list[n].history = h->rooms[r].nhist < h->hdr->hist_len ?
		    h->rooms[r].nhist : h->hdr->hist_len;
		n++;
	}
	hub_unlock(h);
	header(c, "ROOM\tUSERS\tHISTORY_LINES");
	for (i = 0; i < n; i++)
		row("%s\t%zu\t%llu", list[i].name, list[i].users,
		    (unsigned long long)list[i].history);
	free(count);
	free(list);
	return 0;
}

/* A ban's reason may hold tabs, which would split the record. */
static void
untab(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\t')
			*s = ' ';
}

/*
 * The bans in force; LEFT_SECS is the time left in seconds, "-" for a
 * ban that does not expire, and NAME "-" for a range banned as such.
 */
static int
ctl_bans(struct ctl *c, char **argv)
{
	struct ban	*list;
	size_t		 i, n;
	int64_t		 now = time(NULL);

	(void)argv;
	if ((list = calloc(CHATD_MAX_BANS, sizeof(*list))) == NULL)
		die(EX_OSERR, "out of memory");
	hub_lock(&c->h);
	n = ban_list_locked(&c->h, list, now);
	hub_unlock(&c->h);
	header(c, "ADDRESS\tNAME\tREASON\tLEFT_SECS");
	for (i = 0; i < n; i++) {
		untab(list[i].reason);
		if (list[i].expires == 0)
			row("%s\t%s\t%s\t-", list[i].addr, list[i].name[0] ?
			    list[i].name : "-", list[i].reason);
		else
			row("%s\t%s\t%s\t%lld", list[i].addr, list[i].name[0] ?
			    list[i].name : "-", list[i].reason,
			    (long long)(list[i].expires - now));
	}
	free(list);
	return 0;
}

/*
 * Joins words with spaces and cleans the result as a user's line is
 * cleaned (text.h), so that the administrator cannot send what a user
 * could not. Returns NULL when nothing is left.
 */
static char *
clean_words(const char *what, int argc, char **argv)
{
	const unsigned char	*p;
	unsigned char		*raw, *out;
	size_t			 len = 0, n;
	int			 i;

	for (i = 0; i < argc; i++)
		len += (i > 0) + strlen(argv[i]);
	if (len > CHATD_MAX_LINE_CAP)
		usage_error("%s: longer than %d bytes", what,
		    CHATD_MAX_LINE_CAP);
	if ((raw = malloc(len + 1)) == NULL ||
	    (out = malloc(TEXT_CLEAN_MAX(len) + 1)) == NULL)
		die(EX_OSERR, "out of memory");
	for (i = 0, n = 0; i < argc; i++) {
		if (i > 0)
			raw[n++] = ' ';
		memcpy(raw + n, argv[i], strlen(argv[i]));
		n += strlen(argv[i]);
	}
	n = text_clean(raw, len, out);
	free(raw);
	p = out;
	text_trim(&p, &n);
	memmove(out, p, n);
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

/*
 * Who runs us, for the audit trail: the real user, taken before
 * become_owner, and our pid ("alice, uid 1000, pid 4242").
 */
static void
ctl_who(struct ctl *c)
{
	struct passwd	*pw = getpwuid(getuid());

	if (pw != NULL)
		snprintf(c->who, sizeof(c->who), "%.*s, uid %ld, pid %ld",
		    NAME_MAX_LEN, pw->pw_name, (long)getuid(), (long)getpid());
	else
		snprintf(c->who, sizeof(c->who), "uid %ld, pid %ld",
		    (long)getuid(), (long)getpid());
}

/*
 * Has the server log an action of ours (audit.c): queued in the
 * segment, for the listener, woken by SIGUSR2 (or at its next round,
 * within a second), or without one for whichever worker wakes first.
 */
static void
ctl_audit(struct ctl *c, struct audit *a)
{
	struct hub	*h = &c->h;
	pid_t		 listener;

	a->by = "chatctl";
	a->from = c->who;
	audit_post(h, a);
	hub_lock(h);
	listener = proc_alive(h->hdr->listener, h->hdr->lstart) ?
	    h->hdr->listener : 0;
	hub_unlock(h);
	if (listener != 0)
		(void)kill(listener, SIGUSR2);
	else
		notify_all(&c->nt);
}

/* Kicks, or bans, a user in the administrator's name. */
static int
kick_user(struct ctl *c, char **argv, int ban)
{
	struct live	 lv = { .oper_first_user = 1 };
	uint32_t	 gen = 0;
	struct kick	 k = { .by = ADMIN_NAME, .slot = -1,
			    .room = RING_ALLROOMS, .ban = ban,
			    .expires = c->expires };
	struct cidr	 range;
	struct audit	 a;
	enum kick_result r;

	if (ban && ban_is_range(argv[0]) &&
	    ban_range_parse(&range, argv[0]) == -1)
		usage_error("invalid address or range: %s", argv[0]);
	(void)hub_fetch(&c->h, &lv, &gen);
	k.handover = lv.oper_first_user;
	k.v6prefix = lv.ipv6_prefix != 0 ? lv.ipv6_prefix : CHATD_IPV6_PREFIX;
	k.reason = c->words;
	if (ban && ban_is_range(argv[0]))
		r = session_ban(&c->h, &c->nt, &k, &range, c->text);
	else
		r = session_kick(&c->h, &c->nt, &k, argv[0], c->text);
	if (r == KICK_OK) {
		session_audit_kick(&a, &k, ban && ban_is_range(argv[0]));
		ctl_audit(c, &a);
	}
	/* Seen through before any way out, die() included. */
	notify_settle(&c->nt);
	state_finish(&c->h);
	if (r == KICK_REMOTE)
		die(EXIT_NOTARGET, "%s is on %s: ask its operators", k.name,
		    k.server);
	if (r == KICK_FULL)
		die(EXIT_NOTARGET, "the ban table is full");
	if (r != KICK_OK)
		die(EXIT_NOTARGET, "no such user: %s", argv[0]);
	if (k.full)
		die(EXIT_NOTARGET, "the ban table is full; %s was only kicked",
		    k.name);
	return 0;
}

static int
ctl_kick(struct ctl *c, char **argv)
{
	return kick_user(c, argv, 0);
}

static int
ctl_ban(struct ctl *c, char **argv)
{
	return kick_user(c, argv, 1);
}

static int
ctl_unban(struct ctl *c, char **argv)
{
	struct cidr	range;
	char		cover[CIDR_STR_MAX];
	int		r, i = -1;

	if (ban_range_parse(&range, argv[0]) == -1)
		die(EXIT_NOTARGET, "not banned: %s", argv[0]);
	hub_lock(&c->h);
	if ((r = ban_remove_locked(&c->h, &range, time(NULL))) == -1 &&
	    (i = ban_covering_locked(&c->h, &range, time(NULL))) != -1)
		memcpy(cover, c->h.hdr->bans[i].addr, sizeof(cover));
	hub_unlock(&c->h);
	if (r == -1 && i != -1)
		die(EXIT_NOTARGET, "not banned: %s (it is in %s: unban %s)",
		    argv[0], cover, cover);
	if (r == -1)
		die(EXIT_NOTARGET, "not banned: %s", argv[0]);
	ban_range_format(&range, cover, sizeof(cover));
	ctl_audit(c, &(struct audit){ .action = AUDIT_UNBAN,
	    .target = cover });
	return 0;
}

/* "* TEXT" to every room, and a wake-up for everybody. */
static int
ctl_wall(struct ctl *c, char **argv)
{
	struct hub	*h = &c->h;
	size_t		 len;

	(void)argv;
	len = text_format(c->text, RECORD_TEXT_MAX, "* %s", c->words);
	hub_lock(h);
	hub_post_locked(h, &(struct record){ .kind = REC_NOTICE,
	    .room = RING_ALLROOMS, .target = -1, .exclude = -1,
	    .sender = -1, .time = time(NULL) }, c->text, len);
	hub_unlock(h);
	notify_room(&c->nt, RING_ALLROOMS, -1);
	ctl_audit(c, &(struct audit){ .action = AUDIT_WALL,
	    .reason = c->words });
	return 0;
}

/* Whether a connection is still served by a live worker. */
static int
ctl_connected(struct ctl *c)
{
	struct hub	*h = &c->h;
	pid_t		*pids;
	uint64_t	*starts;
	uint32_t	 i, hwm, n = 0;
	int		 alive = 0;

	if ((pids = calloc(h->hdr->nslots, sizeof(*pids))) == NULL ||
	    (starts = calloc(h->hdr->nslots, sizeof(*starts))) == NULL)
		die(EX_OSERR, "out of memory");
	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	for (i = 0; i < hwm && i < h->hdr->nslots; i++)
		if (atomic_load(&h->slots[i].state) != SLOT_FREE) {
			pids[n] = h->slots[i].pid;
			starts[n++] = h->slots[i].pstart;
		}
	hub_unlock(h);
	for (i = 0; i < n && !alive; i++)
		alive = proc_alive(pids[i], starts[i]);
	free(starts);
	free(pids);
	return alive;
}

/*
 * Whether the instance has stopped: a listener removes the segment as
 * it ends; without one (inetd, or a listener that died) the segment
 * stays until the last worker is gone.
 */
static int
ctl_stopped(struct ctl *c, int listener)
{
	int	fd;

	if ((fd = shm_open(c->h.shmname, O_RDONLY, 0)) == -1)
		return errno == ENOENT;
	close(fd);
	return !listener && !ctl_connected(c);
}

/*
 * Stops the server as SIGTERM does: every worker is told by the shutdown
 * flag and a wake-up, and a standalone listener, asked by the signal,
 * waits for them and removes the segment. Waits, bounded, for the end.
 */
static int
ctl_shutdown(struct ctl *c, char **argv)
{
	struct hub	*h = &c->h;
	struct timespec	 ts = { 0, 20L * 1000 * 1000 };
	pid_t		 listener;
	int		 waited;

	(void)argv;
	/* Logged before anybody can see the flag and go. */
	ctl_audit(c, &(struct audit){ .action = AUDIT_SHUTDOWN });
	hub_lock(h);
	listener = proc_alive(h->hdr->listener, h->hdr->lstart) ?
	    h->hdr->listener : 0;
	hub_unlock(h);
	atomic_store(&h->hdr->shutdown, 1);
	notify_all(&c->nt);
	if (listener != 0 && kill(listener, SIGTERM) == -1 && errno != ESRCH)
		die(EX_UNAVAILABLE, "cannot signal the listener (pid %ld): %s",
		    (long)listener, strerror(errno));
	for (waited = 0; waited < CTL_SHUTDOWN_WAIT_MS; waited += 20) {
		if (ctl_stopped(c, listener != 0))
			return 0;
		nanosleep(&ts, NULL);
	}
	die(EXIT_NOTARGET, "instance %s did not stop within %d seconds",
	    c->cf.instance, CTL_SHUTDOWN_WAIT_MS / 1000);
}

/* An -n or --run-dir that config.c refused: no usage summary after it. */
static void __attribute__((noreturn))
bad_value(const char *opt, const char *why)
{
	fprintf(stderr, "%schatctl: %s: %s\n", log_pritag(LOG_ERR), opt, why);
	exit(EX_USAGE);
}

/* The instance named after a port, as chatd names it by default. */
static void
set_port(const char *s, char *inst, size_t len)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno == ERANGE ||
	    v == 0 || v > 65535)
		usage_error("--port: '%s' is not a port number (1 to 65535)",
		    s);
	snprintf(inst, len, "%lu", v);
}

/* A bad line of the configuration file, on stderr. */
static void
report_file(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%schatctl: %s\n", log_pritag(LOG_ERR), msg);
}

/*
 * Where the instance is when the command line does not say: the
 * instance, port and run-dir of chatd's configuration file (-f, or by
 * default CHATD_CONFIG_FILE if it exists), as chatd reads them. A -n
 * or -p given wins over both the file's instance and port.
 */
static void
ctl_where(struct ctl *c, const char *file, const char *port)
{
	struct config	 fc;
	const char	*path = file != NULL ? file : CHATD_CONFIG_FILE;

	config_init(&fc);
	if (config_where(&fc, path, file == NULL, report_file, NULL) > 0)
		exit(EX_CONFIG);
	if (c->cf.instance[0] == '\0' && port[0] != '\0')
		snprintf(c->cf.instance, sizeof(c->cf.instance), "%s", port);
	else if (c->cf.instance[0] == '\0' && fc.instance[0] != '\0')
		memcpy(c->cf.instance, fc.instance, sizeof(c->cf.instance));
	else if (c->cf.instance[0] == '\0' && fc.port_opt == 0)
		die(EX_CONFIG, "%s: with port 0 the instance is named after "
		    "the port chatd picks: name it with -n", path);
	else if (c->cf.instance[0] == '\0')
		snprintf(c->cf.instance, sizeof(c->cf.instance), "%u",
		    (unsigned)fc.port_opt);
	if (c->cf.rundir[0] == '\0' && fc.rundir[0] != '\0')
		memcpy(c->cf.rundir, fc.rundir, sizeof(c->cf.rundir));
	if (c->cf.rundir[0] == '\0')
		config_default_rundir(&c->cf);
}

/* Parses the options; returns the index of the command in argv. */
static int
ctl_args(struct ctl *c, int argc, char **argv)
{
	char	 port[16] = "", why[CONFIG_WHY_MAX];
	char	*file = NULL;
	int	 ch;

	opterr = 0;
	/* "+": the command's own words may start with a dash. */
	while ((ch = getopt_long(argc, argv, "+:f:Hhn:p:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'H':
			c->header = 0;
			break;
		case 'n':
			if (config_set_instance(&c->cf, optarg, why,
			    sizeof(why)) == -1)
				bad_value("--instance", why);
			break;
		case 'p':
			set_port(optarg, port, sizeof(port));
			break;
		case 'r':
			if (config_set_rundir(&c->cf, optarg, why,
			    sizeof(why)) == -1)
				bad_value("--run-dir", why);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("chatctl %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			usage_error("option %s needs a value",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	ctl_where(c, file, port);
	if (optind == argc)
		usage_error("no command");
	return optind;
}

/*
 * ban -t DURATION ...: sets c->expires and takes "-t DURATION" out of
 * argv, so that the rest is read as ban NAME|ADDRESS [REASON]. Returns
 * the number of words it took.
 */
static int
ban_option(struct ctl *c, int argc, char **argv)
{
	const char	*why;
	uint64_t	 secs;

	if (argc < 2 || strcmp(argv[0], "ban") != 0 ||
	    strcmp(argv[1], "-t") != 0)
		return 0;
	if (argc < 4) {
		fprintf(stderr, "usage: chatctl ban [-t DURATION] "
		    "NAME|ADDRESS [REASON]\n");
		exit(EX_USAGE);
	}
	if ((why = duration_parse(argv[2], CHATD_BAN_SECS_MAX,
	    &secs)) != NULL)
		usage_error("bad duration: %s (%s; " CHATD_BAN_DURATIONS ")",
		    argv[2], why);
	c->expires = (int64_t)time(NULL) + (int64_t)secs;
	/* "ban" moves up over "-t DURATION". */
	argv[2] = argv[0];
	return 2;
}

static const struct ctl_cmd *
ctl_find(int argc, char **argv)
{
	const struct ctl_cmd	*cmd = NULL;
	size_t			 i;

	for (i = 0; i < NCTL_CMDS; i++)
		if (strcmp(ctl_cmds[i].name, argv[0]) == 0)
			cmd = &ctl_cmds[i];
	if (cmd == NULL)
		usage_error("unknown command: %s", argv[0]);
	if (argc - 1 < cmd->nargs + (cmd->rest == REST_REQUIRED) ||
	    (cmd->rest == REST_NONE && argc - 1 > cmd->nargs)) {
		fprintf(stderr, "usage: chatctl %s%s%s\n", cmd->name,
		    cmd->args[0] ? " " : "", cmd->args);
		exit(EX_USAGE);
	}
	return cmd;
}

static int
instance_gone(const struct hub *h)
{
	struct stat	st;

	return fstat(h->dirfd, &st) == 0 && st.st_nlink == 0;
}

/*
 * The user who owns the segment, as the kernel says. Not the header's
 * owner field: that user can write the header, and a 0 there would keep
 * root's chatctl root while it signals the pid the header names and
 * writes into the state directory.
 */
static uid_t
segment_owner(const struct ctl *c)
{
	struct stat	st;
	int		fd;

	if ((fd = shm_open(c->h.shmname, O_RDONLY, 0)) == -1)
		die(EX_UNAVAILABLE, "shm_open %s: %s", c->h.shmname,
		    strerror(errno));
	if (fstat(fd, &st) == -1)
		die(EX_UNAVAILABLE, "fstat %s: %s", c->h.shmname,
		    strerror(errno));
	close(fd);
	return st.st_uid;
}

/*
 * Root managing an instance that runs as another user becomes that
 * user once attached: whatever chatctl then creates (the state files
 * after a ban) stays the server's, root never writes into a directory
 * somebody else controls, and the listener's pid, read from the
 * segment, is signalled with that user's rights only.
 */
static void
become_owner(uid_t owner)
{
	struct passwd	*pw;

	if (geteuid() != 0 || owner == 0)
		return;
	if ((pw = getpwuid(owner)) == NULL)
		die(EX_UNAVAILABLE, "no user has uid %ld, the instance's owner",
		    (long)owner);
	if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(owner) == -1)
		die(EX_OSERR, "cannot become %s: %s", pw->pw_name,
		    strerror(errno));
	if (setuid(0) != -1)
		die(EX_OSERR, "could become root again after becoming %s",
		    pw->pw_name);
}

int
main(int argc, char **argv)
{
	struct ctl		 c;
	const struct ctl_cmd	*cmd;
	char			 why[512];
	int			 i, r;

	memset(&c, 0, sizeof(c));
	c.header = 1;
	config_init(&c.cf);
	log_setname("chatctl");
	log_init(1, 0);
	ctl_who(&c);
	i = ctl_args(&c, argc, argv);
	i += ban_option(&c, argc - i, argv + i);
	cmd = ctl_find(argc - i, argv + i);
	argv += i + 1;
	argc -= i + 1;
	/* Checked now, so that a bad text is a usage error, not an act. */
	if (cmd->rest != REST_NONE) {
		c.words = clean_words(cmd->rest == REST_REQUIRED ? "text" :
		    "reason", argc - cmd->nargs,
		    argv + cmd->nargs);
		if (c.words == NULL && cmd->rest == REST_REQUIRED)
			usage_error("%s: nothing left of the text once cleaned",
			    cmd->name);
	}
	if ((c.text = malloc(RECORD_TEXT_MAX)) == NULL)
		die(EX_OSERR, "out of memory");
	/* A closed pipe may not leave a wake-up half done. */
	signal(SIGPIPE, SIG_IGN);
	if (hub_open_running(&c.h, &c.cf, why, sizeof(why)) == -1)
		die(EX_UNAVAILABLE, "%s", why);
	become_owner(segment_owner(&c));
	/* Bans changed here are saved as a worker saves them. */
	state_init();
	notify_init(&c.nt, &c.h);
	r = cmd->fn(&c, argv);
	/*
	 * Whatever it handed to relays, and a bans file that waits for a
	 * lock, are seen through before we go.
	 */
	notify_settle(&c.nt);
	state_finish(&c.h);
	/*
	 * Under inetd the last user may have left meanwhile, removing the
	 * instance (and its directory): then nobody saw the action.
	 */
	if (r == 0 && cmd->fn != ctl_shutdown && instance_gone(&c.h))
		die(1, "instance %s ended while %s ran", c.cf.instance,
		    cmd->name);
	if (fflush(stdout) == EOF || ferror(stdout))
		die(EX_IOERR, "standard output: %s", strerror(errno));
	notify_forget(&c.nt);
	munmap(c.h.hdr, c.h.size);
	close(c.h.dirfd);
	free(c.words);
	free(c.text);
	return r;
}
