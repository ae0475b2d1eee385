/* SPDX-License-Identifier: ISC */
/*
 * brokenchat - a deliberately broken chat server, to test chatbench.
 *
 * Speaks just enough of chatd's protocol for chatbench: a greeting, the
 * name prompt, "* Hello, NAME!", "* NAME joined lobby" to the others, and
 * every chat line to everybody else as "<NAME> TEXT".  Then it breaks
 * its promises on purpose, counting chat-line deliveries (one line to one
 * receiver is one delivery) so that the damage is exactly predictable:
 *
 *	-d N	drop every Nth delivery (counted over all receivers)
 *	-u N	send every Nth delivery twice
 *	-x N	hold every Nth chat line of each receiver back and send it
 *		after that receiver's next one (an adjacent swap)
 *	-e N	send every Nth chat line back to its sender too (an echo:
 *		a line delivered to somebody it was not meant for)
 *	-m N	refuse registrations after N users with "! server full"
 *	-q N	after N users, leave every name unanswered
 *
 * Prints "brokenchat: listening on 127.0.0.1 port N" on stderr.  One
 * poll() loop; writes block, which is fine for a reader that always reads.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLIENTS	256
#define MAX_NAME	16
#define LINE_SIZE	2048

struct client {
	int	 fd;
	int	 registered;
	char	 name[MAX_NAME + 1];
	char	 in[LINE_SIZE];
	size_t	 inlen;
	char	 held[LINE_SIZE + 32];	/* -x: the line held back */
	size_t	 heldlen;
	unsigned long	 nchat;		/* chat lines meant for this client */
};

static struct client	clients[MAX_CLIENTS];
static struct pollfd	pfd[MAX_CLIENTS + 1];
static unsigned long	drop_every, dup_every, swap_every, max_users;
static unsigned long	echo_every, nchat;
static unsigned long	quiet_after;
static unsigned long	ndeliveries, nusers;

/* SIGTERM is the normal way to stop: exit 0, as chatd does. */
static void
on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static unsigned long
number(const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > INT_MAX)
		errx(64, "bad number: %s", s);
	return (v);
}

static void
drop_client(struct client *c)
{
	if (close(c->fd) == -1)
		err(1, "close");
	c->fd = -1;
}

static void
put(struct client *c, const char *s, size_t len)
{
	ssize_t	n;

	while (c->fd != -1 && len > 0) {
		n = send(c->fd, s, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			drop_client(c);
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

static void
put_str(struct client *c, const char *s)
{
	put(c, s, strlen(s));
}

static void
to_others(const struct client *from, const char *s)
{
	int	i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (&clients[i] != from && clients[i].fd != -1 &&
		    clients[i].registered)
			put_str(&clients[i], s);
	}
}

/* One chat line to one receiver, with the faults asked for. */
static void
deliver(struct client *r, const char *s, size_t len)
{
	ndeliveries++;
	if (drop_every != 0 && ndeliveries % drop_every == 0)
		return;
	if (swap_every != 0) {
		r->nchat++;
		if (r->heldlen > 0) {
			put(r, s, len);
			put(r, r->held, r->heldlen);
			r->heldlen = 0;
			return;
		}
		if (r->nchat % swap_every == 0) {
			memcpy(r->held, s, len);
			r->heldlen = len;
			return;
		}
	}
	put(r, s, len);
	if (dup_every != 0 && ndeliveries % dup_every == 0)
		put(r, s, len);
}

static void
chat(struct client *from, const char *text)
{
	char	out[LINE_SIZE + 32];
	int	i, n;

	n = snprintf(out, sizeof out, "<%s> %s\r\n", from->name, text);
	if (n < 0 || (size_t)n >= sizeof out)
		return;
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (&clients[i] != from && clients[i].fd != -1 &&
		    clients[i].registered)
			deliver(&clients[i], out, (size_t)n);
	}
	if (echo_every != 0 && ++nchat % echo_every == 0)
		put(from, out, (size_t)n);
}

static void
name(struct client *c, const char *s)
{
	char	buf[128];

	if (*s == '\0' || strlen(s) > MAX_NAME) {
		put_str(c, "! invalid name\r\nEnter your name:\r\n");
		return;
	}
	if (quiet_after != 0 && nusers >= quiet_after)
		return;
	if (max_users != 0 && nusers >= max_users) {
		put_str(c, "! server full\r\n");
		drop_client(c);
		return;
	}
	snprintf(c->name, sizeof c->name, "%s", s);
	c->registered = 1;
	snprintf(buf, sizeof buf, "* Hello, %s! You are in lobby. Type /help "
	    "for commands.\r\n", c->name);
	put_str(c, buf);
	if (nusers++ == 0)
		put_str(c, "* You are the operator.\r\n");
	snprintf(buf, sizeof buf, "* %s joined lobby\r\n", c->name);
	to_others(c, buf);
}

static void
line(struct client *c, char *s)
{
	size_t	len = strlen(s);

	if (len > 0 && s[len - 1] == '\r')
		s[len - 1] = '\0';
	if (!c->registered)
		name(c, s);
	else if (*s != '\0' && *s != '/')
		chat(c, s);
}

static void
client_read(struct client *c)
{
	char	*nl, *p;
	ssize_t	 n;
	char	 buf[256];

	n = read(c->fd, c->in + c->inlen, sizeof c->in - 1 - c->inlen);
	if (n == -1 && errno == EINTR)
		return;
	if (n <= 0) {
		drop_client(c);
		if (c->registered) {
			c->registered = 0;
			nusers--;
			snprintf(buf, sizeof buf, "* %s quit (connection "
			    "closed)\r\n", c->name);
			to_others(c, buf);
		}
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	p = c->in;
	while (c->fd != -1 && (nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		line(c, p);
		p = nl + 1;
	}
	c->inlen -= (size_t)(p - c->in);
	memmove(c->in, p, c->inlen);
	if (c->inlen == sizeof c->in - 1)
		c->inlen = 0;		/* too long: forget it */
}

static void
accept_client(int s)
{
	int	fd, i;

	if ((fd = accept(s, NULL, NULL)) == -1) {
		if (errno == EINTR || errno == ECONNABORTED)
			return;
		err(1, "accept");
	}
	for (i = 0; i < MAX_CLIENTS && clients[i].fd != -1; i++)
		;
	if (i == MAX_CLIENTS) {
		if (close(fd) == -1)
			err(1, "close");
		return;
	}
	memset(&clients[i], 0, sizeof clients[i]);
	clients[i].fd = fd;
	put_str(&clients[i], "* Welcome to brokenchat!\r\nEnter your name:\r\n");
}

static int
listen_on(unsigned long port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
		err(1, "setsockopt");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1)
		err(1, "bind");
	if (listen(s, 128) == -1)
		err(1, "listen");
	if (getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		err(1, "getsockname");
	fprintf(stderr, "brokenchat: listening on 127.0.0.1 port %u\n",
	    ntohs(sin.sin_port));
	return (s);
}

int
main(int argc, char **argv)
{
	unsigned long	port = 0;
	int		ch, i, s;

	while ((ch = getopt(argc, argv, "d:e:m:p:q:u:x:")) != -1) {
		switch (ch) {
		case 'd': drop_every = number(optarg); break;
		case 'e': echo_every = number(optarg); break;
		case 'm': max_users = number(optarg); break;
		case 'p': port = number(optarg); break;
		case 'q': quiet_after = number(optarg); break;
		case 'u': dup_every = number(optarg); break;
		case 'x': swap_every = number(optarg); break;
		default:
			fprintf(stderr, "usage: brokenchat [-d N] [-e N] [-m N] "
			    "[-p port] [-q N] [-u N]\n"
			    "                  [-x N]\n");
			return (64);
		}
	}
	if (port > 65535 || swap_every == 1)
		errx(64, "bad -p or -x");
	if (signal(SIGTERM, on_term) == SIG_ERR)
		err(1, "signal");
	s = listen_on(port);
	for (i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	for (;;) {
		pfd[0].fd = s;
		pfd[0].events = POLLIN;
		for (i = 0; i < MAX_CLIENTS; i++) {
			pfd[i + 1].fd = clients[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, MAX_CLIENTS + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (pfd[0].revents & POLLIN)
			accept_client(s);
		for (i = 0; i < MAX_CLIENTS; i++) {
			if (clients[i].fd != -1 && pfd[i + 1].fd != -1 &&
			    (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				client_read(&clients[i]);
		}
	}
}
