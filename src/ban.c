/* SPDX-License-Identifier: ISC */
/*
 * Bans: a table of address ranges in the segment, and beside it a
 * search index (struct ban_index) for the check every connection makes.
 * Each entry is written whole before it is marked used, so a dead
 * writer leaves no half ban; the index is marked stale before any entry
 * changes and rebuilt by the next search, so it needs no repair.
 *
 * The search: for each prefix length that some ban has, the client's
 * address cut to that length is looked up by binary search among the
 * sorted ranges; that is a few dozen comparisons for thousands of bans
 * (BENCHMARKS.md, "Issue 15"), against a scan of every entry.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ban.h"
#include "fault.h"
#include "text.h"

/* The part of a key that orders it: address, family, length. */
#define KEY_CMP_BYTES	18

/*
 * Whether a command's word is an address or a range rather than a name:
 * a name starts with a letter and holds no ':', '.' or '/'.
 */
int
ban_is_range(const char *s)
{
	return (*s >= '0' && *s <= '9') || strpbrk(s, ":./") != NULL;
}

/*
 * A range as /unban, chatctl and the bans file write it: ADDR, ADDR/LEN
 * or "local". Returns 0, or -1 if s is none of these.
 */
int
ban_range_parse(struct cidr *c, const char *s)
{
	struct addr	a;

	if (strcmp(s, BAN_LOCAL) == 0) {
		ban_addr_of(&a, s);
		ban_range_of(c, &a, 0);
		return 0;
	}
	return cidr_parse(c, s);
}

/*
 * A slot's address parsed. One that is not numeric has family 0: all
 * zero for "local", so that one ban covers every such client as
 * before, and b[0] = 1 for anything else (the link process's "link"),
 * which no ban covers.
 */
void
ban_addr_of(struct addr *a, const char *s)
{
	if (addr_parse(a, s) == 0)
		return;
	memset(a, 0, sizeof(*a));
	if (strcmp(s, BAN_LOCAL) != 0)
		a->b[0] = 1;
}

/*
 * The range a ban of a user at a covers, and the one --max-per-address
 * counts: the address itself for IPv4, its first v6prefix bits for
 * IPv6; a non-numeric address is a range of its own (all 128 bits).
 */
void
ban_range_of(struct cidr *c, const struct addr *a, unsigned v6prefix)
{
	cidr_from_addr(c, a, a->family == 6 ? v6prefix : addr_bits(a));
}

void
ban_range_format(const struct cidr *c, char *buf, size_t len)
{
	if (c->a.family == 0)
		(void)text_format(buf, len, "%s", BAN_LOCAL);
	else
		cidr_format(c, buf, len);
}

/* Whether a used entry is still in force at now (time()). */
int
ban_active(const struct ban *b, int64_t now)
{
	return b->used && (b->expires == 0 || b->expires > now);
}

static unsigned
family_index(unsigned family)
{
	return family == 4 ? 1 : family == 6 ? 2 : 0;
}

static int
key_cmp(const void *x, const void *y)
{
	return memcmp(x, y, KEY_CMP_BYTES);
}

static void
key_of(struct ban_key *k, const struct cidr *c, int64_t expires)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->b, c->a.b, sizeof(k->b));
	k->family = c->a.family;
	k->len = c->len;
	k->expires = expires;
}

/* Rebuilds the index from the table: the active bans, sorted. */
static void
index_build(struct hub *h, int64_t now)
{
	struct ban_index	*x = &h->hdr->banidx;
	const struct ban	*b;
	size_t			 i;
	unsigned		 f;

	memset(x->lens, 0, sizeof(x->lens));
	x->n = 0;
	for (i = 0; i < CHATD_MAX_BANS; i++) {
		b = &h->hdr->bans[i];
		if (!ban_active(b, now))
			continue;
		key_of(&x->keys[x->n++], &b->range, b->expires);
		f = family_index(b->range.a.family);
		x->lens[f][b->range.len / 64U] |= 1ULL << (b->range.len % 64U);
	}
	qsort(x->keys, x->n, sizeof(x->keys[0]), key_cmp);
	x->ok = 1;
}

/* Marks the index stale: called before any entry changes. */
static void
index_stale(struct hub *h)
{
	h->hdr->banidx.ok = 0;
}

/* Whether an active ban covers the address a. */
int
ban_match_locked(struct hub *h, const struct addr *a, int64_t now)
{
	const struct ban_index	*x = &h->hdr->banidx;
	const struct ban_key	*k;
	struct ban_key		 probe;
	struct cidr		 c;
	unsigned		 f = family_index(a->family), len, maxlen;

	HUB_ASSERT_LOCKED();
	if (!x->ok)
		index_build(h, now);
	maxlen = addr_bits(a);
	for (len = 0; len <= maxlen && x->n > 0; len++) {
		if (!(x->lens[f][len / 64U] & (1ULL << (len % 64U))))
			continue;
		cidr_from_addr(&c, a, len);
		key_of(&probe, &c, 0);
		k = bsearch(&probe, x->keys, x->n, sizeof(x->keys[0]), key_cmp);
		if (k != NULL && (k->expires == 0 || k->expires > now))
			return 1;
	}
	return 0;
}

/* The entry banning exactly the range c (expired or not, all < 0), or -1. */
static int
find_any(const struct hub *h, const struct cidr *c)
{
	size_t	i;

	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (h->hdr->bans[i].used && cidr_equal(&h->hdr->bans[i].range,
		    c))
			return (int)i;
	return -1;
}

/* The active entry banning exactly the range c, or -1. */
int
ban_find_locked(const struct hub *h, const struct cidr *c, int64_t now)
{
	int	i;

	HUB_ASSERT_LOCKED();
	i = find_any(h, c);
	return i != -1 && ban_active(&h->hdr->bans[i], now) ? i : -1;
}

/*
 * An active entry other than c's own whose range holds all of c: what
 * a "not banned" answer points to. -1 if none.
 */
int
ban_covering_locked(const struct hub *h, const struct cidr *c, int64_t now)
{
	const struct ban	*b;
	size_t			 i;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < CHATD_MAX_BANS; i++) {
		b = &h->hdr->bans[i];
		if (ban_active(b, now) && b->range.len <= c->len &&
		    !cidr_equal(&b->range, c) && cidr_contains(&b->range, &c->a))
			return (int)i;
	}
	return -1;
}

/*
 * Bans the range c until expires (0: for ever), naming the user (or
 * "") and the reason; a range banned already gets the new name, reason
 * and expiry. Returns -1 when the table is full of active bans.
 */
int
ban_add_locked(struct hub *h, const struct cidr *c, const char *name,
    const char *reason, int64_t expires)
{
	struct ban	*b;
	int64_t		 now = time(NULL);
	int		 i;

	HUB_ASSERT_LOCKED();
	if ((i = find_any(h, c)) == -1)
		for (i = 0; i < CHATD_MAX_BANS; i++)
			if (!ban_active(&h->hdr->bans[i], now))
				break;
	if (i == CHATD_MAX_BANS)
		return -1;
	index_stale(h);
	b = &h->hdr->bans[i];
	b->used = 0;
	b->range = *c;
	b->expires = expires;
	ban_range_format(c, b->addr, sizeof(b->addr));
	FAULT(BAN_ADD);
	(void)text_format(b->name, sizeof(b->name), "%s", name);
	(void)text_format(b->reason, sizeof(b->reason), "%s", reason);
	b->used = 1;
	hub_note_bans_locked();
	return 0;
}

/* Lifts the ban of exactly the range c; -1 if there was none in force. */
int
ban_remove_locked(struct hub *h, const struct cidr *c, int64_t now)
{
	int	i;

	HUB_ASSERT_LOCKED();
	if ((i = ban_find_locked(h, c, now)) == -1)
		return -1;
	index_stale(h);
	h->hdr->bans[i].used = 0;
	hub_note_bans_locked();
	return 0;
}

size_t
ban_count_locked(const struct hub *h, int64_t now)
{
	size_t	i, n = 0;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (ban_active(&h->hdr->bans[i], now))
			n++;
	return n;
}

/* Copies the bans in force to list (CHATD_MAX_BANS entries); how many. */
size_t
ban_list_locked(const struct hub *h, struct ban *list, int64_t now)
{
	size_t	i, n = 0;

	HUB_ASSERT_LOCKED();
	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (ban_active(&h->hdr->bans[i], now))
			list[n++] = h->hdr->bans[i];
	return n;
}
