/* SPDX-License-Identifier: ISC */
/*
 * The slash commands. Every command is a row of the table below (its
 * name, its arguments, whether they are required, its handler and its
 * help), so /help, usage errors and unknown names come from one place.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#ifdef HAVE_CRYPT_H
#include <crypt.h>
#endif
#include <unistd.h>

#include "audit.h"
#include "ban.h"
#include "config.h"
#include "duration.h"
#include "fault.h"
#include "hub.h"
#include "log.h"
#include "notice.h"
#include "session.h"
#include "room.h"
#include "worker.h"

struct cmd {
	const char	*name;
	const char	*args;	/* shown in usage and help */
	int		 needs_args;
	int		 oper;	/* for operators only */
	void		(*fn)(struct worker *, char *);
	const char	*help;
};

static void	cmd_help(struct worker *, char *);
static void	cmd_users(struct worker *, char *);
static void	cmd_who(struct worker *, char *);
static void	cmd_rooms(struct worker *, char *);
static void	cmd_stats(struct worker *, char *);
static void	cmd_dm(struct worker *, char *);
static void	cmd_me(struct worker *, char *);
static void	cmd_nick(struct worker *, char *);
static void	cmd_join(struct worker *, char *);
static void	cmd_leave(struct worker *, char *);
static void	cmd_quit(struct worker *, char *);
static void	cmd_oper(struct worker *, char *);
static void	cmd_kick(struct worker *, char *);
static void	cmd_ban(struct worker *, char *);
static void	cmd_unban(struct worker *, char *);
static void	cmd_bans(struct worker *, char *);

static const struct cmd cmds[] = {
	{ "help",	"",		0, 0, cmd_help,	"list the commands" },
	{ "users",	"",		0, 0, cmd_users,
	    "list everybody online and their rooms" },
	{ "who",	"",		0, 0, cmd_who,	"list the users in your room" },
	{ "rooms",	"",		0, 0, cmd_rooms, "list the rooms" },
	{ "stats",	"",		0, 0, cmd_stats,
	    "your message count, times and the server's counters" },
	{ "dm",		"NAME TEXT",	1, 0, cmd_dm,
	    "send TEXT to NAME only (alias /msg)" },
	{ "msg",	"NAME TEXT",	1, 0, cmd_dm,	NULL },
	{ "me",		"TEXT",		1, 0, cmd_me,	"act: * NAME TEXT" },
	{ "nick",	"NEW",		1, 0, cmd_nick,	"change your name" },
	{ "join",	"ROOM",		1, 0, cmd_join,
	    "go to ROOM, making it if need be" },
	{ "leave",	"",		0, 0, cmd_leave, "go back to lobby" },
	{ "oper",	"PASSWORD",	1, 0, cmd_oper,
	    "become an operator" },
	{ "kick",	"NAME [REASON]", 1, 1, cmd_kick,
	    "disconnect NAME" },
	{ "ban",	"[-t DURATION] NAME|ADDRESS [REASON]", 1, 1, cmd_ban,
	    "disconnect NAME and refuse its address, or a range" },
	{ "unban",	"ADDRESS",	1, 1, cmd_unban, "lift a ban" },
	{ "bans",	"",		0, 1, cmd_bans,	"list the bans" },
	{ "quit",	"[REASON]",	0, 0, cmd_quit,	"leave the chat" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static int
is_op(const struct worker *w)
{
	return atomic_load(&w->hub->slots[w->slot].op) != 0;
}

static void
usage(struct worker *w, const struct cmd *c)
{
	worker_reply(w, "! usage: /%s%s%s", c->name, c->args[0] ? " " : "",
	    c->args);
}

static void
cmd_help(struct worker *w, char *args)
{
	size_t	i;

	(void)args;
	worker_reply(w, "* commands:");
	for (i = 0; i < NCMDS; i++)
		if (cmds[i].help != NULL && (!cmds[i].oper || is_op(w)))
			worker_reply(w, "* /%s%s%s - %s", cmds[i].name,
		    cmds[i].args[0] ? " " : "", cmds[i].args, cmds[i].help);
	worker_reply(w, "* a line not starting with / goes to everybody in "
	    "your room; start it with // to send a line beginning with /");
}

struct entry {
	uint64_t	regseq;
	int		op;
	char		name[NICK_MAX_LEN + 1];
	char		room[ROOM_MAX_LEN + 1];
	char		*rooms;		/* a remote user's, or NULL */
	char		server[SERVER_NAME_MAX + 1];	/* remote: its server */
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry	*x = a, *y = b;

	return x->regseq < y->regseq ? -1 : x->regseq > y->regseq;
}

/* Remote user i's rooms, joined by ", " (a new string). */
static char *
remote_rooms(const struct hub *h, int i)
{
	uint32_t	room;
	size_t		len = 0, size = 1;
	char		*buf;

	for (room = 0; room < h->hdr->nrooms; room++)
		if (remote_in(h, i, room))
			size += strlen(h->rooms[room].name) + 2;
	if ((buf = malloc(size)) == NULL)
		fatal("malloc");
	buf[0] = '\0';
	for (room = 0; room < h->hdr->nrooms; room++)
		if (remote_in(h, i, room))
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
			    len > 0 ? ", " : "", h->rooms[room].name);
	return buf;
}

/* Adds the remote users in room (any room: RING_ALLROOMS) to list. */
static size_t
remote_list_locked(const struct hub *h, uint32_t room, struct entry *list)
{
	const struct remote	*r;
	uint32_t		 i;
	size_t			 n = 0;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < h->hdr->nremotes; i++) {
		r = remote_at(h, i);
		if (!r->used || r->nrooms == 0 || (room != RING_ALLROOMS &&
		    !remote_in(h, (int)i, room)))
			continue;
		list[n].regseq = r->seq;
		memcpy(list[n].name, r->name, sizeof(list[n].name));
		memcpy(list[n].server, h->hdr->servers[r->server %
		    NET_SERVERS_MAX].name, sizeof(list[n].server));
		if (room == RING_ALLROOMS)
			list[n].rooms = remote_rooms(h, (int)i);
		n++;
	}
	return n;
}

/*
 * Copies the registered users (of one room, or all with RING_ALLROOMS)
 * and the remote ones under the lock, in registration order; the caller
 * frees the list with entries_free.
 */
static struct entry *
user_list(struct hub *h, uint32_t room, size_t *np)
{
	struct entry	*list;
	struct slot	*s;
	uint32_t	 i, r, hwm;
	size_t		 n = 0;

	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	if ((list = calloc(hwm + h->hdr->nremotes + 1, sizeof(*list))) ==
	    NULL) {
		hub_unlock(h);
		fatal("calloc");
	}
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		r = atomic_load(&s->room);
		if (atomic_load(&s->state) != SLOT_ACTIVE ||
		    (room != RING_ALLROOMS && r != room))
			continue;
		list[n].regseq = s->regseq;
		list[n].op = s->op != 0;
		memcpy(list[n].name, s->name, sizeof(s->name));
		memcpy(list[n].room, h->rooms[r].name, sizeof(list[n].room));
		n++;
	}
	n += remote_list_locked(h, room, list + n);
	hub_unlock(h);
	qsort(list, n, sizeof(*list), entry_cmp);
	*np = n;
	return list;
}

static void
entries_free(struct entry *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(list[i].rooms);
	free(list);
}

/*
 * Under inetd no listener reaps, and an instance killed alone in its
 * room is found by nobody: a listing first buries the dead, so that it
 * never shows them.
 */
static void
bury_first(struct worker *w)
{
	if (w->cf->inetd)
		session_bury(w->hub, &w->nt, 0, w->cf->live.oper_first_user);
}

static void
cmd_users(struct worker *w, char *args)
{
	struct entry	*list;
	size_t		 i, n;

	(void)args;
	bury_first(w);
	list = user_list(w->hub, RING_ALLROOMS, &n);
	worker_reply(w, "* %zu %s online", n, plural(n, "user", "users"));
	for (i = 0; i < n; i++)
		if (list[i].rooms != NULL)
			worker_reply(w, "* %s (%s) @%s", list[i].name,
			    list[i].rooms, list[i].server);
		else
			worker_reply(w, "* %s (%s)%s", list[i].name,
			    list[i].room, list[i].op ? " [op]" : "");
	entries_free(list, n);
}

/* "4s", "2m 5s", "1h 0m 3s", "2d 1h 0m 3s". */
static void
duration(char *buf, size_t len, time_t secs)
{
	long	d = (long)(secs / 86400), hr = (long)(secs / 3600 % 24),
		m = (long)(secs / 60 % 60), s = (long)(secs % 60);

	if (d > 0)
		snprintf(buf, len, "%ldd %ldh %ldm %lds", d, hr, m, s);
	else if (hr > 0)
		snprintf(buf, len, "%ldh %ldm %lds", hr, m, s);
	else if (m > 0)
		snprintf(buf, len, "%ldm %lds", m, s);
	else
		snprintf(buf, len, "%lds", s);
}

static void
cmd_stats(struct worker *w, char *args)
{
	struct hub_hdr	*hdr = w->hub->hdr;
	time_t		 now = time(NULL);
	char		 conn[64], up[64];
	uint64_t	 relayed;
	size_t		 online;

	(void)args;
	bury_first(w);
	duration(conn, sizeof(conn), now - w->connected);
	duration(up, sizeof(up), now - (time_t)hdr->started);
	worker_reply(w, "* you have sent %llu %s",
	    (unsigned long long)w->nsent, plural(w->nsent, "message",
	    "messages"));
	worker_reply(w, "* connected for %s", conn);
	worker_reply(w, "* server up for %s", up);
	online = hub_users(w->hub, RING_ALLROOMS);
	relayed = atomic_load(&hdr->relayed);
	worker_reply(w, "* %zu %s online", online, plural(online, "user",
	    "users"));
	worker_reply(w, "* %llu %s relayed", (unsigned long long)relayed,
	    plural(relayed, "message", "messages"));
}

static void
cmd_who(struct worker *w, char *args)
{
	struct entry	*list;
	size_t		 i, n;

	(void)args;
	bury_first(w);
	list = user_list(w->hub, w->room, &n);
	worker_reply(w, "* %zu %s in %s", n, plural(n, "user", "users"),
	    w->hub->rooms[w->room].name);
	for (i = 0; i < n; i++)
		if (list[i].server[0] != '\0')
			worker_reply(w, "* %s @%s", list[i].name,
			    list[i].server);
		else
			worker_reply(w, "* %s%s", list[i].name,
			    list[i].op ? " [op]" : "");
	entries_free(list, n);
}

struct room_entry {
	char	name[ROOM_MAX_LEN + 1];
	size_t	users;
};

static void
cmd_rooms(struct worker *w, char *args)
{
	struct hub		*h = w->hub;
	struct room_entry	*list;
	uint32_t		 i, nrooms = h->hdr->nrooms, hwm;
	size_t			 n = 0, *count;

	(void)args;
	bury_first(w);
	if ((list = calloc(nrooms, sizeof(*list))) == NULL ||
	    (count = calloc(nrooms, sizeof(*count))) == NULL)
		fatal("calloc");
	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) == SLOT_ACTIVE)
			count[atomic_load(&h->slots[i].room) % nrooms]++;
	for (i = 0; i < nrooms; i++)
		count[i] += atomic_load(&h->rooms[i].remotes);
	for (i = 0; i < nrooms; i++)
		if (h->rooms[i].used && (i == 0 || count[i] > 0)) {
			memcpy(list[n].name, h->rooms[i].name,
			    sizeof(list[n].name));
			list[n++].users = count[i];
		}
	hub_unlock(h);
	worker_reply(w, "* %zu %s", n, plural(n, "room", "rooms"));
	for (i = 0; i < n; i++)
		worker_reply(w, "* %s (%zu)", list[i].name, list[i].users);
	free(count);
	free(list);
}

/* Splits "WORD REST" in place; NULL when there is no REST. */
char *
cmd_split_word(char *args)
{
	char	*rest;

	if ((rest = strpbrk(args, " \t")) == NULL)
		return NULL;
	*rest++ = '\0';
	rest += strspn(rest, " \t");
	return *rest != '\0' ? rest : NULL;
}

/*
 * Under the lock: a direct message to a remote user goes to the link
 * process. Returns 0, or -1 if nobody on the network has that name.
 */
static int
dm_remote_locked(struct worker *w, const char *key, const char *text,
    char *to, size_t tolen)
{
	struct hub	*h = w->hub;
	int		 r;

	HUB_ASSERT_LOCKED();
	if ((r = remote_find_locked(h, key)) == -1)
		return -1;
	snprintf(to, tolen, "%s", remote_at(h, (uint32_t)r)->name);
	(void)text_format(w->text, RECORD_TEXT_MAX, "%s %s", to, text);
	session_event_locked(h, RING_ALLROOMS, 'M', w->name, w->text);
	atomic_fetch_add(&h->hdr->relayed, 1);
	return 0;
}

static void
cmd_dm(struct worker *w, char *args)
{
	struct hub	*h = w->hub;
	char		 key[NICK_MAX_LEN + 1], to[NICK_MAX_LEN + 1];
	char		*text = cmd_split_word(args);
	size_t		 n = strlen(args);
	size_t		 len;
	int		 t, fits, remote = 0;

	if (text == NULL) {
		worker_reply(w, "! usage: /dm NAME TEXT");
		return;
	}
	fits = text_key(key, sizeof(key), args, n);
	len = text_format(w->text, RECORD_TEXT_MAX, "*%s* %s", w->name, text);
	hub_lock(h);
	t = fits ? hub_find_locked(h, key) : -1;
	if (t != -1) {
		memcpy(to, h->slots[t].name, sizeof(h->slots[t].name));
		worker_post_locked(w, REC_DM, RING_ALLROOMS, t, w->text,
		    (size_t)len);
	} else if (fits && dm_remote_locked(w, key, text, to,
	    sizeof(to)) == 0)
		remote = 1;
	hub_unlock(h);
	if (t == -1 && !remote) {
		worker_reply(w, "! no such user: %s", args);
		return;
	}
	if (remote)
		notify_link(&w->nt);
	else
		notify_slot(&w->nt, t);
	w->nsent++;
	worker_reply(w, "-> *%s* %s", to, text);
}

/* A /me line that would read as a notice about its sender is refused. */
static void
cmd_me(struct worker *w, char *args)
{
	size_t	len;

	if (notice_forged(args, strlen(args))) {
		worker_reply(w, "! /me cannot look like a server notice");
		return;
	}
	len = text_format(w->text, RECORD_TEXT_MAX, "* %s %s", w->name, args);
	worker_post(w, REC_ME, w->room, -1, w->text, len);
	w->nsent++;
}

static void
cmd_nick(struct worker *w, char *args)
{
	struct hub	*h = w->hub;
	struct slot	*s = &h->slots[w->slot];
	const char	*why;
	char		 key[NAME_MAX_LEN + 1], old[NAME_MAX_LEN + 1];
	char		 notice[NOTICE_MAX];
	size_t		 n = strlen(args);
	int		 other, len;

	if ((why = text_name_problem(args, n)) != NULL) {
		worker_reply(w, "! invalid name: %s", why);
		return;
	}
	(void)text_key(key, sizeof(key), args, n);
	hub_lock(h);
	other = hub_find_locked(h, key);
	if ((other != -1 && other != w->slot) ||
	    remote_find_locked(h, key) != -1) {
		hub_unlock(h);
		worker_reply(w, "! name taken: %s", args);
		return;
	}
	memcpy(old, w->name, sizeof(old));
	memcpy(s->name, args, n + 1);
	FAULT(NICK_NAME);
	memcpy(s->key, key, n + 1);
	FAULT(NICK_KEY);
	memcpy(w->name, args, n + 1);
	len = snprintf(notice, sizeof(notice), "* %s is now known as %s", old,
	    w->name);
	worker_post_locked(w, REC_NOTICE, w->room, -1, notice, (size_t)len);
	session_event_locked(h, w->room, 'N', old, w->name);
	hub_unlock(h);
	worker_title(w);
	notify_room(&w->nt, w->room, w->slot);
	log_debug("%s is now known as %s", old, w->name);
	worker_reply(w, "* you are now known as %s", w->name);
}

/*
 * Moves us to another room. Under the lock, everything the log holds for
 * the old room is copied out first, so no line is lost or delivered to
 * the wrong room, and the new room's history is copied for replay.
 */
static void
move_room(struct worker *w, const char *name)
{
	struct hub	*h = w->hub;
	struct history	 hist;
	char		 notice[NOTICE_MAX], room[ROOM_MAX_LEN + 1];
	uint32_t	 old = w->room;
	size_t		 users;
	int		 r, len, slow, quiet_old, quiet_new;

	hub_lock(h);
	if ((r = room_make_locked(h, name)) == -1 || (uint32_t)r == old) {
		if (r != -1)
			memcpy(room, h->rooms[r].name, sizeof(room));
		hub_unlock(h);
		if (r == -1)
			worker_reply(w, "! too many rooms");
		else
			worker_reply(w, "! you are already in %s", room);
		return;
	}
	slow = worker_drain(w, 1);
	if (slow == -1 || w->kicked) {
		hub_unlock(h);
		if (slow == -1)
			worker_exit(w, "too slow", NULL);
		worker_check_kicked(w);
	}
	if (!(quiet_old = hub_quiet_locked(h, old))) {
		len = snprintf(notice, sizeof(notice), "* %s left %s", w->name,
		    h->rooms[old].name);
		worker_post_locked(w, REC_NOTICE, old, -1, notice, (size_t)len);
	}
	session_event_locked(h, old, 'P', w->name, NULL);
	room_left_locked(h, old);
	FAULT(JOIN_LEFT);
	w->room = (uint32_t)r;
	atomic_store(&h->slots[w->slot].room, w->room);
	FAULT(JOIN_MOVED);
	memcpy(room, h->rooms[r].name, sizeof(room));
	if (!(quiet_new = hub_quiet_locked(h, w->room))) {
		len = snprintf(notice, sizeof(notice), "* %s joined %s",
		    w->name, room);
		worker_post_locked(w, REC_NOTICE, w->room, -1, notice,
		    (size_t)len);
	}
	session_event_locked(h, w->room, 'J', w->name, NULL);
	users = hub_users(h, w->room);
	room_history_copy_locked(h, w->room, &hist);
	w->pos = ring_head(&h->ring);
	hub_unlock(h);
	if (!quiet_old)
		notify_room(&w->nt, old, w->slot);
	if (!quiet_new)
		notify_room(&w->nt, w->room, w->slot);
	notify_link(&w->nt);
	log_debug("%s joined %s", w->name, room);
	worker_reply(w, "* you are now in %s (%zu %s)", room, users,
	    plural(users, "user", "users"));
	worker_replay(w, &hist, room);
}

static void
cmd_join(struct worker *w, char *args)
{
	const char	*why;

	if ((why = text_room_problem(args, strlen(args))) != NULL) {
		worker_reply(w, "! invalid room name: %s", why);
		return;
	}
	move_room(w, args);
}

static void
cmd_leave(struct worker *w, char *args)
{
	(void)args;
	move_room(w, "lobby");
}

/* The audit line of a kick or ban done; range: of an address or range. */
static void
cmd_audit_kick(struct worker *w, const struct kick *k, int range)
{
	struct audit	a;

	session_audit_kick(&a, k, range);
	a.by = w->name;
	a.from = w->addr;
	audit_log(&a);
}

static void
kick(struct worker *w, char *args, int ban, int64_t expires)
{
	struct kick	k = { .by = w->name, .slot = w->slot, .room = w->room,
			    .ban = ban, .handover = w->cf->live.oper_first_user,
			    .expires = expires,
			    .v6prefix = w->cf->live.ipv6_prefix };

	k.reason = cmd_split_word(args);
	switch (session_kick(w->hub, &w->nt, &k, args, w->text)) {
	case KICK_SELF:
		worker_reply(w, "! you cannot %s yourself", ban ? "ban" : "kick");
		return;
	case KICK_NO_USER:
		worker_reply(w, "! no such user: %s", args);
		return;
	case KICK_REMOTE:
		worker_reply(w, "! %s is on %s: ask its operators", k.name,
		    k.server);
		return;
	case KICK_OK:
	case KICK_FULL:		/* session_ban's alone */
		break;
	}
	cmd_audit_kick(w, &k, 0);
	if (k.full) {
		log_warnx("the ban table is full; %s was only kicked", k.name);
		worker_reply(w, "! the ban table is full; %s was only kicked",
		    k.name);
	}
}

static void
cmd_kick(struct worker *w, char *args)
{
	kick(w, args, 0, 0);
}

static const struct cmd *
cmd_named(const char *name)
{
	size_t	i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	fatalx("bug: no command %s", name);
}

/* " (LEFT left)" for a ban that expires, "" for one that does not. */
static void
ban_left(const struct ban *b, int64_t now, char *buf, size_t len)
{
	char	d[DURATION_STR_MAX];

	buf[0] = '\0';
	if (b->expires == 0)
		return;
	duration_format((uint64_t)(b->expires - now), d, sizeof(d));
	(void)text_format(buf, len, " (%s left)", d);
}

/* /ban ADDRESS or /ban RANGE: the range, and every local user in it. */
static void
ban_range(struct worker *w, char *args, int64_t expires)
{
	struct kick	k = { .by = w->name, .slot = w->slot, .room = w->room,
			    .ban = 1, .handover = w->cf->live.oper_first_user,
			    .expires = expires };
	struct cidr	range;

	k.reason = cmd_split_word(args);
	if (ban_range_parse(&range, args) == -1) {
		worker_reply(w, "! invalid address or range: %s", args);
		return;
	}
	switch (session_ban(w->hub, &w->nt, &k, &range, w->text)) {
	case KICK_SELF:
		worker_reply(w, "! you cannot ban yourself: %s holds your "
		    "address", k.range);
		return;
	case KICK_FULL:
		worker_reply(w, "! the ban table is full");
		return;
	default:
		break;
	}
	cmd_audit_kick(w, &k, 1);
}

/*
 * /ban [-t DURATION] NAME|ADDRESS [REASON]. A name never starts with
 * '-', nor holds ':', '.' or '/', so neither option nor range can be
 * taken for one, and /ban NAME [REASON] is what it always was.
 */
static void
cmd_ban(struct worker *w, char *args)
{
	const char	*why;
	char		*rest;
	uint64_t	 secs;
	int64_t		 expires = 0;

	if (args[0] == '-') {
		rest = cmd_split_word(args);
		if (strcmp(args, "-t") != 0 || rest == NULL ||
		    (args = cmd_split_word(rest)) == NULL) {
			usage(w, cmd_named("ban"));
			return;
		}
		if ((why = duration_parse(rest, CHATD_BAN_SECS_MAX,
		    &secs)) != NULL) {
			worker_reply(w, "! bad duration: %s (%s; "
			    CHATD_BAN_DURATIONS ")", rest, why);
			return;
		}
		expires = (int64_t)time(NULL) + (int64_t)secs;
	}
	if (ban_is_range(args))
		ban_range(w, args, expires);
	else
		kick(w, args, 1, expires);
}

static void
cmd_unban(struct worker *w, char *args)
{
	struct cidr	range;
	char		cover[CIDR_STR_MAX];
	int		r, c = -1;

	if (ban_range_parse(&range, args) == -1) {
		worker_reply(w, "! not banned: %s", args);
		return;
	}
	hub_lock(w->hub);
	if ((r = ban_remove_locked(w->hub, &range, time(NULL))) == -1 &&
	    (c = ban_covering_locked(w->hub, &range, time(NULL))) != -1)
		memcpy(cover, w->hub->hdr->bans[c].addr, sizeof(cover));
	hub_unlock(w->hub);
	if (r == -1 && c != -1) {
		worker_reply(w, "! not banned: %s (it is in %s: /unban %s)",
		    args, cover, cover);
		return;
	}
	if (r == -1) {
		worker_reply(w, "! not banned: %s", args);
		return;
	}
	/* The range as the ban table writes it, however it was typed. */
	ban_range_format(&range, cover, sizeof(cover));
	audit_log(&(struct audit){ .action = AUDIT_UNBAN, .target = cover,
	    .by = w->name, .from = w->addr });
	worker_reply(w, "* unbanned %s", args);
}

static void
cmd_bans(struct worker *w, char *args)
{
	struct ban	*list;
	char		 left[DURATION_STR_MAX + 16];
	size_t		 i, n;
	int64_t		 now = time(NULL);

	(void)args;
	if ((list = calloc(CHATD_MAX_BANS, sizeof(*list))) == NULL)
		fatal("calloc");
	hub_lock(w->hub);
	n = ban_list_locked(w->hub, list, now);
	hub_unlock(w->hub);
	worker_reply(w, "* %zu %s", n, plural(n, "ban", "bans"));
	for (i = 0; i < n; i++) {
		ban_left(&list[i], now, left, sizeof(left));
		worker_reply(w, "* %s %s%s%s%s", list[i].addr,
		    list[i].name[0] ? list[i].name : "-", left,
		    list[i].reason[0] ? " " : "", list[i].reason);
	}
	free(list);
}

/*
 * /oper PASSWORD, checked against the crypt(3) hash of
 * --oper-password-file. A wrong password is answered after a delay and
 * logged, so guessing is slow and seen; the worker does not sleep
 * meanwhile (worker_hold).
 */
static void
cmd_oper(struct worker *w, char *args)
{
	const char	*hash = w->cf->live.oper_hash, *c;

	if (hash[0] == '\0') {
		worker_reply(w, "! /oper is not enabled");
		return;
	}
	c = crypt(args, hash);
	if (c == NULL || c[0] == '*' || !text_same_secret(c, hash)) {
		audit_log(&(struct audit){ .action = AUDIT_OPER_FAILED,
		    .by = w->name, .from = w->addr,
		    .reason = "wrong password" });
		worker_hold(w, OPER_DELAY_MS, "! wrong password");
		return;
	}
	hub_lock(w->hub);
	atomic_store(&w->hub->slots[w->slot].op, 1);
	hub_unlock(w->hub);
	audit_log(&(struct audit){ .action = AUDIT_OPER, .by = w->name,
	    .from = w->addr });
	worker_reply(w, "* You are now an operator.");
}

static void
cmd_quit(struct worker *w, char *args)
{
	char	bye[NOTICE_MAX];

	snprintf(bye, sizeof(bye), "* Goodbye, %s.", w->name);
	worker_exit(w, args, bye);
}

/*
 * Takes a command line, "/name args" (line[0] is the slash, and the
 * line is NUL-terminated), apart without running it: finds
 * the command (any case), points args past the name and its blanks and
 * cuts trailing blanks, which are no argument. Pure, so that the fuzzer
 * can drive it. Returns 0, or -1 for an unknown name (call->name and
 * call->namelen still say what was typed).
 */
int
cmd_parse(char *line, struct cmd_call *call)
{
	size_t	i, n;

	call->cmd = NULL;
	call->name = line + 1;
	call->namelen = n = strcspn(line + 1, " \t");
	call->args = line + 1 + n;
	call->args += strspn(call->args, " \t");
	call->oper = 0;
	call->args_ok = 0;
	for (i = 0; i < NCMDS; i++)
		if (strlen(cmds[i].name) == n &&
		    strncasecmp(cmds[i].name, call->name, n) == 0)
			call->cmd = &cmds[i];
	if (call->cmd == NULL)
		return -1;
	for (n = strlen(call->args); n > 0 && (call->args[n - 1] == ' ' ||
	    call->args[n - 1] == '\t'); n--)
		call->args[n - 1] = '\0';
	call->oper = call->cmd->oper;
	call->args_ok = !(call->cmd->needs_args && call->args[0] == '\0') &&
	    !(call->cmd->args[0] == '\0' && call->args[0] != '\0');
	return 0;
}

/* Runs one command line, "/name args"; the line is NUL-terminated. */
void
cmd_run(struct worker *w, char *line, size_t len)
{
	struct cmd_call		 call;
	const struct cmd	*c;

	(void)len;
	if (cmd_parse(line, &call) == -1) {
		worker_reply(w, "! unknown command: /%.*s (try /help)",
		    (int)call.namelen, call.name);
		return;
	}
	c = call.cmd;
	if (c->oper && !is_op(w)) {
		worker_reply(w, "! permission denied: /%s is for the operator",
		    c->name);
		return;
	}
	if (!call.args_ok) {
		usage(w, c);
		return;
	}
	log_debug("%s: /%s", w->name, c->name);
	c->fn(w, call.args);
}
