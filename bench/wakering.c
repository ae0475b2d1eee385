/* SPDX-License-Identifier: ISC */
/*
 * wakering: what one wake-up through a pipe costs when P processes (or,
 * with -t, P threads of one process) take turns, as chatd's workers do
 * when a line goes round a room. P waiters sit in a ring of pipes; a
 * byte goes round it ROUNDS times, each waiter reading it and writing it
 * on, after touching PAGES pages of its own memory (a worker's working
 * set). Prints microseconds per hop. Not built by make:
 *
 *	cc -O2 -pthread -o wakering bench/wakering.c
 *	./wakering 1000 20 && ./wakering -t 1000 20
 *
 * If the cost per hop grows with P for processes but not for threads,
 * the machine pays for switching address spaces (a virtual machine's
 * shadow page tables, for one), which a process per client cannot avoid.
 */
#include <sys/wait.h>

#include <err.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int	(*ring)[2];	/* ring[i]: the pipe into waiter i */
static long	*ids;		/* ids[i] = i, a waiter's argument */
static long	 pages;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
hop(long i, char *mem)
{
	struct pollfd	pfd = { .fd = ring[i][0], .events = POLLIN };
	long		k;
	char		c;

	for (;;) {
		if (poll(&pfd, 1, -1) == -1 || read(ring[i][0], &c, 1) != 1)
			_exit(1);
		for (k = 0; k < pages; k++)
			mem[k * 4096]++;
		if (write(ring[i + 1][1], &c, 1) != 1)
			_exit(1);
	}
}

static void *
waiter(void *arg)
{
	char	*mem = calloc((size_t)pages + 1, 4096);

	if (mem == NULL)
		err(1, "calloc");
	hop(*(long *)arg, mem);
	return NULL;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: wakering [-t] waiters rounds [pages]\n");
	exit(64);
}

static long
number(const char *s)
{
	char	*end;
	long	 n = strtol(s, &end, 10);

	if (*end != '\0' || n < 0)
		usage();
	return n;
}

/* Starts p waiters; returns their pids (none for threads). */
static pid_t *
start(long p, int threads)
{
	pthread_t	 t;
	pid_t		*pids;
	long		 i;

	if ((ring = calloc((size_t)p + 1, sizeof(*ring))) == NULL ||
	    (ids = calloc((size_t)p, sizeof(*ids))) == NULL ||
	    (pids = calloc((size_t)p, sizeof(*pids))) == NULL)
		err(1, "calloc");
	for (i = 0; i <= p; i++)
		if (pipe(ring[i]) == -1)
			err(1, "pipe");
	for (i = 0; i < p; i++) {
		ids[i] = i;
		if (threads) {
			if (pthread_create(&t, NULL, waiter, &ids[i]) != 0)
				errx(1, "pthread_create");
		} else if ((pids[i] = fork()) == -1)
			err(1, "fork");
		else if (pids[i] == 0)
			waiter(&ids[i]);
	}
	return threads ? NULL : pids;
}

/* Sends the byte round the ring of p waiters; seconds it took. */
static double
round_trip(long p)
{
	struct pollfd	pfd = { .fd = ring[p][0], .events = POLLIN };
	double		t = now();
	char		c = 0;

	if (write(ring[0][1], &c, 1) != 1 || poll(&pfd, 1, -1) == -1 ||
	    read(ring[p][0], &c, 1) != 1)
		err(1, "ring");
	return now() - t;
}

int
main(int argc, char **argv)
{
	pid_t	*pids;
	double	 took = 0;
	long	 p, rounds, i;
	int	 threads = 0;

	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		threads = 1;
		argc--, argv++;
	}
	if (argc < 3 || argc > 4)
		usage();
	p = number(argv[1]);
	rounds = number(argv[2]);
	pages = argc == 4 ? number(argv[3]) : 0;
	if (p < 1 || rounds < 1)
		usage();
	pids = start(p, threads);
	for (i = 0; i < rounds; i++)
		took += round_trip(p);
	printf("%s P=%ld pages=%ld: %.2f us per hop\n",
	    threads ? "threads" : "processes", p, pages,
	    took / ((double)rounds * (double)p) * 1e6);
	fflush(stdout);
	for (i = 0; pids != NULL && i < p; i++)
		kill(pids[i], SIGKILL);
	while (pids != NULL && wait(NULL) > 0)
		;
	_exit(0);
}
