/* SPDX-License-Identifier: ISC */
/*
 * Processes we stopped with SIGSTOP, each until a moment of the caller's
 * clock, and the promise to continue them however we end: when their
 * time is up, when the caller says so, at exit() and on the signals that
 * end a process (continued, then the signal's default action).  SIGKILL
 * and a crash leave them stopped.  The signal handler reads the table:
 * an entry is written before the count that covers it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "stopper.h"

struct stopped {
	pid_t		 pid;
	int64_t		 until;
};

static struct stopped		 table[STOPPER_MAX];
static volatile sig_atomic_t	 count;

/* Continues every process in the table: also from a signal handler. */
void
stopper_cont_all(void)
{
	sig_atomic_t	i, n = count;

	count = 0;
	for (i = 0; i < n; i++)
		kill(table[i].pid, SIGCONT);
}

static void
on_exit_cont(void)
{
	stopper_cont_all();
}

static void
on_signal(int sig)
{
	stopper_cont_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Continues the table at exit() and on the signals that would end us
 * (one we ignore stays ignored). 0, or -1 with errno set.
 */
int
stopper_init(void)
{
	static const int	sigs[] = { SIGHUP, SIGINT, SIGPIPE, SIGQUIT,
				    SIGTERM };
	struct sigaction	sa, old;
	size_t			i;

	if (atexit(on_exit_cont) != 0) {
		errno = ENOMEM;
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (sigaction(sigs[i], NULL, &old) == -1)
			return -1;
		if (old.sa_handler != SIG_IGN &&
		    sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	}
	return 0;
}

int
stopper_has(pid_t pid)
{
	sig_atomic_t	i;

	for (i = 0; i < count; i++)
		if (table[i].pid == pid)
			return 1;
	return 0;
}

unsigned
stopper_count(void)
{
	return (unsigned)count;
}

/*
 * Stops pid until the caller's moment until (INT64_MAX: until
 * stopper_cont_all). 0; or -1 with errno set: ENOSPC when the table is
 * full, or kill's. A process stopped already is left as it is.
 */
int
stopper_stop(pid_t pid, int64_t until)
{
	if (stopper_has(pid))
		return 0;
	if (count == STOPPER_MAX) {
		errno = ENOSPC;
		return -1;
	}
	/* In the table first: a signal from now on continues it. */
	table[count].pid = pid;
	table[count].until = until;
	count++;
	if (kill(pid, SIGSTOP) == -1) {
		count--;
		return -1;
	}
	return 0;
}

/* Drops entry i: the last one moves into its place, then the count. */
static void
drop(sig_atomic_t i)
{
	table[i] = table[count - 1];
	count--;
}

/* Continues the processes whose moment has come. */
void
stopper_due(int64_t now)
{
	sig_atomic_t	i;

	for (i = 0; i < count; )
		if (table[i].until <= now) {
			kill(table[i].pid, SIGCONT);
			drop(i);
		} else
			i++;
}

/*
 * Forgets pid without continuing it: it was killed, and its pid may be
 * another process's by the time a SIGCONT would come.
 */
void
stopper_forget(pid_t pid)
{
	sig_atomic_t	i;

	for (i = 0; i < count; i++)
		if (table[i].pid == pid) {
			drop(i);
			return;
		}
}
