/* SPDX-License-Identifier: ISC */
/*
 * How a session ends, whoever ends it: its own worker leaving, a
 * kicker (a user's worker or chatctl), or a burier (the listener, or any
 * process that finds a dead owner). The room hears one notice, the
 * operator's role passes on, and the slot is freed.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ban.h"
#include "fault.h"
#include "log.h"
#include "room.h"
#include "session.h"
#include "text.h"

/*
 * Under the lock: appends a record from the session at slot (of
 * generation gen) for a room (target -1) or for one slot, and a chat or
 * /me line to the room's history. The sender never receives its own
 * room records.
 */
void
session_post_locked(struct hub *h, int slot, uint32_t gen, enum rec_kind kind,
    uint32_t room, int target, const char *text, size_t len)
{
	struct record	rec;

	HUB_ASSERT_LOCKED();
	memset(&rec, 0, sizeof(rec));
	rec.kind = (uint16_t)kind;
	rec.room = room;
	rec.target = target;
	rec.tgen = target >= 0 ? atomic_load(&h->slots[target].gen) : 0;
	rec.exclude = slot;
	rec.xgen = gen;
	rec.sender = slot;
	rec.time = time(NULL);
	hub_post_locked(h, &rec, text, len);
	if (kind == REC_CHAT || kind == REC_ME)
		room_history_add_locked(h, room, rec.time, kind, text, len);
	/* Counted before anyone can read it, so /stats never lags. */
	if (kind == REC_CHAT || kind == REC_ME || kind == REC_DM)
		atomic_fetch_add(&h->hdr->relayed, 1);
}

/*
 * The record for session_event_locked. Not inlined: its frame is 24 KiB,
 * and a worker whose stack went that deep for nothing, with no link to
 * tell, would keep the pages.
 */
static void __attribute__((noinline))
event_post_locked(struct hub *h, int link, uint32_t room, char code,
    const char *a, const char *b)
{
	char	text[NOTICE_MAX + RECORD_TEXT_MAX];
	size_t	n;

	HUB_ASSERT_LOCKED();
	n = text_format(text, sizeof(text), "%c %s%s%s", code, a,
	    b != NULL ? " " : "", b != NULL ? b : "");
	if (n > RECORD_TEXT_MAX)
		n = RECORD_TEXT_MAX;
	hub_post_locked(h, &(struct record){ .kind = REC_EVENT,
	    .room = room, .target = link,
	    .tgen = atomic_load(&h->slots[link].gen), .exclude = -1,
	    .sender = -1, .time = time(NULL) }, text, n);
}

/*
 * Under the lock: tells the link process, if there is one, what a local
 * user did, so that the network hears it in the log's order. code is
 * R (registered in the lobby), J (joined room), P (left room),
 * N (a renamed to b), Q (quit, b the reason), M (a said to b: "NICK
 * TEXT"). Workers never see these records: they are the link's.
 */
void
session_event_locked(struct hub *h, uint32_t room, char code, const char *a,
    const char *b)
{
	int	link = hub_link_slot(h);

	HUB_ASSERT_LOCKED();
	if (link != -1)
		event_post_locked(h, link, room, code, a, b);
}

/*
 * Under the lock: a registered user leaves its room for good. The room
 * hears the notice (len 0: nothing), the network the reason why (NULL:
 * the network knows already) and, if the user was the last
 * operator, the earliest registered user left becomes one and is told.
 * The slot is left SLOT_KICKED, gone from every list and its name free,
 * for its owner to free. Returns the heir's slot, or -1.
 */
int
session_leave_locked(struct hub *h, int slot, const char *notice, size_t len,
    int handover, const char *why)
{
	struct slot	*s = &h->slots[slot];
	const char	 told[] = "* You are now the operator.";
	uint32_t	 room = atomic_load(&s->room);
	int		 heir = -1, was_op = s->op && handover;

	HUB_ASSERT_LOCKED();
	if (atomic_load(&s->state) != SLOT_ACTIVE)
		return -1;
	if (len > 0)
		hub_post_locked(h, &(struct record){ .kind = REC_NOTICE,
		    .room = room, .target = -1, .exclude = slot,
		    .xgen = atomic_load(&s->gen), .sender = -1,
		    .time = time(NULL) }, notice, len);
	if (why != NULL)
		session_event_locked(h, room, 'Q', s->name, why);
	room_left_locked(h, room);
	atomic_store(&s->state, SLOT_KICKED);
	atomic_store(&s->op, 0);
	if (was_op && !atomic_load(&h->hdr->shutdown) &&
	    (heir = hub_op_heir_locked(h)) != -1) {
		atomic_store(&h->slots[heir].op, 1);
		hub_post_locked(h, &(struct record){ .kind = REC_DIRECT,
		    .room = RING_ALLROOMS, .target = heir,
		    .tgen = atomic_load(&h->slots[heir].gen), .exclude = -1,
		    .sender = -1, .time = time(NULL) }, told, sizeof(told) - 1);
	}
	return heir;
}

/* Under the lock: the session ends and the slot is freed. */
int
session_end_locked(struct hub *h, int slot, const char *notice, size_t len,
    int handover, const char *why)
{
	int	heir = session_leave_locked(h, slot, notice, len, handover,
		    why);

	HUB_ASSERT_LOCKED();
	FAULT(SLOT_LEAVE);
	hub_release_locked(h, slot);
	return heir;
}

/*
 * Frees the slots of workers that died without a word (pid, or any dead
 * owner with 0): their rooms hear "connection lost". Called by the
 * listener when it reaps a child or finds an adopted worker gone, and
 * by any worker that finds a dead owner's pipe. Deaths are rare:
 * everybody is woken.
 */
void
session_bury(struct hub *h, struct notifier *nt, pid_t pid, int handover)
{
	char	notice[NOTICE_MAX];
	size_t	n;
	int	slot, buried = 0;

	HUB_ASSERT_UNLOCKED();
	hub_lock(h);
	while ((slot = hub_find_dead_locked(h, pid)) != -1) {
		if (atomic_load(&h->slots[slot].state) == SLOT_LINK)
			session_unlink_locked(h, slot, "link process died");
		n = text_format(notice, sizeof(notice),
		    "* %s quit (connection lost)", h->slots[slot].name);
		(void)session_end_locked(h, slot, notice, n, handover,
		    "connection lost");
		notify_close(h, slot, -1, -1);
		buried++;
		if (pid != 0)
			break;
	}
	hub_unlock(h);
	/*
	 * Everybody, kicked slots too: the dead may have posted a kick and
	 * died before waking its target, who would wait for ever. Not in
	 * a shutdown, when everybody has been woken to leave: a listener
	 * burying 10,000 killed workers would make 10,000 wake-ups each.
	 */
	if (buried > 0 && !atomic_load(&h->hdr->shutdown))
		notify_all(nt);
}

/*
 * Under the lock: the users behind server top (REMOTE_NONE: the whole
 * network) are gone, and each room that had some hears one line,
 * "* netsplit: N users left (NAME)". Returns how many users left.
 */
size_t
session_split_locked(struct hub *h, uint32_t top, const char *name)
{
	struct remote	*r;
	char		 notice[NOTICE_MAX + SERVER_NAME_MAX];
	uint32_t	 i, room, nrooms = h->hdr->nrooms;
	size_t		*count, n, total = 0;

	HUB_ASSERT_LOCKED();
	if ((count = calloc(nrooms, sizeof(*count))) == NULL)
		fatal("calloc");
	for (i = 0; i < h->hdr->nremotes; i++) {
		r = remote_at(h, i);
		if (!r->used || (top != REMOTE_NONE &&
		    !remote_behind_locked(h, r->server, top)))
			continue;
		for (room = 0; room < nrooms; room++)
			count[room] += (size_t)remote_in(h, (int)i, room);
		remote_del_locked(h, (int)i);
		total++;
		if (total == 1)
			FAULT(LINK_SPLIT);
	}
	for (room = 0; room < nrooms; room++) {
		if (count[room] == 0)
			continue;
		n = text_format(notice, sizeof(notice),
		    "* netsplit: %zu %s left (%s)", count[room],
		    plural(count[room], "user", "users"), name);
		hub_post_locked(h, &(struct record){ .kind = REC_NOTICE,
		    .room = room, .target = -1, .exclude = -1, .sender = -1,
		    .time = time(NULL) }, notice, n);
	}
	free(count);
	for (i = 0; i < NET_SERVERS_MAX; i++)
		if (h->hdr->servers[i].used && (top == REMOTE_NONE ||
		    remote_behind_locked(h, i, top)))
			remote_server_del_locked(h, i);
	return total;
}

/*
 * Under the lock: the link process's slot is going (it left, or it died):
 * the rest of the network goes with it, and the link is down.
 */
void
session_unlink_locked(struct hub *h, int slot, const char *why)
{
	struct link_info	*l = &h->hdr->link;
	const char		*name = h->hdr->servers[0].used ?
				    h->hdr->servers[0].name : l->hub;

	HUB_ASSERT_LOCKED();
	(void)session_split_locked(h, REMOTE_NONE, name);
	remote_reset_locked(h);
	if (atomic_load(&l->slot) == slot)
		atomic_store(&l->slot, -1);
	if (atomic_load(&l->state) != LINK_NONE) {
		atomic_store(&l->state, LINK_DOWN);
		l->since = time(NULL);
		snprintf(l->error, sizeof(l->error), "%s", why);
	}
}

/* Under the lock: a record for one slot alone. */
static void
post_to(struct hub *h, enum rec_kind kind, int slot, const char *text,
    size_t len)
{
	hub_post_locked(h, &(struct record){ .kind = (uint16_t)kind,
	    .room = RING_ALLROOMS, .target = slot,
	    .tgen = atomic_load(&h->slots[slot].gen), .exclude = -1,
	    .sender = -1, .time = time(NULL) }, text, len);
}

/*
 * Under the lock: the user at slot t is told it was kicked or banned
 * (verb), leaves its room with the kicker's notice, and a kicker in
 * another room hears that notice too. Returns the heir of the
 * operator's role, or -1; *room is the room t was in.
 */
static int
kick_locked(struct hub *h, const struct kick *k, int t, const char *verb,
    char *text, uint32_t *room)
{
	const char	*r = k->reason != NULL ? k->reason : "";
	const char	*lp = k->reason != NULL ? " (" : "";
	const char	*rp = k->reason != NULL ? ")" : "";
	char		 why[RECORD_TEXT_MAX];
	char		 name[NAME_MAX_LEN + 1];
	size_t		 len;
	int		 heir;

	HUB_ASSERT_LOCKED();
	*room = atomic_load(&h->slots[t].room);
	memcpy(name, h->slots[t].name, sizeof(h->slots[t].name));
	/*
	 * The target is told first: a kicker dying after this leaves it to
	 * leave by itself (worker_check_kicked), while one dying after
	 * taking it out of its room would leave it connected but mute.
	 */
	len = text_format(text, RECORD_TEXT_MAX, "! you were %s by %s%s%s%s",
	    verb, k->by, lp, r, rp);
	post_to(h, REC_KICK, t, text, len);
	FAULT(KICK_HALF);
	len = text_format(text, RECORD_TEXT_MAX, "* %s was %s by %s%s%s%s",
	    name, verb, k->by, lp, r, rp);
	(void)text_format(why, sizeof(why), "%s by %s%s%s%s", verb, k->by, lp, r,
	    rp);
	heir = session_leave_locked(h, t, text, len, k->handover, why);
	if (k->slot >= 0 && *room != k->room)
		post_to(h, REC_DIRECT, k->slot, text, len);
	return heir;
}

/* After the unlock: wakes those a kick of t concerns. */
static void
kick_notify(struct notifier *nt, int t, uint32_t room, int heir)
{
	notify_room(nt, room, t);
	notify_slot(nt, t);
	if (heir != -1)
		notify_slot(nt, heir);
}

/*
 * /kick and /ban, and chatctl's kick and ban, whose kicker has no slot.
 * Under the lock the target leaves its room with the kicker's notice (so
 * the room hears exactly one line, and the name is free at once), a
 * kicker in another room hears it too, and the target gets a kick
 * record: its worker says the line and disconnects. A ban covers the
 * target's address, or its IPv6 prefix of k->v6prefix bits. text is a
 * buffer of RECORD_TEXT_MAX bytes.
 */
enum kick_result
session_kick(struct hub *h, struct notifier *nt, struct kick *k,
    const char *target, char *text)
{
	struct slot	*s;
	struct cidr	 range;
	char		 key[NICK_MAX_LEN + 1];
	size_t		 n = strlen(target);
	uint32_t	 room;
	int		 t, heir, fits;

	HUB_ASSERT_UNLOCKED();
	fits = text_key(key, sizeof(key), target, n);
	hub_lock(h);
	t = fits ? hub_find_locked(h, key) : -1;
	if (t == -1 && (t = remote_find_locked(h, key)) != -1) {
		snprintf(k->server, sizeof(k->server), "%s",
		    h->hdr->servers[remote_at(h, (uint32_t)t)->server %
		    NET_SERVERS_MAX].name);
		snprintf(k->name, sizeof(k->name), "%s",
		    remote_at(h, (uint32_t)t)->name);
		hub_unlock(h);
		return KICK_REMOTE;
	}
	if (t == -1 || t == k->slot) {
		hub_unlock(h);
		return t == -1 ? KICK_NO_USER : KICK_SELF;
	}
	s = &h->slots[t];
	memcpy(k->name, s->name, sizeof(s->name));
	memcpy(k->addr, s->addr, sizeof(k->addr));
	ban_range_of(&range, &s->ip, k->v6prefix);
	ban_range_format(&range, k->range, sizeof(k->range));
	k->full = k->ban && ban_add_locked(h, &range, k->name,
	    k->reason != NULL ? k->reason : "", k->expires) == -1;
	/* With the ban table full it was a kick, and is called one. */
	heir = kick_locked(h, k, t, k->ban && !k->full ? "banned" : "kicked",
	    text, &room);
	hub_unlock(h);
	kick_notify(nt, t, room, heir);
	notify_link(nt);
	return KICK_OK;
}

/*
 * /ban ADDRESS and chatctl ban ADDRESS: bans the range and, under the
 * same lock, bans every local registered user inside it as /ban NAME
 * does (each room hears "* NAME was banned by OP"); a connection still
 * choosing its name is refused as it registers. k->kicked counts them;
 * a kicker with a slot is answered "* banned RANGE" after the notices.
 * A kicker inside the range would ban itself: KICK_SELF, nothing done.
 */
enum kick_result
session_ban(struct hub *h, struct notifier *nt, struct kick *k,
    const struct cidr *range, char *text)
{
	struct banned {
		int		slot, heir;
		uint32_t	room;
	}			*list;
	struct slot		*s;
	enum kick_result	 r = KICK_OK;
	uint32_t		 i, hwm;
	size_t			 n = 0, j;

	HUB_ASSERT_UNLOCKED();
	if ((list = calloc(h->hdr->nslots, sizeof(*list))) == NULL)
		fatal("calloc");
	ban_range_format(range, k->range, sizeof(k->range));
	hub_lock(h);
	if (k->slot >= 0 && cidr_contains(range, &h->slots[k->slot].ip))
		r = KICK_SELF;
	else if (ban_add_locked(h, range, "", k->reason != NULL ? k->reason :
	    "", k->expires) == -1)
		r = KICK_FULL;
	hwm = atomic_load(&h->hdr->hwm);
	for (i = 0; r == KICK_OK && i < hwm && i < h->hdr->nslots; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) != SLOT_ACTIVE ||
		    !cidr_contains(range, &s->ip))
			continue;
		list[n].slot = (int)i;
		list[n].heir = kick_locked(h, k, (int)i, "banned", text,
		    &list[n].room);
		n++;
	}
	/* The kicker's answer comes after the notices, in the log's order. */
	if (r == KICK_OK && k->slot >= 0)
		post_to(h, REC_DIRECT, k->slot, text, text_format(text,
		    RECORD_TEXT_MAX, "* banned %s", k->range));
	hub_unlock(h);
	for (j = 0; j < n; j++)
		kick_notify(nt, list[j].slot, list[j].room, list[j].heir);
	if (r == KICK_OK)
		notify_link(nt);
	k->kicked = n;
	free(list);
	return r;
}

/*
 * The network removed a local user (an IRC operator's KILL, or a name
 * collision): told is what the user reads before it is disconnected,
 * seen what its room sees. The network knows already: nothing goes back
 * to it. Returns 0, or -1 if no local user has the name.
 */
int
session_kill(struct hub *h, struct notifier *nt, const char *name,
    const char *told, const char *seen, int handover)
{
	char		 key[NAME_MAX_LEN + 1];
	uint32_t	 room;
	int		 t, heir;

	HUB_ASSERT_UNLOCKED();
	if (!text_key(key, sizeof(key), name, strlen(name)))
		return -1;
	hub_lock(h);
	if ((t = hub_find_locked(h, key)) == -1) {
		hub_unlock(h);
		return -1;
	}
	room = atomic_load(&h->slots[t].room);
	post_to(h, REC_KICK, t, told, strlen(told));
	heir = session_leave_locked(h, t, seen, strlen(seen), handover, NULL);
	hub_unlock(h);
	notify_room(nt, room, t);
	notify_slot(nt, t);
	if (heir != -1)
		notify_slot(nt, heir);
	return 0;
}

/*
 * The audit line of a kick or ban that was done (audit.h), but for who
 * did it, which the caller adds: the user and its address, or the range
 * for a ban of an address or range (session_ban), what a ban covers
 * when it is more than the address (an IPv6 prefix), and its end.
 */
void
session_audit_kick(struct audit *a, const struct kick *k, int range)
{
	memset(a, 0, sizeof(*a));
	a->action = k->ban && !k->full ? AUDIT_BAN : AUDIT_KICK;
	a->reason = k->reason;
	if (range)
		a->target = k->range;
	else {
		a->target = k->name;
		a->target_addr = k->addr;
		if (a->action == AUDIT_BAN && strcmp(k->range, k->addr) != 0)
			a->range = k->range;
	}
	if (a->action == AUDIT_BAN)
		a->until = k->expires;
}
