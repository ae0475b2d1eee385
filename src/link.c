/* SPDX-License-Identifier: ISC */
/*
 * The link process: chatd as a leaf server of an IRC network. One per
 * instance, attached to the segment like a worker (a slot of its own,
 * SLOT_LINK, and a wake-up pipe), it connects out to the hub, reads the
 * log as a worker does and tells the network what local users say and
 * do, and posts what the network's users say and do as records, the way
 * a worker would for its own user. The remote users live in the segment
 * (remote.c), so that listings never ask this process anything.
 *
 * No worker ever waits on it: they only write its pipe. A link that
 * falls a whole log behind, or whose hub does not read, is dropped and
 * bursts again. Every line's syntax is the dialect's (dialect.h).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fault.h"
#include "link.h"
#include "log.h"
#include "notice.h"
#include "proctitle.h"
#include "room.h"
#include "session.h"
#include "state.h"
#include "text.h"

#define LINK_IN_MAX	((size_t)64 << 10)	/* bytes read from the hub at once */
#define LINK_OUT_MAX	(1U << 20)	/* bytes queued for the hub */
#define LINK_BATCH	64	/* log records read under one lock */

enum lstate {
	L_DOWN,		/* no connection; next try at retry_at */
	L_HELLO,	/* we said who we are; waiting for the hub's */
	L_BURST,	/* both bursts under way */
	L_UP
};

struct link {
	struct hub		*hub;
	struct config		*cf;
	const struct dialect	*d;
	struct net_self		 self;
	struct net_parser	 np;
	struct notifier		 nt;
	int			 slot;
	int			 rfd, wfd;	/* our wake-up pipe */
	int			 sock;
	enum lstate		 st;
	uint64_t		 pos;	/* next log position to read */
	int64_t			 retry_at;	/* L_DOWN: now_ms() */
	unsigned		 delay;	/* seconds before the next try */
	int64_t			 deadline;	/* handshake and burst end */
	int64_t			 heard;	/* last byte from the hub */
	int			 pinged;
	char			 hubname[SERVER_NAME_MAX + 1];
	char			 where[sizeof(((struct config *)0)->link_host) +
				    16];
	char			 in[LINK_IN_MAX + 1];
	size_t			 inlen;
	struct net_out		 out;
	size_t			 outoff;	/* first byte not yet written */
	char			*text;	/* a record's text */
	unsigned char		*clean;
	size_t			*joined;	/* netjoin counts per room */
	int			 njoined;
	char			 joinedvia[SERVER_NAME_MAX + 1];	/* from */
	unsigned char		*wake;	/* rooms to wake once unlocked */
	int			 nwake;
	int			 dm;	/* a local user to wake, or -1 */
};

static volatile sig_atomic_t	link_stop;

static void
on_stop(int sig)
{
	(void)sig;
	link_stop = 1;
}

static void
link_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		fatal("sigaction");
	sigemptyset(&set);
	if (sigprocmask(SIG_SETMASK, &set, NULL) == -1)
		fatal("sigprocmask");
}

/* Under the lock: what chatctl status shows of us. */
static void
status_locked(struct link *l, enum link_state st, const char *error)
{
	struct link_info	*li = &l->hub->hdr->link;

	HUB_ASSERT_LOCKED();
	atomic_store(&li->state, st);
	li->since = time(NULL);
	li->retry = st == LINK_DOWN ? li->since + l->delay : 0;
	(void)text_format(li->hub, sizeof(li->hub), "%s",
	    l->hubname[0] != '\0' ? l->hubname : l->where);
	if (error != NULL)
		(void)text_format(li->error, sizeof(li->error), "%s", error);
}

/* Under the lock: a record from the network, as a worker posts one. */
static void
post_locked(struct link *l, enum rec_kind kind, uint32_t room, int target,
    const char *text, size_t len)
{
	HUB_ASSERT_LOCKED();
	session_post_locked(l->hub, l->slot,
	    atomic_load(&l->hub->slots[l->slot].gen), kind, room, target, text,
	    len);
}

/* Under the lock: a notice to a room, unless the room is too big. */
static void
notice_locked(struct link *l, uint32_t room, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
notice_locked(struct link *l, uint32_t room, const char *fmt, ...)
{
	char	text[NOTICE_MAX + SERVER_NAME_MAX + 2 * NICK_MAX_LEN];
	va_list	ap;
	size_t	n;

	HUB_ASSERT_LOCKED();
	if (hub_quiet_locked(l->hub, room))
		return;
	va_start(ap, fmt);
	n = text_vformat(text, sizeof(text), fmt, ap);
	va_end(ap);
	post_locked(l, REC_NOTICE, room, -1, text, n);
	l->wake[room] = 1;
	l->nwake = 1;
}

/* Wakes the rooms and the user we posted for, once unlocked. */
static void
link_wake(struct link *l)
{
	uint32_t	room;

	HUB_ASSERT_UNLOCKED();
	if (l->dm != -1)
		(void)notify_slot(&l->nt, l->dm);
	l->dm = -1;
	if (!l->nwake)
		return;
	for (room = 0; room < l->hub->hdr->nrooms; room++)
		if (l->wake[room]) {
			l->wake[room] = 0;
			notify_room(&l->nt, room, l->slot);
		}
	l->nwake = 0;
}

/* Under the lock: the room a channel maps to, made if need be; or -1. */
static int
channel_room_locked(struct link *l, const char *channel, int make)
{
	const char	*name = channel + 1;

	HUB_ASSERT_LOCKED();
	if (channel[0] != '#' || text_room_problem(name, strlen(name)) != NULL)
		return -1;
	return make ? room_make_locked(l->hub, name) :
	    room_find_locked(l->hub, name);
}

/* Under the lock: the remote user called nick, or -1. */
static int
remote_named_locked(struct link *l, const char *nick)
{
	char	key[NICK_MAX_LEN + 1];

	HUB_ASSERT_LOCKED();
	l->d->fold(key, sizeof(key), nick);
	return remote_find_locked(l->hub, key);
}

/* Whether a local user is called nick. */
static int
local_named_locked(struct link *l, const char *nick)
{
	char	key[NAME_MAX_LEN + 1];

	HUB_ASSERT_LOCKED();
	if (!text_key(key, sizeof(key), nick, strlen(nick)))
		return 0;
	return hub_find_locked(l->hub, key) != -1;
}

/* The netjoin lines of a burst, one per room that got users back. */
static void
netjoin_flush_locked(struct link *l, const char *server)
{
	uint32_t	room;

	HUB_ASSERT_LOCKED();
	if (!l->njoined)
		return;
	if (l->joinedvia[0] != '\0')
		server = l->joinedvia;
	for (room = 0; room < l->hub->hdr->nrooms; room++) {
		if (l->joined[room] == 0)
			continue;
		notice_locked(l, room, "* netjoin: %zu %s joined (%s)",
		    l->joined[room], plural(l->joined[room], "user", "users"),
		    server);
		l->joined[room] = 0;
	}
	l->njoined = 0;
	l->joinedvia[0] = '\0';
}

static void
ev_user_locked(struct link *l, const struct net_event *ev)
{
	struct hub	*h = l->hub;
	char		 key[NICK_MAX_LEN + 1];
	int		 server;

	HUB_ASSERT_LOCKED();
	if ((server = remote_server_find_locked(h, ev->name)) == -1) {
		log_warnx("link: user %s on unknown server %s", ev->nick,
		    ev->name);
		return;
	}
	/* The hub kills both sides of a collision: wait for its KILL. */
	if (local_named_locked(l, ev->nick))
		return;
	l->d->fold(key, sizeof(key), ev->nick);
	if (remote_find_locked(h, key) != -1)
		return;
	if (remote_add_locked(h, ev->nick, key, (uint32_t)server) == -1)
		log_warnx("link: more than %u remote users; %s not shown",
		    h->hdr->nremotes, ev->nick);
}

static void
ev_nick_locked(struct link *l, const struct net_event *ev)
{
	struct remote	*r;
	uint32_t	 room;
	char		 old[NICK_MAX_LEN + 1];
	int		 i;

	HUB_ASSERT_LOCKED();
	if ((i = remote_named_locked(l, ev->nick)) == -1 ||
	    local_named_locked(l, ev->name))
		return;
	r = remote_at(l->hub, (uint32_t)i);
	memcpy(old, r->name, sizeof(old));
	snprintf(r->name, sizeof(r->name), "%s", ev->name);
	l->d->fold(r->key, sizeof(r->key), ev->name);
	for (room = 0; room < l->hub->hdr->nrooms; room++)
		if (remote_in(l->hub, i, room))
			notice_locked(l, room, "* %s is now known as %s", old,
			    r->name);
}

static void
ev_join_locked(struct link *l, const struct net_event *ev)
{
	int	i, room;

	HUB_ASSERT_LOCKED();
	if ((i = remote_named_locked(l, ev->nick)) == -1)
		return;
	if ((room = channel_room_locked(l, ev->channel, 1)) == -1)
		return;
	if (!remote_join_locked(l->hub, i, (uint32_t)room))
		return;
	FAULT(LINK_JOIN);
	if (ev->burst || l->st != L_UP) {
		l->joined[room]++;
		l->njoined = 1;
		return;
	}
	notice_locked(l, (uint32_t)room, "* %s joined %s",
	    remote_at(l->hub, (uint32_t)i)->name, l->hub->rooms[room].name);
}

static void
ev_part_locked(struct link *l, const char *nick, const char *channel)
{
	int	i, room;

	HUB_ASSERT_LOCKED();
	if ((i = remote_named_locked(l, nick)) == -1 ||
	    (room = channel_room_locked(l, channel, 0)) == -1)
		return;
	if (remote_part_locked(l->hub, i, (uint32_t)room))
		notice_locked(l, (uint32_t)room, "* %s left %s",
		    remote_at(l->hub, (uint32_t)i)->name,
		    l->hub->rooms[room].name);
}

/* A remote user leaves the network; why: "quit (...)" or "quit". */
static void
remote_gone_locked(struct link *l, int i, const char *why)
{
	struct remote	*r = remote_at(l->hub, (uint32_t)i);
	uint32_t	 room;

	HUB_ASSERT_LOCKED();
	for (room = 0; room < l->hub->hdr->nrooms; room++)
		if (remote_in(l->hub, i, room))
			notice_locked(l, room, "* %s %s", r->name, why);
	remote_del_locked(l->hub, i);
}

static void
ev_quit_locked(struct link *l, const struct net_event *ev)
{
	char	why[DIALECT_LINE_MAX + 16];
	int	i;

	HUB_ASSERT_LOCKED();
	if ((i = remote_named_locked(l, ev->nick)) == -1)
		return;
	if (ev->len == 0)
		snprintf(why, sizeof(why), "quit");
	else
		snprintf(why, sizeof(why), "quit (%.*s)", (int)ev->len,
		    ev->text);
	remote_gone_locked(l, i, why);
}

/*
 * A remote user's /me (an ACTION to a channel) that would read as a
 * notice about its sender is dropped, as a local one is refused
 * (chatd(7)): IRC has no way to tell it why. Runs before the hub lock
 * is taken, so that it may log; the cleaned text goes to l->clean.
 */
static int
action_forged(struct link *l, const struct net_event *ev)
{
	size_t	n;

	if (ev->type != NET_ACTION || ev->target[0] != '#')
		return 0;
	n = text_clean((const unsigned char *)ev->text, ev->len, l->clean);
	if (!notice_forged((const char *)l->clean, n))
		return 0;
	log_info("link: dropped an action by %s that looked like a server "
	    "notice", ev->nick);
	return 1;
}

/* A line from a remote user to a room or to a local user. */
static void
ev_msg_locked(struct link *l, const struct net_event *ev)
{
	struct hub	*h = l->hub;
	char		 key[NAME_MAX_LEN + 1];
	size_t		 n, len;
	int		 room, t;

	HUB_ASSERT_LOCKED();
	if (remote_named_locked(l, ev->nick) == -1)
		return;
	n = text_clean((const unsigned char *)ev->text, ev->len, l->clean);
	if (n == 0)
		return;
	if (ev->target[0] == '#') {
		if ((room = channel_room_locked(l, ev->target, 0)) == -1)
			return;
		len = ev->type == NET_ACTION ?
		    text_format(l->text, RECORD_TEXT_MAX, "* %s %.*s",
		    ev->nick, (int)n, (const char *)l->clean) :
		    text_format(l->text, RECORD_TEXT_MAX, "<%s> %.*s",
		    ev->nick, (int)n, (const char *)l->clean);
		post_locked(l, ev->type == NET_ACTION ? REC_ME : REC_CHAT,
		    (uint32_t)room, -1, l->text, len);
		l->wake[room] = 1;
		l->nwake = 1;
		return;
	}
	if (!text_key(key, sizeof(key), ev->target, strlen(ev->target)) ||
	    (t = hub_find_locked(h, key)) == -1)
		return;
	len = ev->type == NET_ACTION ?
	    text_format(l->text, RECORD_TEXT_MAX, "*%s* * %s %.*s", ev->nick,
	    ev->nick, (int)n, (const char *)l->clean) :
	    text_format(l->text, RECORD_TEXT_MAX, "*%s* %.*s", ev->nick,
	    (int)n, (const char *)l->clean);
	post_locked(l, REC_DM, RING_ALLROOMS, t, l->text, len);
	/* One slot at a time: the next direct message wakes this one. */
	if (l->dm != -1 && l->dm != t) {
		hub_unlock(h);
		link_wake(l);
		hub_lock(h);
	}
	l->dm = t;
}

/* The network removed a local user, or a remote one. */
static void
ev_kill(struct link *l, const struct net_event *ev)
{
	char	told[RECORD_TEXT_MAX], seen[NOTICE_MAX + NICK_MAX_LEN];
	int	i, op = l->cf->live.oper_first_user;

	if (ev->collision) {
		snprintf(told, sizeof(told),
		    "! name collision on the IRC network: reconnect");
		snprintf(seen, sizeof(seen), "* %s quit (name collision)",
		    ev->nick);
	} else {
		snprintf(told, sizeof(told), "! you were killed by %s (%.*s)",
		    ev->name, (int)ev->len, ev->text);
		snprintf(seen, sizeof(seen), "* %s quit (killed by %s)",
		    ev->nick, ev->name);
	}
	if (session_kill(l->hub, &l->nt, ev->nick, told, seen, op) == 0) {
		log_info("link: %s removed by the network: %s", ev->nick,
		    told + 2);
		return;
	}
	hub_lock(l->hub);
	if ((i = remote_named_locked(l, ev->nick)) != -1)
		remote_gone_locked(l, i, seen + 3 + strlen(ev->nick));
	hub_unlock(l->hub);
}

/* An IRC KICK: of a local user, chatd's own kick; of a remote, a part. */
static void
ev_kick(struct link *l, const struct net_event *ev)
{
	struct kick	k = { .by = ev->name, .slot = -1,
			    .room = RING_ALLROOMS,
			    .handover = (int)l->cf->live.oper_first_user };
	char		reason[DIALECT_LINE_MAX];

	snprintf(reason, sizeof(reason), "%.*s", (int)ev->len, ev->text);
	k.reason = reason[0] != '\0' ? reason : NULL;
	if (session_kick(l->hub, &l->nt, &k, ev->nick, l->text) == KICK_OK)
		return;
	hub_lock(l->hub);
	ev_part_locked(l, ev->nick, ev->channel);
	hub_unlock(l->hub);
}

static void	link_drop(struct link *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	burst(struct link *);

/* The hub's handshake: its password, then its name. */
static int
ev_hello(struct link *l, const struct net_event *ev)
{
	int	ok;

	if (ev->type == NET_PASS) {
		ok = text_same_secret(ev->text, l->cf->link_expect);
		if (!ok) {
			link_drop(l, "wrong password from the hub");
			return -1;
		}
		return 0;
	}
	if (!l->np.got_pass) {
		link_drop(l, "the hub sent no password");
		return -1;
	}
	snprintf(l->hubname, sizeof(l->hubname), "%s", ev->name);
	hub_lock(l->hub);
	(void)remote_server_locked(l->hub, ev->name, REMOTE_NONE);
	hub_unlock(l->hub);
	l->st = L_BURST;
	burst(l);
	return 0;
}

static void
ev_server(struct link *l, const struct net_event *ev)
{
	int	via;

	hub_lock(l->hub);
	if ((via = remote_server_find_locked(l->hub, ev->via)) == -1 ||
	    remote_server_locked(l->hub, ev->name, (uint32_t)via) == -1)
		log_warnx("link: server %s behind %s not kept", ev->name,
		    ev->via);
	/* Once we are up, a new server's users join with it. */
	else if (l->st == L_UP && l->joinedvia[0] == '\0')
		snprintf(l->joinedvia, sizeof(l->joinedvia), "%s", ev->name);
	hub_unlock(l->hub);
}

static void
ev_squit(struct link *l, const struct net_event *ev)
{
	size_t	n;
	int	i;

	if (strcasecmp(ev->name, l->hubname) == 0) {
		link_drop(l, "the hub split from us");
		return;
	}
	hub_lock(l->hub);
	n = (i = remote_server_find_locked(l->hub, ev->name)) == -1 ? 0 :
	    session_split_locked(l->hub, (uint32_t)i, ev->name);
	hub_unlock(l->hub);
	if (n > 0)
		notify_all(&l->nt);
	log_info("link: %s split from the network (%zu %s)", ev->name, n,
	    plural(n, "user", "users"));
}

static void
ev_burst_end(struct link *l)
{
	hub_lock(l->hub);
	netjoin_flush_locked(l, l->hubname);
	l->st = L_UP;
	l->delay = LINK_RETRY_MIN;
	status_locked(l, LINK_UP, "");
	hub_unlock(l->hub);
	log_info("link to %s up (hub %s)", l->where, l->hubname);
}

/* One event from the hub. Returns -1 once the link is dropped. */
static int
link_event(struct link *l, const struct net_event *ev)
{
	if (l->st == L_HELLO && ev->type != NET_PASS &&
	    !(ev->type == NET_SERVER && ev->via == NULL) &&
	    ev->type != NET_IGNORE && ev->type != NET_ERROR &&
	    ev->type != NET_BAD) {
		link_drop(l, "the hub did not introduce itself");
		return -1;
	}
	switch (ev->type) {
	case NET_IGNORE:
		return 0;
	case NET_BAD:
		link_drop(l, "bad line from the hub: %s", ev->text);
		return -1;
	case NET_ERROR:
		link_drop(l, "the hub said: ERROR %.*s", (int)ev->len,
		    ev->text);
		return -1;
	case NET_PASS:
		return ev_hello(l, ev);
	case NET_SERVER:
		if (ev->via == NULL && l->st == L_HELLO)
			return ev_hello(l, ev);
		if (ev->via == NULL)
			return 0;
		ev_server(l, ev);
		return 0;
	case NET_SQUIT:
		ev_squit(l, ev);
		return l->st == L_DOWN ? -1 : 0;
	case NET_PING:
		l->d->pong(&l->out, &l->self, ev->text);
		return 0;
	case NET_BURST_END:
		ev_burst_end(l);
		return 0;
	case NET_KILL:
		ev_kill(l, ev);
		return 0;
	case NET_KICK:
		ev_kick(l, ev);
		return 0;
	case NET_ACTION:
		if (action_forged(l, ev))
			return 0;
		break;
	default:
		break;
	}
	hub_lock(l->hub);
	switch (ev->type) {
	case NET_USER:
		ev_user_locked(l, ev);
		break;
	case NET_NICK:
		ev_nick_locked(l, ev);
		break;
	case NET_JOIN:
		ev_join_locked(l, ev);
		break;
	case NET_PART:
		ev_part_locked(l, ev->nick, ev->channel);
		break;
	case NET_QUIT:
		ev_quit_locked(l, ev);
		break;
	case NET_MSG:
	case NET_ACTION:
		ev_msg_locked(l, ev);
		break;
	default:
		break;
	}
	hub_unlock(l->hub);
	return 0;
}

/* The complete lines the hub sent; the rest waits for more. */
static void
link_lines(struct link *l)
{
	struct net_event	 ev[DIALECT_EVENTS];
	char			*line = l->in, *nl;
	size_t			 len;
	int			 i, n;

	while (l->sock != -1 &&
	    (nl = memchr(line, '\n', l->inlen - (size_t)(line - l->in))) !=
	    NULL) {
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len + 2 > DIALECT_LINE_MAX) {
			link_drop(l, "a line over %d bytes from the hub",
			    DIALECT_LINE_MAX);
			return;
		}
		n = l->d->parse(&l->np, line, len, ev);
		line = nl + 1;
		for (i = 0; i < n; i++)
			if (link_event(l, &ev[i]) == -1)
				return;
	}
	if (l->sock == -1)
		return;
	len = l->inlen - (size_t)(line - l->in);
	memmove(l->in, line, len);
	l->inlen = len;
	if (len >= DIALECT_LINE_MAX)
		link_drop(l, "a line over %d bytes from the hub",
		    DIALECT_LINE_MAX);
}

static void
link_read(struct link *l)
{
	ssize_t	n;

	n = read(l->sock, l->in + l->inlen, LINK_IN_MAX - l->inlen);
	if (n == 0) {
		link_drop(l, "the hub closed the connection");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			link_drop(l, "read: %s", strerror(errno));
		return;
	}
	l->inlen += (size_t)n;
	l->heard = now_ms();
	l->pinged = 0;
	link_lines(l);
	/* A server that links in later bursts too: its netjoin, now. */
	if (l->st == L_UP && l->njoined) {
		hub_lock(l->hub);
		netjoin_flush_locked(l, l->hubname);
		hub_unlock(l->hub);
	}
	/* Whoever the lines of this read are for, woken once. */
	link_wake(l);
}

static void
link_write(struct link *l)
{
	ssize_t	n;

	while (l->outoff < l->out.len) {
		n = write(l->sock, l->out.buf + l->outoff,
		    l->out.len - l->outoff);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				link_drop(l, "write: %s", strerror(errno));
			return;
		}
		l->outoff += (size_t)n;
	}
	l->out.len = l->outoff = 0;
}

/* A record's author: "<NAME> ..." or "* NAME ...", cut in place. */
static char *
author(char *text, size_t len, char **rest)
{
	char	*end;

	text[len] = '\0';
	if (text[0] == '<') {
		if ((end = strstr(text, "> ")) == NULL)
			return NULL;
		*end = '\0';
		*rest = end + 2;
		return text + 1;
	}
	if (strncmp(text, "* ", 2) != 0 ||
	    (end = strchr(text + 2, ' ')) == NULL)
		return NULL;
	*end = '\0';
	*rest = end + 1;
	return text + 2;
}

/* An event record of session_event_locked, told to the network. */
static void
tell_event(struct link *l, const struct record *rec, const char *room)
{
	char	*a = l->text + 2, *b;
	char	*to;

	l->text[rec->len] = '\0';
	if (rec->len < 3)
		return;
	if ((b = strchr(a, ' ')) != NULL)
		*b++ = '\0';
	switch (l->text[0]) {
	case 'R':
		l->d->user(&l->out, &l->self, a);
		l->d->join(&l->out, &l->self, a, room, 0);
		break;
	case 'J':
		l->d->join(&l->out, &l->self, a, room, 0);
		break;
	case 'P':
		l->d->part(&l->out, a, room);
		break;
	case 'N':
		if (b != NULL)
			l->d->nick(&l->out, a, b);
		break;
	case 'Q':
		l->d->quit(&l->out, a, b != NULL ? b : "");
		break;
	case 'M':
		if (b == NULL || (to = b, b = strchr(b, ' ')) == NULL)
			break;
		*b++ = '\0';
		l->d->say(&l->out, a, NULL, to, b, strlen(b), 0);
		break;
	default:
		break;
	}
}

/* Whether a log record is ours to tell the network. */
static int
link_wants(const struct record *rec, void *arg)
{
	const struct link	*l = arg;

	if (rec->sender == l->slot)
		return 0;
	if (rec->kind == REC_EVENT)
		return rec->target == l->slot;
	return (rec->kind == REC_CHAT || rec->kind == REC_ME) &&
	    rec->room != RING_ALLROOMS;
}

/* Tells the network one record, under the lock (for the room's name). */
static void
tell_locked(struct link *l, const struct record *rec)
{
	const char	*room = "";
	char		*name, *rest;

	HUB_ASSERT_LOCKED();
	if (rec->room < l->hub->hdr->nrooms)
		room = l->hub->rooms[rec->room].name;
	if (rec->kind == REC_EVENT) {
		tell_event(l, rec, room);
		return;
	}
	if ((name = author(l->text, rec->len, &rest)) == NULL)
		return;
	l->d->say(&l->out, name, room, NULL, rest, strlen(rest),
	    rec->kind == REC_ME);
}

/*
 * Reads the log. Not linked, it only keeps up with it; linked, it tells
 * the network each record. Lapped, or with the hub not reading, the
 * link is dropped: the burst that follows brings the network up to date.
 */
static void
link_log(struct link *l)
{
	struct record	rec;
	int		n, r;

	notify_clear(l->hub, l->slot);
	if (l->st != L_BURST && l->st != L_UP) {
		l->pos = ring_head(&l->hub->ring);
		return;
	}
	/* Nothing new: no lock taken for nothing, at every wake-up. */
	if (ring_head(&l->hub->ring) == l->pos)
		return;
	do {
		hub_lock(l->hub);
		for (n = 0; n < LINK_BATCH; n++) {
			r = ring_read(&l->hub->ring, &l->pos, &rec, l->text,
			    link_wants, l);
			if (r != RING_OK)
				break;
			tell_locked(l, &rec);
		}
		atomic_store_explicit(&l->hub->slots[l->slot].rpos, l->pos,
		    memory_order_relaxed);
		hub_unlock(l->hub);
		if (r == RING_LAPPED) {
			link_drop(l, "too slow: the log ran a lap ahead");
			return;
		}
		if (l->out.full) {
			link_drop(l, "too slow: the hub does not read");
			return;
		}
	} while (r == RING_OK);
}

/*
 * Our burst: every local user and its room. The log is read from the
 * moment of the copy on, so nothing is told twice or missed.
 */
static void
burst(struct link *l)
{
	struct hub	*h = l->hub;
	struct slot	*s;
	uint32_t	 i, hwm;

	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) != SLOT_ACTIVE)
			continue;
		l->d->user(&l->out, &l->self, s->name);
		l->d->join(&l->out, &l->self, s->name,
		    h->rooms[atomic_load(&s->room) % h->hdr->nrooms].name, 1);
	}
	l->pos = ring_head(&h->ring);
	hub_unlock(h);
	if (l->out.full)
		link_drop(l, "too many users for one burst");
}

/*
 * Drops the connection: the rest of the network is gone for our users,
 * and the next try comes after a delay that doubles each time.
 */
static void
link_drop(struct link *l, const char *fmt, ...)
{
	char	why[LINK_ERROR_MAX + 1];
	va_list	ap;
	size_t	n;
	int	was_up = l->st == L_UP;

	va_start(ap, fmt);
	(void)text_vformat(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (l->sock != -1) {
		l->out.len = l->outoff = 0;
		l->out.full = 0;
		l->d->error(&l->out, &l->self, why);
		(void)write(l->sock, l->out.buf, l->out.len);
		close(l->sock);
	}
	l->sock = -1;
	l->out.len = l->outoff = 0;
	l->out.full = 0;
	l->inlen = 0;
	l->st = L_DOWN;
	l->retry_at = now_ms() + (int64_t)l->delay * 1000;
	hub_lock(l->hub);
	/* A burst never finished was never told: nobody leaves either. */
	n = !was_up ? 0 : session_split_locked(l->hub, REMOTE_NONE,
	    l->hubname[0] != '\0' ? l->hubname : l->where);
	remote_reset_locked(l->hub);
	memset(l->joined, 0, l->hub->hdr->nrooms * sizeof(*l->joined));
	l->njoined = 0;
	status_locked(l, LINK_DOWN, why);
	hub_unlock(l->hub);
	if (n > 0)
		notify_all(&l->nt);
	log_warnx("link to %s down: %s; next try in %u s", l->where, why,
	    l->delay);
	l->delay = l->delay * 2 > LINK_RETRY_MAX ? LINK_RETRY_MAX :
	    l->delay * 2;
	l->hubname[0] = '\0';
}

/* Waits for a connection in progress; 0 once made. */
static int
connect_wait(int s)
{
	struct pollfd	pfd = { .fd = s, .events = POLLOUT };
	socklen_t	len = sizeof(int);
	int64_t		end = now_ms() + (int64_t)LINK_CONNECT_SECS * 1000;
	int		err = 0, r;

	while ((r = poll(&pfd, 1, ms_until(end))) == -1 && errno == EINTR &&
	    !link_stop)
		;
	if (r <= 0) {
		errno = r == 0 ? ETIMEDOUT : errno;
		return -1;
	}
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -1;
	errno = err;
	return err == 0 ? 0 : -1;
}

/* One try at the hub; the link is dropped (and retried) on failure. */
static void
link_connect(struct link *l)
{
	struct addrinfo	 hints, *res, *ai;
	int		 s = -1, err, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hub_lock(l->hub);
	status_locked(l, LINK_CONNECTING, NULL);
	hub_unlock(l->hub);
	if ((err = getaddrinfo(l->cf->link_host, l->cf->link_port, &hints,
	    &res)) != 0) {
		link_drop(l, "%s", gai_strerror(err));
		return;
	}
	errno = 0;
	for (ai = res; ai != NULL && !link_stop; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (s == -1)
			continue;
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && connect_wait(s) == 0))
			break;
		err = errno;
		close(s);
		s = -1;
		errno = err;
	}
	freeaddrinfo(res);
	if (s == -1) {
		link_drop(l, "connect: %s", strerror(errno != 0 ? errno :
		    ECONNREFUSED));
		return;
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->sock = s;
	l->st = L_HELLO;
	memset(&l->np, 0, sizeof(l->np));
	l->heard = now_ms();
	l->pinged = 0;
	l->deadline = l->heard + (int64_t)LINK_HANDSHAKE_SECS * 1000;
	l->d->hello(&l->out, &l->self);
	log_info("link to %s: connected, introducing %s", l->where,
	    l->self.name);
}

/* The hub's silence: pinged after a while, dropped after longer. */
static void
link_timers(struct link *l)
{
	int64_t	now = now_ms();

	if (l->st == L_DOWN)
		return;
	if (l->st != L_UP && now >= l->deadline) {
		link_drop(l, "no handshake within %d s", LINK_HANDSHAKE_SECS);
		return;
	}
	if (now - l->heard >= (int64_t)LINK_TIMEOUT_SECS * 1000) {
		link_drop(l, "ping timeout");
		return;
	}
	if (l->st == L_UP && !l->pinged &&
	    now - l->heard >= (int64_t)LINK_PING_SECS * 1000) {
		l->d->ping(&l->out, &l->self);
		l->pinged = 1;
	}
}

static int
link_timeout(const struct link *l)
{
	int64_t	next;

	if (l->st == L_DOWN)
		return ms_until(l->retry_at);
	next = l->heard + (int64_t)(l->pinged ? LINK_TIMEOUT_SECS :
	    LINK_PING_SECS) * 1000;
	if (l->st != L_UP && l->deadline < next)
		next = l->deadline;
	return ms_until(next);
}

static void
link_round(struct link *l)
{
	struct pollfd	pfd[2];

	pfd[0].fd = l->rfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = l->sock;
	pfd[1].events = POLLIN | (l->out.len > l->outoff ? POLLOUT : 0);
	if (poll(pfd, l->sock != -1 ? 2 : 1, link_timeout(l)) == -1) {
		if (errno == EINTR)
			return;
		fatal("poll");
	}
	if (pfd[0].revents & POLLIN)
		notify_drain(l->rfd);
	link_log(l);
	if (l->sock != -1 && pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
		link_read(l);
	link_timers(l);
	if (l->sock != -1 && l->out.full)
		link_drop(l, "too slow: the hub does not read");
	if (l->sock != -1)
		link_write(l);
}

/* Takes our slot and pipe; the rest of a dead predecessor's network goes. */
static void
link_attach(struct link *l)
{
	struct hub		*h = l->hub;
	enum hub_refusal	 why;
	int			 other;

	if (h->hdr->nremotes == 0)
		fatal_status(EX_UNAVAILABLE, "instance %s was started without "
		    "--link: restart it with the link settings",
		    l->cf->instance);
	hub_lock(h);
	if ((other = hub_link_slot(h)) != -1 &&
	    proc_alive(h->slots[other].pid, h->slots[other].pstart)) {
		hub_unlock(h);
		fatal_status(EX_UNAVAILABLE, "instance %s has a link process "
		    "already (pid %ld)", l->cf->instance,
		    (long)h->slots[other].pid);
	}
	l->slot = hub_claim_locked(h, "link", 0, 0, 128, &why);
	if (l->slot == -1) {
		hub_unlock(h);
		fatalx("link: no free slot");
	}
	(void)session_split_locked(h, REMOTE_NONE, h->hdr->link.hub);
	remote_reset_locked(h);
	atomic_store(&h->slots[l->slot].state, SLOT_LINK);
	atomic_store(&h->hdr->link.slot, l->slot);
	status_locked(l, LINK_CONNECTING, "");
	hub_unlock(h);
	hub_dir_unlock(h);
	if ((l->rfd = notify_open(h, l->slot, &l->wfd)) == -1)
		fatal("link: wake-up pipe for slot %d", l->slot);
}

/* Leaves for good: the network hears it, the segment forgets us. */
static void __attribute__((noreturn))
link_exit(struct link *l)
{
	struct hub	*h = l->hub;

	if (l->sock != -1) {
		l->out.len = l->outoff = 0;
		l->out.full = 0;
		l->d->error(&l->out, &l->self, "shutting down");
		(void)write(l->sock, l->out.buf, l->out.len);
		close(l->sock);
		l->sock = -1;
	}
	notify_close(h, l->slot, l->rfd, l->wfd);
	hub_lock(h);
	session_unlink_locked(h, l->slot, "shut down");
	hub_release_locked(h, l->slot);
	hub_unlock(h);
	if (!atomic_load(&h->hdr->shutdown))
		notify_all(&l->nt);
	notify_settle(&l->nt);
	state_finish(h);
	log_info("link to %s: shut down", l->where);
	hub_leave_begin(h);
	hub_leave_end(h);
	_exit(0);
}

static void
link_init(struct link *l, struct hub *h, struct config *cf)
{
	memset(l, 0, sizeof(*l));
	l->hub = h;
	l->cf = cf;
	l->d = &dialect_ngircd;
	l->self.name = cf->server_name;
	l->self.info = "chatd " PACKAGE_VERSION;
	l->self.password = cf->link_send;
	l->self.version = PACKAGE_VERSION;
	l->sock = -1;
	l->slot = -1;
	l->st = L_DOWN;
	l->delay = LINK_RETRY_MIN;
	snprintf(l->where, sizeof(l->where), strchr(cf->link_host, ':') ?
	    "[%s]:%s" : "%s:%s", cf->link_host, cf->link_port);
	l->out.size = LINK_OUT_MAX;
	if ((l->out.buf = malloc(LINK_OUT_MAX)) == NULL ||
	    (l->text = malloc(RECORD_TEXT_MAX + 1)) == NULL ||
	    (l->clean = malloc(TEXT_CLEAN_MAX(DIALECT_LINE_MAX) + 1)) ==
	    NULL ||
	    (l->joined = calloc(h->hdr->nrooms, sizeof(*l->joined))) == NULL ||
	    (l->wake = calloc(h->hdr->nrooms, 1)) == NULL)
		fatal("link buffers");
	l->dm = -1;
	notify_init(&l->nt, h);
}

void
link_main(struct hub *h, struct config *cf)
{
	struct link	l;

	link_signals();
	fault_worker(FAULT_LINK);
	link_init(&l, h, cf);
	proctitle_set("link %s", l.where);
	if (cf->link_loose)
		log_warnx("%s can be read by others", cf->link_pass_file);
	link_attach(&l);
	while (!link_stop && !atomic_load(&h->hdr->shutdown)) {
		if (l.st == L_DOWN && now_ms() >= l.retry_at)
			link_connect(&l);
		link_round(&l);
		if (state_waiting())
			(void)state_flush(h);
		if (l.nt.dead) {
			l.nt.dead = 0;
			session_bury(h, &l.nt, 0, cf->live.oper_first_user);
		}
	}
	link_exit(&l);
}
