/* SPDX-License-Identifier: ISC */
/*
 * Becoming a daemon. The process that was started forks and waits; the
 * child starts a new session and forks again, so that the daemon is no
 * session leader and can never get a controlling terminal. The daemon
 * carries on starting up with the starter's stderr, so the reason of a
 * failure is seen where chatd was started; its status, or 0 once the
 * listener is ready, travels back through a pipe, and the starter exits
 * with it. A boot script thus learns whether chatd serves, not merely
 * that it forked.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

static int	report_fd = -1;	/* the daemon's end of the status pipe */
static int	fatal_status_code = -1;	/* what a fatal error exits with */

/*
 * Makes sure descriptors 0, 1 and 2 are open, so that no socket or file
 * of ours lands there and is later written to as stderr or replaced by
 * /dev/null.
 */
void
daemon_stdio(void)
{
	int	fd;

	do {
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			fatal("/dev/null");
	} while (fd <= 2);
	close(fd);
}

/* Tells the starter how start-up ended; the log's exit hook as well. */
static void
daemon_report(int status)
{
	unsigned char	c = (unsigned char)status;

	if (report_fd == -1)
		return;
	while (write(report_fd, &c, 1) == -1 && errno == EINTR)
		;
	close(report_fd);
	report_fd = -1;
}

/* The starter: waits for the daemon's status and exits with it. */
/*
 * A fatal error before daemon_ready: its status goes to the starter
 * from the last of our atexit() handlers, once the others (the pid
 * file's removal) are done, so that the starter's exit means the
 * daemon left nothing behind.
 */
static void
daemon_on_fatal(int status)
{
	fatal_status_code = status;
}

static void
daemon_at_exit(void)
{
	if (fatal_status_code != -1)
		daemon_report(fatal_status_code);
}

static void __attribute__((noreturn))
daemon_wait(int fd, pid_t child)
{
	sigset_t	none;
	unsigned char	c;
	ssize_t		n;
	int		status;

	/* main() blocked SIGINT and SIGTERM: let ^C stop the waiting. */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		fatal("sigprocmask");
	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	while (waitpid(child, &status, 0) == -1 && errno == EINTR)
		;
	if (n != 1)
		fatalx("the daemon exited while starting up");
	exit(c);
}

void
daemon_detach(void)
{
	pid_t	pid;
	int	p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		daemon_wait(p[0], pid);
	}
	close(p[0]);
	report_fd = p[1];
	/* Registered before pidfile_open's: it runs after it. */
	if (atexit(daemon_at_exit) != 0)
		fatalx("atexit");
	log_on_exit(daemon_on_fatal);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
}

/*
 * The listener is ready: from now on messages go to syslog only, the
 * standard descriptors to /dev/null (the starter's terminal or pipe is
 * let go), and the starter exits 0.
 */
void
daemon_ready(void)
{
	int	fd;

	log_syslog(0);
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		fatal("dup2");
	close(fd);
	log_on_exit(NULL);
	daemon_report(0);
}
