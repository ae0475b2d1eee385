/* SPDX-License-Identifier: ISC */
/*
 * How a session ends, whoever ends it: its own worker leaving, a
 * kicker (a user's worker or chatctl), or a burier (the listener, or any
 * process that finds a dead owner). The room hears one notice, the
 * operator's role passes on, and the slot is freed.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "ban.h"
#include "fault.h"
#include "room.h"
#include "session.h"
#include "text.h"

/*
 * Under the lock: a registered user leaves its room for good. The room
 * hears the notice (len 0: nothing) and, if the user was the last
 * operator, the earliest registered user left becomes one and is told.
 * The slot is left SLOT_KICKED, gone from every list and its name free,
 * for its owner to free. Returns the heir's slot, or -1.
 */
int
session_leave_locked(struct hub *h, int slot, const char *notice, size_t len,
    int handover)
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
    int handover)
{
	int	heir = session_leave_locked(h, slot, notice, len, handover);

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
		n = text_format(notice, sizeof(notice),
		    "* %s quit (connection lost)", h->slots[slot].name);
		(void)session_end_locked(h, slot, notice, n, handover);
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
 * /kick and /ban, and chatctl's kick and ban, whose kicker has no slot.
 * Under the lock the target leaves its room with the kicker's notice (so
 * the room hears exactly one line, and the name is free at once), a
 * kicker in another room hears it too, and the target gets a kick
 * record: its worker says the line and disconnects. text is a buffer of
 * RECORD_TEXT_MAX bytes.
 */
enum kick_result
session_kick(struct hub *h, struct notifier *nt, struct kick *k,
    const char *target, char *text)
{
	struct slot	*s;
	const char	*verb, *r = k->reason != NULL ? k->reason : "";
	const char	*lp = k->reason != NULL ? " (" : "";
	const char	*rp = k->reason != NULL ? ")" : "";
	char		 key[NAME_MAX_LEN + 1];
	size_t		 n = strlen(target), len;
	uint32_t	 room;
	int		 t, heir, fits;

	HUB_ASSERT_UNLOCKED();
	fits = text_key(key, sizeof(key), target, n);
	hub_lock(h);
	t = fits ? hub_find_locked(h, key) : -1;
	if (t == -1 || t == k->slot) {
		hub_unlock(h);
		return t == -1 ? KICK_NO_USER : KICK_SELF;
	}
	s = &h->slots[t];
	room = atomic_load(&s->room);
	memcpy(k->name, s->name, sizeof(k->name));
	memcpy(k->addr, s->addr, sizeof(k->addr));
	k->full = k->ban && ban_add_locked(h, k->addr, k->name, r) == -1;
	/* With the ban table full it was a kick, and is called one. */
	verb = k->ban && !k->full ? "banned" : "kicked";
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
	    k->name, verb, k->by, lp, r, rp);
	heir = session_leave_locked(h, t, text, len, k->handover);
	if (k->slot >= 0 && room != k->room)
		post_to(h, REC_DIRECT, k->slot, text, len);
	hub_unlock(h);
	notify_room(nt, room, t);
	notify_slot(nt, t);
	if (heir != -1)
		notify_slot(nt, heir);
	return KICK_OK;
}
