/* SPDX-License-Identifier: ISC */
/*
 * The rest of the IRC network as the link process (link.c) sees it:
 * remote users with their server and rooms, and the servers. Written
 * under the hub lock by the link process (and by whoever buries it);
 * read under the lock by the listings. Each room counts its remote
 * members, and the header those in any room, so that counts need no
 * scan and no lock.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fault.h"
#include "hub.h"

/* The remote user whose folded nick is key, or -1. */
int
remote_find_locked(const struct hub *h, const char *key)
{
	uint32_t	i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < h->hdr->nremotes; i++)
		if (remote_at(h, i)->used && strcmp(remote_at(h, i)->key,
		    key) == 0)
			return (int)i;
	return -1;
}

/* Adds a remote user in no room; its index, or -1 when the table is full. */
int
remote_add_locked(struct hub *h, const char *nick, const char *key,
    uint32_t server)
{
	struct remote	*r;
	uint32_t	 i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < h->hdr->nremotes; i++)
		if (!remote_at(h, i)->used)
			break;
	if (i == h->hdr->nremotes)
		return -1;
	r = remote_at(h, i);
	memset(r, 0, h->hdr->remote_size);
	snprintf(r->name, sizeof(r->name), "%s", nick);
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->server = server;
	r->seq = ++h->hdr->regseq;
	r->since = time(NULL);
	FAULT(REMOTE_ADD);
	r->used = 1;
	return (int)i;
}

/* Whether remote user i is in room. */
int
remote_in(const struct hub *h, int i, uint32_t room)
{
	const struct remote	*r = remote_at(h, (uint32_t)i);

	return room < h->hdr->nrooms &&
	    (r->rooms[room / 64] >> (room % 64) & 1U) != 0;
}

/* Puts remote user i in room; 1 if it was not there, else 0. */
int
remote_join_locked(struct hub *h, int i, uint32_t room)
{
	struct remote	*r = remote_at(h, (uint32_t)i);

	HUB_ASSERT_LOCKED();
	if (room >= h->hdr->nrooms || remote_in(h, i, room))
		return 0;
	r->rooms[room / 64] |= 1ULL << (room % 64);
	atomic_fetch_add(&h->rooms[room].remotes, 1);
	if (r->nrooms++ == 0)
		atomic_fetch_add(&h->hdr->link.remotes, 1);
	return 1;
}

/* Takes remote user i out of room; 1 if it was there, else 0. */
int
remote_part_locked(struct hub *h, int i, uint32_t room)
{
	struct remote	*r = remote_at(h, (uint32_t)i);

	HUB_ASSERT_LOCKED();
	if (!remote_in(h, i, room))
		return 0;
	r->rooms[room / 64] &= ~(1ULL << (room % 64));
	atomic_fetch_sub(&h->rooms[room].remotes, 1);
	if (--r->nrooms == 0)
		atomic_fetch_sub(&h->hdr->link.remotes, 1);
	if (h->rooms[room].remotes == 0)
		h->rooms[room].lastleft = ++h->hdr->roomseq;
	return 1;
}

/* Forgets remote user i, and takes it out of every room. */
void
remote_del_locked(struct hub *h, int i)
{
	uint32_t	room;

	HUB_ASSERT_LOCKED();
	for (room = 0; room < h->hdr->nrooms; room++)
		(void)remote_part_locked(h, i, room);
	FAULT(REMOTE_DEL);
	remote_at(h, (uint32_t)i)->used = 0;
}

/* The server called name (any case), or -1. */
int
remote_server_find_locked(const struct hub *h, const char *name)
{
	int	i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < NET_SERVERS_MAX; i++)
		if (h->hdr->servers[i].used &&
		    strcasecmp(h->hdr->servers[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * The server called name behind server via (REMOTE_NONE: the hub,
 * which takes entry 0), added if new; -1 when the table is full.
 */
int
remote_server_locked(struct hub *h, const char *name, uint32_t via)
{
	struct net_server	*s;
	int			 i;

	HUB_ASSERT_LOCKED();
	if ((i = remote_server_find_locked(h, name)) != -1)
		return i;
	for (i = via == REMOTE_NONE ? 0 : 1; i < NET_SERVERS_MAX; i++)
		if (!h->hdr->servers[i].used)
			break;
	if (i == NET_SERVERS_MAX || (via == REMOTE_NONE && i != 0))
		return -1;
	s = &h->hdr->servers[i];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->via = via;
	s->used = 1;
	return i;
}

/* Whether server is top or behind it. */
int
remote_behind_locked(const struct hub *h, uint32_t server, uint32_t top)
{
	int	hops;

	HUB_ASSERT_LOCKED();
	for (hops = 0; hops < NET_SERVERS_MAX && server < NET_SERVERS_MAX;
	    hops++) {
		if (server == top)
			return 1;
		server = h->hdr->servers[server].via;
	}
	return 0;
}

/*
 * Forgets the whole network: every remote user, every count and every
 * server. What a dead link process left half-written is gone with it.
 */
void
remote_reset_locked(struct hub *h)
{
	uint32_t	i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < h->hdr->nremotes; i++)
		remote_at(h, i)->used = 0;
	for (i = 0; i < h->hdr->nrooms; i++)
		if (atomic_exchange(&h->rooms[i].remotes, 0) != 0)
			h->rooms[i].lastleft = ++h->hdr->roomseq;
	atomic_store(&h->hdr->link.remotes, 0);
	memset(h->hdr->servers, 0, sizeof(h->hdr->servers));
}

/* Forgets a server; its users must be gone first. */
void
remote_server_del_locked(struct hub *h, uint32_t server)
{
	HUB_ASSERT_LOCKED();
	if (server < NET_SERVERS_MAX)
		h->hdr->servers[server].used = 0;
}
