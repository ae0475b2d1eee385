/* SPDX-License-Identifier: ISC */
/*
 * forkfloor N: the least a process per client can cost on this kernel.
 * Forks N children that wait in poll(2) on a pipe, like an idle worker
 * with nothing of its own, and prints
 * what /proc/meminfo says they cost, per child. Not built by make:
 *
 *	cc -O2 -o forkfloor bench/forkfloor.c && ./forkfloor 1000
 *
 * Run it on a quiet machine: /proc/meminfo is the whole machine's.
 */
#include <sys/wait.h>

#include <err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char	*fields[] = { "MemAvailable", "AnonPages",
			    "PageTables", "KernelStack", "SUnreclaim" };
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

static void
meminfo(long *v)
{
	char	 line[256];
	size_t	 i, n;
	FILE	*f;

	for (i = 0; i < NFIELDS; i++)
		v[i] = 0;
	if ((f = fopen("/proc/meminfo", "r")) == NULL)
		err(1, "/proc/meminfo");
	while (fgets(line, sizeof(line), f) != NULL)
		for (i = 0; i < NFIELDS; i++) {
			n = strlen(fields[i]);
			if (strncmp(line, fields[i], n) == 0 && line[n] == ':')
				v[i] = strtol(line + n + 1, NULL, 10);
		}
	fclose(f);
}

int
main(int argc, char **argv)
{
	long		 before[NFIELDS], after[NFIELDS];
	char		*end;
	long		 n, i;
	int		 p[2];
	size_t		 j;

	if (argc != 2 || (n = strtol(argv[1], &end, 10)) <= 0 ||
	    *end != '\0') {
		fprintf(stderr, "usage: forkfloor children\n");
		return 64;
	}
	if (pipe(p) == -1)
		err(1, "pipe");
	meminfo(before);
	for (i = 0; i < n; i++) {
		switch (fork()) {
		case -1:
			err(1, "fork");
		case 0: {
			struct pollfd	pfd = { .fd = p[0], .events = POLLIN };

			close(p[1]);
			(void)poll(&pfd, 1, -1);
			_exit(0);
		}
		}
	}
	sleep(2);
	meminfo(after);
	for (j = 0; j < NFIELDS; j++)
		printf("%-13s %+.1f KiB per child\n", fields[j],
		    (double)(after[j] - before[j]) / n);
	/* Their pipe closes: they all end. */
	close(p[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}
