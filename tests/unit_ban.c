/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for ban durations, the ranges a ban and --max-per-address
 * cover (--ipv6-prefix), and the ban table's search index, checked
 * against a plain scan of the table with random bans. The table lives
 * in a hub header of our own, in ordinary memory, its lock held
 * throughout. Prints each failed check; exits 1 if any.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/ban.h"
#include "../src/duration.h"

static int	failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("unit_ban.c:%d: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

/* duration_parse: the seconds, or -1 for a refusal. */
static long long
secs(const char *s)
{
	uint64_t	v;

	return duration_parse(s, CHATD_BAN_SECS_MAX, &v) == NULL ?
	    (long long)v : -1;
}

static const char *
fmt(uint64_t v)
{
	static char	buf[DURATION_STR_MAX];

	duration_format(v, buf, sizeof(buf));
	return buf;
}

static void
test_durations(void)
{
	CHECK(secs("90s") == 90);
	CHECK(secs("30m") == 1800);
	CHECK(secs("12h") == 43200);
	CHECK(secs("7d") == 604800);
	CHECK(secs("2w") == 1209600);
	CHECK(secs("1h30m") == 5400);
	CHECK(secs("1w2d3h4m5s") == 604800 + 2 * 86400 + 3 * 3600 + 245);
	CHECK(secs("3650d") == 3650LL * 86400);
	CHECK(secs("0h5m") == 300);
	CHECK(secs("") == -1);
	CHECK(secs("90") == -1);		/* no unit */
	CHECK(secs("h") == -1);
	CHECK(secs("5y") == -1);
	CHECK(secs("30m1h") == -1);		/* largest first */
	CHECK(secs("1h1h") == -1);
	CHECK(secs("0s") == -1);
	CHECK(secs("-5m") == -1);
	CHECK(secs("5 m") == -1);
	CHECK(secs("3651d") == -1);		/* over ten years */
	CHECK(secs("99999999999999999999s") == -1);
	CHECK(strcmp(fmt(1), "1s") == 0);
	CHECK(strcmp(fmt(59), "59s") == 0);
	CHECK(strcmp(fmt(60), "1m") == 0);
	CHECK(strcmp(fmt(119), "1m59s") == 0);
	CHECK(strcmp(fmt(3600), "1h") == 0);
	CHECK(strcmp(fmt(5400), "1h30m") == 0);
	CHECK(strcmp(fmt(90061), "1d1h") == 0);
	CHECK(strcmp(fmt(86400 + 59), "1d") == 0);
	CHECK(strcmp(fmt(8ULL * 86400), "1w1d") == 0);
	CHECK(strcmp(fmt(3650ULL * 86400), "521w3d") == 0);
	CHECK(secs(fmt(5400)) == 5400);
}

/* The range a ban of (and the limit for) the user at addr covers. */
static const char *
range_of(const char *addr, unsigned v6prefix)
{
	static char	buf[CIDR_STR_MAX];
	struct addr	a;
	struct cidr	c;

	ban_addr_of(&a, addr);
	ban_range_of(&c, &a, v6prefix);
	ban_range_format(&c, buf, sizeof(buf));
	return buf;
}

static void
test_ranges(void)
{
	struct cidr	c;
	struct addr	a;

	CHECK(strcmp(range_of("192.0.2.7", 64), "192.0.2.7") == 0);
	CHECK(strcmp(range_of("192.0.2.7", 1), "192.0.2.7") == 0);
	CHECK(strcmp(range_of("::ffff:192.0.2.7", 64), "192.0.2.7") == 0);
	CHECK(strcmp(range_of("2001:db8:1:2:3:4:5:6", 64),
	    "2001:db8:1:2::/64") == 0);
	CHECK(strcmp(range_of("2001:db8:1:2:3:4:5:6", 48),
	    "2001:db8:1::/48") == 0);
	CHECK(strcmp(range_of("2001:db8:1:2:3:4:5:6", 128),
	    "2001:db8:1:2:3:4:5:6") == 0);
	CHECK(strcmp(range_of("2001:db8:1:2:3:4:5:6", 1), "::/1") == 0);
	CHECK(strcmp(range_of("::1", 64), "::/64") == 0);
	CHECK(strcmp(range_of("local", 64), "local") == 0);
	/* A /64 holds the neighbours, not the next /64. */
	ban_addr_of(&a, "2001:db8:1:2::1");
	ban_range_of(&c, &a, 64);
	ban_addr_of(&a, "2001:db8:1:2:ffff::9");
	CHECK(cidr_contains(&c, &a));
	ban_addr_of(&a, "2001:db8:1:3::1");
	CHECK(!cidr_contains(&c, &a));
	/* "local" covers the clients with no address, not the link. */
	CHECK(ban_range_parse(&c, "local") == 0);
	ban_addr_of(&a, "local");
	CHECK(cidr_contains(&c, &a));
	ban_addr_of(&a, "link");
	CHECK(!cidr_contains(&c, &a));
	CHECK(ban_range_parse(&c, "nonsense") == -1);
	CHECK(ban_range_parse(&c, "10.0.0.0/33") == -1);
	CHECK(ban_is_range("10.0.0.1") && ban_is_range("::1") &&
	    ban_is_range("fe80::1") && ban_is_range("10.0.0.0/8") &&
	    ban_is_range("1") && !ban_is_range("bob") &&
	    !ban_is_range("local") && !ban_is_range("Bob-2_x"));
}

/* A small xorshift generator: the same sequence on every run. */
static uint32_t
next(void)
{
	static uint32_t	x = 15;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* A random address: IPv4 in 10.0.0.0/16, or IPv6 in 2001:db8::/48. */
static void
random_addr(struct addr *a)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	if (next() % 2) {
		a->family = 4;
		a->b[0] = 10;
		a->b[2] = (uint8_t)(next() % 256);
		a->b[3] = (uint8_t)(next() % 256);
		return;
	}
	a->family = 6;
	a->b[0] = 0x20;
	a->b[1] = 0x01;
	a->b[2] = 0x0d;
	a->b[3] = 0xb8;
	for (i = 6; i < 16; i++)
		a->b[i] = (uint8_t)(next() % 4);
}

/* What the index must say: a scan of every entry. */
static int
scan(const struct hub *h, const struct addr *a, int64_t now)
{
	size_t	i;

	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (ban_active(&h->hdr->bans[i], now) &&
		    cidr_contains(&h->hdr->bans[i].range, a))
			return 1;
	return 0;
}

static void
test_index(void)
{
	static const unsigned	lens4[] = { 16, 24, 30, 32 };
	static const unsigned	lens6[] = { 48, 56, 64, 100, 128 };
	struct hub		 h;
	struct cidr		 c;
	struct addr		 a;
	int64_t			 now = time(NULL);
	size_t			 i, wrong = 0, hits = 0;
	int			 round;

	memset(&h, 0, sizeof(h));
	if ((h.hdr = calloc(1, sizeof(*h.hdr))) == NULL ||
	    pthread_mutex_init(&h.hdr->lock, NULL) != 0)
		abort();
	hub_lock(&h);
	for (round = 0; round < 4; round++) {
		/* Fill the table, some bans expired, some to expire. */
		for (i = 0; i < CHATD_MAX_BANS; i++) {
			random_addr(&a);
			cidr_from_addr(&c, &a, a.family == 4 ?
			    lens4[next() % 4] : lens6[next() % 5]);
			(void)ban_add_locked(&h, &c, "x", "",
			    next() % 4 == 0 ? now - 1 :
			    next() % 4 == 0 ? now + 60 : 0);
		}
		for (i = 0; i < 20000; i++) {
			random_addr(&a);
			if (ban_match_locked(&h, &a, now) != scan(&h, &a, now))
				wrong++;
			hits += scan(&h, &a, now);
		}
		/* Lift a third of them; the index follows. */
		for (i = 0; i < CHATD_MAX_BANS; i += 3)
			if (ban_active(&h.hdr->bans[i], now)) {
				c = h.hdr->bans[i].range;
				CHECK(ban_remove_locked(&h, &c, now) == 0);
				CHECK(ban_find_locked(&h, &c, now) == -1);
				CHECK(ban_remove_locked(&h, &c, now) == -1);
			}
		for (i = 0; i < 20000; i++) {
			random_addr(&a);
			if (ban_match_locked(&h, &a, now) != scan(&h, &a, now))
				wrong++;
		}
		/* An hour on, the expiring bans are gone. */
		for (i = 0; i < 20000; i++) {
			random_addr(&a);
			if (ban_match_locked(&h, &a, now + 3600) !=
			    scan(&h, &a, now + 3600))
				wrong++;
		}
	}
	CHECK(wrong == 0);
	CHECK(hits > 1000);	/* the bans did cover something */
	/* An exact ban, a range around it, and the hint of /unban. */
	memset(h.hdr->bans, 0, sizeof(h.hdr->bans));
	h.hdr->banidx.ok = 0;
	CHECK(ban_range_parse(&c, "2001:db8:5::/48") == 0);
	CHECK(ban_add_locked(&h, &c, "", "", 0) == 0);
	CHECK(ban_range_parse(&c, "2001:db8:5:1::7") == 0);
	CHECK(ban_find_locked(&h, &c, now) == -1);
	CHECK(ban_covering_locked(&h, &c, now) != -1);
	CHECK(strcmp(h.hdr->bans[ban_covering_locked(&h, &c, now)].addr,
	    "2001:db8:5::/48") == 0);
	CHECK(ban_count_locked(&h, now) == 1);
	/* Expiring: in force until its second, then not counted. */
	CHECK(ban_range_parse(&c, "198.51.100.0/24") == 0);
	CHECK(ban_add_locked(&h, &c, "", "", now + 2) == 0);
	ban_addr_of(&a, "198.51.100.99");
	CHECK(ban_match_locked(&h, &a, now + 1));
	CHECK(!ban_match_locked(&h, &a, now + 2));
	CHECK(ban_count_locked(&h, now + 1) == 2);
	CHECK(ban_count_locked(&h, now + 2) == 1);
	/* Banned again: the same entry, now for ever. */
	CHECK(ban_add_locked(&h, &c, "", "again", 0) == 0);
	CHECK(ban_count_locked(&h, now + 5) == 2);
	CHECK(ban_match_locked(&h, &a, now + 5));
	hub_unlock(&h);
	free(h.hdr);
}

int
main(void)
{
	test_durations();
	test_ranges();
	test_index();
	if (failures > 0) {
		printf("%d failed\n", failures);
		return 1;
	}
	return 0;
}
