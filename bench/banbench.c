/* SPDX-License-Identifier: ISC */
/*
 * banbench: how long the ban check of a new connection takes with a
 * full ban table (CHATD_MAX_BANS bans), three ways:
 *
 *   strings  the table before issue 15: a scan comparing the client's
 *            address with each entry's address string (strcmp)
 *   scan     a scan of every entry's range (cidr_contains), without
 *            the index
 *   index    ban_match_locked(): one binary search per prefix length
 *            in use, in the sorted index
 *
 * and how long rebuilding the index takes after a change (the first
 * check after a /ban pays it). The bans are random IPv4 addresses and
 * ranges (/16 to /32) and IPv6 /48 to /128; the clients checked are
 * mostly not banned, the usual case and the slowest for a scan.
 * Prints the median of -r runs (default 7) of -n checks (default
 * 20000) each, in nanoseconds per check. Run by make bench, or alone.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/ban.h"

/* An entry of the table before issue 15: the address as a string. */
struct oldban {
	uint32_t	used;
	char		addr[ADDR_MAX_LEN + 1];
	char		name[NAME_MAX_LEN + 1];
	char		reason[BAN_REASON_MAX + 1];
};

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
random_addr(struct addr *a)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	if (rand() % 2) {
		a->family = 4;
		for (i = 0; i < 4; i++)
			a->b[i] = (uint8_t)rand();
		return;
	}
	a->family = 6;
	a->b[0] = 0x20;
	a->b[1] = 0x01;
	for (i = 2; i < 16; i++)
		a->b[i] = (uint8_t)rand();
}

static int
dcmp(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	static const unsigned	lens4[] = { 16, 24, 28, 32, 32, 32 };
	static const unsigned	lens6[] = { 48, 56, 64, 64, 64, 128 };
	struct hub		 h;
	struct oldban		*old;
	struct addr		*probe;
	struct cidr		 c;
	char			 (*text)[ADDR_STR_MAX];
	double			*t_str, *t_scan, *t_idx, *t_build, t0;
	int64_t			 now = time(NULL);
	int			 ch, runs = 7, n = 20000, r, i, j, hits = 0;
	size_t			 k;

	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		if (ch == 'n')
			n = atoi(optarg);
		else if (ch == 'r')
			runs = atoi(optarg);
		else {
			fprintf(stderr, "usage: banbench [-n checks] "
			    "[-r runs]\n");
			return 64;
		}
	}
	if (n < 1 || runs < 1)
		return 64;
	memset(&h, 0, sizeof(h));
	if ((h.hdr = calloc(1, sizeof(*h.hdr))) == NULL ||
	    (old = calloc(CHATD_MAX_BANS, sizeof(*old))) == NULL ||
	    (probe = calloc((size_t)n, sizeof(*probe))) == NULL ||
	    (text = calloc((size_t)n, sizeof(*text))) == NULL ||
	    (t_str = calloc((size_t)runs, sizeof(double))) == NULL ||
	    (t_scan = calloc((size_t)runs, sizeof(double))) == NULL ||
	    (t_idx = calloc((size_t)runs, sizeof(double))) == NULL ||
	    (t_build = calloc((size_t)runs, sizeof(double))) == NULL ||
	    pthread_mutex_init(&h.hdr->lock, NULL) != 0)
		return 71;
	hub_lock(&h);
	srand(15);
	for (k = 0; k < CHATD_MAX_BANS; k++) {
		random_addr(&c.a);
		cidr_from_addr(&c, &c.a, c.a.family == 4 ?
		    lens4[rand() % 6] : lens6[rand() % 6]);
		(void)ban_add_locked(&h, &c, "someone", "a reason", 0);
		old[k].used = 1;
		addr_format(&c.a, old[k].addr, sizeof(old[k].addr));
	}
	for (i = 0; i < n; i++) {
		random_addr(&probe[i]);
		addr_format(&probe[i], text[i], sizeof(text[i]));
	}
	for (r = 0; r < runs; r++) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			for (k = 0; k < CHATD_MAX_BANS; k++)
				if (old[k].used &&
				    strcmp(old[k].addr, text[i]) == 0) {
					hits++;
					break;
				}
		t_str[r] = (now_ns() - t0) / n;
		t0 = now_ns();
		for (i = 0; i < n; i++)
			for (k = 0; k < CHATD_MAX_BANS; k++)
				if (ban_active(&h.hdr->bans[k], now) &&
				    cidr_contains(&h.hdr->bans[k].range,
				    &probe[i])) {
					hits++;
					break;
				}
		t_scan[r] = (now_ns() - t0) / n;
		/* A change marks the index stale: the next check rebuilds. */
		h.hdr->banidx.ok = 0;
		t0 = now_ns();
		hits += ban_match_locked(&h, &probe[0], now);
		t_build[r] = now_ns() - t0;
		t0 = now_ns();
		for (j = 0; j < n; j++)
			hits += ban_match_locked(&h, &probe[j], now);
		t_idx[r] = (now_ns() - t0) / n;
	}
	hub_unlock(&h);
	printf("banbench: %d bans, %d checks per run, median of %d runs "
	    "(%d hits)\n", CHATD_MAX_BANS, n, runs, hits);
	printf("strings\t%.0f ns per check\n", median(t_str, runs));
	printf("scan\t%.0f ns per check\n", median(t_scan, runs));
	printf("index\t%.0f ns per check\n", median(t_idx, runs));
	printf("rebuild\t%.0f us after a change\n", median(t_build, runs) /
	    1000);
	return 0;
}
