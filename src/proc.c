/* SPDX-License-Identifier: ISC */
/*
 * Whether a process is still the one we knew: a pid with its start time
 * from /proc, so that a reused pid is never taken for its predecessor.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

/*
 * Reads a process's state letter (field 3 of /proc/PID/stat) and start
 * time in clock ticks since boot (field 22). Returns -1 when there is no
 * such process or no /proc.
 */
static int
proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 v;
	ssize_t			 n;
	int			 fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past it. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	*state = p[2];
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	/* NOLINTNEXTLINE(cert-err34-c): the kernel's number fits. */
	if (p == NULL || sscanf(p + 1, "%llu", &v) != 1)
		return -1;
	*start = v;
	return 0;
}

/* The process's start time, so that a reused pid is never taken for its
 * predecessor; 0 where it cannot be read. */
uint64_t
proc_start(pid_t pid)
{
	uint64_t	start;
	char		state;

	return proc_stat(pid, &state, &start) == 0 ? start : 0;
}

/*
 * Whether the process that started at start (0: unknown) still runs. A
 * zombie does not: it holds nothing, and its parent may never reap it.
 */
int
proc_alive(pid_t pid, uint64_t start)
{
	uint64_t	now;
	char		state;

	if (pid <= 0)
		return 0;
	if (proc_stat(pid, &state, &now) == -1)
		return kill(pid, 0) == 0 || errno == EPERM;
	if (state == 'Z' || state == 'X')
		return 0;
	return start == 0 || now == start;
}
