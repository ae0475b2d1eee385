/* SPDX-License-Identifier: ISC */
/*
 * Socket activation, systemd's Accept=no protocol, without libsystemd:
 * the service manager binds and passes the listening sockets as
 * descriptors 3 and up, LISTEN_FDS says how many and LISTEN_PID names
 * the process they are meant for, so that a child that inherits the
 * environment does not take them for its own. The variables are removed
 * once read, as sd_listen_fds(3) does; LISTEN_FDNAMES is not used.
 */
#include <sys/socket.h>

#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "activate.h"
#include "config.h"
#include "log.h"

#define LISTEN_FDS_START	3	/* SD_LISTEN_FDS_START */

/* A whole decimal number in [0, LONG_MAX], or -1. */
static long
env_number(const char *s)
{
	char	*end;
	long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return -1;
	return v;
}

/*
 * Checks that fd is a listening TCP socket, makes it non-blocking and
 * close-on-exec as our own are, logs it and returns its port.
 */
static unsigned
activate_one(int fd)
{
	struct sockaddr_storage	ss = { .ss_family = AF_UNSPEC };
	socklen_t		len = sizeof(ss), ilen;
	char			host[NI_MAXHOST], port[NI_MAXSERV];
	int			type = 0, listening = 0, fl;

	ilen = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ilen) == -1 ||
	    type != SOCK_STREAM ||
	    (ilen = sizeof(listening), getsockopt(fd, SOL_SOCKET,
	    SO_ACCEPTCONN, &listening, &ilen)) == -1 || !listening ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		fatal_status(EX_UNAVAILABLE, "descriptor %d from the service "
		    "manager is not a listening TCP socket", fd);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl %d", fd);
	log_info("listening on %s port %s", host, port);
	return (unsigned)strtoul(port, NULL, 10);
}

int
activate_fds(struct config *cf, int *fds, int max)
{
	const char	*fdstr = getenv("LISTEN_FDS");
	long		 pid = env_number(getenv("LISTEN_PID"));
	long		 n = env_number(fdstr);
	char		 shown[32];
	int		 i;

	if (pid == -1 || fdstr == NULL)
		return 0;
	/* unsetenv may free what getenv returned. */
	snprintf(shown, sizeof(shown), "%s", fdstr);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (pid != (long)getpid())
		return 0;
	if (n == -1 || n > max)
		fatal_status(EX_UNAVAILABLE, "LISTEN_FDS=%s: not a number of "
		    "sockets from 0 to %d", shown, max);
	if (n == 0)
		return 0;
	if (cf->nlisten > 0 || cf->port != CHATD_PORT)
		log_warnx("-l and -p are ignored: the service manager passed "
		    "the sockets");
	for (i = 0; i < n; i++) {
		fds[i] = LISTEN_FDS_START + i;
		if (i == 0)
			cf->port = activate_one(fds[i]);
		else
			(void)activate_one(fds[i]);
	}
	return (int)n;
}
