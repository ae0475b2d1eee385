/* SPDX-License-Identifier: ISC */
/*
 * The service manager's notify protocol, written by hand as systemd
 * documents it (sd_notify(3), "Notes"): each state is one datagram of
 * "NAME=VALUE" lines sent on an AF_UNIX SOCK_DGRAM socket to the path
 * in $NOTIFY_SOCKET, or to the abstract name after its '@'. The
 * watchdog wants "WATCHDOG=1" every $WATCHDOG_USEC microseconds at
 * most, from the process $WATCHDOG_PID names if it is set.
 *
 * The variables are read once and removed, as sd_notify(3) may do, so
 * that no worker or link process, which inherit the environment, takes
 * itself for the service's main process. A datagram is sent from a new
 * socket each time: the listener sends a few a second at most, and
 * holds no descriptor that a worker would inherit.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "defs.h"
#include "log.h"
#include "sdnotify.h"

static struct {
	struct sockaddr_un	addr;
	socklen_t		len;	/* 0: nobody to notify */
	int64_t			watchdog_ms;	/* 0: no watchdog */
	int			failing;	/* a failure was logged */
} sd;

/* A whole number of microseconds in $WATCHDOG_USEC, or 0. */
static int64_t
watchdog_usec(void)
{
	const char	*s = getenv("WATCHDOG_USEC"), *pid;
	char		*end;
	long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v <= 0)
		return 0;
	/* Meant for another process (our starter under -d): not ours. */
	if ((pid = getenv("WATCHDOG_PID")) != NULL &&
	    strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	return v;
}

/* The socket's address from $NOTIFY_SOCKET: 0, or -1 if unusable. */
static int
notify_address(const char *s)
{
	size_t	n = strlen(s);

	if ((s[0] != '/' && s[0] != '@') || n < 2 ||
	    n >= sizeof(sd.addr.sun_path))
		return -1;
	memset(&sd.addr, 0, sizeof(sd.addr));
	sd.addr.sun_family = AF_UNIX;
	memcpy(sd.addr.sun_path, s, n);
	if (s[0] == '@') {
		/* An abstract name: its length, not a NUL, ends it. */
		sd.addr.sun_path[0] = '\0';
		sd.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		sd.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
	return 0;
}

void
sdnotify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	int64_t		 usec;

	sd.len = 0;
	sd.watchdog_ms = 0;
	if (s == NULL)
		return;
	if (notify_address(s) == -1) {
		log_warnx("NOTIFY_SOCKET=%s: not a socket path or @name; "
		    "the service manager will not hear from us", s);
		sd.len = 0;
	} else if ((usec = watchdog_usec()) > 0)
		/* Half the interval, as sd_watchdog_enabled(3) advises. */
		sd.watchdog_ms = usec / 2000 > 0 ? usec / 2000 : 1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* Sends one datagram; logs the first failure only. */
static void
sdnotify_send(const char *msg, size_t len)
{
	ssize_t	n;
	int	s;

	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		n = -1;
	} else {
		do
			n = sendto(s, msg, len, MSG_NOSIGNAL,
			    (struct sockaddr *)&sd.addr, sd.len);
		while (n == -1 && errno == EINTR);
		if (close(s) == -1 && n != -1)
			n = -1;
	}
	if (n == (ssize_t)len) {
		if (sd.failing)
			log_info("notifying the service manager again");
		sd.failing = 0;
	} else if (!sd.failing) {
		sd.failing = 1;
		log_warn("cannot notify the service manager");
	}
}

void
sdnotify(const char *fmt, ...)
{
	char	msg[SDNOTIFY_MSG_MAX];
	va_list	ap;
	int	n;

	if (sd.len == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		log_warnx("bug: service manager notice too long");
		return;
	}
	sdnotify_send(msg, (size_t)n);
}

/* Whether a service manager listens: 0 makes every sdnotify() a no-op. */
int
sdnotify_enabled(void)
{
	return sd.len != 0;
}

/* How often to send "WATCHDOG=1", in milliseconds; 0: never. */
int64_t
sdnotify_watchdog_ms(void)
{
	return sd.len == 0 ? 0 : sd.watchdog_ms;
}

/* CLOCK_MONOTONIC in microseconds, for "MONOTONIC_USEC=". */
uint64_t
sdnotify_monotonic_usec(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U;
}
