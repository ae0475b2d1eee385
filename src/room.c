/* SPDX-License-Identifier: ISC */
/*
 * Rooms: finding one by name, making one (forgetting the room that has
 * been empty longest when the table is full), and each room's history.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"
#include "fault.h"
#include "log.h"
#include "room.h"
#include "text.h"

/* The remembered room called name (any case), or -1. */
int
room_find_locked(const struct hub *h, const char *name)
{
	char		key[ROOM_MAX_LEN + 1];
	size_t		n = strlen(name);
	uint32_t	i;

	HUB_ASSERT_LOCKED();
	if (n > ROOM_MAX_LEN)
		return -1;
	(void)text_key(key, sizeof(key), name, n);
	for (i = 0; i < h->hdr->nrooms; i++)
		if (h->rooms[i].used && strcmp(h->rooms[i].key, key) == 0)
			return (int)i;
	return -1;
}

/*
 * A room table entry to reuse: a never-used one, or else the room that
 * has been empty longest (never the lobby); -1 if every room has users.
 */
static int
room_victim(const struct hub *h)
{
	uint32_t	 i, hwm = atomic_load(&h->hdr->hwm), n = h->hdr->nrooms;
	unsigned char	*busy;
	int		 best = -1;

	for (i = 1; i < n; i++)
		if (!h->rooms[i].used)
			return (int)i;
	if ((busy = calloc(n, 1)) == NULL)
		fatal("calloc");
	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) == SLOT_ACTIVE)
			busy[atomic_load(&h->slots[i].room) % n] = 1;
	for (i = 1; i < n; i++)
		if (!busy[i] && atomic_load(&h->rooms[i].remotes) == 0 &&
		    (best == -1 ||
		    h->rooms[i].lastleft < h->rooms[best].lastleft))
			best = (int)i;
	free(busy);
	return best;
}

/*
 * The room called name, made if need be, spelled as its creator typed
 * it; -1 when the table is full of rooms with users. A forgotten room
 * takes its history with it.
 */
int
room_make_locked(struct hub *h, const char *name)
{
	struct room	*r;
	size_t		 n = strlen(name);
	int		 i;

	HUB_ASSERT_LOCKED();
	if ((i = room_find_locked(h, name)) != -1)
		return i;
	if ((i = room_victim(h)) == -1)
		return -1;
	r = &h->rooms[i];
	/* Unused while being rewritten: a dead writer leaves no half room. */
	r->used = 0;
	memcpy(r->name, name, n + 1);
	(void)text_key(r->key, sizeof(r->key), name, n);
	r->nhist = 0;
	FAULT(JOIN_MAKE);
	r->lastleft = ++h->hdr->roomseq;
	r->used = 1;
	return i;
}

/* Notes that a user left room r, for choosing which room to forget. */
void
room_left_locked(struct hub *h, uint32_t r)
{
	HUB_ASSERT_LOCKED();
	if (r < h->hdr->nrooms)
		h->rooms[r].lastleft = ++h->hdr->roomseq;
}

/* The rooms remembered, lobby included: for chatctl status and STATUS=. */
size_t
room_count_locked(const struct hub *h)
{
	size_t		n = 0;
	uint32_t	i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < h->hdr->nrooms; i++)
		if (h->rooms[i].used)
			n++;
	return n;
}

static struct hist_entry *
hist_entry(const struct hub *h, uint32_t r, uint64_t i)
{
	size_t	per = (size_t)h->hdr->hist_len + 1;

	return (struct hist_entry *)(h->hist + ((size_t)r * per + i % per) *
	    h->hdr->hist_size);
}

/* Adds a chat or /me line to room r's history. */
void
room_history_add_locked(struct hub *h, uint32_t r, int64_t when, int kind,
    const char *text, size_t len)
{
	struct hist_entry	*e;
	size_t			 max = h->hdr->hist_size - sizeof(*e);

	HUB_ASSERT_LOCKED();
	if (h->hdr->hist_len == 0 || r >= h->hdr->nrooms)
		return;
	e = hist_entry(h, r, h->rooms[r].nhist);
	if (len > max)
		len = max;
	e->time = when;
	e->kind = (uint32_t)kind;
	e->len = (uint32_t)len;
	memcpy(e + 1, text, len);
	FAULT(ROOM_HISTORY);
	/* Published last: the entry is shown only from now on. */
	h->rooms[r].nhist++;
	hub_note_history_locked(h, r, when, kind, text, len);
}

/* Copies room r's history, oldest first; free hist->buf afterwards. */
void
room_history_copy_locked(const struct hub *h, uint32_t r, struct history *hist)
{
	uint64_t	nhist, first, i;
	size_t		size = h->hdr->hist_size;

	HUB_ASSERT_LOCKED();
	memset(hist, 0, sizeof(*hist));
	if (h->hdr->hist_len == 0 || r >= h->hdr->nrooms)
		return;
	nhist = h->rooms[r].nhist;
	first = nhist > h->hdr->hist_len ? nhist - h->hdr->hist_len : 0;
	if (nhist == first)
		return;
	if ((hist->buf = malloc((size_t)(nhist - first) * size)) == NULL)
		fatal("malloc");
	for (i = first; i < nhist; i++)
		memcpy(hist->buf + (size_t)(i - first) * size,
		    hist_entry(h, r, i), size);
	hist->n = (size_t)(nhist - first);
	hist->size = size;
}
