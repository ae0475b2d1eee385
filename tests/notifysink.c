/* SPDX-License-Identifier: ISC */
/*
 * notifysink - a service manager's notify socket, for readiness.bats.
 *
 *	notifysink SOCKET [PORT [FILE]]
 *
 * Binds the AF_UNIX datagram socket SOCKET (a path, or "@NAME" for an
 * abstract name) and writes each datagram it receives to stdout as its
 * lines ("READY=1", "STATUS=...") followed by a line "--", flushing
 * each time. Then, when a datagram holds READY=1, it checks at once
 * what systemd would let clients do: that 127.0.0.1:PORT accepts a
 * connection ("ready: port accepts" or "ready: port refuses") and that
 * FILE, the shared segment, exists ("ready: FILE exists" or "ready:
 * FILE missing"). It runs until it is killed; "listening" on stderr
 * says the socket is bound.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether 127.0.0.1:port accepts a connection now. */
static int
port_accepts(const char *port)
{
	struct sockaddr_in	sin;
	int			s, ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)strtoul(port, NULL, 10));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	ok = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(s);
	return ok;
}

static int
bind_sink(const char *path)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	size_t			n = strlen(path);
	int			s;

	if (n < 2 || n >= sizeof(sun.sun_path))
		errx(2, "%s: bad socket name", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	if ((s = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		err(1, "socket");
	if (bind(s, (struct sockaddr *)&sun, len) == -1)
		err(1, "bind %s", path);
	return s;
}

int
main(int argc, char **argv)
{
	char		buf[4096];
	struct stat	st;
	ssize_t		n;
	int		s;

	if (argc < 2 || argc > 4)
		errx(2, "usage: notifysink SOCKET [PORT [FILE]]");
	s = bind_sink(argv[1]);
	fprintf(stderr, "listening\n");
	for (;;) {
		if ((n = recv(s, buf, sizeof(buf) - 1, 0)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "recv");
		}
		buf[n] = '\0';
		printf("%s%s--\n", buf, n > 0 && buf[n - 1] != '\n' ? "\n" :
		    "");
		if (strstr(buf, "READY=1") != NULL && argc > 2)
			printf("ready: port %s\n", port_accepts(argv[2]) ?
			    "accepts" : "refuses");
		if (strstr(buf, "READY=1") != NULL && argc > 3)
			printf("ready: %s %s\n", argv[3],
			    stat(argv[3], &st) == 0 ? "exists" : "missing");
		if (fflush(stdout) == EOF)
			err(1, "stdout");
	}
}
