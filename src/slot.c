/* SPDX-License-Identifier: ISC */
/*
 * The slot table: one slot per connection, claimed by its worker,
 * registered under a name, freed when it leaves. Every function here
 * runs under the hub lock, or reads only atomics (see hub.c).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ban.h"
#include "fault.h"
#include "hub.h"

/*
 * Connections, registered or not, from the range r (or from anywhere:
 * NULL).
 */
static size_t
slot_count_addr(const struct hub *h, const struct cidr *r)
{
	uint32_t	i, hwm = atomic_load(&h->hdr->hwm);
	size_t		n = 0;

	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) != SLOT_FREE &&
		    (r == NULL || cidr_contains(r, &h->slots[i].ip)))
			n++;
	return n;
}

/*
 * Takes a free slot for this process under the lock. Returns its index,
 * or -1 with *why saying which limit refused it. maxper counts the
 * connections from one IPv4 address, or from one IPv6 prefix of
 * v6prefix bits (--ipv6-prefix).
 */
int
hub_claim_locked(struct hub *h, const char *addr, unsigned maxclients,
    unsigned maxper, unsigned v6prefix, enum hub_refusal *why)
{
	struct slot	*s;
	struct addr	 ip;
	struct cidr	 range;
	uint32_t	 i, n = h->hdr->nslots;
	size_t		 used;

	HUB_ASSERT_LOCKED();
	ban_addr_of(&ip, addr);
	if (ban_match_locked(h, &ip, time(NULL))) {
		*why = HUB_BANNED;
		return -1;
	}
	used = slot_count_addr(h, NULL);
	if ((maxclients != 0 && used >= maxclients) || used >= n) {
		*why = HUB_FULL;
		return -1;
	}
	ban_range_of(&range, &ip, v6prefix);
	if (maxper != 0 && slot_count_addr(h, &range) >= maxper) {
		*why = HUB_PERADDR;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (atomic_load(&h->slots[i].state) == SLOT_FREE)
			break;
	if (i == n) {
		*why = HUB_FULL;
		return -1;
	}
	s = &h->slots[i];
	s->pid = getpid();
	s->pstart = proc_start(s->pid);
	s->conntime = time(NULL);
	s->regseq = 0;
	s->nsent = 0;
	s->op = 0;
	s->name[0] = s->key[0] = '\0';
	atomic_store(&s->rpos, ring_head(&h->ring));
	atomic_store(&s->queued, 0);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->ip = ip;
	atomic_store(&s->room, 0);
	atomic_store(&s->wake, 0);
	atomic_fetch_add(&s->gen, 1);
	/*
	 * Scans stop at hwm: raised first, or an owner dying right after
	 * publishing would leave a claimed slot that no burial finds.
	 */
	if (i >= atomic_load(&h->hdr->hwm))
		atomic_store(&h->hdr->hwm, i + 1);
	FAULT(SLOT_CLAIM);
	atomic_store(&s->state, SLOT_CLAIMED);
	FAULT(SLOT_CLAIMED);
	*why = HUB_OK;
	return (int)i;
}

/* Frees a slot under the lock. */
void
hub_release_locked(struct hub *h, int i)
{
	struct slot	*s = &h->slots[i];

	HUB_ASSERT_LOCKED();
	/* Its counters outlive it, for chatctl status. */
	atomic_fetch_add(&h->hdr->wakeups, atomic_exchange(&s->wakeups, 0));
	atomic_fetch_add(&h->hdr->lines, atomic_exchange(&s->lines, 0));
	atomic_store(&s->state, SLOT_FREE);
	FAULT(SLOT_RELEASE);
	s->pid = 0;
	s->op = 0;
	s->name[0] = s->key[0] = '\0';
}

/* The registered slot whose name matches key (lower case), or -1. */
int
hub_find_locked(const struct hub *h, const char *key)
{
	uint32_t	i, hwm = atomic_load(&h->hdr->hwm);

	HUB_ASSERT_LOCKED();
	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) == SLOT_ACTIVE &&
		    strcmp(h->slots[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* Registered users in a room, or in all of them with RING_ALLROOMS. */
size_t
hub_count(const struct hub *h, uint32_t room)
{
	uint32_t	i, hwm = atomic_load(&h->hdr->hwm);
	size_t		n = 0;

	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) == SLOT_ACTIVE &&
		    (room == RING_ALLROOMS ||
		    atomic_load(&h->slots[i].room) == room))
			n++;
	return n;
}

/*
 * Users in a room, or in all of them, with those of the rest of the
 * network: what the users are told. Atomics alone, no lock.
 */
size_t
hub_users(const struct hub *h, uint32_t room)
{
	size_t	n = hub_count(h, room);

	if (room == RING_ALLROOMS)
		return n + atomic_load(&h->hdr->link.remotes);
	if (room < h->hdr->nrooms)
		n += atomic_load(&h->rooms[room].remotes);
	return n;
}

/* The link process's slot, if it has one, or -1. */
int
hub_link_slot(const struct hub *h)
{
	int32_t	slot = atomic_load(&h->hdr->link.slot);

	if (slot < 0 || (uint32_t)slot >= h->hdr->nslots ||
	    atomic_load(&h->slots[slot].state) != SLOT_LINK)
		return -1;
	return slot;
}

/*
 * Under the lock: whether a room has too many users for join, leave and
 * quit notices (--quiet-above): N users joining one room would cost N
 * squared notices.
 */
int
hub_quiet_locked(const struct hub *h, uint32_t room)
{
	uint32_t	max = h->hdr->live.quiet_above;

	HUB_ASSERT_LOCKED();
	return max != 0 && hub_users(h, room) > max;
}

/*
 * Under the lock: a taken slot whose owner is gone (pid, or any pid with
 * 0), or -1.
 */
int
hub_find_dead_locked(const struct hub *h, pid_t pid)
{
	const struct slot	*s;
	uint32_t		 i, hwm = atomic_load(&h->hdr->hwm);

	HUB_ASSERT_LOCKED();
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) == SLOT_FREE)
			continue;
		if (pid != 0 ? s->pid == pid : !proc_alive(s->pid, s->pstart))
			return (int)i;
	}
	return -1;
}

/* Under the lock: whether the process (pid, start time) holds a slot. */
int
hub_held_locked(const struct hub *h, pid_t pid, uint64_t start)
{
	const struct slot	*s;
	uint32_t		 i, hwm = atomic_load(&h->hdr->hwm);

	HUB_ASSERT_LOCKED();
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) != SLOT_FREE && s->pid == pid &&
		    s->pstart == start)
			return 1;
	}
	return 0;
}

/*
 * Under the lock: who becomes operator when one leaves. Nobody while
 * another operator remains; else the user who registered earliest, or
 * -1 when nobody is left.
 */
int
hub_op_heir_locked(const struct hub *h)
{
	const struct slot	*s;
	uint32_t		 i, hwm = atomic_load(&h->hdr->hwm);
	int			 heir = -1;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) != SLOT_ACTIVE)
			continue;
		if (s->op)
			return -1;
		if (heir == -1 || s->regseq < h->slots[heir].regseq)
			heir = (int)i;
	}
	return heir;
}
