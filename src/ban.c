/* SPDX-License-Identifier: ISC */
/*
 * Bans: a small table of addresses. Each entry is written whole before
 * it is marked used, so a dead writer leaves no half ban.
 */
#include <string.h>

#include "ban.h"
#include "fault.h"
#include "text.h"

/* The entry banning addr, or -1. */
int
ban_find_locked(const struct hub *h, const char *addr)
{
	size_t	i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (h->hdr->bans[i].used &&
		    strcmp(h->hdr->bans[i].addr, addr) == 0)
			return (int)i;
	return -1;
}

/*
 * Bans addr, naming the user and the reason; an address banned already
 * gets the new name and reason. Returns -1 when the table is full.
 */
int
ban_add_locked(struct hub *h, const char *addr, const char *name,
    const char *reason)
{
	struct ban	*b;
	int		 i;

	HUB_ASSERT_LOCKED();
	if ((i = ban_find_locked(h, addr)) == -1)
		for (i = 0; i < CHATD_MAX_BANS; i++)
			if (!h->hdr->bans[i].used)
				break;
	if (i == CHATD_MAX_BANS)
		return -1;
	b = &h->hdr->bans[i];
	b->used = 0;
	(void)text_format(b->addr, sizeof(b->addr), "%s", addr);
	FAULT(BAN_ADD);
	(void)text_format(b->name, sizeof(b->name), "%s", name);
	(void)text_format(b->reason, sizeof(b->reason), "%s", reason);
	b->used = 1;
	hub_note_bans_locked();
	return 0;
}

/* Lifts the ban on addr; -1 if there was none. */
int
ban_remove_locked(struct hub *h, const char *addr)
{
	int	i;

	HUB_ASSERT_LOCKED();
	if ((i = ban_find_locked(h, addr)) == -1)
		return -1;
	h->hdr->bans[i].used = 0;
	hub_note_bans_locked();
	return 0;
}

size_t
ban_count_locked(const struct hub *h)
{
	size_t	i, n = 0;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (h->hdr->bans[i].used)
			n++;
	return n;
}
