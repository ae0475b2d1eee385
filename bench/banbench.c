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

/* What one sitting measures: the tables, the clients, the times. */
struct bench {
	struct hub	 h;
	struct oldban	*old;
	struct addr	*probe;
	char		(*text)[ADDR_STR_MAX];
	int		 n;
	int		 hits;
};

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A small xorshift generator: the same bans on every run. */
static uint32_t
next(void)
{
	static uint32_t	x = 15;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL) {
		perror("banbench: calloc");
		exit(71);
	}
	return p;
}

static void
random_addr(struct addr *a)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	if (next() % 2) {
		a->family = 4;
		for (i = 0; i < 4; i++)
			a->b[i] = (uint8_t)next();
		return;
	}
	a->family = 6;
	a->b[0] = 0x20;
	a->b[1] = 0x01;
	for (i = 2; i < 16; i++)
		a->b[i] = (uint8_t)next();
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

/* A whole number of at least 1 for option o; exits 64 if not. */
static int
number(int o, const char *s)
{
	char	*end;
	long	 v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 100000000) {
		fprintf(stderr, "banbench: -%c: '%s' is not a count\n", o, s);
		exit(64);
	}
	return (int)v;
}

/* Fills both tables with the same CHATD_MAX_BANS bans, and the clients. */
static void
setup(struct bench *b)
{
	static const unsigned	lens4[] = { 16, 24, 28, 32, 32, 32 };
	static const unsigned	lens6[] = { 48, 56, 64, 64, 64, 128 };
	struct cidr		c;
	size_t			k;
	int			i;

	b->h.hdr = xcalloc(1, sizeof(*b->h.hdr));
	b->old = xcalloc(CHATD_MAX_BANS, sizeof(*b->old));
	b->probe = xcalloc((size_t)b->n, sizeof(*b->probe));
	b->text = xcalloc((size_t)b->n, sizeof(*b->text));
	if (pthread_mutex_init(&b->h.hdr->lock, NULL) != 0)
		exit(71);
	hub_lock(&b->h);
	for (k = 0; k < CHATD_MAX_BANS; k++) {
		random_addr(&c.a);
		cidr_from_addr(&c, &c.a, c.a.family == 4 ?
		    lens4[next() % 6] : lens6[next() % 6]);
		(void)ban_add_locked(&b->h, &c, "someone", "a reason", 0);
		b->old[k].used = 1;
		addr_format(&c.a, b->old[k].addr, sizeof(b->old[k].addr));
		(void)snprintf(b->old[k].name, sizeof(b->old[k].name),
		    "someone");
		(void)snprintf(b->old[k].reason, sizeof(b->old[k].reason),
		    "a reason");
	}
	for (i = 0; i < b->n; i++) {
		random_addr(&b->probe[i]);
		addr_format(&b->probe[i], b->text[i], sizeof(b->text[i]));
	}
}

/* Nanoseconds per check, by address string. */
static double
run_strings(struct bench *b)
{
	double	t0 = now_ns();
	size_t	k;
	int	i;

	for (i = 0; i < b->n; i++)
		for (k = 0; k < CHATD_MAX_BANS; k++)
			if (b->old[k].used &&
			    strcmp(b->old[k].addr, b->text[i]) == 0) {
				b->hits++;
				break;
			}
	return (now_ns() - t0) / b->n;
}

/* Nanoseconds per check, by a scan of the ranges. */
static double
run_scan(struct bench *b, int64_t now)
{
	double	t0 = now_ns();
	size_t	k;
	int	i;

	for (i = 0; i < b->n; i++)
		for (k = 0; k < CHATD_MAX_BANS; k++)
			if (ban_active(&b->h.hdr->bans[k], now) &&
			    cidr_contains(&b->h.hdr->bans[k].range,
			    &b->probe[i])) {
				b->hits++;
				break;
			}
	return (now_ns() - t0) / b->n;
}

/* Nanoseconds per check with the index, and of its rebuild (*build). */
static double
run_index(struct bench *b, int64_t now, double *build)
{
	double	t0;
	int	i;

	/* A change marks the index stale: the next check rebuilds it. */
	b->h.hdr->banidx.ok = 0;
	t0 = now_ns();
	b->hits += ban_match_locked(&b->h, &b->probe[0], now);
	*build = now_ns() - t0;
	t0 = now_ns();
	for (i = 0; i < b->n; i++)
		b->hits += ban_match_locked(&b->h, &b->probe[i], now);
	return (now_ns() - t0) / b->n;
}

int
main(int argc, char **argv)
{
	struct bench	 b = { .n = 20000 };
	double		*t_str, *t_scan, *t_idx, *t_build;
	int64_t		 now = time(NULL);
	int		 ch, runs = 7, r;

	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		if (ch == 'n')
			b.n = number(ch, optarg);
		else if (ch == 'r')
			runs = number(ch, optarg);
		else {
			fprintf(stderr, "usage: banbench [-n checks] "
			    "[-r runs]\n");
			return 64;
		}
	}
	t_str = xcalloc((size_t)runs, sizeof(double));
	t_scan = xcalloc((size_t)runs, sizeof(double));
	t_idx = xcalloc((size_t)runs, sizeof(double));
	t_build = xcalloc((size_t)runs, sizeof(double));
	setup(&b);
	for (r = 0; r < runs; r++) {
		t_str[r] = run_strings(&b);
		t_scan[r] = run_scan(&b, now);
		t_idx[r] = run_index(&b, now, &t_build[r]);
	}
	hub_unlock(&b.h);
	printf("banbench: %d bans, %d checks per run, median of %d runs "
	    "(%d hits)\n", CHATD_MAX_BANS, b.n, runs, b.hits);
	printf("strings\t%.0f ns per check\n", median(t_str, runs));
	printf("scan\t%.0f ns per check\n", median(t_scan, runs));
	printf("index\t%.0f ns per check\n", median(t_idx, runs));
	printf("rebuild\t%.0f us after a change\n", median(t_build, runs) /
	    1000);
	free(t_str);
	free(t_scan);
	free(t_idx);
	free(t_build);
	free(b.h.hdr);
	free(b.old);
	free(b.probe);
	free(b.text);
	return 0;
}
